#!/usr/bin/env bash
# Remote workers: one Python Worker process running no-op jobs end to end
# against a release spoold (scripts/bench-workers.py), then the Swift
# benchmark worker over loopback beside the in-process engine, and the
# assignment latency (SpoolBenchmarks remote).
#
#   scripts/bench-workers.sh [JOBS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=${1:-50000}
concurrency=${2:-64}
[ -x .venv/bin/python ] || scripts/setup.sh --test
swift build -c release --product spoold >/dev/null
swift build -c release --product SpoolBenchmarks >/dev/null
.venv/bin/python scripts/bench-workers.py .build/release/spoold "$jobs" "$concurrency"
.build/release/SpoolBenchmarks remote
