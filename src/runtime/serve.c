/* SPDX-License-Identifier: Apache-2.0 */
/*
 * serve.c - cloak-runtime's endpoints and the app's life (see runtime.h):
 *   GET  /.well-known/cloak/status     what this runtime is and where it stands (JSON)
 *   GET  /.well-known/cloak/evidence   an evidence bundle binding the certificate this very
 *                                      connection was served with (none over plain HTTP)
 *   POST /.well-known/cloak/provision  the one provisioning, over the provisioning RA-TLS
 *                                      certificate only
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <time.h>

#include <event2/buffer.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>

#include "cloak/bundle.h"
#include "cloak/codec.h"
#include "cloak/merkle.h"
#include "cloak/net.h"
#include "cloak/package.h"
#include "cloak/fileio.h"
#include "runtime.h"

void rt_log(const char *fmt, ...)
{
	char t[32];
	time_t now = time(NULL);
	struct tm tm;
	va_list ap;
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	fprintf(stderr, "%s cloak-runtime: ", t);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const char *state_name(enum rt_state s)
{
	static const char *const names[] = {"provisioning", "starting", "serving", "failed"};
	return names[s];
}

static json_t *hex32(const uint8_t b[32])
{
	char h[65];
	ck_hex_encode(b, 32, h);
	return json_string(h);
}

/* Everything that reaches the app and the identities stops; status and evidence remain. */
void rt_fail(struct rt *rt, const struct ck_err *e)
{
	snprintf(rt->failure, sizeof(rt->failure), "%s: %s", e->code ? e->code : "error", e->msg);
	rt_log("failed, serving nothing but status and evidence: %s", rt->failure);
	rt->state = RT_FAILED;
	ck_proxy_set_app(rt->px, NULL, 0);
	if (rt->app.pid)
		ck_app_stop(&rt->app, RT_STOP_GRACE_MS);
	ck_app_unlisten(&rt->spec);
	rt->app_healthy = false;
	rt_probe_end(rt);
	ck_gate_wipe(&rt->gate);
	ck_identity_free(&rt->owner);
}

static int answer_json(struct evbuffer *out, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return 500;
	evbuffer_add(out, s, strlen(s));
	evbuffer_add(out, "\n", 1);
	free(s);
	return 0;
}

static int answer_error(struct evbuffer *out, int status, const struct ck_err *e)
{
	json_t *o = json_object();
	json_object_set_new(o, "error", json_string(e->code ? e->code : "error"));
	json_object_set_new(o, "message", json_string(e->msg));
	return answer_json(out, o) ? 500 : status;
}

/* ---- status ------------------------------------------------------------------------------- */

static int status(struct rt *rt, struct evbuffer *out)
{
	json_t *o = json_object(), *app = json_object(), *gate = json_object(), *fs = json_object();
	json_object_set_new(o, "cloak_runtime", json_integer(1));
	json_object_set_new(o, "name", json_string(rt->m.name));
	json_object_set_new(o, "state", json_string(state_name(rt->state)));
	json_object_set_new(o, "phase", json_string(rt->serve.tls ? "serving" : "provisioning"));
	json_object_set_new(o, "mode", json_string(ck_mode_name(rt->m.mode)));
	json_object_set_new(o, "backend", json_string(rt->att->name));
	json_object_set_new(o, "simulated", json_boolean(rt->att->simulated));
	json_object_set_new(o, "fingerprint", hex32(rt->m.fingerprint));
	json_object_set_new(o, "package_sha256", hex32(rt->m.package_sha256));
	json_object_set_new(o, "manifest_sha256", hex32(rt->manifest_sha256));
	json_object_set_new(gate, "state", json_string(ck_gate_state_name(rt->gate.state)));
	json_object_set_new(gate, "refused", json_integer((json_int_t)rt->gate.refused));
	json_object_set_new(o, "provisioning", gate);
	json_object_set_new(app, "running", json_boolean(rt->app.pid != 0));
	json_object_set_new(app, "healthy", json_boolean(rt->app_healthy));
	json_object_set_new(app, "restarts", json_integer(rt->app.restarts));
	json_object_set_new(o, "app", app);
	json_object_set_new(fs, "kind", json_string(rt->memfs_kind));
	if (*rt->memfs) /* public: the node can see the (empty, from outside) mount point */
		json_object_set_new(fs, "path", json_string(rt->memfs));
	json_object_set_new(o, "code_fs", fs);
	json_object_set_new(o, "connections", json_integer((json_int_t)ck_proxy_conns(rt->px)));
	json_object_set_new(o, "fresh_evidence",
			    json_pack("{s:I, s:I}", "quotes", (json_int_t)rt->batch_quotes,
				      "nonces", (json_int_t)rt->batch_nonces));
	if (rt->state == RT_FAILED)
		json_object_set_new(o, "error", json_string(rt->failure));
	return answer_json(out, o) ? 500 : 200;
}

