/*
 * Unit tests for delivery on the store's side (store/deliver.c,
 * store_deliver and store_quota_check): one spooled file linked into the
 * stores of several recipients, opened one after the other as
 * cairn-lmtpd does; the prefix each store keeps in front of it, seen by
 * every reader; what a refused or failed delivery leaves (nothing); COPY,
 * EXPUNGE and fsck with shared files; the copy when the spool is on
 * another filesystem; the upgrade of a schema step 6 store.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "store.h"
#include "store-int.h"
#include "store_fixture.h"

/* ---- fixtures and helpers ------------------------------------------------ */

#define MSG_MULTI "From: Carol <carol@example.org>\r\n" \
	"To: dave@example.net\r\n" \
	"Subject: Two parts\r\n" \
	"Date: Tue, 1 Apr 2025 10:00:00 +0000\r\n" \
	"Message-ID: <m1@example.org>\r\n" \
	"MIME-Version: 1.0\r\n" \
	"Content-Type: multipart/mixed; boundary=\"xx\"\r\n" \
	"\r\n" \
	"--xx\r\n" \
	"Content-Type: text/plain; charset=us-ascii\r\n" \
	"\r\n" \
	"The quick brown fox jumps.\r\n" \
	"--xx\r\n" \
	"Content-Type: application/octet-stream\r\n" \
	"Content-Transfer-Encoding: base64\r\n" \
	"\r\n" \
	"AAECAw==\r\n" \
	"--xx--\r\n"
#define PART1 "The quick brown fox jumps."

#define PREFIX_A "Return-Path: <sender@example.com>\r\n" \
	"Delivered-To: alpha-rcpt@example.net\r\n" \
	"Received: from mx.example.com by cairn with LMTP;\r\n" \
	"\tTue, 1 Apr 2025 10:00:01 +0000\r\n"
#define PREFIX_B "Return-Path: <sender@example.com>\r\n" \
	"Delivered-To: bravo-rcpt@example.net\r\n"

/* The spool (a directory beside the stores) and a second store directory,
 * for the tests that need them; removed after each test. */
static char spool[64], dir2[64];
static int spoolfd = -1, dfd2 = -1;

