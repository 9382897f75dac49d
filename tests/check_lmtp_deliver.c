/*
 * Unit tests for lmtpd/deliver.c: the recipient's store kept open from
 * RCPT to DATA and from one transaction to the next, switched when the
 * recipient is another user, seeing what other processes wrote meanwhile
 * (a second store_open of the same directory stands for one), and
 * holding no read transaction between calls.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deliver.h"
#include "store.h"
#include "store_fixture.h"

#define MSG "From: sender@example.org\r\nSubject: kept open\r\n\r\nbody\r\n"
#define PREFIX "Delivered-To: rcpt@example.org\r\n"
#define SPOOLED "1.spooled"

/* A second user's store and the spool, beside the fixture's store. */
static char dir2[64], spool[64];
static int spoolfd = -1;
static struct deliver_store ds;

static void
setup(void)
{
	int fd;

	store_fixture_setup();
	snprintf(dir2, sizeof(dir2), "/tmp/check_store2.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir2));
	snprintf(spool, sizeof(spool), "/tmp/check_spool.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(spool));
	spoolfd = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(spoolfd, 0);
	fd = openat(spoolfd, SPOOLED, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, MSG, strlen(MSG)), (ssize_t)strlen(MSG));
	ck_assert_int_eq(fsync(fd), 0);
	close(fd);
	deliver_store_init(&ds);
}

static void
teardown(void)
{
	deliver_store_close(&ds);
	close(spoolfd);
	rm_tree(AT_FDCWD, spool);
	rm_tree(AT_FDCWD, dir2);
	store_fixture_teardown();
}

/*
 * A recipient of the user whose store is path, as lookup.c gives it: a
 * descriptor of its own for each RCPT, which the session closes when the
 * transaction ends (done()).
 */
static struct session_rcpt
rcpt(const char *path, const char *user, const char *mailbox)
{
	struct session_rcpt r;

	memset(&r, 0, sizeof(r));
	snprintf(r.user, sizeof(r.user), "%s", user);
	if (mailbox != NULL) {
		r.args.has_mailbox = true;
		snprintf(r.args.mailbox, sizeof(r.args.mailbox), "%s", mailbox);
	}
	r.store_dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(r.store_dirfd, 0);
	return r;
}

static void
done(struct session_rcpt *r)
{
	close(r->store_dirfd);
	r->store_dirfd = -1;
}

static enum session_status
deliver(const struct session_rcpt *r)
{
	struct session_delivery d = {
		.spool_dirfd = spoolfd,
		.spool_name = SPOOLED,
		.size = strlen(MSG),
		.prefix = PREFIX,
		.prefix_len = strlen(PREFIX),
		.internaldate = (int64_t)time(NULL),
		.tz_minutes = 0,
	};

	return deliver_message(&ds, r, &d);
}

/* Messages in mailbox of the store in path, opened (and closed) here. */
static uint32_t
messages_in(const char *path, const char *mailbox)
{
	struct store_status status;
	struct store *st = NULL;
	char err[512];
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_msg(store_open(fd, &st, err, sizeof(err)) == STORE_OK, "%s", err);
	ck_assert_int_eq(store_mailbox_status(st, mailbox, &status), STORE_OK);
	store_close(st);
	close(fd);
	return status.messages;
}

/* ---- the tests ------------------------------------------------------------ */

START_TEST(test_same_user_opens_once)
{
	struct session_rcpt r = rcpt(dir, "alice", NULL);

	/* RCPT with SIZE, then DATA: one open */
	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OK);
	ck_assert_ptr_nonnull(ds.st);
	ck_assert_int_eq(deliver(&r), SESSION_OK);
	done(&r);
	/* the next transaction: its own descriptor, the same store, still
	 * open although the first descriptor is closed */
	r = rcpt(dir, "alice", NULL);
	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OK);
	ck_assert_int_eq(deliver(&r), SESSION_OK);
	done(&r);
	ck_assert_uint_eq(ds.opens, 1);
	deliver_store_close(&ds);
	ck_assert_ptr_null(ds.st);
	ck_assert_int_eq(ds.dirfd, -1);
	ck_assert_uint_eq(messages_in(dir, "INBOX"), 2);
}
END_TEST

/* One store directory per process: another user's recipient closes the
 * store first, whichever way the recipients alternate. */
