/*
 * Lines as IMAP serves them (RFC 5322 2.1: CRLF): a Maildir or mbox file
 * written on Unix ends its lines in LF alone, and Dovecot adds the CR when
 * it serves them; an import adds it once, so the stored message is what
 * Dovecot served.  A CR already there is kept, and not doubled.
 */
#ifndef CAIRN_CTL_CRLF_H
#define CAIRN_CTL_CRLF_H

#include <stdbool.h>
#include <stddef.h>

struct crlf {
	bool last_cr;     /* the last byte converted was a CR */
};

/* in[0..len) into out (room for 2 * len bytes); returns the bytes out. */
static inline size_t
crlf_convert(struct crlf *c, const char *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		if (in[i] == '\n' && !c->last_cr)
			out[n++] = '\r';
		out[n++] = in[i];
		c->last_cr = in[i] == '\r';
	}
	return n;
}

#endif
