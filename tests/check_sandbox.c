/*
 * The seccomp filters (common/sandbox.c) and Landlock (common/landlock.c),
 * each tried in a child process of its own: a filter or a Landlock domain
 * lasts for the life of the process.
 */
#include "autoconfig.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_run.h"
#include "landlock.h"
#include "log.h"
#include "sandbox.h"

/* Child exit codes: each step that went wrong has its own. */
enum { OK = 0, BAD_ALLOWED = 10, BAD_SOFT, BAD_DENIED, BAD_SETUP };

/*
 * Run fn in a child whose stderr goes to a pipe; the child's wait status,
 * and what it wrote to stderr in out.
 */
static int
in_child(int (*fn)(int), int arg, char *out, size_t out_size)
{
	int p[2], status;
	pid_t pid;
	ssize_t n;
	size_t len = 0;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], STDERR_FILENO);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(BAD_SETUP);
		_exit(fn(arg));
	}
	close(p[1]);
	while (len + 1 < out_size && (n = read(p[0], out + len, out_size - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	return status;
}

START_TEST(test_filters_build)
{
	/* every role's list resolves and adds; a broken name or rule fails */
	for (int role = SANDBOX_IMAPD; role <= SANDBOX_AUTHD; role++) {
		int n = sandbox_seccomp_check((enum sandbox_role)role);
		ck_assert_msg(n > 40, "role %d: %d rules", role, n);
	}
	/* the store's calls make the session roles' lists longer */
	ck_assert_int_gt(sandbox_seccomp_check(SANDBOX_IMAPD),
	    sandbox_seccomp_check(SANDBOX_AUTHD));
	ck_assert(sandbox_seccomp_enabled());
}
END_TEST

static int
getrandom_ok(void)
{
	unsigned char b[16];
	return syscall(SYS_getrandom, b, sizeof(b), 0) == (long)sizeof(b) ? 0 : -1;
}

/* In the child: allowed calls work, soft ones fail with their errno, and
 * then a forbidden one must kill: execve (with a NULL path: EFAULT, were
 * it let through), on no list, not even a sanitizer build's. */
static int
child_forbidden(int role)
{
	char buf[8];
	int fd, zero = open("/dev/zero", O_RDONLY);

	sandbox_seccomp((enum sandbox_role)role, "check_sandbox");
	if (getpid() <= 0 || read(zero, buf, sizeof(buf)) != sizeof(buf) ||
	    close(zero) != 0 || getrandom_ok() != 0)
		return BAD_ALLOWED;
	if (socket(AF_INET, SOCK_STREAM, 0) != -1 || errno != EACCES)
		return BAD_SOFT;
	if (role == SANDBOX_AUTHD) {
		/* users.db is read-only: reading is allowed ... */
		if ((fd = open("/dev/null", O_RDONLY)) < 0)
			return BAD_ALLOWED;
		close(fd);
		/* ... opening to write is not */
		(void)open("/dev/null", O_WRONLY);
		return BAD_DENIED;
	}
	syscall(SYS_execve, NULL, NULL, NULL);
	return BAD_DENIED;
}

START_TEST(test_forbidden_call_kills)
{
	char out[512];
	int status = in_child(child_forbidden, _i, out, sizeof(out));

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "role %d: status 0x%x, stderr: %s", _i, status, out);
	/* the handler names the call: execve is 59 on x86_64, openat 257 */
	ck_assert_msg(strstr(out, "check_sandbox: seccomp: forbidden system call ") != NULL,
	    "stderr: %s", out);
#if defined(__x86_64__)
	ck_assert_msg(strstr(out, _i == SANDBOX_AUTHD ? "call 257," : "call 59,") != NULL,
	    "stderr: %s", out);
#endif
}
END_TEST

/* SIGSYS keeps its handler: a process cannot turn the trap into an error. */
static int
child_sigsys_handler(int role)
{
	sandbox_seccomp((enum sandbox_role)role, "check_sandbox");
	signal(SIGSYS, SIG_IGN);
	return BAD_DENIED;
}

START_TEST(test_sigsys_handler_kept)
{
	char out[512];
	int status = in_child(child_sigsys_handler, SANDBOX_IMAPD, out, sizeof(out));

	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS,
	    "status 0x%x, stderr: %s", status, out);
}
END_TEST

static char dir_a[64], dir_b[80];

static void
make_dirs(void)
{
	char path[160];
	int fd;

	snprintf(dir_a, sizeof(dir_a), "/tmp/check_sandbox.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir_a));
	snprintf(dir_b, sizeof(dir_b), "%s/b", dir_a);
	ck_assert_int_eq(mkdir(dir_b, 0700), 0);
	snprintf(path, sizeof(path), "%s/a", dir_a);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/b/secret", dir_a);
	ck_assert_int_ge(fd = open(path, O_WRONLY | O_CREAT, 0600), 0);
	close(fd);
}

static void
remove_dirs(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir_a);
	ck_assert_int_eq(system(cmd), 0);
}

