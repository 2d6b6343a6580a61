/* SPDX-License-Identifier: Apache-2.0 */
/* client.c - requests to enclaves and nodes; the contract is in include/cloak/client.h. */
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cloak/client.h"
#include "cloak/sni.h"
#include "cloak/http.h"

#define READ_STEP 16384

void ck_client_close(struct ck_client *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd > 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
}

void ck_client_resp_free(struct ck_client_resp *r)
{
	free(r->body);
	free(r->head);
	memset(r, 0, sizeof(*r));
}

X509 *ck_client_peer(const struct ck_client *c)
{
	return c->ssl ? SSL_get0_peer_certificate(c->ssl) : NULL;
}

static int dial(struct ck_client *c, const struct ck_target *t, unsigned ms, struct ck_err *err)
{
	char port[8];
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	snprintf(port, sizeof(port), "%u", t->port);
	size_t hl = strlen(t->host);
	/* RFC 6761 6.3: localhost and every name under it are the loopback, never asked of DNS */
	bool local =
	    !strcmp(t->host, "localhost") || (hl > 10 && !strcmp(t->host + hl - 10, ".localhost"));
	int gr = getaddrinfo(local ? "127.0.0.1" : t->host, port, &hints, &ai);
	if (gr != 0)
		return ck_errf(err, CK_E_TLS, "cannot resolve '%s': %s", t->host, gai_strerror(gr));
	int e = 0;
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	for (struct addrinfo *a = ai; a && c->fd <= 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (c->fd < 0) {
			e = errno;
			continue;
		}
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)); /* connect too */
		if (connect(c->fd, a->ai_addr, a->ai_addrlen) < 0) {
			e = errno;
			close(c->fd);
			c->fd = 0;
		}
	}
	freeaddrinfo(ai);
	if (c->fd <= 0)
		return ck_errf(err, CK_E_TLS, "cannot connect to %s: %s", c->name,
			       strerror(e ? e : ECONNREFUSED));
	return 0;
}

int ck_client_open(struct ck_client *c, const struct ck_target *t, SSL_CTX *ctx,
		   unsigned timeout_ms, struct ck_err *err)
{
	memset(c, 0, sizeof(*c));
	ck_target_name(t, c->name, sizeof(c->name));
	if (dial(c, t, timeout_ms ? timeout_ms : CK_CLIENT_TIMEOUT_MS, err) < 0)
		return -1;
	if (!t->tls)
		return 0;
	if (!ctx || !(c->ssl = SSL_new(ctx)) || SSL_set_fd(c->ssl, c->fd) != 1) {
		ck_client_close(c);
		return ck_errf(err, CK_E_TLS, "no TLS context for %s", t->host);
	}
	SSL_set_tlsext_host_name(c->ssl, t->host);
	/* cloak's protocol, so that a node terminating TLS for an app's users (untrusted-ssl)
	 * passes this connection through to the enclave itself (sni.h) */
	_Static_assert(CK_ALPN_CLOAK_LEN == 14, "the length byte below");
	static const char alpn[] = "\x0e" CK_ALPN_CLOAK;
	SSL_set_alpn_protos(c->ssl, (const unsigned char *)alpn, sizeof(alpn) - 1);
	if (SSL_connect(c->ssl) != 1) {
		unsigned long oe = ERR_peek_last_error();
		char why[256] = "";
		if (oe)
			ERR_error_string_n(oe, why, sizeof(why));
		ERR_clear_error();
		ck_errf(err, CK_E_TLS, "TLS handshake with %s failed%s%s", c->name,
			*why ? ": " : "", why);
		ck_client_close(c);
		return -1;
	}
	return 0;
}

static int io_write(struct ck_client *c, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		ssize_t k = c->ssl ? SSL_write(c->ssl, s, (int)(n > INT32_MAX ? INT32_MAX : n))
				   : send(c->fd, s, n, MSG_NOSIGNAL);
		if (k <= 0)
			return -1;
		s += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Reads more into the buffer; 0 at the end of the stream, -1 on an error or timeout. */
static ssize_t io_read(struct ck_client *c)
{
	char *nb = realloc(c->buf, c->len + READ_STEP + 1);
	if (!nb)
		return -1;
	c->buf = nb;
	ssize_t k;
	if (c->ssl) {
		int r = SSL_read(c->ssl, c->buf + c->len, READ_STEP);
		int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(c->ssl, r);
		k = r > 0							       ? r
		    : e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && !errno) ? 0
										       : -1;
		ERR_clear_error();
	} else {
		k = recv(c->fd, c->buf + c->len, READ_STEP, 0);
	}
	if (k > 0)
		c->len += (size_t)k;
	return k;
}

