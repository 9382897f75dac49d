/*
 * The selected state (RFC 9051 §6.3.2, §6.4): helpers shared by the
 * commands that work on the selected mailbox and its messages (SELECT and
 * friends in cmd-select.c, STORE / COPY / MOVE in cmd-store.c, FETCH,
 * SEARCH), implemented in cmd-select.c; those of QRESYNC in resync.c.
 */
#ifndef CAIRN_IMAPD_SELECT_H
#define CAIRN_IMAPD_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "parser.h"
#include "qresync.h"
#include "session.h"

/*
 * The messages a sequence-set argument names in the selected mailbox, as
 * ascending UIDs of the view (each once).  by_uid: the numbers are UIDs
 * (pass s->uid_command for a command's own set); those the view does not
 * have are left out, "*" is the largest UID and names nothing in an empty
 * mailbox.  Else they are message sequence numbers: one above EXISTS, or
 * any in an empty mailbox, is an error (RFC 9051 §6.4 allows NO or BAD; we
 * say BAD, as Dovecot does).  "$" (RFC 5182) is the saved search result,
 * whatever by_uid says; empty when nothing was saved.  Messages another
 * session expunged but the client has not been told of yet are included
 * (RFC 9051 §7.5.1: the store skips them).
 *
 * 0 with *uids (free() it; may be NULL when *n is 0) and *n; -1 with *why,
 * a static text for "<tag> BAD <why>".
 */
int select_uids(struct session *s, const struct imap_arg *arg, bool by_uid,
    uint32_t **uids, size_t *n, const char **why);
/* The UID of message msn of a struct store_view (0: none), as
 * qresync_uid_at_fn. */
uint32_t select_view_uid_at(void *view, uint32_t msn);

/*
 * A mailbox name argument (astring) as the UTF-8 the store wants
 * (appended to utf8): modified UTF-7 (RFC 3501 §5.1.3) unless the client
 * enabled IMAP4rev2 or UTF8=ACCEPT (RFC 9051 §5.1, RFC 6855), then UTF-8.
 * Not checked against the store's naming rules.  0; -1 with *why for a
 * BAD (not an astring, NUL, 8-bit or invalid UTF-8); 1 with *why when it
 * is no name a mailbox can have (invalid modified UTF-7): answer NO.
 */
int select_mailbox_name(const struct session *s, const struct imap_arg *arg,
    struct buf *utf8, const char **why);

/*
 * A mod-sequence argument (RFC 7162 §7 mod-sequence-valzer: digits, at
 * most 2^63 - 1; 0 is allowed) for UNCHANGEDSINCE, CHANGEDSINCE, MODSEQ.
 * 0, or -1 when it is not one.
 */
int select_parse_modseq(const struct imap_arg *arg, uint64_t *out);

/*
 * "* FLAGS (...)" and "* OK [PERMANENTFLAGS (...)]" for the selected
 * mailbox (empty PERMANENTFLAGS when read-only): at SELECT, and again
 * whenever a new keyword appears.  0, or -1 on a store error.
 */
int select_send_flags(struct session *s);

/* Has the client made this session CONDSTORE-aware (RFC 7162 §3.1)? */
bool select_condstore(const struct session *s);
/*
 * A CONDSTORE enabling command ran (RFC 7162 §3.1: SELECT (CONDSTORE),
 * FETCH MODSEQ or CHANGEDSINCE, SEARCH MODSEQ, STORE UNCHANGEDSINCE, ...):
 * the first one with a mailbox selected also sends
 * "* OK [HIGHESTMODSEQ n]" so the client has a starting point.
 */
void select_enable_condstore(struct session *s);

/* Close the view (nothing expunged) and return to the authenticated state. */
void select_close(struct session *s);

/* A store call failed with STORE_ERROR: log why, answer NO [SERVERBUG]. */
void select_store_failed(struct session *s, const char *tag);

/* ---- QRESYNC (RFC 7162 §3.2), resync.c ---------------------------------- */

/*
 * Messages left the view (a store_expunged_fn; arg is the session): a
 * "* n EXPUNGE" each, or once QRESYNC is enabled "* VANISHED <uids>"
 * (§3.2.10.2), in as many lines as QRESYNC_LINE_MAX needs.
 */
void select_expunged(void *arg, const uint32_t *msn, const uint32_t *uid,
    size_t n);
/*
 * "* VANISHED (EARLIER) <uids>" (§3.2.6, §3.2.10.1) for the UIDs of set
 * (normal) expunged after modseq since.  When that is older than the
 * tombstones kept, every UID of set above floor (§3.2.5.2) and below
 * UIDNEXT that the view lacks.  Nothing when there are none.  0, or -1
 * after a store error (logged): answer NO [SERVERBUG].
 */
int select_vanished_earlier(struct session *s, const struct seqset *set,
    uint64_t since, uint32_t floor);
/*
 * SELECT / EXAMINE (QRESYNC (...)), after the usual responses (§3.2.5):
 * when the UIDVALIDITY matches, VANISHED (EARLIER) and then "FETCH (UID
 * FLAGS MODSEQ)" of the messages changed since the client's modseq,
 * both within its known UIDs.  0, or -1 after a store error (logged).
 */
int select_resync(struct session *s, const struct qresync_param *q);

#endif
