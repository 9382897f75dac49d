/*
 * The seccomp filter of each child: the system calls it may make.
 *
 * Each child installs its role's filter (libseccomp) once privdrop() has
 * run and before it says HELLO, so no byte from a client or an MTA is read
 * without it.  A call outside the list is trapped: a SIGSYS handler writes
 * "seccomp: forbidden system call N" to stderr (the master's log under
 * cairnd -F) and the process dies by SIGSYS, which the master logs.  The
 * lists are in sandbox.c, one per role.  doc/security.md says why each
 * group of calls is there.
 */
#ifndef CAIRN_SANDBOX_H
#define CAIRN_SANDBOX_H

#include <stdbool.h>

enum sandbox_role {
	SANDBOX_IMAPD,
	SANDBOX_LMTPD,
	SANDBOX_AUTHD,
};

/*
 * Install the role's filter on every thread of the process (fatal on
 * failure).  kind names the process in the SIGSYS message.  Needs
 * PR_SET_NO_NEW_PRIVS, which privdrop() sets.  Built with
 * --disable-seccomp, it only logs that it does nothing.
 */
void sandbox_seccomp(enum sandbox_role role, const char *kind);

/*
 * For the unit test: build the role's filter without loading it; the
 * number of system calls it allows, or -1 (with the reason logged) when a
 * rule cannot be added.
 */
int sandbox_seccomp_check(enum sandbox_role role);

/* Is seccomp filtering compiled in? */
bool sandbox_seccomp_enabled(void);

#endif
