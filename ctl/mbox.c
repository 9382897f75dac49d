/*
 * The mbox reader (mbox.h).  Pieces: a line, or MBOX_PIECE_MAX - 1 bytes
 * of a longer one; only a piece that starts a line can be a separator,
 * an escaped "From " or a header field, and each of those fits in the
 * first piece of its line.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mbox.h"
#include "store.h"

#define TOKENS_MAX 24

static const char *const weekdays[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat",
};
static const char *const months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec",
};

struct token {
	const char *p;
	size_t len;
};

static int
index_of(const char *const *names, size_t n, const struct token *t)
{
	for (size_t i = 0; i < n; i++)
		if (t->len == 3 && strncasecmp(t->p, names[i], 3) == 0)
			return (int)i;
	return -1;
}

/* digits only, 1..max of them: the value; -1 */
static long
number(const struct token *t, size_t min, size_t max)
{
	long v = 0;

	if (t->len < min || t->len > max)
		return -1;
	for (size_t i = 0; i < t->len; i++) {
		if (!isdigit((unsigned char)t->p[i]))
			return -1;
		v = v * 10 + (t->p[i] - '0');
	}
	return v;
}

/* "hh:mm" or "hh:mm:ss" */
static bool
clock_time(const struct token *t, int *h, int *m, int *s)
{
	struct token part = { t->p, 0 };
	long v[3] = { 0, 0, 0 };
	size_t k = 0;

	for (size_t i = 0; i <= t->len; i++) {
		if (i == t->len || t->p[i] == ':') {
			if (k == 3 || (v[k] = number(&part, 1, 2)) < 0)
				return false;
			k++;
			part.p = t->p + i + 1;
			part.len = 0;
		} else {
			part.len++;
		}
	}
	if (k < 2 || v[0] > 23 || v[1] > 59 || v[2] > 60)
		return false;
	*h = (int)v[0];
	*m = (int)v[1];
	*s = (int)v[2];
	return true;
}

/* "+hhmm" / "-hhmm": minutes east of UTC */
static bool
zone(const struct token *t, int *tz)
{
	struct token digits = { t->p + 1, t->len - 1 };
	long v;

	if (t->len != 5 || (t->p[0] != '+' && t->p[0] != '-') ||
	    (v = number(&digits, 4, 4)) < 0 || v % 100 > 59)
		return false;
	*tz = (int)(v / 100 * 60 + v % 100) * (t->p[0] == '-' ? -1 : 1);
	return true;
}

bool
mbox_from_time(const char *line, size_t len, int64_t *t, int *tz)
{
	struct token tok[TOKENS_MAX];
	size_t n = 0, i = 0;

	if (len < 5 || memcmp(line, "From ", 5) != 0)
		return false;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	for (i = 5; i < len && n < TOKENS_MAX;) {
		while (i < len && (line[i] == ' ' || line[i] == '\t'))
			i++;
		if (i == len)
			break;
		tok[n].p = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t')
			i++;
		tok[n].len = (size_t)(line + i - tok[n].p);
		n++;
	}
	/* the sender (may be missing), then the asctime() date: look for
	 * its weekday */
	for (size_t k = 0; k + 4 < n; k++) {
		struct tm tm;
		int h, m, s, mon, zone_min = 0;
		long day, year;

		if (index_of(weekdays, 7, &tok[k]) < 0 ||
		    (mon = index_of(months, 12, &tok[k + 1])) < 0 ||
		    (day = number(&tok[k + 2], 1, 2)) < 1 || day > 31 ||
		    !clock_time(&tok[k + 3], &h, &m, &s) ||
		    (year = number(&tok[k + 4], 4, 4)) < 1970)
			continue;
		/* a zone may follow; anything else ("remote from ...") is
		 * ignored */
		if (k + 5 < n && !zone(&tok[k + 5], &zone_min))
			zone_min = 0;
		memset(&tm, 0, sizeof(tm));
		tm.tm_year = (int)year - 1900;
		tm.tm_mon = mon;
		tm.tm_mday = (int)day;
		tm.tm_hour = h;
		tm.tm_min = m;
		tm.tm_sec = s;
		*t = (int64_t)timegm(&tm) - (int64_t)zone_min * 60;
		*tz = zone_min;
		return true;
	}
	return false;
}

