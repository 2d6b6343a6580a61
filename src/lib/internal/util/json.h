/* SPDX-License-Identifier: Apache-2.0 */
/*
 * json.h - a strict JSON tokenizer for the evidence path (internal to libcloak).
 *
 * Why not jansson here: parsing Intel's 4.5 KB TCB Info with jansson costs ~90 us, twice an
 * ECDSA verification, because it allocates a tree. This tokenizer makes one pass and one array
 * of tokens that point into the text, so the signed bytes are addressable as they are.
 *
 * Strict RFC 8259: one value (object or array) with optional surrounding whitespace; UTF-8
 * validated (no overlongs, surrogates or code points above U+10FFFF); escapes validated
 * (surrogate pairs only); numbers in RFC 8259 form; nesting at most CK_JSON_MAX_DEPTH. Stricter
 * than RFC 8259, on purpose: duplicate keys in an object are refused, and keys may not contain
 * escapes (so that two spellings of one key cannot hide a duplicate).
 */
#ifndef CLOAK_JSON_H
#define CLOAK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_JSON_MAX_DEPTH  64
#define CK_JSON_MAX_TOKENS (1u << 20)

enum ck_jtype {
	CK_JT_OBJECT = 1,
	CK_JT_ARRAY,
	CK_JT_STRING,
	CK_JT_NUMBER,
	CK_JT_TRUE,
	CK_JT_FALSE,
	CK_JT_NULL
};

struct ck_jtok {
	uint8_t type;
	bool escaped;	/* a string containing backslash escapes */
	bool integer;	/* a number with no fraction or exponent */
	uint32_t start; /* value bytes: strings exclude the quotes; containers include brackets */
	uint32_t end;
	uint32_t size; /* members of an object, elements of an array */
	uint32_t next; /* index of the token after this value's subtree */
};

struct ck_jdoc {
	const char *text;
	size_t len;
	struct ck_jtok *t; /* t[0] is the root */
	size_t n;
};

/* Tokenizes `text` (which MUST outlive the doc). Fails with CK_E_JSON naming the offset. */
int ck_json_parse(const char *text, size_t len, struct ck_jdoc *doc, struct ck_err *err);
void ck_json_free(struct ck_jdoc *doc);

/* The value of member `key` of object token `obj`, or -1. */
long ck_json_get(const struct ck_jdoc *d, size_t obj, const char *key);
/* The first element of array `arr` (when size > 0); then ck_json_next(). */
static inline size_t ck_json_child(size_t i)
{
	return i + 1;
}
static inline size_t ck_json_next(const struct ck_jdoc *d, size_t i)
{
	return d->t[i].next;
}

/* Decodes string token i into a fresh NUL-terminated buffer (escapes resolved). */
char *ck_json_strdup(const struct ck_jdoc *d, size_t i, size_t *len);
/* true when string token i equals `s` exactly (no escapes involved). */
bool ck_json_str_eq(const struct ck_jdoc *d, size_t i, const char *s);
/* An integer number token in [min, max]. */
int ck_json_int(const struct ck_jdoc *d, size_t i, long long min, long long max, long long *out);

#endif
