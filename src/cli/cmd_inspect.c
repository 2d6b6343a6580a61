/* SPDX-License-Identifier: Apache-2.0 */
/* cloak inspect: what a quote, collateral, evidence bundle or certificate contains. No checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/manifest.h"
#include "cloak/pck.h"
#include "cloak/ratls.h"
#include "cloak/stream.h"
#include "cloak/quote.h"
#include "evidence/x509util.h"

#define INSPECT_MAX (4 * 1024 * 1024) /* packages are not read whole: see peek_package() */

static const struct ck_opt_spec spec = {
    .name = "cloak inspect",
    .operands = "FILE",
    .about = "Shows what FILE contains, without verifying anything: an SGX/TDX quote, an\n"
	     "evidence bundle, collateral (QuoteCollateralV3), a raw PCS TCB Info / QE Identity\n"
	     "response, an X.509 certificate (PEM or DER; the SGX PCK extension is decoded), a\n"
	     "package (its header, without the key) or a deploy manifest."};

static json_t *report_json(const struct ck_sgx_report *r)
{
	return json_pack("{s:o, s:I, s:o, s:o, s:o, s:i, s:i, s:b, s:o}", "cpusvn",
			 cli_hex(r->cpusvn, 16), "miscselect", (json_int_t)r->miscselect,
			 "attributes", cli_hex(r->attributes, 16), "mrenclave",
			 cli_hex(r->mrenclave, 32), "mrsigner", cli_hex(r->mrsigner, 32),
			 "isv_prod_id", r->isv_prod_id, "isv_svn", r->isv_svn, "debug",
			 ck_sgx_report_is_debug(r), "report_data", cli_hex(r->report_data, 64));
}

static json_t *td_json(const struct ck_td_report *t, bool v15)
{
	json_t *o = json_pack(
	    "{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "tee_tcb_svn",
	    cli_hex(t->tee_tcb_svn, 16), "mrseam", cli_hex(t->mrseam, 48), "td_attributes",
	    cli_hex(t->td_attributes, 8), "xfam", cli_hex(t->xfam, 8), "mrtd", cli_hex(t->mrtd, 48),
	    "rtmr0", cli_hex(t->rtmr[0], 48), "rtmr1", cli_hex(t->rtmr[1], 48), "rtmr2",
	    cli_hex(t->rtmr[2], 48), "rtmr3", cli_hex(t->rtmr[3], 48), "report_data",
	    cli_hex(t->report_data, 64), "debug", (t->td_attributes[0] & 1) != 0);
	if (v15)
		json_object_set_new(o, "mrservicetd", cli_hex(t->mrservicetd, 48));
	return o;
}

static json_t *pck_json(const struct ck_pck_ext *e)
{
	json_t *comps = json_array();
	for (int i = 0; i < 16; i++)
		json_array_append_new(comps, json_integer(e->comp_svn[i]));
	return json_pack("{s:o, s:o, s:o, s:o, s:i, s:o, s:i}", "fmspc", cli_hex(e->fmspc, 6),
			 "pceid", cli_hex(e->pceid, 2), "ppid", cli_hex(e->ppid, 16), "cpusvn",
			 cli_hex(e->cpusvn, 16), "pcesvn", e->pcesvn, "tcb_components", comps,
			 "sgx_type", (int)e->sgx_type);
}

static json_t *quote_json(const struct ck_quote *q);

