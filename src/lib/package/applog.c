/* SPDX-License-Identifier: Apache-2.0 */
/* applog.c - the app's output sealed to its owner; the contract is in include/cloak/applog.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cloak/applog.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "x25519.h"

#define LOG_SALT   "cloak log v1"
#define KEY_PREFIX "x25519:"
#define EPOCH_WORD "epoch "
#define SEQ_DIGITS 20
#define CT_B64_MAX (((CK_LOG_CHUNK_MAX + 16 + 2) / 3) * 4)

int ck_log_keygen(uint8_t priv[CK_LOG_KEY_LEN], uint8_t pub[CK_LOG_KEY_LEN], struct ck_err *err)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t a = CK_LOG_KEY_LEN, b = CK_LOG_KEY_LEN;
	int ok = k && EVP_PKEY_get_raw_private_key(k, priv, &a) == 1 &&
		 EVP_PKEY_get_raw_public_key(k, pub, &b) == 1;
	EVP_PKEY_free(k);
	return ok ? 0 : ck_errf(err, CK_E_KEY, "X25519 key generation failed");
}

static int public_of(const uint8_t priv[32], uint8_t pub[32])
{
	EVP_PKEY *k = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, 32);
	size_t n = 32;
	int ok = k && EVP_PKEY_get_raw_public_key(k, pub, &n) == 1;
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

int ck_log_key_write(const char *path, const uint8_t priv[CK_LOG_KEY_LEN], struct ck_err *err)
{
	char text[sizeof(KEY_PREFIX) + 2 * CK_LOG_KEY_LEN + 1];
	if (access(path, F_OK) == 0)
		return ck_errf(err, CK_E_KEY, "'%s' exists: a log key is never replaced", path);
	memcpy(text, KEY_PREFIX, sizeof(KEY_PREFIX) - 1);
	ck_hex_encode(priv, CK_LOG_KEY_LEN, text + sizeof(KEY_PREFIX) - 1);
	text[sizeof(text) - 2] = '\n';
	int r = ck_write_file(path, text, sizeof(text) - 1, 0600, err);
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

int ck_log_key_load(const char *path, uint8_t priv[CK_LOG_KEY_LEN], uint8_t pub[CK_LOG_KEY_LEN],
		    struct ck_err *err)
{
	uint8_t *b;
	size_t n;
	const size_t want = sizeof(KEY_PREFIX) - 1 + 2 * CK_LOG_KEY_LEN;
	if (ck_read_file(path, 256, &b, &n, err) < 0)
		return ck_err_wrap(err, "log key");
	if (n && b[n - 1] == '\n')
		n--;
	int r = 0;
	if (n != want || memcmp(b, KEY_PREFIX, sizeof(KEY_PREFIX) - 1) ||
	    ck_hex_decode_exact((const char *)b + sizeof(KEY_PREFIX) - 1, 2 * CK_LOG_KEY_LEN, priv,
				CK_LOG_KEY_LEN, "log key", err) < 0 ||
	    public_of(priv, pub) < 0)
		r = ck_errf(err, CK_E_KEY, "'%s' is not a log key (x25519:<64 hex>)", path);
	OPENSSL_cleanse(b, n);
	free(b);
	if (r < 0)
		OPENSSL_cleanse(priv, CK_LOG_KEY_LEN);
	return r;
}

static int derive(EVP_PKEY *mine, const uint8_t peer[32], const uint8_t epk[32],
		  const uint8_t log_pub[32], uint8_t key[32])
{
	uint8_t info[64];
	memcpy(info, epk, 32);
	memcpy(info + 32, log_pub, 32);
	return ck_x25519_hkdf(mine, peer, LOG_SALT, sizeof(LOG_SALT) - 1, info, sizeof(info), key,
			      32);
}

static void nonce_of(uint64_t seq, uint8_t iv[12])
{
	memset(iv, 0, 4);
	for (int i = 0; i < 8; i++)
		iv[4 + i] = (uint8_t)(seq >> (56 - 8 * i));
}

/* AES-256-GCM one way or the other; ct holds len bytes then the 16-byte tag. */
static int gcm(bool enc, const uint8_t key[32], uint64_t seq, const uint8_t epk[32],
	       const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16])
{
	uint8_t iv[12];
	int n, ok;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	nonce_of(seq, iv);
	if (enc)
		ok = c && EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
		     EVP_EncryptUpdate(c, NULL, &n, epk, 32) == 1 &&
		     EVP_EncryptUpdate(c, out, &n, in, (int)len) == 1 &&
		     EVP_EncryptFinal_ex(c, out + n, &n) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag) == 1;
	else
		ok = c && EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv) == 1 &&
		     EVP_DecryptUpdate(c, NULL, &n, epk, 32) == 1 &&
		     EVP_DecryptUpdate(c, out, &n, in, (int)len) == 1 &&
		     EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, tag) == 1 &&
		     EVP_DecryptFinal_ex(c, out + n, &n) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int ck_log_writer_new(struct ck_log_writer *w, const uint8_t log_pub[CK_LOG_KEY_LEN],
		      char line[CK_LOG_LINE_MAX], size_t *n, struct ck_err *err)
{
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t el = 32;
	char hex[65];
	memset(w, 0, sizeof(*w));
	int ok = eph && EVP_PKEY_get_raw_public_key(eph, w->epk, &el) == 1 &&
		 derive(eph, log_pub, w->epk, log_pub, w->key) == 0;
	EVP_PKEY_free(eph); /* the ephemeral private key: gone once the key is derived */
	if (!ok) {
		ck_log_writer_wipe(w);
		return ck_errf(err, CK_E_SEAL, "no log epoch (is the log key a valid X25519 key?)");
	}
	ck_hex_encode(w->epk, 32, hex);
	*n = (size_t)snprintf(line, CK_LOG_LINE_MAX, CK_LOG_PREFIX EPOCH_WORD "%s\n", hex);
	return 0;
}

