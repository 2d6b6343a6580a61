/* SPDX-License-Identifier: Apache-2.0 */
/*
 * stream.h - the encrypted package container: AES-256-GCM in fixed-size chunks, STREAM
 * construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015), as DESIGN §6 asks.
 *
 *   header (32 bytes) = "CLOAKPKG" ‖ version u16 ‖ algorithm u16 ‖ chunk size u32
 *                       ‖ nonce prefix [8] ‖ plaintext length u64        (all big-endian)
 *   chunk i           = AES-256-GCM(key, nonce = prefix ‖ i (u32),
 *                                   aad = SHA-256(header) ‖ i (u64) ‖ last (u8), plaintext_i)
 *                       ‖ tag [16]
 *
 * Every chunk but the last holds exactly `chunk size` plaintext bytes; the last holds the rest
 * (possibly zero bytes: an empty package is one empty, final chunk). The plaintext length in the
 * header, bound into every chunk through the AAD, fixes the number and sizes of the chunks, so a
 * reader knows the exact file size before it decrypts anything: truncation, extension, a changed
 * header, reordered, dropped or duplicated chunks all fail, and each chunk is authenticated
 * before its plaintext is released.
 *
 * The key is 256 bits from the OS CSPRNG, fresh per package. Contexts hold a copy of it and wipe
 * it in ck_stream_free().
 */
#ifndef CLOAK_STREAM_H
#define CLOAK_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_PKG_MAGIC	     "CLOAKPKG"
#define CK_PKG_VERSION	     1
#define CK_PKG_ALG_AES256GCM 1
#define CK_PKG_HEADER_LEN    32
#define CK_PKG_CHUNK_SIZE    (64 * 1024)
#define CK_PKG_TAG_LEN	     16
#define CK_PKG_KEY_LEN	     32
#define CK_PKG_MAX_PLAIN     (16ULL << 30) /* 16 GiB; the packer's own limits are lower */
#define CK_PKG_MAX_CHUNK     (1024 * 1024)

struct ck_pkg_header {
	uint16_t version;
	uint16_t alg;
	uint32_t chunk_size;
	uint8_t nonce_prefix[8];
	uint64_t plain_len;
};

/* Parses and checks a header (magic, version, algorithm, chunk size, length limits). A newer
 * version fails with CK_E_PKG_VERSION, saying which version this cloak reads. */
int ck_pkg_header_parse(const uint8_t *buf, size_t len, struct ck_pkg_header *h,
			struct ck_err *err);
/* The header's 32 bytes, as the layout above; ck_pkg_chunks: how many chunks it implies. */
void ck_pkg_header_encode(const struct ck_pkg_header *h, uint8_t out[CK_PKG_HEADER_LEN]);
uint64_t ck_pkg_chunks(const struct ck_pkg_header *h);
/* The size of the whole sealed file for this header. */
uint64_t ck_pkg_sealed_len(const struct ck_pkg_header *h);
/* The plaintext size of chunk i. */
size_t ck_pkg_chunk_plain(const struct ck_pkg_header *h, uint64_t i);

struct ck_stream; /* opaque */

/* Starts sealing `plain_len` bytes under `key` with a fresh random nonce prefix; writes the
 * header to `header`. */
int ck_stream_seal_init(struct ck_stream **s, const uint8_t key[CK_PKG_KEY_LEN], uint64_t plain_len,
			uint8_t header[CK_PKG_HEADER_LEN], struct ck_err *err);
/* Starts opening a file of `file_len` bytes whose first bytes are `header`. Fails at once if the
 * file size does not match the header. */
int ck_stream_open_init(struct ck_stream **s, const uint8_t key[CK_PKG_KEY_LEN],
			const uint8_t *header, size_t header_len, uint64_t file_len,
			struct ck_err *err);

/* Seals the next chunk: `in` MUST hold exactly ck_pkg_chunk_plain() bytes for this index;
 * writes that many bytes plus the tag to `out`. */
int ck_stream_seal_next(struct ck_stream *s, const uint8_t *in, size_t in_len, uint8_t *out,
			struct ck_err *err);
/* Opens the next chunk (`in` = ciphertext ‖ tag, exactly the expected size); writes the
 * plaintext to `out` only once the tag has verified. */
int ck_stream_open_next(struct ck_stream *s, const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *out_len, struct ck_err *err);
/* true once the final chunk has been sealed or opened. */
bool ck_stream_done(const struct ck_stream *s);
/* The header the stream was initialised with (borrowed: valid until ck_stream_free). */
const struct ck_pkg_header *ck_stream_header(const struct ck_stream *s);
/* Wipes the key and frees. NULL-safe. */
void ck_stream_free(struct ck_stream *s);

#endif
