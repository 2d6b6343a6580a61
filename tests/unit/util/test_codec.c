/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "testutil.h"

static void test_hex(void **s)
{
	(void)s;
	uint8_t b[4];
	char h[9];
	assert_int_equal(ck_hex_decode_exact("00fFa9Z1", 8, b, 4, "x", NULL), -1);
	assert_int_equal(ck_hex_decode_exact("00fFa901", 8, b, 4, "x", NULL), 0);
	assert_memory_equal(b, "\x00\xff\xa9\x01", 4);
	ck_hex_encode(b, 4, h);
	assert_string_equal(h, "00ffa901");
	assert_int_equal(ck_hex_decode_exact("00ff", 4, b, 4, "x", NULL), -1); /* short */
	assert_int_equal(ck_hex_decode_exact("0x00ff01", 8, b, 4, "x", NULL), -1);
	struct ck_err e;
	assert_int_equal(ck_hex_decode_exact("zz", 2, b, 1, "field", &e), -1);
	assert_non_null(strstr(e.msg, "field"));
	assert_non_null(strstr(e.msg, "zz")); /* names the bad value */
	uint8_t *o;
	size_t n;
	assert_int_equal(ck_hex_decode_alloc("abc", 3, &o, &n, "x", NULL), -1);
	assert_int_equal(ck_hex_decode_alloc("abcd", 4, &o, &n, "x", NULL), 0);
	assert_int_equal(n, 2);
	free(o);
}

static void test_b64(void **s)
{
	(void)s;
	uint8_t *o;
	size_t n;
	char *enc = ck_b64_encode((const uint8_t *)"hello", 5);
	assert_string_equal(enc, "aGVsbG8=");
	assert_int_equal(ck_b64_decode_alloc(enc, strlen(enc), &o, &n, "x", NULL), 0);
	assert_int_equal(n, 5);
	assert_memory_equal(o, "hello", 5);
	free(o);
	free(enc);
	assert_int_equal(ck_b64_decode_alloc("aGVsbG8", 7, &o, &n, "x", NULL), -1);
	assert_int_equal(ck_b64_decode_alloc("aGV=bG8=", 8, &o, &n, "x", NULL), -1);
	assert_int_equal(ck_b64_decode_alloc("aGVs\nbG8=", 9, &o, &n, "x", NULL), -1);
	assert_int_equal(ck_b64_decode_alloc("", 0, &o, &n, "x", NULL), 0);
	assert_int_equal(n, 0);
	free(o);
}

static void test_ct(void **s)
{
	(void)s;
	assert_true(ck_ct_equal("abc", "abc", 3));
	assert_false(ck_ct_equal("abc", "abd", 3));
	assert_true(ck_all_zero("\0\0\0", 3));
	assert_false(ck_all_zero("\0\1\0", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_hex), cmocka_unit_test(test_b64),
					   cmocka_unit_test(test_ct)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
