/* SPDX-License-Identifier: Apache-2.0 */
/* target.c - the one address parser; the contract is in include/cloak/target.h. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "cloak/target.h"

static bool dns_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.';
}

/* HOST[:PORT] of n bytes at p; `port_needed` when there is no default. */
static int authority(const char *p, size_t n, bool port_needed, struct ck_target *t)
{
	const char *h = p, *end = p + n, *colon;
	size_t hl;
	if (n && *p == '[') { /* an IPv6 literal */
		const char *rb = memchr(p, ']', n);
		if (!rb)
			return -1;
		h = p + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1 < end ? rb + 1 : NULL;
		if (colon && *colon != ':')
			return -1;
		struct in6_addr a;
		char tmp[64];
		if (hl == 0 || hl >= sizeof(tmp))
			return -1;
		memcpy(tmp, h, hl);
		tmp[hl] = 0;
		if (inet_pton(AF_INET6, tmp, &a) != 1)
			return -1;
	} else {
		colon = memchr(p, ':', n);
		hl = colon ? (size_t)(colon - p) : n;
		if (hl == 0 || hl > CK_TARGET_HOST_MAX)
			return -1;
		for (size_t i = 0; i < hl; i++)
			if (!dns_char(p[i]) || (p[i] == '.' && (i == 0 || p[i - 1] == '.')))
				return -1;
	}
	memcpy(t->host, h, hl);
	t->host[hl] = 0;
	if (!colon)
		return port_needed ? -1 : 0;
	const char *d = colon + 1;
	size_t dl = (size_t)(end - d);
	unsigned port = 0;
	if (dl == 0 || dl > 5)
		return -1;
	for (size_t i = 0; i < dl; i++) {
		if (d[i] < '0' || d[i] > '9')
			return -1;
		port = port * 10 + (unsigned)(d[i] - '0');
	}
	if (port > 65535 || (d[0] == '0' && dl > 1))
		return -1;
	t->port = (uint16_t)port;
	return 0;
}

int ck_target_parse(const char *s, struct ck_target *t, struct ck_err *err)
{
	size_t n = strlen(s);
	memset(t, 0, sizeof(*t));
	t->tls = true;
	const char *rest = s;
	if (!strncmp(s, "https://", 8) || !strncmp(s, "http://", 7)) {
		t->url = true;
		t->tls = s[4] == 's';
		t->port = t->tls ? 443 : 80;
		rest = s + (t->tls ? 8 : 7);
		size_t al = strcspn(rest, "/?#@");
		const char *after = rest + al;
		if (*after == '?' || *after == '#' || *after == '@' ||
		    strlen(after) > CK_TARGET_PATH_MAX || strpbrk(after, "?#") ||
		    authority(rest, al, false, t) < 0)
			goto bad;
		snprintf(t->path, sizeof(t->path), "%s", after);
		for (const char *q = t->path; *q; q++)
			if ((unsigned char)*q <= 0x20 || *q == 0x7f)
				goto bad;
		return 0;
	}
	if (n == 0 || strpbrk(s, "/?#@ ") || authority(s, n, true, t) < 0)
		goto bad;
	return 0;
bad:
	memset(t, 0, sizeof(*t));
	return ck_errf(
	    err, CK_E_USAGE,
	    "'%s' is not HOST:PORT, https://HOST[:PORT][/PATH] or http://HOST[:PORT][/PATH]", s);
}

const char *ck_target_name(const struct ck_target *t, char *buf, size_t cap)
{
	bool v6 = strchr(t->host, ':') != NULL;
	snprintf(buf, cap, "%s%s%s:%u", v6 ? "[" : "", t->host, v6 ? "]" : "", t->port);
	return buf;
}
