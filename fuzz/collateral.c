/* SPDX-License-Identifier: Apache-2.0 */
/* Collateral: QuoteCollateralV3 JSON, the TCB Info / QE Identity texts inside it, raw PCS
 * responses (exact-byte split) and CRL decoding. */
#include <stdlib.h>

#include "cloak/collateral.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_collateral c;
	struct ck_tcb_info t;
	struct ck_qe_identity q;
	char *inner;
	size_t n;
	uint8_t sig[64], *der;
	if (ck_collateral_parse((const char *)data, size, &c, NULL) == 0) {
		if (ck_tcb_info_parse(c.tcb_info, c.tcb_info_len, &t, NULL) == 0)
			ck_tcb_info_free(&t);
		if (ck_qe_identity_parse(c.qe_identity, c.qe_identity_len, &q, NULL) == 0)
			ck_qe_identity_free(&q);
		ck_collateral_free(&c);
	}
	/* the same bytes as a bare TCB Info / QE Identity and as PCS responses */
	if (ck_tcb_info_parse((const char *)data, size, &t, NULL) == 0)
		ck_tcb_info_free(&t);
	if (ck_qe_identity_parse((const char *)data, size, &q, NULL) == 0)
		ck_qe_identity_free(&q);
	if (ck_pcs_split_signed((const char *)data, size, "tcbInfo", &inner, &n, sig, NULL) == 0)
		free(inner);
	if (ck_crl_decode(data, size, &der, &n, "crl", NULL) == 0)
		free(der);
	return 0;
}
