/*
 * Unit tests for what SORT compares: base subject extraction
 * (store/basesubject.c, RFC 5256 §2.1), the sent date
 * (store/sentdate.c, RFC 5256 §2.2) and the sort keys of a header and
 * their order (imapd/sortkey.c, RFC 5256 §3, RFC 5957).
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basesubject.h"
#include "search.h"
#include "sentdate.h"
#include "sortkey.h"

/* ---- base subject ---------------------------------------------------------- */

static const struct {
	const char *subject;
	const char *base;
	bool reply;
} base_cases[] = {
	{ "", "", false },
	{ "hello", "hello", false },
	{ "Hello   World", "Hello World", false },
	{ "  Re:\t hello \t world  ", "hello world", true },
	{ "Re: hello", "hello", true },
	{ "RE: Re: re:hello", "hello", true },
	{ "re:re:", "", true },
	{ "Re:  ", "", true },
	{ "Fwd: hello", "hello", true },
	{ "FW: hello", "hello", true },
	{ "fw : hello", "hello", true },
	{ "Fwd:Re:hello", "hello", true },
	{ "Re[2]: hello", "hello", true },
	{ "Re [2]: hello", "hello", true },
	{ "Reply: hello", "Reply: hello", false },
	{ "Ref: hello", "Ref: hello", false },
	{ "Aw: hello", "Aw: hello", false },
	/* subj-blob: removed when something is left after it */
	{ "[list] hello", "hello", false },
	{ "[list] Re: hello", "hello", true },
	{ "Re: [list] hello", "hello", true },
	{ "[a][b] Re: x", "x", true },
	{ "Re: Re: [PATCH 1/2] fix", "fix", true },
	{ "[list]", "[list]", false },
	{ "[a] [b]", "[b]", false },
	{ "[]", "[]", false },
	{ "[unclosed hello", "[unclosed hello", false },
	{ "[a[b] x", "[a[b] x", false },
	/* trailers */
	{ "hello (fwd)", "hello", true },
	{ "hello (FWD) (fwd)  ", "hello", true },
	{ "(fwd)", "", true },
	{ "hello(fwd)x", "hello(fwd)x", false },
	/* [fwd: ...] wrappers, from step 2 again */
	{ "[fwd: hello]", "hello", true },
	{ "[Fwd: Re: hello]", "hello", true },
	{ "Re: [Fwd: Re: hello (fwd)]", "hello", true },
	{ "[fwd: [fwd: x]]", "x", true },
	{ "[fwd:]", "", true },
	{ "[fwd: x] trailing", "trailing", false },
	/* all of it at once */
	{ "Re: [foo] Fwd: x (fwd)", "x", true },
	{ "[foo] re: [bar] FWD: [baz] Re[3]: subject  (fwd) ", "subject", true },
};

START_TEST(test_basesubject)
{
	const char *in = base_cases[_i].subject;
	struct buf out = BUF_INIT;
	bool reply = !base_cases[_i].reply;

	ck_assert_int_eq(basesubject(in, strlen(in), &out, &reply), 0);
	ck_assert_msg(strcmp(out.data != NULL ? out.data : "", base_cases[_i].base) == 0,
	    "'%s': '%s'", in, out.data != NULL ? out.data : "");
	ck_assert_msg(reply == base_cases[_i].reply, "'%s': reply %d", in, reply);
	buf_free(&out);
}
END_TEST

/* Step 1 decodes RFC 2047 first: an encoded "Re:" is a leader too. */
START_TEST(test_basesubject_raw)
{
	static const struct {
		const char *raw, *base;
		bool reply;
	} raw[] = {
		{ "=?UTF-8?Q?Re=3A_caf=C3=A9?=", "caf\xc3\xa9", true },
		{ "Re: =?ISO-8859-1?Q?Gr=FC=DFe?= (fwd)", "Gr\xc3\xbc\xc3\x9f" "e", true },
		{ "=?UTF-8?B?W2xpc3RdIGhlbGxv?=", "hello", false },
		{ "plain\r\n folded\r\n\tsubject", "plain folded subject", false },
		{ "=?UTF-8?Q?a?= =?UTF-8?Q?b?=", "ab", false },
	};

	for (size_t i = 0; i < sizeof(raw) / sizeof(raw[0]); i++) {
		struct buf out = BUF_INIT;
		bool reply;

		ck_assert_int_eq(basesubject_raw(raw[i].raw, strlen(raw[i].raw), &out,
		    &reply), 0);
		ck_assert_msg(strcmp(out.data, raw[i].base) == 0, "'%s': '%s'",
		    raw[i].raw, out.data);
		ck_assert_msg(reply == raw[i].reply, "'%s'", raw[i].raw);
		buf_free(&out);
	}
	/* reply may be NULL */
	struct buf out = BUF_INIT;
	ck_assert_int_eq(basesubject("Re: x", 5, &out, NULL), 0);
	ck_assert_str_eq(out.data, "x");
	buf_free(&out);
}
END_TEST

