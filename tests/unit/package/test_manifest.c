/* SPDX-License-Identifier: Apache-2.0 */
/* Deploy manifests (canonical JSON), owner keys (Ed25519), .cloakignore rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cloak/manifest.h"
#include "cloak/owner.h"
#include "ignore.h"
#include "testutil.h"

static struct ck_manifest sample(void)
{
	struct ck_manifest m = {0};
	strcpy(m.name, "shop");
	memset(m.fingerprint, 0xab, 32);
	memset(m.package_sha256, 0xcd, 32);
	m.mode = CK_MODE_ZERO_TRUST;
	memset(m.owner_key, 0x11, 32);
	m.expires = tu_time("2027-01-01T00:00:00Z");
	strcpy(m.run, "./server --port $PORT");
	strcpy(m.health, "/healthz");
	return m;
}

static void test_round_trip(void **s)
{
	(void)s;
	struct ck_manifest m = sample(), m2;
	char *text;
	size_t n;
	uint8_t h[32], h2[32];
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, NULL), 0);
	assert_int_equal(ck_manifest_parse(text, n, &m2, h2, NULL), 0);
	assert_memory_equal(h, h2, 32);
	assert_string_equal(m2.run, m.run);
	assert_int_equal(m2.mode, m.mode);
	/* keys are sorted, nothing else is there */
	assert_true(strncmp(text, "{\"cloak_manifest\":1,\"expires\":", 30) == 0);
	/* a trailing newline is tolerated and not hashed */
	char *nl = malloc(n + 2);
	memcpy(nl, text, n);
	nl[n] = '\n';
	assert_int_equal(ck_manifest_parse(nl, n + 1, &m2, h2, NULL), 0);
	assert_memory_equal(h, h2, 32);
	free(nl);
	/* with a policy and the owner-cert mode */
	m.mode = CK_MODE_OWNER_CERT;
	m.has_owner_cert = true;
	strcpy(m.domain, "shop.example.com");
	m.policy_json = strdup("{\"accepted_tcb_statuses\":[\"UpToDate\"],\"allow_debug\":false}");
	char *t2;
	assert_int_equal(ck_manifest_encode(&m, &t2, &n, h2, NULL), 0);
	assert_memory_not_equal(h, h2, 32);
	struct ck_manifest m3;
	assert_int_equal(ck_manifest_parse(t2, n, &m3, h, NULL), 0);
	assert_non_null(m3.policy_json);
	ck_manifest_free(&m3);
	/* with a log key: in the text, and read back */
	m.has_log_key = true;
	memset(m.log_key, 0x5a, 32);
	char *t3;
	assert_int_equal(ck_manifest_encode(&m, &t3, &n, h2, NULL), 0);
	assert_non_null(strstr(t3, "\"log_key\":\"x25519:5a5a"));
	assert_int_equal(ck_manifest_parse(t3, n, &m3, h, NULL), 0);
	assert_true(m3.has_log_key);
	assert_memory_equal(m3.log_key, m.log_key, 32);
	ck_manifest_free(&m3);
	/* a log key that is not x25519:<64 hex>: refused, named */
	char *at = strstr(t3, "x25519:");
	memcpy(at, "ed25519", 7);
	assert_int_equal(ck_manifest_parse(t3, n, &m3, h, NULL), -1);
	memcpy(at, "x25519:", 7);
	at[7] = 'G';
	struct ck_err e;
	assert_int_equal(ck_manifest_parse(t3, n, &m3, h, &e), -1);
	assert_string_equal(e.code, CK_E_MANIFEST);
	ck_manifest_free(&m3);
	free(t3);
	ck_manifest_free(&m);
	free(t2);
	free(text);
}

static void test_refused(void **s)
{
	(void)s;
	struct ck_manifest m = sample(), out;
	struct ck_err e;
	char *text;
	size_t n;
	uint8_t h[32];
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, NULL), 0);
	/* not canonical: a space, reordered keys */
	char *sp = malloc(n + 2);
	sp[0] = ' ';
	memcpy(sp + 1, text, n);
	assert_int_equal(ck_manifest_parse(sp, n + 1, &out, h, &e), -1);
	assert_non_null(strstr(e.msg, "canonical"));
	free(sp);
	const char *bad[] = {
	    "{\"cloak_manifest\":2}",
	    "{\"cloak_manifest\":1,\"extra\":1}",
	    "[1]",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ck_manifest_parse(bad[i], strlen(bad[i]), &out, h, &e), -1);
		assert_string_equal(e.code, CK_E_MANIFEST);
	}
	free(text);
	/* field rules, each naming the bad value */
	m = sample();
	strcpy(m.name, "Shop!");
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, &e), -1);
	assert_non_null(strstr(e.msg, "Shop!"));
	m = sample();
	m.mode = CK_MODE_OWNER_CERT; /* without the certificate hash */
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, &e), -1);
	m = sample();
	strcpy(m.health, "healthz");
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, &e), -1);
	assert_non_null(strstr(e.msg, "healthz"));
	m = sample();
	strcpy(m.domain, "-bad-.example");
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, &e), -1);
	m = sample();
	m.policy_json = strdup("{\"alow_debug\":true}");
	assert_int_equal(ck_manifest_encode(&m, &text, &n, h, &e), -1);
	assert_non_null(strstr(e.msg, "alow_debug"));
	ck_manifest_free(&m);
}

