/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloak sim serve: a small HTTPS server with a simulated RA-TLS certificate and the evidence
 * endpoint, for tests and demos of `cloak verify` before the runtime exists. One connection at
 * a time, blocking OpenSSL, Connection: close. NOT A REAL TEE.
 *
 *   GET /.well-known/cloak/evidence[?nonce=HEX]  evidence bundle binding the serving key
 *   GET /                                        "hello from a simulated enclave"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "cli.h"
#include "cloak/attest.h"
#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/identity.h"
#include "cloak/net.h"
#include "cloak/ratls.h"

#define REQ_MAX	     8192
#define READ_TIMEOUT 5

struct serve_opts {
	const char *pki, *listen, *mode, *app, *manifest, *phase, *mrenclave, *fault;
	const char *owner_cert, *owner_key;
	bool debug;
};

#define SO struct serve_opts
static const struct ck_opt opts[] = {
    CK_OPT_NEED("pki", 0, "DIR", SO, pki, "the sim PKI (cloak sim init)"),
    CK_OPT_ARG("listen", 0, "ADDR:PORT", SO, listen, "default 127.0.0.1:0 (a free port)"),
    CK_OPT_ARG("mode", 0, "MODE", SO, mode, "zero-trust (default), owner-cert or operator-tls"),
    CK_OPT_ARG("app", 0, "HEX", SO, app, "the app fingerprint the claims state"),
    CK_OPT_ARG("manifest", 0, "HEX", SO, manifest, "the manifest hash the claims state"),
    CK_OPT_ARG("phase", 0, "PHASE", SO, phase, "provisioning or serving (default)"),
    CK_OPT_ARG("mrenclave", 0, "HEX", SO, mrenclave, "the simulated enclave's measurement"),
    CK_OPT_FLAG("debug", 0, SO, debug, "a debug enclave"),
    CK_OPT_ARG("fault", 0, "NAME", SO, fault, "misbehave for tests (below)"),
    CK_OPT_ARG("owner-cert", 0, "PEM", SO, owner_cert, "serve the owner's certificate..."),
    CK_OPT_ARG("owner-key", 0, "PEM", SO, owner_key, "...with its key (mode owner-cert)"),
    CK_OPT_END};
#undef SO

static const struct ck_opt_spec spec = {
    .name = "cloak sim serve",
    .operands = "",
    .about = "Serves HTTPS with a simulated RA-TLS certificate (NOT A REAL TEE) and\n"
	     "GET /.well-known/cloak/evidence[?nonce=HEX]. Prints 'listening on ADDR:PORT' once\n"
	     "ready. --mode operator-tls serves plain HTTP, as behind the operator; with\n"
	     "--owner-cert and --owner-key it serves the owner's certificate (mode owner-cert)\n"
	     "and its evidence binds the owner's key.\n"
	     "Faults, for tests: key-mismatch (the evidence binds another key), claims-tamper\n"
	     "(claims changed after quoting), expired (the certificate's validity is over),\n"
	     "ignore-nonce (a quote that lacks the verifier's nonce), no-legacy,\n"
	     "legacy-other-key (the legacy extension's quote binds another key, the standard one\n"
	     "this one), not-resigned (the validity moved to 2049 after signing).",
    .opts = opts};

struct server {
	struct ck_attester *att;
	struct ck_identity id; /* RA-TLS, the owner's certificate, or none (operator TLS) */
	struct ck_collateral coll;
	const char *fault;
};

static bool fault(const struct server *s, const char *name)
{
	return s->fault && !strcmp(s->fault, name);
}

static volatile sig_atomic_t stop;
static void on_signal(int s)
{
	(void)s;
	stop = 1;
}

static int io_write(SSL *ssl, int fd, const void *p, size_t n)
{
	return ssl ? (SSL_write(ssl, p, (int)n) == (int)n ? 0 : -1)
		   : (write(fd, p, n) == (ssize_t)n ? 0 : -1);
}

