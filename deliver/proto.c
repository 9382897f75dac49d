#include "autoconfig.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>
#include <sysexits.h>

#include "proto.h"

void
lda_reply_init(struct lda_reply *r)
{
	memset(r, 0, sizeof(*r));
}

/* Text for standard error: no control or 8-bit bytes, bounded. */
static void
text_add(struct lda_reply *r, const char *p, size_t n)
{
	size_t room = sizeof(r->text) - 4;   /* for "..." and the NUL */

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (r->len >= room) {
			if (!r->truncated) {
				memcpy(r->text + r->len, "...", 4);
				r->len += 3;
				r->truncated = true;
			}
			return;
		}
		r->text[r->len++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
		r->text[r->len] = '\0';
	}
}

/* 1 to 3 digits at *p, as a number; -1 when there are none. */
static int
small_number(const char **p, const char *end)
{
	int v = 0, n = 0;

	while (*p < end && n < 3 && isdigit((unsigned char)**p)) {
		v = v * 10 + (**p - '0');
		(*p)++;
		n++;
	}
	return n == 0 ? -1 : v;
}

/*
 * "class.subject.detail" at the start of a reply's text (RFC 2034 §4,
 * RFC 3463 §2), its class the reply code's first digit.
 */
static void
enhanced_code(struct lda_reply *r, const char *p, const char *end)
{
	int v[3];

	for (int i = 0; i < 3; i++) {
		if ((v[i] = small_number(&p, end)) < 0)
			return;
		if (i < 2 && (p == end || *p++ != '.'))
			return;
	}
	if (p < end && *p != ' ')
		return;
	if (v[0] != r->code / 100)
		return;
	memcpy(r->enh, v, sizeof(v));
}

enum lda_reply_status
lda_reply_line(struct lda_reply *r, const char *line, size_t len)
{
	int code;
	bool last;

	if (r->done || len < 3 || len > LDA_LINE_MAX)
		return LDA_REPLY_BAD;
	/* RFC 5321 §4.2: 2-5, 0-5, 0-9 */
	if (line[0] < '2' || line[0] > '5' || line[1] < '0' || line[1] > '5' ||
	    !isdigit((unsigned char)line[2]))
		return LDA_REPLY_BAD;
	code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
	if (len == 3 || line[3] == ' ')
		last = true;
	else if (line[3] == '-')
		last = false;
	else
		return LDA_REPLY_BAD;
	/* §4.2.1: every line of a reply carries the same code */
	if (r->n_lines > 0 && code != r->code)
		return LDA_REPLY_BAD;
	if (++r->n_lines > LDA_REPLY_LINES_MAX)
		return LDA_REPLY_BAD;
	if (r->n_lines == 1) {
		r->code = code;
		text_add(r, line, 3);
		if (len > 4)
			enhanced_code(r, line + 4, line + len);
	}
	if (len > 4) {
		text_add(r, " ", 1);
		text_add(r, line + 4, len - 4);
	}
	r->done = last;
	return last ? LDA_REPLY_DONE : LDA_REPLY_MORE;
}

void
lda_caps_line(struct lda_caps *caps, const char *text, size_t len)
{
	size_t kw = 0;

	while (kw < len && text[kw] != ' ')
		kw++;
	if (kw == 4 && strncasecmp(text, "SIZE", 4) == 0) {
		uint64_t v = 0;
		size_t i = kw;

		/* RFC 1870 §4: "SIZE" [SP number]; a bad number: no limit known */
		while (i < len && text[i] == ' ')
			i++;
		for (; i < len && isdigit((unsigned char)text[i]); i++) {
			if (v > (UINT64_MAX - 9) / 10) {
				v = 0;
				break;
			}
			v = v * 10 + (uint64_t)(text[i] - '0');
		}
		caps->size = true;
		caps->size_max = v;
	} else if (kw == 8 && strncasecmp(text, "8BITMIME", 8) == 0) {
		caps->eightbitmime = true;
	} else if (kw == 14 && strncasecmp(text, "XCAIRN-MAILBOX", 14) == 0) {
		caps->xcairn_mailbox = true;
	}
}

