/*
 * The full-text index for SEARCH BODY and TEXT (schema.sql, version 5).
 *
 * What is indexed: for each blob (COPY shares blobs, so a copy costs
 * nothing), the text SEARCH reads of it (mime-text.c, the same functions
 * the matcher uses): the header's as one row, the body's as another, in
 * SQLite FTS5 with the trigram tokenizer.  A search string of three
 * characters or more occurs in a text only if each of its trigrams does,
 * so the messages whose rows hold them all are the only candidates: the
 * index narrows, SEARCH's exact check on the message decides (a message
 * holding every trigram but not the string is a false positive that the
 * check removes).  Messages without a document (stored before the index
 * existed) or too large to index are always candidates.
 *
 * When: APPEND makes its message's document from the parse that makes
 * the MIME cache (append.c: the message is parsed once) and queues it
 * (fts_enqueue); the queue is added in one write transaction once it
 * holds FTS_QUEUE_MAX documents or FTS_QUEUE_BYTES of them, when the
 * store is closed (the session ends), and before a BODY or TEXT search
 * (store_fts_update, which also indexes every other message of the
 * mailbox without a document: stored by an older Cairn, delivered, or
 * queued by a process that died).  One FTS5 segment per
 * message, as indexing in APPEND's own transaction would write, made
 * APPEND write about 110 KB more per message (the segment, the structure
 * record, merges; measured: 2.6 times the bytes, APPEND 2 to 4 times
 * slower); a batch of 64 shares them.
 *
 * Removal: the transaction that frees a blob (expunge.c, fsck.c) makes
 * its document dead (index_blob_remove: no search reaches it); dead documents
 * leave fts_text a bounded number per transaction that frees blobs and
 * per batch indexed (fts_purge), as taking rows out of FTS5 costs as much
 * as putting them in.
 *
 * Crash safety: a document is added in a transaction of its own, after
 * the message's, and made dead in the one that frees its blob.  A killed
 * process leaves at worst messages without a document, which SEARCH
 * reads as before and indexes at the next BODY or TEXT search of their
 * mailbox.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "mime.h"
#include "store-int.h"
#include "xmalloc.h"

/* The folded text of a header or a body indexed at most (bytes); a
 * message with more is not indexed: SEARCH reads it every time. */
#define FTS_TEXT_MAX (8u * 1024 * 1024)
/* Trigrams asked of the index for one string: more narrow no further in
 * practice, and each costs a doclist read. */
#define FTS_QUERY_TRIGRAMS 24
/* On-demand indexing: messages, and bytes of text, per write transaction,
 * so that other sessions' writes wait a few tens of milliseconds at most. */
#define FTS_BATCH_MESSAGES 200
#define FTS_BATCH_BYTES (4u * 1024 * 1024)
/* Seconds between progress lines in the log. */
#define FTS_PROGRESS_SECONDS 5
/* APPENDed messages' documents queued before they are added together,
 * and the bytes of them (texts and packed texts) that flush the queue
 * sooner: they wait in the session's memory, which an idle session keeps. */
#define FTS_QUEUE_MAX 64
#define FTS_QUEUE_BYTES (512u * 1024)

/* ---- packing: what was indexed, kept deflated --------------------------- */

/* 4 bytes of length (big-endian), then the zlib stream. */
static int
pack(const struct buf *text, unsigned char **out, size_t *outlen)
{
	uLong bound = compressBound((uLong)text->len);
	uLongf zlen = bound;
	unsigned char *p = xmalloc(4 + (size_t)bound);
	size_t n = text->len;

	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	if (compress2(p + 4, &zlen, (const Bytef *)(n > 0 ? text->data : ""),
	    (uLong)n, Z_DEFAULT_COMPRESSION) != Z_OK) {
		free(p);
		return -1;
	}
	*out = p;
	*outlen = 4 + (size_t)zlen;
	return 0;
}

/* The text back (NUL-terminated, *len bytes); NULL when damaged. */
static char *
unpack(const struct buf *packed, size_t *len)
{
	const unsigned char *p = (const unsigned char *)packed->data;
	size_t n;
	uLongf got;
	char *text;

	if (packed->len < 4)
		return NULL;
	n = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (n > FTS_TEXT_MAX)
		return NULL;
	text = xmalloc(n + 1);
	got = (uLongf)n;
	if (uncompress((Bytef *)text, &got, p + 4, (uLong)(packed->len - 4)) !=
	    Z_OK || got != n) {
		free(text);
		return NULL;
	}
	text[n] = '\0';
	*len = n;
	return text;
}

/* ---- making a document ---------------------------------------------------- */

void
fts_doc_free(struct fts_doc *d)
{
	buf_free(&d->header);
	buf_free(&d->body);
	free(d->header_packed);
	free(d->body_packed);
	memset(d, 0, sizeof(*d));
}

