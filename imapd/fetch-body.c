/*
 * The bytes of a body section (RFC 9051 §6.4.5 BODY[section]) and of
 * BINARY[part] (RFC 3516) in one mapped message.  Sections are offsets
 * into the message, so BODY[] of a 20 MB message is a pointer and a
 * length, never a copy; only HEADER.FIELDS and decoded BINARY parts are
 * built, in the caller's scratch buffer.
 *
 * Which bytes (mime.h has the offsets):
 *   BODY[]             the whole message
 *   BODY[HEADER]       its header, blank line included; BODY[TEXT] the rest
 *   BODY[n]            the body of part n (of a message/rfc822 part: the
 *                      whole encapsulated message)
 *   BODY[n.MIME]       the header of part n
 *   BODY[n.HEADER], BODY[n.TEXT], BODY[n.HEADER.FIELDS (..)]
 *                      the header / body of the message part n holds; empty
 *                      when n is not a message/rfc822 part, as Dovecot
 *   BINARY[n]          the body of part n with its transfer encoding undone
 *   BINARY[]           the whole message as it is
 * A part that does not exist is empty, as Dovecot answers.
 *
 * The whole message is parsed only for a part number.  HEADER, TEXT and
 * HEADER.FIELDS of the message itself need only where its header ends,
 * found the way mime_parse() finds it (the first empty line), so fetching
 * a few header fields of every message reads only their headers.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "fetch.h"

void
fetch_msg_init(struct fetch_msg *m, const char *data, size_t len)
{
	m->data = data;
	m->len = len;
	m->root = NULL;
	m->header_end = SIZE_MAX;
}

void
fetch_msg_done(struct fetch_msg *m)
{
	mime_free(m->root);
	m->root = NULL;
}

/* Where the message's header ends, after its blank line (or at the end). */
static size_t
header_end(struct fetch_msg *m)
{
	size_t pos = 0;

	if (m->root != NULL)
		return m->root->body_start;
	if (m->header_end != SIZE_MAX)
		return m->header_end;
	m->header_end = m->len;
	while (pos < m->len) {
		const char *nl;

		if (m->data[pos] == '\n') {
			m->header_end = pos + 1;
			break;
		}
		if (m->data[pos] == '\r' && pos + 1 < m->len && m->data[pos + 1] == '\n') {
			m->header_end = pos + 2;
			break;
		}
		if ((nl = memchr(m->data + pos, '\n', m->len - pos)) == NULL)
			break;
		pos = (size_t)(nl - m->data) + 1;
	}
	return m->header_end;
}

static const struct mime_part *
find_part(struct fetch_msg *m, const char *spec)
{
	if (m->root == NULL)
		m->root = mime_parse(m->data, m->len);
	return mime_section(m->root, spec, strlen(spec));
}

/* [from, to) of the message, clamped to it. */
static void
range(const struct fetch_msg *m, size_t from, size_t to, const char **data,
    size_t *len)
{
	if (to > m->len)
		to = m->len;
	if (from > to)
		from = to;
	*data = m->data + from;
	*len = to - from;
}

static void
empty(const char **data, size_t *len)
{
	*data = "";
	*len = 0;
}

static enum fetch_body_result
from_scratch(struct buf *scratch, const char **data, size_t *len)
{
	if (scratch->overflow)
		return FETCH_BODY_TOO_BIG;
	*data = scratch->data != NULL ? scratch->data : "";
	*len = scratch->len;
	return FETCH_BODY_OK;
}

/* HEADER, TEXT, HEADER.FIELDS[.NOT] of the message whose root is msg. */
static enum fetch_body_result
message_text(struct fetch_msg *m, const struct mime_part *msg,
    const struct fetch_att *a, struct buf *scratch, const char **data, size_t *len)
{
	switch (a->text) {
	case FETCH_TEXT_HEADER:
		range(m, msg->header_start, msg->body_start, data, len);
		break;
	case FETCH_TEXT_TEXT:
		range(m, msg->body_start, msg->body_end, data, len);
		break;
	case FETCH_TEXT_FIELDS:
	case FETCH_TEXT_FIELDS_NOT:
		(void)mime_header_fields(m->data, m->len, msg,
		    (const char *const *)a->fields, a->nfields,
		    a->text == FETCH_TEXT_FIELDS_NOT, scratch);
		return from_scratch(scratch, data, len);
	default:
		range(m, msg->header_start, msg->body_end, data, len);
		break;
	}
	return FETCH_BODY_OK;
}

