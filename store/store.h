/*
 * The mail store: one user's mailboxes, as the rest of Cairn sees them.
 *
 *   <store dir>/index.db         SQLite (WAL): mailboxes, messages, flags,
 *                                keywords, modseqs, expunge tombstones,
 *                                subscriptions, the parsed-MIME cache,
 *                                the full-text index
 *   <store dir>/blobs/ab/<id>    one immutable file per message; a
 *                                delivered one is a hard link of the file
 *                                the delivery spooled, shared with the
 *                                stores of the other recipients, and the
 *                                lines in front of it (its prefix) are in
 *                                index.db: readers see the two as one
 *   <store dir>/tmp/             APPEND streams here before the commit,
 *                                delivery links here
 *
 * Plain C types only: protocol code (imapd/), delivery and cairnctl call
 * this and nothing else; store/index.c is the one file that includes
 * sqlite3.h.  Every function returns an enum store_result; on STORE_ERROR,
 * store_error() says why.  Mailbox names are UTF-8 with '/' as the
 * hierarchy separator; "INBOX" is matched case-insensitively, also as the
 * first level of a longer name ("inbox/x" is "INBOX/x").
 *
 * One thread uses a struct store and its views.  Views must be closed
 * before their store.
 */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sortkeys.h"

#define STORE_MAILBOX_NAME_MAX 1000   /* bytes of UTF-8 */
#define STORE_KEYWORD_MAX 100         /* bytes of one keyword */
#define STORE_KEYWORDS_MAX 64         /* distinct keywords per mailbox (PERMANENTFLAGS) */

enum store_result {
	STORE_OK = 0,
	STORE_NOT_FOUND,      /* no such mailbox / message */
	STORE_EXISTS,         /* mailbox already exists */
	STORE_INVALID,        /* bad name, keyword, argument */
	STORE_HAS_CHILDREN,   /* RFC 9051 §6.3.4: \Noselect with inferiors */
	STORE_READONLY,       /* the view was opened read-only (EXAMINE) */
	STORE_CONFLICT,       /* CONDSTORE: UNCHANGEDSINCE failed (modified set) */
	STORE_OVERQUOTA,      /* RFC 9208: it would pass a quota limit; nothing done */
	STORE_ERROR,          /* I/O or SQLite: store_error() */
};

/* System flags (RFC 9051 §2.3.2); keywords travel separately. */
#define STORE_FLAG_SEEN     (1u << 0)
#define STORE_FLAG_ANSWERED (1u << 1)
#define STORE_FLAG_FLAGGED  (1u << 2)
#define STORE_FLAG_DELETED  (1u << 3)
#define STORE_FLAG_DRAFT    (1u << 4)

/* Special-use attributes (RFC 6154). */
#define STORE_USE_SENT    (1u << 0)
#define STORE_USE_DRAFTS  (1u << 1)
#define STORE_USE_TRASH   (1u << 2)
#define STORE_USE_JUNK    (1u << 3)
#define STORE_USE_ARCHIVE (1u << 4)

struct store;
struct store_view;
struct store_append;

/*
 * Open (creating on first use: schema, blobs/, tmp/, and INBOX, Sent,
 * Drafts, Trash, Junk, Archive with their special-use, subscribed) the
 * store in the directory dirfd (the descriptor the master granted; not
 * closed here).
 *
 * SQLite needs a path and a chrooted process has none to the store, so
 * dirfd becomes the current directory (fchdir) and index.db is opened
 * relative to it: the current directory must not change while the store
 * is open, and a process can have one store directory open at a time
 * (opening the same directory again, as two sessions would, is fine; a
 * different one is STORE_ERROR).  A store whose schema is newer than this
 * build is refused, and left as it is.
 */
enum store_result store_open(int dirfd, struct store **out, char *err, size_t errlen);
void store_close(struct store *st);
const char *store_error(const struct store *st);

/*
 * What kind of failure the last STORE_ERROR of this process was, where the
 * client's answer depends on it (RFC 5530 response codes): the disk or the
 * file system's quota full (ENOSPC, EDQUOT, SQLITE_FULL), or index.db
 * damaged (SQLITE_CORRUPT, SQLITE_NOTADB).  Per process, not per store, so
 * that a failed store_open() can be asked too.
 */
