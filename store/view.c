/*
 * A selected mailbox (SELECT, EXAMINE): the MSN -> UID map in memory (a
 * sorted uint32_t array: 400 KB for 100 000 messages), the modseqs this
 * view has seen, and the messages that are \Recent in it.
 *
 * Other sessions of the user, in this process or another, are seen only
 * through index.db: store_view_sync() asks for tombstones and rows with a
 * modseq above what the view has seen, and for rows at or above the UIDNEXT
 * it knows.  Expunges have their own mark, because during FETCH, STORE and
 * SEARCH they must wait (RFC 9051 §7.5.1) while flag changes and new
 * messages need not.
 *
 * \Recent (IMAP4rev1, RFC 3501 §2.3.2): mailboxes.recent_uid is the highest
 * UID some read-write session has claimed.  A read-write view claims every
 * UID above it, when it opens and when it learns of new messages, so one
 * session sees each message as recent.  A read-only view (EXAMINE) claims
 * nothing and shows as recent what no session has claimed yet.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "uidsearch.h"
#include "xmalloc.h"

/* ---- the MSN map ------------------------------------------------------ */

static uint32_t
uids_at(void *uids, uint32_t i)
{
	return ((const uint32_t *)uids)[i];
}

/* The index of the first uid >= uid (v->n if none).  v->n fits: MSNs are
 * uint32_t. */
static size_t
lower_bound(const struct store_view *v, uint32_t uid)
{
	return uidsearch_lower(uids_at, v->uids, 0, (uint32_t)v->n, uid);
}

uint32_t
store_view_msn(const struct store_view *v, uint32_t uid)
{
	size_t i = lower_bound(v, uid);

	return i < v->n && v->uids[i] == uid ? (uint32_t)(i + 1) : 0;
}

uint32_t
store_view_uid(const struct store_view *v, uint32_t msn)
{
	return msn >= 1 && msn <= v->n ? v->uids[msn - 1] : 0;
}

uint32_t
store_view_exists(const struct store_view *v)
{
	return (uint32_t)v->n;
}

uint32_t
store_view_recent(const struct store_view *v)
{
	return v->n_recent;
}

const struct store_mailbox *
store_view_mailbox(const struct store_view *v)
{
	return &v->mb;
}

static void
view_append_uid(struct store_view *v, uint32_t uid)
{
	if (v->n == v->cap) {
		v->cap = v->cap ? v->cap * 2 : 256;
		v->uids = xreallocarray(v->uids, v->cap, sizeof(*v->uids));
	}
	v->uids[v->n++] = uid;
}

void
view_remove(struct store_view *v, const uint32_t *uids_desc, size_t n,
    store_expunged_fn *expunged, void *arg)
{
	uint32_t *msn, *uid;
	size_t out = 0, gone = 0;

	if (n == 0)
		return;
	/* Every MSN first, while the map is intact; reported in descending
	 * order, each is still the one the client knows at that moment. */
	msn = xreallocarray(NULL, n, sizeof(*msn));
	uid = xreallocarray(NULL, n, sizeof(*uid));
	for (size_t i = 0; i < n; i++) {
		if ((msn[gone] = store_view_msn(v, uids_desc[i])) != 0)
			uid[gone++] = uids_desc[i];
	}
	for (size_t i = 0; i < gone; i++) {
		if (view_is_recent(v, uid[i]))
			v->n_recent--;
		v->uids[msn[i] - 1] = 0;
	}
	for (size_t i = 0; i < v->n; i++)
		if (v->uids[i] != 0)
			v->uids[out++] = v->uids[i];
	v->n = out;
	/* Reported once the view is whole again: the callback may use it;
	 * all at once, so that QRESYNC's VANISHED can name ranges. */
	if (expunged != NULL && gone > 0)
		expunged(arg, msn, uid, gone);
	free(msn);
	free(uid);
}

enum store_result
store_view_first_unseen(struct store_view *v, uint32_t *msn)
{
	uint32_t uid;

	*msn = 0;
	/* Below what the view knows: a newer message has no MSN here yet.
	 * One the view still shows but another session expunged is not in
	 * the index: a later unseen one is named, which RFC 9051 allows
	 * (the UNSEEN code is advisory). */
	if (index_message_first_unseen(v->st->ix, v->mb.id, v->known_uidnext,
	    &uid) != STORE_OK)
		return STORE_ERROR;
	if (uid != 0)
		*msn = store_view_msn(v, uid);
	return STORE_OK;
}

