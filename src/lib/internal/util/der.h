/* SPDX-License-Identifier: Apache-2.0 */
/*
 * der.h - a strict DER TLV reader and a small DER writer (internal to libcloak).
 *
 * The reader accepts only single-byte tags, definite minimal lengths (short form below 128,
 * long form with no leading zero byte, at most 4 length bytes) and values that fit the input.
 * It never allocates; values point into the input.
 */
#ifndef CLOAK_DER_H
#define CLOAK_DER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CK_DER_BOOLEAN	    0x01
#define CK_DER_INTEGER	    0x02
#define CK_DER_OCTET_STRING 0x04
#define CK_DER_OID	    0x06
#define CK_DER_ENUMERATED   0x0a
#define CK_DER_SEQUENCE	    0x30

struct ck_der_reader {
	const uint8_t *p, *end;
};

static inline void ck_der_init(struct ck_der_reader *d, const uint8_t *p, size_t len)
{
	d->p = p;
	d->end = p ? p + len : p; /* an empty value may come with a NULL pointer */
}

static inline bool ck_der_done(const struct ck_der_reader *d)
{
	return d->p == d->end;
}

/* Reads the next TLV. Returns 0, or -1 on malformed or truncated input. */
int ck_der_next(struct ck_der_reader *d, uint8_t *tag, const uint8_t **val, size_t *len);

/* Reads the next TLV and requires its tag. */
int ck_der_expect(struct ck_der_reader *d, uint8_t tag, const uint8_t **val, size_t *len);

/* Decodes a minimal, non-negative DER INTEGER value that fits in `max`. */
int ck_der_uint(const uint8_t *val, size_t len, uint64_t max, uint64_t *out);

/* A growable DER writer. On OOM it sets `failed` and later calls do nothing. */
struct ck_der_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};

void ck_der_put_raw(struct ck_der_writer *w, const void *p, size_t n);
/* Opens a constructed TLV; returns a mark to pass to ck_der_close. */
size_t ck_der_open(struct ck_der_writer *w, uint8_t tag);
void ck_der_close(struct ck_der_writer *w, size_t mark);
void ck_der_put(struct ck_der_writer *w, uint8_t tag, const void *val, size_t len);
void ck_der_put_uint(struct ck_der_writer *w, uint8_t tag, uint64_t v);

#endif
