/* SPDX-License-Identifier: Apache-2.0 */
/*
 * quote.h - Intel DCAP ECDSA quotes: SGX v3/v4/v5 and TDX v4/v5 (attestation-formats.md §A, §C.1).
 *
 * The parser is zero-copy: pointers in `struct ck_quote` point into the caller's buffer, which
 * MUST outlive the struct. Fixed-size report fields are copied out for convenience. Every length
 * is checked against the input before use; nested sizes must match exactly. Bytes after the
 * signature data (real quotes carry zero padding) are tolerated, counted in `trailing_len`, and
 * covered by no hash.
 */
#ifndef CLOAK_QUOTE_H
#define CLOAK_QUOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_QUOTE_MAX_LEN    (64 * 1024) /* real quotes are 4.5-8 KiB */
#define CK_QUOTE_HEADER_LEN 48
#define CK_SGX_REPORT_LEN   384
#define CK_TD10_REPORT_LEN  584
#define CK_TD15_REPORT_LEN  648
#define CK_QUOTE_SIG_LEN    64
#define CK_QUOTE_MIN_LEN    1020				      /* QVL QUOTE_MIN_BYTE_LEN */
#define CK_SGX_SIGNED_LEN   (CK_QUOTE_HEADER_LEN + CK_SGX_REPORT_LEN) /* v3/v4 SGX: 432 */

#define CK_TEE_TYPE_SGX 0x00000000u
#define CK_TEE_TYPE_TDX 0x00000081u

enum ck_tee { CK_TEE_SGX = 1, CK_TEE_TDX = 2, CK_TEE_SEV_SNP = 3 };

enum ck_body_type { CK_BODY_SGX = 1, CK_BODY_TD10 = 2, CK_BODY_TD15 = 3 };

enum ck_cert_type {
	CK_CERT_PPID_CLEAR = 1,
	CK_CERT_PPID_RSA2048 = 2,
	CK_CERT_PPID_RSA3072 = 3,
	CK_CERT_PCK_LEAF = 4,
	CK_CERT_PCK_CHAIN = 5,
	CK_CERT_QE_REPORT = 6, /* v4/v5 wrapper around the QE report and a type 1..5 */
};

#define CK_SGX_FLAGS_DEBUG 0x02 /* ATTRIBUTES.flags bit 1 */

/* sgx_report_body_t, 384 bytes (attestation-formats.md §A.2). */
struct ck_sgx_report {
	uint8_t cpusvn[16];
	uint32_t miscselect;
	uint8_t isv_ext_prod_id[16];
	uint8_t attributes[16]; /* flags u64 LE, then XFRM u64 LE */
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint8_t config_id[64];
	uint16_t isv_prod_id;
	uint16_t isv_svn;
	uint16_t config_svn;
	uint8_t isv_family_id[16];
	uint8_t report_data[64];
};

/* TD report (TDX 1.0 body, plus the TD 1.5 additions), attestation-formats.md §C.1. */
struct ck_td_report {
	uint8_t tee_tcb_svn[16];
	uint8_t mrseam[48];
	uint8_t mrsignerseam[48];
	uint8_t seam_attributes[8];
	uint8_t td_attributes[8];
	uint8_t xfam[8];
	uint8_t mrtd[48];
	uint8_t mrconfigid[48];
	uint8_t mrowner[48];
	uint8_t mrownerconfig[48];
	uint8_t rtmr[4][48];
	uint8_t report_data[64];
	uint8_t tee_tcb_svn2[16]; /* TD 1.5 only */
	uint8_t mrservicetd[48];  /* TD 1.5 only */
};

struct ck_quote {
	uint16_t version;
	uint16_t att_key_type;
	uint32_t tee_type; /* raw header value */
	enum ck_tee tee;
	uint16_t qe_svn, pce_svn; /* v3 header only */
	uint8_t vendor_id[16];
	uint8_t user_data[20];

	enum ck_body_type body_type;
	struct ck_sgx_report sgx; /* when body_type == CK_BODY_SGX */
	struct ck_td_report td;	  /* when body_type is TD10 or TD15 */
	const uint8_t *body;	  /* raw report body */
	size_t body_len;

	const uint8_t *signed_data; /* header + body: what the attestation key signs */
	size_t signed_len;

	const uint8_t *isv_sig;	      /* 64 bytes r||s */
	const uint8_t *attest_key;    /* 64 bytes x||y */
	const uint8_t *qe_report_raw; /* 384 bytes, signed by the PCK key */
	struct ck_sgx_report qe_report;
	const uint8_t *qe_report_sig; /* 64 bytes r||s */
	const uint8_t *qe_auth;
	size_t qe_auth_len;
	uint16_t cert_type; /* the innermost certification data type, 1..5 */
	const uint8_t *cert_data;
	size_t cert_data_len;

	size_t trailing_len;
};

/* Parses a quote. Fails with CK_E_QUOTE_* or CK_E_TOO_LARGE naming the offset and value. */
int ck_quote_parse(const uint8_t *buf, size_t len, struct ck_quote *q, struct ck_err *err);

/* Decodes a 384-byte SGX report body. */
void ck_sgx_report_decode(const uint8_t *raw, struct ck_sgx_report *r);

/* The report data of whichever body the quote carries (64 bytes). */
const uint8_t *ck_quote_report_data(const struct ck_quote *q);

static inline bool ck_sgx_report_is_debug(const struct ck_sgx_report *r)
{
	return (r->attributes[0] & CK_SGX_FLAGS_DEBUG) != 0;
}

/* "sgx", "tdx", or "?" for anything else. */
const char *ck_tee_name(enum ck_tee tee);

/* Intel's QE vendor ID, 939A7233F79C4CA9940A0DB3957F0607. */
extern const uint8_t CK_INTEL_QE_VENDOR_ID[16];

#endif
