/*
 * Unit tests for store/threadid.c: the THREADID (RFC 8474 §5.2) of stored
 * messages, through the store API against a temporary directory, and the
 * threads given to the messages of a store made before schema step 6.
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
#include <unistd.h>

#include "store.h"
#include "store_fixture.h"

/* ---- fixtures and helpers ------------------------------------------------ */

/* A message with these ids (NULL: the field is left out). */
static char *
message(const char *msgid, const char *references, const char *in_reply_to,
    const char *subject)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(f);
	fprintf(f, "From: alice@example.org\r\nSubject: %s\r\n", subject);
	if (msgid != NULL)
		fprintf(f, "Message-ID: %s\r\n", msgid);
	if (references != NULL)
		fprintf(f, "References: %s\r\n", references);
	if (in_reply_to != NULL)
		fprintf(f, "In-Reply-To: %s\r\n", in_reply_to);
	fprintf(f, "\r\nbody of %s\r\n", subject);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* Append the message with this internal date; its uid. */
static uint32_t
put_at(struct store *st, const char *mailbox, int64_t date, const char *msgid,
    const char *references, const char *in_reply_to)
{
	struct store_append *ap;
	uint32_t uidvalidity, uid = 0;
	char *text = message(msgid, references, in_reply_to,
	    msgid != NULL ? msgid : "no id");
	enum store_result r;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, text, strlen(text)), STORE_OK);
	r = store_append_commit(ap, mailbox, 0, NULL, 0, date, 0,
	    &uidvalidity, &uid);
	ck_assert_msg(r == STORE_OK, "append: %d %s", r, store_error(st));
	free(text);
	return uid;
}

static uint32_t
put(struct store *st, const char *mailbox, const char *msgid,
    const char *references, const char *in_reply_to)
{
	return put_at(st, mailbox, 760000000, msgid, references, in_reply_to);
}

static struct store_message
get(struct store *st, const char *mailbox, uint32_t uid)
{
	struct store_view *v = NULL;
	struct store_message m;

	ck_assert_int_eq(store_view_open(st, mailbox, true, &v), STORE_OK);
	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	store_view_close(v);
	return m;
}

static uint64_t
thread(struct store *st, const char *mailbox, uint32_t uid)
{
	return get(st, mailbox, uid).thread_id;
}

/* ---- new messages ------------------------------------------------------------ */

START_TEST(test_reply_joins_parent)
{
	struct store *st = open_store();
	uint32_t a, b, c, d;
	uint64_t t;

	a = put(st, "INBOX", "<a@example.org>", NULL, NULL);
	b = put(st, "INBOX", "<b@example.org>", "<a@example.org>", NULL);
	/* In-Reply-To alone links too */
	c = put(st, "INBOX", "<c@example.org>", NULL, "<b@example.org>");
	/* and a reply to a reply that names only the root */
	d = put(st, "INBOX", "<d@example.org>", "<a@example.org>", NULL);
	t = thread(st, "INBOX", a);
	ck_assert_uint_ne(t, 0);
	ck_assert_uint_eq(thread(st, "INBOX", b), t);
	ck_assert_uint_eq(thread(st, "INBOX", c), t);
	ck_assert_uint_eq(thread(st, "INBOX", d), t);
	store_close(st);
}
END_TEST

START_TEST(test_parent_after_child)
{
	struct store *st = open_store();
	uint32_t child, parent, grand;
	uint64_t t;

	/* the reply arrives first and records the ids it names */
	child = put(st, "INBOX", "<child@example.org>",
	    "<root@example.org> <parent@example.org>", "<parent@example.org>");
	t = thread(st, "INBOX", child);
	parent = put(st, "INBOX", "<parent@example.org>", "<root@example.org>",
	    NULL);
	/* the root, with no references at all, is found by its own id */
	grand = put(st, "INBOX", "<root@example.org>", NULL, NULL);
	ck_assert_uint_eq(thread(st, "INBOX", parent), t);
	ck_assert_uint_eq(thread(st, "INBOX", grand), t);
	store_close(st);
}
END_TEST

