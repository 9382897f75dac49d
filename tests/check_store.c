/*
 * Unit tests for store/: the mail store against a temporary directory,
 * opened by descriptor as the master grants it.  A second store_open() of
 * the same directory stands for another process of the same user.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"
#include "store_fixture.h"


/* ---- fixtures and helpers ------------------------------------------------ */

/* Regular files under sub (recursively). */
static int
count_files_at(int parent, const char *sub)
{
	int fd = openat(parent, sub, O_RDONLY | O_DIRECTORY);
	struct dirent *e;
	DIR *d;
	int n = 0;

	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	while ((e = readdir(d)) != NULL) {
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(sb.st_mode))
			n += count_files_at(dirfd(d), e->d_name);
		else
			n++;
	}
	closedir(d);
	return n;
}

static int
count_files(const char *sub)
{
	return count_files_at(dfd, sub);
}

#define MSG_A "From: Alice <alice@example.org>\r\n" \
	"To: Bob <bob@example.org>\r\n" \
	"Subject: Hello\r\n" \
	"Date: Mon, 7 Feb 1994 21:52:25 -0800\r\n" \
	"Message-ID: <a1@example.org>\r\n" \
	"\r\n" \
	"Hello Bob.\r\n"
#define MSG_B "From: bob@example.org\r\nSubject: Re: Hello\r\n\r\nHi!\r\n"

static uint32_t
append_kw(struct store *st, const char *mailbox, const char *text,
    unsigned flags, const char *const *kw, size_t nkw)
{
	struct store_append *ap;
	uint32_t uidvalidity = 0, uid = 0;
	enum store_result r;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, text, strlen(text)), STORE_OK);
	r = store_append_commit(ap, mailbox, flags, kw, nkw, 760000000, -480,
	    &uidvalidity, &uid);
	ck_assert_msg(r == STORE_OK, "append: %d %s", r, store_error(st));
	ck_assert_uint_ne(uid, 0);
	ck_assert_uint_ne(uidvalidity, 0);
	return uid;
}

static uint32_t
append(struct store *st, const char *mailbox, const char *text, unsigned flags)
{
	return append_kw(st, mailbox, text, flags, NULL, 0);
}

static struct store_view *
view(struct store *st, const char *name, bool readonly)
{
	struct store_view *v = NULL;
	enum store_result r = store_view_open(st, name, readonly, &v);

	ck_assert_msg(r == STORE_OK, "view %s: %d %s", name, r, store_error(st));
	return v;
}

static struct store_mailbox
get_mb(struct store *st, const char *name)
{
	struct store_mailbox mb;

	ck_assert_msg(store_mailbox_get(st, name, &mb) == STORE_OK, "%s", name);
	return mb;
}

static bool
mb_exists(struct store *st, const char *name)
{
	struct store_mailbox mb;

	return store_mailbox_get(st, name, &mb) == STORE_OK;
}

/* The events a view reports, as text: "E3:7" expunged msn 3 uid 7, "X5"
 * exists 5, "F2:9" flags of msn 2 (uid 9). */
struct events {
	char log[1024];
};

static void CAIRN_PRINTF(2, 3)
ev_add(struct events *e, const char *fmt, ...)
{
	size_t len = strlen(e->log);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->log + len, sizeof(e->log) - len, fmt, ap);
	va_end(ap);
}

static void
on_expunged(void *arg, const uint32_t *msn, const uint32_t *uid, size_t n)
{
	for (size_t i = 0; i < n; i++)
		ev_add(arg, "E%u:%u ", msn[i], uid[i]);
}

static void
on_exists(void *arg, uint32_t exists)
{
	ev_add(arg, "X%u ", exists);
}

static void
on_flags(void *arg, uint32_t msn, const struct store_message *m)
{
	ev_add(arg, "F%u:%u ", msn, m->uid);
}

static void
on_keywords(void *arg)
{
	ev_add(arg, "K ");
}

static const struct store_changes changes = { on_expunged, on_exists, on_flags,
	on_keywords };

static void
set_flags(struct store_view *v, uint32_t uid, enum store_flag_op op,
    unsigned flags)
{
	enum store_result r = store_set_flags(v, &uid, 1, op, flags, NULL, 0, 0,
	    NULL, NULL, NULL);

	ck_assert_int_eq(r, STORE_OK);
}

/* ---- opening, schema ---------------------------------------------------- */

struct list_acc {
	char names[1024];
	unsigned uses[16];
	bool subscribed[16];
	size_t n;
};

static int
list_cb(const struct store_mailbox *mb, void *arg)
{
	struct list_acc *a = arg;

	strcat(a->names, mb->name);
	strcat(a->names, " ");
	if (a->n < 16) {
		a->uses[a->n] = mb->special_use;
		a->subscribed[a->n] = mb->subscribed;
	}
	a->n++;
	return 0;
}

START_TEST(test_open_defaults)
{
	struct store *st = open_store();
	struct list_acc a;
	struct stat sb;

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_mailbox_list(st, list_cb, &a), STORE_OK);
	/* Name order: bytes, so upper case first. */
	ck_assert_str_eq(a.names, "Archive Drafts INBOX Junk Sent Trash ");
	ck_assert_uint_eq(a.uses[0], STORE_USE_ARCHIVE);
	ck_assert_uint_eq(a.uses[1], STORE_USE_DRAFTS);
	ck_assert_uint_eq(a.uses[2], 0);
	ck_assert_uint_eq(a.uses[3], STORE_USE_JUNK);
	ck_assert_uint_eq(a.uses[4], STORE_USE_SENT);
	ck_assert_uint_eq(a.uses[5], STORE_USE_TRASH);
	for (size_t i = 0; i < 6; i++)
		ck_assert(a.subscribed[i]);
	ck_assert_int_eq(fstatat(dfd, "blobs", &sb, 0), 0);
	ck_assert(S_ISDIR(sb.st_mode));
	ck_assert_int_eq(fstatat(dfd, "tmp", &sb, 0), 0);
	ck_assert_int_eq(fstatat(dfd, "index.db", &sb, 0), 0);
	ck_assert_uint_eq(sb.st_mode & 0777, 0600);
	store_close(st);
}
END_TEST

START_TEST(test_reopen_keeps_everything)
{
	struct store *st = open_store();
	struct store_mailbox before, after;
	struct store_view *v;
	struct list_acc a;
	const char *data;
	size_t len;
	uint32_t uid;

	ck_assert_int_eq(store_mailbox_create(st, "Lists/cairn", 0), STORE_OK);
	uid = append(st, "Lists/cairn", MSG_A, STORE_FLAG_SEEN);
	before = get_mb(st, "Lists/cairn");
	store_close(st);

	st = open_store();
	after = get_mb(st, "Lists/cairn");
	ck_assert_uint_eq(after.uidvalidity, before.uidvalidity);
	ck_assert_uint_eq(after.uidnext, before.uidnext);
	ck_assert_uint_eq(after.highestmodseq, before.highestmodseq);
	memset(&a, 0, sizeof(a));
	store_mailbox_list(st, list_cb, &a);
	ck_assert_uint_eq(a.n, 8);     /* the defaults were not made again */
	v = view(st, "Lists/cairn", true);
	ck_assert_uint_eq(store_view_exists(v), 1);
	ck_assert_int_eq(store_message_map(v, uid, &data, &len), STORE_OK);
	ck_assert_uint_eq(len, strlen(MSG_A));
	ck_assert_mem_eq(data, MSG_A, len);
	store_message_unmap(data, len);
	store_view_close(v);
	store_close(st);
}
END_TEST

START_TEST(test_schema_from_empty_file)
{
	int fd = openat(dfd, "index.db", O_CREAT | O_WRONLY | O_EXCL, 0600);
	struct store *st;

	ck_assert_int_ge(fd, 0);
	close(fd);
	st = open_store();
	ck_assert(mb_exists(st, "INBOX"));
	ck_assert(mb_exists(st, "Trash"));
	store_close(st);
}
END_TEST

/* SQLite file format: the user version is 4 big-endian bytes at offset 60. */
static void
poke_user_version(uint32_t version)
{
	unsigned char b[4] = { version >> 24, version >> 16, version >> 8, version };
	int fd = openat(dfd, "index.db", O_WRONLY);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, b, 4, 60), 4);
	close(fd);
}

START_TEST(test_schema_future_version_refused)
{
	struct store *st = open_store();
	char err[512];

	store_close(st);
	/* the close left the commits in the WAL (test_close_keeps_wal), page
	 * 1 too: into index.db with them, where the poke goes */
	sql("PRAGMA wal_checkpoint(TRUNCATE)");
	poke_user_version(99);
	st = NULL;
	ck_assert_int_eq(store_open(dfd, &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "newer") != NULL, "%s", err);
	/* not damage: the answer stays SERVERBUG, not CORRUPTION */
	ck_assert_int_eq(store_error_cause(), STORE_CAUSE_OTHER);
	/* Refused, not changed: still version 99. */
	ck_assert_int_eq(store_open(dfd, &st, err, sizeof(err)), STORE_ERROR);
}
END_TEST

START_TEST(test_not_a_store_refused)
{
	int fd = openat(dfd, "index.db", O_CREAT | O_WRONLY, 0600);
	struct store *st = NULL;
	char err[512];

	ck_assert_int_eq(write(fd, "not a database, not at all, no no no", 36), 36);
	close(fd);
	ck_assert_int_eq(store_open(dfd, &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_ptr_null(st);
	/* imapd answers [CORRUPTION] (RFC 5530) and says so in the log */
	ck_assert_int_eq(store_error_cause(), STORE_CAUSE_CORRUPT);
}
END_TEST

/* Garbage over index.db's pages past the header: damage, refused. */
START_TEST(test_damaged_index_refused)
{
	struct store *st = open_store();
	char junk[4096], err[512];
	int fd;

	store_close(st);
	sql("PRAGMA wal_checkpoint(TRUNCATE)");
	memset(junk, 0xa5, sizeof(junk));
	fd = openat(dfd, "index.db", O_WRONLY);
	ck_assert_int_ge(fd, 0);
	for (off_t off = 4096; off < 6 * 4096; off += 4096)
		ck_assert_int_eq(pwrite(fd, junk, sizeof(junk), off), sizeof(junk));
	close(fd);
	st = NULL;
	ck_assert_int_eq(store_open(dfd, &st, err, sizeof(err)), STORE_ERROR);
	ck_assert_ptr_null(st);
	ck_assert_msg(strstr(err, "malformed") != NULL, "%s", err);
	ck_assert_int_eq(store_error_cause(), STORE_CAUSE_CORRUPT);
}
END_TEST

/*
 * A close does not checkpoint, as SQLite's last connection would (index.c:
 * the syncs it cost): the commits stay in index.db-wal, beside the -shm,
 * and the next open reads them there, as after a crash.
 */
START_TEST(test_close_keeps_wal)
{
	struct store *st = open_store();
	struct stat sb;

	ck_assert_int_eq(store_mailbox_create(st, "Kept", 0), STORE_OK);
	store_close(st);
	ck_assert_int_eq(fstatat(dfd, "index.db-wal", &sb, 0), 0);
	ck_assert_int_gt(sb.st_size, 0);
	ck_assert_int_eq(fstatat(dfd, "index.db-shm", &sb, 0), 0);
	st = open_store();
	ck_assert(mb_exists(st, "Kept"));
	store_close(st);
	/* and so does an SQLite that is not Cairn's */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM mailboxes "
	    "WHERE name = 'Kept'"), 1);
}
END_TEST

/* Bytes of index.db-wal, -1 when there is none. */
static off_t
wal_size(void)
{
	struct stat sb;

	return fstatat(dfd, "index.db-wal", &sb, 0) == 0 ? sb.st_size : -1;
}

/* A WAL past 1 MiB is checkpointed and emptied by the close (index.c). */
START_TEST(test_close_empties_large_wal)
{
	struct store *st = open_store();

	/* about 2 MB of WAL from another connection, the store open */
	sql("CREATE TABLE ballast (x); "
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 500) INSERT INTO ballast SELECT randomblob(4000) FROM n; "
	    "DROP TABLE ballast");
	ck_assert_int_gt(wal_size(), 1 << 20);
	store_close(st);
	ck_assert_int_eq(wal_size(), 0);
	st = open_store();
	ck_assert(mb_exists(st, "INBOX"));
	store_close(st);
}
END_TEST

/*
 * A store opened alone for one commit, again and again, as deliveries and
 * logins open it: the WAL stays small.  Each open reads the WAL anew and
 * forgets what was checkpointed, so without the close's checkpoint the
 * WAL grew by every commit, for ever (index.c).  (Not APPEND: the close
 * after it writes the full-text queue, a second commit.)
 */
START_TEST(test_open_alone_wal_bounded)
{
	off_t most = 0;

	for (int i = 0; i < 150; i++) {
		struct store *st = open_store();
		char name[32];

		snprintf(name, sizeof(name), "box%d", i);
		ck_assert_int_eq(store_mailbox_create(st, name, 0), STORE_OK);
		store_close(st);
		if (wal_size() > most)
			most = wal_size();
	}
	ck_assert_int_gt(most, 0);
	ck_assert_int_lt(most, (1 << 20) + (256 << 10));
}
END_TEST

/*
 * A WAL that a large transaction grew while the store stays open is cut
 * back to 4 MiB (journal_size_limit) by the first commit after a
 * checkpoint of all of it.
 */
START_TEST(test_wal_cut_back)
{
	struct store *st = open_store();
	struct stat sb;

	/* about 10 MB of WAL from another connection, the store open (so
	 * that its close checkpoints nothing) */
	sql("CREATE TABLE ballast (x); "
	    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
	    "WHERE i < 2500) INSERT INTO ballast SELECT randomblob(4000) FROM n; "
	    "DROP TABLE ballast");
	ck_assert_int_eq(fstatat(dfd, "index.db-wal", &sb, 0), 0);
	ck_assert_int_gt(sb.st_size, 8 << 20);
	sql("PRAGMA wal_checkpoint(PASSIVE)");
	ck_assert_int_eq(store_mailbox_create(st, "After", 0), STORE_OK);
	ck_assert_int_eq(fstatat(dfd, "index.db-wal", &sb, 0), 0);
	ck_assert_int_le(sb.st_size, 4 << 20);
	ck_assert_int_gt(sb.st_size, 0);
	store_close(st);
}
END_TEST

