/* SPDX-License-Identifier: Apache-2.0 */
/*
 * proxy.h - the runtime's front door (DESIGN §5): an event-driven (libevent) HTTP/1.1 reverse
 * proxy between the clients and the app, with the runtime's own endpoints answered in place.
 *
 * Every request head is read through the strict parser of http.h; a refused one is answered
 * with its status and the connection closed, and nothing reaches the app. What the app receives
 * is re-framed by the proxy, never the client's bytes verbatim: the request line and end-to-end
 * headers as parsed, hop-by-hop headers (Connection and those it names, Keep-Alive, TE,
 * Trailer, Upgrade, Proxy-Connection, Expect) dropped, and a body framed by exactly one
 * Content-Length or a re-encoded chunked body (trailers dropped). So the app can never see a
 * request the proxy did not see the same way: no smuggling.
 *
 * Responses come back the same way: the app's head through ck_http_parse_response, its body
 * streamed (Content-Length, chunked re-encoded, or read-until-close re-chunked for HTTP/1.1
 * clients), with backpressure both ways. Keep-alive on both sides; one request at a time per
 * connection (pipelined bytes wait in the kernel). The app failing gives 502 (it closed or sent
 * something malformed), 503 (not accepting yet), 504 (too slow), with a short body.
 *
 * An error answer is followed by a lingering close: the write side is shut and what the client
 * still sends is read and discarded (at most CK_PROXY_LINGER_MS), so it can read the answer.
 *
 * Slow clients cannot hold connections: a head must arrive whole within head_timeout_ms, and a
 * body or a write may stall for at most io_timeout_ms. Nor can many idle ones: the listener
 * never pauses; at CK_PROXY_MAX_CONNS connections, or at max_per_source from one address, a new
 * connection takes the place of the oldest head-less one (new, in its TLS handshake, idle
 * between requests, or with a partial head; that address's own for the per-address cap), and
 * is closed at once only when every connection in its way is busy with a request.
 * No hidden globals: everything lives in the struct ck_proxy the caller owns via new/free. The
 * process must ignore SIGPIPE (writes to a peer that has gone are errors, not signals). Create
 * the event base with EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST: event changes within one loop turn
 * then cost one system call at most.
 */
#ifndef CLOAK_PROXY_H
#define CLOAK_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "cloak/err.h"
#include "cloak/gate.h"

#define CK_PROXY_MAX_CONNS	 1024
#define CK_PROXY_MAX_PER_SOURCE	 256	      /* connections from one client address */
#define CK_PROXY_HEAD_TIMEOUT_MS 10000	      /* a whole request head, from its first wait */
#define CK_PROXY_IO_TIMEOUT_MS	 30000	      /* a stalled body read or write */
#define CK_PROXY_APP_TIMEOUT_MS	 60000	      /* the app's response head */
#define CK_PROXY_BUF_HIGH	 (256 * 1024) /* buffered bytes before reading pauses */
#define CK_PROXY_LINGER_MS	 2000 /* after an error answer: reading and discarding, at most */

struct evbuffer;

/* A request for one of the runtime's own routes, as the local handler sees it. */
struct ck_proxy_req {
	const struct ck_route *route;
	const uint8_t *body; /* POST provision only; wiped by the proxy after the call */
	size_t body_len;
	SSL *ssl; /* the client's TLS connection (its certificate is the identity it was served
		     with), or NULL for plain HTTP */
	const struct sockaddr *peer; /* the client's address (peer_len 0: unknown) */
	socklen_t peer_len;
	void *priv; /* the proxy's own (for ck_proxy_defer) */
};

/* What the local handler answers besides its status: the body (the proxy's buffer, to fill),
 * its media type (default application/json), and for 429 or 503 a Retry-After in seconds. */
struct ck_proxy_reply {
	struct evbuffer *body;
	const char *ctype;
	unsigned retry_after; /* 0: none */
};

/* Answers a runtime route (ck_route_classify): returns the status, or CK_PROXY_LATER after
 * ck_proxy_defer (the answer then comes from ck_proxy_finish). */
typedef int (*ck_proxy_local_fn)(void *arg, const struct ck_proxy_req *rq,
				 struct ck_proxy_reply *reply);
#define CK_PROXY_LATER 0

/* A request whose answer comes later (e.g. fresh evidence, made for a batch of requests).
 * ck_proxy_defer, called by the local handler, gives the handle to the handler, which owns it
 * until it passes it to ck_proxy_finish, exactly once. If the connection closes meanwhile, the
 * handle stays valid and ck_proxy_finish only frees it. While deferred, the connection reads
 * nothing more (pipelined requests wait). */
struct ck_proxy_later;
struct ck_proxy_later *ck_proxy_defer(const struct ck_proxy_req *rq);
/* The answer: status, media type (NULL: application/json), Retry-After (0: none), body (NULL:
 * the status's reason). Frees `l`. */
void ck_proxy_finish(struct ck_proxy_later *l, int status, const char *ctype, unsigned retry_after,
		     const char *body, size_t len);
/* true while the request's connection is open (the answer would still be read). */
bool ck_proxy_later_open(const struct ck_proxy_later *l);

struct ck_proxy_cfg {
	struct sockaddr_storage app; /* the app: TCP on loopback or a UNIX socket */
	socklen_t app_len;	     /* 0: no app yet (app routes answer 503) */
	SSL_CTX *tls;		     /* NULL: plain HTTP only */
	bool plain;		     /* with tls: plain HTTP too on the same port; the first byte
					decides (0x16, a TLS handshake record, or anything else) */
	ck_proxy_local_fn local;     /* the runtime's endpoints; NULL: 404 */
	void *local_arg;
	unsigned head_timeout_ms, io_timeout_ms, app_timeout_ms; /* 0: the defaults above */
	size_t max_per_source; /* connections from one address; 0: CK_PROXY_MAX_PER_SOURCE (a
				  front whose clients all come through one relay raises it) */
};

struct ck_proxy;

/* Starts accepting on `listen_fd` (bound, listening; the proxy takes it), or, with -1, serves
 * only the connections given to ck_proxy_adopt. */
int ck_proxy_new(struct event_base *base, int listen_fd, const struct ck_proxy_cfg *cfg,
		 struct ck_proxy **out, struct ck_err *err);
/* Serves an already-connected socket as if it had been accepted (handed over by a supervisor;
 * the fuzz target). The proxy takes `fd`, also on failure. */
int ck_proxy_adopt(struct ck_proxy *p, int fd, struct ck_err *err);
/* Points app routes at a (new) app address, e.g. once the app is healthy; len 0 = none. */
void ck_proxy_set_app(struct ck_proxy *p, const struct sockaddr *app, socklen_t len);
/* Replaces the TLS context for new connections (the switch to the serving identity). */
void ck_proxy_set_tls(struct ck_proxy *p, SSL_CTX *tls);
/* Open client connections, for status and tests. */
size_t ck_proxy_conns(const struct ck_proxy *p);
/* Closes every connection and the listener. */
void ck_proxy_free(struct ck_proxy *p);

#endif
