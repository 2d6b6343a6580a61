/* SPDX-License-Identifier: Apache-2.0 */
/*
 * fileio.h - bounded whole-file reads and atomic writes.
 */
#ifndef CLOAK_FILEIO_H
#define CLOAK_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cloak/err.h"

/* Reads all of `path` (or stdin when path is "-") into a fresh buffer with a NUL appended
 * (not counted in *len). Files larger than `max` fail with CK_E_TOO_LARGE naming the path. */
int ck_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct ck_err *err);

/* Writes `len` bytes to `path` atomically (temp file in the same directory, fsync, rename) with
 * the given mode. On failure nothing is left at `path` or beside it. */
int ck_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct ck_err *err);

/* Removes `path` and everything under it, not following links nor crossing into other
 * mounts; what cannot be removed stays. */
void ck_fs_remove_tree(const char *path);

#endif
