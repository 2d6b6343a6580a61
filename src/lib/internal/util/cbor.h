/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor.h - a strict CBOR (RFC 8949) reader and a small writer (internal).
 *
 * The reader accepts the deterministic subset only: definite lengths, arguments in their
 * shortest form, no floats or simple values other than false/true/null, nesting at most
 * CK_CBOR_MAX_DEPTH. It never allocates; byte and text strings point into the input.
 * (libcbor would build an allocated tree and accept non-minimal encodings; a verifier wants
 * neither.)
 */
#ifndef CLOAK_CBOR_H
#define CLOAK_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CK_CBOR_UINT   0
#define CK_CBOR_NEG    1
#define CK_CBOR_BYTES  2
#define CK_CBOR_TEXT   3
#define CK_CBOR_ARRAY  4
#define CK_CBOR_MAP    5
#define CK_CBOR_TAG    6
#define CK_CBOR_SIMPLE 7

#define CK_CBOR_MAX_DEPTH 16

struct ck_cbor_reader {
	const uint8_t *p, *end;
};

static inline void ck_cbor_init(struct ck_cbor_reader *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p ? p + n : p;
}
static inline bool ck_cbor_done(const struct ck_cbor_reader *r)
{
	return r->p == r->end;
}

/* Reads an item head: its major type and argument (a length, count, value or tag). */
int ck_cbor_head(struct ck_cbor_reader *r, int *major, uint64_t *arg);
/* Reads a byte or text string (`major`) and returns its content. */
int ck_cbor_string(struct ck_cbor_reader *r, int major, const uint8_t **p, size_t *n);
/* Skips one whole item. */
int ck_cbor_skip(struct ck_cbor_reader *r);

struct ck_cbor_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};
void ck_cbor_put_head(struct ck_cbor_writer *w, int major, uint64_t arg);
void ck_cbor_put_string(struct ck_cbor_writer *w, int major, const void *p, size_t n);

#endif