START_TEST(test_unrelated_distinct)
{
	struct store *st = open_store();
	uint32_t a, b, none1, none2, self;
	uint64_t ta, tb, t1, t2;

	a = put(st, "INBOX", "<a@example.org>", NULL, NULL);
	b = put(st, "INBOX", "<b@example.org>", "<other@example.org>", NULL);
	/* no ids: a thread each (subjects are not compared) */
	none1 = put(st, "INBOX", NULL, NULL, NULL);
	none2 = put(st, "INBOX", NULL, NULL, NULL);
	ta = thread(st, "INBOX", a);
	tb = thread(st, "INBOX", b);
	t1 = thread(st, "INBOX", none1);
	t2 = thread(st, "INBOX", none2);
	ck_assert_uint_ne(ta, 0);
	ck_assert_uint_ne(tb, 0);
	ck_assert_uint_ne(t1, 0);
	ck_assert_uint_ne(t2, 0);
	ck_assert_uint_ne(ta, tb);
	ck_assert_uint_ne(t1, t2);
	ck_assert_uint_ne(t1, ta);
	ck_assert_uint_ne(t1, tb);
	ck_assert_uint_ne(t2, ta);
	ck_assert_uint_ne(t2, tb);
	/* a message naming only itself is alone too */
	self = put(st, "INBOX", "<self@example.org>", "<self@example.org>", NULL);
	ck_assert_uint_ne(thread(st, "INBOX", self), ta);
	ck_assert_uint_ne(thread(st, "INBOX", self), tb);
	store_close(st);
}
END_TEST

/* Two spellings of one msg-id (RFC 5322 §3.6.4 CFWS, quoting) are one id. */
START_TEST(test_msgid_spellings)
{
	struct store *st = open_store();
	uint32_t a, b, c;

	a = put(st, "INBOX", "<a.b@example.org>", NULL, NULL);
	b = put(st, "INBOX", "<b2@example.org>",
	    "(a comment)\r\n <\"a.b\"@example.org>", NULL);
	c = put(st, "INBOX", "<c2@example.org>", "junk without brackets",
	    "<a.b@example.org> (the parent)");
	ck_assert_uint_eq(thread(st, "INBOX", b), thread(st, "INBOX", a));
	ck_assert_uint_eq(thread(st, "INBOX", c), thread(st, "INBOX", a));
	store_close(st);
}
END_TEST

START_TEST(test_copy_and_move_keep)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t a, b, dest[2], uv, uids[2];
	uint64_t ta, tb;

	a = put(st, "INBOX", "<a@example.org>", NULL, NULL);
	b = put(st, "INBOX", "<b@example.org>", NULL, NULL);
	ta = thread(st, "INBOX", a);
	tb = thread(st, "INBOX", b);
	ck_assert_int_eq(store_view_open(st, "INBOX", false, &v), STORE_OK);
	uids[0] = a;
	ck_assert_int_eq(store_copy(v, uids, 1, "Archive", false, &uv, dest),
	    STORE_OK);
	ck_assert_uint_eq(thread(st, "Archive", dest[0]), ta);
	ck_assert_uint_eq(get(st, "Archive", dest[0]).email_id,
	    get(st, "INBOX", a).email_id);
	uids[0] = b;
	ck_assert_int_eq(store_copy(v, uids, 1, "Trash", true, &uv, dest),
	    STORE_OK);
	store_view_close(v);
	ck_assert_uint_eq(thread(st, "Trash", dest[0]), tb);
	/* and a copy of the copy, and RENAME of INBOX, which moves the rows */
	ck_assert_int_eq(store_view_open(st, "Archive", false, &v), STORE_OK);
	uids[0] = 1;
	ck_assert_int_eq(store_copy(v, uids, 1, "Drafts", false, &uv, dest),
	    STORE_OK);
	store_view_close(v);
	ck_assert_uint_eq(thread(st, "Drafts", dest[0]), ta);
	ck_assert_int_eq(store_mailbox_rename(st, "INBOX", "Old"), STORE_OK);
	ck_assert_uint_eq(thread(st, "Old", 1), ta);
	store_close(st);
}
END_TEST

/*
 * A message that links two threads joins the older one; nothing else
 * moves, and the ids of the younger thread stay in it (RFC 8474: a
 * THREADID never changes).
 */
