/*
 * THREADID (RFC 8474 §5.2): which conversation a message belongs to, for
 * the whole user, across mailboxes, as Dovecot and JMAP servers keep it.
 *
 * A thread is a number from meta.last_thread_id: handed out once, so a
 * lower one is an older thread.  thread_msgids (schema.sql, step 6) maps
 * every msg-id seen to the thread it was first seen in.  A new message
 * (APPEND) looks up its own Message-ID, its References and its
 * In-Reply-To there, and joins the oldest thread any of them is in, or
 * starts a new one; then its ids that are not recorded yet are recorded in
 * its thread.  Its own id is looked up too, so that a parent that arrives
 * after its reply (whose References recorded the parent's id) joins the
 * reply's thread.  A reply filed in Sent and its parent in INBOX share a
 * thread: the table is per user, not per mailbox.
 *
 * Threads never merge.  RFC 8474 has a message's THREADID never change,
 * so a message that links two threads joins the older one and nothing
 * else moves: the ids already recorded keep their thread, and later
 * replies to the younger thread's messages stay in it.  COPY and MOVE
 * copy the row, thread id and all (§5.2: one EMAILID, one THREADID).
 * Subjects are not compared: a reply without References or In-Reply-To
 * starts a thread of its own.
 *
 * The work per message is bounded: at most THREAD_REFS_MAX + 1 ids of at
 * most THREAD_MSGID_MAX bytes, one indexed lookup each and an insert for
 * each one not recorded yet.
 *
 * The order of arrival matters where References are incomplete: if A
 * is here, and C arrives naming only B (In-Reply-To), C starts a thread;
 * B, naming A, then joins A's, and C stays apart.  Most clients send the
 * whole References chain, and then the order matters little.
 *
 * Messages stored before step 6 have no thread: store_open calls
 * thread_backfill, which gives them one by the same rule as if they were
 * appended again in the order of their internal dates, reading each
 * message's ids from its cached header fields (or its file when they
 * were not cached), a batch per write transaction so that other sessions
 * are not held up long.  It runs once per store, before a session can
 * FETCH, so a THREADID is never NIL first and a value later.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "store-int.h"
#include "xmalloc.h"

/* Rows looked at per write transaction of thread_backfill. */
#define BACKFILL_BATCH 256

/* ---- the ids of a message ---------------------------------------------- */


static bool
known(const struct thread_refs *t, const char *id)
{
	if (t->own != NULL && strcmp(t->own, id) == 0)
		return true;
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->ref[i], id) == 0)
			return true;
	return false;
}

/* Keep the last THREAD_REFS_MAX: the nearest ancestors. */
static void
add_ref(struct thread_refs *t, const char *id)
{
	if (known(t, id))
		return;
	if (t->n == THREAD_REFS_MAX) {
		free(t->ref[0]);
		memmove(t->ref, t->ref + 1, (t->n - 1) * sizeof(t->ref[0]));
		t->n--;
	}
	t->ref[t->n++] = xstrdup(id);
}

/* Every valid msg-id of the first field called name, through add_ref. */
static void
add_field(struct thread_refs *t, const char *data, size_t len,
    const struct mime_part *root, const char *name, struct buf *id)
{
	const char *p, *end;
	size_t vlen;

	if (mime_header_span(data, len, root, name, &p, &vlen) != 0)
		return;
	end = p + vlen;
	while (mime_msgid_next_kept(&p, end, id, THREAD_MSGID_MAX))
		add_ref(t, id->data);
}

void
thread_refs_parse(const char *data, size_t len, const struct mime_part *root,
    struct thread_refs *t)
{
	struct buf id = BUF_INIT;
	const char *p, *end;
	size_t vlen;

	thread_refs_free(t);
	if (mime_header_span(data, len, root, "Message-ID", &p, &vlen) == 0) {
		end = p + vlen;
		if (mime_msgid_next_kept(&p, end, &id, THREAD_MSGID_MAX))
			t->own = xstrdup(id.data);
	}
	/*
	 * References first: its last id is the parent, which In-Reply-To
	 * usually names too, and a long References must not push that out.
	 */
	add_field(t, data, len, root, "References", &id);
	add_field(t, data, len, root, "In-Reply-To", &id);
	buf_free(&id);
}

void
thread_refs_free(struct thread_refs *t)
{
	free(t->own);
	t->own = NULL;
	for (size_t i = 0; i < t->n; i++)
		free(t->ref[i]);
	t->n = 0;
}

/* ---- the thread of a message -------------------------------------------- */

/* The ids of t, own first, into ids; their count. */
static size_t
all_ids(const struct thread_refs *t, const char *ids[THREAD_REFS_MAX + 1])
{
	size_t n = 0;

	if (t->own != NULL)
		ids[n++] = t->own;
	for (size_t i = 0; i < t->n; i++)
		ids[n++] = t->ref[i];
	return n;
}

