/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every DCAP vector of attestation-vectors/manifest.json: SGX ones give their expected status
 * and advisories at their suggested time, and are rejected one second before valid_from and
 * one second after valid_until; TDX ones parse (their appraisal is a later issue).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/appraise.h"
#include "cloak/codec.h"
#include "testutil.h"

static const char *str(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	assert_true(json_is_string(v));
	return json_string_value(v);
}

static int appraise_at(json_t *v, ck_time_t at, bool allow_expired, struct ck_appraisal *a)
{
	size_t qlen;
	uint8_t *q = tu_read(str(v, "quote"), &qlen);
	struct ck_collateral c;
	tu_collateral(str(v, "collateral"), &c);
	struct ck_appraise_opts o = {.at = at, .allow_expired_collateral = allow_expired};
	int r = ck_appraise_raw(q, qlen, &c, &o, a);
	ck_collateral_free(&c);
	free(q);
	return r;
}

static bool is_sgx(json_t *v)
{
	return !strcmp(json_string_value(json_object_get(json_object_get(v, "quote_info"),
							 "tee_type")),
		       "0x0");
}

static void test_sgx_expected_status(void **state)
{
	(void)state;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i, checked = 0;
	json_array_foreach(vecs, i, v)
	{
		if (!is_sgx(v))
			continue;
		const char *id = str(v, "id"), *expected = str(v, "expected");
		struct ck_appraisal a;
		int r = appraise_at(v, tu_time(str(v, "suggested_time")), false, &a);
		if (!strncmp(expected, "ERROR", 5)) {
			/* sgx-mse-2023-06-stale-pckcrl: the PCK CRL expired before the QE Identity
			 * was issued; it must fail at every time, naming the PCK CRL. */
			assert_int_equal(r, -1);
			assert_string_equal(a.error.code, CK_E_EXPIRED);
			assert_non_null(strstr(a.error.msg, "PCK CRL"));
			checked++;
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s (%s)", id, a.error.msg, a.error.code);
		assert_string_equal(ck_tcb_status_name(a.tcb_status), expected);
		json_t *adv = json_object_get(v, "advisories"), *x;
		size_t k;
		assert_int_equal(a.n_advisories, json_array_size(adv));
		json_array_foreach(adv, k, x)
		{
			bool found = false;
			for (size_t j = 0; j < a.n_advisories; j++)
				found |= !strcmp(a.advisories[j], json_string_value(x));
			if (!found)
				fail_msg("%s: advisory %s missing", id, json_string_value(x));
		}
		/* The identity reported is the quote's (cross-checked against the manifest). */
		json_t *qi = json_object_get(v, "quote_info");
		char hex[65];
		ck_hex_encode(a.enclave.mrenclave, 32, hex);
		assert_string_equal(hex, str(qi, "mrenclave"));
		ck_hex_encode(a.enclave.mrsigner, 32, hex);
		assert_string_equal(hex, str(qi, "mrsigner"));
		assert_int_equal(a.debug, json_is_true(json_object_get(qi, "debug")));
		assert_false(a.simulated);
		/* The window reported is the manifest's. */
		assert_true(a.valid_from == tu_time(str(v, "valid_from")));
		assert_true(a.valid_until == tu_time(str(v, "valid_until")));
		checked++;
	}
	assert_int_equal(checked, 10);
}

static void test_sgx_rejected_outside_window(void **state)
{
	(void)state;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i;
	json_array_foreach(vecs, i, v)
	{
		if (!is_sgx(v) || !strncmp(str(v, "expected"), "ERROR", 5))
			continue;
		struct ck_appraisal a;
		ck_time_t from = tu_time(str(v, "valid_from")), until = tu_time(str(v, "valid_until"));
		assert_int_equal(appraise_at(v, from - 1, false, &a), -1);
		assert_string_equal(a.error.code, CK_E_NOT_YET_VALID);
		assert_int_equal(appraise_at(v, until + 1, false, &a), -1);
		assert_string_equal(a.error.code, CK_E_EXPIRED);
		/* the message names the item and its dates */
		assert_non_null(strstr(a.error.msg, "valid "));
		/* the edges themselves are inside */
		assert_int_equal(appraise_at(v, from, false, &a), 0);
		assert_int_equal(appraise_at(v, until, false, &a), 0);
	}
}

static void test_allow_expired_collateral(void **state)
{
	(void)state;
	/* sgx-dcapqvl-2025-06: its window ends with the QE Identity's nextUpdate. With the
	 * policy relaxation, expiry of collateral is reported but tolerated... */
	json_t *v = json_array_get(json_object_get(tu_manifest(), "dcap_vectors"), 0);
	assert_string_equal(str(v, "id"), "sgx-dcapqvl-2025-06");
	struct ck_appraisal a;
	ck_time_t until = tu_time(str(v, "valid_until"));
	assert_int_equal(appraise_at(v, until + 86400, true, &a), 0);
	assert_true(a.collateral_expired);
	/* ...but never "not yet valid", and never an expired certificate. */
	assert_int_equal(appraise_at(v, tu_time(str(v, "valid_from")) - 1, true, &a), -1);
	assert_string_equal(a.error.code, CK_E_NOT_YET_VALID);
	assert_int_equal(appraise_at(v, tu_time("2060-01-01T00:00:00Z"), true, &a), -1);
	assert_string_equal(a.error.code, CK_E_EXPIRED);
	assert_non_null(strstr(a.error.msg, "certificate"));
}

static void test_tdx_vectors_parse(void **state)
{
	(void)state;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i, n = 0;
	json_array_foreach(vecs, i, v)
	{
		if (is_sgx(v))
			continue;
		size_t len;
		uint8_t *q = tu_read(str(v, "quote"), &len);
		struct ck_quote quote;
		struct ck_err e;
		if (ck_quote_parse(q, len, &quote, &e) < 0)
			fail_msg("%s: %s", str(v, "id"), e.msg);
		assert_int_equal(quote.tee, CK_TEE_TDX);
		json_t *qi = json_object_get(v, "quote_info");
		assert_int_equal(quote.version, json_integer_value(json_object_get(qi, "quote_version")));
		/* the collateral parses too, including TDX TCB components */
		struct ck_collateral c;
		struct ck_tcb_info t;
		tu_collateral(str(v, "collateral"), &c);
		assert_int_equal(ck_tcb_info_parse(c.tcb_info, c.tcb_info_len, &t, &e), 0);
		assert_string_equal(t.id, "TDX");
		assert_true(t.levels[0].has_tdx);
		ck_tcb_info_free(&t);
		/* and appraisal says clearly that TDX is not appraised yet */
		struct ck_appraisal a;
		struct ck_appraise_opts o = {.at = tu_time(str(v, "suggested_time"))};
		assert_int_equal(ck_appraise_raw(q, len, &c, &o, &a), -1);
		assert_string_equal(a.error.code, CK_E_UNSUPPORTED);
		ck_collateral_free(&c);
		free(q);
		n++;
	}
	assert_int_equal(n, 6);
}

static void test_warm_equals_cold(void **state)
{
	(void)state;
	/* Reusing verified collateral gives the same result with fewer signature checks. */
	json_t *v = json_array_get(json_object_get(tu_manifest(), "dcap_vectors"), 0);
	size_t qlen;
	uint8_t *qb = tu_read(str(v, "quote"), &qlen);
	struct ck_collateral c;
	struct ck_verified_collateral *vc;
	struct ck_quote q;
	struct ck_appraisal cold, warm1, warm2;
	struct ck_appraise_opts o = {.at = tu_time(str(v, "suggested_time"))};
	tu_collateral(str(v, "collateral"), &c);
	assert_int_equal(ck_appraise_raw(qb, qlen, &c, &o, &cold), 0);
	assert_int_equal(ck_collateral_verify(&c, false, &vc, NULL), 0);
	assert_int_equal(ck_quote_parse(qb, qlen, &q, NULL), 0);
	assert_int_equal(ck_appraise(&q, vc, &o, &warm1), 0);
	assert_int_equal(ck_appraise(&q, vc, &o, &warm2), 0);
	assert_int_equal(cold.tcb_status, warm2.tcb_status);
	assert_int_equal(cold.n_advisories, warm2.n_advisories);
	/* cold: root CRL, TCB signer, TCB Info, QE Identity, PCK CA, PCK CRL, leaf, QE report,
	 * quote = 9; warm: leaf, QE report, quote = 3. */
	assert_int_equal(cold.sig_verifications, 9);
	assert_int_equal(warm2.sig_verifications, 3);
	ck_verified_collateral_free(vc);
	ck_collateral_free(&c);
	free(qb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sgx_expected_status),
		cmocka_unit_test(test_sgx_rejected_outside_window),
		cmocka_unit_test(test_allow_expired_collateral),
		cmocka_unit_test(test_tdx_vectors_parse),
		cmocka_unit_test(test_warm_equals_cold),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
