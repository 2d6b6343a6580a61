/* SPDX-License-Identifier: Apache-2.0 */
/*
 * apps.c - the parent's apps: their files in DIR/apps/NAME (the manifest, the package, the
 * runtime's own log), their runtimes, their records in the store. See daemon.h.
 *
 * A runtime is started in a session of its own, its standard output a pipe (for its one
 * 'listening on' line), its standard error its log file; it is watched through a pidfd, which
 * works the same for a child of this cloakd and for one re-adopted after a restart (known by
 * its pid and the kernel's start time of that pid, so a reused pid is never taken for it).
 * So runtimes outlive cloakd: stopping or upgrading the node never forces a provisioning.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cloak/client.h"
#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/manifest.h"
#include "daemon.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* DIR/apps/NAME[/file] into buf. */
static int app_path(const struct node *n, const char *name, const char *file, char buf[PATH_MAX])
{
	int k = snprintf(buf, PATH_MAX, "%s/%s/%s%s%s", n->dir.path, CK_NODE_APPS, name,
			 file ? "/" : "", file ? file : "");
	return k > 0 && k < PATH_MAX ? 0 : -1;
}

static void save(struct node_app *a)
{
	struct ck_err e;
	if (ck_store_app_update(a->node->store, &a->rec, &e) < 0)
		fprintf(stderr, "cloakd: '%s': state not saved: %s\n", a->rec.name, e.msg);
}

