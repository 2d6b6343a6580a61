/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cloak/codec.h"
#include "cloak/collateral.h"
#include "internal.h"
#include "evidence/x509util.h"
#include "util/json.h"

static const char *const status_names[CK_TCB_STATUS_COUNT] = {
    [CK_TCB_INVALID] = "Invalid",
    [CK_TCB_UP_TO_DATE] = "UpToDate",
    [CK_TCB_SW_HARDENING_NEEDED] = "SWHardeningNeeded",
    [CK_TCB_CONFIGURATION_NEEDED] = "ConfigurationNeeded",
    [CK_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED] = "ConfigurationAndSWHardeningNeeded",
    [CK_TCB_OUT_OF_DATE] = "OutOfDate",
    [CK_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED] = "OutOfDateConfigurationNeeded",
    [CK_TCB_REVOKED] = "Revoked",
    [CK_TCB_TD_RELAUNCH_ADVISED] = "TDRelaunchAdvised",
    [CK_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED] = "TDRelaunchAdvisedConfigurationNeeded",
};

const char *ck_tcb_status_name(enum ck_tcb_status s)
{
	return (unsigned)s < CK_TCB_STATUS_COUNT ? status_names[s] : "Invalid";
}

enum ck_tcb_status ck_tcb_status_parse(const char *name)
{
	for (int i = 1; i < CK_TCB_STATUS_COUNT; i++)
		if (strcmp(name, status_names[i]) == 0)
			return (enum ck_tcb_status)i;
	return CK_TCB_INVALID;
}

void ck_collateral_free(struct ck_collateral *c)
{
	if (!c)
		return;
	free(c->pck_crl_issuer_chain);
	free(c->root_ca_crl);
	free(c->pck_crl);
	free(c->tcb_info_issuer_chain);
	free(c->tcb_info);
	free(c->qe_identity_issuer_chain);
	free(c->qe_identity);
	memset(c, 0, sizeof(*c));
}

static int is_hex_text(const uint8_t *p, size_t n)
{
	if (n == 0 || n % 2)
		return 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = p[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return 0;
	}
	return 1;
}

int ck_crl_decode(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len, const char *what,
		  struct ck_err *err)
{
	static const char pem_tag[] = "-----BEGIN X509 CRL-----";
	*der = NULL;
	*der_len = 0;
	/* Trim surrounding whitespace of text forms. */
	while (len && (in[len - 1] == '\n' || in[len - 1] == '\r' || in[len - 1] == ' ' ||
		       in[len - 1] == '\0'))
		len--;
	if (len == 0)
		return ck_errf(err, CK_E_CRL_FORMAT, "%s: empty", what);
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "%s: %zu bytes is over the limit", what, len);
	if (in[0] == 0x30) {
		*der = malloc(len);
		if (!*der)
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		memcpy(*der, in, len);
		*der_len = len;
		return 0;
	}
	if (len > sizeof(pem_tag) && memcmp(in, pem_tag, sizeof(pem_tag) - 1) == 0) {
		BIO *b = BIO_new_mem_buf(in, (int)len);
		X509_CRL *crl = b ? PEM_read_bio_X509_CRL(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		if (!crl)
			return ck_errf(err, CK_E_CRL_FORMAT, "%s: not a valid PEM CRL", what);
		unsigned char *out = NULL;
		int n = i2d_X509_CRL(crl, &out);
		X509_CRL_free(crl);
		if (ck_from_openssl(out, n, der, der_len) < 0)
			return ck_errf(err, CK_E_CRL_FORMAT, "%s: cannot re-encode the CRL", what);
		return 0;
	}
	if (is_hex_text(in, len))
		return ck_hex_decode_alloc((const char *)in, len, der, der_len, what, err);
	if (ck_b64_decode_alloc((const char *)in, len, der, der_len, what, NULL) == 0) {
		if (*der_len && (*der)[0] == 0x30)
			return 0;
		free(*der);
		*der = NULL;
	}
	return ck_errf(err, CK_E_CRL_FORMAT, "%s: neither DER, PEM, hex nor base64", what);
}

static char *dup_n(const char *s, size_t n)
{
	char *d = malloc(n + 1);
	if (d) {
		memcpy(d, s, n);
		d[n] = 0;
	}
	return d;
}

