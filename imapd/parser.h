/*
 * Cairn - streaming IMAP command tokenizer (no I/O).
 *
 * The caller feeds bytes as they arrive from the client; the parser answers
 * "need more", "send a continuation", "here is a complete command" or
 * "error".  Everything is bounded by struct imap_parser_limits; nothing
 * recurses; any byte sequence fed in any split gives the same results as the
 * same bytes fed at once.
 *
 * Grammar: RFC 9051 section 9 (tag, command name, atoms, quoted strings,
 * literals {n}, {n+} (RFC 7888) and ~{n} (RFC 3516), NIL, parenthesized
 * lists), with these deliberate choices:
 *   - a line may end in CRLF or in a lone LF; empty lines are ignored;
 *   - the tag is 1..IMAP_PARSER_MAX_TAG ASTRING-CHARs other than '+'; the
 *     command name is 1+ ATOM-CHARs (not '[') and is upper-cased; arguments,
 *     including the sub-command after UID, are left exactly as sent;
 *   - arguments are separated by exactly one SP; a SP before the line end is
 *     a syntax error;
 *   - atoms may also contain '%', '*' and ']' (LIST patterns, "1:*");
 *     '\' is allowed only as the first character of a flag ("\Seen", "\*");
 *   - an atom containing '[' extends to the matching ']' including SPs,
 *     parentheses and quoted strings, e.g. BODY.PEEK[HEADER.FIELDS (FROM)]<0.10>
 *     is a single IMAP_ARG_ATOM whose text is exactly what was sent (a literal
 *     inside the brackets is not supported: syntax error);
 *   - the atom NIL (any case) becomes IMAP_ARG_NIL.
 *
 * Typical use:
 *
 *	for (;;) {
 *		r = imap_parser_feed(p, data, len, &used);
 *		data += used; len -= used;
 *		switch (r) {
 *		case IMAP_PARSE_NEED_MORE: read more into data/len; break;
 *		case IMAP_PARSE_CONTINUE:  send "+ Ready\r\n"; break;
 *		case IMAP_PARSE_COMMAND:   run imap_parser_command(p);
 *		                           imap_parser_reset(p); break;
 *		case IMAP_PARSE_ERROR:     send "<tag or *> BAD <imap_parser_error(p)>";
 *		                           if (imap_parser_fatal(p)) close;
 *		                           imap_parser_reset(p); break;
 *		}
 *	}
 *
 * Literals are kept in memory unless a literal sink is set (see
 * imap_parser_set_sink): then the literals it takes stream to it as they
 * arrive, and the parser never holds their bytes (APPEND's messages).
 */
#ifndef CAIRN_IMAPD_PARSER_H
#define CAIRN_IMAPD_PARSER_H

#include <stddef.h>
#include <stdint.h>

/* A field left at 0 takes the default shown.  NULL limits: all defaults. */
struct imap_parser_limits {
	size_t max_line;     /* bytes of one command excluding literal bodies, incl. CRLF (65536) */
	size_t max_literal;  /* one literal; and the sum of the literal bodies of one command
	                        held in memory (1048576)                                     */
	size_t max_args;     /* argument nodes in one command, all depths, lists count (1024)  */
	size_t max_depth;    /* parenthesis nesting (16)                                       */
	size_t max_streamed; /* sum of the literal bodies of one command that went to the
	                        literal sink (16 * max_literal, at most SIZE_MAX)            */
};

#define IMAP_PARSER_DEFAULT_MAX_LINE    65536
#define IMAP_PARSER_DEFAULT_MAX_LITERAL (1024 * 1024)
#define IMAP_PARSER_DEFAULT_MAX_ARGS    1024
#define IMAP_PARSER_DEFAULT_MAX_DEPTH   16
#define IMAP_PARSER_DEFAULT_STREAMED_FACTOR 16
/* Longest tag accepted; a longer one is a syntax error. */
#define IMAP_PARSER_MAX_TAG             64

/*
 * IMAP_ARG_STREAMED: a literal whose bytes went to the literal sink; its
 * handle is in stream (still the parser's: see struct imap_literal_sink).
 */
enum imap_arg_type { IMAP_ARG_ATOM, IMAP_ARG_QUOTED, IMAP_ARG_LITERAL, IMAP_ARG_NIL, IMAP_ARG_LIST,
	IMAP_ARG_STREAMED };

