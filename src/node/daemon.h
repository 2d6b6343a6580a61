/* SPDX-License-Identifier: Apache-2.0 */
/*
 * daemon.h - cloakd run's processes and the parent's state (not a library interface):
 *   cmd_run.c      the invocation, the listeners, the processes, the parent's event loop
 *   router_proc.c  the router process: the public port (router.h), routes from the parent
 *   api_proc.c     the api process: the owner API's HTTPS, requests forwarded to the parent
 *   tls_proc.c     the tls process (with --operator-cert): TLS for untrusted-ssl apps' users
 *   handle.c       the parent's answers to the api's requests: who asks, what they may do
 *   apps.c         the parent's apps: their files, their runtimes (start, re-adopt, watch,
 *                  restart with backoff, stop), their state in the store
 *
 * Only the parent opens the data directory and the store. The router and api processes are
 * confined (confine.h) and hold their listener and their channel to the parent alone; the api
 * process also holds the API's TLS key, loaded before it confined itself. What they tell the
 * parent is checked like any input (imsg.h's codecs); a channel that carries anything malformed
 * is closed and the process started again.
 */
#ifndef CLOAK_NODE_DAEMON_H
#define CLOAK_NODE_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "cloak/imsg.h"
#include "cloak/store.h"
#include "node.h"

#define NODE_BACKOFF_MIN_MS	  250	/* a process or runtime that died: the first wait */
#define NODE_BACKOFF_MAX_MS	  30000 /* ...doubling to at most this */
#define NODE_STABLE_MS		  60000 /* up this long, the next death waits the least again */
#define NODE_BOOT_FAILURES	  5	/* runtimes that die before listening, in a row: failed */
#define NODE_LISTEN_WAIT_MS	  15000 /* a runtime's 'listening on' line, from its start */
#define NODE_STATUS_POLL_MS	  500	/* the status of runtimes not yet serving */
#define NODE_STATUS_WAIT_MS	  1000	/* one status request to a runtime */
#define NODE_STOP_GRACE_MS	  3000	/* SIGTERM to SIGKILL for a runtime being stopped */
#define NODE_API_MAX_CONNS	  256	/* the api process's connections */
#define NODE_API_HEAD_MS	  10000 /* a request head, from the accept */
#define NODE_API_IO_MS		  30000 /* a stalled body read or answer write */
#define NODE_COLLATERAL_REFRESH_S 3600	/* collateral fetched again from the PCCS */
#define NODE_COLLATERAL_RETRY_S	  60	/* ...or, after a failure, this soon */
#define NODE_AUTH_WINDOW_S	  60	/* failed authentications are counted over this window */
#define NODE_AUTH_SOURCES	  1024	/* addresses whose failures are remembered */
#define NODE_RUNTIME_LOG_MAX	  (4u << 20) /* an app's log on the node: kept under this (apps.c) */
#define NODE_RUNTIME_LOG	  "runtime.log"
#define NODE_MANIFEST_FILE	  "manifest.json"
#define NODE_PACKAGE_FILE	  "package.cpk"
struct node;

/* One app as the parent holds it: its record (as in the store) and its runtime. */
struct node_app {
	struct ck_app_rec rec;
	struct node *node;
	bool ours;	/* the runtime is this cloakd's child (else re-adopted: no waitpid) */
	bool stopping;	/* a stop or a removal asked for: its death is not a failure */
	bool removing;	/* ...and then its files and record go */
	int pidfd;	/* -1: no runtime */
	int out;	/* the runtime's standard output until its 'listening on' line */
	char line[128]; /* ...what of it has come */
	size_t line_len;
	unsigned boot_failures, backoff_ms;
	uint64_t up_since_ms; /* when its runtime started (monotonic) */
	struct event *exit_ev, *out_ev, *timer;
	uint32_t pending_id; /* a DELETE or stop waiting for the runtime's death (0: none) */
};

#define NODE_UPLOADS_MAX 64 /* the most --max-uploads may be */

/* A deploy whose body the api process is writing into fd. */
struct node_upload {
	uint32_t id;
	int fd;
	uint64_t len;
	char owner[CK_OWNER_NAME_MAX + 1];
};

