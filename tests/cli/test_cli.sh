#!/usr/bin/env bash
# The cloak command line as scripts use it: exit codes (0 accepted, 1 rejected, 2 usage or
# unreadable input), --json fields, files written, and the sim flow end to end.
# Usage: test_cli.sh CLOAK_BINARY VECTORS_DIR
set -u
CLOAK=$1
V=$2
. "$(dirname "$0")/lib.sh"

Q=$V/sgx-dcap/dcap-qvl/sgx_quote.bin
C=$V/sgx-dcap/dcap-qvl/sgx_quote_collateral.json
AT=2025-06-20T00:00:00Z

# --- help and usage ---------------------------------------------------------------------
expect 0 "top-level --help" -- "$CLOAK" --help
grep -q "quote" "$T/out" && ok || bad "--help lists commands"
expect 0 "--version" -- "$CLOAK" --version
expect 2 "no arguments" -- "$CLOAK"
expect 2 "unknown command" -- "$CLOAK" frobnicate
grep -q "frobnicate" "$T/err" && ok || bad "unknown command is named"
expect 0 "quote verify --help" -- "$CLOAK" quote verify --help
expect 2 "quote verify without args" -- "$CLOAK" quote verify
expect 2 "missing collateral" -- "$CLOAK" quote verify "$Q"
expect 2 "unreadable quote" -- "$CLOAK" quote verify "$T/nope.bin" --collateral "$C"
grep -q "nope.bin" "$T/err" && ok || bad "unreadable file is named"
expect 2 "bad --at" -- "$CLOAK" quote verify "$Q" --collateral "$C" --at yesterday
grep -q "yesterday" "$T/err" && ok || bad "bad --at value is quoted"
echo '{"alow_debug": true}' >"$T/typo.json"
expect 2 "policy with unknown key" -- "$CLOAK" quote verify "$Q" --collateral "$C" --policy "$T/typo.json"
grep -q "alow_debug" "$T/err" && ok || bad "policy typo is named"

# --- a real vector -------------------------------------------------------------------------
expect 1 "default policy rejects ConfigurationAndSWHardeningNeeded" -- \
	"$CLOAK" quote verify "$Q" --collateral "$C" --at $AT --json
cp "$T/out" "$T/v.json"
for f in verdict tee simulated quote_version tcb_status advisories mrenclave mrsigner isv_prod_id \
	isv_svn debug report_data fmspc errors; do
	[ "$(jget "$T/v.json" "'$f' in d")" = True ] && ok || bad "--json lacks $f"
done
[ "$(jget "$T/v.json" "d['tcb_status']")" = ConfigurationAndSWHardeningNeeded ] && ok || bad "tcb_status"
[ "$(jget "$T/v.json" "d['verdict']")" = rejected ] && ok || bad "verdict rejected"
[ "$(jget "$T/v.json" "d['errors'][0]['code']")" = policy.tcb_status ] && ok || bad "error code"
[ "$(jget "$T/v.json" "d['simulated']")" = False ] && ok || bad "not simulated"

cat >"$T/pol.json" <<P
{"mrenclave": ["33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb"],
 "accepted_tcb_statuses": ["ConfigurationAndSWHardeningNeeded"],
 "accepted_advisories": ["INTEL-SA-00289", "INTEL-SA-00615"]}
P
expect 0 "policy accepting it" -- "$CLOAK" quote verify "$Q" --collateral "$C" --at $AT --policy "$T/pol.json"
grep -q "^ACCEPTED" "$T/out" && ok || bad "text verdict ACCEPTED"
sed 's/33d8/33d9/' "$T/pol.json" >"$T/pol2.json"
expect 1 "measurement outside the policy" -- "$CLOAK" quote verify "$Q" --collateral "$C" --at $AT --policy "$T/pol2.json" --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = policy.measurement ] && ok || bad "policy.measurement"
expect 1 "after the window" -- "$CLOAK" quote verify "$Q" --collateral "$C" --at 2025-07-19T10:01:19Z --policy "$T/pol.json" --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = time.expired ] && ok || bad "time.expired"
expect 1 "before the window" -- "$CLOAK" quote verify "$Q" --collateral "$C" --at 2025-06-19T10:56:10Z --policy "$T/pol.json" --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = time.not_yet_valid ] && ok || bad "time.not_yet_valid"

# a truncated quote is invalid evidence (1), with a JSON error naming the offset
head -c 2000 "$Q" >"$T/trunc.bin"
expect 1 "truncated quote" -- "$CLOAK" quote verify "$T/trunc.bin" --collateral "$C" --at $AT --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = quote.truncated ] && ok || bad "quote.truncated"
# an oversized input is refused before it is parsed
head -c 3000000 /dev/zero >"$T/huge.bin"
expect 2 "oversized quote file" -- "$CLOAK" quote verify "$T/huge.bin" --collateral "$C"

