/* SPDX-License-Identifier: Apache-2.0 */
/*
 * http.h - a strict HTTP/1.1 message head parser and chunked-body decoder (RFC 9112), for the
 * runtime's proxy: the only code between the internet and the app reads requests through it.
 *
 * Zero-copy: names, values and the target point into the caller's buffer. Ambiguity is refused,
 * never guessed: bare CR or LF, obs-fold, whitespace before a colon, a non-token name, control
 * characters in values, Content-Length with Transfer-Encoding, two Content-Lengths (even
 * equal), a Content-Length that is not plain digits, Transfer-Encoding other than exactly
 * "chunked", two Transfer-Encodings, Transfer-Encoding in HTTP/1.0, a missing or repeated Host
 * in HTTP/1.1, a Host that is empty or not a valid authority (host[:port], no userinfo), an
 * absolute-form or otherwise odd target, "*" with any method but OPTIONS. Limits are the named
 * constants below. Each refusal carries the status to answer (400, 431, 501, 505).
 */
#ifndef CLOAK_HTTP_H
#define CLOAK_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_HTTP_MAX_HEAD       (16 * 1024) /* request line + headers */
#define CK_HTTP_MAX_HEADERS    100
#define CK_HTTP_MAX_CHUNK_LINE 256 /* chunk size + extensions */
#define CK_HTTP_MAX_TRAILER    (8 * 1024)
#define CK_HTTP_MAX_HOST       255 /* a Host value: a DNS name, or an IP literal, and a port */

struct ck_http_header {
	const char *name, *value;
	size_t name_len, value_len; /* value without surrounding whitespace */
};

enum ck_http_body {
	CK_HTTP_BODY_NONE,
	CK_HTTP_BODY_LENGTH,
	CK_HTTP_BODY_CHUNKED,
	CK_HTTP_BODY_UNTIL_CLOSE
};

struct ck_http_head {
	/* requests */
	const char *method, *target;
	size_t method_len, target_len;
	/* responses */
	int status;
	const char *reason;
	size_t reason_len;

	int minor; /* HTTP/1.<minor>: 0 or 1 */
	struct ck_http_header headers[CK_HTTP_MAX_HEADERS];
	size_t n_headers;
	enum ck_http_body body;
	uint64_t content_length; /* CK_HTTP_BODY_LENGTH */
	bool keep_alive;
	bool expect_continue;
	const char *host;
	size_t host_len;
};

/* Parses a request head from buf[0..len). Returns the head's length (through the empty line)
 * when complete, 0 when more bytes are needed, -1 when refused (*status = the answer). */
long ck_http_parse_request(const char *buf, size_t len, struct ck_http_head *h, int *status,
			   struct ck_err *err);
/* Parses a response head (the app's). HEAD requests and 1xx/204/304 have no body: pass
 * `head_request` so the framing is right. */
long ck_http_parse_response(const char *buf, size_t len, bool head_request, struct ck_http_head *h,
			    struct ck_err *err);

/* The value of the first header called `name` (case-insensitive), or NULL. */
const struct ck_http_header *ck_http_find(const struct ck_http_head *h, const char *name);

/* A chunked body decoder: feed it bytes; it returns the data bytes in place. */
struct ck_http_chunked {
	int state;
	uint64_t left; /* bytes left in the current chunk */
	size_t line;   /* bytes of the current size or trailer line */
	size_t trailer;
	bool done;
};
/* Consumes bytes of `in` (up to n): sets *used, and *data and *data_len to the chunk data found
 * (a slice of `in`; call again with the rest). Returns 0, or -1 on malformed framing. */
int ck_http_chunked_feed(struct ck_http_chunked *c, const uint8_t *in, size_t n, size_t *used,
			 const uint8_t **data, size_t *data_len, struct ck_err *err);

#endif
