/* SPDX-License-Identifier: Apache-2.0 */
/* RA-TLS certificates: issuing, reading, and binding checks (see ratls.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "cloak/codec.h"
#include "cloak/pck.h"
#include "cloak/quote.h"
#include "cloak/ratls.h"
#include "evidence/x509util.h"
#include "util/cbor.h"

#define CCC_TAG 60000

/* DER bodies of the extension OIDs */
static const uint8_t OID_STANDARD[] = {0x67, 0x81, 0x05, 0x05, 0x04, 0x09};
static const uint8_t OID_GRAMINE[] = {0x06, 0x09, 0x2a, 0x86, 0x48, 0x86,
				      0xf8, 0x4d, 0x8a, 0x39, 0x06};
static const uint8_t OID_LEGACY[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x8a, 0x39, 0x06};
static const uint8_t OID_OE[] = {0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x69, 0x01};
#define OID_INTEL_SDK CK_PCK_EXT_OID_DER /* a raw quote under the PCK extension's OID */
#define OE_HEADER_LEN 16

const char *ck_ratls_kind_name(enum ck_ratls_kind k)
{
	switch (k) {
	case CK_RATLS_STANDARD:
		return "2.23.133.5.4.9 (CCC interoperable RA-TLS)";
	case CK_RATLS_GRAMINE_LEGACY:
		return "0.6.9.42.840.113741.1337.6 (Gramine legacy)";
	case CK_RATLS_LEGACY:
		return "1.2.840.113741.1337.6 (legacy raw quote)";
	case CK_RATLS_OE:
		return "1.3.6.1.4.1.311.105.1 (Open Enclave / EGo)";
	case CK_RATLS_INTEL_SDK:
		return "1.2.840.113741.1.13.1 (Intel SGX SDK raw quote)";
	}
	return "?";
}

int ck_spki_der(EVP_PKEY *key, uint8_t **der, size_t *len)
{
	unsigned char *d = NULL;
	int n = i2d_PUBKEY(key, &d);
	return ck_from_openssl(d, n, der, len);
}

static bool sha256_eq(const uint8_t *data, size_t n, const uint8_t want[32])
{
	uint8_t h[64];
	return ck_hash(CK_HASH_SHA256, data, n, h) == 32 && ck_ct_equal(h, want, 32);
}

/* Report data of a quote, or NULL if it does not parse. */
static const uint8_t *report_data(const uint8_t *q, size_t n, struct ck_quote *out)
{
	return ck_quote_parse(q, n, out, NULL) == 0 ? ck_quote_report_data(out) : NULL;
}

/* The CCC payload: tag 60000 [bstr quote, bstr claims]. */
int ck_ratls_parse_payload(const uint8_t *v, size_t n, const uint8_t **q, size_t *qn,
			   const uint8_t **c, size_t *cn)
{
	struct ck_cbor_reader r;
	int m;
	uint64_t a;
	ck_cbor_init(&r, v, n);
	if (ck_cbor_head(&r, &m, &a) < 0 || m != CK_CBOR_TAG || a != CCC_TAG ||
	    ck_cbor_head(&r, &m, &a) < 0 || m != CK_CBOR_ARRAY || a != 2 ||
	    ck_cbor_string(&r, CK_CBOR_BYTES, q, qn) < 0 ||
	    ck_cbor_string(&r, CK_CBOR_BYTES, c, cn) < 0 || !ck_cbor_done(&r))
		return -1;
	return 0;
}

