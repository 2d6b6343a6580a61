/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/ratls_tls.h"

int ck_ratls_check_cert(X509 *cert, struct ck_ratls_verifier *v)
{
	struct ck_ratls_info info;
	struct ck_appraise_opts o = v->opts;
	v->checks++;
	memset(&v->last, 0, sizeof(v->last));
	memset(&v->last_error, 0, sizeof(v->last_error));
	if (!o.at)
		o.at = ck_time_now();
	if (ck_ratls_inspect(cert, &info, &v->last_error) < 0)
		return -1;
	if (!ck_ratls_primary(&info) || !info.has_claims)
		return ck_errf(&v->last_error, CK_E_RATLS_NONE,
			       "the peer's certificate carries no RA-TLS evidence with claims");
	if (ck_ratls_verify_cert(cert, &info, false, v->vc, &o, v->policy, &v->expect, &v->last) <
	    0) {
		v->last_error = v->last.errs[0];
		return -1;
	}
	if (X509_cmp_time(X509_get0_notAfter(cert), &(time_t){(time_t)o.at}) < 0 ||
	    X509_cmp_time(X509_get0_notBefore(cert), &(time_t){(time_t)o.at}) > 0)
		return ck_errf(&v->last_error, CK_E_EXPIRED,
			       "the peer's certificate is not valid now");
	return 0;
}

/* The peer's leaf certificate as it came over the wire, kept per connection by msg_cb: OpenSSL
 * parses BER too, and re-encodes what it parsed, so only these bytes tell DER from BER. */
struct wire_cert {
	size_t n;
	uint8_t der[];
};
static int ssl_index = -1;

static void wire_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp)
{
	(void)parent, (void)ad, (void)idx, (void)argl, (void)argp;
	free(ptr);
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* A received Certificate handshake message: type 11, length u24; TLS 1.3 a context (u8 length)
 * first; then the list (u24 length) whose first entry is the leaf (u24 length, DER). */
static void msg_cb(int write_p, int version, int content_type, const void *buf, size_t len,
		   SSL *ssl, void *arg)
{
	const uint8_t *m = buf, *end = m + len;
	(void)version, (void)arg;
	if (write_p || content_type != SSL3_RT_HANDSHAKE || len < 4 || m[0] != SSL3_MT_CERTIFICATE)
		return;
	m += 4;
	if (SSL_version(ssl) >= TLS1_3_VERSION) {
		if (m >= end || (size_t)(end - m) < 1u + m[0])
			return;
		m += 1 + m[0];
	}
	if (end - m < 6)
		return;
	m += 3;
	uint32_t n = be24(m);
	m += 3;
	if (n == 0 || n > CK_RATLS_MAX_CERT || (size_t)(end - m) < n)
		return;
	struct wire_cert *w = malloc(sizeof(*w) + n);
	if (!w)
		return;
	w->n = n;
	memcpy(w->der, m, n);
	free(SSL_get_ex_data(ssl, ssl_index));
	SSL_set_ex_data(ssl, ssl_index, w);
}

/* The leaf must be DER: byte for byte what it re-encodes to. */
static int wire_is_der(const SSL *ssl, X509 *leaf, struct ck_err *err)
{
	const struct wire_cert *w = ssl && ssl_index >= 0 ? SSL_get_ex_data(ssl, ssl_index) : NULL;
	unsigned char *re = NULL;
	if (!w)
		return ck_errf(err, CK_E_TLS, "the peer's certificate bytes were not seen");
	int n = i2d_X509(leaf, &re);
	bool same = n > 0 && (size_t)n == w->n && memcmp(re, w->der, w->n) == 0;
	OPENSSL_free(re);
	return same ? 0
		    : ck_errf(err, CK_E_CERT_FORMAT,
			      "the peer's certificate is not in DER (BER encoding refused)");
}

static int verify_cb(X509_STORE_CTX *x, void *arg)
{
	struct ck_ratls_verifier *v = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(x);
	if (!leaf) {
		ck_errf(&v->last_error, CK_E_TLS, "the peer sent no certificate");
		return 0;
	}
	if (wire_is_der(X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx()), leaf,
			&v->last_error) < 0) {
		v->checks++;
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (ck_ratls_check_cert(leaf, v) < 0) {
		X509_STORE_CTX_set_error(x, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	return 1;
}

/* The verifier of an SSL_CTX, for the info callback. */
static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;
static void index_init(void)
{
	ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, wire_free);
}

/* A resumed session skips the verify callback: check its peer certificate here instead, and
 * if it fails, shut the connection before any application data can be written or read. */
static void info_cb(const SSL *ssl, int where, int ret)
{
	(void)ret;
	if (!(where & SSL_CB_HANDSHAKE_DONE) || !SSL_session_reused((SSL *)ssl))
		return;
	struct ck_ratls_verifier *v = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
	X509 *peer = SSL_get0_peer_certificate(ssl);
	if (!v)
		return;
	if (!peer) {
		ck_errf(&v->last_error, CK_E_TLS, "a resumed session has no peer certificate");
	} else if (ck_ratls_check_cert(peer, v) == 0) {
		return;
	}
	SSL_set_shutdown((SSL *)ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

static int setup(SSL_CTX *ctx, struct ck_ratls_verifier *v, int mode, struct ck_err *err)
{
	pthread_once(&index_once, index_init);
	if (!ctx || !v || !v->vc || !v->policy)
		return ck_errf(err, CK_E_USAGE,
			       "RA-TLS: a context, collateral and a policy are needed");
	if (ctx_index < 0 || ssl_index < 0 || SSL_CTX_set_ex_data(ctx, ctx_index, v) != 1)
		return ck_errf(err, CK_E_NOMEM, "RA-TLS: cannot attach the verifier");
	SSL_CTX_set_verify(ctx, mode, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, v);
	SSL_CTX_set_info_callback(ctx, info_cb);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	/* no resumption: a resumed session would skip the callback */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_num_tickets(ctx, 0);
	return 0;
}

int ck_ratls_ssl_ctx_client(SSL_CTX *ctx, struct ck_ratls_verifier *v, struct ck_err *err)
{
	return setup(ctx, v, SSL_VERIFY_PEER, err);
}

int ck_ratls_ssl_ctx_server(SSL_CTX *ctx, struct ck_ratls_verifier *v, struct ck_err *err)
{
	static const unsigned char sid[] = "cloak-ratls";
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	return setup(ctx, v, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, err);
}

int ck_ratls_ssl_ctx_capture(SSL_CTX *ctx)
{
	pthread_once(&index_once, index_init);
	if (ssl_index < 0)
		return -1;
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	return 0;
}

int ck_ratls_peer_is_der(const SSL *ssl, struct ck_err *err)
{
	X509 *leaf = SSL_get0_peer_certificate(ssl);
	if (!leaf)
		return ck_errf(err, CK_E_TLS, "the peer sent no certificate");
	return wire_is_der(ssl, leaf, err);
}
