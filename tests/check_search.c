/*
 * Unit tests for imapd/search.c: the key parser (valid and invalid key
 * lists, through the real command parser), the matcher on messages made up
 * in memory, its three-valued first pass, case folding and the two date
 * syntaxes.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "search.h"
#include "sentdate.h"

/* ---- helpers ---------------------------------------------------------------- */

/* "t SEARCH <keys>\r\n" through the command parser, then search_parse(). */
static struct search_program *
parse_keys(const char *keys, const char **why)
{
	const struct imap_parser_limits limits = { .max_args = 8192, .max_depth = 64 };
	struct imap_parser *ip = imap_parser_new(&limits);
	struct buf line = BUF_INIT;
	struct search_program *p;
	size_t used = 0;

	ck_assert_ptr_nonnull(ip);
	buf_printf(&line, "t SEARCH%s%s\r\n", keys[0] != '\0' ? " " : "", keys);
	ck_assert_msg(imap_parser_feed(ip, line.data, line.len, &used) ==
	    IMAP_PARSE_COMMAND, "command parser refused '%s'", keys);
	const struct imap_command *c = imap_parser_command(ip);
	*why = NULL;
	p = search_parse(c->args, c->nargs, why);
	imap_parser_free(ip);
	buf_free(&line);
	return p;
}

/* ---- parsing ---------------------------------------------------------------- */

static const char *const valid_keys[] = {
	"ALL", "all", "ANSWERED", "BCC x", "BEFORE 1-Jan-2024", "BEFORE \"01-Jan-2024\"",
	"BODY \"two words\"", "CC {3+}\r\nabc", "DELETED", "DRAFT", "FLAGGED",
	"FROM alice", "HEADER X-Spam-Flag YES", "HEADER Received \"\"",
	"KEYWORD $Junk", "LARGER 0", "LARGER 9223372036854775807", "NEW", "NOT SEEN",
	"OLD", "ON 29-Feb-2024", "OR SEEN FLAGGED", "RECENT", "SEEN",
	"SENTBEFORE 1-jan-2000", "SENTON 1-JAN-2000", "SENTSINCE 1-Jan-2000",
	"SINCE 1-Jan-1900", "SMALLER 10", "SUBJECT \"caf\xc3\xa9\"", "TEXT x", "TO x",
	"UID 1:*", "UID *", "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED",
	"UNKEYWORD foo", "UNSEEN", "1", "1:*", "*", "1,3:5,7", "(SEEN)",
	"(SEEN (FLAGGED (DELETED)))", "OR (SEEN FLAGGED) NOT (DRAFT)",
	"NOT NOT NOT SEEN", "MODSEQ 5", "MODSEQ \"/flags/\\\\Seen\" all 5",
	"MODSEQ \"/flags/$Junk\" priv 0", "SEEN FROM a TO b SUBJECT c 1:5 UID 2",
	"$", "UID $", "NOT $", "OR $ UID $", "OLDER 1", "YOUNGER 86400",
	"older 9223372036854775807", "EMAILID E000000000000ab12", "THREADID T-1_x",
	"EMAILID \"Mx\"", "SAVEDBEFORE 1-Jan-2024", "SAVEDON \"1-Jan-2024\"",
	"savedsince 1-jan-2024", "SAVEDATESUPPORTED", "NOT SAVEDATESUPPORTED",
};

START_TEST(test_valid)
{
	const char *why;
	struct search_program *p = parse_keys(valid_keys[_i], &why);

	ck_assert_msg(p != NULL, "'%s' refused: %s", valid_keys[_i], why);
	ck_assert_ptr_nonnull(p->root);
	search_free(p);
}
END_TEST

