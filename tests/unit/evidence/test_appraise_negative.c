/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Each check of the appraisal must fail for its own reason, with its own code, on real
 * evidence (sgx-dcapqvl-2025-06) changed in exactly one place.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cloak/appraise.h"
#include "cloak/codec.h"
#include "cloak/quote.h"
#include "testutil.h"

#define QUOTE "sgx-dcap/dcap-qvl/sgx_quote.bin"
#define COLL  "sgx-dcap/dcap-qvl/sgx_quote_collateral.json"
#define AT    "2025-06-20T00:00:00Z"

struct fixture {
	uint8_t *q;
	size_t qlen;
	struct ck_collateral c;
	struct ck_quote parsed;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	f->q = tu_read(QUOTE, &f->qlen);
	tu_collateral(COLL, &f->c);
	assert_int_equal(ck_quote_parse(f->q, f->qlen, &f->parsed, NULL), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	free(f->q);
	ck_collateral_free(&f->c);
	free(f);
	return 0;
}

static const char *run(const uint8_t *q, size_t len, const struct ck_collateral *c,
		       struct ck_appraisal *a)
{
	struct ck_appraise_opts o = {.at = tu_time(AT)};
	if (ck_appraise_raw(q, len, c, &o, a) == 0)
		return "ok";
	assert_non_null(a->error.code);
	assert_true(a->error.msg[0] != 0);
	return a->error.code;
}

/* Flips one bit at `off` of a copy of the quote and returns the error code. */
static const char *flip(struct fixture *f, size_t off)
{
	uint8_t *q = malloc(f->qlen);
	memcpy(q, f->q, f->qlen);
	q[off] ^= 0x01;
	struct ck_appraisal a;
	const char *code = run(q, f->qlen, &f->c, &a);
	free(q);
	return code;
}

static void test_baseline_ok(void **state)
{
	struct fixture *f = *state;
	struct ck_appraisal a;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), "ok");
}

static void test_flip_report_body(void **state)
{
	struct fixture *f = *state;
	/* header and ISV report: covered by the quote signature */
	assert_string_equal(flip(f, 30), CK_E_QUOTE_SIGNATURE);	      /* user data */
	assert_string_equal(flip(f, 48 + 64), CK_E_QUOTE_SIGNATURE);  /* MRENCLAVE */
	assert_string_equal(flip(f, 48 + 320), CK_E_QUOTE_SIGNATURE); /* report data */
	assert_string_equal(flip(f, 436 + 10), CK_E_QUOTE_SIGNATURE); /* the signature itself */
}

static void test_flip_qe_report(void **state)
{
	struct fixture *f = *state;
	size_t qe = (size_t)(f->parsed.qe_report_raw - f->q);
	assert_int_equal(qe, 564);
	assert_string_equal(flip(f, qe + 100), CK_E_QE_REPORT_SIG);
	assert_string_equal(flip(f, qe + 384 + 5), CK_E_QE_REPORT_SIG); /* its signature */
}

static void test_flip_qe_auth_and_key(void **state)
{
	struct fixture *f = *state;
	size_t auth = (size_t)(f->parsed.qe_auth - f->q);
	assert_string_equal(flip(f, auth + 3), CK_E_QE_REPORT_DATA);
	assert_string_equal(flip(f, 500 + 7), CK_E_QE_REPORT_DATA); /* attestation key */
}

/* Re-encodes the leaf certificate of the quote with one byte of its TBS changed, keeping the
 * quote's layout (same DER length, so same PEM length). */
