/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cloakd run: the node, split by role as relayd is (daemon.h). The parent owns the data
 * directory, the store and the runtimes; the router (the public port) and the api (the owner
 * API) are its children, confined, each started again with backoff when it dies. Signals:
 * SIGHUP sends every route to the router anew; SIGTERM and SIGINT stop cloakd, its router and
 * api, and leave the runtimes running: the next cloakd re-adopts them. SIGHUP also fetches the
 * collateral again from --pccs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include "cloak/codec.h"
#include "cloak/confine.h"
#include "cloak/net.h"
#include "daemon.h"

static const struct ck_opt_spec spec = {
    .name = "cloakd run",
    .operands = "",
    .about = "Runs the node: initialises the data directory on the first run, then serves the\n"
	     "public port through its router process (SNI passthrough to each app's runtime;\n"
	     "unknown names refused) and the owner API through its api process. Prints\n"
	     "'listening on ADDR:PORT (public) api ADDR:PORT' once ready. SIGHUP sends the\n"
	     "routes anew; SIGTERM stops cloakd and leaves the apps' runtimes running (the next\n"
	     "cloakd re-adopts them).",
    .opts = node_opts};

/* A child process by role: its pid, pidfd, channel and the listener it serves. */
struct proc {
	const char *name;
	struct node *n;
	int lfd, pidfd, *sock;
	pid_t pid;
	unsigned backoff_ms;
	struct event *exit_ev, *chan_ev, *timer;
};

static void on_chan(evutil_socket_t fd, short what, void *arg);
static void on_proc_exit(evutil_socket_t fd, short what, void *arg);

static void child_signals(void)
{
	sigset_t none;
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT, SIGCHLD};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

void node_child_confine(const char *role, const int *keep, size_t nkeep, const char *user)
{
	char how[CK_CONFINE_HOW_MAX], name[16];
	struct ck_err e;
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	snprintf(name, sizeof(name), "cloakd-%s", role);
	prctl(PR_SET_NAME, name); /* what ps and pgrep show */
	if (ck_confine(keep, nkeep, user, how, &e) < 0) {
		fprintf(stderr, "cloakd[%s]: cannot confine itself: %s\n", role, e.msg);
		_exit(2);
	}
	fprintf(stderr, "cloakd[%s]: confined (%s)\n", role, how);
}

static int proc_start(struct proc *p)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		child_signals();
		close(sv[0]);
		if (p->sock == &p->n->router_sock)
			node_router_main(p->lfd, sv[1], p->n->o->user);
		if (p->sock == &p->n->tls_sock)
			node_tls_main(sv[1], p->n);
		node_api_main(p->lfd, sv[1], p->n);
	}
	close(sv[1]);
	if (pid < 0 || (p->pidfd = pidfd_open(pid, 0)) < 0) {
		close(sv[0]);
		return -1;
	}
	p->pid = pid;
	*p->sock = sv[0];
	evutil_make_socket_nonblocking(sv[0]);
	p->exit_ev = event_new(p->n->base, p->pidfd, EV_READ, on_proc_exit, p);
	p->chan_ev = event_new(p->n->base, sv[0], EV_READ | EV_PERSIST, on_chan, p);
	if (!p->exit_ev || !p->chan_ev)
		return -1;
	event_add(p->exit_ev, NULL);
	event_add(p->chan_ev, NULL);
	if (p->sock == &p->n->router_sock)
		node_push_routes(p->n);
	return 0;
}

/* What the api's death leaves: uploads nobody writes, answers nobody waits for. */
static void forget_api(struct node *n)
{
	for (size_t i = 0; i < n->nup; i++)
		close(n->up[i].fd);
	n->nup = 0;
	for (size_t i = 0; i < n->napps; i++)
		n->apps[i]->pending_id = 0;
}

static void on_proc_exit(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	int st = 0;
	(void)fd;
	(void)what;
	waitpid(p->pid, &st, 0);
	event_free(p->exit_ev);
	event_free(p->chan_ev);
	p->exit_ev = p->chan_ev = NULL;
	close(p->pidfd);
	close(*p->sock);
	*p->sock = -1;
	p->pid = 0;
	if (p->sock == &p->n->api_sock)
		forget_api(p->n);
	fprintf(stderr, "cloakd: the %s exited (%s %d); again in %u ms\n", p->name,
		WIFSIGNALED(st) ? "signal" : "status",
		WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), p->backoff_ms);
	struct timeval tv = {p->backoff_ms / 1000, (p->backoff_ms % 1000) * 1000};
	evtimer_add(p->timer, &tv);
	p->backoff_ms =
	    p->backoff_ms * 2 > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS : p->backoff_ms * 2;
}

static void on_proc_timer(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	(void)fd;
	(void)what;
	if (proc_start(p) < 0) {
		fprintf(stderr, "cloakd: cannot start the %s: %s\n", p->name, strerror(errno));
		event_base_loopexit(p->n->base, NULL);
	}
}

