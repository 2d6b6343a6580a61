/* SPDX-License-Identifier: Apache-2.0 */
/* Provisioning messages and X25519 sealing (see provision.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>

#include "cloak/codec.h"
#include "cloak/provision.h"
#include "x25519.h"
#include "provision_internal.h"
#include "util/json.h"

#define PFAIL(...) ck_errf(err, CK_E_PROV_FORMAT, __VA_ARGS__)

void ck_provision_free(struct ck_provision *p)
{
	if (!p)
		return;
	if (p->owner_tls_key) {
		OPENSSL_cleanse(p->owner_tls_key, strlen(p->owner_tls_key));
		free(p->owner_tls_key);
	}
	free(p->owner_tls_chain);
	for (size_t i = 0; i < p->n_secrets; i++) {
		if (p->secrets[i].value) {
			OPENSSL_cleanse(p->secrets[i].value, p->secrets[i].value_len);
			free(p->secrets[i].value);
		}
	}
	OPENSSL_cleanse(p, sizeof(*p));
}

static bool env_name(const char *s, size_t n)
{
	if (n == 0 || n > CK_SECRET_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

int ck_secrets_parse(const char *text, size_t len, struct ck_provision *p, struct ck_err *err)
{
	size_t first = p->n_secrets, line = 0;
	for (size_t i = 0; i < len;) {
		const char *s = text + i, *nl = memchr(s, '\n', len - i);
		size_t l = nl ? (size_t)(nl - s) : len - i;
		i += l + (nl ? 1 : 0);
		line++;
		if (l && s[l - 1] == '\r')
			l--;
		if (l == 0 || s[0] == '#')
			continue;
		const char *eq = memchr(s, '=', l);
		size_t nlen = eq ? (size_t)(eq - s) : 0, vlen = eq ? l - nlen - 1 : 0;
		if (!eq || !env_name(s, nlen)) {
			PFAIL("secrets line %zu: not NAME=VALUE with NAME [A-Z_][A-Z0-9_]* of at "
			      "most "
			      "%d characters",
			      line, CK_SECRET_NAME_MAX);
			goto fail;
		}
		if (vlen > CK_SECRET_VALUE_MAX || memchr(eq + 1, 0, vlen)) {
			PFAIL("secrets line %zu: the value of %.*s is over %d bytes or holds a NUL",
			      line, (int)nlen, s, CK_SECRET_VALUE_MAX);
			goto fail;
		}
		for (size_t j = 0; j < p->n_secrets; j++)
			if (strlen(p->secrets[j].name) == nlen &&
			    !memcmp(p->secrets[j].name, s, nlen)) {
				PFAIL("secrets line %zu: %.*s is given twice", line, (int)nlen, s);
				goto fail;
			}
		if (p->n_secrets == CK_PROVISION_MAX_SECRETS) {
			PFAIL("secrets line %zu: more than %d secrets", line,
			      CK_PROVISION_MAX_SECRETS);
			goto fail;
		}
		struct ck_secret *sec = &p->secrets[p->n_secrets];
		if (!(sec->value = malloc(vlen + 1))) {
			ck_errf(err, CK_E_NOMEM, "out of memory");
			goto fail;
		}
		memcpy(sec->name, s, nlen);
		sec->name[nlen] = 0;
		memcpy(sec->value, eq + 1, vlen);
		sec->value[vlen] = 0;
		sec->value_len = vlen;
		p->n_secrets++;
	}
	return 0;
fail: /* nothing added */
	while (p->n_secrets > first) {
		struct ck_secret *sec = &p->secrets[--p->n_secrets];
		OPENSSL_cleanse(sec->value, sec->value_len);
		free(sec->value);
		memset(sec, 0, sizeof(*sec));
	}
	return -1;
}

/* ---- a small JSON writer that wipes what it frees ---------------------------------------- */

