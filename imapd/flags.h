/*
 * Message flags on the wire: "(\Seen \Flagged $Junk)" out, and the
 * flag lists of STORE and APPEND in (RFC 9051 §2.3.2, §9 flag-list).
 */
#ifndef CAIRN_FLAGS_H
#define CAIRN_FLAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "parser.h"
#include "store.h"

struct flag_list {
	unsigned flags;                          /* STORE_FLAG_* */
	const char *keywords[STORE_KEYWORDS_MAX]; /* point into the parsed command */
	size_t n_keywords;
};

/*
 * Parse a flag list argument (a parenthesised list, or for STORE a single
 * flag atom).  \Recent is refused (it cannot be set, RFC 9051 §2.3.2), as
 * are unknown system flags and keywords that are not atoms.  0, or -1 with
 * *why for the BAD text.
 */
int flags_parse(const struct imap_arg *arg, bool allow_single, struct flag_list *out,
    const char **why);
/* "(\Seen \Answered kw ...)"; with_recent adds \Recent (IMAP4rev1 only). */
int flags_format(const struct store_message *m, bool with_recent, struct buf *out);
/* The FLAGS and PERMANENTFLAGS lists of a mailbox (SELECT responses). */
int flags_format_mailbox(struct store_view *v, bool permanent, struct buf *out);

#endif
