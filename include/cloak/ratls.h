/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ratls.h - attested TLS certificates (DESIGN §5) and the checks that bind evidence to a key.
 *
 * Issuing: a fresh ECDSA P-256 key; claims whose pubkey-hash is SHA-256 of its
 * SubjectPublicKeyInfo; a quote with report_data = SHA-256(claims) ‖ 0³², in extension
 * 2.23.133.5.4.9 as CBOR tag 60000 [quote, claims] (CCC interoperable RA-TLS); for SGX also a
 * second quote with report_data = SHA-256(SPKI) ‖ 0³² in the legacy 1.2.840.113741.1337.6.
 * Both non-critical, in a self-signed certificate.
 *
 * Reading (any producer): 2.23.133.5.4.9; Gramine's mis-encoded 0.6.9.42.840.113741.1337.6;
 * 1.2.840.113741.1337.6; Open Enclave / EGo 1.3.6.1.4.1.311.105.1 (16-byte OE header); and
 * the raw quote the Intel SGX SDK puts in 1.2.840.113741.1.13.1 (whose binding is undefined).
 * Bindings: standard = pubkey-hash over the SPKI with SHA-256/384/512, and report data =
 * SHA-256(claims); legacy = report data = SHA-256(SPKI DER), or (Cosmian MSE) SHA-256 of the
 * 65-byte uncompressed EC point; OE = SHA-256(SPKI DER) or SHA-256(PEM SPKI ‖ NUL).
 */
#ifndef CLOAK_RATLS_H
#define CLOAK_RATLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "cloak/appraise.h"
#include "cloak/attest.h"
#include "cloak/claims.h"
#include "cloak/err.h"
#include "cloak/merkle.h"
#include "cloak/policy.h"

#define CK_RATLS_MAX_EXT  5
#define CK_RATLS_MAX_CERT (256 * 1024) /* DER bytes of one RA-TLS certificate */
/* The two extensions cloak writes, as dotted OIDs */
#define CK_RATLS_OID_STANDARD "2.23.133.5.4.9"
#define CK_RATLS_OID_LEGACY   "1.2.840.113741.1337.6"

enum ck_ratls_kind {
	CK_RATLS_STANDARD = 1,	 /* 2.23.133.5.4.9 */
	CK_RATLS_GRAMINE_LEGACY, /* 0.6.9.42.840.113741.1337.6 */
	CK_RATLS_LEGACY,	 /* 1.2.840.113741.1337.6 */
	CK_RATLS_OE,		 /* 1.3.6.1.4.1.311.105.1 */
	CK_RATLS_INTEL_SDK,	 /* 1.2.840.113741.1.13.1 holding a raw quote */
};
/* The extension's OID and who writes it, for reports. */
const char *ck_ratls_kind_name(enum ck_ratls_kind k);

struct ck_ratls_ext {
	enum ck_ratls_kind kind;
	const uint8_t *quote; /* points into the certificate */
	size_t quote_len;
	bool binding_defined;
	bool bound;	     /* the quote binds the certificate's key */
	const char *binding; /* how, when bound */
};

struct ck_ratls_info {
	struct ck_ratls_ext ext[CK_RATLS_MAX_EXT];
	size_t n_ext;
	const uint8_t *claims_cbor; /* standard extension only */
	size_t claims_len;
	struct ck_claims claims;
	bool has_claims;
	bool claims_bound; /* report data = SHA-256(claims) */
	bool key_bound;	   /* every extension that defines a binding binds the key, and one does */
	uint8_t spki_sha256[32];
};

/* Reads the evidence extensions of `cert` (which must outlive `out`). Fails only on a
 * malformed extension; a certificate without evidence gives n_ext == 0. */
int ck_ratls_inspect(X509 *cert, struct ck_ratls_info *out, struct ck_err *err);
/* The payload of 2.23.133.5.4.9: CBOR tag 60000 [bstr quote, bstr claims], nothing after. */
int ck_ratls_parse_payload(const uint8_t *v, size_t n, const uint8_t **quote, size_t *quote_len,
			   const uint8_t **claims, size_t *claims_len);

/* The quote to appraise: the standard extension's, else the first legacy one; NULL if none. */
const struct ck_ratls_ext *ck_ratls_primary(const struct ck_ratls_info *info);

/* DER SubjectPublicKeyInfo of a key (malloc'ed). */
int ck_spki_der(EVP_PKEY *key, uint8_t **der, size_t *len);

