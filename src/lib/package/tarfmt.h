/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tar.h - cloak's tar profile (internal): the exact bytes a package's plaintext is made of, so
 * that the fingerprint (SHA-256 of the tar) is the same on every machine.
 *
 * POSIX ustar, 512-byte headers; only regular files ('0'), directories ('5', path ending in
 * '/') and symbolic links ('2'); uid/gid 0, empty user/group names, mtime 0; modes 0644 or 0755
 * for files, 0755 for directories, 0777 for links; numeric fields zero-padded octal ending in
 * NUL; checksum "%06o\0 "; paths over 100 bytes split at the first '/' that leaves at most 100
 * bytes for the name. Entries sorted by path (bytewise), every parent directory before its
 * children, no duplicates; then two zero blocks and nothing else. A reader accepts only headers
 * that re-encode to the same 512 bytes, so there is exactly one tar per tree.
 */
#ifndef CLOAK_TAR_H
#define CLOAK_TAR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cloak/err.h"

#define CK_TAR_BLOCK	   512
#define CK_PKG_MAX_PATH	   255 /* ustar: prefix 155 + '/' + name 100, less one for safety */
#define CK_PKG_MAX_LINK	   100
#define CK_PKG_MAX_DEPTH   64
#define CK_PKG_MAX_ENTRIES 100000
#define CK_PKG_MAX_TOTAL   (4ULL << 30) /* plaintext tar, bytes */
#define CK_PKG_MAX_HOPS	   40		/* symlink expansions when checking a link */

enum ck_tar_type { CK_TAR_FILE = '0', CK_TAR_LINK = '2', CK_TAR_DIR = '5' };

struct ck_tar_entry {
	char path[CK_PKG_MAX_PATH + 2]; /* directories end in '/' */
	char link[CK_PKG_MAX_LINK + 1];
	char type;
	uint32_t mode;
	uint64_t size;
};

/* Checks a path against the profile (relative, no empty/./.. components, length, depth,
 * trailing '/' iff directory). */
int ck_tar_path_check(const char *path, bool dir, struct ck_err *err);
int ck_tar_header_encode(const struct ck_tar_entry *e, uint8_t block[CK_TAR_BLOCK],
			 struct ck_err *err);
int ck_tar_header_decode(const uint8_t block[CK_TAR_BLOCK], struct ck_tar_entry *e,
			 struct ck_err *err);
/* Size of the tar for entries whose data sizes sum to `data` (with padding), n entries. */
static inline uint64_t ck_tar_entry_len(uint64_t size)
{
	return CK_TAR_BLOCK + (size + CK_TAR_BLOCK - 1) / CK_TAR_BLOCK * CK_TAR_BLOCK;
}

/* The set of entries of one tree, for order, parent and link checks. */
struct ck_tar_tree {
	struct ck_tar_entry *e;
	size_t n, cap;
	uint64_t total;				/* tar bytes so far */
	size_t dir_stack[CK_PKG_MAX_DEPTH + 1]; /* indices of the open directories */
	size_t depth;
};
/* Appends an entry: checks the path, strict order after the previous one, the parent, the
 * limits. */
int ck_tar_tree_add(struct ck_tar_tree *t, const struct ck_tar_entry *e, struct ck_err *err);
/* Every symlink must resolve (through other links, by at most CK_PKG_MAX_HOPS expansions)
 * to a path inside the tree. */
int ck_tar_tree_check_links(const struct ck_tar_tree *t, struct ck_err *err);
void ck_tar_tree_free(struct ck_tar_tree *t);

/* A push parser for the profile. Callbacks may be NULL; a negative return aborts. */
struct ck_tar_reader {
	int (*on_entry)(void *ctx, const struct ck_tar_entry *e);
	int (*on_data)(void *ctx, const uint8_t *p, size_t n);
	void *ctx;
	struct ck_tar_tree tree; /* every entry read so far */
	/* state */
	uint8_t block[CK_TAR_BLOCK];
	size_t have;
	uint64_t data_left, pad_left;
	int zero_blocks;
	bool failed;
};
void ck_tar_reader_init(struct ck_tar_reader *r);
int ck_tar_reader_feed(struct ck_tar_reader *r, const uint8_t *p, size_t n, struct ck_err *err);
/* The archive must have ended exactly (two zero blocks, nothing after); links are checked. */
int ck_tar_reader_finish(struct ck_tar_reader *r, struct ck_err *err);
void ck_tar_reader_free(struct ck_tar_reader *r);

#endif
