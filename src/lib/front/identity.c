/* SPDX-License-Identifier: Apache-2.0 */
/* identity.c - the runtime's TLS identities; the contract is in include/cloak/identity.h. */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cloak/bundle.h"
#include "cloak/identity.h"
#include "cloak/ratls.h"

/* The parts every kind shares: the SPKI and certificate digests, the server context. */
static int finish(struct ck_identity *id, STACK_OF(X509) * chain, struct ck_err *err)
{
	uint8_t *der = NULL;
	int n = i2d_X509(id->cert, &der);
	if (n <= 0)
		return ck_errf(err, CK_E_CERT_FORMAT, "cannot encode the certificate");
	EVP_Digest(der, (size_t)n, id->cert_sha256, NULL, EVP_sha256(), NULL);
	OPENSSL_free(der);
	if (ck_spki_der(id->key, &id->spki, &id->spki_len) < 0)
		return ck_errf(err, CK_E_NOMEM, "cannot encode the public key");
	if (!(id->tls = SSL_CTX_new(TLS_server_method())) ||
	    SSL_CTX_set_min_proto_version(id->tls, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_use_certificate(id->tls, id->cert) != 1 ||
	    SSL_CTX_use_PrivateKey(id->tls, id->key) != 1 ||
	    SSL_CTX_check_private_key(id->tls) != 1)
		return ck_errf(err, CK_E_TLS, "cannot make a TLS context for the certificate");
	for (int i = 1; chain && i < sk_X509_num(chain); i++)
		if (SSL_CTX_add1_chain_cert(id->tls, sk_X509_value(chain, i)) != 1)
			return ck_errf(err, CK_E_TLS, "cannot add certificate %d of the chain",
				       i + 1);
	/* One session cache per identity: a session from the provisioning identity is never
	 * resumed under the serving one (its context id differs). */
	SSL_CTX_set_session_id_context(id->tls, id->cert_sha256, 32);
	return 0;
}

int ck_identity_adopt(struct ck_identity *id, EVP_PKEY *key, X509 *cert, const struct ck_claims *c,
		      struct ck_err *err)
{
	memset(id, 0, sizeof(*id));
	id->claims = *c;
	id->key = key;
	id->cert = cert;
	if (finish(id, NULL, err) < 0) {
		ck_identity_free(id);
		return -1;
	}
	return 0;
}

int ck_identity_ratls(struct ck_identity *id, struct ck_attester *att, const struct ck_claims *c,
		      const char *host, struct ck_err *err)
{
	const char *dns[] = {host && *host ? host : "localhost", "localhost", NULL};
	static const char *const ips[] = {"127.0.0.1", NULL};
	struct ck_ratls_cert_opts o = {.common_name = dns[0],
				       .dns = dns,
				       .ips = ips,
				       .valid_days = CK_IDENTITY_VALID_DAYS,
				       .legacy_extension = strncmp(att->name, "tsm", 3) != 0,
				       .claims = *c};
	EVP_PKEY *key;
	X509 *cert;
	memset(id, 0, sizeof(*id));
	if (ck_ratls_issue(att, &o, &key, &cert, err) < 0)
		return -1;
	return ck_identity_adopt(id, key, cert, c, err);
}

int ck_identity_owner(struct ck_identity *id, const char *chain_pem, const char *key_pem,
		      const struct ck_claims *c, struct ck_err *err)
{
	STACK_OF(X509) *chain = sk_X509_new_null();
	BIO *b = BIO_new_mem_buf(chain_pem, -1);
	X509 *x;
	int ret = -1;
	memset(id, 0, sizeof(*id));
	id->claims = *c;
	if (!chain || !b) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!sk_X509_push(chain, x)) {
			X509_free(x);
			ck_errf(err, CK_E_NOMEM, "out of memory");
			goto out;
		}
	ERR_clear_error(); /* the end of the PEM stream */
	BIO_free(b);
	if (sk_X509_num(chain) == 0) {
		b = NULL;
		ck_errf(err, CK_E_CERT_FORMAT, "the owner's chain holds no PEM certificate");
		goto out;
	}
	if (!(b = BIO_new_mem_buf(key_pem, -1)) ||
	    !(id->key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		ck_errf(err, CK_E_KEY, "the owner's TLS key is not a PEM private key");
		goto out;
	}
	id->cert = sk_X509_value(chain, 0);
	X509_up_ref(id->cert);
	if (X509_check_private_key(id->cert, id->key) != 1) {
		ERR_clear_error();
		char subject[256];
		X509_NAME_oneline(X509_get_subject_name(id->cert), subject, sizeof(subject));
		ck_errf(err, CK_E_KEY,
			"the owner's TLS key is not the key of '%s', the chain's "
			"first certificate",
			subject);
		goto out;
	}
	ret = finish(id, chain, err);
out:
	BIO_free(b);
	sk_X509_pop_free(chain, X509_free);
	if (ret < 0)
		ck_identity_free(id);
	return ret;
}

void ck_identity_none(struct ck_identity *id, const struct ck_claims *c)
{
	memset(id, 0, sizeof(*id));
	id->claims = *c;
}

bool ck_identity_served(const struct ck_identity *id, const SSL *ssl)
{
	X509 *served = ssl ? SSL_get_certificate(ssl) : NULL;
	return served && id->cert && X509_cmp(served, id->cert) == 0;
}

static int evidence(const struct ck_identity *id, struct ck_attester *att,
		    const struct ck_collateral *coll, const struct ck_claims *tmpl,
		    const uint8_t *nonce, size_t nonce_len, char **out, struct ck_err *err)
{
	struct ck_bundle b = {0};
	if (ck_ratls_evidence(att, id->spki, id->spki_len, tmpl, nonce, nonce_len, &b.quote,
			      &b.quote_len, &b.claims, &b.claims_len, err) < 0)
		return -1;
	if (coll) { /* borrowed: only dumped, never freed here */
		b.collateral = *coll;
		b.has_collateral = true;
	}
	*out = ck_bundle_dump(&b);
	free(b.quote);
	free(b.claims);
	return *out ? 0 : ck_errf(err, CK_E_NOMEM, "out of memory for the evidence bundle");
}

int ck_identity_evidence(const struct ck_identity *id, struct ck_attester *att,
			 const struct ck_collateral *coll, const uint8_t *nonce, size_t nonce_len,
			 char **out, struct ck_err *err)
{
	return evidence(id, att, coll, &id->claims, nonce, nonce_len, out, err);
}

int ck_identity_evidence_root(const struct ck_identity *id, struct ck_attester *att,
			      const struct ck_collateral *coll, const uint8_t root[32], char **out,
			      struct ck_err *err)
{
	struct ck_claims c = id->claims;
	c.has_nonce_root = true;
	memcpy(c.nonce_root, root, 32);
	return evidence(id, att, coll, &c, NULL, 0, out, err);
}

void ck_identity_free(struct ck_identity *id)
{
	SSL_CTX_free(id->tls);
	X509_free(id->cert);
	EVP_PKEY_free(id->key);
	free(id->spki);
	free(id->evidence);
	memset(id, 0, sizeof(*id));
}
