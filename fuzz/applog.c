/* SPDX-License-Identifier: Apache-2.0 */
/* The app log's reader (applog.h): any line gives a verdict, a record never opens under a key
 * that did not seal it (the fuzzer cannot forge one), and a refused line leaves the reader as it
 * was. The first byte picks whether the reader is in an epoch of a fixed key. */
#include <stdlib.h>
#include <string.h>

#include "cloak/applog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t priv[32] = {1}, pub[32];
	static int ready;
	struct ck_log_reader r, before;
	uint8_t out[CK_LOG_CHUNK_MAX];
	size_t len;
	uint64_t missing;
	enum ck_log_kind kind;
	if (!ready) {
		struct ck_log_writer w;
		char line[CK_LOG_LINE_MAX];
		size_t n;
		/* pub from priv: the writer needs only a public key, so derive it by a keygen */
		if (ck_log_keygen(priv, pub, NULL) < 0 ||
		    ck_log_writer_new(&w, pub, line, &n, NULL))
			abort();
		ck_log_writer_wipe(&w);
		ready = 1;
	}
	if (size < 1)
		return 0;
	ck_log_reader_init(&r, priv, pub);
	if (data[0] & 1) {
		r.in_epoch = true;
		r.next = data[0] >> 1;
	}
	before = r;
	if (ck_log_open(&r, (const char *)data + 1, size - 1, out, &len, &missing, &kind, NULL) <
	    0) {
		if (memcmp(&r, &before, sizeof(r)))
			abort();
		return 0;
	}
	if (kind == CK_LOG_RECORD)
		abort(); /* a record opened that nobody sealed */
	return 0;
}
