/*
 * Base subject extraction, RFC 5256 §2.1, on the grammar of its §5:
 *
 *   subj-refwd   = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"
 *   subj-blob    = "[" *BLOBCHAR "]" *WSP
 *   subj-fwd-hdr = "[fwd:"          subj-fwd-trl = "]"
 *   subj-leader  = (*subj-blob subj-refwd) / WSP
 *   subj-trailer = "(fwd)" / WSP
 *
 * The text is worked on in place as a window [b, e) that only shrinks,
 * so every loop ends; literal strings of the grammar match in any case.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "basesubject.h"
#include "mime.h"

static int
upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* s[i..e) begins with lit (lower case ASCII), in any case? */
static bool
starts(const char *s, size_t i, size_t e, const char *lit)
{
	size_t n = strlen(lit);

	return e - i >= n && strncasecmp(s + i, lit, n) == 0;
}

/* A subj-blob at i: the index after it (and its *WSP), or 0 if none. */
static size_t
blob(const char *s, size_t i, size_t e)
{
	if (i >= e || s[i] != '[')
		return 0;
	for (i++; i < e && s[i] != ']'; i++)
		if (s[i] == '[')
			return 0;     /* BLOBCHAR excludes both brackets */
	if (i >= e)
		return 0;
	for (i++; i < e && s[i] == ' '; i++)
		;
	return i;
}

/* A subj-leader at i other than WSP, *subj-blob subj-refwd: the index
 * after it, or 0. */
static size_t
refwd_leader(const char *s, size_t i, size_t e)
{
	size_t j;

	while ((j = blob(s, i, e)) != 0)
		i = j;
	if (starts(s, i, e, "re"))
		i += 2;
	else if (starts(s, i, e, "fwd"))
		i += 3;
	else if (starts(s, i, e, "fw"))
		i += 2;
	else
		return 0;
	while (i < e && s[i] == ' ')
		i++;
	if ((j = blob(s, i, e)) != 0)
		i = j;
	return i < e && s[i] == ':' ? i + 1 : 0;
}

/* Step 2: the subj-trailers at the end, repeatedly. */
static size_t
strip_trailers(const char *s, size_t b, size_t e, bool *reply)
{
	for (;;) {
		if (e > b && s[e - 1] == ' ') {
			e--;
		} else if (e - b >= 5 && strncasecmp(s + e - 5, "(fwd)", 5) == 0) {
			e -= 5;
			*reply = true;
		} else {
			return e;
		}
	}
}

/* Steps 3 to 5: leaders, and blobs that leave a non-empty subj-base. */
static size_t
strip_leaders(const char *s, size_t b, size_t e, bool *reply)
{
	size_t j;

	for (;;) {
		if (b < e && s[b] == ' ') {
			b++;
		} else if ((j = refwd_leader(s, b, e)) != 0) {
			b = j;
			*reply = true;
		} else if ((j = blob(s, b, e)) != 0 && j < e) {
			/* §2.1 (4): the trailers are gone, and a blob ends with
			 * its blanks, so j < e leaves a subj-base */
			b = j;
		} else {
			return b;
		}
	}
}

int
basesubject(const char *s, size_t len, struct buf *out, bool *reply)
{
	struct buf norm = BUF_INIT;
	bool dummy, space = false;
	size_t b = 0, e;
	int rc;

	if (reply == NULL)
		reply = &dummy;
	*reply = false;
	/* step 1: tabs and line ends are space, runs of space one space */
	for (size_t i = 0; i < len; i++) {
		bool ws = s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n';

		if (!ws || !space)
			buf_append_char(&norm, ws ? ' ' : s[i]);
		space = ws;
	}
	if ((e = norm.len) == 0)
		return 0;
	for (;;) {
		e = strip_trailers(norm.data, b, e, reply);
		b = strip_leaders(norm.data, b, e, reply);
		/* step 6: "[fwd: subject]" is subject, from step 2 again */
		if (!starts(norm.data, b, e, "[fwd:") || norm.data[e - 1] != ']')
			break;
		b += 5;
		e--;
		*reply = true;
	}
	rc = norm.overflow ? -1 : buf_append(out, norm.data + b, e - b);
	buf_free(&norm);
	return rc;
}

int
basesubject_raw(const char *value, size_t len, struct buf *out, bool *reply)
{
	struct buf utf8 = BUF_INIT;
	int rc;

	if (mime_header_decode(value, len, &utf8) != 0) {
		buf_free(&utf8);
		return -1;
	}
	rc = basesubject(utf8.data != NULL ? utf8.data : "", utf8.len, out, reply);
	buf_free(&utf8);
	return rc;
}

int
basesubject_cmp(const char *a, const char *b)
{
	const unsigned char *x = (const unsigned char *)a;
	const unsigned char *y = (const unsigned char *)b;

	while (*x != '\0' && upper(*x) == upper(*y)) {
		x++;
		y++;
	}
	return upper(*x) - upper(*y);
}
