/* SPDX-License-Identifier: Apache-2.0 */
/* The node's store (store.h) on a real SQLite file: created 0600 and migrated, reopened as it
 * is, a newer schema, a file that is no database and a symbolic link refused untouched; owner
 * tokens created, checked, refused (wrong, malformed, revoked), listed, limited, and never stored
 * in clear; the apps' routes.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cloak/store.h"
#include "testutil.h"

static void test_open_and_migrate(void **s)
{
	(void)s;
	struct ck_store *st;
	struct ck_err e;
	const char *db = tu_path("node.db");
	assert_int_equal(ck_store_open(db, &st, &e), 0);
	assert_int_equal(ck_store_schema(st), CK_STORE_SCHEMA);
	ck_store_close(st);
	struct stat sb;
	assert_int_equal(stat(db, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(ck_store_open(db, &st, &e), 0); /* again: nothing to migrate */
	assert_int_equal(ck_store_schema(st), CK_STORE_SCHEMA);
	ck_store_close(st);
	/* a database from a newer cloakd: refused, and left at its version */
	sqlite3 *raw;
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version = 99", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(ck_store_open(db, &st, &e), -1);
	assert_string_equal(e.code, CK_E_STORE);
	assert_non_null(strstr(e.msg, "schema 99"));
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	sqlite3_stmt *q;
	sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &q, NULL);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 99);
	sqlite3_finalize(q);
	sqlite3_close(raw);
	/* a file that is not a database: refused naming it, and left as it was */
	const char *junk = tu_path("junk.db"), *text = "not a database, but long enough to look";
	tu_write(junk, text, strlen(text), 0600);
	assert_int_equal(ck_store_open(junk, &st, &e), -1);
	assert_string_equal(e.code, CK_E_STORE);
	assert_non_null(strstr(e.msg, junk));
	assert_int_equal(stat(junk, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)strlen(text));
	/* a symbolic link is not followed: refused naming it and why */
	const char *link = tu_path("link.db");
	assert_int_equal(symlink(db, link), 0);
	assert_int_equal(ck_store_open(link, &st, &e), -1);
	assert_non_null(strstr(e.msg, link));
	assert_non_null(strstr(e.msg, strerror(ELOOP)));
}

static void test_tokens(void **s)
{
	(void)s;
	struct ck_store *st;
	struct ck_err e;
	char alice[CK_TOKEN_STR_LEN + 1], admin[CK_TOKEN_STR_LEN + 1], who[CK_OWNER_NAME_MAX + 1];
	bool is_admin;
	const char *db = tu_path("tokens.db");
	assert_int_equal(ck_store_open(db, &st, &e), 0);
	assert_int_equal(ck_store_token_create(st, "admin", true, 100, admin, &e), 0);
	assert_int_equal(ck_store_token_create(st, "alice", false, 200, alice, &e), 0);
	assert_int_equal(strlen(alice), CK_TOKEN_STR_LEN);
	assert_string_not_equal(alice, admin);
	assert_int_equal(ck_store_token_check(st, alice, who, &is_admin, &e), 0);
	assert_string_equal(who, "alice");
	assert_false(is_admin);
	assert_int_equal(ck_store_token_check(st, admin, who, &is_admin, &e), 0);
	assert_string_equal(who, "admin");
	assert_true(is_admin);
	/* wrong, malformed, empty, upper case: the same refusal */
	char wrong[CK_TOKEN_STR_LEN + 1];
	memcpy(wrong, alice, sizeof(wrong));
	wrong[10] = wrong[10] == '0' ? '1' : '0';
	const char *bad[] = {wrong, "", "not-a-token", NULL};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ck_store_token_check(st, bad[i], who, &is_admin, &e), -1);
		assert_string_equal(e.code, CK_E_AUTH);
		assert_string_equal(who, "");
	}
	/* names: bad ones and a taken one */
	const char *names[] = {"", "Alice", "a_b", "-x", "x-", "a.b"};
	char tok[CK_TOKEN_STR_LEN + 1];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(ck_store_token_create(st, names[i], false, 1, tok, &e), -1);
		assert_string_equal(e.code, CK_E_USAGE);
	}
	assert_int_equal(ck_store_token_create(st, "alice", false, 1, tok, &e), -1);
	assert_non_null(strstr(e.msg, "'alice' already has a token"));
	/* revoked: refused, still listed */
	assert_int_equal(ck_store_token_revoke(st, "alice", 300, &e), 0);
	assert_int_equal(ck_store_token_check(st, alice, who, &is_admin, &e), -1);
	assert_int_equal(ck_store_token_revoke(st, "alice", 301, &e), -1);
	assert_int_equal(ck_store_token_revoke(st, "nobody", 301, &e), -1);
	struct ck_token_info *list;
	size_t n;
	assert_int_equal(ck_store_token_list(st, &list, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "admin");
	assert_true(list[0].admin && !list[0].revoked);
	assert_string_equal(list[1].name, "alice");
	assert_true(list[1].revoked);
	assert_int_equal(list[1].revoked_at, 300);
	free(list);
	ck_store_close(st);
	/* the tokens are nowhere in the files, only their hashes */
	const char *files[] = {"tokens.db", "tokens.db-wal"};
	for (size_t i = 0; i < 2; i++) {
		char cmd[4300];
		snprintf(cmd, sizeof(cmd), "grep -qa '%s\\|%s' '%s' 2>/dev/null", alice, admin,
			 tu_path(files[i]));
		assert_int_not_equal(system(cmd), 0);
	}
}

