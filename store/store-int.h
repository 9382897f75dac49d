/*
 * What the files of store/ share and nobody else sees.
 *
 *   store.c     open, close, errors, the default mailboxes
 *   name.c      mailbox names and keywords: validation, INBOX
 *   index.c     index.db: every line of SQL (index.h)
 *   blob.c      blobs/ and tmp/: every file operation
 *   keyword.c   keyword names <-> the per-mailbox bit mask
 *   mailbox.c   CREATE, DELETE, RENAME, LIST, STATUS, subscriptions
 *   append.c    APPEND
 *   deliver.c   delivery: a spooled message, linked, with its prefix
 *   cache.c     the MIME cache: ENVELOPE, BODY, BODYSTRUCTURE text
 *   view.c      a selected mailbox: the MSN map, \Recent, sync
 *   message.c   reading one message
 *   flags.c     STORE
 *   copy.c      COPY, MOVE
 *   expunge.c   EXPUNGE, and removing messages for DELETE and fsck
 *   fsck.c      store_fsck
 *   watch.c     the change signal for IDLE
 *   quota.c     QUOTA: the limits, the usage, the check
 *   fts.c       the full-text index for SEARCH BODY and TEXT
 *   threadid.c  THREADID: the thread of a new message, and of old ones
 */
#ifndef CAIRN_STORE_INT_H
#define CAIRN_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "log.h"
#include "store.h"

#define STORE_FLAGS_ALL (STORE_FLAG_SEEN | STORE_FLAG_ANSWERED | \
	STORE_FLAG_FLAGGED | STORE_FLAG_DELETED | STORE_FLAG_DRAFT)
#define STORE_USE_ALL (STORE_USE_SENT | STORE_USE_DRAFTS | STORE_USE_TRASH | \
	STORE_USE_JUNK | STORE_USE_ARCHIVE)

struct store {
	int dirfd;           /* the caller's; not closed here */
	struct index *ix;
	bool no_recent_claims;   /* store_claim_recent(st, false) */
	int watch_fd;        /* inotify for IDLE (watch.c); -1: none */
	struct fts_queue *fts_queue;   /* fts.c: APPENDed, not indexed yet */
	struct sortcache_pending *sk_pending;  /* sortcache.c: made, not saved */
	char err[512];
};

/* store.c */
enum store_result store_fail(struct store *st, enum store_result r,
    const char *fmt, ...) CAIRN_PRINTF(3, 4);
/* "what: strerror(errno)"; STORE_ERROR. */
enum store_result store_fail_errno(struct store *st, const char *what);
/* Record why the error being reported happened (store_error_cause). */
void store_set_cause(enum store_error_cause cause);
enum store_error_cause store_cause_of_errno(int e);
/* A new UIDVALIDITY (in a write transaction). */
enum store_result store_new_uidvalidity(struct store *st, uint32_t *out);

/* name.c */
/* Validate and canonicalize (INBOX in any case, as a whole first level,
 * becomes "INBOX"); STORE_INVALID with the reason in st. */
enum store_result store_name_canon(struct store *st, const char *name,
    char out[STORE_MAILBOX_NAME_MAX + 1]);
bool store_name_is_inbox(const char *canon);
/* RFC 9051 flag-keyword: an atom, no '\\', at most STORE_KEYWORD_MAX. */
bool store_keyword_valid(const char *kw);

/* keyword.c: the keyword names of one mailbox, by bit. */
struct kwtable {
	char *name[STORE_KEYWORDS_MAX];
};
enum store_result kw_load(struct store *st, int64_t mailbox_id, struct kwtable *t);
void kw_free(struct kwtable *t);
/*
 * The mask of these keywords (validated here: STORE_INVALID); create (in a
 * write transaction) adds the missing ones to the mailbox, at most
 * STORE_KEYWORDS_MAX in all (STORE_INVALID), else unknown ones are left out.
 */
enum store_result kw_mask(struct store *st, int64_t mailbox_id, struct kwtable *t,
    const char *const *names, size_t n, bool create, uint64_t *mask);
/* The names of mask's bits into out (STORE_KEYWORDS_MAX entries); count. */
size_t kw_names(const struct kwtable *t, uint64_t mask, const char **out);

