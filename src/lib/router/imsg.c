/* SPDX-License-Identifier: Apache-2.0 */
/* imsg.c - messages between cloakd's processes; the contract is in include/cloak/imsg.h. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloak/codec.h"
#include "cloak/dns.h"
#include "cloak/imsg.h"

int ck_imsg_parse(const uint8_t *buf, size_t n, int fd, struct ck_imsg *m, struct ck_err *err)
{
	memset(m, 0, sizeof(*m));
	m->fd = -1;
	int ret = -1;
	if (n < CK_IMSG_HEADER) {
		ck_errf(err, CK_E_IMSG, "a message of %zu bytes, shorter than its header", n);
		goto out;
	}
	m->type = ck_le16(buf);
	m->flags = ck_le16(buf + 2);
	m->id = ck_le32(buf + 4);
	uint32_t len = ck_le32(buf + 8);
	if (len > CK_IMSG_MAX_PAYLOAD || len != n - CK_IMSG_HEADER) {
		ck_errf(err, CK_E_IMSG, "a message says %u payload bytes and brought %zu", len,
			n - CK_IMSG_HEADER);
		goto out;
	}
	if (m->type == 0 || m->type >= CK_IMSG_TYPE_MAX) {
		ck_errf(err, CK_E_IMSG, "a message of unknown type %u", m->type);
		goto out;
	}
	if (m->flags & ~CK_IMSG_F_FD) {
		ck_errf(err, CK_E_IMSG, "a message with unknown flags 0x%04x", m->flags);
		goto out;
	}
	if (!(m->flags & CK_IMSG_F_FD) != (fd < 0)) {
		ck_errf(err, CK_E_IMSG,
			fd < 0 ? "a message announced a descriptor and brought none"
			       : "a message brought a descriptor it did not announce");
		goto out;
	}
	m->payload = buf + CK_IMSG_HEADER;
	m->len = len;
	m->fd = fd;
	fd = -1;
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	return ret;
}

int ck_imsg_send(int sock, uint16_t type, uint32_t id, const void *payload, size_t len, int fd,
		 struct ck_err *err)
{
	uint8_t h[CK_IMSG_HEADER];
	if (len > CK_IMSG_MAX_PAYLOAD)
		return ck_errf(err, CK_E_IMSG, "a payload of %zu bytes is over %d", len,
			       CK_IMSG_MAX_PAYLOAD);
	ck_put_le16(h, type);
	ck_put_le16(h + 2, fd >= 0 ? CK_IMSG_F_FD : 0);
	ck_put_le32(h + 4, id);
	ck_put_le32(h + 8, (uint32_t)len);
	struct iovec iov[2] = {{h, sizeof(h)}, {(void *)payload, len}};
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = sizeof(ctl.b);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	ssize_t k;
	do
		k = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (k < 0 && errno == EINTR);
	if (k != (ssize_t)(sizeof(h) + len))
		return ck_errf(err, CK_E_IO, "cannot send a message: %s",
			       k < 0 ? strerror(errno) : "cut short");
	return 0;
}

int ck_imsg_recv(int sock, uint8_t buf[CK_IMSG_MAX], struct ck_imsg *m, struct ck_err *err)
{
	union {
		struct cmsghdr c;
		char b[CMSG_SPACE(4 * sizeof(int))];
	} ctl;
	struct iovec iov = {buf, CK_IMSG_MAX};
	struct msghdr mh = {.msg_iov = &iov,
			    .msg_iovlen = 1,
			    .msg_control = ctl.b,
			    .msg_controllen = sizeof(ctl.b)};
	ssize_t k;
	do
		k = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (k < 0 && errno == EINTR);
	if (k == 0)
		return 0;
	int fd = -1, extra = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); k > 0 && c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t nfd = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < nfd; i++) {
			int f;
			memcpy(&f, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (fd < 0)
				fd = f;
			else
				close(f), extra++;
		}
	}
	if (k < 0) {
		int e = errno;
		ck_errf(err, CK_E_IO, "cannot receive a message: %s", strerror(e));
		errno = e;
		return -1;
	}
	if (extra || (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) {
		if (fd >= 0)
			close(fd);
		return ck_errf(err, CK_E_IMSG,
			       "a message over %d bytes, or with more than one "
			       "descriptor",
			       CK_IMSG_MAX);
	}
	return ck_imsg_parse(buf, (size_t)k, fd, m, err) < 0 ? -1 : 1;
}

size_t ck_route_msg_encode(const struct ck_route_msg *r, uint8_t *out, size_t cap)
{
	size_t n = strlen(r->name);
	if (n > CK_SNI_NAME_MAX || cap < n + 4)
		return 0;
	out[0] = (uint8_t)n;
	memcpy(out + 1, r->name, n);
	ck_put_le16(out + 1 + n, r->port);
	out[3 + n] = r->terminate ? CK_ROUTE_F_TERMINATE : 0;
	return n + 4;
}

int ck_route_msg_decode(const struct ck_imsg *m, struct ck_route_msg *r, struct ck_err *err)
{
	memset(r, 0, sizeof(*r));
	if (m->type != CK_IMSG_ROUTE_SET && m->type != CK_IMSG_ROUTE_DEL)
		return ck_errf(err, CK_E_IMSG, "message type %u carries no route", m->type);
	if (m->len < 4 || m->payload[0] == 0 || m->len != (size_t)m->payload[0] + 4)
		return ck_errf(err, CK_E_IMSG, "a route of %zu bytes is malformed", m->len);
	size_t n = m->payload[0];
	if (!ck_dns_name((const char *)m->payload + 1, n))
		return ck_errf(err, CK_E_IMSG, "a route's name of %zu bytes is not a DNS name", n);
	uint8_t flags = m->payload[3 + n];
	if (flags & ~CK_ROUTE_F_TERMINATE || (flags && m->type == CK_IMSG_ROUTE_DEL))
		return ck_errf(err, CK_E_IMSG, "a route with flags 0x%02x", flags);
	memcpy(r->name, m->payload + 1, n);
	r->port = ck_le16(m->payload + 1 + n);
	r->terminate = flags != 0;
	if ((r->port == 0) != (m->type == CK_IMSG_ROUTE_DEL)) {
		memset(r, 0, sizeof(*r));
		return ck_errf(err, CK_E_IMSG, "a route to port %u", ck_le16(m->payload + 1 + n));
	}
	return 0;
}

static void put_le64(uint8_t *p, uint64_t v)
{
	ck_put_le32(p, (uint32_t)v);
	ck_put_le32(p + 4, (uint32_t)(v >> 32));
}

size_t ck_stats_msg_encode(const struct ck_router_stats *s, uint8_t out[32])
{
	put_le64(out, s->open);
	put_le64(out + 8, s->accepted);
	put_le64(out + 16, s->refused);
	put_le64(out + 24, s->bytes);
	return 32;
}

int ck_stats_msg_decode(const struct ck_imsg *m, struct ck_router_stats *s, struct ck_err *err)
{
	memset(s, 0, sizeof(*s));
	if (m->type != CK_IMSG_STATS || m->len != 32)
		return ck_errf(err, CK_E_IMSG, "router counters of %zu bytes (type %u)", m->len,
			       m->type);
	s->open = ck_le64(m->payload);
	s->accepted = ck_le64(m->payload + 8);
	s->refused = ck_le64(m->payload + 16);
	s->bytes = ck_le64(m->payload + 24);
	return 0;
}

/* A reader over a payload: each take fails once the payload is short. */
struct rd {
	const uint8_t *p;
	size_t n;
	bool bad;
};