START_TEST(test_one_directory_per_process)
{
	struct store *st = open_store(), *other = NULL;
	char odir[] = "/tmp/check_store_other.XXXXXX", err[512];
	int ofd;

	ck_assert_ptr_nonnull(mkdtemp(odir));
	ofd = open(odir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(store_open(ofd, &other, err, sizeof(err)), STORE_ERROR);
	store_close(st);
	ck_assert_int_eq(store_open(ofd, &other, err, sizeof(err)), STORE_OK);
	store_close(other);
	close(ofd);
	rm_tree(AT_FDCWD, odir);
}
END_TEST

/* ---- mailbox names ---------------------------------------------------- */

static const struct {
	const char *name;
	bool ok;
} name_cases[] = {
	{ "INBOX", true },
	{ "a/b/c", true },
	{ "Entwürfe", true },
	{ "日本語/メール", true },
	{ "with space", true },
	{ "", false },
	{ "/a", false },
	{ "a/", false },
	{ "a//b", false },
	{ "a\tb", false },
	{ "a\x7f", false },
	{ "a\xc2\x85", false },          /* U+0085, a C1 control */
	{ "\xc3\x28", false },           /* not UTF-8 */
	{ "\xc0\xaf", false },           /* overlong '/' */
	{ "\xed\xa0\x80", false },       /* a surrogate */
	{ "\xf4\x90\x80\x80", false },   /* above U+10FFFF */
};

START_TEST(test_mailbox_name_valid)
{
	const char *why = NULL;
	bool ok = store_mailbox_name_valid(name_cases[_i].name, &why);

	ck_assert_msg(ok == name_cases[_i].ok, "'%s'", name_cases[_i].name);
	if (!ok)
		ck_assert_ptr_nonnull(why);
}
END_TEST

START_TEST(test_mailbox_name_length)
{
	char name[STORE_MAILBOX_NAME_MAX + 2];

	memset(name, 'x', sizeof(name));
	name[STORE_MAILBOX_NAME_MAX] = '\0';
	ck_assert(store_mailbox_name_valid(name, NULL));
	name[STORE_MAILBOX_NAME_MAX] = 'x';
	name[STORE_MAILBOX_NAME_MAX + 1] = '\0';
	ck_assert(!store_mailbox_name_valid(name, NULL));
}
END_TEST

/* ---- create, delete, rename --------------------------------------------- */

START_TEST(test_create)
{
	struct store *st = open_store();
	struct store_mailbox mb;

	ck_assert_int_eq(store_mailbox_create(st, "a/b/c", 0), STORE_OK);
	ck_assert(mb_exists(st, "a"));
	ck_assert(mb_exists(st, "a/b"));
	mb = get_mb(st, "a");
	ck_assert(mb.has_children);
	ck_assert(!mb.noselect);
	mb = get_mb(st, "a/b/c");
	ck_assert(!mb.has_children);
	ck_assert_uint_eq(mb.uidnext, 1);
	ck_assert_int_eq(store_mailbox_create(st, "a/b", 0), STORE_EXISTS);
	ck_assert_int_eq(store_mailbox_create(st, "inbox", 0), STORE_EXISTS);
	ck_assert_int_eq(store_mailbox_create(st, "Inbox/Lists", 0), STORE_OK);
	ck_assert(mb_exists(st, "INBOX/Lists"));
	ck_assert_str_eq(get_mb(st, "inbox/Lists").name, "INBOX/Lists");
	ck_assert(!mb_exists(st, "inbox/lists"));
	ck_assert_int_eq(store_mailbox_create(st, "a//b", 0), STORE_INVALID);
	ck_assert_int_eq(store_mailbox_create(st, "x", 1u << 20), STORE_INVALID);
	ck_assert_int_eq(store_mailbox_create(st, "Spam", STORE_USE_JUNK), STORE_OK);
	ck_assert_uint_eq(get_mb(st, "Spam").special_use, STORE_USE_JUNK);
	/* Names are case-sensitive, except INBOX. */
	ck_assert_int_eq(store_mailbox_create(st, "spam", 0), STORE_OK);
	ck_assert_int_eq(store_mailbox_get(st, "nope", &mb), STORE_NOT_FOUND);
	store_close(st);
}
END_TEST

START_TEST(test_uidvalidity)
{
	struct store *st = open_store();
	uint32_t v[5], again;
	char name[16];

	for (int i = 0; i < 5; i++) {
		snprintf(name, sizeof(name), "box%d", i);
		ck_assert_int_eq(store_mailbox_create(st, name, 0), STORE_OK);
		v[i] = get_mb(st, name).uidvalidity;
		ck_assert_uint_ge(v[i], (uint32_t)time(NULL) - 5);
		if (i > 0)
			ck_assert_uint_gt(v[i], v[i - 1]);
	}
	/* Deleted and created again: a new one, even within the second. */
	ck_assert_int_eq(store_mailbox_delete(st, "box4"), STORE_OK);
	ck_assert_int_eq(store_mailbox_create(st, "box4", 0), STORE_OK);
	again = get_mb(st, "box4").uidvalidity;
	ck_assert_uint_gt(again, v[4]);
	/* Renamed: kept. */
	ck_assert_int_eq(store_mailbox_rename(st, "box0", "renamed"), STORE_OK);
	ck_assert_uint_eq(get_mb(st, "renamed").uidvalidity, v[0]);
	store_close(st);
}
END_TEST

START_TEST(test_delete)
{
	struct store *st = open_store();
	struct store_status s;
	struct store_mailbox mb;
	uint32_t old;

	ck_assert_int_eq(store_mailbox_delete(st, "INBOX"), STORE_INVALID);
	ck_assert_int_eq(store_mailbox_delete(st, "inbox"), STORE_INVALID);
	ck_assert_int_eq(store_mailbox_delete(st, "nope"), STORE_NOT_FOUND);
	ck_assert_int_eq(store_mailbox_create(st, "leaf", 0), STORE_OK);
	append(st, "leaf", MSG_A, 0);
	ck_assert_int_eq(count_files("blobs"), 1);
	ck_assert_int_eq(store_mailbox_delete(st, "leaf"), STORE_OK);
	ck_assert(!mb_exists(st, "leaf"));
	ck_assert_int_eq(count_files("blobs"), 0);

	/* With children: \Noselect, messages gone. */
	ck_assert_int_eq(store_mailbox_create(st, "a/b", 0), STORE_OK);
	append(st, "a", MSG_A, 0);
	append(st, "a", MSG_B, 0);
	old = get_mb(st, "a").uidvalidity;
	ck_assert_int_eq(store_mailbox_delete(st, "a"), STORE_OK);
	mb = get_mb(st, "a");
	ck_assert(mb.noselect);
	ck_assert(mb.has_children);
	ck_assert_int_eq(count_files("blobs"), 0);
	ck_assert_int_eq(store_mailbox_status(st, "a", &s), STORE_NOT_FOUND);
	ck_assert_int_eq(store_view_open(st, "a", false, &(struct store_view *){ NULL }),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_mailbox_delete(st, "a"), STORE_HAS_CHILDREN);
	/* Appending to a \Noselect mailbox fails. */
	{
		struct store_append *ap;
		uint32_t uv, uid;

		ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
		ck_assert_int_eq(store_append_write(ap, "x\r\n", 3), STORE_OK);
		ck_assert_int_eq(store_append_commit(ap, "a", 0, NULL, 0, 0, 0, &uv,
		    &uid), STORE_NOT_FOUND);
	}
	/* Created again: selectable, new UIDVALIDITY. */
	ck_assert_int_eq(store_mailbox_create(st, "a", 0), STORE_OK);
	mb = get_mb(st, "a");
	ck_assert(!mb.noselect);
	ck_assert_uint_gt(mb.uidvalidity, old);
	ck_assert_uint_eq(mb.uidnext, 3);  /* UIDs are never handed out twice */
	ck_assert_int_eq(store_mailbox_delete(st, "a"), STORE_OK);
	ck_assert_int_eq(store_mailbox_delete(st, "a/b"), STORE_OK);
	ck_assert_int_eq(store_mailbox_delete(st, "a"), STORE_OK);
	ck_assert(!mb_exists(st, "a"));
	ck_assert_int_eq(count_files("tmp"), 0);
	store_close(st);
}
END_TEST

START_TEST(test_rename)
{
	struct store *st = open_store();
	struct store_mailbox mb;
	uint32_t uid;

	ck_assert_int_eq(store_mailbox_create(st, "a/b/c", 0), STORE_OK);
	uid = append(st, "a/b", MSG_A, 0);
	ck_assert_int_eq(store_mailbox_rename(st, "a", "x"), STORE_OK);
	ck_assert(!mb_exists(st, "a"));
	ck_assert(!mb_exists(st, "a/b"));
	ck_assert(mb_exists(st, "x"));
	ck_assert(mb_exists(st, "x/b/c"));
	mb = get_mb(st, "x/b");
	ck_assert_uint_eq(mb.uidnext, uid + 1);

	ck_assert_int_eq(store_mailbox_rename(st, "nope", "y"), STORE_NOT_FOUND);
	ck_assert_int_eq(store_mailbox_rename(st, "x", "Trash"), STORE_EXISTS);
	ck_assert_int_eq(store_mailbox_rename(st, "x", "x"), STORE_EXISTS);
	ck_assert_int_eq(store_mailbox_rename(st, "x", "x/b/d"), STORE_INVALID);
	ck_assert_int_eq(store_mailbox_rename(st, "Trash", "inbox"), STORE_EXISTS);
	/* Missing superiors of the new name are created. */
	ck_assert_int_eq(store_mailbox_rename(st, "x/b/c", "p/q/r"), STORE_OK);
	ck_assert(mb_exists(st, "p"));
	ck_assert(mb_exists(st, "p/q"));
	ck_assert(!mb_exists(st, "x/b/c"));
	/* A name and its prefix in bytes are not parent and child. */
	ck_assert_int_eq(store_mailbox_create(st, "ab", 0), STORE_OK);
	ck_assert_int_eq(store_mailbox_create(st, "a", 0), STORE_OK);
	ck_assert_int_eq(store_mailbox_rename(st, "a", "z"), STORE_OK);
	ck_assert(mb_exists(st, "ab"));
	/* UTF-8: renaming counts characters, not bytes. */
	ck_assert_int_eq(store_mailbox_create(st, "Ärger/Öl", 0), STORE_OK);
	ck_assert_int_eq(store_mailbox_rename(st, "Ärger", "Größe"), STORE_OK);
	ck_assert(mb_exists(st, "Größe/Öl"));
	store_close(st);
}
END_TEST

START_TEST(test_rename_inbox)
{
	struct store *st = open_store();
	struct store_mailbox inbox, old;
	struct store_view *v;
	struct events e;
	uint32_t u1, u2, u3;
	const char *data;
	size_t len;

	u1 = append(st, "INBOX", MSG_A, STORE_FLAG_SEEN);
	u2 = append(st, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_mailbox_create(st, "INBOX/child", 0), STORE_OK);
	v = view(st, "INBOX", false);
	inbox = get_mb(st, "INBOX");
	ck_assert_int_eq(store_mailbox_rename(st, "inbox", "Old/Inbox"), STORE_OK);

	old = get_mb(st, "Old/Inbox");
	ck_assert_uint_ne(old.uidvalidity, inbox.uidvalidity);
	ck_assert_uint_eq(old.uidnext, inbox.uidnext);
	ck_assert(mb_exists(st, "INBOX/child"));   /* children stay */
	ck_assert_uint_eq(get_mb(st, "INBOX").uidvalidity, inbox.uidvalidity);

	/* The session that had INBOX selected sees both go. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(v, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E2:2 E1:1 ");
	ck_assert_uint_eq(store_view_exists(v), 0);
	store_view_close(v);

	v = view(st, "Old/Inbox", false);
	ck_assert_uint_eq(store_view_exists(v), 2);
	ck_assert_uint_eq(store_view_uid(v, 1), u1);
	ck_assert_uint_eq(store_view_uid(v, 2), u2);
	ck_assert_int_eq(store_message_map(v, u2, &data, &len), STORE_OK);
	ck_assert_mem_eq(data, MSG_B, len);
	store_message_unmap(data, len);
	store_view_close(v);

	/* INBOX is empty and keeps counting. */
	u3 = append(st, "INBOX", MSG_A, 0);
	ck_assert_uint_eq(u3, u2 + 1);
	ck_assert_int_eq(count_files("blobs"), 3);
	store_close(st);
}
END_TEST

/* ---- append and read ---------------------------------------------------- */

START_TEST(test_append_read_back)
{
	struct store *st = open_store();
	enum { BIG = 3 * 1024 * 1024 + 17 };
	char *big = malloc(BIG);
	struct store_append *ap;
	struct store_message m;
	struct store_view *v;
	const char *data, *kw[] = { "$Label1", "Work" };
	uint32_t uv, u1, u2, ubig;
	size_t len, off;

	/* A body of numbered lines, so any misplaced chunk shows. */
	off = (size_t)snprintf(big, BIG, "Subject: big\r\n\r\n");
	for (unsigned line = 0; off < BIG; line++) {
		char l[32];
		int n = snprintf(l, sizeof(l), "%08u abcdefghijklmnop\r\n", line);

		for (int i = 0; i < n && off < BIG; i++)
			big[off++] = l[i];
	}
	u1 = append_kw(st, "INBOX", MSG_A, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED,
	    kw, 2);
	u2 = append(st, "INBOX", MSG_B, 0);
	ck_assert_uint_eq(u2, u1 + 1);

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	for (off = 0; off < BIG; off += 65536)
		ck_assert_int_eq(store_append_write(ap, big + off,
		    BIG - off < 65536 ? BIG - off : 65536), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "inbox", STORE_FLAG_DRAFT, NULL, 0,
	    1700000000, 60, &uv, &ubig), STORE_OK);
	ck_assert_uint_eq(uv, get_mb(st, "INBOX").uidvalidity);
	ck_assert_uint_eq(ubig, u2 + 1);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("blobs"), 3);

	v = view(st, "INBOX", true);
	ck_assert_uint_eq(store_view_exists(v), 3);
	ck_assert_int_eq(store_message_map(v, u1, &data, &len), STORE_OK);
	ck_assert_uint_eq(len, strlen(MSG_A));
	ck_assert_mem_eq(data, MSG_A, len);
	store_message_unmap(data, len);
	ck_assert_int_eq(store_message_map(v, ubig, &data, &len), STORE_OK);
	ck_assert_uint_eq(len, BIG);
	ck_assert(memcmp(data, big, BIG) == 0);
	store_message_unmap(data, len);

	ck_assert_int_eq(store_message_get(v, u1, &m), STORE_OK);
	ck_assert_uint_eq(m.uid, u1);
	ck_assert_uint_eq(m.flags, STORE_FLAG_SEEN | STORE_FLAG_FLAGGED);
	ck_assert_uint_eq(m.n_keywords, 2);
	ck_assert_str_eq(m.keywords[0], "$Label1");
	ck_assert_str_eq(m.keywords[1], "Work");
	ck_assert_int_eq(m.internaldate, 760000000);
	ck_assert_int_eq(m.tz_minutes, -480);
	ck_assert_uint_eq(m.size, strlen(MSG_A));
	ck_assert_uint_ne(m.email_id, 0);
	ck_assert_uint_gt(m.modseq, 1);
	ck_assert_int_eq(store_message_get(v, ubig, &m), STORE_OK);
	ck_assert_uint_eq(m.size, BIG);
	ck_assert_uint_eq(m.flags, STORE_FLAG_DRAFT);
	ck_assert_int_eq(m.tz_minutes, 60);
	ck_assert_int_eq(store_message_get(v, 999, &m), STORE_NOT_FOUND);
	store_view_close(v);
	free(big);
	store_close(st);
}
END_TEST

