/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gate.h - the runtime's control plane, apart from any I/O (DESIGN §5, §7): which requests are
 * the runtime's own (`/.well-known/cloak/...`) rather than the app's, and the one-shot
 * provisioning gate.
 *
 * The event loop parses a request head with http.h, asks ck_route() whom it is for, and hands a
 * provisioning body to ck_gate_provision(). Every refusal carries the HTTP status to answer and
 * leaves the gate exactly as it was: only one valid provisioning is ever accepted, and nothing
 * a refused request carried is kept.
 */
#ifndef CLOAK_GATE_H
#define CLOAK_GATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/owner.h"
#include "cloak/provision.h"

#define CK_ROUTE_PREFIX	 "/.well-known/cloak/"
#define CK_NONCE_MAX	 64			    /* bytes of a caller's evidence nonce */
#define CK_GATE_MAX_BODY (CK_PROVISION_MAX_LEN * 3) /* a sealed envelope, base64 and all */

/* The gate's life: open for one provisioning, then holding it, then wiped. (The attested
 * `cloak.phase` of claims.h is the runtime's identity; this is only the gate's state.) */
enum ck_gate_state { CK_GATE_OPEN, CK_GATE_PROVISIONED, CK_GATE_CLOSED };

/* "open", "provisioned", "closed". */
const char *ck_gate_state_name(enum ck_gate_state s);

enum ck_route_kind { CK_ROUTE_APP, CK_ROUTE_STATUS, CK_ROUTE_EVIDENCE, CK_ROUTE_PROVISION };

struct ck_route {
	enum ck_route_kind kind;
	uint8_t nonce[CK_NONCE_MAX]; /* CK_ROUTE_EVIDENCE with ?nonce=HEX */
	size_t nonce_len;	     /* 0: no nonce asked for */
};

/*
 * Classifies a request by its method and origin-form target (as ck_http_parse_request gave them).
 * Everything outside CK_ROUTE_PREFIX is the app's (CK_ROUTE_APP). Inside it, exactly:
 *   GET  /.well-known/cloak/status
 *   GET  /.well-known/cloak/evidence[?nonce=HEX]   (1..CK_NONCE_MAX bytes)
 *   POST /.well-known/cloak/provision
 * Returns 0, or -1 with *status = 404 (another path under the prefix: never passed to the app),
 * 405 (the wrong method) or 400 (any other query, a bad nonce), and CK_E_ROUTE.
 */
int ck_route_classify(const char *method, size_t method_len, const char *target, size_t target_len,
		      struct ck_route *r, int *status, struct ck_err *err);

struct ck_gate {
	enum ck_gate_state state;
	uint8_t owner_pub[CK_OWNER_PUB_LEN]; /* from the manifest */
	uint8_t cert_sha256[32];	     /* this boot's provisioning certificate (DER) */
	uint8_t manifest_sha256[32];
	uint8_t seal_priv[CK_SEAL_KEY_LEN], seal_pub[CK_SEAL_KEY_LEN];
	struct ck_provision prov; /* the accepted provisioning, once state PROVISIONED */
	/* Optional: the runtime's own checks of an authentic provisioning before it is accepted
	 * (the package opens under its key with the manifest's fingerprint, the owner's chain is
	 * the manifest's, ...): -1 with *status (4xx) and the error refuses it like any other. */
	int (*check)(void *arg, const struct ck_provision *p, int *status, struct ck_err *err);
	void *check_arg;
	unsigned long refused; /* refused provisioning attempts, for the status endpoint */
};

/* Copies the keys and digests in; state OPEN. The gate owns a copy of the seal key. */
void ck_gate_init(struct ck_gate *g, const uint8_t owner_pub[CK_OWNER_PUB_LEN],
		  const uint8_t cert_sha256[32], const uint8_t manifest_sha256[32],
		  const uint8_t seal_priv[CK_SEAL_KEY_LEN],
		  const uint8_t seal_pub[CK_SEAL_KEY_LEN]);

/*
 * Offers the body of a provisioning request: a signed envelope, or one sealed to the seal key.
 * Returns 0 when accepted (g->prov filled, state PROVISIONED, the seal key wiped: it has served),
 * else -1 with *status and the error:
 *   409 CK_E_PROV_STATE      the gate is not OPEN (a second provisioning)
 *   413 CK_E_TOO_LARGE       over CK_GATE_MAX_BODY (before anything is parsed)
 *   400 CK_E_PROV_FORMAT/CK_E_SEAL/CK_E_JSON   malformed, or sealed to another key
 *   403 CK_E_PROV_SIGNATURE/CK_E_PROV_BINDING  not the owner's, or for another enclave/manifest
 *   what g->check answers, for an authentic provisioning it refuses
 * A refusal changes nothing but g->refused.
 */
int ck_gate_provision(struct ck_gate *g, const uint8_t *body, size_t len, int *status,
		      struct ck_err *err);

/* Wipes every key and secret the gate holds; state CLOSED. Safe to call twice. */
void ck_gate_wipe(struct ck_gate *g);

#endif
