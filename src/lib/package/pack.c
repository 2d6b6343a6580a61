/* SPDX-License-Identifier: Apache-2.0 */
/* Packaging a tree: walk, check, sort, stream the tar through SHA-256 and STREAM (package.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "cloak/codec.h"
#include "cloak/package.h"
#include "ignore.h"
#include "tarfmt.h"
#include "util/fsutil.h"

#define READ_BUF (256 * 1024)

struct walk {
	int rootfd;
	struct ck_ignore ig;
	struct ck_tar_entry *e;
	size_t n, cap;
	struct ck_err *err;
};

static int push(struct walk *w, const struct ck_tar_entry *e)
{
	if (w->n >= CK_PKG_MAX_ENTRIES)
		return ck_errf(w->err, CK_E_PKG_LIMIT, "more than %d entries (at '%.200s')",
			       CK_PKG_MAX_ENTRIES, e->path);
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		void *ne = realloc(w->e, cap * sizeof(*w->e));
		if (!ne)
			return ck_errf(w->err, CK_E_NOMEM, "out of memory");
		w->e = ne;
		w->cap = cap;
	}
	w->e[w->n++] = *e;
	return 0;
}

static int walk_dir(struct walk *w, int dirfd, const char *rel, int depth)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;
	int ret = -1;
	if (!d) {
		close(dirfd);
		return ck_errf(w->err, CK_E_IO, "cannot read directory '%s': %s", *rel ? rel : ".",
			       strerror(errno));
	}
	errno = 0;
	while ((de = readdir(d))) {
		struct ck_tar_entry e = {0};
		struct stat st;
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		size_t rl = strlen(rel), nl = strlen(name);
		if (rl + nl + 1 > CK_PKG_MAX_PATH) {
			ck_errf(w->err, CK_E_PKG_LIMIT, "path longer than %d bytes: '%.120s...'",
				CK_PKG_MAX_PATH, rel);
			goto out;
		}
		memcpy(e.path, rel, rl);
		memcpy(e.path + rl, name, nl + 1);
		if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			ck_errf(w->err, CK_E_IO, "cannot stat '%s': %s", e.path, strerror(errno));
			goto out;
		}
		bool is_dir = S_ISDIR(st.st_mode);
		if (ck_ignore_match(&w->ig, e.path, is_dir))
			continue;
		if (is_dir) {
			if (depth + 1 > CK_PKG_MAX_DEPTH) {
				ck_errf(w->err, CK_E_PKG_LIMIT, "'%s' is deeper than %d levels",
					e.path, CK_PKG_MAX_DEPTH);
				goto out;
			}
			strcat(e.path, "/");
			e.type = CK_TAR_DIR;
			e.mode = 0755;
			if (ck_tar_path_check(e.path, true, w->err) < 0 || push(w, &e) < 0)
				goto out;
			int sub =
			    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				ck_errf(w->err, CK_E_IO, "cannot open directory '%s': %s", e.path,
					strerror(errno));
				goto out;
			}
			if (walk_dir(w, sub, e.path, depth + 1) < 0)
				goto out;
		} else if (S_ISREG(st.st_mode)) {
			e.type = CK_TAR_FILE;
			e.mode = (st.st_mode & 0111) ? 0755 : 0644;
			e.size = (uint64_t)st.st_size;
			if (ck_tar_path_check(e.path, false, w->err) < 0 || push(w, &e) < 0)
				goto out;
		} else if (S_ISLNK(st.st_mode)) {
			e.type = CK_TAR_LINK;
			e.mode = 0777;
			ssize_t n = readlinkat(dirfd, name, e.link, sizeof(e.link));
			if (n < 0) {
				ck_errf(w->err, CK_E_IO, "cannot read link '%s': %s", e.path,
					strerror(errno));
				goto out;
			}
			if ((size_t)n >= sizeof(e.link)) {
				ck_errf(w->err, CK_E_PKG_LIMIT,
					"'%s': symlink target over %d bytes", e.path,
					CK_PKG_MAX_LINK);
				goto out;
			}
			e.link[n] = 0;
			if (n == 0 || e.link[0] == '/') {
				ck_errf(w->err, CK_E_PKG_TREE,
					"'%s' is a symlink to the absolute path '%s'", e.path,
					e.link);
				goto out;
			}
			if (ck_tar_path_check(e.path, false, w->err) < 0 || push(w, &e) < 0)
				goto out;
		} else {
			ck_errf(w->err, CK_E_PKG_TREE,
				"'%s' is a %s: only files, directories and "
				"relative symlinks can be packaged",
				e.path,
				S_ISFIFO(st.st_mode)   ? "fifo"
				: S_ISSOCK(st.st_mode) ? "socket"
				: S_ISCHR(st.st_mode)  ? "character device"
				: S_ISBLK(st.st_mode)  ? "block device"
						       : "special file");
			goto out;
		}
		errno = 0;
	}
	if (errno) {
		ck_errf(w->err, CK_E_IO, "cannot read directory '%s': %s", *rel ? rel : ".",
			strerror(errno));
		goto out;
	}
	ret = 0;
out:
	closedir(d);
	return ret;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct ck_tar_entry *)a)->path,
		      ((const struct ck_tar_entry *)b)->path);
}

/* Walks `dir` into a checked, sorted tree. */
static int build_tree(const char *dir, struct ck_tar_tree *t, int *rootfd_out, struct ck_err *err)
{
	struct walk w = {.err = err};
	memset(t, 0, sizeof(*t));
	*rootfd_out = -1;
	w.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.rootfd < 0)
		return ck_errf(err, CK_E_IO, "cannot open directory '%s': %s", dir,
			       strerror(errno));
	int ifd = openat(w.rootfd, CK_IGNORE_FILE, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ifd >= 0) {
		char *buf = malloc(CK_IGNORE_MAX_LEN + 1);
		ssize_t n = buf ? read(ifd, buf, CK_IGNORE_MAX_LEN + 1) : -1;
		close(ifd);
		if (n < 0 || n > CK_IGNORE_MAX_LEN ||
		    ck_ignore_parse(buf, (size_t)n, &w.ig, err) < 0) {
			if (n < 0 || n > CK_IGNORE_MAX_LEN)
				ck_errf(err, CK_E_IO, "cannot read %s/%s (or over %d bytes)", dir,
					CK_IGNORE_FILE, CK_IGNORE_MAX_LEN);
			free(buf);
			close(w.rootfd);
			return -1;
		}
		free(buf);
	} else if (errno != ENOENT) {
		close(w.rootfd);
		return ck_errf(err, CK_E_IO, "cannot read %s/%s: %s", dir, CK_IGNORE_FILE,
			       strerror(errno));
	}
	int sub = dup(w.rootfd);
	int r =
	    sub < 0 ? ck_errf(err, CK_E_IO, "dup: %s", strerror(errno)) : walk_dir(&w, sub, "", 0);
	ck_ignore_free(&w.ig);
	if (r == 0) {
		qsort(w.e, w.n, sizeof(*w.e), cmp_entry);
		for (size_t i = 0; i < w.n && r == 0; i++)
			r = ck_tar_tree_add(t, &w.e[i], err);
		if (r == 0)
			r = ck_tar_tree_check_links(t, err);
	}
	free(w.e);
	if (r < 0) {
		ck_tar_tree_free(t);
		close(w.rootfd);
		return -1;
	}
	*rootfd_out = w.rootfd;
	return 0;
}