static void set_state(struct node_app *a, enum ck_app_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_state(struct node_app *a, enum ck_app_state st, const char *fmt, ...)
{
	va_list ap;
	a->rec.state = st;
	va_start(ap, fmt);
	vsnprintf(a->rec.reason, sizeof(a->rec.reason), fmt, ap);
	va_end(ap);
	save(a);
	fprintf(stderr, "cloakd: '%s' is %s%s%s\n", a->rec.name, ck_app_state_name(st),
		*a->rec.reason ? ": " : "", a->rec.reason);
}

/* ---- routes --------------------------------------------------------------------------------- */

static void route(struct node *n, const struct node_app *a, bool set)
{
	struct ck_route_msg r = {.port = set ? a->rec.port : 0,
				 .terminate = set && !strcmp(a->rec.mode, "operator-tls")};
	uint8_t buf[CK_SNI_NAME_MAX + 4];
	struct ck_err e;
	size_t k = 0;
	if (n->router_sock < 0)
		return; /* it gets every route when it starts again */
	if (snprintf(r.name, sizeof(r.name), "%s.%s", a->rec.name, n->o->domain) <
	    (int)sizeof(r.name))
		k = ck_route_msg_encode(&r, buf, sizeof(buf));
	if (!k) {
		fprintf(stderr, "cloakd: '%s.%s' is too long a name: not routed\n", a->rec.name,
			n->o->domain);
		return;
	}
	if (ck_imsg_send(n->router_sock, set ? CK_IMSG_ROUTE_SET : CK_IMSG_ROUTE_DEL, 0, buf, k, -1,
			 &e) < 0)
		fprintf(stderr, "cloakd: route of '%s' not sent: %s\n", a->rec.name, e.msg);
}

void node_push_routes(struct node *n)
{
	struct ck_err e;
	size_t sent = 0;
	if (n->router_sock < 0 ||
	    ck_imsg_send(n->router_sock, CK_IMSG_ROUTE_CLEAR, 0, NULL, 0, -1, &e) < 0)
		return;
	for (size_t i = 0; i < n->napps; i++)
		if (n->apps[i]->rec.port) {
			route(n, n->apps[i], true);
			sent++;
		}
	fprintf(stderr, "cloakd: %zu route%s sent to the router\n", sent, sent == 1 ? "" : "s");
}

/* ---- runtimes ------------------------------------------------------------------------------- */

/* /proc/PID/stat's start time (field 22), 0 when there is no such process. */
static uint64_t proc_start(int pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t k = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
	if (fd >= 0)
		close(fd);
	if (k <= 0)
		return 0;
	buf[k] = 0;
	char *p = strrchr(buf, ')'); /* the name before it may hold anything */
	for (int field = 2; p && field < 22; field++)
		p = strchr(p + 1, ' ');
	return p ? strtoull(p + 1, NULL, 10) : 0;
}

static void on_exit_ev(evutil_socket_t fd, short what, void *arg);
static void on_out(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static void watch(struct node_app *a)
{
	struct node *n = a->node;
	a->exit_ev = event_new(n->base, a->pidfd, EV_READ, on_exit_ev, a);
	if (a->exit_ev)
		event_add(a->exit_ev, NULL);
}

static void close_out(struct node_app *a)
{
	if (a->out_ev)
		event_free(a->out_ev);
	if (a->out >= 0)
		close(a->out);
	a->out_ev = NULL;
	a->out = -1;
}

static void timer_in(struct node_app *a, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(a->timer, &tv);
}

/* The runtime's log, kept under NODE_RUNTIME_LOG_MAX: past it, its bytes go to runtime.log.1
 * (replacing the one before) and it starts again empty. The runtime writes on with O_APPEND;
 * what it writes between the copy and the truncation is lost, and the log's record numbers
 * tell its owner so. */
static void cap_log(const struct node_app *a)
{
	char p[PATH_MAX], old[PATH_MAX + 8];
	struct stat st;
	if (app_path(a->node, a->rec.name, NODE_RUNTIME_LOG, p) < 0 || stat(p, &st) < 0 ||
	    (uint64_t)st.st_size <= NODE_RUNTIME_LOG_MAX)
		return;
	snprintf(old, sizeof(old), "%s.1.tmp", p);
	int in = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW),
	    out = open(old, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	ssize_t k = 1;
	while (in >= 0 && out >= 0 && k > 0)
		k = copy_file_range(in, NULL, out, NULL, 1 << 20, 0);
	if (in >= 0 && out >= 0 && k == 0) {
		char done[PATH_MAX + 8];
		snprintf(done, sizeof(done), "%s.1", p);
		if (rename(old, done) == 0 && truncate(p, 0) < 0)
			fprintf(stderr, "cloakd: '%s' not truncated: %s\n", p, strerror(errno));
	} else {
		unlink(old);
	}
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
}

static int open_log(const struct node_app *a)
{
	char p[PATH_MAX];
	if (app_path(a->node, a->rec.name, NODE_RUNTIME_LOG, p) < 0)
		return -1;
	cap_log(a);
	return open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
}

static void child_exec(const struct node_app *a, int out, int log)
{
	const struct node *n = a->node;
	char pkg[PATH_MAX], man[PATH_MAX], pki[PATH_MAX];
	struct ck_err e;
	sigset_t none;
	setsid(); /* its own session: the node's terminal and signals are not its */
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(log, 2) < 0)
		_exit(127);
	close_range(3, ~0U, 0);
	if (app_path(n, a->rec.name, NODE_PACKAGE_FILE, pkg) < 0 ||
	    app_path(n, a->rec.name, NODE_MANIFEST_FILE, man) < 0 ||
	    ck_node_path(&n->dir, CK_NODE_SIM_PKI, pki, &e) < 0)
		_exit(127);
	const char *argv[16] = {n->runtime, "--package", pkg,	       "--manifest",
				man,	    "--listen",	 "127.0.0.1:0"};
	int k = 7;
	if (n->o->sim) {
		argv[k++] = "--backend";
		argv[k++] = "sim";
		argv[k++] = "--sim-pki";
		argv[k++] = pki;
	} else {
		argv[k++] = "--backend";
		argv[k++] = "sgx";
	}
	if (*n->collateral_dir) {
		argv[k++] = "--collateral";
		argv[k++] = n->collateral_dir;
	}
	argv[k] = NULL;
	execv(n->runtime, (char *const *)argv);
	fprintf(stderr, "cloakd: cannot run '%s': %s\n", n->runtime, strerror(errno));
	_exit(127);
}

/* Starts the app's runtime; its port comes with its 'listening on' line. */
static int spawn(struct node_app *a)
{
	int out[2], log = open_log(a);
	if (log < 0 || pipe2(out, O_CLOEXEC) < 0) {
		if (log >= 0)
			close(log);
		set_state(a, CK_APP_FAILED, "cannot start its runtime: %s", strerror(errno));
		return -1;
	}
	pid_t pid = fork();
	if (pid == 0)
		child_exec(a, out[1], log);
	close(out[1]);
	close(log);
	if (pid < 0 || (a->pidfd = pidfd_open(pid, 0)) < 0) {
		int why = errno;
		close(out[0]);
		if (pid > 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		set_state(a, CK_APP_FAILED, "cannot start its runtime: %s", strerror(why));
		return -1;
	}
	a->ours = true;
	a->rec.pid = pid;
	a->rec.proc_start = proc_start(pid);
	a->rec.port = 0;
	a->rec.started = ck_time_now();
	a->up_since_ms = now_ms();
	a->out = out[0];
	a->line_len = 0;
	a->out_ev = event_new(a->node->base, a->out, EV_READ | EV_PERSIST, on_out, a);
	if (a->out_ev)
		event_add(a->out_ev, NULL);
	watch(a);
	timer_in(a, NODE_LISTEN_WAIT_MS);
	save(a);
	return 0;
}

/* The runtime's standard output, until it says where it listens. */
static void on_out(evutil_socket_t fd, short what, void *arg)
{
	struct node_app *a = arg;
	(void)what;
	ssize_t k = read(fd, a->line + a->line_len, sizeof(a->line) - 1 - a->line_len);
	if (k < 0 && errno == EAGAIN)
		return;
	if (k <= 0) {
		close_out(a); /* its death is on its way: on_exit_ev says why */
		return;
	}
	a->line_len += (size_t)k;
	a->line[a->line_len] = 0;
	char *nl = strchr(a->line, '\n');
	unsigned port;
	if (!nl && a->line_len < sizeof(a->line) - 1)
		return;
	close_out(a);
	if (!nl || sscanf(a->line, "listening on 127.0.0.1:%u ", &port) != 1 || !port ||
	    port > 65535) {
		fprintf(stderr, "cloakd: '%s': its runtime said '%.64s', not where it listens\n",
			a->rec.name, a->line);
		pidfd_send_signal(a->pidfd, SIGKILL, NULL, 0);
		return;
	}
	evtimer_del(a->timer);
	a->rec.port = (uint16_t)port;
	a->boot_failures = 0;
	if (a->rec.state == CK_APP_STARTING)
		set_state(a, CK_APP_AWAITING, "%s", "");
	else
		save(a);
	route(a->node, a, true);
}

static void describe(int st, bool ours, char *buf, size_t cap)
{
	if (!ours)
		snprintf(buf, cap, "its runtime exited");
	else if (WIFSIGNALED(st))
		snprintf(buf, cap, "its runtime was killed by signal %d", WTERMSIG(st));
	else
		snprintf(buf, cap, "its runtime exited with status %d", WEXITSTATUS(st));
}

/* The last line of the runtime's log, for a reason (public: the runtime's own lines). */
static void last_log_line(const struct node_app *a, char *buf, size_t cap)
{
	char p[PATH_MAX], b[512];
	*buf = 0;
	int fd = app_path(a->node, a->rec.name, NODE_RUNTIME_LOG, p) < 0
		     ? -1
		     : open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return;
	}
	off_t from = st.st_size > (off_t)sizeof(b) - 1 ? st.st_size - (off_t)sizeof(b) + 1 : 0;
	ssize_t k = pread(fd, b, sizeof(b) - 1, from);
	close(fd);
	if (k <= 0)
		return;
	b[k] = 0;
	while (k > 0 && b[k - 1] == '\n')
		b[--k] = 0;
	const char *l = strrchr(b, '\n');
	l = l ? l + 1 : b;
	size_t n = strlen(l) < cap ? strlen(l) : cap - 1;
	memcpy(buf, l, n);
	buf[n] = 0;
}

static void finish_removal(struct node_app *a);

static void on_exit_ev(evutil_socket_t fd, short what, void *arg)
{
	struct node_app *a = arg;
	char why[96], last[160];
	int st = 0;
	(void)fd;
	(void)what;
	if (a->ours)
		waitpid(a->rec.pid, &st, 0);
	describe(st, a->ours, why, sizeof(why));
	event_free(a->exit_ev);
	a->exit_ev = NULL;
	close(a->pidfd);
	a->pidfd = -1;
	close_out(a);
	evtimer_del(a->timer);
	bool listened = a->rec.port != 0;
	if (listened)
		route(a->node, a, false);
	a->rec.pid = 0;
	a->rec.proc_start = 0;
	a->rec.port = 0;
	if (a->stopping) {
		a->stopping = false;
		if (a->removing) {
			finish_removal(a);
			return;
		}
		set_state(a, CK_APP_STOPPED, "stopped by its owner");
		node_app_done(a->node, a->pending_id, a, false);
		a->pending_id = 0;
		return;
	}
	if (!listened && ++a->boot_failures >= NODE_BOOT_FAILURES) {
		last_log_line(a, last, sizeof(last));
		set_state(a, CK_APP_FAILED, "%s before listening, %u times in a row: %s", why,
			  a->boot_failures, last);
		return;
	}
	if (now_ms() - a->up_since_ms > NODE_STABLE_MS)
		a->backoff_ms = NODE_BACKOFF_MIN_MS;
	a->rec.restarts++;
	set_state(a, CK_APP_AWAITING, "%s; started again, it awaits provisioning", why);
	timer_in(a, a->backoff_ms);
	a->backoff_ms =
	    a->backoff_ms * 2 > NODE_BACKOFF_MAX_MS ? NODE_BACKOFF_MAX_MS : a->backoff_ms * 2;
}

/* The backoff over (start again), or a wait that ran out (kill). */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct node_app *a = arg;
	(void)fd;
	(void)what;
	if (a->pidfd >= 0) {
		if (!a->stopping)
			fprintf(stderr,
				"cloakd: '%s': its runtime did not say where it listens "
				"in time: killed\n",
				a->rec.name);
		pidfd_send_signal(a->pidfd, SIGKILL, NULL, 0);
		return;
	}
	if (a->rec.state == CK_APP_AWAITING || a->rec.state == CK_APP_STARTING)
		spawn(a);
}

