/* Unit tests for ctl/config-edit.c: cairnctl config set's file editor. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "config-edit.h"

static char *
edit(const char *text, const char *name, const char *value,
    enum config_edit_where want_where, unsigned want_line)
{
	enum config_edit_where where;
	unsigned line;
	char *out = config_edit_set(text, name, value, &where, &line);

	ck_assert_int_eq(where, want_where);
	ck_assert_uint_eq(line, want_line);
	return out;
}

START_TEST(test_replace_keeps_everything_else)
{
	const char *in = "# top comment\n\nbind-port = 143\n# between\n"
	    "log-level = info   # why info\nmax-concurrent = 4\n";
	char *out = edit(in, "log-level", "\"debug\"", CONFIG_EDIT_REPLACED, 5);

	ck_assert_str_eq(out, "# top comment\n\nbind-port = 143\n# between\n"
	    "log-level = \"debug\"   # why info\nmax-concurrent = 4\n");
	free(out);
}
END_TEST

START_TEST(test_replace_last_of_several)
{
	char *out = edit("a-b = 1\nbind-port = 1\nbind-port=2\n", "bind-port", "3",
	    CONFIG_EDIT_REPLACED, 3);

	ck_assert_str_eq(out, "a-b = 1\nbind-port = 1\nbind-port = 3\n");
	free(out);
}
END_TEST

START_TEST(test_prefix_names_do_not_match)
{
	/* bind-port is not bind-port-tls; a prose comment is no sample */
	char *out = edit("bind-port-tls = 993\n# bind-port is the port\n",
	    "bind-port", "144", CONFIG_EDIT_APPENDED, 3);

	ck_assert_str_eq(out, "bind-port-tls = 993\n# bind-port is the port\n"
	    "bind-port = 144\n");
	free(out);
}
END_TEST

START_TEST(test_uncomment_sample)
{
	const char *in = "# Allow it.\n#allow-plain-text-auth = false\n\n"
	    "#max-concurrent = 16\n";
	char *out = edit(in, "allow-plain-text-auth", "true",
	    CONFIG_EDIT_UNCOMMENTED, 2);

	ck_assert_str_eq(out, "# Allow it.\nallow-plain-text-auth = true\n\n"
	    "#max-concurrent = 16\n");
	free(out);
	/* "# name = x" with a blank is a sample too; an active line wins */
	out = edit("# bind-port = 143\nbind-port = 1\n", "bind-port", "2",
	    CONFIG_EDIT_REPLACED, 2);
	ck_assert_str_eq(out, "# bind-port = 143\nbind-port = 2\n");
	free(out);
}
END_TEST

START_TEST(test_append_adds_newline)
{
	char *out = edit("bind-port = 143", "log-level", "\"info\"",
	    CONFIG_EDIT_APPENDED, 2);

	ck_assert_str_eq(out, "bind-port = 143\nlog-level = \"info\"\n");
	free(out);
	out = edit("", "log-level", "\"info\"", CONFIG_EDIT_APPENDED, 1);
	ck_assert_str_eq(out, "log-level = \"info\"\n");
	free(out);
}
END_TEST

START_TEST(test_multiline_list_replaced_whole)
{
	const char *in = "bind-addr = {\n  \"127.0.0.1\",  # lo\n  \"::1\"\n}\n"
	    "bind-port = 143\n";
	char *out = edit(in, "bind-addr", "{\"10.0.0.1\"}", CONFIG_EDIT_REPLACED, 1);

	ck_assert_str_eq(out, "bind-addr = {\"10.0.0.1\"}\nbind-port = 143\n");
	free(out);
}
END_TEST

START_TEST(test_quoted_hash_is_not_a_comment)
{
	char *out = edit("lmtp-recipient-delimiter = \"#\" # x\n",
	    "lmtp-recipient-delimiter", "\"-\"", CONFIG_EDIT_REPLACED, 1);

	ck_assert_str_eq(out, "lmtp-recipient-delimiter = \"-\" # x\n");
	free(out);
}
END_TEST

static const char *
fmt(enum config_kind kind, const char *value, struct buf *b)
{
	const char *why = NULL;

	buf_reset(b);
	if (config_edit_format(kind, value, b, &why) != 0)
		return NULL;
	buf_append_char(b, '\0');
	return b->data;
}