/* ---- \Recent ----------------------------------------------------------- */

bool
view_is_recent(const struct store_view *v, uint32_t uid)
{
	for (size_t i = 0; i < v->n_ranges; i++)
		if (uid >= v->recent[i].lo && uid <= v->recent[i].hi)
			return true;
	return false;
}

static void
add_recent(struct store_view *v, uint32_t lo, uint32_t hi)
{
	struct recent_range *last = v->n_ranges ? &v->recent[v->n_ranges - 1] : NULL;

	if (lo == 0 || lo > hi)
		return;
	v->n_recent += (uint32_t)(lower_bound(v, hi == UINT32_MAX ? hi : hi + 1) -
	    lower_bound(v, lo));
	if (last != NULL && last->hi + 1 == lo) {
		last->hi = hi;
		return;
	}
	if (v->n_ranges == v->cap_ranges) {
		v->cap_ranges = v->cap_ranges ? v->cap_ranges * 2 : 4;
		v->recent = xreallocarray(v->recent, v->cap_ranges,
		    sizeof(*v->recent));
	}
	v->recent[v->n_ranges].lo = lo;
	v->recent[v->n_ranges++].hi = hi;
}

/*
 * Claim the uids in (recent_uid, upto] for this read-write view.  One
 * delivery wakes every session of the mailbox in IDLE, and each would
 * claim: queued for the one write lock, hundreds of them took seconds to
 * commit nothing.  So a claimer that finds the lock taken looks again
 * (a read) and gives up once another session has claimed these uids;
 * it waits for the lock only while they are still unclaimed.
 */
static enum store_result
claim_recent(struct store_view *v, uint32_t upto)
{
	struct store_mailbox mb;
	uint32_t recent_uid = 0;
	enum store_result r;
	bool busy = true;
	int tries = 0;

	if (upto == 0)
		return STORE_OK;
	while (busy) {
		if (index_begin_write_nowait(v->st->ix, &busy) != STORE_OK)
			return STORE_ERROR;
		if (!busy)
			break;
		if (index_mailbox_get(v->st->ix, NULL, v->mb.id, &mb,
		    &recent_uid) != STORE_OK)
			return STORE_ERROR;
		if (recent_uid >= upto)
			return STORE_OK;   /* claimed by another session */
		if (!index_busy_sleep(tries++))
			return store_fail(v->st, STORE_ERROR,
			    "index.db: the write lock stayed taken");
	}
	r = index_mailbox_get(v->st->ix, NULL, v->mb.id, &mb, &recent_uid);
	if (r == STORE_OK && recent_uid < upto)
		r = index_mailbox_set_recent(v->st->ix, v->mb.id, upto);
	if (r == STORE_OK)
		r = index_commit(v->st->ix);
	else
		index_rollback(v->st->ix);
	if (r == STORE_OK && recent_uid < upto)
		add_recent(v, recent_uid + 1, upto);
	return r;
}

/* The new uids in [first, upto] that are recent here: claimed or seen. */
static enum store_result
take_recent(struct store_view *v, uint32_t recent_uid, uint32_t first,
    uint32_t upto)
{
	/* Nothing above what was claimed when we looked: no write lock (a
	 * SELECT of a mailbox without new mail writes nothing). */
	if (!v->readonly && !v->st->no_recent_claims) {
		enum store_result r = recent_uid < upto ? claim_recent(v, upto)
		    : STORE_OK;

		/* \Recent is advisory (RFC 3501 §2.3.2; gone in IMAP4rev2): a
		 * disk too full to record the claim costs the flag, not the
		 * session (the sync is what answers every command). */
		if (r == STORE_ERROR && store_error_cause() == STORE_CAUSE_NO_SPACE) {
			log_warnx("store: %s: new messages not claimed as "
			    "\\Recent", store_error(v->st));
			r = STORE_OK;
		}
		return r;
	}
	add_recent(v, recent_uid + 1 > first ? recent_uid + 1 : first, upto);
	return STORE_OK;
}

