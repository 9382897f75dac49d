/*
 * Entering and leaving the selected state: SELECT and EXAMINE (RFC 9051
 * §6.3.2, §6.3.3, with RFC 7162's CONDSTORE and QRESYNC parameters),
 * CLOSE (§6.4.1), UNSELECT (RFC 3691), CHECK (RFC 3501 §6.4.1), EXPUNGE
 * (§6.4.3) and UID EXPUNGE (RFC 4315 §2.1); and the helpers of select.h.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "flags.h"
#include "mutf7.h"
#include "objectid.h"
#include "select.h"
#include "seqset.h"
#include "xmalloc.h"

/* ---- sequence sets (select.h) ------------------------------------------- */

uint32_t
select_view_uid_at(void *view, uint32_t msn)
{
	return store_view_uid(view, msn);
}

/* The view's UIDs inside the ranges of a normal set of UIDs. */
static size_t
uids_by_uid(struct store_view *v, const struct seqset *set, uint32_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < set->n; i++) {
		uint32_t msn = qresync_msn_from_uid(select_view_uid_at, v,
		    store_view_exists(v), set->r[i].lo);
		uint32_t uid;

		while ((uid = store_view_uid(v, msn++)) != 0 && uid <= set->r[i].hi)
			out[n++] = uid;
	}
	return n;
}

/* The UIDs of a normal set of MSNs, all of them at most EXISTS. */
static size_t
uids_by_msn(struct store_view *v, const struct seqset *set, uint32_t *out)
{
	struct seqset_iter it;
	uint32_t msn;
	size_t n = 0;

	for (bool ok = seqset_first(set, &it, &msn); ok; ok = seqset_next(set, &it, &msn))
		out[n++] = store_view_uid(v, msn);
	return n;
}

/*
 * "$" (RFC 5182 §2.1): the view's messages whose UIDs the saved result
 * holds, for FETCH $ and UID FETCH $ alike.  Expunged messages have left
 * the view, so they have left "$" too; an empty result, or none saved,
 * names no message, which is no error: FETCH $ then answers a bare OK.
 */
static void
uids_saved(struct session *s, uint32_t **uids, size_t *n)
{
	uint64_t most = seqset_count(&s->searchres);
	uint32_t exists = store_view_exists(s->view);

	if (most > exists)
		most = exists;
	*uids = xreallocarray(NULL, most ? (size_t)most : 1, sizeof(**uids));
	*n = uids_by_uid(s->view, &s->searchres, *uids);
}

int
select_uids(struct session *s, const struct imap_arg *arg, bool by_uid,
    uint32_t **uids, size_t *n, const char **why)
{
	struct seqset set = SEQSET_INIT;
	uint32_t exists = store_view_exists(s->view);
	uint64_t most;
	int rc;

	*uids = NULL;
	*n = 0;
	if (arg->type != IMAP_ARG_ATOM) {
		*why = "Expected a sequence set";
		return -1;
	}
	if ((rc = seqset_parse(arg->str, arg->len, &set, why)) == 1) {
		uids_saved(s, uids, n);
		return 0;
	}
	if (rc != 0)
		return -1;
	seqset_resolve(&set, by_uid ? store_view_uid(s->view, exists) : exists);
	if (!by_uid && (exists == 0 || seqset_max(&set) > exists)) {
		seqset_free(&set);
		*why = "Invalid message sequence number";
		return -1;
	}
	most = seqset_count(&set);
	if (most > exists)
		most = exists;
	*uids = xreallocarray(NULL, most ? (size_t)most : 1, sizeof(**uids));
	*n = by_uid ? uids_by_uid(s->view, &set, *uids) :
	    uids_by_msn(s->view, &set, *uids);
	seqset_free(&set);
	return 0;
}

/* ---- names, CONDSTORE, closing (select.h) ------------------------------- */

int
select_mailbox_name(const struct session *s, const struct imap_arg *arg,
    struct buf *utf8, const char **why)
{
	/* One decoder for every command (cmd-mailbox.c); here as 0/-1/1. */
	switch (cmd_mailbox_decode(s, arg, false, utf8, why)) {
	case CMD_NAME_OK:
		return 0;
	case CMD_NAME_BAD:
		return -1;
	default:
		return 1;
	}
}

