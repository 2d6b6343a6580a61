/* SPDX-License-Identifier: Apache-2.0 */
/* The tar profile reader, fed in pieces of varying size, then the link check. Whatever it
 * accepts, every header of, must re-encode identically (checked inside the reader). */
#include <string.h>

#include "tarfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_tar_reader r;
	ck_tar_reader_init(&r);
	size_t off = 0, step = size ? (size_t)(data[0] % 7) * 97 + 1 : 1;
	int ok = 0;
	while (off < size && ok == 0) {
		size_t k = size - off < step ? size - off : step;
		ok = ck_tar_reader_feed(&r, data + off, k, NULL);
		off += k;
	}
	if (ok == 0)
		ck_tar_reader_finish(&r, NULL);
	ck_tar_reader_free(&r);
	return 0;
}
