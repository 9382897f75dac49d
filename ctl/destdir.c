/*
 * The directory cairnctl export and backup write into (migrate.h).  Made
 * by root (cairnctl runs as root) and given to the mail user before the
 * store is opened, because the files are written as the mail user
 * (storedir.c): the copy's files then belong to the account that can
 * serve them (a backup put back in place) or read them.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "migrate.h"
#include "privdrop.h"

static bool
is_empty(int fd, bool *empty)
{
	struct dirent *e;
	DIR *d;
	int dfd = dup(fd);

	*empty = true;
	if (dfd < 0 || (d = fdopendir(dfd)) == NULL) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			*empty = false;
			break;
		}
	closedir(d);
	return true;
}

int
migrate_dest_dir(const struct cairn_config *cfg, const char *path,
    bool allow_nonempty, char **abs)
{
	bool as_root = geteuid() == 0, made = false, empty;
	uid_t uid = 0;
	gid_t gid = 0;
	int fd;

	*abs = NULL;
	if (as_root && privdrop_lookup(cfg->user, cfg->group, &uid, &gid) != 0) {
		ctl_fail("the mail user %s does not exist", cfg->user);
		return -1;
	}
	if (mkdir(path, 0700) == 0)
		made = true;
	else if (errno != EEXIST) {
		ctl_fail("mkdir %s: %s", path, strerror(errno));
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		ctl_fail("%s: %s", path, strerror(errno));
		return -1;
	}
	if (!is_empty(fd, &empty)) {
		ctl_fail("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if (!empty && !allow_nonempty) {
		ctl_fail("%s is not empty: refusing to write into it", path);
		close(fd);
		return -1;
	}
	/* what was here before the mail user's is left as it is */
	if (as_root && (made || empty) && fchown(fd, uid, gid) != 0) {
		ctl_fail("chown %s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	if ((*abs = realpath(path, NULL)) == NULL) {
		ctl_fail("%s: %s", path, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}