static void
setup(void)
{
	store_fixture_setup();
	snprintf(spool, sizeof(spool), "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(spool));
	spoolfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(spoolfd, 0);
	snprintf(dir2, sizeof(dir2), "/tmp/check_store2.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir2));
	dfd2 = open(dir2, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd2, 0);
}

static void
teardown(void)
{
	close(spoolfd);
	close(dfd2);
	rm_tree(AT_FDCWD, spool);
	rm_tree(AT_FDCWD, dir2);
	store_fixture_teardown();
}

/* The second user's store. */
static struct store *
open_store2(void)
{
	struct store *st = NULL;
	char err[512];
	enum store_result r = store_open(dfd2, &st, err, sizeof(err));

	ck_assert_msg(r == STORE_OK, "store_open: %s", err);
	return st;
}

/* What cairn-lmtpd does with DATA: the whole message, fsynced. */
static void
spool_write(int dirfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600);

	ck_assert_msg(fd >= 0, "%s: %s", name, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
}

static struct stat
stat_at(int dirfd, const char *name)
{
	struct stat sb;

	ck_assert_msg(fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0,
	    "%s: %s", name, strerror(errno));
	return sb;
}

static enum store_result
deliver_r(struct store *st, const char *name, const char *prefix,
    const char *mailbox, uint32_t *uid)
{
	uint32_t uidvalidity = 0, u = 0;
	enum store_result r;

	r = store_deliver(st, spoolfd, name, prefix,
	    prefix != NULL ? strlen(prefix) : 0, mailbox, 1743501601, 120,
	    &uidvalidity, &u);
	if (r == STORE_OK) {
		ck_assert_uint_ne(uidvalidity, 0);
		ck_assert_uint_ne(u, 0);
	}
	if (uid != NULL)
		*uid = u;
	return r;
}

static uint32_t
deliver(struct store *st, const char *name, const char *prefix,
    const char *mailbox)
{
	uint32_t uid;
	enum store_result r = deliver_r(st, name, prefix, mailbox, &uid);

	ck_assert_msg(r == STORE_OK, "deliver: %d %s", r, store_error(st));
	return uid;
}

static struct store_view *
view(struct store *st, const char *name)
{
	struct store_view *v = NULL;
	enum store_result r = store_view_open(st, name, false, &v);

	ck_assert_msg(r == STORE_OK, "view %s: %d %s", name, r, store_error(st));
	return v;
}

/* The message as every reader maps it equals want, byte for byte, and
 * RFC822.SIZE says its length. */
static void
assert_message(struct store_view *v, uint32_t uid, const char *want)
{
	struct store_message m;
	const char *data;
	size_t len;

	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	ck_assert_uint_eq(m.size, strlen(want));
	ck_assert_int_eq(store_message_map(v, uid, &data, &len), STORE_OK);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_msg(memcmp(data, want, len) == 0, "got %.*s", (int)len, data);
	store_message_unmap(data, len);
}

/* Files (not directories) under sub of the store directory d, recursively. */
static int
count_files(int d, const char *sub)
{
	int fd = openat(d, sub, O_RDONLY | O_DIRECTORY);
	struct dirent *e;
	DIR *dp;
	int n = 0;

	if (fd < 0)
		return 0;
	ck_assert_ptr_nonnull(dp = fdopendir(fd));
	while ((e = readdir(dp)) != NULL) {
		struct stat sb;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		ck_assert_int_eq(fstatat(dirfd(dp), e->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW), 0);
		n += S_ISDIR(sb.st_mode) ? count_files(dirfd(dp), e->d_name) : 1;
	}
	closedir(dp);
	return n;
}

/* The one blob file of store directory d (blobs/ab/<id>): its stat. */
static struct stat
only_blob(int d)
{
	char path[64];
	uint64_t id;

	ck_assert_int_eq(count_files(d, "blobs"), 1);
	/* the id is in the index; the other store's index is not ours to
	 * open, so find the file */
	{
		int fd = openat(d, "blobs", O_RDONLY | O_DIRECTORY);
		DIR *dp = fdopendir(fd);
		struct dirent *e;

		ck_assert_ptr_nonnull(dp);
		path[0] = '\0';
		while ((e = readdir(dp)) != NULL)
			if (strlen(e->d_name) == 2 && e->d_name[0] != '.')
				snprintf(path, sizeof(path), "blobs/%s", e->d_name);
		closedir(dp);
	}
	{
		int fd = openat(d, path, O_RDONLY | O_DIRECTORY);
		DIR *dp = fdopendir(fd);
		struct dirent *e;

		ck_assert_ptr_nonnull(dp);
		while ((e = readdir(dp)) != NULL)
			if (strlen(e->d_name) == 16 &&
			    sscanf(e->d_name, "%" SCNx64, &id) == 1)
				snprintf(path + strlen(path),
				    sizeof(path) - strlen(path), "/%s", e->d_name);
		closedir(dp);
	}
	return stat_at(d, path);
}

static unsigned
fsck_problems(struct store *st, bool repair)
{
	unsigned problems = 99;

	ck_assert_int_eq(store_fsck(st, repair, NULL, NULL, &problems), STORE_OK);
	return problems;
}

static char *
concat(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);

	ck_assert_ptr_nonnull(s);
	memcpy(s, a, la);
	memcpy(s + la, b, lb + 1);
	return s;
}

/* ---- one file, two stores ------------------------------------------------ */

/*
 * The spool's file delivered to two users, each store opened, delivered
 * to and closed in turn: one inode (the spool's name and one per store),
 * each store its own lines in front of the same bytes.
 */
START_TEST(test_two_stores_one_inode)
{
	char *want_a = concat(PREFIX_A, MSG_MULTI);
	char *want_b = concat(PREFIX_B, MSG_MULTI);
	struct stat spool_sb, a_sb, b_sb;
	struct store *st;
	struct store_view *v;
	uint32_t ua, ub;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	st = open_store();
	ua = deliver(st, "msg", PREFIX_A, "INBOX");
	store_close(st);
	st = open_store2();
	ub = deliver(st, "msg", PREFIX_B, "INBOX");
	store_close(st);

	spool_sb = stat_at(spoolfd, "msg");
	a_sb = only_blob(dfd);
	b_sb = only_blob(dfd2);
	ck_assert_uint_eq(spool_sb.st_nlink, 3);
	ck_assert_uint_eq(a_sb.st_ino, spool_sb.st_ino);
	ck_assert_uint_eq(b_sb.st_ino, spool_sb.st_ino);
	ck_assert_uint_eq(a_sb.st_dev, spool_sb.st_dev);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	ck_assert_int_eq(count_files(dfd2, "tmp"), 0);

	st = open_store();
	{
		struct store_status s;

		ck_assert_int_eq(store_mailbox_status(st, "INBOX", &s), STORE_OK);
		ck_assert_uint_eq(s.size, strlen(want_a));
		ck_assert_uint_eq(s.recent, 1);
	}
	v = view(st, "INBOX");
	assert_message(v, ua, want_a);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
	st = open_store2();
	v = view(st, "INBOX");
	assert_message(v, ub, want_b);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
	/* and the spool's own name still reads the message, untouched */
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_size, strlen(MSG_MULTI));
	free(want_a);
	free(want_b);
}
END_TEST

/*
 * The MIME structure is found in prefix and file together: the sections
 * FETCH reads (mime_parse on the mapped message, mime_section), the cached
 * BODYSTRUCTURE and ENVELOPE, the cached header fields and PREVIEW.
 */
