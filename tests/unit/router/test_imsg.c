/* SPDX-License-Identifier: Apache-2.0 */
/* Messages between the node's processes (imsg.h) over a real SOCK_SEQPACKET socketpair, with a
 * descriptor passed; and every malformed shape refused by name, a stray descriptor closed. */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloak/imsg.h"
#include "testutil.h"

static void test_round_trip(void **s)
{
	(void)s;
	int sv[2], pv[2];
	uint8_t buf[CK_IMSG_MAX], pl[300];
	struct ck_imsg m;
	struct ck_err e;
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	struct ck_route_msg r = {.name = "shop.node.test", .port = 43210}, back;
	size_t n = ck_route_msg_encode(&r, pl, sizeof(pl));
	assert_int_equal(n, strlen(r.name) + 3);
	assert_int_equal(ck_imsg_send(sv[0], CK_IMSG_ROUTE_SET, 7, pl, n, -1, &e), 0);
	assert_int_equal(ck_imsg_recv(sv[1], buf, &m, &e), 1);
	assert_int_equal(m.type, CK_IMSG_ROUTE_SET);
	assert_int_equal(m.id, 7);
	assert_int_equal(m.fd, -1);
	assert_int_equal(ck_route_msg_decode(&m, &back, &e), 0);
	assert_string_equal(back.name, "shop.node.test");
	assert_int_equal(back.port, 43210);
	/* a descriptor travels: what is written to it comes out of the received one */
	assert_int_equal(pipe(pv), 0);
	assert_int_equal(ck_imsg_send(sv[0], CK_IMSG_ROUTE_CLEAR, 8, NULL, 0, pv[1], &e), 0);
	close(pv[1]);
	assert_int_equal(ck_imsg_recv(sv[1], buf, &m, &e), 1);
	assert_true(m.fd >= 0);
	assert_true(fcntl(m.fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(write(m.fd, "x", 1), 1);
	close(m.fd);
	char c;
	assert_int_equal(read(pv[0], &c, 1), 1);
	close(pv[0]);
	/* the largest payload, and one over it */
	static uint8_t big[CK_IMSG_MAX_PAYLOAD + 1];
	assert_int_equal(
	    ck_imsg_send(sv[0], CK_IMSG_ROUTE_CLEAR, 9, big, CK_IMSG_MAX_PAYLOAD, -1, &e), 0);
	assert_int_equal(ck_imsg_recv(sv[1], buf, &m, &e), 1);
	assert_int_equal(m.len, CK_IMSG_MAX_PAYLOAD);
	assert_int_equal(ck_imsg_send(sv[0], CK_IMSG_ROUTE_CLEAR, 9, big, sizeof(big), -1, &e), -1);
	close(sv[0]);
	assert_int_equal(ck_imsg_recv(sv[1], buf, &m, &e), 0); /* the peer closed */
	close(sv[1]);
}

static void test_refused(void **s)
{
	(void)s;
	struct ck_imsg m;
	struct ck_err e;
	/* type 1, no flags, id 0, len 3, but 4 bytes of payload; then other bad headers */
	uint8_t h[CK_IMSG_HEADER + 8] = {1, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0, 0};
	assert_int_equal(ck_imsg_parse(h, CK_IMSG_HEADER + 4, -1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "says 3 payload bytes and brought 4"));
	assert_int_equal(ck_imsg_parse(h, 5, -1, &m, &e), -1);
	h[8] = 0;
	h[0] = 99;
	assert_int_equal(ck_imsg_parse(h, CK_IMSG_HEADER, -1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "unknown type 99"));
	h[0] = 1;
	h[2] = 0x80;
	assert_int_equal(ck_imsg_parse(h, CK_IMSG_HEADER, -1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "unknown flags"));
	h[2] = CK_IMSG_F_FD;
	assert_int_equal(ck_imsg_parse(h, CK_IMSG_HEADER, -1, &m, &e), -1);
	assert_non_null(strstr(e.msg, "brought none"));
	h[2] = 0;
	int pv[2];
	assert_int_equal(pipe(pv), 0);
	assert_int_equal(ck_imsg_parse(h, CK_IMSG_HEADER, pv[0], &m, &e), -1);
	assert_non_null(strstr(e.msg, "did not announce"));
	assert_int_equal(fcntl(pv[0], F_GETFD), -1); /* closed */
	close(pv[1]);
	/* routes: bad names and ports */
	struct {
		uint16_t type;
		const char *payload;
		size_t n;
	} bad[] = {
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "a.b"
	     "\x00\x00",
	     6}, /* port 0 in a SET */
	    {CK_IMSG_ROUTE_DEL,
	     "\x03"
	     "a.b"
	     "\x01\x00",
	     6}, /* a port in a DEL */
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "A.b"
	     "\x01\x00",
	     6}, /* upper case */
	    {CK_IMSG_ROUTE_SET,
	     "\x04"
	     "a..b"
	     "\x01\x00",
	     7}, /* an empty label */
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "a.b"
	     "\x01\x00\x00",
	     7}, /* a byte after */
	    {CK_IMSG_ROUTE_SET,
	     "\x00"
	     "\x01\x00",
	     3}, /* no name */
	    {CK_IMSG_ROUTE_CLEAR,
	     "\x03"
	     "a.b"
	     "\x01\x00",
	     6}, /* not a route message */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_imsg bm = {.type = bad[i].type,
				     .payload = (const uint8_t *)bad[i].payload,
				     .len = bad[i].n,
				     .fd = -1};
		struct ck_route_msg r;
		if (ck_route_msg_decode(&bm, &r, &e) == 0)
			fail_msg("route %zu accepted", i);
		assert_string_equal(e.code, CK_E_IMSG);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