START_TEST(test_never_renumbered)
{
	struct store *st = open_store();
	uint32_t a, a2, b, b2, both, after_a, after_b, after_both;
	uint64_t ta, tb, older;

	a = put(st, "INBOX", "<a@example.org>", NULL, NULL);
	a2 = put(st, "INBOX", "<a2@example.org>", "<a@example.org>", NULL);
	b = put(st, "INBOX", "<b@example.org>", NULL, NULL);
	b2 = put(st, "INBOX", "<b2@example.org>", "<b@example.org>", NULL);
	ta = thread(st, "INBOX", a);
	tb = thread(st, "INBOX", b);
	/* thread ids are handed out in order: a's is the older */
	ck_assert_uint_lt(ta, tb);
	older = ta;
	/* named second, a's thread still wins */
	both = put(st, "INBOX", "<both@example.org>",
	    "<b2@example.org> <a2@example.org>", NULL);
	ck_assert_uint_eq(thread(st, "INBOX", both), older);
	ck_assert_uint_eq(thread(st, "INBOX", a), ta);
	ck_assert_uint_eq(thread(st, "INBOX", a2), ta);
	ck_assert_uint_eq(thread(st, "INBOX", b), tb);
	ck_assert_uint_eq(thread(st, "INBOX", b2), tb);
	after_a = put(st, "INBOX", "<x@example.org>", "<a2@example.org>", NULL);
	after_b = put(st, "INBOX", "<y@example.org>", "<b2@example.org>", NULL);
	after_both = put(st, "INBOX", "<z@example.org>", "<both@example.org>",
	    NULL);
	ck_assert_uint_eq(thread(st, "INBOX", after_a), ta);
	ck_assert_uint_eq(thread(st, "INBOX", after_b), tb);
	ck_assert_uint_eq(thread(st, "INBOX", after_both), older);
	/* expunged messages still link their replies */
	{
		struct store_view *v;
		uint32_t uids[1] = { b2 };

		ck_assert_int_eq(store_view_open(st, "INBOX", false, &v), STORE_OK);
		ck_assert_int_eq(store_set_flags(v, uids, 1, STORE_FLAGS_ADD,
		    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
		ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
		store_view_close(v);
	}
	after_b = put(st, "INBOX", "<w@example.org>", "<b2@example.org>", NULL);
	ck_assert_uint_eq(thread(st, "INBOX", after_b), tb);
	/* and reopening changes nothing */
	store_close(st);
	st = open_store();
	ck_assert_uint_eq(thread(st, "INBOX", a), ta);
	ck_assert_uint_eq(thread(st, "INBOX", b), tb);
	ck_assert_uint_eq(thread(st, "INBOX", both), older);
	store_close(st);
}
END_TEST

/* The thread is the user's, not the mailbox's: a reply filed in Sent. */
START_TEST(test_across_mailboxes)
{
	struct store *st = open_store();
	uint32_t in, sent, again;
	uint64_t t;

	in = put(st, "INBOX", "<q@example.org>", NULL, NULL);
	sent = put(st, "Sent", "<r@example.net>", "<q@example.org>",
	    "<q@example.org>");
	again = put(st, "Archive", "<s@example.org>",
	    "<q@example.org> <r@example.net>", "<r@example.net>");
	t = thread(st, "INBOX", in);
	ck_assert_uint_eq(thread(st, "Sent", sent), t);
	ck_assert_uint_eq(thread(st, "Archive", again), t);
	store_close(st);
}
END_TEST

/* "<xxx...@example.org>", the id inside len bytes long. */
static void
long_id(char *out, size_t cap, size_t len)
{
	const char *host = "@example.org>";

	ck_assert_uint_lt(len + 2, cap);
	out[0] = '<';
	memset(out + 1, 'x', len - 12);
	memcpy(out + 1 + len - 12, host, strlen(host) + 1);
	ck_assert_uint_eq(strlen(out), len + 2);
}

/* Bounded work: the last THREAD_REFS_MAX (50) references, ids of at most
 * 512 bytes. */
START_TEST(test_bounds)
{
	struct store *st = open_store();
	char refs[200 * 24 + 1], longid[600];
	uint32_t many, first, last, lng, lng2;
	size_t off = 0;

	for (int i = 0; i < 200; i++)
		off += (size_t)snprintf(refs + off, sizeof(refs) - off,
		    "<r%03d@example.org> ", i);
	many = put(st, "INBOX", "<many@example.org>", refs, NULL);
	/* its own id and 50 references, the last ones */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM thread_msgids"), 51);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM thread_msgids WHERE "
	    "msgid = 'r150@example.org'"), 1);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM thread_msgids WHERE "
	    "msgid = 'r149@example.org'"), 0);
	first = put(st, "INBOX", "<f@example.org>", "<r000@example.org>", NULL);
	last = put(st, "INBOX", "<l@example.org>", "<r199@example.org>", NULL);
	ck_assert_uint_ne(thread(st, "INBOX", first), thread(st, "INBOX", many));
	ck_assert_uint_eq(thread(st, "INBOX", last), thread(st, "INBOX", many));
	/* 512 bytes is kept, 513 is not an id */
	long_id(longid, sizeof(longid), 512);
	lng = put(st, "INBOX", longid, NULL, NULL);
	lng2 = put(st, "INBOX", "<lr@example.org>", longid, NULL);
	ck_assert_uint_eq(thread(st, "INBOX", lng2), thread(st, "INBOX", lng));
	long_id(longid, sizeof(longid), 513);
	lng = put(st, "INBOX", longid, NULL, NULL);
	lng2 = put(st, "INBOX", "<lr2@example.org>", longid, NULL);
	ck_assert_uint_ne(thread(st, "INBOX", lng2), thread(st, "INBOX", lng));
	ck_assert_int_eq(sql_int("SELECT max(length(msgid)) FROM thread_msgids"),
	    512);
	store_close(st);
}
END_TEST

