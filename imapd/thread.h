/*
 * THREAD's algorithms (RFC 5256 §3): ORDEREDSUBJECT and REFERENCES, on
 * plain structs, with no mailbox and no I/O, so tests can feed them
 * directly.  The answer is the thread-list text of RFC 5256 §4:
 * "(1 2)(3 (4)(5))", "((6)(7))" for threads whose first message is
 * missing.
 */
#ifndef CAIRN_IMAPD_THREAD_H
#define CAIRN_IMAPD_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

struct thread_msg {
	uint32_t num;            /* what the answer names it by: MSN or UID */
	int64_t date;            /* sent date (RFC 5256 §2.2) */
	const char *subject;     /* base subject (§2.1); NULL: empty */
	bool reply;              /* the subject marks a reply or forward */
	/* REFERENCES only: normalised msg-ids, compared as they are (§3:
	 * Message ID comparisons are case-sensitive) */
	const char *msgid;       /* NULL: none */
	const char *const *refs; /* References (or In-Reply-To), oldest first */
	size_t n_refs;
};

/*
 * msgs[0..n) in mailbox order: their order breaks ties of sent dates.
 * The threads are appended to out (nothing for no message); 0, or -1 when
 * out's limit was reached.
 */
int thread_orderedsubject(const struct thread_msg *msgs, size_t n, struct buf *out);
int thread_references(const struct thread_msg *msgs, size_t n, struct buf *out);

#endif