/* The body after a head of `hl` bytes, framed as `h` says, into r. */
static int read_body(struct ck_client *c, const struct ck_http_head *h, size_t hl, size_t max_body,
		     struct ck_client_resp *r, const char *what, struct ck_err *err)
{
	size_t used = hl;
	if (h->body == CK_HTTP_BODY_NONE || h->body == CK_HTTP_BODY_LENGTH) {
		uint64_t want = h->body == CK_HTTP_BODY_LENGTH ? h->content_length : 0;
		if (want > max_body)
			return ck_errf(err, CK_E_HTTP,
				       "%s: a body of %llu bytes, over the %zu allowed", what,
				       (unsigned long long)want, max_body);
		while (c->len - hl < want) {
			ssize_t k = io_read(c);
			if (k <= 0)
				return ck_errf(err, CK_E_HTTP,
					       "%s: the response ended after %zu of %llu "
					       "body bytes",
					       what, c->len - hl, (unsigned long long)want);
		}
		if (!(r->body = malloc((size_t)want + 1)))
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		memcpy(r->body, c->buf + hl, (size_t)want);
		r->len = (size_t)want;
		used = hl + (size_t)want;
	} else if (h->body == CK_HTTP_BODY_CHUNKED) {
		struct ck_http_chunked ch = {0};
		size_t at = hl;
		if (!(r->body = malloc(1)))
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		while (!ch.done) {
			if (at == c->len && io_read(c) <= 0)
				return ck_errf(err, CK_E_HTTP, "%s: the chunked body ended early",
					       what);
			size_t n = 0, dl = 0;
			const uint8_t *d = NULL;
			if (ck_http_chunked_feed(&ch, (const uint8_t *)c->buf + at, c->len - at, &n,
						 &d, &dl, NULL) < 0)
				return ck_errf(err, CK_E_HTTP, "%s: malformed chunked body", what);
			if (dl) {
				if (r->len + dl > max_body)
					return ck_errf(err, CK_E_HTTP,
						       "%s: a body over the %zu allowed", what,
						       max_body);
				char *nb = realloc(r->body, r->len + dl + 1);
				if (!nb)
					return ck_errf(err, CK_E_NOMEM, "out of memory");
				r->body = nb;
				memcpy(r->body + r->len, d, dl);
				r->len += dl;
			}
			at += n;
		}
		used = at;
	} else {
		return ck_errf(err, CK_E_HTTP,
			       "%s: the response is framed by neither a length nor "
			       "chunks",
			       what);
	}
	r->body[r->len] = 0;
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	return 0;
}

int ck_client_request(struct ck_client *c, const char *method, const char *path, const char *ctype,
		      const void *body, size_t body_len, size_t max_body, struct ck_client_resp *r,
		      struct ck_err *err)
{
	char head[CK_TARGET_PATH_MAX + 512], what[CK_TARGET_PATH_MAX + 300];
	memset(r, 0, sizeof(*r));
	snprintf(what, sizeof(what), "%s %s %s", c->name, method, path);
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%s%s%s%sContent-Length: %zu\r\n\r\n",
			  method, path, c->name, c->auth ? "Authorization: " : "",
			  c->auth ? c->auth : "", c->auth ? "\r\n" : "",
			  body_len ? "Content-Type: " : "", body_len ? ctype : "",
			  body_len ? "\r\n" : "", body_len);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return ck_errf(err, CK_E_USAGE, "%s: the request path is too long", what);
	int wr = io_write(c, head, (size_t)hl);
	OPENSSL_cleanse(head, sizeof(head)); /* it may hold a token */
	if (wr < 0 || (body_len && io_write(c, body, body_len) < 0)) {
		ERR_clear_error();
		return ck_errf(err, CK_E_IO, "%s: cannot send the request", what);
	}
	struct ck_http_head h;
	long n = 0;
	for (;;) {
		if (c->len && (n = ck_http_parse_response(c->buf, c->len, !strcmp(method, "HEAD"),
							  &h, NULL)) != 0)
			break;
		if (c->len >= CK_HTTP_MAX_HEAD)
			return ck_errf(err, CK_E_HTTP, "%s: the response head is over %d bytes",
				       what, CK_HTTP_MAX_HEAD);
		ssize_t k = io_read(c);
		if (k <= 0)
			return ck_errf(err, CK_E_HTTP, "%s: %s", what,
				       k == 0 ? "the connection closed before a response"
					      : "no response (timed out or failed)");
	}
	if (n < 0)
		return ck_errf(err, CK_E_HTTP, "%s: a malformed response head", what);
	if (!(r->head = malloc((size_t)n + 1)))
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	memcpy(r->head, c->buf, (size_t)n);
	r->head[n] = 0;
	r->head_len = (size_t)n;
	r->status = h.status;
	const struct ck_http_header *ra = ck_http_find(&h, "retry-after");
	/* delay-seconds of at most CK_CLIENT_RETRY_AFTER_DIGITS digits; anything else (an
	 * HTTP-date, a longer number) is no usable delay: 0 */
	for (size_t i = 0; ra && ra->value_len <= CK_CLIENT_RETRY_AFTER_DIGITS && i < ra->value_len;
	     i++) {
		if (ra->value[i] < '0' || ra->value[i] > '9') {
			r->retry_after = 0;
			break;
		}
		r->retry_after = r->retry_after * 10 + (unsigned)(ra->value[i] - '0');
	}
	if (read_body(c, &h, (size_t)n, max_body, r, what, err) < 0) {
		ck_client_resp_free(r);
		return -1;
	}
	return 0;
}

const char *ck_client_resp_header(const struct ck_client_resp *r, const char *name, size_t *len)
{
	struct ck_http_head h;
	*len = 0;
	if (!r->head || ck_http_parse_response(r->head, r->head_len, false, &h, NULL) <= 0)
		return NULL;
	const struct ck_http_header *f = ck_http_find(&h, name);
	if (!f)
		return NULL;
	*len = f->value_len;
	return f->value;
}