struct wbuf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void wput(struct wbuf *w, const char *s, size_t n)
{
	if (w->failed)
		return;
	if (w->len + n + 1 > w->cap) {
		size_t cap = w->cap ? w->cap : 1024;
		while (cap < w->len + n + 1)
			cap *= 2;
		char *b = malloc(cap);
		if (!b) {
			w->failed = true;
			return;
		}
		if (w->p) {
			memcpy(b, w->p, w->len);
			OPENSSL_cleanse(w->p, w->cap);
			free(w->p);
		}
		w->p = b;
		w->cap = cap;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = 0;
}

static void wstr(struct wbuf *w, const char *s, size_t n)
{
	wput(w, "\"", 1);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char esc[8];
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			wput(w, esc, 2);
		} else if (c < 0x20 || c == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			wput(w, esc, 6);
		} else {
			wput(w, (const char *)&c, 1);
		}
	}
	wput(w, "\"", 1);
}

static void wkey(struct wbuf *w, const char *k, bool first)
{
	if (!first)
		wput(w, ",", 1);
	wstr(w, k, strlen(k));
	wput(w, ":", 1);
}

static void whex(struct wbuf *w, const uint8_t *p, size_t n)
{
	char h[2 * 64 + 1];
	ck_hex_encode(p, n, h);
	wstr(w, h, 2 * n);
	OPENSSL_cleanse(h, sizeof(h));
}

static void wfree(struct wbuf *w)
{
	if (w->p) {
		OPENSSL_cleanse(w->p, w->cap);
		free(w->p);
	}
	memset(w, 0, sizeof(*w));
}

static int cmp_secret(const void *a, const void *b)
{
	return strcmp(((const struct ck_secret *)a)->name, ((const struct ck_secret *)b)->name);
}

int ck_provision_sign(const struct ck_provision *p, const struct ck_owner_key *owner, char **out,
		      size_t *len, struct ck_err *err)
{
	struct wbuf w = {0}, env = {0};
	struct ck_secret sorted[CK_PROVISION_MAX_SECRETS];
	char t[CK_TIME_STR_MAX];
	uint8_t sig[CK_OWNER_SIG_LEN];
	int ret = -1;
	*out = NULL;
	if (!p->owner_tls_chain != !p->owner_tls_key)
		return PFAIL("the owner's TLS chain and key go together");
	if (p->n_secrets > CK_PROVISION_MAX_SECRETS)
		return PFAIL("more than %d secrets", CK_PROVISION_MAX_SECRETS);
	for (size_t i = 0; i < p->n_secrets; i++) {
		if (!env_name(p->secrets[i].name, strlen(p->secrets[i].name)))
			return PFAIL("secret name '%.64s' is not [A-Z_][A-Z0-9_]*",
				     p->secrets[i].name);
		if (p->secrets[i].value_len > CK_SECRET_VALUE_MAX ||
		    memchr(p->secrets[i].value, 0, p->secrets[i].value_len))
			return PFAIL("secret '%s' is over %d bytes or contains a NUL",
				     p->secrets[i].name, CK_SECRET_VALUE_MAX);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p->secrets[i].name, p->secrets[j].name))
				return PFAIL("secret '%s' is given twice", p->secrets[i].name);
	}
	memcpy(sorted, p->secrets, p->n_secrets * sizeof(sorted[0]));
	qsort(sorted, p->n_secrets, sizeof(sorted[0]), cmp_secret);
	/* canonical: keys in sorted order, no spaces */
	wput(&w, "{", 1);
	wkey(&w, "cloak_provision", true);
	wput(&w, "1", 1);
	wkey(&w, "enclave_cert_sha256", false);
	whex(&w, p->enclave_cert_sha256, 32);
	wkey(&w, "issued_at", false);
	ck_time_format(p->issued_at, t);
	wstr(&w, t, strlen(t));
	wkey(&w, "manifest_sha256", false);
	whex(&w, p->manifest_sha256, 32);
	if (p->owner_tls_chain) {
		wkey(&w, "owner_tls_chain", false);
		wstr(&w, p->owner_tls_chain, strlen(p->owner_tls_chain));
	}
	if (p->owner_tls_key) {
		wkey(&w, "owner_tls_key", false);
		wstr(&w, p->owner_tls_key, strlen(p->owner_tls_key));
	}
	wkey(&w, "package_key", false);
	whex(&w, p->package_key, CK_PKG_KEY_LEN);
	wkey(&w, "secrets", false);
	wput(&w, "{", 1);
	for (size_t i = 0; i < p->n_secrets; i++) {
		wkey(&w, sorted[i].name, i == 0);
		wstr(&w, sorted[i].value, sorted[i].value_len);
	}
	wput(&w, "}}", 2);
	OPENSSL_cleanse(sorted, sizeof(sorted));
	if (w.failed || w.len > CK_PROVISION_MAX_LEN) {
		ck_errf(err, w.failed ? CK_E_NOMEM : CK_E_PROV_FORMAT, "provisioning payload %s",
			w.failed ? "out of memory" : "over 64 KiB");
		goto out;
	}
	if (ck_owner_sign(owner, (const uint8_t *)w.p, w.len, sig, err) < 0)
		goto out;
	char *b64 = ck_b64_encode((const uint8_t *)w.p, w.len);
	if (!b64) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	wput(&env, "{\"payload\":", 11);
	wstr(&env, b64, strlen(b64));
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	wput(&env, ",\"signature\":", 13);
	whex(&env, sig, sizeof(sig));
	wput(&env, "}", 1);
	if (env.failed) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	*out = env.p;
	*len = env.len;
	env.p = NULL;
	ret = 0;
