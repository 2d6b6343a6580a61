/* SPDX-License-Identifier: Apache-2.0 */
/* cloak list: the owner's apps on a node. */
#include <stdio.h>

#include "cli.h"

static const struct ck_opt_spec spec = {
    .name = "cloak list",
    .operands = "",
    .about = "Lists your apps on the node: name, state, scenario, URL, restarts.",
    .opts = node_cmd_opts};

int cmd_list(int argc, char **argv)
{
	struct node_cmd_opts o = {0};
	struct ck_err e;
	json_t *j, *a;
	size_t i;
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (node_call(&o.conn, "GET", "/v1/apps", &j, &e) < 0) {
		cli_err(&e);
		return cli_node_exit(&e);
	}
	if (o.json) {
		cli_print_json(json_incref(json_object_get(j, "apps")));
		json_decref(j);
		return EXIT_OK;
	}
	printf("%-24s %-22s %-12s %-8s %s\n", "NAME", "STATE", "MODE", "RESTARTS", "URL");
	json_array_foreach(json_object_get(j, "apps"), i, a)
	    printf("%-24s %-22s %-12s %-8lld %s\n", json_string_value(json_object_get(a, "name")),
		   json_string_value(json_object_get(a, "state")),
		   json_string_value(json_object_get(a, "mode")),
		   (long long)json_integer_value(json_object_get(a, "restarts")),
		   json_string_value(json_object_get(a, "url")));
	json_decref(j);
	return EXIT_OK;
}
