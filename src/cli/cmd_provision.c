/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak provision: the owner's side of deploy step 3 (DESIGN §7), a thin edge over
 * ck_provision_run (include/cloak/enclave.h): on one TLS connection to the enclave, fresh
 * nonce-bound evidence appraised against that very connection's certificate, and only then
 * the package key, the owner's TLS key and the secrets, signed, bound to that certificate and
 * optionally sealed. `cloak deploy` runs the same library call after uploading.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cloak/client.h"
#include "cloak/codec.h"
#include "cloak/enclave.h"
#include "cloak/manifest.h"
#include "cloak/package.h"
#include "cloak/provision.h"
#include "cloak/target.h"

#define MAX_SECRETS_FILE (CK_PROVISION_MAX_SECRETS * (CK_SECRET_VALUE_MAX + 80))

struct prov_opts {
	const char *manifest, *package_key, *chain, *tls_key, *owner_key, *policy, *at;
	bool sim, seal, json;
	struct ck_provision *p; /* the secrets go straight into it */
	int bad;		/* a --secret or --secrets-file that did not parse */
};

static int secrets_file(struct ck_provision *p, const char *path);

static int on_secrets_file(void *arg, const char *v)
{
	struct prov_opts *o = arg;
	return secrets_file(o->p, v);
}

static int on_secret(void *arg, const char *v)
{
	struct prov_opts *o = arg;
	struct ck_err e;
	if (ck_secrets_parse(v, strlen(v), o->p, &e) == 0)
		return 0;
	ck_err_wrap(&e, "--secret");
	cli_err(&e);
	return -1;
}

#define PO struct prov_opts
static const struct ck_opt opts[] = {
    CK_OPT_NEED("manifest", 0, "FILE", PO, manifest, "the app's deploy manifest"),
    CK_OPT_NEED("package-key", 0, "FILE", PO, package_key, "the package key (mode 0600)"),
    CK_OPT_EACH("secrets-file", 0, "FILE", on_secrets_file,
		"NAME=VALUE lines (# comments); names [A-Z_][A-Z0-9_]*"),
    CK_OPT_EACH("secret", 0, "NAME=VALUE", on_secret,
		"one secret (visible in the process list: prefer the file)"),
    CK_OPT_ARG("owner-tls-chain", 0, "PEM", PO, chain, "owner-cert: the owner's certificate chain"),
    CK_OPT_ARG("owner-tls-key", 0, "PEM", PO, tls_key, "...and its key"),
    CK_OPT_ARG("owner-key", 0, "FILE", PO, owner_key, "default: ~/.config/cloak/owner.key"),
    CK_OPT_ARG("policy", 0, "FILE", PO, policy,
	       "the policy (default: the manifest's, else UpToDate; a simulated enclave is held "
	       "to the runtime beside cloak when it names no measurement)"),
    CK_OPT_FLAG("allow-simulation", 0, PO, sim, "accept a simulated enclave (labelled SIMULATED)"),
    CK_OPT_FLAG("seal", 0, PO, seal, "also seal the message to the enclave's attested seal key"),
    CK_OPT_ARG("at", 0, "TIME", PO, at, "the appraisal's time (default now)"),
    CK_OPT_JSON(PO, json),
    CK_OPT_END};
#undef PO

static const struct ck_opt_spec spec = {
    .name = "cloak provision",
    .operands = "HOST:PORT",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Sends the app's package key, TLS key (owner-cert) and secrets to the enclave at\n"
	     "HOST:PORT, after verifying it on the same TLS connection: a fresh quote bound to a\n"
	     "random nonce, appraised with the policy (--policy, else the manifest's, else\n"
	     "UpToDate only), in phase provisioning, for this package and manifest, binding the\n"
	     "TLS key of the connection. Nothing is sent if any check fails. The provisioning is\n"
	     "signed with the owner key the manifest names and bound to this enclave's\n"
	     "certificate: it cannot be replayed to another.\n"
	     "\n"
	     "Exit status: 0 provisioned, 1 refused (by the appraisal: nothing sent; or by the\n"
	     "enclave), 2 usage, unreadable input or no connection.",
    .opts = opts};

/* ---- secrets ------------------------------------------------------------------------------ */

static int secrets_file(struct ck_provision *p, const char *path)
{
	uint8_t *b;
	size_t n;
	struct ck_err e;
	int ret = cli_read(path, MAX_SECRETS_FILE, &b, &n, &e);
	if (ret == 0) {
		ret = ck_secrets_parse((const char *)b, n, p, &e);
		OPENSSL_cleanse(b, n);
		free(b);
		if (ret < 0)
			ck_err_wrap(&e, "%s", path);
	}
	if (ret < 0)
		cli_err(&e);
	return ret;
}

