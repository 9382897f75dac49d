/*
 * cairnctl user del --purge: the removal of <data-dir>/mail/NAME.  The
 * mail belongs to the mail user, who may have put symbolic links in it:
 * every level is opened relative to its parent and no link is followed.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "user-internal.h"

#define PURGE_MAX_DEPTH 128       /* a mail store is a few levels deep */

/* Where a removal is, relative to <data-dir>/mail, for the error message. */
struct purge {
	char where[PATH_MAX];
	size_t len;
	bool too_deep;
};

static int remove_entry(struct purge *p, int parent, const char *name, int depth);

/* Remove everything in the directory name under parent. */
static int
empty_dir(struct purge *p, int parent, const char *name, int depth)
{
	struct dirent *de;
	DIR *dir;
	int fd, rc = 0, err;

	/* O_NOFOLLOW: if name became a link since it was checked, stop. */
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	while (rc == 0) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			rc = errno != 0 ? -1 : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = remove_entry(p, dirfd(dir), de->d_name, depth + 1);
	}
	err = errno;
	closedir(dir);
	errno = err;
	return rc;
}

/*
 * Remove name under parent: a directory with everything in it, anything
 * else (a symbolic link included: the link goes, its target stays) with
 * unlinkat().  Every level is opened relative to its parent, never by a
 * path, so no link is ever followed.
 */
static int
remove_entry(struct purge *p, int parent, const char *name, int depth)
{
	size_t len = p->len;
	struct stat st;
	int n;

	n = snprintf(p->where + len, sizeof(p->where) - len, "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(p->where) - len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	p->len += (size_t)n;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return -1;      /* ENOENT: already gone, nothing to do */
	} else if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) != 0)
			return -1;
	} else if (depth >= PURGE_MAX_DEPTH) {
		p->too_deep = true;
		return -1;
	} else if (empty_dir(p, parent, name, depth) != 0 ||
	    unlinkat(parent, name, AT_REMOVEDIR) != 0) {
		return -1;
	}
	p->len = len;
	p->where[len] = '\0';
	return 0;
}

/* rm -r <data-dir>/mail/NAME, as root when we are (it is the mail user's). */
int
purge_mail(const struct user_ctx *ctx)
{
	const char *data = ctx->cfg->data_dir, *name = ctx->req->name;
	struct purge p = { .len = 0 };
	int dfd, mfd = -1, rc, err;

	if (ctx->as_root && userdir_become_root() != 0)
		return CTL_EXIT_ERROR;
	if ((dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		mfd = openat(dfd, MAIL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dfd);
	}
	/* No mail directory at all (nobody has logged in) is not an error. */
	if (mfd < 0 && errno == ENOENT)
		return 0;
	if (mfd < 0) {
		err = errno;
		return ctl_fail("user %s deleted, but cannot open %s/%s: %s%s",
		    name, data, MAIL_DIR, strerror(err),
		    err == ENOTDIR || err == ELOOP ?
		    " (a symbolic link is not followed)" : "");
	}
	rc = remove_entry(&p, mfd, name, 0);
	if (rc != 0)
		rc = ctl_fail("user %s deleted, but cannot remove %s/%s%s: %s",
		    name, data, MAIL_DIR, p.where, p.too_deep ?
		    "directories nested too deep" : strerror(errno));
	close(mfd);
	return rc;
}
