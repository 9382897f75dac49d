/*
 * Unit tests for lmtpd/lmtp.c and lmtpd/trace.c: command lines, paths,
 * parameters, xtext, the DATA decoder (dot-stuffing, the end only at
 * CRLF.CRLF, bare LF and CR, long lines, 8-bit data) and the trace lines.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lmtp.h"
#include "trace.h"

/* ---- verbs ----------------------------------------------------------------- */

START_TEST(test_verbs)
{
	const char *args;
	size_t n;

	ck_assert_int_eq(lmtp_verb("LHLO x", 6, &args, &n), LMTP_LHLO);
	ck_assert_uint_eq(n, 1);
	ck_assert_int_eq(args[0], 'x');
	ck_assert_int_eq(lmtp_verb("lhlo x", 6, &args, &n), LMTP_LHLO);
	ck_assert_int_eq(lmtp_verb("Mail FROM:<>", 12, &args, &n), LMTP_MAIL);
	ck_assert_uint_eq(n, 7);
	ck_assert_int_eq(lmtp_verb("DATA", 4, &args, &n), LMTP_DATA);
	ck_assert_uint_eq(n, 0);
	ck_assert_int_eq(lmtp_verb("QUIT", 4, &args, &n), LMTP_QUIT);
	ck_assert_int_eq(lmtp_verb("EHLO a", 6, &args, &n), LMTP_EHLO);
	ck_assert_int_eq(lmtp_verb("HELO a", 6, &args, &n), LMTP_HELO);
	ck_assert_int_eq(lmtp_verb("DATAX", 5, &args, &n), LMTP_UNKNOWN);
	ck_assert_int_eq(lmtp_verb("DAT", 3, &args, &n), LMTP_UNKNOWN);
	ck_assert_int_eq(lmtp_verb("", 0, &args, &n), LMTP_UNKNOWN);
	/* the length given counts, not a NUL: "DATA\0x" is no DATA */
	ck_assert_int_eq(lmtp_verb("DATA\0x", 6, &args, &n), LMTP_UNKNOWN);
}
END_TEST

/* ---- MAIL ------------------------------------------------------------------ */

static const char *
mail(const char *args, struct lmtp_mail *m)
{
	return lmtp_parse_mail(args, strlen(args), m);
}

START_TEST(test_mail_paths)
{
	struct lmtp_mail m;

	ck_assert_ptr_null(mail("FROM:<bob@example.org>", &m));
	ck_assert_str_eq(m.from.text, "bob@example.org");
	ck_assert_str_eq(m.from.local, "bob");
	ck_assert_str_eq(m.from.domain, "example.org");
	ck_assert(!m.has_size);
	ck_assert_int_eq(m.body, LMTP_BODY_NONE);
	/* the null reverse-path */
	ck_assert_ptr_null(mail("FROM:<>", &m));
	ck_assert_str_eq(m.from.text, "");
	/* case of the keyword, a space after the colon (forgiven) */
	ck_assert_ptr_null(mail("from: <a@b>", &m));
	ck_assert_str_eq(m.from.text, "a@b");
	/* a source route is read and dropped (RFC 5321 §4.1.2, appendix C) */
	ck_assert_ptr_null(mail("FROM:<@relay.example,@r2.example:bob@example.org>", &m));
	ck_assert_str_eq(m.from.text, "bob@example.org");
	/* an address literal */
	ck_assert_ptr_null(mail("FROM:<bob@[192.0.2.1]>", &m));
	ck_assert_str_eq(m.from.domain, "[192.0.2.1]");
	ck_assert_ptr_null(mail("FROM:<bob@[IPv6:2001:db8::1]>", &m));
	/* a quoted local part: kept as written, and undone */
	ck_assert_ptr_null(mail("FROM:<\"john \\\"q\\\" smith\"@example.org>", &m));
	ck_assert_str_eq(m.from.text, "\"john \\\"q\\\" smith\"@example.org");
	ck_assert_str_eq(m.from.local, "john \"q\" smith");
	/* atext beyond letters */
	ck_assert_ptr_null(mail("FROM:<a.b+c=d/e{f}~g@x-y.example>", &m));
	ck_assert_str_eq(m.from.local, "a.b+c=d/e{f}~g");
}
END_TEST

