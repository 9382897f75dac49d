/* Unit tests for common/username.c: the one rule for user names. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "username.h"

struct name_case {
	const char *name;
	size_t len;               /* 0: strlen(name) */
	bool valid;               /* by username_valid */
	const char *canonical;    /* by username_canonical; NULL: refused */
};

#define S(s) s, sizeof(s) - 1   /* a literal with its exact length */

static const struct name_case cases[] = {
	{ "alice", 0, true, "alice" },
	{ "a", 0, true, "a" },
	{ "bob.smith", 0, true, "bob.smith" },
	{ "a+tag", 0, true, "a+tag" },
	{ "alice@example.org", 0, true, "alice@example.org" },
	{ "x-y_z", 0, true, "x-y_z" },
	{ "_x", 0, true, "_x" },
	{ "+x", 0, true, "+x" },
	{ "0", 0, true, "0" },
	{ "a.", 0, true, "a." },
	{ "a@b-c.d", 0, true, "a@b-c.d" },
	{ "", 0, false, NULL },
	{ ".", 0, false, NULL },
	{ "..", 0, false, NULL },
	{ "../etc", 0, false, NULL },
	{ "a/b", 0, false, NULL },
	{ "/abs", 0, false, NULL },
	{ "a..b", 0, false, NULL },
	{ "a@b..c", 0, false, NULL },
	{ ".hidden", 0, false, NULL },
	{ "-x", 0, false, NULL },
	{ "@x", 0, false, NULL },
	{ "a@b@c", 0, false, NULL },
	/* Decided: the domain is non-empty and starts like a name. */
	{ "a@", 0, false, NULL },
	{ "a@-", 0, false, NULL },
	{ "a@.b", 0, false, NULL },
	{ "a@b_c", 0, false, NULL },
	{ "a@b+c", 0, false, NULL },
	{ "Alice", 0, false, "alice" },
	{ "ALICE@EXAMPLE.ORG", 0, false, "alice@example.org" },
	{ "Bob.Smith+Tag", 0, false, "bob.smith+tag" },
	{ S("a\0b"), false, NULL },
	{ S("alice\0"), false, NULL },
	{ "a b", 0, false, NULL },
	{ " a", 0, false, NULL },
	{ "a\tb", 0, false, NULL },
	{ "a\nb", 0, false, NULL },
	{ "a\rb", 0, false, NULL },
	{ "a\x7f", 0, false, NULL },
	{ "a\x01", 0, false, NULL },
	{ "caf\xc3\xa9", 0, false, NULL },
	{ "CAF\xc3\x89", 0, false, NULL },
	{ "a:b", 0, false, NULL },
	{ "a\\b", 0, false, NULL },
	{ "a*", 0, false, NULL },
	{ "a%2f", 0, false, NULL },
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static size_t
case_len(const struct name_case *c)
{
	return c->len != 0 ? c->len : strlen(c->name);
}

START_TEST(test_valid)
{
	const struct name_case *c = &cases[_i];
	const char *why = NULL;
	bool ok = username_valid(c->name, case_len(c), &why);

	ck_assert_msg(ok == c->valid, "case %d \"%s\": got %d", _i, c->name, ok);
	if (!ok)
		ck_assert_msg(why != NULL && why[0] != '\0', "case %d: no reason", _i);
	ck_assert(username_valid(c->name, case_len(c), NULL) == c->valid);
}
END_TEST

START_TEST(test_canonical)
{
	const struct name_case *c = &cases[_i];
	char out[USERNAME_MAX + 1];
	bool ok = username_canonical(c->name, case_len(c), out, sizeof(out));

	ck_assert_msg(ok == (c->canonical != NULL), "case %d \"%s\": got %d",
	    _i, c->name, ok);
	if (ok)
		ck_assert_str_eq(out, c->canonical);
	else
		ck_assert_str_eq(out, "");
}
END_TEST

START_TEST(test_length_limit)
{
	char name[USERNAME_MAX + 2];
	char out[USERNAME_MAX + 2];

	memset(name, 'a', sizeof(name));
	ck_assert(username_valid(name, USERNAME_MAX, NULL));
	ck_assert(!username_valid(name, USERNAME_MAX + 1, NULL));
	name[0] = 'A';
	ck_assert(username_canonical(name, USERNAME_MAX, out, sizeof(out)));
	ck_assert_uint_eq(strlen(out), USERNAME_MAX);
	ck_assert_int_eq(out[0], 'a');
	ck_assert(!username_canonical(name, USERNAME_MAX + 1, out, sizeof(out)));
}
END_TEST

START_TEST(test_canonical_bounds)
{
	char out[8];

	memset(out, 'x', sizeof(out));
	/* "Alice" needs 6 bytes with its NUL. */
	ck_assert(!username_canonical("Alice", 5, out, 5));
	ck_assert_int_eq(out[0], '\0');
	ck_assert_int_eq(out[5], 'x');     /* nothing written past outlen */
	ck_assert(username_canonical("Alice", 5, out, 6));
	ck_assert_str_eq(out, "alice");
	ck_assert(!username_canonical("Alice", 5, out, 0));
	ck_assert(!username_canonical("a", 1, NULL, 0));
	ck_assert(!username_canonical(NULL, 0, out, sizeof(out)));
	/* len bounds the input: only "Al" is read. */
	ck_assert(username_canonical("Alice", 2, out, sizeof(out)));
	ck_assert_str_eq(out, "al");
}
END_TEST

START_TEST(test_null_name)
{
	const char *why = NULL;

	ck_assert(!username_valid(NULL, 0, &why));
	ck_assert_ptr_nonnull(why);
	ck_assert(!username_valid("alice", 0, NULL));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("username");
	TCase *tc = tcase_create("username");

	tcase_add_loop_test(tc, test_valid, 0, (int)N_CASES);
	tcase_add_loop_test(tc, test_canonical, 0, (int)N_CASES);
	tcase_add_test(tc, test_length_limit);
	tcase_add_test(tc, test_canonical_bounds);
	tcase_add_test(tc, test_null_name);
	suite_add_tcase(s, tc);
	return check_run(s);
}
