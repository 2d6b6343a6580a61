/* SPDX-License-Identifier: Apache-2.0 */
/* x25519.h - the package module's key agreement (private): out = HKDF-SHA256(X25519(mine,
 * peer_pub), salt, info), outlen bytes. Fails (-1) on an all-zero shared secret (a low-order
 * peer key) or any library failure; the shared secret is wiped. Used by sealing (provision.c)
 * and the app's log (applog.c). */
#ifndef CLOAK_PACKAGE_X25519_H
#define CLOAK_PACKAGE_X25519_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

int ck_x25519_hkdf(EVP_PKEY *mine, const uint8_t peer_pub[32], const char *salt, size_t salt_len,
		   const uint8_t *info, size_t info_len, uint8_t *out, size_t outlen);

#endif
