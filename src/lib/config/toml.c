/* SPDX-License-Identifier: Apache-2.0 */
/* toml.c - strict TOML for cloak.toml; the contract is in include/cloak/toml.h. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/toml.h"

#define MAX_TABLES 4096 /* tables of one document whose origin is remembered */

/* How a table came to be: TOML 1.0 allows extending some and not others. */
enum origin { IMPLICIT, HEADER, DOTTED };

struct tab {
	json_t *obj;
	enum origin how;
};

struct p {
	const char *s, *line; /* the text; the start of the current line */
	size_t n, i;	      /* its length; where we are */
	unsigned lineno;
	struct tab tabs[MAX_TABLES];
	size_t ntabs;
	struct ck_err *err;
};

#define FAIL(P, ...) fail_at((P), __VA_ARGS__)

__attribute__((format(printf, 2, 3))) static int fail_at(struct p *p, const char *fmt, ...)
{
	char what[200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	return ck_errf(p->err, CK_E_CONFIG, "line %u, column %zu: %s", p->lineno,
		       (size_t)(p->s + p->i - p->line) + 1, what);
}

/* A byte as a message may show it. */
static int shown(int c)
{
	return c > 0x20 && c < 0x7f ? c : '?';
}

static int peek(const struct p *p, size_t k)
{
	return p->i + k < p->n ? (unsigned char)p->s[p->i + k] : -1;
}

static bool at(const struct p *p, const char *w)
{
	size_t l = strlen(w);
	return p->n - p->i >= l && !memcmp(p->s + p->i, w, l);
}

/* ---- tables' origins ------------------------------------------------------------------------ */

static struct tab *tab_of(struct p *p, const json_t *o)
{
	for (size_t i = 0; i < p->ntabs; i++)
		if (p->tabs[i].obj == o)
			return &p->tabs[i];
	return NULL;
}

static json_t *new_table(struct p *p, json_t *parent, const char *key, enum origin how)
{
	if (p->ntabs == MAX_TABLES)
		return FAIL(p, "more than %d tables", MAX_TABLES), NULL;
	json_t *o = json_object();
	if (!o || json_object_set_new(parent, key, o) < 0)
		return FAIL(p, "out of memory"), NULL;
	p->tabs[p->ntabs].obj = o;
	p->tabs[p->ntabs++].how = how;
	return o;
}

/* ---- lexical pieces ------------------------------------------------------------------------- */

static void skip_ws(struct p *p)
{
	while (peek(p, 0) == ' ' || peek(p, 0) == '\t')
		p->i++;
}

/* A comment to the end of the line (not its newline): no control character but tab. */
static int comment(struct p *p)
{
	if (peek(p, 0) != '#')
		return 0;
	for (p->i++; p->i < p->n && p->s[p->i] != '\n'; p->i++) {
		unsigned char c = (unsigned char)p->s[p->i];
		if (c == '\r' && peek(p, 1) == '\n')
			break;
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return FAIL(p, "a control character (0x%02x) in a comment", c);
	}
	return 0;
}

/* A newline (LF or CRLF) or the end: 1; anything else: 0. */
static int newline(struct p *p)
{
	if (p->i == p->n)
		return 1;
	size_t k = peek(p, 0) == '\r' && peek(p, 1) == '\n' ? 2 : peek(p, 0) == '\n' ? 1 : 0;
	if (!k)
		return 0;
	p->i += k;
	p->lineno++;
	p->line = p->s + p->i;
	return 1;
}

/* What may follow a value or a header: spaces, a comment, the end of the line. */
static int end_of_line(struct p *p)
{
	skip_ws(p);
	if (comment(p) < 0)
		return -1;
	if (!newline(p))
		return peek(p, 0) == '\r'
			   ? FAIL(p, "a carriage return without a line feed")
			   : FAIL(p, "'%c' after the value: one key = value per line",
				  shown(peek(p, 0)));
	return 0;
}

static void put_utf8(char *out, size_t *k, uint32_t c)
{
	if (c < 0x80) {
		out[(*k)++] = (char)c;
	} else if (c < 0x800) {
		out[(*k)++] = (char)(0xc0 | c >> 6);
		out[(*k)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*k)++] = (char)(0xe0 | c >> 12);
		out[(*k)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*k)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*k)++] = (char)(0xf0 | c >> 18);
		out[(*k)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[(*k)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*k)++] = (char)(0x80 | (c & 0x3f));
	}
}