/* ---- evidence ----------------------------------------------------------------------------- */

/* The identity a connection was served with (none over plain HTTP, behind the operator). */
static int identity_of(struct rt *rt, SSL *ssl)
{
	if (!ssl)
		return RT_ID_NONE;
	if (rt->serve.tls && ck_identity_served(&rt->serve, ssl))
		return RT_ID_SERVE;
	if (ck_identity_served(&rt->prov, ssl))
		return RT_ID_PROV;
	return -1;
}

static struct ck_identity *identity(struct rt *rt, int k)
{
	return k == RT_ID_PROV ? &rt->prov : k == RT_ID_SERVE ? &rt->serve : &rt->none;
}

/* The error JSON of a batch that could not be quoted, to each of its requests. */
static void batch_fail(struct rt_batch *b, size_t n, int status, const struct ck_err *e)
{
	json_t *o =
	    json_pack("{s:s, s:s}", "error", e->code ? e->code : "error", "message", e->msg);
	char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	for (size_t i = 0; i < n; i++)
		ck_proxy_finish(b->q[i].later, status, NULL, 0, s, s ? strlen(s) : 0);
	json_decref(o);
	free(s);
}

/* One quote for the waiting nonces of identity k: their Merkle root in its claims, and to
 * each request the bundle with its own proof. */
static void batch_quote(struct rt *rt, int k, uint64_t now)
{
	struct rt_batch *b = &rt->batch[k];
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) { /* those who hung up are not quoted for */
		if (ck_proxy_later_open(b->q[i].later))
			b->q[n++] = b->q[i];
		else
			ck_proxy_finish(b->q[i].later, 0, NULL, 0, NULL, 0);
	}
	b->n = 0;
	if (!n)
		return;
	struct ck_err e = {0};
	uint8_t(*leaves)[32] = malloc(n * 64), root[32];
	struct ck_merkle_proof *proofs = malloc(n * sizeof(*proofs));
	char *base = NULL;
	if (!leaves || !proofs) {
		ck_errf(&e, CK_E_NOMEM, "out of memory for a batch of %zu nonces", n);
		batch_fail(b, n, 503, &e);
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		ck_merkle_leaf(b->q[i].nonce, b->q[i].len, leaves[i]);
	ck_merkle_build(leaves, n, leaves + n, root, proofs);
	if (ck_identity_evidence_root(identity(rt, k), rt->att, rt->has_coll ? &rt->coll : NULL,
				      root, &base, &e) < 0) {
		rt_log("evidence: %s", e.msg);
		batch_fail(b, n, 503, &e);
		goto out;
	}
	b->last_quote_ms = now;
	rt->batch_quotes++;
	size_t bl = strlen(base);
	for (size_t i = 0; i < n; i++) {
		char *one = ck_bundle_with_proof(base, bl, &proofs[i]);
		if (one)
			ck_proxy_finish(b->q[i].later, 200, NULL, 0, one, strlen(one));
		else
			ck_proxy_finish(b->q[i].later, 503, NULL, 0, NULL, 0);
		free(one);
	}
	rt->batch_nonces += n;
out:
	free(base);
	free(leaves);
	free(proofs);
}

/* When identity k may quote next: a window after its first nonce, and an interval after its
 * last quote. */
static uint64_t batch_due(const struct rt *rt, int k, uint64_t now)
{
	uint64_t due = now + RT_NONCE_WINDOW_MS,
		 gap = rt->batch[k].last_quote_ms + RT_QUOTE_INTERVAL_MS;
	return gap > due ? gap : due;
}

static void batch_arm(struct rt *rt, uint64_t delay_ms)
{
	struct timeval tv = {(time_t)(delay_ms / 1000), (suseconds_t)(delay_ms % 1000) * 1000};
	event_add(rt->batch_ev, &tv);
}

