/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bundle.h - evidence bundles (DESIGN §4): one self-contained JSON file with a quote and the
 * collateral needed to appraise it, so a verifier needs no PCCS.
 *
 *   {"cloak_evidence": 1, "tee": "sgx", "quote": "<base64>",
 *    "collateral": { QuoteCollateralV3 }, "claims": "<base64 CBOR>"?,
 *    "nonce_proof": {"index": I, "size": N, "path": ["<hex 32 bytes>", ...]}?}
 *
 * nonce_proof: the quote answers a batch of nonces at once; its claims carry the batch's Merkle
 * root ("cloak.nonce-root") and this is the proof that the verifier's nonce is in it (merkle.h).
 *
 * A simulated quote carries its sim root in its own PCK chain, so no separate field is needed.
 */
#ifndef CLOAK_BUNDLE_H
#define CLOAK_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/collateral.h"
#include "cloak/err.h"
#include "cloak/merkle.h"

#define CK_BUNDLE_VERSION 1
#define CK_BUNDLE_MAX_LEN (2 * 1024 * 1024)

struct ck_bundle {
	uint8_t *quote;
	size_t quote_len;
	bool has_collateral;
	struct ck_collateral collateral;
	uint8_t *claims; /* optional, NULL when absent */
	size_t claims_len;
	bool has_nonce_proof;
	struct ck_merkle_proof nonce_proof;
};

/* true when `buf` looks like a bundle (a JSON object with "cloak_evidence"). */
bool ck_bundle_sniff(const uint8_t *buf, size_t len);
/* Parses a bundle (at most CK_BUNDLE_MAX_LEN bytes): version, "tee", base64 quote and claims,
 * the collateral, the nonce proof; strictly (duplicate keys, escapes in base64 refused). On
 * success `b` owns copies (ck_bundle_free); on failure it is zeroed and the error names the
 * field. */
int ck_bundle_parse(const char *text, size_t len, struct ck_bundle *b, struct ck_err *err);
/* Serialises `b` as compact JSON (malloc'ed, NUL-terminated). */
char *ck_bundle_dump(const struct ck_bundle *b);
/* `dump` (a bundle as ck_bundle_dump made it, without a proof) with "nonce_proof" added as its
 * last member: one serialisation of the quote and collateral serves a whole batch. Malloc'ed,
 * NULL when out of memory or `dump` is not such an object. */
char *ck_bundle_with_proof(const char *dump, size_t len, const struct ck_merkle_proof *p);
/* Frees what a parsed bundle owns and zeroes it (safe on a zeroed one). */
void ck_bundle_free(struct ck_bundle *b);

#endif
