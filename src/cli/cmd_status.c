/* SPDX-License-Identifier: Apache-2.0 */
/* cloak status NAME: where one app stands on its node, and what to do about it. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct ck_opt_spec spec = {
    .name = "cloak status",
    .operands = "NAME",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Shows an app's state on the node (starting, awaiting-provisioning, running, failed,\n"
	     "stopped), why, and its restarts. An app that awaits provisioning again (its\n"
	     "runtime restarted, its secrets gone with it) is said so.",
    .opts = node_cmd_opts};

int cmd_status(int argc, char **argv)
{
	struct node_cmd_opts o = {0};
	json_t *j;
	int ret, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	if ((ret = node_app_call(&o.conn, "GET", argv[arg], "", &j)) != EXIT_OK)
		return ret;
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
