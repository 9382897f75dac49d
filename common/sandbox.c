/*
 * The seccomp allow-lists of cairn-imapd, cairn-lmtpd and cairn-authd.
 *
 * Written from what each role does (the store, OpenSSL, SQLite, zlib,
 * glibc's and the sanitizers' runtimes), then proved by the whole test
 * suite, normal and ASan/UBSan builds: the harness fails any test whose
 * log holds a trapped call's number, which is how the missing ones (the
 * "at"-less path calls SQLite makes, Landlock's calls after login, the
 * sanitizer scan's) were found.  A call outside the list is trapped
 * (SCMP_ACT_TRAP) and the handler below ends the process by SIGSYS after
 * naming the call's number; a few calls that libraries make and can live
 * without (a syslog reconnect's socket(), isatty()'s ioctl) fail with an
 * errno instead.  A list may hold more than the tests reach (sendto,
 * fallocate, utimensat...): calls a library is known to make on a path
 * the suite does not take; a strace -f survey could trim them.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef CAIRN_SECCOMP
#include <seccomp.h>
#endif

#include "log.h"
#include "sandbox.h"

#ifdef CAIRN_SECCOMP

/* Every process: memory, I/O on descriptors it holds, IPC, time, signals. */
static const char *const calls_base[] = {
	/* memory (malloc, SQLite's -shm mapping, ASan's shadow) */
	"brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
	/* descriptors already open */
	"read", "write", "readv", "writev", "pread64", "pwrite64", "lseek",
	"close", "fcntl", "dup", "dup3", "fstat", "newfstatat", "statx",
	"poll", "ppoll",
	/* the control socket (SCM_RIGHTS), the client socket, syslog */
	"sendmsg", "recvmsg", "sendto", "recvfrom", "shutdown",
	"getsockopt", "setsockopt", "getsockname", "getpeername",
	/* signals; rt_sigaction on SIGSYS is left out (below) */
	"rt_sigreturn", "rt_sigprocmask", "sigaltstack", "restart_syscall",
	/* time and randomness (OpenSSL, store ids) */
	"clock_gettime", "clock_getres", "gettimeofday", "time",
	"nanosleep", "clock_nanosleep", "getrandom",
	/* who am I; SQLite checks getpid() for forks */
	"getpid", "gettid", "getuid", "geteuid", "getgid", "getegid",
	"futex", "sched_yield", "sched_getaffinity", "getrlimit",
	"set_robust_list", "rseq",
	"exit", "exit_group",
};

/* The store (store/): files below the store's directory descriptor. */
static const char *const calls_store[] = {
	"openat", "mkdirat", "unlinkat", "linkat", "renameat", "renameat2",
	"ftruncate", "fsync", "fdatasync", "flock", "fchdir", "getcwd",
	"readlinkat", "readlink", "getdents64", "faccessat", "faccessat2",
	"access", "fchmod", "fchown", "fallocate", "utimensat",
	/* SQLite's unix VFS names files relative to the store (fchdir):
	 * the path calls without "at" */
	"open", "stat", "lstat", "unlink", "mkdir", "rmdir", "rename", "link",
	/* the change signal (store/watch.c) */
	"inotify_init1", "inotify_add_watch", "inotify_rm_watch",
};

/* cairn-imapd confines itself with Landlock after login, under the
 * filter; these calls can only take rights away. */
static const char *const calls_imapd[] = {
	"landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
};

/* cairn-authd: users.db read-only (openat with a flags check, below). */
static const char *const calls_authd[] = {
	"readlink", "getcwd", "faccessat", "access",
};

#ifdef CAIRN_SANITIZERS
/* Test builds only: LeakSanitizer's exit-time scan in cairn-authd stops
 * the world from a clone that ptraces the process and reads /proc. */
static const char *const calls_sanitizer[] = {
	"clone", "ptrace", "wait4", "prctl", "getdents", "getdents64", "readlink",
	"getppid",
};
#endif

/* Calls that fail softly (errno) rather than kill: libraries try them and
 * cope.  glibc's syslog() reopens /dev/log after an error (socket,
 * connect); stdio asks isatty() (ioctl TCGETS). */
static const struct soft_call {
	const char *name;
	int error;
} calls_soft[] = {
	{ "socket", EACCES },
	{ "connect", EACCES },
	{ "ioctl", ENOTTY },
};

static const char *sigsys_kind = "cairn";

/*
 * The SIGSYS handler: only async-signal-safe raw calls, all on the list.
 * Installed with SA_RESETHAND, so the SIGSYS sent at the end finds the
 * default action (terminate) and the master sees death by SIGSYS.
 */
static void
sandbox_sigsys(int sig, siginfo_t *si, void *ctx)
{
	char line[160], num[24];
	size_t n = 0, k = 0;
	unsigned v = (unsigned)si->si_syscall;

	(void)ctx;
	do {
		num[k++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0 && k < sizeof(num));
	for (const char *p = sigsys_kind; *p != '\0' && n < 80; p++)
		line[n++] = *p;
	static const char mid[] = ": seccomp: forbidden system call ";
	memcpy(line + n, mid, sizeof(mid) - 1);
	n += sizeof(mid) - 1;
	while (k > 0)
		line[n++] = num[--k];
	static const char end[] = ", process killed\n";
	memcpy(line + n, end, sizeof(end) - 1);
	n += sizeof(end) - 1;
	(void)!write(STDERR_FILENO, line, n);
	syscall(SYS_tgkill, (pid_t)syscall(SYS_getpid), (pid_t)syscall(SYS_gettid), sig);
}

static int
add_calls(scmp_filter_ctx ctx, const char *const *names, size_t n, int *count)
{
	for (size_t i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;  /* not a call of this architecture */
		int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (rc != 0) {
			log_errorx("seccomp: cannot allow %s: %s", names[i], strerror(-rc));
			return -1;
		}
		(*count)++;
	}
	return 0;
}

#define ADD(list) add_calls(ctx, list, sizeof(list) / sizeof(list[0]), &count)

static int
add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name, int *count,
    unsigned n_args, struct scmp_arg_cmp a, struct scmp_arg_cmp b)
{
	int nr = seccomp_syscall_resolve_name(name);
	int rc;

	if (nr == __NR_SCMP_ERROR)
		return 0;
	if (n_args == 0)
		rc = seccomp_rule_add(ctx, action, nr, 0);
	else if (n_args == 1)
		rc = seccomp_rule_add(ctx, action, nr, 1, a);
	else
		rc = seccomp_rule_add(ctx, action, nr, 2, a, b);
	if (rc != 0) {
		log_errorx("seccomp: cannot add a rule for %s: %s", name, strerror(-rc));
		return -1;
	}
	(*count)++;
	return 0;
}

