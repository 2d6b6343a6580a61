/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include "cloak/fileio.h"
#include "util/fsutil.h"

int ck_fs_open_beneath(int rootfd, const char *rel, int flags, unsigned mode)
{
	char comp[256];
	int dfd = dup(rootfd);
	if (dfd < 0)
		return -1;
	const char *p = rel;
	while (*p) {
		const char *sl = strchr(p, '/');
		size_t n = sl ? (size_t)(sl - p) : strlen(p);
		if (n == 0 || n >= sizeof(comp)) {
			close(dfd);
			errno = EINVAL;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = 0;
		bool last = !sl || !sl[1];
		int fd = last ? openat(dfd, comp, flags | O_NOFOLLOW | O_CLOEXEC, mode)
			      : openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(dfd);
		if (fd < 0) {
			errno = e;
			return -1;
		}
		dfd = fd;
		if (last)
			return dfd;
		p = sl + 1;
	}
	return dfd;
}

int ck_fs_open_parent(int rootfd, const char *rel, char *buf, size_t cap, const char **name)
{
	size_t n = strlen(rel);
	while (n && rel[n - 1] == '/') /* a directory's own trailing '/' */
		n--;
	size_t k = n;
	while (k && rel[k - 1] != '/')
		k--;
	if (k >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, rel, k);
	buf[k] = 0;
	*name = rel + k;
	return ck_fs_open_beneath(rootfd, buf, O_RDONLY | O_DIRECTORY, 0);
}

/* Reads exactly n bytes, at `off` when off >= 0, else at the file position. */
static int read_full(int fd, void *buf, size_t n, int64_t off)
{
	uint8_t *p = buf;
	while (n) {
		ssize_t r = off >= 0 ? pread(fd, p, n, (off_t)off) : read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;
			return -1;
		}
		p += r;
		n -= (size_t)r;
		if (off >= 0)
			off += r;
	}
	return 0;
}

int ck_fs_read_full(int fd, void *buf, size_t n)
{
	return read_full(fd, buf, n, -1);
}

int ck_fs_pread_full(int fd, void *buf, size_t n, uint64_t off)
{
	return read_full(fd, buf, n, (int64_t)off);
}

int ck_fs_write_full(int fd, const void *buf, size_t n)
{
	const uint8_t *p = buf;
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int remove_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(p);
	else
		unlink(p);
	return 0;
}

void ck_fs_remove_tree(const char *path)
{
	nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}
