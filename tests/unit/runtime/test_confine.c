/* SPDX-License-Identifier: Apache-2.0 */
/* A confined child (confine.h): only the descriptors it keeps, no path out of its empty root,
 * as root the user it was given, no_new_privs, and a seccomp filter under which starting a
 * program or a process fails with EPERM while ordinary work (reading, writing, time) goes on.
 * Each check runs in a forked child, which reports by its exit status. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cloak/confine.h"
#include "testutil.h"

/* The child's verdict: 0 all held, else the number of the first check that did not. */
static int child(int kept, int dropped)
{
	char how[CK_CONFINE_HOW_MAX];
	struct ck_err e;
	int keep[] = {kept};
	if (ck_confine(keep, 1, "nobody", how, &e) < 0)
		return 1;
	if (!strstr(how, "seccomp"))
		return 2;
	if (fcntl(kept, F_GETFD) < 0 || fcntl(dropped, F_GETFD) >= 0)
		return 3;
	if (open("/etc/passwd", O_RDONLY) >= 0 || access("/tmp", F_OK) == 0)
		return 4; /* the empty root: nothing to open by path */
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
		return 5;
	char *argv[] = {"/bin/true", NULL};
	if (execve("/bin/true", argv, NULL) == 0 || errno != EPERM)
		return 6;
	if (fork() >= 0 || errno != EPERM)
		return 7;
	if (write(kept, "ok", 2) != 2)
		return 8; /* ordinary work goes on */
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 9;
	if (geteuid() == 0)
		return 10;
	return 0;
}

static void test_confined_child(void **s)
{
	(void)s;
	int p[2], other = open("/dev/null", O_RDONLY);
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	if (pid == 0)
		_exit(child(p[1], other));
	close(p[1]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == 10 && geteuid() != 0)
		st = 0; /* not root: a user namespace, where the uid inside is 0 */
	assert_int_equal(WEXITSTATUS(st), 0);
	char b[3] = {0};
	assert_int_equal(read(p[0], b, 2), 2);
	assert_string_equal(b, "ok");
	close(p[0]);
	close(other);
}

/* Without confinement the same calls succeed: the checks above can fail. */
static void test_unconfined_twin(void **s)
{
	(void)s;
	pid_t pid = fork();
	if (pid == 0)
		_exit(open("/etc/passwd", O_RDONLY) >= 0 &&
			      prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 0
			  ? 0
			  : 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_confined_child),
	    cmocka_unit_test(test_unconfined_twin),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