enum store_error_cause {
	STORE_CAUSE_OTHER = 0,
	STORE_CAUSE_NO_SPACE,
	STORE_CAUSE_CORRUPT,
};
enum store_error_cause store_error_cause(void);

/* ---- mailboxes ---------------------------------------------------------- */

struct store_mailbox {
	int64_t id;
	char name[STORE_MAILBOX_NAME_MAX + 1];
	uint32_t uidvalidity;
	uint32_t uidnext;
	uint64_t highestmodseq;
	unsigned special_use;     /* STORE_USE_* */
	bool noselect;            /* deleted but kept for its children */
	bool has_children;
	bool subscribed;
};

struct store_status {
	uint32_t messages, recent, unseen, deleted;
	uint64_t size;            /* RFC 8438 STATUS=SIZE: sum of RFC822.SIZE */
	uint64_t deleted_size;    /* the same of the \Deleted messages (RFC 9208
	                           * DELETED-STORAGE) */
	uint32_t uidnext, uidvalidity;
	uint64_t highestmodseq;
};

/* Is name acceptable (UTF-8, no empty level, no leading/trailing '/', no
 * control characters, at most STORE_MAILBOX_NAME_MAX bytes)? */
bool store_mailbox_name_valid(const char *name, const char **why);

enum store_result store_mailbox_get(struct store *st, const char *name,
    struct store_mailbox *out);
/*
 * Creates missing parent levels too (RFC 9051 §6.3.4).  INBOX or an
 * existing name: STORE_EXISTS, except a \Noselect one, which becomes
 * selectable again with a new UIDVALIDITY.  The caller strips a trailing
 * '/' (§6.3.4) first: the name is refused with it.
 */
enum store_result store_mailbox_create(struct store *st, const char *name,
    unsigned special_use);
/* INBOX is refused (STORE_INVALID); with children it becomes \Noselect
 * (messages removed).  Subscriptions stay (RFC 9051 §6.3.9). */
enum store_result store_mailbox_delete(struct store *st, const char *name);
/*
 * Children move too and the UIDVALIDITY stays; renaming INBOX moves its
 * messages to a new mailbox (new UIDVALIDITY) and keeps INBOX, empty, and
 * its children.  to existing (or equal to from): STORE_EXISTS; to inside
 * from: STORE_INVALID.  Subscriptions are not renamed.
 */
enum store_result store_mailbox_rename(struct store *st, const char *from,
    const char *to);
/* Every mailbox in name order; fn returning non-zero stops the walk. */
enum store_result store_mailbox_list(struct store *st,
    int (*fn)(const struct store_mailbox *mb, void *arg), void *arg);
/* A \Noselect mailbox has no status: STORE_NOT_FOUND.  recent: messages
 * no read-write session has claimed yet. */
enum store_result store_mailbox_status(struct store *st, const char *name,
    struct store_status *out);

/* Subscriptions may name mailboxes that do not exist (RFC 9051 §6.3.7).
 * Unsubscribing a name that is not subscribed: STORE_NOT_FOUND. */
enum store_result store_subscribe(struct store *st, const char *name, bool on);
enum store_result store_subscriptions(struct store *st,
    int (*fn)(const char *name, void *arg), void *arg);

/* ---- appending ---------------------------------------------------------- */

/* Streams to tmp/; nothing is visible until commit. */
enum store_result store_append_begin(struct store *st, struct store_append **out);
enum store_result store_append_write(struct store_append *ap, const void *data,
    size_t len);
/*
 * fsync the file, link it into blobs/, parse the MIME structure once, and
 * in one transaction add the row (with its thread: store/threadid.c),
 * bump UIDNEXT and HIGHESTMODSEQ.  On any
 * failure nothing of the message remains.  ap is freed either way.
 * internaldate: unix time; tz_minutes: its zone offset for INTERNALDATE.
 * A missing or \Noselect mailbox: STORE_NOT_FOUND (answer TRYCREATE).
 */
enum store_result store_append_commit(struct store_append *ap, const char *mailbox,
    unsigned flags, const char *const *keywords, size_t n_keywords,
    int64_t internaldate, int tz_minutes, uint32_t *uidvalidity, uint32_t *uid);
