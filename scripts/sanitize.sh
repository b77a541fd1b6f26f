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

echo "sanitize: swift test under AddressSanitizer"
ASAN_OPTIONS=detect_leaks=0 swift test --sanitize=address --scratch-path .build-asan 2>&1 | tail -3
echo "sanitize: swift test under ThreadSanitizer"
TSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/tsan.supp halt_on_error=1" \
  swift test --sanitize=thread --scratch-path .build-tsan 2>&1 | tail -3
