/* SPDX-License-Identifier: Apache-2.0 */
/* cloak rm NAME -y: remove an app from its node. */
#include <stdio.h>

#include "cli.h"

#define NO struct node_cmd_opts
static const struct ck_opt opts[] = {NODE_CONN_OPTS(NO),
				     CK_OPT_FLAG("yes", 'y', NO, yes, "yes, remove it"),
				     CK_OPT_JSON(NO, json), CK_OPT_END};
#undef NO

static const struct ck_opt_spec spec = {
    .name = "cloak rm",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Removes the app from the node: its runtime stopped, its package, manifest and\n"
	     "log deleted there. Asks for -y: nothing of it can be had back from the node.",
    .opts = opts};

int cmd_rm(int argc, char **argv)
{
	struct node_cmd_opts o = {0};
	json_t *j;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if (!o.yes) {
		cli_errx("removing '%s' deletes its package, manifest and log on the node: add -y",
			 argv[arg]);
		return EXIT_USAGE;
	}
	if ((ret = node_app_call(&o.conn, "DELETE", argv[arg], "", &j)) != EXIT_OK)
		return ret;
	if (o.json)
		cli_print_json(j);
	else {
		printf("%s: removed\n", argv[arg]);
		json_decref(j);
	}
	return EXIT_OK;
}
