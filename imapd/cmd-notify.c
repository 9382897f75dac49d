/*
 * NOTIFY (RFC 5465): the client says which events it wants to hear of,
 * and hears of them at once, between commands as well as in IDLE.
 *
 * The change signal of IDLE (store_watch_begin: inotify on the store
 * directory, written to after every commit by any process) is held for
 * as long as NOTIFY SET is in force, one inotify instance per such
 * session; without one (no inotify, or the mail user's instances used
 * up) the session looks every STORE_WATCH_POLL_MS.  Between commands
 * session_fill polls it through the waiter of cmd_notify_waiter, only
 * while no byte of a command has come: then untagged responses cannot
 * fall inside a command, and an EXPUNGE may go out (§3.1, RFC 9051
 * §7.5.1).  On a signal, cmd_notify_look tells:
 *
 *  - of the selected mailbox, what SELECTED asks: EXISTS, EXPUNGE (or
 *    VANISHED) and FETCH FLAGS as a NOOP would, flags only with
 *    FlagChange, expunges held back under SELECTED-DELAYED until a
 *    command that allows them (§6.1.2);
 *  - of the other mailboxes, what changed since the last look
 *    (notify.c): STATUS for messages, LIST for names and subscriptions.
 *
 * Changes this session's own commands make are not told (§5): the store
 * does not say who made a change, so each command names the mailboxes it
 * changed (cmd_notify_own), and the look after the command
 * (cmd_notify_after) leaves them out while it tells what other sessions
 * changed meanwhile.
 *
 * For MessageNew's fetch attributes, every sync that tells the client of
 * new messages in the selected mailbox -- NOTIFY's look, or the one a
 * command ends with -- follows their EXISTS with a FETCH of each
 * (cmd_notify_new_messages, §5.2), but of none this session stored
 * itself (APPEND, COPY, MOVE: the client knows them, §5.2).
 */
#include "autoconfig.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cmd.h"
#include "notify.h"
#include "select.h"
#include "xmalloc.h"

struct notify {
	struct notify_spec spec;
	struct notify_snap snap;     /* the last look; empty without others */
	bool active;                 /* false after an overflow (§5.8) */
	int fd;                      /* the change signal; -1: look by time */
	struct session_waiter waiter;
	int64_t next_look;           /* without fd */
	struct notify_own own;       /* changed by this session's commands */
	struct seqset own_uids;      /* ... and stored in the selected mailbox */
};

/* ---- looks at the other mailboxes ------------------------------------------- */

struct take {
	struct notify_snap *sn;
	bool over;                   /* more than NOTIFY_MAX_MAILBOXES */
};

static int
take_mailbox(const struct store_mailbox *mb, void *arg)
{
	struct take *t = arg;

	if (notify_snap_size(t->sn) >= NOTIFY_MAX_MAILBOXES) {
		t->over = true;
		return 1;
	}
	notify_snap_add(t->sn, mb);
	return 0;
}

static int
take_subscription(const char *name, void *arg)
{
	struct take *t = arg;

	if (notify_snap_size(t->sn) >= NOTIFY_MAX_MAILBOXES) {
		t->over = true;
		return 1;
	}
	notify_snap_add_sub(t->sn, name);
	return 0;
}

/* The counts of the mailboxes message events watch; old's where nothing
 * moved, so that a look costs a STATUS only for what changed. */
static bool
take_counts(struct session *s, const struct notify_spec *sp,
    const struct notify_snap *old, struct notify_snap *cur)
{
	for (size_t i = 0; i < cur->n; i++) {
		struct notify_mbox *m = &cur->mb[i];
		const struct notify_mbox *o;
		enum store_result r;

		if (!notify_wants_counts(sp, m))
			continue;
		if ((o = notify_snap_get(old, m->name)) != NULL &&
		    notify_same_counts(o, m)) {
			m->st = o->st;
			m->counted = true;
			continue;
		}
		r = store_mailbox_status(s->store, m->name, &m->st);
		if (r == STORE_OK)
			m->counted = true;
		else if (r != STORE_NOT_FOUND)    /* gone meanwhile: next look */
			return false;
	}
	return true;
}

