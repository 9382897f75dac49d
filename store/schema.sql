-- The index of one user's mail store: store/index.c is its only reader.
--
-- Each "-- version N" line starts the step that upgrades a store from
-- version N-1 to N; a new store runs every step in order.  A released step
-- is never edited: a change to the schema is a new step at the end.
-- gen-schema.sh turns this file into store/schema-sql.h; it keeps the SQL
-- lines and drops the lines that are only comments.  No double quotes or
-- backslashes here (the generator refuses them): quote with ' in SQL.

-- version 1

-- One row: the last UIDVALIDITY handed out, so a mailbox deleted and
-- created again in the same second still gets a new one.
CREATE TABLE meta (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	last_uidvalidity INTEGER NOT NULL
);
INSERT INTO meta (id, last_uidvalidity) VALUES (1, 0);

-- noselect: deleted while it had children (RFC 9051 6.3.5).
-- recent_uid: the highest UID some read-write session has claimed as
-- \Recent; each message is recent in exactly one session.
CREATE TABLE mailboxes (
	id INTEGER PRIMARY KEY,
	name TEXT NOT NULL UNIQUE,
	uidvalidity INTEGER NOT NULL,
	uidnext INTEGER NOT NULL DEFAULT 1,
	highestmodseq INTEGER NOT NULL DEFAULT 1,
	special_use INTEGER NOT NULL DEFAULT 0,
	noselect INTEGER NOT NULL DEFAULT 0,
	recent_uid INTEGER NOT NULL DEFAULT 0
);

-- One immutable file per row: blobs/<first two hex digits>/<16 hex digits>.
-- id is random: the file is linked before the row exists, so a crash in
-- between leaves only an orphan file.
CREATE TABLE blobs (
	id INTEGER PRIMARY KEY,
	refcount INTEGER NOT NULL,
	size INTEGER NOT NULL
);

-- The parsed MIME structure, in IMAP syntax, made once at APPEND.
CREATE TABLE mime_cache (
	blob_id INTEGER PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
	envelope TEXT NOT NULL,
	body TEXT NOT NULL,
	bodystructure TEXT NOT NULL
);

