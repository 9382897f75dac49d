/*
 * One message of a view: its row, its cached MIME text, its bytes.
 */
#include "autoconfig.h"

#include <sys/mman.h>

#include "store-int.h"
#include "xmalloc.h"

/* Rows read at once when the uids asked for go up one by one. */
#define READ_AHEAD 256

/* From the rows read ahead: OK, NOT_FOUND (in their range, not there),
 * or STORE_ERROR: not covered. */
static enum store_result
batch_lookup(const struct store_view *v, uint64_t snap, uint32_t uid,
    struct index_message *m)
{
	size_t lo = 0, hi = v->n_batch;

	if (snap == 0 || v->batch_snapshot != snap || uid < v->batch_lo ||
	    uid > v->batch_hi)
		return STORE_ERROR;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->batch[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->n_batch || v->batch[lo].uid != uid)
		return STORE_NOT_FOUND;
	*m = v->batch[lo];
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
	uint32_t last = v->last_get;
	enum store_result r;

	v->last_get = uid;
	if ((r = batch_lookup(v, snap, uid, m)) != STORE_ERROR)
		goto out;
	if (snap != 0 && last != 0 && uid > last && uid - last <= 64) {
		if (v->batch == NULL)
			v->batch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->batch));
		v->batch_snapshot = 0;
		if (index_message_batch(v->st->ix, v->mb.id, uid, v->batch,
		    READ_AHEAD, &v->n_batch) != STORE_OK)
			return STORE_ERROR;
		v->batch_snapshot = snap;
		v->batch_lo = uid;
		v->batch_hi = v->n_batch == READ_AHEAD ?
		    v->batch[v->n_batch - 1].uid : UINT32_MAX;
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

/* From the fields read ahead: OK, NOT_FOUND (no such message, or none
 * cached), or STORE_ERROR: not covered. */
static enum store_result
fields_lookup(const struct store_view *v, uint64_t snap, uint32_t uid,
    struct buf *out)
{
	size_t lo = 0, hi = v->n_fbatch;

	if (snap == 0 || v->fbatch_snapshot != snap || uid < v->fbatch_lo ||
	    uid > v->fbatch_hi)
		return STORE_ERROR;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (v->fbatch[mid].uid < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == v->n_fbatch || v->fbatch[lo].uid != uid ||
	    v->fbatch[lo].len == SIZE_MAX)
		return STORE_NOT_FOUND;
	if (v->fbatch[lo].len > 0 && buf_append(out, v->ftext.data +
	    v->fbatch[lo].off, v->fbatch[lo].len) != 0)
		return store_fail(v->st, STORE_ERROR, "header fields too long");
	return STORE_OK;
}

/* As get_row: read ahead on a walk up the mailbox under a held snapshot. */
enum store_result
store_message_header_fields(struct store_view *v, uint32_t uid, struct buf *out)
{
	uint64_t snap = index_snapshot(v->st->ix);
	uint32_t last = v->last_fields;
	struct index_message m;
	enum store_result r;

	v->last_fields = uid;
	if ((r = fields_lookup(v, snap, uid, out)) != STORE_ERROR)
		return r;
	if (snap != 0 && last != 0 && uid > last && uid - last <= 64) {
		if (v->fbatch == NULL)
			v->fbatch = xreallocarray(NULL, READ_AHEAD, sizeof(*v->fbatch));
		v->fbatch_snapshot = 0;
		if (index_fields_batch(v->st->ix, v->mb.id, uid, READ_AHEAD,
		    v->fbatch, &v->n_fbatch, &v->ftext) != STORE_OK)
			return STORE_ERROR;
		v->fbatch_snapshot = snap;
		v->fbatch_lo = uid;
		v->fbatch_hi = v->n_fbatch == READ_AHEAD ?
		    v->fbatch[v->n_fbatch - 1].uid : UINT32_MAX;
		return fields_lookup(v, snap, uid, out);
	}
	if ((r = get_row(v, uid, &m)) != STORE_OK)
		return r;
	return index_mime_get(v->st->ix, m.blob_id, INDEX_MIME_FIELDS, out);
}

/*
 * The file is immutable and mapped private and read-only: it stays valid
 * even if another session expunges the message and unlinks the file.
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

void
store_message_unmap(const char *data, size_t len)
{
	if (data != NULL && len > 0)
		munmap((void *)data, len);
}
