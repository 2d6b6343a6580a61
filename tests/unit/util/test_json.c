/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "testutil.h"

static int ok(const char *s)
{
	struct ck_jdoc d;
	int r = ck_json_parse(s, strlen(s), &d, NULL);
	ck_json_free(&d);
	return r == 0;
}

static void test_grammar(void **s)
{
	(void)s;
	const char *good[] = {"{}",
			      "[]",
			      " {\"a\" : [1, -0, 0.5, 1e3, -2.5E-3, true, false, null]} ",
			      "[\"\\u00e9\\ud83d\\ude00\\n\\\"\\/\"]",
			      "[\"\xc3\xa9\xf0\x9f\x98\x80\"]",
			      "{\"a\":{\"a\":{}}}"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!ok(good[i]))
			fail_msg("refused %s", good[i]);
	const char *bad[] = {"",
			     "1",
			     "\"x\"",
			     "{",
			     "[1,]",
			     "{\"a\":1,}",
			     "{\"a\" 1}",
			     "[01]",
			     "[1.]",
			     "[.5]",
			     "[1e]",
			     "[-]",
			     "[+1]",
			     "[tru]",
			     "[\"\\x\"]",
			     "[\"\\u12\"]",
			     "[\"\\ud800\"]",
			     "[\"\\udc00\"]",
			     "[\"a\nb\"]",
			     "[\"\xc0\xaf\"]",
			     "[\"\xed\xa0\x80\"]",
			     "[\"\xf4\x90\x80\x80\"]",
			     "[\"\xe2\x82\"]",
			     "{\"a\":1,\"a\":2}",
			     "{\"\\u0061\":1}",
			     /* escaped key: refused */ "[1] [2]",
			     "[1]x",
			     "{'a':1}",
			     "[NaN]",
			     "[Infinity]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ok(bad[i]))
			fail_msg("accepted bad input #%zu: %s", i, bad[i]);
	/* nesting limit */
	char deep[200];
	memset(deep, '[', 100);
	memset(deep + 100, ']', 100);
	struct ck_jdoc d;
	struct ck_err e;
	assert_int_equal(ck_json_parse(deep, 200, &d, &e), -1);
	assert_non_null(strstr(e.msg, "deep"));
	assert_non_null(strstr(e.msg, "offset"));
}

static void test_access(void **s)
{
	(void)s;
	const char *t =
	    "{\"n\":42,\"neg\":-7,\"f\":1.5,\"s\":\"a\\tb\\u00e9\",\"arr\":[{\"x\":1},[2],3],"
	    "\"big\":12345678901234567890,\"z\":\"end\"}";
	struct ck_jdoc d;
	long long v;
	size_t n;
	assert_int_equal(ck_json_parse(t, strlen(t), &d, NULL), 0);
	assert_int_equal(ck_json_int(&d, (size_t)ck_json_get(&d, 0, "n"), 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(ck_json_int(&d, (size_t)ck_json_get(&d, 0, "neg"), -10, 0, &v), 0);
	assert_int_equal(v, -7);
	assert_int_equal(ck_json_int(&d, (size_t)ck_json_get(&d, 0, "n"), 0, 41, &v), -1);
	assert_int_equal(ck_json_int(&d, (size_t)ck_json_get(&d, 0, "f"), 0, 100, &v), -1);
	assert_int_equal(ck_json_int(&d, (size_t)ck_json_get(&d, 0, "big"), 0, INT64_MAX, &v), -1);
	char *str = ck_json_strdup(&d, (size_t)ck_json_get(&d, 0, "s"), &n);
	assert_string_equal(str, "a\tb\xc3\xa9");
	free(str);
	long arr = ck_json_get(&d, 0, "arr");
	assert_int_equal(d.t[arr].size, 3);
	size_t e1 = ck_json_child((size_t)arr), e2 = ck_json_next(&d, e1),
	       e3 = ck_json_next(&d, e2);
	assert_int_equal(d.t[e1].type, CK_JT_OBJECT);
	assert_int_equal(d.t[e2].type, CK_JT_ARRAY);
	assert_int_equal(ck_json_int(&d, e3, 0, 9, &v), 0);
	assert_int_equal(v, 3);
	/* subtree skipping lands on the member after "arr" */
	assert_true(ck_json_str_eq(&d, (size_t)ck_json_get(&d, 0, "z"), "end"));
	assert_int_equal(ck_json_get(&d, 0, "missing"), -1);
	/* container extents are the exact bytes */
	assert_memory_equal(t + d.t[arr].start, "[{\"x\":1},[2],3]", d.t[arr].end - d.t[arr].start);
	ck_json_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_grammar),
					   cmocka_unit_test(test_access)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
