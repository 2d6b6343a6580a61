/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's request router: the first byte splits the input into a method and a target.
 * Invariants: an app route never lies under the reserved prefix; a nonce is within its limit;
 * a refusal always names a 4xx status. Then the same bytes offered to a fresh provisioning gate,
 * which must refuse them without accepting anything. */
#include <stdlib.h>
#include <string.h>

#include "cloak/gate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = {1}, hash[32] = {2}, priv[32] = {3};
	if (size == 0)
		return 0;
	size_t ml = data[0] % 8, rest = size - 1;
	if (ml > rest)
		ml = rest;
	const char *m = (const char *)data + 1, *t = m + ml;
	size_t tl = rest - ml;
	struct ck_route r;
	int st;
	static const char pre[] = CK_ROUTE_PREFIX;
	if (ck_route_classify(m, ml, t, tl, &r, &st, NULL) == 0) {
		if (r.kind == CK_ROUTE_APP && tl >= sizeof(pre) - 1 &&
		    memcmp(t, pre, sizeof(pre) - 1) == 0)
			abort();
		if (r.nonce_len > CK_NONCE_MAX)
			abort();
	} else if (st < 400 || st > 499) {
		abort();
	}
	struct ck_gate g;
	ck_gate_init(&g, pub, hash, hash, priv, pub);
	if (ck_gate_provision(&g, data, size, &st, NULL) == 0 || g.state != CK_GATE_OPEN)
		abort(); /* nothing fuzzed carries a signature by an all-zero-ish key */
	ck_gate_wipe(&g);
	return 0;
}