out:
	wfree(&w);
	wfree(&env);
	return ret;
}

/* A required lower-case hex string member of exactly n bytes. */
static int hex_member(const struct ck_jdoc *d, const char *key, uint8_t *out, size_t n,
		      struct ck_err *err)
{
	long v = ck_json_get(d, 0, key);
	if (v < 0 || d->t[v].type != CK_JT_STRING || d->t[v].escaped)
		return PFAIL("provisioning: \"%s\" is missing or not a string", key);
	if (ck_hex_decode_exact(d->text + d->t[v].start, d->t[v].end - d->t[v].start, out, n, key,
				err) < 0) {
		if (err)
			err->code = CK_E_PROV_FORMAT;
		return -1;
	}
	return 0;
}

/* true when `pem` starts with a certificate that parses */
static bool pem_has_cert(const char *pem, size_t n)
{
	BIO *b = BIO_new_mem_buf(pem, (int)n);
	X509 *c = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
	BIO_free(b);
	X509_free(c);
	return c != NULL;
}

int ck_provision_parse_payload(const char *text, size_t len, struct ck_provision *p,
			       struct ck_err *err)
{
	struct ck_jdoc d;
	long long ver;
	int ret = -1;
	if (ck_json_parse(text, len, &d, err) < 0) {
		if (err)
			err->code = CK_E_PROV_FORMAT;
		return -1;
	}
	static const char *const known[] = {
	    "cloak_provision", "enclave_cert_sha256", "issued_at",   "manifest_sha256",
	    "owner_tls_chain", "owner_tls_key",	      "package_key", "secrets"};
	if (d.t[0].type != CK_JT_OBJECT) {
		PFAIL("provisioning payload is not a JSON object");
		goto out;
	}
	size_t k = 1;
	for (uint32_t m = 0; m < d.t[0].size; m++, k = d.t[k + 1].next) {
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = ck_json_str_eq(&d, k, known[i]);
		if (!ok) {
			PFAIL(
			    "provisioning: unknown field \"%.*s\"",
			    (int)(d.t[k].end - d.t[k].start > 40 ? 40 : d.t[k].end - d.t[k].start),
			    text + d.t[k].start);
			goto out;
		}
	}
	long v = ck_json_get(&d, 0, "cloak_provision");
	if (v < 0 || ck_json_int(&d, (size_t)v, 1, 1, &ver) < 0) {
		PFAIL("provisioning: \"cloak_provision\" is not version 1");
		goto out;
	}
	if (hex_member(&d, "enclave_cert_sha256", p->enclave_cert_sha256, 32, err) < 0 ||
	    hex_member(&d, "manifest_sha256", p->manifest_sha256, 32, err) < 0 ||
	    hex_member(&d, "package_key", p->package_key, CK_PKG_KEY_LEN, err) < 0)
		goto out;
	v = ck_json_get(&d, 0, "issued_at");
	if (v < 0 || d.t[v].type != CK_JT_STRING ||
	    ck_time_parse(text + d.t[v].start, d.t[v].end - d.t[v].start, &p->issued_at, NULL) <
		0) {
		PFAIL("provisioning: \"issued_at\" is not an RFC 3339 time");
		goto out;
	}
	if ((v = ck_json_get(&d, 0, "owner_tls_key")) >= 0) {
		size_t n;
		if (d.t[v].type != CK_JT_STRING ||
		    !(p->owner_tls_key = ck_json_strdup(&d, (size_t)v, &n))) {
			PFAIL("provisioning: \"owner_tls_key\" is not a string");
			goto out;
		}
		BIO *b = BIO_new_mem_buf(p->owner_tls_key, (int)n);
		EVP_PKEY *key = b ? PEM_read_bio_PrivateKey(b, NULL, NULL, NULL) : NULL;
		BIO_free(b);
		EVP_PKEY_free(key);
		if (!key) {
			PFAIL("provisioning: \"owner_tls_key\" is not a PEM private key");
			goto out;
		}
	}
	if ((v = ck_json_get(&d, 0, "owner_tls_chain")) >= 0) {
		size_t n;
		if (d.t[v].type != CK_JT_STRING ||
		    !(p->owner_tls_chain = ck_json_strdup(&d, (size_t)v, &n)) ||
		    !pem_has_cert(p->owner_tls_chain, n)) {
			PFAIL("provisioning: \"owner_tls_chain\" is not a PEM certificate chain");
			goto out;
		}
	}
	if (!p->owner_tls_chain != !p->owner_tls_key) {
		PFAIL("provisioning: \"owner_tls_chain\" and \"owner_tls_key\" go together");
		goto out;
	}
	v = ck_json_get(&d, 0, "secrets");
	if (v < 0 || d.t[v].type != CK_JT_OBJECT || d.t[v].size > CK_PROVISION_MAX_SECRETS) {
		PFAIL("provisioning: \"secrets\" is not an object of at most %d secrets",
		      CK_PROVISION_MAX_SECRETS);
		goto out;
	}
	k = ck_json_child((size_t)v);
	for (uint32_t m = 0; m < d.t[v].size; m++, k = d.t[k + 1].next) {
		const struct ck_jtok *kt = &d.t[k], *vt = &d.t[k + 1];
		struct ck_secret *s = &p->secrets[p->n_secrets];
		size_t nl = kt->end - kt->start;
		if (!env_name(text + kt->start, nl)) {
			PFAIL("provisioning: secret name '%.*s' is not [A-Z_][A-Z0-9_]*",
			      (int)(nl > 64 ? 64 : nl), text + kt->start);
			goto out;
		}
		if (vt->type != CK_JT_STRING) {
			PFAIL("provisioning: secret '%.*s' is not a string", (int)nl,
			      text + kt->start);
			goto out;
		}
		memcpy(s->name, text + kt->start, nl);
		s->name[nl] = 0;
		if (!(s->value = ck_json_strdup(&d, k + 1, &s->value_len))) {
			ck_errf(err, CK_E_NOMEM, "out of memory");
			goto out;
		}
		p->n_secrets++;
		if (s->value_len > CK_SECRET_VALUE_MAX || memchr(s->value, 0, s->value_len)) {
			PFAIL("provisioning: secret '%s' is over %d bytes or contains a NUL",
			      s->name, CK_SECRET_VALUE_MAX);
			goto out;
		}
	}
	ret = 0;
out:
	ck_json_free(&d);
	return ret;
}

