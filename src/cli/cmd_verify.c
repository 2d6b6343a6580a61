/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak verify: is this service a genuine enclave running the expected app, and does its TLS
 * key live there? Fetches the certificate and /.well-known/cloak/evidence on one TLS connection
 * (the library's client: nothing secret is sent, everything is checked after), appraises,
 * checks the key binding and the claims, and says who can read the traffic.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/client.h"
#include "cloak/codec.h"
#include "cloak/enclave.h"
#include "cloak/fileio.h"
#include "cloak/ratls.h"
#include "cloak/ratls_tls.h"
#include "cloak/target.h"

struct verify_opts {
	const char *fingerprint, *policy, *collateral, *out, *at;
	bool sim, nonce, json;
};

#define VO struct verify_opts
static const struct ck_opt opts[] = {
    CK_OPT_ARG("fingerprint", 0, "HEX", VO, fingerprint,
	       "the app fingerprint the enclave must report (cloak fingerprint DIR)"),
    CK_OPT_ARG("policy", 0, "FILE", VO, policy, "attestation policy (default: UpToDate only)"),
    CK_OPT_FLAG("allow-simulation", 0, VO, sim,
		"accept cloak's simulation PKI (every output then says SIMULATED)"),
    CK_OPT_FLAG("nonce", 0, VO, nonce, "ask for a fresh quote bound to a random nonce"),
    CK_OPT_ARG("collateral", 0, "FILE", VO, collateral,
	       "collateral for evidence that carries none"),
    CK_OPT_ARG("out", 0, "CERT.pem", VO, out,
	       "on success, write the verified certificate (for curl --cacert)"),
    CK_OPT_ARG("at", 0, "TIME", VO, at, "verification time (default now)"),
    CK_OPT_JSON(VO, json),
    CK_OPT_END};
#undef VO

static const struct ck_opt_spec spec = {
    .name = "cloak verify",
    .operands = "TARGET",
    .min_operands = 1,
    .max_operands = 1,
    .about = "TARGET is https://host[:port], host:port, http://host:port (behind the operator's\n"
	     "TLS), or a file: an RA-TLS certificate (PEM) or an evidence bundle.\n"
	     "\n"
	     "Exit status: 0 verified, 1 invalid or rejected, 2 usage, unreadable input or no\n"
	     "connection.",
    .opts = opts};

static const char *who_can_read(enum ck_mode m)
{
	switch (m) {
	case CK_MODE_ZERO_TRUST:
		return "only the enclave";
	case CK_MODE_OWNER_CERT:
		return "the enclave and the app owner (who holds the TLS key)";
	case CK_MODE_OPERATOR_TLS:
		return "the enclave and the node operator (who terminates TLS)";
	}
	return "unknown";
}

struct report {
	struct ck_evidence_result ev;
	bool have_ev;
	struct ck_ratls_info info;
	bool have_cert;
	X509 *cert;
	bool accepted;
	struct ck_err extra[4];
	size_t n_extra;
	char spki_b64[64];
};

static json_t *report_json(const struct report *r, const struct ck_policy *p, ck_time_t at)
{
	struct verdict v;
	verdict_decide(&v, &r->ev.a, r->ev.appraise_ret, p, at);
	json_t *o = verdict_json(&v);
	json_t *errs = json_array();
	for (size_t i = 0; i < r->ev.n_errs; i++)
		json_array_append_new(errs, json_pack("{s:s, s:s}", "code", r->ev.errs[i].code,
						      "message", r->ev.errs[i].msg));
	for (size_t i = 0; i < r->n_extra; i++)
		json_array_append_new(errs, json_pack("{s:s, s:s}", "code", r->extra[i].code,
						      "message", r->extra[i].msg));
	json_object_set_new(o, "errors", errs);
	json_object_set_new(o, "verdict", json_string(r->accepted ? "accepted" : "rejected"));
	json_object_set_new(o, "key_bound",
			    r->have_cert ? json_boolean(r->ev.key_bound) : json_null());
	const struct ck_claims *c = &r->ev.claims;
	json_t *cl = r->ev.have_claims ? claims_json(c) : json_object();
	json_object_set_new(o, "claims", cl);
	json_object_set_new(o, "mode", c->mode ? json_string(ck_mode_name(c->mode)) : json_null());
	json_object_set_new(o, "fingerprint", c->has_app ? cli_hex(c->app, 32) : json_null());
	json_object_set_new(o, "who_can_read", json_string(who_can_read(c->mode)));
	json_t *exts = json_array();
	for (size_t i = 0; r->have_cert && i < r->info.n_ext; i++)
		json_array_append_new(
		    exts, json_pack("{s:s, s:b, s:b}", "extension",
				    ck_ratls_kind_name(r->info.ext[i].kind), "binding_defined",
				    r->info.ext[i].binding_defined, "bound", r->info.ext[i].bound));
	json_object_set_new(o, "certificate_evidence", exts);
	json_object_set_new(o, "spki_sha256_base64",
			    r->spki_b64[0] ? json_string(r->spki_b64) : json_null());
	return o;
}

static void add_extra(struct report *r, const struct ck_err *e)
{
	if (r->n_extra < 4)
		r->extra[r->n_extra++] = *e;
}

/* Everything one verification holds, from its inputs to its verdict. */
struct job {
	struct verify_opts o;
	const char *target;
	struct ck_expect x;
	struct ck_policy pol;
	ck_time_t at;
	uint8_t nonce[32];
	struct ck_bundle b;
	bool have_bundle;
	uint8_t *spki;
	size_t spki_len;
	struct ck_collateral coll;
	struct ck_verified_collateral *vc;
	struct report r;
};

/* A live target: its certificate and its evidence, on one connection (the certificate is not
 * checked by TLS: what vouches for it is the evidence, appraised after). */
static int fetch_live(struct job *j, const struct ck_target *t)
{
	struct ck_client c;
	struct ck_err e;
	int st, ret = -1;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1)
		return -1;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	if (ck_ratls_ssl_ctx_capture(ctx) < 0)
		goto out;
	if (j->o.nonce && RAND_bytes(j->nonce, sizeof(j->nonce)) != 1)
		goto out;
	if (!j->o.json)
		fprintf(stderr, "cloak: fetching %s%s ...\n", j->target, CK_ENCLAVE_EVIDENCE_PATH);
	if (ck_client_open(&c, t, ctx, 0, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	if ((j->r.cert = ck_client_peer(&c))) {
		X509_up_ref(j->r.cert);
		if (ck_ratls_peer_is_der(c.ssl, &e) < 0)
			add_extra(&j->r, &e); /* BER: OpenSSL re-encoded it; refuse what came */
	}
	struct cli_wait w = {j->target, j->o.json};
	int r = ck_enclave_evidence(&c, j->nonce, j->o.nonce ? sizeof(j->nonce) : 0, cli_on_wait,
				    &w, &j->b, &st, &e);
	ck_client_close(&c);
	if (r < 0 &&
	    (ck_err_is(&e, CK_E_HTTP) || ck_err_is(&e, CK_E_TLS) || ck_err_is(&e, CK_E_IO))) {
		cli_err(&e); /* no answer to judge: as no connection */
		goto out;
	}
	if (r < 0) {
		add_extra(&j->r, &e);
		ret = 1; /* a malformed bundle: a verdict, not a usage error */
		goto out;
	}
	j->have_bundle = true;
	if (t->tls && !j->r.cert) {
		ck_errf(&e, CK_E_TLS, "the server presented no certificate");
		add_extra(&j->r, &e);
	}
	if (j->o.nonce) {
		j->x.nonce = j->nonce;
		j->x.nonce_len = sizeof(j->nonce);
		j->x.nonce_proof = j->b.has_nonce_proof ? &j->b.nonce_proof : NULL;
	}
	ret = 0;
out:
	SSL_CTX_free(ctx);
	return ret;
}

/* A file: an evidence bundle, or a PEM certificate (in DER inside, strictly). */
static int load_file(struct job *j)
{
	uint8_t *file;
	size_t flen;
	struct ck_err e;
	int ret = -1;
	if (j->o.nonce) {
		cli_errx("--nonce needs a live target (https://host:port)");
		return -1;
	}
	if (cli_read(j->target, CK_BUNDLE_MAX_LEN, &file, &flen, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	if (ck_bundle_sniff(file, flen)) {
		if (ck_bundle_parse((char *)file, flen, &j->b, &e) < 0)
			cli_err(&e);
		else
			ret = 0;
		j->have_bundle = ret == 0;
		free(file);
		return ret < 0 ? 1 : 0;
	}
	BIO *bio = BIO_new_mem_buf(file, (int)flen);
	unsigned char *der = NULL;
	long dl = 0;
	int pem = bio && PEM_bytes_read_bio(&der, &dl, NULL, PEM_STRING_X509, bio, NULL, NULL) == 1;
	BIO_free(bio);
	ERR_clear_error();
	free(file);
	if (!pem) {
		cli_errx("'%s' is neither a PEM certificate nor an evidence bundle", j->target);
		return -1;
	}
	ret = ck_ratls_cert_from_der(der, (size_t)dl, &j->r.cert, &e);
	OPENSSL_free(der);
	if (ret < 0) {
		ck_err_wrap(&e, "%s", j->target);
		cli_err(&e);
		return 1;
	}
	return 0;
}

/* The certificate's evidence extensions and key. */
static void inspect_cert(struct job *j)
{
	struct ck_err e;
	if (!j->r.cert)
		return;
	if (ck_ratls_inspect(j->r.cert, &j->r.info, &e) < 0)
		add_extra(&j->r, &e);
	else
		j->r.have_cert = true;
	if (ck_spki_der(X509_get0_pubkey(j->r.cert), &j->spki, &j->spki_len) == 0) {
		uint8_t h[32];
		ck_hash(CK_HASH_SHA256, j->spki, j->spki_len, h);
		char *b64 = ck_b64_encode(h, 32);
		snprintf(j->r.spki_b64, sizeof(j->r.spki_b64), "%s", b64 ? b64 : "");
		free(b64);
	}
}

/* Behind the operator the evidence binds no key (no pubkey-hash); an operator-TLS enclave
 * reached directly over its own RA-TLS certificate does bind it. */
static bool behind_operator(const uint8_t *claims, size_t n)
{
	struct ck_claims peek;
	return claims && ck_claims_parse(claims, n, &peek, NULL) == 0 &&
	       peek.mode == CK_MODE_OPERATOR_TLS && !peek.has_pubkey_hash;
}

/* The certificate beside a bundle must agree with its own evidence, be as it was issued, and
 * be valid now. */
static void check_cert(struct job *j, bool operator_tls)
{
	struct ck_err e;
	struct report *r = &j->r;
	if (j->have_bundle && r->have_cert && r->info.n_ext && !r->info.key_bound) {
		ck_errf(&e, CK_E_KEY_BINDING,
			"the certificate's own evidence does not bind its key");
		add_extra(r, &e);
	}
	if (j->have_bundle && r->have_cert && r->info.n_ext &&
	    ck_ratls_check_self_signed(r->cert, &e) < 0)
		add_extra(r, &e);
	if (r->cert && !operator_tls &&
	    (X509_cmp_time(X509_get0_notAfter(r->cert), &(time_t){(time_t)j->at}) < 0 ||
	     X509_cmp_time(X509_get0_notBefore(r->cert), &(time_t){(time_t)j->at}) > 0)) {
		ck_errf(&e, CK_E_EXPIRED,
			"the TLS certificate is not valid at the verification time");
		add_extra(r, &e);
	}
}

/* The appraisal: the bundle's quote (fresh, nonce-bound when asked), else the certificate's
 * own evidence by the library's one rule. -1: no collateral (a usage error). */
static int appraise(struct job *j)
{
	struct ck_err e;
	struct report *r = &j->r;
	const struct ck_collateral *use =
	    j->have_bundle && j->b.has_collateral ? &j->b.collateral : NULL;
	if (j->o.collateral) {
		if (cli_collateral(j->o.collateral, &j->coll) < 0)
			return -1;
		use = &j->coll;
	}
	if (!use) {
		cli_errx("no collateral: the evidence carries none; pass --collateral FILE");
		return -1;
	}
	struct ck_appraise_opts ao = {.at = j->at,
				      .allow_simulation = j->pol.allow_simulation,
				      .allow_expired_collateral = j->pol.allow_expired_collateral};
	r->have_ev = true;
	if (ck_collateral_verify(use, j->pol.allow_simulation, &j->vc, &e) < 0) {
		r->ev.appraise_ret = -1;
		r->ev.a.error = e;
		r->ev.errs[r->ev.n_errs++] = e;
		return 0;
	}
	const uint8_t *claims = j->have_bundle ? j->b.claims : r->info.claims_cbor;
	size_t cn = j->have_bundle ? j->b.claims_len : r->info.claims_len;
	bool op = behind_operator(claims, cn);
	if (j->have_bundle) {
		ck_evidence_verify(j->b.quote, j->b.quote_len, claims, cn, op ? NULL : j->spki,
				   j->spki_len, j->vc, &ao, &j->pol, &j->x, &r->ev);
	} else if (r->have_cert && ck_ratls_primary(&r->info)) {
		ck_ratls_verify_cert(r->cert, &r->info, op, j->vc, &ao, &j->pol, &j->x, &r->ev);
	} else {
		r->have_ev = false;
		ck_errf(&e, CK_E_RATLS_NONE, "the certificate carries no attestation evidence");
		add_extra(r, &e);
		return 0;
	}
	check_cert(j, op);
	return 0;
}

static void report_text(const struct job *j)
{
	const struct report *r = &j->r;
	struct verdict v;
	verdict_decide(&v, &r->ev.a, r->ev.appraise_ret, &j->pol, j->at);
	v.accepted = r->accepted;
	v.n_errs = 0;
	for (size_t i = 0; i < r->ev.n_errs && v.n_errs < sizeof(v.errs) / sizeof(v.errs[0]); i++)
		v.errs[v.n_errs++] = r->ev.errs[i];
	for (size_t i = 0; i < r->n_extra && v.n_errs < sizeof(v.errs) / sizeof(v.errs[0]); i++)
		v.errs[v.n_errs++] = r->extra[i];
	verdict_print(&v);
	const struct ck_claims *c = &r->ev.claims;
	if (r->ev.have_claims) {
		char h[65];
		printf("  mode           %s\n", c->mode ? ck_mode_name(c->mode) : "?");
		if (c->has_app) {
			ck_hex_encode(c->app, 32, h);
			printf("  app            %s%s\n", h, j->x.has_app ? " (as expected)" : "");
		}
		printf("  phase          %s\n", c->phase ? ck_phase_name(c->phase) : "?");
	}
	if (r->have_cert)
		printf("  key bound      %s\n",
		       r->ev.key_bound ? "yes: the TLS key lives in the enclave" : "NO");
	printf("  who can read   %s\n", who_can_read(c->mode));
	if (r->accepted && r->spki_b64[0])
		printf("  chromium       --ignore-certificate-errors-spki-list=%s\n", r->spki_b64);
}

/* --out: the verified certificate, for curl --cacert. */
static int write_cert(const struct job *j)
{
	struct ck_err e;
	BIO *bio = BIO_new(BIO_s_mem());
	char *pem;
	long pn;
	int ok = bio && PEM_write_bio_X509(bio, j->r.cert) &&
		 (pn = BIO_get_mem_data(bio, &pem)) > 0 &&
		 ck_write_file(j->o.out, pem, (size_t)pn, 0644, &e) == 0;
	BIO_free(bio);
	if (!ok) {
		cli_errx("cannot write '%s'", j->o.out);
		return EXIT_USAGE;
	}
	if (!j->o.json)
		printf("  certificate    %s (curl --cacert %s ...)\n", j->o.out, j->o.out);
	return EXIT_OK;
}

/* The expectations and policy from the options. */
static int load(struct job *j)
{
	struct ck_err e;
	if (j->o.fingerprint) {
		if (ck_hex_decode_exact(j->o.fingerprint, strlen(j->o.fingerprint), j->x.app, 32,
					"--fingerprint", &e) < 0) {
			cli_err(&e);
			return -1;
		}
		j->x.has_app = true;
	}
	return cli_time(j->o.at, &j->at) < 0 || cli_policy(j->o.policy, j->o.sim, &j->pol) < 0 ? -1
											       : 0;
}

static void job_free(struct job *j)
{
	ck_verified_collateral_free(j->vc);
	ck_collateral_free(&j->coll);
	ck_bundle_free(&j->b);
	X509_free(j->r.cert);
	free(j->spki);
	ck_policy_free(&j->pol);
}

int cmd_verify(int argc, char **argv)
{
	static struct job j; /* large: off the stack */
	struct ck_target t;
	int ret = EXIT_USAGE, arg, got;
	memset(&j, 0, sizeof(j));
	if ((arg = ck_opts_parse(&spec, argc, argv, &j.o, &ret)) < 0)
		return ret;
	j.target = argv[arg];
	if (load(&j) < 0)
		return EXIT_USAGE;
	ret = EXIT_USAGE;
	got = ck_target_parse(j.target, &t, NULL) == 0 && (t.url || access(j.target, F_OK) != 0)
		  ? fetch_live(&j, &t)
		  : load_file(&j);
	if (got < 0)
		goto out;
	if (got == 0) {
		inspect_cert(&j);
		if (appraise(&j) < 0)
			goto out;
	}
	j.r.accepted = j.r.have_ev && j.r.ev.n_errs == 0 && j.r.n_extra == 0;
	if (j.o.json)
		cli_print_json(report_json(&j.r, &j.pol, j.at));
	else
		report_text(&j);
	ret = j.r.accepted ? EXIT_OK : EXIT_REJECTED;
	if (j.r.accepted && j.o.out && j.r.cert)
		ret = write_cert(&j);
out:
	job_free(&j);
	return ret;
}
