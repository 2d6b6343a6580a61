/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "cloak/policy.h"
#include "testutil.h"

static int parse(const char *s, struct ck_policy *p, struct ck_err *e)
{
	return ck_policy_parse(s, strlen(s), p, e);
}

static void test_parse(void **s)
{
	(void)s;
	struct ck_policy p;
	struct ck_err e;
	assert_int_equal(parse("{}", &p, &e), 0);
	assert_int_equal(p.accepted_statuses, 1u << CK_TCB_UP_TO_DATE);
	assert_false(ck_policy_measured(&p));
	ck_policy_free(&p);
	assert_int_equal(parse("{\"accepted_tcb_statuses\":[\"UpToDate\",\"SWHardeningNeeded\"],"
			       "\"accepted_advisories\":[\"INTEL-SA-00615\"],\"allow_debug\":true}",
			       &p, &e),
			 0);
	assert_true(p.accepted_statuses & (1u << CK_TCB_SW_HARDENING_NEEDED));
	assert_int_equal(p.n_advisories, 1);
	assert_true(p.allow_debug);
	ck_policy_free(&p);
	const struct {
		const char *json, *needle;
	} bad[] = {
		{"{\"alow_debug\":true}", "alow_debug"}, /* typo: refused, never ignored */
		{"{\"allow_debug\":1}", "allow_debug"},
		{"{\"accepted_tcb_statuses\":[\"Fine\"]}", "accepted_tcb_statuses"},
		{"{\"accepted_tcb_statuses\":[\"Revoked\"]}", "Revoked"},
		{"{\"mrenclave\":[\"abcd\"]}", "mrenclave"},
		{"{\"signers\":[{\"mrsigner\":\"00\"}]}", "mrsigner"},
		{"{\"signers\":[{\"mrsigner\":\"0000000000000000000000000000000000000000000000000000000000000000\"}]}",
		 "isv_prod_id"},
		{"{\"signers\":[{\"mrsigner\":\"0000000000000000000000000000000000000000000000000000000000000000\","
		 "\"isv_prod_id\":1,\"extra\":2}]}",
		 "extra"},
		{"[]", "object"},
		{"{", "JSON"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse(bad[i].json, &p, &e), -1);
		assert_string_equal(e.code, CK_E_POLICY_FORMAT);
		if (!strstr(e.msg, bad[i].needle))
			fail_msg("'%s': message '%s' lacks '%s'", bad[i].json, e.msg, bad[i].needle);
	}
}

static void test_check(void **s)
{
	(void)s;
	struct ck_policy p;
	struct ck_appraisal a;
	struct ck_err errs[8];
	memset(&a, 0, sizeof(a));
	a.valid = true;
	a.tcb_status = CK_TCB_SW_HARDENING_NEEDED;
	strcpy(a.advisories[0], "INTEL-SA-00615");
	strcpy(a.advisories[1], "INTEL-SA-00289");
	a.n_advisories = 2;
	assert_int_equal(parse("{\"accepted_tcb_statuses\":[\"SWHardeningNeeded\"],"
			       "\"accepted_advisories\":[\"INTEL-SA-00615\"]}",
			       &p, NULL),
			 0);
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	assert_string_equal(errs[0].code, CK_E_POL_ADVISORY);
	assert_non_null(strstr(errs[0].msg, "INTEL-SA-00289"));
	ck_policy_free(&p);
	assert_int_equal(parse("{\"accepted_tcb_statuses\":[\"SWHardeningNeeded\"],"
			       "\"accepted_advisories\":[\"*\"]}",
			       &p, NULL),
			 0);
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 0);
	/* every violated rule is reported, not just the first */
	a.debug = true;
	a.simulated = true;
	a.tcb_status = CK_TCB_OUT_OF_DATE;
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 3);
	ck_policy_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse), cmocka_unit_test(test_check)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
