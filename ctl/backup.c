/*
 * cairnctl backup USER DEST: a consistent copy of USER's store, taken
 * while sessions use it (store_backup in store/backup.c: SQLite's online
 * backup of index.db and the blob files its snapshot names, hard-linked
 * when DEST is on the store's file system, else copied).  DEST must be
 * new or empty.  Restoring is moving DEST in place of
 * <data-dir>/mail/USER while the user has no session (cairnctl(8)).
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "migrate.h"

void
backup_usage_lines(FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] backup USER DEST\n");
}

static void
backup_usage(FILE *out)
{
	backup_usage_lines(out);
	fprintf(out,
	    "  copy USER's mail store into the new or empty directory DEST,\n"
	    "  consistently, while the user's sessions go on\n"
	    "  exit 0: done; 1: an error; 2: usage\n");
}

static _Noreturn void
backup_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, backup_usage);
}

void
backup_parse(int argc, char *argv[], struct backup_request *req)
{
	bool options = true;

	memset(req, 0, sizeof(*req));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0)
			options = false;
		else if (options && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			backup_usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (options && a[0] == '-' && a[1] != '\0')
			backup_usage_error("unknown option", a);
		else if (req->name == NULL)
			req->name = a;
		else if (req->dest == NULL)
			req->dest = a;
		else
			backup_usage_error("unexpected argument", a);
	}
	if (req->name == NULL)
		backup_usage_error("missing user name", NULL);
	if (req->dest == NULL)
		backup_usage_error("missing the destination directory", NULL);
	ctl_check_user_name(req->name);
}

struct backup_ctx {
	int fd;
	const char *abs;        /* for messages */
	const char *sqlite;     /* for SQLite, which opens files by path */
};

static int
backup_store(struct store *st, const char *name, void *arg)
{
	struct backup_ctx *c = arg;
	struct store_backup_stats s;
	enum store_result r;

	/* the mail user may not walk the path to DEST (root's 0700
	 * directories above it), and SQLite opens index.db by its path */
	if (migrate_read_anything() != 0)
		return CTL_EXIT_ERROR;
	r = store_backup(st, c->fd, c->sqlite, &s);
	migrate_read_anything_end();
	if (r != STORE_OK)
		return ctl_fail("backup of %s failed: %s", name, store_error(st));
	printf("backup of %s into %s: index.db and %llu message files "
	    "(%llu linked, %llu copied, %.1f MB), %u snapshot%s\n", name,
	    c->abs, (unsigned long long)s.blobs, (unsigned long long)s.linked,
	    (unsigned long long)s.copied, (double)s.bytes / (1024.0 * 1024.0),
	    s.attempts, s.attempts == 1 ? "" : "s");
	return CTL_EXIT_OK;
}

int
backup_run(const struct cairn_config *cfg, const struct backup_request *req)
{
	struct backup_ctx c;
	char *abs;
	int status;

	if ((c.fd = migrate_dest_dir(cfg, req->dest, false, &abs)) < 0)
		return CTL_EXIT_ERROR;
	c.abs = c.sqlite = abs;

	status = ctl_store_run(cfg, req->name, backup_store, &c);
	close(c.fd);
	free(abs);
	return status;
}
