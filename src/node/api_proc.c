/* SPDX-License-Identifier: Apache-2.0 */
/*
 * api_proc.c - cloakd's api process: the owner API's HTTPS, confined as the router is. It reads
 * each request through the project's strict parser (http.h), one request per connection,
 * decides its route (api.h), and asks the parent, which alone knows tokens and apps, for the
 * answer (imsg.h: API_REQ, API_REPLY). A deploy's body is written into the unnamed file the
 * parent hands over (API_BODY, API_BODY_DONE), never held whole; a log is streamed from the
 * descriptor the parent opened. It refuses by itself what needs no parent: a malformed request
 * (with the parser's status), an unknown route (404, 405), a missing or oversized token (401),
 * a body where none belongs (400), a deploy without a length (411) or over the limit (413).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <jansson.h>
#include <netinet/in.h>
#include <openssl/err.h>

#include "cloak/http.h"
#include "daemon.h"

#define API_BUF_HIGH  (256 * 1024) /* input buffered before reading pauses */
#define API_LOG_CHUNK (16 * 1024)  /* a log is streamed in chunks of this */
#define API_TAIL_MS   250	   /* follow: how often the log is looked at again */

enum aconn_state { A_HEAD, A_WAIT, A_BODY, A_REPLY, A_STREAM };

struct api {
	struct event_base *base;
	int sock;
	SSL_CTX *tls;
	uint64_t max_body;
	uint32_t next_id;
	size_t n;
	struct aconn *conns;
};

struct aconn {
	struct api *api;
	struct aconn *prev, *next;
	struct bufferevent *bev;
	enum aconn_state state;
	uint32_t id;
	bool create, follow, expect_continue;
	uint64_t body_left, body_done;
	int body_fd, log_fd;
	struct event *tail;
	struct sockaddr_storage peer;
};

static void aconn_free(struct aconn *c)
{
	struct api *a = c->api;
	if (c->body_fd >= 0) { /* cut short: the parent throws the file away */
		uint8_t b[9];
		struct ck_err e;
		close(c->body_fd);
		ck_imsg_send(a->sock, CK_IMSG_API_BODY_DONE, c->id, b,
			     ck_api_count_encode(c->body_done, 0, b), -1, &e);
	}
	if (c->log_fd >= 0)
		close(c->log_fd);
	if (c->tail)
		event_free(c->tail);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	a->n--;
	bufferevent_free(c->bev); /* BEV_OPT_CLOSE_ON_FREE: the SSL and the socket too */
	free(c);
}

/* Once the answer is written the connection closes (one request per connection). */
static void on_write(struct bufferevent *bev, void *arg);
static void on_read(struct bufferevent *bev, void *arg);
static void on_event(struct bufferevent *bev, short what, void *arg);

static void answer(struct aconn *c, int status, const char *ctype, unsigned retry_after,
		   const char *allow, const void *body, size_t len, bool chunked)
{
	static const struct {
		int st;
		const char *reason;
	} reasons[] = {{200, "OK"},
		       {201, "Created"},
		       {202, "Accepted"},
		       {400, "Bad Request"},
		       {401, "Unauthorized"},
		       {403, "Forbidden"},
		       {404, "Not Found"},
		       {405, "Method Not Allowed"},
		       {408, "Request Timeout"},
		       {409, "Conflict"},
		       {411, "Length Required"},
		       {413, "Content Too Large"},
		       {422, "Unprocessable Content"},
		       {429, "Too Many Requests"},
		       {431, "Request Header Fields Too Large"},
		       {500, "Internal Server Error"},
		       {501, "Not Implemented"},
		       {503, "Service Unavailable"},
		       {505, "HTTP Version Not Supported"}};
	const char *reason = "Unknown";
	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].st == status)
			reason = reasons[i].reason;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add_printf(out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nConnection: close\r\n",
			    status, reason, ctype);
	if (chunked)
		evbuffer_add_printf(out, "Transfer-Encoding: chunked\r\n");
	else
		evbuffer_add_printf(out, "Content-Length: %zu\r\n", len);
	if (retry_after)
		evbuffer_add_printf(out, "Retry-After: %u\r\n", retry_after);
	if (allow)
		evbuffer_add_printf(out, "Allow: %s\r\n", allow);
	if (status == 401)
		evbuffer_add_printf(out, "WWW-Authenticate: Bearer realm=\"cloakd\"\r\n");
	evbuffer_add(out, "\r\n", 2);
	if (len)
		evbuffer_add(out, body, len);
	c->state = chunked ? A_STREAM : A_REPLY;
	if (chunked) { /* read on, with no timeout, to see the client go; what it sends is
			  discarded */
		bufferevent_set_timeouts(c->bev, NULL, &(struct timeval){NODE_API_IO_MS / 1000, 0});
		bufferevent_enable(c->bev, EV_READ);
	} else {
		bufferevent_disable(c->bev, EV_READ);
	}
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	bufferevent_enable(c->bev, EV_WRITE);
}

