/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unpacking (package.h): pass 1 authenticates every chunk and checks the whole tree and its
 * fingerprint, writing nothing; pass 2 writes the tree into a staging directory beneath which
 * no symlink is ever followed, then renames it into place. On failure, what pass 2 created is
 * removed, entry by entry, in reverse.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cloak/codec.h"
#include "cloak/fileio.h"
#include "cloak/package.h"
#include "tarfmt.h"
#include "util/fsutil.h"

/* Where the sealed bytes come from: memory, or a file read with pread. */
struct src {
	const uint8_t *buf;
	int fd;
	uint64_t len;
};

static int src_read(const struct src *s, uint64_t off, uint8_t *dst, size_t n)
{
	if (off > s->len || n > s->len - off)
		return -1;
	if (s->buf) {
		memcpy(dst, s->buf + off, n);
		return 0;
	}
	return ck_fs_pread_full(s->fd, dst, n, off);
}

struct extract {
	const volatile sig_atomic_t *cancel; /* set by a signal: stop */
	int rootfd;			     /* the staging directory */
	int cur;			     /* the file being written, or -1 */
	size_t created;			     /* entries created so far (in tree order) */
	const struct ck_tar_tree *tree;
	const char *failed_path;
	int failed_errno;
};

static int ex_entry(void *ctx, const struct ck_tar_entry *e)
{
	struct extract *x = ctx;
	char pbuf[CK_PKG_MAX_PATH + 2];
	const char *name;
	if (x->cancel && *x->cancel)
		return -1;
	if (x->cur >= 0) {
		close(x->cur);
		x->cur = -1;
	}
	int pfd = ck_fs_open_parent(x->rootfd, e->path, pbuf, sizeof(pbuf), &name);
	int r = -1;
	if (pfd < 0)
		goto fail;
	char nm[256];
	size_t nl = strlen(name);
	if (nl && name[nl - 1] == '/')
		nl--;
	memcpy(nm, name, nl);
	nm[nl] = 0;
	switch (e->type) {
	case CK_TAR_DIR:
		r = mkdirat(pfd, nm, 0700);
		if (r == 0)
			r = fchmodat(pfd, nm, 0755, AT_SYMLINK_NOFOLLOW) == 0 || errno == EOPNOTSUPP
				? 0
				: -1;
		break;
	case CK_TAR_FILE:
		x->cur =
		    openat(pfd, nm, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		r = x->cur >= 0 && fchmod(x->cur, e->mode) == 0 ? 0 : -1;
		break;
	case CK_TAR_LINK:
		r = symlinkat(e->link, pfd, nm);
		break;
	}
	if (r == 0)
		x->created++;
fail:
	if (r < 0)
		x->failed_errno = errno;
	if (pfd >= 0)
		close(pfd);
	return r;
}

static int ex_data(void *ctx, const uint8_t *p, size_t n)
{
	struct extract *x = ctx;
	if (x->cancel && *x->cancel)
		return -1;
	if (ck_fs_write_full(x->cur, p, n) < 0) {
		x->failed_errno = errno;
		return -1;
	}
	return 0;
}

/* Removes the first `n` entries of the tree from beneath rootfd, deepest first. */
static void undo(int rootfd, const struct ck_tar_tree *t, size_t n)
{
	char pbuf[CK_PKG_MAX_PATH + 2], nm[256];
	const char *name;
	while (n--) {
		const struct ck_tar_entry *e = &t->e[n];
		int pfd = ck_fs_open_parent(rootfd, e->path, pbuf, sizeof(pbuf), &name);
		if (pfd < 0)
			continue;
		size_t nl = strlen(name);
		if (nl && name[nl - 1] == '/')
			nl--;
		memcpy(nm, name, nl);
		nm[nl] = 0;
		unlinkat(pfd, nm, e->type == CK_TAR_DIR ? AT_REMOVEDIR : 0);
		close(pfd);
	}
}

/* One pass over the sealed bytes: decrypt chunk by chunk into the tar reader. */
static int pass(const struct src *src, const uint8_t key[CK_PKG_KEY_LEN], struct ck_tar_reader *r,
		EVP_MD_CTX *fp, uint64_t *tar_len, struct ck_err *err)
{
	uint8_t header[CK_PKG_HEADER_LEN];
	struct ck_stream *st = NULL;
	uint8_t *in = NULL, *out = NULL;
	int ret = -1;
	*tar_len = 0;
	if (src_read(src, 0, header, sizeof(header)) < 0)
		return ck_errf(err, CK_E_PKG_FORMAT, "package is shorter than its header");
	if (ck_stream_open_init(&st, key, header, sizeof(header), src->len, err) < 0)
		return -1;
	const struct ck_pkg_header *h = ck_stream_header(st);
	if (h->plain_len > CK_PKG_MAX_TOTAL) {
		ck_errf(err, CK_E_PKG_LIMIT, "package holds %llu bytes, over the %llu limit",
			(unsigned long long)h->plain_len, CK_PKG_MAX_TOTAL);
		goto out;
	}
	if (!(in = malloc(h->chunk_size + CK_PKG_TAG_LEN)) || !(out = malloc(h->chunk_size))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	uint64_t off = CK_PKG_HEADER_LEN;
	for (uint64_t i = 0; i < ck_pkg_chunks(h); i++) {
		size_t n = ck_pkg_chunk_plain(h, i) + CK_PKG_TAG_LEN, got;
		if (src_read(src, off, in, n) < 0) {
			ck_errf(err, CK_E_PKG_SIZE, "package: cannot read chunk %llu",
				(unsigned long long)i);
			goto out;
		}
		off += n;
		if (ck_stream_open_next(st, in, n, out, &got, err) < 0)
			goto out;
		if ((fp && EVP_DigestUpdate(fp, out, got) != 1) ||
		    ck_tar_reader_feed(r, out, got, err) < 0)
			goto out;
		*tar_len += got;
	}
	if (ck_tar_reader_finish(r, err) < 0)
		goto out;
	ret = 0;
out:
	if (out) {
		OPENSSL_cleanse(out, h->chunk_size);
		free(out);
	}
	free(in);
	ck_stream_free(st);
	return ret;
}

static int check_pass(const struct src *src, const uint8_t key[CK_PKG_KEY_LEN],
		      const uint8_t *expect_fp, struct ck_unpack_result *res,
		      struct ck_tar_tree *keep, struct ck_err *err)
{
	struct ck_tar_reader r;
	EVP_MD_CTX *fp = EVP_MD_CTX_new();
	unsigned n = 0;
	int ret = -1;
	ck_tar_reader_init(&r);
	memset(res, 0, sizeof(*res));
	if (!fp || EVP_DigestInit_ex(fp, EVP_sha256(), NULL) != 1) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	if (pass(src, key, &r, fp, &res->tar_len, err) < 0)
		goto out;
	if (EVP_DigestFinal_ex(fp, res->fingerprint, &n) != 1)
		goto out;
	res->entries = r.tree.n;
	if (expect_fp && !ck_ct_equal(expect_fp, res->fingerprint, 32)) {
		char a[65], b[65];
		ck_hex_encode(res->fingerprint, 32, a);
		ck_hex_encode(expect_fp, 32, b);
		ck_errf(err, CK_E_PKG_FINGERPRINT, "the package's tree has fingerprint %s, not %s",
			a, b);
		goto out;
	}
	if (keep) {
		*keep = r.tree;
		memset(&r.tree, 0, sizeof(r.tree));
	}
	ret = 0;
out:
	EVP_MD_CTX_free(fp);
	ck_tar_reader_free(&r);
	return ret;
}

int ck_unpack_check_buf(const uint8_t *pkg, size_t len, const uint8_t key[CK_PKG_KEY_LEN],
			struct ck_unpack_result *res, struct ck_err *err)
{
	struct src s = {pkg, -1, len};
	return check_pass(&s, key, NULL, res, NULL, err);
}

/* Both passes over `s`: check everything, then write beneath a staging directory that is
 * renamed to out_dir (with out_dir NULL only the check). */
static int unpack_src(const struct src *s, const uint8_t key[CK_PKG_KEY_LEN],
		      const uint8_t *expect_fp, const char *out_dir,
		      const volatile sig_atomic_t *cancel, struct ck_unpack_result *res,
		      struct ck_err *err)
{
	struct ck_tar_tree tree = {0};
	char *staging = NULL;
	int stfd = -1, ret = -1;
	struct extract x = {.cur = -1, .cancel = cancel};
	EVP_MD_CTX *fp2 = NULL;

	if (out_dir && access(out_dir, F_OK) == 0)
		return ck_errf(err, CK_E_USAGE, "'%s' already exists: unpacking never overwrites",
			       out_dir);
	/* Pass 1: everything is checked before anything is written. */
	if (check_pass(s, key, expect_fp, res, &tree, err) < 0)
		goto out;
	if (!out_dir) { /* only the check */
		ret = 0;
		goto out;
	}
	/* Pass 2: write into a private staging directory beside the target. */
	if (!(staging = malloc(strlen(out_dir) + 32))) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	sprintf(staging, "%s.cloak-unpack-XXXXXX", out_dir);
	if (!mkdtemp(staging)) {
		ck_errf(err, CK_E_IO, "cannot create a directory beside '%s': %s", out_dir,
			strerror(errno));
		free(staging);
		staging = NULL;
		goto out;
	}
	if ((stfd = open(staging, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		ck_errf(err, CK_E_IO, "cannot open '%s': %s", staging, strerror(errno));
		goto out;
	}
	/* Pass 2 hashes what it writes: kept only if it is the tree pass 1 checked. */
	struct ck_tar_reader r;
	uint64_t len2;
	uint8_t written_fp[32];
	unsigned fpn = 0;
	if (!(fp2 = EVP_MD_CTX_new()) || EVP_DigestInit_ex(fp2, EVP_sha256(), NULL) != 1) {
		ck_errf(err, CK_E_NOMEM, "out of memory");
		goto out;
	}
	ck_tar_reader_init(&r);
	x.rootfd = stfd;
	x.tree = &tree;
	r.on_entry = ex_entry;
	r.on_data = ex_data;
	r.ctx = &x;
	int pr = pass(s, key, &r, fp2, &len2, err);
	if (x.cur >= 0) {
		if (fsync(x.cur) < 0 && pr == 0)
			pr = ck_errf(err, CK_E_IO, "cannot write into '%s': %s", staging,
				     strerror(errno));
		close(x.cur);
		x.cur = -1;
	}
	/* The second pass must have written the very tree the first checked (the file could
	 * have been changed in place between them, by someone holding the key). */
	if (pr == 0 && (EVP_DigestFinal_ex(fp2, written_fp, &fpn) != 1 || r.tree.n != tree.n ||
			len2 != res->tar_len || !ck_ct_equal(written_fp, res->fingerprint, 32)))
		pr = ck_errf(err, CK_E_PKG_CHANGED,
			     "the package '%s' changed between checking and writing: nothing was "
			     "kept",
			     out_dir);
	ck_tar_reader_free(&r);
	if (pr < 0) {
		if (cancel && *cancel)
			ck_errf(err, CK_E_INTERRUPTED,
				"interrupted by a signal while writing '%s': nothing was kept",
				out_dir);
		else if (x.failed_errno)
			ck_errf(err, CK_E_IO, "cannot write into '%s': %s", staging,
				strerror(x.failed_errno));
		goto out;
	}
	if (rename(staging, out_dir) < 0) {
		ck_errf(err, CK_E_IO, "cannot rename '%s' to '%s': %s", staging, out_dir,
			strerror(errno));
		goto out;
	}
	free(staging);
	staging = NULL;
	ret = 0;
out:
	if (staging) { /* failure after staging was made: remove what we created */
		if (stfd >= 0)
			undo(stfd, &tree, x.created);
		rmdir(staging);
		free(staging);
	}
	if (stfd >= 0)
		close(stfd);
	EVP_MD_CTX_free(fp2);
	ck_tar_tree_free(&tree);
	return ret;
}

int ck_unpack(const char *pkg, const uint8_t key[CK_PKG_KEY_LEN], const uint8_t *expect_fp,
	      const char *out_dir, const volatile sig_atomic_t *cancel,
	      struct ck_unpack_result *res, struct ck_err *err)
{
	struct src s = {NULL, -1, 0};
	struct stat st;
	int ret = -1;
	if ((s.fd = open(pkg, O_RDONLY | O_CLOEXEC)) < 0 || fstat(s.fd, &st) < 0) {
		ck_errf(err, CK_E_IO, "cannot open '%s': %s", pkg, strerror(errno));
	} else if (!S_ISREG(st.st_mode)) {
		ck_errf(err, CK_E_IO, "'%s' is not a regular file", pkg);
	} else {
		s.len = (uint64_t)st.st_size;
		ret = unpack_src(&s, key, expect_fp, out_dir, cancel, res, err);
	}
	if (s.fd >= 0)
		close(s.fd);
	return ret;
}

int ck_unpack_buf(const uint8_t *pkg, size_t len, const uint8_t key[CK_PKG_KEY_LEN],
		  const uint8_t *expect_fp, const char *out_dir, struct ck_unpack_result *res,
		  struct ck_err *err)
{
	struct src s = {pkg, -1, len};
	return unpack_src(&s, key, expect_fp, out_dir, NULL, res, err);
}

static int is_hex_file(const uint8_t *b, size_t n)
{
	return n == 2 * CK_PKG_KEY_LEN || (n == 2 * CK_PKG_KEY_LEN + 1 && b[n - 1] == '\n');
}

int ck_pkg_key_write(const char *path, const uint8_t key[CK_PKG_KEY_LEN], struct ck_err *err)
{
	char hex[2 * CK_PKG_KEY_LEN + 2];
	ck_hex_encode(key, CK_PKG_KEY_LEN, hex);
	hex[2 * CK_PKG_KEY_LEN] = '\n';
	int r = ck_write_file(path, hex, 2 * CK_PKG_KEY_LEN + 1, 0600, err);
	OPENSSL_cleanse(hex, sizeof(hex));
	return r;
}

int ck_pkg_key_read(const char *path, uint8_t key[CK_PKG_KEY_LEN], struct ck_err *err)
{
	struct stat st;
	uint8_t *b;
	size_t n;
	if (stat(path, &st) == 0 && (st.st_mode & 077))
		return ck_errf(err, CK_E_KEY,
			       "key file '%s' is readable by others (mode %03o): chmod 600 it",
			       path, st.st_mode & 0777);
	if (ck_read_file(path, 256, &b, &n, err) < 0)
		return -1;
	int r = 0;
	if (!is_hex_file(b, n) || ck_hex_decode_exact((char *)b, 2 * CK_PKG_KEY_LEN, key,
						      CK_PKG_KEY_LEN, "key", NULL) < 0)
		r = ck_errf(err, CK_E_KEY, "'%s' is not a package key (64 hex digits)", path);
	OPENSSL_cleanse(b, n);
	free(b);
	return r;
}
