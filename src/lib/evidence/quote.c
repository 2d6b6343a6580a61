/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "cloak/codec.h"
#include "cloak/quote.h"

const uint8_t CK_INTEL_QE_VENDOR_ID[16] = {0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
					   0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07};

const char *ck_tee_name(enum ck_tee tee)
{
	switch (tee) {
	case CK_TEE_SGX:
		return "sgx";
	case CK_TEE_TDX:
		return "tdx";
	case CK_TEE_SEV_SNP:
		return "sev-snp";
	}
	return "unknown";
}

void ck_sgx_report_decode(const uint8_t *b, struct ck_sgx_report *r)
{
	memcpy(r->cpusvn, b + 0, 16);
	r->miscselect = ck_le32(b + 16);
	memcpy(r->isv_ext_prod_id, b + 32, 16);
	memcpy(r->attributes, b + 48, 16);
	memcpy(r->mrenclave, b + 64, 32);
	memcpy(r->mrsigner, b + 128, 32);
	memcpy(r->config_id, b + 192, 64);
	r->isv_prod_id = ck_le16(b + 256);
	r->isv_svn = ck_le16(b + 258);
	r->config_svn = ck_le16(b + 260);
	memcpy(r->isv_family_id, b + 304, 16);
	memcpy(r->report_data, b + 320, 64);
}

static void td_report_decode(const uint8_t *b, bool v15, struct ck_td_report *r)
{
	memset(r, 0, sizeof(*r));
	memcpy(r->tee_tcb_svn, b + 0, 16);
	memcpy(r->mrseam, b + 16, 48);
	memcpy(r->mrsignerseam, b + 64, 48);
	memcpy(r->seam_attributes, b + 112, 8);
	memcpy(r->td_attributes, b + 120, 8);
	memcpy(r->xfam, b + 128, 8);
	memcpy(r->mrtd, b + 136, 48);
	memcpy(r->mrconfigid, b + 184, 48);
	memcpy(r->mrowner, b + 232, 48);
	memcpy(r->mrownerconfig, b + 280, 48);
	for (int i = 0; i < 4; i++)
		memcpy(r->rtmr[i], b + 328 + 48 * i, 48);
	memcpy(r->report_data, b + 520, 64);
	if (v15) {
		memcpy(r->tee_tcb_svn2, b + 584, 16);
		memcpy(r->mrservicetd, b + 600, 48);
	}
}

const uint8_t *ck_quote_report_data(const struct ck_quote *q)
{
	return q->body_type == CK_BODY_SGX ? q->sgx.report_data : q->td.report_data;
}

/* A bounds-checked cursor over the quote. */
struct cur {
	const uint8_t *base, *p;
	size_t left;
};

static const uint8_t *take(struct cur *c, size_t n)
{
	if (n > c->left)
		return NULL;
	const uint8_t *r = c->p;
	c->p += n;
	c->left -= n;
	return r;
}

#define OFF(c) ((size_t)((c)->p - (c)->base))

static int truncated(struct ck_err *err, struct cur *c, const char *what, size_t need)
{
	return ck_errf(err, CK_E_QUOTE_TRUNCATED,
		       "quote truncated at offset %zu: %s needs %zu bytes, %zu left", OFF(c), what,
		       need, c->left);
}

/* QE report, its signature, auth data and the inner certification data (v3 layout, and the
 * content of a v4/v5 type-6 certification data). Consumes exactly c->left bytes. */
static int parse_qe_section(struct cur *c, struct ck_quote *q, struct ck_err *err)
{
	const uint8_t *p;
	if (!(q->qe_report_raw = take(c, CK_SGX_REPORT_LEN)))
		return truncated(err, c, "QE report", CK_SGX_REPORT_LEN);
	ck_sgx_report_decode(q->qe_report_raw, &q->qe_report);
	if (!(q->qe_report_sig = take(c, 64)))
		return truncated(err, c, "QE report signature", 64);
	if (!(p = take(c, 2)))
		return truncated(err, c, "QE auth data size", 2);
	q->qe_auth_len = ck_le16(p);
	if (!(q->qe_auth = take(c, q->qe_auth_len)))
		return truncated(err, c, "QE auth data", q->qe_auth_len);
	if (!(p = take(c, 6)))
		return truncated(err, c, "certification data header", 6);
	q->cert_type = ck_le16(p);
	uint32_t csize = ck_le32(p + 2);
	if (q->cert_type < CK_CERT_PPID_CLEAR || q->cert_type > CK_CERT_PCK_CHAIN)
		return ck_errf(err, CK_E_QUOTE_FORMAT,
			       "certification data type %u at offset %zu is not 1..5", q->cert_type,
			       OFF(c) - 6);
	if (csize != c->left)
		return ck_errf(err, CK_E_QUOTE_FORMAT,
			       "certification data size %u at offset %zu does not match the %zu "
			       "bytes that remain in the signature data",
			       csize, OFF(c) - 4, c->left);
	q->cert_data = take(c, csize);
	q->cert_data_len = csize;
	return 0;
}