static void test_flip_certification_data(void **state)
{
	struct fixture *f = *state;
	const char *pem = (const char *)f->parsed.cert_data;
	BIO *b = BIO_new_mem_buf(pem, (int)f->parsed.cert_data_len);
	X509 *leaf = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	assert_non_null(leaf);
	unsigned char *der = NULL;
	int n = i2d_X509(leaf, &der);
	X509_free(leaf);
	der[n - 2] ^= 0x01; /* inside the signature value s: still parses */
	BIO *out = BIO_new(BIO_s_mem());
	const unsigned char *p = der;
	X509 *bad = d2i_X509(NULL, &p, n);
	assert_non_null(bad);
	PEM_write_bio_X509(out, bad);
	char *newpem;
	long nl = BIO_get_mem_data(out, &newpem);
	const char *end = strstr(pem, "-----END CERTIFICATE-----") + 25;
	assert_int_equal(nl - 1, end - pem); /* PEM_write adds a newline */
	uint8_t *q = malloc(f->qlen);
	memcpy(q, f->q, f->qlen);
	memcpy(q + (f->parsed.cert_data - f->q), newpem, (size_t)(nl - 1));
	struct ck_appraisal a;
	assert_string_equal(run(q, f->qlen, &f->c, &a), CK_E_CERT_SIGNATURE);
	assert_non_null(strstr(a.error.msg, "PCK certificate"));
	free(q);
	BIO_free(out);
	X509_free(bad);
	OPENSSL_free(der);
}

static void test_certification_data_garbage(void **state)
{
	struct fixture *f = *state;
	/* a byte of the PEM armour changed: the chain does not parse */
	assert_string_equal(flip(f, (size_t)(f->parsed.cert_data - f->q) + 2), CK_E_QUOTE_CERTS);
}

static void test_flip_tcb_info(void **state)
{
	struct fixture *f = *state;
	struct ck_appraisal a;
	char *p = strstr(f->c.tcb_info, "\"tcbEvaluationDataNumber\":17");
	assert_non_null(p);
	p[strlen("\"tcbEvaluationDataNumber\":1")] = '8'; /* 17 -> 18: still valid JSON */
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_TCB_INFO_SIG);
	p[strlen("\"tcbEvaluationDataNumber\":1")] = '7';
	f->c.tcb_info_sig[10] ^= 1;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_TCB_INFO_SIG);
	f->c.tcb_info_sig[10] ^= 1;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), "ok");
}

static void test_flip_qe_identity(void **state)
{
	struct fixture *f = *state;
	struct ck_appraisal a;
	char *p = strstr(f->c.qe_identity, "\"isvprodid\":1");
	assert_non_null(p);
	p[strlen("\"isvprodid\":")] = '2';
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_QE_ID_SIG);
	p[strlen("\"isvprodid\":")] = '1';
	f->c.qe_identity_sig[40] ^= 1;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_QE_ID_SIG);
	f->c.qe_identity_sig[40] ^= 1;
}

static void test_flip_crls(void **state)
{
	struct fixture *f = *state;
	struct ck_appraisal a;
	/* last byte: inside the signature's s value */
	f->c.root_ca_crl[f->c.root_ca_crl_len - 1] ^= 1;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_CRL_SIGNATURE);
	f->c.root_ca_crl[f->c.root_ca_crl_len - 1] ^= 1;
	f->c.pck_crl[f->c.pck_crl_len - 1] ^= 1;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_CRL_SIGNATURE);
	f->c.pck_crl[f->c.pck_crl_len - 1] ^= 1;
	f->c.pck_crl[0] = 0x31; /* not a SEQUENCE */
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_CRL_FORMAT);
	f->c.pck_crl[0] = 0x30;
}

static void test_crl_of_another_ca(void **state)
{
	/* The Platform-CA CRL of another vector with this Processor-CA quote. */
	struct fixture *f = *state;
	struct ck_collateral other;
	struct ck_appraisal a;
	tu_collateral("sgx-dcap/automata/collateral_qvlformat_2025-08.json", &other);
	uint8_t *keep = f->c.pck_crl;
	size_t keep_len = f->c.pck_crl_len;
	char *keep_chain = f->c.pck_crl_issuer_chain;
	f->c.pck_crl = other.pck_crl;
	f->c.pck_crl_len = other.pck_crl_len;
	f->c.pck_crl_issuer_chain = other.pck_crl_issuer_chain;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_CRL_ISSUER);
	f->c.pck_crl = keep;
	f->c.pck_crl_len = keep_len;
	f->c.pck_crl_issuer_chain = keep_chain;
	ck_collateral_free(&other);
}

