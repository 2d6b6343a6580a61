/* SPDX-License-Identifier: Apache-2.0 */
/* STREAM AES-256-GCM (see stream.h). */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cloak/stream.h"

struct ck_stream {
	EVP_CIPHER_CTX *ctx;
	struct ck_pkg_header h;
	uint8_t header_hash[32];
	uint64_t index, nchunks;
	bool sealing, done;
};

static void be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static void be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static void be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static uint64_t rd(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

void ck_pkg_header_encode(const struct ck_pkg_header *h, uint8_t out[CK_PKG_HEADER_LEN])
{
	memcpy(out, CK_PKG_MAGIC, 8);
	be16(out + 8, h->version);
	be16(out + 10, h->alg);
	be32(out + 12, h->chunk_size);
	memcpy(out + 16, h->nonce_prefix, 8);
	be64(out + 24, h->plain_len);
}

int ck_pkg_header_parse(const uint8_t *b, size_t len, struct ck_pkg_header *h, struct ck_err *err)
{
	memset(h, 0, sizeof(*h));
	if (len < CK_PKG_HEADER_LEN || memcmp(b, CK_PKG_MAGIC, 8) != 0)
		return ck_errf(err, CK_E_PKG_FORMAT, "not a cloak package (no %s header)", CK_PKG_MAGIC);
	h->version = (uint16_t)rd(b + 8, 2);
	h->alg = (uint16_t)rd(b + 10, 2);
	h->chunk_size = (uint32_t)rd(b + 12, 4);
	memcpy(h->nonce_prefix, b + 16, 8);
	h->plain_len = rd(b + 24, 8);
	if (h->version > CK_PKG_VERSION)
		return ck_errf(err, CK_E_PKG_VERSION,
			       "package format version %u is newer than this cloak reads (%d): "
			       "upgrade cloak",
			       h->version, CK_PKG_VERSION);
	if (h->version != CK_PKG_VERSION)
		return ck_errf(err, CK_E_PKG_FORMAT, "package format version %u is unknown", h->version);
	if (h->alg != CK_PKG_ALG_AES256GCM)
		return ck_errf(err, CK_E_PKG_FORMAT, "package algorithm %u is unknown", h->alg);
	if (h->chunk_size < 512 || h->chunk_size > CK_PKG_MAX_CHUNK)
		return ck_errf(err, CK_E_PKG_FORMAT, "package chunk size %u is outside 512..%d",
			       h->chunk_size, CK_PKG_MAX_CHUNK);
	if (h->plain_len > CK_PKG_MAX_PLAIN)
		return ck_errf(err, CK_E_PKG_FORMAT, "package plaintext length %llu is over %llu",
			       (unsigned long long)h->plain_len, CK_PKG_MAX_PLAIN);
	return 0;
}

uint64_t ck_pkg_chunks(const struct ck_pkg_header *h)
{
	uint64_t n = (h->plain_len + h->chunk_size - 1) / h->chunk_size;
	return n ? n : 1;
}

uint64_t ck_pkg_sealed_len(const struct ck_pkg_header *h)
{
	return CK_PKG_HEADER_LEN + h->plain_len + ck_pkg_chunks(h) * CK_PKG_TAG_LEN;
}

size_t ck_pkg_chunk_plain(const struct ck_pkg_header *h, uint64_t i)
{
	uint64_t n = ck_pkg_chunks(h);
	if (i + 1 < n)
		return h->chunk_size;
	return (size_t)(h->plain_len - (n - 1) * h->chunk_size);
}

static int init(struct ck_stream **out, const uint8_t key[CK_PKG_KEY_LEN],
		const struct ck_pkg_header *h, bool seal, struct ck_err *err)
{
	struct ck_stream *s = calloc(1, sizeof(*s));
	uint8_t hdr[CK_PKG_HEADER_LEN];
	*out = NULL;
	if (!s)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	s->h = *h;
	s->sealing = seal;
	s->nchunks = ck_pkg_chunks(h);
	ck_pkg_header_encode(h, hdr);
	if (EVP_Digest(hdr, sizeof(hdr), s->header_hash, NULL, EVP_sha256(), NULL) != 1 ||
	    !(s->ctx = EVP_CIPHER_CTX_new()) ||
	    (seal ? EVP_EncryptInit_ex(s->ctx, EVP_aes_256_gcm(), NULL, key, NULL)
		  : EVP_DecryptInit_ex(s->ctx, EVP_aes_256_gcm(), NULL, key, NULL)) != 1) {
		ck_stream_free(s);
		return ck_errf(err, CK_E_NOMEM, "cannot set up AES-256-GCM");
	}
	*out = s;
	return 0;
}

int ck_stream_seal_init(struct ck_stream **s, const uint8_t key[CK_PKG_KEY_LEN], uint64_t plain_len,
			uint8_t header[CK_PKG_HEADER_LEN], struct ck_err *err)
{
	struct ck_pkg_header h = {CK_PKG_VERSION, CK_PKG_ALG_AES256GCM, CK_PKG_CHUNK_SIZE, {0},
				  plain_len};
	if (plain_len > CK_PKG_MAX_PLAIN)
		return ck_errf(err, CK_E_PKG_LIMIT, "package of %llu bytes is over the limit",
			       (unsigned long long)plain_len);
	if (RAND_bytes(h.nonce_prefix, sizeof(h.nonce_prefix)) != 1)
		return ck_errf(err, CK_E_NOMEM, "the random generator failed");
	ck_pkg_header_encode(&h, header);
	return init(s, key, &h, true, err);
}

int ck_stream_open_init(struct ck_stream **s, const uint8_t key[CK_PKG_KEY_LEN],
			const uint8_t *header, size_t header_len, uint64_t file_len,
			struct ck_err *err)
{
	struct ck_pkg_header h;
	*s = NULL;
	if (ck_pkg_header_parse(header, header_len, &h, err) < 0)
		return -1;
	if (file_len != ck_pkg_sealed_len(&h))
		return ck_errf(err, CK_E_PKG_SIZE,
			       "package is %llu bytes, its header says %llu: truncated or extended",
			       (unsigned long long)file_len,
			       (unsigned long long)ck_pkg_sealed_len(&h));
	return init(s, key, &h, false, err);
}

/* nonce = prefix ‖ index (u32); aad = SHA-256(header) ‖ index (u64) ‖ last */
static int chunk_setup(struct ck_stream *s, bool last)
{
	uint8_t nonce[12], aad[32 + 8 + 1];
	int n;
	memcpy(nonce, s->h.nonce_prefix, 8);
	be32(nonce + 8, (uint32_t)s->index);
	memcpy(aad, s->header_hash, 32);
	be64(aad + 32, s->index);
	aad[40] = last;
	if (s->sealing)
		return EVP_EncryptInit_ex(s->ctx, NULL, NULL, NULL, nonce) == 1 &&
			       EVP_EncryptUpdate(s->ctx, NULL, &n, aad, sizeof(aad)) == 1
		       ? 0
		       : -1;
	return EVP_DecryptInit_ex(s->ctx, NULL, NULL, NULL, nonce) == 1 &&
		       EVP_DecryptUpdate(s->ctx, NULL, &n, aad, sizeof(aad)) == 1
	       ? 0
	       : -1;
}

int ck_stream_seal_next(struct ck_stream *s, const uint8_t *in, size_t in_len, uint8_t *out,
			struct ck_err *err)
{
	if (!s->sealing || s->done)
		return ck_errf(err, CK_E_USAGE, "stream: no chunk expected");
	size_t want = ck_pkg_chunk_plain(&s->h, s->index);
	bool last = s->index + 1 == s->nchunks;
	int n, m;
	if (in_len != want)
		return ck_errf(err, CK_E_USAGE, "stream: chunk %llu needs %zu bytes, got %zu",
			       (unsigned long long)s->index, want, in_len);
	if (chunk_setup(s, last) < 0 || EVP_EncryptUpdate(s->ctx, out, &n, in, (int)in_len) != 1 ||
	    EVP_EncryptFinal_ex(s->ctx, out + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_GET_TAG, CK_PKG_TAG_LEN, out + in_len) != 1)
		return ck_errf(err, CK_E_NOMEM, "AES-256-GCM failed");
	s->index++;
	s->done = last;
	return 0;
}

int ck_stream_open_next(struct ck_stream *s, const uint8_t *in, size_t in_len, uint8_t *out,
			size_t *out_len, struct ck_err *err)
{
	if (s->sealing || s->done)
		return ck_errf(err, CK_E_PKG_SIZE, "package: data after the final chunk");
	size_t want = ck_pkg_chunk_plain(&s->h, s->index);
	bool last = s->index + 1 == s->nchunks;
	int n, m;
	if (in_len != want + CK_PKG_TAG_LEN)
		return ck_errf(err, CK_E_PKG_SIZE, "package chunk %llu is %zu bytes, expected %zu",
			       (unsigned long long)s->index, in_len, want + CK_PKG_TAG_LEN);
	/* Decrypt, then check the tag; the caller's buffer is wiped if it fails, so no
	 * unauthenticated plaintext ever leaves this function. */
	if (chunk_setup(s, last) < 0 || EVP_DecryptUpdate(s->ctx, out, &n, in, (int)want) != 1 ||
	    EVP_CIPHER_CTX_ctrl(s->ctx, EVP_CTRL_GCM_SET_TAG, CK_PKG_TAG_LEN,
				(void *)(in + want)) != 1 ||
	    EVP_DecryptFinal_ex(s->ctx, out + n, &m) != 1) {
		OPENSSL_cleanse(out, want);
		return ck_errf(err, CK_E_PKG_AUTH,
			       "package chunk %llu failed authentication (tampered, reordered, or "
			       "wrong key)",
			       (unsigned long long)s->index);
	}
	*out_len = want;
	s->index++;
	s->done = last;
	return 0;
}

bool ck_stream_done(const struct ck_stream *s)
{
	return s->done;
}

const struct ck_pkg_header *ck_stream_header(const struct ck_stream *s)
{
	return &s->h;
}

void ck_stream_free(struct ck_stream *s)
{
	if (!s)
		return;
	EVP_CIPHER_CTX_free(s->ctx); /* clears the expanded key schedule */
	OPENSSL_cleanse(s, sizeof(*s));
	free(s);
}
