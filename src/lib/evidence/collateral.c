/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cloak/codec.h"
#include "cloak/collateral.h"

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

int ck_crl_decode(const uint8_t *in, size_t len, uint8_t **der, size_t *der_len,
		  const char *what, struct ck_err *err)
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
		if (n <= 0)
			return ck_errf(err, CK_E_CRL_FORMAT, "%s: cannot re-encode the CRL", what);
		*der = malloc((size_t)n);
		if (*der) {
			memcpy(*der, out, (size_t)n);
			*der_len = (size_t)n;
		}
		OPENSSL_free(out);
		return *der ? 0 : ck_errf(err, CK_E_NOMEM, "out of memory");
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

/* Fetches a required non-empty string member. */
static int req_str(const json_t *obj, const char *key, const char **s, size_t *n,
		   struct ck_err *err)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return ck_errf(err, CK_E_COLLATERAL, "collateral: field \"%s\" is missing", key);
	if (!json_is_string(v) || json_string_length(v) == 0)
		return ck_errf(err, CK_E_COLLATERAL,
			       "collateral: field \"%s\" is not a non-empty string", key);
	*s = json_string_value(v);
	*n = json_string_length(v);
	return 0;
}

int ck_collateral_from_json(const json_t *obj, struct ck_collateral *c, struct ck_err *err)
{
	const char *s;
	size_t n;
	memset(c, 0, sizeof(*c));
	if (!json_is_object(obj))
		return ck_errf(err, CK_E_COLLATERAL, "collateral: not a JSON object");
	static const char *const pem_keys[] = {"pck_crl_issuer_chain", "tcb_info_issuer_chain",
					       "qe_identity_issuer_chain"};
	char **pem_dst[] = {&c->pck_crl_issuer_chain, &c->tcb_info_issuer_chain,
			    &c->qe_identity_issuer_chain};
	for (int i = 0; i < 3; i++) {
		/* An empty PCK CRL issuer chain is allowed: the quote's own chain then serves. */
		json_t *pv = json_object_get(obj, pem_keys[i]);
		if (i == 0 && json_is_string(pv) && json_string_length(pv) == 0) {
			s = "";
			n = 0;
		} else if (req_str(obj, pem_keys[i], &s, &n, err) < 0) {
			goto fail;
		}
		if (!(*pem_dst[i] = dup_n(s, n)))
			goto oom;
	}
	if (req_str(obj, "root_ca_crl", &s, &n, err) < 0 ||
	    ck_crl_decode((const uint8_t *)s, n, &c->root_ca_crl, &c->root_ca_crl_len,
			  "collateral root_ca_crl", err) < 0)
		goto fail;
	if (req_str(obj, "pck_crl", &s, &n, err) < 0 ||
	    ck_crl_decode((const uint8_t *)s, n, &c->pck_crl, &c->pck_crl_len,
			  "collateral pck_crl", err) < 0)
		goto fail;
	if (req_str(obj, "tcb_info", &s, &n, err) < 0)
		goto fail;
	if (!(c->tcb_info = dup_n(s, n)))
		goto oom;
	c->tcb_info_len = n;
	if (req_str(obj, "qe_identity", &s, &n, err) < 0)
		goto fail;
	if (!(c->qe_identity = dup_n(s, n)))
		goto oom;
	c->qe_identity_len = n;
	if (req_str(obj, "tcb_info_signature", &s, &n, err) < 0 ||
	    ck_hex_decode_exact(s, n, c->tcb_info_sig, 64, "collateral tcb_info_signature", err) <
		    0)
		goto fail;
	if (req_str(obj, "qe_identity_signature", &s, &n, err) < 0 ||
	    ck_hex_decode_exact(s, n, c->qe_identity_sig, 64, "collateral qe_identity_signature",
				err) < 0)
		goto fail;
	return 0;
oom:
	ck_errf(err, CK_E_NOMEM, "out of memory");
fail:
	ck_collateral_free(c);
	return -1;
}

