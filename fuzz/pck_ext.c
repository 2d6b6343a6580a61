/* SPDX-License-Identifier: Apache-2.0 */
/* PCK SGX extension (DER). Whatever parses must re-encode and parse to the same value. */
#include <stdlib.h>
#include <string.h>

#include "cloak/pck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_pck_ext e, e2;
	uint8_t *der;
	size_t n;
	if (ck_pck_ext_parse(data, size, &e, NULL) < 0)
		return 0;
	if (ck_pck_ext_encode(&e, &der, &n, NULL) < 0)
		abort();
	if (ck_pck_ext_parse(der, n, &e2, NULL) < 0 || memcmp(&e, &e2, sizeof(e)) != 0)
		abort();
	free(der);
	return 0;
}
