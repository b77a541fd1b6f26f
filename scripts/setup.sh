#!/usr/bin/env bash
# Installs what Spool needs on a fresh Debian machine. Safe to run again.
#
#   scripts/setup.sh          C libraries to build and run spoold (apt)
#   scripts/setup.sh --test   also the test and benchmark peers: protoc and
#                             protoc-c (generated-code check), nghttp2-client
#                             (nghttp, h2load), openssl (test certificates),
#                             chromium and chromium-driver (the dashboard's test),
#                             postgresql (the PostgreSQL store's and the
#                             cluster's tests, scripts/postgres.sh), and
#                             .venv with grpcio, grpcurl,
#                             pytest, mypy and the Python client (pip);
#                             .venv-oldest, the client on its oldest grpcio
#                             and protobuf; .venv-protoc, its stubs' generator
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libnghttp2-dev libprotobuf-c-dev libsqlite3-dev libmimalloc-dev)
if [ "${1:-}" = "--test" ]; then
  packages+=(protobuf-compiler protobuf-c-compiler libprotobuf-dev nghttp2-client openssl chromium chromium-driver postgresql)
fi

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if [ "${1:-}" = "--test" ]; then
  if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
  fi
  .venv/bin/python -m pip install -q --disable-pip-version-check -r Tests/integration/requirements.txt
  # Installed, not linked, so the tests see the package as its users will.
  .venv/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./clients/python
  # The client on the oldest grpcio and protobuf it supports, and the generator of
  # its stubs (the grpcio-tools of that grpcio): each in a venv of its own.
  [ -x .venv-oldest/bin/python ] || python3 -m venv .venv-oldest
  .venv-oldest/bin/python -m pip install -q --disable-pip-version-check -r clients/python/requirements-oldest.txt
  .venv-oldest/bin/python -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./clients/python
  [ -x .venv-protoc/bin/python ] || python3 -m venv .venv-protoc
  .venv-protoc/bin/python -m pip install -q --disable-pip-version-check "grpcio-tools==$(sed -n 's/^grpcio==//p' clients/python/requirements-oldest.txt)"
fi
