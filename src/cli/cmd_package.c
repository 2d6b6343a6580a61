/* SPDX-License-Identifier: Apache-2.0 */
/* cloak package: a directory -> an encrypted package, its key, and (optionally) the manifest. */
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cli.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/manifest.h"
#include "cloak/owner.h"
#include "cloak/package.h"

static const char usage[] =
	"Usage: cloak package DIR [-o FILE] [--key-out FILE] [--json]\n"
	"                     [--manifest-out FILE --name NAME --run CMD --health PATH\n"
	"                      [--mode zero-trust|owner-cert|operator-tls] [--domain NAME]\n"
	"                      [--owner-cert PEM] [--expires RFC3339] [--policy FILE]\n"
	"                      [--owner-key FILE]]\n"
	"\n"
	"Packs DIR deterministically (sorted, owner 0, time 0, modes 0644/0755, .cloakignore\n"
	"applied), prints its fingerprint (SHA-256 of the tar), and encrypts it with a fresh\n"
	"256-bit key (AES-256-GCM, 64 KiB chunks).\n"
	"\n"
	"  -o FILE             the package (default: NAME-OF-DIR.cloakpkg)\n"
	"  --key-out FILE      the package key, mode 0600 (default: the package path + .key)\n"
	"  --manifest-out FILE also write the deploy manifest (canonical JSON), which needs:\n"
	"  --name NAME         the app's name, a DNS label\n"
	"  --run CMD           the command that starts the app, inside the package\n"
	"  --health PATH       the app's health endpoint, e.g. /healthz\n"
	"  --mode MODE         zero-trust (default), owner-cert or operator-tls\n"
	"  --domain NAME       the app's domain (required with owner-cert)\n"
	"  --owner-cert PEM    the owner's certificate chain (owner-cert): its SHA-256 goes in\n"
	"  --expires TIME      when the manifest stops being valid (default: 90 days)\n"
	"  --policy FILE       the attestation policy the owner deploys with (JSON)\n"
	"  --owner-key FILE    the owner's Ed25519 key (default: created in ~/.config/cloak)\n"
	"  --json              print one JSON object\n";

static int fail(const struct ck_err *e)
{
	cli_err(e);
	return EXIT_USAGE;
}