static const struct {
	const char *keys;
	const char *why;     /* a substring of the BAD text */
} invalid_keys[] = {
	{ "", "needs a search key" },
	{ "FOO", "Unknown search key FOO" },
	{ "SEEN FOO", "Unknown search key FOO" },
	{ "BEFORE", "BEFORE needs an argument" },
	{ "BEFORE 32-Jan-2024", "BEFORE needs a date" },
	{ "BEFORE 1-Foo-2024", "needs a date" },
	{ "BEFORE 1-Jan-24", "needs a date" },
	{ "BEFORE 001-Jan-2024", "needs a date" },
	{ "BEFORE 29-Feb-2023", "needs a date" },
	{ "ON (1-Jan-2024)", "needs a date" },
	{ "SINCE 1-Jan-2024x", "needs a date" },
	{ "LARGER abc", "LARGER needs a number" },
	{ "LARGER -1", "needs a number" },
	{ "SMALLER 99999999999999999999", "needs a number" },
	{ "LARGER 9223372036854775808", "needs a number" },
	{ "KEYWORD \\Seen", "KEYWORD needs a keyword" },
	{ "UNKEYWORD", "UNKEYWORD needs an argument" },
	{ "HEADER", "HEADER needs an argument" },
	{ "HEADER \"a b\" x", "HEADER needs a field name" },
	{ "HEADER \"\" x", "HEADER needs a field name" },
	{ "HEADER \"a:\" x", "HEADER needs a field name" },
	{ "HEADER X-Foo", "HEADER needs an argument" },
	{ "NOT", "NOT needs a search key" },
	{ "OR SEEN", "OR needs two search keys" },
	{ "OR", "OR needs two search keys" },
	{ "()", "Empty parenthesised search key" },
	{ "(SEEN ())", "Empty parenthesised search key" },
	{ "(SEEN FOO)", "Unknown search key FOO" },
	{ "UID", "UID needs an argument" },
	{ "UID abc", "Invalid sequence set" },
	{ "UID (1)", "UID needs a sequence set" },
	{ "1:x", "Invalid sequence set" },
	{ "0", "Invalid sequence set" },
	{ "$:3", "$ must be the whole sequence set" },
	{ "UID 1,$", "$ must be the whole sequence set" },
	{ "\"SEEN\"", "Search keys are atoms" },
	{ "NIL", "Search keys are atoms" },
	{ "MODSEQ x", "MODSEQ needs a number" },
	{ "MODSEQ \"/foo\" all 5", "MODSEQ entry names" },
	{ "MODSEQ \"/flags/\\\\Seen\" both 5", "MODSEQ entry type" },
	{ "MODSEQ \"/flags/\\\\Seen\" all", "MODSEQ needs an argument" },
	{ "SUBJECT", "SUBJECT needs an argument" },
	{ "SUBJECT (x)", "SUBJECT needs a string" },
	{ "SUBJECT {2+}\r\n\xff\xfe", "not valid UTF-8" },
	{ "OLDER 0", "OLDER needs a number of seconds above 0" },
	{ "EMAILID", "EMAILID needs an argument" },
	{ "EMAILID a.b", "EMAILID needs an object id" },
	{ "THREADID (x)", "THREADID needs an object id" },
	{ "EMAILID \"\"", "EMAILID needs an object id" },
	{ "YOUNGER", "YOUNGER needs an argument" },
	{ "YOUNGER -5", "YOUNGER needs a number" },
	{ "OLDER 1d", "OLDER needs a number" },
	{ "SAVEDON", "SAVEDON needs an argument" },
	{ "SAVEDSINCE 1-Jan", "SAVEDSINCE needs a date" },
	{ "SAVEDBEFORE (1-Jan-2024)", "SAVEDBEFORE needs a date" },
	{ "SAVEDATESUPPORTED 1-Jan-2024", "Invalid sequence set" },
};

START_TEST(test_invalid)
{
	const char *why;
	struct search_program *p = parse_keys(invalid_keys[_i].keys, &why);

	ck_assert_msg(p == NULL, "'%s' accepted", invalid_keys[_i].keys);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, invalid_keys[_i].why) != NULL,
	    "'%s': '%s' lacks '%s'", invalid_keys[_i].keys, why, invalid_keys[_i].why);
}
END_TEST

START_TEST(test_limits)
{
	struct buf keys = BUF_INIT;
	const char *why;
	struct search_program *p;

	/* nesting: NOT NOT ... ALL */
	for (int i = 0; i < SEARCH_MAX_DEPTH - 1; i++)
		buf_append_str(&keys, "NOT ");
	buf_append_str(&keys, "ALL");
	p = parse_keys(keys.data, &why);
	ck_assert_msg(p != NULL, "%s", why);
	search_free(p);
	buf_reset(&keys);
	for (int i = 0; i < SEARCH_MAX_DEPTH + 5; i++)
		buf_append_str(&keys, "NOT ");
	buf_append_str(&keys, "ALL");
	ck_assert_ptr_null(parse_keys(keys.data, &why));
	ck_assert_str_eq(why, "Search keys nested too deeply");

	/* key count: the top-level AND counts too */
	buf_reset(&keys);
	for (int i = 0; i < SEARCH_MAX_KEYS - 1; i++)
		buf_append_str(&keys, i == 0 ? "ALL" : " ALL");
	p = parse_keys(keys.data, &why);
	ck_assert_msg(p != NULL, "%s", why);
	ck_assert_uint_eq(p->n_keys, SEARCH_MAX_KEYS);
	search_free(p);
	buf_append_str(&keys, " ALL");
	ck_assert_ptr_null(parse_keys(keys.data, &why));
	ck_assert_str_eq(why, "Too many search keys");
	buf_free(&keys);
}
END_TEST

START_TEST(test_modseq_flag)
{
	const char *why;
	struct search_program *p = parse_keys("SEEN", &why);

	ck_assert(!p->uses_modseq);
	search_free(p);
	p = parse_keys("OR SEEN MODSEQ 4", &why);
	ck_assert(p->uses_modseq);
	search_free(p);
}
END_TEST

/* ---- matching --------------------------------------------------------------- */

static const char msg1[] =
    "From: Alice <alice@example.org>\r\n"
    "To: bob@example.org\r\n"
    "Subject: Hello World\r\n"
    "Date: Fri, 5 Jan 2024 10:00:00 +0100\r\n"
    "X-Folded: first\r\n second\r\n"
    "\r\n"
    "The quick brown fox\r\n";

