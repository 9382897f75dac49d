/*
 * SEARCH keys (RFC 9051 §6.4.4 and §9 search-key, RFC 3501 for the
 * IMAP4rev1 keys, RFC 7162 MODSEQ, RFC 8514 SAVED*): parsing the client's arguments into a
 * bounded key tree, and matching one message against it.  Also the two
 * IMAP date syntaxes (SEARCH's date, APPEND's date-time).  No I/O and no
 * mailbox access: the caller hands each message in (struct search_input),
 * so the matcher can be tested on messages made up in memory.
 */
#ifndef CAIRN_IMAPD_SEARCH_H
#define CAIRN_IMAPD_SEARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parser.h"
#include "seqset.h"
#include "store.h"

/* Keys in one program (each NOT, OR and parenthesised group counts). */
#define SEARCH_MAX_KEYS 1000
/* Nesting of NOT, OR and parentheses. */
#define SEARCH_MAX_DEPTH 32

/*
 * date = date-text / DQUOTE date-text DQUOTE (the quotes are gone by now),
 * date-text = 1*2DIGIT "-" Mon "-" 4DIGIT, the month name in any case.
 * *day: days since 1970-01-01 (negative before).  0, or -1 when malformed
 * (a day the month does not have included).
 */
int search_parse_date(const char *s, size_t len, int64_t *day);

/*
 * APPEND's date-time (RFC 9051 §9): "dd-Mon-yyyy hh:mm:ss +zzzz", the day
 * as two digits or a space and a digit.  *t: unix time; *tz_minutes: the
 * zone offset.  0, or -1 when malformed.
 */
int search_parse_datetime(const char *s, size_t len, int64_t *t, int *tz_minutes);

/* ---- the key tree --------------------------------------------------------- */

enum search_key_type {
	SEARCH_KEY_ALL,
	SEARCH_KEY_AND,         /* children: every one matches */
	SEARCH_KEY_OR,          /* children (two): either matches */
	SEARCH_KEY_NOT,         /* child (one) */
	SEARCH_KEY_SEQSET,      /* set: message sequence numbers */
	SEARCH_KEY_UIDSET,      /* set: UIDs */
	SEARCH_KEY_SAVED,       /* "$" or "UID $" (RFC 5182): the UID is in
	                         * the program's saved result */
	SEARCH_KEY_FLAG,        /* flag: a STORE_FLAG_* bit is set */
	SEARCH_KEY_KEYWORD,     /* str: the keyword is set (case-insensitive) */
	SEARCH_KEY_RECENT,
	SEARCH_KEY_LARGER,      /* num: RFC822.SIZE > num */
	SEARCH_KEY_SMALLER,     /* num: RFC822.SIZE < num */
	SEARCH_KEY_BEFORE,      /* day: internal date, in its own zone */
	SEARCH_KEY_ON,
	SEARCH_KEY_SINCE,
	SEARCH_KEY_SENTBEFORE,  /* day: the Date: header as written; without a
	                         * usable one, the internal date's day */
	SEARCH_KEY_SENTON,
	SEARCH_KEY_SENTSINCE,
	SEARCH_KEY_SAVEDBEFORE, /* day: the save date (RFC 8514), in UTC; where
	                         * it is not known, the internal date's day */
	SEARCH_KEY_SAVEDON,
	SEARCH_KEY_SAVEDSINCE,
	SEARCH_KEY_MODSEQ,      /* num: modseq >= num (RFC 7162) */
	SEARCH_KEY_OLDER,       /* num: internal date < now - num (RFC 5032) */
	SEARCH_KEY_YOUNGER,     /* num: internal date >= now - num */
	SEARCH_KEY_EMAILID,     /* num: email_id (RFC 8474); flag 0: an id this
	                         * server never made, which nothing has */
	SEARCH_KEY_THREADID,    /* num: thread_id; flag 0: an id this server
	                         * never made (or T0...0), which nothing has */
	SEARCH_KEY_HEADER,      /* field, str: a field called field contains str */
	SEARCH_KEY_BODY,        /* str: the decoded text of the body parts */
	SEARCH_KEY_TEXT,        /* str: the header or the body */
};

