/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The simulation PKI issues real SGX v3 quotes and collateral in Intel's formats: every TCB
 * status, and every failure the appraisal can report, through the same code as hardware.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/appraise.h"
#include "cloak/policy.h"
#include "cloak/sim.h"
#include "testutil.h"

struct fx {
	char *dir, *dir2;
	struct ck_sim_pki *pki, *other;
	ck_time_t now;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ck_err e;
	f->now = tu_time("2026-03-01T12:00:00Z");
	f->dir = tu_tmpname("simpki");
	f->dir2 = tu_tmpname("simpki2");
	if (ck_sim_init(f->dir, f->now, &e) < 0 || ck_sim_load(f->dir, &f->pki, &e) < 0 ||
	    ck_sim_init(f->dir2, f->now, &e) < 0 || ck_sim_load(f->dir2, &f->other, &e) < 0)
		fail_msg("sim init: %s", e.msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ck_sim_free(f->pki);
	ck_sim_free(f->other);
	tu_rm(f->dir);
	tu_rm(f->dir2);
	free(f->dir);
	free(f->dir2);
	free(f);
	return 0;
}

/* Issues a quote and default collateral, appraises at now with simulation allowed. */
static int appraise(struct fx *f, struct ck_sim_pki *qpki, const struct ck_sim_quote_opts *qo,
		    const struct ck_sim_collateral_opts *co_in, bool allow_sim,
		    struct ck_appraisal *a)
{
	uint8_t *q;
	size_t len;
	struct ck_collateral c;
	struct ck_sim_collateral_opts co;
	struct ck_err e;
	if (co_in)
		co = *co_in;
	else
		ck_sim_collateral_opts_default(&co, f->now);
	assert_int_equal(ck_sim_quote(qpki, qo, &q, &len, &e), 0);
	assert_int_equal(ck_sim_collateral(f->pki, &co, &c, &e), 0);
	struct ck_appraise_opts o = {.at = f->now, .allow_simulation = allow_sim};
	int r = ck_appraise_raw(q, len, &c, &o, a);
	ck_collateral_free(&c);
	free(q);
	return r;
}

static void test_every_status_pass_and_fail(void **state)
{
	struct fx *f = *state;
	static const enum ck_tcb_status all[] = {
	    CK_TCB_UP_TO_DATE,
	    CK_TCB_SW_HARDENING_NEEDED,
	    CK_TCB_CONFIGURATION_NEEDED,
	    CK_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	    CK_TCB_OUT_OF_DATE,
	    CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	    CK_TCB_REVOKED,
	};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		struct ck_sim_quote_opts qo;
		struct ck_appraisal a;
		struct ck_err errs[CK_POLICY_MAX_VIOLATIONS];
		ck_sim_quote_opts_default(&qo, f->now);
		qo.pck_svn = (uint8_t)ck_sim_svn_for_status(all[i]);
		assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
		assert_true(a.simulated);
		assert_int_equal(a.tcb_status, all[i]);
		assert_int_equal(a.n_advisories > 0, all[i] != CK_TCB_UP_TO_DATE);

		/* passing case: a policy that accepts this status and its advisories */
		struct ck_policy p;
		char js[256];
		snprintf(js, sizeof(js),
			 "{\"accepted_tcb_statuses\":[\"%s\"],\"accepted_advisories\":[\"*\"],"
			 "\"allow_simulation\":true}",
			 ck_tcb_status_name(all[i]));
		if (all[i] == CK_TCB_REVOKED) {
			/* Revoked can never be accepted: the policy itself is refused */
			assert_int_equal(ck_policy_parse(js, strlen(js), &p, NULL), -1);
		} else {
			assert_int_equal(ck_policy_parse(js, strlen(js), &p, NULL), 0);
			assert_int_equal(ck_policy_check(&p, &a, errs, 8), 0);
			ck_policy_free(&p);
		}
		/* failing case: the default policy (or one without simulation) */
		ck_policy_default(&p);
		p.allow_simulation = true;
		size_t n = ck_policy_check(&p, &a, errs, 8);
		if (all[i] == CK_TCB_UP_TO_DATE) {
			assert_int_equal(n, 0);
			p.allow_simulation = false;
			assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
			assert_string_equal(errs[0].code, CK_E_POL_SIMULATION);
		} else {
			assert_true(n >= 1);
			assert_string_equal(errs[0].code, CK_E_POL_STATUS);
		}
	}
}

