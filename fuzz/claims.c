/* SPDX-License-Identifier: Apache-2.0 */
/* CBOR claims: whatever parses re-encodes deterministically to something that parses to the
 * same known claims. */
#include <stdlib.h>
#include <string.h>

#include "cloak/claims.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_claims a, b;
	uint8_t *enc;
	size_t n;
	if (ck_claims_parse(data, size, &a, NULL) < 0)
		return 0;
	if (ck_claims_encode(&a, &enc, &n, NULL) < 0)
		abort();
	if (ck_claims_parse(enc, n, &b, NULL) < 0)
		abort();
	a.n_unknown = b.n_unknown = 0; /* unknown claims are not re-encoded */
	if (memcmp(&a, &b, sizeof(a)) != 0)
		abort();
	free(enc);
	return 0;
}
