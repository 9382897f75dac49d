/*
 * User name validation.  The rule is deliberately narrow: a valid name is
 * also a safe directory name under <data-dir>/mail/, so nothing else has to
 * sanitize it.  Plain byte tests, no <ctype.h>: the locale must not change
 * what is valid.
 */
#include "autoconfig.h"

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "username.h"

static bool
is_lower_digit(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool
is_local_char(unsigned char c)
{
	return is_lower_digit(c) || c == '.' || c == '_' || c == '+' || c == '-';
}

static bool
is_domain_char(unsigned char c)
{
	return is_lower_digit(c) || c == '.' || c == '-';
}

static bool
fail(const char **why, const char *reason)
{
	if (why != NULL)
		*why = reason;
	return false;
}

/* What is wrong with a byte that is allowed nowhere in a name. */
static const char *
bad_byte_reason(unsigned char c)
{
	if (c == '\0')
		return "contains a NUL byte";
	if (c == '/')
		return "contains '/'";
	if (c >= 'A' && c <= 'Z')
		return "contains an upper case letter";
	if (c < 0x20 || c == 0x7f)
		return "contains a control character";
	if (c >= 0x80)
		return "contains a non-ASCII byte";
	if (c == ' ')
		return "contains a space";
	return "contains a character that is not allowed";
}

/*
 * The domain after '@' must be non-empty and, like the whole name, must not
 * start with '.' or '-': "a@" and "a@-x" are refused.
 */
static bool
domain_valid(const char *d, size_t len, const char **why)
{
	if (len == 0)
		return fail(why, "empty domain after '@'");
	if (d[0] == '.' || d[0] == '-')
		return fail(why, "domain starts with '.' or '-'");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)d[i];
		if (c == '@')
			return fail(why, "more than one '@'");
		if (c == '_' || c == '+')
			return fail(why, "'_' or '+' in the domain");
		if (!is_domain_char(c))
			return fail(why, bad_byte_reason(c));
	}
	return true;
}

bool
username_valid(const char *name, size_t len, const char **why)
{
	size_t i;

	if (name == NULL || len == 0)
		return fail(why, "empty");
	if (len > USERNAME_MAX)
		return fail(why, "too long");
	/* Covers "." and ".." too, and a name that is only a domain. */
	if (name[0] == '.' || name[0] == '-' || name[0] == '@')
		return fail(why, "starts with '.', '-' or '@'");
	for (i = 0; i + 1 < len; i++)
		if (name[i] == '.' && name[i + 1] == '.')
			return fail(why, "contains \"..\"");
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];
		if (c == '@')
			break;
		if (!is_local_char(c))
			return fail(why, bad_byte_reason(c));
	}
	if (i < len)
		return domain_valid(name + i + 1, len - i - 1, why);
	return true;
}

bool
username_canonical(const char *name, size_t len, char *out, size_t outlen)
{
	if (out == NULL || outlen == 0)
		return false;
	out[0] = '\0';
	if (name == NULL || len >= outlen)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	out[len] = '\0';
	if (!username_valid(out, len, NULL)) {
		out[0] = '\0';
		return false;
	}
	return true;
}