static void answer_error(struct aconn *c, int status, const char *code, const char *msg,
			 const char *allow)
{
	json_t *o = json_pack("{s:s, s:s}", "error", code, "message", msg);
	char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	answer(c, status, "application/json", 0, allow, t ? t : "{}", t ? strlen(t) : 2, false);
	free(t);
}

/* ---- a log, streamed as chunks ------------------------------------------------------------ */

/* More of the log into the output, as one chunk; at its end, the last chunk (or, following, a
 * look again later). */
static void stream_more(struct aconn *c)
{
	char b[API_LOG_CHUNK];
	struct evbuffer *out = bufferevent_get_output(c->bev);
	ssize_t k = read(c->log_fd, b, sizeof(b));
	if (k > 0) {
		evbuffer_add_printf(out, "%zx\r\n", (size_t)k);
		evbuffer_add(out, b, (size_t)k);
		evbuffer_add(out, "\r\n", 2);
		return;
	}
	if (k == 0 && c->follow) {
		struct timeval tv = {0, API_TAIL_MS * 1000};
		evtimer_add(c->tail, &tv);
		return;
	}
	evbuffer_add(out, "0\r\n\r\n", 5);
	close(c->log_fd);
	c->log_fd = -1;
	c->state = A_REPLY;
}

static void on_tail(evutil_socket_t fd, short what, void *arg)
{
	struct aconn *c = arg;
	(void)fd;
	(void)what;
	stream_more(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0 && c->state == A_REPLY)
		aconn_free(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)))
		return;
	if (c->state == A_STREAM && c->log_fd >= 0 && !evtimer_pending(c->tail, NULL)) {
		stream_more(c);
		if (evbuffer_get_length(bufferevent_get_output(bev)))
			return;
	}
	if (c->state == A_REPLY)
		aconn_free(c);
}

/* ---- the request ---------------------------------------------------------------------------- */

static int token_of(const struct ck_http_head *h, char tok[CK_API_TOKEN_MAX + 1])
{
	const struct ck_http_header *a = ck_http_find(h, "authorization");
	*tok = 0;
	if (!a)
		return 0;
	if (a->value_len < 7 || strncasecmp(a->value, "Bearer ", 7) ||
	    a->value_len - 7 > CK_API_TOKEN_MAX || a->value_len == 7)
		return -1;
	memcpy(tok, a->value + 7, a->value_len - 7);
	tok[a->value_len - 7] = 0;
	return 0;
}

static void peer_of(const struct aconn *c, struct ck_api_msg_req *q)
{
	if (c->peer.ss_family == AF_INET) {
		q->family = 4;
		memcpy(q->addr, &((const struct sockaddr_in *)&c->peer)->sin_addr, 4);
	} else {
		q->family = 6;
		memcpy(q->addr, &((const struct sockaddr_in6 *)&c->peer)->sin6_addr, 16);
	}
}

/* The head, parsed: refused here, or passed to the parent. */
static void request(struct aconn *c, const struct ck_http_head *h)
{
	struct ck_api_msg_req q = {0};
	struct ck_api_req r;
	struct ck_err e;
	const char *allow;
	int status;
	uint8_t b[CK_IMSG_MAX_PAYLOAD];
	if (ck_api_route(h->method, h->method_len, h->target, h->target_len, &r, &status, &allow,
			 &e) < 0) {
		answer_error(c, status, e.code, e.msg, allow);
		return;
	}
	if (token_of(h, q.token) < 0) {
		answer_error(c, 401, CK_E_AUTH, "Authorization must be 'Bearer TOKEN'", NULL);
		return;
	}
	if (!*q.token) {
		answer_error(c, 401, CK_E_AUTH, "no token: send 'Authorization: Bearer TOKEN'",
			     NULL);
		return;
	}
	c->create = r.route == CK_API_APPS_CREATE;
	if (c->create && h->body != CK_HTTP_BODY_LENGTH) {
		answer_error(c, 411, "http.length", "a deploy needs a Content-Length", NULL);
		return;
	}
	if (c->create && (h->content_length < 4 || h->content_length > c->api->max_body)) {
		char m[128];
		snprintf(m, sizeof(m), "a deploy of %llu bytes: the node takes 4 to %llu",
			 (unsigned long long)h->content_length,
			 (unsigned long long)c->api->max_body);
		answer_error(c, h->content_length < 4 ? 400 : 413,
			     h->content_length < 4 ? CK_E_HTTP_SYNTAX : CK_E_TOO_LARGE, m, NULL);
		return;
	}
	if (!c->create && h->body != CK_HTTP_BODY_NONE &&
	    !(h->body == CK_HTTP_BODY_LENGTH && h->content_length == 0)) {
		answer_error(c, 400, CK_E_HTTP_SYNTAX, "this request takes no body", NULL);
		return;
	}
	q.route = r.route;
	q.follow = r.follow;
	memcpy(q.app, r.app, sizeof(q.app));
	q.body_len = c->create ? h->content_length : 0;
	peer_of(c, &q);
	c->follow = r.follow;
	c->expect_continue = h->expect_continue;
	size_t n = ck_api_req_encode(&q, b, sizeof(b));
	OPENSSL_cleanse(q.token, sizeof(q.token));
	if (!n || ck_imsg_send(c->api->sock, CK_IMSG_API_REQ, c->id, b, n, -1, &e) < 0) {
		OPENSSL_cleanse(b, sizeof(b));
		answer_error(c, 503, "unavailable", "the node cannot answer now", NULL);
		return;
	}
	OPENSSL_cleanse(b, sizeof(b));
	c->state = A_WAIT;
	bufferevent_disable(c->bev, EV_READ);
}

