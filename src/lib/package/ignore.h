/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ignore.h - `.cloakignore`, a subset of gitignore (internal):
 *   blank lines and '#' comments; '!' re-includes; a trailing '/' matches directories only; a
 *   pattern with a '/' (other than trailing) is anchored at the tree's root, one without matches
 *   a name at any depth; '*', '?', '[a-z]', '[!a-z]', and '**' for any number of directories.
 *   The last matching line wins; an excluded directory's contents are never looked at.
 * Matching has a step budget, so no pattern can make it run away.
 */
#ifndef CLOAK_IGNORE_H
#define CLOAK_IGNORE_H

#include <stdbool.h>
#include <stddef.h>

#include "cloak/err.h"

#define CK_IGNORE_MAX_RULES 4096
#define CK_IGNORE_MAX_LEN   (256 * 1024)

struct ignore_rule {
	char *pat;
	bool negate, dir_only, anchored;
};

struct ck_ignore {
	struct ignore_rule *r;
	size_t n;
};

int ck_ignore_parse(const char *text, size_t len, struct ck_ignore *ig, struct ck_err *err);
/* `path` is relative to the root, without a trailing '/'. */
bool ck_ignore_match(const struct ck_ignore *ig, const char *path, bool is_dir);
void ck_ignore_free(struct ck_ignore *ig);

#endif
