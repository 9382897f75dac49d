/*
 * One LMTP connection (RFC 2033): the state machine, the reading and the
 * writing.  What it needs from the rest of the system (who a recipient
 * is, the quota, the store) comes through a struct session_backend:
 * main.c wires the real one (lookup.c, deliver.c), the unit test a fake.
 *
 * Replies are buffered and sent when no more input is waiting, and at
 * once after LHLO, DATA, NOOP, QUIT, VRFY, EXPN, HELP and a command not
 * understood (PIPELINING, RFC 2920 §3.2).  DATA is answered once per
 * accepted recipient, in RCPT order, each as soon as that recipient is
 * done (RFC 2033 §4.2).  A client that says nothing for
 * SESSION_TIMEOUT_SECONDS is told 421 and left.
 */
#ifndef CAIRN_LMTPD_SESSION_H
#define CAIRN_LMTPD_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "lmtp.h"

/* RFC 5321 §4.5.3.2.7: a server waits at least 5 minutes for the next
 * command.  The same bound applies to each wait for more DATA (the RFC
 * gives the client 3 minutes per block it sends, §4.5.3.2.5). */
#define SESSION_TIMEOUT_SECONDS 300
/* Recipients of one transaction: each holds a store directory descriptor
 * until DATA is done.  RFC 5321 §4.5.3.1.8 asks for at least 100. */
#define SESSION_MAX_RCPTS 500
/* Commands refused (5xx) in a row before the connection is closed. */
#define SESSION_MAX_ERRORS 20
#define SESSION_USER_MAX 129     /* IPC_USER_LEN */

enum session_status {
	SESSION_OK = 0,
	SESSION_NO_SUCH_USER,    /* 550 5.1.1 */
	SESSION_DISABLED,        /* 550 5.2.1 */
	SESSION_OVERQUOTA,       /* 552 5.2.2 */
	SESSION_TEMPFAIL,        /* 451 4.3.0: the store failed */
	SESSION_UNAVAILABLE,     /* 451 4.4.3: the lookup service is down */
	SESSION_SHUTDOWN,        /* the master said stop while we waited: 421 */
};

/* An accepted recipient. */
struct session_rcpt {
	struct lmtp_rcpt_args args;   /* as RCPT gave it */
	char lookup[LMTP_PATH_MAX];   /* the address asked for: no +detail */
	char detail[LMTP_PATH_MAX];   /* "" when none, or details are off */
	char user[SESSION_USER_MAX];  /* who it is (the lookup's answer) */
	int store_dirfd;              /* that user's store */
};

/* One message, spooled and fsynced, to deliver to one recipient. */
struct session_delivery {
	int spool_dirfd;
	const char *spool_name;
	uint64_t size;                /* octets in the spool file */
	const char *prefix;           /* this recipient's header lines (trace.h) */
	size_t prefix_len;
	int64_t internaldate;
	int tz_minutes;
};

struct session_backend {
	/* Who is address?  On SESSION_OK fill r->user and r->store_dirfd. */
	enum session_status (*lookup)(void *arg, const char *address,
	    struct session_rcpt *r);
	/* May one more message of octets go into r's store (OK, OVERQUOTA,
	 * TEMPFAIL)? */
	enum session_status (*quota)(void *arg, const struct session_rcpt *r,
	    uint64_t octets);
	/* Put it there (OK, OVERQUOTA, TEMPFAIL). */
	enum session_status (*deliver)(void *arg, const struct session_rcpt *r,
	    const struct session_delivery *d);
	void *lookup_arg;             /* lookup's arg */
	void *store_arg;              /* quota's and deliver's */
};

struct session_settings {
	const char *hostname;         /* ours, for the greeting and Received: */
	const char *peer;             /* "local", or "[address]" */
	uint64_t session_id;
	uint64_t max_size;            /* lmtp-max-message-size */
	const char *delimiters;       /* lmtp-recipient-delimiter */
	bool detail_mailbox;          /* lmtp-detail-mailbox */
	int spool_dirfd;
	int control_fd;               /* the master, for SHUTDOWN; -1: none */
	int timeout_ms;               /* SESSION_TIMEOUT_SECONDS * 1000 */
};

/* Serve the client on fd until QUIT, EOF, a timeout or SHUTDOWN. */
void session_run(int fd, const struct session_settings *set,
    const struct session_backend *be);

#endif
