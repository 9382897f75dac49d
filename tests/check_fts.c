/*
 * The full-text index (store/fts.c, schema step 5): what APPEND indexes
 * (decoded, case-folded text of the header and the text parts), which
 * messages a search string leaves as candidates, COPY sharing documents,
 * EXPUNGE, DELETE and fsck removing them exactly, messages without a
 * document (an older store) always candidates and indexed on demand, and
 * the bounds (short strings, too much text).
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "mime.h"
#include "store.h"
#include "store_fixture.h"


/* ---- fixtures and helpers ------------------------------------------------ */

static uint32_t
append_len(struct store *st, const char *mailbox, const char *text, size_t len)
{
	struct store_append *ap;
	uint32_t uidvalidity = 0, uid = 0;
	enum store_result r;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, text, len), STORE_OK);
	r = store_append_commit(ap, mailbox, 0, NULL, 0, 760000000, 0,
	    &uidvalidity, &uid);
	ck_assert_msg(r == STORE_OK, "append: %d %s", r, store_error(st));
	return uid;
}

static uint32_t
append(struct store *st, const char *mailbox, const char *text)
{
	return append_len(st, mailbox, text, strlen(text));
}

static struct store_view *
view(struct store *st, const char *name)
{
	struct store_view *v = NULL;
	enum store_result r = store_view_open(st, name, false, &v);

	ck_assert_msg(r == STORE_OK, "view %s: %d %s", name, r, store_error(st));
	return v;
}

/* The view with every message of its mailbox indexed, as SEARCH has it. */
static struct store_view *
indexed_view(struct store *st, const char *name)
{
	struct store_view *v = view(st, name);

	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	return v;
}

/* Rows of fts_text holding a trigram (raw, as stored: folded). */
static int64_t
rows_with(const char *trigram)
{
	char q[128];

	snprintf(q, sizeof(q), "SELECT count(*) FROM fts_text WHERE fts_text "
	    "MATCH '\"%s\"'", trigram);
	return sql_int(q);
}

/* The candidates for s (folded first, as SEARCH folds its keys) as
 * "1 3 4" ("" for none). */
static const char *
cand(struct store_view *v, const char *s, bool body_only)
{
	static char out[1024];
	struct buf f = BUF_INIT;
	uint32_t *uids = NULL;
	size_t n = 0;
	enum store_result r;

	ck_assert_int_eq(mime_fold(s, strlen(s), &f), 0);
	r = store_fts_candidates(v, f.data, f.len, body_only, &uids, &n);
	ck_assert_msg(r == STORE_OK, "candidates '%s': %d", s, r);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%u",
		    i ? " " : "", uids[i]);
	free(uids);
	buf_free(&f);
	return out;
}

static size_t
cand_n(struct store_view *v, const char *s)
{
	uint32_t *uids = NULL;
	size_t n = 0;

	ck_assert_int_eq(store_fts_candidates(v, s, strlen(s), true, &uids, &n),
	    STORE_OK);
	free(uids);
	return n;
}

/* ---- what is indexed ------------------------------------------------------ */

#define MSG_PLAIN "From: Alice <alice@example.org>\r\n" \
	"Subject: Quarterly figures\r\n" \
	"\r\n" \
	"The quick brown fox jumps over the lazy dog.\r\n"
#define MSG_B64 "From: bob@example.org\r\n" \
	"Subject: encoded\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: text/plain; charset=utf-8\r\n" \
	"Content-Transfer-Encoding: base64\r\n" \
	"\r\n" \
	/* "Zebras graze in Zürich." */ \
	"WmVicmFzIGdyYXplIGluIFrDvHJpY2gu\r\n"
#define MSG_QP "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\n" \
	"Subject: =?ISO-8859-1?Q?Gr=FC=DFe?=\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n" \
	"\r\n" \
	"preamble nowhere\r\n" \
	"--b1\r\n" \
	"Content-Type: text/plain; charset=iso-8859-1\r\n" \
	"Content-Transfer-Encoding: quoted-printable\r\n" \
	"\r\n" \
	"Viele Gr=FC=DFe aus K=F6ln, sch=\r\n" \
	"oen\r\n" \
	"--b1\r\n" \
	"Content-Type: application/octet-stream\r\n" \
	"Content-Transfer-Encoding: base64\r\n" \
	"\r\n" \
	"c2VjcmV0IHN0dWZm\r\n" \
	"--b1--\r\n"
