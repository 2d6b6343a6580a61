/* SPDX-License-Identifier: Apache-2.0 */
/* The RA-TLS evidence extension payload (CBOR tag 60000 [quote, claims]), then what it holds:
 * the claims and the quote. */
#include "cloak/claims.h"
#include "cloak/quote.h"
#include "cloak/ratls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *q, *c;
	size_t qn, cn;
	struct ck_claims claims;
	struct ck_quote quote;
	if (ck_ratls_parse_payload(data, size, &q, &qn, &c, &cn) < 0)
		return 0;
	ck_claims_parse(c, cn, &claims, NULL);
	ck_quote_parse(q, qn, &quote, NULL);
	return 0;
}
