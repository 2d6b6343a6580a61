/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Typed views of the signed TCB Info and QE Identity texts (attestation-formats.md §B.5).
 * Known fields are type- and range-checked; unknown fields are ignored (Intel adds fields).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/collateral.h"

struct jctx {
	const char *doc; /* "TCB Info" or "QE Identity", for messages */
	struct ck_err *err;
};

#define JFAIL(c, ...) ck_errf((c)->err, CK_E_COLLATERAL, __VA_ARGS__)

static int j_int(struct jctx *c, const json_t *o, const char *key, long long min, long long max,
		 long long *out)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_integer(v))
		return JFAIL(c, "%s: \"%s\" is missing or not an integer", c->doc, key);
	long long x = json_integer_value(v);
	if (x < min || x > max)
		return JFAIL(c, "%s: \"%s\" = %lld is outside %lld..%lld", c->doc, key, x, min,
			     max);
	*out = x;
	return 0;
}

static int j_str(struct jctx *c, const json_t *o, const char *key, const char **s, size_t *n)
{
	json_t *v = json_object_get(o, key);
	if (!json_is_string(v))
		return JFAIL(c, "%s: \"%s\" is missing or not a string", c->doc, key);
	*s = json_string_value(v);
	*n = json_string_length(v);
	return 0;
}

static int j_time(struct jctx *c, const json_t *o, const char *key, ck_time_t *t)
{
	const char *s;
	size_t n;
	if (j_str(c, o, key, &s, &n) < 0)
		return -1;
	if (ck_time_parse(s, n, t, c->err) < 0) {
		if (c->err)
			c->err->code = CK_E_COLLATERAL;
		return ck_err_wrap(c->err, "%s \"%s\"", c->doc, key);
	}
	return 0;
}

static int j_hex(struct jctx *c, const json_t *o, const char *key, uint8_t *out, size_t len)
{
	const char *s;
	size_t n;
	char what[64];
	if (j_str(c, o, key, &s, &n) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s \"%s\"", c->doc, key);
	if (ck_hex_decode_exact(s, n, out, len, what, c->err) < 0) {
		if (c->err)
			c->err->code = CK_E_COLLATERAL;
		return -1;
	}
	return 0;
}

