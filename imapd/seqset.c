/* IMAP sequence sets: RFC 9051 §9 sequence-set and RFC 5182 "$". */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "seqset.h"
#include "xmalloc.h"

static void
reserve(struct seqset *set, size_t need)
{
	size_t cap = set->cap ? set->cap : 16;

	if (need <= set->cap)
		return;
	while (cap < need)
		cap *= 2;
	set->r = xreallocarray(set->r, cap, sizeof(*set->r));
	set->cap = cap;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * seq-number = nz-number / "*", nz-number = digit-nz *DIGIT: no leading
 * zero, and at most 4294967295.  where says what precedes the number, so an
 * empty one gets a message the client can act on.
 */
static int
parse_number(const char *s, size_t len, size_t *pos, uint32_t *out,
    const char *where, const char **why)
{
	size_t i = *pos;
	uint64_t v = 0;

	if (i == len || s[i] == ',' || s[i] == ':') {
		*why = where;
		return -1;
	}
	if (s[i] == '*') {
		*out = SEQ_STAR;
		*pos = i + 1;
		return 0;
	}
	if (s[i] == '$') {
		*why = "$ must be the whole sequence set";
		return -1;
	}
	if (!is_digit(s[i])) {
		*why = "Invalid character in sequence set";
		return -1;
	}
	if (s[i] == '0') {
		*why = i + 1 < len && is_digit(s[i + 1]) ?
		    "Leading zero in sequence number" : "Invalid sequence number 0";
		return -1;
	}
	/* stops at the first digit too many: the loop is bounded */
	for (; i < len && is_digit(s[i]); i++) {
		v = v * 10 + (uint64_t)(s[i] - '0');
		if (v > UINT32_MAX) {
			*why = "Sequence number too large";
			return -1;
		}
	}
	*out = (uint32_t)v;
	*pos = i;
	return 0;
}

static int
parse_fail(struct seqset *out, const char **why, const char *msg)
{
	if (msg != NULL)
		*why = msg;
	seqset_free(out);
	return -1;
}

int
seqset_parse(const char *s, size_t len, struct seqset *out, const char **why)
{
	const char *ignored;
	size_t pos = 0, elements = 1;

	if (why == NULL)
		why = &ignored;
	out->n = 0;
	if (len == 0)
		return parse_fail(out, why, "Empty sequence set");
	if (len > SEQSET_MAX_LEN)
		return parse_fail(out, why, "Sequence set too long");
	if (len == 1 && s[0] == '$') {
		seqset_free(out);
		return 1;
	}
	/* every element costs a comma, so this bounds the allocation */
	for (size_t i = 0; i < len; i++)
		if (s[i] == ',' && ++elements > SEQSET_MAX_ELEMENTS)
			return parse_fail(out, why, "Too many elements in sequence set");
	reserve(out, elements);
	for (;;) {
		struct seq_range r;

		if (parse_number(s, len, &pos, &r.lo,
		    "Empty element in sequence set", why) != 0)
			return parse_fail(out, why, NULL);
		r.hi = r.lo;
		if (pos < len && s[pos] == ':') {
			pos++;
			if (parse_number(s, len, &pos, &r.hi,
			    "Missing number after ':' in sequence set", why) != 0)
				return parse_fail(out, why, NULL);
		}
		out->r[out->n++] = r;
		if (pos == len)
			return 0;
		if (s[pos] == ':')
			return parse_fail(out, why, "Invalid range in sequence set");
		if (s[pos] != ',')
			return parse_fail(out, why, "Invalid character in sequence set");
		pos++;
	}
}

static int
range_cmp(const void *a, const void *b)
{
	const struct seq_range *x = a, *y = b;

	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	return 0;
}

/* b starts inside a or right after it; uint64_t so UINT32_MAX + 1 is fine. */
static bool
touches(const struct seq_range *a, const struct seq_range *b)
{
	return (uint64_t)b->lo <= (uint64_t)a->hi + 1;
}

/* Ranges already have lo <= hi and no SEQ_STAR: sort, then merge. */
static void
normalize(struct seqset *set)
{
	size_t o = 0;
	bool sorted = true;

	for (size_t i = 1; i < set->n && sorted; i++)
		sorted = range_cmp(&set->r[i - 1], &set->r[i]) <= 0;
	if (!sorted)
		qsort(set->r, set->n, sizeof(*set->r), range_cmp);
	for (size_t i = 1; i < set->n; i++) {
		if (touches(&set->r[o], &set->r[i])) {
			if (set->r[i].hi > set->r[o].hi)
				set->r[o].hi = set->r[i].hi;
		} else
			set->r[++o] = set->r[i];
	}
	if (set->n > 0)
		set->n = o + 1;
}

void
seqset_resolve(struct seqset *set, uint32_t star)
{
	size_t o = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct seq_range r = set->r[i];

		if (r.lo == SEQ_STAR || r.hi == SEQ_STAR) {
			/* no largest number: "*" names no message at all */
			if (star == 0)
				continue;
			if (r.lo == SEQ_STAR)
				r.lo = star;
			if (r.hi == SEQ_STAR)
				r.hi = star;
		}
		/* RFC 9051 §9: "2:4" and "4:2" are the same set */
		if (r.lo > r.hi) {
			uint32_t t = r.lo;
			r.lo = r.hi;
			r.hi = t;
		}
		set->r[o++] = r;
	}
	set->n = o;
	normalize(set);
}

