/*
 * Cairn - streaming IMAP command tokenizer (no I/O).  See parser.h.
 *
 * One byte-driven state machine: every input byte is looked at once (runs of
 * plain atom/quoted characters are copied in bulk), so the same bytes give
 * the same results however they are split between calls.
 *
 * Storage: one growable byte buffer holds the tag, the command name and the
 * contents of every string argument, each followed by a NUL.  Each stored
 * byte and each NUL is matched by a line byte or a literal byte, so the
 * buffer never needs more than max_line + max_literal bytes.  While parsing,
 * arguments are kept as a flat array of nodes in pre-order with buffer
 * offsets and parent indexes; the pointer tree handed to the caller is laid
 * out once, when the command is complete (no recursion, no stale pointers
 * after realloc).
 *
 * After an error the rest of the line is discarded by a small scanner that
 * also recognizes a trailing {n+} so that the announced literal bytes are
 * discarded as well instead of being read as commands.
 *
 * A literal the sink takes is not stored at all: its bytes go to the sink
 * as they are fed, and its node keeps only the sink's handle, which the
 * parser owns until the reset (or free) releases it.
 */
#include "parser.h"

#include <stdlib.h>
#include <string.h>

#define NO_PARENT SIZE_MAX

#define PARSER_BUF_INITIAL   1024
#define PARSER_BUF_KEEP      (64 * 1024)  /* reset shrinks a bigger buffer */
#define PARSER_NODES_INITIAL 16
#define PARSER_NODES_KEEP    256
#define PARSER_LITERAL_MAX   UINT64_C(4294967295)

/* Character classes. */
#define CL_ATOM   0x01  /* ATOM-CHAR: 0x21-0x7e except ( ) { % * " \ ]          */
#define CL_ARG    0x02  /* continues an argument atom: ATOM-CHAR + % * ] - [    */
#define CL_TAG    0x04  /* tag: ASTRING-CHAR except +, i.e. ATOM-CHAR + ] - +   */
#define CL_QUOTED 0x08  /* stored as is in a quoted string: not NUL CR LF " \   */
#define CL_SECT   0x10  /* plain in a section: 0x20-0x7e except [ ] " {         */
#define CL_NAME   0x20  /* command name: ATOM-CHAR - [                          */

static const unsigned char parser_cls[256] = {
	/* 00 */ 0x00, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x00, 0x08, 0x08, 0x00, 0x08, 0x08,
	/* 10 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* 20 */ 0x18, 0x3f, 0x00, 0x3f, 0x3f, 0x1a, 0x3f, 0x3f, 0x18, 0x18, 0x1a, 0x3b, 0x3f, 0x3f, 0x3f, 0x3f,
	/* 30 */ 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
	/* 40 */ 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
	/* 50 */ 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x0d, 0x10, 0x0e, 0x3f, 0x3f,
	/* 60 */ 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f,
	/* 70 */ 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x3f, 0x08, 0x3f, 0x3f, 0x3f, 0x08,
	/* 80 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* 90 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* a0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* b0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* c0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* d0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* e0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
	/* f0 */ 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08, 0x08,
};

enum parser_state {
	S_START,        /* before the tag; empty lines are skipped here */
	S_START_CR,     /* CR of an empty line */
	S_TAG,
	S_NAME_START,   /* after "tag SP" */
	S_NAME,
	S_ARG_START,    /* after SP: an argument must follow */
	S_ARG_OPEN,     /* after '(': an argument or ')' */
	S_ARG_END,      /* after an argument (or the name): SP, ')', CR or LF */
	S_CR,           /* CR at the end of the command: LF must follow */
	S_ATOM,
	S_TILDE,        /* '~' at argument start: literal8 or an atom */
	S_FLAG_START,   /* after '\' */
	S_FLAG,
	S_FLAG_STAR,    /* "\*" */
	S_SECTION,      /* inside [...] of an atom */
	S_SECTION_Q,    /* quoted string inside [...] */
	S_SECTION_QESC,
	S_QUOTED,
	S_QESC,
	S_LIT_OPEN,     /* after '{' */
	S_LIT_DIGITS,
	S_LIT_PLUS,     /* "{n+" */
	S_LIT_CLOSE,    /* after '}': CR or LF */
	S_LIT_CR,
	S_LIT_BODY,
	S_LINE,         /* line mode */
	S_DONE          /* result is ready: COMMAND or ERROR */
};

/* Scanner for the rest of a line being discarded after an error. */
enum parser_skip_state { SK_NONE, SK_OPEN, SK_DIGITS, SK_PLUS, SK_CLOSE, SK_CR };

struct parser_node {
	size_t off;       /* string start in buf */
	size_t len;
	size_t parent;    /* index of the enclosing list, NO_PARENT at top level */
	size_t count;     /* LIST: number of children */
	size_t cursor;    /* LIST: next free output slot, while building */
	void *stream;     /* STREAMED: the sink's handle, released at reset */
	unsigned char type;
	unsigned char literal8;
};

struct imap_parser {
	struct imap_parser_limits lim;
	size_t buf_bound;               /* max_line + max_literal + 1 */

	enum parser_state state;
	enum imap_parse_result result;  /* valid in S_DONE */
	int want_continue;
	int line_mode;

	char *buf;
	size_t buf_len, buf_cap;
	struct parser_node *nodes;
	size_t nnodes, nodes_cap;
	struct imap_arg *out;
	size_t out_cap;

