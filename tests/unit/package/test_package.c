/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packages: the fingerprint depends on content only; every change to the ciphertext fails
 * before anything is written; hostile trees are refused at packaging and hostile packages at
 * unpacking, with nothing left behind.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "cloak/fileio.h"
#include "cloak/stream.h"
#include "cloak/package.h"
#include "tarfmt.h"
#include "testutil.h"

static void put(const char *rel, const char *content, mode_t mode)
{
	tu_write(tu_path(rel), content, strlen(content), mode);
}

/* Entries of a directory, to prove nothing was left behind. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	return n;
}

static void fingerprint(const char *rel, uint8_t fp[32])
{
	struct ck_pack_result r;
	struct ck_err e;
	if (ck_fingerprint_dir(tu_path(rel), &r, &e) < 0)
		fail_msg("fingerprint %s: %s", rel, e.msg);
	memcpy(fp, r.fingerprint, 32);
}

static void make_tree(const char *root, bool reverse)
{
	const char *files[] = {"b.txt", "a.txt", "sub/z.bin", "sub/deeper/c.txt"};
	char rel[256];
	mkdir(tu_path(root), 0755);
	snprintf(rel, sizeof(rel), "%s/sub", root);
	mkdir(tu_path(rel), reverse ? 0700 : 0755);
	snprintf(rel, sizeof(rel), "%s/sub/deeper", root);
	mkdir(tu_path(rel), 0755);
	snprintf(rel, sizeof(rel), "%s/empty", root);
	mkdir(tu_path(rel), 0755);
	for (int k = 0; k < 4; k++) {
		int i = reverse ? 3 - k : k;
		snprintf(rel, sizeof(rel), "%s/%s", root, files[i]);
		/* same content; different permission bits except the executable one */
		put(rel, files[i], reverse ? 0600 : 0664);
	}
	snprintf(rel, sizeof(rel), "%s/run", root);
	put(rel, "#!/bin/sh\n", reverse ? 0700 : 0755);
	snprintf(rel, sizeof(rel), "%s/link", root);
	assert_int_equal(symlink("sub/deeper/c.txt", tu_path(rel)), 0);
}

static void test_fingerprint_is_deterministic(void **s)
{
	(void)s;
	uint8_t a[32], b[32], c[32];
	make_tree("t1", false);
	make_tree("t2", true);
	/* different times and owners on t2 */
	struct timespec ts[2] = {{1000, 0}, {1000, 0}};
	utimensat(AT_FDCWD, tu_path("t2/a.txt"), ts, 0);
	if (geteuid() == 0) {
		assert_int_equal(chown(tu_path("t2/b.txt"), 1234, 5678), 0);
		assert_int_equal(lchown(tu_path("t2/link"), 42, 42), 0);
	}
	fingerprint("t1", a);
	fingerprint("t2", b);
	assert_memory_equal(a, b, 32);
	/* one byte changes it */
	put("t2/sub/z.bin", "sub/z.biN", 0644);
	fingerprint("t2", c);
	assert_memory_not_equal(a, c, 32);
	put("t2/sub/z.bin", "sub/z.bin", 0644);
	fingerprint("t2", c);
	assert_memory_equal(a, c, 32);
	/* so do the executable bit, a name, an empty directory */
	chmod(tu_path("t2/a.txt"), 0755);
	fingerprint("t2", c);
	assert_memory_not_equal(a, c, 32);
	chmod(tu_path("t2/a.txt"), 0644);
	rmdir(tu_path("t2/empty"));
	fingerprint("t2", c);
	assert_memory_not_equal(a, c, 32);
	mkdir(tu_path("t2/empty"), 0755);
	fingerprint("t2", c);
	assert_memory_equal(a, c, 32);
}