/* 0; 1 over NOTIFY_MAX_MAILBOXES; -1 on a store error (logged). */
static int
notify_take(struct session *s, const struct notify_spec *sp,
    const struct notify_snap *old, struct notify_snap *cur)
{
	struct take t = { cur, false };

	memset(cur, 0, sizeof(*cur));
	if (store_mailbox_list(s->store, take_mailbox, &t) != STORE_OK ||
	    (!t.over && store_subscriptions(s->store, take_subscription,
	    &t) != STORE_OK)) {
		log_warnx("NOTIFY: mailbox list: %s", store_error(s->store));
		notify_snap_free(cur);
		return -1;
	}
	if (t.over) {
		notify_snap_free(cur);
		return 1;
	}
	notify_snap_finish(cur);
	if (!take_counts(s, sp, old, cur)) {
		log_warnx("NOTIFY: STATUS: %s", store_error(s->store));
		notify_snap_free(cur);
		return -1;
	}
	return 0;
}

/* ---- responses ------------------------------------------------------------------ */

static const struct {
	unsigned item, status;
} status_items[] = {
	{ NOTIFY_ITEM_MESSAGES, CMD_STATUS_MESSAGES },
	{ NOTIFY_ITEM_UIDNEXT, CMD_STATUS_UIDNEXT },
	{ NOTIFY_ITEM_UIDVALIDITY, CMD_STATUS_UIDVALIDITY },
	{ NOTIFY_ITEM_UNSEEN, CMD_STATUS_UNSEEN },
	{ NOTIFY_ITEM_HIGHESTMODSEQ, CMD_STATUS_HIGHESTMODSEQ },
};

static void
send_status(struct session *s, const char *name, unsigned items,
    const struct store_status *st)
{
	unsigned want = 0;

	for (size_t i = 0; i < sizeof(status_items) / sizeof(status_items[0]); i++)
		if (items & status_items[i].item)
			want |= status_items[i].status;
	cmd_status_send(s, name, want, st, 0);     /* NOTIFY asks no APPENDLIMIT */
}

/* notify.c's attributes are those of cmd_list_send */
_Static_assert(NOTIFY_ATTR_NONEXISTENT == CMD_LIST_NONEXISTENT &&
    NOTIFY_ATTR_NOSELECT == CMD_LIST_NOSELECT &&
    NOTIFY_ATTR_HASCHILDREN == CMD_LIST_HASCHILDREN &&
    NOTIFY_ATTR_HASNOCHILDREN == CMD_LIST_HASNOCHILDREN &&
    NOTIFY_ATTR_SUBSCRIBED == CMD_LIST_SUBSCRIBED,
    "NOTIFY_ATTR_* and CMD_LIST_* differ");

/* "* LIST (attrs) "/" name" and, after RENAME, ("OLDNAME" (old)) (§5.4). */
static void
send_list(struct session *s, const struct notify_note *nt)
{
	const struct cmd_list_line l = {
		.name = nt->name,
		.attrs = nt->attrs,
		.special_use = nt->special_use,
		.oldname = nt->oldname,
	};

	cmd_list_send(s, &l);
}

/* §5.8: too much to watch; as if NOTIFY NONE had come.  The watch ends
 * when no waiter holds it (cmd_notify_waiter, or the end of IDLE). */
static void
notify_overflow(struct session *s, struct notify *n)
{
	log_info("NOTIFY: more than %d mailboxes and subscriptions; notifications "
	    "end", NOTIFY_MAX_MAILBOXES);
	session_untagged(s, "OK [NOTIFICATIONOVERFLOW] More than %d mailboxes to "
	    "watch; NOTIFY is now off", NOTIFY_MAX_MAILBOXES);
	n->active = false;
	n->waiter.fd = -1;
}

static int64_t
selected_id(const struct session *s)
{
	return s->view != NULL ? store_view_mailbox(s->view)->id : 0;
}

/* The other mailboxes: a new look, and what changed since the last. */
static void
look_others(struct session *s, struct notify *n)
{
	struct notify_snap cur;
	struct notify_notes notes = { NULL, 0, 0 };
	int rc = notify_take(s, &n->spec, &n->snap, &cur);

	if (rc < 0)
		return;           /* logged; the next signal looks again */
	if (rc > 0) {
		notify_overflow(s, n);
		return;
	}
	notify_diff(&n->snap, &cur, &n->spec, selected_id(s), select_condstore(s),
	    &n->own, &notes);
	notify_own_clear(&n->own);
	for (size_t i = 0; i < notes.n; i++) {
		if (notes.v[i].list)
			send_list(s, &notes.v[i]);
		else
			send_status(s, notes.v[i].name, notes.v[i].items, notes.v[i].st);
	}
	notify_notes_free(&notes);
	notify_snap_free(&n->snap);
	n->snap = cur;
}

/* The selected mailbox, as SELECTED asks (§5.1-§5.3, §6.1); the sync
 * adds MessageNew's FETCH (cmd_notify_new_messages). */
