#!/usr/bin/env bash
# The owner's node commands (cloak list, status, stop, rm) against a real cloakd: the node's API
# certificate pinned on first use and a changed one refused loudly, the token never from the
# command line, each refusal of the node quoted with its status, exit codes as documented.
# Usage: test_owner_cli.sh CLOAKD CLOAK CLOAK_RUNTIME EXAMPLES_DIR
set -u
CLOAKD=$1
CLOAK=$2
RUNTIME=$3
EXAMPLES=$4
. "$(dirname "$0")/lib.sh"
TOOL="python3 $(dirname "$0")/nodetool.py"
N=$T/node
export CLOAK_CONFIG_DIR=$T/owner
unset CLOAK_NODE CLOAK_TOKEN
"$CLOAKD" run --data "$N" --sim --public 127.0.0.1:0 --api 127.0.0.1:0 --runtime "$RUNTIME" \
	>"$T/node.out" 2>"$T/node.log" &
NODE=$!
PIDS+=("$NODE")
trap 'pkill -KILL -f "cloak-runtime --package $N/apps/" 2>/dev/null; cleanup' EXIT
for _ in $(seq 100); do
	PUB=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$T/node.out")
	API=$(sed -n 's/.* api 127.0.0.1:\([0-9]*\).*/\1/p' "$T/node.out")
	[ -n "$API" ] && break
	sleep 0.05
done
ALICE=$("$CLOAKD" token create alice --data "$N")
BOB=$("$CLOAKD" token create bob --data "$N")
"$CLOAK" package "$EXAMPLES/hello" -o "$T/hello.pkg" --manifest-out "$T/hello.manifest" \
	--name hello --run ./server --health /healthz >/dev/null 2>&1
$TOOL body "$T/hello.manifest" "$T/hello.pkg" "$T/hello.body"
curl -sk -o /dev/null -H "Authorization: Bearer $ALICE" --data-binary "@$T/hello.body" \
	"https://127.0.0.1:$API/v1/apps"
URL=https://127.0.0.1:$API

expect 2 "no node" -- "$CLOAK" list
grep -q "no node: give --node URL or set \$CLOAK_NODE" "$T/err" && ok || bad "no node: $(cat "$T/err")"
expect 2 "no token" -- "$CLOAK" list --node "$URL"
grep -q "no token" "$T/err" && ok || bad "no token: $(cat "$T/err")"
expect 2 "an http node" -- "$CLOAK" list --node "http://127.0.0.1:$API"
export CLOAK_NODE=$URL CLOAK_TOKEN=$ALICE
expect 0 "list, first use" -- "$CLOAK" list
grep -q "pinned the node's API certificate (sha256 $("$CLOAKD" fingerprint --data "$N"))" "$T/err" && ok ||
	bad "first use pins: $(cat "$T/err")"
