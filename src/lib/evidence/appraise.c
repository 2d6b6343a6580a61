/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP appraisal (see appraise.h). Step numbers in comments are QVL's (attestation-formats.md
 * §B.2). Every check returns a distinct CK_E_* code and names the item that failed.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <openssl/x509v3.h>

#include "cloak/appraise.h"
#include "cloak/codec.h"
#include "evidence/x509util.h"

const uint8_t CK_INTEL_SGX_ROOT_KEY[65] = {
	0x04, 0x0b, 0xa9, 0xc4, 0xc0, 0xc0, 0xc8, 0x61, 0x93, 0xa3, 0xfe, 0x23, 0xd6,
	0xb0, 0x2c, 0xda, 0x10, 0xa8, 0xbb, 0xd4, 0xe8, 0x8e, 0x48, 0xb4, 0x45, 0x85,
	0x61, 0xa3, 0x6e, 0x70, 0x55, 0x25, 0xf5, 0x67, 0x91, 0x8e, 0x2e, 0xdc, 0x88,
	0xe4, 0x0d, 0x86, 0x0b, 0xd0, 0xcc, 0x4e, 0xe2, 0x6a, 0xac, 0xc9, 0x88, 0xe5,
	0x05, 0xa9, 0x53, 0x55, 0x8c, 0x45, 0x3f, 0x6b, 0x09, 0x04, 0xae, 0x73, 0x94};

static const uint8_t PCK_EXT_OID[] = {0x2a, 0x86, 0x48, 0x86, 0xf8, 0x4d, 0x01, 0x0d, 0x01};

#define MAX_WINDOWS 16

/* One item with a validity period. */
struct window {
	const char *what;
	ck_time_t from, until;
	bool collateral; /* CRL / TCB Info / QE Identity: may be relaxed by policy */
};

struct ck_verified_collateral {
	bool simulated;
	X509 *root; /* the trust anchor's certificate, from the TCB Info chain */
	uint8_t root_point[CK_P256_POINT_LEN];
	X509_CRL *root_crl, *pck_crl;
	X509 *pck_ca; /* PCK CRL issuer: from the collateral, or the first quote's chain */
	X509 *tcb_signer, *qe_signer;
	struct ck_tcb_info tcb;
	struct ck_qe_identity qe;
	struct window win[MAX_WINDOWS];
	size_t n_win;
};

const struct ck_tcb_info *ck_vc_tcb_info(const struct ck_verified_collateral *vc)
{
	return &vc->tcb;
}
const struct ck_qe_identity *ck_vc_qe_identity(const struct ck_verified_collateral *vc)
{
	return &vc->qe;
}
bool ck_vc_simulated(const struct ck_verified_collateral *vc)
{
	return vc->simulated;
}

void ck_verified_collateral_free(struct ck_verified_collateral *vc)
{
	if (!vc)
		return;
	X509_free(vc->root);
	X509_CRL_free(vc->root_crl);
	X509_CRL_free(vc->pck_crl);
	X509_free(vc->pck_ca);
	X509_free(vc->tcb_signer);
	X509_free(vc->qe_signer);
	ck_tcb_info_free(&vc->tcb);
	ck_qe_identity_free(&vc->qe);
	free(vc);
}

static void add_window(struct window *w, size_t *n, const char *what, ck_time_t from,
		       ck_time_t until, bool collateral)
{
	if (*n < MAX_WINDOWS)
		w[(*n)++] = (struct window){what, from, until, collateral};
}

/* Certificate role checks (QVL X509Constants: CN substrings, CA flag). */
static int check_role(X509 *c, const char *what, const char *cn1, const char *cn2, bool ca,
		      struct ck_err *err)
{
	char cn[128];
	const X509_NAME *subj = X509_get_subject_name(c);
	ck_x509_cn(subj, cn, sizeof(cn));
	if (!strstr(cn, cn1) && !(cn2 && strstr(cn, cn2)))
		return ck_errf(err, CK_E_CERT_FORMAT, "%s: subject CN '%s' does not name a %s", what,
			       cn, cn1);
	int is_ca = X509_check_ca(c) != 0;
	if (is_ca != ca)
		return ck_errf(err, CK_E_CERT_FORMAT, "%s '%s': %s", what, cn,
			       ca ? "is not a CA certificate" : "is a CA used as an end entity");
	uint8_t pt[CK_P256_POINT_LEN];
	if (ck_p256_point(X509_get0_pubkey(c), pt) < 0)
		return ck_errf(err, CK_E_CERT_FORMAT, "%s '%s': key is not ECDSA P-256", what, cn);
	return 0;
}

