/*
 * LMTP's syntax: commands (RFC 2033 §4, RFC 5321 §4.1), paths (RFC 5321
 * §4.1.2), parameters (§4.1.1.11; SIZE RFC 1870, BODY RFC 6152, xtext RFC
 * 3461 §4) and the DATA stream (§4.5.2).  Plain byte tests, no <ctype.h>:
 * the locale must not change what is valid.
 */
#include "autoconfig.h"

#include <string.h>

#include "lmtp.h"

static const char R_MAIL_SYNTAX[] = "501 5.5.2 Syntax: MAIL FROM:<address>";
static const char R_RCPT_SYNTAX[] = "501 5.5.2 Syntax: RCPT TO:<address>";
static const char R_LHLO_SYNTAX[] = "501 5.5.4 Syntax: LHLO hostname";
static const char R_BAD_SENDER[] = "501 5.1.7 Bad sender address syntax";
static const char R_BAD_RCPT[] = "501 5.1.3 Bad recipient address syntax";
static const char R_PARAM_SYNTAX[] = "501 5.5.4 Bad parameter syntax";
static const char R_PARAM_TWICE[] = "501 5.5.4 Parameter given twice";
static const char R_PARAM_UNKNOWN[] = "555 5.5.4 Unsupported parameter";
static const char R_BAD_SIZE[] = "501 5.5.4 Bad SIZE= value";
static const char R_BAD_BODY[] = "501 5.5.4 BODY= takes 7BIT or 8BITMIME";
static const char R_BAD_MAILBOX[] = "501 5.5.4 Bad XCAIRN-MAILBOX= value";

struct cursor {
	const char *s;
	size_t len;
	size_t at;
};

static int
peek(const struct cursor *c)
{
	return c->at < c->len ? (unsigned char)c->s[c->at] : -1;
}