START_TEST(test_mail_refused)
{
	struct lmtp_mail m;
	static const struct { const char *args, *code; } bad[] = {
		{ "", "501 5.5.2" },
		{ "FROM:", "501 5.5.2" },
		{ "FROM:bob@example.org", "501 5.5.2" },
		{ "TO:<bob@example.org>", "501 5.5.2" },
		{ "FROM:<bob@example.org", "501 5.1.7" },
		{ "FROM:<bob@@example.org>", "501 5.1.7" },
		{ "FROM:<.bob@example.org>", "501 5.1.7" },
		{ "FROM:<bob.@example.org>", "501 5.1.7" },
		{ "FROM:<b..ob@example.org>", "501 5.1.7" },
		{ "FROM:<bob@.example.org>", "501 5.1.7" },
		{ "FROM:<bob@example..org>", "501 5.1.7" },
		{ "FROM:<bob@example.org->", "501 5.1.7" },
		{ "FROM:<bob@[]>", "501 5.1.7" },
		{ "FROM:<bob@[1.2\\.3]>", "501 5.1.7" },
		{ "FROM:<bob smith@example.org>", "501 5.1.7" },
		{ "FROM:<\"unterminated@example.org>", "501 5.1.7" },
		{ "FROM:<\"tab\there\"@example.org>", "501 5.1.7" },
		{ "FROM:<b\xc3\xb8" "b@example.org>", "501 5.1.7" },  /* no SMTPUTF8 */
		{ "FROM:<@relay.example bob@example.org>", "501 5.1.7" },
		{ "FROM:<bob@example.org>x", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE=", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE=12x", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE=-1", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE=18446744073709551616", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE=1 SIZE=2", "501 5.5.4" },
		{ "FROM:<bob@example.org> BODY=BINARYMIME", "501 5.5.4" },
		{ "FROM:<bob@example.org> BODY=8BITMIME BODY=7BIT", "501 5.5.4" },
		{ "FROM:<bob@example.org> =1", "501 5.5.4" },
		{ "FROM:<bob@example.org> SIZE==1", "501 5.5.4" },
		{ "FROM:<bob@example.org> RET=HDRS", "555 5.5.4" },
		{ "FROM:<bob@example.org> SMTPUTF8", "555 5.5.4" },
		{ "FROM:<bob@example.org> XCAIRN-MAILBOX=x", "555 5.5.4" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *r = mail(bad[i].args, &m);
		ck_assert_msg(r != NULL && strncmp(r, bad[i].code, 9) == 0,
		    "MAIL %s: %s, not %s", bad[i].args, r ? r : "accepted", bad[i].code);
	}
}
END_TEST

START_TEST(test_mail_params)
{
	struct lmtp_mail m;

	ck_assert_ptr_null(mail("FROM:<a@b> SIZE=12345 BODY=8BITMIME", &m));
	ck_assert(m.has_size);
	ck_assert_uint_eq(m.size, 12345);
	ck_assert_int_eq(m.body, LMTP_BODY_8BITMIME);
	ck_assert_ptr_null(mail("FROM:<> body=7bit size=0", &m));
	ck_assert_int_eq(m.body, LMTP_BODY_7BIT);
	ck_assert_uint_eq(m.size, 0);
	ck_assert_ptr_null(mail("FROM:<a@b> SIZE=18446744073709551615", &m));
	ck_assert_uint_eq(m.size, UINT64_MAX);
	/* trailing spaces are forgiven */
	ck_assert_ptr_null(mail("FROM:<a@b> SIZE=1  ", &m));
}
END_TEST

/* ---- RCPT ------------------------------------------------------------------ */

static const char *
rcpt(const char *args, struct lmtp_rcpt_args *r)
{
	return lmtp_parse_rcpt(args, strlen(args), r);
}

START_TEST(test_rcpt)
{
	struct lmtp_rcpt_args r;

	ck_assert_ptr_null(rcpt("TO:<Alice+Lists@Example.org>", &r));
	ck_assert_str_eq(r.to.text, "Alice+Lists@Example.org");
	ck_assert_str_eq(r.to.local, "Alice+Lists");
	ck_assert_str_eq(r.to.domain, "Example.org");
	ck_assert(!r.has_mailbox);
	/* cairn-deliver names users alone, and <Postmaster> has no domain */
	ck_assert_ptr_null(rcpt("TO:<alice>", &r));
	ck_assert_str_eq(r.to.domain, "");
	ck_assert_ptr_null(rcpt("to:<Postmaster>", &r));
	ck_assert_str_eq(r.to.local, "Postmaster");
	ck_assert_ptr_null(rcpt("TO:<\"alice\"@example.org>", &r));
	ck_assert_str_eq(r.to.local, "alice");
	/* the null path is the sender's alone */
	ck_assert_str_eq(rcpt("TO:<>", &r), "501 5.1.3 Bad recipient address syntax");
	ck_assert_ptr_nonnull(rcpt("TO:alice", &r));
	ck_assert_ptr_nonnull(rcpt("FROM:<alice>", &r));
	ck_assert_str_eq(rcpt("TO:<alice> SIZE=1", &r), "555 5.5.4 Unsupported parameter");
	ck_assert_str_eq(rcpt("TO:<alice> NOTIFY=NEVER", &r), "555 5.5.4 Unsupported parameter");
}
END_TEST

START_TEST(test_rcpt_mailbox)
{
	struct lmtp_rcpt_args r;

	ck_assert_ptr_null(rcpt("TO:<alice> XCAIRN-MAILBOX=Lists/Cairn", &r));
	ck_assert(r.has_mailbox);
	ck_assert_str_eq(r.mailbox, "Lists/Cairn");
	/* xtext: '+' and '=' and spaces and UTF-8 travel as +XX */
	ck_assert_ptr_null(rcpt("TO:<alice> xcairn-mailbox=A+2BB+3DC+20D+C3+A9", &r));
	ck_assert_str_eq(r.mailbox, "A+B=C D\xc3\xa9");
	ck_assert_ptr_null(rcpt("TO:<alice> XCAIRN-MAILBOX=a+2bb", &r));
	ck_assert_str_eq(r.mailbox, "a+b");
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=a+2", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=a+", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=a+GG", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=a+00b", &r));
	ck_assert_ptr_nonnull(rcpt("TO:<alice> XCAIRN-MAILBOX=a XCAIRN-MAILBOX=b", &r));
}
END_TEST

