/* SPDX-License-Identifier: Apache-2.0 */
/*
 * claims.h - what an enclave states about itself next to its quote (DESIGN §5): a CBOR map
 * whose SHA-256 is report_data[0:32] of the quote.
 *
 *   "pubkey-hash"    bstr(CBOR [alg, bstr hash]): the TLS key, hash of its DER
 *                    SubjectPublicKeyInfo; alg 1 = SHA-256, 7 = SHA-384, 8 = SHA-512 (CCC)
 *   "nonce"          bstr, at most 64 bytes: a verifier's challenge
 *   "cloak.phase"    "provisioning" | "serving"
 *   "cloak.package"  bstr(32): SHA-256 of the encrypted package
 *   "cloak.manifest" bstr(32): SHA-256 of the deploy manifest
 *   "cloak.app"      bstr(32): the app fingerprint
 *   "cloak.mode"     "zero-trust" | "owner-cert" | "operator-tls"
 *   "cloak.seal-key" bstr(32): X25519 public key for secrets sealed to this enclave
 *   "cloak.nonce-root" bstr(32): the Merkle root of a batch of verifiers' nonces (merkle.h);
 *                    each verifier gets its nonce's proof beside the quote
 *
 * Encoding is deterministic (RFC 8949 §4.2.1: keys sorted by their encoding). Parsing is
 * strict (see util/cbor.h): a known key with the wrong type, a duplicate key, or trailing
 * bytes fail; unknown keys (other producers' claims) are skipped and counted.
 */
#ifndef CLOAK_CLAIMS_H
#define CLOAK_CLAIMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/mode.h"

#define CK_CLAIMS_MAX_LEN  4096
#define CK_NONCE_MAX	   64
#define CK_CLAIMS_MAX_KEYS 32

enum ck_hash_alg { CK_HASH_SHA256 = 1, CK_HASH_SHA384 = 7, CK_HASH_SHA512 = 8 };
enum ck_phase { CK_PHASE_PROVISIONING = 1, CK_PHASE_SERVING };

struct ck_claims {
	bool has_pubkey_hash;
	enum ck_hash_alg hash_alg;
	uint8_t pubkey_hash[64];
	size_t pubkey_hash_len;
	bool has_nonce;
	uint8_t nonce[CK_NONCE_MAX];
	size_t nonce_len;
	enum ck_phase phase; /* 0 when absent */
	bool has_package, has_manifest, has_app, has_seal_key;
	uint8_t package[32], manifest[32], app[32], seal_key[32];
	enum ck_mode mode; /* 0 when absent */
	bool has_nonce_root;
	uint8_t nonce_root[32];
	size_t n_unknown;
};

/* Parses claims (at most CK_CLAIMS_MAX_LEN bytes) as the header above says, into `c` (which
 * points into nothing: values are copied). Fails naming the claim that is malformed, repeated or
 * of the wrong type; `c` is then partly filled and must not be used. */
int ck_claims_parse(const uint8_t *cbor, size_t len, struct ck_claims *c, struct ck_err *err);
/* Encodes the claims that are present; *out is malloc'ed. */
int ck_claims_encode(const struct ck_claims *c, uint8_t **out, size_t *len, struct ck_err *err);

/* "provisioning", "serving", or "?" for anything else. */
const char *ck_phase_name(enum ck_phase p);
/* The digest of data with `alg` into out, which MUST have room for it (32, 48 or 64 bytes);
 * returns its length, or 0 for an unknown algorithm. */
size_t ck_hash(enum ck_hash_alg alg, const uint8_t *data, size_t len, uint8_t *out);

#endif
