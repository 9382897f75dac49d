/*
 * NOTIFY (RFC 5465) without I/O: the arguments of the command, which
 * groups watch which mailbox, and the responses that tell a client what
 * changed between two looks at the user's mailboxes.
 *
 * A look (struct notify_snap) is every mailbox (id, name, UIDVALIDITY,
 * UIDNEXT, HIGHESTMODSEQ, and the counts for those message events watch)
 * and every subscription.  A mailbox keeps its id through RENAME, so two
 * looks tell a rename (same id, new name) from a DELETE and a CREATE.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "notify.h"
#include "xmalloc.h"

/* ---- arguments (§8) ------------------------------------------------------ */

static enum notify_parse_result
bad(char *why, size_t whylen, const char *fmt, ...) CAIRN_PRINTF(3, 4);

static enum notify_parse_result
bad(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return NOTIFY_PARSE_BAD;
}

static bool
is_atom(const struct imap_arg *a, const char *name)
{
	return a->type == IMAP_ARG_ATOM && strcasecmp(a->str, name) == 0;
}

/* The events this server offers; the others are refused with BADEVENT. */
static const struct {
	const char *name;
	unsigned event;           /* 0: known to RFC 5465, not offered */
	bool message;             /* a message-event, the only kind SELECTED takes */
} event_names[] = {
	{ "MessageNew", NOTIFY_MESSAGE_NEW, true },
	{ "MessageExpunge", NOTIFY_MESSAGE_EXPUNGE, true },
	{ "FlagChange", NOTIFY_FLAG_CHANGE, true },
	{ "AnnotationChange", 0, true },
	{ "MailboxName", NOTIFY_MAILBOX_NAME, false },
	{ "SubscriptionChange", NOTIFY_SUBSCRIPTION_CHANGE, false },
	{ "MailboxMetadataChange", 0, false },
	{ "ServerMetadataChange", 0, false },
};
#define N_EVENT_NAMES (sizeof(event_names) / sizeof(event_names[0]))

/* What one group's event list holds. */
struct events {
	unsigned set;             /* NOTIFY_* */
	bool annotation;          /* AnnotationChange: counts for §5's rules */
	bool other;               /* an event that is not a message event */
	const char *unsupported;  /* the first event not offered, or NULL */
	bool fetch_set;
	struct fetch_request fetch;
};

/* MessageNew's "(" fetch-att *(SP fetch-att) ")", only after SELECTED. */
static enum notify_parse_result
parse_fetch(const struct imap_arg *list, bool selected, struct events *ev,
    char *why, size_t whylen)
{
	char fwhy[FETCH_WHY_MAX];

	if (!selected)
		return bad(why, whylen, "Fetch attributes after MessageNew are for "
		    "SELECTED and SELECTED-DELAYED only");
	if (ev->fetch_set)
		return bad(why, whylen, "MessageNew has fetch attributes twice");
	/* UID in every response: with MSNs moving under NOTIFY, the client
	 * names messages by UID (§5.3). */
	ev->fetch_set = true;
	if (fetch_parse(list, 1, true, &ev->fetch, fwhy, sizeof(fwhy)) != 0)
		return bad(why, whylen, "MessageNew: %s", fwhy);
	return NOTIFY_PARSE_OK;
}

/* events = "(" event *(SP event) ")" / "NONE" */
static enum notify_parse_result
parse_events(const struct imap_arg *a, bool selected, struct events *ev,
    char *why, size_t whylen)
{
	if (is_atom(a, "NONE"))
		return NOTIFY_PARSE_OK;
	if (a->type != IMAP_ARG_LIST || a->list_count == 0)
		return bad(why, whylen, "Expected NONE or a parenthesized list of events");
	for (size_t i = 0; i < a->list_count; i++) {
		const struct imap_arg *e = &a->list[i];
		size_t k;

		if (e->type != IMAP_ARG_ATOM)
			return bad(why, whylen, "Events are atoms such as MessageNew");
		for (k = 0; k < N_EVENT_NAMES; k++)
			if (strcasecmp(e->str, event_names[k].name) == 0)
				break;
		/* event-ext = atom: any other atom is an event we lack (§8). */
		if (k == N_EVENT_NAMES || event_names[k].event == 0) {
			if (ev->unsupported == NULL)
				ev->unsupported = k < N_EVENT_NAMES ?
				    event_names[k].name : "An event";
			/* An unknown one may be a message event: NO, not BAD. */
			ev->annotation |= k < N_EVENT_NAMES &&
			    strcmp(event_names[k].name, "AnnotationChange") == 0;
			ev->other |= k < N_EVENT_NAMES && !event_names[k].message;
			continue;
		}
		ev->set |= event_names[k].event;
		ev->other |= !event_names[k].message;
		if (event_names[k].event == NOTIFY_MESSAGE_NEW &&
		    i + 1 < a->list_count && a->list[i + 1].type == IMAP_ARG_LIST &&
		    parse_fetch(&a->list[++i], selected, ev, why, whylen) != 0)
			return NOTIFY_PARSE_BAD;
	}
	return NOTIFY_PARSE_OK;
}

