/* SPDX-License-Identifier: Apache-2.0 */
/*
 * package.h - an app's code, as it leaves the owner's machine (DESIGN §6).
 *
 *   tree ──deterministic tar──> fingerprint = SHA-256(tar)
 *        ──STREAM AES-256-GCM (stream.h)──> package;  package hash = SHA-256(package file)
 *
 * The tar profile (src/lib/package/tar.h) makes the fingerprint a function of the tree's
 * content alone: names, bytes, the executable bit, directories and relative symlinks. Owners,
 * times, umask and the order of entries on disk do not count. Anything that cannot be carried
 * faithfully is refused with its path: devices, fifos, sockets, symlinks that are absolute or
 * resolve outside the tree, names with control characters, paths over 255 bytes, depth over 64,
 * more than 100,000 entries or 4 GiB. `.cloakignore` at the root excludes files (ignore.h).
 *
 * Unpacking authenticates every chunk, rebuilds and checks the whole tree and its fingerprint
 * in a first pass that writes nothing; only then does a second pass write the tree into a
 * private staging directory beside the target, never following a symlink, and rename it into
 * place. On any failure nothing is left behind.
 */
#ifndef CLOAK_PACKAGE_H
#define CLOAK_PACKAGE_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>

#include "cloak/err.h"
#include "cloak/stream.h"

#define CK_IGNORE_FILE ".cloakignore"

struct ck_pack_result {
	uint8_t fingerprint[32];    /* SHA-256 of the tar */
	uint8_t package_sha256[32]; /* SHA-256 of the package file */
	uint64_t tar_len, package_len;
	size_t entries;
};

/* Fingerprints the tree at `dir` without encrypting anything. */
int ck_fingerprint_dir(const char *dir, struct ck_pack_result *res, struct ck_err *err);

/* Packages `dir` into `out` (written atomically; it must not lie inside `dir`) under a fresh
 * random key, returned in `key` (the caller wipes it). */
int ck_package_dir(const char *dir, const char *out, uint8_t key[CK_PKG_KEY_LEN],
		   struct ck_pack_result *res, struct ck_err *err);

struct ck_unpack_result {
	uint8_t fingerprint[32];
	uint64_t tar_len;
	size_t entries;
};

/* Checks the package in `pkg` (file) under `key` and, if `expect_fp` is not NULL, that its
 * tree has this fingerprint; then creates `out_dir` (which must not exist) holding the tree.
 * With out_dir NULL only the first, checking pass runs. What is written is what was checked:
 * the writing pass hashes what it writes and keeps it only if that is the checked tree's
 * fingerprint (a file changed between the passes fails, CK_E_PKG_CHANGED, nothing left).
 * `cancel` (may be NULL), set by a signal handler, stops the writing pass between two chunks
 * (CK_E_INTERRUPTED): what it had written is removed, as on any failure. */
int ck_unpack(const char *pkg, const uint8_t key[CK_PKG_KEY_LEN], const uint8_t *expect_fp,
	      const char *out_dir, const volatile sig_atomic_t *cancel,
	      struct ck_unpack_result *res, struct ck_err *err);

/* The same for a package held in memory (the runtime's path: the host cannot change it
 * between the passes). */
int ck_unpack_buf(const uint8_t *pkg, size_t len, const uint8_t key[CK_PKG_KEY_LEN],
		  const uint8_t *expect_fp, const char *out_dir, struct ck_unpack_result *res,
		  struct ck_err *err);

/* The checking pass over a package held in memory (the runtime's path; fuzzing). */
int ck_unpack_check_buf(const uint8_t *pkg, size_t len, const uint8_t key[CK_PKG_KEY_LEN],
			struct ck_unpack_result *res, struct ck_err *err);

/* Package keys on disk: 64 hex digits and a newline, mode 0600. Reading refuses a key file
 * that group or others can read. */
int ck_pkg_key_write(const char *path, const uint8_t key[CK_PKG_KEY_LEN], struct ck_err *err);
int ck_pkg_key_read(const char *path, uint8_t key[CK_PKG_KEY_LEN], struct ck_err *err);

#endif
