/* SPDX-License-Identifier: Apache-2.0 */
/* cloakd token create|list|revoke: the owners' bearer tokens (stored hashed: store.h). */
#include <stdio.h>
#include <stdlib.h>

#include <openssl/crypto.h>

#include "cloak/nodedir.h"
#include "cloak/store.h"
#include "node.h"

struct token_opts {
	const char *data;
	bool admin, json;
};

#define TO struct token_opts
static const struct ck_opt create_opts[] = {
    CK_OPT_NEED("data", 0, "DIR", TO, data, "the node's data directory"),
    CK_OPT_FLAG("admin", 0, TO, admin, "an operator's token (sees every app)"), CK_OPT_END};
static const struct ck_opt plain_opts[] = {
    CK_OPT_NEED("data", 0, "DIR", TO, data, "the node's data directory"), CK_OPT_JSON(TO, json),
    CK_OPT_END};
#undef TO

static const struct ck_opt_spec create_spec = {
    .name = "cloakd token create",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Creates a token for owner NAME (1-63 of a-z, 0-9, '-') and prints it, alone: it\n"
	     "is shown this once (the node keeps only its SHA-256).",
    .opts = create_opts};
static const struct ck_opt_spec list_spec = {
    .name = "cloakd token list",
    .operands = "",
    .about = "Lists the owners' tokens: name, whether admin, when created, whether and when\n"
	     "revoked; never a token.",
    .opts = plain_opts};
static const struct ck_opt_spec revoke_spec = {
    .name = "cloakd token revoke",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Revokes owner NAME's token: refused from now on, still listed.",
    .opts = plain_opts};

/* The store of the node at `data`. */
static struct ck_store *open_store(const char *data)
{
	struct ck_node_dir d;
	struct ck_store *s;
	struct ck_err e;
	char p[PATH_MAX];
	if (ck_node_dir_open(data, &d, &e) < 0 || ck_node_path(&d, CK_NODE_DB, p, &e) < 0 ||
	    ck_store_open(p, &s, &e) < 0) {
		cli_err(&e);
		return NULL;
	}
	return s;
}

static int token_create(int argc, char **argv)
{
	struct token_opts o = {0};
	char tok[CK_TOKEN_STR_LEN + 1];
	struct ck_err e;
	int ret, arg = ck_opts_parse(&create_spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	struct ck_store *s = open_store(o.data);
	if (!s)
		return EXIT_USAGE;
	ret = ck_store_token_create(s, argv[arg], o.admin, ck_time_now(), tok, &e);
	ck_store_close(s);
	if (ret < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	printf("%s\n", tok);
	OPENSSL_cleanse(tok, sizeof(tok));
	return EXIT_OK;
}

static int token_list(int argc, char **argv)
{
	struct token_opts o = {0};
	struct ck_token_info *l;
	struct ck_err e;
	size_t n;
	char t[CK_TIME_STR_MAX];
	int ret;
	if (ck_opts_parse(&list_spec, argc, argv, &o, &ret) < 0)
		return ret;
	struct ck_store *s = open_store(o.data);
	if (!s)
		return EXIT_USAGE;
	ret = ck_store_token_list(s, &l, &n, &e);
	ck_store_close(s);
	if (ret < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	json_t *arr = o.json ? json_array() : NULL;
	for (size_t i = 0; i < n; i++) {
		if (arr) {
			json_array_append_new(
			    arr,
			    json_pack("{s:s, s:b, s:o, s:b, s:o}", "name", l[i].name, "admin",
				      l[i].admin, "created", cli_time_json(l[i].created), "revoked",
				      l[i].revoked, "revoked_at",
				      l[i].revoked ? cli_time_json(l[i].revoked_at) : json_null()));
			continue;
		}
		printf("%-24s %-6s created %s", l[i].name, l[i].admin ? "admin" : "owner",
		       ck_time_format(l[i].created, t));
		if (l[i].revoked)
			printf("  REVOKED %s", ck_time_format(l[i].revoked_at, t));
		printf("\n");
	}
	if (arr)
		cli_print_json(arr);
	free(l);
	return EXIT_OK;
}

static int token_revoke(int argc, char **argv)
{
	struct token_opts o = {0};
	struct ck_err e;
	int ret, arg = ck_opts_parse(&revoke_spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	struct ck_store *s = open_store(o.data);
	if (!s)
		return EXIT_USAGE;
	ret = ck_store_token_revoke(s, argv[arg], ck_time_now(), &e);
	ck_store_close(s);
	if (ret < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	if (o.json)
		cli_print_json(json_pack("{s:s, s:b}", "name", argv[arg], "revoked", 1));
	else
		printf("revoked the token of '%s'\n", argv[arg]);
	return EXIT_OK;
}

static const struct subcommand token_cmds[] = {
    {"create", token_create, "A new token for an owner (printed once)"},
    {"list", token_list, "Every token's owner and state"},
    {"revoke", token_revoke, "Refuse an owner's token from now on"},
    {NULL, NULL, NULL},
};

int cmd_token(int argc, char **argv)
{
	return cli_dispatch("cloakd token", token_cmds, argc - 1, argv + 1);
}
