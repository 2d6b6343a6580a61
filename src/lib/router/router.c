/* SPDX-License-Identifier: Apache-2.0 */
/* router.c - SNI passthrough; the contract is in include/cloak/router.h. */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>

#include "cloak/router.h"

/* TLS alert record: fatal (2), unrecognized_name (112) */
static const uint8_t ALERT_UNRECOGNIZED_NAME[] = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x70};

/* One direction of a spliced connection: src's bytes go through a pipe into dst, never
 * through user space. */
struct flow {
	int src, dst;
	int pipe[2];
	size_t held; /* bytes in the pipe */
	bool eof;    /* src has closed its sending half */
	bool done;   /* ... and all of it went to dst, whose sending half is shut */
	struct event *rd, *wr;
};

struct rconn {
	struct ck_router *r;
	struct rconn *prev, *next;
	struct bufferevent *cli, *app; /* until relaying: reading the ClientHello, connecting */
	struct event *timer;
	bool spliced;	     /* relaying by splice(2): fds and flows below, no bufferevents */
	int fd[2];	     /* client, app */
	struct flow flow[2]; /* client -> app, app -> client */
	uint8_t *hello;	     /* what was read before the route was known, still owed to the app */
	size_t hello_len, hello_off;
};

#define FLOW_PIPE (256 * 1024) /* a pipe's capacity, asked for (F_SETPIPE_SZ) */

struct ck_router {
	struct event_base *base;
	struct evconnlistener *listener;
	struct ck_router_cfg cfg;
	struct rconn *conns;
	size_t n;
	struct ck_router_stats st;
	int pool[CK_ROUTER_PIPE_POOL][2]; /* empty pipes kept for the next connections */
	size_t npool;
};

/* An empty pipe back to the pool, or closed. */
static void pipe_put(struct ck_router *r, int p[2], bool empty)
{
	if (p[0] < 0)
		return;
	if (empty && r->npool < CK_ROUTER_PIPE_POOL) {
		r->pool[r->npool][0] = p[0];
		r->pool[r->npool++][1] = p[1];
	} else {
		close(p[0]);
		close(p[1]);
	}
	p[0] = p[1] = -1;
}

/* A pipe from the pool, or a new one of FLOW_PIPE bytes. */
static int pipe_get(struct ck_router *r, int p[2])
{
	if (r->npool) {
		r->npool--;
		p[0] = r->pool[r->npool][0];
		p[1] = r->pool[r->npool][1];
		return 0;
	}
	if (pipe2(p, O_NONBLOCK | O_CLOEXEC) < 0)
		return -1;
	(void)fcntl(p[1], F_SETPIPE_SZ, FLOW_PIPE);
	return 0;
}

static void rconn_free(struct rconn *c)
{
	struct ck_router *r = c->r;
	if (c->prev)
		c->prev->next = c->next;
	else
		r->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	r->n--;
	if (c->timer)
		event_free(c->timer);
	if (c->cli)
		bufferevent_free(c->cli);
	if (c->app)
		bufferevent_free(c->app);
	for (int i = 0; c->spliced && i < 2; i++) {
		struct flow *f = &c->flow[i];
		if (f->rd)
			event_free(f->rd);
		if (f->wr)
			event_free(f->wr);
		pipe_put(r, f->pipe, f->held == 0); /* what it holds is owed to nobody now */
		if (c->fd[i] >= 0)
			close(c->fd[i]);
	}
	free(c->hello);
	free(c);
}

/* Closes once what is owed to the client has been written (a refusal's alert). */
static void refuse(struct rconn *c, bool alert)
{
	c->r->st.refused++;
	struct evbuffer *out = bufferevent_get_output(c->cli);
	bufferevent_disable(c->cli, EV_READ);
	if (alert)
		evbuffer_add(out, ALERT_UNRECOGNIZED_NAME, sizeof(ALERT_UNRECOGNIZED_NAME));
	if (evbuffer_get_length(out) == 0)
		rconn_free(c); /* else hello_write frees it once flushed */
}

/* Before relaying, the client is only ever written a refusal: flushed, it is closed. */
static void hello_write(struct bufferevent *bev, void *arg)
{
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		rconn_free(arg);
}

/* Before relaying, the client's close or an error ends the connection. */
static void hello_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	rconn_free(arg);
}

/* ---- splice(2): bytes from socket to socket through a pipe, as HAProxy moves them ------------ */

static void flow_step(struct rconn *c, struct flow *f);

/* Pushes what the pipe holds (and first, for client -> app, the ClientHello bytes) to dst.
 * Returns -1 when the connection is over (an error), 0 otherwise. */
