/* OBJECTID (RFC 8474) strings: see objectid.h. */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>

#include "objectid.h"

void
objectid_mailbox(uint32_t uidvalidity, char out[OBJECTID_BUF])
{
	snprintf(out, OBJECTID_BUF, "M%08" PRIx32, uidvalidity);
}

void
objectid_email(uint64_t email_id, char out[OBJECTID_BUF])
{
	snprintf(out, OBJECTID_BUF, "E%016" PRIx64, email_id);
}

void
objectid_thread(uint64_t thread_id, char out[OBJECTID_BUF])
{
	snprintf(out, OBJECTID_BUF, "T%016" PRIx64, thread_id);
}

bool
objectid_valid(const char *s, size_t len)
{
	if (len == 0 || len > OBJECTID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return false;
	}
	return true;
}

/* prefix and 16 lower-case hex digits, exactly as written above: the ids
 * are case-sensitive, so "e..." or upper-case digits name nothing */
static bool
parse_hex_id(const char *s, size_t len, char prefix, uint64_t *out)
{
	uint64_t v = 0;

	if (len != 17 || s[0] != prefix)
		return false;
	for (size_t i = 1; i < len; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return false;
	}
	*out = v;
	return true;
}

bool
objectid_email_parse(const char *s, size_t len, uint64_t *email_id)
{
	return parse_hex_id(s, len, 'E', email_id);
}

bool
objectid_thread_parse(const char *s, size_t len, uint64_t *thread_id)
{
	/* 0 is no thread: T0000000000000000 is no id of a message */
	return parse_hex_id(s, len, 'T', thread_id) && *thread_id != 0;
}