/* From the router: its counters, or a client for the tls process (passed on, or closed). */
static int from_router(struct node *n, const struct ck_imsg *m, struct ck_err *e)
{
	uint16_t port;
	if (m->type == CK_IMSG_STATS) {
		if (m->fd >= 0)
			close(m->fd);
		return ck_stats_msg_decode(m, &n->router_stats, e);
	}
	if (ck_tls_conn_decode(m, &port, e) < 0) {
		if (m->fd >= 0)
			close(m->fd);
		return -1;
	}
	if (n->tls_sock >= 0)
		ck_imsg_send(n->tls_sock, CK_IMSG_TLS_CONN, 0, m->payload, m->len, m->fd, e);
	close(m->fd); /* the tls process has its own, or the client goes */
	return 0;
}

/* A message from a child; a malformed one ends that child (it is started again). */
static void on_chan(evutil_socket_t fd, short what, void *arg)
{
	struct proc *p = arg;
	static uint8_t buf[CK_IMSG_MAX];
	struct ck_imsg m;
	struct ck_err e;
	(void)what;
	int r = ck_imsg_recv((int)fd, buf, &m, &e);
	if (r < 0 && errno == EAGAIN)
		return;
	if (r > 0 && p->sock == &p->n->api_sock) {
		r = node_handle_api(p->n, &m) < 0 ? -1 : 1;
	} else if (r > 0 && p->sock == &p->n->router_sock) {
		r = from_router(p->n, &m, &e) < 0 ? -1 : 1;
		if (r < 0)
			fprintf(stderr, "cloakd: from the router: %s\n", e.msg);
	} else if (r > 0) { /* the tls process says nothing */
		if (m.fd >= 0)
			close(m.fd);
		r = ck_errf(&e, CK_E_IMSG, "a message from the tls process");
		fprintf(stderr, "cloakd: %s\n", e.msg);
	}
	if (r <= 0) { /* its death follows (on_proc_exit): it is not heard any more */
		event_del(p->chan_ev);
		pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0);
	}
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct node *n = arg;
	(void)what;
	if (sig == SIGHUP) { /* the routes anew, and the collateral fetched again */
		struct ck_err e;
		node_push_routes(n);
		if (n->o->pccs && node_collateral_refresh(n, &e) < 0)
			fprintf(stderr, "cloakd: collateral not refreshed: %s\n", e.msg);
		return;
	}
	fprintf(stderr, "cloakd: signal %d: stopping (the apps' runtimes keep running)\n",
		(int)sig);
	event_base_loopexit(n->base, NULL);
}

static void on_poll(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct ck_err e;
	(void)fd;
	(void)what;
	node_apps_poll(n);
	if (n->router_sock >= 0)
		ck_imsg_send(n->router_sock, CK_IMSG_STATS_ASK, 0, NULL, 0, -1, &e);
}

static void on_collateral(evutil_socket_t fd, short what, void *arg)
{
	struct node *n = arg;
	struct ck_err e;
	(void)fd;
	(void)what;
	int r = node_collateral_refresh(n, &e);
	if (r < 0)
		fprintf(stderr, "cloakd: collateral not refreshed: %s\n", e.msg);
	struct timeval tv = {r < 0 ? NODE_COLLATERAL_RETRY_S : NODE_COLLATERAL_REFRESH_S, 0};
	evtimer_add(n->coll_ev, &tv);
}

static void proc_stop(struct proc *p)
{
	if (p->timer)
		event_free(p->timer);
	if (!p->pid)
		return;
	pidfd_send_signal(p->pidfd, SIGTERM, NULL, 0);
	for (int i = 0; i < 50 && waitpid(p->pid, NULL, WNOHANG) == 0; i++)
		usleep(20000);
	pidfd_send_signal(p->pidfd, SIGKILL, NULL, 0); /* it had a second to go */
	waitpid(p->pid, NULL, 0);
	event_free(p->exit_ev);
	event_free(p->chan_ev);
	close(p->pidfd);
	close(*p->sock);
}

