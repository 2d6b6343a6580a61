/* SPDX-License-Identifier: Apache-2.0 */
/* cloak status NAME: where one app stands on its node, and what to do about it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct status_opts {
	struct node_conn conn;
	bool json;
};

#define SO struct status_opts
static const struct ck_opt opts[] = {NODE_CONN_OPTS(SO), CK_OPT_JSON(SO, json), CK_OPT_END};
#undef SO

static const struct ck_opt_spec spec = {
    .name = "cloak status",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Shows an app's state on the node (starting, awaiting-provisioning, running, failed,\n"
	     "stopped), why, and its restarts. An app that awaits provisioning again (its\n"
	     "runtime restarted, its secrets gone with it) is said so.",
    .opts = opts};

int cmd_status(int argc, char **argv)
{
	struct status_opts o = {0};
	struct ck_err e;
	char path[128];
	json_t *j;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if (!cli_app_name(argv[arg]))
		return EXIT_USAGE;
	snprintf(path, sizeof(path), "/v1/apps/%s", argv[arg]);
	if (node_call(&o.conn, "GET", path, &j, &e) < 0) {
		cli_err(&e);
		return cli_node_exit(&e);
	}
	if (o.json) {
		cli_print_json(j);
		return EXIT_OK;
	}
	const char *st = json_string_value(json_object_get(j, "state")),
		   *why = json_string_value(json_object_get(j, "reason"));
	long long restarts = (long long)json_integer_value(json_object_get(j, "restarts"));
	printf("%s: %s%s%s\n", argv[arg], st, why ? " — " : "", why ? why : "");
	printf("  url       %s\n  mode      %s\n  restarts  %lld\n  package   %s\n",
	       json_string_value(json_object_get(j, "url")),
	       json_string_value(json_object_get(j, "mode")), restarts,
	       json_string_value(json_object_get(j, "package_sha256")));
	if (json_is_true(json_object_get(j, "simulated")))
		printf("  SIMULATED: NOT A REAL TEE\n");
	if (st && !strcmp(st, "awaiting-provisioning") && restarts > 0)
		printf(
		    "  its runtime restarted and its secrets went with it: it awaits provisioning "
		    "again (cloak provision)\n");
	json_decref(j);
	return EXIT_OK;
}