/* The RA-TLS evidence a certificate carries, if any. */
static json_t *ratls_json(X509 *x)
{
	struct ck_ratls_info info;
	struct ck_err e;
	if (ck_ratls_inspect(x, &info, &e) < 0)
		return json_pack("{s:s}", "error", e.msg);
	if (!info.n_ext)
		return NULL;
	json_t *exts = json_array();
	for (size_t i = 0; i < info.n_ext; i++) {
		const struct ck_ratls_ext *x2 = &info.ext[i];
		json_t *o = json_pack("{s:s, s:b, s:b}", "extension", ck_ratls_kind_name(x2->kind),
				      "binding_defined", x2->binding_defined, "bound", x2->bound);
		if (x2->bound)
			json_object_set_new(o, "binding", json_string(x2->binding));
		json_array_append_new(exts, o);
	}
	json_t *o = json_pack("{s:o, s:b, s:o}", "extensions", exts, "key_bound", info.key_bound,
			      "spki_sha256", cli_hex(info.spki_sha256, 32));
	if (info.has_claims) {
		json_object_set_new(o, "claims", claims_json(&info.claims));
		json_object_set_new(o, "claims_bound", json_boolean(info.claims_bound));
	}
	const struct ck_ratls_ext *pe = ck_ratls_primary(&info);
	struct ck_quote q;
	if (pe && ck_quote_parse(pe->quote, pe->quote_len, &q, NULL) == 0)
		json_object_set_new(o, "quote", quote_json(&q));
	return o;
}

static json_t *cert_json(X509 *x)
{
	char subj[256], iss[256];
	ck_time_t a = 0, b = 0;
	X509_NAME_oneline(X509_get_subject_name(x), subj, sizeof(subj));
	X509_NAME_oneline(X509_get_issuer_name(x), iss, sizeof(iss));
	ck_x509_times(x, &a, &b);
	EVP_PKEY *k = X509_get0_pubkey(x);
	json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:s, s:i, s:b}", "subject", subj, "issuer", iss,
			      "not_before", cli_time_json(a), "not_after", cli_time_json(b),
			      "key_type", k ? EVP_PKEY_get0_type_name(k) : "?", "key_bits",
			      k ? EVP_PKEY_get_bits(k) : 0, "simulated",
			      ck_x509_name_contains(X509_get_subject_name(x), CK_SIM_MARKER));
	json_t *rt = ratls_json(x);
	if (rt)
		json_object_set_new(o, "ratls", rt);
	bool dup;
	const ASN1_OCTET_STRING *ext =
	    ck_x509_find_ext(x, CK_PCK_EXT_OID_DER, CK_PCK_EXT_OID_LEN, &dup);
	if (ext && !(ASN1_STRING_length(ext) > 0 && ASN1_STRING_get0_data(ext)[0] != 0x30))
		ext = NULL; /* the Intel SGX SDK puts a raw quote under the same OID */
	if (ext) {
		struct ck_pck_ext pe;
		struct ck_err e;
		if (ck_pck_ext_parse(ASN1_STRING_get0_data(ext), (size_t)ASN1_STRING_length(ext),
				     &pe, &e) == 0)
			json_object_set_new(o, "sgx_pck_extension", pck_json(&pe));
		else
			json_object_set_new(o, "sgx_pck_extension_error", json_string(e.msg));
	}
	return o;
}

static json_t *quote_json(const struct ck_quote *q)
{
	json_t *o = json_pack("{s:s, s:i, s:s, s:i}", "kind", "quote", "version", q->version, "tee",
			      ck_tee_name(q->tee), "cert_type", q->cert_type);
	json_object_set_new(o, "user_data", cli_hex(q->user_data, 20));
	if (q->body_type == CK_BODY_SGX)
		json_object_set_new(o, "enclave", report_json(&q->sgx));
	else
		json_object_set_new(o, "td", td_json(&q->td, q->body_type == CK_BODY_TD15));
	json_object_set_new(o, "qe_report", report_json(&q->qe_report));
	json_object_set_new(o, "attestation_key", cli_hex(q->attest_key, 64));
	json_object_set_new(o, "trailing_bytes", json_integer((json_int_t)q->trailing_len));
	X509 *c[CK_CHAIN_MAX_CERTS];
	size_t n;
	if (q->cert_type == CK_CERT_PCK_CHAIN &&
	    ck_pem_chain_parse((const char *)q->cert_data, q->cert_data_len, c, 1,
			       CK_CHAIN_MAX_CERTS, &n, "PCK chain", CK_E_QUOTE_CERTS, NULL) == 0) {
		json_t *arr = json_array();
		for (size_t i = 0; i < n; i++)
			json_array_append_new(arr, cert_json(c[i]));
		json_object_set_new(o, "pck_chain", arr);
		ck_certs_free(c, n);
	}
	return o;
}

