/* SPDX-License-Identifier: Apache-2.0 */
/* The in-place X.509 / CRL / PEM chain parser of the appraisal path. */
#include <stdlib.h>

#include "cloak/err.h"
#include "cert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_cert c;
	struct ck_crl crl;
	struct ck_chain ch;
	char cn[CK_CN_MAX];
	if (ck_cert_parse(data, size, &c, NULL) == 0) {
		ck_name_cn(c.subject, cn);
		ck_name_contains(c.issuer, "NOT A REAL TEE");
		ck_p256_verify(c.pub, c.tbs.p, c.tbs.n, c.sig);
	}
	if (ck_crl_parse(data, size, &crl, NULL) == 0) {
		struct ck_bytes serial = {data, size > 8 ? 8 : size};
		ck_crl_revokes(&crl, serial);
	}
	if (ck_chain_load((const char *)data, size, 1, CK_CHAIN_MAX, &ch, "fuzz", CK_E_CERT_FORMAT,
			  NULL) == 0)
		ck_chain_free(&ch);
	return 0;
}
