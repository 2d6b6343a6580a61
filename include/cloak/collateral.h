/* SPDX-License-Identifier: Apache-2.0 */
/*
 * collateral.h - DCAP collateral: what a verifier needs besides the quote.
 *
 * `struct ck_collateral` holds the collateral exactly as signed (TCB Info and QE Identity as
 * their exact JSON text, CRLs as DER, issuer chains as PEM). Its JSON form is the dcap-qvl
 * `QuoteCollateralV3` layout used by attestation-vectors/ and by evidence bundles.
 *
 * `struct ck_tcb_info` and `struct ck_qe_identity` are the parsed, typed views of the signed
 * texts (attestation-formats.md §B.5). Parsing does not check signatures: appraise.h does.
 */
#ifndef CLOAK_COLLATERAL_H
#define CLOAK_COLLATERAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_COLLATERAL_MAX_LEN (1024 * 1024) /* a QuoteCollateralV3 file; real ones are ~20 KiB */
#define CK_TCB_MAX_LEVELS     128
#define CK_ADVISORY_ID_MAX    32 /* "INTEL-SA-00615" plus room; longer IDs are rejected */
#define CK_MAX_ADVISORIES     64 /* per TCB level */
#define CK_TCB_COMPONENTS     16

enum ck_tcb_status {
	CK_TCB_INVALID = 0,
	CK_TCB_UP_TO_DATE,
	CK_TCB_SW_HARDENING_NEEDED,
	CK_TCB_CONFIGURATION_NEEDED,
	CK_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED,
	CK_TCB_OUT_OF_DATE,
	CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED,
	CK_TCB_REVOKED,
	CK_TCB_TD_RELAUNCH_ADVISED,
	CK_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED,
};
#define CK_TCB_STATUS_COUNT 10

/* Intel's names ("UpToDate", ...); "Invalid" for CK_TCB_INVALID. */
const char *ck_tcb_status_name(enum ck_tcb_status s);
/* Parses one of Intel's names exactly; returns CK_TCB_INVALID for anything else. */
enum ck_tcb_status ck_tcb_status_parse(const char *name);

struct ck_collateral {
	char *pck_crl_issuer_chain; /* PEM: PCK Platform/Processor CA, then root */
	uint8_t *root_ca_crl;	    /* DER */
	size_t root_ca_crl_len;
	uint8_t *pck_crl; /* DER */
	size_t pck_crl_len;
	char *tcb_info_issuer_chain; /* PEM: TCB Signing, then root */
	char *tcb_info;		     /* exact signed JSON text, NUL-terminated */
	size_t tcb_info_len;
	uint8_t tcb_info_sig[64]; /* r||s */
	char *qe_identity_issuer_chain;
	char *qe_identity;
	size_t qe_identity_len;
	uint8_t qe_identity_sig[64];
};

/* Parses a QuoteCollateralV3 JSON text. CRL fields may be hex DER (the dcap-qvl form), PEM, or
 * base64 DER. The nine fields are required; unknown fields are ignored. On failure `out` is
 * left empty (nothing to free). */
int ck_collateral_parse(const char *text, size_t len, struct ck_collateral *out,
			struct ck_err *err);

/* The QuoteCollateralV3 JSON object of `c` (new reference), or NULL on OOM. */
json_t *ck_collateral_to_json(const struct ck_collateral *c);

/* Frees what `c` owns and zeroes it. NULL-safe. */
void ck_collateral_free(struct ck_collateral *c);

/* Decodes a CRL given as DER, PEM ("-----BEGIN X509 CRL-----"), hex text or base64 text into a
 * fresh DER buffer. */
int ck_crl_decode(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len, const char *what,
		  struct ck_err *err);

/* Splits a raw Intel PCS response body `{"<key>":{...},"signature":"<hex>"}` into the exact
 * bytes of the signed object (*inner, malloc'ed, NUL-terminated) and the signature. `key` is
 * "tcbInfo" or "enclaveIdentity". */
int ck_pcs_split_signed(const char *body, size_t len, const char *key, char **inner,
			size_t *inner_len, uint8_t sig[64], struct ck_err *err);

/* Raw PCS responses, as fetched from Intel or a PCCS; all required except pck_crl_chain, which
 * may be NULL when the PCK CRL issuer chain is not at hand (it is then left empty, and the
 * appraisal uses the chain in the quote). */
struct ck_pcs_inputs {
	const char *tcb_info_body;
	size_t tcb_info_body_len;
	const char *qe_identity_body;
	size_t qe_identity_body_len;
	const uint8_t *root_crl;
	size_t root_crl_len;
	const uint8_t *pck_crl;
	size_t pck_crl_len;
	const char *tcb_chain; /* PEM: TCB-Info-Issuer-Chain (also signs the QE Identity) */
	const char *pck_crl_chain;
};
/* Builds a collateral set from raw Intel PCS (or PCCS) responses, keeping the signed TCB Info
 * and QE Identity bytes exactly as served; CRLs may be DER, PEM, hex or base64. `out` is the
 * caller's (ck_collateral_free). Nothing is verified here: ck_collateral_verify does that. */
int ck_collateral_from_pcs(const struct ck_pcs_inputs *in, struct ck_collateral *out,
			   struct ck_err *err);

/* ---- Parsed TCB Info (v2 and v3) and QE Identity (v2) ------------------------------------ */

struct ck_advisories {
	char (*ids)[CK_ADVISORY_ID_MAX];
	size_t n;
};

struct ck_tcb_level {
	uint8_t sgx_svn[CK_TCB_COMPONENTS];
	uint16_t pcesvn;
	bool has_tdx;
	uint8_t tdx_svn[CK_TCB_COMPONENTS];
	ck_time_t tcb_date;
	enum ck_tcb_status status;
	size_t adv_first, adv_count; /* into the owner's `advisories` table */
};

struct ck_tcb_info {
	int version; /* 2 or 3 */
	char id[8];  /* "SGX" or "TDX" (v3); "" for v2 */
	ck_time_t issue_date, next_update;
	uint8_t fmspc[6];
	uint8_t pceid[2];
	int tcb_type;
	uint32_t eval_num; /* tcbEvaluationDataNumber */
	struct ck_tcb_level *levels;
	size_t n_levels;
	struct ck_advisories advisories;
};

struct ck_qe_level {
	uint16_t isvsvn;
	ck_time_t tcb_date;
	enum ck_tcb_status status;
	size_t adv_first, adv_count;
};

struct ck_qe_identity {
	char id[8]; /* "QE", "TD_QE" or "QVE" */
	int version;
	ck_time_t issue_date, next_update;
	uint32_t eval_num;
	uint8_t miscselect[4], miscselect_mask[4];
	uint8_t attributes[16], attributes_mask[16];
	uint8_t mrsigner[32];
	uint16_t isvprodid;
	struct ck_qe_level *levels;
	size_t n_levels;
	struct ck_advisories advisories;
};

/* Parses a TCB Info (v2 or v3, SGX or TDX) or a QE Identity (v2) body: the signed JSON text,
 * strictly (every field typed and in range, levels in order). `out` owns copies (the matching
 * _free); on failure it is freed and the error names the field. */
int ck_tcb_info_parse(const char *text, size_t len, struct ck_tcb_info *out, struct ck_err *err);
void ck_tcb_info_free(struct ck_tcb_info *t);
int ck_qe_identity_parse(const char *text, size_t len, struct ck_qe_identity *out,
			 struct ck_err *err);
void ck_qe_identity_free(struct ck_qe_identity *q);

#endif