void store_append_abort(struct store_append *ap);
/*
 * cairnctl import: the SHA-256 of the bytes written, before the commit.
 * The commit then adds nothing, and is STORE_EXISTS, when a message of
 * the mailbox has a blob an import marked with the same hash (checked
 * before the file is synced, and again under the write lock); else the
 * new blob is marked.  A rerun of an import so adds each message once.
 */
#define STORE_SHA256_LEN 32
void store_append_set_sha256(struct store_append *ap,
    const unsigned char sha256[STORE_SHA256_LEN]);
/*
 * store_append_commit for n messages in one transaction (MULTIAPPEND, RFC
 * 3502 §6.3.11): all of them are added, with UIDs in order (uids[i]), or
 * none, even if the process dies half way.  Every aps[i] is freed.
 */
struct store_append_msg {
	const char *mailbox;
	unsigned flags;
	const char *const *keywords;
	size_t n_keywords;
	int64_t internaldate;
	int tz_minutes;
};
enum store_result store_append_commit_many(struct store_append *const *aps,
    const struct store_append_msg *msgs, size_t n, uint32_t *uidvalidity,
    uint32_t *uids);

/* ---- delivery (cairn-lmtpd) ------------------------------------------------ */

/* The most bytes a delivery puts in front of a message (store_deliver). */
#define STORE_DELIVER_PREFIX_MAX 2048

/*
 * Deliver the message the caller spooled: src_name in the directory
 * src_dirfd, complete and fsynced, CRLF lines, not changed while this
 * runs; the caller unlinks it once every recipient is done.  It becomes
 * a blob of this store by a hard link (tmp/, then blobs/, linkat() with
 * directory descriptors), so that N recipients whose stores share the
 * spool's filesystem cost one file; by a copy where it cannot be linked
 * (EXDEV, EMLINK, EPERM).  The file is never written.
 *
 * prefix (prefix_len bytes, at most STORE_DELIVER_PREFIX_MAX, may be 0)
 * is what this store's copy of the message starts with: header lines
 * (Return-Path, Delivered-To, Received: RFC 5321 §4.4), each ending in
 * CRLF, no empty line.  It is kept in the index beside the blob and every
 * reader sees it and then the file as one message: RFC822.SIZE, FETCH,
 * SEARCH, the MIME cache, PREVIEW, THREADID, the full-text index.  A
 * prefix that is not such lines, or too long: STORE_INVALID.
 *
 * As APPEND without flags: nothing is visible before the commit; on any
 * failure nothing of the message remains in this store and the source is
 * as it was.  A limit of the quota it would pass: STORE_OVERQUOTA, nothing
 * done.  A missing or \Noselect mailbox: STORE_NOT_FOUND (deliver to
 * INBOX instead).  The message is indexed for full-text search by the
 * first BODY or TEXT search of its mailbox, not here (fts.c).
 */
enum store_result store_deliver(struct store *st, int src_dirfd,
    const char *src_name, const char *prefix, size_t prefix_len,
    const char *mailbox, int64_t internaldate, int tz_minutes,
    uint32_t *uidvalidity, uint32_t *uid);

/* ---- a selected mailbox --------------------------------------------------- */

struct store_message {
	uint32_t uid;
	uint64_t modseq;
	unsigned flags;                 /* STORE_FLAG_* */
	const char *const *keywords;    /* valid until the next call on the view
	                                 * (in a callback: while it runs) */
	size_t n_keywords;
	int64_t internaldate;
	int tz_minutes;
	uint64_t size;                  /* RFC822.SIZE */
	uint64_t email_id;              /* stable across COPY (RFC 8474 EMAILID) */
	/* RFC 8474 THREADID: the same for every message of one conversation,
	 * in every mailbox of the user, and for a COPY or MOVE; never changes.
	 * 0: none (a row another Cairn wrote without one since this store was
	 * opened: the next store_open gives it one). */
	uint64_t thread_id;
	/* RFC 8514: when it came into this mailbox (APPEND, COPY, MOVE), unix
	 * time; 0 when not known (stored before Cairn kept it). */
	int64_t savedate;
	bool recent;                    /* \Recent for this session (IMAP4rev1) */
};