static bool
look_selected(struct session *s, struct notify *n, bool in_idle)
{
	const struct notify_spec *sp = &n->spec;

	if (s->view == NULL || !sp->selected || sp->selected_events == 0)
		return true;
	return session_sync_flags(s, in_idle || !sp->delayed,
	    (sp->selected_events & NOTIFY_FLAG_CHANGE) != 0);
}

bool
cmd_notify_new_messages(struct session *s, uint32_t last)
{
	struct notify *n = s->notify;
	uint32_t exists, *uids;
	size_t k = 0, m = 0;
	bool ok;

	if (n == NULL || !n->active || !n->spec.selected || !n->spec.fetch_set ||
	    s->view == NULL)
		return true;
	/* The new messages are the last ones, above the UID known before. */
	exists = store_view_exists(s->view);
	while (k < exists && store_view_uid(s->view, exists - k) > last)
		k++;
	if (k == 0)
		return true;
	uids = xreallocarray(NULL, k, sizeof(*uids));
	for (size_t i = 0; i < k; i++) {
		uint32_t uid = store_view_uid(s->view, exists - k + 1 + (uint32_t)i);

		if (!seqset_contains(&n->own_uids, uid))
			uids[m++] = uid;
	}
	ok = m == 0 || cmd_fetch_send(s, &n->spec.fetch, uids, m);
	free(uids);
	return ok || s->state != SESSION_LOGOUT;
}

bool
cmd_notify_look(struct session *s, bool in_idle)
{
	struct notify *n = s->notify;

	if (n == NULL || !n->active)
		return true;
	if (!look_selected(s, n, in_idle))
		return false;
	if (notify_watches_others(&n->spec))
		look_others(s, n);
	return s->state != SESSION_LOGOUT;
}

/* ---- this session's own changes (§5) ------------------------------------------ */

void
cmd_notify_own(struct session *s, const char *name)
{
	if (s->notify != NULL && s->notify->active)
		notify_own_add(&s->notify->own, name);
}

void
cmd_notify_own_new(struct session *s, const char *mailbox, uint32_t uidvalidity,
    const uint32_t *uids, size_t n)
{
	struct notify *nt = s->notify;

	if (nt == NULL || !nt->active)
		return;
	notify_own_add(&nt->own, mailbox);
	/* UIDVALIDITY is unique in a store: the selected mailbox? */
	if (!nt->spec.fetch_set || s->view == NULL ||
	    store_view_mailbox(s->view)->uidvalidity != uidvalidity)
		return;
	for (size_t i = 0; i < n; i++)
		if (uids[i] != 0)
			seqset_add_range(&nt->own_uids, uids[i], uids[i]);
}

void
cmd_notify_after(struct session *s)
{
	struct notify *n = s->notify;

	if (n == NULL)
		return;
	/* the command's closing sync told of them, if it was to */
	seqset_clear(&n->own_uids);
	if (n->own.n == 0)
		return;
	/* take the own changes in now, before a signal shows them as news */
	if (n->active && notify_watches_others(&n->spec) &&
	    s->state != SESSION_LOGOUT)
		look_others(s, n);
	notify_own_clear(&n->own);
}

/* ---- waiting between commands ------------------------------------------------ */

static int
notify_timeout_ms(struct session *s, void *arg)
{
	const struct notify *n = arg;
	int64_t now = session_now_ms();

	(void)s;
	if (!n->active || n->waiter.fd >= 0)
		return INT_MAX;     /* woken by the watch; session_poll_ms bounds it */
	if (n->next_look <= now)
		return 0;
	return n->next_look - now > INT_MAX ? INT_MAX : (int)(n->next_look - now);
}

static void
notify_wake(struct session *s, bool fd_ready, void *arg)
{
	struct notify *n = arg;
	int64_t now = session_now_ms();
	bool look = false;

	if (fd_ready)
		look = store_watch_changed(s->store);
	if (n->waiter.fd < 0 && now >= n->next_look) {
		look = true;
		n->next_look = now + STORE_WATCH_POLL_MS;
	}
	if (look)
		(void)cmd_notify_look(s, false);
}

struct session_waiter *
cmd_notify_waiter(struct session *s)
{
	struct notify *n = s->notify;

	if (n == NULL)
		return NULL;
	if (!n->active) {
		/* after an overflow, once no waiter holds the watch */
		cmd_notify_free(s);
		return NULL;
	}
	/* Not inside a command: its literal may be on the way. */
	if (!imap_parser_at_start(s->parser))
		return NULL;
	n->next_look = session_now_ms() + STORE_WATCH_POLL_MS;
	n->waiter.fd = n->fd;
	return &n->waiter;
}

