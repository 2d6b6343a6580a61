/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls_tls.h - RA-TLS for any OpenSSL program: configure an SSL_CTX so that a handshake fails
 * unless the peer's certificate carries evidence that passes appraisal under a policy, binds
 * the certificate's key, and meets the expectations.
 *
 * Every handshake is checked. OpenSSL does not call the verify callback when a session is
 * resumed, so: session caching and tickets are off on the SSL_CTX; and if a session is resumed
 * anyway (an application can hand one to SSL_set_session), the peer certificate stored in it is
 * checked again when the handshake completes, and on failure the connection is shut before any
 * application data moves (SSL_write/SSL_read then fail). The verifier is attached to the
 * SSL_CTX and used from the handshake's thread: one SSL_CTX per thread.
 */
#ifndef CLOAK_RATLS_TLS_H
#define CLOAK_RATLS_TLS_H

#include <openssl/ssl.h>

#include "cloak/ratls.h"

struct ck_ratls_verifier {
	struct ck_verified_collateral *vc; /* caller-owned; collateral of the peer's platform */
	const struct ck_policy *policy;	   /* caller-owned */
	struct ck_appraise_opts opts;	   /* opts.at: 0 means "now" at each handshake */
	struct ck_expect expect;
	/* results of the last handshake */
	struct ck_evidence_result last;
	struct ck_err last_error; /* the first reason the last handshake was refused */
	unsigned long checks;	  /* handshakes checked so far */
};

/* As a TLS client: the server must present RA-TLS evidence. */
int ck_ratls_ssl_ctx_client(SSL_CTX *ctx, struct ck_ratls_verifier *v, struct ck_err *err);
/* As a TLS server: clients must present RA-TLS evidence (mutual attestation). */
int ck_ratls_ssl_ctx_server(SSL_CTX *ctx, struct ck_ratls_verifier *v, struct ck_err *err);

/* For a client that appraises the peer after the handshake (cloak verify): keep the leaf's wire
 * bytes on every connection of `ctx` (the hook's contexts do so already), then ask whether the
 * peer's certificate was DER, byte for byte (CK_E_CERT_FORMAT if not, CK_E_TLS if unseen). */
int ck_ratls_ssl_ctx_capture(SSL_CTX *ctx);
int ck_ratls_peer_is_der(const SSL *ssl, struct ck_err *err);

/* Checks one certificate as the callback does (also for tools that fetched it otherwise). */
int ck_ratls_check_cert(X509 *cert, struct ck_ratls_verifier *v);

#endif
