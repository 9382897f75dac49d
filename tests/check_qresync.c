/*
 * Unit tests for imapd/qresync.c: the QRESYNC parameter of SELECT, the
 * narrowing by known UIDs and seq-match-data (RFC 7162 §3.2.5.1,
 * §3.2.5.2), and VANISHED lines (§3.2.10): ranges, and splitting.
 * Arguments come from the real command parser; a mailbox is an array of
 * UIDs.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qresync.h"
#include "parser.h"

/* ---- helpers ------------------------------------------------------------- */

/* "a SELECT INBOX (QRESYNC <list>)": parse the list after QRESYNC. */
static int
parse(const char *list, struct qresync_param *q, const char **why)
{
	static char line[65536];
	const struct imap_command *c;
	struct imap_parser *p;
	size_t used = 0;
	int n = snprintf(line, sizeof(line), "a SELECT INBOX (QRESYNC %s)\r\n", list);
	int rc;

	ck_assert(n > 0 && (size_t)n < sizeof(line));
	p = imap_parser_new(NULL);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(imap_parser_feed(p, line, (size_t)n, &used),
	    IMAP_PARSE_COMMAND);
	c = imap_parser_command(p);
	ck_assert_uint_eq(c->nargs, 2);
	ck_assert_uint_eq(c->args[1].list_count, 2);
	*why = NULL;
	rc = qresync_parse(&c->args[1].list[1], q, why);
	imap_parser_free(p);
	return rc;
}

/* A set as text ("" when empty). */
static char *
set_text(const struct seqset *set)
{
	struct buf b = BUF_INIT;

	seqset_format(set, &b);
	buf_append_str(&b, "");
	return buf_steal(&b, NULL);
}

static void
ck_set(const struct seqset *set, const char *want)
{
	char *got = set_text(set);

	ck_assert_msg(strcmp(got, want) == 0, "got '%s' want '%s'", got, want);
	free(got);
}

/* A mailbox: its UIDs, ascending. */
struct box {
	const uint32_t *uid;
	uint32_t n;
	unsigned calls;
};

static uint32_t
box_uid_at(void *ctx, uint32_t msn)
{
	struct box *b = ctx;

	b->calls++;
	return msn >= 1 && msn <= b->n ? b->uid[msn - 1] : 0;
}

/* The lines of qresync_vanished_lines, joined by '|'. */
struct lines {
	struct buf text;
	size_t count, longest;
};

static void
collect(void *arg, const struct buf *line)
{
	struct lines *l = arg;

	if (l->count++ > 0)
		buf_append_char(&l->text, '|');
	buf_append(&l->text, line->data, line->len);
	if (line->len > l->longest)
		l->longest = line->len;
}

/* ---- the parameter ------------------------------------------------------- */

START_TEST(test_parse_minimal)
{
	struct qresync_param q = QRESYNC_PARAM_INIT;
	const char *why;

	ck_assert_int_eq(parse("(67890007 20050715194045000)", &q, &why), 0);
	ck_assert_uint_eq(q.uidvalidity, 67890007);
	ck_assert(q.modseq == 20050715194045000ULL);
	ck_assert_uint_eq(q.known.n, 0);
	ck_assert_uint_eq(q.match_seqs.n, 0);
	/* the largest of each */
	ck_assert_int_eq(parse("(4294967295 9223372036854775807)", &q, &why), 0);
	ck_assert_uint_eq(q.uidvalidity, 4294967295u);
	ck_assert(q.modseq == 9223372036854775807ULL);
	qresync_param_free(&q);
}
END_TEST

START_TEST(test_parse_full)
{
	struct qresync_param q = QRESYNC_PARAM_INIT;
	const char *why;

	/* the example of RFC 7162 §3.2.5.2, and a known set out of order */
	ck_assert_int_eq(parse("(67890007 90060115194045000 41:211,214:541 "
	    "(1,3,5 41,43,45))", &q, &why), 0);
	ck_set(&q.known, "41:211,214:541");
	ck_set(&q.match_seqs, "1,3,5");
	ck_set(&q.match_uids, "41,43,45");
	ck_assert_int_eq(parse("(1 2 9,3:5,4)", &q, &why), 0);
	ck_set(&q.known, "3:5,9");
	ck_assert_uint_eq(q.match_seqs.n, 0);
	/* seq-match-data without known-uids (the ABNF allows it) */
	ck_assert_int_eq(parse("(1 2 (2:3 7:8))", &q, &why), 0);
	ck_assert_uint_eq(q.known.n, 0);
	ck_set(&q.match_seqs, "2:3");
	ck_set(&q.match_uids, "7:8");
	qresync_param_free(&q);
}
END_TEST