/* Index of the last range with lo <= n, or set->n when there is none. */
static size_t
find_le(const struct seqset *set, uint32_t n)
{
	size_t lo = 0, hi = set->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->r[mid].lo <= n)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? set->n : lo - 1;
}

bool
seqset_contains(const struct seqset *set, uint32_t n)
{
	size_t i = find_le(set, n);

	return i < set->n && n <= set->r[i].hi;
}

uint64_t
seqset_count(const struct seqset *set)
{
	uint64_t total = 0;

	for (size_t i = 0; i < set->n; i++)
		total += (uint64_t)set->r[i].hi - set->r[i].lo + 1;
	return total;
}

uint32_t
seqset_min(const struct seqset *set)
{
	return set->n > 0 ? set->r[0].lo : 0;
}

uint32_t
seqset_max(const struct seqset *set)
{
	return set->n > 0 ? set->r[set->n - 1].hi : 0;
}

/*
 * The out-of-order case: ranges k..j-1 touch the new one and are replaced
 * by their union; when none touch (j == k), it is inserted at k.
 */
static void
insert_range(struct seqset *set, struct seq_range add)
{
	size_t k, j, lo = 0, hi = set->n;

	/* k: first range that ends at or after add.lo - 1 */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uint64_t)set->r[mid].hi + 1 < add.lo)
			lo = mid + 1;
		else
			hi = mid;
	}
	k = lo;
	/* j: first range from k on that starts after add.hi + 1 */
	for (j = k; j < set->n && touches(&add, &set->r[j]); j++) {
		if (set->r[j].lo < add.lo)
			add.lo = set->r[j].lo;
		if (set->r[j].hi > add.hi)
			add.hi = set->r[j].hi;
	}
	if (j == k) {
		reserve(set, set->n + 1);
		memmove(&set->r[k + 1], &set->r[k], (set->n - k) * sizeof(*set->r));
		set->n++;
	} else {
		memmove(&set->r[k + 1], &set->r[j], (set->n - j) * sizeof(*set->r));
		set->n -= j - k - 1;
	}
	set->r[k] = add;
}

void
seqset_add_range(struct seqset *set, uint32_t lo, uint32_t hi)
{
	struct seq_range add;
	struct seq_range *last;

	if (lo > hi) {
		add.lo = hi;
		add.hi = lo;
	} else {
		add.lo = lo;
		add.hi = hi;
	}
	if (add.hi == 0)
		return;
	if (add.lo == 0)
		add.lo = 1;
	last = set->n > 0 ? &set->r[set->n - 1] : NULL;
	/* the common cases when a result is built in ascending order */
	if (last == NULL || !touches(last, &add)) {
		reserve(set, set->n + 1);
		set->r[set->n++] = add;
	} else if (add.lo >= last->lo) {
		if (add.hi > last->hi)
			last->hi = add.hi;
	} else
		insert_range(set, add);
}

void
seqset_clear(struct seqset *set)
{
	set->n = 0;
}

void
seqset_free(struct seqset *set)
{
	free(set->r);
	set->r = NULL;
	set->n = set->cap = 0;
}

static int
format_number(struct buf *out, uint32_t n)
{
	if (n == SEQ_STAR)
		return buf_append_char(out, '*');
	return buf_printf(out, "%lu", (unsigned long)n);
}

int
seqset_format(const struct seqset *set, struct buf *out)
{
	for (size_t i = 0; i < set->n; i++) {
		const struct seq_range *r = &set->r[i];

		if (i > 0 && buf_append_char(out, ',') != 0)
			return -1;
		if (format_number(out, r->lo) != 0)
			return -1;
		if (r->hi != r->lo &&
		    (buf_append_char(out, ':') != 0 || format_number(out, r->hi) != 0))
			return -1;
	}
	return 0;
}

bool
seqset_first(const struct seqset *set, struct seqset_iter *it, uint32_t *n)
{
	it->i = 0;
	it->cur = 0;
	if (set->n == 0)
		return false;
	it->cur = set->r[0].lo;
	*n = it->cur;
	return true;
}

bool
seqset_next(const struct seqset *set, struct seqset_iter *it, uint32_t *n)
{
	if (it->i >= set->n)
		return false;
	/* compare before stepping: hi may be UINT32_MAX */
	if (it->cur < set->r[it->i].hi)
		it->cur++;
	else {
		if (++it->i >= set->n)
			return false;
		it->cur = set->r[it->i].lo;
	}
	*n = it->cur;
	return true;
}
