#!/usr/bin/env bash
# cloakd run as owners and their users meet it, against real processes on loopback: the owner
# API over HTTPS (each wrong request its own clear error, nothing changed), deploys whose
# runtimes are reached through the router by SNI and provisioned through it, what the node
# holds (no secret, key, code or app output in clear in its directory, logs or memory), faults
# (a runtime killed, cloakd killed, an upload cut short, ten deploys at once), what its
# network-facing processes may reach, and collateral from a PCCS (a fake one serving real
# collateral).
# Usage: test_node_api.sh CLOAKD CLOAK CLOAK_RUNTIME EXAMPLES_DIR VECTORS_DIR
set -u
CLOAKD=$1
CLOAK=$2
RUNTIME=$3
EXAMPLES=$4
VECTORS=$5
. "$(dirname "$0")/lib.sh"
TOOL="python3 $(dirname "$0")/nodetool.py"
N=$T/node
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=operator \
	-addext "subjectAltName=DNS:web.localhost" -keyout "$T/op.key" -out "$T/op.pem" 2>/dev/null
chmod 600 "$T/op.key"
RUN=(--data "$N" --sim --public 127.0.0.1:0 --api 127.0.0.1:0 --runtime "$RUNTIME"
	--max-package 2000000 --max-auth-failures 20 --max-apps 20
	--operator-cert "$T/op.pem" --operator-key "$T/op.key")

