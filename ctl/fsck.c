/*
 * cairnctl fsck USER [--repair]: store_fsck() on <data-dir>/mail/USER.
 *
 * The store directory belongs to the mail user (user/group in the
 * configuration), mode 0700, inside <data-dir>/mail (root's, 0700).  As
 * root, cairnctl opens it as root, every level without following a link,
 * checks its owner as cairnd does, then takes the mail user's effective
 * ids (its group only) before store_open(), so every file SQLite creates
 * (index.db-wal, -shm) belongs to the mail user; it switches back before
 * it exits.  Started as anyone else (development, tests) it uses the files
 * as that user.
 *
 * store_open() makes the store directory the current directory: fine for
 * a command that opens one store and exits.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "privdrop.h"
#include "store.h"

#define MAIL_DIR "mail"
#define SHOWN_MAX 64

void
fsck_usage_lines(FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] fsck USER [--repair]\n");
}

static void
fsck_usage(FILE *out)
{
	fsck_usage_lines(out);
	fprintf(out,
	    "  check USER's mail store (<data-dir>/mail/USER): orphan or missing\n"
	    "  message files, stale temporary files, reference counts, index.db\n"
	    "  --repair  fix what is found\n"
	    "  exit 0: clean; 1: problems found (or an error); 2: usage\n");
}

static _Noreturn void
fsck_usage_error(const char *what, const char *arg)
{
	char buf[4 * SHOWN_MAX + 4];

	fprintf(stderr, "cairnctl: %s%s%s%s\n", what, arg ? " '" : "",
	    arg ? ctl_escape(arg, SHOWN_MAX, buf, sizeof(buf)) : "",
	    arg ? "'" : "");
	fsck_usage(stderr);
	exit(CTL_EXIT_USAGE);
}

/* argv = {"fsck", ...}: options and the one name in any order. */
void
fsck_parse(int argc, char *argv[], struct fsck_request *req)
{
	bool options = true;

	req->name = NULL;
	req->repair = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && strcmp(a, "--repair") == 0) {
			req->repair = true;
		} else if (options && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			fsck_usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (options && a[0] == '-' && a[1] != '\0') {
			fsck_usage_error("unknown option", a);
		} else if (req->name != NULL) {
			fsck_usage_error("unexpected argument", a);
		} else {
			req->name = a;
		}
	}
	if (req->name == NULL)
		fsck_usage_error("missing user name", NULL);
	ctl_check_user_name(req->name);
}

static void
print_finding(void *arg, const char *line)
{
	(void)arg;
	printf("%s\n", line);
}

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
check_and_run(const struct fsck_request *req, int fd)
{
	char err[1024];
	struct store *st;
	enum store_result r;
	unsigned problems = 0;

	if (store_open(fd, &st, err, sizeof(err)) != STORE_OK)
		return ctl_fail("cannot open the mail store of %s: %s", req->name,
		    err);
	r = store_fsck(st, req->repair, print_finding, NULL, &problems);
	fflush(stdout);
	if (r != STORE_OK) {
		ctl_fail("fsck of %s failed: %s", req->name, store_error(st));
		store_close(st);
		return CTL_EXIT_ERROR;
	}
	store_close(st);
	if (problems == 0) {
		printf("%s: no problems found\n", req->name);
		return CTL_EXIT_OK;
	}
	if (req->repair)
		printf("%s: %u problem%s found, repaired\n", req->name, problems,
		    problems == 1 ? "" : "s");
	else
		printf("%s: %u problem%s found, not repaired (cairnctl fsck %s "
		    "--repair fixes them)\n", req->name, problems,
		    problems == 1 ? "" : "s", req->name);
	return CTL_EXIT_ERROR;
}

int
fsck_run(const struct cairn_config *cfg, const struct fsck_request *req)
{
	bool as_root = geteuid() == 0;
	uid_t uid = 0;
	gid_t gid = 0;
	struct stat sb;
	int fd, status = CTL_EXIT_ERROR;

	if (as_root && privdrop_lookup(cfg->user, cfg->group, &uid, &gid) != 0)
		return ctl_fail("the mail user %s:%s does not exist", cfg->user,
		    cfg->group != NULL ? cfg->group : "");
	if ((fd = open_store_dir(cfg, req->name, &status)) < 0)
		return status;
	if (fstat(fd, &sb) != 0) {
		status = ctl_fail("%s/%s/%s: %s", cfg->data_dir, MAIL_DIR,
		    req->name, strerror(errno));
		close(fd);
		return status;
	}
	/* As cairnd does: a store the mail user does not own is refused. */
	if (as_root && sb.st_uid != uid) {
		status = ctl_fail("%s/%s/%s is owned by uid %lu, not by the mail "
		    "user %s: refusing it", cfg->data_dir, MAIL_DIR, req->name,
		    (unsigned long)sb.st_uid, cfg->user);
		close(fd);
		return status;
	}
	if (as_root && become_mail_user(cfg, uid, gid) != 0) {
		close(fd);
		return CTL_EXIT_ERROR;
	}
	status = check_and_run(req, fd);
	close(fd);
	if (as_root && become_root_again() != 0)
		return CTL_EXIT_ERROR;
	return status;
}