static void respond(SSL *ssl, int fd, int code, const char *ctype, const char *body, size_t n)
{
	char head[256];
	int hn = snprintf(head, sizeof(head),
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
			  "Connection: close\r\n\r\n",
			  code,
			  code == 200	? "OK"
			  : code == 404 ? "Not Found"
					: "Bad Request",
			  ctype, n);
	if (io_write(ssl, fd, head, (size_t)hn) == 0)
		io_write(ssl, fd, body, n);
}

/* legacy-other-key: the legacy extension of a certificate for another key put into `cert`,
 * which is then signed again with its own key (its standard extension still binds it). */
static int swap_legacy(struct server *s, const struct ck_ratls_cert_opts *co, X509 *cert,
		       EVP_PKEY *key, struct ck_err *e)
{
	EVP_PKEY *k2 = NULL;
	X509 *other = NULL;
	if (ck_ratls_issue(s->att, co, &k2, &other, e) < 0)
		return -1;
	ASN1_OBJECT *legacy = OBJ_txt2obj(CK_RATLS_OID_LEGACY, 1);
	int at = X509_get_ext_by_OBJ(cert, legacy, -1), ot = X509_get_ext_by_OBJ(other, legacy, -1);
	int ok = legacy && at >= 0 && ot >= 0;
	if (ok) {
		X509_EXTENSION_free(X509_delete_ext(cert, at));
		ok = X509_add_ext(cert, X509_get_ext(other, ot), -1) == 1 &&
		     X509_sign(cert, key, EVP_sha256()) > 0;
	}
	ASN1_OBJECT_free(legacy);
	X509_free(other);
	EVP_PKEY_free(k2);
	return ok ? 0 : ck_errf(e, CK_E_CERT_FORMAT, "cannot swap the legacy extension");
}

/* The evidence of ck_identity_evidence, bent by the fault asked for. */
static char *evidence(struct server *s, const uint8_t *nonce, size_t nonce_len, struct ck_err *e)
{
	struct ck_identity view = s->id; /* borrowed, never freed here */
	EVP_PKEY *other = NULL;
	uint8_t *other_spki = NULL;
	char *out = NULL;
	view.evidence = NULL;
	if (fault(s, "key-mismatch")) { /* the evidence binds another key */
		other = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		if (!other || ck_spki_der(other, &other_spki, &view.spki_len) < 0)
			goto done;
		view.spki = other_spki;
	}
	if (fault(s, "ignore-nonce"))
		nonce_len = 0; /* a replayed, stale quote */
	if (ck_identity_evidence(&view, s->att, &s->coll, nonce, nonce_len, &out, e) == 0 &&
	    fault(s, "claims-tamper")) { /* after quoting: report data no longer matches */
		struct ck_bundle b;
		char *t = NULL;
		if (ck_bundle_parse(out, strlen(out), &b, e) == 0) {
			b.claims[b.claims_len - 1] ^= 1;
			t = ck_bundle_dump(&b);
			ck_bundle_free(&b);
		}
		free(out);
		out = t;
	}
done:
	free(other_spki);
	EVP_PKEY_free(other);
	return out;
}

