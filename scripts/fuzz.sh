#!/usr/bin/env bash
# Fuzzes every decoder of outside bytes (Fuzz/SpoolFuzz) with libFuzzer and
# AddressSanitizer, SECONDS each (default 30), starting from the committed
# corpus in Fuzz/Corpus. Fails on the first crash, leak of control or
# sanitizer report; the input that did it is kept in the printed folder.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     targets: deframer request exec config http
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-30}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(deframer request exec config http)

# Its own scratch folder: every module is built with coverage and ASan.
swift build --product SpoolFuzz --scratch-path .build-fuzz --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING \
  2>&1 | grep -v "Cannot export local symbol" | tail -3
fuzzer=.build-fuzz/debug/SpoolFuzz

work="$(mktemp -d)"
for target in "${targets[@]}"; do
  corpus="$work/$target"
  mkdir -p "$corpus" "$work/crashes-$target"
  cp Fuzz/Corpus/"$target"/* "$corpus"/
  echo "fuzz: $target for ${seconds}s"
  if ! SPOOL_FUZZ_TARGET="$target" ASAN_OPTIONS=detect_leaks=0 "$fuzzer" "$corpus" \
      -max_total_time="$seconds" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
      -artifact_prefix="$work/crashes-$target/" -print_final_stats=1 > "$work/$target.log" 2>&1; then
    tail -60 "$work/$target.log"
    echo "fuzz: $target FAILED; the input is in $work/crashes-$target (replay it with"
    echo "      SPOOL_FUZZ_TARGET=$target .build/debug/SpoolFuzz FILE, and add it to Fuzz/Corpus/$target)"
    exit 1
  fi
  grep -E "^Done|stat::number_of_executed_units" "$work/$target.log" | tr '\n' ' '
  echo
done
echo "fuzz: ${#targets[@]} passed, 0 failed"
