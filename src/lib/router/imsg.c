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
	if (n > CK_SNI_NAME_MAX || cap < n + 3)
		return 0;
	out[0] = (uint8_t)n;
	memcpy(out + 1, r->name, n);
	ck_put_le16(out + 1 + n, r->port);
	return n + 3;
}

int ck_route_msg_decode(const struct ck_imsg *m, struct ck_route_msg *r, struct ck_err *err)
{
	memset(r, 0, sizeof(*r));
	if (m->type != CK_IMSG_ROUTE_SET && m->type != CK_IMSG_ROUTE_DEL)
		return ck_errf(err, CK_E_IMSG, "message type %u carries no route", m->type);
	if (m->len < 3 || m->payload[0] == 0 || m->len != (size_t)m->payload[0] + 3)
		return ck_errf(err, CK_E_IMSG, "a route of %zu bytes is malformed", m->len);
	size_t n = m->payload[0];
	if (!ck_dns_name((const char *)m->payload + 1, n))
		return ck_errf(err, CK_E_IMSG, "a route's name of %zu bytes is not a DNS name", n);
	memcpy(r->name, m->payload + 1, n);
	r->port = ck_le16(m->payload + 1 + n);
	if ((r->port == 0) != (m->type == CK_IMSG_ROUTE_DEL))
		return ck_errf(err, CK_E_IMSG, "a route to port %u", r->port);
	return 0;
}
