/*
 * index.db: the one file of Cairn's store that includes sqlite3.h and the
 * only one with SQL.  Every statement is a constant below, prepared once
 * per connection and reused with bound parameters.
 *
 * Connection settings, and why:
 *   journal_mode=WAL   readers (other sessions of the user) never block the
 *                      writer, and a commit is one append to the WAL.
 *   synchronous=FULL   the WAL is fsynced at every commit.  Every write
 *                      here is either acknowledged to a client at once
 *                      (APPEND, COPY, STORE: a lost one is mail lost or a
 *                      flag that comes back) or followed by unlinking blob
 *                      files (EXPUNGE): NORMAL could roll such a commit
 *                      back after a power cut and leave rows whose file is
 *                      gone.  The price is one fsync of the WAL per commit.
 *   foreign_keys=ON    messages cannot name a missing mailbox or blob.
 *   temp_store=MEMORY  sorting needs no temporary file: the process is
 *                      chrooted into an empty directory without /tmp.
 *   busy handler       writers of the same user (several sessions, lmtpd)
 *                      wait for each other instead of failing, up to
 *                      BUSY_TIMEOUT_MS: retrying after 50 us, doubling up
 *                      to 2 ms (busy_wait).  SQLite's own busy_timeout
 *                      sleeps up to 100 ms between tries, so with many
 *                      writers a waiter slept long after the lock was
 *                      free: STORE's p95 with 10 sessions was 1 s.
 *   mmap_size=1 GiB    reads come straight from the page cache through a
 *                      shared mapping instead of pread() into a private
 *                      cache: a SEARCH over 100 000 messages' cached
 *                      header fields reads tens of MB of index.db, and
 *                      every session of the user shares those pages.
 *                      (An I/O error on a mapped page is a SIGBUS, which
 *                      ends the session: the price SQLite documents.)
 *   cache_size=256 KiB the private page cache stays small: an idle
 *                      session's memory is what a server with thousands
 *                      of sessions pays, and mapped pages need no copy.
 *   no checkpoint at close (SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE)
 *                      SQLite's last connection to close checkpoints the
 *                      WAL into index.db and deletes the WAL and -shm,
 *                      and the next open makes them again: four syncs
 *                      (the checkpoint's of the WAL and of index.db, the
 *                      new WAL's header and its directory) each time a
 *                      store goes from open to closed, as it does at
 *                      every logout, LMTP connection and cairnctl
 *                      command, where a delivery's commit itself needs
 *                      one.  Nothing needs that checkpoint for safety: a
 *                      commit is durable once the WAL is synced
 *                      (synchronous=FULL), and the next opener reads the
 *                      WAL as it reads one a killed process left.  But
 *                      that reading (recovery: the -shm index rebuilt
 *                      from every frame) forgets what was checkpointed,
 *                      and only a writer of the same -shm that finds
 *                      the WAL wholly checkpointed starts it over: were
 *                      the store always opened alone for one commit (a
 *                      delivery, a login), the WAL would grow without
 *                      end, read whole at every open, checkpointed whole
 *                      at every commit past INDEX_CHECKPOINT_PAGES (a
 *                      benchmark saw 300 MB and 5 deliveries a second).
 *                      So index_close checkpoints and empties the WAL
 *                      itself once it passes INDEX_CLOSE_WAL_BYTES, if
 *                      no other connection is in a transaction (then one
 *                      of them closes later); below that the close costs
 *                      nothing and the next open reads at most that much.
 *                      index.db-wal (and -shm) stay beside index.db and
 *                      hold committed mail: a copy of the store must take
 *                      them too, or come from SQLite's backup.
 *   journal_size_limit=4 MiB
 *                      a WAL that a large transaction (a schema step, an
 *                      EXPUNGE of thousands) made larger is cut back to
 *                      this after the checkpoint that lets it start
 *                      over, while the store stays open; about what
 *                      INDEX_CHECKPOINT_PAGES pages of 4 KiB take, so
 *                      commits overwrite the file rather than grow it.
 * Writers take the lock first (BEGIN IMMEDIATE), so a read never has to be
 * upgraded into a write, which in WAL mode can fail at once.
 *
 * SQLite also reads /dev/urandom for its own randomness; it is absent in
 * the chroot and SQLite falls back to the time and pid, which is all it
 * needs it for (temporary names), so nothing here depends on it.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index.h"
#include "store-int.h"
#include "xmalloc.h"
#include "schema-sql.h"

#define BUSY_TIMEOUT_MS 10000
/* See the settings above (cache_size negative: KiB). */
#define INDEX_CACHE_KIB "-256"
#define INDEX_MMAP_BYTES "1073741824"
#define INDEX_WAL_KEEP_BYTES "4194304"
/* See "no checkpoint at close" above: about 256 pages. */
#define INDEX_CLOSE_WAL_BYTES (1024 * 1024)
#define INDEX_FILE "index.db"
#define VFS_NAME "cairn-store"

#define MAILBOX_COLUMNS \
	"m.id, m.name, m.uidvalidity, m.uidnext, m.highestmodseq, " \
	"m.special_use, m.noselect, m.recent_uid, " \
	"EXISTS (SELECT 1 FROM mailboxes c " \
	"WHERE c.name >= m.name || '/' AND c.name < m.name || '0'), " \
	"EXISTS (SELECT 1 FROM subscriptions s WHERE s.name = m.name)"
#define MESSAGE_COLUMNS \
	"uid, modseq, flags, keywords, internaldate, tz_minutes, size, " \
	"blob_id, email_id, savedate, thread_id"
/*
 * The children of ?1: names that start with "?1/".  '0' follows '/' in
 * ASCII, so they are exactly the names in ["?1/", "?10") in byte order,
 * and no LIKE pattern has to escape '%' or '_' in a mailbox name.
 */
#define CHILD_OF_1 "(name >= ?1 || '/' AND name < ?1 || '0')"

enum ix_sql {
	SQL_BEGIN, SQL_BEGIN_WRITE, SQL_COMMIT, SQL_ROLLBACK,
	SQL_UIDV_GET, SQL_UIDV_SET,
	SQL_MB_BY_NAME, SQL_MB_BY_ID, SQL_MB_ALL, SQL_MB_ADD, SQL_MB_COUNTERS,
	SQL_MB_RECENT, SQL_MB_STATE, SQL_MB_REMOVE, SQL_MB_CHILDREN,
	SQL_MB_CLASH, SQL_MB_RENAME, SQL_MB_COUNTS,
	SQL_MSG_GET, SQL_MSG_ADD, SQL_MSG_FLAGS, SQL_MSG_DELETE, SQL_TOMB_ADD,
	SQL_MSG_UIDS, SQL_MSG_FIRST_UNSEEN, SQL_MSG_BATCH, SQL_MSG_FIELDS_BATCH,
	SQL_MSG_RANGE, SQL_MSG_CHANGED, SQL_TOMB_REHOME,
	SQL_MSG_REHOME, SQL_MSG_UNHOME, SQL_TOMB_SINCE,
	SQL_TOMB_PURGE_TOP, SQL_TOMB_PURGE, SQL_TOMB_FROM_SET, SQL_TOMB_FROM_GET,
	SQL_KW_ALL, SQL_KW_ADD, SQL_KW_COPY,
	SQL_BLOB_ADD, SQL_BLOB_REF, SQL_BLOB_GETREF, SQL_BLOB_REMOVE,
	SQL_BLOB_PREFIX,
	SQL_BLOB_ALL, SQL_BLOB_SETREF, SQL_BLOB_USERS, SQL_MIME_SET, SQL_MIME_GET,
	SQL_FIELDS_SET, SQL_FIELDS_GET, SQL_SORTKEYS_SET, SQL_SORTKEYS_BATCH,
	SQL_QUOTA_GET, SQL_QUOTA_SET,
	SQL_THREAD_FIND, SQL_THREAD_RECORD, SQL_THREAD_NEW, SQL_THREAD_LAST,
	SQL_THREAD_UNASSIGNED, SQL_THREAD_OF_BLOB, SQL_THREAD_SET_BLOB,
	SQL_SUB_ADD, SQL_SUB_DEL, SQL_SUB_ALL,
	SQL_FTS_DOC_ADD, SQL_FTS_TEXT_ADD, SQL_FTS_DOC_KILL, SQL_FTS_DEAD,
	SQL_FTS_TEXT_DEL,
	SQL_FTS_DOC_DEL, SQL_FTS_MISSING, SQL_FTS_MATCH, SQL_FTS_UNINDEXED,
	SQL_FTS_N_UNINDEXED, SQL_FTS_TOO_LARGE,
	SQL_COUNT
};

