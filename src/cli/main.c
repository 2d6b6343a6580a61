/* SPDX-License-Identifier: Apache-2.0 */
/* cloak - confidential microservices: the owner's and user's tool. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const struct subcommand commands[] = {
    {"provision", cmd_provision, "Verify an enclave, then send it the app's keys and secrets"},
    {"verify", cmd_verify, "Verify a live service, certificate or evidence bundle (RA-TLS)"},
    {"quote", cmd_quote, "Verify an SGX quote or evidence bundle against its collateral"},
    {"inspect", cmd_inspect, "Show what a quote, collateral, bundle or certificate contains"},
    {"collateral", cmd_collateral, "Convert raw Intel PCS responses to a collateral file"},
    {"package", cmd_package, "Pack and encrypt an app directory; write its manifest"},
    {"unpack", cmd_unpack, "Check a package completely, then extract it"},
    {"fingerprint", cmd_fingerprint, "Print the fingerprint of an app directory"},
    {"log-decrypt", cmd_log_decrypt, "Open an app's log: its output, sealed to the owner"},
    {"list", cmd_list, "List your apps on a node"},
    {"status", cmd_status, "Show where an app stands on its node"},
    {"stop", cmd_stop, "Stop an app's runtime on its node"},
    {"rm", cmd_rm, "Remove an app from its node (-y)"},
    {"logs", cmd_logs, "Fetch an app's log from its node and open it"},
    {"measure", cmd_measure, "Print the measurement of the cloak-runtime beside cloak (sim)"},
    {"keygen", cmd_keygen, "Create (if needed) and print the owner's Ed25519 key"},
    {"sim", cmd_sim, "Simulation PKI: issue sim quotes and collateral (NOT A REAL TEE)"},
    {NULL, NULL, NULL},
};

int main(int argc, char **argv)
{
	if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))) {
		printf("cloak %s\n", CLOAK_VERSION);
		return EXIT_OK;
	}
	return cli_dispatch("cloak", commands, argc - 1, argv + 1);
}
