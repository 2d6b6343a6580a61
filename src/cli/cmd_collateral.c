/* SPDX-License-Identifier: Apache-2.0 */
/* cloak collateral import: raw Intel PCS responses -> QuoteCollateralV3 JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/collateral.h"
#include "cloak/fileio.h"

static const char import_usage[] =
	"Usage: cloak collateral import --tcb-info FILE --qe-identity FILE --root-crl FILE\n"
	"                               --pck-crl FILE --tcb-chain FILE [--pck-crl-chain FILE]\n"
	"                               -o FILE\n"
	"\n"
	"Builds a collateral file from raw Intel PCS (or PCCS) responses, keeping the signed\n"
	"TCB Info and QE Identity byte for byte:\n"
	"  --tcb-info FILE       body of /sgx/certification/v3|v4/tcb  ({\"tcbInfo\":..,\"signature\":..})\n"
	"  --qe-identity FILE    body of /sgx/certification/v3|v4/qe/identity\n"
	"  --root-crl FILE       Intel SGX Root CA CRL (DER, PEM or hex)\n"
	"  --pck-crl FILE        PCK CRL (DER, PEM or hex)\n"
	"  --tcb-chain FILE      TCB-Info-Issuer-Chain header, URL-decoded (PEM)\n"
	"  --pck-crl-chain FILE  SGX-PCK-CRL-Issuer-Chain header, URL-decoded (PEM; optional)\n";

static int import(int argc, char **argv)
{
	enum { TI, QE, RC, PC, TC, PCC, OUT, N };
	static const struct option opts[] = {
		{"tcb-info", required_argument, NULL, TI},   {"qe-identity", required_argument, NULL, QE},
		{"root-crl", required_argument, NULL, RC},   {"pck-crl", required_argument, NULL, PC},
		{"tcb-chain", required_argument, NULL, TC},  {"pck-crl-chain", required_argument, NULL, PCC},
		{"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	const char *path[N] = {0};
	uint8_t *buf[N] = {0};
	size_t len[N] = {0};
	int c, ret = EXIT_USAGE;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		if (c >= 0 && c < N)
			path[c] = optarg;
		else if (c == 'o')
			path[OUT] = optarg;
		else if (c == 'h')
			return fputs(import_usage, stdout), EXIT_OK;
		else
			return fputs(import_usage, stderr), EXIT_USAGE;
	}
	for (int i = 0; i < N; i++)
		if (!path[i] && i != PCC) {
			fputs(import_usage, stderr);
			return EXIT_USAGE;
		}
	if (optind != argc)
		return fputs(import_usage, stderr), EXIT_USAGE;
	struct ck_err e;
	for (int i = 0; i < OUT; i++)
		if (path[i] && cli_read(path[i], CK_COLLATERAL_MAX_LEN, &buf[i], &len[i], &e) < 0) {
			cli_err(&e);
			goto out;
		}
	struct ck_pcs_inputs in = {
		.tcb_info_body = (char *)buf[TI], .tcb_info_body_len = len[TI],
		.qe_identity_body = (char *)buf[QE], .qe_identity_body_len = len[QE],
		.root_crl = buf[RC], .root_crl_len = len[RC],
		.pck_crl = buf[PC], .pck_crl_len = len[PC],
		.tcb_chain = (char *)buf[TC], .pck_crl_chain = (char *)buf[PCC],
	};
	struct ck_collateral coll;
	if (ck_collateral_from_pcs(&in, &coll, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	json_t *j = ck_collateral_to_json(&coll);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	ck_collateral_free(&coll);
	if (s && ck_write_file(path[OUT], s, strlen(s), 0644, &e) == 0)
		ret = EXIT_OK;
	else if (s)
		cli_err(&e);
	free(s);
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
