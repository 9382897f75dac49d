/*
 * EXPUNGE and UID EXPUNGE (RFC 9051 §6.4.3, RFC 4315 §2.1), and removing
 * messages for DELETE and fsck.  Rows go with tombstones in one
 * transaction; a blob whose last reference went is unlinked only after
 * the commit.  A crash in between leaves an orphan file (fsck removes it),
 * never a row whose file is gone.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <time.h>

#include "store-int.h"
#include "xmalloc.h"

void
idlist_add(struct idlist *l, uint64_t id)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->id = xreallocarray(l->id, l->cap, sizeof(*l->id));
	}
	l->id[l->n++] = id;
}

enum store_result
store_remove_messages(struct store *st, int64_t mailbox_id,
    const struct index_message *m, size_t n, uint64_t modseq,
    struct idlist *freed)
{
	size_t n_freed = freed->n;
	int64_t left;

	for (size_t i = 0; i < n; i++) {
		if (index_message_remove(st->ix, mailbox_id, m[i].uid, modseq) !=
		    STORE_OK ||
		    index_blob_ref(st->ix, m[i].blob_id, -1, &left) != STORE_OK)
			return STORE_ERROR;
		if (left == 0)
			idlist_add(freed, m[i].blob_id);
	}
	/* their full-text rows, a bounded number now (fts.c) */
	return freed->n > n_freed ? fts_purge(st, FTS_PURGE_MAX) : STORE_OK;
}

/*
 * Tombstone retention: STORE_TOMBSTONE_DAYS, so that a client away for a
 * month still resynchronises exactly.  The purge rides on the expunges of
 * the mailbox, each looking at no more than TOMBSTONE_PURGE_BATCH plus
 * what it added: the work is bounded and paid by who makes tombstones, and
 * a mailbox cannot outgrow it.  No timer, no process of its own.
 *
 * Most expunges find nothing old enough, so the oldest tombstone (by
 * modseq) is asked first, alone: when it is young, so are the others, as
 * time and modseq rise together, and the batch is not read.  (After the
 * clock went back, a young-looking oldest one holds the others back until
 * it is old enough: at most the time the clock lost.)
 */
#define TOMBSTONE_PURGE_BATCH 256

enum store_result
store_purge_tombstones(struct store *st, int64_t mailbox_id, size_t n_added)
{
	int64_t before = (int64_t)time(NULL) - STORE_TOMBSTONE_DAYS * 86400LL;
	size_t purged = 0, more = 0;

	if (index_tombstones_purge(st->ix, mailbox_id, before, 1,
	    &purged) != STORE_OK)
		return STORE_ERROR;
	if (purged == 0)
		return STORE_OK;
	if (index_tombstones_purge(st->ix, mailbox_id, before,
	    TOMBSTONE_PURGE_BATCH + n_added - 1, &more) != STORE_OK)
		return STORE_ERROR;
	log_debug("store: purged %zu tombstones of mailbox %lld", purged + more,
	    (long long)mailbox_id);
	return STORE_OK;
}

void
store_unlink_freed(struct store *st, struct idlist *freed)
{
	for (size_t i = 0; i < freed->n; i++)
		blob_unlink(st, freed->id[i]);
	free(freed->id);
	freed->id = NULL;
	freed->n = freed->cap = 0;
}

/* Keep the rows whose uid is in uids (both ascending). */
static size_t
intersect(struct index_message *m, size_t n, const uint32_t *uids, size_t nuids)
{
	size_t i = 0, j = 0, out = 0;

	while (i < n && j < nuids) {
		if (m[i].uid < uids[j])
			i++;
		else if (m[i].uid > uids[j])
			j++;
		else {
			m[out++] = m[i++];
			j++;
		}
	}
	return out;
}

/*
 * Only messages the view has: one a session appended since our last sync
 * has no MSN to report yet, so it waits for an EXPUNGE that knows it.
 */
static enum store_result
expunge_locked(struct store_view *v, const uint32_t *uids, size_t nuids,
    struct index_message **m, size_t *n, struct idlist *freed, uint64_t *old)
{
	struct index_filter deleted = { 1, v->known_uidnext - 1, 0, true };
	struct store_mailbox mb;
	enum store_result r;

	r = index_mailbox_get(v->st->ix, NULL, v->mb.id, &mb, NULL);
	if (r == STORE_NOT_FOUND)
		return store_fail(v->st, r, "the mailbox was deleted");
	if (r != STORE_OK)
		return r;
	if (index_message_list(v->st->ix, v->mb.id, &deleted, m, n) != STORE_OK)
		return STORE_ERROR;
	if (uids != NULL)
		*n = intersect(*m, *n, uids, nuids);
	*old = mb.highestmodseq;
	if (*n == 0)
		return STORE_OK;
	if (store_remove_messages(v->st, mb.id, *m, *n, mb.highestmodseq + 1,
	    freed) != STORE_OK ||
	    store_purge_tombstones(v->st, mb.id, *n) != STORE_OK)
		return STORE_ERROR;
	return index_mailbox_set_counters(v->st->ix, mb.id, mb.uidnext,
	    mb.highestmodseq + 1);
}

enum store_result
store_expunge(struct store_view *v, const uint32_t *uids, size_t n,
    store_expunged_fn *expunged, void *arg)
{
	struct idlist freed = { NULL, 0, 0 };
	struct index_message *m = NULL;
	enum store_result r;
	uint32_t *desc;
	uint64_t old = 0;
	size_t count = 0;

	if (v->readonly)
		return store_fail(v->st, STORE_READONLY, "the mailbox is read-only");
	if (index_begin(v->st->ix, true) != STORE_OK)
		return STORE_ERROR;
	r = expunge_locked(v, uids, n, &m, &count, &freed, &old);
	if (r == STORE_OK)
		r = index_commit(v->st->ix);
	else
		index_rollback(v->st->ix);
	if (r != STORE_OK) {
		free(freed.id);
		free(m);
		return r;
	}
	store_unlink_freed(v->st, &freed);
	/* Nothing else happened in between: sync has nothing to redo. */
	if (count > 0 && v->seen_modseq == old)
		v->seen_modseq = old + 1;
	if (count > 0 && v->expunge_modseq == old)
		v->expunge_modseq = old + 1;
	desc = xreallocarray(NULL, count ? count : 1, sizeof(*desc));
	for (size_t i = 0; i < count; i++)
		desc[i] = m[count - 1 - i].uid;
	view_remove(v, desc, count, expunged, arg);
	free(desc);
	free(m);
	return STORE_OK;
}
