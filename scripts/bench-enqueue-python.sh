#!/usr/bin/env bash
# Python producers, one job per call: unary Enqueue against the shared
# EnqueueStream that Client.enqueue rides, 1 and 8 processes
# (scripts/bench-enqueue-python.py), against a release spoold.
#
#   scripts/bench-enqueue-python.sh [JOBS_PER_PROCESS]
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] || scripts/setup.sh --test
swift build -c release --product spoold >/dev/null
.venv/bin/python scripts/bench-enqueue-python.py .build/release/spoold "${1:-20000}"
