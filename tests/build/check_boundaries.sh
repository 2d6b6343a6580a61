#!/usr/bin/env bash
# The module boundaries hold: each snippet is compiled with the include path a module (or a
# program) is built with (src/lib/CMakeLists.txt); what is declared builds, an include across a
# boundary that is not declared does not.
# Usage: check_boundaries.sh C_COMPILER SOURCE_DIR
set -u
CC=$1
S=$2
pass=0
fail=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
# flags_of MODULE: what src/lib/CMakeLists.txt gives it ("program": public headers only)
flags_of() {
	if [ "$1" = program ]; then
		echo "-I$S/include"
	else
		echo "-I$S/include -I$S/src/lib/$1 -I$S/src/lib/internal"
	fi
}
# expect builds|fails MODULE WHAT HEADER...
expect() {
	local want=$1 mod=$2 what=$3
	shift 3
	: >"$t/x.c"
	for h in "$@"; do echo "#include \"$h\"" >>"$t/x.c"; done
	echo "int ck_boundary_probe(void);" >>"$t/x.c"
	# shellcheck disable=SC2046
	if "$CC" -std=c17 -D_GNU_SOURCE -fsyntax-only $(flags_of "$mod") "$t/x.c" 2>"$t/err"; then got=builds; else got=fails; fi
	if [ "$got" = "$want" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL: $what: $got, want $want: $(head -c 300 "$t/err")" >&2
	fi
}
expect builds ratls "ratls uses the public API and the declared internal headers" \
	cloak/ratls.h util/json.h util/cbor.h evidence/x509util.h
expect builds evidence "evidence uses its own private headers" cert.h internal.h
expect builds package "package uses its own private headers" tarfmt.h ignore.h provision_internal.h
expect fails ratls "ratls reaching evidence's private cert.h by bare name" cert.h
expect fails ratls "ratls reaching evidence's private cert.h by path" evidence/cert.h
expect fails front "the front reaching package's private ignore.h" ignore.h
expect fails front "the front reaching package's private tar.h by path" package/tarfmt.h
expect fails util "util reaching a module above it" cert.h
expect fails program "a program reaching the internal JSON reader" util/json.h
expect fails program "a program reaching a module's private header" evidence/cert.h
expect builds program "a program uses the public headers" cloak/proxy.h cloak/package.h cloak/ratls.h
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
