/*
 * Delivery into a recipient's store, one recipient at a time (a process
 * has one store open at a time: store_open fchdir()s into it).  Which
 * mailbox: the one XCAIRN-MAILBOX names if it exists and is selectable;
 * else, with a +detail (lmtp-detail-mailbox), the mailbox of that exact
 * name if it exists, is selectable and is subscribed; else INBOX.
 *
 * The store of the last recipient stays open for the next one of the
 * same user: from the quota check at RCPT to the delivery after DATA,
 * and across the transactions of one connection (an MTA delivers many
 * messages over one: Postfix caches LMTP connections), where an open
 * at RCPT and another after DATA read the schema and prepared the
 * statements twice per message.  A recipient of another user closes it
 * and opens theirs.  Between calls it holds no transaction: each quota
 * check and delivery reads the store as it is then, whatever other
 * processes wrote meanwhile, and holds back nobody's checkpoint.
 */
#ifndef CAIRN_LMTPD_DELIVER_H
#define CAIRN_LMTPD_DELIVER_H

#include <sys/types.h>

#include "session.h"

struct store;

struct deliver_store {
	struct store *st;     /* NULL: none open */
	int dirfd;            /* our copy of the recipient's: st works in it */
	dev_t dev;            /* which directory that is */
	ino_t ino;
	unsigned opens;       /* stores opened in this session */
};

void deliver_store_init(struct deliver_store *ds);
/* Close the store kept open, if any: at the end of the session. */
void deliver_store_close(struct deliver_store *ds);

/* session_backend.quota and .deliver; arg is a struct deliver_store. */
enum session_status deliver_quota(void *arg, const struct session_rcpt *r,
    uint64_t octets);
enum session_status deliver_message(void *arg, const struct session_rcpt *r,
    const struct session_delivery *d);

#endif
