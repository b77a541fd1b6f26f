#!/usr/bin/env bash
# Sets up a fresh machine and runs every test: the generated-code check, the
# Swift tests (unit, and transport tests against grpcio and nghttp), the
# end-to-end tests of spoold against grpcurl, grpcio, plain HTTP clients and
# headless chromium (the dashboard), the store contract and a three-node
# cluster on a real PostgreSQL (scripts/postgres.sh, stopped at the end), the Python client's
# type check and its tests against spoold (on the newest grpcio and protobuf, and
# on the oldest it supports); then the Swift tests again under
# AddressSanitizer and ThreadSanitizer, and each fuzz target for 30 seconds.
#
#   scripts/test.sh           everything (what CI runs)
#   scripts/test.sh --quick   without the sanitizers and the fuzzers
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh --test
SPOOL_TEST_POSTGRES=$(scripts/postgres.sh start)
export SPOOL_TEST_POSTGRES
trap 'scripts/postgres.sh stop' EXIT
scripts/generate-proto.sh --check
python3 scripts/embed-dashboard.py --check
swift build --build-tests
swift test
(cd clients/python && ../../.venv/bin/mypy)
SPOOLD="$PWD/.build/debug/spoold" .venv/bin/python -m pytest -q Tests/integration clients/python/tests
# The client, the workers and the workflows again on the oldest grpcio and protobuf the client supports.
SPOOLD="$PWD/.build/debug/spoold" .venv-oldest/bin/python -m pytest -q -p no:cacheprovider clients/python/tests \
  Tests/integration/test_workers.py Tests/integration/test_async_worker.py Tests/integration/test_workflows.py
# The fuzz corpus, replayed through a plain build: inputs that once crashed stay tests.
for target in deframer request exec config http; do
  SPOOL_FUZZ_TARGET="$target" .build/debug/SpoolFuzz Fuzz/Corpus/"$target"/*
done
if [ "${1:-}" != "--quick" ]; then
  scripts/sanitize.sh
  scripts/fuzz.sh 30
fi
