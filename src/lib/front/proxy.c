/* SPDX-License-Identifier: Apache-2.0 */
/* proxy.c - the libevent reverse proxy; its contract is in include/cloak/proxy.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/listener.h>
#include <openssl/crypto.h>
#include <openssl/err.h>

#include "cloak/http.h"
#include "cloak/net.h"
#include "cloak/proxy.h"

struct conn;

struct ck_proxy {
	struct event_base *base;
	struct evconnlistener *listener;
	struct ck_proxy_cfg cfg;
	struct conn *conns; /* doubly linked, for free */
	size_t n_conns;
	struct conn *idle_head, *idle_tail; /* head-less connections, oldest first */
};

#define COPY_MAX       4096 /* bodies up to this are copied rather than moved between buffers */
#define APP_READ       (32 * 1024) /* the most one read of the app takes */
#define TLS_RECORD_MAX 16384	   /* plaintext of one TLS record */

enum req_state { REQ_HEAD, REQ_BODY, REQ_DONE };
enum resp_state { RESP_NONE, RESP_HEAD, RESP_BODY, RESP_DONE };

/* A body being moved from one side to the other. */
struct body {
	enum ck_http_body kind;
	uint64_t left;		   /* CK_HTTP_BODY_LENGTH */
	struct ck_http_chunked ch; /* CK_HTTP_BODY_CHUNKED (decoding) */
	bool rechunk;		   /* encode what is forwarded as chunks */
	bool wipe;		   /* the runtime's own (a provisioning): wiped where it was read */
};

struct conn {
	struct ck_proxy *px;
	struct conn *prev, *next;
	struct conn *idle_prev, *idle_next; /* in px's idle list: no head yet */
	bool idle;
	struct sockaddr_storage peer; /* the client's address (peer_len 0: unknown) */
	socklen_t peer_len;
	struct bufferevent *cli, *app;
	struct event *app_rd; /* reads the app's socket (app_readable), not the bufferevent */
	bool app_timed;	      /* a response head is awaited: app_timeout_ms applies to reading */
	struct event *head_timer;
	struct event *sniff; /* plain or TLS? waiting for the first byte (cfg.plain) */
	struct event *flush; /* deferred optimistic write of the client's output */
	struct evbuffer_cb_entry *out_cb;
	evutil_socket_t fd;
	enum req_state req;
	enum resp_state resp;
	bool local; /* the request is the runtime's own */
	struct ck_route route;
	struct evbuffer *local_body;
	bool head_request, keep_alive, http10, closing, app_keep_alive;
	bool linger;	/* after an error answer: close lingering, so the client reads it */
	bool lingering; /* written, write side shut: reading and discarding until EOF */
	struct body req_body, resp_body;
	struct ck_proxy_later *later; /* a local answer deferred (ck_proxy_defer) */
};

struct ck_proxy_later {
	struct conn *conn; /* NULL once the connection has gone */
};

/* ---- helpers -------------------------------------------------------------------------------- */

static void timeval_ms(struct timeval *tv, unsigned ms)
{
	tv->tv_sec = ms / 1000;
	tv->tv_usec = (long)(ms % 1000) * 1000;
}

static const char *reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 409:
		return "Conflict";
	case 411:
		return "Length Required";
	case 413:
		return "Content Too Large";
	case 417:
		return "Expectation Failed";
	case 422:
		return "Unprocessable Content";
	case 429:
		return "Too Many Requests";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 500:
		return "Internal Server Error";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return status < 300 ? "OK" : status < 500 ? "Bad Request" : "Error";
	}
}

/* The idle list: connections that have not sent a whole head (new ones, TLS handshakes, idle
 * keep-alive ones, slow heads), oldest first; the first to go when connections run short. */
static void idle_leave(struct conn *c)
{
	struct ck_proxy *px = c->px;
	if (!c->idle)
		return;
	if (c->idle_prev)
		c->idle_prev->idle_next = c->idle_next;
	else
		px->idle_head = c->idle_next;
	if (c->idle_next)
		c->idle_next->idle_prev = c->idle_prev;
	else
		px->idle_tail = c->idle_prev;
	c->idle_prev = c->idle_next = NULL;
	c->idle = false;
}

static void idle_enter(struct conn *c)
{
	struct ck_proxy *px = c->px;
	idle_leave(c);
	c->idle = true;
	c->idle_prev = px->idle_tail;
	if (px->idle_tail)
		px->idle_tail->idle_next = c;
	else
		px->idle_head = c;
	px->idle_tail = c;
}

static void conn_free(struct conn *c)
{
	struct ck_proxy *px = c->px;
	idle_leave(c);
	if (c->later)
		c->later->conn = NULL; /* the handler still holds it: ck_proxy_finish frees it */
	if (c->prev)
		c->prev->next = c->next;
	else
		px->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	px->n_conns--;
	if (c->out_cb)
		evbuffer_remove_cb_entry(bufferevent_get_output(c->cli), c->out_cb);
	if (c->flush)
		event_free(c->flush);
	if (c->cli)
		bufferevent_free(c->cli);
	else
		evutil_closesocket(c->fd);
	if (c->sniff)
		event_free(c->sniff);
	if (c->app_rd)
		event_free(c->app_rd);
	if (c->app)
		bufferevent_free(c->app);
	if (c->head_timer)
		event_free(c->head_timer);
	if (c->local_body)
		evbuffer_free(c->local_body);
	free(c);
}