START_TEST(test_mime_sees_prefix)
{
	struct store *st = open_store();
	struct store_view *v;
	const struct mime_part *p1;
	struct mime_part *root;
	struct buf cached = BUF_INIT, fresh = BUF_INIT;
	const char *data;
	size_t len, plen = strlen(PREFIX_A);
	bool available = false;
	uint32_t uid;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	uid = deliver(st, "msg", PREFIX_A, "INBOX");
	v = view(st, "INBOX");
	ck_assert_int_eq(store_message_map(v, uid, &data, &len), STORE_OK);
	root = mime_parse(data, len);
	/* the header runs from the prefix's first byte to the file's blank
	 * line; BODY[1] is the text part, where it is in prefix + file */
	ck_assert_uint_eq(root->header_start, 0);
	ck_assert_uint_eq(root->body_start, plen +
	    (size_t)(strstr(MSG_MULTI, "\r\n\r\n") + 4 - MSG_MULTI));
	ck_assert_ptr_nonnull(p1 = mime_section(root, "1", 1));
	ck_assert_uint_eq(p1->body_start, plen +
	    (size_t)(strstr(MSG_MULTI, PART1) - MSG_MULTI));
	ck_assert_uint_eq(p1->body_end - p1->body_start, strlen(PART1));
	ck_assert(memcmp(data + p1->body_start, PART1, strlen(PART1)) == 0);
	ck_assert_ptr_nonnull(mime_section(root, "2", 1));

	/* the cache was made from the same bytes */
	ck_assert_int_eq(store_message_bodystructure(v, uid, true, &cached),
	    STORE_OK);
	ck_assert_int_eq(mime_bodystructure(data, len, root, true, &fresh), 0);
	ck_assert_str_eq(cached.data, fresh.data);
	ck_assert_msg(strstr(cached.data, "\"7bit\" 26 0 ") != NULL, "%s",
	    cached.data);
	mime_free(root);
	store_message_unmap(data, len);
	buf_reset(&cached);
	ck_assert_int_eq(store_message_envelope(v, uid, &cached), STORE_OK);
	ck_assert_msg(strstr(cached.data, "\"Two parts\"") != NULL, "%s",
	    cached.data);
	ck_assert_msg(strstr(cached.data, "\"<m1@example.org>\"") != NULL, "%s",
	    cached.data);

	/* the fields SEARCH reads from the cache: the file's (no trace
	 * field is among them) */
	buf_reset(&cached);
	ck_assert_int_eq(store_message_header_fields(v, uid, &cached), STORE_OK);
	ck_assert_msg(strstr(cached.data, "Subject: Two parts\r\n") != NULL,
	    "%s", cached.data);
	ck_assert_msg(strstr(cached.data, "From: Carol <carol@example.org>\r\n")
	    != NULL, "%s", cached.data);
	ck_assert_ptr_null(strstr(cached.data, "Return-Path"));

	buf_reset(&cached);
	ck_assert_int_eq(store_message_preview(v, uid, true, &cached,
	    &available), STORE_OK);
	ck_assert(available);
	ck_assert_str_eq(cached.data, PART1);
	/* THREADID: by the file's Message-ID, as an APPEND would */
	{
		struct store_message m;

		ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
		ck_assert_uint_ne(m.thread_id, 0);
	}
	/* the sort keys, kept at delivery: the file's fields, as one message
	 * with the prefix (whose Received: dates are not the Date) */
	{
		struct sortkeys k;
		bool stored = false;

		ck_assert_int_eq(store_message_sortkeys(v, uid,
		    STORE_SORTKEYS_STR(SORTKEYS_SUBJECT) |
		    STORE_SORTKEYS_STR(SORTKEYS_MSGID), &k, &stored), STORE_OK);
		ck_assert(stored);
		ck_assert_str_eq(k.str[SORTKEYS_SUBJECT], "TWO PARTS");
		ck_assert_str_eq(k.str[SORTKEYS_MSGID], "m1@example.org");
	}
	buf_free(&cached);
	buf_free(&fresh);
	store_view_close(v);
	store_close(st);
}
END_TEST

/* The candidates of the full-text index for s, as "1 3" ("" for none). */
static const char *
cand(struct store_view *v, const char *s, bool body_only)
{
	static char out[256];
	uint32_t *uids = NULL;
	size_t n = 0;

	ck_assert_int_eq(store_fts_candidates(v, s, strlen(s), body_only, &uids,
	    &n), STORE_OK);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%u",
		    i ? " " : "", uids[i]);
	free(uids);
	return out;
}

/*
 * A delivered message is indexed by the first BODY or TEXT search of its
 * mailbox, from prefix and file: a string of the prefix is in its header,
 * one of the body in its body.
 */
START_TEST(test_fts_sees_prefix)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t u1, u2;

	spool_write(spoolfd, "m1", MSG_MULTI, strlen(MSG_MULTI));
	spool_write(spoolfd, "m2", "Subject: other\r\n\r\nnothing here\r\n",
	    strlen("Subject: other\r\n\r\nnothing here\r\n"));
	u1 = deliver(st, "m1", PREFIX_A, "INBOX");
	u2 = deliver(st, "m2", PREFIX_B, "INBOX");
	ck_assert_uint_eq(u2, u1 + 1);
	v = view(st, "INBOX");
	/* not indexed yet: both are candidates for anything */
	ck_assert_str_eq(cand(v, "alpha-rcpt", false), "1 2");
	ck_assert_int_eq(store_fts_update(v), STORE_OK);
	ck_assert_str_eq(cand(v, "alpha-rcpt", false), "1");
	ck_assert_str_eq(cand(v, "bravo-rcpt", false), "2");
	ck_assert_str_eq(cand(v, "alpha-rcpt", true), "");
	ck_assert_str_eq(cand(v, "brown fox", true), "1");
	ck_assert_str_eq(cand(v, "two parts", false), "1");
	store_view_close(v);
	store_close(st);
}
END_TEST

/* COPY shares the blob, and so its prefix; EXPUNGE of the original
 * leaves the copy whole. */
