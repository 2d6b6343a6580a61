# Helpers shared by the command-line tests (sourced). Set T (a scratch dir) first.
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
# jget FILE EXPR: a Python expression over the JSON document d in FILE
jget() { python3 -c "import json; d=json.load(open('$1')); print($2)"; }
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" = 0 ]
}
