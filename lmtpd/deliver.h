/*
 * Delivery into a recipient's store, one recipient at a time (a process
 * has one store open at a time: store_open fchdir()s into it).  Which
 * mailbox: the one XCAIRN-MAILBOX names if it exists and is selectable;
 * else, with a +detail (lmtp-detail-mailbox), the mailbox of that exact
 * name if it exists, is selectable and is subscribed; else INBOX.
 */
#ifndef CAIRN_LMTPD_DELIVER_H
#define CAIRN_LMTPD_DELIVER_H

#include "session.h"

/* session_backend.quota and .deliver; arg is not used. */
enum session_status deliver_quota(void *arg, const struct session_rcpt *r,
    uint64_t octets);
enum session_status deliver_message(void *arg, const struct session_rcpt *r,
    const struct session_delivery *d);

#endif
