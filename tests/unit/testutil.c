/* SPDX-License-Identifier: Apache-2.0 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/fileio.h"
#include "testutil.h"

const char *tu_vectors(void)
{
	const char *v = getenv("CLOAK_VECTORS");
	return v && *v ? v : "../shared/attestation-vectors";
}

uint8_t *tu_read(const char *rel, size_t *len)
{
	char path[4096];
	uint8_t *buf = NULL;
	struct ck_err e;
	if (rel[0] == '/')
		snprintf(path, sizeof(path), "%s", rel);
	else
		snprintf(path, sizeof(path), "%s/%s", tu_vectors(), rel);
	if (ck_read_file(path, 8 * 1024 * 1024, &buf, len, &e) < 0)
		fail_msg("cannot read test input %s: %s", path, e.msg);
	return buf;
}

json_t *tu_manifest(void)
{
	static json_t *m;
	if (!m) {
		size_t n;
		uint8_t *b = tu_read("manifest.json", &n);
		m = json_loadb((char *)b, n, 0, NULL);
		free(b);
		assert_non_null(m);
	}
	return m;
}

ck_time_t tu_time(const char *s)
{
	ck_time_t t;
	assert_int_equal(ck_time_parse(s, strlen(s), &t, NULL), 0);
	return t;
}

void tu_collateral(const char *rel, struct ck_collateral *c)
{
	size_t n;
	uint8_t *b = tu_read(rel, &n);
	struct ck_err e = {0};
	if (ck_collateral_parse((char *)b, n, c, &e) < 0)
		fail_msg("collateral %s: %s", rel, e.msg);
	free(b);
}

char *tu_tmpname(const char *tag)
{
	static int seq;
	const char *tmp = getenv("TMPDIR");
	char *p = malloc(4096);
	snprintf(p, 4096, "%s/cloak-test-%s-%ld-%d", tmp && *tmp ? tmp : "/tmp", tag,
		 (long)getpid(), seq++);
	return p;
}

struct ck_owner_key *tu_owner_key(const char *dir, const char *name)
{
	char path[4200];
	struct ck_owner_key *k = NULL;
	bool created;
	snprintf(path, sizeof(path), "%s/%s.key", dir, name);
	assert_int_equal(ck_owner_key_load(path, true, &k, &created, NULL), 0);
	return k;
}

char *tu_mkdtemp(const char *tag)
{
	char *d = tu_tmpname(tag);
	assert_int_equal(mkdir(d, 0700), 0);
	return d;
}

void tu_rm(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	assert_int_equal(system(cmd), 0);
}

void tu_rmtree(char *dir)
{
	tu_rm(dir);
	free(dir);
}