static const char *const sql_text[SQL_COUNT] = {
	[SQL_BEGIN] = "BEGIN",
	[SQL_BEGIN_WRITE] = "BEGIN IMMEDIATE",
	[SQL_COMMIT] = "COMMIT",
	[SQL_ROLLBACK] = "ROLLBACK",
	[SQL_UIDV_GET] = "SELECT last_uidvalidity FROM meta WHERE id = 1",
	[SQL_UIDV_SET] = "UPDATE meta SET last_uidvalidity = ?1 WHERE id = 1",
	[SQL_MB_BY_NAME] = "SELECT " MAILBOX_COLUMNS " FROM mailboxes m "
	    "WHERE m.name = ?1",
	[SQL_MB_BY_ID] = "SELECT " MAILBOX_COLUMNS " FROM mailboxes m "
	    "WHERE m.id = ?1",
	[SQL_MB_ALL] = "SELECT " MAILBOX_COLUMNS " FROM mailboxes m "
	    "ORDER BY m.name",
	[SQL_MB_ADD] = "INSERT INTO mailboxes (name, uidvalidity, special_use) "
	    "VALUES (?1, ?2, ?3)",
	[SQL_MB_COUNTERS] = "UPDATE mailboxes SET uidnext = ?2, "
	    "highestmodseq = ?3 WHERE id = ?1",
	[SQL_MB_RECENT] = "UPDATE mailboxes SET recent_uid = ?2 WHERE id = ?1",
	[SQL_MB_STATE] = "UPDATE mailboxes SET noselect = ?2, uidvalidity = ?3, "
	    "special_use = ?4 WHERE id = ?1",
	[SQL_MB_REMOVE] = "DELETE FROM mailboxes WHERE id = ?1",
	[SQL_MB_CHILDREN] = "SELECT EXISTS (SELECT 1 FROM mailboxes WHERE "
	    CHILD_OF_1 ")",
	[SQL_MB_CLASH] = "SELECT EXISTS (SELECT 1 FROM mailboxes s "
	    "WHERE (s.name = ?1 OR (s.name >= ?1 || '/' AND s.name < ?1 || '0')) "
	    "AND EXISTS (SELECT 1 FROM mailboxes t "
	    "WHERE t.name = ?2 || substr(s.name, length(?1) + 1)))",
	/* length() and substr() both count characters, so UTF-8 is safe. */
	[SQL_MB_RENAME] = "UPDATE mailboxes SET name = ?2 || "
	    "substr(name, length(?1) + 1) WHERE name = ?1 OR " CHILD_OF_1,
	/* Kept by schema.sql's triggers; recent ones are few and found
	 * through the primary key, \Deleted ones through messages_deleted. */
	[SQL_MB_COUNTS] = "SELECT n_messages, (SELECT count(*) FROM messages "
	    "WHERE mailbox_id = ?1 AND uid > ?2), n_unseen, n_deleted, "
	    "total_size, (SELECT coalesce(sum(size), 0) FROM messages "
	    "INDEXED BY messages_deleted WHERE mailbox_id = ?1 "
	    "AND (flags & 8) != 0) "
	    "FROM mailboxes WHERE id = ?1",
	[SQL_MSG_GET] = "SELECT " MESSAGE_COLUMNS " FROM messages "
	    "WHERE mailbox_id = ?1 AND uid = ?2",
	[SQL_MSG_ADD] = "INSERT INTO messages (mailbox_id, " MESSAGE_COLUMNS ") "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
	[SQL_MSG_FLAGS] = "UPDATE messages SET flags = ?3, keywords = ?4, "
	    "modseq = ?5 WHERE mailbox_id = ?1 AND uid = ?2",
	[SQL_MSG_DELETE] = "DELETE FROM messages WHERE mailbox_id = ?1 "
	    "AND uid = ?2",
	[SQL_TOMB_ADD] = "INSERT OR REPLACE INTO tombstones (mailbox_id, uid, "
	    "modseq, expunged) VALUES (?1, ?2, ?3, ?4)",
	[SQL_MSG_UIDS] = "SELECT word, bits FROM uidmap WHERE mailbox_id = ?1 "
	    "ORDER BY word",
	[SQL_MSG_FIRST_UNSEEN] = "SELECT uid FROM messages INDEXED BY "
	    "messages_unseen WHERE mailbox_id = ?1 AND (flags & 1) = 0 "
	    "AND uid < ?2 ORDER BY uid LIMIT 1",
	[SQL_MSG_BATCH] = "SELECT " MESSAGE_COLUMNS " FROM messages "
	    "WHERE mailbox_id = ?1 AND uid >= ?2 ORDER BY uid LIMIT ?3",
	/* The same rows with their cached header fields (NULL: none), so
	 * that a header search reads each row once.  A join: a scalar
	 * subquery copies each text once more (a fifth more work). */
	[SQL_MSG_FIELDS_BATCH] = "SELECT " MESSAGE_COLUMNS ", fields "
	    "FROM messages LEFT JOIN header_cache USING (blob_id) "
	    "WHERE mailbox_id = ?1 AND uid >= ?2 ORDER BY uid LIMIT ?3",
	[SQL_MSG_RANGE] = "SELECT " MESSAGE_COLUMNS " FROM messages "
	    "WHERE mailbox_id = ?1 AND uid BETWEEN ?2 AND ?3 "
	    "AND (?4 = 0 OR (flags & 8) != 0) ORDER BY uid",
	/* The same, through the (mailbox_id, modseq) index. */
	[SQL_MSG_CHANGED] = "SELECT " MESSAGE_COLUMNS " FROM messages "
	    "WHERE mailbox_id = ?1 AND modseq > ?5 AND uid BETWEEN ?2 AND ?3 "
	    "AND (?4 = 0 OR (flags & 8) != 0) ORDER BY uid",
	[SQL_TOMB_REHOME] = "INSERT OR REPLACE INTO tombstones (mailbox_id, uid, "
	    "modseq, expunged) SELECT ?1, uid, ?3, ?4 FROM messages "
	    "WHERE mailbox_id = ?1",
	/* Copied and deleted, not updated: schema.sql's triggers count rows
	 * in and out (messages_stay). */
	[SQL_MSG_REHOME] = "INSERT INTO messages (mailbox_id, " MESSAGE_COLUMNS ") "
	    "SELECT ?2, " MESSAGE_COLUMNS " FROM messages WHERE mailbox_id = ?1",
	[SQL_MSG_UNHOME] = "DELETE FROM messages WHERE mailbox_id = ?1",
	[SQL_TOMB_SINCE] = "SELECT uid FROM tombstones WHERE mailbox_id = ?1 "
	    "AND modseq > ?2 ORDER BY uid DESC",
	/*
	 * Purging (schema.sql, version 3) looks at the ?3 oldest tombstones
	 * by modseq, through tombstones_modseq, and takes those made before
	 * ?2: bounded work, however many tombstones the mailbox has.  Time
	 * and modseq rise together, so these are the old ones; one whose
	 * clock went back only stays longer.
	 */
	[SQL_TOMB_PURGE_TOP] = "SELECT max(modseq), count(*) FROM (SELECT "
	    "modseq, expunged FROM tombstones WHERE mailbox_id = ?1 "
	    "ORDER BY modseq LIMIT ?3) WHERE expunged < ?2",
	[SQL_TOMB_PURGE] = "DELETE FROM tombstones WHERE mailbox_id = ?1 "
	    "AND expunged < ?2 AND uid IN (SELECT uid FROM tombstones "
	    "WHERE mailbox_id = ?1 ORDER BY modseq LIMIT ?3)",
	[SQL_TOMB_FROM_SET] = "UPDATE mailboxes SET tombstones_from = "
	    "max(tombstones_from, ?2) WHERE id = ?1",
	[SQL_TOMB_FROM_GET] = "SELECT tombstones_from FROM mailboxes WHERE id = ?1",
	[SQL_KW_ALL] = "SELECT bit, name FROM mailbox_keywords "
	    "WHERE mailbox_id = ?1",
	[SQL_KW_ADD] = "INSERT INTO mailbox_keywords (mailbox_id, bit, name) "
	    "VALUES (?1, ?2, ?3)",
	[SQL_KW_COPY] = "INSERT OR IGNORE INTO mailbox_keywords (mailbox_id, bit, "
	    "name) SELECT ?2, bit, name FROM mailbox_keywords "
	    "WHERE mailbox_id = ?1",
	[SQL_BLOB_ADD] = "INSERT INTO blobs (id, refcount, size, prefix) "
	    "VALUES (?1, 1, ?2, ?3)",
	[SQL_BLOB_REF] = "UPDATE blobs SET refcount = refcount + ?2 WHERE id = ?1",
	[SQL_BLOB_GETREF] = "SELECT refcount FROM blobs WHERE id = ?1",
	[SQL_BLOB_REMOVE] = "DELETE FROM blobs WHERE id = ?1",
	/* schema.sql, version 7: what a delivery put in front of the file */
	[SQL_BLOB_PREFIX] = "SELECT prefix FROM blobs WHERE id = ?1",
	[SQL_BLOB_ALL] = "SELECT b.id, b.refcount, (SELECT count(*) FROM "
	    "messages m WHERE m.blob_id = b.id), b.size, "
	    "coalesce(length(b.prefix), 0) FROM blobs b ORDER BY b.id",
	[SQL_BLOB_SETREF] = "UPDATE blobs SET refcount = ?2 WHERE id = ?1",
	[SQL_BLOB_USERS] = "SELECT mailbox_id, uid FROM messages "
	    "WHERE blob_id = ?1",
	[SQL_MIME_SET] = "INSERT OR REPLACE INTO mime_cache (blob_id, envelope, "
	    "body, bodystructure, preview) VALUES (?1, ?2, ?3, ?4, ?5)",
	[SQL_FIELDS_SET] = "INSERT OR REPLACE INTO header_cache (blob_id, fields) "
	    "VALUES (?1, ?2)",
	/* In the order of enum index_mime. */
	[SQL_MIME_GET] = "SELECT envelope, body, bodystructure, preview "
	    "FROM mime_cache WHERE blob_id = ?1",
	[SQL_FIELDS_GET] = "SELECT fields FROM header_cache WHERE blob_id = ?1",
	/* Every message of the blob (none when it is gone). */
	[SQL_SORTKEYS_SET] = "INSERT OR REPLACE INTO sort_keys (mailbox_id, uid, "
	    "sent, reply, subject, from_key, to_key, cc_key, dfrom_key, dto_key, "
	    "msgid, refs) SELECT mailbox_id, uid, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, "
	    "?10, ?11 FROM messages WHERE blob_id = ?1",
	/* The keys of the messages from uid ?2 on: a range, no join (schema
	 * step 9); a message without a row has none stored. */
	[SQL_SORTKEYS_BATCH] = "SELECT uid, sent, reply, subject, from_key, "
	    "to_key, cc_key, dfrom_key, dto_key, msgid, refs FROM sort_keys "
	    "WHERE mailbox_id = ?1 AND uid >= ?2 ORDER BY uid LIMIT ?3",
	/* One row, also when the quota row is missing: no limits then. */
	[SQL_QUOTA_GET] = "SELECT (SELECT coalesce(sum(total_size), 0) FROM "
	    "mailboxes), (SELECT coalesce(sum(n_messages), 0) FROM mailboxes), "
	    "(SELECT storage_kib FROM quota WHERE id = 1), "
	    "(SELECT messages FROM quota WHERE id = 1)",
	[SQL_QUOTA_SET] = "INSERT OR REPLACE INTO quota (id, storage_kib, "
	    "messages) VALUES (1, ?1, ?2)",
	[SQL_THREAD_FIND] = "SELECT thread_id FROM thread_msgids WHERE msgid = ?1",
	[SQL_THREAD_RECORD] = "INSERT OR IGNORE INTO thread_msgids (msgid, "
	    "thread_id) VALUES (?1, ?2)",
	[SQL_THREAD_NEW] = "UPDATE meta SET last_thread_id = last_thread_id + 1 "
	    "WHERE id = 1",
	[SQL_THREAD_LAST] = "SELECT last_thread_id FROM meta WHERE id = 1",
	/* Through the partial index messages_unthreaded: after the rows of
	 * older stores are done, it is empty and this costs nothing.  A blob
	 * with several rows (copies, which keep the internal date) may come
	 * more than once. */
	[SQL_THREAD_UNASSIGNED] = "SELECT blob_id FROM messages "
	    "INDEXED BY messages_unthreaded WHERE thread_id IS NULL "
	    "ORDER BY internaldate, blob_id LIMIT ?1",
	[SQL_THREAD_OF_BLOB] = "SELECT thread_id FROM messages WHERE "
	    "blob_id = ?1 AND thread_id IS NOT NULL LIMIT 1",
	[SQL_THREAD_SET_BLOB] = "UPDATE messages SET thread_id = ?2 WHERE "
	    "blob_id = ?1 AND thread_id IS NULL",
	[SQL_SUB_ADD] = "INSERT OR IGNORE INTO subscriptions (name) VALUES (?1)",
	[SQL_SUB_DEL] = "DELETE FROM subscriptions WHERE name = ?1",
	[SQL_SUB_ALL] = "SELECT name FROM subscriptions ORDER BY name",
	/* The full-text index (schema.sql, version 5): document d's header
	 * is row 2d of fts_text, its body row 2d + 1. */
	[SQL_FTS_DOC_ADD] = "INSERT INTO fts_docs (blob_id, header, body) "
	    "VALUES (?1, ?2, ?3)",
	[SQL_FTS_TEXT_ADD] = "INSERT INTO fts_text (rowid, text) VALUES (?1, ?2)",
	/* The blob goes: its document is dead, its rows wait for fts_purge. */
	[SQL_FTS_DOC_KILL] = "UPDATE fts_docs SET blob_id = NULL WHERE blob_id = ?1",
	[SQL_FTS_DEAD] = "SELECT docid, header, body FROM fts_docs "
	    "INDEXED BY fts_docs_dead WHERE blob_id IS NULL ORDER BY docid LIMIT 1",
	/* A contentless table forgets a row given the text it was made of. */
	[SQL_FTS_TEXT_DEL] = "INSERT INTO fts_text (fts_text, rowid, text) "
	    "VALUES ('delete', ?1, ?2)",
	[SQL_FTS_DOC_DEL] = "DELETE FROM fts_docs WHERE docid = ?1",
	[SQL_FTS_MISSING] = "SELECT m.blob_id FROM messages m "
	    "WHERE m.mailbox_id = ?1 AND NOT EXISTS (SELECT 1 FROM fts_docs d "
	    "WHERE d.blob_id = m.blob_id) ORDER BY m.uid",
	/*
	 * CROSS JOIN keeps this order: the rows the index matches first,
	 * then their documents and messages (through messages_blob); any
	 * other order would run the full-text query once per message.
	 * ?3 = 1: body rows only (odd rowids).
	 */
	[SQL_FTS_MATCH] = "SELECT m.uid FROM fts_text CROSS JOIN fts_docs d "
	    "CROSS JOIN messages m WHERE fts_text MATCH ?1 "
	    "AND (fts_text.rowid & 1) >= ?3 AND d.docid = fts_text.rowid >> 1 "
	    "AND m.blob_id = d.blob_id AND m.mailbox_id = ?2",
	/* Messages without a document: a look at every row, so only asked
	 * when the mailbox's n_unindexed (kept by triggers) says there are. */
	[SQL_FTS_UNINDEXED] = "SELECT m.uid FROM messages m "
	    "WHERE m.mailbox_id = ?1 AND NOT EXISTS (SELECT 1 FROM fts_docs d "
	    "WHERE d.blob_id = m.blob_id)",
	[SQL_FTS_N_UNINDEXED] = "SELECT n_unindexed FROM mailboxes WHERE id = ?1",
	/* Those too large to index: few, found through fts_docs_unindexed. */
	[SQL_FTS_TOO_LARGE] = "SELECT m.uid FROM fts_docs d "
	    "INDEXED BY fts_docs_unindexed CROSS JOIN messages m "
	    "WHERE d.body IS NULL AND m.blob_id = d.blob_id AND m.mailbox_id = ?1",
};