#define MSG_NESTED "From: dave@example.com\r\n" \
	"Subject: Fwd: report\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: multipart/mixed; boundary=zz\r\n" \
	"\r\n" \
	"--zz\r\n" \
	"Content-Type: text/html; charset=windows-1252\r\n" \
	"\r\n" \
	"<p>See the \x93REPORT\x94 attached</p>\r\n" \
	"--zz\r\n" \
	"Content-Type: message/rfc822\r\n" \
	"\r\n" \
	"Subject: Inner subject\r\n" \
	"From: eve@example.com\r\n" \
	"\r\n" \
	"Inner body text\r\n" \
	"--zz--\r\n"

START_TEST(test_indexed_text)
{
	struct store *st = open_store();
	struct store_view *v;

	append(st, "INBOX", MSG_PLAIN);     /* 1 */
	append(st, "INBOX", MSG_B64);       /* 2 */
	append(st, "INBOX", MSG_QP);        /* 3 */
	append(st, "INBOX", MSG_NESTED);    /* 4 */
	/* queued by APPEND, not indexed yet: candidates for anything */
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "quick", true), "1 2 3 4");
	store_view_close(v);
	v = indexed_view(st, "INBOX");
	/* substrings, across word boundaries, in any case */
	ck_assert_str_eq(cand(v, "quick", true), "1");
	ck_assert_str_eq(cand(v, "OWN FOX JU", true), "1");
	ck_assert_str_eq(cand(v, "ick bro", true), "1");
	/* base64 and UTF-8 */
	ck_assert_str_eq(cand(v, "zebras", true), "2");
	ck_assert_str_eq(cand(v, "Z\xc3\x9cRICH", true), "2");
	/* quoted-printable (a soft line break inside a word) and Latin-1 */
	ck_assert_str_eq(cand(v, "gr\xc3\xbc\xc3\x9f" "e aus", true), "3");
	ck_assert_str_eq(cand(v, "K\xc3\x96LN", true), "3");
	ck_assert_str_eq(cand(v, "schoen", true), "3");
	/* not text: the attachment, the preamble */
	ck_assert_str_eq(cand(v, "secret", true), "");
	ck_assert_str_eq(cand(v, "nowhere", true), "");
	/* windows-1252 quotes, HTML as it is, the encapsulated message */
	ck_assert_str_eq(cand(v, "\xe2\x80\x9creport\xe2\x80\x9d", true), "4");
	ck_assert_str_eq(cand(v, "<p>see", true), "4");
	ck_assert_str_eq(cand(v, "inner subject", true), "4");
	ck_assert_str_eq(cand(v, "inner body", true), "4");
	/* the header: TEXT only, decoded */
	ck_assert_str_eq(cand(v, "quarterly", true), "");
	ck_assert_str_eq(cand(v, "quarterly", false), "1");
	ck_assert_str_eq(cand(v, "subject: gr\xc3\xbc\xc3\x9f" "e", false), "3");
	ck_assert_str_eq(cand(v, "j\xc3\xbcrgen", false), "3");
	ck_assert_str_eq(cand(v, "example", false), "1 2 3 4");
	ck_assert_str_eq(cand(v, "example", true), "4");
	/* a string none has */
	ck_assert_str_eq(cand(v, "xylophone", false), "");
	/* a double quote is a character like any other to the index */
	ck_assert_str_eq(cand(v, "\"quick\"", false), "");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* Each substring of 3 characters or more of the text the matcher reads
 * (mime_search_body) leaves the message a candidate. */
START_TEST(test_every_substring)
{
	struct store *st = open_store();
	struct store_view *v;
	struct mime_part *root = mime_parse(MSG_QP, strlen(MSG_QP));
	struct buf body = BUF_INIT;
	const char *p;

	append(st, "INBOX", MSG_PLAIN);
	append(st, "INBOX", MSG_QP);
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(mime_search_body(MSG_QP, strlen(MSG_QP), root, &body), 0);
	mime_free(root);
	p = body.data;
	for (size_t i = 0; i + 3 <= body.len; i++) {
		for (size_t n = 3; i + n <= body.len && n <= 12; n++) {
			char key[16];
			uint32_t *uids = NULL;
			size_t nu = 0;

			memcpy(key, p + i, n);
			if (!store_fts_usable(key, n))
				continue;    /* cut inside a character */
			ck_assert_int_eq(store_fts_candidates(v, key, n, true, &uids,
			    &nu), STORE_OK);
			ck_assert_msg(nu >= 1 && uids[nu - 1] == 2, "'%.*s' missed",
			    (int)n, key);
			free(uids);
		}
	}
	buf_free(&body);
	store_view_close(v);
	store_close(st);
}
END_TEST

