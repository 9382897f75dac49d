/* Modified UTF-7 (RFC 3501 §5.1.3) and strict UTF-8 (RFC 3629). */
#include "autoconfig.h"

#include <stdint.h>

#include "mutf7.h"

/* RFC 3501 §5.1.3: RFC 2045 base64 with ',' in place of '/'. */
static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+,";

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == ',')
		return 63;
	return -1;
}

/* Characters that stand for themselves; '&' needs "&-" even so. */
static bool
is_direct(uint32_t c)
{
	return c >= 0x20 && c <= 0x7e;
}

static bool
is_high_surrogate(uint32_t u)
{
	return u >= 0xd800 && u <= 0xdbff;
}

static bool
is_low_surrogate(uint32_t u)
{
	return u >= 0xdc00 && u <= 0xdfff;
}

/*
 * The character at s[*i] into *cp, advancing *i; -1 if it is not strict
 * UTF-8.  The lead byte ranges exclude the C0/C1 overlong leads and the
 * F5..FF leads of values above U+10FFFF; the rest is checked on the value.
 */
static int
utf8_next(const unsigned char *s, size_t len, size_t *i, uint32_t *cp)
{
	unsigned char c = s[*i];
	size_t need;
	uint32_t v, min;

	if (c < 0x80) {
		*cp = c;
		(*i)++;
		return 0;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		need = 1;
		v = c & 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 2;
		v = c & 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 3;
		v = c & 0x07;
		min = 0x10000;
	} else
		return -1;
	if (len - *i <= need)
		return -1;
	for (size_t k = 1; k <= need; k++) {
		unsigned char b = s[*i + k];
		if ((b & 0xc0) != 0x80)
			return -1;
		v = v << 6 | (b & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return -1;
	*cp = v;
	*i += need + 1;
	return 0;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	uint32_t cp;

	while (i < len)
		if (utf8_next(u, len, &i, &cp) != 0)
			return false;
	return true;
}

/*
 * Appends go unchecked: buf's overflow flag is sticky, so one test at the
 * end tells whether any of them was refused.
 */
static void
put(struct buf *b, char c)
{
	(void)buf_append_char(b, c);
}

static void
put_utf8(struct buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | cp >> 18);
		s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	(void)buf_append(b, s, n);
}

/* Undoes a failed conversion; a limit hit stays visible in overflow. */
static int
rollback(struct buf *b, size_t start)
{
	b->len = start;
	if (b->data != NULL)
		b->data[start] = '\0';
	return -1;
}

/* Bits on their way into or out of base64, and a pending high surrogate. */
struct shift {
	uint32_t bits;    /* the low nbits bits are pending */
	unsigned nbits;
	uint32_t high;    /* 0, or a high surrogate waiting for its pair */
	struct buf *b;
};

/* One decoded UTF-16 unit: pair surrogates, refuse what must not be here. */
static int
decode_unit(struct shift *sh, uint32_t u)
{
	if (sh->high != 0) {
		if (!is_low_surrogate(u))
			return -1;
		put_utf8(sh->b, 0x10000 + ((sh->high - 0xd800) << 10) + (u - 0xdc00));
		sh->high = 0;
		return 0;
	}
	if (is_high_surrogate(u)) {
		sh->high = u;
		return 0;
	}
	/* a lone low surrogate; a character that has a direct form; NUL */
	if (is_low_surrogate(u) || is_direct(u) || u == 0)
		return -1;
	put_utf8(sh->b, u);
	return 0;
}

/* in[*pos] is the '&' of a shift that is not "&-"; *pos moves past its '-'. */
static int
decode_shift(const char *in, size_t len, size_t *pos, struct buf *b)
{
	struct shift sh = { 0, 0, 0, b };
	size_t j;

	for (j = *pos + 1; j < len && in[j] != '-'; j++) {
		int v = b64_value((unsigned char)in[j]);
		if (v < 0)
			return -1;
		sh.bits = sh.bits << 6 | (uint32_t)v;
		sh.nbits += 6;
		if (sh.nbits >= 16) {
			sh.nbits -= 16;
			if (decode_unit(&sh, sh.bits >> sh.nbits) != 0)
				return -1;
			sh.bits &= (1u << sh.nbits) - 1;
		}
	}
	/* RFC 3501: the shift ends with an explicit '-', even at the end */
	if (j == len)
		return -1;
	/*
	 * Only the padding to a 6-bit boundary may be left, and it must be
	 * zero, or "AOQ" and "AOR" would both be "ä".  This also refuses a
	 * shift too short to hold one unit.
	 */
	if (sh.nbits >= 6 || sh.bits != 0 || sh.high != 0)
		return -1;
	*pos = j + 1;
	return 0;
}

int
mutf7_decode(const char *in, size_t len, struct buf *utf8)
{
	size_t start = utf8->len, i = 0;
	bool after_shift = false;

	while (i < len) {
		unsigned char c = (unsigned char)in[i];

		if (!is_direct(c))
			return rollback(utf8, start);
		if (c != '&') {
			put(utf8, (char)c);
			i++;
			after_shift = false;
		} else if (i + 1 < len && in[i + 1] == '-') {
			put(utf8, '&');
			i += 2;
			after_shift = false;
		} else {
			/* "&AOQ-&APY-" is "&APQA9g-" spelt twice as long */
			if (after_shift || decode_shift(in, len, &i, utf8) != 0)
				return rollback(utf8, start);
			after_shift = true;
		}
	}
	if (utf8->overflow)
		return rollback(utf8, start);
	return 0;
}

static void
encode_unit(struct shift *sh, uint32_t u)
{
	sh->bits = sh->bits << 16 | u;
	sh->nbits += 16;
	while (sh->nbits >= 6) {
		sh->nbits -= 6;
		put(sh->b, b64_alphabet[sh->bits >> sh->nbits & 0x3f]);
	}
	sh->bits &= (1u << sh->nbits) - 1;
}

/* Pads the last bits with zeros and shifts back to US-ASCII. */
static void
encode_close(struct shift *sh)
{
	if (sh->nbits > 0)
		put(sh->b, b64_alphabet[sh->bits << (6 - sh->nbits) & 0x3f]);
	sh->bits = 0;
	sh->nbits = 0;
	put(sh->b, '-');
}

int
mutf7_encode(const char *utf8, size_t len, struct buf *out)
{
	const unsigned char *s = (const unsigned char *)utf8;
	struct shift sh = { 0, 0, 0, out };
	size_t start = out->len, i = 0;
	bool shifted = false;

	while (i < len) {
		uint32_t cp;

		if (utf8_next(s, len, &i, &cp) != 0 || cp == 0)
			return rollback(out, start);
		if (is_direct(cp)) {
			if (shifted)
				encode_close(&sh);
			shifted = false;
			put(out, (char)cp);
			if (cp == '&')
				put(out, '-');
			continue;
		}
		if (!shifted)
			put(out, '&');
		shifted = true;
		if (cp >= 0x10000) {
			encode_unit(&sh, 0xd800 + ((cp - 0x10000) >> 10));
			encode_unit(&sh, 0xdc00 + ((cp - 0x10000) & 0x3ff));
		} else
			encode_unit(&sh, cp);
	}
	if (shifted)
		encode_close(&sh);
	if (out->overflow)
		return rollback(out, start);
	return 0;
}