static void drop_app(struct conn *c)
{
	if (c->app_rd) {
		event_free(c->app_rd);
		c->app_rd = NULL;
	}
	if (c->app) {
		bufferevent_free(c->app);
		c->app = NULL;
	}
}

/* Reading from the app on or off (backpressure); on re-arms the response-head timeout. */
static void app_reading(struct conn *c, bool on)
{
	if (!c->app_rd)
		return;
	if (!on) {
		event_del(c->app_rd);
		return;
	}
	struct timeval tv;
	timeval_ms(&tv, c->px->cfg.app_timeout_ms);
	event_add(c->app_rd, c->app_timed ? &tv : NULL);
}

/*
 * Everything written has left: close. After an error answer the client may still be sending
 * (a body, the rest of a huge head); closing with its bytes unread would make the kernel send
 * a reset that can destroy the answer before the client reads it. So, as nginx's lingering
 * close: shut the write side (TLS: close_notify first), read and discard until the client
 * closes or CK_PROXY_LINGER_MS pass.
 */
static void closed_written(struct conn *c)
{
	if (!c->linger || c->lingering || !c->cli) {
		conn_free(c);
		return;
	}
	SSL *ssl = bufferevent_openssl_get_ssl(c->cli);
	struct timeval tv;
	c->lingering = true;
	if (ssl) {
		(void)SSL_shutdown(ssl); /* one close_notify, written to the socket at once */
		ERR_clear_error();
	}
	(void)shutdown(c->fd, SHUT_WR);
	evbuffer_drain(bufferevent_get_input(c->cli), (size_t)-1);
	bufferevent_set_timeouts(c->cli, NULL, NULL);
	timeval_ms(&tv, CK_PROXY_LINGER_MS);
	evtimer_add(c->head_timer, &tv);
	bufferevent_enable(c->cli, EV_READ);
}

/* Closes once everything written has left (or at once when nothing is pending). */
static void close_after_write(struct conn *c)
{
	c->closing = true;
	drop_app(c);
	bufferevent_disable(c->cli, EV_READ);
	if (evbuffer_get_length(bufferevent_get_output(c->cli)) == 0)
		closed_written(c);
}

/* A short error answer from the proxy itself; the connection closes after it. */
static void answer_error(struct conn *c, int status)
{
	const char *r = reason(status);
	evbuffer_add_printf(bufferevent_get_output(c->cli),
			    "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			    "Connection: close\r\n\r\n%s\n",
			    status, r, strlen(r) + 1, r);
	c->linger = true;
	close_after_write(c);
}

static bool name_is(const struct ck_http_header *h, const char *n)
{
	return h->name_len == strlen(n) && strncasecmp(h->name, n, h->name_len) == 0;
}

/* true when `h` is listed in a Connection header of `head`. */
static bool named_by_connection(const struct ck_http_head *head, const struct ck_http_header *h)
{
	for (size_t i = 0; i < head->n_headers; i++) {
		const struct ck_http_header *ch = &head->headers[i];
		if (!name_is(ch, "connection"))
			continue;
		const char *p = ch->value, *end = ch->value + ch->value_len;
		while (p < end) {
			while (p < end && (*p == ',' || *p == ' ' || *p == '\t'))
				p++;
			const char *s = p;
			while (p < end && *p != ',' && *p != ' ' && *p != '\t')
				p++;
			if ((size_t)(p - s) == h->name_len &&
			    strncasecmp(s, h->name, h->name_len) == 0)
				return true;
		}
	}
	return false;
}

/* Headers that frame or route a message: never dropped because a Connection header names them
 * (the framing ones are written by the proxy itself, Host is the app's to see). */
static bool frames_or_routes(const struct ck_http_header *h)
{
	return name_is(h, "host") || name_is(h, "content-length") ||
	       name_is(h, "transfer-encoding");
}

static bool hop_by_hop(const struct ck_http_header *h)
{
	static const char *const hop[] = {
	    "connection", "keep-alive",	       "proxy-connection", "te",    "trailer",
	    "upgrade",	  "transfer-encoding", "content-length",   "expect"};
	for (size_t i = 0; i < sizeof(hop) / sizeof(hop[0]); i++)
		if (name_is(h, hop[i]))
			return true;
	return false;
}

/* The end-to-end headers of `h`; `keep_length` keeps a Content-Length (bodiless responses). */
static void add_headers(struct evbuffer *out, const struct ck_http_head *h, bool keep_length)
{
	/* the token lists are consulted only when there is one: most heads have none */
	bool listed = ck_http_find(h, "connection") != NULL;
	for (size_t i = 0; i < h->n_headers; i++) {
		const struct ck_http_header *x = &h->headers[i];
		if (hop_by_hop(x) && !(keep_length && name_is(x, "content-length")))
			continue;
		if (listed && !frames_or_routes(x) && named_by_connection(h, x))
			continue;
		evbuffer_add(out, x->name, x->name_len);
		evbuffer_add(out, ": ", 2);
		evbuffer_add(out, x->value, x->value_len);
		evbuffer_add(out, "\r\n", 2);
	}
}

/*
 * Moves body bytes from `in` to `out` as `b` frames them. Returns 1 when the body is complete,
 * 0 when more is needed, -1 on malformed chunked framing.
 */
