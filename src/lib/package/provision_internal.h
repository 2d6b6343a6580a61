/* SPDX-License-Identifier: Apache-2.0 */
/* provision_internal.h - the payload parser alone, for tests and fuzzing. In production it runs
 * only after the owner's signature has been verified (ck_provision_open). */
#ifndef CLOAK_PROVISION_INTERNAL_H
#define CLOAK_PROVISION_INTERNAL_H

#include "cloak/provision.h"

int ck_provision_parse_payload(const char *text, size_t len, struct ck_provision *p,
			       struct ck_err *err);

#endif
