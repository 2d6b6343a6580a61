/* SPDX-License-Identifier: Apache-2.0 */
/* api.c - the owner API's routes; the contract is in include/cloak/api.h. */
#include <stdio.h>
#include <string.h>

#include "cloak/api.h"
#include "cloak/dns.h"

#define REFUSE(st, ...) (*status = (st), ck_errf(err, CK_E_ROUTE, __VA_ARGS__))
#define MAX_SEGMENTS	4

static bool is(const char *p, size_t n, const char *s)
{
	return strlen(s) == n && memcmp(p, s, n) == 0;
}

/* The method against what the route allows. */
static int method_for(const char *m, size_t ml, const char *allow_list, const char *const *names,
		      const enum ck_api_route *routes, size_t n, struct ck_api_req *r, int *status,
		      const char **allow, struct ck_err *err)
{
	for (size_t i = 0; i < n; i++)
		if (is(m, ml, names[i])) {
			r->route = routes[i];
			return 0;
		}
	*allow = allow_list;
	return REFUSE(405, "this path takes %s", allow_list);
}

int ck_api_route(const char *method, size_t mlen, const char *target, size_t tlen,
		 struct ck_api_req *r, int *status, const char **allow, struct ck_err *err)
{
	const char *seg[MAX_SEGMENTS + 1], *q = memchr(target, '?', tlen);
	size_t sl[MAX_SEGMENTS + 1], ns = 0, plen = q ? (size_t)(q - target) : tlen;
	memset(r, 0, sizeof(*r));
	*allow = NULL;
	if (plen < 2 || target[0] != '/' || target[plen - 1] == '/' || memchr(target, '%', tlen) ||
	    memchr(target, '#', tlen))
		return REFUSE(404, "no such path");
	for (size_t i = 1; i <= plen && ns <= MAX_SEGMENTS;) {
		size_t j = i;
		while (j < plen && target[j] != '/')
			j++;
		if (j == i || is(target + i, j - i, ".") || is(target + i, j - i, ".."))
			return REFUSE(404, "no such path");
		seg[ns] = target + i;
		sl[ns++] = j - i;
		i = j + 1;
	}
	if (ns > MAX_SEGMENTS || !is(seg[0], sl[0], "v1"))
		return REFUSE(404, "no such path");
	const char *qs = q ? q + 1 : NULL;
	size_t ql = q ? tlen - plen - 1 : 0;
	int ret;
	if (ns == 2 && is(seg[1], sl[1], "metrics")) {
		static const char *const m[] = {"GET"};
		static const enum ck_api_route rt[] = {CK_API_METRICS};
		ret = method_for(method, mlen, "GET", m, rt, 1, r, status, allow, err);
	} else if (ns == 2 && is(seg[1], sl[1], "apps")) {
		static const char *const m[] = {"GET", "POST"};
		static const enum ck_api_route rt[] = {CK_API_APPS_LIST, CK_API_APPS_CREATE};
		ret = method_for(method, mlen, "GET, POST", m, rt, 2, r, status, allow, err);
	} else if ((ns == 3 || ns == 4) && is(seg[1], sl[1], "apps")) {
		if (!ck_dns_label(seg[2], sl[2]))
			return REFUSE(400, "'%.*s' is not an app name",
				      (int)(sl[2] < 64 ? sl[2] : 64), seg[2]);
		if (ns == 3) {
			static const char *const m[] = {"GET", "DELETE"};
			static const enum ck_api_route rt[] = {CK_API_APP_GET, CK_API_APP_DELETE};
			ret = method_for(method, mlen, "GET, DELETE", m, rt, 2, r, status, allow,
					 err);
		} else if (is(seg[3], sl[3], "logs")) {
			static const char *const m[] = {"GET"};
			static const enum ck_api_route rt[] = {CK_API_APP_LOGS};
			ret = method_for(method, mlen, "GET", m, rt, 1, r, status, allow, err);
		} else if (is(seg[3], sl[3], "stop")) {
			static const char *const m[] = {"POST"};
			static const enum ck_api_route rt[] = {CK_API_APP_STOP};
			ret = method_for(method, mlen, "POST", m, rt, 1, r, status, allow, err);
		} else {
			return REFUSE(404, "no such path");
		}
		if (ret == 0)
			memcpy(r->app, seg[2], sl[2]);
	} else {
		return REFUSE(404, "no such path");
	}
	if (ret < 0) {
		memset(r, 0, sizeof(*r));
		return -1;
	}
	if (q && r->route == CK_API_APP_LOGS &&
	    (is(qs, ql, "follow=1") || is(qs, ql, "follow=0"))) {
		r->follow = qs[7] == '1';
	} else if (q) {
		memset(r, 0, sizeof(*r));
		return REFUSE(400, "a query this path does not take");
	}
	return 0;
}

const char *ck_api_route_name(enum ck_api_route r)
{
	static const char *const names[] = {"?",	  "apps.list", "apps.create", "app.get",
					    "app.delete", "app.logs",  "app.stop",    "metrics"};
	return r >= CK_API_APPS_LIST && r <= CK_API_METRICS ? names[r] : "?";
}
