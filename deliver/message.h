/*
 * cairn-deliver's message on its way from standard input to LMTP DATA:
 * a streaming transformation that does no I/O.  The caller feeds it the
 * bytes read, in pieces of any size, and it hands on the DATA bytes
 * through an emit function:
 *
 *   - a first line "From sender date" (the mbox separator Postfix's
 *     local(8) and procmail put in front) is dropped, and its sender kept;
 *   - LF becomes CRLF, CRLF stays, a lone CR stays as it is;
 *   - a line starting with "." gets one more (RFC 5321 §4.5.2);
 *   - a last line without its line end gets CRLF.
 *
 * It counts the message's size as RFC 1870 §3 counts SIZE= (CRLF line
 * ends, not the stuffed dots) and notes an 8-bit byte (BODY=8BITMIME,
 * RFC 6152).  The terminating ".\r\n" is the LMTP client's to send.
 */
#ifndef CAIRN_DELIVER_MESSAGE_H
#define CAIRN_DELIVER_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reverse-path or forward-path inside its <>: RFC 5321 §4.5.3.1.3 allows
 * 256 octets with the brackets. */
#define LDA_ADDR_MAX 254

/* Takes n DATA bytes at p; 0, or -1 to stop (the feed returns -1 too). */
typedef int (*lda_emit_fn)(void *arg, const char *p, size_t n);

enum lda_msg_state {
	LDA_MSG_START,      /* is the first line "From "? */
	LDA_MSG_FROM_LINE,  /* inside that line: dropped */
	LDA_MSG_BODY,
};

struct lda_msg {
	enum lda_msg_state state;
	char head[5];            /* the first bytes, until they are or are not "From " */
	size_t n_head;
	bool from_line;          /* the message had a From line */
	bool sender_bad;         /* its sender was too long or not an address */
	bool sender_ended;       /* past the sender token of the From line */
	bool sender_null;        /* it was <> or MAILER-DAEMON */
	char sender[LDA_ADDR_MAX + 1];
	size_t n_sender;
	bool line_start;         /* the next byte starts a line */
	bool pending_cr;         /* a CR whose next byte is not here yet */
	bool eightbit;           /* a byte >= 0x80 was seen */
	uint64_t size;           /* RFC 1870 size so far */
};

void lda_msg_init(struct lda_msg *m);
/* n input bytes; 0, or -1 when emit refused. */
int lda_msg_feed(struct lda_msg *m, const char *p, size_t n, lda_emit_fn emit,
    void *arg);
/* The end of the input: what was held back, and a last line end. */
int lda_msg_finish(struct lda_msg *m, lda_emit_fn emit, void *arg);

/*
 * The sender the From line gave, for MAIL FROM:<...>: NULL when there was
 * no From line or its sender was unusable, "" for the null reverse-path
 * (Postfix writes "MAILER-DAEMON" for it).  Valid once finished.
 */
const char *lda_msg_sender(const struct lda_msg *m);

/*
 * Can s stand between < and > in MAIL FROM or RCPT TO?  Printable ASCII
 * without space, < or >, 1 to LDA_ADDR_MAX bytes.  (No quoted local parts
 * with spaces, no SMTPUTF8.)
 */
bool lda_addr_valid(const char *s);

#endif