/* ---- the apps ------------------------------------------------------------------------------- */

static struct node_app *app_new(struct node *n, const struct ck_app_rec *rec)
{
	struct node_app *a = calloc(1, sizeof(*a));
	struct node_app **l = a ? realloc(n->apps, (n->napps + 1) * sizeof(*l)) : NULL;
	if (!l) {
		free(a);
		return NULL;
	}
	n->apps = l;
	a->rec = *rec;
	a->node = n;
	a->pidfd = a->out = -1;
	a->backoff_ms = NODE_BACKOFF_MIN_MS;
	a->timer = evtimer_new(n->base, on_timer, a);
	if (!a->timer) {
		free(a);
		return NULL;
	}
	n->apps[n->napps++] = a;
	return a;
}

static void app_free(struct node_app *a)
{
	struct node *n = a->node;
	for (size_t i = 0; i < n->napps; i++)
		if (n->apps[i] == a) {
			n->apps[i] = n->apps[--n->napps];
			break;
		}
	close_out(a);
	if (a->exit_ev)
		event_free(a->exit_ev);
	if (a->pidfd >= 0)
		close(a->pidfd);
	event_free(a->timer);
	free(a);
}

struct node_app *node_app_find(struct node *n, const char *name)
{
	for (size_t i = 0; i < n->napps; i++)
		if (!strcmp(n->apps[i]->rec.name, name))
			return n->apps[i];
	return NULL;
}

