/*
 * Reading what the mail user may not, as the mail user (migrate.h).
 *
 * cairnctl runs a store command as the mail user with root as the saved
 * uid (storedir.c), so that every file it makes belongs to the mail user.
 * An import reads a source that belongs to someone else (a Dovecot
 * Maildir is its mail account's, 0700), and SQLite opens a backup's
 * index.db by a path through root's directories: for those, the
 * capability to read and search any file and directory is raised into
 * the effective set, from the permitted set that the saved uid 0 kept.
 * Nothing is written with it: it grants no write access.
 */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/capability.h>
#include <sys/syscall.h>
#endif

#include "ctl.h"
#include "migrate.h"

int
migrate_read_anything(void)
{
#if defined(__linux__)
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (getuid() != 0 || geteuid() == 0)
		return 0;
	if (syscall(SYS_capget, &h, d) != 0)
		return ctl_fail("capget: %s", strerror(errno));
	d[CAP_TO_INDEX(CAP_DAC_READ_SEARCH)].effective |=
	    CAP_TO_MASK(CAP_DAC_READ_SEARCH);
	if (syscall(SYS_capset, &h, d) != 0)
		return ctl_fail("cannot keep read access to the source as the "
		    "mail user: capset: %s", strerror(errno));
#endif
	return 0;
}

void
migrate_read_anything_end(void)
{
#if defined(__linux__)
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (getuid() != 0 || geteuid() == 0)
		return;
	if (syscall(SYS_capget, &h, d) == 0) {
		d[CAP_TO_INDEX(CAP_DAC_READ_SEARCH)].effective &=
		    ~CAP_TO_MASK(CAP_DAC_READ_SEARCH);
		(void)syscall(SYS_capset, &h, d);
	}
#endif
}