static int serve(struct node *n, int pub_fd, int api_fd)
{
	struct proc procs[3] = {
	    {"router", n, pub_fd, -1, &n->router_sock, 0, NODE_BACKOFF_MIN_MS, NULL, NULL, NULL},
	    {"api", n, api_fd, -1, &n->api_sock, 0, NODE_BACKOFF_MIN_MS, NULL, NULL, NULL},
	    {"tls", n, -1, -1, &n->tls_sock, 0, NODE_BACKOFF_MIN_MS, NULL, NULL, NULL}};
	size_t nprocs = n->o->op_cert ? 3 : 2; /* the tls process only with an operator cert */
	static const int sigs[] = {SIGHUP, SIGTERM, SIGINT};
	struct event *sev[3] = {NULL};
	struct ck_err e;
	int ret = EXIT_FAILURE;
	signal(SIGPIPE, SIG_IGN);
	if (node_collateral_init(n, &e) < 0 || node_apps_load(n, &e) < 0) {
		cli_err(&e);
		return EXIT_FAILURE;
	}
	if (n->o->pccs) {
		struct timeval ctv = {NODE_COLLATERAL_REFRESH_S, 0};
		if (!(n->coll_ev = evtimer_new(n->base, on_collateral, n)) ||
		    evtimer_add(n->coll_ev, &ctv) < 0)
			goto out;
	}
	for (size_t i = 0; i < 3; i++)
		if (!(sev[i] = evsignal_new(n->base, sigs[i], on_signal, n)) ||
		    event_add(sev[i], NULL) < 0)
			goto out;
	struct timeval tv = {0, NODE_STATUS_POLL_MS * 1000};
	n->poll_ev = event_new(n->base, -1, EV_PERSIST, on_poll, n);
	if (!n->poll_ev || event_add(n->poll_ev, &tv) < 0)
		goto out;
	for (size_t i = 0; i < nprocs; i++)
		if (!(procs[i].timer = evtimer_new(n->base, on_proc_timer, &procs[i])) ||
		    proc_start(&procs[i]) < 0) {
			fprintf(stderr, "cloakd: cannot start the %s: %s\n", procs[i].name,
				strerror(errno));
			goto out;
		}
	event_base_dispatch(n->base);
	ret = EXIT_OK;
out:
	for (size_t i = 0; i < nprocs; i++)
		proc_stop(&procs[i]);
	for (size_t i = 0; i < 3; i++)
		if (sev[i])
			event_free(sev[i]);
	if (n->poll_ev)
		event_free(n->poll_ev);
	if (n->coll_ev)
		event_free(n->coll_ev);
	forget_api(n);
	node_apps_free(n);
	fprintf(stderr, "cloakd: stopped\n");
	return ret;
}

/* The data directory (made on the first run), the store, the limits. */
static int prepare(struct node_opts *o, struct node *n, struct ck_err *e)
{
	char db[PATH_MAX];
	static char abs[PATH_MAX]; /* the runtimes' paths must not depend on where cloakd ran */
	if (access(o->data, F_OK) != 0) { /* the first run */
		if (ck_node_dir_init(o->data, o->sim, o->domain, ck_time_now(), e) < 0)
			return -1;
		fprintf(stderr, "cloakd: initialised %s; the admin token is in %s/%s\n", o->data,
			o->data, CK_NODE_ADMIN_TOKEN);
	}
	if (!realpath(o->data, abs))
		return ck_errf(e, CK_E_IO, "--data: '%s': %s", o->data, strerror(errno));
	o->data = abs;
	if (node_open(o, &n->dir, e) < 0 || node_check_limits(o, &n->lim, e) < 0 ||
	    node_runtime_path(o, n->runtime, e) < 0 || ck_node_path(&n->dir, CK_NODE_DB, db, e) < 0)
		return -1;
	return ck_store_open(db, &n->store, e);
}

int cmd_run(int argc, char **argv)
{
	struct node_opts o = NODE_OPTS_DEFAULT;
	static struct node n;
	struct ck_err e;
	struct sockaddr_in want, api, got, agot;
	int ret;
	if (ck_opts_parse(&spec, argc, argv, &o, &ret) < 0)
		return ret;
	n.o = &o;
	n.router_sock = n.api_sock = n.tls_sock = -1;
	if (node_check_opts(&o, &want, &e) < 0 || ck_addr_parse(o.api, &api, &e) < 0 ||
	    prepare(&o, &n, &e) < 0) {
		cli_err(&e);
		ck_store_close(n.store);
		return EXIT_USAGE;
	}
	int lfd = ck_tcp_listen(&want, &got, &e),
	    afd = lfd < 0 ? -1 : ck_tcp_listen(&api, &agot, &e);
	if (lfd < 0 || afd < 0) {
		cli_err(&e);
		if (lfd >= 0)
			close(lfd);
		ck_store_close(n.store);
		return EXIT_USAGE;
	}
	n.public_port = ntohs(got.sin_port);
	n.base = event_base_new();
	char fp[65], pub[INET_ADDRSTRLEN];
	ck_hex_encode(n.dir.api_sha256, 32, fp);
	inet_ntop(AF_INET, &got.sin_addr, pub, sizeof(pub));
	printf("listening on %s:%u (public) api %s:%u (sha256 %s)%s\n", pub, n.public_port,
	       inet_ntoa(agot.sin_addr), ntohs(agot.sin_port), fp,
	       o.sim ? " SIMULATED: NOT A REAL TEE" : "");
	fflush(stdout);
	ret = n.base ? serve(&n, lfd, afd) : EXIT_FAILURE;
	close(lfd);
	close(afd);
	ck_store_close(n.store);
	if (n.base)
		event_base_free(n.base);
	return ret;
}