START_TEST(test_copy_keeps_prefix)
{
	char *want = concat(PREFIX_A, MSG_MULTI);
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uid, dest_uid = 0, uidv;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	uid = deliver(st, "msg", PREFIX_A, "INBOX");
	v = view(st, "INBOX");
	ck_assert_int_eq(store_copy(v, &uid, 1, "Archive", false, &uidv,
	    &dest_uid), STORE_OK);
	ck_assert_uint_ne(dest_uid, 0);
	ck_assert_int_eq(store_set_flags(v, &uid, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	store_view_close(v);
	ck_assert_int_eq(count_files(dfd, "blobs"), 1);
	v = view(st, "Archive");
	assert_message(v, dest_uid, want);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
	free(want);
}
END_TEST

/* What an APPEND of text stores: its uid. */
static uint32_t
append_text(struct store *st, const char *mailbox, const char *text)
{
	struct store_append *ap = NULL;
	uint32_t uidvalidity = 0, uid = 0;

	ck_assert_int_eq(store_append_begin(st, &ap), STORE_OK);
	ck_assert_int_eq(store_append_write(ap, text, strlen(text)), STORE_OK);
	ck_assert_int_eq(store_append_commit(ap, mailbox, 0, NULL, 0, 1743501601,
	    0, &uidvalidity, &uid), STORE_OK);
	return uid;
}

/* Under a hold, after its row: how many rows mapping the message reads
 * (a delivered one's prefix is one), and that it maps as want. */
static uint64_t
map_rows(struct store *st, struct store_view *v, uint32_t uid,
    const char *want)
{
	struct store_message m;
	const char *data;
	uint64_t rows;
	size_t len;

	ck_assert_int_eq(store_read_hold(st), STORE_OK);
	ck_assert_int_eq(store_message_get(v, uid, &m), STORE_OK);
	rows = sql_rows();
	ck_assert_int_eq(store_message_map(v, uid, &data, &len), STORE_OK);
	rows = sql_rows() - rows;
	store_read_release(st);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_msg(memcmp(data, want, len) == 0, "got %.*s", (int)len, data);
	store_message_unmap(data, len);
	return rows;
}

/*
 * Only a message whose file is smaller than the message has a prefix to
 * read: a delivered one with a prefix (and its COPY, which shares the
 * blob) maps with it, reading its blob row; an appended one, or one
 * delivered without a prefix, maps as its file without that look.
 */
START_TEST(test_map_reads_prefix_only_when_there)
{
	char *want = concat(PREFIX_A, MSG_MULTI);
	struct store *st = open_store();
	struct store_view *v;
	uint32_t delivered, appended, bare, copied = 0, uidv;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	delivered = deliver(st, "msg", PREFIX_A, "INBOX");
	appended = append_text(st, "INBOX", MSG_MULTI);
	bare = deliver(st, "msg", NULL, "INBOX");
	v = view(st, "INBOX");
	ck_assert_int_eq(store_copy(v, &delivered, 1, "Archive", false, &uidv,
	    &copied), STORE_OK);
	ck_assert_uint_eq(map_rows(st, v, delivered, want), 1);
	ck_assert_uint_eq(map_rows(st, v, appended, MSG_MULTI), 0);
	ck_assert_uint_eq(map_rows(st, v, bare, MSG_MULTI), 0);
	store_view_close(v);
	v = view(st, "Archive");
	ck_assert_uint_eq(map_rows(st, v, copied, want), 1);
	store_view_close(v);
	/* and outside a hold, each read on its own, the same bytes */
	v = view(st, "INBOX");
	assert_message(v, delivered, want);
	assert_message(v, appended, MSG_MULTI);
	assert_message(v, bare, MSG_MULTI);
	store_view_close(v);
	store_close(st);
	free(want);
}
END_TEST

/* Expunged in one store: the other's message and the spool's file stay. */
START_TEST(test_expunge_one_store)
{
	char *want_b = concat(PREFIX_B, MSG_MULTI);
	struct store *st;
	struct store_view *v;
	uint32_t ua, ub;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	st = open_store();
	ua = deliver(st, "msg", PREFIX_A, "INBOX");
	store_close(st);
	st = open_store2();
	ub = deliver(st, "msg", PREFIX_B, "INBOX");
	store_close(st);

	st = open_store();
	v = view(st, "INBOX");
	ck_assert_int_eq(store_set_flags(v, &ua, 1, STORE_FLAGS_ADD,
	    STORE_FLAG_DELETED, NULL, 0, 0, NULL, NULL, NULL), STORE_OK);
	ck_assert_int_eq(store_expunge(v, NULL, 0, NULL, NULL), STORE_OK);
	store_view_close(v);
	ck_assert_int_eq(count_files(dfd, "blobs"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs"), 0);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);

	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 2);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_size, strlen(MSG_MULTI));
	st = open_store2();
	v = view(st, "INBOX");
	assert_message(v, ub, want_b);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
	free(want_b);
}
END_TEST

/* ---- what a refused delivery leaves: nothing ------------------------------- */

/* No row, no blob, no tmp/ file in the store; the spool's file as it was. */
static void
assert_nothing_left(struct store *st)
{
	struct store_quota q;

	ck_assert_int_eq(store_quota_get(st, &q), STORE_OK);
	ck_assert_uint_eq(q.messages, 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM messages"), 0);
	ck_assert_int_eq(count_files(dfd, "blobs"), 0);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 1);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_size, strlen(MSG_MULTI));
}

START_TEST(test_quota_refused)
{
	struct store *st = open_store();
	enum store_result r;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	/* the file alone fits in 1 KiB, with the prefix too; not in 0 */
	ck_assert_uint_lt(strlen(PREFIX_A MSG_MULTI), 1024);
	ck_assert_int_eq(store_quota_set(st, 0, STORE_QUOTA_NONE), STORE_OK);
	r = deliver_r(st, "msg", PREFIX_A, "INBOX", NULL);
	ck_assert_int_eq(r, STORE_OVERQUOTA);
	ck_assert_ptr_nonnull(strstr(store_error(st), "storage quota"));
	assert_nothing_left(st);
	/* the message limit the same */
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, 0), STORE_OK);
	ck_assert_int_eq(deliver_r(st, "msg", NULL, "INBOX", NULL),
	    STORE_OVERQUOTA);
	assert_nothing_left(st);
	store_close(st);
}
END_TEST