START_TEST(test_append_refused)
{
	struct store *st = open_store();
	struct store_append *ap;
	const char *bad[] = { "ok", "not ok" }, *slash[] = { "\\Seen" };
	uint32_t uv, uid;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	store_append_write(ap, MSG_A, strlen(MSG_A));
	ck_assert_int_eq(store_append_commit(ap, "nope", 0, NULL, 0, 0, 0, &uv, &uid),
	    STORE_NOT_FOUND);
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	store_append_write(ap, MSG_A, strlen(MSG_A));
	ck_assert_int_eq(store_append_commit(ap, "INBOX", 0, bad, 2, 0, 0, &uv, &uid),
	    STORE_INVALID);
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "INBOX", 0, slash, 1, 0, 0, &uv,
	    &uid), STORE_INVALID);
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "INBOX", 1u << 9, NULL, 0, 0, 0,
	    &uv, &uid), STORE_INVALID);
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "INBOX", 0, NULL, 0, 0, 100 * 60,
	    &uv, &uid), STORE_INVALID);
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "a//b", 0, NULL, 0, 0, 0, &uv, &uid),
	    STORE_INVALID);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("blobs"), 0);
	ck_assert_uint_eq(get_mb(st, "INBOX").uidnext, 1);
	store_close(st);
}
END_TEST

/* MULTIAPPEND's commit: UIDs in order; a failure at the third message,
 * inside the transaction (past the keyword limit), leaves none of them. */
START_TEST(test_append_commit_many)
{
	struct store *st = open_store();
	struct store_append *ap[3];
	struct store_append_msg m[3];
	char names[70][8];
	const char *kw[70];
	uint32_t uv = 0, uids[3];

	for (int i = 0; i < 70; i++) {
		snprintf(names[i], sizeof(names[i]), "k%d", i);
		kw[i] = names[i];
	}
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 3; i++) {
			ck_assert_int_eq(store_append_begin(st, &ap[i]), STORE_OK);
			ck_assert_int_eq(store_append_write(ap[i], MSG_B, strlen(MSG_B)),
			    STORE_OK);
			/* round 0: 30 + 30 + 10 keywords, past STORE_KEYWORDS_MAX */
			m[i] = (struct store_append_msg){ .mailbox = "INBOX",
			    .keywords = round == 0 ? kw + 30 * i : NULL,
			    .n_keywords = round == 0 ? (i < 2 ? 30 : 10) : 0 };
		}
		if (round == 0) {
			ck_assert_int_ne(store_append_commit_many(ap, m, 3, &uv, uids),
			    STORE_OK);
			ck_assert_uint_eq(get_mb(st, "INBOX").uidnext, 1);
			ck_assert_int_eq(count_files("blobs"), 0);
		} else {
			ck_assert_int_eq(store_append_commit_many(ap, m, 3, &uv, uids),
			    STORE_OK);
			ck_assert_uint_eq(uids[0], 1);
			ck_assert_uint_eq(uids[1], 2);
			ck_assert_uint_eq(uids[2], 3);
			ck_assert_uint_ne(uv, 0);
			ck_assert_uint_eq(get_mb(st, "INBOX").uidnext, 4);
			ck_assert_int_eq(count_files("blobs"), 3);
		}
		ck_assert_int_eq(count_files("tmp"), 0);
	}
	store_close(st);
}
END_TEST

START_TEST(test_append_abort)
{
	struct store *st = open_store();
	struct store_append *ap;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(count_files("tmp"), 1);
	ck_assert_int_eq(store_append_write(ap, MSG_A, strlen(MSG_A)), STORE_OK);
	store_append_abort(ap);
	store_append_abort(NULL);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_int_eq(count_files("blobs"), 0);
	store_close(st);
}
END_TEST

START_TEST(test_mime_cached)
{
	struct store *st = open_store();
	struct buf env = BUF_INIT, body = BUF_INIT, bs = BUF_INIT;
	struct store_view *v;
	uint32_t uid = append(st, "INBOX", MSG_A, 0);

	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_message_envelope(v, uid, &env), STORE_OK);
	ck_assert_msg(env.len > 0 && env.data[0] == '(', "%s", env.data);
	ck_assert_msg(strstr(env.data, "\"Hello\"") != NULL, "%s", env.data);
	ck_assert_msg(strstr(env.data, "\"alice\" \"example.org\"") != NULL, "%s",
	    env.data);
	ck_assert_int_eq(store_message_bodystructure(v, uid, false, &body), STORE_OK);
	ck_assert_int_eq(store_message_bodystructure(v, uid, true, &bs), STORE_OK);
	ck_assert_msg(strstr(body.data, "\"TEXT\" \"PLAIN\"") != NULL ||
	    strstr(body.data, "\"text\" \"plain\"") != NULL, "%s", body.data);
	ck_assert_uint_ge(bs.len, body.len);
	ck_assert_int_eq(store_message_envelope(v, 999, &env), STORE_NOT_FOUND);
	store_view_close(v);
	buf_free(&env);
	buf_free(&body);
	buf_free(&bs);
	store_close(st);
}
END_TEST

/* ---- flags ---------------------------------------------------------------- */

struct flag_acc {
	unsigned changed, failed;
	uint32_t failed_uid;
	uint64_t last_modseq;
	char kw[1024];
};

static void
flag_changed(void *arg, const struct store_message *m)
{
	struct flag_acc *a = arg;

	a->changed++;
	a->last_modseq = m->modseq;
	a->kw[0] = '\0';
	for (size_t i = 0; i < m->n_keywords; i++) {
		strcat(a->kw, m->keywords[i]);
		strcat(a->kw, " ");
	}
}

static void
flag_failed(void *arg, uint32_t uid)
{
	struct flag_acc *a = arg;

	a->failed++;
	a->failed_uid = uid;
}

static enum store_result
store_kw(struct store_view *v, uint32_t uid, enum store_flag_op op,
    unsigned flags, const char *const *kw, size_t n, uint64_t since,
    struct flag_acc *a)
{
	memset(a, 0, sizeof(*a));
	return store_set_flags(v, &uid, 1, op, flags, kw, n, since, flag_changed,
	    flag_failed, a);
}

START_TEST(test_flags)
{
	struct store *st = open_store();
	const char *k1[] = { "$Label1", "Work" }, *k2[] = { "$label1" },
	    *k3[] = { "work", "Later" }, *bad[] = { "a]" };
	struct store_message m;
	struct store_view *v;
	struct flag_acc a;
	uint64_t ms, hms;
	uint32_t uid;

	uid = append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	ms = m.modseq;
	hms = get_mb(st, "INBOX").highestmodseq;
	ck_assert_uint_eq(ms, hms);

	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_REPLACE, STORE_FLAG_SEEN, k1,
	    2, 0, &a), STORE_OK);
	ck_assert_uint_eq(a.changed, 1);
	ck_assert_str_eq(a.kw, "$Label1 Work ");
	ck_assert_uint_gt(a.last_modseq, ms);
	ms = a.last_modseq;
	ck_assert_uint_eq(get_mb(st, "INBOX").highestmodseq, ms);

	/* The same keyword in another case: the first spelling stays. */
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_REMOVE, 0, k2, 1, 0, &a),
	    STORE_OK);
	ck_assert_str_eq(a.kw, "Work ");
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, STORE_FLAG_ANSWERED, k2,
	    1, 0, &a), STORE_OK);
	ck_assert_str_eq(a.kw, "$Label1 Work ");
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, 0, k3, 2, 0, &a),
	    STORE_OK);
	ck_assert_str_eq(a.kw, "$Label1 Work Later ");
	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	ck_assert_uint_eq(m.flags, STORE_FLAG_SEEN | STORE_FLAG_ANSWERED);
	ck_assert_uint_gt(m.modseq, ms);
	ms = m.modseq;

	/* No change, no new modseq, no report. */
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0,
	    0, &a), STORE_OK);
	ck_assert_uint_eq(a.changed, 0);
	ck_assert_uint_eq(get_mb(st, "INBOX").highestmodseq, ms);

	/* UNCHANGEDSINCE (RFC 7162). */
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL,
	    0, ms - 1, &a), STORE_CONFLICT);
	ck_assert_uint_eq(a.failed, 1);
	ck_assert_uint_eq(a.failed_uid, uid);
	ck_assert_uint_eq(a.changed, 0);
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED, NULL,
	    0, ms, &a), STORE_OK);
	ck_assert_uint_eq(a.changed, 1);

	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, 0, bad, 1, 0, &a),
	    STORE_INVALID);
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, 1u << 7, NULL, 0, 0, &a),
	    STORE_INVALID);
	/* An expunged (or unknown) uid is skipped. */
	ck_assert_int_eq(store_kw(v, 999, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0,
	    0, &a), STORE_OK);
	ck_assert_uint_eq(a.changed, 0);
	store_view_close(v);

	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, STORE_FLAG_SEEN, NULL, 0,
	    0, &a), STORE_READONLY);
	store_view_close(v);
	store_close(st);
}
END_TEST

static int
kw_list_cb(const char *kw, void *arg)
{
	(*(unsigned *)arg)++;
	(void)kw;
	return 0;
}

START_TEST(test_keyword_limit)
{
	struct store *st = open_store();
	struct store_view *v;
	struct flag_acc a;
	char name[16];
	const char *kw[1] = { name };
	unsigned n = 0;
	uint32_t uid;

	uid = append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", false);
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++) {
		snprintf(name, sizeof(name), "kw%d", i);
		ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, 0, kw, 1, 0, &a),
		    STORE_OK);
	}
	snprintf(name, sizeof(name), "one-too-many");
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_ADD, 0, kw, 1, 0, &a),
	    STORE_INVALID);
	/* Known ones still work, in any case. */
	snprintf(name, sizeof(name), "KW7");
	ck_assert_int_eq(store_kw(v, uid, STORE_FLAGS_REMOVE, 0, kw, 1, 0, &a),
	    STORE_OK);
	ck_assert_uint_eq(a.changed, 1);
	ck_assert_int_eq(store_view_keywords(v, kw_list_cb, &n), STORE_OK);
	ck_assert_uint_eq(n, STORE_KEYWORDS_MAX);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* ---- copy, move, expunge ------------------------------------------------- */

