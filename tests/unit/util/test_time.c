/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "cloak/timeutil.h"
#include "testutil.h"

static ck_time_t p(const char *s, int *ok)
{
	ck_time_t t = 0;
	*ok = ck_time_parse(s, strlen(s), &t, NULL) == 0;
	return t;
}

static void test_parse_format(void **s)
{
	(void)s;
	int ok;
	char b[CK_TIME_STR_MAX];
	assert_true(p("1970-01-01T00:00:00Z", &ok) == 0 && ok);
	assert_true(p("2025-06-20T00:00:00Z", &ok) == 1750377600 && ok);
	assert_true(p("2025-06-20T02:00:00+02:00", &ok) == 1750377600 && ok);
	assert_true(p("2025-06-19T19:00:00.123-05:00", &ok) == 1750377600 && ok);
	assert_true(p("2024-02-29T12:00:00Z", &ok) && ok);
	assert_string_equal(ck_time_format(1750377600, b), "2025-06-20T00:00:00Z");
	assert_string_equal(ck_time_format(tu_time("2049-12-31T23:59:59Z"), b),
			    "2049-12-31T23:59:59Z");
	const char *bad[] = {"2025-06-20",	     "2025-06-20 00:00:00Z", "2025-13-01T00:00:00Z",
			     "2025-02-29T00:00:00Z", "2025-06-20T24:00:00Z", "2025-06-20T00:00:00",
			     "2025-06-20T00:00:00Zx", "2025-06-20T00:00:00.Z", "+2025-06-20T00:00:00Z",
			     "2025-06-20T00:00:00+2:00"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p(bad[i], &ok);
		if (ok)
			fail_msg("accepted '%s'", bad[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_parse_format)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