/* A runtime left by the cloakd before: adopted if it is the same process, else started anew. */
static void adopt(struct node_app *a)
{
	enum ck_app_state st = a->rec.state;
	if (st != CK_APP_STARTING && st != CK_APP_AWAITING && st != CK_APP_RUNNING)
		return;
	if (a->rec.pid > 0 && a->rec.port && a->rec.proc_start &&
	    proc_start(a->rec.pid) == a->rec.proc_start &&
	    (a->pidfd = pidfd_open(a->rec.pid, 0)) >= 0 &&
	    proc_start(a->rec.pid) == a->rec.proc_start) {
		a->ours = false;
		a->up_since_ms = now_ms();
		watch(a);
		fprintf(stderr, "cloakd: '%s': its runtime (pid %d, port %u) re-adopted, %s\n",
			a->rec.name, a->rec.pid, a->rec.port, ck_app_state_name(st));
		return;
	}
	if (a->pidfd >= 0) {
		close(a->pidfd);
		a->pidfd = -1;
	}
	a->rec.pid = 0;
	a->rec.port = 0;
	a->rec.restarts++;
	set_state(a, CK_APP_AWAITING,
		  "its runtime was gone when cloakd started; started again, it awaits "
		  "provisioning");
	spawn(a);
}

/* What DIR/apps holds that the store does not know: a deploy or a removal cut short. */
static void sweep(struct node *n)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", n->dir.path, CK_NODE_APPS) >= (int)sizeof(p))
		return;
	DIR *d = opendir(p);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    node_app_find(n, de->d_name))
			continue;
		char q[PATH_MAX];
		if (app_path(n, de->d_name, NULL, q) == 0) {
			fprintf(stderr, "cloakd: removing '%s', which no app owns\n", q);
			ck_fs_remove_tree(q);
		}
	}
	if (d)
		closedir(d);
}

