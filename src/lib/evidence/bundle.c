/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/quote.h"

bool ck_bundle_sniff(const uint8_t *buf, size_t len)
{
	size_t i = 0;
	while (i < len && (buf[i] == ' ' || buf[i] == '\n' || buf[i] == '\r' || buf[i] == '\t'))
		i++;
	return i < len && buf[i] == '{' && memmem(buf, len, "\"cloak_evidence\"", 16) != NULL;
}

void ck_bundle_free(struct ck_bundle *b)
{
	if (!b)
		return;
	free(b->quote);
	free(b->claims);
	ck_collateral_free(&b->collateral);
	memset(b, 0, sizeof(*b));
}

static int b64_field(json_t *o, const char *key, bool required, uint8_t **out, size_t *len,
		     size_t max, struct ck_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is missing", key);
		return 0;
	}
	if (!json_is_string(v))
		return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is not a string", key);
	if (json_string_length(v) > max / 3 * 4 + 4)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle: \"%s\" is too large", key);
	return ck_b64_decode_alloc(json_string_value(v), json_string_length(v), out, len, key, err);
}

int ck_bundle_parse(const char *text, size_t len, struct ck_bundle *b, struct ck_err *err)
{
	memset(b, 0, sizeof(*b));
	if (len > CK_BUNDLE_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle is %zu bytes, over the limit",
			       len);
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
	if (!o)
		return ck_errf(err, CK_E_JSON, "evidence bundle: invalid JSON at line %d: %s",
			       je.line, je.text);
	v = json_object_get(o, "cloak_evidence");
	if (!json_is_integer(v) || json_integer_value(v) != CK_BUNDLE_VERSION) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"cloak_evidence\" is not version %d",
			CK_BUNDLE_VERSION);
		goto fail;
	}
	v = json_object_get(o, "tee");
	if (!json_is_string(v) || strcmp(json_string_value(v), "sgx") != 0) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"tee\" is not \"sgx\"");
		goto fail;
	}
	if (b64_field(o, "quote", true, &b->quote, &b->quote_len, CK_QUOTE_MAX_LEN, err) < 0 ||
	    b64_field(o, "claims", false, &b->claims, &b->claims_len, CK_BUNDLE_MAX_LEN, err) < 0)
		goto fail;
	if ((v = json_object_get(o, "collateral"))) {
		if (ck_collateral_from_json(v, &b->collateral, err) < 0)
			goto fail;
		b->has_collateral = true;
	}
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	ck_bundle_free(b);
	return -1;
}

char *ck_bundle_dump(const struct ck_bundle *b)
{
	json_t *o = json_object();
	char *q = ck_b64_encode(b->quote, b->quote_len), *out = NULL;
	if (!o || !q)
		goto done;
	json_object_set_new(o, "cloak_evidence", json_integer(CK_BUNDLE_VERSION));
	json_object_set_new(o, "tee", json_string("sgx"));
	json_object_set_new(o, "quote", json_string(q));
	if (b->has_collateral)
		json_object_set_new(o, "collateral", ck_collateral_to_json(&b->collateral));
	if (b->claims) {
		char *c = ck_b64_encode(b->claims, b->claims_len);
		if (!c)
			goto done;
		json_object_set_new(o, "claims", json_string(c));
		free(c);
	}
	out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
done:
	free(q);
	json_decref(o);
	return out;
}
