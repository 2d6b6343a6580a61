/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DCAP appraisal (see appraise.h). Step numbers in comments are QVL's (attestation-formats.md
 * §B.2). Every check returns a distinct CK_E_* code and names the item that failed.
 */
#include <stdlib.h>
#include <string.h>

#include "cloak/appraise.h"
#include "cloak/codec.h"
#include "cert.h"

const uint8_t CK_INTEL_SGX_ROOT_KEY[65] = {
    0x04, 0x0b, 0xa9, 0xc4, 0xc0, 0xc0, 0xc8, 0x61, 0x93, 0xa3, 0xfe, 0x23, 0xd6,
    0xb0, 0x2c, 0xda, 0x10, 0xa8, 0xbb, 0xd4, 0xe8, 0x8e, 0x48, 0xb4, 0x45, 0x85,
    0x61, 0xa3, 0x6e, 0x70, 0x55, 0x25, 0xf5, 0x67, 0x91, 0x8e, 0x2e, 0xdc, 0x88,
    0xe4, 0x0d, 0x86, 0x0b, 0xd0, 0xcc, 0x4e, 0xe2, 0x6a, 0xac, 0xc9, 0x88, 0xe5,
    0x05, 0xa9, 0x53, 0x55, 0x8c, 0x45, 0x3f, 0x6b, 0x09, 0x04, 0xae, 0x73, 0x94};

/* SHA-256 of the Intel SGX Root CA certificate's DER: the root in every chain must be this very
 * certificate, not merely one with its key (a renamed root, or one whose self-signature is
 * broken, is refused, as Intel's QVL refuses it). */
const uint8_t CK_INTEL_SGX_ROOT_SHA256[32] = {
    0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
    0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3};

#define MAX_WINDOWS 16

/* One item with a validity period. */
struct window {
	const char *what;
	ck_time_t from, until;
	bool collateral; /* CRL / TCB Info / QE Identity: may be relaxed by policy */
};

