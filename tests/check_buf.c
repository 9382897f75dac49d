/* Unit tests for common/buf.c: growth, the hard limit, IMAP strings. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "buf.h"

START_TEST(test_append_and_grow)
{
	struct buf b = BUF_INIT;

	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(buf_append_str(&b, "abc"), 0);
	ck_assert_uint_eq(b.len, 3000);
	ck_assert_uint_eq(strlen(b.data), 3000);
	ck_assert_int_eq(buf_printf(&b, "%d-%s", 42, "x"), 0);
	ck_assert_str_eq(b.data + 3000, "42-x");
	buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	buf_free(&b);
}
END_TEST

START_TEST(test_limit)
{
	struct buf b = BUF_INIT;

	b.limit = 10;
	ck_assert_int_eq(buf_append_str(&b, "0123456789"), 0);
	ck_assert_int_eq(buf_append_char(&b, 'x'), -1);
	ck_assert(b.overflow);
	/* once over, everything is refused: no silent half-appends */
	ck_assert_int_eq(buf_append(&b, "", 0), -1);
	ck_assert_int_eq(buf_printf(&b, "%s", "y"), -1);
	ck_assert_uint_eq(b.len, 10);
	buf_free(&b);
}
END_TEST

static const struct {
	const char *in;
	size_t len;
	const char *out;
} imap_cases[] = {
	{ "abc", 3, "\"abc\"" },
	{ "", 0, "\"\"" },
	{ "a\"b\\c", 5, "\"a\\\"b\\\\c\"" },
	{ "a\r\nb", 4, "{4}\r\na\r\nb" },
	{ "caf\xc3\xa9", 5, "{5}\r\ncaf\xc3\xa9" },
	{ "a\0b", 3, "{3}\r\na\0b" },
	{ NULL, 0, "NIL" },
};

START_TEST(test_imap_string)
{
	struct buf b = BUF_INIT;

	ck_assert_int_eq(buf_append_imap_string(&b, imap_cases[_i].in, imap_cases[_i].len), 0);
	ck_assert_uint_eq(b.len, strlen(imap_cases[_i].out) +
	    (imap_cases[_i].in != NULL && memchr(imap_cases[_i].in, 0, imap_cases[_i].len) ? 2 : 0));
	ck_assert_mem_eq(b.data, imap_cases[_i].out, b.len);
	buf_free(&b);
}
END_TEST

START_TEST(test_append_uint)
{
	struct buf b = BUF_INIT;

	buf_append_uint(&b, 0);
	buf_append_char(&b, ' ');
	buf_append_uint(&b, 4294967295u);
	buf_append_char(&b, ' ');
	buf_append_uint(&b, UINT64_MAX);
	buf_append_char(&b, '\0');
	ck_assert_str_eq(b.data, "0 4294967295 18446744073709551615");
	buf_free(&b);
}
END_TEST

START_TEST(test_steal)
{
	struct buf b = BUF_INIT;
	size_t len;
	char *p;

	p = buf_steal(&b, &len);
	ck_assert_str_eq(p, "");
	ck_assert_uint_eq(len, 0);
	free(p);
	buf_append_str(&b, "hello");
	p = buf_steal(&b, &len);
	ck_assert_str_eq(p, "hello");
	ck_assert_ptr_null(b.data);
	free(p);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("buf");
	TCase *tc = tcase_create("buf");

	tcase_add_test(tc, test_append_and_grow);
	tcase_add_test(tc, test_limit);
	tcase_add_loop_test(tc, test_imap_string, 0, sizeof(imap_cases) / sizeof(imap_cases[0]));
	tcase_add_test(tc, test_append_uint);
	tcase_add_test(tc, test_steal);
	suite_add_tcase(s, tc);
	return check_run(s);
}