/* The body, as it comes, into the parent's file. */
static void body_step(struct aconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	struct ck_err e;
	while (c->body_left && evbuffer_get_length(in)) {
		int k = evbuffer_write_atmost(in, c->body_fd, (ev_ssize_t)c->body_left);
		if (k <= 0) {
			aconn_free(c); /* the parent's file cannot take it: cut short */
			return;
		}
		c->body_left -= (uint64_t)k;
		c->body_done += (uint64_t)k;
	}
	if (c->body_left)
		return;
	uint8_t b[9];
	close(c->body_fd);
	c->body_fd = -1;
	ck_imsg_send(c->api->sock, CK_IMSG_API_BODY_DONE, c->id, b,
		     ck_api_count_encode(c->body_done, 1, b), -1, &e);
	c->state = A_WAIT;
	bufferevent_disable(c->bev, EV_READ);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct aconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->state == A_BODY) {
		body_step(c);
		return;
	}
	if (c->state == A_STREAM) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	if (c->state != A_HEAD)
		return;
	size_t len = evbuffer_get_length(in),
	       want = len < CK_HTTP_MAX_HEAD ? len : CK_HTTP_MAX_HEAD;
	const char *p = (const char *)evbuffer_pullup(in, (ev_ssize_t)want);
	struct ck_http_head *h = malloc(sizeof(*h));
	struct ck_err e;
	int status = 400;
	if (!h) {
		aconn_free(c);
		return;
	}
	long k = ck_http_parse_request(p, want, h, &status, &e);
	if (k < 0) {
		answer_error(c, status, e.code, e.msg, NULL);
	} else if (k == 0 && want == CK_HTTP_MAX_HEAD) {
		answer_error(c, 431, CK_E_HTTP_LIMIT, "the request head is too large", NULL);
	} else if (k > 0) {
		request(c, h);
		OPENSSL_cleanse((void *)p, (size_t)k); /* the head held the token */
		if (c->state == A_WAIT)
			evbuffer_drain(in, (size_t)k);
		bufferevent_set_timeouts(bev, &(struct timeval){NODE_API_IO_MS / 1000, 0},
					 &(struct timeval){NODE_API_IO_MS / 1000, 0});
	}
	free(h);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct aconn *c = arg;
	(void)bev;
	if (what == BEV_EVENT_CONNECTED)
		return; /* the TLS handshake is done */
	if ((what & BEV_EVENT_TIMEOUT) && c->state == A_HEAD) {
		answer_error(c, 408, "http.timeout", "the request head did not come in time", NULL);
		return;
	}
	aconn_free(c); /* closed, failed, or timed out: what was owed goes */
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct api *a = arg;
	(void)l;
	SSL *ssl = a->n < NODE_API_MAX_CONNS ? SSL_new(a->tls) : NULL;
	struct aconn *c = ssl ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return;
	}
	c->api = a;
	c->body_fd = c->log_fd = -1;
	c->id = ++a->next_id ? a->next_id : ++a->next_id;
	memcpy(&c->peer, sa, (size_t)salen < sizeof(c->peer) ? (size_t)salen : sizeof(c->peer));
	c->bev = bufferevent_openssl_socket_new(a->base, fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						BEV_OPT_CLOSE_ON_FREE);
	c->tail = evtimer_new(a->base, on_tail, c);
	if (!c->bev || !c->tail) {
		if (c->bev)
			bufferevent_free(c->bev);
		else
			evutil_closesocket(fd), SSL_free(ssl);
		if (c->tail)
			event_free(c->tail);
		free(c);
		return;
	}
	c->next = a->conns;
	if (a->conns)
		a->conns->prev = c;
	a->conns = c;
	a->n++;
	bufferevent_setwatermark(c->bev, EV_READ, 0, API_BUF_HIGH);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	bufferevent_set_timeouts(c->bev, &(struct timeval){NODE_API_HEAD_MS / 1000, 0},
				 &(struct timeval){NODE_API_IO_MS / 1000, 0});
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