static int flow_flush(struct rconn *c, struct flow *f)
{
	if (f == &c->flow[0]) {
		while (c->hello_off < c->hello_len) {
			ssize_t k = send(f->dst, c->hello + c->hello_off,
					 c->hello_len - c->hello_off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (k < 0)
				return errno == EAGAIN ? 0 : -1;
			c->hello_off += (size_t)k;
		}
	}
	while (f->held) {
		ssize_t k = splice(f->pipe[0], NULL, f->dst, NULL, f->held,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (k < 0)
			return errno == EAGAIN ? 0 : -1;
		f->held -= (size_t)k;
		c->r->st.bytes += (uint64_t)k;
	}
	return 0;
}

static bool flushed(const struct rconn *c, const struct flow *f)
{
	return f->held == 0 && (f != &c->flow[0] || c->hello_off == c->hello_len);
}

/* Moves what can move in one direction, and arms the events for what cannot yet. */
static void flow_step(struct rconn *c, struct flow *f)
{
	if (flow_flush(c, f) < 0) {
		rconn_free(c);
		return;
	}
	while (!f->eof && flushed(c, f)) {
		ssize_t k = splice(f->src, NULL, f->pipe[1], NULL, FLOW_PIPE,
				   SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
		if (k < 0 && errno == EAGAIN)
			break;
		if (k < 0) {
			rconn_free(c);
			return;
		}
		if (k == 0) {
			f->eof = true;
			break;
		}
		f->held += (size_t)k;
		if (flow_flush(c, f) < 0) {
			rconn_free(c);
			return;
		}
	}
	if (!flushed(c, f)) { /* dst would block: wait for it, and read no more meanwhile */
		event_del(f->rd);
		event_add(f->wr, NULL);
		return;
	}
	event_del(f->wr);
	if (!f->eof) {
		event_add(f->rd, NULL);
		return;
	}
	if (!f->done) { /* everything src sent has gone: pass its close on */
		f->done = true;
		event_del(f->rd);
		shutdown(f->dst, SHUT_WR);
	}
	if (c->flow[0].done && c->flow[1].done)
		rconn_free(c);
}

/* The rconn that owns flow `f` (flows live in rconn.flow[]). */
static struct rconn *owner_of(struct flow *f, int i)
{
	return (struct rconn *)((char *)(f - i) - offsetof(struct rconn, flow));
}

static void flow0_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct flow *f = arg;
	flow_step(owner_of(f, 0), f);
}

static void flow1_ready(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct flow *f = arg;
	flow_step(owner_of(f, 1), f);
}

/* The bufferevents' descriptors taken over by two spliced flows; false (nothing changed) when
 * pipes cannot be had. */
static bool splice_start(struct rconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->cli);
	int p[2][2] = {{-1, -1}, {-1, -1}};
	for (int i = 0; i < 2; i++)
		if (pipe_get(c->r, p[i]) < 0) {
			for (int k = 0; k < i; k++)
				pipe_put(c->r, p[k], true);
			return false;
		}
	c->hello_len = evbuffer_get_length(in);
	if (c->hello_len && (!(c->hello = malloc(c->hello_len)) ||
			     evbuffer_remove(in, c->hello, c->hello_len) != (int)c->hello_len)) {
		for (int i = 0; i < 2; i++)
			pipe_put(c->r, p[i], true);
		free(c->hello);
		c->hello = NULL;
		return false;
	}
	c->fd[0] = bufferevent_getfd(c->cli);
	c->fd[1] = bufferevent_getfd(c->app);
	bufferevent_setfd(c->cli, -1); /* the descriptors are the flows' from now on */
	bufferevent_setfd(c->app, -1);
	bufferevent_free(c->cli);
	bufferevent_free(c->app);
	c->cli = c->app = NULL;
	c->spliced = true;
	event_callback_fn cb[2] = {flow0_ready, flow1_ready};
	for (int i = 0; i < 2; i++) {
		struct flow *f = &c->flow[i];
		f->src = c->fd[i];
		f->dst = c->fd[1 - i];
		f->pipe[0] = p[i][0];
		f->pipe[1] = p[i][1];
		f->rd = event_new(c->r->base, f->src, EV_READ | EV_PERSIST, cb[i], f);
		f->wr = event_new(c->r->base, f->dst, EV_WRITE | EV_PERSIST, cb[i], f);
	}
	return true;
}

/* Connected to the runtime: the bytes read so far go first, then the relay. */
static void app_event(struct bufferevent *bev, short what, void *arg)
{
	struct rconn *c = arg;
	if (!(what & BEV_EVENT_CONNECTED)) {
		rconn_free(c); /* the runtime is not there */
		return;
	}
	int one = 1;
	setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	event_del(c->timer);
	if (!splice_start(c)) {
		rconn_free(c); /* no pipes (descriptors exhausted): closed, not relayed otherwise */
		return;
	}
	for (int i = 0; i < 2; i++)
		if (!c->flow[i].rd || !c->flow[i].wr) {
			rconn_free(c);
			return;
		}
	event_add(c->flow[1].rd, NULL);
	flow_step(c, &c->flow[0]); /* the ClientHello first; it may end the connection */
}

/* To the process that terminates TLS: through a socketpair, relayed as a runtime would be. */
static void terminate(struct rconn *c, const struct ck_hello *h)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sp) < 0) {
		rconn_free(c);
		return;
	}
	if (c->r->cfg.terminate(c->r->cfg.route_arg, h, sp[1]) < 0 ||
	    !(c->app = bufferevent_socket_new(c->r->base, sp[0], BEV_OPT_CLOSE_ON_FREE))) {
		close(sp[0]);
		rconn_free(c);
		return;
	}
	app_event(c->app, BEV_EVENT_CONNECTED, c);
}

