/* SPDX-License-Identifier: Apache-2.0 */
/* cloak.toml's TOML (toml.h): a document read into the tree it means; each refusal says where
 * (line, column) and what, and leaves nothing. Acceptance itself is checked against Python's
 * tomllib in test_toml_diff.py. */
#include <string.h>

#include "cloak/toml.h"
#include "testutil.h"

static void test_tree(void **s)
{
	(void)s;
	const char *doc = "name = \"shop\"\n[ssl]\ndomain = 'shop.example'\n[policy]\n"
			  "statuses = [\"UpToDate\",\n  \"SWHardeningNeeded\", # ok\n]\n"
			  "max = 0x10\n[node]\nurl.tls = true\n";
	json_t *j;
	struct ck_err e;
	assert_int_equal(ck_toml_parse(doc, strlen(doc), &j, &e), 0);
	assert_string_equal(json_string_value(json_object_get(j, "name")), "shop");
	json_t *pol = json_object_get(j, "policy");
	assert_int_equal(json_array_size(json_object_get(pol, "statuses")), 2);
	assert_int_equal(json_integer_value(json_object_get(pol, "max")), 16);
	assert_true(json_is_true(
	    json_object_get(json_object_get(json_object_get(j, "node"), "url"), "tls")));
	json_decref(j);
}

static void test_where_and_what(void **s)
{
	(void)s;
	static const struct {
		const char *doc, *msg;
	} bad[] = {
	    {"a = 1\n\nb = 2\n  a = 3\n", "line 4, column 3: the key 'a' is defined twice"},
	    {"[x]\n[x]\n", "line 2, column 1: the table 'x' is defined twice"},
	    {"a = 1.5\n", "line 1, column 6: floats are not supported in cloak.toml"},
	    {"a = { b = 1 }\n", "line 1, column 5: inline tables are not supported"},
	    {"a = \"\\q\"\n", "line 1, column 6: '\\q' is not an escape TOML has"},
	    {"a = 1 2\n", "line 1, column 7: '2' after the value"},
	    {"name = \"x\nrun = 1\n", "line 1, column 10: a string not closed on its line"},
	    {"a = [1,\n 2\n", "line 3, column 1: an array not closed"},
	    {"a = 1\rb = 2\n", "line 1, column 6: a carriage return without a line feed"},
	    {"x = \"\xc3\x28\"\n", "line 1, column 6: not UTF-8"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = (json_t *)1;
		struct ck_err e;
		if (ck_toml_parse(bad[i].doc, strlen(bad[i].doc), &j, &e) == 0)
			fail_msg("%zu accepted", i);
		assert_null(j);
		assert_string_equal(e.code, CK_E_CONFIG);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("%zu: '%s', not '%s'", i, e.msg, bad[i].msg);
	}
	json_t *j;
	struct ck_err e;
	static char big[CK_TOML_MAX_LEN + 1];
	memset(big, '#', sizeof(big));
	assert_int_equal(ck_toml_parse(big, sizeof(big), &j, &e), -1);
	assert_string_equal(e.code, CK_E_TOO_LARGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tree),
	    cmocka_unit_test(test_where_and_what),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
