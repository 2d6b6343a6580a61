/* SPDX-License-Identifier: Apache-2.0 */
/*
 * pck.h - the Intel SGX PCK certificate extension (OID 1.2.840.113741.1.13.1).
 *
 * Layout: attestation-formats.md §B.4. The TCB level of a platform is read from here (the 16
 * component SVNs and the PCESVN), never from the quote's CPUSVN.
 */
#ifndef CLOAK_PCK_H
#define CLOAK_PCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_PCK_EXT_OID	   "1.2.840.113741.1.13.1"
#define CK_PCK_EXT_OID_LEN 9
/* The DER body of CK_PCK_EXT_OID (its one spelling: the PCK's SGX extensions, also where the
 * Intel SGX SDK puts a raw quote in RA-TLS certificates). */
extern const uint8_t CK_PCK_EXT_OID_DER[CK_PCK_EXT_OID_LEN];
#define CK_PCK_EXT_MAX_LEN 4096 /* real extensions are ~550 bytes */

enum ck_sgx_type { CK_SGX_STANDARD = 0, CK_SGX_SCALABLE = 1, CK_SGX_SCALABLE_INTEGRITY = 2 };

struct ck_pck_ext {
	uint8_t ppid[16];
	uint8_t comp_svn[16]; /* SGX TCB components 01..16 */
	uint16_t pcesvn;
	uint8_t cpusvn[16];
	uint8_t pceid[2];
	uint8_t fmspc[6];
	uint32_t sgx_type;
	bool has_platform_instance_id; /* Platform-CA certificates only */
	uint8_t platform_instance_id[16];
};

/* Parses the extension value (the DER SEQUENCE inside the extension's OCTET STRING). PPID, TCB,
 * PCE-ID, FMSPC and SGX type are required, each exactly once; a known field of the wrong type
 * or size fails; unknown fields are skipped. Fails with CK_E_PCK_EXTENSION. */
int ck_pck_ext_parse(const uint8_t *der, size_t len, struct ck_pck_ext *out, struct ck_err *err);

/* Encodes `ext` as the extension value. *out is malloc'ed (caller frees). */
int ck_pck_ext_encode(const struct ck_pck_ext *ext, uint8_t **out, size_t *outlen,
		      struct ck_err *err);

#endif