/* §5: which events must come together; §6.1: SELECTED takes message
 * events only.  Both BAD. */
static enum notify_parse_result
check_events(const struct events *ev, bool selected, char *why, size_t whylen)
{
	bool new = ev->set & NOTIFY_MESSAGE_NEW, expunge = ev->set & NOTIFY_MESSAGE_EXPUNGE;

	if (selected && ev->other)
		return bad(why, whylen, "SELECTED and SELECTED-DELAYED take message "
		    "events only");
	if (new != expunge)
		return bad(why, whylen, "MessageNew and MessageExpunge go together "
		    "(RFC 5465 section 5)");
	if (((ev->set & NOTIFY_FLAG_CHANGE) || ev->annotation) && !new)
		return bad(why, whylen, "FlagChange and AnnotationChange need "
		    "MessageNew and MessageExpunge (RFC 5465 section 5)");
	return NOTIFY_PARSE_OK;
}

/* INBOX as the store has it: any case, also as a first level (§5.1). */
static void
canon_inbox(char *name)
{
	if (strncasecmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/'))
		memcpy(name, "INBOX", 5);
}

/* one-or-more-mailbox = mailbox / "(" mailbox *(SP mailbox) ")" */
static enum notify_parse_result
parse_names(const struct imap_arg *a, notify_name_fn *name, void *arg,
    struct notify_group *g, size_t *total, char *why, size_t whylen)
{
	const struct imap_arg *v = a->type == IMAP_ARG_LIST ? a->list : a;
	size_t n = a->type == IMAP_ARG_LIST ? a->list_count : 1;

	if (n == 0)
		return bad(why, whylen, "Expected one or more mailbox names");
	for (size_t i = 0; i < n; i++) {
		struct buf b = BUF_INIT;
		const char *nwhy = "Invalid mailbox name";
		int rc;

		if (v[i].type == IMAP_ARG_LIST)
			return bad(why, whylen, "Expected a mailbox name");
		if (++*total > NOTIFY_MAX_NAMES)
			return bad(why, whylen, "More than %d mailbox names",
			    NOTIFY_MAX_NAMES);
		rc = name(arg, &v[i], &b, &nwhy);
		if (rc < 0) {
			buf_free(&b);
			return bad(why, whylen, "%s", nwhy);
		}
		/* A name no mailbox can have names none: ignored (§3.1). */
		if (rc > 0 || b.data == NULL) {
			buf_free(&b);
			continue;
		}
		g->names = xreallocarray(g->names, g->n_names + 1, sizeof(*g->names));
		g->names[g->n_names] = buf_steal(&b, NULL);
		canon_inbox(g->names[g->n_names++]);
	}
	return NOTIFY_PARSE_OK;
}

static const struct {
	const char *name;
	enum notify_filter filter;
	bool names;               /* followed by one-or-more-mailbox */
} filter_names[] = {
	{ "PERSONAL", NOTIFY_PERSONAL, false },
	{ "INBOXES", NOTIFY_INBOXES, false },
	{ "SUBSCRIBED", NOTIFY_SUBSCRIBED, false },
	{ "SUBTREE", NOTIFY_SUBTREE, true },
	{ "MAILBOXES", NOTIFY_MAILBOXES, true },
};

static void
group_free(struct notify_group *g)
{
	for (size_t i = 0; i < g->n_names; i++)
		free(g->names[i]);
	free(g->names);
	memset(g, 0, sizeof(*g));
}

/* The filter of a group other than SELECTED, and its names. */
static enum notify_parse_result
parse_filter(const struct imap_arg *v, size_t n, notify_name_fn *name, void *arg,
    struct notify_group *g, size_t *total, char *why, size_t whylen)
{
	size_t k;

	for (k = 0; k < sizeof(filter_names) / sizeof(filter_names[0]); k++)
		if (is_atom(&v[0], filter_names[k].name))
			break;
	if (k == sizeof(filter_names) / sizeof(filter_names[0]))
		return bad(why, whylen, "Unknown mailbox filter; these are SELECTED, "
		    "SELECTED-DELAYED, PERSONAL, INBOXES, SUBSCRIBED, SUBTREE, MAILBOXES");
	g->filter = filter_names[k].filter;
	if (n != (filter_names[k].names ? 3u : 2u))
		return bad(why, whylen, filter_names[k].names ? "%s takes mailbox "
		    "names, then events" : "%s takes events only", filter_names[k].name);
	if (filter_names[k].names)
		return parse_names(&v[1], name, arg, g, total, why, whylen);
	return NOTIFY_PARSE_OK;
}

/*
 * event-group = "(" filter-mailboxes SP events ")".  *unsupported is set
 * to the first event not offered, and the group is still checked.
 */
static enum notify_parse_result
parse_group(const struct imap_arg *a, notify_name_fn *name, void *arg,
    struct notify_spec *sp, size_t *total, const char **unsupported,
    char *why, size_t whylen)
{
	struct notify_group g;
	struct events ev;
	bool selected;
	enum notify_parse_result r;

	if (a->type != IMAP_ARG_LIST || a->list_count < 2 || a->list[0].type !=
	    IMAP_ARG_ATOM)
		return bad(why, whylen, "An event group is (filter events), such as "
		    "(SELECTED (MessageNew MessageExpunge))");
	selected = is_atom(&a->list[0], "SELECTED") ||
	    is_atom(&a->list[0], "SELECTED-DELAYED");
	memset(&g, 0, sizeof(g));
	memset(&ev, 0, sizeof(ev));
	if (selected && sp->selected)
		r = bad(why, whylen, "Only one of SELECTED and SELECTED-DELAYED "
		    "(RFC 5465 section 6.1)");
	else if (selected && a->list_count != 2)
		r = bad(why, whylen, "%s takes events only", a->list[0].str);
	else if (!selected)
		r = parse_filter(a->list, a->list_count, name, arg, &g, total, why, whylen);
	else
		r = NOTIFY_PARSE_OK;
	if (r == NOTIFY_PARSE_OK)
		r = parse_events(&a->list[a->list_count - 1], selected, &ev, why, whylen);
	if (r == NOTIFY_PARSE_OK)
		r = check_events(&ev, selected, why, whylen);
	if (r != NOTIFY_PARSE_OK) {
		group_free(&g);
		fetch_request_free(&ev.fetch);
		return r;
	}
	if (ev.unsupported != NULL && *unsupported == NULL)
		*unsupported = ev.unsupported;
	if (selected) {
		sp->selected = true;
		sp->delayed = is_atom(&a->list[0], "SELECTED-DELAYED");
		sp->selected_events = ev.set;
		sp->fetch_set = ev.fetch_set;
		sp->fetch = ev.fetch;
		return NOTIFY_PARSE_OK;
	}
	g.events = ev.set;
	sp->groups = xreallocarray(sp->groups, sp->n_groups + 1, sizeof(*sp->groups));
	sp->groups[sp->n_groups++] = g;
	return NOTIFY_PARSE_OK;
}

enum notify_parse_result
notify_parse(const struct imap_arg *args, size_t n, notify_name_fn *name,
    void *arg, struct notify_spec *sp, char *why, size_t whylen)
{
	const char *unsupported = NULL;
	size_t i = 1, total = 0;

	memset(sp, 0, sizeof(*sp));
	if (n > 0 && is_atom(&args[0], "NONE")) {
		if (n != 1)
			return bad(why, whylen, "NOTIFY NONE takes no arguments");
		sp->none = true;
		return NOTIFY_PARSE_OK;
	}
	if (n == 0 || !is_atom(&args[0], "SET"))
		return bad(why, whylen, "NOTIFY takes NONE, or SET [STATUS] and "
		    "event groups");
	if (i < n && is_atom(&args[i], "STATUS")) {
		sp->status = true;
		i++;
	}
	if (i == n)
		return bad(why, whylen, "NOTIFY SET needs one or more event groups");
	for (; i < n; i++)
		if (parse_group(&args[i], name, arg, sp, &total, &unsupported, why,
		    whylen) != NOTIFY_PARSE_OK)
			return NOTIFY_PARSE_BAD;
	if (unsupported != NULL) {
		snprintf(why, whylen, "%s is not supported", unsupported);
		return NOTIFY_PARSE_BADEVENT;
	}
	return NOTIFY_PARSE_OK;
}

void
notify_spec_free(struct notify_spec *sp)
{
	for (size_t i = 0; i < sp->n_groups; i++)
		group_free(&sp->groups[i]);
	free(sp->groups);
	fetch_request_free(&sp->fetch);
	memset(sp, 0, sizeof(*sp));
}

/* ---- which mailboxes a group watches (§6) ---------------------------------- */

/* Is name the mailbox anc or below it? */
static bool
in_subtree(const char *anc, const char *name)
{
	size_t len = strlen(anc);

	return strncmp(name, anc, len) == 0 && (name[len] == '\0' || name[len] == '/');
}

static bool
group_matches(const struct notify_group *g, const char *name, bool subscribed)
{
	switch (g->filter) {
	case NOTIFY_PERSONAL:
	case NOTIFY_INBOXES:
		return true;
	case NOTIFY_SUBSCRIBED:
		return subscribed;
	case NOTIFY_SUBTREE:
		for (size_t i = 0; i < g->n_names; i++)
			if (in_subtree(g->names[i], name))
				return true;
		return false;
	case NOTIFY_MAILBOXES:
		/* §6.6: no wildcards */
		for (size_t i = 0; i < g->n_names; i++)
			if (strcmp(g->names[i], name) == 0)
				return true;
		return false;
	}
	return false;
}

unsigned
notify_events(const struct notify_spec *sp, const char *name, bool subscribed)
{
	unsigned events = 0;

	for (size_t i = 0; i < sp->n_groups; i++)
		if (group_matches(&sp->groups[i], name, subscribed))
			events |= sp->groups[i].events;
	return events;
}

bool
notify_watches_others(const struct notify_spec *sp)
{
	for (size_t i = 0; i < sp->n_groups; i++)
		if (sp->groups[i].events != 0)
			return true;
	return false;
}

/* ---- looks ------------------------------------------------------------------ */

struct notify_mbox *
notify_snap_add(struct notify_snap *sn, const struct store_mailbox *mb)
{
	struct notify_mbox *m;

	if (sn->n == sn->cap) {
		sn->cap = sn->cap ? sn->cap * 2 : 32;
		sn->mb = xreallocarray(sn->mb, sn->cap, sizeof(*sn->mb));
	}
	m = &sn->mb[sn->n++];
	memset(m, 0, sizeof(*m));
	m->id = mb->id;
	m->name = xstrdup(mb->name);
	m->special_use = mb->special_use;
	m->noselect = mb->noselect;
	m->st.uidvalidity = mb->uidvalidity;
	m->st.uidnext = mb->uidnext;
	m->st.highestmodseq = mb->highestmodseq;
	return m;
}

void
notify_snap_add_sub(struct notify_snap *sn, const char *name)
{
	if (sn->n_subs == sn->cap_subs) {
		sn->cap_subs = sn->cap_subs ? sn->cap_subs * 2 : 32;
		sn->subs = xreallocarray(sn->subs, sn->cap_subs, sizeof(*sn->subs));
	}
	sn->subs[sn->n_subs++] = xstrdup(name);
}

static int
mbox_cmp(const void *a, const void *b)
{
	return strcmp(((const struct notify_mbox *)a)->name,
	    ((const struct notify_mbox *)b)->name);
}

static int
str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool
is_subscribed(const struct notify_snap *sn, const char *name)
{
	return sn->n_subs > 0 && bsearch(&name, sn->subs, sn->n_subs,
	    sizeof(*sn->subs), str_cmp) != NULL;
}

void
notify_snap_finish(struct notify_snap *sn)
{
	if (sn->n > 1)
		qsort(sn->mb, sn->n, sizeof(*sn->mb), mbox_cmp);
	if (sn->n_subs > 1)
		qsort(sn->subs, sn->n_subs, sizeof(*sn->subs), str_cmp);
	for (size_t i = 0; i < sn->n; i++)
		sn->mb[i].subscribed = is_subscribed(sn, sn->mb[i].name);
}

void
notify_snap_free(struct notify_snap *sn)
{
	for (size_t i = 0; i < sn->n; i++)
		free(sn->mb[i].name);
	for (size_t i = 0; i < sn->n_subs; i++)
		free(sn->subs[i]);
	free(sn->mb);
	free(sn->subs);
	memset(sn, 0, sizeof(*sn));
}

size_t
notify_snap_size(const struct notify_snap *sn)
{
	return sn->n + sn->n_subs;
}

const struct notify_mbox *
notify_snap_get(const struct notify_snap *sn, const char *name)
{
	struct notify_mbox key;

	if (sn->n == 0)
		return NULL;
	memset(&key, 0, sizeof(key));
	key.name = (char *)(uintptr_t)name;
	return bsearch(&key, sn->mb, sn->n, sizeof(*sn->mb), mbox_cmp);
}

bool
notify_wants_counts(const struct notify_spec *sp, const struct notify_mbox *m)
{
	return !m->noselect &&
	    (notify_events(sp, m->name, m->subscribed) & NOTIFY_MESSAGE_EVENTS) != 0;
}

bool
notify_same_counts(const struct notify_mbox *old, const struct notify_mbox *m)
{
	return old->counted && old->id == m->id && !old->noselect &&
	    old->st.uidvalidity == m->st.uidvalidity &&
	    old->st.uidnext == m->st.uidnext &&
	    old->st.highestmodseq == m->st.highestmodseq;
}

/* ---- what changed (§5) --------------------------------------------------------- */

struct diff {
	const struct notify_snap *old, *cur;
	const struct notify_spec *sp;
	int64_t selected_id;
	bool condstore;
	const struct notify_mbox **old_ids, **cur_ids;   /* by id */
	struct notify_notes *out;
};

static int
id_cmp(const void *a, const void *b)
{
	int64_t x = (*(const struct notify_mbox *const *)a)->id;
	int64_t y = (*(const struct notify_mbox *const *)b)->id;

	return x < y ? -1 : x > y;
}

static const struct notify_mbox **
by_id(const struct notify_snap *sn)
{
	const struct notify_mbox **v = xcalloc(sn->n + 1, sizeof(*v));

	for (size_t i = 0; i < sn->n; i++)
		v[i] = &sn->mb[i];
	if (sn->n > 1)
		qsort(v, sn->n, sizeof(*v), id_cmp);
	return v;
}

static const struct notify_mbox *
find_id(const struct notify_mbox **v, size_t n, int64_t id)
{
	struct notify_mbox key;
	const struct notify_mbox *k = &key, **hit;

	key.id = id;
	hit = n > 0 ? bsearch(&k, v, n, sizeof(*v), id_cmp) : NULL;
	return hit != NULL ? *hit : NULL;
}

static struct notify_note *
note_add(struct notify_notes *out)
{
	if (out->n == out->cap) {
		out->cap = out->cap ? out->cap * 2 : 16;
		out->v = xreallocarray(out->v, out->cap, sizeof(*out->v));
	}
	memset(&out->v[out->n], 0, sizeof(out->v[0]));
	return &out->v[out->n++];
}

static void
list_note(struct diff *d, const char *name, const char *oldname)
{
	struct notify_note *nt = note_add(d->out);

	nt->list = true;
	nt->name = name;
	nt->oldname = oldname;
}

/* A name as either look has it, so that a note can point to it. */
static const char *
known_name(const struct diff *d, const char *name)
{
	const struct notify_mbox *m = notify_snap_get(d->cur, name);

	if (m == NULL)
		m = notify_snap_get(d->old, name);
	return m != NULL ? m->name : NULL;
}

static bool
subscribed_either(const struct diff *d, const char *name)
{
	return is_subscribed(d->cur, name) || is_subscribed(d->old, name);
}

/* §5.4: a mailbox created or deleted affects its direct parent too. */
static void
parent_note(struct diff *d, const char *name)
{
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	const char *slash = strrchr(name, '/'), *known;
	size_t len;

	if (slash == NULL || (len = (size_t)(slash - name)) >= sizeof(parent))
		return;
	memcpy(parent, name, len);
	parent[len] = '\0';
	if ((known = known_name(d, parent)) == NULL)
		return;
	if (notify_events(d->sp, known, subscribed_either(d, known)) &
	    NOTIFY_MAILBOX_NAME)
		list_note(d, known, NULL);
}

/*
 * Did o move only because its parent was renamed (§5.4: children are
 * renamed too, with no event of their own)?  The parent's old name then
 * belongs, in the new look, to a mailbox of the parent's id under m's
 * new parent name.
 */
static bool
moved_with_parent(const struct diff *d, const struct notify_mbox *o,
    const struct notify_mbox *m)
{
	const char *os = strrchr(o->name, '/'), *ms = strrchr(m->name, '/');
	char parent[STORE_MAILBOX_NAME_MAX + 1];
	const struct notify_mbox *po, *pm;
	size_t olen, mlen;

	if (os == NULL || ms == NULL || strcmp(os, ms) != 0)
		return false;
	olen = (size_t)(os - o->name);
	mlen = (size_t)(ms - m->name);
	if (olen >= sizeof(parent))
		return false;
	memcpy(parent, o->name, olen);
	parent[olen] = '\0';
	if ((po = notify_snap_get(d->old, parent)) == NULL ||
	    (pm = find_id(d->cur_ids, d->cur->n, po->id)) == NULL)
		return false;
	return strlen(pm->name) == mlen && strncmp(pm->name, m->name, mlen) == 0 &&
	    strcmp(pm->name, po->name) != 0;
}

/*
 * Was m, new since the last look, made by RENAME INBOX?  That moves
 * INBOX's messages to a new mailbox (a new id) and keeps INBOX (RFC 9051
 * §6.3.6), and the store gives the new mailbox INBOX's UIDNEXT and the
 * HIGHESTMODSEQ it gives INBOX itself, INBOX's one above the last
 * (store/mailbox.c, rename_inbox).  So m was INBOX when it has INBOX's
 * UIDNEXT and HIGHESTMODSEQ as they are now, or INBOX's UIDNEXT and
 * HIGHESTMODSEQ + 1 as they were (INBOX changed again since), while INBOX
 * (same id, same UIDVALIDITY) moved on.  A CREATE does not look so (a new
 * mailbox starts at HIGHESTMODSEQ 1); a new mailbox that changed since
 * the rename is told as created.  The old INBOX, or NULL.
 */
static const struct notify_mbox *
renamed_inbox(const struct diff *d, const struct notify_mbox *m)
{
	const struct notify_mbox *o = notify_snap_get(d->old, "INBOX"), *c;

	if (o == NULL || (c = find_id(d->cur_ids, d->cur->n, o->id)) == NULL ||
	    c->st.uidvalidity != o->st.uidvalidity ||
	    c->st.highestmodseq <= o->st.highestmodseq)
		return NULL;
	if (m->st.uidnext == c->st.uidnext && m->st.highestmodseq == c->st.highestmodseq)
		return o;
	if (m->st.uidnext == o->st.uidnext &&
	    m->st.highestmodseq == o->st.highestmodseq + 1)
		return o;
	return NULL;
}

/* MailboxName (§5.4) for a mailbox of the new look. */
static void
name_events(struct diff *d, const struct notify_mbox *o, const struct notify_mbox *m)
{
	unsigned ev = notify_events(d->sp, m->name, m->subscribed);
	bool renamed;

	/* a rename of INBOX, told with OLDNAME as any (RFC 9051 §7.3.1) */
	if (o == NULL)
		o = renamed_inbox(d, m);
	renamed = o != NULL && strcmp(o->name, m->name) != 0;

	if (renamed)
		ev |= notify_events(d->sp, o->name, o->subscribed);
	if (!(ev & NOTIFY_MAILBOX_NAME))
		return;
	if (o == NULL) {
		list_note(d, m->name, NULL);
		parent_note(d, m->name);
	} else if (renamed) {
		if (!moved_with_parent(d, o, m))
			list_note(d, m->name, o->name);
	} else if (o->noselect != m->noselect) {
		/* deleted with children (now \Noselect), or created again */
		list_note(d, m->name, NULL);
	}
}

/* The STATUS of a watched mailbox whose messages changed (§5.1-§5.3). */
static void
status_events(struct diff *d, const struct notify_mbox *o, const struct notify_mbox *m)
{
	unsigned ev = notify_events(d->sp, m->name, m->subscribed) &
	    NOTIFY_MESSAGE_EVENTS;
	unsigned hms = d->condstore ? NOTIFY_ITEM_HIGHESTMODSEQ : 0;
	unsigned base = NOTIFY_ITEM_MESSAGES | NOTIFY_ITEM_UIDNEXT |
	    NOTIFY_ITEM_UIDVALIDITY | hms;
	unsigned items = 0;
	struct notify_note *nt;

	if (ev == 0 || !m->counted || m->id == d->selected_id)
		return;
	if (o == NULL || !o->counted || o->noselect) {
		/* newly watched: worth a word only if messages came */
		if (m->st.messages > 0)
			items = base | NOTIFY_ITEM_UNSEEN;
	} else if (o->st.uidvalidity != m->st.uidvalidity ||
	    m->st.uidnext < o->st.uidnext) {
		/* §5.1: a client must hear of a new UIDVALIDITY */
		items = base | NOTIFY_ITEM_UNSEEN;
	} else {
		uint64_t added = m->st.uidnext - o->st.uidnext;
		bool unseen = m->st.unseen != o->st.unseen;
		/* fewer than came: some went */
		bool expunged = (uint64_t)m->st.messages < o->st.messages + added;

		if (added > 0 || expunged)
			items = base | (unseen ? NOTIFY_ITEM_UNSEEN : 0);
		else if (m->st.highestmodseq != o->st.highestmodseq &&
		    (ev & NOTIFY_FLAG_CHANGE)) {
			/* §5.1: without CONDSTORE, only a new UNSEEN is news */
			if (hms != 0 || unseen)
				items = NOTIFY_ITEM_UIDVALIDITY | hms |
				    (unseen ? NOTIFY_ITEM_UNSEEN : 0);
		}
	}
	if (items == 0)
		return;
	nt = note_add(d->out);
	nt->name = m->name;
	nt->items = items;
	nt->st = &m->st;
}

/* SubscriptionChange (§5.5): the names in one list of subscriptions only. */
static void
subscription_events(struct diff *d)
{
	const struct notify_snap *a = d->old, *b = d->cur;
	size_t i = 0, j = 0;

	while (i < a->n_subs || j < b->n_subs) {
		int c = i == a->n_subs ? 1 : j == b->n_subs ? -1 :
		    strcmp(a->subs[i], b->subs[j]);
		const char *name = c < 0 ? a->subs[i] : b->subs[j];

		if (c == 0) {
			i++;
			j++;
			continue;
		}
		if (c < 0)
			i++;
		else
			j++;
		if (notify_events(d->sp, name, true) & NOTIFY_SUBSCRIPTION_CHANGE)
			list_note(d, name, NULL);
	}
}

/* Is a mailbox below name in the look? */
static bool
has_children(const struct notify_snap *sn, const char *name)
{
	size_t len = strlen(name), lo = 0, hi = sn->n;

	/* the names below sort together, right after the first >= "name/" */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strncmp(sn->mb[mid].name, name, len);

		if (c < 0 || (c == 0 && (unsigned char)sn->mb[mid].name[len] < '/'))
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < sn->n && strncmp(sn->mb[lo].name, name, len) == 0 &&
	    sn->mb[lo].name[len] == '/';
}

/* The attributes of a LIST note, as the new look has the name (§5.5:
 * accurately computed). */
static void
list_attrs(const struct notify_snap *cur, struct notify_note *nt)
{
	const struct notify_mbox *m = notify_snap_get(cur, nt->name);
	bool children = has_children(cur, nt->name);

	nt->attrs = 0;
	if (m == NULL)
		nt->attrs |= NOTIFY_ATTR_NONEXISTENT;
	else if (m->noselect)
		nt->attrs |= NOTIFY_ATTR_NOSELECT;
	if (children)
		nt->attrs |= NOTIFY_ATTR_HASCHILDREN;
	else if (m != NULL)
		nt->attrs |= NOTIFY_ATTR_HASNOCHILDREN;
	if (is_subscribed(cur, nt->name))
		nt->attrs |= NOTIFY_ATTR_SUBSCRIBED;
	nt->special_use = m != NULL ? m->special_use : 0;
}

static int
note_cmp(const void *a, const void *b)
{
	const struct notify_note *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	/* the one with OLDNAME first: it is the one kept */
	if (c == 0)
		c = (x->oldname == NULL) - (y->oldname == NULL);
	return c;
}

/* Sort the LIST notes by name, one per name, and give them attributes. */
static void
lists_finish(struct diff *d)
{
	struct notify_notes *out = d->out;
	size_t k = 0;

	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), note_cmp);
	for (size_t i = 0; i < out->n; i++) {
		if (k > 0 && strcmp(out->v[k - 1].name, out->v[i].name) == 0)
			continue;
		out->v[k] = out->v[i];
		list_attrs(d->cur, &out->v[k++]);
	}
	out->n = k;
}