void
store_claim_recent(struct store *st, bool on)
{
	st->no_recent_claims = !on;
}

/* ---- messages ---------------------------------------------------------- */

static uint64_t
known_keywords(const struct kwtable *t)
{
	uint64_t mask = 0;

	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		if (t->name[i] != NULL)
			mask |= (uint64_t)1 << i;
	return mask;
}

enum store_result
view_message(struct store_view *v, const struct index_message *m,
    struct store_message *out)
{
	/* A keyword another session added since we loaded the table. */
	if (m->keywords != 0 && (m->keywords & ~known_keywords(&v->kw)) != 0) {
		kw_free(&v->kw);
		if (kw_load(v->st, v->mb.id, &v->kw) != STORE_OK)
			return STORE_ERROR;
	}
	memset(out, 0, sizeof(*out));
	out->uid = m->uid;
	out->modseq = m->modseq;
	out->flags = m->flags;
	out->n_keywords = kw_names(&v->kw, m->keywords, v->kwlist);
	out->keywords = v->kwlist;
	out->internaldate = m->internaldate;
	out->tz_minutes = m->tz_minutes;
	out->size = m->size;
	out->email_id = m->email_id;
	out->savedate = m->savedate;
	out->thread_id = m->thread_id;
	out->recent = view_is_recent(v, m->uid);
	return STORE_OK;
}

enum store_result
store_view_keywords(struct store_view *v, int (*fn)(const char *keyword,
    void *arg), void *arg)
{
	struct kwtable t;

	/* A table of our own: fn may call the view, which may reload its own. */
	if (kw_load(v->st, v->mb.id, &t) != STORE_OK)
		return STORE_ERROR;
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		if (t.name[i] != NULL && fn(t.name[i], arg) != 0)
			break;
	kw_free(&t);
	return STORE_OK;
}

/* ---- open, close ------------------------------------------------------- */

static enum store_result
load(struct store_view *v, const char *name, uint32_t *recent_uid)
{
	struct index *ix = v->st->ix;
	enum store_result r;

	if (index_begin(ix, false) != STORE_OK)
		return STORE_ERROR;
	r = index_mailbox_get(ix, name, 0, &v->mb, recent_uid);
	if (r == STORE_NOT_FOUND || (r == STORE_OK && v->mb.noselect))
		r = store_fail(v->st, STORE_NOT_FOUND, "no such mailbox");
	if (r == STORE_OK)
		r = index_message_uids(ix, v->mb.id, &v->uids, &v->n);
	if (r == STORE_OK)
		r = kw_load(v->st, v->mb.id, &v->kw);
	if (r != STORE_OK) {
		index_rollback(ix);
		return r;
	}
	v->cap = v->n;
	v->known_uidnext = v->mb.uidnext;
	v->seen_modseq = v->expunge_modseq = v->mb.highestmodseq;
	return index_commit(ix);
}

enum store_result
store_view_open(struct store *st, const char *name, bool readonly,
    struct store_view **out)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct store_view *v;
	enum store_result r;
	uint32_t recent_uid = 0;

	*out = NULL;
	if ((r = store_name_canon(st, name, canon)) != STORE_OK)
		return r;
	v = xcalloc(1, sizeof(*v));
	v->st = st;
	v->readonly = readonly;
	if ((r = load(v, canon, &recent_uid)) != STORE_OK ||
	    (r = take_recent(v, recent_uid, 1, v->known_uidnext - 1)) != STORE_OK) {
		store_view_close(v);
		return r;
	}
	*out = v;
	return STORE_OK;
}

void
store_view_close(struct store_view *v)
{
	if (v == NULL)
		return;
	kw_free(&v->kw);
	free(v->batch);
	free(v->fbatch);
	buf_free(&v->ftext);
	sortcache_view_free(v->ska);
	free(v->uids);
	free(v->recent);
	free(v);
}

/* ---- QRESYNC ----------------------------------------------------------- */