static json_t *tcb_json(const char *text, size_t len, struct ck_err *e)
{
	struct ck_tcb_info t;
	if (ck_tcb_info_parse(text, len, &t, e) < 0)
		return NULL;
	json_t *lv = json_array();
	for (size_t i = 0; i < t.n_levels; i++) {
		json_t *adv = json_array(), *comps = json_array();
		for (size_t k = 0; k < t.levels[i].adv_count; k++)
			json_array_append_new(
			    adv, json_string(t.advisories.ids[t.levels[i].adv_first + k]));
		for (int k = 0; k < CK_TCB_COMPONENTS; k++)
			json_array_append_new(comps, json_integer(t.levels[i].sgx_svn[k]));
		json_array_append_new(
		    lv, json_pack("{s:s, s:o, s:i, s:o, s:o}", "status",
				  ck_tcb_status_name(t.levels[i].status), "sgx_components", comps,
				  "pcesvn", t.levels[i].pcesvn, "tcb_date",
				  cli_time_json(t.levels[i].tcb_date), "advisories", adv));
	}
	json_t *o =
	    json_pack("{s:i, s:s, s:o, s:o, s:o, s:o, s:I, s:o}", "version", t.version, "id", t.id,
		      "fmspc", cli_hex(t.fmspc, 6), "pceid", cli_hex(t.pceid, 2), "issue_date",
		      cli_time_json(t.issue_date), "next_update", cli_time_json(t.next_update),
		      "tcb_evaluation_data_number", (json_int_t)t.eval_num, "levels", lv);
	ck_tcb_info_free(&t);
	return o;
}

static json_t *qe_json(const char *text, size_t len, struct ck_err *e)
{
	struct ck_qe_identity q;
	if (ck_qe_identity_parse(text, len, &q, e) < 0)
		return NULL;
	json_t *lv = json_array();
	for (size_t i = 0; i < q.n_levels; i++)
		json_array_append_new(lv,
				      json_pack("{s:i, s:s}", "isvsvn", q.levels[i].isvsvn,
						"status", ck_tcb_status_name(q.levels[i].status)));
	json_t *o = json_pack("{s:s, s:i, s:o, s:o, s:o, s:i, s:I, s:o}", "id", q.id, "version",
			      q.version, "issue_date", cli_time_json(q.issue_date), "next_update",
			      cli_time_json(q.next_update), "mrsigner", cli_hex(q.mrsigner, 32),
			      "isvprodid", q.isvprodid, "tcb_evaluation_data_number",
			      (json_int_t)q.eval_num, "levels", lv);
	ck_qe_identity_free(&q);
	return o;
}

static json_t *collateral_json(const struct ck_collateral *c, struct ck_err *e)
{
	json_t *t = tcb_json(c->tcb_info, c->tcb_info_len, e), *q;
	if (!t)
		return NULL;
	if (!(q = qe_json(c->qe_identity, c->qe_identity_len, e))) {
		json_decref(t);
		return NULL;
	}
	return json_pack("{s:s, s:o, s:o}", "kind", "collateral", "tcb_info", t, "qe_identity", q);
}

static json_t *package_json(const uint8_t *buf, size_t hdr_len, uint64_t len, struct ck_err *e)
{
	struct ck_pkg_header h;
	if (ck_pkg_header_parse(buf, hdr_len, &h, e) < 0)
		return NULL;
	return json_pack("{s:s, s:i, s:s, s:i, s:I, s:I, s:I, s:I, s:b}", "kind", "package",
			 "format_version", h.version, "algorithm", "AES-256-GCM STREAM",
			 "chunk_size", (int)h.chunk_size, "plaintext_bytes",
			 (json_int_t)h.plain_len, "chunks", (json_int_t)ck_pkg_chunks(&h),
			 "expected_bytes", (json_int_t)ck_pkg_sealed_len(&h), "actual_bytes",
			 (json_int_t)len, "size_matches", ck_pkg_sealed_len(&h) == len);
}