static const char msg2[] =
    "From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.de>\r\n"
    "To: alice@example.org\r\n"
    "Cc: Carol <carol@example.net>\r\n"
    "Subject: =?UTF-8?B?Q2Fmw6k=?= menu\r\n"
    "Date: 6 Jan 24 00:30 +0200 (CEST)\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "preamble NOTHERE\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Viele Gr=FC=DFe aus K=F6ln\r\n"
    "--b1\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "c2VjcmV0IHN0dWZm\r\n"
    "--b1--\r\n";

static const char msg3[] =
    "From: dave@example.com\n"
    "Subject: Fwd: report\n"
    "MIME-Version: 1.0\n"
    "Content-Type: multipart/mixed; boundary=zz\n"
    "\n"
    "--zz\n"
    "Content-Type: text/html\n"
    "\n"
    "<p>See the REPORT attached</p>\n"
    "--zz\n"
    "Content-Type: message/rfc822\n"
    "\n"
    "Subject: Inner subject\n"
    "From: eve@example.com\n"
    "\n"
    "Inner body text\n"
    "--zz--\n";

static const char *const kw1[] = { "$Important" };
static const char *const kw3[] = { "junk" };

struct fake {
	struct store_message m;
	const char *data;
};

static struct fake fakes[3];

static void
setup_fakes(void)
{
	memset(fakes, 0, sizeof(fakes));
	/* 2024-01-05 10:00 +0100 */
	fakes[0].m = (struct store_message){ .uid = 10, .modseq = 5,
	    .flags = STORE_FLAG_SEEN, .keywords = kw1, .n_keywords = 1,
	    .internaldate = sentdate_days_from_civil(2024, 1, 5) * 86400 + 9 * 3600,
	    .tz_minutes = 60, .size = 100, .email_id = 0xab12,
	    .thread_id = 0x1f,
	    /* saved 2024-01-07 23:30 UTC */
	    .savedate = sentdate_days_from_civil(2024, 1, 7) * 86400 + 84600 };
	fakes[0].data = msg1;
	/* 2024-01-06 00:30 +0200: the 5th in UTC, the 6th in its own zone */
	fakes[1].m = (struct store_message){ .uid = 20, .modseq = 9,
	    .flags = STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED,
	    .internaldate = sentdate_days_from_civil(2024, 1, 5) * 86400 + 22 * 3600 + 1800,
	    .tz_minutes = 120, .size = 2000, .recent = true,
	    .thread_id = 0x1f };
	/* no save date (stored before they were kept): the internal date's
	 * day, the 6th */
	fakes[1].data = msg2;
	/* 2023-12-31 23:00 -0500: the 1st of January in UTC; no Date: */
	fakes[2].m = (struct store_message){ .uid = 30, .modseq = 12,
	    .flags = STORE_FLAG_DELETED | STORE_FLAG_DRAFT, .keywords = kw3,
	    .n_keywords = 1,
	    .internaldate = sentdate_days_from_civil(2024, 1, 1) * 86400 + 4 * 3600,
	    .tz_minutes = -300, .size = 50000, .recent = true,
	    /* saved 2024-01-08 00:00 UTC */
	    .savedate = sentdate_days_from_civil(2024, 1, 8) * 86400 };
	fakes[2].data = msg3;
}

/* The saved result "$" stands for in run(): the UIDs of messages 1 and 3. */
static struct seq_range saved_ranges[] = { { 10, 10 }, { 30, 30 } };
static const struct seqset saved = { saved_ranges, 2, 2 };

/*
 * What the store keeps of a message for SEARCH (store_message_header_fields):
 * the header lines of the fields store_header_field_cached() names, with
 * their continuation lines, then an empty line.  Made here line by line,
 * independently of the store's MIME code.
 */
static size_t
fields_of(const char *msg, char *out, size_t cap)
{
	size_t len = 0;
	bool keep = false;

	while (*msg != '\0' && *msg != '\r' && *msg != '\n') {
		const char *eol = strchr(msg, '\n');
		size_t n = eol != NULL ? (size_t)(eol - msg) + 1 : strlen(msg);

		if (*msg != ' ' && *msg != '\t') {
			const char *colon = memchr(msg, ':', n);
			char name[64] = "";

			if (colon != NULL && (size_t)(colon - msg) < sizeof(name))
				memcpy(name, msg, (size_t)(colon - msg));
			keep = store_header_field_cached(name);
		}
		if (keep) {
			ck_assert_uint_lt(len + n, cap);
			memcpy(out + len, msg, n);
			len += n;
		}
		msg += n;
	}
	ck_assert_uint_lt(len + 2, cap);
	memcpy(out + len, "\r\n", 3);
	return len + 2;
}

/* Append msn to the space-separated list in out. */
static void
add_msn(char *out, size_t size, uint32_t msn)
{
	size_t len = strlen(out);

	snprintf(out + len, size - len, "%s%u", len > 0 ? " " : "", msn);
}