int ck_ratls_inspect(X509 *cert, struct ck_ratls_info *out, struct ck_err *err)
{
	uint8_t *spki = NULL;
	size_t spki_len;
	uint8_t point[65];
	size_t point_len = 0;
	memset(out, 0, sizeof(*out));
	EVP_PKEY *key = X509_get0_pubkey(cert);
	if (!key || ck_spki_der(key, &spki, &spki_len) < 0)
		return ck_errf(err, CK_E_CERT_FORMAT, "certificate: unreadable public key");
	ck_hash(CK_HASH_SHA256, spki, spki_len, out->spki_sha256);
	if (EVP_PKEY_is_a(key, "EC"))
		EVP_PKEY_get_octet_string_param(key, "encoded-pub-key", point, sizeof(point),
						&point_len);
	int ret = -1;
	bool any_defined = false, all_bound = true;
	for (int i = 0; i < X509_get_ext_count(cert); i++) {
		X509_EXTENSION *e = X509_get_ext(cert, i);
		const ASN1_OBJECT *o = X509_EXTENSION_get_object(e);
		const uint8_t *od = OBJ_get0_data(o);
		size_t on = (size_t)OBJ_length(o);
		const ASN1_OCTET_STRING *d = X509_EXTENSION_get_data(e);
		const uint8_t *v = ASN1_STRING_get0_data(d);
		size_t vn = (size_t)ASN1_STRING_length(d);
		struct ck_ratls_ext x = {0};
#define IS(oid) (on == sizeof(oid) && !memcmp(od, oid, sizeof(oid)))
		if (IS(OID_STANDARD))
			x.kind = CK_RATLS_STANDARD;
		else if (IS(OID_GRAMINE))
			x.kind = CK_RATLS_GRAMINE_LEGACY;
		else if (IS(OID_LEGACY))
			x.kind = CK_RATLS_LEGACY;
		else if (IS(OID_OE))
			x.kind = CK_RATLS_OE;
		else if (IS(OID_INTEL_SDK) && vn >= 4 && v[0] >= 3 && v[0] <= 5 && v[1] == 0)
			x.kind = CK_RATLS_INTEL_SDK; /* a raw quote, not a PCK SGX extension */
		else
			continue;
#undef IS
		for (size_t k = 0; k < out->n_ext; k++)
			if (out->ext[k].kind == x.kind) {
				ck_errf(err, CK_E_RATLS_FORMAT,
					"certificate: extension %s appears twice",
					ck_ratls_kind_name(x.kind));
				goto out;
			}
		if (out->n_ext == CK_RATLS_MAX_EXT)
			continue;
		struct ck_quote q;
		const uint8_t *rd;
		x.quote = v;
		x.quote_len = vn;
		if (x.kind == CK_RATLS_STANDARD) {
			if (ck_ratls_parse_payload(v, vn, &x.quote, &x.quote_len, &out->claims_cbor,
						   &out->claims_len) < 0) {
				ck_errf(
				    err, CK_E_RATLS_FORMAT,
				    "certificate: extension 2.23.133.5.4.9 is not CBOR tag 60000 "
				    "[quote, claims]");
				goto out;
			}
			if (ck_claims_parse(out->claims_cbor, out->claims_len, &out->claims, err) <
			    0)
				goto out;
			out->has_claims = true;
		} else if (x.kind == CK_RATLS_OE) {
			if (vn < OE_HEADER_LEN) {
				ck_errf(err, CK_E_RATLS_FORMAT, "certificate: OE report too short");
				goto out;
			}
			x.quote += OE_HEADER_LEN;
			x.quote_len -= OE_HEADER_LEN;
		}
		if (!(rd = report_data(x.quote, x.quote_len, &q))) {
			ck_errf(err, CK_E_RATLS_FORMAT,
				"certificate: extension %s holds no valid quote",
				ck_ratls_kind_name(x.kind));
			goto out;
		}
		switch (x.kind) {
		case CK_RATLS_STANDARD: {
			uint8_t h[64];
			out->claims_bound = sha256_eq(out->claims_cbor, out->claims_len, rd);
			x.binding_defined = true;
			x.bound =
			    out->claims_bound && out->claims.has_pubkey_hash &&
			    ck_hash(out->claims.hash_alg, spki, spki_len, h) ==
				out->claims.pubkey_hash_len &&
			    ck_ct_equal(h, out->claims.pubkey_hash, out->claims.pubkey_hash_len);
			x.binding =
			    "claims pubkey-hash over the SPKI; report data = SHA-256(claims)";
			break;
		}
		case CK_RATLS_GRAMINE_LEGACY:
		case CK_RATLS_LEGACY:
			x.binding_defined = true;
			if (sha256_eq(spki, spki_len, rd)) {
				x.bound = true;
				x.binding = "report data = SHA-256(SPKI)";
			} else if (point_len == 65 && sha256_eq(point, 65, rd)) {
				x.bound = true;
				x.binding = "report data = SHA-256(EC point) (Cosmian MSE)";
			}
			break;
		case CK_RATLS_OE: {
			x.binding_defined = true;
			BIO *b = BIO_new(BIO_s_mem());
			char *pem;
			long pn;
			if (sha256_eq(spki, spki_len, rd)) {
				x.bound = true;
				x.binding = "report data = SHA-256(SPKI)";
			} else if (b && PEM_write_bio_PUBKEY(b, key) && BIO_write(b, "", 1) == 1 &&
				   (pn = BIO_get_mem_data(b, &pem)) > 0 &&
				   sha256_eq((uint8_t *)pem, (size_t)pn, rd)) {
				x.bound = true;
				x.binding = "report data = SHA-256(PEM SPKI, NUL)";
			}
			BIO_free(b);
			break;
		}
		case CK_RATLS_INTEL_SDK:
			x.binding_defined = false;
			break;
		}
		if (x.binding_defined) {
			any_defined = true;
			all_bound = all_bound && x.bound;
		}
		out->ext[out->n_ext++] = x;
	}
	out->key_bound = any_defined && all_bound;
	ret = 0;
out:
	free(spki);
	return ret;
}

