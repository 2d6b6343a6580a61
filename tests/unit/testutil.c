/* SPDX-License-Identifier: Apache-2.0 */
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <fcntl.h>
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

char *tu_base;

int tu_scratch_setup(void **state)
{
	(void)state;
	tu_base = tu_mkdtemp("scratch");
	return 0;
}

int tu_scratch_teardown(void **state)
{
	(void)state;
	tu_rmtree(tu_base);
	tu_base = NULL;
	return 0;
}

const char *tu_path(const char *rel)
{
	static char buf[8][4096];
	static int k;
	k = (k + 1) % 8;
	snprintf(buf[k], sizeof(buf[k]), "%s/%s", tu_base, rel);
	return buf[k];
}

void tu_write(const char *path, const void *data, size_t len, unsigned mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
	if (fd < 0)
		fail_msg("cannot write '%s': %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	assert_int_equal(chmod(path, (mode_t)mode), 0); /* whatever the umask */
}

int tu_listen_any(uint16_t *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0)
		abort();
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	*port = ntohs(sa.sin_port);
	return fd;
}

int tu_dial(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				 .sin_port = htons(port)};
	struct timeval tv = {.tv_sec = 5};
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

void tu_serve_forked(int lfd, void (*conn)(int fd))
{
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (fork() == 0) {
			conn(fd);
			_exit(0);
		}
		close(fd);
	}
}