/* ---- messages from before schema step 6 ------------------------------------ */

/*
 * Rows whose thread was forgotten, as a store upgraded to step 6 has
 * them: the next open gives them threads by the same rule, in the order
 * of their internal dates, from the cached header fields or, where there
 * are none, the message file.
 */
START_TEST(test_backfill)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t a, b, c, u, dest, uv;
	uint64_t ta, tc, tu;

	/* appended a, c, b: c names only b, which is not there yet, and
	 * starts a thread that b's arrival does not merge */
	a = put_at(st, "INBOX", 1000, "<a@example.org>", NULL, NULL);
	c = put_at(st, "INBOX", 3000, "<c@example.org>", NULL, "<b@example.org>");
	b = put_at(st, "Sent", 2000, "<b@example.org>", "<a@example.org>", NULL);
	u = put_at(st, "INBOX", 1500, "<u@example.org>", NULL, NULL);
	ck_assert_uint_eq(thread(st, "Sent", b), thread(st, "INBOX", a));
	ck_assert_uint_ne(thread(st, "INBOX", c), thread(st, "INBOX", a));
	ck_assert_int_eq(store_view_open(st, "INBOX", false, &v), STORE_OK);
	ck_assert_int_eq(store_copy(v, &a, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	store_view_close(v);
	store_close(st);
	sql("UPDATE messages SET thread_id = NULL;"
	    "DELETE FROM thread_msgids; UPDATE meta SET last_thread_id = 0;"
	    /* c's fields are not cached: read from its file */
	    "DELETE FROM header_cache WHERE blob_id = (SELECT blob_id FROM "
	    "messages m JOIN mailboxes x ON x.id = m.mailbox_id "
	    "WHERE x.name = 'INBOX' AND m.uid = 2);");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM messages "
	    "WHERE thread_id IS NULL"), 5);
	st = open_store();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM messages "
	    "WHERE thread_id IS NULL"), 0);
	/* by date a, u, b, c: the chain is whole now */
	ta = thread(st, "INBOX", a);
	tc = thread(st, "INBOX", c);
	tu = thread(st, "INBOX", u);
	ck_assert_uint_ne(ta, 0);
	ck_assert_uint_eq(thread(st, "Sent", b), ta);
	ck_assert_uint_eq(tc, ta);
	ck_assert_uint_eq(thread(st, "Archive", dest), ta);
	ck_assert_uint_ne(tu, 0);
	ck_assert_uint_ne(tu, ta);
	/* new messages find the recorded ids, and new threads are new */
	ck_assert_uint_eq(thread(st, "INBOX",
	    put(st, "INBOX", "<n@example.org>", "<c@example.org>", NULL)), ta);
	tu = thread(st, "INBOX", put(st, "INBOX", "<m@example.org>", NULL, NULL));
	ck_assert_uint_ne(tu, ta);
	ck_assert_uint_ne(tu, thread(st, "INBOX", u));
	store_close(st);
}
END_TEST

