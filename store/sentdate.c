/*
 * RFC 5322 date-time, read leniently: words (runs of letters or of
 * digits) and single punctuation characters, with white space and
 * comments between them skipped.
 *
 *   date-time = [day-of-week ","] day month year hour ":" minute
 *               [":" second] zone
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "sentdate.h"

static const char *const month_names[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date. */
int64_t
sentdate_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t mp = (month + 9) % 12;
	int64_t doy = (153 * mp + 2) / 5 + day - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

	return era * 146097 + doe - 719468;
}

static bool
leap_year(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

unsigned
sentdate_month_days(int64_t year, unsigned month)
{
	static const unsigned char days[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	return month == 2 && leap_year(year) ? 29 : days[month - 1];
}

unsigned
sentdate_parse_month(const char *s)
{
	for (unsigned i = 0; i < 12; i++)
		if (strncasecmp(s, month_names[i], 3) == 0)
			return i + 1;
	return 0;
}

enum tok { TOK_END, TOK_NUM, TOK_ALPHA, TOK_PUNCT };

struct lex {
	const char *s;
	size_t len, i;
	const char *tok;     /* the token's text */
	size_t n;
};

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* CFWS: blanks, line ends and (nested) comments with quoted pairs. */
static void
skip_cfws(struct lex *lx)
{
	unsigned depth = 0;

	while (lx->i < lx->len) {
		char c = lx->s[lx->i];

		if (c == '(') {
			depth++;
		} else if (c == ')' && depth > 0) {
			depth--;
		} else if (c == '\\' && depth > 0 && lx->i + 1 < lx->len) {
			lx->i++;
		} else if (depth == 0 && c != ' ' && c != '\t' && c != '\r' &&
		    c != '\n') {
			return;
		}
		lx->i++;
	}
}

static enum tok
next(struct lex *lx)
{
	size_t start;

	skip_cfws(lx);
	start = lx->i;
	lx->tok = lx->s + start;
	if (lx->i >= lx->len) {
		lx->n = 0;
		return TOK_END;
	}
	if (is_digit(lx->s[lx->i])) {
		while (lx->i < lx->len && is_digit(lx->s[lx->i]))
			lx->i++;
		lx->n = lx->i - start;
		return TOK_NUM;
	}
	if (is_alpha(lx->s[lx->i])) {
		while (lx->i < lx->len && is_alpha(lx->s[lx->i]))
			lx->i++;
		lx->n = lx->i - start;
		return TOK_ALPHA;
	}
	lx->i++;
	lx->n = 1;
	return TOK_PUNCT;
}

/* The number token (at most 4 digits, checked by the callers) */
static int
num(const struct lex *lx)
{
	int v = 0;

	for (size_t i = 0; i < lx->n; i++)
		v = v * 10 + (lx->tok[i] - '0');
	return v;
}

/* day month year, a weekday (any words) and punctuation before the day;
 * the month right after the day and the year right after the month. */
static int
parse_date(struct lex *lx, struct sentdate *out)
{
	int day = -1, year;
	unsigned month = 0;
	enum tok t;
	size_t ydigits;

	for (;;) {
		t = next(lx);
		if (t == TOK_END || (t == TOK_NUM && lx->n > 4))
			return -1;
		if (t == TOK_NUM && day < 0) {
			day = num(lx);
		} else if (t == TOK_NUM) {
			if (month == 0)
				return -1;
			break;
		} else if (t == TOK_ALPHA && day >= 0) {
			if (month != 0 || lx->n < 3 ||
			    (month = sentdate_parse_month(lx->tok)) == 0)
				return -1;
		}
		/* else: the weekday, or punctuation */
	}
	year = num(lx);
	ydigits = lx->n;
	/* RFC 5322 §4.3: two-digit years from 1950, three-digit ones + 1900 */
	if (ydigits == 2 && year < 50)
		year += 2000;
	else if (ydigits <= 3)
		year += 1900;
	if (day < 1 || (unsigned)day > sentdate_month_days(year, month))
		return -1;
	out->day = sentdate_days_from_civil(year, month, (unsigned)day);
	return 0;
}

/* hour ":" minute [":" second]; lx is left on the token after it. */
static bool
parse_time(struct lex *lx, struct sentdate *out)
{
	int v[3] = { 0, 0, 0 }, n = 0;
	enum tok t = next(lx);

	for (;;) {
		if (t != TOK_NUM || lx->n > 2)
			return false;
		v[n++] = num(lx);
		t = next(lx);
		if (n == 3 || t != TOK_PUNCT || lx->tok[0] != ':')
			break;
		t = next(lx);
	}
	/* 60 seconds: a leap second */
	if (n < 2 || v[0] > 23 || v[1] > 59 || v[2] > 60)
		return false;
	out->secs = v[0] * 3600 + v[1] * 60 + v[2];
	return true;
}

/* RFC 5322 §4.3 obs-zone names; military letters count as UTC. */
static bool
zone_name(const char *s, size_t n, int *minutes)
{
	static const struct {
		const char *name;
		int hours;
	} names[] = {
		{ "UT", 0 }, { "GMT", 0 }, { "EST", -5 }, { "EDT", -4 },
		{ "CST", -6 }, { "CDT", -5 }, { "MST", -7 }, { "MDT", -6 },
		{ "PST", -8 }, { "PDT", -7 },
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i].name) == n && strncasecmp(s, names[i].name, n) == 0) {
			*minutes = names[i].hours * 60;
			return true;
		}
	}
	if (n == 1 && is_alpha(s[0]) && s[0] != 'j' && s[0] != 'J') {
		*minutes = 0;
		return true;
	}
	return false;
}

/* The zone after the time: the current token of lx. */
static void
parse_zone(struct lex *lx, struct sentdate *out)
{
	if (lx->n == 1 && (lx->tok[0] == '+' || lx->tok[0] == '-')) {
		int sign = lx->tok[0] == '-' ? -1 : 1;

		if (next(lx) != TOK_NUM || lx->n != 4 || num(lx) % 100 > 59)
			return;
		out->zone_minutes = sign * (num(lx) / 100 * 60 + num(lx) % 100);
		out->zone_ok = true;
	} else if (lx->n > 0 && is_alpha(lx->tok[0])) {
		out->zone_ok = zone_name(lx->tok, lx->n, &out->zone_minutes);
	}
}

int
sentdate_parse(const char *s, size_t len, struct sentdate *out)
{
	struct lex lx = { s, len, 0, s, 0 };

	memset(out, 0, sizeof(*out));
	if (parse_date(&lx, out) != 0)
		return -1;
	/* the lexer now stands after the year */
	if (!parse_time(&lx, out)) {
		out->secs = 0;
		return 0;
	}
	out->time_ok = true;
	parse_zone(&lx, out);
	if (!out->zone_ok)
		out->zone_minutes = 0;
	return 0;
}

int64_t
sentdate_utc(const struct sentdate *d)
{
	return d->day * 86400 + d->secs - (int64_t)d->zone_minutes * 60;
}