struct index {
	sqlite3 *db;
	sqlite3_stmt *stmt[SQL_COUNT];
	char *err;
	size_t errlen;
	/* index_hold(): its depth, the read transactions begun inside it
	 * (no-ops), and whether a write inside ended it until its commit. */
	unsigned hold;
	unsigned nested;
	bool suspended;
	uint64_t snapshot;      /* counts the held reads begun */
	int signal_fd;          /* STORE_SIGNAL_FILE, opened at the first commit */
};

/* ---- errors ---------------------------------------------------------- */

/* SQLite's last result, as a store_error_cause (SQLite's unix VFS says
 * SQLITE_FULL for a write that got ENOSPC; other I/O errors keep errno). */
static enum store_error_cause
sqlite_cause(sqlite3 *db)
{
	if (db == NULL)
		return STORE_CAUSE_OTHER;
	switch (sqlite3_extended_errcode(db) & 0xff) {
	case SQLITE_FULL:
		return STORE_CAUSE_NO_SPACE;
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
		return STORE_CAUSE_CORRUPT;
	case SQLITE_IOERR:
		return store_cause_of_errno(sqlite3_system_errno(db));
	default:
		return STORE_CAUSE_OTHER;
	}
}

static enum store_result CAIRN_PRINTF(2, 3)
fail(struct index *ix, const char *fmt, ...)
{
	va_list ap;

	store_set_cause(sqlite_cause(ix->db));

	va_start(ap, fmt);
	vsnprintf(ix->err, ix->errlen, fmt, ap);
	va_end(ap);
	return STORE_ERROR;
}

static enum store_result
db_fail(struct index *ix, const char *what)
{
	return fail(ix, "index.db: %s: %s", what, sqlite3_errmsg(ix->db));
}

/* ---- the VFS --------------------------------------------------------- */

/*
 * store_open() makes the store directory the current directory (fchdir)
 * and we open the relative name "index.db": SQLite needs a path and the
 * store has none, as the process is chrooted into an empty directory and
 * the directory came as a descriptor from outside it.  SQLite's unix VFS
 * would make the name absolute with getcwd(), which fails for a directory
 * outside the chroot.  This VFS is the unix one except that it leaves a
 * relative name relative; the -wal and -shm names derived from it are
 * then relative too and resolve in the same directory.
 */
static sqlite3_vfs store_vfs;
static sqlite3_vfs *unix_vfs;

static int
vfs_full_pathname(sqlite3_vfs *vfs, const char *name, int outlen, char *out)
{
	size_t len = strlen(name);

	(void)vfs;
	if (name[0] == '/')
		return unix_vfs->xFullPathname(unix_vfs, name, outlen, out);
	if (outlen < 0 || len >= (size_t)outlen)
		return SQLITE_CANTOPEN;
	memcpy(out, name, len + 1);
	return SQLITE_OK;
}

static int
vfs_register(void)
{
	if (unix_vfs != NULL)
		return SQLITE_OK;
	if (sqlite3_initialize() != SQLITE_OK ||
	    (unix_vfs = sqlite3_vfs_find(NULL)) == NULL)
		return SQLITE_ERROR;
	store_vfs = *unix_vfs;
	store_vfs.pNext = NULL;
	store_vfs.zName = VFS_NAME;
	store_vfs.xFullPathname = vfs_full_pathname;
	return sqlite3_vfs_register(&store_vfs, 0);
}

/* ---- statements ------------------------------------------------------ */

static sqlite3_stmt *
stmt(struct index *ix, enum ix_sql which)
{
	if (ix->stmt[which] == NULL &&
	    sqlite3_prepare_v3(ix->db, sql_text[which], -1,
	    SQLITE_PREPARE_PERSISTENT, &ix->stmt[which], NULL) != SQLITE_OK) {
		ix->stmt[which] = NULL;
		db_fail(ix, "prepare");
		return NULL;
	}
	return ix->stmt[which];
}

static void
done(sqlite3_stmt *s)
{
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
}

static bool
bind_int(sqlite3_stmt *s, int col, int64_t v)
{
	return sqlite3_bind_int64(s, col, (sqlite3_int64)v) == SQLITE_OK;
}

/* NULL unless set. */
static bool
bind_int_or_null(sqlite3_stmt *s, int col, int64_t v, bool set)
{
	return set ? bind_int(s, col, v) : sqlite3_bind_null(s, col) == SQLITE_OK;
}

/* The caller's string stays valid while the statement runs. */
static bool
bind_text(sqlite3_stmt *s, int col, const char *v)
{
	return sqlite3_bind_text(s, col, v, -1, SQLITE_STATIC) == SQLITE_OK;
}

/* NULL for a NULL string. */
static bool
bind_text_or_null(sqlite3_stmt *s, int col, const char *v)
{
	return v != NULL ? bind_text(s, col, v) :
	    sqlite3_bind_null(s, col) == SQLITE_OK;
}

/* A blob of len bytes, NULL for a NULL data. */
static bool
bind_blob_or_null(sqlite3_stmt *s, int col, const void *data, size_t len)
{
	if (data == NULL)
		return sqlite3_bind_null(s, col) == SQLITE_OK;
	if (len > INT_MAX)
		return false;
	return sqlite3_bind_blob(s, col, len > 0 ? data : "", (int)len,
	    SQLITE_STATIC) == SQLITE_OK;
}

static enum store_result
bind_fail(struct index *ix, sqlite3_stmt *s)
{
	enum store_result r = db_fail(ix, "bind");

	done(s);
	return r;
}

/* Run a statement that returns no rows; a broken UNIQUE is STORE_EXISTS. */
static enum store_result
run(struct index *ix, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);
	enum store_result r = STORE_OK;

	if (rc == SQLITE_CONSTRAINT_UNIQUE || rc == SQLITE_CONSTRAINT_PRIMARYKEY)
		r = STORE_EXISTS;
	else if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = db_fail(ix, what);
	done(s);
	return r;
}

/* Step to the one row expected: OK (row ready), NOT_FOUND, or ERROR. */
static enum store_result
step_row(struct index *ix, sqlite3_stmt *s, const char *what)
{
	int rc = sqlite3_step(s);

	if (rc == SQLITE_ROW)
		return STORE_OK;
	if (rc == SQLITE_DONE) {
		done(s);
		return STORE_NOT_FOUND;
	}
	db_fail(ix, what);
	done(s);
	return STORE_ERROR;
}

/* The first column of the one row a statement keyed by ?1 = id returns:
 * OK, NOT_FOUND (no row), or ERROR. */
static enum store_result
int_by_id(struct index *ix, enum ix_sql which, int64_t id, const char *what,
    int64_t *out)
{
	sqlite3_stmt *s = stmt(ix, which);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, what)) != STORE_OK)
		return r;
	*out = sqlite3_column_int64(s, 0);
	done(s);
	return STORE_OK;
}

/* After a multi-row loop: the step result that ended it. */
static enum store_result
loop_end(struct index *ix, sqlite3_stmt *s, int rc, const char *what)
{
	enum store_result r = rc == SQLITE_DONE ? STORE_OK : db_fail(ix, what);

	done(s);
	return r;
}

static enum store_result
exec_sql(struct index *ix, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(ix->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		fail(ix, "index.db: %s", msg != NULL ? msg : sqlite3_errmsg(ix->db));
		sqlite3_free(msg);
		return STORE_ERROR;
	}
	return STORE_OK;
}

static enum store_result
query_int(struct index *ix, const char *sql, int64_t *out)
{
	sqlite3_stmt *s;
	enum store_result r;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(ix, sql);
	r = step_row(ix, s, sql);
	if (r == STORE_OK)
		*out = sqlite3_column_int64(s, 0);
	else if (r == STORE_NOT_FOUND)
		r = fail(ix, "index.db: %s: no result", sql);
	sqlite3_finalize(s);
	return r;
}

/* A text column of at most max bytes, without NUL; NULL if it is not. */
static char *
column_text(sqlite3_stmt *s, int col, size_t max)
{
	const unsigned char *t = sqlite3_column_text(s, col);
	int n = sqlite3_column_bytes(s, col);

	if (t == NULL || n < 0 || (size_t)n > max ||
	    memchr(t, '\0', (size_t)n) != NULL)
		return NULL;
	return xstrdup((const char *)t);
}

/* p (of *cap elements of size), grown if needed to hold len + 1. */
static void *
grow(void *p, size_t len, size_t *cap, size_t size)
{
	if (len < *cap)
		return p;
	*cap = *cap ? *cap * 2 : 64;
	return xreallocarray(p, *cap, size);
}

/* ---- open, schema ---------------------------------------------------- */

/* Created here, not by SQLite, so that it is 0600 whatever the umask. */
static enum store_result
create_file(char *err, size_t errlen)
{
	int fd = open(INDEX_FILE, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC |
	    O_NOFOLLOW, 0600);

	if (fd < 0 && errno != EEXIST) {
		snprintf(err, errlen, INDEX_FILE ": %s", strerror(errno));
		return STORE_ERROR;
	}
	if (fd >= 0)
		close(fd);
	return STORE_OK;
}

/* Refuse what this build cannot read before anything writes to the file. */
static enum store_result
check_version(struct index *ix, int64_t version)
{
	int64_t objects;

	if (version > SCHEMA_VERSION)
		return fail(ix, "index.db: schema version %" PRId64 " is newer than "
		    "this Cairn (%d): upgrade Cairn", version, SCHEMA_VERSION);
	if (version < 0)
		return fail(ix, "index.db: invalid schema version %" PRId64, version);
	if (version > 0)
		return STORE_OK;
	if (query_int(ix, "SELECT count(*) FROM sqlite_master", &objects) != STORE_OK)
		return STORE_ERROR;
	if (objects != 0)
		return fail(ix, "index.db has tables but no schema version: "
		    "not a Cairn store");
	return STORE_OK;
}

/*
 * Run the steps from the file's version to ours in one transaction.  BEGIN
 * IMMEDIATE first, then read the version again: two sessions opening a new
 * store at once must not both run step 0.
 */
static enum store_result
migrate(struct index *ix)
{
	int64_t version;
	char sql[64];

	if (exec_sql(ix, "BEGIN IMMEDIATE") != STORE_OK)
		return STORE_ERROR;
	if (query_int(ix, "PRAGMA user_version", &version) != STORE_OK ||
	    check_version(ix, version) != STORE_OK)
		goto rollback;
	for (int64_t v = version; v < SCHEMA_VERSION; v++)
		if (exec_sql(ix, schema_steps[v]) != STORE_OK)
			goto rollback;
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if (version < SCHEMA_VERSION && exec_sql(ix, sql) != STORE_OK)
		goto rollback;
	if (exec_sql(ix, "COMMIT") != STORE_OK)
		goto rollback;
	return STORE_OK;
rollback:
	(void)sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return STORE_ERROR;
}

/* Another connection holds the lock: wait and try again (non-zero), or
 * give up (0: SQLITE_BUSY) once BUSY_TIMEOUT_MS have been slept. */