# raw PCS responses -> collateral -> same verdict
R=$V/sgx-dcap/dcap-rs
expect 0 "collateral import" -- "$CLOAK" collateral import --tcb-info $R/tcbinfov2.json \
	--qe-identity $R/qeidentityv2.json --root-crl $R/intel_root_ca_crl.der \
	--pck-crl $R/pck_platform_crl.der --tcb-chain $R/tcb_signing_cert.pem -o "$T/imp.json"
expect 1 "imported collateral appraises" -- "$CLOAK" quote verify $R/quote_v3_sgx.bin --collateral "$T/imp.json" --at 2025-02-13T04:00:32Z --json
[ "$(jget "$T/out" "d['tcb_status']")" = OutOfDate ] && ok || bad "imported collateral status"

# --- inspect ---------------------------------------------------------------------------------
expect 0 "inspect quote" -- "$CLOAK" inspect "$Q" --json
[ "$(jget "$T/out" "d['enclave']['mrenclave']")" = 33d8736db756ed4997e04ba358d27833188f1932ff7b1d156904d3f560452fbb ] && ok || bad "inspect mrenclave"
expect 0 "inspect TDX v5 quote" -- "$CLOAK" inspect $V/tdx/dcap-qvl/tdx_quote_outdated_v5.bin --json
[ "$(jget "$T/out" "d['tee']")" = tdx ] && ok || bad "inspect tdx"
expect 0 "inspect collateral" -- "$CLOAK" inspect "$C" --json
[ "$(jget "$T/out" "d['tcb_info']['fmspc']")" = 00a067110000 ] && ok || bad "inspect collateral fmspc"
expect 0 "inspect root cert" -- "$CLOAK" inspect $V/roots/Intel_SGX_Root_CA.der --json
expect 1 "inspect garbage" -- "$CLOAK" inspect "$T/huge.bin"

# --- the simulation PKI ------------------------------------------------------------------------
expect 0 "sim init" -- "$CLOAK" sim init "$T/pki"
expect 2 "sim init refuses an existing dir" -- "$CLOAK" sim init "$T/pki"
[ "$(stat -c %a "$T/pki/root.key")" = 600 ] && ok || bad "sim keys are 0600"
grep -q "NOT A REAL TEE" <("$CLOAK" inspect "$T/pki/root.pem") && ok || bad "sim root says NOT A REAL TEE"
expect 0 "sim quote" -- "$CLOAK" sim quote --pki "$T/pki" -o "$T/sq.bin" --mrenclave $(printf 'ab%.0s' {1..32}) --report-data 0102
expect 0 "sim collateral" -- "$CLOAK" sim collateral --pki "$T/pki" -o "$T/sc.json"
expect 1 "sim quote without --allow-simulation" -- "$CLOAK" quote verify "$T/sq.bin" --collateral "$T/sc.json" --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = root.simulation ] && ok || bad "root.simulation"
expect 0 "sim quote with --allow-simulation" -- "$CLOAK" quote verify "$T/sq.bin" --collateral "$T/sc.json" --allow-simulation --json
[ "$(jget "$T/out" "d['simulated']")" = True ] && ok || bad "simulated: true"
[ "$(jget "$T/out" "d['report_data'][:4]")" = 0102 ] && ok || bad "report data"
expect 0 "sim text output says SIMULATED" -- "$CLOAK" quote verify "$T/sq.bin" --collateral "$T/sc.json" --allow-simulation
grep -q SIMULATED "$T/out" && ok || bad "text says SIMULATED"
expect 0 "sim bundle" -- "$CLOAK" sim quote --pki "$T/pki" -o "$T/b.json" --bundle --tcb-status SWHardeningNeeded
expect 1 "bundle carries its collateral" -- "$CLOAK" quote verify "$T/b.json" --allow-simulation --json
[ "$(jget "$T/out" "d['tcb_status']")" = SWHardeningNeeded ] && ok || bad "bundle status"
expect 0 "revoke collateral" -- "$CLOAK" sim collateral --pki "$T/pki" -o "$T/rev.json" --revoke-pck-of "$T/sq.bin"
expect 1 "revoked PCK" -- "$CLOAK" quote verify "$T/sq.bin" --collateral "$T/rev.json" --allow-simulation --json
[ "$(jget "$T/out" "d['errors'][0]['code']")" = cert.pck_revoked ] && ok || bad "cert.pck_revoked"
expect 2 "sim quote bad hex" -- "$CLOAK" sim quote --pki "$T/pki" -o "$T/x.bin" --mrenclave xyz
grep -q xyz "$T/err" && ok || bad "bad hex is quoted"
[ ! -e "$T/x.bin" ] && ok || bad "no output written on error"
expect 2 "sim quote bad status" -- "$CLOAK" sim quote --pki "$T/pki" -o "$T/x.bin" --tcb-status Great

finish
