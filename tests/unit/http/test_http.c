/* SPDX-License-Identifier: Apache-2.0 */
/* The strict HTTP/1.1 parser: what it accepts, every smuggling shape it must refuse (with the
 * status to answer), limits, responses, and the chunked decoder fed byte by byte. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/http.h"
#include "testutil.h"

static long req(const char *s, struct ck_http_head *h, int *status)
{
	return ck_http_parse_request(s, strlen(s), h, status, NULL);
}

static void test_good_requests(void **s)
{
	(void)s;
	struct ck_http_head h;
	int st;
	const char *r = "GET /a?b=c HTTP/1.1\r\nHost: x\r\nUser-Agent: t\t \r\n\r\nBODY";
	assert_int_equal(req(r, &h, &st), (long)(strstr(r, "BODY") - r));
	assert_int_equal(h.method_len, 3);
	assert_memory_equal(h.target, "/a?b=c", 6);
	assert_int_equal(h.minor, 1);
	assert_true(h.keep_alive);
	assert_int_equal(h.body, CK_HTTP_BODY_NONE);
	assert_int_equal(ck_http_find(&h, "user-agent")->value_len, 1); /* trailing OWS trimmed */
	r = "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12\r\nConnection: close\r\n\r\n";
	assert_true(req(r, &h, &st) > 0);
	assert_int_equal(h.body, CK_HTTP_BODY_LENGTH);
	assert_int_equal(h.content_length, 12);
	assert_false(h.keep_alive);
	r = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nExpect: "
	    "100-continue\r\n\r\n";
	assert_true(req(r, &h, &st) > 0);
	assert_int_equal(h.body, CK_HTTP_BODY_CHUNKED);
	assert_true(h.expect_continue);
	assert_true(req("GET / HTTP/1.0\r\n\r\n", &h, &st) > 0); /* 1.0: no Host needed */
	assert_false(h.keep_alive);
	assert_true(req("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", &h, &st) > 0);
	/* valid authorities */
	const char *hosts[] = {"a",	    "app.example.com:8443", "127.0.0.1:1",
			       "[::1]:443", "[2001:db8::1]",	    "x_y-z.localhost",
			       "a.b.:65535"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++) {
		char b[128];
		snprintf(b, sizeof(b), "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", hosts[i]);
		if (req(b, &h, &st) <= 0)
			fail_msg("Host '%s' refused", hosts[i]);
	}
	/* incomplete: more bytes needed, at every cut */
	r = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
	for (size_t k = 0; k < strlen(r); k++) {
		long n = ck_http_parse_request(r, k, &h, &st, NULL);
		if (n != 0)
			fail_msg("prefix of %zu bytes gave %ld", k, n);
	}
}

