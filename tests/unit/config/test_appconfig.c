/* SPDX-License-Identifier: Apache-2.0 */
/* cloak.toml (appconfig.h): every key read and checked; each mistake refused naming the key
 * (and its value), nothing kept; a token in the file refused for what it is. */
#include <string.h>

#include "cloak/appconfig.h"
#include "testutil.h"

static const char *full = "name = \"shop\"\n"
			  "run = \"./server --port 8080\"\n"
			  "health = \"/healthz\"\n"
			  "expires = \"30d\"\n"
			  "secrets = \"secrets.env\"\n"
			  "[ssl]\n"
			  "domain = \"shop.example.com\"\n"
			  "certificate = \"cert.pem\"\n"
			  "private_key = \"key.pem\"\n"
			  "[policy]\n"
			  "accepted_tcb_statuses = [\"UpToDate\", \"SWHardeningNeeded\"]\n"
			  "allow_debug = false\n"
			  "[node]\n"
			  "url = \"https://node.example:9443\"\n"
			  "token_file = \"~/.config/cloak/token\"\n";

static void test_full(void **s)
{
	(void)s;
	struct ck_appconfig c;
	struct ck_err e;
	assert_int_equal(ck_appconfig_parse(full, strlen(full), &c, &e), 0);
	assert_string_equal(c.name, "shop");
	assert_string_equal(c.run, "./server --port 8080");
	assert_int_equal(c.expires_days, 30);
	assert_string_equal(c.secrets, "secrets.env");
	assert_true(c.has_ssl);
	assert_string_equal(c.ssl_domain, "shop.example.com");
	assert_non_null(strstr(c.policy_json, "SWHardeningNeeded"));
	assert_string_equal(c.node_url, "https://node.example:9443");
	assert_string_equal(c.token_file, "~/.config/cloak/token");
	ck_appconfig_free(&c);
	const char *least = "name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n";
	assert_int_equal(ck_appconfig_parse(least, strlen(least), &c, &e), 0);
	assert_false(c.has_ssl);
	assert_null(c.policy_json);
	assert_int_equal(c.expires_days, CK_APPCONFIG_DEFAULT_DAYS);
	ck_appconfig_free(&c);
	const char *at = "name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\nexpires = "
			 "\"2027-01-01T00:00:00Z\"\n";
	assert_int_equal(ck_appconfig_parse(at, strlen(at), &c, &e), 0);
	assert_int_equal(c.expires_days, 0);
	assert_true(c.expires > 0);
	ck_appconfig_free(&c);
}

static void test_refused(void **s)
{
	(void)s;
	static const struct {
		const char *doc, *msg;
	} bad[] = {
	    {"run = \"./a\"\nhealth = \"/\"\n", "'name' is required"},
	    {"name = \"Shop\"\nrun = \"./a\"\nhealth = \"/\"\n",
	     "'name' = 'Shop' is not an app name"},
	    {"name = 1\nrun = \"./a\"\nhealth = \"/\"\n", "'name' must be a string"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"healthz\"\n", "'health' = 'healthz'"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\nexpires = \"soon\"\n",
	     "'expires' = 'soon'"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\nexpires = \"9999d\"\n",
	     "at most 3650 days"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\nport = 8080\n", "unknown key 'port'"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n[ssl]\ndomain = \"a.example\"\n",
	     "'ssl.certificate' is required"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n[ssl]\ncert = \"x\"\n",
	     "unknown key 'ssl.cert'"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\nssl = \"yes\"\n",
	     "'ssl' must be a table"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n[policy]\nallow_debuq = true\n",
	     "allow_debuq"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n[node]\nurl = \"http://n:1\"\n",
	     "'node.url' = 'http://n:1' is not an https:// URL"},
	    {"name = \"a\"\nrun = \"./a\"\nhealth = \"/\"\n[node]\ntoken = \"abc\"\n",
	     "a token is a secret and never goes in cloak.toml"},
	    {"name = \"a\"\nname = \"b\"\n", "line 2, column 1: the key 'name' is defined twice"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_appconfig c;
		struct ck_err e;
		if (ck_appconfig_parse(bad[i].doc, strlen(bad[i].doc), &c, &e) == 0)
			fail_msg("%zu accepted", i);
		/* the policy's own checks say what is wrong with it, under its own code */
		assert_string_equal(e.code, strstr(bad[i].doc, "[policy]") ? CK_E_POLICY_FORMAT
									   : CK_E_CONFIG);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("%zu: '%s', not '%s'", i, e.msg, bad[i].msg);
		assert_null(c.policy_json); /* nothing kept */
		assert_string_equal(c.name, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
