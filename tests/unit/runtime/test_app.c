/* SPDX-License-Identifier: Apache-2.0 */
/* The app supervisor with real processes: start, health, crash, backoff, restart, stop; exec
 * failures; the environment the app sees; a UNIX-socket app; command-line splitting. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cloak/app.h"
#include "cloak/fileio.h"
#include "testutil.h"

/* Polls the health endpoint for up to 10 s. */
static int wait_healthy(const struct ck_app_spec *s)
{
	struct ck_err e;
	for (int i = 0; i < 200; i++) {
		if (ck_app_health(s, 500, &e) == 0)
			return 0;
		usleep(50000);
	}
	fprintf(stderr, "health: %s\n", e.msg);
	return -1;
}

static void test_split(void **s)
{
	(void)s;
	char **v;
	assert_int_equal(ck_app_split("  ./server --port  8080 ", &v, NULL), 0);
	assert_string_equal(v[0], "./server");
	assert_string_equal(v[2], "8080");
	assert_null(v[3]);
	free(v);
	assert_int_equal(ck_app_split("sh -c 'echo \"a b\"; x' \"q\\\"uote\" a\\ b", &v, NULL), 0);
	assert_string_equal(v[2], "echo \"a b\"; x");
	assert_string_equal(v[3], "q\"uote");
	assert_string_equal(v[4], "a b");
	free(v);
	assert_int_equal(ck_app_split("sh -c 'oops", &v, NULL), -1);
	assert_int_equal(ck_app_split("   ", &v, NULL), -1);
	char many[400] = "";
	for (int i = 0; i < 70; i++)
		strcat(many, "a ");
	assert_int_equal(ck_app_split(many, &v, NULL), -1);
}

static void test_lifecycle(void **s)
{
	(void)s;
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "cp -r '%s/../examples/hello' '%s/code'", CLOAK_SOURCE_DIR,
		 tu_base);
	assert_int_equal(system(cmd), 0);
	char dir[4200];
	snprintf(dir, sizeof(dir), "%s/code", tu_base);
	struct ck_app_spec spec = {.dir = dir, .run = "./server", .health = "/healthz"};
	struct ck_app a = {0};
	struct ck_err e;
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), -1); /* no listening socket: refused */
	assert_int_equal(ck_app_listen(&spec, &e), 0);
	assert_true(spec.port > 0);
	uint64_t t0 = ck_now_ms();
	if (ck_app_start(&a, &spec, t0, &e) < 0)
		fail_msg("%s", e.msg);
	assert_true(a.pid > 0);
	assert_int_equal(wait_healthy(&spec), 0);
	assert_true(ck_app_poll(&a, ck_now_ms()));
	/* the app dies: the supervisor notices, and waits before starting it again */
	kill(a.pid, SIGKILL);
	for (int i = 0; i < 100 && ck_app_poll(&a, ck_now_ms()); i++)
		usleep(20000);
	assert_int_equal(a.pid, 0);
	assert_int_equal(a.restarts, 1);
	assert_true(WIFSIGNALED(a.last_status));
	/* while it is down, nothing else can take its address (the supervisor holds it), so no
	 * impostor receives what was meant for the app */
	int imp = socket(AF_INET, SOCK_STREAM, 0), one = 1;
	setsockopt(imp, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(imp, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in isa = {.sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons(spec.port)};
	assert_int_equal(bind(imp, (struct sockaddr *)&isa, sizeof(isa)), -1);
	assert_int_equal(errno, EADDRINUSE);
	close(imp);
	uint64_t died = ck_now_ms();
	assert_false(ck_app_due(&a, died));
	assert_true(ck_app_due(&a, died + CK_APP_BACKOFF_MIN_MS + 5));
	unsigned b1 = a.backoff_ms;
	assert_int_equal(b1, 2 * CK_APP_BACKOFF_MIN_MS); /* the next wait doubles */
	assert_int_equal(ck_app_start(&a, &spec, ck_now_ms(), &e), 0);
	assert_int_equal(wait_healthy(&spec), 0);
	/* stopping ends it: nothing answers (the socket is still held), then it is let go */
	ck_app_stop(&a, 2000);
	assert_int_equal(a.pid, 0);
	assert_int_not_equal(ck_app_health(&spec, 200, &e), 0);
	ck_app_unlisten(&spec);
	assert_int_not_equal(ck_app_health(&spec, 200, &e), 0);
	/* the backoff is capped */
	struct ck_app c = {
	    .pid = 0, .backoff_ms = CK_APP_BACKOFF_MAX_MS, .started_ms = ck_now_ms()};
	c.pid = fork();
	if (c.pid == 0)
		_exit(3);
	while (ck_app_poll(&c, ck_now_ms()))
		usleep(1000);
	assert_int_equal(c.backoff_ms, CK_APP_BACKOFF_MAX_MS);
	assert_int_equal(WEXITSTATUS(c.last_status), 3);
	/* an app that had run for over a minute is restarted after the shortest wait */
	struct ck_app d = {.backoff_ms = CK_APP_BACKOFF_MAX_MS,
			   .started_ms = ck_now_ms() - CK_APP_STABLE_MS - 1000};
	d.pid = fork();
	if (d.pid == 0)
		_exit(0);
	uint64_t now;
	while (ck_app_poll(&d, now = ck_now_ms()))
		usleep(1000);
	assert_true(d.next_start_ms - now <= CK_APP_BACKOFF_MIN_MS + 5);
}

static void test_exec_failures(void **s)
{
	(void)s;
	struct ck_app a = {0};
	struct ck_err e;
	struct ck_app_spec spec = {.dir = tu_base, .run = "./does-not-exist", .health = "/"};
	assert_int_equal(ck_app_listen(&spec, &e), 0);
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), -1);
	assert_non_null(strstr(e.msg, "does-not-exist"));
	assert_int_equal(a.pid, 0);
	spec.run = "no-such-program-anywhere";
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), -1);
	assert_non_null(strstr(e.msg, "No such file"));
	spec.dir = "/nonexistent-dir";
	spec.run = "sh";
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), -1);
}