	size_t ntop;        /* top-level arguments */
	size_t cur;         /* node being read */
	size_t cur_list;    /* innermost open list, NO_PARENT at top level */
	size_t depth;
	size_t sect_depth;

	size_t line_len;    /* line bytes of this command so far */
	size_t lit_total;   /* literal bytes announced by this command so far */
	size_t tag_len;
	int tag_done;
	size_t name_off;

	uint64_t lit_n;
	int lit_ovf, lit_plus;
	size_t lit_remaining;
	size_t stream_total; /* literal bytes of this command announced to the sink */

	struct imap_literal_sink sink;
	int has_sink;

	struct imap_command cmd;

	enum imap_parse_error err_kind;
	const char *err_msg;
	int fatal;

	/* discarding the rest of a line; survives reset */
	int skipping;
	enum parser_skip_state sk;
	uint64_t sk_n;
	int sk_ovf, sk_plus;
	uint64_t sk_lit;    /* literal bytes still to discard */
};

static size_t parser_sat_add(size_t a, size_t b)
{
	return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

static int parser_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* ---- discarding ---------------------------------------------------- */

/* One discarded byte (not inside a discarded literal body). */
static void parser_skip_step(struct imap_parser *p, unsigned char c)
{
	if (c == '\n') {
		if ((p->sk == SK_CLOSE || p->sk == SK_CR) && p->sk_plus) {
			/* {n+} ended the line: its n bytes follow, then the
			   line goes on */
			p->sk_lit = p->sk_ovf ? UINT64_MAX : p->sk_n;
		} else {
			p->skipping = 0;
		}
		p->sk = SK_NONE;
		return;
	}
	if (c == '{') {
		p->sk = SK_OPEN;
		p->sk_n = 0;
		p->sk_ovf = 0;
		p->sk_plus = 0;
		return;
	}
	switch (p->sk) {
	case SK_OPEN:
	case SK_DIGITS:
		if (parser_is_digit(c)) {
			if (!p->sk_ovf) {
				p->sk_n = p->sk_n * 10 + (uint64_t)(c - '0');
				if (p->sk_n > PARSER_LITERAL_MAX)
					p->sk_ovf = 1;
			}
			p->sk = SK_DIGITS;
		} else if (p->sk == SK_DIGITS && c == '+') {
			p->sk_plus = 1;
			p->sk = SK_PLUS;
		} else if (p->sk == SK_DIGITS && c == '}') {
			p->sk = SK_CLOSE;
		} else {
			p->sk = SK_NONE;
		}
		break;
	case SK_PLUS:
		p->sk = c == '}' ? SK_CLOSE : SK_NONE;
		break;
	case SK_CLOSE:
		p->sk = c == '\r' ? SK_CR : SK_NONE;
		break;
	case SK_NONE:
	case SK_CR:
		p->sk = SK_NONE;
		break;
	}
}

/* Discard input; returns how many bytes were used. */
static size_t parser_skip(struct imap_parser *p, const unsigned char *d, size_t len)
{
	size_t i = 0;

	while (i < len && p->skipping) {
		if (p->sk_lit > 0) {
			size_t n = len - i;

			if ((uint64_t)n > p->sk_lit)
				n = (size_t)p->sk_lit;
			p->sk_lit -= n;
			i += n;
			continue;
		}
		if (p->sk == SK_NONE) {
			while (i < len && d[i] != '\n' && d[i] != '{')
				i++;
			if (i == len)
				break;
		}
		parser_skip_step(p, d[i++]);
	}
	return i;
}

/* Start discarding: the scanner takes over from the current (pre-byte) state. */
static void parser_skip_begin(struct imap_parser *p)
{
	p->skipping = 1;
	p->sk_lit = 0;
	p->sk = SK_NONE;
	p->sk_n = p->lit_n;
	p->sk_ovf = p->lit_ovf;
	p->sk_plus = p->lit_plus;
	switch (p->state) {
	case S_LIT_OPEN:   p->sk = SK_OPEN; break;
	case S_LIT_DIGITS: p->sk = SK_DIGITS; break;
	case S_LIT_PLUS:   p->sk = SK_PLUS; break;
	case S_LIT_CLOSE:  p->sk = SK_CLOSE; break;
	case S_LIT_CR:     p->sk = SK_CR; break;
	default: break;
	}
}

static void parser_set_error(struct imap_parser *p, enum imap_parse_error kind, const char *msg)
{
	p->err_kind = kind;
	p->err_msg = msg;
	p->fatal = 0;
	p->want_continue = 0;
	p->state = S_DONE;
	p->result = IMAP_PARSE_ERROR;
}

/* Error found at byte c (already consumed); the rest of its line is discarded. */
static void parser_fail(struct imap_parser *p, enum imap_parse_error kind, const char *msg, unsigned char c)
{
	parser_skip_begin(p);
	parser_skip_step(p, c);
	parser_set_error(p, kind, msg);
}

/* ---- storage -------------------------------------------------------- */

static int parser_reserve(struct imap_parser *p, size_t need)
{
	size_t cap;
	char *nb;

	if (need <= p->buf_cap)
		return 1;
	cap = p->buf_cap ? p->buf_cap : PARSER_BUF_INITIAL;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap > p->buf_bound && need <= p->buf_bound)
		cap = p->buf_bound;
	nb = realloc(p->buf, cap);
	if (nb == NULL)
		return 0;
	p->buf = nb;
	p->buf_cap = cap;
	return 1;
}

