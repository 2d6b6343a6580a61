/* SPDX-License-Identifier: Apache-2.0 */
/* The app process (see app.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "cloak/app.h"
#include "cloak/http.h"

uint64_t ck_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int ck_app_split(const char *run, char ***argv_out, struct ck_err *err)
{
	size_t n = strlen(run);
	/* one block: pointer array, then the words */
	char **argv = malloc(sizeof(char *) * (CK_APP_MAX_ARGS + 1) + n + 1);
	if (!argv)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	char *w = (char *)(argv + CK_APP_MAX_ARGS + 1);
	size_t argc = 0, i = 0;
	while (i < n) {
		while (i < n && (run[i] == ' ' || run[i] == '\t'))
			i++;
		if (i == n)
			break;
		if (argc == CK_APP_MAX_ARGS) {
			free(argv);
			return ck_errf(err, CK_E_USAGE, "run: more than %d arguments",
				       CK_APP_MAX_ARGS);
		}
		argv[argc++] = w;
		while (i < n && run[i] != ' ' && run[i] != '\t') {
			char c = run[i++];
			if (c == '\'') {
				while (i < n && run[i] != '\'')
					*w++ = run[i++];
				if (i++ == n)
					goto unterminated;
			} else if (c == '"') {
				while (i < n && run[i] != '"') {
					if (run[i] == '\\' && i + 1 < n &&
					    (run[i + 1] == '"' || run[i + 1] == '\\'))
						i++;
					*w++ = run[i++];
				}
				if (i++ == n)
					goto unterminated;
			} else if (c == '\\' && i < n) {
				*w++ = run[i++];
			} else {
				*w++ = c;
			}
		}
		*w++ = 0;
	}
	if (argc == 0) {
		free(argv);
		return ck_errf(err, CK_E_USAGE, "run: empty command line");
	}
	argv[argc] = NULL;
	*argv_out = argv;
	return 0;
unterminated:
	free(argv);
	return ck_errf(err, CK_E_USAGE, "run: unterminated quote in '%.80s'", run);
}

#define ENV_MAX	      (CK_PROVISION_MAX_SECRETS + 12)
#define APP_LISTEN_FD 3 /* SD_LISTEN_FDS_START */
#define APP_BACKLOG   511

int ck_app_listen(struct ck_app_spec *s, struct ck_err *err)
{
	struct sockaddr_storage ss = {0};
	socklen_t len;
	int fd;
	if (s->socket_path) {
		struct sockaddr_un *su = (struct sockaddr_un *)&ss;
		if (strlen(s->socket_path) >= sizeof(su->sun_path))
			return ck_errf(err, CK_E_USAGE, "the app's socket path '%s' is too long",
				       s->socket_path);
		su->sun_family = AF_UNIX;
		strcpy(su->sun_path, s->socket_path);
		len = sizeof(*su);
		(void)unlink(s->socket_path); /* a previous run's */
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons(s->port);
		len = sizeof(*in);
	}
	/* no SO_REUSEADDR/SO_REUSEPORT: nothing may bind the address beside us */
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) < 0 ||
	    (s->socket_path && chmod(s->socket_path, 0600) < 0) || listen(fd, APP_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		if (s->socket_path)
			return ck_errf(err, CK_E_IO, "cannot listen on the app's socket '%s': %s",
				       s->socket_path, strerror(e));
		return ck_errf(err, CK_E_IO, "cannot listen on 127.0.0.1:%u for the app: %s",
			       s->port, strerror(e));
	}
	if (!s->socket_path)
		s->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	s->listen_fd = fd;
	return 0;
}

void ck_app_unlisten(struct ck_app_spec *s)
{
	if (s->listen_fd <= 2)
		return;
	close(s->listen_fd);
	s->listen_fd = -1;
	if (s->socket_path)
		(void)unlink(s->socket_path);
}

/* In the child before exec: nothing of the runtime's own (its listening socket, client
 * connections, keys in files) is inherited by the app, whatever flags they were opened with.
 * Only 0, 1, 2 and the close-on-exec status pipe remain until exec. */
static void close_inherited(void)
{
#ifdef CLOSE_RANGE_CLOEXEC
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
#endif
	long max = sysconf(_SC_OPEN_MAX);
	for (int fd = 3; fd < (max > 0 && max < 65536 ? max : 65536); fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC); /* EBADF for the closed ones: harmless */
}

