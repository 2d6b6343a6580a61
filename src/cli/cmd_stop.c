/* SPDX-License-Identifier: Apache-2.0 */
/* cloak stop NAME: stop an app's runtime on its node (its secrets go with it). */
#include <stdio.h>

#include "cli.h"

static const struct ck_opt_spec spec = {
    .name = "cloak stop",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Stops the app's runtime on the node (SIGTERM, then SIGKILL after 3 s); what it\n"
	     "held in memory, its secrets included, is gone. Its package stays: deploying or\n"
	     "provisioning it again starts it.",
    .opts = node_cmd_opts};

int cmd_stop(int argc, char **argv)
{
	struct node_cmd_opts o = {0};
	json_t *j;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if ((ret = node_app_call(&o.conn, "POST", argv[arg], "/stop", &j)) != EXIT_OK)
		return ret;
	if (o.json) {
		cli_print_json(j);
		return EXIT_OK;
	}
	printf("%s: %s\n", argv[arg], json_string_value(json_object_get(j, "state")));
	json_decref(j);
	return EXIT_OK;
}
