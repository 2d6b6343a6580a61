/* SPDX-License-Identifier: Apache-2.0 */
/*
 * client.h - the one client for what cloak's programs say to enclaves and nodes: a TCP
 * connection (TLS with an SSL_CTX from the caller: the RA-TLS hook, a pinned certificate, a CA,
 * or none that checks nothing when the evidence is appraised afterwards), requests in sequence
 * on it, and each response read through the project's strict parser (include/cloak/http.h):
 * its head must parse, its body be framed by Content-Length or chunked and fit the caller's
 * limit. A response that is malformed, too large, cut short, or that does not arrive within
 * the timeout is an error naming the target and the request; nothing of it is returned.
 *
 * Blocking, one connection per struct ck_client, which owns its socket, its SSL and its
 * buffer (ck_client_close releases them; safe on a zeroed or failed one).
 */
#ifndef CLOAK_CLIENT_H
#define CLOAK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cloak/err.h"
#include "cloak/target.h"

#define CK_CLIENT_TIMEOUT_MS	     30000 /* connect, and each read or write, by default */
#define CK_CLIENT_RETRY_AFTER_DIGITS 6	   /* a longer Retry-After is not taken */

struct ck_client {
	int fd;
	SSL *ssl; /* NULL over plain TCP */
	char name[CK_TARGET_HOST_MAX + 16];
	char *buf; /* bytes read past the last response */
	size_t len;
	const char *auth; /* sent as Authorization with each request (the caller's; NULL: none) */
};

struct ck_client_resp {
	int status;
	unsigned retry_after; /* seconds, from Retry-After (0: none, not a number, or too long) */
	char *body; /* NUL-terminated, malloc'ed (the caller frees or ck_client_resp_free) */
	size_t len;
	char *head; /* the response head as it came (ck_client_resp_header reads it) */
	size_t head_len;
};

/* The value of the response's first header `name` (case-blind), *len bytes into r->head (not
 * NUL-terminated), or NULL. */
const char *ck_client_resp_header(const struct ck_client_resp *r, const char *name, size_t *len);

/* Connects to `t`: TCP to every address HOST resolves to in turn (localhost and NAME.localhost
 * are 127.0.0.1, as RFC 6761 has them, whatever the resolver says), offering ALPN
 * CK_ALPN_CLOAK (sni.h: a node's router then passes it through to the enclave), then TLS with `ctx`
 * (SNI = HOST) when t->tls; `ctx` is the caller's and must outlive the client. timeout_ms 0: the
 * default. Fails with CK_E_TLS ("tls" in docs/errors.md: no connection, or the handshake
 * failed, e.g. the hook refused the certificate), the client closed. */
int ck_client_open(struct ck_client *c, const struct ck_target *t, SSL_CTX *ctx,
		   unsigned timeout_ms, struct ck_err *err);

/* Sends one request (Host: the target; Content-Type `ctype` when there is a body) and reads its
 * response, whose body may be at most `max_body` bytes. CK_E_HTTP for a malformed, unframed,
 * oversize or cut-short response, CK_E_IO for a failed write or a timeout. */
int ck_client_request(struct ck_client *c, const char *method, const char *path, const char *ctype,
		      const void *body, size_t body_len, size_t max_body, struct ck_client_resp *r,
		      struct ck_err *err);

/* The TLS peer's leaf certificate (borrowed: valid until close), or NULL. */
X509 *ck_client_peer(const struct ck_client *c);

void ck_client_resp_free(struct ck_client_resp *r);
void ck_client_close(struct ck_client *c);

#endif
