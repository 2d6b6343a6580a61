/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cloak/timeutil.h"

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

ck_time_t ck_time_from_civil(int64_t y, int mon, int day, int h, int min, int sec)
{
	return days_from_civil(y, mon, day) * 86400 + h * 3600 + min * 60 + sec;
}

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int ck_time_parse(const char *s, size_t len, ck_time_t *out, struct ck_err *err)
{
	int y, mo, d, h, mi, se, oh = 0, om = 0, sign = 0;
	static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (len < 20 || len > 40)
		goto bad;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
	    s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
		goto bad;
	size_t i = 19;
	if (s[i] == '.') {
		size_t start = ++i;
		while (i < len && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start)
			goto bad;
	}
	if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
		i++;
	} else if (i + 6 == len && (s[i] == '+' || s[i] == '-')) {
		sign = s[i] == '-' ? -1 : 1;
		if (digits(s + i + 1, 2, &oh) || s[i + 3] != ':' || digits(s + i + 4, 2, &om) ||
		    oh > 23 || om > 59)
			goto bad;
		i += 6;
	} else {
		goto bad;
	}
	if (i != len)
		goto bad;
	if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 60)
		goto bad;
	if (d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
		goto bad;
	if (se == 60) /* leap second: count it as the next second's start, as POSIX does */
		se = 59;
	*out = ck_time_from_civil(y, mo, d, h, mi, se) - sign * (oh * 3600 + om * 60);
	return 0;
bad:
	return ck_errf(err, CK_E_ENCODING,
		       "not an RFC 3339 time (want YYYY-MM-DDTHH:MM:SSZ): '%.*s'",
		       (int)(len > 48 ? 48 : len), s);
}

char *ck_time_format(ck_time_t t, char out[CK_TIME_STR_MAX])
{
	int64_t days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
	int64_t rem = t - days * 86400;
	/* civil_from_days */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t y = yoe + era * 400;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	if (y < 0 || y > 9999) { /* outside RFC 3339: print a clamp, never a wrong date */
		snprintf(out, CK_TIME_STR_MAX, "%s", y < 0 ? "0000-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
		return out;
	}
	snprintf(out, CK_TIME_STR_MAX, "%04d-%02d-%02dT%02d:%02d:%02dZ", (int)y, (int)m, (int)d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
	return out;
}

ck_time_t ck_time_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (ck_time_t)ts.tv_sec;
}
