/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/pck.h"
#include "testutil.h"

static struct ck_pck_ext sample(void)
{
	struct ck_pck_ext e = {0};
	for (int i = 0; i < 16; i++) {
		e.ppid[i] = (uint8_t)i;
		e.comp_svn[i] = (uint8_t)(200 + i);
		e.cpusvn[i] = (uint8_t)(i * 3);
	}
	e.pcesvn = 0x1234;
	memcpy(e.pceid, "\x00\x01", 2);
	memcpy(e.fmspc, "\x00\x90\x6e\xd5\x00\x00", 6);
	e.sgx_type = 1;
	return e;
}

static void test_roundtrip(void **s)
{
	(void)s;
	struct ck_pck_ext e = sample(), d;
	uint8_t *der;
	size_t n;
	assert_int_equal(ck_pck_ext_encode(&e, &der, &n, NULL), 0);
	assert_int_equal(ck_pck_ext_parse(der, n, &d, NULL), 0);
	assert_memory_equal(&e, &d, sizeof(e));
	/* every truncation fails */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(ck_pck_ext_parse(der, k, &d, NULL), -1);
	/* trailing garbage fails */
	uint8_t *big = malloc(n + 1);
	memcpy(big, der, n);
	big[n] = 0;
	assert_int_equal(ck_pck_ext_parse(big, n + 1, &d, NULL), -1);
	free(big);
	free(der);
}

/* Finds `pat` in der and returns its offset. */
static size_t find(const uint8_t *der, size_t n, const uint8_t *pat, size_t pn)
{
	for (size_t i = 0; i + pn <= n; i++)
		if (!memcmp(der + i, pat, pn))
			return i;
	fail_msg("pattern not found");
	return 0;
}

static void test_malformed(void **s)
{
	(void)s;
	struct ck_pck_ext e = sample(), d;
	uint8_t *der;
	size_t n;
	struct ck_err err;
	assert_int_equal(ck_pck_ext_encode(&e, &der, &n, NULL), 0);
	/* the FMSPC OCTET STRING, made 5 bytes long: wrong size */
	static const uint8_t fm[] = {0x04, 0x06, 0x00, 0x90, 0x6e, 0xd5};
	size_t off = find(der, n, fm, sizeof(fm));
	der[off + 1] = 5;
	assert_int_equal(ck_pck_ext_parse(der, n, &d, &err), -1);
	assert_string_equal(err.code, CK_E_PCK_EXTENSION);
	der[off + 1] = 6;
	/* PCESVN as a negative INTEGER */
	static const uint8_t pce[] = {0x02, 0x02, 0x12, 0x34};
	off = find(der, n, pce, sizeof(pce));
	der[off + 2] = 0x92;
	assert_int_equal(ck_pck_ext_parse(der, n, &d, &err), -1);
	der[off + 2] = 0x12;
	/* the FMSPC's OID arc changed to PCE-ID's: PCE-ID twice */
	static const uint8_t fmoid[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01, 0x04};
	off = find(der, n, fmoid, sizeof(fmoid));
	der[off + 9] = 0x03;
	assert_int_equal(ck_pck_ext_parse(der, n, &d, &err), -1);
	/* ... or to an unknown arc: FMSPC missing */
	der[off + 9] = 0x09;
	assert_int_equal(ck_pck_ext_parse(der, n, &d, &err), -1);
	assert_non_null(strstr(err.msg, "missing"));
	der[off + 9] = 0x04;
	assert_int_equal(ck_pck_ext_parse(der, n, &d, NULL), 0);
	/* a non-minimal length */
	uint8_t bad[] = {0x30, 0x81, 0x03, 0x30, 0x01, 0x00};
	assert_int_equal(ck_pck_ext_parse(bad, sizeof(bad), &d, NULL), -1);
	/* indefinite length */
	uint8_t indef[] = {0x30, 0x80, 0x00, 0x00};
	assert_int_equal(ck_pck_ext_parse(indef, sizeof(indef), &d, NULL), -1);
	free(der);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_roundtrip),
					   cmocka_unit_test(test_malformed)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