static int move_body(struct body *b, struct evbuffer *in, struct evbuffer *out)
{
	if (b->kind == CK_HTTP_BODY_NONE)
		return 1;
	if (b->kind == CK_HTTP_BODY_LENGTH) {
		size_t have = evbuffer_get_length(in);
		size_t n = have < b->left ? have : (size_t)b->left;
		if (n && b->wipe) {
			/* copied out, then the client's buffer wiped before libevent frees it */
			struct evbuffer_iovec v[8];
			size_t left = n;
			while (left) {
				int k = evbuffer_peek(in, (ev_ssize_t)left, NULL, v, 8);
				size_t done = 0;
				for (int i = 0; i < k && i < 8 && done < left; i++) {
					size_t l =
					    v[i].iov_len < left - done ? v[i].iov_len : left - done;
					evbuffer_add(out, v[i].iov_base, l);
					OPENSSL_cleanse(v[i].iov_base, l);
					done += l;
				}
				if (done == 0)
					return -1;
				evbuffer_drain(in, done);
				left -= done;
			}
		} else if (n && n <= COPY_MAX) {
			/* copied, so a small body shares the head's chain: one TLS record, one
			 * write */
			uint8_t tmp[COPY_MAX];
			evbuffer_remove(in, tmp, n);
			evbuffer_add(out, tmp, n);
		} else if (n && evbuffer_remove_buffer(in, out, n) != (int)n) {
			return -1;
		}
		b->left -= n;
		return b->left == 0;
	}
	if (b->kind == CK_HTTP_BODY_UNTIL_CLOSE) {
		size_t n = evbuffer_get_length(in);
		if (n && b->rechunk) {
			evbuffer_add_printf(out, "%zx\r\n", n);
			evbuffer_remove_buffer(in, out, n);
			evbuffer_add(out, "\r\n", 2);
		} else if (n) {
			evbuffer_remove_buffer(in, out, n);
		}
		return 0; /* ends with the connection */
	}
	/* chunked: decode, and re-encode what was decoded */
	while (!b->ch.done && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v;
		if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
			return -1;
		size_t used = 0, dl = 0;
		const uint8_t *d = NULL;
		if (ck_http_chunked_feed(&b->ch, v.iov_base, v.iov_len, &used, &d, &dl, NULL) < 0)
			return -1;
		if (dl) {
			evbuffer_add_printf(out, "%zx\r\n", dl);
			evbuffer_add(out, d, dl);
			evbuffer_add(out, "\r\n", 2);
		}
		evbuffer_drain(in, used);
	}
	if (b->ch.done) {
		evbuffer_add(out, "0\r\n\r\n", 5);
		return 1;
	}
	return 0;
}

/* Pauses reading from `src` while `dst` holds too much (resumed by the write callback). */
static void backpressure(struct bufferevent *src, struct bufferevent *dst)
{
	if (src && dst && evbuffer_get_length(bufferevent_get_output(dst)) > CK_PROXY_BUF_HIGH)
		bufferevent_disable(src, EV_READ);
}

/* Small writes go out at once: a response head must not wait for a delayed ACK. */
static void no_delay(evutil_socket_t fd)
{
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)); /* ENOTSUP: UNIX */
}

static void start_head(struct conn *c);
static int start_flushing(struct conn *c);
static void cli_read(struct bufferevent *bev, void *arg);
static size_t cli_pull_pending(struct conn *c);
static void app_read(struct bufferevent *bev, void *arg);

/* Both halves done: next request, or close. */
static void exchange_done(struct conn *c)
{
	if (!c->app_keep_alive)
		drop_app(c);
	if (!c->keep_alive) {
		close_after_write(c);
		return;
	}
	start_head(c);
	if (evbuffer_get_length(bufferevent_get_input(c->cli)) > 0 || cli_pull_pending(c) > 0)
		cli_read(c->cli, c); /* a pipelined request already here */
}

/* ---- the app side --------------------------------------------------------------------------- */

static void app_fail(struct conn *c, int status)
{
	if (c->resp == RESP_NONE || c->resp == RESP_HEAD) {
		answer_error(c, status);
		return;
	}
	conn_free(c); /* the response had begun: only a cut connection can tell the client */
}

