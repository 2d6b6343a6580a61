#!/usr/bin/env bash
# cloak verify against real processes on loopback over real TLS: a cloak sim serve per case,
# each fault rejected with its own error code; curl and openssl s_client against the same
# servers; real RA-TLS certificates from other producers as files.
# Usage: test_verify_cli.sh CLOAK_BINARY VECTORS_DIR
set -u
CLOAK=$1
V=$2
. "$(dirname "$0")/lib.sh"

APP=$(printf 'ab%.0s' {1..32})
"$CLOAK" sim init "$T/pki" >/dev/null || { echo "sim init failed"; exit 1; }

# start_server NAME ARGS... -> sets PORT; the server runs until the test ends
start_server() {
	local name=$1
	shift
	"$CLOAK" sim serve --pki "$T/pki" "$@" >"$T/$name.log" 2>&1 &
	PIDS+=($!)
	await_port "$T/$name.log" "$T/$name.log"
}
code_is() { [ "$(jget "$T/out" "[e['code'] for e in d['errors']]")" = "$1" ]; }

expect 2 "sim serve: an address with junk after the port" -- \
	"$CLOAK" sim serve --pki "$T/pki" --listen 127.0.0.1:80x
grep -q "'127.0.0.1:80x' is not IPV4-ADDRESS:PORT" "$T/err" && ok || bad "listen: $(cat "$T/err")"

# --- a good enclave ------------------------------------------------------------------------
start_server good --app "$APP"
GOOD=$PORT
expect 0 "verify a simulated enclave" -- "$CLOAK" verify "127.0.0.1:$GOOD" --allow-simulation \
	--fingerprint "$APP" --nonce --out "$T/cert.pem" --json
for f in verdict simulated tcb_status key_bound claims mode fingerprint who_can_read errors; do
	[ "$(jget "$T/out" "'$f' in d")" = True ] && ok || bad "--json lacks $f"
done
[ "$(jget "$T/out" "d['key_bound']")" = True ] && ok || bad "key bound"
[ "$(jget "$T/out" "d['simulated']")" = True ] && ok || bad "simulated"
[ "$(jget "$T/out" "d['mode']")" = zero-trust ] && ok || bad "mode"
[ "$(jget "$T/out" "d['fingerprint']")" = "$APP" ] && ok || bad "fingerprint"
[ "$(jget "$T/out" "d['who_can_read']")" = "only the enclave" ] && ok || bad "who can read"
[ "$(jget "$T/out" "len(d['claims']['nonce'])")" = 64 ] && ok || bad "a fresh quote carries the nonce"
[ "$(jget "$T/out" "len(d['certificate_evidence'])")" = 2 ] && ok || bad "standard + legacy extensions"
# the pinned certificate works for curl; the Chromium SPKI pin is printed
expect 0 "curl with the verified certificate" -- curl -sS --cacert "$T/cert.pem" "https://localhost:$GOOD/"
grep -q "simulated enclave" "$T/out" && ok || bad "curl reached the app"
expect 0 "text output" -- "$CLOAK" verify "https://127.0.0.1:$GOOD" --allow-simulation
grep -q "ignore-certificate-errors-spki-list=" "$T/out" && ok || bad "chromium SPKI pin printed"
grep -q "SIMULATED" "$T/out" && ok || bad "text says SIMULATED"
# openssl s_client sees an RA-TLS certificate
echo | openssl s_client -connect "127.0.0.1:$GOOD" -servername localhost 2>/dev/null |
	openssl x509 -noout -text >"$T/sclient.txt" 2>/dev/null
grep -q "2.23.133.5.4.9" "$T/sclient.txt" && ok || bad "s_client shows the evidence extension"
grep -q "1.2.840.113741.1337.6" "$T/sclient.txt" && ok || bad "s_client shows the legacy extension"
expect 0 "verify the saved certificate file" -- "$CLOAK" verify "$T/cert.pem" --allow-simulation \
	--collateral <("$CLOAK" sim collateral --pki "$T/pki" -o -) --json
# and the curl pin does not fit another enclave's certificate
start_server other --app "$APP"
expect 60 "curl with a pin from another enclave" -- curl -sS --cacert "$T/cert.pem" "https://localhost:$PORT/"