static scmp_filter_ctx
sandbox_build(enum sandbox_role role, int *allowed)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	struct scmp_arg_cmp none = SCMP_A0(SCMP_CMP_EQ, 0);
	pid_t self = getpid();
	int count = 0;

	if (ctx == NULL) {
		log_errorx("seccomp: cannot create a filter");
		return NULL;
	}
	/* A call through another ABI (int 0x80, x32) is not on the list. */
	if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0 ||
	    seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1) != 0)
		goto fail;
	if (ADD(calls_base) != 0)
		goto fail;
	/* Signals go to this process alone; SIGSYS keeps its handler. */
	if (add_rule(ctx, SCMP_ACT_ALLOW, "rt_sigaction", &count, 1,
	    SCMP_A0(SCMP_CMP_NE, SIGSYS), none) != 0 ||
	    add_rule(ctx, SCMP_ACT_ALLOW, "tgkill", &count, 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self), none) != 0 ||
	    add_rule(ctx, SCMP_ACT_ALLOW, "kill", &count, 1,
	    SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)self), none) != 0 ||
	    /* its own limits only (pid 0) */
	    add_rule(ctx, SCMP_ACT_ALLOW, "prlimit64", &count, 1,
	    SCMP_A0(SCMP_CMP_EQ, 0), none) != 0 ||
	    /* the sanitizer runtimes and glibc read these; nothing else */
	    add_rule(ctx, SCMP_ACT_ALLOW, "prctl", &count, 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_GET_DUMPABLE), none) != 0 ||
	    add_rule(ctx, SCMP_ACT_ALLOW, "prctl", &count, 1,
	    SCMP_A0(SCMP_CMP_EQ, PR_SET_NAME), none) != 0)
		goto fail;
#ifdef CAIRN_SANITIZERS
	if (ADD(calls_sanitizer) != 0)
		goto fail;
#endif
	for (size_t i = 0; i < sizeof(calls_soft) / sizeof(calls_soft[0]); i++)
		if (add_rule(ctx, SCMP_ACT_ERRNO((uint32_t)calls_soft[i].error),
		    calls_soft[i].name, &count, 0, none, none) != 0)
			goto fail;
	switch (role) {
	case SANDBOX_IMAPD:
		if (ADD(calls_store) != 0 || ADD(calls_imapd) != 0)
			goto fail;
		break;
	case SANDBOX_LMTPD:
		if (ADD(calls_store) != 0)
			goto fail;
		break;
	case SANDBOX_AUTHD:
		/* users.db is opened read-only: no write, create or truncate */
		if (ADD(calls_authd) != 0 ||
		    add_rule(ctx, SCMP_ACT_ALLOW, "openat", &count, 1,
		    SCMP_A2(SCMP_CMP_MASKED_EQ, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 0),
		    none) != 0 ||
		    /* the sanitizer runtimes' internal_open() */
		    add_rule(ctx, SCMP_ACT_ALLOW, "open", &count, 1,
		    SCMP_A1(SCMP_CMP_MASKED_EQ, O_WRONLY | O_RDWR | O_CREAT | O_TRUNC, 0),
		    none) != 0)
			goto fail;
		break;
	}
	*allowed = count;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

void
sandbox_seccomp(enum sandbox_role role, const char *kind)
{
	struct sigaction sa;
	scmp_filter_ctx ctx;
	int allowed, rc;

	sigsys_kind = kind;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = sandbox_sigsys;
	sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSYS, &sa, NULL) != 0)
		fatal("seccomp: sigaction(SIGSYS)");
	if ((ctx = sandbox_build(role, &allowed)) == NULL)
		fatalx("seccomp: cannot build the filter");
	if ((rc = seccomp_load(ctx)) != 0) {
		errno = -rc;
		fatal("seccomp: cannot load the filter");
	}
	seccomp_release(ctx);
	log_debug("seccomp filter installed: %d rules", allowed);
}

int
sandbox_seccomp_check(enum sandbox_role role)
{
	int allowed;
	scmp_filter_ctx ctx = sandbox_build(role, &allowed);

	if (ctx == NULL)
		return -1;
	seccomp_release(ctx);
	return allowed;
}

bool
sandbox_seccomp_enabled(void)
{
	return true;
}

#else /* !CAIRN_SECCOMP: configure --disable-seccomp, for debugging */

void
sandbox_seccomp(enum sandbox_role role, const char *kind)
{
	(void)role;
	(void)kind;
	log_info("seccomp filtering is off (built with --disable-seccomp)");
}

int
sandbox_seccomp_check(enum sandbox_role role)
{
	(void)role;
	return -1;
}

bool
sandbox_seccomp_enabled(void)
{
	return false;
}

#endif
