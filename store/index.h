/*
 * The SQL side of the store (index.db), in plain C types.  index.c is the
 * only file that includes sqlite3.h or holds SQL; the rest of store/ puts
 * these steps together inside index_begin() / index_commit().
 *
 * Every function returns STORE_OK, STORE_NOT_FOUND where a row may be
 * missing, STORE_EXISTS where a unique name is taken, or STORE_ERROR with
 * the reason in the error buffer given to index_open().
 */
#ifndef CAIRN_STORE_INDEX_H
#define CAIRN_STORE_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Written (one byte, in place) after every commit, for the change signal
 * (index.c wal_committed, watch.c). */
#define STORE_SIGNAL_FILE "index.db-changed"

#include "buf.h"
#include "sortkeys.h"
#include "store.h"

struct index;

/* One row of messages; keywords: bit i is the mailbox's keyword i. */
struct index_message {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;
	uint64_t keywords;
	int64_t internaldate;
	int tz_minutes;
	uint64_t size;
	uint64_t blob_id;
	uint64_t email_id;
	int64_t savedate;            /* RFC 8514; 0: not known (NULL) */
	uint64_t thread_id;          /* RFC 8474 THREADID; 0: none yet (NULL,
	                              * stored before schema step 6) */
};

/* Which messages of a mailbox index_message_list() returns, by uid. */
struct index_filter {
	uint32_t uid_min, uid_max;   /* inclusive */
	uint64_t modseq_gt;          /* only rows changed after this; 0: all */
	bool deleted_only;           /* only \Deleted rows */
};

/* A blob row as fsck sees it: uses counts the message rows naming it;
 * size is the message's, prefix and file (schema.sql, version 7). */
struct index_blob {
	uint64_t id;
	int64_t refcount;
	int64_t uses;
	int64_t size;
	int64_t prefix_len;
};

/* A message row naming a blob (fsck). */
struct index_blob_user {
	int64_t mailbox_id;
	uint32_t uid;
};

enum index_mime { INDEX_MIME_ENVELOPE, INDEX_MIME_BODY, INDEX_MIME_BODYSTRUCTURE,
	INDEX_MIME_PREVIEW, INDEX_MIME_FIELDS };

/*
 * Open (creating, and upgrading the schema of) "index.db" in the current
 * directory, which the caller has made the store directory: see
 * store_open().  Errors go to err, which must outlive the index.
 */
enum store_result index_open(char *err, size_t errlen, struct index **out);
void index_close(struct index *ix);
/* The newest schema version this build knows. */
int index_schema_version(void);

/* write: BEGIN IMMEDIATE (the write lock now, or wait busy_timeout). */
enum store_result index_begin(struct index *ix, bool write);
/* BEGIN IMMEDIATE if the lock is free now; else *busy and nothing begun. */
enum store_result index_begin_write_nowait(struct index *ix, bool *busy);
/* Between tries of index_begin_write_nowait: sleep as SQLite's busy wait
 * does (tries from 0); false, without sleeping, once that would give up. */
bool index_busy_sleep(int tries);
enum store_result index_commit(struct index *ix);
void index_rollback(struct index *ix);
/*
 * One read snapshot across many calls (store_read_hold): read
 * transactions begun inside join it; a write ends it and starts a newer
 * one after its commit.  Nests; index_release ends the outermost.
 */
enum store_result index_hold(struct index *ix);
void index_release(struct index *ix);
/* Non-zero, and the same, while one held snapshot lasts; 0 outside one. */
uint64_t index_snapshot(const struct index *ix);

/* In a write transaction: max(now, last + 1), recorded. */
enum store_result index_uidvalidity_next(struct index *ix, uint32_t now,
    uint32_t *out);

/* ---- mailboxes ---- */
/* By name (id ignored) or, with name NULL, by id.  recent_uid may be NULL. */
enum store_result index_mailbox_get(struct index *ix, const char *name, int64_t id,
    struct store_mailbox *out, uint32_t *recent_uid);
enum store_result index_mailbox_add(struct index *ix, const char *name,
    uint32_t uidvalidity, unsigned special_use, int64_t *id);
enum store_result index_mailbox_set_counters(struct index *ix, int64_t id,
    uint32_t uidnext, uint64_t highestmodseq);
enum store_result index_mailbox_set_recent(struct index *ix, int64_t id,
    uint32_t recent_uid);
