/*
 * The MIME cache: ENVELOPE, BODY and BODYSTRUCTURE of a message in IMAP
 * syntax, and its PREVIEW text (RFC 8970), rendered once by the MIME
 * parser (mime.h) and kept in index.db (mime_cache), so that FETCH never
 * parses a message for them; and its sort keys (sortkeys.h, sort_keys),
 * so that SORT and THREAD do not either.
 *
 * BODY and BODYSTRUCTURE are rendered in the IMAP4rev1 form
 * (mime_bodystructure()), which differs from IMAP4rev2's only for
 * message/global parts (mime.h, MIME_BS_REV2).
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "mime.h"
#include "store-int.h"

/*
 * The header fields kept as stored (index.db header_cache) for SEARCH: those
 * of ENVELOPE, which are what clients search by, and those SORT and THREAD
 * need (RFC 5256).  A header longer than this in them is not cached.
 */
static const char *const search_fields[] = {
	"Subject", "From", "To", "Cc", "Bcc", "Date", "Sender", "Reply-To",
	"Message-ID", "In-Reply-To", "References",
};
#define CACHE_FIELDS_MAX (32 * 1024)

enum store_result
cache_render(struct store *st, const char *data, size_t len,
    const struct mime_part *root, struct cache *c)
{
	int rc;

	rc = mime_envelope(data, len, root, &c->envelope);
	/* Too long to be worth a copy: SEARCH reads the file instead.  Nor
	 * with a NUL in them: the copy is kept as a C string, so it would end
	 * there, and SEARCH would answer NO from it where the file has the
	 * text after the NUL (found by tests/fuzz/fuzz_search). */
	c->fields_ok = mime_header_fields(data, len, root, search_fields,
	    sizeof(search_fields) / sizeof(search_fields[0]), false,
	    &c->fields) == 0 && c->fields.len <= CACHE_FIELDS_MAX &&
	    (c->fields.len == 0 || memchr(c->fields.data, '\0', c->fields.len) == NULL);
	if (rc == 0)
		rc = mime_bodystructure(data, len, root, false, &c->body);
	if (rc == 0)
		rc = mime_bodystructure(data, len, root, true, &c->bodystructure);
	if (rc == 0)
		rc = mime_preview(data, len, root, &c->preview);
	if (rc == 0)
		thread_refs_parse(data, len, root, &c->refs);
	if (rc == 0)    /* the walk stops at the header's end */
		sortkeys_make(data, mime_header_end(data, len),
		    SORTKEYS_WANT_ALL, &c->keytext, &c->keys);
	if (rc != 0) {
		cache_free(c);
		return store_fail(st, STORE_ERROR, "the MIME structure is too "
		    "large to cache");
	}
	return STORE_OK;
}

enum store_result
cache_make(struct store *st, const char *data, size_t len, struct cache *c)
{
	struct mime_part *root = mime_parse(data, len);
	enum store_result r = cache_render(st, data, len, root, c);

	mime_free(root);
	return r;
}

void
cache_free(struct cache *c)
{
	buf_free(&c->fields);
	buf_free(&c->envelope);
	buf_free(&c->body);
	buf_free(&c->bodystructure);
	buf_free(&c->preview);
	thread_refs_free(&c->refs);
	buf_free(&c->keytext);
}

const char *
cache_fields(const struct cache *c)
{
	return c->fields_ok ? cache_str(&c->fields) : NULL;
}

bool
store_header_field_cached(const char *name)
{
	for (size_t i = 0; i < sizeof(search_fields) / sizeof(search_fields[0]); i++)
		if (strcasecmp(name, search_fields[i]) == 0)
			return true;
	return false;
}

/* The text of a buffer, "" if nothing was ever appended to it. */
const char *
cache_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

/*
 * Parse a stored blob and cache its text now.  APPEND always fills the
 * cache; this is for rows without one, which is how a schema step can have
 * the cache rebuilt by a better parser: it empties mime_cache.
 */
enum store_result
cache_fill(struct store *st, uint64_t blob_id, uint64_t size)
{
	struct cache c = CACHE_INIT;
	enum store_result r;
	const char *data;
	size_t len;

	if (blob_map(st, blob_id, size, &data, &len) != STORE_OK)
		return STORE_ERROR;
	r = cache_make(st, data, len, &c);
	store_message_unmap(data, len);
	if (r != STORE_OK)
		return r;
	if ((r = index_begin(st->ix, true)) == STORE_OK) {
		r = index_mime_set(st->ix, blob_id, cache_str(&c.envelope),
		    cache_str(&c.body), cache_str(&c.bodystructure),
		    cache_str(&c.preview), cache_fields(&c));
		if (r == STORE_OK)
			r = index_sortkeys_set(st->ix, blob_id, &c.keys);
		if (r == STORE_OK)
			r = index_commit(st->ix);
		else
			index_rollback(st->ix);
	}
	cache_free(&c);
	return r;
}
