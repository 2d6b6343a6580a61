/* SPDX-License-Identifier: Apache-2.0 */
/*
 * runtime.h - cloak-runtime's state, shared by its files (not a library interface):
 *   main.c    options, boot, the event loop, shutdown
 *   serve.c   the runtime's endpoints (status, evidence, provision), the app's supervision
 *             and the switch to the serving identity
 *   memfs.c   the private in-memory filesystem the app's code is unpacked into (sim, tsm)
 *   output.c  the app's output, sealed to its owner's log key
 */
#ifndef CLOAK_RUNTIME_RUNTIME_H
#define CLOAK_RUNTIME_RUNTIME_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "cloak/app.h"
#include "cloak/applog.h"
#include "cloak/attest.h"
#include "cloak/claims.h"
#include "cloak/collateral.h"
#include "cloak/gate.h"
#include "cloak/identity.h"
#include "cloak/manifest.h"
#include "cloak/proxy.h"

#define RT_MAX_PACKAGE	  (1024ULL * 1024 * 1024) /* held in memory from boot to unpack */
#define RT_TICK_MS	  100			  /* app supervision */
#define RT_HEALTH_WAIT_MS 2000			  /* one health probe, while starting */
#define RT_STOP_GRACE_MS  3000			  /* SIGTERM to SIGKILL for the app */
/* Fresh (nonce-bound) evidence in batches: nonces that arrive within a short window are answered
 * by one quote whose claims carry their Merkle root, each with its own proof. A quote blocks the
 * loop while the TEE makes it (tens of ms on SGX): one per identity per interval at most. */
#define RT_NONCE_WINDOW_MS   20	  /* the first nonce waits this long for others */
#define RT_QUOTE_INTERVAL_MS 100  /* between two batch quotes of one identity */
#define RT_NONCE_BATCH_MAX   1024 /* waiting nonces per identity (one quote answers them) */
#define RT_NONCE_PER_SOURCE  32	  /* waiting nonces from one client address */
#define RT_RETRY_AFTER_S     1	  /* told to a client refused for now (429) */

/* A nonce waiting for the next batch quote of its identity. */
struct rt_nonce {
	struct ck_proxy_later *later;
	struct sockaddr_storage src;
	socklen_t src_len;
	size_t len;
	uint8_t nonce[CK_NONCE_MAX];
};

/* The waiting nonces of one identity (prov, serve, none). */
struct rt_batch {
	struct rt_nonce *q; /* RT_NONCE_BATCH_MAX, allocated at the first nonce */
	size_t n;
	uint64_t last_quote_ms;
};
enum { RT_ID_PROV, RT_ID_SERVE, RT_ID_NONE, RT_IDS };

/* The runtime's life, as the status endpoint reports it. */
enum rt_state {
	RT_PROVISIONING, /* waiting for the one provisioning */
	RT_STARTING,	 /* code unpacked, app started, not yet healthy */
	RT_SERVING,	 /* serving identity, app healthy (it may be restarting) */
	RT_FAILED,	 /* fail closed: nothing is served but status and evidence */
};

struct rt {
	/* options */
	const char *backend, *sim_pki, *att_dir, *collateral, *package, *manifest, *listen;
	const char *app_dir_opt, *data_dir_opt;
	bool app_unix;

	/* what the node handed over (public or ciphertext) */
	struct ck_manifest m;
	uint8_t manifest_sha256[32];
	uint8_t *pkg;
	size_t pkg_len;

	/* attestation */
	struct ck_attester *att;
	struct ck_collateral coll;
	bool has_coll;

	/* identities: provisioning (RA-TLS), serving (RA-TLS or the owner's; serve.tls is NULL
	 * until the switch), none (plain) */
	struct ck_identity prov, serve, none;
	struct ck_identity owner;	     /* owner cert: the serving identity, from the accepted
						provisioning until the switch */
	struct rt_batch batch[RT_IDS];	     /* nonces waiting for a fresh quote, by identity */
	struct event *batch_ev;		     /* when the next batch quote is due */
	uint64_t batch_quotes, batch_nonces; /* made and answered so far (status) */

	struct ck_gate gate;
	enum rt_state state;
	char failure[512];

	/* where the code and data live */
	char memfs[PATH_MAX]; /* the private in-memory filesystem, or "" */
	const char *memfs_kind;
	char code_dir[PATH_MAX], data_dir[PATH_MAX], sock_path[PATH_MAX];
	struct ck_app app;
	struct ck_app_spec spec;
	bool app_healthy;	/* running is app.pid != 0 */
	struct ck_health probe; /* a health probe in flight (probe.fd >= 0) */
	struct event *probe_ev;

	/* the app's output: a pipe, sealed to the owner's log key (output.c) */
	int out_rd;
	struct event *out_ev;
	struct ck_log_writer logw;
	bool has_logw;
	uint64_t discarded; /* bytes of output thrown away: no log key */

	struct event_base *base;
	struct ck_proxy *px;
	struct event *tick;
};

/* serve.c */
int rt_local(void *arg, const struct ck_proxy_req *rq, struct ck_proxy_reply *reply);
/* The batch timer (rt->batch_ev): quotes for the identities whose batch is due. */
void rt_on_batch(evutil_socket_t fd, short what, void *arg);
/* Answers every waiting nonce with 503 and frees the queues (at exit). */
void rt_batches_free(struct rt *rt);
int rt_check_provision(void *arg, const struct ck_provision *p, int *status, struct ck_err *err);
void rt_tick(evutil_socket_t fd, short what, void *arg);
void rt_fail(struct rt *rt, const struct ck_err *e);
void rt_probe_end(struct rt *rt);
void rt_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* output.c: the app's output pipe (into rt->spec.output_fd) and its sealing; end reads what
 * is left, closes both ends and wipes the writer. */
int rt_output_start(struct rt *rt, struct ck_err *err);
void rt_output_end(struct rt *rt);

/* memfs.c: a private in-memory filesystem at a fresh directory (written to `dir`): a tmpfs in
 * the runtime's own user and mount namespaces, seen by nobody outside them; where namespaces
 * are not allowed, a 0700 directory on /dev/shm (RAM, but visible to the same user). *kind
 * says which. Call before any thread exists. */
int rt_memfs_make(char dir[PATH_MAX], const char **kind, struct ck_err *err);
/* Removes everything under it and unmounts it. */
void rt_memfs_remove(const char *dir, const char *kind);

#endif
