/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/pck.h"
#include "util/der.h"

const uint8_t CK_PCK_EXT_OID_DER[CK_PCK_EXT_OID_LEN] = {0x2a, 0x86, 0x48, 0x86, 0xf8,
							0x4d, 0x01, 0x0d, 0x01};
#define SGX_OID	    CK_PCK_EXT_OID_DER
#define SGX_OID_LEN CK_PCK_EXT_OID_LEN

enum { F_PPID = 1, F_TCB = 2, F_PCEID = 3, F_FMSPC = 4, F_SGXTYPE = 5, F_PIID = 6, F_CONFIG = 7 };
#define TCB_PCESVN 17
#define TCB_CPUSVN 18

/* Returns the sub-arc numbers after the SGX OID (1 or 2 of them), or -1 if not under it. */
static int sub_arcs(const uint8_t *oid, size_t len, int *a, int *b)
{
	if (len < SGX_OID_LEN + 1 || len > SGX_OID_LEN + 2 || memcmp(oid, SGX_OID, SGX_OID_LEN))
		return -1;
	/* arcs here are all < 128, so one byte each */
	if (oid[SGX_OID_LEN] & 0x80)
		return -1;
	*a = oid[SGX_OID_LEN];
	*b = -1;
	if (len == SGX_OID_LEN + 2) {
		if (oid[SGX_OID_LEN + 1] & 0x80)
			return -1;
		*b = oid[SGX_OID_LEN + 1];
	}
	return 0;
}

#define FAIL(...) ck_errf(err, CK_E_PCK_EXTENSION, __VA_ARGS__)

/* One entry of the extension: SEQUENCE { OID, value }. */
struct entry {
	const uint8_t *oid, *val;
	size_t olen, vlen;
	uint8_t vtag;
};

static int next_entry(struct ck_der_reader *d, struct entry *e)
{
	const uint8_t *item;
	size_t ilen;
	struct ck_der_reader id;
	if (ck_der_expect(d, CK_DER_SEQUENCE, &item, &ilen) < 0)
		return -1;
	ck_der_init(&id, item, ilen);
	if (ck_der_expect(&id, CK_DER_OID, &e->oid, &e->olen) < 0 ||
	    ck_der_next(&id, &e->vtag, &e->val, &e->vlen) < 0 || !ck_der_done(&id))
		return -1;
	return 0;
}

static int parse_tcb(const uint8_t *v, size_t n, struct ck_pck_ext *out, struct ck_err *err)
{
	struct ck_der_reader d;
	uint32_t seen = 0;
	ck_der_init(&d, v, n);
	while (!ck_der_done(&d)) {
		struct entry e;
		int a, b;
		if (next_entry(&d, &e) < 0)
			return FAIL("TCB: malformed component entry");
		const uint8_t *val = e.val;
		size_t vlen = e.vlen;
		uint8_t vtag = e.vtag;
		if (sub_arcs(e.oid, e.olen, &a, &b) < 0 || a != F_TCB || b < 1)
			continue; /* unknown entry: tolerated */
		if (b > TCB_CPUSVN)
			continue;
		if (seen & (1u << b))
			return FAIL("TCB: component %d appears twice", b);
		seen |= 1u << b;
		uint64_t x;
		if (b == TCB_CPUSVN) {
			if (vtag != CK_DER_OCTET_STRING || vlen != 16)
				return FAIL("TCB: CPUSVN is not a 16-byte OCTET STRING");
			memcpy(out->cpusvn, val, 16);
		} else if (b == TCB_PCESVN) {
			if (vtag != CK_DER_INTEGER || ck_der_uint(val, vlen, 0xffff, &x) < 0)
				return FAIL("TCB: PCESVN is not an INTEGER in 0..65535");
			out->pcesvn = (uint16_t)x;
		} else {
			if (vtag != CK_DER_INTEGER || ck_der_uint(val, vlen, 0xff, &x) < 0)
				return FAIL("TCB: component %02d SVN is not an INTEGER in 0..255",
					    b);
			out->comp_svn[b - 1] = (uint8_t)x;
		}
	}
	const uint32_t all = ((1u << (TCB_CPUSVN + 1)) - 1) & ~1u;
	if ((seen & all) != all)
		return FAIL("TCB: missing components (have mask 0x%05x)", seen);
	return 0;
}