int ck_collateral_parse(const char *text, size_t len, struct ck_collateral *out,
			struct ck_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "collateral is %zu bytes, over the %d limit",
			       len, CK_COLLATERAL_MAX_LEN);
	json_error_t je;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ck_errf(err, CK_E_JSON, "collateral: invalid JSON at line %d column %d: %s",
			       je.line, je.column, je.text);
	int r = ck_collateral_from_json(root, out, err);
	json_decref(root);
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
	bad |= json_object_set_new(o, "pck_crl_issuer_chain",
				   json_string(c->pck_crl_issuer_chain ? c->pck_crl_issuer_chain
								       : ""));
	bad |= json_object_set_new(o, "root_ca_crl", hex_json(c->root_ca_crl, c->root_ca_crl_len));
	bad |= json_object_set_new(o, "pck_crl", hex_json(c->pck_crl, c->pck_crl_len));
	bad |= json_object_set_new(o, "tcb_info_issuer_chain",
				   json_string(c->tcb_info_issuer_chain));
	bad |= json_object_set_new(o, "tcb_info", json_stringn(c->tcb_info, c->tcb_info_len));
	bad |= json_object_set_new(o, "tcb_info_signature", hex_json(c->tcb_info_sig, 64));
	bad |= json_object_set_new(o, "qe_identity_issuer_chain",
				   json_string(c->qe_identity_issuer_chain));
	bad |= json_object_set_new(o, "qe_identity",
				   json_stringn(c->qe_identity, c->qe_identity_len));
	bad |= json_object_set_new(o, "qe_identity_signature", hex_json(c->qe_identity_sig, 64));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* ---- exact-byte extraction from a PCS response ------------------------------------------ */

static size_t skip_ws(const char *s, size_t i, size_t n)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] == '"'; returns the index after the closing quote, or 0 on error. */
static size_t skip_string(const char *s, size_t i, size_t n)
{
	for (i++; i < n; i++) {
		if (s[i] == '\\')
			i++;
		else if (s[i] == '"')
			return i + 1;
	}
	return 0;
}

/* Returns the index just after the JSON value that starts at i, or 0 on error. The text has
 * already been validated by jansson, so this only has to find the extent. */
static size_t skip_value(const char *s, size_t i, size_t n)
{
	if (i >= n)
		return 0;
	if (s[i] == '"')
		return skip_string(s, i, n);
	if (s[i] == '{' || s[i] == '[') {
		int depth = 0;
		while (i < n) {
			char ch = s[i];
			if (ch == '"') {
				if (!(i = skip_string(s, i, n)))
					return 0;
				continue;
			}
			if (ch == '{' || ch == '[')
				depth++;
			else if (ch == '}' || ch == ']')
				if (--depth == 0)
					return i + 1;
			i++;
		}
		return 0;
	}
	while (i < n && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ' ' &&
	       s[i] != '\n' && s[i] != '\r' && s[i] != '\t')
		i++;
	return i;
}

int ck_pcs_split_signed(const char *body, size_t len, const char *key, char **inner,
			size_t *inner_len, uint8_t sig[64], struct ck_err *err)
{
	*inner = NULL;
	*inner_len = 0;
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "PCS %s response is %zu bytes, over the limit",
			       key, len);
	json_error_t je;
	json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return ck_errf(err, CK_E_JSON, "PCS %s response: invalid JSON at line %d: %s", key,
			       je.line, je.text);
	json_t *obj = json_object_get(root, key), *sv = json_object_get(root, "signature");
	if (!json_is_object(root) || json_object_size(root) != 2 || !json_is_object(obj) ||
	    !json_is_string(sv)) {
		json_decref(root);
		return ck_errf(err, CK_E_COLLATERAL,
			       "PCS response: expected exactly {\"%s\":{...},\"signature\":\"...\"}",
			       key);
	}
	if (ck_hex_decode_exact(json_string_value(sv), json_string_length(sv), sig, 64,
				"PCS signature", err) < 0) {
		json_decref(root);
		return -1;
	}
	json_decref(root);

	/* Walk the top-level members to find the raw extent of the value. */
	size_t klen = strlen(key);
	size_t i = skip_ws(body, 0, len);
	if (i >= len || body[i] != '{')
		goto bad;
	i++;
	for (;;) {
		i = skip_ws(body, i, len);
		if (i >= len || body[i] != '"')
			goto bad;
		size_t kstart = i + 1, kend = skip_string(body, i, len);
		if (!kend)
			goto bad;
		i = skip_ws(body, kend, len);
		if (i >= len || body[i] != ':')
			goto bad;
		i = skip_ws(body, i + 1, len);
		size_t vstart = i, vend = skip_value(body, i, len);
		if (!vend)
			goto bad;
		if (kend - 1 - kstart == klen && memcmp(body + kstart, key, klen) == 0) {
			if (!(*inner = dup_n(body + vstart, vend - vstart)))
				return ck_errf(err, CK_E_NOMEM, "out of memory");
			*inner_len = vend - vstart;
			return 0;
		}
		i = skip_ws(body, vend, len);
		if (i >= len || body[i] != ',')
			goto bad;
		i++;
	}
bad:
	return ck_errf(err, CK_E_COLLATERAL,
		       "PCS response: member \"%s\" not found as a plain key", key);
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
