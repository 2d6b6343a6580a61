/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "util/cbor.h"

int ck_cbor_head(struct ck_cbor_reader *r, int *major, uint64_t *arg)
{
	if (r->p >= r->end)
		return -1;
	uint8_t ib = *r->p++;
	int ai = ib & 0x1f;
	*major = ib >> 5;
	if (ai < 24) {
		*arg = (uint64_t)ai;
	} else if (ai <= 27) {
		size_t n = (size_t)1 << (ai - 24);
		if ((size_t)(r->end - r->p) < n)
			return -1;
		uint64_t v = 0;
		for (size_t i = 0; i < n; i++)
			v = (v << 8) | r->p[i];
		r->p += n;
		/* shortest form only */
		if ((n == 1 && v < 24) || (n == 2 && v <= 0xff) || (n == 4 && v <= 0xffff) ||
		    (n == 8 && v <= 0xffffffffu))
			return -1;
		*arg = v;
	} else {
		return -1; /* reserved or indefinite length */
	}
	if (*major == CK_CBOR_SIMPLE && !(*arg == 20 || *arg == 21 || *arg == 22))
		return -1; /* floats and other simple values */
	return 0;
}

int ck_cbor_string(struct ck_cbor_reader *r, int major, const uint8_t **p, size_t *n)
{
	int m;
	uint64_t len;
	if (ck_cbor_head(r, &m, &len) < 0 || m != major || len > (uint64_t)(r->end - r->p))
		return -1;
	*p = r->p;
	*n = (size_t)len;
	r->p += len;
	return 0;
}

static int skip(struct ck_cbor_reader *r, int depth)
{
	int m;
	uint64_t a;
	if (depth > CK_CBOR_MAX_DEPTH || ck_cbor_head(r, &m, &a) < 0)
		return -1;
	switch (m) {
	case CK_CBOR_BYTES:
	case CK_CBOR_TEXT:
		if (a > (uint64_t)(r->end - r->p))
			return -1;
		r->p += a;
		return 0;
	case CK_CBOR_ARRAY:
	case CK_CBOR_MAP:
		if (a > (uint64_t)(r->end - r->p))
			return -1; /* every item takes at least a byte */
		for (uint64_t i = 0; i < (m == CK_CBOR_MAP ? 2 * a : a); i++)
			if (skip(r, depth + 1) < 0)
				return -1;
		return 0;
	case CK_CBOR_TAG:
		return skip(r, depth + 1);
	default:
		return 0;
	}
}

int ck_cbor_skip(struct ck_cbor_reader *r)
{
	return skip(r, 0);
}

static void put(struct ck_cbor_writer *w, const void *p, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 128;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *b = realloc(w->buf, cap);
		if (!b) {
			w->failed = true;
			return;
		}
		w->buf = b;
		w->cap = cap;
	}
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

void ck_cbor_put_head(struct ck_cbor_writer *w, int major, uint64_t arg)
{
	uint8_t b[9];
	size_t n = 1;
	uint8_t mt = (uint8_t)(major << 5);
	if (arg < 24) {
		b[0] = mt | (uint8_t)arg;
	} else {
		int k = arg <= 0xff ? 0 : arg <= 0xffff ? 1 : arg <= 0xffffffffu ? 2 : 3;
		size_t bytes = (size_t)1 << k;
		b[0] = mt | (uint8_t)(24 + k);
		for (size_t i = 0; i < bytes; i++)
			b[1 + i] = (uint8_t)(arg >> (8 * (bytes - 1 - i)));
		n += bytes;
	}
	put(w, b, n);
}

void ck_cbor_put_string(struct ck_cbor_writer *w, int major, const void *p, size_t n)
{
	ck_cbor_put_head(w, major, n);
	put(w, p, n);
}
