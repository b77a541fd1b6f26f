#!/usr/bin/env bash
# Runs the Swift tests under AddressSanitizer, then ThreadSanitizer, each in
# a scratch folder of its own (.build-asan, .build-tsan).
#
# Leak checking is off: the tests end with engines and event loops still
# holding their tasks, which LeakSanitizer reports by the thousand.
# ThreadSanitizer's suppressions (scripts/sanitizers/tsan.supp) name state
# guarded by Synchronization.Mutex, whose futex locking it cannot see.
set -euo pipefail
cd "$(dirname "$0")/.."

# The end of each run on success; on failure, what the sanitizer or a test said.
run() {
  local name=$1 log
  shift
  log=$(mktemp)
  echo "sanitize: swift test under $name"
  if "$@" > "$log" 2>&1; then
    tail -3 "$log"
  else
    grep -n -A40 "WARNING: .*Sanitizer\|ERROR: .*Sanitizer\|error:\|failed" "$log" | head -200
    tail -5 "$log"
    echo "sanitize: $name FAILED (the whole log: $log)"
    return 1
  fi
}

ASAN_OPTIONS=detect_leaks=0 run AddressSanitizer swift test --sanitize=address --scratch-path .build-asan
TSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/tsan.supp halt_on_error=1" \
  run ThreadSanitizer swift test --sanitize=thread --scratch-path .build-tsan
