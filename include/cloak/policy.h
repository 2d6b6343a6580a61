/* SPDX-License-Identifier: Apache-2.0 */
/*
 * policy.h - what an appraised piece of evidence must show to be accepted.
 *
 * JSON form (unknown keys are rejected, so that a typo never silently changes the policy):
 *   {
 *     "mrenclave": ["<64 hex>", ...],                      any one of these, or
 *     "signers": [{"mrsigner": "<64 hex>", "isv_prod_id": N, "min_isv_svn": N}, ...],
 *     "accepted_tcb_statuses": ["UpToDate", ...],          default ["UpToDate"]
 *     "accepted_advisories": ["INTEL-SA-00615", ...],      or ["*"]; default none
 *     "allow_debug": false, "allow_simulation": false, "allow_expired_collateral": false
 *   }
 * With neither "mrenclave" nor "signers", any enclave code is accepted (`measured` is false and
 * the CLI warns). "Revoked" can never be accepted.
 */
#ifndef CLOAK_POLICY_H
#define CLOAK_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/appraise.h"
#include "cloak/err.h"

#define CK_POLICY_MAX_LEN	 (256 * 1024)
#define CK_POLICY_MAX_ENTRIES	 256 /* per list */
#define CK_POLICY_MAX_VIOLATIONS 8

struct ck_signer_rule {
	uint8_t mrsigner[32];
	uint16_t isv_prod_id;
	uint16_t min_isv_svn;
};

struct ck_policy {
	uint8_t (*mrenclave)[32];
	size_t n_mrenclave;
	struct ck_signer_rule *signers;
	size_t n_signers;
	uint32_t accepted_statuses; /* bit (1 << enum ck_tcb_status) */
	char (*advisories)[CK_ADVISORY_ID_MAX];
	size_t n_advisories;
	bool any_advisory;
	bool allow_debug;
	bool allow_simulation;
	bool allow_expired_collateral;
};

/* The default policy: UpToDate only, no advisories, no debug, no simulation, any measurement. */
void ck_policy_default(struct ck_policy *p);
/* Parses a JSON policy strictly (unknown keys, wrong types, malformed hex refused, naming the
 * key) over the default: what it does not say stays as ck_policy_default sets it. `p` owns
 * its lists (ck_policy_free); on failure it is freed. */
int ck_policy_parse(const char *text, size_t len, struct ck_policy *p, struct ck_err *err);
/* Frees a policy's lists and zeroes it (safe on a zeroed or default one). */
void ck_policy_free(struct ck_policy *p);

static inline bool ck_policy_measured(const struct ck_policy *p)
{
	return p->n_mrenclave || p->n_signers;
}

/* Evaluates every rule against a valid appraisal. Writes one error per violated rule (up to
 * `max`) and returns how many rules failed; 0 means accepted. */
size_t ck_policy_check(const struct ck_policy *p, const struct ck_appraisal *a, struct ck_err *errs,
		       size_t max);

#endif
