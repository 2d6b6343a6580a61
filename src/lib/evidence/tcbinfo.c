/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed views of the signed TCB Info and QE Identity texts (attestation-formats.md §B.5), on
 * the strict tokenizer (util/json.h). Known fields are type- and range-checked; unknown fields
 * are ignored (Intel adds fields).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/collateral.h"
#include "util/json.h"

struct jctx {
	const char *doc; /* "TCB Info" or "QE Identity", for messages */
	struct ck_jdoc *d;
	struct ck_err *err;
};

#define JFAIL(c, ...) ck_errf((c)->err, CK_E_COLLATERAL, __VA_ARGS__)

static long member(struct jctx *c, size_t obj, const char *key, uint8_t type)
{
	long v = ck_json_get(c->d, obj, key);
	if (v < 0 || c->d->t[v].type != type) {
		JFAIL(c, "%s: \"%s\" is missing or not a%s", c->doc, key,
		      type == CK_JT_STRING   ? " string"
		      : type == CK_JT_NUMBER ? "n integer"
		      : type == CK_JT_ARRAY  ? "n array"
					     : "n object");
		return -1;
	}
	return v;
}

static int j_int(struct jctx *c, size_t obj, const char *key, long long min, long long max,
		 long long *out)
{
	long v = member(c, obj, key, CK_JT_NUMBER);
	if (v < 0)
		return -1;
	if (ck_json_int(c->d, (size_t)v, min, max, out) < 0)
		return JFAIL(c, "%s: \"%s\" = %.24s is not an integer in %lld..%lld", c->doc, key,
			     c->d->text + c->d->t[v].start, min, max);
	return 0;
}

/* A string member without escapes, as (pointer, length) into the text. */
static int j_raw(struct jctx *c, size_t obj, const char *key, const char **s, size_t *n)
{
	long v = member(c, obj, key, CK_JT_STRING);
	if (v < 0)
		return -1;
	if (c->d->t[v].escaped)
		return JFAIL(c, "%s: \"%s\" has escapes", c->doc, key);
	*s = c->d->text + c->d->t[v].start;
	*n = c->d->t[v].end - c->d->t[v].start;
	return 0;
}

static int j_time(struct jctx *c, size_t obj, const char *key, ck_time_t *t)
{
	const char *s;
	size_t n;
	if (j_raw(c, obj, key, &s, &n) < 0)
		return -1;
	if (ck_time_parse(s, n, t, c->err) < 0) {
		if (c->err)
			c->err->code = CK_E_COLLATERAL;
		return ck_err_wrap(c->err, "%s \"%s\"", c->doc, key);
	}
	return 0;
}

static int j_hex(struct jctx *c, size_t obj, const char *key, uint8_t *out, size_t len)
{
	const char *s;
	size_t n;
	char what[64];
	if (j_raw(c, obj, key, &s, &n) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s \"%s\"", c->doc, key);
	if (ck_hex_decode_exact(s, n, out, len, what, c->err) < 0) {
		if (c->err)
			c->err->code = CK_E_COLLATERAL;
		return -1;
	}
	return 0;
}

static int j_status(struct jctx *c, size_t lv, enum ck_tcb_status *st)
{
	const char *s;
	size_t n;
	char name[64];
	if (j_raw(c, lv, "tcbStatus", &s, &n) < 0)
		return -1;
	snprintf(name, sizeof(name), "%.*s", (int)(n < 63 ? n : 63), s);
	*st = n < 63 ? ck_tcb_status_parse(name) : CK_TCB_INVALID;
	if (*st == CK_TCB_INVALID)
		return JFAIL(c, "%s: unknown tcbStatus \"%.40s\"", c->doc, name);
	return 0;
}

