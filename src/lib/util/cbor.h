/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cbor.h - a strict CBOR (RFC 8949) reader and a small writer (internal).
 *
 * The reader accepts the deterministic subset only: definite lengths, arguments in their
 * shortest form, no floats or simple values other than false/true/null, nesting at most
 * CBOR_MAX_DEPTH. It never allocates; byte and text strings point into the input.
 * (libcbor would build an allocated tree and accept non-minimal encodings; a verifier wants
 * neither.)
 */
#ifndef CLOAK_CBOR_H
#define CLOAK_CBOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CBOR_UINT  0
#define CBOR_NEG   1
#define CBOR_BYTES 2
#define CBOR_TEXT  3
#define CBOR_ARRAY 4
#define CBOR_MAP   5
#define CBOR_TAG   6
#define CBOR_SIMPLE 7

#define CBOR_MAX_DEPTH 16

struct cbor_reader {
	const uint8_t *p, *end;
};

static inline void cbor_init(struct cbor_reader *r, const uint8_t *p, size_t n)
{
	r->p = p;
	r->end = p ? p + n : p;
}
static inline bool cbor_done(const struct cbor_reader *r)
{
	return r->p == r->end;
}

/* Reads an item head: its major type and argument (a length, count, value or tag). */
int cbor_head(struct cbor_reader *r, int *major, uint64_t *arg);
/* Reads a byte or text string (`major`) and returns its content. */
int cbor_string(struct cbor_reader *r, int major, const uint8_t **p, size_t *n);
/* Skips one whole item. */
int cbor_skip(struct cbor_reader *r);

struct cbor_writer {
	uint8_t *buf;
	size_t len, cap;
	bool failed;
};
void cbor_put_head(struct cbor_writer *w, int major, uint64_t arg);
void cbor_put_string(struct cbor_writer *w, int major, const void *p, size_t n);

#endif