/* i;ascii-casemap: a-z as A-Z, then octets. */
START_TEST(test_casemap)
{
	ck_assert_int_eq(basesubject_cmp("hello", "HELLO"), 0);
	ck_assert_int_eq(basesubject_cmp("", ""), 0);
	ck_assert_int_lt(basesubject_cmp("", "a"), 0);
	ck_assert_int_lt(basesubject_cmp("a", "ab"), 0);
	ck_assert_int_lt(basesubject_cmp("abc", "ABD"), 0);
	ck_assert_int_gt(basesubject_cmp("b", "A"), 0);
	/* '_' (0x5f) is after 'Z' (0x5a): after "a" too, as "a" is "A" */
	ck_assert_int_gt(basesubject_cmp("_", "a"), 0);
	ck_assert_int_gt(basesubject_cmp("[", "a"), 0);
	/* bytes over 127 compare as unsigned, after ASCII */
	ck_assert_int_gt(basesubject_cmp("\xc3\xa9", "z"), 0);
}
END_TEST

/* ---- sent date ------------------------------------------------------------- */

static int64_t
utc(int y, unsigned mo, unsigned d, int h, int mi, int s)
{
	return sentdate_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}

START_TEST(test_sentdate)
{
	static const struct {
		const char *s;
		int ok;
		int y, mo, d, h, mi, sec;       /* the UTC moment */
		bool time_ok, zone_ok;
	} dates[] = {
		{ "Mon, 1 Jan 2024 10:00:00 +0000", 1, 2024, 1, 1, 10, 0, 0, true, true },
		/* RFC 5256 §2.2's example */
		{ "31 Dec 2000 16:01:33 -0800", 1, 2001, 1, 1, 0, 1, 33, true, true },
		{ "1 Jan 2024 10:00 +0100", 1, 2024, 1, 1, 9, 0, 0, true, true },
		{ "1 Jan 24 10:00:00 GMT", 1, 2024, 1, 1, 10, 0, 0, true, true },
		{ "1 Jan 99 10:00:00 EST", 1, 1999, 1, 1, 15, 0, 0, true, true },
		{ "01 jan 2024 10:00:00 pdt", 1, 2024, 1, 1, 17, 0, 0, true, true },
		{ "Fri (day) , 5 (x) Jan 2024 (y) 10:00:00 (z) +0100 (CET)", 1,
		  2024, 1, 5, 9, 0, 0, true, true },
		{ "5 January 2024 10:00:00 +0100", 1, 2024, 1, 5, 9, 0, 0, true, true },
		{ "1 Jan 2024 23:59:60 +0000", 1, 2024, 1, 2, 0, 0, 0, true, true },
		{ "1 Jan 2024 10:00:00 Z", 1, 2024, 1, 1, 10, 0, 0, true, true },
		/* the zone invalid: UTC */
		{ "1 Jan 2024 10:00:00 +0160", 1, 2024, 1, 1, 10, 0, 0, true, false },
		{ "1 Jan 2024 10:00:00 XYZ", 1, 2024, 1, 1, 10, 0, 0, true, false },
		{ "1 Jan 2024 10:00:00", 1, 2024, 1, 1, 10, 0, 0, true, false },
		/* the time invalid too: 00:00:00 UTC */
		{ "1 Jan 2024 25:00:00 +0100", 1, 2024, 1, 1, 0, 0, 0, false, false },
		{ "1 Jan 2024 10 +0100", 1, 2024, 1, 1, 0, 0, 0, false, false },
		{ "1 Jan 2024", 1, 2024, 1, 1, 0, 0, 0, false, false },
		{ "29 Feb 2024 12:00:00 +0000", 1, 2024, 2, 29, 12, 0, 0, true, true },
		/* no valid date */
		{ "", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "junk", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "32 Jan 2024 10:00:00 +0000", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "29 Feb 2023 10:00:00 +0000", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "1 Foo 2024 10:00:00 +0000", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "Jan 1 2024 10:00:00 +0000", 0, 0, 0, 0, 0, 0, 0, false, false },
		{ "1 Jan 20245 10:00:00 +0000", 0, 0, 0, 0, 0, 0, 0, false, false },
	};

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		struct sentdate d;
		int r = sentdate_parse(dates[i].s, strlen(dates[i].s), &d);

		ck_assert_msg((r == 0) == dates[i].ok, "'%s': %d", dates[i].s, r);
		if (r != 0)
			continue;
		ck_assert_msg(sentdate_utc(&d) == utc(dates[i].y, dates[i].mo, dates[i].d,
		    dates[i].h, dates[i].mi, dates[i].sec), "'%s': %lld", dates[i].s,
		    (long long)sentdate_utc(&d));
		ck_assert_msg(d.time_ok == dates[i].time_ok, "'%s' time", dates[i].s);
		ck_assert_msg(d.zone_ok == dates[i].zone_ok, "'%s' zone", dates[i].s);
	}
}
END_TEST