size_t
mbox_unescape(const char *line, size_t len)
{
	size_t i = 0;

	while (i < len && line[i] == '>')
		i++;
	if (i > 0 && len - i >= 5 && memcmp(line + i, "From ", 5) == 0)
		return 1;
	return 0;
}

/* ---- pieces ---- */

static bool
fill(struct mbox_reader *r)
{
	size_t n;

	if (r->start < r->end)
		return true;
	if (r->eof)
		return false;
	r->start = 0;
	n = fread(r->buf, 1, sizeof(r->buf), r->f);
	r->end = n;
	if (n == 0) {
		r->eof = true;
		if (ferror(r->f))
			r->error = true;
		return false;
	}
	return true;
}

/* The next piece into r->piece; false at the end of the file. */
static bool
next_piece(struct mbox_reader *r)
{
	r->piece_len = 0;
	r->piece_line_start = r->line_start;
	r->piece_line_end = false;
	while (r->piece_len < sizeof(r->piece) - 1 && fill(r)) {
		size_t room = sizeof(r->piece) - 1 - r->piece_len;
		size_t avail = r->end - r->start;
		const char *nl = memchr(r->buf + r->start, '\n',
		    avail < room ? avail : room);
		size_t take = nl != NULL ? (size_t)(nl - (r->buf + r->start)) + 1 :
		    (avail < room ? avail : room);

		memcpy(r->piece + r->piece_len, r->buf + r->start, take);
		r->piece_len += take;
		r->start += take;
		if (nl != NULL) {
			r->piece_line_end = true;
			break;
		}
	}
	r->offset += r->piece_len;
	r->line_start = r->piece_line_end;
	r->piece[r->piece_len] = '\0';
	return r->piece_len > 0;
}

static bool
is_separator(const struct mbox_reader *r, int64_t *t, int *tz)
{
	int64_t t0;
	int tz0;

	return r->piece_line_start && mbox_from_time(r->piece, r->piece_len,
	    t != NULL ? t : &t0, tz != NULL ? tz : &tz0);
}

bool
mbox_open(struct mbox_reader *r, FILE *f)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->line_start = true;
	if (!next_piece(r) || !is_separator(r, NULL, NULL))
		return false;
	r->have_peek = true;
	return true;
}

bool
mbox_next(struct mbox_reader *r, int64_t *internaldate, int *tz)
{
	const char *ignored;

	/* the rest of a message the caller did not read */
	while (r->in_message && mbox_read(r, &ignored) > 0)
		;
	if (!r->have_peek || !is_separator(r, internaldate, tz))
		return false;
	r->have_peek = false;
	r->in_message = true;
	r->in_header = true;
	r->dropping = false;
	r->blank_len = 0;
	r->flags = 0;
	r->kwbuf_len = 0;
	r->n_keywords = 0;
	/* a From line longer than a piece: the rest of it goes too */
	while (!r->piece_line_end && next_piece(r))
		;
	return true;
}

static bool
field_is(const char *line, size_t len, const char *name)
{
	size_t n = strlen(name);

	return len > n && strncasecmp(line, name, n) == 0 &&
	    (line[n] == ':' || line[n] == ' ' || line[n] == '\t');
}

static const char *
field_value(const char *line, size_t len)
{
	const char *colon = memchr(line, ':', len);

	return colon != NULL ? colon + 1 : line + len;
}

static void
take_status(struct mbox_reader *r, const char *v, bool x_status)
{
	for (; *v != '\0' && *v != '\n' && *v != '\r'; v++) {
		switch (*v) {
		case 'R': if (!x_status) r->flags |= STORE_FLAG_SEEN; break;
		case 'A': if (x_status) r->flags |= STORE_FLAG_ANSWERED; break;
		case 'F': if (x_status) r->flags |= STORE_FLAG_FLAGGED; break;
		case 'T': if (x_status) r->flags |= STORE_FLAG_DRAFT; break;
		case 'D': if (x_status) r->flags |= STORE_FLAG_DELETED; break;
		default: break;   /* O: old; only \Recent, which IMAP sets */
		}
	}
}