PIN=$(ls "$T/owner/nodes/"*.sha256)
[ "$(stat -c %a "$PIN")" = 600 ] && ok || bad "the pin's mode"
grep -q "^hello .*starting\|^hello .*awaiting-provisioning" "$T/out" && ok || bad "list: $(cat "$T/out")"
expect 0 "list again, as JSON" -- "$CLOAK" list --json
[ "$(jget "$T/out" "[a['name'] for a in d]")" = "['hello']" ] && ok || bad "list --json: $(cat "$T/out")"
grep -q pinned "$T/err" && bad "pinned twice" || ok
for _ in $(seq 100); do "$CLOAK" status hello --json >"$T/st" 2>/dev/null; [ "$(jget "$T/st" "d['state']")" = awaiting-provisioning ] && break; sleep 0.1; done
expect 0 "status" -- "$CLOAK" status hello
grep -q "^hello: awaiting-provisioning" "$T/out" && grep -q "SIMULATED" "$T/out" && ok || bad "status: $(cat "$T/out")"
cp "$PIN" "$T/pin.good"
printf '%064d\n' 0 >"$PIN"
expect 1 "a changed certificate" -- "$CLOAK" list
grep -q "THE NODE'S API CERTIFICATE CHANGED" "$T/err" && ok || bad "changed: $(cat "$T/err")"
cp "$T/pin.good" "$PIN"
expect 1 "another --node-fingerprint" -- "$CLOAK" list --node-fingerprint "$(printf '%064d' 1)"
grep -q "not the --node-fingerprint given" "$T/err" && ok || bad "fingerprint: $(cat "$T/err")"
expect 0 "the right --node-fingerprint" -- "$CLOAK" list --node-fingerprint "$("$CLOAKD" fingerprint --data "$N")"
CLOAK_TOKEN=$BOB expect 1 "another owner's app" -- "$CLOAK" status hello
grep -q "(404 not_found): no app 'hello'" "$T/err" && ok || bad "bob: $(cat "$T/err")"
expect 2 "not an app name" -- "$CLOAK" status Hello
"$CLOAKD" token revoke bob --data "$N" >/dev/null
CLOAK_TOKEN=$BOB expect 1 "a revoked token" -- "$CLOAK" list
grep -q "(401 auth)" "$T/err" && ok || bad "revoked: $(cat "$T/err")"
printf '%s\n' "$ALICE" >"$T/token"
chmod 644 "$T/token"
CLOAK_TOKEN= expect 2 "a token file others can read" -- "$CLOAK" list --token-file "$T/token"
grep -q "chmod 600" "$T/err" && ok || bad "token mode: $(cat "$T/err")"
chmod 600 "$T/token"
CLOAK_TOKEN= expect 0 "a token file" -- "$CLOAK" list --token-file "$T/token"
# logs: provisioned through the router, called, its output opened by its owner alone
"$CLOAK" provision "hello.localhost:$PUB" --manifest "$T/hello.manifest" --package-key "$T/hello.pkg.key" \
	--allow-simulation >/dev/null 2>&1 && ok || bad "provision"
for _ in $(seq 100); do "$CLOAK" status hello --json >"$T/st" 2>/dev/null; [ "$(jget "$T/st" "d['state']")" = running ] && break; sleep 0.1; done
MARK="marker-$RANDOM$RANDOM"
curl -sk --resolve "hello.localhost:$PUB:127.0.0.1" "https://hello.localhost:$PUB/$MARK" >/dev/null
sleep 0.5
expect 0 "logs" -- "$CLOAK" logs hello --log-key "$T/hello.pkg.logkey"
grep -q "GET /$MARK" "$T/out" && ok || bad "logs: $(cat "$T/out") $(cat "$T/err")"
expect 0 "logs --raw" -- "$CLOAK" logs hello --log-key "$T/hello.pkg.logkey" --raw
grep -q "cloak-log 1 " "$T/out" && ! grep -q "$MARK" "$T/out" && ok || bad "raw logs show the output in clear"
"$CLOAK" package "$EXAMPLES/hello" -o "$T/other.pkg" --manifest-out "$T/other.manifest" \
	--name other --run ./server --health /healthz >/dev/null 2>&1
expect 1 "logs with another app's key" -- "$CLOAK" logs hello --log-key "$T/other.pkg.logkey"
grep -q "does not agree\|does not open" "$T/err" && ! grep -q "$MARK" "$T/out" && ok || bad "other key: $(cat "$T/err")"
expect 0 "stop" -- "$CLOAK" stop hello
grep -q "^hello: stopped" "$T/out" && ok || bad "stop: $(cat "$T/out")"
expect 2 "rm without -y" -- "$CLOAK" rm hello
grep -q "add -y" "$T/err" && ok || bad "rm: $(cat "$T/err")"
expect 0 "rm -y" -- "$CLOAK" rm hello -y
expect 0 "list after rm" -- "$CLOAK" list --json
[ "$(cat "$T/out")" = "[]" ] && ok || bad "after rm: $(cat "$T/out")"
expect 1 "rm what is gone" -- "$CLOAK" rm hello -y
grep -q "404" "$T/err" && ok || bad "gone: $(cat "$T/err")"
finish
