/*
 * What a session tells the master for cairnctl who and stats: its state
 * and selected mailbox when they change (IPC_SESSION_STATE), and the
 * commands and bytes since its last report (IPC_SESSION_STATS), sent with
 * each state report and at the end.  State changes are rare (login,
 * SELECT, IDLE, logout), so the master is never asked and never waits.
 * Nothing is sent in -S mode (no master).
 */
#ifndef CAIRN_IMAPD_REPORT_H
#define CAIRN_IMAPD_REPORT_H

#include <stdbool.h>

#include "session.h"

/* Count one command by name (cmd_dispatch). */
void report_command(const char *name);
/* After a command, or as IDLE starts (idle true): report what changed. */
void report_state(struct session *s, bool idle);
/* The session is over: the last counts. */
void report_end(struct session *s);

#endif
