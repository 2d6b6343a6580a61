/* SPDX-License-Identifier: Apache-2.0 */
/* The one DNS-name rule (dns.h): what it takes, and a twin refused for each part of the rule. */
#include <string.h>

#include "cloak/dns.h"
#include "testutil.h"

static bool label(const char *s)
{
	return ck_dns_label(s, strlen(s));
}

static bool name(const char *s)
{
	return ck_dns_name(s, strlen(s));
}

static void test_label(void **s)
{
	(void)s;
	char l63[64], l64[65];
	memset(l63, 'a', 63), l63[63] = 0;
	memset(l64, 'a', 64), l64[64] = 0;
	const char *good[] = {"a", "app", "a-b", "0", "x9-y", l63};
	const char *bad[] = {"", "-a", "a-", "A", "a.b", "a_b", "a b", "\xc3\xa9", l64};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!label(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (label(bad[i]))
			fail_msg("'%s' taken", bad[i]);
	assert_false(ck_dns_label("ab", 0));
	assert_true(ck_dns_label("ab-", 2)); /* only n bytes are looked at */
}

static void test_name(void **s)
{
	(void)s;
	char n253[254], n254[255];
	/* 63 + 1 + 63 + 1 + 63 + 1 + 61 = 253 */
	memset(n253, 'a', 253), n253[63] = n253[127] = n253[191] = '.', n253[253] = 0;
	memcpy(n254, n253, 253), n254[253] = 'a', n254[254] = 0;
	const char *good[] = {"localhost", "app.example.com", "a.b", "x-1.y-2", n253};
	const char *bad[] = {"",       ".",	      "a.",    ".a",	 "a..b", "a.-b.c",
			     "a.b-.c", "App.example", "a_b.c", "a.b.c.", "a b",	 n254};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		if (!name(good[i]))
			fail_msg("'%s' refused", good[i]);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (name(bad[i]))
			fail_msg("'%s' taken", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_label),
	    cmocka_unit_test(test_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