struct ck_verified_collateral {
	bool simulated;
	uint8_t root_sha256[32];      /* the trust anchor: SHA-256 of its certificate */
	struct ck_chain tcb_chain;    /* [TCB signer, root]; root is the anchor */
	struct ck_chain qe_chain;     /* [QE Identity signer, root] */
	struct ck_chain pck_ca_chain; /* [PCK CA, root] from the collateral, or from the
					 first quote when the collateral has none */
	bool have_pck_ca;	      /* pck_ca_chain.c[0] verified the PCK CRL */
	uint8_t *root_crl_der, *pck_crl_der;
	struct ck_crl root_crl, pck_crl;
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
	ck_chain_free(&vc->tcb_chain);
	ck_chain_free(&vc->qe_chain);
	ck_chain_free(&vc->pck_ca_chain);
	free(vc->root_crl_der);
	free(vc->pck_crl_der);
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

static void cert_window(const struct ck_cert *c, const char *what, struct window *w, size_t *n)
{
	add_window(w, n, what, c->not_before, c->not_after, false);
}

/* Certificate role (QVL X509Constants: CN substrings) and CA flag. */
static int check_role(const struct ck_cert *c, const char *what, const char *cn1, const char *cn2,
		      bool ca, struct ck_err *err)
{
	char cn[CK_CN_MAX];
	ck_name_cn(c->subject, cn);
	if (!strstr(cn, cn1) && !(cn2 && strstr(cn, cn2)))
		return ck_errf(err, CK_E_CERT_FORMAT, "%s: subject CN '%s' does not name a %s",
			       what, cn, cn1);
	if (c->is_ca != ca)
		return ck_errf(err, CK_E_CERT_FORMAT, "%s '%s': %s", what, cn,
			       ca ? "is not a CA certificate" : "is a CA used as an end entity");
	return 0;
}

/* Checks that `issuer` signed `c` and that `crl` (issued by `issuer`) does not list it. */
static int check_issued(const struct ck_cert *c, const struct ck_cert *issuer,
			const struct ck_crl *crl, const char *what, const char *revoked_code,
			struct ck_err *err)
{
	char cn[CK_CN_MAX], icn[CK_CN_MAX];
	if (!ck_bytes_eq(c->issuer, issuer->subject))
		return ck_errf(err, CK_E_CERT_SIGNATURE, "%s '%s' is not issued by '%s'", what,
			       ck_name_cn(c->subject, cn), ck_name_cn(issuer->subject, icn));
	if (!ck_p256_verify(issuer->pub, c->tbs.p, c->tbs.n, c->sig))
		return ck_errf(err, CK_E_CERT_SIGNATURE, "%s '%s': signature by '%s' is invalid",
			       what, ck_name_cn(c->subject, cn), ck_name_cn(issuer->subject, icn));
	if (crl && ck_crl_revokes(crl, c->serial)) {
		char hex[2 * 21 + 1] = "?";
		ck_hex_encode(c->serial.p, c->serial.n, hex);
		return ck_errf(err, revoked_code, "%s '%s' (serial %s) is revoked", what,
			       ck_name_cn(c->subject, cn), hex);
	}
	return 0;
}

/* A CRL issued and signed by `ca`. */
static int check_crl(const struct ck_crl *crl, const struct ck_cert *ca, const char *what,
		     struct ck_err *err)
{
	char a[CK_CN_MAX], b[CK_CN_MAX];
	if (!ck_bytes_eq(crl->issuer, ca->subject))
		return ck_errf(err, CK_E_CRL_ISSUER, "%s is issued by '%s', not by '%s'", what,
			       ck_name_cn(crl->issuer, a), ck_name_cn(ca->subject, b));
	if (!ck_p256_verify(ca->pub, crl->tbs.p, crl->tbs.n, crl->sig))
		return ck_errf(err, CK_E_CRL_SIGNATURE, "%s: signature by '%s' is invalid", what,
			       ck_name_cn(ca->subject, b));
	return 0;
}

/* Classifies a root: the pinned Intel key, or (if allowed) a simulation root. */
static int check_anchor(const struct ck_cert *root, bool allow_sim, bool *simulated,
			struct ck_err *err)
{
	char cn[CK_CN_MAX];
	uint8_t h[32];
	ck_name_cn(root->subject, cn);
	if (ck_ct_equal(root->pub, CK_INTEL_SGX_ROOT_KEY, sizeof(CK_INTEL_SGX_ROOT_KEY))) {
		if (ck_sha256_2(root->der.p, root->der.n, NULL, 0, h) < 0 ||
		    !ck_ct_equal(h, CK_INTEL_SGX_ROOT_SHA256, 32))
			return ck_errf(
			    err, CK_E_ROOT_UNTRUSTED,
			    "root CA '%s' has the Intel SGX Root CA's key but is not the "
			    "pinned certificate (renamed, re-encoded or its self-signature "
			    "changed)",
			    cn);
		*simulated = false;
		return 0;
	}
	bool sim = ck_name_contains(root->subject, CK_SIM_MARKER) &&
		   ck_bytes_eq(root->subject, root->issuer) && root->is_ca &&
		   ck_p256_verify(root->pub, root->tbs.p, root->tbs.n, root->sig);
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

/* true when `c` is the anchor: byte for byte (by SHA-256 of its DER). */
static bool is_anchor(const struct ck_cert *c, const uint8_t anchor[32])
{
	uint8_t h[32];
	return ck_sha256_2(c->der.p, c->der.n, NULL, 0, h) == 0 && ck_ct_equal(h, anchor, 32);
}

/* A two-certificate issuer chain [signer, root] whose root must be the anchor. */
static int issuer_chain(const char *pem, const char *what, const uint8_t *anchor,
			struct ck_chain *ch, struct ck_err *err)
{
	char cn[CK_CN_MAX];
	if (ck_chain_load(pem, strlen(pem), 2, 2, ch, what, CK_E_COLLATERAL, err) < 0)
		return -1;
	if (anchor && !is_anchor(&ch->c[1], anchor))
		return ck_errf(err, CK_E_CHAIN_MISMATCH,
			       "%s ends in root '%s', not the root of the TCB Info chain", what,
			       ck_name_cn(ch->c[1].subject, cn));
	return 0;
}

/* A TCB-signing certificate: issued by the root, not revoked, named "SGX TCB Signing". */
static int check_signer(const struct ck_cert *signer, struct ck_verified_collateral *vc,
			const char *what, struct ck_err *err)
{
	if (check_role(signer, what, "SGX TCB Signing", NULL, false, err) < 0 ||
	    check_issued(signer, &vc->tcb_chain.c[1], &vc->root_crl, what, CK_E_CA_REVOKED, err) <
		0)
		return -1;
	cert_window(signer, what, vc->win, &vc->n_win);
	return 0;
}

static uint8_t *dup_bytes(const uint8_t *p, size_t n)
{
	uint8_t *d = malloc(n ? n : 1);
	if (d && n)
		memcpy(d, p, n);
	return d;
}

int ck_collateral_verify(const struct ck_collateral *c, bool allow_simulation,
			 struct ck_verified_collateral **out, struct ck_err *err)
{
	struct ck_verified_collateral *vc = calloc(1, sizeof(*vc));
	*out = NULL;
	if (!vc)
		return ck_errf(err, CK_E_NOMEM, "out of memory");

