/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sni.h - the server name a TLS client asks for, read from its ClientHello before anything is
 * decrypted (the node's router routes on it: DESIGN §8). RFC 8446 §4.1.2 and RFC 6066 §3.
 *
 * The bytes are the first a client sent: TLS handshake records (content type 22, legacy
 * versions 3.1-3.3, at most 2^14 bytes each) carrying one ClientHello, which may span records
 * (at most CK_SNI_MAX_HELLO bytes in all). Strict: the ClientHello's fields must add up exactly,
 * extensions may not repeat, there must be exactly one server_name extension with exactly one
 * host_name, and the name, folded to lower case (and returned so), must be a DNS name as
 * dns.h has it (ck_dns_name: the names the node's apps are given). An ALPN extension (RFC
 * 7301), when there is one, must be well formed (non-empty names, adding up exactly); whether it
 * offers CK_ALPN_CLOAK is reported: cloak's own clients (provisioning, verifying) offer it, so
 * that a router that terminates TLS for an app's users still passes them through to the
 * enclave. Anything else is refused, with the reason: a router answers nothing it cannot route.
 */
#ifndef CLOAK_SNI_H
#define CLOAK_SNI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/dns.h"
#include "cloak/err.h"

#define CK_SNI_MAX_HELLO (16 * 1024) /* the whole ClientHello, across records */
#define CK_SNI_NAME_MAX	 CK_DNS_NAME_MAX

/* The ALPN protocol cloak's clients offer when they must reach the enclave itself. */
#define CK_ALPN_CLOAK	  "cloak-attested"
#define CK_ALPN_CLOAK_LEN (sizeof(CK_ALPN_CLOAK) - 1)

/* What a ClientHello says that the router routes on. */
struct ck_hello {
	char name[CK_SNI_NAME_MAX + 1];
	bool alpn_cloak; /* CK_ALPN_CLOAK is among the protocols offered */
};

/* As ck_sni_parse, filling `h`. */
int ck_hello_parse(const uint8_t *buf, size_t len, struct ck_hello *h, struct ck_err *err);

/* The first `len` bytes of a connection. Returns the name's length (> 0; the name in `name`,
 * NUL-terminated) when the ClientHello is complete and names one; 0 when more bytes are needed;
 * -1 when these bytes cannot be a ClientHello that names one (CK_E_SNI, saying why). */
int ck_sni_parse(const uint8_t *buf, size_t len, char name[CK_SNI_NAME_MAX + 1],
		 struct ck_err *err);

#endif
