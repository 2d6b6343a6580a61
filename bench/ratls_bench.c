/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Full TLS 1.3 handshakes per second on loopback against one server (a thread holding a sim
 * RA-TLS certificate, P-256): plain (the client verifies the certificate against a trust store
 * holding it, as PKI clients do) beside RA-TLS (the client appraises the evidence in the
 * certificate with collateral already verified, checks bindings and claims). No resumption.
 * Usage: bench_ratls PKI_DIR [SECONDS]
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "bench.h"
#include "cloak/attest.h"
#include "cloak/ratls.h"
#include "cloak/ratls_tls.h"

static SSL_CTX *sctx;
static int lfd;

static void *serve(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		SSL *s = SSL_new(sctx);
		SSL_set_fd(s, fd);
		if (SSL_accept(s) == 1) {
			char b;
			SSL_read(s, &b, 1); /* until the client closes */
		}
		SSL_free(s);
		close(fd);
	}
}

static int handshake(SSL_CTX *c, uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	SSL *s = SSL_new(c);
	SSL_set_fd(s, fd);
	SSL_set_tlsext_host_name(s, "localhost");
	int ok = SSL_connect(s) == 1;
	SSL_free(s); /* no close_notify wait: the server's read sees EOF */
	close(fd);
	return ok ? 0 : -1;
}

struct hs {
	SSL_CTX *ctx;
	uint16_t port;
};

static int one(void *arg)
{
	struct hs *h = arg;
	return handshake(h->ctx, h->port);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return fprintf(stderr, "usage: %s PKI_DIR [SECONDS]\n", argv[0]), 2;
	double secs = argc > 2 ? atof(argv[2]) : 3;
	struct ck_attester *att;
	struct ck_sim_quote_opts id;
	struct ck_err e;
	signal(SIGPIPE, SIG_IGN);
	ck_sim_quote_opts_default(&id, 0);
	if (ck_attester_sim(argv[1], &id, &att, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;
	static const char *const dns[] = {"localhost", NULL};
	struct ck_ratls_cert_opts co = {.common_name = "localhost", .dns = dns, .valid_days = 1,
					.legacy_extension = true};
	co.claims.phase = CK_PHASE_SERVING;
	co.claims.mode = CK_MODE_ZERO_TRUST;
	EVP_PKEY *key;
	X509 *cert;
	if (ck_ratls_issue(att, &co, &key, &cert, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;
	sctx = SSL_CTX_new(TLS_server_method());
	SSL_CTX_use_certificate(sctx, cert);
	SSL_CTX_use_PrivateKey(sctx, key);
	SSL_CTX_set_min_proto_version(sctx, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(sctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(sctx, 0);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t sl = sizeof(sa);
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(lfd, 128) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		return perror("listen"), 1;
	uint16_t port = ntohs(sa.sin_port);
	pthread_t th;
	pthread_create(&th, NULL, serve, NULL);

	/* plain: PKI-style verification of the same certificate */
	SSL_CTX *plain = SSL_CTX_new(TLS_client_method());
	X509_STORE_add_cert(SSL_CTX_get_cert_store(plain), cert);
	SSL_CTX_set_verify(plain, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_min_proto_version(plain, TLS1_3_VERSION);
	SSL_CTX_set_session_cache_mode(plain, SSL_SESS_CACHE_OFF);

	/* RA-TLS: collateral verified once, as a client that talks to one platform does */
	struct ck_collateral coll;
	struct ck_verified_collateral *vc;
	struct ck_policy pol;
	if (att->collateral(att, &coll, &e) < 0 || ck_collateral_verify(&coll, true, &vc, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;
	ck_policy_default(&pol);
	pol.allow_simulation = true;
	struct ck_ratls_verifier v = {.vc = vc, .policy = &pol};
	v.expect.phase = CK_PHASE_SERVING;
	SSL_CTX *ratls = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_min_proto_version(ratls, TLS1_3_VERSION);
	if (ck_ratls_ssl_ctx_client(ratls, &v, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;

	struct hs hp = {plain, port}, hr = {ratls, port};
	double tp[BENCH_ROUNDS], tr[BENCH_ROUNDS], ra[BENCH_ROUNDS];
	bench_time(one, &hp, 0.2); /* warm-up */
	for (int i = 0; i < BENCH_ROUNDS; i++) {
		tp[i] = bench_time(one, &hp, secs / BENCH_ROUNDS / 2);
		tr[i] = bench_time(one, &hr, secs / BENCH_ROUNDS / 2);
		if (tp[i] < 0 || tr[i] < 0)
			return fprintf(stderr, "a handshake failed: %s\n", v.last_error.msg), 1;
		ra[i] = tr[i] / tp[i] - 1;
	}
	double mp = bench_median(tp, BENCH_ROUNDS), mr = bench_median(tr, BENCH_ROUNDS);
	printf("{\"plain_per_s\": %.0f, \"plain_us\": %.0f, \"ratls_per_s\": %.0f, \"ratls_us\": %.0f, "
	       "\"added\": %.2f}\n",
	       1 / mp, mp * 1e6, 1 / mr, mr * 1e6, bench_median(ra, BENCH_ROUNDS));
	return 0;
}