/* X-Keywords: words separated by spaces (and commas, as some write) */
static void
take_keywords(struct mbox_reader *r, const char *v)
{
	while (*v != '\0') {
		size_t len;

		while (*v == ' ' || *v == '\t' || *v == ',' || *v == '\r' ||
		    *v == '\n')
			v++;
		len = strcspn(v, " \t,\r\n");
		if (len == 0)
			break;
		if (len <= STORE_KEYWORD_MAX && r->n_keywords < MBOX_KEYWORDS_MAX &&
		    r->kwbuf_len + len + 1 <= sizeof(r->kwbuf)) {
			char *k = r->kwbuf + r->kwbuf_len;

			memcpy(k, v, len);
			k[len] = '\0';
			r->kwbuf_len += len + 1;
			r->keywords[r->n_keywords++] = k;
		}
		v += len;
	}
}

/* A header piece: false when it is to be left out of the message. */
static bool
header_piece(struct mbox_reader *r)
{
	static const char *const hidden[] = {
		"Content-Length", "X-UID", "X-IMAP", "X-IMAPbase",
	};
	const char *p = r->piece;
	size_t len = r->piece_len;

	if (!r->piece_line_start)
		return !r->dropping;
	if (len > 0 && (p[0] == ' ' || p[0] == '\t'))
		return !r->dropping;            /* a continuation line */
	r->dropping = false;
	if (field_is(p, len, "Status")) {
		take_status(r, field_value(p, len), false);
		r->dropping = true;
	} else if (field_is(p, len, "X-Status")) {
		take_status(r, field_value(p, len), true);
		r->dropping = true;
	} else if (field_is(p, len, "X-Keywords")) {
		take_keywords(r, field_value(p, len));
		r->dropping = true;
	} else {
		for (size_t i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++)
			if (field_is(p, len, hidden[i]))
				r->dropping = true;
	}
	return !r->dropping;
}

static bool
is_blank_line(const struct mbox_reader *r)
{
	return r->piece_line_start && r->piece_line_end &&
	    (r->piece_len == 1 || (r->piece_len == 2 && r->piece[0] == '\r'));
}

size_t
mbox_read(struct mbox_reader *r, const char **data)
{
	size_t drop;

	*data = "";
	if (!r->in_message)
		return 0;
	for (;;) {
		bool got = r->have_peek || next_piece(r);

		r->have_peek = false;
		if (!got || is_separator(r, NULL, NULL)) {
			/* the empty line before a separator is the format's */
			r->have_peek = got;
			r->in_message = false;
			r->blank_len = 0;
			return 0;
		}
		if (r->blank_len > 0) {
			/* the held empty line was the message's: it first */
			r->have_peek = true;
			*data = r->blank;
			drop = r->blank_len;
			r->blank_len = 0;
			return drop;
		}
		if (is_blank_line(r) && !r->in_header) {
			memcpy(r->blank, r->piece, r->piece_len);
			r->blank_len = r->piece_len;
			continue;
		}
		if (r->in_header) {
			if (is_blank_line(r)) {
				r->in_header = false;
				r->dropping = false;
				/* the header's end may also be the message's
				 * (no body): hold it like any empty line */
				memcpy(r->blank, r->piece, r->piece_len);
				r->blank_len = r->piece_len;
				continue;
			}
			if (!header_piece(r))
				continue;
		}
		drop = r->piece_line_start ? mbox_unescape(r->piece,
		    r->piece_len) : 0;
		*data = r->piece + drop;
		return r->piece_len - drop;
	}
}

void
mbox_state(struct mbox_reader *r, unsigned *flags,
    const char *const **keywords, size_t *n_keywords)
{
	*flags = r->flags;
	*keywords = r->keywords;
	*n_keywords = r->n_keywords;
}