/* SEARCH's SENT* keys take the day as written, not in UTC. */
START_TEST(test_sentdate_day)
{
	struct sentdate d;

	ck_assert_int_eq(sentdate_parse("6 Jan 24 00:30 +0200", 20, &d), 0);
	ck_assert_int_eq(d.day, sentdate_days_from_civil(2024, 1, 6));
	ck_assert_int_eq(sentdate_utc(&d), utc(2024, 1, 5, 22, 30, 0));
}
END_TEST

/* ---- sort keys ---------------------------------------------------------------- */

#define ALL_KEYS (SORTKEY_WANT(SORTKEY_SUBJECT) | SORTKEY_WANT(SORTKEY_FROM) | \
	SORTKEY_WANT(SORTKEY_TO) | SORTKEY_WANT(SORTKEY_CC) | \
	SORTKEY_WANT(SORTKEY_DATE) | SORTKEY_WANT(SORTKEY_DISPLAYFROM) | \
	SORTKEY_WANT(SORTKEY_DISPLAYTO) | SORTKEY_WANT_IDS)

static void
fill(struct sortkey *k, unsigned want, const char *header, int64_t arrival)
{
	memset(k, 0, sizeof(*k));
	k->arrival = arrival;
	sortkey_fill(k, want, header, strlen(header));
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

START_TEST(test_sortkey_fill)
{
	struct sortkey k;

	fill(&k, ALL_KEYS,
	    "From: \"Doe, John\" <JDoe@Example.org>, other@x\r\n"
	    "To: undisclosed-recipients:;\r\n"
	    "Cc: =?UTF-8?Q?J=C3=BCrgen?= <j@x.de>, b@y\r\n"
	    "Subject: Re: [x] Hi\r\n"
	    "Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
	    "Message-ID: <\"a b\"@x>\r\n"
	    "References: <r1@x>\r\n junk <r2@x>\r\n"
	    "In-Reply-To: <irt@x>\r\n"
	    "Subject: second subject is ignored\r\n"
	    "\r\n"
	    "From: in the body <no@no>\r\n", 5);
	ck_assert_str_eq(str(k.from), "JDOE");
	ck_assert_str_eq(str(k.dfrom), "DOE, JOHN");
	ck_assert_str_eq(str(k.to), "UNDISCLOSED-RECIPIENTS");
	ck_assert_str_eq(str(k.dto), "UNDISCLOSED-RECIPIENTS");
	ck_assert_str_eq(str(k.cc), "J");
	ck_assert_str_eq(str(k.subject), "HI");
	ck_assert(k.reply);
	ck_assert_int_eq(k.date, utc(2024, 1, 1, 9, 0, 0));
	ck_assert_str_eq(str(k.msgid), "a b@x");
	ck_assert_uint_eq(k.n_refs, 2);
	ck_assert_str_eq(k.refs[0], "r1@x");
	ck_assert_str_eq(k.refs[1], "r2@x");
	sortkey_free(&k);
	ck_assert_ptr_null(k.from);

	/* without References: the first msg-id of In-Reply-To */
	fill(&k, ALL_KEYS, "In-Reply-To: \"phrase\" <one@x> <two@x>\r\n\r\n", 7);
	ck_assert_uint_eq(k.n_refs, 1);
	ck_assert_str_eq(k.refs[0], "one@x");
	ck_assert_ptr_null(k.msgid);
	/* no Date: the internal date; nothing else: empty keys */
	ck_assert_int_eq(k.date, 7);
	ck_assert_ptr_null(k.subject);
	ck_assert_ptr_null(k.from);
	ck_assert(!k.reply);
	sortkey_free(&k);

	/* References without a valid id: In-Reply-To instead */
	fill(&k, ALL_KEYS, "References: junk\r\nIn-Reply-To: <p@x>\r\n"
	    "Date: not a date\r\n\r\n", 9);
	ck_assert_uint_eq(k.n_refs, 1);
	ck_assert_str_eq(k.refs[0], "p@x");
	ck_assert_int_eq(k.date, 9);
	sortkey_free(&k);
}
END_TEST

/* RFC 5957 §3: the display name decoded, else mailbox@host, else mailbox. */
START_TEST(test_sortkey_display)
{
	static const struct {
		const char *from, *display, *mailbox;
	} cases[] = {
		{ "=?UTF-8?Q?J=C3=BCrgen?= <j@x.de>", "J\xc3\xbcRGEN", "J" },
		{ "bob@example.org", "BOB@EXAMPLE.ORG", "BOB" },
		{ "<bob@example.org>", "BOB@EXAMPLE.ORG", "BOB" },
		{ "\"\" <empty@name>", "EMPTY@NAME", "EMPTY" },
		{ "bob@example.org (Bob Smith)", "BOB SMITH", "BOB" },
		{ "loneword", "LONEWORD", "LONEWORD" },
		{ "Only Name", "ONLY NAME", "" },
		{ "", "", "" },
	};
	struct buf h = BUF_INIT;
	struct sortkey k;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&h);
		buf_printf(&h, "To: %s\r\nFrom: %s\r\n\r\n", cases[i].from, cases[i].from);
		fill(&k, ALL_KEYS, h.data, 0);
		ck_assert_msg(strcmp(str(k.dfrom), cases[i].display) == 0, "'%s': '%s'",
		    cases[i].from, str(k.dfrom));
		ck_assert_str_eq(str(k.dto), cases[i].display);
		ck_assert_str_eq(str(k.from), cases[i].mailbox);
		sortkey_free(&k);
	}
	buf_free(&h);
}
END_TEST

