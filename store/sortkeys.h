/*
 * The sort and thread keys of one message (RFC 5256 §2.1, §2.2, §3;
 * RFC 5957), made from its header: by the store when the message is
 * stored (index.db sort_keys, schema step 9), and from the header again
 * for a message stored before (store_message_sortkeys).  No I/O: one copy
 * of the rules, for both.
 *
 * The strings are compared by i;ascii-casemap (RFC 5256 §3, RFC 4790
 * §9.2), so they are kept folded to ASCII upper case: byte order
 * (strcmp) is then the collation's order.
 */
#ifndef CAIRN_STORE_SORTKEYS_H
#define CAIRN_STORE_SORTKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * Bounds that keep the keys of a mailbox proportional to its message
 * count: bytes kept of a subject or address key (two subjects alike in
 * their first 1 KiB sort as equal), msg-ids kept of References (the last
 * ones: the nearest ancestors), and the longest msg-id taken (a longer one
 * counts as invalid).
 */
#define SORTKEYS_STR_MAX 1024
#define SORTKEYS_REFS_MAX 64
#define SORTKEYS_ID_MAX 512

enum sortkeys_str {
	SORTKEYS_SUBJECT,    /* base subject (RFC 5256 §2.1), folded */
	SORTKEYS_FROM,       /* addr-mailbox of the first address, folded */
	SORTKEYS_TO,
	SORTKEYS_CC,
	SORTKEYS_DFROM,      /* RFC 5957 display value of it, folded */
	SORTKEYS_DTO,
	SORTKEYS_MSGID,      /* normalised (mime_msgid_next), as written */
	SORTKEYS_NSTR
};

/* What sortkeys_make makes: a bit per string, the refs, the date. */
#define SORTKEYS_WANT_STR(i) (1u << (i))
#define SORTKEYS_WANT_REFS (1u << SORTKEYS_NSTR)
#define SORTKEYS_WANT_DATE (1u << (SORTKEYS_NSTR + 1))
#define SORTKEYS_WANT_ALL ((1u << (SORTKEYS_NSTR + 2)) - 1)

struct sortkeys {
	/* The sent date in UTC (RFC 5256 §2.2) when the Date field parses;
	 * without, the reader uses the INTERNALDATE of its message (a blob's
	 * copies may differ in it, so it is not kept here). */
	bool has_date;
	int64_t date;
	bool reply;          /* the subject marks a reply or forward */
	const char *str[SORTKEYS_NSTR];  /* NUL-terminated; "" for none */
	/* RFC 5256 §3 REFERENCES: the msg-ids of References, else the first
	 * of In-Reply-To, oldest first, each NUL-terminated, one after the
	 * other: refs_len bytes in all (0: none). */
	const char *refs;
	size_t refs_len;
	size_t n_refs;
};

/*
 * The keys of header[0..len) (the header fields, up to the blank line
 * that ends them; a field given twice counts by its first occurrence, as
 * in ENVELOPE): those of want (SORTKEYS_WANT_ bits; the others are ""
 * or none).  The strings are written to text (reset first), which must
 * outlive *k and not change while k is used.
 */
void sortkeys_make(const char *header, size_t len, unsigned want,
    struct buf *text, struct sortkeys *k);

/* The next msg-id of a refs list at *p (NULL when none is left). */
const char *sortkeys_ref_next(const struct sortkeys *k, const char **p);

#endif
