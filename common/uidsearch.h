/*
 * Where a UID goes among ascending UIDs, by binary search, whoever holds
 * them: a view's MSN map and the rows read ahead (store/view.c,
 * store/message.c), a mailbox as a client sees it through the store
 * (imapd/qresync.c).  One search, no I/O, no allocation: the store does
 * not depend on imapd, nor imapd on the store's insides.
 *
 * Inline, as the one function of this header: where the caller passes a
 * function of its own file, the compiler makes the looks direct reads
 * (FETCH asks the store for an MSN per message; an indirect call per
 * look cost it 2 %).
 */
#ifndef CAIRN_UIDSEARCH_H
#define CAIRN_UIDSEARCH_H

#include <stdint.h>

/* The UID at position i of whatever ctx is. */
typedef uint32_t uidsearch_at_fn(void *ctx, uint32_t i);

/*
 * The first position in [lo, hi) whose UID (at) is uid or more, hi when
 * there is none; the UIDs at those positions ascend.  Positions are
 * uint32_t: a mailbox holds fewer messages than there are UIDs.  At most
 * ceil(log2(hi - lo + 1)) looks, none when lo == hi.
 */
static inline uint32_t
uidsearch_lower(uidsearch_at_fn *at, void *ctx, uint32_t lo, uint32_t hi,
    uint32_t uid)
{
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (at(ctx, mid) < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

#endif
