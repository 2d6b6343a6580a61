/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cli.h - what the subcommands of `cloak` share. Each subcommand lives in its own cmd_*.c and
 * is listed in main.c's table. Exit codes are the same everywhere:
 *   0  success / evidence accepted
 *   1  evidence invalid or rejected by the policy
 *   2  usage error, or an input that cannot be read
 */
#ifndef CLOAK_CLI_H
#define CLOAK_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include <jansson.h>

#include "cloak/appraise.h"
#include "cloak/collateral.h"
#include "cloak/client.h"
#include "cloak/err.h"
#include "cloak/opts.h"
#include "cloak/policy.h"

#define EXIT_OK	      0
#define EXIT_REJECTED 1
#define EXIT_USAGE    2

struct subcommand {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
};

/* Runs the subcommand named by argv[0] from `table` (NULL-terminated), or prints usage. */
int cli_dispatch(const char *prog, const struct subcommand *table, int argc, char **argv);

/* The program's name in messages ("cloak", "cloakd"): set once by its main. */
extern const char *cli_prog;

/* Prints "<prog>: <message> [<code>]" to stderr. */
void cli_err(const struct ck_err *e);
void cli_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Reads a whole file (CK_E_* on failure). */
int cli_read(const char *path, size_t max, uint8_t **buf, size_t *len, struct ck_err *err);

/* Reads and parses a collateral file (QuoteCollateralV3 JSON); prints the error naming the file
 * and returns -1 on failure. */
int cli_collateral(const char *path, struct ck_collateral *c);

/* Parses --at (RFC 3339) or returns now when `s` is NULL. */
int cli_time(const char *s, ck_time_t *t);

/* Loads a policy file (or the default when path is NULL) and merges the CLI flags. */
int cli_policy(const char *path, bool allow_simulation, struct ck_policy *p);

/* Prints a JSON value followed by a newline to stdout, and frees it. */
void cli_print_json(json_t *j);

/* The ck_enclave_wait_fn of every command: when fresh evidence is refused for now, says on
 * standard error (unless quiet) who answered what and when it is asked again. `arg` is a
 * struct cli_wait. */
struct cli_wait {
	const char *who;
	bool quiet;
};
void cli_on_wait(void *arg, int status, unsigned seconds, int attempt);
json_t *cli_hex(const uint8_t *p, size_t n);
json_t *cli_time_json(ck_time_t t);

/* The verdict of an appraisal plus policy, as JSON (the `cloak quote verify --json` object) or
 * as text on stdout. `errs` are the appraisal error (if any) then policy violations. */
struct verdict {
	bool accepted;
	bool measured;
	const struct ck_appraisal *a;
	struct ck_err errs[1 + CK_POLICY_MAX_VIOLATIONS];
	size_t n_errs;
	ck_time_t at;
};
void verdict_decide(struct verdict *v, const struct ck_appraisal *a, int appraise_ret,
		    const struct ck_policy *p, ck_time_t at);
json_t *verdict_json(const struct verdict *v);
void verdict_print(const struct verdict *v);

struct ck_claims;
/* The claims that are present, as a JSON object. */
json_t *claims_json(const struct ck_claims *c);

/* A node's API, as the owner's commands reach it (nodeapi.c): options --node, --node-fingerprint,
 * --token-file (with $CLOAK_NODE, $CLOAK_TOKEN). */
struct node_conn {
	const char *url, *fingerprint, *token_file;
	struct ck_client c;
};
#define NODE_CONN_OPTS(T)                                                                          \
	CK_OPT_ARG("node", 0, "URL", T, conn.url, "the node's API (default $CLOAK_NODE)"),         \
	    CK_OPT_ARG("node-fingerprint", 0, "HEX", T, conn.fingerprint,                          \
		       "the API certificate's SHA-256 (default: pinned on first use)"),            \
	    CK_OPT_ARG("token-file", 0, "FILE", T, conn.token_file,                                \
		       "the owner token, a 0600 file (default $CLOAK_TOKEN)")
/* The options of the node commands (list, status, stop, rm) and their table (rm adds -y). */
struct node_cmd_opts {
	struct node_conn conn;
	bool yes, json;
};
extern const struct ck_opt node_cmd_opts[];
/* One app's request, METHOD /v1/apps/NAME[SUFFIX]: NAME checked, the answer into *answer.
 * Returns EXIT_OK, or the exit status with the error said. */
int node_app_call(struct node_conn *nc, const char *method, const char *name, const char *suffix,
		  json_t **answer);

/* The cloak-runtime to use: `given` (named by `flag` in errors), else the one beside this
 * program (its directory, or ../runtime/ in a build tree). */
int cli_runtime_path(const char *given, const char *flag, char out[PATH_MAX], struct ck_err *e);

/* The MRENCLAVE a simulated enclave of that runtime reports: SHA-256 of the binary. */
#define CLI_RUNTIME_MAX (256u << 20)
int cli_measure_runtime(const char *given, uint8_t mr[32], char path[PATH_MAX], struct ck_err *e);

/* An app name as an operand: true, or false having said why. */
bool cli_app_name(const char *name);
/* The exit status for a node command's failure: 2 for usage (no node, no token, a bad
 * option), 1 for everything the node or its certificate refused. */
int cli_node_exit(const struct ck_err *e);
/* One request; the answer's JSON into *answer (the caller's). A refusal is an error quoting the
 * node's code and message (CK_E_AUTH for 401), a changed certificate CK_E_TLS. */
int node_call(struct node_conn *nc, const char *method, const char *path, json_t **answer,
	      struct ck_err *e);
/* The same, for an answer that is not JSON: its body (malloc'ed, NUL-terminated) and length. */
int node_call_text(struct node_conn *nc, const char *method, const char *path, char **text,
		   size_t *len, struct ck_err *e);

struct ck_log_reader;
/* An app's log from `in`, line by line: the app's output on stdout (and the runtime's own
 * lines with runtime_lines), gaps and epochs on stderr. EXIT_REJECTED if a record was refused
 * (each said on stderr; the rest still shown), else EXIT_OK. */
int cli_log_decrypt(FILE *in, struct ck_log_reader *r, bool runtime_lines);

/* Subcommands. */
int cmd_quote(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_sim(int argc, char **argv);
int cmd_collateral(int argc, char **argv);
int cmd_package(int argc, char **argv);
int cmd_unpack(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_keygen(int argc, char **argv);
int cmd_sim_serve(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_provision(int argc, char **argv);
int cmd_log_decrypt(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_measure(int argc, char **argv);

#endif
