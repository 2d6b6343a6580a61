/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cloak/err.h"

int ck_errf(struct ck_err *e, const char *code, const char *fmt, ...)
{
	if (!e)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	e->code = code;
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int ck_err_wrap(struct ck_err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char prefix[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	/* e->msg = prefix ": " old, truncated to fit. */
	size_t pl = strlen(prefix), ol = strnlen(e->msg, sizeof(e->msg) - 1);
	if (pl + 2 >= sizeof(e->msg))
		pl = sizeof(e->msg) - 3;
	if (pl + 2 + ol >= sizeof(e->msg))
		ol = sizeof(e->msg) - 1 - pl - 2;
	memmove(e->msg + pl + 2, e->msg, ol);
	memcpy(e->msg, prefix, pl);
	memcpy(e->msg + pl, ": ", 2);
	e->msg[pl + 2 + ol] = '\0';
	return -1;
}