static void test_qe_status_convergence(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	qo.qe_svn = 6; /* QE OutOfDate: UpToDate platform becomes OutOfDate */
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
	assert_int_equal(a.qe_status, CK_TCB_OUT_OF_DATE);
	assert_int_equal(a.platform_status, CK_TCB_UP_TO_DATE);
	assert_int_equal(a.tcb_status, CK_TCB_OUT_OF_DATE);
	qo.pck_svn = (uint8_t)ck_sim_svn_for_status(CK_TCB_CONFIGURATION_NEEDED);
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
	assert_int_equal(a.tcb_status, CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
	qo.qe_svn = 4; /* QE Revoked */
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
	assert_int_equal(a.tcb_status, CK_TCB_REVOKED);
	qo.qe_svn = 3; /* below every QE level */
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_TCB_NO_MATCH);
	assert_non_null(strstr(a.error.msg, "QE ISVSVN 3"));
}

static void test_no_matching_platform_level(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	qo.pck_svn = 1;
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_TCB_NO_MATCH);
}

static void test_sim_needs_allow(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	assert_int_equal(appraise(f, f->pki, &qo, NULL, false, &a), -1);
	assert_string_equal(a.error.code, CK_E_SIM_NOT_ALLOWED);
	assert_false(a.valid);
}