static void test_collateral_of_another_fmspc(void **state)
{
	/* Collateral valid at the same time, for a different platform (FMSPC 00906ED50000 vs
	 * 00A067110000): the TCB Info does not describe this platform. The QE Identity, CRLs
	 * and chains come from the quote's own collateral. */
	struct fixture *f = *state;
	struct ck_collateral other;
	struct ck_appraisal a;
	tu_collateral("sgx-dcap/zkdcap/collateral_qvlformat_2025-01.json", &other);
	char *keep = f->c.tcb_info;
	size_t keep_len = f->c.tcb_info_len;
	uint8_t keep_sig[64];
	memcpy(keep_sig, f->c.tcb_info_sig, 64);
	f->c.tcb_info = other.tcb_info;
	f->c.tcb_info_len = other.tcb_info_len;
	memcpy(f->c.tcb_info_sig, other.tcb_info_sig, 64);
	struct ck_appraise_opts o = {.at = tu_time("2025-06-20T00:00:00Z"),
				     .allow_expired_collateral = true};
	assert_int_equal(ck_appraise_raw(f->q, f->qlen, &f->c, &o, &a), -1);
	assert_string_equal(a.error.code, CK_E_TCB_INFO_MISMATCH);
	assert_non_null(strstr(a.error.msg, "00906ed50000"));
	f->c.tcb_info = keep;
	f->c.tcb_info_len = keep_len;
	memcpy(f->c.tcb_info_sig, keep_sig, 64);
	ck_collateral_free(&other);
}

static void test_truncated_and_oversized(void **state)
{
	struct fixture *f = *state;
	struct ck_quote q;
	struct ck_err e;
	/* every prefix shorter than the signature data fails cleanly */
	for (size_t len = 0; len < f->qlen - f->parsed.trailing_len; len += 7) {
		int r = ck_quote_parse(f->q, len, &q, &e);
		assert_int_equal(r, -1);
		assert_true(!strcmp(e.code, CK_E_QUOTE_TRUNCATED) ||
			    !strcmp(e.code, CK_E_QUOTE_FORMAT));
	}
	assert_int_equal(ck_quote_parse(f->q, f->qlen - f->parsed.trailing_len - 1, &q, &e), -1);
	/* oversized */
	uint8_t *big = calloc(1, CK_QUOTE_MAX_LEN + 1);
	memcpy(big, f->q, f->qlen);
	assert_int_equal(ck_quote_parse(big, CK_QUOTE_MAX_LEN + 1, &q, &e), -1);
	assert_string_equal(e.code, CK_E_TOO_LARGE);
	/* trailing zeros are tolerated, and hashed nowhere */
	struct ck_appraisal a;
	assert_string_equal(run(big, f->qlen + 1000, &f->c, &a), "ok");
	free(big);
	/* a signature-data size that overruns the quote */
	uint8_t *q2 = malloc(f->qlen);
	memcpy(q2, f->q, f->qlen);
	ck_put_le32(q2 + 432, 0xffffff00u);
	assert_int_equal(ck_quote_parse(q2, f->qlen, &q, &e), -1);
	assert_string_equal(e.code, CK_E_QUOTE_TRUNCATED);
	free(q2);
}

