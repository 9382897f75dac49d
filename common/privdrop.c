/* The privilege drop every child goes through before it touches client data. */
#include "autoconfig.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "privdrop.h"

bool
privdrop_needed(void)
{
	return geteuid() == 0 || getuid() == 0;
}

int
privdrop_lookup(const char *user, const char *group, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;
	struct group *gr;

	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return -1;
	*uid = pw->pw_uid;
	if (group == NULL) {
		*gid = pw->pw_gid;
		return 0;
	}
	if ((gr = getgrnam(group)) == NULL)
		return -1;
	*gid = gr->gr_gid;
	return 0;
}

int
privdrop_check_chroot(const char *dir, const char **why)
{
	struct stat st;

	if (lstat(dir, &st) != 0) {
		*why = strerror(errno);
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		*why = "not a directory";
		return -1;
	}
	if (st.st_uid != 0) {
		*why = "not owned by root";
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		*why = "writable by group or others";
		return -1;
	}
	return 0;
}

/* The two steps that apply whoever we are. */
static void
privdrop_harden(void)
{
#ifndef CAIRN_SANITIZERS
	/* LeakSanitizer needs to ptrace its own process at exit: sanitizer
	 * builds (tests only) stay dumpable. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
		fatal("privdrop: prctl(PR_SET_DUMPABLE)");
#endif
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		fatal("privdrop: prctl(PR_SET_NO_NEW_PRIVS)");
}

void
privdrop(const char *user, const char *group, const char *chroot_dir)
{
	const char *why;
	uid_t uid;
	gid_t gid;

	if (!privdrop_needed()) {
		privdrop_harden();
		return;
	}
	/* 1. accounts, while /etc is still visible */
	if (privdrop_lookup(user, group, &uid, &gid) != 0)
		fatalx("privdrop: no such account %s:%s", user, group);
	if (uid == 0 || gid == 0)
		fatalx("privdrop: %s:%s is root; refusing", user, group);
	/* 2. time zone data, before /usr/share/zoneinfo disappears */
	tzset();
	/* 3-5. the empty root */
	if (chroot_dir != NULL) {
		if (privdrop_check_chroot(chroot_dir, &why) != 0)
			fatalx("privdrop: chroot directory %s: %s", chroot_dir, why);
		if (chroot(chroot_dir) != 0)
			fatal("privdrop: chroot(%s)", chroot_dir);
		if (chdir("/") != 0)
			fatal("privdrop: chdir(/)");
	}
	/* 6-8. identity: groups first, the uid last */
	if (setgroups(1, &gid) != 0)
		fatal("privdrop: setgroups");
	if (setresgid(gid, gid, gid) != 0)
		fatal("privdrop: setresgid(%lu)", (unsigned long)gid);
	if (setresuid(uid, uid, uid) != 0)
		fatal("privdrop: setresuid(%lu)", (unsigned long)uid);
	/* 9. verify there is no way back */
	if (setuid(0) == 0 || seteuid(0) == 0)
		fatalx("privdrop: could regain root after dropping it");
	if (getuid() != uid || geteuid() != uid || getgid() != gid || getegid() != gid)
		fatalx("privdrop: identity is not what was set");
	/* 10-11. */
	privdrop_harden();
	log_debug("privileges dropped to %s:%s%s%s", user, group,
	    chroot_dir != NULL ? ", chroot " : "", chroot_dir != NULL ? chroot_dir : "");
}
