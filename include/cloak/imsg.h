/* SPDX-License-Identifier: Apache-2.0 */
/*
 * imsg.h - messages between cloakd's processes (the parent, the router, the api: DESIGN §8,
 * as OpenBSD's imsg between relayd's), over a SOCK_SEQPACKET socketpair, so that each message
 * arrives whole or not at all:
 *
 *   header (12 bytes, little-endian): type u16, flags u16, id u32 (to match an answer to its
 *   request), len u32 (the payload's), then the payload: at most CK_IMSG_MAX_PAYLOAD bytes.
 *   flags bit 0: one file descriptor travels with it (SCM_RIGHTS); no other bit may be set.
 *
 * The receiver trusts nothing: a message whose length disagrees with what arrived, a payload
 * over the limit, an unknown flag, a descriptor it did not announce (closed at once) or one it
 * announced and did not bring, is refused with the reason; the channel should then be closed.
 * Typed payloads have their own strict codecs below (the router's routes).
 */
#ifndef CLOAK_IMSG_H
#define CLOAK_IMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/api.h"
#include "cloak/err.h"
#include "cloak/router.h"
#include "cloak/sni.h"

#define CK_IMSG_HEADER	    12
#define CK_IMSG_MAX_PAYLOAD (64 * 1024)
#define CK_IMSG_MAX	    (CK_IMSG_HEADER + CK_IMSG_MAX_PAYLOAD)
#define CK_IMSG_F_FD	    0x0001

enum ck_imsg_type {
	CK_IMSG_ROUTE_SET = 1, /* parent -> router: name -> a runtime's port (payload: route) */
	CK_IMSG_ROUTE_DEL,     /* parent -> router: name (payload: route, port 0) */
	CK_IMSG_ROUTE_CLEAR,   /* parent -> router: forget every route (no payload) */
	CK_IMSG_STATS_ASK,     /* parent -> router: its counters, please (no payload) */
	CK_IMSG_STATS,	       /* router -> parent: its counters (payload: stats) */
	CK_IMSG_API_REQ,  /* api -> parent: an owner's request (payload: api req; id its own) */
	CK_IMSG_API_BODY, /* parent -> api: write the request's body into the descriptor */
	CK_IMSG_API_BODY_DONE, /* api -> parent: the body is written, or cut short (api done) */
	CK_IMSG_API_REPLY,     /* parent -> api: the answer (payload: api reply; with a descriptor:
				  a log whose bytes follow the reply's body) */
	CK_IMSG_TLS_CONN,      /* router -> parent -> tls: a client to terminate TLS for, and the
				  runtime's port (payload: u16 LE; with the descriptor) */
	CK_IMSG_TYPE_MAX
};

struct ck_imsg {
	uint16_t type, flags;
	uint32_t id;
	const uint8_t *payload; /* into the caller's buffer */
	size_t len;
	int fd; /* -1: none */
};

/* The header and payload of one datagram of `n` bytes; `fd` is the descriptor that came with
 * it (-1: none). On failure a descriptor that came is closed. */
int ck_imsg_parse(const uint8_t *buf, size_t n, int fd, struct ck_imsg *m, struct ck_err *err);

/* Sends one message (fd -1: none) on a SOCK_SEQPACKET socket. */
int ck_imsg_send(int sock, uint16_t type, uint32_t id, const void *payload, size_t len, int fd,
		 struct ck_err *err);
/* Receives one into buf (CK_IMSG_MAX bytes): 1 a message, 0 the peer closed, -1 refused or
 * failed (EAGAIN on a non-blocking socket: -1 with CK_E_IO and errno EAGAIN). */
int ck_imsg_recv(int sock, uint8_t buf[CK_IMSG_MAX], struct ck_imsg *m, struct ck_err *err);

/* A route: a server name (sni.h's rules: a lower-case DNS name), a port (1-65535; 0 only in
 * ROUTE_DEL), and whether its users' TLS ends in the node (an untrusted-ssl app: only clients
 * offering CK_ALPN_CLOAK pass through). Payload: name length u8, the name, port u16 LE, flags u8
 * (bit 0 terminate; nothing else, and none in ROUTE_DEL), nothing after. */
#define CK_ROUTE_F_TERMINATE 0x01
struct ck_route_msg {
	char name[CK_SNI_NAME_MAX + 1];
	uint16_t port;
	bool terminate;
};
size_t ck_route_msg_encode(const struct ck_route_msg *r, uint8_t *out, size_t cap);
int ck_route_msg_decode(const struct ck_imsg *m, struct ck_route_msg *r, struct ck_err *err);

/* The router's counters: connections open now, accepted, refused (no or unknown name, no
 * ClientHello in time), and bytes relayed (both ways). Payload: four u64 LE. */
size_t ck_stats_msg_encode(const struct ck_router_stats *s, uint8_t out[32]);
int ck_stats_msg_decode(const struct ck_imsg *m, struct ck_router_stats *s, struct ck_err *err);

/* An owner's request as the api process read it, for the parent to authorise and answer.
 * Payload: route u8, follow u8, app name length u8 and the name (0 for routes without one),
 * token length u8 (at most CK_API_TOKEN_MAX) and the token as presented (0: none), the client's
 * address family u8 (4 or 6) and 16 address bytes (IPv4 in the first 4, the rest zero), the
 * body's length u64 (only POST /v1/apps has one). Nothing after. */
#define CK_API_TOKEN_MAX 80 /* a longer Authorization value is refused by the api process */
struct ck_api_msg_req {
	enum ck_api_route route;
	bool follow;
	char app[CK_API_NAME_MAX + 1];
	char token[CK_API_TOKEN_MAX + 1];
	uint8_t family;
	uint8_t addr[16];
	uint64_t body_len;
};
size_t ck_api_req_encode(const struct ck_api_msg_req *r, uint8_t *out, size_t cap);
int ck_api_req_decode(const struct ck_imsg *m, struct ck_api_msg_req *r, struct ck_err *err);

/* The parent's answer. Payload: status u16 (100-599), Retry-After u32 (0: none), media type
 * length u8 and the type (printable ASCII, no ';' trouble: [a-z0-9/.+=; -]), then the body to
 * the end. With a descriptor (logs): the body is empty and the log's bytes are the answer. */
#define CK_API_CTYPE_MAX 64
struct ck_api_msg_reply {
	int status;
	unsigned retry_after;
	char ctype[CK_API_CTYPE_MAX + 1];
	const uint8_t *body; /* into the message */
	size_t body_len;
};
size_t ck_api_reply_encode(const struct ck_api_msg_reply *r, uint8_t *out, size_t cap);
int ck_api_reply_decode(const struct ck_imsg *m, struct ck_api_msg_reply *r, struct ck_err *err);

/* TLS_CONN: the runtime's port (1-65535), u16 LE, and a descriptor that must come with it. */
size_t ck_tls_conn_encode(uint16_t port, uint8_t out[2]);
int ck_tls_conn_decode(const struct ck_imsg *m, uint16_t *port, struct ck_err *err);

/* BODY (parent -> api; with the descriptor): the number of bytes to write, u64. BODY_DONE (api
 * -> parent): the number written, u64, and ok u8 (1: all of them, 0: cut short). */
size_t ck_api_count_encode(uint64_t n, int ok, uint8_t out[9]);
int ck_api_count_decode(const struct ck_imsg *m, uint64_t *n, bool *ok, struct ck_err *err);

#endif
