/* SPDX-License-Identifier: Apache-2.0 */
/* dns.c - DNS names; the contract is in include/cloak/dns.h. */
#include "cloak/dns.h"

bool ck_dns_label(const char *s, size_t n)
{
	if (n == 0 || n > CK_DNS_LABEL_MAX || s[0] == '-' || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	return true;
}

bool ck_dns_name(const char *s, size_t n)
{
	if (n == 0 || n > CK_DNS_NAME_MAX)
		return false;
	for (size_t start = 0, i = 0; i <= n; i++)
		if (i == n || s[i] == '.') {
			if (!ck_dns_label(s + start, i - start))
				return false;
			start = i + 1;
		}
	return true;
}
