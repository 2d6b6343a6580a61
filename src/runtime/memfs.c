/* SPDX-License-Identifier: Apache-2.0 */
/* memfs.c - the private in-memory filesystem for the app's code (contract in runtime.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime.h"

#define KIND_NS	 "private-namespace"
#define KIND_SHM "shm-0700"

static int write_proc(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Own user and mount namespaces (the same uid and gid inside), then a tmpfs on `dir` that only
 * this process and its children can see. */
static int private_tmpfs(const char *dir)
{
	char map[64];
	uid_t uid = getuid();
	gid_t gid = getgid();
	if (unshare(CLONE_NEWUSER | CLONE_NEWNS) < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)uid, (unsigned)uid);
	if (write_proc("/proc/self/uid_map", map) < 0)
		return -1;
	if (write_proc("/proc/self/setgroups", "deny") < 0)
		return -1;
	snprintf(map, sizeof(map), "%u %u 1\n", (unsigned)gid, (unsigned)gid);
	if (write_proc("/proc/self/gid_map", map) < 0)
		return -1;
	/* nothing we mount propagates back to the host's namespace */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -1;
	return mount("cloak-app", dir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700");
}

int rt_memfs_make(char dir[PATH_MAX], const char **kind, struct ck_err *err)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, PATH_MAX, "%s/cloak-runtime-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		return ck_errf(err, CK_E_IO, "cannot create a directory '%s': %s", dir,
			       strerror(errno));
	if (private_tmpfs(dir) == 0) {
		*kind = KIND_NS;
		return 0;
	}
	int why = errno;
	rmdir(dir);
	snprintf(dir, PATH_MAX, "/dev/shm/cloak-runtime-XXXXXX");
	if (!mkdtemp(dir))
		return ck_errf(err, CK_E_IO,
			       "no private namespace (%s) and no directory on /dev/shm (%s): "
			       "nowhere in memory to put the app's code",
			       strerror(why), strerror(errno));
	*kind = KIND_SHM;
	rt_log("warning: no private mount namespace (%s); the app's code goes to '%s' (tmpfs, "
	       "mode 0700: in memory, but readable by this user's other processes)",
	       strerror(why), dir);
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	if (ftw->level > 0)
		remove(path);
	return 0;
}

void rt_memfs_remove(const char *dir, const char *kind)
{
	if (!*dir)
		return;
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	if (!strcmp(kind, KIND_NS))
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}
