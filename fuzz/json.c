/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The evidence-path JSON tokenizer, differentially against jansson: whatever we accept, jansson
 * (with duplicate keys refused) must accept too, with the same top-level shape and the same
 * decoded strings. We may refuse more (escaped keys, depth > 64), never less. One known
 * difference is jansson's own limit: it refuses numbers beyond 64-bit integers or doubles,
 * which RFC 8259 allows; our tokenizer accepts them as tokens and ck_json_int() refuses them where
 * a value is read.
 */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_jdoc d;
	if (ck_json_parse((const char *)data, size, &d, NULL) < 0)
		return 0;
	json_error_t je;
	json_t *j =
	    json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je);
	if (!j) {
		if ((strstr(je.text, "too big") && strstr(je.text, "integer")) ||
		    strstr(je.text, "real number overflow")) { /* "too big (negative) integer" */
			ck_json_free(&d);
			return 0;
		}
		abort(); /* we accepted what jansson refuses */
	}
	if ((d.t[0].type == CK_JT_OBJECT) != (json_is_object(j) != 0))
		abort();
	size_t n = json_is_object(j) ? json_object_size(j) : json_array_size(j);
	if (n != d.t[0].size)
		abort();
	if (d.t[0].type == CK_JT_OBJECT) {
		size_t k = 1;
		for (uint32_t m = 0; m < d.t[0].size; m++, k = d.t[k + 1].next) {
			char *key = ck_json_strdup(&d, k, NULL);
			json_t *v = json_object_get(j, key);
			if (!v)
				abort();
			if (d.t[k + 1].type == CK_JT_STRING) {
				size_t len;
				char *s = ck_json_strdup(&d, k + 1, &len);
				if (!json_is_string(v) || json_string_length(v) != len ||
				    memcmp(json_string_value(v), s, len) != 0)
					abort();
				free(s);
			}
			free(key);
		}
	}
	json_decref(j);
	ck_json_free(&d);
	return 0;
}
