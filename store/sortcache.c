/*
 * The sort keys of a view's messages for SORT and THREAD (store.h,
 * store_message_sortkeys): read from index.db sort_keys (schema step 9),
 * one row per message keyed by (mailbox, uid), a range of 256 at a time
 * as the search walks up the mailbox, only the columns asked for.
 *
 * A message stored before the step has no row.  Its keys are made from
 * its header then, only those the command needs, from the cached header
 * fields read ahead as the SORT before the step read them: the first
 * SORT of such a mailbox reads and parses what it did before the step,
 * and no more.  Its blob is noted,
 * and once the answer is out (store_sortkeys_save) all its keys are made
 * and written for every message of the blob, a bounded number of blobs
 * per transaction, as fts.c indexes old messages on demand; the next SORT
 * reads them.  At most PENDING_MAX blobs are noted per command (the rest
 * are done by a later one).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "store-int.h"
#include "xmalloc.h"

/* Rows read at once by a walk (as message.c's READ_AHEAD). */
#define AHEAD 256
/* The most a uid may be above the last one asked for, in such a walk. */
#define WALK_STEP 64
/* Blobs noted for store_sortkeys_save, and written per transaction. */
#define PENDING_MAX 100000
#define SAVE_BATCH 1000

struct sortcache_ahead {
	uint64_t snapshot;     /* 0: nothing read */
	unsigned want;
	uint32_t lo, hi;       /* the rows cover [lo, hi] */
	uint32_t last;         /* the uid asked for last */
	size_t n, next;
	struct index_sortkeys row[AHEAD];
	struct buf text;       /* the rows' strings */
	struct buf made;       /* the keys made for a message without */
	struct buf fields;     /* its header fields */
};

/* The blobs found without keys, to make them for. */
struct sortcache_pending {
	struct pending_blob {
		uint64_t blob_id, size;
	} *b;
	size_t n, cap;
};

void
sortcache_view_free(struct sortcache_ahead *a)
{
	if (a == NULL)
		return;
	buf_free(&a->text);
	buf_free(&a->made);
	buf_free(&a->fields);
	free(a);
}

void
sortcache_pending_free(struct sortcache_pending *p)
{
	if (p == NULL)
		return;
	free(p->b);
	free(p);
}

/* Where uid is among the rows read: its index, a->n when they cover it
 * but have no row for it, SIZE_MAX when they do not cover it. */
static size_t
ahead_find(const struct sortcache_ahead *a, uint64_t snap, unsigned want,
    uint32_t uid)
{
	size_t lo = 0, hi;

	if (a->snapshot == 0 || a->snapshot != snap || (a->want & want) != want ||
	    uid < a->lo || uid > a->hi)
		return SIZE_MAX;
	if (a->next < a->n && a->row[a->next].uid == uid)
		return a->next;
	hi = a->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a->row[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < a->n && a->row[lo].uid == uid ? lo : a->n;
}

static enum store_result
ahead_read(struct store_view *v, uint64_t snap, unsigned want, uint32_t uid,
    size_t max)
{
	struct sortcache_ahead *a = v->ska;
	size_t n;

	a->snapshot = 0;
	if (index_sortkeys_batch(v->st->ix, v->mb.id, uid, max, want, a->row,
	    &a->text, &n) != STORE_OK)
		return STORE_ERROR;
	a->snapshot = snap;
	a->want = want;
	a->lo = uid;
	a->hi = n == max ? a->row[n - 1].uid : UINT32_MAX;
	a->n = n;
	a->next = 0;
	return STORE_OK;
}

/* The stored keys of row r into out (pointers into the rows' text). */
static void
row_keys(const struct sortcache_ahead *a, const struct index_sortkeys *r,
    unsigned want, struct sortkeys *out)
{
	memset(out, 0, sizeof(*out));
	out->has_date = r->has_date;
	out->date = r->date;
	out->reply = r->reply;
	for (int i = 0; i < SORTKEYS_NSTR; i++)
		out->str[i] = (want & STORE_SORTKEYS_STR(i)) ?
		    a->text.data + r->off[i] : "";
	if ((want & STORE_SORTKEYS_REFS) && r->refs_len > 0) {
		out->refs = a->text.data + r->refs_off;
		out->refs_len = r->refs_len;
		for (size_t i = 0; i < r->refs_len; i++)
			out->n_refs += out->refs[i] == '\0';
	}
}

/* Note a blob without keys for store_sortkeys_save, if there is room. */
static void
pending_add(struct store *st, uint64_t blob_id, uint64_t size)
{
	struct sortcache_pending *p = st->sk_pending;

	if (p == NULL)
		p = st->sk_pending = xcalloc(1, sizeof(*p));
	if (p->n == PENDING_MAX)
		return;
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 256;
		p->b = xreallocarray(p->b, p->cap, sizeof(*p->b));
	}
	p->b[p->n].blob_id = blob_id;
	p->b[p->n++].size = size;
}

