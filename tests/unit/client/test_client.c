/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The one client (client.h) against a real server process on loopback that answers each path
 * its own way: well framed (length, chunked, two on one connection), malformed, cut short,
 * too large, unframed, silent; and over TLS with the RA-TLS hook, a certificate that carries
 * no evidence (refused in the handshake). The address parser (target.h) beside it.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "cloak/client.h"
#include "cloak/ratls_tls.h"
#include "cloak/sim.h"
#include "cloak/target.h"
#include "testutil.h"

static pid_t g_srv, g_tls;
static uint16_t g_port, g_tls_port;
static char *g_dir;

static void put(int fd, const char *s)
{
	ssize_t n = write(fd, s, strlen(s));
	(void)n;
}

/* One connection: answers requests by path until the client closes. */
static void answer(int fd)
{
	char buf[8192];
	size_t len = 0;
	for (;;) {
		char *end;
		while (!(end = memmem(buf, len, "\r\n\r\n", 4))) {
			ssize_t k = read(fd, buf + len, sizeof(buf) - len);
			if (k <= 0)
				return;
			len += (size_t)k;
		}
		char path[128] = "";
		sscanf(buf, "%*s %127s", path);
		size_t used = (size_t)(end + 4 - buf);
		memmove(buf, buf + used, len - used);
		len -= used;
		if (!strcmp(path, "/ok"))
			put(fd,
			    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRetry-After: 7\r\n\r\nhello");
		else if (!strcmp(path, "/retry-long"))
			put(fd, "HTTP/1.1 429 Too Many Requests\r\nContent-Length: 0\r\n"
				"Retry-After: 1234567\r\n\r\n");
		else if (!strcmp(path, "/retry-date"))
			put(fd, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
				"Retry-After: Fri, 31 Dec 1999 23:59:59 GMT\r\n\r\n");
		else if (!strcmp(path, "/chunked"))
			put(fd, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
				"3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
		else if (!strcmp(path, "/malformed"))
			put(fd, "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi");
		else if (!strcmp(path, "/short")) {
			put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this");
			return;
		} else if (!strcmp(path, "/big"))
			put(fd, "HTTP/1.1 200 OK\r\nContent-Length: 999999\r\n\r\n");
		else if (!strcmp(path, "/unframed")) {
			put(fd, "HTTP/1.1 200 OK\r\n\r\nuntil close");
			return;
		} else if (!strcmp(path, "/close"))
			return;
		else if (!strcmp(path, "/silent"))
			sleep(5);
		else
			put(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
	}
}

/* A TLS server whose certificate carries no evidence. */
static void serve_tls(int lfd, const char *cert, const char *key)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate_file(ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(3);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		SSL *ssl = SSL_new(ctx);
		SSL_set_fd(ssl, fd);
		(void)SSL_accept(ssl);
		SSL_free(ssl);
		close(fd);
	}
}

static int setup(void **state)
{
	(void)state;
	char cmd[4096], cert[1024], key[1024];
	signal(SIGPIPE, SIG_IGN);
	g_dir = tu_mkdtemp("client");
	snprintf(cert, sizeof(cert), "%s/cert.pem", g_dir);
	snprintf(key, sizeof(key), "%s/key.pem", g_dir);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
		 "-subj /CN=localhost -keyout '%s' -out '%s' 2>/dev/null",
		 key, cert);
	if (system(cmd) != 0)
		return -1;
	int a = tu_listen_any(&g_port), b = tu_listen_any(&g_tls_port);
	if ((g_srv = fork()) == 0)
		tu_serve_forked(a, answer);
	if ((g_tls = fork()) == 0)
		serve_tls(b, cert, key);
	close(a);
	close(b);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	kill(g_srv, SIGKILL);
	kill(g_tls, SIGKILL);
	waitpid(g_srv, NULL, 0);
	waitpid(g_tls, NULL, 0);
	tu_rmtree(g_dir); /* frees it */
	return 0;
}

static void plain(struct ck_client *c, unsigned timeout_ms)
{
	struct ck_target t;
	char s[64];
	snprintf(s, sizeof(s), "http://127.0.0.1:%u", g_port);
	assert_int_equal(ck_target_parse(s, &t, NULL), 0);
	struct ck_err e;
	if (ck_client_open(c, &t, NULL, timeout_ms, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_well_framed(void **state)
{
	(void)state;
	struct ck_client c;
	struct ck_client_resp r;
	struct ck_err e;
	plain(&c, 0);
	assert_int_equal(ck_client_request(&c, "GET", "/ok", NULL, NULL, 0, 100, &r, &e), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.retry_after, 7);
	assert_string_equal(r.body, "hello");
	size_t hl;
	const char *hv = ck_client_resp_header(&r, "RETRY-AFTER", &hl); /* names are case-blind */
	assert_non_null(hv);
	assert_int_equal(hl, 1);
	assert_memory_equal(hv, "7", 1);
	assert_null(ck_client_resp_header(&r, "x-absent", &hl));
	assert_int_equal(hl, 0);
	ck_client_resp_free(&r);
	assert_null(ck_client_resp_header(&r, "retry-after", &hl)); /* freed: no head */
	/* a Retry-After that is not a short delay-seconds is no delay at all */
	const char *no_delay[] = {"/retry-long", "/retry-date"};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(
		    ck_client_request(&c, "GET", no_delay[i], NULL, NULL, 0, 100, &r, &e), 0);
		assert_true(r.status == 429 || r.status == 503);
		assert_int_equal(r.retry_after, 0);
		ck_client_resp_free(&r);
	}
	/* the same connection again, chunked this time, and a POST with a body */
	assert_int_equal(ck_client_request(&c, "GET", "/chunked", NULL, NULL, 0, 100, &r, &e), 0);
	assert_string_equal(r.body, "abcde");
	assert_int_equal(r.len, 5);
	ck_client_resp_free(&r);
	assert_int_equal(
	    ck_client_request(&c, "POST", "/nothing", "text/plain", "x", 1, 100, &r, &e), 0);
	assert_int_equal(r.status, 404);
	ck_client_resp_free(&r);
	ck_client_close(&c);
}

/* Each bad answer is an error that says what was wrong; nothing of it is returned. */
static void test_bad_answers(void **state)
{
	(void)state;
	struct {
		const char *path, *says;
	} bad[] = {
	    {"/malformed", "malformed"},
	    {"/short", "ended after 9 of 100"},
	    {"/big", "over the 100 allowed"},
	    {"/unframed", "neither a length nor chunks"},
	    {"/close", "closed before a response"},
	    {"/silent", "no response"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_client c;
		struct ck_client_resp r;
		struct ck_err e;
		plain(&c, 300);
		if (ck_client_request(&c, "GET", bad[i].path, NULL, NULL, 0, 100, &r, &e) == 0)
			fail_msg("%s: accepted", bad[i].path);
		if (!strstr(e.msg, bad[i].says) || !strstr(e.msg, bad[i].path))
			fail_msg("%s: '%s' does not say '%s'", bad[i].path, e.msg, bad[i].says);
		assert_null(r.body);
		ck_client_close(&c);
	}
	/* nobody listening */
	struct ck_target t;
	struct ck_client c;
	struct ck_err e;
	assert_int_equal(ck_target_parse("http://127.0.0.1:1", &t, NULL), 0);
	assert_int_equal(ck_client_open(&c, &t, NULL, 300, &e), -1);
	assert_string_equal(e.code, CK_E_TLS);
	assert_non_null(strstr(e.msg, "127.0.0.1:1"));
}

/* TLS through the RA-TLS hook: a certificate without evidence is refused in the handshake. */
static void test_wrong_certificate(void **state)
{
	(void)state;
	char pki[1100];
	snprintf(pki, sizeof(pki), "%s/pki", g_dir);
	assert_int_equal(ck_sim_init(pki, ck_time_now(), NULL), 0);
	struct ck_attester *att;
	struct ck_sim_quote_opts id;
	struct ck_collateral coll;
	struct ck_verified_collateral *vc;
	struct ck_policy pol;
	ck_sim_quote_opts_default(&id, ck_time_now());
	assert_int_equal(ck_attester_sim(pki, &id, &att, NULL), 0);
	assert_int_equal(att->collateral(att, &coll, NULL), 0);
	assert_int_equal(ck_collateral_verify(&coll, true, &vc, NULL), 0);
	ck_policy_default(&pol);
	pol.allow_simulation = true;
	struct ck_ratls_verifier v = {.vc = vc, .policy = &pol};
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(ck_ratls_ssl_ctx_client(ctx, &v, NULL), 0);
	struct ck_target t;
	struct ck_client c;
	struct ck_err e;
	char s[64];
	snprintf(s, sizeof(s), "127.0.0.1:%u", g_tls_port);
	assert_int_equal(ck_target_parse(s, &t, NULL), 0);
	assert_true(t.tls);
	assert_int_equal(ck_client_open(&c, &t, ctx, 2000, &e), -1);
	assert_string_equal(e.code, CK_E_TLS);
	assert_string_equal(v.last_error.code, CK_E_RATLS_NONE);
	SSL_CTX_free(ctx);
	ck_verified_collateral_free(vc);
	ck_collateral_free(&coll);
	ck_attester_free(att);
}

static void test_targets(void **state)
{
	(void)state;
	/* An explicit port is the free port this run found (g_port): a row
	 * with port 0 is "<head>:<g_port><tail>"; any other row is "<head>"
	 * alone and expects its scheme's default port. */
	struct {
		const char *head, *tail, *host;
		unsigned port;
		bool tls;
		const char *path;
	} good[] = {
	    {"enclave.example", "", "enclave.example", 0, true, ""},
	    {"[::1]", "", "::1", 0, true, ""},
	    {"https://node.example", "", "node.example", 443, true, ""},
	    {"https://node.example", "/v1/apps", "node.example", 0, true, "/v1/apps"},
	    {"http://127.0.0.1", "", "127.0.0.1", 0, false, ""},
	    {"http://[2001:db8::1]/x", "", "2001:db8::1", 80, false, "/x"},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char s[128];
		struct ck_target t;
		struct ck_err e;
		if (good[i].port)
			snprintf(s, sizeof(s), "%s", good[i].head);
		else
			snprintf(s, sizeof(s), "%s:%u%s", good[i].head, g_port, good[i].tail);
		if (ck_target_parse(s, &t, &e) < 0)
			fail_msg("'%s' refused: %s", s, e.msg);
		assert_string_equal(t.host, good[i].host);
		assert_int_equal(t.port, good[i].port ? good[i].port : g_port);
		assert_int_equal(t.tls, good[i].tls);
		assert_string_equal(t.path, good[i].path);
	}
	{
		/* Port 0 is a valid request for "any port" in a listen target. */
		struct ck_target t;
		struct ck_err e;
		assert_int_equal(ck_target_parse("127.0.0.1:0", &t, &e), 0);
		assert_int_equal(t.port, 0);
	}
	const char *bad[] = {
	    "enclave.example", ":443",	       "host:",	   "host:65536",     "host:08",
	    "host:44x",	       "ho st:1",      "a..b:1",   "user@host:1",    "https://user@h/",
	    "https://h/?q=1",  "https://h/#f", "https://", "ftp://h:1",	     "[::1:443",
	    "[nope]:1",	       "/path:1",      "",	   "https://h:99999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_target t;
		struct ck_err e;
		if (ck_target_parse(bad[i], &t, &e) == 0)
			fail_msg("'%s' accepted", bad[i]);
		char quoted[64];
		snprintf(quoted, sizeof(quoted), "'%s'", bad[i]);
		assert_non_null(strstr(e.msg, quoted));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_targets),
	    cmocka_unit_test(test_well_framed),
	    cmocka_unit_test(test_bad_answers),
	    cmocka_unit_test(test_wrong_certificate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
