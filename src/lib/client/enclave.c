/* SPDX-License-Identifier: Apache-2.0 */
/* enclave.c - evidence and provisioning on one connection; the contract is in
 * include/cloak/enclave.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cloak/codec.h"
#include "cloak/enclave.h"

#define ANSWER_MAX 65536 /* the enclave's answer to a provisioning */

int ck_enclave_evidence(struct ck_client *c, const uint8_t *nonce, size_t nonce_len,
			ck_enclave_wait_fn on_wait, void *arg, struct ck_bundle *b, int *status,
			struct ck_err *err)
{
	char path[sizeof(CK_ENCLAVE_EVIDENCE_PATH) + 8 + 2 * CK_NONCE_MAX];
	struct ck_client_resp r;
	memset(b, 0, sizeof(*b));
	if (nonce_len > CK_NONCE_MAX)
		return ck_errf(err, CK_E_USAGE, "a nonce of %zu bytes is over %d", nonce_len,
			       CK_NONCE_MAX);
	int n = snprintf(path, sizeof(path), "%s%s", CK_ENCLAVE_EVIDENCE_PATH,
			 nonce_len ? "?nonce=" : "");
	if (nonce_len)
		ck_hex_encode(nonce, nonce_len, path + n);
	for (int attempt = 1;; attempt++) {
		if (ck_client_request(c, "GET", path, NULL, NULL, 0, CK_BUNDLE_MAX_LEN, &r, err) <
		    0)
			return -1;
		*status = r.status;
		bool later = (r.status == 429 || r.status == 503) && r.retry_after;
		if (!later || attempt > CK_ENCLAVE_RETRIES)
			break;
		unsigned s =
		    r.retry_after < CK_ENCLAVE_MAX_WAIT_S ? r.retry_after : CK_ENCLAVE_MAX_WAIT_S;
		ck_client_resp_free(&r);
		if (on_wait)
			on_wait(arg, *status, s, attempt + 1);
		sleep(s);
	}
	int ret = r.status != 200
		      ? ck_errf(err, CK_E_HTTP, "%s answered %d to the evidence request: %.200s",
				c->name, r.status, r.body ? r.body : "")
		      : ck_bundle_parse(r.body, r.len, b, err);
	ck_client_resp_free(&r);
	return ret;
}

