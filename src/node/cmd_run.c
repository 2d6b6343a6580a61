/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloakd run: the node, split by role as relayd is. The parent owns the data directory and the
 * store; the router, forked from it and confined (confine.h: no descriptor but the public
 * listener and its channel to the parent, an empty root, as root its own user), faces the
 * internet: it reads each ClientHello and passes the connection through to the app's runtime
 * (router.h). The parent tells it the routes over the channel (imsg.h) at its start and on
 * SIGHUP, and starts it again, with backoff, if it dies. The owner API is next (issue 11).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "cloak/codec.h"
#include "cloak/confine.h"
#include "cloak/imsg.h"
#include "cloak/net.h"
#include "cloak/router.h"
#include "cloak/store.h"
#include "node.h"

#define RUN_ROUTES_MAX	   4096
#define RUN_BACKOFF_MIN_MS 250
#define RUN_BACKOFF_MAX_MS 5000

static const struct ck_opt_spec spec = {
    .name = "cloakd run",
    .operands = "",
    .about = "Runs the node: initialises the data directory on the first run, then serves the\n"
	     "public port through its router process (SNI passthrough to each app's runtime;\n"
	     "unknown names refused). Prints 'listening on ADDR:PORT' once ready. SIGHUP reloads\n"
	     "the routes from the store; SIGTERM stops.",
    .opts = node_opts};

/* ---- the router process ------------------------------------------------------------------- */

struct route_table {
	struct ck_route_msg r[RUN_ROUTES_MAX];
	size_t n;
};

static int table_route(void *arg, const char *name, struct sockaddr_storage *to, socklen_t *len)
{
	const struct route_table *t = arg;
	for (size_t i = 0; i < t->n; i++)
		if (!strcmp(t->r[i].name, name)) {
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
		return 0;
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
	if (m->type == CK_IMSG_ROUTE_SET && t->n == RUN_ROUTES_MAX)
		fprintf(stderr, "cloakd[router]: %d routes already: '%s' is not routed\n",
			RUN_ROUTES_MAX, r.name);
	else if (m->type == CK_IMSG_ROUTE_SET)
		t->r[t->n++] = r;
	return 0;
}

struct channel {
	int sock;
	struct route_table *table;
	struct event_base *base;
};

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
	if (r <= 0) {
		if (r < 0)
			fprintf(stderr, "cloakd[router]: %s: stopping\n", e.msg);
		event_base_loopexit(ch->base, NULL);
		return;
	}
	if (m.fd >= 0)
		close(m.fd); /* none is expected */
	if (table_apply(ch->table, &m, &e) < 0) {
		fprintf(stderr, "cloakd[router]: %s: stopping\n", e.msg);
		event_base_loopexit(ch->base, NULL);
	}
}

static void router_main(int lfd, int sock, const char *user)
{
	static struct route_table table;
	struct ck_err e;
	char how[CK_CONFINE_HOW_MAX];
	int keep[] = {lfd, sock};
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (ck_confine(keep, 2, user, how, &e) < 0) {
		fprintf(stderr, "cloakd[router]: cannot confine itself: %s\n", e.msg);
		_exit(2);
	}
	fprintf(stderr, "cloakd[router]: confined (%s)\n", how);
	struct event_base *base = event_base_new();
	struct ck_router_cfg cfg = {.route = table_route, .route_arg = &table};
	struct ck_router *r;
	struct channel ch = {sock, &table, base};
	evutil_make_socket_nonblocking(sock);
	struct event *pe =
	    base ? event_new(base, sock, EV_READ | EV_PERSIST, on_parent, &ch) : NULL;
	if (!pe || event_add(pe, NULL) < 0 || ck_router_new(base, lfd, &cfg, &r, &e) < 0)
		_exit(2);
	event_base_dispatch(base);
	_exit(0);
}

/* ---- the parent ---------------------------------------------------------------------------- */

struct pusher {
	int sock;
	const char *domain;
	int sent;
};

static int push_route(void *arg, const char *app, uint16_t port)
{
	struct pusher *p = arg;
	struct ck_route_msg r = {.port = port};
	uint8_t buf[CK_SNI_NAME_MAX + 4];
	struct ck_err e;
	size_t n = 0;
	if (snprintf(r.name, sizeof(r.name), "%s.%s", app, p->domain) < (int)sizeof(r.name))
		n = ck_route_msg_encode(&r, buf, sizeof(buf));
	if (!n) { /* a name no client can ask for: that app alone is not routed */
		fprintf(stderr, "cloakd: '%s.%s' is too long a name: not routed\n", app, p->domain);
		return 0;
	}
	if (ck_imsg_send(p->sock, CK_IMSG_ROUTE_SET, 0, buf, n, -1, &e) < 0) {
		fprintf(stderr, "cloakd: %s\n", e.msg); /* the router is gone: it gets all anew */
		return -1;
	}
	p->sent++;
	return 0;
}

