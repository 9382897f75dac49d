/*
 * Cairn - tests for imapd/parser.c (streaming IMAP command tokenizer).
 *
 * Most cases are a table: input bytes -> expected transcript, where the
 * transcript is what a caller sees while feeding the input, resetting after
 * each command or error:
 *	"+"                     CONTINUE
 *	"C:tag NAME args..."    COMMAND, with the whole argument tree
 *	"E:KIND:tag[:F]"        ERROR, "*" when no tag was read, ":F" if fatal
 *	"L:text"                line-mode line
 * joined by " | ".  Every case is run fed at once, byte by byte and in
 * random pieces; all must give the expected transcript.  Cases marked for
 * the literal sink run with a test sink that takes APPEND's message
 * literals the way imapd/cmd-append.c does; a literal it took shows as
 * S{n}"bytes it received" (S~{n} for literal8).
 */
#include <check.h>
#include "check_run.h"
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* ---- transcript building -------------------------------------------- */

struct sbuf {
	char *s;
	size_t len, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 256;
		b->s = realloc(b->s, b->cap);
		ck_assert_ptr_nonnull(b->s);
	}
	b->s[b->len++] = c;
	b->s[b->len] = '\0';
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_puts(b, tmp);
}

/* Printable ASCII as is (quote and backslash escaped when quoted), else \xHH. */
static void sb_bytes(struct sbuf *b, const char *s, size_t len, int quoted)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (quoted && (c == '"' || c == '\\')) {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c >= 0x20 && c < 0x7f) {
			sb_putc(b, (char)c);
		} else {
			sb_printf(b, "\\x%02x", c);
		}
	}
}

/* ---- a literal sink that records what it gets ---------------------- */

struct tsink {
	int opens, releases;
	int take_all;                 /* every literal, not only APPEND's messages */
	struct imap_literal_info last; /* of the last open; command, first not kept */
	char last_command[32];
	/* the first argument of the last open: type, or -1 for none, and text */
	int last_first_type;
	char last_first[32];
};

struct tfile {
	struct tsink *owner;
	char *data;
	size_t len, cap, size;
	int released;
	int refuse;                   /* refused: the mailbox is "Nosuch" */
};

/* As cmd-append.c refuses a missing mailbox: one named "Nosuch". */
static int tsink_refuses(const struct imap_literal_info *li)
{
	const struct imap_arg *a = li->first;

	return a != NULL && a->type != IMAP_ARG_NIL && a->len == 6 &&
	    memcmp(a->str, "Nosuch", 6) == 0;
}

/* The policy of imapd/cmd-append.c: message literals of APPEND. */
static int tsink_wants(const struct tsink *t, const struct imap_literal_info *li)
{
	if (t->take_all)
		return 1;
	if (strcmp(li->command, "APPEND") != 0 || li->arg_index == 0 || li->depth > 1)
		return 0;
	return li->depth == 0 || (li->literal8 && li->list_index == 0);
}

static void *tsink_open(void *arg, const struct imap_literal_info *li)
{
	struct tsink *t = arg;
	struct tfile *f;

	ck_assert_ptr_nonnull(li->command);
	t->last = *li;
	snprintf(t->last_command, sizeof(t->last_command), "%s", li->command);
	t->last.command = NULL;
	t->last.first = NULL;
	t->last_first_type = li->first != NULL ? (int)li->first->type : -1;
	t->last_first[0] = '\0';
	if (li->first != NULL && li->first->str != NULL) {
		/* a string argument ends in a NUL, as the caller sees it */
		ck_assert_int_eq(li->first->str[li->first->len], '\0');
		snprintf(t->last_first, sizeof(t->last_first), "%s", li->first->str);
	}
	if (!tsink_wants(t, li))
		return NULL;
	f = calloc(1, sizeof(*f));
	ck_assert_ptr_nonnull(f);
	f->owner = t;
	f->size = li->size;
	f->refuse = tsink_refuses(li);
	t->opens++;
	return f;
}

static int tsink_refused(void *handle)
{
	const struct tfile *f = handle;

	ck_assert_int_eq(f->released, 0);
	return f->refuse;
}

static void tsink_write(void *handle, const void *data, size_t len)
{
	struct tfile *f = handle;

	ck_assert_int_eq(f->released, 0);
	ck_assert_uint_gt(len, 0);
	ck_assert_uint_le(f->len + len, f->size);
	if (f->len + len > f->cap) {
		f->cap = f->len + len + 64;
		f->data = realloc(f->data, f->cap);
		ck_assert_ptr_nonnull(f->data);
	}
	memcpy(f->data + f->len, data, len);
	f->len += len;
}

static void tsink_release(void *handle)
{
	struct tfile *f = handle;

	ck_assert_int_eq(f->released, 0);
	f->released = 1;
	f->owner->releases++;
	free(f->data);
	free(f);
}

static void tsink_attach(struct imap_parser *p, struct tsink *t)
{
	const struct imap_literal_sink sink = {
		.open = tsink_open, .write = tsink_write, .release = tsink_release,
		.arg = t, .refused = tsink_refused,
	};

	imap_parser_set_sink(p, &sink);
}

static void ser_args(struct sbuf *b, const struct imap_arg *args, size_t n, int depth);

static void ser_arg(struct sbuf *b, const struct imap_arg *a, int depth)
{
	ck_assert_int_lt(depth, 64);
	if (a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL) {
		ck_assert_ptr_nonnull(a->str);
		ck_assert_int_eq(a->str[a->len], '\0');
		ck_assert_ptr_null(a->list);
		ck_assert_uint_eq(a->list_count, 0);
	} else if (a->type == IMAP_ARG_STREAMED) {
		ck_assert_ptr_null(a->str);
		ck_assert_ptr_nonnull(a->stream);
		ck_assert_ptr_null(a->list);
		ck_assert_uint_eq(a->list_count, 0);
	} else {
		ck_assert_ptr_null(a->str);
		ck_assert_uint_eq(a->len, 0);
	}
	if (a->type != IMAP_ARG_STREAMED)
		ck_assert_ptr_null(a->stream);
	if (a->type != IMAP_ARG_LITERAL && a->type != IMAP_ARG_STREAMED)
		ck_assert_int_eq(a->literal8, 0);
	switch (a->type) {
	case IMAP_ARG_ATOM:
		ck_assert_uint_gt(a->len, 0);
		sb_bytes(b, a->str, a->len, 0);
		break;
	case IMAP_ARG_QUOTED:
		sb_putc(b, '"');
		sb_bytes(b, a->str, a->len, 1);
		sb_putc(b, '"');
		break;
	case IMAP_ARG_LITERAL:
		sb_printf(b, "%s{%zu}\"", a->literal8 ? "~" : "", a->len);
		sb_bytes(b, a->str, a->len, 1);
		sb_putc(b, '"');
		break;
	case IMAP_ARG_STREAMED: {
		const struct tfile *f = a->stream;

		/* every byte arrived, and nothing else */
		ck_assert_int_eq(f->released, 0);
		ck_assert_uint_eq(f->len, a->len);
		ck_assert_uint_eq(f->size, a->len);
		sb_printf(b, "S%s{%zu}\"", a->literal8 ? "~" : "", a->len);
		sb_bytes(b, f->data, f->len, 1);
		sb_putc(b, '"');
		break;
	}
	case IMAP_ARG_NIL:
		ck_assert_ptr_null(a->list);
		sb_puts(b, "NIL");
		break;
	case IMAP_ARG_LIST:
		ck_assert(a->list_count == 0 ? a->list == NULL : a->list != NULL);
		sb_putc(b, '(');
		ser_args(b, a->list, a->list_count, depth + 1);
		sb_putc(b, ')');
		break;
	default:
		ck_abort_msg("bad arg type %d", (int)a->type);
	}
}

static void ser_args(struct sbuf *b, const struct imap_arg *args, size_t n, int depth)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			sb_putc(b, ' ');
		ser_arg(b, &args[i], depth);
	}
}

static const char *kind_name(enum imap_parse_error k)
{
	switch (k) {
	case IMAP_ERR_NONE:            return "NONE";
	case IMAP_ERR_SYNTAX:          return "SYNTAX";
	case IMAP_ERR_LINE_TOO_LONG:   return "LINE_TOO_LONG";
	case IMAP_ERR_LITERAL_TOO_BIG: return "LITERAL_TOO_BIG";
	case IMAP_ERR_TOO_MANY_ARGS:   return "TOO_MANY_ARGS";
	case IMAP_ERR_TOO_DEEP:        return "TOO_DEEP";
	case IMAP_ERR_NOMEM:           return "NOMEM";
	case IMAP_ERR_REFUSED:         return "REFUSED";
	}
	return "?";
}

static void sb_event_sep(struct sbuf *b)
{
	if (b->len > 0)
		sb_puts(b, " | ");
}

static void ser_command(struct sbuf *b, struct imap_parser *p)
{
	const struct imap_command *cmd = imap_parser_command(p);

	ck_assert_ptr_nonnull(cmd);
	ck_assert_ptr_nonnull(cmd->tag);
	ck_assert_ptr_nonnull(cmd->name);
	ck_assert(cmd->nargs == 0 ? cmd->args == NULL : cmd->args != NULL);
	ck_assert_ptr_null(imap_parser_error(p));
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_NONE);
	sb_event_sep(b);
	sb_puts(b, "C:");
	sb_puts(b, cmd->tag);
	sb_putc(b, ' ');
	sb_puts(b, cmd->name);
	if (cmd->nargs > 0) {
		sb_putc(b, ' ');
		ser_args(b, cmd->args, cmd->nargs, 0);
	}
}