# --- each failure, with its own code ----------------------------------------------------------
expect 1 "without --allow-simulation" -- "$CLOAK" verify "127.0.0.1:$GOOD" --json
code_is "['root.simulation']" && ok || bad "root.simulation: $(cat "$T/out" | head -c 300)"
expect 1 "a wrong fingerprint" -- "$CLOAK" verify "127.0.0.1:$GOOD" --allow-simulation --json \
	--fingerprint "$(printf 'cd%.0s' {1..32})"
code_is "['ratls.expectation']" && ok || bad "ratls.expectation"
start_server keymismatch --app "$APP" --fault key-mismatch
expect 1 "evidence for another key" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['ratls.key_binding']" && ok || bad "ratls.key_binding: $(head -c 400 "$T/out")"
start_server tamper --app "$APP" --fault claims-tamper
expect 1 "claims changed after quoting" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
grep -q ratls.claims_binding "$T/out" && ok || bad "ratls.claims_binding"
start_server expired --app "$APP" --fault expired
expect 1 "an expired certificate" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['time.expired']" && ok || bad "time.expired: $(head -c 400 "$T/out")"
# one rule decides whether a certificate binds its key, for verify, inspect and the TLS hook:
# here the standard extension binds it, the legacy one another key
start_server legacyother --app "$APP" --fault legacy-other-key
echo | openssl s_client -connect "127.0.0.1:$PORT" -servername localhost 2>/dev/null |
	openssl x509 >"$T/hybrid.pem" 2>/dev/null
expect 1 "a certificate whose legacy quote binds another key (file)" -- "$CLOAK" verify "$T/hybrid.pem" \
	--allow-simulation --collateral <("$CLOAK" sim collateral --pki "$T/pki" -o -) --json
code_is "['ratls.key_binding']" && ok || bad "hybrid file: $(head -c 300 "$T/out")"
[ "$(jget "$T/out" "d['key_bound']")" = False ] && ok || bad "hybrid file: key_bound false"
expect 0 "inspect the same certificate" -- "$CLOAK" inspect "$T/hybrid.pem" --json
[ "$(jget "$T/out" "d['certificates'][0]['ratls']['key_bound']")" = False ] && ok || bad "inspect says key_bound false"
expect 1 "the same certificate, live" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['ratls.key_binding']" && ok || bad "hybrid live: $(head -c 300 "$T/out")"
# a certificate changed after it was signed (validity moved to 2049): its signature is checked
start_server notresigned --app "$APP" --fault not-resigned
echo | openssl s_client -connect "127.0.0.1:$PORT" -servername localhost 2>/dev/null |
	openssl x509 >"$T/changed.pem" 2>/dev/null
expect 1 "a certificate changed after signing (file)" -- "$CLOAK" verify "$T/changed.pem" \
	--allow-simulation --collateral <("$CLOAK" sim collateral --pki "$T/pki" -o -) --json
