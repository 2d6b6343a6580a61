/* SPDX-License-Identifier: Apache-2.0 */
/* The app's output sealed to its owner (applog.h): records open in order with the owner's key;
 * a gap is counted; a reordered, replayed, tampered or foreign record, one before any epoch, and
 * a malformed line are refused and leave the reader as it was; the runtime's own lines pass as
 * they are; the key file round-trips and is never replaced. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cloak/applog.h"
#include "testutil.h"

struct lines {
	char l[8][CK_LOG_LINE_MAX];
	size_t n[8];
};

/* An epoch and three records ("one", "two", "three") into L. */
static void write_log(const uint8_t pub[32], struct lines *L)
{
	struct ck_log_writer w;
	struct ck_err e;
	static const char *const msgs[] = {"one\n", "two\n", "three\n"};
	assert_int_equal(ck_log_writer_new(&w, pub, L->l[0], &L->n[0], &e), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(ck_log_seal(&w, (const uint8_t *)msgs[i], strlen(msgs[i]),
					     L->l[i + 1], &L->n[i + 1], &e),
				 0);
	ck_log_writer_wipe(&w);
	for (int i = 0; i < 4; i++) {
		assert_true(L->n[i] > 0 && L->l[i][L->n[i] - 1] == '\n');
		L->n[i]--; /* the reader takes lines without their newline */
	}
}

static int open_line(struct ck_log_reader *r, const struct lines *L, int i, char *out,
		     uint64_t *missing, enum ck_log_kind *kind)
{
	uint8_t b[CK_LOG_CHUNK_MAX];
	size_t len;
	struct ck_err e;
	int rc = ck_log_open(r, L->l[i], L->n[i], b, &len, missing, kind, &e);
	if (rc == 0 && out) {
		memcpy(out, b, len);
		out[len] = 0;
	}
	if (rc < 0)
		assert_string_equal(e.code, CK_E_SEAL);
	return rc;
}

static void test_round_trip_and_gaps(void **s)
{
	(void)s;
	uint8_t priv[32], pub[32];
	struct ck_log_reader r;
	struct lines L;
	struct ck_err e;
	char out[CK_LOG_CHUNK_MAX + 1];
	uint64_t missing;
	enum ck_log_kind kind;
	assert_int_equal(ck_log_keygen(priv, pub, &e), 0);
	write_log(pub, &L);
	assert_null(strstr(L.l[3], "three"));
	ck_log_reader_init(&r, priv, pub);
	assert_int_equal(open_line(&r, &L, 1, out, &missing, &kind), -1); /* before any epoch */
	assert_int_equal(open_line(&r, &L, 0, out, &missing, &kind), 0);
	assert_int_equal(kind, CK_LOG_EPOCH);
	assert_int_equal(open_line(&r, &L, 1, out, &missing, &kind), 0);
	assert_int_equal(kind, CK_LOG_RECORD);
	assert_string_equal(out, "one\n");
	assert_int_equal(missing, 0);
	assert_int_equal(open_line(&r, &L, 1, out, &missing, &kind), -1); /* replayed */
	assert_int_equal(open_line(&r, &L, 3, out, &missing, &kind), 0);  /* "two" dropped */
	assert_string_equal(out, "three\n");
	assert_int_equal(missing, 1);
	assert_int_equal(open_line(&r, &L, 2, out, &missing, &kind), -1); /* reordered */
	const char *plain = "2026-12-01T00:00:00Z cloak-runtime: serving";
	uint8_t b[CK_LOG_CHUNK_MAX];
	size_t len;
	assert_int_equal(ck_log_open(&r, plain, strlen(plain), b, &len, &missing, &kind, &e), 0);
	assert_int_equal(kind, CK_LOG_OTHER);
	ck_log_reader_wipe(&r);
}

static void test_refused(void **s)
{
	(void)s;
	uint8_t priv[32], pub[32], priv2[32], pub2[32];
	struct ck_log_reader r;
	struct lines L, M;
	struct ck_err e;
	uint64_t missing;
	enum ck_log_kind kind;
	assert_int_equal(ck_log_keygen(priv, pub, &e), 0);
	assert_int_equal(ck_log_keygen(priv2, pub2, &e), 0);
	write_log(pub, &L);
	write_log(pub2, &M); /* another owner's */
	ck_log_reader_init(&r, priv, pub);
	assert_int_equal(open_line(&r, &L, 0, NULL, &missing, &kind), 0);
	assert_int_equal(open_line(&r, &M, 1, NULL, &missing, &kind), -1); /* foreign record */
	struct lines T = L;
	size_t last = T.n[1] - 3;
	T.l[1][last] = T.l[1][last] == 'A' ? 'B' : 'A'; /* a ciphertext byte changed */
	assert_int_equal(open_line(&r, &T, 1, NULL, &missing, &kind), -1);
	static const char *const bad[] = {
	    "cloak-log 1 ",
	    "cloak-log 1 01 AAAA",
	    "cloak-log 1 x AAAA",
	    "cloak-log 1 0",
	    "cloak-log 1 0 ****",
	    "cloak-log 1 epoch zz",
	    "cloak-log 1 99999999999999999999999 AAAA",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t b[CK_LOG_CHUNK_MAX];
		size_t len;
		if (ck_log_open(&r, bad[i], strlen(bad[i]), b, &len, &missing, &kind, &e) == 0)
			fail_msg("'%s' accepted", bad[i]);
	}
	/* none of it moved the reader: record 0 still opens, in order */
	char out[CK_LOG_CHUNK_MAX + 1];
	assert_int_equal(open_line(&r, &L, 1, out, &missing, &kind), 0);
	assert_string_equal(out, "one\n");
	assert_int_equal(missing, 0);
	ck_log_reader_wipe(&r);
	/* a chunk over the limit, or empty, is not sealed */
	struct ck_log_writer w;
	char line[CK_LOG_LINE_MAX];
	size_t n;
	static uint8_t big[CK_LOG_CHUNK_MAX + 1];
	assert_int_equal(ck_log_writer_new(&w, pub, line, &n, &e), 0);
	assert_int_equal(ck_log_seal(&w, big, sizeof(big), line, &n, &e), -1);
	assert_int_equal(ck_log_seal(&w, big, 0, line, &n, &e), -1);
	assert_int_equal(ck_log_seal(&w, big, CK_LOG_CHUNK_MAX, line, &n, &e), 0);
	assert_true(n <= CK_LOG_LINE_MAX);
	ck_log_writer_wipe(&w);
}

static void test_key_file(void **s)
{
	(void)s;
	uint8_t priv[32], pub[32], p2[32], q2[32];
	struct ck_err e;
	struct stat st;
	const char *path = tu_path("app.logkey");
	assert_int_equal(ck_log_keygen(priv, pub, &e), 0);
	assert_int_equal(ck_log_key_write(path, priv, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ck_log_key_load(path, p2, q2, &e), 0);
	assert_memory_equal(priv, p2, 32);
	assert_memory_equal(pub, q2, 32);
	assert_int_equal(ck_log_key_write(path, priv, &e), -1); /* never replaced */
	assert_non_null(strstr(e.msg, "never replaced"));
	tu_write(tu_path("bad.logkey"), "ed25519:00", 10, 0600);
	assert_int_equal(ck_log_key_load(tu_path("bad.logkey"), p2, q2, &e), -1);
	assert_string_equal(e.code, CK_E_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip_and_gaps),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_key_file),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
