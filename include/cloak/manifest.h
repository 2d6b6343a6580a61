/* SPDX-License-Identifier: Apache-2.0 */
/*
 * manifest.h - the deploy manifest (DESIGN §6): what the owner deploys, in canonical JSON, so
 * that its SHA-256 (in the enclave's claims) is a function of its content alone.
 *
 *   {"cloak_manifest":1, "name":"shop", "fingerprint":"<64 hex>", "package_sha256":"<64 hex>",
 *    "mode":"zero-trust|owner-cert|operator-tls", "domain":"shop.example.com"?,
 *    "owner_cert_sha256":"<64 hex>" (owner-cert only), "owner_key":"ed25519:<64 hex>",
 *    "expires":"RFC 3339", "run":"./server", "health":"/healthz", "policy":{...}?,
 *    "log_key":"x25519:<64 hex>"?}
 *
 * log_key (applog.h) is the owner's public key the runtime seals the app's output to; without
 * one, the app's output is discarded, never kept in clear.
 *
 * Canonical form: jansson's compact output with sorted keys and ASCII escapes
 * (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII), no trailing newline. A manifest that
 * is not in canonical form, has unknown keys, or breaks a field rule is refused. One trailing
 * newline in a file is tolerated and not hashed.
 */
#ifndef CLOAK_MANIFEST_H
#define CLOAK_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/dns.h"
#include "cloak/err.h"
#include "cloak/mode.h"
#include "cloak/owner.h"
#include "cloak/timeutil.h"

#define CK_MANIFEST_VERSION 1
#define CK_MANIFEST_MAX_LEN (64 * 1024)
#define CK_APP_NAME_MAX	    CK_DNS_LABEL_MAX /* a DNS label (dns.h) */
#define CK_DOMAIN_MAX	    CK_DNS_NAME_MAX
#define CK_RUN_MAX	    1024
#define CK_HEALTH_MAX	    256

struct ck_manifest {
	char name[CK_APP_NAME_MAX + 1];
	uint8_t fingerprint[32];
	uint8_t package_sha256[32];
	enum ck_mode mode;
	char domain[CK_DOMAIN_MAX + 1]; /* "" when absent */
	bool has_owner_cert;
	uint8_t owner_cert_sha256[32];
	uint8_t owner_key[CK_OWNER_PUB_LEN];
	ck_time_t expires;
	char run[CK_RUN_MAX + 1];
	char health[CK_HEALTH_MAX + 1];
	char *policy_json; /* canonical JSON of the runtime policy, or NULL */
	bool has_log_key;
	uint8_t log_key[32]; /* X25519 public (applog.h) */
};

/* Checks every field and writes the canonical bytes (malloc'ed) and their SHA-256. */
int ck_manifest_encode(const struct ck_manifest *m, char **out, size_t *len, uint8_t hash[32],
		       struct ck_err *err);
/* Parses a manifest, refusing anything not canonical; fills `m` and the hash. */
int ck_manifest_parse(const char *text, size_t len, struct ck_manifest *m, uint8_t hash[32],
		      struct ck_err *err);
/* Frees what a parsed manifest owns (its policy text) and zeroes it; NULL is fine. */
void ck_manifest_free(struct ck_manifest *m);

#endif
