/* SPDX-License-Identifier: Apache-2.0 */
/* A strict HTTP/1.1 head parser and chunked decoder (see http.h). */
#include <string.h>
#include <strings.h>

#include "cloak/http.h"

/* RFC 9110 tchar */
static bool tchar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       (c && strchr("!#$%&'*+-.^_`|~", c));
}

/* field-value characters: VCHAR, SP, HTAB, obs-text */
static bool vchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

#define REFUSE(st, code, ...) (*status = (st), ck_errf(err, code, __VA_ARGS__))

/* Finds the end of the line starting at p: returns a pointer to its CR (followed by LF), NULL
 * when the buffer ends first; *bad set on a bare CR or LF. */
static const char *line_end(const char *p, const char *end, bool *bad)
{
	for (const char *q = p; q < end; q++) {
		if (*q == '\n') {
			*bad = true; /* LF without CR */
			return NULL;
		}
		if (*q == '\r') {
			if (q + 1 == end)
				return NULL;
			if (q[1] != '\n') {
				*bad = true; /* bare CR */
				return NULL;
			}
			return q;
		}
	}
	return NULL;
}

static bool ieq(const char *a, size_t n, const char *b)
{
	return strlen(b) == n && strncasecmp(a, b, n) == 0;
}

/*
 * A Host value that is a valid authority without userinfo (RFC 9110 §7.2, RFC 3986 §3.2):
 * a reg-name of letters, digits, '-', '.', '_', '~' (no empty label, no "..", at most
 * CK_HTTP_MAX_HOST bytes), or an IP literal in brackets; then optionally ':' and a port of 1-5
 * digits up to 65535. Anything else (empty, '/', '@', spaces, percent-escapes) is refused.
 */