/* Fetches a required string member, decoded (escapes resolved). */
static char *req_str(const struct ck_jdoc *d, size_t obj, const char *key, bool allow_empty,
		     size_t *n, struct ck_err *err)
{
	long v = ck_json_get(d, obj, key);
	if (v < 0) {
		ck_errf(err, CK_E_COLLATERAL, "collateral: field \"%s\" is missing", key);
		return NULL;
	}
	if (d->t[v].type != CK_JT_STRING || (!allow_empty && d->t[v].end == d->t[v].start)) {
		ck_errf(err, CK_E_COLLATERAL, "collateral: field \"%s\" is not a non-empty string",
			key);
		return NULL;
	}
	char *s = ck_json_strdup(d, (size_t)v, n);
	if (!s)
		ck_errf(err, CK_E_NOMEM, "out of memory");
	return s;
}

static int crl_field(const struct ck_jdoc *d, size_t obj, const char *key, uint8_t **der,
		     size_t *len, struct ck_err *err)
{
	size_t n;
	char what[48], *s = req_str(d, obj, key, false, &n, err);
	if (!s)
		return -1;
	snprintf(what, sizeof(what), "collateral %s", key);
	int r = ck_crl_decode((const uint8_t *)s, n, der, len, what, err);
	free(s);
	return r;
}

static int sig_field(const struct ck_jdoc *d, size_t obj, const char *key, uint8_t sig[64],
		     struct ck_err *err)
{
	size_t n;
	char what[48], *s = req_str(d, obj, key, false, &n, err);
	if (!s)
		return -1;
	snprintf(what, sizeof(what), "collateral %s", key);
	int r = ck_hex_decode_exact(s, n, sig, 64, what, err);
	free(s);
	return r;
}

int ck_collateral_from_doc(const struct ck_jdoc *d, size_t obj, struct ck_collateral *c,
			   struct ck_err *err)
{
	size_t n;
	memset(c, 0, sizeof(*c));
	if (d->t[obj].type != CK_JT_OBJECT)
		return ck_errf(err, CK_E_COLLATERAL, "collateral: not a JSON object");
	/* An empty PCK CRL issuer chain is allowed: the quote's own chain then serves. */
	if (!(c->pck_crl_issuer_chain = req_str(d, obj, "pck_crl_issuer_chain", true, &n, err)) ||
	    !(c->tcb_info_issuer_chain =
		  req_str(d, obj, "tcb_info_issuer_chain", false, &n, err)) ||
	    !(c->qe_identity_issuer_chain =
		  req_str(d, obj, "qe_identity_issuer_chain", false, &n, err)) ||
	    crl_field(d, obj, "root_ca_crl", &c->root_ca_crl, &c->root_ca_crl_len, err) < 0 ||
	    crl_field(d, obj, "pck_crl", &c->pck_crl, &c->pck_crl_len, err) < 0 ||
	    !(c->tcb_info = req_str(d, obj, "tcb_info", false, &c->tcb_info_len, err)) ||
	    !(c->qe_identity = req_str(d, obj, "qe_identity", false, &c->qe_identity_len, err)) ||
	    sig_field(d, obj, "tcb_info_signature", c->tcb_info_sig, err) < 0 ||
	    sig_field(d, obj, "qe_identity_signature", c->qe_identity_sig, err) < 0) {
		ck_collateral_free(c);
		return -1;
	}
	return 0;
}

int ck_collateral_parse(const char *text, size_t len, struct ck_collateral *out, struct ck_err *err)
{
	struct ck_jdoc d;
	memset(out, 0, sizeof(*out));
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "collateral is %zu bytes, over the %d limit",
			       len, CK_COLLATERAL_MAX_LEN);
	if (ck_json_parse(text, len, &d, err) < 0)
		return ck_err_wrap(err, "collateral");
	int r = ck_collateral_from_doc(&d, 0, out, err);
	ck_json_free(&d);
	return r;
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
	char *h = malloc(2 * n + 1);
	if (!h)
		return NULL;
	ck_hex_encode(p, n, h);
	json_t *j = json_stringn(h, 2 * n);
	free(h);
	return j;
}

