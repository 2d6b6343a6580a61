/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The SNI router (router.h) as real processes on loopback: two TLS backends with their own
 * certificates (echo servers), the router in its own event loop, and real TLS clients (OpenSSL
 * in process, and the openssl s_client program). Each client sees its backend's certificate,
 * never anything of the router's; bytes pass both ways unchanged, 4 MiB included; an unknown
 * name gets the unrecognized_name alert; no SNI, plain HTTP, a silent client and a dead
 * backend are closed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "cloak/router.h"
#include "testutil.h"

#define HELLO_MS 500

static char *g_dir;
static pid_t g_alpha, g_beta, g_router;
static uint16_t g_alpha_port, g_beta_port, g_dead_port, g_router_port;

/* ---- the backends: TLS echo servers -------------------------------------------------------- */

static SSL_CTX *g_backend_ctx;

static void echo_conn(int fd)
{
	SSL *ssl = SSL_new(g_backend_ctx);
	char buf[65536];
	int n, one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	SSL_set_fd(ssl, fd);
	if (SSL_accept(ssl) == 1)
		while ((n = SSL_read(ssl, buf, sizeof(buf))) > 0)
			if (SSL_write(ssl, buf, n) != n)
				break;
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

static void backend(int lfd, const char *cn)
{
	char cmd[4400], cert[1024], key[1024];
	snprintf(cert, sizeof(cert), "%s/%s.pem", g_dir, cn);
	snprintf(key, sizeof(key), "%s/%s.key", g_dir, cn);
	snprintf(cmd, sizeof(cmd),
		 "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 "
		 "-subj /CN=%s -keyout '%s' -out '%s' 2>/dev/null",
		 cn, key, cert);
	if (system(cmd) != 0)
		_exit(3);
	g_backend_ctx = SSL_CTX_new(TLS_server_method());
	if (SSL_CTX_use_certificate_file(g_backend_ctx, cert, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_use_PrivateKey_file(g_backend_ctx, key, SSL_FILETYPE_PEM) != 1)
		_exit(3);
	tu_serve_forked(lfd, echo_conn);
}

/* ---- the router ----------------------------------------------------------------------------- */

static int route(void *arg, const struct ck_hello *h, struct sockaddr_storage *to, socklen_t *len)
{
	const char *name = h->name;
	(void)arg;
	uint16_t port = !strcmp(name, "alpha.localhost")  ? g_alpha_port
			: !strcmp(name, "beta.localhost") ? g_beta_port
			: !strcmp(name, "dead.localhost") ? g_dead_port
							  : 0;
	if (!port)
		return -1;
	struct sockaddr_in *in = (struct sockaddr_in *)to;
	memset(to, 0, sizeof(*to));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons(port);
	*len = sizeof(*in);
	return 0;
}

static void run_router(int lfd)
{
	struct event_base *base = event_base_new();
	struct ck_router_cfg cfg = {.route = route, .hello_timeout_ms = HELLO_MS};
	struct ck_router *r;
	signal(SIGPIPE, SIG_IGN);
	if (!base || ck_router_new(base, lfd, &cfg, &r, NULL) < 0)
		_exit(3);
	event_base_dispatch(base);
	_exit(0);
}

static int setup(void **state)
{
	(void)state;
	signal(SIGPIPE, SIG_IGN);
	g_dir = tu_mkdtemp("router");
	int a = tu_listen_any(&g_alpha_port), b = tu_listen_any(&g_beta_port),
	    d = tu_listen_any(&g_dead_port), r = tu_listen_any(&g_router_port);
	close(d); /* nobody there */
	if ((g_alpha = fork()) == 0)
		backend(a, "alpha");
	if ((g_beta = fork()) == 0)
		backend(b, "beta");
	if ((g_router = fork()) == 0)
		run_router(r);
	close(a);
	close(b);
	close(r);
	usleep(300 * 1000); /* the backends make their certificates */
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	pid_t all[] = {g_alpha, g_beta, g_router};
	for (int i = 0; i < 3; i++) {
		kill(all[i], SIGKILL);
		waitpid(all[i], NULL, 0);
	}
	tu_rmtree(g_dir);
	return 0;
}

/* ---- clients ---------------------------------------------------------------------------------
 */

static int dial(void)
{
	int fd = tu_dial(g_router_port), one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* no delayed-ACK waits */
	return fd;
}

/* A TLS connection through the router with `sni` (NULL: none); NULL if the handshake failed
 * (*why: OpenSSL's reason). */
static SSL *tls_via_router(SSL_CTX *ctx, const char *sni, char *why, size_t cap)
{
	int fd = dial();
	SSL *ssl = SSL_new(ctx);
	SSL_set_fd(ssl, fd);
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (SSL_connect(ssl) == 1)
		return ssl;
	unsigned long e = ERR_peek_last_error();
	snprintf(why, cap, "%s", e ? ERR_reason_error_string(e) : "closed");
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return NULL;
}

static void close_tls(SSL *ssl)
{
	int fd = SSL_get_fd(ssl);
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(fd);
}

static void peer_cn(SSL *ssl, char *cn, size_t cap)
{
	X509 *x = SSL_get1_peer_certificate(ssl);
	assert_non_null(x);
	X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, (int)cap);
	X509_free(x);
}

static void test_routes_by_name(void **state)
{
	(void)state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	const char *names[] = {"alpha.localhost", "BETA.localhost"}, *cns[] = {"alpha", "beta"};
	char why[256], cn[64], buf[16];
	for (int round = 0; round < 3; round++)
		for (int i = 0; i < 2; i++) {
			SSL *ssl = tls_via_router(ctx, names[i], why, sizeof(why));
			if (!ssl)
				fail_msg("%s: %s", names[i], why);
			peer_cn(ssl, cn, sizeof(cn));
			assert_string_equal(cn, cns[i]); /* the backend's own certificate */
			assert_int_equal(SSL_write(ssl, "ping", 4), 4);
			assert_int_equal(SSL_read(ssl, buf, sizeof(buf)), 4);
			assert_memory_equal(buf, "ping", 4);
			close_tls(ssl);
		}
	SSL_CTX_free(ctx);
}

static void test_bulk_both_ways(void **state)
{
	(void)state;
	enum { BIG = 4 << 20 };
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];
	SSL *ssl = tls_via_router(ctx, "alpha.localhost", why, sizeof(why));
	assert_non_null(ssl);
	uint8_t *out = malloc(BIG), *in = malloc(BIG);
	for (size_t i = 0; i < BIG; i++)
		out[i] = (uint8_t)(i * 7 + (i >> 12));
	size_t sent = 0, got = 0;
	while (got < BIG) { /* interleaved, so neither side's buffers fill for good */
		if (sent < BIG) {
			int k = SSL_write(ssl, out + sent,
					  (int)(BIG - sent < 65536 ? BIG - sent : 65536));
			assert_true(k > 0);
			sent += (size_t)k;
		}
		int k = SSL_read(ssl, in + got, (int)(BIG - got));
		if (k <= 0)
			fail_msg("after %zu of %d bytes back: %d", got, BIG, SSL_get_error(ssl, k));
		got += (size_t)k;
	}
	assert_memory_equal(in, out, BIG);
	close_tls(ssl);
	free(in);
	free(out);
	SSL_CTX_free(ctx);
}

