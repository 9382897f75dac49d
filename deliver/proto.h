/*
 * The pure parts of cairn-deliver's LMTP client: reading a server's
 * reply (RFC 5321 §4.2, enhanced status codes of RFC 2034 and RFC 3463),
 * the LHLO keywords it cares about, xtext (RFC 3461 §4) for the
 * XCAIRN-MAILBOX parameter, and the exit status (sysexits.h) each reply
 * means to the MTA that ran cairn-deliver.  No I/O.
 */
#ifndef CAIRN_DELIVER_PROTO_H
#define CAIRN_DELIVER_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A reply line is at most 512 octets (RFC 5321 §4.5.3.1.5); we take more
 * from a server that is liberal, not without end. */
#define LDA_LINE_MAX 2048
/* Lines of one reply: LHLO's keywords are a dozen. */
#define LDA_REPLY_LINES_MAX 64
/* What is kept of a reply's text for the one line on standard error. */
#define LDA_REPLY_TEXT_MAX 1024

/* Where in the conversation a reply came; what is expected differs. */
enum lda_stage {
	LDA_STAGE_GREETING,
	LDA_STAGE_LHLO,
	LDA_STAGE_MAIL,
	LDA_STAGE_RCPT,
	LDA_STAGE_DATA,      /* the 354 */
	LDA_STAGE_DATA_END,  /* the recipient's reply after the final dot */
	LDA_STAGE_QUIT,
};

struct lda_reply {
	int code;                    /* 0 before the first line */
	int enh[3];                  /* enhanced status code; enh[0] == 0: none */
	unsigned n_lines;
	bool done;
	bool truncated;              /* text ends in "..." */
	size_t len;
	char text[LDA_REPLY_TEXT_MAX]; /* "550 5.1.1 ..." and the lines after it */
};

enum lda_reply_status {
	LDA_REPLY_BAD = -1,          /* not a reply line, or not of this reply */
	LDA_REPLY_MORE = 0,          /* a "ddd-" line: more follow */
	LDA_REPLY_DONE = 1,
};

void lda_reply_init(struct lda_reply *r);
/* One line, without its CRLF. */
enum lda_reply_status lda_reply_line(struct lda_reply *r, const char *line,
    size_t len);

/* The LHLO keywords cairn-deliver uses (RFC 1870, RFC 6152, ours). */
struct lda_caps {
	bool size;
	uint64_t size_max;           /* 0: SIZE without a limit */
	bool eightbitmime;
	bool xcairn_mailbox;
};

/* One line of the LHLO reply after the first (the first is the server's
 * name), without the "250-" or "250 ". */
void lda_caps_line(struct lda_caps *caps, const char *text, size_t len);

/* Mailbox names as Cairn's store takes them: UTF-8, at most this long. */
#define LDA_MAILBOX_MAX 1000

/*
 * Can s be the -m mailbox?  1 to LDA_MAILBOX_MAX bytes of well-formed
 * UTF-8 without control characters.  Whether the mailbox exists is
 * cairn-lmtpd's to find out (INBOX when it does not).
 */
bool lda_mailbox_valid(const char *s);

/*
 * in as xtext into out (size bytes, NUL-terminated): every byte that is
 * not printable ASCII, and "+" and "=", as "+" and two upper-case hex
 * digits.  0, or -1 when out is too small (3 * strlen(in) + 1 is enough).
 */
int lda_xtext(const char *in, char *out, size_t size);

/* Is code the reply that lets the conversation go on at this stage? */
bool lda_reply_expected(enum lda_stage stage, int code);
/*
 * The exit status for a reply at a stage (cairn-deliver(8), EXIT STATUS):
 * EX_OK when it is the expected one; 4xx EX_TEMPFAIL; unknown user
 * EX_NOUSER; over quota EX_CANTCREAT; a message refused for its size or
 * its content EX_DATAERR; a reply that makes no sense EX_TEMPFAIL, so
 * that the MTA keeps the message.
 */
int lda_exit_for(enum lda_stage stage, const struct lda_reply *r);

#endif
