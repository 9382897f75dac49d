/*
 * Decoding: charsets to UTF-8, RFC 2047 encoded words, RFC 2231 %XX, and
 * bodies out of base64 and quoted-printable (RFC 2045 §6).
 *
 * Decoders are lenient like those of mature mail software: what cannot be
 * decoded is kept or replaced, never refused.  The only failure is an
 * unknown Content-Transfer-Encoding, which RFC 3516 makes the client's
 * problem ([UNKNOWN-CTE]).
 */
#include "autoconfig.h"

#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <string.h>

#include "mime-int.h"

/* Windows-1252 0x80-0x9F; 0 where the code page leaves a hole. */
static const uint16_t cp1252_c1[32] = {
	0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
	0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0,
	0, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
	0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
};

enum charset {
	CS_UTF8,      /* also US-ASCII: 8-bit bytes in it are read as UTF-8 */
	CS_LATIN1,
	CS_CP1252,
	CS_LATIN9,
	CS_OTHER,
};

static const struct {
	const char *name;
	enum charset cs;
} charset_names[] = {
	{ "utf-8", CS_UTF8 }, { "utf8", CS_UTF8 }, { "us-ascii", CS_UTF8 },
	{ "ascii", CS_UTF8 }, { "ansi_x3.4-1968", CS_UTF8 },
	{ "iso-8859-1", CS_LATIN1 }, { "iso8859-1", CS_LATIN1 },
	{ "iso_8859-1", CS_LATIN1 }, { "latin1", CS_LATIN1 },
	{ "l1", CS_LATIN1 }, { "cp819", CS_LATIN1 },
	{ "windows-1252", CS_CP1252 }, { "cp1252", CS_CP1252 },
	{ "x-cp1252", CS_CP1252 },
	{ "iso-8859-15", CS_LATIN9 }, { "iso8859-15", CS_LATIN9 },
	{ "iso_8859-15", CS_LATIN9 }, { "latin9", CS_LATIN9 },
	{ "latin-9", CS_LATIN9 },
};

static enum charset
charset_lookup(const char *name)
{
	if (name == NULL || name[0] == '\0')
		return CS_UTF8;
	for (size_t i = 0; i < sizeof(charset_names) / sizeof(charset_names[0]); i++)
		if (mime_eq(name, charset_names[i].name))
			return charset_names[i].cs;
	return CS_OTHER;
}

/* --- UTF-8 ------------------------------------------------------------ */

