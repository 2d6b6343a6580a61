/* SPDX-License-Identifier: Apache-2.0 */
/*
 * owner.h - the app owner's signing key (Ed25519). It authorizes provisioning and later
 * updates: its public half is in the deploy manifest, the runtime accepts only secrets signed
 * by it. Created on first use as `owner.key` (PKCS#8 PEM, mode 0600, directory 0700) in
 * $CLOAK_CONFIG_DIR, else $XDG_CONFIG_HOME/cloak, else ~/.config/cloak. A key file that group
 * or others can read is refused.
 */
#ifndef CLOAK_OWNER_H
#define CLOAK_OWNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_OWNER_PUB_LEN  32
#define CK_OWNER_SIG_LEN  64
#define CK_OWNER_KEY_FILE "owner.key"

struct ck_owner_key; /* opaque; holds the private key */

/* The default key path into buf. */
int ck_owner_key_default_path(char *buf, size_t cap, struct ck_err *err);
/* `name` in the owner's directory (the same rule): where cloak keeps what it remembers. */
int ck_owner_path(const char *name, char *buf, size_t cap, struct ck_err *err);
/* Loads the key at `path`, creating it (and its directory) when absent and `create`;
 * *created (when not NULL) says which. */
int ck_owner_key_load(const char *path, bool create, struct ck_owner_key **out, bool *created,
		      struct ck_err *err);
/* Frees the key (its private half is wiped by OpenSSL); NULL is fine. */
void ck_owner_key_free(struct ck_owner_key *k);
/* The raw 32-byte Ed25519 public key. */
void ck_owner_key_public(const struct ck_owner_key *k, uint8_t pub[CK_OWNER_PUB_LEN]);
/* An Ed25519 signature of `msg` into sig (64 bytes). */
int ck_owner_sign(const struct ck_owner_key *k, const uint8_t *msg, size_t len,
		  uint8_t sig[CK_OWNER_SIG_LEN], struct ck_err *err);
/* true when `sig` is pub's signature of msg. */
bool ck_owner_verify(const uint8_t pub[CK_OWNER_PUB_LEN], const uint8_t *msg, size_t len,
		     const uint8_t sig[CK_OWNER_SIG_LEN]);

/* "ed25519:<64 hex>" */
#define CK_OWNER_PUB_STR_LEN (8 + 64)
/* "ed25519:<64 hex>" into out; ck_owner_pub_parse reads exactly that form (anything else
 * fails naming what it got). */
void ck_owner_pub_format(const uint8_t pub[CK_OWNER_PUB_LEN], char out[CK_OWNER_PUB_STR_LEN + 1]);
int ck_owner_pub_parse(const char *s, size_t len, uint8_t pub[CK_OWNER_PUB_LEN],
		       struct ck_err *err);

#endif
