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
