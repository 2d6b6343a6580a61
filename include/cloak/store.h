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

#define CK_STORE_SCHEMA	    2
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

/* Apps. An app is named as a DNS label and belongs to the owner who deployed it; its state is
 * one of enum ck_app_state; while its runtime lives, the store has its pid, the kernel's start
 * time of that pid (so a new cloakd re-adopts that process and no other) and the loopback port
 * it listens on. The manifest (public) is kept with it. */
enum ck_app_state {
	CK_APP_STARTING = 1, /* its runtime is starting: no port yet */
	CK_APP_AWAITING,     /* listening, waiting for its owner's provisioning */
	CK_APP_RUNNING,	     /* provisioned and serving */
	CK_APP_FAILED,	     /* the runtime cannot start, or refuses to serve: not restarted */
	CK_APP_STOPPED,	     /* stopped by its owner */
};
#define CK_APP_STATE_MAX  CK_APP_STOPPED
#define CK_APP_REASON_MAX 255
#define CK_STORE_MAX_APPS 1024 /* at most, whatever the node's own limit */

struct ck_app_rec {
	char name[CK_DNS_LABEL_MAX + 1], owner[CK_OWNER_NAME_MAX + 1];
	enum ck_app_state state;
	char mode[16]; /* the manifest's (mode.h) */
	uint8_t package_sha256[32];
	int pid;	     /* 0: no runtime */
	uint64_t proc_start; /* /proc/PID/stat's start time, in clock ticks after boot */
	uint16_t port;	     /* 0: none */
	unsigned restarts;
	char reason[CK_APP_REASON_MAX + 1]; /* why it is in its state; "" */
	ck_time_t created, started;
};

const char *ck_app_state_name(enum ck_app_state s);

/* Adds an app, with its manifest, in one transaction; `commit` (may be NULL) is called inside
 * it, before the commit, to put the app's files in place: if it fails, nothing is added (its
 * error stands). CK_E_CONFLICT if the name is taken, CK_E_LIMIT at CK_STORE_MAX_APPS. */
int ck_store_app_add(struct ck_store *s, const struct ck_app_rec *a, const char *manifest,
		     size_t manifest_len, int (*commit)(void *arg, struct ck_err *err), void *arg,
		     struct ck_err *err);
/* Writes an app's state, pid, start time, port, restarts, reason and start (its name, owner,
 * mode, package and manifest never change). CK_E_NOT_FOUND if there is no such app. */
int ck_store_app_update(struct ck_store *s, const struct ck_app_rec *a, struct ck_err *err);
/* Removes it; `commit` as for add (the files' removal). CK_E_NOT_FOUND if there is none. */
int ck_store_app_delete(struct ck_store *s, const char *name,
			int (*commit)(void *arg, struct ck_err *err), void *arg,
			struct ck_err *err);
/* Every app, by name; *list is the caller's (free). All or nothing, as token_list. A row
 * the store cannot read back (a state it does not know) fails the whole list. */
int ck_store_app_list(struct ck_store *s, struct ck_app_rec **list, size_t *n, struct ck_err *err);

#endif
