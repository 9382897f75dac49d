/*
 * Who a recipient is, asked of the master (IPC_LOOKUP_REQUEST), which
 * asks cairn-authd and answers with the user and, as at a login, a
 * descriptor of that user's store directory (created on first use).
 * One question at a time; the answer is awaited, at most
 * LOOKUP_TIMEOUT_SECONDS.
 */
#ifndef CAIRN_LMTPD_LOOKUP_H
#define CAIRN_LMTPD_LOOKUP_H

#include "session.h"

#define LOOKUP_TIMEOUT_SECONDS 60

/* session_backend.lookup; arg points to the master's descriptor (int). */
enum session_status lookup_recipient(void *arg, const char *address,
    struct session_rcpt *r);

#endif
