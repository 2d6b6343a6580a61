/* SPDX-License-Identifier: Apache-2.0 */
/* cloakd init: the node's data directory, made whole or not at all. */
#include <stdio.h>

#include "cloak/codec.h"
#include "cloak/nodedir.h"
#include "node.h"

struct init_opts {
	const char *data, *domain;
	bool sim, json;
};

#define IO struct init_opts
static const struct ck_opt opts[] = {
    CK_OPT_NEED("data", 0, "DIR", IO, data, "the data directory to create (must not exist)"),
    CK_OPT_FLAG("sim", 0, IO, sim, "also a simulation PKI, for a node without TEE hardware"),
    CK_OPT_ARG("domain", 0, "NAME", IO, domain, "the node's domain (in the API's certificate)"),
    CK_OPT_JSON(IO, json), CK_OPT_END};
#undef IO

static const struct ck_opt_spec spec = {
    .name = "cloakd init",
    .operands = "",
    .about = "Creates the node's data directory (mode 0700): the store, the owner API's TLS\n"
	     "certificate (whose SHA-256 owners pin: printed here and by cloakd fingerprint), the\n"
	     "admin token (written once to DIR/admin.token, mode 0600) and, with --sim, a\n"
	     "simulation PKI (NOT A REAL TEE). Nothing is left behind on failure.",
    .opts = opts};

int cmd_init(int argc, char **argv)
{
	struct init_opts o = {0};
	struct ck_node_dir d;
	struct ck_err e;
	char fp[65];
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (ck_node_dir_init(o.data, o.sim, o.domain, ck_time_now(), &e) < 0 ||
	    ck_node_dir_open(o.data, &d, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	ck_hex_encode(d.api_sha256, 32, fp);
	if (o.json) {
		cli_print_json(json_pack("{s:s, s:s, s:s, s:b}", "data", o.data, "api_sha256", fp,
					 "admin_token_file", CK_NODE_ADMIN_TOKEN, "simulated",
					 o.sim));
		return EXIT_OK;
	}
	printf("node data     %s%s\n", o.data, o.sim ? " (simulation: NOT A REAL TEE)" : "");
	printf("api sha256    %s (owners pin it: cloak deploy --node-fingerprint)\n", fp);
	printf("admin token   %s/%s (mode 0600: read it, keep it, remove the file)\n", o.data,
	       CK_NODE_ADMIN_TOKEN);
	return EXIT_OK;
}
