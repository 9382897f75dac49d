/* Unit tests for authd/userdb.c, against databases in a temporary directory. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "userdb.h"

/* Fixed, well-formed hashes: storing them needs no hashing. */
#define HASH_A "$2b$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv."
#define HASH_B "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDeh" \
    "y0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
#define HASH_Y "$y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a" \
    "8NSOUhDpWt71"

static char dir[64];
static char path[128];
static char err[512];

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_userdb.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, USERDB_FILE);
	err[0] = '\0';
}

static void
teardown(void)
{
	char p[160];
	static const char *const suffixes[] = { "", "-journal", "-wal", "-shm" };

	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, suffixes[i]);
		(void)unlink(p);
	}
	ck_assert_int_eq(rmdir(dir), 0);
}

static struct userdb *
open_new(void)
{
	struct userdb *db = userdb_open(path, true, false, err, sizeof(err));

	ck_assert_msg(db != NULL, "open: %s", err);
	return db;
}

START_TEST(test_create_mode)
{
	struct userdb *db;
	struct stat st;
	mode_t old = umask(0);   /* the mode must not depend on the umask */

	db = open_new();
	umask(old);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert(S_ISREG(st.st_mode));
	userdb_close(db);
	/* Opening it again (create or not) finds the schema. */
	db = open_new();
	userdb_close(db);
	db = userdb_open(path, false, false, err, sizeof(err));
	ck_assert_msg(db != NULL, "reopen: %s", err);
	userdb_close(db);
}
END_TEST

START_TEST(test_schema)
{
	struct userdb *db = open_new();
	sqlite3 *s;
	sqlite3_stmt *st;

	userdb_close(db);
	ck_assert_int_eq(sqlite3_open_v2(path, &s, SQLITE_OPEN_READONLY, NULL),
	    SQLITE_OK);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "PRAGMA user_version", -1, &st,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_int_eq(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "PRAGMA journal_mode", -1, &st,
	    NULL), SQLITE_OK);
	ck_assert_int_eq(sqlite3_step(st), SQLITE_ROW);
	ck_assert_str_eq((const char *)sqlite3_column_text(st, 0), "delete");
	sqlite3_finalize(st);
	ck_assert_int_eq(sqlite3_prepare_v2(s, "SELECT name, hash, disabled, "
	    "quota, created, updated FROM users", -1, &st, NULL), SQLITE_OK);
	sqlite3_finalize(st);
	sqlite3_close(s);
}
END_TEST

START_TEST(test_add_get)
{
	struct userdb *db = open_new();
	struct userdb_user u;
	time_t before = time(NULL);

	ck_assert_int_eq(userdb_add(db, "alice", HASH_Y), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.name, "alice");
	ck_assert_str_eq(u.hash, HASH_Y);
	ck_assert(!u.disabled);
	ck_assert_uint_eq(u.quota, 0);
	ck_assert_int_ge(u.created, (int64_t)before);
	ck_assert_int_le(u.created, (int64_t)time(NULL));
	ck_assert_int_eq(u.updated, u.created);
	ck_assert_int_eq(userdb_add(db, "alice", HASH_A), USERDB_EXISTS);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_Y);
	ck_assert_int_eq(userdb_get(db, "bob", &u), USERDB_NOT_FOUND);
	/* Names are exact: the caller canonicalizes. */
	ck_assert_int_eq(userdb_get(db, "Alice", &u), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_get(db, "alice ", &u), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_get(db, "", &u), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_add(db, "bob@example.org", HASH_B), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "bob@example.org", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_B);
	userdb_close(db);
}
END_TEST

START_TEST(test_modify)
{
	struct userdb *db = open_new();
	struct userdb_user u;

	ck_assert_int_eq(userdb_add(db, "alice", HASH_A), USERDB_OK);
	ck_assert_int_eq(userdb_set_hash(db, "alice", HASH_B), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_B);
	ck_assert_int_ge(u.updated, u.created);

	ck_assert_int_eq(userdb_set_disabled(db, "alice", true), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert(u.disabled);
	/* Disabling twice is not an error. */
	ck_assert_int_eq(userdb_set_disabled(db, "alice", true), USERDB_OK);
	ck_assert_int_eq(userdb_set_disabled(db, "alice", false), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert(!u.disabled);

	ck_assert_int_eq(userdb_set_hash(db, "nobody", HASH_A), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_set_disabled(db, "nobody", true), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_delete(db, "nobody"), USERDB_NOT_FOUND);

	ck_assert_int_eq(userdb_delete(db, "alice"), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_delete(db, "alice"), USERDB_NOT_FOUND);
	/* The name is free again. */
	ck_assert_int_eq(userdb_add(db, "alice", HASH_Y), USERDB_OK);
	userdb_close(db);
}
END_TEST

struct collected {
	char names[8][USERNAME_MAX + 1];
	int n;
	int stop_after;           /* 0: never stop */
};

static int
collect(const struct userdb_user *u, void *arg)
{
	struct collected *c = arg;

	ck_assert_int_lt(c->n, 8);
	snprintf(c->names[c->n], sizeof(c->names[0]), "%s", u->name);
	c->n++;
	return c->stop_after != 0 && c->n >= c->stop_after;
}

START_TEST(test_list)
{
	struct userdb *db = open_new();
	struct collected c;
	static const char *const added[] = { "mallory", "alice", "carol", "bob",
	    "alice@example.org" };
	static const char *const sorted[] = { "alice", "alice@example.org", "bob",
	    "carol", "mallory" };

	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_OK);
	ck_assert_int_eq(c.n, 0);
	for (size_t i = 0; i < 5; i++)
		ck_assert_int_eq(userdb_add(db, added[i], HASH_A), USERDB_OK);
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_OK);
	ck_assert_int_eq(c.n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(c.names[i], sorted[i]);

	memset(&c, 0, sizeof(c));
	c.stop_after = 2;
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_OK);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.names[1], "alice@example.org");
	userdb_close(db);
}
END_TEST

