/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/owner.h"

struct ck_owner_key {
	EVP_PKEY *pkey;
	uint8_t pub[CK_OWNER_PUB_LEN];
};

int ck_owner_path(const char *name, char *buf, size_t cap, struct ck_err *err)
{
	const char *d = getenv("CLOAK_CONFIG_DIR"), *x = getenv("XDG_CONFIG_HOME"),
		   *h = getenv("HOME");
	int n;
	if (d && *d)
		n = snprintf(buf, cap, "%s/%s", d, name);
	else if (x && *x)
		n = snprintf(buf, cap, "%s/cloak/%s", x, name);
	else if (h && *h)
		n = snprintf(buf, cap, "%s/.config/cloak/%s", h, name);
	else
		return ck_errf(err, CK_E_KEY,
			       "no HOME, XDG_CONFIG_HOME or CLOAK_CONFIG_DIR is set");
	if (n < 0 || (size_t)n >= cap)
		return ck_errf(err, CK_E_KEY,
			       "the path of '%s' in the owner's directory is too long", name);
	return 0;
}

int ck_owner_key_default_path(char *buf, size_t cap, struct ck_err *err)
{
	return ck_owner_path(CK_OWNER_KEY_FILE, buf, cap, err);
}

void ck_owner_key_free(struct ck_owner_key *k)
{
	if (k) {
		EVP_PKEY_free(k->pkey);
		free(k);
	}
}

void ck_owner_key_public(const struct ck_owner_key *k, uint8_t pub[CK_OWNER_PUB_LEN])
{
	memcpy(pub, k->pub, CK_OWNER_PUB_LEN);
}

static int fill_pub(struct ck_owner_key *k)
{
	size_t n = CK_OWNER_PUB_LEN;
	return EVP_PKEY_get_raw_public_key(k->pkey, k->pub, &n) == 1 && n == CK_OWNER_PUB_LEN ? 0
											      : -1;
}

/* mkdir -p with mode 0700 for the directories it creates. */
static int mkdirs(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return 0;
}

static int create(const char *path, struct ck_owner_key *k, struct ck_err *err)
{
	if (!(k->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519")) || fill_pub(k) < 0)
		return ck_errf(err, CK_E_KEY, "Ed25519 key generation failed");
	if (mkdirs(path) < 0)
		return ck_errf(err, CK_E_IO, "cannot create the directory of '%s': %s", path,
			       strerror(errno));
	BIO *b = BIO_new(BIO_s_mem());
	char *data;
	long n;
	if (!b || !PEM_write_bio_PrivateKey(b, k->pkey, NULL, NULL, 0, NULL, NULL) ||
	    (n = BIO_get_mem_data(b, &data)) <= 0) {
		BIO_free(b);
		return ck_errf(err, CK_E_KEY, "cannot encode the owner key");
	}
	int r = ck_write_file(path, data, (size_t)n, 0600, err);
	OPENSSL_cleanse(data, (size_t)n);
	BIO_free(b);
	return r;
}

int ck_owner_key_load(const char *path, bool do_create, struct ck_owner_key **out, bool *created,
		      struct ck_err *err)
{
	struct ck_owner_key *k = calloc(1, sizeof(*k));
	struct stat st;
	*out = NULL;
	if (created)
		*created = false;
	if (!k)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	if (stat(path, &st) < 0) {
		if (errno != ENOENT || !do_create) {
			ck_errf(err, CK_E_KEY, "no owner key at '%s': %s", path, strerror(errno));
			goto fail;
		}
		if (create(path, k, err) < 0)
			goto fail;
		if (created)
			*created = true;
		*out = k;
		return 0;
	}
	if (st.st_mode & 077) {
		ck_errf(err, CK_E_KEY,
			"owner key '%s' is readable by others (mode %03o): chmod 600 it", path,
			st.st_mode & 0777);
		goto fail;
	}
	uint8_t *buf;
	size_t n;
	if (ck_read_file(path, 64 * 1024, &buf, &n, err) < 0)
		goto fail;
	BIO *b = BIO_new_mem_buf(buf, (int)n);
	k->pkey = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	OPENSSL_cleanse(buf, n);
	free(buf);
	if (!k->pkey || !EVP_PKEY_is_a(k->pkey, "ED25519") || fill_pub(k) < 0) {
		ck_errf(err, CK_E_KEY, "'%s' is not an Ed25519 private key (PEM)", path);
		goto fail;
	}
	*out = k;
	return 0;
fail:
	ck_owner_key_free(k);
	return -1;
}

int ck_owner_sign(const struct ck_owner_key *k, const uint8_t *msg, size_t len,
		  uint8_t sig[CK_OWNER_SIG_LEN], struct ck_err *err)
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	size_t n = CK_OWNER_SIG_LEN;
	int ok = c && EVP_DigestSignInit(c, NULL, NULL, NULL, k->pkey) == 1 &&
		 EVP_DigestSign(c, sig, &n, msg, len) == 1 && n == CK_OWNER_SIG_LEN;
	EVP_MD_CTX_free(c);
	return ok ? 0 : ck_errf(err, CK_E_KEY, "Ed25519 signing failed");
}

bool ck_owner_verify(const uint8_t pub[CK_OWNER_PUB_LEN], const uint8_t *msg, size_t len,
		     const uint8_t sig[CK_OWNER_SIG_LEN])
{
	EVP_PKEY *p = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, CK_OWNER_PUB_LEN);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	bool ok = p && c && EVP_DigestVerifyInit(c, NULL, NULL, NULL, p) == 1 &&
		  EVP_DigestVerify(c, sig, CK_OWNER_SIG_LEN, msg, len) == 1;
	EVP_MD_CTX_free(c);
	EVP_PKEY_free(p);
	return ok;
}

void ck_owner_pub_format(const uint8_t pub[CK_OWNER_PUB_LEN], char out[CK_OWNER_PUB_STR_LEN + 1])
{
	memcpy(out, "ed25519:", 8);
	ck_hex_encode(pub, CK_OWNER_PUB_LEN, out + 8);
}

int ck_owner_pub_parse(const char *s, size_t len, uint8_t pub[CK_OWNER_PUB_LEN], struct ck_err *err)
{
	if (len != CK_OWNER_PUB_STR_LEN || memcmp(s, "ed25519:", 8) != 0)
		return ck_errf(err, CK_E_KEY, "owner key '%.80s' is not 'ed25519:<64 hex>'", s);
	return ck_hex_decode_exact(s + 8, 64, pub, CK_OWNER_PUB_LEN, "owner key", err);
}