static int
busy_wait(void *arg, int tries)
{
	enum { FIRST_US = 50, DOUBLINGS = 6, LAST_US = 2000 };
	long slept_us = tries < DOUBLINGS ? FIRST_US * ((1L << tries) - 1) :
	    FIRST_US * ((1L << DOUBLINGS) - 1) + (long)(tries - DOUBLINGS) * LAST_US;
	long us = tries < DOUBLINGS ? FIRST_US << tries : LAST_US;
	struct timespec ts = { 0, us * 1000 };

	(void)arg;
	if (slept_us >= BUSY_TIMEOUT_MS * 1000L)
		return 0;
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
	return 1;
}

static enum store_result
configure(struct index *ix)
{
	sqlite3_stmt *s;
	enum store_result r;
	int64_t version;

	(void)sqlite3_busy_handler(ix->db, busy_wait, NULL);
	(void)sqlite3_extended_result_codes(ix->db, 1);
	if (sqlite3_db_config(ix->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1,
	    NULL) != SQLITE_OK)
		return db_fail(ix, "no checkpoint on close");
	/* The first read: a file that is not a database fails here. */
	if (query_int(ix, "PRAGMA user_version", &version) != STORE_OK ||
	    check_version(ix, version) != STORE_OK)
		return STORE_ERROR;
	if (exec_sql(ix, "PRAGMA foreign_keys = ON") != STORE_OK ||
	    exec_sql(ix, "PRAGMA temp_store = MEMORY") != STORE_OK ||
	    exec_sql(ix, "PRAGMA cache_size = " INDEX_CACHE_KIB) != STORE_OK ||
	    exec_sql(ix, "PRAGMA mmap_size = " INDEX_MMAP_BYTES) != STORE_OK ||
	    exec_sql(ix, "PRAGMA journal_size_limit = " INDEX_WAL_KEEP_BYTES) !=
	    STORE_OK)
		return STORE_ERROR;
	if (sqlite3_prepare_v2(ix->db, "PRAGMA journal_mode = WAL", -1, &s,
	    NULL) != SQLITE_OK)
		return db_fail(ix, "journal_mode");
	r = step_row(ix, s, "journal_mode");
	if (r == STORE_OK && (sqlite3_column_text(s, 0) == NULL ||
	    sqlite3_stricmp((const char *)sqlite3_column_text(s, 0), "wal") != 0))
		r = fail(ix, "index.db: cannot use WAL journal mode");
	sqlite3_finalize(s);
	if (r != STORE_OK)
		return STORE_ERROR;
	return exec_sql(ix, "PRAGMA synchronous = FULL");
}

/*
 * SQLite calls this after each commit of ours to the WAL, once readers can
 * see it: the moment to wake the sessions in IDLE (watch.c).  inotify on
 * index.db-wal itself would wake them at the first frame written, before
 * the commit is visible, and they would find nothing.  A WAL hook replaces
 * SQLite's automatic checkpoint, so this checkpoints as that would
 * (PASSIVE, once the WAL holds INDEX_CHECKPOINT_PAGES pages).
 */
#define INDEX_CHECKPOINT_PAGES 1000

static int
wal_committed(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct index *ix = arg;

	if (ix->signal_fd < 0)
		ix->signal_fd = open(STORE_SIGNAL_FILE, O_WRONLY | O_CREAT |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
	/* Nothing to undo if it fails: IDLE sessions look again later. */
	if (ix->signal_fd >= 0 && pwrite(ix->signal_fd, "", 1, 0) != 1)
		log_debug("%s: %s", STORE_SIGNAL_FILE, strerror(errno));
	if (pages >= INDEX_CHECKPOINT_PAGES)
		(void)sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
		    NULL, NULL);
	return SQLITE_OK;
}

enum store_result
index_open(char *err, size_t errlen, struct index **out)
{
	struct index *ix;

	*out = NULL;
	if (vfs_register() != SQLITE_OK) {
		snprintf(err, errlen, "index.db: cannot set up SQLite");
		return STORE_ERROR;
	}
	if (create_file(err, errlen) != STORE_OK)
		return STORE_ERROR;
	ix = xcalloc(1, sizeof(*ix));
	ix->err = err;
	ix->errlen = errlen;
	ix->signal_fd = -1;
	if (sqlite3_open_v2(INDEX_FILE, &ix->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_NOMUTEX, VFS_NAME) != SQLITE_OK) {
		if (ix->db == NULL)
			fail(ix, "index.db: out of memory");
		else
			fail(ix, "index.db: %s (%s)", sqlite3_errmsg(ix->db),
			    strerror(sqlite3_system_errno(ix->db)));
		index_close(ix);
		return STORE_ERROR;
	}
	if (configure(ix) != STORE_OK || migrate(ix) != STORE_OK) {
		index_close(ix);
		return STORE_ERROR;
	}
	(void)sqlite3_wal_hook(ix->db, wal_committed, ix);
	*out = ix;
	return STORE_OK;
}

/*
 * A WAL past INDEX_CLOSE_WAL_BYTES is checkpointed into index.db and
 * emptied here (see the top of this file).  TRUNCATE does it only when no
 * other connection is reading or writing, and without the busy handler
 * it does not wait: such a connection closes later and looks again.
 */
static void
close_checkpoint(struct index *ix)
{
	sqlite3_file *wal = NULL;
	sqlite3_int64 size;

	if (sqlite3_file_control(ix->db, "main", SQLITE_FCNTL_JOURNAL_POINTER,
	    &wal) != SQLITE_OK || wal == NULL || wal->pMethods == NULL ||
	    wal->pMethods->xFileSize(wal, &size) != SQLITE_OK ||
	    size < INDEX_CLOSE_WAL_BYTES)
		return;
	(void)sqlite3_busy_handler(ix->db, NULL, NULL);
	(void)sqlite3_wal_checkpoint_v2(ix->db, NULL, SQLITE_CHECKPOINT_TRUNCATE,
	    NULL, NULL);
}

void
index_close(struct index *ix)
{
	if (ix == NULL)
		return;
	for (size_t i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(ix->stmt[i]);
	if (ix->db != NULL)
		close_checkpoint(ix);
	if (ix->db != NULL && sqlite3_close(ix->db) != SQLITE_OK)
		log_warnx("index.db: close: %s", sqlite3_errmsg(ix->db));
	if (ix->signal_fd >= 0)
		close(ix->signal_fd);
	free(ix);
}

int
index_schema_version(void)
{
	return SCHEMA_VERSION;
}

/* ---- transactions ---------------------------------------------------- */

static enum store_result
simple(struct index *ix, enum ix_sql which, const char *what)
{
	sqlite3_stmt *s = stmt(ix, which);

	return s == NULL ? STORE_ERROR : run(ix, s, what);
}

/*
 * Inside index_hold() a read transaction is already open: a read begin
 * joins it.  A write cannot upgrade it (in WAL mode that fails when
 * another connection wrote since), so the held read ends, the write runs
 * on its own, and its commit or rollback opens a new held read.
 */
enum store_result
index_begin(struct index *ix, bool write)
{
	if (ix->hold > 0 && !write && !ix->suspended) {
		ix->nested++;
		return STORE_OK;
	}
	if (ix->hold > 0 && write && !ix->suspended) {
		if (sqlite3_get_autocommit(ix->db) == 0 &&
		    simple(ix, SQL_COMMIT, "end the held read") != STORE_OK)
			return STORE_ERROR;
		ix->suspended = true;
	}
	return simple(ix, write ? SQL_BEGIN_WRITE : SQL_BEGIN, "begin");
}

/*
 * BEGIN IMMEDIATE without waiting for the lock: *busy when another
 * connection holds it (STORE_OK, nothing begun).  For a write that others
 * may be about to make for us (claiming \Recent): rather than queue
 * behind them, look again.  Inside a hold it waits like index_begin.
 */
bool
index_busy_sleep(int tries)
{
	return busy_wait(NULL, tries) != 0;
}

enum store_result
index_begin_write_nowait(struct index *ix, bool *busy)
{
	sqlite3_stmt *s;
	int rc;

	*busy = false;
	if (ix->hold > 0)
		return index_begin(ix, true);
	if ((s = stmt(ix, SQL_BEGIN_WRITE)) == NULL)
		return STORE_ERROR;
	(void)sqlite3_busy_handler(ix->db, NULL, NULL);
	rc = sqlite3_step(s);
	(void)sqlite3_busy_handler(ix->db, busy_wait, NULL);
	done(s);
	if ((rc & 0xff) == SQLITE_BUSY) {
		*busy = true;
		return STORE_OK;
	}
	return rc == SQLITE_DONE ? STORE_OK : db_fail(ix, "begin");
}

/* After a write inside a hold: the held read again, newer. */
static void
resume_hold(struct index *ix)
{
	if (!ix->suspended)
		return;
	ix->suspended = false;
	ix->snapshot++;
	(void)simple(ix, SQL_BEGIN, "resume the held read");
}

enum store_result
index_commit(struct index *ix)
{
	if (ix->nested > 0) {
		ix->nested--;
		return STORE_OK;
	}
	if (simple(ix, SQL_COMMIT, "commit") == STORE_OK) {
		resume_hold(ix);
		return STORE_OK;
	}
	index_rollback(ix);
	return STORE_ERROR;
}

/* Keeps the error that made the caller give up. */
void
index_rollback(struct index *ix)
{
	if (ix->nested > 0) {
		ix->nested--;
		return;
	}
	if (sqlite3_get_autocommit(ix->db) == 0)
		(void)sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	resume_hold(ix);
}

enum store_result
index_hold(struct index *ix)
{
	if (ix->hold++ > 0)
		return STORE_OK;
	ix->snapshot++;
	if (simple(ix, SQL_BEGIN, "hold") != STORE_OK) {
		ix->hold = 0;
		return STORE_ERROR;
	}
	return STORE_OK;
}

uint64_t
index_snapshot(const struct index *ix)
{
	return ix->hold > 0 && !ix->suspended ? ix->snapshot : 0;
}

void
index_release(struct index *ix)
{
	if (ix->hold == 0 || --ix->hold > 0)
		return;
	ix->nested = 0;
	ix->suspended = false;
	if (sqlite3_get_autocommit(ix->db) == 0)
		(void)sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
}

enum store_result
index_uidvalidity_next(struct index *ix, uint32_t now, uint32_t *out)
{
	sqlite3_stmt *s = stmt(ix, SQL_UIDV_GET);
	enum store_result r;
	int64_t last, v;

	if (s == NULL)
		return STORE_ERROR;
	if ((r = step_row(ix, s, "uidvalidity")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no meta row") : r;
	last = sqlite3_column_int64(s, 0);
	done(s);
	v = (int64_t)now > last ? (int64_t)now : last + 1;
	if (v <= 0 || v > UINT32_MAX)
		return fail(ix, "index.db: UIDVALIDITY values exhausted");
	if ((s = stmt(ix, SQL_UIDV_SET)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, v))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "uidvalidity")) == STORE_OK)
		*out = (uint32_t)v;
	return r;
}

/* ---- mailboxes ------------------------------------------------------- */

static enum store_result
read_mailbox(struct index *ix, sqlite3_stmt *s, struct store_mailbox *mb,
    uint32_t *recent_uid)
{
	const unsigned char *name = sqlite3_column_text(s, 1);
	int len = sqlite3_column_bytes(s, 1);

	memset(mb, 0, sizeof(*mb));
	if (name == NULL || len <= 0 || len > STORE_MAILBOX_NAME_MAX)
		return fail(ix, "index.db: a mailbox name is empty or too long");
	mb->id = sqlite3_column_int64(s, 0);
	memcpy(mb->name, name, (size_t)len);
	mb->uidvalidity = (uint32_t)sqlite3_column_int64(s, 2);
	mb->uidnext = (uint32_t)sqlite3_column_int64(s, 3);
	mb->highestmodseq = (uint64_t)sqlite3_column_int64(s, 4);
	mb->special_use = (unsigned)sqlite3_column_int64(s, 5);
	mb->noselect = sqlite3_column_int64(s, 6) != 0;
	if (recent_uid != NULL)
		*recent_uid = (uint32_t)sqlite3_column_int64(s, 7);
	mb->has_children = sqlite3_column_int64(s, 8) != 0;
	mb->subscribed = sqlite3_column_int64(s, 9) != 0;
	return STORE_OK;
}