	/* Trust anchor: the root of the TCB Info chain. */
	if (issuer_chain(c->tcb_info_issuer_chain, "TCB Info issuer chain", NULL, &vc->tcb_chain,
			 err) < 0)
		goto fail;
	const struct ck_cert *root = &vc->tcb_chain.c[1], *tcb_signer = &vc->tcb_chain.c[0];
	if (check_anchor(root, allow_simulation, &vc->simulated, err) < 0 ||
	    check_role(root, "root CA", "SGX Root CA", NULL, true, err) < 0)
		goto fail;
	if (ck_sha256_2(root->der.p, root->der.n, NULL, 0, vc->root_sha256) < 0)
		return ck_errf(err, CK_E_NOMEM, "cannot hash the root CA certificate");
	cert_window(root, "root CA certificate", vc->win, &vc->n_win);

	/* Root CRL: issued and signed by the root. */
	if (!(vc->root_crl_der = dup_bytes(c->root_ca_crl, c->root_ca_crl_len)) ||
	    !(vc->pck_crl_der = dup_bytes(c->pck_crl, c->pck_crl_len))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	if (ck_crl_parse(vc->root_crl_der, c->root_ca_crl_len, &vc->root_crl, err) < 0) {
		ck_err_wrap(err, "root CA CRL");
		goto fail;
	}
	if (check_crl(&vc->root_crl, root, "root CA CRL", err) < 0)
		goto fail;
	add_window(vc->win, &vc->n_win, "root CA CRL", vc->root_crl.this_update,
		   vc->root_crl.next_update, true);

	/* TCB Info: signer chain, signature over the exact text (4.1.2.4.9). */
	if (check_signer(tcb_signer, vc, "TCB Info signing certificate", err) < 0)
		goto fail;
	if (!ck_p256_verify(tcb_signer->pub, (const uint8_t *)c->tcb_info, c->tcb_info_len,
			    c->tcb_info_sig)) {
		ck_errf(err, CK_E_TCB_INFO_SIG, "TCB Info: signature is invalid");
		goto fail;
	}
	if (ck_tcb_info_parse(c->tcb_info, c->tcb_info_len, &vc->tcb, err) < 0)
		goto fail;
	add_window(vc->win, &vc->n_win, "TCB Info", vc->tcb.issue_date, vc->tcb.next_update, true);

	/* QE Identity: same checks; its signer is usually the same certificate. */
	if (issuer_chain(c->qe_identity_issuer_chain, "QE Identity issuer chain", vc->root_sha256,
			 &vc->qe_chain, err) < 0)
		goto fail;
	const struct ck_cert *qe_signer = &vc->qe_chain.c[0];
	if (!ck_bytes_eq(qe_signer->der, tcb_signer->der) &&
	    check_signer(qe_signer, vc, "QE Identity signing certificate", err) < 0)
		goto fail;
	if (!ck_p256_verify(qe_signer->pub, (const uint8_t *)c->qe_identity, c->qe_identity_len,
			    c->qe_identity_sig)) {
		ck_errf(err, CK_E_QE_ID_SIG, "QE Identity: signature is invalid");
		goto fail;
	}
	if (ck_qe_identity_parse(c->qe_identity, c->qe_identity_len, &vc->qe, err) < 0)
		goto fail;
	add_window(vc->win, &vc->n_win, "QE Identity", vc->qe.issue_date, vc->qe.next_update, true);

	/* PCK CRL and, when the collateral carries it, its issuer. */
	if (ck_crl_parse(vc->pck_crl_der, c->pck_crl_len, &vc->pck_crl, err) < 0) {
		ck_err_wrap(err, "PCK CRL");
		goto fail;
	}
	add_window(vc->win, &vc->n_win, "PCK CRL", vc->pck_crl.this_update, vc->pck_crl.next_update,
		   true);
	if (c->pck_crl_issuer_chain && c->pck_crl_issuer_chain[0]) {
		if (issuer_chain(c->pck_crl_issuer_chain, "PCK CRL issuer chain", vc->root_sha256,
				 &vc->pck_ca_chain, err) < 0)
			goto fail;
		const struct ck_cert *ca = &vc->pck_ca_chain.c[0];
		if (check_role(ca, "PCK CA certificate", "SGX PCK Platform CA",
			       "SGX PCK Processor CA", true, err) < 0 ||
		    check_issued(ca, root, &vc->root_crl, "PCK CA certificate", CK_E_CA_REVOKED,
				 err) < 0 ||
		    check_crl(&vc->pck_crl, ca, "PCK CRL", err) < 0)
			goto fail;
		vc->have_pck_ca = true;
	}
	*out = vc;
	return 0;
fail:
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

/* 4.1.2.4.1-6: the quote's PCK chain [leaf, PCK CA, root] and its revocation status. */
static int appraise_pck_chain(const struct ck_quote *q, struct ck_verified_collateral *vc,
			      struct ck_chain *ch, struct window *w, size_t *nw, struct ck_err *err)
{
	char cn[CK_CN_MAX], b[CK_CN_MAX];
	/* Type 5 data is PEM, possibly NUL-terminated. */
	if (ck_chain_load((const char *)q->cert_data, q->cert_data_len, 3, 3, ch,
			  "quote PCK certificate chain", CK_E_QUOTE_CERTS, err) < 0)
		return -1;
	const struct ck_cert *leaf = &ch->c[0], *ca = &ch->c[1], *root = &ch->c[2];

	/* The chain's root must be the collateral's trust anchor. */
	if (!is_anchor(root, vc->root_sha256)) {
		if (is_anchor(root, CK_INTEL_SGX_ROOT_SHA256))
			return ck_errf(err, CK_E_CHAIN_MISMATCH,
				       "the quote's PCK chain ends in the Intel root, the "
				       "collateral in another");
		return ck_errf(err, CK_E_ROOT_UNTRUSTED,
			       "the quote's PCK chain ends in root '%s', which is not the trusted "
			       "root of the collateral",
			       ck_name_cn(root->subject, cn));
	}
	cert_window(root, "quote root CA certificate", w, nw);

	/* Intermediate: issued by the root, not revoked by the root CRL. */
	if (check_role(ca, "PCK CA certificate", "SGX PCK Platform CA", "SGX PCK Processor CA",
		       true, err) < 0)
		return -1;
	const struct ck_cert *known = vc->have_pck_ca ? &vc->pck_ca_chain.c[0] : NULL;
	if (!(known && ck_bytes_eq(ca->der, known->der)) &&
	    check_issued(ca, &vc->tcb_chain.c[1], &vc->root_crl, "PCK CA certificate",
			 CK_E_CA_REVOKED, err) < 0)
		return -1;
	cert_window(ca, "PCK CA certificate", w, nw);

	/* 4.1.2.4.6: the PCK CRL must come from this CA (same name and key). */
	if (!known) {
		if (check_crl(&vc->pck_crl, ca, "PCK CRL", err) < 0)
			return -1;
		/* Remember this CA (a private copy: the quote's buffer is the caller's). */
		struct ck_chain keep;
		if (ck_chain_load((const char *)q->cert_data, q->cert_data_len, 3, 3, &keep,
				  "quote PCK certificate chain", CK_E_QUOTE_CERTS, err) < 0)
			return -1;
		keep.c[0] = keep.c[1];
		keep.n = 1;
		vc->pck_ca_chain = keep;
		vc->have_pck_ca = true;
	} else if (!ck_bytes_eq(ca->subject, known->subject) ||
		   !ck_ct_equal(ca->pub, known->pub, CK_P256_PUB_LEN)) {
		return ck_errf(err, CK_E_CRL_ISSUER,
			       "PCK CRL is issued by '%s', but the PCK certificate by '%s'",
			       ck_name_cn(known->subject, cn), ck_name_cn(ca->subject, b));
	}

	/* Leaf: "SGX PCK Certificate", issued by the CA, not in the PCK CRL (4.1.2.4.4-5). */
	if (check_role(leaf, "PCK certificate", "SGX PCK Certificate", NULL, false, err) < 0 ||
	    check_issued(leaf, ca, &vc->pck_crl, "PCK certificate", CK_E_PCK_REVOKED, err) < 0)
		return -1;
	cert_window(leaf, "PCK certificate", w, nw);
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
	struct ck_chain chain = {0};
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
	if (appraise_pck_chain(q, vc, &chain, w, &nw, err) < 0)
		goto out;
	const struct ck_cert *leaf = &chain.c[0];
	if (!leaf->sgx_ext.p) {
		ck_errf(err, CK_E_PCK_EXTENSION, "PCK certificate: SGX extension is missing");
		goto out;
	}
	if (ck_pck_ext_parse(leaf->sgx_ext.p, leaf->sgx_ext.n, &r->pck, err) < 0)
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
		ck_errf(err, CK_E_QE_ID_MISMATCH,
			"QE Identity id is \"%s\", an SGX quote needs \"QE\"", vc->qe.id);
		goto out;
	}

	/* 4.1.2.4.12: QE report signed by the PCK key. */
	if (!ck_p256_verify(leaf->pub, q->qe_report_raw, CK_SGX_REPORT_LEN, q->qe_report_sig)) {
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
	uint8_t ak[CK_P256_PUB_LEN] = {0x04};
	memcpy(ak + 1, q->attest_key, 64);
	if (!ck_p256_verify(ak, q->signed_data, q->signed_len, q->isv_sig)) {
		ck_errf(err, CK_E_QUOTE_SIGNATURE,
			"quote signature by the attestation key is invalid");
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
	ck_chain_free(&chain);
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
