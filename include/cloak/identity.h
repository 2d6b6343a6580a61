/* SPDX-License-Identifier: Apache-2.0 */
/*
 * identity.h - a TLS identity the runtime serves with, and the evidence that binds it (DESIGN
 * §5). Three kinds:
 *   RA-TLS  a fresh P-256 key and its attested self-signed certificate (the provisioning
 *           phase; serving in zero trust);
 *   owner   the owner's certificate chain and the key provisioned for it (owner cert): the
 *           evidence endpoint binds that key;
 *   none    no TLS key of the enclave's (operator TLS: the operator terminates TLS), and the
 *           evidence says so by having no pubkey-hash.
 * An identity owns everything it points to; ck_identity_free() releases it (keys wiped by
 * OpenSSL on free).
 */
#ifndef CLOAK_IDENTITY_H
#define CLOAK_IDENTITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "cloak/attest.h"
#include "cloak/claims.h"
#include "cloak/collateral.h"
#include "cloak/err.h"

#define CK_IDENTITY_VALID_DAYS 90 /* of an RA-TLS certificate; a reboot makes a new one */

struct ck_identity {
	EVP_PKEY *key; /* NULL: none */
	X509 *cert;    /* the leaf served */
	SSL_CTX *tls;  /* a TLS server context serving cert (and its chain) */
	uint8_t *spki; /* DER SubjectPublicKeyInfo of key */
	size_t spki_len;
	uint8_t cert_sha256[32]; /* SHA-256 of the leaf's DER */
	struct ck_claims claims; /* what every quote of this identity states (no pubkey-hash or
				    nonce: those are added per quote) */
	char *evidence;		 /* a bundle without a nonce, kept by the caller for reuse
				    (freed here; NULL until set) */
};

/* An identity around a key and its certificate, made elsewhere (the identity takes both, also
 * on failure). */
int ck_identity_adopt(struct ck_identity *id, EVP_PKEY *key, X509 *cert, const struct ck_claims *c,
		      struct ck_err *err);

/* A fresh RA-TLS identity: a certificate for `host` (and localhost, 127.0.0.1) with claims `c`,
 * quoted by `att`; SGX quotes (backends sim and sgx) also go in the legacy extension. */
int ck_identity_ratls(struct ck_identity *id, struct ck_attester *att, const struct ck_claims *c,
		      const char *host, struct ck_err *err);

/* The owner's chain (PEM, leaf first) and key (PEM): the key must be the leaf's. */
int ck_identity_owner(struct ck_identity *id, const char *chain_pem, const char *key_pem,
		      const struct ck_claims *c, struct ck_err *err);

/* No TLS key of the enclave's. */
void ck_identity_none(struct ck_identity *id, const struct ck_claims *c);

/* true when `ssl` (a server connection) presented this identity's certificate. */
bool ck_identity_served(const struct ck_identity *id, const SSL *ssl);

/* An evidence bundle (JSON, malloc'ed) for this identity: a fresh quote of its claims plus the
 * pubkey-hash of its key (when it has one) and `nonce` (when nonce_len > 0), with `coll`. */
int ck_identity_evidence(const struct ck_identity *id, struct ck_attester *att,
			 const struct ck_collateral *coll, const uint8_t *nonce, size_t nonce_len,
			 char **out, struct ck_err *err);

/* The same, whose claims carry `root` as "cloak.nonce-root": one quote for a batch of nonces,
 * each answered with ck_bundle_with_proof. */
int ck_identity_evidence_root(const struct ck_identity *id, struct ck_attester *att,
			      const struct ck_collateral *coll, const uint8_t root[32], char **out,
			      struct ck_err *err);

/* Frees everything the identity owns (keys are wiped by OpenSSL) and zeroes it; safe twice. */
void ck_identity_free(struct ck_identity *id);

#endif