START_TEST(test_usable)
{
	struct store *st = open_store();
	struct store_view *v = view(st, "INBOX");
	uint32_t *uids = NULL;
	size_t n = 7;

	ck_assert(!store_fts_usable("", 0));
	ck_assert(!store_fts_usable("ab", 2));
	ck_assert(store_fts_usable("abc", 3));
	/* characters, not bytes */
	ck_assert(!store_fts_usable("\xc3\xa9\xc3\xa9", 4));
	ck_assert(store_fts_usable("a\xc3\xa9\xe2\x82\xac", 6));
	ck_assert(store_fts_usable("\xf0\x9f\x98\x80xy", 6));
	/* not UTF-8, NUL, overlong, surrogate, cut short */
	ck_assert(!store_fts_usable("ab\xff", 3));
	ck_assert(!store_fts_usable("a\0bc", 4));
	ck_assert(!store_fts_usable("\xc0\xafxy", 4));
	ck_assert(!store_fts_usable("\xed\xa0\x80xy", 5));
	ck_assert(!store_fts_usable("abc\xe2\x82", 5));
	ck_assert_int_eq(store_fts_candidates(v, "ab", 2, true, &uids, &n),
	    STORE_INVALID);
	ck_assert_ptr_null(uids);
	ck_assert_uint_eq(n, 0);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* A long string: a spread of its trigrams is asked, still exact enough. */
START_TEST(test_long_string)
{
	static const char text[] = "From: x@example.org\r\n\r\n"
	    "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do "
	    "eiusmod tempor incididunt ut labore et dolore magna aliqua.\r\n";
	struct store *st = open_store();
	struct store_view *v;

	append(st, "INBOX", text);
	append(st, "INBOX", MSG_PLAIN);
	v = indexed_view(st, "INBOX");
	ck_assert_str_eq(cand(v, "consectetur adipiscing elit, sed do eiusmod "
	    "tempor incididunt ut labore", true), "1");
	ck_assert_str_eq(cand(v, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    true), "");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* ---- COPY, EXPUNGE, DELETE, fsck ----------------------------------------- */

START_TEST(test_copy_shares)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uid, dest = 0, uv;

	uid = append(st, "INBOX", MSG_PLAIN);
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	store_view_close(v);
	/* one document for both */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	v = view(st, "Archive");
	ck_assert_str_eq(cand(v, "lazy dog", true), "1");
	store_view_close(v);
	store_close(st);
}
END_TEST

START_TEST(test_expunge_removes)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uid, keep, dest = 0, uv;

	uid = append(st, "INBOX", MSG_PLAIN);
	keep = append(st, "INBOX", MSG_B64);
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	ck_assert_int_eq(store_set_flags(v, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	/* the copy still holds the blob, and the document */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 2);
	ck_assert_int_eq(rows_with("laz"), 1);
	store_view_close(v);
	v = view(st, "Archive");
	ck_assert_int_eq(store_set_flags(v, &dest, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	store_view_close(v);
	/* the last reference went: the document and its rows too */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	ck_assert_int_eq(rows_with("laz"), 0);
	ck_assert_int_eq(rows_with("qua"), 0);    /* "quarterly", its header */
	ck_assert_int_eq(rows_with("zeb"), 1);
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "zebras", true), "2");
	ck_assert_uint_eq(keep, 2);
	store_view_close(v);
	sql("INSERT INTO fts_text (fts_text) VALUES ('integrity-check')");
	store_close(st);
}
END_TEST

START_TEST(test_delete_mailbox_removes)
{
	struct store *st = open_store();

	ck_assert_int_eq(store_mailbox_create(st, "Lists", 0), STORE_OK);
	append(st, "Lists", MSG_PLAIN);
	append(st, "Lists", MSG_QP);
	store_view_close(indexed_view(st, "Lists"));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 2);
	ck_assert_int_eq(store_mailbox_delete(st, "Lists"), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 0);
	ck_assert_int_eq(rows_with("laz"), 0);
	ck_assert_int_eq(rows_with("k\xc3\xb6l"), 0);
	store_close(st);
}
END_TEST

