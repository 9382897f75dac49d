#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "message.h"

static const char from_prefix[5] = { 'F', 'r', 'o', 'm', ' ' };

void
lda_msg_init(struct lda_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->state = LDA_MSG_START;
	m->line_start = true;
}

/* Message bytes: they count towards the size. */
static int
out(struct lda_msg *m, const char *p, size_t n, lda_emit_fn emit, void *arg)
{
	if (n == 0)
		return 0;
	m->size += n;
	return emit(arg, p, n);
}

/*
 * The body: runs of ordinary bytes go out as they are; a line end, a CR
 * and a dot at the start of a line are where the run is cut.
 */
static int
body_feed(struct lda_msg *m, const char *p, size_t n, lda_emit_fn emit, void *arg)
{
	size_t start = 0, i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (m->pending_cr) {
			/* start == i here: the CR cut the run */
			m->pending_cr = false;
			if (c == '\n') {
				if (out(m, "\r\n", 2, emit, arg) != 0)
					return -1;
				m->line_start = true;
				start = ++i;
				continue;
			}
			/* a lone CR is kept, and does not end the line */
			if (out(m, "\r", 1, emit, arg) != 0)
				return -1;
			m->line_start = false;
		}
		if (c == '\r' || c == '\n') {
			if (out(m, p + start, i - start, emit, arg) != 0)
				return -1;
			if (c == '\r') {
				m->pending_cr = true;
			} else {
				if (out(m, "\r\n", 2, emit, arg) != 0)
					return -1;
				m->line_start = true;
			}
			start = ++i;
			continue;
		}
		if (m->line_start && c == '.') {
			/* the stuffed dot is not the message's: not counted */
			if (out(m, p + start, i - start, emit, arg) != 0 ||
			    emit(arg, ".", 1) != 0)
				return -1;
			start = i;
		}
		if (c >= 0x80)
			m->eightbit = true;
		m->line_start = false;
		i++;
	}
	return out(m, p + start, n - start, emit, arg);
}

/* The sender token of the From line, up to the first blank. */
static void
from_line_take(struct lda_msg *m, const char *p, size_t n)
{
	for (size_t i = 0; i < n && !m->sender_ended; i++) {
		if (p[i] == ' ' || p[i] == '\t' || p[i] == '\r') {
			if (m->n_sender > 0)
				m->sender_ended = true;
			continue;
		}
		if (m->n_sender == LDA_ADDR_MAX) {
			m->sender_bad = true;
			m->sender_ended = true;
			continue;
		}
		m->sender[m->n_sender++] = p[i];
	}
}

int
lda_msg_feed(struct lda_msg *m, const char *p, size_t n, lda_emit_fn emit,
    void *arg)
{
	while (n > 0 && m->state != LDA_MSG_BODY) {
		if (m->state == LDA_MSG_START) {
			m->head[m->n_head] = *p;
			if (*p != from_prefix[m->n_head]) {
				/* not a From line: its bytes are the message's */
				m->state = LDA_MSG_BODY;
				if (body_feed(m, m->head, m->n_head + 1, emit, arg) != 0)
					return -1;
			} else if (++m->n_head == sizeof(from_prefix)) {
				m->state = LDA_MSG_FROM_LINE;
				m->from_line = true;
			}
			p++;
			n--;
			continue;
		}
		/* LDA_MSG_FROM_LINE: dropped up to and with its LF */
		const char *lf = memchr(p, '\n', n);
		size_t len = lf ? (size_t)(lf - p) : n;

		from_line_take(m, p, len);
		if (lf == NULL)
			return 0;
		m->sender_ended = true;
		m->state = LDA_MSG_BODY;
		p += len + 1;
		n -= len + 1;
	}
	return n > 0 ? body_feed(m, p, n, emit, arg) : 0;
}

/* The From line's sender, without the brackets some writers add. */
static void
sender_finish(struct lda_msg *m)
{
	m->sender_ended = true;
	if (m->n_sender >= 2 && m->sender[0] == '<' &&
	    m->sender[m->n_sender - 1] == '>') {
		memmove(m->sender, m->sender + 1, m->n_sender - 2);
		m->n_sender -= 2;
		/* "From <> ...": the null reverse-path */
		m->sender_null = m->n_sender == 0;
	}
	m->sender[m->n_sender] = '\0';
	/* Postfix writes the null reverse-path as MAILER-DAEMON */
	if (strcasecmp(m->sender, "MAILER-DAEMON") == 0)
		m->sender_null = true;
}

int
lda_msg_finish(struct lda_msg *m, lda_emit_fn emit, void *arg)
{
	if (m->state == LDA_MSG_START) {
		/* fewer than five bytes, all of them a start of "From " */
		m->state = LDA_MSG_BODY;
		if (body_feed(m, m->head, m->n_head, emit, arg) != 0)
			return -1;
	}
	/* LDA_MSG_FROM_LINE: the input was a From line alone: no message */
	sender_finish(m);
	if (m->pending_cr) {
		m->pending_cr = false;
		if (out(m, "\r", 1, emit, arg) != 0)
			return -1;
		m->line_start = false;
	}
	if (!m->line_start) {
		if (out(m, "\r\n", 2, emit, arg) != 0)
			return -1;
		m->line_start = true;
	}
	return 0;
}

const char *
lda_msg_sender(const struct lda_msg *m)
{
	if (!m->from_line || m->sender_bad)
		return NULL;
	if (m->sender_null)
		return "";
	return lda_addr_valid(m->sender) ? m->sender : NULL;
}

bool
lda_addr_valid(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > LDA_ADDR_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= 0x20 || c >= 0x7f || c == '<' || c == '>')
			return false;
	}
	return true;
}