/* The prefix counts: a message that fits without it is refused with it. */
START_TEST(test_quota_counts_prefix)
{
	struct store *st = open_store();
	size_t flen = strlen(MSG_MULTI), plen = strlen(PREFIX_A);
	uint32_t uid;

	/* fill 1 KiB up so that the file fits and file + prefix do not */
	spool_write(spoolfd, "msg", MSG_MULTI, flen);
	{
		char *pad = calloc(1, 1024);
		size_t n = 1024 - flen - plen + 1;

		ck_assert_ptr_nonnull(pad);
		memcpy(pad, "Subject: pad\r\n\r\n", 16);
		memset(pad + 16, 'x', n - 16);
		spool_write(spoolfd, "pad", pad, n);
		free(pad);
	}
	ck_assert_int_eq(store_quota_set(st, 1, STORE_QUOTA_NONE), STORE_OK);
	deliver(st, "pad", NULL, "INBOX");
	ck_assert_int_eq(store_quota_check(st, flen), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, flen + plen), STORE_OVERQUOTA);
	ck_assert_int_eq(deliver_r(st, "msg", PREFIX_A, "INBOX", NULL),
	    STORE_OVERQUOTA);
	ck_assert_int_eq(count_files(dfd, "blobs"), 1);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	uid = deliver(st, "msg", NULL, "INBOX");
	ck_assert_uint_eq(uid, 2);
	/* 1025 - plen used: room for plen - 1 octets */
	ck_assert_int_eq(store_quota_check(st, plen - 1), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, plen), STORE_OVERQUOTA);
	store_close(st);
}
END_TEST

/* store_quota_check at the edges of both limits. */
START_TEST(test_quota_check)
{
	struct store *st = open_store();

	ck_assert_int_eq(store_quota_check(st, UINT64_MAX), STORE_OK);
	ck_assert_int_eq(store_quota_set(st, 2, STORE_QUOTA_NONE), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, 2048), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, 2049), STORE_OVERQUOTA);
	ck_assert_ptr_nonnull(strstr(store_error(st), "2 KiB"));
	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	deliver(st, "msg", PREFIX_B, "INBOX");
	ck_assert_int_eq(store_quota_check(st, 2048 -
	    strlen(PREFIX_B MSG_MULTI)), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, 2049 -
	    strlen(PREFIX_B MSG_MULTI)), STORE_OVERQUOTA);
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, 2), STORE_OK);
	ck_assert_int_eq(store_quota_check(st, 1), STORE_OK);
	deliver(st, "msg", PREFIX_B, "INBOX");
	ck_assert_int_eq(store_quota_check(st, 0), STORE_OVERQUOTA);
	ck_assert_ptr_nonnull(strstr(store_error(st), "message quota"));
	store_close(st);
}
END_TEST

/* A missing or \Noselect mailbox: STORE_NOT_FOUND (lmtpd falls back to
 * INBOX), nothing left. */
START_TEST(test_missing_mailbox)
{
	struct store *st = open_store();

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	ck_assert_int_eq(deliver_r(st, "msg", PREFIX_A, "Nope", NULL),
	    STORE_NOT_FOUND);
	assert_nothing_left(st);
	ck_assert_int_eq(store_mailbox_create(st, "lists/cairn", 0), STORE_OK);
	ck_assert_int_eq(store_mailbox_delete(st, "lists"), STORE_OK);
	ck_assert_int_eq(deliver_r(st, "msg", PREFIX_A, "lists", NULL),
	    STORE_NOT_FOUND);
	assert_nothing_left(st);
	ck_assert_int_eq(deliver_r(st, "msg", PREFIX_A, "bad//name", NULL),
	    STORE_INVALID);
	assert_nothing_left(st);
	/* found in any case, as INBOX always is */
	deliver(st, "msg", PREFIX_A, "inbox");
	store_close(st);
}
END_TEST

/* Lines that are not header fields in CRLF are refused before anything
 * is linked. */
