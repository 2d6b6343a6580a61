#!/usr/bin/env bash
# cloakd init / check / fingerprint / token as an operator uses them, against real files: the
# data directory made whole (modes, the API certificate whose SHA-256 is printed, the admin
# token written once), every bad invocation refused naming what is wrong, tokens never stored
# in clear.
# Then cloakd run: its router process, confined, passes TLS through by SNI to runtimes (here
# cloak sim serve), never showing the node's certificate; unknown names refused; a killed
# router comes back; SIGHUP reloads the routes.
# Usage: test_node_cli.sh CLOAKD_BINARY CLOAK_BINARY
set -u
CLOAKD=$1
CLOAK=$2
. "$(dirname "$0")/lib.sh"
N=$T/node

expect 0 "init a simulated node" -- "$CLOAKD" init --data "$N" --sim --domain node.test --json
[ "$(stat -c %a "$N")" = 700 ] && ok || bad "data dir mode $(stat -c %a "$N")"
[ "$(stat -c %a "$N/admin.token")" = 600 ] && ok || bad "admin.token mode"
[ "$(stat -c %a "$N/api.key")" = 600 ] && ok || bad "api.key mode"
grep -qx '[0-9a-f]\{64\}' "$N/admin.token" && ok || bad "admin.token is 64 hex digits"
[ -d "$N/sim" ] && [ -d "$N/apps" ] && ok || bad "sim PKI and apps"
fp=$(jget "$T/out" "d['api_sha256']")
[ "$(openssl x509 -in "$N/api.pem" -outform DER | sha256sum | cut -c1-64)" = "$fp" ] && ok ||
	bad "the printed fingerprint is the certificate's"
openssl x509 -in "$N/api.pem" -noout -ext subjectAltName | grep -q "DNS:node.test" && ok ||
	bad "the domain is in the API certificate"
expect 0 "fingerprint" -- "$CLOAKD" fingerprint --data "$N"
[ "$(cat "$T/out")" = "$fp" ] && ok || bad "fingerprint prints it again"
expect 2 "init over an existing directory" -- "$CLOAKD" init --data "$N"
grep -q "already exists" "$T/err" && ok || bad "named: $(cat "$T/err")"
ls -d "$T"/node.init-* >/dev/null 2>&1 && bad "a half-made directory was left" || ok
expect 2 "init with a domain that would add to the certificate's names" -- \
	"$CLOAKD" init --data "$T/node2" --domain "x.test,IP:192.0.2.1"
grep -q -- "--domain: 'x.test,IP:192.0.2.1' is not a DNS name" "$T/err" && ok || bad "domain named: $(cat "$T/err")"
[ -e "$T/node2" ] && bad "a refused init left $T/node2" || ok

# --- check: the whole invocation, nothing started ---------------------------------------
expect 0 "check a simulated node" -- "$CLOAKD" check --data "$N" --sim
expect 2 "a TEE node without collateral" -- "$CLOAKD" check --data "$N"
grep -q "needs --collateral" "$T/err" && ok || bad "collateral named: $(cat "$T/err")"
expect 2 "a bad public address" -- "$CLOAKD" check --data "$N" --sim --public 127.0.0.1:80x
grep -q -- "--public: '127.0.0.1:80x'" "$T/err" && ok || bad "address named: $(cat "$T/err")"
expect 2 "a first run with a bad address" -- "$CLOAKD" run --data "$T/fresh" --sim --public 127.0.0.1:80x
[ -e "$T/fresh" ] && bad "a refused first run made $T/fresh" || ok
expect 2 "a domain in upper case" -- "$CLOAKD" check --data "$N" --sim --domain Node.TEST
grep -q -- "--domain: 'Node.TEST' is not a DNS name" "$T/err" && ok || bad "domain named: $(cat "$T/err")"
P=$(free_port)
expect 2 "public and api on one address" -- "$CLOAKD" check --data "$N" --sim \
	--public 127.0.0.1:"$P" --api 127.0.0.1:"$P"
grep -q "are the same address '127.0.0.1:$P'" "$T/err" && ok || bad "clash named: $(cat "$T/err")"
expect 0 "port 0 for both: each its own" -- "$CLOAKD" check --data "$N" --sim \
	--public 127.0.0.1:0 --api 127.0.0.1:0
expect 2 "an operator certificate without its key" -- "$CLOAKD" check --data "$N" --sim \
	--operator-cert "$N/api.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=op \
	-keyout "$T/op.key" -out "$T/op.pem" 2>/dev/null
chmod 600 "$T/op.key"
expect 0 "the operator's certificate and key" -- "$CLOAKD" check --data "$N" --sim \
	--operator-cert "$T/op.pem" --operator-key "$T/op.key"
expect 2 "a key that is not the certificate's" -- "$CLOAKD" check --data "$N" --sim \
	--operator-cert "$T/op.pem" --operator-key "$N/api.key"