static void
expunge_all(struct store *st, const char *mailbox)
{
	struct store_view *v = view(st, mailbox, false);

	for (uint32_t msn = 1; msn <= store_view_exists(v); msn++)
		set_flags(v, store_view_uid(v, msn), STORE_FLAGS_ADD,
		    STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_uint_eq(store_view_exists(v), 0);
	store_view_close(v);
}

START_TEST(test_copy_shares_blob)
{
	struct store *st = open_store();
	const char *kw[] = { "Work" };
	struct store_view *v;
	struct store_message m;
	uint32_t uid, uids[2], dest[2], uv;
	const char *data;
	size_t len;

	uid = append_kw(st, "INBOX", MSG_A, STORE_FLAG_SEEN, kw, 1);
	uids[0] = uid;
	uids[1] = append(st, "INBOX", MSG_B, 0);
	append(st, "Archive", MSG_B, 0);       /* the destination has uid 1 */
	v = view(st, "INBOX", true);           /* COPY works from EXAMINE */
	ck_assert_int_eq(store_copy(v, uids, 2, "archive", false, &uv, dest),
	    STORE_NOT_FOUND);                  /* names are case-sensitive */
	ck_assert_int_eq(store_copy(v, uids, 2, "Archive", false, &uv, dest),
	    STORE_OK);
	ck_assert_uint_eq(uv, get_mb(st, "Archive").uidvalidity);
	ck_assert_uint_eq(dest[0], 2);
	ck_assert_uint_eq(dest[1], 3);
	ck_assert_int_eq(count_files("blobs"), 3);
	ck_assert_int_eq(store_copy(v, uids, 2, "Trash", true, &uv, dest),
	    STORE_READONLY);
	store_view_close(v);

	v = view(st, "Archive", true);
	ck_assert_int_eq(store_message_get(v, 2, &m), STORE_OK);
	ck_assert_uint_eq(m.flags, STORE_FLAG_SEEN);
	ck_assert_uint_eq(m.n_keywords, 1);
	ck_assert_str_eq(m.keywords[0], "Work");
	ck_assert_int_eq(m.internaldate, 760000000);
	store_view_close(v);

	/* Expunging one copy keeps the file; the last one removes it. */
	expunge_all(st, "INBOX");
	ck_assert_int_eq(count_files("blobs"), 3);
	v = view(st, "Archive", false);
	ck_assert_int_eq(store_message_map(v, 2, &data, &len), STORE_OK);
	ck_assert_mem_eq(data, MSG_A, len);
	store_message_unmap(data, len);
	set_flags(v, 2, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(count_files("blobs"), 2);
	store_view_close(v);
	expunge_all(st, "Archive");
	ck_assert_int_eq(count_files("blobs"), 0);
	store_close(st);
}
END_TEST

START_TEST(test_move)
{
	struct store *st = open_store();
	struct store_view *v, *t;
	struct events e;
	uint32_t u[4], moved[2], dest[2], uv;

	for (int i = 0; i < 4; i++)
		u[i] = append(st, "INBOX", i % 2 ? MSG_B : MSG_A, 0);
	v = view(st, "INBOX", false);
	moved[0] = u[1];
	moved[1] = u[3];
	ck_assert_int_eq(store_copy(v, moved, 2, "Trash", true, &uv, dest), STORE_OK);
	ck_assert_uint_eq(dest[0], 1);
	ck_assert_uint_eq(dest[1], 2);
	ck_assert_int_eq(count_files("blobs"), 4);
	/* The expunges come through sync, highest MSN first. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(v, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E4:4 E2:2 ");
	ck_assert_uint_eq(store_view_exists(v), 2);
	ck_assert_uint_eq(store_view_uid(v, 2), u[2]);
	ck_assert_uint_eq(store_view_msn(v, u[2]), 2);
	ck_assert_uint_eq(store_view_msn(v, u[1]), 0);
	t = view(st, "Trash", false);
	ck_assert_uint_eq(store_view_exists(t), 2);
	store_view_close(t);

	/* MOVE within the mailbox: new UIDs. */
	ck_assert_int_eq(store_copy(v, &u[0], 1, "INBOX", true, &uv, dest), STORE_OK);
	ck_assert_uint_eq(dest[0], u[3] + 1);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(v, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E1:1 X2 ");
	ck_assert_uint_eq(store_view_uid(v, 2), u[3] + 1);
	store_view_close(v);
	ck_assert_int_eq(count_files("blobs"), 4);
	store_close(st);
}
END_TEST

START_TEST(test_uid_expunge)
{
	struct store *st = open_store();
	struct store_view *v;
	struct events e;
	uint32_t u[5], some[3];

	for (int i = 0; i < 5; i++)
		u[i] = append(st, "INBOX", MSG_A, i == 2 ? 0 : STORE_FLAG_DELETED);
	v = view(st, "INBOX", false);
	/* Only \Deleted messages among those named. */
	some[0] = u[1];
	some[1] = u[2];
	some[2] = u[3];
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_expunge(v, some, 3, on_expunged, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E4:4 E2:2 ");
	ck_assert_uint_eq(store_view_exists(v), 3);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_expunge(v, NULL, 0, on_expunged, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E3:5 E1:1 ");
	ck_assert_uint_eq(store_view_exists(v), 1);
	ck_assert_uint_eq(store_view_uid(v, 1), u[2]);
	/* Nothing new for sync to say. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(v, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "");
	store_view_close(v);
	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_READONLY);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* ---- two sessions --------------------------------------------------------- */

START_TEST(test_sync_between_sessions)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va, *vb;
	struct events e;
	uint32_t u1, u2, u3;

	u1 = append(a, "INBOX", MSG_A, 0);
	u2 = append(a, "INBOX", MSG_B, 0);
	va = view(a, "INBOX", false);
	ck_assert_uint_eq(store_view_exists(va), 2);

	/* b appends: a sees EXISTS. */
	u3 = append(b, "INBOX", MSG_A, 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, false, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "X3 ");
	ck_assert_uint_eq(store_view_uid(va, 3), u3);

	/* b changes flags: a sees FETCH FLAGS, once. */
	vb = view(b, "INBOX", false);
	set_flags(vb, u2, STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, false, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "F2:2 ");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, false, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "");

	/* b expunges: not during FETCH/STORE/SEARCH, then at the next chance. */
	set_flags(vb, u1, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(vb, NULL, 0, NULL, NULL), STORE_OK);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, false, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "");           /* the flag change is of an expunged one */
	ck_assert_uint_eq(store_view_exists(va), 3);
	/* HIGHESTMODSEQ may not pass the expunge the client has not seen. */
	ck_assert_uint_lt(store_view_mailbox(va)->highestmodseq,
	    get_mb(b, "INBOX").highestmodseq);
	ck_assert_int_eq(store_message_get(va, u1, &(struct store_message){ 0 }),
	    STORE_NOT_FOUND);
	/* Meanwhile b appends and flags again; a then sees all in order. */
	append(b, "INBOX", MSG_B, 0);
	set_flags(vb, u3, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E1:1 X3 F2:3 ");
	ck_assert_uint_eq(store_view_uid(va, 1), u2);
	ck_assert_uint_eq(store_view_mailbox(va)->highestmodseq,
	    get_mb(b, "INBOX").highestmodseq);

	/* b uses a keyword a never saw: a hears of it first, once. */
	{
		const char *kw[] = { "$Work" };
		uint32_t uid = u2;

		ck_assert_int_eq(store_set_flags(vb, &uid, 1, STORE_FLAGS_ADD, 0,
		    kw, 1, 0, NULL, NULL, NULL), STORE_OK);
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
		ck_assert_str_eq(e.log, "K F1:2 ");
		uid = u3;
		ck_assert_int_eq(store_set_flags(vb, &uid, 1, STORE_FLAGS_ADD, 0,
		    kw, 1, 0, NULL, NULL, NULL), STORE_OK);
		memset(&e, 0, sizeof(e));
		ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
		ck_assert_str_eq(e.log, "F2:3 ");
	}

	/* a STOREs after b changed the mailbox: a's next sync reports b's
	 * change, not a's own again (its STORE answered for it) ... */
	set_flags(vb, u2, STORE_FLAGS_ADD, STORE_FLAG_ANSWERED);
	set_flags(va, u3, STORE_FLAGS_ADD, STORE_FLAG_DRAFT);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "F1:2 ");
	/* ... unless another session changed that message after it */
	set_flags(vb, u2, STORE_FLAGS_ADD, STORE_FLAG_FLAGGED);
	set_flags(va, u3, STORE_FLAGS_REMOVE, STORE_FLAG_DRAFT);
	set_flags(vb, u3, STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "F1:2 F2:3 ");

	/* b deletes a's mailbox: a is told. */
	ck_assert_int_eq(store_mailbox_create(b, "tmpbox", 0), STORE_OK);
	store_view_close(va);
	va = view(a, "tmpbox", false);
	ck_assert_int_eq(store_mailbox_delete(b, "tmpbox"), STORE_OK);
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_NOT_FOUND);
	store_view_close(va);
	store_view_close(vb);
	store_close(b);
	store_close(a);
}
END_TEST

START_TEST(test_sync_follows_rename)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va;
	struct events e;

	ck_assert_int_eq(store_mailbox_create(a, "old", 0), STORE_OK);
	va = view(a, "old", false);
	ck_assert_int_eq(store_mailbox_rename(b, "old", "new"), STORE_OK);
	append(b, "new", MSG_A, 0);
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "X1 ");
	ck_assert_str_eq(store_view_mailbox(va)->name, "new");
	store_view_close(va);
	store_close(b);
	store_close(a);
}
END_TEST

/* An IMAP4rev2 session's store claims no \Recent: a later IMAP4rev1
 * session still gets the messages as recent, and the claim mark stays. */
START_TEST(test_recent_not_claimed)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va, *vb;
	struct store_status s;

	append(a, "INBOX", MSG_A, 0);
	store_claim_recent(a, false);
	va = view(a, "INBOX", false);
	append(b, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_view_sync(va, true, NULL, NULL), STORE_OK);
	ck_assert_uint_eq(store_view_exists(va), 2);
	ck_assert_int_eq(store_mailbox_status(b, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.recent, 2);
	vb = view(b, "INBOX", false);
	ck_assert_uint_eq(store_view_recent(vb), 2);
	store_view_close(vb);
	store_view_close(va);
	store_close(b);
	store_close(a);
}
END_TEST

START_TEST(test_recent)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va, *vb, *ex;
	struct store_status s;
	struct store_message m;
	uint32_t u3;

	append(a, "INBOX", MSG_A, 0);
	append(a, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_mailbox_status(a, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.recent, 2);
	/* EXAMINE shows what nobody claimed, and claims nothing. */
	ex = view(b, "INBOX", true);
	ck_assert_uint_eq(store_view_recent(ex), 2);

	va = view(a, "INBOX", false);
	ck_assert_uint_eq(store_view_recent(va), 2);
	ck_assert_int_eq(store_message_get(va, 1, &m), STORE_OK);
	ck_assert(m.recent);
	vb = view(b, "INBOX", false);
	ck_assert_uint_eq(store_view_recent(vb), 0);
	ck_assert_int_eq(store_message_get(vb, 1, &m), STORE_OK);
	ck_assert(!m.recent);
	ck_assert_int_eq(store_mailbox_status(a, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.recent, 0);

	/* A new message: the first session to look claims it. */
	u3 = append(a, "INBOX", MSG_A, 0);
	ck_assert_int_eq(store_view_sync(vb, true, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_view_sync(va, true, NULL, NULL), STORE_OK);
	ck_assert_uint_eq(store_view_recent(vb), 1);
	ck_assert_uint_eq(store_view_recent(va), 2);
	ck_assert_int_eq(store_message_get(vb, u3, &m), STORE_OK);
	ck_assert(m.recent);
	ck_assert_int_eq(store_message_get(va, u3, &m), STORE_OK);
	ck_assert(!m.recent);

	/* Expunging a recent message lowers the count. */
	set_flags(va, 1, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(va, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_uint_eq(store_view_recent(va), 1);
	store_view_close(ex);
	store_view_close(va);
	store_view_close(vb);
	store_close(b);
	store_close(a);
}
END_TEST

/* ---- subscriptions, status ----------------------------------------------- */

static int
sub_cb(const char *name, void *arg)
{
	strcat(arg, name);
	strcat(arg, " ");
	return 0;
}

START_TEST(test_subscriptions)
{
	struct store *st = open_store();
	char list[512] = "";

	ck_assert_int_eq(store_subscribe(st, "Trash", false), STORE_OK);
	ck_assert_int_eq(store_subscribe(st, "Trash", false), STORE_NOT_FOUND);
	ck_assert_int_eq(store_subscribe(st, "Nowhere/at/all", true), STORE_OK);
	ck_assert_int_eq(store_subscribe(st, "Nowhere/at/all", true), STORE_OK);
	ck_assert_int_eq(store_subscribe(st, "inbox/x", true), STORE_OK);
	ck_assert_int_eq(store_subscribe(st, "a//b", true), STORE_INVALID);
	ck_assert_int_eq(store_subscriptions(st, sub_cb, list), STORE_OK);
	ck_assert_str_eq(list, "Archive Drafts INBOX INBOX/x Junk Nowhere/at/all "
	    "Sent ");
	ck_assert(!mb_exists(st, "Nowhere/at/all"));
	ck_assert(!get_mb(st, "Trash").subscribed);
	ck_assert(get_mb(st, "Sent").subscribed);
	/* Deleting a mailbox does not unsubscribe it (RFC 9051 §6.3.9). */
	ck_assert_int_eq(store_mailbox_delete(st, "Sent"), STORE_OK);
	list[0] = '\0';
	store_subscriptions(st, sub_cb, list);
	ck_assert(strstr(list, "Sent ") != NULL);
	store_close(st);
}
END_TEST

START_TEST(test_status)
{
	struct store *st = open_store();
	struct store_view *v;
	struct store_status s;
	uint32_t u1;

	u1 = append(st, "INBOX", MSG_A, STORE_FLAG_SEEN);
	append(st, "INBOX", MSG_B, STORE_FLAG_DELETED);
	append(st, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_mailbox_status(st, "inbox", &s), STORE_OK);
	ck_assert_uint_eq(s.messages, 3);
	ck_assert_uint_eq(s.unseen, 2);
	ck_assert_uint_eq(s.deleted, 1);
	ck_assert_uint_eq(s.recent, 3);
	ck_assert_uint_eq(s.size, strlen(MSG_A) + 2 * strlen(MSG_B));
	ck_assert_uint_eq(s.uidnext, 4);
	ck_assert_uint_eq(s.uidvalidity, get_mb(st, "INBOX").uidvalidity);
	ck_assert_uint_eq(s.highestmodseq, get_mb(st, "INBOX").highestmodseq);
	v = view(st, "INBOX", false);
	set_flags(v, u1, STORE_FLAGS_REMOVE, STORE_FLAG_SEEN);
	store_view_close(v);
	ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.unseen, 3);
	ck_assert_uint_eq(s.recent, 0);
	ck_assert_int_eq(store_mailbox_status(st, "Junk", &s), STORE_OK);
	ck_assert_uint_eq(s.messages, 0);
	ck_assert_uint_eq(s.size, 0);
	ck_assert_uint_eq(s.uidnext, 1);
	ck_assert_int_eq(store_mailbox_status(st, "nope", &s), STORE_NOT_FOUND);
	store_close(st);
}
END_TEST

/* ---- quota, save dates, previews ----------------------------------------- */

/* RFC 9208 STORAGE in units of 1024 octets, rounded up; limits inclusive. */
START_TEST(test_quota_arithmetic)
{
	struct store_quota q = { 0, 0, STORE_QUOTA_NONE, STORE_QUOTA_NONE };

	ck_assert_uint_eq(store_quota_kib(0), 0);
	ck_assert_uint_eq(store_quota_kib(1), 1);
	ck_assert_uint_eq(store_quota_kib(1023), 1);
	ck_assert_uint_eq(store_quota_kib(1024), 1);
	ck_assert_uint_eq(store_quota_kib(1025), 2);
	ck_assert_uint_eq(store_quota_kib(UINT64_MAX), UINT64_MAX / 1024 + 1);
	/* no limits: nothing is over, there is room for anything */
	ck_assert(!store_quota_over(&q, UINT64_MAX, UINT64_MAX));
	ck_assert_uint_eq(store_quota_room(&q), UINT64_MAX);
	/* 2 KiB: 2048 octets fit, 2049 do not */
	q.storage = 1000;
	q.storage_limit = 2;
	ck_assert(!store_quota_over(&q, 1048, 1));
	ck_assert(store_quota_over(&q, 1049, 1));
	ck_assert(store_quota_over(&q, UINT64_MAX, 0));   /* saturates */
	ck_assert_uint_eq(store_quota_room(&q), 1048);
	/* already past the limit (it was lowered): no room, over */
	q.storage = 5000;
	ck_assert(store_quota_over(&q, 0, 0));
	ck_assert_uint_eq(store_quota_room(&q), 0);
	/* a 0 limit holds nothing */
	q.storage = 0;
	q.storage_limit = 0;
	ck_assert(!store_quota_over(&q, 0, 0));
	ck_assert(store_quota_over(&q, 1, 1));
	ck_assert_uint_eq(store_quota_room(&q), 0);
	/* a limit too large for octets in 64 bits */
	q.storage_limit = STORE_QUOTA_LIMIT_MAX;
	ck_assert_uint_eq(store_quota_room(&q), UINT64_MAX);
	ck_assert(!store_quota_over(&q, UINT64_MAX - 1, 0));
	/* messages: the limit is a count; full means no room at all */
	q.storage_limit = STORE_QUOTA_NONE;
	q.messages = 9;
	q.message_limit = 10;
	ck_assert(!store_quota_over(&q, 0, 1));
	ck_assert(store_quota_over(&q, 0, 2));
	ck_assert_uint_eq(store_quota_room(&q), UINT64_MAX);
	q.messages = 10;
	ck_assert_uint_eq(store_quota_room(&q), 0);
	ck_assert(store_quota_over(&q, 0, 1));
}
END_TEST

static struct store_quota
quota(struct store *st)
{
	struct store_quota q;

	ck_assert_int_eq(store_quota_get(st, &q), STORE_OK);
	return q;
}

static enum store_result
try_append(struct store *st, const char *mailbox, const char *text)
{
	struct store_append *ap;
	uint32_t uidvalidity, uid;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, text, strlen(text)), STORE_OK);
	return store_append_commit(ap, mailbox, 0, NULL, 0, 760000000, 0,
	    &uidvalidity, &uid);
}

/* The usage counts every mailbox; APPEND past a limit stores nothing. */
START_TEST(test_quota_append)
{
	struct store *st = open_store();
	struct store_quota q = quota(st);
	size_t a = strlen(MSG_A), b = strlen(MSG_B);
	uint32_t uidnext;

	ck_assert_uint_eq(q.storage, 0);
	ck_assert_uint_eq(q.messages, 0);
	ck_assert_uint_eq(q.storage_limit, STORE_QUOTA_NONE);
	ck_assert_uint_eq(q.message_limit, STORE_QUOTA_NONE);
	append(st, "INBOX", MSG_A, 0);
	append(st, "Sent", MSG_B, 0);
	q = quota(st);
	ck_assert_uint_eq(q.storage, a + b);
	ck_assert_uint_eq(q.messages, 2);

	/* 1 KiB holds what is there and one more MSG_B, not a MSG_A */
	ck_assert_uint_lt(a + 2 * b, 1024);
	ck_assert_int_eq(store_quota_set(st, 1, STORE_QUOTA_NONE), STORE_OK);
	q = quota(st);
	ck_assert_uint_eq(q.storage_limit, 1);
	uidnext = get_mb(st, "INBOX").uidnext;
	append(st, "INBOX", MSG_B, 0);
	while (try_append(st, "Drafts", MSG_B) == STORE_OK)
		;
	q = quota(st);
	ck_assert_uint_le(q.storage, 1024);
	ck_assert_uint_gt(q.storage + b, 1024);
	ck_assert_msg(strstr(store_error(st), "storage quota") != NULL, "%s",
	    store_error(st));
	ck_assert_int_eq(try_append(st, "INBOX", MSG_A), STORE_OVERQUOTA);
	/* nothing of the refused messages: no row, no UID, no file */
	ck_assert_uint_eq(get_mb(st, "INBOX").uidnext, uidnext + 1);
	ck_assert_int_eq(count_files("blobs"), (int)q.messages);
	ck_assert_int_eq(count_files("tmp"), 0);
	ck_assert_uint_eq(quota(st).storage, q.storage);

	/* the message limit, alone */
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, q.messages + 1),
	    STORE_OK);
	ck_assert_int_eq(try_append(st, "INBOX", MSG_A), STORE_OK);
	ck_assert_int_eq(try_append(st, "INBOX", MSG_B), STORE_OVERQUOTA);
	ck_assert_msg(strstr(store_error(st), "message quota") != NULL, "%s",
	    store_error(st));
	/* expunging makes room again */
	expunge_all(st, "Drafts");
	ck_assert_int_eq(try_append(st, "INBOX", MSG_B), STORE_OK);
	/* no limits */
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, STORE_QUOTA_NONE),
	    STORE_OK);
	ck_assert_int_eq(try_append(st, "INBOX", MSG_A), STORE_OK);
	ck_assert_int_eq(store_quota_set(st, (uint64_t)INT64_MAX + 1, 0),
	    STORE_INVALID);
	ck_assert_int_eq(store_quota_set(st, 0, (uint64_t)INT64_MAX + 1),
	    STORE_INVALID);
	ck_assert_uint_eq(quota(st).storage_limit, STORE_QUOTA_NONE);
	store_close(st);
}
END_TEST

