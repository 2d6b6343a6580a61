/* SPDX-License-Identifier: Apache-2.0 */
/* store.c - the node's SQLite state; the contract is in include/cloak/store.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sqlite3.h>

#include "cloak/codec.h"
#include "cloak/dns.h"
#include "cloak/store.h"

struct ck_store {
	sqlite3 *db;
};

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[CK_STORE_SCHEMA] = {
    "CREATE TABLE tokens ("
    " name TEXT PRIMARY KEY,"
    " hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),"
    " admin INTEGER NOT NULL DEFAULT 0 CHECK (admin IN (0, 1)),"
    " created INTEGER NOT NULL,"
    " revoked INTEGER"
    ") STRICT;"
    "CREATE TABLE apps ("
    " name TEXT PRIMARY KEY,"
    " owner TEXT NOT NULL REFERENCES tokens(name),"
    " state TEXT NOT NULL,"
    " manifest BLOB NOT NULL,"
    " package_sha256 BLOB NOT NULL CHECK (length(package_sha256) = 32),"
    " pid INTEGER, port INTEGER, started INTEGER,"
    " restarts INTEGER NOT NULL DEFAULT 0,"
    " reason TEXT,"
    " created INTEGER NOT NULL"
    ") STRICT;",
    /* 2: what re-adopting a runtime needs (the pid's start time), the mode for listings */
    "ALTER TABLE apps ADD COLUMN proc_start INTEGER;"
    "ALTER TABLE apps ADD COLUMN mode TEXT NOT NULL DEFAULT 'zero-trust';",
};

static int fail(struct ck_store *s, struct ck_err *err, const char *what)
{
	return ck_errf(err, CK_E_STORE, "%s: %s", what,
		       s->db ? sqlite3_errmsg(s->db) : "no database");
}

static int exec(struct ck_store *s, const char *sql, struct ck_err *err)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	ck_errf(err, CK_E_STORE, "%s", msg ? msg : "failed");
	sqlite3_free(msg);
	return -1;
}

int ck_store_schema(struct ck_store *s)
{
	sqlite3_stmt *st;
	int v = -1;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static int migrate(struct ck_store *s, struct ck_err *err)
{
	int v = ck_store_schema(s);
	if (v < 0)
		return fail(s, err, "reading the schema version");
	if (v > CK_STORE_SCHEMA)
		return ck_errf(err, CK_E_STORE,
			       "the database is at schema %d, newer than this cloakd's %d: upgrade "
			       "cloakd",
			       v, CK_STORE_SCHEMA);
	for (; v < CK_STORE_SCHEMA; v++) {
		char bump[64];
		snprintf(bump, sizeof(bump), "PRAGMA user_version = %d", v + 1);
		if (exec(s, "BEGIN IMMEDIATE", err) < 0)
			return -1;
		if (exec(s, migrations[v], err) < 0 || exec(s, bump, err) < 0) {
			exec(s, "ROLLBACK", NULL);
			return ck_err_wrap(err, "migrating the store to schema %d", v + 1);
		}
		if (exec(s, "COMMIT", err) < 0)
			return -1;
	}
	return 0;
}

int ck_store_open(const char *path, struct ck_store **out, struct ck_err *err)
{
	struct ck_store *s = calloc(1, sizeof(*s));
	if (!s)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		int e = errno;
		free(s);
		return ck_errf(err, CK_E_STORE, "cannot open '%s': %s", path, strerror(e));
	}
	close(fd);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) !=
	    SQLITE_OK) {
		fail(s, err, "cannot open the database");
		goto bad;
	}
	if (exec(s,
		 "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; "
		 "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000",
		 err) < 0 ||
	    migrate(s, err) < 0)
		goto bad;
	*out = s;
	return 0;
bad:
	ck_err_wrap(err, "'%s'", path);
	ck_store_close(s);
	return -1;
}

void ck_store_close(struct ck_store *s)
{
	if (!s)
		return;
	sqlite3_close(s->db);
	free(s);
}

