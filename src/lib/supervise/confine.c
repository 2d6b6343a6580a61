/* SPDX-License-Identifier: Apache-2.0 */
/* confine.c - a network-facing child holds as little as it can; see include/cloak/confine.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/close_range.h>

#include "cloak/confine.h"

/* Closes every descriptor from 3 up but those in keep. */
static void close_others(const int *keep, size_t n)
{
	int lo = 3;
	for (;;) {
		int next = -1; /* the smallest kept descriptor >= lo */
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			close_range((unsigned)lo, ~0U, 0);
			return;
		}
		if (next > lo)
			close_range((unsigned)lo, (unsigned)next - 1, 0);
		lo = next + 1;
	}
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* An empty directory, deleted, as the root and working directory. */
static int empty_root(struct ck_err *err)
{
	char dir[] = "/tmp/cloak-empty-XXXXXX";
	if (!mkdtemp(dir))
		return ck_errf(err, CK_E_IO, "cannot make an empty directory: %s", strerror(errno));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rmdir(dir);
	if (fd < 0 || fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ck_errf(err, CK_E_IO, "cannot change root: %s", strerror(e));
	}
	close(fd);
	return 0;
}

static int as_root(const char *user, char how[CK_CONFINE_HOW_MAX], struct ck_err *err)
{
	struct passwd *pw = getpwnam(user); /* before the root changes: NSS reads /etc */
	if (!pw)
		return ck_errf(err, CK_E_USAGE, "no user '%s' to run as", user);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (empty_root(err) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return ck_errf(err, CK_E_IO, "cannot become '%s': %s", user, strerror(errno));
	if (uid != 0 && setuid(0) == 0)
		return ck_errf(err, CK_E_IO, "root could be regained after becoming '%s'", user);
	snprintf(how, CK_CONFINE_HOW_MAX, "root: chroot, user %s", user);
	return 0;
}

static int in_userns(char how[CK_CONFINE_HOW_MAX], struct ck_err *err)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER) < 0) {
		snprintf(how, CK_CONFINE_HOW_MAX, "none: no user namespace (%s)", strerror(errno));
		return 1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0)
		return ck_errf(err, CK_E_IO, "cannot map the user namespace: %s", strerror(errno));
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return ck_errf(err, CK_E_IO, "cannot map the user namespace: %s", strerror(errno));
	if (empty_root(err) < 0)
		return -1;
	snprintf(how, CK_CONFINE_HOW_MAX, "userns: chroot");
	return 0;
}

int ck_confine(const int *keep, size_t nkeep, const char *user, char how[CK_CONFINE_HOW_MAX],
	       struct ck_err *err)
{
	close_others(keep, nkeep);
	int r = geteuid() == 0 ? as_root(user, how, err) : in_userns(how, err);
	if (r < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ck_errf(err, CK_E_IO, "cannot set no_new_privs: %s", strerror(errno));
	return 0;
}
