/* SPDX-License-Identifier: Apache-2.0 */
/* The in-place X.509/CRL parser: every certificate and CRL of the vectors, and what it must
 * refuse. Cross-checked against OpenSSL's own decoding of the same bytes. */
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "cloak/collateral.h"
#include "cloak/quote.h"
#include "cert.h"
#include "evidence/x509util.h"
#include "testutil.h"

/* Checks our view of a certificate against OpenSSL's. */
static void cross_check(const struct ck_cert *c)
{
	const unsigned char *p = c->der.p;
	X509 *x = d2i_X509(NULL, &p, (long)c->der.n);
	assert_non_null(x);
	ck_time_t a, b;
	assert_int_equal(ck_x509_times(x, &a, &b), 0);
	assert_true(a == c->not_before && b == c->not_after);
	uint8_t pt[65];
	assert_int_equal(ck_p256_point(X509_get0_pubkey(x), pt), 0);
	assert_memory_equal(pt, c->pub, 65);
	assert_int_equal(X509_check_ca(x) != 0, c->is_ca);
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	unsigned char *snd = NULL;
	int sl = i2d_ASN1_INTEGER((ASN1_INTEGER *)sn, &snd);
	assert_int_equal((size_t)sl - 2, c->serial.n);
	assert_memory_equal(snd + 2, c->serial.p, c->serial.n);
	OPENSSL_free(snd);
	char cn1[CK_CN_MAX], cn2[128];
	assert_string_equal(ck_name_cn(c->subject, cn1),
			    ck_x509_cn(X509_get_subject_name(x), cn2, sizeof(cn2)));
	X509_free(x);
}

static void test_vector_chains(void **s)
{
	(void)s;
	json_t *vecs = json_object_get(tu_manifest(), "dcap_vectors"), *v;
	size_t i, certs = 0;
	json_array_foreach(vecs, i, v)
	{
		struct ck_collateral c;
		struct ck_chain ch;
		struct ck_crl crl;
		struct ck_err e;
		tu_collateral(json_string_value(json_object_get(v, "collateral")), &c);
		const char *chains[] = {c.pck_crl_issuer_chain, c.tcb_info_issuer_chain,
					c.qe_identity_issuer_chain};
		for (int k = 0; k < 3; k++) {
			if (ck_chain_load(chains[k], strlen(chains[k]), 2, 2, &ch, "chain",
					  CK_E_COLLATERAL, &e) < 0)
				fail_msg("%s", e.msg);
			for (size_t j = 0; j < ch.n; j++, certs++)
				cross_check(&ch.c[j]);
			/* the issuer's key verifies the signer */
			assert_true(ck_p256_verify(ch.c[1].pub, ch.c[0].tbs.p, ch.c[0].tbs.n,
						   ch.c[0].sig));
			ck_chain_free(&ch);
		}
		assert_int_equal(ck_crl_parse(c.root_ca_crl, c.root_ca_crl_len, &crl, &e), 0);
		assert_int_equal(ck_crl_parse(c.pck_crl, c.pck_crl_len, &crl, &e), 0);
		assert_true(crl.next_update > crl.this_update);
		ck_collateral_free(&c);
		/* the quote's chain: leaf with the SGX extension */
		size_t qlen;
		uint8_t *q = tu_read(json_string_value(json_object_get(v, "quote")), &qlen);
		struct ck_quote qq;
		assert_int_equal(ck_quote_parse(q, qlen, &qq, NULL), 0);
		if (ck_chain_load((const char *)qq.cert_data, qq.cert_data_len, 3, 3, &ch,
				  "quote chain", CK_E_QUOTE_CERTS, &e) < 0)
			fail_msg("%s: %s", json_string_value(json_object_get(v, "id")), e.msg);
		assert_non_null(ch.c[0].sgx_ext.p);
		assert_false(ch.c[0].is_ca);
		for (size_t j = 0; j < ch.n; j++, certs++)
			cross_check(&ch.c[j]);
		ck_chain_free(&ch);
		free(q);
	}
	assert_true(certs >= 16 * 9);
}

static void test_crl_revocation_lookup(void **s)
{
	(void)s;
	struct ck_collateral c;
	struct ck_crl crl;
	tu_collateral("sgx-dcap/automata/collateral_qvlformat_2025-08.json", &c);
	assert_int_equal(ck_crl_parse(c.pck_crl, c.pck_crl_len, &crl, NULL), 0);
	/* every serial OpenSSL sees in the CRL, we see too; a changed one we do not */
	const unsigned char *p = c.pck_crl;
	X509_CRL *x = d2i_X509_CRL(NULL, &p, (long)c.pck_crl_len);
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(x);
	assert_true(sk_X509_REVOKED_num(revs) > 10);
	for (int i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		const ASN1_INTEGER *sn = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i));
		unsigned char *d = NULL;
		int n = i2d_ASN1_INTEGER((ASN1_INTEGER *)sn, &d);
		struct ck_bytes b = {d + 2, (size_t)n - 2};
		assert_true(ck_crl_revokes(&crl, b));
		d[n - 1] ^= 0x5a;
		assert_false(ck_crl_revokes(&crl, b));
		OPENSSL_free(d);
	}
	X509_CRL_free(x);
	ck_collateral_free(&c);
}