/* ---- this session's own changes (§5) ---------------------------------------- */

void
notify_own_add(struct notify_own *own, const char *name)
{
	char *copy;

	if (own->n == NOTIFY_OWN_MAX)
		return;
	copy = xstrdup(name);
	canon_inbox(copy);
	for (size_t i = 0; i < own->n; i++)
		if (strcmp(own->names[i], copy) == 0) {
			free(copy);
			return;
		}
	own->names[own->n++] = copy;
}

void
notify_own_clear(struct notify_own *own)
{
	for (size_t i = 0; i < own->n; i++)
		free(own->names[i]);
	own->n = 0;
}

/* Is name one of own's, or a mailbox above one?  (A parent is told of for
 * its children: §5.4.)  The old name of a rename does not count: another
 * session may have renamed a parent of an own name away. */
static bool
own_covers(const struct notify_own *own, const char *name)
{
	for (size_t i = 0; own != NULL && i < own->n; i++)
		if (in_subtree(name, own->names[i]))
			return true;
	return false;
}

static void
own_drop(const struct notify_own *own, struct notify_notes *out)
{
	size_t k = 0;

	for (size_t i = 0; i < out->n; i++)
		if (!own_covers(own, out->v[i].name))
			out->v[k++] = out->v[i];
	out->n = k;
}