static void test_header_fields(void **state)
{
	struct fixture *f = *state;
	struct ck_quote q;
	struct ck_err e;
	uint8_t *c = malloc(f->qlen);
	struct {
		size_t off;
		uint8_t val;
		const char *code;
	} cases[] = {
	    {0, 2, CK_E_QUOTE_VERSION},	   {0, 9, CK_E_QUOTE_VERSION},
	    {2, 3, CK_E_QUOTE_KEY_TYPE},   {4, 0x81, CK_E_QUOTE_TEE_TYPE},
	    {4, 0x7, CK_E_QUOTE_TEE_TYPE}, {12, 0, CK_E_QUOTE_VENDOR},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memcpy(c, f->q, f->qlen);
		c[cases[i].off] = cases[i].val;
		assert_int_equal(ck_quote_parse(c, f->qlen, &q, &e), -1);
		assert_string_equal(e.code, cases[i].code);
	}
	/* certification data type out of range, and a size that does not match */
	size_t ct = (size_t)(f->parsed.cert_data - f->q) - 6;
	memcpy(c, f->q, f->qlen);
	c[ct] = 9;
	assert_int_equal(ck_quote_parse(c, f->qlen, &q, &e), -1);
	assert_string_equal(e.code, CK_E_QUOTE_FORMAT);
	memcpy(c, f->q, f->qlen);
	c[ct + 2] ^= 0x10;
	assert_int_equal(ck_quote_parse(c, f->qlen, &q, &e), -1);
	assert_string_equal(e.code, CK_E_QUOTE_FORMAT);
	free(c);
}

static void test_foreign_root_collateral(void **state)
{
	/* Collateral whose chains end in a root that is neither Intel's nor a sim root. Made by
	 * re-signing nothing: we swap in a self-signed certificate created here. */
	struct fixture *f = *state;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
				   (const unsigned char *)"Intel SGX Root CA", -1, -1, 0);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, n);
	ASN1_TIME_set(X509_getm_notBefore(x), 0);
	ASN1_TIME_set(X509_getm_notAfter(x), 4000000000);
	X509_set_pubkey(x, k);
	X509_sign(x, k, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	/* signer cert from the real chain, then the impostor root */
	const char *second = strstr(f->c.tcb_info_issuer_chain + 10, "-----BEGIN");
	BIO_write(b, f->c.tcb_info_issuer_chain, (int)(second - f->c.tcb_info_issuer_chain));
	PEM_write_bio_X509(b, x);
	BIO_write(b, "", 1);
	char *pem;
	BIO_get_mem_data(b, &pem);
	char *keep = f->c.tcb_info_issuer_chain;
	f->c.tcb_info_issuer_chain = pem;
	struct ck_appraisal a;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), CK_E_ROOT_UNTRUSTED);
	assert_non_null(strstr(a.error.msg, "pinned"));
	/* even with simulation allowed: it is not a sim root either */
	struct ck_appraise_opts o = {.at = tu_time(AT), .allow_simulation = true};
	assert_int_equal(ck_appraise_raw(f->q, f->qlen, &f->c, &o, &a), -1);
	assert_string_equal(a.error.code, CK_E_ROOT_UNTRUSTED);
	f->c.tcb_info_issuer_chain = keep;
	BIO_free(b);
	X509_NAME_free(n);
	X509_free(x);
	EVP_PKEY_free(k);
}

/*
 * Patches the last certificate of a PEM chain in place (the root): its base64 is decoded, the
 * DER changed by `patch` keeping its length, and re-encoded into the same characters (the line
 * breaks stay where they were).
 */
static void patch_root(char *pem, size_t len, void (*patch)(uint8_t *der, size_t n))
{
	char *begin = NULL, *end;
	for (char *p = pem;
	     (p = memmem(p, len - (size_t)(p - pem), "-----BEGIN CERTIFICATE-----", 27)); p++)
		begin = p;
	assert_non_null(begin);
	begin += 27;
	end = memmem(begin, len - (size_t)(begin - pem), "-----END", 8);
	assert_non_null(end);
	char *b64 = malloc((size_t)(end - begin) + 1);
	size_t k = 0;
	for (char *p = begin; p < end; p++)
		if (*p != '\n' && *p != '\r')
			b64[k++] = *p;
	b64[k] = 0;
	uint8_t *der = malloc(k);
	int n = EVP_DecodeBlock(der, (unsigned char *)b64, (int)k);
	size_t pad = (b64[k - 1] == '=') + (b64[k - 2] == '=');
	patch(der, (size_t)n - pad);
	char *re = malloc(k + 4);
	assert_int_equal(EVP_EncodeBlock((unsigned char *)re, der, n - (int)pad), (int)k);
	k = 0;
	for (char *p = begin; p < end; p++)
		if (*p != '\n' && *p != '\r')
			*p = re[k++];
	free(b64);
	free(der);
	free(re);
}

