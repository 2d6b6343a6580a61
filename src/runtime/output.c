/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output.c - the app's standard output and error: read from a pipe the runtime holds across the
 * app's restarts, sealed chunk by chunk to the manifest's log key (applog.h) and written as
 * record lines among the runtime's own on its standard error, which the node keeps. Without a
 * log key the output is discarded (counted, never kept in clear).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "runtime.h"

static void write_line(const char *line, size_t n)
{
	while (n) {
		ssize_t k = write(STDERR_FILENO, line, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return; /* the node's file is gone: the record is lost, its number says so
				 */
		line += k;
		n -= (size_t)k;
	}
}

static void on_output(evutil_socket_t fd, short what, void *arg)
{
	struct rt *rt = arg;
	uint8_t chunk[CK_LOG_CHUNK_MAX];
	char line[CK_LOG_LINE_MAX];
	size_t n;
	struct ck_err e;
	(void)what;
	ssize_t k = read(fd, chunk, sizeof(chunk));
	if (k <= 0)
		return;
	if (!rt->has_logw) {
		if (rt->discarded == 0)
			rt_log("the manifest names no log_key: the app's output is discarded");
		rt->discarded += (uint64_t)k;
	} else if (ck_log_seal(&rt->logw, chunk, (size_t)k, line, &n, &e) == 0) {
		write_line(line, n);
	} else {
		rt_log("a chunk of the app's output was not sealed: %s", e.msg);
	}
	OPENSSL_cleanse(chunk, sizeof(chunk));
}

int rt_output_start(struct rt *rt, struct ck_err *err)
{
	int p[2];
	char line[CK_LOG_LINE_MAX];
	size_t n;
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return ck_errf(err, CK_E_IO, "pipe: %s", strerror(errno));
	rt->out_rd = p[0];
	rt->spec.output_fd = p[1]; /* kept open: each start of the app gets it */
	rt->out_ev = event_new(rt->base, p[0], EV_READ | EV_PERSIST, on_output, rt);
	if (!rt->out_ev || event_add(rt->out_ev, NULL) < 0)
		return ck_errf(err, CK_E_IO, "cannot watch the app's output");
	if (!rt->m.has_log_key)
		return 0;
	if (ck_log_writer_new(&rt->logw, rt->m.log_key, line, &n, err) < 0)
		return -1;
	rt->has_logw = true;
	write_line(line, n);
	return 0;
}

void rt_output_end(struct rt *rt)
{
	if (rt->out_ev) {
		on_output(rt->out_rd, EV_READ, rt); /* what is left in the pipe */
		event_free(rt->out_ev);
	}
	if (rt->out_rd > 0)
		close(rt->out_rd);
	if (rt->spec.output_fd > 2)
		close(rt->spec.output_fd);
	ck_log_writer_wipe(&rt->logw);
}