/* At most CK_STORE_MAX_TOKENS tokens: one more is refused naming the limit, and a database that
 * holds more anyway (not made by cloakd) is refused whole when listed, never listed in part. */
static void test_token_limit(void **s)
{
	(void)s;
	struct ck_store *st;
	struct ck_err e;
	sqlite3 *raw;
	char tok[CK_TOKEN_STR_LEN + 1], sql[256];
	const char *db = tu_path("limit.db");
	assert_int_equal(ck_store_open(db, &st, &e), 0);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	snprintf(sql, sizeof(sql),
		 "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d) "
		 "INSERT INTO tokens (name, hash, admin, created) "
		 "SELECT 'o' || i, randomblob(32), 0, 1 FROM c",
		 CK_STORE_MAX_TOKENS - 1);
	assert_int_equal(sqlite3_exec(raw, sql, NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(ck_store_token_create(st, "last", false, 1, tok, &e), 0);
	assert_int_equal(ck_store_token_create(st, "one-more", false, 1, tok, &e), -1);
	assert_string_equal(e.code, CK_E_USAGE);
	assert_non_null(strstr(e.msg, "'one-more'"));
	struct ck_token_info *list;
	size_t n;
	assert_int_equal(ck_store_token_list(st, &list, &n, &e), 0);
	assert_int_equal(n, CK_STORE_MAX_TOKENS);
	free(list);
	assert_int_equal(sqlite3_exec(raw,
				      "INSERT INTO tokens (name, hash, admin, created) "
				      "VALUES ('extra', randomblob(32), 0, 1)",
				      NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(ck_store_token_list(st, &list, &n, &e), -1);
	assert_string_equal(e.code, CK_E_STORE);
	assert_null(list);
	assert_int_equal(n, 0);
	ck_store_close(st);
}

struct seen {
	char names[8][CK_OWNER_NAME_MAX + 1];
	uint16_t ports[8];
	size_t n, stop_at;
};

static int collect(void *arg, const char *name, uint16_t port)
{
	struct seen *v = arg;
	if (v->n == v->stop_at)
		return -1;
	snprintf(v->names[v->n], sizeof(v->names[0]), "%s", name);
	v->ports[v->n++] = port;
	return 0;
}

/* The routes: apps whose runtime listens (starting, awaiting-provisioning, running, with a
 * port), in name order; failed, stopped and portless apps are not routed; a callback that says
 * stop is told apart from a failure of the store. */
static void test_app_routes(void **s)
{
	(void)s;
	struct ck_store *st;
	struct ck_err e;
	sqlite3 *raw;
	char tok[CK_TOKEN_STR_LEN + 1];
	const char *db = tu_path("routes.db");
	assert_int_equal(ck_store_open(db, &st, &e), 0);
	assert_int_equal(ck_store_token_create(st, "alice", false, 1, tok, &e), 0);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(
	    sqlite3_exec(
		raw,
		"INSERT INTO apps (name, owner, state, manifest, package_sha256, port, "
		"created) VALUES "
		"('web', 'alice', 'running', X'7b7d', zeroblob(32), 40001, 0),"
		"('api', 'alice', 'awaiting-provisioning', X'7b7d', zeroblob(32), 40002, 0),"
		"('new', 'alice', 'starting', X'7b7d', zeroblob(32), 40003, 0),"
		"('dead', 'alice', 'failed', X'7b7d', zeroblob(32), 40004, 0),"
		"('off', 'alice', 'stopped', X'7b7d', zeroblob(32), 40005, 0),"
		"('none', 'alice', 'running', X'7b7d', zeroblob(32), NULL, 0)",
		NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(raw);
	struct seen v = {.stop_at = 8};
	assert_int_equal(ck_store_app_routes(st, collect, &v, &e), 0);
	assert_int_equal(v.n, 3);
	assert_string_equal(v.names[0], "api");
	assert_int_equal(v.ports[0], 40002);
	assert_string_equal(v.names[1], "new");
	assert_string_equal(v.names[2], "web");
	assert_int_equal(v.ports[2], 40001);
	struct seen w = {.stop_at = 1};
	assert_int_equal(ck_store_app_routes(st, collect, &w, &e), 1);
	assert_int_equal(w.n, 1);
	ck_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_migrate),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_token_limit),
	    cmocka_unit_test(test_app_routes),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
