/*
 * Opening and closing a store, its errors, and what a new store starts
 * with: INBOX and the special-use mailboxes of RFC 6154.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "store-int.h"
#include "xmalloc.h"

static const struct {
	const char *name;
	unsigned special_use;
} default_mailboxes[] = {
	{ "INBOX", 0 },
	{ "Sent", STORE_USE_SENT },
	{ "Drafts", STORE_USE_DRAFTS },
	{ "Trash", STORE_USE_TRASH },
	{ "Junk", STORE_USE_JUNK },
	{ "Archive", STORE_USE_ARCHIVE },
};

/*
 * The store directory this process has open (see store_open): SQLite
 * reaches index.db through the current directory, so there can be one.
 */
static struct {
	dev_t dev;
	ino_t ino;
	unsigned opens;
} current_dir;

static enum store_error_cause last_cause;

void
store_set_cause(enum store_error_cause cause)
{
	last_cause = cause;
}

enum store_error_cause
store_error_cause(void)
{
	return last_cause;
}

enum store_error_cause
store_cause_of_errno(int e)
{
	return e == ENOSPC || e == EDQUOT ? STORE_CAUSE_NO_SPACE
	    : STORE_CAUSE_OTHER;
}

enum store_result
store_fail(struct store *st, enum store_result r, const char *fmt, ...)
{
	va_list ap;

	last_cause = STORE_CAUSE_OTHER;
	va_start(ap, fmt);
	vsnprintf(st->err, sizeof(st->err), fmt, ap);
	va_end(ap);
	return r;
}

enum store_result
store_fail_errno(struct store *st, const char *what)
{
	int e = errno;
	enum store_result r = store_fail(st, STORE_ERROR, "%s: %s", what,
	    strerror(e));

	last_cause = store_cause_of_errno(e);
	return r;
}

const char *
store_error(const struct store *st)
{
	return st->err;
}

enum store_result
store_new_uidvalidity(struct store *st, uint32_t *out)
{
	return index_uidvalidity_next(st->ix, (uint32_t)time(NULL), out);
}

/*
 * A new store gets every default mailbox, subscribed; an old one only gets
 * INBOX back should it be missing.  Read first without the lock: at every
 * login but the first, INBOX is there.
 */
static enum store_result
init_mailboxes(struct store *st)
{
	struct store_mailbox *all, mb;
	enum store_result r;
	size_t n, make;
	int64_t id;

	if ((r = index_mailbox_get(st->ix, "INBOX", 0, &mb, NULL)) != STORE_NOT_FOUND)
		return r;
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	if ((r = index_mailbox_all(st->ix, &all, &n)) != STORE_OK)
		goto fail;
	free(all);
	/* INBOX comes first in the table. */
	make = n > 0 ? 1 : sizeof(default_mailboxes) / sizeof(default_mailboxes[0]);
	for (size_t i = 0; i < make; i++) {
		r = mailbox_create_tree(st, default_mailboxes[i].name,
		    default_mailboxes[i].special_use, &id);
		if (r == STORE_EXISTS)
			continue;   /* a session opening the store with us */
		if (r != STORE_OK ||
		    (r = index_subscribe(st->ix, default_mailboxes[i].name,
		    true)) != STORE_OK)
			goto fail;
	}
	return index_commit(st->ix);
fail:
	index_rollback(st->ix);
	return r;
}

/*
 * SQLite needs a path; the store has only a descriptor (the process is
 * chrooted into an empty directory).  So the store directory becomes the
 * current directory, once, here, and index.c opens "index.db" relative to
 * it; blobs and tmp files are reached with the *at() calls on dirfd.  The
 * current directory must stay there while the store is open, which limits
 * a process to one store directory at a time (several opens of the same
 * one, as two sessions of a user, are fine).
 */
static enum store_result
enter_dir(int dirfd, char *err, size_t errlen)
{
	struct stat sb;

	if (fstat(dirfd, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
		snprintf(err, errlen, "store: not a directory descriptor");
		return STORE_ERROR;
	}
	if (current_dir.opens > 0 &&
	    (current_dir.dev != sb.st_dev || current_dir.ino != sb.st_ino)) {
		snprintf(err, errlen, "store: another store directory is open "
		    "in this process");
		return STORE_ERROR;
	}
	if (fchdir(dirfd) != 0) {
		snprintf(err, errlen, "store: fchdir: %s", strerror(errno));
		return STORE_ERROR;
	}
	current_dir.dev = sb.st_dev;
	current_dir.ino = sb.st_ino;
	current_dir.opens++;
	return STORE_OK;
}

enum store_result
store_open(int dirfd, struct store **out, char *err, size_t errlen)
{
	struct store *st;

	*out = NULL;
	last_cause = STORE_CAUSE_OTHER;
	if (enter_dir(dirfd, err, errlen) != STORE_OK)
		return STORE_ERROR;
	st = xcalloc(1, sizeof(*st));
	st->dirfd = dirfd;
	st->watch_fd = -1;
	if (blob_dirs_init(st) != STORE_OK ||
	    index_open(st->err, sizeof(st->err), &st->ix) != STORE_OK ||
	    init_mailboxes(st) != STORE_OK || thread_backfill(st) != STORE_OK) {
		snprintf(err, errlen, "%s", st->err);
		store_close(st);
		return STORE_ERROR;
	}
	*out = st;
	return STORE_OK;
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	store_watch_end(st);
	fts_close(st);
	sortcache_pending_free(st->sk_pending);
	index_close(st->ix);
	current_dir.opens--;
	free(st);
}

enum store_result
store_read_hold(struct store *st)
{
	return index_hold(st->ix);
}

void
store_read_release(struct store *st)
{
	index_release(st->ix);
}