static void app_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev), *out = bufferevent_get_output(c->cli);
	while (c->resp == RESP_HEAD) {
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t look = len < CK_HTTP_MAX_HEAD ? len : CK_HTTP_MAX_HEAD;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)look);
		struct ck_http_head h;
		long n = ck_http_parse_response(buf, look, c->head_request, &h, NULL);
		if (n < 0 || (n == 0 && look == CK_HTTP_MAX_HEAD)) {
			app_fail(c, 502);
			return;
		}
		if (n == 0)
			return;
		if (h.status == 101) { /* we never forward Upgrade: a switch is not ours to relay */
			app_fail(c, 502);
			return;
		}
		if (h.status >= 100 && h.status < 200) { /* interim: relay, then the real one */
			if (!c->http10) {
				evbuffer_add_printf(out, "HTTP/1.1 %d %.*s\r\n", h.status,
						    (int)h.reason_len, h.reason);
				add_headers(out, &h, false);
				evbuffer_add(out, "\r\n", 2);
			}
			evbuffer_drain(in, (size_t)n);
			continue;
		}
		c->app_timed = false; /* the head came: a body may take its time */
		app_reading(c, true);
		c->resp_body = (struct body){.kind = h.body, .left = h.content_length};
		c->app_keep_alive = h.keep_alive && h.body != CK_HTTP_BODY_UNTIL_CLOSE;
		bool framed = h.body == CK_HTTP_BODY_LENGTH || h.body == CK_HTTP_BODY_NONE;
		if (!framed && c->http10)
			c->keep_alive = false; /* raw bytes until close */
		else if (!framed)
			c->resp_body.rechunk = true;
		evbuffer_add_printf(out, "HTTP/1.1 %d %.*s\r\n", h.status, (int)h.reason_len,
				    h.reason);
		add_headers(out, &h, h.body == CK_HTTP_BODY_NONE);
		if (h.body == CK_HTTP_BODY_LENGTH)
			evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n",
					    h.content_length);
		else if (!framed && !c->http10)
			evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
		if (!c->keep_alive)
			evbuffer_add(out, "Connection: close\r\n", 19);
		else if (c->http10)
			evbuffer_add(out, "Connection: keep-alive\r\n", 24);
		evbuffer_add(out, "\r\n", 2);
		evbuffer_drain(in, (size_t)n);
		c->resp = RESP_BODY;
	}
	if (c->resp != RESP_BODY)
		return;
	int r = move_body(&c->resp_body, in, bufferevent_get_output(c->cli));
	if (r < 0) {
		app_fail(c, 502);
		return;
	}
	if (evbuffer_get_length(bufferevent_get_output(c->cli)) > CK_PROXY_BUF_HIGH)
		app_reading(c, false); /* backpressure: until the client has taken some */
	if (r == 1) {
		c->resp = RESP_DONE;
		if (evbuffer_get_length(in) > 0) /* bytes after the response: not a clean app */
			c->app_keep_alive = false;
		if (c->req == REQ_DONE)
			exchange_done(c);
	}
}

static void app_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if ((what & BEV_EVENT_EOF) && c->resp == RESP_BODY &&
	    c->resp_body.kind == CK_HTTP_BODY_UNTIL_CLOSE) {
		app_read(c->app, c);
		if (c->resp_body.rechunk)
			evbuffer_add(bufferevent_get_output(c->cli), "0\r\n\r\n", 5);
		c->resp = RESP_DONE;
		c->app_keep_alive = false;
		if (c->req == REQ_DONE) {
			exchange_done(c);
		} else {
			c->keep_alive = false;
			close_after_write(c);
		}
		return;
	}
	if (c->resp == RESP_NONE || c->resp == RESP_DONE) {
		drop_app(c); /* an idle kept-alive app connection went away */
		return;
	}
	app_fail(c, (what & BEV_EVENT_TIMEOUT) ? 504 : 502);
}

static void app_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		bufferevent_disable(bev, EV_WRITE); /* see app_flush */
	if (c->req == REQ_BODY && !c->closing) {
		bufferevent_enable(c->cli, EV_READ);
		if (cli_pull_pending(c) > 0) /* held by OpenSSL while reading was paused */
			cli_read(c->cli, c);
	}
}

/*
 * The app socket is plain TCP or UNIX: what is queued for it is written at once, and its write
 * event is armed only when the kernel would block. (Left enabled, a bufferevent arms its write
 * event whenever data is queued and disarms it once written: two epoll_ctl per request.)
 */
static void app_flush(struct conn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->app);
	evutil_socket_t fd = bufferevent_getfd(c->app);
	while (evbuffer_get_length(out) > 0 && evbuffer_write(out, fd) > 0)
		;
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->app,
				   EV_WRITE); /* would block, still connecting, or an error */
}

/* One read of the app's socket straight into the bufferevent's input (libevent's own read asks
 * the kernel how much is there first, an ioctl per read), then the same callbacks. */
static void app_readable(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		app_event(c->app, BEV_EVENT_READING | BEV_EVENT_TIMEOUT, c);
		return;
	}
	struct evbuffer *in = bufferevent_get_input(c->app);
	struct evbuffer_iovec v;
	if (evbuffer_reserve_space(in, APP_READ, &v, 1) < 1) {
		app_event(c->app, BEV_EVENT_READING | BEV_EVENT_ERROR, c);
		return;
	}
	ssize_t n = recv(fd, v.iov_base, v.iov_len < APP_READ ? v.iov_len : APP_READ, 0);
	if (n > 0) {
		v.iov_len = (size_t)n;
		evbuffer_commit_space(in, &v, 1);
		app_read(c->app, c);
		return;
	}
	evbuffer_commit_space(in, NULL, 0);
	if (n < 0 &&
	    (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || errno == ENOTCONN))
		return; /* spurious, or still connecting */
	app_event(c->app, BEV_EVENT_READING | (n == 0 ? BEV_EVENT_EOF : BEV_EVENT_ERROR), c);
}