struct imap_arg {
	enum imap_arg_type type;
	/* ATOM/QUOTED/LITERAL: the bytes (quoted: unescaped), always followed by a
	   NUL; a literal may contain NULs itself, so use len.  NULL for NIL, LIST
	   and STREAMED. */
	const char *str;
	size_t len;                   /* STREAMED: the literal's size; 0 for NIL and LIST */
	const struct imap_arg *list;  /* LIST: children; NULL when list_count is 0 */
	size_t list_count;
	int literal8;                 /* LITERAL or STREAMED given as ~{n} */
	void *stream;                 /* STREAMED: the sink's handle; else NULL */
};

struct imap_command {
	const char *tag;              /* as sent */
	const char *name;             /* command name, upper-cased (e.g. "CAPABILITY", "UID") */
	const struct imap_arg *args;  /* top-level arguments after the name; NULL when nargs is 0 */
	size_t nargs;
};

enum imap_parse_result {
	IMAP_PARSE_NEED_MORE,    /* consumed everything given; feed more */
	IMAP_PARSE_CONTINUE,     /* a synchronizing literal {n} was announced and accepted:
	                            send "+ ..." then feed more (consumed ends after its LF) */
	IMAP_PARSE_COMMAND,      /* one whole command is ready: imap_parser_command();
	                            bytes after its LF were NOT consumed */
	IMAP_PARSE_ERROR,        /* malformed or over a limit: see imap_parser_error*() */
};

enum imap_parse_error {
	IMAP_ERR_NONE,
	IMAP_ERR_SYNTAX,
	IMAP_ERR_LINE_TOO_LONG,
	IMAP_ERR_LITERAL_TOO_BIG,
	IMAP_ERR_TOO_MANY_ARGS,
	IMAP_ERR_TOO_DEEP,
	IMAP_ERR_NOMEM,
	IMAP_ERR_REFUSED     /* the literal sink refused a synchronizing literal */
};

struct imap_parser;

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits); /* NULL on ENOMEM */
/* Releases every sink handle the parser still holds (see below). */
void imap_parser_free(struct imap_parser *p);

/* Where a literal stands, for the sink to decide whether it takes it. */
struct imap_literal_info {
	const char *command;  /* the command name, upper-cased */
	size_t arg_index;     /* top-level argument holding it, 0 = the first after the name */
	size_t depth;         /* 0: it is that argument; 1: inside that argument's list, ... */
	size_t list_index;    /* depth > 0: its position in the innermost list */
	size_t size;          /* announced size (at most max_literal) */
	int literal8;         /* ~{n} */
	int nonsync;          /* {n+}: the bytes may already be on the way */
	/* The command's first argument when the literal is not in it and it
	   is a string (atom, NIL, quoted or literal kept in memory): APPEND's
	   mailbox.  NULL otherwise.  Valid while open runs. */
	const struct imap_arg *first;
};

/*
 * A literal sink takes the bodies of chosen literals as they arrive, so a
 * big literal (an APPEND message) never sits whole in the parser.
 *
 * open: called at the '}' of every literal announcement that passed the
 * per-literal size check, before any continuation is asked for.  NULL:
 * keep this literal in memory as usual.  Else the handle to stream it to;
 * the literal then counts against max_streamed instead of max_literal and
 * becomes an IMAP_ARG_STREAMED argument.  A sink that cannot store the
 * bytes (no disk, no descriptor) still returns a handle and remembers the
 * failure: the client sends the bytes anyway and they must be consumed.
 *
 * write: the literal's bytes, in order, in pieces of any size (none for an
 * empty literal).  The sink remembers its own failures.
 *
 * release: the parser is done with the handle: at the reset after the
 * command (so the command handler may use it until then), at the reset
 * after an error, or in imap_parser_free -- on every path exactly once,
 * whether or not all the bytes came.  Whatever the handler did not keep
 * is to be discarded here.
 *
 * refused (may be NULL: never): asked right after open for a synchronizing
 * literal the sink took.  Non-zero: the command cannot succeed (APPEND to
 * a missing mailbox, over quota), so the client should not upload the
 * bytes.  The parser then ends the command at the '}' with
 * IMAP_ERR_REFUSED, asks for no continuation, and the client sends no
 * data; the caller answers for the sink (a NO), and the handle is
 * released at the reset as any.  A non-synchronizing literal's bytes come
 * anyway: the sink takes them, drops them, and fails the command itself.
 */
struct imap_literal_sink {
	void *(*open)(void *arg, const struct imap_literal_info *info);
	void (*write)(void *handle, const void *data, size_t len);
	void (*release)(void *handle);
	void *arg;
	int (*refused)(void *handle);
};

/* Install (a copy of) sink, or remove it with NULL.  Only between commands
   (after new or a reset, before feeding the next command's first byte). */
