/*
 * SEARCH keys: the parser of the key tree and the matcher (search.h).
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime.h"
#include "mutf7.h"
#include "objectid.h"
#include "search.h"
#include "sentdate.h"
#include "xmalloc.h"

/* ---- dates ---------------------------------------------------------------- */

/* n digits at s as a number, or -1 when one is not a digit. */
static long
digits(const char *s, size_t n)
{
	long v = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int
search_parse_date(const char *s, size_t len, int64_t *day)
{
	size_t dlen;
	long d, y;
	unsigned m;

	/* 1*2DIGIT "-" 3ALPHA "-" 4DIGIT: 10 or 11 bytes */
	if (len == 10)
		dlen = 1;
	else if (len == 11)
		dlen = 2;
	else
		return -1;
	if ((d = digits(s, dlen)) < 1 || s[dlen] != '-' ||
	    (m = sentdate_parse_month(s + dlen + 1)) == 0 || s[dlen + 4] != '-' ||
	    (y = digits(s + dlen + 5, 4)) < 0)
		return -1;
	if ((unsigned long)d > sentdate_month_days(y, m))
		return -1;
	*day = sentdate_days_from_civil(y, m, (unsigned)d);
	return 0;
}

int
search_parse_datetime(const char *s, size_t len, int64_t *t, int *tz_minutes)
{
	long d, y, hh, mm, ss, zh, zm;
	unsigned m;

	/* "dd-Mon-yyyy hh:mm:ss +zzzz" is 26 bytes */
	if (len != 26)
		return -1;
	d = s[0] == ' ' ? digits(s + 1, 1) : digits(s, 2);
	if (d < 1 || s[2] != '-' || (m = sentdate_parse_month(s + 3)) == 0 || s[6] != '-' ||
	    (y = digits(s + 7, 4)) < 0 || s[11] != ' ' ||
	    (hh = digits(s + 12, 2)) < 0 || s[14] != ':' ||
	    (mm = digits(s + 15, 2)) < 0 || s[17] != ':' ||
	    (ss = digits(s + 18, 2)) < 0 || s[20] != ' ' ||
	    (s[21] != '+' && s[21] != '-') ||
	    (zh = digits(s + 22, 2)) < 0 || (zm = digits(s + 24, 2)) < 0)
		return -1;
	/* 60 seconds: a leap second, taken as the next minute's 0 */
	if ((unsigned long)d > sentdate_month_days(y, m) || hh > 23 || mm > 59 || ss > 60 ||
	    zm > 59)
		return -1;
	*tz_minutes = (int)(zh * 60 + zm) * (s[21] == '-' ? -1 : 1);
	*t = sentdate_days_from_civil(y, m, (unsigned)d) * 86400 +
	    hh * 3600 + mm * 60 + ss - (int64_t)*tz_minutes * 60;
	return 0;
}

/* ---- case folding ----------------------------------------------------------- */

/* The store's folding (mime-text.c): the full-text index holds text
 * folded by it, and keys must fold the same way. */
int
search_fold(const char *s, size_t len, struct buf *out)
{
	return mime_fold(s, len, out);
}

/* ---- parsing the keys ----------------------------------------------------- */

enum key_arg {
	ARG_NONE, ARG_STRING, ARG_DATE, ARG_NUMBER, ARG_INTERVAL, ARG_OBJECTID,
	ARG_KEYWORD, ARG_HEADER,
	ARG_UIDSET, ARG_MODSEQ,
	ARG_SPECIAL,            /* NOT, OR, NEW, OLD: built by hand */
};

static const struct {
	const char *name;
	enum search_key_type type;
	enum key_arg arg;
	unsigned flag;
	bool negate;            /* UNSEEN is NOT SEEN */
	const char *field;      /* FROM is HEADER From */
} key_table[] = {
	{ "ALL", SEARCH_KEY_ALL, ARG_NONE, 0, false, NULL },
	{ "ANSWERED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_ANSWERED, false, NULL },
	{ "BCC", SEARCH_KEY_HEADER, ARG_STRING, 0, false, "Bcc" },
	{ "BEFORE", SEARCH_KEY_BEFORE, ARG_DATE, 0, false, NULL },
	{ "BODY", SEARCH_KEY_BODY, ARG_STRING, 0, false, NULL },
	{ "CC", SEARCH_KEY_HEADER, ARG_STRING, 0, false, "Cc" },
	{ "DELETED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_DELETED, false, NULL },
	{ "DRAFT", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_DRAFT, false, NULL },
	{ "EMAILID", SEARCH_KEY_EMAILID, ARG_OBJECTID, 0, false, NULL },
	{ "FLAGGED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_FLAGGED, false, NULL },
	{ "FROM", SEARCH_KEY_HEADER, ARG_STRING, 0, false, "From" },
	{ "HEADER", SEARCH_KEY_HEADER, ARG_HEADER, 0, false, NULL },
	{ "KEYWORD", SEARCH_KEY_KEYWORD, ARG_KEYWORD, 0, false, NULL },
	{ "LARGER", SEARCH_KEY_LARGER, ARG_NUMBER, 0, false, NULL },
	{ "MODSEQ", SEARCH_KEY_MODSEQ, ARG_MODSEQ, 0, false, NULL },
	{ "NEW", SEARCH_KEY_AND, ARG_SPECIAL, 0, false, NULL },
	{ "NOT", SEARCH_KEY_NOT, ARG_SPECIAL, 0, false, NULL },
	{ "OLD", SEARCH_KEY_NOT, ARG_SPECIAL, 0, false, NULL },
	{ "OLDER", SEARCH_KEY_OLDER, ARG_INTERVAL, 0, false, NULL },
	{ "ON", SEARCH_KEY_ON, ARG_DATE, 0, false, NULL },
	{ "OR", SEARCH_KEY_OR, ARG_SPECIAL, 0, false, NULL },
	{ "RECENT", SEARCH_KEY_RECENT, ARG_NONE, 0, false, NULL },
	/* RFC 8514 §4.3: every mailbox here has save dates, so this is ALL */
	{ "SAVEDATESUPPORTED", SEARCH_KEY_ALL, ARG_NONE, 0, false, NULL },
	{ "SAVEDBEFORE", SEARCH_KEY_SAVEDBEFORE, ARG_DATE, 0, false, NULL },
	{ "SAVEDON", SEARCH_KEY_SAVEDON, ARG_DATE, 0, false, NULL },
	{ "SAVEDSINCE", SEARCH_KEY_SAVEDSINCE, ARG_DATE, 0, false, NULL },
	{ "SEEN", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_SEEN, false, NULL },
	{ "SENTBEFORE", SEARCH_KEY_SENTBEFORE, ARG_DATE, 0, false, NULL },
	{ "SENTON", SEARCH_KEY_SENTON, ARG_DATE, 0, false, NULL },
	{ "SENTSINCE", SEARCH_KEY_SENTSINCE, ARG_DATE, 0, false, NULL },
	{ "SINCE", SEARCH_KEY_SINCE, ARG_DATE, 0, false, NULL },
	{ "SMALLER", SEARCH_KEY_SMALLER, ARG_NUMBER, 0, false, NULL },
	{ "SUBJECT", SEARCH_KEY_HEADER, ARG_STRING, 0, false, "Subject" },
	{ "TEXT", SEARCH_KEY_TEXT, ARG_STRING, 0, false, NULL },
	{ "THREADID", SEARCH_KEY_THREADID, ARG_OBJECTID, 0, false, NULL },
	{ "TO", SEARCH_KEY_HEADER, ARG_STRING, 0, false, "To" },
	{ "UID", SEARCH_KEY_UIDSET, ARG_UIDSET, 0, false, NULL },
	{ "UNANSWERED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_ANSWERED, true, NULL },
	{ "UNDELETED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_DELETED, true, NULL },
	{ "UNDRAFT", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_DRAFT, true, NULL },
	{ "UNFLAGGED", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_FLAGGED, true, NULL },
	{ "UNKEYWORD", SEARCH_KEY_KEYWORD, ARG_KEYWORD, 0, true, NULL },
	{ "UNSEEN", SEARCH_KEY_FLAG, ARG_NONE, STORE_FLAG_SEEN, true, NULL },
	{ "YOUNGER", SEARCH_KEY_YOUNGER, ARG_INTERVAL, 0, false, NULL },
};

#define N_KEYS (sizeof(key_table) / sizeof(key_table[0]))

struct parse {
	struct search_program *p;
	const struct imap_arg *args;  /* the list being read */
	size_t n, i;
	const char *why;
};

/* Error texts that name a key; one command runs at a time. */
static char parse_why[128];

static void parse_error(struct parse *ps, const char *fmt, ...) CAIRN_PRINTF(2, 3);

static void
parse_error(struct parse *ps, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(parse_why, sizeof(parse_why), fmt, ap);
	va_end(ap);
	ps->why = parse_why;
}

static struct search_key *
key_new(struct parse *ps, enum search_key_type type)
{
	struct search_key *k;

	if (ps->p->n_keys >= SEARCH_MAX_KEYS) {
		ps->why = "Too many search keys";
		return NULL;
	}
	k = xcalloc(1, sizeof(*k));
	k->type = type;
	k->all = ps->p->keys;
	ps->p->keys = k;
	ps->p->n_keys++;
	return k;
}

/* parent gets child as its last child */
static void
key_add_child(struct search_key *parent, struct search_key *child)
{
	struct search_key **pp = &parent->child;

	while (*pp != NULL)
		pp = &(*pp)->next;
	*pp = child;
}

static struct search_key *
key_wrap_not(struct parse *ps, struct search_key *k)
{
	struct search_key *not;

	if (k == NULL || (not = key_new(ps, SEARCH_KEY_NOT)) == NULL)
		return NULL;
	not->child = k;
	return not;
}

/* The next argument, or NULL (and the error) when there is none. */
static const struct imap_arg *
next_arg(struct parse *ps, const char *name)
{
	if (ps->i >= ps->n) {
		parse_error(ps, "%s needs an argument", name);
		return NULL;
	}
	return &ps->args[ps->i++];
}

static bool
is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_LITERAL;
}

static int
parse_string(struct parse *ps, const char *name, struct search_key *k)
{
	const struct imap_arg *a = next_arg(ps, name);
	struct buf folded = BUF_INIT;

	if (a == NULL)
		return -1;
	if (!is_string(a)) {
		parse_error(ps, "%s needs a string", name);
		return -1;
	}
	if (memchr(a->str, '\0', a->len) != NULL || !utf8_valid(a->str, a->len)) {
		parse_error(ps, "The string of %s is not valid UTF-8", name);
		return -1;
	}
	if (search_fold(a->str, a->len, &folded) != 0) {
		buf_free(&folded);
		ps->why = "Search string too long";
		return -1;
	}
	k->len = folded.len;
	k->str = folded.data != NULL ? buf_steal(&folded, NULL) : xstrdup("");
	k->ascii = true;
	for (size_t i = 0; i < k->len; i++)
		k->ascii &= (unsigned char)k->str[i] < 0x80;
	return 0;
}

static int
parse_number(struct parse *ps, const char *name, uint64_t *out)
{
	const struct imap_arg *a = next_arg(ps, name);
	uint64_t v = 0;

	if (a == NULL)
		return -1;
	if (imap_arg_number64(a, &v) != 0)
		goto bad;
	*out = v;
	return 0;
bad:
	parse_error(ps, "%s needs a number", name);
	return -1;
}

static int
parse_set(struct parse *ps, const char *name, const struct imap_arg *a,
    struct search_key *k)
{
	const char *why = NULL;
	int r;

	if (a->type != IMAP_ARG_ATOM) {
		parse_error(ps, "%s needs a sequence set", name);
		return -1;
	}
	r = seqset_parse(a->str, a->len, &k->set, &why);
	if (r == 1) {
		/* "$" and "UID $" alike: the saved result, given at resolve */
		k->type = SEARCH_KEY_SAVED;
		return 0;
	}
	if (r != 0) {
		parse_error(ps, "Invalid sequence set: %s", why != NULL ? why : "syntax");
		return -1;
	}
	return 0;
}

static int
parse_args(struct parse *ps, size_t ki, struct search_key *k)
{
	const char *name = key_table[ki].name;
	const struct imap_arg *a;

	switch (key_table[ki].arg) {
	case ARG_NONE:
	case ARG_SPECIAL:
		k->flag = key_table[ki].flag;
		return 0;
	case ARG_STRING:
		if (key_table[ki].field != NULL)
			k->field = xstrdup(key_table[ki].field);
		return parse_string(ps, name, k);
	case ARG_DATE:
		if ((a = next_arg(ps, name)) == NULL)
			return -1;
		if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
		    search_parse_date(a->str, a->len, &k->day) != 0) {
			parse_error(ps, "%s needs a date (d-Mon-yyyy)", name);
			return -1;
		}
		return 0;
	case ARG_NUMBER:
		return parse_number(ps, name, &k->num);
	case ARG_OBJECTID:
		/* RFC 8474 §7: EMAILID / THREADID objectid */
		if ((a = next_arg(ps, name)) == NULL)
			return -1;
		if ((a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED) ||
		    !objectid_valid(a->str, a->len)) {
			parse_error(ps, "%s needs an object id", name);
			return -1;
		}
		k->flag = k->type == SEARCH_KEY_THREADID ?
		    objectid_thread_parse(a->str, a->len, &k->num) :
		    objectid_email_parse(a->str, a->len, &k->num);
		return 0;
	case ARG_INTERVAL:
		/* RFC 5032 §4: nz-number seconds */
		if (parse_number(ps, name, &k->num) != 0)
			return -1;
		if (k->num == 0) {
			parse_error(ps, "%s needs a number of seconds above 0", name);
			return -1;
		}
		return 0;
	case ARG_KEYWORD:
		if ((a = next_arg(ps, name)) == NULL)
			return -1;
		if (a->type != IMAP_ARG_ATOM || a->len == 0 || a->len > STORE_KEYWORD_MAX ||
		    a->str[0] == '\\' || strpbrk(a->str, "[]") != NULL) {
			parse_error(ps, "%s needs a keyword", name);
			return -1;
		}
		k->str = xstrdup(a->str);
		k->len = a->len;
		return 0;
	case ARG_HEADER:
		if ((a = next_arg(ps, name)) == NULL)
			return -1;
		if (!is_string(a) || a->len == 0 || strlen(a->str) != a->len ||
		    strpbrk(a->str, ": \t\r\n") != NULL) {
			ps->why = "HEADER needs a field name";
			return -1;
		}
		for (size_t i = 0; i < a->len; i++) {
			if ((unsigned char)a->str[i] < 33 || (unsigned char)a->str[i] > 126) {
				ps->why = "HEADER needs a field name";
				return -1;
			}
		}
		k->field = xstrdup(a->str);
		return parse_string(ps, name, k);
	case ARG_UIDSET:
		if ((a = next_arg(ps, name)) == NULL)
			return -1;
		return parse_set(ps, name, a, k);
	case ARG_MODSEQ:
		/* MODSEQ ["/flags/<flag>" priv|shared|all] n: per-message modseqs
		 * only, so the entry is checked and then not used */
		if (ps->i < ps->n && ps->args[ps->i].type == IMAP_ARG_QUOTED) {
			const struct imap_arg *entry = &ps->args[ps->i++];
			const struct imap_arg *type = next_arg(ps, name);

			if (strncasecmp(entry->str, "/flags/", 7) != 0 || entry->len < 8) {
				ps->why = "MODSEQ entry names are /flags/<flag>";
				return -1;
			}
			if (type == NULL || type->type != IMAP_ARG_ATOM ||
			    (strcasecmp(type->str, "priv") != 0 &&
			    strcasecmp(type->str, "shared") != 0 &&
			    strcasecmp(type->str, "all") != 0)) {
				ps->why = "MODSEQ entry type is priv, shared or all";
				return -1;
			}
		}
		ps->p->uses_modseq = true;
		return parse_number(ps, name, &k->num);
	}
	return -1;
}

static struct search_key *parse_key(struct parse *ps, unsigned depth);

/* Keys from list[0..n) as the children of a new AND. */
static struct search_key *
parse_group(struct parse *ps, const struct imap_arg *list, size_t n, unsigned depth)
{
	const struct imap_arg *outer = ps->args;
	size_t outer_n = ps->n, outer_i = ps->i;
	struct search_key *and, *k;

	if ((and = key_new(ps, SEARCH_KEY_AND)) == NULL)
		return NULL;
	ps->args = list;
	ps->n = n;
	ps->i = 0;
	while (ps->i < ps->n) {
		if ((k = parse_key(ps, depth)) == NULL)
			return NULL;
		key_add_child(and, k);
	}
	ps->args = outer;
	ps->n = outer_n;
	ps->i = outer_i;
	return and;
}

static struct search_key *
parse_key(struct parse *ps, unsigned depth)
{
	const struct imap_arg *a = &ps->args[ps->i++];
	struct search_key *k, *c;
	size_t ki;

	if (depth >= SEARCH_MAX_DEPTH) {
		ps->why = "Search keys nested too deeply";
		return NULL;
	}
	if (a->type == IMAP_ARG_LIST) {
		if (a->list_count == 0) {
			ps->why = "Empty parenthesised search key";
			return NULL;
		}
		return parse_group(ps, a->list, a->list_count, depth + 1);
	}
	if (a->type != IMAP_ARG_ATOM) {
		ps->why = "Search keys are atoms";
		return NULL;
	}
	if ((a->str[0] >= '0' && a->str[0] <= '9') || a->str[0] == '*' ||
	    a->str[0] == '$') {
		if ((k = key_new(ps, SEARCH_KEY_SEQSET)) == NULL ||
		    parse_set(ps, "A sequence set", a, k) != 0)
			return NULL;
		return k;
	}
	for (ki = 0; ki < N_KEYS; ki++)
		if (strcasecmp(a->str, key_table[ki].name) == 0)
			break;
	if (ki == N_KEYS) {
		if (a->len > 40)
			ps->why = "Unknown search key";
		else
			parse_error(ps, "Unknown search key %s", a->str);
		return NULL;
	}
	if (key_table[ki].arg == ARG_SPECIAL) {
		switch (key_table[ki].type) {
		case SEARCH_KEY_NOT:
			if (strcmp(key_table[ki].name, "OLD") == 0)
				return key_wrap_not(ps, key_new(ps, SEARCH_KEY_RECENT));
			if (ps->i >= ps->n) {
				ps->why = "NOT needs a search key";
				return NULL;
			}
			return key_wrap_not(ps, parse_key(ps, depth + 1));
		case SEARCH_KEY_OR:
			if ((k = key_new(ps, SEARCH_KEY_OR)) == NULL)
				return NULL;
			for (int i = 0; i < 2; i++) {
				if (ps->i >= ps->n) {
					ps->why = "OR needs two search keys";
					return NULL;
				}
				if ((c = parse_key(ps, depth + 1)) == NULL)
					return NULL;
				key_add_child(k, c);
			}
			return k;
		default:                                          /* NEW */
			if ((k = key_new(ps, SEARCH_KEY_AND)) == NULL ||
			    (c = key_new(ps, SEARCH_KEY_RECENT)) == NULL)
				return NULL;
			key_add_child(k, c);
			if ((c = key_new(ps, SEARCH_KEY_FLAG)) == NULL)
				return NULL;
			c->flag = STORE_FLAG_SEEN;
			if ((c = key_wrap_not(ps, c)) == NULL)
				return NULL;
			key_add_child(k, c);
			return k;
		}
	}
	if ((k = key_new(ps, key_table[ki].type)) == NULL ||
	    parse_args(ps, ki, k) != 0)
		return NULL;
	return key_table[ki].negate ? key_wrap_not(ps, k) : k;
}

struct search_program *
search_parse(const struct imap_arg *args, size_t n, const char **why)
{
	struct search_program *p = xcalloc(1, sizeof(*p));
	struct parse ps = { .p = p, .args = args, .n = n };

	if (n == 0) {
		*why = "SEARCH needs a search key";
		free(p);
		return NULL;
	}
	if ((p->root = parse_group(&ps, args, n, 0)) == NULL) {
		*why = ps.why;
		search_free(p);
		return NULL;
	}
	return p;
}

void
search_free(struct search_program *p)
{
	struct search_key *k, *next;

	if (p == NULL)
		return;
	for (k = p->keys; k != NULL; k = next) {
		next = k->all;
		seqset_free(&k->set);
		free(k->maybe);
		free(k->field);
		free(k->str);
		free(k);
	}
	free(p);
}

void
search_resolve(struct search_program *p, uint32_t last_msn, uint32_t last_uid,
    const struct seqset *saved)
{
	p->saved = saved;
	p->now = (int64_t)time(NULL);
	for (struct search_key *k = p->keys; k != NULL; k = k->all) {
		if (k->type == SEARCH_KEY_SEQSET)
			seqset_resolve(&k->set, last_msn);
		else if (k->type == SEARCH_KEY_UIDSET)
			seqset_resolve(&k->set, last_uid);
	}
}

/* ---- matching --------------------------------------------------------------- */

/* What one message's header and body give, worked out when a key needs it. */
struct match_ctx {
	const struct search_input *in;
	const struct seqset *saved;  /* "$"; NULL: nothing saved */
	int64_t now;                 /* OLDER, YOUNGER */
	struct buf value, folded;    /* scratch */
	bool header_done, body_done, sent_done;
	struct buf header;           /* folded "name: decoded value\n" of every field */
	struct buf body;             /* folded decoded text of the body parts */
	int64_t sent_day;
};

/* The store's walker (mime-text.c), which the text of TEXT is made with. */
int
search_header_walk(const char *h, size_t len,
    int (*fn)(const char *, size_t, const char *, size_t, void *), void *arg)
{
	return mime_header_walk(h, len, fn, arg);
}

struct header_find {
	struct match_ctx *c;
	const struct search_key *k;
};

/*
 * A value of printable ASCII on one line without an encoded word decodes
 * (mime_header_decode) to itself and folds to its lower case: search it
 * as it is.  Most Subject and From values are such, and a header search
 * over a large mailbox is mostly this.  0: yes, 1: no, -1: the value
 * needs decoding.
 */
static int
plain_contains(const char *v, size_t vlen, const struct search_key *k)
{
	for (size_t i = 0; i < vlen; i++) {
		unsigned char ch = (unsigned char)v[i];

		if (ch == 0 || ch >= 0x80 || ch == '\r' || ch == '\n' ||
		    (ch == '=' && i + 1 < vlen && v[i + 1] == '?'))
			return -1;
	}
	if (!k->ascii || k->len > vlen)
		return 1;    /* folded ASCII holds no other character */
	for (size_t i = 0; i + k->len <= vlen; i++) {
		size_t j = 0;

		while (j < k->len && (v[i + j] >= 'A' && v[i + j] <= 'Z' ?
		    v[i + j] + ('a' - 'A') : v[i + j]) == k->str[j])
			j++;
		if (j == k->len)
			return 0;
	}
	return 1;
}

static int
header_find_fn(const char *name, size_t nlen, const char *value, size_t vlen,
    void *arg)
{
	struct header_find *f = arg;
	struct match_ctx *c = f->c;
	int plain;

	if (strlen(f->k->field) != nlen || strncasecmp(name, f->k->field, nlen) != 0)
		return 0;
	if (f->k->len == 0)
		return 1;    /* an empty string: the field is there */
	if ((plain = plain_contains(value, vlen, f->k)) >= 0)
		return plain == 0;
	buf_reset(&c->value);
	buf_reset(&c->folded);
	mime_header_decode(value, vlen, &c->value);
	search_fold(c->value.data != NULL ? c->value.data : "", c->value.len, &c->folded);
	return c->folded.len > 0 &&
	    memmem(c->folded.data, c->folded.len, f->k->str, f->k->len) != NULL;
}

static size_t
message_header_len(const struct search_input *in)
{
	return mime_header_end(in->data, in->len);
}

/* The body's and the header's text as mime-text.c makes them for the
 * full-text index too: the index rules out only what this would not find. */
static const struct buf *
body_text(struct match_ctx *c)
{
	if (!c->body_done) {
		struct mime_part *root = mime_parse(c->in->data, c->in->len);

		mime_search_body(c->in->data, c->in->len, root, &c->body);
		mime_free(root);
		c->body_done = true;
	}
	return &c->body;
}

static const struct buf *
header_text(struct match_ctx *c)
{
	if (!c->header_done) {
		mime_search_header(c->in->data, c->in->len, &c->header);
		c->header_done = true;
	}
	return &c->header;
}

static bool
text_has(const struct buf *b, const struct search_key *k)
{
	if (k->len == 0)
		return true;
	return b->len > 0 && memmem(b->data, b->len, k->str, k->len) != NULL;
}

/* floor(a / b) for b > 0 */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && a < 0);
}

static int64_t
internal_day(const struct store_message *m)
{
	return floor_div(m->internaldate + (int64_t)m->tz_minutes * 60, 86400);
}

/*
 * The save date's day in UTC, the zone FETCH SAVEDATE shows it in; a
 * message stored before Cairn kept save dates has none, and RFC 8514 §4.3
 * has the internal date stand in where there are no save dates.
 */
static int64_t
saved_day(const struct store_message *m)
{
	return m->savedate != 0 ? floor_div(m->savedate, 86400) : internal_day(m);
}

static int
date_field_fn(const char *name, size_t nlen, const char *value, size_t vlen, void *arg)
{
	int64_t *day = arg;
	struct sentdate d;

	if (nlen != 4 || strncasecmp(name, "Date", 4) != 0)
		return 0;
	if (sentdate_parse(value, vlen, &d) != 0)
		return -1;
	/* SENT* compare the date as written, in the sender's zone */
	*day = d.day;
	return 1;
}

/* The Date: header's day; without a usable one, the internal date's. */
static int64_t
sent_day(struct match_ctx *c, const char *h, size_t len)
{
	if (!c->sent_done) {
		int64_t day = 0;

		if (search_header_walk(h, len, date_field_fn, &day) == 1)
			c->sent_day = day;
		else
			c->sent_day = internal_day(c->in->msg);
		c->sent_done = true;
	}
	return c->sent_day;
}

/*
 * Where to look for a header field: the whole message's header, or the
 * fields the store caches (store_header_field_cached); false when neither
 * is at hand and the caller must supply more (SEARCH_MAYBE).
 */
static bool
header_of(const struct match_ctx *c, const char *field, const char **h,
    size_t *len)
{
	if (c->in->data != NULL) {
		*h = c->in->data;
		*len = message_header_len(c->in);
		return true;
	}
	if (c->in->fields != NULL && store_header_field_cached(field)) {
		*h = c->in->fields;
		*len = c->in->fields_len;
		return true;
	}
	return false;
}

/* Is uid among the messages the full-text index left for k? */
static bool
maybe_has(const struct search_key *k, uint32_t uid)
{
	size_t lo = 0, hi = k->n_maybe;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (k->maybe[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < k->n_maybe && k->maybe[lo] == uid;
}

static enum search_match
yes_if(bool b)
{
	return b ? SEARCH_YES : SEARCH_NO;
}

static enum search_match
match_key(const struct search_key *k, struct match_ctx *c)
{
	const struct store_message *m = c->in->msg;
	enum search_match r, acc;
	struct header_find f;
	const char *h;
	size_t hlen;
	int64_t day;

	switch (k->type) {
	case SEARCH_KEY_ALL:
		return SEARCH_YES;
	case SEARCH_KEY_AND:
		acc = SEARCH_YES;
		for (const struct search_key *ch = k->child; ch != NULL; ch = ch->next) {
			if ((r = match_key(ch, c)) == SEARCH_NO)
				return SEARCH_NO;
			if (r == SEARCH_MAYBE)
				acc = SEARCH_MAYBE;
		}
		return acc;
	case SEARCH_KEY_OR:
		acc = SEARCH_NO;
		for (const struct search_key *ch = k->child; ch != NULL; ch = ch->next) {
			if ((r = match_key(ch, c)) == SEARCH_YES)
				return SEARCH_YES;
			if (r == SEARCH_MAYBE)
				acc = SEARCH_MAYBE;
		}
		return acc;
	case SEARCH_KEY_NOT:
		r = match_key(k->child, c);
		return r == SEARCH_MAYBE ? r : yes_if(r == SEARCH_NO);
	case SEARCH_KEY_SEQSET:
		return yes_if(seqset_contains(&k->set, c->in->msn));
	case SEARCH_KEY_UIDSET:
		return yes_if(seqset_contains(&k->set, m->uid));
	case SEARCH_KEY_SAVED:
		return yes_if(c->saved != NULL && seqset_contains(c->saved, m->uid));
	case SEARCH_KEY_FLAG:
		return yes_if((m->flags & k->flag) != 0);
	case SEARCH_KEY_KEYWORD:
		for (size_t i = 0; i < m->n_keywords; i++)
			if (strcasecmp(m->keywords[i], k->str) == 0)
				return SEARCH_YES;
		return SEARCH_NO;
	case SEARCH_KEY_RECENT:
		return yes_if(m->recent);
	case SEARCH_KEY_LARGER:
		return yes_if(m->size > k->num);
	case SEARCH_KEY_SMALLER:
		return yes_if(m->size < k->num);
	case SEARCH_KEY_BEFORE:
		return yes_if(internal_day(m) < k->day);
	case SEARCH_KEY_ON:
		return yes_if(internal_day(m) == k->day);
	case SEARCH_KEY_SINCE:
		return yes_if(internal_day(m) >= k->day);
	case SEARCH_KEY_SAVEDBEFORE:
		return yes_if(saved_day(m) < k->day);
	case SEARCH_KEY_SAVEDON:
		return yes_if(saved_day(m) == k->day);
	case SEARCH_KEY_SAVEDSINCE:
		return yes_if(saved_day(m) >= k->day);
	case SEARCH_KEY_MODSEQ:
		return yes_if(m->modseq >= k->num);
	/* RFC 5032: the time of interest is now minus the interval; OLDER is
	 * before it, YOUNGER at or after it, so NOT OLDER n is YOUNGER n. */
	case SEARCH_KEY_EMAILID:
		return yes_if(k->flag && m->email_id == k->num);
	case SEARCH_KEY_THREADID:
		/* the messages of the thread in this mailbox (RFC 8474 §6) */
		return yes_if(k->flag && m->thread_id == k->num);
	case SEARCH_KEY_OLDER:
		return yes_if(m->internaldate < c->now - (int64_t)k->num);
	case SEARCH_KEY_YOUNGER:
		return yes_if(m->internaldate >= c->now - (int64_t)k->num);
	default:
		break;
	}
	/* the rest needs the header or the whole message */
	switch (k->type) {
	case SEARCH_KEY_SENTBEFORE:
	case SEARCH_KEY_SENTON:
	case SEARCH_KEY_SENTSINCE:
		if (!header_of(c, "Date", &h, &hlen))
			return SEARCH_MAYBE;
		day = sent_day(c, h, hlen);
		return yes_if(k->type == SEARCH_KEY_SENTBEFORE ? day < k->day :
		    k->type == SEARCH_KEY_SENTON ? day == k->day : day >= k->day);
	case SEARCH_KEY_HEADER:
		if (!header_of(c, k->field, &h, &hlen))
			return SEARCH_MAYBE;
		f.c = c;
		f.k = k;
		return yes_if(search_header_walk(h, hlen, header_find_fn, &f) == 1);
	default:
		break;
	}
	/* BODY, TEXT: ruled out by the full-text index, the file is not read */
	if (k->narrowed && !maybe_has(k, m->uid))
		return SEARCH_NO;
	if (c->in->data == NULL)
		return SEARCH_MAYBE;
	switch (k->type) {
	case SEARCH_KEY_BODY:
		return yes_if(text_has(body_text(c), k));
	case SEARCH_KEY_TEXT:
		return yes_if(text_has(header_text(c), k) || text_has(body_text(c), k));
	default:
		return SEARCH_NO;
	}
}

bool
search_uses_fields(const struct search_program *p)
{
	for (const struct search_key *k = p->keys; k != NULL; k = k->all)
		if ((k->type == SEARCH_KEY_HEADER &&
		    store_header_field_cached(k->field)) ||
		    k->type == SEARCH_KEY_SENTBEFORE || k->type == SEARCH_KEY_SENTON ||
		    k->type == SEARCH_KEY_SENTSINCE)
			return true;
	return false;
}

enum search_match
search_match(const struct search_program *p, const struct search_input *in)
{
	struct match_ctx c = {
		.in = in, .saved = p->saved, .now = p->now, .value = BUF_INIT,
		.folded = BUF_INIT,
		.header = BUF_INIT, .body = BUF_INIT,
	};
	enum search_match r = match_key(p->root, &c);

	buf_free(&c.value);
	buf_free(&c.folded);
	buf_free(&c.header);
	buf_free(&c.body);
	return r;
}