static int j_status(struct jctx *c, const json_t *o, enum ck_tcb_status *st)
{
	const char *s;
	size_t n;
	if (j_str(c, o, "tcbStatus", &s, &n) < 0)
		return -1;
	*st = ck_tcb_status_parse(s);
	if (*st == CK_TCB_INVALID)
		return JFAIL(c, "%s: unknown tcbStatus \"%.40s\"", c->doc, s);
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
static int j_advisories(struct jctx *c, const json_t *level, struct ck_advisories *adv,
			size_t *first, size_t *count)
{
	json_t *arr = json_object_get(level, "advisoryIDs");
	*first = adv->n;
	*count = 0;
	if (!arr)
		return 0;
	if (!json_is_array(arr) || json_array_size(arr) > CK_MAX_ADVISORIES)
		return JFAIL(c, "%s: advisoryIDs is not an array of at most %d strings", c->doc,
			     CK_MAX_ADVISORIES);
	size_t n = json_array_size(arr);
	if (n == 0)
		return 0;
	void *nb = realloc(adv->ids, (adv->n + n) * sizeof(*adv->ids));
	if (!nb)
		return ck_errf(c->err, CK_E_NOMEM, "out of memory");
	adv->ids = nb;
	for (size_t i = 0; i < n; i++) {
		json_t *v = json_array_get(arr, i);
		if (!json_is_string(v) ||
		    !valid_advisory(json_string_value(v), json_string_length(v)))
			return JFAIL(c, "%s: advisory ID #%zu is not a short [A-Za-z0-9-] string",
				     c->doc, i);
		memcpy(adv->ids[adv->n], json_string_value(v), json_string_length(v) + 1);
		adv->n++;
	}
	*count = n;
	return 0;
}

static json_t *load_doc(struct jctx *c, const char *text, size_t len)
{
	json_error_t je;
	if (len > CK_COLLATERAL_MAX_LEN) {
		ck_errf(c->err, CK_E_TOO_LARGE, "%s is %zu bytes, over the limit", c->doc, len);
		return NULL;
	}
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
	if (!root) {
		JFAIL(c, "%s: invalid JSON at line %d column %d: %s", c->doc, je.line, je.column,
		      je.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		json_decref(root);
		JFAIL(c, "%s: not a JSON object", c->doc);
		return NULL;
	}
	return root;
}

static json_t *j_levels(struct jctx *c, const json_t *o, size_t *n)
{
	json_t *arr = json_object_get(o, "tcbLevels");
	if (!json_is_array(arr) || json_array_size(arr) == 0 ||
	    json_array_size(arr) > CK_TCB_MAX_LEVELS) {
		JFAIL(c, "%s: tcbLevels is not an array of 1..%d levels", c->doc,
		      CK_TCB_MAX_LEVELS);
		return NULL;
	}
	*n = json_array_size(arr);
	return arr;
}

static int parse_components(struct jctx *c, const json_t *tcb, const char *key, uint8_t *svn)
{
	json_t *arr = json_object_get(tcb, key);
	if (!json_is_array(arr) || json_array_size(arr) != CK_TCB_COMPONENTS)
		return JFAIL(c, "%s: \"%s\" is not an array of 16 components", c->doc, key);
	for (size_t i = 0; i < CK_TCB_COMPONENTS; i++) {
		long long v;
		json_t *comp = json_array_get(arr, i);
		if (!json_is_object(comp) || j_int(c, comp, "svn", 0, 255, &v) < 0)
			return JFAIL(c, "%s: %s[%zu] has no svn in 0..255", c->doc, key, i);
		svn[i] = (uint8_t)v;
	}
	return 0;
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
	struct jctx c = {"TCB Info", err};
	long long v;
	const char *s;
	size_t n, nlev;
	memset(t, 0, sizeof(*t));
	json_t *o = load_doc(&c, text, len), *levels;
	if (!o)
		return -1;
	if (j_int(&c, o, "version", 2, 3, &v) < 0)
		goto fail;
	t->version = (int)v;
	if (t->version == 3) {
		if (j_str(&c, o, "id", &s, &n) < 0)
			goto fail;
		if (strcmp(s, "SGX") != 0 && strcmp(s, "TDX") != 0) {
			JFAIL(&c, "TCB Info: id \"%.16s\" is not SGX or TDX", s);
			goto fail;
		}
		memcpy(t->id, s, n + 1);
	}
	if (j_time(&c, o, "issueDate", &t->issue_date) < 0 ||
	    j_time(&c, o, "nextUpdate", &t->next_update) < 0 ||
	    j_hex(&c, o, "fmspc", t->fmspc, 6) < 0 || j_hex(&c, o, "pceId", t->pceid, 2) < 0)
		goto fail;
	if (j_int(&c, o, "tcbType", 0, 0, &v) < 0)
		goto fail;
	if (j_int(&c, o, "tcbEvaluationDataNumber", 0, UINT32_MAX, &v) < 0)
		goto fail;
	t->eval_num = (uint32_t)v;
	if (!(levels = j_levels(&c, o, &nlev)))
		goto fail;
	if (!(t->levels = calloc(nlev, sizeof(*t->levels)))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	t->n_levels = nlev;
	bool tdx = strcmp(t->id, "TDX") == 0;
	for (size_t i = 0; i < nlev; i++) {
		struct ck_tcb_level *l = &t->levels[i];
		json_t *lv = json_array_get(levels, i), *tcb = json_object_get(lv, "tcb");
		if (!json_is_object(lv) || !json_is_object(tcb)) {
			JFAIL(&c, "TCB Info: tcbLevels[%zu] has no \"tcb\" object", i);
			goto fail;
		}
		if (t->version == 3) {
			if (parse_components(&c, tcb, "sgxtcbcomponents", l->sgx_svn) < 0)
				goto fail;
			if (json_object_get(tcb, "tdxtcbcomponents") || tdx) {
				if (parse_components(&c, tcb, "tdxtcbcomponents", l->tdx_svn) < 0)
					goto fail;
				l->has_tdx = true;
			}
		} else {
			for (int k = 0; k < CK_TCB_COMPONENTS; k++) {
				char key[24];
				snprintf(key, sizeof(key), "sgxtcbcomp%02dsvn", k + 1);
				if (j_int(&c, tcb, key, 0, 255, &v) < 0)
					goto fail;
				l->sgx_svn[k] = (uint8_t)v;
			}
		}
		if (j_int(&c, tcb, "pcesvn", 0, 65535, &v) < 0)
			goto fail;
		l->pcesvn = (uint16_t)v;
		if (j_time(&c, lv, "tcbDate", &l->tcb_date) < 0 || j_status(&c, lv, &l->status) < 0 ||
		    j_advisories(&c, lv, &t->advisories, &l->adv_first, &l->adv_count) < 0)
			goto fail;
	}
	json_decref(o);
	return 0;
fail:
	json_decref(o);
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

int ck_qe_identity_parse(const char *text, size_t len, struct ck_qe_identity *q,
			 struct ck_err *err)
{
	struct jctx c = {"QE Identity", err};
	long long v;
	const char *s;
	size_t n, nlev;
	memset(q, 0, sizeof(*q));
	json_t *o = load_doc(&c, text, len), *levels;
	if (!o)
		return -1;
	if (j_int(&c, o, "version", 2, 2, &v) < 0)
		goto fail;
	q->version = (int)v;
	if (j_str(&c, o, "id", &s, &n) < 0)
		goto fail;
	if (strcmp(s, "QE") != 0 && strcmp(s, "TD_QE") != 0 && strcmp(s, "QVE") != 0) {
		JFAIL(&c, "QE Identity: id \"%.16s\" is not QE, TD_QE or QVE", s);
		goto fail;
	}
	memcpy(q->id, s, n + 1);
	if (j_time(&c, o, "issueDate", &q->issue_date) < 0 ||
	    j_time(&c, o, "nextUpdate", &q->next_update) < 0 ||
	    j_int(&c, o, "tcbEvaluationDataNumber", 0, UINT32_MAX, &v) < 0)
		goto fail;
	q->eval_num = (uint32_t)v;
	if (j_hex(&c, o, "miscselect", q->miscselect, 4) < 0 ||
	    j_hex(&c, o, "miscselectMask", q->miscselect_mask, 4) < 0 ||
	    j_hex(&c, o, "attributes", q->attributes, 16) < 0 ||
	    j_hex(&c, o, "attributesMask", q->attributes_mask, 16) < 0 ||
	    j_hex(&c, o, "mrsigner", q->mrsigner, 32) < 0 ||
	    j_int(&c, o, "isvprodid", 0, 65535, &v) < 0)
		goto fail;
	q->isvprodid = (uint16_t)v;
	if (!(levels = j_levels(&c, o, &nlev)))
		goto fail;
	if (!(q->levels = calloc(nlev, sizeof(*q->levels)))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto fail;
	}
	q->n_levels = nlev;
	for (size_t i = 0; i < nlev; i++) {
		struct ck_qe_level *l = &q->levels[i];
		json_t *lv = json_array_get(levels, i), *tcb = json_object_get(lv, "tcb");
		if (!json_is_object(lv) || !json_is_object(tcb)) {
			JFAIL(&c, "QE Identity: tcbLevels[%zu] has no \"tcb\" object", i);
			goto fail;
		}
		if (j_int(&c, tcb, "isvsvn", 0, 65535, &v) < 0)
			goto fail;
		l->isvsvn = (uint16_t)v;
		if (j_time(&c, lv, "tcbDate", &l->tcb_date) < 0 || j_status(&c, lv, &l->status) < 0 ||
		    j_advisories(&c, lv, &q->advisories, &l->adv_first, &l->adv_count) < 0)
			goto fail;
	}
	json_decref(o);
	return 0;
fail:
	json_decref(o);
	ck_qe_identity_free(q);
	return -1;
}
