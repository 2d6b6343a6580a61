/* SPDX-License-Identifier: Apache-2.0 */
/* cloak unpack: check a package completely, then extract it. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/manifest.h"
#include "cloak/package.h"

struct unpack_opts {
	const char *key, *out, *fingerprint, *manifest;
	bool json;
};

#define UO struct unpack_opts
static const struct ck_opt opts[] = {
    CK_OPT_NEED("key", 0, "FILE", UO, key, "the package key (mode 0600)"),
    CK_OPT_ARG("out", 'o', "DIR", UO, out,
	       "where to write the tree (must not exist); else only check"),
    CK_OPT_ARG("fingerprint", 0, "HEX", UO, fingerprint, "the fingerprint the tree must have"),
    CK_OPT_ARG("manifest", 0, "FILE", UO, manifest, "...or the fingerprint a manifest names"),
    CK_OPT_JSON(UO, json),
    CK_OPT_END};
#undef UO

static const struct ck_opt_spec spec = {
    .name = "cloak unpack",
    .operands = "PACKAGE",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Authenticates every chunk and checks the whole tree (paths, links, limits) and\n"
	     "its fingerprint before writing anything; then writes DIR (which must not exist),\n"
	     "hashing what it writes, and keeps it only if it is the tree it checked. Without\n"
	     "-o, only checks. On any failure, or SIGINT/SIGTERM/SIGHUP/SIGQUIT, nothing is left\n"
	     "behind.",
    .opts = opts};

/* A signal while writing: the library stops between two chunks and removes what it wrote;
 * then the signal takes its usual course. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void catch_signals(void)
{
	static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue; /* ignored by whoever started us (a background job): it stays so
				   */
		sigaction(sigs[i], &sa, NULL);
	}
}

/* The fingerprint to expect: --fingerprint, or the manifest's; NULL for none. */
static int expected(const struct unpack_opts *o, uint8_t out[32], const uint8_t **ep)
{
	struct ck_err e;
	*ep = NULL;
	if (o->fingerprint && o->manifest) {
		cli_errx("--fingerprint and --manifest: give one");
		return -1;
	}
	if (o->fingerprint) {
		if (ck_hex_decode_exact(o->fingerprint, strlen(o->fingerprint), out, 32,
					"--fingerprint", &e) < 0) {
			cli_err(&e);
			return -1;
		}
		*ep = out;
	}
	if (o->manifest) {
		uint8_t *b, h[32];
		size_t n;
		struct ck_manifest m;
		if (cli_read(o->manifest, CK_MANIFEST_MAX_LEN, &b, &n, &e) < 0 ||
		    ck_manifest_parse((char *)b, n, &m, h, &e) < 0) {
			if (!ck_err_is(&e, CK_E_IO))
				ck_err_wrap(&e, "%s", o->manifest);
			cli_err(&e);
			return -1;
		}
		free(b);
		memcpy(out, m.fingerprint, 32);
		*ep = out;
		ck_manifest_free(&m);
	}
	return 0;
}

static void report(const struct unpack_opts *o, const struct ck_unpack_result *res, bool checked)
{
	char fp[65];
	ck_hex_encode(res->fingerprint, 32, fp);
	if (o->json) {
		json_t *j = json_pack("{s:s, s:I, s:b}", "fingerprint", fp, "entries",
				      (json_int_t)res->entries, "fingerprint_checked", checked);
		json_object_set_new(j, "out", o->out ? json_string(o->out) : json_null());
		cli_print_json(j);
		return;
	}
	printf("fingerprint     %s%s\n", fp, checked ? " (as expected)" : " (not checked)");
	printf("%s%s (%zu entries)\n", o->out ? "unpacked into   " : "package is valid",
	       o->out ? o->out : "", res->entries);
}

int cmd_unpack(int argc, char **argv)
{
	struct unpack_opts o = {0};
	struct ck_err e;
	uint8_t key[CK_PKG_KEY_LEN], expect[32];
	const uint8_t *ep;
	int ret = EXIT_USAGE, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if (expected(&o, expect, &ep) < 0)
		return EXIT_USAGE;
	if (ck_pkg_key_read(o.key, key, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	struct ck_unpack_result res;
	catch_signals();
	int r = ck_unpack(argv[arg], key, ep, o.out, &interrupted, &res, &e);
	OPENSSL_cleanse(key, sizeof(key));
	if (interrupted) {
		if (r < 0)
			cli_err(&e);
		signal(interrupted, SIG_DFL);
		raise(interrupted);
	}
	if (r < 0) {
		cli_err(&e);
		return ck_err_is(&e, CK_E_IO) || ck_err_is(&e, CK_E_USAGE) ? EXIT_USAGE
									   : EXIT_REJECTED;
	}
	report(&o, &res, ep != NULL);
	return EXIT_OK;
}
