#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for a while on its seed corpus (fuzz/corpus/<t>),
# plus the real evidence in ../shared for the quote and collateral targets. New inputs go to a
# scratch directory; crashes to fuzz/artifacts/. Usage: scripts/fuzz.sh [--smoke | SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
[ "$secs" = "--smoke" ] && secs=8
scripts/install-deps.sh
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz >/dev/null
V=../shared/attestation-vectors
mkdir -p fuzz/artifacts
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for t in ${TARGETS:-$(ls fuzz/corpus)}; do # a seed corpus per target, one list
  extra=()
  case $t in
    quote) extra=($V/sgx-dcap/*/ $V/tdx/*/) ;;
    collateral|json) extra=($V/sgx-dcap/*/ $V/tdx/*/) ;;
  esac
  mkdir -p "$scratch/$t"
  echo "fuzz_$t: ${secs}s"
  UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
  build/fuzz/fuzz/fuzz_$t -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix=fuzz/artifacts/ -print_final_stats=1 \
    "$scratch/$t" fuzz/corpus/$t "${extra[@]}" >"$scratch/$t.log" 2>&1 || true
  grep -E '^stat::number_of_executed_units' "$scratch/$t.log" || true
  if grep -qE 'SUMMARY:|ERROR: libFuzzer|runtime error' "$scratch/$t.log" ||
     ls fuzz/artifacts/ 2>/dev/null | grep -q .; then
    grep -E -A12 'runtime error|ERROR|SUMMARY' "$scratch/$t.log" | head -40 >&2
    echo "fuzz_$t: crash, leak or undefined behaviour found (inputs in fuzz/artifacts/)" >&2
    exit 1
  fi
done
echo "fuzz: no crashes"