/* The batch timer: every identity whose quote is due is quoted; the others wait on. */
void rt_on_batch(evutil_socket_t fd, short what, void *arg)
{
	struct rt *rt = arg;
	uint64_t now = ck_now_ms(), next = 0;
	(void)fd;
	(void)what;
	for (int k = 0; k < RT_IDS; k++) { /* the provisioning identity first */
		if (!rt->batch[k].n)
			continue;
		if (rt->batch[k].last_quote_ms + RT_QUOTE_INTERVAL_MS <= now)
			batch_quote(rt, k, now);
		else if (!next || rt->batch[k].last_quote_ms + RT_QUOTE_INTERVAL_MS < next)
			next = rt->batch[k].last_quote_ms + RT_QUOTE_INTERVAL_MS;
	}
	if (next)
		batch_arm(rt, next - now);
}

/* A fresh, nonce-bound answer: waits for the next batch quote of this identity. */
static int nonce_wait(struct rt *rt, int k, const struct ck_proxy_req *rq,
		      struct ck_proxy_reply *reply)
{
	struct rt_batch *b = &rt->batch[k];
	struct ck_err e;
	size_t from = 0;
	if (!b->q && !(b->q = calloc(RT_NONCE_BATCH_MAX, sizeof(*b->q)))) {
		ck_errf(&e, CK_E_NOMEM, "out of memory");
		return answer_error(reply->body, 503, &e);
	}
	for (size_t i = 0; i < b->n; i++)
		from += ck_same_host(&b->q[i].src, b->q[i].src_len,
				     (const struct sockaddr_storage *)rq->peer, rq->peer_len);
	if (b->n == RT_NONCE_BATCH_MAX || from >= RT_NONCE_PER_SOURCE) {
		reply->retry_after = RT_RETRY_AFTER_S;
		ck_errf(&e, CK_E_RATE,
			b->n == RT_NONCE_BATCH_MAX
			    ? "%d fresh quotes are already waiting: retry shortly, or fetch the "
			      "evidence without a nonce"
			    : "this address already waits for %d fresh quotes: retry shortly",
			b->n == RT_NONCE_BATCH_MAX ? RT_NONCE_BATCH_MAX : RT_NONCE_PER_SOURCE);
		return answer_error(reply->body, 429, &e);
	}
	struct rt_nonce *w = &b->q[b->n];
	if (!(w->later = ck_proxy_defer(rq))) {
		ck_errf(&e, CK_E_NOMEM, "out of memory");
		return answer_error(reply->body, 503, &e);
	}
	memset(&w->src, 0, sizeof(w->src));
	w->src_len = rq->peer_len <= sizeof(w->src) ? rq->peer_len : 0;
	if (w->src_len)
		memcpy(&w->src, rq->peer, w->src_len);
	memcpy(w->nonce, rq->route->nonce, rq->route->nonce_len);
	w->len = rq->route->nonce_len;
	b->n++;
	if (!event_pending(rt->batch_ev, EV_TIMEOUT, NULL)) {
		uint64_t now = ck_now_ms();
		batch_arm(rt, batch_due(rt, k, now) - now);
	}
	return CK_PROXY_LATER;
}

void rt_batches_free(struct rt *rt)
{
	struct ck_err e;
	ck_errf(&e, CK_E_IO, "the runtime is stopping");
	for (int k = 0; k < RT_IDS; k++) {
		batch_fail(&rt->batch[k], rt->batch[k].n, 503, &e);
		free(rt->batch[k].q);
		rt->batch[k] = (struct rt_batch){0};
	}
}

static int evidence(struct rt *rt, const struct ck_proxy_req *rq, struct ck_proxy_reply *reply)
{
	struct ck_err e;
	int k = identity_of(rt, rq->ssl);
	if (k < 0) {
		ck_errf(&e, CK_E_TLS, "this connection's certificate is none of the runtime's");
		return answer_error(reply->body, 500, &e);
	}
	struct ck_identity *id = identity(rt, k);
	if (rq->route->nonce_len)
		return nonce_wait(rt, k, rq, reply);
	if (!id->evidence && /* the same quote for everyone who brings no nonce */
	    ck_identity_evidence(id, rt->att, rt->has_coll ? &rt->coll : NULL, NULL, 0,
				 &id->evidence, &e) < 0) {
		rt_log("evidence: %s", e.msg);
		return answer_error(reply->body, 503, &e);
	}
	evbuffer_add(reply->body, id->evidence, strlen(id->evidence));
	return 200;
}

