/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tls_proc.c - cloakd's tls process, started only with --operator-cert: it terminates TLS with
 * the operator's certificate for the users of untrusted-ssl apps, whose connections the router
 * hands over (through the parent: CK_IMSG_TLS_CONN, the client's end of a socketpair the
 * router relays), and serves them with the runtime's own front (proxy.h: the strict HTTP/1.1
 * parser, no smuggling), forwarding plain HTTP to the app's runtime on loopback. Confined as
 * the router is; it holds the operator's key and no other, and no path to DIR. That this
 * process both parses TLS and holds the key departs from DESIGN §8: docs/node.md says why.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cloak/proxy.h"
#include "daemon.h"

/* One front per runtime port: connections adopted, plain HTTP forwarded to 127.0.0.1:port. */
struct front {
	uint16_t port;
	struct ck_proxy *px;
};

struct tls {
	struct event_base *base;
	int sock;
	SSL_CTX *ctx;
	struct front fronts[CK_STORE_MAX_APPS];
	size_t n;
};

static struct ck_proxy *front_for(struct tls *t, uint16_t port, struct ck_err *e)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->fronts[i].port == port)
			return t->fronts[i].px;
	for (size_t i = 0; i < t->n; i++) /* full: one that serves nobody now makes room */
		if (t->n == CK_STORE_MAX_APPS && ck_proxy_conns(t->fronts[i].px) == 0) {
			ck_proxy_free(t->fronts[i].px);
			t->fronts[i] = t->fronts[--t->n];
			break;
		}
	if (t->n == CK_STORE_MAX_APPS)
		return ck_errf(e, CK_E_LIMIT, "%d fronts busy", CK_STORE_MAX_APPS), NULL;
	struct ck_proxy_cfg cfg = {.tls = t->ctx, .max_per_source = CK_PROXY_MAX_CONNS};
	struct sockaddr_in *in = (struct sockaddr_in *)&cfg.app;
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons(port);
	cfg.app_len = sizeof(*in);
	struct front *f = &t->fronts[t->n];
	if (ck_proxy_new(t->base, -1, &cfg, &f->px, e) < 0)
		return NULL;
	f->port = port;
	t->n++;
	return f->px;
}

static void on_parent(evutil_socket_t fd, short what, void *arg)
{
	struct tls *t = arg;
	static uint8_t buf[CK_IMSG_MAX];
	struct ck_imsg m;
	struct ck_err e;
	uint16_t port;
	(void)fd;
	(void)what;
	int r = ck_imsg_recv(t->sock, buf, &m, &e);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0 && ck_tls_conn_decode(&m, &port, &e) == 0) {
		struct ck_proxy *px = front_for(t, port, &e);
		if (!px || ck_proxy_adopt(px, m.fd, &e) < 0) /* adopt takes it, also on failure */
			fprintf(stderr, "cloakd[tls]: a client not served: %s\n", e.msg);
		if (!px)
			close(m.fd);
		return;
	}
	if (r > 0 && m.fd >= 0)
		close(m.fd);
	if (r != 0)
		fprintf(stderr, "cloakd[tls]: %s: stopping\n", e.msg);
	event_base_loopexit(t->base, NULL);
}

/* The operator's chain and key, read before the root changes. */
static SSL_CTX *operator_tls(const struct node_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate_chain_file(ctx, o->op_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, o->op_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	return ctx;
}

void node_tls_main(int sock, const struct node *n)
{
	static struct tls t;
	int keep[] = {sock};
	t.sock = sock;
	if (!(t.ctx = operator_tls(n->o))) {
		fprintf(stderr, "cloakd[tls]: cannot load the operator's certificate and key\n");
		_exit(2);
	}
	node_child_confine("tls", keep, 1, n->o->user);
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	t.base = event_base_new_with_config(ec);
	event_config_free(ec);
	evutil_make_socket_nonblocking(sock);
	struct event *pe =
	    t.base ? event_new(t.base, sock, EV_READ | EV_PERSIST, on_parent, &t) : NULL;
	if (!pe || event_add(pe, NULL) < 0)
		_exit(2);
	event_base_dispatch(t.base);
	_exit(0);
}
