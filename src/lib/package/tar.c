/* SPDX-License-Identifier: Apache-2.0 */
/* cloak's tar profile (see tarfmt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tarfmt.h"

#define TFAIL(...) ck_errf(err, CK_E_PKG_TAR, __VA_ARGS__)

int ck_tar_path_check(const char *path, bool dir, struct ck_err *err)
{
	size_t n = strlen(path), depth = 0;
	if (n == 0 || n > CK_PKG_MAX_PATH)
		return ck_errf(err, CK_E_PKG_LIMIT, "path longer than %d bytes: '%.120s%s'",
			       CK_PKG_MAX_PATH, path, n > 120 ? "..." : "");
	if (path[0] == '/')
		return ck_errf(err, CK_E_PKG_TREE, "absolute path '%.200s'", path);
	if ((path[n - 1] == '/') != dir)
		return ck_errf(err, CK_E_PKG_TREE, "'%.200s': %s", path,
			       dir ? "a directory must end in '/'" : "only directories end in '/'");
	size_t start = 0, end = dir ? n - 1 : n;
	for (size_t i = 0; i <= end; i++) {
		if (i < end && path[i] != '/') {
			if ((unsigned char)path[i] < 0x20 || path[i] == 0x7f)
				return ck_errf(err, CK_E_PKG_TREE,
					       "'%.200s': control character in the path", path);
			continue;
		}
		size_t cl = i - start;
		if (cl == 0 || (cl == 1 && path[start] == '.') ||
		    (cl == 2 && path[start] == '.' && path[start + 1] == '.'))
			return ck_errf(err, CK_E_PKG_TREE,
				       "'%.200s': empty, '.' or '..' path component", path);
		if (++depth > CK_PKG_MAX_DEPTH)
			return ck_errf(err, CK_E_PKG_LIMIT, "'%.200s' is deeper than %d levels",
				       path, CK_PKG_MAX_DEPTH);
		start = i + 1;
	}
	return 0;
}

static void octal(uint8_t *f, size_t width, uint64_t v)
{
	/* width-1 digits, then NUL */
	f[width - 1] = 0;
	for (size_t i = width - 1; i-- > 0;) {
		f[i] = (uint8_t)('0' + (v & 7));
		v >>= 3;
	}
}

int ck_tar_header_encode(const struct ck_tar_entry *e, uint8_t b[CK_TAR_BLOCK], struct ck_err *err)
{
	size_t n = strlen(e->path), ln = strlen(e->link);
	memset(b, 0, CK_TAR_BLOCK);
	if (ck_tar_path_check(e->path, e->type == CK_TAR_DIR, err) < 0)
		return -1;
	if (n <= 100) {
		memcpy(b, e->path, n);
	} else {
		/* the first '/' that leaves at most 100 bytes for the name */
		size_t k = 0;
		for (size_t i = 0; i < n; i++)
			if (e->path[i] == '/' && n - i - 1 <= 100 && n - i - 1 > 0) {
				k = i;
				break;
			}
		if (k == 0 || k > 155)
			return ck_errf(err, CK_E_PKG_LIMIT,
				       "path '%.200s' cannot be stored in a ustar header", e->path);
		memcpy(b + 345, e->path, k);
		memcpy(b, e->path + k + 1, n - k - 1);
	}
	if (ln > CK_PKG_MAX_LINK || (e->type == CK_TAR_LINK) != (ln > 0))
		return ck_errf(err, CK_E_PKG_TREE, "'%.200s': bad symlink target", e->path);
	uint32_t mode = e->type == CK_TAR_DIR ? 0755 : e->type == CK_TAR_LINK ? 0777 : e->mode;
	if (e->type == CK_TAR_FILE && mode != 0644 && mode != 0755)
		return ck_errf(err, CK_E_PKG_TREE, "'%.200s': mode %o is not 0644 or 0755", e->path,
			       mode);
	if (e->type != CK_TAR_FILE && e->size)
		return ck_errf(err, CK_E_PKG_TREE, "'%.200s': only files have data", e->path);
	if (e->size >= (1ULL << 33))
		return ck_errf(err, CK_E_PKG_LIMIT, "'%.200s' is over 8 GiB", e->path);
	octal(b + 100, 8, mode);
	octal(b + 108, 8, 0);
	octal(b + 116, 8, 0);
	octal(b + 124, 12, e->size);
	octal(b + 136, 12, 0);
	b[156] = (uint8_t)e->type;
	memcpy(b + 157, e->link, ln);
	memcpy(b + 257, "ustar", 6);
	memcpy(b + 263, "00", 2);
	octal(b + 329, 8, 0);
	octal(b + 337, 8, 0);
	unsigned sum = 0;
	memset(b + 148, ' ', 8);
	for (size_t i = 0; i < CK_TAR_BLOCK; i++)
		sum += b[i];
	octal(b + 148, 7, sum);
	b[155] = ' ';
	return 0;
}

