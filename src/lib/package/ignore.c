/* SPDX-License-Identifier: Apache-2.0 */
#include <stdlib.h>
#include <string.h>

#include "ignore.h"

#define GLOB_BUDGET 100000

void ck_ignore_free(struct ck_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		free(ig->r[i].pat);
	free(ig->r);
	memset(ig, 0, sizeof(*ig));
}

int ck_ignore_parse(const char *text, size_t len, struct ck_ignore *ig, struct ck_err *err)
{
	memset(ig, 0, sizeof(*ig));
	if (len > CK_IGNORE_MAX_LEN)
		return ck_errf(err, CK_E_TOO_LARGE, ".cloakignore is over %d bytes", CK_IGNORE_MAX_LEN);
	size_t i = 0, lineno = 0;
	while (i < len) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		lineno++;
		size_t s = i, end = e;
		i = e + 1;
		if (end > s && text[end - 1] == '\r')
			end--;
		while (end > s && text[end - 1] == ' ' && !(end - 1 > s && text[end - 2] == '\\'))
			end--;
		if (end == s || text[s] == '#')
			continue;
		struct ignore_rule r = {0};
		if (text[s] == '!') {
			r.negate = true;
			s++;
		} else if (text[s] == '\\' && s + 1 < end && (text[s + 1] == '#' || text[s + 1] == '!')) {
			s++;
		}
		if (end > s && text[end - 1] == '/') {
			r.dir_only = true;
			end--;
		}
		if (end > s && text[s] == '/') {
			r.anchored = true;
			s++;
		}
		if (end == s)
			continue;
		if (memchr(text + s, '/', end - s))
			r.anchored = true;
		if (memchr(text + s, 0, end - s)) {
			ck_ignore_free(ig);
			return ck_errf(err, CK_E_ENCODING, ".cloakignore line %zu contains a NUL byte",
				       lineno);
		}
		if (ig->n == CK_IGNORE_MAX_RULES) {
			ck_ignore_free(ig);
			return ck_errf(err, CK_E_TOO_LARGE, ".cloakignore has more than %d rules",
				       CK_IGNORE_MAX_RULES);
		}
		void *nr = realloc(ig->r, (ig->n + 1) * sizeof(*ig->r));
		if (!nr) {
			ck_ignore_free(ig);
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		}
		ig->r = nr;
		if (!(r.pat = malloc(end - s + 1))) {
			ck_ignore_free(ig);
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		}
		memcpy(r.pat, text + s, end - s);
		r.pat[end - s] = 0;
		ig->r[ig->n++] = r;
	}
	return 0;
}

/* One character class at p ('[' ... ']'); sets *ok if c matches; returns the pattern after it
 * or NULL when the class is unterminated (then '[' is literal). */
static const char *cls(const char *p, char c, bool *ok)
{
	bool neg = false, m = false;
	p++;
	if (*p == '!' || *p == '^') {
		neg = true;
		p++;
	}
	const char *start = p;
	while (*p && (*p != ']' || p == start)) {
		char lo = *p, hi = *p;
		if (p[1] == '-' && p[2] && p[2] != ']') {
			hi = p[2];
			p += 2;
		}
		if (c >= lo && c <= hi)
			m = true;
		p++;
	}
	if (*p != ']')
		return NULL;
	*ok = (m != neg) && c != '/';
	return p + 1;
}

static bool glob(const char *p, const char *s, long *budget)
{
	while (*p) {
		if (--*budget < 0)
			return false;
		if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || p[2] == 0)) {
			p += 2;
			if (!*p)
				return true;
			p++; /* "**" "/": zero or more directories */
			for (const char *t = s;;) {
				if (glob(p, t, budget))
					return true;
				if (!(t = strchr(t, '/')))
					return false;
				t++;
			}
		}
		if (*p == '*') {
			while (*p == '*')
				p++;
			for (const char *t = s;; t++) {
				if (glob(p, t, budget))
					return true;
				if (!*t || *t == '/' || *budget < 0)
					return false;
			}
		}
		if (*p == '?') {
			if (!*s || *s == '/')
				return false;
			p++;
			s++;
			continue;
		}
		if (*p == '[') {
			bool ok = false;
			const char *q = *s ? cls(p, *s, &ok) : NULL;
			if (q) {
				if (!ok)
					return false;
				p = q;
				s++;
				continue;
			}
		}
		if (*p == '\\' && p[1])
			p++;
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	return !*s;
}

bool ck_ignore_match(const struct ck_ignore *ig, const char *path, bool is_dir)
{
	bool excluded = false;
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	for (size_t i = 0; i < ig->n; i++) {
		const struct ignore_rule *r = &ig->r[i];
		long budget = GLOB_BUDGET;
		if (r->dir_only && !is_dir)
			continue;
		if (glob(r->pat, r->anchored ? path : base, &budget))
			excluded = !r->negate;
	}
	return excluded;
}
