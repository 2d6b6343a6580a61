/* SPDX-License-Identifier: Apache-2.0 */
/*
 * handle.c - the parent's answers to the api process (daemon.h): who asks (the token, checked
 * by the store in constant time; an address with too many failures in NODE_AUTH_WINDOW_S is
 * refused before its token is looked at), what they may touch (an owner their own apps, the
 * admin every app; another owner's app is 404, as one that does not exist), and the answer.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cloak/codec.h"
#include "daemon.h"

#define REPLY_INLINE_MAX (CK_IMSG_MAX_PAYLOAD - 128) /* longer answers go in a memfd */

static uint64_t now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec;
}

/* The answer to request `id`: inline, or, when long, from a sealed memfd the api reads. */
static void reply(struct node *n, uint32_t id, int status, const char *ctype, unsigned retry,
		  const char *body, size_t len, int fd)
{
	struct ck_api_msg_reply r = {.status = status, .retry_after = retry};
	static uint8_t b[CK_IMSG_MAX_PAYLOAD];
	struct ck_err e;
	snprintf(r.ctype, sizeof(r.ctype), "%s", ctype);
	if (fd < 0 && len > REPLY_INLINE_MAX) {
		fd = memfd_create("cloakd-reply", MFD_CLOEXEC);
		if (fd < 0 || write(fd, body, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET) < 0) {
			if (fd >= 0)
				close(fd);
			fd = -1;
			status = r.status = 500;
			body = "{\"error\":\"io\",\"message\":\"the answer could not be made\"}";
		}
		if (fd >= 0)
			len = 0;
		else
			len = strlen(body);
	}
	r.body = (const uint8_t *)body;
	r.body_len = fd >= 0 ? 0 : len;
	size_t k = ck_api_reply_encode(&r, b, sizeof(b));
	if (!k || ck_imsg_send(n->api_sock, CK_IMSG_API_REPLY, id, b, k, fd, &e) < 0)
		fprintf(stderr, "cloakd: an answer (%d) not sent to the api: %s\n", status,
			k ? e.msg : "it does not encode");
	if (fd >= 0)
		close(fd);
}

static void reply_json(struct node *n, uint32_t id, int status, json_t *j)
{
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	if (!t) {
		reply(n, id, 500, "application/json", 0,
		      "{\"error\":\"nomem\",\"message\":\"out of memory\"}", 43, -1);
		return;
	}
	reply(n, id, status, "application/json", 0, t, strlen(t), -1);
	free(t);
}

static void reply_err(struct node *n, uint32_t id, int status, unsigned retry,
		      const struct ck_err *e)
{
	json_t *j =
	    json_pack("{s:s, s:s}", "error", e->code ? e->code : "error", "message", e->msg);
	char *t = j ? json_dumps(j, JSON_COMPACT) : NULL;
	json_decref(j);
	reply(n, id, status, "application/json", retry, t ? t : "{}", t ? strlen(t) : 2, -1);
	free(t);
}

/* ---- who asks ---------------------------------------------------------------------------- */

static struct node_authfail *fails_of(struct node *n, const struct ck_api_msg_req *q, bool make)
{
	struct node_authfail *oldest = NULL;
	uint64_t now = now_s();
	for (size_t i = 0; i < n->nfails; i++) {
		struct node_authfail *f = &n->fails[i];
		if (now - f->since_s >= NODE_AUTH_WINDOW_S)
			f->n = 0; /* its window is over */
		if (f->family == q->family && !memcmp(f->addr, q->addr, 16))
			return f;
		if (!oldest || f->n == 0 || f->since_s < oldest->since_s)
			oldest = f;
	}
	if (!make)
		return NULL;
	struct node_authfail *f = n->nfails < NODE_AUTH_SOURCES ? &n->fails[n->nfails++] : oldest;
	memset(f, 0, sizeof(*f));
	f->family = q->family;
	memcpy(f->addr, q->addr, 16);
	f->since_s = now;
	return f;
}

/* The caller's owner name, or an answer already sent (-1). */
static int authorise(struct node *n, uint32_t id, const struct ck_api_msg_req *q,
		     char owner[CK_OWNER_NAME_MAX + 1], bool *admin)
{
	struct ck_err e;
	struct node_authfail *f = fails_of(n, q, false);
	uint64_t now = now_s();
	if (f && f->n >= n->lim.max_auth_failures) {
		unsigned left = (unsigned)(NODE_AUTH_WINDOW_S - (now - f->since_s));
		ck_errf(&e, CK_E_LIMIT,
			"%u failed authentications from this address: try again in %u s", f->n,
			left);
		reply_err(n, id, 429, left ? left : 1, &e);
		return -1;
	}
	if (ck_store_token_check(n->store, q->token, owner, admin, &e) < 0) {
		if (!strcmp(e.code, CK_E_AUTH)) {
			f = fails_of(n, q, true);
			if (f->n++ == 0)
				f->since_s = now;
		}
		reply_err(n, id, strcmp(e.code, CK_E_AUTH) ? 500 : 401, 0, &e);
		return -1;
	}
	return 0;
}