/* COPY counts like APPEND and fails whole; MOVE changes no usage. */
START_TEST(test_quota_copy_move)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uids[2], dest[2], uv;
	struct store_quota q;

	uids[0] = append(st, "INBOX", MSG_A, 0);
	uids[1] = append(st, "INBOX", MSG_B, 0);
	q = quota(st);
	/* room for one more MSG_B, not for both */
	ck_assert_int_eq(store_quota_set(st, store_quota_kib(q.storage +
	    strlen(MSG_B)), 3), STORE_OK);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_copy(v, uids, 2, "Archive", false, &uv, dest),
	    STORE_OVERQUOTA);
	ck_assert_uint_eq(get_mb(st, "Archive").uidnext, 1);
	ck_assert_uint_eq(quota(st).messages, 2);
	ck_assert_int_eq(store_copy(v, &uids[1], 1, "Archive", false, &uv, dest),
	    STORE_OK);
	ck_assert_uint_eq(quota(st).messages, 3);
	/* full: a MOVE still goes, and the usage stays */
	ck_assert_int_eq(store_copy(v, uids, 2, "Trash", true, &uv, dest), STORE_OK);
	q = quota(st);
	ck_assert_uint_eq(q.messages, 3);
	ck_assert_uint_eq(q.storage, strlen(MSG_A) + 2 * strlen(MSG_B));
	store_view_close(v);
	/* a limit set by another process is seen at the next check */
	{
		struct store *other = open_store();

		ck_assert_int_eq(store_quota_set(other, STORE_QUOTA_NONE, 4),
		    STORE_OK);
		store_close(other);
	}
	ck_assert_int_eq(try_append(st, "INBOX", MSG_B), STORE_OK);
	ck_assert_int_eq(try_append(st, "INBOX", MSG_B), STORE_OVERQUOTA);
	store_close(st);
}
END_TEST

/* RFC 8514: APPEND, COPY and MOVE set the save date; the internal date
 * is the client's. */
START_TEST(test_savedate)
{
	struct store *st = open_store();
	struct store_message m;
	struct store_view *v;
	uint32_t uid, dest, uv;
	int64_t before = (int64_t)time(NULL), after;

	uid = append(st, "INBOX", MSG_A, 0);
	after = (int64_t)time(NULL);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	ck_assert_int_eq(m.internaldate, 760000000);
	ck_assert_int_ge(m.savedate, before);
	ck_assert_int_le(m.savedate, after);
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	ck_assert_int_eq(store_copy(v, &uid, 1, "Trash", true, &uv, &dest),
	    STORE_OK);
	store_view_close(v);
	v = view(st, "Trash", true);
	ck_assert_int_eq(store_message_get(v, dest, &m), STORE_OK);
	ck_assert_int_ge(m.savedate, before);
	ck_assert_int_le(m.savedate, (int64_t)time(NULL));
	store_view_close(v);
	store_close(st);
}
END_TEST

/* DELETED-STORAGE's octets follow the \Deleted flag. */
START_TEST(test_status_deleted_size)
{
	struct store *st = open_store();
	struct store_status s;
	struct store_view *v;
	uint32_t a, b;

	a = append(st, "INBOX", MSG_A, STORE_FLAG_DELETED);
	b = append(st, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.deleted_size, strlen(MSG_A));
	v = view(st, "INBOX", false);
	set_flags(v, b, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.deleted_size, strlen(MSG_A) + strlen(MSG_B));
	set_flags(v, a, STORE_FLAGS_REMOVE, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.deleted_size, strlen(MSG_B));
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
	ck_assert_uint_eq(s.deleted_size, 0);
	ck_assert_uint_eq(s.size, strlen(MSG_A));
	store_view_close(v);
	store_close(st);
}
END_TEST

/* The preview is made at APPEND and read from the cache. */
START_TEST(test_preview_cached)
{
	struct store *st = open_store();
	struct buf p = BUF_INIT;
	struct store_view *v;
	bool available = false;
	uint32_t uid = append(st, "INBOX", MSG_A, 0);

	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_message_preview(v, uid, true, &p, &available),
	    STORE_OK);
	ck_assert(available);
	ck_assert_str_eq(p.data, "Hello Bob.");
	ck_assert_int_eq(store_message_preview(v, 999, false, &p, &available),
	    STORE_NOT_FOUND);
	ck_assert(!available);
	store_view_close(v);
	buf_free(&p);
	store_close(st);
}
END_TEST

/* ---- counters, the UID map, held snapshots ------------------------------------ */

/*
 * STATUS's counts and the view's MSN map come from what schema.sql's
 * triggers keep (mailboxes counters, uidmap).  Check them against the
 * rows themselves: every uid below UIDNEXT asked for one by one.
 */
static void
assert_counts(struct store *st, const char *name)
{
	struct store_mailbox mb = get_mb(st, name);
	struct store_view *v = view(st, name, true);
	struct store_status s;
	uint32_t messages = 0, unseen = 0, deleted = 0;
	uint64_t size = 0;

	for (uint32_t uid = 1; uid < mb.uidnext; uid++) {
		struct store_message m;
		enum store_result r = store_message_get(v, uid, &m);

		ck_assert_msg(r == STORE_OK || r == STORE_NOT_FOUND, "%s", store_error(st));
		if (r != STORE_OK) {
			ck_assert_uint_eq(store_view_msn(v, uid), 0);
			continue;
		}
		messages++;
		ck_assert_msg(store_view_uid(v, messages) == uid, "%s: msn %u is uid "
		    "%u, not %u", name, messages, store_view_uid(v, messages), uid);
		unseen += !(m.flags & STORE_FLAG_SEEN);
		deleted += (m.flags & STORE_FLAG_DELETED) != 0;
		size += m.size;
	}
	ck_assert_uint_eq(store_view_exists(v), messages);
	store_view_close(v);
	ck_assert_int_eq(store_mailbox_status(st, name, &s), STORE_OK);
	ck_assert_msg(s.messages == messages && s.unseen == unseen &&
	    s.deleted == deleted && s.size == size, "%s: status %u %u %u %llu, "
	    "rows %u %u %u %llu", name, s.messages, s.unseen, s.deleted,
	    (unsigned long long)s.size, messages, unseen, deleted,
	    (unsigned long long)size);
}

START_TEST(test_counters_follow_changes)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t u[6], uv, dest[2];

	for (int i = 0; i < 6; i++)
		u[i] = append(st, "INBOX", i % 2 ? MSG_B : MSG_A,
		    i % 3 == 0 ? STORE_FLAG_SEEN : 0);
	assert_counts(st, "INBOX");
	v = view(st, "INBOX", false);
	set_flags(v, u[1], STORE_FLAGS_ADD, STORE_FLAG_SEEN | STORE_FLAG_DELETED);
	set_flags(v, u[0], STORE_FLAGS_REPLACE, STORE_FLAG_FLAGGED);
	set_flags(v, u[4], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	assert_counts(st, "INBOX");
	ck_assert_int_eq(store_copy(v, &u[2], 1, "Trash", false, &uv, dest), STORE_OK);
	ck_assert_int_eq(store_copy(v, &u[3], 1, "Junk", true, &uv, dest), STORE_OK);
	assert_counts(st, "INBOX");
	assert_counts(st, "Trash");
	assert_counts(st, "Junk");
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	store_view_close(v);
	assert_counts(st, "INBOX");
	/* RENAME of INBOX moves the rows to a new mailbox */
	ck_assert_int_eq(store_mailbox_rename(st, "INBOX", "Old"), STORE_OK);
	assert_counts(st, "INBOX");
	assert_counts(st, "Old");
	ck_assert_int_eq(store_mailbox_delete(st, "Old"), STORE_OK);
	assert_counts(st, "Trash");
	store_close(st);
}
END_TEST

/* UIDs on both sides of the 64-bit words of the map, with holes. */
START_TEST(test_uid_map_words)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t gone[] = { 1, 63, 64, 128, 129, 130 };

	for (int i = 0; i < 130; i++)
		append(st, "INBOX", MSG_B, i == 63 || i == 64 ? 0 : STORE_FLAG_SEEN |
		    STORE_FLAG_DELETED);
	assert_counts(st, "INBOX");
	v = view(st, "INBOX", false);
	ck_assert_uint_eq(store_view_uid(v, 64), 64);
	ck_assert_uint_eq(store_view_uid(v, 130), 130);
	for (size_t i = 0; i < sizeof(gone) / sizeof(gone[0]); i++)
		set_flags(v, gone[i], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, gone, 6, NULL, NULL), STORE_OK);
	store_view_close(v);
	assert_counts(st, "INBOX");
	v = view(st, "INBOX", false);
	ck_assert_uint_eq(store_view_exists(v), 124);
	ck_assert_uint_eq(store_view_uid(v, 1), 2);
	ck_assert_uint_eq(store_view_uid(v, 62), 65);
	ck_assert_uint_eq(store_view_uid(v, 124), 127);
	/* every \Deleted one: uid 65 alone stays, words 0 and 2 empty */
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	store_view_close(v);
	assert_counts(st, "INBOX");
	v = view(st, "INBOX", true);
	ck_assert_uint_eq(store_view_exists(v), 1);
	ck_assert_uint_eq(store_view_uid(v, 1), 65);
	store_view_close(v);
	store_close(st);
}
END_TEST

