/*
 * OBJECTID (RFC 8474): the MAILBOXID of a mailbox and the EMAILID of a
 * message, as the strings clients see.
 *
 *   MAILBOXID  "M" and the mailbox's UIDVALIDITY in 8 hex digits.  The
 *              store hands out UIDVALIDITY values strictly increasing per
 *              user (store.h), so no two mailboxes ever share one; RENAME
 *              keeps it, and a mailbox made anew (RENAME of INBOX's
 *              target, a \Noselect one created again) gets a new one, as
 *              RFC 8474 §4 asks.
 *   EMAILID    "E" and the message's email_id (its blob) in 16 hex digits:
 *              the same for a COPY or MOVE of it (§5.1).
 *   THREADID   "T" and the message's thread (store.h thread_id) in 16 hex
 *              digits: one per conversation of the user, in every mailbox,
 *              kept by COPY and MOVE, never changed (§5.2; how threads are
 *              found: store/threadid.c).  NIL for a message without one.
 *
 * The three prefixes keep the kinds apart: a THREADID is never also an
 * EMAILID (§5.2).
 */
#ifndef CAIRN_IMAPD_OBJECTID_H
#define CAIRN_IMAPD_OBJECTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OBJECTID_MAX 255          /* RFC 8474 §3: 1 to 255 characters */
#define OBJECTID_BUF 24           /* what Cairn makes, with its NUL */

void objectid_mailbox(uint32_t uidvalidity, char out[OBJECTID_BUF]);
void objectid_email(uint64_t email_id, char out[OBJECTID_BUF]);
void objectid_thread(uint64_t thread_id, char out[OBJECTID_BUF]);
/* RFC 8474 objectid syntax: 1*255 ALPHA / DIGIT / "_" / "-". */
bool objectid_valid(const char *s, size_t len);
/* An EMAILID this server made: its email_id; false for any other string. */
bool objectid_email_parse(const char *s, size_t len, uint64_t *email_id);
/* A THREADID this server made: its thread_id; false for any other. */
bool objectid_thread_parse(const char *s, size_t len, uint64_t *thread_id);

#endif