/* Where the tar bytes go: the fingerprint, and (when packaging) the sealed file. */
struct sink {
	EVP_MD_CTX *fp, *pkg;
	struct ck_stream *st;
	uint8_t *chunk, *sealed;
	size_t fill;
	uint64_t index, written;
	int fd;
	struct ck_err *err;
};

static int flush_chunk(struct sink *s)
{
	if (ck_stream_seal_next(s->st, s->chunk, s->fill, s->sealed, s->err) < 0)
		return -1;
	size_t n = s->fill + CK_PKG_TAG_LEN;
	if (EVP_DigestUpdate(s->pkg, s->sealed, n) != 1 ||
	    ck_fs_write_full(s->fd, s->sealed, n) < 0)
		return ck_errf(s->err, CK_E_IO, "cannot write the package: %s", strerror(errno));
	s->index++;
	s->fill = 0;
	return 0;
}

static int sink_write(struct sink *s, const uint8_t *p, size_t n)
{
	if (EVP_DigestUpdate(s->fp, p, n) != 1)
		return ck_errf(s->err, CK_E_NOMEM, "SHA-256 failed");
	s->written += n;
	if (!s->st)
		return 0;
	const struct ck_pkg_header *h = ck_stream_header(s->st);
	while (n) {
		size_t want = ck_pkg_chunk_plain(h, s->index);
		size_t k = want - s->fill < n ? want - s->fill : n;
		memcpy(s->chunk + s->fill, p, k);
		s->fill += k;
		p += k;
		n -= k;
		if (s->fill == want && s->index + 1 < ck_pkg_chunks(h) && flush_chunk(s) < 0)
			return -1;
	}
	return 0;
}

