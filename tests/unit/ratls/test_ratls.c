/* SPDX-License-Identifier: Apache-2.0 */
/*
 * RA-TLS: claims (CBOR), the real certificates of Gramine, the Intel SGX SDK, rats-tls and
 * Cosmian MSE, certificates we issue, and the OpenSSL integration over a real TLS connection.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cloak/attest.h"
#include "cloak/ratls.h"
#include "cloak/ratls_tls.h"
#include "testutil.h"

/* ---- claims --------------------------------------------------------------------------------- */

static void test_claims(void **s)
{
	(void)s;
	struct ck_claims c = {0}, d;
	uint8_t *b;
	size_t n;
	c.has_pubkey_hash = true;
	c.hash_alg = CK_HASH_SHA256;
	c.pubkey_hash_len = 32;
	memset(c.pubkey_hash, 0x11, 32);
	c.phase = CK_PHASE_SERVING;
	c.mode = CK_MODE_OWNER_CERT;
	c.has_app = true;
	memset(c.app, 0x22, 32);
	c.has_nonce = true;
	c.nonce_len = 3;
	memcpy(c.nonce, "abc", 3);
	assert_int_equal(ck_claims_encode(&c, &b, &n, NULL), 0);
	assert_int_equal(ck_claims_parse(b, n, &d, NULL), 0);
	assert_int_equal(d.phase, CK_PHASE_SERVING);
	assert_int_equal(d.mode, CK_MODE_OWNER_CERT);
	assert_memory_equal(d.app, c.app, 32);
	assert_memory_equal(d.pubkey_hash, c.pubkey_hash, 32);
	/* deterministic: map of 5, then "nonce" first (shortest key) */
	assert_int_equal(b[0], 0xa5);
	assert_memory_equal(b + 1, "\x65nonce", 6);
	/* every truncation fails, and so does trailing data */
	for (size_t k = 0; k < n; k++)
		assert_int_equal(ck_claims_parse(b, k, &d, NULL), -1);
	uint8_t *t = malloc(n + 1);
	memcpy(t, b, n);
	t[n] = 0;
	assert_int_equal(ck_claims_parse(t, n + 1, &d, NULL), -1);
	free(t);
	free(b);
	struct {
		const char *what;
		const uint8_t *bytes;
		size_t n;
	} bad[] = {
	    {"not a map", (const uint8_t *)"\x80", 1},
	    {"indefinite map", (const uint8_t *)"\xbf\xff", 2},
	    {"non-minimal length", (const uint8_t *)"\xb8\x01\x65nonce\x41\x00", 10},
	    {"duplicate key", (const uint8_t *)"\xa2\x61x\x01\x61x\x02", 7},
	    {"integer key", (const uint8_t *)"\xa1\x01\x02", 3},
	    {"nonce not bytes", (const uint8_t *)"\xa1\x65nonce\x01", 8},
	    {"phase unknown",
	     (const uint8_t *)"\xa1\x6b"
			      "cloak.phase\x63"
			      "bad",
	     17},
	    {"float value", (const uint8_t *)"\xa1\x61x\xf9\x00\x00", 6},
	    {"app too short",
	     (const uint8_t *)"\xa1\x69"
			      "cloak.app\x41\x00",
	     13},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (ck_claims_parse(bad[i].bytes, bad[i].n, &d, NULL) == 0)
			fail_msg("accepted claims: %s", bad[i].what);
	/* pubkey-hash with each CCC algorithm, and an unknown one */
	const uint8_t ph384[] = {0xa1, 0x6b, 'p', 'u',	'b',  'k',  'e',  'y',	'-', 'h',
				 'a',  's',  'h', 0x58, 0x34, 0x82, 0x07, 0x58, 0x30};
	uint8_t buf[128];
	memcpy(buf, ph384, sizeof(ph384));
	memset(buf + sizeof(ph384), 0x44, 48);
	assert_int_equal(ck_claims_parse(buf, sizeof(ph384) + 48, &d, NULL), 0);
	assert_int_equal(d.hash_alg, CK_HASH_SHA384);
	buf[16] = 0x09; /* algorithm 9: unknown */
	assert_int_equal(ck_claims_parse(buf, sizeof(ph384) + 48, &d, NULL), -1);
}

/* ---- real certificates ------------------------------------------------------------------------
 */

static X509 *load_cert(const char *rel)
{
	size_t n;
	uint8_t *b = tu_read(rel, &n);
	BIO *bio = BIO_new_mem_buf(b, (int)n);
	X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(b);
	assert_non_null(x);
	return x;
}

static const struct ck_ratls_ext *find(const struct ck_ratls_info *i, enum ck_ratls_kind k)
{
	for (size_t j = 0; j < i->n_ext; j++)
		if (i->ext[j].kind == k)
			return &i->ext[j];
	return NULL;
}

static void test_real_certificates(void **s)
{
	(void)s;
	struct ck_ratls_info info;
	struct ck_err e;
	X509 *x;

	x = load_cert("ra-tls/ccc-interop/gramine-cert.pem");
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	assert_int_equal(info.n_ext, 2);
	assert_true(find(&info, CK_RATLS_GRAMINE_LEGACY)->bound); /* RD = SHA-256(SPKI) */
	assert_true(find(&info, CK_RATLS_STANDARD)->bound); /* pubkey-hash and SHA-256(claims) */
	assert_true(info.claims_bound && info.key_bound);
	assert_int_equal(info.claims.hash_alg, CK_HASH_SHA256);
	X509_free(x);

	x = load_cert("ra-tls/ccc-interop/rats-tls-cert.pem");
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	assert_int_equal(info.n_ext, 1);
	assert_true(info.key_bound && info.claims_bound);
	assert_int_equal(info.claims.n_unknown, 2); /* key_0, key_1 */
	X509_free(x);

	x = load_cert("ra-tls/ccc-interop/intel-sgxsdk-cert.pem");
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	assert_int_equal(info.n_ext, 2);
	assert_false(find(&info, CK_RATLS_INTEL_SDK)->binding_defined);
	assert_true(find(&info, CK_RATLS_STANDARD)->bound);
	assert_true(info.key_bound);
	X509_free(x);

	const char *mse[] = {"ra-tls/mse/mse_ratls_cert_2023-05-17.pem",
			     "ra-tls/mse/mse_ratls_cert_2023-05-15_tee-tools.pem",
			     "ra-tls/mse/cosmian_ratls_sgx_2023-12-06_debug.pem"};
	for (size_t i = 0; i < 3; i++) {
		x = load_cert(mse[i]);
		assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
		assert_int_equal(info.n_ext, 1);
		const struct ck_ratls_ext *l = find(&info, CK_RATLS_LEGACY);
		assert_non_null(l);
		assert_true(l->bound);
		assert_non_null(strstr(l->binding, "MSE"));
		X509_free(x);
	}
	/* the MSE quote is the one in the vectors */
	x = load_cert(mse[0]);
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	size_t qn;
	uint8_t *q = tu_read("sgx-dcap/mse/quote_from_ratls_cert.bin", &qn);
	assert_int_equal(info.ext[0].quote_len, qn);
	assert_memory_equal(info.ext[0].quote, q, qn);
	free(q);
	X509_free(x);
}

static void test_mse_end_to_end(void **s)
{
	(void)s;
	struct ck_ratls_info info;
	struct ck_collateral c;
	struct ck_verified_collateral *vc;
	struct ck_appraisal a;
	struct ck_quote q;
	X509 *x = load_cert("ra-tls/mse/mse_ratls_cert_2023-05-17.pem");
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	tu_collateral("sgx-dcap/mse/collateral_qvlformat_2023-06.json", &c);
	assert_int_equal(ck_collateral_verify(&c, false, &vc, NULL), 0);
	struct ck_appraise_opts o = {.at = tu_time("2023-06-21T00:00:00Z")};
	assert_int_equal(ck_quote_parse(info.ext[0].quote, info.ext[0].quote_len, &q, NULL), 0);
	assert_int_equal(ck_appraise(&q, vc, &o, &a), 0);
	assert_int_equal(a.tcb_status, CK_TCB_OUT_OF_DATE);
	assert_int_equal(a.n_advisories, 7);
	assert_false(a.debug);
	assert_true(info.key_bound);
	X509_free(x);
	/* the debug one: valid evidence, refused by the default policy */
	x = load_cert("ra-tls/mse/cosmian_ratls_sgx_2023-12-06_debug.pem");
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_int_equal(ck_quote_parse(info.ext[0].quote, info.ext[0].quote_len, &q, NULL), 0);
	assert_int_equal(ck_appraise(&q, vc, &o, &a), 0);
	assert_true(a.debug);
	struct ck_policy p;
	struct ck_err errs[8];
	ck_policy_default(&p);
	p.any_advisory = true;
	p.accepted_statuses = ~0u & ~(1u << CK_TCB_REVOKED);
	assert_int_equal(ck_policy_check(&p, &a, errs, 8), 1);
	assert_string_equal(errs[0].code, CK_E_POL_DEBUG);
	X509_free(x);
	ck_verified_collateral_free(vc);
	ck_collateral_free(&c);
}

/* ---- our certificates, and the TLS integration ----------------------------------------------- */

struct fx {
	char *dir;
	struct ck_attester *att;
	struct ck_collateral coll;
	struct ck_verified_collateral *vc;
	struct ck_policy pol;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct ck_sim_quote_opts id;
	f->dir = tu_tmpname("ratls");
	ck_sim_quote_opts_default(&id, ck_time_now());
	memset(id.mrenclave, 0x5e, 32);
	assert_int_equal(ck_sim_init(f->dir, ck_time_now(), NULL), 0);
	assert_int_equal(ck_attester_sim(f->dir, &id, &f->att, NULL), 0);
	assert_int_equal(f->att->collateral(f->att, &f->coll, NULL), 0);
	assert_int_equal(ck_collateral_verify(&f->coll, true, &f->vc, NULL), 0);
	ck_policy_default(&f->pol);
	f->pol.allow_simulation = true;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	tu_rm(f->dir);
	ck_verified_collateral_free(f->vc);
	ck_collateral_free(&f->coll);
	ck_attester_free(f->att);
	free(f->dir);
	free(f);
	return 0;
}

static void issue(struct fx *f, EVP_PKEY **k, X509 **x, bool legacy)
{
	struct ck_ratls_cert_opts o = {
	    .common_name = "localhost", .valid_days = 1, .legacy_extension = legacy};
	o.claims.phase = CK_PHASE_SERVING;
	o.claims.mode = CK_MODE_ZERO_TRUST;
	o.claims.has_app = true;
	memset(o.claims.app, 0xaa, 32);
	struct ck_err e;
	if (ck_ratls_issue(f->att, &o, k, x, &e) < 0)
		fail_msg("%s", e.msg);
}

static void test_issue_and_read(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k;
	X509 *x;
	struct ck_ratls_info info;
	issue(f, &k, &x, true);
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_int_equal(info.n_ext, 2);
	assert_true(info.key_bound && info.claims_bound);
	assert_int_equal(info.claims.phase, CK_PHASE_SERVING);
	struct ck_ratls_verifier v = {.vc = f->vc, .policy = &f->pol};
	v.expect.has_app = true;
	memset(v.expect.app, 0xaa, 32);
	assert_int_equal(ck_ratls_check_cert(x, &v), 0);
	/* a different expected fingerprint */
	v.expect.app[0] ^= 1;
	assert_int_equal(ck_ratls_check_cert(x, &v), -1);
	assert_string_equal(v.last_error.code, CK_E_EXPECT);
	v.expect.app[0] ^= 1;
	/* the same evidence on another key: the certificate is re-keyed and re-signed */
	EVP_PKEY *k2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509_set_pubkey(x, k2);
	X509_sign(x, k2, EVP_sha256());
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_false(info.key_bound);
	assert_int_equal(ck_ratls_check_cert(x, &v), -1);
	assert_string_equal(v.last_error.code, CK_E_KEY_BINDING);
	/* without simulation allowed */
	struct ck_policy strict;
	ck_policy_default(&strict);
	v.policy = &strict;
	X509_free(x);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
	issue(f, &k, &x, false);
	assert_int_equal(ck_ratls_check_cert(x, &v), -1);
	assert_string_equal(v.last_error.code, CK_E_POL_SIMULATION);
	X509_free(x);
	EVP_PKEY_free(k);
}

/* The binding rule and the self-signature, as the TLS hook and cloak verify decide them: a
 * certificate whose legacy quote binds another key, one changed after signing, BER bytes. */
static void test_one_rule_for_certificates(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k, *k2;
	X509 *x, *other;
	struct ck_ratls_info info;
	struct ck_evidence_result r;
	struct ck_appraise_opts o = {.at = ck_time_now(), .allow_simulation = true};
	struct ck_ratls_verifier v = {.vc = f->vc, .policy = &f->pol};
	issue(f, &k, &x, true);
	issue(f, &k2, &other, true);
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_int_equal(ck_ratls_verify_cert(x, &info, false, f->vc, &o, &f->pol, NULL, &r), 0);
	/* DER in, the same certificate out; BER (an indefinite outer length) refused */
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	X509 *back = NULL;
	assert_int_equal(ck_ratls_cert_from_der(der, (size_t)n, &back, NULL), 0);
	assert_int_equal(X509_cmp(back, x), 0);
	X509_free(back);
	assert_true(der[0] == 0x30 && der[1] == 0x82);
	uint8_t *ber = malloc((size_t)n);
	ber[0] = 0x30;
	ber[1] = 0x80;
	memcpy(ber + 2, der + 4, (size_t)n - 4);
	ber[n - 2] = ber[n - 1] = 0;
	struct ck_err e;
	assert_int_equal(ck_ratls_cert_from_der(ber, (size_t)n, &back, &e), -1);
	assert_string_equal(e.code, CK_E_CERT_FORMAT);
	free(ber);
	OPENSSL_free(der);
	/* the legacy extension of the other certificate, signed again with this key */
	ASN1_OBJECT *legacy = OBJ_txt2obj("1.2.840.113741.1337.6", 1);
	X509_EXTENSION_free(X509_delete_ext(x, X509_get_ext_by_OBJ(x, legacy, -1)));
	X509_add_ext(x, X509_get_ext(other, X509_get_ext_by_OBJ(other, legacy, -1)), -1);
	ASN1_OBJECT_free(legacy);
	X509_sign(x, k, EVP_sha256());
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_false(info.key_bound);
	assert_int_equal(ck_ratls_verify_cert(x, &info, false, f->vc, &o, &f->pol, NULL, &r), -1);
	assert_string_equal(r.errs[r.n_errs - 1].code, CK_E_KEY_BINDING);
	assert_int_equal(ck_ratls_check_cert(x, &v), -1);
	assert_string_equal(v.last_error.code, CK_E_KEY_BINDING);
	X509_free(x);
	EVP_PKEY_free(k);
	/* changed after signing: validity to 2049, not signed again */
	issue(f, &k, &x, true);
	ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)2500000000);
	X509_set1_notAfter(x, t);
	ASN1_TIME_free(t);
	assert_int_equal(ck_ratls_inspect(x, &info, NULL), 0);
	assert_int_equal(ck_ratls_verify_cert(x, &info, false, f->vc, &o, &f->pol, NULL, &r), -1);
	assert_string_equal(r.errs[0].code, CK_E_CERT_SIGNATURE);
	assert_int_equal(ck_ratls_check_cert(x, &v), -1);
	assert_string_equal(v.last_error.code, CK_E_CERT_SIGNATURE);
	X509_free(x);
	EVP_PKEY_free(k);
	X509_free(other);
	EVP_PKEY_free(k2);
}