/* Checks that `issuer` signed `c` and that `crl` (issued by `issuer`) does not list it. */
static int check_issued(X509 *c, X509 *issuer, X509_CRL *crl, const char *what,
			const char *revoked_code, struct ck_err *err)
{
	char cn[128];
	if (X509_NAME_cmp(X509_get_issuer_name(c), X509_get_subject_name(issuer)) != 0)
		return ck_errf(err, CK_E_CERT_SIGNATURE, "%s '%s' is not issued by '%s'", what,
			       ck_x509_cn(X509_get_subject_name(c), cn, sizeof(cn)),
			       ck_x509_cn(X509_get_subject_name(issuer), (char[128]){0}, 128));
	if (!ck_x509_verify(c, X509_get0_pubkey(issuer)))
		return ck_errf(err, CK_E_CERT_SIGNATURE, "%s '%s': signature by '%s' is invalid",
			       what, ck_x509_cn(X509_get_subject_name(c), cn, sizeof(cn)),
			       ck_x509_cn(X509_get_subject_name(issuer), (char[128]){0}, 128));
	if (crl) {
		X509_REVOKED *rev = NULL;
		if (X509_CRL_get0_by_serial(crl, &rev, X509_get0_serialNumber(c)) == 1) {
			char hex[80] = "?";
			const ASN1_INTEGER *sn = X509_get0_serialNumber(c);
			if (sn->length <= 32)
				ck_hex_encode(sn->data, (size_t)sn->length, hex);
			return ck_errf(err, revoked_code, "%s '%s' (serial %s) is revoked", what,
				       ck_x509_cn(X509_get_subject_name(c), cn, sizeof(cn)), hex);
		}
	}
	return 0;
}

static int cert_window(X509 *c, const char *what, struct window *w, size_t *n,
		       struct ck_err *err)
{
	ck_time_t a, b;
	if (ck_x509_times(c, &a, &b) < 0)
		return ck_errf(err, CK_E_CERT_FORMAT, "%s: unreadable validity dates", what);
	add_window(w, n, what, a, b, false);
	return 0;
}

static int parse_crl(const uint8_t *der, size_t len, const char *what, X509_CRL **out,
		     struct ck_err *err)
{
	const unsigned char *p = der;
	*out = d2i_X509_CRL(NULL, &p, (long)len);
	if (!*out || p != der + len) {
		X509_CRL_free(*out);
		*out = NULL;
		return ck_errf(err, CK_E_CRL_FORMAT, "%s: not a DER CRL (or trailing bytes)", what);
	}
	return 0;
}

/* Classifies a root: pinned Intel key, or (if allowed) a simulation root. */
static int check_anchor(X509 *root, bool allow_sim, bool *simulated, uint8_t point[65],
			struct ck_err *err)
{
	char cn[128];
	ck_x509_cn(X509_get_subject_name(root), cn, sizeof(cn));
	if (ck_p256_point(X509_get0_pubkey(root), point) < 0)
		return ck_errf(err, CK_E_ROOT_UNTRUSTED, "root CA '%s': key is not P-256", cn);
	if (ck_ct_equal(point, CK_INTEL_SGX_ROOT_KEY, sizeof(CK_INTEL_SGX_ROOT_KEY))) {
		*simulated = false;
		return 0;
	}
	bool sim = ck_x509_name_contains(X509_get_subject_name(root), CK_SIM_MARKER) &&
		   X509_NAME_cmp(X509_get_subject_name(root), X509_get_issuer_name(root)) == 0 &&
		   ck_x509_verify(root, X509_get0_pubkey(root));
	if (!sim)
		return ck_errf(err, CK_E_ROOT_UNTRUSTED,
			       "root CA '%s' is not the pinned Intel SGX Root CA", cn);
	if (!allow_sim)
		return ck_errf(err, CK_E_SIM_NOT_ALLOWED,
			       "root CA '%s' is a simulation root (" CK_SIM_MARKER
			       "); pass --allow-simulation to accept simulated evidence",
			       cn);
	*simulated = true;
	return 0;
}