static bool
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 5322 §3.2.3 */
static bool
is_atext(int c)
{
	return is_alpha(c) || is_digit(c) || (c > 0 && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int
upper(int c)
{
	return c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
}

/* s (len octets) is word, ignoring case. */
static bool
word_eq(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	if (len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper((unsigned char)s[i]) != word[i])
			return false;
	return true;
}

static bool
starts_with(const char *s, size_t len, const char *word)
{
	size_t n = strlen(word);

	return len >= n && word_eq(s, n, word);
}

enum lmtp_verb
lmtp_verb(const char *line, size_t len, const char **args, size_t *args_len)
{
	static const struct { const char *name; enum lmtp_verb verb; } verbs[] = {
		{ "LHLO", LMTP_LHLO }, { "HELO", LMTP_HELO }, { "EHLO", LMTP_EHLO },
		{ "MAIL", LMTP_MAIL }, { "RCPT", LMTP_RCPT }, { "DATA", LMTP_DATA },
		{ "BDAT", LMTP_BDAT }, { "RSET", LMTP_RSET }, { "NOOP", LMTP_NOOP },
		{ "QUIT", LMTP_QUIT }, { "VRFY", LMTP_VRFY }, { "EXPN", LMTP_EXPN },
		{ "HELP", LMTP_HELP },
	};
	size_t n = 0;

	while (n < len && line[n] != ' ')
		n++;
	*args = n < len ? line + n + 1 : line + len;
	*args_len = n < len ? len - n - 1 : 0;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (word_eq(line, n, verbs[i].name))
			return verbs[i].verb;
	return LMTP_UNKNOWN;
}

/* Copy s[from, to) into out (size outsize); false if it does not fit. */
static bool
copy_span(const struct cursor *c, size_t from, size_t to, char *out,
    size_t outsize)
{
	if (to - from >= outsize)
		return false;
	memcpy(out, c->s + from, to - from);
	out[to - from] = '\0';
	return true;
}

/* sub-domain *("." sub-domain), each Let-dig [Ldh-str] (§4.1.2); '_' too. */
static bool
parse_domain_name(struct cursor *c)
{
	size_t start = c->at;
	int prev = '.';

	for (int ch; (ch = peek(c)) >= 0; c->at++) {
		if (ch == '.') {
			if (prev == '.' || prev == '-')
				return false;
		} else if (ch == '-') {
			if (prev == '.')
				return false;
		} else if (!is_alpha(ch) && !is_digit(ch) && ch != '_') {
			break;
		}
		prev = ch;
	}
	return c->at > start && prev != '.' && prev != '-';
}

/* address-literal (§4.1.3): "[" 1*dcontent "]", dcontent %d33-90 / %d94-126 */
static bool
parse_address_literal(struct cursor *c)
{
	size_t start;

	if (peek(c) != '[')
		return false;
	start = ++c->at;
	for (int ch; (ch = peek(c)) >= 33 && ch <= 126 && ch != '[' && ch != '\\' &&
	    ch != ']'; )
		c->at++;
	if (c->at == start || peek(c) != ']')
		return false;
	c->at++;
	return true;
}

static bool
parse_domain(struct cursor *c)
{
	return peek(c) == '[' ? parse_address_literal(c) : parse_domain_name(c);
}

/* Dot-string = Atom *("." Atom), into out unchanged. */
static bool
parse_dot_string(struct cursor *c, char *out, size_t outsize)
{
	size_t start = c->at;
	int prev = '.';

	for (int ch; (ch = peek(c)) >= 0; c->at++) {
		if (ch == '.') {
			if (prev == '.')
				return false;
		} else if (!is_atext(ch)) {
			break;
		}
		prev = ch;
	}
	if (c->at == start || prev == '.')
		return false;
	return copy_span(c, start, c->at, out, outsize);
}

/* Quoted-string (§4.1.2), its quoting undone into out. */
static bool
parse_quoted(struct cursor *c, char *out, size_t outsize)
{
	size_t n = 0;
	int ch;

	if (peek(c) != '"')
		return false;
	c->at++;
	while ((ch = peek(c)) != '"') {
		if (ch == '\\') {
			c->at++;
			ch = peek(c);
			if (ch < 32 || ch > 126)
				return false;
		} else if (ch < 32 || ch > 126) {
			return false;  /* the end of the line, or a control or 8-bit octet */
		}
		if (n + 1 >= outsize)
			return false;
		out[n++] = (char)ch;
		c->at++;
	}
	c->at++;
	out[n] = '\0';
	return true;
}

/* A-d-l ":" (§4.1.2): a source route, read and ignored (§C). */
static bool
skip_source_route(struct cursor *c)
{
	if (peek(c) != '@')
		return true;
	for (;;) {
		if (peek(c) != '@')
			return false;
		c->at++;
		if (!parse_domain(c))
			return false;
		if (peek(c) != ',')
			break;
		c->at++;
	}
	if (peek(c) != ':')
		return false;
	c->at++;
	return true;
}

/*
 * "<" [A-d-l ":"] Mailbox ">", or "<>" when null_ok.  The domain may be
 * missing: cairn-deliver names users alone, and "<Postmaster>" has none.
 */
static bool
parse_path(struct cursor *c, bool null_ok, struct lmtp_address *a)
{
	size_t start = c->at, mailbox;

	memset(a, 0, sizeof(*a));
	if (peek(c) != '<')
		return false;
	c->at++;
	if (null_ok && peek(c) == '>') {
		c->at++;
		return true;
	}
	if (!skip_source_route(c))
		return false;
	mailbox = c->at;
	if (peek(c) == '"' ? !parse_quoted(c, a->local, sizeof(a->local))
	    : !parse_dot_string(c, a->local, sizeof(a->local)))
		return false;
	if (peek(c) == '@') {
		size_t domain = ++c->at;
		if (!parse_domain(c) || !copy_span(c, domain, c->at, a->domain,
		    sizeof(a->domain)))
			return false;
	}
	if (!copy_span(c, mailbox, c->at, a->text, sizeof(a->text)) || peek(c) != '>')
		return false;
	c->at++;
	return c->at - start <= LMTP_PATH_MAX;
}

/*
 * The next " keyword[=value]" (§4.1.2: esmtp-keyword, esmtp-value).
 * 1: one was read; 0: the end of the line; -1: bad syntax.
 */
static int
next_param(struct cursor *c, const char **key, size_t *key_len, const char **value,
    size_t *value_len)
{
	size_t start;
	int ch;

	if (peek(c) < 0)
		return 0;
	if (peek(c) != ' ')
		return -1;
	while (peek(c) == ' ')
		c->at++;
	if (peek(c) < 0)
		return 0;  /* trailing spaces: forgiven */
	start = c->at;
	if (!is_alpha(peek(c)) && !is_digit(peek(c)))
		return -1;
	while ((ch = peek(c)) >= 0 && (is_alpha(ch) || is_digit(ch) || ch == '-'))
		c->at++;
	*key = c->s + start;
	*key_len = c->at - start;
	*value = NULL;
	*value_len = 0;
	if (peek(c) != '=')
		return peek(c) < 0 || peek(c) == ' ' ? 1 : -1;
	start = ++c->at;
	while ((ch = peek(c)) >= 33 && ch <= 126 && ch != '=')
		c->at++;
	*value = c->s + start;
	*value_len = c->at - start;
	if (*value_len == 0 || (peek(c) >= 0 && peek(c) != ' '))
		return -1;
	return 1;
}

/* "FROM:" or "TO:", then the path; spaces after the colon are forgiven. */
static bool
parse_prefix(struct cursor *c, const char *word)
{
	if (!starts_with(c->s, c->len, word))
		return false;
	c->at = strlen(word);
	while (peek(c) == ' ')
		c->at++;
	return true;
}

static bool
parse_size(const char *v, size_t len, uint64_t *out)
{
	uint64_t n = 0;

	if (v == NULL || len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit((unsigned char)v[i]))
			return false;
		unsigned d = (unsigned)(v[i] - '0');
		if (n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*out = n;
	return true;
}

static const char *
mail_param(struct lmtp_mail *m, const char *key, size_t key_len, const char *v,
    size_t v_len)
{
	if (word_eq(key, key_len, "SIZE")) {
		if (m->has_size)
			return R_PARAM_TWICE;
		if (!parse_size(v, v_len, &m->size))
			return R_BAD_SIZE;
		m->has_size = true;
		return NULL;
	}
	if (word_eq(key, key_len, "BODY")) {
		if (m->body != LMTP_BODY_NONE)
			return R_PARAM_TWICE;
		if (v != NULL && word_eq(v, v_len, "7BIT"))
			m->body = LMTP_BODY_7BIT;
		else if (v != NULL && word_eq(v, v_len, "8BITMIME"))
			m->body = LMTP_BODY_8BITMIME;
		else
			return R_BAD_BODY;
		return NULL;
	}
	return R_PARAM_UNKNOWN;
}

const char *
lmtp_parse_mail(const char *args, size_t len, struct lmtp_mail *out)
{
	struct cursor c = { args, len, 0 };
	const char *key, *value, *err;
	size_t key_len, value_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!parse_prefix(&c, "FROM:") || peek(&c) != '<')
		return R_MAIL_SYNTAX;
	if (!parse_path(&c, true, &out->from))
		return R_BAD_SENDER;
	while ((rc = next_param(&c, &key, &key_len, &value, &value_len)) > 0)
		if ((err = mail_param(out, key, key_len, value, value_len)) != NULL)
			return err;
	return rc < 0 ? R_PARAM_SYNTAX : NULL;
}

const char *
lmtp_parse_rcpt(const char *args, size_t len, struct lmtp_rcpt_args *out)
{
	struct cursor c = { args, len, 0 };
	const char *key, *value;
	size_t key_len, value_len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!parse_prefix(&c, "TO:") || peek(&c) != '<')
		return R_RCPT_SYNTAX;
	if (!parse_path(&c, false, &out->to))
		return R_BAD_RCPT;
	while ((rc = next_param(&c, &key, &key_len, &value, &value_len)) > 0) {
		if (!word_eq(key, key_len, "XCAIRN-MAILBOX"))
			return R_PARAM_UNKNOWN;
		if (out->has_mailbox)
			return R_PARAM_TWICE;
		if (value == NULL || !lmtp_xtext_decode(value, value_len, out->mailbox,
		    sizeof(out->mailbox)))
			return R_BAD_MAILBOX;
		out->has_mailbox = true;
	}
	return rc < 0 ? R_PARAM_SYNTAX : NULL;
}

/* Only what is safe in a Received: header's "from" clause gets through. */
static bool
lhlo_char(int ch, bool literal)
{
	return is_alpha(ch) || is_digit(ch) || ch == '.' || ch == '-' ||
	    (literal ? ch == ':' : ch == '_');
}

const char *
lmtp_parse_lhlo(const char *args, size_t len, char *name)
{
	bool literal;
	size_t i = 0;

	while (len > 0 && args[len - 1] == ' ')
		len--;
	if (len == 0 || len > LMTP_DOMAIN_MAX)
		return R_LHLO_SYNTAX;
	literal = args[0] == '[';
	if (literal) {
		if (len < 3 || args[len - 1] != ']')
			return R_LHLO_SYNTAX;
		i = 1;
		len--;
	}
	for (; i < len; i++)
		if (!lhlo_char((unsigned char)args[i], literal))
			return R_LHLO_SYNTAX;
	if (literal)
		len++;
	memcpy(name, args, len);
	name[len] = '\0';
	return NULL;
}

static int
hex_value(int ch)
{
	if (is_digit(ch))
		return ch - '0';
	ch = upper(ch);
	return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/*
 * xtext = *( xchar / hexchar ): xchar is "!" to "~" but "+" and "=",
 * hexchar "+" and two hex digits (upper case in the RFC; lower case is
 * forgiven).
 */
bool
lmtp_xtext_decode(const char *in, size_t len, char *out, size_t outsize)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		int ch = (unsigned char)in[i];
		if (ch == '+') {
			int hi, lo;
			if (i + 2 >= len || (hi = hex_value((unsigned char)in[i + 1])) < 0 ||
			    (lo = hex_value((unsigned char)in[i + 2])) < 0)
				return false;
			ch = hi * 16 + lo;
			if (ch == 0)
				return false;
			i += 2;
		} else if (ch < 33 || ch > 126 || ch == '=') {
			return false;
		}
		if (n + 1 >= outsize)
			return false;
		out[n++] = (char)ch;
	}
	if (outsize == 0)
		return false;
	out[n] = '\0';
	return true;
}

