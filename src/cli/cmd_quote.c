/* SPDX-License-Identifier: Apache-2.0 */
/* cloak quote verify: appraise a quote or evidence bundle, offline, at a given time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cloak/bundle.h"

struct verify_opts {
	const char *collateral, *at, *policy;
	bool sim, json;
};

static const struct ck_opt verify_opts[] = {
    CK_OPT_ARG("collateral", 0, "FILE", struct verify_opts, collateral,
	       "collateral in QuoteCollateralV3 JSON (see 'cloak collateral')"),
    CK_OPT_ARG("at", 0, "TIME", struct verify_opts, at,
	       "verification time, e.g. 2025-06-20T00:00:00Z (default: now)"),
    CK_OPT_ARG("policy", 0, "FILE", struct verify_opts, policy,
	       "JSON policy (default: UpToDate only, no debug, any measurement)"),
    CK_OPT_FLAG("allow-simulation", 0, struct verify_opts, sim,
		"accept evidence from cloak's simulation PKI (labelled SIMULATED)"),
    CK_OPT_JSON(struct verify_opts, json),
    CK_OPT_END};

static const struct ck_opt_spec verify_spec = {
    .name = "cloak quote verify",
    .operands = "QUOTE",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Appraises an SGX DCAP quote the way Intel's verifier does, offline: PCK chain to\n"
	     "the pinned Intel SGX Root CA, CRLs, TCB Info and QE Identity signatures, QE\n"
	     "report, quote signature, TCB level; then applies the policy. QUOTE is a raw quote,\n"
	     "or an evidence bundle (which may carry its collateral).\n"
	     "\n"
	     "Exit status: 0 accepted, 1 invalid or rejected by the policy, 2 usage or unreadable\n"
	     "input.",
    .opts = verify_opts};

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

/* An appraisal that could not even start (the evidence did not parse), as its verdict. */
static int report_unreadable(const struct ck_err *err, const struct ck_policy *pol, ck_time_t at)
{
	struct ck_appraisal a;
	struct verdict v;
	memset(&a, 0, sizeof(a));
	a.error = *err;
	verdict_decide(&v, &a, -1, pol, at);
	cli_print_json(verdict_json(&v));
	return EXIT_REJECTED;
}

static int appraise_and_report(const struct evidence *ev, const struct ck_collateral *use,
			       const struct ck_policy *pol, ck_time_t at, bool json)
{
	struct ck_appraisal a;
	struct verdict v;
	struct ck_appraise_opts o = {.at = at,
				     .allow_simulation = pol->allow_simulation,
				     .allow_expired_collateral = pol->allow_expired_collateral};
	int r = ck_appraise_raw(ev->quote, ev->quote_len, use, &o, &a);
	verdict_decide(&v, &a, r, pol, at);
	if (json)
		cli_print_json(verdict_json(&v));
	else
		verdict_print(&v);
	return v.accepted ? EXIT_OK : EXIT_REJECTED;
}

static int quote_verify(int argc, char **argv)
{
	struct verify_opts o = {0};
	int ret = EXIT_USAGE, code, arg = ck_opts_parse(&verify_spec, argc, argv, &o, &ret);
	ck_time_t at;
	struct ck_policy pol;
	struct ck_err err = {0};
	struct evidence ev;
	struct ck_collateral coll = {0};
	if (arg < 0)
		return ret;
	if (cli_time(o.at, &at) < 0 || cli_policy(o.policy, o.sim, &pol) < 0)
		return EXIT_USAGE;
	if (load_evidence(argv[arg], &ev, &err, &code) < 0) {
		if (code == EXIT_USAGE || !o.json)
			cli_err(&err);
		ret = code == EXIT_USAGE || !o.json ? code : report_unreadable(&err, &pol, at);
		goto out;
	}
	const struct ck_collateral *use =
	    ev.is_bundle && ev.bundle.has_collateral ? &ev.bundle.collateral : NULL;
	if (o.collateral) {
		if (cli_collateral(o.collateral, &coll) < 0)
			goto out;
		use = &coll;
	}
	if (!use)
		cli_errx("no collateral: '%s' carries none; pass --collateral FILE", argv[arg]);
	else
		ret = appraise_and_report(&ev, use, &pol, at, o.json);
out:
	ck_collateral_free(&coll);
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