-- keywords: bit i of the mask is the mailbox's keyword i (mailbox_keywords).
CREATE TABLE messages (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid INTEGER NOT NULL,
	modseq INTEGER NOT NULL,
	flags INTEGER NOT NULL DEFAULT 0,
	keywords INTEGER NOT NULL DEFAULT 0,
	internaldate INTEGER NOT NULL,
	tz_minutes INTEGER NOT NULL,
	size INTEGER NOT NULL,
	blob_id INTEGER NOT NULL REFERENCES blobs (id),
	email_id INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX messages_modseq ON messages (mailbox_id, modseq);
CREATE INDEX messages_blob ON messages (blob_id);

-- At most 64 per mailbox (STORE_KEYWORDS_MAX), matched without regard to
-- case, spelled as first given.
CREATE TABLE mailbox_keywords (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	bit INTEGER NOT NULL CHECK (bit BETWEEN 0 AND 63),
	name TEXT NOT NULL COLLATE NOCASE,
	PRIMARY KEY (mailbox_id, bit),
	UNIQUE (mailbox_id, name)
) WITHOUT ROWID;

-- Expunged UIDs and the modseq of their expunge: what other sessions and
-- QRESYNC ask for.
CREATE TABLE tombstones (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	uid INTEGER NOT NULL,
	modseq INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;
CREATE INDEX tombstones_modseq ON tombstones (mailbox_id, modseq);

-- Names, not mailboxes: a subscription may outlive its mailbox.
CREATE TABLE subscriptions (
	name TEXT PRIMARY KEY
) WITHOUT ROWID;

-- version 2

-- What SELECT and STATUS need without reading every message row: the
-- counts per mailbox, and which UIDs exist as a bitmap (bit uid & 63 of
-- the row word = uid >> 6), a 100 000-message mailbox in 1 563 rows.  The
-- triggers below keep both in step with messages inside the transaction
-- that changes it, so a crash cannot leave them apart; cairnctl fsck
-- checks them anyway.
ALTER TABLE mailboxes ADD COLUMN n_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN n_unseen INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN n_deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN total_size INTEGER NOT NULL DEFAULT 0;

CREATE TABLE uidmap (
	mailbox_id INTEGER NOT NULL REFERENCES mailboxes (id) ON DELETE CASCADE,
	word INTEGER NOT NULL,
	bits INTEGER NOT NULL,
	PRIMARY KEY (mailbox_id, word)
) WITHOUT ROWID;

-- The first unseen message (IMAP4rev1's UNSEEN response at SELECT).
CREATE INDEX messages_unseen ON messages (mailbox_id, uid)
	WHERE (flags & 1) = 0;

CREATE TRIGGER messages_added AFTER INSERT ON messages BEGIN
	UPDATE mailboxes SET n_messages = n_messages + 1,
	    n_unseen = n_unseen + ((NEW.flags & 1) = 0),
	    n_deleted = n_deleted + ((NEW.flags & 8) != 0),
	    total_size = total_size + NEW.size
	    WHERE id = NEW.mailbox_id;
	INSERT INTO uidmap (mailbox_id, word, bits)
	    VALUES (NEW.mailbox_id, NEW.uid >> 6, 1 << (NEW.uid & 63))
	    ON CONFLICT (mailbox_id, word) DO UPDATE SET bits = bits | excluded.bits;
END;

CREATE TRIGGER messages_removed AFTER DELETE ON messages BEGIN
	UPDATE mailboxes SET n_messages = n_messages - 1,
	    n_unseen = n_unseen - ((OLD.flags & 1) = 0),
	    n_deleted = n_deleted - ((OLD.flags & 8) != 0),
	    total_size = total_size - OLD.size
	    WHERE id = OLD.mailbox_id;
	UPDATE uidmap SET bits = bits & ~(1 << (OLD.uid & 63))
	    WHERE mailbox_id = OLD.mailbox_id AND word = OLD.uid >> 6;
	DELETE FROM uidmap WHERE mailbox_id = OLD.mailbox_id
	    AND word = OLD.uid >> 6 AND bits = 0;
END;

-- A row never changes mailbox or uid (RENAME of INBOX copies its rows and
-- deletes them): the two triggers above then keep the books.
CREATE TRIGGER messages_stay BEFORE UPDATE OF mailbox_id, uid ON messages
WHEN OLD.mailbox_id != NEW.mailbox_id OR OLD.uid != NEW.uid BEGIN
	SELECT RAISE(ABORT, 'messages move by INSERT and DELETE');
END;

-- STORE: only a change of \Seen or \Deleted (or of the size) moves a count.
CREATE TRIGGER messages_flags AFTER UPDATE OF flags, size ON messages
WHEN (OLD.flags & 9) != (NEW.flags & 9) OR OLD.size != NEW.size BEGIN
	UPDATE mailboxes SET
	    n_unseen = n_unseen + ((NEW.flags & 1) = 0) - ((OLD.flags & 1) = 0),
	    n_deleted = n_deleted + ((NEW.flags & 8) != 0) - ((OLD.flags & 8) != 0),
	    total_size = total_size + NEW.size - OLD.size
	    WHERE id = NEW.mailbox_id;
END;

-- The header fields SEARCH (and later SORT and THREAD) look at, as stored,
-- made at APPEND (cache.c): a header search reads no message file.  A
-- table of its own, not a column of mime_cache: its rows are short and a
-- search reads one per message.  No row for messages stored before, nor
-- where the fields are too long.
CREATE TABLE header_cache (
	blob_id INTEGER PRIMARY KEY REFERENCES blobs (id) ON DELETE CASCADE,
	fields TEXT NOT NULL
);

-- A store of version 1: count what is there.  Distinct bits of one word
-- add up to their OR (and 1 << 63 is the one negative term: no overflow).
UPDATE mailboxes SET
	n_messages = (SELECT count(*) FROM messages m WHERE m.mailbox_id = mailboxes.id),
	n_unseen = (SELECT count(*) FROM messages m
	    WHERE m.mailbox_id = mailboxes.id AND (m.flags & 1) = 0),
	n_deleted = (SELECT count(*) FROM messages m
	    WHERE m.mailbox_id = mailboxes.id AND (m.flags & 8) != 0),
	total_size = (SELECT coalesce(sum(m.size), 0) FROM messages m
	    WHERE m.mailbox_id = mailboxes.id);
INSERT INTO uidmap (mailbox_id, word, bits)
	SELECT mailbox_id, uid >> 6, sum(1 << (uid & 63)) FROM messages
	GROUP BY mailbox_id, uid >> 6;

-- version 3

-- Tombstone retention (QRESYNC, RFC 7162 3.2.5.1).  A tombstone records
-- when its expunge happened (unix time), so that it can be purged once it
-- is STORE_TOMBSTONE_DAYS old (store/expunge.c, a bounded number at each
-- expunge).  tombstones_from is the highest modseq of a purged tombstone:
-- every expunge after it still has its tombstone, and a client that
-- resynchronises from an older modseq is told of every UID it may know
-- that is gone (imapd/resync.c).  0: nothing was purged.  Tombstones made
-- before this step count from the upgrade: their age is unknown.
ALTER TABLE tombstones ADD COLUMN expunged INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN tombstones_from INTEGER NOT NULL DEFAULT 0;
UPDATE tombstones SET expunged = CAST(strftime('%s', 'now') AS INTEGER);

-- version 4

-- QUOTA (RFC 9208): the limits the administrator set for this user
-- (cairnctl quota), one row; NULL is no limit.  storage_kib counts units
-- of 1024 octets of RFC822.SIZE, messages counts messages, both over every
-- mailbox of the store (one quota root).  The usage is not kept here: it
-- is the sum of the counters of step 2, so it needs no scan and no
-- trigger of its own.
CREATE TABLE quota (
	id INTEGER PRIMARY KEY CHECK (id = 1),
	storage_kib INTEGER CHECK (storage_kib >= 0),
	messages INTEGER CHECK (messages >= 0)
);
INSERT INTO quota (id) VALUES (1);

-- STATUS DELETED-STORAGE (RFC 9208): the size of the \Deleted messages of
-- a mailbox, read from this index alone (flags in it make it covering),
-- so it costs as many rows as there are such messages.
CREATE INDEX messages_deleted ON messages (mailbox_id, size, flags)
	WHERE (flags & 8) != 0;

-- SAVEDATE (RFC 8514): when the message came into this mailbox (unix
-- time), set by APPEND, COPY and MOVE.  NULL for the rows stored before
-- this step: their save date is not known, so FETCH says NIL and SEARCH
-- uses the internal date, as RFC 8514 4.2 and 4.3 do for a mailbox
-- without save dates.
ALTER TABLE messages ADD COLUMN savedate INTEGER;

-- PREVIEW (RFC 8970): the preview text (mime_preview), made at APPEND
-- with the rest of the MIME cache.  NULL for blobs cached before this
-- step: FETCH PREVIEW makes it from the message then.
ALTER TABLE mime_cache ADD COLUMN preview TEXT;

-- version 5

-- The full-text index for SEARCH BODY and TEXT (store/fts.c).  One
-- document per blob, not per message: COPY shares blobs, so a copy costs
-- the index nothing.  fts_text holds, for document d, the header's text
-- as row 2d and the body's as row 2d + 1 (store/mime-text.c: decoded,
-- case-folded), split into trigrams (case_sensitive: the text is folded
-- already, by the same code that folds search keys), so that a substring
-- of three characters or more has all its trigrams there.  detail=none
-- and contentless: the index only says which rows hold a trigram, the
-- least it can keep; a match is a candidate that SEARCH confirms on the
-- message itself, so a false positive costs time, never a wrong answer.
--
-- A contentless table can only take a row out given its text again, and
-- the text is not made again when the blob goes (its file may be gone,
-- and the charset conversions iconv(3) does differ in and out of the
-- chroot): so fts_docs keeps what was indexed, deflated (4-byte length,
-- then zlib).  header and body are NULL for a message too large to index:
-- SEARCH reads it every time.
--
-- Taking rows out costs as much as putting them in (an expunge of 2 000
-- messages took 3 to 18 s instead of 0.25): so the transaction that frees
-- a blob only cuts its document loose (blob_id NULL: a dead document,
-- which no search can reach), and dead documents leave fts_text a
-- bounded number at a time, with the next writes of the index (store/fts.c
-- fts_purge).  docid is never reused (AUTOINCREMENT): rows still in
-- fts_text name no live document.  The blob reference is checked at
-- commit: code that freed a blob and forgot its document fails.
--
-- A message whose blob has no row here (stored before this step, or
-- queued by APPEND and not indexed yet) is not indexed: SEARCH reads it,
-- and indexes the mailbox's such messages before a BODY or TEXT search
-- there.  A change to what mime-text.c makes must come with a new step
-- that empties both tables.
CREATE TABLE fts_docs (
	docid INTEGER PRIMARY KEY AUTOINCREMENT,
	blob_id INTEGER UNIQUE
	    REFERENCES blobs (id) DEFERRABLE INITIALLY DEFERRED,
	header BLOB,
	body BLOB
);
CREATE INDEX fts_docs_unindexed ON fts_docs (blob_id) WHERE body IS NULL;
CREATE INDEX fts_docs_dead ON fts_docs (docid) WHERE blob_id IS NULL;
CREATE VIRTUAL TABLE fts_text USING fts5 (text,
	tokenize = 'trigram case_sensitive 1', detail = none, content = '',
	columnsize = 0);

-- How many messages of the mailbox have no document, kept by the
-- triggers below as step 2's counts are, so that a search finds out
-- without a look at every message whether any needs indexing or reading
-- (0, nearly always).  Documents come and go with blobs, messages with
-- their mailbox: both sides count.
ALTER TABLE mailboxes ADD COLUMN n_unindexed INTEGER NOT NULL DEFAULT 0;

CREATE TRIGGER messages_added_fts AFTER INSERT ON messages
WHEN NOT EXISTS (SELECT 1 FROM fts_docs WHERE blob_id = NEW.blob_id) BEGIN
	UPDATE mailboxes SET n_unindexed = n_unindexed + 1
	    WHERE id = NEW.mailbox_id;
END;

CREATE TRIGGER messages_removed_fts AFTER DELETE ON messages
WHEN NOT EXISTS (SELECT 1 FROM fts_docs WHERE blob_id = OLD.blob_id) BEGIN
	UPDATE mailboxes SET n_unindexed = n_unindexed - 1
	    WHERE id = OLD.mailbox_id;
END;

CREATE TRIGGER fts_docs_added AFTER INSERT ON fts_docs BEGIN
	UPDATE mailboxes SET n_unindexed = n_unindexed - (SELECT count(*)
	    FROM messages m WHERE m.blob_id = NEW.blob_id
	    AND m.mailbox_id = mailboxes.id)
	    WHERE id IN (SELECT mailbox_id FROM messages
	    WHERE blob_id = NEW.blob_id);
END;

CREATE TRIGGER fts_docs_removed AFTER DELETE ON fts_docs BEGIN
	UPDATE mailboxes SET n_unindexed = n_unindexed + (SELECT count(*)
	    FROM messages m WHERE m.blob_id = OLD.blob_id
	    AND m.mailbox_id = mailboxes.id)
	    WHERE id IN (SELECT mailbox_id FROM messages
	    WHERE blob_id = OLD.blob_id);
END;

-- A store of version 4: nothing is indexed yet.
UPDATE mailboxes SET n_unindexed = (SELECT count(*) FROM messages m
	WHERE m.mailbox_id = mailboxes.id);

-- version 6

-- THREADID (RFC 8474 5.2), store/threadid.c.  A thread is a number handed
-- out once per user (meta.last_thread_id, so a lower one is an older
-- thread), shared by every mailbox.  thread_msgids maps each msg-id seen
-- (a message's own Message-ID, and the ids of its References and
-- In-Reply-To, normalised as mime_msgid_next writes them) to the thread
-- it was first seen in; an APPEND joins the oldest thread one of its ids
-- is in, else starts one, and records its ids that are not there yet.
-- Rows are never changed or removed: a message's thread never changes
-- (RFC 8474), expunged messages still link their replies, and the table
-- grows with the distinct msg-ids seen, a few per message.
ALTER TABLE meta ADD COLUMN last_thread_id INTEGER NOT NULL DEFAULT 0;
CREATE TABLE thread_msgids (
	msgid TEXT PRIMARY KEY,
	thread_id INTEGER NOT NULL
) WITHOUT ROWID;

-- The message's thread; every row of one blob (COPY, MOVE: one EMAILID)
-- has the same.  NULL for the rows stored before this step, which
-- store_open gives one (threadid.c, thread_backfill) in the order of
-- their internal dates, through this partial index, which stays empty
-- afterwards.
ALTER TABLE messages ADD COLUMN thread_id INTEGER;
CREATE INDEX messages_unthreaded ON messages (internaldate, blob_id)
	WHERE thread_id IS NULL;

-- version 7

-- Delivery (store/deliver.c, cairn-lmtpd): the lines a delivery puts in
-- front of the message for this user (Return-Path, Delivered-To,
-- Received: RFC 5321 4.4), kept here beside the blob and not in its
-- file: the file is the one the delivery spooled, hard-linked into every
-- recipient's store, and each recipient's lines differ.  Whoever reads
-- the message reads these bytes, then the file's, as one message
-- (store/blob.c blob_map); blobs.size and messages.size count both.
-- NULL: none (APPEND, and every blob stored before this step).
ALTER TABLE blobs ADD COLUMN prefix BLOB;

-- version 8

-- cairnctl import (ctl/import.c): the SHA-256 of the message's bytes as
-- stored, set for the blobs an import added, so that a rerun of the same
-- import (after a partial one too) finds each message already in its
-- mailbox and adds it once.  Per blob, so it goes with the blob's last
-- message: one expunged since is imported again by the next run.  NULL:
-- not imported (APPEND, delivery, every blob stored before this step).
ALTER TABLE blobs ADD COLUMN sha256 BLOB;
CREATE INDEX blobs_sha256 ON blobs (sha256) WHERE sha256 IS NOT NULL;

-- version 9

-- The keys SORT and THREAD compare (RFC 5256, RFC 5957), made once when
-- the message is stored (store/sortkeys.c, from the header; APPEND,
-- delivery, cache_fill) so that a SORT parses nothing and reads one short
-- row per message, in uid order: a range of this table walked beside the
-- messages, with no seek per message (keyed by blob, the random blob ids
-- cost a b-tree descent each, ten times the range).  The copies of a
-- blob (COPY, MOVE, RENAME of INBOX) get the row of another message of
-- the blob by the trigger below; the row goes with its message.
--   sent      the sent date, unix time UTC (RFC 5256 2.2); NULL when the
--             Date field is missing or does not parse: the reader takes
--             the message's INTERNALDATE then
--   reply     1 when the subject marks a reply or forward (2.1)
--   subject   the base subject (2.1); from_key, to_key, cc_key the
--             addr-mailbox of the first address (3); dfrom_key, dto_key
--             its display value (RFC 5957 3).  Folded to ASCII upper case,
--             i;ascii-casemap: byte order is the collation's order
--   msgid     the Message-ID, normalised (mime_msgid_next), '' for none
--   refs      REFERENCES' parents (RFC 5256 3): msg-ids, oldest first,
--             each ended by a NUL byte; NULL for none
-- A message stored before this step has no row: SORT and THREAD make its
-- keys from its header when they need them, and write them here
-- afterwards for every message of its blob (store/sortcache.c).  A
-- change to what sortkeys.c makes must come with a new step that empties
-- the table.
CREATE TABLE sort_keys (
	mailbox_id INTEGER NOT NULL,
	uid INTEGER NOT NULL,
	sent INTEGER,
	reply INTEGER NOT NULL,
	subject TEXT NOT NULL,
	from_key TEXT NOT NULL,
	to_key TEXT NOT NULL,
	cc_key TEXT NOT NULL,
	dfrom_key TEXT NOT NULL,
	dto_key TEXT NOT NULL,
	msgid TEXT NOT NULL,
	refs BLOB,
	PRIMARY KEY (mailbox_id, uid)
) WITHOUT ROWID;

CREATE TRIGGER messages_added_sort AFTER INSERT ON messages BEGIN
	INSERT OR REPLACE INTO sort_keys SELECT NEW.mailbox_id, NEW.uid, k.sent,
	    k.reply, k.subject, k.from_key, k.to_key, k.cc_key, k.dfrom_key,
	    k.dto_key, k.msgid, k.refs
	    FROM messages s JOIN sort_keys k
	    ON k.mailbox_id = s.mailbox_id AND k.uid = s.uid
	    WHERE s.blob_id = NEW.blob_id LIMIT 1;
END;

CREATE TRIGGER messages_removed_sort AFTER DELETE ON messages BEGIN
	DELETE FROM sort_keys WHERE mailbox_id = OLD.mailbox_id AND uid = OLD.uid;
END;
