/*
 * IMAP sequence sets (RFC 9051 §9 sequence-set, RFC 5182 "$"): parsing the
 * client's text, resolving "*", membership, and the compact form used in
 * COPYUID and ESEARCH responses.  No I/O, no mailbox knowledge.
 */
#ifndef CAIRN_IMAPD_SEQSET_H
#define CAIRN_IMAPD_SEQSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/*
 * "*" before seqset_resolve().  0 is no nz-number, so the marker cannot be
 * confused with a literal 4294967295 (which means that UID, not the last).
 */
#define SEQ_STAR 0u

/* Limits on client input: what a sane client could ever send. */
#define SEQSET_MAX_LEN      (1024u * 1024)
#define SEQSET_MAX_ELEMENTS 100000u

struct seq_range {
	uint32_t lo, hi;
};

/*
 * After seqset_parse() the ranges are in client order, may have lo > hi and
 * may hold SEQ_STAR.  After seqset_resolve(), and always for a set built only
 * with seqset_add_range(), they are "normal": lo <= hi, sorted, disjoint and
 * not adjacent.  contains/count/iteration require a normal set.
 */
struct seqset {
	struct seq_range *r;
	size_t n, cap;
};

#define SEQSET_INIT { NULL, 0, 0 }

/*
 * Parses s[0..len) (no NUL needed; a NUL byte is invalid).  out must be
 * initialised (SEQSET_INIT or a set used before); its contents are replaced.
 * Returns 0 on success (out->n >= 1); 1 for "$" alone (RFC 5182 SEARCHRES,
 * out->n == 0: the caller substitutes the saved result); -1 on error, with
 * out emptied and freed and *why (when why is not NULL) a short static
 * message for the BAD response.
 */
int seqset_parse(const char *s, size_t len, struct seqset *out, const char **why);

/*
 * Replaces SEQ_STAR with star (the largest sequence number or UID in use),
 * then normalises (see struct seqset) in O(n log n).  star == 0 means an
 * empty mailbox: every element that names "*" is dropped, so it matches
 * nothing, and the other elements are kept as they are.  Idempotent.
 */
void seqset_resolve(struct seqset *set, uint32_t star);

/* Binary search; set must be normal. */
bool seqset_contains(const struct seqset *set, uint32_t n);
/* How many numbers a normal set holds (up to 2^32). */
uint64_t seqset_count(const struct seqset *set);
/* The smallest / largest number of a normal set, 0 when it is empty. */
uint32_t seqset_min(const struct seqset *set);
uint32_t seqset_max(const struct seqset *set);

/*
 * Adds lo:hi (either order; 0 is taken as 1) keeping the set normal.
 * Adding in ascending order is amortised O(1); out of order costs O(n).
 */
void seqset_add_range(struct seqset *set, uint32_t lo, uint32_t hi);

/* Empties the set, keeping its memory. */
void seqset_clear(struct seqset *set);
/* Releases the memory; the set is left as SEQSET_INIT.  Idempotent. */
void seqset_free(struct seqset *set);

/*
 * Appends the ranges in stored order as "1:3,5,7:9" (SEQ_STAR as "*").
 * An empty set appends nothing.  0, or -1 when out's limit is reached.
 */
int seqset_format(const struct seqset *set, struct buf *out);

/*
 * Ascending iteration over a normal set:
 *	for (ok = seqset_first(&set, &it, &n); ok; ok = seqset_next(&set, &it, &n))
 * The set must not change during the loop.
 */
struct seqset_iter {
	size_t i;      /* current range */
	uint32_t cur;  /* last number returned */
};

bool seqset_first(const struct seqset *set, struct seqset_iter *it, uint32_t *n);
bool seqset_next(const struct seqset *set, struct seqset_iter *it, uint32_t *n);

#endif
