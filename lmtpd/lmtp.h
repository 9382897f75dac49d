/*
 * LMTP (RFC 2033) as bytes: command lines, their addresses and parameters,
 * and the DATA stream.  No I/O and no state but what the caller hands in:
 * the session (session.c) reads and writes, this decides.  Every parse is
 * bounded by the length it is given, and a refusal comes back as the
 * whole reply line to send (code, enhanced status code, text).
 */
#ifndef CAIRN_LMTP_H
#define CAIRN_LMTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A command line, CRLF included, is at most 512 octets (RFC 5321
 * §4.5.3.1.4).  RCPT alone may be longer by what XCAIRN-MAILBOX adds: a
 * space, the keyword, '=' and the xtext (RFC 3461 §4) of a mailbox name of
 * at most 1000 octets, three characters an octet at worst (RFC 3461
 * raises the limit the same way for its NOTIFY and ORCPT).  A longer line is read to its end,
 * thrown away and answered "500 5.5.2".
 */
#define LMTP_LINE_MAX 512
#define LMTP_MAILBOX_MAX 1000            /* STORE_MAILBOX_NAME_MAX */
#define LMTP_RCPT_LINE_MAX (LMTP_LINE_MAX + 16 + 3 * LMTP_MAILBOX_MAX)
/* A reverse-path or forward-path with its angle brackets (§4.5.3.1.3). */
#define LMTP_PATH_MAX 256
#define LMTP_DOMAIN_MAX 255              /* §4.5.3.1.2 */

enum lmtp_verb {
	LMTP_UNKNOWN = 0,
	LMTP_LHLO, LMTP_HELO, LMTP_EHLO, LMTP_MAIL, LMTP_RCPT, LMTP_DATA,
	LMTP_BDAT, LMTP_RSET, LMTP_NOOP, LMTP_QUIT, LMTP_VRFY, LMTP_EXPN,
	LMTP_HELP,
};

/*
 * The verb of a command line (without its CRLF), case-insensitively;
 * *args points past it and the space after it ("" when none).
 */
enum lmtp_verb lmtp_verb(const char *line, size_t len, const char **args,
    size_t *args_len);

/* An address as MAIL or RCPT gave it. */
struct lmtp_address {
	/* The mailbox as written (quotes and all, no source route, no
	 * brackets): Return-Path and Delivered-To show it.  "" for <>. */
	char text[LMTP_PATH_MAX];
	/* The local part with its quoting undone, and the domain ("" when the
	 * address had none: cairn-deliver sends user names alone). */
	char local[LMTP_PATH_MAX];
	char domain[LMTP_PATH_MAX];
};

enum lmtp_body { LMTP_BODY_NONE = 0, LMTP_BODY_7BIT, LMTP_BODY_8BITMIME };

struct lmtp_mail {
	struct lmtp_address from;
	bool has_size;
	uint64_t size;            /* SIZE= (RFC 1870) */
	enum lmtp_body body;      /* BODY= (RFC 6152) */
};

struct lmtp_rcpt_args {
	struct lmtp_address to;
	bool has_mailbox;
	char mailbox[LMTP_MAILBOX_MAX + 1];  /* XCAIRN-MAILBOX=, decoded */
};

/*
 * The arguments of LHLO (a domain or an address literal), MAIL and RCPT.
 * NULL on success, else the reply to send.  The LHLO name is copied to
 * name (size LMTP_DOMAIN_MAX + 1); only letters, digits, '.', '-', '_'
 * and, in an address literal, ':' get through, so it may go into a header.
 */
const char *lmtp_parse_lhlo(const char *args, size_t len, char *name);
const char *lmtp_parse_mail(const char *args, size_t len, struct lmtp_mail *out);
const char *lmtp_parse_rcpt(const char *args, size_t len,
    struct lmtp_rcpt_args *out);

/*
 * RFC 3461 §4 xtext into at most outsize - 1 octets and a NUL; false when
 * the syntax is wrong, it decodes to a NUL, or it does not fit.
 */
bool lmtp_xtext_decode(const char *in, size_t len, char *out, size_t outsize);

/*
 * user+detail: split local at the first of the delimiter characters (none
 * when delimiters is "" or the local part starts with one).  user gets the
 * part before, detail the part after ("" when there is no split); both
 * have room for LMTP_PATH_MAX octets.
 */
void lmtp_split_detail(const char *local, const char *delimiters, char *user,
    char *detail);

/*
 * The DATA stream (RFC 5321 §4.5.2, §4.1.1.4).  Lines are what CRLF ends,
 * and only CRLF: the data ends at CRLF "." CRLF and nowhere else, so a
 * "\n.\n" or "\r.\r" some other server would take for the end is data
 * here (the SMTP smuggling of 2023 needs two servers to disagree on
 * that).  A '.' that starts a line is removed (dot-stuffing).  A bare LF
 * is stored as CRLF, as the store keeps CRLF lines, but it starts no line:
 * a '.' after it is kept.  A bare CR is kept as it is.  Lines have no
 * length limit (RFC 5321 §4.5.3.1.6 asks for at least 1000 octets and
 * §4.5.3.1 for no limit where possible; Postfix folds longer lines before
 * they get here, others need not).  Other octets, 8-bit ones and NUL
 * included, pass untouched.
 */
enum lmtp_data_state {
	LMTP_DATA_LINE_START = 0, /* after CRLF, or at the start */
	LMTP_DATA_DOT,            /* "." at a line start */
	LMTP_DATA_DOT_CR,         /* ".\r" at a line start */
	LMTP_DATA_TEXT,
	LMTP_DATA_CR,             /* a CR not yet known to start a CRLF */
	LMTP_DATA_DONE,           /* CRLF "." CRLF seen */
};

struct lmtp_data {
	enum lmtp_data_state state;
};

void lmtp_data_init(struct lmtp_data *d);
/*
 * Decode from in (len octets) into out (room for outsize, at least 3),
 * stopping after the end of the data.  Returns the octets of in used;
 * *outlen gets the octets written.  Call again with the rest when not done
 * (the rest after the end is the next command).
 */
size_t lmtp_data_decode(struct lmtp_data *d, const char *in, size_t len,
    char *out, size_t outsize, size_t *outlen);
bool lmtp_data_done(const struct lmtp_data *d);

#endif