/*
 * The header text of a blob into fields (its cached header fields, else
 * the header of its file, copied): what sortkeys_make reads.
 * STORE_NOT_FOUND: the blob is gone.
 */
static enum store_result
blob_header(struct store *st, uint64_t blob_id, uint64_t size, struct buf *fields)
{
	enum store_result sr;
	const char *data;
	size_t len;

	buf_reset(fields);
	sr = index_mime_get(st->ix, blob_id, INDEX_MIME_FIELDS, fields);
	if (sr != STORE_NOT_FOUND)
		return sr;
	/* not cached (too long): the header of the message itself */
	if ((sr = blob_map(st, blob_id, size, &data, &len)) != STORE_OK)
		return sr;
	buf_reset(fields);
	if (buf_append(fields, data, mime_header_end(data, len)) != 0)
		sr = store_fail(st, STORE_ERROR, "sort keys: the header is too long");
	store_message_unmap(data, len);
	return sr;
}

/* The keys of want of a message without stored ones, from its header:
 * the cached fields, read ahead (store_message_header_fields), or its
 * file.  STORE_NOT_FOUND: no such message. */
static enum store_result
keys_make(struct store_view *v, uint32_t uid, unsigned want,
    struct sortkeys *out)
{
	struct sortcache_ahead *a = v->ska;
	struct index_message m;
	enum store_result sr;
	const char *data;
	size_t len;

	if ((sr = message_row(v, uid, &m)) != STORE_OK)
		return sr;
	buf_reset(&a->fields);
	sr = store_message_header_fields(v, uid, &a->fields);
	if (sr == STORE_OK) {
		sortkeys_make(a->fields.data != NULL ? a->fields.data : "",
		    a->fields.len, want, &a->made, out);
	} else if (sr == STORE_NOT_FOUND) {
		sr = blob_map(v->st, m.blob_id, m.size, &data, &len);
		if (sr == STORE_OK) {
			sortkeys_make(data, mime_header_end(data, len), want,
			    &a->made, out);
			store_message_unmap(data, len);
		}
	}
	if (sr == STORE_OK)
		pending_add(v->st, m.blob_id, m.size);
	return sr;
}

enum store_result
store_message_sortkeys(struct store_view *v, uint32_t uid, unsigned want,
    struct sortkeys *out, bool *stored)
{
	uint64_t snap = index_snapshot(v->st->ix);
	struct sortcache_ahead *a;
	bool walk;
	size_t i;

	if (v->ska == NULL)
		v->ska = xcalloc(1, sizeof(*v->ska));
	a = v->ska;
	walk = a->last != 0 && uid > a->last && uid - a->last <= WALK_STEP;
	a->last = uid;
	/* outside a held snapshot every question is a query of its own */
	i = snap != 0 ? ahead_find(a, snap, want, uid) : SIZE_MAX;
	if (i == SIZE_MAX) {
		if (ahead_read(v, snap, want, uid, snap != 0 && walk ? AHEAD : 1) !=
		    STORE_OK)
			return STORE_ERROR;
		if (snap == 0)
			a->snapshot = 0;    /* good for this question only */
		i = a->n > 0 && a->row[0].uid == uid ? 0 : a->n;
	}
	if (i >= a->n) {        /* no row: stored before step 9, or gone */
		*stored = false;
		return keys_make(v, uid, want, out);
	}
	a->next = i + 1;
	*stored = true;
	row_keys(a, &a->row[i], want, out);
	return STORE_OK;
}

enum store_result
store_sortkeys_save(struct store *st)
{
	struct sortcache_pending *p = st->sk_pending;
	struct buf fields = BUF_INIT, text = BUF_INIT;
	enum store_result r = STORE_OK;

	if (p == NULL || p->n == 0)
		return STORE_OK;
	for (size_t at = 0; at < p->n && r == STORE_OK; at += SAVE_BATCH) {
		if ((r = index_begin(st->ix, true)) != STORE_OK)
			break;
		for (size_t i = at; i < p->n && i < at + SAVE_BATCH && r == STORE_OK; i++) {
			struct sortkeys k;

			r = blob_header(st, p->b[i].blob_id, p->b[i].size, &fields);
			if (r == STORE_NOT_FOUND) {     /* expunged meanwhile */
				r = STORE_OK;
				continue;
			}
			if (r != STORE_OK)
				break;
			sortkeys_make(fields.data != NULL ? fields.data : "", fields.len,
			    SORTKEYS_WANT_ALL, &text, &k);
			r = index_sortkeys_set(st->ix, p->b[i].blob_id, &k);
		}
		if (r == STORE_OK)
			r = index_commit(st->ix);
		else
			index_rollback(st->ix);
	}
	p->n = 0;
	buf_free(&fields);
	buf_free(&text);
	return r;
}
