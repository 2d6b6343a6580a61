/* SPDX-License-Identifier: Apache-2.0 */
/* The runtime's proxy alone, for bench/proxy.sh: TLS on LISTEN_PORT with CERT/KEY (PEM), the
 * app on 127.0.0.1:APP_PORT. Usage: bench_proxy LISTEN_PORT APP_PORT CERT KEY */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "cloak/proxy.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: %s LISTEN_PORT APP_PORT CERT KEY\n", argv[0]);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	SSL_CTX *tls = SSL_CTX_new(TLS_server_method());
	SSL_CTX_set_min_proto_version(tls, TLS1_3_VERSION);
	if (SSL_CTX_use_certificate_chain_file(tls, argv[3]) != 1 ||
	    SSL_CTX_use_PrivateKey_file(tls, argv[4], SSL_FILETYPE_PEM) != 1) {
		fprintf(stderr, "bench_proxy: cannot load %s / %s\n", argv[3], argv[4]);
		return 1;
	}
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons((uint16_t)atoi(argv[1]))};
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 511) < 0) {
		perror("bench_proxy: listen");
		return 1;
	}
	/* the runtime's loop: epoll changes merged per iteration (an enable and a disable of the
	 * same event in one turn cost no system call) */
	struct event_config *ec = event_config_new();
	event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	struct event_base *base = event_base_new_with_config(ec);
	event_config_free(ec);
	struct ck_proxy_cfg cfg = {.tls = tls};
	struct sockaddr_in *app = (struct sockaddr_in *)&cfg.app;
	app->sin_family = AF_INET;
	app->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	app->sin_port = htons((uint16_t)atoi(argv[2]));
	cfg.app_len = sizeof(*app);
	struct ck_proxy *px;
	struct ck_err err;
	if (ck_proxy_new(base, fd, &cfg, &px, &err) < 0) {
		fprintf(stderr, "bench_proxy: %s\n", err.msg);
		return 1;
	}
	event_base_dispatch(base);
	ck_proxy_free(px);
	event_base_free(base);
	SSL_CTX_free(tls);
	return 0;
}