static bool
cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t
mime_utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return c != 0;
	if (c >= 0xc2 && c <= 0xdf)
		return n >= 2 && cont(s[1]) ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if (n < 3 || !cont(s[1]) || !cont(s[2]) ||
		    (c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f))
			return 0;   /* overlong, or a surrogate */
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if (n < 4 || !cont(s[1]) || !cont(s[2]) || !cont(s[3]) ||
		    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

static void
put_cp(struct buf *out, unsigned cp)
{
	char u[3];

	if (cp == 0)
		cp = 0xfffd;
	if (cp < 0x80) {
		buf_append_char(out, (char)cp);
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, u, 2);
	} else {
		u[0] = (char)(0xe0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		buf_append(out, u, 3);
	}
}

void
mime_utf8_append(struct buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, run = 0;

	if (n == 0)
		return;   /* s may be NULL (an empty buf) */
	while (i < n) {
		size_t l = mime_utf8_seq(u + i, n - i);

		if (l > 0) {
			i += l;
			continue;
		}
		buf_append(out, s + run, i - run);
		put_cp(out, 0xfffd);
		run = ++i;
	}
	buf_append(out, s + run, n - run);
}

/* --- charsets --------------------------------------------------------- */

static unsigned
single_byte(enum charset cs, unsigned char c)
{
	if (c < 0x80)
		return c;
	if (cs == CS_CP1252 && c < 0xa0)
		return cp1252_c1[c - 0x80] != 0 ? cp1252_c1[c - 0x80] : 0xfffd;
	if (cs == CS_LATIN9) {
		switch (c) {
		case 0xa4: return 0x20ac;
		case 0xa6: return 0x0160;
		case 0xa8: return 0x0161;
		case 0xb4: return 0x017d;
		case 0xb8: return 0x017e;
		case 0xbc: return 0x0152;
		case 0xbd: return 0x0153;
		case 0xbe: return 0x0178;
		}
	}
	return c;   /* ISO-8859-1 is the first 256 code points */
}

/* Charset names go to iconv_open(): keep them to what names are made of
 * (no "//" suffixes). */
static bool
charset_name_ok(const char *cs)
{
	size_t n = strlen(cs);

	if (n == 0 || n > 40)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = cs[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-_.:+", c) != NULL))
			return false;
	}
	return true;
}

/* iconv(3) when the charset is known to it; in the chroot its modules
 * are missing and the bytes are kept. */
static void
via_iconv(const char *charset, const char *in, size_t len, struct buf *out)
{
	iconv_t cd = charset_name_ok(charset) ?
	    iconv_open("UTF-8", charset) : (iconv_t)-1;
	char tmp[1024], *ip = (char *)in, *op;
	size_t il = len, ol;

	if (cd == (iconv_t)-1) {
		mime_utf8_append(out, in, len);
		return;
	}
	while (il > 0) {
		size_t r;

		op = tmp;
		ol = sizeof(tmp);
		r = iconv(cd, &ip, &il, &op, &ol);
		mime_utf8_append(out, tmp, (size_t)(op - tmp));
		if (r == (size_t)-1 && errno != E2BIG) {
			/* EILSEQ, EINVAL: skip one byte and start afresh. */
			put_cp(out, 0xfffd);
			ip++;
			il--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	op = tmp;
	ol = sizeof(tmp);
	iconv(cd, NULL, NULL, &op, &ol);
	mime_utf8_append(out, tmp, (size_t)(op - tmp));
	iconv_close(cd);
}

int
mime_charset_to_utf8(const char *charset, const char *in, size_t len,
    struct buf *out)
{
	enum charset cs = charset_lookup(charset);

	if (len == 0)
		return out->overflow ? -1 : 0;
	if (cs == CS_UTF8) {
		mime_utf8_append(out, in, len);
	} else if (cs == CS_OTHER) {
		via_iconv(charset, in, len, out);
	} else {
		for (size_t i = 0; i < len; i++)
			put_cp(out, single_byte(cs, (unsigned char)in[i]));
	}
	return out->overflow ? -1 : 0;
}

/* --- transfer encodings ----------------------------------------------- */

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;   /* RFC 2045 §6.7: accept lower case */
	return -1;
}

static int
b64val(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * RFC 2045 §6.8, leniently: characters outside the alphabet are skipped
 * (§6.8 says to ignore them); '=' ends a quantum, and decoding goes on
 * after it, so concatenated encodings come out whole.
 */
static void
base64_decode(const char *s, size_t n, struct buf *out)
{
	char tmp[768];
	size_t t = 0;
	uint32_t q = 0;
	int k = 0;

	for (size_t i = 0; i <= n; i++) {
		int v = i < n ? b64val(s[i]) : -1;

		if (v >= 0) {
			q = q << 6 | (uint32_t)v;
			if (++k < 4)
				continue;
			tmp[t++] = (char)(q >> 16);
			tmp[t++] = (char)(q >> 8);
			tmp[t++] = (char)q;
			k = 0;
			q = 0;
		} else if (i == n || s[i] == '=') {
			if (k >= 2)
				tmp[t++] = (char)(q >> (6 * k - 8));
			if (k == 3)
				tmp[t++] = (char)(q >> 2);
			k = 0;
			q = 0;
		}
		if (t + 3 > sizeof(tmp) || i == n) {
			buf_append(out, tmp, t);
			t = 0;
		}
	}
}

/* One line of quoted-printable without its line end. */
static void
qp_line(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *eq = memchr(s + i, '=', n - i);
		size_t e = eq != NULL ? (size_t)(eq - s) : n;
		int hi, lo;

		buf_append(out, s + i, e - i);
		if (e >= n)
			return;
		if (e + 2 < n && (hi = hexval(s[e + 1])) >= 0 &&
		    (lo = hexval(s[e + 2])) >= 0) {
			buf_append_char(out, (char)(hi << 4 | lo));
			i = e + 3;
		} else {
			buf_append_char(out, '=');   /* §6.7 note: keep it */
			i = e + 1;
		}
	}
}

/*
 * RFC 2045 §6.7: trailing blanks are transport padding (rule 3); "=" at
 * the end of a line is a soft break (rule 5); other line ends are hard
 * breaks, written CRLF whatever the message used.
 */
static void
qp_decode(const char *s, size_t n, struct buf *out)
{
	size_t i = 0;

	while (i < n) {
		const char *nl = memchr(s + i, '\n', n - i);
		size_t e = nl != NULL ? (size_t)(nl - s) : n;
		bool soft;

		while (e > i && (s[e - 1] == '\r' || s[e - 1] == ' ' ||
		    s[e - 1] == '\t'))
			e--;
		soft = e > i && s[e - 1] == '=';
		qp_line(s + i, soft ? e - 1 - i : e - i, out);
		if (nl == NULL)
			return;
		if (!soft)
			buf_append(out, "\r\n", 2);
		i = (size_t)(nl - s) + 1;
	}
}

void
mime_percent_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '%' && i + 2 < n && (hi = hexval(s[i + 1])) >= 0 &&
		    (lo = hexval(s[i + 2])) >= 0) {
			buf_append_char(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_append_char(out, s[i]);
		}
	}
}

int
mime_body_decode(const char *data, size_t len, const struct mime_part *part,
    struct buf *out)
{
	const char *enc = part->encoding;
	size_t start = part->body_start < len ? part->body_start : len;
	size_t end = part->body_end < len ? part->body_end : len;
	size_t n = end > start ? end - start : 0;

