/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak provision: the owner's side of deploy step 3 (DESIGN §7). One TLS connection to the
 * enclave carries everything: a fresh evidence bundle bound to a random nonce is fetched and
 * appraised against the certificate of that very connection (genuine TEE, policy, phase
 * provisioning, this package and manifest, the TLS key inside the enclave), and only then are
 * the package key, the owner's TLS key and the secrets sent on it, signed with the owner key
 * and bound to that certificate (optionally sealed to the enclave's seal key as well).
 * `cloak deploy` will run the same steps after uploading.
 */
#include <errno.h>
#include <getopt.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/http.h"
#include "cloak/manifest.h"
#include "cloak/package.h"
#include "cloak/provision.h"
#include "cloak/ratls.h"

#define RESP_MAX	 CK_BUNDLE_MAX_LEN /* an evidence bundle is the largest answer */
#define IO_TIMEOUT_S	 30
#define MAX_SECRETS_FILE (CK_PROVISION_MAX_SECRETS * (CK_SECRET_VALUE_MAX + 80))

static const char usage[] =
    "Usage: cloak provision HOST:PORT --manifest FILE --package-key FILE\n"
    "                       [--secrets-file FILE] [--secret NAME=VALUE ...]\n"
    "                       [--owner-tls-chain PEM --owner-tls-key PEM] [--owner-key FILE]\n"
    "                       [--policy FILE] [--allow-simulation] [--seal] [--at TIME] [--json]\n"
    "\n"
    "Sends the app's package key, TLS key (owner-cert) and secrets to the enclave at\n"
    "HOST:PORT, after verifying it on the same TLS connection: a fresh quote bound to a\n"
    "random nonce, appraised with the policy (--policy, else the manifest's, else UpToDate\n"
    "only), in phase provisioning, for this package and manifest, binding the TLS key of the\n"
    "connection. Nothing is sent if any check fails. The provisioning is signed with the\n"
    "owner key the manifest names and bound to this enclave's certificate: it cannot be\n"
    "replayed to another.\n"
    "\n"
    "  --secrets-file FILE  NAME=VALUE lines (# comments); names [A-Z_][A-Z0-9_]*\n"
    "  --secret NAME=VALUE  one secret (visible in the process list: prefer the file)\n"
    "  --seal               also seal the message to the enclave's attested seal key\n"
    "  --owner-key FILE     default: ~/.config/cloak/owner.key\n"
    "\n"
    "Exit status: 0 provisioned, 1 refused (by the appraisal: nothing sent; or by the\n"
    "enclave), 2 usage, unreadable input or no connection.\n";

/* ---- one TLS connection, requests in sequence ------------------------------------------- */

struct conn {
	int fd;
	SSL_CTX *ctx;
	SSL *ssl;
	char *buf; /* bytes read past the last response */
	size_t len;
};

static void conn_close(struct conn *c)
{
	if (c->ssl) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
	free(c->buf);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static int conn_open(struct conn *c, const char *target, struct ck_err *err)
{
	char host[256], port[16];
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (!strncmp(target, "https://", 8))
		target += 8;
	const char *colon = strrchr(target, ':');
	if (!colon || colon == target || (size_t)(colon - target) >= sizeof(host) ||
	    strlen(colon + 1) == 0 || strlen(colon + 1) >= sizeof(port) ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return ck_errf(err, CK_E_USAGE, "'%s' is not HOST:PORT", target);
	snprintf(host, sizeof(host), "%.*s", (int)(colon - target), target);
	snprintf(port, sizeof(port), "%s", colon + 1);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
	int gr = getaddrinfo(host, port, &hints, &ai);
	if (gr != 0)
		return ck_errf(err, CK_E_TLS, "cannot resolve '%s': %s", host, gai_strerror(gr));
	for (struct addrinfo *a = ai; a && c->fd < 0; a = a->ai_next) {
		c->fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, 0);
		if (c->fd >= 0 && connect(c->fd, a->ai_addr, a->ai_addrlen) < 0) {
			close(c->fd);
			c->fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (c->fd < 0)
		return ck_errf(err, CK_E_TLS, "cannot connect to %s: %s", target, strerror(errno));
	struct timeval tv = {IO_TIMEOUT_S, 0};
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* No CA verification: what vouches for this certificate is the evidence it is bound to,
	 * appraised before anything is sent. */
	if (!(c->ctx = SSL_CTX_new(TLS_client_method())) ||
	    SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1 ||
	    !(c->ssl = SSL_new(c->ctx)) || SSL_set_fd(c->ssl, c->fd) != 1)
		return ck_errf(err, CK_E_NOMEM, "out of memory for TLS");
	SSL_set_tlsext_host_name(c->ssl, host);
	if (SSL_connect(c->ssl) != 1)
		return ck_errf(err, CK_E_TLS, "TLS handshake with %s failed", target);
	return 0;
}

/* Sends one request and reads its response (Content-Length framed; the runtime's are). */
static int conn_request(struct conn *c, const char *method, const char *path, const char *body,
			size_t body_len, int *status, unsigned *retry_after, char **resp,
			size_t *resp_len, struct ck_err *err)
{
	char head[512];
	int hl = snprintf(head, sizeof(head),
			  "%s %s HTTP/1.1\r\nHost: enclave\r\nContent-Type: application/json\r\n"
			  "Content-Length: %zu\r\n\r\n",
			  method, path, body_len);
	if (SSL_write(c->ssl, head, hl) != hl ||
	    (body_len && SSL_write(c->ssl, body, (int)body_len) != (int)body_len))
		return ck_errf(err, CK_E_TLS, "cannot send %s %s", method, path);
	struct ck_http_head h;
	long n = 0;
	for (;;) {
		if (c->len && (n = ck_http_parse_response(c->buf, c->len, false, &h, err)) != 0)
			break;
		char *nb = realloc(c->buf, c->len + 16384 + 1);
		if (!nb)
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		c->buf = nb;
		int k = SSL_read(c->ssl, c->buf + c->len, 16384);
		if (k <= 0)
			return ck_errf(err, CK_E_HTTP, "%s %s: the enclave closed the connection",
				       method, path);
		c->len += (size_t)k;
		if (c->len > CK_HTTP_MAX_HEAD + 16384)
			return ck_errf(err, CK_E_HTTP, "%s %s: the response head is too large",
				       method, path);
	}
	if (n < 0)
		return -1;
	if (h.body != CK_HTTP_BODY_LENGTH || h.content_length > RESP_MAX)
		return ck_errf(err, CK_E_HTTP,
			       "%s %s: the response is not framed by a length of at "
			       "most %d bytes",
			       method, path, RESP_MAX);
	size_t want = (size_t)n + (size_t)h.content_length;
	const struct ck_http_header *ra = ck_http_find(&h, "retry-after");
	*status = h.status;
	*retry_after = 0;
	for (size_t i = 0;
	     ra && i < ra->value_len && i < 4 && ra->value[i] >= '0' && ra->value[i] <= '9'; i++)
		*retry_after = *retry_after * 10 + (unsigned)(ra->value[i] - '0');
	char *nb = realloc(c->buf, want + 1);
	if (!nb)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	c->buf = nb;
	while (c->len < want) {
		int k = SSL_read(c->ssl, c->buf + c->len, (int)(want - c->len));
		if (k <= 0)
			return ck_errf(err, CK_E_HTTP, "%s %s: the response ended early", method,
				       path);
		c->len += (size_t)k;
	}
	if (!(*resp = malloc((size_t)h.content_length + 1)))
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	memcpy(*resp, c->buf + n, (size_t)h.content_length);
	(*resp)[h.content_length] = 0;
	*resp_len = (size_t)h.content_length;
	memmove(c->buf, c->buf + want, c->len - want);
	c->len -= want;
	return 0;
}

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

int cmd_provision(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"manifest", required_argument, NULL, 'm'},
	    {"package-key", required_argument, NULL, 'k'},
	    {"secrets-file", required_argument, NULL, 'S'},
	    {"secret", required_argument, NULL, 's'},
	    {"owner-tls-chain", required_argument, NULL, 'C'},
	    {"owner-tls-key", required_argument, NULL, 'K'},
	    {"owner-key", required_argument, NULL, 'O'},
	    {"policy", required_argument, NULL, 'p'},
	    {"allow-simulation", no_argument, NULL, 'a'},
	    {"seal", no_argument, NULL, 'e'},
	    {"at", required_argument, NULL, 't'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *man_path = NULL, *key_path = NULL, *chain_path = NULL, *tls_key_path = NULL;
	const char *owner_path = NULL, *pol_path = NULL, *at_s = NULL;
	bool sim = false, seal = false, json = false;
	struct ck_provision p = {0};
	struct ck_manifest m = {0};
	struct ck_policy pol = {0};
	struct ck_owner_key *owner = NULL;
	struct conn c = {.fd = -1};
	struct ck_bundle b = {0};
	struct ck_verified_collateral *vc = NULL;
	struct ck_err e;
	char *env = NULL, *resp = NULL, *sealed = NULL;
	uint8_t *spki = NULL;
	size_t spki_len = 0, env_len = 0, resp_len = 0;
	int ret = EXIT_USAGE, opt, st;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (opt) {
		case 'm':
			man_path = optarg;
			break;
		case 'k':
			key_path = optarg;
			break;
		case 'S':
			if (secrets_file(&p, optarg) < 0)
				goto out;
			break;
		case 's':
			if (ck_secrets_parse(optarg, strlen(optarg), &p, &e) < 0) {
				ck_err_wrap(&e, "--secret");
				cli_err(&e);
				goto out;
			}
			break;
		case 'C':
			chain_path = optarg;
			break;
		case 'K':
			tls_key_path = optarg;
			break;
		case 'O':
			owner_path = optarg;
			break;
		case 'p':
			pol_path = optarg;
			break;
		case 'a':
			sim = true;
			break;
		case 'e':
			seal = true;
			break;
		case 't':
			at_s = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(usage, stdout);
			ret = EXIT_OK;
			goto out;
		default:
			fputs(usage, stderr);
			goto out;
		}
	}
	if (optind != argc - 1 || !man_path || !key_path || !chain_path != !tls_key_path) {
		fputs(usage, stderr);
		goto out;
	}
	const char *target = argv[optind];
	ck_time_t at;
	uint8_t man_hash[32];
	char ownbuf[4096];
	if (cli_time(at_s, &at) < 0)
		goto out;
	/* what the owner deploys */
	char *mt = read_text(man_path, CK_MANIFEST_MAX_LEN + 1);
	if (!mt)
		goto out;
	int mr = ck_manifest_parse(mt, strlen(mt), &m, man_hash, &e);
	free(mt);
	if (mr < 0 || ck_pkg_key_read(key_path, p.package_key, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	if ((m.mode == CK_MODE_OWNER_CERT) != (chain_path != NULL)) {
		cli_errx("the manifest's mode is %s: %s", ck_mode_name(m.mode),
			 chain_path
			     ? "--owner-tls-chain and --owner-tls-key are for owner-cert only"
			     : "it needs --owner-tls-chain and --owner-tls-key");
		goto out;
	}
	if (chain_path && (!(p.owner_tls_chain = read_text(chain_path, 1 << 20)) ||
			   !(p.owner_tls_key = read_text(tls_key_path, 1 << 20))))
		goto out;
	if (!owner_path) {
		if (ck_owner_key_default_path(ownbuf, sizeof(ownbuf), &e) < 0) {
			cli_err(&e);
			goto out;
		}
		owner_path = ownbuf;
	}
	if (ck_owner_key_load(owner_path, false, &owner, NULL, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	uint8_t pub[CK_OWNER_PUB_LEN];
	ck_owner_key_public(owner, pub);
	if (CRYPTO_memcmp(pub, m.owner_key, sizeof(pub)) != 0) {
		cli_errx("the owner key '%s' is not the one the manifest names", owner_path);
		goto out;
	}
	/* the policy: given, else the manifest's, else the default */
	if (pol_path || !m.policy_json) {
		if (cli_policy(pol_path, sim, &pol) < 0)
			goto out;
	} else {
		if (ck_policy_parse(m.policy_json, strlen(m.policy_json), &pol, &e) < 0) {
			ck_err_wrap(&e, "the manifest's policy");
			cli_err(&e);
			goto out;
		}
		pol.allow_simulation = pol.allow_simulation || sim;
	}

	/* 1. one connection: its certificate, a fresh nonce-bound bundle */
	if (conn_open(&c, target, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	X509 *cert = SSL_get0_peer_certificate(c.ssl);
	uint8_t nonce[32], cert_hash[32];
	char path[128], nh[65];
	uint8_t *der = NULL;
	int dl = cert ? i2d_X509(cert, &der) : -1;
	if (dl <= 0 || ck_spki_der(X509_get0_pubkey(cert), &spki, &spki_len) < 0 ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1) {
		cli_errx("%s presented no usable certificate", target);
		OPENSSL_free(der);
		goto out;
	}
	EVP_Digest(der, (size_t)dl, cert_hash, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	ck_hex_encode(nonce, sizeof(nonce), nh);
	snprintf(path, sizeof(path), "/.well-known/cloak/evidence?nonce=%s", nh);
	if (!json)
		fprintf(stderr, "cloak: appraising %s (nonce %.16s...)\n", target, nh);
	for (int attempt = 0;; attempt++) { /* on this connection, as Retry-After allows */
		unsigned ra;
		if (conn_request(&c, "GET", path, NULL, 0, &st, &ra, &resp, &resp_len, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		if (!cli_retry_wait(target, st, ra, attempt, json))
			break;
		free(resp);
		resp = NULL;
	}
	ret = EXIT_REJECTED;
	if (st != 200 || ck_bundle_parse(resp, resp_len, &b, &e) < 0) {
		if (st != 200)
			cli_errx("%s answered %d to the evidence request: %.200s", target, st,
				 resp);
		else
			cli_err(&e);
		goto out;
	}
	free(resp);
	resp = NULL;
	if (!b.has_collateral) {
		cli_errx("the evidence from %s carries no collateral", target);
		goto out;
	}
	/* 2. appraise: everything must hold before anything is sent */
	struct ck_appraise_opts ao = {.at = at,
				      .allow_simulation = pol.allow_simulation,
				      .allow_expired_collateral = pol.allow_expired_collateral};
	struct ck_expect x = {.has_manifest = true,
			      .has_package = true,
			      .phase = CK_PHASE_PROVISIONING,
			      .mode = m.mode,
			      .nonce = nonce,
			      .nonce_len = sizeof(nonce),
			      .nonce_proof = b.has_nonce_proof ? &b.nonce_proof : NULL};
	memcpy(x.manifest, man_hash, 32);
	memcpy(x.package, m.package_sha256, 32);
	struct ck_evidence_result *r = calloc(1, sizeof(*r));
	if (!r)
		goto out;
	if (ck_collateral_verify(&b.collateral, pol.allow_simulation, &vc, &e) < 0) {
		cli_err(&e);
		free(r);
		goto out;
	}
	ck_evidence_verify(b.quote, b.quote_len, b.claims, b.claims_len, spki, spki_len, vc, &ao,
			   &pol, &x, r);
	bool simulated = r->a.simulated;
	const char *tcb = r->a.valid ? ck_tcb_status_name(r->a.tcb_status) : "-";
	uint8_t seal_key[32];
	bool has_seal = r->have_claims && r->claims.has_seal_key;
	if (has_seal)
		memcpy(seal_key, r->claims.seal_key, 32);
	if (!r->accepted) {
		for (size_t i = 0; i < r->n_errs; i++)
			cli_err(&r->errs[i]);
		cli_errx("%s was not verified: nothing was sent", target);
		free(r);
		goto out;
	}
	free(r);
	if (!json)
		fprintf(stderr,
			"cloak: verified%s: tcb %s, phase provisioning, package and manifest "
			"match, TLS key bound\n",
			simulated ? " (SIMULATED: NOT A REAL TEE)" : "", tcb);

	/* 3. the provisioning, bound to this certificate, on this connection */
	memcpy(p.enclave_cert_sha256, cert_hash, 32);
	memcpy(p.manifest_sha256, man_hash, 32);
	p.issued_at = ck_time_now();
	if (ck_provision_sign(&p, owner, &env, &env_len, &e) < 0) {
		cli_err(&e);
		ret = EXIT_USAGE;
		goto out;
	}
	const char *send = env;
	size_t send_len = env_len;
	if (seal) {
		if (!has_seal) {
			cli_errx("--seal: the enclave's claims carry no seal key");
			goto out;
		}
		if (ck_seal(seal_key, (const uint8_t *)env, env_len, &sealed, &send_len, &e) < 0) {
			cli_err(&e);
			goto out;
		}
		send = sealed;
	}
	unsigned ra_unused;
	if (conn_request(&c, "POST", "/.well-known/cloak/provision", send, send_len, &st,
			 &ra_unused, &resp, &resp_len, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	if (st != 200) {
		cli_errx("%s refused the provisioning (%d): %.300s", target, st, resp);
		goto out;
	}
	char ch[65];
	ck_hex_encode(cert_hash, 32, ch);
	if (json) {
		json_t *o = json_object();
		json_object_set_new(o, "provisioned", json_true());
		json_object_set_new(o, "target", json_string(target));
		json_object_set_new(o, "simulated", json_boolean(simulated));
		json_object_set_new(o, "tcb_status", json_string(tcb));
		json_object_set_new(o, "mode", json_string(ck_mode_name(m.mode)));
		json_object_set_new(o, "enclave_cert_sha256", json_string(ch));
		json_object_set_new(o, "secrets", json_integer((json_int_t)p.n_secrets));
		json_object_set_new(o, "sealed", json_boolean(seal));
		json_object_set_new(o, "enclave", json_loads(resp, 0, NULL));
		cli_print_json(o);
	} else {
		printf("provisioned %s: %zu secret%s%s, bound to certificate %.16s...\n", target,
		       p.n_secrets, p.n_secrets == 1 ? "" : "s", seal ? ", sealed" : "", ch);
	}
	ret = EXIT_OK;
out:
	conn_close(&c);
	if (env) {
		OPENSSL_cleanse(env, env_len);
		free(env);
	}
	free(sealed);
	free(resp);
	free(spki);
	ck_bundle_free(&b);
	ck_verified_collateral_free(vc);
	ck_provision_free(&p);
	ck_manifest_free(&m);
	ck_policy_free(&pol); /* zeroed until loaded: safe either way */
	ck_owner_key_free(owner);
	return ret;
}
