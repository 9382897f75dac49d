/*
 * Mailbox name encodings: modified UTF-7 (RFC 3501 §5.1.3, still what
 * IMAP4rev1 clients send without UTF8=ACCEPT) and strict UTF-8 checking
 * (RFC 3629).  Pure functions on byte strings; output goes to a struct buf.
 */
#ifndef CAIRN_IMAPD_MUTF7_H
#define CAIRN_IMAPD_MUTF7_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"

/*
 * Modified UTF-7 in[0..len) to UTF-8, appended to utf8.  Strict: a name a
 * conforming client could not have produced is refused, so every mailbox
 * has exactly one modified UTF-7 spelling:
 *  - only 0x20..0x7e on the wire; "&-" is "&";
 *  - a shift "&...-" must be closed by '-', use the ',' alphabet without
 *    '=' padding, hold whole UTF-16 units (leftover bits < 6 and zero),
 *    pair its surrogates, and encode no printable US-ASCII character;
 *  - a shift may not directly follow another ("&AOQ-&APY-"): an encoder
 *    must have merged them.
 * U+0000 is refused as well: no mailbox name can hold it.
 * Returns 0, or -1 with utf8 as it was (nothing appended); when the -1 is
 * due to utf8's limit, utf8->overflow is set.
 */
int mutf7_decode(const char *in, size_t len, struct buf *utf8);

/*
 * UTF-8 utf8[0..len) to modified UTF-7, appended to out; each run of
 * characters outside 0x20..0x7e becomes one shift.  -1 (out as it was) on
 * invalid UTF-8 (see utf8_valid), on U+0000, or when out's limit is hit.
 */
int mutf7_encode(const char *utf8, size_t len, struct buf *out);

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800..DFFF),
 * nothing above U+10FFFF, no truncated sequence.  U+0000 is valid UTF-8
 * and accepted here; callers that store C strings check for it themselves.
 */
bool utf8_valid(const char *s, size_t len);

#endif