enum store_result index_mailbox_set_state(struct index *ix, int64_t id,
    bool noselect, uint32_t uidvalidity, unsigned special_use);
/* The row and (cascading) its keywords, tombstones and message rows. */
enum store_result index_mailbox_remove(struct index *ix, int64_t id);
enum store_result index_mailbox_has_children(struct index *ix, const char *name,
    bool *any);
/* Would renaming from (and its children) to "to" take an existing name? */
enum store_result index_mailbox_rename_clash(struct index *ix, const char *from,
    const char *to, bool *clash);
enum store_result index_mailbox_rename(struct index *ix, const char *from,
    const char *to);
/* Every mailbox in name order (caller frees *out). */
enum store_result index_mailbox_all(struct index *ix, struct store_mailbox **out,
    size_t *n);
/* The counts of store_status (deleted_size too); recent: uids above
 * recent_uid. */
enum store_result index_mailbox_counts(struct index *ix, int64_t id,
    uint32_t recent_uid, struct store_status *out);

/* ---- messages ---- */
enum store_result index_message_get(struct index *ix, int64_t mailbox_id,
    uint32_t uid, struct index_message *out);
enum store_result index_message_add(struct index *ix, int64_t mailbox_id,
    const struct index_message *m);
enum store_result index_message_set_flags(struct index *ix, int64_t mailbox_id,
    uint32_t uid, unsigned flags, uint64_t keywords, uint64_t modseq);
/* Delete the row and leave a tombstone stamped modseq and the time. */
enum store_result index_message_remove(struct index *ix, int64_t mailbox_id,
    uint32_t uid, uint64_t modseq);
/* One message's cached header fields in a batch: text->data[off..off+len),
 * len SIZE_MAX when none are cached. */
struct index_fields {
	size_t off, len;
};
/*
 * Up to max rows from uid `from` on, ascending, into out.  With fields
 * (max entries; else NULL), each row's cached header fields too, from
 * the same query (store_message_header_fields): fields[i] is out[i]'s,
 * the texts one after another in text.
 */
enum store_result index_message_batch(struct index *ix, int64_t mailbox_id,
    uint32_t from, size_t max, struct index_message *out,
    struct index_fields *fields, struct buf *text, size_t *n);
/*
 * Sort keys (schema.sql, version 9; sortkeys.h).  The rows of up to max
 * messages from uid `from` on that have keys (a message stored before
 * the step has none): the strings asked for (want: SORTKEYS_WANT_ bits)
 * at text->data + off[i], NUL-terminated, refs at refs_off, refs_len
 * bytes.
 */
struct index_sortkeys {
	uint32_t uid;
	bool has_date, reply;
	int64_t date;
	size_t off[SORTKEYS_NSTR];
	size_t refs_off, refs_len;
};
enum store_result index_sortkeys_batch(struct index *ix, int64_t mailbox_id,
    uint32_t from, size_t max, unsigned want, struct index_sortkeys *out,
    struct buf *text, size_t *n);
/* In a write transaction: the keys of every message of a blob (replacing
 * any); nothing when it has none left.  APPEND adds the message first. */
enum store_result index_sortkeys_set(struct index *ix, uint64_t blob_id,
    const struct sortkeys *k);
/* Ascending uids (caller frees *uids), from the uidmap bitmap. */
enum store_result index_message_uids(struct index *ix, int64_t mailbox_id,
    uint32_t **uids, size_t *n);
/* The lowest uid below `below` without \Seen; 0: none. */
enum store_result index_message_first_unseen(struct index *ix,
    int64_t mailbox_id, uint32_t below, uint32_t *uid);
/* Rows by ascending uid (caller frees *out). */
enum store_result index_message_list(struct index *ix, int64_t mailbox_id,
    const struct index_filter *f, struct index_message **out, size_t *n);
/* Every message of from moves to to, leaving tombstones in from (modseq). */
enum store_result index_message_rehome(struct index *ix, int64_t from, int64_t to,
    uint64_t modseq);
/* Uids expunged after modseq, descending (caller frees *uids). */
enum store_result index_tombstones(struct index *ix, int64_t mailbox_id,
    uint64_t modseq_gt, uint32_t **uids, size_t *n);
