/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cert.h - the X.509 certificates and CRLs of a DCAP chain, parsed in place (internal).
 *
 * Why not OpenSSL's X509: in OpenSSL 3.0 decoding one certificate costs ~110 us (its public
 * key goes through the provider decoder framework), twice an ECDSA verification; a cold DCAP
 * appraisal handles nine certificates. This parser reads only the profile DCAP uses, strictly:
 * DER only, X.509 v3, ECDSA P-256 keys, ecdsa-with-SHA256 signatures, UTCTime/GeneralizedTime,
 * no unique IDs, no duplicate extensions, no unknown critical extension. It never allocates;
 * every pointer points into the caller's DER, which MUST outlive the struct.
 */
#ifndef CLOAK_CERT_H
#define CLOAK_CERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_CHAIN_MAX     4
#define CK_CERT_MAX_LEN  (16 * 1024)
#define CK_CRL_MAX_LEN   (4 * 1024 * 1024)
#define CK_CN_MAX        128
#define CK_P256_PUB_LEN  65 /* 0x04 || x || y */

struct ck_bytes {
	const uint8_t *p;
	size_t n;
};

struct ck_cert {
	struct ck_bytes der;	 /* the whole certificate */
	struct ck_bytes tbs;	 /* what the issuer signed */
	struct ck_bytes serial;	 /* INTEGER content, minimal */
	struct ck_bytes issuer;	 /* Name, with its header */
	struct ck_bytes subject; /* Name, with its header */
	ck_time_t not_before, not_after;
	uint8_t pub[CK_P256_PUB_LEN];
	bool is_ca;
	struct ck_bytes sgx_ext; /* value of 1.2.840.113741.1.13.1, if present */
	uint8_t sig[64];	 /* r || s */
};

struct ck_crl {
	struct ck_bytes der, tbs, issuer;
	ck_time_t this_update, next_update;
	struct ck_bytes revoked; /* content of revokedCertificates (possibly empty) */
	uint8_t sig[64];
};

int ck_cert_parse(const uint8_t *der, size_t len, struct ck_cert *c, struct ck_err *err);
int ck_crl_parse(const uint8_t *der, size_t len, struct ck_crl *c, struct ck_err *err);

/* true when `crl` lists `serial` (INTEGER content bytes). */
bool ck_crl_revokes(const struct ck_crl *crl, struct ck_bytes serial);

/* The first CN of a Name as printable ASCII (others replaced by '?'), "?" if none. */
const char *ck_name_cn(struct ck_bytes name, char out[CK_CN_MAX]);
/* true when some attribute value of the Name contains `needle`. */
bool ck_name_contains(struct ck_bytes name, const char *needle);
bool ck_bytes_eq(struct ck_bytes a, struct ck_bytes b);

/* A PEM chain decoded to DER in one buffer, each certificate parsed. */
struct ck_chain {
	uint8_t *buf;
	struct ck_cert c[CK_CHAIN_MAX];
	size_t n;
};
/* Requires min..max certificates; NULs and whitespace around them are allowed, nothing else.
 * Fails with `code`, naming `what`. */
int ck_chain_load(const char *pem, size_t len, size_t min, size_t max, struct ck_chain *ch,
		  const char *what, const char *code, struct ck_err *err);
void ck_chain_free(struct ck_chain *ch);

/* Decodes the next "-----BEGIN CERTIFICATE-----" block at *pos into `der` (capacity at least
 * 3/4 of the remaining text). Returns 1 and advances *pos, 0 at the end (only whitespace and
 * NULs left), -1 on anything else. */
int ck_pem_next(const char *pem, size_t len, size_t *pos, uint8_t *der, size_t *der_len);

/* ECDSA P-256: SHA-256(msg) signed with raw r||s, by the uncompressed point `pub`. Returns
 * true if valid; false for a bad signature or a point not on the curve. Counted in
 * ck_sig_verify_count. */
bool ck_p256_verify(const uint8_t pub[CK_P256_PUB_LEN], const uint8_t *msg, size_t len,
		    const uint8_t sig[64]);

/* Number of ECDSA verifications this thread has performed (for benchmarks and tests). */
extern _Thread_local unsigned long ck_sig_verify_count;

/* SHA-256(a || b). */
int ck_sha256_2(const void *a, size_t alen, const void *b, size_t blen, uint8_t out[32]);

#endif
