/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The proxy's state machine under arbitrary *app* bytes: a client sends two pipelined requests
 * (the second one closing) over a socketpair the proxy serves; the app is a UNIX socket this
 * target listens on, and whatever connection the proxy opens to it gets the input as its
 * response, then a half-close. Invariants: no crash, no sanitizer report, and no hang: the
 * client connection must be gone within a bounded number of loop turns.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>

#include "cloak/proxy.h"

#define MAX_TURNS 100000

static const char requests[] = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"
			       "POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
			       "Connection: close\r\n\r\nabc";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct event_base *base;
	static struct ck_proxy *px;
	static int app_lfd = -1;
	if (!px) {
		struct ck_proxy_cfg cfg = {0};
		struct sockaddr_un *un = (struct sockaddr_un *)&cfg.app;
		un->sun_family = AF_UNIX;
		snprintf(un->sun_path, sizeof(un->sun_path), "/tmp/cloak-fuzz-app-%d.sock",
			 (int)getpid());
		unlink(un->sun_path);
		cfg.app_len = sizeof(*un);
		app_lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0);
		if (app_lfd < 0 || bind(app_lfd, (struct sockaddr *)un, sizeof(*un)) < 0 ||
		    listen(app_lfd, 16) < 0)
			abort();
		/* the proxy's own listener is never used: clients are adopted */
		struct sockaddr_un fl = {.sun_family = AF_UNIX};
		snprintf(fl.sun_path, sizeof(fl.sun_path), "/tmp/cloak-fuzz-front-%d.sock",
			 (int)getpid());
		unlink(fl.sun_path);
		int front = socket(AF_UNIX, SOCK_STREAM, 0);
		base = event_base_new();
		if (!base || front < 0 || bind(front, (struct sockaddr *)&fl, sizeof(fl)) < 0 ||
		    listen(front, 1) < 0 || ck_proxy_new(base, front, &cfg, &px, NULL) < 0)
			abort();
	}
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		abort();
	if (ck_proxy_adopt(px, sv[0], NULL) < 0)
		abort();
	if (send(sv[1], requests, sizeof(requests) - 1, MSG_NOSIGNAL) < 0)
		abort();
	shutdown(sv[1], SHUT_WR);
	int app[8];
	size_t n_app = 0, off = 0;
	char sink[65536];
	for (int turn = 0;; turn++) {
		int a = accept(app_lfd, NULL, NULL);
		if (a >= 0 && n_app < sizeof(app) / sizeof(app[0]))
			app[n_app++] = a;
		else if (a >= 0)
			close(a);
		if (n_app > 0 && off < size) { /* the first app connection answers with the input */
			ssize_t k =
			    send(app[0], data + off, size - off, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (k > 0)
				off += (size_t)k;
			else if (k < 0 && errno != EAGAIN)
				off = size;
			if (off == size)
				shutdown(app[0], SHUT_WR);
		} else if (n_app > 0 && size == 0 && off == 0) {
			shutdown(app[0], SHUT_WR);
			off = 1;
		}
		for (size_t i = 1; i < n_app; i++) /* later connections: closed at once */
			shutdown(app[i], SHUT_RDWR);
		event_base_loop(base, EVLOOP_NONBLOCK);
		for (size_t i = 0; i < n_app; i++)
			while (recv(app[i], sink, sizeof(sink), MSG_DONTWAIT) > 0)
				;
		while (recv(sv[1], sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
		if (ck_proxy_conns(px) == 0)
			break;
		if (turn > MAX_TURNS)
			abort(); /* a connection that never ends: a hang */
	}
	for (size_t i = 0; i < n_app; i++)
		close(app[i]);
	close(sv[1]);
	return 0;
}
