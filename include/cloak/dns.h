/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dns.h - the one rule for the DNS names cloak takes (app and owner names, domains, the
 * routes between cloakd's processes): lower-case letters, digits and '-' only (names are
 * compared byte for byte, so upper case is refused, not folded), no label starting or ending
 * with '-', no empty label, no final dot.
 */
#ifndef CLOAK_DNS_H
#define CLOAK_DNS_H

#include <stdbool.h>
#include <stddef.h>

#define CK_DNS_LABEL_MAX 63
#define CK_DNS_NAME_MAX	 253

/* Whether s[0..n) is one label: 1 to CK_DNS_LABEL_MAX of a-z, 0-9 and '-', '-' neither first
 * nor last. */
bool ck_dns_label(const char *s, size_t n);

/* Whether s[0..n) is labels as ck_dns_label joined by single dots, 1 to CK_DNS_NAME_MAX bytes. */
bool ck_dns_name(const char *s, size_t n);

#endif
