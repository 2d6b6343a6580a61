/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's control plane: which requests are the runtime's, and the one-shot provisioning
 * gate (exactly one valid provisioning; every refusal changes nothing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/gate.h"
#include "testutil.h"

/* ---- routing -------------------------------------------------------------------------------- */

static int route(const char *m, const char *t, struct ck_route *r, int *status)
{
	struct ck_err e = {0};
	int rc = ck_route_classify(m, strlen(m), t, strlen(t), r, status, &e);
	if (rc < 0) {
		assert_string_equal(e.code, CK_E_ROUTE);
		assert_true(strlen(e.msg) > 0);
	}
	return rc;
}

static void test_route_app(void **state)
{
	(void)state;
	struct ck_route r;
	int st;
	const char *app[] = {"/",
			     "/api?x=1",
			     "/.well-known/other",
			     "/.well-known/cloakx",
			     "/.well-known/cloak%2Fstatus",
			     "/x/.well-known/cloak/status",
			     "*"};
	for (size_t i = 0; i < sizeof(app) / sizeof(app[0]); i++) {
		assert_int_equal(route("GET", app[i], &r, &st), 0);
		assert_int_equal(r.kind, CK_ROUTE_APP);
		assert_int_equal(route("POST", app[i], &r, &st), 0);
		assert_int_equal(r.kind, CK_ROUTE_APP);
	}
}

static void test_route_runtime(void **state)
{
	(void)state;
	struct ck_route r;
	int st;
	assert_int_equal(route("GET", "/.well-known/cloak/status", &r, &st), 0);
	assert_int_equal(r.kind, CK_ROUTE_STATUS);
	assert_int_equal(route("GET", "/.well-known/cloak/evidence", &r, &st), 0);
	assert_int_equal(r.kind, CK_ROUTE_EVIDENCE);
	assert_int_equal(r.nonce_len, 0);
	assert_int_equal(route("GET", "/.well-known/cloak/evidence?nonce=00ff10", &r, &st), 0);
	assert_int_equal(r.nonce_len, 3);
	assert_memory_equal(r.nonce, "\x00\xff\x10", 3);
	char t[256];
	snprintf(t, sizeof(t), "/.well-known/cloak/evidence?nonce=%0128d", 7); /* 64 bytes */
	assert_int_equal(route("GET", t, &r, &st), 0);
	assert_int_equal(r.nonce_len, 64);
	assert_int_equal(r.nonce[63], 0x07);
	assert_int_equal(route("POST", "/.well-known/cloak/provision", &r, &st), 0);
	assert_int_equal(r.kind, CK_ROUTE_PROVISION);
}

static void test_route_refusals(void **state)
{
	(void)state;
	struct ck_route r;
	int st;
	struct {
		const char *m, *t;
		int status;
	} bad[] = {
	    {"GET", "/.well-known/cloak", 404},
	    {"GET", "/.well-known/cloak/", 404},
	    {"GET", "/.well-known/cloak/status/", 404},
	    {"GET", "/.well-known/cloak/Status", 404},
	    {"GET", "/.well-known/cloak/../cloak/status", 404},
	    {"GET", "/.well-known/cloak/nope?nonce=00", 404},
	    {"POST", "/.well-known/cloak/status", 405},
	    {"HEAD", "/.well-known/cloak/evidence", 405},
	    {"GET", "/.well-known/cloak/provision", 405},
	    {"PUT", "/.well-known/cloak/provision", 405},
	    {"GET", "/.well-known/cloak/status?x=1", 400},
	    {"GET", "/.well-known/cloak/status?", 400},
	    {"POST", "/.well-known/cloak/provision?nonce=00", 400},
	    {"GET", "/.well-known/cloak/evidence?", 400},
	    {"GET", "/.well-known/cloak/evidence?nonce=", 400},
	    {"GET", "/.well-known/cloak/evidence?nonce=0", 400},
	    {"GET", "/.well-known/cloak/evidence?nonce=zz", 400},
	    {"GET", "/.well-known/cloak/evidence?nonce=00&nonce=11", 400},
	    {"GET", "/.well-known/cloak/evidence?Nonce=00", 400},
	    {"GET", "/.well-known/cloak/evidence?x=1&nonce=00", 400},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (route(bad[i].m, bad[i].t, &r, &st) != -1)
			fail_msg("accepted %s %s", bad[i].m, bad[i].t);
		if (st != bad[i].status)
			fail_msg("%s %s: %d, want %d", bad[i].m, bad[i].t, st, bad[i].status);
	}
	char t[256];
	snprintf(t, sizeof(t), "/.well-known/cloak/evidence?nonce=%0130d", 7); /* 65 bytes */
	assert_int_equal(route("GET", t, &r, &st), -1);
	assert_int_equal(st, 400);
}

/* ---- the gate ------------------------------------------------------------------------------- */

struct fx {
	char *dir;
	struct ck_owner_key *owner, *other;
	uint8_t pub[32], cert[32], manifest[32], seal_priv[32], seal_pub[32];
	struct ck_gate g;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpname("gate");
	f->owner = tu_owner_key(f->dir, "owner");
	f->other = tu_owner_key(f->dir, "other");
	ck_owner_key_public(f->owner, f->pub);
	memset(f->cert, 0xce, 32);
	memset(f->manifest, 0x3a, 32);
	assert_int_equal(ck_seal_keygen(f->seal_priv, f->seal_pub, NULL), 0);
	ck_gate_init(&f->g, f->pub, f->cert, f->manifest, f->seal_priv, f->seal_pub);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ck_gate_wipe(&f->g);
	ck_owner_key_free(f->owner);
	ck_owner_key_free(f->other);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

/* A signed envelope from `key`, for enclave `cert`, carrying one secret. */
static char *envelope(const struct fx *f, const struct ck_owner_key *key, const uint8_t *cert,
		      uint8_t key_byte, size_t *n)
{
	struct ck_provision p = {0};
	char *env;
	memcpy(p.enclave_cert_sha256, cert, 32);
	memcpy(p.manifest_sha256, f->manifest, 32);
	memset(p.package_key, key_byte, 32);
	p.issued_at = tu_time("2026-11-27T00:00:00Z");
	strcpy(p.secrets[0].name, "API_TOKEN");
	p.secrets[0].value = strdup("t0k3n");
	p.secrets[0].value_len = 5;
	p.n_secrets = 1;
	assert_int_equal(ck_provision_sign(&p, key, &env, n, NULL), 0);
	ck_provision_free(&p);
	return env;
}

/* Offers a body; checks the status and, on refusal, that the gate is still untouched. */
static void offer(struct fx *f, const void *body, size_t n, int want, const char *code)
{
	struct ck_err e = {0};
	int st = 0;
	unsigned long refused = f->g.refused;
	enum ck_gate_state state = f->g.state;
	int rc = ck_gate_provision(&f->g, body, n, &st, &e);
	if (st != want)
		fail_msg("status %d, want %d (%s: %s)", st, want, e.code ? e.code : "-", e.msg);
	if (want == 200) {
		assert_int_equal(rc, 0);
		assert_int_equal(f->g.state, CK_GATE_PROVISIONED);
		return;
	}
	assert_int_equal(rc, -1);
	assert_string_equal(e.code, code);
	assert_int_equal(f->g.refused, refused + 1);
	assert_int_equal(f->g.state, state);
	if (state == CK_GATE_OPEN) {
		assert_int_equal(f->g.prov.n_secrets, 0);
		assert_memory_equal(f->g.seal_priv, f->seal_priv, 32);
	}
}

static void test_gate_refusals_then_accept(void **state)
{
	struct fx *f = *state;
	size_t n;
	uint8_t other_cert[32];
	memset(other_cert, 0xcf, 32);

	char *wrong = envelope(f, f->other, f->cert, 0x11, &n);
	offer(f, wrong, n, 403, CK_E_PROV_SIGNATURE);
	free(wrong);
	char *replay = envelope(f, f->owner, other_cert, 0x11, &n);
	offer(f, replay, n, 403, CK_E_PROV_BINDING);
	free(replay);
	offer(f, "", 0, 400, CK_E_PROV_FORMAT);
	offer(f, "{\"payload\":\"", 12, 400, CK_E_PROV_FORMAT);
	offer(f, "{\"cloak_sealed\":1}", 18, 400, CK_E_SEAL);
	char *good = envelope(f, f->owner, f->cert, 0x22, &n);
	offer(f, good, n - 1, 400, CK_E_PROV_FORMAT); /* truncated */
	char *unsigned_ = strdup(good);
	char *sig = strstr(unsigned_, "\"signature\":\"") + 13;
	memset(sig, '0', 128);
	offer(f, unsigned_, n, 403, CK_E_PROV_SIGNATURE);
	free(unsigned_);
	size_t big = CK_GATE_MAX_BODY + 1;
	char *huge = malloc(big);
	memset(huge, ' ', big);
	offer(f, huge, big, 413, CK_E_TOO_LARGE);

	/* after all that, the one valid provisioning is accepted... */
	offer(f, good, n, 200, NULL);
	assert_int_equal(f->g.prov.n_secrets, 1);
	assert_string_equal(f->g.prov.secrets[0].value, "t0k3n");
	assert_int_equal(f->g.prov.package_key[0], 0x22);
	uint8_t zero[32] = {0};
	assert_memory_equal(f->g.seal_priv, zero, 32); /* it has served */
	assert_int_equal(f->g.refused, 8);

	/* ...and nothing after it: the same one again, another valid one, or anything else */
	offer(f, good, n, 409, CK_E_PROV_STATE);
	char *second = envelope(f, f->owner, f->cert, 0x33, &n);
	offer(f, second, n, 409, CK_E_PROV_STATE);
	offer(f, huge, big, 409, CK_E_PROV_STATE);
	assert_int_equal(f->g.prov.package_key[0], 0x22);
	free(second);
	free(huge);
	free(good);

	ck_gate_wipe(&f->g);
	assert_int_equal(f->g.state, CK_GATE_CLOSED);
	assert_int_equal(f->g.prov.n_secrets, 0);
	assert_null(f->g.prov.owner_tls_key);
	assert_int_equal(f->g.prov.package_key[0], 0);
	offer(f, "{}", 2, 409, CK_E_PROV_STATE);
}

static void test_gate_sealed(void **state)
{
	struct fx *f = *state;
	size_t n, sn;
	char *sealed;
	char *good = envelope(f, f->owner, f->cert, 0x44, &n);

	/* sealed to another enclave's key: does not open, changes nothing */
	uint8_t opriv[32], opub[32];
	assert_int_equal(ck_seal_keygen(opriv, opub, NULL), 0);
	assert_int_equal(ck_seal(opub, (const uint8_t *)good, n, &sealed, &sn, NULL), 0);
	offer(f, sealed, sn, 400, CK_E_SEAL);
	free(sealed);

	/* sealed to ours but signed by someone else: opens, then refused on the signature */
	char *wrong = envelope(f, f->other, f->cert, 0x44, &n);
	assert_int_equal(ck_seal(f->seal_pub, (const uint8_t *)wrong, n, &sealed, &sn, NULL), 0);
	offer(f, sealed, sn, 403, CK_E_PROV_SIGNATURE);
	free(sealed);
	free(wrong);

	assert_int_equal(
	    ck_seal(f->seal_pub, (const uint8_t *)good, strlen(good), &sealed, &sn, NULL), 0);
	assert_null(strstr(sealed, "payload")); /* the envelope is not visible in transit */
	offer(f, sealed, sn, 200, NULL);
	assert_int_equal(f->g.prov.package_key[0], 0x44);
	offer(f, sealed, sn, 409, CK_E_PROV_STATE); /* a sealed copy cannot be replayed either */
	free(sealed);
	free(good);
}

/* The runtime's own check: refuses package keys starting 0x55, as if the package did not open. */
static int check_key(void *arg, const struct ck_provision *p, int *status, struct ck_err *err)
{
	(*(int *)arg)++;
	if (p->package_key[0] != 0x55)
		return 0;
	*status = 422;
	return ck_errf(err, CK_E_PKG_AUTH, "the package does not open under this key");
}

static void test_gate_check_hook(void **state)
{
	struct fx *f = *state;
	size_t n;
	int calls = 0;
	f->g.check = check_key;
	f->g.check_arg = &calls;
	char *wrong = envelope(f, f->other, f->cert, 0x55, &n); /* not even authentic: no check */
	offer(f, wrong, n, 403, CK_E_PROV_SIGNATURE);
	free(wrong);
	assert_int_equal(calls, 0);
	char *bad = envelope(f, f->owner, f->cert, 0x55, &n); /* authentic, refused by the check */
	offer(f, bad, n, 422, CK_E_PKG_AUTH);
	assert_int_equal(calls, 1);
	free(bad);
	char *good = envelope(f, f->owner, f->cert, 0x66, &n); /* the gate was left open */
	offer(f, good, n, 200, NULL);
	assert_int_equal(calls, 2);
	assert_int_equal(f->g.prov.package_key[0], 0x66);
	free(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_route_app),
	    cmocka_unit_test(test_route_runtime),
	    cmocka_unit_test(test_route_refusals),
	    cmocka_unit_test_setup_teardown(test_gate_refusals_then_accept, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gate_sealed, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_gate_check_hook, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