/* Every route in the store, anew. */
static void push_routes(const struct ck_node_dir *d, int sock, const char *domain)
{
	struct ck_store *s;
	struct ck_err e;
	char db[PATH_MAX];
	struct pusher p = {sock, domain, 0};
	if (ck_node_path(d, CK_NODE_DB, db, &e) < 0 || ck_store_open(db, &s, &e) < 0 ||
	    ck_imsg_send(sock, CK_IMSG_ROUTE_CLEAR, 0, NULL, 0, -1, &e) < 0) {
		fprintf(stderr, "cloakd: routes not sent: %s\n", e.msg);
		return;
	}
	if (ck_store_app_routes(s, push_route, &p, &e) < 0)
		fprintf(stderr, "cloakd: %s\n",
			e.msg); /* the store's failure; push_route says its own */
	ck_store_close(s);
	fprintf(stderr, "cloakd: %d route%s sent to the router\n", p.sent, p.sent == 1 ? "" : "s");
}

static volatile sig_atomic_t got_hup, got_term, got_chld;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGCHLD)
		got_chld = 1;
	else
		got_term = 1;
}

/* A router process and its channel: *sock the parent's end. */
static pid_t start_router(int lfd, const char *user, int *sock)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) { /* the parent's signal handling is not the router's */
		sigset_t none;
		static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};
		for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		close(sv[0]);
		router_main(lfd, sv[1], user);
	}
	close(sv[1]);
	*sock = sv[0];
	return pid;
}

static int serve(const struct node_opts *o, const struct ck_node_dir *d, int lfd)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigset_t block, old;
	unsigned backoff = RUN_BACKOFF_MIN_MS;
	int sock = -1;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGCHLD, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&block);
	sigaddset(&block, SIGHUP);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGCHLD);
	sigprocmask(SIG_BLOCK, &block, &old);
	pid_t router = start_router(lfd, o->user, &sock);
	if (router < 0)
		return EXIT_FAILURE;
	push_routes(d, sock, o->domain);
	while (!got_term) {
		sigsuspend(&old);
		if (got_chld) {
			got_chld = 0;
			int st;
			if (waitpid(router, &st, WNOHANG) == router) {
				fprintf(stderr, "cloakd: the router exited (%d); again in %u ms\n",
					st, backoff);
				close(sock);
				usleep(backoff * 1000);
				backoff = backoff * 2 > RUN_BACKOFF_MAX_MS ? RUN_BACKOFF_MAX_MS
									   : backoff * 2;
				if ((router = start_router(lfd, o->user, &sock)) < 0)
					return EXIT_FAILURE;
				push_routes(d, sock, o->domain);
			}
		}
		if (got_hup) {
			got_hup = 0;
			push_routes(d, sock, o->domain);
		}
	}
	kill(router, SIGTERM);
	for (int i = 0; i < 50 && waitpid(router, NULL, WNOHANG) == 0; i++)
		usleep(20000);
	kill(router, SIGKILL); /* it had a second to go */
	waitpid(router, NULL, 0);
	close(sock);
	fprintf(stderr, "cloakd: stopped\n");
	return EXIT_OK;
}

int cmd_run(int argc, char **argv)
{
	struct node_opts o = NODE_OPTS_DEFAULT;
	struct ck_node_dir d;
	struct ck_err e;
	struct sockaddr_in want, got;
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	if (node_check_opts(&o, &want, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	if (access(o.data, F_OK) != 0) { /* the first run */
		if (ck_node_dir_init(o.data, o.sim, o.domain, ck_time_now(), &e) < 0) {
			cli_err(&e);
			return EXIT_USAGE;
		}
		fprintf(stderr, "cloakd: initialised %s; the admin token is in %s/%s\n", o.data,
			o.data, CK_NODE_ADMIN_TOKEN);
	}
	if (node_open(&o, &d, &e) < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	int lfd = ck_tcp_listen(&want, &got, &e);
	if (lfd < 0) {
		cli_err(&e);
		return EXIT_USAGE;
	}
	char fp[65];
	ck_hex_encode(d.api_sha256, 32, fp);
	printf("listening on %s:%u (public; api sha256 %.16s...)%s\n", inet_ntoa(got.sin_addr),
	       ntohs(got.sin_port), fp, o.sim ? " SIMULATED: NOT A REAL TEE" : "");
	fflush(stdout);
	ret = serve(&o, &d, lfd);
	close(lfd);
	return ret;
}
