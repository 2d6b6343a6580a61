/* SPDX-License-Identifier: Apache-2.0 */
/* fsutil.h - paths beneath a directory, never through a symlink (internal). */
#ifndef CLOAK_FSUTIL_H
#define CLOAK_FSUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Opens `rel` (relative, '/'-separated) beneath `rootfd`: every directory on the way is opened
 * with O_NOFOLLOW|O_DIRECTORY, the last component with `flags | O_NOFOLLOW` (and `mode` when
 * creating). Returns an fd or -1 with errno set. `rel` of "" opens rootfd itself again. */
int ck_fs_open_beneath(int rootfd, const char *rel, int flags, unsigned mode);

/* Opens the parent directory of `rel` beneath rootfd, and points *name at the last component
 * (in rel). Returns an fd or -1. */
int ck_fs_open_parent(int rootfd, const char *rel, char *buf, size_t cap, const char **name);

/* Reads or writes exactly n bytes (retrying on EINTR and short transfers). 0 or -1. */
int ck_fs_read_full(int fd, void *buf, size_t n);
int ck_fs_pread_full(int fd, void *buf, size_t n, uint64_t off);
int ck_fs_write_full(int fd, const void *buf, size_t n);

#endif
