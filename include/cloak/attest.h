/* SPDX-License-Identifier: Apache-2.0 */
/*
 * attest.h - the one small interface to the TEE (DESIGN §3): 64 bytes of report data in, a
 * quote out. Backends: `sim` (the simulation PKI, here); `sgx` (Gramine /dev/attestation) and
 * `tsm` (configfs-tsm) come with the runtime.
 */
#ifndef CLOAK_ATTEST_H
#define CLOAK_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/sim.h"

struct ck_attester {
	const char *name;
	bool simulated;
	int (*quote)(struct ck_attester *a, const uint8_t report_data[64], uint8_t **quote,
		     size_t *len, struct ck_err *err);
	/* Collateral for this platform, when the backend can produce it (sim); NULL otherwise. */
	int (*collateral)(struct ck_attester *a, struct ck_collateral *out, struct ck_err *err);
	void (*free)(struct ck_attester *a);
	void *ctx;
};

/* A sim attester: quotes from the PKI in `dir` for the enclave identity in `id` (its
 * report_data is replaced on every call). */
int ck_attester_sim(const char *dir, const struct ck_sim_quote_opts *id, struct ck_attester **out,
		    struct ck_err *err);
void ck_attester_free(struct ck_attester *a);

#endif