/* Append ch to the buffer; on failure report NOMEM at input byte c. */
static int parser_put(struct imap_parser *p, char ch, unsigned char c)
{
	if (p->buf_len == p->buf_cap && !parser_reserve(p, p->buf_len + 1)) {
		parser_fail(p, IMAP_ERR_NOMEM, "Out of memory", c);
		return 0;
	}
	p->buf[p->buf_len++] = ch;
	return 1;
}

/* New argument node at the current position; NULL after reporting an error. */
static struct parser_node *parser_new_node(struct imap_parser *p, enum imap_arg_type type, unsigned char c)
{
	struct parser_node *n;

	if (p->nnodes >= p->lim.max_args) {
		parser_fail(p, IMAP_ERR_TOO_MANY_ARGS, "Too many arguments", c);
		return NULL;
	}
	if (p->nnodes == p->nodes_cap) {
		size_t cap = p->nodes_cap ? p->nodes_cap * 2 : PARSER_NODES_INITIAL;
		struct parser_node *nn;

		if (cap > p->lim.max_args)
			cap = p->lim.max_args;
		nn = cap <= SIZE_MAX / sizeof(*nn) ? realloc(p->nodes, cap * sizeof(*nn)) : NULL;
		if (nn == NULL) {
			parser_fail(p, IMAP_ERR_NOMEM, "Out of memory", c);
			return NULL;
		}
		p->nodes = nn;
		p->nodes_cap = cap;
	}
	p->cur = p->nnodes++;
	n = &p->nodes[p->cur];
	n->off = p->buf_len;
	n->len = 0;
	n->parent = p->cur_list;
	n->count = 0;
	n->cursor = 0;
	n->stream = NULL;
	n->type = (unsigned char)type;
	n->literal8 = 0;
	if (p->cur_list == NO_PARENT)
		p->ntop++;
	else
		p->nodes[p->cur_list].count++;
	return n;
}

/* End the string of the current node (NUL-terminate it). */
static int parser_finish_str(struct imap_parser *p, unsigned char c)
{
	struct parser_node *n = &p->nodes[p->cur];
	const char *s;

	n->len = p->buf_len - n->off;
	if (!parser_put(p, '\0', c))
		return 0;
	s = p->buf + n->off;
	if (n->type == IMAP_ARG_ATOM && n->len == 3 &&
	    (s[0] == 'N' || s[0] == 'n') && (s[1] == 'I' || s[1] == 'i') &&
	    (s[2] == 'L' || s[2] == 'l'))
		n->type = IMAP_ARG_NIL;
	return 1;
}

/* Lay out the argument tree for the caller. */
static int parser_build(struct imap_parser *p)
{
	size_t i, top = 0, next = p->ntop;

	if (p->nnodes > p->out_cap) {
		struct imap_arg *na = NULL;

		if (p->nnodes <= SIZE_MAX / sizeof(*na))
			na = realloc(p->out, p->nnodes * sizeof(*na));
		if (na == NULL)
			return 0;
		p->out = na;
		p->out_cap = p->nnodes;
	}
	for (i = 0; i < p->nnodes; i++) {
		struct parser_node *n = &p->nodes[i];
		struct imap_arg *a;

		if (n->parent == NO_PARENT)
			a = &p->out[top++];
		else
			a = &p->out[p->nodes[n->parent].cursor++];
		a->type = (enum imap_arg_type)n->type;
		a->str = NULL;
		a->len = 0;
		a->list = NULL;
		a->list_count = 0;
		a->literal8 = n->literal8;
		a->stream = NULL;
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_QUOTED:
		case IMAP_ARG_LITERAL:
			a->str = p->buf + n->off;
			a->len = n->len;
			break;
		case IMAP_ARG_STREAMED:
			a->len = n->len;
			a->stream = n->stream;
			break;
		case IMAP_ARG_LIST:
			/* children get the next free block, in pre-order,
			   after their parent has been placed */
			a->list_count = n->count;
			a->list = n->count ? &p->out[next] : NULL;
			n->cursor = next;
			next += n->count;
			break;
		case IMAP_ARG_NIL:
			break;
		}
	}
	p->cmd.tag = p->buf;
	p->cmd.name = p->buf + p->name_off;
	p->cmd.args = p->ntop ? p->out : NULL;
	p->cmd.nargs = p->ntop;
	return 1;
}

/* ---- command grammar ------------------------------------------------ */

static void parser_complete(struct imap_parser *p, unsigned char c)
{
	if (!parser_build(p)) {
		parser_fail(p, IMAP_ERR_NOMEM, "Out of memory", c);
		return;
	}
	p->state = S_DONE;
	p->result = IMAP_PARSE_COMMAND;
}

/* After an argument (or the command name). */
static void parser_arg_end(struct imap_parser *p, unsigned char c)
{
	switch (c) {
	case ' ':
		p->state = S_ARG_START;
		break;
	case ')':
		if (p->depth == 0) {
			parser_fail(p, IMAP_ERR_SYNTAX, "Unexpected ')'", c);
			break;
		}
		p->cur_list = p->nodes[p->cur_list].parent;
		p->depth--;
		p->state = S_ARG_END;
		break;
	case '\r':
		if (p->depth > 0)
			parser_fail(p, IMAP_ERR_SYNTAX, "Missing ')'", c);
		else
			p->state = S_CR;
		break;
	case '\n':
		if (p->depth > 0)
			parser_fail(p, IMAP_ERR_SYNTAX, "Missing ')'", c);
		else
			parser_complete(p, c);
		break;
	default:
		parser_fail(p, IMAP_ERR_SYNTAX, "Missing space between arguments", c);
		break;
	}
}