int ck_store_token_create(struct ck_store *s, const char *name, bool admin, ck_time_t now,
			  char out[CK_TOKEN_STR_LEN + 1], struct ck_err *err)
{
	uint8_t tok[CK_TOKEN_BYTES], h[32];
	sqlite3_stmt *st = NULL;
	int ret = -1;
	if (!ck_dns_label(name, strlen(name)))
		return ck_errf(err, CK_E_USAGE, "'%s' is not an owner name (1-63 of a-z, 0-9, '-')",
			       name);
	if (RAND_bytes(tok, sizeof(tok)) != 1)
		return ck_errf(err, CK_E_NOMEM, "no randomness for a token");
	ck_hex_encode(tok, sizeof(tok), out);
	EVP_Digest(out, CK_TOKEN_STR_LEN, h, NULL, EVP_sha256(), NULL);
	OPENSSL_cleanse(tok, sizeof(tok));
	if (sqlite3_prepare_v2(s->db,
			       "INSERT INTO tokens (name, hash, admin, created) SELECT ?, ?, ?, ? "
			       "WHERE (SELECT count(*) FROM tokens) < ?",
			       -1, &st, NULL) != SQLITE_OK) {
		fail(s, err, "adding a token");
		goto out;
	}
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, h, 32, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, admin);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int(st, 5, CK_STORE_MAX_TOKENS);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_CONSTRAINT)
		ck_errf(err, CK_E_USAGE, "the owner '%s' already has a token", name);
	else if (rc != SQLITE_DONE)
		fail(s, err, "adding a token");
	else if (sqlite3_changes(s->db) != 1)
		ck_errf(err, CK_E_USAGE, "the node has %d tokens, its most: no token for '%s'",
			CK_STORE_MAX_TOKENS, name);
	else
		ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		OPENSSL_cleanse(out, CK_TOKEN_STR_LEN + 1);
	return ret;
}

int ck_store_token_revoke(struct ck_store *s, const char *name, ck_time_t now, struct ck_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "UPDATE tokens SET revoked = ? WHERE name = ? AND revoked IS NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, err, "revoking a token");
	sqlite3_bind_int64(st, 1, now);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "revoking a token");
	if (sqlite3_changes(s->db) != 1)
		return ck_errf(err, CK_E_USAGE, "'%s' has no live token", name);
	return 0;
}

int ck_store_token_list(struct ck_store *s, struct ck_token_info **list, size_t *n,
			struct ck_err *err)
{
	sqlite3_stmt *st;
	*list = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT name, admin, created, revoked FROM tokens ORDER BY name", -1,
			       &st, NULL) != SQLITE_OK)
		return fail(s, err, "listing tokens");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (*n == CK_STORE_MAX_TOKENS) { /* not made by ck_store_token_create */
			sqlite3_finalize(st);
			free(*list);
			*list = NULL;
			*n = 0;
			return ck_errf(err, CK_E_STORE, "more than %d tokens: not listed in part",
				       CK_STORE_MAX_TOKENS);
		}
		struct ck_token_info *nl = realloc(*list, (*n + 1) * sizeof(**list));
		if (!nl) {
			sqlite3_finalize(st);
			free(*list);
			*list = NULL;
			*n = 0;
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		}
		*list = nl;
		struct ck_token_info *t = &nl[(*n)++];
		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", (const char *)sqlite3_column_text(st, 0));
		t->admin = sqlite3_column_int(st, 1) != 0;
		t->created = sqlite3_column_int64(st, 2);
		t->revoked = sqlite3_column_type(st, 3) != SQLITE_NULL;
		t->revoked_at = t->revoked ? sqlite3_column_int64(st, 3) : 0;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(*list);
		*list = NULL;
		*n = 0;
		return fail(s, err, "listing tokens");
	}
	return 0;
}