/* Evidence for a key: claims (the template plus pubkey-hash of `spki`, and `nonce` if given)
 * and a quote whose report data is SHA-256(claims). Both malloc'ed. */
int ck_ratls_evidence(struct ck_attester *att, const uint8_t *spki, size_t spki_len,
		      const struct ck_claims *tmpl, const uint8_t *nonce, size_t nonce_len,
		      uint8_t **quote, size_t *quote_len, uint8_t **claims, size_t *claims_len,
		      struct ck_err *err);

struct ck_ratls_cert_opts {
	const char *common_name; /* e.g. "localhost" */
	const char *const *dns;	 /* subjectAltName DNS names, NULL-terminated (may be NULL) */
	const char *const *ips;	 /* subjectAltName IP addresses */
	int valid_days;
	bool legacy_extension;	 /* also 1.2.840.113741.1337.6 (SGX) */
	struct ck_claims claims; /* phase, package, manifest, app, mode, seal key */
};
/* A fresh P-256 key and its self-signed RA-TLS certificate. */
int ck_ratls_issue(struct ck_attester *att, const struct ck_ratls_cert_opts *o, EVP_PKEY **key,
		   X509 **cert, struct ck_err *err);

/* What a verifier expects of the claims; zero fields are not checked. */
struct ck_expect {
	bool has_app;
	uint8_t app[32];
	bool has_manifest;
	uint8_t manifest[32];
	bool has_package;
	uint8_t package[32];
	enum ck_phase phase;
	enum ck_mode mode;
	const uint8_t *nonce;
	size_t nonce_len;
	/* with nonce: the proof that it is in the batch whose root the claims carry, when the
	 * quote answered many nonces at once (a bundle's nonce_proof); NULL: none */
	const struct ck_merkle_proof *nonce_proof;
};

#define CK_EVIDENCE_MAX_ERRORS (1 + CK_POLICY_MAX_VIOLATIONS + 4)

struct ck_evidence_result {
	struct ck_appraisal a;
	int appraise_ret;
	bool have_claims;
	struct ck_claims claims;
	bool claims_bound; /* report data = SHA-256(claims) */
	bool key_bound;	   /* claims pubkey-hash = H(the TLS key's SPKI) */
	bool accepted;
	struct ck_err errs[CK_EVIDENCE_MAX_ERRORS];
	size_t n_errs;
};

/* Appraises `quote` with `vc` under the policy, checks report data = SHA-256(claims), the key
 * binding to `spki` (when not NULL) and the expectations. Every failed check is listed. */
int ck_evidence_verify(const uint8_t *quote, size_t quote_len, const uint8_t *claims,
		       size_t claims_len, const uint8_t *spki, size_t spki_len,
		       struct ck_verified_collateral *vc, const struct ck_appraise_opts *o,
		       const struct ck_policy *p, const struct ck_expect *x,
		       struct ck_evidence_result *r);

/*
 * The one decision on a certificate's own evidence, for every verifier (the TLS hook, cloak
 * verify, cloak inspect's key_bound): its primary quote appraised (ck_evidence_verify), the
 * key bound by the one rule of ck_ratls_inspect (info->key_bound: every extension that defines
 * a binding binds this key, and one does; for a legacy certificate without claims that binding
 * stands for the claims'), and its self-signature verified. `bound_elsewhere`: the evidence
 * binds no TLS key (operator TLS, behind the operator): no key check. Every failure is listed
 * in r; 0 when accepted.
 */
int ck_ratls_verify_cert(X509 *cert, const struct ck_ratls_info *info, bool bound_elsewhere,
			 struct ck_verified_collateral *vc, const struct ck_appraise_opts *o,
			 const struct ck_policy *p, const struct ck_expect *x,
			 struct ck_evidence_result *r);

/* An RA-TLS certificate is self-signed: its signature must verify under its own key (a
 * certificate whose validity or name was changed after issuing is refused). */
int ck_ratls_check_self_signed(X509 *cert, struct ck_err *err);

/* A certificate from its bytes, in DER only: exactly one certificate, nothing after it, and
 * encoded as DER re-encodes it (no BER: indefinite lengths, long-form short lengths). */
int ck_ratls_cert_from_der(const uint8_t *der, size_t n, X509 **out, struct ck_err *err);

#endif
