/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>

#include "cloak/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_bundle b;
	if (ck_bundle_sniff(data, size) && ck_bundle_parse((const char *)data, size, &b, NULL) == 0) {
		char *s = ck_bundle_dump(&b);
		free(s);
		ck_bundle_free(&b);
	}
	return 0;
}