int ck_store_token_check(struct ck_store *s, const char *presented,
			 char owner[CK_OWNER_NAME_MAX + 1], bool *admin, struct ck_err *err)
{
	uint8_t h[32];
	sqlite3_stmt *st;
	bool found = false;
	size_t n = presented ? strlen(presented) : 0;
	owner[0] = 0;
	*admin = false;
	if (n != CK_TOKEN_STR_LEN || strspn(presented, "0123456789abcdef") != n)
		return ck_errf(err, CK_E_AUTH, "no valid owner token");
	EVP_Digest(presented, n, h, NULL, EVP_sha256(), NULL);
	if (sqlite3_prepare_v2(s->db, "SELECT name, hash, admin FROM tokens WHERE revoked IS NULL",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, err, "checking a token");
	while (sqlite3_step(st) == SQLITE_ROW) { /* every live token, no early exit */
		const void *hh = sqlite3_column_blob(st, 1);
		int match =
		    hh && sqlite3_column_bytes(st, 1) == 32 && CRYPTO_memcmp(hh, h, 32) == 0;
		if (match && !found) {
			snprintf(owner, CK_OWNER_NAME_MAX + 1, "%s",
				 (const char *)sqlite3_column_text(st, 0));
			*admin = sqlite3_column_int(st, 2) != 0;
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found ? 0 : ck_errf(err, CK_E_AUTH, "no valid owner token");
}

const char *ck_app_state_name(enum ck_app_state st)
{
	static const char *const names[] = {"?",       "starting", "awaiting-provisioning",
					    "running", "failed",   "stopped"};
	return st >= CK_APP_STARTING && st <= CK_APP_STATE_MAX ? names[st] : "?";
}

static int state_parse(const char *t, enum ck_app_state *st)
{
	for (int i = CK_APP_STARTING; t && i <= CK_APP_STATE_MAX; i++)
		if (!strcmp(t, ck_app_state_name((enum ck_app_state)i))) {
			*st = (enum ck_app_state)i;
			return 0;
		}
	return -1;
}

/* Runs `commit` inside the transaction st belongs to, then commits; rolls back on failure. */
static int finish(struct ck_store *s, int rc, int (*commit)(void *, struct ck_err *), void *arg,
		  const char *what, struct ck_err *err)
{
	if (rc < 0 || (commit && commit(arg, err) < 0) || exec(s, "COMMIT", err) < 0) {
		exec(s, "ROLLBACK", NULL);
		return rc == -2 ? fail(s, err, what) : -1;
	}
	return 0;
}

int ck_store_app_add(struct ck_store *s, const struct ck_app_rec *a, const char *manifest,
		     size_t manifest_len, int (*commit)(void *arg, struct ck_err *err), void *arg,
		     struct ck_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -1;
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (sqlite3_prepare_v2(
		s->db,
		"INSERT INTO apps (name, owner, state, manifest, package_sha256, created, mode) "
		"SELECT ?, ?, ?, ?, ?, ?, ? WHERE (SELECT count(*) FROM apps) < ?",
		-1, &st, NULL) != SQLITE_OK) {
		rc = -2;
		goto out;
	}
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, a->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ck_app_state_name(a->state), -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 4, manifest, (int)manifest_len, SQLITE_STATIC);
	sqlite3_bind_blob(st, 5, a->package_sha256, 32, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, a->created);
	sqlite3_bind_text(st, 7, a->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 8, CK_STORE_MAX_APPS);
	int r = sqlite3_step(st);
	if (r == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_PRIMARYKEY)
		ck_errf(err, CK_E_CONFLICT, "an app called '%s' is already deployed", a->name);
	else if (r == SQLITE_CONSTRAINT)
		ck_errf(err, CK_E_USAGE, "'%s' cannot be added (no owner '%s'?)", a->name,
			a->owner);
	else if (r != SQLITE_DONE)
		rc = -2;
	else if (sqlite3_changes(s->db) != 1)
		ck_errf(err, CK_E_LIMIT, "the node holds %d apps, its most", CK_STORE_MAX_APPS);
	else
		rc = 0;
out:
	sqlite3_finalize(st);
	return finish(s, rc, commit, arg, "adding an app", err);
}

int ck_store_app_update(struct ck_store *s, const struct ck_app_rec *a, struct ck_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db,
			       "UPDATE apps SET state = ?, pid = ?, proc_start = ?, port = ?, "
			       "restarts = ?, reason = ?, started = ? WHERE name = ?",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, err, "updating an app");
	sqlite3_bind_text(st, 1, ck_app_state_name(a->state), -1, SQLITE_STATIC);
	if (a->pid > 0) {
		sqlite3_bind_int(st, 2, a->pid);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)a->proc_start);
	} else {
		sqlite3_bind_null(st, 2);
		sqlite3_bind_null(st, 3);
	}
	if (a->port)
		sqlite3_bind_int(st, 4, a->port);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int64(st, 5, a->restarts);
	if (*a->reason)
		sqlite3_bind_text(st, 6, a->reason, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 6);
	if (a->started)
		sqlite3_bind_int64(st, 7, a->started);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_text(st, 8, a->name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return fail(s, err, "updating an app");
	if (sqlite3_changes(s->db) != 1)
		return ck_errf(err, CK_E_NOT_FOUND, "no app '%s'", a->name);
	return 0;
}

