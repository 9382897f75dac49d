/*
 * Unit tests for cairn-deliver's pure parts: the message from standard
 * input to DATA (deliver/message.c), whole and in pieces down to one
 * byte; LMTP replies, LHLO keywords, xtext and the exit status of each
 * reply (deliver/proto.c); and the spool's move from memory to a file
 * (deliver/spool.c).
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "buf.h"
#include "message.h"
#include "proto.h"
#include "spool.h"

static int
emit_buf(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

static int
emit_refuse(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n;
	return -1;
}

struct msg_case {
	const char *in;
	const char *out;
	const char *sender;          /* NULL: none */
	bool eightbit;
};

static const struct msg_case msg_cases[] = {
	{ "", "", NULL, false },
	{ "\n", "\r\n", NULL, false },
	{ "a\nb\n", "a\r\nb\r\n", NULL, false },
	{ "a\r\nb\r\n", "a\r\nb\r\n", NULL, false },
	{ "a\r\nb\nc", "a\r\nb\r\nc\r\n", NULL, false },
	{ "abc", "abc\r\n", NULL, false },
	{ "abc\r", "abc\r\r\n", NULL, false },
	/* RFC 5321 §4.5.2: a leading dot gets another */
	{ ".x\n..\n.\n", "..x\r\n...\r\n..\r\n", NULL, false },
	{ ".", "..\r\n", NULL, false },
	{ "a\n.\r\nb\n", "a\r\n..\r\nb\r\n", NULL, false },
	/* a lone CR ends no line: no dot is stuffed after it */
	{ "a\rb\n", "a\rb\r\n", NULL, false },
	{ "a\r.b\n", "a\r.b\r\n", NULL, false },
	{ "\r\r\n", "\r\r\n", NULL, false },
	{ "caf\xc3\xa9\n", "caf\xc3\xa9\r\n", NULL, true },
	/* the mbox From line: dropped, its sender kept */
	{ "From alice@example.org Thu Jan  1 00:00:00 2026\nSubject: x\n\nhi\n",
	    "Subject: x\r\n\r\nhi\r\n", "alice@example.org", false },
	{ "From a@b  Thu Jan  1 00:00:00 2026\r\nX: y\r\n", "X: y\r\n", "a@b", false },
	{ "From MAILER-DAEMON Thu Jan  1 00:00:00 2026\nX: y\n", "X: y\r\n", "", false },
	{ "From <> Thu\nX: y\n", "X: y\r\n", "", false },
	{ "From <bob@example.org> Thu\nX: y\n", "X: y\r\n", "bob@example.org", false },
	{ "From a<b@c Thu\nX: y\n", "X: y\r\n", NULL, false },
	{ "From  \nX: y\n", "X: y\r\n", NULL, false },
	{ "From x@y\n", "", "x@y", false },
	{ "From x@y", "", "x@y", false },
	{ "From x@y\n.z\n", "..z\r\n", "x@y", false },
	/* not a From line: a header, a short start, a later line */
	{ "From: alice\n", "From: alice\r\n", NULL, false },
	{ "Fro", "Fro\r\n", NULL, false },
	{ "From", "From\r\n", NULL, false },
	{ "Fr\nom \n", "Fr\r\nom \r\n", NULL, false },
	{ "from x@y\n", "from x@y\r\n", NULL, false },
	{ "a\nFrom b\n", "a\r\nFrom b\r\n", NULL, false },
};

/* The RFC 1870 size: the output without its stuffed dots. */
static uint64_t
unstuffed_size(const char *out)
{
	uint64_t size = 0;
	bool line_start = true;

	for (const char *p = out; *p != '\0'; p++) {
		if (line_start && *p == '.')
			p++;                 /* the first of two counts not */
		size++;
		line_start = p[0] == '\n' && p > out && p[-1] == '\r';
	}
	return size;
}

