# Helpers shared by the command-line tests (sourced): a scratch dir $T and a list $PIDS of
# background processes, both cleaned up at exit; expectations and a summary.
T=$(mktemp -d)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect CODE DESCRIPTION -- command...: runs it, output in $T/out and $T/err
expect() {
	local want=$1 desc=$2
	shift 3
	"$@" >"$T/out" 2>"$T/err"
	local got=$?
	if [ "$got" = "$want" ]; then ok; else bad "$desc: exit $got, want $want; stderr: $(head -c 300 "$T/err")"; fi
}
# free_port: a loopback port free now (a fixed port fails on a shared machine)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# jget FILE EXPR: a Python expression over the JSON document d in FILE
jget() { python3 -c "import json; d=json.load(open('$1')); print($2)"; }
# await_port OUT LOG: waits (5 s) for "listening on 127.0.0.1:PORT" in OUT, sets PORT
await_port() {
	for _ in $(seq 1 100); do
		PORT=$(sed -n 's/^listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$1" 2>/dev/null)
		[ -n "$PORT" ] && return 0
		sleep 0.05
	done
	echo "no 'listening on' in $1: $(cat "$2")" >&2
	return 1
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