int ck_store_app_delete(struct ck_store *s, const char *name,
			int (*commit)(void *arg, struct ck_err *err), void *arg, struct ck_err *err)
{
	sqlite3_stmt *st = NULL;
	int rc = -2;
	if (exec(s, "BEGIN IMMEDIATE", err) < 0)
		return -1;
	if (sqlite3_prepare_v2(s->db, "DELETE FROM apps WHERE name = ?", -1, &st, NULL) ==
	    SQLITE_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if (sqlite3_step(st) == SQLITE_DONE)
			rc = sqlite3_changes(s->db) == 1
				 ? 0
				 : ck_errf(err, CK_E_NOT_FOUND, "no app '%s'", name);
	}
	sqlite3_finalize(st);
	return finish(s, rc, commit, arg, "removing an app", err);
}

static int app_row(sqlite3_stmt *st, struct ck_app_rec *a)
{
	const char *name = (const char *)sqlite3_column_text(st, 0),
		   *owner = (const char *)sqlite3_column_text(st, 1),
		   *mode = (const char *)sqlite3_column_text(st, 3),
		   *reason = (const char *)sqlite3_column_text(st, 9);
	memset(a, 0, sizeof(*a));
	if (!name || !owner || !mode || strlen(name) > CK_DNS_LABEL_MAX ||
	    strlen(owner) > CK_OWNER_NAME_MAX || strlen(mode) >= sizeof(a->mode) ||
	    state_parse((const char *)sqlite3_column_text(st, 2), &a->state) < 0 ||
	    sqlite3_column_bytes(st, 4) != 32)
		return -1;
	strcpy(a->name, name);
	strcpy(a->owner, owner);
	strcpy(a->mode, mode);
	memcpy(a->package_sha256, sqlite3_column_blob(st, 4), 32);
	a->pid = sqlite3_column_int(st, 5);
	a->proc_start = (uint64_t)sqlite3_column_int64(st, 6);
	int port = sqlite3_column_int(st, 7);
	a->port = port > 0 && port <= 65535 ? (uint16_t)port : 0;
	a->restarts = (unsigned)sqlite3_column_int(st, 8);
	snprintf(a->reason, sizeof(a->reason), "%s", reason ? reason : "");
	a->created = sqlite3_column_int64(st, 10);
	a->started = sqlite3_column_int64(st, 11);
	return 0;
}

int ck_store_app_list(struct ck_store *s, struct ck_app_rec **list, size_t *n, struct ck_err *err)
{
	sqlite3_stmt *st;
	struct ck_app_rec *l = NULL;
	size_t k = 0;
	int rc;
	*list = NULL;
	*n = 0;
	if (sqlite3_prepare_v2(s->db,
			       "SELECT name, owner, state, mode, package_sha256, pid, proc_start, "
			       "port, restarts, reason, created, started FROM apps ORDER BY name",
			       -1, &st, NULL) != SQLITE_OK)
		return fail(s, err, "listing apps");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct ck_app_rec *nl =
		    k < CK_STORE_MAX_APPS ? realloc(l, (k + 1) * sizeof(*l)) : NULL;
		if (!nl || app_row(st, &nl[k]) < 0) {
			const char *name = (const char *)sqlite3_column_text(st, 0);
			ck_errf(err, CK_E_STORE,
				nl ? "the app row '%.64s' cannot be read" : "%.64s: too many apps",
				name ? name : "?");
			free(nl ? nl : l);
			sqlite3_finalize(st);
			return -1;
		}
		l = nl;
		k++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(l);
		return fail(s, err, "listing apps");
	}
	*list = l;
	*n = k;
	return 0;
}
