/* SPDX-License-Identifier: Apache-2.0 */
/* The owner API's routes (api.h): "METHOD TARGET" as any bytes; a route is found only for a
 * path of the documented shapes, with an app name that is a DNS label, and deciding twice
 * decides the same. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sp = memchr(data, ' ', size);
	struct ck_api_req r, again;
	int st, st2;
	const char *allow;
	if (!sp)
		return 0;
	size_t ml = (size_t)(sp - (const char *)data);
	const char *t = sp + 1;
	size_t tl = size - ml - 1;
	int a = ck_api_route((const char *)data, ml, t, tl, &r, &st, &allow, NULL);
	int b = ck_api_route((const char *)data, ml, t, tl, &again, &st2, &allow, NULL);
	if (a != b || (a == 0 && memcmp(&r, &again, sizeof(r))) || (a < 0 && st != st2))
		abort();
	if (a == 0) {
		size_t n = strlen(r.app);
		if (r.route < CK_API_APPS_LIST || r.route > CK_API_METRICS ||
		    strspn(r.app, "abcdefghijklmnopqrstuvwxyz0123456789-") != n || n > 63 ||
		    !memchr(t, '/', tl))
			abort();
	} else if (st != 400 && st != 404 && st != 405) {
		abort();
	}
	return 0;
}
