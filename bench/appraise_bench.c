/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Appraisals of a real SGX vector on the calling thread, each round beside the cost of one
 * ECDSA P-256 verification measured in the same round (bench.h):
 *   cold - from bytes to verdict, nothing cached: parse the collateral JSON, verify it (chains,
 *          CRLs, TCB Info, QE Identity), parse the quote, appraise it;
 *   warm - collateral already verified: parse the quote and appraise it.
 * The ratio is time / (ECDSA verifications performed x one verification).
 * Usage: bench_appraise QUOTE COLLATERAL RFC3339 [SECONDS]
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "bench.h"
#include "cloak/appraise.h"
#include "cloak/fileio.h"
#include "cert.h"
#include "evidence/x509util.h"

struct ctx {
	uint8_t *q, *c;
	size_t qlen, clen;
	struct ck_appraise_opts o;
	struct ck_verified_collateral *vc;
	unsigned long sigs;
	uint8_t pub[CK_P256_PUB_LEN], sig[64], msg[384];
};

static int cold(void *arg)
{
	struct ctx *x = arg;
	struct ck_collateral coll;
	struct ck_appraisal a;
	if (ck_collateral_parse((char *)x->c, x->clen, &coll, NULL) < 0)
		return -1;
	int r = ck_appraise_raw(x->q, x->qlen, &coll, &x->o, &a);
	x->sigs = a.sig_verifications;
	ck_collateral_free(&coll);
	return r;
}

static int warm(void *arg)
{
	struct ctx *x = arg;
	struct ck_quote q;
	struct ck_appraisal a;
	if (ck_quote_parse(x->q, x->qlen, &q, NULL) < 0 || ck_appraise(&q, x->vc, &x->o, &a) < 0)
		return -1;
	x->sigs = a.sig_verifications;
	return 0;
}

static int verify(void *arg)
{
	struct ctx *x = arg;
	return ck_p256_verify(x->pub, x->msg, sizeof(x->msg), x->sig) ? 0 : -1;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: %s QUOTE COLLATERAL RFC3339 [SECONDS]\n", argv[0]);
		return 2;
	}
	double secs = argc > 4 ? atof(argv[4]) : 3.0, slice = secs / BENCH_ROUNDS / 3;
	struct ctx x = {0};
	struct ck_err e;
	ck_time_t at;
	if (ck_read_file(argv[1], CK_QUOTE_MAX_LEN, &x.q, &x.qlen, &e) < 0 ||
	    ck_read_file(argv[2], CK_COLLATERAL_MAX_LEN, &x.c, &x.clen, &e) < 0 ||
	    ck_time_parse(argv[3], strlen(argv[3]), &at, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 2;
	x.o.at = at;
	struct ck_collateral coll;
	if (ck_collateral_parse((char *)x.c, x.clen, &coll, &e) < 0 ||
	    ck_collateral_verify(&coll, false, &x.vc, &e) < 0)
		return fprintf(stderr, "%s\n", e.msg), 1;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	ck_ecdsa_sign_raw(k, x.msg, sizeof(x.msg), x.sig);
	ck_p256_point(k, x.pub);

	double tc[BENCH_ROUNDS], tw[BENCH_ROUNDS], tv[BENCH_ROUNDS], rc[BENCH_ROUNDS],
		rw[BENCH_ROUNDS];
	unsigned long sc = 0, sw = 0;
	bench_time(cold, &x, slice); /* warm-up */
	for (int i = 0; i < BENCH_ROUNDS; i++) {
		tv[i] = bench_time(verify, &x, slice);
		tc[i] = bench_time(cold, &x, slice);
		sc = x.sigs;
		tw[i] = bench_time(warm, &x, slice);
		sw = x.sigs;
		if (tv[i] < 0 || tc[i] < 0 || tw[i] < 0)
			return fprintf(stderr, "appraisal failed\n"), 1;
		rc[i] = tc[i] / (sc * tv[i]);
		rw[i] = tw[i] / (sw * tv[i]);
	}
	double mc = bench_median(tc, BENCH_ROUNDS), mw = bench_median(tw, BENCH_ROUNDS),
	       mv = bench_median(tv, BENCH_ROUNDS);
	printf("{\"cold_us\": %.1f, \"cold_per_s\": %.0f, \"cold_sig_verifications\": %lu, "
	       "\"cold_ratio\": %.2f, \"warm_us\": %.1f, \"warm_per_s\": %.0f, "
	       "\"warm_sig_verifications\": %lu, \"warm_ratio\": %.2f, \"p256_verify_us\": %.1f}\n",
	       mc * 1e6, 1 / mc, sc, bench_median(rc, BENCH_ROUNDS), mw * 1e6, 1 / mw, sw,
	       bench_median(rw, BENCH_ROUNDS), mv * 1e6);
	ck_verified_collateral_free(x.vc);
	ck_collateral_free(&coll);
	EVP_PKEY_free(k);
	free(x.q);
	free(x.c);
	return 0;
}
