/* SPDX-License-Identifier: Apache-2.0 */
/* cloak stop NAME: stop an app's runtime on its node (its secrets go with it). */
#include <stdio.h>

#include "cli.h"

struct stop_opts {
	struct node_conn conn;
	bool json;
};

#define SO struct stop_opts
static const struct ck_opt opts[] = {NODE_CONN_OPTS(SO), CK_OPT_JSON(SO, json), CK_OPT_END};
#undef SO

static const struct ck_opt_spec spec = {
    .name = "cloak stop",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Stops the app's runtime on the node (SIGTERM, then SIGKILL after 3 s); what it\n"
	     "held in memory, its secrets included, is gone. Its package stays: deploying or\n"
	     "provisioning it again starts it.",
    .opts = opts};

int cmd_stop(int argc, char **argv)
{
	struct stop_opts o = {0};
	struct ck_err e;
	char path[128];
	json_t *j;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if (!cli_app_name(argv[arg]))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/apps/%s/stop", argv[arg]);
	if (node_call(&o.conn, "POST", path, &j, &e) < 0) {
		cli_err(&e);
		return cli_node_exit(&e);
	}
	if (o.json)
		cli_print_json(j);
	else {
		printf("%s: %s\n", argv[arg], json_string_value(json_object_get(j, "state")));
		json_decref(j);
	}
	return EXIT_OK;
}