enum store_result
index_mailbox_get(struct index *ix, const char *name, int64_t id,
    struct store_mailbox *out, uint32_t *recent_uid)
{
	sqlite3_stmt *s = stmt(ix, name != NULL ? SQL_MB_BY_NAME : SQL_MB_BY_ID);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (name != NULL ? !bind_text(s, 1, name) : !bind_int(s, 1, id))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "mailbox")) != STORE_OK)
		return r;
	r = read_mailbox(ix, s, out, recent_uid);
	done(s);
	return r;
}

enum store_result
index_mailbox_add(struct index *ix, const char *name, uint32_t uidvalidity,
    unsigned special_use, int64_t *id)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_ADD);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, name) || !bind_int(s, 2, uidvalidity) ||
	    !bind_int(s, 3, special_use))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "create mailbox")) == STORE_OK)
		*id = sqlite3_last_insert_rowid(ix->db);
	return r;
}

enum store_result
index_mailbox_set_counters(struct index *ix, int64_t id, uint32_t uidnext,
    uint64_t highestmodseq)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_COUNTERS);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id) || !bind_int(s, 2, uidnext) ||
	    !bind_int(s, 3, (int64_t)highestmodseq))
		return bind_fail(ix, s);
	return run(ix, s, "mailbox counters");
}

enum store_result
index_mailbox_set_recent(struct index *ix, int64_t id, uint32_t recent_uid)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_RECENT);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id) || !bind_int(s, 2, recent_uid))
		return bind_fail(ix, s);
	return run(ix, s, "recent");
}

enum store_result
index_mailbox_set_state(struct index *ix, int64_t id, bool noselect,
    uint32_t uidvalidity, unsigned special_use)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_STATE);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id) || !bind_int(s, 2, noselect) ||
	    !bind_int(s, 3, uidvalidity) || !bind_int(s, 4, special_use))
		return bind_fail(ix, s);
	return run(ix, s, "mailbox state");
}

enum store_result
index_mailbox_remove(struct index *ix, int64_t id)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_REMOVE);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id))
		return bind_fail(ix, s);
	return run(ix, s, "delete mailbox");
}

/* A query of one boolean column with text parameters ?1 and (maybe) ?2. */
static enum store_result
query_bool(struct index *ix, enum ix_sql which, const char *a, const char *b,
    bool *out)
{
	sqlite3_stmt *s = stmt(ix, which);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, a) || (b != NULL && !bind_text(s, 2, b)))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "query")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no result") : r;
	*out = sqlite3_column_int64(s, 0) != 0;
	done(s);
	return STORE_OK;
}

enum store_result
index_mailbox_has_children(struct index *ix, const char *name, bool *any)
{
	return query_bool(ix, SQL_MB_CHILDREN, name, NULL, any);
}

enum store_result
index_mailbox_rename_clash(struct index *ix, const char *from, const char *to,
    bool *clash)
{
	return query_bool(ix, SQL_MB_CLASH, from, to, clash);
}

enum store_result
index_mailbox_rename(struct index *ix, const char *from, const char *to)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_RENAME);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, from) || !bind_text(s, 2, to))
		return bind_fail(ix, s);
	return run(ix, s, "rename mailbox");
}

enum store_result
index_mailbox_all(struct index *ix, struct store_mailbox **out, size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_ALL);
	struct store_mailbox *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		if (read_mailbox(ix, s, &v[len++], NULL) != STORE_OK) {
			done(s);
			free(v);
			return STORE_ERROR;
		}
	}
	if (loop_end(ix, s, rc, "list mailboxes") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*out = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_mailbox_counts(struct index *ix, int64_t id, uint32_t recent_uid,
    struct store_status *out)
{
	sqlite3_stmt *s = stmt(ix, SQL_MB_COUNTS);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, id) || !bind_int(s, 2, recent_uid))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "status")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no status") : r;
	out->messages = (uint32_t)sqlite3_column_int64(s, 0);
	out->recent = (uint32_t)sqlite3_column_int64(s, 1);
	out->unseen = (uint32_t)sqlite3_column_int64(s, 2);
	out->deleted = (uint32_t)sqlite3_column_int64(s, 3);
	out->size = (uint64_t)sqlite3_column_int64(s, 4);
	out->deleted_size = (uint64_t)sqlite3_column_int64(s, 5);
	done(s);
	return STORE_OK;
}

/* ---- messages -------------------------------------------------------- */

static bool
read_message(sqlite3_stmt *s, struct index_message *m)
{
	int64_t uid = sqlite3_column_int64(s, 0);

	m->uid = (uint32_t)uid;
	m->modseq = (uint64_t)sqlite3_column_int64(s, 1);
	m->flags = (unsigned)sqlite3_column_int64(s, 2);
	m->keywords = (uint64_t)sqlite3_column_int64(s, 3);
	m->internaldate = sqlite3_column_int64(s, 4);
	m->tz_minutes = (int)sqlite3_column_int64(s, 5);
	m->size = (uint64_t)sqlite3_column_int64(s, 6);
	m->blob_id = (uint64_t)sqlite3_column_int64(s, 7);
	m->email_id = (uint64_t)sqlite3_column_int64(s, 8);
	/* NULL (stored before schema step 4) reads as 0: not known */
	m->savedate = sqlite3_column_int64(s, 9);
	/* the same for a thread (step 6), until store_open gives it one */
	m->thread_id = (uint64_t)sqlite3_column_int64(s, 10);
	return uid > 0 && uid <= UINT32_MAX;
}

enum store_result
index_message_get(struct index *ix, int64_t mailbox_id, uint32_t uid,
    struct index_message *out)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_GET);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, uid))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "message")) != STORE_OK)
		return r;
	if (!read_message(s, out))
		r = fail(ix, "index.db: a message has an invalid uid");
	done(s);
	return r;
}

/* A read-ahead statement (mailbox ?1, from uid ?2, LIMIT ?3), bound. */
static sqlite3_stmt *
batch_stmt(struct index *ix, enum ix_sql which, int64_t mailbox_id,
    uint32_t from, size_t max)
{
	sqlite3_stmt *s = stmt(ix, which);

	if (s == NULL)
		return NULL;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, from) ||
	    !bind_int(s, 3, (int64_t)max)) {
		bind_fail(ix, s);
		return NULL;
	}
	return s;
}

/* Column col (a message's cached header fields, or NULL) into f, its
 * text appended to text. */
static enum store_result
read_fields(struct index *ix, sqlite3_stmt *s, int col, struct index_fields *f,
    struct buf *text)
{
	const void *t = sqlite3_column_text(s, col);
	int len = sqlite3_column_bytes(s, col);

	f->off = text->len;
	f->len = t != NULL && len >= 0 ? (size_t)len : SIZE_MAX;
	if (t != NULL && len > 0 && buf_append(text, t, (size_t)len) != 0)
		return fail(ix, "header fields: too long");
	return STORE_OK;
}

enum store_result
index_message_batch(struct index *ix, int64_t mailbox_id, uint32_t from,
    size_t max, struct index_message *out, struct index_fields *fields,
    struct buf *text, size_t *n)
{
	sqlite3_stmt *s = batch_stmt(ix, fields != NULL ? SQL_MSG_FIELDS_BATCH :
	    SQL_MSG_BATCH, mailbox_id, from, max);
	enum store_result r = STORE_OK;
	int rc = SQLITE_DONE;

	*n = 0;
	if (fields != NULL)
		buf_reset(text);
	if (s == NULL)
		return STORE_ERROR;
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (!read_message(s, &out[*n]))
			r = fail(ix, "index.db: a message has an invalid uid");
		else if (fields != NULL)    /* after MESSAGE_COLUMNS' 11 */
			r = read_fields(ix, s, 11, &fields[*n], text);
		if (r != STORE_OK) {
			done(s);
			return r;
		}
		(*n)++;
	}
	if (*n == max)
		rc = SQLITE_DONE;    /* LIMIT: nothing more to step */
	return loop_end(ix, s, rc, "messages");
}

enum store_result
index_message_add(struct index *ix, int64_t mailbox_id,
    const struct index_message *m)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_ADD);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, m->uid) ||
	    !bind_int(s, 3, (int64_t)m->modseq) || !bind_int(s, 4, m->flags) ||
	    !bind_int(s, 5, (int64_t)m->keywords) ||
	    !bind_int(s, 6, m->internaldate) || !bind_int(s, 7, m->tz_minutes) ||
	    !bind_int(s, 8, (int64_t)m->size) ||
	    !bind_int(s, 9, (int64_t)m->blob_id) ||
	    !bind_int(s, 10, (int64_t)m->email_id) ||
	    !bind_int_or_null(s, 11, m->savedate, m->savedate != 0) ||
	    !bind_int_or_null(s, 12, (int64_t)m->thread_id, m->thread_id != 0))
		return bind_fail(ix, s);
	return run(ix, s, "add message");
}

enum store_result
index_message_set_flags(struct index *ix, int64_t mailbox_id, uint32_t uid,
    unsigned flags, uint64_t keywords, uint64_t modseq)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_FLAGS);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, uid) ||
	    !bind_int(s, 3, flags) || !bind_int(s, 4, (int64_t)keywords) ||
	    !bind_int(s, 5, (int64_t)modseq))
		return bind_fail(ix, s);
	return run(ix, s, "store flags");
}

enum store_result
index_message_remove(struct index *ix, int64_t mailbox_id, uint32_t uid,
    uint64_t modseq)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_DELETE);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, uid))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "expunge")) != STORE_OK)
		return r;
	if ((s = stmt(ix, SQL_TOMB_ADD)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, uid) ||
	    !bind_int(s, 3, (int64_t)modseq) ||
	    !bind_int(s, 4, (int64_t)time(NULL)))
		return bind_fail(ix, s);
	return run(ix, s, "tombstone");
}

/* The first column of every row as uids (SQL_MSG_UIDS, SQL_TOMB_SINCE). */
static enum store_result
read_uids(struct index *ix, sqlite3_stmt *s, uint32_t **uids, size_t *n)
{
	uint32_t *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		v[len++] = (uint32_t)sqlite3_column_int64(s, 0);
	}
	if (loop_end(ix, s, rc, "uids") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*uids = v;
	*n = len;
	return STORE_OK;
}

/* The uidmap words (schema.sql) of a mailbox, expanded into sorted uids. */
enum store_result
index_message_uids(struct index *ix, int64_t mailbox_id, uint32_t **uids,
    size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_UIDS);
	uint32_t *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*uids = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id))
		return bind_fail(ix, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t word = sqlite3_column_int64(s, 0);
		uint64_t bits = (uint64_t)sqlite3_column_int64(s, 1);

		if (word < 0 || word > (int64_t)(UINT32_MAX >> 6)) {
			done(s);
			free(v);
			return fail(ix, "index.db: uidmap: word %" PRId64 " out of "
			    "range", word);
		}
		for (; bits != 0; bits &= bits - 1) {
			v = grow(v, len, &cap, sizeof(*v));
			v[len++] = (uint32_t)word << 6 | (uint32_t)__builtin_ctzll(bits);
		}
	}
	if (loop_end(ix, s, rc, "uids") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*uids = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_message_first_unseen(struct index *ix, int64_t mailbox_id,
    uint32_t below, uint32_t *uid)
{
	sqlite3_stmt *s = stmt(ix, SQL_MSG_FIRST_UNSEEN);
	enum store_result r;

	*uid = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, below))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "first unseen")) != STORE_OK)
		return r == STORE_NOT_FOUND ? STORE_OK : r;
	*uid = (uint32_t)sqlite3_column_int64(s, 0);
	done(s);
	return STORE_OK;
}

