/* SPDX-License-Identifier: Apache-2.0 */
/* cloakd fingerprint: the SHA-256 of the owner API's certificate, for owners to pin. */
#include <stdio.h>

#include "cloak/codec.h"
#include "cloak/nodedir.h"
#include "node.h"

struct fp_opts {
	const char *data;
	bool json;
};

static const struct ck_opt opts[] = {
    CK_OPT_NEED("data", 0, "DIR", struct fp_opts, data, "the node's data directory"),
    CK_OPT_JSON(struct fp_opts, json), CK_OPT_END};

static const struct ck_opt_spec spec = {
    .name = "cloakd fingerprint",
    .operands = "",
    .about = "Prints the SHA-256 of the owner API's TLS certificate (its DER), which owners pin\n"
	     "when they first deploy to this node.",
    .opts = opts};

int cmd_fingerprint(int argc, char **argv)
{
	struct fp_opts o = {0};
	struct ck_node_dir d;
	struct ck_err e;
	char fp[65];
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (ck_node_dir_open(o.data, &d, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	ck_hex_encode(d.api_sha256, 32, fp);
	if (o.json)
		cli_print_json(json_pack("{s:s}", "api_sha256", fp));
	else
		printf("%s\n", fp);
	return EXIT_OK;
}