static void ser_error(struct sbuf *b, struct imap_parser *p)
{
	const char *tag = imap_parser_error_tag(p);
	const char *msg = imap_parser_error(p);

	ck_assert_ptr_nonnull(msg);
	ck_assert_uint_gt(strlen(msg), 0);
	ck_assert_ptr_null(imap_parser_command(p));
	/* the command a too-big literal belongs to, for NO [TOOBIG] */
	if (imap_parser_error_kind(p) == IMAP_ERR_LITERAL_TOO_BIG) {
		const char *cmd = imap_parser_error_command(p);

		ck_assert_ptr_nonnull(cmd);
		ck_assert_uint_gt(strlen(cmd), 0);
		for (const char *c = cmd; *c != '\0'; c++)
			ck_assert(*c < 'a' || *c > 'z');
	} else {
		ck_assert_ptr_null(imap_parser_error_command(p));
	}
	sb_event_sep(b);
	sb_printf(b, "E:%s:", kind_name(imap_parser_error_kind(p)));
	sb_puts(b, tag != NULL ? tag : "*");
	if (imap_parser_fatal(p))
		sb_puts(b, ":F");
}

static void ser_line(struct sbuf *b, struct imap_parser *p)
{
	size_t len = 12345;
	const char *s = imap_parser_line(p, &len);

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s[len], '\0');
	ck_assert_ptr_null(imap_parser_command(p));
	sb_event_sep(b);
	sb_puts(b, "L:");
	sb_bytes(b, s, len, 0);
}

static uint32_t rng_next(uint32_t *st)
{
	uint32_t x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*st = x;
	return x;
}

enum split { SPLIT_ONCE, SPLIT_BYTES, SPLIT_RANDOM };

/*
 * Feed in into a new parser as a well-behaved caller would and return the
 * transcript (malloc'd).  line_mode: use imap_parser_feed_line().  sink:
 * with the test sink; every handle it opened must be released by the end.
 */
static char *transcript(const struct imap_parser_limits *lim, const char *in, size_t len,
			enum split split, uint32_t seed, int line_mode, int sink)
{
	struct imap_parser *p = imap_parser_new(lim);
	struct sbuf b = { NULL, 0, 0 };
	struct tsink t = { 0 };
	uint32_t rng = seed ? seed : 1;
	size_t pos = 0;

	ck_assert_ptr_nonnull(p);
	if (sink)
		tsink_attach(p, &t);
	b.cap = 256;
	b.s = malloc(b.cap);
	ck_assert_ptr_nonnull(b.s);
	b.s[0] = '\0';
	while (pos < len) {
		size_t chunk = len - pos;
		const char *d = in + pos;
		size_t left, stalls = 0;

		if (split == SPLIT_BYTES)
			chunk = 1;
		else if (split == SPLIT_RANDOM && chunk > 1)
			chunk = 1 + rng_next(&rng) % (rng_next(&rng) % 2 ? chunk : (chunk < 8 ? chunk : 8));
		left = chunk;
		while (left > 0) {
			size_t used = 999999;
			enum imap_parse_result r = line_mode ?
				imap_parser_feed_line(p, d, left, &used) :
				imap_parser_feed(p, d, left, &used);

			ck_assert_uint_le(used, left);
			d += used;
			left -= used;
			stalls = used == 0 ? stalls + 1 : 0;
			ck_assert_uint_lt(stalls, 3);
			switch (r) {
			case IMAP_PARSE_NEED_MORE:
				ck_assert_uint_eq(left, 0);
				break;
			case IMAP_PARSE_CONTINUE:
				ck_assert_uint_gt(used, 0);
				ck_assert_int_eq(d[-1], '\n');
				sb_event_sep(&b);
				sb_putc(&b, '+');
				break;
			case IMAP_PARSE_COMMAND:
				ck_assert_uint_gt(used, 0);
				ck_assert_int_eq(d[-1], '\n');
				if (line_mode)
					ser_line(&b, p);
				else
					ser_command(&b, p);
				imap_parser_reset(p);
				break;
			case IMAP_PARSE_ERROR:
				ser_error(&b, p);
				imap_parser_reset(p);
				break;
			default:
				ck_abort_msg("bad result %d", (int)r);
			}
		}
		pos += chunk;
	}
	imap_parser_free(p);
	ck_assert_int_eq(t.opens, t.releases);
	return b.s;
}

/* ---- the table ------------------------------------------------------ */

struct pcase {
	const char *name;
	const char *in;
	size_t len;
	const char *expect;
	const struct imap_parser_limits *lim;
	int line_mode;
	int sink;
};

/* limits of the table unless a case says otherwise */
static const struct imap_parser_limits lim_std = { 200, 100, 20, 4, 0 };
static const struct imap_parser_limits lim_args3 = { 200, 100, 3, 4, 0 };
static const struct imap_parser_limits lim_line32 = { 32, 100, 20, 4, 0 };
static const struct imap_parser_limits lim_lit10 = { 200, 10, 20, 4, 0 };
static const struct imap_parser_limits lim_line16 = { 16, 100, 20, 4, 0 };
static const struct imap_parser_limits lim_stream15 = { 200, 10, 20, 4, 15 };

#define T(name, in, exp)          { name, in, sizeof(in) - 1, exp, &lim_std, 0, 0 }
#define TL(name, lim, in, exp)    { name, in, sizeof(in) - 1, exp, &lim, 0, 0 }
#define LINE(name, lim, in, exp)  { name, in, sizeof(in) - 1, exp, &lim, 1, 0 }
#define TS(name, in, exp)         { name, in, sizeof(in) - 1, exp, &lim_std, 0, 1 }
#define TSL(name, lim, in, exp)   { name, in, sizeof(in) - 1, exp, &lim, 0, 1 }

#define TAG64 "t234567890123456789012345678901234567890123456789012345678901234"