static bool valid_authority(const char *v, size_t n)
{
	size_t i = 0;
	if (n == 0 || n > CK_HTTP_MAX_HOST)
		return false;
	if (v[0] == '[') {
		while (++i < n && v[i] != ']')
			if (!((v[i] >= '0' && v[i] <= '9') || (v[i] >= 'a' && v[i] <= 'f') ||
			      (v[i] >= 'A' && v[i] <= 'F') || v[i] == ':' || v[i] == '.'))
				return false;
		if (i == n || i < 3)
			return false;
		i++;
	} else {
		char prev = '.';
		for (; i < n && v[i] != ':'; i++) {
			char ch = v[i];
			bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
				  (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '~' ||
				  ch == '.';
			if (!ok || (ch == '.' && prev == '.'))
				return false;
			prev = ch;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (v[i] != ':' || n - i - 1 == 0 || n - i - 1 > 5)
		return false;
	unsigned port = 0;
	for (i++; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		port = port * 10 + (unsigned)(v[i] - '0');
	}
	return port <= 65535;
}

/* Connection: a comma list of tokens */
static void connection(struct ck_http_head *h, const char *v, size_t n)
{
	size_t i = 0;
	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		size_t s = i;
		while (i < n && v[i] != ',' && v[i] != ' ' && v[i] != '\t')
			i++;
		if (ieq(v + s, i - s, "close"))
			h->keep_alive = false;
		else if (ieq(v + s, i - s, "keep-alive"))
			h->keep_alive = true;
	}
}

/* Header lines from p to the empty line; fills h. Returns the offset after the empty line, 0
 * if incomplete, -1 if refused. */
static long headers(const char *buf, const char *p, const char *end, struct ck_http_head *h,
		    int *status, struct ck_err *err)
{
	bool bad = false, have_cl = false, have_te = false;
	for (;;) {
		const char *e = line_end(p, end, &bad);
		if (bad)
			return REFUSE(400, CK_E_HTTP_SYNTAX, "bare CR or LF in the header section");
		if (!e)
			return (size_t)(end - buf) >= CK_HTTP_MAX_HEAD
				   ? REFUSE(431, CK_E_HTTP_LIMIT, "head over %d bytes",
					    CK_HTTP_MAX_HEAD)
				   : 0;
		if (e == p) /* the empty line */
			break;
		if (*p == ' ' || *p == '\t')
			return REFUSE(400, CK_E_HTTP_SYNTAX, "obsolete line folding");
		const char *c = p;
		while (c < e && tchar((unsigned char)*c))
			c++;
		if (c == p || c == e || *c != ':')
			return REFUSE(400, CK_E_HTTP_SYNTAX,
				      c < e && (*c == ' ' || *c == '\t')
					  ? "whitespace before the colon of a header"
					  : "malformed header name");
		const char *v = c + 1, *ve = e;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		for (const char *q = v; q < ve; q++)
			if (!vchar((unsigned char)*q))
				return REFUSE(400, CK_E_HTTP_SYNTAX,
					      "control character in a header value");
		if (h->n_headers == CK_HTTP_MAX_HEADERS)
			return REFUSE(431, CK_E_HTTP_LIMIT, "more than %d headers",
				      CK_HTTP_MAX_HEADERS);
		struct ck_http_header *hd = &h->headers[h->n_headers++];
		hd->name = p;
		hd->name_len = (size_t)(c - p);
		hd->value = v;
		hd->value_len = (size_t)(ve - v);
		if (ieq(p, hd->name_len, "content-length")) {
			if (have_cl)
				return REFUSE(400, CK_E_HTTP_SYNTAX, "two Content-Length headers");
			if (hd->value_len == 0 || hd->value_len > 15)
				return REFUSE(400, CK_E_HTTP_SYNTAX, "bad Content-Length");
			uint64_t n = 0;
			for (size_t i = 0; i < hd->value_len; i++) {
				if (v[i] < '0' || v[i] > '9')
					return REFUSE(400, CK_E_HTTP_SYNTAX,
						      "Content-Length is not a plain number");
				n = n * 10 + (uint64_t)(v[i] - '0');
			}
			have_cl = true;
			h->content_length = n;
		} else if (ieq(p, hd->name_len, "transfer-encoding")) {
			if (have_te)
				return REFUSE(400, CK_E_HTTP_SYNTAX,
					      "two Transfer-Encoding headers");
			if (!ieq(v, hd->value_len, "chunked"))
				return REFUSE(501, CK_E_HTTP_SYNTAX,
					      "Transfer-Encoding other than \"chunked\"");
			have_te = true;
		} else if (ieq(p, hd->name_len, "host")) {
			if (h->host)
				return REFUSE(400, CK_E_HTTP_SYNTAX, "two Host headers");
			if (!valid_authority(v, hd->value_len))
				return REFUSE(400, CK_E_HTTP_SYNTAX,
					      "Host '%.*s' is not a valid authority",
					      (int)(hd->value_len < 64 ? hd->value_len : 64), v);
			h->host = v;
			h->host_len = hd->value_len;
		} else if (ieq(p, hd->name_len, "connection")) {
			connection(h, v, hd->value_len);
		} else if (ieq(p, hd->name_len, "expect")) {
			if (!ieq(v, hd->value_len, "100-continue"))
				return REFUSE(417, CK_E_HTTP_SYNTAX, "unsupported Expect");
			h->expect_continue = true;
		}
		p = e + 2;
		if ((size_t)(p - buf) > CK_HTTP_MAX_HEAD)
			return REFUSE(431, CK_E_HTTP_LIMIT, "head over %d bytes", CK_HTTP_MAX_HEAD);
	}
	if (have_cl && have_te)
		return REFUSE(400, CK_E_HTTP_SYNTAX, "both Content-Length and Transfer-Encoding");
	if (have_te && h->minor == 0)
		return REFUSE(400, CK_E_HTTP_SYNTAX, "Transfer-Encoding in HTTP/1.0");
	h->body = have_te   ? CK_HTTP_BODY_CHUNKED
		  : have_cl ? CK_HTTP_BODY_LENGTH
			    : CK_HTTP_BODY_NONE;
	const char *after = line_end(p, end, &bad) + 2;
	return (long)(after - buf);
}

static int version(const char *p, struct ck_http_head *h)
{
	if (memcmp(p, "HTTP/1.", 7) != 0 || (p[7] != '0' && p[7] != '1'))
		return -1;
	h->minor = p[7] - '0';
	h->keep_alive = h->minor == 1;
	return 0;
}

long ck_http_parse_request(const char *buf, size_t len, struct ck_http_head *h, int *status,
			   struct ck_err *err)
{
	bool bad = false;
	memset(h, 0, sizeof(*h));
	*status = 0;
	const char *end = buf + (len > CK_HTTP_MAX_HEAD + 2 ? CK_HTTP_MAX_HEAD + 2 : len);
	const char *e = line_end(buf, end, &bad);
	if (bad)
		return REFUSE(400, CK_E_HTTP_SYNTAX, "bare CR or LF in the request line");
	if (!e)
		return len >= CK_HTTP_MAX_HEAD
			   ? REFUSE(431, CK_E_HTTP_LIMIT, "request line too long")
			   : 0;
	const char *p = buf;
	while (p < e && tchar((unsigned char)*p))
		p++;
	if (p == buf || p == e || *p != ' ')
		return REFUSE(400, CK_E_HTTP_SYNTAX, "malformed method");
	h->method = buf;
	h->method_len = (size_t)(p - buf);
	const char *t = ++p;
	while (p<e && * p> 0x20 && *p < 0x7f)
		p++;
	if (p == t || p == e || *p != ' ')
		return REFUSE(400, CK_E_HTTP_SYNTAX, "malformed request target");
	h->target = t;
	h->target_len = (size_t)(p - t);
	/* origin-form, or "*" for OPTIONS only (RFC 9112 §3.2.4) */
	if (h->target_len == 1 && t[0] == '*') {
		if (h->method_len != 7 || memcmp(h->method, "OPTIONS", 7) != 0)
			return REFUSE(400, CK_E_HTTP_SYNTAX,
				      "request target \"*\" with a method other than OPTIONS");
	} else if (t[0] != '/') {
		return REFUSE(400, CK_E_HTTP_SYNTAX, "request target is not in origin form");
	}
	p++;
	if (e - p != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.')
		return REFUSE(e - p == 8 ? 505 : 400, CK_E_HTTP_SYNTAX, "malformed request line");
	if (version(p, h) < 0)
		return REFUSE(505, CK_E_HTTP_SYNTAX, "not HTTP/1.0 or HTTP/1.1");
	long r = headers(buf, e + 2, end, h, status, err);
	if (r > 0 && h->minor == 1 && !h->host)
		return REFUSE(400, CK_E_HTTP_SYNTAX, "HTTP/1.1 request without Host");
	return r;
}

long ck_http_parse_response(const char *buf, size_t len, bool head_request, struct ck_http_head *h,
			    struct ck_err *err)
{
	bool bad = false;
	int st = 0, *status = &st;
	memset(h, 0, sizeof(*h));
	const char *end = buf + (len > CK_HTTP_MAX_HEAD + 2 ? CK_HTTP_MAX_HEAD + 2 : len);
	const char *e = line_end(buf, end, &bad);
	if (bad)
		return ck_errf(err, CK_E_HTTP_SYNTAX, "bare CR or LF in the status line");
	if (!e)
		return len >= CK_HTTP_MAX_HEAD
			   ? ck_errf(err, CK_E_HTTP_LIMIT, "status line too long")
			   : 0;
	if (e - buf < 12 || version(buf, h) < 0 || buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' ||
	    buf[10] < '0' || buf[10] > '9' || buf[11] < '0' || buf[11] > '9' ||
	    (e - buf > 12 && buf[12] != ' '))
		return ck_errf(err, CK_E_HTTP_SYNTAX, "malformed status line");
	h->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	h->reason = e - buf > 12 ? buf + 13 : e;
	h->reason_len = (size_t)(e - h->reason);
	for (const char *q = h->reason; q < e; q++)
		if (!vchar((unsigned char)*q))
			return ck_errf(err, CK_E_HTTP_SYNTAX, "control character in the reason");
	long r = headers(buf, e + 2, end, h, status, err);
	if (r <= 0)
		return r;
	if (head_request || h->status < 200 || h->status == 204 || h->status == 304)
		h->body = CK_HTTP_BODY_NONE;
	else if (h->body == CK_HTTP_BODY_NONE)
		h->body = CK_HTTP_BODY_UNTIL_CLOSE;
	return r;
}

const struct ck_http_header *ck_http_find(const struct ck_http_head *h, const char *name)
{
	for (size_t i = 0; i < h->n_headers; i++)
		if (ieq(h->headers[i].name, h->headers[i].name_len, name))
			return &h->headers[i];
	return NULL;
}

/* ---- chunked ------------------------------------------------------------------------------ */

enum {
	C_SIZE,
	C_EXT,
	C_SIZE_LF,
	C_DATA,
	C_DATA_CR,
	C_DATA_LF,
	C_TRAILER,
	C_TRAILER_LF,
	C_TRAILER_LINE,
	C_TRAILER_LINE_LF,
	C_DONE
};

static int hexv(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

#define CFAIL(msg) ck_errf(err, CK_E_HTTP_SYNTAX, "chunked body: %s", msg)

int ck_http_chunked_feed(struct ck_http_chunked *c, const uint8_t *in, size_t n, size_t *used,
			 const uint8_t **data, size_t *data_len, struct ck_err *err)
{
	size_t i = 0;
	*data = NULL;
	*data_len = 0;
	while (i < n && c->state != C_DONE) {
		uint8_t b = in[i];
		switch (c->state) {
		case C_SIZE:
			if (hexv(b) >= 0) {
				if (c->line >= 16)
					return CFAIL("chunk size too large");
				c->left = (c->left << 4) | (uint64_t)hexv(b);
				c->line++;
			} else if (c->line && b == ';') {
				c->state = C_EXT;
			} else if (c->line && b == '\r') {
				c->state = C_SIZE_LF;
			} else {
				return CFAIL("malformed chunk size");
			}
			i++;
			break;
		case C_EXT: /* chunk extensions: ignored, but printable and bounded */
			if (b == '\r')
				c->state = C_SIZE_LF;
			else if (!vchar(b) || ++c->line > CK_HTTP_MAX_CHUNK_LINE)
				return CFAIL("malformed or overlong chunk extension");
			i++;
			break;
		case C_SIZE_LF:
			if (b != '\n')
				return CFAIL("bare CR after the chunk size");
			i++;
			c->line = 0;
			c->state = c->left ? C_DATA : C_TRAILER;
			break;
		case C_DATA: {
			size_t k = n - i < c->left ? n - i : (size_t)c->left;
			*data = in + i;
			*data_len = k;
			i += k;
			c->left -= k;
			if (!c->left)
				c->state = C_DATA_CR;
			*used = i;
			return 0; /* hand this slice over before going on */
		}
		case C_DATA_CR:
			if (b != '\r')
				return CFAIL("chunk data longer than its size");
			c->state = C_DATA_LF;
			i++;
			break;
		case C_DATA_LF:
			if (b != '\n')
				return CFAIL("bare CR after chunk data");
			c->state = C_SIZE;
			i++;
			break;
		case C_TRAILER: /* after the last chunk: trailer lines, then the empty line */
			if (b == '\r') {
				c->state = C_TRAILER_LF;
			} else {
				if (!tchar(b))
					return CFAIL("malformed trailer");
				c->state = C_TRAILER_LINE;
				c->trailer++;
			}
			i++;
			break;
		case C_TRAILER_LF:
			if (b != '\n')
				return CFAIL("bare CR in the trailer");
			c->state = C_DONE;
			c->done = true;
			i++;
			break;
		case C_TRAILER_LINE:
			if (++c->trailer > CK_HTTP_MAX_TRAILER)
				return CFAIL("trailer too large");
			if (b == '\r')
				c->state = C_TRAILER_LINE_LF;
			else if (!vchar(b) && b != ':')
				return CFAIL("control character in the trailer");
			i++;
			break;
		case C_TRAILER_LINE_LF:
			if (b != '\n')
				return CFAIL("bare CR in the trailer");
			c->state = C_TRAILER;
			i++;
			break;
		}
	}
	*used = i;
	return 0;
}