static void
ignore(void *arg, const char *line)
{
	(void)arg;
	(void)line;
}

/* A blob whose file is lost: fsck --repair drops its messages, and its
 * document with its rows (from the text kept, not from the file). */
START_TEST(test_fsck_removes)
{
	struct store *st = open_store();
	char path[128];
	unsigned problems = 0;
	int64_t blob;

	append(st, "INBOX", MSG_PLAIN);
	store_view_close(indexed_view(st, "INBOX"));
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	blob = sql_int("SELECT blob_id FROM messages");
	snprintf(path, sizeof(path), "%s/blobs/%02x/%016llx", dir,
	    (unsigned)((uint64_t)blob >> 56), (unsigned long long)blob);
	ck_assert_msg(unlink(path) == 0, "%s", path);
	ck_assert_int_eq(store_fsck(st, true, ignore, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 0);
	ck_assert_int_eq(rows_with("laz"), 0);
	store_close(st);
}
END_TEST

/* The schema holds a document to its blob: a blob row deleted without its
 * document fails at commit. */
START_TEST(test_document_needs_blob)
{
	struct store *st = open_store();
	char path[128], *err = NULL;
	sqlite3 *db;

	append(st, "INBOX", MSG_PLAIN);
	store_close(st);     /* indexes the queue */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	ck_assert_int_ne(sqlite3_exec(db, "BEGIN; DELETE FROM messages; "
	    "DELETE FROM blobs; COMMIT", NULL, NULL, &err), SQLITE_OK);
	ck_assert_ptr_nonnull(strstr(err, "FOREIGN KEY"));
	sqlite3_free(err);
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs"), 1);
}
END_TEST

/* ---- messages without a document -------------------------------------------- */

/* What a store from before schema step 5 looks like: no documents. */
static void
forget_documents(void)
{
	sql("DELETE FROM fts_docs");
}

START_TEST(test_unindexed_are_candidates)
{
	struct store *st = open_store();
	struct store_view *v;

	append(st, "INBOX", MSG_PLAIN);
	append(st, "INBOX", MSG_B64);
	store_close(st);
	forget_documents();
	st = open_store();
	append(st, "INBOX", MSG_QP);     /* 3: indexed at the close */
	store_close(st);
	st = open_store();
	v = view(st, "INBOX");
	/* 1 and 2 may hold anything; 3 is ruled out */
	ck_assert_str_eq(cand(v, "xylophone", true), "1 2");
	ck_assert_str_eq(cand(v, "k\xc3\xb6ln", true), "1 2 3");
	/* their old rows are still in fts_text, but name no document */
	ck_assert_int_eq(rows_with("laz"), 1);
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 3);
	ck_assert_str_eq(cand(v, "xylophone", true), "");
	ck_assert_str_eq(cand(v, "lazy", true), "1");
	ck_assert_str_eq(cand(v, "zebra", true), "2");
	/* nothing left to do */
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 3);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* More messages than one batch, two mailboxes sharing blobs, and one whose
 * file went: every message still there gets its document. */
START_TEST(test_update_in_batches)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uids[3] = { 7, 300, 450 }, dest[3], uv;
	char msg[128], path[128];
	int64_t blob;

	for (unsigned i = 1; i <= 450; i++) {
		snprintf(msg, sizeof(msg), "Subject: number %u\r\n\r\n"
		    "body of message m%05ux\r\n", i, i);
		ck_assert_uint_eq(append(st, "INBOX", msg), i);
	}
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(store_copy(v, uids, 3, "Archive", false, &uv, dest),
	    STORE_OK);
	store_view_close(v);
	forget_documents();
	/* one message's file is gone: it is skipped, not an error */
	blob = sql_int("SELECT blob_id FROM messages m JOIN mailboxes b "
	    "ON b.id = m.mailbox_id WHERE b.name = 'INBOX' AND m.uid = 10");
	snprintf(path, sizeof(path), "%s/blobs/%02x/%016llx", dir,
	    (unsigned)((uint64_t)blob >> 56), (unsigned long long)blob);
	ck_assert_int_eq(unlink(path), 0);
	v = view(st, "Archive");
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 3);
	ck_assert_str_eq(cand(v, "m00300x", true), "2");
	store_view_close(v);
	v = view(st, "INBOX");
	/* the 447 without a document, and 300 (indexed through Archive) */
	ck_assert_uint_eq(cand_n(v, "zzzzq"), 447);
	ck_assert_uint_eq(cand_n(v, "m00300x"), 448);
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 449);
	ck_assert_str_eq(cand(v, "m00300x", true), "10 300");
	ck_assert_str_eq(cand(v, "m00449x", true), "10 449");
	ck_assert_str_eq(cand(v, "number 123", false), "10 123");
	store_view_close(v);
	store_close(st);
}
END_TEST