/* Pipes are pooled across connections: a connection dropped with bytes still in its pipes must
 * not hand them to the next (a stale byte would break the next TLS session), and more
 * connections in a row than the pool holds each get exactly their own bytes back. */
static void test_pipes_reused(void **state)
{
	(void)state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256], buf[64], msg[64];
	static uint8_t junk[1 << 20];
	for (int d = 0; d < 4; d++) { /* written, never read back, then dropped */
		SSL *ssl = tls_via_router(ctx, "alpha.localhost", why, sizeof(why));
		assert_non_null(ssl);
		int fd = SSL_get_fd(ssl);
		struct linger lg = {1, 0}; /* a reset: nothing flushed */
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); /* write until all is full */
		for (int i = 0; i < 64; i++)
			if (SSL_write(ssl, junk, sizeof(junk) / 16) <= 0)
				break;
		usleep(50000); /* the echo fills the router's pipes toward us */
		SSL_free(ssl);
		close(fd);
	}
	for (int i = 0; i < CK_ROUTER_PIPE_POOL + 8; i++) { /* 2 pipes each: past the pool */
		SSL *ssl = tls_via_router(ctx, "alpha.localhost", why, sizeof(why));
		if (!ssl)
			fail_msg("connection %d: %s", i, why);
		int n = snprintf(msg, sizeof(msg), "connection %d", i);
		assert_int_equal(SSL_write(ssl, msg, n), n);
		assert_int_equal(SSL_read(ssl, buf, sizeof(buf)), n);
		assert_memory_equal(buf, msg, (size_t)n);
		close_tls(ssl);
	}
	SSL_CTX_free(ctx);
}

static void test_refusals(void **state)
{
	(void)state;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	char why[256];
	/* a name the node does not serve: told so by an alert, in the handshake */
	assert_null(tls_via_router(ctx, "other.localhost", why, sizeof(why)));
	if (!strstr(why, "unrecognized name"))
		fail_msg("unknown name: '%s'", why);
	/* no name at all, and a dead backend: closed */
	assert_null(tls_via_router(ctx, NULL, why, sizeof(why)));
	assert_null(tls_via_router(ctx, "dead.localhost", why, sizeof(why)));
	SSL_CTX_free(ctx);
	/* plain HTTP: closed without an answer */
	int fd = dial();
	const char *req = "GET / HTTP/1.1\r\nHost: alpha.localhost\r\n\r\n";
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	char b[64];
	assert_true(read(fd, b, sizeof(b)) <= 0);
	close(fd);
	/* a client that says nothing: closed at the ClientHello timeout */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	fd = dial();
	assert_true(read(fd, b, sizeof(b)) <= 0);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double took = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	assert_true(took >= HELLO_MS / 1000.0 * 0.8 && took < 4.0);
	close(fd);
}

/* A real client program: openssl s_client sees the backend's certificate. */
static void test_s_client(void **state)
{
	(void)state;
	char cmd[512];
	snprintf(cmd, sizeof(cmd),
		 "echo | openssl s_client -connect 127.0.0.1:%u -servername beta.localhost "
		 "2>/dev/null | openssl x509 -noout -subject 2>/dev/null",
		 g_router_port);
	FILE *p = popen(cmd, "r");
	char line[256] = "";
	size_t n = fread(line, 1, sizeof(line) - 1, p);
	line[n] = 0;
	pclose(p);
	if (!strstr(line, "CN = beta"))
		fail_msg("s_client saw: '%s'", line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes_by_name), cmocka_unit_test(test_bulk_both_ways),
	    cmocka_unit_test(test_pipes_reused),   cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_s_client),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
