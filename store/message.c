/*
 * One message of a view: its row, its cached MIME text (and preview), its
 * bytes.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <string.h>

#include "mime.h"
#include "store-int.h"
#include "xmalloc.h"

/* Rows read at once when the uids asked for go up one by one. */
#define READ_AHEAD 256

/*
 * Where uid is among n entries read ahead (each a struct whose first
 * member is its uint32_t uid, size bytes apart, ascending): its index, n
 * if the window covers uid but has no entry for it, SIZE_MAX if the
 * window does not cover it (another snapshot, another range).
 */
static size_t
ahead_find(const struct read_ahead *ra, uint64_t snap, const void *entries,
    size_t size, uint32_t uid)
{
	size_t lo = 0, hi = ra->n;

	if (snap == 0 || ra->snapshot != snap || uid < ra->lo || uid > ra->hi)
		return SIZE_MAX;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint32_t at;

		memcpy(&at, (const char *)entries + mid * size, sizeof(at));
		if (at < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < ra->n) {
		uint32_t at;

		memcpy(&at, (const char *)entries + lo * size, sizeof(at));
		if (at == uid)
			return lo;
	}
	return ra->n;
}

/* A walk up the mailbox under a held snapshot: read ahead now?  (Notes
 * uid as the last asked for.) */
static bool
ahead_wanted(struct read_ahead *ra, uint64_t snap, uint32_t uid)
{
	uint32_t last = ra->last;

	ra->last = uid;
	return snap != 0 && last != 0 && uid > last && uid - last <= 64;
}

/* After reading n entries from uid `from` on; last_uid: the last one's. */
static void
ahead_set(struct read_ahead *ra, uint64_t snap, uint32_t from, size_t n,
    uint32_t last_uid)
{
	ra->snapshot = snap;
	ra->lo = from;
	ra->n = n;
	ra->hi = n == READ_AHEAD ? last_uid : UINT32_MAX;
}

/* From the rows read ahead: OK, NOT_FOUND (in their range, not there),
 * or STORE_ERROR: not covered. */
static enum store_result
batch_lookup(const struct store_view *v, uint64_t snap, uint32_t uid,
    struct index_message *m)
{
	size_t i = ahead_find(&v->batch_ra, snap, v->batch, sizeof(*v->batch), uid);

	if (i == SIZE_MAX)
		return STORE_ERROR;
	if (i == v->batch_ra.n)
		return STORE_NOT_FOUND;
	*m = v->batch[i];
	return STORE_OK;
}

/*
 * Under a held snapshot (store_read_hold), a FETCH or SEARCH that walks
 * the mailbox asks for ascending uids: one range query then answers the
 * next READ_AHEAD of them, instead of a query each.  Random access (FETCH
 * of single messages) reads one row at a time.
 */
static enum store_result
get_row(struct store_view *v, uint32_t uid, struct index_message *m)
{
	uint64_t snap = index_snapshot(v->st->ix);
	enum store_result r;
	size_t n;

	if ((r = batch_lookup(v, snap, uid, m)) != STORE_ERROR)
		goto out;
	if (ahead_wanted(&v->batch_ra, snap, uid)) {
		if (v->batch == NULL)
			v->batch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->batch));
		v->batch_ra.snapshot = 0;
		if (index_message_batch(v->st->ix, v->mb.id, uid, v->batch,
		    READ_AHEAD, &n) != STORE_OK)
			return STORE_ERROR;
		ahead_set(&v->batch_ra, snap, uid, n, n ? v->batch[n - 1].uid : 0);
		r = batch_lookup(v, snap, uid, m);
	} else {
		r = index_message_get(v->st->ix, v->mb.id, uid, m);
	}
out:
	if (r == STORE_NOT_FOUND)
		store_fail(v->st, r, "no such message");
	return r;
}

