/* SPDX-License-Identifier: Apache-2.0 */
/* confine.c - a network-facing child holds as little as it can; see include/cloak/confine.h. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/close_range.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/syscall.h>

#include "cloak/confine.h"

/* Closes every descriptor from 3 up but those in keep. */
static void close_others(const int *keep, size_t n)
{
	int lo = 3;
	for (;;) {
		int next = -1; /* the smallest kept descriptor >= lo */
		for (size_t i = 0; i < n; i++)
			if (keep[i] >= lo && (next < 0 || keep[i] < next))
				next = keep[i];
		if (next < 0) {
			close_range((unsigned)lo, ~0U, 0);
			return;
		}
		if (next > lo)
			close_range((unsigned)lo, (unsigned)next - 1, 0);
		lo = next + 1;
	}
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? write(fd, text, strlen(text)) : -1;
	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* An empty directory, deleted, as the root and working directory. */
static int empty_root(struct ck_err *err)
{
	char dir[] = "/tmp/cloak-empty-XXXXXX";
	if (!mkdtemp(dir))
		return ck_errf(err, CK_E_IO, "cannot make an empty directory: %s", strerror(errno));
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	rmdir(dir);
	if (fd < 0 || fchdir(fd) < 0 || chroot(".") < 0 || chdir("/") < 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return ck_errf(err, CK_E_IO, "cannot change root: %s", strerror(e));
	}
	close(fd);
	return 0;
}

static int as_root(const char *user, char how[CK_CONFINE_HOW_MAX], struct ck_err *err)
{
	struct passwd *pw = getpwnam(user); /* before the root changes: NSS reads /etc */
	if (!pw)
		return ck_errf(err, CK_E_USAGE, "no user '%s' to run as", user);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (empty_root(err) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return ck_errf(err, CK_E_IO, "cannot become '%s': %s", user, strerror(errno));
	if (uid != 0 && setuid(0) == 0)
		return ck_errf(err, CK_E_IO, "root could be regained after becoming '%s'", user);
	snprintf(how, CK_CONFINE_HOW_MAX, "root: chroot, user %s", user);
	return 0;
}

static int in_userns(char how[CK_CONFINE_HOW_MAX], struct ck_err *err)
{
	char map[64];
	uid_t uid = geteuid();
	gid_t gid = getegid();
	if (unshare(CLONE_NEWUSER) < 0) {
		snprintf(how, CK_CONFINE_HOW_MAX, "none: no user namespace (%s)", strerror(errno));
		return 1;
	}
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map) < 0 ||
	    write_file("/proc/self/setgroups", "deny") < 0)
		return ck_errf(err, CK_E_IO, "cannot map the user namespace: %s", strerror(errno));
	snprintf(map, sizeof(map), "0 %u 1", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map) < 0)
		return ck_errf(err, CK_E_IO, "cannot map the user namespace: %s", strerror(errno));
	if (empty_root(err) < 0)
		return -1;
	snprintf(how, CK_CONFINE_HOW_MAX, "userns: chroot");
	return 0;
}

#if defined(__x86_64__)
#define SECCOMP_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define SECCOMP_ARCH AUDIT_ARCH_AARCH64
#endif

#ifdef SECCOMP_ARCH
/* What a network-facing child never does: start programs or processes, look into or change
 * other processes, namespaces, mounts, identities, the kernel. Each such call fails with EPERM;
 * a call of another architecture's (x32 on x86-64 included) kills the process. */
static const int denied[] = {
    __NR_execve,
    __NR_execveat,
    __NR_clone,
    __NR_clone3,
    __NR_ptrace,
    __NR_process_vm_readv,
    __NR_process_vm_writev,
    __NR_kcmp,
    __NR_mount,
    __NR_umount2,
    __NR_pivot_root,
    __NR_chroot,
    __NR_setns,
    __NR_unshare,
    __NR_bpf,
    __NR_perf_event_open,
    __NR_userfaultfd,
    __NR_keyctl,
    __NR_add_key,
    __NR_request_key,
    __NR_init_module,
    __NR_finit_module,
    __NR_delete_module,
    __NR_kexec_load,
    __NR_reboot,
    __NR_swapon,
    __NR_swapoff,
    __NR_acct,
    __NR_settimeofday,
    __NR_clock_settime,
    __NR_adjtimex,
    __NR_syslog,
    __NR_personality,
    __NR_quotactl,
    __NR_name_to_handle_at,
    __NR_open_by_handle_at,
    __NR_setuid,
    __NR_setgid,
    __NR_setreuid,
    __NR_setregid,
    __NR_setresuid,
    __NR_setresgid,
    __NR_setgroups,
    __NR_setfsuid,
    __NR_setfsgid,
    __NR_capset,
    __NR_move_mount,
    __NR_open_tree,
    __NR_fsopen,
    __NR_fsmount,
    __NR_fsconfig,
    __NR_fspick,
#ifdef __NR_fork
    __NR_fork,
    __NR_vfork,
    __NR_iopl,
    __NR_ioperm,
    __NR_uselib,
#endif
};
#define DENIED (sizeof(denied) / sizeof(denied[0]))

static int seccomp(struct ck_err *err)
{
	struct sock_filter f[4 + 2 * DENIED + 1];
	size_t k = 0;
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, arch));
	f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SECCOMP_ARCH, 1, 0);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS);
	f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
					      offsetof(struct seccomp_data, nr));
#ifdef __x86_64__
	/* x32 calls (bit 30): killed as the other architectures are */
	struct sock_filter x32[] = {
	    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000u, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	};
	struct sock_filter all[sizeof(f) / sizeof(f[0]) + 2];
	memcpy(all, f, k * sizeof(f[0]));
	memcpy(all + k, x32, sizeof(x32));
	k += 2;
#else
	struct sock_filter *all = f;
#endif
	for (size_t i = 0; i < DENIED; i++) {
		all[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
							(unsigned)denied[i], 0, 1);
		all[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
							SECCOMP_RET_ERRNO | (EPERM & 0xffff));
	}
	all[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = (unsigned short)k, .filter = all};
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return ck_errf(err, CK_E_IO, "cannot install the seccomp filter: %s",
			       strerror(errno));
	return 0;
}
#endif

int ck_confine(const int *keep, size_t nkeep, const char *user, char how[CK_CONFINE_HOW_MAX],
	       struct ck_err *err)
{
	close_others(keep, nkeep);
	int r = geteuid() == 0 ? as_root(user, how, err) : in_userns(how, err);
	if (r < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return ck_errf(err, CK_E_IO, "cannot set no_new_privs: %s", strerror(errno));
#ifdef SECCOMP_ARCH
	if (seccomp(err) < 0)
		return -1;
	size_t hl = strlen(how);
	snprintf(how + hl, CK_CONFINE_HOW_MAX - hl, ", seccomp");
#endif
	return 0;
}
