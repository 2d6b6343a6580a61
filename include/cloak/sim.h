/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sim.h - the simulation PKI (DESIGN §3): a PKI shaped like Intel's, so that simulated quotes are
 * real SGX ECDSA v3 quotes that go through the same appraisal as hardware ones.
 *
 *   sim root CA ──> sim PCK Platform CA ──> PCK leaf (real SGX extension)
 *               └─> sim TCB Signing ──> TCB Info v3, QE Identity v2
 *   sim quoting enclave: attestation key, signs the ISV report; PCK key signs the QE report.
 *
 * Every certificate subject says "NOT A REAL TEE"; appraisal accepts this root only with
 * allow_simulation, and labels the result SIMULATED.
 *
 * The TCB Info has one level per status, so a quote can be made to land on any of them:
 *   PCK comp01 SVN  8 UpToDate, 7 SWHardeningNeeded, 6 ConfigurationNeeded,
 *   5 ConfigurationAndSWHardeningNeeded, 4 OutOfDate, 3 OutOfDateConfigurationNeeded,
 *   2 Revoked, 1 no matching level.
 * The QE Identity: ISVSVN >= 8 UpToDate, >= 6 OutOfDate, >= 4 Revoked, below that no level.
 *
 * Files in the PKI directory (keys mode 0600): root.pem/.key, pck-ca.pem/.key,
 * tcb-signing.pem/.key, pck.key (the platform's PCK key), ak.key (the QE attestation key),
 * pki.json.
 */
#ifndef CLOAK_SIM_H
#define CLOAK_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/collateral.h"
#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_SIM_QE_SVN_DEFAULT 8
#define CK_SIM_PCESVN	      13
#define CK_SIM_VALIDITY_DAYS  30

struct ck_sim_pki;

/* Creates a new PKI in `dir`, which must not exist yet (it is created whole, or not at all).
 * Certificates are valid from `now` minus one day for 20 years. */
int ck_sim_init(const char *dir, ck_time_t now, struct ck_err *err);
/* Loads a sim PKI made by ck_sim_init (*out the caller's, ck_sim_free); the error names the
 * file that is missing or malformed. */
int ck_sim_load(const char *dir, struct ck_sim_pki **out, struct ck_err *err);
void ck_sim_free(struct ck_sim_pki *pki);

/* The PCK comp01 SVN that lands on `status` (see the table above); 1 for "no match". */
int ck_sim_svn_for_status(enum ck_tcb_status status);

struct ck_sim_quote_opts {
	uint8_t mrenclave[32];
	uint8_t mrsigner[32];
	uint16_t isv_prod_id, isv_svn;
	bool debug;
	uint8_t report_data[64];
	uint8_t pck_svn; /* comp01 of the PCK leaf: ck_sim_svn_for_status() */
	uint16_t qe_svn; /* CK_SIM_QE_SVN_DEFAULT */
	int version;	 /* quote version: 3 (default) or 4 */
	ck_time_t now;	 /* the PCK leaf is valid from now - 1 day */
};
/* The defaults: measurements zero, UpToDate TCB, QE SVN 8, quote version 3, issued at `now`. */
void ck_sim_quote_opts_default(struct ck_sim_quote_opts *o, ck_time_t now);

/* Issues a v3 quote (malloc'ed into *quote). */
int ck_sim_quote(struct ck_sim_pki *pki, const struct ck_sim_quote_opts *o, uint8_t **quote,
		 size_t *len, struct ck_err *err);

struct ck_sim_collateral_opts {
	ck_time_t issued;      /* issueDate / thisUpdate */
	ck_time_t next_update; /* nextUpdate of TCB Info, QE Identity and both CRLs */
	bool has_fmspc;	       /* TCB Info for another FMSPC */
	uint8_t fmspc[6];
	const uint8_t *revoke_serial; /* PCK leaf serial (big-endian) to list in the PCK CRL */
	size_t revoke_serial_len;
	bool revoke_pck_ca; /* list the PCK CA in the root CRL */
};
/* The defaults: issued an hour before `now`, valid CK_SIM_VALIDITY_DAYS, nothing revoked. */
void ck_sim_collateral_opts_default(struct ck_sim_collateral_opts *o, ck_time_t now);

/* Issues collateral from the sim PKI as Intel's PCS would (CRLs, TCB Info v3, QE Identity v2),
 * every item labelled simulated; `out` is the caller's (ck_collateral_free). */
int ck_sim_collateral(struct ck_sim_pki *pki, const struct ck_sim_collateral_opts *o,
		      struct ck_collateral *out, struct ck_err *err);

/* The serial number of the PCK leaf in a quote's chain (for revocation tests). */
int ck_sim_quote_pck_serial(const uint8_t *quote, size_t len, uint8_t *serial, size_t cap,
			    size_t *serial_len, struct ck_err *err);

#endif