/* Failed authentications from one address, in the current window. */
struct node_authfail {
	uint8_t family, addr[16];
	unsigned n;
	uint64_t since_s;
};

struct node {
	const struct node_opts *o;
	struct node_limits lim;
	struct ck_node_dir dir;
	struct ck_store *store;
	struct event_base *base;
	char runtime[PATH_MAX]; /* the cloak-runtime binary */
	struct node_app **apps;
	size_t napps;
	int router_sock, api_sock, tls_sock; /* the parent's ends of the channels (-1: none) */
	struct ck_router_stats router_stats;
	struct node_upload up[NODE_UPLOADS_MAX]; /* in flight */
	size_t nup;
	struct node_authfail fails[NODE_AUTH_SOURCES];
	size_t nfails;
	uint16_t public_port;
	char collateral_dir[PATH_MAX]; /* "" in sim */
	SSL_CTX *status_ctx;	       /* asking runtimes their status (node_apps_poll) */
	struct event *poll_ev, *coll_ev;
};

/* apps.c */
/* Loads every app from the store and re-adopts each runtime still running (its pid with the
 * start time the store has), starting again those that are gone; DIR/apps entries that the
 * store does not know (a deploy cut short) are removed. */
int node_apps_load(struct node *n, struct ck_err *e);
struct node_app *node_app_find(struct node *n, const char *name);
/* Files an uploaded deploy: `fd` (an unnamed file in DIR/apps) holds the manifest's length
 * (u32 LE), the manifest and the package. Checks them (the manifest canonical, its name free,
 * the package's SHA-256 the manifest's), puts them in DIR/apps/NAME, adds the app to the store
 * and starts its runtime. Errors carry the HTTP status in *status. */
struct node_app *node_app_create(struct node *n, int fd, uint64_t len, const char *owner,
				 int *status, struct ck_err *e);
/* Stops an app's runtime (SIGTERM, then SIGKILL after NODE_STOP_GRACE_MS); `remove` then
 * deletes its files and record (and frees `a`). node_app_done(id) is called once it is done:
 * at once when there is no runtime, else at the runtime's death. -1: refused (being stopped). */
int node_app_stop(struct node_app *a, bool remove, uint32_t id, struct ck_err *e);
/* Opens its runtime's log for reading (the api process streams it). */
int node_app_log(struct node_app *a, struct ck_err *e);
/* Every route anew to the router. */
void node_push_routes(struct node *n);
/* Asks runtimes that are not serving yet where they stand; keeps each log under its cap. */
void node_apps_poll(struct node *n);
void node_apps_free(struct node *n);

/* collateral.c: the directory the runtimes get (--collateral, or DIR/collateral fetched from
 * --pccs; "" in sim), made at start: 0, or -1 when a PCCS fails and nothing is cached. Refresh:
 * fetched again, written, every runtime told (SIGHUP); a failure keeps what there was. */
int node_collateral_init(struct node *n, struct ck_err *e);
int node_collateral_refresh(struct node *n, struct ck_err *e);

/* handle.c */
/* One message from the api process; -1: the channel is to be closed. */
int node_handle_api(struct node *n, const struct ck_imsg *m);
/* The answer to a stop or removal that waited for a runtime's death. */
void node_app_done(struct node *n, uint32_t id, struct node_app *a, bool removed);
/* The app as JSON (malloc'ed text). */
char *node_app_json(const struct node_app *a);

/* In a child, once it holds what it needs (its key, read from DIR): named cloakd-ROLE, SIGPIPE
 * and SIGHUP ignored, confined (confine.h) to `keep`, which it says on stderr; it exits 2 if
 * it cannot be. */
void node_child_confine(const char *role, const int *keep, size_t nkeep, const char *user);

/* router_proc.c, api_proc.c, tls_proc.c: the processes' mains (they never return). */
void node_router_main(int lfd, int sock, const char *user) __attribute__((noreturn));
void node_api_main(int lfd, int sock, const struct node *n) __attribute__((noreturn));
void node_tls_main(int sock, const struct node *n) __attribute__((noreturn));

#endif
