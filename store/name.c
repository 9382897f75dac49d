/* Mailbox names and keywords: what the store accepts, and INBOX. */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "store-int.h"

/*
 * The length of the UTF-8 sequence at s (at most n bytes), or 0 if it is
 * not a well-formed one (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF).  *cp gets the code point.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	size_t len;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2; c = s[0] & 0x1f; min = 0x80;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3; c = s[0] & 0x0f; min = 0x800;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4; c = s[0] & 0x07; min = 0x10000;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/* C0, DEL and C1 controls: never part of a name a user can read. */
static bool
is_control(unsigned long cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

bool
store_mailbox_name_valid(const char *name, const char **why)
{
	const unsigned char *s = (const unsigned char *)name;
	const char *dummy;
	size_t len, i, n;
	unsigned long cp;

	if (why == NULL)
		why = &dummy;
	if (name == NULL || (len = strlen(name)) == 0) {
		*why = "empty mailbox name";
		return false;
	}
	if (len > STORE_MAILBOX_NAME_MAX) {
		*why = "mailbox name too long";
		return false;
	}
	if (s[0] == '/' || s[len - 1] == '/' || strstr(name, "//") != NULL) {
		*why = "empty level in the mailbox name";
		return false;
	}
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seq(s + i, len - i, &cp)) == 0) {
			*why = "mailbox name is not UTF-8";
			return false;
		}
		if (is_control(cp)) {
			*why = "control character in the mailbox name";
			return false;
		}
	}
	return true;
}

/*
 * RFC 9051 §5.1: INBOX is case-insensitive.  We take it as a whole first
 * level, so "inbox/Lists" is "INBOX/Lists", a child of INBOX, and
 * "Inboxes" is left alone.
 */
enum store_result
store_name_canon(struct store *st, const char *name,
    char out[STORE_MAILBOX_NAME_MAX + 1])
{
	const char *why;

	if (!store_mailbox_name_valid(name, &why))
		return store_fail(st, STORE_INVALID, "%s", why);
	strcpy(out, name);
	if (strncasecmp(out, "INBOX", 5) == 0 && (out[5] == '\0' || out[5] == '/'))
		memcpy(out, "INBOX", 5);
	return STORE_OK;
}

bool
store_name_is_inbox(const char *canon)
{
	return strcmp(canon, "INBOX") == 0;
}

/*
 * RFC 9051 §9: flag-keyword is an atom: ASCII graphic characters but
 * atom-specials ( ) { SP CTL % * " \ and ].  No '\', so no keyword can
 * pass for a system flag.
 */
bool
store_keyword_valid(const char *kw)
{
	size_t len;

	if (kw == NULL || (len = strlen(kw)) == 0 || len > STORE_KEYWORD_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)kw[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){%*\"\\]", c) != NULL)
			return false;
	}
	return true;
}