static void parser_lit_begin(struct imap_parser *p, struct parser_node *n, int literal8)
{
	n->type = IMAP_ARG_LITERAL;
	n->literal8 = (unsigned char)literal8;
	p->lit_n = 0;
	p->lit_ovf = 0;
	p->lit_plus = 0;
	p->state = S_LIT_OPEN;
}

static void parser_arg_start(struct imap_parser *p, unsigned char c)
{
	struct parser_node *n;

	switch (c) {
	case ')':
		if (p->state == S_ARG_OPEN)
			parser_arg_end(p, c);
		else
			parser_fail(p, IMAP_ERR_SYNTAX, "Unexpected ')'", c);
		return;
	case ' ':
		parser_fail(p, IMAP_ERR_SYNTAX, "Unexpected space", c);
		return;
	case '\r':
	case '\n':
		parser_fail(p, IMAP_ERR_SYNTAX, p->state == S_ARG_OPEN ?
			    "Missing ')'" : "Trailing space", c);
		return;
	case '(':
		if ((n = parser_new_node(p, IMAP_ARG_LIST, c)) == NULL)
			return;
		if (p->depth >= p->lim.max_depth) {
			parser_fail(p, IMAP_ERR_TOO_DEEP, "Lists nested too deeply", c);
			return;
		}
		p->cur_list = p->cur;
		p->depth++;
		p->state = S_ARG_OPEN;
		return;
	case '"':
		if (parser_new_node(p, IMAP_ARG_QUOTED, c) != NULL)
			p->state = S_QUOTED;
		return;
	case '{':
		if ((n = parser_new_node(p, IMAP_ARG_LITERAL, c)) != NULL)
			parser_lit_begin(p, n, 0);
		return;
	default:
		break;
	}
	if (c != '\\' && c != '[' && !(parser_cls[c] & CL_ARG)) {
		parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in argument", c);
		return;
	}
	if (parser_new_node(p, IMAP_ARG_ATOM, c) == NULL || !parser_put(p, (char)c, c))
		return;
	if (c == '~')
		p->state = S_TILDE;
	else if (c == '\\')
		p->state = S_FLAG_START;
	else if (c == '[') {
		p->sect_depth = 1;
		p->state = S_SECTION;
	} else
		p->state = S_ATOM;
}

/*
 * The command's first argument, finished and a string, as the caller
 * would see it (the sink's info.first); 0 when it is not one.  Node 0 is
 * that argument: nodes are in pre-order.
 */
static int parser_first_arg(const struct imap_parser *p, struct imap_arg *a)
{
	const struct parser_node *n = &p->nodes[0];

	/* the literal being announced is in a later argument */
	if (p->ntop < 2)
		return 0;
	memset(a, 0, sizeof(*a));
	a->type = (enum imap_arg_type)n->type;
	switch (a->type) {
	case IMAP_ARG_ATOM:
	case IMAP_ARG_QUOTED:
	case IMAP_ARG_LITERAL:
		a->str = p->buf + n->off;
		a->len = n->len;
		a->literal8 = n->literal8;
		return 1;
	case IMAP_ARG_NIL:
		return 1;
	default:
		return 0;
	}
}

/*
 * Offer the literal just announced (size checked) to the sink.  The
 * handle goes into the node at once, so that whatever happens next on the
 * line, the reset releases it.
 */
static void parser_lit_route(struct imap_parser *p)
{
	struct parser_node *n = &p->nodes[p->cur];
	struct imap_literal_info li;
	struct imap_arg first;

	if (!p->has_sink)
		return;
	li.command = p->buf + p->name_off;
	/* the top-level argument being read is always the last one counted */
	li.arg_index = p->ntop - 1;
	li.depth = p->depth;
	li.list_index = p->cur_list == NO_PARENT ? 0 : p->nodes[p->cur_list].count - 1;
	li.size = (size_t)p->lit_n;
	li.literal8 = n->literal8;
	li.nonsync = p->lit_plus;
	li.first = parser_first_arg(p, &first) ? &first : NULL;
	n->stream = p->sink.open(p->sink.arg, &li);
	if (n->stream != NULL)
		n->type = IMAP_ARG_STREAMED;
}

/* Did the sink refuse the synchronizing literal it just took? */
static int parser_lit_refused(const struct imap_parser *p)
{
	void *h = p->nodes[p->cur].stream;

	return h != NULL && !p->lit_plus && p->sink.refused != NULL &&
		p->sink.refused(h);
}

/* The '}' of a literal announcement: every size check happens here, before
   any continuation, so a refused {n} costs the client no data. */
static void parser_lit_size(struct imap_parser *p, unsigned char c)
{
	int over;

	if (p->lit_ovf) {
		parser_fail(p, IMAP_ERR_SYNTAX, "Invalid literal size", c);
		p->fatal = p->lit_plus;
		return;
	}
	if (p->lit_n > (uint64_t)p->lim.max_literal) {
		parser_fail(p, IMAP_ERR_LITERAL_TOO_BIG, "Literal too big", c);
		p->fatal = p->lit_plus;
		return;
	}
	parser_lit_route(p);
	if (parser_lit_refused(p)) {
		/* no continuation: the client sends nothing of it (RFC 9051
		   §7.5), and the rest of the line is its CRLF */
		parser_fail(p, IMAP_ERR_REFUSED, "Literal refused", c);
		return;
	}
	if (p->nodes[p->cur].stream != NULL)
		over = p->lit_n > (uint64_t)(p->lim.max_streamed - p->stream_total);
	else
		over = p->lit_n > (uint64_t)(p->lim.max_literal - p->lit_total);
	if (over) {
		parser_fail(p, IMAP_ERR_LITERAL_TOO_BIG, "Literals too big in total", c);
		p->fatal = p->lit_plus;
		return;
	}
	p->state = S_LIT_CLOSE;
}