/* Feed in pieces of step bytes (0: all at once). */
static void
run_case(const struct msg_case *c, size_t step)
{
	struct buf out = BUF_INIT;
	struct lda_msg m;
	size_t len = strlen(c->in), off = 0;
	const char *sender;

	lda_msg_init(&m);
	while (off < len) {
		size_t n = step == 0 || len - off < step ? len - off : step;

		ck_assert_int_eq(lda_msg_feed(&m, c->in + off, n, emit_buf, &out), 0);
		off += n;
	}
	ck_assert_int_eq(lda_msg_finish(&m, emit_buf, &out), 0);
	ck_assert_msg(out.len == strlen(c->out) &&
	    memcmp(out.data ? out.data : "", c->out, out.len) == 0,
	    "in \"%s\" step %zu: got \"%s\"", c->in, step, out.data ? out.data : "");
	ck_assert_uint_eq(m.size, unstuffed_size(c->out));
	ck_assert_int_eq(m.eightbit, c->eightbit);
	sender = lda_msg_sender(&m);
	if (c->sender == NULL)
		ck_assert_msg(sender == NULL, "in \"%s\": sender \"%s\"", c->in, sender);
	else
		ck_assert_msg(sender != NULL && strcmp(sender, c->sender) == 0,
		    "in \"%s\": sender %s", c->in, sender ? sender : "NULL");
	buf_free(&out);
}

START_TEST(msg_table)
{
	const struct msg_case *c = &msg_cases[_i];

	run_case(c, 0);
	run_case(c, 1);
	run_case(c, 2);
	run_case(c, 3);
}
END_TEST

/* A long message cut at every size: the same bytes as at once. */
START_TEST(msg_pieces)
{
	struct buf whole = BUF_INIT, in = BUF_INIT;
	struct lda_msg m;

	ck_assert_int_eq(buf_append_str(&in, "From s@t x\n"), 0);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(buf_printf(&in, "%s%d line\xc3\xa9%s", i % 7 == 0 ?
		    "." : "", i, i % 3 == 0 ? "\r\n" : i % 3 == 1 ? "\n" : "\r"), 0);
	lda_msg_init(&m);
	ck_assert_int_eq(lda_msg_feed(&m, in.data, in.len, emit_buf, &whole), 0);
	ck_assert_int_eq(lda_msg_finish(&m, emit_buf, &whole), 0);
	ck_assert_ptr_null(memmem(whole.data, whole.len, "From s@t", 8));
	ck_assert_ptr_nonnull(memmem(whole.data, whole.len, "\r\n..7 line", 10));
	for (size_t step = 1; step < 40; step++) {
		struct buf out = BUF_INIT;
		struct lda_msg m2;

		lda_msg_init(&m2);
		for (size_t off = 0; off < in.len; off += step) {
			size_t n = in.len - off < step ? in.len - off : step;

			ck_assert_int_eq(lda_msg_feed(&m2, in.data + off, n, emit_buf,
			    &out), 0);
		}
		ck_assert_int_eq(lda_msg_finish(&m2, emit_buf, &out), 0);
		ck_assert_uint_eq(out.len, whole.len);
		ck_assert_int_eq(memcmp(out.data, whole.data, out.len), 0);
		ck_assert_uint_eq(m2.size, m.size);
		ck_assert_str_eq(lda_msg_sender(&m2), "s@t");
		buf_free(&out);
	}
	buf_free(&whole);
	buf_free(&in);
}
END_TEST

START_TEST(msg_emit_refused)
{
	struct buf out = BUF_INIT;
	struct lda_msg m;

	lda_msg_init(&m);
	ck_assert_int_eq(lda_msg_feed(&m, "abc\n", 4, emit_refuse, NULL), -1);
	lda_msg_init(&m);
	ck_assert_int_eq(lda_msg_feed(&m, ".", 1, emit_refuse, NULL), -1);
	lda_msg_init(&m);
	ck_assert_int_eq(lda_msg_feed(&m, "abc", 3, emit_buf, &out), 0);
	ck_assert_int_eq(lda_msg_finish(&m, emit_refuse, NULL), -1);
	buf_free(&out);
}
END_TEST

START_TEST(msg_long_sender)
{
	struct buf in = BUF_INIT, out = BUF_INIT;
	struct lda_msg m;

	ck_assert_int_eq(buf_append_str(&in, "From "), 0);
	for (int i = 0; i < LDA_ADDR_MAX + 1; i++)
		ck_assert_int_eq(buf_append_char(&in, 'a'), 0);
	ck_assert_int_eq(buf_append_str(&in, " date\nX: y\n"), 0);
	lda_msg_init(&m);
	ck_assert_int_eq(lda_msg_feed(&m, in.data, in.len, emit_buf, &out), 0);
	ck_assert_int_eq(lda_msg_finish(&m, emit_buf, &out), 0);
	ck_assert_str_eq(out.data, "X: y\r\n");
	ck_assert_ptr_null(lda_msg_sender(&m));
	buf_free(&in);
	buf_free(&out);
}
END_TEST

