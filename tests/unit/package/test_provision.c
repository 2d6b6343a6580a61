/* SPDX-License-Identifier: Apache-2.0 */
/* Provisioning messages: signed by the owner, bound to one enclave instance and manifest; and
 * sealing to the enclave's X25519 key for delivery through a third party. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "cloak/codec.h"
#include "cloak/provision.h"
#include "testutil.h"

struct fx {
	char *dir;
	struct ck_owner_key *owner, *other;
	uint8_t pub[32], other_pub[32];
	uint8_t cert[32], manifest[32];
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->dir = tu_tmpname("prov");
	f->owner = tu_owner_key(f->dir, "owner");
	f->other = tu_owner_key(f->dir, "other");
	ck_owner_key_public(f->owner, f->pub);
	ck_owner_key_public(f->other, f->other_pub);
	memset(f->cert, 0xce, 32);
	memset(f->manifest, 0x3a, 32);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	ck_owner_key_free(f->owner);
	ck_owner_key_free(f->other);
	tu_rmtree(f->dir);
	free(f);
	return 0;
}

static struct ck_provision sample(const struct fx *f)
{
	struct ck_provision p = {0};
	memcpy(p.enclave_cert_sha256, f->cert, 32);
	memcpy(p.manifest_sha256, f->manifest, 32);
	memset(p.package_key, 0x99, 32);
	p.issued_at = tu_time("2026-11-27T00:00:00Z");
	strcpy(p.secrets[0].name, "DB_PASSWORD");
	p.secrets[0].value = strdup("p\"a\\s\ns");
	p.secrets[0].value_len = strlen(p.secrets[0].value);
	strcpy(p.secrets[1].name, "API_TOKEN");
	p.secrets[1].value = strdup("t0k3n");
	p.secrets[1].value_len = 5;
	p.n_secrets = 2;
	return p;
}

static void test_round_trip(void **state)
{
	struct fx *f = *state;
	struct ck_provision p = sample(f), q;
	char *env;
	size_t n;
	struct ck_err e;
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, &e), 0);
	assert_null(strstr(env, "t0k3n")); /* base64, and no secret in clear in the envelope text */
	if (ck_provision_open(env, n, f->pub, f->cert, f->manifest, &q, &e) < 0)
		fail_msg("%s", e.msg);
	assert_memory_equal(q.package_key, p.package_key, 32);
	assert_int_equal(q.n_secrets, 2);
	assert_string_equal(q.secrets[0].name, "API_TOKEN"); /* canonical: sorted */
	assert_string_equal(q.secrets[1].value, "p\"a\\s\ns");
	assert_null(q.owner_tls_key);
	ck_provision_free(&q);

	/* the refusals, each with its own code */
	assert_int_equal(ck_provision_open(env, n, f->other_pub, f->cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_SIGNATURE);
	uint8_t other_cert[32];
	memset(other_cert, 0xcf, 32);
	assert_int_equal(ck_provision_open(env, n, f->pub, other_cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_BINDING);
	assert_non_null(strstr(e.msg, "replay"));
	assert_int_equal(ck_provision_open(env, n, f->pub, f->cert, other_cert, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_BINDING);
	/* a tampered payload: one base64 character changed */
	char *t = strdup(env);
	char *pl = strstr(t, "\"payload\":\"") + 20;
	*pl = *pl == 'A' ? 'B' : 'A';
	assert_int_equal(ck_provision_open(t, n, f->pub, f->cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_SIGNATURE);
	free(t);
	/* a signature by the right key over a payload with an unknown field */
	const char *extra = "{\"cloak_provision\":1,\"extra\":1}";
	uint8_t sig[64];
	char sighex[129], *b64 = ck_b64_encode((const uint8_t *)extra, strlen(extra)), forged[512];
	assert_int_equal(ck_owner_sign(f->owner, (const uint8_t *)extra, strlen(extra), sig, NULL),
			 0);
	ck_hex_encode(sig, 64, sighex);
	snprintf(forged, sizeof(forged), "{\"payload\":\"%s\",\"signature\":\"%s\"}", b64, sighex);
	assert_int_equal(
	    ck_provision_open(forged, strlen(forged), f->pub, f->cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_FORMAT);
	assert_non_null(strstr(e.msg, "extra"));
	free(b64);
	/* not an envelope, oversize */
	assert_int_equal(ck_provision_open("[]", 2, f->pub, f->cert, f->manifest, &q, &e), -1);
	char *big = calloc(1, CK_PROVISION_MAX_LEN * 3);
	memset(big, ' ', CK_PROVISION_MAX_LEN * 3 - 1);
	assert_int_equal(ck_provision_open(big, CK_PROVISION_MAX_LEN * 3 - 1, f->pub, f->cert,
					   f->manifest, &q, &e),
			 -1);
	assert_string_equal(e.code, CK_E_TOO_LARGE);
	free(big);
	free(env);
	/* owner side refuses bad secret names and duplicates */
	strcpy(p.secrets[1].name, "lower");
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "lower"));
	strcpy(p.secrets[1].name, "DB_PASSWORD");
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "twice"));
	ck_provision_free(&p);
}

