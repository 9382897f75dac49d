/*
 * The base subject of RFC 5256 §2.1: what SORT SUBJECT compares and what
 * THREAD groups messages by, the subject without "Re:", "Fwd:", "[list]"
 * and "(fwd)" decorations.  Pure functions: no I/O, no mailbox.
 */
#ifndef CAIRN_STORE_BASESUBJECT_H
#define CAIRN_STORE_BASESUBJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * The base subject of s[0..len), a subject already decoded to UTF-8 (step
 * 1's RFC 2047 decoding done), appended to out: white space runs made one
 * space, then steps 2 to 6 of §2.1.  *reply (may be NULL) is set when
 * the extraction removed a subj-refwd ("Re:", "Fwd:"), a "(fwd)" trailer
 * or a "[fwd: ...]" wrapper, which makes the message a reply or forward
 * for THREAD=REFERENCES (RFC 5256 §3).  The case is kept: comparisons are
 * i;ascii-casemap (basesubject_cmp).  0, or -1 when out's limit is hit.
 */
int basesubject(const char *s, size_t len, struct buf *out, bool *reply);

/* The same for a raw Subject value as it is in the header: encoded words
 * (RFC 2047) are decoded first (step 1). */
int basesubject_raw(const char *value, size_t len, struct buf *out, bool *reply);

/*
 * i;ascii-casemap (RFC 4790 §9.2), the collation of SORT and THREAD
 * (RFC 5256 §1, I18NLEVEL=1): a-z are taken as A-Z, then the octets
 * compare as unsigned; a string sorts before the longer ones it begins.
 */
int basesubject_cmp(const char *a, const char *b);

#endif