enum store_result
index_message_list(struct index *ix, int64_t mailbox_id,
    const struct index_filter *f, struct index_message **out, size_t *n)
{
	sqlite3_stmt *s = stmt(ix, f->modseq_gt > 0 ? SQL_MSG_CHANGED : SQL_MSG_RANGE);
	struct index_message *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, f->uid_min) ||
	    !bind_int(s, 3, f->uid_max) || !bind_int(s, 4, f->deleted_only) ||
	    (f->modseq_gt > 0 && !bind_int(s, 5, (int64_t)f->modseq_gt)))
		return bind_fail(ix, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		if (!read_message(s, &v[len++])) {
			done(s);
			free(v);
			return fail(ix, "index.db: a message has an invalid uid");
		}
	}
	if (loop_end(ix, s, rc, "list messages") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*out = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_message_rehome(struct index *ix, int64_t from, int64_t to, uint64_t modseq)
{
	sqlite3_stmt *s = stmt(ix, SQL_TOMB_REHOME);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, from) || !bind_int(s, 3, (int64_t)modseq) ||
	    !bind_int(s, 4, (int64_t)time(NULL)))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "tombstones")) != STORE_OK)
		return r;
	if ((s = stmt(ix, SQL_MSG_REHOME)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, from) || !bind_int(s, 2, to))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "move messages")) != STORE_OK)
		return r;
	if ((s = stmt(ix, SQL_MSG_UNHOME)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, from))
		return bind_fail(ix, s);
	return run(ix, s, "move messages");
}

enum store_result
index_tombstones(struct index *ix, int64_t mailbox_id, uint64_t modseq_gt,
    uint32_t **uids, size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_TOMB_SINCE);

	*uids = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, (int64_t)modseq_gt))
		return bind_fail(ix, s);
	return read_uids(ix, s, uids, n);
}

enum store_result
index_tombstones_purge(struct index *ix, int64_t mailbox_id, int64_t before,
    size_t max, size_t *purged)
{
	sqlite3_stmt *s = stmt(ix, SQL_TOMB_PURGE_TOP);
	enum store_result r;
	int64_t top, count;

	*purged = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, before) ||
	    !bind_int(s, 3, (int64_t)max))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "tombstones to purge")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no result") : r;
	top = sqlite3_column_int64(s, 0);
	count = sqlite3_column_int64(s, 1);
	done(s);
	if (count == 0)
		return STORE_OK;
	/* The mark first: a tombstone is never gone without it. */
	if ((s = stmt(ix, SQL_TOMB_FROM_SET)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, top))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "tombstones_from")) != STORE_OK)
		return r;
	if ((s = stmt(ix, SQL_TOMB_PURGE)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, before) ||
	    !bind_int(s, 3, (int64_t)max))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "purge tombstones")) != STORE_OK)
		return r;
	*purged = (size_t)sqlite3_changes(ix->db);
	return STORE_OK;
}

enum store_result
index_tombstones_from(struct index *ix, int64_t mailbox_id, uint64_t *from)
{
	int64_t v = 0;
	enum store_result r = int_by_id(ix, SQL_TOMB_FROM_GET, mailbox_id,
	    "tombstones_from", &v);

	*from = (uint64_t)v;
	return r;
}

/* ---- keywords -------------------------------------------------------- */

enum store_result
index_keywords(struct index *ix, int64_t mailbox_id,
    char *names[STORE_KEYWORDS_MAX])
{
	sqlite3_stmt *s = stmt(ix, SQL_KW_ALL);
	int rc;

	for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++)
		names[i] = NULL;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id))
		return bind_fail(ix, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t bit = sqlite3_column_int64(s, 0);
		char *name = column_text(s, 1, STORE_KEYWORD_MAX);

		if (bit < 0 || bit >= STORE_KEYWORDS_MAX || name == NULL ||
		    names[bit] != NULL) {
			free(name);
			done(s);
			for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++) {
				free(names[i]);
				names[i] = NULL;
			}
			return fail(ix, "index.db: invalid keyword row");
		}
		names[bit] = name;
	}
	return loop_end(ix, s, rc, "keywords");
}

enum store_result
index_keyword_add(struct index *ix, int64_t mailbox_id, unsigned bit,
    const char *name)
{
	sqlite3_stmt *s = stmt(ix, SQL_KW_ADD);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) || !bind_int(s, 2, bit) ||
	    !bind_text(s, 3, name))
		return bind_fail(ix, s);
	return run(ix, s, "add keyword");
}

enum store_result
index_keywords_copy(struct index *ix, int64_t from, int64_t to)
{
	sqlite3_stmt *s = stmt(ix, SQL_KW_COPY);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, from) || !bind_int(s, 2, to))
		return bind_fail(ix, s);
	return run(ix, s, "copy keywords");
}

/* ---- blobs ----------------------------------------------------------- */

/* A statement whose ?1 is a blob id and ?2 (if b_used) a number. */
static enum store_result
blob_stmt(struct index *ix, enum ix_sql which, uint64_t id, bool b_used,
    int64_t b, const char *what)
{
	sqlite3_stmt *s = stmt(ix, which);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id) || (b_used && !bind_int(s, 2, b)))
		return bind_fail(ix, s);
	return run(ix, s, what);
}

enum store_result
index_blob_add(struct index *ix, uint64_t id, uint64_t size,
    const char *prefix, size_t prefix_len)
{
	sqlite3_stmt *s = stmt(ix, SQL_BLOB_ADD);

	if (s == NULL)
		return STORE_ERROR;
	/* no prefix is NULL, as for every blob stored before step 7 */
	if (!bind_int(s, 1, (int64_t)id) || !bind_int(s, 2, (int64_t)size) ||
	    !bind_blob_or_null(s, 3, prefix_len > 0 ? prefix : NULL, prefix_len))
		return bind_fail(ix, s);
	return run(ix, s, "add blob");
}

enum store_result
index_blob_prefix(struct index *ix, uint64_t id, char *out, size_t cap,
    size_t *len)
{
	sqlite3_stmt *s = stmt(ix, SQL_BLOB_PREFIX);
	enum store_result r;
	const void *p;
	int n;

	*len = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "blob prefix")) != STORE_OK)
		return r;
	p = sqlite3_column_blob(s, 0);
	n = sqlite3_column_bytes(s, 0);
	if (p != NULL && n > 0 && (size_t)n > cap)
		r = fail(ix, "index.db: blob %016" PRIx64 ": prefix of %d bytes, "
		    "more than a delivery writes", id, n);
	else if (p != NULL && n > 0) {
		memcpy(out, p, (size_t)n);
		*len = (size_t)n;
	}
	done(s);
	return r;
}

enum store_result
index_blob_ref(struct index *ix, uint64_t id, int delta, int64_t *left)
{
	sqlite3_stmt *s;
	enum store_result r;

	if (blob_stmt(ix, SQL_BLOB_REF, id, true, delta, "blob refcount") != STORE_OK)
		return STORE_ERROR;
	if ((s = stmt(ix, SQL_BLOB_GETREF)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "blob refcount")) != STORE_OK)
		return r == STORE_NOT_FOUND ?
		    fail(ix, "index.db: no blob %016" PRIx64, id) : r;
	*left = sqlite3_column_int64(s, 0);
	done(s);
	if (*left > 0)
		return STORE_OK;
	*left = 0;
	return index_blob_remove(ix, id);
}

enum store_result
index_blob_known(struct index *ix, uint64_t id, bool *known)
{
	sqlite3_stmt *s = stmt(ix, SQL_BLOB_GETREF);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id))
		return bind_fail(ix, s);
	r = step_row(ix, s, "blob");
	if (r == STORE_OK)
		done(s);
	*known = r == STORE_OK;
	return r == STORE_ERROR ? STORE_ERROR : STORE_OK;
}

enum store_result
index_blob_all(struct index *ix, struct index_blob **out, size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_BLOB_ALL);
	struct index_blob *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		v[len].id = (uint64_t)sqlite3_column_int64(s, 0);
		v[len].refcount = sqlite3_column_int64(s, 1);
		v[len].uses = sqlite3_column_int64(s, 2);
		v[len].size = sqlite3_column_int64(s, 3);
		v[len++].prefix_len = sqlite3_column_int64(s, 4);
	}
	if (loop_end(ix, s, rc, "blobs") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*out = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_blob_set_refcount(struct index *ix, uint64_t id, int64_t refcount)
{
	return blob_stmt(ix, SQL_BLOB_SETREF, id, true, refcount, "blob refcount");
}

/* The blob's full-text document goes dead with it (fts.c), here at the one
 * place every blob row is removed. */
enum store_result
index_blob_remove(struct index *ix, uint64_t id)
{
	if (index_fts_kill(ix, id) != STORE_OK)
		return STORE_ERROR;
	return blob_stmt(ix, SQL_BLOB_REMOVE, id, false, 0, "remove blob");
}

enum store_result
index_blob_users(struct index *ix, uint64_t id, struct index_blob_user **out,
    size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_BLOB_USERS);
	struct index_blob_user *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id))
		return bind_fail(ix, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		v[len].mailbox_id = sqlite3_column_int64(s, 0);
		v[len++].uid = (uint32_t)sqlite3_column_int64(s, 1);
	}
	if (loop_end(ix, s, rc, "blob users") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*out = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_mime_set(struct index *ix, uint64_t blob_id, const char *envelope,
    const char *body, const char *bodystructure, const char *preview,
    const char *fields)
{
	sqlite3_stmt *s = stmt(ix, SQL_MIME_SET);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id) || !bind_text(s, 2, envelope) ||
	    !bind_text(s, 3, body) || !bind_text(s, 4, bodystructure) ||
	    !bind_text_or_null(s, 5, preview))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "MIME cache")) != STORE_OK || fields == NULL)
		return r;
	if ((s = stmt(ix, SQL_FIELDS_SET)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id) || !bind_text(s, 2, fields))
		return bind_fail(ix, s);
	return run(ix, s, "MIME cache");
}

/* ---- sort keys (schema.sql, version 9) ---- */

enum store_result
index_sortkeys_set(struct index *ix, uint64_t blob_id, const struct sortkeys *k)
{
	sqlite3_stmt *s = stmt(ix, SQL_SORTKEYS_SET);
	bool ok;

	if (s == NULL)
		return STORE_ERROR;
	ok = bind_int(s, 1, (int64_t)blob_id) &&
	    bind_int_or_null(s, 2, k->date, k->has_date) &&
	    bind_int(s, 3, k->reply ? 1 : 0) &&
	    bind_blob_or_null(s, 11, k->refs, k->refs_len);
	for (int i = 0; ok && i < SORTKEYS_NSTR; i++)
		ok = bind_text(s, 4 + i, k->str[i]);
	if (!ok)
		return bind_fail(ix, s);
	return run(ix, s, "sort keys");
}

/* Column col's text (NULL: "") into text, NUL-terminated; its offset. */
static bool
read_key_text(sqlite3_stmt *s, int col, struct buf *text, size_t *off)
{
	const void *t = sqlite3_column_blob(s, col);
	int len = sqlite3_column_bytes(s, col);

	*off = text->len;
	if (t != NULL && len > 0 && buf_append(text, t, (size_t)len) != 0)
		return false;
	return buf_append_char(text, '\0') == 0;
}

