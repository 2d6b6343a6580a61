/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/fileio.h"

int ck_read_file(const char *path, size_t max, uint8_t **buf, size_t *len, struct ck_err *err)
{
	*buf = NULL;
	*len = 0;
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ck_errf(err, CK_E_IO, "cannot open '%s': %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return ck_errf(err, CK_E_IO, "'%s' is a directory, not a file", path);
	}
	size_t cap = 4096, n = 0;
	uint8_t *b = malloc(cap + 1);
	if (!b)
		goto oom;
	for (;;) {
		if (n == cap) {
			if (cap > max)
				break;
			size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
			uint8_t *nb = realloc(b, ncap + 1);
			if (!nb)
				goto oom;
			b = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(b);
			if (fd != STDIN_FILENO)
				close(fd);
			return ck_errf(err, CK_E_IO, "cannot read '%s': %s", path, strerror(e));
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max)
			break;
	}
	if (fd != STDIN_FILENO)
		close(fd);
	if (n > max) {
		free(b);
		return ck_errf(err, CK_E_TOO_LARGE, "'%s' is larger than the limit of %zu bytes",
			       path, max);
	}
	b[n] = 0;
	*buf = b;
	*len = n;
	return 0;
oom:
	free(b);
	if (fd != STDIN_FILENO)
		close(fd);
	return ck_errf(err, CK_E_NOMEM, "out of memory reading '%s'", path);
}

int ck_write_file(const char *path, const void *buf, size_t len, mode_t mode, struct ck_err *err)
{
	size_t plen = strlen(path);
	char *tmp = malloc(plen + 16);
	if (!tmp)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	snprintf(tmp, plen + 16, "%s.tmpXXXXXX", path);
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		free(tmp);
		return ck_errf(err, CK_E_IO, "cannot create '%s': %s", path, strerror(e));
	}
	const uint8_t *p = buf;
	size_t left = len;
	int e = 0;
	if (fchmod(fd, mode) < 0)
		e = errno;
	while (!e && left) {
		ssize_t w = write(fd, p, left);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (!e && fsync(fd) < 0)
		e = errno;
	if (close(fd) < 0 && !e)
		e = errno;
	if (!e && rename(tmp, path) < 0)
		e = errno;
	if (e) {
		unlink(tmp);
		free(tmp);
		return ck_errf(err, CK_E_IO, "cannot write '%s': %s", path, strerror(e));
	}
	free(tmp);
	return 0;
}