/* Parses a two-certificate issuer chain [signer, root] whose root must be the anchor. */
static int issuer_chain(const char *pem, const char *what, X509 **signer, X509 **root_out,
			struct ck_err *err)
{
	X509 *c[CK_CHAIN_MAX_CERTS];
	size_t n;
	if (ck_pem_chain_parse(pem, strlen(pem), c, 2, 2, &n, what, CK_E_COLLATERAL, err) < 0)
		return -1;
	*signer = c[0];
	*root_out = c[1];
	return 0;
}

static int same_root(X509 *a, const uint8_t anchor[65], const char *what, struct ck_err *err)
{
	uint8_t pt[CK_P256_POINT_LEN];
	char cn[128];
	if (ck_p256_point(X509_get0_pubkey(a), pt) < 0 || !ck_ct_equal(pt, anchor, 65))
		return ck_errf(err, CK_E_CHAIN_MISMATCH,
			       "%s ends in root '%s', not the root of the TCB Info chain", what,
			       ck_x509_cn(X509_get_subject_name(a), cn, sizeof(cn)));
	return 0;
}

/* A TCB-signing certificate: issued by the root, not revoked, named "SGX TCB Signing". */
static int check_signer(X509 *signer, struct ck_verified_collateral *vc, const char *what,
			struct ck_err *err)
{
	if (check_role(signer, what, "SGX TCB Signing", NULL, false, err) < 0 ||
	    check_issued(signer, vc->root, vc->root_crl, what, CK_E_CA_REVOKED, err) < 0 ||
	    cert_window(signer, what, vc->win, &vc->n_win, err) < 0)
		return -1;
	return 0;
}

static int check_pck_crl(struct ck_verified_collateral *vc, X509 *pck_ca, struct ck_err *err)
{
	char a[128], b[128];
	if (X509_NAME_cmp(X509_CRL_get_issuer(vc->pck_crl), X509_get_subject_name(pck_ca)) != 0)
		return ck_errf(err, CK_E_CRL_ISSUER, "PCK CRL is issued by '%s', not by '%s'",
			       ck_x509_cn(X509_CRL_get_issuer(vc->pck_crl), a, sizeof(a)),
			       ck_x509_cn(X509_get_subject_name(pck_ca), b, sizeof(b)));
	if (!ck_crl_verify(vc->pck_crl, X509_get0_pubkey(pck_ca)))
		return ck_errf(err, CK_E_CRL_SIGNATURE, "PCK CRL: signature by '%s' is invalid",
			       ck_x509_cn(X509_get_subject_name(pck_ca), b, sizeof(b)));
	return 0;
}

int ck_collateral_verify(const struct ck_collateral *c, bool allow_simulation,
			 struct ck_verified_collateral **out, struct ck_err *err)
{
	struct ck_verified_collateral *vc = calloc(1, sizeof(*vc));
	X509 *qe_root = NULL, *pck_root = NULL;
	ck_time_t a, b;
	*out = NULL;
	if (!vc)
		return ck_errf(err, CK_E_NOMEM, "out of memory");

	/* Trust anchor: the root of the TCB Info chain. */
	if (issuer_chain(c->tcb_info_issuer_chain, "TCB Info issuer chain", &vc->tcb_signer,
			 &vc->root, err) < 0)
		goto fail;
	if (check_anchor(vc->root, allow_simulation, &vc->simulated, vc->root_point, err) < 0)
		goto fail;
	if (check_role(vc->root, "root CA", "SGX Root CA", NULL, true, err) < 0 ||
	    cert_window(vc->root, "root CA certificate", vc->win, &vc->n_win, err) < 0)
		goto fail;