grep -q "is not the key of" "$T/err" && ok || bad "mismatch named: $(cat "$T/err")"
expect 2 "a PCCS that is not https" -- "$CLOAKD" check --data "$N" --pccs http://pccs.test/
expect 2 "an unknown option" -- "$CLOAKD" check --data "$N" --frobnicate
grep -q -- "--frobnicate" "$T/err" && ok || bad "option named: $(cat "$T/err")"

# --- tokens ---------------------------------------------------------------------------------
expect 0 "a token for alice" -- "$CLOAKD" token create alice --data "$N"
alice=$(cat "$T/out")
[[ $alice =~ ^[0-9a-f]{64}$ ]] && ok || bad "the token alone is printed: '$alice'"
expect 2 "a second token for alice" -- "$CLOAKD" token create alice --data "$N"
expect 2 "a name that is not an owner name" -- "$CLOAKD" token create Alice_1 --data "$N"
grep -q "'Alice_1' is not an owner name" "$T/err" && ok || bad "name quoted: $(cat "$T/err")"
expect 0 "list" -- "$CLOAKD" token list --data "$N" --json
[ "$(jget "$T/out" "[(t['name'], t['admin'], t['revoked']) for t in d]")" = \
	"[('admin', True, False), ('alice', False, False)]" ] && ok || bad "list: $(cat "$T/out")"
grep -q "$alice" "$T/out" && bad "a token in the list" || ok
expect 0 "revoke alice" -- "$CLOAKD" token revoke alice --data "$N"
expect 2 "revoke alice again" -- "$CLOAKD" token revoke alice --data "$N"
expect 0 "list after revoking" -- "$CLOAKD" token list --data "$N"
grep -q "alice.*REVOKED 20" "$T/out" && ok || bad "revoked shown, with when: $(cat "$T/out")"
expect 0 "list after revoking, as JSON" -- "$CLOAKD" token list --data "$N" --json
[ "$(jget "$T/out" "[(t['name'], t['revoked'], t['revoked_at'] is None) for t in d]")" = \
	"[('admin', False, True), ('alice', True, False)]" ] && ok || bad "revoked_at: $(cat "$T/out")"
expect 2 "revoke one with no token, as JSON" -- "$CLOAKD" token revoke bob --data "$N" --json
grep -q "'bob' has no live token" "$T/err" && ok || bad "bob named: $(cat "$T/err")"
cat "$N"/cloakd.db* | grep -qa "$alice\|$(cat "$N/admin.token")" && bad "a token in clear in the store" || ok

# --- a directory that is not as it must be -----------------------------------------------
chmod 755 "$N"
expect 2 "a data directory others can read" -- "$CLOAKD" fingerprint --data "$N"
grep -q "must be mode 0700" "$T/err" && ok || bad "mode named: $(cat "$T/err")"
chmod 700 "$N"
python3 -c "import sqlite3; c = sqlite3.connect('$N/cloakd.db'); c.execute('PRAGMA user_version = 42'); c.commit()"
expect 2 "a store from a newer cloakd" -- "$CLOAKD" check --data "$N" --sim
grep -q "schema 42" "$T/err" && ok || bad "schema named: $(cat "$T/err")"
expect 2 "no such directory" -- "$CLOAKD" fingerprint --data "$T/nowhere"

# --- cloakd run: the first run, the processes, a clean stop (deploys: test_node_api.sh) -------
R=$T/run
"$CLOAKD" run --data "$R" --sim --public 127.0.0.1:0 --api 127.0.0.1:0 >"$T/run.out" 2>"$T/run.log" &
NODE=$!
PIDS+=($NODE)
await_port "$T/run.out" "$T/run.log" && ok || bad "cloakd run did not start: $(cat "$T/run.log")"
grep -q "initialised $R" "$T/run.log" && ok || bad "the first run initialises the directory"
grep -q "(public) api 127.0.0.1:[0-9]* (sha256 $("$CLOAKD" fingerprint --data "$R"))" "$T/run.out" && ok ||
	bad "the API's address and fingerprint: $(cat "$T/run.out")"
for _ in $(seq 50); do [ "$(grep -c "confined (" "$T/run.log")" = 2 ] && break; sleep 0.1; done
[ "$(grep -c "confined (" "$T/run.log")" = 2 ] && ok || bad "router and api say how they are confined"
for role in router api; do
	p=$(pgrep -P "$NODE" -x "cloakd-$role")
	[ -n "$p" ] && ok || bad "no $role process"
	[ -z "$(ls -A "/proc/$p/root/" 2>/dev/null)" ] && ok || bad "the $role sees a file system"
done
expect 2 "a second cloakd on the same data directory's ports" -- "$CLOAKD" run --data "$R" --sim \
	--public "127.0.0.1:$PORT" --api 127.0.0.1:0
grep -q "127.0.0.1:$PORT" "$T/err" && ok || bad "the address in use named: $(cat "$T/err")"
kill -TERM "$NODE"
wait "$NODE"
[ $? = 0 ] && ok || bad "cloakd stops cleanly on SIGTERM"
[ -z "$(pgrep -P "$NODE")" ] && ok || bad "the router or api outlived cloakd"

finish
