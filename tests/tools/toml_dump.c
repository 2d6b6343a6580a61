/* SPDX-License-Identifier: Apache-2.0 */
/* toml_dump: for the differential test against Python's tomllib (test_toml_diff.py). Reads
 * documents from stdin, each as its length in decimal, a newline, and the bytes; prints one line
 * per document: "ok " and the JSON (keys sorted), or "error " and the message. */
#include <stdio.h>
#include <stdlib.h>

#include "cloak/toml.h"

int main(void)
{
	size_t n;
	while (scanf("%zu", &n) == 1 && getchar() == '\n') {
		char *b = malloc(n + 1);
		if (!b || fread(b, 1, n, stdin) != n)
			return 2;
		json_t *j;
		struct ck_err e;
		if (ck_toml_parse(b, n, &j, &e) == 0) {
			char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
			printf("ok %s\n", t ? t : "?");
			free(t);
			json_decref(j);
		} else {
			printf("error %s\n", e.msg);
		}
		free(b);
		fflush(stdout);
	}
	return 0;
}
