/*
 * QRESYNC on the wire (RFC 7162 §3.2): expunges as VANISHED once it is
 * enabled (§3.2.10.2), VANISHED (EARLIER) for UID FETCH (CHANGEDSINCE n
 * VANISHED) (§3.2.6), and the resynchronisation SELECT and EXAMINE make
 * with the QRESYNC parameter (§3.2.5).  The helpers of select.h; the sets
 * and lines themselves come from qresync.c.
 *
 * What a client that was away is told rests on the tombstones (store.h,
 * STORE_TOMBSTONE_DAYS).  While they reach back to its modseq the answer
 * is exact.  When it is older than the newest purged one, the server can
 * no longer say what went when, and names every UID it may know of (its
 * known-uids, or 1:UIDNEXT-1) that is not in the mailbox, above what the
 * seq-match-data shows it knows (§3.2.5.2): more than went since, never
 * less.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdlib.h>

#include "flags.h"
#include "qresync.h"
#include "select.h"

static void
emit_line(void *arg, const struct buf *line)
{
	session_untagged_buf(arg, line);
}

void
select_expunged(void *arg, const uint32_t *msn, const uint32_t *uid, size_t n)
{
	struct session *s = arg;
	struct seqset set = SEQSET_INIT;

	if (!(s->enabled & SESSION_ENABLED_QRESYNC)) {
		for (size_t i = 0; i < n; i++)
			session_untagged(s, "%u EXPUNGE", msn[i]);
		return;
	}
	/* §3.2.10.2: instead of EXPUNGE, for the rest of the connection;
	 * UIDs, so the order no longer matters and ranges say it shortly. */
	qresync_set_from_uids(uid, n, &set);
	qresync_vanished_lines(&set, false, QRESYNC_LINE_MAX, emit_line, s);
	seqset_free(&set);
}

int
select_vanished_earlier(struct session *s, const struct seqset *set,
    uint64_t since, uint32_t floor)
{
	const struct store_mailbox *mb = store_view_mailbox(s->view);
	struct seqset gone = SEQSET_INIT;
	uint32_t *uids = NULL;
	size_t n = 0;
	bool complete = false;

	if (store_view_vanished(s->view, since, &uids, &n, &complete) != STORE_OK) {
		log_warnx("store: %s", store_error(s->store));
		return -1;
	}
	if (complete) {
		/* Ascending: each add is O(1). */
		for (size_t i = 0; i < n; i++)
			if (seqset_contains(set, uids[i]))
				seqset_add_range(&gone, uids[i], uids[i]);
	} else {
		log_debug("QRESYNC from modseq %" PRIu64 ": older than the "
		    "tombstones kept, naming every UID not in the mailbox", since);
		qresync_missing(set, floor, mb->uidnext, select_view_uid_at, s->view,
		    store_view_exists(s->view), &gone);
	}
	free(uids);
	qresync_vanished_lines(&gone, true, QRESYNC_LINE_MAX, emit_line, s);
	seqset_free(&gone);
	return 0;
}

struct resync_fetch {
	struct session *s;
	const struct seqset *known;
};

/* §3.2.5.1: "FETCH responses that MUST contain UIDs", with FLAGS and, as
 * QRESYNC implies CONDSTORE, MODSEQ. */
static int
resync_fetch_one(void *arg, uint32_t msn, const struct store_message *m)
{
	struct resync_fetch *f = arg;

	if (seqset_contains(f->known, m->uid))
		session_send_flags(f->s, msn, m);
	return 0;
}

int
select_resync(struct session *s, const struct qresync_param *q)
{
	const struct store_mailbox *mb = store_view_mailbox(s->view);
	struct resync_fetch f = { s, &q->known };
	struct seqset all = SEQSET_INIT;
	uint32_t floor;
	int rc = 0;

	/* §3.2.5: another UIDVALIDITY, and the rest of the parameter is
	 * ignored; the client sees the new one. */
	if (q->uidvalidity != mb->uidvalidity)
		return 0;
	/* §3.2.5.1: no known-uids is 1:<UIDNEXT - 1>; an empty set when the
	 * mailbox never had a message. */
	if (q->known.n == 0) {
		if (mb->uidnext > 1)
			seqset_add_range(&all, 1, mb->uidnext - 1);
		f.known = &all;
	}
	floor = qresync_match_floor(q, select_view_uid_at, s->view);
	/* VANISHED before any FETCH (§3.2.6), so message numbers stay clear. */
	if (select_vanished_earlier(s, f.known, q->modseq, floor) != 0)
		rc = -1;
	else if (store_view_changed(s->view, q->modseq, resync_fetch_one,
	    &f) != STORE_OK) {
		log_warnx("store: %s", store_error(s->store));
		rc = -1;
	}
	seqset_free(&all);
	return rc;
}