code_is "['cert.signature']" && ok || bad "changed file: $(head -c 300 "$T/out")"
expect 1 "a certificate changed after signing, live" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['cert.signature']" && ok || bad "changed live: $(head -c 300 "$T/out")"
# DER only: the good certificate with an indefinite-length (BER) outer SEQUENCE is refused
python3 - "$T/cert.pem" "$T/ber.pem" <<'PY'
import base64, sys
t = open(sys.argv[1]).read()
der = base64.b64decode("".join(l for l in t.splitlines() if not l.startswith("-----")))
assert der[0] == 0x30 and der[1] == 0x82
ber = b"\x30\x80" + der[4:] + b"\x00\x00"
b64 = base64.b64encode(ber).decode()
open(sys.argv[2], "w").write("-----BEGIN CERTIFICATE-----\n" +
    "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64)) + "\n-----END CERTIFICATE-----\n")
PY
expect 1 "a BER-encoded certificate" -- "$CLOAK" verify "$T/ber.pem" --allow-simulation \
	--collateral <("$CLOAK" sim collateral --pki "$T/pki" -o -)
grep -q "not in DER" "$T/err" && ok || bad "BER named: $(cat "$T/err")"

start_server stale --app "$APP" --fault ignore-nonce
expect 1 "a quote without our nonce" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --nonce --json
code_is "['ratls.nonce']" && ok || bad "ratls.nonce"
start_server otherenclave --app "$APP" --mrenclave "$(printf '66%.0s' {1..32})"
printf '{"mrenclave":["%s"],"allow_simulation":true}' "$(printf '00%.0s' {1..32})" >"$T/pol.json"
expect 1 "a quote from another enclave" -- "$CLOAK" verify "127.0.0.1:$PORT" --policy "$T/pol.json" --json
code_is "['policy.measurement']" && ok || bad "policy.measurement"
start_server debug --app "$APP" --debug
expect 1 "a debug enclave" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['policy.debug']" && ok || bad "policy.debug"
expect 2 "nobody listening" -- "$CLOAK" verify "127.0.0.1:1" --allow-simulation
grep -q "\[tls\]" "$T/err" && ok || bad "connection error named"

# --- the owner's certificate (fully encrypted SaaS) --------------------------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -days 2 -keyout "$T/owner.key" -out "$T/owner.pem" 2>/dev/null
start_server owner --app "$APP" --owner-cert "$T/owner.pem" --owner-key "$T/owner.key"
expect 0 "owner-cert: the evidence endpoint binds the owner's key" -- "$CLOAK" verify \
	"127.0.0.1:$PORT" --allow-simulation --json
[ "$(jget "$T/out" "d['mode']")" = owner-cert ] && ok || bad "owner-cert mode"
[ "$(jget "$T/out" "d['key_bound']")" = True ] && ok || bad "owner key bound"
[ "$(jget "$T/out" "d['who_can_read']")" = "the enclave and the app owner (who holds the TLS key)" ] && ok || bad "owner can read"
[ "$(jget "$T/out" "len(d['certificate_evidence'])")" = 0 ] && ok || bad "the owner's certificate carries no evidence"
expect 0 "a browser-style client trusts the owner's certificate" -- curl -sS --cacert "$T/owner.pem" "https://localhost:$PORT/"
# the owner's certificate served with evidence for another key is refused
start_server ownerbad --app "$APP" --owner-cert "$T/owner.pem" --owner-key "$T/owner.key" --fault key-mismatch
expect 1 "owner-cert with evidence for another key" -- "$CLOAK" verify "127.0.0.1:$PORT" --allow-simulation --json
code_is "['ratls.key_binding']" && ok || bad "owner-cert key binding refused"

# --- behind the operator's TLS -----------------------------------------------------------------
start_server operator --app "$APP" --mode operator-tls
expect 0 "operator-tls over plain HTTP" -- "$CLOAK" verify "http://127.0.0.1:$PORT" --allow-simulation --json
[ "$(jget "$T/out" "d['who_can_read']")" = "the enclave and the node operator (who terminates TLS)" ] && ok || bad "operator can read"

# --- other producers' certificates, as files ----------------------------------------------------
R=$V/ra-tls
expect 0 "the MSE certificate, end to end at its time" -- "$CLOAK" verify "$R/mse/mse_ratls_cert_2023-05-17.pem" \
	--collateral "$V/sgx-dcap/mse/collateral_qvlformat_2023-06.json" --at 2023-06-21T00:00:00Z \
	--policy <(echo '{"accepted_tcb_statuses":["OutOfDate"],"accepted_advisories":["*"]}') --json
[ "$(jget "$T/out" "d['tcb_status']")" = OutOfDate ] && ok || bad "MSE status OutOfDate"
[ "$(jget "$T/out" "d['key_bound']")" = True ] && ok || bad "MSE key bound"
expect 1 "the MSE certificate under the default policy" -- "$CLOAK" verify "$R/mse/mse_ratls_cert_2023-05-17.pem" \
	--collateral "$V/sgx-dcap/mse/collateral_qvlformat_2023-06.json" --at 2023-06-21T00:00:00Z --json
code_is "['policy.tcb_status', 'policy.advisory']" && ok || bad "MSE default policy"
expect 1 "the debug Cosmian certificate" -- "$CLOAK" verify "$R/mse/cosmian_ratls_sgx_2023-12-06_debug.pem" \
	--collateral "$V/sgx-dcap/mse/collateral_qvlformat_2023-06.json" --at 2023-06-21T00:00:00Z \
	--policy <(echo '{"accepted_tcb_statuses":["OutOfDateConfigurationNeeded"],"accepted_advisories":["*"]}') --json
grep -q policy.debug "$T/out" && ok || bad "debug certificate refused"
expect 0 "inspect the Gramine certificate" -- "$CLOAK" inspect "$R/ccc-interop/gramine-cert.pem" --json
[ "$(jget "$T/out" "d['certificates'][0]['ratls']['key_bound']")" = True ] && ok || bad "inspect: gramine key bound"

finish