json_t *ck_collateral_to_json(const struct ck_collateral *c)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = 0;
	bad |= json_object_set_new(
	    o, "pck_crl_issuer_chain",
	    json_string(c->pck_crl_issuer_chain ? c->pck_crl_issuer_chain : ""));
	bad |= json_object_set_new(o, "root_ca_crl", hex_json(c->root_ca_crl, c->root_ca_crl_len));
	bad |= json_object_set_new(o, "pck_crl", hex_json(c->pck_crl, c->pck_crl_len));
	bad |=
	    json_object_set_new(o, "tcb_info_issuer_chain", json_string(c->tcb_info_issuer_chain));
	bad |= json_object_set_new(o, "tcb_info", json_stringn(c->tcb_info, c->tcb_info_len));
	bad |= json_object_set_new(o, "tcb_info_signature", hex_json(c->tcb_info_sig, 64));
	bad |= json_object_set_new(o, "qe_identity_issuer_chain",
				   json_string(c->qe_identity_issuer_chain));
	bad |=
	    json_object_set_new(o, "qe_identity", json_stringn(c->qe_identity, c->qe_identity_len));
	bad |= json_object_set_new(o, "qe_identity_signature", hex_json(c->qe_identity_sig, 64));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- exact-byte extraction from a PCS response ------------------------------------------ */

int ck_pcs_split_signed(const char *body, size_t len, const char *key, char **inner,
			size_t *inner_len, uint8_t sig[64], struct ck_err *err)
{
	struct ck_jdoc d;
	*inner = NULL;
	*inner_len = 0;
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "PCS %s response is %zu bytes, over the limit",
			       key, len);
	if (ck_json_parse(body, len, &d, err) < 0)
		return ck_err_wrap(err, "PCS %s response", key);
	long obj = ck_json_get(&d, 0, key), sv = ck_json_get(&d, 0, "signature");
	int r = -1;
	if (d.t[0].type != CK_JT_OBJECT || d.t[0].size != 2 || obj < 0 ||
	    d.t[obj].type != CK_JT_OBJECT || sv < 0 || d.t[sv].type != CK_JT_STRING) {
		ck_errf(err, CK_E_COLLATERAL,
			"PCS response: expected exactly {\"%s\":{...},\"signature\":\"...\"}", key);
		goto out;
	}
	if (ck_hex_decode_exact(body + d.t[sv].start, d.t[sv].end - d.t[sv].start, sig, 64,
				"PCS signature", err) < 0)
		goto out;
	/* The signed bytes are the object exactly as it stands in the body. */
	*inner_len = d.t[obj].end - d.t[obj].start;
	if (!(*inner = dup_n(body + d.t[obj].start, *inner_len))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	r = 0;
out:
	ck_json_free(&d);
	return r;
}

int ck_collateral_from_pcs(const struct ck_pcs_inputs *in, struct ck_collateral *c,
			   struct ck_err *err)
{
	memset(c, 0, sizeof(*c));
	if (ck_pcs_split_signed(in->tcb_info_body, in->tcb_info_body_len, "tcbInfo", &c->tcb_info,
				&c->tcb_info_len, c->tcb_info_sig, err) < 0)
		goto fail;
	if (ck_pcs_split_signed(in->qe_identity_body, in->qe_identity_body_len, "enclaveIdentity",
				&c->qe_identity, &c->qe_identity_len, c->qe_identity_sig, err) < 0)
		goto fail;
	if (ck_crl_decode(in->root_crl, in->root_crl_len, &c->root_ca_crl, &c->root_ca_crl_len,
			  "root CA CRL", err) < 0)
		goto fail;
	if (ck_crl_decode(in->pck_crl, in->pck_crl_len, &c->pck_crl, &c->pck_crl_len, "PCK CRL",
			  err) < 0)
		goto fail;
	c->tcb_info_issuer_chain = strdup(in->tcb_chain);
	c->qe_identity_issuer_chain = strdup(in->tcb_chain);
	c->pck_crl_issuer_chain = strdup(in->pck_crl_chain ? in->pck_crl_chain : "");
	if (!c->tcb_info_issuer_chain || !c->qe_identity_issuer_chain || !c->pck_crl_issuer_chain) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	return 0;
fail:
	ck_collateral_free(c);
	return -1;
}
