/* SPDX-License-Identifier: Apache-2.0 */
/* The message layer (imsg.h): any datagram gives a verdict; a parsed one's payload lies within
 * it; a route decoded from it re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "cloak/imsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_imsg m;
	struct ck_route_msg r;
	uint8_t again[CK_SNI_NAME_MAX + 4];
	if (ck_imsg_parse(data, size, -1, &m, NULL) < 0)
		return 0;
	if (m.payload != data + CK_IMSG_HEADER || m.len != size - CK_IMSG_HEADER || m.fd != -1)
		abort();
	if (ck_route_msg_decode(&m, &r, NULL) == 0) {
		size_t n = ck_route_msg_encode(&r, again, sizeof(again));
		if (n != m.len || memcmp(again, m.payload, n))
			abort();
	}
	return 0;
}