/* The length of the UTF-8 sequence at p (RFC 3629 §4), or 0. */
static size_t
utf8_len(const unsigned char *p, size_t left)
{
	size_t n;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, surrogates, beyond U+10FFFF */
	if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

bool
lda_mailbox_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), i = 0;

	if (len == 0 || len > LDA_MAILBOX_MAX)
		return false;
	while (i < len) {
		size_t n = utf8_len(p + i, len - i);

		if (n == 0 || (n == 1 && (p[i] < 0x20 || p[i] == 0x7f)))
			return false;
		i += n;
	}
	return true;
}

int
lda_xtext(const char *in, char *out, size_t size)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *in != '\0'; in++) {
		unsigned char c = (unsigned char)*in;

		/* RFC 3461 §4: xchar is "!" to "~" except "+" and "=" */
		if (c >= 0x21 && c <= 0x7e && c != '+' && c != '=') {
			if (size - o < 2)
				return -1;
			out[o++] = (char)c;
			continue;
		}
		if (size - o < 4)
			return -1;
		out[o++] = '+';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 0xf];
	}
	if (size - o < 1)
		return -1;
	out[o] = '\0';
	return 0;
}

bool
lda_reply_expected(enum lda_stage stage, int code)
{
	switch (stage) {
	case LDA_STAGE_GREETING:
		return code == 220;
	case LDA_STAGE_RCPT:
		return code == 250 || code == 251;
	case LDA_STAGE_DATA:
		return code == 354;
	case LDA_STAGE_QUIT:
		return code == 221;
	default:
		return code == 250;
	}
}

/* A permanent refusal that says what (RFC 3463): -1 when it does not. */
static int
exit_for_enhanced(enum lda_stage stage, const int enh[3])
{
	switch (enh[1]) {
	case 1:
		/* addressing: the sender's (x.1.7, x.1.8, or at MAIL) or the user's */
		if (stage == LDA_STAGE_MAIL || enh[2] == 7 || enh[2] == 8)
			return EX_DATAERR;
		return EX_NOUSER;
	case 2:
		/* the mailbox: x.2.2 full; x.2.3 the message too long for it */
		return enh[2] == 3 ? EX_DATAERR : EX_CANTCREAT;
	case 3:
		return enh[2] == 4 ? EX_DATAERR : -1;
	case 5:
		/* the protocol: one of us is broken; keep the message */
		return EX_TEMPFAIL;
	case 6:
		return EX_DATAERR;
	case 7:
		return EX_NOPERM;
	default:
		return -1;
	}
}

int
lda_exit_for(enum lda_stage stage, const struct lda_reply *r)
{
	int e;

	if (lda_reply_expected(stage, r->code))
		return EX_OK;
	if (r->code / 100 != 5)
		return EX_TEMPFAIL;     /* 4xx, or a 2xx or 3xx out of place */
	/* refused before a message was named: the service, not the mail */
	if (stage == LDA_STAGE_GREETING || stage == LDA_STAGE_LHLO)
		return EX_TEMPFAIL;
	if (r->enh[0] == 5 && (e = exit_for_enhanced(stage, r->enh)) >= 0)
		return e;
	switch (r->code) {
	case 500: case 501: case 502: case 503: case 504: case 555:
		return EX_TEMPFAIL;
	case 550: case 551: case 553:
		return stage == LDA_STAGE_MAIL ? EX_DATAERR : EX_NOUSER;
	case 552:
		return stage == LDA_STAGE_RCPT ? EX_CANTCREAT : EX_DATAERR;
	case 554:
		return EX_DATAERR;
	default:
		return EX_UNAVAILABLE;
	}
}
