#!/usr/bin/env bash
# The main job, until the node exists: build cloak, appraise real Intel SGX evidence offline,
# then issue and appraise simulated evidence (labelled SIMULATED) through the same code.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
CLOAK=build/release/src/cli/cloak
V=../shared/attestation-vectors
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== 1. Real SGX quote (dcap-qvl sample), appraised at 2025-06-20 with the default policy"
$CLOAK quote verify $V/sgx-dcap/dcap-qvl/sgx_quote.bin \
  --collateral $V/sgx-dcap/dcap-qvl/sgx_quote_collateral.json --at 2025-06-20T00:00:00Z || true

echo
echo "== 2. The same quote, with a policy that pins its MRENCLAVE and accepts its TCB status"
cat >"$work/policy.json" <<P
{"mrenclave": ["33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"],
 "accepted_tcb_statuses": ["UpToDate", "ConfigurationAndSWHardeningNeeded"],
 "accepted_advisories": ["INTEL-SA-00289", "INTEL-SA-00615"]}
P
$CLOAK quote verify $V/sgx-dcap/dcap-qvl/sgx_quote.bin \
  --collateral $V/sgx-dcap/dcap-qvl/sgx_quote_collateral.json --at 2025-06-20T00:00:00Z \
  --policy "$work/policy.json"

echo
echo "== 3. A simulated enclave: sim PKI, quote bound to a nonce, appraisal (SIMULATED)"
$CLOAK sim init "$work/pki"
nonce=$(openssl rand -hex 32)
$CLOAK sim quote --pki "$work/pki" --mrenclave "$(sha256sum $CLOAK | cut -c1-64)" \
  --report-data "$nonce" --bundle -o "$work/evidence.json"
$CLOAK quote verify "$work/evidence.json" --allow-simulation --json | head -12
echo "   (report_data should start with the nonce $nonce)"
echo
echo "== 4. Without --allow-simulation the same evidence is refused"
$CLOAK quote verify "$work/evidence.json" || echo "   -> exit $? as expected"

echo
echo "== 5. The owner packages the example app: deterministic fingerprint, encrypted, manifest"
export CLOAK_CONFIG_DIR="$work/owner"
$CLOAK package examples/hello -o "$work/hello.pkg" --manifest-out "$work/hello.manifest" \
  --name hello --run ./server --health /healthz
echo "   fingerprint recomputed from the source: $($CLOAK fingerprint examples/hello)"
$CLOAK unpack "$work/hello.pkg" --key "$work/hello.pkg.key" --manifest "$work/hello.manifest" \
  -o "$work/unpacked"
echo
echo "== 6. The app in a (simulated) enclave: cloak-runtime boots with the encrypted package"
RUNTIME=build/release/src/runtime/cloak-runtime
$RUNTIME --backend sim --sim-pki "$work/pki" --package "$work/hello.pkg" \
  --manifest "$work/hello.manifest" --listen 127.0.0.1:0 >"$work/rt.out" 2>"$work/rt.log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  port=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/rt.out")
  [ -n "$port" ] && break
  sleep 0.05
done
cat "$work/rt.out"
echo
echo "== 7. The owner verifies the enclave and provisions it (package key + a secret), sealed"
echo "   (policy: the runtime build is pinned; the sim backend's MRENCLAVE is SHA-256 of the binary)"
printf 'GREETING=only the enclave sees this\n' >"$work/secrets.env"
printf '{"mrenclave":["%s"]}' "$(sha256sum $RUNTIME | cut -c1-64)" >"$work/runtime-policy.json"
$CLOAK provision "127.0.0.1:$port" --manifest "$work/hello.manifest" \
  --package-key "$work/hello.pkg.key" --secrets-file "$work/secrets.env" --seal --allow-simulation \
  --policy "$work/runtime-policy.json"
for _ in $(seq 1 100); do
  curl -sk "https://127.0.0.1:$port/.well-known/cloak/status" | grep -q '"state":"serving"' && break
  sleep 0.1
done
echo
echo "== 8. A user verifies the serving enclave (fresh nonce, expected fingerprint), then calls it"
$CLOAK verify "127.0.0.1:$port" --allow-simulation --nonce --policy "$work/runtime-policy.json" \
  --fingerprint "$($CLOAK fingerprint examples/hello)" --out "$work/cert.pem"
echo "   curl --cacert (the verified certificate, pinned):"
curl -sS --cacert "$work/cert.pem" "https://localhost:$port/"
echo
echo "== 9. What the runtime logged (no secret in it)"
cat "$work/rt.log"
echo
echo "(The node (cloakd) and 'cloak deploy' come in the next issues; see README.md.)"