static void handle(struct server *s, int fd)
{
	SSL *ssl = NULL;
	char req[REQ_MAX + 1];
	size_t n = 0;
	struct timeval tv = {READ_TIMEOUT, 0};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (s->id.tls) {
		ssl = SSL_new(s->id.tls);
		if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_accept(ssl) != 1)
			goto out;
	}
	while (n < REQ_MAX) {
		int r = ssl ? SSL_read(ssl, req + n, (int)(REQ_MAX - n))
			    : (int)read(fd, req + n, REQ_MAX - n);
		if (r <= 0)
			goto out;
		n += (size_t)r;
		req[n] = 0;
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	if (!strstr(req, "\r\n\r\n")) {
		respond(ssl, fd, 400, "text/plain", "bad request\n", 12);
		goto out;
	}
	const char *ev = "GET /.well-known/cloak/evidence";
	if (!strncmp(req, ev, strlen(ev))) {
		const char *p = req + strlen(ev);
		uint8_t nonce[CK_NONCE_MAX];
		size_t nl = 0;
		if (!strncmp(p, "?nonce=", 7)) {
			p += 7;
			size_t hl = strcspn(p, " &");
			struct ck_err e;
			if (hl == 0 || hl % 2 || hl / 2 > CK_NONCE_MAX ||
			    ck_hex_decode_exact(p, hl, nonce, hl / 2, "nonce", &e) < 0) {
				respond(ssl, fd, 400, "text/plain", "bad nonce\n", 10);
				goto out;
			}
			nl = hl / 2;
			p += hl;
		}
		if (*p != ' ') {
			respond(ssl, fd, 404, "text/plain", "not found\n", 10);
			goto out;
		}
		struct ck_err e;
		char *body = evidence(s, nonce, nl, &e);
		if (!body) {
			respond(ssl, fd, 400, "text/plain", "evidence failed\n", 16);
			goto out;
		}
		respond(ssl, fd, 200, "application/json", body, strlen(body));
		free(body);
	} else if (!strncmp(req, "GET / ", 6)) {
		const char *hello = "hello from a simulated enclave (NOT A REAL TEE)\n";
		respond(ssl, fd, 200, "text/plain", hello, strlen(hello));
	} else {
		respond(ssl, fd, 404, "text/plain", "not found\n", 10);
	}
out:
	if (ssl) {
		SSL_shutdown(ssl);
		SSL_free(ssl);
	}
	close(fd);
}

static int hexarg(const char *opt, const char *v, uint8_t out[32])
{
	struct ck_err e;
	if (ck_hex_decode_exact(v, strlen(v), out, 32, opt, &e) < 0) {
		cli_err(&e);
		return -1;
	}
	return 0;
}

/* The claims and the simulated enclave, from the options. */
static int serve_load(const struct serve_opts *o, struct ck_claims *c, struct ck_sim_quote_opts *id)
{
	c->phase = CK_PHASE_SERVING;
	c->mode = CK_MODE_ZERO_TRUST;
	if (o->mode && ck_mode_parse(o->mode, &c->mode) < 0) {
		cli_errx("--mode: '%s' is not zero-trust, owner-cert or operator-tls", o->mode);
		return -1;
	}
	if ((o->app && hexarg("--app", o->app, c->app)) ||
	    (o->manifest && hexarg("--manifest", o->manifest, c->manifest)) ||
	    (o->mrenclave && hexarg("--mrenclave", o->mrenclave, id->mrenclave)))
		return -1;
	c->has_app = o->app != NULL;
	c->has_manifest = o->manifest != NULL;
	if (o->phase) {
		c->phase = !strcmp(o->phase, "provisioning") ? CK_PHASE_PROVISIONING
			   : !strcmp(o->phase, "serving")    ? CK_PHASE_SERVING
							     : 0;
		if (!c->phase) {
			cli_errx("--phase: '%s' is not provisioning or serving", o->phase);
			return -1;
		}
	}
	id->debug = o->debug;
	if (!o->owner_cert != !o->owner_key) {
		cli_errx("--owner-cert and --owner-key go together");
		return -1;
	}
	if (o->owner_cert)
		c->mode = CK_MODE_OWNER_CERT;
	return 0;
}

/* The owner's certificate and key (owner-cert: the evidence endpoint binds its key). */
static int owner_identity(const struct serve_opts *o, EVP_PKEY **key, X509 **cert)
{
	FILE *cf = fopen(o->owner_cert, "r"), *kf = fopen(o->owner_key, "r");
	*cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
	*key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
	if (cf)
		fclose(cf);
	if (kf)
		fclose(kf);
	if (*cert && *key)
		return 0;
	cli_errx("cannot read the owner's certificate '%s' or key '%s'", o->owner_cert,
		 o->owner_key);
	X509_free(*cert);
	EVP_PKEY_free(*key);
	return -1;
}