/* The document of a message, made outside any transaction. */
enum store_result
fts_make(struct store *st, const char *data, size_t len,
    const struct mime_part *root, struct fts_doc *d)
{
	int rc;

	memset(d, 0, sizeof(*d));
	d->header.limit = FTS_TEXT_MAX;
	d->body.limit = FTS_TEXT_MAX;
	rc = mime_search_header(data, len, &d->header);
	if (rc == 0)
		rc = mime_search_body(data, len, root, &d->body);
	if (rc != 0) {
		/* too much text: no document to speak of, always read */
		buf_free(&d->header);
		buf_free(&d->body);
		return STORE_OK;
	}
	if (pack(&d->header, &d->header_packed, &d->header_packed_len) != 0 ||
	    pack(&d->body, &d->body_packed, &d->body_packed_len) != 0) {
		fts_doc_free(d);
		return store_fail(st, STORE_ERROR, "full-text index: cannot "
		    "compress the text");
	}
	d->indexed = true;
	return STORE_OK;
}

/* In a write transaction; STORE_EXISTS when the blob has a document. */
static enum store_result
fts_add(struct store *st, uint64_t blob_id, const struct fts_doc *d)
{
	struct index_fts_doc x = { NULL, NULL, 0, 0, NULL, NULL, 0, 0 };

	if (d->indexed) {
		x.header = d->header.data != NULL ? d->header.data : "";
		x.body = d->body.data != NULL ? d->body.data : "";
		x.header_len = d->header.len;
		x.body_len = d->body.len;
		x.header_packed = d->header_packed;
		x.body_packed = d->body_packed;
		x.header_packed_len = d->header_packed_len;
		x.body_packed_len = d->body_packed_len;
	}
	return index_fts_add(st->ix, blob_id, &x);
}

/* ---- removing them -------------------------------------------------------- */

/* Take one dead document's rows out of fts_text, and the document. */
static enum store_result
purge_one(struct store *st, int64_t docid, bool indexed, const struct buf *hp,
    const struct buf *bp)
{
	char *header = NULL, *body = NULL;
	size_t hlen = 0, blen = 0;
	enum store_result r;

	if (indexed && ((header = unpack(hp, &hlen)) == NULL ||
	    (body = unpack(bp, &blen)) == NULL)) {
		/* the rows stay, under a docid never used again: room lost,
		 * never a wrong answer */
		log_warnx("store: full-text document %lld is damaged: its "
		    "index rows stay", (long long)docid);
		free(header);
		header = NULL;
	}
	r = index_fts_remove(st->ix, docid, header, hlen,
	    header != NULL ? body : NULL, blen);
	free(header);
	free(body);
	return r;
}

/*
 * The texts kept are what was indexed, so the rows come out exactly.  At
 * most max documents, so that the transaction stays short.
 */
enum store_result
fts_purge(struct store *st, size_t max)
{
	struct buf hp = BUF_INIT, bp = BUF_INIT;
	enum store_result r = STORE_OK;
	size_t done = 0;

	while (done < max && r == STORE_OK) {
		bool indexed;
		int64_t docid;

		buf_reset(&hp);
		buf_reset(&bp);
		r = index_fts_dead(st->ix, &docid, &indexed, &hp, &bp);
		if (r == STORE_OK)
			r = purge_one(st, docid, indexed, &hp, &bp);
		done++;
	}
	if (done > 1)
		log_debug("store: full-text index: %zu dead documents purged",
		    r == STORE_NOT_FOUND ? done - 1 : done);
	buf_free(&hp);
	buf_free(&bp);
	return r == STORE_NOT_FOUND ? STORE_OK : r;
}

/* ---- batches: documents made outside, added in one transaction ---------- */

struct batch {
	uint64_t blob[FTS_BATCH_MESSAGES];
	struct fts_doc doc[FTS_BATCH_MESSAGES];
	size_t n;
	size_t bytes;      /* of the documents: texts and packed texts */
};

/* APPEND's queue: a batch that fills more slowly (FTS_QUEUE_MAX). */
struct fts_queue {
	struct batch b;
};

static size_t
doc_bytes(const struct fts_doc *d)
{
	return d->header.len + d->body.len + d->header_packed_len +
	    d->body_packed_len;
}

static void
batch_clear(struct batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		fts_doc_free(&b->doc[i]);
	b->n = 0;
	b->bytes = 0;
}

/* Read and make the document of one blob outside any transaction; a blob
 * whose file went meanwhile (expunged) is skipped. */