START_TEST(test_prefix_invalid)
{
	static const char *const bad[] = {
		"Return-Path: <a@b>",                      /* no CRLF */
		"Return-Path: <a@b>\n",                    /* bare LF */
		"Return-Path: <a@b>\r\r\n",                /* bare CR */
		"Return-Path: <a@b>\r\n\r\n",              /* ends the header */
		"\r\nReturn-Path: <a@b>\r\n",
		" folded: first\r\n",                      /* no field to fold */
		"Return-Path: <a@b>\r\n \t\r\n",           /* blank fold */
		"No colon here\r\n",
		": no name\r\n",
		"Bad name: x\r\n",
	};
	struct store *st = open_store();
	uint32_t uidvalidity, uid;
	char *big;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(deliver_r(st, "msg", bad[i], "INBOX", NULL) ==
		    STORE_INVALID, "accepted: %s", bad[i]);
	ck_assert_int_eq(store_deliver(st, spoolfd, "msg", "X-A: \0b\r\n", 9,
	    "INBOX", 0, 0, &uidvalidity, &uid), STORE_INVALID);
	ck_assert_int_eq(store_deliver(st, spoolfd, "msg", NULL, 4, "INBOX", 0,
	    0, &uidvalidity, &uid), STORE_INVALID);
	ck_assert_int_eq(store_deliver(st, spoolfd, "msg", NULL, 0, "INBOX", 0,
	    100 * 60, &uidvalidity, &uid), STORE_INVALID);
	/* one byte over the bound; the bound itself is fine */
	ck_assert_ptr_nonnull(big = malloc(STORE_DELIVER_PREFIX_MAX + 2));
	memcpy(big, "X-Pad: ", 7);
	memset(big + 7, 'p', STORE_DELIVER_PREFIX_MAX + 1 - 7 - 2);
	memcpy(big + STORE_DELIVER_PREFIX_MAX + 1 - 2, "\r\n", 3);
	ck_assert_uint_eq(strlen(big), STORE_DELIVER_PREFIX_MAX + 1);
	ck_assert_int_eq(deliver_r(st, "msg", big, "INBOX", NULL), STORE_INVALID);
	assert_nothing_left(st);
	memmove(big + 7, big + 8, STORE_DELIVER_PREFIX_MAX + 1 - 7);
	ck_assert_uint_eq(strlen(big), STORE_DELIVER_PREFIX_MAX);
	{
		char *want = concat(big, MSG_MULTI);
		struct store_view *v;

		uid = deliver(st, "msg", big, "INBOX");
		v = view(st, "INBOX");
		assert_message(v, uid, want);
		store_view_close(v);
		free(want);
	}
	free(big);
	store_close(st);
}
END_TEST

/* What is not a spooled regular file is refused, and left alone. */
START_TEST(test_source_invalid)
{
	struct store *st = open_store();

	ck_assert_int_eq(mkdirat(spoolfd, "dir", 0700), 0);
	ck_assert_int_eq(symlinkat("/etc/passwd", spoolfd, "link"), 0);
	ck_assert_int_eq(mkfifoat(spoolfd, "fifo", 0600), 0);
	ck_assert_int_eq(deliver_r(st, "dir", NULL, "INBOX", NULL), STORE_INVALID);
	ck_assert_int_eq(deliver_r(st, "link", NULL, "INBOX", NULL), STORE_INVALID);
	ck_assert_int_eq(deliver_r(st, "fifo", NULL, "INBOX", NULL), STORE_INVALID);
	ck_assert_int_eq(deliver_r(st, "missing", NULL, "INBOX", NULL),
	    STORE_ERROR);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	ck_assert_int_eq(count_files(dfd, "blobs"), 0);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM messages"), 0);
	ck_assert(S_ISLNK(stat_at(spoolfd, "link").st_mode));
	store_close(st);
}
END_TEST

/* ---- edges of the message --------------------------------------------------- */

/* No prefix: the file is the message, and the blob row holds NULL. */
START_TEST(test_empty_prefix)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t uid;

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	uid = deliver(st, "msg", NULL, "INBOX");
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs WHERE prefix IS NULL"),
	    1);
	v = view(st, "INBOX");
	assert_message(v, uid, MSG_MULTI);
	store_view_close(v);
	uid = deliver(st, "msg", "", "INBOX");
	v = view(st, "INBOX");
	assert_message(v, uid, MSG_MULTI);
	store_view_close(v);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs WHERE prefix IS NULL"),
	    2);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 3);
	store_close(st);
}
END_TEST

/* An empty file: the message is the prefix alone (or nothing). */
START_TEST(test_empty_file)
{
	struct store *st = open_store();
	struct store_view *v;
	uint32_t u1, u2;
	const char *data;
	size_t len;

	spool_write(spoolfd, "msg", "", 0);
	u1 = deliver(st, "msg", PREFIX_B, "INBOX");
	u2 = deliver(st, "msg", NULL, "INBOX");
	v = view(st, "INBOX");
	assert_message(v, u1, PREFIX_B);
	ck_assert_int_eq(store_message_map(v, u2, &data, &len), STORE_OK);
	ck_assert_uint_eq(len, 0);
	store_message_unmap(data, len);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
}
END_TEST

/* Is [start, end) mapped at all? */
static bool
any_mapped(uintptr_t start, uintptr_t end, size_t page)
{
	unsigned char vec;

	for (uintptr_t a = start; a < end; a += page)
		if (mincore((void *)a, page, &vec) == 0 || errno != ENOMEM)
			return true;
	return false;
}

/* Is any page of [start, end) writable, as /proc/self/maps says? */
static bool
any_writable(uintptr_t start, uintptr_t end)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	bool w = false;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f) != NULL) {
		uintptr_t lo, hi;
		char perms[8];

		if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %7s", &lo, &hi,
		    perms) == 3 && lo < end && hi > start && perms[1] == 'w')
			w = true;
	}
	fclose(f);
	return w;
}

/*
 * blob_map_fd, which every reader's mapping goes through, at the edges a
 * delivery cannot reach with its 2 KiB: a prefix of exactly a page, more
 * than a page, a file ending on a page boundary.  The bytes are right,
 * nothing of the region is writable, and unmapping (from the pointer and
 * the length alone, as store_message_unmap does) leaves none of it.
 */
