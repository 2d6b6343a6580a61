/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - cloakd's subcommands, one file each, listed in main.c's table (the CLI's helpers,
 * src/cli/cli.h, serve it too). Exit codes as cloak's: 0 done, 1 refused, 2 usage or input.
 */
#ifndef CLOAK_NODE_NODE_H
#define CLOAK_NODE_NODE_H

#include <netinet/in.h>

#include "cli.h"
#include "cloak/nodedir.h"

/* The options of a node's invocation (cloakd check and cloakd run), and their checks. */
struct node_opts {
	const char *data, *domain, *public_addr, *api, *op_cert, *op_key, *collateral, *pccs, *user;
	bool sim, json;
};
#define NODE_OPTS_DEFAULT                                                                          \
	{                                                                                          \
		.public_addr = "127.0.0.1:8443", .api = "127.0.0.1:9443", .domain = "localhost",   \
		.user = "nobody"                                                                   \
	}
extern const struct ck_opt node_opts[];
/* The options alone, touching nothing: the domain, the addresses (*pub gets the public one),
 * the operator's certificate and key, the source of collateral. */
int node_check_opts(const struct node_opts *o, struct sockaddr_in *pub, struct ck_err *e);
/* The data directory (mode, schema, API certificate and key) into *d; --sim only where it has
 * a simulation PKI. */
int node_open(const struct node_opts *o, struct ck_node_dir *d, struct ck_err *e);

int cmd_init(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_token(int argc, char **argv);

#endif
