/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sgx (Gramine /dev/attestation) and tsm (configfs-tsm) backends against fake trees that
 * record the report data written and return recorded real quotes: what is written, what comes
 * back, what the certificate embeds, and the failures (wrong attestation type, racing writers,
 * unknown provider, a bare directory).
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/attest.h"
#include "cloak/claims.h"
#include "cloak/fileio.h"
#include "cloak/ratls.h"
#include "testutil.h"

static void put(const char *rel, const void *p, size_t n)
{
	tu_write(tu_path(rel), p, n, 0644);
}

static void test_sgx_backend(void **s)
{
	(void)s;
	size_t qn, n;
	uint8_t *q = tu_read("sgx-dcap/dcap-qvl/sgx_quote.bin", &qn), *got, *written;
	mkdir(tu_path("attestation"), 0755);
	put("attestation/attestation_type", "dcap\n", 5);
	put("attestation/user_report_data", "", 0);
	put("attestation/quote", q, qn);
	struct ck_attester *a;
	struct ck_err e;
	assert_int_equal(ck_attester_sgx(tu_path("attestation"), &a, &e), 0);
	assert_false(a->simulated);
	uint8_t rd[64];
	for (int i = 0; i < 64; i++)
		rd[i] = (uint8_t)(i * 7);
	size_t gn;
	if (a->quote(a, rd, &got, &gn, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(gn, qn);
	assert_memory_equal(got, q, qn); /* the recorded real quote comes back */
	free(got);
	written = tu_read(tu_path("attestation/user_report_data"), &n);
	assert_int_equal(n, 64);
	assert_memory_equal(written, rd, 64); /* and exactly our report data went in */
	free(written);

	/* an RA-TLS certificate made through it embeds that quote; the report data written for
	 * the legacy extension (the last quote asked for) is SHA-256(SPKI) || 0^32 */
	struct ck_ratls_cert_opts o = {
	    .common_name = "localhost", .valid_days = 1, .legacy_extension = true};
	o.claims.phase = CK_PHASE_PROVISIONING;
	EVP_PKEY *k;
	X509 *x;
	assert_int_equal(ck_ratls_issue(a, &o, &k, &x, &e), 0);
	struct ck_ratls_info info;
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	assert_int_equal(info.n_ext, 2);
	for (size_t i = 0; i < info.n_ext; i++) {
		assert_int_equal(info.ext[i].quote_len, qn);
		assert_memory_equal(info.ext[i].quote, q, qn);
	}
	assert_int_equal(info.claims.phase, CK_PHASE_PROVISIONING);
	assert_false(info.claims_bound); /* a recorded quote cannot carry our claims' hash */
	uint8_t *spki, want[64] = {0};
	size_t sl;
	assert_int_equal(ck_spki_der(k, &spki, &sl), 0);
	ck_hash(CK_HASH_SHA256, spki, sl, want);
	written = tu_read(tu_path("attestation/user_report_data"), &n);
	assert_memory_equal(written, want, 64);
	free(written);
	free(spki);
	/* the claims' quote was asked with SHA-256(claims) */
	uint8_t *cq, *cl;
	size_t cqn, cln;
	assert_int_equal(
	    ck_ratls_evidence(a, NULL, 0, &o.claims, NULL, 0, &cq, &cqn, &cl, &cln, &e), 0);
	ck_hash(CK_HASH_SHA256, cl, cln, want);
	written = tu_read(tu_path("attestation/user_report_data"), &n);
	assert_memory_equal(written, want, 32);
	free(written);
	free(cq);
	free(cl);
	X509_free(x);
	EVP_PKEY_free(k);

	/* not DCAP */
	put("attestation/attestation_type", "none\n", 5);
	assert_int_equal(a->quote(a, rd, &got, &gn, &e), -1);
	assert_string_equal(e.code, CK_E_UNSUPPORTED);
	assert_non_null(strstr(e.msg, "'none'"));
	ck_attester_free(a);
	/* no such device */
	assert_int_equal(ck_attester_sgx(tu_path("missing"), &a, &e), 0);
	assert_int_equal(a->quote(a, rd, &got, &gn, &e), -1);
	assert_string_equal(e.code, CK_E_IO);
	ck_attester_free(a);
	free(q);
}

/* A fake configfs-tsm entry: outblob is a FIFO; when the backend opens it, this thread bumps
 * `generation` by `bump` (the kernel bumps it by one per write) and writes the recorded quote. */
struct kernel {
	const uint8_t *quote;
	size_t len;
	unsigned bump;
	unsigned gen;
};

static void *fake_kernel(void *arg)
{
	struct kernel *k = arg;
	int fd = open(tu_path("report/cloak/outblob"), O_WRONLY);
	char g[16];
	int gl = snprintf(g, sizeof(g), "%u\n", k->gen + k->bump);
	assert_int_equal(
	    ck_write_file(tu_path("report/cloak/generation"), g, (size_t)gl, 0644, NULL), 0);
	if (fd >= 0) {
		ssize_t w = write(fd, k->quote, k->len);
		(void)w;
		close(fd);
	}
	return NULL;
}

static int tsm_once(struct ck_attester *a, struct kernel *k, const uint8_t rd[64], uint8_t **got,
		    size_t *gn, struct ck_err *e)
{
	pthread_t th;
	char g[16];
	int gl = snprintf(g, sizeof(g), "%u\n", k->gen);
	put("report/cloak/generation", g, (size_t)gl);
	pthread_create(&th, NULL, fake_kernel, k);
	int r = a->quote(a, rd, got, gn, e);
	pthread_join(th, NULL);
	return r;
}

static void test_tsm_backend(void **s)
{
	(void)s;
	size_t qn, n, gn;
	uint8_t *q = tu_read("tdx/dcap-qvl/tdx_quote.bin", &qn), *got, *written;
	mkdir(tu_path("report"), 0755);
	mkdir(tu_path("report/cloak"), 0755);
	put("report/cloak/inblob", "", 0);
	put("report/cloak/provider", "tdx_guest\n", 10);
	assert_int_equal(mkfifo(tu_path("report/cloak/outblob"), 0644), 0);
	struct ck_attester *a;
	struct ck_err e;
	assert_int_equal(ck_attester_tsm(tu_path("report"), tu_path("report/cloak"), &a, &e), 0);
	uint8_t rd[64];
	memset(rd, 0xc3, 64);
	struct kernel k = {q, qn, 1, 7};
	if (tsm_once(a, &k, rd, &got, &gn, &e) < 0)
		fail_msg("%s", e.msg);
	assert_int_equal(gn, qn);
	assert_memory_equal(got, q, qn);
	assert_string_equal(a->name, "tsm-tdx");
	free(got);
	written = tu_read(tu_path("report/cloak/inblob"), &n);
	assert_int_equal(n, 64);
	assert_memory_equal(written, rd, 64);
	free(written);
	/* a TDX RA-TLS certificate carries the TDX quote in the standard extension */
	struct ck_ratls_cert_opts o = {.common_name = "localhost", .valid_days = 1};
	EVP_PKEY *pk;
	X509 *x;
	pthread_t th;
	k.gen = 8;
	put("report/cloak/generation", "8\n", 2);
	pthread_create(&th, NULL, fake_kernel, &k);
	assert_int_equal(ck_ratls_issue(a, &o, &pk, &x, &e), 0);
	pthread_join(th, NULL);
	struct ck_ratls_info info;
	assert_int_equal(ck_ratls_inspect(x, &info, &e), 0);
	assert_int_equal(info.n_ext, 1);
	assert_int_equal(info.ext[0].quote_len, qn);
	assert_memory_equal(info.ext[0].quote, q, qn);
	X509_free(x);
	EVP_PKEY_free(pk);
	/* another writer raced us: generation moved by two */
	k.bump = 2;
	assert_int_equal(tsm_once(a, &k, rd, &got, &gn, &e), -1);
	assert_non_null(strstr(e.msg, "someone else"));
	/* an unknown provider */
	k.bump = 1;
	put("report/cloak/provider", "acme_tee\n", 9);
	assert_int_equal(tsm_once(a, &k, rd, &got, &gn, &e), -1);
	assert_string_equal(e.code, CK_E_UNSUPPORTED);
	ck_attester_free(a);
	/* without an entry, one is created and removed again, even when it fails (a plain
	 * directory has no configfs attributes) */
	mkdir(tu_path("bare"), 0755);
	assert_int_equal(ck_attester_tsm(tu_path("bare"), NULL, &a, &e), 0);
	assert_int_equal(a->quote(a, rd, &got, &gn, &e), -1);
	assert_string_equal(e.code, CK_E_IO);
	assert_int_equal(rmdir(tu_path("bare")), 0); /* empty: nothing was left behind */
	ck_attester_free(a);
	free(q);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_sgx_backend),
	    cmocka_unit_test(test_tsm_backend),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