int node_apps_load(struct node *n, struct ck_err *e)
{
	struct ck_app_rec *l;
	size_t k;
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s/%s", n->dir.path, CK_NODE_APPS) >= (int)sizeof(p))
		return ck_errf(e, CK_E_USAGE, "'%s' is too long a path", n->dir.path);
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return ck_errf(e, CK_E_IO, "cannot make '%s': %s", p, strerror(errno));
	if (ck_store_app_list(n->store, &l, &k, e) < 0)
		return -1;
	for (size_t i = 0; i < k; i++)
		if (!app_new(n, &l[i])) {
			free(l);
			return ck_errf(e, CK_E_NOMEM, "out of memory");
		}
	free(l);
	sweep(n);
	for (size_t i = 0; i < n->napps; i++)
		adopt(n->apps[i]);
	return 0;
}

void node_apps_free(struct node *n)
{
	while (n->napps)
		app_free(n->apps[0]); /* the runtimes live on: the next cloakd re-adopts them */
	free(n->apps);
	n->apps = NULL;
	SSL_CTX_free(n->status_ctx);
	n->status_ctx = NULL;
}

/* ---- deploy ------------------------------------------------------------------------------- */

#define REFUSE(st, ...) (*status = (st), ck_errf(e, __VA_ARGS__), (struct node_app *)NULL)

/* SHA-256 of len bytes of fd from off. */
static int hash_range(int fd, uint64_t off, uint64_t len, uint8_t h[32])
{
	uint8_t b[64 * 1024];
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	int ok = c && EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	while (ok && len) {
		ssize_t k = pread(fd, b, len < sizeof(b) ? len : sizeof(b), (off_t)off);
		ok = k > 0 && EVP_DigestUpdate(c, b, (size_t)k);
		off += (uint64_t)(k > 0 ? k : 0);
		len -= (uint64_t)(k > 0 ? k : 0);
	}
	ok = ok && EVP_DigestFinal_ex(c, h, NULL);
	EVP_MD_CTX_free(c);
	return ok ? 0 : -1;
}

