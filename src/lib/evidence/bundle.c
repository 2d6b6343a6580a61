/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/quote.h"
#include "internal.h"

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

static int b64_field(const struct ck_jdoc *d, const char *key, bool required, uint8_t **out,
		     size_t *len, size_t max, struct ck_err *err)
{
	long v = ck_json_get(d, 0, key);
	if (v < 0) {
		if (required)
			return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is missing", key);
		return 0;
	}
	const struct ck_jtok *t = &d->t[v];
	if (t->type != CK_JT_STRING || t->escaped)
		return ck_errf(err, CK_E_JSON, "evidence bundle: \"%s\" is not a base64 string",
			       key);
	if (t->end - t->start > max / 3 * 4 + 4)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle: \"%s\" is too large", key);
	return ck_b64_decode_alloc(d->text + t->start, t->end - t->start, out, len, key, err);
}

/* {"index": I, "size": N, "path": ["hex", ...]}: exactly these members, index < size, at most
 * CK_MERKLE_MAX_DEPTH hashes of 64 hex digits. */
static int proof_parse(const struct ck_jdoc *d, size_t o, struct ck_merkle_proof *p,
		       struct ck_err *err)
{
	long long index, size;
	long vi = ck_json_get(d, o, "index"), vs = ck_json_get(d, o, "size"),
	     vp = ck_json_get(d, o, "path");
	memset(p, 0, sizeof(*p));
	if (d->t[o].type != CK_JT_OBJECT || d->t[o].size != 3 || vi < 0 || vs < 0 || vp < 0 ||
	    ck_json_int(d, (size_t)vs, 1, CK_MERKLE_MAX_LEAVES, &size) < 0 ||
	    ck_json_int(d, (size_t)vi, 0, size - 1, &index) < 0 || d->t[vp].type != CK_JT_ARRAY ||
	    d->t[vp].size > CK_MERKLE_MAX_DEPTH)
		return ck_errf(err, CK_E_JSON,
			       "evidence bundle: \"nonce_proof\" is not {index, size, path} with "
			       "index < size <= %u and at most %d hashes",
			       CK_MERKLE_MAX_LEAVES, CK_MERKLE_MAX_DEPTH);
	p->index = (uint32_t)index;
	p->size = (uint32_t)size;
	size_t e = ck_json_child((size_t)vp);
	for (uint32_t k = 0; k < d->t[vp].size; k++, e = ck_json_next(d, e)) {
		const struct ck_jtok *t = &d->t[e];
		if (t->type != CK_JT_STRING || t->escaped ||
		    ck_hex_decode_exact(d->text + t->start, t->end - t->start, p->path[k], 32,
					"nonce_proof.path", err) < 0)
			return ck_errf(err, CK_E_JSON,
				       "evidence bundle: nonce_proof.path[%u] is not 64 hex digits",
				       k);
		p->len++;
	}
	return 0;
}

int ck_bundle_parse(const char *text, size_t len, struct ck_bundle *b, struct ck_err *err)
{
	struct ck_jdoc d;
	long long ver;
	long v;
	memset(b, 0, sizeof(*b));
	if (len > CK_BUNDLE_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "evidence bundle is %zu bytes, over the limit",
			       len);
	if (ck_json_parse(text, len, &d, err) < 0)
		return ck_err_wrap(err, "evidence bundle");
	if (d.t[0].type != CK_JT_OBJECT || (v = ck_json_get(&d, 0, "cloak_evidence")) < 0 ||
	    ck_json_int(&d, (size_t)v, CK_BUNDLE_VERSION, CK_BUNDLE_VERSION, &ver) < 0) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"cloak_evidence\" is not version %d",
			CK_BUNDLE_VERSION);
		goto fail;
	}
	if ((v = ck_json_get(&d, 0, "tee")) < 0 || !ck_json_str_eq(&d, (size_t)v, "sgx")) {
		ck_errf(err, CK_E_JSON, "evidence bundle: \"tee\" is not \"sgx\"");
		goto fail;
	}
	if (b64_field(&d, "quote", true, &b->quote, &b->quote_len, CK_QUOTE_MAX_LEN, err) < 0 ||
	    b64_field(&d, "claims", false, &b->claims, &b->claims_len, CK_BUNDLE_MAX_LEN, err) < 0)
		goto fail;
	if ((v = ck_json_get(&d, 0, "nonce_proof")) >= 0) {
		if (proof_parse(&d, (size_t)v, &b->nonce_proof, err) < 0)
			goto fail;
		b->has_nonce_proof = true;
	}
	if ((v = ck_json_get(&d, 0, "collateral")) >= 0) {
		if (ck_collateral_from_doc(&d, (size_t)v, &b->collateral, err) < 0)
			goto fail;
		b->has_collateral = true;
	}
	ck_json_free(&d);
	return 0;
fail:
	ck_json_free(&d);
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

char *ck_bundle_with_proof(const char *dump, size_t len, const struct ck_merkle_proof *p)
{
	/* ,"nonce_proof":{"index":4294967295,"size":4294967295,"path":[ "64 hex", ... ]}} */
	size_t cap = len + 96 + p->len * 67;
	char *out =
	    len > 2 && dump[len - 1] == '}' && p->len <= CK_MERKLE_MAX_DEPTH ? malloc(cap) : NULL;
	if (!out)
		return NULL;
	memcpy(out, dump, len - 1);
	size_t n = len - 1;
	n += (size_t)snprintf(out + n, cap - n,
			      ",\"nonce_proof\":{\"index\":%u,\"size\":%u,\"path\":[", p->index,
			      p->size);
	for (size_t k = 0; k < p->len; k++) {
		out[n++] = k ? ',' : '"';
		if (k)
			out[n++] = '"';
		ck_hex_encode(p->path[k], 32, out + n);
		n += 64;
		out[n++] = '"';
	}
	memcpy(out + n, "]}}", 4);
	return out;
}
