/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "util/der.h"

int ck_der_next(struct ck_der_reader *d, uint8_t *tag, const uint8_t **val, size_t *len)
{
	size_t left = (size_t)(d->end - d->p);
	if (left < 2)
		return -1;
	uint8_t t = d->p[0], l0 = d->p[1];
	if ((t & 0x1f) == 0x1f) /* multi-byte tags: never used by the formats we read */
		return -1;
	size_t hdr = 2, n;
	if (l0 < 0x80) {
		n = l0;
	} else {
		size_t nb = l0 & 0x7f;
		if (nb == 0 || nb > 4 || left < 2 + nb)
			return -1; /* indefinite or absurd length */
		if (d->p[2] == 0)
			return -1; /* leading zero: not minimal */
		n = 0;
		for (size_t i = 0; i < nb; i++)
			n = (n << 8) | d->p[2 + i];
		if (n < 0x80)
			return -1; /* long form for a short length: not minimal */
		hdr += nb;
	}
	if (n > left - hdr)
		return -1;
	*tag = t;
	*val = d->p + hdr;
	*len = n;
	d->p += hdr + n;
	return 0;
}

int ck_der_expect(struct ck_der_reader *d, uint8_t tag, const uint8_t **val, size_t *len)
{
	uint8_t t;
	if (ck_der_next(d, &t, val, len) < 0 || t != tag)
		return -1;
	return 0;
}

int ck_der_uint(const uint8_t *val, size_t len, uint64_t max, uint64_t *out)
{
	if (len == 0 || len > 9)
		return -1;
	if (val[0] & 0x80)
		return -1; /* negative */
	if (len > 1 && val[0] == 0 && !(val[1] & 0x80))
		return -1; /* non-minimal */
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (v >> 56)
			return -1;
		v = (v << 8) | val[i];
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int reserve(struct ck_der_writer *w, size_t n)
{
	if (w->failed)
		return -1;
	if (w->len + n <= w->cap)
		return 0;
	size_t cap = w->cap ? w->cap : 256;
	while (cap < w->len + n)
		cap *= 2;
	uint8_t *b = realloc(w->buf, cap);
	if (!b) {
		w->failed = true;
		return -1;
	}
	w->buf = b;
	w->cap = cap;
	return 0;
}

void ck_der_put_raw(struct ck_der_writer *w, const void *p, size_t n)
{
	if (reserve(w, n) < 0)
		return;
	memcpy(w->buf + w->len, p, n);
	w->len += n;
}

size_t ck_der_open(struct ck_der_writer *w, uint8_t tag)
{
	uint8_t h[2] = {tag, 0};
	ck_der_put_raw(w, h, 2);
	return w->len;
}

void ck_der_close(struct ck_der_writer *w, size_t mark)
{
	if (w->failed)
		return;
	size_t n = w->len - mark;
	uint8_t lb[5];
	size_t nl = 0;
	if (n >= 0x80) {
		for (size_t v = n; v; v >>= 8)
			nl++;
		lb[0] = (uint8_t)(0x80 | nl);
		for (size_t i = 0; i < nl; i++)
			lb[1 + i] = (uint8_t)(n >> (8 * (nl - 1 - i)));
		if (reserve(w, nl) < 0)
			return;
		memmove(w->buf + mark + nl, w->buf + mark, n);
		memcpy(w->buf + mark - 1, lb, nl + 1);
		w->len += nl;
	} else {
		w->buf[mark - 1] = (uint8_t)n;
	}
}

void ck_der_put(struct ck_der_writer *w, uint8_t tag, const void *val, size_t len)
{
	size_t m = ck_der_open(w, tag);
	ck_der_put_raw(w, val, len);
	ck_der_close(w, m);
}

void ck_der_put_uint(struct ck_der_writer *w, uint8_t tag, uint64_t v)
{
	uint8_t b[9];
	size_t n = 0;
	for (int i = 7; i >= 0; i--) {
		uint8_t byte = (uint8_t)(v >> (8 * i));
		if (n == 0 && byte == 0 && i > 0)
			continue;
		if (n == 0 && (byte & 0x80))
			b[n++] = 0;
		b[n++] = byte;
	}
	ck_der_put(w, tag, b, n);
}