const struct ck_ratls_ext *ck_ratls_primary(const struct ck_ratls_info *info)
{
	for (size_t i = 0; i < info->n_ext; i++)
		if (info->ext[i].kind == CK_RATLS_STANDARD)
			return &info->ext[i];
	for (size_t i = 0; i < info->n_ext; i++)
		if (info->ext[i].binding_defined)
			return &info->ext[i];
	return info->n_ext ? &info->ext[0] : NULL;
}

int ck_ratls_evidence(struct ck_attester *att, const uint8_t *spki, size_t spki_len,
		      const struct ck_claims *tmpl, const uint8_t *nonce, size_t nonce_len,
		      uint8_t **quote, size_t *quote_len, uint8_t **claims, size_t *claims_len,
		      struct ck_err *err)
{
	struct ck_claims c = *tmpl;
	uint8_t rd[64] = {0};
	*quote = *claims = NULL;
	if (nonce_len > CK_NONCE_MAX)
		return ck_errf(err, CK_E_USAGE, "nonce of %zu bytes is over %d", nonce_len,
			       CK_NONCE_MAX);
	if (spki) {
		c.has_pubkey_hash = true;
		c.hash_alg = CK_HASH_SHA256;
		c.pubkey_hash_len = ck_hash(CK_HASH_SHA256, spki, spki_len, c.pubkey_hash);
	}
	if (nonce_len) {
		c.has_nonce = true;
		memcpy(c.nonce, nonce, nonce_len);
		c.nonce_len = nonce_len;
	}
	if (ck_claims_encode(&c, claims, claims_len, err) < 0)
		return -1;
	ck_hash(CK_HASH_SHA256, *claims, *claims_len, rd);
	if (att->quote(att, rd, quote, quote_len, err) < 0) {
		free(*claims);
		*claims = NULL;
		return -1;
	}
	return 0;
}

