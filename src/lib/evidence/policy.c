/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "cloak/codec.h"
#include "cloak/policy.h"

void ck_policy_default(struct ck_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->accepted_statuses = 1u << CK_TCB_UP_TO_DATE;
}

void ck_policy_free(struct ck_policy *p)
{
	if (!p)
		return;
	free(p->mrenclave);
	free(p->signers);
	free(p->advisories);
	memset(p, 0, sizeof(*p));
}

#define PFAIL(...) ck_errf(err, CK_E_POLICY_FORMAT, __VA_ARGS__)

static int hex32(json_t *v, uint8_t out[32], const char *what, struct ck_err *err)
{
	if (!json_is_string(v))
		return PFAIL("policy: %s is not a hex string", what);
	if (ck_hex_decode_exact(json_string_value(v), json_string_length(v), out, 32, what, err) <
	    0) {
		if (err)
			err->code = CK_E_POLICY_FORMAT;
		return -1;
	}
	return 0;
}

static json_t *list(json_t *o, const char *key, struct ck_err *err, int *bad)
{
	json_t *v = json_object_get(o, key);
	if (v && (!json_is_array(v) || json_array_size(v) > CK_POLICY_MAX_ENTRIES)) {
		PFAIL("policy: \"%s\" is not an array of at most %d entries", key,
		      CK_POLICY_MAX_ENTRIES);
		*bad = 1;
		return NULL;
	}
	return v;
}

static int flag(json_t *o, const char *key, bool *out, struct ck_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return PFAIL("policy: \"%s\" is not true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int uint16_field(json_t *o, const char *key, bool required, uint16_t *out,
			struct ck_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		if (required)
			return PFAIL("policy: signer rule needs \"%s\"", key);
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 65535)
		return PFAIL("policy: \"%s\" is not an integer in 0..65535", key);
	*out = (uint16_t)json_integer_value(v);
	return 0;
}

int ck_policy_parse(const char *text, size_t len, struct ck_policy *p, struct ck_err *err)
{
	static const char *const known[] = {"mrenclave",	     "signers",
					    "accepted_tcb_statuses", "accepted_advisories",
					    "allow_debug",	     "allow_simulation",
					    "allow_expired_collateral"};
	ck_policy_default(p);
	if (len > CK_POLICY_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "policy is %zu bytes, over the limit", len);
	json_error_t je;
	json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je), *v;
	int bad = 0;
	if (!o)
		return PFAIL("policy: invalid JSON at line %d column %d: %s", je.line, je.column,
			     je.text);
	if (!json_is_object(o)) {
		PFAIL("policy: not a JSON object");
		goto fail;
	}
	const char *key;
	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = strcmp(key, known[i]) == 0;
		if (!ok) {
			PFAIL("policy: unknown key \"%.64s\"", key);
			goto fail;
		}
	}
	if ((v = list(o, "mrenclave", err, &bad))) {
		p->n_mrenclave = json_array_size(v);
		p->mrenclave = calloc(p->n_mrenclave + 1, 32);
		if (!p->mrenclave)
			goto oom;
		for (size_t i = 0; i < p->n_mrenclave; i++)
			if (hex32(json_array_get(v, i), p->mrenclave[i], "policy mrenclave", err) < 0)
				goto fail;
	}
	if (bad)
		goto fail;
	if ((v = list(o, "signers", err, &bad))) {
		p->n_signers = json_array_size(v);
		p->signers = calloc(p->n_signers + 1, sizeof(*p->signers));
		if (!p->signers)
			goto oom;
		for (size_t i = 0; i < p->n_signers; i++) {
			json_t *r = json_array_get(v, i), *k;
			struct ck_signer_rule *s = &p->signers[i];
			if (!json_is_object(r)) {
				PFAIL("policy: signers[%zu] is not an object", i);
				goto fail;
			}
			json_object_foreach(r, key, k)
			{
				if (strcmp(key, "mrsigner") && strcmp(key, "isv_prod_id") &&
				    strcmp(key, "min_isv_svn")) {
					PFAIL("policy: signers[%zu]: unknown key \"%.64s\"", i, key);
					goto fail;
				}
			}
			if (hex32(json_object_get(r, "mrsigner"), s->mrsigner, "policy mrsigner",
				  err) < 0 ||
			    uint16_field(r, "isv_prod_id", true, &s->isv_prod_id, err) < 0 ||
			    uint16_field(r, "min_isv_svn", false, &s->min_isv_svn, err) < 0)
				goto fail;
		}
	}
	if (bad)
		goto fail;
	if ((v = list(o, "accepted_tcb_statuses", err, &bad))) {
		p->accepted_statuses = 0;
		for (size_t i = 0; i < json_array_size(v); i++) {
			json_t *s = json_array_get(v, i);
			enum ck_tcb_status st =
				json_is_string(s) ? ck_tcb_status_parse(json_string_value(s))
						  : CK_TCB_INVALID;
			if (st == CK_TCB_INVALID) {
				PFAIL("policy: accepted_tcb_statuses[%zu] is not one of Intel's "
				      "status names",
				      i);
				goto fail;
			}
			if (st == CK_TCB_REVOKED) {
				PFAIL("policy: a Revoked TCB can never be accepted");
				goto fail;
			}
			p->accepted_statuses |= 1u << st;
		}
	}
	if (bad)
		goto fail;
	if ((v = list(o, "accepted_advisories", err, &bad))) {
		size_t n = json_array_size(v);
		p->advisories = calloc(n + 1, CK_ADVISORY_ID_MAX);
		if (!p->advisories)
			goto oom;
		for (size_t i = 0; i < n; i++) {
			json_t *s = json_array_get(v, i);
			if (!json_is_string(s) || json_string_length(s) == 0 ||
			    json_string_length(s) >= CK_ADVISORY_ID_MAX) {
				PFAIL("policy: accepted_advisories[%zu] is not a short string", i);
				goto fail;
			}
			if (strcmp(json_string_value(s), "*") == 0)
				p->any_advisory = true;
			else
				memcpy(p->advisories[p->n_advisories++], json_string_value(s),
				       json_string_length(s) + 1);
		}
	}
	if (bad)
		goto fail;
	if (flag(o, "allow_debug", &p->allow_debug, err) < 0 ||
	    flag(o, "allow_simulation", &p->allow_simulation, err) < 0 ||
	    flag(o, "allow_expired_collateral", &p->allow_expired_collateral, err) < 0)
		goto fail;
	json_decref(o);
	return 0;