/* The MSNs that match, "1 3", as the full (data given) match finds them. */
static char *
run(const char *keys)
{
	static char out[64];
	const char *why;
	struct search_program *p = parse_keys(keys, &why);

	ck_assert_msg(p != NULL, "'%s': %s", keys, why);
	search_resolve(p, 3, 30, &saved);
	out[0] = '\0';
	for (uint32_t i = 0; i < 3; i++) {
		struct search_input in = { i + 1, &fakes[i].m, fakes[i].data,
		    strlen(fakes[i].data), NULL, 0 };
		enum search_match r = search_match(p, &in);
		char fields[2048];

		ck_assert_msg(r != SEARCH_MAYBE, "'%s': MAYBE with the data", keys);
		/* without the data: never a different definite answer */
		in.data = NULL;
		in.len = 0;
		enum search_match first = search_match(p, &in);
		ck_assert_msg(first == SEARCH_MAYBE || first == r,
		    "'%s' msg %u: first pass %d, full %d", keys, i + 1, first, r);
		/* nor with the cached header fields alone */
		in.fields_len = fields_of(fakes[i].data, fields, sizeof(fields));
		in.fields = fields;
		enum search_match second = search_match(p, &in);
		ck_assert_msg(second == SEARCH_MAYBE || second == r,
		    "'%s' msg %u: fields pass %d, full %d", keys, i + 1, second, r);
		if (r == SEARCH_YES)
			add_msn(out, sizeof(out), i + 1);
	}
	search_free(p);
	return out;
}

static const struct {
	const char *keys;
	const char *msns;
} match_cases[] = {
	{ "ALL", "1 2 3" },
	{ "SEEN", "1" }, { "UNSEEN", "2 3" },
	{ "ANSWERED", "2" }, { "UNANSWERED", "1 3" },
	{ "FLAGGED", "2" }, { "UNFLAGGED", "1 3" },
	{ "DELETED", "3" }, { "UNDELETED", "1 2" },
	{ "DRAFT", "3" }, { "UNDRAFT", "1 2" },
	{ "KEYWORD $important", "1" }, { "UNKEYWORD $Important", "2 3" },
	{ "KEYWORD JUNK", "3" }, { "KEYWORD nope", "" },
	{ "RECENT", "2 3" }, { "NEW", "2 3" }, { "OLD", "1" },
	{ "LARGER 100", "2 3" }, { "SMALLER 2000", "1" },
	{ "LARGER 99 SMALLER 50000", "1 2" },
	{ "1", "1" }, { "2:*", "2 3" }, { "*", "3" }, { "3:1", "1 2 3" },
	{ "4:5", "" }, { "1,3", "1 3" },
	{ "UID 20:25", "2" }, { "UID *", "3" }, { "UID 1:15,30", "1 3" },
	{ "UID 31:*", "3" },
	{ "BEFORE 6-Jan-2024", "1 3" }, { "ON 6-Jan-2024", "2" },
	{ "SINCE 5-Jan-2024", "1 2" }, { "ON 31-Dec-2023", "3" },
	{ "SINCE 1-Jan-2024", "1 2" }, { "ON \"5-Jan-2024\"", "1" },
	{ "BEFORE 1-Jan-1970", "" },
	{ "SENTON 5-Jan-2024", "1" }, { "SENTON 6-Jan-2024", "2" },
	{ "SENTBEFORE 1-Jan-2024", "3" }, { "SENTSINCE 6-Jan-2024", "2" },
	{ "SENTSINCE 5-Jan-2024 SENTBEFORE 6-Jan-2024", "1" },
	{ "FROM alice", "1" }, { "FROM \"j\xc3\xbcrgen\"", "2" },
	{ "FROM \"J\xc3\x9cRGEN\"", "2" }, { "FROM example", "1 2 3" },
	{ "TO alice", "2" }, { "TO bob", "1" }, { "CC carol", "2" },
	{ "BCC x", "" }, { "BCC \"\"", "" },
	{ "SUBJECT \"caf\xc3\xa9\"", "2" }, { "SUBJECT \"CAF\xc3\x89\"", "2" },
	{ "SUBJECT hello", "1" }, { "SUBJECT \"\"", "1 2 3" },
	{ "SUBJECT \"caf\xc3\xa9 menu\"", "2" },
	{ "HEADER X-Folded \"first second\"", "1" }, { "HEADER x-folded \"\"", "1" },
	{ "HEADER Date \"\"", "1 2" }, { "HEADER Content-Type mixed", "2 3" },
	{ "HEADER Subject Inner", "" },
	{ "BODY quick", "1" }, { "BODY \"gr\xc3\xbc\xc3\x9f" "e\"", "2" },
	{ "BODY \"K\xc3\x96LN\"", "2" }, { "BODY secret", "" }, { "BODY NOTHERE", "" },
	{ "BODY report", "3" }, { "BODY \"inner subject\"", "3" },
	{ "BODY \"inner body\"", "3" }, { "BODY hello", "" }, { "BODY \"\"", "1 2 3" },
	{ "TEXT hello", "1" }, { "TEXT alice", "1 2" },
	{ "TEXT \"subject: caf\"", "2" }, { "TEXT fox", "1" },
	{ "OR SEEN FLAGGED", "1 2" }, { "NOT SEEN", "2 3" },
	{ "(SEEN) (FROM alice)", "1" }, { "OR (SEEN DELETED) DRAFT", "3" },
	{ "NOT (OR SEEN DRAFT)", "2" }, { "OR BODY quick DELETED", "1 3" },
	{ "NOT BODY quick", "2 3" }, { "NOT NOT SEEN", "1" },
	{ "MODSEQ 9", "2 3" }, { "MODSEQ \"/flags/\\\\Seen\" all 6", "2 3" },
	{ "SEEN UNSEEN", "" },
	/* SAVEDATE (RFC 8514): UTC days; without a save date, the internal date */
	{ "SAVEDON 7-Jan-2024", "1" }, { "SAVEDON 6-Jan-2024", "2" },
	{ "SAVEDON 8-Jan-2024", "3" }, { "SAVEDBEFORE 8-Jan-2024", "1 2" },
	{ "SAVEDSINCE 7-Jan-2024", "1 3" }, { "SAVEDSINCE 9-Jan-2024", "" },
	{ "SAVEDBEFORE 6-Jan-2024", "" }, { "SAVEDATESUPPORTED", "1 2 3" },
	{ "NOT SAVEDATESUPPORTED", "" }, { "SAVEDON 7-Jan-2024 SEEN", "1" },
	/* OBJECTID (RFC 8474): ids are case-sensitive, exactly as made; 1 and
	 * 2 share a thread, 3 has none (thread_id 0), which no id names */
	{ "EMAILID E000000000000ab12", "1" }, { "EMAILID E000000000000AB12", "" },
	{ "EMAILID E0000000000000000", "2 3" }, { "EMAILID Mab12", "" },
	{ "NOT EMAILID E000000000000ab12", "2 3" }, { "THREADID T1", "" },
	{ "THREADID T000000000000001f", "1 2" }, { "THREADID T000000000000001F", "" },
	{ "THREADID E000000000000001f", "" }, { "EMAILID T000000000000ab12", "" },
	{ "THREADID T0000000000000000", "" }, { "NOT THREADID T000000000000001f", "3" },
	/* "$" is matched by UID, with or without UID before it (RFC 5182) */
	{ "$", "1 3" }, { "UID $", "1 3" }, { "NOT $", "2" },
	{ "OR $ SEEN", "1 3" }, { "$ 2:3", "3" }, { "UID $ UID 1:15", "1" },
};