int ck_ratls_issue(struct ck_attester *att, const struct ck_ratls_cert_opts *o, EVP_PKEY **key_out,
		   X509 **cert_out, struct ck_err *err)
{
	EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *nm = X509_NAME_new();
	uint8_t *spki = NULL, *q = NULL, *claims = NULL, *q2 = NULL;
	size_t spki_len, qn, cn, q2n;
	struct ck_cbor_writer w = {0};
	int ret = -1;
	*key_out = NULL;
	*cert_out = NULL;
	if (!key || !x || !nm || ck_spki_der(key, &spki, &spki_len) < 0) {
		ck_errf(err, CK_E_NOMEM, "RA-TLS key generation failed");
		goto out;
	}
	/* the standard extension: tag 60000 [quote, claims] */
	if (ck_ratls_evidence(att, spki, spki_len, &o->claims, NULL, 0, &q, &qn, &claims, &cn,
			      err) < 0)
		goto out;
	ck_cbor_put_head(&w, CK_CBOR_TAG, CCC_TAG);
	ck_cbor_put_head(&w, CK_CBOR_ARRAY, 2);
	ck_cbor_put_string(&w, CK_CBOR_BYTES, q, qn);
	ck_cbor_put_string(&w, CK_CBOR_BYTES, claims, cn);
	uint8_t serial[16];
	char san[1024] = "";
	if (w.failed || RAND_bytes(serial, sizeof(serial)) != 1) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	serial[0] &= 0x7f;
	BIGNUM *bn = BN_bin2bn(serial, sizeof(serial), NULL);
	const char *cnm = o->common_name ? o->common_name : "cloak-enclave";
	time_t now = (time_t)ck_time_now();
	int ok =
	    bn && BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) &&
	    X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cnm, -1, -1,
				       0) &&
	    X509_NAME_add_entry_by_txt(
		nm, "O", MBSTRING_ASC,
		(const unsigned char *)(att->simulated ? "cloak (" CK_SIM_MARKER ")" : "cloak"), -1,
		-1, 0) &&
	    X509_set_subject_name(x, nm) && X509_set_issuer_name(x, nm) &&
	    ASN1_TIME_set(X509_getm_notBefore(x), now - 3600) &&
	    ASN1_TIME_set(X509_getm_notAfter(x),
			  now + (time_t)(o->valid_days > 0 ? o->valid_days : 30) * 86400) &&
	    X509_set_pubkey(x, key);
	BN_free(bn);
	for (const char *const *d = o->dns; ok && d && *d; d++)
		snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sDNS:%s", *san ? "," : "",
			 *d);
	for (const char *const *d = o->ips; ok && d && *d; d++)
		snprintf(san + strlen(san), sizeof(san) - strlen(san), "%sIP:%s", *san ? "," : "",
			 *d);
	if (ok && *san)
		ok = ck_x509_add_conf_ext(x, x, NID_subject_alt_name, san) == 0;
	ok = ok && ck_x509_add_raw_ext(x, CK_RATLS_OID_STANDARD, w.buf, w.len) == 0;
	if (ok && o->legacy_extension) {
		uint8_t rd[64] = {0};
		ck_hash(CK_HASH_SHA256, spki, spki_len, rd);
		if (att->quote(att, rd, &q2, &q2n, err) < 0)
			goto out;
		ok = ck_x509_add_raw_ext(x, CK_RATLS_OID_LEGACY, q2, q2n) == 0;
	}
	if (!ok || X509_sign(x, key, EVP_sha256()) <= 0) {
		ck_errf(err, CK_E_NOMEM, "RA-TLS certificate issuance failed");
		goto out;
	}
	*key_out = key;
	*cert_out = x;
	key = NULL;
	x = NULL;
	ret = 0;
out:
	free(spki);
	free(q);
	free(q2);
	free(claims);
	free(w.buf);
	X509_NAME_free(nm);
	X509_free(x);
	EVP_PKEY_free(key);
	return ret;
}

static void add_err(struct ck_evidence_result *r, const char *code, const char *msg,
		    const char *arg)
{
	if (r->n_errs < CK_EVIDENCE_MAX_ERRORS)
		ck_errf(&r->errs[r->n_errs++], code, "%s%s", msg, arg ? arg : "");
}

/* The claims answer the verifier's nonce: they carry it, or the root of a batch that the
 * verifier's proof shows holds it. */
