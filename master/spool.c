/*
 * <data-dir>/spool: cairn-lmtpd writes each message there once, and the
 * store links it into every recipient's store, so it lies beside
 * <data-dir>/mail (the same file system, in the normal case).  It is the
 * mail user's, 0700; lmtpd opens it before its chroot.  A file there is
 * named "<pid>.<random>" by the lmtpd writing it, which removes it when
 * done; what a killed lmtpd leaves is removed here when it is reaped,
 * and everything at start, before any lmtpd runs.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "privdrop.h"

static void
spool_path(const struct master *m, char *out, size_t size)
{
	snprintf(out, size, "%s/spool", m->cfg->data_dir);
}

/* Remove the spool's files whose name starts with prefix ("": all). */
static void
spool_remove(const struct master *m, const char *prefix)
{
	char path[1100];
	struct dirent *e;
	size_t n = strlen(prefix);
	int fd;
	DIR *d;

	spool_path(m, path, sizeof(path));
	/* O_NOFOLLOW: data-dir is root's, but be sure of what is opened */
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    (d = fdopendir(fd)) == NULL) {
		log_warn("cannot clean the spool %s", path);
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || strncmp(e->d_name, prefix, n) != 0)
			continue;
		/* unlinkat removes a name, never follows it nor a directory */
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			log_info("removed %s/%s, left by an interrupted delivery",
			    path, e->d_name);
		else if (errno != ENOENT)
			log_warn("cannot remove %s/%s", path, e->d_name);
	}
	closedir(d);
}

void
spool_prepare(const struct master *m)
{
	char path[1100];
	struct stat st;
	uid_t uid = getuid();
	gid_t gid = getgid();

	spool_path(m, path, sizeof(path));
	if (mkdir(path, 0700) == 0)
		log_info("created %s", path);
	else if (errno != EEXIST)
		fatal("cannot create %s", path);
	if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		fatalx("%s exists and is not a directory", path);
	if (m->privsep) {
		if (privdrop_lookup(m->cfg->user, m->cfg->group, &uid, &gid) != 0)
			fatalx("user '%s' or group '%s' does not exist", m->cfg->user,
			    m->cfg->group);
		if (chown(path, uid, gid) != 0)
			fatal("cannot give %s to %s", path, m->cfg->user);
	}
	if (chmod(path, 0700) != 0)
		fatal("chmod %s", path);
	spool_remove(m, "");
}

void
spool_clean_pid(const struct master *m, pid_t pid)
{
	char prefix[32];

	snprintf(prefix, sizeof(prefix), "%ld.", (long)pid);
	spool_remove(m, prefix);
}
