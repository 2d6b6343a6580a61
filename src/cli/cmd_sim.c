/* SPDX-License-Identifier: Apache-2.0 */
/* cloak sim: the simulation PKI (NOT A REAL TEE). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/sim.h"

static int usage_err(const char *u)
{
	fputs(u, stderr);
	return EXIT_USAGE;
}

static int sim_init(int argc, char **argv)
{
	static const char u[] = "Usage: cloak sim init DIR [--at RFC3339]\n"
				"\n"
				"Creates a simulation PKI shaped like Intel's in DIR (which must not\n"
				"exist). Every certificate says NOT A REAL TEE.\n";
	static const struct option opts[] = {{"at", required_argument, NULL, 't'},
					     {"help", no_argument, NULL, 'h'},
					     {NULL, 0, NULL, 0}};
	const char *at_s = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 't')
			at_s = optarg;
		else if (c == 'h')
			return fputs(u, stdout), EXIT_OK;
		else
			return usage_err(u);
	}
	if (optind != argc - 1)
		return usage_err(u);
	ck_time_t at;
	struct ck_err e;
	if (cli_time(at_s, &at) < 0)
		return EXIT_USAGE;
	if (ck_sim_init(argv[optind], at, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	printf("sim PKI created in %s (NOT A REAL TEE)\n", argv[optind]);
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

static const char quote_usage[] =
	"Usage: cloak sim quote --pki DIR -o FILE [options]\n"
	"\n"
	"Issues a simulated SGX ECDSA v3 quote through the sim PKI (NOT A REAL TEE).\n"
	"\n"
	"  --mrenclave HEX      enclave measurement (32 bytes; default zero)\n"
	"  --mrsigner HEX       enclave signer (32 bytes; default zero)\n"
	"  --isv-prod-id N      --isv-svn N\n"
	"  --debug              set the DEBUG attribute\n"
	"  --report-data HEX    up to 64 bytes, zero-padded\n"
	"  --tcb-status NAME    TCB level of the platform: UpToDate (default), SWHardeningNeeded,\n"
	"                       ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate,\n"
	"                       OutOfDateConfigurationNeeded, Revoked, or NoMatch\n"
	"  --qe-svn N           ISVSVN of the sim quoting enclave (default 8: UpToDate; 6\n"
	"                       OutOfDate; 4 Revoked; below 4 no QE level)\n"
	"  --quote-version N    3 (default) or 4\n"
	"  --at TIME            issue time (default now)\n"
	"  --bundle             write an evidence bundle with fresh collateral instead of a raw quote\n"
	"  -o FILE              output ('-' for stdout)\n";

static int sim_quote(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pki", required_argument, NULL, 'P'},	  {"mrenclave", required_argument, NULL, 'e'},
		{"mrsigner", required_argument, NULL, 's'}, {"isv-prod-id", required_argument, NULL, 'i'},
		{"isv-svn", required_argument, NULL, 'v'},  {"debug", no_argument, NULL, 'd'},
		{"report-data", required_argument, NULL, 'r'},
		{"tcb-status", required_argument, NULL, 'T'},
		{"qe-svn", required_argument, NULL, 'q'},   {"at", required_argument, NULL, 't'},
		{"bundle", no_argument, NULL, 'b'},	    {"help", no_argument, NULL, 'h'},
		{"quote-version", required_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *pki_dir = NULL, *out = NULL, *at_s = NULL;
	struct ck_sim_quote_opts o;
	bool bundle = false;
	unsigned long n;
	int c;
	ck_sim_quote_opts_default(&o, 0);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'P': pki_dir = optarg; break;
		case 'o': out = optarg; break;
		case 'e': if (hex_arg("--mrenclave", optarg, o.mrenclave, 32)) return EXIT_USAGE; break;
		case 's': if (hex_arg("--mrsigner", optarg, o.mrsigner, 32)) return EXIT_USAGE; break;
		case 'r': if (hex_arg("--report-data", optarg, o.report_data, 64)) return EXIT_USAGE; break;
		case 'i': if (num_arg("--isv-prod-id", optarg, 65535, &n)) return EXIT_USAGE; o.isv_prod_id = (uint16_t)n; break;
		case 'v': if (num_arg("--isv-svn", optarg, 65535, &n)) return EXIT_USAGE; o.isv_svn = (uint16_t)n; break;
		case 'q': if (num_arg("--qe-svn", optarg, 65535, &n)) return EXIT_USAGE; o.qe_svn = (uint16_t)n; break;
		case 'd': o.debug = true; break;
		case 'V':
			if (num_arg("--quote-version", optarg, 4, &n) || n < 3) {
				cli_errx("--quote-version: '%s' is not 3 or 4", optarg);
				return EXIT_USAGE;
			}
			o.version = (int)n;
			break;
		case 'b': bundle = true; break;
		case 't': at_s = optarg; break;
		case 'T':
			if (!strcmp(optarg, "NoMatch")) {
				o.pck_svn = 1;
			} else {
				enum ck_tcb_status st = ck_tcb_status_parse(optarg);
				if (st == CK_TCB_INVALID || st >= CK_TCB_TD_RELAUNCH_ADVISED) {
					cli_errx("--tcb-status: '%s' is not an SGX TCB status", optarg);
					return EXIT_USAGE;
				}
				o.pck_svn = (uint8_t)ck_sim_svn_for_status(st);
			}
			break;
		case 'h': fputs(quote_usage, stdout); return EXIT_OK;
		default: return usage_err(quote_usage);
		}
	}
	if (optind != argc || !pki_dir || !out)
		return usage_err(quote_usage);
	if (cli_time(at_s, &o.now) < 0)
		return EXIT_USAGE;

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

static const char coll_usage[] =
	"Usage: cloak sim collateral --pki DIR -o FILE [options]\n"
	"\n"
	"Issues sim collateral (QuoteCollateralV3 JSON): CRLs, TCB Info v3, QE Identity v2.\n"
	"\n"
	"  --at TIME            issue time (default now minus one hour)\n"
	"  --valid-days N       until nextUpdate (default 30)\n"
	"  --fmspc HEX          TCB Info for another FMSPC (6 bytes)\n"
	"  --revoke-pck-of Q    list the PCK certificate of quote Q in the PCK CRL\n"
	"  --revoke-pck-ca      list the PCK CA in the root CRL\n"
	"  -o FILE              output ('-' for stdout)\n";

static int sim_collateral(int argc, char **argv)
{
	static const struct option opts[] = {
		{"pki", required_argument, NULL, 'P'},	      {"at", required_argument, NULL, 't'},
		{"valid-days", required_argument, NULL, 'v'}, {"fmspc", required_argument, NULL, 'f'},
		{"revoke-pck-of", required_argument, NULL, 'r'},
		{"revoke-pck-ca", no_argument, NULL, 'R'},    {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *pki_dir = NULL, *out = NULL, *at_s = NULL, *revoke_q = NULL;
	unsigned long days = CK_SIM_VALIDITY_DAYS;
	struct ck_sim_collateral_opts o;
	int c;
	ck_sim_collateral_opts_default(&o, 0);
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'P': pki_dir = optarg; break;
		case 'o': out = optarg; break;
		case 't': at_s = optarg; break;
		case 'v': if (num_arg("--valid-days", optarg, 3650, &days)) return EXIT_USAGE; break;
		case 'f': if (hex_arg("--fmspc", optarg, o.fmspc, 6)) return EXIT_USAGE; o.has_fmspc = true; break;
		case 'r': revoke_q = optarg; break;
		case 'R': o.revoke_pck_ca = true; break;
		case 'h': fputs(coll_usage, stdout); return EXIT_OK;
		default: return usage_err(coll_usage);
		}
	}
	if (optind != argc || !pki_dir || !out)
		return usage_err(coll_usage);
	ck_time_t at;
	if (cli_time(at_s, &at) < 0)
		return EXIT_USAGE;
	o.issued = at_s ? at : at - 3600;
	o.next_update = o.issued + (ck_time_t)days * 86400;

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