/* The digest of the connection's certificate, and its SPKI (malloc'ed). */
static int peer_of(const struct ck_client *c, uint8_t cert_sha256[32], uint8_t **spki,
		   size_t *spki_len, struct ck_err *err)
{
	X509 *cert = ck_client_peer(c);
	uint8_t *der = NULL;
	int dl = cert ? i2d_X509(cert, &der) : -1;
	if (dl <= 0 || ck_spki_der(X509_get0_pubkey(cert), spki, spki_len) < 0) {
		OPENSSL_free(der);
		return ck_errf(err, CK_E_TLS, "%s presented no usable certificate", c->name);
	}
	EVP_Digest(der, (size_t)dl, cert_sha256, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return 0;
}

/* Steps 1-2: fresh evidence on this connection, appraised against its certificate. */
static int appraise(struct ck_client *c, const struct ck_provision_job *job,
		    struct ck_provision_outcome *out, const uint8_t *spki, size_t spki_len,
		    struct ck_err *err)
{
	uint8_t nonce[32];
	struct ck_bundle b;
	struct ck_verified_collateral *vc = NULL;
	int st, ret = -1;
	if (RAND_bytes(nonce, sizeof(nonce)) != 1)
		return ck_errf(err, CK_E_NOMEM, "no randomness for the nonce");
	if (ck_enclave_evidence(c, nonce, sizeof(nonce), job->on_wait, job->wait_arg, &b, &st,
				err) < 0)
		return -1;
	if (!b.has_collateral) {
		ck_errf(err, CK_E_COLLATERAL, "the evidence from %s carries no collateral",
			c->name);
		goto out;
	}
	const struct ck_policy *pol = job->policy;
	struct ck_appraise_opts ao = {.at = job->at ? job->at : ck_time_now(),
				      .allow_simulation = pol->allow_simulation,
				      .allow_expired_collateral = pol->allow_expired_collateral};
	struct ck_expect x = {.has_manifest = true,
			      .has_package = true,
			      .phase = CK_PHASE_PROVISIONING,
			      .mode = job->manifest->mode,
			      .nonce = nonce,
			      .nonce_len = sizeof(nonce),
			      .nonce_proof = b.has_nonce_proof ? &b.nonce_proof : NULL};
	memcpy(x.manifest, job->manifest_sha256, 32);
	memcpy(x.package, job->manifest->package_sha256, 32);
	if (ck_collateral_verify(&b.collateral, pol->allow_simulation, &vc, err) < 0)
		goto out;
	ck_evidence_verify(b.quote, b.quote_len, b.claims, b.claims_len, spki, spki_len, vc, &ao,
			   pol, &x, &out->ev);
	out->verified = out->ev.accepted;
	if (!out->verified) {
		*err = out->ev.errs[0];
		ck_err_wrap(err, "%s was not verified, nothing was sent", c->name);
		goto out;
	}
	ret = 0;
out:
	ck_verified_collateral_free(vc);
	ck_bundle_free(&b);
	return ret;
}

/* Step 3: the provisioning, bound to this certificate, on this connection. */
static int send_provisioning(struct ck_client *c, const struct ck_provision_job *job,
			     struct ck_provision_outcome *out, struct ck_err *err)
{
	struct ck_provision *p = job->p;
	char *env = NULL, *sealed = NULL;
	size_t env_len = 0, send_len;
	struct ck_client_resp r = {0};
	int ret = -1;
	memcpy(p->enclave_cert_sha256, out->cert_sha256, 32);
	memcpy(p->manifest_sha256, job->manifest_sha256, 32);
	p->issued_at = ck_time_now();
	if (ck_provision_sign(p, job->owner, &env, &env_len, err) < 0)
		return -1;
	const char *send = env;
	send_len = env_len;
	if (job->seal) {
		if (!out->ev.have_claims || !out->ev.claims.has_seal_key) {
			ck_errf(err, CK_E_EXPECT, "seal: the enclave's claims carry no seal key");
			goto out;
		}
		if (ck_seal(out->ev.claims.seal_key, (const uint8_t *)env, env_len, &sealed,
			    &send_len, err) < 0)
			goto out;
		send = sealed;
	}
	if (ck_client_request(c, "POST", CK_ENCLAVE_PROVISION_PATH, "application/json", send,
			      send_len, ANSWER_MAX, &r, err) < 0)
		goto out;
	out->sent = true;
	out->status = r.status;
	out->answer = r.body;
	r.body = NULL;
	if (out->status != 200) {
		ck_errf(err, CK_E_PROV_STATE, "%s refused the provisioning (%d): %.300s", c->name,
			out->status, out->answer ? out->answer : "");
		goto out;
	}
	ret = 0;
out:
	if (env) {
		OPENSSL_cleanse(env, env_len);
		free(env);
	}
	free(sealed);
	ck_client_resp_free(&r);
	return ret;
}

int ck_provision_run(struct ck_client *c, const struct ck_provision_job *job,
		     struct ck_provision_outcome *out, struct ck_err *err)
{
	uint8_t *spki = NULL;
	size_t spki_len = 0;
	memset(out, 0, sizeof(*out));
	int ret = peer_of(c, out->cert_sha256, &spki, &spki_len, err) < 0 ||
			  appraise(c, job, out, spki, spki_len, err) < 0 ||
			  send_provisioning(c, job, out, err) < 0
		      ? -1
		      : 0;
	free(spki);
	return ret;
}

void ck_provision_outcome_free(struct ck_provision_outcome *o)
{
	free(o->answer);
	memset(o, 0, sizeof(*o));
}