static int hexdig(int c)
{
	return c >= '0' && c <= '9'   ? c - '0'
	       : c >= 'a' && c <= 'f' ? c - 'a' + 10
	       : c >= 'A' && c <= 'F' ? c - 'A' + 10
				      : -1;
}

/* A basic ("...") or literal ('...') string on one line, into a fresh buffer (*len bytes). */
static char *string(struct p *p, size_t *len)
{
	char q = p->s[p->i];
	if (at(p, q == '"' ? "\"\"\"" : "'''"))
		return FAIL(p, "multi-line strings are not supported in cloak.toml"), NULL;
	char *out = malloc(p->n - p->i + 1);
	size_t k = 0;
	if (!out)
		return FAIL(p, "out of memory"), NULL;
	for (p->i++;; p->i++) {
		int c = peek(p, 0);
		if (c == q) {
			p->i++;
			*len = k;
			out[k] = 0;
			return out;
		}
		if (c < 0 || c == '\n' || c == '\r') {
			FAIL(p, "a string not closed on its line");
			break;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			FAIL(p, "a control character (0x%02x) in a string: escape it", c);
			break;
		}
		if (c != '\\' || q == '\'') {
			out[k++] = (char)c;
			continue;
		}
		static const char from[] = "btnfr\"\\", to[] = "\b\t\n\f\r\"\\";
		int e = peek(p, 1);
		const char *f = e > 0 ? strchr(from, e) : NULL;
		if (f && *f) {
			out[k++] = to[f - from];
			p->i++;
			continue;
		}
		if (e != 'u' && e != 'U') {
			FAIL(p, "'\\%c' is not an escape TOML has", e > 0x20 && e < 0x7f ? e : '?');
			break;
		}
		int digits = e == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (int d = 0; d < digits; d++) {
			int h = hexdig(peek(p, 2 + (size_t)d));
			if (h < 0) {
				cp = UINT32_MAX;
				break;
			}
			cp = cp << 4 | (uint32_t)h;
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
			FAIL(p, "'\\%c' does not name a Unicode scalar value", e);
			break;
		}
		put_utf8(out, &k, cp);
		p->i += 1 + (size_t)digits;
	}
	free(out);
	return NULL;
}

static bool bare_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

/* One part of a key, bare or quoted. */
static char *simple_key(struct p *p)
{
	size_t len, st = p->i;
	int c = peek(p, 0);
	if (c == '"' || c == '\'') {
		char *k = string(p, &len);
		if (k && memchr(k, 0, len)) {
			free(k);
			return FAIL(p, "a key with a NUL in it"), NULL;
		}
		return k;
	}
	while (bare_char(peek(p, 0)))
		p->i++;
	if (p->i == st)
		return FAIL(p, c < 0 ? "a key expected" : "a key expected, not '%c'", shown(c)),
		       NULL;
	char *k = malloc(p->i - st + 1);
	if (!k)
		return FAIL(p, "out of memory"), NULL;
	memcpy(k, p->s + st, p->i - st);
	k[p->i - st] = 0;
	return k;
}

/* A dotted key: its parts (the caller frees each). */
static int key(struct p *p, char *parts[CK_TOML_MAX_DEPTH], size_t *n)
{
	*n = 0;
	for (;;) {
		if (*n == CK_TOML_MAX_DEPTH)
			return FAIL(p, "a key of more than %d parts", CK_TOML_MAX_DEPTH);
		if (!(parts[*n] = simple_key(p)))
			return -1;
		(*n)++;
		skip_ws(p);
		if (peek(p, 0) != '.')
			return 0;
		p->i++;
		skip_ws(p);
	}
}