/* ---- the parent's messages ------------------------------------------------------------------ */

static struct aconn *by_id(struct api *a, uint32_t id)
{
	for (struct aconn *c = a->conns; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static int on_body(struct api *a, const struct ck_imsg *m, struct ck_err *e)
{
	uint64_t n;
	bool ok;
	if (ck_api_count_decode(m, &n, &ok, e) < 0)
		return -1;
	struct aconn *c = by_id(a, m->id);
	if (!c || c->state != A_WAIT || !c->create || n == 0) { /* gone meanwhile */
		uint8_t b[9];
		close(m->fd);
		return ck_imsg_send(a->sock, CK_IMSG_API_BODY_DONE, m->id, b,
				    ck_api_count_encode(0, 0, b), -1, e);
	}
	c->body_fd = m->fd;
	c->body_left = n;
	c->state = A_BODY;
	if (c->expect_continue)
		evbuffer_add_printf(bufferevent_get_output(c->bev),
				    "HTTP/1.1 100 Continue\r\n\r\n");
	bufferevent_enable(c->bev, EV_READ);
	body_step(c);
	return 0;
}

static int on_reply(struct api *a, const struct ck_imsg *m, struct ck_err *e)
{
	struct ck_api_msg_reply r;
	if (ck_api_reply_decode(m, &r, e) < 0) {
		if (m->fd >= 0)
			close(m->fd);
		return -1;
	}
	struct aconn *c = by_id(a, m->id);
	if (!c || (c->state != A_WAIT && c->state != A_BODY)) {
		if (m->fd >= 0)
			close(m->fd);
		return 0;
	}
	if (c->body_fd >= 0) { /* answered before the body was all read (e.g. refused) */
		close(c->body_fd);
		c->body_fd = -1;
	}
	answer(c, r.status, r.ctype, r.retry_after, NULL, r.body, r.body_len, m->fd >= 0);
	if (m->fd >= 0) {
		c->log_fd = m->fd;
		stream_more(c);
	}
	return 0;
}

static void on_parent(evutil_socket_t fd, short what, void *arg)
{
	struct api *a = arg;
	static uint8_t buf[CK_IMSG_MAX];
	struct ck_imsg m;
	struct ck_err e;
	(void)fd;
	(void)what;
	int r = ck_imsg_recv(a->sock, buf, &m, &e);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0 && m.type == CK_IMSG_API_BODY)
		r = on_body(a, &m, &e) < 0 ? -1 : 1;
	else if (r > 0 && m.type == CK_IMSG_API_REPLY)
		r = on_reply(a, &m, &e) < 0 ? -1 : 1;
	else if (r > 0) {
		if (m.fd >= 0)
			close(m.fd);
		r = ck_errf(&e, CK_E_IMSG, "message type %u is not the api's", m.type);
	}
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "cloakd[api]: %s: stopping\n", e.msg);
		event_base_loopexit(a->base, NULL);
	}
}

static SSL_CTX *api_tls(const struct ck_node_dir *d)
{
	char cert[PATH_MAX], key[PATH_MAX];
	struct ck_err e;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || ck_node_path(d, CK_NODE_API_CERT, cert, &e) < 0 ||
	    ck_node_path(d, CK_NODE_API_KEY, key, &e) < 0 ||
	    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

void node_api_main(int lfd, int sock, const struct node *n)
{
	static struct api a;
	int keep[] = {lfd, sock};
	a.sock = sock;
	a.max_body = n->lim.max_package;
	a.tls = api_tls(&n->dir); /* before the root changes: the key is read from DIR */
	if (!a.tls) {
		fprintf(stderr, "cloakd[api]: cannot load the API certificate and key\n");
		_exit(2);
	}
	node_child_confine("api", keep, 2, n->o->user);
	a.base = event_base_new();
	evutil_make_socket_nonblocking(sock);
	evutil_make_socket_nonblocking(lfd);
	struct event *pe =
	    a.base ? event_new(a.base, sock, EV_READ | EV_PERSIST, on_parent, &a) : NULL;
	struct evconnlistener *l =
	    a.base ? evconnlistener_new(a.base, on_accept, &a,
					LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, lfd)
		   : NULL;
	if (!pe || !l || event_add(pe, NULL) < 0)
		_exit(2);
	event_base_dispatch(a.base);
	_exit(0);
}