START_TEST(test_match)
{
	setup_fakes();
	ck_assert_msg(strcmp(run(match_cases[_i].keys), match_cases[_i].msns) == 0,
	    "'%s': got '%s', want '%s'", match_cases[_i].keys,
	    run(match_cases[_i].keys), match_cases[_i].msns);
}
END_TEST

/* Message i without its file: the row alone, or with the header fields
 * the store caches (the second pass). */
static enum search_match
pass(const char *keys, unsigned i, bool with_fields)
{
	const char *why;
	struct search_program *p = parse_keys(keys, &why);
	char fields[2048];
	struct search_input in = { i + 1, &fakes[i].m, NULL, 0, NULL, 0 };
	enum search_match r;

	ck_assert_ptr_nonnull(p);
	if (with_fields) {
		in.fields_len = fields_of(fakes[i].data, fields, sizeof(fields));
		in.fields = fields;
	}
	search_resolve(p, 3, 30, NULL);
	r = search_match(p, &in);
	search_free(p);
	return r;
}

static enum search_match
first_pass(const char *keys, unsigned i)
{
	return pass(keys, i, false);
}

static enum search_match
fields_pass(const char *keys, unsigned i)
{
	return pass(keys, i, true);
}

START_TEST(test_fields_pass)
{
	setup_fakes();
	/* the fields of ENVELOPE, and Date for SENT*, decide without the file */
	ck_assert_int_eq(fields_pass("SUBJECT hello", 0), SEARCH_YES);
	ck_assert_int_eq(fields_pass("SUBJECT hello", 1), SEARCH_NO);
	ck_assert_int_eq(fields_pass("FROM alice", 0), SEARCH_YES);
	ck_assert_int_eq(fields_pass("CC carol", 1), SEARCH_YES);
	ck_assert_int_eq(fields_pass("BCC x", 0), SEARCH_NO);
	ck_assert_int_eq(fields_pass("HEADER Message-ID \"\"", 2), SEARCH_NO);
	ck_assert_int_eq(fields_pass("SENTON 5-Jan-2024", 0), SEARCH_YES);
	ck_assert_int_eq(fields_pass("SENTBEFORE 1-Jan-2024", 2), SEARCH_YES);
	ck_assert_int_eq(fields_pass("OR SUBJECT hello BODY x", 0), SEARCH_YES);
	/* other fields, and the body, still need the message */
	ck_assert_int_eq(fields_pass("HEADER X-Folded first", 0), SEARCH_MAYBE);
	ck_assert_int_eq(fields_pass("HEADER Content-Type mixed", 1), SEARCH_MAYBE);
	ck_assert_int_eq(fields_pass("BODY quick", 0), SEARCH_MAYBE);
	ck_assert_int_eq(fields_pass("TEXT hello", 0), SEARCH_MAYBE);
	ck_assert_int_eq(fields_pass("SUBJECT hello BODY quick", 0), SEARCH_MAYBE);
	ck_assert_int_eq(fields_pass("SUBJECT nope BODY quick", 0), SEARCH_NO);
	ck_assert(store_header_field_cached("subject"));
	ck_assert(store_header_field_cached("REFERENCES"));
	ck_assert(!store_header_field_cached("Received"));
	ck_assert(!store_header_field_cached(""));
}
END_TEST

