/* SPDX-License-Identifier: Apache-2.0 */
/*
 * appconfig.h - an app's cloak.toml (DESIGN §7), read through toml.h and checked key by key:
 *
 *   name = "shop"                  required: a DNS label (dns.h), the app's name on the node
 *   run = "./server"               required: the command line, run in the app's directory
 *   health = "/healthz"            required: an absolute URL path
 *   expires = "90d" | RFC 3339     when the manifest stops being valid (default 90 days)
 *   secrets = "secrets.env"        a NAME=VALUE file, relative to cloak.toml's directory
 *   [ssl]                          the fully encrypted SaaS scenario (the owner's certificate):
 *     domain, certificate, private_key   all three strings, all three given
 *   [policy]                       the owner's policy (policy.h's keys: trusted runtime
 *                                  measurements, accepted TCB statuses and advisories...)
 *   [node]
 *     url = "https://node:9443"    the node's API ($CLOAK_NODE overrides it: the caller's)
 *     token_file = "~/.cloak/token"  a 0600 file holding the owner token; never the token itself
 *
 * Any other key, a value of the wrong type, or one that breaks its rule is refused
 * (CK_E_CONFIG) naming the key, with its value where it is short. A token in cloak.toml
 * ("token" anywhere) is refused with the reason: configuration is not for secrets.
 */
#ifndef CLOAK_APPCONFIG_H
#define CLOAK_APPCONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/manifest.h"
#include "cloak/target.h"
#include "cloak/timeutil.h"

#define CK_APPCONFIG_DEFAULT_DAYS 90
#define CK_APPCONFIG_MAX_DAYS	  3650

struct ck_appconfig {
	char name[CK_APP_NAME_MAX + 1];
	char run[CK_RUN_MAX + 1];
	char health[CK_HEALTH_MAX + 1];
	ck_time_t expires;	/* an instant, when given as one (else 0)... */
	unsigned expires_days;	/* ...or days from the deploy (CK_APPCONFIG_DEFAULT_DAYS) */
	char secrets[PATH_MAX]; /* "" when none */
	bool has_ssl;
	char ssl_domain[CK_DOMAIN_MAX + 1], ssl_cert[PATH_MAX], ssl_key[PATH_MAX];
	char *policy_json; /* canonical JSON of [policy], checked by ck_policy_parse; or NULL */
	char node_url[CK_TARGET_HOST_MAX + CK_TARGET_PATH_MAX + 16]; /* "" when none */
	char token_file[PATH_MAX];				     /* "" when none */
};

/* Parses and checks a cloak.toml; `c` is the caller's (ck_appconfig_free). All or nothing. */
int ck_appconfig_parse(const char *text, size_t len, struct ck_appconfig *c, struct ck_err *err);
void ck_appconfig_free(struct ck_appconfig *c);

#endif
