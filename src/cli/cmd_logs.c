/* SPDX-License-Identifier: Apache-2.0 */
/* cloak logs NAME --log-key F: an app's output, fetched from its node and opened. */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cloak/applog.h"

struct logs_opts {
	struct node_conn conn;
	const char *key;
	bool runtime, raw;
};

#define LO struct logs_opts
static const struct ck_opt opts[] = {
    NODE_CONN_OPTS(LO),
    CK_OPT_NEED("log-key", 0, "FILE", LO, key, "the app's log key (cloak package wrote it)"),
    CK_OPT_FLAG("runtime", 0, LO, runtime, "also print the runtime's own lines (in clear)"),
    CK_OPT_FLAG("raw", 0, LO, raw, "print the log as the node keeps it, sealed"), CK_OPT_END};
#undef LO

static const struct ck_opt_spec spec = {
    .name = "cloak logs",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Fetches the app's log from its node and opens it with the log key: the app's\n"
	     "output on standard output; on standard error where records are missing (dropped,\n"
	     "or cut by the node's size cap) and where a runtime started. Exit 1 if a record was\n"
	     "reordered, replayed or tampered with (the rest is still shown).",
    .opts = opts};

int cmd_logs(int argc, char **argv)
{
	struct logs_opts o = {0};
	struct ck_log_reader r;
	struct ck_err e;
	uint8_t priv[CK_LOG_KEY_LEN], pub[CK_LOG_KEY_LEN];
	char path[128], *text;
	size_t len;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if (!cli_app_name(argv[arg]))
		return EXIT_USAGE;
	if (ck_log_key_load(o.key, priv, pub, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	snprintf(path, sizeof(path), "/v1/apps/%s/logs", argv[arg]);
	if (node_call_text(&o.conn, "GET", path, &text, &len, &e) < 0) {
		OPENSSL_cleanse(priv, sizeof(priv));
		cli_err(&e);
		return cli_node_exit(&e);
	}
	FILE *in = fmemopen(text, len ? len : 1, "r");
	if (o.raw) {
		fwrite(text, 1, len, stdout);
		ret = EXIT_OK;
	} else if (in) {
		ck_log_reader_init(&r, priv, pub);
		ret = cli_log_decrypt(in, &r, o.runtime);
		ck_log_reader_wipe(&r);
	} else {
		cli_errx("out of memory");
		ret = EXIT_REJECTED;
	}
	if (in)
		fclose(in);
	OPENSSL_cleanse(priv, sizeof(priv));
	free(text);
	return ret;
}