enum store_result
store_message_get(struct store_view *v, uint32_t uid, struct store_message *out)
{
	struct index_message m;
	enum store_result r;

	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	return view_message(v, &m, out);
}

static enum store_result
cached_text(struct store_view *v, uint32_t uid, enum index_mime which,
    struct buf *out)
{
	struct index_message m;
	enum store_result r;

	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	r = index_mime_get(v->st->ix, m.blob_id, which, out);
	if (r != STORE_NOT_FOUND)
		return r;
	if (cache_fill(v->st, m.blob_id) != STORE_OK)
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
preview_from_file(struct store_view *v, uint64_t blob_id, struct buf *out)
{
	struct mime_part *root;
	enum store_result r;
	const char *data;
	size_t len;
	int rc;

	/* NOT_FOUND: expunged since the snapshot, as store_message_map */
	if ((r = blob_map(v->st, blob_id, &data, &len)) != STORE_OK)
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
	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	r = index_mime_get(v->st->ix, m.blob_id, INDEX_MIME_PREVIEW, out);
	if (r == STORE_NOT_FOUND && !lazy)
		r = preview_from_file(v, m.blob_id, out);
	else if (r == STORE_NOT_FOUND)
		return STORE_OK;
	*available = r == STORE_OK;
	return r;
}

/* From the fields read ahead: OK, NOT_FOUND (no such message, or none
 * cached), or STORE_ERROR: not covered. */
static enum store_result
fields_lookup(const struct store_view *v, uint64_t snap, uint32_t uid,
    struct buf *out)
{
	size_t i = ahead_find(&v->fbatch_ra, snap, v->fbatch, sizeof(*v->fbatch),
	    uid);

	if (i == SIZE_MAX)
		return STORE_ERROR;
	if (i == v->fbatch_ra.n || v->fbatch[i].len == SIZE_MAX)
		return STORE_NOT_FOUND;
	if (v->fbatch[i].len > 0 && buf_append(out, v->ftext.data +
	    v->fbatch[i].off, v->fbatch[i].len) != 0)
		return store_fail(v->st, STORE_ERROR, "header fields too long");
	return STORE_OK;
}

/* As get_row: read ahead on a walk up the mailbox under a held snapshot. */
enum store_result
store_message_header_fields(struct store_view *v, uint32_t uid, struct buf *out)
{
	uint64_t snap = index_snapshot(v->st->ix);
	struct index_message m;
	enum store_result r;
	size_t n;

	if ((r = fields_lookup(v, snap, uid, out)) != STORE_ERROR)
		return r;
	if (ahead_wanted(&v->fbatch_ra, snap, uid)) {
		if (v->fbatch == NULL)
			v->fbatch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->fbatch));
		v->fbatch_ra.snapshot = 0;
		if (index_fields_batch(v->st->ix, v->mb.id, uid, READ_AHEAD,
		    v->fbatch, &n, &v->ftext) != STORE_OK)
			return STORE_ERROR;
		ahead_set(&v->fbatch_ra, snap, uid, n, n ? v->fbatch[n - 1].uid : 0);
		return fields_lookup(v, snap, uid, out);
	}
	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	return index_mime_get(v->st->ix, m.blob_id, INDEX_MIME_FIELDS, out);
}

/*
 * The file is immutable and mapped private and read-only: it stays valid
 * even if another session expunges the message and unlinks the file.  A
 * delivered message is its prefix and then the file (blob_map), and its
 * size in the row counts both.
 */
enum store_result
store_message_map(struct store_view *v, uint32_t uid, const char **data,
    size_t *len)
{
	struct index_message m;
	enum store_result r;

	*data = NULL;
	*len = 0;
	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	if ((r = blob_map(v->st, m.blob_id, data, len)) != STORE_OK) {
		if (r == STORE_NOT_FOUND)
			log_warnx("%s: the message is gone (expunged meanwhile, "
			    "or the store needs cairnctl fsck)", store_error(v->st));
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
