/* SPDX-License-Identifier: Apache-2.0 */
/*
 * timeutil.h - RFC 3339 timestamps, independent of the TZ environment.
 */
#ifndef CLOAK_TIMEUTIL_H
#define CLOAK_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

/* Seconds since the epoch, UTC. 64-bit on every supported platform. */
typedef int64_t ck_time_t;

#define CK_TIME_STR_MAX 48 /* "YYYY-MM-DDTHH:MM:SSZ" plus slack */

/* Parses "YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)" (upper-case T and Z, or lower-case,
 * as RFC 3339 allows). The fraction is dropped. Anything else fails with CK_E_ENCODING. */
int ck_time_parse(const char *s, size_t len, ck_time_t *out, struct ck_err *err);

/* Formats as "YYYY-MM-DDTHH:MM:SSZ" into `out` (capacity >= CK_TIME_STR_MAX). Returns out. */
char *ck_time_format(ck_time_t t, char out[CK_TIME_STR_MAX]);

/* Converts a civil UTC date to seconds since the epoch (proleptic Gregorian). */
ck_time_t ck_time_from_civil(int64_t y, int mon, int day, int h, int min, int sec);

/* The current time. */
ck_time_t ck_time_now(void);

#endif
