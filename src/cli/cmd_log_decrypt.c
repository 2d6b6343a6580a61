/* SPDX-License-Identifier: Apache-2.0 */
/* cloak log-decrypt: an app's log as the node keeps it -> the app's output, for its owner. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cloak/applog.h"

struct logdec_opts {
	const char *key;
	bool runtime, json;
};

#define LO struct logdec_opts
static const struct ck_opt opts[] = {
    CK_OPT_NEED("log-key", 0, "FILE", LO, key, "the app's log key (cloak package wrote it)"),
    CK_OPT_FLAG("runtime", 0, LO, runtime, "also print the runtime's own lines (in clear)"),
    CK_OPT_END};
#undef LO

static const struct ck_opt_spec spec = {
    .name = "cloak log-decrypt",
    .operands = "[LOG|-]",
    .min_operands = 0,
    .max_operands = 1,
    .about = "Opens an app's log as the node streams it (GET /v1/apps/NAME/logs, or the\n"
	     "runtime.log the node keeps): prints the app's output, sealed to the log key in the\n"
	     "enclave, on standard output, and on standard error where records are missing\n"
	     "(dropped, or cut by the node's size cap). Exit 1 if a record was reordered,\n"
	     "replayed or does not open (tampered, or another key's); every other is still shown.",
    .opts = opts};

int cli_log_decrypt(FILE *in, struct ck_log_reader *r, bool runtime_lines)
{
	char *line = NULL;
	size_t cap = 0, bad = 0, lineno = 0;
	ssize_t n;
	uint8_t out[CK_LOG_CHUNK_MAX];
	while ((n = getline(&line, &cap, in)) > 0) {
		size_t len, k = (size_t)n;
		uint64_t missing;
		enum ck_log_kind kind;
		struct ck_err e;
		lineno++;
		if (line[k - 1] == '\n')
			k--;
		if (ck_log_open(r, line, k, out, &len, &missing, &kind, &e) < 0) {
			fprintf(stderr, "cloak: line %zu: %s\n", lineno, e.msg);
			bad++;
			continue;
		}
		if (missing)
			fprintf(stderr,
				"cloak: line %zu: %llu record%s of the app's output missing\n",
				lineno, (unsigned long long)missing, missing == 1 ? "" : "s");
		if (kind == CK_LOG_RECORD)
			fwrite(out, 1, len, stdout);
		else if (kind == CK_LOG_EPOCH)
			fprintf(stderr, "cloak: line %zu: the runtime started (a new epoch)\n",
				lineno);
		else if (runtime_lines)
			fwrite(line, 1, (size_t)n, stdout);
	}
	OPENSSL_cleanse(out, sizeof(out));
	free(line);
	fflush(stdout);
	return bad ? EXIT_REJECTED : EXIT_OK;
}

int cmd_log_decrypt(int argc, char **argv)
{
	struct logdec_opts o = {0};
	struct ck_log_reader r;
	struct ck_err e;
	uint8_t priv[CK_LOG_KEY_LEN], pub[CK_LOG_KEY_LEN];
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	const char *path = arg < argc ? argv[arg] : "-";
	FILE *in = strcmp(path, "-") ? fopen(path, "r") : stdin;
	if (!in) {
		cli_errx("cannot open '%s'", path);
		return EXIT_USAGE;
	}
	if (ck_log_key_load(o.key, priv, pub, &e) < 0) {
		cli_err(&e);
		if (in != stdin)
			fclose(in);
		return EXIT_USAGE;
	}
	ck_log_reader_init(&r, priv, pub);
	OPENSSL_cleanse(priv, sizeof(priv));
	ret = cli_log_decrypt(in, &r, o.runtime);
	ck_log_reader_wipe(&r);
	if (in != stdin)
		fclose(in);
	return ret;
}
