/*
 * One message of a view: its row, its cached MIME text (and preview), its
 * bytes.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <string.h>

#include "mime.h"
#include "store-int.h"
#include "uidsearch.h"
#include "xmalloc.h"

/* Rows read at once when the uids asked for go up one by one. */
#define READ_AHEAD 256
/* The most a uid may be above the last one asked for, in such a walk. */
#define WALK_STEP 64

/* Is uid the next step of a walk up the mailbox from last? */
static bool
walk_step(uint32_t last, uint32_t uid)
{
	return last != 0 && uid > last && uid - last <= WALK_STEP;
}

static uint32_t
batch_uid_at(void *batch, uint32_t i)
{
	return ((const struct index_message *)batch)[i].uid;
}

/*
 * Where uid is among the rows read ahead: its index, ra.n if they cover
 * uid but have no row for it, SIZE_MAX if they do not cover it (another
 * snapshot, another range).  A walk asks for the row after the one found
 * last, or that one again (its fields, its file): those are looked at
 * before searching.
 */
static size_t
ahead_find(const struct store_view *v, uint64_t snap, uint32_t uid)
{
	const struct read_ahead *ra = &v->ra;
	size_t i;

	if (snap == 0 || ra->snapshot != snap || uid < ra->lo || uid > ra->hi)
		return SIZE_MAX;
	for (i = ra->next > 0 ? ra->next - 1 : 0; i <= ra->next && i < ra->n; i++)
		if (v->batch[i].uid == uid)
			return i;
	i = uidsearch_lower(batch_uid_at, v->batch, 0, (uint32_t)ra->n, uid);
	return i < ra->n && v->batch[i].uid == uid ? i : ra->n;
}

/*
 * Up to max rows from uid `from` on, under snapshot snap; with their
 * cached header fields while a search of the headers walks the mailbox
 * too (store_message_header_fields), in the same query.
 */
static enum store_result
ahead_read(struct store_view *v, uint64_t snap, uint32_t from, size_t max)
{
	struct read_ahead *ra = &v->ra;
	bool fields = ra->fields_wanted && ra->fields_snapshot == snap;
	size_t n;

	if (v->batch == NULL) {
		v->batch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->batch));
		v->fbatch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->fbatch));
	}
	ra->snapshot = 0;
	if (index_message_batch(v->st->ix, v->mb.id, from, max, v->batch,
	    fields ? v->fbatch : NULL, &v->ftext, &n) != STORE_OK)
		return STORE_ERROR;
	ra->snapshot = snap;
	ra->lo = from;
	ra->hi = n == max ? v->batch[n - 1].uid : UINT32_MAX;
	ra->n = n;
	ra->next = 0;
	ra->with_fields = fields;
	return STORE_OK;
}

/*
 * Under a held snapshot (store_read_hold), a FETCH or SEARCH that walks
 * the mailbox asks for ascending uids: one range query then answers the
 * next READ_AHEAD of them, instead of a query each.  Random access (FETCH
 * of single messages, the few candidates of a full-text search) reads the
 * one row, and keeps it too: the same message's next question (its
 * fields, its file) asks no query again.  Outside a held snapshot every
 * read is a query of its own.  *at (may be NULL): the row's index among
 * those read ahead, SIZE_MAX when it was read outside a held snapshot.
 */
static enum store_result
get_row(struct store_view *v, uint32_t uid, struct index_message *m, size_t *at)
{
	uint64_t snap = index_snapshot(v->st->ix);
	bool walk = walk_step(v->ra.last, uid);
	enum store_result r;
	size_t i = SIZE_MAX;

	v->ra.last = uid;
	if (snap == 0) {
		r = index_message_get(v->st->ix, v->mb.id, uid, m);
		goto out;
	}
	if ((i = ahead_find(v, snap, uid)) == SIZE_MAX) {
		if (ahead_read(v, snap, uid, walk ? READ_AHEAD : 1) != STORE_OK)
			return STORE_ERROR;
		/* covered now: the rows read start at uid */
		i = ahead_find(v, snap, uid);
	}
	if (i < v->ra.n) {
		*m = v->batch[i];
		v->ra.next = i + 1;
		r = STORE_OK;
	} else {
		i = SIZE_MAX;
		r = STORE_NOT_FOUND;
	}
out:
	if (at != NULL)
		*at = i;
	if (r == STORE_NOT_FOUND)
		store_fail(v->st, r, "no such message");
	return r;
}

enum store_result
message_row(struct store_view *v, uint32_t uid, struct index_message *m)
{
	return get_row(v, uid, m, NULL);
}

enum store_result
store_message_get(struct store_view *v, uint32_t uid, struct store_message *out)
{
	struct index_message m;
	enum store_result r;

	if ((r = get_row(v, uid, &m, NULL)) != STORE_OK)
		return r;
	return view_message(v, &m, out);
}

static enum store_result
cached_text(struct store_view *v, uint32_t uid, enum index_mime which,
    struct buf *out)
{
	struct index_message m;
	enum store_result r;

	if ((r = get_row(v, uid, &m, NULL)) != STORE_OK)
		return r;
	r = index_mime_get(v->st->ix, m.blob_id, which, out);
	if (r != STORE_NOT_FOUND)
		return r;
	if (cache_fill(v->st, m.blob_id, m.size) != STORE_OK)
		return STORE_ERROR;
	r = index_mime_get(v->st->ix, m.blob_id, which, out);
	return r == STORE_NOT_FOUND ?
	    store_fail(v->st, STORE_ERROR, "no MIME cache") : r;
}

