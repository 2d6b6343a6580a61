/* SPDX-License-Identifier: Apache-2.0 */
/* cloak package: a directory -> an encrypted package, its key, and (optionally) the manifest. */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/applog.h"
#include "cloak/manifest.h"
#include "cloak/owner.h"
#include "cloak/package.h"

struct package_opts {
	const char *out, *key_out, *man_out, *name, *mode, *run, *health, *domain, *cert, *expires;
	const char *policy, *owner_key, *log_key;
	bool json;
};

#define PO struct package_opts
static const struct ck_opt opts[] = {
    CK_OPT_ARG("out", 'o', "FILE", PO, out, "the package (default: NAME-OF-DIR.cloakpkg)"),
    CK_OPT_ARG("key-out", 0, "FILE", PO, key_out,
	       "the package key, mode 0600 (default: the package path + .key)"),
    CK_OPT_ARG("manifest-out", 0, "FILE", PO, man_out,
	       "also write the deploy manifest (canonical JSON); it needs:"),
    CK_OPT_ARG("name", 0, "NAME", PO, name, "the app's name, a DNS label"),
    CK_OPT_ARG("run", 0, "CMD", PO, run, "the command that starts the app, inside the package"),
    CK_OPT_ARG("health", 0, "PATH", PO, health, "the app's health endpoint, e.g. /healthz"),
    CK_OPT_ARG("mode", 0, "MODE", PO, mode, "zero-trust (default), owner-cert or operator-tls"),
    CK_OPT_ARG("domain", 0, "NAME", PO, domain, "the app's domain (required with owner-cert)"),
    CK_OPT_ARG("owner-cert", 0, "PEM", PO, cert,
	       "the owner's certificate chain (owner-cert): its SHA-256 goes in"),
    CK_OPT_ARG("expires", 0, "TIME", PO, expires,
	       "when the manifest stops being valid (default: 90 days)"),
    CK_OPT_ARG("policy", 0, "FILE", PO, policy, "the attestation policy the owner deploys with"),
    CK_OPT_ARG("log-key", 0, "FILE", PO, log_key,
	       "the app's output is sealed to this X25519 key, made if missing "
	       "(default: the package path + .logkey)"),
    CK_OPT_ARG("owner-key", 0, "FILE", PO, owner_key,
	       "the owner's Ed25519 key (default: created in ~/.config/cloak)"),
    CK_OPT_JSON(PO, json),
    CK_OPT_END};
#undef PO

static const struct ck_opt_spec spec = {
    .name = "cloak package",
    .operands = "DIR",
    .min_operands = 1,
    .max_operands = 1,
    .about = "Packs DIR deterministically (sorted, owner 0, time 0, modes 0644/0755,\n"
	     ".cloakignore applied), prints its fingerprint (SHA-256 of the tar), and encrypts\n"
	     "it with a fresh 256-bit key (AES-256-GCM, 64 KiB chunks).",
    .opts = opts};

static int fail(const struct ck_err *e)
{
	cli_err(e);
	return EXIT_USAGE;
}

/* A file's SHA-256 (the owner's certificate chain). */
static int file_sha256(const char *path, uint8_t out[32])
{
	uint8_t *b;
	size_t n;
	struct ck_err e;
	if (cli_read(path, 1024 * 1024, &b, &n, &e) < 0)
		return fail(&e);
	EVP_Digest(b, n, out, NULL, EVP_sha256(), NULL);
	free(b);
	return 0;
}

/* The manifest's fields from the options, checked (all but the hashes) before any work. */
static int manifest_load(const struct package_opts *o, struct ck_manifest *m)
{
	struct ck_err e;
	if (!o->name || !o->run || !o->health) {
		cli_errx("--manifest-out needs --name, --run and --health");
		return EXIT_USAGE;
	}
	m->mode = CK_MODE_ZERO_TRUST;
	if (o->mode && ck_mode_parse(o->mode, &m->mode) < 0) {
		cli_errx("--mode: '%s' is not zero-trust, owner-cert or operator-tls", o->mode);
		return EXIT_USAGE;
	}
	if (strlen(o->name) >= sizeof(m->name) || strlen(o->run) >= sizeof(m->run) ||
	    strlen(o->health) >= sizeof(m->health) ||
	    (o->domain && strlen(o->domain) >= sizeof(m->domain))) {
		cli_errx("--name, --run, --health or --domain is too long");
		return EXIT_USAGE;
	}
	strcpy(m->name, o->name);
	strcpy(m->run, o->run);
	strcpy(m->health, o->health);
	if (o->domain)
		strcpy(m->domain, o->domain);
	if (cli_time(o->expires, &m->expires) < 0)
		return EXIT_USAGE;
	if (!o->expires)
		m->expires += 90 * 86400;
	if (o->cert && file_sha256(o->cert, m->owner_cert_sha256) < 0)
		return EXIT_USAGE;
	m->has_owner_cert = o->cert != NULL;
	if (o->policy) {
		uint8_t *b;
		size_t n;
		if (cli_read(o->policy, CK_POLICY_MAX_LEN, &b, &n, &e) < 0)
			return fail(&e);
		m->policy_json = (char *)b;
	}
	char *tmp;
	size_t tl;
	uint8_t h[32];
	if (ck_manifest_encode(m, &tmp, &tl, h, &e) < 0)
		return fail(&e);
	free(tmp);
	return 0;
}