/* ---- what they ask -------------------------------------------------------------------------- */

char *node_app_json(const struct node_app *a)
{
	const struct ck_app_rec *r = &a->rec;
	char pkg[65], url[CK_SNI_NAME_MAX + 32];
	const struct node *n = a->node;
	ck_hex_encode(r->package_sha256, 32, pkg);
	snprintf(url, sizeof(url), "https://%s.%s:%u", r->name, n->o->domain, n->public_port);
	json_t *j = json_pack(
	    "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:b}", "name", r->name, "owner",
	    r->owner, "state", ck_app_state_name(r->state), "mode", r->mode, "package_sha256", pkg,
	    "url", url, "restarts", (json_int_t)r->restarts, "created", (json_int_t)r->created,
	    "started", (json_int_t)r->started, "pid", (json_int_t)r->pid, "simulated", n->o->sim);
	if (j && *r->reason)
		json_object_set_new(j, "reason", json_string(r->reason));
	char *t = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(j);
	return t;
}

static void reply_app(struct node *n, uint32_t id, int status, const struct node_app *a)
{
	char *t = node_app_json(a);
	reply_json(n, id, status, t ? json_loads(t, 0, NULL) : NULL);
	free(t);
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(struct node_app *const *)a)->rec.name,
		      (*(struct node_app *const *)b)->rec.name);
}

/* The caller's apps (every app for the admin), by name. */
static void list(struct node *n, uint32_t id, const char *owner, bool admin)
{
	json_t *arr = json_array();
	struct node_app **l = n->napps ? malloc(n->napps * sizeof(*l)) : NULL;
	if (n->napps && !l) {
		json_decref(arr);
		arr = NULL;
	}
	for (size_t i = 0; l && i < n->napps; i++)
		l[i] = n->apps[i];
	if (l)
		qsort(l, n->napps, sizeof(*l), by_name);
	for (size_t i = 0; l && arr && i < n->napps; i++)
		if (admin || !strcmp(l[i]->rec.owner, owner)) {
			char *t = node_app_json(l[i]);
			json_array_append_new(arr, t ? json_loads(t, 0, NULL) : json_null());
			free(t);
		}
	free(l);
	reply_json(n, id, 200, arr ? json_pack("{s:o}", "apps", arr) : NULL);
}

static void metrics(struct node *n, uint32_t id)
{
	unsigned by[CK_APP_STATE_MAX + 1] = {0};
	unsigned long long restarts = 0;
	char b[4096];
	for (size_t i = 0; i < n->napps; i++) {
		by[n->apps[i]->rec.state]++;
		restarts += n->apps[i]->rec.restarts;
	}
	int k = snprintf(b, sizeof(b),
			 "# HELP cloakd_apps Apps on this node, by state.\n"
			 "# TYPE cloakd_apps gauge\n");
	for (int s = CK_APP_STARTING; s <= CK_APP_STATE_MAX; s++)
		k += snprintf(b + k, sizeof(b) - (size_t)k, "cloakd_apps{state=\"%s\"} %u\n",
			      ck_app_state_name((enum ck_app_state)s), by[s]);
	const struct ck_router_stats *r = &n->router_stats;
	k += snprintf(
	    b + k, sizeof(b) - (size_t)k,
	    "# HELP cloakd_app_restarts_total Runtimes started again after dying.\n"
	    "# TYPE cloakd_app_restarts_total counter\n"
	    "cloakd_app_restarts_total %llu\n"
	    "# HELP cloakd_router_connections Connections the router holds now.\n"
	    "# TYPE cloakd_router_connections gauge\n"
	    "cloakd_router_connections %llu\n"
	    "# HELP cloakd_router_accepted_total Connections accepted on the public port.\n"
	    "# TYPE cloakd_router_accepted_total counter\n"
	    "cloakd_router_accepted_total %llu\n"
	    "# HELP cloakd_router_refused_total Connections refused (name, time, limit).\n"
	    "# TYPE cloakd_router_refused_total counter\n"
	    "cloakd_router_refused_total %llu\n"
	    "# HELP cloakd_router_bytes_total Bytes relayed, both ways.\n"
	    "# TYPE cloakd_router_bytes_total counter\n"
	    "cloakd_router_bytes_total %llu\n",
	    restarts, (unsigned long long)r->open, (unsigned long long)r->accepted,
	    (unsigned long long)r->refused, (unsigned long long)r->bytes);
	reply(n, id, 200, "text/plain; version=0.0.4", 0, b, (size_t)k, -1);
}