static void test_refused(void **s)
{
	(void)s;
	struct {
		const char *what, *req;
		int status;
	} bad[] = {
	    {"bare CR in a value",
	     "GET / HTTP/1.1\r\nHost: x\r\nX-Abc: \rxTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"bare LF line ends", "GET / HTTP/1.1\nHost: x\n\n", 400},
	    {"bare LF inside headers", "GET / HTTP/1.1\r\nHost: x\nX: y\r\n\r\n", 400},
	    {"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n  b\r\n\r\n", 400},
	    {"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", 400},
	    {"tab before colon", "GET / HTTP/1.1\r\nHost\t: x\r\n\r\n", 400},
	    {"CL and TE",
	     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: "
	     "chunked\r\n\r\n",
	     400},
	    {"TE and CL",
	     "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: "
	     "3\r\n\r\n",
	     400},
	    {"two equal CLs",
	     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 400},
	    {"CL list", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\n\r\n", 400},
	    {"CL with sign", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +3\r\n\r\n", 400},
	    {"CL hex", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x3\r\n\r\n", 400},
	    {"CL empty", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400},
	    {"CL huge",
	     "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\n", 400},
	    {"TE gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	     501},
	    {"TE xchunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n",
	     501},
	    {"two TEs",
	     "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: "
	     "chunked\r\n\r\n",
	     400},
	    {"TE in 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
	    {"no Host", "GET / HTTP/1.1\r\n\r\n", 400},
	    {"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
	    {"NUL in value", "GET / HTTP/1.1\r\nHost: x\r\nX: a\001b\r\n\r\n", 400},
	    {"non-token name", "GET / HTTP/1.1\r\nHost: x\r\nX(y): z\r\n\r\n", 400},
	    {"empty name", "GET / HTTP/1.1\r\nHost: x\r\n: z\r\n\r\n", 400},
	    {"absolute-form target", "GET http://evil/ HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"GET *", "GET * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"options * in lower case", "options * HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"empty Host", "GET / HTTP/1.1\r\nHost:\r\n\r\n", 400},
	    {"blank Host", "GET / HTTP/1.1\r\nHost:   \r\n\r\n", 400},
	    {"empty Host in 1.0", "GET / HTTP/1.0\r\nHost: \r\n\r\n", 400},
	    {"Host with a path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
	    {"Host with userinfo", "GET / HTTP/1.1\r\nHost: user@a\r\n\r\n", 400},
	    {"Host with a space", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
	    {"Host with two dots", "GET / HTTP/1.1\r\nHost: a..b\r\n\r\n", 400},
	    {"Host port too big", "GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n", 400},
	    {"Host empty port", "GET / HTTP/1.1\r\nHost: a:\r\n\r\n", 400},
	    {"Host port not digits", "GET / HTTP/1.1\r\nHost: a:8o\r\n\r\n", 400},
	    {"Host bracket unclosed", "GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", 400},
	    {"Host only a port", "GET / HTTP/1.1\r\nHost: :80\r\n\r\n", 400},
	    {"space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"two spaces", "GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505},
	    {"lower-case version", "GET / http/1.1\r\nHost: x\r\n\r\n", 505},
	    {"method with slash", "G/T / HTTP/1.1\r\nHost: x\r\n\r\n", 400},
	    {"Expect other", "GET / HTTP/1.1\r\nHost: x\r\nExpect: 200-ok\r\n\r\n", 417},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_http_head h;
		int st = 0;
		long r = req(bad[i].req, &h, &st);
		if (r != -1 || st != bad[i].status)
			fail_msg("%s: got %ld status %d, want -1 status %d", bad[i].what, r, st,
				 bad[i].status);
	}
}

static void test_limits(void **s)
{
	(void)s;
	struct ck_http_head h;
	int st;
	/* too many headers */
	char *b = malloc(CK_HTTP_MAX_HEAD * 2);
	strcpy(b, "GET / HTTP/1.1\r\nHost: x\r\n");
	for (int i = 0; i < CK_HTTP_MAX_HEADERS; i++)
		sprintf(b + strlen(b), "X-%d: y\r\n", i);
	strcat(b, "\r\n");
	assert_int_equal(req(b, &h, &st), -1);
	assert_int_equal(st, 431);
	/* a head that never ends */
	memset(b, 'a', CK_HTTP_MAX_HEAD * 2);
	memcpy(b, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(ck_http_parse_request(b, CK_HTTP_MAX_HEAD * 2, &h, &st, NULL), -1);
	assert_int_equal(st, 431);
	/* a request line that never ends */
	memset(b, 'a', CK_HTTP_MAX_HEAD + 10);
	memcpy(b, "GET /", 5);
	assert_int_equal(ck_http_parse_request(b, CK_HTTP_MAX_HEAD + 10, &h, &st, NULL), -1);
	assert_int_equal(st, 431);
	free(b);
}

static void test_responses(void **s)
{
	(void)s;
	struct ck_http_head h;
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
	assert_int_equal(ck_http_parse_response(r, strlen(r), false, &h, NULL),
			 (long)strlen(r) - 5);
	assert_int_equal(h.status, 200);
	assert_int_equal(h.body, CK_HTTP_BODY_LENGTH);
	r = "HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n";
	assert_true(ck_http_parse_response(r, strlen(r), false, &h, NULL) > 0);
	assert_int_equal(h.body, CK_HTTP_BODY_NONE);
	r = "HTTP/1.1 200 OK\r\n\r\n";
	assert_true(ck_http_parse_response(r, strlen(r), false, &h, NULL) > 0);
	assert_int_equal(h.body, CK_HTTP_BODY_UNTIL_CLOSE);
	assert_true(ck_http_parse_response(r, strlen(r), true, &h, NULL) > 0); /* HEAD */
	assert_int_equal(h.body, CK_HTTP_BODY_NONE);
	const char *bad[] = {"HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 600 X\r\n\r\n",
			     "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n",
			     "HTTP/1.1 200OK\r\n\r\n", "HTTP/1.1 200 O\001K\r\n\r\n"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ck_http_parse_response(bad[i], strlen(bad[i]), false, &h, NULL) != -1)
			fail_msg("accepted response '%s'", bad[i]);
}

/* Decodes a whole chunked body, feeding `step` bytes at a time. */
static int dechunk(const char *in, size_t step, char *out, size_t *out_len, bool *done)
{
	struct ck_http_chunked c = {0};
	size_t off = 0, n = strlen(in), w = 0;
	while (off < n && !c.done) {
		size_t k = n - off < step ? n - off : step, used;
		const uint8_t *d;
		size_t dl;
		if (ck_http_chunked_feed(&c, (const uint8_t *)in + off, k, &used, &d, &dl, NULL) <
		    0)
			return -1;
		if (dl)
			memcpy(out + w, d, dl);
		w += dl;
		off += used;
	}
	*out_len = w;
	*done = c.done;
	return (int)off;
}

static void test_chunked(void **s)
{
	(void)s;
	char out[256];
	size_t n;
	bool done;
	const char *body = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-Trailer: y\r\n\r\nNEXT";
	for (size_t step = 1; step < 70; step += 7) {
		int used = dechunk(body, step, out, &n, &done);
		assert_true(done);
		assert_int_equal(n, 12);
		assert_memory_equal(out, "hello, world", 12);
		assert_int_equal(used, (int)(strstr(body, "NEXT") - body)); /* stops at the end */
	}
	const char *bad[] = {
	    "5\r\nhelloXX\r\n0\r\n\r\n", /* data longer than its size */
	    "5\nhello\r\n0\r\n\r\n",	 /* bare LF after the size */
	    "g\r\n",			 /* not hex */
	    "\r\n",			 /* empty size */
	    "11111111111111111\r\n",	 /* over 16 hex digits */
	    "5\r\nhello\r0\r\n\r\n",	 /* bare CR after data */
	    "0\r\nX: a\rb\r\n\r\n",	 /* bare CR in the trailer */
	    "-1\r\n",			 /* a sign */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dechunk(bad[i], 3, out, &n, &done) != -1)
			fail_msg("accepted chunked body #%zu", i);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_good_requests), cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_limits),	  cmocka_unit_test(test_responses),
	    cmocka_unit_test(test_chunked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