/* The LF after a literal announcement: the body follows. */
static void parser_lit_accept(struct imap_parser *p, unsigned char c)
{
	struct parser_node *n = &p->nodes[p->cur];

	p->lit_remaining = (size_t)p->lit_n;
	if (n->stream != NULL)
		p->stream_total += p->lit_remaining;
	else
		p->lit_total += p->lit_remaining;
	if (p->lit_remaining == 0) {
		if (n->stream == NULL && !parser_finish_str(p, c))
			return;
		p->state = S_ARG_END;
	} else {
		n->off = p->buf_len;
		p->state = S_LIT_BODY;
	}
	if (!p->lit_plus)
		p->want_continue = 1;
}

/* A word ended by c: SP, ')', CR or LF end it, anything else is an error. */
static int parser_word_end(struct imap_parser *p, unsigned char c)
{
	if (c != ' ' && c != ')' && c != '\r' && c != '\n')
		return 0;
	if (parser_finish_str(p, c)) {
		p->state = S_ARG_END;
		parser_arg_end(p, c);
	}
	return 1;
}

static unsigned char parser_upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c;
}

/* One line byte (already counted against max_line). */
static void parser_byte(struct imap_parser *p, unsigned char c)
{
	unsigned char cl = parser_cls[c];

	switch (p->state) {
	case S_START:
		if (c == '\n') {
			p->line_len = 0;       /* empty line: ignored */
		} else if (c == '\r') {
			p->state = S_START_CR;
		} else if (!(cl & CL_TAG)) {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in tag", c);
		} else if (parser_put(p, (char)c, c)) {
			p->tag_len = 1;
			p->state = S_TAG;
		}
		break;
	case S_START_CR:
		if (c == '\n') {
			p->line_len = 0;
			p->state = S_START;
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "CR not followed by LF", c);
		}
		break;
	case S_TAG:
		if (cl & CL_TAG) {
			if (p->tag_len >= IMAP_PARSER_MAX_TAG)
				parser_fail(p, IMAP_ERR_SYNTAX, "Tag too long", c);
			else if (parser_put(p, (char)c, c))
				p->tag_len++;
		} else if (c == ' ' || c == '\r' || c == '\n') {
			if (!parser_put(p, '\0', c))
				break;
			p->tag_done = 1;
			if (c == ' ') {
				p->name_off = p->buf_len;
				p->state = S_NAME_START;
			} else {
				parser_fail(p, IMAP_ERR_SYNTAX, "Missing command name", c);
			}
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in tag", c);
		}
		break;
	case S_NAME_START:
		if (cl & CL_NAME) {
			if (parser_put(p, (char)parser_upper(c), c))
				p->state = S_NAME;
		} else if (c == ' ' || c == '\r' || c == '\n') {
			parser_fail(p, IMAP_ERR_SYNTAX, "Missing command name", c);
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in command name", c);
		}
		break;
	case S_NAME:
		if (cl & CL_NAME) {
			(void)parser_put(p, (char)parser_upper(c), c);
		} else if (c == ' ' || c == '\r' || c == '\n') {
			if (parser_put(p, '\0', c)) {
				p->state = S_ARG_END;
				parser_arg_end(p, c);
			}
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in command name", c);
		}
		break;
	case S_ARG_START:
	case S_ARG_OPEN:
		parser_arg_start(p, c);
		break;
	case S_ARG_END:
		parser_arg_end(p, c);
		break;
	case S_CR:
		if (c == '\n')
			parser_complete(p, c);
		else
			parser_fail(p, IMAP_ERR_SYNTAX, "CR not followed by LF", c);
		break;
	case S_TILDE:
		if (c == '{') {
			p->buf_len--;          /* drop the '~' */
			parser_lit_begin(p, &p->nodes[p->cur], 1);
			break;
		}
		p->state = S_ATOM;
		/* an atom that starts with '~' */
		if (cl & CL_ARG)
			(void)parser_put(p, (char)c, c);
		else if (c == '[') {
			if (parser_put(p, (char)c, c)) {
				p->sect_depth = 1;
				p->state = S_SECTION;
			}
		} else if (!parser_word_end(p, c))
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in atom", c);
		break;
	case S_ATOM:
		if (cl & CL_ARG) {
			(void)parser_put(p, (char)c, c);
		} else if (c == '[') {
			if (parser_put(p, (char)c, c)) {
				p->sect_depth = 1;
				p->state = S_SECTION;
			}
		} else if (!parser_word_end(p, c)) {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in atom", c);
		}
		break;
	case S_FLAG_START:
		if (c == '*') {
			if (parser_put(p, (char)c, c))
				p->state = S_FLAG_STAR;
		} else if (cl & CL_ATOM) {
			if (parser_put(p, (char)c, c))
				p->state = S_FLAG;
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid flag", c);
		}
		break;
	case S_FLAG:
		if (cl & CL_ATOM)
			(void)parser_put(p, (char)c, c);
		else if (!parser_word_end(p, c))
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid flag", c);
		break;
	case S_FLAG_STAR:
		if (!parser_word_end(p, c))
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid flag", c);
		break;
	case S_SECTION:
		if (cl & CL_SECT) {
			(void)parser_put(p, (char)c, c);
		} else if (c == '[') {
			if (parser_put(p, (char)c, c))
				p->sect_depth++;
		} else if (c == ']') {
			if (parser_put(p, (char)c, c) && --p->sect_depth == 0)
				p->state = S_ATOM;
		} else if (c == '"') {
			if (parser_put(p, (char)c, c))
				p->state = S_SECTION_Q;
		} else if (c == '\r' || c == '\n') {
			parser_fail(p, IMAP_ERR_SYNTAX, "Missing ']'", c);
		} else if (c == '{') {
			parser_fail(p, IMAP_ERR_SYNTAX, "Literal inside [] not supported", c);
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid characters in []", c);
		}
		break;
	case S_SECTION_Q:
	case S_QUOTED:
		if (cl & CL_QUOTED) {
			(void)parser_put(p, (char)c, c);
		} else if (c == '"') {
			if (p->state == S_QUOTED) {
				if (parser_finish_str(p, c))
					p->state = S_ARG_END;
			} else if (parser_put(p, (char)c, c)) {
				p->state = S_SECTION;
			}
		} else if (c == '\\') {
			if (p->state == S_QUOTED)
				p->state = S_QESC;
			else if (parser_put(p, (char)c, c))
				p->state = S_SECTION_QESC;
		} else if (c == '\0') {
			parser_fail(p, IMAP_ERR_SYNTAX, "NUL in quoted string", c);
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Unterminated quoted string", c);
		}
		break;
	case S_QESC:
	case S_SECTION_QESC:
		if (c == '"' || c == '\\') {
			if (parser_put(p, (char)c, c))
				p->state = p->state == S_QESC ? S_QUOTED : S_SECTION_Q;
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid escape in quoted string", c);
		}
		break;
	case S_LIT_OPEN:
	case S_LIT_DIGITS:
		if (parser_is_digit(c)) {
			if (!p->lit_ovf) {
				p->lit_n = p->lit_n * 10 + (uint64_t)(c - '0');
				if (p->lit_n > PARSER_LITERAL_MAX)
					p->lit_ovf = 1;
			}
			p->state = S_LIT_DIGITS;
		} else if (p->state == S_LIT_DIGITS && c == '+') {
			p->lit_plus = 1;
			p->state = S_LIT_PLUS;
		} else if (p->state == S_LIT_DIGITS && c == '}') {
			parser_lit_size(p, c);
		} else {
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid literal size", c);
		}
		break;
	case S_LIT_PLUS:
		if (c == '}')
			parser_lit_size(p, c);
		else
			parser_fail(p, IMAP_ERR_SYNTAX, "Invalid literal size", c);
		break;
	case S_LIT_CLOSE:
		if (c == '\r')
			p->state = S_LIT_CR;
		else if (c == '\n')
			parser_lit_accept(p, c);
		else
			parser_fail(p, IMAP_ERR_SYNTAX, "Missing CRLF after literal size", c);
		break;
	case S_LIT_CR:
		if (c == '\n')
			parser_lit_accept(p, c);
		else
			parser_fail(p, IMAP_ERR_SYNTAX, "CR not followed by LF", c);
		break;
	case S_LIT_BODY:
	case S_LINE:
	case S_DONE:
		/* not reached: handled by the callers */
		parser_fail(p, IMAP_ERR_SYNTAX, "Internal parser error", c);
		break;
	}
}