/* The MSNs that match with "now" at 2024-01-06 00:00 UTC (RFC 5032). */
static char *
run_at_jan6(const char *keys)
{
	static char out[64];
	const char *why;
	struct search_program *p = parse_keys(keys, &why);

	ck_assert_msg(p != NULL, "'%s': %s", keys, why);
	search_resolve(p, 3, 30, NULL);
	ck_assert_int_ge(p->now, sentdate_days_from_civil(2026, 1, 1) * 86400);
	p->now = sentdate_days_from_civil(2024, 1, 6) * 86400;
	out[0] = '\0';
	for (uint32_t i = 0; i < 3; i++) {
		struct search_input in = { i + 1, &fakes[i].m, NULL, 0, NULL, 0 };

		if (search_match(p, &in) == SEARCH_YES)
			add_msn(out, sizeof(out), i + 1);
	}
	search_free(p);
	return out;
}

START_TEST(test_within)
{
	setup_fakes();
	/* internal dates (UTC): 1: 01-05 09:00, 2: 01-05 22:30, 3: 01-01 04:00 */
	ck_assert_str_eq(run_at_jan6("YOUNGER 3600"), "");
	ck_assert_str_eq(run_at_jan6("YOUNGER 5400"), "2");      /* from 22:30 on */
	ck_assert_str_eq(run_at_jan6("OLDER 5400"), "1 3");
	ck_assert_str_eq(run_at_jan6("OLDER 5401"), "1 3");
	ck_assert_str_eq(run_at_jan6("OLDER 5399"), "1 2 3");
	ck_assert_str_eq(run_at_jan6("YOUNGER 5399"), "");
	ck_assert_str_eq(run_at_jan6("YOUNGER 86400"), "1 2");
	ck_assert_str_eq(run_at_jan6("OLDER 86400"), "3");
	ck_assert_str_eq(run_at_jan6("NOT OLDER 86400"), "1 2");
	ck_assert_str_eq(run_at_jan6("YOUNGER 1000000000"), "1 2 3");
	ck_assert_str_eq(run_at_jan6("OLDER 1000000000"), "");
}
END_TEST

START_TEST(test_first_pass)
{
	setup_fakes();
	/* the flags decide alone: no need to read the message */
	ck_assert_int_eq(first_pass("BODY quick", 0), SEARCH_MAYBE);
	ck_assert_int_eq(first_pass("SEEN BODY quick", 1), SEARCH_NO);
	ck_assert_int_eq(first_pass("SEEN BODY quick", 0), SEARCH_MAYBE);
	ck_assert_int_eq(first_pass("OR SEEN BODY x", 0), SEARCH_YES);
	ck_assert_int_eq(first_pass("OR SEEN BODY x", 1), SEARCH_MAYBE);
	ck_assert_int_eq(first_pass("NOT BODY x", 0), SEARCH_MAYBE);
	ck_assert_int_eq(first_pass("NOT (SEEN SUBJECT x)", 1), SEARCH_YES);
	ck_assert_int_eq(first_pass("SENTON 1-Jan-2024 UID 99", 0), SEARCH_NO);
	ck_assert_int_eq(first_pass("LARGER 10 SMALLER 1000", 0), SEARCH_YES);
	ck_assert_int_eq(first_pass("SAVEDON 7-Jan-2024", 0), SEARCH_YES);
	ck_assert_int_eq(first_pass("SAVEDSINCE 7-Jan-2024", 1), SEARCH_NO);
	/* nothing saved (NULL): "$" names no message, and NOT $ every one */
	ck_assert_int_eq(first_pass("$", 0), SEARCH_NO);
	ck_assert_int_eq(first_pass("UID $", 2), SEARCH_NO);
	ck_assert_int_eq(first_pass("NOT $", 1), SEARCH_YES);
}
END_TEST

/*
 * Keys narrowed by the full-text index (search.h, maybe): a message not
 * among a BODY or TEXT key's candidates fails that key without being
 * read, wherever it stands; a candidate is decided on its text.  Of the
 * fakes only uid 10 has "quick" in its body.
 */
static enum search_match
narrowed(const char *keys, const uint32_t *body_uids, size_t nbody,
    size_t i, bool with_data)
{
	const char *why;
	struct search_program *p = parse_keys(keys, &why);
	struct search_input in = { i + 1, &fakes[i].m, NULL, 0, NULL, 0 };
	enum search_match r;

	ck_assert_msg(p != NULL, "'%s': %s", keys, why);
	search_resolve(p, 3, 30, NULL);
	for (struct search_key *k = p->keys; k != NULL; k = k->all) {
		if (k->type != SEARCH_KEY_BODY && k->type != SEARCH_KEY_TEXT)
			continue;
		k->narrowed = true;
		k->n_maybe = nbody;
		k->maybe = malloc((nbody ? nbody : 1) * sizeof(*k->maybe));
		if (nbody > 0)
			memcpy(k->maybe, body_uids, nbody * sizeof(*k->maybe));
	}
	if (with_data) {
		in.data = fakes[i].data;
		in.len = strlen(fakes[i].data);
	}
	r = search_match(p, &in);
	search_free(p);
	return r;
}

