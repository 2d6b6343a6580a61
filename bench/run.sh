#!/usr/bin/env bash
# Appraisal benchmark: cold and warm appraisals of a real SGX vector on one core, beside
# `openssl speed ecdsap256` on the same core in the same run, and the ratio the goal is about:
# cold time / (ECDSA verifications performed x the time of one verification).
# Usage: bench/run.sh [SECONDS]   (CPU=n selects the core; default 1)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-5}
cpu=${CPU:-1}
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
V=../shared/attestation-vectors
Q=$V/sgx-dcap/dcap-qvl/sgx_quote.bin
C=$V/sgx-dcap/dcap-qvl/sgx_quote_collateral.json

speed=$(taskset -c "$cpu" openssl speed -seconds "$secs" ecdsap256 2>/dev/null | awk '/nistp256/ {print $NF}')
res=$(taskset -c "$cpu" build/release/bench/bench_appraise "$Q" "$C" 2025-06-20T00:00:00Z "$secs")
python3 - "$speed" "$res" <<'PY'
import json, sys, platform, subprocess
verify_per_s = float(sys.argv[1]); r = json.loads(sys.argv[2])
v_us = 1e6 / verify_per_s
cold_ratio = r["cold_us"] / (r["cold_sig_verifications"] * v_us)
warm_ratio = r["warm_us"] / (r["warm_sig_verifications"] * v_us)
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
cpu = [l.split(":",1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
print(f"machine: {cpu}, {ossl}, one core")
print(f"openssl speed ecdsap256 verify: {verify_per_s:.0f}/s ({v_us:.1f} us)")
print(f"| appraisal | per second | time | ECDSA verifies | x sum of their cost (goal <= 1.3) |")
print(f"|---|---:|---:|---:|---:|")
print(f"| cold (bytes to verdict, nothing cached) | {r['cold_per_s']:.0f} | {r['cold_us']:.0f} us | {r['cold_sig_verifications']} | {cold_ratio:.2f} |")
print(f"| warm (collateral already verified) | {r['warm_per_s']:.0f} | {r['warm_us']:.0f} us | {r['warm_sig_verifications']} | {warm_ratio:.2f} |")
PY