/* Copy a run of bytes that the current state would store one by one. */
static size_t parser_run(struct imap_parser *p, const unsigned char *d, size_t len)
{
	unsigned char mask;
	size_t k = 0, room;

	switch (p->state) {
	case S_ATOM:      mask = CL_ARG; break;
	case S_FLAG:      mask = CL_ATOM; break;
	case S_QUOTED:
	case S_SECTION_Q: mask = CL_QUOTED; break;
	case S_SECTION:   mask = CL_SECT; break;
	default:          return 0;
	}
	room = p->lim.max_line - p->line_len;
	if (len > room)
		len = room;
	while (k < len && (parser_cls[d[k]] & mask))
		k++;
	if (k == 0 || !parser_reserve(p, p->buf_len + k))
		return 0;   /* the byte-wise path reports any error */
	memcpy(p->buf + p->buf_len, d, k);
	p->buf_len += k;
	p->line_len += k;
	return k;
}

/* Literal body bytes; returns 0 (error set) when out of memory. */
static int parser_lit_body(struct imap_parser *p, const unsigned char *d, size_t len, size_t *used)
{
	struct parser_node *n = &p->nodes[p->cur];
	size_t k = len < p->lit_remaining ? len : p->lit_remaining;

	*used = 0;
	if (n->stream != NULL) {
		/* straight through: nothing of it stays here */
		p->sink.write(n->stream, d, k);
		n->len += k;
	} else if (!parser_reserve(p, parser_sat_add(p->buf_len + k, 1))) {
		/* discard the rest of the literal, then of the line */
		p->skipping = 1;
		p->sk = SK_NONE;
		p->sk_lit = p->lit_remaining;
		parser_set_error(p, IMAP_ERR_NOMEM, "Out of memory");
		return 0;
	} else {
		memcpy(p->buf + p->buf_len, d, k);
		p->buf_len += k;
	}
	p->lit_remaining -= k;
	*used = k;
	if (p->lit_remaining == 0) {
		if (n->stream == NULL) {
			n->len = p->buf_len - n->off;
			p->buf[p->buf_len++] = '\0';
		}
		p->state = S_ARG_END;
	}
	return 1;
}

