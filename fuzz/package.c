/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The package container (header, chunk framing, authentication) and, behind it, the tar
 * reader: inputs are whole package files sealed under a fixed key, so that mutations which keep
 * the tags valid are rare; fuzz/tar.c drives the tar reader directly.
 */
#include <string.h>

#include "cloak/package.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[CK_PKG_KEY_LEN] = {7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
						    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7};
	struct ck_unpack_result r;
	struct ck_pkg_header h;
	ck_pkg_header_parse(data, size, &h, NULL);
	ck_unpack_check_buf(data, size, key, &r, NULL);
	return 0;
}