int
select_parse_modseq(const struct imap_arg *arg, uint64_t *out)
{
	/* a mod-sequence has 63 bits (RFC 7162 §7), as number64 */
	return imap_arg_number64(arg, out);
}

bool
select_condstore(const struct session *s)
{
	/* QRESYNC implies CONDSTORE (RFC 7162 §3.2.3). */
	return (s->enabled & (SESSION_ENABLED_CONDSTORE | SESSION_ENABLED_QRESYNC)) != 0;
}

void
select_enable_condstore(struct session *s)
{
	if (select_condstore(s))
		return;
	s->enabled |= SESSION_ENABLED_CONDSTORE;
	if (s->view != NULL)
		session_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
		    store_view_mailbox(s->view)->highestmodseq);
}

void
select_close(struct session *s)
{
	/* RFC 5182 §2.1: the saved result belongs to the selected mailbox;
	 * SELECT and EXAMINE come here first, so they start with it empty. */
	seqset_free(&s->searchres);
	store_view_close(s->view);
	s->view = NULL;
	s->view_readonly = false;
	s->state = SESSION_AUTHENTICATED;
}

void
select_store_failed(struct session *s, const char *tag)
{
	log_warnx("store: %s", store_error(s->store));
	session_store_failed(s, tag, store_error_cause(), "Internal error in "
	    "the mail store");
}

int
select_send_flags(struct session *s)
{
	struct buf line = BUF_INIT;
	int rc = -1;

	buf_append_str(&line, "FLAGS ");
	if (flags_format_mailbox(s->view, false, &line) != 0)
		goto out;
	session_untagged_buf(s, &line);
	buf_reset(&line);
	/* EXAMINE: nothing may be changed, so nothing is permanent. */
	if (s->view_readonly) {
		session_untagged(s, "OK [PERMANENTFLAGS ()] No permanent flags permitted");
		rc = 0;
		goto out;
	}
	buf_append_str(&line, "OK [PERMANENTFLAGS ");
	if (flags_format_mailbox(s->view, true, &line) != 0)
		goto out;
	buf_append_str(&line, "] Flags permitted");
	session_untagged_buf(s, &line);
	rc = 0;
out:
	buf_free(&line);
	return rc;
}

/* ---- SELECT, EXAMINE ---------------------------------------------------- */

/* What the select-params asked for. */
struct select_opts {
	bool condstore;
	bool qresync;
	struct qresync_param q;
};

/*
 * select-params (RFC 4466 §2.1): "(" select-param *(SP select-param) ")";
 * we know CONDSTORE (RFC 7162 §3.1.8) and QRESYNC (...) (§3.2.5).  0, or
 * -1 with *why (NULL: say what SELECT takes).
 */
static int
select_params(const struct imap_command *c, struct select_opts *o,
    const char **why)
{
	const struct imap_arg *p = c->nargs == 2 ? &c->args[1] : NULL;

	*why = NULL;
	if (c->nargs == 1)
		return 0;
	if (p == NULL || p->type != IMAP_ARG_LIST || p->list_count == 0)
		return -1;
	for (size_t i = 0; i < p->list_count; i++) {
		const struct imap_arg *a = &p->list[i];

		if (a->type != IMAP_ARG_ATOM)
			return -1;
		if (strcasecmp(a->str, "CONDSTORE") == 0) {
			o->condstore = true;
			continue;
		}
		if (strcasecmp(a->str, "QRESYNC") != 0 || o->qresync ||
		    i + 1 == p->list_count)
			return -1;
		if (qresync_parse(&p->list[++i], &o->q, why) != 0)
			return -1;
		o->qresync = true;
	}
	return 0;
}

/* The MSN of the first message without \Seen, 0 when there is none. */
static uint32_t
first_unseen(struct session *s)
{
	uint32_t msn;

	return store_view_first_unseen(s->view, &msn) == STORE_OK ? msn : 0;
}

