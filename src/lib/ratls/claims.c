/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "cloak/claims.h"
#include "util/cbor.h"

const char *ck_phase_name(enum ck_phase p)
{
	return p == CK_PHASE_PROVISIONING ? "provisioning"
	       : p == CK_PHASE_SERVING	  ? "serving"
					  : "?";
}

size_t ck_hash(enum ck_hash_alg alg, const uint8_t *data, size_t len, uint8_t *out)
{
	const EVP_MD *md = alg == CK_HASH_SHA256   ? EVP_sha256()
			   : alg == CK_HASH_SHA384 ? EVP_sha384()
			   : alg == CK_HASH_SHA512 ? EVP_sha512()
						   : NULL;
	unsigned n = 0;
	if (!md || EVP_Digest(data, len, out, &n, md, NULL) != 1)
		return 0;
	return n;
}

#define CFAIL(...) ck_errf(err, CK_E_CLAIMS, __VA_ARGS__)

static bool key_is(const uint8_t *k, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(k, s, n) == 0;
}

static int bytes32(struct ck_cbor_reader *r, uint8_t out[32], const char *key, struct ck_err *err)
{
	const uint8_t *p;
	size_t n;
	if (ck_cbor_string(r, CK_CBOR_BYTES, &p, &n) < 0 || n != 32)
		return CFAIL("claim \"%s\" is not a 32-byte string", key);
	memcpy(out, p, 32);
	return 0;
}

static int text(struct ck_cbor_reader *r, char *out, size_t cap, const char *key,
		struct ck_err *err)
{
	const uint8_t *p;
	size_t n;
	if (ck_cbor_string(r, CK_CBOR_TEXT, &p, &n) < 0 || n >= cap)
		return CFAIL("claim \"%s\" is not a short text string", key);
	memcpy(out, p, n);
	out[n] = 0;
	if (strlen(out) != n)
		return CFAIL("claim \"%s\" contains a NUL", key);
	return 0;
}

static int pubkey_hash(struct ck_cbor_reader *r, struct ck_claims *c, struct ck_err *err)
{
	const uint8_t *p, *h;
	size_t n, hn;
	int m;
	uint64_t a, alg;
	struct ck_cbor_reader in;
	if (ck_cbor_string(r, CK_CBOR_BYTES, &p, &n) < 0)
		return CFAIL("claim \"pubkey-hash\" is not a byte string");
	ck_cbor_init(&in, p, n);
	if (ck_cbor_head(&in, &m, &a) < 0 || m != CK_CBOR_ARRAY || a != 2 ||
	    ck_cbor_head(&in, &m, &alg) < 0 || m != CK_CBOR_UINT ||
	    ck_cbor_string(&in, CK_CBOR_BYTES, &h, &hn) < 0 || !ck_cbor_done(&in))
		return CFAIL("claim \"pubkey-hash\" is not [alg, hash]");
	size_t want = alg == CK_HASH_SHA256   ? 32
		      : alg == CK_HASH_SHA384 ? 48
		      : alg == CK_HASH_SHA512 ? 64
					      : 0;
	if (!want)
		return CFAIL("claim \"pubkey-hash\": hash algorithm %llu is not SHA-256/384/512 "
			     "(1, 7, 8)",
			     (unsigned long long)alg);
	if (hn != want)
		return CFAIL("claim \"pubkey-hash\": %zu-byte hash for algorithm %llu", hn,
			     (unsigned long long)alg);
	c->has_pubkey_hash = true;
	c->hash_alg = (enum ck_hash_alg)alg;
	memcpy(c->pubkey_hash, h, hn);
	c->pubkey_hash_len = hn;
	return 0;
}