int ck_provision_open(const char *envelope, size_t len, const uint8_t owner_pub[CK_OWNER_PUB_LEN],
		      const uint8_t enclave_cert_sha256[32], const uint8_t manifest_sha256[32],
		      struct ck_provision *p, struct ck_err *err)
{
	struct ck_jdoc d;
	uint8_t *payload = NULL, sig[CK_OWNER_SIG_LEN];
	size_t plen = 0;
	int ret = -1;
	memset(p, 0, sizeof(*p));
	if (len > CK_PROVISION_MAX_LEN * 2)
		return ck_errf(err, CK_E_TOO_LARGE,
			       "provisioning message of %zu bytes is over the limit", len);
	if (ck_json_parse(envelope, len, &d, err) < 0) {
		if (err)
			err->code = CK_E_PROV_FORMAT;
		return -1;
	}
	long pv = ck_json_get(&d, 0, "payload"), sv = ck_json_get(&d, 0, "signature");
	if (d.t[0].type != CK_JT_OBJECT || d.t[0].size != 2 || pv < 0 || sv < 0 ||
	    d.t[pv].type != CK_JT_STRING || d.t[sv].type != CK_JT_STRING) {
		PFAIL("provisioning message is not {\"payload\":..., \"signature\":...}");
		goto out;
	}
	if (ck_b64_decode_alloc(envelope + d.t[pv].start, d.t[pv].end - d.t[pv].start, &payload,
				&plen, "payload", err) < 0 ||
	    ck_hex_decode_exact(envelope + d.t[sv].start, d.t[sv].end - d.t[sv].start, sig,
				sizeof(sig), "signature", err) < 0) {
		if (err)
			err->code = CK_E_PROV_FORMAT;
		goto out;
	}
	/* the owner's signature first: nothing unauthenticated is parsed further */
	if (!ck_owner_verify(owner_pub, payload, plen, sig)) {
		ck_errf(err, CK_E_PROV_SIGNATURE,
			"provisioning is not signed by the owner key of the manifest");
		goto out;
	}
	if (plen > CK_PROVISION_MAX_LEN) {
		PFAIL("provisioning payload is over %d bytes", CK_PROVISION_MAX_LEN);
		goto out;
	}
	if (ck_provision_parse_payload((const char *)payload, plen, p, err) < 0)
		goto out;
	if (!ck_ct_equal(p->enclave_cert_sha256, enclave_cert_sha256, 32)) {
		ck_errf(
		    err, CK_E_PROV_BINDING,
		    "provisioning is for another enclave instance (its certificate hash differs): "
		    "a replay");
		goto out;
	}
	if (!ck_ct_equal(p->manifest_sha256, manifest_sha256, 32)) {
		ck_errf(err, CK_E_PROV_BINDING, "provisioning is for another manifest");
		goto out;
	}
	ret = 0;
out:
	if (payload) {
		OPENSSL_cleanse(payload, plen);
		free(payload);
	}
	ck_json_free(&d);
	if (ret < 0)
		ck_provision_free(p);
	return ret;
}

