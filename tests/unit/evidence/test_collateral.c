/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral: QuoteCollateralV3 JSON, raw PCS responses (exact bytes), CRL encodings. */
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/collateral.h"
#include "testutil.h"

static void test_all_vector_collaterals_parse(void **s)
{
	(void)s;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i;
	json_array_foreach(vecs, i, v)
	{
		struct ck_collateral c;
		struct ck_tcb_info t;
		struct ck_qe_identity q;
		struct ck_err e;
		tu_collateral(json_string_value(json_object_get(v, "collateral")), &c);
		if (ck_tcb_info_parse(c.tcb_info, c.tcb_info_len, &t, &e) < 0 ||
		    ck_qe_identity_parse(c.qe_identity, c.qe_identity_len, &q, &e) < 0)
			fail_msg("%s: %s", json_string_value(json_object_get(v, "id")), e.msg);
		assert_true(t.n_levels > 0 && q.n_levels > 0);
		assert_true(t.version == 2 || t.version == 3);
		ck_tcb_info_free(&t);
		ck_qe_identity_free(&q);
		/* round trip through JSON keeps every byte */
		json_t *j = ck_collateral_to_json(&c);
		struct ck_collateral c2;
		char *txt = json_dumps(j, JSON_COMPACT);
		assert_int_equal(ck_collateral_parse(txt, strlen(txt), &c2, NULL), 0);
		free(txt);
		assert_int_equal(c.tcb_info_len, c2.tcb_info_len);
		assert_memory_equal(c.tcb_info, c2.tcb_info, c.tcb_info_len);
		assert_memory_equal(c.pck_crl, c2.pck_crl, c.pck_crl_len);
		json_decref(j);
		ck_collateral_free(&c2);
		ck_collateral_free(&c);
	}
}

static void test_tcb_info_v2_fields(void **s)
{
	(void)s;
	struct ck_collateral c;
	struct ck_tcb_info t;
	tu_collateral("sgx-dcap/dcap-rs/collateral_qvlformat.json", &c);
	assert_int_equal(ck_tcb_info_parse(c.tcb_info, c.tcb_info_len, &t, NULL), 0);
	assert_int_equal(t.version, 2);
	assert_string_equal(t.id, "");
	assert_memory_equal(t.fmspc, "\x00\x60\x6a\x00\x00\x00", 6);
	assert_int_equal(t.levels[0].sgx_svn[0], 14);
	assert_int_equal(t.levels[0].pcesvn, 13);
	assert_int_equal(t.levels[0].status, CK_TCB_SW_HARDENING_NEEDED);
	assert_int_equal(t.advisories.n, 0);
	ck_tcb_info_free(&t);
	ck_collateral_free(&c);
}

static void test_pcs_split_is_byte_exact(void **s)
{
	(void)s;
	/* The raw PCS body and the QVL-format file of the same vector carry the same bytes. */
	size_t n;
	uint8_t *raw = tu_read("sgx-dcap/dcap-rs/tcbinfov2.json", &n);
	char *inner;
	size_t ilen;
	uint8_t sig[64];
	struct ck_collateral c;
	assert_int_equal(ck_pcs_split_signed((char *)raw, n, "tcbInfo", &inner, &ilen, sig, NULL), 0);
	tu_collateral("sgx-dcap/dcap-rs/collateral_qvlformat.json", &c);
	assert_int_equal(ilen, c.tcb_info_len);
	assert_memory_equal(inner, c.tcb_info, ilen);
	assert_memory_equal(sig, c.tcb_info_sig, 64);
	free(inner);
	free(raw);
	raw = tu_read("sgx-dcap/dcap-rs/qeidentityv2.json", &n);
	assert_int_equal(ck_pcs_split_signed((char *)raw, n, "enclaveIdentity", &inner, &ilen, sig,
					     NULL),
			 0);
	assert_int_equal(ilen, c.qe_identity_len);
	assert_memory_equal(inner, c.qe_identity, ilen);
	free(inner);
	free(raw);
	ck_collateral_free(&c);
	/* malformed responses */
	const char *bad[] = {"{\"tcbInfo\":{}}", "{\"tcbInfo\":{},\"signature\":\"00\"}",
			     "[1]", "{\"tcbInfo\":{},\"signature\":\"" /* truncated */,
			     "{\"tcbInfo\":{},\"x\":1,\"signature\":\"00\"}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(ck_pcs_split_signed(bad[i], strlen(bad[i]), "tcbInfo", &inner,
						     &ilen, sig, NULL),
				 -1);
	/* whitespace and member order do not matter; the bytes inside do */
	char good[300] = " { \"signature\" : \"";
	for (int i = 0; i < 128; i++)
		strcat(good, "a");
	strcat(good, "\" ,\n\"tcbInfo\" : {\"a\": [1, \"}\\\"\"]} }");
	assert_int_equal(ck_pcs_split_signed(good, strlen(good), "tcbInfo", &inner, &ilen, sig, NULL),
			 0);
	assert_string_equal(inner, "{\"a\": [1, \"}\\\"\"]}");
	free(inner);
}