/*
 * SELECT (readonly = false) or EXAMINE (true); a missing or \Noselect
 * mailbox is STORE_NOT_FOUND.  \Recent (IMAP4rev1): a read-write view
 * claims every message no session has claimed yet, now and as it learns
 * of new ones, so each message is recent in one session; a read-only view
 * shows as recent what is unclaimed and claims nothing.
 */
enum store_result store_view_open(struct store *st, const char *name, bool readonly,
    struct store_view **out);
/*
 * Whether this store's read-write views claim \Recent (on by default).  A
 * session that shows no \Recent (IMAP4rev2, RFC 9051 Appendix E) turns it
 * off before it selects: its views then take no write lock to claim, which
 * matters when one delivery wakes many such sessions in IDLE at once (the
 * lock is one per store, and every woken claimer queues for it).
 */
void store_claim_recent(struct store *st, bool on);
void store_view_close(struct store_view *v);
/* As of the last open or sync; highestmodseq is what the view has
 * reported (never past expunges that still wait), for HIGHESTMODSEQ. */
const struct store_mailbox *store_view_mailbox(const struct store_view *v);
uint32_t store_view_exists(const struct store_view *v);      /* messages seen */
uint32_t store_view_uid(const struct store_view *v, uint32_t msn);   /* 0: none */
uint32_t store_view_msn(const struct store_view *v, uint32_t uid);   /* 0: none */
uint32_t store_view_recent(const struct store_view *v);
/* The MSN of the first message without \Seen (IMAP4rev1's UNSEEN at
 * SELECT), 0 if there is none, from an index: no walk over the messages. */
enum store_result store_view_first_unseen(struct store_view *v, uint32_t *msn);
/* The distinct keywords used in the mailbox (FLAGS / PERMANENTFLAGS). */
enum store_result store_view_keywords(struct store_view *v,
    int (*fn)(const char *keyword, void *arg), void *arg);

/*
 * Messages that left a view: n of them, at once (QRESYNC's VANISHED names
 * UID ranges, RFC 7162 §3.2.10), in descending MSN order, each MSN the one
 * the client knows at that moment (RFC 9051 §7.5.1), with its UID.
 */
typedef void store_expunged_fn(void *arg, const uint32_t *msn,
    const uint32_t *uid, size_t n);

/*
 * What other sessions changed since the view last looked (RFC 9051 §7.5.1).
 * Any callback may be NULL; callbacks may call the view.
 */
struct store_changes {
	/* In the order to report; msn as the client knows it at that moment:
	 * expunges (descending MSN), then exists, then flags of messages the
	 * client already had (not the changes this view's own STOREs made,
	 * which their callers reported, unless more than VIEW_OWN_MAX of
	 * them came between two syncs). */
	store_expunged_fn *expunged;
	void (*exists)(void *arg, uint32_t exists);
	void (*flags)(void *arg, uint32_t msn, const struct store_message *m);
	/* Called once, before exists and flags, when another session used a
	 * keyword this view did not know: the mailbox's FLAGS changed
	 * (RFC 9051 §7.3.5), and the client must hear of it before a FETCH
	 * shows the keyword.  May be NULL. */
	void (*keywords)(void *arg);
};
/*
 * allow_expunge: false during FETCH/STORE/SEARCH (no EXPUNGE may be sent);
 * the expunges wait for a later sync.  STORE_NOT_FOUND: another session
 * deleted the mailbox (or made it \Noselect); close the view (RFC 9051
 * allows ending the session with BYE).  A renamed mailbox is followed.
 */
enum store_result store_view_sync(struct store_view *v, bool allow_expunge,
    const struct store_changes *cb, void *arg);

enum store_result store_message_get(struct store_view *v, uint32_t uid,
    struct store_message *out);
/* Cached at append: ENVELOPE and BODY/BODYSTRUCTURE text in IMAP syntax,
 * appended to out.  BODYSTRUCTURE is in the IMAP4rev1 form (mime.h: it
 * differs from IMAP4rev2's only for message/global parts). */
enum store_result store_message_envelope(struct store_view *v, uint32_t uid,
    struct buf *out);
enum store_result store_message_bodystructure(struct store_view *v, uint32_t uid,
    bool extended, struct buf *out);
/*
 * PREVIEW (RFC 8970): the text mime_preview() made at APPEND, appended to
 * out.  A message stored before Cairn made it has none cached: with lazy,
 * *available is false and out unchanged (FETCH PREVIEW (LAZY) answers NIL
 * then); without, it is made from the message file now, and not kept (a
 * write per message would make a FETCH of many slow).
 */
