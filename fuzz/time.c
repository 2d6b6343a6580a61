/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339: whatever parses formats to a string that parses to the same instant. */
#include <stdlib.h>
#include <string.h>

#include "cloak/timeutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ck_time_t t, t2;
	char buf[CK_TIME_STR_MAX];
	if (ck_time_parse((const char *)data, size, &t, NULL) < 0)
		return 0;
	ck_time_format(t, buf);
	if (t >= -62135596800LL && t <= 253402300799LL &&
	    (ck_time_parse(buf, strlen(buf), &t2, NULL) < 0 || t2 != t))
		abort();
	return 0;
}