static void test_owner_key(void **s)
{
	(void)s;
	char *dir = tu_tmpname("owner"), path[4200];
	snprintf(path, sizeof(path), "%s/sub/owner.key", dir);
	struct ck_owner_key *k, *k2;
	bool created;
	struct ck_err e;
	assert_int_equal(ck_owner_key_load(path, false, &k, &created, &e), -1);
	assert_int_equal(ck_owner_key_load(path, true, &k, &created, &e), 0);
	assert_true(created);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ck_owner_key_load(path, true, &k2, &created, &e), 0);
	assert_false(created);
	uint8_t p1[32], p2[32], sig[64];
	ck_owner_key_public(k, p1);
	ck_owner_key_public(k2, p2);
	assert_memory_equal(p1, p2, 32);
	assert_int_equal(ck_owner_sign(k, (const uint8_t *)"provision", 9, sig, NULL), 0);
	assert_true(ck_owner_verify(p1, (const uint8_t *)"provision", 9, sig));
	assert_false(ck_owner_verify(p1, (const uint8_t *)"provisioN", 9, sig));
	sig[5] ^= 1;
	assert_false(ck_owner_verify(p1, (const uint8_t *)"provision", 9, sig));
	char str[CK_OWNER_PUB_STR_LEN + 1];
	ck_owner_pub_format(p1, str);
	assert_int_equal(ck_owner_pub_parse(str, strlen(str), p2, NULL), 0);
	assert_memory_equal(p1, p2, 32);
	assert_int_equal(ck_owner_pub_parse("rsa:00", 6, p2, NULL), -1);
	ck_owner_key_free(k);
	ck_owner_key_free(k2);
	chmod(path, 0644);
	assert_int_equal(ck_owner_key_load(path, true, &k, &created, &e), -1);
	assert_non_null(strstr(e.msg, "chmod 600"));
	tu_rmtree(dir);
}

static void test_ignore(void **s)
{
	(void)s;
	const char *rules = "# comment\n"
			    "\n"
			    "*.log\n"
			    "!keep.log\n"
			    "build/\n"
			    "/top.txt\n"
			    "docs/**/*.tmp\n"
			    "**/cache\n"
			    "a?c\n"
			    "[xy]z\n"
			    "\\#literal\n";
	struct ck_ignore ig;
	assert_int_equal(ck_ignore_parse(rules, strlen(rules), &ig, NULL), 0);
	struct {
		const char *path;
		bool dir, excluded;
	} cases[] = {
	    {"a.log", false, true},	  {"deep/b.log", false, true},
	    {"keep.log", false, false},	  {"build", true, true},
	    {"build", false, false},	  {"sub/build", true, true},
	    {"top.txt", false, true},	  {"sub/top.txt", false, false},
	    {"docs/x.tmp", false, true},  {"docs/a/b/x.tmp", false, true},
	    {"x.tmp", false, false},	  {"cache", true, true},
	    {"a/b/cache", false, true},	  {"abc", false, true},
	    {"abbc", false, false},	  {"xz", false, true},
	    {"zz", false, false},	  {"#literal", false, true},
	    {"src/main.c", false, false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (ck_ignore_match(&ig, cases[i].path, cases[i].dir) != cases[i].excluded)
			fail_msg("'%s' (%s): expected %s", cases[i].path,
				 cases[i].dir ? "dir" : "file",
				 cases[i].excluded ? "excluded" : "kept");
	ck_ignore_free(&ig);
	/* a pathological pattern cannot run away */
	const char *evil = "*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b\n";
	assert_int_equal(ck_ignore_parse(evil, strlen(evil), &ig, NULL), 0);
	char name[200];
	memset(name, 'a', 199);
	name[199] = 0;
	assert_false(ck_ignore_match(&ig, name, false));
	ck_ignore_free(&ig);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_owner_key),
	    cmocka_unit_test(test_ignore),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
