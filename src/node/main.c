/* SPDX-License-Identifier: Apache-2.0 */
/* cloakd - the node an operator runs on a TEE host (DESIGN §8): its data directory and owners'
 * tokens (serving the owner API and the public port: next). */
#include <stdio.h>
#include <string.h>

#include "node.h"

static const struct subcommand commands[] = {
    {"init", cmd_init, "Create the node's data directory (store, API certificate, admin token)"},
    {"run", cmd_run, "Run the node: the public port's router (the owner API: next)"},
    {"check", cmd_check, "Check an invocation and the data directory without starting"},
    {"fingerprint", cmd_fingerprint, "Print the SHA-256 of the API's certificate, to pin"},
    {"token", cmd_token, "Create, list or revoke owners' tokens"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	cli_prog = "cloakd";
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("cloakd %s\n", CLOAK_VERSION);
		return EXIT_OK;
	}
	return cli_dispatch("cloakd", commands, argc - 1, argv + 1);
}