enum store_result
thread_assign(struct store *st, const struct thread_refs *t,
    uint64_t *thread_id)
{
	const char *ids[THREAD_REFS_MAX + 1];
	bool recorded[THREAD_REFS_MAX + 1];
	size_t n = all_ids(t, ids);
	uint64_t oldest = 0, found;
	enum store_result r;

	for (size_t i = 0; i < n; i++) {
		r = index_thread_find(st->ix, ids[i], &found);
		if (r != STORE_OK && r != STORE_NOT_FOUND)
			return STORE_ERROR;
		recorded[i] = r == STORE_OK;
		if (recorded[i] && (oldest == 0 || found < oldest))
			oldest = found;
	}
	if (oldest == 0 && index_thread_new(st->ix, &oldest) != STORE_OK)
		return STORE_ERROR;
	/* an id keeps the thread it was first seen in: only new ones */
	for (size_t i = 0; i < n; i++)
		if (!recorded[i] && index_thread_record(st->ix, ids[i], oldest) !=
		    STORE_OK)
			return STORE_ERROR;
	*thread_id = oldest;
	return STORE_OK;
}

/* ---- messages stored before threads ------------------------------------- */

/*
 * The ids of a stored message: from its cached header fields, which hold
 * Message-ID, In-Reply-To and References (cache.c), else from its file.
 * A file that cannot be read leaves t empty (a thread of its own) rather
 * than a store that cannot be opened; STORE_ERROR is the index's.
 */
static enum store_result
stored_refs(struct store *st, uint64_t blob_id, struct thread_refs *t)
{
	struct buf fields = BUF_INIT;
	struct mime_part *root;
	enum store_result r;
	const char *data;
	size_t len;

	r = index_mime_get(st->ix, blob_id, INDEX_MIME_FIELDS, &fields);
	if (r == STORE_OK) {
		root = mime_parse(cache_str(&fields), fields.len);
		thread_refs_parse(cache_str(&fields), fields.len, root, t);
		mime_free(root);
	} else if (r == STORE_NOT_FOUND &&
	    blob_map(st, blob_id, BLOB_SIZE_UNKNOWN, &data, &len) == STORE_OK) {
		root = mime_parse(data, len);
		thread_refs_parse(data, len, root, t);
		mime_free(root);
		store_message_unmap(data, len);
	} else if (r == STORE_NOT_FOUND) {
		log_warnx("store: blob %016" PRIx64 ": no header to thread "
		    "by: %s", blob_id, st->err);
	}
	buf_free(&fields);
	return r == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

/* Every row of one blob (one EMAILID) gets one thread: the one a row of it
 * already has (a COPY an older Cairn made of a row that had one, or a row
 * done earlier in the batch), else by the rule of APPEND.  *rows: the
 * rows that got it. */
static enum store_result
backfill_blob(struct store *st, uint64_t blob_id, size_t *rows)
{
	struct thread_refs t = THREAD_REFS_INIT;
	uint64_t thread_id;
	enum store_result r;

	r = index_thread_of_blob(st->ix, blob_id, &thread_id);
	if (r == STORE_NOT_FOUND) {
		r = stored_refs(st, blob_id, &t);
		if (r == STORE_OK)
			r = thread_assign(st, &t, &thread_id);
		thread_refs_free(&t);
	}
	if (r != STORE_OK)
		return STORE_ERROR;
	return index_thread_set_blob(st->ix, blob_id, thread_id, rows);
}

/*
 * One write transaction; *n: the rows found without a thread (0: none was
 * left); *rows: those given one.  Each batch finishes the blobs it finds,
 * so the next finds others.
 */
static enum store_result
backfill_batch(struct store *st, size_t *n, uint64_t *rows)
{
	uint64_t blobs[BACKFILL_BATCH];
	enum store_result r;
	size_t done;

	*n = 0;
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	r = index_thread_unassigned(st->ix, blobs, BACKFILL_BATCH, n);
	for (size_t i = 0; r == STORE_OK && i < *n; i++) {
		r = backfill_blob(st, blobs[i], &done);
		*rows += done;
	}
	if (r == STORE_OK)
		return index_commit(st->ix);
	index_rollback(st->ix);
	return r;
}

enum store_result
thread_backfill(struct store *st)
{
	uint64_t total = 0, blob;
	size_t n;

	/* At every open but the first after the upgrade this read finds the
	 * partial index empty, and no write lock is taken. */
	if (index_thread_unassigned(st->ix, &blob, 1, &n) != STORE_OK)
		return STORE_ERROR;
	while (n > 0)
		if (backfill_batch(st, &n, &total) != STORE_OK)
			return STORE_ERROR;
	if (total > 0)
		log_info("store: gave a thread to %llu messages stored before "
		    "THREADID", (unsigned long long)total);
	return STORE_OK;
}