static json_t *manifest_json(const uint8_t *buf, size_t len, struct ck_err *e)
{
	struct ck_manifest m;
	uint8_t h[32];
	char okey[CK_OWNER_PUB_STR_LEN + 1];
	if (ck_manifest_parse((const char *)buf, len, &m, h, e) < 0)
		return NULL;
	ck_owner_pub_format(m.owner_key, okey);
	json_t *o =
	    json_pack("{s:s, s:o, s:s, s:o, s:o, s:s, s:s, s:o, s:s, s:s}", "kind", "manifest",
		      "sha256", cli_hex(h, 32), "name", m.name, "fingerprint",
		      cli_hex(m.fingerprint, 32), "package_sha256", cli_hex(m.package_sha256, 32),
		      "mode", ck_mode_name(m.mode), "owner_key", okey, "expires",
		      cli_time_json(m.expires), "run", m.run, "health", m.health);
	if (m.domain[0])
		json_object_set_new(o, "domain", json_string(m.domain));
	if (m.has_owner_cert)
		json_object_set_new(o, "owner_cert_sha256", cli_hex(m.owner_cert_sha256, 32));
	if (m.policy_json)
		json_object_set_new(o, "policy", json_loads(m.policy_json, 0, NULL));
	ck_manifest_free(&m);
	return o;
}

static json_t *bundle_json(const uint8_t *buf, size_t len, struct ck_err *e)
{
	struct ck_bundle b;
	struct ck_quote q;
	if (ck_bundle_parse((const char *)buf, len, &b, e) < 0)
		return NULL;
	json_t *o = NULL;
	if (ck_quote_parse(b.quote, b.quote_len, &q, e) == 0) {
		o = json_pack("{s:s, s:o}", "kind", "evidence_bundle", "quote", quote_json(&q));
		if (b.has_collateral) {
			json_t *cj = collateral_json(&b.collateral, e);
			json_object_set_new(o, "collateral", cj ? cj : json_null());
		}
		if (b.claims)
			json_object_set_new(o, "claims_cbor", cli_hex(b.claims, b.claims_len));
	}
	ck_bundle_free(&b);
	return o;
}

/* JSON that is not a bundle or manifest: collateral, or a raw PCS response. */
static json_t *json_doc(const uint8_t *buf, size_t len, struct ck_err *e)
{
	json_t *root = json_loadb((const char *)buf, len, JSON_REJECT_DUPLICATES, NULL);
	bool qvl = root && json_object_get(root, "tcb_info");
	bool pcs_tcb = root && json_object_get(root, "tcbInfo");
	bool pcs_qe = root && json_object_get(root, "enclaveIdentity");
	json_decref(root);
	if (qvl) {
		struct ck_collateral c;
		if (ck_collateral_parse((const char *)buf, len, &c, e) < 0)
			return NULL;
		json_t *o = collateral_json(&c, e);
		ck_collateral_free(&c);
		return o;
	}
	if (!pcs_tcb && !pcs_qe) {
		ck_errf(e, CK_E_JSON, "JSON, but not a bundle, collateral or PCS response");
		return NULL;
	}
	char *inner;
	size_t n;
	uint8_t sig[64];
	if (ck_pcs_split_signed((const char *)buf, len, pcs_tcb ? "tcbInfo" : "enclaveIdentity",
				&inner, &n, sig, e) < 0)
		return NULL;
	json_t *d = pcs_tcb ? tcb_json(inner, n, e) : qe_json(inner, n, e);
	free(inner);
	return d ? json_pack("{s:s, s:o}", "kind", pcs_tcb ? "pcs_tcb_info" : "pcs_qe_identity",
			     pcs_tcb ? "tcb_info" : "qe_identity", d)
		 : NULL;
}

