/*
 * cairnctl user ...: <data-dir>/auth, the effective ids and users.db.
 *
 * Started as root, cairnctl makes <data-dir> and <data-dir>/auth when they
 * are missing, then takes the effective ids of auth-user before it opens
 * the database, so every file SQLite creates belongs to the account
 * cairn-authd runs as.  Root stays the saved uid only so that
 * "del --purge" can come back to remove the user's mail, which belongs to
 * the mail user.  Started as anyone else (development, tests), it uses the
 * files as that user.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user-internal.h"
#include "userdb.h"

#define AUTH_DIR "auth"

/*
 * Open the directory name under dirfd, making it first with mode (and, as
 * root, owner uid:gid) when create is set and it is missing.  What is made
 * gets exactly mode, whatever the umask.  -1 with errno on failure.
 */
static int
open_dir(int dirfd, const char *name, bool create, mode_t mode, uid_t uid,
    gid_t gid, int nofollow)
{
	bool made = false;
	int fd, err;

	if (create) {
		if (mkdirat(dirfd, name, mode) == 0)
			made = true;
		else if (errno != EEXIST)
			return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
	if (fd < 0 || !made)
		return fd;
	if ((geteuid() == 0 && fchown(fd, uid, gid) != 0) ||
	    fchmod(fd, mode) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Only its owner may enter <data-dir>/auth: it holds the password hashes. */
static int
check_auth_dir(const struct user_ctx *ctx, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return ctl_fail("%s: %s", ctx->auth_dir, strerror(errno));
	if (st.st_uid != ctx->owner_uid || (st.st_mode & 077) != 0)
		return ctl_fail("%s is owned by uid %lu with mode %04o; it must "
		    "be owned by %s with mode 0700", ctx->auth_dir,
		    (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777),
		    ctx->as_root ? ctx->cfg->auth_user : "the user running cairnctl");
	return 0;
}

/*
 * <data-dir> (0755, root's when root) and <data-dir>/auth (0700, the
 * owner's), made when create is set.  *missing: they do not exist and were
 * not to be made.
 */
static int
prepare_dirs(struct user_ctx *ctx, bool create, bool *missing)
{
	const char *data = ctx->cfg->data_dir;
	int dfd, afd, status;

	*missing = false;
	dfd = open_dir(AT_FDCWD, data, create, 0755, 0, 0, 0);
	if (dfd < 0) {
		if (errno == ENOENT && !create)
			return *missing = true, 0;
		return ctl_fail("cannot %s %s: %s", create ? "create" : "open",
		    data, strerror(errno));
	}
	/* No symbolic link: auth-user must not be able to point it elsewhere. */
	afd = open_dir(dfd, AUTH_DIR, create, 0700, ctx->owner_uid,
	    ctx->owner_gid, O_NOFOLLOW);
	close(dfd);
	if (afd < 0) {
		if (errno == ENOENT && !create)
			return *missing = true, 0;
		return ctl_fail("cannot %s %s: %s", create ? "create" : "open",
		    ctx->auth_dir, strerror(errno));
	}
	status = check_auth_dir(ctx, afd);
	close(afd);
	return status;
}

/* As root: who auth-user is; the hint is the one cairnd gives. */
static int
lookup_auth_user(struct user_ctx *ctx)
{
	const char *name = ctx->cfg->auth_user;
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return ctl_fail("auth-user '%s' does not exist; create it with: "
		    "useradd --system --user-group --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s", name, name);
	if (pw->pw_uid == 0)
		return ctl_fail("auth-user '%s' is root: choose an unprivileged "
		    "account", name);
	ctx->owner_uid = pw->pw_uid;
	ctx->owner_gid = pw->pw_gid;
	return 0;
}

/*
 * Effective ids of auth-user with its group only: what SQLite creates is
 * auth-user's, and root's groups grant nothing meanwhile.  The real and
 * saved uid stay 0, so userdir_become_root() can come back.  The kernel
 * makes the process non-dumpable on this change, so auth-user cannot
 * ptrace a process that can still become root.
 */
static int
become_auth_user(const struct user_ctx *ctx)
{
	if (setgroups(1, &ctx->owner_gid) != 0 || setegid(ctx->owner_gid) != 0 ||
	    seteuid(ctx->owner_uid) != 0)
		return ctl_fail("cannot switch to auth-user '%s': %s",
		    ctx->cfg->auth_user, strerror(errno));
	return 0;
}

/* See user-internal.h. */
int
userdir_become_root(void)
{
	if (seteuid(0) != 0 || setegid(0) != 0)
		return ctl_fail("cannot switch back to root: %s", strerror(errno));
	return 0;
}

/* Directories, identity, then the database itself (ctx->db). */
int
userdir_open_db(struct user_ctx *ctx, enum db_mode mode)
{
	const char *data = ctx->cfg->data_dir;
	char err[PATH_MAX + 512];
	struct stat st;
	bool missing;
	int status;

	if ((size_t)snprintf(ctx->auth_dir, sizeof(ctx->auth_dir), "%s/%s", data,
	    AUTH_DIR) >= sizeof(ctx->auth_dir) ||
	    (size_t)snprintf(ctx->db_path, sizeof(ctx->db_path), "%s/%s",
	    ctx->auth_dir, USERDB_FILE) >= sizeof(ctx->db_path))
		return ctl_fail("data-dir is too long: %s", data);
	ctx->as_root = geteuid() == 0;
	ctx->owner_uid = geteuid();
	ctx->owner_gid = getegid();
	if (ctx->as_root && (status = lookup_auth_user(ctx)) != 0)
		return status;
	if ((status = prepare_dirs(ctx, mode == DB_CREATE, &missing)) != 0)
		return status;
	if (ctx->as_root && (status = become_auth_user(ctx)) != 0)
		return status;
	if (missing)
		return 0;
	/* Say so plainly if auth-user cannot even reach its directory. */
	if (ctx->as_root &&
	    faccessat(AT_FDCWD, ctx->auth_dir, X_OK, AT_EACCESS) != 0)
		return ctl_fail("auth-user '%s' cannot reach %s: %s (every parent "
		    "directory must be searchable by it)", ctx->cfg->auth_user,
		    ctx->auth_dir, strerror(errno));
	/* Only add creates the database; for the others none means no users. */
	if (mode != DB_CREATE && lstat(ctx->db_path, &st) != 0 && errno == ENOENT)
		return 0;
	ctx->db = userdb_open(ctx->db_path, mode == DB_CREATE, mode == DB_READ,
	    err, sizeof(err));
	if (ctx->db == NULL)
		return ctl_fail("%s", err);
	return 0;
}
