/* SPDX-License-Identifier: Apache-2.0 */
/* The verdict of an appraisal under a policy, as JSON and as text. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cloak/claims.h"
#include "cloak/codec.h"

void verdict_decide(struct verdict *v, const struct ck_appraisal *a, int appraise_ret,
		    const struct ck_policy *p, ck_time_t at)
{
	memset(v, 0, sizeof(*v));
	v->a = a;
	v->at = at;
	v->measured = ck_policy_measured(p);
	if (appraise_ret < 0) {
		v->errs[v->n_errs++] = a->error;
		return;
	}
	size_t n = ck_policy_check(p, a, v->errs, CK_POLICY_MAX_VIOLATIONS);
	v->n_errs = n < CK_POLICY_MAX_VIOLATIONS ? n : CK_POLICY_MAX_VIOLATIONS;
	v->accepted = n == 0;
}

json_t *verdict_json(const struct verdict *v)
{
	const struct ck_appraisal *a = v->a;
	json_t *o = json_object(), *errs = json_array(), *adv = json_array();
	json_object_set_new(o, "verdict", json_string(v->accepted ? "accepted" : "rejected"));
	json_object_set_new(o, "tee", a->tee ? json_string(ck_tee_name(a->tee)) : json_null());
	json_object_set_new(o, "simulated", json_boolean(a->simulated));
	json_object_set_new(o, "quote_version",
			    a->quote_version ? json_integer(a->quote_version) : json_null());
	json_object_set_new(o, "tcb_status",
			    a->valid ? json_string(ck_tcb_status_name(a->tcb_status))
				     : json_null());
	json_object_set_new(o, "platform_tcb_status",
			    a->valid ? json_string(ck_tcb_status_name(a->platform_status))
				     : json_null());
	json_object_set_new(o, "qe_tcb_status",
			    a->valid ? json_string(ck_tcb_status_name(a->qe_status)) : json_null());
	for (size_t i = 0; a->valid && i < a->n_advisories; i++)
		json_array_append_new(adv, json_string(a->advisories[i]));
	json_object_set_new(o, "advisories", adv);
	bool sgx = a->tee == CK_TEE_SGX;
	json_object_set_new(o, "mrenclave", sgx ? cli_hex(a->enclave.mrenclave, 32) : json_null());
	json_object_set_new(o, "mrsigner", sgx ? cli_hex(a->enclave.mrsigner, 32) : json_null());
	json_object_set_new(o, "isv_prod_id",
			    sgx ? json_integer(a->enclave.isv_prod_id) : json_null());
	json_object_set_new(o, "isv_svn", sgx ? json_integer(a->enclave.isv_svn) : json_null());
	json_object_set_new(o, "debug", json_boolean(a->debug));
	json_object_set_new(o, "report_data",
			    sgx ? cli_hex(a->enclave.report_data, 64) : json_null());
	json_object_set_new(o, "fmspc", a->has_pck ? cli_hex(a->pck.fmspc, 6) : json_null());
	json_object_set_new(o, "pceid", a->has_pck ? cli_hex(a->pck.pceid, 2) : json_null());
	json_object_set_new(o, "tcb_evaluation_data_number",
			    a->valid ? json_integer(a->tcb_eval_num) : json_null());
	json_object_set_new(o, "tcb_date", a->valid ? cli_time_json(a->tcb_date) : json_null());
	json_object_set_new(o, "measurement_checked", json_boolean(v->measured));
	json_object_set_new(o, "verified_at", cli_time_json(v->at));
	json_object_set_new(o, "collateral_valid_from",
			    a->valid ? cli_time_json(a->valid_from) : json_null());
	json_object_set_new(o, "collateral_valid_until",
			    a->valid ? cli_time_json(a->valid_until) : json_null());
	json_object_set_new(o, "collateral_expired", json_boolean(a->collateral_expired));
	for (size_t i = 0; i < v->n_errs; i++)
		json_array_append_new(errs, json_pack("{s:s, s:s}", "code", v->errs[i].code,
						      "message", v->errs[i].msg));
	json_object_set_new(o, "errors", errs);
	return o;
}

void verdict_print(const struct verdict *v)
{
	const struct ck_appraisal *a = v->a;
	char h[129], t0[CK_TIME_STR_MAX], t1[CK_TIME_STR_MAX];
	printf("%s%s\n", v->accepted ? "ACCEPTED" : "REJECTED",
	       a->simulated ? "  ** SIMULATED: NOT A REAL TEE **" : "");
	if (a->tee)
		printf("  tee            %s, quote v%u\n", ck_tee_name(a->tee), a->quote_version);
	if (a->valid) {
		printf("  tcb status     %s (platform %s, QE %s)\n",
		       ck_tcb_status_name(a->tcb_status), ck_tcb_status_name(a->platform_status),
		       ck_tcb_status_name(a->qe_status));
		printf("  advisories     ");
		for (size_t i = 0; i < a->n_advisories; i++)
			printf("%s%s", i ? ", " : "", a->advisories[i]);
		printf("%s\n", a->n_advisories ? "" : "none");
	}
	if (a->tee == CK_TEE_SGX) {
		ck_hex_encode(a->enclave.mrenclave, 32, h);
		printf("  mrenclave      %s\n", h);
		ck_hex_encode(a->enclave.mrsigner, 32, h);
		printf("  mrsigner       %s\n", h);
		printf("  isv prod/svn   %u / %u\n", a->enclave.isv_prod_id, a->enclave.isv_svn);
		printf("  debug          %s\n", a->debug ? "YES" : "no");
		ck_hex_encode(a->enclave.report_data, 64, h);
		printf("  report data    %s\n", h);
	}
	if (a->has_pck) {
		ck_hex_encode(a->pck.fmspc, 6, h);
		printf("  fmspc          %s\n", h);
	}
	if (a->valid)
		printf("  valid          %s .. %s%s\n", ck_time_format(a->valid_from, t0),
		       ck_time_format(a->valid_until, t1),
		       a->collateral_expired ? " (collateral EXPIRED, allowed by policy)" : "");
	printf("  verified at    %s\n", ck_time_format(v->at, t0));
	if (!v->measured)
		printf("  WARNING        no measurement policy: any enclave code is accepted\n");
	for (size_t i = 0; i < v->n_errs; i++)
		printf("  error          %s: %s\n", v->errs[i].code, v->errs[i].msg);
}

json_t *claims_json(const struct ck_claims *c)
{
	json_t *cl = json_object();
	if (c->phase)
		json_object_set_new(cl, "cloak.phase", json_string(ck_phase_name(c->phase)));
	if (c->mode)
		json_object_set_new(cl, "cloak.mode", json_string(ck_mode_name(c->mode)));
	if (c->has_app)
		json_object_set_new(cl, "cloak.app", cli_hex(c->app, 32));
	if (c->has_manifest)
		json_object_set_new(cl, "cloak.manifest", cli_hex(c->manifest, 32));
	if (c->has_package)
		json_object_set_new(cl, "cloak.package", cli_hex(c->package, 32));
	if (c->has_seal_key)
		json_object_set_new(cl, "cloak.seal-key", cli_hex(c->seal_key, 32));
	if (c->has_nonce)
		json_object_set_new(cl, "nonce", cli_hex(c->nonce, c->nonce_len));
	if (c->has_pubkey_hash)
		json_object_set_new(cl, "pubkey-hash",
				    json_pack("{s:i, s:o}", "alg", (int)c->hash_alg, "hash",
					      cli_hex(c->pubkey_hash, c->pubkey_hash_len)));
	if (c->n_unknown)
		json_object_set_new(cl, "other_claims", json_integer((json_int_t)c->n_unknown));
	return cl;
}