START_TEST(test_first_unseen)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t msn, u[4];

	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 0);
	store_view_close(v);
	for (int i = 0; i < 4; i++)
		u[i] = append(st, "INBOX", MSG_A, i < 2 ? STORE_FLAG_SEEN : 0);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 3);
	set_flags(v, u[1], STORE_FLAGS_REMOVE, STORE_FLAG_SEEN);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 2);
	set_flags(v, u[1], STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	set_flags(v, u[2], STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	set_flags(v, u[3], STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 0);
	/* one the view has not heard of yet has no MSN to name */
	append(st, "INBOX", MSG_B, 0);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 0);
	ck_assert_int_eq(store_view_sync(v, true, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 5);
	store_view_close(v);
	store_close(st);
}
END_TEST

START_TEST(test_read_hold)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va, *vb;
	struct store_message m;
	uint32_t u[300];

	for (int i = 0; i < 300; i++)
		u[i] = append(a, "INBOX", MSG_B, 0);
	va = view(a, "INBOX", false);
	vb = view(b, "INBOX", false);
	ck_assert_int_eq(store_read_hold(a), STORE_OK);
	ck_assert_int_eq(store_read_hold(a), STORE_OK);    /* nests */
	ck_assert_int_eq(store_message_get(va, u[0], &m), STORE_OK);
	/* another session's change is not seen under the snapshot ... */
	set_flags(vb, u[5], STORE_FLAGS_ADD, STORE_FLAG_FLAGGED);
	ck_assert_int_eq(store_expunge(vb, NULL, 0, NULL, NULL), STORE_OK);
	set_flags(vb, u[200], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(vb, NULL, 0, NULL, NULL), STORE_OK);
	/* ... walking up (read ahead in batches) nor in a jump */
	for (int i = 1; i < 300; i++) {
		ck_assert_int_eq(store_message_get(va, u[i], &m), STORE_OK);
		ck_assert_uint_eq(m.flags, 0);
	}
	ck_assert_int_eq(store_message_get(va, u[200], &m), STORE_OK);
	/* a write inside ends the snapshot: what follows is newer */
	set_flags(va, u[7], STORE_FLAGS_ADD, STORE_FLAG_SEEN);
	ck_assert_int_eq(store_message_get(va, u[5], &m), STORE_OK);
	ck_assert_uint_eq(m.flags, STORE_FLAG_FLAGGED);
	ck_assert_int_eq(store_message_get(va, u[6], &m), STORE_OK);
	ck_assert_int_eq(store_message_get(va, u[7], &m), STORE_OK);
	ck_assert_uint_eq(m.flags, STORE_FLAG_SEEN);
	for (int i = 190; i < 210; i++)
		ck_assert_int_eq(store_message_get(va, u[i], &m),
		    i == 200 ? STORE_NOT_FOUND : STORE_OK);
	store_read_release(a);
	set_flags(vb, u[8], STORE_FLAGS_ADD, STORE_FLAG_ANSWERED);
	/* still held once: the change waits */
	ck_assert_int_eq(store_message_get(va, u[8], &m), STORE_OK);
	ck_assert_uint_eq(m.flags, 0);
	store_read_release(a);
	ck_assert_int_eq(store_message_get(va, u[8], &m), STORE_OK);
	ck_assert_uint_eq(m.flags, STORE_FLAG_ANSWERED);
	ck_assert_int_eq(store_message_get(va, u[200], &m), STORE_NOT_FOUND);
	store_view_close(va);
	store_view_close(vb);
	store_close(b);
	store_close(a);
}
END_TEST

START_TEST(test_header_fields_cached)
{
	static const char msg[] = "Received: from x by y\r\n"
	    "Subject: Folded\r\n  subject\r\n"
	    "X-Other: no\r\n"
	    "FROM: a@b.example\r\n"
	    "References: <1@x>\r\n\t<2@x>\r\n"
	    "\r\n"
	    "Subject: not a header\r\n";
	struct store *st = open_store();
	struct store_view *v;
	struct buf b = BUF_INIT;
	uint32_t uid = append(st, "INBOX", msg, 0);

	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_message_header_fields(v, uid, &b), STORE_OK);
	ck_assert_int_eq(buf_append_char(&b, '\0'), 0);
	ck_assert_str_eq(b.data, "Subject: Folded\r\n  subject\r\n"
	    "FROM: a@b.example\r\n"
	    "References: <1@x>\r\n\t<2@x>\r\n"
	    "\r\n");
	ck_assert_int_eq(store_message_header_fields(v, uid + 1, &b), STORE_NOT_FOUND);
	buf_free(&b);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* A NUL in a cached field: the copy would end at it (it is kept as a C
 * string), so none is kept and SEARCH reads the file (fuzz_search). */
START_TEST(test_header_fields_nul_not_cached)
{
	static const char msg[] = "From: a\0b@example.org\r\nSubject: x\r\n\r\nbody\r\n";
	struct store *st = open_store();
	struct store_append *ap;
	struct store_view *v;
	struct buf b = BUF_INIT;
	uint32_t uidvalidity = 0, uid = 0;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, msg, sizeof(msg) - 1), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, "INBOX", 0, NULL, 0, 760000000,
	    -480, &uidvalidity, &uid), STORE_OK);
	v = view(st, "INBOX", true);
	ck_assert_int_eq(store_message_header_fields(v, uid, &b), STORE_NOT_FOUND);
	buf_free(&b);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* Walking up the mailbox under a hold reads the fields ahead in batches:
 * the same text as one at a time, holes and all. */
START_TEST(test_header_fields_read_ahead)
{
	struct store *st = open_store();
	struct store_view *v;
	struct buf one = BUF_INIT, ahead = BUF_INIT;
	char msg[128];
	uint32_t gone[] = { 3, 64, 257, 258 };
	static char texts[302][64];
	static enum store_result results[302];

	for (int i = 0; i < 300; i++) {
		snprintf(msg, sizeof(msg), "Subject: number %d\r\nX-No: %d\r\n"
		    "\r\nbody\r\n", i, i);
		append(st, "INBOX", msg, STORE_FLAG_DELETED);
	}
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_expunge(v, gone, 4, NULL, NULL), STORE_OK);
	/* under one hold: the whole walk from a few batches */
	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	for (uint32_t uid = 1; uid <= 301; uid++) {
		buf_reset(&ahead);
		results[uid] = store_message_header_fields(v, uid, &ahead);
		ck_assert_uint_lt(ahead.len, sizeof(texts[uid]));
		if (ahead.len > 0)
			memcpy(texts[uid], ahead.data, ahead.len);
		texts[uid][ahead.len] = '\0';
	}
	store_read_release(st);
	for (uint32_t uid = 1; uid <= 301; uid++) {
		enum store_result r1;

		buf_reset(&one);
		r1 = store_message_header_fields(v, uid, &one);
		ck_assert_msg(results[uid] == r1, "uid %u: %d read ahead, %d alone",
		    uid, results[uid], r1);
		ck_assert_int_eq(r1, uid <= 300 && uid != 3 && uid != 64 &&
		    uid != 257 && uid != 258 ? STORE_OK : STORE_NOT_FOUND);
		if (r1 != STORE_OK)
			continue;
		snprintf(msg, sizeof(msg), "Subject: number %u\r\n\r\n", uid - 1);
		ck_assert_str_eq(texts[uid], msg);
		ck_assert(one.len == strlen(msg) && memcmp(one.data, msg, one.len) == 0);
	}
	buf_free(&one);
	buf_free(&ahead);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* What one message reads as, outside any hold: a query each. */
struct seen {
	enum store_result row, fields;
	unsigned flags;
	uint64_t size;
	char text[64];
};

static void
seen_read(struct store_view *v, uint32_t uid, struct seen *out)
{
	struct store_message m;
	struct buf b = BUF_INIT;

	memset(out, 0, sizeof(*out));
	out->row = store_message_get(v, uid, &m);
	if (out->row == STORE_OK) {
		out->flags = m.flags;
		out->size = m.size;
	}
	out->fields = store_message_header_fields(v, uid, &b);
	ck_assert_uint_lt(b.len, sizeof(out->text));
	if (b.len > 0)
		memcpy(out->text, b.data, b.len);
	buf_free(&b);
}

static void
seen_eq(const struct seen *a, const struct seen *b, uint32_t uid)
{
	ck_assert_msg(a->row == b->row && a->fields == b->fields, "uid %u: "
	    "%d/%d under the hold, %d/%d alone", uid, a->row, a->fields,
	    b->row, b->fields);
	ck_assert_uint_eq(a->flags, b->flags);
	ck_assert_uint_eq(a->size, b->size);
	ck_assert_str_eq(a->text, b->text);
}

/*
 * SEARCH asks for a message's row, then, when the row cannot decide, its
 * cached header fields, then maybe its file.  Under a hold the walk up
 * the mailbox reads each row once, the fields in the same query; a few
 * messages here and there (the candidates of the full-text index) cost
 * a row and their fields each, not a query per question.  What comes out
 * is what one query at a time gives, holes, gaps and all.
 */
START_TEST(test_search_reads_rows_once)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t gone[] = { 3, 64, 257, 258, 300 };
	static struct seen alone[602];
	struct seen got;
	uint64_t rows;
	char msg[128];

	for (int i = 0; i < 600; i++) {
		snprintf(msg, sizeof(msg), "Subject: number %d\r\nX-No: %d\r\n"
		    "\r\nbody\r\n", i, i);
		append(st, "INBOX", msg, i % 7 == 0 ? STORE_FLAG_DELETED :
		    STORE_FLAG_SEEN);
	}
	v = view(st, "INBOX", false);
	for (size_t i = 0; i < 5; i++)
		set_flags(v, gone[i], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, gone, 5, NULL, NULL), STORE_OK);
	for (uint32_t uid = 1; uid <= 601; uid++)
		seen_read(v, uid, &alone[uid]);
	ck_assert_int_eq(alone[300].row, STORE_NOT_FOUND);
	ck_assert_int_eq(alone[299].fields, STORE_OK);

	/* a header search of every message: 595 rows, each once, and the
	 * fields of the first, read before the walk was known */
	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	rows = sql_rows();
	for (uint32_t uid = 1; uid <= 601; uid++) {
		seen_read(v, uid, &got);
		seen_eq(&got, &alone[uid], uid);
	}
	rows = sql_rows() - rows;
	store_read_release(st);
	ck_assert_msg(rows <= 595 + 2, "%" PRIu64 " rows for 595 messages", rows);

	/* a few candidates far apart: the row and the fields, no more */
	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	for (uint32_t uid = 5; uid <= 601; uid += 99) {
		rows = sql_rows();
		seen_read(v, uid, &got);
		ck_assert_uint_le(sql_rows() - rows, 2);
		seen_eq(&got, &alone[uid], uid);
	}
	store_read_release(st);

	/* fields asked for in patches: the rows read ahead carry them or
	 * not, and say the same either way */
	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	for (uint32_t uid = 1; uid <= 601; uid++) {
		struct store_message m;

		if (uid % 100 >= 70 || uid % 3 == 0) {
			ck_assert_int_eq(store_message_get(v, uid, &m), alone[uid].row);
			continue;
		}
		seen_read(v, uid, &got);
		seen_eq(&got, &alone[uid], uid);
	}
	store_read_release(st);
	store_view_close(v);
	store_close(st);
}
END_TEST

/*
 * A store made by schema version 1 (before the counters, the UID map and
 * the cached header fields), with messages in it: opening it upgrades it
 * and counts what is there.  Its messages have no cached fields: a header
 * search reads their files (STORE_NOT_FOUND here).
 */
START_TEST(test_schema_v1_upgraded)
{
	struct store *st;
	struct store_view *v;
	struct buf b = BUF_INIT;
	uint32_t msn;

	old_store(1,
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 200, 9), (2, 'Sent', 8, 1, 1);"
	    "INSERT INTO blobs (id, refcount, size) VALUES (42, 3, 10);"
	    "INSERT INTO mime_cache VALUES (42, 'NIL', 'NIL', 'NIL');"
	    "INSERT INTO messages VALUES (1, 5, 1, 1, 0, 0, 0, 10, 42, 42),"
	    " (1, 64, 2, 0, 0, 0, 0, 10, 42, 42), (1, 199, 3, 8, 0, 0, 0, 10, 42, 42);");

	st = open_store();
	v = view(st, "INBOX", true);
	ck_assert_uint_eq(store_view_exists(v), 3);
	ck_assert_uint_eq(store_view_uid(v, 1), 5);
	ck_assert_uint_eq(store_view_uid(v, 2), 64);
	ck_assert_uint_eq(store_view_uid(v, 3), 199);
	ck_assert_int_eq(store_view_first_unseen(v, &msn), STORE_OK);
	ck_assert_uint_eq(msn, 2);
	ck_assert_int_eq(store_message_header_fields(v, 5, &b), STORE_NOT_FOUND);
	store_view_close(v);
	buf_free(&b);
	/* and the triggers run from now on */
	append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", true);
	ck_assert_uint_eq(store_view_exists(v), 4);
	ck_assert_uint_eq(store_view_uid(v, 4), 200);
	store_view_close(v);
	{
		struct store_status s;

		ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
		ck_assert_uint_eq(s.messages, 4);
		ck_assert_uint_eq(s.unseen, 3);
		ck_assert_uint_eq(s.deleted, 1);
		ck_assert_uint_eq(s.size, 30 + strlen(MSG_A));
		ck_assert_uint_eq(s.deleted_size, 10);
	}
	/* step 4: no quota limits, the usage counted; old rows have no save
	 * date, and their blob no cached preview (made from the file) */
	{
		struct store_quota q;
		struct store_message m;
		bool available = true;

		ck_assert_int_eq(store_quota_get(st, &q), STORE_OK);
		ck_assert_uint_eq(q.messages, 4);
		ck_assert_uint_eq(q.storage, 30 + strlen(MSG_A));
		ck_assert_uint_eq(q.storage_limit, STORE_QUOTA_NONE);
		ck_assert_uint_eq(q.message_limit, STORE_QUOTA_NONE);
		v = view(st, "INBOX", true);
		ck_assert_int_eq(store_message_get(v, 5, &m), STORE_OK);
		ck_assert_int_eq(m.savedate, 0);
		ck_assert_int_eq(store_message_get(v, 200, &m), STORE_OK);
		ck_assert_int_ne(m.savedate, 0);
		ck_assert_int_eq(store_message_preview(v, 5, true, &b, &available),
		    STORE_OK);
		ck_assert(!available);
		ck_assert_uint_eq(b.len, 0);
		/* its file is not there: the non-lazy form reads it */
		ck_assert_int_eq(store_message_preview(v, 5, false, &b, &available),
		    STORE_NOT_FOUND);
		ck_assert_int_eq(store_message_preview(v, 200, true, &b, &available),
		    STORE_OK);
		ck_assert(available);
		ck_assert_str_eq(b.data, "Hello Bob.");
		store_view_close(v);
		buf_free(&b);
	}
	store_close(st);
}
END_TEST

/* ---- sort keys (schema step 9, store/sortcache.c) ------------------------- */

#define SORTKEYS_ALL SORTKEYS_WANT_ALL

#define MSG_SORT "From: Carol <carol@example.org>\r\n" \
	"Subject: Re: [list] Plans\r\n" \
	"Date: 2 Jan 2024 10:00:00 +0100\r\n" \
	"Message-ID: <c3@example.org>\r\n" \
	"References: <a1@example.org>\r\n <b2@example.org>\r\n" \
	"\r\n" \
	"Yes.\r\n"

