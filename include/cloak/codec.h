/* SPDX-License-Identifier: Apache-2.0 */
/*
 * codec.h - hex, base64, PEM helpers and constant-time comparison.
 *
 * Decoders are strict: hex takes upper or lower case digits and nothing else (no spaces, no
 * 0x prefix); base64 takes the standard alphabet with canonical padding and no line breaks.
 * Hex encoding and comparison run in time independent of the data, so they are safe on secrets.
 */
#ifndef CLOAK_CODEC_H
#define CLOAK_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

/* Writes 2*len lowercase hex digits and a NUL to `out` (capacity >= 2*len+1). */
void ck_hex_encode(const uint8_t *in, size_t len, char *out);

/* Decodes exactly `outlen` bytes from the first 2*outlen chars of `hex`, which MUST be exactly
 * 2*outlen chars long (hexlen). Fails with CK_E_ENCODING naming `what`. */
int ck_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t outlen,
			const char *what, struct ck_err *err);

/* Decodes any even-length hex string into a fresh buffer (*out, owned by the caller). */
int ck_hex_decode_alloc(const char *hex, size_t hexlen, uint8_t **out, size_t *outlen,
			const char *what, struct ck_err *err);

/* Base64 (RFC 4648 §4). Encode returns a fresh NUL-terminated string or NULL on OOM. */
char *ck_b64_encode(const uint8_t *in, size_t len);
/* Decodes strict base64 (padding required, no whitespace) into a fresh buffer (*out, the
 * caller's); the error names `what`. */
int ck_b64_decode_alloc(const char *in, size_t inlen, uint8_t **out, size_t *outlen,
			const char *what, struct ck_err *err);

/* true when the two buffers are equal; runs in time that depends only on len. */
bool ck_ct_equal(const void *a, const void *b, size_t len);

/* true when all bytes are zero (constant time). */
bool ck_all_zero(const void *a, size_t len);

/* Little-endian loads and stores. */
static inline uint16_t ck_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t ck_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
	       ((uint32_t)p[3] << 24);
}
static inline uint64_t ck_le64(const uint8_t *p)
{
	return (uint64_t)ck_le32(p) | ((uint64_t)ck_le32(p + 4) << 32);
}
static inline void ck_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void ck_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

#endif
