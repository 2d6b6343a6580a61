/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h - the listening socket of cloak's servers (cloak-runtime, cloak sim serve): an address
 * given as "IPV4-ADDRESS:PORT", exactly (port 0: the kernel picks one); and the one comparison
 * of client addresses that per-source limits count by.
 */
#ifndef CLOAK_NET_H
#define CLOAK_NET_H

#include <stdbool.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "cloak/err.h"

#define CK_LISTEN_BACKLOG 128

/* Parses "IPV4-ADDRESS:PORT" (nothing before or after; through ck_target_parse, the one address
 * parser); CK_E_USAGE naming `s` otherwise. */
int ck_addr_parse(const char *s, struct sockaddr_in *sa, struct ck_err *err);

/* A close-on-exec TCP socket bound to `sa` and listening; *bound gets the address it got (the
 * port, when `sa` asked for 0). Returns the descriptor, or -1 with CK_E_IO. */
int ck_tcp_listen(const struct sockaddr_in *sa, struct sockaddr_in *bound, struct ck_err *err);

/* Whether `a` and `b` name the same host: both IPv4 or both IPv6 with the same address (the
 * port is ignored). An address of length 0 (unknown), or of any other family, matches nothing:
 * what cannot be told apart is not counted per source. */
bool ck_same_host(const struct sockaddr_storage *a, socklen_t al, const struct sockaddr_storage *b,
		  socklen_t bl);

#endif