/* The certificate faults, applied to a freshly issued one. */
static int bend_certificate(struct server *s, const struct ck_ratls_cert_opts *co, X509 *cert,
			    EVP_PKEY *key, bool owner, struct ck_err *e)
{
	if (fault(s, "legacy-other-key") && !owner && swap_legacy(s, co, cert, key, e) < 0)
		return -1;
	if (fault(s, "not-resigned")) { /* changed after signing: the signature breaks */
		ASN1_TIME *t = ASN1_TIME_set(NULL, (time_t)2500000000);
		X509_set1_notAfter(cert, t);
		ASN1_TIME_free(t);
	}
	if (fault(s, "expired")) { /* re-sign with a past validity */
		ASN1_TIME_set(X509_getm_notBefore(cert), (time_t)ck_time_now() - 10 * 86400);
		ASN1_TIME_set(X509_getm_notAfter(cert), (time_t)ck_time_now() - 86400);
		X509_sign(cert, key, EVP_sha256());
	}
	return 0;
}

/* The identity served: none (operator TLS), the owner's, or a fresh sim RA-TLS one. */
static int serve_identity(struct server *s, const struct serve_opts *o,
			  const struct ck_claims *claims)
{
	static const char *const dns[] = {"localhost", NULL}, *const ips[] = {"127.0.0.1", NULL};
	struct ck_err e;
	EVP_PKEY *key = NULL;
	X509 *cert = NULL;
	if (claims->mode == CK_MODE_OPERATOR_TLS) {
		ck_identity_none(&s->id, claims); /* the operator's TLS key is not the enclave's */
		return 0;
	}
	struct ck_ratls_cert_opts co = {.common_name = "localhost",
					.dns = dns,
					.ips = ips,
					.valid_days = 30,
					.legacy_extension = !fault(s, "no-legacy"),
					.claims = *claims};
	if (o->owner_cert ? owner_identity(o, &key, &cert) < 0
			  : ck_ratls_issue(s->att, &co, &key, &cert, &e) < 0) {
		if (!o->owner_cert)
			cli_err(&e);
		return -1;
	}
	if (bend_certificate(s, &co, cert, key, o->owner_cert != NULL, &e) < 0) {
		X509_free(cert);
		EVP_PKEY_free(key);
		cli_err(&e);
		return -1;
	}
	if (ck_identity_adopt(&s->id, key, cert, claims, &e) < 0) { /* it takes both */
		cli_err(&e);
		return -1;
	}
	return 0;
}

static void serve_loop(struct server *s, int lfd, const struct sockaddr_in *sa)
{
	struct sigaction act = {.sa_handler = on_signal};
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	signal(SIGPIPE, SIG_IGN);
	printf("listening on %s:%d (%s, SIMULATED: NOT A REAL TEE)\n", inet_ntoa(sa->sin_addr),
	       ntohs(sa->sin_port), s->id.tls ? "https" : "http");
	fflush(stdout);
	while (!stop) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0 && errno == EINTR)
			continue;
		if (fd < 0)
			break;
		handle(s, fd);
	}
}

int cmd_sim_serve(int argc, char **argv)
{
	struct serve_opts o = {.listen = "127.0.0.1:0"};
	struct server s = {0};
	struct ck_claims claims = {0};
	struct ck_sim_quote_opts id;
	struct ck_err e;
	struct sockaddr_in want, sa;
	int ret = EXIT_USAGE;
	ck_sim_quote_opts_default(&id, 0);
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	s.fault = o.fault;
	if (serve_load(&o, &claims, &id) < 0)
		return EXIT_USAGE;
	if (ck_addr_parse(o.listen, &want, &e) < 0) {
		ck_err_wrap(&e, "--listen");
		cli_err(&e);
		return EXIT_USAGE;
	}
	if (ck_attester_sim(o.pki, &id, &s.att, &e) < 0 ||
	    s.att->collateral(s.att, &s.coll, &e) < 0) {
		cli_err(&e);
		goto out;
	}
	if (serve_identity(&s, &o, &claims) < 0)
		goto out;
	int lfd = ck_tcp_listen(&want, &sa, &e);
	if (lfd < 0) {
		cli_err(&e);
		goto out;
	}
	serve_loop(&s, lfd, &sa);
	close(lfd);
	ret = EXIT_OK;
out:
	ck_identity_free(&s.id);
	ck_collateral_free(&s.coll);
	ck_attester_free(s.att);
	return ret;
}