START_TEST(addr_valid)
{
	char longest[LDA_ADDR_MAX + 2];

	ck_assert(lda_addr_valid("alice"));
	ck_assert(lda_addr_valid("alice+lists@example.org"));
	ck_assert(!lda_addr_valid(""));
	ck_assert(!lda_addr_valid("a b"));
	ck_assert(!lda_addr_valid("a<b"));
	ck_assert(!lda_addr_valid("a>b"));
	ck_assert(!lda_addr_valid("a\r\nRSET"));
	ck_assert(!lda_addr_valid("caf\xc3\xa9"));
	memset(longest, 'a', sizeof(longest));
	longest[LDA_ADDR_MAX] = '\0';
	ck_assert(lda_addr_valid(longest));
	longest[LDA_ADDR_MAX] = 'a';
	longest[LDA_ADDR_MAX + 1] = '\0';
	ck_assert(!lda_addr_valid(longest));
}
END_TEST

/* Lines of one reply, "\n"-separated, fed one by one. */
static enum lda_reply_status
reply_of(struct lda_reply *r, const char *lines)
{
	enum lda_reply_status st = LDA_REPLY_MORE;
	char *copy = strdup(lines), *save = NULL;

	ck_assert_ptr_nonnull(copy);
	lda_reply_init(r);
	for (char *l = strtok_r(copy, "\n", &save); l != NULL;
	    l = strtok_r(NULL, "\n", &save)) {
		if ((st = lda_reply_line(r, l, strlen(l))) != LDA_REPLY_MORE)
			break;
	}
	free(copy);
	return st;
}

START_TEST(reply_parse)
{
	struct lda_reply r;

	ck_assert_int_eq(reply_of(&r, "220 cairn LMTP ready"), LDA_REPLY_DONE);
	ck_assert_int_eq(r.code, 220);
	ck_assert_int_eq(r.enh[0], 0);
	ck_assert_str_eq(r.text, "220 cairn LMTP ready");

	ck_assert_int_eq(reply_of(&r, "550 5.1.1 <bob>: no such user"), LDA_REPLY_DONE);
	ck_assert_int_eq(r.code, 550);
	ck_assert_int_eq(r.enh[0], 5);
	ck_assert_int_eq(r.enh[1], 1);
	ck_assert_int_eq(r.enh[2], 1);

	ck_assert_int_eq(reply_of(&r, "452-4.2.2 first\n452 4.2.2 second"),
	    LDA_REPLY_DONE);
	ck_assert_int_eq(r.n_lines, 2);
	ck_assert_str_eq(r.text, "452 4.2.2 first 4.2.2 second");
	ck_assert_int_eq(r.enh[0], 4);

	ck_assert_int_eq(reply_of(&r, "250"), LDA_REPLY_DONE);
	ck_assert_int_eq(reply_of(&r, "250-a"), LDA_REPLY_MORE);
	/* the class must be the code's; three digits at most */
	reply_of(&r, "550 4.1.1 x");
	ck_assert_int_eq(r.enh[0], 0);
	reply_of(&r, "550 5.1234.1 x");
	ck_assert_int_eq(r.enh[0], 0);
	reply_of(&r, "550 5.1.1x");
	ck_assert_int_eq(r.enh[0], 0);
	reply_of(&r, "552 5.3.4");
	ck_assert_int_eq(r.enh[1], 3);
	ck_assert_int_eq(r.enh[2], 4);

	/* not replies */
	ck_assert_int_eq(reply_of(&r, "25"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "hello"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "600 x"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "160 x"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "270 x"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "250x"), LDA_REPLY_BAD);
	ck_assert_int_eq(reply_of(&r, "250-a\n251 b"), LDA_REPLY_BAD);
	/* after the last line, nothing more belongs to it */
	ck_assert_int_eq(reply_of(&r, "250 a"), LDA_REPLY_DONE);
	ck_assert_int_eq(lda_reply_line(&r, "250 b", 5), LDA_REPLY_BAD);
}
END_TEST

