/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app.h - the app process inside the enclave: start it, know when it is healthy, restart it
 * with backoff when it dies, stop it. Loop-agnostic: ck_app_poll() never blocks, so the
 * runtime's event loop drives it from a timer; ck_app_health() is one bounded probe.
 *
 * The app is reached only through a listening socket its supervisor made and holds for as long
 * as the app is served, across restarts (ck_app_listen): TCP on 127.0.0.1 or a UNIX socket.
 * The app receives it as descriptor 3 with LISTEN_FDS=1, LISTEN_PID and LISTEN_FDNAMES=app
 * (the sd_listen_fds convention) and must serve on it: it cannot bind the address itself, and
 * neither can anything else, so no other process can take the app's place while it restarts
 * and receive its decrypted requests (a port number alone would be free for anyone to bind).
 *
 * The app gets a clean environment: PATH, HOME (its directory), PORT or CLOAK_APP_SOCKET (what
 * descriptor 3 is bound to, for information), CLOAK_DATA_DIR, the LISTEN_* variables and the
 * provisioned secrets. Nothing of the runtime's own environment leaks in, and no descriptor
 * but 0, 1, 2 and 3 (not the runtime's sockets, whatever flags they were opened with).
 *
 * `run` is split like a shell would for plain words and quotes ('…', "…" with \" and \\),
 * with no expansion, globbing or redirection: a program and its arguments.
 */
#ifndef CLOAK_APP_H
#define CLOAK_APP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloak/err.h"
#include "cloak/provision.h"

#define CK_APP_MAX_ARGS	       64
#define CK_APP_BACKOFF_MIN_MS  250
#define CK_APP_BACKOFF_MAX_MS  30000
#define CK_APP_STABLE_MS       60000 /* running this long resets the backoff */
#define CK_APP_HEALTH_MAX_RESP 4096

struct ck_app_spec {
	const char *dir;	 /* working directory: the unpacked code */
	const char *run;	 /* the command line from the manifest */
	const char *health;	 /* health path, e.g. "/healthz" */
	uint16_t port;		 /* TCP port on 127.0.0.1 (ck_app_listen: 0 picks one), or... */
	const char *socket_path; /* ...a UNIX socket (then port is not used) */
	int listen_fd;		 /* the held listening socket (ck_app_listen); 0..2: none */
	const char *data_dir;
	const struct ck_secret *secrets;
	size_t n_secrets;
	int output_fd; /* > 2: the app's standard output and error go here (0: the caller's) */
};

struct ck_app {
	pid_t pid; /* 0 when not running */
	unsigned restarts;
	unsigned backoff_ms; /* wait before the next start */
	uint64_t started_ms, next_start_ms;
	int last_status; /* wait status of the last exit */
};

/* Splits `run` into a NULL-terminated argv (one malloc'ed block; free(*argv)). */
int ck_app_split(const char *run, char ***argv, struct ck_err *err);

/* Makes the app's listening socket, close-on-exec, into s->listen_fd: a UNIX socket at
 * s->socket_path (a stale file there is replaced; mode 0600), else TCP on 127.0.0.1:s->port
 * (0: a free port, written back to s->port). Held until ck_app_unlisten. */
int ck_app_listen(struct ck_app_spec *s, struct ck_err *err);
/* Closes the listening socket (and removes a UNIX socket's file); safe to call twice. */
void ck_app_unlisten(struct ck_app_spec *s);

/* Starts the app now, with s->listen_fd as its descriptor 3 (refused without one). Fails
 * (nothing left running) if the program cannot be executed. */
int ck_app_start(struct ck_app *a, const struct ck_app_spec *s, uint64_t now_ms,
		 struct ck_err *err);
/* Non-blocking: reaps the app if it has exited. Returns true while it runs; after an exit it
 * sets last_status and next_start_ms (backoff doubling from 250 ms to 30 s, reset after 60 s
 * of healthy running). */
bool ck_app_poll(struct ck_app *a, uint64_t now_ms);
/* true when an exited app is due to be started again. */
bool ck_app_due(const struct ck_app *a, uint64_t now_ms);
/* SIGTERM to the app's process group, SIGKILL after grace_ms; waits for it. */
void ck_app_stop(struct ck_app *a, int grace_ms);
/* One GET of the health path; 0 when it answers 2xx within timeout_ms (blocks that long). */
int ck_app_health(const struct ck_app_spec *s, int timeout_ms, struct ck_err *err);

/* The same probe for an event loop: begin connects (loopback or a UNIX socket: at once) and
 * sends the request; then call step whenever h.fd is readable: 1 healthy, 0 not answered
 * yet, -1 failed (the error says why). After 1 or -1, or to give up, the fd is closed
 * (ck_health_end, safe to call twice). */
struct ck_health {
	int fd; /* -1 when no probe is in flight */
	const char *path;
	size_t have;
	char resp[CK_APP_HEALTH_MAX_RESP];
};
int ck_health_begin(struct ck_health *h, const struct ck_app_spec *s, struct ck_err *err);
int ck_health_step(struct ck_health *h, struct ck_err *err);
void ck_health_end(struct ck_health *h);

/* Milliseconds of the monotonic clock (for timeouts and backoff, never for dates). */
uint64_t ck_now_ms(void);

#endif
