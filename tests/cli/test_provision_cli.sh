#!/usr/bin/env bash
# cloak provision against real cloak-runtime processes on loopback (sim backend), as the owner
# runs it: every check that must hold before anything is sent, then the provisioning itself,
# then the app called through the certificate `cloak verify` wrote.
# Usage: test_provision_cli.sh CLOAK_BINARY CLOAK_RUNTIME_BINARY EXAMPLES_DIR
set -u
CLOAK=$1
RUNTIME=$2
EXAMPLES=$3
. "$(dirname "$0")/lib.sh"
export CLOAK_CONFIG_DIR="$T/owner"

"$CLOAK" sim init "$T/pki" >/dev/null || { echo "sim init failed"; exit 1; }
"$CLOAK" package "$EXAMPLES/hello" -o "$T/hello.pkg" --manifest-out "$T/hello.manifest" \
	--name hello --run ./server --health /healthz >/dev/null 2>&1 || { echo "package failed"; exit 1; }
# the same package under another manifest (another name): another manifest hash
"$CLOAK" package "$EXAMPLES/hello" -o "$T/other.pkg" --manifest-out "$T/other.manifest" \
	--name other --run ./server --health /healthz >/dev/null 2>&1
mkdir -p "$T/stranger"
"$CLOAK" keygen --owner-key "$T/stranger/owner.key" >/dev/null 2>&1

# start_runtime NAME MANIFEST PACKAGE -> sets PORT
start_runtime() {
	"$RUNTIME" --backend sim --sim-pki "$T/pki" --manifest "$2" --package "$3" \
		--listen 127.0.0.1:0 >"$T/$1.out" 2>"$T/$1.log" &
	PIDS+=($!)
	await_port "$T/$1.out" "$T/$1.log"
}
status() { curl -sk "https://127.0.0.1:$1/.well-known/cloak/status" >"$T/status"; jget "$T/status" "$2"; }
prov() { "$CLOAK" provision "127.0.0.1:$PORT" --manifest "$T/hello.manifest" --package-key "$T/hello.pkg.key" "$@"; }

start_runtime a "$T/hello.manifest" "$T/hello.pkg"
A=$PORT

# --- refused before anything is sent: the gate never sees a request -------------------------
expect 1 "simulation without --allow-simulation" -- prov
grep -q 'root.simulation' "$T/err" && ok || bad "no root.simulation: $(cat "$T/err")"
expect 1 "another manifest than the enclave's" -- "$CLOAK" provision "127.0.0.1:$A" \
	--manifest "$T/other.manifest" --package-key "$T/other.pkg.key" --allow-simulation
grep -q 'manifest hash is not the expected one' "$T/err" && ok || bad "manifest: $(cat "$T/err")"
mr=$(sha256sum "$RUNTIME" | cut -c1-64) # the sim backend's MRENCLAVE
expect 0 "cloak measure, of the runtime beside it" -- "$CLOAK" measure
[ "$(cat "$T/out")" = "$mr" ] && ok || bad "measure: $(cat "$T/out"), not $mr"
expect 0 "cloak measure --runtime --json" -- "$CLOAK" measure --runtime "$RUNTIME" --json
[ "$(jget "$T/out" "d['mrenclave']")" = "$mr" ] && ok || bad "measure --json: $(cat "$T/out")"
expect 2 "cloak measure of no runtime" -- "$CLOAK" measure --runtime "$T/none"
grep -q -- "--runtime: '$T/none' is not an executable file" "$T/err" && ok || bad "named: $(cat "$T/err")"
printf '{"mrenclave":["%064d"]}' 0 >"$T/pin-other.json"
expect 1 "a policy pinning another runtime build" -- prov --allow-simulation --policy "$T/pin-other.json"
grep -q 'policy.measurement' "$T/err" && ok || bad "measurement: $(cat "$T/err")"
expect 2 "an owner key that is not the manifest's" -- prov --allow-simulation \
	--owner-key "$T/stranger/owner.key"
grep -q 'not the one the manifest names' "$T/err" && ok || bad "owner key: $(cat "$T/err")"
expect 2 "a secret that is not NAME=VALUE" -- prov --allow-simulation --secret nonsense
expect 2 "owner-cert options for a zero-trust manifest" -- prov --allow-simulation \
	--owner-tls-chain /dev/null --owner-tls-key /dev/null
