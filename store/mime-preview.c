/*
 * PREVIEW (RFC 8970): a short plain-text extract of a message for a
 * client's message list.  RFC 8970 §3 leaves the algorithm to the server
 * and asks only for plain UTF-8 text of at most 256 characters, without
 * markup; this is what Cairn makes of it:
 *
 *   1. the first text/plain part that is not an attachment, depth first
 *      (the first alternative of most messages); else the first text/html
 *      one; else nothing ("": the message has no text to show);
 *      encapsulated messages (message/rfc822) are attachments: not entered;
 *   2. at most PREVIEW_WINDOW bytes of its body, Content-Transfer-Encoding
 *      undone and the charset converted to UTF-8 (mime_charset_to_utf8:
 *      invalid bytes become U+FFFD, so the text is valid UTF-8);
 *   3. HTML: tags and comments dropped, the contents of <head>, <script>
 *      and <style> too, the common entities decoded;
 *   4. every run of white space, and every control character, becomes one
 *      space; leading and trailing spaces go;
 *   5. cut after MIME_PREVIEW_CHARS characters (never inside one).
 *
 * Bounded: one window of the body is decoded, whatever the message size.
 */
#include "autoconfig.h"

#include <string.h>

#include "mime-int.h"

/* Encoded bytes of the part read: 200 characters of text come well
 * before this even behind a long HTML <head>. */
#define PREVIEW_WINDOW (64 * 1024)
/* Longest entity recognised, "&" and ";" excluded: "&#x10FFFF;". */
#define ENTITY_MAX 8

/* ---- choosing the part ------------------------------------------------ */

static bool
is_attachment(const struct mime_part *p)
{
	return p->disposition != NULL && mime_eq(p->disposition, "attachment");
}

/* The first leaf text/<subtype> below p that is not an attachment. */
static const struct mime_part *
find_text(const struct mime_part *p, const char *subtype)
{
	const struct mime_part *found;

	if (p->kind == MIME_KIND_MULTIPART) {
		for (const struct mime_part *c = p->children; c != NULL; c = c->next)
			if ((found = find_text(c, subtype)) != NULL)
				return found;
		return NULL;
	}
	if (p->kind != MIME_KIND_LEAF || p->opaque || is_attachment(p) ||
	    p->type == NULL || p->subtype == NULL)
		return NULL;
	return mime_eq(p->type, "text") && mime_eq(p->subtype, subtype) ? p : NULL;
}

/* ---- HTML to text ---------------------------------------------------- */

static bool
ascii_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* UTF-8 of a code point; what is not a character becomes a space. */
static void
put_utf8(struct buf *out, unsigned long cp)
{
	char u[4];

	if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff)) {
		buf_append_char(out, ' ');
	} else if (cp < 0x80) {
		buf_append_char(out, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, u, 2);
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, u, 3);
	} else {
		u[0] = (char)(0xf0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, u, 4);
	}
}

static const struct {
	const char *name;
	unsigned long cp;
} entities[] = {
	{ "amp", '&' }, { "lt", '<' }, { "gt", '>' }, { "quot", '"' },
	{ "apos", '\'' }, { "nbsp", ' ' }, { "copy", 0xa9 }, { "reg", 0xae },
	{ "hellip", 0x2026 }, { "mdash", 0x2014 }, { "ndash", 0x2013 },
	{ "lsquo", 0x2018 }, { "rsquo", 0x2019 }, { "ldquo", 0x201c },
	{ "rdquo", 0x201d }, { "euro", 0x20ac }, { "zwnj", ' ' },
};

/* "&...;" at s[0..n): its code point and length, or 0 (not one we know:
 * the '&' stays as it is). */
static size_t
entity(const char *s, size_t n, unsigned long *cp)
{
	size_t i = 1, start;
	unsigned long v = 0;
	bool hex = false;

	if (n > 1 && s[1] == '#') {
		i = 2;
		if (i < n && (s[i] == 'x' || s[i] == 'X')) {
			hex = true;
			i++;
		}
		start = i;
		for (; i < n && i - start < ENTITY_MAX; i++) {
			int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0' :
			    hex && s[i] >= 'a' && s[i] <= 'f' ? s[i] - 'a' + 10 :
			    hex && s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 10 : -1;

			if (d < 0)
				break;
			v = v * (hex ? 16 : 10) + (unsigned long)d;
		}
		if (i == start || i >= n || s[i] != ';')
			return 0;
		*cp = v;
		return i + 1;
	}
	for (start = i; i < n && i - start <= ENTITY_MAX && ascii_alnum(s[i]); i++)
		;
	if (i == start || i >= n || s[i] != ';')
		return 0;
	for (size_t k = 0; k < sizeof(entities) / sizeof(entities[0]); k++)
		if (strlen(entities[k].name) == i - start &&
		    strncmp(entities[k].name, s + start, i - start) == 0) {
			*cp = entities[k].cp;
			return i + 1;
		}
	return 0;
}

/* Tags inside a word: dropping them must not split it ("<b>b</b>old"). */
static bool
inline_tag(const char *name, size_t n)
{
	static const char *const tags[] = {
		"a", "abbr", "b", "big", "code", "em", "font", "i", "mark", "s",
		"small", "span", "strike", "strong", "sub", "sup", "u",
	};

	for (size_t k = 0; k < sizeof(tags) / sizeof(tags[0]); k++)
		if (mime_eqn(name, n, tags[k]))
			return true;
	return false;
}

