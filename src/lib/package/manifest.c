/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cloak/codec.h"
#include "cloak/dns.h"
#include "cloak/manifest.h"
#include "cloak/policy.h"

#define LOG_KEY_PREFIX "x25519:"

#define JSON_CANONICAL (JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII)
#define MFAIL(...)     ck_errf(err, CK_E_MANIFEST, __VA_ARGS__)

void ck_manifest_free(struct ck_manifest *m)
{
	if (m) {
		free(m->policy_json);
		m->policy_json = NULL;
	}
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return false;
	return true;
}

static int check(const struct ck_manifest *m, struct ck_err *err)
{
	if (!ck_dns_label(m->name, strlen(m->name)))
		return MFAIL("name '%s' is not a DNS label ([a-z0-9-], 1..63, no leading or "
			     "trailing '-')",
			     m->name);
	if (m->mode < CK_MODE_ZERO_TRUST || m->mode > CK_MODE_OPERATOR_TLS)
		return MFAIL("mode %d is not zero-trust, owner-cert or operator-tls", (int)m->mode);
	if (m->domain[0] && !ck_dns_name(m->domain, strlen(m->domain)))
		return MFAIL("domain '%s' is not a lower-case DNS name", m->domain);
	if ((m->mode == CK_MODE_OWNER_CERT) != m->has_owner_cert)
		return MFAIL("owner_cert_sha256 is required with mode owner-cert, and only then");
	if (m->mode == CK_MODE_OWNER_CERT && !m->domain[0])
		return MFAIL("mode owner-cert needs the domain of the owner's certificate");
	if (!m->run[0] || !printable(m->run))
		return MFAIL("run must be a non-empty printable command line");
	if (m->health[0] != '/' || !printable(m->health) || strchr(m->health, ' '))
		return MFAIL("health '%s' is not an absolute URL path", m->health);
	return 0;
}

static int sha256(const void *p, size_t n, uint8_t out[32])
{
	return EVP_Digest(p, n, out, NULL, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static json_t *to_json(const struct ck_manifest *m, struct ck_err *err)
{
	char fp[65], ph[65], oc[65], ok[CK_OWNER_PUB_STR_LEN + 1], ex[CK_TIME_STR_MAX];
	ck_hex_encode(m->fingerprint, 32, fp);
	ck_hex_encode(m->package_sha256, 32, ph);
	ck_owner_pub_format(m->owner_key, ok);
	json_t *o =
	    json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "cloak_manifest",
		      CK_MANIFEST_VERSION, "name", m->name, "fingerprint", fp, "package_sha256", ph,
		      "mode", ck_mode_name(m->mode), "owner_key", ok, "expires",
		      ck_time_format(m->expires, ex), "run", m->run, "health", m->health);
	if (!o) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		return NULL;
	}
	if (m->domain[0])
		json_object_set_new(o, "domain", json_string(m->domain));
	if (m->has_owner_cert) {
		ck_hex_encode(m->owner_cert_sha256, 32, oc);
		json_object_set_new(o, "owner_cert_sha256", json_string(oc));
	}
	if (m->has_log_key) {
		char lk[sizeof(LOG_KEY_PREFIX) + 64];
		memcpy(lk, LOG_KEY_PREFIX, sizeof(LOG_KEY_PREFIX) - 1);
		ck_hex_encode(m->log_key, 32, lk + sizeof(LOG_KEY_PREFIX) - 1);
		json_object_set_new(o, "log_key", json_string(lk));
	}
	if (m->policy_json) {
		json_t *p = json_loads(m->policy_json, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(p)) {
			json_decref(p);
			json_decref(o);
			MFAIL("policy is not a JSON object");
			return NULL;
		}
		json_object_set_new(o, "policy", p);
	}
	return o;
}

int ck_manifest_encode(const struct ck_manifest *m, char **out, size_t *len, uint8_t hash[32],
		       struct ck_err *err)
{
	*out = NULL;
	if (check(m, err) < 0)
		return -1;
	if (m->policy_json) {
		struct ck_policy p;
		if (ck_policy_parse(m->policy_json, strlen(m->policy_json), &p, err) < 0)
			return ck_err_wrap(err, "manifest policy");
		ck_policy_free(&p);
	}
	json_t *o = to_json(m, err);
	if (!o)
		return -1;
	*out = json_dumps(o, JSON_CANONICAL);
	json_decref(o);
	if (!*out)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	*len = strlen(*out);
	return sha256(*out, *len, hash) < 0 ? ck_errf(err, CK_E_NOMEM, "SHA-256 failed") : 0;
}

