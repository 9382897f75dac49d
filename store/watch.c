/*
 * The change signal: how a session in IDLE or under NOTIFY learns,
 * without polling, that another process (a session of the same user, a
 * delivery, cairnctl) changed the store.
 *
 * Every change to index.db is a commit, and after each commit, once it
 * is visible, the committing process writes a byte to STORE_SIGNAL_FILE in
 * the store directory (index.c, wal_committed).  inotify on that file
 * reports the write; nothing else writes the file, so readers, WAL writes
 * before the commit is visible, and checkpoints wake nobody.
 *
 * Elsewhere (no inotify), or when the user's inotify instances are used
 * up (fs.inotify.max_user_instances, 128 by default, counts every process
 * of the mail user), there is no descriptor and the caller looks at the
 * index every STORE_WATCH_POLL_MS instead.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#ifdef HAVE_SYS_INOTIFY_H
#include <sys/inotify.h>
#endif

#include "store-int.h"

#ifdef HAVE_SYS_INOTIFY_H
int
store_watch_begin(struct store *st)
{
	static bool warned;

	if (st->watch_fd >= 0)
		return st->watch_fd;
	st->watch_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (st->watch_fd < 0) {
		/* Once per process: a pool child may meet this many times. */
		if (!warned)
			log_warn("inotify (the change signal of IDLE and NOTIFY falls "
			    "back to looking every %d ms; see "
			    "fs.inotify.max_user_instances)", STORE_WATCH_POLL_MS);
		warned = true;
		return -1;
	}
	/*
	 * The file itself, not the directory: a watch on the directory would
	 * also wake every idler at each write to index.db-wal.  The file is
	 * made here if no commit has made it yet (the current directory is
	 * the store's: store_open).
	 */
	int fd = open(STORE_SIGNAL_FILE, O_WRONLY | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd < 0 || inotify_add_watch(st->watch_fd, STORE_SIGNAL_FILE,
	    IN_MODIFY) < 0) {
		log_warn("watching %s", STORE_SIGNAL_FILE);
		close(st->watch_fd);
		st->watch_fd = -1;
	}
	if (fd >= 0)
		close(fd);
	return st->watch_fd;
}

bool
store_watch_changed(struct store *st)
{
	/* Aligned as struct inotify_event requires; holds many events. */
	union {
		struct inotify_event ev;
		char raw[4096];
	} u;
	bool changed = false;
	ssize_t n;

	if (st->watch_fd < 0)
		return true;
	/* The one watch is the signal file's: any event (or IN_Q_OVERFLOW,
	 * events lost) is a commit; read them all so poll() sleeps again. */
	while ((n = read(st->watch_fd, u.raw, sizeof(u.raw))) > 0)
		changed = true;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		changed = true;   /* cannot tell: look at the index */
	return changed;
}

void
store_watch_end(struct store *st)
{
	if (st->watch_fd >= 0)
		close(st->watch_fd);
	st->watch_fd = -1;
}
#else
int
store_watch_begin(struct store *st)
{
	(void)st;
	return -1;
}

bool
store_watch_changed(struct store *st)
{
	(void)st;
	return true;
}

void
store_watch_end(struct store *st)
{
	(void)st;
}
#endif
