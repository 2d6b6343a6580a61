/* SPDX-License-Identifier: Apache-2.0 */
/* The owner API's routes (api.h): every route with its method, and the refusals with their
 * statuses: unknown paths 404, other methods 405 with what is allowed, bad names and queries
 * 400, ambiguous paths (escapes, empty or dot segments, trailing slashes) refused. */
#include <string.h>

#include "cloak/api.h"
#include "testutil.h"

static int route(const char *m, const char *t, struct ck_api_req *r, int *st, const char **allow)
{
	return ck_api_route(m, strlen(m), t, strlen(t), r, st, allow, NULL);
}

static void test_routes(void **s)
{
	(void)s;
	struct {
		const char *m, *t;
		enum ck_api_route want;
		const char *app;
		bool follow;
	} good[] = {
	    {"GET", "/v1/apps", CK_API_APPS_LIST, "", false},
	    {"POST", "/v1/apps", CK_API_APPS_CREATE, "", false},
	    {"GET", "/v1/apps/shop", CK_API_APP_GET, "shop", false},
	    {"DELETE", "/v1/apps/shop-2", CK_API_APP_DELETE, "shop-2", false},
	    {"GET", "/v1/apps/shop/logs", CK_API_APP_LOGS, "shop", false},
	    {"GET", "/v1/apps/shop/logs?follow=1", CK_API_APP_LOGS, "shop", true},
	    {"GET", "/v1/apps/shop/logs?follow=0", CK_API_APP_LOGS, "shop", false},
	    {"POST", "/v1/apps/a/stop", CK_API_APP_STOP, "a", false},
	    {"GET", "/v1/metrics", CK_API_METRICS, "", false},
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct ck_api_req r;
		int st = 0;
		const char *allow;
		if (route(good[i].m, good[i].t, &r, &st, &allow) < 0)
			fail_msg("%s %s refused (%d)", good[i].m, good[i].t, st);
		assert_int_equal(r.route, good[i].want);
		assert_string_equal(r.app, good[i].app);
		assert_int_equal(r.follow, good[i].follow);
	}
	assert_string_equal(ck_api_route_name(CK_API_APP_LOGS), "app.logs");
}

static void test_refused(void **s)
{
	(void)s;
	struct {
		const char *m, *t;
		int status;
		const char *allow;
	} bad[] = {
	    {"GET", "/", 404, NULL},
	    {"GET", "/v2/apps", 404, NULL},
	    {"GET", "/v1/apps/", 404, NULL},
	    {"GET", "/v1//apps", 404, NULL},
	    {"GET", "/v1/./apps", 404, NULL},
	    {"GET", "/v1/apps/../metrics", 404, NULL},
	    {"GET", "/v1/apps/sh%6fp", 404, NULL},
	    {"GET", "/v1/apps/shop/secrets", 404, NULL},
	    {"GET", "/v1/apps/shop/logs/more", 404, NULL},
	    {"GET", "/v1/apps/Shop", 400, NULL},
	    {"GET", "/v1/apps/-shop", 400, NULL},
	    {"GET", "/v1/apps/shop_1", 400, NULL},
	    {"GET", "/v1/apps/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	     400, NULL},
	    {"GET", "/v1/apps/shop/logs?follow=yes", 400, NULL},
	    {"GET", "/v1/apps?x=1", 400, NULL},
	    {"PUT", "/v1/apps", 405, "GET, POST"},
	    {"POST", "/v1/apps/shop", 405, "GET, DELETE"},
	    {"GET", "/v1/apps/shop/stop", 405, "POST"},
	    {"DELETE", "/v1/metrics", 405, "GET"},
	    {"get", "/v1/metrics", 405, "GET"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ck_api_req r;
		int st = 0;
		const char *allow = NULL;
		if (route(bad[i].m, bad[i].t, &r, &st, &allow) == 0)
			fail_msg("%s %s accepted", bad[i].m, bad[i].t);
		if (st != bad[i].status)
			fail_msg("%s %s: %d, want %d", bad[i].m, bad[i].t, st, bad[i].status);
		if (bad[i].allow)
			assert_string_equal(allow, bad[i].allow);
		assert_int_equal(r.route, 0);
		assert_string_equal(r.app, "");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_routes),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