static void test_quote_from_another_root(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	assert_int_equal(appraise(f, f->other, &qo, NULL, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_ROOT_UNTRUSTED);
	/* and a sim quote against real Intel collateral */
	uint8_t *q;
	size_t len;
	struct ck_collateral c;
	assert_int_equal(ck_sim_quote(f->pki, &qo, &q, &len, NULL), 0);
	tu_collateral("sgx-dcap/dcap-qvl/sgx_quote_collateral.json", &c);
	struct ck_appraise_opts o = {.at = tu_time("2025-06-20T00:00:00Z"),
				     .allow_simulation = true};
	assert_int_equal(ck_appraise_raw(q, len, &c, &o, &a), -1);
	assert_string_equal(a.error.code, CK_E_ROOT_UNTRUSTED);
	assert_false(a.simulated);
	ck_collateral_free(&c);
	free(q);
}

static void test_revoked_pck_and_ca(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_sim_collateral_opts co;
	struct ck_appraisal a;
	uint8_t *q, serial[32];
	size_t len, slen;
	ck_sim_quote_opts_default(&qo, f->now);
	assert_int_equal(ck_sim_quote(f->pki, &qo, &q, &len, NULL), 0);
	assert_int_equal(ck_sim_quote_pck_serial(q, len, serial, sizeof(serial), &slen, NULL), 0);
	ck_sim_collateral_opts_default(&co, f->now);
	co.revoke_serial = serial;
	co.revoke_serial_len = slen;
	struct ck_collateral c;
	assert_int_equal(ck_sim_collateral(f->pki, &co, &c, NULL), 0);
	struct ck_appraise_opts o = {.at = f->now, .allow_simulation = true};
	assert_int_equal(ck_appraise_raw(q, len, &c, &o, &a), -1);
	assert_string_equal(a.error.code, CK_E_PCK_REVOKED);
	ck_collateral_free(&c);
	/* the same CRL does not touch another PCK leaf */
	uint8_t *q2;
	size_t len2;
	assert_int_equal(ck_sim_quote(f->pki, &qo, &q2, &len2, NULL), 0);
	assert_int_equal(ck_sim_collateral(f->pki, &co, &c, NULL), 0);
	assert_int_equal(ck_appraise_raw(q2, len2, &c, &o, &a), 0);
	ck_collateral_free(&c);
	/* a revoked PCK CA */
	ck_sim_collateral_opts_default(&co, f->now);
	co.revoke_pck_ca = true;
	assert_int_equal(ck_sim_collateral(f->pki, &co, &c, NULL), 0);
	assert_int_equal(ck_appraise_raw(q, len, &c, &o, &a), -1);
	assert_string_equal(a.error.code, CK_E_CA_REVOKED);
	ck_collateral_free(&c);
	free(q);
	free(q2);
}

static void test_other_fmspc(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_sim_collateral_opts co;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	ck_sim_collateral_opts_default(&co, f->now);
	co.has_fmspc = true;
	memcpy(co.fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
	assert_int_equal(appraise(f, f->pki, &qo, &co, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_TCB_INFO_MISMATCH);
}

static void test_collateral_dates(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_sim_collateral_opts co;
	struct ck_appraisal a;
	ck_sim_quote_opts_default(&qo, f->now);
	co.issued = f->now - 40 * 86400; /* expired ten days ago */
	co.next_update = f->now - 10 * 86400;
	co.has_fmspc = false;
	co.revoke_serial = NULL;
	co.revoke_pck_ca = false;
	assert_int_equal(appraise(f, f->pki, &qo, &co, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_EXPIRED);
	co.issued = f->now + 86400; /* issued tomorrow */
	co.next_update = f->now + 30 * 86400;
	assert_int_equal(appraise(f, f->pki, &qo, &co, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_NOT_YET_VALID);
}

static void test_debug_and_measurement_policy(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	struct ck_policy p;
	struct ck_err errs[8];
	ck_sim_quote_opts_default(&qo, f->now);
	memset(qo.mrenclave, 0xab, 32);
	memset(qo.mrsigner, 0xcd, 32);
	qo.isv_prod_id = 7;
	qo.isv_svn = 3;
	qo.debug = true;
	memcpy(qo.report_data, "nonce-1234", 10);
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
	assert_true(a.debug);
	assert_memory_equal(a.enclave.report_data, "nonce-1234", 10);
	const char *ok =
	    "{\"mrenclave\":[\"abababababababababababababababababababababababababababababababab\"],"
	    "\"allow_simulation\":true}";
	assert_int_equal(ck_policy_parse(ok, strlen(ok), &p, NULL), 0);
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	assert_string_equal(errs[0].code, CK_E_POL_DEBUG);
	p.allow_debug = true;
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 0);
	p.mrenclave[0][0] ^= 1; /* a measurement outside the policy */
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	assert_string_equal(errs[0].code, CK_E_POL_MEASUREMENT);
	ck_policy_free(&p);
	/* signer rule: MRSIGNER + ISVPRODID + minimum ISVSVN */
	const char *sig = "{\"signers\":[{\"mrsigner\":"
			  "\"cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd\","
			  "\"isv_prod_id\":7,\"min_isv_svn\":3}],\"allow_simulation\":true,"
			  "\"allow_debug\":true}";
	assert_int_equal(ck_policy_parse(sig, strlen(sig), &p, NULL), 0);
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 0);
	p.signers[0].min_isv_svn = 4;
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	assert_string_equal(errs[0].code, CK_E_POL_MEASUREMENT);
	p.signers[0].min_isv_svn = 3;
	p.signers[0].isv_prod_id = 8;
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	ck_policy_free(&p);
}

static void test_v4_sgx_quote(void **state)
{
	struct fx *f = *state;
	struct ck_sim_quote_opts qo;
	struct ck_appraisal a;
	uint8_t *q;
	size_t len;
	struct ck_quote parsed;
	ck_sim_quote_opts_default(&qo, f->now);
	qo.version = 4;
	memset(qo.mrenclave, 0x42, 32);
	assert_int_equal(ck_sim_quote(f->pki, &qo, &q, &len, NULL), 0);
	assert_int_equal(ck_quote_parse(q, len, &parsed, NULL), 0);
	assert_int_equal(parsed.version, 4);
	assert_int_equal(parsed.body_type, CK_BODY_SGX);
	assert_int_equal(parsed.signed_len, CK_SGX_SIGNED_LEN);
	assert_int_equal(parsed.cert_type, CK_CERT_PCK_CHAIN);
	free(q);
	assert_int_equal(appraise(f, f->pki, &qo, NULL, true, &a), 0);
	assert_int_equal(a.quote_version, 4);
	assert_int_equal(a.enclave.mrenclave[0], 0x42);
	assert_int_equal(a.tcb_status, CK_TCB_UP_TO_DATE);
}

static void test_init_refuses_existing(void **state)
{
	struct fx *f = *state;
	struct ck_err e;
	assert_int_equal(ck_sim_init(f->dir, f->now, &e), -1);
	assert_string_equal(e.code, CK_E_USAGE);
	/* keys are private */
	char path[4200];
	struct stat st;
	snprintf(path, sizeof(path), "%s/root.key", f->dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 077, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_status_pass_and_fail),
	    cmocka_unit_test(test_qe_status_convergence),
	    cmocka_unit_test(test_no_matching_platform_level),
	    cmocka_unit_test(test_sim_needs_allow),
	    cmocka_unit_test(test_quote_from_another_root),
	    cmocka_unit_test(test_revoked_pck_and_ca),
	    cmocka_unit_test(test_other_fmspc),
	    cmocka_unit_test(test_collateral_dates),
	    cmocka_unit_test(test_debug_and_measurement_policy),
	    cmocka_unit_test(test_v4_sgx_quote),
	    cmocka_unit_test(test_init_refuses_existing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