	/* Root CRL: issued and signed by the root. */
	if (parse_crl(c->root_ca_crl, c->root_ca_crl_len, "root CA CRL", &vc->root_crl, err) < 0)
		goto fail;
	if (X509_NAME_cmp(X509_CRL_get_issuer(vc->root_crl), X509_get_subject_name(vc->root))) {
		ck_errf(err, CK_E_CRL_ISSUER, "root CA CRL is not issued by the root CA");
		goto fail;
	}
	if (!ck_crl_verify(vc->root_crl, X509_get0_pubkey(vc->root))) {
		ck_errf(err, CK_E_CRL_SIGNATURE, "root CA CRL: signature is invalid");
		goto fail;
	}
	if (ck_crl_times(vc->root_crl, &a, &b) < 0) {
		ck_errf(err, CK_E_CRL_FORMAT, "root CA CRL: no nextUpdate");
		goto fail;
	}
	add_window(vc->win, &vc->n_win, "root CA CRL", a, b, true);

	/* TCB Info: signer chain, signature over the exact text (4.1.2.4.9). */
	if (check_signer(vc->tcb_signer, vc, "TCB Info signing certificate", err) < 0)
		goto fail;
	if (!ck_ecdsa_verify_raw(X509_get0_pubkey(vc->tcb_signer), (const uint8_t *)c->tcb_info,
				 c->tcb_info_len, c->tcb_info_sig)) {
		ck_errf(err, CK_E_TCB_INFO_SIG, "TCB Info: signature is invalid");
		goto fail;
	}
	if (ck_tcb_info_parse(c->tcb_info, c->tcb_info_len, &vc->tcb, err) < 0)
		goto fail;
	add_window(vc->win, &vc->n_win, "TCB Info", vc->tcb.issue_date, vc->tcb.next_update, true);

	/* QE Identity: same checks; its signer is usually the same certificate. */
	if (issuer_chain(c->qe_identity_issuer_chain, "QE Identity issuer chain", &vc->qe_signer,
			 &qe_root, err) < 0 ||
	    same_root(qe_root, vc->root_point, "QE Identity issuer chain", err) < 0)
		goto fail;
	if (!ck_x509_same(vc->qe_signer, vc->tcb_signer) &&
	    check_signer(vc->qe_signer, vc, "QE Identity signing certificate", err) < 0)
		goto fail;
	if (!ck_ecdsa_verify_raw(X509_get0_pubkey(vc->qe_signer),
				 (const uint8_t *)c->qe_identity, c->qe_identity_len,
				 c->qe_identity_sig)) {
		ck_errf(err, CK_E_QE_ID_SIG, "QE Identity: signature is invalid");
		goto fail;
	}
	if (ck_qe_identity_parse(c->qe_identity, c->qe_identity_len, &vc->qe, err) < 0)
		goto fail;
	add_window(vc->win, &vc->n_win, "QE Identity", vc->qe.issue_date, vc->qe.next_update, true);

	/* PCK CRL and, when the collateral carries it, its issuer. */
	if (parse_crl(c->pck_crl, c->pck_crl_len, "PCK CRL", &vc->pck_crl, err) < 0)
		goto fail;
	if (ck_crl_times(vc->pck_crl, &a, &b) < 0) {
		ck_errf(err, CK_E_CRL_FORMAT, "PCK CRL: no nextUpdate");
		goto fail;
	}
	add_window(vc->win, &vc->n_win, "PCK CRL", a, b, true);
	if (c->pck_crl_issuer_chain && c->pck_crl_issuer_chain[0]) {
		X509 *ca;
		if (issuer_chain(c->pck_crl_issuer_chain, "PCK CRL issuer chain", &ca, &pck_root,
				 err) < 0)
			goto fail;
		vc->pck_ca = ca;
		if (same_root(pck_root, vc->root_point, "PCK CRL issuer chain", err) < 0 ||
		    check_role(ca, "PCK CA certificate", "SGX PCK Platform CA",
			       "SGX PCK Processor CA", true, err) < 0 ||
		    check_issued(ca, vc->root, vc->root_crl, "PCK CA certificate", CK_E_CA_REVOKED,
				 err) < 0 ||
		    check_pck_crl(vc, ca, err) < 0)
			goto fail;
	}
	X509_free(qe_root);
	X509_free(pck_root);
	*out = vc;
	return 0;
fail:
	X509_free(qe_root);
	X509_free(pck_root);
	ck_verified_collateral_free(vc);
	return -1;
}

