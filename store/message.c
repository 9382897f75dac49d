/*
 * One message of a view: its row, its cached MIME text, its bytes.
 */
#include "autoconfig.h"

#include <sys/mman.h>

#include "store-int.h"

static enum store_result
get_row(struct store_view *v, uint32_t uid, struct index_message *m)
{
	enum store_result r = index_message_get(v->st->ix, v->mb.id, uid, m);

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
	if (blob_map(v->st, m.blob_id, data, len) != STORE_OK)
		return STORE_ERROR;
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
