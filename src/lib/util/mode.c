/* SPDX-License-Identifier: Apache-2.0 */
/* The three modes (mode.h). */
#include <string.h>

#include "cloak/mode.h"

static const char *const modes[] = {NULL, "zero-trust", "owner-cert", "operator-tls"};

const char *ck_mode_name(enum ck_mode m)
{
	return m >= CK_MODE_ZERO_TRUST && m <= CK_MODE_OPERATOR_TLS ? modes[m] : "?";
}

int ck_mode_parse(const char *s, enum ck_mode *m)
{
	for (int i = CK_MODE_ZERO_TRUST; i <= CK_MODE_OPERATOR_TLS; i++)
		if (!strcmp(s, modes[i])) {
			*m = (enum ck_mode)i;
			return 0;
		}
	return -1;
}