/* §6.3.2's untagged responses; RECENT and UNSEEN are IMAP4rev1's alone. */
static int
select_report(struct session *s)
{
	const struct store_mailbox *mb = store_view_mailbox(s->view);
	bool rev1 = !(s->enabled & SESSION_ENABLED_IMAP4REV2);
	char id[OBJECTID_BUF];
	uint32_t unseen;

	session_untagged(s, "%u EXISTS", store_view_exists(s->view));
	if (rev1)
		session_untagged(s, "%u RECENT", store_view_recent(s->view));
	if (select_send_flags(s) != 0)
		return -1;
	if (rev1 && (unseen = first_unseen(s)) != 0)
		session_untagged(s, "OK [UNSEEN %u] First unseen", unseen);
	session_untagged(s, "OK [UIDVALIDITY %u] UIDs valid", mb->uidvalidity);
	session_untagged(s, "OK [UIDNEXT %u] Predicted next UID", mb->uidnext);
	objectid_mailbox(mb->uidvalidity, id);
	session_untagged(s, "OK [MAILBOXID (%s)] Ok", id);     /* RFC 8474 §4.2 */
	/* RFC 7162 §3.1.2.1: with every SELECT, as modseqs are persistent. */
	session_untagged(s, "OK [HIGHESTMODSEQ %" PRIu64 "] Highest",
	    mb->highestmodseq);
	return 0;
}

/*
 * The arguments, all of them checked before the selected mailbox is
 * closed (RFC 7162 §3.2.5: a BAD leaves the state as it was).  0 with
 * name (UTF-8) and *rc as select_mailbox_name()'s; -1 when BAD was sent.
 */
static int
select_args(struct session *s, const struct imap_command *c, const char *cmd,
    struct select_opts *o, struct buf *name, int *rc)
{
	const char *why = NULL;

	if (c->nargs < 1 || c->nargs > 2 || select_params(c, o, &why) != 0) {
		if (why != NULL)
			session_tagged(s, c->tag, "BAD", "%s", why);
		else
			session_tagged(s, c->tag, "BAD", "%s takes a mailbox name "
			    "and optionally (CONDSTORE) or (QRESYNC (...))", cmd);
		return -1;
	}
	/* §3.2.3: only after ENABLE QRESYNC. */
	if (o->qresync && !(s->enabled & SESSION_ENABLED_QRESYNC)) {
		session_tagged(s, c->tag, "BAD", "QRESYNC needs ENABLE QRESYNC "
		    "first");
		return -1;
	}
	if ((*rc = select_mailbox_name(s, &c->args[0], name, &why)) < 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return -1;
	}
	return 0;
}

static void
select_open(struct session *s, const struct imap_command *c, bool readonly)
{
	const char *cmd = readonly ? "EXAMINE" : "SELECT";
	struct select_opts o = { false, false, QRESYNC_PARAM_INIT };
	struct buf name = BUF_INIT;
	enum store_result r;
	int rc = 0;

	if (select_args(s, c, cmd, &o, &name, &rc) != 0)
		goto out;
	/* §6.3.2: the old mailbox is closed, without expunging, even if the
	 * new one cannot be selected; CLOSED marks the boundary (§7.1). */
	if (s->view != NULL) {
		select_close(s);
		session_untagged(s, "OK [CLOSED] Previous mailbox closed");
	}
	/* A name no mailbox can have is one that does not exist. */
	r = rc == 1 ? STORE_NOT_FOUND : store_view_open(s->store,
	    name.data != NULL ? name.data : "", readonly, &s->view);
	if (r == STORE_NOT_FOUND || r == STORE_INVALID) {
		session_tagged(s, c->tag, "NO", "[NONEXISTENT] No such mailbox");
		goto out;
	}
	if (r != STORE_OK) {
		select_store_failed(s, c->tag);
		goto out;
	}
	s->view_readonly = readonly;
	s->state = SESSION_SELECTED;
	if (o.condstore)
		s->enabled |= SESSION_ENABLED_CONDSTORE;
	/* The resynchronisation comes after the usual responses (§3.2.5). */
	if (select_report(s) != 0 || (o.qresync && select_resync(s, &o.q) != 0)) {
		select_close(s);
		select_store_failed(s, c->tag);
		goto out;
	}
	session_tagged(s, c->tag, "OK", "[%s] %s completed",
	    readonly ? "READ-ONLY" : "READ-WRITE", cmd);
out:
	qresync_param_free(&o.q);
	buf_free(&name);
}