START_TEST(reply_bounds)
{
	struct lda_reply r;
	char line[LDA_LINE_MAX + 2];

	/* too many lines */
	lda_reply_init(&r);
	for (int i = 0; i < LDA_REPLY_LINES_MAX; i++)
		ck_assert_int_eq(lda_reply_line(&r, "250-x", 5), LDA_REPLY_MORE);
	ck_assert_int_eq(lda_reply_line(&r, "250 x", 5), LDA_REPLY_BAD);

	/* a line too long */
	memset(line, 'a', sizeof(line));
	memcpy(line, "250 ", 4);
	lda_reply_init(&r);
	ck_assert_int_eq(lda_reply_line(&r, line, LDA_LINE_MAX + 1), LDA_REPLY_BAD);

	/* the text is bounded, and cleaned of control and 8-bit bytes */
	lda_reply_init(&r);
	line[3] = '-';
	for (int i = 0; i < 9; i++)
		ck_assert_int_eq(lda_reply_line(&r, line, LDA_LINE_MAX - 1),
		    LDA_REPLY_MORE);
	line[3] = ' ';
	ck_assert_int_eq(lda_reply_line(&r, line, LDA_LINE_MAX - 1), LDA_REPLY_DONE);
	ck_assert_uint_lt(r.len, sizeof(r.text));
	ck_assert_uint_eq(strlen(r.text), r.len);
	ck_assert_str_eq(r.text + r.len - 3, "...");

	lda_reply_init(&r);
	ck_assert_int_eq(lda_reply_line(&r, "550 a\x1b[31m\xc3\xa9\x7f", 13),
	    LDA_REPLY_DONE);
	ck_assert_str_eq(r.text, "550 a?[31m???");
}
END_TEST

START_TEST(caps)
{
	struct lda_caps c;
	static const char *const lines[] = {
		"PIPELINING", "ENHANCEDSTATUSCODES", "8bitmime", "SIZE 52428800",
		"XCAIRN-MAILBOX", "XCAIRN-MAILBOXES", "SIZEX 1",
	};

	memset(&c, 0, sizeof(c));
	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++)
		lda_caps_line(&c, lines[i], strlen(lines[i]));
	ck_assert(c.size);
	ck_assert_uint_eq(c.size_max, 52428800);
	ck_assert(c.eightbitmime);
	ck_assert(c.xcairn_mailbox);

	memset(&c, 0, sizeof(c));
	lda_caps_line(&c, "SIZE", 4);
	ck_assert(c.size);
	ck_assert_uint_eq(c.size_max, 0);
	lda_caps_line(&c, "XCAIRN-MAILBOXES", 16);
	lda_caps_line(&c, "8BITMIMEX", 9);
	ck_assert(!c.xcairn_mailbox);
	ck_assert(!c.eightbitmime);
	/* a number beyond 64 bits: no limit known, not a wrapped one */
	lda_caps_line(&c, "SIZE 99999999999999999999999", 27);
	ck_assert_uint_eq(c.size_max, 0);
}
END_TEST