/* blob.c */
#define BLOB_TMP_NAME_MAX 32
#define BLOB_PATH_MAX 48
/* "blobs/ab/<id>" and (dir may be NULL) "blobs/ab", relative to the store. */
void blob_path(uint64_t id, char path[BLOB_PATH_MAX], char dir[BLOB_PATH_MAX]);
enum store_result blob_dirs_init(struct store *st);
/* tmp/<random>, O_EXCL, 0600, and flock()ed so fsck sees it is in use. */
enum store_result blob_tmp_create(struct store *st, int *fd,
    char name[BLOB_TMP_NAME_MAX]);
/* Link the tmp file as blobs/ab/<id> under a fresh random id; durable. */
enum store_result blob_link(struct store *st, const char *tmpname, uint64_t *id);
void blob_unlink(struct store *st, uint64_t id);
void blob_tmp_unlink(struct store *st, const char *tmpname);
/*
 * The message of blob id: its prefix (index.db) and its file as one
 * read-only mapping; blob_unmap when done.  size: the message's, prefix
 * and file, from a row of it, or BLOB_SIZE_UNKNOWN; a file of that size
 * has no prefix, and the index is not asked.  STORE_NOT_FOUND: its file
 * is gone, or its row when asked (expunged meanwhile).
 */
#define BLOB_SIZE_UNKNOWN UINT64_MAX
enum store_result blob_map(struct store *st, uint64_t id, uint64_t size,
    const char **data, size_t *len);
/* The same for an open file of fsize bytes behind prefix (plen bytes, may
 * be 0); what names it in errors. */
enum store_result blob_map_fd(struct store *st, int fd, uint64_t fsize,
    const char *prefix, size_t plen, const char *what, const char **data,
    size_t *len);
/* Undo blob_map or blob_map_fd (store_message_unmap). */
void blob_unmap(const char *data, size_t len);
/* Delivery: the spooled file src_name (in src_dirfd) as a tmp/ file of
 * this store, hard-linked (*linked) or else copied; *fd open on it (close
 * it, and blob_tmp_unlink name, when done), *size its size.  The source
 * is never written. */
enum store_result blob_tmp_import(struct store *st, int src_dirfd,
    const char *src_name, int *fd, char name[BLOB_TMP_NAME_MAX],
    uint64_t *size, bool *linked);
/* Does the file of blob id exist, and how large is it?  (Its link count
 * is no concern: a delivered file has one per recipient's store.) */
enum store_result blob_exists(struct store *st, uint64_t id, bool *exists,
    uint64_t *size);
/* Every file under blobs/ named like a blob (id), and every other one (id 0,
 * name set); fn returning non-zero stops. */
enum store_result blob_scan(struct store *st,
    int (*fn)(void *arg, uint64_t id, const char *path), void *arg);
/* Every file in tmp/, with whether someone holds it (an APPEND). */
enum store_result blob_tmp_scan(struct store *st,
    int (*fn)(void *arg, const char *path, bool busy), void *arg);
uint64_t blob_random(void);

/* expunge.c: blob ids whose last reference went in the transaction. */
struct idlist {
	uint64_t *id;
	size_t n, cap;
};
void idlist_add(struct idlist *l, uint64_t id);
/* Remove these rows (tombstones stamped modseq) and their blob refs; the
 * blobs left with none go into freed, to unlink after the commit. */
enum store_result store_remove_messages(struct store *st, int64_t mailbox_id,
    const struct index_message *m, size_t n, uint64_t modseq,
    struct idlist *freed);
/* Only after the commit: a crash first leaves an orphan file, never a row
 * without its file. */
void store_unlink_freed(struct store *st, struct idlist *freed);
/* At each expunge of the mailbox (EXPUNGE, MOVE), in its write
 * transaction: tombstones older than STORE_TOMBSTONE_DAYS go, a bounded
 * number (more than the expunge added: n_added). */
enum store_result store_purge_tombstones(struct store *st, int64_t mailbox_id,
    size_t n_added);

/*
 * threadid.c: the msg-ids a message's thread is found by (RFC 8474 §5.2
 * THREADID): its own Message-ID, and the last THREAD_REFS_MAX of its
 * References then In-Reply-To, each normalised (mime_msgid_next) and at
 * most THREAD_MSGID_MAX bytes (a longer one is left out).
 */