static void free_parts(char *parts[], size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(parts[i]);
}

/* ---- values --------------------------------------------------------------------------------- */

static json_t *value(struct p *p, int depth);

static int digits_of(struct p *p, int base, int64_t sign, json_int_t *v)
{
	size_t st = p->i;
	uint64_t acc = 0, lim = sign < 0 ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	bool last_digit = false;
	for (;; p->i++) {
		int c = peek(p, 0), d = hexdig(c);
		if (c == '_') {
			if (!last_digit || hexdig(peek(p, 1)) < 0 || hexdig(peek(p, 1)) >= base)
				return FAIL(p, "an underscore not between two digits");
			last_digit = false;
			continue;
		}
		if (d < 0 || d >= base)
			break;
		if (acc > (lim - (uint64_t)d) / (uint64_t)base)
			return FAIL(p, "an integer out of the 64-bit range");
		acc = acc * (uint64_t)base + (uint64_t)d;
		last_digit = true;
	}
	if (p->i == st)
		return FAIL(p, "digits expected");
	*v = sign < 0 ? (json_int_t)(0 - acc) : (json_int_t)acc;
	return 0;
}

static json_t *number(struct p *p)
{
	int c = peek(p, 0);
	int64_t sign = 1;
	json_int_t v;
	if (c == '+' || c == '-') {
		sign = c == '-' ? -1 : 1;
		p->i++;
	}
	if (at(p, "inf") || at(p, "nan"))
		return FAIL(p, "floats are not supported in cloak.toml"), NULL;
	if (peek(p, 0) == '0' && (peek(p, 1) == 'x' || peek(p, 1) == 'o' || peek(p, 1) == 'b')) {
		int base = peek(p, 1) == 'x' ? 16 : peek(p, 1) == 'o' ? 8 : 2;
		if (sign < 0 || c == '+')
			return FAIL(p, "a sign before a 0x, 0o or 0b integer"), NULL;
		p->i += 2;
		if (digits_of(p, base, 1, &v) < 0)
			return NULL;
	} else {
		size_t run = 0;
		while (peek(p, run) >= '0' && peek(p, run) <= '9')
			run++;
		if (run && (peek(p, run) == ':' || (run == 4 && peek(p, run) == '-')))
			return FAIL(p, "dates and times are not supported in cloak.toml"), NULL;
		if (peek(p, 0) == '0' &&
		    (peek(p, 1) == '_' || (hexdig(peek(p, 1)) >= 0 && hexdig(peek(p, 1)) < 10)))
			return FAIL(p, "a leading zero"), NULL;
		if (hexdig(peek(p, 0)) < 0 || hexdig(peek(p, 0)) > 9)
			return FAIL(p, "a value expected"), NULL;
		if (digits_of(p, 10, sign, &v) < 0)
			return NULL;
		int d = peek(p, 0);
		if (d == '.' || d == 'e' || d == 'E')
			return FAIL(p, "floats are not supported in cloak.toml"), NULL;
		if (d == '-' || d == ':')
			return FAIL(p, "dates and times are not supported in cloak.toml"), NULL;
	}
	if (bare_char(peek(p, 0)))
		return FAIL(p, "'%c' in a number", shown(peek(p, 0))), NULL;
	json_t *j = json_integer(v);
	return j ? j : (FAIL(p, "out of memory"), NULL);
}

/* Spaces, newlines and comments, as arrays allow between their values. */
static int array_gap(struct p *p)
{
	for (;;) {
		skip_ws(p);
		if (comment(p) < 0)
			return -1;
		if (p->i == p->n)
			return 0;
		if (!newline(p))
			return peek(p, 0) == '\r' ? FAIL(p, "a carriage return without a line feed")
						  : 0;
	}
}

