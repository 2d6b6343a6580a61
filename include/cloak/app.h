/* SPDX-License-Identifier: Apache-2.0 */
/*
 * app.h - the app process inside the enclave: start it, know when it is healthy, restart it
 * with backoff when it dies, stop it. Loop-agnostic: ck_app_poll() never blocks, so the
 * runtime's event loop drives it from a timer; ck_app_health() is one bounded probe.
 *
 * The app gets a clean environment: PATH, HOME (its directory), PORT (TCP on 127.0.0.1) or
 * CLOAK_APP_SOCKET (a UNIX socket, the only choice under SGX), CLOAK_DATA_DIR, and the
 * provisioned secrets. Nothing of the runtime's own environment leaks in, and no descriptor
 * but 0, 1 and 2 (not the runtime's sockets, whatever flags they were opened with).
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
	uint16_t port;		 /* TCP port on 127.0.0.1, or 0 to use... */
	const char *socket_path; /* ...a UNIX socket */
	const char *data_dir;
	const struct ck_secret *secrets;
	size_t n_secrets;
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

/* Starts the app now. Fails (nothing left running) if the program cannot be executed. */
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

uint64_t ck_now_ms(void);

#endif
