#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "xmalloc.h"

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t limit = b->limit ? b->limit : BUF_DEFAULT_LIMIT;
	size_t need;

	if (b->overflow || extra > limit || b->len > limit - extra) {
		b->overflow = true;
		return -1;
	}
	need = b->len + extra + 1;
	if (need > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		while (cap < need)
			cap *= 2;
		b->data = xreallocarray(b->data, cap, 1);
		b->cap = cap;
	}
	return 0;
}

int
buf_append(struct buf *b, const void *data, size_t len)
{
	if (buf_reserve(b, len) != 0)
		return -1;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int
buf_append_str(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int
buf_append_char(struct buf *b, char c)
{
	return buf_append(b, &c, 1);
}

int
buf_append_uint(struct buf *b, uint64_t v)
{
	char digits[20];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	return buf_append(b, digits + i, sizeof(digits) - i);
}

int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || buf_reserve(b, (size_t)n) != 0)
		return -1;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

/* RFC 9051 §4.3: a quoted string holds no CR, LF, NUL, and no 8-bit in rev1. */
static bool
quotable(const char *s, size_t len)
{
	if (len > 1024)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\0' || c == '\r' || c == '\n' || c >= 0x80)
			return false;
	}
	return true;
}

int
buf_append_imap_string(struct buf *b, const char *s, size_t len)
{
	if (s == NULL)
		return buf_append_str(b, "NIL");
	if (!quotable(s, len)) {
		if (buf_printf(b, "{%zu}\r\n", len) != 0)
			return -1;
		return buf_append(b, s, len);
	}
	if (buf_append_char(b, '"') != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((s[i] == '"' || s[i] == '\\') && buf_append_char(b, '\\') != 0)
			return -1;
		if (buf_append_char(b, s[i]) != 0)
			return -1;
	}
	return buf_append_char(b, '"');
}

void
buf_reset(struct buf *b)
{
	b->len = 0;
	b->overflow = false;
	if (b->data != NULL)
		b->data[0] = '\0';
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->overflow = false;
}

char *
buf_steal(struct buf *b, size_t *len)
{
	char *p = b->data;

	if (len != NULL)
		*len = b->len;
	if (p == NULL)
		p = xstrdup("");
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