/* The log key the app's output is sealed to: loaded, or made and written (0600). */
static int log_key(const char *path, bool quiet, uint8_t pub[CK_LOG_KEY_LEN], struct ck_err *e)
{
	uint8_t priv[CK_LOG_KEY_LEN];
	int r;
	if (access(path, F_OK) == 0) {
		r = ck_log_key_load(path, priv, pub, e);
	} else {
		r = ck_log_keygen(priv, pub, e) < 0 ? -1 : ck_log_key_write(path, priv, e);
		if (r == 0 && !quiet)
			fprintf(stderr,
				"cloak: created log key %s (the app's output opens with it)\n",
				path);
	}
	OPENSSL_cleanse(priv, sizeof(priv));
	return r;
}

/* The manifest, completed with the package's hashes and the owner's key, written. */
static int manifest_write(const struct package_opts *o, struct ck_manifest *m,
			  const struct ck_pack_result *res, const char *log_path, char mh[65],
			  struct ck_err *e)
{
	char keypath[4096];
	const char *owner_key = o->owner_key;
	struct ck_owner_key *ok;
	bool created;
	if (!owner_key) {
		if (ck_owner_key_default_path(keypath, sizeof(keypath), e) < 0)
			return -1;
		owner_key = keypath;
	}
	if (ck_owner_key_load(owner_key, true, &ok, &created, e) < 0)
		return -1;
	if (created && !o->json)
		fprintf(stderr, "cloak: created owner key %s (keep it safe)\n", owner_key);
	ck_owner_key_public(ok, m->owner_key);
	ck_owner_key_free(ok);
	if (log_key(log_path, o->json, m->log_key, e) < 0)
		return -1;
	m->has_log_key = true;
	memcpy(m->fingerprint, res->fingerprint, 32);
	memcpy(m->package_sha256, res->package_sha256, 32);
	char *text;
	size_t tl;
	uint8_t h[32];
	if (ck_manifest_encode(m, &text, &tl, h, e) < 0)
		return -1;
	int wr = ck_write_file(o->man_out, text, tl, 0644, e);
	free(text);
	ck_hex_encode(h, 32, mh);
	return wr;
}

static void report(const struct package_opts *o, const char *out, const char *key_out,
		   const struct ck_pack_result *res, const char *mh)
{
	char fp[65], ph[65];
	ck_hex_encode(res->fingerprint, 32, fp);
	ck_hex_encode(res->package_sha256, 32, ph);
	if (o->json) {
		json_t *j =
		    json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "fingerprint", fp, "package",
			      out, "package_sha256", ph, "key", key_out, "entries",
			      (json_int_t)res->entries, "tar_bytes", (json_int_t)res->tar_len,
			      "package_bytes", (json_int_t)res->package_len);
		if (o->man_out) {
			json_object_set_new(j, "manifest", json_string(o->man_out));
			json_object_set_new(j, "manifest_sha256", json_string(mh));
		}
		cli_print_json(j);
		return;
	}
	printf("fingerprint     %s\n", fp);
	printf("package         %s (%llu bytes, %zu entries)\n", out,
	       (unsigned long long)res->package_len, res->entries);
	printf("package sha256  %s\n", ph);
	printf("key             %s (mode 0600: keep it secret)\n", key_out);
	if (o->man_out)
		printf("manifest        %s (sha256 %s)\n", o->man_out, mh);
}

/* NAME-OF-DIR.cloakpkg in the current directory. */
static void default_out(const char *dir, char *out, size_t cap)
{
	char tmp[4096];
	snprintf(tmp, sizeof(tmp), "%s", dir);
	size_t n = strlen(tmp);
	while (n > 1 && tmp[n - 1] == '/')
		tmp[--n] = 0;
	snprintf(out, cap, "%s.cloakpkg", basename(tmp));
}

int cmd_package(int argc, char **argv)
{
	struct package_opts o = {0};
	struct ck_manifest m = {0};
	struct ck_pack_result res;
	struct ck_err e;
	char def_out[4096], def_key[4200], def_log[4200], mh[65] = "";
	uint8_t key[CK_PKG_KEY_LEN];
	int ret = EXIT_USAGE, arg = ck_opts_parse(&spec, argc, argv, &o, &ret);
	if (arg < 0)
		return ret;
	const char *dir = argv[arg];
	if (!o.man_out && (o.name || o.mode || o.run || o.health || o.domain || o.cert ||
			   o.expires || o.policy)) {
		cli_errx("--name, --mode, --run, --health, --domain, --owner-cert, --expires and "
			 "--policy describe the manifest: add --manifest-out FILE");
		return EXIT_USAGE;
	}
	if (o.man_out && (ret = manifest_load(&o, &m)) != 0)
		goto out;
	if (!o.out)
		default_out(dir, def_out, sizeof(def_out));
	const char *out = o.out ? o.out : def_out;
	snprintf(def_key, sizeof(def_key), "%s.key", out);
	const char *key_out = o.key_out ? o.key_out : def_key;
	snprintf(def_log, sizeof(def_log), "%s.logkey", out);
	if (!o.json)
		fprintf(stderr, "cloak: packaging %s ...\n", dir);
	ret = EXIT_USAGE;
	if (ck_package_dir(dir, out, key, &res, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	int kr = ck_pkg_key_write(key_out, key, &e);
	OPENSSL_cleanse(key, sizeof(key));
	if (kr < 0 || (o.man_out &&
		       manifest_write(&o, &m, &res, o.log_key ? o.log_key : def_log, mh, &e) < 0)) {
		cli_err(&e);
		remove(out); /* a package without its key (or manifest) is useless */
		if (kr == 0)
			remove(key_out); /* ours; a key file that was there before is left */
		goto out;
	}
	report(&o, out, key_out, &res, mh);
	ret = EXIT_OK;
out:
	ck_manifest_free(&m);
	return ret;
}