/* ---- per-quote appraisal ----------------------------------------------------------------- */

static void add_advisories(struct ck_appraisal *r, const struct ck_advisories *adv, size_t first,
			   size_t count)
{
	for (size_t i = first; i < first + count; i++) {
		bool dup = false;
		for (size_t j = 0; j < r->n_advisories && !dup; j++)
			dup = strcmp(r->advisories[j], adv->ids[i]) == 0;
		if (!dup && r->n_advisories < CK_MAX_RESULT_ADVISORIES)
			memcpy(r->advisories[r->n_advisories++], adv->ids[i], CK_ADVISORY_ID_MAX);
	}
}

/* QVL convergeTcbStatusWithQeTcbStatus. */
static enum ck_tcb_status converge(enum ck_tcb_status platform, enum ck_tcb_status qe)
{
	if (qe == CK_TCB_REVOKED)
		return CK_TCB_REVOKED;
	if (qe == CK_TCB_OUT_OF_DATE) {
		switch (platform) {
		case CK_TCB_UP_TO_DATE:
		case CK_TCB_SW_HARDENING_NEEDED:
			return CK_TCB_OUT_OF_DATE;
		case CK_TCB_CONFIGURATION_NEEDED:
		case CK_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
			return CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
		default:
			break;
		}
	}
	return platform;
}

static bool masked_equal(const uint8_t *v, const uint8_t *mask, const uint8_t *want, size_t n)
{
	uint8_t d = 0;
	for (size_t i = 0; i < n; i++)
		d |= (uint8_t)((v[i] & mask[i]) ^ (want[i] & mask[i]));
	return d == 0;
}

static int check_time(const struct window *w, size_t n, const struct ck_appraise_opts *o,
		      struct ck_appraisal *r)
{
	char t0[CK_TIME_STR_MAX], t1[CK_TIME_STR_MAX], at[CK_TIME_STR_MAX];
	r->valid_from = INT64_MIN;
	r->valid_until = INT64_MAX;
	for (size_t i = 0; i < n; i++) {
		if (w[i].from > r->valid_from)
			r->valid_from = w[i].from;
		if (w[i].until < r->valid_until)
			r->valid_until = w[i].until;
	}
	for (size_t i = 0; i < n; i++) {
		if (o->at >= w[i].from && o->at <= w[i].until)
			continue;
		bool early = o->at < w[i].from;
		if (!early && w[i].collateral && o->allow_expired_collateral) {
			r->collateral_expired = true;
			continue;
		}
		return ck_errf(&r->error, early ? CK_E_NOT_YET_VALID : CK_E_EXPIRED,
			       "%s is %s at %s (valid %s .. %s)", w[i].what,
			       early ? "not yet valid" : "expired", ck_time_format(o->at, at),
			       ck_time_format(w[i].from, t0), ck_time_format(w[i].until, t1));
	}
	return 0;
}