bool
cmd_notify_active(const struct session *s)
{
	return s->notify != NULL && s->notify->active;
}

void
cmd_notify_free(struct session *s)
{
	struct notify *n = s->notify;

	if (n == NULL)
		return;
	if (s->store != NULL)
		store_watch_end(s->store);
	notify_spec_free(&n->spec);
	notify_snap_free(&n->snap);
	notify_own_clear(&n->own);
	seqset_free(&n->own_uids);
	free(n);
	s->notify = NULL;
}

/* ---- the command ----------------------------------------------------------------- */

static int
notify_name(void *arg, const struct imap_arg *a, struct buf *out, const char **why)
{
	switch (cmd_mailbox_decode(arg, a, false, out, why)) {
	case CMD_NAME_OK:
		return 0;
	case CMD_NAME_BAD:
		return -1;
	default:
		return 1;
	}
}

/* NOTIFY SET STATUS (§3.1): each mailbox a message event watches. */
static void
initial_status(struct session *s, const struct notify *n)
{
	int64_t sel = selected_id(s);

	for (size_t i = 0; i < n->snap.n; i++) {
		const struct notify_mbox *m = &n->snap.mb[i];
		unsigned items = notify_initial_items(&n->spec, m);

		if (m->counted && m->id != sel && items != 0)
			send_status(s, m->name, items, &m->st);
	}
}

/* NOTIFY SET: the new state replaces the old once it is whole. */
static void
notify_set(struct session *s, const char *tag, struct notify_spec *sp)
{
	struct notify *n = xcalloc(1, sizeof(*n));
	struct notify_snap empty = { NULL, 0, 0, NULL, 0, 0 };
	bool had_watch = s->notify != NULL;
	int rc = 0;

	n->spec = *sp;
	memset(sp, 0, sizeof(*sp));
	/* Watch first, then look: a commit between the two is not lost. */
	n->fd = store_watch_begin(s->store);
	if (notify_watches_others(&n->spec))
		rc = notify_take(s, &n->spec, &empty, &n->snap);
	if (rc != 0) {
		if (!had_watch)
			store_watch_end(s->store);
		notify_spec_free(&n->spec);
		free(n);
		if (rc > 0)
			session_tagged(s, tag, "NO", "[NOTIFICATIONOVERFLOW] More than "
			    "%d mailboxes and subscriptions to watch", NOTIFY_MAX_MAILBOXES);
		else
			session_tagged(s, tag, "NO", "[SERVERBUG] NOTIFY failed: internal "
			    "error in the mail store");
		return;
	}
	if (n->spec.status)
		initial_status(s, n);
	if (s->notify != NULL) {
		/* the watch is the store's, and stays for the new state */
		notify_spec_free(&s->notify->spec);
		notify_snap_free(&s->notify->snap);
		notify_own_clear(&s->notify->own);
		seqset_free(&s->notify->own_uids);
		free(s->notify);
	}
	n->active = true;
	n->waiter.fd = n->fd;
	n->waiter.timeout_ms = notify_timeout_ms;
	n->waiter.wake = notify_wake;
	n->waiter.arg = n;
	s->notify = n;
	log_debug("NOTIFY SET: %zu groups, %zu mailboxes and subscriptions "
	    "watched%s", n->spec.n_groups + (n->spec.selected ? 1 : 0),
	    notify_snap_size(&n->snap), n->fd < 0 ? ", looking by time" : "");
	/* §3.1: NOTIFY SET implies a NOOP. */
	cmd_mailbox_done(s, tag, "NOTIFY");
}

void
cmd_notify(struct session *s, const struct imap_command *c)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	switch (notify_parse(c->args, c->nargs, notify_name, s, &sp, why,
	    sizeof(why))) {
	case NOTIFY_PARSE_BAD:
		session_tagged(s, c->tag, "BAD", "%s", why);
		break;
	case NOTIFY_PARSE_BADEVENT:
		/* §3.1: NO, with every event this server offers */
		session_tagged(s, c->tag, "NO", "[BADEVENT (" NOTIFY_SUPPORTED_EVENTS
		    ")] %s", why);
		break;
	case NOTIFY_PARSE_OK:
		if (sp.none) {
			cmd_notify_free(s);
			cmd_mailbox_done(s, c->tag, "NOTIFY");
		} else {
			notify_set(s, c->tag, &sp);
		}
		break;
	}
	notify_spec_free(&sp);
}
