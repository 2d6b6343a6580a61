/* SPDX-License-Identifier: Apache-2.0 */
/*
 * provision.h - what the owner sends an enclave once it has verified it (DESIGN §7 step 3):
 * the package key, the owner's TLS key (owner-cert scenario) and the app's secrets, signed with
 * the owner key and bound to one enclave instance, so that it cannot be replayed anywhere else.
 *
 *   envelope = {"payload":"<base64 of the canonical payload JSON>","signature":"<hex Ed25519>"}
 *   payload  = {"cloak_provision":1, "enclave_cert_sha256":"<hex>", "manifest_sha256":"<hex>",
 *               "package_key":"<64 hex>", "owner_tls_chain":"<PEM>"?, "owner_tls_key":"<PEM>"?,
 *               "secrets":{"NAME":"v"},
 *               "issued_at":"RFC 3339"}
 *
 * `enclave_cert_sha256` is the SHA-256 of the DER of the enclave's provisioning RA-TLS
 * certificate, which the owner appraised: a fresh key per boot, so a payload for one enclave
 * instance is refused by every other. For delivery through a third party, the envelope can be
 * sealed to the enclave's X25519 `cloak.seal-key` (from the same attested claims):
 *
 *   sealed = {"cloak_sealed":1,"epk":"<hex X25519>","ct":"<base64 AES-256-GCM>"}
 *   key, nonce = HKDF-SHA256(X25519(eph, seal), salt "cloak seal v1", info epk ‖ seal_pub)
 *
 * Every buffer that held a secret is wiped before it is freed.
 */
#ifndef CLOAK_PROVISION_H
#define CLOAK_PROVISION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/owner.h"
#include "cloak/timeutil.h"
#include "cloak/stream.h"

#define CK_PROVISION_MAX_LEN	 (64 * 1024)
#define CK_PROVISION_MAX_SECRETS 64
#define CK_SECRET_NAME_MAX	 64
#define CK_SECRET_VALUE_MAX	 (8 * 1024)
#define CK_SEAL_KEY_LEN		 32

struct ck_secret {
	char name[CK_SECRET_NAME_MAX + 1]; /* an environment variable name: [A-Z_][A-Z0-9_]* */
	char *value;
	size_t value_len;
};

struct ck_provision {
	uint8_t enclave_cert_sha256[32];
	uint8_t manifest_sha256[32];
	uint8_t package_key[CK_PKG_KEY_LEN];
	char *owner_tls_chain; /* PEM, leaf first (public), or NULL; with the key only */
	char *owner_tls_key;   /* PEM, or NULL */
	struct ck_secret secrets[CK_PROVISION_MAX_SECRETS];
	size_t n_secrets;
	ck_time_t issued_at;
};

/* Wipes and frees what `p` owns. */
void ck_provision_free(struct ck_provision *p);

/* Owner side: NAME=VALUE lines (a secrets file; '#' comments and blank lines skipped, CRLF
 * tolerated) added to p->secrets. Names [A-Z_][A-Z0-9_]* (they become environment variables),
 * values at most CK_SECRET_VALUE_MAX bytes without NUL, no name twice, at most
 * CK_PROVISION_MAX_SECRETS in all. On failure nothing is added and the error names the line
 * (never the value). */
int ck_secrets_parse(const char *text, size_t len, struct ck_provision *p, struct ck_err *err);

/* Owner side: the signed envelope (malloc'ed JSON). */
int ck_provision_sign(const struct ck_provision *p, const struct ck_owner_key *owner, char **out,
		      size_t *len, struct ck_err *err);

/* Enclave side: checks the signature against the manifest's owner key, then that the payload is
 * for this enclave certificate and manifest; fills `p`. Refuses anything else, naming why. */
int ck_provision_open(const char *envelope, size_t len, const uint8_t owner_pub[CK_OWNER_PUB_LEN],
		      const uint8_t enclave_cert_sha256[32], const uint8_t manifest_sha256[32],
		      struct ck_provision *p, struct ck_err *err);

/* X25519 seal keys: a fresh pair (the enclave's), sealing (anyone), unsealing (the enclave). */
int ck_seal_keygen(uint8_t priv[CK_SEAL_KEY_LEN], uint8_t pub[CK_SEAL_KEY_LEN], struct ck_err *err);
int ck_seal(const uint8_t pub[CK_SEAL_KEY_LEN], const uint8_t *msg, size_t len, char **out,
	    size_t *out_len, struct ck_err *err);
/* Unseals into a fresh buffer (*msg, wiped by the caller after use). */
int ck_unseal(const uint8_t priv[CK_SEAL_KEY_LEN], const uint8_t pub[CK_SEAL_KEY_LEN],
	      const char *sealed, size_t len, uint8_t **msg, size_t *msg_len, struct ck_err *err);

#endif
