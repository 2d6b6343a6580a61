/* SPDX-License-Identifier: Apache-2.0 */
/* cloak.toml's TOML (toml.h) and its keys (appconfig.h): any bytes give a verdict, never a
 * crash or a leak; a document accepted is a JSON object that jansson can write out; a config
 * accepted is one whose TOML was. */
#include <stdint.h>
#include <stdlib.h>

#include "cloak/appconfig.h"
#include "cloak/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;
	struct ck_appconfig c;
	int app = ck_appconfig_parse((const char *)data, size, &c, NULL);
	if (app == 0)
		ck_appconfig_free(&c);
	if (ck_toml_parse((const char *)data, size, &j, NULL) < 0) {
		if (app == 0)
			abort();
		return 0;
	}
	char *t = json_is_object(j) ? json_dumps(j, JSON_COMPACT) : NULL;
	if (!t)
		abort();
	free(t);
	json_decref(j);
	return 0;
}