/* Streams the tar of `t` (files read beneath rootfd) into the sink. */
static int stream_tar(const struct ck_tar_tree *t, int rootfd, struct sink *s, struct ck_err *err)
{
	uint8_t block[CK_TAR_BLOCK];
	uint8_t *buf = malloc(READ_BUF);
	int ret = -1;
	if (!buf)
		return ck_errf(err, CK_E_NOMEM, "out of memory");
	for (size_t i = 0; i < t->n; i++) {
		const struct ck_tar_entry *e = &t->e[i];
		if (ck_tar_header_encode(e, block, err) < 0 ||
		    sink_write(s, block, CK_TAR_BLOCK) < 0)
			goto out;
		if (e->type != CK_TAR_FILE)
			continue;
		int fd = ck_fs_open_beneath(rootfd, e->path, O_RDONLY, 0);
		if (fd < 0) {
			ck_errf(err, CK_E_IO, "cannot open '%s': %s", e->path, strerror(errno));
			goto out;
		}
		uint64_t left = e->size;
		while (left) {
			size_t k = left < READ_BUF ? (size_t)left : READ_BUF;
			ssize_t r = read(fd, buf, k);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				ck_errf(err, CK_E_PKG_TREE,
					"'%s' changed while it was packaged "
					"(shorter than %llu bytes)",
					e->path, (unsigned long long)e->size);
				close(fd);
				goto out;
			}
			if (sink_write(s, buf, (size_t)r) < 0) {
				close(fd);
				goto out;
			}
			left -= (uint64_t)r;
		}
		ssize_t extra = read(fd, buf, 1);
		close(fd);
		if (extra != 0) {
			ck_errf(err, CK_E_PKG_TREE, "'%s' changed while it was packaged (grew)",
				e->path);
			goto out;
		}
		memset(block, 0, sizeof(block));
		size_t pad = (CK_TAR_BLOCK - e->size % CK_TAR_BLOCK) % CK_TAR_BLOCK;
		if (pad && sink_write(s, block, pad) < 0)
			goto out;
	}
	memset(block, 0, sizeof(block));
	if (sink_write(s, block, CK_TAR_BLOCK) < 0 || sink_write(s, block, CK_TAR_BLOCK) < 0)
		goto out;
	ret = 0;
out:
	free(buf);
	return ret;
}

static int digest_final(EVP_MD_CTX *c, uint8_t out[32])
{
	unsigned n = 0;
	return EVP_DigestFinal_ex(c, out, &n) == 1 && n == 32 ? 0 : -1;
}

int ck_fingerprint_dir(const char *dir, struct ck_pack_result *res, struct ck_err *err)
{
	struct ck_tar_tree t;
	int rootfd;
	memset(res, 0, sizeof(*res));
	if (build_tree(dir, &t, &rootfd, err) < 0)
		return -1;
	struct sink s = {.err = err, .fd = -1};
	int ret = -1;
	if (!(s.fp = EVP_MD_CTX_new()) || EVP_DigestInit_ex(s.fp, EVP_sha256(), NULL) != 1) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	if (stream_tar(&t, rootfd, &s, err) < 0 || digest_final(s.fp, res->fingerprint) < 0)
		goto out;
	res->tar_len = s.written;
	res->entries = t.n;
	ret = 0;
out:
	EVP_MD_CTX_free(s.fp);
	ck_tar_tree_free(&t);
	close(rootfd);
	return ret;
}