static json_t *array(struct p *p, int depth)
{
	if (depth >= CK_TOML_MAX_DEPTH)
		return FAIL(p, "arrays nested more than %d deep", CK_TOML_MAX_DEPTH), NULL;
	json_t *a = json_array();
	if (!a)
		return FAIL(p, "out of memory"), NULL;
	p->i++;
	for (;;) {
		if (array_gap(p) < 0)
			break;
		if (peek(p, 0) == ']') {
			p->i++;
			return a;
		}
		json_t *v = value(p, depth + 1);
		if (!v || json_array_append_new(a, v) < 0 || array_gap(p) < 0)
			break;
		if (peek(p, 0) == ',') {
			p->i++;
			continue;
		}
		if (peek(p, 0) == ']') {
			p->i++;
			return a;
		}
		FAIL(p, peek(p, 0) < 0 ? "an array not closed" : "',' or ']' expected in an array");
		break;
	}
	json_decref(a);
	return NULL;
}

static json_t *value(struct p *p, int depth)
{
	int c = peek(p, 0);
	size_t len;
	if (c == '"' || c == '\'') {
		char *s = string(p, &len);
		if (!s)
			return NULL;
		json_t *j = json_stringn(s, len);
		free(s);
		if (!j)
			FAIL(p, "out of memory");
		return j;
	}
	if (c == '[')
		return array(p, depth);
	if (c == '{')
		return FAIL(p, "inline tables are not supported in cloak.toml: use a [table]"),
		       NULL;
	if (at(p, "true") && !bare_char(peek(p, 4))) {
		p->i += 4;
		return json_true();
	}
	if (at(p, "false") && !bare_char(peek(p, 5))) {
		p->i += 5;
		return json_false();
	}
	if (c == '+' || c == '-' || (c >= '0' && c <= '9') || at(p, "inf") || at(p, "nan"))
		return number(p);
	return FAIL(p,
		    c < 0 || c == '\n' || c == '\r' ? "a value expected"
						    : "a value expected, not '%c'",
		    shown(c)),
	       NULL;
}

/* ---- lines ---------------------------------------------------------------------------------- */

/* [a.b.c]: the table the following keys go into. */
static json_t *header(struct p *p, json_t *root)
{
	char *parts[CK_TOML_MAX_DEPTH];
	size_t n, start = p->i;
	if (at(p, "[["))
		return FAIL(p, "arrays of tables are not supported in cloak.toml"), NULL;
	p->i++;
	skip_ws(p);
	if (key(p, parts, &n) < 0) {
		free_parts(parts, n);
		return NULL;
	}
	json_t *t = root, *res = NULL;
	if (peek(p, 0) != ']') {
		FAIL(p, "']' expected after the table's name");
		goto out;
	}
	p->i++;
	for (size_t i = 0; i < n; i++) {
		json_t *next = json_object_get(t, parts[i]);
		struct tab *tb = next ? tab_of(p, next) : NULL;
		if (!next) {
			next = new_table(p, t, parts[i], i + 1 == n ? HEADER : IMPLICIT);
			if (!next)
				goto out;
		} else if (!json_is_object(next) || !tb) {
			FAIL(p, "'%s' is already a value, not a table", parts[i]);
			goto out;
		} else if (i + 1 < n && tb->how == DOTTED) {
			FAIL(p, "'%s' was made by dotted keys: it takes no [table] under it",
			     parts[i]);
			goto out;
		} else if (i + 1 == n && tb->how != IMPLICIT) {
			p->i = start;
			FAIL(p, "the table '%s' is defined twice", parts[i]);
			goto out;
		} else if (i + 1 == n) {
			tb->how = HEADER;
		}
		t = next;
	}
	res = end_of_line(p) < 0 ? NULL : t;
out:
	free_parts(parts, n);
	return res;
}