static json_t *pem_certs_json(const uint8_t *buf, size_t len, struct ck_err *e)
{
	X509 *c[CK_CHAIN_MAX_CERTS];
	size_t n;
	if (ck_pem_chain_parse((const char *)buf, len, c, 1, CK_CHAIN_MAX_CERTS, &n,
			       "certificate file", CK_E_CERT_FORMAT, e) < 0)
		return NULL;
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, cert_json(c[i]));
	ck_certs_free(c, n);
	return json_pack("{s:s, s:o}", "kind", "certificates", "certificates", arr);
}

static json_t *inspect_buf(const uint8_t *buf, size_t len, struct ck_err *e)
{
	if (len && buf[0] == '{' && memmem(buf, len, "\"cloak_manifest\"", 16))
		return manifest_json(buf, len, e);
	if (ck_bundle_sniff(buf, len))
		return bundle_json(buf, len, e);
	if (len && buf[0] == '{')
		return json_doc(buf, len, e);
	if (len > 27 && !memcmp(buf, "-----BEGIN CERTIFICATE-----", 27))
		return pem_certs_json(buf, len, e);
	if (len >= 2 && ck_le16(buf) >= 3 && ck_le16(buf) <= 5) {
		struct ck_quote q;
		if (ck_quote_parse(buf, len, &q, e) < 0)
			return NULL;
		return quote_json(&q);
	}
	if (len && buf[0] == 0x30) {
		const unsigned char *p = buf;
		X509 *x = d2i_X509(NULL, &p, (long)len);
		if (x && p == buf + len) {
			json_t *o = json_pack("{s:s, s:[o]}", "kind", "certificates",
					      "certificates", cert_json(x));
			X509_free(x);
			return o;
		}
		X509_free(x);
	}
	ck_errf(e, CK_E_ENCODING, "not a quote, bundle, collateral or certificate");
	return NULL;
}

/* Text form: the JSON, flattened one "path: value" per line. */
static void flat(const char *prefix, json_t *v)
{
	char key[256];
	const char *k;
	json_t *x;
	size_t i;
	if (json_is_object(v)) {
		json_object_foreach(v, k, x)
		{
			snprintf(key, sizeof(key), "%s%s%s", prefix, *prefix ? "." : "", k);
			flat(key, x);
		}
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
		{
			snprintf(key, sizeof(key), "%s[%zu]", prefix, i);
			flat(key, x);
		}
	} else {
		char *s = json_dumps(v, JSON_ENCODE_ANY);
		printf("%-40s %s\n", prefix, s ? s : "?");
		free(s);
	}
}

int cmd_inspect(int argc, char **argv)
{
	bool json;
	int ex, operand = ck_opts_one_operand(&spec, argc, argv, &json, &ex);
	if (operand < 0)
		return ex;
	uint8_t *buf, head[CK_PKG_HEADER_LEN];
	size_t len;
	struct ck_err e;
	json_t *o;
	/* A package can be gigabytes: look at its header and size only. */
	FILE *f = fopen(argv[operand], "rb");
	size_t hn = f ? fread(head, 1, sizeof(head), f) : 0;
	if (f && hn >= 8 && !memcmp(head, CK_PKG_MAGIC, 8)) {
		fseeko(f, 0, SEEK_END);
		uint64_t size = (uint64_t)ftello(f);
		fclose(f);
		o = package_json(head, hn, size, &e);
		goto print;
	}
	if (f)
		fclose(f);
	if (cli_read(argv[operand], INSPECT_MAX, &buf, &len, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	o = inspect_buf(buf, len, &e);
	free(buf);
print:
	if (!o) {
		ck_err_wrap(&e, "%s", argv[operand]);
		cli_err(&e);
		return EXIT_REJECTED;
	}
	if (json) {
		cli_print_json(o);
	} else {
		flat("", o);
		json_decref(o);
	}
	return EXIT_OK;
}