int ck_log_seal(struct ck_log_writer *w, const uint8_t *chunk, size_t len,
		char line[CK_LOG_LINE_MAX], size_t *n, struct ck_err *err)
{
	uint8_t ct[CK_LOG_CHUNK_MAX + 16];
	if (len == 0 || len > CK_LOG_CHUNK_MAX)
		return ck_errf(err, CK_E_USAGE, "a log chunk of %zu bytes (1 to %d)", len,
			       CK_LOG_CHUNK_MAX);
	if (gcm(true, w->key, w->seq, w->epk, chunk, len, ct, ct + len) < 0)
		return ck_errf(err, CK_E_SEAL, "a log record could not be sealed");
	char *b64 = ck_b64_encode(ct, len + 16);
	if (!b64)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	*n = (size_t)snprintf(line, CK_LOG_LINE_MAX, CK_LOG_PREFIX "%llu %s\n",
			      (unsigned long long)w->seq, b64);
	free(b64);
	w->seq++;
	return 0;
}

void ck_log_writer_wipe(struct ck_log_writer *w)
{
	OPENSSL_cleanse(w, sizeof(*w));
}

void ck_log_reader_init(struct ck_log_reader *r, const uint8_t priv[CK_LOG_KEY_LEN],
			const uint8_t pub[CK_LOG_KEY_LEN])
{
	memset(r, 0, sizeof(*r));
	memcpy(r->priv, priv, 32);
	memcpy(r->pub, pub, 32);
}

void ck_log_reader_wipe(struct ck_log_reader *r)
{
	OPENSSL_cleanse(r, sizeof(*r));
}

static int epoch(struct ck_log_reader *r, const char *hex, size_t n, struct ck_err *err)
{
	uint8_t epk[32], key[32];
	EVP_PKEY *me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, r->priv, 32);
	if (ck_hex_decode_exact(hex, n, epk, 32, "log epoch key", err) < 0) {
		EVP_PKEY_free(me);
		return -1;
	}
	int ok = me && derive(me, epk, epk, r->pub, key) == 0;
	EVP_PKEY_free(me);
	if (!ok)
		return ck_errf(err, CK_E_SEAL, "a log epoch whose key does not agree with ours");
	memcpy(r->epk, epk, 32);
	memcpy(r->key, key, 32);
	OPENSSL_cleanse(key, sizeof(key));
	r->in_epoch = true;
	r->next = 0;
	return 0;
}

int ck_log_open(struct ck_log_reader *r, const char *line, size_t n, uint8_t out[CK_LOG_CHUNK_MAX],
		size_t *len, uint64_t *missing, enum ck_log_kind *kind, struct ck_err *err)
{
	const size_t pl = sizeof(CK_LOG_PREFIX) - 1, el = sizeof(EPOCH_WORD) - 1;
	*len = 0;
	*missing = 0;
	*kind = CK_LOG_OTHER;
	if (n < pl || memcmp(line, CK_LOG_PREFIX, pl))
		return 0;
	line += pl;
	n -= pl;
	if (n >= el && !memcmp(line, EPOCH_WORD, el)) {
		if (epoch(r, line + el, n - el, err) < 0)
			return -1;
		*kind = CK_LOG_EPOCH;
		return 0;
	}
	size_t d = 0;
	uint64_t seq = 0;
	while (d < n && d < SEQ_DIGITS && line[d] >= '0' && line[d] <= '9') {
		if (seq > (UINT64_MAX - 9) / 10)
			return ck_errf(err, CK_E_SEAL, "a log record's number is too large");
		seq = seq * 10 + (uint64_t)(line[d++] - '0');
	}
	if (!d || (d > 1 && line[0] == '0') || d >= n || line[d] != ' ' || n - d - 1 > CT_B64_MAX)
		return ck_errf(err, CK_E_SEAL, "a malformed log record");
	if (!r->in_epoch)
		return ck_errf(err, CK_E_SEAL, "log record %llu before any epoch",
			       (unsigned long long)seq);
	if (seq < r->next)
		return ck_errf(err, CK_E_SEAL, "log record %llu after %llu: reordered or replayed",
			       (unsigned long long)seq, (unsigned long long)r->next - 1);
	uint8_t *ct;
	size_t cl;
	if (ck_b64_decode_alloc(line + d + 1, n - d - 1, &ct, &cl, "log record", err) < 0)
		return -1;
	int ok = cl > 16 && cl - 16 <= CK_LOG_CHUNK_MAX &&
		 gcm(false, r->key, seq, r->epk, ct, cl - 16, out, ct + cl - 16) == 0;
	free(ct);
	if (!ok) {
		OPENSSL_cleanse(out, CK_LOG_CHUNK_MAX);
		return ck_errf(err, CK_E_SEAL,
			       "log record %llu does not open: tampered, or not "
			       "sealed to this key",
			       (unsigned long long)seq);
	}
	*len = cl - 16;
	*missing = seq - r->next;
	r->next = seq + 1;
	*kind = CK_LOG_RECORD;
	return 0;
}
