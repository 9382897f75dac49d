/*
 * COPY and MOVE (RFC 9051 §6.4.7, RFC 6851): new rows in the destination
 * that name the same blobs, in one transaction.  The new UIDs follow the
 * order of the source UIDs, for COPYUID (RFC 4315).  A MOVE removes the
 * source rows in the same transaction, leaving tombstones: the view does
 * not change here, and the caller's store_view_sync() reports the
 * expunges, as it does for any other session's.
 *
 * The copies get a new save date (RFC 8514 §3: the moment they came into
 * their mailbox).  A COPY counts against the quota like an APPEND (the
 * usage is RFC822.SIZE per message, shared blob or not) and is checked
 * once its rows are in, before the commit; a MOVE changes no usage, as
 * every mailbox is under the one quota root, and RFC 9208 has it succeed.
 */
#include "autoconfig.h"

#include <time.h>

#include "store-int.h"

struct copy {
	struct store *st;
	struct store_mailbox src, dst;
	struct kwtable skw, dkw;
	uint64_t smodseq, dmodseq;
	int64_t now;
	uint32_t uidnext;
	bool move;
	size_t copied;
};

/*
 * Keywords are numbered per mailbox.  One that the destination has no room
 * for (STORE_KEYWORDS_MAX) is dropped: RFC 9051 asks only that flags
 * SHOULD be kept, and failing the COPY for it would be worse.
 */
static enum store_result
remap(struct copy *c, uint64_t mask, uint64_t *out)
{
	const char *names[STORE_KEYWORDS_MAX];
	size_t n = kw_names(&c->skw, mask, names);
	enum store_result r;
	uint64_t one;

	*out = 0;
	for (size_t i = 0; i < n; i++) {
		r = kw_mask(c->st, c->dst.id, &c->dkw, &names[i], 1, true, &one);
		if (r == STORE_INVALID) {
			log_debug("store: COPY drops keyword %s: %s", names[i],
			    c->st->err);
			continue;
		}
		if (r != STORE_OK)
			return r;
		*out |= one;
	}
	return STORE_OK;
}

/* dest_uid 0: another session expunged the source meanwhile. */
static enum store_result
copy_one(struct copy *c, uint32_t uid, uint32_t *dest_uid)
{
	struct index_message m;
	enum store_result r;

	*dest_uid = 0;
	r = index_message_get(c->st->ix, c->src.id, uid, &m);
	if (r == STORE_NOT_FOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	if (c->uidnext >= UINT32_MAX)
		return store_fail(c->st, STORE_ERROR, "the destination has used "
		    "up its UIDs");
	if (remap(c, m.keywords, &m.keywords) != STORE_OK)
		return STORE_ERROR;
	m.uid = c->uidnext;
	m.modseq = c->dmodseq;
	m.savedate = c->now;
	if (index_message_add(c->st->ix, c->dst.id, &m) != STORE_OK)
		return STORE_ERROR;
	/* A MOVE hands the reference over: the refcount stays. */
	if (c->move)
		r = index_message_remove(c->st->ix, c->src.id, uid, c->smodseq);
	else
		r = index_blob_ref(c->st->ix, m.blob_id, 1, &(int64_t){ 0 });
	if (r != STORE_OK)
		return STORE_ERROR;
	*dest_uid = c->uidnext++;
	c->copied++;
	return STORE_OK;
}

static enum store_result
find(struct copy *c, int64_t src_id, const char *dest)
{
	enum store_result r;

	r = index_mailbox_get(c->st->ix, NULL, src_id, &c->src, NULL);
	if (r == STORE_NOT_FOUND)
		return store_fail(c->st, STORE_ERROR, "the selected mailbox was "
		    "deleted");
	if (r != STORE_OK)
		return r;
	r = index_mailbox_get(c->st->ix, dest, 0, &c->dst, NULL);
	if (r == STORE_NOT_FOUND || (r == STORE_OK && c->dst.noselect))
		return store_fail(c->st, STORE_NOT_FOUND, "no such mailbox");
	if (r != STORE_OK)
		return r;
	if (kw_load(c->st, c->src.id, &c->skw) != STORE_OK ||
	    kw_load(c->st, c->dst.id, &c->dkw) != STORE_OK)
		return STORE_ERROR;
	c->dmodseq = c->dst.highestmodseq + 1;
	c->smodseq = c->src.id == c->dst.id ? c->dmodseq :
	    c->src.highestmodseq + 1;
	c->uidnext = c->dst.uidnext;
	return STORE_OK;
}

static enum store_result
copy_locked(struct copy *c, int64_t src_id, const uint32_t *uids, size_t n,
    const char *dest, uint32_t *dest_uids)
{
	enum store_result r;
	uint32_t dummy;

	if ((r = find(c, src_id, dest)) != STORE_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = copy_one(c, uids[i], dest_uids ? &dest_uids[i] :
		    &dummy)) != STORE_OK)
			return r;
	if (c->copied == 0)
		return STORE_OK;
	if (!c->move && (r = quota_check_locked(c->st, 0, 0)) != STORE_OK)
		return r;
	if (index_mailbox_set_counters(c->st->ix, c->dst.id, c->uidnext,
	    c->dmodseq) != STORE_OK)
		return STORE_ERROR;
	if (c->move && store_purge_tombstones(c->st, c->src.id,
	    c->copied) != STORE_OK)
		return STORE_ERROR;
	if (c->move && c->src.id != c->dst.id)
		return index_mailbox_set_counters(c->st->ix, c->src.id,
		    c->src.uidnext, c->smodseq);
	return STORE_OK;
}

enum store_result
store_copy(struct store_view *v, const uint32_t *uids, size_t n,
    const char *dest, bool move, uint32_t *dest_uidvalidity, uint32_t *dest_uids)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct copy c = { .st = v->st, .move = move, .now = (int64_t)time(NULL) };
	enum store_result r;

	if (move && v->readonly)
		return store_fail(v->st, STORE_READONLY, "the mailbox is read-only");
	if ((r = store_name_canon(v->st, dest, canon)) != STORE_OK)
		return r;
	if (index_begin(v->st->ix, true) != STORE_OK)
		return STORE_ERROR;
	r = copy_locked(&c, v->mb.id, uids, n, canon, dest_uids);
	if (r == STORE_OK)
		r = index_commit(v->st->ix);
	else
		index_rollback(v->st->ix);
	kw_free(&c.skw);
	kw_free(&c.dkw);
	if (r == STORE_OK && dest_uidvalidity != NULL)
		*dest_uidvalidity = c.dst.uidvalidity;
	return r;
}