static int app_connect(struct conn *c)
{
	struct ck_proxy *px = c->px;
	if (c->app && evbuffer_get_length(bufferevent_get_input(c->app)) == 0)
		return 0; /* a kept-alive connection, clean */
	drop_app(c);
	if (px->cfg.app_len == 0)
		return -1;
	c->app = bufferevent_socket_new(px->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (!c->app)
		return -1;
	bufferevent_setcb(c->app, app_read, app_write, app_event, c);
	bufferevent_disable(c->app, EV_WRITE); /* armed by app_flush when needed */
	bufferevent_setwatermark(c->app, EV_WRITE, CK_PROXY_BUF_HIGH / 2, 0);
	if (bufferevent_socket_connect(c->app, (struct sockaddr *)&px->cfg.app,
				       (int)px->cfg.app_len) < 0) {
		drop_app(c);
		return -1;
	}
	evutil_socket_t fd = bufferevent_getfd(c->app);
	no_delay(fd);
	c->app_timed = false;
	if (!(c->app_rd = event_new(px->base, fd, EV_READ | EV_PERSIST, app_readable, c))) {
		drop_app(c);
		return -1;
	}
	app_reading(c, true); /* also while idle: an app closing a kept-alive connection */
	return 0;
}

/* ---- the client side ------------------------------------------------------------------------ */

/* A local answer: head and body, then the next request (or the close). */
static void send_local(struct conn *c, int status, const char *ctype, unsigned retry_after,
		       struct evbuffer *body)
{
	struct evbuffer *out = bufferevent_get_output(c->cli);
	char ra[40] = "";
	if (retry_after)
		snprintf(ra, sizeof(ra), "Retry-After: %u\r\n", retry_after);
	if (evbuffer_get_length(body) == 0)
		evbuffer_add_printf(body, "%s\n", reason(status));
	evbuffer_add_printf(
	    out, "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%s%s\r\n", status,
	    reason(status), ctype ? ctype : "application/json", evbuffer_get_length(body), ra,
	    c->keep_alive ? (c->http10 ? "Connection: keep-alive\r\n" : "")
			  : "Connection: close\r\n");
	evbuffer_add_buffer(out, body);
	c->resp = RESP_DONE;
	exchange_done(c);
}

static void answer_local(struct conn *c)
{
	struct ck_proxy *px = c->px;
	struct ck_proxy_reply reply = {.body = evbuffer_new(), .ctype = "application/json"};
	int status = 404;
	if (!reply.body) {
		answer_error(c, 503);
		return;
	}
	size_t bl = c->local_body ? evbuffer_get_length(c->local_body) : 0;
	const uint8_t *b = bl ? evbuffer_pullup(c->local_body, -1) : NULL;
	if (px->cfg.local) {
		struct ck_proxy_req rq = {.route = &c->route,
					  .body = b,
					  .body_len = bl,
					  .ssl = bufferevent_openssl_get_ssl(c->cli),
					  .peer = (const struct sockaddr *)&c->peer,
					  .peer_len = c->peer_len,
					  .priv = c};
		status = px->cfg.local(px->cfg.local_arg, &rq, &reply);
	}
	if (c->local_body) {
		/* it may have held secrets: wipe before libevent frees it */
		if (bl)
			memset((void *)b, 0, bl);
		evbuffer_free(c->local_body);
		c->local_body = NULL;
	}
	if (status == CK_PROXY_LATER && c->later) {
		evbuffer_free(reply.body); /* ck_proxy_finish answers */
		c->resp = RESP_HEAD;
		return;
	}
	if (status == CK_PROXY_LATER)
		status = 500; /* a handler that said later without ck_proxy_defer */
	send_local(c, status, reply.ctype, reply.retry_after, reply.body);
	evbuffer_free(reply.body);
}

struct ck_proxy_later *ck_proxy_defer(const struct ck_proxy_req *rq)
{
	struct conn *c = rq->priv;
	if (!c || c->later || !(c->later = calloc(1, sizeof(*c->later))))
		return NULL;
	c->later->conn = c;
	return c->later;
}

bool ck_proxy_later_open(const struct ck_proxy_later *l)
{
	return l && l->conn;
}

void ck_proxy_finish(struct ck_proxy_later *l, int status, const char *ctype, unsigned retry_after,
		     const char *body, size_t len)
{
	struct conn *c = l ? l->conn : NULL;
	free(l);
	if (!c)
		return;
	c->later = NULL;
	struct evbuffer *b = evbuffer_new();
	if (!b || (len && evbuffer_add(b, body, len) < 0)) {
		if (b)
			evbuffer_free(b);
		answer_error(c, 503);
		return;
	}
	send_local(c, status, ctype, retry_after, b);
	evbuffer_free(b);
}

static void head_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	(void)fd;
	(void)what;
	if (c->lingering || evbuffer_get_length(bufferevent_get_input(c->cli)) == 0)
		conn_free(c); /* lingered long enough, or an idle keep-alive connection */
	else
		answer_error(c, 408);
}

/* A write may always stall for at most io_timeout_ms (a client that stopped reading); a read
 * only while a body is coming (the head has its own timer). */
static void io_timeouts(struct conn *c, bool reading)
{
	struct timeval io;
	timeval_ms(&io, c->px->cfg.io_timeout_ms);
	bufferevent_set_timeouts(c->cli, reading ? &io : NULL, &io);
}

static void start_head(struct conn *c)
{
	struct timeval tv;
	c->req = REQ_HEAD;
	c->resp = RESP_NONE;
	c->local = false;
	idle_enter(c);
	io_timeouts(c, false);
	timeval_ms(&tv, c->px->cfg.head_timeout_ms);
	evtimer_add(c->head_timer, &tv);
	bufferevent_enable(c->cli, EV_READ);
}