static int field_str(const uint8_t *f, size_t width, char *out, size_t *len)
{
	size_t n = strnlen((const char *)f, width);
	for (size_t i = n; i < width; i++)
		if (f[i])
			return -1; /* bytes after the terminator */
	memcpy(out, f, n);
	out[n] = 0;
	*len = n;
	return 0;
}

static int field_octal(const uint8_t *f, size_t width, uint64_t *v)
{
	uint64_t x = 0;
	for (size_t i = 0; i < width - 1; i++) {
		if (f[i] < '0' || f[i] > '7')
			return -1;
		x = (x << 3) | (uint64_t)(f[i] - '0');
	}
	if (f[width - 1] != 0)
		return -1;
	*v = x;
	return 0;
}

int ck_tar_header_decode(const uint8_t b[CK_TAR_BLOCK], struct ck_tar_entry *e, struct ck_err *err)
{
	char name[101], prefix[156];
	size_t nl, pl;
	uint64_t mode, size;
	uint8_t again[CK_TAR_BLOCK];
	memset(e, 0, sizeof(*e));
	if (memcmp(b + 257,
		   "ustar\0"
		   "00",
		   8) != 0)
		return TFAIL("entry header is not ustar");
	if (field_str(b, 100, name, &nl) < 0 || field_str(b + 345, 155, prefix, &pl) < 0 || nl == 0)
		return TFAIL("entry header has a malformed path");
	if (pl + 1 + nl > CK_PKG_MAX_PATH)
		return ck_errf(err, CK_E_PKG_LIMIT, "entry path is longer than %d bytes",
			       CK_PKG_MAX_PATH);
	if (pl)
		snprintf(e->path, sizeof(e->path), "%s/%s", prefix, name);
	else
		memcpy(e->path, name, nl + 1);
	e->type = (char)b[156];
	if (e->type != CK_TAR_FILE && e->type != CK_TAR_DIR && e->type != CK_TAR_LINK)
		return ck_errf(err, CK_E_PKG_TREE,
			       "'%.200s': entry type '%c' (0x%02x) is not a file, directory or "
			       "symlink",
			       e->path, b[156] >= 0x20 && b[156] < 0x7f ? b[156] : '?', b[156]);
	size_t ll;
	if (field_str(b + 157, 100, e->link, &ll) < 0)
		return TFAIL("'%.200s': malformed link name", e->path);
	if (field_octal(b + 100, 8, &mode) < 0 || field_octal(b + 124, 12, &size) < 0)
		return TFAIL("'%.200s': malformed mode or size", e->path);
	e->mode = (uint32_t)mode;
	e->size = size;
	if (size > CK_PKG_MAX_TOTAL)
		return ck_errf(err, CK_E_PKG_LIMIT, "'%.200s' claims %llu bytes, over the limit",
			       e->path, (unsigned long long)size);
	if (ck_tar_path_check(e->path, e->type == CK_TAR_DIR, err) < 0)
		return -1;
	if (e->type == CK_TAR_LINK && (e->link[0] == '/' || ll == 0))
		return ck_errf(err, CK_E_PKG_TREE, "'%.200s': symlink to absolute path '%.100s'",
			       e->path, e->link);
	/* One tar per tree: the header must be exactly what the writer makes of this entry. */
	if (ck_tar_header_encode(e, again, err) < 0)
		return -1;
	if (memcmp(again, b, CK_TAR_BLOCK) != 0)
		return TFAIL(
		    "'%.200s': header is not in cloak's canonical form (owner, time, mode, "
		    "checksum or padding)",
		    e->path);
	return 0;
}

/* ---- the tree ---------------------------------------------------------------------------- */

void ck_tar_tree_free(struct ck_tar_tree *t)
{
	if (t) {
		free(t->e);
		memset(t, 0, sizeof(*t));
	}
}

static bool is_prefix(const char *dir, const char *path)
{
	size_t n = strlen(dir);
	return strncmp(dir, path, n) == 0;
}