/* A deploy: the body goes into an unnamed file in DIR/apps, which a crash leaves no trace of. */
static void begin_upload(struct node *n, uint32_t id, const struct ck_api_msg_req *q,
			 const char *owner)
{
	struct ck_err e;
	char dir[PATH_MAX];
	if (n->nup >= n->lim.max_uploads) {
		ck_errf(&e, CK_E_LIMIT, "%u deploys are being uploaded, the node's most: retry",
			n->lim.max_uploads);
		reply_err(n, id, 503, 1, &e);
		return;
	}
	int fd = snprintf(dir, sizeof(dir), "%s/%s", n->dir.path, CK_NODE_APPS) < (int)sizeof(dir)
		     ? open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600)
		     : -1;
	uint8_t b[9];
	if (fd < 0 || ck_imsg_send(n->api_sock, CK_IMSG_API_BODY, id, b,
				   ck_api_count_encode(q->body_len, 1, b), fd, &e) < 0) {
		ck_errf(&e, CK_E_IO, "cannot take the upload: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		reply_err(n, id, 500, 0, &e);
		return;
	}
	struct node_upload *u = &n->up[n->nup++];
	u->id = id;
	u->fd = fd;
	u->len = q->body_len;
	snprintf(u->owner, sizeof(u->owner), "%s", owner);
}

static void end_upload(struct node *n, uint32_t id, uint64_t written, bool ok)
{
	struct node_upload u;
	size_t i;
	for (i = 0; i < n->nup && n->up[i].id != id; i++)
		;
	if (i == n->nup)
		return; /* not one it started: ignored */
	u = n->up[i];
	n->up[i] = n->up[--n->nup];
	if (!ok || written != u.len) { /* the client went: nothing was made */
		close(u.fd);
		return;
	}
	struct ck_err e;
	int status = 500;
	struct node_app *a = node_app_create(n, u.fd, u.len, u.owner, &status, &e);
	close(u.fd);
	if (a)
		reply_app(n, id, 201, a);
	else
		reply_err(n, id, status, 0, &e);
}

void node_app_done(struct node *n, uint32_t id, struct node_app *a, bool removed)
{
	if (!id)
		return;
	if (removed)
		reply_json(n, id, 200, json_pack("{s:s}", "removed", a->rec.name));
	else
		reply_app(n, id, 200, a);
}

static void request(struct node *n, uint32_t id, const struct ck_api_msg_req *q)
{
	char owner[CK_OWNER_NAME_MAX + 1];
	bool admin;
	struct ck_err e;
	if (authorise(n, id, q, owner, &admin) < 0)
		return;
	if (q->route == CK_API_APPS_LIST)
		return list(n, id, owner, admin);
	if (q->route == CK_API_METRICS)
		return metrics(n, id);
	if (q->route == CK_API_APPS_CREATE)
		return begin_upload(n, id, q, owner);
	struct node_app *a = node_app_find(n, q->app);
	if (!a || (!admin && strcmp(a->rec.owner, owner))) {
		ck_errf(&e, CK_E_NOT_FOUND, "no app '%s'", q->app);
		return reply_err(n, id, 404, 0, &e);
	}
	if (q->route == CK_API_APP_GET)
		return reply_app(n, id, 200, a);
	if (q->route == CK_API_APP_LOGS) {
		int fd = node_app_log(a, &e);
		if (fd < 0)
			return reply_err(n, id, 404, 0, &e);
		return reply(n, id, 200, "text/plain; charset=utf-8", 0, NULL, 0, fd);
	}
	if (node_app_stop(a, q->route == CK_API_APP_DELETE, id, &e) < 0)
		reply_err(n, id, 409, 0, &e);
}

int node_handle_api(struct node *n, const struct ck_imsg *m)
{
	struct ck_err e;
	if (m->type == CK_IMSG_API_REQ) {
		struct ck_api_msg_req q;
		int r = m->fd < 0 ? ck_api_req_decode(m, &q, &e)
				  : ck_errf(&e, CK_E_IMSG, "a request with a descriptor");
		if (r == 0)
			request(n, m->id, &q);
		OPENSSL_cleanse(&q, sizeof(q));
		if (r < 0)
			fprintf(stderr, "cloakd: from the api: %s\n", e.msg);
		return r;
	}
	if (m->type == CK_IMSG_API_BODY_DONE && m->fd < 0) {
		uint64_t w;
		bool ok;
		if (ck_api_count_decode(m, &w, &ok, &e) < 0) {
			fprintf(stderr, "cloakd: from the api: %s\n", e.msg);
			return -1;
		}
		end_upload(n, m->id, w, ok);
		return 0;
	}
	if (m->fd >= 0)
		close(m->fd);
	fprintf(stderr, "cloakd: from the api: message type %u is not the parent's\n", m->type);
	return -1;
}