static char *read_text(const char *path, size_t max)
{
	uint8_t *b;
	size_t n;
	struct ck_err e;
	if (cli_read(path, max, &b, &n, &e) < 0) {
		cli_err(&e);
		return NULL;
	}
	char *s = realloc(b, n + 1);
	if (!s) {
		free(b);
		return NULL;
	}
	s[n] = 0;
	if (strlen(s) != n) {
		cli_errx("'%s' contains a NUL byte", path);
		free(s);
		return NULL;
	}
	return s;
}

/* ---- the command ---------------------------------------------------------------------------- */

/* What the owner deploys, as loaded from the options. */
struct deploy {
	struct ck_manifest m;
	uint8_t man_hash[32];
	struct ck_policy pol;
	struct ck_owner_key *owner;
	ck_time_t at;
};

static int load_owner(const struct prov_opts *o, struct deploy *d)
{
	char ownbuf[4096];
	const char *path = o->owner_key;
	struct ck_err e;
	uint8_t pub[CK_OWNER_PUB_LEN];
	if (!path && ck_owner_key_default_path(ownbuf, sizeof(ownbuf), &e) < 0) {
		cli_err(&e);
		return -1;
	}
	path = path ? path : ownbuf;
	if (ck_owner_key_load(path, false, &d->owner, NULL, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	ck_owner_key_public(d->owner, pub);
	if (CRYPTO_memcmp(pub, d->m.owner_key, sizeof(pub)) != 0) {
		cli_errx("the owner key '%s' is not the one the manifest names", path);
		return -1;
	}
	return 0;
}

/* A simulated enclave whose policy names no measurement is held to the cloak-runtime beside
 * cloak: never to whatever the node says it runs. */
static int sim_measurement(struct ck_policy *p)
{
	struct ck_err e;
	char path[PATH_MAX], hex[65];
	uint8_t(*mr)[32] = malloc(sizeof(*mr));
	if (!mr || cli_measure_runtime(NULL, *mr, path, &e) < 0) {
		free(mr);
		cli_errx("a simulated enclave needs a measurement to trust, and %s: give --policy "
			 "with \"mrenclave\"",
			 mr ? e.msg : "out of memory");
		return -1;
	}
	p->mrenclave = mr;
	p->n_mrenclave = 1;
	ck_hex_encode(*mr, 32, hex);
	fprintf(stderr, "cloak: trusting the runtime beside cloak, %s (MRENCLAVE %.16s...)\n", path,
		hex);
	return 0;
}

/* The policy: given, else the manifest's, else the default. */
static int load_policy(const struct prov_opts *o, struct deploy *d)
{
	struct ck_err e;
	if (o->policy || !d->m.policy_json) {
		if (cli_policy(o->policy, o->sim, &d->pol) != 0)
			return -1;
	} else if (ck_policy_parse(d->m.policy_json, strlen(d->m.policy_json), &d->pol, &e) < 0) {
		ck_err_wrap(&e, "the manifest's policy");
		cli_err(&e);
		return -1;
	} else {
		d->pol.allow_simulation = d->pol.allow_simulation || o->sim;
	}
	return o->sim && !ck_policy_measured(&d->pol) ? sim_measurement(&d->pol) : 0;
}

static int load(const struct prov_opts *o, struct ck_provision *p, struct deploy *d)
{
	struct ck_err e;
	if (!o->chain != !o->tls_key) {
		cli_errx("--owner-tls-chain and --owner-tls-key go together");
		return -1;
	}
	if (cli_time(o->at, &d->at) < 0)
		return -1;
	char *mt = read_text(o->manifest, CK_MANIFEST_MAX_LEN + 1);
	if (!mt)
		return -1;
	int mr = ck_manifest_parse(mt, strlen(mt), &d->m, d->man_hash, &e);
	free(mt);
	if (mr < 0 || ck_pkg_key_read(o->package_key, p->package_key, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	if ((d->m.mode == CK_MODE_OWNER_CERT) != (o->chain != NULL)) {
		cli_errx("the manifest's mode is %s: %s", ck_mode_name(d->m.mode),
			 o->chain ? "--owner-tls-chain and --owner-tls-key are for owner-cert only"
				  : "it needs --owner-tls-chain and --owner-tls-key");
		return -1;
	}
	if (o->chain && (!(p->owner_tls_chain = read_text(o->chain, 1 << 20)) ||
			 !(p->owner_tls_key = read_text(o->tls_key, 1 << 20))))
		return -1;
	return load_owner(o, d) < 0 || load_policy(o, d) < 0 ? -1 : 0;
}

static void report(const struct prov_opts *o, const char *target, const struct deploy *d,
		   const struct ck_provision *p, const struct ck_provision_outcome *out)
{
	char ch[65];
	const char *tcb = out->ev.a.valid ? ck_tcb_status_name(out->ev.a.tcb_status) : "-";
	ck_hex_encode(out->cert_sha256, 32, ch);
	if (!o->json) {
		printf("provisioned %s: %zu secret%s%s, bound to certificate %.16s...\n", target,
		       p->n_secrets, p->n_secrets == 1 ? "" : "s", o->seal ? ", sealed" : "", ch);
		return;
	}
	json_t *j = json_object();
	json_object_set_new(j, "provisioned", json_true());
	json_object_set_new(j, "target", json_string(target));
	json_object_set_new(j, "simulated", json_boolean(out->ev.a.simulated));
	json_object_set_new(j, "tcb_status", json_string(tcb));
	json_object_set_new(j, "mode", json_string(ck_mode_name(d->m.mode)));
	json_object_set_new(j, "enclave_cert_sha256", json_string(ch));
	json_object_set_new(j, "secrets", json_integer((json_int_t)p->n_secrets));
	json_object_set_new(j, "sealed", json_boolean(o->seal));
	json_object_set_new(j, "enclave",
			    json_loads(out->answer ? out->answer : "null", JSON_DECODE_ANY, NULL));
	cli_print_json(j);
}

/* The refusal, every reason named; exit 1 when the appraisal or the enclave refused. */
static int refused(const char *target, const struct ck_provision_outcome *out,
		   const struct ck_err *e)
{
	if (out->sent || (!out->verified && out->ev.n_errs)) {
		for (size_t i = 0; !out->sent && i < out->ev.n_errs; i++)
			cli_err(&out->ev.errs[i]);
		if (out->sent)
			cli_err(e);
		else
			cli_errx("%s was not verified: nothing was sent", target);
		return EXIT_REJECTED;
	}
	cli_err(e);
	return ck_err_is(e, CK_E_TLS) || ck_err_is(e, CK_E_IO) || ck_err_is(e, CK_E_USAGE)
		   ? EXIT_USAGE
		   : EXIT_REJECTED;
}

/* The enclave's connection: no CA checks it; the evidence appraised on it does. */
static int connect_enclave(const char *target, struct ck_client *c)
{
	struct ck_target t;
	struct ck_err e;
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	int r = -1;
	if (ck_target_parse(target, &t, &e) == 0 && !t.tls)
		ck_errf(&e, CK_E_USAGE, "'%s': provisioning is over TLS only", target);
	else if (ctx && SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
		 ck_target_parse(target, &t, &e) == 0)
		r = ck_client_open(c, &t, ctx, 0, &e);
	SSL_CTX_free(ctx); /* the connection keeps what it needs */
	if (r < 0)
		cli_err(&e);
	return r;
}

int cmd_provision(int argc, char **argv)
{
	struct ck_provision p = {0};
	struct prov_opts o = {.p = &p};
	struct deploy d = {0};
	struct ck_client c = {0};
	struct ck_provision_outcome out = {0};
	struct ck_err e;
	int ret = EXIT_USAGE, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		goto out;
	const char *target = argv[arg];
	ret = EXIT_USAGE;
	if (load(&o, &p, &d) < 0 || connect_enclave(target, &c) < 0)
		goto out;
	if (!o.json)
		fprintf(stderr, "cloak: appraising %s on this connection ...\n", target);
	struct ck_provision_job job = {.manifest = &d.m,
				       .manifest_sha256 = d.man_hash,
				       .p = &p,
				       .owner = d.owner,
				       .policy = &d.pol,
				       .at = d.at,
				       .seal = o.seal,
				       .on_wait = cli_on_wait,
				       .wait_arg = &(struct cli_wait){target, o.json}};
	if (ck_provision_run(&c, &job, &out, &e) < 0) {
		ret = refused(target, &out, &e);
		goto out;
	}
	if (!o.json)
		fprintf(stderr,
			"cloak: verified%s: tcb %s, phase provisioning, package and manifest "
			"match, TLS key bound\n",
			out.ev.a.simulated ? " (SIMULATED: NOT A REAL TEE)" : "",
			ck_tcb_status_name(out.ev.a.tcb_status));
	report(&o, target, &d, &p, &out);
	ret = EXIT_OK;
out:
	ck_client_close(&c);
	ck_provision_outcome_free(&out);
	ck_provision_free(&p);
	ck_manifest_free(&d.m);
	ck_policy_free(&d.pol);
	ck_owner_key_free(d.owner);
	return ret;
}