expect 2 "a target that is not HOST:PORT" -- "$CLOAK" provision enclave.example \
	--manifest "$T/hello.manifest" --package-key "$T/hello.pkg.key" --allow-simulation
grep -q "'enclave.example' is not HOST:PORT" "$T/err" && ok || bad "target: $(cat "$T/err")"
expect 2 "no such enclave" -- "$CLOAK" provision 127.0.0.1:1 --manifest "$T/hello.manifest" \
	--package-key "$T/hello.pkg.key" --allow-simulation
[ "$(status "$A" "d['provisioning']['refused'], d['provisioning']['state']")" = "0 open" ] && ok ||
	bad "the gate saw something: $(cat "$T/status")"

# --- provisioned: pinned to the measured runtime, secrets from a file, sealed ---------------
printf '{"mrenclave":["%s"]}' "$mr" >"$T/pin.json"
printf 'API_TOKEN=t0k3n\n# a comment\n\nDSN=postgres://u:p@db/x?a=b\n' >"$T/secrets.env"
# while another address floods the enclave with fresh-evidence requests: provisioning and fresh
# verification are answered all the same (nonces are batched; the flooder gets its share)
python3 "$(dirname "$0")/flood_evidence.py" "$A" 4 16 127.0.0.2 >"$T/flood.out" &
FLOOD=$!
sleep 0.5
for i in 1 2 3 4 5; do
	expect 0 "fresh verification $i during a flood" -- "$CLOAK" verify "127.0.0.1:$A" \
		--allow-simulation --nonce --json
done
expect 0 "provision (sealed, pinned) during a flood" -- prov --allow-simulation --policy "$T/pin.json" \
	--secrets-file "$T/secrets.env" --seal --json
wait "$FLOOD"
grep -q '"200"' "$T/flood.out" && ok || bad "the flooder was answered nothing: $(cat "$T/flood.out")"
[ "$(jget "$T/out" "d['provisioned'], d['secrets'], d['sealed'], d['simulated'], d['enclave']['state']")" = \
	"True 2 True True starting" ] && ok || bad "json: $(cat "$T/out")"
for _ in $(seq 1 100); do [ "$(status "$A" "d['state']")" = serving ] && break; sleep 0.1; done
[ "$(status "$A" "d['state']")" = serving ] && ok || bad "not serving: $(cat "$T/status")"
expect 0 "verify the serving enclave" -- "$CLOAK" verify "127.0.0.1:$A" --allow-simulation \
	--fingerprint "$("$CLOAK" fingerprint "$EXAMPLES/hello")" --out "$T/serving.pem"
[ "$(curl -s --cacert "$T/serving.pem" "https://localhost:$A/")" = "hello from inside the enclave" ] &&
	ok || bad "curl through the verified certificate failed"
expect 1 "a second provisioning: phase serving, nothing sent" -- prov --allow-simulation
grep -q 'unexpected phase: serving' "$T/err" && ok || bad "second: $(cat "$T/err")"
# and no secret ever reached the runtime's log
grep -q 't0k3n\|postgres://' "$T/a.log" && bad "a secret is in the runtime's log" || ok


# a node that runs another runtime build: with no measurement in the policy, a simulated
# enclave is held to the runtime beside cloak, so it is refused before anything is sent
cp "$RUNTIME" "$T/other-runtime" && printf 'x' >>"$T/other-runtime"
"$T/other-runtime" --backend sim --sim-pki "$T/pki" --manifest "$T/hello.manifest" --package "$T/hello.pkg" \
	--listen 127.0.0.1:0 >"$T/o.out" 2>"$T/o.log" &
PIDS+=($!)
await_port "$T/o.out" "$T/o.log"
expect 1 "a swapped runtime, no policy" -- "$CLOAK" provision "127.0.0.1:$PORT" --manifest "$T/hello.manifest" \
	--package-key "$T/hello.pkg.key" --allow-simulation --secret TOKEN=never-sent
grep -q "trusting the runtime beside cloak" "$T/err" && grep -q 'policy.measurement' "$T/err" && ok ||
	bad "swapped runtime: $(cat "$T/err")"
[ "$(status "$PORT" "d['provisioning']['refused'], d['provisioning']['state']")" = "0 open" ] && ok ||
	bad "the swapped runtime's gate saw something"

finish