static enum store_result
batch_add(struct store *st, struct batch *b, uint64_t blob_id)
{
	struct mime_part *root;
	enum store_result r;
	const char *data;
	size_t len;

	if ((r = blob_map(st, blob_id, BLOB_SIZE_UNKNOWN, &data, &len)) ==
	    STORE_NOT_FOUND)
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	root = mime_parse(data, len);
	r = fts_make(st, data, len, root, &b->doc[b->n]);
	mime_free(root);
	blob_unmap(data, len);
	if (r != STORE_OK)
		return r;
	b->blob[b->n] = blob_id;
	b->bytes += doc_bytes(&b->doc[b->n]);
	b->n++;
	return STORE_OK;
}

/* One short write transaction: each blob that still exists and has no
 * document yet (another session may be indexing too) gets one. */
static enum store_result
batch_commit(struct store *st, struct batch *b)
{
	enum store_result r = STORE_OK;

	if (b->n == 0)
		return STORE_OK;
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	for (size_t i = 0; i < b->n && r == STORE_OK; i++) {
		bool known;

		if ((r = index_blob_known(st->ix, b->blob[i], &known)) != STORE_OK ||
		    !known)
			continue;
		if ((r = fts_add(st, b->blob[i], &b->doc[i])) == STORE_EXISTS)
			r = STORE_OK;
	}
	/* as many dead documents out as documents in, at most */
	if (r == STORE_OK)
		r = fts_purge(st, b->n);
	if (r == STORE_OK)
		r = index_commit(st->ix);
	else
		index_rollback(st->ix);
	batch_clear(b);
	return r;
}

/* ---- APPEND's queue ------------------------------------------------------- */

/* Add what APPEND queued; a failure leaves those messages without a
 * document, for the next BODY or TEXT search to index. */
void
fts_flush(struct store *st)
{
	struct fts_queue *q = st->fts_queue;
	size_t n;

	if (q == NULL || q->b.n == 0 || st->ix == NULL)
		return;
	n = q->b.n;
	if (batch_commit(st, &q->b) != STORE_OK)
		log_warnx("store: full-text index of %zu new messages: %s", n,
		    store_error(st));
	batch_clear(&q->b);
}

void
fts_enqueue(struct store *st, uint64_t blob_id, struct fts_doc *d)
{
	struct fts_queue *q = st->fts_queue;

	if (q == NULL)
		q = st->fts_queue = xcalloc(1, sizeof(*q));
	q->b.blob[q->b.n] = blob_id;
	q->b.doc[q->b.n] = *d;
	q->b.bytes += doc_bytes(d);
	q->b.n++;
	memset(d, 0, sizeof(*d));     /* the queue owns it now */
	if (q->b.n == FTS_QUEUE_MAX || q->b.bytes >= FTS_QUEUE_BYTES)
		fts_flush(st);
}

void
fts_close(struct store *st)
{
	fts_flush(st);
	if (st->fts_queue != NULL)
		batch_clear(&st->fts_queue->b);
	free(st->fts_queue);
	st->fts_queue = NULL;
}

/* ---- indexing what is not indexed yet ------------------------------------- */

/* Worth telling the administrator when it takes more than one batch (an
 * old store); the few messages delivered since the last search (they are
 * indexed here, deliver.c) are routine. */
static void
progress(const char *mailbox, size_t n, size_t done, time_t *last)
{
	time_t now = time(NULL);

	if (done != 0 && done != n && now - *last < FTS_PROGRESS_SECONDS)
		return;
	*last = now;
	if (n > FTS_BATCH_MESSAGES)
		log_info("indexing %zu messages of %s for full-text search: "
		    "%zu done", n, mailbox, done);
	else
		log_debug("indexing %zu messages of %s for full-text search: "
		    "%zu done", n, mailbox, done);
}

enum store_result
store_fts_update(struct store_view *v)
{
	struct store *st = v->st;
	struct batch *b;
	enum store_result r = STORE_OK;
	uint64_t *blobs;
	int64_t pending;
	time_t last = 0;
	size_t n;

	fts_flush(st);
	/* nearly always nothing to do, known without a look at every row
	 * (the mailbox gone: nothing either) */
	r = index_fts_n_unindexed(st->ix, v->mb.id, &pending);
	if (r == STORE_NOT_FOUND || (r == STORE_OK && pending == 0))
		return STORE_OK;
	if (r != STORE_OK)
		return r;
	if (index_fts_missing(st->ix, v->mb.id, &blobs, &n) != STORE_OK)
		return STORE_ERROR;
	if (n == 0) {
		free(blobs);
		return STORE_OK;
	}
	b = xcalloc(1, sizeof(*b));
	progress(v->mb.name, n, 0, &last);
	for (size_t i = 0; i < n && r == STORE_OK; i++) {
		r = batch_add(st, b, blobs[i]);
		if (r == STORE_OK && (b->n == FTS_BATCH_MESSAGES ||
		    b->bytes >= FTS_BATCH_BYTES || i + 1 == n)) {
			r = batch_commit(st, b);
			if (r == STORE_OK)
				progress(v->mb.name, n, i + 1, &last);
		}
	}
	batch_clear(b);
	free(b);
	free(blobs);
	return r;
}