static void test_round_trip(void **s)
{
	(void)s;
	uint8_t key[32], fp[32];
	struct ck_pack_result pr;
	struct ck_unpack_result ur;
	struct ck_err e;
	if (access(tu_path("t1"), F_OK))
		make_tree("t1", false);
	if (ck_package_dir(tu_path("t1"), tu_path("t1.pkg"), key, &pr, &e) < 0)
		fail_msg("%s", e.msg);
	if (ck_unpack(tu_path("t1.pkg"), key, pr.fingerprint, tu_path("u1"), NULL, &ur, &e) < 0)
		fail_msg("%s", e.msg);
	assert_memory_equal(ur.fingerprint, pr.fingerprint, 32);
	fingerprint("u1", fp);
	assert_memory_equal(fp, pr.fingerprint, 32);
	struct stat st;
	assert_int_equal(lstat(tu_path("u1/link"), &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	assert_int_equal(stat(tu_path("u1/run"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0755);
	/* the target must not exist */
	assert_int_equal(ck_unpack(tu_path("t1.pkg"), key, NULL, tu_path("u1"), NULL, &ur, &e), -1);
	assert_string_equal(e.code, CK_E_USAGE);
	/* the wrong fingerprint is refused, nothing written */
	uint8_t bad[32];
	memcpy(bad, pr.fingerprint, 32);
	bad[0] ^= 1;
	int before = count_entries(tu_base);
	assert_int_equal(ck_unpack(tu_path("t1.pkg"), key, bad, tu_path("u2"), NULL, &ur, &e), -1);
	assert_string_equal(e.code, CK_E_PKG_FINGERPRINT);
	assert_int_equal(count_entries(tu_base), before);
}

/* A multi-chunk package, and every way of changing its bytes. */
static void test_tampering(void **s)
{
	(void)s;
	uint8_t key[32];
	struct ck_pack_result pr;
	struct ck_unpack_result ur;
	struct ck_err e;
	mkdir(tu_path("big"), 0755);
	char *blob = malloc(200000);
	for (int i = 0; i < 200000; i++)
		blob[i] = (char)('a' + i % 26);
	blob[199999] = 0;
	put("big/blob", blob, 0644);
	free(blob);
	assert_int_equal(ck_package_dir(tu_path("big"), tu_path("big.pkg"), key, &pr, &e), 0);
	size_t n;
	uint8_t *orig = tu_read(tu_path("big.pkg"), &n);
	const size_t C = CK_PKG_CHUNK_SIZE + CK_PKG_TAG_LEN, H = CK_PKG_HEADER_LEN;
	assert_true(n > H + 3 * C); /* four chunks */
	int before = count_entries(tu_base);
	struct {
		const char *what, *code;
		int kind; /* 0 flip byte at off, 1 truncate to off, 2 append, 3 swap chunks 0,1,
			     4 drop chunk 1, 5 duplicate chunk 0 over 1, 6 byte at off := 2 */
		size_t off;
	} cases[] = {
	    {"magic", CK_E_PKG_FORMAT, 0, 0},
	    {"version (to 0)", CK_E_PKG_FORMAT, 0, 9},
	    {"version (to a newer one)", CK_E_PKG_VERSION, 6, 9},
	    {"chunk size (to 0)", CK_E_PKG_FORMAT, 0, 13},
	    {"chunk size (to 65792: same chunk count)", CK_E_PKG_AUTH, 0, 14},
	    {"nonce prefix", CK_E_PKG_AUTH, 0, 18},
	    {"plaintext length", CK_E_PKG_SIZE, 0, 31},
	    {"first ciphertext byte", CK_E_PKG_AUTH, 0, H},
	    {"a byte in chunk 2", CK_E_PKG_AUTH, 0, H + 2 * C + 777},
	    {"a tag byte", CK_E_PKG_AUTH, 0, H + C - 1},
	    {"last byte", CK_E_PKG_AUTH, 0, n - 1},
	    {"truncated by one byte", CK_E_PKG_SIZE, 1, n - 1},
	    {"truncated to the header", CK_E_PKG_SIZE, 1, H},
	    {"truncated inside the header", CK_E_PKG_FORMAT, 1, 20},
	    {"one byte appended", CK_E_PKG_SIZE, 2, 0},
	    {"chunks 0 and 1 swapped", CK_E_PKG_AUTH, 3, 0},
	    {"chunk 1 dropped", CK_E_PKG_SIZE, 4, 0},
	    {"chunk 0 duplicated over 1", CK_E_PKG_AUTH, 5, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t *b = malloc(n + 1);
		size_t len = n;
		memcpy(b, orig, n);
		switch (cases[i].kind) {
		case 0:
			b[cases[i].off] ^= 0x01;
			break;
		case 1:
			len = cases[i].off;
			break;
		case 2:
			b[n] = 0;
			len = n + 1;
			break;
		case 3:
			memcpy(b + H, orig + H + C, C);
			memcpy(b + H + C, orig + H, C);
			break;
		case 4:
			memmove(b + H + C, b + H + 2 * C, n - H - 2 * C);
			len = n - C;
			break;
		case 5:
			memcpy(b + H + C, orig + H, C);
			break;
		case 6:
			b[cases[i].off] = 2;
			break;
		}
		struct ck_err e2;
		assert_int_equal(ck_write_file(tu_path("bad.pkg"), b, len, 0644, &e2), 0);
		free(b);
		int r = ck_unpack(tu_path("bad.pkg"), key, NULL, tu_path("badout"), NULL, &ur, &e);
		if (r == 0 || strcmp(e.code, cases[i].code))
			fail_msg("%s: got %s (%s), want %s", cases[i].what, r ? e.code : "success",
				 r ? e.msg : "", cases[i].code);
		assert_int_equal(access(tu_path("badout"), F_OK), -1);
		assert_int_equal(count_entries(tu_base), before + 1); /* only bad.pkg */
		unlink(tu_path("bad.pkg"));
	}
	/* the wrong key */
	uint8_t k2[32];
	memcpy(k2, key, 32);
	k2[31] ^= 0x80;
	assert_int_equal(ck_unpack(tu_path("big.pkg"), k2, NULL, tu_path("badout"), NULL, &ur, &e),
			 -1);
	assert_string_equal(e.code, CK_E_PKG_AUTH);
	assert_int_equal(count_entries(tu_base), before);
	/* and the real one still works */
	assert_int_equal(ck_unpack(tu_path("big.pkg"), key, NULL, NULL, NULL, &ur, &e), 0);
	free(orig);
}

static void expect_tree_refused(const char *rel, const char *needle)
{
	uint8_t key[32];
	struct ck_pack_result r;
	struct ck_err e;
	int before = count_entries(tu_base);
	assert_int_equal(ck_package_dir(tu_path(rel), tu_path("hostile.pkg"), key, &r, &e), -1);
	if (!strstr(e.msg, needle))
		fail_msg("%s: message '%s' does not name '%s'", rel, e.msg, needle);
	assert_int_equal(count_entries(tu_base), before); /* no package, no temp file */
}

static void test_hostile_trees(void **s)
{
	(void)s;
	mkdir(tu_path("h"), 0755);
	put("h/ok", "fine", 0644);
	/* a fifo */
	assert_int_equal(mkfifo(tu_path("h/pipe"), 0644), 0);
	expect_tree_refused("h", "pipe");
	unlink(tu_path("h/pipe"));
	/* a socket */
	int sfd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", tu_path("h/sock"));
	if (strlen(tu_path("h/sock")) < sizeof(sa.sun_path) &&
	    bind(sfd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		expect_tree_refused("h", "sock");
		unlink(tu_path("h/sock"));
	}
	close(sfd);
	/* a device node (root only) */
	if (mknod(tu_path("h/null"), S_IFCHR | 0644, makedev(1, 3)) == 0) {
		expect_tree_refused("h", "null");
		unlink(tu_path("h/null"));
	}
	/* an absolute symlink */
	assert_int_equal(symlink("/etc/passwd", tu_path("h/abs")), 0);
	expect_tree_refused("h", "abs");
	unlink(tu_path("h/abs"));
	/* a symlink out of the tree */
	assert_int_equal(symlink("../../etc/passwd", tu_path("h/up")), 0);
	expect_tree_refused("h", "up");
	unlink(tu_path("h/up"));
	/* an escape only real resolution sees: d/s -> .. is the root, so d/s/../x is above it */
	mkdir(tu_path("h/d"), 0755);
	assert_int_equal(symlink("..", tu_path("h/d/s")), 0);
	assert_int_equal(symlink("d/s/../x", tu_path("h/sneaky")), 0);
	expect_tree_refused("h", "sneaky");
	unlink(tu_path("h/sneaky"));
	/* a loop */
	assert_int_equal(symlink("loop2", tu_path("h/loop1")), 0);
	assert_int_equal(symlink("loop1", tu_path("h/loop2")), 0);
	expect_tree_refused("h", "loop");
	unlink(tu_path("h/loop1"));
	unlink(tu_path("h/loop2"));
	/* a control character in a name */
	put("h/bad\nname", "x", 0644);
	expect_tree_refused("h", "control");
	unlink(tu_path("h/bad\nname"));
	/* a path too long for ustar: five directories of 60 bytes */
	char rel[512] = "h";
	for (int i = 0; i < 5; i++) {
		strcat(rel, "/");
		size_t n = strlen(rel);
		memset(rel + n, 'a' + i, 60);
		rel[n + 60] = 0;
		assert_int_equal(mkdir(tu_path(rel), 0755), 0);
	}
	strcat(rel, "/f");
	put(rel, "x", 0644);
	expect_tree_refused("h", "longer than 255 bytes: 'aaaa");
	tu_rm(tu_path("h"));
	/* the package may not be written inside the tree */
	mkdir(tu_path("h2"), 0755);
	uint8_t key[32];
	struct ck_pack_result r;
	struct ck_err e;
	assert_int_equal(ck_package_dir(tu_path("h2"), tu_path("h2/self.pkg"), key, &r, &e), -1);
	assert_non_null(strstr(e.msg, "inside"));
	tu_rm(tu_path("h2"));
}

/* ---- hostile packages, written byte by byte ---------------------------------------------- */

struct rawtar {
	uint8_t *b;
	size_t n, cap;
};

static void raw_block(struct rawtar *t, const uint8_t *blk)
{
	if (t->n + CK_TAR_BLOCK > t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64 * CK_TAR_BLOCK;
		t->b = realloc(t->b, t->cap);
		assert_non_null(t->b);
	}
	memcpy(t->b + t->n, blk, CK_TAR_BLOCK);
	t->n += CK_TAR_BLOCK;
}

/* A header as the writer would make it, then patched: path bytes, type, size, uid. */
static void raw_entry(struct rawtar *t, const char *path, char type, uint64_t size,
		      const char *link, int patch_uid)
{
	uint8_t b[CK_TAR_BLOCK] = {0};
	struct ck_tar_entry e = {0};
	/* start from a valid header for a harmless name, then overwrite fields */
	snprintf(e.path, sizeof(e.path), "%s", type == CK_TAR_DIR ? "x/" : "x");
	e.type = type == CK_TAR_DIR || type == CK_TAR_LINK ? type : CK_TAR_FILE;
	e.mode = 0644;
	if (e.type == CK_TAR_LINK)
		snprintf(e.link, sizeof(e.link), "%s", "y");
	assert_int_equal(ck_tar_header_encode(&e, b, NULL), 0);
	memset(b, 0, 100);
	memcpy(b, path, strlen(path) > 100 ? 100 : strlen(path));
	b[156] = (uint8_t)type;
	if (link) {
		memset(b + 157, 0, 100);
		memcpy(b + 157, link, strlen(link));
	}
	snprintf((char *)b + 124, 12, "%011llo", (unsigned long long)size);
	if (patch_uid)
		memcpy(b + 108, "0001750", 7);
	/* recompute the checksum */
	unsigned sum = 0;
	memset(b + 148, ' ', 8);
	for (int i = 0; i < CK_TAR_BLOCK; i++)
		sum += b[i];
	snprintf((char *)b + 148, 7, "%06o", sum);
	b[155] = ' ';
	raw_block(t, b);
}

static void raw_data(struct rawtar *t, const char *s)
{
	uint8_t b[CK_TAR_BLOCK] = {0};
	memcpy(b, s, strlen(s));
	raw_block(t, b);
}

static void raw_end(struct rawtar *t)
{
	uint8_t z[CK_TAR_BLOCK] = {0};
	raw_block(t, z);
	raw_block(t, z);
}

/* Seals a raw tar as a package file with a known key. */
static void seal_raw(const struct rawtar *t, const char *path, uint8_t key[32])
{
	uint8_t header[CK_PKG_HEADER_LEN];
	struct ck_stream *st;
	memset(key, 7, 32);
	assert_int_equal(ck_stream_seal_init(&st, key, t->n, header, NULL), 0);
	const struct ck_pkg_header *h = ck_stream_header(st);
	FILE *f = fopen(path, "wb");
	fwrite(header, 1, sizeof(header), f);
	uint8_t *out = malloc(CK_PKG_CHUNK_SIZE + CK_PKG_TAG_LEN);
	size_t off = 0;
	for (uint64_t i = 0; i < ck_pkg_chunks(h); i++) {
		size_t k = ck_pkg_chunk_plain(h, i);
		assert_int_equal(ck_stream_seal_next(st, t->b + off, k, out, NULL), 0);
		fwrite(out, 1, k + CK_PKG_TAG_LEN, f);
		off += k;
	}
	fclose(f);
	free(out);
	ck_stream_free(st);
}

static void expect_pkg_refused(struct rawtar *t, const char *code, const char *needle)
{
	uint8_t key[32];
	struct ck_unpack_result r;
	struct ck_err e;
	seal_raw(t, tu_path("evil.pkg"), key);
	free(t->b);
	t->b = NULL;
	t->n = t->cap = 0;
	int before = count_entries(tu_base);
	/* refused by the checking pass alone, before anything could be written... */
	if (ck_unpack(tu_path("evil.pkg"), key, NULL, NULL, NULL, &r, &e) == 0)
		fail_msg("the checking pass accepted a hostile package (expected %s %s)", code,
			 needle);
	if (strcmp(e.code, code) || (needle && !strstr(e.msg, needle)))
		fail_msg("check: got %s '%s', want %s naming '%s'", e.code, e.msg, code, needle);
	/* ...and so by the whole unpack */
	if (ck_unpack(tu_path("evil.pkg"), key, NULL, tu_path("evil-out"), NULL, &r, &e) == 0)
		fail_msg("a hostile package was unpacked (expected %s)", code);
	if (strcmp(e.code, code) || (needle && !strstr(e.msg, needle)))
		fail_msg("got %s '%s', want %s naming '%s'", e.code, e.msg, code, needle);
	assert_int_equal(access(tu_path("evil-out"), F_OK), -1);
	assert_int_equal(count_entries(tu_base), before);
	unlink(tu_path("evil.pkg"));
}

static void test_hostile_packages(void **s)
{
	(void)s;
	struct rawtar t = {0};
	/* a valid raw package first, to prove the helper makes real ones */
	raw_entry(&t, "a", CK_TAR_FILE, 2, NULL, 0);
	raw_data(&t, "hi");
	raw_end(&t);
	{
		uint8_t key[32];
		struct ck_unpack_result r;
		struct ck_err e;
		seal_raw(&t, tu_path("good.pkg"), key);
		if (ck_unpack(tu_path("good.pkg"), key, NULL, tu_path("good-out"), NULL, &r, &e) <
		    0)
			fail_msg("%s", e.msg);
		tu_rm(tu_path("good-out"));
		unlink(tu_path("good.pkg"));
		free(t.b);
		t = (struct rawtar){0};
	}
	raw_entry(&t, "../evil", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "../evil");

	raw_entry(&t, "/etc/evil", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "/etc/evil");

	raw_entry(&t, "a/../../evil", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "a/../../evil");

	/* a symlink out of the tree, alone and as a directory to write through */
	raw_entry(&t, "l", CK_TAR_LINK, 0, "../../etc", 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "escapes");
	raw_entry(&t, "l", CK_TAR_LINK, 0, "/etc", 0);
	raw_entry(&t, "l/passwd", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "absolute");
	raw_entry(&t, "l", CK_TAR_LINK, 0, "sub", 0);
	raw_entry(&t, "l/passwd", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "parent");

	/* device nodes, fifos, hard links */
	raw_entry(&t, "null", '3', 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "null");
	raw_entry(&t, "fifo", '6', 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "fifo");
	raw_entry(&t, "hard", '1', 0, "a", 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TREE, "hard");

	/* a huge size */
	raw_entry(&t, "huge", CK_TAR_FILE, 077777777777ULL, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_LIMIT, "huge");
	/* a size larger than what follows */
	raw_entry(&t, "short", CK_TAR_FILE, 5000, NULL, 0);
	raw_data(&t, "only one block");
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "truncated");

	/* not canonical: a uid, then out of order, then a duplicate */
	raw_entry(&t, "owned", CK_TAR_FILE, 0, NULL, 1);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "canonical");
	raw_entry(&t, "b", CK_TAR_FILE, 0, NULL, 0);
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "order");
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "duplicate");
	/* a file and a directory of one name, next to each other or apart */
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	raw_entry(&t, "a/", CK_TAR_DIR, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "both a directory and a file");
	raw_entry(&t, "a", CK_TAR_LINK, 0, "b", 0);
	raw_entry(&t, "a-x", CK_TAR_FILE, 0, NULL, 0);
	raw_entry(&t, "a/", CK_TAR_DIR, 0, NULL, 0);
	raw_entry(&t, "a/f", CK_TAR_FILE, 0, NULL, 0);
	raw_entry(&t, "b", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "both a directory and a file");
	/* no end marker; data after it */
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	expect_pkg_refused(&t, CK_E_PKG_TAR, "truncated");
	raw_entry(&t, "a", CK_TAR_FILE, 0, NULL, 0);
	raw_end(&t);
	raw_data(&t, "trailing");
	expect_pkg_refused(&t, CK_E_PKG_TAR, "after");

	/* too many entries: refused while checking, before anything is written */
	for (int i = 0; i <= CK_PKG_MAX_ENTRIES; i++) {
		char name[32];
		snprintf(name, sizeof(name), "f%07d", i);
		raw_entry(&t, name, CK_TAR_FILE, 0, NULL, 0);
	}
	raw_end(&t);
	expect_pkg_refused(&t, CK_E_PKG_LIMIT, "entries");
}

/* Chunk i of a package under `header`, as anyone holding the key can make it (stream.h). */
static void seal_chunk(const uint8_t key[32], const uint8_t header[CK_PKG_HEADER_LEN], uint64_t i,
		       bool last, const uint8_t *plain, size_t n, uint8_t *out)
{
	uint8_t iv[12], aad[41];
	int l;
	memcpy(iv, header + 16, 8); /* the nonce prefix */
	for (int k = 0; k < 4; k++)
		iv[8 + k] = (uint8_t)(i >> (24 - 8 * k));
	EVP_Digest(header, CK_PKG_HEADER_LEN, aad, NULL, EVP_sha256(), NULL);
	for (int k = 0; k < 8; k++)
		aad[32 + k] = (uint8_t)(i >> (56 - 8 * k));
	aad[40] = last;
	EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
	assert_int_equal(EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, key, iv), 1);
	assert_int_equal(EVP_EncryptUpdate(c, NULL, &l, aad, sizeof(aad)), 1);
	assert_int_equal(EVP_EncryptUpdate(c, out, &l, plain, (int)n), 1);
	assert_int_equal(EVP_EncryptFinal_ex(c, out + l, &l), 1);
	assert_int_equal(EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + n), 1);
	EVP_CIPHER_CTX_free(c);
}

