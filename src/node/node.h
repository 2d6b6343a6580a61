/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - cloakd's subcommands, one file each, listed in main.c's table (the CLI's helpers,
 * src/cli/cli.h, serve it too). Exit codes as cloak's: 0 done, 1 refused, 2 usage or input.
 */
#ifndef CLOAK_NODE_NODE_H
#define CLOAK_NODE_NODE_H

#include "cli.h"

int cmd_init(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_token(int argc, char **argv);

#endif