#define THREAD_REFS_MAX 50
#define THREAD_MSGID_MAX 512
struct thread_refs {
	char *own;                      /* Message-ID; NULL: none */
	char *ref[THREAD_REFS_MAX];     /* oldest first, no two alike */
	size_t n;
};
#define THREAD_REFS_INIT { NULL, { NULL }, 0 }
struct mime_part;
/* From the header of root (the message's top level). */
void thread_refs_parse(const char *data, size_t len,
    const struct mime_part *root, struct thread_refs *t);
void thread_refs_free(struct thread_refs *t);
/*
 * In the write transaction that adds the message: its thread (the oldest
 * one any of its ids is recorded in, else a new one), and its ids that
 * are not recorded yet recorded in it.
 */
enum store_result thread_assign(struct store *st, const struct thread_refs *t,
    uint64_t *thread_id);
/* store_open: give a thread to the messages stored before schema step 6
 * (or by an older Cairn since), in transactions of a bounded size. */
enum store_result thread_backfill(struct store *st);

/* append.c: what APPEND and delivery (deliver.c) add, and how. */
struct cache;
struct append_args {
	const char *mailbox;            /* canonical (store_name_canon) */
	unsigned flags;
	const char *const *keywords;
	size_t n_keywords;
	int64_t internaldate;
	int tz_minutes;
	const char *prefix;             /* a delivery's (schema step 7) */
	size_t prefix_len;              /* 0: none */
	uint64_t size;                  /* RFC822.SIZE: prefix and file */
	const struct cache *mime;       /* made from prefix and file */
	const unsigned char *sha256;    /* an import's (schema step 8); NULL */
};
/* Can INTERNALDATE write this zone offset (+9959 at most)? */
bool append_tz_valid(int tz_minutes);
/*
 * In one write transaction: check the mailbox and the quota, link
 * tmpname (a complete, durable tmp/ file the caller holds, and unlinks
 * afterwards) into blobs/, add the blob's row (with a's prefix), its MIME
 * cache and the message's row.  On success *mb is the mailbox as it was
 * (the new message's uid is mb->uidnext) and *blob_id the new blob; on
 * failure nothing of the message is left in blobs/ or the index.
 */
enum store_result append_tmp_commit(struct store *st, const char *tmpname,
    const struct append_args *a, struct store_mailbox *mb, uint64_t *blob_id);

/* cache.c: the cached MIME text of one message (index.db mime_cache). */
struct cache {
	struct buf envelope, body, bodystructure;
	struct buf preview;     /* RFC 8970 PREVIEW (mime_preview) */
	struct buf fields;      /* store_header_field_cached fields, as stored */
	bool fields_ok;         /* complete and short enough to keep */
	struct thread_refs refs;        /* not cached: for thread_assign */
	struct sortkeys keys;           /* index.db sort_keys; in keytext */
	struct buf keytext;
};
#define CACHE_INIT { BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, BUF_INIT, false, \
	THREAD_REFS_INIT, { 0 }, BUF_INIT }
/* Render the texts of data, whose MIME structure is root; and take its
 * thread refs. */
enum store_result cache_render(struct store *st, const char *data, size_t len,
    const struct mime_part *root, struct cache *c);
/* The same, parsing data first. */
enum store_result cache_make(struct store *st, const char *data, size_t len,
    struct cache *c);
void cache_free(struct cache *c);
const char *cache_str(const struct buf *b);
/* The fields text to store, or NULL when it is not to be kept. */
const char *cache_fields(const struct cache *c);
/* Render and store the text of a blob that has none (own transaction);
 * size as blob_map's. */
enum store_result cache_fill(struct store *st, uint64_t blob_id, uint64_t size);

/* fts.c: the full-text index (schema.sql, version 5). */
/* One message's document. */
struct fts_doc {
	struct buf header, body;      /* the text indexed (mime-text.c) */
	unsigned char *header_packed, *body_packed;   /* the same, deflated */
	size_t header_packed_len, body_packed_len;
	bool indexed;                 /* false: too much text to index */
};
/* The document of a message whose MIME structure is root (mime_parse of
 * data), outside any transaction; fts_doc_free it unless queued. */
