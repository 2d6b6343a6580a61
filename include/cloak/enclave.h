/* SPDX-License-Identifier: Apache-2.0 */
/*
 * enclave.h - what a verifier and an owner say to an enclave, on one ck_client connection
 * (DESIGN §5, §7): fetch its evidence (fresh when a nonce is given), and provision it.
 *
 * ck_provision_run is the owner's side of deploy step 3, whole: on the connection it was given,
 * a fresh evidence bundle bound to a random nonce is fetched and appraised against the
 * certificate of that very connection (a genuine TEE under the policy, phase provisioning,
 * this package and manifest, the TLS key inside the enclave); only then is the provisioning
 * (package key, the owner's TLS key, secrets) signed with the owner key, bound to that
 * certificate, optionally sealed to the enclave's seal key, and sent on it. If any check fails
 * nothing is sent. Fresh evidence refused for now (429/503 with Retry-After) is asked for again
 * after the time the enclave names, up to CK_ENCLAVE_RETRIES times; `on_wait` (may be NULL)
 * is told before each wait.
 */
#ifndef CLOAK_ENCLAVE_H
#define CLOAK_ENCLAVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/appraise.h"
#include "cloak/bundle.h"
#include "cloak/client.h"
#include "cloak/err.h"
#include "cloak/manifest.h"
#include "cloak/owner.h"
#include "cloak/policy.h"
#include "cloak/provision.h"
#include "cloak/ratls.h"

#define CK_ENCLAVE_EVIDENCE_PATH  "/.well-known/cloak/evidence"
#define CK_ENCLAVE_PROVISION_PATH "/.well-known/cloak/provision"
#define CK_ENCLAVE_RETRIES	  5  /* asking again after a 429/503 with Retry-After */
#define CK_ENCLAVE_MAX_WAIT_S	  10 /* the longest wait between two tries */

/* Told before each wait: the status that was answered, the seconds about to be slept, and
 * which try comes next (1-based). */
typedef void (*ck_enclave_wait_fn)(void *arg, int status, unsigned seconds, int attempt);

/* GET the evidence on `c` (with `nonce` when nonce_len > 0), waiting as the enclave asks, and
 * parse the bundle into b (the caller frees it with ck_bundle_free). *status: the last status
 * (200 on success). CK_E_HTTP for an answer other than 200, naming it; the bundle parser's
 * errors for a bad bundle. */
int ck_enclave_evidence(struct ck_client *c, const uint8_t *nonce, size_t nonce_len,
			ck_enclave_wait_fn on_wait, void *arg, struct ck_bundle *b, int *status,
			struct ck_err *err);

/* What ck_provision_run needs: all borrowed. */
struct ck_provision_job {
	const struct ck_manifest *manifest;
	const uint8_t *manifest_sha256;	  /* [32] */
	struct ck_provision *p;		  /* package key, owner TLS chain and key, secrets; the
					     binding fields are filled here */
	const struct ck_owner_key *owner; /* the manifest's owner key */
	const struct ck_policy *policy;
	ck_time_t at; /* the appraisal's time (0: now) */
	bool seal;    /* also seal to the enclave's attested seal key */
	ck_enclave_wait_fn on_wait;
	void *wait_arg;
};

/* What happened, for the report. The caller frees with ck_provision_outcome_free. */
struct ck_provision_outcome {
	struct ck_evidence_result ev; /* the appraisal (every failed check is listed) */
	bool verified;		      /* the appraisal accepted the enclave */
	bool sent;		      /* the provisioning was sent */
	uint8_t cert_sha256[32];      /* the enclave certificate it is bound to */
	int status;		      /* the enclave's answer to the provisioning (200: taken) */
	char *answer;		      /* its body (JSON), NUL-terminated */
};

/* The owner's deploy step 3 on `c` (a TLS connection to the enclave). 0 when the enclave took
 * the provisioning; -1 with `err` otherwise: CK_E_EXPECT-family codes from the appraisal
 * (out->verified false: nothing was sent), CK_E_PROV_* when the enclave refused it (out->status),
 * CK_E_IO/CK_E_HTTP/CK_E_TLS when the connection failed. The signed message is wiped. */
int ck_provision_run(struct ck_client *c, const struct ck_provision_job *job,
		     struct ck_provision_outcome *out, struct ck_err *err);
void ck_provision_outcome_free(struct ck_provision_outcome *o);

#endif