oom:
	ck_errf(err, CK_E_NOMEM, "out of memory");
fail:
	json_decref(o);
	ck_policy_free(p);
	return -1;
}

static size_t violate(struct ck_err *errs, size_t max, size_t n, const char *code,
		      const char *msg)
{
	if (n < max)
		ck_errf(&errs[n], code, "%s", msg);
	return n + 1;
}

size_t ck_policy_check(const struct ck_policy *p, const struct ck_appraisal *a,
		       struct ck_err *errs, size_t max)
{
	size_t n = 0;
	char msg[CK_ERR_MSG_MAX], h[65];

	if (a->simulated && !p->allow_simulation)
		n = violate(errs, max, n, CK_E_POL_SIMULATION,
			    "the evidence is SIMULATED and the policy does not allow simulation");
	if (!(p->accepted_statuses & (1u << a->tcb_status))) {
		snprintf(msg, sizeof(msg), "TCB status %s is not accepted by the policy",
			 ck_tcb_status_name(a->tcb_status));
		n = violate(errs, max, n, CK_E_POL_STATUS, msg);
	}
	if (!p->any_advisory) {
		for (size_t i = 0; i < a->n_advisories; i++) {
			bool ok = false;
			for (size_t j = 0; j < p->n_advisories && !ok; j++)
				ok = strcmp(a->advisories[i], p->advisories[j]) == 0;
			if (!ok) {
				snprintf(msg, sizeof(msg), "advisory %s is not accepted by the policy",
					 a->advisories[i]);
				n = violate(errs, max, n, CK_E_POL_ADVISORY, msg);
				break;
			}
		}
	}
	if (a->debug && !p->allow_debug)
		n = violate(errs, max, n, CK_E_POL_DEBUG,
			    "the enclave runs in DEBUG mode (its memory is readable by the host)");
	if (ck_policy_measured(p)) {
		bool ok = false;
		for (size_t i = 0; i < p->n_mrenclave && !ok; i++)
			ok = ck_ct_equal(p->mrenclave[i], a->enclave.mrenclave, 32);
		for (size_t i = 0; i < p->n_signers && !ok; i++) {
			const struct ck_signer_rule *s = &p->signers[i];
			ok = ck_ct_equal(s->mrsigner, a->enclave.mrsigner, 32) &&
			     s->isv_prod_id == a->enclave.isv_prod_id &&
			     a->enclave.isv_svn >= s->min_isv_svn;
		}
		if (!ok) {
			ck_hex_encode(a->enclave.mrenclave, 32, h);
			snprintf(msg, sizeof(msg),
				 "MRENCLAVE %s (ISVPRODID %u, ISVSVN %u) matches no trusted "
				 "measurement in the policy",
				 h, a->enclave.isv_prod_id, a->enclave.isv_svn);
			n = violate(errs, max, n, CK_E_POL_MEASUREMENT, msg);
		}
	}
	return n;
}
