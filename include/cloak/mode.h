/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mode.h - who terminates TLS for an app (DESIGN §1, the seed's three scenarios): a word the
 * manifest (package), the claims (ratls) and the runtime all use, so it belongs to neither.
 *   zero-trust    the enclave, with its own attested certificate
 *   owner-cert    the enclave, with the owner's CA-issued certificate (browser-friendly)
 *   operator-tls  the node's operator (--untrusted-ssl): the operator sees the traffic
 */
#ifndef CLOAK_MODE_H
#define CLOAK_MODE_H

enum ck_mode { CK_MODE_ZERO_TRUST = 1, CK_MODE_OWNER_CERT, CK_MODE_OPERATOR_TLS };

/* Its name, as manifests and claims spell it; "?" for anything else. */
const char *ck_mode_name(enum ck_mode m);
/* 0 and *m set when `s` names a mode exactly; -1 otherwise (*m untouched). */
int ck_mode_parse(const char *s, enum ck_mode *m);

#endif
