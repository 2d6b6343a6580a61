/* SPDX-License-Identifier: Apache-2.0 */
/* net.c - listening sockets and socket addresses; the contract is in include/cloak/net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cloak/net.h"
#include "cloak/target.h"

int ck_addr_parse(const char *s, struct sockaddr_in *sa, struct ck_err *err)
{
	struct ck_target t;
	memset(sa, 0, sizeof(*sa));
	if (ck_target_parse(s, &t, NULL) < 0 || t.url ||
	    inet_pton(AF_INET, t.host, &sa->sin_addr) != 1)
		return ck_errf(err, CK_E_USAGE, "'%s' is not IPV4-ADDRESS:PORT", s);
	sa->sin_family = AF_INET;
	sa->sin_port = htons(t.port);
	return 0;
}

int ck_tcp_listen(const struct sockaddr_in *sa, struct sockaddr_in *bound, struct ck_err *err)
{
	char addr[INET_ADDRSTRLEN] = "?";
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof(*bound);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ||
	    listen(fd, CK_LISTEN_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)bound, &sl) < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr));
		return ck_errf(err, CK_E_IO, "cannot listen on %s:%u: %s", addr,
			       (unsigned)ntohs(sa->sin_port), strerror(e));
	}
	return fd;
}

bool ck_same_host(const struct sockaddr_storage *a, socklen_t al, const struct sockaddr_storage *b,
		  socklen_t bl)
{
	if (!al || !bl || a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	if (a->ss_family == AF_INET6)
		return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
			       &((const struct sockaddr_in6 *)b)->sin6_addr, 16);
	return false;
}