START_TEST(test_format_values)
{
	struct buf b = BUF_INIT;

	ck_assert_str_eq(fmt(CONFIG_KIND_STRING, "/a b/c", &b), "\"/a b/c\"");
	ck_assert_str_eq(fmt(CONFIG_KIND_STRING, "q\"x\\y", &b), "\"q\\\"x\\\\y\"");
	ck_assert_str_eq(fmt(CONFIG_KIND_STRING, "", &b), "\"\"");
	ck_assert_ptr_null(fmt(CONFIG_KIND_STRING, "a\nb", &b));
	ck_assert_str_eq(fmt(CONFIG_KIND_WORD, "50mb", &b), "50mb");
	ck_assert_str_eq(fmt(CONFIG_KIND_WORD, "true", &b), "true");
	ck_assert_ptr_null(fmt(CONFIG_KIND_WORD, "", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_WORD, "1 # x", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_WORD, "\"1\"", &b));
	ck_assert_str_eq(fmt(CONFIG_KIND_LIST, "127.0.0.1, ::1", &b),
	    "{\"127.0.0.1\", \"::1\"}");
	ck_assert_str_eq(fmt(CONFIG_KIND_LIST, "a", &b), "{\"a\"}");
	ck_assert_str_eq(fmt(CONFIG_KIND_LIST, "", &b), "{}");
	ck_assert_ptr_null(fmt(CONFIG_KIND_LIST, "a,,b", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_LIST, "a,", &b));
	ck_assert_str_eq(fmt(CONFIG_KIND_LIST, "{\"a\", \"b\"}", &b),
	    "{\"a\", \"b\"}");
	ck_assert_str_eq(fmt(CONFIG_KIND_LIST, "{\"}\"}", &b), "{\"}\"}");
	ck_assert_ptr_null(fmt(CONFIG_KIND_LIST, "{\"a\"", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_LIST, "{\"a\"} x = {", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_LIST, "{\"a\"} # c", &b));
	ck_assert_ptr_null(fmt(CONFIG_KIND_UNKNOWN, "1", &b));
	buf_free(&b);
}
END_TEST

START_TEST(test_option_kinds)
{
	ck_assert_int_eq(config_option_kind("bind-addr"), CONFIG_KIND_LIST);
	ck_assert_int_eq(config_option_kind("lmtp-bind"), CONFIG_KIND_LIST);
	ck_assert_int_eq(config_option_kind("log-level"), CONFIG_KIND_STRING);
	ck_assert_int_eq(config_option_kind("bind-port"), CONFIG_KIND_WORD);
	ck_assert_int_eq(config_option_kind("max-request-size"), CONFIG_KIND_WORD);
	ck_assert_int_eq(config_option_kind("allow-plain-text-auth"),
	    CONFIG_KIND_WORD);
	ck_assert_int_eq(config_option_kind("nope"), CONFIG_KIND_UNKNOWN);
	ck_assert_int_eq(config_option_kind(""), CONFIG_KIND_UNKNOWN);
}
END_TEST

/* What the editor writes, the server's parser reads back. */
START_TEST(test_round_trip_through_the_parser)
{
	struct buf b = BUF_INIT;
	const char *why;
	enum config_edit_where where;
	unsigned line;

	ck_assert_int_eq(config_edit_format(CONFIG_KIND_LIST, "127.0.0.1,::1", &b,
	    &why), 0);
	buf_append_char(&b, '\0');
	char *text = config_edit_set("#bind-addr = {\"0.0.0.0\"}\n", "bind-addr",
	    b.data, &where, &line);
	struct cairn_config *cfg = config_parse(text, "t", false, NULL, NULL);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_uint_eq(cfg->n_bind_addrs, 2);
	ck_assert_str_eq(cfg->bind_addrs[1], "::1");
	config_free(cfg);
	free(text);
	buf_reset(&b);
	ck_assert_int_eq(config_edit_format(CONFIG_KIND_STRING, "/tmp/a \"b\"", &b,
	    &why), 0);
	buf_append_char(&b, '\0');
	text = config_edit_set("", "data-dir", b.data, &where, &line);
	cfg = config_parse(text, "t", false, NULL, NULL);
	ck_assert_ptr_nonnull(cfg);
	ck_assert_str_eq(cfg->data_dir, "/tmp/a \"b\"");
	config_free(cfg);
	free(text);
	buf_free(&b);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("config-edit");
	TCase *tc = tcase_create("edit");

	tcase_add_test(tc, test_replace_keeps_everything_else);
	tcase_add_test(tc, test_replace_last_of_several);
	tcase_add_test(tc, test_prefix_names_do_not_match);
	tcase_add_test(tc, test_uncomment_sample);
	tcase_add_test(tc, test_append_adds_newline);
	tcase_add_test(tc, test_multiline_list_replaced_whole);
	tcase_add_test(tc, test_quoted_hash_is_not_a_comment);
	tcase_add_test(tc, test_format_values);
	tcase_add_test(tc, test_option_kinds);
	tcase_add_test(tc, test_round_trip_through_the_parser);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(suite());
}
