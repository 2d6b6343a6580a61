/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisals per second of a real SGX vector, on the calling thread:
 *   cold  - from bytes to verdict, nothing cached: parse the collateral JSON, verify it
 *           (chains, CRLs, TCB Info, QE Identity), parse the quote, appraise it;
 *   warm  - collateral already verified: parse the quote and appraise it.
 * Also prints how many ECDSA verifications each performs, and the cost of one P-256
 * verification measured in this process (EVP_DigestVerify, key reused), for the ratio.
 * Usage: bench_appraise QUOTE COLLATERAL RFC3339 [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "cloak/appraise.h"
#include "cloak/fileio.h"
#include "evidence/cert.h"
#include "evidence/x509util.h"

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s QUOTE COLLATERAL RFC3339 [SECONDS]\n", argv[0]);
		return 2;
	}
	double secs = argc > 4 ? atof(argv[4]) : 3.0;
	uint8_t *q, *c;
	size_t qlen, clen;
	struct ck_err e;
	ck_time_t at;
	if (ck_read_file(argv[1], CK_QUOTE_MAX_LEN, &q, &qlen, &e) < 0 ||
	    ck_read_file(argv[2], CK_COLLATERAL_MAX_LEN, &c, &clen, &e) < 0 ||
	    ck_time_parse(argv[3], strlen(argv[3]), &at, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 2;
	}
	struct ck_appraise_opts o = {.at = at};
	struct ck_appraisal a;

	/* cold */
	unsigned long n = 0, sig_cold = 0;
	double t0 = now(), t;
	do {
		struct ck_collateral coll;
		if (ck_collateral_parse((char *)c, clen, &coll, &e) < 0)
			return fprintf(stderr, "%s\n", e.msg), 1;
		if (ck_appraise_raw(q, qlen, &coll, &o, &a) < 0)
			return fprintf(stderr, "appraisal failed: %s\n", a.error.msg), 1;
		sig_cold = a.sig_verifications;
		ck_collateral_free(&coll);
		n++;
	} while ((t = now() - t0) < secs);
	double cold_us = t / n * 1e6;

	/* warm */
	struct ck_collateral coll;
	struct ck_verified_collateral *vc;
	ck_collateral_parse((char *)c, clen, &coll, NULL);
	if (ck_collateral_verify(&coll, false, &vc, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;
	unsigned long m = 0, sig_warm = 0;
	t0 = now();
	do {
		struct ck_quote qq;
		if (ck_quote_parse(q, qlen, &qq, &e) < 0 || ck_appraise(&qq, vc, &o, &a) < 0)
			return fprintf(stderr, "warm appraisal failed\n"), 1;
		sig_warm = a.sig_verifications;
		m++;
	} while ((t = now() - t0) < secs);
	double warm_us = t / m * 1e6;

	/* one P-256 verification, in-process (same EVP path as the appraisal) */
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	uint8_t sig[64], msg[384] = {1};
	uint8_t pub[CK_P256_PUB_LEN];
	ck_ecdsa_sign_raw(k, msg, sizeof(msg), sig);
	ck_p256_point(k, pub);
	unsigned long v = 0;
	t0 = now();
	do {
		if (!ck_p256_verify(pub, msg, sizeof(msg), sig))
			return 1;
		v++;
	} while ((t = now() - t0) < secs / 2);
	double verify_us = t / v * 1e6;

	printf("{\"cold_us\": %.1f, \"cold_per_s\": %.0f, \"cold_sig_verifications\": %lu, "
	       "\"warm_us\": %.1f, \"warm_per_s\": %.0f, \"warm_sig_verifications\": %lu, "
	       "\"inproc_p256_verify_us\": %.1f}\n",
	       cold_us, 1e6 / cold_us, sig_cold, warm_us, 1e6 / warm_us, sig_warm, verify_us);
	ck_verified_collateral_free(vc);
	ck_collateral_free(&coll);
	EVP_PKEY_free(k);
	free(q);
	free(c);
	return 0;
}