/* `out` must not be inside `dir` (the walk would meet the package being written). */
static int out_inside(const char *dir, const char *out, struct ck_err *err)
{
	char rd[PATH_MAX], od[PATH_MAX], tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s", out);
	char *sl = strrchr(tmp, '/');
	const char *parent = sl ? (sl == tmp ? "/" : (*sl = 0, tmp)) : ".";
	if (!realpath(dir, rd) || !realpath(parent, od))
		return ck_errf(err, CK_E_IO, "cannot resolve '%s' or the directory of '%s': %s",
			       dir, out, strerror(errno));
	size_t n = strlen(rd);
	if (!strncmp(od, rd, n) && (od[n] == 0 || od[n] == '/' || n == 1))
		return ck_errf(err, CK_E_USAGE, "the package '%s' would be written inside '%s'",
			       out, dir);
	return 0;
}

int ck_package_dir(const char *dir, const char *out, uint8_t key[CK_PKG_KEY_LEN],
		   struct ck_pack_result *res, struct ck_err *err)
{
	struct ck_tar_tree t;
	int rootfd;
	uint8_t header[CK_PKG_HEADER_LEN];
	char *tmp = NULL;
	bool created = false;
	struct sink s = {.err = err, .fd = -1};
	int ret = -1;
	memset(res, 0, sizeof(*res));
	if (out_inside(dir, out, err) < 0 || build_tree(dir, &t, &rootfd, err) < 0)
		return -1;
	uint64_t tar_len = t.total + 2 * CK_TAR_BLOCK;
	if (RAND_priv_bytes(key, CK_PKG_KEY_LEN) != 1) {
		ck_errf(err, CK_E_NOMEM, "the random generator failed");
		goto out;
	}
	if (!(s.fp = EVP_MD_CTX_new()) || !(s.pkg = EVP_MD_CTX_new()) ||
	    EVP_DigestInit_ex(s.fp, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(s.pkg, EVP_sha256(), NULL) != 1 ||
	    !(s.chunk = malloc(CK_PKG_CHUNK_SIZE)) ||
	    !(s.sealed = malloc(CK_PKG_CHUNK_SIZE + CK_PKG_TAG_LEN)) ||
	    !(tmp = malloc(strlen(out) + 16))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	if (ck_stream_seal_init(&s.st, key, tar_len, header, err) < 0)
		goto out;
	sprintf(tmp, "%s.tmpXXXXXX", out);
	if ((s.fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		ck_errf(err, CK_E_IO, "cannot create '%s': %s", out, strerror(errno));
		goto out;
	}
	created = true;
	if (fchmod(s.fd, 0644) < 0 || ck_fs_write_full(s.fd, header, sizeof(header)) < 0 ||
	    EVP_DigestUpdate(s.pkg, header, sizeof(header)) != 1) {
		ck_errf(err, CK_E_IO, "cannot write '%s': %s", out, strerror(errno));
		goto out;
	}
	if (stream_tar(&t, rootfd, &s, err) < 0)
		goto out;
	if (s.written != tar_len) {
		ck_errf(err, CK_E_PKG_TREE, "the tree changed while it was packaged");
		goto out;
	}
	if (flush_chunk(&s) < 0 || !ck_stream_done(s.st))
		goto out;
	if (fsync(s.fd) < 0 || close(s.fd) < 0) {
		s.fd = -1;
		ck_errf(err, CK_E_IO, "cannot write '%s': %s", out, strerror(errno));
		goto out;
	}
	s.fd = -1;
	if (digest_final(s.fp, res->fingerprint) < 0 ||
	    digest_final(s.pkg, res->package_sha256) < 0)
		goto out;
	if (rename(tmp, out) < 0) {
		ck_errf(err, CK_E_IO, "cannot rename to '%s': %s", out, strerror(errno));
		goto out;
	}
	res->tar_len = tar_len;
	res->package_len = ck_pkg_sealed_len(ck_stream_header(s.st));
	res->entries = t.n;
	ret = 0;
out:
	if (s.fd >= 0)
		close(s.fd);
	if (ret < 0) {
		if (created)
			unlink(tmp);
		OPENSSL_cleanse(key, CK_PKG_KEY_LEN);
	}
	if (s.chunk)
		OPENSSL_cleanse(s.chunk, CK_PKG_CHUNK_SIZE);
	free(s.chunk);
	free(s.sealed);
	free(tmp);
	ck_stream_free(s.st);
	EVP_MD_CTX_free(s.fp);
	EVP_MD_CTX_free(s.pkg);
	ck_tar_tree_free(&t);
	close(rootfd);
	return ret;
}
