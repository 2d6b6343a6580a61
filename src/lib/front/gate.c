/* SPDX-License-Identifier: Apache-2.0 */
/* gate.c - request routing for the runtime's own endpoints, and the one-shot provisioning gate. */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cloak/codec.h"
#include "cloak/gate.h"
#include "util/json.h"

const char *ck_gate_state_name(enum ck_gate_state s)
{
	return s == CK_GATE_OPEN ? "open" : s == CK_GATE_PROVISIONED ? "provisioned" : "closed";
}

/* ---- routing -------------------------------------------------------------------------------- */

struct endpoint {
	const char *name; /* after CK_ROUTE_PREFIX */
	const char *method;
	enum ck_route_kind kind;
	bool nonce_query; /* accepts ?nonce=HEX */
};

static const struct endpoint endpoints[] = {
    {"status", "GET", CK_ROUTE_STATUS, false},
    {"evidence", "GET", CK_ROUTE_EVIDENCE, true},
    {"provision", "POST", CK_ROUTE_PROVISION, false},
};

static bool span_eq(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && memcmp(s, lit, n) == 0;
}

static int refuse(int *status, int code, struct ck_err *err, const char *what, const char *s,
		  size_t n)
{
	*status = code;
	if (n > 80)
		n = 80;
	return ck_errf(err, CK_E_ROUTE, "%s: \"%.*s\"", what, (int)n, s);
}

int ck_route_classify(const char *method, size_t method_len, const char *target, size_t target_len,
		      struct ck_route *r, int *status, struct ck_err *err)
{
	static const size_t plen = sizeof(CK_ROUTE_PREFIX) - 1;
	memset(r, 0, sizeof(*r));
	*status = 0;
	const char *q = memchr(target, '?', target_len);
	size_t path_len = q ? (size_t)(q - target) : target_len;
	const char *query = q ? q + 1 : NULL;
	size_t query_len = q ? target_len - path_len - 1 : 0;

	/* the prefix without its slash is reserved too, so no app page can sit beside it */
	bool bare = span_eq(target, path_len, "/.well-known/cloak");
	if (!bare && (path_len < plen || memcmp(target, CK_ROUTE_PREFIX, plen) != 0)) {
		r->kind = CK_ROUTE_APP;
		return 0;
	}
	const struct endpoint *e = NULL;
	for (size_t i = 0; !bare && i < sizeof(endpoints) / sizeof(endpoints[0]); i++)
		if (span_eq(target + plen, path_len - plen, endpoints[i].name))
			e = &endpoints[i];
	if (!e)
		return refuse(status, 404, err, "no such runtime endpoint", target, path_len);
	if (!span_eq(method, method_len, e->method))
		return refuse(status, 405, err, "method not allowed here", method, method_len);
	r->kind = e->kind;
	if (!q)
		return 0;
	static const char nk[] = "nonce=";
	size_t hex_len = query_len - (sizeof(nk) - 1);
	if (!e->nonce_query || query_len <= sizeof(nk) - 1 ||
	    memcmp(query, nk, sizeof(nk) - 1) != 0)
		return refuse(status, 400, err, "unexpected query", query, query_len);
	if (hex_len % 2 || hex_len / 2 > CK_NONCE_MAX ||
	    ck_hex_decode_exact(query + sizeof(nk) - 1, hex_len, r->nonce, hex_len / 2, "nonce",
				NULL) < 0)
		return refuse(status, 400, err, "the nonce must be 1 to 64 bytes in hex", query,
			      query_len);
	r->nonce_len = hex_len / 2;
	return 0;
}

/* ---- the provisioning gate ------------------------------------------------------------------ */

void ck_gate_init(struct ck_gate *g, const uint8_t owner_pub[CK_OWNER_PUB_LEN],
		  const uint8_t cert_sha256[32], const uint8_t manifest_sha256[32],
		  const uint8_t seal_priv[CK_SEAL_KEY_LEN], const uint8_t seal_pub[CK_SEAL_KEY_LEN])
{
	memset(g, 0, sizeof(*g));
	g->state = CK_GATE_OPEN;
	memcpy(g->owner_pub, owner_pub, CK_OWNER_PUB_LEN);
	memcpy(g->cert_sha256, cert_sha256, 32);
	memcpy(g->manifest_sha256, manifest_sha256, 32);
	memcpy(g->seal_priv, seal_priv, CK_SEAL_KEY_LEN);
	memcpy(g->seal_pub, seal_pub, CK_SEAL_KEY_LEN);
}

/* The answer for a refusal, from its error code. */
static int status_for(const struct ck_err *e)
{
	if (ck_err_is(e, CK_E_PROV_SIGNATURE) || ck_err_is(e, CK_E_PROV_BINDING))
		return 403;
	if (ck_err_is(e, CK_E_TOO_LARGE))
		return 413;
	if (ck_err_is(e, CK_E_NOMEM))
		return 503;
	return 400;
}

/* true when the body is a JSON object with a top-level "cloak_sealed" member. */
static bool is_sealed(const char *body, size_t len)
{
	struct ck_jdoc d;
	if (ck_json_parse(body, len, &d, NULL) < 0)
		return false; /* ck_provision_open names the syntax error */
	bool sealed = d.t[0].type == CK_JT_OBJECT && ck_json_get(&d, 0, "cloak_sealed") >= 0;
	ck_json_free(&d);
	return sealed;
}

int ck_gate_provision(struct ck_gate *g, const uint8_t *body, size_t len, int *status,
		      struct ck_err *err)
{
	struct ck_err local = {0};
	struct ck_err *e = err ? err : &local;
	struct ck_provision p;
	uint8_t *opened = NULL;
	size_t opened_len = 0;
	const char *env = (const char *)body;
	int ret = -1, check_status = 0;

	if (g->state != CK_GATE_OPEN) {
		*status = 409;
		g->refused++;
		return ck_errf(err, CK_E_PROV_STATE, "already provisioned (gate %s): refused",
			       ck_gate_state_name(g->state));
	}
	if (len > CK_GATE_MAX_BODY) {
		*status = 413;
		g->refused++;
		return ck_errf(err, CK_E_TOO_LARGE,
			       "provisioning body of %zu bytes is over the limit of %d", len,
			       CK_GATE_MAX_BODY);
	}
	if (is_sealed(env, len)) {
		if (ck_unseal(g->seal_priv, g->seal_pub, env, len, &opened, &opened_len, e) < 0)
			goto out;
		env = (const char *)opened;
		len = opened_len;
	}
	if (ck_provision_open(env, len, g->owner_pub, g->cert_sha256, g->manifest_sha256, &p, e) <
	    0)
		goto out;
	if (g->check && g->check(g->check_arg, &p, &check_status, e) < 0) {
		ck_provision_free(&p);
		goto out;
	}
	g->prov = p;
	OPENSSL_cleanse(&p, sizeof(p));
	OPENSSL_cleanse(g->seal_priv, sizeof(g->seal_priv));
	g->state = CK_GATE_PROVISIONED;
	*status = 200;
	ret = 0;
out:
	if (opened) {
		OPENSSL_cleanse(opened, opened_len);
		free(opened);
	}
	if (ret < 0) {
		*status = check_status ? check_status : status_for(e);
		g->refused++;
	}
	return ret;
}

void ck_gate_wipe(struct ck_gate *g)
{
	ck_provision_free(&g->prov); /* all zero until accepted: a no-op then */
	unsigned long refused = g->refused;
	OPENSSL_cleanse(g, sizeof(*g));
	g->refused = refused;
	g->state = CK_GATE_CLOSED;
}
