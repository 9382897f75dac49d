/*
 * libFuzzer harness: sequence sets (imapd/seqset.c).
 *
 * The input is a sequence-set as a client would send it.  Whatever parses
 * must also survive what the commands do with it: resolve "*", count,
 * min/max, membership and a bounded walk; and its formatted form must
 * parse back to the same set (seqset_format is what ESEARCH and the
 * "$" variable send back).
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "seqset.h"

/* A walk over "1:4294967295" would take minutes: look at the first few. */
#define FUZZ_SEQSET_WALK 1000

static void
fuzz_seqset_use(struct seqset *set, uint32_t star)
{
	struct seqset_iter it;
	uint32_t n;
	unsigned walked = 0;

	seqset_resolve(set, star);
	(void)seqset_count(set);
	uint32_t lo = seqset_min(set), hi = seqset_max(set);
	if (set->n > 0 && (!seqset_contains(set, lo) || !seqset_contains(set, hi)))
		abort();
	for (bool more = seqset_first(set, &it, &n); more && walked < FUZZ_SEQSET_WALK;
	    more = seqset_next(set, &it, &n), walked++)
		if (n < lo || n > hi || !seqset_contains(set, n))
			abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seqset set = SEQSET_INIT, again = SEQSET_INIT;
	struct buf text = BUF_INIT;
	const char *why = NULL;

	if (seqset_parse((const char *)data, size, &set, &why) != 0) {
		seqset_free(&set);
		return 0;
	}
	/* The set as parsed (with "*" unresolved) formats and parses back. */
	if (seqset_format(&set, &text) == 0) {
		if (seqset_parse(text.data, text.len, &again, &why) != 0 ||
		    again.n != set.n ||
		    memcmp(again.r, set.r, set.n * sizeof(*set.r)) != 0)
			abort();
		seqset_free(&again);
	}
	buf_free(&text);
	fuzz_seqset_use(&set, size > 0 ? data[0] : 0);
	seqset_free(&set);
	return 0;
}