/* Wrong feed function for the current state. */
static enum imap_parse_result parser_mode_error(struct imap_parser *p)
{
	parser_skip_begin(p);
	parser_set_error(p, IMAP_ERR_SYNTAX, "Parser mode switched in the middle of a line");
	return IMAP_PARSE_ERROR;
}

enum imap_parse_result imap_parser_feed(struct imap_parser *p, const void *data, size_t len, size_t *consumed)
{
	const unsigned char *d = data;
	size_t i = 0, n;

	*consumed = 0;
	if (p->state == S_DONE)
		return p->result;
	if (p->state == S_LINE) {
		if (p->line_len != 0)
			return parser_mode_error(p);
		p->state = S_START;    /* nothing read in line mode yet */
		p->line_mode = 0;
	}
	while (i < len) {
		unsigned char c;

		if (p->skipping) {
			i += parser_skip(p, d + i, len - i);
			continue;
		}
		if (p->state == S_LIT_BODY) {
			if (!parser_lit_body(p, d + i, len - i, &n)) {
				*consumed = i;
				return IMAP_PARSE_ERROR;
			}
			i += n;
			continue;
		}
		i += parser_run(p, d + i, len - i);
		if (i == len)
			break;
		c = d[i++];
		if (p->line_len >= p->lim.max_line) {
			parser_fail(p, IMAP_ERR_LINE_TOO_LONG, "Command line too long", c);
		} else {
			p->line_len++;
			parser_byte(p, c);
		}
		if (p->state == S_DONE) {
			*consumed = i;
			return p->result;
		}
		if (p->want_continue) {
			p->want_continue = 0;
			*consumed = i;
			return IMAP_PARSE_CONTINUE;
		}
	}
	*consumed = len;
	return IMAP_PARSE_NEED_MORE;
}

/* ---- line mode ------------------------------------------------------ */

enum imap_parse_result imap_parser_feed_line(struct imap_parser *p, const void *data, size_t len, size_t *consumed)
{
	const unsigned char *d = data;
	size_t i = 0;

	*consumed = 0;
	if (p->state == S_DONE)
		return p->result;
	if (p->state != S_LINE) {
		if (p->state != S_START)
			return parser_mode_error(p);
		p->state = S_LINE;
		p->line_mode = 1;
	}
	while (i < len) {
		const unsigned char *lf;
		size_t seg, room, store;

		if (p->skipping) {
			i += parser_skip(p, d + i, len - i);
			continue;
		}
		lf = memchr(d + i, '\n', len - i);
		seg = lf != NULL ? (size_t)(lf - (d + i)) + 1 : len - i;
		room = p->lim.max_line - p->line_len;
		if (seg > room) {
			i += room;
			p->line_len += room;
			parser_fail(p, IMAP_ERR_LINE_TOO_LONG, "Line too long", d[i]);
			*consumed = i + 1;
			return IMAP_PARSE_ERROR;
		}
		store = lf != NULL ? seg - 1 : seg;
		if (!parser_reserve(p, p->buf_len + store + 1)) {
			parser_fail(p, IMAP_ERR_NOMEM, "Out of memory", d[i]);
			*consumed = i + 1;
			return IMAP_PARSE_ERROR;
		}
		memcpy(p->buf + p->buf_len, d + i, store);
		p->buf_len += store;
		p->line_len += seg;
		i += seg;
		if (lf != NULL) {
			if (p->buf_len > 0 && p->buf[p->buf_len - 1] == '\r')
				p->buf_len--;
			p->buf[p->buf_len] = '\0';
			p->state = S_DONE;
			p->result = IMAP_PARSE_COMMAND;
			*consumed = i;
			return IMAP_PARSE_COMMAND;
		}
	}
	*consumed = len;
	return IMAP_PARSE_NEED_MORE;
}

const char *imap_parser_line(const struct imap_parser *p, size_t *len)
{
	if (p->state != S_DONE || p->result != IMAP_PARSE_COMMAND || !p->line_mode)
		return NULL;
	if (len != NULL)
		*len = p->buf_len;
	return p->buf;
}

/* ---- life cycle and accessors --------------------------------------- */

