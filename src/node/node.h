/* SPDX-License-Identifier: Apache-2.0 */
/*
 * node.h - cloakd's subcommands, one file each, listed in main.c's table (the CLI's helpers,
 * src/cli/cli.h, serve it too). Exit codes as cloak's: 0 done, 1 refused, 2 usage or input.
 */
#ifndef CLOAK_NODE_NODE_H
#define CLOAK_NODE_NODE_H

#include <limits.h>
#include <netinet/in.h>
#include <stdint.h>

#include "cli.h"
#include "cloak/nodedir.h"

/* The options of a node's invocation (cloakd check and cloakd run), and their checks. */
struct node_opts {
	const char *data, *domain, *public_addr, *api, *op_cert, *op_key, *collateral, *pccs, *user;
	const char *runtime, *max_package, *max_apps, *max_uploads, *max_auth_failures, *fmspc;
	bool sim, json;
};

/* The node's limits (flags, each with its default). */
#define NODE_DEFAULT_MAX_PKG  (256ull << 20)
#define NODE_DEFAULT_MAX_APPS 64
#define NODE_DEFAULT_UPLOADS  16
#define NODE_DEFAULT_AUTHFAIL 10
struct node_limits {
	uint64_t max_package; /* bytes of one upload (manifest and package) */
	unsigned max_apps, max_uploads, max_auth_failures;
};
/* The limits the options give, each checked against its bounds. */
int node_check_limits(const struct node_opts *o, struct node_limits *l, struct ck_err *e);
/* The cloak-runtime to start apps with: --runtime, else the one beside this cloakd (in the
 * same directory, or ../runtime/ in a build tree). */
int node_runtime_path(const struct node_opts *o, char out[PATH_MAX], struct ck_err *e);
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