static bool nonce_answered(const struct ck_claims *c, const struct ck_expect *x)
{
	uint8_t leaf[32];
	if (c->has_nonce)
		return c->nonce_len == x->nonce_len &&
		       ck_ct_equal(c->nonce, x->nonce, x->nonce_len);
	if (!c->has_nonce_root || !x->nonce_proof)
		return false;
	ck_merkle_leaf(x->nonce, x->nonce_len, leaf);
	return ck_merkle_verify(leaf, x->nonce_proof, c->nonce_root);
}

int ck_evidence_verify(const uint8_t *quote, size_t quote_len, const uint8_t *claims,
		       size_t claims_len, const uint8_t *spki, size_t spki_len,
		       struct ck_verified_collateral *vc, const struct ck_appraise_opts *o,
		       const struct ck_policy *p, const struct ck_expect *x,
		       struct ck_evidence_result *r)
{
	struct ck_quote q;
	memset(r, 0, sizeof(*r));
	if (ck_quote_parse(quote, quote_len, &q, &r->a.error) < 0) {
		r->appraise_ret = -1;
		r->errs[r->n_errs++] = r->a.error;
		return -1;
	}
	r->appraise_ret = ck_appraise(&q, vc, o, &r->a);
	if (r->appraise_ret < 0) {
		r->errs[r->n_errs++] = r->a.error;
	} else {
		size_t n = ck_policy_check(p, &r->a, r->errs + r->n_errs, CK_POLICY_MAX_VIOLATIONS);
		r->n_errs += n < CK_POLICY_MAX_VIOLATIONS ? n : CK_POLICY_MAX_VIOLATIONS;
	}
	/* the claims are the quote's */
	const uint8_t *rd = ck_quote_report_data(&q);
	if (!claims) {
		add_err(r, CK_E_CLAIMS_BINDING, "the evidence carries no claims", NULL);
	} else {
		struct ck_err e;
		if (ck_claims_parse(claims, claims_len, &r->claims, &e) < 0) {
			r->errs[r->n_errs++] = e;
		} else {
			r->have_claims = true;
			r->claims_bound = sha256_eq(claims, claims_len, rd);
			if (!r->claims_bound)
				add_err(r, CK_E_CLAIMS_BINDING,
					"the quote's report data is not SHA-256 of the claims",
					NULL);
		}
	}
	/* the TLS key is the one the claims name */
	if (spki && r->have_claims) {
		uint8_t h[64];
		const struct ck_claims *c = &r->claims;
		r->key_bound = c->has_pubkey_hash &&
			       ck_hash(c->hash_alg, spki, spki_len, h) == c->pubkey_hash_len &&
			       ck_ct_equal(h, c->pubkey_hash, c->pubkey_hash_len);
		if (!r->key_bound)
			add_err(
			    r, CK_E_KEY_BINDING,
			    "the evidence does not bind the TLS key in use (pubkey-hash differs)",
			    NULL);
	}
	if (r->have_claims && x) {
		const struct ck_claims *c = &r->claims;
		char h[65];
		if (x->has_app && !(c->has_app && ck_ct_equal(c->app, x->app, 32))) {
			ck_hex_encode(c->app, 32, h);
			add_err(r, CK_E_EXPECT, "wrong app fingerprint: the enclave runs ",
				c->has_app ? h : "no app");
		}
		if (x->has_manifest &&
		    !(c->has_manifest && ck_ct_equal(c->manifest, x->manifest, 32)))
			add_err(r, CK_E_EXPECT, "the manifest hash is not the expected one", NULL);
		if (x->has_package && !(c->has_package && ck_ct_equal(c->package, x->package, 32)))
			add_err(r, CK_E_EXPECT, "the package hash is not the expected one", NULL);
		if (x->phase && c->phase != x->phase)
			add_err(r, CK_E_EXPECT, "unexpected phase: ",
				c->phase ? ck_phase_name(c->phase) : "absent");
		if (x->mode && c->mode != x->mode)
			add_err(r, CK_E_EXPECT,
				"unexpected mode: ", c->mode ? ck_mode_name(c->mode) : "absent");
		if (x->nonce && !nonce_answered(c, x))
			add_err(r, CK_E_NONCE, "the fresh quote does not carry our nonce", NULL);
	}
	r->accepted = r->n_errs == 0;
	return r->accepted ? 0 : -1;
}