void
cmd_select(struct session *s, const struct imap_command *c)
{
	select_open(s, c, false);
}

void
cmd_examine(struct session *s, const struct imap_command *c)
{
	select_open(s, c, true);
}

/* ---- leaving: CLOSE, UNSELECT; CHECK ------------------------------------ */

void
cmd_close(struct session *s, const struct imap_command *c)
{
	enum store_result r = STORE_OK;

	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "CLOSE takes no arguments");
		return;
	}
	/* §6.4.1: \Deleted messages go silently, unless EXAMINEd; a mailbox
	 * another session deleted has nothing left to expunge. */
	if (!s->view_readonly)
		r = store_expunge(s->view, NULL, 0, NULL, NULL);
	if (r != STORE_OK && r != STORE_NOT_FOUND) {
		select_store_failed(s, c->tag);
		return;
	}
	select_close(s);
	session_tagged(s, c->tag, "OK", "CLOSE completed");
}

void
cmd_unselect(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "UNSELECT takes no arguments");
		return;
	}
	select_close(s);
	session_tagged(s, c->tag, "OK", "UNSELECT completed");
}

void
cmd_check(struct session *s, const struct imap_command *c)
{
	/* Gone from IMAP4rev2 (RFC 9051 Appendix E); a checkpoint is a NOOP
	 * here, every change being committed when it is made. */
	if (s->enabled & SESSION_ENABLED_IMAP4REV2) {
		session_tagged(s, c->tag, "BAD", "CHECK is not an IMAP4rev2 command");
		return;
	}
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "CHECK takes no arguments");
		return;
	}
	if (!session_sync(s, true))
		return;
	session_tagged(s, c->tag, "OK", "CHECK completed");
}

/* ---- EXPUNGE, UID EXPUNGE ----------------------------------------------- */

void
cmd_expunge(struct session *s, const struct imap_command *c)
{
	uint32_t *uids = NULL, before;
	size_t n = 0;
	const char *why = NULL;
	enum store_result r = STORE_OK;
	bool gone;

	if (c->nargs != (s->uid_command ? 1u : 0u)) {
		session_tagged(s, c->tag, "BAD", s->uid_command ? "UID EXPUNGE "
		    "takes a UID set" : "EXPUNGE takes no arguments");
		return;
	}
	if (s->uid_command && select_uids(s, &c->args[0], true, &uids, &n, &why) != 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if (s->view_readonly) {
		free(uids);
		session_tagged(s, c->tag, "NO", "The mailbox is read-only");
		return;
	}
	before = store_view_exists(s->view);
	/* uids NULL is every \Deleted message: not what an empty UID set means. */
	if (!s->uid_command || n > 0)
		r = store_expunge(s->view, s->uid_command ? uids : NULL, n,
		    select_expunged, s);
	free(uids);
	/* STORE_NOT_FOUND: the mailbox went; the sync says BYE. */
	if (r != STORE_OK && r != STORE_NOT_FOUND) {
		select_store_failed(s, c->tag);
		return;
	}
	gone = store_view_exists(s->view) < before;
	if (!session_sync(s, true))
		return;
	/* RFC 7162 §3.2.7, §3.2.9: with QRESYNC, the modseq it made. */
	if (gone && (s->enabled & SESSION_ENABLED_QRESYNC))
		session_tagged(s, c->tag, "OK", "[HIGHESTMODSEQ %" PRIu64 "] "
		    "EXPUNGE completed", store_view_mailbox(s->view)->highestmodseq);
	else
		session_tagged(s, c->tag, "OK", "EXPUNGE completed");
}
