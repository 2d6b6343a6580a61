/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTP/1.1 parser: the input as a request and as a response head, then what follows the
 * head as a chunked body fed in pieces. Invariants: a parsed head's length lies within the
 * input; the decoder never hands out bytes outside its input. */
#include <stdlib.h>

#include "cloak/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_http_head h;
	int st;
	long n = ck_http_parse_request((const char *)data, size, &h, &st, NULL);
	if (n > (long)size)
		abort();
	ck_http_parse_response((const char *)data, size, false, &h, NULL);
	size_t off = n > 0 ? (size_t)n : 0, step = size ? (size_t)data[0] % 17 + 1 : 1;
	struct ck_http_chunked c = {0};
	while (off < size && !c.done) {
		size_t k = size - off < step ? size - off : step, used;
		const uint8_t *d;
		size_t dl;
		if (ck_http_chunked_feed(&c, data + off, k, &used, &d, &dl, NULL) < 0)
			break;
		if (used > k || (dl && (d < data + off || d + dl > data + off + k)))
			abort();
		off += used;
	}
	return 0;
}