/* ---- provisioning ------------------------------------------------------------------------- */

/* What the serving identity states: phase serving, the app's fingerprint, no seal key (it has
 * served, and is wiped). */
static void serving_claims(const struct rt *rt, struct ck_claims *c)
{
	*c = rt->prov.claims;
	c->phase = CK_PHASE_SERVING;
	c->has_app = true;
	memcpy(c->app, rt->m.fingerprint, 32);
	c->has_seal_key = false;
}

/* The gate's check: an authentic provisioning is accepted only if the package opens under its
 * key with the manifest's fingerprint, and the owner's TLS chain and key are what the mode
 * needs. Nothing is written. */
int rt_check_provision(void *arg, const struct ck_provision *p, int *status, struct ck_err *err)
{
	struct rt *rt = arg;
	struct ck_unpack_result res;
	*status = 422;
	if (ck_unpack_check_buf(rt->pkg, rt->pkg_len, p->package_key, &res, err) < 0)
		return -1;
	if (CRYPTO_memcmp(res.fingerprint, rt->m.fingerprint, 32) != 0) {
		char got[65], want[65];
		ck_hex_encode(res.fingerprint, 32, got);
		ck_hex_encode(rt->m.fingerprint, 32, want);
		return ck_errf(err, CK_E_PKG_FINGERPRINT,
			       "the package's code has fingerprint %s, the manifest says %s: not "
			       "started",
			       got, want);
	}
	if (rt->m.mode != CK_MODE_OWNER_CERT) {
		if (p->owner_tls_key)
			return ck_errf(err, CK_E_PROV_FORMAT,
				       "an owner TLS key was sent, but the manifest's mode is %s",
				       ck_mode_name(rt->m.mode));
		return 0;
	}
	if (!p->owner_tls_key)
		return ck_errf(
		    err, CK_E_PROV_FORMAT,
		    "mode owner-cert needs the owner's TLS chain and key; none was sent");
	uint8_t h[32];
	EVP_Digest(p->owner_tls_chain, strlen(p->owner_tls_chain), h, NULL, EVP_sha256(), NULL);
	if (CRYPTO_memcmp(h, rt->m.owner_cert_sha256, 32) != 0) {
		char got[65];
		ck_hex_encode(h, 32, got);
		return ck_errf(err, CK_E_PROV_BINDING,
			       "the owner's TLS chain has SHA-256 %s, not the manifest's "
			       "owner_cert_sha256",
			       got);
	}
	/* the serving identity now: the key is then held by OpenSSL alone, and the PEM the
	 * provisioning carried is wiped as soon as it is accepted */
	struct ck_claims c;
	serving_claims(rt, &c);
	ck_identity_free(&rt->owner);
	return ck_identity_owner(&rt->owner, p->owner_tls_chain, p->owner_tls_key, &c, err);
}

/* Derives the key of Gramine's encrypted mount for the code from the package key (sgx). */
static int sgx_code_key(struct rt *rt, struct ck_err *err)
{
	uint8_t key[16];
	char path[PATH_MAX];
	size_t n = sizeof(key);
	EVP_PKEY_CTX *c = EVP_PKEY_CTX_new_id(EVP_PKEY_HKDF, NULL);
	int ok =
	    c && EVP_PKEY_derive_init(c) > 0 && EVP_PKEY_CTX_set_hkdf_md(c, EVP_sha256()) > 0 &&
	    EVP_PKEY_CTX_set1_hkdf_key(c, rt->gate.prov.package_key, CK_PKG_KEY_LEN) > 0 &&
	    EVP_PKEY_CTX_add1_hkdf_info(c, (const unsigned char *)"cloak code mount v1", 19) > 0 &&
	    EVP_PKEY_derive(c, key, &n) > 0;
	EVP_PKEY_CTX_free(c);
	if (!ok)
		return ck_errf(err, CK_E_NOMEM, "cannot derive the code mount's key");
	snprintf(path, sizeof(path), "%s/keys/cloak_code",
		 rt->att_dir ? rt->att_dir : CK_GRAMINE_ATTESTATION_DIR);
	FILE *f = fopen(path, "wb");
	ok = f && fwrite(key, 1, sizeof(key), f) == sizeof(key);
	if (f && fclose(f) != 0)
		ok = 0;
	OPENSSL_cleanse(key, sizeof(key));
	return ok ? 0 : ck_errf(err, CK_E_IO, "cannot write '%s': %s", path, strerror(errno));
}