	if (enc == NULL || mime_eq(enc, "7bit") || mime_eq(enc, "8bit") ||
	    mime_eq(enc, "binary"))
		buf_append(out, n > 0 ? data + start : "", n);
	else if (!mime_eq(enc, "base64") && !mime_eq(enc, "quoted-printable"))
		return MIME_DECODE_UNKNOWN_CTE;
	else if (n > 0 && mime_eq(enc, "base64"))
		base64_decode(data + start, n, out);
	else if (n > 0)
		qp_decode(data + start, n, out);
	return out->overflow ? MIME_DECODE_FULL : 0;
}

/* --- RFC 2047 encoded words ------------------------------------------- */

struct word {
	const char *charset;
	size_t cslen;
	char enc;             /* 'b' or 'q' */
	const char *text;
	size_t tlen;
	size_t end;           /* after "?=" */
};

/*
 * "=?" charset ["*" language] "?" encoding "?" encoded-text "?=" at s + i
 * (RFC 2047 §2, RFC 2231 §5).  The 75-octet limit is not enforced, as
 * senders break it.  When the text runs into a blank or the end without
 * "?=", no word can start inside it either: [*dead_from, *dead_end) is
 * skipped, so a value full of "=?" stays linear.
 */
static bool
word_parse(const char *s, size_t n, size_t i, struct word *w,
    size_t *dead_from, size_t *dead_end)
{
	size_t p = i + 2, q;

	for (q = p; q < n && s[q] != '?' && !mime_is_space(s[q]) && q - p < 64; q++)
		;
	if (q == p || q + 2 >= n || s[q] != '?' || s[q + 2] != '?')
		return false;
	w->charset = s + p;
	w->cslen = q - p;
	for (size_t k = 0; k < w->cslen; k++)
		if (w->charset[k] == '*')
			w->cslen = k;
	w->enc = (char)(s[q + 1] | 0x20);
	if (w->cslen == 0 || (w->enc != 'b' && w->enc != 'q'))
		return false;
	p = q + 3;
	for (q = p; q < n && !mime_is_space(s[q]); q++) {
		if (s[q] == '?' && q + 1 < n && s[q + 1] == '=') {
			w->text = s + p;
			w->tlen = q - p;
			w->end = q + 2;
			return true;
		}
	}
	*dead_from = p;
	*dead_end = q;
	return false;
}

/* RFC 2047 §4.2: "_" is a space, "=XX" an octet. */
static void
q_decode(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n; i++) {
		int hi, lo;

		if (s[i] == '_') {
			buf_append_char(out, ' ');
		} else if (s[i] == '=' && i + 2 < n &&
		    (hi = hexval(s[i + 1])) >= 0 && (lo = hexval(s[i + 2])) >= 0) {
			buf_append_char(out, (char)(hi << 4 | lo));
			i += 2;
		} else {
			buf_append_char(out, s[i]);
		}
	}
}

/* Decoded octets of adjacent words in one charset, converted together so
 * that a character split between two words comes out whole. */
struct pending {
	struct buf bytes;
	char charset[65];
};

static void
pending_flush(struct pending *pd, struct buf *out)
{
	if (pd->bytes.len > 0)
		mime_charset_to_utf8(pd->charset, pd->bytes.data, pd->bytes.len, out);
	buf_reset(&pd->bytes);
}

static void
pending_word(struct pending *pd, const struct word *w, struct buf *out)
{
	if (!mime_eqn(w->charset, w->cslen, pd->charset)) {
		pending_flush(pd, out);
		memcpy(pd->charset, w->charset, w->cslen);
		pd->charset[w->cslen] = '\0';
	}
	if (w->enc == 'b')
		base64_decode(w->text, w->tlen, &pd->bytes);
	else
		q_decode(w->text, w->tlen, &pd->bytes);
}

/* Text between words: unfolded, read as UTF-8. */
static void
literal(const char *s, size_t n, struct buf *out)
{
	size_t run = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\r' && s[i] != '\n')
			continue;
		mime_utf8_append(out, s + run, i - run);
		run = i + 1;
	}
	mime_utf8_append(out, s + run, n - run);
}

static bool
all_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!mime_is_space(s[i]))
			return false;
	return true;
}

int
mime_header_decode(const char *s, size_t n, struct buf *out)
{
	struct pending pd = { BUF_INIT, "" };
	size_t i = 0, lit = 0, dead_from = 0, dead_end = 0;
	bool after_word = false;
	struct word w;

	if (n == 0)
		return out->overflow ? -1 : 0;
	while (i + 1 < n) {
		if (s[i] != '=' || s[i + 1] != '?' ||
		    (i >= dead_from && i < dead_end)) {
			i++;
			continue;
		}
		if (!word_parse(s, n, i, &w, &dead_from, &dead_end)) {
			i++;
			continue;
		}
		/* §6.2: white space between adjacent encoded words is dropped. */
		if (!after_word || !all_space(s + lit, i - lit)) {
			pending_flush(&pd, out);
			literal(s + lit, i - lit, out);
		}
		pending_word(&pd, &w, out);
		after_word = true;
		i = lit = w.end;
	}
	pending_flush(&pd, out);
	literal(s + lit, n - lit, out);
	buf_free(&pd.bytes);
	return out->overflow ? -1 : 0;
}
