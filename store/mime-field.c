/*
 * Header fields (RFC 5322 §2.2): finding them, unfolding them, selecting
 * them (HEADER.FIELDS), and the lexer that reads structured values in
 * place, folding and all, so that nothing is copied but what a part keeps.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "mime-int.h"
#include "xmalloc.h"

char *
mime_strndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	if (n > 0)
		memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* ASCII only: case rules must not depend on the locale. */
bool
mime_eqn(const char *a, size_t n, const char *b)
{
	for (size_t i = 0; i < n; i++)
		if (b[i] == '\0' ||
		    lower((unsigned char)a[i]) != lower((unsigned char)b[i]))
			return false;
	return b[n] == '\0';
}

bool
mime_eq(const char *a, const char *b)
{
	return mime_eqn(a, strlen(a), b);
}

int
mime_append_capped(struct buf *out, const char *s, size_t n, size_t limit)
{
	if (out->len >= limit)
		return 0;
	if (n > limit - out->len)
		n = limit - out->len;
	return buf_append(out, s, n);
}

/* --- fields ------------------------------------------------------------- */

void
mime_field_iter_init(struct mime_field_iter *it, const char *d, size_t dlen,
    const struct mime_part *part)
{
	it->d = d;
	it->end = part->body_start < dlen ? part->body_start : dlen;
	it->pos = part->header_start < it->end ? part->header_start : it->end;
}

/* Offset of the LF ending the line at p, or end. */
static size_t
line_end(const char *d, size_t p, size_t end)
{
	const char *nl = memchr(d + p, '\n', end - p);

	return nl != NULL ? (size_t)(nl - d) : end;
}

/* RFC 5322 §3.6.8 ftext, then the blanks §4.5 allows before the colon. */
static bool
field_name(const char *d, size_t p, size_t eol, struct mime_field *f)
{
	size_t i = p;

	while (i < eol && d[i] > ' ' && d[i] < 127 && d[i] != ':')
		i++;
	f->name_end = i;
	while (i < eol && (d[i] == ' ' || d[i] == '\t'))
		i++;
	if (f->name_end == p || i >= eol || d[i] != ':')
		return false;
	f->value = i + 1;
	return true;
}

bool
mime_field_next(struct mime_field_iter *it, struct mime_field *f)
{
	const char *d = it->d;
	size_t p = it->pos, eol;

	if (p >= it->end || d[p] == '\n' ||
	    (d[p] == '\r' && p + 1 < it->end && d[p + 1] == '\n')) {
		it->pos = it->end;
		return false;
	}
	f->start = p;
	eol = line_end(d, p, it->end);
	f->named = field_name(d, p, eol, f);
	/* Lines that start with a blank continue the field (§2.2.3). */
	while (eol + 1 < it->end && (d[eol + 1] == ' ' || d[eol + 1] == '\t'))
		eol = line_end(d, eol + 1, it->end);
	if (eol < it->end) {
		f->next = eol + 1;
		f->end = eol > p && d[eol - 1] == '\r' ? eol - 1 : eol;
	} else {
		f->next = f->end = it->end;
	}
	if (!f->named)
		f->name_end = f->value = f->end;
	it->pos = f->next;
	return true;
}

bool
mime_field_is(const char *d, const struct mime_field *f, const char *name)
{
	return f->named && mime_eqn(d + f->start, f->name_end - f->start, name);
}

