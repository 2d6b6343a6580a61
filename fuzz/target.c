/* SPDX-License-Identifier: Apache-2.0 */
/* Addresses (target.h): whatever parses has a host and, written back as HOST:PORT, parses to
 * the same host and port; and ck_addr_parse agrees with it on IPv4 listeners. */
#include <stdlib.h>
#include <string.h>

#include "cloak/net.h"
#include "cloak/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char s[2048], name[CK_TARGET_HOST_MAX + 16];
	struct ck_target t, u;
	struct sockaddr_in sa;
	if (size >= sizeof(s) || memchr(data, 0, size))
		return 0;
	memcpy(s, data, size);
	s[size] = 0;
	(void)ck_addr_parse(s, &sa, NULL);
	if (ck_target_parse(s, &t, NULL) < 0)
		return 0;
	if (!t.host[0] || strlen(t.path) > CK_TARGET_PATH_MAX)
		abort();
	ck_target_name(&t, name, sizeof(name));
	if (ck_target_parse(name, &u, NULL) < 0 || strcmp(u.host, t.host) || u.port != t.port)
		abort();
	return 0;
}