static int64_t
documents(void)
{
	return sql_int("SELECT count(*) FROM fts_docs");
}

static int64_t
unindexed(const char *mailbox)
{
	char q[128];

	snprintf(q, sizeof(q), "SELECT n_unindexed FROM mailboxes WHERE name = "
	    "'%s'", mailbox);
	return sql_int(q);
}

/*
 * APPEND queues: 64 messages are indexed together, the rest when the store
 * is closed.  A process killed with messages in its queue leaves them
 * without a document: candidates, and indexed by the next search.
 */
START_TEST(test_append_queue)
{
	struct store *st = open_store();
	struct store_view *v;
	char msg[128];
	pid_t pid;
	int status;

	for (unsigned i = 1; i <= 63; i++) {
		snprintf(msg, sizeof(msg), "Subject: q\r\n\r\nmessage n%03ux\r\n", i);
		append(st, "INBOX", msg);
	}
	ck_assert_int_eq(documents(), 0);
	ck_assert_int_eq(unindexed("INBOX"), 63);
	v = view(st, "INBOX");
	ck_assert_uint_eq(cand_n(v, "n005x"), 63);
	store_view_close(v);
	append(st, "INBOX", "Subject: q\r\n\r\nmessage n064x\r\n");
	ck_assert_int_eq(documents(), 64);
	ck_assert_int_eq(unindexed("INBOX"), 0);
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "n005x", true), "5");
	store_view_close(v);
	for (unsigned i = 65; i <= 69; i++) {
		snprintf(msg, sizeof(msg), "Subject: q\r\n\r\nmessage n%03ux\r\n", i);
		append(st, "INBOX", msg);
	}
	ck_assert_int_eq(documents(), 64);
	ck_assert_int_eq(unindexed("INBOX"), 5);
	store_close(st);
	ck_assert_int_eq(documents(), 69);
	ck_assert_int_eq(unindexed("INBOX"), 0);

	/* killed before its queue was indexed */
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct store *child = open_store();

		append(child, "INBOX", "Subject: q\r\n\r\nmessage n070x\r\n");
		append(child, "INBOX", "Subject: q\r\n\r\nmessage n071x\r\n");
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(documents(), 69);
	ck_assert_int_eq(unindexed("INBOX"), 2);
	st = open_store();
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "n005x", true), "5 70 71");
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(documents(), 71);
	ck_assert_int_eq(unindexed("INBOX"), 0);
	ck_assert_str_eq(cand(v, "n071x", true), "71");
	store_view_close(v);
	store_close(st);
}
END_TEST

/*
 * The queue holds the documents APPEND made (the message is parsed once,
 * for the cache and the document): a few messages with much text fill
 * its bytes before its count, and it is added then.
 */
START_TEST(test_append_queue_bytes)
{
	size_t len = 200 * 1024;
	char *msg = malloc(len + 1);
	struct store *st = open_store();
	struct store_view *v;

	ck_assert_ptr_nonnull(msg);
	memcpy(msg, "Subject: long\r\n\r\n", 17);
	for (size_t i = 17; i < len; i++)
		msg[i] = (i % 8 == 7) ? ' ' : (char)('a' + i % 7);
	memcpy(msg + len - 9, " zyxwvu\r\n", 9);
	append_len(st, "INBOX", msg, len);
	append_len(st, "INBOX", msg, len);
	ck_assert_int_eq(documents(), 0);
	append_len(st, "INBOX", msg, len);    /* over 512 KB of text queued */
	ck_assert_int_eq(documents(), 3);
	ck_assert_int_eq(unindexed("INBOX"), 0);
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "zyxwvu", true), "1 2 3");
	ck_assert_str_eq(cand(v, "zyxwvut", true), "");
	store_view_close(v);
	store_close(st);
	free(msg);
}
END_TEST