int
mime_unfold(const char *p, const char *end, struct buf *out)
{
	size_t limit = out->len + MIME_MAX_STRING;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (p < end && out->len < limit) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl != NULL ? nl : end;

		if (nl != NULL && stop > p && stop[-1] == '\r')
			stop--;
		if (mime_append_capped(out, p, (size_t)(stop - p), limit) != 0)
			return -1;
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

char *
mime_unfold_dup(const char *p, const char *end)
{
	struct buf b = BUF_INIT;

	mime_unfold(p, end, &b);
	return buf_steal(&b, NULL);
}

int
mime_header_raw(const char *data, size_t len, const struct mime_part *part,
    const char *field, struct buf *out)
{
	struct mime_field_iter it;
	struct mime_field f;

	mime_field_iter_init(&it, data, len, part);
	while (mime_field_next(&it, &f))
		if (mime_field_is(data, &f, field))
			return mime_unfold(data + f.value, data + f.end, out);
	return 1;
}

int
mime_header_span(const char *data, size_t len, const struct mime_part *part,
    const char *field, const char **value, size_t *vlen)
{
	struct mime_field_iter it;
	struct mime_field f;

	mime_field_iter_init(&it, data, len, part);
	while (mime_field_next(&it, &f))
		if (mime_field_is(data, &f, field)) {
			*value = data + f.value;
			*vlen = f.end - f.value;
			return 0;
		}
	return 1;
}

static bool
name_listed(const char *d, const struct mime_field *f,
    const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mime_field_is(d, f, names[i]))
			return true;
	return false;
}

int
mime_header_fields(const char *data, size_t len, const struct mime_part *part,
    const char *const *names, size_t n, bool not, struct buf *out)
{
	struct mime_field_iter it;
	struct mime_field f;

	mime_field_iter_init(&it, data, len, part);
	while (mime_field_next(&it, &f)) {
		if (name_listed(data, &f, names, n) == not)
			continue;
		if (f.next > f.end) {
			if (buf_append(out, data + f.start, f.next - f.start) != 0)
				return -1;
		} else if (buf_append(out, data + f.start, f.end - f.start) != 0 ||
		    buf_append(out, "\r\n", 2) != 0) {
			return -1;   /* a field cut by a boundary or the end */
		}
	}
	return buf_append(out, "\r\n", 2);
}

/* --- lexing structured values ----------------------------------------- */

bool
mime_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 5322 §3.2.2: comments nest and may hold quoted pairs. */
static void
lex_comment(struct mime_lex *lx, struct buf *text)
{
	size_t depth = 1, limit;

	if (text != NULL)
		buf_reset(text);
	limit = MIME_MAX_STRING;
	lx->p++;
	while (lx->p < lx->end) {
		char c = *lx->p++;

		if (c == '\\' && lx->p < lx->end) {
			c = *lx->p++;
		} else if (c == '(') {
			depth++;
		} else if (c == ')' && --depth == 0) {
			return;
		}
		if (c != '\r' && c != '\n' && text != NULL)
			mime_append_capped(text, &c, 1, limit);
	}
}

void
mime_lex_cfws(struct mime_lex *lx, struct buf *comment)
{
	while (lx->p < lx->end) {
		if (mime_is_space(*lx->p))
			lx->p++;
		else if (*lx->p == '(')
			lex_comment(lx, comment);
		else
			break;
	}
}

void
mime_lex_quoted(struct mime_lex *lx, struct buf *out)
{
	size_t limit = out != NULL ? out->len + MIME_MAX_STRING : 0;
	const char *run = ++lx->p;

	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c != '"' && c != '\\' && c != '\r' && c != '\n') {
			lx->p++;
			continue;
		}
		if (out != NULL)
			mime_append_capped(out, run, (size_t)(lx->p - run), limit);
		lx->p++;
		if (c == '"')
			return;
		/* A quoted pair keeps its character; a line end is folding. */
		run = lx->p;
		if (c == '\\' && lx->p < lx->end) {
			if (*lx->p == '\r' || *lx->p == '\n')
				run++;
			lx->p++;
		}
	}
	if (out != NULL)
		mime_append_capped(out, run, (size_t)(lx->p - run), limit);
}

/* RFC 2045 §5.1 token; bytes over 127 are let through. */
static bool
token_char(char c)
{
	return (unsigned char)c > ' ' && c != 127 &&
	    strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

bool
mime_lex_token(struct mime_lex *lx, const char **s, size_t *n)
{
	const char *b = lx->p;

	while (lx->p < lx->end && token_char(*lx->p))
		lx->p++;
	*s = b;
	*n = (size_t)(lx->p - b);
	if (*n > MIME_MAX_STRING)
		*n = MIME_MAX_STRING;
	return *n > 0;
}
