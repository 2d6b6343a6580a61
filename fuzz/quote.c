/* SPDX-License-Identifier: Apache-2.0 */
/* Quote parser, then the full appraisal of whatever parses against real collateral: reaches
 * the PEM chain parser, the X.509/CRL checks, the PCK extension and the TCB matching. */
#include <stdlib.h>

#include "cloak/appraise.h"
#include "cloak/fileio.h"
#include "cloak/quote.h"

static struct ck_verified_collateral *vc;
static struct ck_collateral coll;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	uint8_t *buf;
	size_t len;
	const char *p = getenv("CLOAK_FUZZ_COLLATERAL");
	if (!p)
		p = CLOAK_VECTORS_DIR "/sgx-dcap/dcap-qvl/sgx_quote_collateral.json";
	if (ck_read_file(p, CK_COLLATERAL_MAX_LEN, &buf, &len, NULL) == 0) {
		if (ck_collateral_parse((char *)buf, len, &coll, NULL) == 0)
			ck_collateral_verify(&coll, true, &vc, NULL);
		free(buf);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_quote q;
	if (ck_quote_parse(data, size, &q, NULL) < 0 || !vc)
		return 0;
	struct ck_appraisal a;
	struct ck_appraise_opts o = {.at = 1750377600 /* 2025-06-20 */, .allow_simulation = true};
	ck_appraise(&q, vc, &o, &a);
	return 0;
}