int cmd_package(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key-out", required_argument, NULL, 'k'},   {"manifest-out", required_argument, NULL, 'm'},
		{"name", required_argument, NULL, 'n'},	     {"mode", required_argument, NULL, 'M'},
		{"run", required_argument, NULL, 'r'},	     {"health", required_argument, NULL, 'H'},
		{"domain", required_argument, NULL, 'd'},    {"owner-cert", required_argument, NULL, 'c'},
		{"expires", required_argument, NULL, 'e'},   {"policy", required_argument, NULL, 'p'},
		{"owner-key", required_argument, NULL, 'O'}, {"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *key_out = NULL, *man_out = NULL, *name = NULL, *mode = NULL,
		   *run = NULL, *health = NULL, *domain = NULL, *cert = NULL, *expires = NULL,
		   *policy = NULL, *owner_key = NULL;
	bool json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'k': key_out = optarg; break;
		case 'm': man_out = optarg; break;
		case 'n': name = optarg; break;
		case 'M': mode = optarg; break;
		case 'r': run = optarg; break;
		case 'H': health = optarg; break;
		case 'd': domain = optarg; break;
		case 'c': cert = optarg; break;
		case 'e': expires = optarg; break;
		case 'p': policy = optarg; break;
		case 'O': owner_key = optarg; break;
		case 'j': json = true; break;
		case 'h': fputs(usage, stdout); return EXIT_OK;
		default: fputs(usage, stderr); return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *dir = argv[optind];
	struct ck_manifest m = {0};
	struct ck_err e;
	if (!man_out && (name || mode || run || health || domain || cert || expires || policy)) {
		cli_errx("--name, --mode, --run, --health, --domain, --owner-cert, --expires and "
			 "--policy describe the manifest: add --manifest-out FILE");
		return EXIT_USAGE;
	}
	if (man_out) { /* check the manifest's inputs before doing any work */
		if (!name || !run || !health) {
			cli_errx("--manifest-out needs --name, --run and --health");
			return EXIT_USAGE;
		}
		m.mode = CK_MODE_ZERO_TRUST;
		if (mode && ck_mode_parse(mode, &m.mode) < 0) {
			cli_errx("--mode: '%s' is not zero-trust, owner-cert or operator-tls", mode);
			return EXIT_USAGE;
		}
		if (strlen(name) >= sizeof(m.name) || strlen(run) >= sizeof(m.run) ||
		    strlen(health) >= sizeof(m.health) || (domain && strlen(domain) >= sizeof(m.domain))) {
			cli_errx("--name, --run, --health or --domain is too long");
			return EXIT_USAGE;
		}
		strcpy(m.name, name);
		strcpy(m.run, run);
		strcpy(m.health, health);
		if (domain)
			strcpy(m.domain, domain);
		if (cli_time(expires, &m.expires) < 0)
			return EXIT_USAGE;
		if (!expires)
			m.expires += 90 * 86400;
		if (cert) {
			uint8_t *b;
			size_t n;
			if (cli_read(cert, 1024 * 1024, &b, &n, &e) < 0)
				return fail(&e);
			EVP_Digest(b, n, m.owner_cert_sha256, NULL, EVP_sha256(), NULL);
			free(b);
			m.has_owner_cert = true;
		}
		if (policy) {
			uint8_t *b;
			size_t n;
			if (cli_read(policy, CK_POLICY_MAX_LEN, &b, &n, &e) < 0)
				return fail(&e);
			m.policy_json = (char *)b;
		}
		/* validate everything but the hashes now */
		char *tmp;
		size_t tl;
		uint8_t h[32];
		if (ck_manifest_encode(&m, &tmp, &tl, h, &e) < 0) {
			ck_manifest_free(&m);
			return fail(&e);
		}
		free(tmp);
	}

	char def_out[4096], def_key[4200], keypath[4096];
	if (!out) {
		char tmp[4096];
		snprintf(tmp, sizeof(tmp), "%s", dir);
		size_t n = strlen(tmp);
		while (n > 1 && tmp[n - 1] == '/')
			tmp[--n] = 0;
		snprintf(def_out, sizeof(def_out), "%s.cloakpkg", basename(tmp));
		out = def_out;
	}
	if (!key_out) {
		snprintf(def_key, sizeof(def_key), "%s.key", out);
		key_out = def_key;
	}
	if (!json)
		fprintf(stderr, "cloak: packaging %s ...\n", dir);
	uint8_t key[CK_PKG_KEY_LEN];
	struct ck_pack_result res;
	int ret = EXIT_USAGE;
	if (ck_package_dir(dir, out, key, &res, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	int kr = ck_pkg_key_write(key_out, key, &e);
	OPENSSL_cleanse(key, sizeof(key));
	if (kr < 0) {
		cli_err(&e);
		remove(out); /* a package without its key is useless: leave nothing behind */
		goto out;
	}
	char fp[65], ph[65], mh[65] = "";
	ck_hex_encode(res.fingerprint, 32, fp);
	ck_hex_encode(res.package_sha256, 32, ph);
	if (man_out) {
		struct ck_owner_key *ok;
		bool created;
		if (!owner_key) {
			if (ck_owner_key_default_path(keypath, sizeof(keypath), &e) < 0)
				goto undo;
			owner_key = keypath;
		}
		if (ck_owner_key_load(owner_key, true, &ok, &created, &e) < 0)
			goto undo;
		if (created && !json)
			fprintf(stderr, "cloak: created owner key %s (keep it safe)\n", owner_key);
		ck_owner_key_public(ok, m.owner_key);
		ck_owner_key_free(ok);
		memcpy(m.fingerprint, res.fingerprint, 32);
		memcpy(m.package_sha256, res.package_sha256, 32);
		char *text;
		size_t tl;
		uint8_t h[32];
		if (ck_manifest_encode(&m, &text, &tl, h, &e) < 0)
			goto undo;
		int wr = ck_write_file(man_out, text, tl, 0644, &e);
		free(text);
		if (wr < 0)
			goto undo;
		ck_hex_encode(h, 32, mh);
	}
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "fingerprint", fp,
				      "package", out, "package_sha256", ph, "key", key_out,
				      "entries", (json_int_t)res.entries, "tar_bytes",
				      (json_int_t)res.tar_len, "package_bytes",
				      (json_int_t)res.package_len);
		if (man_out) {
			json_object_set_new(o, "manifest", json_string(man_out));
			json_object_set_new(o, "manifest_sha256", json_string(mh));
		}
		cli_print_json(o);
	} else {
		printf("fingerprint     %s\n", fp);
		printf("package         %s (%llu bytes, %zu entries)\n", out,
		       (unsigned long long)res.package_len, res.entries);
		printf("package sha256  %s\n", ph);
		printf("key             %s (mode 0600: keep it secret)\n", key_out);
		if (man_out)
			printf("manifest        %s (sha256 %s)\n", man_out, mh);
	}
	ret = EXIT_OK;
	goto out;
undo:
	cli_err(&e);
	remove(out);
	remove(key_out);
out:
	ck_manifest_free(&m);
	return ret;
}
