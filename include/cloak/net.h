/* SPDX-License-Identifier: Apache-2.0 */
/*
 * net.h - the listening socket of cloak's servers (cloak-runtime, cloak sim serve): an address
 * given as "IPV4-ADDRESS:PORT", exactly (port 0: the kernel picks one).
 */
#ifndef CLOAK_NET_H
#define CLOAK_NET_H

#include <netinet/in.h>

#include "cloak/err.h"

#define CK_LISTEN_BACKLOG 128

/* Parses "IPV4-ADDRESS:PORT" (nothing before or after; through ck_target_parse, the one address
 * parser); CK_E_USAGE naming `s` otherwise. */
int ck_addr_parse(const char *s, struct sockaddr_in *sa, struct ck_err *err);

/* A close-on-exec TCP socket bound to `sa` and listening; *bound gets the address it got (the
 * port, when `sa` asked for 0). Returns the descriptor, or -1 with CK_E_IO. */
int ck_tcp_listen(const struct sockaddr_in *sa, struct sockaddr_in *bound, struct ck_err *err);

#endif
