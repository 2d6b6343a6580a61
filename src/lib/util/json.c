/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

struct parser {
	const uint8_t *s;
	size_t n, i;
	struct ck_jdoc *d;
	size_t cap;
	struct ck_err *err;
};

static int fail(struct parser *p, const char *what)
{
	return ck_errf(p->err, CK_E_JSON, "JSON: %s at offset %zu", what, p->i);
}

static void ws(struct parser *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\n' ||
			       p->s[p->i] == '\r'))
		p->i++;
}

static long push(struct parser *p, uint8_t type)
{
	if (p->d->n == p->cap) {
		if (p->cap >= CK_JSON_MAX_TOKENS)
			return fail(p, "too many values");
		size_t cap = p->cap ? p->cap * 2 : 64;
		struct ck_jtok *t = realloc(p->d->t, cap * sizeof(*t));
		if (!t)
			return ck_errf(p->err, CK_E_NOMEM, "out of memory");
		p->d->t = t;
		p->cap = cap;
	}
	struct ck_jtok *t = &p->d->t[p->d->n];
	memset(t, 0, sizeof(*t));
	t->type = type;
	t->start = (uint32_t)p->i;
	return (long)p->d->n++;
}

static int hex4(const uint8_t *s, uint32_t *out)
{
	uint32_t v = 0;
	for (int k = 0; k < 4; k++) {
		uint8_t c = s[k];
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
			v |= (uint32_t)((c | 0x20) - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (n bytes available), or 0. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0; /* overlong */
		if (c == 0xed && s[1] >= 0xa0)
			return 0; /* surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 ||
		    (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

static int string(struct parser *p, bool key)
{
	long t = push(p, CK_JT_STRING);
	if (t < 0)
		return -1;
	p->i++; /* opening quote */
	p->d->t[t].start = (uint32_t)p->i;
	while (p->i < p->n) {
		uint8_t c = p->s[p->i];
		if (c == '"') {
			p->d->t[t].end = (uint32_t)p->i;
			p->i++;
			p->d->t[t].next = (uint32_t)p->d->n;
			return 0;
		}
		if (c < 0x20)
			return fail(p, "control character in a string");
		if (c == '\\') {
			if (key)
				return fail(p, "escape in an object key");
			p->d->t[t].escaped = true;
			if (p->i + 1 >= p->n)
				break;
			uint8_t e = p->s[p->i + 1];
			if (e == 'u') {
				uint32_t u, lo;
				if (p->i + 6 > p->n || hex4(p->s + p->i + 2, &u) < 0)
					return fail(p, "bad \\u escape");
				p->i += 6;
				if (u >= 0xdc00 && u <= 0xdfff)
					return fail(p, "lone low surrogate");
				if (u >= 0xd800 && u <= 0xdbff) {
					if (p->i + 6 > p->n || p->s[p->i] != '\\' ||
					    p->s[p->i + 1] != 'u' ||
					    hex4(p->s + p->i + 2, &lo) < 0 || lo < 0xdc00 ||
					    lo > 0xdfff)
						return fail(p, "unpaired surrogate");
					p->i += 6;
				}
				continue;
			}
			if (!strchr("\"\\/bfnrt", e) || e == 0)
				return fail(p, "bad escape");
			p->i += 2;
			continue;
		}
		size_t l = utf8_len(p->s + p->i, p->n - p->i);
		if (!l)
			return fail(p, "invalid UTF-8");
		p->i += l;
	}
	return fail(p, "unterminated string");
}

static int number(struct parser *p)
{
	long t = push(p, CK_JT_NUMBER);
	if (t < 0)
		return -1;
	size_t i = p->i;
	bool integer = true;
	if (i < p->n && p->s[i] == '-')
		i++;
	if (i < p->n && p->s[i] == '0') {
		i++;
	} else if (i < p->n && p->s[i] >= '1' && p->s[i] <= '9') {
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
	} else {
		return fail(p, "bad number");
	}
	if (i < p->n && p->s[i] == '.') {
		integer = false;
		size_t d = ++i;
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
		if (i == d)
			return fail(p, "bad fraction");
	}
	if (i < p->n && (p->s[i] == 'e' || p->s[i] == 'E')) {
		integer = false;
		i++;
		if (i < p->n && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		size_t d = i;
		while (i < p->n && p->s[i] >= '0' && p->s[i] <= '9')
			i++;
		if (i == d)
			return fail(p, "bad exponent");
	}
	p->i = i;
	p->d->t[t].end = (uint32_t)i;
	p->d->t[t].integer = integer;
	p->d->t[t].next = (uint32_t)p->d->n;
	return 0;
}

static int literal(struct parser *p, const char *word, uint8_t type)
{
	size_t l = strlen(word);
	if (p->n - p->i < l || memcmp(p->s + p->i, word, l) != 0)
		return fail(p, "unexpected character");
	long t = push(p, type);
	if (t < 0)
		return -1;
	p->i += l;
	p->d->t[t].end = (uint32_t)p->i;
	p->d->t[t].next = (uint32_t)p->d->n;
	return 0;
}

static int value(struct parser *p, int depth);

/* Refuses a key already present among the members parsed so far. */
static int dup_check(struct parser *p, size_t obj, size_t key)
{
	const struct ck_jtok *k = &p->d->t[key];
	size_t kl = k->end - k->start;
	for (size_t i = obj + 1; i < key; i = p->d->t[i + 1].next) {
		const struct ck_jtok *o = &p->d->t[i];
		if (o->end - o->start == kl && memcmp(p->s + o->start, p->s + k->start, kl) == 0)
			return fail(p, "duplicate key");
	}
	return 0;
}

static int container(struct parser *p, int depth, bool obj)
{
	if (depth >= CK_JSON_MAX_DEPTH)
		return fail(p, "nesting too deep");
	long t = push(p, obj ? CK_JT_OBJECT : CK_JT_ARRAY);
	if (t < 0)
		return -1;
	p->i++;
	ws(p);
	uint8_t close = obj ? '}' : ']';
	uint32_t size = 0;
	if (p->i < p->n && p->s[p->i] == close) {
		p->i++;
		goto done;
	}
	for (;;) {
		ws(p);
		if (obj) {
			if (p->i >= p->n || p->s[p->i] != '"')
				return fail(p, "expected a key");
			size_t key = p->d->n;
			if (string(p, true) < 0 || dup_check(p, (size_t)t, key) < 0)
				return -1;
			ws(p);
			if (p->i >= p->n || p->s[p->i] != ':')
				return fail(p, "expected ':'");
			p->i++;
			ws(p);
		}
		if (value(p, depth + 1) < 0)
			return -1;
		size++;
		ws(p);
		if (p->i < p->n && p->s[p->i] == ',') {
			p->i++;
			continue;
		}
		if (p->i < p->n && p->s[p->i] == close) {
			p->i++;
			break;
		}
		return fail(p, obj ? "expected ',' or '}'" : "expected ',' or ']'");
	}
done:
	p->d->t[t].size = size;
	p->d->t[t].end = (uint32_t)p->i;
	p->d->t[t].next = (uint32_t)p->d->n;
	return 0;
}

static int value(struct parser *p, int depth)
{
	if (p->i >= p->n)
		return fail(p, "unexpected end");
	switch (p->s[p->i]) {
	case '{':
		return container(p, depth, true);
	case '[':
		return container(p, depth, false);
	case '"':
		return string(p, false);
	case 't':
		return literal(p, "true", CK_JT_TRUE);
	case 'f':
		return literal(p, "false", CK_JT_FALSE);
	case 'n':
		return literal(p, "null", CK_JT_NULL);
	default:
		return number(p);
	}
}

int ck_json_parse(const char *text, size_t len, struct ck_jdoc *d, struct ck_err *err)
{
	struct parser p = {(const uint8_t *)text, len, 0, d, 0, err};
	memset(d, 0, sizeof(*d));
	d->text = text;
	d->len = len;
	if (len >= UINT32_MAX)
		return ck_errf(err, CK_E_TOO_LARGE, "JSON: document too large");
	ws(&p);
	if (p.i >= len || (text[p.i] != '{' && text[p.i] != '['))
		goto bad_top;
	if (value(&p, 0) < 0)
		goto fail;
	ws(&p);
	if (p.i != len) {
		fail(&p, "trailing data");
		goto fail;
	}
	return 0;
bad_top:
	fail(&p, "expected an object or array");
fail:
	ck_json_free(d);
	return -1;
}

void ck_json_free(struct ck_jdoc *d)
{
	if (d) {
		free(d->t);
		d->t = NULL;
		d->n = 0;
	}
}

long ck_json_get(const struct ck_jdoc *d, size_t obj, const char *key)
{
	if (obj >= d->n || d->t[obj].type != CK_JT_OBJECT)
		return -1;
	size_t kl = strlen(key), i = obj + 1;
	for (uint32_t m = 0; m < d->t[obj].size; m++) {
		const struct ck_jtok *k = &d->t[i];
		if (k->end - k->start == kl && memcmp(d->text + k->start, key, kl) == 0)
			return (long)(i + 1);
		i = d->t[i + 1].next;
	}
	return -1;
}

bool ck_json_str_eq(const struct ck_jdoc *d, size_t i, const char *s)
{
	const struct ck_jtok *t = &d->t[i];
	size_t l = strlen(s);
	return t->type == CK_JT_STRING && !t->escaped && t->end - t->start == l &&
	       memcmp(d->text + t->start, s, l) == 0;
}

static size_t put_utf8(char *o, uint32_t u)
{
	if (u < 0x80) {
		o[0] = (char)u;
		return 1;
	}
	if (u < 0x800) {
		o[0] = (char)(0xc0 | (u >> 6));
		o[1] = (char)(0x80 | (u & 0x3f));
		return 2;
	}
	if (u < 0x10000) {
		o[0] = (char)(0xe0 | (u >> 12));
		o[1] = (char)(0x80 | ((u >> 6) & 0x3f));
		o[2] = (char)(0x80 | (u & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (u >> 18));
	o[1] = (char)(0x80 | ((u >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((u >> 6) & 0x3f));
	o[3] = (char)(0x80 | (u & 0x3f));
	return 4;
}

char *ck_json_strdup(const struct ck_jdoc *d, size_t i, size_t *len)
{
	const struct ck_jtok *t = &d->t[i];
	if (t->type != CK_JT_STRING)
		return NULL;
	const char *s = d->text + t->start;
	size_t n = t->end - t->start, k = 0;
	char *o = malloc(n + 1);
	if (!o)
		return NULL;
	if (!t->escaped) {
		memcpy(o, s, n);
		k = n;
	} else {
		/* escapes were validated by the tokenizer */
		for (size_t j = 0; j < n;) {
			if (s[j] != '\\') {
				o[k++] = s[j++];
				continue;
			}
			char e = s[j + 1];
			uint32_t u, lo;
			switch (e) {
			case 'b':
				o[k++] = '\b';
				break;
			case 'f':
				o[k++] = '\f';
				break;
			case 'n':
				o[k++] = '\n';
				break;
			case 'r':
				o[k++] = '\r';
				break;
			case 't':
				o[k++] = '\t';
				break;
			case 'u':
				hex4((const uint8_t *)s + j + 2, &u);
				if (u >= 0xd800 && u <= 0xdbff) {
					hex4((const uint8_t *)s + j + 8, &lo);
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					j += 6;
				}
				k += put_utf8(o + k, u);
				j += 4;
				break;
			default:
				o[k++] = e;
				break;
			}
			j += 2;
		}
	}
	o[k] = 0;
	if (len)
		*len = k;
	return o;
}

int ck_json_int(const struct ck_jdoc *d, size_t i, long long min, long long max, long long *out)
{
	const struct ck_jtok *t = &d->t[i];
	if (t->type != CK_JT_NUMBER || !t->integer)
		return -1;
	const char *s = d->text + t->start;
	size_t n = t->end - t->start, j = 0;
	bool neg = s[0] == '-';
	if (n - neg > 18) /* 18 digits cannot overflow a long long */
		return -1;
	long long v = 0;
	if (neg)
		j++;
	for (; j < n; j++)
		v = v * 10 + (s[j] - '0');
	if (neg)
		v = -v;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