enum store_result fts_make(struct store *st, const char *data, size_t len,
    const struct mime_part *root, struct fts_doc *d);
void fts_doc_free(struct fts_doc *d);
/* After APPEND's commit: blob_id's document joins the queue (which owns
 * it from now on, d is left empty), added with the next batch.  fts_flush
 * adds the queue now; fts_close at store_close. */
void fts_enqueue(struct store *st, uint64_t blob_id, struct fts_doc *d);
void fts_flush(struct store *st);
void fts_close(struct store *st);
/* In a write transaction: the rows of at most max dead documents leave
 * the index (FTS_PURGE_MAX after freeing blobs). */
#define FTS_PURGE_MAX 64
enum store_result fts_purge(struct store *st, size_t max);

/* view.c: a selected mailbox. */
#define VIEW_OWN_MAX 16
/* message.c: rows read ahead under one held snapshot (store_read_hold),
 * covering the uids [lo, hi], with their cached header fields or not; and
 * the uids asked for last, for a row and for the fields. */
struct read_ahead {
	uint64_t snapshot;
	uint32_t lo, hi;
	size_t n;
	size_t next;                   /* after the row found last */
	bool with_fields;
	uint32_t last;
	uint64_t fields_snapshot;      /* the fields were asked for under it */
	uint32_t fields_last;
	bool fields_wanted;            /* read the next rows with theirs */
};
struct recent_range {
	uint32_t lo, hi;      /* uids in [lo, hi] are \Recent in this view */
};

struct store_view {
	struct store *st;
	struct store_mailbox mb;       /* as of the last look */
	bool readonly;
	uint32_t *uids;                /* the MSN -> UID map, ascending */
	size_t n, cap;
	uint32_t known_uidnext;        /* every uid below is loaded or was */
	uint64_t seen_modseq;          /* flag changes reported up to here */
	/* flags.c: modseqs of this view's own STOREs above seen_modseq (others
	 * committed in between), already reported: sync skips rows still
	 * carrying one.  Past VIEW_OWN_MAX the rows are reported again. */
	uint64_t own_modseq[VIEW_OWN_MAX];
	size_t n_own;
	uint64_t expunge_modseq;       /* tombstones applied up to here */
	struct recent_range *recent;
	size_t n_ranges, cap_ranges;
	uint32_t n_recent;
	struct kwtable kw;             /* the mailbox's keywords */
	const char *kwlist[STORE_KEYWORDS_MAX];  /* of the last message out */
	/* message.c: rows read ahead, and their cached header fields
	 * (fbatch[i] is batch[i]'s, the texts in ftext) */
	struct index_message *batch;
	struct index_fields *fbatch;
	struct buf ftext;
	struct read_ahead ra;
	struct sortcache_ahead *ska;   /* sortcache.c: sort keys read ahead */
};

bool view_is_recent(const struct store_view *v, uint32_t uid);
/* Fill out from a row; keywords point into the view (kwlist). */
enum store_result view_message(struct store_view *v, const struct index_message *m,
    struct store_message *out);
/* Drop these uids (descending) from the view, reporting each with its MSN
 * at that moment; uids not in the view are skipped. */
void view_remove(struct store_view *v, const uint32_t *uids_desc, size_t n,
    store_expunged_fn *expunged, void *arg);

/* message.c: a message's row, read ahead as store_message_get reads it. */
enum store_result message_row(struct store_view *v, uint32_t uid,
    struct index_message *m);

/* sortcache.c: what a view and a store hold of it, freed with them. */
struct sortcache_ahead;
struct sortcache_pending;
void sortcache_view_free(struct sortcache_ahead *a);
void sortcache_pending_free(struct sortcache_pending *p);

/* quota.c: in a write transaction, would adding octets in messages pass a
 * limit?  STORE_OVERQUOTA (the reason in st) or STORE_OK. */
enum store_result quota_check_locked(struct store *st, uint64_t octets,
    uint64_t messages);

/* mailbox.c */
/* Create name (a canonical name) and its missing parents, in the caller's
 * write transaction. */
enum store_result mailbox_create_tree(struct store *st, const char *name,
    unsigned special_use, int64_t *id);

#endif