/* A row of a blob whose other rows have a thread (a COPY by an older
 * Cairn) gets that one: one EMAILID, one THREADID. */
START_TEST(test_backfill_copy)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t a, dest, uv;
	uint64_t ta, last;

	a = put(st, "INBOX", "<a@example.org>", NULL, NULL);
	ta = thread(st, "INBOX", a);
	ck_assert_int_eq(store_view_open(st, "INBOX", false, &v), STORE_OK);
	ck_assert_int_eq(store_copy(v, &a, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	store_view_close(v);
	store_close(st);
	sql("UPDATE messages SET thread_id = NULL WHERE mailbox_id = "
	    "(SELECT id FROM mailboxes WHERE name = 'Archive')");
	last = (uint64_t)sql_int("SELECT last_thread_id FROM meta");
	st = open_store();
	ck_assert_uint_eq(thread(st, "Archive", dest), ta);
	ck_assert_uint_eq((uint64_t)sql_int("SELECT last_thread_id FROM meta"),
	    last);
	store_close(st);
}
END_TEST

/* A store of version 4 with messages: the upgrade runs step 6 and the
 * first open threads them; a row without header nor file gets its own. */
START_TEST(test_upgrade)
{
	struct store *st;
	uint64_t t1, t2, t3;

	old_store(4,
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 4, 9), (2, 'Sent', 8, 2, 1);"
	    "INSERT INTO blobs (id, refcount, size) VALUES (41, 1, 10), "
	    " (42, 1, 10), (43, 1, 10);"
	    "INSERT INTO mime_cache (blob_id, envelope, body, bodystructure) "
	    " VALUES (41, 'NIL', 'NIL', 'NIL'), (42, 'NIL', 'NIL', 'NIL'),"
	    " (43, 'NIL', 'NIL', 'NIL');"
	    "INSERT INTO header_cache VALUES "
	    " (41, 'Subject: x' || char(13, 10) || 'Message-ID: <p@h>' ||"
	    "  char(13, 10, 13, 10)),"
	    " (42, 'References: <p@h>' || char(13, 10) ||"
	    "  'Message-ID: <q@h>' || char(13, 10, 13, 10));"
	    "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, "
	    " internaldate, tz_minutes, size, blob_id, email_id) VALUES "
	    " (1, 1, 1, 0, 0, 0, 0, 10, 41, 41), (2, 1, 1, 0, 0, 0, 0, 10, 42, 42),"
	    " (1, 3, 1, 0, 0, 0, 0, 10, 43, 43);");

	st = open_store();
	ck_assert_int_eq(sql_int("PRAGMA user_version"), schema_newest());
	t1 = thread(st, "INBOX", 1);
	t2 = thread(st, "Sent", 1);
	t3 = thread(st, "INBOX", 3);
	ck_assert_uint_ne(t1, 0);
	ck_assert_uint_eq(t2, t1);
	ck_assert_uint_ne(t3, 0);
	ck_assert_uint_ne(t3, t1);
	store_close(st);
}
END_TEST

static Suite *
threadid_suite(void)
{
	Suite *s = suite_create("threadid");
	TCase *tc;

	tc = tcase_create("append");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_reply_joins_parent);
	tcase_add_test(tc, test_parent_after_child);
	tcase_add_test(tc, test_unrelated_distinct);
	tcase_add_test(tc, test_msgid_spellings);
	tcase_add_test(tc, test_copy_and_move_keep);
	tcase_add_test(tc, test_never_renumbered);
	tcase_add_test(tc, test_across_mailboxes);
	tcase_add_test(tc, test_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("backfill");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_backfill);
	tcase_add_test(tc, test_backfill_copy);
	tcase_add_test(tc, test_upgrade);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(threadid_suite());
}
