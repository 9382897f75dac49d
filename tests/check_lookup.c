/* Unit tests for authd/lookup.c: which user a delivery address names. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lookup.h"
#include "userdb.h"

#define HASH "$2b$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv."

static char dir[64];
static char path[128];
static struct userdb *db;

static void
setup(void)
{
	char err[256];

	snprintf(dir, sizeof(dir), "/tmp/check_lookup.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, USERDB_FILE);
	db = userdb_open(path, true, false, err, sizeof(err));
	ck_assert_msg(db != NULL, "%s", err);
	ck_assert_int_eq(userdb_add(db, "alice", HASH), USERDB_OK);
	ck_assert_int_eq(userdb_add(db, "bob@example.org", HASH), USERDB_OK);
	ck_assert_int_eq(userdb_add(db, "bob", HASH), USERDB_OK);
	ck_assert_int_eq(userdb_add(db, "carol", HASH), USERDB_OK);
	ck_assert_int_eq(userdb_set_disabled(db, "carol", true), USERDB_OK);
}

static void
teardown(void)
{
	char p[160];

	userdb_close(db);
	(void)unlink(path);
	snprintf(p, sizeof(p), "%s-journal", path);
	(void)unlink(p);
	ck_assert_int_eq(rmdir(dir), 0);
}

static const char *
resolve(const char *address)
{
	static struct userdb_user u;

	switch (lookup_resolve(db, address, &u)) {
	case USERDB_OK:
		return u.name;
	case USERDB_NOT_FOUND:
		return "(none)";
	default:
		return "(error)";
	}
}

START_TEST(test_full_address_first)
{
	/* a user named with the whole address wins over its local part */
	ck_assert_str_eq(resolve("bob@example.org"), "bob@example.org");
	ck_assert_str_eq(resolve("BOB@Example.ORG"), "bob@example.org");
	ck_assert_str_eq(resolve("bob@example.net"), "bob");
}
END_TEST

START_TEST(test_local_part)
{
	ck_assert_str_eq(resolve("alice"), "alice");
	ck_assert_str_eq(resolve("Alice@example.org"), "alice");
	ck_assert_str_eq(resolve("alice@[192.0.2.1]"), "alice");
	/* the last '@' splits: a quoted local part may hold one */
	ck_assert_str_eq(resolve("x@alice@example.org"), "(none)");
}
END_TEST

START_TEST(test_nobody)
{
	ck_assert_str_eq(resolve("mallory@example.org"), "(none)");
	ck_assert_str_eq(resolve("@example.org"), "(none)");
	ck_assert_str_eq(resolve(""), "(none)");
	/* names no user may have are nobody, not errors */
	ck_assert_str_eq(resolve("../alice"), "(none)");
	ck_assert_str_eq(resolve("john smith@example.org"), "(none)");
	ck_assert_str_eq(resolve("al\xc3\xaf" "ce@example.org"), "(none)");
	/* a disabled user is found; the caller says it is disabled */
	struct userdb_user u;
	ck_assert_int_eq(lookup_resolve(db, "carol@example.org", &u), USERDB_OK);
	ck_assert(u.disabled);
	/* no users.db yet: nobody */
	ck_assert_int_eq(lookup_resolve(NULL, "alice", &u), USERDB_NOT_FOUND);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lookup");
	TCase *tc = tcase_create("lookup");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_full_address_first);
	tcase_add_test(tc, test_local_part);
	tcase_add_test(tc, test_nobody);
	suite_add_tcase(s, tc);
	return check_run(s);
}