struct server_arg {
	SSL_CTX *ctx;
	int fd;
	int connections;
};

static void *serve(void *arg)
{
	struct server_arg *a = arg;
	for (int i = 0; i < a->connections; i++) {
		int fd;
		if (recv(a->fd, &fd, sizeof(fd), 0) != sizeof(fd))
			break;
		SSL *ssl = SSL_new(a->ctx);
		SSL_set_fd(ssl, fd);
		if (SSL_accept(ssl) == 1) {
			char buf[16];
			int n = SSL_read(ssl, buf, sizeof(buf));
			if (n > 0)
				SSL_write(ssl, buf, n);
			SSL_shutdown(ssl);
		}
		SSL_free(ssl);
		close(fd);
	}
	return NULL;
}

static int last_reused; /* whether the last connection resumed a session */

/* One TLS connection over a socketpair; returns 1 if the handshake and an echo worked. */
static int connect_once(SSL_CTX *cctx, int ctl, SSL_SESSION **sess)
{
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(send(ctl, &sv[1], sizeof(sv[1]), 0), (ssize_t)sizeof(sv[1]));
	SSL *ssl = SSL_new(cctx);
	SSL_set_fd(ssl, sv[0]);
	if (sess && *sess)
		SSL_set_session(ssl, *sess); /* try to resume */
	int ok = SSL_connect(ssl) == 1;
	last_reused = SSL_session_reused(ssl);
	if (ok) {
		char buf[8];
		ok = SSL_write(ssl, "ping", 4) == 4 && SSL_read(ssl, buf, sizeof(buf)) == 4;
		if (sess && !*sess)
			*sess = SSL_get1_session(ssl);
	}
	SSL_shutdown(ssl);
	SSL_free(ssl);
	close(sv[0]);
	return ok;
}

