/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <string.h>
#include <sys/un.h>

#include "cloak/net.h"
#include "testutil.h"

static socklen_t addr(struct sockaddr_storage *ss, const char *ip, unsigned port)
{
	memset(ss, 0, sizeof(*ss));
	if (strchr(ip, ':')) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)ss;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons(port);
		assert_int_equal(inet_pton(AF_INET6, ip, &a->sin6_addr), 1);
		return sizeof(*a);
	}
	struct sockaddr_in *a = (struct sockaddr_in *)ss;
	a->sin_family = AF_INET;
	a->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return sizeof(*a);
}

/* The same host whatever the port; another address, another family, an unknown (length 0)
 * address or a UNIX one match nothing. */
static void test_same_host(void **s)
{
	(void)s;
	struct sockaddr_storage a, b;
	socklen_t al = addr(&a, "192.0.2.1", 1), bl = addr(&b, "192.0.2.1", 2);
	assert_true(ck_same_host(&a, al, &b, bl));
	assert_false(ck_same_host(&a, 0, &b, bl));
	assert_false(ck_same_host(&a, al, &b, 0));
	bl = addr(&b, "192.0.2.2", 1);
	assert_false(ck_same_host(&a, al, &b, bl));
	bl = addr(&b, "::ffff:192.0.2.1", 1); /* mapped: another family, not folded */
	assert_false(ck_same_host(&a, al, &b, bl));
	al = addr(&a, "2001:db8::1", 1);
	bl = addr(&b, "2001:db8::1", 9);
	assert_true(ck_same_host(&a, al, &b, bl));
	bl = addr(&b, "2001:db8::2", 1);
	assert_false(ck_same_host(&a, al, &b, bl));
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.ss_family = b.ss_family = AF_UNIX;
	assert_false(ck_same_host(&a, sizeof(struct sockaddr_un), &b, sizeof(struct sockaddr_un)));
}

/* "IPV4-ADDRESS:PORT" exactly; anything else is refused, naming the value. */
static void test_addr_parse(void **s)
{
	(void)s;
	struct sockaddr_in sa;
	struct ck_err e;
	assert_int_equal(ck_addr_parse("127.0.0.1:0", &sa, &e), 0);
	assert_int_equal(sa.sin_family, AF_INET);
	assert_int_equal(ntohl(sa.sin_addr.s_addr), INADDR_LOOPBACK);
	const char *bad[] = {"127.0.0.1", "localhost:1", "127.0.0.1:65536", "127.0.0.1:1/x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ck_addr_parse(bad[i], &sa, &e) == 0)
			fail_msg("'%s' accepted", bad[i]);
		char q[64];
		snprintf(q, sizeof(q), "'%s'", bad[i]);
		assert_non_null(strstr(e.msg, q));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_host),
	    cmocka_unit_test(test_addr_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