struct search_key {
	enum search_key_type type;
	struct search_key *child;    /* AND, OR, NOT: first child */
	struct search_key *next;     /* next sibling */
	struct search_key *all;      /* every key of the program, for freeing */
	unsigned flag;
	uint64_t num;
	int64_t day;
	struct seqset set;
	char *field;                 /* HEADER: the field name */
	char *str;                   /* case-folded UTF-8 (KEYWORD: as given) */
	size_t len;
	bool ascii;                  /* str is ASCII alone (header fast path) */
	/* BODY, TEXT with narrowed: the UIDs (ascending) the full-text index
	 * could not rule out (cmd-search.c asks it before matching); a
	 * message not among them does not match, and is not read.  Freed
	 * with the program. */
	uint32_t *maybe;
	size_t n_maybe;
	bool narrowed;
};

struct search_program {
	struct search_key *root;     /* an AND of the top-level keys */
	struct search_key *keys;     /* the "all" chain */
	size_t n_keys;
	bool uses_modseq;            /* a MODSEQ key: answer with (MODSEQ n) */
	const struct seqset *saved;  /* what "$" names (search_resolve) */
	int64_t now;                 /* OLDER, YOUNGER: the time of the search
	                              * (search_resolve) */
};

/*
 * Parse args[0..n) (after the RETURN options and CHARSET, which are the
 * command's) as search keys.  Strings must be UTF-8 (US-ASCII is a subset).
 * NULL with *why, a static text for the BAD, when they are not keys or
 * pass the SEARCH_MAX_* bounds.
 */
struct search_program *search_parse(const struct imap_arg *args, size_t n,
    const char **why);
void search_free(struct search_program *p);

/*
 * Give "*" its value in the sets: the last MSN and the highest UID (0 for
 * an empty mailbox); and "$" its value: saved, the UIDs of the session's
 * saved result (a normal set; NULL is empty), which must stay unchanged
 * while p is matched.  "$" names the same messages whether it stands for
 * MSNs or UIDs, as the result is kept as UIDs (RFC 5182 §2.1).  And the
 * time OLDER and YOUNGER count back from: now.  Call once, before matching.
 */
void search_resolve(struct search_program *p, uint32_t last_msn, uint32_t last_uid,
    const struct seqset *saved);

/* One message to match. */
struct search_input {
	uint32_t msn;
	const struct store_message *msg;
	/* The whole message, or NULL: then keys that need its header or body
	 * give SEARCH_MAYBE, and the caller maps the message and asks again. */
	const char *data;
	size_t len;
	/* Without data: the header fields the store caches (or NULL), which
	 * answer the HEADER keys of those fields and SENT* alone. */
	const char *fields;
	size_t fields_len;
};

enum search_match { SEARCH_NO = 0, SEARCH_YES = 1, SEARCH_MAYBE = 2 };

enum search_match search_match(const struct search_program *p,
    const struct search_input *in);
/* Can the cached header fields (search_input.fields) decide a key of p
 * (HEADER, the address and SUBJECT keys, SENT*)?  If not, a message the
 * row leaves undecided needs its file at once. */
bool search_uses_fields(const struct search_program *p);

/*
 * The fields of the header at h[0..len) (up to the blank line that ends
 * it, or len): fn(name, name_len, value, value_len, arg) for each, the
 * value from its first non-blank with its folding line ends; non-zero
 * from fn stops the walk and is returned (mime_header_walk()).  SORT and
 * THREAD read their fields with it too.
 */
int search_header_walk(const char *h, size_t len,
    int (*fn)(const char *, size_t, const char *, size_t, void *), void *arg);

/*
 * Case-fold UTF-8 for the substring matches: mime_fold() (mime.h), the
 * folding of the text the full-text index holds.
 */
int search_fold(const char *s, size_t len, struct buf *out);

#endif