/* The keys of MSG_SORT, however they were had. */
static void
assert_sort_keys(const struct sortkeys *k)
{
	const char *p = NULL;

	ck_assert(k->has_date);
	ck_assert_int_eq(k->date, 1704186000);     /* 2024-01-02 09:00 UTC */
	ck_assert(k->reply);
	ck_assert_str_eq(k->str[SORTKEYS_SUBJECT], "PLANS");
	ck_assert_str_eq(k->str[SORTKEYS_FROM], "CAROL");
	ck_assert_str_eq(k->str[SORTKEYS_DFROM], "CAROL");
	ck_assert_str_eq(k->str[SORTKEYS_TO], "");
	ck_assert_str_eq(k->str[SORTKEYS_MSGID], "c3@example.org");
	ck_assert_uint_eq(k->n_refs, 2);
	ck_assert_str_eq(sortkeys_ref_next(k, &p), "a1@example.org");
	ck_assert_str_eq(sortkeys_ref_next(k, &p), "b2@example.org");
	ck_assert_ptr_null(sortkeys_ref_next(k, &p));
}

/* Kept at APPEND, copied by COPY and RENAME of INBOX, gone with their
 * message; only the strings asked for are read. */
START_TEST(test_sort_keys_stored)
{
	struct store *st = open_store();
	struct store_view *v;
	struct sortkeys k;
	uint32_t uid, dest, uv;
	bool stored = false;

	uid = append(st, "INBOX", MSG_SORT, 0);
	append(st, "INBOX", "Subject: x\r\n\r\n", 0);  /* no Date, no ids */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 2);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_message_sortkeys(v, uid, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(stored);
	assert_sort_keys(&k);
	ck_assert_int_eq(store_message_sortkeys(v, uid + 1, SORTKEYS_ALL, &k,
	    &stored), STORE_OK);
	ck_assert(!k.has_date);
	ck_assert_uint_eq(k.n_refs, 0);
	ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "X");
	ck_assert_str_eq(k.str[SORTKEYS_MSGID], "");
	ck_assert_int_eq(store_message_sortkeys(v, uid,
	    STORE_SORTKEYS_STR(SORTKEYS_FROM), &k, &stored), STORE_OK);
	ck_assert_str_eq(k.str[SORTKEYS_FROM], "CAROL");
	ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "");
	ck_assert_uint_eq(k.n_refs, 0);
	ck_assert(k.has_date);
	ck_assert_int_eq(store_message_sortkeys(v, uid + 2, SORTKEYS_ALL, &k,
	    &stored), STORE_NOT_FOUND);

	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	/* a row per message: the copy's, taken from the original's */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 3);
	store_view_close(v);
	v = view(st, "Archive", false);
	stored = false;
	ck_assert_int_eq(store_message_sortkeys(v, dest, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(stored);
	assert_sort_keys(&k);
	store_view_close(v);

	/* they go with their message */
	expunge_all(st, "INBOX");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 1);
	/* RENAME of INBOX moves its messages: their keys follow */
	append(st, "INBOX", MSG_SORT, 0);
	ck_assert_int_eq(store_mailbox_rename(st, "INBOX", "Old"), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 2);
	v = view(st, "Old", false);
	ck_assert_int_eq(store_message_sortkeys(v, store_view_uid(v, 1),
	    SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(stored);
	assert_sort_keys(&k);
	store_view_close(v);
	expunge_all(st, "Archive");
	expunge_all(st, "Old");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 0);
	store_close(st);
}
END_TEST

/* A walk up a mailbox under a hold reads the keys in batches: the same
 * keys as one at a time, holes and all. */
START_TEST(test_sort_keys_read_ahead)
{
	struct store *st = open_store();
	struct store_view *v;
	struct sortkeys k;
	char msg[128];
	bool stored;

	for (int i = 0; i < 600; i++) {
		snprintf(msg, sizeof(msg), "Subject: s%d\r\nDate: 1 Jan 2024 "
		    "00:00:00 +0000\r\n\r\n", i);
		append(st, "INBOX", msg, 0);
	}
	v = view(st, "INBOX", false);
	for (uint32_t uid = 1; uid <= 600; uid += 7) {
		uint32_t u = uid;

		set_flags(v, u, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	}
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	for (uint32_t uid = 1; uid <= 601; uid++) {
		enum store_result r = store_message_sortkeys(v, uid,
		    STORE_SORTKEYS_STR(SORTKEYS_SUBJECT), &k, &stored);

		snprintf(msg, sizeof(msg), "S%u", uid - 1);
		if (uid % 7 == 1 || uid == 601) {
			ck_assert_int_eq(r, STORE_NOT_FOUND);
			continue;
		}
		ck_assert_int_eq(r, STORE_OK);
		ck_assert(stored);
		ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], msg);
		ck_assert_int_eq(k.date, 1704067200);
	}
	store_read_release(st);
	store_view_close(v);
	store_close(st);
}
END_TEST

/*
 * A store of version 8: its messages have no keys.  They are made on demand
 * from the cached header fields, or from the file when none are cached,
 * the same as APPEND makes them; store_sortkeys_save keeps them (not
 * those of a blob expunged meanwhile), and they are read from then on.
 */
START_TEST(test_sort_keys_upgraded)
{
	struct store *st;
	struct store_view *v;
	struct sortkeys k;
	bool stored = true;
	char sqltext[1024];

	snprintf(sqltext, sizeof(sqltext),
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 4, 3);"
	    "INSERT INTO blobs (id, refcount, size) VALUES (42, 1, %zu), "
	    "(43, 1, %zu), (44, 1, %zu);"
	    "INSERT INTO mime_cache (blob_id, envelope, body, bodystructure) "
	    "VALUES (42, 'NIL', 'NIL', 'NIL'), (43, 'NIL', 'NIL', 'NIL'), "
	    "(44, 'NIL', 'NIL', 'NIL');"
	    "INSERT INTO header_cache VALUES (42, 'Subject: Cached\r\n\r\n');"
	    "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, "
	    "internaldate, tz_minutes, size, blob_id, email_id, thread_id) VALUES "
	    "(1, 1, 1, 0, 0, 5, 0, %zu, 42, 42, 1), "
	    "(1, 2, 2, 0, 0, 6, 0, %zu, 43, 43, 2), "
	    "(1, 3, 3, 0, 0, 7, 0, %zu, 44, 44, 3);",
	    strlen(MSG_A), strlen(MSG_SORT), strlen(MSG_A), strlen(MSG_A),
	    strlen(MSG_SORT), strlen(MSG_A));
	old_store(8, sqltext);
	old_blob_file(43, MSG_SORT, strlen(MSG_SORT));
	old_blob_file(44, MSG_A, strlen(MSG_A));

	st = open_store();
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 0);
	v = view(st, "INBOX", false);
	/* from header_cache (not the file, which says Hello) */
	ck_assert_int_eq(store_message_sortkeys(v, 1, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(!stored);
	ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "CACHED");
	ck_assert(!k.has_date);
	/* from the file; only the keys asked for */
	ck_assert_int_eq(store_message_sortkeys(v, 2,
	    STORE_SORTKEYS_STR(SORTKEYS_SUBJECT), &k, &stored), STORE_OK);
	ck_assert(!stored);
	ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "PLANS");
	ck_assert_str_eq(k.str[SORTKEYS_FROM], "");
	ck_assert(!k.has_date);
	ck_assert_int_eq(store_message_sortkeys(v, 3, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(!stored);
	/* nothing written while reading */
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 0);

	/* saved: all the keys, also of a message only partly asked for */
	ck_assert_int_eq(store_message_sortkeys(v, 3,
	    STORE_SORTKEYS_STR(SORTKEYS_FROM), &k, &stored), STORE_OK);
	/* uid 3 goes before the keys are saved: its are dropped */
	set_flags(v, 3, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_sortkeys_save(st), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys"), 2);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM sort_keys WHERE uid = 3"), 0);
	/* saved once: a second save has nothing to write */
	ck_assert_int_eq(store_sortkeys_save(st), STORE_OK);
	/* all its keys, though only the subject was asked for */
	ck_assert_int_eq(store_message_sortkeys(v, 2, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(stored);
	assert_sort_keys(&k);
	ck_assert_int_eq(store_message_sortkeys(v, 1, SORTKEYS_ALL, &k, &stored),
	    STORE_OK);
	ck_assert(stored);
	ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "CACHED");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* ---- QRESYNC: tombstones ------------------------------------------------------ */

/* store_view_vanished as "3,4" ("" when none), and whether complete. */
static bool
vanished(struct store_view *v, uint64_t since, char *out, size_t len)
{
	uint32_t *uids = NULL;
	size_t n = 0;
	bool complete = false;

	ck_assert_int_eq(store_view_vanished(v, since, &uids, &n, &complete),
	    STORE_OK);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%u", i ? "," : "",
		    uids[i]);
	free(uids);
	return complete;
}

static int
on_changed(void *arg, uint32_t msn, const struct store_message *m)
{
	ev_add(arg, "C%u:%u ", msn, m->uid);
	return 0;
}