/* A self-signed certificate for `k`, as PEM (malloc'ed). */
static char *self_signed_pem(EVP_PKEY *k)
{
	X509 *c = X509_new();
	X509_set_version(c, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
				   (const unsigned char *)"owner.example", -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(c));
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 86400);
	X509_set_pubkey(c, k);
	X509_sign(c, k, EVP_sha256());
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	PEM_write_bio_X509(b, c);
	long pn = BIO_get_mem_data(b, &pem);
	char *out = strndup(pem, (size_t)pn);
	BIO_free(b);
	X509_free(c);
	return out;
}

static void test_owner_tls_key(void **state)
{
	struct fx *f = *state;
	struct ck_provision p = sample(f), q;
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	BIO *b = BIO_new(BIO_s_mem());
	char *pem;
	PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
	long pn = BIO_get_mem_data(b, &pem);
	p.owner_tls_key = strndup(pem, (size_t)pn);
	char *env;
	size_t n;
	struct ck_err e;
	/* a key without its chain: refused before signing */
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "go together"));
	p.owner_tls_chain = self_signed_pem(k);
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, NULL), 0);
	assert_int_equal(ck_provision_open(env, n, f->pub, f->cert, f->manifest, &q, NULL), 0);
	assert_string_equal(q.owner_tls_key, p.owner_tls_key);
	assert_string_equal(q.owner_tls_chain, p.owner_tls_chain);
	ck_provision_free(&q);
	free(env);
	/* a chain that is not a certificate */
	char *chain = p.owner_tls_chain;
	p.owner_tls_chain =
	    strdup("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n");
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, NULL), 0);
	assert_int_equal(ck_provision_open(env, n, f->pub, f->cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_FORMAT);
	assert_non_null(strstr(e.msg, "owner_tls_chain"));
	free(env);
	free(p.owner_tls_chain);
	p.owner_tls_chain = chain;
	/* a key that is not a key */
	free(p.owner_tls_key);
	p.owner_tls_key = strdup("-----BEGIN PRIVATE KEY-----\nnope\n-----END PRIVATE KEY-----\n");
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, NULL), 0);
	assert_int_equal(ck_provision_open(env, n, f->pub, f->cert, f->manifest, &q, &e), -1);
	assert_string_equal(e.code, CK_E_PROV_FORMAT);
	free(env);
	ck_provision_free(&p);
	BIO_free(b);
	EVP_PKEY_free(k);
}