/* ---- sealing ------------------------------------------------------------------------------- */

#define SEAL_SALT "cloak seal v1"

int ck_seal_keygen(uint8_t priv[CK_SEAL_KEY_LEN], uint8_t pub[CK_SEAL_KEY_LEN], struct ck_err *err)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	size_t a = CK_SEAL_KEY_LEN, b = CK_SEAL_KEY_LEN;
	int ok = k && EVP_PKEY_get_raw_private_key(k, priv, &a) == 1 &&
		 EVP_PKEY_get_raw_public_key(k, pub, &b) == 1;
	EVP_PKEY_free(k);
	return ok ? 0 : ck_errf(err, CK_E_SEAL, "X25519 key generation failed");
}

/* key ‖ nonce = HKDF-SHA256(X25519(priv, peer), salt, epk ‖ seal_pub) */
static int seal_keys(EVP_PKEY *mine, const uint8_t peer_pub[32], const uint8_t epk[32],
		     const uint8_t seal_pub[32], uint8_t km[44])
{
	uint8_t info[64];
	memcpy(info, epk, 32);
	memcpy(info + 32, seal_pub, 32);
	return ck_x25519_hkdf(mine, peer_pub, SEAL_SALT, sizeof(SEAL_SALT) - 1, info, sizeof(info),
			      km, 44);
}

