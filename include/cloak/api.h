/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api.h - the owner API's routes (DESIGN §8), decided from a request line that the strict HTTP
 * parser (http.h) has already accepted:
 *
 *   GET    /v1/apps                      the caller's apps
 *   POST   /v1/apps                      deploy (package and manifest in the body)
 *   GET    /v1/apps/NAME                 one app
 *   DELETE /v1/apps/NAME                 remove it
 *   GET    /v1/apps/NAME/logs[?follow=1] its runtime's log records (ciphertext for app output)
 *   POST   /v1/apps/NAME/stop            stop it
 *   GET    /v1/metrics                   Prometheus text
 *
 * NAME is an app name (a DNS label: 1-63 of a-z, 0-9, '-', not starting or ending with '-').
 * Strict: no percent-escapes, no empty, dot or duplicate segments, no trailing slash, no query
 * but logs' "follow=1" or "follow=0"; a path that names no route is 404, a route asked with
 * another method 405 (with the methods it allows), a bad name or query 400. Errors leave `r`
 * zeroed. Answers are JSON, errors {"error": CODE, "message": TEXT}.
 */
#ifndef CLOAK_API_H
#define CLOAK_API_H

#include <stdbool.h>
#include <stddef.h>

#include "cloak/dns.h"
#include "cloak/err.h"

#define CK_API_NAME_MAX CK_DNS_LABEL_MAX /* an app name: a DNS label (dns.h) */

enum ck_api_route {
	CK_API_APPS_LIST = 1,
	CK_API_APPS_CREATE,
	CK_API_APP_GET,
	CK_API_APP_DELETE,
	CK_API_APP_LOGS,
	CK_API_APP_STOP,
	CK_API_METRICS,
};

struct ck_api_req {
	enum ck_api_route route;
	char app[CK_API_NAME_MAX + 1]; /* "" for the routes without one */
	bool follow;		       /* logs: keep the answer open for new records */
};

/* The route of `method target`. 0, or -1 with *status (400, 404 or 405), CK_E_ROUTE, and for
 * 405 *allow (e.g. "GET, POST"). */
int ck_api_route(const char *method, size_t mlen, const char *target, size_t tlen,
		 struct ck_api_req *r, int *status, const char **allow, struct ck_err *err);

/* The route's name, for logs and metrics ("apps.list", ...). */
const char *ck_api_route_name(enum ck_api_route r);

#endif