enum store_result
store_message_envelope(struct store_view *v, uint32_t uid, struct buf *out)
{
	return cached_text(v, uid, INDEX_MIME_ENVELOPE, out);
}

enum store_result
store_message_bodystructure(struct store_view *v, uint32_t uid, bool extended,
    struct buf *out)
{
	return cached_text(v, uid, extended ? INDEX_MIME_BODYSTRUCTURE :
	    INDEX_MIME_BODY, out);
}

/* The message file parsed for its preview, as APPEND would have made it. */
static enum store_result
preview_from_file(struct store_view *v, const struct index_message *m,
    struct buf *out)
{
	struct mime_part *root;
	enum store_result r;
	const char *data;
	size_t len;
	int rc;

	/* NOT_FOUND: expunged since the snapshot, as store_message_map */
	if ((r = blob_map(v->st, m->blob_id, m->size, &data, &len)) != STORE_OK)
		return r;
	root = mime_parse(data, len);
	rc = mime_preview(data, len, root, out);
	mime_free(root);
	store_message_unmap(data, len);
	return rc == 0 ? STORE_OK :
	    store_fail(v->st, STORE_ERROR, "preview: the text is too long");
}

enum store_result
store_message_preview(struct store_view *v, uint32_t uid, bool lazy,
    struct buf *out, bool *available)
{
	struct index_message m;
	enum store_result r;

	*available = false;
	if ((r = get_row(v, uid, &m, NULL)) != STORE_OK)
		return r;
	r = index_mime_get(v->st->ix, m.blob_id, INDEX_MIME_PREVIEW, out);
	if (r == STORE_NOT_FOUND && !lazy)
		r = preview_from_file(v, &m, out);
	else if (r == STORE_NOT_FOUND)
		return STORE_OK;
	*available = r == STORE_OK;
	return r;
}

/*
 * From the rows read ahead when they came with their fields, else from
 * the cache by the message's blob.  Asked for on a walk up the mailbox,
 * or the first time under a snapshot (a header search asks for nearly
 * every message the row cannot decide), the fields come with the next
 * rows read ahead: one query for both, each row read once.  Asked for
 * here and there (a search the row mostly decides), they do not, and
 * the rows read ahead carry no fields nobody asks for.
 */
enum store_result
store_message_header_fields(struct store_view *v, uint32_t uid, struct buf *out)
{
	uint64_t snap = index_snapshot(v->st->ix);
	struct read_ahead *ra = &v->ra;
	const struct index_fields *f;
	struct index_message m;
	enum store_result r;
	size_t i;

	ra->fields_wanted = ra->fields_snapshot != snap ||
	    walk_step(ra->fields_last, uid);
	ra->fields_snapshot = snap;
	ra->fields_last = uid;
	if ((r = get_row(v, uid, &m, &i)) != STORE_OK)
		return r;
	if (i == SIZE_MAX || !ra->with_fields)
		return index_mime_get(v->st->ix, m.blob_id, INDEX_MIME_FIELDS, out);
	f = &v->fbatch[i];
	if (f->len == SIZE_MAX)
		return STORE_NOT_FOUND;
	if (f->len > 0 && buf_append(out, v->ftext.data + f->off, f->len) != 0)
		return store_fail(v->st, STORE_ERROR, "header fields too long");
	return STORE_OK;
}

/*
 * The file is immutable and mapped private and read-only: it stays valid
 * even if another session expunges the message and unlinks the file.  A
 * delivered message is its prefix and then the file (blob_map), and its
 * size in the row counts both: that size tells blob_map whether there is
 * a prefix to read at all.
 */
enum store_result
store_message_map(struct store_view *v, uint32_t uid, const char **data,
    size_t *len)
{
	struct index_message m;
	enum store_result r;

	*data = NULL;
	*len = 0;
	if ((r = get_row(v, uid, &m, NULL)) != STORE_OK)
		return r;
	if ((r = blob_map(v->st, m.blob_id, m.size, data, len)) != STORE_OK) {
		/* Read from a snapshot, the row may be one another session has
		 * expunged since and whose file it unlinked after its commit:
		 * a normal race (the client gets the message as expunged), not
		 * worth a warning each time under load.  Read just now, a row
		 * without its file is damage. */
		if (r == STORE_NOT_FOUND && index_snapshot(v->st->ix) != 0)
			log_debug("%s: the message was expunged meanwhile",
			    store_error(v->st));
		else if (r == STORE_NOT_FOUND)
			log_warnx("%s: the message file is missing (expunged "
			    "meanwhile, or the store needs cairnctl fsck)",
			    store_error(v->st));
		return r;
	}
	if (*len != m.size) {
		store_message_unmap(*data, *len);
		*data = NULL;
		*len = 0;
		return store_fail(v->st, STORE_ERROR, "message file size differs "
		    "from the index: the store is damaged");
	}
	return STORE_OK;
}

/* A message with a prefix is one mapping of two parts: blob.c knows how
 * to find all of it from data and len. */
void
store_message_unmap(const char *data, size_t len)
{
	blob_unmap(data, len);
}
