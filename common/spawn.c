#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "spawn.h"

/* Variables a child may inherit; everything else is dropped. */
static const char *const spawn_env_keep[] = {
	"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "TZ", NULL,
};

static void
spawn_build_env(char **env, size_t max)
{
	size_t n = 0;

	env[n++] = "PATH=/usr/sbin:/usr/bin:/sbin:/bin";
	for (size_t i = 0; spawn_env_keep[i] != NULL && n + 1 < max; i++) {
		const char *v = getenv(spawn_env_keep[i]);
		if (v == NULL)
			continue;
		/* getenv points just past "NAME=" inside environ's entry. */
		env[n++] = (char *)(v - strlen(spawn_env_keep[i]) - 1);
	}
	env[n] = NULL;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static _Noreturn void
spawn_exec(const char *path, char *const argv[], int control_fd, int config_fd,
    bool keep_stderr)
{
	char *env[8];
	sigset_t none;
	int devnull, c, f;

	spawn_build_env(env, sizeof(env) / sizeof(env[0]));
	/* Move both out of the way of 3 and 4 before placing them there. */
	if ((c = fcntl(control_fd, F_DUPFD, 10)) < 0 ||
	    (f = fcntl(config_fd, F_DUPFD, 10)) < 0 ||
	    dup2(c, IPC_FD_CONTROL) < 0 || dup2(f, IPC_FD_CONFIG) < 0)
		_exit(127);
	if ((devnull = open("/dev/null", O_RDWR)) < 0 || dup2(devnull, 0) < 0 ||
	    dup2(devnull, 1) < 0 || (!keep_stderr && dup2(devnull, 2) < 0))
		_exit(127);
	if (close_range(IPC_FD_CONFIG + 1, ~0U, 0) != 0) {
		for (int fd = IPC_FD_CONFIG + 1; fd < 1024; fd++)
			close(fd);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	execve(path, argv, env);
	_exit(127);
}

pid_t
spawn_child(const char *path, char *const argv[], int control_fd, int config_fd,
    bool keep_stderr)
{
	pid_t pid = fork();

	if (pid == 0)
		spawn_exec(path, argv, control_fd, config_fd, keep_stderr);
	return pid;
}

int
spawn_config_memfd(const char *text, size_t len)
{
	int fd = memfd_create("cairn.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	size_t off = 0;

	if (fd < 0)
		return -1;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		off += (size_t)n;
	}
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK |
	    F_SEAL_SEAL) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}