enum store_result store_message_preview(struct store_view *v, uint32_t uid,
    bool lazy, struct buf *out, bool *available);
/*
 * The header fields SEARCH needs most, kept at APPEND so that a header
 * search reads no file: the fields for which store_header_field_cached()
 * is true (Subject, From, To, Cc, Bcc, Date and the others of ENVELOPE,
 * and References), as they are in the message, then an empty line.
 * STORE_NOT_FOUND when they were not kept (a message stored by an older
 * Cairn, or fields too long): read the message instead.
 */
enum store_result store_message_header_fields(struct store_view *v, uint32_t uid,
    struct buf *out);
bool store_header_field_cached(const char *name);
/*
 * SORT and THREAD (store/sortcache.c): the keys of a message (sortkeys.h),
 * as stored with the message (index.db sort_keys).  want: SORTKEYS_WANT_
 * bits (sortkeys.h); strings not asked for read "" (none).  A walk up the
 * mailbox under store_read_hold reads the rows of many messages in one
 * query.  A message stored before Cairn kept them gets those of want made
 * from its header now, as a SORT made them before (*stored false), and
 * is noted for store_sortkeys_save.  *out points into the view until the
 * next call or the view's end.
 */
#define STORE_SORTKEYS_STR(i) SORTKEYS_WANT_STR(i)
#define STORE_SORTKEYS_REFS SORTKEYS_WANT_REFS
#define STORE_SORTKEYS_DATE SORTKEYS_WANT_DATE
enum store_result store_message_sortkeys(struct store_view *v, uint32_t uid,
    unsigned want, struct sortkeys *out, bool *stored);
/*
 * Make and write all the keys of the messages store_message_sortkeys
 * found without (since the last call), in write transactions of a
 * bounded size: outside store_read_hold, once the answer that needed
 * them is out.  Messages expunged meanwhile are skipped.  A failure
 * leaves them to be made again by a later SORT.
 */
enum store_result store_sortkeys_save(struct store *st);
/* The whole message (a delivered one: its prefix, then its file), mapped
 * read-only as one buffer; store_message_unmap when done.  STORE_NOT_FOUND
 * also when its file is gone (expunged since the snapshot of a
 * store_read_hold). */
enum store_result store_message_map(struct store_view *v, uint32_t uid,
    const char **data, size_t *len);
void store_message_unmap(const char *data, size_t len);

enum store_flag_op { STORE_FLAGS_REPLACE, STORE_FLAGS_ADD, STORE_FLAGS_REMOVE };

/*
 * STORE on uids (sorted ascending).  unchangedsince 0: none (RFC 7162;
 * UNCHANGEDSINCE 0 from a client fails for every message, which the
 * caller answers without calling this).  changed (may be NULL) is called
 * for each message whose flags changed, with its new state; messages that
 * failed UNCHANGEDSINCE are reported through failed (may be NULL) and the
 * result is STORE_CONFLICT.  Expunged uids are skipped.  A keyword the
 * mailbox has no room for (STORE_KEYWORDS_MAX) is STORE_INVALID and
 * nothing changes.
 */
enum store_result store_set_flags(struct store_view *v, const uint32_t *uids,
    size_t n, enum store_flag_op op, unsigned flags, const char *const *keywords,
    size_t n_keywords, uint64_t unchangedsince,
    void (*changed)(void *arg, const struct store_message *m),
    void (*failed)(void *arg, uint32_t uid), void *arg);

/*
 * COPY / MOVE of uids (sorted ascending) into dest, in one transaction;
 * a COPY that would pass a quota limit is STORE_OVERQUOTA (a MOVE changes
 * no usage: the store is one quota root);
 * blobs are shared, not copied.  dest_uids (n entries, may be NULL)
 * receives the new UIDs for COPYUID (RFC 4315); an entry is 0 where
 * another session expunged the source meanwhile (it was not copied).
 * MOVE expunges the sources (RFC 6851) but leaves the view as it is: the
 * caller's next store_view_sync(allow_expunge) reports the expunges.  A
 * missing or \Noselect dest: STORE_NOT_FOUND (TRYCREATE).  Keywords the
 * destination has no room for are dropped.
 */