int ck_app_start(struct ck_app *a, const struct ck_app_spec *s, uint64_t now_ms, struct ck_err *err)
{
	char **argv, *envp[ENV_MAX + 1], port[32], home[4200], sock[4200], data[4200];
	char lpid[32] = "LISTEN_PID=", *sec[CK_PROVISION_MAX_SECRETS];
	size_t ne = 0, ns = 0;
	int ret = -1, pfd[2] = {-1, -1};
	if (s->listen_fd <= 2)
		return ck_errf(err, CK_E_USAGE, "the app has no listening socket (ck_app_listen)");
	if (ck_app_split(s->run, &argv, err) < 0)
		return -1;
	/* the environment, built before fork so the child only execs */
	envp[ne++] = "PATH=/usr/local/bin:/usr/bin:/bin";
	snprintf(home, sizeof(home), "HOME=%s", s->dir);
	envp[ne++] = home;
	if (s->socket_path) {
		snprintf(sock, sizeof(sock), "CLOAK_APP_SOCKET=%s", s->socket_path);
		envp[ne++] = sock;
	} else {
		snprintf(port, sizeof(port), "PORT=%u", s->port);
		envp[ne++] = port;
	}
	if (s->data_dir) {
		snprintf(data, sizeof(data), "CLOAK_DATA_DIR=%s", s->data_dir);
		envp[ne++] = data;
	}
	envp[ne++] = "LISTEN_FDS=1";
	envp[ne++] = "LISTEN_FDNAMES=app";
	envp[ne++] = lpid; /* the pid is the child's: written after fork */
	for (size_t i = 0; i < s->n_secrets && ne < ENV_MAX; i++) {
		size_t l = strlen(s->secrets[i].name) + 1 + s->secrets[i].value_len + 1;
		if (!(sec[ns] = malloc(l))) {
			ck_errf(err, CK_E_NOMEM, "out of memory");
			goto out;
		}
		snprintf(sec[ns], l, "%s=%s", s->secrets[i].name, s->secrets[i].value);
		envp[ne++] = sec[ns++];
	}
	envp[ne] = NULL;
	/* a close-on-exec pipe tells us whether exec worked */
	if (pipe2(pfd, O_CLOEXEC) < 0) {
		ck_errf(err, CK_E_IO, "pipe: %s", strerror(errno));
		goto out;
	}
	pid_t pid = fork();
	if (pid < 0) {
		ck_errf(err, CK_E_IO, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		/* the child: its own process group (stopping it stops its children), then exec:
		 * a name with a '/' runs as given (relative to the app's directory), a bare name is
		 * looked up in PATH */
		static const char *const dirs[] = {"/usr/local/bin", "/usr/bin", "/bin"};
		char full[4200];
		int e = 0, st = pfd[1];
		setpgid(0, 0);
		close_inherited();
		snprintf(lpid, sizeof(lpid), "LISTEN_PID=%d", (int)getpid());
		if (st == APP_LISTEN_FD) /* the status pipe must not be where the socket goes */
			pfd[1] = st = fcntl(st, F_DUPFD_CLOEXEC, APP_LISTEN_FD + 1);
		if (s->listen_fd == APP_LISTEN_FD ? fcntl(APP_LISTEN_FD, F_SETFD, 0) < 0
						  : dup2(s->listen_fd, APP_LISTEN_FD) < 0) {
			e = errno;
			goto child_fail;
		}
		if (s->output_fd > 2 && (dup2(s->output_fd, 1) < 0 || dup2(s->output_fd, 2) < 0)) {
			e = errno;
			goto child_fail;
		}
		if (chdir(s->dir) < 0) {
			e = errno;
		} else if (strchr(argv[0], '/')) {
			execve(argv[0], argv, envp);
			e = errno;
		} else {
			for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
				snprintf(full, sizeof(full), "%s/%s", dirs[i], argv[0]);
				execve(full, argv, envp);
				if (errno != ENOENT || !e)
					e = errno;
			}
		}
	child_fail:;
		ssize_t wr = write(pfd[1], &e, sizeof(e));
		(void)wr;
		_exit(127);
	}
	close(pfd[1]);
	pfd[1] = -1;
	int child_err = 0;
	ssize_t r;
	do
		r = read(pfd[0], &child_err, sizeof(child_err));
	while (r < 0 && errno == EINTR);
	if (r == sizeof(child_err)) { /* exec failed */
		waitpid(pid, NULL, 0);
		ck_errf(err, CK_E_IO, "cannot start the app '%s' in '%s': %s", argv[0], s->dir,
			strerror(child_err));
		goto out;
	}
	a->pid = pid;
	a->started_ms = now_ms;
	if (!a->backoff_ms)
		a->backoff_ms = CK_APP_BACKOFF_MIN_MS;
	ret = 0;
out:
	for (size_t i = 0; i < ns; i++) {
		memset(sec[i], 0, strlen(sec[i]));
		free(sec[i]);
	}
	if (pfd[0] >= 0)
		close(pfd[0]);
	if (pfd[1] >= 0)
		close(pfd[1]);
	free(argv);
	return ret;
}