START_TEST(test_xtext_bounds)
{
	char out[4];
	static char big[3 * LMTP_MAILBOX_MAX + 4];
	char name[LMTP_MAILBOX_MAX + 1];

	ck_assert(lmtp_xtext_decode("abc", 3, out, sizeof(out)));
	ck_assert_str_eq(out, "abc");
	ck_assert(!lmtp_xtext_decode("abcd", 4, out, sizeof(out)));
	ck_assert(lmtp_xtext_decode("+41+42", 6, out, sizeof(out)));
	ck_assert_str_eq(out, "AB");
	ck_assert(!lmtp_xtext_decode("a=b", 3, out, sizeof(out)));
	ck_assert(!lmtp_xtext_decode("a b", 3, out, sizeof(out)));
	ck_assert(!lmtp_xtext_decode("\x7f", 1, out, sizeof(out)));
	/* the longest name, every octet escaped, fits; one more does not */
	for (size_t i = 0; i < LMTP_MAILBOX_MAX; i++)
		memcpy(big + 3 * i, "+C3", 3);
	ck_assert(lmtp_xtext_decode(big, 3 * LMTP_MAILBOX_MAX, name, sizeof(name)));
	ck_assert_uint_eq(strlen(name), LMTP_MAILBOX_MAX);
	memcpy(big + 3 * LMTP_MAILBOX_MAX, "+C3", 3);
	ck_assert(!lmtp_xtext_decode(big, 3 * LMTP_MAILBOX_MAX + 3, name, sizeof(name)));
}
END_TEST

START_TEST(test_path_length)
{
	struct lmtp_rcpt_args r;
	char line[600], local[65], domain[190];

	/* a path of 256 octets with its brackets is the most (§4.5.3.1.3):
	 * "<" 64 "@" 189 ">" */
	memset(local, 'a', 64);
	local[64] = '\0';
	memset(domain, 'd', 185);
	memcpy(domain + 185, ".org", 5);
	snprintf(line, sizeof(line), "TO:<%s@%s>", local, domain);
	ck_assert_uint_eq(strlen(line) - 3, 256);
	ck_assert_ptr_null(rcpt(line, &r));
	ck_assert_uint_eq(strlen(r.to.text), 254);
	snprintf(line, sizeof(line), "TO:<%sa@%s>", local, domain);
	ck_assert_str_eq(rcpt(line, &r), "501 5.1.3 Bad recipient address syntax");
}
END_TEST