/* key = value, into table t. */
static int keyval(struct p *p, json_t *t)
{
	char *parts[CK_TOML_MAX_DEPTH];
	size_t n, start = p->i;
	int ret = -1;
	if (key(p, parts, &n) < 0) {
		free_parts(parts, n);
		return -1;
	}
	for (size_t i = 0; i + 1 < n; i++) {
		json_t *next = json_object_get(t, parts[i]);
		struct tab *tb = next ? tab_of(p, next) : NULL;
		if (!next)
			next = new_table(p, t, parts[i], DOTTED);
		else if (!json_is_object(next) || !tb || tb->how != DOTTED)
			next = (FAIL(p, "'%s' is already defined: dotted keys cannot add to it",
				     parts[i]),
				NULL);
		if (!next)
			goto out;
		t = next;
	}
	if (json_object_get(t, parts[n - 1])) {
		p->i = start; /* said where the key begins */
		FAIL(p, "the key '%s' is defined twice", parts[n - 1]);
		goto out;
	}
	if (peek(p, 0) != '=') {
		FAIL(p, "'=' expected after the key '%s'", parts[n - 1]);
		goto out;
	}
	p->i++;
	skip_ws(p);
	json_t *v = value(p, 0);
	if (!v)
		goto out;
	if (json_object_set_new(t, parts[n - 1], v) < 0) {
		FAIL(p, "out of memory");
		goto out;
	}
	ret = end_of_line(p);
out:
	free_parts(parts, n);
	return ret;
}

/* The whole text must be UTF-8 (no overlong forms, no surrogates). */
static int utf8(struct p *p)
{
	const unsigned char *s = (const unsigned char *)p->s;
	for (size_t i = 0; i < p->n;) {
		unsigned c = s[i], need = c < 0x80		   ? 0
					  : c >= 0xc2 && c <= 0xdf ? 1
					  : c >= 0xe0 && c <= 0xef ? 2
					  : c >= 0xf0 && c <= 0xf4 ? 3
								   : 9;
		uint32_t cp = need == 1 ? c & 0x1f : need == 2 ? c & 0x0f : c & 0x07;
		if (need == 9 || i + need >= p->n + (need == 0))
			goto bad;
		for (unsigned k = 1; k <= need; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				goto bad;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if ((need == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (need == 3 && (cp < 0x10000 || cp > 0x10ffff)))
			goto bad;
		if (c == '\n') {
			p->lineno++;
			p->line = p->s + i + 1;
		}
		i += need + 1;
		continue;
	bad:
		p->i = i;
		return FAIL(p, "not UTF-8 (byte 0x%02x)", c);
	}
	return 0;
}

int ck_toml_parse(const char *text, size_t len, json_t **out, struct ck_err *err)
{
	struct p *p = calloc(1, sizeof(*p)); /* large (the tables' origins): on the heap */
	*out = NULL;
	if (!p)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	if (len > CK_TOML_MAX_LEN) {
		free(p);
		return ck_errf(err, CK_E_TOO_LARGE, "a TOML document of %zu bytes (at most %d)",
			       len, CK_TOML_MAX_LEN);
	}
	p->s = p->line = text;
	p->n = len;
	p->err = err;
	p->lineno = 1;
	json_t *root = json_object(), *t = root;
	int r = root ? utf8(p) : ck_errf(err, CK_E_NOMEM, "out of memory");
	p->lineno = 1;
	p->line = text;
	while (r == 0 && p->i < p->n) {
		skip_ws(p);
		int c = peek(p, 0);
		if (c == '#' || c == '\n' || c == '\r' || c < 0)
			r = end_of_line(p);
		else if (c == '[')
			r = (t = header(p, root)) ? 0 : -1;
		else
			r = keyval(p, t);
	}
	free(p);
	if (r < 0) {
		json_decref(root);
		return -1;
	}
	*out = root;
	return 0;
}
