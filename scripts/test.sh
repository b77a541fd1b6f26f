#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: the generated-code check, the
# Swift tests (unit, and transport tests against grpcio and nghttp), the
# end-to-end tests of spoold against grpcurl and grpcio, then the Python
# client's type check and its tests against spoold.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
scripts/generate-proto.sh --check
swift build --build-tests
swift test
(cd clients/python && ../../.venv/bin/mypy)
SPOOLD="$PWD/.build/debug/spoold" .venv/bin/python -m pytest -q Tests/integration clients/python/tests