int ck_quote_parse(const uint8_t *buf, size_t len, struct ck_quote *q, struct ck_err *err)
{
	memset(q, 0, sizeof(*q));
	if (len > CK_QUOTE_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "quote is %zu bytes, over the %d-byte limit",
			       len, CK_QUOTE_MAX_LEN);
	if (len < CK_QUOTE_MIN_LEN)
		return ck_errf(err, CK_E_QUOTE_TRUNCATED,
			       "quote is %zu bytes, shorter than the minimum of %d", len,
			       CK_QUOTE_MIN_LEN);
	struct cur c = {buf, buf, len};
	const uint8_t *h = take(&c, CK_QUOTE_HEADER_LEN), *p;

	q->version = ck_le16(h);
	q->att_key_type = ck_le16(h + 2);
	q->tee_type = ck_le32(h + 4);
	memcpy(q->vendor_id, h + 12, 16);
	memcpy(q->user_data, h + 28, 20);
	if (q->version < 3 || q->version > 5)
		return ck_errf(err, CK_E_QUOTE_VERSION, "quote version %u is not 3, 4 or 5",
			       q->version);
	if (q->att_key_type != 2)
		return ck_errf(err, CK_E_QUOTE_KEY_TYPE,
			       "attestation key type %u is not 2 (ECDSA P-256)", q->att_key_type);
	if (q->tee_type == CK_TEE_TYPE_SGX)
		q->tee = CK_TEE_SGX;
	else if (q->tee_type == CK_TEE_TYPE_TDX && q->version >= 4)
		q->tee = CK_TEE_TDX;
	else
		return ck_errf(err, CK_E_QUOTE_TEE_TYPE,
			       "TEE type 0x%08x is not valid for a version %u quote", q->tee_type,
			       q->version);
	if (q->version == 3) {
		q->qe_svn = ck_le16(h + 8);
		q->pce_svn = ck_le16(h + 10);
	}
	if (memcmp(q->vendor_id, CK_INTEL_QE_VENDOR_ID, 16) != 0) {
		char hex[33];
		ck_hex_encode(q->vendor_id, 16, hex);
		return ck_errf(err, CK_E_QUOTE_VENDOR, "QE vendor ID %s is not Intel's", hex);
	}

	/* Body. */
	size_t body_len;
	if (q->version == 5) {
		if (!(p = take(&c, 6)))
			return truncated(err, &c, "v5 body descriptor", 6);
		uint16_t bt = ck_le16(p);
		uint32_t bs = ck_le32(p + 2);
		static const size_t sizes[] = {0, CK_SGX_REPORT_LEN, CK_TD10_REPORT_LEN,
					       CK_TD15_REPORT_LEN};
		if (bt < CK_BODY_SGX || bt > CK_BODY_TD15)
			return ck_errf(err, CK_E_QUOTE_FORMAT, "v5 body type %u is not 1, 2 or 3",
				       bt);
		if (bs != sizes[bt])
			return ck_errf(err, CK_E_QUOTE_FORMAT,
				       "v5 body size %u does not match body type %u (%zu)", bs, bt,
				       sizes[bt]);
		if ((bt == CK_BODY_SGX) != (q->tee == CK_TEE_SGX))
			return ck_errf(err, CK_E_QUOTE_FORMAT,
				       "v5 body type %u does not agree with TEE type 0x%08x", bt,
				       q->tee_type);
		q->body_type = (enum ck_body_type)bt;
		body_len = bs;
	} else {
		q->body_type = q->tee == CK_TEE_SGX ? CK_BODY_SGX : CK_BODY_TD10;
		body_len = q->tee == CK_TEE_SGX ? CK_SGX_REPORT_LEN : CK_TD10_REPORT_LEN;
	}
	if (!(q->body = take(&c, body_len)))
		return truncated(err, &c, "report body", body_len);
	q->body_len = body_len;
	if (q->body_type == CK_BODY_SGX)
		ck_sgx_report_decode(q->body, &q->sgx);
	else
		td_report_decode(q->body, q->body_type == CK_BODY_TD15, &q->td);
	q->signed_data = buf;
	q->signed_len = OFF(&c);

	/* Signature data. */
	if (!(p = take(&c, 4)))
		return truncated(err, &c, "signature data size", 4);
	uint32_t sig_len = ck_le32(p);
	size_t sig_off = OFF(&c);
	if (sig_len > c.left)
		return ck_errf(err, CK_E_QUOTE_TRUNCATED,
			       "signature data size %u at offset %zu exceeds the %zu bytes left",
			       sig_len, sig_off - 4, c.left);
	struct cur s = {buf, c.p, sig_len};
	q->trailing_len = c.left - sig_len;
	if (!(q->isv_sig = take(&s, 64)))
		return truncated(err, &s, "quote signature", 64);
	if (!(q->attest_key = take(&s, 64)))
		return truncated(err, &s, "attestation key", 64);
	if (q->version == 3)
		return parse_qe_section(&s, q, err);

	if (!(p = take(&s, 6)))
		return truncated(err, &s, "certification data header", 6);
	uint16_t outer = ck_le16(p);
	uint32_t osize = ck_le32(p + 2);
	if (outer != CK_CERT_QE_REPORT)
		return ck_errf(err, CK_E_QUOTE_FORMAT,
			       "v%u certification data type %u at offset %zu is not 6", q->version,
			       outer, OFF(&s) - 6);
	if (osize != s.left)
		return ck_errf(err, CK_E_QUOTE_FORMAT,
			       "certification data size %u at offset %zu does not match the %zu "
			       "bytes that remain in the signature data",
			       osize, OFF(&s) - 4, s.left);
	return parse_qe_section(&s, q, err);
}