/* The owner's secrets file: NAME=VALUE lines; every refusal names its line and adds nothing. */
static void test_secrets_file(void **state)
{
	(void)state;
	struct ck_provision p = {0};
	struct ck_err e;
	const char *ok = "API_TOKEN=t0k3n\r\n# comment\n\nDSN=postgres://u:p@db/x?a=b\nEMPTY=";
	assert_int_equal(ck_secrets_parse(ok, strlen(ok), &p, &e), 0);
	assert_int_equal(p.n_secrets, 3);
	assert_string_equal(p.secrets[0].name, "API_TOKEN");
	assert_string_equal(p.secrets[0].value, "t0k3n");		    /* CRLF tolerated */
	assert_string_equal(p.secrets[1].value, "postgres://u:p@db/x?a=b"); /* '=' in a value */
	assert_int_equal(p.secrets[2].value_len, 0);
	static const struct {
		const char *text, *why;
	} bad[] = {
	    {"GOOD=1\nlower=x", "line 2"}, {"GOOD=1\n1ST=x", "line 2"},
	    {"NO_EQUALS", "line 1"},	   {"=value", "line 1"},
	    {"SP ACE=x", "line 1"},	   {"GOOD=1\nAPI_TOKEN=again", "twice"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(ck_secrets_parse(bad[i].text, strlen(bad[i].text), &p, &e), -1);
		assert_string_equal(e.code, CK_E_PROV_FORMAT);
		if (!strstr(e.msg, bad[i].why))
			fail_msg("'%s': %s", bad[i].text, e.msg);
		assert_int_equal(p.n_secrets, 3); /* nothing added, not even GOOD */
	}
	char nul[] = "NUL=s3cr3t\0b";
	assert_int_equal(ck_secrets_parse(nul, sizeof(nul) - 1, &p, &e), -1);
	assert_null(strstr(e.msg, "s3cr3t")); /* the value is never quoted */
	size_t big = CK_SECRET_VALUE_MAX + 6;
	char *huge = malloc(big + 1);
	memcpy(huge, "HUGE=", 5);
	memset(huge + 5, 'x', big - 5);
	huge[big] = 0;
	assert_int_equal(ck_secrets_parse(huge, big, &p, &e), -1);
	free(huge);
	char many[64 * 16];
	size_t n = 0;
	for (int i = 0; i < CK_PROVISION_MAX_SECRETS; i++)
		n += (size_t)sprintf(many + n, "S%d=v\n", i);
	assert_int_equal(ck_secrets_parse(many, n, &p, &e), -1); /* 3 + 64 > 64 */
	assert_non_null(strstr(e.msg, "more than"));
	assert_int_equal(p.n_secrets, 3);
	ck_provision_free(&p);
}

static void test_sealing(void **state)
{
	struct fx *f = *state;
	uint8_t priv[32], pub[32], priv2[32], pub2[32], *msg;
	size_t n, sn, mn;
	char *env, *sealed;
	struct ck_provision p = sample(f), q;
	struct ck_err e;
	assert_int_equal(ck_seal_keygen(priv, pub, NULL), 0);
	assert_int_equal(ck_seal_keygen(priv2, pub2, NULL), 0);
	assert_int_equal(ck_provision_sign(&p, f->owner, &env, &n, NULL), 0);
	assert_int_equal(ck_seal(pub, (uint8_t *)env, n, &sealed, &sn, &e), 0);
	assert_null(strstr(sealed, "payload")); /* the relay sees ciphertext only */
	assert_int_equal(ck_unseal(priv, pub, sealed, sn, &msg, &mn, &e), 0);
	assert_int_equal(mn, n);
	assert_memory_equal(msg, env, n);
	assert_int_equal(ck_provision_open((char *)msg, mn, f->pub, f->cert, f->manifest, &q, &e),
			 0);
	ck_provision_free(&q);
	free(msg);
	/* another enclave's key cannot open it */
	assert_int_equal(ck_unseal(priv2, pub2, sealed, sn, &msg, &mn, &e), -1);
	assert_string_equal(e.code, CK_E_SEAL);
	/* tampering: a ciphertext character */
	char *ct = strstr(sealed, "\"ct\":\"") + 10;
	*ct = *ct == 'A' ? 'B' : 'A';
	assert_int_equal(ck_unseal(priv, pub, sealed, sn, &msg, &mn, &e), -1);
	/* not a sealed message */
	assert_int_equal(ck_unseal(priv, pub, "{}", 2, &msg, &mn, &e), -1);
	free(sealed);
	free(env);
	ck_provision_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_owner_tls_key),
	    cmocka_unit_test(test_secrets_file),
	    cmocka_unit_test(test_sealing),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