START_TEST(xtext)
{
	char out[64];

	ck_assert_int_eq(lda_xtext("Sent", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Sent");
	ck_assert_int_eq(lda_xtext("a+b=c d", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a+2Bb+3Dc+20d");
	ck_assert_int_eq(lda_xtext("Entw\xc3\xbcrfe/2026", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "Entw+C3+BCrfe/2026");
	ck_assert_int_eq(lda_xtext("\x7f~!", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "+7F~!");
	ck_assert_int_eq(lda_xtext("", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	/* the room exactly, and one byte short */
	ck_assert_int_eq(lda_xtext("a+", out, 5), 0);
	ck_assert_str_eq(out, "a+2B");
	ck_assert_int_eq(lda_xtext("a+", out, 4), -1);
	ck_assert_int_eq(lda_xtext("ab", out, 2), -1);
}
END_TEST

START_TEST(mailbox_valid)
{
	char name[LDA_MAILBOX_MAX + 2];

	ck_assert(lda_mailbox_valid("INBOX"));
	ck_assert(lda_mailbox_valid("Archive/2026"));
	ck_assert(lda_mailbox_valid("Entw\xc3\xbcrfe"));
	ck_assert(lda_mailbox_valid("\xf0\x9f\x93\xab mail"));
	ck_assert(!lda_mailbox_valid(""));
	ck_assert(!lda_mailbox_valid("a\tb"));
	ck_assert(!lda_mailbox_valid("a\x7f"));
	ck_assert(!lda_mailbox_valid("\xc3"));             /* cut short */
	ck_assert(!lda_mailbox_valid("\xc0\xaf"));         /* overlong */
	ck_assert(!lda_mailbox_valid("\xe0\x80\xaf"));     /* overlong */
	ck_assert(!lda_mailbox_valid("\xed\xa0\x80"));     /* a surrogate */
	ck_assert(!lda_mailbox_valid("\xf4\x90\x80\x80")); /* past U+10FFFF */
	ck_assert(!lda_mailbox_valid("\xff"));
	memset(name, 'a', sizeof(name));
	name[LDA_MAILBOX_MAX] = '\0';
	ck_assert(lda_mailbox_valid(name));
	name[LDA_MAILBOX_MAX] = 'a';
	name[LDA_MAILBOX_MAX + 1] = '\0';
	ck_assert(!lda_mailbox_valid(name));
}
END_TEST

struct exit_case {
	enum lda_stage stage;
	const char *reply;
	int status;
};

/* cairn-deliver(8), EXIT STATUS, and decision 4 of issue 6. */
static const struct exit_case exit_cases[] = {
	{ LDA_STAGE_GREETING, "220 ready", EX_OK },
	{ LDA_STAGE_LHLO, "250 name", EX_OK },
	{ LDA_STAGE_MAIL, "250 2.1.0 ok", EX_OK },
	{ LDA_STAGE_RCPT, "250 2.1.5 ok", EX_OK },
	{ LDA_STAGE_RCPT, "251 2.1.5 ok", EX_OK },
	{ LDA_STAGE_DATA, "354 go ahead", EX_OK },
	{ LDA_STAGE_DATA_END, "250 2.0.0 delivered", EX_OK },
	{ LDA_STAGE_QUIT, "221 2.0.0 bye", EX_OK },
	/* every 4xx: try again later */
	{ LDA_STAGE_GREETING, "421 4.3.2 shutting down", EX_TEMPFAIL },
	{ LDA_STAGE_RCPT, "451 4.3.0 store locked", EX_TEMPFAIL },
	{ LDA_STAGE_RCPT, "452 4.2.2 over quota", EX_TEMPFAIL },
	{ LDA_STAGE_DATA_END, "451 4.3.0 disk full", EX_TEMPFAIL },
	/* the reply of another stage: confusion, keep the message */
	{ LDA_STAGE_DATA, "250 ok", EX_TEMPFAIL },
	{ LDA_STAGE_MAIL, "354 what", EX_TEMPFAIL },
	{ LDA_STAGE_GREETING, "554 5.3.2 no service", EX_TEMPFAIL },
	{ LDA_STAGE_LHLO, "500 5.5.1 what", EX_TEMPFAIL },
	/* the user */
	{ LDA_STAGE_RCPT, "550 5.1.1 <bob>: no such user", EX_NOUSER },
	{ LDA_STAGE_RCPT, "550 no such user", EX_NOUSER },
	{ LDA_STAGE_RCPT, "553 5.1.3 bad address", EX_NOUSER },
	{ LDA_STAGE_DATA_END, "550 5.1.1 gone meanwhile", EX_NOUSER },
	/* over quota */
	{ LDA_STAGE_RCPT, "552 5.2.2 over quota", EX_CANTCREAT },
	{ LDA_STAGE_DATA_END, "552 5.2.2 over quota", EX_CANTCREAT },
	{ LDA_STAGE_RCPT, "552 over quota", EX_CANTCREAT },
	/* the message */
	{ LDA_STAGE_MAIL, "552 5.3.4 too big", EX_DATAERR },
	{ LDA_STAGE_DATA_END, "552 5.3.4 too big", EX_DATAERR },
	{ LDA_STAGE_DATA_END, "552 too big", EX_DATAERR },
	{ LDA_STAGE_DATA_END, "554 5.6.0 malformed", EX_DATAERR },
	{ LDA_STAGE_DATA_END, "554 transaction failed", EX_DATAERR },
	{ LDA_STAGE_DATA_END, "552 5.2.3 too long", EX_DATAERR },
	{ LDA_STAGE_MAIL, "501 5.1.7 bad sender", EX_DATAERR },
	{ LDA_STAGE_MAIL, "550 5.1.0 sender refused", EX_DATAERR },
	/* protocol trouble: one of us is broken, keep the message */
	{ LDA_STAGE_RCPT, "501 5.5.4 bad parameter", EX_TEMPFAIL },
	{ LDA_STAGE_RCPT, "555 unknown parameter", EX_TEMPFAIL },
	{ LDA_STAGE_MAIL, "503 bad sequence", EX_TEMPFAIL },
	/* policy, and what has no better name */
	{ LDA_STAGE_RCPT, "550 5.7.1 not allowed", EX_NOPERM },
	{ LDA_STAGE_RCPT, "557 odd", EX_UNAVAILABLE },
	{ LDA_STAGE_DATA_END, "550 5.3.0 other", EX_NOUSER },
};

START_TEST(exit_table)
{
	const struct exit_case *c = &exit_cases[_i];
	struct lda_reply r;

	ck_assert_int_eq(reply_of(&r, c->reply), LDA_REPLY_DONE);
	ck_assert_msg(lda_exit_for(c->stage, &r) == c->status,
	    "stage %d \"%s\": %d, not %d", c->stage, c->reply,
	    lda_exit_for(c->stage, &r), c->status);
}
END_TEST

static int
collect(void *arg, const char *p, size_t n)
{
	return buf_append(arg, p, n);
}

static int
stop_at_first(void *arg, const char *p, size_t n)
{
	(void)arg, (void)p, (void)n;
	return 7;
}

START_TEST(spool_memory_then_file)
{
	struct lda_spool s;
	struct buf back = BUF_INIT;
	char chunk[4000];
	size_t total = 0;

	back.limit = 8 * LDA_SPOOL_MEM_MAX;
	lda_spool_init(&s);
	ck_assert_int_eq(lda_spool_write(&s, "small", 5), 0);
	ck_assert_int_lt(s.fd, 0);
	ck_assert_int_eq(lda_spool_each(&s, collect, &back), 0);
	ck_assert_str_eq(back.data, "small");
	buf_reset(&back);
	lda_spool_free(&s);

	/* past LDA_SPOOL_MEM_MAX the bytes go to a file, in the same order */
	lda_spool_init(&s);
	for (int i = 0; total < 3 * LDA_SPOOL_MEM_MAX; i++) {
		for (size_t j = 0; j < sizeof(chunk); j++)
			chunk[j] = (char)('a' + (i + j) % 26);
		ck_assert_int_eq(lda_spool_write(&s, chunk, sizeof(chunk)), 0);
		total += sizeof(chunk);
	}
	ck_assert_int_ge(s.fd, 0);
	ck_assert_ptr_null(s.mem);
	ck_assert_uint_eq(s.total, total);
	ck_assert_int_eq(lda_spool_each(&s, collect, &back), 0);
	ck_assert_uint_eq(back.len, total);
	for (size_t k = 0; k < total; k += 4093) {
		size_t i = k / sizeof(chunk), j = k % sizeof(chunk);

		ck_assert_int_eq(back.data[k], 'a' + (int)((i + j) % 26));
	}
	/* the function's refusal stops the walk and is returned */
	ck_assert_int_eq(lda_spool_each(&s, stop_at_first, NULL), 7);
	lda_spool_free(&s);
	buf_free(&back);
}
END_TEST

static Suite *
lda_suite(void)
{
	Suite *s = suite_create("lda");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, msg_table, 0, sizeof(msg_cases) / sizeof(msg_cases[0]));
	tcase_add_test(tc, msg_pieces);
	tcase_add_test(tc, msg_emit_refused);
	tcase_add_test(tc, msg_long_sender);
	tcase_add_test(tc, addr_valid);
	tcase_add_test(tc, reply_parse);
	tcase_add_test(tc, reply_bounds);
	tcase_add_test(tc, caps);
	tcase_add_test(tc, xtext);
	tcase_add_test(tc, mailbox_valid);
	tcase_add_loop_test(tc, exit_table, 0, sizeof(exit_cases) / sizeof(exit_cases[0]));
	tcase_add_test(tc, spool_memory_then_file);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(lda_suite());
}
