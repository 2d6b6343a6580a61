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

#define CK_GRAMINE_ATTESTATION_DIR "/dev/attestation"
#define CK_TSM_REPORT_DIR	   "/sys/kernel/config/tsm/report"
#define CK_ATTEST_MAX_QUOTE	   (64 * 1024)

/* SGX under Gramine: checks `attestation_type` says "dcap", writes the 64 bytes to
 * `user_report_data`, reads `quote` (Gramine's RA-TLS does the same). `dir` is normally
 * CK_GRAMINE_ATTESTATION_DIR; tests point it at a fake tree. */
int ck_attester_sgx(const char *dir, struct ck_attester **out, struct ck_err *err);

/* TDX or SEV-SNP through Linux configfs-tsm: creates an entry under `dir` (or uses `entry`, an
 * existing one, when not NULL), writes `inblob`, reads `outblob`, and requires `generation` to
 * show exactly our one write (else another writer raced us). `provider` says which TEE. */
int ck_attester_tsm(const char *dir, const char *entry, struct ck_attester **out,
		    struct ck_err *err);
/* Releases an attester and what its backend holds (NULL is fine). */
void ck_attester_free(struct ck_attester *a);

#endif
