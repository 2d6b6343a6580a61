/* SPDX-License-Identifier: Apache-2.0 */
/*
 * target.h - where a program connects or listens: the one parser of addresses for the whole
 * tree (cloak verify, provision, deploy, the node's API clients; the servers' --listen).
 *
 *   HOST:PORT                 TLS (what enclaves and nodes speak)
 *   https://HOST[:PORT][/...] TLS, port 443 by default
 *   http://HOST[:PORT][/...]  plain, port 80 by default (an operator-TLS enclave behind its node)
 *
 * HOST is a DNS name (letters, digits, '-', '.'), an IPv4 address, or an IPv6 address in
 * brackets; PORT is 1-65535 (0 only where a listener may ask the kernel for one). A path after
 * a URL's authority is kept; a query, fragment or userinfo is refused, as is anything else
 * ambiguous, with the offending value quoted.
 */
#ifndef CLOAK_TARGET_H
#define CLOAK_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_TARGET_HOST_MAX 253
#define CK_TARGET_PATH_MAX 1024

struct ck_target {
	char host[CK_TARGET_HOST_MAX + 1]; /* without brackets */
	uint16_t port;
	bool tls;
	bool url;			   /* given as a URL (scheme://...) */
	char path[CK_TARGET_PATH_MAX + 1]; /* "" or "/..." (URLs only) */
};

/* Parses `s` as above; CK_E_USAGE naming `s` on anything else. */
int ck_target_parse(const char *s, struct ck_target *t, struct ck_err *err);

/* "host:port" (IPv6 in brackets) into buf, for messages; returns buf. */
const char *ck_target_name(const struct ck_target *t, char *buf, size_t cap);

#endif
