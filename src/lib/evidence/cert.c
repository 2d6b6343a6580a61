/* SPDX-License-Identifier: Apache-2.0 */
/* In-place X.509 / CRL parsing for DCAP chains (see cert.h). */
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/pck.h"
#include "cert.h"
#include "util/der.h"

#define DER_BIT_STRING 0x03
#define DER_NULL       0x05
#define DER_UTF8       0x0c
#define DER_SET	       0x31
#define DER_UTCTIME    0x17
#define DER_GENTIME    0x18
#define DER_CTX0       0xa0
#define DER_CTX3       0xa3

static const uint8_t OID_ECDSA_SHA256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
static const uint8_t OID_EC_PUBKEY[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t OID_P256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t OID_CN[] = {0x55, 0x04, 0x03};
static const uint8_t OID_BASIC_CONSTRAINTS[] = {0x55, 0x1d, 0x13};
static const uint8_t OID_KEY_USAGE[] = {0x55, 0x1d, 0x0f};
#define OID_SGX CK_PCK_EXT_OID_DER

#define OID_IS(v, n, oid) ((n) == sizeof(oid) && memcmp((v), (oid), sizeof(oid)) == 0)

bool ck_bytes_eq(struct ck_bytes a, struct ck_bytes b)
{
	return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static int two(const uint8_t *p, int *v)
{
	if (p[0] < '0' || p[0] > '9' || p[1] < '0' || p[1] > '9')
		return -1;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return 0;
}

/* UTCTime "YYMMDDHHMMSSZ" or GeneralizedTime "YYYYMMDDHHMMSSZ" (RFC 5280 §4.1.2.5). */
static int der_time(struct ck_der_reader *d, ck_time_t *out)
{
	uint8_t tag;
	const uint8_t *v;
	size_t n;
	int y, c = 0, mo, da, h, mi, s;
	if (ck_der_next(d, &tag, &v, &n) < 0)
		return -1;
	if (tag == DER_UTCTIME && n == 13) {
		if (two(v, &y))
			return -1;
		y += y >= 50 ? 1900 : 2000;
	} else if (tag == DER_GENTIME && n == 15) {
		if (two(v, &c) || two(v + 2, &y))
			return -1;
		y += c * 100;
		v += 2;
	} else {
		return -1;
	}
	if (two(v + 2, &mo) || two(v + 4, &da) || two(v + 6, &h) || two(v + 8, &mi) ||
	    two(v + 10, &s) || v[12] != 'Z')
		return -1;
	if (mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 59)
		return -1;
	*out = ck_time_from_civil(y, mo, da, h, mi, s);
	return 0;
}

/* AlgorithmIdentifier ecdsa-with-SHA256, parameters absent (RFC 5758 §3.2). */
static int sig_alg(struct ck_der_reader *d, struct ck_bytes *raw)
{
	const uint8_t *v, *oid;
	size_t n, on;
	struct ck_der_reader a;
	const uint8_t *start = d->p;
	if (ck_der_expect(d, CK_DER_SEQUENCE, &v, &n) < 0)
		return -1;
	ck_der_init(&a, v, n);
	if (ck_der_expect(&a, CK_DER_OID, &oid, &on) < 0 || !ck_der_done(&a) ||
	    !OID_IS(oid, on, OID_ECDSA_SHA256))
		return -1;
	if (raw) {
		raw->p = start;
		raw->n = (size_t)(d->p - start);
	}
	return 0;
}

/* BIT STRING holding a DER ECDSA-Sig-Value; r and s positive, minimal, at most 32 bytes. */
static int sig_value(struct ck_der_reader *d, uint8_t out[64])
{
	const uint8_t *v, *sv, *iv;
	size_t n, sn, in;
	struct ck_der_reader s;
	if (ck_der_expect(d, DER_BIT_STRING, &v, &n) < 0 || n < 1 || v[0] != 0)
		return -1;
	ck_der_init(&s, v + 1, n - 1);
	if (ck_der_expect(&s, CK_DER_SEQUENCE, &sv, &sn) < 0 || !ck_der_done(&s))
		return -1;
	ck_der_init(&s, sv, sn);
	memset(out, 0, 64);
	for (int i = 0; i < 2; i++) {
		if (ck_der_expect(&s, CK_DER_INTEGER, &iv, &in) < 0 || in == 0 || (iv[0] & 0x80))
			return -1;
		if (in > 1 && iv[0] == 0 && !(iv[1] & 0x80))
			return -1; /* not minimal */
		if (iv[0] == 0) {
			iv++;
			in--;
		}
		if (in > 32)
			return -1;
		memcpy(out + 32 * i + (32 - in), iv, in);
	}
	return ck_der_done(&s) ? 0 : -1;
}

/* Checks a Name is a SEQUENCE of SETs of SEQUENCE { OID, value } and returns it raw. */
static int name(struct ck_der_reader *d, struct ck_bytes *out)
{
	const uint8_t *start = d->p, *v;
	size_t n;
	if (ck_der_expect(d, CK_DER_SEQUENCE, &v, &n) < 0)
		return -1;
	struct ck_der_reader rdns;
	ck_der_init(&rdns, v, n);
	while (!ck_der_done(&rdns)) {
		const uint8_t *sv, *av, *oid, *val;
		size_t sn, an, on, vn;
		uint8_t vt;
		struct ck_der_reader set, atv;
		if (ck_der_expect(&rdns, DER_SET, &sv, &sn) < 0 || sn == 0)
			return -1;
		ck_der_init(&set, sv, sn);
		while (!ck_der_done(&set)) {
			if (ck_der_expect(&set, CK_DER_SEQUENCE, &av, &an) < 0)
				return -1;
			ck_der_init(&atv, av, an);
			if (ck_der_expect(&atv, CK_DER_OID, &oid, &on) < 0 ||
			    ck_der_next(&atv, &vt, &val, &vn) < 0 || !ck_der_done(&atv))
				return -1;
		}
	}
	out->p = start;
	out->n = (size_t)(d->p - start);
	return 0;
}

/* Calls fn(oid, value) for every attribute of a Name already checked by name(). */
static bool name_walk(struct ck_bytes nm,
		      bool (*fn)(const uint8_t *, size_t, const uint8_t *, size_t, void *),
		      void *arg)
{
	struct ck_der_reader d, rdns, set, atv;
	const uint8_t *v, *oid, *val;
	size_t n, on, vn;
	uint8_t vt;
	ck_der_init(&d, nm.p, nm.n);
	if (ck_der_expect(&d, CK_DER_SEQUENCE, &v, &n) < 0)
		return false;
	ck_der_init(&rdns, v, n);
	while (!ck_der_done(&rdns)) {
		if (ck_der_expect(&rdns, DER_SET, &v, &n) < 0)
			return false;
		ck_der_init(&set, v, n);
		while (!ck_der_done(&set)) {
			if (ck_der_expect(&set, CK_DER_SEQUENCE, &v, &n) < 0)
				return false;
			ck_der_init(&atv, v, n);
			if (ck_der_expect(&atv, CK_DER_OID, &oid, &on) < 0 ||
			    ck_der_next(&atv, &vt, &val, &vn) < 0)
				return false;
			if (fn(oid, on, val, vn, arg))
				return true;
		}
	}
	return false;
}

struct cn_arg {
	char *out;
	bool found;
};

static bool cn_fn(const uint8_t *oid, size_t on, const uint8_t *val, size_t vn, void *arg)
{
	struct cn_arg *a = arg;
	if (!OID_IS(oid, on, OID_CN))
		return false;
	size_t k = 0;
	for (size_t i = 0; i < vn && k + 1 < CK_CN_MAX; i++)
		a->out[k++] = (val[i] >= 0x20 && val[i] < 0x7f) ? (char)val[i] : '?';
	a->out[k] = 0;
	a->found = true;
	return true;
}

const char *ck_name_cn(struct ck_bytes nm, char out[CK_CN_MAX])
{
	struct cn_arg a = {out, false};
	name_walk(nm, cn_fn, &a);
	if (!a.found) {
		out[0] = '?';
		out[1] = 0;
	}
	return out;
}

static bool contains_fn(const uint8_t *oid, size_t on, const uint8_t *val, size_t vn, void *arg)
{
	(void)oid;
	(void)on;
	const char *needle = arg;
	return memmem(val, vn, needle, strlen(needle)) != NULL;
}

bool ck_name_contains(struct ck_bytes nm, const char *needle)
{
	return name_walk(nm, contains_fn, (void *)needle);
}

/* SubjectPublicKeyInfo: id-ecPublicKey, prime256v1, an uncompressed point. */
static int spki(struct ck_der_reader *d, uint8_t pub[CK_P256_PUB_LEN])
{
	const uint8_t *v, *a, *o1, *o2, *bits;
	size_t n, an, n1, n2, bn;
	struct ck_der_reader s, alg;
	if (ck_der_expect(d, CK_DER_SEQUENCE, &v, &n) < 0)
		return -1;
	ck_der_init(&s, v, n);
	if (ck_der_expect(&s, CK_DER_SEQUENCE, &a, &an) < 0)
		return -1;
	ck_der_init(&alg, a, an);
	if (ck_der_expect(&alg, CK_DER_OID, &o1, &n1) < 0 ||
	    ck_der_expect(&alg, CK_DER_OID, &o2, &n2) < 0 || !ck_der_done(&alg) ||
	    !OID_IS(o1, n1, OID_EC_PUBKEY) || !OID_IS(o2, n2, OID_P256))
		return -1;
	if (ck_der_expect(&s, DER_BIT_STRING, &bits, &bn) < 0 || !ck_der_done(&s) ||
	    bn != 1 + CK_P256_PUB_LEN || bits[0] != 0 || bits[1] != 0x04)
		return -1;
	memcpy(pub, bits + 1, CK_P256_PUB_LEN);
	return 0;
}

static int extensions(const uint8_t *v, size_t n, struct ck_cert *c)
{
	struct ck_der_reader outer, list, ext;
	const uint8_t *lv, *ev, *oid, *val, *crit;
	size_t ln, en, on, vn, cn;
	bool seen_bc = false, seen_ku = false;
	ck_der_init(&outer, v, n);
	if (ck_der_expect(&outer, CK_DER_SEQUENCE, &lv, &ln) < 0 || !ck_der_done(&outer) || ln == 0)
		return -1;
	ck_der_init(&list, lv, ln);
	while (!ck_der_done(&list)) {
		bool critical = false;
		if (ck_der_expect(&list, CK_DER_SEQUENCE, &ev, &en) < 0)
			return -1;
		ck_der_init(&ext, ev, en);
		if (ck_der_expect(&ext, CK_DER_OID, &oid, &on) < 0)
			return -1;
		if (ext.p < ext.end && ext.p[0] == CK_DER_BOOLEAN) {
			if (ck_der_expect(&ext, CK_DER_BOOLEAN, &crit, &cn) < 0 || cn != 1 ||
			    crit[0] != 0xff)
				return -1; /* DER: only TRUE is encoded (DEFAULT FALSE) */
			critical = true;
		}
		if (ck_der_expect(&ext, CK_DER_OCTET_STRING, &val, &vn) < 0 || !ck_der_done(&ext))
			return -1;
		if (OID_IS(oid, on, OID_BASIC_CONSTRAINTS)) {
			struct ck_der_reader bc, seq;
			const uint8_t *bv, *x;
			size_t bvn, xn;
			if (seen_bc)
				return -1;
			seen_bc = true;
			ck_der_init(&bc, val, vn);
			if (ck_der_expect(&bc, CK_DER_SEQUENCE, &bv, &bvn) < 0 || !ck_der_done(&bc))
				return -1;
			ck_der_init(&seq, bv, bvn);
			if (seq.p < seq.end && seq.p[0] == CK_DER_BOOLEAN) {
				if (ck_der_expect(&seq, CK_DER_BOOLEAN, &x, &xn) < 0 || xn != 1 ||
				    x[0] != 0xff)
					return -1;
				c->is_ca = true;
			}
			if (seq.p < seq.end && (ck_der_expect(&seq, CK_DER_INTEGER, &x, &xn) < 0))
				return -1;
			if (!ck_der_done(&seq))
				return -1;
		} else if (OID_IS(oid, on, OID_KEY_USAGE)) {
			if (seen_ku)
				return -1;
			seen_ku = true;
		} else if (OID_IS(oid, on, OID_SGX)) {
			if (c->sgx_ext.p)
				return -1;
			c->sgx_ext = (struct ck_bytes){val, vn};
		} else if (critical) {
			return -1; /* an unknown critical extension: refuse (RFC 5280 §4.2) */
		}
	}
	return 0;
}

#define CFAIL(what) ck_errf(err, CK_E_CERT_FORMAT, "certificate: %s", what)

int ck_cert_parse(const uint8_t *der, size_t len, struct ck_cert *c, struct ck_err *err)
{
	struct ck_der_reader top, cert, tbs, val;
	const uint8_t *v, *x;
	size_t n, xn;
	struct ck_bytes inner_alg, outer_alg;
	memset(c, 0, sizeof(*c));
	if (len > CK_CERT_MAX_LEN)
		return CFAIL("larger than the limit");
	ck_der_init(&top, der, len);
	if (ck_der_expect(&top, CK_DER_SEQUENCE, &v, &n) < 0 || !ck_der_done(&top))
		return CFAIL("not one DER SEQUENCE");
	c->der = (struct ck_bytes){der, len};
	ck_der_init(&cert, v, n);
	const uint8_t *tbs_start = cert.p;
	if (ck_der_expect(&cert, CK_DER_SEQUENCE, &v, &n) < 0)
		return CFAIL("no tbsCertificate");
	c->tbs = (struct ck_bytes){tbs_start, (size_t)(cert.p - tbs_start)};
	ck_der_init(&tbs, v, n);
	/* version [0] EXPLICIT INTEGER 2 (v3) */
	if (ck_der_expect(&tbs, DER_CTX0, &x, &xn) < 0 || xn != 3 || x[0] != CK_DER_INTEGER ||
	    x[1] != 1 || x[2] != 2)
		return CFAIL("not an X.509 v3 certificate");
	/* at most 20 octets of value, plus the 0x00 that keeps a high-bit value positive */
	if (ck_der_expect(&tbs, CK_DER_INTEGER, &x, &xn) < 0 || xn == 0 || xn > 21 ||
	    (x[0] & 0x80) || (xn > 1 && x[0] == 0 && !(x[1] & 0x80)))
		return CFAIL("bad serial number");
	c->serial = (struct ck_bytes){x, xn};
	if (sig_alg(&tbs, &inner_alg) < 0)
		return CFAIL("signature algorithm is not ecdsa-with-SHA256");
	if (name(&tbs, &c->issuer) < 0)
		return CFAIL("bad issuer name");
	if (ck_der_expect(&tbs, CK_DER_SEQUENCE, &x, &xn) < 0)
		return CFAIL("bad validity");
	ck_der_init(&val, x, xn);
	if (der_time(&val, &c->not_before) < 0 || der_time(&val, &c->not_after) < 0 ||
	    !ck_der_done(&val))
		return CFAIL("bad validity dates");
	if (name(&tbs, &c->subject) < 0)
		return CFAIL("bad subject name");
	if (spki(&tbs, c->pub) < 0)
		return CFAIL("key is not an ECDSA P-256 public key");
	if (!ck_der_done(&tbs)) {
		if (ck_der_expect(&tbs, DER_CTX3, &x, &xn) < 0 || !ck_der_done(&tbs))
			return CFAIL("unexpected fields (unique IDs?) after the key");
		if (extensions(x, xn, c) < 0)
			return CFAIL("bad, duplicate or unknown critical extension");
	}
	if (sig_alg(&cert, &outer_alg) < 0 || !ck_bytes_eq(inner_alg, outer_alg))
		return CFAIL("outer signature algorithm differs from the inner one");
	if (sig_value(&cert, c->sig) < 0 || !ck_der_done(&cert))
		return CFAIL("bad signature value");
	return 0;
}

#define LFAIL(what) ck_errf(err, CK_E_CRL_FORMAT, "CRL: %s", what)

int ck_crl_parse(const uint8_t *der, size_t len, struct ck_crl *c, struct ck_err *err)
{
	struct ck_der_reader top, crl, tbs;
	const uint8_t *v, *x;
	size_t n, xn;
	struct ck_bytes inner_alg, outer_alg;
	memset(c, 0, sizeof(*c));
	if (len > CK_CRL_MAX_LEN)
		return LFAIL("larger than the limit");
	ck_der_init(&top, der, len);
	if (ck_der_expect(&top, CK_DER_SEQUENCE, &v, &n) < 0 || !ck_der_done(&top))
		return LFAIL("not one DER SEQUENCE");
	c->der = (struct ck_bytes){der, len};
	ck_der_init(&crl, v, n);
	const uint8_t *tbs_start = crl.p;
	if (ck_der_expect(&crl, CK_DER_SEQUENCE, &v, &n) < 0)
		return LFAIL("no tbsCertList");
	c->tbs = (struct ck_bytes){tbs_start, (size_t)(crl.p - tbs_start)};
	ck_der_init(&tbs, v, n);
	if (tbs.p < tbs.end && tbs.p[0] == CK_DER_INTEGER) {
		if (ck_der_expect(&tbs, CK_DER_INTEGER, &x, &xn) < 0 || xn != 1 || x[0] != 1)
			return LFAIL("version is not v2");
	}
	if (sig_alg(&tbs, &inner_alg) < 0)
		return LFAIL("signature algorithm is not ecdsa-with-SHA256");
	if (name(&tbs, &c->issuer) < 0)
		return LFAIL("bad issuer name");
	if (der_time(&tbs, &c->this_update) < 0)
		return LFAIL("bad thisUpdate");
	if (tbs.p >= tbs.end || (tbs.p[0] != DER_UTCTIME && tbs.p[0] != DER_GENTIME) ||
	    der_time(&tbs, &c->next_update) < 0)
		return LFAIL("no nextUpdate (required for DCAP)");
	if (tbs.p < tbs.end && tbs.p[0] == CK_DER_SEQUENCE) {
		if (ck_der_expect(&tbs, CK_DER_SEQUENCE, &x, &xn) < 0)
			return LFAIL("bad revokedCertificates");
		c->revoked = (struct ck_bytes){x, xn};
		/* validate every entry now, so lookups cannot meet malformed data */
		struct ck_der_reader list, e;
		const uint8_t *ev, *sv;
		size_t en, sn;
		ck_time_t t;
		ck_der_init(&list, x, xn);
		while (!ck_der_done(&list)) {
			if (ck_der_expect(&list, CK_DER_SEQUENCE, &ev, &en) < 0)
				return LFAIL("bad revoked entry");
			ck_der_init(&e, ev, en);
			if (ck_der_expect(&e, CK_DER_INTEGER, &sv, &sn) < 0 || sn == 0 ||
			    der_time(&e, &t) < 0)
				return LFAIL("bad revoked entry");
			if (!ck_der_done(&e) &&
			    (ck_der_expect(&e, CK_DER_SEQUENCE, &sv, &sn) < 0 || !ck_der_done(&e)))
				return LFAIL("bad revoked entry extensions");
		}
	}
	if (tbs.p < tbs.end && (ck_der_expect(&tbs, DER_CTX0, &x, &xn) < 0 || !ck_der_done(&tbs)))
		return LFAIL("unexpected fields after the revoked list");
	if (sig_alg(&crl, &outer_alg) < 0 || !ck_bytes_eq(inner_alg, outer_alg))
		return LFAIL("outer signature algorithm differs from the inner one");
	if (sig_value(&crl, c->sig) < 0 || !ck_der_done(&crl))
		return LFAIL("bad signature value");
	return 0;
}

bool ck_crl_revokes(const struct ck_crl *crl, struct ck_bytes serial)
{
	struct ck_der_reader list, e;
	const uint8_t *ev, *sv;
	size_t en, sn;
	ck_der_init(&list, crl->revoked.p, crl->revoked.n);
	while (!ck_der_done(&list)) {
		if (ck_der_expect(&list, CK_DER_SEQUENCE, &ev, &en) < 0)
			return true; /* cannot happen after ck_crl_parse; fail closed */
		ck_der_init(&e, ev, en);
		if (ck_der_expect(&e, CK_DER_INTEGER, &sv, &sn) < 0)
			return true;
		if (sn == serial.n && memcmp(sv, serial.p, sn) == 0)
			return true;
	}
	return false;
}

/* ---- PEM ------------------------------------------------------------------------------- */

static int b64v(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Decodes base64 between the armour lines, skipping line breaks; canonical padding only. */
static int pem_body(const char *s, size_t n, uint8_t *out, size_t *outlen)
{
	uint32_t acc = 0;
	int bits = 0, pad = 0;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = (uint8_t)s[i];
		if (ch == '\n' || ch == '\r')
			continue;
		if (ch == '=') {
			pad++;
			continue;
		}
		int v = b64v(ch);
		if (v < 0 || pad)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[k++] = (uint8_t)(acc >> bits);
		}
	}
	if (pad > 2 || (bits == 0 && pad) || (bits == 2 && pad != 1) || (bits == 4 && pad != 2) ||
	    (acc & ((1u << bits) - 1)))
		return -1;
	*outlen = k;
	return 0;
}

void ck_chain_free(struct ck_chain *ch)
{
	if (ch) {
		free(ch->buf);
		memset(ch, 0, sizeof(*ch));
	}
}

int ck_pem_next(const char *pem, size_t len, size_t *pos, uint8_t *der, size_t *der_len)
{
	static const char begin[] = "-----BEGIN CERTIFICATE-----";
	static const char end[] = "-----END CERTIFICATE-----";
	size_t i = *pos;
	while (i < len && (pem[i] == '\n' || pem[i] == '\r' || pem[i] == ' ' || pem[i] == '\t' ||
			   pem[i] == '\0'))
		i++;
	*pos = i;
	if (i == len)
		return 0;
	if (len - i < sizeof(begin) - 1 || memcmp(pem + i, begin, sizeof(begin) - 1))
		return -1;
	i += sizeof(begin) - 1;
	const char *e = memmem(pem + i, len - i, end, sizeof(end) - 1);
	if (!e || pem_body(pem + i, (size_t)(e - (pem + i)), der, der_len) < 0)
		return -1;
	*pos = (size_t)(e - pem) + sizeof(end) - 1;
	return 1;
}

int ck_chain_load(const char *pem, size_t len, size_t min, size_t max, struct ck_chain *ch,
		  const char *what, const char *code, struct ck_err *err)
{
	memset(ch, 0, sizeof(*ch));
	if (max > CK_CHAIN_MAX)
		max = CK_CHAIN_MAX;
	if (!(ch->buf = malloc(len / 4 * 3 + 3)))
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	size_t pos = 0, used = 0, dlen;
	int r;
	while ((r = ck_pem_next(pem, len, &pos, ch->buf + used, &dlen)) > 0) {
		if (ch->n == max) {
			ck_errf(err, code, "%s: more than %zu certificates", what, max);
			goto fail;
		}
		struct ck_err ce;
		if (ck_cert_parse(ch->buf + used, dlen, &ch->c[ch->n], &ce) < 0) {
			ck_errf(err, code, "%s: certificate #%zu: %s", what, ch->n, ce.msg);
			goto fail;
		}
		ch->n++;
		used += dlen;
	}
	if (r < 0) {
		ck_errf(err, code, "%s: bad PEM at offset %zu (want a base64 certificate)", what,
			pos);
		goto fail;
	}
	if (ch->n < min) {
		ck_errf(err, code, "%s: %zu certificate(s), expected %zu", what, ch->n, min);
		goto fail;
	}
	return 0;
fail:
	ck_chain_free(ch);
	return -1;
}