/* The request head as the app gets it: re-framed (see proxy.h), and its response awaited. */
static void forward_head(struct conn *c, const struct ck_http_head *h)
{
	struct evbuffer *out = bufferevent_get_output(c->app);
	evbuffer_add_printf(out, "%.*s %.*s HTTP/1.1\r\n", (int)h->method_len, h->method,
			    (int)h->target_len, h->target);
	add_headers(out, h, false);
	if (!h->host) /* HTTP/1.0 may omit it; what the app gets is 1.1, which needs one */
		evbuffer_add(out, "Host: localhost\r\n", 17);
	if (h->body == CK_HTTP_BODY_LENGTH)
		evbuffer_add_printf(out, "Content-Length: %" PRIu64 "\r\n", h->content_length);
	else if (h->body == CK_HTTP_BODY_CHUNKED)
		evbuffer_add(out, "Transfer-Encoding: chunked\r\n", 28);
	evbuffer_add(out, "\r\n", 2);
	c->app_timed = true;
	app_reading(c, true);
	c->resp = RESP_HEAD;
}

/* A parsed head: route it, and start the request on its way. */
static void on_head(struct conn *c, const struct ck_http_head *h, size_t head_len)
{
	struct evbuffer *in = bufferevent_get_input(c->cli);
	int status;
	evtimer_del(c->head_timer);
	idle_leave(c);
	io_timeouts(c, true);
	c->head_request = h->method_len == 4 && memcmp(h->method, "HEAD", 4) == 0;
	c->keep_alive = h->keep_alive;
	c->http10 = h->minor == 0;
	c->req_body = (struct body){.kind = h->body, .left = h->content_length};
	if (ck_route_classify(h->method, h->method_len, h->target, h->target_len, &c->route,
			      &status, NULL) < 0) {
		answer_error(c, status);
		return;
	}
	if (c->route.kind != CK_ROUTE_APP) {
		c->local = true;
		c->req_body.wipe = true;
		if (h->body == CK_HTTP_BODY_CHUNKED) {
			answer_error(c, 411);
			return;
		}
		if (h->body == CK_HTTP_BODY_LENGTH && h->content_length > CK_GATE_MAX_BODY) {
			answer_error(c, 413);
			return;
		}
		if (!(c->local_body = evbuffer_new())) {
			answer_error(c, 503);
			return;
		}
	} else if (app_connect(c) < 0) {
		answer_error(c, c->px->cfg.app_len ? 502 : 503);
		return;
	} else {
		forward_head(c, h);
	}
	if (h->expect_continue && h->body != CK_HTTP_BODY_NONE)
		evbuffer_add(bufferevent_get_output(c->cli), "HTTP/1.1 100 Continue\r\n\r\n", 25);
	evbuffer_drain(in, head_len);
	c->req = REQ_BODY;
}

static void cli_consume(struct bufferevent *bev, struct conn *c)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	if (c->lingering)
		evbuffer_drain(in, evbuffer_get_length(in)); /* read, never answered */
	if (c->closing)
		return;
	if (c->req == REQ_HEAD) {
		size_t len = evbuffer_get_length(in);
		size_t look = len < CK_HTTP_MAX_HEAD ? len : CK_HTTP_MAX_HEAD;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)look);
		struct ck_http_head h;
		int status = 400;
		long n = ck_http_parse_request(buf, look, &h, &status, NULL);
		if (n < 0) {
			answer_error(c, status);
			return;
		}
		if (n == 0) {
			if (look == CK_HTTP_MAX_HEAD)
				answer_error(c, 431);
			return;
		}
		on_head(c, &h, (size_t)n);
		if (c->closing || c->req != REQ_BODY)
			return;
	}
	if (c->req != REQ_BODY)
		return;
	struct evbuffer *dst = c->local ? c->local_body : bufferevent_get_output(c->app);
	int r = move_body(&c->req_body, in, dst);
	if (r < 0) {
		answer_error(c, 400);
		return;
	}
	if (!c->local) {
		app_flush(c);
		backpressure(c->cli, c->app);
	}
	if (r == 0)
		return;
	c->req = REQ_DONE;
	io_timeouts(c, false); /* pipelined bytes wait in the input, bounded by its watermark */
	if (c->local)
		answer_local(c);
	else if (c->resp == RESP_DONE)
		exchange_done(c);
}

/*
 * With read-ahead, OpenSSL may hold whole records it has read from the socket and not yet
 * decrypted. libevent asks SSL_pending, which counts only the record being read, so it leaves
 * them there until the socket is readable again: a request whose head and body came in one
 * segment would stall until the client sent something more. They are moved into the input
 * here (up to the input's limit). Returns the bytes moved.
 */
static size_t cli_pull_pending(struct conn *c)
{
	SSL *ssl = bufferevent_openssl_get_ssl(c->cli);
	struct evbuffer *in = bufferevent_get_input(c->cli);
	size_t moved = 0;
	while (ssl && SSL_has_pending(ssl) && evbuffer_get_length(in) < 2 * CK_HTTP_MAX_HEAD) {
		struct evbuffer_iovec v;
		if (evbuffer_reserve_space(in, TLS_RECORD_MAX, &v, 1) < 1)
			break;
		int r = SSL_read(ssl, v.iov_base,
				 (int)(v.iov_len < TLS_RECORD_MAX ? v.iov_len : TLS_RECORD_MAX));
		if (r <= 0) {
			evbuffer_commit_space(in, NULL, 0);
			ERR_clear_error();
			break;
		}
		v.iov_len = (size_t)r;
		evbuffer_commit_space(in, &v, 1);
		moved += (size_t)r;
	}
	return moved;
}

/* The client's bytes: consumed as the state machine allows, with what OpenSSL still holds. */
static void cli_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	do
		cli_consume(bev, c);
	while (!c->closing && c->req != REQ_DONE && cli_pull_pending(c) > 0);
}