enum store_result
store_view_vanished(struct store_view *v, uint64_t since, uint32_t **uids,
    size_t *n, bool *complete)
{
	struct index *ix = v->st->ix;
	uint32_t *gone = NULL;
	uint64_t from = 0;
	size_t ngone = 0, out = 0;
	enum store_result r;

	*uids = NULL;
	*n = 0;
	*complete = false;
	if (index_begin(ix, false) != STORE_OK)
		return STORE_ERROR;
	r = index_tombstones_from(ix, v->mb.id, &from);
	if (r == STORE_NOT_FOUND)
		r = store_fail(v->st, r, "the mailbox was deleted");
	if (r == STORE_OK)
		r = index_tombstones(ix, v->mb.id, since, &gone, &ngone);
	if (r == STORE_OK)
		r = index_commit(ix);
	else
		index_rollback(ix);
	if (r != STORE_OK) {
		free(gone);
		return r;
	}
	/* Descending from the index: made ascending, then kept what the
	 * view has left behind.  One still in it waits for store_view_sync. */
	for (size_t i = 0; i < ngone / 2; i++) {
		uint32_t t = gone[i];

		gone[i] = gone[ngone - 1 - i];
		gone[ngone - 1 - i] = t;
	}
	for (size_t i = 0; i < ngone; i++)
		if (gone[i] < v->known_uidnext && store_view_msn(v, gone[i]) == 0)
			gone[out++] = gone[i];
	*uids = gone;
	*n = out;
	*complete = since >= from;
	return STORE_OK;
}

enum store_result
store_view_changed(struct store_view *v, uint64_t since,
    int (*fn)(void *arg, uint32_t msn, const struct store_message *m),
    void *arg)
{
	struct index_filter f = { 1, v->known_uidnext - 1, since, false };
	struct index_message *rows = NULL;
	struct store_message m;
	enum store_result r;
	size_t n = 0;

	if (v->known_uidnext <= 1)
		return STORE_OK;
	if (index_begin(v->st->ix, false) != STORE_OK)
		return STORE_ERROR;
	r = index_message_list(v->st->ix, v->mb.id, &f, &rows, &n);
	if (r == STORE_OK)
		r = index_commit(v->st->ix);
	else
		index_rollback(v->st->ix);
	for (size_t i = 0; i < n && r == STORE_OK; i++) {
		uint32_t msn = store_view_msn(v, rows[i].uid);

		if (msn == 0)
			continue;
		if ((r = view_message(v, &rows[i], &m)) == STORE_OK &&
		    fn(arg, msn, &m) != 0)
			break;
	}
	free(rows);
	return r;
}

/* ---- sync -------------------------------------------------------------- */

/* What one look at index.db found, gathered before anything is reported. */
struct sync_found {
	struct store_mailbox mb;
	uint32_t recent_uid;
	uint32_t *gone;               /* tombstones, descending */
	size_t n_gone;
	struct index_message *added;  /* rows at or above known_uidnext */
	size_t n_added;
	struct index_message *changed;
	size_t n_changed;
	bool keywords_grew;           /* v->kw was reloaded */
};

static void
sync_found_free(struct sync_found *f)
{
	free(f->gone);
	free(f->added);
	free(f->changed);
}

/*
 * A keyword on a new or changed row that the view's table lacks: another
 * session created it.  Reload the table in the same read transaction, so
 * the FLAGS the client is told matches the rows it is told about.
 */
static enum store_result
sync_keywords(struct store_view *v, struct sync_found *f)
{
	uint64_t used = 0;

	for (size_t i = 0; i < f->n_added; i++)
		used |= f->added[i].keywords;
	for (size_t i = 0; i < f->n_changed; i++)
		used |= f->changed[i].keywords;
	if ((used & ~known_keywords(&v->kw)) == 0)
		return STORE_OK;
	kw_free(&v->kw);
	if (kw_load(v->st, v->mb.id, &v->kw) != STORE_OK)
		return STORE_ERROR;
	f->keywords_grew = true;
	return STORE_OK;
}

