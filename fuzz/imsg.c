/* SPDX-License-Identifier: Apache-2.0 */
/* The message layer (imsg.h): any datagram gives a verdict; a parsed one's payload lies within
 * it; a typed payload decoded from it (route, router counters, api request, reply, body count)
 * re-encodes to the same bytes. */
#include <stdlib.h>
#include <string.h>

#include "cloak/imsg.h"

static void same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
	if (an != bn || memcmp(a, b, an))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t again[CK_IMSG_MAX_PAYLOAD];
	struct ck_imsg m;
	struct ck_route_msg r;
	struct ck_router_stats st;
	struct ck_api_msg_req q;
	struct ck_api_msg_reply rep;
	uint64_t n;
	bool ok;
	if (ck_imsg_parse(data, size, -1, &m, NULL) < 0)
		return 0;
	if (m.payload != data + CK_IMSG_HEADER || m.len != size - CK_IMSG_HEADER || m.fd != -1)
		abort();
	if (ck_route_msg_decode(&m, &r, NULL) == 0)
		same(again, ck_route_msg_encode(&r, again, sizeof(again)), m.payload, m.len);
	if (ck_stats_msg_decode(&m, &st, NULL) == 0)
		same(again, ck_stats_msg_encode(&st, again), m.payload, m.len);
	if (ck_api_req_decode(&m, &q, NULL) == 0)
		same(again, ck_api_req_encode(&q, again, sizeof(again)), m.payload, m.len);
	if (ck_api_reply_decode(&m, &rep, NULL) == 0) {
		if (rep.body < m.payload || rep.body + rep.body_len != m.payload + m.len)
			abort();
		same(again, ck_api_reply_encode(&rep, again, sizeof(again)), m.payload, m.len);
	}
	if (ck_api_count_decode(&m, &n, &ok, NULL) == 0) {
		uint8_t b[9];
		same(b, ck_api_count_encode(n, ok, b), m.payload, m.len);
	}
	return 0;
}