/* The client's output went out (by libevent or by cli_flush): close if closing, stop the write
 * event once empty (the next output is written optimistically again), resume the app. */
static void cli_drained(struct conn *c)
{
	size_t left = evbuffer_get_length(bufferevent_get_output(c->cli));
	if (c->closing) {
		if (left == 0 && !c->lingering)
			closed_written(c);
		return;
	}
	if (left == 0 && c->flush)
		bufferevent_disable(c->cli, EV_WRITE);
	if (c->app && c->resp == RESP_BODY && left <= CK_PROXY_BUF_HIGH / 2)
		app_reading(c, true);
}

static void cli_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	cli_drained(arg);
}

/*
 * Optimistic writes to the client, once per loop turn in which output was added: straight to
 * the socket (or SSL_write) while the kernel takes it; only what would block is left to the
 * bufferevent, whose write event is armed just then. A bufferevent arms and disarms its write
 * event around every response otherwise: two epoll_ctl per request.
 */
static void cli_flush(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *out = bufferevent_get_output(c->cli);
	SSL *ssl = bufferevent_openssl_get_ssl(c->cli);
	(void)fd;
	(void)what;
	while (evbuffer_get_length(out) > 0) {
		size_t n = evbuffer_get_length(out);
		if (ssl) {
			/* one TLS record (up to 16 KiB) per write; on WANT_WRITE the bufferevent
			 * retries with the same bytes at the front (moving-buffer mode) */
			n = n < 16384 ? n : 16384;
			int r = SSL_write(ssl, evbuffer_pullup(out, (ssize_t)n), (int)n);
			if (r <= 0) {
				ERR_clear_error();
				break;
			}
			evbuffer_drain(out, (size_t)r);
		} else if (evbuffer_write(out, bufferevent_getfd(c->cli)) <= 0) {
			break;
		}
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(c->cli, EV_WRITE); /* would block (or failed: let it report) */
	cli_drained(c);
}

static void out_added(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct conn *c = arg;
	(void)buf;
	if (info->n_added && !(bufferevent_get_enabled(c->cli) & EV_WRITE))
		event_active(c->flush, EV_WRITE, 0);
}

static void cli_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		/* The handshake is done. From now on read records whole in one read, not header
		 * then body. Not before: during the handshake OpenSSL would read the client's
		 * first request along with its Finished message, and that request would sit in
		 * OpenSSL's buffer while libevent waits for the socket (a stalled connection). */
		SSL_set_read_ahead(bufferevent_openssl_get_ssl(bev), 1);
		if (start_flushing(c) < 0)
			conn_free(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->req == REQ_DONE &&
	    !c->closing) {
		c->keep_alive = false; /* a half-close after the request: still answer it */
		return;
	}
	if ((what & BEV_EVENT_TIMEOUT) && c->req == REQ_BODY && c->resp != RESP_BODY &&
	    !c->closing) {
		answer_error(c, 408); /* a body that stopped coming */
		return;
	}
	conn_free(c); /* EOF, error, or a client that stopped reading */
}

/* From now on the client's output is written by cli_flush (TLS: once the handshake is done;
 * it needs the write event until then). */
static int start_flushing(struct conn *c)
{
	if (!(c->flush = event_new(c->px->base, -1, 0, cli_flush, c)) ||
	    !(c->out_cb = evbuffer_add_cb(bufferevent_get_output(c->cli), out_added, c)))
		return -1;
	bufferevent_disable(c->cli, EV_WRITE);
	if (evbuffer_get_length(bufferevent_get_output(c->cli)) > 0)
		event_active(c->flush, EV_WRITE, 0);
	return 0;
}

