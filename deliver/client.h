/*
 * cairn-deliver's LMTP conversation (RFC 2033) with cairn-lmtpd over
 * lmtp-socket: LHLO, MAIL, RCPT, DATA and QUIT for one message and one
 * recipient, every wait bounded by a timeout.
 */
#ifndef CAIRN_DELIVER_CLIENT_H
#define CAIRN_DELIVER_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "spool.h"

struct lda_delivery {
	const char *socket_path;     /* for messages */
	const char *helo;            /* our name, for LHLO */
	const char *sender;          /* "" for the null reverse-path */
	const char *rcpt;
	const char *mailbox;         /* NULL: no XCAIRN-MAILBOX */
	struct lda_spool *spool;     /* the DATA bytes, dot-stuffed */
	uint64_t size;               /* RFC 1870 size of the message */
	bool eightbit;
	unsigned timeout;            /* seconds, for each wait */
};

/*
 * A connected, non-blocking stream socket to the Unix socket at path, or
 * -1 with errno set (ENAMETOOLONG when the path does not fit).
 */
int lda_connect(const char *path);
/*
 * The whole conversation on fd (closed before return).  Returns the exit
 * status (sysexits.h); when it is not EX_OK, why holds one line saying
 * what went wrong, with the server's reply when there was one.
 */
int lda_deliver(int fd, const struct lda_delivery *d, char *why, size_t why_len);

#endif
