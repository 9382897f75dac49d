/*
 * cairnctl import, export and backup: moving a user's mail in and out
 * of Cairn (import.c, export.c, backup.c; the formats in maildir.c and
 * mbox.c; progress.c).
 */
#ifndef CAIRN_CTL_MIGRATE_H
#define CAIRN_CTL_MIGRATE_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

/* cairnctl import USER PATH [--mailbox NAME] [--dry-run] */
struct import_request {
	const char *name, *path;
	const char *mailbox;      /* NULL: INBOX and the folders as they are */
	bool dry_run;
};
void import_parse(int argc, char *argv[], struct import_request *req);
int import_run(const struct cairn_config *cfg, const struct import_request *req);
void import_usage_lines(FILE *out);

/* cairnctl export USER DIR [--force] */
struct export_request {
	const char *name, *dir;
	bool force;
};
void export_parse(int argc, char *argv[], struct export_request *req);
int export_run(const struct cairn_config *cfg, const struct export_request *req);
void export_usage_lines(FILE *out);

/* cairnctl backup USER DEST */
struct backup_request {
	const char *name, *dest;
};
void backup_parse(int argc, char *argv[], struct backup_request *req);
int backup_run(const struct cairn_config *cfg, const struct backup_request *req);
void backup_usage_lines(FILE *out);

/*
 * A directory for export or backup to write: made (mode 0700) when
 * missing, else it must be empty (unless allow_nonempty); as root it is
 * given to the mail user, who writes its files.  The descriptor, or -1
 * after a message.  *abs: its absolute path (for SQLite), to free.
 */
int migrate_dest_dir(const struct cairn_config *cfg, const char *path,
    bool allow_nonempty, char **abs);

/*
 * As root running as the mail user (storedir.c): CAP_DAC_READ_SEARCH
 * raised into the effective set (readcap.c), so that files the mail user
 * may not read or reach can be read; 0, or -1 after a message.  Without
 * root (or on a system other than Linux), nothing.  _end lowers it.
 */
int migrate_read_anything(void);
void migrate_read_anything_end(void);

#endif