START_TEST(test_lhlo)
{
	char name[LMTP_DOMAIN_MAX + 1];
	char big[300];

	ck_assert_ptr_null(lmtp_parse_lhlo("mx.example.org", 14, name));
	ck_assert_str_eq(name, "mx.example.org");
	ck_assert_ptr_null(lmtp_parse_lhlo("[127.0.0.1]", 11, name));
	ck_assert_str_eq(name, "[127.0.0.1]");
	ck_assert_ptr_null(lmtp_parse_lhlo("[IPv6:::1]", 10, name));
	ck_assert_ptr_null(lmtp_parse_lhlo("my_host ", 8, name));
	ck_assert_str_eq(name, "my_host");
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("", 0, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("a b", 3, name));
	/* nothing that would break out of Received:'s from clause */
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("evil(x)", 7, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("evil;x", 6, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("[1.2.3.4", 8, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("[]", 2, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("[a]b]", 5, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo("h\xc3\xa9", 3, name));
	memset(big, 'a', sizeof(big));
	ck_assert_ptr_null(lmtp_parse_lhlo(big, LMTP_DOMAIN_MAX, name));
	ck_assert_ptr_nonnull(lmtp_parse_lhlo(big, LMTP_DOMAIN_MAX + 1, name));
}
END_TEST

START_TEST(test_split_detail)
{
	char user[LMTP_PATH_MAX], detail[LMTP_PATH_MAX];

	lmtp_split_detail("alice+lists", "+", user, detail);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(detail, "lists");
	/* the first delimiter splits; the rest is the detail */
	lmtp_split_detail("alice+a+b", "+", user, detail);
	ck_assert_str_eq(detail, "a+b");
	lmtp_split_detail("alice-x+y", "+-", user, detail);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(detail, "x+y");
	lmtp_split_detail("alice", "+", user, detail);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(detail, "");
	lmtp_split_detail("alice+", "+", user, detail);
	ck_assert_str_eq(user, "alice");
	ck_assert_str_eq(detail, "");
	/* no delimiter configured, or one at the start: no split */
	lmtp_split_detail("alice+lists", "", user, detail);
	ck_assert_str_eq(user, "alice+lists");
	ck_assert_str_eq(detail, "");
	lmtp_split_detail("+lists", "+", user, detail);
	ck_assert_str_eq(user, "+lists");
	ck_assert_str_eq(detail, "");
}
END_TEST

/* ---- DATA ------------------------------------------------------------------ */

/* Decode in, step octets at a time; the output, and what was left after the end. */
static char *
decode(const char *in, size_t len, size_t step, bool *done, size_t *rest,
    size_t *outlen)
{
	struct lmtp_data d;
	char *out = malloc(3 * len + 8);
	size_t o = 0, i = 0;

	ck_assert_ptr_nonnull(out);
	lmtp_data_init(&d);
	while (i < len && !lmtp_data_done(&d)) {
		size_t n = len - i < step ? len - i : step, got;
		size_t used = lmtp_data_decode(&d, in + i, n, out + o, 3 * len + 8 - o, &got);
		ck_assert_uint_le(used, n);
		ck_assert_uint_gt(used, 0);
		i += used;
		o += got;
	}
	*done = lmtp_data_done(&d);
	*rest = len - i;
	*outlen = o;
	out[o] = '\0';
	return out;
}

/* Every way of cutting the input gives the same answer. */
static void
check_data(const char *in, const char *want, bool want_done, size_t want_rest)
{
	size_t steps[] = { 1, 2, 3, 5, 4096 };

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		bool done;
		size_t rest, n;
		char *out = decode(in, strlen(in), steps[s], &done, &rest, &n);
		ck_assert_msg(n == strlen(want) && memcmp(out, want, n) == 0,
		    "step %zu: %s -> [%s], want [%s]", steps[s], in, out, want);
		ck_assert_msg(done == want_done, "step %zu: %s: done %d", steps[s], in, done);
		ck_assert_uint_eq(rest, want_rest);
		free(out);
	}
}

START_TEST(test_data_end)
{
	check_data("Subject: x\r\n\r\nbody\r\n.\r\n", "Subject: x\r\n\r\nbody\r\n", true, 0);
	/* the empty message */
	check_data(".\r\n", "", true, 0);
	/* what follows the end is the next command's */
	check_data("a\r\n.\r\nQUIT\r\n", "a\r\n", true, 6);
	/* not the end yet */
	check_data("a\r\n.", "a\r\n", false, 0);
	check_data("a\r\n.\r", "a\r\n", false, 0);
	check_data("a\r\n", "a\r\n", false, 0);
}
END_TEST

START_TEST(test_data_dot_stuffing)
{
	check_data("..\r\n.\r\n", ".\r\n", true, 0);
	check_data("..hidden\r\n...two\r\n.\r\n", ".hidden\r\n..two\r\n", true, 0);
	/* a dot inside a line is data */
	check_data("a.b\r\n a.\r\n.\r\n", "a.b\r\n a.\r\n", true, 0);
	/* ". " is not the end: a stuffed dot, then the line */
	check_data(". x\r\n.\r\n", " x\r\n", true, 0);
}
END_TEST

/* SMTP smuggling: only CRLF "." CRLF ends the data. */
START_TEST(test_data_no_smuggling)
{
	/* "\n.\n" (bare LFs) is data: stored as CRLF lines, and the dot stays */
	check_data("a\n.\nMAIL FROM:<x>\r\n.\r\n",
	    "a\r\n.\r\nMAIL FROM:<x>\r\n", true, 0);
	/* "\r\n.\n" neither: the dot was stuffing, the LF a bare one */
	check_data("a\r\n.\nRCPT\r\n.\r\n", "a\r\n\r\nRCPT\r\n", true, 0);
	/* "\n.\r\n" neither: the LF starts no line */
	check_data("a\n.\r\nb\r\n.\r\n", "a\r\n.\r\nb\r\n", true, 0);
	/* nor "\r.\r" nor "\r\n.\r" followed by anything but LF */
	check_data("a\r.\rb\r\n.\r\n", "a\r.\rb\r\n", true, 0);
	check_data("a\r\n.\rb\r\n.\r\n", "a\r\n\rb\r\n", true, 0);
	check_data("a\r\n.\r\r\n.\r\n", "a\r\n\r\r\n", true, 0);
	/* and none of these ended it */
	check_data("a\n.\n", "a\r\n.\r\n", false, 0);
	check_data("a\r\n.\n", "a\r\n\r\n", false, 0);
	check_data("a\r.\r\n", "a\r.\r\n", false, 0);
}
END_TEST

START_TEST(test_data_bare_cr_lf)
{
	/* bare LF becomes CRLF; bare CR stays */
	check_data("a\nb\n\r\n.\r\n", "a\r\nb\r\n\r\n", true, 0);
	check_data("a\rb\r\r\n.\r\n", "a\rb\r\r\n", true, 0);
	check_data("\n.\r\n", "\r\n.\r\n", false, 0);
	check_data("\r\r\n.\r\n", "\r\r\n", true, 0);
}
END_TEST

START_TEST(test_data_long_lines_and_8bit)
{
	size_t n = 100000;
	char *in = malloc(n + 16), *want = malloc(n + 16);
	bool done;
	size_t rest, len;

	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(want);
	/* a line of 100 000 octets, every value but CR and LF, 8-bit and NUL */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)(i % 256);
		in[i] = (char)(c == '\r' || c == '\n' ? 'x' : c);
	}
	in[0] = 'S';  /* not a dot at the line start */
	memcpy(want, in, n);
	memcpy(want + n, "\r\n", 2);
	memcpy(in + n, "\r\n.\r\n", 5);
	char *out = decode(in, n + 5, 777, &done, &rest, &len);
	ck_assert(done);
	ck_assert_uint_eq(rest, 0);
	ck_assert_uint_eq(len, n + 2);
	ck_assert(memcmp(out, want, n + 2) == 0);
	free(out);
	free(in);
	free(want);
}
END_TEST

START_TEST(test_data_small_output)
{
	struct lmtp_data d;
	char out[3];
	size_t got, used;

	/* with room for 3 octets it still makes progress, never overflows */
	lmtp_data_init(&d);
	used = lmtp_data_decode(&d, "\r\n\n\n", 4, out, sizeof(out), &got);
	ck_assert_uint_ge(used, 1);
	ck_assert_uint_le(got, 3);
	used = lmtp_data_decode(&d, "x", 1, out, 2, &got);
	ck_assert_uint_eq(used, 0);  /* too little room: nothing taken */
}
END_TEST

/* ---- trace lines ----------------------------------------------------------- */

START_TEST(test_trace)
{
	char out[TRACE_PREFIX_MAX], date[64];
	struct trace_info t = {
		.sender = "bob@example.org", .recipient = "Alice+x@example.org",
		.lhlo = "mx.example.org", .peer = "local", .hostname = "mail.example.org",
		.session_id = 0x0123456789abcdefULL, .when = 1795466386, .tz_minutes = 60,
	};
	size_t n = trace_prefix(&t, out, sizeof(out));

	ck_assert_uint_eq(n, strlen(out));
	ck_assert_str_eq(out,
	    "Return-Path: <bob@example.org>\r\n"
	    "Delivered-To: Alice+x@example.org\r\n"
	    "Received: from mx.example.org (local)\r\n"
	    "\tby mail.example.org (Cairn) with LMTP id 0123456789abcdef;\r\n"
	    "\tMon, 23 Nov 2026 21:39:46 +0100\r\n");
	t.sender = "";
	t.tz_minutes = -330;
	trace_prefix(&t, out, sizeof(out));
	ck_assert(strncmp(out, "Return-Path: <>\r\n", 17) == 0);
	trace_date(1795466386, -330, date, sizeof(date));
	ck_assert_str_eq(date, "Mon, 23 Nov 2026 15:09:46 -0530");
	trace_date(0, 0, date, sizeof(date));
	ck_assert_str_eq(date, "Thu, 1 Jan 1970 00:00:00 +0000");
}
END_TEST

/* The longest of everything still fits, and every line stays a header line. */
START_TEST(test_trace_longest)
{
	char out[TRACE_PREFIX_MAX], path[LMTP_PATH_MAX], lhlo[LMTP_DOMAIN_MAX + 1];
	struct trace_info t = {
		.sender = path, .recipient = path, .lhlo = lhlo,
		.peer = "[IPv6:ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]",
		.hostname = lhlo, .session_id = UINT64_MAX, .when = 4102444799,
		.tz_minutes = -720,
	};

	memset(path, 'p', sizeof(path) - 1);
	path[sizeof(path) - 1] = '\0';
	memset(lhlo, 'h', sizeof(lhlo) - 1);
	lhlo[sizeof(lhlo) - 1] = '\0';
	size_t n = trace_prefix(&t, out, sizeof(out));
	ck_assert_uint_gt(n, 0);
	/* each line ends in CRLF; a line is a field or a folded continuation */
	for (char *p = out; *p != '\0';) {
		char *crlf = strstr(p, "\r\n");
		ck_assert_ptr_nonnull(crlf);
		ck_assert(p[0] == '\t' || strchr(p, ':') < crlf);
		ck_assert_uint_le((size_t)(crlf - p), 998);
		p = crlf + 2;
	}
	/* too little room: nothing */
	ck_assert_uint_eq(trace_prefix(&t, out, 100), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("lmtp");
	TCase *tc = tcase_create("lmtp");

	tcase_add_test(tc, test_verbs);
	tcase_add_test(tc, test_mail_paths);
	tcase_add_test(tc, test_mail_refused);
	tcase_add_test(tc, test_mail_params);
	tcase_add_test(tc, test_rcpt);
	tcase_add_test(tc, test_rcpt_mailbox);
	tcase_add_test(tc, test_xtext_bounds);
	tcase_add_test(tc, test_path_length);
	tcase_add_test(tc, test_lhlo);
	tcase_add_test(tc, test_split_detail);
	tcase_add_test(tc, test_data_end);
	tcase_add_test(tc, test_data_dot_stuffing);
	tcase_add_test(tc, test_data_no_smuggling);
	tcase_add_test(tc, test_data_bare_cr_lf);
	tcase_add_test(tc, test_data_long_lines_and_8bit);
	tcase_add_test(tc, test_data_small_output);
	tcase_add_test(tc, test_trace);
	tcase_add_test(tc, test_trace_longest);
	suite_add_tcase(s, tc);
	return check_run(s);
}
