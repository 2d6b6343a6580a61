/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/quote.h"
#include "evidence/internal.h"

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

static int b64_field(const struct jdoc *d, const char *key, bool required, uint8_t **out,
		     size_t *len, size_t max, struct ck_err *err)
{
	long v = json_get(d, 0, key);
	if (v < 0) {
		if (required)
			return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is missing", key);
		return 0;
	}
	const struct jtok *t = &d->t[v];
	if (t->type != JT_STRING || t->escaped)
		return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is not a base64 string", key);
	if (t->end - t->start > max / 3 * 4 + 4)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle: \"%s\" is too large", key);
	return ck_b64_decode_alloc(d->text + t->start, t->end - t->start, out, len, key, err);
}

int ck_bundle_parse(const char *text, size_t len, struct ck_bundle *b, struct ck_err *err)
{
	struct jdoc d;
	long long ver;
	long v;
	memset(b, 0, sizeof(*b));
	if (len > CK_BUNDLE_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle is %zu bytes, over the limit",
			       len);
	if (json_parse(text, len, &d, err) < 0)
		return ck_err_wrap(err, "evidence bundle");
	if (d.t[0].type != JT_OBJECT || (v = json_get(&d, 0, "cloak_evidence")) < 0 ||
	    json_int(&d, (size_t)v, CK_BUNDLE_VERSION, CK_BUNDLE_VERSION, &ver) < 0) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"cloak_evidence\" is not version %d",
			CK_BUNDLE_VERSION);
		goto fail;
	}
	if ((v = json_get(&d, 0, "tee")) < 0 || !json_str_eq(&d, (size_t)v, "sgx")) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"tee\" is not \"sgx\"");
		goto fail;
	}
	if (b64_field(&d, "quote", true, &b->quote, &b->quote_len, CK_QUOTE_MAX_LEN, err) < 0 ||
	    b64_field(&d, "claims", false, &b->claims, &b->claims_len, CK_BUNDLE_MAX_LEN, err) < 0)
		goto fail;
	if ((v = json_get(&d, 0, "collateral")) >= 0) {
		if (ck_collateral_from_doc(&d, (size_t)v, &b->collateral, err) < 0)
			goto fail;
		b->has_collateral = true;
	}
	json_free(&d);
	return 0;
fail:
	json_free(&d);
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