enum store_result
index_sortkeys_batch(struct index *ix, int64_t mailbox_id, uint32_t from,
    size_t max, unsigned want, struct index_sortkeys *out, struct buf *text,
    size_t *n)
{
	sqlite3_stmt *s = batch_stmt(ix, SQL_SORTKEYS_BATCH, mailbox_id, from, max);
	int rc = SQLITE_DONE;

	*n = 0;
	buf_reset(text);
	if (s == NULL)
		return STORE_ERROR;
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct index_sortkeys *r = &out[*n];
		int64_t uid = sqlite3_column_int64(s, 0);
		bool ok = true;

		memset(r, 0, sizeof(*r));
		if (uid <= 0 || uid > UINT32_MAX) {
			done(s);
			return fail(ix, "index.db: a message has an invalid uid");
		}
		r->uid = (uint32_t)uid;
		r->has_date = sqlite3_column_type(s, 1) != SQLITE_NULL;
		r->date = sqlite3_column_int64(s, 1);
		r->reply = sqlite3_column_int(s, 2) != 0;
		for (int i = 0; ok && i < SORTKEYS_NSTR; i++)
			if (want & SORTKEYS_WANT_STR(i))
				ok = read_key_text(s, 3 + i, text, &r->off[i]);
		if (ok && (want & SORTKEYS_WANT_REFS)) {
			r->refs_len = sqlite3_column_type(s, 10) == SQLITE_NULL ?
			    0 : (size_t)sqlite3_column_bytes(s, 10);
			ok = read_key_text(s, 10, text, &r->refs_off);
		}
		if (!ok) {
			done(s);
			return fail(ix, "sort keys: too long");
		}
		(*n)++;
	}
	if (*n == max)
		rc = SQLITE_DONE;    /* LIMIT: nothing more to step */
	return loop_end(ix, s, rc, "sort keys");
}

enum store_result
index_mime_get(struct index *ix, uint64_t blob_id, enum index_mime which,
    struct buf *out)
{
	bool fields = which == INDEX_MIME_FIELDS;
	sqlite3_stmt *s = stmt(ix, fields ? SQL_FIELDS_GET : SQL_MIME_GET);
	int col = fields ? 0 : (int)which;
	enum store_result r;
	const void *text;
	int len;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "MIME cache")) != STORE_OK)
		return r;
	text = sqlite3_column_text(s, col);
	len = sqlite3_column_bytes(s, col);
	if (text == NULL || len < 0)
		r = STORE_NOT_FOUND;
	else if (buf_append(out, text, (size_t)len) != 0)
		r = fail(ix, "MIME cache: the text is too long");
	done(s);
	return r;
}

/* ---- the full-text index -------------------------------------------- */

/* Row rowid of fts_text: add text, or (del) take it out again. */
static enum store_result
fts_row(struct index *ix, bool del, int64_t rowid, const char *text, size_t len)
{
	sqlite3_stmt *s = stmt(ix, del ? SQL_FTS_TEXT_DEL : SQL_FTS_TEXT_ADD);

	if (s == NULL)
		return STORE_ERROR;
	if (len > INT_MAX || !bind_int(s, 1, rowid) ||
	    sqlite3_bind_text(s, 2, len > 0 ? text : "", (int)len,
	    SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(ix, s);
	return run(ix, s, del ? "full-text index: remove" : "full-text index: add");
}

enum store_result
index_fts_add(struct index *ix, uint64_t blob_id, const struct index_fts_doc *d)
{
	sqlite3_stmt *s = stmt(ix, SQL_FTS_DOC_ADD);
	bool indexed = d->header != NULL && d->body != NULL;
	enum store_result r;
	int64_t docid;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id) ||
	    !bind_blob_or_null(s, 2, indexed ? d->header_packed : NULL,
	    d->header_packed_len) ||
	    !bind_blob_or_null(s, 3, indexed ? d->body_packed : NULL,
	    d->body_packed_len))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "full-text index: add")) != STORE_OK || !indexed)
		return r;
	docid = (int64_t)sqlite3_last_insert_rowid(ix->db);
	if (docid <= 0 || docid > INT64_MAX / 2 - 1)
		return fail(ix, "index.db: full-text document ids exhausted");
	if (fts_row(ix, false, docid * 2, d->header, d->header_len) != STORE_OK ||
	    fts_row(ix, false, docid * 2 + 1, d->body, d->body_len) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

/* Append blob column col (NULL: *null) to out. */
static enum store_result
column_blob(struct index *ix, sqlite3_stmt *s, int col, struct buf *out,
    bool *null)
{
	const void *p = sqlite3_column_blob(s, col);
	int len = sqlite3_column_bytes(s, col);

	*null = sqlite3_column_type(s, col) == SQLITE_NULL;
	if (*null || len <= 0)
		return STORE_OK;
	if (buf_append(out, p, (size_t)len) != 0)
		return fail(ix, "index.db: a full-text document is too large");
	return STORE_OK;
}

enum store_result
index_fts_kill(struct index *ix, uint64_t blob_id)
{
	sqlite3_stmt *s = stmt(ix, SQL_FTS_DOC_KILL);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id))
		return bind_fail(ix, s);
	return run(ix, s, "full-text index: remove");
}

enum store_result
index_fts_dead(struct index *ix, int64_t *docid, bool *indexed,
    struct buf *header, struct buf *body)
{
	sqlite3_stmt *s = stmt(ix, SQL_FTS_DEAD);
	enum store_result r;
	bool hnull, bnull;

	if (s == NULL)
		return STORE_ERROR;
	if ((r = step_row(ix, s, "full-text document")) != STORE_OK)
		return r;
	*docid = sqlite3_column_int64(s, 0);
	r = column_blob(ix, s, 1, header, &hnull);
	if (r == STORE_OK)
		r = column_blob(ix, s, 2, body, &bnull);
	done(s);
	*indexed = r == STORE_OK && !hnull && !bnull;
	return r;
}

enum store_result
index_fts_remove(struct index *ix, int64_t docid, const char *header,
    size_t header_len, const char *body, size_t body_len)
{
	sqlite3_stmt *s;

	if (header != NULL && body != NULL &&
	    (fts_row(ix, true, docid * 2, header, header_len) != STORE_OK ||
	    fts_row(ix, true, docid * 2 + 1, body, body_len) != STORE_OK))
		return STORE_ERROR;
	if ((s = stmt(ix, SQL_FTS_DOC_DEL)) == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, docid))
		return bind_fail(ix, s);
	return run(ix, s, "full-text index: remove");
}

enum store_result
index_fts_missing(struct index *ix, int64_t mailbox_id, uint64_t **blobs,
    size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_FTS_MISSING);
	uint64_t *v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*blobs = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id))
		return bind_fail(ix, s);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		v = grow(v, len, &cap, sizeof(*v));
		v[len++] = (uint64_t)sqlite3_column_int64(s, 0);
	}
	if (loop_end(ix, s, rc, "messages not indexed") != STORE_OK) {
		free(v);
		return STORE_ERROR;
	}
	*blobs = v;
	*n = len;
	return STORE_OK;
}

/* Each uid the statement returns (column 0) to fn. */
static enum store_result
uid_rows(struct index *ix, sqlite3_stmt *s, const char *what,
    void (*fn)(void *arg, uint32_t uid), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(arg, (uint32_t)sqlite3_column_int64(s, 0));
	return loop_end(ix, s, rc, what);
}

enum store_result
index_fts_match(struct index *ix, int64_t mailbox_id, const char *query,
    bool body_only, void (*fn)(void *arg, uint32_t uid), void *arg)
{
	sqlite3_stmt *s = stmt(ix, SQL_FTS_MATCH);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, query) || !bind_int(s, 2, mailbox_id) ||
	    !bind_int(s, 3, body_only))
		return bind_fail(ix, s);
	return uid_rows(ix, s, "full-text search", fn, arg);
}

enum store_result
index_fts_n_unindexed(struct index *ix, int64_t mailbox_id, int64_t *n)
{
	return int_by_id(ix, SQL_FTS_N_UNINDEXED, mailbox_id,
	    "messages not indexed", n);
}

/* The uids a statement whose ?1 is the mailbox returns, to fn. */
static enum store_result
uid_query(struct index *ix, enum ix_sql which, int64_t mailbox_id,
    void (*fn)(void *arg, uint32_t uid), void *arg)
{
	sqlite3_stmt *s = stmt(ix, which);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id))
		return bind_fail(ix, s);
	return uid_rows(ix, s, "messages not indexed", fn, arg);
}

enum store_result
index_fts_unindexed(struct index *ix, int64_t mailbox_id,
    void (*fn)(void *arg, uint32_t uid), void *arg)
{
	enum store_result r;
	int64_t n;

	if ((r = index_fts_n_unindexed(ix, mailbox_id, &n)) == STORE_NOT_FOUND)
		return fail(ix, "index.db: the mailbox went");
	if (r != STORE_OK ||
	    (n != 0 && uid_query(ix, SQL_FTS_UNINDEXED, mailbox_id, fn, arg) !=
	    STORE_OK))
		return STORE_ERROR;
	return uid_query(ix, SQL_FTS_TOO_LARGE, mailbox_id, fn, arg);
}

/* ---- quota ----------------------------------------------------------- */

/* A limit column: NULL, or a negative value the CHECK should have kept
 * out, is no limit. */
static uint64_t
column_limit(sqlite3_stmt *s, int col)
{
	int64_t v = sqlite3_column_int64(s, col);

	if (sqlite3_column_type(s, col) == SQLITE_NULL || v < 0)
		return STORE_QUOTA_NONE;
	return (uint64_t)v;
}

enum store_result
index_quota_get(struct index *ix, struct store_quota *out)
{
	sqlite3_stmt *s = stmt(ix, SQL_QUOTA_GET);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if ((r = step_row(ix, s, "quota")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no quota") : r;
	out->storage = (uint64_t)sqlite3_column_int64(s, 0);
	out->messages = (uint64_t)sqlite3_column_int64(s, 1);
	out->storage_limit = column_limit(s, 2);
	out->message_limit = column_limit(s, 3);
	done(s);
	return STORE_OK;
}

enum store_result
index_quota_set(struct index *ix, uint64_t storage_kib, uint64_t messages)
{
	sqlite3_stmt *s = stmt(ix, SQL_QUOTA_SET);

	if (s == NULL)
		return STORE_ERROR;
	if ((storage_kib != STORE_QUOTA_NONE && storage_kib > INT64_MAX) ||
	    (messages != STORE_QUOTA_NONE && messages > INT64_MAX))
		return fail(ix, "index.db: quota limit out of range");
	if (!bind_int_or_null(s, 1, (int64_t)storage_kib,
	    storage_kib != STORE_QUOTA_NONE) ||
	    !bind_int_or_null(s, 2, (int64_t)messages, messages != STORE_QUOTA_NONE))
		return bind_fail(ix, s);
	return run(ix, s, "quota");
}

/* ---- threads (THREADID, threadid.c) ------------------------------------ */

/* One thread id from the first column of the row ready in s. */
static enum store_result
read_thread_id(struct index *ix, sqlite3_stmt *s, uint64_t *thread_id)
{
	int64_t v = sqlite3_column_int64(s, 0);

	done(s);
	if (v <= 0)
		return fail(ix, "index.db: invalid thread id %" PRId64, v);
	*thread_id = (uint64_t)v;
	return STORE_OK;
}

enum store_result
index_thread_find(struct index *ix, const char *msgid, uint64_t *thread_id)
{
	sqlite3_stmt *s = stmt(ix, SQL_THREAD_FIND);
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, msgid))
		return bind_fail(ix, s);
	if ((r = step_row(ix, s, "thread")) != STORE_OK)
		return r;
	return read_thread_id(ix, s, thread_id);
}

enum store_result
index_thread_record(struct index *ix, const char *msgid, uint64_t thread_id)
{
	sqlite3_stmt *s = stmt(ix, SQL_THREAD_RECORD);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, msgid) || !bind_int(s, 2, (int64_t)thread_id))
		return bind_fail(ix, s);
	return run(ix, s, "record msg-id");
}

enum store_result
index_thread_new(struct index *ix, uint64_t *thread_id)
{
	sqlite3_stmt *s;
	enum store_result r;

	if (simple(ix, SQL_THREAD_NEW, "new thread") != STORE_OK ||
	    (s = stmt(ix, SQL_THREAD_LAST)) == NULL)
		return STORE_ERROR;
	if ((r = step_row(ix, s, "new thread")) != STORE_OK)
		return r == STORE_NOT_FOUND ? fail(ix, "index.db: no meta row") : r;
	return read_thread_id(ix, s, thread_id);
}

