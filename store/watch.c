/*
 * The change signal: how a session in IDLE or under NOTIFY learns,
 * without polling, that another process (a session of the same user, a
 * delivery, cairnctl) changed the store.
 *
 * Every change to index.db is a commit, and after each commit, once it
 * is visible, the committing process writes a byte to STORE_SIGNAL_FILE in
 * the store directory (index.c, wal_committed).  inotify on the directory
 * reports that write by name; nothing else writes the file, so readers and
 * checkpoints wake nobody.  The watch is on the directory, not the file,
 * because the file appears only with the first commit of a new store.
 *
 * Elsewhere (no inotify), or when the user's inotify instances are used
 * up (fs.inotify.max_user_instances, 128 by default, counts every process
 * of the mail user), there is no descriptor and the caller looks at the
 * index every STORE_WATCH_POLL_MS instead.
 */
#include "autoconfig.h"

#include <errno.h>
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
	/* The current directory is the store's (store_open). */
	if (inotify_add_watch(st->watch_fd, ".", IN_MODIFY | IN_CREATE |
	    IN_ONLYDIR) < 0) {
		log_warn("inotify_add_watch on the store");
		close(st->watch_fd);
		st->watch_fd = -1;
	}
	return st->watch_fd;
}

bool
store_watch_changed(struct store *st)
{
	/* Aligned as struct inotify_event requires; holds several events. */
	union {
		struct inotify_event ev;
		char raw[4096];
	} u;
	bool changed = false;
	ssize_t n;

	if (st->watch_fd < 0)
		return true;
	while ((n = read(st->watch_fd, u.raw, sizeof(u.raw))) > 0) {
		for (ssize_t off = 0; off + (ssize_t)sizeof(struct inotify_event) <= n;) {
			const struct inotify_event *ev =
			    (const struct inotify_event *)(u.raw + off);

			/* IN_Q_OVERFLOW: events were lost, so assume a commit. */
			if ((ev->mask & IN_Q_OVERFLOW) || (ev->len > 0 &&
			    strncmp(ev->name, STORE_SIGNAL_FILE, ev->len) == 0))
				changed = true;
			off += (ssize_t)sizeof(struct inotify_event) + ev->len;
		}
	}
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