/* Finds `pat` in buf (must exist) and returns its offset. */
static size_t find(const uint8_t *buf, size_t n, const void *pat, size_t pn)
{
	const uint8_t *p = memmem(buf, n, pat, pn);
	if (!p)
		fail_msg("pattern not found");
	return (size_t)(p - buf);
}

static void test_refuses(void **s)
{
	(void)s;
	struct ck_collateral c;
	struct ck_chain ch;
	struct ck_cert cert;
	struct ck_err e;
	tu_collateral("sgx-dcap/dcap-qvl/sgx_quote_collateral.json", &c);
	assert_int_equal(ck_chain_load(c.tcb_info_issuer_chain, strlen(c.tcb_info_issuer_chain), 2,
				       2, &ch, "chain", CK_E_COLLATERAL, &e),
			 0);
	size_t n = ch.c[0].der.n;
	uint8_t *d = malloc(n);
	struct {
		const char *what;
		const void *pat;
		size_t pn, delta;
		uint8_t val;
	} cases[] = {
		/* version v3 -> v2 */
		{"version", "\xa0\x03\x02\x01\x02", 5, 4, 1},
		/* ecdsa-with-SHA256 -> ecdsa-with-SHA384 (inner algorithm) */
		{"sig alg", "\x2a\x86\x48\xce\x3d\x04\x03\x02", 8, 7, 3},
		/* P-256 -> P-384 OID variant */
		{"curve", "\x2a\x86\x48\xce\x3d\x03\x01\x07", 8, 7, 8},
		/* basicConstraints made critical with BOOLEAN FALSE encoding is not DER: flip the
		 * critical flag of keyUsage (0xff) to 0x01 */
		{"non-DER boolean", "\x55\x1d\x0f\x01\x01\xff", 6, 5, 0x01},
		/* keyUsage OID changed to an unknown one, still critical */
		{"unknown critical", "\x55\x1d\x0f\x01\x01\xff", 6, 2, 0x7f},
		/* UTCTime with a bad month */
		{"time", "\x17\x0d", 2, 4, '9'},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(d, ch.c[0].der.p, n);
		size_t off = find(d, n, cases[i].pat, cases[i].pn);
		d[off + cases[i].delta] = cases[i].val;
		if (ck_cert_parse(d, n, &cert, &e) == 0)
			fail_msg("accepted a certificate with a bad %s", cases[i].what);
		assert_string_equal(e.code, CK_E_CERT_FORMAT);
	}
	/* truncations and trailing data */
	for (size_t k = 0; k < n; k += 13)
		assert_int_equal(ck_cert_parse(ch.c[0].der.p, k, &cert, NULL), -1);
	uint8_t *big = malloc(n + 1);
	memcpy(big, ch.c[0].der.p, n);
	big[n] = 0;
	assert_int_equal(ck_cert_parse(big, n + 1, &cert, NULL), -1);
	free(big);
	free(d);
	ck_chain_free(&ch);
	/* PEM: bad padding, junk between certificates, too many certificates */
	const char *pem = c.tcb_info_issuer_chain;
	size_t pl = strlen(pem);
	char *junk = malloc(pl + 16);
	memcpy(junk, pem, pl);
	memcpy(junk + pl, "garbage", 8);
	assert_int_equal(ck_chain_load(junk, pl + 7, 1, 4, &ch, "c", CK_E_COLLATERAL, &e), -1);
	assert_int_equal(ck_chain_load(pem, pl, 3, 4, &ch, "c", CK_E_COLLATERAL, &e), -1);
	assert_int_equal(ck_chain_load(pem, pl, 1, 1, &ch, "c", CK_E_COLLATERAL, &e), -1);
	char *pad = strdup(pem);
	char *eq = strchr(pad, '=');
	if (eq) { /* '=' where a data character belongs */
		eq[-1] = '=';
		assert_int_equal(ck_chain_load(pad, pl, 1, 4, &ch, "c", CK_E_COLLATERAL, &e), -1);
	}
	free(pad);
	free(junk);
	/* CRL: truncated, trailing data, bad outer algorithm */
	struct ck_crl crl;
	for (size_t k = 0; k < c.pck_crl_len; k += 17)
		assert_int_equal(ck_crl_parse(c.pck_crl, k, &crl, NULL), -1);
	ck_collateral_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector_chains),
		cmocka_unit_test(test_crl_revocation_lookup),
		cmocka_unit_test(test_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
