/*
 * ENVELOPE (RFC 9051 §7.5.2): the strings of a header as they are, and its
 * address lists parsed per RFC 5322 §3.4 with the obsolete forms of §4.4
 * (routes, CFWS around dots, empty list members) and what real mail
 * carries beyond them.  Where the RFCs say nothing (broken addresses),
 * Dovecot's answers are followed: MISSING_MAILBOX and MISSING_DOMAIN for
 * the parts that are not there, a trailing comment as the display name.
 */
#include "autoconfig.h"

#include <string.h>

#include "mime-int.h"

enum {
	E_DATE, E_SUBJECT, E_FROM, E_SENDER, E_REPLY_TO, E_TO, E_CC, E_BCC,
	E_IN_REPLY_TO, E_MESSAGE_ID, E_COUNT
};

static const char *const env_names[E_COUNT] = {
	"date", "subject", "from", "sender", "reply-to", "to", "cc", "bcc",
	"in-reply-to", "message-id",
};

struct addr_ctx {
	struct mime_lex lx;
	struct buf *out;             /* NULL: only the first address, to first */
	struct mime_address *first;
	size_t count, max;
	struct buf name, adl, local, host, comment;
};

/* RFC 5322 §3.2.3 atext; 8-bit bytes are let through (RFC 6532). */
static bool
atext(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || (unsigned char)c >= 0x80 ||
	    (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

static void
skip_atom(struct mime_lex *lx)
{
	while (lx->p < lx->end && atext(*lx->p))
		lx->p++;
}

/*
 * What comes after the words that start an address: '<' (name-addr), ':'
 * (group), '@' (addr-spec), or 0 (a list separator, the end, or junk).
 * *words says there were words, *phrase that two of them were apart or one
 * was quoted, which makes them a display name if no address follows.
 */
static char
lookahead(struct mime_lex lx, bool *words, bool *phrase)
{
	bool prev_word = false;

	*words = *phrase = false;
	for (;;) {
		const char *before = lx.p;
		char c;

		mime_lex_cfws(&lx, NULL);
		if (lx.p >= lx.end)
			return 0;
		c = *lx.p;
		if (c == '"' || atext(c)) {
			if ((prev_word && lx.p > before) || c == '"')
				*phrase = true;
			if (c == '"')
				mime_lex_quoted(&lx, NULL);
			else
				skip_atom(&lx);
			*words = prev_word = true;
		} else if (c == '.') {
			lx.p++;
			prev_word = false;
		} else {
			return c == '<' || c == ':' || c == '@' ? c : 0;
		}
	}
}

/*
 * Words and dots up to a special.  A phrase gets one space where the words
 * were apart ("John Q. Public"); a local part is kept as written without
 * CFWS.  Comments after the first word go to comment when not NULL.
 */
static void
read_words(struct mime_lex *lx, struct buf *out, bool phrase,
    struct buf *comment)
{
	bool first = true;

	for (;;) {
		const char *before = lx->p, *b;
		char c;

		mime_lex_cfws(lx, first ? NULL : comment);
		if (lx->p >= lx->end)
			return;
		c = *lx->p;
		if (c != '"' && c != '.' && !atext(c))
			return;
		if (phrase && !first && c != '.' && lx->p > before)
			mime_append_capped(out, " ", 1, MIME_MAX_STRING);
		b = lx->p;
		if (c == '"') {
			mime_lex_quoted(lx, out);
		} else if (c == '.') {
			lx->p++;
			mime_append_capped(out, ".", 1, MIME_MAX_STRING);
		} else {
			skip_atom(lx);
			mime_append_capped(out, b, (size_t)(lx->p - b),
			    MIME_MAX_STRING);
		}
		first = false;
	}
}

/* RFC 5322 §3.4.1 domain-literal, kept with its brackets. */
static void
read_literal(struct mime_lex *lx, struct buf *host)
{
	while (lx->p < lx->end) {
		char c = *lx->p++;

		if (c == '\\' && lx->p < lx->end)
			c = *lx->p++;
		else if (c == '\r' || c == '\n')
			continue;
		mime_append_capped(host, &c, 1, MIME_MAX_STRING);
		if (c == ']')
			return;
	}
}

/* dot-atom, obs-domain (CFWS around the dots) or domain-literal.  Two
 * atoms without a dot between them are two things: the domain ends. */
static void
read_domain(struct mime_lex *lx, struct buf *host, struct buf *comment)
{
	bool after_atom = false;

	for (;;) {
		const char *b;

		mime_lex_cfws(lx, comment);
		if (lx->p >= lx->end)
			return;
		b = lx->p;
		if (*lx->p == '.') {
			lx->p++;
			after_atom = false;
		} else if (after_atom || (*lx->p != '[' && !atext(*lx->p))) {
			return;
		} else if (*lx->p == '[') {
			read_literal(lx, host);
			after_atom = true;
			continue;
		} else {
			skip_atom(lx);
			after_atom = true;
		}
		mime_append_capped(host, b, (size_t)(lx->p - b), MIME_MAX_STRING);
	}
}

static void
put_nstring(struct buf *out, const struct buf *s, const char *dflt)
{
	if (s != NULL && s->len > 0)
		buf_append_imap_string(out, s->data, s->len);
	else
		buf_append_imap_string(out, dflt, dflt != NULL ? strlen(dflt) : 0);
}

static void
copy_part(struct buf *to, const struct buf *from)
{
	buf_reset(to);
	if (from != NULL && from->len > 0)
		buf_append(to, from->data, from->len);
}

/* One address structure: (name adl mailbox host). */
static void
put_address(struct addr_ctx *a, const struct buf *name, const struct buf *adl,
    const struct buf *mailbox, const char *mb_dflt, const struct buf *host,
    const char *host_dflt)
{
	if (a->out == NULL) {
		/* mime_address_first(): the defaults are ENVELOPE's, not data */
		if (a->count == 0) {
			copy_part(&a->first->name, name);
			copy_part(&a->first->mailbox, mailbox);
			copy_part(&a->first->host, host);
		}
		a->count++;
		return;
	}
	buf_append_char(a->out, '(');
	put_nstring(a->out, name, NULL);
	buf_append_char(a->out, ' ');
	put_nstring(a->out, adl, NULL);
	buf_append_char(a->out, ' ');
	put_nstring(a->out, mailbox, mb_dflt);
	buf_append_char(a->out, ' ');
	put_nstring(a->out, host, host_dflt);
	buf_append_char(a->out, ')');
	a->count++;
}

static void
scratch_reset(struct addr_ctx *a)
{
	buf_reset(&a->name);
	buf_reset(&a->adl);
	buf_reset(&a->local);
	buf_reset(&a->host);
	buf_reset(&a->comment);
}

/* obs-route: "@" domain *("," ["@" domain]) ":" (RFC 5322 §4.4). */
static void
read_route(struct addr_ctx *a)
{
	struct mime_lex *lx = &a->lx;

	for (;;) {
		mime_lex_cfws(lx, NULL);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == ':') {
			lx->p++;
			return;
		}
		if (*lx->p == ',' && a->adl.len > 0) {
			mime_append_capped(&a->adl, ",", 1, MIME_MAX_STRING);
		} else if (*lx->p == '@') {
			mime_append_capped(&a->adl, "@", 1, MIME_MAX_STRING);
			lx->p++;
			read_domain(lx, &a->adl, NULL);
			continue;
		} else {
			return;
		}
		lx->p++;
	}
}

/* name-addr: [phrase] "<" [route] addr-spec ">" */
static void
name_addr(struct addr_ctx *a)
{
	struct mime_lex *lx = &a->lx;

	read_words(lx, &a->name, true, NULL);
	lx->p++;   /* '<' */
	mime_lex_cfws(lx, NULL);
	if (lx->p < lx->end && *lx->p == '@')
		read_route(a);
	read_words(lx, &a->local, false, NULL);
	mime_lex_cfws(lx, NULL);
	if (lx->p < lx->end && *lx->p == '@') {
		lx->p++;
		read_domain(lx, &a->host, NULL);
	}
	if (lx->p < lx->end && *lx->p == '>')
		lx->p++;
	put_address(a, &a->name, &a->adl, &a->local, "MISSING_MAILBOX",
	    &a->host, "MISSING_DOMAIN");
}

/* addr-spec, the name taken from the last comment after it, if any. */
static void
addr_spec(struct addr_ctx *a)
{
	struct mime_lex *lx = &a->lx;

	read_words(lx, &a->local, false, &a->comment);
	lx->p++;   /* '@' */
	read_domain(lx, &a->host, &a->comment);
	put_address(a, &a->comment, NULL, &a->local, "MISSING_MAILBOX",
	    &a->host, "MISSING_DOMAIN");
}

/* Words that end without an address: a lone local part, or a name. */
static void
words_only(struct addr_ctx *a, bool phrase)
{
	if (phrase) {
		read_words(&a->lx, &a->name, true, NULL);
		put_address(a, &a->name, NULL, NULL, "MISSING_MAILBOX", NULL,
		    "MISSING_DOMAIN");
	} else {
		read_words(&a->lx, &a->local, false, &a->comment);
		mime_lex_cfws(&a->lx, &a->comment);
		put_address(a, &a->comment, NULL, &a->local, "MISSING_MAILBOX",
		    NULL, "MISSING_DOMAIN");
	}
}

/* After an address: past junk up to the next ',' (or ';' in a group). */
static void
skip_to_separator(struct mime_lex *lx)
{
	while (lx->p < lx->end && *lx->p != ',' && *lx->p != ';') {
		if (*lx->p == '"')
			mime_lex_quoted(lx, NULL);
		else if (*lx->p == '(')
			mime_lex_cfws(lx, NULL);
		else
			lx->p++;
	}
}

static void address_list(struct addr_ctx *a, bool in_group);

/* group: phrase ":" [group-list] ";" -- IMAP marks its start with a NIL
 * host and its end with an all-NIL address (RFC 9051 §7.5.2). */
static void
group(struct addr_ctx *a)
{
	struct mime_lex *lx = &a->lx;
	static const struct buf empty = BUF_INIT;

	read_words(lx, &a->name, true, NULL);
	lx->p++;   /* ':' */
	put_address(a, NULL, NULL, a->name.len > 0 ? &a->name : &empty, "",
	    NULL, NULL);
	address_list(a, true);
	if (lx->p < lx->end && *lx->p == ';')
		lx->p++;
	put_address(a, NULL, NULL, NULL, NULL, NULL, NULL);
}

static void
address_list(struct addr_ctx *a, bool in_group)
{
	struct mime_lex *lx = &a->lx;
	bool words, phrase;

	while (lx->p < lx->end && a->count < a->max) {
		char c = lookahead(*lx, &words, &phrase);

		scratch_reset(a);
		if (c == '<')
			name_addr(a);
		else if (c == ':' && !in_group)
			group(a);
		else if (c == '@')
			addr_spec(a);
		else if (words)
			words_only(a, phrase);
		/* else an empty member: §4.4 allows them, they say nothing */
		mime_lex_cfws(lx, NULL);
		if (lx->p >= lx->end)
			return;
		if (*lx->p == ';' && in_group)
			return;
		if (*lx->p != ',' && *lx->p != ';')
			skip_to_separator(lx);
		else
			lx->p++;
	}
}

static void
scratch_free(struct addr_ctx *a)
{
	buf_free(&a->name);
	buf_free(&a->adl);
	buf_free(&a->local);
	buf_free(&a->host);
	buf_free(&a->comment);
}

/* The address list of a field into list: "(" 1*address ")", or nothing
 * when it holds no address. */
static void
put_address_list(const char *d, const struct mime_field *f, struct buf *list)
{
	struct addr_ctx a;

	memset(&a, 0, sizeof(a));
	a.lx.p = d + f->value;
	a.lx.end = d + f->end;
	a.out = list;
	a.max = MIME_MAX_ADDRESSES;
	buf_append_char(list, '(');
	address_list(&a, false);
	buf_append_char(list, ')');
	if (a.count == 0)
		buf_reset(list);
	scratch_free(&a);
}

int
mime_address_first(const char *value, size_t len, struct mime_address *out)
{
	struct addr_ctx a;

	memset(&a, 0, sizeof(a));
	a.lx.p = value;
	a.lx.end = value + len;
	a.first = out;
	a.max = 1;
	buf_reset(&out->name);
	buf_reset(&out->mailbox);
	buf_reset(&out->host);
	address_list(&a, false);
	scratch_free(&a);
	return a.count > 0 ? 0 : 1;
}

void
mime_address_free(struct mime_address *a)
{
	buf_free(&a->name);
	buf_free(&a->mailbox);
	buf_free(&a->host);
}

/*
 * msg-id = [CFWS] "<" id-left "@" id-right ">" [CFWS]: id-left a local
 * part (dot-atom, quoted string, or the obsolete words and dots), id-right
 * a domain (dot-atom, domain literal, or the obsolete form): the readers
 * of addresses above, which drop the CFWS and the quoting.
 */
static bool
msgid(struct mime_lex *lx, struct buf *out)
{
	size_t start = out->len, at;

	read_words(lx, out, false, NULL);
	mime_lex_cfws(lx, NULL);
	if (out->len == start)
		return false;
	if (lx->p < lx->end && *lx->p == '@') {
		lx->p++;
		mime_append_capped(out, "@", 1, MIME_MAX_STRING);
		at = out->len;
		read_domain(lx, out, NULL);
		mime_lex_cfws(lx, NULL);
		if (out->len == at)
			return false;
	}
	return lx->p < lx->end && *lx->p == '>';
}

bool
mime_msgid_next(const char **p, const char *end, struct buf *out)
{
	struct mime_lex lx = { *p, end };

	while (lx.p < lx.end) {
		size_t start = out->len;

		mime_lex_cfws(&lx, NULL);
		if (lx.p >= lx.end)
			break;
		if (*lx.p == '"') {
			mime_lex_quoted(&lx, NULL);    /* obs-phrase in In-Reply-To */
			continue;
		}
		if (*lx.p++ != '<')
			continue;
		if (msgid(&lx, out)) {
			*p = ++lx.p;
			return true;
		}
		/* not a msg-id: forget what was read, go on after it */
		out->len = start;
		if (out->data != NULL)
			out->data[start] = '\0';
	}
	*p = lx.p;
	return false;
}

bool
mime_msgid_next_kept(const char **p, const char *end, struct buf *out,
    size_t max)
{
	for (;;) {
		buf_reset(out);
		if (!mime_msgid_next(p, end, out))
			return false;
		if (out->len > 0 && out->len <= max && !out->overflow &&
		    memchr(out->data, '\0', out->len) == NULL)
			return true;
	}
}

static void
put_string_field(const char *d, const struct mime_field *f, struct buf *out)
{
	struct buf v = BUF_INIT;

	if (f == NULL) {
		buf_append_str(out, "NIL");
		return;
	}
	mime_unfold(d + f->value, d + f->end, &v);
	buf_append_imap_string(out, v.data != NULL ? v.data : "", v.len);
	buf_free(&v);
}

static void
put_list(struct buf *out, const struct buf *list, const struct buf *dflt)
{
	if (list->len == 0)
		list = dflt;
	if (list->len == 0)
		buf_append_str(out, "NIL");
	else
		buf_append(out, list->data, list->len);
}

int
mime_envelope(const char *data, size_t len, const struct mime_part *part,
    struct buf *out)
{
	struct mime_field fields[E_COUNT], f;
	const struct mime_field *found[E_COUNT] = { NULL };
	struct buf lists[E_COUNT];
	struct mime_field_iter it;

	mime_field_iter_init(&it, data, len, part);
	while (mime_field_next(&it, &f)) {
		for (int k = 0; k < E_COUNT; k++) {
			if (found[k] != NULL || !mime_field_is(data, &f, env_names[k]))
				continue;
			fields[k] = f;   /* the first of a repeated field */
			found[k] = &fields[k];
		}
	}
	for (int k = 0; k < E_COUNT; k++) {
		lists[k] = (struct buf)BUF_INIT;
		if (found[k] != NULL && k >= E_FROM && k <= E_BCC)
			put_address_list(data, found[k], &lists[k]);
	}
	buf_append_char(out, '(');
	put_string_field(data, found[E_DATE], out);
	buf_append_char(out, ' ');
	put_string_field(data, found[E_SUBJECT], out);
	for (int k = E_FROM; k <= E_BCC; k++) {
		buf_append_char(out, ' ');
		/* RFC 9051 §7.5.2: Sender and Reply-To default to From. */
		put_list(out, &lists[k], k == E_SENDER || k == E_REPLY_TO ?
		    &lists[E_FROM] : &lists[k]);
	}
	buf_append_char(out, ' ');
	put_string_field(data, found[E_IN_REPLY_TO], out);
	buf_append_char(out, ' ');
	put_string_field(data, found[E_MESSAGE_ID], out);
	buf_append_char(out, ')');
	for (int k = 0; k < E_COUNT; k++)
		buf_free(&lists[k]);
	return out->overflow ? -1 : 0;
}