enum store_result store_copy(struct store_view *v, const uint32_t *uids, size_t n,
    const char *dest, bool move, uint32_t *dest_uidvalidity, uint32_t *dest_uids);

/*
 * EXPUNGE: uids NULL means every \Deleted message; else only those uids
 * that are \Deleted (UID EXPUNGE).  Only messages the view has (not one
 * another session appended since the last sync).  Leaves tombstones (uid,
 * modseq, time); frees a blob when its last reference goes.  expunged()
 * (may be NULL) is called once with the messages removed, if any.
 */
enum store_result store_expunge(struct store_view *v, const uint32_t *uids, size_t n,
    store_expunged_fn *expunged, void *arg);

/*
 * Tombstones (uid, modseq of the expunge) are what QRESYNC answers from
 * (RFC 7162 §3.2.5.1, §3.2.6).  They are kept at least this long, then
 * purged a few at a time by later expunges of the mailbox; the mailbox
 * remembers the newest modseq purged.
 */
#define STORE_TOMBSTONE_DAYS 60

/*
 * The UIDs expunged after modseq since (their tombstones), ascending, that
 * the view no longer holds and that are below the UIDNEXT it knows: one
 * another session expunged since the last store_view_sync is left for
 * that sync to report.  *complete is false when tombstones newer than
 * since were purged: the list may then lack UIDs, and the caller must take
 * any UID the view lacks as possibly expunged (§3.2.5.1).  Free *uids.
 */
enum store_result store_view_vanished(struct store_view *v, uint64_t since,
    uint32_t **uids, size_t *n, bool *complete);
/* Each message of the view changed after modseq since (FETCH of QRESYNC),
 * by ascending UID; fn returning non-zero stops. */
enum store_result store_view_changed(struct store_view *v, uint64_t since,
    int (*fn)(void *arg, uint32_t msn, const struct store_message *m),
    void *arg);

/*
 * FETCH and SEARCH read one row per message: without this, each read is a
 * transaction of its own (file locks, a look at the WAL).  Between
 * store_read_hold and store_read_release every read shares one snapshot,
 * so the messages are also seen as of one moment; a write inside (the
 * implicit \Seen of FETCH) ends it and a newer one follows.  Changes of
 * other sessions are not seen while it is held, so release it before
 * store_view_sync; and keep it short, as it holds back WAL checkpoints.
 * Nests.
 */
enum store_result store_read_hold(struct store *st);
void store_read_release(struct store *st);

/* ---- the full-text index (fts.c) -------------------------------------------- */

/*
 * SEARCH BODY and TEXT (RFC 9051 §6.4.4) ask the index which messages may
 * contain a string before reading any: every message stores the text
 * SEARCH reads of it (mime-text.c) as trigrams.  Its answer is a superset:
 * the caller still checks each candidate on the message itself.
 */
/* Can the index narrow a search for s (case-folded by mime_fold, as the
 * index is)?  It needs 3 characters of valid UTF-8 without NUL. */
bool store_fts_usable(const char *s, size_t len);
/*
 * Index the messages of the view's mailbox that have no document yet
 * (stored before Cairn had the index), in short write transactions,
 * logging the progress (log_info).  Outside store_read_hold.  A failure
 * leaves the rest unindexed, which SEARCH still reads.
 */
enum store_result store_fts_update(struct store_view *v);
/*
 * The UIDs (ascending, each once; caller frees *uids) of the mailbox whose
 * text may contain s: those whose body (body_only) or header or body has
 * every trigram of s, and those not indexed.  A message outside them
 * cannot match BODY s (or TEXT s).  STORE_INVALID when not
 * store_fts_usable.  Under store_read_hold it answers for that snapshot.
 */
enum store_result store_fts_candidates(struct store_view *v, const char *s,
    size_t len, bool body_only, uint32_t **uids, size_t *n);

/* ---- the change signal (watch.c) ------------------------------------------ */

/*
 * For IDLE and NOTIFY: a descriptor that becomes readable when any
 * process commits to this store (inotify on Linux sees the byte every
 * commit writes to index.db-changed), to poll() for; one per store (a second begin returns
 * it), kept until store_watch_end or store_close.  -1 when the
 * system offers none (another Unix, or the mail user's inotify instances
 * are used up: logged once): then look every STORE_WATCH_POLL_MS.
 */