static enum store_result
sync_read(struct store_view *v, bool allow_expunge, struct sync_found *f)
{
	struct index *ix = v->st->ix;
	struct index_filter added = { v->known_uidnext, UINT32_MAX, 0, false };
	struct index_filter changed = { 1, v->known_uidnext - 1,
	    v->seen_modseq, false };
	enum store_result r;

	r = index_mailbox_get(ix, NULL, v->mb.id, &f->mb, &f->recent_uid);
	if (r == STORE_NOT_FOUND || (r == STORE_OK && f->mb.noselect))
		return store_fail(v->st, STORE_NOT_FOUND, "the mailbox was "
		    "deleted");
	if (r != STORE_OK)
		return r;
	/* Read even when they may not be reported: with none pending, the
	 * HIGHESTMODSEQ told to the client need not wait for the next one. */
	if (f->mb.highestmodseq > v->expunge_modseq &&
	    index_tombstones(ix, v->mb.id, v->expunge_modseq, &f->gone,
	    &f->n_gone) != STORE_OK)
		return STORE_ERROR;
	if (f->mb.uidnext > v->known_uidnext &&
	    index_message_list(ix, v->mb.id, &added, &f->added,
	    &f->n_added) != STORE_OK)
		return STORE_ERROR;
	if (f->mb.highestmodseq > v->seen_modseq &&
	    index_message_list(ix, v->mb.id, &changed, &f->changed,
	    &f->n_changed) != STORE_OK)
		return STORE_ERROR;
	return sync_keywords(v, f);
}

/* A row this view's own STORE left as it is: its answer was given. */
static bool
own_change(const struct store_view *v, uint64_t modseq)
{
	for (size_t i = 0; i < v->n_own; i++)
		if (v->own_modseq[i] == modseq)
			return true;
	return false;
}

static void
report_flags(struct store_view *v, const struct sync_found *f,
    const struct store_changes *cb, void *arg)
{
	struct store_message m;

	if (cb == NULL || cb->flags == NULL)
		return;
	for (size_t i = 0; i < f->n_changed; i++) {
		uint32_t msn = store_view_msn(v, f->changed[i].uid);

		if (msn != 0 && !own_change(v, f->changed[i].modseq) &&
		    view_message(v, &f->changed[i], &m) == STORE_OK)
			cb->flags(arg, msn, &m);
	}
}

/*
 * One read transaction, so that tombstones, new rows and changed rows are
 * one consistent state; then the reports, outside it (a callback may call
 * the store): expunges (descending MSN, as RFC 9051 §7.5.1 numbers them),
 * then EXISTS, then the flag changes of messages the client already had.
 */
enum store_result
store_view_sync(struct store_view *v, bool allow_expunge,
    const struct store_changes *cb, void *arg)
{
	struct sync_found f;
	enum store_result r;

	memset(&f, 0, sizeof(f));
	if (index_begin(v->st->ix, false) != STORE_OK)
		return STORE_ERROR;
	if ((r = sync_read(v, allow_expunge, &f)) != STORE_OK) {
		index_rollback(v->st->ix);
		sync_found_free(&f);
		return r;
	}
	if ((r = index_commit(v->st->ix)) != STORE_OK) {
		sync_found_free(&f);
		return r;
	}
	v->mb = f.mb;
	if (allow_expunge) {
		view_remove(v, f.gone, f.n_gone, cb != NULL ? cb->expunged : NULL,
		    arg);
		v->expunge_modseq = f.mb.highestmodseq;
	} else if (f.n_gone == 0) {
		v->expunge_modseq = f.mb.highestmodseq;
	}
	for (size_t i = 0; i < f.n_added; i++)
		view_append_uid(v, f.added[i].uid);
	v->known_uidnext = f.mb.uidnext;
	if (f.n_added > 0)
		r = take_recent(v, f.recent_uid, f.added[0].uid,
		    f.added[f.n_added - 1].uid);
	if (f.keywords_grew && cb != NULL && cb->keywords != NULL)
		cb->keywords(arg);
	if (f.n_added > 0 && cb != NULL && cb->exists != NULL)
		cb->exists(arg, (uint32_t)v->n);
	v->seen_modseq = f.mb.highestmodseq;
	/* What the client has been told: not past expunges still waiting. */
	if (v->expunge_modseq < v->mb.highestmodseq)
		v->mb.highestmodseq = v->expunge_modseq;
	report_flags(v, &f, cb, arg);
	v->n_own = 0;    /* seen_modseq is past them now */
	sync_found_free(&f);
	return r;
}
