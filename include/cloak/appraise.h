/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appraise.h - DCAP appraisal of an SGX quote against its collateral, offline.
 *
 * The algorithm is Intel's QVL (attestation-formats.md §B.2), in two stages so that the costly
 * collateral checks are done once per collateral set:
 *
 *   ck_collateral_verify()  trust anchor; root CRL; TCB Info and QE Identity signatures and their
 *                           signing chain; PCK CRL and its issuer; parses TCB Info / QE Identity.
 *   ck_appraise()           per quote: PCK chain and revocation, FMSPC/PCEID, QE report signature
 *                           and data, QE identity, quote signature, TCB level, status; then the
 *                           validity of every item at `opts->at`.
 *
 * Trust: the only anchor is the pinned Intel SGX Root CA key. A root whose subject says
 * "NOT A REAL TEE" (cloak's simulation PKI) is accepted only with `allow_simulation`, and the
 * result then has `simulated` set. Any other root fails with CK_E_ROOT_UNTRUSTED.
 *
 * Time is an input. By default every certificate, CRL, TCB Info and QE Identity must be valid at
 * `opts->at`; `allow_expired_collateral` relaxes only the CRLs, TCB Info and QE Identity past
 * their nextUpdate (Intel's QvE "collateral expired" case), and sets `collateral_expired`.
 *
 * Appraisal says what the evidence proves; whether that is acceptable is policy.h's decision.
 */
#ifndef CLOAK_APPRAISE_H
#define CLOAK_APPRAISE_H

#include <stdbool.h>
#include <stdint.h>

#include "cloak/collateral.h"
#include "cloak/err.h"
#include "cloak/pck.h"
#include "cloak/quote.h"
#include "cloak/timeutil.h"

#define CK_MAX_RESULT_ADVISORIES 64

/* The pinned Intel SGX Root CA: its public key (uncompressed P-256 point), and the SHA-256 of
 * its certificate's DER. A root with the key must be this very certificate. */
extern const uint8_t CK_INTEL_SGX_ROOT_KEY[65];
extern const uint8_t CK_INTEL_SGX_ROOT_SHA256[32];
/* The marker every simulation certificate carries in its subject. */
#define CK_SIM_MARKER "NOT A REAL TEE"

struct ck_appraise_opts {
	ck_time_t at;
	bool allow_simulation;
	bool allow_expired_collateral;
};

/* Collateral whose signatures and chains have been checked. Opaque. It caches the PCK CA once
 * verified, so ck_appraise() takes it non-const: use one per thread. */
struct ck_verified_collateral;

/* Verifies a collateral set once, for any number of appraisals (the first half of QVL's order):
 * the trust anchor (the pinned Intel SGX Root CA certificate byte for byte, or, only with
 * allow_simulation, a sim root), the root CRL, the TCB Info and QE Identity signatures and their
 * signing chain, the PCK CRL and its issuer. *out is the caller's (ck_verified_collateral_free)
 * and holds private copies: `c` may be freed after. Fails with the code of the first check that
 * failed, naming the item; *out is then NULL. Times are checked per appraisal, not here. */
int ck_collateral_verify(const struct ck_collateral *c, bool allow_simulation,
			 struct ck_verified_collateral **out, struct ck_err *err);
/* Frees a verified collateral set (NULL is fine). */
void ck_verified_collateral_free(struct ck_verified_collateral *vc);
/* What a verified set holds, borrowed from it (valid until it is freed): its TCB Info, its QE
 * Identity, and whether it chains to a simulation root. */
const struct ck_tcb_info *ck_vc_tcb_info(const struct ck_verified_collateral *vc);
const struct ck_qe_identity *ck_vc_qe_identity(const struct ck_verified_collateral *vc);
bool ck_vc_simulated(const struct ck_verified_collateral *vc);

struct ck_appraisal {
	bool valid;	     /* every check passed; the fields below are then meaningful */
	struct ck_err error; /* the first failed check, when !valid */

	bool simulated;
	enum ck_tee tee;
	uint16_t quote_version;
	bool debug;		      /* SGX ATTRIBUTES.DEBUG */
	struct ck_sgx_report enclave; /* the ISV enclave report (SGX) */
	bool has_pck;		      /* pck, platform/QE levels are set */
	struct ck_pck_ext pck;
	enum ck_tcb_status tcb_status; /* platform status converged with the QE's */
	enum ck_tcb_status platform_status, qe_status;
	ck_time_t tcb_date;
	uint32_t tcb_eval_num;
	char advisories[CK_MAX_RESULT_ADVISORIES][CK_ADVISORY_ID_MAX];
	size_t n_advisories;
	ck_time_t valid_from, valid_until; /* when every item is valid together */
	bool collateral_expired;
	unsigned long sig_verifications; /* ECDSA verifications done by this call */
};

/* Appraises `q` at opts->at. Returns 0 if valid, -1 otherwise (res->error says why). The
 * identity fields of `res` are filled from the quote even on failure (for reporting only). */
int ck_appraise(const struct ck_quote *q, struct ck_verified_collateral *vc,
		const struct ck_appraise_opts *opts, struct ck_appraisal *res);

/* One-shot: parse the quote, verify the collateral, appraise (the "cold" path). */
int ck_appraise_raw(const uint8_t *quote, size_t quote_len, const struct ck_collateral *c,
		    const struct ck_appraise_opts *opts, struct ck_appraisal *res);

#endif
