/* SPDX-License-Identifier: Apache-2.0 */
/* Provisioning: the envelope and sealed-message parsers (signature and seal checks fail on
 * fuzzed input, after parsing), the payload parser that runs behind the signature, and the
 * owner's secrets-file parser. */
#include <stdlib.h>
#include <string.h>

#include "cloak/provision.h"
#include "provision_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t pub[32] = {1}, hash[32] = {2}, priv[32] = {3};
	struct ck_provision p;
	uint8_t *msg;
	size_t n;
	if (ck_provision_open((const char *)data, size, pub, hash, hash, &p, NULL) == 0)
		ck_provision_free(&p);
	if (ck_unseal(priv, pub, (const char *)data, size, &msg, &n, NULL) == 0)
		free(msg);
	memset(&p, 0, sizeof(p));
	ck_provision_parse_payload((const char *)data, size, &p, NULL);
	ck_provision_free(&p);
	memset(&p, 0, sizeof(p)); /* the owner's secrets file (cloak provision --secrets-file) */
	ck_secrets_parse((const char *)data, size, &p, NULL);
	ck_provision_free(&p);
	return 0;
}