static const struct ck_tar_entry *lookup(const struct ck_tar_tree *t, const char *path)
{
	size_t lo = 0, hi = t->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(t->e[mid].path, path);
		if (c == 0)
			return &t->e[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int ck_tar_tree_add(struct ck_tar_tree *t, const struct ck_tar_entry *e, struct ck_err *err)
{
	if (ck_tar_path_check(e->path, e->type == CK_TAR_DIR, err) < 0)
		return -1;
	if (t->n >= CK_PKG_MAX_ENTRIES)
		return ck_errf(err, CK_E_PKG_LIMIT, "more than %d entries", CK_PKG_MAX_ENTRIES);
	t->total += ck_tar_entry_len(e->size);
	if (t->total + 2 * CK_TAR_BLOCK > CK_PKG_MAX_TOTAL)
		return ck_errf(err, CK_E_PKG_LIMIT, "more than %llu bytes at '%.200s'",
			       CK_PKG_MAX_TOTAL, e->path);
	if (t->n && strcmp(t->e[t->n - 1].path, e->path) >= 0)
		return ck_errf(err, CK_E_PKG_TAR, "'%.200s' is out of order or a duplicate",
			       e->path);
	if (e->type == CK_TAR_DIR) { /* "a/" sorts after "a": a file or link "a" came before */
		char bare[CK_PKG_MAX_PATH + 2];
		size_t bl = strlen(e->path) - 1;
		memcpy(bare, e->path, bl);
		bare[bl] = 0;
		if (lookup(t, bare))
			return ck_errf(err, CK_E_PKG_TAR,
				       "'%.200s' is both a directory and a file or link", bare);
	}
	/* Parent: the innermost open directory that is a prefix of this path. */
	while (t->depth && !is_prefix(t->e[t->dir_stack[t->depth - 1]].path, e->path))
		t->depth--;
	const char *parent_end = strrchr(e->path, '/');
	if (e->type == CK_TAR_DIR) { /* skip the trailing '/' */
		size_t n = strlen(e->path);
		parent_end = NULL;
		for (size_t i = n - 1; i-- > 0;)
			if (e->path[i] == '/') {
				parent_end = e->path + i;
				break;
			}
	}
	size_t plen = parent_end ? (size_t)(parent_end - e->path) + 1 : 0;
	size_t have = t->depth ? strlen(t->e[t->dir_stack[t->depth - 1]].path) : 0;
	if (plen != have)
		return ck_errf(err, CK_E_PKG_TAR, "'%.200s' comes before its parent directory",
			       e->path);
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;
		void *ne = realloc(t->e, cap * sizeof(*t->e));
		if (!ne)
			return ck_errf(err, CK_E_NOMEM, "out of memory");
		t->e = ne;
		t->cap = cap;
	}
	t->e[t->n] = *e;
	if (e->type == CK_TAR_DIR)
		t->dir_stack[t->depth++] = t->n;
	t->n++;
	return 0;
}

#define RESOLVE_MAX 4096

/* Resolves `target` from directory `dir` ("" is the root) through the tree's symlinks. */
static int resolve(const struct ck_tar_tree *t, const char *linkpath, struct ck_err *err)
{
	char cur[RESOLVE_MAX], rest[RESOLVE_MAX], tmp[RESOLVE_MAX];
	const struct ck_tar_entry *l = lookup(t, linkpath);
	int hops = 0;
	/* cur: the link's directory, without a trailing '/' */
	snprintf(cur, sizeof(cur), "%s", linkpath);
	char *slash = strrchr(cur, '/');
	if (slash)
		*slash = 0;
	else
		cur[0] = 0;
	snprintf(rest, sizeof(rest), "%s", l->link);
	while (rest[0]) {
		/* take the first component of rest */
		char *sl = strchr(rest, '/');
		char comp[RESOLVE_MAX];
		if (sl) {
			memcpy(comp, rest, (size_t)(sl - rest));
			comp[sl - rest] = 0;
			memmove(rest, sl + 1, strlen(sl + 1) + 1);
		} else {
			snprintf(comp, sizeof(comp), "%s", rest);
			rest[0] = 0;
		}
		if (!comp[0] || !strcmp(comp, "."))
			continue;
		if (!strcmp(comp, "..")) {
			if (!cur[0])
				return ck_errf(err, CK_E_PKG_TREE,
					       "symlink '%.200s' -> '%.100s' escapes the tree",
					       linkpath, l->link);
			char *s = strrchr(cur, '/');
			if (s)
				*s = 0;
			else
				cur[0] = 0;
			continue;
		}
		if (strlen(cur) + 1 + strlen(comp) + 1 >= sizeof(cur))
			return ck_errf(err, CK_E_PKG_TREE,
				       "symlink '%.200s' resolves too long a path", linkpath);
		if (cur[0])
			strcat(cur, "/");
		strcat(cur, comp);
		const struct ck_tar_entry *x = lookup(t, cur);
		if (x && x->type == CK_TAR_LINK) {
			if (++hops > CK_PKG_MAX_HOPS)
				return ck_errf(err, CK_E_PKG_TREE,
					       "symlink '%.200s' loops (more than %d expansions)",
					       linkpath, CK_PKG_MAX_HOPS);
			if (x->link[0] == '/')
				return ck_errf(err, CK_E_PKG_TREE,
					       "symlink '%.200s' leads to an absolute path",
					       linkpath);
			if (strlen(x->link) + 1 + strlen(rest) + 1 >= sizeof(tmp))
				return ck_errf(err, CK_E_PKG_TREE, "symlink '%.200s' is too long",
					       linkpath);
			/* rest = link target + "/" + rest (lengths checked above) */
			size_t ll = strlen(x->link), rl = strlen(rest);
			memcpy(tmp, x->link, ll);
			if (rl) {
				tmp[ll] = '/';
				memcpy(tmp + ll + 1, rest, rl + 1);
			} else {
				tmp[ll] = 0;
			}
			memcpy(rest, tmp, strlen(tmp) + 1);
			char *s = strrchr(cur, '/');
			if (s)
				*s = 0;
			else
				cur[0] = 0;
		}
	}
	return 0;
}

int ck_tar_tree_check_links(const struct ck_tar_tree *t, struct ck_err *err)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->e[i].type == CK_TAR_LINK && resolve(t, t->e[i].path, err) < 0)
			return -1;
	return 0;
}