int ck_claims_parse(const uint8_t *cbor, size_t len, struct ck_claims *c, struct ck_err *err)
{
	struct ck_cbor_reader r;
	int m;
	uint64_t n;
	memset(c, 0, sizeof(*c));
	if (len > CK_CLAIMS_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "claims are %zu bytes, over %d", len,
			       CK_CLAIMS_MAX_LEN);
	ck_cbor_init(&r, cbor, len);
	if (ck_cbor_head(&r, &m, &n) < 0 || m != CK_CBOR_MAP || n > len)
		return CFAIL("claims are not a CBOR map");
	static const char *const keys[] = {"pubkey-hash",   "nonce",	      "cloak.phase",
					   "cloak.package", "cloak.manifest", "cloak.app",
					   "cloak.mode",    "cloak.seal-key", "cloak.nonce-root"};
	struct {
		const uint8_t *p;
		size_t n;
	} all[CK_CLAIMS_MAX_KEYS];
	if (n > CK_CLAIMS_MAX_KEYS)
		return CFAIL("more than %d claims", CK_CLAIMS_MAX_KEYS);
	for (uint64_t i = 0; i < n; i++) {
		const uint8_t *k;
		size_t kn;
		char buf[32];
		if (ck_cbor_string(&r, CK_CBOR_TEXT, &k, &kn) < 0)
			return CFAIL("claim key #%llu is not a text string", (unsigned long long)i);
		for (uint64_t j = 0; j < i; j++) /* any key, known or not, appears once */
			if (all[j].n == kn && memcmp(all[j].p, k, kn) == 0)
				return CFAIL("claim \"%.*s\" appears twice",
					     (int)(kn > 40 ? 40 : kn), k);
		all[i].p = k;
		all[i].n = kn;
		int idx = -1;
		for (int j = 0; j < (int)(sizeof(keys) / sizeof(keys[0])); j++)
			if (key_is(k, kn, keys[j]))
				idx = j;
		if (idx < 0) {
			c->n_unknown++;
			if (ck_cbor_skip(&r) < 0)
				return CFAIL("claim \"%.*s\" is malformed",
					     (int)(kn > 40 ? 40 : kn), k);
			continue;
		}
		int rc = 0;
		switch (idx) {
		case 0:
			rc = pubkey_hash(&r, c, err);
			break;
		case 1: {
			const uint8_t *p;
			size_t pn;
			if (ck_cbor_string(&r, CK_CBOR_BYTES, &p, &pn) < 0 || pn == 0 ||
			    pn > CK_NONCE_MAX)
				return CFAIL("claim \"nonce\" is not a byte string of 1..%d bytes",
					     CK_NONCE_MAX);
			memcpy(c->nonce, p, pn);
			c->nonce_len = pn;
			c->has_nonce = true;
			break;
		}
		case 2:
			if (text(&r, buf, sizeof(buf), keys[idx], err) < 0)
				return -1;
			c->phase = !strcmp(buf, "provisioning") ? CK_PHASE_PROVISIONING
				   : !strcmp(buf, "serving")	? CK_PHASE_SERVING
								: 0;
			if (!c->phase)
				return CFAIL(
				    "claim \"cloak.phase\" is '%s', not provisioning or serving",
				    buf);
			break;
		case 3:
			rc = bytes32(&r, c->package, keys[idx], err);
			c->has_package = true;
			break;
		case 4:
			rc = bytes32(&r, c->manifest, keys[idx], err);
			c->has_manifest = true;
			break;
		case 5:
			rc = bytes32(&r, c->app, keys[idx], err);
			c->has_app = true;
			break;
		case 6:
			if (text(&r, buf, sizeof(buf), keys[idx], err) < 0)
				return -1;
			if (ck_mode_parse(buf, &c->mode) < 0)
				return CFAIL("claim \"cloak.mode\" is '%s', not a cloak mode", buf);
			break;
		case 7:
			rc = bytes32(&r, c->seal_key, keys[idx], err);
			c->has_seal_key = true;
			break;
		case 8:
			rc = bytes32(&r, c->nonce_root, keys[idx], err);
			c->has_nonce_root = true;
			break;
		}
		if (rc < 0)
			return -1;
	}
	if (!ck_cbor_done(&r))
		return CFAIL("trailing bytes after the claims map");
	return 0;
}

int ck_claims_encode(const struct ck_claims *c, uint8_t **out, size_t *len, struct ck_err *err)
{
	struct ck_cbor_writer w = {0}, ph = {0};
	size_t n = (size_t)c->has_nonce + (size_t)c->has_app + (c->mode != 0) + (c->phase != 0) +
		   (size_t)c->has_pubkey_hash + (size_t)c->has_package + (size_t)c->has_manifest +
		   (size_t)c->has_seal_key + (size_t)c->has_nonce_root;
	*out = NULL;
	ck_cbor_put_head(&w, CK_CBOR_MAP, n);
	/* RFC 8949 §4.2.1 order: shorter keys first, then bytewise */
	if (c->has_nonce) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "nonce", 5);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->nonce, c->nonce_len);
	}
	if (c->has_app) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.app", 9);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->app, 32);
	}
	if (c->mode) {
		const char *m = ck_mode_name(c->mode);
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.mode", 10);
		ck_cbor_put_string(&w, CK_CBOR_TEXT, m, strlen(m));
	}
	if (c->phase) {
		const char *p = ck_phase_name(c->phase);
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.phase", 11);
		ck_cbor_put_string(&w, CK_CBOR_TEXT, p, strlen(p));
	}
	if (c->has_pubkey_hash) {
		ck_cbor_put_head(&ph, CK_CBOR_ARRAY, 2);
		ck_cbor_put_head(&ph, CK_CBOR_UINT, c->hash_alg);
		ck_cbor_put_string(&ph, CK_CBOR_BYTES, c->pubkey_hash, c->pubkey_hash_len);
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "pubkey-hash", 11);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, ph.buf, ph.len);
	}
	if (c->has_package) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.package", 13);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->package, 32);
	}
	if (c->has_manifest) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.manifest", 14);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->manifest, 32);
	}
	if (c->has_seal_key) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.seal-key", 14);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->seal_key, 32);
	}
	if (c->has_nonce_root) {
		ck_cbor_put_string(&w, CK_CBOR_TEXT, "cloak.nonce-root", 16);
		ck_cbor_put_string(&w, CK_CBOR_BYTES, c->nonce_root, 32);
	}
	free(ph.buf);
	if (w.failed || ph.failed) {
		free(w.buf);
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	}
	*out = w.buf;
	*len = w.len;
	return 0;
}