node_up() { # starts cloakd; sets NODE, PUB, API
	"$CLOAKD" run "${RUN[@]}" >"$T/node.out" 2>>"$T/node.log" &
	NODE=$!
	PIDS+=("$NODE")
	for _ in $(seq 1 100); do
		PUB=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\) (public) api 127.0.0.1:\([0-9]*\).*/\1/p' "$T/node.out")
		API=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\) (public) api 127.0.0.1:\([0-9]*\).*/\2/p' "$T/node.out")
		[ -n "$PUB" ] && return 0
		sleep 0.05
	done
	echo "cloakd did not start: $(cat "$T/node.log")" >&2
	exit 1
}
runtimes_down() { pkill -KILL -f "cloak-runtime --package $N/apps/" 2>/dev/null; }
trap 'runtimes_down; cleanup' EXIT
# api TOKEN METHOD PATH [curl args...]: the status in $T/code, the body in $T/body
api() {
	local tok=$1 m=$2 p=$3
	shift 3
	curl -sk -o "$T/body" -w '%{http_code}' -X "$m" ${tok:+-H "Authorization: Bearer $tok"} \
		"$@" "https://127.0.0.1:$API$p" >"$T/code"
}
code() { cat "$T/code"; }
err_is() { [ "$(jget "$T/body" "d['error']")" = "$1" ]; }
app_field() { api "$ADMIN" GET "/v1/apps/$1" && jget "$T/body" "d['$2']"; }
wait_state() { # NAME STATE: within 10 s
	for _ in $(seq 1 100); do
		[ "$(app_field "$1" state 2>/dev/null)" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
list_names() { api "$ADMIN" GET /v1/apps && jget "$T/body" "' '.join(a['name'] for a in d['apps'])"; }
package() { # NAME [MODE]: $T/NAME.{pkg,manifest,pkg.key,pkg.logkey,body}
	"$CLOAK" package "$T/app" -o "$T/$1.pkg" --manifest-out "$T/$1.manifest" --name "$1" \
		--mode "${2:-zero-trust}" --run ./server --health /healthz >/dev/null 2>&1 ||
		{ echo "package $1 failed"; exit 1; }
	$TOOL body "$T/$1.manifest" "$T/$1.pkg" "$T/$1.body"
}
provision() { # NAME: through the router, as an owner does
	"$CLOAK" provision "$1.localhost:$PUB" --manifest "$T/$1.manifest" \
		--package-key "$T/$1.pkg.key" --allow-simulation --secret "TOKEN=$SECRET" \
		>"$T/prov.out" 2>"$T/prov.err"
}
via_router() { curl -sk --max-time 5 --resolve "$1.localhost:$PUB:127.0.0.1" "https://$1.localhost:$PUB$2"; }

SECRET="secret-marker-$RANDOM$RANDOM"
CODE_MARK="code-marker-$RANDOM$RANDOM"
OUT_MARK="output-marker-$RANDOM$RANDOM"
export CLOAK_CONFIG_DIR="$T/owner"
mkdir -p "$T/app" && cp "$EXAMPLES/hello/server" "$T/app/" && echo "$CODE_MARK" >"$T/app/notes.txt"
"$CLOAK" keygen >/dev/null 2>&1
package hello
package other
package web operator-tls

node_up
ADMIN=$(cat "$N/admin.token")
ALICE=$("$CLOAKD" token create alice --data "$N")
BOB=$("$CLOAKD" token create bob --data "$N")
CAROL=$("$CLOAKD" token create carol --data "$N")
"$CLOAKD" token revoke carol --data "$N" >/dev/null

# --- who may ask --------------------------------------------------------------------------
api "" GET /v1/apps
[ "$(code)" = 401 ] && err_is auth && ok || bad "no token: $(code) $(cat "$T/body")"
api "$(printf '%064d' 0)" GET /v1/apps
[ "$(code)" = 401 ] && err_is auth && ok || bad "a wrong token: $(code)"
api "$CAROL" GET /v1/apps
[ "$(code)" = 401 ] && err_is auth && ok || bad "a revoked token: $(code)"
curl -sk -o /dev/null -w '%{http_code}' -H "Authorization: Basic $ALICE" \
	"https://127.0.0.1:$API/v1/apps" | grep -qx 401 && ok || bad "not a Bearer token"
api "$ALICE" GET /v1/apps
[ "$(code)" = 200 ] && [ "$(jget "$T/body" "len(d['apps'])")" = 0 ] && ok || bad "alice lists: $(code)"

# --- deploys, and what is refused with nothing changed --------------------------------------
api "$ALICE" POST /v1/apps --data-binary "@$T/hello.body"
[ "$(code)" = 201 ] && [ "$(jget "$T/body" "d['owner'], d['state']")" = "alice starting" ] && ok ||
	bad "deploy: $(code) $(cat "$T/body")"
wait_state hello awaiting-provisioning && ok || bad "hello never awaited provisioning: $(cat "$T/body")"
snapshot() { (cd "$N/apps" && find . | sort) >"$T/snap.$1"; list_names >>"$T/snap.$1"; }
snapshot before
api "$ALICE" POST /v1/apps --data-binary "@$T/hello.body"
[ "$(code)" = 409 ] && err_is conflict && grep -q "'hello'" "$T/body" && ok || bad "duplicate: $(code)"
printf '\x05\x00\x00\x00{"a":package-bytes' >"$T/junk.body"
api "$ALICE" POST /v1/apps --data-binary "@$T/junk.body"
[ "$(code)" = 422 ] && err_is manifest.format && ok || bad "malformed manifest: $(code) $(cat "$T/body")"
python3 -c "
import sys; b=bytearray(open('$T/other.body','rb').read()); b[-1]^=1; open('$T/tampered.body','wb').write(b)"
api "$ALICE" POST /v1/apps --data-binary "@$T/tampered.body"
[ "$(code)" = 422 ] && err_is package.format && grep -q "the manifest says" "$T/body" && ok ||
	bad "a package that is not the manifest's: $(code) $(cat "$T/body")"
head -c 2000001 /dev/zero >"$T/big.body"
api "$ALICE" POST /v1/apps --data-binary "@$T/big.body"
[ "$(code)" = 413 ] && ok || bad "oversize: $(code)"
api "$ALICE" POST /v1/apps -H 'Transfer-Encoding: chunked' --data-binary "@$T/other.body"
[ "$(code)" = 411 ] && ok || bad "chunked deploy: $(code)"
$TOOL partial "$API" "$ALICE" "$T/other.body" 0.5 >/dev/null
api "$BOB" GET /v1/apps/hello
[ "$(code)" = 404 ] && err_is not_found && ok || bad "another owner's app: $(code)"
api "$BOB" DELETE /v1/apps/hello
[ "$(code)" = 404 ] && ok || bad "another owner's delete: $(code)"
api "$BOB" POST /v1/apps/hello/stop
[ "$(code)" = 404 ] && ok || bad "another owner's stop: $(code)"
api "$ALICE" GET /v1/apps/Hello
[ "$(code)" = 400 ] && ok || bad "a bad name: $(code)"
api "$ALICE" PUT /v1/apps
[ "$(code)" = 405 ] && ok || bad "a bad method: $(code)"
api "$ALICE" GET /v1/apps/hello/logs?follow=yes
[ "$(code)" = 400 ] && ok || bad "a bad query: $(code)"
api "$ALICE" GET /v1/secrets
[ "$(code)" = 404 ] && ok || bad "no such route: $(code)"
# smuggling shapes on the API port: refused by the strict parser, before any token is read
smuggle() { # NAME STATUS HEAD: a deploy with these headers
	printf "POST /v1/apps HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer $ALICE\r\n$3\r\n\r\n0\r\n\r\n" >"$T/s.$1"
	$TOOL raw "$API" "$T/s.$1" >"$T/s.out"
	[ "$(head -1 "$T/s.out")" = "$2" ] && ok || bad "smuggling $1: $(cat "$T/s.out")"
}
smuggle cl-te 400 'Content-Length: 5\r\nTransfer-Encoding: chunked'
smuggle cl-cl 400 'Content-Length: 5\r\nContent-Length: 5'
smuggle te-te 400 'Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked'
smuggle obs-fold 400 'Content-Length: 5\r\n x: y'
smuggle space-colon 400 'Content-Length : 5'
smuggle te-gzip 501 'Transfer-Encoding: gzip, chunked'
sleep 0.3
snapshot after
cmp -s "$T/snap.before" "$T/snap.after" && ok ||
	bad "a refused request changed something: $(diff "$T/snap.before" "$T/snap.after")"
ls -a "$N/apps" | grep -q '^\.new-' && bad "a staging directory was left" || ok

# --- through the router: passthrough by SNI, the enclave's certificate, never the node's ------
provision hello && ok || bad "provision through the router: $(cat "$T/prov.err")"
grep -q "phase provisioning" "$T/prov.err" && ok || bad "the provisioning phase was not the enclave's"
wait_state hello running && ok || bad "hello not running: $(cat "$T/body")"
[ "$(via_router hello /healthz)" = ok ] && ok || bad "hello through the router"
openssl s_client -connect "127.0.0.1:$PUB" -servername hello.localhost </dev/null 2>/dev/null |
	openssl x509 -outform DER >"$T/seen.der" 2>/dev/null
[ -s "$T/seen.der" ] && ok || bad "no certificate through the router"
[ "$(sha256sum <"$T/seen.der" | cut -c1-64)" != "$("$CLOAKD" fingerprint --data "$N")" ] && ok ||
	bad "the client saw the node's certificate"
openssl x509 -inform DER -in "$T/seen.der" -noout -text | grep -q "1.2.840.113741.1.13.1\|2.23.133.5.4.9" &&
	ok || bad "the certificate seen carries no attestation"
openssl s_client -connect "127.0.0.1:$PUB" -servername nope.localhost </dev/null >"$T/sc" 2>&1 &&
	bad "an unknown name was served" || ok
grep -q "unrecognized name" "$T/sc" && ok || bad "unknown name: no unrecognized_name alert"
via_router hello "/$OUT_MARK" >/dev/null
expect 0 "a user verifies the zero-trust app through the router" -- "$CLOAK" verify "https://hello.localhost:$PUB" --allow-simulation
grep -q "who can read *only the enclave$" "$T/out" && ok || bad "who can read (zero trust): $(grep 'who can read' "$T/out")"

# --- an untrusted-ssl app: its users get the operator's certificate, cloak's clients the enclave
api "$ALICE" POST /v1/apps --data-binary "@$T/web.body"
[ "$(code)" = 201 ] && ok || bad "deploy an untrusted-ssl app: $(code) $(cat "$T/body")"
wait_state web awaiting-provisioning || bad "web did not start"
provision web && wait_state web running && ok || bad "web provisioned through the router: $(cat "$T/prov.err")"
[ "$(curl -s --max-time 5 --cacert "$T/op.pem" --resolve "web.localhost:$PUB:127.0.0.1" \
	"https://web.localhost:$PUB/")" = "hello from inside the enclave" ] && ok ||
	bad "web's user, with the operator's certificate"
openssl s_client -connect "127.0.0.1:$PUB" -servername web.localhost </dev/null 2>/dev/null |
	openssl x509 -noout -subject | grep -q "CN = operator" && ok || bad "web: not the operator's certificate"
openssl s_client -connect "127.0.0.1:$PUB" -servername web.localhost -alpn cloak-attested </dev/null 2>/dev/null |
	openssl x509 -noout -subject | grep -q "CN = operator" && bad "cloak's ALPN was not passed through" || ok
expect 0 "a user verifies the untrusted-ssl app's enclave" -- "$CLOAK" verify "https://web.localhost:$PUB" --allow-simulation
grep -q "who can read.*operator" "$T/out" && ok || bad "who can read: $(cat "$T/out")"
printf 'GET / HTTP/1.1\r\nHost: web\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' >"$T/smug"
python3 -c "
import socket, ssl
c = ssl.create_default_context(cafile='$T/op.pem')
s = c.wrap_socket(socket.create_connection(('127.0.0.1', $PUB)), server_hostname='web.localhost')
s.sendall(open('$T/smug', 'rb').read()); print(s.recv(100).split(b' ')[1].decode())" >"$T/smug.out" 2>&1
[ "$(cat "$T/smug.out")" = 400 ] && ok || bad "smuggling through the operator's TLS: $(cat "$T/smug.out")"

# --- logs, stop, metrics --------------------------------------------------------------------
api "$ALICE" GET /v1/apps/hello/logs
[ "$(code)" = 200 ] && grep -q "cloak-runtime: serving" "$T/body" && ok || bad "logs: $(code)"
timeout 3 curl -sk -N -H "Authorization: Bearer $ALICE" \
	"https://127.0.0.1:$API/v1/apps/hello/logs?follow=1" >"$T/follow" &
F=$!
sleep 0.5
via_router hello /followed >/dev/null
wait $F
[ $? = 124 ] && ok || bad "follow did not stay open"
grep -q "waiting for provisioning" "$T/follow" && ok || bad "follow: $(head -c 300 "$T/follow")"
"$CLOAK" log-decrypt --log-key "$T/hello.pkg.logkey" "$T/follow" >"$T/app.out" 2>"$T/app.err" && ok ||
	bad "log-decrypt: $(cat "$T/app.err")"
grep -q "GET /$OUT_MARK" "$T/app.out" && ok || bad "the owner cannot read the app's output: $(cat "$T/app.out")"
grep -q "$OUT_MARK" "$T/follow" && bad "the app's output is in clear in its log" || ok
sed 's/^\(cloak-log 1 1 \)./\1A/' "$T/follow" >"$T/tampered.log"
expect 1 "a tampered log record" -- "$CLOAK" log-decrypt --log-key "$T/hello.pkg.logkey" "$T/tampered.log"
grep -q "record 1 does not open" "$T/err" && ok || bad "tampered: $(cat "$T/err")"
grep -v '^cloak-log 1 1 ' "$T/follow" >"$T/dropped.log"
expect 0 "a log with a record dropped" -- "$CLOAK" log-decrypt --log-key "$T/hello.pkg.logkey" "$T/dropped.log"
grep -q "1 record of the app's output missing" "$T/err" && ok || bad "dropped: $(cat "$T/err")"
api "$ADMIN" GET /v1/metrics
grep -q '^cloakd_apps{state="running"} 2$' "$T/body" && grep -q '^cloakd_router_accepted_total [1-9]' "$T/body" &&
	ok || bad "metrics: $(cat "$T/body")"

# --- confidentiality: the node's directory, its logs, its processes' memory -------------------
PKG_KEY=$(cat "$T/hello.pkg.key")
for m in "$SECRET" "$CODE_MARK" "$OUT_MARK" "$PKG_KEY"; do
	grep -rqF -- "$m" "$N" "$T/node.log" && bad "'${m:0:20}...' in clear on the node" || ok
done
for p in $NODE $(pgrep -P "$NODE" 'cloakd-(router|api|tls)'); do
	$TOOL memscan "$p" "$SECRET" "$CODE_MARK" "$OUT_MARK" "$PKG_KEY" && ok ||
		bad "cloakd process $p holds a secret"
done

# --- privileges: the router and the api hold no path to DIR ----------------------------------
[ "$(pgrep -P "$NODE" 'cloakd-(router|api|tls)' | wc -l)" = 3 ] && ok || bad "not one router, api and tls"
for p in $(pgrep -P "$NODE" 'cloakd-(router|api|tls)'); do
	root=$(readlink "/proc/$p/root")
	[ "$root" != / ] && ok || bad "process $p has the real root"
	[ "$(awk '/^Seccomp:/ {print $2}' "/proc/$p/status")" = 2 ] && ok || bad "process $p has no seccomp filter"
	[ "$(awk '/^NoNewPrivs:/ {print $2}' "/proc/$p/status")" = 1 ] && ok || bad "process $p may gain privileges"
	ls -l "/proc/$p/fd" 2>/dev/null | grep -q "$N/" && bad "process $p holds a descriptor in DIR" || ok
	if [ "$(id -u)" = 0 ]; then
		[ "$(awk '/^Uid:/ {print $2}' "/proc/$p/status")" = "$(id -u nobody)" ] && ok ||
			bad "process $p is not nobody"
	fi
done

# --- faults ---------------------------------------------------------------------------------
pushes=$(grep -c "routes\? sent to the router" "$T/node.log")
kill -HUP "$NODE"
for _ in $(seq 50); do [ "$(grep -c "routes\? sent to the router" "$T/node.log")" -gt "$pushes" ] && break; sleep 0.1; done
[ "$(grep -c "routes\? sent to the router" "$T/node.log")" -gt "$pushes" ] && ok || bad "SIGHUP sends the routes anew"
ROUTER=$(pgrep -P "$NODE" -x cloakd-router)
kill -9 "$ROUTER"
for _ in $(seq 50); do r=$(pgrep -P "$NODE" -x cloakd-router); [ -n "$r" ] && [ "$r" != "$ROUTER" ] && break; sleep 0.1; done
for _ in $(seq 30); do [ "$(via_router hello /healthz)" = ok ] && break; sleep 0.1; done
[ "$(via_router hello /healthz)" = ok ] && ok || bad "routing again after the router was killed"
API_PROC=$(pgrep -P "$NODE" -x cloakd-api)
kill -9 "$API_PROC"
for _ in $(seq 30); do api "$ALICE" GET /v1/apps/hello; [ "$(code)" = 200 ] && break; sleep 0.1; done
[ "$(code)" = 200 ] && ok || bad "the API again after the api process was killed"
old=$(app_field hello pid)
kill -9 "$old"
wait_state hello awaiting-provisioning && ok || bad "a killed runtime: $(cat "$T/body")"
jget "$T/body" "d['reason']" | grep -q "killed by signal 9; started again" && ok ||
	bad "no reason: $(cat "$T/body")"
[ "$(jget "$T/body" "d['restarts']")" = 1 ] && ok || bad "restarts not counted"
for _ in $(seq 1 50); do [ "$(app_field hello pid)" != 0 ] && [ -n "$(via_router hello /.well-known/cloak/status)" ] && break; sleep 0.1; done
provision hello && wait_state hello running && ok || bad "provisioned again: $(cat "$T/prov.err")"
kill -9 "$NODE"
sleep 0.3
[ "$(via_router hello /healthz)" != ok ] && ok || bad "the router outlived its parent"
node_up
[ "$(app_field hello state)" = running ] && ok || bad "after cloakd's restart: $(cat "$T/body")"
for _ in $(seq 1 50); do [ "$(via_router hello /healthz)" = ok ] && break; sleep 0.1; done
[ "$(via_router hello /healthz)" = ok ] && ok || bad "hello serves without provisioning again"
grep -q "re-adopted, running" "$T/node.log" && ok || bad "not re-adopted"
$TOOL partial "$API" "$ALICE" "$T/other.body" 5 >"$T/part" &
for _ in $(seq 1 50); do grep -q sent "$T/part" && break; sleep 0.1; done
sleep 0.3
kill -9 "$NODE"
wait "$NODE" 2>/dev/null
node_up
[ "$(list_names)" = "hello web" ] && ok || bad "an upload cut by kill -9 left: $(list_names)"
[ "$(ls -A "$N/apps" | tr '\n' ' ')" = "hello web " ] && ok || bad "files left: $(ls -A "$N/apps")"

# ten deploys at once
for i in $(seq 0 9); do package "app$i"; done
CURLS=()
for i in $(seq 0 9); do
	curl -sk -o "$T/d$i" -w '%{http_code}' -H "Authorization: Bearer $ALICE" \
		--data-binary "@$T/app$i.body" "https://127.0.0.1:$API/v1/apps" >"$T/c$i" &
	CURLS+=($!)
done
wait "${CURLS[@]}"
n=0
for i in $(seq 0 9); do [ "$(cat "$T/c$i")" = 201 ] && n=$((n + 1)); done
[ $n = 10 ] && ok || bad "$n of ten concurrent deploys succeeded"
for i in $(seq 0 9); do wait_state "app$i" awaiting-provisioning || bad "app$i did not start"; done
api "$ALICE" POST /v1/apps/app0/stop
[ "$(code)" = 200 ] && [ "$(jget "$T/body" "d['state']")" = stopped ] && ok || bad "stop: $(code) $(cat "$T/body")"
for i in $(seq 1 9); do api "$ALICE" DELETE "/v1/apps/app$i"; [ "$(code)" = 200 ] || bad "delete app$i: $(code)"; done
[ "$(list_names)" = "app0 hello web" ] && ok || bad "after deletes: $(list_names)"
[ "$(ls -A "$N/apps" | tr '\n' ' ')" = "app0 hello web " ] && ok || bad "files after deletes: $(ls -A "$N/apps")"

# too many failed logins from one address: 429, and only for that address
for _ in $(seq 1 20); do
	printf "GET /v1/apps HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer %064d\r\n\r\n" 1 >"$T/guess"
	$TOOL raw "$API" "$T/guess" 127.0.0.2 >/dev/null
done
$TOOL raw "$API" "$T/guess" 127.0.0.2 >"$T/g.out"
[ "$(head -1 "$T/g.out")" = 429 ] && ok || bad "throttled: $(cat "$T/g.out")"
printf "GET /v1/apps HTTP/1.1\r\nHost: n\r\nAuthorization: Bearer %s\r\n\r\n" "$ALICE" >"$T/right"
$TOOL raw "$API" "$T/right" 127.0.0.2 >"$T/g.out"
[ "$(head -1 "$T/g.out")" = 429 ] && ok || bad "a throttled address got in with a right token"
api "$ALICE" GET /v1/apps
[ "$(code)" = 200 ] && ok || bad "another address was throttled too"

# a node without an operator certificate refuses an untrusted-ssl deploy, nothing made
RUN=(--data "$T/node2" --sim --public 127.0.0.1:0 --api 127.0.0.1:0 --runtime "$RUNTIME")
hp=$(app_field hello pid)
kill -TERM "$NODE"
wait "$NODE" 2>/dev/null
kill -0 "$hp" 2>/dev/null && ok || bad "SIGTERM to cloakd stopped the runtimes"
node_up
api "$(cat "$T/node2/admin.token")" POST /v1/apps --data-binary "@$T/web.body"
[ "$(code)" = 422 ] && grep -q "no --operator-cert" "$T/body" && ok || bad "untrusted-ssl without a cert: $(code) $(cat "$T/body")"
[ -z "$(ls -A "$T/node2/apps")" ] && ok || bad "a refused deploy left $(ls -A "$T/node2/apps")"
kill -TERM "$NODE"
wait "$NODE" 2>/dev/null

# --- collateral from a PCCS: fetched, cached, handed to the runtimes, refreshed on SIGHUP -----
COLL=$VECTORS/sgx-dcap/automata/collateral_qvlformat_2025-08.json
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=pccs \
	-keyout "$T/pccs.key" -out "$T/pccs.pem" 2>/dev/null
python3 "$(dirname "$0")/fake_pccs.py" "$COLL" "$T/pccs.pem" "$T/pccs.key" "$T/pccs.log" "$T/pccs.broken" >"$T/pccs.out" 2>&1 &
PIDS+=($!)
await_port "$T/pccs.out" "$T/pccs.out"
PCCS=https://127.0.0.1:$PORT
expect 2 "--pccs without --fmspc" -- "$CLOAKD" check --data "$T/node2" --pccs "$PCCS"
grep -q -- "--pccs and --fmspc go together" "$T/err" && ok || bad "fmspc: $(cat "$T/err")"
expect 2 "a bad --fmspc" -- "$CLOAKD" check --data "$T/node2" --pccs "$PCCS" --fmspc 00606A00000
grep -q -- "--fmspc: '00606A00000'" "$T/err" && ok || bad "fmspc named: $(cat "$T/err")"
touch "$T/pccs.broken"
RUN=(--data "$T/node2" --sim --public 127.0.0.1:0 --api 127.0.0.1:0 --runtime "$RUNTIME"
	--pccs "$PCCS" --fmspc 00606a000000)
expect 1 "a PCCS whose answer is not collateral, nothing cached" -- "$CLOAKD" run "${RUN[@]}"
grep -q "TCB-Info-Issuer-Chain" "$T/err" && ok || bad "the bad header named: $(cat "$T/err")"
rm "$T/pccs.broken"
node_up
C2=$T/node2/collateral/collateral.json
python3 -c "
import json; a = json.load(open('$C2')); b = json.load(open('$COLL'))
assert all(a[k] == b[k] for k in ('tcb_info', 'qe_identity', 'tcb_info_signature', 'qe_identity_signature')), 'differs'
" && ok || bad "the cached collateral is not the PCCS's"
grep -q "/tcb?fmspc=00606a000000" "$T/pccs.log" && ok || bad "the FMSPC was not asked for"
T2=$(cat "$T/node2/admin.token")
api "$T2" POST /v1/apps --data-binary "@$T/hello.body"
for _ in $(seq 100); do [ "$(api "$T2" GET /v1/apps/hello && jget "$T/body" "d['state']")" = awaiting-provisioning ] && break; sleep 0.1; done
grep -q -- "--collateral $T/node2/collateral" "/proc/$(jget "$T/body" "d['pid']")/cmdline" 2>/dev/null ||
	tr '\0' ' ' <"/proc/$(jget "$T/body" "d['pid']")/cmdline" | grep -q -- "--collateral $T/node2/collateral" &&
	ok || bad "the runtime was not given the node's collateral"
fetches=$(grep -c "/rootcacrl" "$T/pccs.log")
touch "$T/pccs.broken"
kill -HUP "$NODE"
for _ in $(seq 50); do grep -q "collateral not refreshed" "$T/node.log" && break; sleep 0.1; done
grep -q "collateral not refreshed" "$T/node.log" && ok || bad "a failed refresh not said"
[ -s "$C2" ] && ok || bad "a failed refresh lost the cache"
rm "$T/pccs.broken"
kill -HUP "$NODE"
for _ in $(seq 50); do grep -q "SIGHUP: collateral re-read" "$T/node2/apps/hello/runtime.log" && break; sleep 0.1; done
grep -q "SIGHUP: collateral re-read" "$T/node2/apps/hello/runtime.log" && ok || bad "the runtime was not told"
[ "$(grep -c "/rootcacrl" "$T/pccs.log")" -gt "$fetches" ] && ok || bad "SIGHUP did not fetch again"
kill -TERM "$NODE"
wait "$NODE" 2>/dev/null
finish