/* The package bytes of the upload into DIR/apps/.new-XXXXXX/package.cpk. */
static int copy_package(int fd, uint64_t off, uint64_t len, const char *path)
{
	int out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	loff_t in_off = (loff_t)off;
	while (out >= 0 && len) {
		ssize_t k = copy_file_range(fd, &in_off, out, NULL, len, 0);
		if (k <= 0)
			break;
		len -= (uint64_t)k;
	}
	int ok = out >= 0 && !len && fsync(out) == 0;
	if (out >= 0)
		close(out);
	return ok ? 0 : -1;
}

struct place {
	const char *from, *to;
};

static int put_in_place(void *arg, struct ck_err *e)
{
	const struct place *p = arg;
	if (rename(p->from, p->to) < 0)
		return ck_errf(e, CK_E_IO, "cannot move '%s' to '%s': %s", p->from, p->to,
			       strerror(errno));
	return 0;
}

/* The upload's manifest, checked. */
static int read_manifest(int fd, uint64_t len, struct ck_manifest *m, char **text, uint32_t *mlen,
			 int *status, struct ck_err *e)
{
	uint8_t b4[4], h[32];
	*text = NULL;
	if (len < 5 || pread(fd, b4, 4, 0) != 4)
		return *status = 400, ck_errf(e, CK_E_HTTP_SYNTAX, "a deploy is cut short");
	*mlen = ck_le32(b4);
	if (*mlen == 0 || *mlen > CK_MANIFEST_MAX_LEN || (uint64_t)*mlen + 4 >= len)
		return *status = 400,
		       ck_errf(e, CK_E_HTTP_SYNTAX,
			       "a deploy's manifest length %u does not fit its %llu bytes "
			       "(at most %d, and a package after it)",
			       *mlen, (unsigned long long)len, CK_MANIFEST_MAX_LEN);
	*text = malloc(*mlen + 1);
	if (!*text || pread(fd, *text, *mlen, 4) != (ssize_t)*mlen)
		return *status = 500, ck_errf(e, CK_E_IO, "cannot read the upload");
	(*text)[*mlen] = 0;
	if (ck_manifest_parse(*text, *mlen, m, h, e) < 0)
		return *status = 422, ck_err_wrap(e, "the manifest");
	return 0;
}