static enum fetch_body_result
section(struct fetch_msg *m, const struct fetch_att *a, struct buf *scratch,
    const char **data, size_t *len)
{
	const struct mime_part *p;

	if (a->part[0] == '\0') {
		struct mime_part whole;

		if (a->text == FETCH_TEXT_ALL) {
			range(m, 0, m->len, data, len);
			return FETCH_BODY_OK;
		}
		/* Only the offsets are read: the header, then the rest. */
		memset(&whole, 0, sizeof(whole));
		whole.body_start = header_end(m);
		whole.body_end = m->len;
		return message_text(m, &whole, a, scratch, data, len);
	}
	if ((p = find_part(m, a->part)) == NULL) {
		empty(data, len);
		return FETCH_BODY_OK;
	}
	switch (a->text) {
	case FETCH_TEXT_ALL:
		range(m, p->body_start, p->body_end, data, len);
		return FETCH_BODY_OK;
	case FETCH_TEXT_MIME:
		range(m, p->header_start, p->body_start, data, len);
		return FETCH_BODY_OK;
	default:
		if (p->kind != MIME_KIND_MESSAGE || p->children == NULL) {
			empty(data, len);
			return FETCH_BODY_OK;
		}
		return message_text(m, p->children, a, scratch, data, len);
	}
}

/* Transfer encodings whose decoding is the body as it is (RFC 2045 §6.2). */
static bool
identity_encoding(const struct mime_part *p)
{
	return p->encoding == NULL || strcasecmp(p->encoding, "7bit") == 0 ||
	    strcasecmp(p->encoding, "8bit") == 0 ||
	    strcasecmp(p->encoding, "binary") == 0;
}

static enum fetch_body_result
binary(struct fetch_msg *m, const struct fetch_att *a, struct buf *scratch,
    const char **data, size_t *len)
{
	const struct mime_part *p;

	if (a->part[0] == '\0') {
		range(m, 0, m->len, data, len);
		return FETCH_BODY_OK;
	}
	if ((p = find_part(m, a->part)) == NULL) {
		empty(data, len);
		return FETCH_BODY_OK;
	}
	if (identity_encoding(p)) {
		range(m, p->body_start, p->body_end, data, len);
		return FETCH_BODY_OK;
	}
	switch (mime_body_decode(m->data, m->len, p, scratch)) {
	case MIME_DECODE_UNKNOWN_CTE:
		return FETCH_BODY_UNKNOWN_CTE;
	case MIME_DECODE_FULL:
		return FETCH_BODY_TOO_BIG;
	default:
		return from_scratch(scratch, data, len);
	}
}

enum fetch_body_result
fetch_body(struct fetch_msg *m, const struct fetch_att *a, struct buf *scratch,
    const char **data, size_t *len)
{
	buf_reset(scratch);
	scratch->overflow = false;
	if (a->kind == FETCH_SECTION)
		return section(m, a, scratch, data, len);
	return binary(m, a, scratch, data, len);
}

bool
fetch_body_cte_known(struct fetch_msg *m, const struct fetch_att *a)
{
	const struct mime_part *p;
	struct mime_part none;
	struct buf out = BUF_INIT;
	int rc;

	if ((a->kind != FETCH_BINARY && a->kind != FETCH_BINARY_SIZE) ||
	    a->part[0] == '\0' || (p = find_part(m, a->part)) == NULL ||
	    identity_encoding(p))
		return true;
	/* mime_body_decode() is the one judge of encodings: ask it about an
	 * empty body of the same part. */
	none = *p;
	none.body_end = none.body_start;
	rc = mime_body_decode(m->data, m->len, &none, &out);
	buf_free(&out);
	return rc != MIME_DECODE_UNKNOWN_CTE;
}