START_TEST(test_map_edges)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	const size_t plens[] = { 0, 1, 2048, page - 1, page, page + 1, 2 * page };
	const size_t flens[] = { 0, 1, page - 1, page, page + 1, 3 * page + 5 };
	struct store *st = open_store();
	char *pfx = malloc(2 * page), *file = malloc(3 * page + 5);
	int fd;

	ck_assert_ptr_nonnull(pfx);
	ck_assert_ptr_nonnull(file);
	for (size_t i = 0; i < 2 * page; i++)
		pfx[i] = (char)('a' + i % 26);
	for (size_t i = 0; i < 3 * page + 5; i++)
		file[i] = (char)('0' + i % 10);
	for (size_t fi = 0; fi < sizeof(flens) / sizeof(flens[0]); fi++) {
		char name[32];

		snprintf(name, sizeof(name), "f%zu", fi);
		spool_write(spoolfd, name, file, flens[fi]);
		fd = openat(spoolfd, name, O_RDONLY);
		ck_assert_int_ge(fd, 0);
		for (size_t pi = 0; pi < sizeof(plens) / sizeof(plens[0]); pi++) {
			size_t plen = plens[pi], flen = flens[fi], len;
			uintptr_t lo, hi;
			const char *data;

			ck_assert_int_eq(blob_map_fd(st, fd, flen, pfx, plen, name,
			    &data, &len), STORE_OK);
			ck_assert_uint_eq(len, plen + flen);
			ck_assert(memcmp(data, pfx, plen) == 0);
			ck_assert(memcmp(data + plen, file, flen) == 0);
			if (len == 0) {
				store_message_unmap(data, len);
				continue;
			}
			lo = (uintptr_t)data & ~(uintptr_t)(page - 1);
			hi = ((uintptr_t)data + len + page - 1) &
			    ~(uintptr_t)(page - 1);
			ck_assert_msg(!any_writable(lo, hi), "plen %zu flen %zu",
			    plen, flen);
			store_message_unmap(data, len);
			ck_assert_msg(!any_mapped(lo, hi, page), "plen %zu flen %zu: "
			    "left mapped", plen, flen);
		}
		close(fd);
	}
	free(pfx);
	free(file);
	store_close(st);
}
END_TEST

/* ---- crash safety, fsck ------------------------------------------------------ */

/*
 * What a delivery killed half-way leaves: a tmp/ link of the spool's file
 * (before the commit's link) or a blobs/ link without a row (before the
 * commit).  fsck removes this store's names, and the spool's file stays.
 * A blob with other links (another store's) is no finding.
 */
START_TEST(test_crash_leftovers)
{
	struct store *st = open_store();
	struct timespec old[2] = { { time(NULL) - 3600, 0 },
	    { time(NULL) - 3600, 0 } };

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	ck_assert_int_eq(utimensat(spoolfd, "msg", old, 0), 0);
	deliver(st, "msg", PREFIX_A, "INBOX");
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	ck_assert_int_eq(linkat(spoolfd, "msg", dfd, "tmp/00000000000000aa", 0), 0);
	ck_assert_int_eq(mkdirat(dfd, "blobs/ee", 0700), 0);
	ck_assert_int_eq(linkat(spoolfd, "msg", dfd, "blobs/ee/ee000000000000ee",
	    0), 0);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 4);
	ck_assert_uint_eq(fsck_problems(st, false), 2);
	ck_assert_uint_eq(fsck_problems(st, true), 2);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 2);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_size, strlen(MSG_MULTI));
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	ck_assert_int_eq(count_files(dfd, "blobs"), 1);
	store_close(st);
}
END_TEST

/* A file whose size no longer matches prefix and row is reported. */
START_TEST(test_fsck_size)
{
	struct store *st = open_store();
	struct stat sb;
	char path[128];

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	deliver(st, "msg", PREFIX_A, "INBOX");
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	sb = only_blob(dfd);
	/* the shared inode, truncated behind the store's back */
	ck_assert_uint_eq(sb.st_ino, stat_at(spoolfd, "msg").st_ino);
	snprintf(path, sizeof(path), "%s/msg", spool);
	ck_assert_int_eq(truncate(path, 10), 0);
	ck_assert_uint_eq(fsck_problems(st, false), 1);
	ck_assert_uint_eq(fsck_problems(st, true), 1);   /* not repaired */
	store_close(st);
}
END_TEST

/* A delivery wakes the sessions watching the store (IDLE). */
START_TEST(test_change_signal)
{
	struct store *a = open_store(), *b = open_store();
	int fd = store_watch_begin(a);

	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	if (fd < 0) {
		fprintf(stderr, "test_change_signal: no inotify here, skipped\n");
	} else {
		ck_assert(!store_watch_changed(a));
		deliver(b, "msg", PREFIX_A, "INBOX");
		ck_assert(store_watch_changed(a));
	}
	store_watch_end(a);
	store_close(b);
	store_close(a);
}
END_TEST

/* ---- the copy where no link can be made ------------------------------------- */

/*
 * The spool on a filesystem of its own (a tmpfs mounted for this test in
 * a mount namespace of its own): linkat() fails with EXDEV and the store
 * copies the file.  Needs root (CAP_SYS_ADMIN); skipped, saying so,
 * where the mount cannot be made.
 */
