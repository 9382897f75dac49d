/*
 * IDLE (RFC 2177, RFC 9051 §6.3.13): the client waits, the server tells it
 * of changes as they happen, until the client sends DONE.
 *
 * The session waits in session_fill with a waiter (session.h) that adds
 * the store's change signal (store_watch_begin: inotify on the store
 * directory) to the poll and the keepalive and timeout-idle deadlines to
 * its timeout.  A signal makes the session ask the index what changed
 * since it last looked (session_sync), the same sync every command ends
 * with, so IDLE reports exactly what a NOOP would have.
 *
 * With NOTIFY SET in force, IDLE tells exactly what NOTIFY asks for
 * (RFC 5465 §4: cmd_notify_look) and leaves NOTIFY's watch in place.
 *
 * DONE is read with session_read_line from the session's input buffer, so
 * commands the client pipelined behind it (iOS Mail sends "DONE" and its
 * next command in one packet) stay there for the command loop.
 */
#include "autoconfig.h"

#include <limits.h>
#include <stdio.h>
#include <strings.h>
#include <time.h>

#include "cmd.h"
#include "report.h"

struct idle {
	int64_t end;             /* timeout-idle: BYE then */
	int64_t next_keepalive;  /* "* OK Still here" */
	int64_t next_look;       /* without a change signal: look at the index */
};

/* Is there anything to watch: the selected mailbox, or what NOTIFY asks? */
static bool
idle_watches(const struct session *s)
{
	return s->view != NULL || cmd_notify_active(s);
}

/*
 * Tell what changed: what a NOOP would, or with NOTIFY SET in force
 * exactly what it asks for (RFC 5465 §4).  false: the session ended.
 */
static bool
idle_look(struct session *s)
{
	if (cmd_notify_active(s))
		return cmd_notify_look(s, true);
	return session_sync(s, true);
}

static int
idle_timeout_ms(struct session *s, void *arg)
{
	const struct idle *id = arg;
	int64_t next = id->end < id->next_keepalive ? id->end : id->next_keepalive;
	int64_t now = session_now_ms();

	if (s->waiter->fd < 0 && idle_watches(s) && id->next_look < next)
		next = id->next_look;
	if (next <= now)
		return 0;
	return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

static void
idle_wake(struct session *s, bool fd_ready, void *arg)
{
	struct idle *id = arg;
	int64_t now = session_now_ms();
	bool look = false, keepalive = false;

	if (now >= id->end) {
		/* RFC 2177 §3: a server may log out a client idling too long;
		 * clients re-issue IDLE within 29 minutes. */
		log_info("closing a connection in IDLE for longer than timeout-idle");
		session_bye(s, "Autologout; idle for too long");
		return;
	}
	if (fd_ready)
		look = store_watch_changed(s->store);
	if (s->waiter->fd < 0 && now >= id->next_look) {
		look = true;
		id->next_look = now + STORE_WATCH_POLL_MS;
	}
	if (now >= id->next_keepalive) {
		/* Also a look: a change signal cannot cross every filesystem. */
		look = keepalive = true;
		id->next_keepalive = now + (int64_t)s->cfg->idle_keepalive * 1000;
	}
	if (look && !idle_look(s))
		return;
	if (keepalive)
		session_untagged(s, "OK Still here");
}

/* Wait for the client's DONE; false when the session ended meanwhile. */
static bool
idle_wait_done(struct session *s, bool *done)
{
	const char *line;
	size_t len;
	int r = session_read_line(s, &line, &len);

	*done = r == 0 && len == 4 && strncasecmp(line, "DONE", 4) == 0;
	return r != -2;
}

void
cmd_idle(struct session *s, const struct imap_command *c)
{
	char tag[IMAP_PARSER_MAX_TAG + 1];
	int64_t now = session_now_ms();
	struct idle id = {
		.end = now + (int64_t)s->cfg->timeout_idle * 1000,
		.next_keepalive = now + (int64_t)s->cfg->idle_keepalive * 1000,
		.next_look = now + STORE_WATCH_POLL_MS,
	};
	struct session_waiter w = { -1, idle_timeout_ms, idle_wake, &id, true };
	bool done, alive;

	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "IDLE takes no arguments");
		return;
	}
	/* session_read_line reuses the parser, and with it c. */
	snprintf(tag, sizeof(tag), "%s", c->tag);
	/* Watch first, then look: a commit between the two is not lost. */
	if (idle_watches(s))
		w.fd = store_watch_begin(s->store);
	conn_printf(&s->conn, "+ idling\r\n");
	report_state(s, true);
	s->waiter = &w;
	alive = idle_look(s) && idle_wait_done(s, &done);
	s->waiter = NULL;
	/* NOTIFY keeps the watch for the time between commands. */
	if (s->store != NULL && !cmd_notify_active(s))
		store_watch_end(s->store);
	if (!alive)
		return;
	if (!done) {
		/* RFC 2177: nothing but DONE may come while idling. */
		session_tagged(s, tag, "BAD", "Expected DONE to end IDLE");
		return;
	}
	if (session_sync(s, true))
		session_tagged(s, tag, "OK", "IDLE terminated");
}
