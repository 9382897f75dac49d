/*
 * Keywords: each mailbox numbers the keywords used in it 0..63, and a
 * message keeps a 64-bit mask.  STORE_KEYWORDS_MAX is what bounds the
 * table; a number is never reused, so a mask read by another session never
 * changes its meaning.  Matching ignores ASCII case (keywords are atoms,
 * so ASCII); a keyword keeps the spelling it was first given.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <strings.h>

#include "store-int.h"
#include "xmalloc.h"

enum store_result
kw_load(struct store *st, int64_t mailbox_id, struct kwtable *t)
{
	return index_keywords(st->ix, mailbox_id, t->name);
}

void
kw_free(struct kwtable *t)
{
	for (size_t i = 0; i < STORE_KEYWORDS_MAX; i++) {
		free(t->name[i]);
		t->name[i] = NULL;
	}
}

static int
kw_find(const struct kwtable *t, const char *name)
{
	for (int i = 0; i < STORE_KEYWORDS_MAX; i++)
		if (t->name[i] != NULL && strcasecmp(t->name[i], name) == 0)
			return i;
	return -1;
}

static enum store_result
kw_add(struct store *st, int64_t mailbox_id, struct kwtable *t,
    const char *name, int *bit)
{
	enum store_result r;

	for (*bit = 0; *bit < STORE_KEYWORDS_MAX; (*bit)++)
		if (t->name[*bit] == NULL)
			break;
	if (*bit == STORE_KEYWORDS_MAX)
		return store_fail(st, STORE_INVALID, "too many keywords in this "
		    "mailbox (at most %d)", STORE_KEYWORDS_MAX);
	if ((r = index_keyword_add(st->ix, mailbox_id, (unsigned)*bit, name)) !=
	    STORE_OK)
		return r == STORE_EXISTS ? store_fail(st, STORE_ERROR,
		    "keyword table out of date") : r;
	t->name[*bit] = xstrdup(name);
	return STORE_OK;
}

enum store_result
kw_mask(struct store *st, int64_t mailbox_id, struct kwtable *t,
    const char *const *names, size_t n, bool create, uint64_t *mask)
{
	enum store_result r;
	int bit;

	*mask = 0;
	for (size_t i = 0; i < n; i++) {
		if (!store_keyword_valid(names[i]))
			return store_fail(st, STORE_INVALID, "invalid keyword");
		if ((bit = kw_find(t, names[i])) < 0) {
			if (!create)
				continue;
			if ((r = kw_add(st, mailbox_id, t, names[i], &bit)) != STORE_OK)
				return r;
		}
		*mask |= (uint64_t)1 << bit;
	}
	return STORE_OK;
}

size_t
kw_names(const struct kwtable *t, uint64_t mask, const char **out)
{
	size_t n = 0;

	for (; mask != 0; mask &= mask - 1) {
		int i = __builtin_ctzll(mask);

		if (t->name[i] != NULL)
			out[n++] = t->name[i];
	}
	return n;
}