int ck_pck_ext_parse(const uint8_t *der, size_t len, struct ck_pck_ext *out, struct ck_err *err)
{
	struct ck_der_reader top, d;
	const uint8_t *body;
	size_t blen;
	uint32_t seen = 0;
	memset(out, 0, sizeof(*out));
	if (len > CK_PCK_EXT_MAX_LEN)
		return FAIL("extension is %zu bytes, over the %d-byte limit", len,
			    CK_PCK_EXT_MAX_LEN);
	ck_der_init(&top, der, len);
	if (ck_der_expect(&top, CK_DER_SEQUENCE, &body, &blen) < 0 || !ck_der_done(&top))
		return FAIL("not a single DER SEQUENCE");
	ck_der_init(&d, body, blen);
	while (!ck_der_done(&d)) {
		struct entry e;
		int a, b;
		if (next_entry(&d, &e) < 0)
			return FAIL("malformed entry");
		const uint8_t *val = e.val;
		size_t vlen = e.vlen;
		uint8_t vtag = e.vtag;
		if (sub_arcs(e.oid, e.olen, &a, &b) < 0 || b != -1 || a < F_PPID || a > F_CONFIG)
			continue; /* unknown field */
		if (seen & (1u << a))
			return FAIL("field .%d appears twice", a);
		seen |= 1u << a;
		uint64_t x;
		switch (a) {
		case F_PPID:
			if (vtag != CK_DER_OCTET_STRING || vlen != 16)
				return FAIL("PPID is not a 16-byte OCTET STRING");
			memcpy(out->ppid, val, 16);
			break;
		case F_TCB:
			if (vtag != CK_DER_SEQUENCE)
				return FAIL("TCB is not a SEQUENCE");
			if (parse_tcb(val, vlen, out, err) < 0)
				return -1;
			break;
		case F_PCEID:
			if (vtag != CK_DER_OCTET_STRING || vlen != 2)
				return FAIL("PCE-ID is not a 2-byte OCTET STRING");
			memcpy(out->pceid, val, 2);
			break;
		case F_FMSPC:
			if (vtag != CK_DER_OCTET_STRING || vlen != 6)
				return FAIL("FMSPC is not a 6-byte OCTET STRING");
			memcpy(out->fmspc, val, 6);
			break;
		case F_SGXTYPE:
			if (vtag != CK_DER_ENUMERATED || ck_der_uint(val, vlen, 0xff, &x) < 0)
				return FAIL("SGX type is not a small ENUMERATED");
			out->sgx_type = (uint32_t)x;
			break;
		case F_PIID:
			if (vtag != CK_DER_OCTET_STRING || vlen != 16)
				return FAIL("PlatformInstanceID is not a 16-byte OCTET STRING");
			memcpy(out->platform_instance_id, val, 16);
			out->has_platform_instance_id = true;
			break;
		case F_CONFIG:
			if (vtag != CK_DER_SEQUENCE)
				return FAIL("Configuration is not a SEQUENCE");
			break;
		}
	}
	const uint32_t req =
	    (1u << F_PPID) | (1u << F_TCB) | (1u << F_PCEID) | (1u << F_FMSPC) | (1u << F_SGXTYPE);
	if ((seen & req) != req)
		return FAIL("required fields missing (PPID, TCB, PCE-ID, FMSPC, SGX type)");
	return 0;
}

static void put_oid(struct ck_der_writer *w, int a, int b)
{
	uint8_t oid[SGX_OID_LEN + 2];
	size_t n = SGX_OID_LEN;
	memcpy(oid, SGX_OID, SGX_OID_LEN);
	oid[n++] = (uint8_t)a;
	if (b >= 0)
		oid[n++] = (uint8_t)b;
	ck_der_put(w, CK_DER_OID, oid, n);
}

int ck_pck_ext_encode(const struct ck_pck_ext *ext, uint8_t **out, size_t *outlen,
		      struct ck_err *err)
{
	struct ck_der_writer w = {0};
	size_t top = ck_der_open(&w, CK_DER_SEQUENCE), m, t;

	m = ck_der_open(&w, CK_DER_SEQUENCE);
	put_oid(&w, F_PPID, -1);
	ck_der_put(&w, CK_DER_OCTET_STRING, ext->ppid, 16);
	ck_der_close(&w, m);

	m = ck_der_open(&w, CK_DER_SEQUENCE);
	put_oid(&w, F_TCB, -1);
	t = ck_der_open(&w, CK_DER_SEQUENCE);
	for (int i = 1; i <= TCB_CPUSVN; i++) {
		size_t c = ck_der_open(&w, CK_DER_SEQUENCE);
		put_oid(&w, F_TCB, i);
		if (i == TCB_CPUSVN)
			ck_der_put(&w, CK_DER_OCTET_STRING, ext->cpusvn, 16);
		else if (i == TCB_PCESVN)
			ck_der_put_uint(&w, CK_DER_INTEGER, ext->pcesvn);
		else
			ck_der_put_uint(&w, CK_DER_INTEGER, ext->comp_svn[i - 1]);
		ck_der_close(&w, c);
	}
	ck_der_close(&w, t);
	ck_der_close(&w, m);

	m = ck_der_open(&w, CK_DER_SEQUENCE);
	put_oid(&w, F_PCEID, -1);
	ck_der_put(&w, CK_DER_OCTET_STRING, ext->pceid, 2);
	ck_der_close(&w, m);

	m = ck_der_open(&w, CK_DER_SEQUENCE);
	put_oid(&w, F_FMSPC, -1);
	ck_der_put(&w, CK_DER_OCTET_STRING, ext->fmspc, 6);
	ck_der_close(&w, m);

	m = ck_der_open(&w, CK_DER_SEQUENCE);
	put_oid(&w, F_SGXTYPE, -1);
	ck_der_put_uint(&w, CK_DER_ENUMERATED, ext->sgx_type);
	ck_der_close(&w, m);

	if (ext->has_platform_instance_id) {
		m = ck_der_open(&w, CK_DER_SEQUENCE);
		put_oid(&w, F_PIID, -1);
		ck_der_put(&w, CK_DER_OCTET_STRING, ext->platform_instance_id, 16);
		ck_der_close(&w, m);
	}
	ck_der_close(&w, top);
	if (w.failed) {
		free(w.buf);
		return ck_errf(err, CK_E_NOMEM, "out of memory encoding the PCK extension");
	}
	*out = w.buf;
	*outlen = w.len;
	return 0;
}
