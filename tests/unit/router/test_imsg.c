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
	assert_int_equal(n, strlen(r.name) + 4);
	assert_int_equal(ck_imsg_send(sv[0], CK_IMSG_ROUTE_SET, 7, pl, n, -1, &e), 0);
	assert_int_equal(ck_imsg_recv(sv[1], buf, &m, &e), 1);
	assert_int_equal(m.type, CK_IMSG_ROUTE_SET);
	assert_int_equal(m.id, 7);
	assert_int_equal(m.fd, -1);
	assert_int_equal(ck_route_msg_decode(&m, &back, &e), 0);
	assert_string_equal(back.name, "shop.node.test");
	assert_int_equal(back.port, 43210);
	assert_false(back.terminate);
	r.terminate = true;
	n = ck_route_msg_encode(&r, pl, sizeof(pl));
	struct ck_imsg tm = {.type = CK_IMSG_ROUTE_SET, .payload = pl, .len = n, .fd = -1};
	assert_int_equal(ck_route_msg_decode(&tm, &back, &e), 0);
	assert_true(back.terminate);
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
	     "\x00\x00\x00",
	     7}, /* port 0 in a SET */
	    {CK_IMSG_ROUTE_DEL,
	     "\x03"
	     "a.b"
	     "\x01\x00\x00",
	     7}, /* a port in a DEL */
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "A.b"
	     "\x01\x00\x00",
	     7}, /* upper case */
	    {CK_IMSG_ROUTE_SET,
	     "\x04"
	     "a..b"
	     "\x01\x00\x00",
	     8}, /* an empty label */
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "a.b"
	     "\x01\x00\x00\x00",
	     8}, /* a byte after */
	    {CK_IMSG_ROUTE_SET,
	     "\x00"
	     "\x01\x00\x00",
	     4}, /* no name */
	    {CK_IMSG_ROUTE_CLEAR,
	     "\x03"
	     "a.b"
	     "\x01\x00\x00",
	     7}, /* not a route message */
	    {CK_IMSG_ROUTE_SET,
	     "\x03"
	     "a.b"
	     "\x01\x00\x02",
	     7}, /* an unknown flag */
	    {CK_IMSG_ROUTE_DEL,
	     "\x03"
	     "a.b"
	     "\x00\x00\x01",
	     7}, /* terminate in a DEL */
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

static struct ck_imsg as_msg(uint16_t type, const uint8_t *p, size_t n, int fd)
{
	struct ck_imsg m = {.type = type, .payload = p, .len = n, .fd = fd};
	return m;
}

/* The api's messages: each round-trips, and each way of being wrong is refused: a field past
 * the end, a byte after, a name or token with a forbidden byte, a route out of range, parts
 * that do not fit the route (a name on the list, a body on a GET, follow off the logs), an
 * IPv4 address with bytes after its four, a status out of range, a reply body beside a
 * descriptor, a BODY without its descriptor. */
static void test_api_messages(void **s)
{
	(void)s;
	struct ck_err e;
	uint8_t b[512];
	struct ck_api_msg_req q = {.route = CK_API_APP_LOGS,
				   .follow = true,
				   .app = "shop",
				   .token = "0123456789abcdef",
				   .family = 4,
				   .addr = {127, 0, 0, 1}},
			      q2;
	size_t n = ck_api_req_encode(&q, b, sizeof(b));
	assert_true(n > 0);
	struct ck_imsg m = as_msg(CK_IMSG_API_REQ, b, n, -1);
	assert_int_equal(ck_api_req_decode(&m, &q2, &e), 0);
	assert_memory_equal(&q, &q2, sizeof(q));
	for (size_t cut = 0; cut < n; cut++) { /* every truncation */
		m = as_msg(CK_IMSG_API_REQ, b, cut, -1);
		assert_int_equal(ck_api_req_decode(&m, &q2, &e), -1);
	}
	b[n] = 0;
	m = as_msg(CK_IMSG_API_REQ, b, n + 1, -1);
	assert_int_equal(ck_api_req_decode(&m, &q2, &e), -1);
	struct {
		size_t at;
		uint8_t v;
	} flips[] = {{0, 0},
		     {0, CK_API_METRICS + 1},
		     {0, CK_API_APPS_LIST},
		     {1, 2},
		     {3, 'S'},
		     {8, '\n'},
		     {24, 5},
		     {29, 1}};
	for (size_t i = 0; i < sizeof(flips) / sizeof(flips[0]); i++) {
		uint8_t c[512];
		memcpy(c, b, n);
		c[flips[i].at] = flips[i].v;
		m = as_msg(CK_IMSG_API_REQ, c, n, -1);
		if (ck_api_req_decode(&m, &q2, &e) == 0)
			fail_msg("flip %zu accepted", i);
		assert_string_equal(e.code, CK_E_IMSG);
	}
	q.route = CK_API_APP_GET;
	q.follow = false;
	q.body_len = 10; /* a GET with a body */
	m = as_msg(CK_IMSG_API_REQ, b, ck_api_req_encode(&q, b, sizeof(b)), -1);
	assert_int_equal(ck_api_req_decode(&m, &q2, &e), -1);

	struct ck_api_msg_reply r = {.status = 201,
				     .retry_after = 3,
				     .ctype = "application/json",
				     .body = (const uint8_t *)"{}",
				     .body_len = 2},
				r2;
	n = ck_api_reply_encode(&r, b, sizeof(b));
	m = as_msg(CK_IMSG_API_REPLY, b, n, -1);
	assert_int_equal(ck_api_reply_decode(&m, &r2, &e), 0);
	assert_int_equal(r2.status, 201);
	assert_int_equal(r2.retry_after, 3);
	assert_string_equal(r2.ctype, "application/json");
	assert_int_equal(r2.body_len, 2);
	m = as_msg(CK_IMSG_API_REPLY, b, n, 5); /* a body and a descriptor */
	assert_int_equal(ck_api_reply_decode(&m, &r2, &e), -1);
	r.status = 600;
	assert_int_equal(ck_api_reply_encode(&r, b, sizeof(b)), 0);
	strcpy(r.ctype, "text/plain\r\nX: y");
	r.status = 200;
	assert_int_equal(ck_api_reply_encode(&r, b, sizeof(b)), 0);
	b[6] = 0; /* an empty media type */
	m = as_msg(CK_IMSG_API_REPLY, b, 7, -1);
	assert_int_equal(ck_api_reply_decode(&m, &r2, &e), -1);

	uint64_t k;
	bool ok;
	m = as_msg(CK_IMSG_API_BODY_DONE, b, ck_api_count_encode(1234, 1, b), -1);
	assert_int_equal(ck_api_count_decode(&m, &k, &ok, &e), 0);
	assert_int_equal(k, 1234);
	assert_true(ok);
	m = as_msg(CK_IMSG_API_BODY, b, 9, -1); /* BODY without its descriptor */
	assert_int_equal(ck_api_count_decode(&m, &k, &ok, &e), -1);
	b[8] = 2;
	m = as_msg(CK_IMSG_API_BODY_DONE, b, 9, -1);
	assert_int_equal(ck_api_count_decode(&m, &k, &ok, &e), -1);

	struct ck_router_stats st = {1, 2, 3, 4}, st2;
	m = as_msg(CK_IMSG_STATS, b, ck_stats_msg_encode(&st, b), -1);
	assert_int_equal(ck_stats_msg_decode(&m, &st2, &e), 0);
	assert_memory_equal(&st, &st2, sizeof(st));
	m = as_msg(CK_IMSG_STATS, b, 31, -1);
	assert_int_equal(ck_stats_msg_decode(&m, &st2, &e), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_api_messages),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
