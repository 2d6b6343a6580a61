/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak verify: is this service a genuine enclave running the expected app, and does its TLS
 * key live there? Fetches the certificate and /.well-known/cloak/evidence from the same TLS
 * connection (nothing secret is sent; everything is checked after), appraises, checks the key
 * binding and the claims, and says who can read the traffic.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/ratls.h"

#define EVIDENCE_PATH "/.well-known/cloak/evidence"
#define FETCH_TIMEOUT 20L

static const char usage[] =
    "Usage: cloak verify TARGET [--fingerprint HEX] [--policy FILE] [--allow-simulation]\n"
    "                    [--nonce] [--collateral FILE] [--out CERT.pem] [--at RFC3339] [--json]\n"
    "\n"
    "TARGET is https://host[:port], host:port, http://host:port (behind the operator's TLS),\n"
    "or a file: an RA-TLS certificate (PEM) or an evidence bundle.\n"
    "\n"
    "  --fingerprint HEX   the app fingerprint the enclave must report (cloak fingerprint DIR)\n"
    "  --policy FILE       attestation policy (default: UpToDate only, no debug)\n"
    "  --allow-simulation  accept cloak's simulation PKI (every output then says SIMULATED)\n"
    "  --nonce             ask for a fresh quote bound to a random nonce\n"
    "  --collateral FILE   collateral for evidence that carries none\n"
    "  --out CERT.pem      on success, write the verified certificate (for curl --cacert)\n"
    "  --at TIME           verification time (default now)\n"
    "  --json              print one JSON object\n"
    "\n"
    "Exit status: 0 verified, 1 invalid or rejected, 2 usage, unreadable input or no\n"
    "connection.\n";

struct fetch {
	X509 *cert; /* the leaf the server presented on this connection */
	char *body;
	size_t len;
	bool too_big;
	bool quiet; /* no retry notes on stderr (--json) */
};

static int capture(X509_STORE_CTX *x, void *arg)
{
	struct fetch *f = arg;
	X509 *c = X509_STORE_CTX_get0_cert(x);
	if (c && !f->cert) {
		X509_up_ref(c);
		f->cert = c;
	}
	return 1; /* accepted for now: nothing secret is sent, and everything is checked after */
}

static CURLcode ssl_ctx_cb(CURL *curl, void *ctx, void *arg)
{
	(void)curl;
	SSL_CTX_set_cert_verify_callback((SSL_CTX *)ctx, capture, arg);
	return CURLE_OK;
}

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct fetch *f = arg;
	size_t k = sz * n;
	if (f->len + k > CK_BUNDLE_MAX_LEN) {
		f->too_big = true;
		return 0;
	}
	char *b = realloc(f->body, f->len + k + 1);
	if (!b)
		return 0;
	memcpy(b + f->len, p, k);
	f->body = b;
	f->len += k;
	f->body[f->len] = 0;
	return k;
}

