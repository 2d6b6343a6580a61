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

static int commit_fails(void *arg, struct ck_err *err)
{
	int *called = arg;
	(*called)++;
	return ck_errf(err, CK_E_IO, "the files could not be moved");
}

static int commit_ok(void *arg, struct ck_err *err)
{
	(void)err;
	(*(int *)arg)++;
	return 0;
}

/* Apps: added with their files' commit inside the transaction (a failing commit adds nothing),
 * a taken name is a conflict, an unknown owner refused, updates written and read back, a row
 * with a state the store does not know fails the whole list, delete as add. */
static void test_apps(void **s)
{
	(void)s;
	struct ck_store *st;
	struct ck_err e;
	sqlite3 *raw;
	char tok[CK_TOKEN_STR_LEN + 1];
	struct ck_app_rec *l, a = {.name = "web",
				   .owner = "alice",
				   .state = CK_APP_STARTING,
				   .mode = "zero-trust",
				   .created = 7};
	size_t n;
	int called = 0;
	const char *db = tu_path("apps.db");
	memset(a.package_sha256, 0xab, 32);
	assert_int_equal(ck_store_open(db, &st, &e), 0);
	assert_int_equal(ck_store_token_create(st, "alice", false, 1, tok, &e), 0);
	assert_int_equal(ck_store_app_add(st, &a, "{}", 2, commit_fails, &called, &e), -1);
	assert_string_equal(e.code, CK_E_IO);
	assert_int_equal(called, 1);
	assert_int_equal(ck_store_app_list(st, &l, &n, &e), 0);
	assert_int_equal(n, 0);
	free(l);
	assert_int_equal(ck_store_app_add(st, &a, "{}", 2, commit_ok, &called, &e), 0);
	assert_int_equal(ck_store_app_add(st, &a, "{}", 2, commit_ok, &called, &e), -1);
	assert_string_equal(e.code, CK_E_CONFLICT);
	assert_non_null(strstr(e.msg, "'web'"));
	assert_int_equal(called, 2); /* the conflict never reached the files */
	struct ck_app_rec b = a;
	strcpy(b.name, "other");
	strcpy(b.owner, "mallory");
	assert_int_equal(ck_store_app_add(st, &b, "{}", 2, NULL, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "'mallory'"));
	a.state = CK_APP_AWAITING;
	a.pid = 4242;
	a.proc_start = 123456789012ULL;
	a.port = 40001;
	a.restarts = 3;
	strcpy(a.reason, "the runtime exited (signal 9)");
	a.started = 99;
	assert_int_equal(ck_store_app_update(st, &a, &e), 0);
	assert_int_equal(ck_store_app_list(st, &l, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(&l[0], &a, sizeof(a));
	free(l);
	strcpy(b.name, "ghost");
	assert_int_equal(ck_store_app_update(st, &b, &e), -1);
	assert_string_equal(e.code, CK_E_NOT_FOUND);
	assert_int_equal(sqlite3_open(db, &raw), SQLITE_OK);
	assert_int_equal(sqlite3_exec(raw, "UPDATE apps SET state = 'dancing'", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(ck_store_app_list(st, &l, &n, &e), -1);
	assert_string_equal(e.code, CK_E_STORE);
	assert_null(l);
	assert_int_equal(sqlite3_exec(raw, "UPDATE apps SET state = 'running'", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(raw);
	assert_int_equal(ck_store_app_delete(st, "web", commit_fails, &called, &e), -1);
	assert_int_equal(ck_store_app_list(st, &l, &n, &e), 0);
	assert_int_equal(n, 1); /* the files stayed, so did the row */
	free(l);
	assert_int_equal(ck_store_app_delete(st, "web", NULL, NULL, &e), 0);
	assert_int_equal(ck_store_app_delete(st, "web", NULL, NULL, &e), -1);
	assert_string_equal(e.code, CK_E_NOT_FOUND);
	ck_store_close(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_open_and_migrate),
	    cmocka_unit_test(test_tokens),
	    cmocka_unit_test(test_token_limit),
	    cmocka_unit_test(test_apps),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