/* Drops the errors with `code` from r. */
static void drop_errs(struct ck_evidence_result *r, const char *code)
{
	size_t k = 0;
	for (size_t i = 0; i < r->n_errs; i++)
		if (!ck_err_is(&r->errs[i], code))
			r->errs[k++] = r->errs[i];
	r->n_errs = k;
}

int ck_ratls_verify_cert(X509 *cert, const struct ck_ratls_info *info, bool bound_elsewhere,
			 struct ck_verified_collateral *vc, const struct ck_appraise_opts *o,
			 const struct ck_policy *p, const struct ck_expect *x,
			 struct ck_evidence_result *r)
{
	const struct ck_ratls_ext *pe = ck_ratls_primary(info);
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	memset(r, 0, sizeof(*r));
	if (!pe) {
		add_err(r, CK_E_RATLS_NONE, "the certificate carries no attestation evidence",
			NULL);
		return -1;
	}
	if (ck_spki_der(X509_get0_pubkey(cert), &spki, &spki_len) < 0) {
		add_err(r, CK_E_CERT_FORMAT, "the certificate's public key is unreadable", NULL);
		return -1;
	}
	ck_evidence_verify(pe->quote, pe->quote_len, info->claims_cbor, info->claims_len,
			   bound_elsewhere ? NULL : spki, spki_len, vc, o, p, x, r);
	free(spki);
	if (!info->has_claims) {
		/* a legacy certificate: its extension's own binding is what binds the key */
		drop_errs(r, CK_E_CLAIMS_BINDING);
	}
	if (!bound_elsewhere) {
		/* the one rule, as ck_ratls_inspect computes it: every extension that defines a
		 * binding binds this key, and one does */
		drop_errs(r, CK_E_KEY_BINDING);
		r->key_bound = info->key_bound;
		if (!info->key_bound)
			add_err(r, CK_E_KEY_BINDING,
				"an evidence extension of the certificate does not bind its key",
				NULL);
	}
	struct ck_err e;
	if (ck_ratls_check_self_signed(cert, &e) < 0 && r->n_errs < CK_EVIDENCE_MAX_ERRORS)
		r->errs[r->n_errs++] = e;
	r->accepted = r->n_errs == 0;
	return r->accepted ? 0 : -1;
}

int ck_ratls_check_self_signed(X509 *cert, struct ck_err *err)
{
	EVP_PKEY *key = X509_get0_pubkey(cert);
	if (key && X509_verify(cert, key) == 1)
		return 0;
	ERR_clear_error();
	return ck_errf(err, CK_E_CERT_SIGNATURE,
		       "the certificate's self-signature does not verify (changed after it was "
		       "issued)");
}

int ck_ratls_cert_from_der(const uint8_t *der, size_t n, X509 **out, struct ck_err *err)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	X509 *x = n <= CK_RATLS_MAX_CERT ? d2i_X509(NULL, &p, (long)n) : NULL;
	int rn = x ? i2d_X509(x, &re) : -1;
	bool strict = x && p == der + n && rn == (int)n && memcmp(re, der, n) == 0;
	OPENSSL_free(re);
	if (!strict) {
		ERR_clear_error();
		X509_free(x);
		return ck_errf(err, CK_E_CERT_FORMAT,
			       x ? "the certificate is not in DER (BER, or bytes after it)"
				 : "not an X.509 certificate (or over %d bytes)",
			       CK_RATLS_MAX_CERT);
	}
	*out = x;
	return 0;
}