/* Only what is asked for is read. */
START_TEST(test_sortkey_want)
{
	static const struct sortkey_criterion c[] = {
		{ SORTKEY_SIZE, false }, { SORTKEY_CC, true },
	};
	struct sortkey k;

	ck_assert_uint_eq(sortkey_want(c, 2),
	    SORTKEY_WANT(SORTKEY_SIZE) | SORTKEY_WANT(SORTKEY_CC));
	fill(&k, SORTKEY_WANT(SORTKEY_CC), "Cc: a@b\r\nFrom: c@d\r\nSubject: s\r\n"
	    "Date: 1 Jan 2024 00:00 +0000\r\n\r\n", 3);
	ck_assert_str_eq(str(k.cc), "A");
	ck_assert_ptr_null(k.from);
	ck_assert_ptr_null(k.subject);
	ck_assert_int_eq(k.date, 3);
	sortkey_free(&k);
}
END_TEST

/* The bounds: long keys cut on a character boundary, the last
 * SORTKEY_REFS_MAX references kept, over-long ids dropped. */
START_TEST(test_sortkey_bounds)
{
	struct buf h = BUF_INIT;
	struct sortkey k;

	buf_append_str(&h, "Subject: ");
	for (int i = 0; i < 2000; i++)
		buf_append_str(&h, "\xc3\xa9");
	buf_append_str(&h, "\r\nReferences:");
	for (int i = 0; i < 100; i++)
		buf_printf(&h, " <id%d@x>", i);
	buf_append_str(&h, " <");
	for (int i = 0; i < SORTKEY_ID_MAX; i++)
		buf_append_char(&h, 'l');
	buf_append_str(&h, "@x>\r\nMessage-ID: <");
	for (int i = 0; i < SORTKEY_ID_MAX; i++)
		buf_append_char(&h, 'l');
	buf_append_str(&h, "@x> <short@x>\r\n\r\n");
	fill(&k, ALL_KEYS, h.data, 0);
	ck_assert_uint_eq(strlen(k.subject), SORTKEY_STR_MAX);
	ck_assert_uint_eq(k.n_refs, SORTKEY_REFS_MAX);
	ck_assert_str_eq(k.refs[0], "id36@x");
	ck_assert_str_eq(k.refs[SORTKEY_REFS_MAX - 1], "id99@x");
	ck_assert_str_eq(k.msgid, "short@x");
	sortkey_free(&k);
	buf_free(&h);
}
END_TEST