/* ---- the reader -------------------------------------------------------------------------- */

void ck_tar_reader_init(struct ck_tar_reader *r)
{
	memset(r, 0, sizeof(*r));
}

void ck_tar_reader_free(struct ck_tar_reader *r)
{
	ck_tar_tree_free(&r->tree);
}

static bool zero_block(const uint8_t *b)
{
	for (size_t i = 0; i < CK_TAR_BLOCK; i++)
		if (b[i])
			return false;
	return true;
}

static int header(struct ck_tar_reader *r, struct ck_err *err)
{
	struct ck_tar_entry e;
	if (zero_block(r->block)) {
		r->zero_blocks++;
		return 0;
	}
	if (r->zero_blocks)
		return TFAIL("data after the end-of-archive marker");
	if (ck_tar_header_decode(r->block, &e, err) < 0 || ck_tar_tree_add(&r->tree, &e, err) < 0)
		return -1;
	if (r->on_entry && r->on_entry(r->ctx, &e) < 0)
		return ck_errf(err, CK_E_IO, "'%.200s': could not be written", e.path);
	r->data_left = e.size;
	r->pad_left = (CK_TAR_BLOCK - e.size % CK_TAR_BLOCK) % CK_TAR_BLOCK;
	return 0;
}

int ck_tar_reader_feed(struct ck_tar_reader *r, const uint8_t *p, size_t n, struct ck_err *err)
{
	if (r->failed)
		return ck_errf(err, CK_E_USAGE, "tar reader already failed");
	while (n) {
		if (r->data_left) {
			size_t k = n < r->data_left ? n : (size_t)r->data_left;
			if (r->on_data && r->on_data(r->ctx, p, k) < 0) {
				r->failed = true;
				return ck_errf(err, CK_E_IO, "file data could not be written");
			}
			r->data_left -= k;
			p += k;
			n -= k;
			continue;
		}
		if (r->pad_left) {
			size_t k = n < r->pad_left ? n : (size_t)r->pad_left;
			for (size_t i = 0; i < k; i++)
				if (p[i]) {
					r->failed = true;
					return TFAIL("non-zero padding after file data");
				}
			r->pad_left -= k;
			p += k;
			n -= k;
			continue;
		}
		if (r->zero_blocks >= 2) {
			r->failed = true;
			return TFAIL("data after the end-of-archive marker");
		}
		size_t k = CK_TAR_BLOCK - r->have;
		if (k > n)
			k = n;
		memcpy(r->block + r->have, p, k);
		r->have += k;
		p += k;
		n -= k;
		if (r->have == CK_TAR_BLOCK) {
			r->have = 0;
			if (header(r, err) < 0) {
				r->failed = true;
				return -1;
			}
		}
	}
	return 0;
}

int ck_tar_reader_finish(struct ck_tar_reader *r, struct ck_err *err)
{
	if (r->failed)
		return ck_errf(err, CK_E_USAGE, "tar reader already failed");
	if (r->zero_blocks != 2 || r->have || r->data_left || r->pad_left)
		return TFAIL("archive is truncated (no end-of-archive marker)");
	return ck_tar_tree_check_links(&r->tree, err);
}
