/* SPDX-License-Identifier: Apache-2.0 */
#include "cloak/policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ck_policy p;
	if (ck_policy_parse((const char *)data, size, &p, NULL) == 0) {
		struct ck_appraisal a = {.valid = true, .tcb_status = CK_TCB_OUT_OF_DATE};
		struct ck_err errs[CK_POLICY_MAX_VIOLATIONS];
		ck_policy_check(&p, &a, errs, CK_POLICY_MAX_VIOLATIONS);
		ck_policy_free(&p);
	}
	return 0;
}