static const struct {
	const char *list;
	const char *why;
} bad_params[] = {
	{ "1", "QRESYNC takes" },
	{ "()", "QRESYNC takes" },
	{ "(1)", "QRESYNC takes" },
	{ "(1 2 3 (1 1) 4)", "QRESYNC takes" },
	{ "(0 2)", "invalid UIDVALIDITY" },
	{ "(4294967296 2)", "invalid UIDVALIDITY" },
	{ "(x 2)", "invalid UIDVALIDITY" },
	{ "(\"1\" 2)", "invalid UIDVALIDITY" },
	{ "(1 0)", "invalid mod-sequence" },
	{ "(1 9223372036854775808)", "invalid mod-sequence" },
	{ "(1 12345678901234567890)", "invalid mod-sequence" },
	{ "(1 -2)", "invalid mod-sequence" },
	{ "(1 2 1:*)", "* is not allowed" },
	{ "(1 2 $)", "invalid set" },
	{ "(1 2 0:3)", "invalid set" },
	{ "(1 2 \"1:3\")", "expected a set" },
	{ "(1 2 1:3 (1:2 5))", "differ in number" },
	{ "(1 2 1:3 (1 2 3))", "match data is (numbers UIDs)" },
	{ "(1 2 1:3 1:3)", "match data is (numbers UIDs)" },
	{ "(1 2 (1 *))", "* is not allowed" },
	{ "(1 2 1:3 (1 5) (1 5))", "QRESYNC takes" },
	{ "(1 2 (1 5) (1 5))", "unexpected argument" },
};

START_TEST(test_parse_bad)
{
	struct qresync_param q = QRESYNC_PARAM_INIT;
	const char *why;

	ck_assert_msg(parse(bad_params[_i].list, &q, &why) == -1, "%s",
	    bad_params[_i].list);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, bad_params[_i].why) != NULL,
	    "%s: why '%s' lacks '%s'", bad_params[_i].list, why, bad_params[_i].why);
	qresync_param_free(&q);
}
END_TEST

/* ---- narrowing ----------------------------------------------------------- */