/* An element whose content is no text to show: its name, else NULL. */
static const char *
hidden_element(const char *name, size_t n)
{
	static const char *const hidden[] = { "head", "script", "style", "title" };

	for (size_t k = 0; k < sizeof(hidden) / sizeof(hidden[0]); k++)
		if (mime_eqn(name, n, hidden[k]))
			return hidden[k];
	return NULL;
}

/* The end of the tag starting at s[i] == '<' (after its '>'), quotes
 * in attribute values respected. */
static size_t
tag_end(const char *s, size_t n, size_t i)
{
	char quote = 0;

	for (i++; i < n; i++) {
		if (quote != 0) {
			if (s[i] == quote)
				quote = 0;
		} else if (s[i] == '"' || s[i] == '\'') {
			quote = s[i];
		} else if (s[i] == '>') {
			return i + 1;
		}
	}
	return n;
}

/* After "<name ...>" of a hidden element: past its "</name>", or the end. */
static size_t
skip_element(const char *s, size_t n, size_t i, const char *name)
{
	size_t nlen = strlen(name);

	for (; i + 2 + nlen <= n; i++)
		if (s[i] == '<' && s[i + 1] == '/' &&
		    mime_eqn(s + i + 2, nlen, name) &&
		    (i + 2 + nlen == n || !ascii_alnum(s[i + 2 + nlen])))
			return tag_end(s, n, i);
	return n;
}

/*
 * At s[i] == '<': a tag, a comment or a declaration is dropped (a hidden
 * element with its content), leaving a space unless the tag is one inside
 * a word; a '<' that starts none of them is text.  Returns where the text
 * goes on.
 */
static size_t
html_markup(const char *s, size_t n, size_t i, struct buf *out)
{
	size_t name = i + 1, nlen = 0;
	const char *hidden = NULL, *end;
	bool closing = false;

	if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
		end = memmem(s + i + 4, n - i - 4, "-->", 3);
		buf_append_char(out, ' ');
		return end != NULL ? (size_t)(end - s) + 3 : n;
	}
	if (name < n && s[name] == '/') {
		closing = true;
		name++;
	}
	while (name + nlen < n && ascii_alnum(s[name + nlen]))
		nlen++;
	if (nlen == 0 && !closing && (name >= n ||
	    (s[name] != '!' && s[name] != '?'))) {
		buf_append_char(out, '<');    /* "a < b" */
		return i + 1;
	}
	if (!closing)
		hidden = hidden_element(s + name, nlen);
	i = tag_end(s, n, i);
	if (hidden != NULL)
		i = skip_element(s, n, i, hidden);
	if (!inline_tag(s + name, nlen))
		buf_append_char(out, ' ');
	return i;
}

/* The text of HTML s[0..n) (valid UTF-8) into out. */
static void
html_text(const char *s, size_t n, struct buf *out)
{
	unsigned long cp;
	size_t i = 0, len;

	while (i < n) {
		if (s[i] == '<') {
			i = html_markup(s, n, i, out);
		} else if (s[i] == '&' && (len = entity(s + i, n - i, &cp)) > 0) {
			put_utf8(out, cp);
			i += len;
		} else {
			buf_append_char(out, s[i++]);
		}
	}
}

/* ---- white space and the cut ----------------------------------------- */

/* Bytes of the UTF-8 sequence led by c (s is valid UTF-8). */
static size_t
seq_len(unsigned char c)
{
	return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* A blank for the preview: white space, a control, NBSP, a C1 control. */
static bool
blank(const unsigned char *s, size_t len)
{
	if (len == 1)
		return s[0] <= 0x20 || s[0] == 0x7f;
	return len == 2 && s[0] == 0xc2 && s[1] <= 0xa0;
}

/* text (valid UTF-8) collapsed and cut into out. */
static void
collapse(const char *text, size_t n, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)text;
	size_t chars = 0, i = 0;
	bool space = false;

	while (i < n && chars < MIME_PREVIEW_CHARS) {
		size_t len = seq_len(s[i]);

		if (len > n - i)
			break;
		if (blank(s + i, len)) {
			space = true;
		} else {
			/* a space only between two characters that fit */
			if (space && chars > 0) {
				if (chars + 1 >= MIME_PREVIEW_CHARS)
					break;
				buf_append_char(out, ' ');
				chars++;
			}
			space = false;
			buf_append(out, text + i, len);
			chars++;
		}
		i += len;
	}
}

int
mime_preview(const char *data, size_t len, const struct mime_part *root,
    struct buf *out)
{
	const struct mime_part *part = find_text(root, "plain");
	struct buf raw = BUF_INIT, utf8 = BUF_INIT, html = BUF_INIT;
	struct mime_part window;
	bool is_html = false;

	if (part == NULL) {
		part = find_text(root, "html");
		is_html = part != NULL;
	}
	if (part == NULL)
		return out->overflow ? -1 : 0;
	window = *part;
	if (window.body_end > window.body_start &&
	    window.body_end - window.body_start > PREVIEW_WINDOW)
		window.body_end = window.body_start + PREVIEW_WINDOW;
	/* An encoding we cannot undo gives no text worth showing. */
	if (mime_body_decode(data, len, &window, &raw) == 0 &&
	    mime_charset_to_utf8(mime_charset(part), raw.data, raw.len, &utf8) == 0) {
		if (is_html) {
			html_text(utf8.data != NULL ? utf8.data : "", utf8.len, &html);
			collapse(html.data, html.len, out);
		} else {
			collapse(utf8.data, utf8.len, out);
		}
	}
	buf_free(&raw);
	buf_free(&utf8);
	buf_free(&html);
	return out->overflow ? -1 : 0;
}
