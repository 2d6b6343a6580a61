/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router.h - the node's public port (DESIGN §8): each connection's ClientHello is read (bounded
 * in size and time, sni.h), its server name looked up, and the connection passed through to
 * that app's runtime untouched, TLS and all: the node never holds a key for it and never sees
 * a byte in clear. A name the lookup does not know, a ClientHello without one, or anything that
 * is not a ClientHello is refused: a TLS alert unrecognized_name (for a name) and the close.
 *
 * Once routed, bytes move both ways by splice(2) through a pipe per direction (they never enter
 * user space; reading from a side pauses while its pipe cannot be emptied into the other); a
 * side that closes is passed on once what it sent has been written. Each relayed connection
 * holds six descriptors (two sockets, two pipes); when no pipe can be had, the connection is
 * closed. A closed connection's empty pipes are kept for the next ones (at most
 * CK_ROUTER_PIPE_POOL), so a short connection costs no pipe(2) nor its resize. At most
 * CK_ROUTER_MAX_CONNS connections; beyond, a new one is closed at once. Everything lives in the
 * struct ck_router the caller owns. The process must ignore SIGPIPE.
 */
#ifndef CLOAK_ROUTER_H
#define CLOAK_ROUTER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "cloak/err.h"
#include "cloak/sni.h"

#define CK_ROUTER_MAX_CONNS	   4096
#define CK_ROUTER_HELLO_TIMEOUT_MS 5000 /* the whole ClientHello, from the accept */
#define CK_ROUTER_CONNECT_MS	   5000 /* connecting to the runtime */
#define CK_ROUTER_PIPE_POOL	   64	/* empty pipes kept for new connections (as HAProxy) */

/* Where a ClientHello goes: 0, the runtime at *to (passed through); CK_ROUTER_TERMINATE, to
 * the terminate callback (an untrusted-ssl app's user); -1, nowhere (an unknown name). */
#define CK_ROUTER_TERMINATE 1
typedef int (*ck_router_route_fn)(void *arg, const struct ck_hello *h, struct sockaddr_storage *to,
				  socklen_t *to_len);
/* Takes `fd`, one end of a socketpair whose other end the router relays the client to (the
 * ClientHello first, then both ways by splice): whoever holds it terminates TLS. 0, or -1
 * (closed, the client with it). */
typedef int (*ck_router_terminate_fn)(void *arg, const struct ck_hello *h, int fd);

struct ck_router_cfg {
	ck_router_route_fn route;
	void *route_arg;
	ck_router_terminate_fn terminate; /* NULL: CK_ROUTER_TERMINATE refuses */
	unsigned hello_timeout_ms;	  /* 0: CK_ROUTER_HELLO_TIMEOUT_MS */
};

struct ck_router;

/* Starts routing what arrives on `listen_fd` (bound, listening; the router takes it). */
int ck_router_new(struct event_base *base, int listen_fd, const struct ck_router_cfg *cfg,
		  struct ck_router **out, struct ck_err *err);
/* Open connections (waiting for a ClientHello, connecting, or relaying). */
size_t ck_router_conns(const struct ck_router *r);
/* Its counters since it started: connections open now, accepted, refused (no or unknown name,
 * nothing in time, no runtime, over the limit), bytes relayed by splice (both ways; the
 * ClientHello's own bytes not counted). */
struct ck_router_stats {
	uint64_t open, accepted, refused, bytes;
};
void ck_router_stats(const struct ck_router *r, struct ck_router_stats *st);
/* Closes every connection and the listener. NULL is fine. */
void ck_router_free(struct ck_router *r);

#endif
