/*
 * XCAIRNTEST: commands for the confinement tests (tests/integration/
 * test_confine.py), compiled in only with configure --enable-test-hooks,
 * never in a production build.  Each does what a compromised session
 * might try, so that the test can show the sandbox stops it:
 *
 *   XCAIRNTEST SYSCALL      a system call no seccomp list allows (execve,
 *                           with a NULL path, so that it would do nothing
 *                           if it were let through): the process must die
 *                           by SIGSYS, no answer
 *   XCAIRNTEST OPEN path    openat(store directory, path, O_RDONLY) once
 *                           logged in: OK, or NO [errno name]
 */
#include "autoconfig.h"

#ifdef CAIRN_TEST_HOOKS

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"

static const char *
errno_name(int e)
{
	switch (e) {
	case EACCES: return "EACCES";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case EXDEV: return "EXDEV";
	default: return "OTHER";
	}
}

void
cmd_xcairntest(struct session *s, const struct imap_command *c)
{
	const struct imap_arg *a = c->args;

	if (c->nargs == 1 && a[0].type == IMAP_ARG_ATOM &&
	    strcmp(a[0].str, "SYSCALL") == 0) {
		log_info("XCAIRNTEST: calling execve, which no filter allows");
		syscall(SYS_execve, NULL, NULL, NULL);
		session_tagged(s, c->tag, "NO", "execve was allowed");
		return;
	}
	if (c->nargs == 2 && a[0].type == IMAP_ARG_ATOM &&
	    strcmp(a[0].str, "OPEN") == 0 && a[1].type != IMAP_ARG_LIST &&
	    a[1].type != IMAP_ARG_NIL && a[1].type != IMAP_ARG_STREAMED) {
		if (s->store_dirfd < 0) {
			session_tagged(s, c->tag, "BAD", "not logged in");
			return;
		}
		int fd = openat(s->store_dirfd, a[1].str, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;
			log_info("XCAIRNTEST: openat(store, %s): %s", a[1].str, strerror(e));
			session_tagged(s, c->tag, "NO", "[%s] open refused", errno_name(e));
			return;
		}
		close(fd);
		session_tagged(s, c->tag, "OK", "opened");
		return;
	}
	session_tagged(s, c->tag, "BAD", "XCAIRNTEST SYSCALL | OPEN path");
}

#endif