struct imap_parser *imap_parser_new(const struct imap_parser_limits *limits)
{
	struct imap_parser *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	if (limits != NULL)
		p->lim = *limits;
	if (p->lim.max_line == 0)
		p->lim.max_line = IMAP_PARSER_DEFAULT_MAX_LINE;
	if (p->lim.max_literal == 0)
		p->lim.max_literal = IMAP_PARSER_DEFAULT_MAX_LITERAL;
	if (p->lim.max_args == 0)
		p->lim.max_args = IMAP_PARSER_DEFAULT_MAX_ARGS;
	if (p->lim.max_depth == 0)
		p->lim.max_depth = IMAP_PARSER_DEFAULT_MAX_DEPTH;
	if (p->lim.max_streamed == 0)
		p->lim.max_streamed = p->lim.max_literal > SIZE_MAX / IMAP_PARSER_DEFAULT_STREAMED_FACTOR ?
			SIZE_MAX : p->lim.max_literal * IMAP_PARSER_DEFAULT_STREAMED_FACTOR;
	p->buf_bound = parser_sat_add(parser_sat_add(p->lim.max_line, p->lim.max_literal), 1);
	p->buf_cap = p->buf_bound < PARSER_BUF_INITIAL ? p->buf_bound : PARSER_BUF_INITIAL;
	p->buf = malloc(p->buf_cap);
	p->nodes_cap = p->lim.max_args < PARSER_NODES_INITIAL ? p->lim.max_args : PARSER_NODES_INITIAL;
	p->nodes = malloc(p->nodes_cap * sizeof(*p->nodes));
	p->out_cap = p->nodes_cap;
	p->out = malloc(p->out_cap * sizeof(*p->out));
	if (p->buf == NULL || p->nodes == NULL || p->out == NULL) {
		imap_parser_free(p);
		return NULL;
	}
	imap_parser_reset(p);
	return p;
}

/* Hand every sink handle of the current command back to the sink. */
static void parser_release_streams(struct imap_parser *p)
{
	size_t i;

	for (i = 0; i < p->nnodes; i++) {
		void *h = p->nodes[i].stream;

		if (h != NULL) {
			/* cleared first: release may not come back here twice */
			p->nodes[i].stream = NULL;
			p->sink.release(h);
		}
	}
}

void imap_parser_set_sink(struct imap_parser *p, const struct imap_literal_sink *sink)
{
	/* handles belong to the sink that opened them */
	parser_release_streams(p);
	p->has_sink = sink != NULL;
	if (sink != NULL)
		p->sink = *sink;
	else
		memset(&p->sink, 0, sizeof(p->sink));
}

void imap_parser_free(struct imap_parser *p)
{
	if (p == NULL)
		return;
	parser_release_streams(p);
	free(p->buf);
	free(p->nodes);
	free(p->out);
	free(p);
}

void imap_parser_reset(struct imap_parser *p)
{
	parser_release_streams(p);
	/* give back the memory of an unusually big command */
	if (p->buf_cap > PARSER_BUF_KEEP) {
		char *nb = realloc(p->buf, PARSER_BUF_INITIAL);

		if (nb != NULL) {
			p->buf = nb;
			p->buf_cap = PARSER_BUF_INITIAL;
		}
	}
	if (p->nodes_cap > PARSER_NODES_KEEP) {
		struct parser_node *nn = realloc(p->nodes, PARSER_NODES_INITIAL * sizeof(*nn));

		if (nn != NULL) {
			p->nodes = nn;
			p->nodes_cap = PARSER_NODES_INITIAL;
		}
	}
	if (p->out_cap > PARSER_NODES_KEEP) {
		struct imap_arg *na = realloc(p->out, PARSER_NODES_INITIAL * sizeof(*na));

		if (na != NULL) {
			p->out = na;
			p->out_cap = PARSER_NODES_INITIAL;
		}
	}
	p->state = S_START;
	p->result = IMAP_PARSE_NEED_MORE;
	p->want_continue = 0;
	p->line_mode = 0;
	p->buf_len = 0;
	p->nnodes = 0;
	p->ntop = 0;
	p->cur = 0;
	p->cur_list = NO_PARENT;
	p->depth = 0;
	p->sect_depth = 0;
	p->line_len = 0;
	p->lit_total = 0;
	p->tag_len = 0;
	p->tag_done = 0;
	p->name_off = 0;
	p->lit_n = 0;
	p->lit_ovf = 0;
	p->lit_plus = 0;
	p->lit_remaining = 0;
	p->stream_total = 0;
	memset(&p->cmd, 0, sizeof(p->cmd));
	p->err_kind = IMAP_ERR_NONE;
	p->err_msg = NULL;
	p->fatal = 0;
}

const struct imap_command *imap_parser_command(const struct imap_parser *p)
{
	if (p->state != S_DONE || p->result != IMAP_PARSE_COMMAND || p->line_mode)
		return NULL;
	return &p->cmd;
}

const char *imap_parser_error(const struct imap_parser *p)
{
	return p->err_kind == IMAP_ERR_NONE ? NULL : p->err_msg;
}

const char *imap_parser_error_tag(const struct imap_parser *p)
{
	return p->err_kind != IMAP_ERR_NONE && p->tag_done ? p->buf : NULL;
}

const char *imap_parser_error_command(const struct imap_parser *p)
{
	/* A literal only comes after the command name, so it is whole. */
	return p->err_kind == IMAP_ERR_LITERAL_TOO_BIG ? p->buf + p->name_off : NULL;
}

enum imap_parse_error imap_parser_error_kind(const struct imap_parser *p)
{
	return p->err_kind;
}

int imap_parser_fatal(const struct imap_parser *p)
{
	return p->err_kind != IMAP_ERR_NONE && p->fatal;
}

int imap_parser_at_start(const struct imap_parser *p)
{
	return p->state == S_START && !p->skipping && !p->line_mode;
}

int
imap_number64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;

	/* 19 digits fit in 64 bits; the limit is 63 (RFC 9051 §9 number64) */
	if (len == 0 || len > 19)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > INT64_MAX)
		return -1;
	*out = v;
	return 0;
}

int
imap_arg_number64(const struct imap_arg *a, uint64_t *out)
{
	if (a->type != IMAP_ARG_ATOM)
		return -1;
	return imap_number64(a->str, a->len, out);
}