/* Checks the upload and makes its files in a staging directory. */
static struct node_app *stage(struct node *n, int fd, uint64_t len, const char *owner,
			      const struct ck_manifest *m, const char *text, uint32_t mlen,
			      char staging[PATH_MAX], int *status, struct ck_err *e)
{
	uint8_t h[32];
	char got[65], want[65], p[PATH_MAX];
	if (node_app_find(n, m->name))
		return REFUSE(409, CK_E_CONFLICT, "an app called '%s' is already deployed",
			      m->name);
	if (n->napps >= n->lim.max_apps)
		return REFUSE(403, CK_E_LIMIT,
			      "the node holds %u apps, its most: '%s' is not added",
			      n->lim.max_apps, m->name);
	if (m->mode == CK_MODE_OPERATOR_TLS && !n->o->op_cert)
		return REFUSE(422, CK_E_USAGE,
			      "'%s' is an untrusted-ssl app: this node has no --operator-cert to "
			      "serve it with",
			      m->name);
	if (hash_range(fd, 4 + (uint64_t)mlen, len - 4 - mlen, h) < 0)
		return REFUSE(500, CK_E_IO, "cannot read the upload");
	if (CRYPTO_memcmp(h, m->package_sha256, 32)) {
		ck_hex_encode(h, 32, got);
		ck_hex_encode(m->package_sha256, 32, want);
		return REFUSE(422, CK_E_PKG_FORMAT,
			      "the package has SHA-256 %s, the manifest says %s", got, want);
	}
	if (app_path(n, ".new-XXXXXX", NULL, staging) < 0 || !mkdtemp(staging))
		return REFUSE(500, CK_E_IO, "cannot make a directory for '%s': %s", m->name,
			      strerror(errno));
	snprintf(p, sizeof(p), "%s/%s", staging, NODE_PACKAGE_FILE);
	if (copy_package(fd, 4 + (uint64_t)mlen, len - 4 - mlen, p) < 0)
		return REFUSE(500, CK_E_IO, "cannot write '%s': %s", p, strerror(errno));
	snprintf(p, sizeof(p), "%s/%s", staging, NODE_MANIFEST_FILE);
	if (ck_write_file(p, text, mlen, 0600, e) < 0)
		return *status = 500, (struct node_app *)NULL;
	struct ck_app_rec rec = {.state = CK_APP_STARTING, .created = ck_time_now()};
	snprintf(rec.name, sizeof(rec.name), "%s", m->name);
	snprintf(rec.owner, sizeof(rec.owner), "%s", owner);
	snprintf(rec.mode, sizeof(rec.mode), "%s", ck_mode_name(m->mode));
	memcpy(rec.package_sha256, m->package_sha256, 32);
	char dest[PATH_MAX];
	struct place pl = {staging, dest};
	if (app_path(n, m->name, NULL, dest) < 0)
		return REFUSE(500, CK_E_USAGE, "'%s' is too long a path", n->dir.path);
	if (ck_store_app_add(n->store, &rec, text, mlen, put_in_place, &pl, e) < 0) {
		*status = !strcmp(e->code, CK_E_CONFLICT) ? 409
			  : !strcmp(e->code, CK_E_LIMIT)  ? 403
							  : 500;
		if (access(staging, F_OK) != 0) /* moved, then the commit failed */
			ck_fs_remove_tree(dest);
		return NULL;
	}
	*staging = 0;
	struct node_app *a = app_new(n, &rec);
	if (!a)
		return REFUSE(500, CK_E_NOMEM, "out of memory (the app is in the store: restart)");
	return a;
}

struct node_app *node_app_create(struct node *n, int fd, uint64_t len, const char *owner,
				 int *status, struct ck_err *e)
{
	struct ck_manifest m;
	char *text, staging[PATH_MAX] = "";
	uint32_t mlen = 0;
	struct node_app *a = NULL;
	memset(&m, 0, sizeof(m));
	if (read_manifest(fd, len, &m, &text, &mlen, status, e) == 0)
		a = stage(n, fd, len, owner, &m, text, mlen, staging, status, e);
	if (*staging)
		ck_fs_remove_tree(staging);
	ck_manifest_free(&m);
	free(text);
	if (a) {
		fprintf(stderr, "cloakd: '%s' deployed by '%s' (%s)\n", a->rec.name, owner,
			a->rec.mode);
		spawn(a);
	}
	return a;
}

/* ---- stop, remove, logs, status ------------------------------------------------------------ */

struct removal {
	struct node *n;
	const char *name;
	char gone[PATH_MAX];
};

static int move_away(void *arg, struct ck_err *e)
{
	struct removal *r = arg;
	char dir[PATH_MAX];
	if (app_path(r->n, r->name, NULL, dir) < 0 ||
	    app_path(r->n, ".del-XXXXXX", NULL, r->gone) < 0 || !mkdtemp(r->gone))
		return ck_errf(e, CK_E_IO, "cannot remove the files of '%s'", r->name);
	char to[PATH_MAX + 8];
	snprintf(to, sizeof(to), "%s/app", r->gone);
	if (rename(dir, to) < 0 && errno != ENOENT) {
		rmdir(r->gone);
		return ck_errf(e, CK_E_IO, "cannot remove '%s': %s", dir, strerror(errno));
	}
	return 0;
}