static const uint8_t *take(struct rd *r, size_t k)
{
	if (r->bad || r->n < k) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *q = r->p;
	r->p += k;
	r->n -= k;
	return q;
}

static uint8_t take8(struct rd *r)
{
	const uint8_t *q = take(r, 1);
	return q ? *q : 0;
}

/* A length-prefixed string of at most max bytes, each accepted by ok(), into out. */
static bool take_str(struct rd *r, char *out, size_t max, bool (*ok)(const char *, size_t))
{
	size_t k = take8(r);
	const uint8_t *q = take(r, k);
	if (!q || k > max || (k && !ok((const char *)q, k)))
		return false;
	memcpy(out, q, k);
	out[k] = 0;
	return true;
}

static bool token_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] <= 0x20 || s[i] >= 0x7f)
			return false;
	return true;
}

static bool ctype_chars(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyz0123456789/.+=; -", s[i]) || !s[i])
			return false;
	return true;
}

size_t ck_api_req_encode(const struct ck_api_msg_req *r, uint8_t *out, size_t cap)
{
	size_t an = strlen(r->app), tn = strlen(r->token), n = 2 + 1 + an + 1 + tn + 1 + 16 + 8;
	if (an > CK_API_NAME_MAX || tn > CK_API_TOKEN_MAX || cap < n ||
	    (r->family != 4 && r->family != 6))
		return 0;
	uint8_t *p = out;
	*p++ = (uint8_t)r->route;
	*p++ = r->follow;
	*p++ = (uint8_t)an;
	memcpy(p, r->app, an);
	p += an;
	*p++ = (uint8_t)tn;
	memcpy(p, r->token, tn);
	p += tn;
	*p++ = r->family;
	memcpy(p, r->addr, 16);
	put_le64(p + 16, r->body_len);
	return n;
}