/* Accepted: the code into memory, the package key wiped, the app started. */
static int start_app(struct rt *rt, struct ck_err *err)
{
	struct ck_unpack_result res;
	if (!strcmp(rt->backend, "sgx") && sgx_code_key(rt, err) < 0)
		return -1;
	ck_fs_remove_tree(rt->code_dir); /* a previous run's, killed before it could clean up */
	int r = ck_unpack_buf(rt->pkg, rt->pkg_len, rt->gate.prov.package_key, rt->m.fingerprint,
			      rt->code_dir, &res, err);
	OPENSSL_cleanse(rt->gate.prov.package_key, sizeof(rt->gate.prov.package_key));
	free(rt->pkg); /* ciphertext: no longer needed */
	rt->pkg = NULL;
	rt->pkg_len = 0;
	if (r < 0)
		return -1;
	if (mkdir(rt->data_dir, 0700) < 0 && errno != EEXIST)
		return ck_errf(err, CK_E_IO, "cannot create the data directory '%s': %s",
			       rt->data_dir, strerror(errno));
	rt->spec.dir = rt->code_dir;
	rt->spec.run = rt->m.run;
	rt->spec.health = rt->m.health;
	rt->spec.data_dir = rt->data_dir;
	rt->spec.secrets = rt->gate.prov.secrets;
	rt->spec.n_secrets = rt->gate.prov.n_secrets;
	/* the app's socket, held by the runtime from now on: across the app's restarts nothing
	 * else can bind its address and receive its decrypted requests */
	if (rt->app_unix)
		rt->spec.socket_path = rt->sock_path;
	if (ck_app_listen(&rt->spec, err) < 0 || rt_output_start(rt, err) < 0)
		return -1;
	rt_log("code unpacked (%zu entries, fingerprint checked); starting '%s'", res.entries,
	       rt->m.run);
	return ck_app_start(&rt->app, &rt->spec, ck_now_ms(), err);
}

static int provision(struct rt *rt, const struct ck_proxy_req *rq, struct evbuffer *out)
{
	struct ck_err e = {0};
	int st;
	if (rt->gate.state == CK_GATE_OPEN && !ck_identity_served(&rt->prov, rq->ssl)) {
		ck_errf(&e, CK_E_PROV_STATE,
			"provisioning is accepted only over TLS with this runtime's provisioning "
			"RA-TLS certificate");
		rt->gate.refused++;
		return answer_error(out, 403, &e);
	}
	if (ck_gate_provision(&rt->gate, rq->body, rq->body_len, &st, &e) < 0) {
		rt_log("provisioning refused (%d %s): %s", st, e.code, e.msg);
		return answer_error(out, st, &e);
	}
	rt_log("provisioning accepted (secrets: %zu)", rt->gate.prov.n_secrets);
	if (rt->gate.prov.owner_tls_key) { /* in rt->owner, held by OpenSSL: the PEM goes */
		OPENSSL_cleanse(rt->gate.prov.owner_tls_key, strlen(rt->gate.prov.owner_tls_key));
		free(rt->gate.prov.owner_tls_key);
		rt->gate.prov.owner_tls_key = NULL;
	}
	if (start_app(rt, &e) < 0) {
		rt_fail(rt, &e);
		return answer_error(out, 500, &e);
	}
	rt->state = RT_STARTING;
	json_t *o = json_object();
	json_object_set_new(o, "accepted", json_true());
	json_object_set_new(o, "state", json_string(state_name(rt->state)));
	json_object_set_new(o, "fingerprint", hex32(rt->m.fingerprint));
	return answer_json(out, o) ? 500 : 200;
}

int rt_local(void *arg, const struct ck_proxy_req *rq, struct ck_proxy_reply *reply)
{
	struct rt *rt = arg;
	struct evbuffer *out = reply->body;
	switch (rq->route->kind) {
	case CK_ROUTE_STATUS:
		return status(rt, out);
	case CK_ROUTE_EVIDENCE:
		return evidence(rt, rq, reply);
	case CK_ROUTE_PROVISION:
		return provision(rt, rq, out);
	default:
		return 404;
	}
}