static struct sortkey sk[4];

static void
make_keys(void)
{
	/* msn 1..4; sizes, dates and subjects chosen to disagree; the
	 * strings folded, as the store keeps them (sortkeys.h) */
	static const struct {
		uint64_t size;
		int64_t arrival, date;
		const char *subject, *from;
	} m[4] = {
		{ 300, 40, 10, "B", "ZED" },
		{ 100, 30, 20, "A", "AMY" },
		{ 300, 20, 20, "A", "BOB" },
		{ 200, 10, 5, "C", "BOB" },
	};

	for (int i = 0; i < 4; i++) {
		memset(&sk[i], 0, sizeof(sk[i]));
		sk[i].msn = (uint32_t)i + 1;
		sk[i].uid = (uint32_t)i + 11;
		sk[i].size = m[i].size;
		sk[i].arrival = m[i].arrival;
		sk[i].date = m[i].date;
		sk[i].subject = (char *)m[i].subject;
		sk[i].from = (char *)m[i].from;
	}
}

static const struct sortkey_criterion *cmp_crit;
static size_t cmp_n;
static bool prepare;     /* sortkey_prepare first: the same order */

static int
cmp(const void *a, const void *b)
{
	return sortkey_cmp(a, b, cmp_crit, cmp_n);
}

/* The MSNs in the order crit gives. */
static const char *
order(const struct sortkey_criterion *crit, size_t n)
{
	static char out[32];
	struct sortkey v[4];
	size_t o = 0;

	make_keys();
	memcpy(v, sk, sizeof(v));
	if (prepare)
		for (int i = 0; i < 4; i++)
			sortkey_prepare(&v[i], crit, n);
	cmp_crit = crit;
	cmp_n = n;
	qsort(v, 4, sizeof(v[0]), cmp);
	for (int i = 0; i < 4; i++)
		o += (size_t)snprintf(out + o, sizeof(out) - o, "%s%u", i ? " " : "",
		    v[i].msn);
	return out;
}

START_TEST(test_sortkey_order)
{
	prepare = _i == 1;
	const struct sortkey_criterion size[] = { { SORTKEY_SIZE, false } };
	const struct sortkey_criterion rsize[] = { { SORTKEY_SIZE, true } };
	const struct sortkey_criterion arrival[] = { { SORTKEY_ARRIVAL, false } };
	const struct sortkey_criterion date[] = { { SORTKEY_DATE, false } };
	const struct sortkey_criterion rdate[] = { { SORTKEY_DATE, true } };
	const struct sortkey_criterion subject[] = { { SORTKEY_SUBJECT, false } };
	const struct sortkey_criterion rsubject[] = { { SORTKEY_SUBJECT, true } };
	const struct sortkey_criterion from[] = { { SORTKEY_FROM, false } };
	const struct sortkey_criterion size_date[] = {
		{ SORTKEY_SIZE, true }, { SORTKEY_DATE, false } };
	const struct sortkey_criterion subject_rsize[] = {
		{ SORTKEY_SUBJECT, false }, { SORTKEY_SIZE, true } };
	const struct sortkey_criterion to[] = { { SORTKEY_TO, false } };

	/* ties (msn 1 and 3 of size 300) in mailbox order */
	ck_assert_str_eq(order(size, 1), "2 4 1 3");
	/* REVERSE turns the key around, not the tie-break */
	ck_assert_str_eq(order(rsize, 1), "1 3 4 2");
	ck_assert_str_eq(order(arrival, 1), "4 3 2 1");
	ck_assert_str_eq(order(date, 1), "4 1 2 3");
	ck_assert_str_eq(order(rdate, 1), "2 3 1 4");
	/* i;ascii-casemap: "A" and "a" were folded alike */
	ck_assert_str_eq(order(subject, 1), "2 3 1 4");
	ck_assert_str_eq(order(rsubject, 1), "4 1 2 3");
	ck_assert_str_eq(order(from, 1), "2 3 4 1");
	ck_assert_str_eq(order(size_date, 2), "1 3 4 2");
	ck_assert_str_eq(order(subject_rsize, 2), "3 2 1 4");
	/* no To anywhere: all equal, mailbox order */
	ck_assert_str_eq(order(to, 1), "1 2 3 4");
}
END_TEST

