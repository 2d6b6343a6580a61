/* SPDX-License-Identifier: Apache-2.0 */
/* cloak sim: the simulation PKI (NOT A REAL TEE). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/sim.h"

struct init_opts {
	const char *at;
};

static const struct ck_opt init_opts[] = {
    CK_OPT_ARG("at", 0, "TIME", struct init_opts, at, "the PKI's issue time (default now)"),
    CK_OPT_END};

static const struct ck_opt_spec init_spec = {
    .name = "cloak sim init",
    .operands = "DIR",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Creates a simulation PKI shaped like Intel's in DIR (which must not exist).\n"
	     "Every certificate says NOT A REAL TEE.",
    .opts = init_opts};

static int sim_init(int argc, char **argv)
{
	struct init_opts o = {0};
	int ex, arg = ck_opts_parse(&init_spec, argc, argv, &o, &ex);
	ck_time_t at;
	struct ck_err e;
	if (arg < 0)
		return ex;
	if (cli_time(o.at, &at) < 0)
		return EXIT_USAGE;
	if (ck_sim_init(argv[arg], at, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	printf("sim PKI created in %s (NOT A REAL TEE)\n", argv[arg]);
	return EXIT_OK;
}

static int hex_arg(const char *opt, const char *v, uint8_t *out, size_t n)
{
	struct ck_err e;
	size_t len = strlen(v);
	if (len < 2 * n) { /* shorter values are zero-padded on the right (report data) */
		char buf[257] = {0};
		if (len > 2 * n || len % 2) {
			cli_errx("%s: '%s' is not %zu hex bytes", opt, v, n);
			return -1;
		}
		memcpy(buf, v, len);
		memset(buf + len, '0', 2 * n - len);
		v = buf;
		if (ck_hex_decode_exact(v, 2 * n, out, n, opt, &e) < 0) {
			cli_err(&e);
			return -1;
		}
		return 0;
	}
	if (ck_hex_decode_exact(v, len, out, n, opt, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	return 0;
}

static int num_arg(const char *opt, const char *v, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long x = strtoul(v, &end, 0);
	if (!*v || *end || x > max || v[0] == '-') {
		cli_errx("%s: '%s' is not a number in 0..%lu", opt, v, max);
		return -1;
	}
	*out = x;
	return 0;
}

static int write_out(const char *path, const void *buf, size_t len)
{
	struct ck_err e;
	if (!path || !strcmp(path, "-")) {
		return fwrite(buf, 1, len, stdout) == len ? 0 : -1;
	}
	if (ck_write_file(path, buf, len, 0644, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	return 0;
}

struct quote_opts {
	const char *pki, *out, *at, *mrenclave, *mrsigner, *isv_prod_id, *isv_svn, *report_data;
	const char *tcb_status, *qe_svn, *version;
	bool debug, bundle;
};

#define QO struct quote_opts
static const struct ck_opt quote_opts[] = {
    CK_OPT_NEED("pki", 0, "DIR", QO, pki, "the sim PKI (cloak sim init)"),
    CK_OPT_NEED("out", 'o', "FILE", QO, out, "output ('-' for stdout)"),
    CK_OPT_ARG("mrenclave", 0, "HEX", QO, mrenclave,
	       "enclave measurement (32 bytes; default zero)"),
    CK_OPT_ARG("mrsigner", 0, "HEX", QO, mrsigner, "enclave signer (32 bytes; default zero)"),
    CK_OPT_ARG("isv-prod-id", 0, "N", QO, isv_prod_id, "ISVPRODID"),
    CK_OPT_ARG("isv-svn", 0, "N", QO, isv_svn, "ISVSVN"),
    CK_OPT_FLAG("debug", 0, QO, debug, "set the DEBUG attribute"),
    CK_OPT_ARG("report-data", 0, "HEX", QO, report_data, "up to 64 bytes, zero-padded"),
    CK_OPT_ARG("tcb-status", 0, "NAME", QO, tcb_status,
	       "the platform's TCB level: UpToDate (default), ..., Revoked, or NoMatch"),
    CK_OPT_ARG("qe-svn", 0, "N", QO, qe_svn,
	       "the sim QE's ISVSVN (8 UpToDate, 6 OutOfDate, 4 Revoked; default 8)"),
    CK_OPT_ARG("quote-version", 0, "N", QO, version, "3 (default) or 4"),
    CK_OPT_ARG("at", 0, "TIME", QO, at, "issue time (default now)"),
    CK_OPT_FLAG("bundle", 0, QO, bundle,
		"an evidence bundle with fresh collateral, not a raw quote"),
    CK_OPT_END};
#undef QO

static const struct ck_opt_spec quote_spec = {
    .name = "cloak sim quote",
    .operands = "",
    .about = "Issues a simulated SGX ECDSA quote through the sim PKI (NOT A REAL TEE). TCB\n"
	     "statuses: UpToDate, SWHardeningNeeded, ConfigurationNeeded,\n"
	     "ConfigurationAndSWHardeningNeeded, OutOfDate, OutOfDateConfigurationNeeded,\n"
	     "Revoked, NoMatch.",
    .opts = quote_opts};

static int tcb_arg(const char *v, struct ck_sim_quote_opts *q)
{
	if (!strcmp(v, "NoMatch")) {
		q->pck_svn = 1;
		return 0;
	}
	enum ck_tcb_status st = ck_tcb_status_parse(v);
	if (st == CK_TCB_INVALID || st >= CK_TCB_TD_RELAUNCH_ADVISED) {
		cli_errx("--tcb-status: '%s' is not an SGX TCB status", v);
		return -1;
	}
	q->pck_svn = (uint8_t)ck_sim_svn_for_status(st);
	return 0;
}

/* The options' values, checked, into the sim's quote options. */
static int quote_load(const struct quote_opts *o, struct ck_sim_quote_opts *q)
{
	unsigned long n, pid = q->isv_prod_id, svn = q->isv_svn, qe = q->qe_svn, ver = 3;
	if ((o->mrenclave && hex_arg("--mrenclave", o->mrenclave, q->mrenclave, 32)) ||
	    (o->mrsigner && hex_arg("--mrsigner", o->mrsigner, q->mrsigner, 32)) ||
	    (o->report_data && hex_arg("--report-data", o->report_data, q->report_data, 64)) ||
	    (o->isv_prod_id && num_arg("--isv-prod-id", o->isv_prod_id, 65535, &pid)) ||
	    (o->isv_svn && num_arg("--isv-svn", o->isv_svn, 65535, &svn)) ||
	    (o->qe_svn && num_arg("--qe-svn", o->qe_svn, 65535, &qe)) ||
	    (o->tcb_status && tcb_arg(o->tcb_status, q) < 0) || cli_time(o->at, &q->now) < 0)
		return -1;
	if (o->version && (num_arg("--quote-version", o->version, 4, &n) || n < 3)) {
		cli_errx("--quote-version: '%s' is not 3 or 4", o->version);
		return -1;
	}
	ver = o->version ? n : (unsigned long)q->version;
	q->isv_prod_id = (uint16_t)pid;
	q->isv_svn = (uint16_t)svn;
	q->qe_svn = (uint16_t)qe;
	q->version = (int)ver;
	q->debug = o->debug;
	return 0;
}

static int sim_quote(int argc, char **argv)
{
	struct quote_opts opts = {0};
	struct ck_sim_quote_opts o;
	int ex;
	ck_sim_quote_opts_default(&o, 0);
	if (ck_opts_parse(&quote_spec, argc, argv, &opts, &ex) < 0)
		return ex;
	if (quote_load(&opts, &o) < 0)
		return EXIT_USAGE;
	const char *pki_dir = opts.pki, *out = opts.out;
	bool bundle = opts.bundle;
	struct ck_err e;
	struct ck_sim_pki *pki;
	uint8_t *q;
	size_t qlen;
	int ret = EXIT_USAGE;
	if (ck_sim_load(pki_dir, &pki, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	if (ck_sim_quote(pki, &o, &q, &qlen, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	if (bundle) {
		struct ck_bundle b = {.quote = q, .quote_len = qlen, .has_collateral = true};
		struct ck_sim_collateral_opts co;
		ck_sim_collateral_opts_default(&co, o.now);
		if (ck_sim_collateral(pki, &co, &b.collateral, &e) < 0) {
			cli_err(&e);
			free(q);
			goto out;
		}
		char *s = ck_bundle_dump(&b);
		ret = s && !write_out(out, s, strlen(s)) ? EXIT_OK : EXIT_USAGE;
		free(s);
		ck_bundle_free(&b);
	} else {
		ret = write_out(out, q, qlen) ? EXIT_USAGE : EXIT_OK;
		free(q);
	}
out:
	ck_sim_free(pki);
	return ret;
}

struct coll_opts {
	const char *pki, *out, *at, *valid_days, *fmspc, *revoke_pck_of;
	bool revoke_pck_ca;
};

#define CO struct coll_opts
static const struct ck_opt coll_opts[] = {
    CK_OPT_NEED("pki", 0, "DIR", CO, pki, "the sim PKI (cloak sim init)"),
    CK_OPT_NEED("out", 'o', "FILE", CO, out, "output ('-' for stdout)"),
    CK_OPT_ARG("at", 0, "TIME", CO, at, "issue time (default now minus one hour)"),
    CK_OPT_ARG("valid-days", 0, "N", CO, valid_days, "until nextUpdate (default 30)"),
    CK_OPT_ARG("fmspc", 0, "HEX", CO, fmspc, "TCB Info for another FMSPC (6 bytes)"),
    CK_OPT_ARG("revoke-pck-of", 0, "QUOTE", CO, revoke_pck_of,
	       "list the PCK certificate of QUOTE in the PCK CRL"),
    CK_OPT_FLAG("revoke-pck-ca", 0, CO, revoke_pck_ca, "list the PCK CA in the root CRL"),
    CK_OPT_END};
#undef CO

static const struct ck_opt_spec coll_spec = {
    .name = "cloak sim collateral",
    .operands = "",
    .about = "Issues sim collateral (QuoteCollateralV3 JSON): CRLs, TCB Info v3, QE Identity\n"
	     "v2.",
    .opts = coll_opts};

static int sim_collateral(int argc, char **argv)
{
	struct coll_opts opts = {0};
	unsigned long days = CK_SIM_VALIDITY_DAYS;
	struct ck_sim_collateral_opts o;
	ck_time_t at;
	int ex;
	ck_sim_collateral_opts_default(&o, 0);
	if (ck_opts_parse(&coll_spec, argc, argv, &opts, &ex) < 0)
		return ex;
	if ((opts.valid_days && num_arg("--valid-days", opts.valid_days, 3650, &days)) ||
	    (opts.fmspc && hex_arg("--fmspc", opts.fmspc, o.fmspc, 6)) ||
	    cli_time(opts.at, &at) < 0)
		return EXIT_USAGE;
	o.has_fmspc = opts.fmspc != NULL;
	o.revoke_pck_ca = opts.revoke_pck_ca;
	o.issued = opts.at ? at : at - 3600;
	o.next_update = o.issued + (ck_time_t)days * 86400;
	const char *pki_dir = opts.pki, *out = opts.out, *revoke_q = opts.revoke_pck_of;

	struct ck_err e;
	struct ck_sim_pki *pki = NULL;
	struct ck_collateral coll = {0};
	uint8_t serial[32], *qbuf = NULL;
	size_t slen, qlen;
	int ret = EXIT_USAGE;
	if (revoke_q) {
		if (cli_read(revoke_q, CK_QUOTE_MAX_LEN, &qbuf, &qlen, &e) < 0 ||
		    ck_sim_quote_pck_serial(qbuf, qlen, serial, sizeof(serial), &slen, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		o.revoke_serial = serial;
		o.revoke_serial_len = slen;
	}
	if (ck_sim_load(pki_dir, &pki, &e) < 0 || ck_sim_collateral(pki, &o, &coll, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	json_t *j = ck_collateral_to_json(&coll);
	char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(j);
	if (s && !write_out(out, s, strlen(s)))
		ret = EXIT_OK;
	free(s);
out:
	free(qbuf);
	ck_collateral_free(&coll);
	ck_sim_free(pki);
	return ret;
}

static const struct subcommand sim_cmds[] = {
    {"init", sim_init, "Create a simulation PKI in a new directory"},
    {"quote", sim_quote, "Issue a simulated SGX v3 quote (or evidence bundle)"},
    {"collateral", sim_collateral, "Issue sim collateral (CRLs, TCB Info, QE Identity)"},
    {"serve", cmd_sim_serve, "Serve HTTPS with a sim RA-TLS certificate and evidence endpoint"},
    {NULL, NULL, NULL},
};

int cmd_sim(int argc, char **argv)
{
	return cli_dispatch("cloak sim", sim_cmds, argc - 1, argv + 1);
}
