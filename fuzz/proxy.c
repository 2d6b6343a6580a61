/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's state machine under arbitrary client bytes: the input is written to one end of a
 * socketpair that the proxy serves (no app: app routes answer 503; the runtime's routes go to a
 * handler that consumes the body), then half-closed. Invariants: no crash, no sanitizer report,
 * and no hang: the connection must be gone within a bounded number of loop turns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "cloak/proxy.h"

#define MAX_TURNS 100000

static void finish_later(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	ck_proxy_finish(arg, 200, NULL, 0, "{}", 2);
}

/* Fresh evidence is answered later (as the runtime's batches are), the rest at once. */
static int local(void *arg, const struct ck_proxy_req *rq, struct ck_proxy_reply *reply)
{
	size_t sum = 0;
	if (rq->route->kind == CK_ROUTE_EVIDENCE && rq->route->nonce_len) {
		struct ck_proxy_later *l = ck_proxy_defer(rq);
		struct timeval tv = {0, 0};
		if (!l || event_base_once(arg, -1, EV_TIMEOUT, finish_later, l, &tv) < 0)
			abort();
		return CK_PROXY_LATER;
	}
	for (size_t i = 0; i < rq->body_len; i++)
		sum += rq->body[i];
	evbuffer_add_printf(reply->body, "{\"route\":%d,\"sum\":%zu}", (int)rq->route->kind, sum);
	if (sum & 1)
		reply->retry_after = 1;
	return sum & 1 ? 429 : 200;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	static struct ck_proxy *px;
	if (!px) {
		base = event_base_new();
		struct ck_proxy_cfg cfg = {.local = local, .local_arg = base};
		struct sockaddr_in sa = {.sin_family = AF_INET,
					 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
		int lfd = socket(AF_INET, SOCK_STREAM, 0);
		if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
		    listen(lfd, 1) < 0)
			abort();
		if (!base || ck_proxy_new(base, lfd, &cfg, &px, NULL) < 0)
			abort();
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	int big = 1 << 20;
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	if (ck_proxy_adopt(px, sv[0], NULL) < 0)
		abort();
	/* feed the bytes while draining the answers, then half-close */
	size_t off = 0;
	bool shut = false;
	char sink[65536];
	for (int turn = 0;; turn++) {
		if (off < size) {
			ssize_t k =
			    send(sv[1], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else if (k < 0 && errno != EAGAIN)
				off = size; /* the proxy closed: stop feeding */
		}
		if (off == size && !shut) {
			shutdown(sv[1], SHUT_WR);
			shut = true;
		}
		event_base_loop(base, EVLOOP_NONBLOCK);
		while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		if (ck_proxy_conns(px) == 0)
			break;
		if (turn > MAX_TURNS)
			abort(); /* a connection that never ends: a hang */
	}
	close(sv[1]);
	return 0;
}
