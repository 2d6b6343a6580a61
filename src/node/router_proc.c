/* SPDX-License-Identifier: Apache-2.0 */
/*
 * router_proc.c - cloakd's router process: confined (confine.h: its listener and its channel,
 * an empty root, as root its own user), it reads each ClientHello and passes the connection
 * through to the app's runtime (router.h). The routes come from the parent (imsg.h); so do the
 * requests for its counters.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "daemon.h"

#define ROUTES_MAX CK_STORE_MAX_APPS

struct route_table {
	struct ck_route_msg r[ROUTES_MAX];
	size_t n;
};

struct channel {
	int sock;
	struct route_table *table;
	struct event_base *base;
	struct ck_router *router;
};

/* A passthrough to the runtime, or, for an untrusted-ssl app's users (not cloak's own clients,
 * which offer CK_ALPN_CLOAK), to the tls process. */
static int table_route(void *arg, const struct ck_hello *h, struct sockaddr_storage *to,
		       socklen_t *len)
{
	const struct channel *ch = arg;
	const struct route_table *t = ch->table;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->r[i].name, h->name)) {
			if (t->r[i].terminate && !h->alpn_cloak)
				return CK_ROUTER_TERMINATE;
			struct sockaddr_in *in = (struct sockaddr_in *)to;
			memset(to, 0, sizeof(*to));
			in->sin_family = AF_INET;
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			in->sin_port = htons(t->r[i].port);
			*len = sizeof(*in);
			return 0;
		}
	return -1;
}

/* A route message into the table; -1 (e set) for one that is malformed. A table that is full
 * takes no new name: that one is said on standard error and not routed. */
static int table_apply(struct route_table *t, const struct ck_imsg *m, struct ck_err *e)
{
	struct ck_route_msg r;
	if (m->type == CK_IMSG_ROUTE_CLEAR) {
		t->n = 0;
		return m->len ? ck_errf(e, CK_E_IMSG, "ROUTE_CLEAR with a payload") : 0;
	}
	if (ck_route_msg_decode(m, &r, e) < 0)
		return -1;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->r[i].name, r.name)) {
			if (m->type == CK_IMSG_ROUTE_DEL)
				t->r[i] = t->r[--t->n];
			else
				t->r[i] = r;
			return 0;
		}
	if (m->type == CK_IMSG_ROUTE_SET && t->n == ROUTES_MAX)
		fprintf(stderr, "cloakd[router]: %d routes already: '%s' is not routed\n",
			ROUTES_MAX, r.name);
	else if (m->type == CK_IMSG_ROUTE_SET)
		t->r[t->n++] = r;
	return 0;
}

/* The client's end to the tls process, through the parent, with the runtime's port. */
static int hand_over(void *arg, const struct ck_hello *h, int fd)
{
	const struct channel *ch = arg;
	const struct route_table *t = ch->table;
	struct ck_err e;
	uint8_t b[2];
	int r = -1;
	for (size_t i = 0; i < t->n && r < 0; i++)
		if (!strcmp(t->r[i].name, h->name))
			r = ck_imsg_send(ch->sock, CK_IMSG_TLS_CONN, 0, b,
					 ck_tls_conn_encode(t->r[i].port, b), fd, &e);
	close(fd); /* sent (the parent has its own), or not */
	return r;
}

static int answer_stats(struct channel *ch, const struct ck_imsg *m, struct ck_err *e)
{
	struct ck_router_stats st;
	uint8_t b[32];
	if (m->len)
		return ck_errf(e, CK_E_IMSG, "STATS_ASK with a payload");
	ck_router_stats(ch->router, &st);
	return ck_imsg_send(ch->sock, CK_IMSG_STATS, m->id, b, ck_stats_msg_encode(&st, b), -1, e);
}

/* A message from the parent; anything malformed, or the parent gone, ends the router. */
static void on_parent(evutil_socket_t fd, short what, void *arg)
{
	struct channel *ch = arg;
	static uint8_t buf[CK_IMSG_MAX];
	struct ck_imsg m;
	struct ck_err e;
	(void)fd;
	(void)what;
	int r = ck_imsg_recv(ch->sock, buf, &m, &e);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0 && m.fd >= 0) {
		close(m.fd);
		r = ck_errf(&e, CK_E_IMSG, "a descriptor the router does not take");
	} else if (r > 0 && m.type == CK_IMSG_STATS_ASK) {
		r = answer_stats(ch, &m, &e) < 0 ? -1 : 1;
	} else if (r > 0 && m.type <= CK_IMSG_ROUTE_CLEAR) {
		r = table_apply(ch->table, &m, &e) < 0 ? -1 : 1;
	} else if (r > 0) {
		r = ck_errf(&e, CK_E_IMSG, "message type %u is not the router's", m.type);
	}
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "cloakd[router]: %s: stopping\n", e.msg);
		event_base_loopexit(ch->base, NULL);
	}
}

void node_router_main(int lfd, int sock, const char *user)
{
	static struct route_table table;
	struct ck_err e;
	int keep[] = {lfd, sock};
	node_child_confine("router", keep, 2, user);
	struct event_base *base = event_base_new();
	struct channel ch = {sock, &table, base, NULL};
	struct ck_router_cfg cfg = {.route = table_route, .route_arg = &ch, .terminate = hand_over};
	evutil_make_socket_nonblocking(sock);
	struct event *pe =
	    base ? event_new(base, sock, EV_READ | EV_PERSIST, on_parent, &ch) : NULL;
	if (!pe || event_add(pe, NULL) < 0 || ck_router_new(base, lfd, &cfg, &ch.router, &e) < 0)
		_exit(2);
	event_base_dispatch(base);
	_exit(0);
}
