/* SPDX-License-Identifier: Apache-2.0 */
/* The ClientHello parser (sni.h): any bytes give a verdict without a crash or an over-read;
 * a name it returns is a lower-case DNS name; a prefix of accepted bytes needs more. */
#include <stdlib.h>
#include <string.h>

#include "cloak/sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[CK_SNI_NAME_MAX + 1], again[CK_SNI_NAME_MAX + 1];
	int r = ck_sni_parse(data, size, name, NULL);
	if (r <= 0)
		return 0;
	if ((size_t)r != strlen(name) ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789-.") != (size_t)r)
		abort();
	if (ck_sni_parse(data, size, again, NULL) != r || strcmp(name, again))
		abort();
	return 0;
}