static int appraise_pck_chain(const struct ck_quote *q, struct ck_verified_collateral *vc,
			      X509 **c, struct window *w, size_t *nw, struct ck_err *err)
{
	char cn[128];
	size_t n;
	/* Type 5 data is PEM, possibly NUL-terminated. */
	if (ck_pem_chain_parse((const char *)q->cert_data, q->cert_data_len, c, 3, 3, &n,
			       "quote PCK certificate chain", CK_E_QUOTE_CERTS, err) < 0)
		return -1;
	X509 *leaf = c[0], *ca = c[1], *root = c[2];

	/* 4.1.2.4.1-3: the chain's root must be the collateral's trust anchor. */
	uint8_t pt[CK_P256_POINT_LEN];
	if (ck_p256_point(X509_get0_pubkey(root), pt) < 0 || !ck_ct_equal(pt, vc->root_point, 65)) {
		bool sim = false;
		uint8_t tmp[CK_P256_POINT_LEN];
		if (check_anchor(root, false, &sim, tmp, err) == 0)
			return ck_errf(err, CK_E_CHAIN_MISMATCH,
				       "the quote's PCK chain ends in the Intel root, the "
				       "collateral in another");
		return ck_errf(err, CK_E_ROOT_UNTRUSTED,
			       "the quote's PCK chain ends in root '%s', which is not the trusted "
			       "root of the collateral",
			       ck_x509_cn(X509_get_subject_name(root), cn, sizeof(cn)));
	}
	if (cert_window(root, "quote root CA certificate", w, nw, err) < 0)
		return -1;

	/* Intermediate: issued by the root, not revoked by the root CRL. */
	if (check_role(ca, "PCK CA certificate", "SGX PCK Platform CA", "SGX PCK Processor CA",
		       true, err) < 0)
		return -1;
	if (!ck_x509_same(ca, vc->pck_ca) &&
	    check_issued(ca, vc->root, vc->root_crl, "PCK CA certificate", CK_E_CA_REVOKED, err) <
		    0)
		return -1;
	if (cert_window(ca, "PCK CA certificate", w, nw, err) < 0)
		return -1;

	/* 4.1.2.4.6: the PCK CRL must come from this CA (same name and key). */
	if (!vc->pck_ca) {
		if (check_pck_crl(vc, ca, err) < 0)
			return -1;
		X509_up_ref(ca);
		vc->pck_ca = ca;
	} else if (X509_NAME_cmp(X509_get_subject_name(ca), X509_get_subject_name(vc->pck_ca)) ||
		   EVP_PKEY_eq(X509_get0_pubkey(ca), X509_get0_pubkey(vc->pck_ca)) != 1) {
		char b[128];
		return ck_errf(err, CK_E_CRL_ISSUER,
			       "PCK CRL is issued by '%s', but the PCK certificate by '%s'",
			       ck_x509_cn(X509_get_subject_name(vc->pck_ca), cn, sizeof(cn)),
			       ck_x509_cn(X509_get_subject_name(ca), b, sizeof(b)));
	}

	/* Leaf: "SGX PCK Certificate", issued by the CA, not in the PCK CRL (4.1.2.4.4-5). */
	if (check_role(leaf, "PCK certificate", "SGX PCK Certificate", NULL, false, err) < 0 ||
	    check_issued(leaf, ca, vc->pck_crl, "PCK certificate", CK_E_PCK_REVOKED, err) < 0 ||
	    cert_window(leaf, "PCK certificate", w, nw, err) < 0)
		return -1;
	return 0;
}

static void fill_identity(const struct ck_quote *q, struct ck_appraisal *r)
{
	r->tee = q->tee;
	r->quote_version = q->version;
	if (q->body_type == CK_BODY_SGX) {
		r->enclave = q->sgx;
		r->debug = ck_sgx_report_is_debug(&q->sgx);
	}
}