/* The record and the files of an app whose runtime is gone. */
static void finish_removal(struct node_app *a)
{
	struct node *n = a->node;
	struct removal r = {n, a->rec.name, ""};
	struct ck_err e;
	uint32_t id = a->pending_id;
	if (ck_store_app_delete(n->store, a->rec.name, move_away, &r, &e) < 0) {
		fprintf(stderr, "cloakd: '%s' not removed: %s\n", a->rec.name, e.msg);
		a->removing = false;
		set_state(a, CK_APP_STOPPED, "stopped; its removal failed: %s", e.msg);
		node_app_done(n, id, a, false);
		return;
	}
	ck_fs_remove_tree(r.gone);
	fprintf(stderr, "cloakd: '%s' removed\n", a->rec.name);
	node_app_done(n, id, a, true);
	app_free(a);
}

int node_app_stop(struct node_app *a, bool remove, uint32_t id, struct ck_err *e)
{
	if (a->stopping)
		return ck_errf(e, CK_E_CONFLICT, "'%s' is being stopped already", a->rec.name);
	evtimer_del(a->timer);
	a->pending_id = id;
	if (a->pidfd < 0) { /* no runtime now (stopped, failed, or waiting to start again) */
		if (remove) {
			finish_removal(a);
			return 0;
		}
		if (a->rec.state != CK_APP_STOPPED)
			set_state(a, CK_APP_STOPPED, "stopped by its owner");
		node_app_done(a->node, id, a, false);
		a->pending_id = 0;
		return 0;
	}
	a->stopping = true;
	a->removing = remove;
	pidfd_send_signal(a->pidfd, SIGTERM, NULL, 0);
	timer_in(a, NODE_STOP_GRACE_MS); /* then on_timer kills it */
	return 0;
}

int node_app_log(struct node_app *a, struct ck_err *e)
{
	char p[PATH_MAX];
	if (app_path(a->node, a->rec.name, NODE_RUNTIME_LOG, p) < 0)
		return ck_errf(e, CK_E_USAGE, "'%s' is too long a path", a->node->dir.path);
	int fd = open(p, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return ck_errf(e, CK_E_IO, "no log for '%s' yet", a->rec.name);
	return fd;
}

/* Where a runtime that is not serving yet stands (its status endpoint: public data). */
static void poll_one(struct node_app *a, SSL_CTX *ctx)
{
	struct ck_target t = {.host = "127.0.0.1", .port = a->rec.port, .tls = true};
	struct ck_client c = {0};
	struct ck_client_resp r = {0};
	struct ck_err e;
	if (ck_client_open(&c, &t, ctx, NODE_STATUS_WAIT_MS, &e) < 0)
		return;
	if (ck_client_request(&c, "GET", "/.well-known/cloak/status", NULL, NULL, 0, 64 * 1024, &r,
			      &e) == 0 &&
	    r.status == 200) {
		json_t *j = json_loadb(r.body, r.len, 0, NULL);
		const char *st = json_string_value(json_object_get(j, "state"));
		const char *why = json_string_value(json_object_get(j, "error"));
		if (st && !strcmp(st, "serving"))
			set_state(a, CK_APP_RUNNING, "%s", "");
		else if (st && !strcmp(st, "failed"))
			set_state(a, CK_APP_FAILED, "its runtime refuses to serve: %.200s",
				  why ? why : "(no reason given)");
		json_decref(j);
	}
	ck_client_resp_free(&r);
	ck_client_close(&c);
}

void node_apps_poll(struct node *n)
{
	SSL_CTX *ctx = n->status_ctx; /* checks nothing: what it reads decides no trust */
	if (!ctx && (ctx = n->status_ctx = SSL_CTX_new(TLS_client_method())))
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	for (size_t i = 0; ctx && i < n->napps; i++) {
		struct node_app *a = n->apps[i];
		cap_log(a);
		if (a->rec.port && a->pidfd >= 0 && !a->stopping &&
		    (a->rec.state == CK_APP_AWAITING || a->rec.state == CK_APP_STARTING))
			poll_one(a, ctx);
	}
}
