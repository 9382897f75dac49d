/*
 * The text SEARCH reads of a message (RFC 9051 §6.4.4): for TEXT the
 * header, each field as "name: value" with its encoded words decoded
 * (RFC 2047); for BODY and TEXT the body, its text parts with the
 * Content-Transfer-Encoding undone and the charset converted to UTF-8,
 * and the header and text of encapsulated messages.  Both case-folded, as
 * the substring match is case-insensitive.
 *
 * Two readers must see exactly this text: the matcher (imapd/search.c),
 * which decides, and the full-text index (store/fts.c), which may only
 * rule out messages whose text cannot contain a string.  Both call these
 * functions, so the index can never rule out a message the matcher would
 * find.  A change here changes what the index holds: it needs a schema
 * step that empties the index (store/schema.sql), so that every message is
 * indexed again with the new text.
 *
 * Markup in text/html is searched as it is, tags and all.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "mime-int.h"

/* ---- case folding ----------------------------------------------------- */

static uint32_t
fold_cp(uint32_t c)
{
	if (c >= 0xc0 && c <= 0xde && c != 0xd7)
		return c + 0x20;
	if ((c >= 0x100 && c <= 0x137) || (c >= 0x14a && c <= 0x177))
		return c | 1;
	if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17e))
		return (c & 1) ? c + 1 : c;
	if (c == 0x178)
		return 0xff;
	if (c >= 0x391 && c <= 0x3a9 && c != 0x3a2)
		return c + 0x20;
	if (c >= 0x410 && c <= 0x42f)
		return c + 0x20;
	if (c >= 0x400 && c <= 0x40f)
		return c + 0x50;
	return c;
}

/* Every mapping keeps the length: ASCII stays ASCII and two-byte
 * sequences (U+0080..U+07FF) map into the same range, so the folding
 * happens in place. */
int
mime_fold(const char *s, size_t len, struct buf *out)
{
	size_t start = out->len;
	unsigned char *p;

	if (buf_append(out, s, len) != 0)
		return -1;
	if (len == 0)
		return 0;
	p = (unsigned char *)out->data + start;
	for (size_t i = 0; i < len; i++) {
		if (p[i] < 0x80) {
			if (p[i] >= 'A' && p[i] <= 'Z')
				p[i] += 'a' - 'A';
		} else if ((p[i] & 0xe0) == 0xc0 && i + 1 < len &&
		    (p[i + 1] & 0xc0) == 0x80) {
			uint32_t c = ((uint32_t)(p[i] & 0x1f) << 6) | (p[i + 1] & 0x3f);
			uint32_t f = fold_cp(c);

			if (c >= 0x80 && f != c) {
				p[i] = (unsigned char)(0xc0 | (f >> 6));
				p[i + 1] = (unsigned char)(0x80 | (f & 0x3f));
			}
			i++;
		}
	}
	return 0;
}

/* ---- the header ------------------------------------------------------- */

int
mime_header_walk(const char *h, size_t len,
    int (*fn)(const char *, size_t, const char *, size_t, void *), void *arg)
{
	size_t i = 0;

	/* The empty line ends it: LF or CRLF.  A line that merely starts
	 * with a CR ("\r\r\n") does not, as for mime_parse(); stopping there
	 * hid the fields after it from SEARCH while the header cache, made
	 * by mime_parse(), had them (found by tests/fuzz/fuzz_search). */
	while (i < len && h[i] != '\n' &&
	    !(h[i] == '\r' && (i + 1 >= len || h[i + 1] == '\n'))) {
		size_t start = i, colon = 0, end;
		int r;

		/* the line and its continuation lines */
		for (;;) {
			while (i < len && h[i] != '\n') {
				if (h[i] == ':' && colon == 0)
					colon = i;
				i++;
			}
			if (i < len)
				i++;
			if (i >= len || (h[i] != ' ' && h[i] != '\t'))
				break;
		}
		if (colon == 0 || colon == start)
			continue;    /* not a field */
		end = i;
		while (end > colon + 1 && (h[end - 1] == '\n' || h[end - 1] == '\r'))
			end--;
		size_t v = colon + 1;
		while (v < end && (h[v] == ' ' || h[v] == '\t'))
			v++;
		size_t nl = colon;
		while (nl > start && (h[nl - 1] == ' ' || h[nl - 1] == '\t'))
			nl--;
		if ((r = fn(h + start, nl - start, h + v, end - v, arg)) != 0)
			return r;
	}
	return 0;
}

