/* SPDX-License-Identifier: Apache-2.0 */
/* cloak collateral import: raw Intel PCS responses -> QuoteCollateralV3 JSON. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/collateral.h"
#include "cloak/fileio.h"

struct import_opts {
	const char *tcb_info, *qe_identity, *root_crl, *pck_crl, *tcb_chain, *pck_crl_chain, *out;
};

#define IO struct import_opts
static const struct ck_opt import_opts[] = {
    CK_OPT_NEED("tcb-info", 0, "FILE", IO, tcb_info,
		"body of /sgx/certification/v3|v4/tcb ({\"tcbInfo\":..,\"signature\":..})"),
    CK_OPT_NEED("qe-identity", 0, "FILE", IO, qe_identity,
		"body of /sgx/certification/v3|v4/qe/identity"),
    CK_OPT_NEED("root-crl", 0, "FILE", IO, root_crl, "Intel SGX Root CA CRL (DER, PEM or hex)"),
    CK_OPT_NEED("pck-crl", 0, "FILE", IO, pck_crl, "PCK CRL (DER, PEM or hex)"),
    CK_OPT_NEED("tcb-chain", 0, "FILE", IO, tcb_chain,
		"TCB-Info-Issuer-Chain header, URL-decoded (PEM)"),
    CK_OPT_ARG("pck-crl-chain", 0, "FILE", IO, pck_crl_chain,
	       "SGX-PCK-CRL-Issuer-Chain header, URL-decoded (PEM)"),
    CK_OPT_NEED("out", 'o', "FILE", IO, out, "the collateral file to write"),
    CK_OPT_END};
#undef IO

static const struct ck_opt_spec import_spec = {
    .name = "cloak collateral import",
    .operands = "",
    .about = "Builds a collateral file from raw Intel PCS (or PCCS) responses, keeping the\n"
	     "signed TCB Info and QE Identity byte for byte.",
    .opts = import_opts};

enum { TI, QE, RC, PC, TC, PCC, N };

/* The PCS responses as collateral JSON, written to `out`. */
static int build(uint8_t *buf[N], size_t len[N], const char *out)
{
	struct ck_err e;
	struct ck_pcs_inputs in = {
	    .tcb_info_body = (char *)buf[TI],
	    .tcb_info_body_len = len[TI],
	    .qe_identity_body = (char *)buf[QE],
	    .qe_identity_body_len = len[QE],
	    .root_crl = buf[RC],
	    .root_crl_len = len[RC],
	    .pck_crl = buf[PC],
	    .pck_crl_len = len[PC],
	    .tcb_chain = (char *)buf[TC],
	    .pck_crl_chain = (char *)buf[PCC],
	};
	struct ck_collateral coll;
	if (ck_collateral_from_pcs(&in, &coll, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	json_t *j = ck_collateral_to_json(&coll);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	int ret = EXIT_USAGE;
	json_decref(j);
	ck_collateral_free(&coll);
	if (s && ck_write_file(out, s, strlen(s), 0644, &e) == 0)
		ret = EXIT_OK;
	else if (s)
		cli_err(&e);
	free(s);
	return ret;
}

static int import(int argc, char **argv)
{
	struct import_opts o = {0};
	int ret = EXIT_USAGE;
	if (ck_opts_parse(&import_spec, argc, argv, &o, &ret) < 0)
		return ret;
	const char *path[N] = {o.tcb_info, o.qe_identity, o.root_crl,
			       o.pck_crl,  o.tcb_chain,	  o.pck_crl_chain};
	uint8_t *buf[N] = {0};
	size_t len[N] = {0};
	struct ck_err e;
	for (int i = 0; i < N; i++)
		if (path[i] && cli_read(path[i], CK_COLLATERAL_MAX_LEN, &buf[i], &len[i], &e) < 0) {
			cli_err(&e);
			goto out;
		}
	ret = build(buf, len, o.out);
out:
	for (int i = 0; i < N; i++)
		free(buf[i]);
	return ret;
}

static const struct subcommand coll_cmds[] = {
    {"import", import, "Build a collateral file from raw Intel PCS responses"},
    {NULL, NULL, NULL},
};

int cmd_collateral(int argc, char **argv)
{
	return cli_dispatch("cloak collateral", coll_cmds, argc - 1, argv + 1);
}
