/* SPDX-License-Identifier: Apache-2.0 */
/* bench_router LISTEN_PORT NAME BACKEND_PORT: ck_router on 127.0.0.1:LISTEN_PORT passing
 * connections whose ClientHello names NAME through to 127.0.0.1:BACKEND_PORT (bench/router.sh
 * runs it beside HAProxy). Prints "listening on 127.0.0.1:PORT" once ready. */
#include <arpa/inet.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "cloak/net.h"
#include "cloak/router.h"

static const char *g_name;
static uint16_t g_port;

static int route(void *arg, const struct ck_hello *h, struct sockaddr_storage *to, socklen_t *len)
{
	const char *name = h->name;
	(void)arg;
	if (strcmp(name, g_name))
		return -1;
	struct sockaddr_in *in = (struct sockaddr_in *)to;
	memset(to, 0, sizeof(*to));
	in->sin_family = AF_INET;
	in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	in->sin_port = htons(g_port);
	*len = sizeof(*in);
	return 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_in want, got;
	struct ck_err e;
	char addr[64];
	if (argc != 4)
		return fprintf(stderr, "usage: bench_router LISTEN_PORT NAME BACKEND_PORT\n"), 2;
	g_name = argv[2];
	g_port = (uint16_t)atoi(argv[3]);
	snprintf(addr, sizeof(addr), "127.0.0.1:%s", argv[1]);
	signal(SIGPIPE, SIG_IGN);
	int lfd = ck_addr_parse(addr, &want, &e) < 0 ? -1 : ck_tcp_listen(&want, &got, &e);
	struct event_base *base = event_base_new();
	struct ck_router_cfg cfg = {.route = route};
	struct ck_router *r;
	if (lfd < 0 || !base || ck_router_new(base, lfd, &cfg, &r, &e) < 0)
		return fprintf(stderr, "bench_router: %s\n", e.msg), 1;
	printf("listening on 127.0.0.1:%u\n", ntohs(got.sin_port));
	fflush(stdout);
	event_base_dispatch(base);
	ck_router_free(r);
	event_base_free(base);
	return 0;
}