void
lmtp_split_detail(const char *local, const char *delimiters, char *user,
    char *detail)
{
	size_t n = strlen(local);
	const char *d = NULL;

	if (delimiters[0] != '\0' && n > 0 && strchr(delimiters, local[0]) == NULL)
		d = strpbrk(local, delimiters);
	if (d == NULL) {
		memcpy(user, local, n + 1);
		detail[0] = '\0';
		return;
	}
	memcpy(user, local, (size_t)(d - local));
	user[d - local] = '\0';
	memcpy(detail, d + 1, strlen(d + 1) + 1);
}

void
lmtp_data_init(struct lmtp_data *d)
{
	d->state = LMTP_DATA_LINE_START;
}

bool
lmtp_data_done(const struct lmtp_data *d)
{
	return d->state == LMTP_DATA_DONE;
}

/* One octet of text that may be a CR, outside the line start's rules. */
static enum lmtp_data_state
data_text(int ch, char *out, size_t *o)
{
	if (ch == '\r')
		return LMTP_DATA_CR;
	if (ch == '\n') {
		out[(*o)++] = '\r';  /* a bare LF: stored as CRLF */
		out[(*o)++] = '\n';
		return LMTP_DATA_TEXT;
	}
	out[(*o)++] = (char)ch;
	return LMTP_DATA_TEXT;
}