#define STORE_WATCH_POLL_MS 500
int store_watch_begin(struct store *st);
/* After the descriptor was readable: read its events; true if one of them
 * was a commit (then store_view_sync reports what changed).  Without a
 * descriptor, always true. */
bool store_watch_changed(struct store *st);
void store_watch_end(struct store *st);
/* ---- quota (RFC 9208) ---------------------------------------------------- */

/*
 * One quota root per store: every mailbox of the user.  The administrator
 * sets the limits (cairnctl quota); APPEND and COPY check them in the
 * transaction that adds the rows, so two sessions cannot both pass under
 * a limit, and are refused with STORE_OVERQUOTA, nothing done.
 */
#define STORE_QUOTA_NONE UINT64_MAX      /* no limit */
#define STORE_QUOTA_LIMIT_MAX INT64_MAX  /* the largest limit (number64) */

struct store_quota {
	uint64_t storage;         /* octets: RFC822.SIZE over every mailbox */
	uint64_t messages;        /* messages in every mailbox */
	uint64_t storage_limit;   /* KiB (1024 octets), or STORE_QUOTA_NONE */
	uint64_t message_limit;   /* messages, or STORE_QUOTA_NONE */
};

/* The usage from the mailboxes' counters (no message is read) and the
 * limits. */
enum store_result store_quota_get(struct store *st, struct store_quota *out);
/* Replace both limits (STORE_QUOTA_NONE: none); above STORE_QUOTA_LIMIT_MAX
 * is STORE_INVALID.  Sessions see the new limits at their next check. */
enum store_result store_quota_set(struct store *st, uint64_t storage_limit,
    uint64_t message_limit);
/* RFC 9208 STORAGE: octets in units of 1024, rounded up. */
uint64_t store_quota_kib(uint64_t octets);
/* Would the usage plus octets in messages pass a limit? */
bool store_quota_over(const struct store_quota *q, uint64_t octets,
    uint64_t messages);
/* The largest message that fits now, in octets: UINT64_MAX without a
 * storage limit, 0 when the message limit is reached. */
uint64_t store_quota_room(const struct store_quota *q);
/* Would one more message of octets bytes fit now?  STORE_OK or
 * STORE_OVERQUOTA (the reason in store_error).  For LMTP's RCPT with SIZE
 * (RFC 1870): a look, not a promise; store_deliver checks again when it
 * adds the message. */
enum store_result store_quota_check(struct store *st, uint64_t octets);

/* ---- backup (backup.c) ------------------------------------------------------ */

struct store_backup_stats {
	uint64_t blobs;           /* files the copy of index.db names */
	uint64_t linked, copied;  /* how each came into the backup */
	uint64_t bytes;           /* of those files */
	unsigned attempts;        /* snapshots taken (see store_backup) */
};
/*
 * A consistent copy of the store into the empty directory dest_dirfd,
 * which dest_path names (SQLite opens files by path): index.db by
 * SQLite's online backup, of one snapshot, and the blob files that
 * snapshot names, hard-linked (blobs are immutable) or, across file
 * systems, copied and fsynced.  Other sessions go on meanwhile; one that
 * expunges a message after the snapshot may remove its file before it is
 * linked: then a new snapshot is taken (the files linked stay) and the
 * files of the blobs no snapshot kept are removed at the end; after
 * STORE_BACKUP_ATTEMPTS snapshots it gives up (STORE_ERROR).
 */
#define STORE_BACKUP_ATTEMPTS 8
enum store_result store_backup(struct store *st, int dest_dirfd,
    const char *dest_path, struct store_backup_stats *stats);

/* ---- maintenance ---------------------------------------------------------- */

/*
 * Find (and with repair, remove) orphan blobs, stale tmp/ files (no APPEND
 * holds them, a minute old), rows whose blob is missing (repair removes
 * them, with tombstones), blob refcounts that disagree with the rows
 * (repaired); SQLite's quick_check is reported only.  report() gets one
 * line per finding; *problems counts them.  Holds the write lock while it
 * scans.
 */
enum store_result store_fsck(struct store *st, bool repair,
    void (*report)(void *arg, const char *line), void *arg, unsigned *problems);

#endif