START_TEST(test_vanished_and_changed)
{
	struct store *a = open_store(), *b = open_store();
	struct store_view *va, *vb;
	struct events e;
	uint64_t m0, m1;
	char got[256];
	uint32_t u[6];

	for (int i = 0; i < 6; i++)
		u[i] = append(a, "INBOX", MSG_A, 0);
	va = view(a, "INBOX", false);
	m0 = store_view_mailbox(va)->highestmodseq;
	/* nothing since m0 */
	ck_assert(vanished(va, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "");
	/* a changes 2, expunges 3 and 4 */
	set_flags(va, u[1], STORE_FLAGS_ADD, STORE_FLAG_FLAGGED);
	set_flags(va, u[2], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	set_flags(va, u[3], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(va, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert(vanished(va, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "3,4");
	m1 = get_mb(a, "INBOX").highestmodseq;
	ck_assert(vanished(va, m1, got, sizeof(got)));
	ck_assert_str_eq(got, "");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_changed(va, m0, on_changed, &e), STORE_OK);
	ck_assert_str_eq(e.log, "C2:2 ");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_changed(va, 0, on_changed, &e), STORE_OK);
	ck_assert_str_eq(e.log, "C1:1 C2:2 C3:5 C4:6 ");

	/* b expunges 6: a still shows it until its sync says so */
	vb = view(b, "INBOX", false);
	set_flags(vb, u[5], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(vb, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert(vanished(va, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "3,4");
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(va, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E4:6 ");
	ck_assert(vanished(va, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "3,4,6");
	/* each tombstone knows when its expunge was */
	ck_assert_int_ge(sql_int("SELECT min(expunged) FROM tombstones"),
	    (int64_t)time(NULL) - 60);
	store_view_close(vb);
	store_view_close(va);
	store_close(b);
	store_close(a);
}
END_TEST

/*
 * Tombstones older than STORE_TOMBSTONE_DAYS go at the next expunge of
 * their mailbox; the mailbox remembers the newest modseq purged, and a
 * resynchronisation from before it is no longer complete.
 */
START_TEST(test_tombstones_purged)
{
	struct store *st = open_store();
	struct store_view *v;
	uint64_t m0, m1, m2, m3;
	char got[256];
	uint32_t u[5];

	for (int i = 0; i < 5; i++)
		u[i] = append(st, "INBOX", MSG_A, 0);
	append(st, "Trash", MSG_A, 0);
	v = view(st, "INBOX", false);
	m0 = store_view_mailbox(v)->highestmodseq;
	set_flags(v, u[0], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	m1 = get_mb(st, "INBOX").highestmodseq;
	set_flags(v, u[1], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	m2 = get_mb(st, "INBOX").highestmodseq;
	/* Trash's tombstone is old too, but Trash expunges nothing */
	{
		struct store_view *t = view(st, "Trash", false);

		set_flags(t, 1, STORE_FLAGS_ADD, STORE_FLAG_DELETED);
		ck_assert_int_eq(store_expunge(t, NULL, 0, NULL, NULL), STORE_OK);
		store_view_close(t);
	}
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tombstones"), 3);

	/* young ones stay at an expunge */
	set_flags(v, u[2], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	m3 = get_mb(st, "INBOX").highestmodseq;
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tombstones"), 4);
	ck_assert(vanished(v, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "1,2,3");

	/* the first two of INBOX age past the retention, one day short the
	 * other: the next expunge purges the two */
	sql("UPDATE tombstones SET expunged = expunged - 86400 * 61 "
	    "WHERE uid IN (1, 2);"
	    "UPDATE tombstones SET expunged = expunged - 86400 * 59 WHERE uid = 3;"
	    "UPDATE tombstones SET expunged = expunged - 86400 * 90 "
	    "WHERE mailbox_id != (SELECT id FROM mailboxes WHERE name = 'INBOX');");
	set_flags(v, u[3], STORE_FLAGS_ADD, STORE_FLAG_DELETED);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tombstones"), 3);
	ck_assert_int_eq(sql_int("SELECT tombstones_from FROM mailboxes "
	    "WHERE name = 'INBOX'"), (int64_t)m2);
	ck_assert_int_eq(sql_int("SELECT tombstones_from FROM mailboxes "
	    "WHERE name = 'Trash'"), 0);
	/* from m2 on all is known; before it, not */
	ck_assert(vanished(v, m2, got, sizeof(got)));
	ck_assert_str_eq(got, "3,4");
	ck_assert(!vanished(v, m1, got, sizeof(got)));
	ck_assert(!vanished(v, m0, got, sizeof(got)));
	ck_assert_str_eq(got, "3,4");
	/* MOVE purges its source too */
	sql("UPDATE tombstones SET expunged = expunged - 86400 * 61 WHERE uid = 3");
	ck_assert_int_eq(store_copy(v, &u[4], 1, "Trash", true, NULL, NULL),
	    STORE_OK);
	ck_assert_int_eq(sql_int("SELECT tombstones_from FROM mailboxes "
	    "WHERE name = 'INBOX'"), (int64_t)m3);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM tombstones t JOIN mailboxes m "
	    "ON m.id = t.mailbox_id WHERE m.name = 'INBOX'"), 2);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* A store of version 2 with tombstones: they count from the upgrade. */
START_TEST(test_tombstones_upgraded)
{
	struct store *st;
	struct store_view *v;
	char got[64];

	old_store(2,
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 10, 9);"
	    "INSERT INTO tombstones VALUES (1, 4, 6), (1, 8, 9);");

	st = open_store();
	ck_assert_int_ge(sql_int("SELECT min(expunged) FROM tombstones"),
	    (int64_t)time(NULL) - 60);
	v = view(st, "INBOX", true);
	ck_assert(vanished(v, 5, got, sizeof(got)));
	ck_assert_str_eq(got, "4,8");
	ck_assert(vanished(v, 6, got, sizeof(got)));
	ck_assert_str_eq(got, "8");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* ---- fsck ------------------------------------------------------------------- */

struct fsck_acc {
	char lines[2048];
};

static void
fsck_cb(void *arg, const char *line)
{
	struct fsck_acc *a = arg;

	strncat(a->lines, line, sizeof(a->lines) - strlen(a->lines) - 2);
	strcat(a->lines, "\n");
}

static void
make_file(const char *path, time_t age)
{
	int fd = openat(dfd, path, O_CREAT | O_WRONLY | O_EXCL, 0600);
	struct timespec ts[2];

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, "junk", 4), 4);
	ts[0].tv_sec = ts[1].tv_sec = time(NULL) - age;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	futimens(fd, ts);
	close(fd);
}

START_TEST(test_fsck)
{
	struct store *st = open_store();
	struct store_append *ap;
	struct fsck_acc a;
	unsigned problems = 99;

	append(st, "INBOX", MSG_A, 0);
	ck_assert_int_eq(store_fsck(st, false, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);

	mkdirat(dfd, "blobs/ab", 0700);
	make_file("blobs/ab/ab00000000000001", 0);
	make_file("tmp/0123456789abcdef", 3600);
	make_file("tmp/fresh", 0);             /* may be an APPEND's: left */
	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);  /* held: left */
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_fsck(st, false, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 2);
	ck_assert_msg(strstr(a.lines, "blobs/ab/ab00000000000001: orphan") != NULL,
	    "%s", a.lines);
	ck_assert_msg(strstr(a.lines, "tmp/0123456789abcdef: stale") != NULL, "%s",
	    a.lines);
	ck_assert_int_eq(count_files("blobs"), 2);     /* not repaired */

	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_fsck(st, true, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 2);
	ck_assert_int_eq(count_files("blobs"), 1);
	ck_assert_int_eq(count_files("tmp"), 2);       /* fresh, and the held one */
	ck_assert_int_eq(store_fsck(st, false, NULL, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	store_append_abort(ap);
	store_close(st);
}
END_TEST

/* Find the one blob file's path. */
static void
find_blob(char *path, size_t len)
{
	int fd = openat(dfd, "blobs", O_RDONLY | O_DIRECTORY);
	DIR *d = fdopendir(fd), *sd;
	struct dirent *e, *f;

	path[0] = '\0';
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		sd = fdopendir(openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY));
		while ((f = readdir(sd)) != NULL)
			if (f->d_name[0] != '.')
				snprintf(path, len, "blobs/%s/%s", e->d_name, f->d_name);
		closedir(sd);
	}
	closedir(d);
}

/* Bookkeeping damaged behind the store's back: fsck finds and recounts it. */
START_TEST(test_fsck_counters)
{
	struct store *st = open_store();
	struct fsck_acc a;
	unsigned problems = 0;
	sqlite3 *db;
	char path[128];

	for (int i = 0; i < 70; i++)
		append(st, i < 3 ? "INBOX" : "Sent", MSG_B, 0);
	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(db, "UPDATE mailboxes SET n_unseen = 99 "
	    "WHERE name = 'INBOX'; DELETE FROM uidmap WHERE word = 1 AND "
	    "mailbox_id = (SELECT id FROM mailboxes WHERE name = 'Sent')",
	    NULL, NULL, NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_fsck(st, false, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 2);
	ck_assert_msg(strstr(a.lines, "mailbox INBOX: message counts") != NULL &&
	    strstr(a.lines, "mailbox Sent: message counts") != NULL, "%s", a.lines);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_fsck(st, true, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_msg(strstr(a.lines, "(counted again)") != NULL, "%s", a.lines);
	ck_assert_int_eq(store_fsck(st, false, NULL, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	assert_counts(st, "INBOX");
	assert_counts(st, "Sent");
	store_close(st);
}
END_TEST

START_TEST(test_fsck_missing_file)
{
	struct store *st = open_store();
	struct store_view *v;
	struct fsck_acc a;
	struct events e;
	unsigned problems;
	uint32_t uid, uv, dest;
	char path[600];

	uid = append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	find_blob(path, sizeof(path));
	ck_assert_int_eq(unlinkat(dfd, path, 0), 0);
	memset(&a, 0, sizeof(a));
	ck_assert_int_eq(store_fsck(st, false, fsck_cb, &a, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 1);
	ck_assert_msg(strstr(a.lines, "file missing, 2 message(s)") != NULL, "%s",
	    a.lines);
	ck_assert_int_eq(store_fsck(st, true, NULL, NULL, &problems), STORE_OK);
	ck_assert_int_eq(store_fsck(st, false, NULL, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	/* Sessions see the rows go. */
	memset(&e, 0, sizeof(e));
	ck_assert_int_eq(store_view_sync(v, true, &changes, &e), STORE_OK);
	ck_assert_str_eq(e.log, "E1:1 ");
	store_view_close(v);
	ck_assert_int_eq(store_mailbox_status(st, "Archive", &(struct store_status){ 0 }),
	    STORE_OK);
	store_close(st);
}
END_TEST

START_TEST(test_fsck_clean_after_copies)
{
	struct store *st = open_store();
	struct store_view *v;
	unsigned problems;
	uint32_t uid, uv, dest;

	uid = append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", false);
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uv, &dest),
	    STORE_OK);
	store_view_close(v);
	/* Shared blobs counted right: both copies gone, nothing left over. */
	expunge_all(st, "INBOX");
	expunge_all(st, "Archive");
	ck_assert_int_eq(count_files("blobs"), 0);
	ck_assert_int_eq(store_fsck(st, false, NULL, NULL, &problems), STORE_OK);
	ck_assert_uint_eq(problems, 0);
	store_close(st);
}
END_TEST

/* ---- the chroot the store runs in ------------------------------------------- */

/*
 * imapd opens the store chrooted into an empty directory, with a
 * descriptor from outside it.  Root, or an unprivileged user namespace,
 * lets us do the same; otherwise the test says so and passes.
 */
static int
chrooted_child(const char *empty)
{
	struct store_view *v;
	struct store *st;
	const char *data;
	char err[512];
	size_t len;
	uint32_t uid;

	if (geteuid() != 0 && unshare(CLONE_NEWUSER) != 0)
		return 77;
	if (chroot(empty) != 0 || chdir("/") != 0)
		return 77;
	if (store_open(dfd, &st, err, sizeof(err)) != STORE_OK) {
		fprintf(stderr, "chrooted store_open: %s\n", err);
		return 1;
	}
	uid = append(st, "INBOX", MSG_A, 0);
	v = view(st, "INBOX", false);
	if (store_message_map(v, uid, &data, &len) != STORE_OK ||
	    len != strlen(MSG_A) || memcmp(data, MSG_A, len) != 0)
		return 1;
	store_message_unmap(data, len);
	store_view_close(v);
	store_close(st);
	return 0;
}

START_TEST(test_chrooted)
{
	char empty[] = "/tmp/check_store_empty.XXXXXX";
	pid_t pid;
	int status;

	ck_assert_ptr_nonnull(mkdtemp(empty));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(chrooted_child(empty));  /* _exit: no leak check without /proc */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	rmdir(empty);
	ck_assert(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		fprintf(stderr, "test_chrooted: cannot chroot here, skipped\n");
		return;
	}
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The child's work is visible from outside. */
	{
		struct store *st = open_store();
		struct store_status s;

		ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
		ck_assert_uint_eq(s.messages, 1);
		store_close(st);
	}
}
END_TEST

/* Writers in several processes at once: the lock orders them, no UID is
 * handed out twice, nothing is lost. */
START_TEST(test_concurrent_appends)
{
	enum { PROCS = 4, EACH = 20 };
	struct store_view *v;
	struct store *st;
	pid_t pid[PROCS];
	int status;

	st = open_store();     /* created once, before the children race */
	store_close(st);
	for (int p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] == 0) {
			st = open_store();
			for (int i = 0; i < EACH; i++) {
				append(st, "INBOX", MSG_A, 0);
				v = view(st, "INBOX", false);
				set_flags(v, store_view_uid(v, 1), STORE_FLAGS_ADD,
				    STORE_FLAG_SEEN);
				store_view_close(v);
			}
			store_close(st);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = open_store();
	v = view(st, "INBOX", true);
	ck_assert_uint_eq(store_view_exists(v), PROCS * EACH);
	for (uint32_t msn = 1; msn <= PROCS * EACH; msn++)
		ck_assert_uint_eq(store_view_uid(v, msn), msn);
	store_view_close(v);
	ck_assert_int_eq(count_files("blobs"), PROCS * EACH);
	ck_assert_int_eq(count_files("tmp"), 0);
	store_close(st);
}
END_TEST

/*
 * Writers racing for the last room under a limit: each check runs in the
 * write transaction that adds the rows, so together they stop exactly at
 * the limit, however APPENDs and COPYs interleave.
 */
START_TEST(test_quota_concurrent)
{
	enum { PROCS = 4, EACH = 10, LIMIT = 17 };
	struct store_quota q;
	struct store *st;
	pid_t pid[PROCS];
	int status;

	st = open_store();
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, LIMIT), STORE_OK);
	append(st, "INBOX", MSG_B, 0);
	store_close(st);
	for (int p = 0; p < PROCS; p++) {
		pid[p] = fork();
		ck_assert_int_ge(pid[p], 0);
		if (pid[p] != 0)
			continue;
		st = open_store();
		for (int i = 0; i < EACH; i++) {
			struct store_view *v;
			enum store_result r = try_append(st, "INBOX", MSG_A);
			uint32_t uid = 1, dest, uv;

			if (r != STORE_OK && r != STORE_OVERQUOTA)
				_exit(1);
			if (store_view_open(st, "INBOX", false, &v) != STORE_OK)
				_exit(1);
			r = store_copy(v, &uid, 1, "Archive", false, &uv, &dest);
			store_view_close(v);
			if (r != STORE_OK && r != STORE_OVERQUOTA)
				_exit(1);
		}
		store_close(st);
		_exit(0);
	}
	for (int p = 0; p < PROCS; p++) {
		ck_assert_int_eq(waitpid(pid[p], &status, 0), pid[p]);
		ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	st = open_store();
	q = quota(st);
	ck_assert_uint_eq(q.messages, LIMIT);
	{
		struct store_status a, b;

		ck_assert_int_eq(store_mailbox_status(st, "INBOX", &a), STORE_OK);
		ck_assert_int_eq(store_mailbox_status(st, "Archive", &b), STORE_OK);
		ck_assert_uint_eq(a.messages + b.messages, LIMIT);
		ck_assert_uint_eq(q.storage, a.size + b.size);
		ck_assert_int_eq(count_files("blobs"), (int)a.messages);
	}
	ck_assert_int_eq(count_files("tmp"), 0);
	store_close(st);
}
END_TEST

static Suite *
store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_add_test(tc, test_open_defaults);
	tcase_add_test(tc, test_reopen_keeps_everything);
	tcase_add_test(tc, test_schema_from_empty_file);
	tcase_add_test(tc, test_schema_future_version_refused);
	tcase_add_test(tc, test_not_a_store_refused);
	tcase_add_test(tc, test_damaged_index_refused);
	tcase_add_test(tc, test_close_keeps_wal);
	tcase_add_test(tc, test_wal_cut_back);
	tcase_add_test(tc, test_close_empties_large_wal);
	tcase_add_test(tc, test_open_alone_wal_bounded);
	tcase_add_test(tc, test_one_directory_per_process);
	tcase_add_test(tc, test_chrooted);
	suite_add_tcase(s, tc);

	tc = tcase_create("mailboxes");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_add_loop_test(tc, test_mailbox_name_valid, 0,
	    sizeof(name_cases) / sizeof(name_cases[0]));
	tcase_add_test(tc, test_mailbox_name_length);
	tcase_add_test(tc, test_create);
	tcase_add_test(tc, test_uidvalidity);
	tcase_add_test(tc, test_delete);
	tcase_add_test(tc, test_rename);
	tcase_add_test(tc, test_rename_inbox);
	tcase_add_test(tc, test_subscriptions);
	tcase_add_test(tc, test_status);
	suite_add_tcase(s, tc);

	tc = tcase_create("messages");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_append_read_back);
	tcase_add_test(tc, test_append_refused);
	tcase_add_test(tc, test_append_abort);
	tcase_add_test(tc, test_append_commit_many);
	tcase_add_test(tc, test_mime_cached);
	tcase_add_test(tc, test_flags);
	tcase_add_test(tc, test_keyword_limit);
	tcase_add_test(tc, test_copy_shares_blob);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_uid_expunge);
	tcase_add_test(tc, test_counters_follow_changes);
	tcase_add_test(tc, test_uid_map_words);
	tcase_add_test(tc, test_first_unseen);
	tcase_add_test(tc, test_header_fields_cached);
	tcase_add_test(tc, test_sort_keys_stored);
	tcase_add_test(tc, test_sort_keys_read_ahead);
	tcase_add_test(tc, test_sort_keys_upgraded);
	tcase_add_test(tc, test_header_fields_nul_not_cached);
	tcase_add_test(tc, test_header_fields_read_ahead);
	tcase_add_test(tc, test_search_reads_rows_once);
	tcase_add_test(tc, test_schema_v1_upgraded);
	tcase_add_test(tc, test_read_hold);
	tcase_add_test(tc, test_tombstones_purged);
	tcase_add_test(tc, test_tombstones_upgraded);
	tcase_add_test(tc, test_status_deleted_size);
	tcase_add_test(tc, test_savedate);
	tcase_add_test(tc, test_preview_cached);
	suite_add_tcase(s, tc);

	tc = tcase_create("quota");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_quota_arithmetic);
	tcase_add_test(tc, test_quota_append);
	tcase_add_test(tc, test_quota_copy_move);
	tcase_add_test(tc, test_quota_concurrent);
	suite_add_tcase(s, tc);

	tc = tcase_create("sessions");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_sync_between_sessions);
	tcase_add_test(tc, test_vanished_and_changed);
	tcase_add_test(tc, test_sync_follows_rename);
	tcase_add_test(tc, test_recent);
	tcase_add_test(tc, test_recent_not_claimed);
	tcase_add_test(tc, test_concurrent_appends);
	suite_add_tcase(s, tc);

	tc = tcase_create("fsck");
	tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown);
	tcase_add_test(tc, test_fsck);
	tcase_add_test(tc, test_fsck_missing_file);
	tcase_add_test(tc, test_fsck_counters);
	tcase_add_test(tc, test_fsck_clean_after_copies);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(store_suite());
}