static void test_environment(void **s)
{
	(void)s;
	struct ck_secret sec[2] = {{"DB_PASSWORD", "s3cr3t", 6}, {"API_TOKEN", "t", 1}};
	setenv("CLOAK_TEST_LEAK", "runtime-only", 1);
	struct ck_app_spec spec = {
	    .dir = tu_base,
	    .run =
		"sh -c 'printf \"%s|%s|%s|%s|%s|%s|%s\" \"$DB_PASSWORD\" \"$PORT\" "
		"\"${CLOAK_TEST_LEAK-unset}\" \"$CLOAK_DATA_DIR\" \"$LISTEN_FDS\" "
		"\"$LISTEN_PID\" \"$$\" > env.out; readlink /proc/$$/fd/3 | cut -c1-7 > fds.out; "
		"for f in 4 5 6 7 8 9; do [ -e /proc/$$/fd/$f ] && echo $f >> fds.out; done; "
		"true'",
	    .health = "/",
	    .data_dir = "/data",
	    .secrets = sec,
	    .n_secrets = 2};
	struct ck_app a = {0};
	struct ck_err e;
	assert_int_equal(ck_app_listen(&spec, &e), 0);
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), 0);
	pid_t child = a.pid;
	while (ck_app_poll(&a, ck_now_ms()))
		usleep(5000);
	assert_int_equal(WEXITSTATUS(a.last_status), 0);
	char path[4200];
	size_t n;
	snprintf(path, sizeof(path), "%s/env.out", tu_base);
	uint8_t *out = tu_read(path, &n);
	char want[128];
	snprintf(want, sizeof(want), "s3cr3t|%u|unset|/data|1|%d|%d", spec.port, (int)child,
		 (int)child);
	assert_string_equal((char *)out, want);
	free(out);
	/* descriptor 3 is the listening socket, and nothing else of the supervisor's is there */
	snprintf(path, sizeof(path), "%s/fds.out", tu_base);
	out = tu_read(path, &n);
	if (strcmp((char *)out, "socket:\n"))
		fail_msg("descriptor 3 is not the socket, or the app had more: %s", out);
	free(out);
	ck_app_unlisten(&spec);
}

static void test_unix_socket_and_unhealthy(void **s)
{
	(void)s;
	char sock[4200];
	snprintf(sock, sizeof(sock), "%s/app.sock", tu_base);
	struct ck_app_spec spec = {
	    .dir = tu_base,
	    .run = "python3 -c 'import os, socketserver, http.server\n"
		   "class H(http.server.BaseHTTPRequestHandler):\n"
		   "    def log_message(self, *a): pass\n"
		   "    def do_GET(self):\n"
		   "        code = 200 if self.path == \"/healthz\" else 503\n"
		   "        self.send_response(code); self.send_header(\"Content-Length\", \"0\"); "
		   "self.end_headers()\n"
		   "class S(socketserver.UnixStreamServer):\n"
		   "    def get_request(self):\n"
		   "        r, _ = self.socket.accept(); return r, (\"unix\", 0)\n"
		   "import socket\n"
		   "s = S(os.environ[\"CLOAK_APP_SOCKET\"], H, bind_and_activate=False)\n"
		   "s.socket = socket.socket(fileno=3)\n"
		   "s.serve_forever()'",
	    .health = "/healthz",
	    .socket_path = sock};
	struct ck_app a = {0};
	struct ck_err e;
	assert_int_equal(ck_app_listen(&spec, &e), 0);
	assert_int_equal(ck_app_start(&a, &spec, 0, &e), 0);
	assert_int_equal(wait_healthy(&spec), 0);
	spec.health = "/broken";
	assert_int_equal(ck_app_health(&spec, 1000, &e), -1);
	assert_non_null(strstr(e.msg, "503"));
	ck_app_stop(&a, 2000);
	ck_app_unlisten(&spec);
	struct stat st;
	assert_int_equal(stat(sock, &st), -1); /* the socket's file goes with it */
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_split),
	    cmocka_unit_test(test_lifecycle),
	    cmocka_unit_test(test_exec_failures),
	    cmocka_unit_test(test_environment),
	    cmocka_unit_test(test_unix_socket_and_unhealthy),
	};
	return cmocka_run_group_tests(tests, tu_scratch_setup, tu_scratch_teardown);
}
