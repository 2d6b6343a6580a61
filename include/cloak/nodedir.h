/* SPDX-License-Identifier: Apache-2.0 */
/*
 * nodedir.h - the node's data directory (DESIGN §8), owned by cloakd's parent process alone:
 *
 *   DIR/             mode 0700
 *   DIR/cloakd.db    the store (store.h)
 *   DIR/api.pem      the owner API's TLS certificate: self-signed P-256, CN "cloakd", SAN the
 *                    node's domain, localhost and 127.0.0.1, valid CK_NODE_API_CERT_DAYS; owners
 *                    pin its SHA-256 (cloakd fingerprint)
 *   DIR/api.key      its key, mode 0600
 *   DIR/admin.token  the token of owner "admin", mode 0600, written once
 *   DIR/sim/         the simulation PKI, with --sim
 *   DIR/apps/NAME/   each app's manifest.json, package.cpk (ciphertext) and runtime.log (the
 *                    runtime's own lines, and the app's output sealed to its owner)
 *
 * Initialisation builds all of it in a fresh DIR.init-XXXXXX beside DIR (mode 0700) and renames
 * it into place: a crash or a failure leaves no half-made DIR (a stale DIR.init-* may remain
 * after SIGKILL, holding no secret but an unused admin token).
 */
#ifndef CLOAK_NODEDIR_H
#define CLOAK_NODEDIR_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/timeutil.h"

#define CK_NODE_API_CERT_DAYS 825
#define CK_NODE_DB	      "cloakd.db"
#define CK_NODE_API_CERT      "api.pem"
#define CK_NODE_API_KEY	      "api.key"
#define CK_NODE_ADMIN_TOKEN   "admin.token"
#define CK_NODE_SIM_PKI	      "sim"
#define CK_NODE_APPS	      "apps"

struct ck_node_dir {
	char path[PATH_MAX];
	uint8_t api_sha256[32]; /* of the API certificate's DER */
	bool sim;		/* DIR/sim exists */
};

/* Creates DIR (which must not exist) as above. `domain` (may be NULL) goes into the API
 * certificate's names. */
int ck_node_dir_init(const char *dir, bool sim, const char *domain, ck_time_t now,
		     struct ck_err *err);

/* Checks an existing DIR: a directory of mode 0700 owned by this user, the store opening at the
 * current schema, the API certificate parsing and its key matching it; fills `d`. Every
 * failure names the file. */
int ck_node_dir_open(const char *dir, struct ck_node_dir *d, struct ck_err *err);

/* DIR/<name> into buf; CK_E_USAGE if it does not fit. */
int ck_node_path(const struct ck_node_dir *d, const char *name, char buf[PATH_MAX],
		 struct ck_err *err);

#endif