/* The client's bufferevent, TLS or plain, and the first wait for a head. */
static int conn_attach(struct conn *c, bool tls)
{
	struct ck_proxy *px = c->px;
	if (tls) {
		SSL *ssl = SSL_new(px->cfg.tls);
		if (!ssl)
			return -1;
		SSL_set_mode(ssl,
			     SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_ENABLE_PARTIAL_WRITE);
		c->cli = bufferevent_openssl_socket_new(
		    px->base, c->fd, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (!c->cli) {
			SSL_free(ssl);
			return -1;
		}
	} else if (!(c->cli = bufferevent_socket_new(px->base, c->fd, BEV_OPT_CLOSE_ON_FREE))) {
		return -1;
	}
	bufferevent_setcb(c->cli, cli_read, cli_write, cli_event, c);
	bufferevent_setwatermark(c->cli, EV_WRITE, CK_PROXY_BUF_HIGH / 2, 0);
	bufferevent_setwatermark(c->cli, EV_READ, 0, 2 * CK_HTTP_MAX_HEAD);
	if (!tls && start_flushing(c) < 0)
		return -1;
	start_head(c);
	return 0;
}

/* cfg.plain: the first byte tells a TLS handshake record (0x16) from anything else. */
static void sniff_first(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	uint8_t b;
	if (what & EV_TIMEOUT) {
		conn_free(c); /* not a byte within the head timeout */
		return;
	}
	ssize_t r = recv(fd, &b, 1, MSG_PEEK);
	if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return; /* spurious: still waiting (the event persists) */
	event_free(c->sniff);
	c->sniff = NULL;
	if (r != 1 || conn_attach(c, b == 0x16) < 0)
		conn_free(c);
}

/*
 * Room for a connection from `peer`, made by closing idle ones (oldest first) rather than by
 * refusing or pausing the listener: at most cfg.max_per_source from one address (beyond, that
 * address's oldest idle connection goes), at most CK_PROXY_MAX_CONNS in all (beyond, the
 * oldest idle one goes). false when every connection that stands in the way is busy.
 */
static bool make_room(struct ck_proxy *px, const struct sockaddr_storage *peer, socklen_t len)
{
	if (len && (peer->ss_family == AF_INET || peer->ss_family == AF_INET6)) {
		size_t from = 0;
		for (struct conn *c = px->conns; c; c = c->next)
			from += ck_same_host(&c->peer, c->peer_len, peer, len);
		if (from >= px->cfg.max_per_source) {
			struct conn *old = px->idle_head;
			while (old && !ck_same_host(&old->peer, old->peer_len, peer, len))
				old = old->idle_next;
			if (!old)
				return false;
			conn_free(old);
		}
	}
	if (px->n_conns >= CK_PROXY_MAX_CONNS) {
		if (!px->idle_head)
			return false;
		conn_free(px->idle_head);
	}
	return true;
}

/* A new client connection on `fd` (the proxy owns it from here, even on failure). */
static int conn_open(struct ck_proxy *px, evutil_socket_t fd)
{
	struct sockaddr_storage peer = {0};
	socklen_t plen = sizeof(peer);
	if (getpeername(fd, (struct sockaddr *)&peer, &plen) < 0)
		plen = 0;
	if (!make_room(px, &peer, plen)) {
		evutil_closesocket(fd);
		return -1;
	}
	struct conn *c = calloc(1, sizeof(*c));
	if (!c) {
		evutil_closesocket(fd);
		return -1;
	}
	c->px = px;
	c->fd = fd;
	c->peer = peer;
	c->peer_len = plen;
	no_delay(fd);
	c->next = px->conns;
	if (px->conns)
		px->conns->prev = c;
	px->conns = c;
	px->n_conns++;
	idle_enter(c);
	if (!(c->head_timer = evtimer_new(px->base, head_timeout, c)))
		goto fail;
	if (px->cfg.tls && px->cfg.plain) {
		struct timeval tv;
		timeval_ms(&tv, px->cfg.head_timeout_ms);
		if (!(c->sniff = event_new(px->base, fd, EV_READ | EV_PERSIST, sniff_first, c)) ||
		    event_add(c->sniff, &tv) < 0)
			goto fail;
		return 0;
	}
	if (conn_attach(c, px->cfg.tls != NULL) < 0)
		goto fail;
	return 0;
fail:
	conn_free(c);
	return -1;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	(void)l;
	(void)sa;
	(void)salen;
	(void)conn_open(arg, fd); /* no room, or out of memory: that one connection is closed */
}

int ck_proxy_adopt(struct ck_proxy *p, int fd, struct ck_err *err)
{
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	if (conn_open(p, fd) < 0)
		return ck_errf(err, CK_E_TOO_LARGE,
			       "no room for a connection (%zu open, every one busy), or out of "
			       "memory",
			       p->n_conns);
	return 0;
}

/* ---- the proxy ------------------------------------------------------------------------------ */

int ck_proxy_new(struct event_base *base, int listen_fd, const struct ck_proxy_cfg *cfg,
		 struct ck_proxy **out, struct ck_err *err)
{
	struct ck_proxy *px = calloc(1, sizeof(*px));
	if (!px)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	px->base = base;
	px->cfg = *cfg;
	if (!px->cfg.head_timeout_ms)
		px->cfg.head_timeout_ms = CK_PROXY_HEAD_TIMEOUT_MS;
	if (!px->cfg.io_timeout_ms)
		px->cfg.io_timeout_ms = CK_PROXY_IO_TIMEOUT_MS;
	if (!px->cfg.app_timeout_ms)
		px->cfg.app_timeout_ms = CK_PROXY_APP_TIMEOUT_MS;
	if (!px->cfg.max_per_source)
		px->cfg.max_per_source = CK_PROXY_MAX_PER_SOURCE;
	if (listen_fd < 0) { /* connections come by ck_proxy_adopt alone */
		*out = px;
		return 0;
	}
	evutil_make_socket_nonblocking(listen_fd);
	px->listener =
	    evconnlistener_new(base, on_accept, px, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
			       -1, listen_fd); /* connections are never inherited by the app */
	if (!px->listener) {
		free(px);
		return ck_errf(err, CK_E_IO, "cannot listen on descriptor %d: %s", listen_fd,
			       strerror(errno));
	}
	*out = px;
	return 0;
}

void ck_proxy_set_app(struct ck_proxy *p, const struct sockaddr *app, socklen_t len)
{
	if (len > sizeof(p->cfg.app))
		len = 0;
	memset(&p->cfg.app, 0, sizeof(p->cfg.app));
	if (len)
		memcpy(&p->cfg.app, app, len);
	p->cfg.app_len = len;
}

void ck_proxy_set_tls(struct ck_proxy *p, SSL_CTX *tls)
{
	p->cfg.tls = tls;
}

size_t ck_proxy_conns(const struct ck_proxy *p)
{
	return p->n_conns;
}

void ck_proxy_free(struct ck_proxy *p)
{
	if (!p)
		return;
	if (p->listener)
		evconnlistener_free(p->listener);
	p->listener = NULL;
	while (p->conns)
		conn_free(p->conns);
	free(p);
}