static const struct pcase cases[] = {
	/* simple commands and line ends */
	T("capability", "a1 CAPABILITY\r\n", "C:a1 CAPABILITY"),
	T("lower-case name", "a1 capability\r\n", "C:a1 CAPABILITY"),
	T("mixed-case name", "A001 Login joe secret\r\n", "C:A001 LOGIN joe secret"),
	T("LF only", "a1 NOOP\n", "C:a1 NOOP"),
	T("two commands", "a1 NOOP\r\na2 LOGOUT\r\n", "C:a1 NOOP | C:a2 LOGOUT"),
	T("name chars", "a1 x-foo.bar_1\r\n", "C:a1 X-FOO.BAR_1"),
	T("uid fetch", "a1 uid fetch 1:* (FLAGS)\r\n", "C:a1 UID fetch 1:* (FLAGS)"),
	T("empty lines ignored", "\r\n\n\r\na1 NOOP\r\n\r\n", "C:a1 NOOP"),
	T("incomplete", "a1 NOOP", ""),
	T("incomplete after CR", "a1 NOOP\r", ""),
	T("tag chars", "A.b-c]d[e! NOOP\r\n", "C:A.b-c]d[e! NOOP"),
	T("tag 64", TAG64 " NOOP\r\n", "C:" TAG64 " NOOP"),

	/* tag and name errors */
	T("tag too long", TAG64 "5 NOOP\r\na2 NOOP\r\n", "E:SYNTAX:* | C:a2 NOOP"),
	T("tag plus", "a+1 NOOP\r\na2 NOOP\r\n", "E:SYNTAX:* | C:a2 NOOP"),
	T("tag star", "* NOOP\r\n", "E:SYNTAX:*"),
	T("tag plus alone", "+ NOOP\r\n", "E:SYNTAX:*"),
	T("tag quote", "a\"1 NOOP\r\n", "E:SYNTAX:*"),
	T("tag paren", "(a NOOP\r\n", "E:SYNTAX:*"),
	T("tag percent", "a% NOOP\r\n", "E:SYNTAX:*"),
	T("tag 8-bit", "\xc3\xa9 NOOP\r\na2 NOOP\r\n", "E:SYNTAX:* | C:a2 NOOP"),
	T("leading space", " a1 NOOP\r\na2 NOOP\r\n", "E:SYNTAX:* | C:a2 NOOP"),
	T("lone CR", "\ra1 NOOP\r\na2 NOOP\r\n", "E:SYNTAX:* | C:a2 NOOP"),
	T("missing name CRLF", "a1\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("missing name LF", "a1\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("missing name SP", "a1 \r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("double space after tag", "a1  NOOP\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("bad name char", "a1 NO%OP\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("name then paren", "a1 NOOP(\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("CR not LF", "a1 NOOP\rX\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),

	/* separators */
	T("trailing space", "a1 NOOP \r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("trailing space LF", "a1 NOOP \na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("trailing space after arg", "a1 SELECT INBOX \r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("double space", "a1 X a  b\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("quoted then atom", "a1 X \"a\"b\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("list then list", "a1 X (a)(b)\r\n", "E:SYNTAX:a1"),
	T("atom then paren", "a1 X a(b)\r\n", "E:SYNTAX:a1"),
	T("atom then quote", "a1 X a\"b\"\r\n", "E:SYNTAX:a1"),
	T("atom then brace", "a1 X a{3}\r\n", "E:SYNTAX:a1"),

	/* atoms */
	T("sequence set star", "a1 FETCH 1:*,5 FLAGS\r\n", "C:a1 FETCH 1:*,5 FLAGS"),
	T("list wildcards", "a1 LIST \"\" %\r\n", "C:a1 LIST \"\" %"),
	T("list wildcards 2", "a1 LIST \"\" INBOX.*\r\n", "C:a1 LIST \"\" INBOX.*"),
	T("close bracket atom", "a1 X a]b\r\n", "C:a1 X a]b"),
	T("tilde atom", "a1 X ~foo ~\r\n", "C:a1 X ~foo ~"),
	T("backslash in atom", "a1 X a\\b\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("8-bit atom", "a1 X caf\xc3\xa9\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("CTL in atom", "a1 X a\tb\r\n", "E:SYNTAX:a1"),
	T("DEL in atom", "a1 X a\x7f\r\n", "E:SYNTAX:a1"),
	T("NUL in atom", "a1 X a\0b\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("NUL as arg", "a1 X \0\r\n", "E:SYNTAX:a1"),
	T("stray close paren", "a1 X a)\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("close paren as arg", "a1 X )\r\n", "E:SYNTAX:a1"),

	/* flags */
	T("flags", "a1 STORE 1 +FLAGS (\\Seen \\Answered \\*)\r\n",
	  "C:a1 STORE 1 +FLAGS (\\Seen \\Answered \\*)"),
	T("flag top level", "a1 X \\Deleted\r\n", "C:a1 X \\Deleted"),
	T("flag alone", "a1 X (\\ a)\r\n", "E:SYNTAX:a1"),
	T("flag at end", "a1 X \\\r\n", "E:SYNTAX:a1"),
	T("flag star plus", "a1 X \\*x\r\n", "E:SYNTAX:a1"),
	T("flag percent", "a1 X \\a%\r\n", "E:SYNTAX:a1"),
	T("flag double backslash", "a1 X \\\\a\r\n", "E:SYNTAX:a1"),

	/* NIL */
	T("NIL", "a1 X NIL nil Nil \"NIL\" (NIL) NILS \\NIL\r\n",
	  "C:a1 X NIL NIL NIL \"NIL\" (NIL) NILS \\NIL"),
	T("NIL literal stays literal", "a1 X {3+}\r\nNIL\r\n", "C:a1 X {3}\"NIL\""),

	/* quoted strings */
	T("quoted", "a1 LOGIN \"joe\" \"se cret\"\r\n", "C:a1 LOGIN \"joe\" \"se cret\""),
	T("quoted escapes", "a1 LOGIN \"us\\\"er\" \"p\\\\w\"\r\n", "C:a1 LOGIN \"us\\\"er\" \"p\\\\w\""),
	T("quoted empty", "a1 X \"\" (\"\")\r\n", "C:a1 X \"\" (\"\")"),
	T("quoted specials", "a1 X \"(){%*]\"\r\n", "C:a1 X \"(){%*]\""),
	T("quoted utf-8", "a1 X \"caf\xc3\xa9\"\r\n", "C:a1 X \"caf\\xc3\\xa9\""),
	T("quoted tab", "a1 X \"a\tb\"\r\n", "C:a1 X \"a\\x09b\""),
	T("bad escape", "a1 LOGIN \"a\\b\" x\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("escape at end", "a1 X \"a\\\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("unterminated quoted", "a1 LOGIN \"abc\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("unterminated quoted LF", "a1 LOGIN \"abc\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("NUL in quoted", "a1 X \"a\0b\"\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),

	/* literals */
	T("sync literals", "a1 LOGIN {3}\r\nbob {4}\r\npass\r\n", "+ | + | C:a1 LOGIN {3}\"bob\" {4}\"pass\""),
	T("non-sync literals", "a1 LOGIN {3+}\r\nbob {4+}\r\npass\r\n", "C:a1 LOGIN {3}\"bob\" {4}\"pass\""),
	T("literal LF only", "a1 LOGIN {3}\nbob x\n", "+ | C:a1 LOGIN {3}\"bob\" x"),
	T("literal8", "a1 APPEND INBOX ~{5+}\r\nab\0cd\r\n", "C:a1 APPEND INBOX ~{5}\"ab\\x00cd\""),
	T("literal8 sync", "a1 APPEND INBOX (\\Seen) ~{2}\r\n\0\xff\r\n",
	  "+ | C:a1 APPEND INBOX (\\Seen) ~{2}\"\\x00\\xff\""),
	T("literal CRLF inside", "a1 APPEND INBOX {6}\r\na\r\nb\nc\r\n",
	  "+ | C:a1 APPEND INBOX {6}\"a\\x0d\\x0ab\\x0ac\""),
	T("literal NUL inside", "a1 X {3+}\r\n\0\0\0\r\n", "C:a1 X {3}\"\\x00\\x00\\x00\""),
	T("literal looks like command", "a1 X {9+}\r\nb1 NOOP\r\n\r\n", "C:a1 X {9}\"b1 NOOP\\x0d\\x0a\""),
	T("zero literals", "a1 LOGIN {0}\r\n {0+}\r\n\r\n", "+ | C:a1 LOGIN {0}\"\" {0}\"\""),
	T("literal in list", "a1 X ({3+}\r\nabc (~{1+}\r\nx))\r\n", "C:a1 X ({3}\"abc\" (~{1}\"x\"))"),
	T("literal then args", "a1 X {1+}\r\na b \"c\"\r\n", "C:a1 X {1}\"a\" b \"c\""),
	T("literal leading zeros", "a1 X {0002+}\r\nab\r\n", "C:a1 X {2}\"ab\""),
	T("literal max size", "a1 X {100+}\r\n"
	  "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"
	  "\r\n", "C:a1 X {100}\"0123456789012345678901234567890123456789012345678901234567890123456789"
	  "012345678901234567890123456789\""),
	T("literal then garbage", "a1 X {1}x\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal then space", "a1 X {1} \r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal CR then garbage", "a1 X {1}\rx\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal no digits", "a1 X {}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal plus only", "a1 X {+}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal bad digit", "a1 X {1a}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal plus plus", "a1 X {1++}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal unclosed", "a1 X {12\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal no body sep", "a1 X {1}\r\nab\r\na2 NOOP\r\n", "+ | E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal 2^32", "a1 X {4294967296}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal 2^32-1 too big", "a1 X {4294967295}\r\na2 NOOP\r\n", "E:LITERAL_TOO_BIG:a1 | C:a2 NOOP"),
	T("literal huge non-sync", "a1 X {99999999999999999999+}\r\n", "E:SYNTAX:a1:F"),
	T("tilde brace no digits", "a1 X ~{x}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("literal too big sync", "a1 APPEND INBOX {101}\r\na2 NOOP\r\n", "E:LITERAL_TOO_BIG:a1 | C:a2 NOOP"),
	TL("literal too big non-sync", lim_lit10, "a1 APPEND INBOX {11+}\r\nb1 LOGOUT\r\n\r\na2 NOOP\r\n",
	   "E:LITERAL_TOO_BIG:a1:F | C:a2 NOOP"),
	TL("literal sum too big", lim_lit10, "a1 X {6+}\r\nabcdef {5+}\r\nb1 NOOP\r\na2 NOOP\r\n",
	   "E:LITERAL_TOO_BIG:a1:F | C:a2 NOOP"),
	TL("literal sum fits", lim_lit10, "a1 X {6+}\r\nabcdef {4}\r\nabcd\r\n",
	   "+ | C:a1 X {6}\"abcdef\" {4}\"abcd\""),
	TL("literal sum per command", lim_lit10, "a1 X {10+}\r\n0123456789\r\na2 X {10+}\r\n0123456789\r\n",
	   "C:a1 X {10}\"0123456789\" | C:a2 X {10}\"0123456789\""),

	/* discarding the rest of a line after an error */
	T("error then non-sync literal skipped", "a1 X \"bad\\q\" {9+}\r\nb1 LOGOUT\r\na2 NOOP\r\n",
	  "E:SYNTAX:a1 | C:a2 NOOP"),
	T("error then two non-sync literals", "a1 X ) {3+}\r\nb1\n {4+}\r\nb2\r\n x\r\na2 NOOP\r\n",
	  "E:SYNTAX:a1 | C:a2 NOOP"),
	T("error then sync literal not skipped", "a1 X ) {9}\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("error then literal-like text", "a1 X ) {9+}x\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	TL("too many args at literal", lim_args3, "a1 X a b c {9+}\r\nb1 LOGOUT\r\na2 NOOP\r\n",
	   "E:TOO_MANY_ARGS:a1 | C:a2 NOOP"),
	TL("line too long in literal size", lim_line16, "a1 XXXXXXXXXX {12+}\r\nb1 LOGOUT\r\nX\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	TL("line too long at literal brace", lim_line16, "a1 XXXXXXXX {12+}\r\nb1 LOGOUT\r\nX\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	TL("line too long at literal LF", lim_line16, "a1 XXXXXXX {7+}\r\n1234567\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	T("literal in section rejected", "a1 FETCH 1 BODY[HEADER.FIELDS ({4+}\r\nFROM)]\r\na2 NOOP\r\n",
	  "E:SYNTAX:a1 | C:a2 NOOP"),

	/* lists */
	T("nested lists", "a1 X (a (b (c)) ()) d\r\n", "C:a1 X (a (b (c)) ()) d"),
	T("empty list", "a1 X ()\r\n", "C:a1 X ()"),
	T("list of lists", "a1 X ((a) (b c) ((d)))\r\n", "C:a1 X ((a) (b c) ((d)))"),
	T("depth 4 ok", "a1 X ((((a))))\r\n", "C:a1 X ((((a))))"),
	T("too deep", "a1 X (((((a)))))\r\na2 NOOP\r\n", "E:TOO_DEEP:a1 | C:a2 NOOP"),
	T("too deep again", "a1 X (a) ((((()))))\r\na2 NOOP\r\n", "E:TOO_DEEP:a1 | C:a2 NOOP"),
	T("missing close paren", "a1 X (a\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("missing close paren LF", "a1 X (a (b)\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("open paren at end", "a1 X (\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("space after open paren", "a1 X ( a)\r\n", "E:SYNTAX:a1"),
	T("space before close paren", "a1 X (a )\r\n", "E:SYNTAX:a1"),
	T("extra close paren", "a1 X (a))\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	TL("args at limit", lim_args3, "a1 X a b c\r\n", "C:a1 X a b c"),
	TL("too many args", lim_args3, "a1 X a b c d\r\na2 NOOP\r\n", "E:TOO_MANY_ARGS:a1 | C:a2 NOOP"),
	TL("list nodes count", lim_args3, "a1 X (a b)\r\n", "C:a1 X (a b)"),
	TL("too many nested args", lim_args3, "a1 X (a (b))\r\na2 NOOP\r\n", "E:TOO_MANY_ARGS:a1 | C:a2 NOOP"),

	/* section atoms */
	T("section atom", "a1 FETCH 1 BODY.PEEK[HEADER.FIELDS (FROM \"TO\")]<0.10>\r\n",
	  "C:a1 FETCH 1 BODY.PEEK[HEADER.FIELDS (FROM \"TO\")]<0.10>"),
	T("section atoms in list", "a1 UID FETCH 1:* (FLAGS BODY[HEADER.FIELDS (DATE FROM)] BODY[]<0.2048>)\r\n",
	  "C:a1 UID FETCH 1:* (FLAGS BODY[HEADER.FIELDS (DATE FROM)] BODY[]<0.2048>)"),
	T("section not", "a1 FETCH 1 BODY[HEADER.FIELDS.NOT (X-A)] BINARY[1.2]\r\n",
	  "C:a1 FETCH 1 BODY[HEADER.FIELDS.NOT (X-A)] BINARY[1.2]"),
	T("section bracket in quotes", "a1 FETCH 1 BODY[HEADER.FIELDS (\"X]\" \"a\\\"b\")]\r\n",
	  "C:a1 FETCH 1 BODY[HEADER.FIELDS (\"X]\" \"a\\\"b\")]"),
	T("section nested brackets", "a1 X a[b[c]d]e\r\n", "C:a1 X a[b[c]d]e"),
	T("section at start", "a1 X [a b]\r\n", "C:a1 X [a b]"),
	T("section after tilde", "a1 X ~[a]\r\n", "C:a1 X ~[a]"),
	T("two sections", "a1 X a[1]b[2 3]\r\n", "C:a1 X a[1]b[2 3]"),
	T("unterminated section", "a1 FETCH 1 BODY[HEADER\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("unterminated section quote", "a1 FETCH 1 BODY[HEADER.FIELDS (\"X)]\r\na2 NOOP\r\n",
	  "E:SYNTAX:a1 | C:a2 NOOP"),
	T("section bad escape", "a1 X a[\"\\x\"]\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	T("section 8-bit", "a1 X a[\xc3]\r\n", "E:SYNTAX:a1"),
	T("section 8-bit quoted", "a1 X a[\"\xc3\xa9\"]\r\n", "C:a1 X a[\"\\xc3\\xa9\"]"),
	T("section NUL", "a1 X a[\0]\r\n", "E:SYNTAX:a1"),

	/* limits: line length */
	TL("line exactly max", lim_line32, "a1 X 1234567890123456789012345\r\n",
	   "C:a1 X 1234567890123456789012345"),
	TL("line max+1 at LF", lim_line32, "a1 X 12345678901234567890123456\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	TL("line too long", lim_line32, "a1 X 1234567890123456789012345678901234567890\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	TL("line too long in tag", lim_line32, "t1234567890123456789012345678901234567890 NOOP\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:* | C:a2 NOOP"),
	TL("line too long quoted", lim_line32, "a1 X \"1234567890123456789012345678901234567890\"\r\na2 NOOP\r\n",
	   "E:LINE_TOO_LONG:a1 | C:a2 NOOP"),
	TL("literal bodies do not count", lim_line32, "a1 X {40+}\r\n1234567890123456789012345678901234567890 y\r\n",
	   "C:a1 X {40}\"1234567890123456789012345678901234567890\" y"),
	TL("empty lines do not count", lim_line16, "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\na1 NOOP\r\n", "C:a1 NOOP"),

	/* line mode */
	LINE("line", lim_std, "dXNlcg==\r\n", "L:dXNlcg=="),
	LINE("line LF", lim_std, "abc\n", "L:abc"),
	LINE("line empty", lim_std, "\r\n", "L:"),
	LINE("line empty LF", lim_std, "\n", "L:"),
	LINE("lines", lim_std, "a\r\nb c\r\n*\r\n", "L:a | L:b c | L:*"),
	LINE("line inner CR", lim_std, "a\rb\r\r\n", "L:a\\x0db\\x0d"),
	LINE("line NUL", lim_std, "a\0b\r\n", "L:a\\x00b"),
	LINE("line incomplete", lim_std, "abc\r", ""),
	LINE("line exactly max", lim_line16, "12345678901234\r\n", "L:12345678901234"),
	LINE("line max+1 at LF", lim_line16, "123456789012345\r\nok\r\n", "E:LINE_TOO_LONG:* | L:ok"),
	LINE("line too long", lim_line16, "12345678901234567890123456789\r\nok\r\n", "E:LINE_TOO_LONG:* | L:ok"),

	/* the literal sink: APPEND's messages stream, nothing else does */
	TS("sink append", "a1 APPEND INBOX {5}\r\nhello\r\n", "+ | C:a1 APPEND INBOX S{5}\"hello\""),
	TS("sink append lower case", "a1 append INBOX {5+}\r\nhello\r\n", "C:a1 APPEND INBOX S{5}\"hello\""),
	TS("sink 8-bit, CRLF, NUL", "a1 APPEND INBOX ~{8+}\r\n\0\r\n\xff\n\r.\r\r\n",
	   "C:a1 APPEND INBOX S~{8}\"\\x00\\x0d\\x0a\\xff\\x0a\\x0d.\\x0d\""),
	TS("sink literal looks like command", "a1 APPEND INBOX {9+}\r\nb1 NOOP\r\n\r\n",
	   "C:a1 APPEND INBOX S{9}\"b1 NOOP\\x0d\\x0a\""),
	TS("sink mailbox literal stays", "a1 APPEND {5}\r\nINBOX (\\Seen) \"d\" {3}\r\nabc\r\n",
	   "+ | + | C:a1 APPEND {5}\"INBOX\" (\\Seen) \"d\" S{3}\"abc\""),
	TS("sink multiappend utf8", "a1 APPEND INBOX {3+}\r\nabc (\\Seen) UTF8 (~{4+}\r\na\0\r\n) ~{2+}\r\n\0\xff\r\n",
	   "C:a1 APPEND INBOX S{3}\"abc\" (\\Seen) UTF8 (S~{4}\"a\\x00\\x0d\\x0a\") S~{2}\"\\x00\\xff\""),
	TS("sink not in lists", "a1 APPEND INBOX ({3+}\r\nabc) UTF8 ({1+}\r\nx) (x ~{1+}\r\ny) ((~{1+}\r\nz))\r\n",
	   "C:a1 APPEND INBOX ({3}\"abc\") UTF8 ({1}\"x\") (x ~{1}\"y\") ((~{1}\"z\"))"),
	TS("sink other commands", "a1 X INBOX {3+}\r\nabc\r\na2 UID APPEND INBOX {1+}\r\nx\r\n",
	   "C:a1 X INBOX {3}\"abc\" | C:a2 UID APPEND INBOX {1}\"x\""),
	TS("sink empty literal", "a1 APPEND INBOX {0}\r\n\r\n", "+ | C:a1 APPEND INBOX S{0}\"\""),
	TS("sink error after literal", "a1 APPEND INBOX {3+}\r\nabc )\r\na2 NOOP\r\n",
	   "E:SYNTAX:a1 | C:a2 NOOP"),
	TS("sink error in literal CRLF", "a1 APPEND INBOX {3}x\r\na2 NOOP\r\n", "E:SYNTAX:a1 | C:a2 NOOP"),
	TS("sink two commands", "a1 APPEND INBOX {1+}\r\nx\r\na2 APPEND INBOX {1+}\r\ny\r\n",
	   "C:a1 APPEND INBOX S{1}\"x\" | C:a2 APPEND INBOX S{1}\"y\""),
	TSL("sink literal over max_literal", lim_lit10, "a1 APPEND INBOX {11}\r\na2 NOOP\r\n",
	    "E:LITERAL_TOO_BIG:a1 | C:a2 NOOP"),
	TSL("sink over max_literal non-sync", lim_lit10, "a1 APPEND INBOX {11+}\r\n01234567890\r\na2 NOOP\r\n",
	    "E:LITERAL_TOO_BIG:a1:F | C:a2 NOOP"),
	TSL("sink streamed not in memory sum", lim_lit10,
	    "a1 APPEND {5+}\r\nINBOX {10+}\r\n0123456789 {10}\r\n9876543210\r\n",
	    "+ | C:a1 APPEND {5}\"INBOX\" S{10}\"0123456789\" S{10}\"9876543210\""),
	TSL("sink memory sum still bounded", lim_lit10,
	    "a1 APPEND {6+}\r\nINBOX1 ({5+}\r\nabcde) {3+}\r\nxyz\r\na2 NOOP\r\n",
	    "E:LITERAL_TOO_BIG:a1:F | C:a2 NOOP"),
	TSL("sink streamed sum at limit", lim_stream15, "a1 APPEND INBOX {10+}\r\n0123456789 {5+}\r\nabcde\r\n",
	    "C:a1 APPEND INBOX S{10}\"0123456789\" S{5}\"abcde\""),
	TSL("sink streamed sum too big", lim_stream15,
	    "a1 APPEND INBOX {10+}\r\n0123456789 {6+}\r\nb1 X\r\n\r\na2 NOOP\r\n",
	    "E:LITERAL_TOO_BIG:a1:F | C:a2 NOOP"),
	TSL("sink streamed sum too big sync", lim_stream15,
	    "a1 APPEND INBOX {10+}\r\n0123456789 {6}\r\na2 NOOP\r\n",
	    "E:LITERAL_TOO_BIG:a1 | C:a2 NOOP"),
	/* the sink refuses (mailbox "Nosuch"): a synchronizing literal ends
	   the command at its '}' without a continuation; a non-synchronizing
	   one is the sink's to take and drop */
	TS("sink refused sync", "a1 APPEND Nosuch {5}\r\na2 NOOP\r\n", "E:REFUSED:a1 | C:a2 NOOP"),
	TS("sink refused sync LF", "a1 APPEND Nosuch (\\Seen) {5}\na2 NOOP\n", "E:REFUSED:a1 | C:a2 NOOP"),
	TS("sink refused quoted and literal names", "a1 APPEND \"Nosuch\" {5}\r\n"
	   "a2 APPEND {6}\r\nNosuch {1}\r\na3 NOOP\r\n", "E:REFUSED:a1 | + | E:REFUSED:a2 | C:a3 NOOP"),
	TS("sink refused utf8 form", "a1 APPEND Nosuch UTF8 (~{1}\r\na2 NOOP\r\n", "E:REFUSED:a1 | C:a2 NOOP"),
	TS("sink refused non-sync", "a1 APPEND Nosuch {5+}\r\nhello\r\na2 NOOP\r\n",
	   "C:a1 APPEND Nosuch S{5}\"hello\" | C:a2 NOOP"),
	TS("sink refused sync after non-sync", "a1 APPEND Nosuch {2+}\r\nab {3}\r\na2 NOOP\r\n",
	   "E:REFUSED:a1 | C:a2 NOOP"),
	TS("sink refusal not for other names", "a1 APPEND Nosuch2 {1}\r\nx NOSUCH {1}\r\ny\r\n",
	   "+ | + | C:a1 APPEND Nosuch2 S{1}\"x\" NOSUCH S{1}\"y\""),
	TS("sink refusal only of streamed", "a1 X Nosuch {1}\r\nx\r\n", "+ | C:a1 X Nosuch {1}\"x\""),
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static void check_case(const struct pcase *c, enum split split, uint32_t seed)
{
	char *got = transcript(c->lim, c->in, c->len, split, seed, c->line_mode, c->sink);

	ck_assert_msg(strcmp(got, c->expect) == 0,
		      "case \"%s\" (split %d, seed %u):\n  expected: %s\n  got:      %s",
		      c->name, (int)split, (unsigned)seed, c->expect, got);
	free(got);
}

START_TEST(test_table_once)
{
	check_case(&cases[_i], SPLIT_ONCE, 0);
}
END_TEST

/* Property: byte by byte and random splits give the identical transcript. */
START_TEST(test_table_split)
{
	uint32_t seed;

	check_case(&cases[_i], SPLIT_BYTES, 0);
	for (seed = 1; seed <= 16; seed++)
		check_case(&cases[_i], SPLIT_RANDOM, seed * 2654435761u);
}
END_TEST

/* ---- direct API tests ----------------------------------------------- */

static struct imap_parser *new_std(void)
{
	struct imap_parser *p = imap_parser_new(&lim_std);

	ck_assert_ptr_nonnull(p);
	return p;
}

START_TEST(test_consumed_first_command)
{
	struct imap_parser *p = new_std();
	const char *in = "a1 NOOP\r\na2 LOGOUT\r\n";
	size_t used;

	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in), &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, 9);
	ck_assert_str_eq(imap_parser_command(p)->tag, "a1");
	ck_assert_str_eq(imap_parser_command(p)->name, "NOOP");
	ck_assert_uint_eq(imap_parser_command(p)->nargs, 0);
	ck_assert_ptr_null(imap_parser_error_tag(p));
	/* without a reset: same answer, nothing consumed */
	ck_assert_int_eq(imap_parser_feed(p, in + used, strlen(in) - used, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, 0);
	ck_assert_str_eq(imap_parser_command(p)->name, "NOOP");
	imap_parser_reset(p);
	ck_assert_ptr_null(imap_parser_command(p));
	ck_assert_int_eq(imap_parser_feed(p, in + 9, strlen(in) - 9, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, strlen(in) - 9);
	ck_assert_str_eq(imap_parser_command(p)->name, "LOGOUT");
	imap_parser_free(p);
}
END_TEST

START_TEST(test_continue_consumed)
{
	struct imap_parser *p = new_std();
	const char *in = "a1 LOGIN {3}\r\nbob \"x\"\r\n";
	const struct imap_command *cmd;
	size_t used, off;

	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in), &used), IMAP_PARSE_CONTINUE);
	ck_assert_uint_eq(used, 14);
	ck_assert_ptr_null(imap_parser_command(p));
	off = used;
	ck_assert_int_eq(imap_parser_feed(p, in + off, 2, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_uint_eq(used, 2);
	off += used;
	ck_assert_int_eq(imap_parser_feed(p, in + off, strlen(in) - off, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(off + used, strlen(in));
	cmd = imap_parser_command(p);
	ck_assert_uint_eq(cmd->nargs, 2);
	ck_assert_int_eq(cmd->args[0].type, IMAP_ARG_LITERAL);
	ck_assert_int_eq(cmd->args[0].literal8, 0);
	ck_assert_uint_eq(cmd->args[0].len, 3);
	ck_assert_str_eq(cmd->args[0].str, "bob");
	ck_assert_int_eq(cmd->args[1].type, IMAP_ARG_QUOTED);
	ck_assert_str_eq(cmd->args[1].str, "x");
	imap_parser_free(p);
}
END_TEST

START_TEST(test_arg_tree)
{
	struct imap_parser *p = new_std();
	static const char in[] = "t FETCH 1 (FLAGS BODY[] (NIL ~{2+}\r\n\0z \\Seen) ())\r\n";
	const struct imap_command *cmd;
	const struct imap_arg *l, *inner;
	size_t used, len = sizeof(in) - 1;

	ck_assert_int_eq(imap_parser_feed(p, in, len, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, len);
	cmd = imap_parser_command(p);
	ck_assert_uint_eq(cmd->nargs, 2);
	ck_assert_int_eq(cmd->args[0].type, IMAP_ARG_ATOM);
	ck_assert_str_eq(cmd->args[0].str, "1");
	l = &cmd->args[1];
	ck_assert_int_eq(l->type, IMAP_ARG_LIST);
	ck_assert_uint_eq(l->list_count, 4);
	ck_assert_str_eq(l->list[0].str, "FLAGS");
	ck_assert_str_eq(l->list[1].str, "BODY[]");
	inner = &l->list[2];
	ck_assert_int_eq(inner->type, IMAP_ARG_LIST);
	ck_assert_uint_eq(inner->list_count, 3);
	ck_assert_int_eq(inner->list[0].type, IMAP_ARG_NIL);
	ck_assert_ptr_null(inner->list[0].str);
	ck_assert_int_eq(inner->list[1].type, IMAP_ARG_LITERAL);
	ck_assert_int_eq(inner->list[1].literal8, 1);
	ck_assert_uint_eq(inner->list[1].len, 2);
	ck_assert_int_eq(memcmp(inner->list[1].str, "\0z", 3), 0);
	ck_assert_str_eq(inner->list[2].str, "\\Seen");
	ck_assert_int_eq(l->list[3].type, IMAP_ARG_LIST);
	ck_assert_uint_eq(l->list[3].list_count, 0);
	ck_assert_ptr_null(l->list[3].list);
	imap_parser_free(p);
}
END_TEST

START_TEST(test_error_details)
{
	static const struct {
		const char *in;
		const char *msg;
		const char *tag;
		size_t used;
	} e[] = {
		{ "a1 LOGIN \"abc\r\n", "Unterminated quoted string", "a1", 14 },
		{ "a1 LOGIN \"a\\b\"\r\n", "Invalid escape in quoted string", "a1", 13 },
		{ "a1 NOOP \r\n", "Trailing space", "a1", 9 },
		{ "a1\r\n", "Missing command name", "a1", 3 },
		{ "a+ NOOP\r\n", "Invalid characters in tag", NULL, 2 },
		{ "a1 X (a\r\n", "Missing ')'", "a1", 8 },
		{ "a1 X a)\r\n", "Unexpected ')'", "a1", 7 },
		{ "a1 X {101}\r\n", "Literal too big", "a1", 10 },
	};
	size_t i;

	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct imap_parser *p = new_std();
		size_t used;

		ck_assert_int_eq(imap_parser_feed(p, e[i].in, strlen(e[i].in), &used), IMAP_PARSE_ERROR);
		ck_assert_uint_eq(used, e[i].used);
		ck_assert_str_eq(imap_parser_error(p), e[i].msg);
		if (e[i].tag == NULL)
			ck_assert_ptr_null(imap_parser_error_tag(p));
		else
			ck_assert_str_eq(imap_parser_error_tag(p), e[i].tag);
		ck_assert_int_eq(imap_parser_fatal(p), 0);
		imap_parser_reset(p);
		ck_assert_ptr_null(imap_parser_error(p));
		ck_assert_ptr_null(imap_parser_error_tag(p));
		ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_NONE);
		imap_parser_free(p);
	}
}
END_TEST

/* The error is reported at once, before the rest of the line has arrived;
   the rest is discarded on the next feeds. */
START_TEST(test_error_skip_later_feeds)
{
	struct imap_parser *p = new_std();
	size_t used;

	ck_assert_int_eq(imap_parser_feed(p, "a1 X )", 6, &used), IMAP_PARSE_ERROR);
	ck_assert_uint_eq(used, 6);
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed(p, "junk a2 NOOP", 12, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_uint_eq(used, 12);
	ck_assert_int_eq(imap_parser_feed(p, "\r\na3 NOOP\r\n", 11, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, 11);
	ck_assert_str_eq(imap_parser_command(p)->tag, "a3");
	imap_parser_free(p);
}
END_TEST

START_TEST(test_fatal_nonsync)
{
	struct imap_parser *p = new_std();
	size_t used;

	ck_assert_int_eq(imap_parser_feed(p, "a1 APPEND x {101+}\r\n", 20, &used), IMAP_PARSE_ERROR);
	ck_assert_uint_eq(used, 18);
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_LITERAL_TOO_BIG);
	ck_assert_int_eq(imap_parser_fatal(p), 1);
	ck_assert_str_eq(imap_parser_error_tag(p), "a1");
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_fatal(p), 0);
	imap_parser_free(p);

	p = new_std();
	ck_assert_int_eq(imap_parser_feed(p, "a1 append x {101}\r\n", 19, &used), IMAP_PARSE_ERROR);
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_LITERAL_TOO_BIG);
	ck_assert_int_eq(imap_parser_fatal(p), 0);
	ck_assert_str_eq(imap_parser_error_command(p), "APPEND");
	imap_parser_reset(p);
	ck_assert_ptr_null(imap_parser_error_command(p));
	imap_parser_free(p);
}
END_TEST
/* Between commands (NOTIFY may speak) or inside one. */
START_TEST(test_at_start)
{
	struct imap_parser *p = new_std();
	const char *in = "a1 APPEND x {3}\r\nabc\r\n";
	size_t used, off;

	ck_assert(imap_parser_at_start(p));
	/* half a tag */
	ck_assert_int_eq(imap_parser_feed(p, "a", 1, &used), IMAP_PARSE_NEED_MORE);
	ck_assert(!imap_parser_at_start(p));
	imap_parser_reset(p);
	ck_assert(imap_parser_at_start(p));
	/* a literal announced, its bytes not yet here */
	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in), &used), IMAP_PARSE_CONTINUE);
	ck_assert(!imap_parser_at_start(p));
	off = used;
	ck_assert_int_eq(imap_parser_feed(p, in + off, 2, &used), IMAP_PARSE_NEED_MORE);
	ck_assert(!imap_parser_at_start(p));
	off += used;
	ck_assert_int_eq(imap_parser_feed(p, in + off, strlen(in) - off, &used),
	    IMAP_PARSE_COMMAND);
	ck_assert(!imap_parser_at_start(p));
	imap_parser_reset(p);
	ck_assert(imap_parser_at_start(p));
	/* the rest of a bad line is being discarded */
	ck_assert_int_eq(imap_parser_feed(p, "a1 (", 4, &used), IMAP_PARSE_ERROR);
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed(p, "x", 1, &used), IMAP_PARSE_NEED_MORE);
	ck_assert(!imap_parser_at_start(p));
	ck_assert_int_eq(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_NEED_MORE);
	ck_assert(imap_parser_at_start(p));
	/* line mode (AUTHENTICATE, IDLE's DONE) */
	ck_assert_int_eq(imap_parser_feed_line(p, "DO", 2, &used), IMAP_PARSE_NEED_MORE);
	ck_assert(!imap_parser_at_start(p));
	imap_parser_free(p);
}
END_TEST

START_TEST(test_empty_feed)
{
	struct imap_parser *p = new_std();
	size_t used = 7;

	ck_assert_int_eq(imap_parser_feed(p, "", 0, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(imap_parser_feed_line(p, "", 0, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_uint_eq(used, 0);
	/* nothing read in line mode yet: command mode is still fine */
	ck_assert_int_eq(imap_parser_feed(p, "a NOOP\n", 7, &used), IMAP_PARSE_COMMAND);
	imap_parser_free(p);
}
END_TEST

/* AUTHENTICATE: a command, then raw lines, then commands again. */
START_TEST(test_line_mode_switch)
{
	struct imap_parser *p = new_std();
	const char *in = "a1 AUTHENTICATE PLAIN\r\nAGpvZQBzZWNyZXQ=\r\na2 NOOP\r\n";
	size_t used, off = 0, len;
	const char *line;

	ck_assert_int_eq(imap_parser_feed(p, in, strlen(in), &used), IMAP_PARSE_COMMAND);
	ck_assert_str_eq(imap_parser_command(p)->name, "AUTHENTICATE");
	ck_assert_ptr_null(imap_parser_line(p, &len));
	off += used;
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed_line(p, in + off, 5, &used), IMAP_PARSE_NEED_MORE);
	off += used;
	ck_assert_int_eq(imap_parser_feed_line(p, in + off, strlen(in) - off, &used), IMAP_PARSE_COMMAND);
	off += used;
	line = imap_parser_line(p, &len);
	ck_assert_str_eq(line, "AGpvZQBzZWNyZXQ=");
	ck_assert_uint_eq(len, 16);
	ck_assert_ptr_null(imap_parser_command(p));
	ck_assert_ptr_nonnull(imap_parser_line(p, NULL));
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed(p, in + off, strlen(in) - off, &used), IMAP_PARSE_COMMAND);
	ck_assert_str_eq(imap_parser_command(p)->tag, "a2");
	imap_parser_free(p);
}
END_TEST

START_TEST(test_mode_switch_midline)
{
	struct imap_parser *p = new_std();
	size_t used;

	ck_assert_int_eq(imap_parser_feed(p, "a1 NO", 5, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_int_eq(imap_parser_feed_line(p, "OP\r\n", 4, &used), IMAP_PARSE_ERROR);
	ck_assert_uint_eq(used, 0);
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_SYNTAX);
	imap_parser_reset(p);
	/* the rest of the line is discarded */
	ck_assert_int_eq(imap_parser_feed(p, "OP\r\na2 NOOP\r\n", 13, &used), IMAP_PARSE_COMMAND);
	ck_assert_str_eq(imap_parser_command(p)->tag, "a2");
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed_line(p, "abc", 3, &used), IMAP_PARSE_NEED_MORE);
	ck_assert_int_eq(imap_parser_feed(p, "\r\n", 2, &used), IMAP_PARSE_ERROR);
	imap_parser_free(p);
}
END_TEST

/* Library defaults, big commands: buffers grow and shrink back on reset. */
START_TEST(test_defaults_and_growth)
{
	struct imap_parser *p = imap_parser_new(NULL);
	struct imap_parser_limits zero = { 0, 0, 0, 0, 0 };
	struct sbuf b = { NULL, 0, 0 };
	const struct imap_command *cmd;
	size_t i, used, lit = 300000;
	char *big;

	ck_assert_ptr_nonnull(p);
	/* 1024 arguments in lists, the default limit */
	sb_puts(&b, "a1 X");
	for (i = 0; i < 256; i++)
		sb_printf(&b, " (a%zu \"q\" NIL)", i);
	sb_puts(&b, "\r\n");
	ck_assert_int_eq(imap_parser_feed(p, b.s, b.len, &used), IMAP_PARSE_COMMAND);
	cmd = imap_parser_command(p);
	ck_assert_uint_eq(cmd->nargs, 256);
	ck_assert_str_eq(cmd->args[255].list[0].str, "a255");
	imap_parser_reset(p);
	b.s[b.len - 2] = ' ';
	b.s[b.len - 1] = 'x';
	sb_puts(&b, "\r\n");
	ck_assert_int_eq(imap_parser_feed(p, b.s, b.len, &used), IMAP_PARSE_ERROR);
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_TOO_MANY_ARGS);
	ck_assert_uint_eq(used, b.len - 2);
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed(p, b.s + used, 2, &used), IMAP_PARSE_NEED_MORE);
	free(b.s);

	/* a 300 kB literal */
	big = malloc(lit + 64);
	ck_assert_ptr_nonnull(big);
	i = (size_t)snprintf(big, 64, "a2 APPEND INBOX {%zu+}\r\n", lit);
	memset(big + i, 'm', lit);
	memcpy(big + i + lit, "\r\n", 2);
	ck_assert_int_eq(imap_parser_feed(p, big, i + lit + 2, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, i + lit + 2);
	cmd = imap_parser_command(p);
	ck_assert_uint_eq(cmd->args[1].len, lit);
	ck_assert_int_eq(cmd->args[1].str[lit - 1], 'm');
	imap_parser_reset(p);
	ck_assert_int_eq(imap_parser_feed(p, "a3 NOOP\r\n", 9, &used), IMAP_PARSE_COMMAND);
	imap_parser_free(p);
	free(big);

	p = imap_parser_new(&zero);
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(imap_parser_feed(p, "a X ((((((((((((((((x))))))))))))))))\n", 38, &used), IMAP_PARSE_COMMAND);
	imap_parser_free(p);
}
END_TEST

/* ---- the literal sink, directly -------------------------------------- */

/* Feed in[0..len) in two pieces split at k, resetting after a command or
   error; returns the last result, with the command (if any) still there. */
static enum imap_parse_result feed_split(struct imap_parser *p, const char *in, size_t len,
					 size_t k, int *continues)
{
	enum imap_parse_result r = IMAP_PARSE_NEED_MORE;
	size_t piece[2] = { k, len - k }, off = 0, i;

	for (i = 0; i < 2; i++) {
		size_t end = off + piece[i];

		while (off < end) {
			size_t used;

			r = imap_parser_feed(p, in + off, end - off, &used);
			off += used;
			if (r == IMAP_PARSE_CONTINUE)
				(*continues)++;
			else if (r != IMAP_PARSE_NEED_MORE)
				return r;
		}
	}
	return r;
}

/* Every byte value, CRLF, bare CR and LF, NUL: all must reach the sink as sent. */
static size_t make_message(char *out, size_t cap)
{
	static const char tail[] = "\r\n.\r\n\n\r\0\r\n";
	size_t n = 0, i;

	for (i = 0; i < 256 && n < cap; i++)
		out[n++] = (char)i;
	for (i = 0; i < sizeof(tail) - 1 && n < cap; i++)
		out[n++] = tail[i];
	return n;
}

/* The command split at every byte boundary: same info, same bytes, one
   release, and only at the reset after the command. */
START_TEST(test_sink_every_split)
{
	static const struct imap_parser_limits lim = { 200, 300, 20, 4, 0 };
	char msg[300], in[400];
	size_t mlen = make_message(msg, sizeof(msg)), head, len, k;

	head = (size_t)snprintf(in, sizeof(in), "t1 append INBOX (\\Seen) ~{%zu}\r\n", mlen);
	memcpy(in + head, msg, mlen);
	memcpy(in + head + mlen, "\r\n", 2);
	len = head + mlen + 2;
	for (k = 0; k <= len; k++) {
		struct imap_parser *p = imap_parser_new(&lim);
		const struct imap_command *cmd;
		const struct tfile *f;
		struct tsink t = { 0 };
		int continues = 0;

		ck_assert_ptr_nonnull(p);
		tsink_attach(p, &t);
		ck_assert_int_eq(feed_split(p, in, len, k, &continues), IMAP_PARSE_COMMAND);
		ck_assert_int_eq(continues, 1);
		ck_assert_int_eq(t.opens, 1);
		ck_assert_str_eq(t.last_command, "APPEND");
		ck_assert_uint_eq(t.last.arg_index, 2);
		ck_assert_uint_eq(t.last.depth, 0);
		ck_assert_uint_eq(t.last.size, mlen);
		ck_assert_int_eq(t.last.literal8, 1);
		ck_assert_int_eq(t.last.nonsync, 0);
		cmd = imap_parser_command(p);
		ck_assert_uint_eq(cmd->nargs, 3);
		ck_assert_int_eq(cmd->args[2].type, IMAP_ARG_STREAMED);
		ck_assert_uint_eq(cmd->args[2].len, mlen);
		f = cmd->args[2].stream;
		ck_assert_uint_eq(f->len, mlen);
		ck_assert_int_eq(memcmp(f->data, msg, mlen), 0);
		ck_assert_int_eq(t.releases, 0);
		imap_parser_reset(p);
		ck_assert_int_eq(t.releases, 1);
		imap_parser_free(p);
		ck_assert_int_eq(t.releases, 1);
	}
}
END_TEST

static enum imap_parse_result feed_str(struct imap_parser *p, const char *s, size_t *used)
{
	return imap_parser_feed(p, s, strlen(s), used);
}

/* Cut short: the parser's free, a reset, an error later on the line. */
START_TEST(test_sink_release_paths)
{
	static const char part[] = "a1 APPEND INBOX {10}\r\n01234";
	struct imap_parser *p;
	struct tsink t = { 0 };
	size_t used;
	int continues = 0;

	/* a client that leaves mid-literal: the session frees the parser */
	p = new_std();
	tsink_attach(p, &t);
	ck_assert_int_eq(feed_split(p, part, sizeof(part) - 1, 20, &continues), IMAP_PARSE_NEED_MORE);
	ck_assert_int_eq(t.opens, 1);
	ck_assert_int_eq(t.releases, 0);
	imap_parser_free(p);
	ck_assert_int_eq(t.releases, 1);

	/* a reset in the middle (a caller giving up on the command) */
	p = new_std();
	tsink_attach(p, &t);
	ck_assert_int_eq(feed_split(p, part, sizeof(part) - 1, 5, &continues), IMAP_PARSE_NEED_MORE);
	imap_parser_reset(p);
	ck_assert_int_eq(t.opens, 2);
	ck_assert_int_eq(t.releases, 2);

	/* BAD later on the line: held until the reset after the error */
	ck_assert_int_eq(feed_str(p, "a2 APPEND INBOX {2+}\r\nab {1+}\r\nc x)", &used), IMAP_PARSE_ERROR);
	ck_assert_int_eq(t.opens, 4);
	ck_assert_int_eq(t.releases, 2);
	imap_parser_reset(p);
	ck_assert_int_eq(t.releases, 4);
	ck_assert_int_eq(feed_str(p, "\r\n", &used), IMAP_PARSE_NEED_MORE);

	/* a literal over max_literal: refused before the sink is asked */
	ck_assert_int_eq(feed_str(p, "a3 APPEND INBOX {101}", &used), IMAP_PARSE_ERROR);
	ck_assert_int_eq(imap_parser_error_kind(p), IMAP_ERR_LITERAL_TOO_BIG);
	ck_assert_int_eq(t.opens, 4);
	imap_parser_reset(p);
	ck_assert_int_eq(feed_str(p, "\r\n", &used), IMAP_PARSE_NEED_MORE);

	/* a sink that declines: the literal stays in memory as before */
	ck_assert_int_eq(feed_str(p, "a4 LOGIN {3+}\r\nbob x\r\n", &used), IMAP_PARSE_COMMAND);
	ck_assert_int_eq(imap_parser_command(p)->args[0].type, IMAP_ARG_LITERAL);
	ck_assert_str_eq(t.last_command, "LOGIN");
	imap_parser_reset(p);

	/* removing the sink mid-command releases what it opened */
	ck_assert_int_eq(feed_str(p, "a5 APPEND INBOX {3}\r\n", &used), IMAP_PARSE_CONTINUE);
	ck_assert_int_eq(feed_str(p, "ab", &used), IMAP_PARSE_NEED_MORE);
	ck_assert_int_eq(t.opens, 5);
	imap_parser_set_sink(p, NULL);
	ck_assert_int_eq(t.releases, 5);
	imap_parser_reset(p);
	ck_assert_int_eq(feed_str(p, "a6 APPEND INBOX {3+}\r\nabc\r\n", &used), IMAP_PARSE_COMMAND);
	ck_assert_int_eq(imap_parser_command(p)->args[1].type, IMAP_ARG_LITERAL);
	ck_assert_int_eq(t.opens, 5);
	imap_parser_free(p);
	ck_assert_int_eq(t.releases, 5);
}
END_TEST

/* What the sink is told about where a literal stands. */
START_TEST(test_sink_info)
{
	static const struct {
		const char *in;
		const char *command;
		size_t arg_index, depth, list_index, size;
		int literal8, nonsync;
		int first_type;          /* -1: info.first is NULL */
		const char *first;
	} e[] = {
		{ "a X {3+}\r\n", "X", 0, 0, 0, 3, 0, 1, -1, "" },
		{ "a append INBOX {7}\r\n", "APPEND", 1, 0, 0, 7, 0, 0, IMAP_ARG_ATOM, "INBOX" },
		{ "a APPEND INBOX UTF8 (~{2+}\r\n", "APPEND", 2, 1, 0, 2, 1, 1, IMAP_ARG_ATOM, "INBOX" },
		{ "a X (a (b c ~{0}\r\n", "X", 0, 2, 2, 0, 1, 0, -1, "" },
		{ "a X y (a) (b {1}\r\n", "X", 2, 1, 1, 1, 0, 0, IMAP_ARG_ATOM, "y" },
		{ "a X \"q \\\"x\" {1}\r\n", "X", 1, 0, 0, 1, 0, 0, IMAP_ARG_QUOTED, "q \"x" },
		{ "a X nil {1}\r\n", "X", 1, 0, 0, 1, 0, 0, IMAP_ARG_NIL, "" },
		{ "a X (y) {1}\r\n", "X", 1, 0, 0, 1, 0, 0, -1, "" },
		{ "a X ({1}\r\n", "X", 0, 1, 0, 1, 0, 0, -1, "" },
	};
	size_t i, used;

	for (i = 0; i < sizeof(e) / sizeof(e[0]); i++) {
		struct imap_parser *p = new_std();
		struct tsink t = { 0 };

		t.take_all = 1;
		tsink_attach(p, &t);
		(void)imap_parser_feed(p, e[i].in, strlen(e[i].in), &used);
		ck_assert_uint_eq(used, strlen(e[i].in));
		ck_assert_int_eq(t.opens, 1);
		ck_assert_str_eq(t.last_command, e[i].command);
		ck_assert_uint_eq(t.last.arg_index, e[i].arg_index);
		ck_assert_uint_eq(t.last.depth, e[i].depth);
		ck_assert_uint_eq(t.last.list_index, e[i].list_index);
		ck_assert_uint_eq(t.last.size, e[i].size);
		ck_assert_int_eq(t.last.literal8, e[i].literal8);
		ck_assert_int_eq(t.last.nonsync, e[i].nonsync);
		ck_assert_int_eq(t.last_first_type, e[i].first_type);
		ck_assert_str_eq(t.last_first, e[i].first);
		imap_parser_free(p);
		ck_assert_int_eq(t.releases, 1);
	}
	/* taken by the sink itself, the first argument is not given (the
	   literal it opens is then a later one) */
	{
		struct imap_parser *p = new_std();
		struct tsink t = { 0 };

		t.take_all = 1;
		tsink_attach(p, &t);
		(void)imap_parser_feed(p, "a X {1+}\r\nx {2}\r\n", 17, &used);
		ck_assert_int_eq(t.opens, 2);
		ck_assert_int_eq(t.last_first_type, -1);
		imap_parser_free(p);
	}
	/* the first argument as a literal kept in memory */
	{
		struct imap_parser *p = new_std();
		struct tsink t = { 0 };
		static const char in[] = "a APPEND {3+}\r\na\0b {1}\r\n";

		tsink_attach(p, &t);
		(void)imap_parser_feed(p, in, sizeof(in) - 1, &used);
		ck_assert_int_eq(t.opens, 1);
		ck_assert_int_eq(t.last_first_type, IMAP_ARG_LITERAL);
		ck_assert_str_eq(t.last_first, "a");   /* up to its NUL */
		imap_parser_free(p);
	}
}
END_TEST

/* Streamed literals do not count against max_literal: five of them at the
   limit each, which would not fit in memory together. */
START_TEST(test_sink_many_at_limit)
{
	static const struct imap_parser_limits lim = { 200, 1000, 20, 4, 0 };
	struct imap_parser *p = imap_parser_new(&lim);
	struct tsink t = { 0 };
	const struct imap_command *cmd;
	char *in = malloc(6000);
	size_t len = 0, used, i;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(in);
	tsink_attach(p, &t);
	len += (size_t)snprintf(in, 64, "m APPEND INBOX");
	for (i = 0; i < 5; i++) {
		len += (size_t)snprintf(in + len, 64, " {1000+}\r\n");
		memset(in + len, 'a' + (int)i, 1000);
		len += 1000;
	}
	memcpy(in + len, "\r\n", 2);
	len += 2;
	ck_assert_int_eq(imap_parser_feed(p, in, len, &used), IMAP_PARSE_COMMAND);
	ck_assert_uint_eq(used, len);
	cmd = imap_parser_command(p);
	ck_assert_uint_eq(cmd->nargs, 6);
	for (i = 1; i < 6; i++) {
		const struct tfile *f = cmd->args[i].stream;

		ck_assert_int_eq(cmd->args[i].type, IMAP_ARG_STREAMED);
		ck_assert_uint_eq(f->len, 1000);
		ck_assert_int_eq(f->data[999], 'a' + (int)i - 1);
	}
	imap_parser_free(p);
	ck_assert_int_eq(t.opens, 5);
	ck_assert_int_eq(t.releases, 5);
	free(in);
}
END_TEST

/* ---- random garbage ------------------------------------------------- */

static const char *const pieces[] = {
	"a1 ", "t ", "NOOP", "FETCH", " ", " ", " ", "(", ")", "\"", "\\", "{", "}",
	"+", "~", "[", "]", "\r\n", "\r\n", "\n", "\r", "0", "3", "5", "{3}\r\n",
	"{2+}\r\n", "~{1+}\r\n", "{0}\r\n", "NIL", "%", "*", "x", "y", "1:*",
	"BODY[", "HEADER.FIELDS (A B)]", "<0.5>", "\"a\\\"b\"", "\\Seen", "a2 X ",
	"{99999999999+}", "{20+}\r\n", "a APPEND x ", "APPEND", "UTF8 (",
};

static size_t gen_input(uint32_t *rng, char *out, size_t cap)
{
	size_t len = 0, n = rng_next(rng) % 40, k;

	if (rng_next(rng) % 8 == 0) {
		/* plain random bytes */
		n = rng_next(rng) % cap;
		for (k = 0; k < n; k++)
			out[k] = (char)(rng_next(rng) & 0xff);
		return n;
	}
	for (k = 0; k < n; k++) {
		uint32_t r = rng_next(rng);

		if (r % 16 == 0) {
			if (len < cap)
				out[len++] = (char)(r >> 8);
		} else {
			const char *s = pieces[(r >> 4) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t sl = strlen(s);

			if (len + sl > cap)
				break;
			memcpy(out + len, s, sl);
			len += sl;
		}
	}
	return len;
}

START_TEST(test_random_garbage)
{
	static const struct imap_parser_limits lims[] = {
		{ 48, 12, 6, 3, 20 },
		{ 200, 100, 20, 4, 0 },
		{ 12, 4, 2, 1, 0 },
	};
	uint32_t rng = 0x12345678u;
	char in[400];
	int round;

	for (round = 0; round < 6000; round++) {
		const struct imap_parser_limits *lim = &lims[round % 3];
		size_t len = gen_input(&rng, in, sizeof(in));
		int line_mode = round % 10 == 9;
		int sink = round % 2;
		char *once = transcript(lim, in, len, SPLIT_ONCE, 0, line_mode, sink);
		char *bytes = transcript(lim, in, len, SPLIT_BYTES, 0, line_mode, sink);
		char *rnd = transcript(lim, in, len, SPLIT_RANDOM, rng_next(&rng), line_mode, sink);

		ck_assert_msg(strcmp(once, bytes) == 0, "round %d: byte split differs:\n%s\n%s",
			      round, once, bytes);
		ck_assert_msg(strcmp(once, rnd) == 0, "round %d: random split differs:\n%s\n%s",
			      round, once, rnd);
		free(once);
		free(bytes);
		free(rnd);
	}
}
END_TEST

static Suite *parser_suite(void)
{
	Suite *s = suite_create("parser");
	TCase *tc = tcase_create("table");
	TCase *api = tcase_create("api");
	TCase *fuzz = tcase_create("random");

	tcase_add_loop_test(tc, test_table_once, 0, (int)NCASES);
	tcase_add_loop_test(tc, test_table_split, 0, (int)NCASES);
	suite_add_tcase(s, tc);

	tcase_add_test(api, test_consumed_first_command);
	tcase_add_test(api, test_continue_consumed);
	tcase_add_test(api, test_arg_tree);
	tcase_add_test(api, test_error_details);
	tcase_add_test(api, test_error_skip_later_feeds);
	tcase_add_test(api, test_fatal_nonsync);
	tcase_add_test(api, test_empty_feed);
	tcase_add_test(api, test_at_start);
	tcase_add_test(api, test_line_mode_switch);
	tcase_add_test(api, test_mode_switch_midline);
	tcase_add_test(api, test_defaults_and_growth);
	tcase_add_test(api, test_sink_every_split);
	tcase_add_test(api, test_sink_release_paths);
	tcase_add_test(api, test_sink_info);
	tcase_add_test(api, test_sink_many_at_limit);
	suite_add_tcase(s, api);

	tcase_set_timeout(fuzz, 120);
	tcase_add_test(fuzz, test_random_garbage);
	suite_add_tcase(s, fuzz);
	return s;
}

int main(void)
{
	return check_run(parser_suite());
}
