/*
 * A user's mail store, opened for a cairnctl command (fsck, quota).
 *
 * The store directory belongs to the mail user (user/group in the
 * configuration), mode 0700, inside <data-dir>/mail (root's, 0700).  As
 * root, cairnctl opens it as root, every level without following a link,
 * checks its owner as cairnd does, then takes the mail user's effective
 * ids (its group only) before store_open(), so every file SQLite creates
 * (index.db-wal, -shm) belongs to the mail user; it switches back before
 * it returns.  Started as anyone else (development, tests) it uses the
 * files as that user.
 *
 * The directory is made at the user's first login (by cairnd): before
 * that there is no store, and saying so is all that can be done.
 *
 * store_open() makes the store directory the current directory: fine for
 * a command that opens one store and exits.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "privdrop.h"

#define MAIL_DIR "mail"

/*
 * <data-dir>/mail/NAME opened as the caller, no link followed: the
 * descriptor, or -1 after a message (*status set).
 */
static int
open_store_dir(const struct cairn_config *cfg, const char *name, int *status)
{
	const char *data = cfg->data_dir;
	int dfd, mfd, fd, err;

	if ((dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err = errno;
		*status = err == ENOENT ?
		    ctl_fail("no mail store for user %s: %s does not exist",
		    name, data) :
		    ctl_fail("cannot open %s: %s", data, strerror(err));
		return -1;
	}
	mfd = openat(dfd, MAIL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	close(dfd);
	if (mfd < 0) {
		err = errno;
		*status = err == ENOENT ?
		    ctl_fail("no mail store for user %s: %s/%s does not exist",
		    name, data, MAIL_DIR) :
		    ctl_fail("cannot open %s/%s: %s%s", data, MAIL_DIR,
		    strerror(err), err == ENOTDIR || err == ELOOP ?
		    " (a symbolic link is not followed)" : "");
		return -1;
	}
	fd = openat(mfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	err = errno;
	close(mfd);
	if (fd < 0) {
		*status = err == ENOENT ?
		    ctl_fail("no mail store for user %s: %s/%s/%s does not exist",
		    name, data, MAIL_DIR, name) :
		    ctl_fail("cannot open %s/%s/%s: %s%s", data, MAIL_DIR, name,
		    strerror(err), err == ENOTDIR || err == ELOOP ?
		    " (a symbolic link is not followed)" : "");
		return -1;
	}
	return fd;
}

/* As root: the mail user's effective ids, its group only; saved uid 0. */
static int
become_mail_user(const struct cairn_config *cfg, uid_t uid, gid_t gid)
{
	if (setgroups(1, &gid) != 0 || setegid(gid) != 0 || seteuid(uid) != 0)
		return ctl_fail("cannot switch to the mail user '%s': %s",
		    cfg->user, strerror(errno));
	return 0;
}

static int
become_root_again(void)
{
	if (seteuid(0) != 0 || setegid(0) != 0)
		return ctl_fail("cannot switch back to root: %s", strerror(errno));
	return 0;
}

static int
open_and_run(const char *name, int fd,
    int (*fn)(struct store *st, const char *name, void *arg), void *arg)
{
	char err[1024];
	struct store *st;
	int status;

	if (store_open(fd, &st, err, sizeof(err)) != STORE_OK)
		return ctl_fail("cannot open the mail store of %s: %s", name, err);
	status = fn(st, name, arg);
	store_close(st);
	return status;
}

int
ctl_store_run(const struct cairn_config *cfg, const char *name,
    int (*fn)(struct store *st, const char *name, void *arg), void *arg)
{
	bool as_root = geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0;
	struct stat sb;
	int fd, status = CTL_EXIT_ERROR;

	if (as_root && privdrop_lookup(cfg->user, cfg->group, &uid, &gid) != 0)
		return ctl_fail("the mail user %s:%s does not exist", cfg->user,
		    cfg->group != NULL ? cfg->group : "");
	if ((fd = open_store_dir(cfg, name, &status)) < 0)
		return status;
	if (fstat(fd, &sb) != 0) {
		status = ctl_fail("%s/%s/%s: %s", cfg->data_dir, MAIL_DIR, name,
		    strerror(errno));
		close(fd);
		return status;
	}
	/* As cairnd does: a store the mail user does not own is refused. */
	if (as_root && sb.st_uid != uid) {
		status = ctl_fail("%s/%s/%s is owned by uid %lu, not by the mail "
		    "user %s: refusing it", cfg->data_dir, MAIL_DIR, name,
		    (unsigned long)sb.st_uid, cfg->user);
		close(fd);
		return status;
	}
	if (as_root && become_mail_user(cfg, uid, gid) != 0) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	status = open_and_run(name, fd, fn, arg);
	close(fd);
	if (as_root && become_root_again() != 0)
		return CTL_EXIT_ERROR;
	return status;
}