int ck_appraise(const struct ck_quote *q, struct ck_verified_collateral *vc,
		const struct ck_appraise_opts *o, struct ck_appraisal *r)
{
	X509 *chain[3] = {0};
	EVP_PKEY *ak = NULL;
	struct window w[MAX_WINDOWS];
	size_t nw = vc->n_win;
	unsigned long sig0 = ck_sig_verify_count;
	struct ck_err *err = &r->error;
	char h1[65], h2[65];

	memset(r, 0, sizeof(*r));
	memcpy(w, vc->win, sizeof(w[0]) * nw);
	fill_identity(q, r);
	r->simulated = vc->simulated;
	r->tcb_eval_num = vc->tcb.eval_num;

	if (q->tee != CK_TEE_SGX) {
		ck_errf(err, CK_E_UNSUPPORTED,
			"%s quote appraisal is not supported yet (the quote parses; see "
			"'cloak inspect')",
			ck_tee_name(q->tee));
		goto out;
	}
	if (q->cert_type != CK_CERT_PCK_CHAIN) {
		ck_errf(err, CK_E_UNSUPPORTED,
			"certification data type %u needs a PCCS to look up the PCK certificate; "
			"only type 5 (PCK chain in the quote) is supported",
			q->cert_type);
		goto out;
	}

	/* 4.1.2.4.1-6: PCK chain, CRLs. */
	if (appraise_pck_chain(q, vc, chain, w, &nw, err) < 0)
		goto out;
	bool dup;
	const ASN1_OCTET_STRING *ext = ck_x509_find_ext(chain[0], PCK_EXT_OID, sizeof(PCK_EXT_OID),
							&dup);
	if (!ext || dup) {
		ck_errf(err, CK_E_PCK_EXTENSION, "PCK certificate: SGX extension %s",
			ext ? "appears twice" : "is missing");
		goto out;
	}
	if (ck_pck_ext_parse(ASN1_STRING_get0_data(ext), (size_t)ASN1_STRING_length(ext), &r->pck,
			     err) < 0)
		goto out;
	r->has_pck = true;

	/* 4.1.2.4.9-10: TCB Info for this TEE and this platform. */
	if (vc->tcb.version == 3 && strcmp(vc->tcb.id, "SGX") != 0) {
		ck_errf(err, CK_E_TCB_INFO_MISMATCH, "TCB Info id is \"%s\", the quote is SGX",
			vc->tcb.id);
		goto out;
	}
	if (memcmp(vc->tcb.fmspc, r->pck.fmspc, 6) || memcmp(vc->tcb.pceid, r->pck.pceid, 2)) {
		ck_hex_encode(vc->tcb.fmspc, 6, h1);
		ck_hex_encode(r->pck.fmspc, 6, h2);
		ck_errf(err, CK_E_TCB_INFO_MISMATCH,
			"TCB Info is for FMSPC %s PCEID %02x%02x, the PCK certificate for FMSPC %s "
			"PCEID %02x%02x",
			h1, vc->tcb.pceid[0], vc->tcb.pceid[1], h2, r->pck.pceid[0],
			r->pck.pceid[1]);
		goto out;
	}
	if (strcmp(vc->qe.id, "QE") != 0) {
		ck_errf(err, CK_E_QE_ID_MISMATCH, "QE Identity id is \"%s\", an SGX quote needs \"QE\"",
			vc->qe.id);
		goto out;
	}

	/* 4.1.2.4.12: QE report signed by the PCK key. */
	if (!ck_ecdsa_verify_raw(X509_get0_pubkey(chain[0]), q->qe_report_raw, CK_SGX_REPORT_LEN,
				 q->qe_report_sig)) {
		ck_errf(err, CK_E_QE_REPORT_SIG, "QE report: signature by the PCK key is invalid");
		goto out;
	}
	/* 4.1.2.4.13: QE report data = SHA-256(attestation key || QE auth data) || 0^32. */
	uint8_t digest[32];
	if (ck_sha256_2(q->attest_key, 64, q->qe_auth, q->qe_auth_len, digest) < 0 ||
	    !ck_ct_equal(digest, q->qe_report.report_data, 32) ||
	    !ck_all_zero(q->qe_report.report_data + 32, 32)) {
		ck_errf(err, CK_E_QE_REPORT_DATA,
			"QE report data does not bind the attestation key and QE auth data");
		goto out;
	}

	/* 4.1.2.9.5-10: the QE is the one Intel's QE Identity describes. */
	const struct ck_sgx_report *qr = &q->qe_report;
	uint8_t misc[4];
	ck_put_le32(misc, qr->miscselect);
	if (!masked_equal(misc, vc->qe.miscselect_mask, vc->qe.miscselect, 4)) {
		ck_errf(err, CK_E_QE_ID_MISMATCH, "QE MISCSELECT %08x does not match QE Identity",
			qr->miscselect);
		goto out;
	}
	if (!masked_equal(qr->attributes, vc->qe.attributes_mask, vc->qe.attributes, 16)) {
		ck_hex_encode(qr->attributes, 16, h1);
		ck_errf(err, CK_E_QE_ID_MISMATCH, "QE ATTRIBUTES %s do not match QE Identity", h1);
		goto out;
	}
	if (memcmp(qr->mrsigner, vc->qe.mrsigner, 32) != 0) {
		ck_hex_encode(qr->mrsigner, 32, h1);
		ck_errf(err, CK_E_QE_ID_MISMATCH, "QE MRSIGNER %s is not the QE Identity's", h1);
		goto out;
	}
	if (qr->isv_prod_id != vc->qe.isvprodid) {
		ck_errf(err, CK_E_QE_ID_MISMATCH, "QE ISVPRODID %u is not the QE Identity's %u",
			qr->isv_prod_id, vc->qe.isvprodid);
		goto out;
	}
	const struct ck_qe_level *ql = NULL;
	for (size_t i = 0; i < vc->qe.n_levels && !ql; i++)
		if (qr->isv_svn >= vc->qe.levels[i].isvsvn)
			ql = &vc->qe.levels[i];
	if (!ql) {
		ck_errf(err, CK_E_TCB_NO_MATCH, "QE ISVSVN %u is below every QE Identity TCB level",
			qr->isv_svn);
		goto out;
	}
	r->qe_status = ql->status;

	/* 4.1.2.4.16: the quote is signed by the attestation key. */
	if (!(ak = ck_p256_from_xy(q->attest_key)) ||
	    !ck_ecdsa_verify_raw(ak, q->signed_data, q->signed_len, q->isv_sig)) {
		ck_errf(err, CK_E_QUOTE_SIGNATURE,
			"quote signature by the attestation key is invalid%s",
			ak ? "" : " (the key is not a P-256 point)");
		goto out;
	}

	/* 4.1.2.4.17: TCB level, from the PCK certificate's SVNs. */
	const struct ck_tcb_level *tl = NULL;
	for (size_t i = 0; i < vc->tcb.n_levels && !tl; i++) {
		const struct ck_tcb_level *l = &vc->tcb.levels[i];
		bool ge = r->pck.pcesvn >= l->pcesvn;
		for (int k = 0; k < CK_TCB_COMPONENTS && ge; k++)
			ge = r->pck.comp_svn[k] >= l->sgx_svn[k];
		if (ge)
			tl = l;
	}
	if (!tl) {
		ck_hex_encode(r->pck.comp_svn, 16, h1);
		ck_errf(err, CK_E_TCB_NO_MATCH,
			"no TCB level matches the platform (PCK SVNs %s, PCESVN %u)", h1,
			r->pck.pcesvn);
		goto out;
	}
	r->platform_status = tl->status;
	r->tcb_date = tl->tcb_date;
	r->tcb_status = converge(tl->status, ql->status);
	add_advisories(r, &vc->tcb.advisories, tl->adv_first, tl->adv_count);
	add_advisories(r, &vc->qe.advisories, ql->adv_first, ql->adv_count);

	/* Every item must be valid at the verification time. */
	if (check_time(w, nw, o, r) < 0)
		goto out;
	r->valid = true;
out:
	EVP_PKEY_free(ak);
	ck_certs_free(chain, 3);
	r->sig_verifications = ck_sig_verify_count - sig0;
	return r->valid ? 0 : -1;
}

int ck_appraise_raw(const uint8_t *quote, size_t quote_len, const struct ck_collateral *c,
		    const struct ck_appraise_opts *o, struct ck_appraisal *r)
{
	struct ck_quote q;
	struct ck_verified_collateral *vc = NULL;
	unsigned long sig0 = ck_sig_verify_count;
	memset(r, 0, sizeof(*r));
	if (ck_quote_parse(quote, quote_len, &q, &r->error) < 0)
		return -1;
	if (ck_collateral_verify(c, o->allow_simulation, &vc, &r->error) < 0) {
		fill_identity(&q, r);
		r->sig_verifications = ck_sig_verify_count - sig0;
		return -1;
	}
	int ret = ck_appraise(&q, vc, o, r);
	r->sig_verifications = ck_sig_verify_count - sig0;
	ck_verified_collateral_free(vc);
	return ret;
}