static void test_crl_encodings(void **s)
{
	(void)s;
	size_t n;
	uint8_t *der = tu_read("sgx-dcap/dcap-rs/intel_root_ca_crl.der", &n), *out;
	size_t olen;
	char *hex = malloc(2 * n + 1);
	ck_hex_encode(der, n, hex);
	char *b64 = ck_b64_encode(der, n);
	assert_int_equal(ck_crl_decode(der, n, &out, &olen, "crl", NULL), 0);
	assert_memory_equal(out, der, n);
	free(out);
	assert_int_equal(ck_crl_decode((uint8_t *)hex, strlen(hex), &out, &olen, "crl", NULL), 0);
	assert_memory_equal(out, der, n);
	free(out);
	assert_int_equal(ck_crl_decode((uint8_t *)b64, strlen(b64), &out, &olen, "crl", NULL), 0);
	assert_memory_equal(out, der, n);
	free(out);
	char pem[2000];
	snprintf(pem, sizeof(pem), "-----BEGIN X509 CRL-----\n%s\n-----END X509 CRL-----\n", b64);
	assert_int_equal(ck_crl_decode((uint8_t *)pem, strlen(pem), &out, &olen, "crl", NULL), 0);
	assert_memory_equal(out, der, n);
	free(out);
	assert_int_equal(ck_crl_decode((uint8_t *)"hello!", 6, &out, &olen, "crl", NULL), -1);
	free(hex);
	free(b64);
	free(der);
}

static void test_bad_collateral(void **s)
{
	(void)s;
	size_t n;
	uint8_t *b = tu_read("sgx-dcap/dcap-qvl/sgx_quote_collateral.json", &n);
	json_t *o = json_loadb((char *)b, n, 0, NULL);
	struct ck_collateral c;
	struct ck_err e;
	static const char *const keys[] = {"pck_crl_issuer_chain", "root_ca_crl", "pck_crl",
					   "tcb_info_issuer_chain", "tcb_info", "tcb_info_signature",
					   "qe_identity_issuer_chain", "qe_identity",
					   "qe_identity_signature"};
	for (size_t i = 1; i < 9; i++) { /* each required field missing */
		json_t *copy = json_deep_copy(o);
		json_object_del(copy, keys[i]);
		char *txt = json_dumps(copy, JSON_COMPACT);
		assert_int_equal(ck_collateral_parse(txt, strlen(txt), &c, &e), -1);
		free(txt);
		assert_non_null(strstr(e.msg, keys[i]));
		json_decref(copy);
	}
	json_t *copy = json_deep_copy(o);
	json_object_set_new(copy, "tcb_info_signature", json_string("abcd"));
	char *txt = json_dumps(copy, JSON_COMPACT);
	assert_int_equal(ck_collateral_parse(txt, strlen(txt), &c, &e), -1);
	free(txt);
	json_decref(copy);
	/* duplicate keys are refused */
	const char *dup = "{\"tcb_info\":\"a\",\"tcb_info\":\"b\"}";
	assert_int_equal(ck_collateral_parse(dup, strlen(dup), &c, &e), -1);
	assert_string_equal(e.code, CK_E_JSON);
	json_decref(o);
	free(b);
	/* TCB Info with wrong types / values */
	const char *tcb[] = {
		"{\"version\":4}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		"\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A00000\",\"pceId\":\"0000\","
		"\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[]}",
		"{\"id\":\"SGX\",\"version\":3,\"issueDate\":\"2025-01-01T00:00:00Z\","
		"\"nextUpdate\":\"2025-02-01T00:00:00Z\",\"fmspc\":\"00606A000000\",\"pceId\":\"0000\","
		"\"tcbType\":0,\"tcbEvaluationDataNumber\":1,\"tcbLevels\":[{\"tcb\":{\"sgxtcbcomponents\":[],"
		"\"pcesvn\":1},\"tcbDate\":\"2025-01-01T00:00:00Z\",\"tcbStatus\":\"UpToDate\"}]}",
		"{\"id\":\"XYZ\",\"version\":3}",
	};
	struct ck_tcb_info t;
	for (size_t i = 0; i < sizeof(tcb) / sizeof(tcb[0]); i++) {
		assert_int_equal(ck_tcb_info_parse(tcb[i], strlen(tcb[i]), &t, &e), -1);
		assert_string_equal(e.code, CK_E_COLLATERAL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_all_vector_collaterals_parse),
		cmocka_unit_test(test_tcb_info_v2_fields),
		cmocka_unit_test(test_pcs_split_is_byte_exact),
		cmocka_unit_test(test_crl_encodings),
		cmocka_unit_test(test_bad_collateral),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