void
notify_diff(const struct notify_snap *old, const struct notify_snap *cur,
    const struct notify_spec *sp, int64_t selected_id, bool condstore,
    const struct notify_own *own, struct notify_notes *out)
{
	struct diff d = { old, cur, sp, selected_id, condstore, NULL, NULL, out };

	out->n = 0;
	d.old_ids = by_id(old);
	d.cur_ids = by_id(cur);
	for (size_t i = 0; i < cur->n; i++)
		name_events(&d, find_id(d.old_ids, old->n, cur->mb[i].id), &cur->mb[i]);
	for (size_t i = 0; i < old->n; i++) {
		const struct notify_mbox *o = &old->mb[i];

		if (find_id(d.cur_ids, cur->n, o->id) != NULL ||
		    !(notify_events(sp, o->name, o->subscribed) & NOTIFY_MAILBOX_NAME))
			continue;
		list_note(&d, o->name, NULL);      /* \NonExistent */
		parent_note(&d, o->name);
	}
	subscription_events(&d);
	lists_finish(&d);
	for (size_t i = 0; i < cur->n; i++)
		status_events(&d, find_id(d.old_ids, old->n, cur->mb[i].id), &cur->mb[i]);
	own_drop(own, out);
	free(d.old_ids);
	free(d.cur_ids);
}

unsigned
notify_initial_items(const struct notify_spec *sp, const struct notify_mbox *m)
{
	unsigned ev = notify_events(sp, m->name, m->subscribed), items = 0;

	if (m->noselect)
		return 0;
	if (ev & NOTIFY_MESSAGE_NEW)
		items |= NOTIFY_ITEM_MESSAGES | NOTIFY_ITEM_UIDNEXT |
		    NOTIFY_ITEM_UIDVALIDITY;
	if (ev & NOTIFY_MESSAGE_EXPUNGE)
		items |= NOTIFY_ITEM_MESSAGES;
	/* this server has CONDSTORE, enabled or not */
	if (ev & NOTIFY_FLAG_CHANGE)
		items |= NOTIFY_ITEM_UIDVALIDITY | NOTIFY_ITEM_HIGHESTMODSEQ;
	return items;
}

void
notify_notes_free(struct notify_notes *out)
{
	free(out->v);
	memset(out, 0, sizeof(*out));
}