static int str_field(json_t *o, const char *key, bool required, char *out, size_t cap,
		     struct ck_err *err)
{
	json_t *v = json_object_get(o, key);
	out[0] = 0;
	if (!v)
		return required ? MFAIL("\"%s\" is missing", key) : 0;
	if (!json_is_string(v) || json_string_length(v) >= cap ||
	    strlen(json_string_value(v)) != json_string_length(v))
		return MFAIL("\"%s\" is not a string of at most %zu bytes", key, cap - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int ck_manifest_parse(const char *text, size_t len, struct ck_manifest *m, uint8_t hash[32],
		      struct ck_err *err)
{
	static const char *const known[] = {"cloak_manifest",
					    "name",
					    "fingerprint",
					    "package_sha256",
					    "mode",
					    "domain",
					    "owner_cert_sha256",
					    "owner_key",
					    "expires",
					    "run",
					    "health",
					    "policy",
					    "log_key"};
	char buf[CK_RUN_MAX + 1], *canon = NULL;
	json_error_t je;
	json_t *o = NULL, *v;
	const char *key;
	int ret = -1;
	memset(m, 0, sizeof(*m));
	if (len > CK_MANIFEST_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, "manifest is %zu bytes, over the limit", len);
	if (len && text[len - 1] == '\n')
		len--;
	if (!(o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je)) || !json_is_object(o)) {
		MFAIL("not a JSON object (line %d: %s)", je.line, o ? "not an object" : je.text);
		goto out;
	}
	json_object_foreach(o, key, v)
	{
		bool ok = false;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]) && !ok; i++)
			ok = !strcmp(key, known[i]);
		if (!ok) {
			MFAIL("unknown key \"%.64s\"", key);
			goto out;
		}
	}
	v = json_object_get(o, "cloak_manifest");
	if (!json_is_integer(v) || json_integer_value(v) != CK_MANIFEST_VERSION) {
		MFAIL("\"cloak_manifest\" is not version %d", CK_MANIFEST_VERSION);
		goto out;
	}
	if (str_field(o, "name", true, m->name, sizeof(m->name), err) < 0 ||
	    str_field(o, "domain", false, m->domain, sizeof(m->domain), err) < 0 ||
	    str_field(o, "run", true, m->run, sizeof(m->run), err) < 0 ||
	    str_field(o, "health", true, m->health, sizeof(m->health), err) < 0)
		goto out;
	if (str_field(o, "fingerprint", true, buf, sizeof(buf), err) < 0 ||
	    ck_hex_decode_exact(buf, strlen(buf), m->fingerprint, 32, "manifest fingerprint", err) <
		0)
		goto out;
	if (str_field(o, "package_sha256", true, buf, sizeof(buf), err) < 0 ||
	    ck_hex_decode_exact(buf, strlen(buf), m->package_sha256, 32, "manifest package_sha256",
				err) < 0)
		goto out;
	if (str_field(o, "mode", true, buf, sizeof(buf), err) < 0)
		goto out;
	if (ck_mode_parse(buf, &m->mode) < 0) {
		MFAIL("mode '%.40s' is not zero-trust, owner-cert or operator-tls", buf);
		goto out;
	}
	if (json_object_get(o, "owner_cert_sha256")) {
		if (str_field(o, "owner_cert_sha256", true, buf, sizeof(buf), err) < 0 ||
		    ck_hex_decode_exact(buf, strlen(buf), m->owner_cert_sha256, 32,
					"manifest owner_cert_sha256", err) < 0)
			goto out;
		m->has_owner_cert = true;
	}
	if (str_field(o, "owner_key", true, buf, sizeof(buf), err) < 0 ||
	    ck_owner_pub_parse(buf, strlen(buf), m->owner_key, err) < 0)
		goto out;
	if (str_field(o, "expires", true, buf, sizeof(buf), err) < 0 ||
	    ck_time_parse(buf, strlen(buf), &m->expires, err) < 0)
		goto out;
	if (json_object_get(o, "log_key")) {
		const size_t pl = sizeof(LOG_KEY_PREFIX) - 1;
		if (str_field(o, "log_key", true, buf, sizeof(buf), err) < 0)
			goto out;
		if (strncmp(buf, LOG_KEY_PREFIX, pl) ||
		    ck_hex_decode_exact(buf + pl, strlen(buf) - pl, m->log_key, 32,
					"manifest log_key", err) < 0) {
			MFAIL("log_key '%.80s' is not x25519:<64 hex>", buf);
			goto out;
		}
		m->has_log_key = true;
	}
	if ((v = json_object_get(o, "policy"))) {
		if (!json_is_object(v) || !(m->policy_json = json_dumps(v, JSON_CANONICAL))) {
			MFAIL("policy is not a JSON object");
			goto out;
		}
	}
	size_t clen;
	if (ck_manifest_encode(m, &canon, &clen, hash, err) < 0)
		goto out;
	if (clen != len || memcmp(canon, text, len) != 0) {
		MFAIL("manifest is not in canonical form (compact, sorted keys, ASCII): re-create "
		      "it with 'cloak package'");
		goto out;
	}
	ret = 0;
out:
	if (err && ret < 0 && err->code && strcmp(err->code, CK_E_MANIFEST))
		err->code = CK_E_MANIFEST;
	free(canon);
	json_decref(o);
	if (ret < 0)
		ck_manifest_free(m);
	return ret;
}
