/*
 * STORE: flags and keywords of messages, with CONDSTORE's UNCHANGEDSINCE
 * (RFC 7162 §3.1.3).  One transaction and one new modseq for the whole
 * command: every message it changes gets that modseq (RFC 7162 allows
 * several messages to share one), and a message it leaves as it was keeps
 * its own.
 */
#include "autoconfig.h"

#include <stdlib.h>

#include "store-int.h"
#include "xmalloc.h"

struct flag_change {
	enum store_flag_op op;
	unsigned flags;
	uint64_t keywords;
	uint64_t unchangedsince;
	uint64_t modseq;              /* the command's new modseq */
	struct index_message *changed;
	size_t n_changed;
	uint32_t *failed;
	size_t n_failed;
};

static void
apply(const struct flag_change *c, unsigned *flags, uint64_t *keywords)
{
	switch (c->op) {
	case STORE_FLAGS_REPLACE:
		*flags = c->flags;
		*keywords = c->keywords;
		break;
	case STORE_FLAGS_ADD:
		*flags |= c->flags;
		*keywords |= c->keywords;
		break;
	case STORE_FLAGS_REMOVE:
		*flags &= ~c->flags;
		*keywords &= ~c->keywords;
		break;
	}
}

/* One message: skipped if expunged meanwhile, failed if modified since. */
static enum store_result
change_one(struct store_view *v, uint32_t uid, struct flag_change *c)
{
	struct index_message m;
	enum store_result r;
	unsigned flags;
	uint64_t keywords;

	r = index_message_get(v->st->ix, v->mb.id, uid, &m);
	if (r == STORE_NOT_FOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	if (c->unchangedsince != 0 && m.modseq > c->unchangedsince) {
		c->failed[c->n_failed++] = uid;
		return STORE_OK;
	}
	flags = m.flags;
	keywords = m.keywords;
	apply(c, &flags, &keywords);
	if (flags == m.flags && keywords == m.keywords)
		return STORE_OK;
	if (index_message_set_flags(v->st->ix, v->mb.id, uid, flags, keywords,
	    c->modseq) != STORE_OK)
		return STORE_ERROR;
	m.flags = flags;
	m.keywords = keywords;
	m.modseq = c->modseq;
	c->changed[c->n_changed++] = m;
	return STORE_OK;
}

static enum store_result
change_locked(struct store_view *v, const uint32_t *uids, size_t n,
    const char *const *keywords, size_t n_keywords, struct flag_change *c,
    uint64_t *old_modseq)
{
	struct store_mailbox mb;
	enum store_result r;

	r = index_mailbox_get(v->st->ix, NULL, v->mb.id, &mb, NULL);
	if (r == STORE_NOT_FOUND)
		return store_fail(v->st, r, "the mailbox was deleted");
	if (r != STORE_OK)
		return r;
	*old_modseq = mb.highestmodseq;
	c->modseq = mb.highestmodseq + 1;
	/* Reloaded inside the lock: keywords are numbered here. */
	kw_free(&v->kw);
	if (kw_load(v->st, v->mb.id, &v->kw) != STORE_OK)
		return STORE_ERROR;
	if ((r = kw_mask(v->st, v->mb.id, &v->kw, keywords, n_keywords,
	    c->op != STORE_FLAGS_REMOVE, &c->keywords)) != STORE_OK)
		return r;
	for (size_t i = 0; i < n; i++)
		if ((r = change_one(v, uids[i], c)) != STORE_OK)
			return r;
	if (c->n_changed == 0)
		return STORE_OK;
	return index_mailbox_set_counters(v->st->ix, v->mb.id, mb.uidnext, c->modseq);
}

static void
report(struct store_view *v, const struct flag_change *c,
    void (*changed)(void *arg, const struct store_message *m),
    void (*failed)(void *arg, uint32_t uid), void *arg)
{
	struct store_message m;

	for (size_t i = 0; i < c->n_failed && failed != NULL; i++)
		failed(arg, c->failed[i]);
	for (size_t i = 0; i < c->n_changed && changed != NULL; i++)
		if (view_message(v, &c->changed[i], &m) == STORE_OK)
			changed(arg, &m);
}

enum store_result
store_set_flags(struct store_view *v, const uint32_t *uids, size_t n,
    enum store_flag_op op, unsigned flags, const char *const *keywords,
    size_t n_keywords, uint64_t unchangedsince,
    void (*changed)(void *arg, const struct store_message *m),
    void (*failed)(void *arg, uint32_t uid), void *arg)
{
	struct flag_change c = { .op = op, .flags = flags,
	    .unchangedsince = unchangedsince };
	enum store_result r;
	uint64_t old_modseq = 0;

	if (v->readonly)
		return store_fail(v->st, STORE_READONLY, "the mailbox is read-only");
	if ((flags & ~STORE_FLAGS_ALL) != 0 || (unsigned)op > STORE_FLAGS_REMOVE)
		return store_fail(v->st, STORE_INVALID, "unknown flag");
	if (index_begin(v->st->ix, true) != STORE_OK)
		return STORE_ERROR;
	c.changed = xreallocarray(NULL, n ? n : 1, sizeof(*c.changed));
	c.failed = xreallocarray(NULL, n ? n : 1, sizeof(*c.failed));
	r = change_locked(v, uids, n, keywords, n_keywords, &c, &old_modseq);
	if (r == STORE_OK)
		r = index_commit(v->st->ix);
	else
		index_rollback(v->st->ix);
	if (r != STORE_OK)
		kw_free(&v->kw);   /* may name keywords rolled back: reload */
	if (r == STORE_OK) {
		/* Our changes are reported below, not again by sync: nobody
		 * changed the mailbox between what we had seen and our change,
		 * or sync is told to skip rows of our modseq. */
		if (c.n_changed > 0 && v->seen_modseq == old_modseq)
			v->seen_modseq = c.modseq;
		else if (c.n_changed > 0 && v->n_own < VIEW_OWN_MAX)
			v->own_modseq[v->n_own++] = c.modseq;
		report(v, &c, changed, failed, arg);
		if (c.n_failed > 0)
			r = STORE_CONFLICT;
	}
	free(c.changed);
	free(c.failed);
	return r;
}