START_TEST(test_narrowed)
{
	static const uint32_t only10[] = { 10 }, ten_thirty[] = { 10, 30 };

	setup_fakes();
	/* ruled out: NO without the message, under NOT: YES */
	ck_assert_int_eq(narrowed("BODY quick", only10, 1, 1, false), SEARCH_NO);
	ck_assert_int_eq(narrowed("TEXT quick", only10, 1, 2, false), SEARCH_NO);
	ck_assert_int_eq(narrowed("NOT BODY quick", only10, 1, 1, false), SEARCH_YES);
	ck_assert_int_eq(narrowed("OR BODY quick BODY x", only10, 1, 2, false),
	    SEARCH_NO);
	ck_assert_int_eq(narrowed("OR BODY quick SEEN", only10, 1, 1, false),
	    SEARCH_NO);
	ck_assert_int_eq(narrowed("NOT (BODY quick UNSEEN)", only10, 1, 1, false),
	    SEARCH_YES);
	/* a candidate still needs its text */
	ck_assert_int_eq(narrowed("BODY quick", only10, 1, 0, false), SEARCH_MAYBE);
	ck_assert_int_eq(narrowed("NOT BODY quick", only10, 1, 0, false),
	    SEARCH_MAYBE);
	ck_assert_int_eq(narrowed("BODY quick", only10, 1, 0, true), SEARCH_YES);
	ck_assert_int_eq(narrowed("NOT BODY quick", only10, 1, 0, true), SEARCH_NO);
	/* a false positive of the index: the text decides */
	ck_assert_int_eq(narrowed("BODY quick", ten_thirty, 2, 2, true), SEARCH_NO);
	ck_assert_int_eq(narrowed("NOT BODY quick", ten_thirty, 2, 2, true),
	    SEARCH_YES);
	/* an empty candidate list rules out every message */
	ck_assert_int_eq(narrowed("BODY quick", NULL, 0, 0, false), SEARCH_NO);
	/* keys that are not narrowed are untouched */
	ck_assert_int_eq(narrowed("SUBJECT x", NULL, 0, 0, false), SEARCH_MAYBE);
}
END_TEST

/* Which programs the cached header fields can help (search_uses_fields). */
START_TEST(test_uses_fields)
{
	static const struct { const char *keys; bool uses; } cases[] = {
		{ "BODY x", false }, { "TEXT x NOT SEEN", false },
		{ "HEADER X-Other y", false }, { "LARGER 10 OR 1:3 BODY x", false },
		{ "FROM x", true }, { "OR BODY x SUBJECT y", true },
		{ "NOT HEADER Message-ID y", true }, { "SENTON 1-Jan-2024", true },
		{ "BODY x (SENTBEFORE 1-Jan-2024)", true },
	};
	const char *why;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct search_program *p = parse_keys(cases[i].keys, &why);

		ck_assert_ptr_nonnull(p);
		ck_assert_msg(search_uses_fields(p) == cases[i].uses, "%s",
		    cases[i].keys);
		search_free(p);
	}
}
END_TEST

START_TEST(test_empty_message)
{
	const char *why;
	struct search_program *p = parse_keys("OR OR BODY x TEXT y SENTON 1-Jan-1970", &why);
	struct store_message m = { .uid = 1, .internaldate = 0 };
	struct search_input in = { 1, &m, "", 0, NULL, 0 };

	ck_assert_ptr_nonnull(p);
	search_resolve(p, 1, 1, NULL);
	/* no Date: the internal date, 1970-01-01 */
	ck_assert_int_eq(search_match(p, &in), SEARCH_YES);
	search_free(p);
	p = parse_keys("OR BODY x HEADER Subject \"\"", &why);
	ck_assert_int_eq(search_match(p, &in), SEARCH_NO);
	search_free(p);
}
END_TEST

/* ---- folding and dates -------------------------------------------------------- */

