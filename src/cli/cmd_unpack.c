/* SPDX-License-Identifier: Apache-2.0 */
/* cloak unpack: check a package completely, then extract it. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/manifest.h"
#include "cloak/package.h"

static const char usage[] =
    "Usage: cloak unpack PACKAGE --key FILE [-o DIR] [--fingerprint HEX | --manifest FILE]\n"
    "                    [--json]\n"
    "\n"
    "Authenticates every chunk and checks the whole tree (paths, links, limits) and its\n"
    "fingerprint before writing anything; then writes DIR (which must not exist), hashing\n"
    "what it writes, and keeps it only if it is the tree it checked. Without -o, only\n"
    "checks. On any failure, or SIGINT/SIGTERM/SIGHUP/SIGQUIT, nothing is left behind.\n";

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

int cmd_unpack(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"key", required_argument, NULL, 'k'},
	    {"fingerprint", required_argument, NULL, 'f'},
	    {"manifest", required_argument, NULL, 'm'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *key_path = NULL, *out = NULL, *fp_hex = NULL, *man = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			key_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'f':
			fp_hex = optarg;
			break;
		case 'm':
			man = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1 || !key_path || (fp_hex && man)) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	struct ck_err e;
	uint8_t key[CK_PKG_KEY_LEN], expect[32], *ep = NULL;
	if (fp_hex) {
		if (ck_hex_decode_exact(fp_hex, strlen(fp_hex), expect, 32, "--fingerprint", &e) <
		    0) {
			cli_err(&e);
			return EXIT_USAGE;
		}
		ep = expect;
	}
	if (man) {
		uint8_t *b, h[32];
		size_t n;
		struct ck_manifest m;
		if (cli_read(man, CK_MANIFEST_MAX_LEN, &b, &n, &e) < 0 ||
		    ck_manifest_parse((char *)b, n, &m, h, &e) < 0) {
			if (!ck_err_is(&e, CK_E_IO))
				ck_err_wrap(&e, "%s", man);
			cli_err(&e);
			return EXIT_USAGE;
		}
		free(b);
		memcpy(expect, m.fingerprint, 32);
		ep = expect;
		ck_manifest_free(&m);
	}
	if (ck_pkg_key_read(key_path, key, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	struct ck_unpack_result res;
	catch_signals();
	int r = ck_unpack(argv[optind], key, ep, out, &interrupted, &res, &e);
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
	char fp[65];
	ck_hex_encode(res.fingerprint, 32, fp);
	if (json) {
		json_t *o = json_pack("{s:s, s:I, s:b}", "fingerprint", fp, "entries",
				      (json_int_t)res.entries, "fingerprint_checked", ep != NULL);
		json_object_set_new(o, "out", out ? json_string(out) : json_null());
		cli_print_json(o);
	} else {
		printf("fingerprint     %s%s\n", fp, ep ? " (as expected)" : " (not checked)");
		printf("%s%s (%zu entries)\n", out ? "unpacked into   " : "package is valid",
		       out ? out : "", res.entries);
	}
	return EXIT_OK;
}