/* In the child: confined to dir_a/a, the sibling dir_a/b is out of reach
 * through "..", while everything the store does inside still works. */
static int
child_landlock(int unused)
{
	char path[160];
	int a, fd;

	(void)unused;
	snprintf(path, sizeof(path), "%s/a", dir_a);
	if ((a = open(path, O_RDONLY | O_DIRECTORY)) < 0)
		return BAD_SETUP;
	/* without Landlock the sibling opens: the same uid owns both */
	if ((fd = openat(a, "../b/secret", O_RDONLY)) < 0)
		return BAD_SETUP;
	close(fd);
	if (landlock_confine(&a, 1, false) != 1)
		return BAD_SETUP;
	if (openat(a, "../b/secret", O_RDONLY) != -1 || errno != EACCES)
		return BAD_DENIED;
	if (open("/etc/passwd", O_RDONLY) != -1 || errno != EACCES)
		return BAD_DENIED;
	/* the store's own work: files, directories, links between them,
	 * truncation, removal */
	if (mkdirat(a, "tmp", 0700) != 0 || mkdirat(a, "blobs", 0700) != 0 ||
	    (fd = openat(a, "tmp/m", O_WRONLY | O_CREAT | O_EXCL, 0600)) < 0 ||
	    write(fd, "hello", 5) != 5 || ftruncate(fd, 2) != 0 || close(fd) != 0 ||
	    linkat(a, "tmp/m", a, "blobs/m", 0) != 0 ||
	    renameat(a, "blobs/m", a, "blobs/n") != 0 ||
	    unlinkat(a, "tmp/m", 0) != 0 || unlinkat(a, "blobs/n", 0) != 0 ||
	    unlinkat(a, "tmp", AT_REMOVEDIR) != 0)
		return BAD_ALLOWED;
	return OK;
}

START_TEST(test_landlock_confines)
{
	char out[512];
	int status;

	if (landlock_abi() < 2) {
		/* the fallback: nothing restricted, said so, no error */
		int fd = open("/", O_PATH);
		ck_assert_int_eq(landlock_confine(&fd, 1, false), 0);
		close(fd);
		return;
	}
	make_dirs();
	status = in_child(child_landlock, 0, out, sizeof(out));
	remove_dirs();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == OK,
	    "status 0x%x, stderr: %s", status, out);
}
END_TEST

/* read_only: files beneath can be read, nothing can be written. */
static int
child_landlock_ro(int unused)
{
	int fd;

	(void)unused;
	if ((fd = open(dir_b, O_PATH | O_DIRECTORY)) < 0)
		return BAD_SETUP;
	if (landlock_confine(&fd, 1, true) != 1)
		return BAD_SETUP;
	if ((fd = openat(fd, "secret", O_RDONLY)) < 0)
		return BAD_ALLOWED;
	close(fd);
	if (open(dir_b, O_RDONLY | O_DIRECTORY) < 0)
		return BAD_ALLOWED;
	char path[160];
	snprintf(path, sizeof(path), "%s/secret", dir_b);
	if (open(path, O_WRONLY) != -1 || errno != EACCES)
		return BAD_DENIED;
	snprintf(path, sizeof(path), "%s/new", dir_b);
	if (open(path, O_WRONLY | O_CREAT, 0600) != -1 || errno != EACCES)
		return BAD_DENIED;
	return OK;
}

START_TEST(test_landlock_read_only)
{
	char out[512];
	int status;

	if (landlock_abi() < 2) {
		int fd = open("/", O_PATH);
		ck_assert_int_eq(landlock_confine(&fd, 1, true), 0);
		close(fd);
		return;
	}
	make_dirs();
	status = in_child(child_landlock_ro, 0, out, sizeof(out));
	remove_dirs();
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == OK,
	    "status 0x%x, stderr: %s", status, out);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sandbox");
	TCase *tc = tcase_create("sandbox");

	log_init("check_sandbox", LOG_TO_STDERR, LOG_LEVEL_WARN);
	tcase_add_test(tc, test_filters_build);
	tcase_add_loop_test(tc, test_forbidden_call_kills, SANDBOX_IMAPD, SANDBOX_AUTHD + 1);
	tcase_add_test(tc, test_sigsys_handler_kept);
	tcase_add_test(tc, test_landlock_confines);
	tcase_add_test(tc, test_landlock_read_only);
	suite_add_tcase(s, tc);
	return check_run(s);
}
