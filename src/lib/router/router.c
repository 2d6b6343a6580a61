/* SPDX-License-Identifier: Apache-2.0 */
/* router.c - SNI passthrough; the contract is in include/cloak/router.h. */
#include <errno.h>
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

struct rconn {
	struct ck_router *r;
	struct rconn *prev, *next;
	struct bufferevent *cli, *app;
	struct event *timer;
	bool routed;	       /* relaying */
	bool cli_eof, app_eof; /* that side has closed its sending half */
};

struct ck_router {
	struct event_base *base;
	struct evconnlistener *listener;
	struct ck_router_cfg cfg;
	struct rconn *conns;
	size_t n;
};

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
	free(c);
}

/* Closes once what is owed to the client has been written (a refusal's alert). */
static void refuse(struct rconn *c, bool alert)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	bufferevent_disable(c->cli, EV_READ);
	if (alert)
		evbuffer_add(out, ALERT_UNRECOGNIZED_NAME, sizeof(ALERT_UNRECOGNIZED_NAME));
	if (evbuffer_get_length(out) == 0)
		rconn_free(c);
	else
		c->cli_eof = c->app_eof = true; /* the write callback frees it once flushed */
}

static struct bufferevent *other(struct rconn *c, struct bufferevent *bev)
{
	return bev == c->cli ? c->app : c->cli;
}

/* Relaying: what one side sent goes to the other; reading pauses while the other lags. */
static void relay_read(struct bufferevent *bev, void *arg)
{
	struct rconn *c = arg;
	struct bufferevent *to = other(c, bev);
	evbuffer_add_buffer(bufferevent_get_output(to), bufferevent_get_input(bev));
	if (evbuffer_get_length(bufferevent_get_output(to)) >= CK_ROUTER_BUF_HIGH)
		bufferevent_disable(bev, EV_READ);
}

/* Written out: resume the other side; pass a close on, or finish, once nothing is owed. */
static void relay_write(struct bufferevent *bev, void *arg)
{
	struct rconn *c = arg;
	struct bufferevent *from = c->routed ? other(c, bev) : NULL;
	bool eof_from = bev == c->cli ? c->app_eof : c->cli_eof;
	if (!c->routed) { /* a refusal, flushed */
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			rconn_free(c);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(bev)) > CK_ROUTER_BUF_HIGH / 2)
		return;
	if (!eof_from)
		bufferevent_enable(from, EV_READ);
	else if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR); /* its peer closed: say so */
	if (c->cli_eof && c->app_eof && evbuffer_get_length(bufferevent_get_output(c->cli)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(c->app)) == 0)
		rconn_free(c);
}

static void relay_event(struct bufferevent *bev, short what, void *arg)
{
	struct rconn *c = arg;
	if (!c->routed) {
		if (bev == c->app && (what & BEV_EVENT_CONNECTED))
			return; /* handled by app_event */
		rconn_free(c);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		rconn_free(c); /* a reset or failure: nothing more can be delivered */
		return;
	}
	if (what & BEV_EVENT_EOF) {
		struct bufferevent *to = other(c, bev);
		relay_read(bev, c); /* what came with the close */
		if (bev == c->cli)
			c->cli_eof = true;
		else
			c->app_eof = true;
		bufferevent_disable(bev, EV_READ);
		relay_write(to, c);
	}
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
	c->routed = true;
	event_del(c->timer);
	bufferevent_setcb(c->cli, relay_read, relay_write, relay_event, c);
	bufferevent_setcb(c->app, relay_read, relay_write, relay_event, c);
	bufferevent_setwatermark(c->cli, EV_WRITE, CK_ROUTER_BUF_HIGH / 2, 0);
	bufferevent_setwatermark(c->app, EV_WRITE, CK_ROUTER_BUF_HIGH / 2, 0);
	bufferevent_setwatermark(c->cli, EV_READ, 0, 0);
	bufferevent_set_timeouts(c->app, NULL, NULL);
	evbuffer_add_buffer(bufferevent_get_output(c->app), bufferevent_get_input(c->cli));
	bufferevent_enable(c->cli, EV_READ | EV_WRITE);
	bufferevent_enable(c->app, EV_READ | EV_WRITE);
}

/* Waiting for the ClientHello: route as soon as it names a server. */
static void hello_read(struct bufferevent *bev, void *arg)
{
	struct rconn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t n = evbuffer_get_length(in);
	char name[CK_SNI_NAME_MAX + 1];
	int r = ck_sni_parse(evbuffer_pullup(in, (ev_ssize_t)n), n, name, NULL);
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
	if (c->r->cfg.route(c->r->cfg.route_arg, name, &to, &tl) < 0) {
		refuse(c, true);
		return;
	}
	bufferevent_disable(bev, EV_READ); /* until the runtime is connected */
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
	if (!c) {
		evutil_closesocket(fd);
		return;
	}
	c->r = r;
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
	bufferevent_setcb(c->cli, hello_read, relay_write, relay_event, c);
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
	free(r);
}
