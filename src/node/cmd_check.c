/* SPDX-License-Identifier: Apache-2.0 */
/* cloakd check: an invocation and the data directory, validated without starting anything
 * (as relayd -n). */
#include <stdio.h>

#include "cloak/codec.h"
#include "cloak/nodedir.h"
#include "node.h"

static const struct ck_opt_spec spec = {
    .name = "cloakd check",
    .operands = "",
    .about = "Validates a cloakd invocation and its data directory without starting anything:\n"
	     "the directory (mode, store schema, the API's certificate and key), the addresses,\n"
	     "the operator's certificate and key, the source of collateral. Exit 0 when all\n"
	     "hold; 2 naming the first that does not.",
    .opts = node_opts};

int cmd_check(int argc, char **argv)
{
	struct node_opts o = NODE_OPTS_DEFAULT;
	struct ck_node_dir d;
	struct ck_err e;
	char fp[65];
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (node_check_opts(&o, NULL, &e) < 0 || node_open(&o, &d, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	ck_hex_encode(d.api_sha256, 32, fp);
	if (o.json)
		cli_print_json(json_pack("{s:b, s:s, s:s, s:s, s:b}", "ok", 1, "public",
					 o.public_addr, "api", o.api, "api_sha256", fp, "simulated",
					 o.sim));
	else
		printf("ok: public %s, api %s (sha256 %.16s...)%s\n", o.public_addr, o.api, fp,
		       o.sim ? ", simulation (NOT A REAL TEE)" : "");
	return EXIT_OK;
}