/* Waiting for the ClientHello: route as soon as it names a server. */
static void hello_read(struct bufferevent *bev, void *arg)
{
	struct rconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	struct ck_hello h;
	int r = ck_hello_parse(evbuffer_pullup(in, (ev_ssize_t)n), n, &h, NULL);
	if (r == 0) {
		if (n >= CK_SNI_MAX_HELLO + 64)
			refuse(c, false);
		return;
	}
	struct sockaddr_storage to;
	socklen_t tl = sizeof(to);
	if (r < 0) {
		refuse(c, false);
		return;
	}
	int where = c->r->cfg.route(c->r->cfg.route_arg, &h, &to, &tl);
	if (where < 0 || (where == CK_ROUTER_TERMINATE && !c->r->cfg.terminate)) {
		refuse(c, true);
		return;
	}
	bufferevent_disable(bev, EV_READ); /* until the runtime is connected */
	if (where == CK_ROUTER_TERMINATE) {
		terminate(c, &h);
		return;
	}
	struct timeval tv = {CK_ROUTER_CONNECT_MS / 1000, (CK_ROUTER_CONNECT_MS % 1000) * 1000};
	if (!(c->app = bufferevent_socket_new(c->r->base, -1,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS))) {
		rconn_free(c);
		return;
	}
	bufferevent_setcb(c->app, NULL, NULL, app_event, c);
	bufferevent_set_timeouts(c->app, NULL, &tv);
	if (bufferevent_socket_connect(c->app, (struct sockaddr *)&to, (int)tl) < 0)
		rconn_free(c);
}

static void hello_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rconn_free(arg); /* no ClientHello in time, or no runtime: closed */
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct ck_router *r = arg;
	(void)l;
	(void)sa;
	(void)salen;
	struct rconn *c = r->n < CK_ROUTER_MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	r->st.accepted++;
	if (!c) {
		r->st.refused++;
		evutil_closesocket(fd);
		return;
	}
	c->r = r;
	c->fd[0] = c->fd[1] = -1;
	for (int i = 0; i < 2; i++)
		c->flow[i].pipe[0] = c->flow[i].pipe[1] = -1;
	c->next = r->conns;
	if (r->conns)
		r->conns->prev = c;
	r->conns = c;
	r->n++;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	struct timeval tv = {r->cfg.hello_timeout_ms / 1000,
			     (suseconds_t)(r->cfg.hello_timeout_ms % 1000) * 1000};
	if (!(c->cli = bufferevent_socket_new(r->base, fd,
					      BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS)) ||
	    !(c->timer = evtimer_new(r->base, hello_timeout, c)) ||
	    evtimer_add(c->timer, &tv) < 0) {
		if (!c->cli)
			evutil_closesocket(fd);
		rconn_free(c);
		return;
	}
	bufferevent_setcb(c->cli, hello_read, hello_write, hello_event, c);
	bufferevent_setwatermark(c->cli, EV_READ, 0, CK_SNI_MAX_HELLO + 64);
	bufferevent_enable(c->cli, EV_READ);
}

int ck_router_new(struct event_base *base, int listen_fd, const struct ck_router_cfg *cfg,
		  struct ck_router **out, struct ck_err *err)
{
	struct ck_router *r = calloc(1, sizeof(*r));
	if (!r)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	r->base = base;
	r->cfg = *cfg;
	if (!r->cfg.hello_timeout_ms)
		r->cfg.hello_timeout_ms = CK_ROUTER_HELLO_TIMEOUT_MS;
	evutil_make_socket_nonblocking(listen_fd);
	r->listener = evconnlistener_new(
	    base, on_accept, r, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, listen_fd);
	if (!r->listener) {
		free(r);
		return ck_errf(err, CK_E_IO, "cannot listen on descriptor %d: %s", listen_fd,
			       strerror(errno));
	}
	*out = r;
	return 0;
}

void ck_router_stats(const struct ck_router *r, struct ck_router_stats *st)
{
	*st = r->st;
	st->open = r->n;
}

size_t ck_router_conns(const struct ck_router *r)
{
	return r->n;
}

void ck_router_free(struct ck_router *r)
{
	if (!r)
		return;
	evconnlistener_free(r->listener);
	while (r->conns)
		rconn_free(r->conns);
	while (r->npool) {
		r->npool--;
		close(r->pool[r->npool][0]);
		close(r->pool[r->npool][1]);
	}
	free(r);
}