/* Turns TARGET into a base URL "scheme://host:port"; false if it is not a network target. */
static bool base_url(const char *t, char *out, size_t cap, bool *tls)
{
	*tls = true;
	if (!strncmp(t, "https://", 8) || !strncmp(t, "http://", 7)) {
		*tls = t[4] == 's';
		const char *h = t + (*tls ? 8 : 7);
		size_t n = strcspn(h, "/?#");
		snprintf(out, cap, "%s%.*s", *tls ? "https://" : "http://", (int)n, h);
		return n > 0;
	}
	const char *colon = strrchr(t, ':');
	if (!colon || colon == t || !colon[1] || strchr(t, '/'))
		return false;
	for (const char *p = colon + 1; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	snprintf(out, cap, "https://%s", t);
	return true;
}

static int fetch(const char *base, const uint8_t *nonce, size_t nl, struct fetch *f,
		 struct ck_err *err)
{
	char url[2048], hex[2 * CK_NONCE_MAX + 1];
	CURL *c = curl_easy_init();
	long code = 0;
	if (!c)
		return ck_errf(err, CK_E_NOMEM, "curl init failed");
	if (nl)
		ck_hex_encode(nonce, nl, hex);
	snprintf(url, sizeof(url), "%s%s%s%s", base, EVIDENCE_PATH, nl ? "?nonce=" : "",
		 nl ? hex : "");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_TIMEOUT, FETCH_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, f);
	/* Trust comes from the appraisal, not from a CA: capture the certificate, check later. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_cb);
	curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, f);
	curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
	curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 1L);
	CURLcode r;
	for (int attempt = 0;; attempt++) { /* 429: as often as Retry-After allows */
		curl_off_t ra = 0;
		r = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra);
		if (r != CURLE_OK ||
		    !cli_retry_wait(url, (int)code, ra > 0 ? (unsigned)ra : 0, attempt, f->quiet))
			break;
		free(f->body); /* the refusal's body; the next answer replaces it */
		f->body = NULL;
		f->len = 0;
		X509_free(f->cert); /* the evidence must bind the connection it came over */
		f->cert = NULL;
	}
	curl_easy_cleanup(c);
	if (f->too_big)
		return ck_errf(err, CK_E_TOO_LARGE, "%s: evidence is over %d bytes", url,
			       CK_BUNDLE_MAX_LEN);
	if (r != CURLE_OK)
		return ck_errf(err, CK_E_TLS, "%s: %s", url, curl_easy_strerror(r));
	if (code != 200)
		return ck_errf(err, CK_E_HTTP, "%s: HTTP status %ld", url, code);
	return 0;
}

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

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"fingerprint", required_argument, NULL, 'f'},
	    {"policy", required_argument, NULL, 'p'},
	    {"allow-simulation", no_argument, NULL, 's'},
	    {"nonce", no_argument, NULL, 'n'},
	    {"collateral", required_argument, NULL, 'c'},
	    {"out", required_argument, NULL, 'o'},
	    {"at", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *fp_hex = NULL, *pol_path = NULL, *coll_path = NULL, *out = NULL, *at_s = NULL;
	bool sim = false, want_nonce = false, json = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			fp_hex = optarg;
			break;
		case 'p':
			pol_path = optarg;
			break;
		case 's':
			sim = true;
			break;
		case 'n':
			want_nonce = true;
			break;
		case 'c':
			coll_path = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 't':
			at_s = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return EXIT_OK;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fputs(usage, stderr);
		return EXIT_USAGE;
	}
	const char *target = argv[optind];
	struct ck_expect x = {0};
	struct ck_err e;
	struct ck_policy pol;
	ck_time_t at;
	if (fp_hex) {
		if (ck_hex_decode_exact(fp_hex, strlen(fp_hex), x.app, 32, "--fingerprint", &e) <
		    0) {
			cli_err(&e);
			return EXIT_USAGE;
		}
		x.has_app = true;
	}
	if (cli_time(at_s, &at) < 0 || cli_policy(pol_path, sim, &pol) < 0)
		return EXIT_USAGE;

	int ret = EXIT_USAGE;
	struct report r = {0};
	struct fetch f = {.quiet = json};
	struct ck_bundle b = {0};
	bool have_bundle = false, tls = true;
	uint8_t nonce[32];
	char base[1024];
	uint8_t *file = NULL, *spki = NULL;
	size_t flen, spki_len = 0;
	struct ck_collateral coll = {0};
	struct ck_verified_collateral *vc = NULL;

	if (base_url(target, base, sizeof(base), &tls)) {
		if (want_nonce && RAND_bytes(nonce, sizeof(nonce)) != 1)
			goto out;
		if (!json)
			fprintf(stderr, "cloak: fetching %s%s ...\n", base, EVIDENCE_PATH);
		if (fetch(base, nonce, want_nonce ? sizeof(nonce) : 0, &f, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		if (ck_bundle_parse(f.body, f.len, &b, &e) < 0) {
			add_extra(&r, &e);
			ret = EXIT_REJECTED;
			goto report;
		}
		have_bundle = true;
		r.cert = f.cert;
		f.cert = NULL;
		if (tls && !r.cert) {
			ck_errf(&e, CK_E_TLS, "the server presented no certificate");
			add_extra(&r, &e);
		}
		if (want_nonce) {
			x.nonce = nonce;
			x.nonce_len = sizeof(nonce);
			x.nonce_proof = b.has_nonce_proof ? &b.nonce_proof : NULL;
		}
	} else {
		if (cli_read(target, CK_BUNDLE_MAX_LEN, &file, &flen, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		if (ck_bundle_sniff(file, flen)) {
			if (ck_bundle_parse((char *)file, flen, &b, &e) < 0) {
				cli_err(&e);
				ret = EXIT_REJECTED;
				goto out;
			}
			have_bundle = true;
		} else {
			/* PEM, decoded to its DER bytes, which must be DER (ratls.h) */
			BIO *bio = BIO_new_mem_buf(file, (int)flen);
			unsigned char *der = NULL;
			long dl = 0;
			int pem = bio && PEM_bytes_read_bio(&der, &dl, NULL, PEM_STRING_X509, bio,
							    NULL, NULL) == 1;
			BIO_free(bio);
			ERR_clear_error();
			if (!pem) {
				cli_errx("'%s' is neither a PEM certificate nor an evidence bundle",
					 target);
				goto out;
			}
			int strict = ck_ratls_cert_from_der(der, (size_t)dl, &r.cert, &e);
			OPENSSL_free(der);
			if (strict < 0) {
				ck_err_wrap(&e, "%s", target);
				cli_err(&e);
				ret = EXIT_REJECTED;
				goto out;
			}
		}
		if (want_nonce) {
			cli_errx("--nonce needs a live target (https://host:port)");
			goto out;
		}
	}

	/* The certificate and what it carries. */
	if (r.cert) {
		if (ck_ratls_inspect(r.cert, &r.info, &e) < 0) {
			add_extra(&r, &e);
		} else {
			r.have_cert = true;
		}
		if (ck_spki_der(X509_get0_pubkey(r.cert), &spki, &spki_len) == 0) {
			uint8_t h[32];
			ck_hash(CK_HASH_SHA256, spki, spki_len, h);
			char *b64 = ck_b64_encode(h, 32);
			snprintf(r.spki_b64, sizeof(r.spki_b64), "%s", b64 ? b64 : "");
			free(b64);
		}
	}
	/* Collateral: given, or carried by the bundle. */
	const struct ck_collateral *use = have_bundle && b.has_collateral ? &b.collateral : NULL;
	if (coll_path) {
		uint8_t *cb;
		size_t cl;
		if (cli_read(coll_path, CK_COLLATERAL_MAX_LEN, &cb, &cl, &e) < 0 ||
		    ck_collateral_parse((char *)cb, cl, &coll, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		free(cb);
		use = &coll;
	}
	if (!use) {
		cli_errx("no collateral: the evidence carries none; pass --collateral FILE");
		goto out;
	}
	struct ck_appraise_opts ao = {.at = at,
				      .allow_simulation = pol.allow_simulation,
				      .allow_expired_collateral = pol.allow_expired_collateral};
	if (ck_collateral_verify(use, pol.allow_simulation, &vc, &e) < 0) {
		r.ev.appraise_ret = -1;
		r.ev.a.error = e;
		r.ev.errs[r.ev.n_errs++] = e;
		r.have_ev = true;
		goto decide;
	}
	/* The evidence to appraise: the bundle's (fresh, nonce-bound when asked), else the
	 * certificate's own, decided by the library's one rule for certificates. The TLS key
	 * must be the one it binds, unless the operator terminates TLS. */
	const uint8_t *claims = have_bundle ? b.claims : r.info.claims_cbor;
	size_t cn = have_bundle ? b.claims_len : r.info.claims_len;
	bool operator_tls = false;
	if (claims) {
		struct ck_claims peek;
		/* behind the operator the evidence binds no key (no pubkey-hash); an operator-TLS
		 * enclave reached directly over its own RA-TLS certificate does bind it */
		operator_tls = ck_claims_parse(claims, cn, &peek, NULL) == 0 &&
			       peek.mode == CK_MODE_OPERATOR_TLS && !peek.has_pubkey_hash;
	}
	if (have_bundle) {
		ck_evidence_verify(b.quote, b.quote_len, claims, cn, operator_tls ? NULL : spki,
				   spki_len, vc, &ao, &pol, &x, &r.ev);
	} else if (r.have_cert && ck_ratls_primary(&r.info)) {
		ck_ratls_verify_cert(r.cert, &r.info, operator_tls, vc, &ao, &pol, &x, &r.ev);
	} else {
		ck_errf(&e, CK_E_RATLS_NONE, "the certificate carries no attestation evidence");
		add_extra(&r, &e);
		goto report;
	}
	r.have_ev = true;
	/* a certificate that also carries evidence must agree with it, and be as it was issued */
	if (have_bundle && r.have_cert && r.info.n_ext && !r.info.key_bound) {
		ck_errf(&e, CK_E_KEY_BINDING,
			"the certificate's own evidence does not bind its key");
		add_extra(&r, &e);
	}
	if (have_bundle && r.have_cert && r.info.n_ext &&
	    ck_ratls_check_self_signed(r.cert, &e) < 0)
		add_extra(&r, &e);
	if (r.cert && !operator_tls) {
		if (X509_cmp_time(X509_get0_notAfter(r.cert), &(time_t){(time_t)at}) < 0 ||
		    X509_cmp_time(X509_get0_notBefore(r.cert), &(time_t){(time_t)at}) > 0) {
			ck_errf(&e, CK_E_EXPIRED,
				"the TLS certificate is not valid at the verification time");
			add_extra(&r, &e);
		}
	}
decide:
	r.accepted = r.have_ev && r.ev.n_errs == 0 && r.n_extra == 0;
report:
	if (json) {
		cli_print_json(report_json(&r, &pol, at));
	} else {
		struct verdict v;
		verdict_decide(&v, &r.ev.a, r.ev.appraise_ret, &pol, at);
		v.accepted = r.accepted;
		v.n_errs = 0;
		for (size_t i = 0; i < r.ev.n_errs && v.n_errs < sizeof(v.errs) / sizeof(v.errs[0]);
		     i++)
			v.errs[v.n_errs++] = r.ev.errs[i];
		for (size_t i = 0; i < r.n_extra && v.n_errs < sizeof(v.errs) / sizeof(v.errs[0]);
		     i++)
			v.errs[v.n_errs++] = r.extra[i];
		verdict_print(&v);
		if (r.ev.have_claims) {
			char h[65];
			printf("  mode           %s\n",
			       r.ev.claims.mode ? ck_mode_name(r.ev.claims.mode) : "?");
			if (r.ev.claims.has_app) {
				ck_hex_encode(r.ev.claims.app, 32, h);
				printf("  app            %s%s\n", h,
				       x.has_app ? " (as expected)" : "");
			}
			printf("  phase          %s\n",
			       r.ev.claims.phase ? ck_phase_name(r.ev.claims.phase) : "?");
		}
		if (r.have_cert)
			printf("  key bound      %s\n",
			       r.ev.key_bound ? "yes: the TLS key lives in the enclave" : "NO");
		printf("  who can read   %s\n", who_can_read(r.ev.claims.mode));
		if (r.accepted && r.spki_b64[0])
			printf("  chromium       --ignore-certificate-errors-spki-list=%s\n",
			       r.spki_b64);
	}
	ret = r.accepted ? EXIT_OK : EXIT_REJECTED;
	if (r.accepted && out && r.cert) {
		BIO *bio = BIO_new(BIO_s_mem());
		char *pem;
		long pn;
		if (bio && PEM_write_bio_X509(bio, r.cert) &&
		    (pn = BIO_get_mem_data(bio, &pem)) > 0 &&
		    ck_write_file(out, pem, (size_t)pn, 0644, &e) == 0) {
			if (!json)
				printf("  certificate    %s (curl --cacert %s ...)\n", out, out);
		} else {
			cli_errx("cannot write '%s'", out);
			ret = EXIT_USAGE;
		}
		BIO_free(bio);
	}
out:
	ck_verified_collateral_free(vc);
	ck_collateral_free(&coll);
	ck_bundle_free(&b);
	X509_free(r.cert);
	X509_free(f.cert);
	free(f.body);
	free(file);
	free(spki);
	ck_policy_free(&pol);
	return ret;
}
