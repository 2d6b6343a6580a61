/* SPDX-License-Identifier: Apache-2.0 */
/* sni.c - the ClientHello's server name; the contract is in include/cloak/sni.h. */
#include <stdbool.h>
#include <string.h>

#include "cloak/sni.h"

#define REC_HEADER   5
#define REC_MAX	     (1 << 14)
#define HS_HEADER    4
#define HS_CLIENT_HI 1
#define EXT_SNI	     0
#define EXT_ALPN     16
#define MAX_EXTS     64

#define REFUSE(...) ck_errf(err, CK_E_SNI, __VA_ARGS__)

/* A reader over the reassembled handshake bytes. */
struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static uint32_t take(struct rd *r, size_t k)
{
	uint32_t v = 0;
	if (r->bad || r->n < k) {
		r->bad = true;
		return 0;
	}
	for (size_t i = 0; i < k; i++)
		v = v << 8 | r->p[i];
	r->p += k;
	r->n -= k;
	return v;
}

/* A length-prefixed vector (prefix of `k` bytes) as a sub-reader within [min, max]. */
static struct rd vec(struct rd *r, size_t k, size_t min, size_t max)
{
	struct rd s = {0};
	size_t n = take(r, k);
	if (r->bad || n < min || n > max || n > r->n) {
		r->bad = true;
		s.bad = true;
		return s;
	}
	s.p = r->p;
	s.n = n;
	r->p += n;
	r->n -= n;
	return s;
}

static int host_name(const uint8_t *h, size_t n, char name[CK_SNI_NAME_MAX + 1], struct ck_err *err)
{
	if (n == 0 || n > CK_SNI_NAME_MAX)
		return REFUSE("the server name is %zu bytes (1 to %d)", n, CK_SNI_NAME_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = (char)h[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' +
				   'a'); /* DNS names are case-blind: routed in lower case */
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return REFUSE("the server name has a byte 0x%02x that is not a DNS name's",
				      h[i]);
		name[i] = c;
	}
	name[n] = 0;
	if (!ck_dns_name(name, n))
		return REFUSE("the server name '%s' is not a DNS name (dns.h)", name);
	return (int)n;
}

/* The ALPN extension's protocol list: each name non-empty, the whole adding up. */
static int alpn(struct rd *d, bool *cloak, struct ck_err *err)
{
	struct rd list = vec(d, 2, 2, 0xffff);
	if (d->bad || d->n)
		return REFUSE("a malformed ALPN extension");
	while (list.n) {
		struct rd p = vec(&list, 1, 1, 0xff);
		if (list.bad)
			return REFUSE("a malformed ALPN protocol name");
		if (p.n == CK_ALPN_CLOAK_LEN && !memcmp(p.p, CK_ALPN_CLOAK, p.n))
			*cloak = true;
	}
	return 0;
}

/* The ClientHello body: its server_name, and whether it offers cloak's ALPN. */
static int client_hello(struct rd *b, struct ck_hello *h, struct ck_err *err)
{
	char *name = h->name;
	uint16_t seen[MAX_EXTS];
	size_t ns = 0;
	int found = 0;
	take(b, 2 + 32);		     /* legacy_version, random */
	vec(b, 1, 0, 32);		     /* legacy_session_id */
	struct rd cs = vec(b, 2, 2, 0xfffe); /* cipher_suites */
	vec(b, 1, 1, 0xff);		     /* legacy_compression_methods */
	struct rd ex = vec(b, 2, 0, 0xffff);
	if (b->bad || cs.n % 2 || b->n)
		return REFUSE("a malformed ClientHello");
	while (ex.n) {
		uint16_t type = (uint16_t)take(&ex, 2);
		struct rd d = vec(&ex, 2, 0, 0xffff);
		if (ex.bad)
			return REFUSE("a malformed extension in the ClientHello");
		for (size_t i = 0; i < ns; i++)
			if (seen[i] == type)
				return REFUSE("extension %u appears twice in the ClientHello",
					      type);
		if (ns == MAX_EXTS)
			return REFUSE("more than %d extensions in the ClientHello", MAX_EXTS);
		seen[ns++] = type;
		if (type == EXT_ALPN && alpn(&d, &h->alpn_cloak, err) < 0)
			return -1;
		if (type != EXT_SNI)
			continue;
		struct rd list = vec(&d, 2, 1, 0xffff);
		uint8_t nt = (uint8_t)take(&list, 1);
		struct rd hn = vec(&list, 2, 1, 0xffff);
		if (d.bad || d.n || list.bad || nt != 0)
			return REFUSE("a malformed server_name extension");
		if (list.n)
			return REFUSE("more than one server name in the ClientHello");
		if ((found = host_name(hn.p, hn.n, name, err)) < 0)
			return -1;
	}
	return found ? found : REFUSE("the ClientHello names no server (no SNI)");
}

int ck_sni_parse(const uint8_t *buf, size_t len, char name[CK_SNI_NAME_MAX + 1], struct ck_err *err)
{
	struct ck_hello h;
	int r = ck_hello_parse(buf, len, &h, err);
	if (r > 0)
		memcpy(name, h.name, (size_t)r + 1);
	return r;
}

int ck_hello_parse(const uint8_t *buf, size_t len, struct ck_hello *h, struct ck_err *err)
{
	memset(h, 0, sizeof(*h));
	uint8_t hs[CK_SNI_MAX_HELLO];
	size_t have = 0, off = 0, want = 0;
	/* reassemble the handshake bytes from the records, until the ClientHello is whole */
	for (;;) {
		if (len - off < REC_HEADER)
			return 0;
		const uint8_t *r = buf + off;
		size_t rl = (size_t)r[3] << 8 | r[4];
		if (r[0] != 22)
			return REFUSE("not a TLS handshake (first byte 0x%02x)", r[0]);
		if (r[1] != 3 || r[2] < 1 || r[2] > 3)
			return REFUSE("not a TLS record version (%u.%u)", r[1], r[2]);
		if (rl == 0 || rl > REC_MAX)
			return REFUSE("a TLS record of %zu bytes", rl);
		if (len - off - REC_HEADER < rl)
			return 0;
		if (have + rl > sizeof(hs))
			return REFUSE("a ClientHello over %d bytes", CK_SNI_MAX_HELLO);
		memcpy(hs + have, r + REC_HEADER, rl);
		have += rl;
		off += REC_HEADER + rl;
		if (!want && have >= HS_HEADER) {
			if (hs[0] != HS_CLIENT_HI)
				return REFUSE("the first handshake message is not a ClientHello");
			want = HS_HEADER + ((size_t)hs[1] << 16 | (size_t)hs[2] << 8 | hs[3]);
			if (want > sizeof(hs))
				return REFUSE("a ClientHello over %d bytes", CK_SNI_MAX_HELLO);
		}
		if (want && have >= want)
			break;
	}
	if (have != want)
		return REFUSE("bytes after the ClientHello in its records");
	struct rd b = {hs + HS_HEADER, want - HS_HEADER, false};
	int r = client_hello(&b, h, err);
	if (r < 0)
		memset(h, 0, sizeof(*h));
	return r;
}