void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink);

/*
 * Feed bytes.  *consumed is set to how many bytes of data were used:
 *  - NEED_MORE: all of them;
 *  - CONTINUE:  up to and including the LF ending the literal announcement;
 *  - COMMAND:   up to and including the LF ending the command;
 *  - ERROR:     up to and including the byte at which the error was found
 *               (or fewer, for an allocation failure inside a literal).
 * After COMMAND or ERROR, handle it, call imap_parser_reset() and feed the
 * unconsumed rest again.  Feeding again without a reset returns the same
 * result with *consumed = 0.
 */
enum imap_parse_result imap_parser_feed(struct imap_parser *p, const void *data, size_t len, size_t *consumed);

/* The parsed command after IMAP_PARSE_COMMAND (else NULL); valid until reset. */
const struct imap_command *imap_parser_command(const struct imap_parser *p);

/* After IMAP_PARSE_ERROR: short human text, e.g. "Unterminated quoted string"
   (NULL when there is no error); valid until reset. */
const char *imap_parser_error(const struct imap_parser *p);
/* After IMAP_PARSE_ERROR: the tag, if a whole tag was read (else NULL: reply "*"). */
const char *imap_parser_error_tag(const struct imap_parser *p);
enum imap_parse_error imap_parser_error_kind(const struct imap_parser *p);
/* After IMAP_ERR_LITERAL_TOO_BIG: the command's name, upper-cased (the
   literal's command, e.g. "APPEND"); else NULL.  Valid until reset. */
const char *imap_parser_error_command(const struct imap_parser *p);

/*
 * After an error in the middle of a line the parser discards the rest of
 * that line by itself on the following feeds (reset keeps that state; it
 * returns NEED_MORE while skipping).  If the discarded line ends in a
 * non-synchronizing literal announcement {n+}, the n bytes that follow are
 * discarded too and then the line that continues after them.
 *
 * A literal over max_literal, or one that would bring the command's total
 * over max_literal (kept in memory) or max_streamed (taken by the sink), is
 * reported (IMAP_ERR_LITERAL_TOO_BIG) at its '}', before any continuation
 * is asked for; for {n} the client then sends no data, so after the CRLF the
 * parser is clean for the next command.  Literal bodies are kept in memory
 * (bounded by max_literal) unless the sink takes them, and may contain any
 * byte, NUL included.
 *
 * imap_parser_fatal() is 1 when the error was a non-synchronizing literal
 * that was too big or had an invalid size: the client is already sending its
 * data, so the caller should send BAD and close the connection.  (If the
 * caller carries on anyway, the parser skips the announced bytes.)
 */
int imap_parser_fatal(const struct imap_parser *p);

/*
 * 1 when no byte of a command has been fed since the last reset (nor is
 * the rest of a bad line being discarded): the client is between
 * commands, where NOTIFY (RFC 5465) may speak up.
 */
int imap_parser_at_start(const struct imap_parser *p);

/* Forget the current command/error/line and get ready for the next one,
   releasing its sink handles.  Keeps the "discard the rest of the line"
   state described above. */
void imap_parser_reset(struct imap_parser *p);

/*
 * Line mode, for AUTHENTICATE continuation lines (SASL responses) and
 * similar: read one raw line up to LF (a CR just before the LF is dropped),
 * bounded by max_line (counting the CRLF).  The line may be empty.  Results
 * and *consumed as for imap_parser_feed(); errors: IMAP_ERR_LINE_TOO_LONG
 * (the rest of the line is then discarded) and IMAP_ERR_NOMEM.
 * Switch between imap_parser_feed() and imap_parser_feed_line() only at a
 * command boundary (after a reset, before any byte of the next command or
 * line was fed); doing it in the middle is reported as an IMAP_ERR_SYNTAX
 * error (and the rest of that line is discarded).
 */
enum imap_parse_result imap_parser_feed_line(struct imap_parser *p, const void *data, size_t len, size_t *consumed);
/* After imap_parser_feed_line() returned IMAP_PARSE_COMMAND (else NULL): the
   line without its CRLF, NUL-terminated; *len gets its length (may be NULL). */
const char *imap_parser_line(const struct imap_parser *p, size_t *len);

/* number64 (RFC 9051 §9): 1*DIGIT up to 2^63 - 1, from len bytes at s, or
 * from an atom argument.  0 with *out, or -1 when it is not one. */
int imap_number64(const char *s, size_t len, uint64_t *out);
int imap_arg_number64(const struct imap_arg *a, uint64_t *out);

#endif /* CAIRN_IMAPD_PARSER_H */