/* The Intel root's own signature (its last bytes), or its name, changed: the same key. */
static void corrupt_signature(uint8_t *der, size_t n)
{
	der[n - 3] ^= 0x01;
}

static void rename_root(uint8_t *der, size_t n)
{
	int renamed = 0;
	for (uint8_t *p = der; (p = memmem(p, n - (size_t)(p - der), "SGX Root CA", 11)); p++) {
		p[10] = 'X';
		renamed++;
	}
	assert_true(renamed >= 2); /* issuer and subject */
}

/* The root in every chain must be the pinned Intel certificate, not just carry its key (as
 * Intel's QVL: a renamed root, or one whose self-signature is broken, is refused). */
static void test_root_is_the_pinned_certificate(void **state)
{
	struct fixture *f = *state;
	void (*patches[])(uint8_t *, size_t) = {corrupt_signature, rename_root};
	for (size_t i = 0; i < 2; i++) {
		/* in the collateral's chains */
		char *chains[] = {f->c.tcb_info_issuer_chain, f->c.qe_identity_issuer_chain,
				  f->c.pck_crl_issuer_chain};
		for (size_t c = 0; c < 3; c++) {
			if (!chains[c])
				continue;
			char *keep = strdup(chains[c]);
			patch_root(chains[c], strlen(chains[c]), patches[i]);
			struct ck_appraisal a;
			const char *code = run(f->q, f->qlen, &f->c, &a);
			if (strcmp(code, CK_E_ROOT_UNTRUSTED) && strcmp(code, CK_E_CHAIN_MISMATCH))
				fail_msg("patch %zu of chain %zu: %s (%s)", i, c, code,
					 strcmp(code, "ok") ? a.error.msg : "accepted");
			strcpy(chains[c], keep);
			free(keep);
		}
		/* in the quote's PCK chain */
		uint8_t *q = malloc(f->qlen);
		memcpy(q, f->q, f->qlen);
		size_t off = (size_t)(f->parsed.cert_data - f->q);
		patch_root((char *)q + off, f->parsed.cert_data_len, patches[i]);
		struct ck_appraisal a;
		const char *code = run(q, f->qlen, &f->c, &a);
		if (strcmp(code, CK_E_ROOT_UNTRUSTED) && strcmp(code, CK_E_CHAIN_MISMATCH))
			fail_msg("patch %zu of the quote's chain: %s", i, code);
		free(q);
	}
	struct ck_appraisal a;
	assert_string_equal(run(f->q, f->qlen, &f->c, &a), "ok"); /* all restored */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_baseline_ok),
	    cmocka_unit_test(test_flip_report_body),
	    cmocka_unit_test(test_flip_qe_report),
	    cmocka_unit_test(test_flip_qe_auth_and_key),
	    cmocka_unit_test(test_flip_certification_data),
	    cmocka_unit_test(test_certification_data_garbage),
	    cmocka_unit_test(test_flip_tcb_info),
	    cmocka_unit_test(test_flip_qe_identity),
	    cmocka_unit_test(test_flip_crls),
	    cmocka_unit_test(test_crl_of_another_ca),
	    cmocka_unit_test(test_collateral_of_another_fmspc),
	    cmocka_unit_test(test_truncated_and_oversized),
	    cmocka_unit_test(test_header_fields),
	    cmocka_unit_test(test_foreign_root_collateral),
	    cmocka_unit_test(test_root_is_the_pinned_certificate),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
