#!/usr/bin/env bash
# Benchmarks, each beside the real alternative on the same core in the same run:
#  1. appraisal of a real SGX vector, cold and warm, beside `openssl speed ecdsap256`: the ratio
#     is cold time / (ECDSA verifications performed x the time of one verification);
#  2. package encryption and decryption of 1 GiB from memory, beside
#     `openssl speed -evp aes-256-gcm` at 16 KiB;
#  3. full TLS 1.3 handshakes on loopback with RA-TLS verification (collateral cached) beside
#     plain handshakes verifying the same P-256 certificate (client and server share the VM's
#     two cores, so this one is not pinned).
# Each measurement alternates with its baseline in short rounds inside one process and reports
# medians (bench/bench.h): sequential runs on a shared VM drift by tens of percent.
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
on() { taskset -c "$cpu" "$@"; }

ecdsa=$(on openssl speed -seconds "$secs" ecdsap256 2>/dev/null | awk '/nistp256/ {print $NF}')
appr=$(on build/release/bench/bench_appraise "$Q" "$C" 2025-06-20T00:00:00Z "$secs")
aes=$(on openssl speed -seconds "$secs" -evp aes-256-gcm 2>/dev/null | awk '/^AES-256-GCM/ {print $NF}')
pkg=$(on build/release/bench/bench_package 1024)
pki=$(mktemp -d)
build/release/src/cli/cloak sim init "$pki/pki" >/dev/null
hs=$(build/release/bench/bench_ratls "$pki/pki" "$secs")
rm -rf "$pki"

python3 - "$ecdsa" "$appr" "$aes" "$pkg" "$hs" <<'PY'
import json, sys, subprocess
verify_per_s = float(sys.argv[1]); r = json.loads(sys.argv[2])
aes_kb = float(sys.argv[3].rstrip("k")); p = json.loads(sys.argv[4]); h = json.loads(sys.argv[5])
v_us = 1e6 / verify_per_s
ossl = subprocess.run(["openssl", "version"], capture_output=True, text=True).stdout.strip()
cpu = [l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")][0]
print(f"machine: {cpu}; {ossl}; one core\n")
print(f"openssl speed ecdsap256 verify: {verify_per_s:.0f}/s ({v_us:.1f} us each)\n")
print("| appraisal | per second | time | ECDSA verifies | x their cost (goal <= 1.3) |")
print("|---|---:|---:|---:|---:|")
for k, label in (("cold", "cold (bytes to verdict, nothing cached)"),
                 ("warm", "warm (collateral already verified)")):
    print(f"| {label} | {r[f'{k}_per_s']:.0f} | {r[f'{k}_us']:.0f} us | "
          f"{r[f'{k}_sig_verifications']} | {r[f'{k}_ratio']:.2f} |")
print(f"\n(one P-256 verification in the same rounds: {r['p256_verify_us']:.1f} us; the ratio is the "
      f"median over rounds of time / (verifications x that))")
ceiling = aes_kb * 1000 / 2**20
print(f"\nopenssl speed -evp aes-256-gcm, 16 KiB blocks: {ceiling:.0f} MiB/s; the same loop in "
      f"process, interleaved with the package rounds: {p['reference_mib_s']:.0f} MiB/s\n")
print("| package, 1 GiB from memory | MiB/s | share of the 16 KiB ceiling (goal >= 70%) |")
print("|---|---:|---:|")
for k in ("encrypt", "decrypt"):
    print(f"| {k} | {p[k + '_mib_s']:.0f} | {100 * p[k + '_share']:.0f}% |")
print("\n| TLS 1.3 full handshake, P-256, loopback | per second | time | attestation adds (goal < 50%) |")
print("|---|---:|---:|---:|")
print(f"| plain (certificate checked against a trust store) | {h['plain_per_s']:.0f} | {h['plain_us']:.0f} us | |")
print(f"| RA-TLS (evidence appraised, bindings and claims checked) | {h['ratls_per_s']:.0f} | {h['ratls_us']:.0f} us | {100 * h['added']:.0f}% |")
PY