bool ck_app_poll(struct ck_app *a, uint64_t now_ms)
{
	int st;
	if (!a->pid)
		return false;
	pid_t r = waitpid(a->pid, &st, WNOHANG);
	if (r == 0 || (r < 0 && errno == EINTR))
		return true;
	a->pid = 0;
	a->last_status = r > 0 ? st : -1;
	a->restarts++;
	if (now_ms - a->started_ms >= CK_APP_STABLE_MS)
		a->backoff_ms = CK_APP_BACKOFF_MIN_MS; /* it had been fine: start again soon */
	a->next_start_ms = now_ms + a->backoff_ms;
	a->backoff_ms =
	    a->backoff_ms * 2 > CK_APP_BACKOFF_MAX_MS ? CK_APP_BACKOFF_MAX_MS : a->backoff_ms * 2;
	return false;
}

bool ck_app_due(const struct ck_app *a, uint64_t now_ms)
{
	return !a->pid && now_ms >= a->next_start_ms;
}

void ck_app_stop(struct ck_app *a, int grace_ms)
{
	if (!a->pid)
		return;
	kill(-a->pid, SIGTERM);
	uint64_t until = ck_now_ms() + (uint64_t)grace_ms;
	while (ck_now_ms() < until) {
		if (waitpid(a->pid, &a->last_status, WNOHANG) == a->pid) {
			a->pid = 0;
			return;
		}
		usleep(10000);
	}
	kill(-a->pid, SIGKILL);
	waitpid(a->pid, &a->last_status, 0);
	a->pid = 0;
}

static int connect_app(const struct ck_app_spec *s)
{
	int fd;
	if (s->socket_path) {
		struct sockaddr_un su = {.sun_family = AF_UNIX};
		if (strlen(s->socket_path) >= sizeof(su.sun_path))
			return -1;
		strcpy(su.sun_path, s->socket_path);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd >= 0 && connect(fd, (struct sockaddr *)&su, sizeof(su)) < 0) {
			close(fd);
			return -1;
		}
		return fd;
	}
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(s->port)};
	inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int ck_health_begin(struct ck_health *h, const struct ck_app_spec *s, struct ck_err *err)
{
	char req[512];
	h->have = 0;
	h->fd = connect_app(s); /* loopback or a UNIX socket: connected, or refused, at once */
	if (h->fd < 0)
		return ck_errf(err, CK_E_IO, "the app does not accept connections yet");
	int n =
	    snprintf(req, sizeof(req),
		     "GET %s HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", s->health);
	if (n < 0 || (size_t)n >= sizeof(req) || write(h->fd, req, (size_t)n) != n) {
		ck_health_end(h);
		return ck_errf(err, CK_E_IO, "cannot send the health request");
	}
	fcntl(h->fd, F_SETFL, fcntl(h->fd, F_GETFL) | O_NONBLOCK);
	h->path = s->health;
	return 0;
}

int ck_health_step(struct ck_health *h, struct ck_err *err)
{
	struct ck_http_head hd;
	long hl = 0;
	for (;;) {
		ssize_t r = read(h->fd, h->resp + h->have, sizeof(h->resp) - h->have);
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		if (r > 0)
			h->have += (size_t)r;
		if ((hl = ck_http_parse_response(h->resp, h->have, false, &hd, NULL)) != 0 ||
		    r == 0 || h->have == sizeof(h->resp))
			break;
	}
	ck_health_end(h);
	if (hl <= 0)
		return ck_errf(err, CK_E_HTTP,
			       "the app's health endpoint %s gave no valid response", h->path);
	if (hd.status < 200 || hd.status > 299)
		return ck_errf(err, CK_E_HTTP, "the app's health endpoint %s answered %d", h->path,
			       hd.status);
	return 1;
}

void ck_health_end(struct ck_health *h)
{
	if (h->fd >= 0)
		close(h->fd);
	h->fd = -1;
}

int ck_app_health(const struct ck_app_spec *s, int timeout_ms, struct ck_err *err)
{
	struct ck_health h;
	uint64_t until = ck_now_ms() + (uint64_t)timeout_ms;
	if (ck_health_begin(&h, s, err) < 0)
		return -1;
	for (;;) {
		int r = ck_health_step(&h, err);
		if (r != 0)
			return r > 0 ? 0 : -1;
		uint64_t now = ck_now_ms();
		struct pollfd pf = {.fd = h.fd, .events = POLLIN};
		if (now >= until || poll(&pf, 1, (int)(until - now)) == 0) {
			ck_health_end(&h);
			return ck_errf(err, CK_E_HTTP,
				       "the app's health endpoint %s did not answer "
				       "within %d ms",
				       s->health, timeout_ms);
		}
	}
}