/* The prepared first key: long strings alike in their first 8 bytes,
 * strings that are prefixes of others, dates before 1970. */
START_TEST(test_sortkey_prepared)
{
	const struct sortkey_criterion subject[] = { { SORTKEY_SUBJECT, false } };
	const struct sortkey_criterion rdate[] = { { SORTKEY_DATE, true } };
	struct sortkey a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.msn = 1;
	b.msn = 2;
	a.subject = (char *)"ABCDEFGHIJ2";
	b.subject = (char *)"ABCDEFGHIJ1";
	sortkey_prepare(&a, subject, 1);
	sortkey_prepare(&b, subject, 1);
	ck_assert_uint_eq(a.first, b.first);
	ck_assert_int_gt(sortkey_cmp(&a, &b, subject, 1), 0);
	/* alike in their first 16 bytes: the strings decide */
	a.subject = (char *)"ABCDEFGHIJKLMNOPQ1";
	b.subject = (char *)"ABCDEFGHIJKLMNOPQ2";
	sortkey_prepare(&a, subject, 1);
	sortkey_prepare(&b, subject, 1);
	ck_assert_uint_eq(a.second, b.second);
	ck_assert_int_lt(sortkey_cmp(&a, &b, subject, 1), 0);
	a.subject = (char *)"ABC";
	b.subject = (char *)"ABC\x01";
	sortkey_prepare(&a, subject, 1);
	sortkey_prepare(&b, subject, 1);
	ck_assert_int_lt(sortkey_cmp(&a, &b, subject, 1), 0);
	a.subject = NULL;
	sortkey_prepare(&a, subject, 1);
	ck_assert_int_lt(sortkey_cmp(&a, &b, subject, 1), 0);
	a.date = -5;
	b.date = 3;
	sortkey_prepare(&a, rdate, 1);
	sortkey_prepare(&b, rdate, 1);
	ck_assert_int_gt(sortkey_cmp(&a, &b, rdate, 1), 0);
	b.date = -5;
	sortkey_prepare(&b, rdate, 1);
	ck_assert_int_lt(sortkey_cmp(&a, &b, rdate, 1), 0);   /* by msn */
}
END_TEST

static Suite *
sort_suite(void)
{
	Suite *s = suite_create("sort");
	TCase *tc = tcase_create("basesubject");

	tcase_add_loop_test(tc, test_basesubject, 0,
	    sizeof(base_cases) / sizeof(base_cases[0]));
	tcase_add_test(tc, test_basesubject_raw);
	tcase_add_test(tc, test_casemap);
	suite_add_tcase(s, tc);
	tc = tcase_create("sentdate");
	tcase_add_test(tc, test_sentdate);
	tcase_add_test(tc, test_sentdate_day);
	suite_add_tcase(s, tc);
	tc = tcase_create("sortkey");
	tcase_add_test(tc, test_sortkey_fill);
	tcase_add_test(tc, test_sortkey_display);
	tcase_add_test(tc, test_sortkey_want);
	tcase_add_test(tc, test_sortkey_bounds);
	tcase_add_loop_test(tc, test_sortkey_order, 0, 2);
	tcase_add_test(tc, test_sortkey_prepared);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(sort_suite());
}