static const char *const bad_names[] = {
	"", "Alice", "../etc", "a/b", ".hidden", "-x", "@x", "a@b@c", "a b",
	"a..b", "caf\xc3\xa9", "a@", "a@-",
};

START_TEST(test_bad_name)
{
	struct userdb *db = open_new();
	struct collected c;

	ck_assert_int_eq(userdb_add(db, bad_names[_i], HASH_A), USERDB_ERROR);
	ck_assert_ptr_nonnull(strstr(userdb_error(db), "invalid user name"));
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_OK);
	ck_assert_int_eq(c.n, 0);
	userdb_close(db);
}
END_TEST

static const char *const bad_hashes[] = {
	"", "secret", "*", "!", "!" HASH_B, "$1$saltsalt$9xy1btjgzLYfb7hivXtC//",
	"$2b$04$short", "$6$", HASH_A "\n",
};

START_TEST(test_name_length)
{
	struct userdb *db = open_new();
	struct userdb_user u;
	char name[USERNAME_MAX + 2];

	memset(name, 'n', USERNAME_MAX + 1);
	name[USERNAME_MAX + 1] = '\0';
	ck_assert_int_eq(userdb_add(db, name, HASH_A), USERDB_ERROR);
	ck_assert_ptr_nonnull(strstr(userdb_error(db), "invalid user name"));
	name[USERNAME_MAX] = '\0';
	ck_assert_int_eq(userdb_add(db, name, HASH_A), USERDB_OK);
	ck_assert_int_eq(userdb_get(db, name, &u), USERDB_OK);
	ck_assert_str_eq(u.name, name);
	userdb_close(db);
}
END_TEST

START_TEST(test_bad_hash)
{
	struct userdb *db = open_new();
	struct userdb_user u;

	ck_assert_int_eq(userdb_add(db, "alice", bad_hashes[_i]), USERDB_ERROR);
	ck_assert_ptr_nonnull(strstr(userdb_error(db), "hash"));
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_NOT_FOUND);
	ck_assert_int_eq(userdb_add(db, "alice", HASH_A), USERDB_OK);
	ck_assert_int_eq(userdb_set_hash(db, "alice", bad_hashes[_i]), USERDB_ERROR);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_A);
	userdb_close(db);
}
END_TEST

START_TEST(test_read_only)
{
	struct userdb *db = open_new();
	struct userdb_user u;
	struct collected c;

	ck_assert_int_eq(userdb_add(db, "alice", HASH_A), USERDB_OK);
	ck_assert_int_eq(userdb_add(db, "bob", HASH_B), USERDB_OK);
	ck_assert_int_eq(userdb_set_disabled(db, "bob", true), USERDB_OK);
	userdb_close(db);

	db = userdb_open(path, false, true, err, sizeof(err));
	ck_assert_msg(db != NULL, "open read-only: %s", err);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_A);
	ck_assert(!u.disabled);
	ck_assert_int_eq(userdb_get(db, "bob", &u), USERDB_OK);
	ck_assert(u.disabled);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_OK);
	ck_assert_int_eq(c.n, 2);

	ck_assert_int_eq(userdb_add(db, "carol", HASH_A), USERDB_ERROR);
	ck_assert_ptr_nonnull(strstr(userdb_error(db), "read-only"));
	ck_assert_int_eq(userdb_set_hash(db, "alice", HASH_B), USERDB_ERROR);
	ck_assert_int_eq(userdb_set_disabled(db, "alice", true), USERDB_ERROR);
	ck_assert_int_eq(userdb_delete(db, "alice"), USERDB_ERROR);
	ck_assert_int_eq(userdb_get(db, "alice", &u), USERDB_OK);
	ck_assert_str_eq(u.hash, HASH_A);
	ck_assert(!u.disabled);
	userdb_close(db);

	/* Read-only with create makes no sense and is refused. */
	ck_assert_ptr_null(userdb_open(path, true, true, err, sizeof(err)));
}
END_TEST