static void test_tls_handshake(void **state)
{
	struct fx *f = *state;
	EVP_PKEY *k;
	X509 *x;
	issue(f, &k, &x, true);
	SSL_CTX *sctx = SSL_CTX_new(TLS_server_method()), *cctx = SSL_CTX_new(TLS_client_method());
	assert_int_equal(SSL_CTX_use_certificate(sctx, x), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, k), 1);
	struct ck_ratls_verifier v = {.vc = f->vc, .policy = &f->pol};
	assert_int_equal(ck_ratls_ssl_ctx_client(cctx, &v, NULL), 0);
	int ctl[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM, 0, ctl), 0);
	struct server_arg sa = {sctx, ctl[1], 5};
	pthread_t th;
	pthread_create(&th, NULL, serve, &sa);
	SSL_SESSION *sess = NULL;
	/* 1: accepted */
	assert_true(connect_once(cctx, ctl[0], &sess));
	assert_int_equal(v.checks, 1);
	/* 2: the application resumes the session: checked all the same */
	assert_true(connect_once(cctx, ctl[0], &sess));
	assert_true(last_reused); /* the path OpenSSL's verify callback never sees */
	assert_int_equal(v.checks, 2);
	/* 3: resumed again, but the expectations changed: no data moves */
	v.expect.has_app = true;
	memset(v.expect.app, 0x77, 32);
	assert_false(connect_once(cctx, ctl[0], &sess));
	assert_true(last_reused);
	assert_int_equal(v.checks, 3);
	assert_string_equal(v.last_error.code, CK_E_EXPECT);
	/* 4: a full handshake with the failing expectation: the handshake itself fails */
	assert_false(connect_once(cctx, ctl[0], NULL));
	assert_string_equal(v.last_error.code, CK_E_EXPECT);
	/* 5: a server with a plain self-signed certificate */
	v.expect.has_app = false;
	EVP_PKEY *pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *plain = X509_new();
	X509_set_version(plain, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(plain), 1);
	X509_gmtime_adj(X509_getm_notBefore(plain), -3600);
	X509_gmtime_adj(X509_getm_notAfter(plain), 3600);
	X509_set_pubkey(plain, pk);
	X509_sign(plain, pk, EVP_sha256());
	assert_int_equal(SSL_CTX_use_certificate(sctx, plain), 1);
	assert_int_equal(SSL_CTX_use_PrivateKey(sctx, pk), 1);
	assert_false(connect_once(cctx, ctl[0], NULL));
	assert_string_equal(v.last_error.code, CK_E_RATLS_NONE);
	pthread_join(th, NULL);
	SSL_SESSION_free(sess);
	close(ctl[0]);
	close(ctl[1]);
	SSL_CTX_free(sctx);
	SSL_CTX_free(cctx);
	X509_free(x);
	X509_free(plain);
	EVP_PKEY_free(k);
	EVP_PKEY_free(pk);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN); /* a refused handshake closes sockets under the other side */
	const struct CMUnitTest plain[] = {
	    cmocka_unit_test(test_claims),
	    cmocka_unit_test(test_real_certificates),
	    cmocka_unit_test(test_mse_end_to_end),
	};
	const struct CMUnitTest sim[] = {
	    cmocka_unit_test(test_issue_and_read),
	    cmocka_unit_test(test_one_rule_for_certificates),
	    cmocka_unit_test(test_tls_handshake),
	};
	int r = cmocka_run_group_tests(plain, NULL, NULL);
	return r | cmocka_run_group_tests(sim, setup, teardown);
}
