/* SPDX-License-Identifier: Apache-2.0 */
/*
 * x509util.h - OpenSSL X509 helpers for the simulation PKI and `cloak inspect` (internal).
 * The appraisal itself does not use OpenSSL X509 objects: see cert.h.
 */
#ifndef CLOAK_X509UTIL_H
#define CLOAK_X509UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_CHAIN_MAX_CERTS 4
#define CK_P256_POINT_LEN  65 /* 0x04 || x || y */

/* Parses PEM certificates from `pem` (NULs and whitespace after the last one are allowed,
 * anything else is not). At most `max` certificates; fewer than `min` fails. */
int ck_pem_chain_parse(const char *pem, size_t len, X509 **certs, size_t min, size_t max, size_t *n,
		       const char *what, const char *code, struct ck_err *err);
void ck_certs_free(X509 **certs, size_t n);

/* Moves an OpenSSL-allocated buffer of n bytes (from an i2d_* call) into a malloc'ed copy in
 * *out, freeing d in all cases. Returns 0, or -1 if n <= 0 or on OOM. */
int ck_from_openssl(unsigned char *d, int n, uint8_t **out, size_t *len);

/* Signs msg with SHA-256, writing r||s (for the simulation PKI). */
int ck_ecdsa_sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64]);

/* The uncompressed point of a P-256 key; -1 if the key is not P-256. */
int ck_p256_point(EVP_PKEY *key, uint8_t out[CK_P256_POINT_LEN]);

/* Validity of a certificate / CRL as epoch seconds. */
int ck_x509_times(const X509 *c, ck_time_t *from, ck_time_t *until);
int ck_crl_times(const X509_CRL *c, ck_time_t *from, ck_time_t *until);

/* Common name (or "?" if absent) into buf. */
const char *ck_x509_cn(const X509_NAME *name, char *buf, size_t cap);
/* true when some attribute value of `name` contains `needle`. */
bool ck_x509_name_contains(const X509_NAME *name, const char *needle);
/* true when the two certificates are byte-identical. */
bool ck_x509_same(X509 *a, X509 *b);

/* Finds the extension whose OID has DER body `oid`; NULL if absent; *dup set when present more
 * than once. */
const ASN1_OCTET_STRING *ck_x509_find_ext(const X509 *c, const uint8_t *oid, size_t oidlen,
					  bool *dup);

/* Adds a non-critical extension `oid_txt` (dotted) whose value is the n bytes at v. */
int ck_x509_add_raw_ext(X509 *x, const char *oid_txt, const uint8_t *v, size_t n);
/* Adds a standard extension from its OpenSSL config text (e.g. "critical,CA:FALSE");
 * `issuer` is x itself for a self-signed certificate. */
int ck_x509_add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value);

#endif