/*
 * The package author (who holds the key) changes the file in place between the checking and
 * the writing pass: a watcher process counts the unpacker's reads of the file (inotify) and,
 * once the checking pass has read every chunk, rewrites the last one (another valid chunk,
 * other bytes). What is written must be what was checked: the unpack fails and keeps nothing
 * (or, had the watcher come too late, writes exactly the checked tree).
 */
static void test_package_changed_between_passes(void **s)
{
	(void)s;
	enum { SIZE = 16 << 20 }; /* one file of 16 MiB: 257 chunks, the writing pass takes ms */
	struct rawtar t = {0};
	raw_entry(&t, "f", CK_TAR_FILE, SIZE, NULL, 0);
	size_t data_at = t.n;
	for (size_t k = 0; k < SIZE / CK_TAR_BLOCK; k++)
		raw_data(&t, "checked");
	raw_end(&t);
	bool caught = false;
	for (int attempt = 0; attempt < 5 && !caught; attempt++) {
		uint8_t key[32], header[CK_PKG_HEADER_LEN], fp[32];
		struct ck_pkg_header h;
		struct ck_unpack_result r;
		struct ck_err e;
		seal_raw(&t, tu_path("flip.pkg"), key);
		int hfd = open(tu_path("flip.pkg"), O_RDONLY);
		assert_int_equal(read(hfd, header, sizeof(header)), (ssize_t)sizeof(header));
		close(hfd);
		assert_int_equal(ck_pkg_header_parse(header, sizeof(header), &h, NULL), 0);
		uint64_t chunks = ck_pkg_chunks(&h), last = chunks - 1;
		/* another valid last chunk: the file's final block says "swapped" instead */
		size_t plen = ck_pkg_chunk_plain(&h, last);
		uint64_t plain_off = last * CK_PKG_CHUNK_SIZE;
		assert_true(plain_off > data_at);
		uint8_t *plain = malloc(plen), *other = malloc(plen + CK_PKG_TAG_LEN);
		memcpy(plain, t.b + plain_off, plen);
		memcpy(plain, "swapped", 7); /* inside the file's data (the end marker is after) */
		seal_chunk(key, header, last, true, plain, plen, other);
		uint64_t chunk_off =
		    CK_PKG_HEADER_LEN + last * (CK_PKG_CHUNK_SIZE + CK_PKG_TAG_LEN);
		assert_int_equal(ck_unpack(tu_path("flip.pkg"), key, NULL, NULL, NULL, &r, &e), 0);
		memcpy(fp, r.fingerprint, 32);

		int in = inotify_init1(IN_CLOEXEC);
		assert_true(in >= 0);
		assert_true(inotify_add_watch(in, tu_path("flip.pkg"), IN_ACCESS) >= 0);
		pid_t w = fork();
		if (w == 0) { /* the package's author: counts reads, then swaps the last chunk */
			char ev[4096];
			uint64_t reads = 0;
			int fd = open(tu_path("flip.pkg"), O_WRONLY);
			while (reads < chunks + 1) { /* the header, then every chunk */
				ssize_t k = read(in, ev, sizeof(ev));
				for (ssize_t o = 0; k > 0 && o < k;) {
					struct inotify_event *ie = (struct inotify_event *)(ev + o);
					reads += (ie->mask & IN_ACCESS) != 0;
					o += (ssize_t)(sizeof(*ie) + ie->len);
				}
			}
			_exit(pwrite(fd, other, plen + CK_PKG_TAG_LEN, (off_t)chunk_off) > 0 ? 0
											     : 1);
		}
		char out[64], f[80];
		snprintf(out, sizeof(out), "flip-out-%d", attempt);
		snprintf(f, sizeof(f), "%s/f", out);
		int ret = ck_unpack(tu_path("flip.pkg"), key, fp, tu_path(out), NULL, &r, &e);
		kill(w, SIGKILL);
		waitpid(w, NULL, 0);
		close(in);
		if (ret == 0) { /* the author was too late: then it is the checked tree, whole */
			char got[8] = {0};
			struct stat st;
			int ofd = open(tu_path(f), O_RDONLY);
			assert_int_equal(fstat(ofd, &st), 0);
			assert_int_equal(st.st_size, SIZE);
			assert_int_equal(pread(ofd, got, 7, (off_t)(plain_off - data_at)), 7);
			close(ofd);
			if (strcmp(got, "swapped") == 0)
				fail_msg("bytes that were never checked were written, as checked");
			tu_rm(tu_path(out));
		} else {
			if (strcmp(e.code, CK_E_PKG_CHANGED))
				fail_msg("got %s: %s", e.code, e.msg);
			assert_int_equal(access(tu_path(out), F_OK), -1);
			caught = true;
		}
		unlink(tu_path("flip.pkg"));
		free(plain);
		free(other);
	}
	free(t.b);
	if (!caught)
		skip(); /* the author never came in time: nothing shown either way */
}

static void test_key_files(void **s)
{
	(void)s;
	uint8_t k[32], k2[32];
	struct ck_err e;
	memset(k, 0xa5, 32);
	assert_int_equal(ck_pkg_key_write(tu_path("k.key"), k, &e), 0);
	struct stat st;
	assert_int_equal(stat(tu_path("k.key"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(ck_pkg_key_read(tu_path("k.key"), k2, &e), 0);
	assert_memory_equal(k, k2, 32);
	chmod(tu_path("k.key"), 0644);
	assert_int_equal(ck_pkg_key_read(tu_path("k.key"), k2, &e), -1);
	assert_non_null(strstr(e.msg, "chmod 600"));
	put("k2.key", "not a key\n", 0600);
	assert_int_equal(ck_pkg_key_read(tu_path("k2.key"), k2, &e), -1);
	assert_string_equal(e.code, CK_E_KEY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fingerprint_is_deterministic),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_tampering),
	    cmocka_unit_test(test_hostile_trees),
	    cmocka_unit_test(test_hostile_packages),
	    cmocka_unit_test(test_package_changed_between_passes),
	    cmocka_unit_test(test_key_files),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
