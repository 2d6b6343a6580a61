/* SPDX-License-Identifier: Apache-2.0 */
/* appconfig.c - cloak.toml, key by key; the contract is in include/cloak/appconfig.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cloak/appconfig.h"
#include "cloak/dns.h"
#include "cloak/policy.h"
#include "cloak/toml.h"

#define BAD(...) ck_errf(err, CK_E_CONFIG, "cloak.toml: " __VA_ARGS__)

/* A string at `key` of table t into out (cap bytes): 0 when there, 1 when absent (and not
 * required), -1 refused. */
static int str(const json_t *t, const char *table, const char *key, bool required, char *out,
	       size_t cap, struct ck_err *err)
{
	const json_t *v = json_object_get(t, key);
	char full[64];
	snprintf(full, sizeof(full), "%s%s%s", table, *table ? "." : "", key);
	*out = 0;
	if (!v)
		return required ? BAD("'%s' is required", full) : 1;
	if (!json_is_string(v))
		return BAD("'%s' must be a string", full);
	size_t n = json_string_length(v);
	if (n == 0 || n >= cap || memchr(json_string_value(v), 0, n))
		return BAD("'%s' must be 1 to %zu characters, without NUL", full, cap - 1);
	memcpy(out, json_string_value(v), n + 1);
	return 0;
}

/* Every key of t among `known` (NULL-terminated). */
static int only(const json_t *t, const char *table, const char *const *known, struct ck_err *err)
{
	const char *k;
	const json_t *v;
	json_object_foreach((json_t *)t, k, v)
	{
		bool ok = false;
		(void)v;
		for (size_t i = 0; known[i] && !ok; i++)
			ok = !strcmp(k, known[i]);
		if (ok)
			continue;
		if (strstr(k, "token") && strcmp(k, "token_file"))
			return BAD("'%s%s%.64s': a token is a secret and never goes in cloak.toml "
				   "(use $CLOAK_TOKEN or [node] token_file)",
				   table, *table ? "." : "", k);
		return BAD("unknown key '%s%s%.64s'", table, *table ? "." : "", k);
	}
	return 0;
}

static int table(const json_t *root, const char *name, const json_t **t, struct ck_err *err)
{
	*t = json_object_get(root, name);
	if (*t && !json_is_object(*t))
		return BAD("'%s' must be a table ([%s])", name, name);
	return 0;
}

static int expires(const json_t *root, struct ck_appconfig *c, struct ck_err *err)
{
	char v[64];
	int r = str(root, "", "expires", false, v, sizeof(v), err);
	c->expires_days = CK_APPCONFIG_DEFAULT_DAYS;
	if (r != 0)
		return r < 0 ? -1 : 0;
	size_t n = strlen(v);
	if (n >= 2 && v[n - 1] == 'd' && strspn(v, "0123456789") == n - 1 && v[0] != '0') {
		unsigned long d = strtoul(v, NULL, 10);
		if (d > CK_APPCONFIG_MAX_DAYS)
			return BAD("'expires' = '%s': at most %d days", v, CK_APPCONFIG_MAX_DAYS);
		c->expires_days = (unsigned)d;
		return 0;
	}
	struct ck_err te;
	if (ck_time_parse(v, n, &c->expires, &te) < 0)
		return BAD("'expires' = '%s' is neither DAYSd (e.g. 90d) nor an RFC 3339 time", v);
	c->expires_days = 0;
	return 0;
}

static int ssl(const json_t *root, struct ck_appconfig *c, struct ck_err *err)
{
	static const char *const keys[] = {"domain", "certificate", "private_key", NULL};
	const json_t *t;
	if (table(root, "ssl", &t, err) < 0 || !t)
		return t ? -1 : 0;
	if (only(t, "ssl", keys, err) < 0 ||
	    str(t, "ssl", "domain", true, c->ssl_domain, sizeof(c->ssl_domain), err) < 0 ||
	    str(t, "ssl", "certificate", true, c->ssl_cert, sizeof(c->ssl_cert), err) < 0 ||
	    str(t, "ssl", "private_key", true, c->ssl_key, sizeof(c->ssl_key), err) < 0)
		return -1;
	if (!ck_dns_name(c->ssl_domain, strlen(c->ssl_domain)))
		return BAD("'ssl.domain' = '%s' is not a DNS name", c->ssl_domain);
	c->has_ssl = true;
	return 0;
}

static int policy(const json_t *root, struct ck_appconfig *c, struct ck_err *err)
{
	const json_t *t;
	struct ck_policy p;
	if (table(root, "policy", &t, err) < 0 || !t)
		return t ? -1 : 0;
	char *s = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	if (!s)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	if (ck_policy_parse(s, strlen(s), &p, err) < 0) {
		free(s);
		return ck_err_wrap(err, "cloak.toml: [policy]");
	}
	ck_policy_free(&p);
	c->policy_json = s;
	return 0;
}

static int node(const json_t *root, struct ck_appconfig *c, struct ck_err *err)
{
	static const char *const keys[] = {"url", "token_file", NULL};
	const json_t *t;
	struct ck_target tg;
	struct ck_err te;
	if (table(root, "node", &t, err) < 0 || !t)
		return t ? -1 : 0;
	if (only(t, "node", keys, err) < 0 ||
	    str(t, "node", "url", false, c->node_url, sizeof(c->node_url), err) < 0 ||
	    str(t, "node", "token_file", false, c->token_file, sizeof(c->token_file), err) < 0)
		return -1;
	if (*c->node_url && (ck_target_parse(c->node_url, &tg, &te) < 0 || !tg.url || !tg.tls))
		return BAD("'node.url' = '%s' is not an https:// URL", c->node_url);
	return 0;
}

static int check(const json_t *root, struct ck_appconfig *c, struct ck_err *err)
{
	static const char *const keys[] = {"name", "run",    "health", "expires", "secrets",
					   "ssl",  "policy", "node",   NULL};
	if (only(root, "", keys, err) < 0 ||
	    str(root, "", "name", true, c->name, sizeof(c->name), err) < 0 ||
	    str(root, "", "run", true, c->run, sizeof(c->run), err) < 0 ||
	    str(root, "", "health", true, c->health, sizeof(c->health), err) < 0 ||
	    str(root, "", "secrets", false, c->secrets, sizeof(c->secrets), err) < 0 ||
	    expires(root, c, err) < 0 || ssl(root, c, err) < 0 || policy(root, c, err) < 0 ||
	    node(root, c, err) < 0)
		return -1;
	if (!ck_dns_label(c->name, strlen(c->name)))
		return BAD("'name' = '%s' is not an app name (1-63 of a-z, 0-9, '-')", c->name);
	if (c->health[0] != '/' || strpbrk(c->health, " \t?#"))
		return BAD("'health' = '%s' is not an absolute URL path", c->health);
	return 0;
}

int ck_appconfig_parse(const char *text, size_t len, struct ck_appconfig *c, struct ck_err *err)
{
	json_t *root;
	memset(c, 0, sizeof(*c));
	if (ck_toml_parse(text, len, &root, err) < 0)
		return ck_err_wrap(err, "cloak.toml");
	int r = check(root, c, err);
	json_decref(root);
	if (r < 0)
		ck_appconfig_free(c);
	return r;
}

void ck_appconfig_free(struct ck_appconfig *c)
{
	free(c->policy_json);
	memset(c, 0, sizeof(*c));
}