enum store_result
index_thread_unassigned(struct index *ix, uint64_t *blob_ids, size_t max,
    size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_THREAD_UNASSIGNED);
	int rc = SQLITE_DONE;

	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)max))
		return bind_fail(ix, s);
	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		blob_ids[(*n)++] = (uint64_t)sqlite3_column_int64(s, 0);
	if (*n == max)
		rc = SQLITE_DONE;    /* LIMIT: nothing more to step */
	return loop_end(ix, s, rc, "messages without a thread");
}

enum store_result
index_thread_of_blob(struct index *ix, uint64_t blob_id, uint64_t *thread_id)
{
	int64_t v = 0;
	enum store_result r = int_by_id(ix, SQL_THREAD_OF_BLOB, (int64_t)blob_id,
	    "thread of a blob", &v);

	if (r != STORE_OK)
		return r;
	if (v <= 0)
		return fail(ix, "index.db: invalid thread id %" PRId64, v);
	*thread_id = (uint64_t)v;
	return STORE_OK;
}

enum store_result
index_thread_set_blob(struct index *ix, uint64_t blob_id, uint64_t thread_id,
    size_t *changed)
{
	sqlite3_stmt *s = stmt(ix, SQL_THREAD_SET_BLOB);
	enum store_result r;

	*changed = 0;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)blob_id) || !bind_int(s, 2, (int64_t)thread_id))
		return bind_fail(ix, s);
	if ((r = run(ix, s, "set thread")) == STORE_OK)
		*changed = (size_t)sqlite3_changes(ix->db);
	return r;
}

/* ---- subscriptions --------------------------------------------------- */

enum store_result
index_subscribe(struct index *ix, const char *name, bool on)
{
	sqlite3_stmt *s = stmt(ix, on ? SQL_SUB_ADD : SQL_SUB_DEL);

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_text(s, 1, name))
		return bind_fail(ix, s);
	if (run(ix, s, "subscribe") != STORE_OK)
		return STORE_ERROR;
	return on || sqlite3_changes(ix->db) > 0 ? STORE_OK : STORE_NOT_FOUND;
}

enum store_result
index_subscriptions(struct index *ix, char ***names, size_t *n)
{
	sqlite3_stmt *s = stmt(ix, SQL_SUB_ALL);
	char **v = NULL;
	size_t len = 0, cap = 0;
	int rc;

	*names = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char *name = column_text(s, 0, STORE_MAILBOX_NAME_MAX);

		if (name == NULL)
			continue;   /* not a name we could have written: skip */
		v = grow(v, len, &cap, sizeof(*v));
		v[len++] = name;
	}
	if (loop_end(ix, s, rc, "subscriptions") != STORE_OK) {
		while (len > 0)
			free(v[--len]);
		free(v);
		return STORE_ERROR;
	}
	*names = v;
	*n = len;
	return STORE_OK;
}

enum store_result
index_quick_check(struct index *ix, struct buf *out)
{
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(ix->db, "PRAGMA quick_check", -1, &s, NULL) !=
	    SQLITE_OK)
		return db_fail(ix, "quick_check");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		if (out->len > 0)
			buf_append_char(out, '\n');
		buf_append_str(out, t != NULL ? (const char *)t : "?");
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : db_fail(ix, "quick_check");
}

/* ---- the counters and the UID map, checked (fsck) --------------------- */

/* The uidmap words as the rows say they should be, for mailbox m.id. */
#define WORDS_OF_M "SELECT uid >> 6, sum(1 << (uid & 63)) FROM messages " \
	"WHERE mailbox_id = m.id GROUP BY uid >> 6"
#define UIDMAP_OF_M "SELECT word, bits FROM uidmap WHERE mailbox_id = m.id"
/* Its messages without a full-text document (schema.sql, version 5). */
#define UNINDEXED_OF_M "SELECT count(*) FROM messages x WHERE " \
	"x.mailbox_id = m.id AND NOT EXISTS (SELECT 1 FROM fts_docs d " \
	"WHERE d.blob_id = x.blob_id)"

enum store_result
index_counters_check(struct index *ix, struct buf *names)
{
	static const char sql[] = "SELECT m.name FROM mailboxes m WHERE "
	    "m.n_messages != (SELECT count(*) FROM messages WHERE mailbox_id = m.id) "
	    "OR m.n_unseen != (SELECT count(*) FROM messages WHERE "
	    "mailbox_id = m.id AND (flags & 1) = 0) "
	    "OR m.n_deleted != (SELECT count(*) FROM messages WHERE "
	    "mailbox_id = m.id AND (flags & 8) != 0) "
	    "OR m.total_size != (SELECT coalesce(sum(size), 0) FROM messages "
	    "WHERE mailbox_id = m.id) "
	    "OR EXISTS (" WORDS_OF_M " EXCEPT " UIDMAP_OF_M ") "
	    "OR EXISTS (" UIDMAP_OF_M " EXCEPT " WORDS_OF_M ") "
	    "OR m.n_unindexed != (" UNINDEXED_OF_M ") ORDER BY m.name";
	sqlite3_stmt *s;
	int rc;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK)
		return db_fail(ix, "check the counters");
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 0);

		buf_append_str(names, t != NULL ? (const char *)t : "?");
		buf_append_char(names, '\n');
	}
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? STORE_OK : db_fail(ix, "check the counters");
}

/* In the caller's write transaction: count again, as schema step 2 does. */
enum store_result
index_counters_rebuild(struct index *ix)
{
	return exec_sql(ix, "UPDATE mailboxes SET "
	    "n_messages = (SELECT count(*) FROM messages m "
	    "WHERE m.mailbox_id = mailboxes.id), "
	    "n_unseen = (SELECT count(*) FROM messages m "
	    "WHERE m.mailbox_id = mailboxes.id AND (m.flags & 1) = 0), "
	    "n_deleted = (SELECT count(*) FROM messages m "
	    "WHERE m.mailbox_id = mailboxes.id AND (m.flags & 8) != 0), "
	    "total_size = (SELECT coalesce(sum(m.size), 0) FROM messages m "
	    "WHERE m.mailbox_id = mailboxes.id), "
	    "n_unindexed = (SELECT count(*) FROM messages m "
	    "WHERE m.mailbox_id = mailboxes.id AND NOT EXISTS (SELECT 1 "
	    "FROM fts_docs d WHERE d.blob_id = m.blob_id));"
	    "DELETE FROM uidmap;"
	    "INSERT INTO uidmap (mailbox_id, word, bits) SELECT mailbox_id, "
	    "uid >> 6, sum(1 << (uid & 63)) FROM messages "
	    "GROUP BY mailbox_id, uid >> 6;");
}

/* ---- migration: cairnctl import and backup (schema.sql, version 8) ---- */

/*
 * These statements run once per imported message or once per backup, so
 * they are prepared at each call rather than kept in the table above.
 */
static sqlite3_stmt *
prepare_once(struct index *ix, const char *sql)
{
	sqlite3_stmt *s = NULL;

	if (sqlite3_prepare_v2(ix->db, sql, -1, &s, NULL) != SQLITE_OK) {
		db_fail(ix, "prepare");
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

enum store_result
index_blob_set_sha256(struct index *ix, uint64_t id,
    const unsigned char sha256[INDEX_SHA256_LEN])
{
	sqlite3_stmt *s = prepare_once(ix,
	    "UPDATE blobs SET sha256 = ?2 WHERE id = ?1");
	enum store_result r;

	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, (int64_t)id) ||
	    sqlite3_bind_blob(s, 2, sha256, INDEX_SHA256_LEN, SQLITE_STATIC) !=
	    SQLITE_OK)
		r = bind_fail(ix, s);
	else
		r = run(ix, s, "set the blob's hash");
	sqlite3_finalize(s);
	return r;
}

enum store_result
index_mailbox_has_sha256(struct index *ix, int64_t mailbox_id,
    const unsigned char sha256[INDEX_SHA256_LEN], bool *found)
{
	sqlite3_stmt *s = prepare_once(ix,
	    "SELECT 1 FROM blobs b JOIN messages m ON m.blob_id = b.id "
	    "WHERE b.sha256 = ?2 AND m.mailbox_id = ?1 LIMIT 1");
	enum store_result r;

	*found = false;
	if (s == NULL)
		return STORE_ERROR;
	if (!bind_int(s, 1, mailbox_id) ||
	    sqlite3_bind_blob(s, 2, sha256, INDEX_SHA256_LEN, SQLITE_STATIC) !=
	    SQLITE_OK) {
		r = bind_fail(ix, s);
	} else {
		r = step_row(ix, s, "look for the hash");
		if (r == STORE_OK)
			*found = true;
		if (r == STORE_NOT_FOUND)
			r = STORE_OK;
	}
	sqlite3_finalize(s);
	return r;
}

/* The blob ids and file sizes of the snapshot the caller holds. */
static enum store_result
backup_blob_list(struct index *ix, struct index_blob_file **out, size_t *n)
{
	sqlite3_stmt *s = prepare_once(ix,
	    "SELECT id, size - coalesce(length(prefix), 0) FROM blobs "
	    "ORDER BY id");
	size_t cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return STORE_ERROR;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*out = grow(*out, *n + 1, &cap, sizeof(**out));
		(*out)[*n].id = (uint64_t)sqlite3_column_int64(s, 0);
		(*out)[*n].size = (uint64_t)sqlite3_column_int64(s, 1);
		(*n)++;
	}
	if (rc != SQLITE_DONE) {
		db_fail(ix, "list the blobs");
		sqlite3_finalize(s);
		free(*out);
		*out = NULL;
		*n = 0;
		return STORE_ERROR;
	}
	sqlite3_finalize(s);
	return STORE_OK;
}

/*
 * One read transaction: its snapshot is what SQLite's online backup
 * copies (sqlite3_backup_step joins the transaction the source connection
 * has open), and the blob list comes from the same snapshot, so the copy
 * and the list agree whatever other sessions commit meanwhile.
 */
enum store_result
index_backup(struct index *ix, const char *dest_path,
    struct index_blob_file **blobs, size_t *n_blobs)
{
	sqlite3_backup *b;
	sqlite3 *dest = NULL;
	enum store_result r = STORE_ERROR;
	int64_t ignored;
	int rc;

	*blobs = NULL;
	*n_blobs = 0;
	if (ix->hold > 0)
		return fail(ix, "index_backup inside a held read");
	if (simple(ix, SQL_BEGIN, "begin the backup") != STORE_OK)
		return STORE_ERROR;
	/* the snapshot starts at the first read */
	if (query_int(ix, "SELECT count(*) FROM meta", &ignored) != STORE_OK)
		goto out;
	if (sqlite3_open_v2(dest_path, &dest, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fail(ix, "%s: %s", dest_path, dest != NULL ?
		    sqlite3_errmsg(dest) : "out of memory");
		goto out;
	}
	if ((b = sqlite3_backup_init(dest, "main", ix->db, "main")) == NULL) {
		fail(ix, "%s: %s", dest_path, sqlite3_errmsg(dest));
		goto out;
	}
	rc = sqlite3_backup_step(b, -1);
	(void)sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		fail(ix, "%s: backup: %s", dest_path, sqlite3_errstr(rc));
		goto out;
	}
	r = backup_blob_list(ix, blobs, n_blobs);
out:
	if (dest != NULL && sqlite3_close(dest) != SQLITE_OK && r == STORE_OK)
		r = fail(ix, "%s: close: %s", dest_path, sqlite3_errmsg(dest));
	if (sqlite3_get_autocommit(ix->db) == 0)
		(void)sqlite3_exec(ix->db, "COMMIT", NULL, NULL, NULL);
	if (r != STORE_OK) {
		free(*blobs);
		*blobs = NULL;
		*n_blobs = 0;
	}
	return r;
}
