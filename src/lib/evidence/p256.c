/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ECDSA P-256 verification through OpenSSL's EC_KEY API. It is deprecated in OpenSSL 3 but
 * supported throughout 3.x; it is used here because it builds a key from a point in ~2 us,
 * where EVP_PKEY_fromdata() takes ~16 us and d2i of a certificate's key ~100 us (measured,
 * bench/README.md). The math is the same constant-time nistz256 code either way.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <pthread.h>

#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include "cert.h"

_Thread_local unsigned long ck_sig_verify_count;

static EC_GROUP *group;
static pthread_once_t group_once = PTHREAD_ONCE_INIT;

static void group_init(void)
{
	group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

bool ck_p256_verify(const uint8_t pub[CK_P256_PUB_LEN], const uint8_t *msg, size_t len,
		    const uint8_t sig[64])
{
	uint8_t digest[32];
	bool ok = false;
	ck_sig_verify_count++;
	pthread_once(&group_once, group_init);
	if (!group || EVP_Digest(msg, len, digest, NULL, EVP_sha256(), NULL) != 1)
		return false;
	EC_KEY *key = EC_KEY_new();
	ECDSA_SIG *s = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(sig, 32, NULL), *ss = BN_bin2bn(sig + 32, 32, NULL);
	if (!key || !s || !r || !ss || EC_KEY_set_group(key, group) != 1 ||
	    EC_KEY_oct2key(key, pub, CK_P256_PUB_LEN, NULL) != 1 || !ECDSA_SIG_set0(s, r, ss)) {
		BN_free(r);
		BN_free(ss);
		goto out;
	}
	ok = ECDSA_do_verify(digest, sizeof(digest), s, key) == 1;
out:
	ECDSA_SIG_free(s);
	EC_KEY_free(key);
	return ok;
}

int ck_sha256_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, a, alen) == 1 && EVP_DigestUpdate(ctx, b, blen) == 1 &&
		 EVP_DigestFinal_ex(ctx, out, NULL) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}
