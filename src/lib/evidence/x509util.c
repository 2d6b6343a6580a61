/* SPDX-License-Identifier: Apache-2.0 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cloak/codec.h"
#include "cert.h"
#include "evidence/x509util.h"

void ck_certs_free(X509 **certs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		X509_free(certs[i]);
		certs[i] = NULL;
	}
}

int ck_pem_chain_parse(const char *pem, size_t len, X509 **certs, size_t min, size_t max, size_t *n,
		       const char *what, const char *code, struct ck_err *err)
{
	uint8_t *der = malloc(len / 4 * 3 + 3);
	size_t pos = 0, dlen;
	int r;
	*n = 0;
	if (!der)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	while ((r = ck_pem_next(pem, len, &pos, der, &dlen)) > 0) {
		const unsigned char *p = der;
		X509 *x;
		if (*n == max) {
			ck_errf(err, code, "%s: more than %zu certificates", what, max);
			goto fail;
		}
		if (!(x = d2i_X509(NULL, &p, (long)dlen)) || p != der + dlen) {
			X509_free(x);
			ck_errf(err, code, "%s: certificate #%zu is not valid DER", what, *n);
			goto fail;
		}
		certs[(*n)++] = x;
	}
	if (r < 0 || *n < min) {
		ck_errf(err, code, "%s: %s", what,
			r < 0 ? "bad PEM (want base64 certificates)" : "too few certificates");
		goto fail;
	}
	free(der);
	return 0;
fail:
	free(der);
	ck_certs_free(certs, *n);
	*n = 0;
	return -1;
}

int ck_ecdsa_sign_raw(EVP_PKEY *key, const uint8_t *msg, size_t len, uint8_t sig[64])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char der[80];
	size_t dlen = sizeof(der);
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, der, &dlen, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return -1;
	const unsigned char *p = der;
	ECDSA_SIG *s = d2i_ECDSA_SIG(NULL, &p, (long)dlen);
	if (!s)
		return -1;
	const BIGNUM *r, *ss;
	ECDSA_SIG_get0(s, &r, &ss);
	ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(ss, sig + 32, 32) == 32;
	ECDSA_SIG_free(s);
	return ok ? 0 : -1;
}

int ck_p256_point(EVP_PKEY *key, uint8_t out[CK_P256_POINT_LEN])
{
	char group[32];
	size_t glen = 0, plen = 0;
	if (!key || !EVP_PKEY_is_a(key, "EC") ||
	    !EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group),
					    &glen) ||
	    strcmp(group, "prime256v1") != 0)
		return -1;
	if (!EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out,
					     CK_P256_POINT_LEN, &plen) ||
	    plen != CK_P256_POINT_LEN || out[0] != 0x04)
		return -1;
	return 0;
}

static int asn1_time_epoch(const ASN1_TIME *t, ck_time_t *out)
{
	struct tm tm;
	if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
		return -1;
	*out = ck_time_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
				  tm.tm_min, tm.tm_sec);
	return 0;
}

int ck_x509_times(const X509 *c, ck_time_t *from, ck_time_t *until)
{
	if (asn1_time_epoch(X509_get0_notBefore(c), from) < 0 ||
	    asn1_time_epoch(X509_get0_notAfter(c), until) < 0)
		return -1;
	return 0;
}

int ck_crl_times(const X509_CRL *c, ck_time_t *from, ck_time_t *until)
{
	if (asn1_time_epoch(X509_CRL_get0_lastUpdate(c), from) < 0 ||
	    asn1_time_epoch(X509_CRL_get0_nextUpdate(c), until) < 0)
		return -1;
	return 0;
}

const char *ck_x509_cn(const X509_NAME *name, char *buf, size_t cap)
{
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	X509_NAME_ENTRY *e = i >= 0 ? X509_NAME_get_entry(name, i) : NULL;
	ASN1_STRING *s = e ? X509_NAME_ENTRY_get_data(e) : NULL;
	if (!s) {
		snprintf(buf, cap, "?");
		return buf;
	}
	int n = ASN1_STRING_length(s);
	const unsigned char *d = ASN1_STRING_get0_data(s);
	size_t k = 0;
	for (int j = 0; j < n && k + 1 < cap; j++) /* printable ASCII only: names are untrusted */
		buf[k++] = (d[j] >= 0x20 && d[j] < 0x7f) ? (char)d[j] : '?';
	buf[k] = 0;
	return buf;
}

bool ck_x509_name_contains(const X509_NAME *name, const char *needle)
{
	size_t nl = strlen(needle);
	for (int i = 0; i < X509_NAME_entry_count(name); i++) {
		ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
		if (s &&
		    memmem(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), needle, nl))
			return true;
	}
	return false;
}

bool ck_x509_same(X509 *a, X509 *b)
{
	if (a == b)
		return true;
	if (!a || !b)
		return false;
	return X509_cmp(a, b) == 0; /* compares the cached SHA-1 of the whole encoding first */
}

const ASN1_OCTET_STRING *ck_x509_find_ext(const X509 *c, const uint8_t *oid, size_t oidlen,
					  bool *dup)
{
	const ASN1_OCTET_STRING *found = NULL;
	*dup = false;
	for (int i = 0; i < X509_get_ext_count(c); i++) {
		X509_EXTENSION *e = X509_get_ext(c, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		if ((size_t)OBJ_length(o) == oidlen && memcmp(OBJ_get0_data(o), oid, oidlen) == 0) {
			if (found)
				*dup = true;
			found = X509_EXTENSION_get_data(e);
		}
	}
	return found;
}

int ck_from_openssl(unsigned char *d, int n, uint8_t **out, size_t *len)
{
	*out = NULL;
	if (n > 0 && (*out = malloc((size_t)n))) {
		memcpy(*out, d, (size_t)n);
		*len = (size_t)n;
	}
	OPENSSL_free(d);
	return *out ? 0 : -1;
}

int ck_x509_add_raw_ext(X509 *x, const char *oid_txt, const uint8_t *v, size_t n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid_txt, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e = NULL;
	int ok = o && os && n <= INT_MAX && ASN1_OCTET_STRING_set(os, v, (int)n) &&
		 (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
	return ok ? 0 : -1;
}

int ck_x509_add_conf_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
	int ok = e && X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	return ok ? 0 : -1;
}