/*
 * n_unindexed follows messages and documents through COPY, MOVE, EXPUNGE,
 * RENAME of INBOX, documents dropped behind the store's back; fsck checks
 * it and counts it again.
 */
START_TEST(test_unindexed_counts)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uids[2] = { 1, 2 }, dest[2], uv;
	unsigned problems = 0;

	append(st, "INBOX", MSG_PLAIN);
	append(st, "INBOX", MSG_B64);
	ck_assert_int_eq(unindexed("INBOX"), 2);
	v = view(st, "INBOX");
	/* copies of messages without a document count in the destination */
	ck_assert_int_eq(store_copy(v, uids, 2, "Archive", false, &uv, dest),
	    STORE_OK);
	ck_assert_int_eq(unindexed("Archive"), 2);
	/* one document counts for every message of its blob */
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_int_eq(unindexed("INBOX"), 0);
	ck_assert_int_eq(unindexed("Archive"), 0);
	ck_assert_int_eq(store_copy(v, uids, 1, "Trash", true, &uv, dest),
	    STORE_OK);
	ck_assert_int_eq(unindexed("Trash"), 0);
	store_view_close(v);
	sql("DELETE FROM fts_docs");
	ck_assert_int_eq(unindexed("INBOX"), 1);
	ck_assert_int_eq(unindexed("Archive"), 2);
	ck_assert_int_eq(unindexed("Trash"), 1);
	ck_assert_int_eq(store_mailbox_rename(st, "INBOX", "Old"), STORE_OK);
	ck_assert_int_eq(unindexed("INBOX"), 0);
	ck_assert_int_eq(unindexed("Old"), 1);
	ck_assert_int_eq(store_fsck(st, false, ignore, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	sql("UPDATE mailboxes SET n_unindexed = 7 WHERE name = 'Archive'");
	ck_assert_int_eq(store_fsck(st, true, ignore, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 1);
	ck_assert_int_eq(unindexed("Archive"), 2);
	store_close(st);
}
END_TEST

static int64_t
dead(void)
{
	return sql_int("SELECT count(*) FROM fts_docs WHERE blob_id IS NULL");
}

/*
 * Removing rows from FTS5 costs as much as adding them: an expunge makes
 * its documents dead and purges 64 at most; each batch indexed purges as
 * many as it adds; fsck --repair purges the rest.  Dead documents are
 * never candidates.
 */
START_TEST(test_purge_bounded)
{
	struct store *st = open_store();
	struct store_view *v;
	unsigned problems = 0;
	char msg[128];

	for (unsigned i = 1; i <= 150; i++) {
		snprintf(msg, sizeof(msg), "Subject: p\r\n\r\ndoomed message d%03ux\r\n", i);
		append(st, "INBOX", msg);
	}
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(documents(), 150);
	{
		uint32_t uids[150];

		for (unsigned i = 0; i < 150; i++)
			uids[i] = i + 1;
		ck_assert_int_eq(store_set_flags(v, uids, 150, STORE_FLAGS_ADD,
		    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	}
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(documents(), 150 - 64);
	ck_assert_int_eq(dead(), 150 - 64);
	ck_assert_int_gt(rows_with("doo"), 0);
	ck_assert_str_eq(cand(v, "doomed", true), "");
	store_view_close(v);
	for (unsigned i = 1; i <= 64; i++) {
		snprintf(msg, sizeof(msg), "Subject: n\r\n\r\nnew message n%03ux\r\n", i);
		append(st, "INBOX", msg);
	}
	/* the batch of 64 took 64 dead ones out */
	ck_assert_int_eq(dead(), 150 - 128);
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "doomed", true), "");
	ck_assert_str_eq(cand(v, "n007x", true), "157");
	store_view_close(v);
	ck_assert_int_eq(store_fsck(st, true, ignore, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	ck_assert_int_eq(dead(), 0);
	ck_assert_int_eq(documents(), 64);
	ck_assert_int_eq(rows_with("doo"), 0);
	ck_assert_int_eq(rows_with("new"), 64);
	sql("INSERT INTO fts_text (fts_text) VALUES ('integrity-check')");
	store_close(st);
}
END_TEST

/* More text than FTS_TEXT_MAX: no document to speak of, always a
 * candidate, and removed like the others. */
START_TEST(test_too_large)
{
	size_t len = 9u * 1024 * 1024;
	char *big = malloc(len);
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uid;

	ck_assert_ptr_nonnull(big);
	memcpy(big, "Subject: big\r\n\r\n", 16);
	for (size_t i = 16; i < len; i++)
		big[i] = (i % 80 == 79) ? '\n' : 'a' + (char)(i % 7);
	uid = append_len(st, "INBOX", big, len);
	free(big);
	append(st, "INBOX", MSG_PLAIN);
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs WHERE body IS NULL"), 1);
	ck_assert_str_eq(cand(v, "xylophone", true), "1");
	ck_assert_str_eq(cand(v, "lazy", true), "1 2");
	ck_assert_int_eq(store_set_flags(v, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM fts_docs"), 1);
	ck_assert_str_eq(cand(v, "xylophone", true), "");
	store_view_close(v);
	store_close(st);
}
END_TEST

/*
 * A store of schema version 4 (before the index) with a message in it:
 * opening it upgrades it, the message has no document and counts as
 * unindexed, is a candidate for any string, and is indexed on demand.
 */
START_TEST(test_schema_v4_upgraded)
{
	static const uint64_t blob = 0x2a00000000000001ULL;
	char sqltext[512];
	struct store *st;
	struct store_view *v;

	snprintf(sqltext, sizeof(sqltext),
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 2, 2);"
	    "INSERT INTO blobs (id, refcount, size) VALUES (%lld, 1, %zu);"
	    "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, "
	    "internaldate, tz_minutes, size, blob_id, email_id) VALUES "
	    "(1, 1, 2, 0, 0, 0, 0, %zu, %lld, %lld);", (long long)blob,
	    strlen(MSG_PLAIN), strlen(MSG_PLAIN), (long long)blob, (long long)blob);
	old_store(4, sqltext);
	old_blob_file(blob, MSG_PLAIN, strlen(MSG_PLAIN));

	st = open_store();
	ck_assert_int_eq(sql_int("PRAGMA user_version"), schema_newest());
	ck_assert_int_eq(unindexed("INBOX"), 1);
	append(st, "INBOX", MSG_B64);
	v = view(st, "INBOX");
	ck_assert_str_eq(cand(v, "xylophone", true), "1 2");
	store_view_close(v);
	v = indexed_view(st, "INBOX");
	ck_assert_int_eq(unindexed("INBOX"), 0);
	ck_assert_str_eq(cand(v, "xylophone", true), "");
	ck_assert_str_eq(cand(v, "lazy dog", true), "1");
	ck_assert_str_eq(cand(v, "zebras", true), "2");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* The SQLite this runs on has FTS5 with the trigram tokenizer (3.34). */
START_TEST(test_sqlite_has_trigram)
{
	sqlite3 *db;

	ck_assert_int_eq(sqlite3_open(":memory:", &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5 "
	    "(x, tokenize = 'trigram case_sensitive 1', detail = none, "
	    "content = '')", NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}
END_TEST

static Suite *
fts_suite(void)
{
	Suite *s = suite_create("fts");
	TCase *tc = tcase_create("index");

	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sqlite_has_trigram);
	tcase_add_test(tc, test_indexed_text);
	tcase_add_test(tc, test_every_substring);
	tcase_add_test(tc, test_usable);
	tcase_add_test(tc, test_long_string);
	tcase_add_test(tc, test_copy_shares);
	tcase_add_test(tc, test_expunge_removes);
	tcase_add_test(tc, test_delete_mailbox_removes);
	tcase_add_test(tc, test_fsck_removes);
	tcase_add_test(tc, test_document_needs_blob);
	tcase_add_test(tc, test_unindexed_are_candidates);
	tcase_add_test(tc, test_update_in_batches);
	tcase_add_test(tc, test_append_queue);
	tcase_add_test(tc, test_append_queue_bytes);
	tcase_add_test(tc, test_unindexed_counts);
	tcase_add_test(tc, test_purge_bounded);
	tcase_add_test(tc, test_schema_v4_upgraded);
	tcase_add_test(tc, test_too_large);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(fts_suite());
}
