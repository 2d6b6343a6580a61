/* SPDX-License-Identifier: Apache-2.0 */
/* internal.h - declarations shared between evidence/ modules only. */
#ifndef CLOAK_EVIDENCE_INTERNAL_H
#define CLOAK_EVIDENCE_INTERNAL_H

#include "cloak/collateral.h"
#include "util/json.h"

/* The QuoteCollateralV3 object at token `obj` of a parsed document (collateral files and the
 * "collateral" member of evidence bundles share this). */
int ck_collateral_from_doc(const struct ck_jdoc *d, size_t obj, struct ck_collateral *c,
			   struct ck_err *err);

#endif