/* The octet after a CR that may start a CRLF. */
static enum lmtp_data_state
data_after_cr(int ch, char *out, size_t *o)
{
	out[(*o)++] = '\r';
	if (ch == '\n') {
		out[(*o)++] = '\n';
		return LMTP_DATA_LINE_START;
	}
	return data_text(ch, out, o);  /* the CR was bare: kept */
}

size_t
lmtp_data_decode(struct lmtp_data *d, const char *in, size_t len, char *out,
    size_t outsize, size_t *outlen)
{
	size_t i = 0, o = 0;

	/* An octet writes at most 3: a held CR, then a bare LF made CRLF. */
	while (i < len && o + 3 <= outsize && d->state != LMTP_DATA_DONE) {
		int ch = (unsigned char)in[i++];
		switch (d->state) {
		case LMTP_DATA_LINE_START:
			d->state = ch == '.' ? LMTP_DATA_DOT : data_text(ch, out, &o);
			break;
		case LMTP_DATA_DOT:
			/* the dot is stuffing unless CRLF follows at once */
			d->state = ch == '\r' ? LMTP_DATA_DOT_CR : data_text(ch, out, &o);
			break;
		case LMTP_DATA_DOT_CR:
			/* ".\r" and no LF: a stuffed dot, then a bare CR */
			d->state = ch == '\n' ? LMTP_DATA_DONE : data_after_cr(ch, out, &o);
			break;
		case LMTP_DATA_CR:
			d->state = data_after_cr(ch, out, &o);
			break;
		case LMTP_DATA_TEXT:
			d->state = data_text(ch, out, &o);
			break;
		case LMTP_DATA_DONE:
			break;
		}
	}
	*outlen = o;
	return i;
}