/* RFC 7162 §3.2.5.2's own example, made into a mailbox. */
START_TEST(test_match_floor)
{
	/* messages 1..12 now hold these UIDs; UID 9 and others went */
	static const uint32_t uids[] = { 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 25 };
	struct box b = { uids, 12, 0 };
	struct qresync_param q = QRESYNC_PARAM_INIT;
	const char *why;

	/* 4 -> 8 matches, 12 -> 24 does not (25): nothing up to 8 */
	ck_assert_int_eq(parse("(1 2 (4,12 8,24))", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 8);
	/* every pair matches: the last one */
	ck_assert_int_eq(parse("(1 2 (1:3,12 2,4,6,25))", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 25);
	/* the first pair fails: a message below went, nothing is known */
	ck_assert_int_eq(parse("(1 2 (2,3 3,6))", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 0);
	/* a later match after a mismatch does not count */
	ck_assert_int_eq(parse("(1 2 (1,2,3 2,5,6))", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 2);
	/* message numbers past the mailbox stop the walk at once */
	b.calls = 0;
	ck_assert_int_eq(parse("(1 2 (1:4294967295 1:4294967295))", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 0);
	ck_assert_uint_le(b.calls, 1);
	/* no data */
	ck_assert_int_eq(parse("(1 2 1:9)", &q, &why), 0);
	ck_assert_uint_eq(qresync_match_floor(&q, box_uid_at, &b), 0);
	qresync_param_free(&q);
}
END_TEST

/* Where a UID range starts among the messages, for every UID around
 * them, with log2(n + 1) looks at most. */
START_TEST(test_msn_from_uid)
{
	static const uint32_t uids[] = { 2, 3, 7, 10, 11, 12, 20 };
	struct box b = { uids, 7, 0 };

	for (uint32_t uid = 1; uid <= 22; uid++) {
		uint32_t want = 1;

		while (want <= b.n && uids[want - 1] < uid)
			want++;
		b.calls = 0;
		ck_assert_uint_eq(qresync_msn_from_uid(box_uid_at, &b, b.n, uid), want);
		ck_assert_uint_le(b.calls, 3);
	}
	ck_assert_uint_eq(qresync_msn_from_uid(box_uid_at, &b, b.n, 4294967295u), 8);
	/* an empty mailbox: none, without a look */
	b.calls = 0;
	ck_assert_uint_eq(qresync_msn_from_uid(box_uid_at, &b, 0, 1), 1);
	ck_assert_uint_eq(b.calls, 0);
}
END_TEST

START_TEST(test_missing)
{
	static const uint32_t uids[] = { 2, 3, 7, 10, 11, 12, 20 };
	struct box b = { uids, 7, 0 };
	struct seqset known = SEQSET_INIT, out = SEQSET_INIT;

	/* 1:UIDNEXT-1 with UIDNEXT 23: every gap, to the end */
	seqset_add_range(&known, 1, 22);
	qresync_missing(&known, 0, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "1,4:6,8:9,13:19,21:22");
	/* the floor (seq-match-data) cuts the low ones */
	seqset_clear(&out);
	qresync_missing(&known, 7, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "8:9,13:19,21:22");
	seqset_clear(&out);
	qresync_missing(&known, 9, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "13:19,21:22");
	/* known-uids restrict it; beyond UIDNEXT nothing can have gone */
	seqset_clear(&known);
	seqset_clear(&out);
	seqset_add_range(&known, 3, 5);
	seqset_add_range(&known, 11, 11);
	seqset_add_range(&known, 13, 14);
	seqset_add_range(&known, 20, 4294967295u);
	qresync_missing(&known, 0, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "4:5,13:14,21:22");
	/* a range ending on a message, and one of a message alone */
	seqset_clear(&known);
	seqset_clear(&out);
	seqset_add_range(&known, 8, 10);
	seqset_add_range(&known, 12, 12);
	qresync_missing(&known, 0, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "8:9");
	/* an empty mailbox: all of it; a mailbox that never had mail: none */
	seqset_clear(&known);
	seqset_clear(&out);
	seqset_add_range(&known, 1, 4294967295u);
	qresync_missing(&known, 0, 6, box_uid_at, &b, 0, &out);
	ck_set(&out, "1:5");
	seqset_clear(&out);
	qresync_missing(&known, 0, 1, box_uid_at, &b, 0, &out);
	ck_set(&out, "");
	/* the floor at or past the last UID: nothing */
	qresync_missing(&known, 22, 23, box_uid_at, &b, b.n, &out);
	ck_set(&out, "");
	seqset_free(&known);
	seqset_free(&out);
}
END_TEST

/* The walk costs what the known ranges hold, not the mailbox. */
START_TEST(test_missing_bounded)
{
	enum { N = 100000 };
	uint32_t *uids = malloc(N * sizeof(*uids));
	struct box b = { uids, N, 0 };
	struct seqset known = SEQSET_INIT, out = SEQSET_INIT;

	ck_assert_ptr_nonnull(uids);
	for (uint32_t i = 0; i < N; i++)
		uids[i] = 2 * i + 1;        /* every even UID went */
	seqset_add_range(&known, 1001, 1005);
	qresync_missing(&known, 0, 2 * N + 1, box_uid_at, &b, N, &out);
	ck_set(&out, "1002,1004");
	ck_assert_uint_lt(b.calls, 64);
	seqset_free(&known);
	seqset_free(&out);
	free(uids);
}
END_TEST

/* ---- VANISHED ------------------------------------------------------------ */

START_TEST(test_set_from_uids)
{
	static const uint32_t desc[] = { 9, 8, 7, 5, 3, 2, 1 };
	static const uint32_t mixed[] = { 5, 1, 3, 2, 5, 4294967295u, 4294967294u };
	struct seqset set = SEQSET_INIT;

	qresync_set_from_uids(desc, 7, &set);
	ck_set(&set, "1:3,5,7:9");
	seqset_clear(&set);
	qresync_set_from_uids(mixed, 7, &set);
	ck_set(&set, "1:3,5,4294967294:4294967295");
	seqset_clear(&set);
	qresync_set_from_uids(desc, 0, &set);
	ck_set(&set, "");
	seqset_free(&set);
}
END_TEST

START_TEST(test_vanished_lines)
{
	static const uint32_t uids[] = { 1, 2, 3, 5, 7, 8, 9 };
	struct seqset set = SEQSET_INIT;
	struct lines l = { BUF_INIT, 0, 0 };

	qresync_set_from_uids(uids, 7, &set);
	qresync_vanished_lines(&set, false, QRESYNC_LINE_MAX, collect, &l);
	ck_assert_str_eq(l.text.data, "VANISHED 1:3,5,7:9");
	buf_reset(&l.text);
	l.count = 0;
	qresync_vanished_lines(&set, true, QRESYNC_LINE_MAX, collect, &l);
	ck_assert_str_eq(l.text.data, "VANISHED (EARLIER) 1:3,5,7:9");
	/* an empty set says nothing */
	seqset_clear(&set);
	l.count = 0;
	qresync_vanished_lines(&set, true, QRESYNC_LINE_MAX, collect, &l);
	ck_assert_uint_eq(l.count, 0);
	seqset_free(&set);
	buf_free(&l.text);
}
END_TEST

/* A long list: several lines, none over the limit, nothing lost, no range
 * cut in two. */
START_TEST(test_vanished_split)
{
	struct seqset set = SEQSET_INIT, back = SEQSET_INIT;
	struct lines l = { BUF_INIT, 0, 0 };
	char *p, *line, *save = NULL;
	size_t lines = 0;

	/* every other UID of 1..20000: 10 000 single-UID ranges */
	for (uint32_t u = 1; u <= 20000; u += 2)
		seqset_add_range(&set, u, u);
	seqset_add_range(&set, 4000000000u, 4294967295u);
	qresync_vanished_lines(&set, false, QRESYNC_LINE_MAX, collect, &l);
	ck_assert_uint_gt(l.count, 1);
	ck_assert_uint_le(l.longest, QRESYNC_LINE_MAX);
	/* each line is a response of its own; together they are the set */
	p = l.text.data;
	for (line = strtok_r(p, "|", &save); line != NULL;
	    line = strtok_r(NULL, "|", &save), lines++) {
		struct seqset part = SEQSET_INIT;
		const char *why;

		ck_assert_msg(strncmp(line, "VANISHED ", 9) == 0, "%s", line);
		ck_assert_int_eq(seqset_parse(line + 9, strlen(line + 9), &part, &why), 0);
		for (size_t i = 0; i < part.n; i++)
			seqset_add_range(&back, part.r[i].lo, part.r[i].hi);
		seqset_free(&part);
	}
	ck_assert_uint_eq(lines, l.count);
	ck_assert_uint_eq(back.n, set.n);
	for (size_t i = 0; i < set.n; i++) {
		ck_assert_uint_eq(back.r[i].lo, set.r[i].lo);
		ck_assert_uint_eq(back.r[i].hi, set.r[i].hi);
	}
	/* a small limit: one range per line at the least */
	buf_reset(&l.text);
	l.count = l.longest = 0;
	seqset_clear(&set);
	seqset_add_range(&set, 1000000000u, 2000000000u);
	seqset_add_range(&set, 3000000000u, 3000000001u);
	seqset_add_range(&set, 4000000000u, 4000000000u);
	qresync_vanished_lines(&set, true, 0, collect, &l);
	ck_assert_str_eq(l.text.data, "VANISHED (EARLIER) 1000000000:2000000000,"
	    "3000000000:3000000001|VANISHED (EARLIER) 4000000000");
	ck_assert_uint_le(l.longest, QRESYNC_LINE_MIN);
	seqset_free(&set);
	seqset_free(&back);
	buf_free(&l.text);
}
END_TEST

static Suite *
qresync_suite(void)
{
	Suite *s = suite_create("qresync");
	TCase *tc = tcase_create("qresync");

	tcase_add_test(tc, test_parse_minimal);
	tcase_add_test(tc, test_parse_full);
	tcase_add_loop_test(tc, test_parse_bad, 0,
	    sizeof(bad_params) / sizeof(bad_params[0]));
	tcase_add_test(tc, test_match_floor);
	tcase_add_test(tc, test_msn_from_uid);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_missing_bounded);
	tcase_add_test(tc, test_set_from_uids);
	tcase_add_test(tc, test_vanished_lines);
	tcase_add_test(tc, test_vanished_split);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(qresync_suite());
}