/* ---- the app's life and the switch to serving --------------------------------------------- */

static int switch_to_serving(struct rt *rt, struct ck_err *err)
{
	struct ck_claims c;
	serving_claims(rt, &c);
	if (rt->m.mode == CK_MODE_OWNER_CERT) {
		rt->serve = rt->owner; /* made when the provisioning was checked */
		memset(&rt->owner, 0, sizeof(rt->owner));
	} else if (ck_identity_ratls(&rt->serve, rt->att, &c,
				     *rt->m.domain ? rt->m.domain : rt->m.name, err) < 0) {
		return -1;
	}
	ck_identity_free(&rt->none);
	ck_identity_none(&rt->none, &c);
	ck_proxy_set_tls(rt->px, rt->serve.tls);
	rt->state = RT_SERVING;
	rt_log("serving (%s): the app is healthy, phase serving", ck_mode_name(rt->m.mode));
	return 0;
}

static void app_address(struct rt *rt)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	if (rt->app_unix) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, rt->sock_path, strlen(rt->sock_path) + 1); /* length checked */
		len = sizeof(*un);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(rt->spec.port);
		len = sizeof(*in);
	}
	ck_proxy_set_app(rt->px, (struct sockaddr *)&ss, len);
}

/* The app answered its health path: serve it (and, the first time, switch identities). */
static void app_healthy(struct rt *rt)
{
	struct ck_err e = {0};
	rt->app_healthy = true;
	app_address(rt);
	if (rt->state != RT_STARTING)
		rt_log("the app is healthy again (restarts: %u)", rt->app.restarts);
	else if (switch_to_serving(rt, &e) < 0)
		rt_fail(rt, &e);
}

void rt_probe_end(struct rt *rt)
{
	if (rt->probe_ev) {
		event_free(rt->probe_ev);
		rt->probe_ev = NULL;
	}
	ck_health_end(&rt->probe);
}

static void on_probe(evutil_socket_t fd, short what, void *arg)
{
	struct rt *rt = arg;
	struct ck_err e;
	(void)fd;
	int r = (what & EV_TIMEOUT) ? -1 : ck_health_step(&rt->probe, &e);
	if (r == 0)
		return;	  /* more to read */
	rt_probe_end(rt); /* failed or timed out: the next tick tries again */
	if (r > 0 && rt->app.pid && !rt->app_healthy)
		app_healthy(rt);
}

/* Starts a health probe unless one is in flight; it never blocks the loop. */
static void probe(struct rt *rt)
{
	struct ck_err e;
	struct timeval tv = {RT_HEALTH_WAIT_MS / 1000, (RT_HEALTH_WAIT_MS % 1000) * 1000};
	if (rt->probe_ev || ck_health_begin(&rt->probe, &rt->spec, &e) < 0)
		return; /* in flight, or not accepting connections yet */
	if (!(rt->probe_ev =
		  event_new(rt->base, rt->probe.fd, EV_READ | EV_PERSIST, on_probe, rt)) ||
	    event_add(rt->probe_ev, &tv) < 0)
		rt_probe_end(rt);
}

void rt_tick(evutil_socket_t fd, short what, void *arg)
{
	struct rt *rt = arg;
	struct ck_err e = {0};
	uint64_t now = ck_now_ms();
	(void)fd;
	(void)what;
	if (rt->state != RT_STARTING && rt->state != RT_SERVING)
		return;
	bool was_running = rt->app.pid != 0, running = ck_app_poll(&rt->app, now);
	if (was_running && !running) {
		int ws = rt->app.last_status;
		rt_log("the app exited (%s %d); starting it again in %u ms",
		       WIFSIGNALED(ws) ? "signal" : "status",
		       WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws),
		       (unsigned)(rt->app.next_start_ms - now));
		rt->app_healthy = false;
	}
	if (!running && ck_app_due(&rt->app, now)) {
		if (ck_app_start(&rt->app, &rt->spec, now, &e) < 0) {
			rt_fail(rt, &e); /* the code cannot even be executed any more */
			return;
		}
	}
	if (rt->app.pid && !rt->app_healthy)
		probe(rt);
}