START_TEST(test_fold)
{
	static const struct { const char *in, *out; } cases[] = {
		{ "Hello WORLD 123", "hello world 123" },
		{ "\xc3\x80\xc3\x89\xc3\x96\xc3\x97\xc3\x9e\xc3\x9f", /* ÀÉÖ×Þß */
		  "\xc3\xa0\xc3\xa9\xc3\xb6\xc3\x97\xc3\xbe\xc3\x9f" },
		{ "\xc4\x80\xc5\x81\xc5\xb8", "\xc4\x81\xc5\x82\xc3\xbf" },   /* ĀŁŸ */
		{ "\xce\x91\xce\xa9", "\xce\xb1\xcf\x89" },                   /* ΑΩ */
		{ "\xd0\x90\xd0\xaf\xd0\x81", "\xd0\xb0\xd1\x8f\xd1\x91" },   /* АЯЁ */
		{ "\xe2\x82\xac\xff", "\xe2\x82\xac\xff" },   /* € and a stray byte */
		{ "", "" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;

		ck_assert_int_eq(search_fold(cases[i].in, strlen(cases[i].in), &b), 0);
		ck_assert_uint_eq(b.len, strlen(cases[i].out));
		ck_assert(b.len == 0 || memcmp(b.data, cases[i].out, b.len) == 0);
		buf_free(&b);
	}
}
END_TEST

START_TEST(test_dates)
{
	static const struct { const char *s; int ok; int64_t day; } dates[] = {
		{ "1-Jan-1970", 1, 0 }, { "01-jan-1970", 1, 0 }, { "2-JAN-1970", 1, 1 },
		{ "31-Dec-1969", 1, -1 }, { "29-Feb-2024", 1, 19782 },
		{ "29-Feb-2000", 1, 11016 }, { "29-Feb-1900", 0, 0 },
		{ "29-Feb-2023", 0, 0 }, { "31-Apr-2024", 0, 0 }, { "0-Jan-2024", 0, 0 },
		{ "1-Jan-24", 0, 0 }, { "1 Jan 2024", 0, 0 }, { "1-Janu-2024", 0, 0 },
		{ "", 0, 0 }, { "123-Jan-2024", 0, 0 }, { "1-Jan-2024 ", 0, 0 },
	};
	int64_t day;

	for (size_t i = 0; i < sizeof(dates) / sizeof(dates[0]); i++) {
		int r = search_parse_date(dates[i].s, strlen(dates[i].s), &day);

		ck_assert_msg((r == 0) == dates[i].ok, "'%s'", dates[i].s);
		if (r == 0)
			ck_assert_msg(day == dates[i].day, "'%s': %lld", dates[i].s,
			    (long long)day);
	}
}
END_TEST

START_TEST(test_datetimes)
{
	static const struct { const char *s; int ok; int64_t t; int tz; } dts[] = {
		{ "01-Jan-1970 00:00:00 +0000", 1, 0, 0 },
		{ " 1-Jan-1970 01:00:00 +0100", 1, 0, 60 },
		{ "31-Dec-1969 23:59:59 -0000", 1, -1, 0 },
		{ "05-Jan-2024 10:00:00 -0830", 1, 1704412800 + 10 * 3600 + 510 * 60, -510 },
		{ "29-feb-2024 23:59:60 +9959", 1, 1709251200 - 5999 * 60, 5999 },
		{ "5-Jan-2024 10:00:00 +0100", 0, 0, 0 },
		{ "05-Jan-2024 10:00:00", 0, 0, 0 },
		{ "05-Jan-2024 10:00:00 +01", 0, 0, 0 },
		{ "05-Jan-2024 24:00:00 +0000", 0, 0, 0 },
		{ "05-Jan-2024 10:60:00 +0000", 0, 0, 0 },
		{ "05-Jan-2024 10:00:61 +0000", 0, 0, 0 },
		{ "05-Jan-2024 10:00:00 +0060", 0, 0, 0 },
		{ "05-Jan-2024 10:00:00 *0000", 0, 0, 0 },
		{ "05-Jan-2024T10:00:00 +0000", 0, 0, 0 },
		{ "30-Feb-2024 10:00:00 +0000", 0, 0, 0 },
		{ "05-Jan-2024 1a:00:00 +0000", 0, 0, 0 },
	};
	int64_t t;
	int tz;

	for (size_t i = 0; i < sizeof(dts) / sizeof(dts[0]); i++) {
		int r = search_parse_datetime(dts[i].s, strlen(dts[i].s), &t, &tz);

		ck_assert_msg((r == 0) == dts[i].ok, "'%s'", dts[i].s);
		if (r == 0) {
			ck_assert_msg(t == dts[i].t, "'%s': %lld", dts[i].s, (long long)t);
			ck_assert_int_eq(tz, dts[i].tz);
		}
	}
}
END_TEST

static Suite *
search_suite(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("parse");

	tcase_add_loop_test(tc, test_valid, 0, sizeof(valid_keys) / sizeof(valid_keys[0]));
	tcase_add_loop_test(tc, test_invalid, 0,
	    sizeof(invalid_keys) / sizeof(invalid_keys[0]));
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_modseq_flag);
	suite_add_tcase(s, tc);
	tc = tcase_create("match");
	tcase_add_loop_test(tc, test_match, 0, sizeof(match_cases) / sizeof(match_cases[0]));
	tcase_add_test(tc, test_fields_pass);
	tcase_add_test(tc, test_within);
	tcase_add_test(tc, test_first_pass);
	tcase_add_test(tc, test_empty_message);
	tcase_add_test(tc, test_narrowed);
	tcase_add_test(tc, test_uses_fields);
	suite_add_tcase(s, tc);
	tc = tcase_create("text");
	tcase_add_test(tc, test_fold);
	tcase_add_test(tc, test_dates);
	tcase_add_test(tc, test_datetimes);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(search_suite());
}