START_TEST(test_other_user_switches)
{
	struct session_rcpt a = rcpt(dir, "alice", NULL);
	struct session_rcpt b = rcpt(dir2, "bob", NULL);

	ck_assert_int_eq(deliver_quota(&ds, &a, 100), SESSION_OK);
	ck_assert_int_eq(deliver_quota(&ds, &b, 100), SESSION_OK);
	ck_assert_int_eq(deliver(&a), SESSION_OK);
	ck_assert_int_eq(deliver(&b), SESSION_OK);
	ck_assert_int_eq(deliver(&b), SESSION_OK);
	ck_assert_uint_eq(ds.opens, 4);
	done(&a);
	done(&b);
	deliver_store_close(&ds);
	ck_assert_uint_eq(messages_in(dir, "INBOX"), 1);
	ck_assert_uint_eq(messages_in(dir2, "INBOX"), 2);
}
END_TEST

/* What another process changed while the store stayed open is seen by
 * the next check and delivery: the quota, a mailbox made or deleted. */
START_TEST(test_sees_other_writers)
{
	struct session_rcpt r = rcpt(dir, "alice", NULL);
	struct session_rcpt later = rcpt(dir, "alice", "Later");
	struct store *other;

	ck_assert_int_eq(deliver(&r), SESSION_OK);
	other = open_store();
	ck_assert_int_eq(store_quota_set(other, STORE_QUOTA_NONE, 1), STORE_OK);
	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OVERQUOTA);
	ck_assert_int_eq(deliver(&r), SESSION_OVERQUOTA);
	ck_assert_int_eq(store_quota_set(other, STORE_QUOTA_NONE,
	    STORE_QUOTA_NONE), STORE_OK);
	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OK);

	ck_assert_int_eq(store_mailbox_create(other, "Later", 0), STORE_OK);
	ck_assert_int_eq(deliver(&later), SESSION_OK);
	ck_assert_int_eq(store_mailbox_delete(other, "Later"), STORE_OK);
	ck_assert_int_eq(deliver(&later), SESSION_OK);   /* INBOX, then */
	store_close(other);
	ck_assert_uint_eq(ds.opens, 1);
	done(&r);
	done(&later);
	deliver_store_close(&ds);
	ck_assert_uint_eq(messages_in(dir, "INBOX"), 2);
}
END_TEST

/*
 * Between calls the open store holds no read transaction: a TRUNCATE
 * checkpoint, which must wait for every reader of the WAL, completes at
 * once (busy 0; sql_int's connection has no busy timeout).  A read held
 * by another connection shows that it would not.
 */
START_TEST(test_holds_no_read)
{
	struct session_rcpt r = rcpt(dir, "alice", NULL);
	struct store_status status;
	struct store *other;
	struct stat sb;

	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OK);
	ck_assert_int_eq(deliver(&r), SESSION_OK);
	ck_assert_int_eq(deliver_quota(&ds, &r, 100), SESSION_OK);
	ck_assert_int_eq(fstatat(dfd, "index.db-wal", &sb, 0), 0);
	ck_assert_int_gt(sb.st_size, 0);
	ck_assert_int_eq(sql_int("PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	ck_assert_int_eq(fstatat(dfd, "index.db-wal", &sb, 0), 0);
	ck_assert_int_eq(sb.st_size, 0);

	ck_assert_int_eq(deliver(&r), SESSION_OK);
	other = open_store();
	ck_assert_int_eq(store_read_hold(other), STORE_OK);
	ck_assert_int_eq(store_mailbox_status(other, "INBOX", &status), STORE_OK);
	ck_assert_int_eq(sql_int("PRAGMA wal_checkpoint(TRUNCATE)"), 1);
	store_read_release(other);
	store_close(other);
	ck_assert_int_eq(sql_int("PRAGMA wal_checkpoint(TRUNCATE)"), 0);
	done(&r);
}
END_TEST

/* A store that cannot be opened fails the recipient, and the next one
 * of another user still gets theirs. */
START_TEST(test_open_failure)
{
	struct session_rcpt a = rcpt(dir, "alice", NULL);
	struct session_rcpt b = rcpt(dir2, "bob", NULL);
	int fd = openat(dfd, "index.db", O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "not a database, not at all", 26), 26);
	close(fd);
	ck_assert_int_eq(deliver_quota(&ds, &a, 100), SESSION_TEMPFAIL);
	ck_assert_ptr_null(ds.st);
	ck_assert_int_eq(deliver(&a), SESSION_TEMPFAIL);
	ck_assert_int_eq(deliver(&b), SESSION_OK);
	done(&a);
	done(&b);
	deliver_store_close(&ds);
	ck_assert_uint_eq(messages_in(dir2, "INBOX"), 1);
}
END_TEST

static Suite *
lmtp_deliver_suite(void)
{
	Suite *s = suite_create("lmtp_deliver");
	TCase *tc = tcase_create("kept open");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_same_user_opens_once);
	tcase_add_test(tc, test_other_user_switches);
	tcase_add_test(tc, test_sees_other_writers);
	tcase_add_test(tc, test_holds_no_read);
	tcase_add_test(tc, test_open_failure);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(lmtp_deliver_suite());
}
