/*
 * QRESYNC (RFC 7162 §3.2) without I/O or a mailbox: the parameter of
 * SELECT and EXAMINE, which UIDs a resynchronisation names as vanished
 * when the tombstones it would need were purged (§3.2.5.1, §3.2.5.2), and
 * the VANISHED responses themselves (§3.2.10).  imapd/resync.c puts them
 * on the wire; tests/check_qresync.c tests them here.
 */
#ifndef CAIRN_IMAPD_QRESYNC_H
#define CAIRN_IMAPD_QRESYNC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "parser.h"
#include "seqset.h"
#include "uidsearch.h"

/*
 * "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data]
 * ")" (§7 select-param).  The sets are normal (seqset.h); known.n == 0:
 * no known-uids; match_seqs.n == 0: no seq-match-data, else match_uids
 * holds as many UIDs, pairing up in ascending order.
 */
struct qresync_param {
	uint32_t uidvalidity;
	uint64_t modseq;
	struct seqset known;
	struct seqset match_seqs, match_uids;
};

#define QRESYNC_PARAM_INIT { 0, 0, SEQSET_INIT, SEQSET_INIT, SEQSET_INIT }

/*
 * The list after QRESYNC into p (initialised; its sets are replaced).  0,
 * or -1 with *why, a static text for "<tag> BAD <why>": a malformed list,
 * a number out of range, "*" or "$" in a set, or seq-match-data whose
 * two sets differ in size.
 */
int qresync_parse(const struct imap_arg *list, struct qresync_param *p,
    const char **why);
void qresync_param_free(struct qresync_param *p);

/* The mailbox as a client sees it: the UID of message number msn, 0 when
 * there is none (a uidsearch_at_fn whose positions are message numbers). */
typedef uidsearch_at_fn qresync_uid_at_fn;

/*
 * The first message number of a mailbox of exists messages whose UID is
 * uid or more, exists + 1 when there is none: where a range of UIDs
 * starts among the messages, by the binary search the store uses too
 * (uidsearch_lower).  For QRESYNC's ranges and every UID set of a command
 * (select_uids).
 */
uint32_t qresync_msn_from_uid(qresync_uid_at_fn *uid_at, void *ctx,
    uint32_t exists, uint32_t uid);

/*
 * §3.2.5.2: every expunge up to this UID is known to the client.  The
 * pairs of seq-match-data are taken in order while the message number
 * still has the UID the client gave; the first that does not ends the
 * walk (a message below it went).  0: no pair matched, or no data.
 */
uint32_t qresync_match_floor(const struct qresync_param *p,
    qresync_uid_at_fn *uid_at, void *ctx);

/*
 * The UIDs of known (normal) above floor and below uidnext that the
 * mailbox (exists messages, UIDs ascending through uid_at) does not hold,
 * added to out: what a resynchronisation names when it cannot know which
 * of them went after the client's modseq.  Costs a binary search per
 * range of known and a step per message inside it.
 */
void qresync_missing(const struct seqset *known, uint32_t floor,
    uint32_t uidnext, qresync_uid_at_fn *uid_at, void *ctx, uint32_t exists,
    struct seqset *out);

/* uids (any order, repeats allowed) added to out, which stays normal. */
void qresync_set_from_uids(const uint32_t *uids, size_t n, struct seqset *out);

/* What one VANISHED line may hold, without "* " and CRLF: longer sets are
 * split over several lines, each a complete response. */
#define QRESYNC_LINE_MAX 8000
#define QRESYNC_LINE_MIN 64

/*
 * "VANISHED 1:3,5,7:9", or with earlier "VANISHED (EARLIER) ...", for a
 * normal set: emit() gets each line in turn (valid while it runs), none of
 * them longer than max (at least QRESYNC_LINE_MIN), ranges ascending and
 * never cut.  Nothing for an empty set.
 */
void qresync_vanished_lines(const struct seqset *set, bool earlier, size_t max,
    void (*emit)(void *arg, const struct buf *line), void *arg);

#endif