/*
 * Remove tombstones made before `before` (unix time), at most max of them
 * and only among the max with the lowest modseqs, raising the mailbox's
 * tombstones_from to the highest modseq removed (schema.sql, version 3);
 * *purged says how many went.  In a write transaction.
 */
enum store_result index_tombstones_purge(struct index *ix, int64_t mailbox_id,
    int64_t before, size_t max, size_t *purged);
/* Every expunge after *from has its tombstone; 0 when none was purged. */
enum store_result index_tombstones_from(struct index *ix, int64_t mailbox_id,
    uint64_t *from);

/* ---- keywords ---- */
/* names[bit]: malloc'd, or NULL where the bit is unused. */
enum store_result index_keywords(struct index *ix, int64_t mailbox_id,
    char *names[STORE_KEYWORDS_MAX]);
enum store_result index_keyword_add(struct index *ix, int64_t mailbox_id,
    unsigned bit, const char *name);
enum store_result index_keywords_copy(struct index *ix, int64_t from, int64_t to);

/* ---- blobs and the MIME cache ---- */
/* size: the message's (prefix and file); prefix: the bytes a delivery put
 * in front of the file (schema.sql, version 7), none when prefix_len is 0. */
enum store_result index_blob_add(struct index *ix, uint64_t id, uint64_t size,
    const char *prefix, size_t prefix_len);
/* The blob's prefix into out (*len 0: none); longer than cap is
 * STORE_ERROR, no such blob STORE_NOT_FOUND. */
enum store_result index_blob_prefix(struct index *ix, uint64_t id, char *out,
    size_t cap, size_t *len);
/* refcount += delta; a row that reaches 0 is deleted (*left = 0). */
enum store_result index_blob_ref(struct index *ix, uint64_t id, int delta,
    int64_t *left);
enum store_result index_blob_known(struct index *ix, uint64_t id, bool *known);
enum store_result index_blob_all(struct index *ix, struct index_blob **out,
    size_t *n);
enum store_result index_blob_set_refcount(struct index *ix, uint64_t id,
    int64_t refcount);
enum store_result index_blob_remove(struct index *ix, uint64_t id);
enum store_result index_blob_users(struct index *ix, uint64_t id,
    struct index_blob_user **out, size_t *n);
/* fields may be NULL (not cached: SEARCH reads the file), preview too
 * (FETCH PREVIEW makes it from the file). */
enum store_result index_mime_set(struct index *ix, uint64_t blob_id,
    const char *envelope, const char *body, const char *bodystructure,
    const char *preview, const char *fields);
/* Appends the cached text to out; STORE_NOT_FOUND if there is none. */
enum store_result index_mime_get(struct index *ix, uint64_t blob_id,
    enum index_mime which, struct buf *out);

/* ---- the full-text index (schema.sql, version 5; fts.c) ---- */
/*
 * One blob's document: the texts indexed (folded UTF-8, mime-text.c) and
 * the same texts as kept to take them out again (packed by fts.c).
 * header or body NULL: too large to index, kept as such (SEARCH reads it).
 */
struct index_fts_doc {
	const char *header, *body;
	size_t header_len, body_len;
	const void *header_packed, *body_packed;
	size_t header_packed_len, body_packed_len;
};
/* In a write transaction; STORE_EXISTS when the blob has a document. */
enum store_result index_fts_add(struct index *ix, uint64_t blob_id,
    const struct index_fts_doc *d);
/* The blob goes (in its write transaction): its document, if any, is
 * dead: no search reaches it, its rows wait for index_fts_remove. */
enum store_result index_fts_kill(struct index *ix, uint64_t blob_id);
/* A dead document: its id, and its packed texts appended to header and
 * body (*indexed false: too large, none).  STORE_NOT_FOUND: none. */
enum store_result index_fts_dead(struct index *ix, int64_t *docid,
    bool *indexed, struct buf *header, struct buf *body);
/* Remove document docid, given the texts it was indexed with (NULL for
 * one too large to index); in a write transaction. */
enum store_result index_fts_remove(struct index *ix, int64_t docid,
    const char *header, size_t header_len, const char *body, size_t body_len);
/* The blobs of the mailbox's messages without a document, by uid (a blob
 * twice if two messages share it); caller frees *blobs. */
enum store_result index_fts_missing(struct index *ix, int64_t mailbox_id,
    uint64_t **blobs, size_t *n);
