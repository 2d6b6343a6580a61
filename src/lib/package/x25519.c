/* SPDX-License-Identifier: Apache-2.0 */
/* x25519.c - X25519 then HKDF-SHA256; see x25519.h. */
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/kdf.h>

#include "cloak/codec.h"
#include "x25519.h"

int ck_x25519_hkdf(EVP_PKEY *mine, const uint8_t peer_pub[32], const char *salt, size_t salt_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t outlen)
{
	EVP_PKEY *peer = EVP_PKEY_new_raw_public_key(EVP_PKEY_X25519, NULL, peer_pub, 32);
	EVP_PKEY_CTX *c = peer ? EVP_PKEY_CTX_new(mine, NULL) : NULL;
	uint8_t shared[32];
	size_t sl = sizeof(shared);
	int ok = c && EVP_PKEY_derive_init(c) == 1 && EVP_PKEY_derive_set_peer(c, peer) == 1 &&
		 EVP_PKEY_derive(c, shared, &sl) == 1 && sl == 32 && !ck_all_zero(shared, 32);
	EVP_PKEY_CTX_free(c);
	EVP_PKEY_free(peer);
	if (!ok) {
		OPENSSL_cleanse(shared, sizeof(shared));
		return -1;
	}
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
	    OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, "SHA256", 0),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, shared, 32),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *)salt, salt_len),
	    OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *)info, info_len),
	    OSSL_PARAM_construct_end(),
	};
	ok = kc && EVP_KDF_derive(kc, out, outlen, params) == 1;
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	OPENSSL_cleanse(shared, sizeof(shared));
	return ok ? 0 : -1;
}