static int valid_advisory(const char *s, size_t n)
{
	if (n == 0 || n >= CK_ADVISORY_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

/* Appends the level's optional advisoryIDs to `adv`, recording where they went. */
static int j_advisories(struct jctx *c, size_t level, struct ck_advisories *adv, size_t *first,
			size_t *count)
{
	long arr = ck_json_get(c->d, level, "advisoryIDs");
	*first = adv->n;
	*count = 0;
	if (arr < 0)
		return 0;
	const struct ck_jtok *a = &c->d->t[arr];
	if (a->type != CK_JT_ARRAY || a->size > CK_MAX_ADVISORIES)
		return JFAIL(c, "%s: advisoryIDs is not an array of at most %d strings", c->doc,
			     CK_MAX_ADVISORIES);
	if (a->size == 0)
		return 0;
	void *nb = realloc(adv->ids, (adv->n + a->size) * sizeof(*adv->ids));
	if (!nb)
		return ck_errf(c->err, CK_E_NOMEM, "out of memory");
	adv->ids = nb;
	size_t e = ck_json_child((size_t)arr);
	for (uint32_t i = 0; i < a->size; i++, e = ck_json_next(c->d, e)) {
		const struct ck_jtok *t = &c->d->t[e];
		size_t n = t->end - t->start;
		if (t->type != CK_JT_STRING || t->escaped ||
		    !valid_advisory(c->d->text + t->start, n))
			return JFAIL(c, "%s: advisory ID #%u is not a short [A-Za-z0-9-] string",
				     c->doc, i);
		memcpy(adv->ids[adv->n], c->d->text + t->start, n);
		adv->ids[adv->n][n] = 0;
		adv->n++;
	}
	*count = a->size;
	return 0;
}

static int load_doc(struct jctx *c, const char *text, size_t len)
{
	if (len > CK_COLLATERAL_MAX_LEN)
		return ck_errf(c->err, CK_E_TOO_LARGE, "%s is %zu bytes, over the limit", c->doc,
			       len);
	if (ck_json_parse(text, len, c->d, c->err) < 0) {
		if (c->err)
			c->err->code = CK_E_COLLATERAL;
		return ck_err_wrap(c->err, "%s", c->doc);
	}
	if (c->d->t[0].type != CK_JT_OBJECT) {
		ck_json_free(c->d);
		return JFAIL(c, "%s: not a JSON object", c->doc);
	}
	return 0;
}

static long j_levels(struct jctx *c, size_t obj, size_t *n)
{
	long arr = ck_json_get(c->d, obj, "tcbLevels");
	if (arr < 0 || c->d->t[arr].type != CK_JT_ARRAY || c->d->t[arr].size == 0 ||
	    c->d->t[arr].size > CK_TCB_MAX_LEVELS) {
		JFAIL(c, "%s: tcbLevels is not an array of 1..%d levels", c->doc,
		      CK_TCB_MAX_LEVELS);
		return -1;
	}
	*n = c->d->t[arr].size;
	return arr;
}

static int parse_components(struct jctx *c, size_t tcb, const char *key, uint8_t *svn)
{
	long arr = ck_json_get(c->d, tcb, key);
	if (arr < 0 || c->d->t[arr].type != CK_JT_ARRAY || c->d->t[arr].size != CK_TCB_COMPONENTS)
		return JFAIL(c, "%s: \"%s\" is not an array of 16 components", c->doc, key);
	size_t e = ck_json_child((size_t)arr);
	for (size_t i = 0; i < CK_TCB_COMPONENTS; i++, e = ck_json_next(c->d, e)) {
		long long v;
		if (c->d->t[e].type != CK_JT_OBJECT || j_int(c, e, "svn", 0, 255, &v) < 0)
			return JFAIL(c, "%s: %s[%zu] has no svn in 0..255", c->doc, key, i);
		svn[i] = (uint8_t)v;
	}
	return 0;
}

/* The level's "tcb" object. */
static long level_tcb(struct jctx *c, size_t lv, size_t i)
{
	long tcb = c->d->t[lv].type == CK_JT_OBJECT ? ck_json_get(c->d, lv, "tcb") : -1;
	if (tcb < 0 || c->d->t[tcb].type != CK_JT_OBJECT) {
		JFAIL(c, "%s: tcbLevels[%zu] has no \"tcb\" object", c->doc, i);
		return -1;
	}
	return tcb;
}

void ck_tcb_info_free(struct ck_tcb_info *t)
{
	if (!t)
		return;
	free(t->levels);
	free(t->advisories.ids);
	memset(t, 0, sizeof(*t));
}

int ck_tcb_info_parse(const char *text, size_t len, struct ck_tcb_info *t, struct ck_err *err)
{
	struct ck_jdoc d;
	struct jctx c = {"TCB Info", &d, err};
	long long v;
	const char *s;
	size_t n, nlev;
	long levels;
	memset(t, 0, sizeof(*t));
	if (load_doc(&c, text, len) < 0)
		return -1;
	if (j_int(&c, 0, "version", 2, 3, &v) < 0)
		goto fail;
	t->version = (int)v;
	if (t->version == 3) {
		if (j_raw(&c, 0, "id", &s, &n) < 0)
			goto fail;
		if (!((n == 3 && !memcmp(s, "SGX", 3)) || (n == 3 && !memcmp(s, "TDX", 3)))) {
			JFAIL(&c, "TCB Info: id \"%.*s\" is not SGX or TDX", (int)(n > 16 ? 16 : n),
			      s);
			goto fail;
		}
		memcpy(t->id, s, 3);
	}
	if (j_time(&c, 0, "issueDate", &t->issue_date) < 0 ||
	    j_time(&c, 0, "nextUpdate", &t->next_update) < 0 ||
	    j_hex(&c, 0, "fmspc", t->fmspc, 6) < 0 || j_hex(&c, 0, "pceId", t->pceid, 2) < 0 ||
	    j_int(&c, 0, "tcbType", 0, 0, &v) < 0)
		goto fail;
	if (j_int(&c, 0, "tcbEvaluationDataNumber", 0, UINT32_MAX, &v) < 0)
		goto fail;
	t->eval_num = (uint32_t)v;
	if ((levels = j_levels(&c, 0, &nlev)) < 0)
		goto fail;
	if (!(t->levels = calloc(nlev, sizeof(*t->levels)))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	t->n_levels = nlev;
	bool tdx = strcmp(t->id, "TDX") == 0;
	size_t lv = ck_json_child((size_t)levels);
	for (size_t i = 0; i < nlev; i++, lv = ck_json_next(&d, lv)) {
		struct ck_tcb_level *l = &t->levels[i];
		long tcb = level_tcb(&c, lv, i);
		if (tcb < 0)
			goto fail;
		if (t->version == 3) {
			if (parse_components(&c, (size_t)tcb, "sgxtcbcomponents", l->sgx_svn) < 0)
				goto fail;
			if (ck_json_get(&d, (size_t)tcb, "tdxtcbcomponents") >= 0 || tdx) {
				if (parse_components(&c, (size_t)tcb, "tdxtcbcomponents",
						     l->tdx_svn) < 0)
					goto fail;
				l->has_tdx = true;
			}
		} else {
			for (int k = 0; k < CK_TCB_COMPONENTS; k++) {
				char key[24];
				snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", k + 1);
				if (j_int(&c, (size_t)tcb, key, 0, 255, &v) < 0)
					goto fail;
				l->sgx_svn[k] = (uint8_t)v;
			}
		}
		if (j_int(&c, (size_t)tcb, "pcesvn", 0, 65535, &v) < 0)
			goto fail;
		l->pcesvn = (uint16_t)v;
		if (j_time(&c, lv, "tcbDate", &l->tcb_date) < 0 ||
		    j_status(&c, lv, &l->status) < 0 ||
		    j_advisories(&c, lv, &t->advisories, &l->adv_first, &l->adv_count) < 0)
			goto fail;
	}
	ck_json_free(&d);
	return 0;
fail:
	ck_json_free(&d);
	ck_tcb_info_free(t);
	return -1;
}

void ck_qe_identity_free(struct ck_qe_identity *q)
{
	if (!q)
		return;
	free(q->levels);
	free(q->advisories.ids);
	memset(q, 0, sizeof(*q));
}

int ck_qe_identity_parse(const char *text, size_t len, struct ck_qe_identity *q, struct ck_err *err)
{
	struct ck_jdoc d;
	struct jctx c = {"QE Identity", &d, err};
	long long v;
	const char *s;
	size_t n, nlev;
	long levels;
	memset(q, 0, sizeof(*q));
	if (load_doc(&c, text, len) < 0)
		return -1;
	if (j_int(&c, 0, "version", 2, 2, &v) < 0)
		goto fail;
	q->version = (int)v;
	if (j_raw(&c, 0, "id", &s, &n) < 0)
		goto fail;
	if (!((n == 2 && !memcmp(s, "QE", 2)) || (n == 5 && !memcmp(s, "TD_QE", 5)) ||
	      (n == 3 && !memcmp(s, "QVE", 3)))) {
		JFAIL(&c, "QE Identity: id \"%.*s\" is not QE, TD_QE or QVE",
		      (int)(n > 16 ? 16 : n), s);
		goto fail;
	}
	memcpy(q->id, s, n);
	if (j_time(&c, 0, "issueDate", &q->issue_date) < 0 ||
	    j_time(&c, 0, "nextUpdate", &q->next_update) < 0 ||
	    j_int(&c, 0, "tcbEvaluationDataNumber", 0, UINT32_MAX, &v) < 0)
		goto fail;
	q->eval_num = (uint32_t)v;
	if (j_hex(&c, 0, "miscselect", q->miscselect, 4) < 0 ||
	    j_hex(&c, 0, "miscselectMask", q->miscselect_mask, 4) < 0 ||
	    j_hex(&c, 0, "attributes", q->attributes, 16) < 0 ||
	    j_hex(&c, 0, "attributesMask", q->attributes_mask, 16) < 0 ||
	    j_hex(&c, 0, "mrsigner", q->mrsigner, 32) < 0 ||
	    j_int(&c, 0, "isvprodid", 0, 65535, &v) < 0)
		goto fail;
	q->isvprodid = (uint16_t)v;
	if ((levels = j_levels(&c, 0, &nlev)) < 0)
		goto fail;
	if (!(q->levels = calloc(nlev, sizeof(*q->levels)))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	q->n_levels = nlev;
	size_t lv = ck_json_child((size_t)levels);
	for (size_t i = 0; i < nlev; i++, lv = ck_json_next(&d, lv)) {
		struct ck_qe_level *l = &q->levels[i];
		long tcb = level_tcb(&c, lv, i);
		if (tcb < 0 || j_int(&c, (size_t)tcb, "isvsvn", 0, 65535, &v) < 0)
			goto fail;
		l->isvsvn = (uint16_t)v;
		if (j_time(&c, lv, "tcbDate", &l->tcb_date) < 0 ||
		    j_status(&c, lv, &l->status) < 0 ||
		    j_advisories(&c, lv, &q->advisories, &l->adv_first, &l->adv_count) < 0)
			goto fail;
	}
	ck_json_free(&d);
	return 0;
fail:
	ck_json_free(&d);
	ck_qe_identity_free(q);
	return -1;
}