int ck_api_req_decode(const struct ck_imsg *m, struct ck_api_msg_req *r, struct ck_err *err)
{
	struct rd d = {m->payload, m->len, false};
	memset(r, 0, sizeof(*r));
	if (m->type != CK_IMSG_API_REQ)
		return ck_errf(err, CK_E_IMSG, "message type %u is not a request", m->type);
	uint8_t route = take8(&d), follow = take8(&d);
	bool names = take_str(&d, r->app, CK_API_NAME_MAX, ck_dns_label) &&
		     take_str(&d, r->token, CK_API_TOKEN_MAX, token_chars);
	r->family = take8(&d);
	const uint8_t *a = take(&d, 16), *l = take(&d, 8);
	if (!names || d.bad || d.n || route < CK_API_APPS_LIST || route > CK_API_METRICS ||
	    follow > 1 || (r->family != 4 && r->family != 6) ||
	    (r->family == 4 && !ck_all_zero(a + 4, 12))) {
		memset(r, 0, sizeof(*r));
		return ck_errf(err, CK_E_IMSG, "a request of %zu bytes is malformed", m->len);
	}
	r->route = (enum ck_api_route)route;
	r->follow = follow;
	memcpy(r->addr, a, 16);
	r->body_len = ck_le64(l);
	bool with_app =
	    route != CK_API_APPS_LIST && route != CK_API_APPS_CREATE && route != CK_API_METRICS;
	if (with_app != (*r->app != 0) || (r->follow && route != CK_API_APP_LOGS) ||
	    (r->body_len && route != CK_API_APPS_CREATE)) {
		memset(r, 0, sizeof(*r));
		return ck_errf(err, CK_E_IMSG, "a request whose parts do not fit its route");
	}
	return 0;
}

size_t ck_api_reply_encode(const struct ck_api_msg_reply *r, uint8_t *out, size_t cap)
{
	size_t cn = strlen(r->ctype), n = 2 + 4 + 1 + cn + r->body_len;
	if (r->status < 100 || r->status > 599 || cn > CK_API_CTYPE_MAX ||
	    !ctype_chars(r->ctype, cn) || cap < n || n > CK_IMSG_MAX_PAYLOAD)
		return 0;
	ck_put_le16(out, (uint16_t)r->status);
	ck_put_le32(out + 2, r->retry_after);
	out[6] = (uint8_t)cn;
	memcpy(out + 7, r->ctype, cn);
	if (r->body_len)
		memcpy(out + 7 + cn, r->body, r->body_len);
	return n;
}

int ck_api_reply_decode(const struct ck_imsg *m, struct ck_api_msg_reply *r, struct ck_err *err)
{
	struct rd d = {m->payload, m->len, false};
	memset(r, 0, sizeof(*r));
	if (m->type != CK_IMSG_API_REPLY)
		return ck_errf(err, CK_E_IMSG, "message type %u is not a reply", m->type);
	const uint8_t *st = take(&d, 2), *ra = take(&d, 4);
	if (!take_str(&d, r->ctype, CK_API_CTYPE_MAX, ctype_chars) || d.bad || !*r->ctype ||
	    ck_le16(st) < 100 || ck_le16(st) > 599 || (m->fd >= 0 && d.n)) {
		memset(r, 0, sizeof(*r));
		return ck_errf(err, CK_E_IMSG, "a reply of %zu bytes is malformed", m->len);
	}
	r->status = ck_le16(st);
	r->retry_after = ck_le32(ra);
	r->body = d.p;
	r->body_len = d.n;
	return 0;
}

size_t ck_api_count_encode(uint64_t n, int ok, uint8_t out[9])
{
	put_le64(out, n);
	out[8] = ok ? 1 : 0;
	return 9;
}

int ck_api_count_decode(const struct ck_imsg *m, uint64_t *n, bool *ok, struct ck_err *err)
{
	*n = 0;
	*ok = false;
	if ((m->type != CK_IMSG_API_BODY && m->type != CK_IMSG_API_BODY_DONE) || m->len != 9 ||
	    m->payload[8] > 1 || (m->type == CK_IMSG_API_BODY && (m->fd < 0 || !m->payload[8])))
		return ck_errf(err, CK_E_IMSG, "a body count of %zu bytes is malformed", m->len);
	*n = ck_le64(m->payload);
	*ok = m->payload[8];
	return 0;
}

size_t ck_tls_conn_encode(uint16_t port, uint8_t out[2])
{
	ck_put_le16(out, port);
	return 2;
}

int ck_tls_conn_decode(const struct ck_imsg *m, uint16_t *port, struct ck_err *err)
{
	*port = 0;
	if (m->type != CK_IMSG_TLS_CONN || m->len != 2 || m->fd < 0 || ck_le16(m->payload) == 0)
		return ck_errf(err, CK_E_IMSG, "a TLS hand-over of %zu bytes%s is malformed",
			       m->len, m->fd < 0 ? " without its descriptor" : "");
	*port = ck_le16(m->payload);
	return 0;
}
