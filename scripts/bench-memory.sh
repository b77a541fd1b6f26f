#!/usr/bin/env bash
# RSS before, at the peak and after what hostile readers and requests can
# do (scripts/bench-memory.py): stalled progress readers, huge batches.
#
#   scripts/bench-memory.sh [stalled|batches|all] [SPOOLD]
set -euo pipefail
cd "$(dirname "$0")/.."
case_name=${1:-all}
spoold=${2:-}
[ -x .venv/bin/python ] || scripts/setup.sh --test
if [ -z "$spoold" ]; then
  swift build -c release --product spoold >/dev/null
  spoold=.build/release/spoold
fi
cases=(stalled batches)
[ "$case_name" = all ] || cases=("$case_name")
for name in "${cases[@]}"; do
  .venv/bin/python scripts/bench-memory.py "$spoold" "$name"
done