/* fn(arg, uid) for each message of the mailbox whose document matches
 * query (an FTS5 expression), in its body row, or (body_only false) in
 * either; in no order, maybe twice. */
enum store_result index_fts_match(struct index *ix, int64_t mailbox_id,
    const char *query, bool body_only, void (*fn)(void *arg, uint32_t uid),
    void *arg);
/* fn(arg, uid) for each message of the mailbox without a document or too
 * large to index; in no order.  Looks at every message only when
 * index_fts_n_unindexed is not 0. */
enum store_result index_fts_unindexed(struct index *ix, int64_t mailbox_id,
    void (*fn)(void *arg, uint32_t uid), void *arg);
/* How many messages of the mailbox have no document (mailboxes.n_unindexed,
 * kept by schema.sql's triggers). */
enum store_result index_fts_n_unindexed(struct index *ix, int64_t mailbox_id,
    int64_t *n);

/* ---- quota (schema.sql, version 4) ---- */
/* The limits (STORE_QUOTA_NONE where there is none) and the usage, summed
 * over the mailboxes' counters: no message row is read. */
enum store_result index_quota_get(struct index *ix, struct store_quota *out);
/* Limits at most INT64_MAX, or STORE_QUOTA_NONE. */
enum store_result index_quota_set(struct index *ix, uint64_t storage_kib,
    uint64_t messages);

/* ---- threads (schema.sql, version 6; threadid.c) ---- */
/* The thread msgid was recorded in; STORE_NOT_FOUND if it never was. */
enum store_result index_thread_find(struct index *ix, const char *msgid,
    uint64_t *thread_id);
/* Record msgid in thread_id, unless it is recorded already: then it
 * keeps its thread.  In a write transaction. */
enum store_result index_thread_record(struct index *ix, const char *msgid,
    uint64_t thread_id);
/* A thread id never handed out before, above every earlier one.  In a
 * write transaction. */
enum store_result index_thread_new(struct index *ix, uint64_t *thread_id);
/* Up to max blobs some row of which has no thread id, by the internal
 * date of the row; a blob may come more than once. */
enum store_result index_thread_unassigned(struct index *ix, uint64_t *blob_ids,
    size_t max, size_t *n);
/* The thread id a row of blob_id has; STORE_NOT_FOUND when none has one. */
enum store_result index_thread_of_blob(struct index *ix, uint64_t blob_id,
    uint64_t *thread_id);
/* Give thread_id to every row of blob_id that has none; *changed: how
 * many. */
enum store_result index_thread_set_blob(struct index *ix, uint64_t blob_id,
    uint64_t thread_id, size_t *changed);

/* ---- subscriptions ---- */
/* on false and not subscribed: STORE_NOT_FOUND. */
enum store_result index_subscribe(struct index *ix, const char *name, bool on);
/* In name order (caller frees each and the array). */
enum store_result index_subscriptions(struct index *ix, char ***names, size_t *n);

/* PRAGMA quick_check: "ok" or the problems, one per line, into out. */
enum store_result index_quick_check(struct index *ix, struct buf *out);
/* The names (one per line) of mailboxes whose counters or UID map
 * (schema.sql, versions 2 and 5) disagree with their messages. */
enum store_result index_counters_check(struct index *ix, struct buf *names);
/* Count them all again (in a write transaction). */
enum store_result index_counters_rebuild(struct index *ix);

/* ---- migration: cairnctl import and backup (schema.sql, version 8) ---- */
#define INDEX_SHA256_LEN 32
/* Mark blob id as imported with this hash (in the transaction adding it). */
enum store_result index_blob_set_sha256(struct index *ix, uint64_t id,
    const unsigned char sha256[INDEX_SHA256_LEN]);
/* Has a message of the mailbox a blob an import marked with this hash? */
enum store_result index_mailbox_has_sha256(struct index *ix, int64_t mailbox_id,
    const unsigned char sha256[INDEX_SHA256_LEN], bool *found);
struct index_blob_file {
	uint64_t id;
	uint64_t size;          /* of the file: the blob's size minus its prefix */
};
/*
 * SQLite's online backup of index.db into the new file dest_path (any
 * path: the default VFS, not this store's), and the blobs that copy
 * names (caller frees *blobs), both of one snapshot.  Not inside a hold.
 */
enum store_result index_backup(struct index *ix, const char *dest_path,
    struct index_blob_file **blobs, size_t *n_blobs);

#endif
