/* SPDX-License-Identifier: Apache-2.0 */
/*
 * store.h - the node's state (DESIGN §8): one SQLite database in the node's data directory, in
 * WAL mode, with STRICT tables, foreign keys on, and its schema version in user_version
 * (migrations run in order, each in a transaction, on open). Only the parent process of cloakd
 * opens it. Every change is one transaction: a crash leaves the state before or after it.
 *
 * Owner tokens: 32 random bytes, shown once as 64 lower-case hex digits. The store keeps SHA-256
 * of each token, never the token;
 * a presented token is hashed and compared, in constant time, with every live token's hash (no
 * early exit, no lookup by a secret-derived key). Names are the owners' (1-63 of [a-z0-9-],
 * a DNS label), unique; a revoked token stays listed, refused.
 */
#ifndef CLOAK_STORE_H
#define CLOAK_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/dns.h"
#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_STORE_SCHEMA	    1
#define CK_TOKEN_BYTES	    32
#define CK_TOKEN_STR_LEN    (2 * CK_TOKEN_BYTES)
#define CK_OWNER_NAME_MAX   CK_DNS_LABEL_MAX /* a DNS label (dns.h) */
#define CK_STORE_MAX_TOKENS 1024

struct ck_store;

/* Opens (creating and migrating) the database at `path`, mode 0600. A database whose schema is
 * newer than CK_STORE_SCHEMA is refused (CK_E_STORE), untouched. */
int ck_store_open(const char *path, struct ck_store **out, struct ck_err *err);
void ck_store_close(struct ck_store *s); /* NULL is fine */

/* The schema version the database is at. */
int ck_store_schema(struct ck_store *s);

/* A new token for owner `name`: written to `out` (NUL-terminated; the caller shows it once and
 * wipes it), its hash stored. CK_E_USAGE for a bad or taken name, naming it, or when the node
 * already has CK_STORE_MAX_TOKENS tokens (revoked ones count: they stay listed). */
int ck_store_token_create(struct ck_store *s, const char *name, bool admin, ck_time_t now,
			  char out[CK_TOKEN_STR_LEN + 1], struct ck_err *err);
/* Revokes `name`'s token (it stays listed). CK_E_USAGE if there is no such live token. */
int ck_store_token_revoke(struct ck_store *s, const char *name, ck_time_t now, struct ck_err *err);

struct ck_token_info {
	char name[CK_OWNER_NAME_MAX + 1];
	bool admin, revoked;
	ck_time_t created, revoked_at;
};
/* Every token, by name; *list is the caller's (free). All or nothing: on failure *list is NULL
 * and *n 0 (CK_E_STORE for a database holding more than CK_STORE_MAX_TOKENS). */
int ck_store_token_list(struct ck_store *s, struct ck_token_info **list, size_t *n,
			struct ck_err *err);

/* Whose token `presented` is: 0 with owner (and *admin) set; -1 (CK_E_AUTH) for a malformed,
 * unknown or revoked one, the same error for each. */
int ck_store_token_check(struct ck_store *s, const char *presented,
			 char owner[CK_OWNER_NAME_MAX + 1], bool *admin, struct ck_err *err);

/* Apps. An app is named as a DNS label; its state is one of CK_APP_STATES; a running one has the
 * loopback port its runtime listens on. */
#define CK_APP_STATES "starting awaiting-provisioning running failed stopped"
typedef int (*ck_store_route_fn)(void *arg, const char *name, uint16_t port);
/* Calls `fn` for every app whose runtime is listening (state starting, awaiting-provisioning or
 * running, with a port), in name order. Returns 0 when each was given, 1 when `fn` stopped it
 * (a negative return: its reason is fn's to tell), -1 (err set) when the store failed. */
int ck_store_app_routes(struct ck_store *s, ck_store_route_fn fn, void *arg, struct ck_err *err);

#endif
