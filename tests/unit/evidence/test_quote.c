/* SPDX-License-Identifier: Apache-2.0 */
/* Quote parsing: every field of every vector (v3 SGX, v4 TDX, v5 TDX 1.5), against manifest. */
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/quote.h"
#include "testutil.h"

static void test_all_vectors_fields(void **s)
{
	(void)s;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i;
	json_array_foreach(vecs, i, v)
	{
		json_t *qi = json_object_get(v, "quote_info");
		size_t len;
		uint8_t *b = tu_read(json_string_value(json_object_get(v, "quote")), &len);
		struct ck_quote q;
		struct ck_err e;
		assert_int_equal(len, json_integer_value(json_object_get(qi, "bytes")));
		if (ck_quote_parse(b, len, &q, &e) < 0)
			fail_msg("%s", e.msg);
		assert_int_equal(q.version, json_integer_value(json_object_get(qi, "quote_version")));
		assert_int_equal(q.cert_type, CK_CERT_PCK_CHAIN);
		assert_int_equal(q.qe_auth_len, 32);
		char h[129];
		ck_hex_encode(ck_quote_report_data(&q), 64, h);
		if (json_object_get(qi, "report_data"))
			assert_string_equal(h, json_string_value(json_object_get(qi, "report_data")));
		if (q.tee == CK_TEE_SGX) {
			ck_hex_encode(q.sgx.mrenclave, 32, h);
			assert_string_equal(h, json_string_value(json_object_get(qi, "mrenclave")));
			ck_hex_encode(q.sgx.attributes, 16, h);
			assert_string_equal(h, json_string_value(json_object_get(qi, "attributes")));
			assert_int_equal(q.sgx.isv_prod_id,
					 json_integer_value(json_object_get(qi, "isvprodid")));
			assert_int_equal(q.signed_len, CK_SGX_SIGNED_LEN);
		} else {
			assert_int_equal(q.signed_len, q.version == 5 ? 48 + 6 + q.body_len
								      : 48 + CK_TD10_REPORT_LEN);
		}
		/* the cert data is a PEM chain */
		assert_memory_equal(q.cert_data, "-----BEGIN CERTIFICATE-----", 27);
		free(b);
	}
}

static void test_tdx_offsets(void **s)
{
	(void)s;
	size_t len;
	uint8_t *b = tu_read("tdx/dcap-qvl/tdx_quote.bin", &len);
	struct ck_quote q;
	assert_int_equal(ck_quote_parse(b, len, &q, NULL), 0);
	assert_int_equal(q.body_type, CK_BODY_TD10);
	assert_int_equal(q.trailing_len, 70); /* attestation-formats.md §E */
	assert_int_equal(q.cert_data - b, 1252 + 6);
	assert_memory_equal(q.td.mrtd, b + 184, 48);
	assert_memory_equal(q.td.rtmr[3], b + 520, 48);
	free(b);
	b = tu_read("tdx/dcap-qvl/tdx_quote_outdated_v5.bin", &len);
	assert_int_equal(ck_quote_parse(b, len, &q, NULL), 0);
	assert_int_equal(q.body_type, CK_BODY_TD15);
	assert_memory_equal(q.td.mrtd, b + 190, 48);
	assert_memory_equal(q.td.report_data, b + 574, 64);
	assert_memory_equal(q.td.mrservicetd, b + 654, 48);
	/* v5 body type that disagrees with the TEE type */
	b[48] = 1;
	struct ck_err e;
	assert_int_equal(ck_quote_parse(b, len, &q, &e), -1);
	assert_string_equal(e.code, CK_E_QUOTE_FORMAT);
	free(b);
	b = tu_read("tdx/dcap-rs/quote_tdx_00806f050000_padded8000.bin", &len);
	assert_int_equal(ck_quote_parse(b, len, &q, NULL), 0);
	assert_int_equal(q.trailing_len, 3065);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_all_vectors_fields),
					   cmocka_unit_test(test_tdx_offsets)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