/* ---- asking the index ------------------------------------------------------ */

/* The offsets of s's characters (off[i] .. off[i + 1]); -1 when s is not
 * UTF-8 or holds a NUL.  off has room for len + 1. */
static long
utf8_split(const char *s, size_t len, size_t *off)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0, l;

	while (i < len) {
		if ((l = mime_utf8_seq(u + i, len - i)) == 0)   /* also a NUL */
			return -1;
		off[n++] = i;
		i += l;
	}
	off[n] = len;
	return (long)n;
}

bool
store_fts_usable(const char *s, size_t len)
{
	size_t *off;
	long n;

	if (len < 3)
		return false;
	off = xreallocarray(NULL, len + 1, sizeof(*off));
	n = utf8_split(s, len, off);
	free(off);
	return n >= 3;
}

/*
 * '"abc" AND "bcd" AND ...': trigrams of s, at most FTS_QUERY_TRIGRAMS of
 * them spread over it (first and last among them), each once, as FTS5
 * strings ('"' doubled).  Any subset of the trigrams still holds for every
 * text that contains s: fewer only narrow less.
 */
static int
make_query(const char *s, size_t len, struct buf *q)
{
	size_t *off = xreallocarray(NULL, len + 1, sizeof(*off));
	long chars = utf8_split(s, len, off);
	size_t chosen[FTS_QUERY_TRIGRAMS], n = 0, t, want;

	if (chars < 3) {
		free(off);
		return -1;
	}
	t = (size_t)chars - 2;
	want = t < FTS_QUERY_TRIGRAMS ? t : FTS_QUERY_TRIGRAMS;
	for (size_t k = 0; k < want; k++) {
		size_t i = want == 1 ? 0 : k * (t - 1) / (want - 1);
		size_t glen = off[i + 3] - off[i];
		bool dup = false;

		/* the same trigram earlier in the query adds nothing */
		for (size_t j = 0; j < n && !dup; j++)
			dup = off[chosen[j] + 3] - off[chosen[j]] == glen &&
			    memcmp(s + off[chosen[j]], s + off[i], glen) == 0;
		if (dup)
			continue;
		chosen[n++] = i;
		if (q->len > 0)
			buf_append_str(q, " AND ");
		buf_append_char(q, '"');
		for (size_t j = off[i]; j < off[i + 3]; j++) {
			if (s[j] == '"')
				buf_append_char(q, '"');
			buf_append_char(q, s[j]);
		}
		buf_append_char(q, '"');
	}
	free(off);
	return q->overflow ? -1 : 0;
}

struct uids {
	uint32_t *v;
	size_t n, cap;
};

static void
uids_add(void *arg, uint32_t uid)
{
	struct uids *u = arg;

	if (u->n == u->cap) {
		u->cap = u->cap ? u->cap * 2 : 64;
		u->v = xreallocarray(u->v, u->cap, sizeof(*u->v));
	}
	u->v[u->n++] = uid;
}

static int
cmp_uid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorted, each once. */
static void
uids_normalise(struct uids *u)
{
	size_t out = 0;

	if (u->n == 0)
		return;
	qsort(u->v, u->n, sizeof(*u->v), cmp_uid);
	for (size_t i = 1; i < u->n; i++)
		if (u->v[i] != u->v[out])
			u->v[++out] = u->v[i];
	u->n = out + 1;
}

enum store_result
store_fts_candidates(struct store_view *v, const char *s, size_t len,
    bool body_only, uint32_t **uids, size_t *n)
{
	struct store *st = v->st;
	struct uids u = { NULL, 0, 0 };
	struct buf q = BUF_INIT;
	enum store_result r;

	*uids = NULL;
	*n = 0;
	if (!store_fts_usable(s, len) || make_query(s, len, &q) != 0) {
		buf_free(&q);
		return store_fail(st, STORE_INVALID, "the full-text index "
		    "cannot narrow a search for fewer than 3 characters");
	}
	/* one snapshot for both (joins store_read_hold's) */
	if ((r = index_begin(st->ix, false)) == STORE_OK) {
		r = index_fts_match(st->ix, v->mb.id, q.data, body_only, uids_add, &u);
		if (r == STORE_OK)
			r = index_fts_unindexed(st->ix, v->mb.id, uids_add, &u);
		if (r == STORE_OK)
			r = index_commit(st->ix);
		else
			index_rollback(st->ix);
	}
	buf_free(&q);
	if (r != STORE_OK) {
		free(u.v);
		return STORE_ERROR;
	}
	uids_normalise(&u);
	*uids = u.v;
	*n = u.n;
	return STORE_OK;
}