size_t
mime_header_end(const char *data, size_t len)
{
	/* the header ends at the first empty line */
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n')
			continue;
		if (i + 1 < len && data[i + 1] == '\n')
			return i + 2;
		if (i + 2 < len && data[i + 1] == '\r' && data[i + 2] == '\n')
			return i + 3;
	}
	return len;
}

struct text_walk {
	struct buf value;       /* scratch: one field, or one part */
	struct buf utf8;        /* scratch: one part in UTF-8 */
	struct buf *out;
};

/* Append "name: value\n", decoded and folded.  A name is raw bytes:
 * made valid UTF-8 like the values, so the text is UTF-8 throughout. */
static int
field_text(const char *name, size_t nlen, const char *value, size_t vlen,
    void *arg)
{
	struct text_walk *w = arg;

	buf_reset(&w->value);
	mime_utf8_append(&w->value, name, nlen);
	buf_append_str(&w->value, ": ");
	mime_header_decode(value, vlen, &w->value);
	buf_append_char(&w->value, '\n');
	if (w->value.overflow)
		w->out->overflow = true;
	return mime_fold(w->value.data, w->value.len, w->out) != 0 ? -1 : 0;
}

static void
walk_init(struct text_walk *w, struct buf *out)
{
	*w = (struct text_walk){ BUF_INIT, BUF_INIT, out };
	/* the scratch never needs to hold more than the result may */
	w->value.limit = out->limit;
	w->utf8.limit = out->limit;
}

static void
walk_free(struct text_walk *w)
{
	buf_free(&w->value);
	buf_free(&w->utf8);
}

int
mime_search_header(const char *data, size_t len, struct buf *out)
{
	struct text_walk w;

	walk_init(&w, out);
	mime_header_walk(data, mime_header_end(data, len), field_text, &w);
	walk_free(&w);
	return out->overflow ? -1 : 0;
}

/* ---- the body --------------------------------------------------------- */

static void
body_part(struct text_walk *w, const char *data, size_t len,
    const struct mime_part *part)
{
	if (w->out->overflow)
		return;
	if (part->kind == MIME_KIND_MULTIPART) {
		for (const struct mime_part *ch = part->children; ch != NULL; ch = ch->next)
			body_part(w, data, len, ch);
		return;
	}
	if (part->kind == MIME_KIND_MESSAGE && part->children != NULL) {
		const struct mime_part *m = part->children;

		/* the encapsulated message's header is text of this body too */
		mime_header_walk(data + m->header_start,
		    m->body_start - m->header_start, field_text, w);
		body_part(w, data, len, m);
		return;
	}
	if (part->type != NULL && strcasecmp(part->type, "text") != 0)
		return;     /* images, applications: not text */
	buf_reset(&w->value);
	if (mime_body_decode(data, len, part, &w->value) == MIME_DECODE_UNKNOWN_CTE) {
		buf_reset(&w->value);
		buf_append(&w->value, data + part->body_start,
		    part->body_end - part->body_start);
	}
	buf_reset(&w->utf8);
	mime_charset_to_utf8(mime_charset(part),
	    w->value.data != NULL ? w->value.data : "", w->value.len, &w->utf8);
	if (w->value.overflow || w->utf8.overflow)
		w->out->overflow = true;
	mime_fold(w->utf8.data != NULL ? w->utf8.data : "", w->utf8.len, w->out);
	buf_append_char(w->out, '\n');
}

int
mime_search_body(const char *data, size_t len, const struct mime_part *root,
    struct buf *out)
{
	struct text_walk w;

	walk_init(&w, out);
	body_part(&w, data, len, root);
	walk_free(&w);
	return out->overflow ? -1 : 0;
}
