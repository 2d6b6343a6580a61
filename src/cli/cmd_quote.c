/* SPDX-License-Identifier: Apache-2.0 */
/* cloak quote verify: appraise a quote or evidence bundle, offline, at a given time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/bundle.h"

static const char verify_usage[] =
	"Usage: cloak quote verify QUOTE [--collateral FILE] [--at RFC3339] [--policy FILE]\n"
	"                          [--allow-simulation] [--json]\n"
	"\n"
	"Appraises an SGX DCAP quote the way Intel's verifier does, offline: PCK chain to the\n"
	"pinned Intel SGX Root CA, CRLs, TCB Info and QE Identity signatures, QE report, quote\n"
	"signature, TCB level; then applies the policy.\n"
	"\n"
	"  QUOTE               a raw quote, or an evidence bundle (which may carry its collateral)\n"
	"  --collateral FILE   collateral in QuoteCollateralV3 JSON (see 'cloak collateral')\n"
	"  --at TIME           verification time, e.g. 2025-06-20T00:00:00Z (default: now)\n"
	"  --policy FILE       JSON policy (default: UpToDate only, no debug, any measurement)\n"
	"  --allow-simulation  accept evidence from cloak's simulation PKI (labelled SIMULATED)\n"
	"  --json              print one JSON object\n"
	"\n"
	"Exit status: 0 accepted, 1 invalid or rejected by the policy, 2 usage or unreadable input.\n";

struct evidence {
	uint8_t *file;
	size_t file_len;
	struct ck_bundle bundle;
	bool is_bundle;
	const uint8_t *quote;
	size_t quote_len;
};

/* Loads QUOTE: a bundle or raw bytes. Bundle format errors are evidence errors (exit 1). */
static int load_evidence(const char *path, struct evidence *ev, struct ck_err *err, int *code)
{
	memset(ev, 0, sizeof(*ev));
	*code = EXIT_USAGE;
	if (cli_read(path, CK_BUNDLE_MAX_LEN, &ev->file, &ev->file_len, err) < 0)
		return -1;
	*code = EXIT_REJECTED;
	if (ck_bundle_sniff(ev->file, ev->file_len)) {
		if (ck_bundle_parse((char *)ev->file, ev->file_len, &ev->bundle, err) < 0)
			return -1;
		ev->is_bundle = true;
		ev->quote = ev->bundle.quote;
		ev->quote_len = ev->bundle.quote_len;
	} else {
		ev->quote = ev->file;
		ev->quote_len = ev->file_len;
	}
	return 0;
}

static void free_evidence(struct evidence *ev)
{
	free(ev->file);
	ck_bundle_free(&ev->bundle);
}

static int quote_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{"collateral", required_argument, NULL, 'c'},
		{"at", required_argument, NULL, 't'},
		{"policy", required_argument, NULL, 'p'},
		{"allow-simulation", no_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *coll_path = NULL, *at_s = NULL, *pol_path = NULL;
	bool sim = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': coll_path = optarg; break;
		case 't': at_s = optarg; break;
		case 'p': pol_path = optarg; break;
		case 's': sim = true; break;
		case 'j': json = true; break;
		case 'h': fputs(verify_usage, stdout); return EXIT_OK;
		default: fputs(verify_usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(verify_usage, stderr);
		return EXIT_USAGE;
	}

	int ret = EXIT_USAGE, code;
	ck_time_t at;
	struct ck_policy pol;
	struct ck_err err = {0};
	struct evidence ev;
	struct ck_collateral coll = {0};
	uint8_t *cbuf = NULL;
	size_t clen;
	struct ck_appraisal a;
	struct verdict v;

	if (cli_time(at_s, &at) < 0)
		return EXIT_USAGE;
	if (cli_policy(pol_path, sim, &pol) < 0)
		return EXIT_USAGE;
	if (load_evidence(argv[optind], &ev, &err, &code) < 0) {
		if (code == EXIT_USAGE || !json) {
			cli_err(&err);
			ret = code;
			goto out;
		}
		memset(&a, 0, sizeof(a));
		a.error = err;
		verdict_decide(&v, &a, -1, &pol, at);
		cli_print_json(verdict_json(&v));
		ret = EXIT_REJECTED;
		goto out;
	}
	const struct ck_collateral *use = NULL;
	if (coll_path) {
		if (cli_read(coll_path, CK_COLLATERAL_MAX_LEN, &cbuf, &clen, &err) < 0 ||
		    ck_collateral_parse((char *)cbuf, clen, &coll, &err) < 0) {
			if (!ck_err_is(&err, CK_E_IO))
				ck_err_wrap(&err, "%s", coll_path);
			cli_err(&err);
			goto out_ev;
		}
		use = &coll;
	} else if (ev.is_bundle && ev.bundle.has_collateral) {
		use = &ev.bundle.collateral;
	} else {
		cli_errx("no collateral: '%s' carries none; pass --collateral FILE", argv[optind]);
		goto out_ev;
	}

	struct ck_appraise_opts o = {
		.at = at,
		.allow_simulation = pol.allow_simulation,
		.allow_expired_collateral = pol.allow_expired_collateral,
	};
	int r = ck_appraise_raw(ev.quote, ev.quote_len, use, &o, &a);
	verdict_decide(&v, &a, r, &pol, at);
	if (json)
		cli_print_json(verdict_json(&v));
	else
		verdict_print(&v);
	ret = v.accepted ? EXIT_OK : EXIT_REJECTED;
out_ev:
	free(cbuf);
	ck_collateral_free(&coll);
out:
	free_evidence(&ev);
	ck_policy_free(&pol);
	return ret;
}

static const struct subcommand quote_cmds[] = {
	{"verify", quote_verify, "Appraise a quote or evidence bundle (DCAP, offline)"},
	{NULL, NULL, NULL},
};

int cmd_quote(int argc, char **argv)
{
	return cli_dispatch("cloak quote", quote_cmds, argc - 1, argv + 1);
}