START_TEST(test_copy_across_filesystems)
{
	char *want = concat(PREFIX_A, MSG_MULTI);
	struct stat sb;
	struct store *st;
	struct store_view *v;
	uint32_t uid;
	int fd;

	if (unshare(CLONE_NEWNS) != 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
	    mount("tmpfs", spool, "tmpfs", 0, "size=1m,mode=0700") != 0) {
		fprintf(stderr, "test_copy_across_filesystems: cannot mount a "
		    "tmpfs (%s): the copy fallback is not tested\n",
		    strerror(errno));
		free(want);
		return;
	}
	/* the descriptor of the mounted directory, not the one beneath */
	ck_assert_int_ge(fd = open(spool, O_RDONLY | O_DIRECTORY), 0);
	close(spoolfd);
	spoolfd = fd;
	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	st = open_store();
	uid = deliver(st, "msg", PREFIX_A, "INBOX");
	sb = only_blob(dfd);
	ck_assert_uint_ne(sb.st_dev, stat_at(spoolfd, "msg").st_dev);
	ck_assert_uint_eq(sb.st_nlink, 1);
	ck_assert_uint_eq(stat_at(spoolfd, "msg").st_nlink, 1);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	v = view(st, "INBOX");
	assert_message(v, uid, want);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	/* refused by quota: the copy goes too */
	ck_assert_int_eq(store_quota_set(st, STORE_QUOTA_NONE, 1), STORE_OK);
	ck_assert_int_eq(deliver_r(st, "msg", PREFIX_A, "INBOX", NULL),
	    STORE_OVERQUOTA);
	ck_assert_int_eq(count_files(dfd, "tmp"), 0);
	ck_assert_int_eq(count_files(dfd, "blobs"), 1);
	store_close(st);
	close(spoolfd);
	ck_assert_int_eq(umount(spool), 0);
	spoolfd = open(spool, O_RDONLY | O_DIRECTORY);
	free(want);
}
END_TEST

/* ---- upgrade ---------------------------------------------------------------- */

/*
 * A store of schema version 6 with a message: opening it adds the prefix
 * column (NULL: the message is its file), and deliveries work in it.
 */
START_TEST(test_schema_v6_upgraded)
{
	static const uint64_t blob = 0x4400000000000001ULL;
	char text[1024], *want = concat(PREFIX_B, MSG_MULTI);
	struct store *st;
	struct store_view *v;
	uint32_t uid;

	snprintf(text, sizeof(text),
	    "INSERT INTO mailboxes (id, name, uidvalidity, uidnext, highestmodseq)"
	    " VALUES (1, 'INBOX', 7, 2, 2);"
	    "INSERT INTO blobs (id, refcount, size) VALUES (%lld, 1, %zu);"
	    "INSERT INTO messages (mailbox_id, uid, modseq, flags, keywords, "
	    "internaldate, tz_minutes, size, blob_id, email_id, thread_id) "
	    "VALUES (1, 1, 2, 0, 0, 0, 0, %zu, %lld, %lld, 1);"
	    "UPDATE meta SET last_thread_id = 1;",
	    (long long)blob, strlen(MSG_MULTI), strlen(MSG_MULTI),
	    (long long)blob, (long long)blob);
	old_store(6, text);
	old_blob_file(blob, MSG_MULTI, strlen(MSG_MULTI));

	st = open_store();
	ck_assert_int_ge(sql_int("PRAGMA user_version"), 7);
	ck_assert_int_eq(sql_int("SELECT count(*) FROM blobs WHERE prefix IS NULL"),
	    1);
	v = view(st, "INBOX");
	assert_message(v, 1, MSG_MULTI);
	store_view_close(v);
	spool_write(spoolfd, "msg", MSG_MULTI, strlen(MSG_MULTI));
	uid = deliver(st, "msg", PREFIX_B, "INBOX");
	ck_assert_uint_eq(uid, 2);
	v = view(st, "INBOX");
	assert_message(v, 1, MSG_MULTI);
	assert_message(v, 2, want);
	store_view_close(v);
	ck_assert_uint_eq(fsck_problems(st, false), 0);
	store_close(st);
	free(want);
}
END_TEST

static Suite *
deliver_suite(void)
{
	Suite *s = suite_create("deliver-store");
	TCase *tc = tcase_create("deliver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_two_stores_one_inode);
	tcase_add_test(tc, test_mime_sees_prefix);
	tcase_add_test(tc, test_fts_sees_prefix);
	tcase_add_test(tc, test_copy_keeps_prefix);
	tcase_add_test(tc, test_map_reads_prefix_only_when_there);
	tcase_add_test(tc, test_expunge_one_store);
	tcase_add_test(tc, test_quota_refused);
	tcase_add_test(tc, test_quota_counts_prefix);
	tcase_add_test(tc, test_quota_check);
	tcase_add_test(tc, test_missing_mailbox);
	tcase_add_test(tc, test_prefix_invalid);
	tcase_add_test(tc, test_source_invalid);
	tcase_add_test(tc, test_empty_prefix);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_map_edges);
	tcase_add_test(tc, test_crash_leftovers);
	tcase_add_test(tc, test_fsck_size);
	tcase_add_test(tc, test_change_signal);
	tcase_add_test(tc, test_copy_across_filesystems);
	tcase_add_test(tc, test_schema_v6_upgraded);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(deliver_suite());
}