START_TEST(test_missing_file)
{
	struct stat st;

	ck_assert_ptr_null(userdb_open(path, false, true, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_ptr_null(userdb_open(path, false, false, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, path));
	ck_assert_int_ne(stat(path, &st), 0);
}
END_TEST

/* Make a database with a table of its own and the given user_version. */
static void
make_foreign_db(int version)
{
	sqlite3 *s;
	char sql[128];

	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	ck_assert_int_eq(sqlite3_exec(s, "CREATE TABLE users (name TEXT)", NULL,
	    NULL, NULL), SQLITE_OK);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", version);
	ck_assert_int_eq(sqlite3_exec(s, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(s);
}

START_TEST(test_future_version)
{
	make_foreign_db(7);
	ck_assert_ptr_null(userdb_open(path, false, true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "unsupported users.db schema version 7") != NULL,
	    "message: %s", err);
	ck_assert_ptr_null(userdb_open(path, true, false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "unsupported users.db schema version 7") != NULL,
	    "message: %s", err);
}
END_TEST

START_TEST(test_unversioned_tables)
{
	make_foreign_db(0);
	ck_assert_ptr_null(userdb_open(path, true, false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "unsupported users.db schema version 0") != NULL,
	    "message: %s", err);
}
END_TEST

START_TEST(test_empty_file)
{
	struct userdb *db;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	close(fd);
	/* An empty file has no schema: only a creating open makes one. */
	ck_assert_ptr_null(userdb_open(path, false, true, err, sizeof(err)));
	ck_assert_ptr_nonnull(strstr(err, "no schema"));
	ck_assert_ptr_null(userdb_open(path, false, false, err, sizeof(err)));
	db = open_new();
	ck_assert_int_eq(userdb_add(db, "alice", HASH_A), USERDB_OK);
	userdb_close(db);
}
END_TEST

START_TEST(test_not_a_database)
{
	static const char junk[] = "this is not an SQLite database, not at all.\n"
	    "It is long enough to have a header's worth of bytes in it, and more "
	    "than that: one hundred bytes or so.\n";
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, junk, sizeof(junk) - 1), (ssize_t)sizeof(junk) - 1);
	close(fd);
	ck_assert_ptr_null(userdb_open(path, false, true, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a database") != NULL, "message: %s", err);
	ck_assert_ptr_null(userdb_open(path, true, false, err, sizeof(err)));
	ck_assert_msg(strstr(err, "not a database") != NULL, "message: %s", err);
}
END_TEST

START_TEST(test_corrupt_row)
{
	struct userdb *db = open_new();
	struct userdb_user u;
	struct collected c;
	sqlite3 *s;
	char long_name[USERNAME_MAX + 20];

	userdb_close(db);
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	/* Edited by hand: a name too long for struct userdb_user. */
	ck_assert_int_eq(sqlite3_open(path, &s), SQLITE_OK);
	{
		sqlite3_stmt *st;
		ck_assert_int_eq(sqlite3_prepare_v2(s, "INSERT INTO users VALUES "
		    "(?1, 'x', 0, 0, 0, 0)", -1, &st, NULL), SQLITE_OK);
		sqlite3_bind_text(st, 1, long_name, -1, SQLITE_STATIC);
		ck_assert_int_eq(sqlite3_step(st), SQLITE_DONE);
		sqlite3_finalize(st);
	}
	sqlite3_close(s);
	db = userdb_open(path, false, true, err, sizeof(err));
	ck_assert_ptr_nonnull(db);
	ck_assert_int_eq(userdb_get(db, long_name, &u), USERDB_ERROR);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(userdb_list(db, collect, &c), USERDB_ERROR);
	ck_assert_int_eq(c.n, 0);
	userdb_close(db);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("userdb");
	TCase *tc = tcase_create("userdb");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_create_mode);
	tcase_add_test(tc, test_schema);
	tcase_add_test(tc, test_add_get);
	tcase_add_test(tc, test_modify);
	tcase_add_test(tc, test_list);
	tcase_add_loop_test(tc, test_bad_name, 0,
	    (int)(sizeof(bad_names) / sizeof(bad_names[0])));
	tcase_add_test(tc, test_name_length);
	tcase_add_loop_test(tc, test_bad_hash, 0,
	    (int)(sizeof(bad_hashes) / sizeof(bad_hashes[0])));
	tcase_add_test(tc, test_read_only);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_future_version);
	tcase_add_test(tc, test_unversioned_tables);
	tcase_add_test(tc, test_empty_file);
	tcase_add_test(tc, test_not_a_database);
	tcase_add_test(tc, test_corrupt_row);
	suite_add_tcase(s, tc);
	return check_run(s);
}
