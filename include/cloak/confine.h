/* SPDX-License-Identifier: Apache-2.0 */
/*
 * confine.h - what a process that faces the network may keep (OpenBSD relayd's and httpd's
 * privilege separation is the model): called in a freshly forked child before it serves, it
 * closes every descriptor but 0-2 and `keep`, makes an empty, deleted directory its root (so
 * it cannot open the node's data directory or anything else by path), and
 *   as root: switches to `user`'s uid and gid, with no supplementary groups (and checks that
 *            root cannot be regained);
 *   otherwise: does the same inside a new user namespace (its root only there), where the
 *            kernel allows it;
 * then sets no_new_privs and a seccomp filter (x86-64, aarch64) under which starting programs
 * or processes (execve, fork, clone), tracing, namespaces, mounts, identity changes and kernel
 * administration fail with EPERM, and another architecture's calls kill the process. So the
 * caller must not need threads either. `how` says what it could do ("root: chroot, user nobody,
 * seccomp", "userns: chroot, seccomp", or "none: <why>, seccomp" where neither was possible:
 * logged by the caller).
 */
#ifndef CLOAK_CONFINE_H
#define CLOAK_CONFINE_H

#include <stddef.h>

#include "cloak/err.h"

#define CK_CONFINE_HOW_MAX 96

int ck_confine(const int *keep, size_t nkeep, const char *user, char how[CK_CONFINE_HOW_MAX],
	       struct ck_err *err);

#endif
