/*
 * What SORT (RFC 5256 §3, RFC 5957) and THREAD (RFC 5256 §3) compare for
 * one message: the sort criteria, the order they define, and the ids
 * THREAD=REFERENCES links messages by.  No I/O: the caller hands in the
 * keys the store keeps (store_message_sortkeys), or a header text whose
 * keys are made as the store makes them (store/sortkeys.c).
 */
#ifndef CAIRN_IMAPD_SORTKEY_H
#define CAIRN_IMAPD_SORTKEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sortkeys.h"

/* The sort keys of RFC 5256 §3 (sort-key) and RFC 5957. */
enum sortkey_field {
	SORTKEY_ARRIVAL,
	SORTKEY_CC,
	SORTKEY_DATE,
	SORTKEY_FROM,
	SORTKEY_SIZE,
	SORTKEY_SUBJECT,
	SORTKEY_TO,
	SORTKEY_DISPLAYFROM,
	SORTKEY_DISPLAYTO,
};

/* What sortkey_fill() reads: a bit per field, and the ids for THREAD. */
#define SORTKEY_WANT(field) (1u << (field))
#define SORTKEY_WANT_IDS (1u << 15)   /* Message-ID, References, In-Reply-To */
/* The fields answered without the header. */
#define SORTKEY_WANT_ROW (SORTKEY_WANT(SORTKEY_ARRIVAL) | SORTKEY_WANT(SORTKEY_SIZE))

/* The bounds of the store's keys (sortkeys.h). */
#define SORTKEY_STR_MAX SORTKEYS_STR_MAX
#define SORTKEY_REFS_MAX SORTKEYS_REFS_MAX
#define SORTKEY_ID_MAX SORTKEYS_ID_MAX

struct sortkey_criterion {
	enum sortkey_field field;
	bool reverse;
};

/* The criteria of one SORT; REVERSE applies to the key after it. */
#define SORTKEY_CRITERIA_MAX 32

struct sortkey {
	uint32_t msn, uid;
	/* The first criterion's key as unsigned numbers in its order
	 * (sortkey_prepare): a string's first 16 bytes, big-endian, in two.
	 * Equal (0 when not prepared): the keys themselves decide. */
	uint64_t first, second;
	uint64_t size;       /* RFC822.SIZE */
	int64_t arrival;     /* INTERNALDATE, unix time */
	int64_t date;        /* the sent date in UTC (RFC 5256 §2.2), or
	                      * arrival without a usable Date: field */
	/* NULL where not wanted or empty: compares as "" */
	/* strings folded to ASCII upper case (i;ascii-casemap) */
	char *subject;       /* base subject (RFC 5256 §2.1) */
	bool reply;          /* the subject marks a reply or forward */
	char *from, *to, *cc;        /* addr-mailbox of the first address */
	char *dfrom, *dto;           /* RFC 5957 display value of it */
	char *msgid;         /* normalised (mime_msgid_next); NULL: none */
	char **refs;         /* the references, oldest first (RFC 5256 §3) */
	size_t n_refs;
	bool in_arena;       /* the strings are an arena's (sortkey_set) */
};

/* Where sortkey_set puts the strings of many messages: a few large
 * blocks instead of a malloc per string, freed at once. */
struct sortkey_arena {
	struct sortkey_block *block;
};
#define SORTKEY_ARENA_INIT { NULL }
void sortkey_arena_free(struct sortkey_arena *a);

/*
 * The keys of want (SORTKEY_WANT bits) from header[0..len): the header
 * fields, up to the blank line that ends them.  k->arrival must be set
 * (the sent date falls back to it); the rest of k's pointers start NULL.
 * A field that appears more than once counts by its first occurrence, as
 * in ENVELOPE.
 */
void sortkey_fill(struct sortkey *k, unsigned want, const char *header, size_t len);
/* The same from the store's keys of the message (store_message_sortkeys,
 * asked with sortkey_store_want(want)); the strings in a (NULL: each
 * its own allocation), which must outlive k. */
void sortkey_set(struct sortkey *k, unsigned want, const struct sortkeys *sk,
    struct sortkey_arena *a);
/* The STORE_SORTKEYS_ bits (store.h) of the keys want needs. */
unsigned sortkey_store_want(unsigned want);
void sortkey_free(struct sortkey *k);

/* The SORTKEY_WANT bits n criteria need. */
unsigned sortkey_want(const struct sortkey_criterion *c, size_t n);

/* Set k->first for the criteria c (n > 0), once its keys are filled:
 * most comparisons then look at no string. */
void sortkey_prepare(struct sortkey *k, const struct sortkey_criterion *c,
    size_t n);

/*
 * The order of a SORT: each criterion in turn, REVERSE turning only its
 * own key around, strings by i;ascii-casemap, then the sequence number,
 * ascending whatever REVERSE said (RFC 5256 §3).  <0, 0 (a == b), >0.
 */
int sortkey_cmp(const struct sortkey *a, const struct sortkey *b,
    const struct sortkey_criterion *c, size_t n);

#endif
