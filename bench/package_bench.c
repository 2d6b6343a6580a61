/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Package encryption and decryption throughput, memory to memory, through the same STREAM code
 * the packer and unpacker use (64 KiB chunks, AES-256-GCM, per-chunk nonce and AAD), each round
 * beside the reference `openssl speed -evp aes-256-gcm` measures at 16 KiB (one IV, 13 bytes of
 * AAD, 16 KiB in a cache-hot buffer, tag), run in the same process in the same round.
 * Usage: bench_package [MIB]   (default 1024)
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "bench.h"
#include "cloak/stream.h"

#define PKG_ROUNDS 5
#define REF_BLOCK  16384

static double seal_all(const uint8_t *key, const uint8_t *plain, size_t n, uint8_t *sealed,
		       uint8_t header[CK_PKG_HEADER_LEN], struct ck_pkg_header *h)
{
	struct ck_stream *s;
	if (ck_stream_seal_init(&s, key, n, header, NULL) < 0)
		return -1;
	*h = *ck_stream_header(s);
	double t0 = bench_now();
	size_t in = 0, out = 0;
	for (uint64_t i = 0; i < ck_pkg_chunks(h); i++) {
		size_t k = ck_pkg_chunk_plain(h, i);
		if (ck_stream_seal_next(s, plain + in, k, sealed + out, NULL) < 0)
			return -1;
		in += k;
		out += k + CK_PKG_TAG_LEN;
	}
	double t = bench_now() - t0;
	ck_stream_free(s);
	return t;
}

static double open_all(const uint8_t *key, const uint8_t *sealed, size_t sealed_len,
		       const uint8_t header[CK_PKG_HEADER_LEN], const struct ck_pkg_header *h,
		       uint8_t *back)
{
	struct ck_stream *s;
	if (ck_stream_open_init(&s, key, header, CK_PKG_HEADER_LEN, CK_PKG_HEADER_LEN + sealed_len,
				NULL) < 0)
		return -1;
	double t0 = bench_now();
	size_t off = 0, w = 0, got;
	for (uint64_t i = 0; i < ck_pkg_chunks(h); i++) {
		size_t k = ck_pkg_chunk_plain(h, i) + CK_PKG_TAG_LEN;
		if (ck_stream_open_next(s, sealed + off, k, back + w, &got, NULL) < 0)
			return -1;
		off += k;
		w += got;
	}
	double t = bench_now() - t0;
	ck_stream_free(s);
	return t;
}

/* bytes per second of the openssl-speed-style loop, for about `secs` */
static double reference(const uint8_t *key, double secs)
{
	static uint8_t buf[REF_BLOCK], tag[16], iv[12], aad[13];
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	int n;
	unsigned long blocks = 0;
	EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, NULL);
	double t0 = bench_now(), t;
	do {
		EVP_EncryptInit_ex(c, NULL, NULL, NULL, iv);
		EVP_EncryptUpdate(c, NULL, &n, aad, sizeof(aad));
		EVP_EncryptUpdate(c, buf, &n, buf, sizeof(buf));
		EVP_EncryptFinal_ex(c, buf, &n);
		EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
		blocks++;
	} while ((t = bench_now() - t0) < secs);
	EVP_CIPHER_CTX_free(c);
	return blocks * (double)REF_BLOCK / t;
}

int main(int argc, char **argv)
{
	size_t mib = argc > 1 ? (size_t)atol(argv[1]) : 1024, n = mib << 20;
	uint8_t key[CK_PKG_KEY_LEN], header[CK_PKG_HEADER_LEN];
	struct ck_pkg_header h;
	memset(key, 0x42, sizeof(key));
	size_t sealed_cap = n + (n / CK_PKG_CHUNK_SIZE + 1) * CK_PKG_TAG_LEN;
	uint8_t *plain = malloc(n), *sealed = malloc(sealed_cap), *back = malloc(n);
	if (!plain || !sealed || !back)
		return fprintf(stderr, "out of memory\n"), 1;
	for (size_t i = 0; i < n; i++)
		plain[i] = (uint8_t)(i * 2654435761u >> 24);
	memset(sealed, 0, sealed_cap); /* fault the pages in before timing */
	memset(back, 0, n);
	double enc[PKG_ROUNDS], dec[PKG_ROUNDS], ref[PKG_ROUNDS], re[PKG_ROUNDS], rd[PKG_ROUNDS];
	seal_all(key, plain, n, sealed, header, &h); /* warm-up */
	for (int i = 0; i < PKG_ROUNDS; i++) {
		ref[i] = reference(key, 0.3);
		double te = seal_all(key, plain, n, sealed, header, &h);
		size_t sealed_len = (size_t)(ck_pkg_sealed_len(&h) - CK_PKG_HEADER_LEN);
		double td = open_all(key, sealed, sealed_len, header, &h, back);
		if (te < 0 || td < 0)
			return fprintf(stderr, "stream failed\n"), 1;
		enc[i] = n / te;
		dec[i] = n / td;
		re[i] = enc[i] / ref[i];
		rd[i] = dec[i] / ref[i];
	}
	if (memcmp(plain, back, n) != 0)
		return fprintf(stderr, "round trip mismatch\n"), 1;
	const double M = 1 << 20;
	printf("{\"mib\": %zu, \"encrypt_mib_s\": %.0f, \"decrypt_mib_s\": %.0f, "
	       "\"reference_mib_s\": %.0f, \"encrypt_share\": %.2f, \"decrypt_share\": %.2f}\n",
	       mib, bench_median(enc, PKG_ROUNDS) / M, bench_median(dec, PKG_ROUNDS) / M,
	       bench_median(ref, PKG_ROUNDS) / M, bench_median(re, PKG_ROUNDS),
	       bench_median(rd, PKG_ROUNDS));
	return 0;
}