int ck_seal(const uint8_t pub[CK_SEAL_KEY_LEN], const uint8_t *msg, size_t len, char **out,
	    size_t *out_len, struct ck_err *err)
{
	uint8_t km[44], epk[32], *ct = NULL;
	size_t el = sizeof(epk);
	EVP_PKEY *eph = EVP_PKEY_Q_keygen(NULL, NULL, "X25519");
	EVP_CIPHER_CTX *c = NULL;
	int n, ret = -1;
	*out = NULL;
	if (len > CK_PROVISION_MAX_LEN * 2)
		return ck_errf(err, CK_E_TOO_LARGE, "message to seal is over the limit");
	if (!eph || EVP_PKEY_get_raw_public_key(eph, epk, &el) != 1 ||
	    seal_keys(eph, pub, epk, pub, km) < 0 || !(ct = malloc(len + 16)) ||
	    !(c = EVP_CIPHER_CTX_new()) ||
	    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, km, km + 32) != 1 ||
	    EVP_EncryptUpdate(c, ct, &n, msg, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(c, ct + n, &n) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, ct + len) != 1) {
		ck_errf(err, CK_E_SEAL, "sealing failed (is the seal key a valid X25519 key?)");
		goto out;
	}
	char *b64 = ck_b64_encode(ct, len + 16), hex[65];
	if (!b64) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	ck_hex_encode(epk, 32, hex);
	size_t cap = strlen(b64) + 128;
	if ((*out = malloc(cap))) {
		*out_len = (size_t)snprintf(
		    *out, cap, "{\"cloak_sealed\":1,\"epk\":\"%s\",\"ct\":\"%s\"}", hex, b64);
		ret = 0;
	}
	free(b64);
out:
	OPENSSL_cleanse(km, sizeof(km));
	free(ct);
	EVP_CIPHER_CTX_free(c);
	EVP_PKEY_free(eph);
	return ret;
}

int ck_unseal(const uint8_t priv[CK_SEAL_KEY_LEN], const uint8_t pub[CK_SEAL_KEY_LEN],
	      const char *sealed, size_t len, uint8_t **msg, size_t *msg_len, struct ck_err *err)
{
	struct ck_jdoc d;
	uint8_t epk[32], km[44], *ct = NULL, *pt = NULL;
	size_t cl = 0;
	long long ver;
	EVP_PKEY *me = NULL;
	EVP_CIPHER_CTX *c = NULL;
	int n, ret = -1;
	*msg = NULL;
	if (len > CK_PROVISION_MAX_LEN * 3)
		return ck_errf(err, CK_E_TOO_LARGE, "sealed message is over the limit");
	if (ck_json_parse(sealed, len, &d, err) < 0) {
		if (err)
			err->code = CK_E_SEAL;
		return -1;
	}
	long vv = ck_json_get(&d, 0, "cloak_sealed"), ev = ck_json_get(&d, 0, "epk"),
	     cv = ck_json_get(&d, 0, "ct");
	if (d.t[0].size != 3 || vv < 0 || ev < 0 || cv < 0 ||
	    ck_json_int(&d, (size_t)vv, 1, 1, &ver) < 0 || d.t[ev].type != CK_JT_STRING ||
	    d.t[cv].type != CK_JT_STRING ||
	    ck_hex_decode_exact(sealed + d.t[ev].start, d.t[ev].end - d.t[ev].start, epk, 32, "epk",
				NULL) < 0 ||
	    ck_b64_decode_alloc(sealed + d.t[cv].start, d.t[cv].end - d.t[cv].start, &ct, &cl, "ct",
				NULL) < 0 ||
	    cl < 16) {
		ck_errf(err, CK_E_SEAL,
			"not a sealed message ({\"cloak_sealed\":1,\"epk\":..,\"ct\":..})");
		goto out;
	}
	me = EVP_PKEY_new_raw_private_key(EVP_PKEY_X25519, NULL, priv, CK_SEAL_KEY_LEN);
	if (!me || seal_keys(me, epk, epk, pub, km) < 0 || !(pt = malloc(cl)) ||
	    !(c = EVP_CIPHER_CTX_new()) ||
	    EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, km, km + 32) != 1 ||
	    EVP_DecryptUpdate(c, pt, &n, ct, (int)(cl - 16)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, ct + cl - 16) != 1 ||
	    EVP_DecryptFinal_ex(c, pt + n, &n) != 1) {
		if (pt)
			OPENSSL_cleanse(pt, cl);
		ck_errf(err, CK_E_SEAL, "the sealed message does not open with this enclave's key");
		goto out;
	}
	*msg = pt;
	*msg_len = cl - 16;
	pt = NULL;
	ret = 0;
out:
	OPENSSL_cleanse(km, sizeof(km));
	free(pt);
	free(ct);
	EVP_CIPHER_CTX_free(c);
	EVP_PKEY_free(me);
	ck_json_free(&d);
	return ret;
}
