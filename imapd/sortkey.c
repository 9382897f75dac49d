/*
 * The sort keys of one message (sortkey.h), from the keys the store made
 * of its header (store/sortkeys.c: the rules of RFC 5256 and RFC 5957
 * are there, for the store and for this).  Strings come folded to ASCII
 * upper case (i;ascii-casemap), so they compare with strcmp.
 */
#include "autoconfig.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "sortkeys.h"
#include "sortkey.h"
#include "xmalloc.h"

struct sortkey_block {
	struct sortkey_block *next;
	size_t used, cap;
	max_align_t data[];
};

#define SORTKEY_BLOCK (256u * 1024)

/* len bytes from a (aligned for a pointer), or from malloc without. */
static void *
arena_alloc(struct sortkey_arena *a, size_t len)
{
	struct sortkey_block *b;
	size_t at;

	if (a == NULL)
		return xmalloc(len);
	b = a->block;
	at = b != NULL ? (b->used + sizeof(void *) - 1) & ~(sizeof(void *) - 1) : 0;
	if (b == NULL || at > b->cap || b->cap - at < len) {
		size_t cap = len > SORTKEY_BLOCK ? len : SORTKEY_BLOCK;

		b = xmalloc(sizeof(*b) + cap);
		b->next = a->block;
		b->cap = cap;
		a->block = b;
		at = 0;
	}
	b->used = at + len;
	return (char *)b->data + at;
}

void
sortkey_arena_free(struct sortkey_arena *a)
{
	while (a->block != NULL) {
		struct sortkey_block *b = a->block;

		a->block = b->next;
		free(b);
	}
}

static char *
str_dup(struct sortkey_arena *a, const char *s)
{
	size_t len = strlen(s) + 1;
	char *p = arena_alloc(a, len);

	memcpy(p, s, len);
	return p;
}

/* A copy of a key; NULL for "" (which it compares as). */
static char *
key_dup(struct sortkey_arena *a, const char *s)
{
	return s != NULL && *s != '\0' ? str_dup(a, s) : NULL;
}

unsigned
sortkey_store_want(unsigned want)
{
	unsigned w = 0;

	if (want & (SORTKEY_WANT(SORTKEY_SUBJECT) | SORTKEY_WANT_IDS))
		w |= SORTKEYS_WANT_STR(SORTKEYS_SUBJECT);
	if (want & SORTKEY_WANT(SORTKEY_FROM))
		w |= SORTKEYS_WANT_STR(SORTKEYS_FROM);
	if (want & SORTKEY_WANT(SORTKEY_TO))
		w |= SORTKEYS_WANT_STR(SORTKEYS_TO);
	if (want & SORTKEY_WANT(SORTKEY_CC))
		w |= SORTKEYS_WANT_STR(SORTKEYS_CC);
	if (want & SORTKEY_WANT(SORTKEY_DISPLAYFROM))
		w |= SORTKEYS_WANT_STR(SORTKEYS_DFROM);
	if (want & SORTKEY_WANT(SORTKEY_DISPLAYTO))
		w |= SORTKEYS_WANT_STR(SORTKEYS_DTO);
	if (want & SORTKEY_WANT_IDS)
		w |= SORTKEYS_WANT_STR(SORTKEYS_MSGID) | SORTKEYS_WANT_REFS;
	if (want & (SORTKEY_WANT(SORTKEY_DATE) | SORTKEY_WANT_IDS))
		w |= SORTKEYS_WANT_DATE;
	return w;
}

void
sortkey_set(struct sortkey *k, unsigned want, const struct sortkeys *sk,
    struct sortkey_arena *a)
{
	k->in_arena = a != NULL;
	/* RFC 5256 §2.2: without a Date: that parses, the internal date */
	k->date = sk->has_date && (want & (SORTKEY_WANT(SORTKEY_DATE) |
	    SORTKEY_WANT_IDS)) ? sk->date : k->arrival;
	if (want & (SORTKEY_WANT(SORTKEY_SUBJECT) | SORTKEY_WANT_IDS)) {
		k->subject = key_dup(a, sk->str[SORTKEYS_SUBJECT]);
		k->reply = sk->reply;
	}
	if (want & SORTKEY_WANT(SORTKEY_FROM))
		k->from = key_dup(a, sk->str[SORTKEYS_FROM]);
	if (want & SORTKEY_WANT(SORTKEY_TO))
		k->to = key_dup(a, sk->str[SORTKEYS_TO]);
	if (want & SORTKEY_WANT(SORTKEY_CC))
		k->cc = key_dup(a, sk->str[SORTKEYS_CC]);
	if (want & SORTKEY_WANT(SORTKEY_DISPLAYFROM))
		k->dfrom = key_dup(a, sk->str[SORTKEYS_DFROM]);
	if (want & SORTKEY_WANT(SORTKEY_DISPLAYTO))
		k->dto = key_dup(a, sk->str[SORTKEYS_DTO]);
	if (want & SORTKEY_WANT_IDS) {
		const char *p = NULL, *id;
		size_t i = 0;

		k->msgid = key_dup(a, sk->str[SORTKEYS_MSGID]);
		if (sk->n_refs > 0 && sk->n_refs <= SORTKEYS_REFS_MAX)
			k->refs = arena_alloc(a, sk->n_refs * sizeof(*k->refs));
		while (k->refs != NULL && i < sk->n_refs &&
		    (id = sortkeys_ref_next(sk, &p)) != NULL)
			k->refs[i++] = str_dup(a, id);
		k->n_refs = i;
	}
}

void
sortkey_fill(struct sortkey *k, unsigned want, const char *header, size_t len)
{
	struct buf text = BUF_INIT;
	struct sortkeys sk;

	k->date = k->arrival;
	if ((want & ~SORTKEY_WANT_ROW) == 0)
		return;
	sortkeys_make(header, header != NULL ? len : 0, sortkey_store_want(want),
	    &text, &sk);
	sortkey_set(k, want, &sk, NULL);
	buf_free(&text);
}

void
sortkey_free(struct sortkey *k)
{
	if (k->in_arena)        /* the arena's, freed with it */
		goto out;
	free(k->subject);
	free(k->from);
	free(k->to);
	free(k->cc);
	free(k->dfrom);
	free(k->dto);
	free(k->msgid);
	for (size_t i = 0; i < k->n_refs; i++)
		free(k->refs[i]);
	free(k->refs);
out:
	k->subject = k->from = k->to = k->cc = k->dfrom = k->dto = k->msgid = NULL;
	k->refs = NULL;
	k->n_refs = 0;
}

unsigned
sortkey_want(const struct sortkey_criterion *c, size_t n)
{
	unsigned want = 0;

	for (size_t i = 0; i < n; i++)
		want |= SORTKEY_WANT(c[i].field);
	return want;
}

static int
cmp_num(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

/* Folded already: byte order is i;ascii-casemap's. */
static int
cmp_str(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "");
}

static int
cmp_field(const struct sortkey *a, const struct sortkey *b, enum sortkey_field f)
{
	switch (f) {
	case SORTKEY_ARRIVAL:
		return cmp_num(a->arrival, b->arrival);
	case SORTKEY_CC:
		return cmp_str(a->cc, b->cc);
	case SORTKEY_DATE:
		return cmp_num(a->date, b->date);
	case SORTKEY_FROM:
		return cmp_str(a->from, b->from);
	case SORTKEY_SIZE:
		return (a->size > b->size) - (a->size < b->size);
	case SORTKEY_SUBJECT:
		return cmp_str(a->subject, b->subject);
	case SORTKEY_TO:
		return cmp_str(a->to, b->to);
	case SORTKEY_DISPLAYFROM:
		return cmp_str(a->dfrom, b->dfrom);
	case SORTKEY_DISPLAYTO:
		return cmp_str(a->dto, b->dto);
	}
	return 0;
}

/* A number in the order of a string (strcmp): 8 bytes of it from at,
 * none past its end. */
static uint64_t
str_prefix_at(const char *s, size_t at)
{
	uint64_t v = 0;
	int i = 0;

	if (s == NULL || strnlen(s, at) < at)
		return 0;
	for (s += at; i < 8 && s[i] != '\0'; i++)
		v = v << 8 | (unsigned char)s[i];
	return i == 0 ? 0 : v << (8 * (8 - i));
}

static uint64_t
str_prefix(const char *s)
{
	return str_prefix_at(s, 0);
}

/* int64 order as uint64 order. */
static uint64_t
num_key(int64_t v)
{
	return (uint64_t)v ^ (UINT64_C(1) << 63);
}

void
sortkey_prepare(struct sortkey *k, const struct sortkey_criterion *c, size_t n)
{
	uint64_t v = 0;
	const char *str = NULL;

	k->second = 0;
	if (n == 0)
		return;
	switch (c[0].field) {
	case SORTKEY_ARRIVAL:
		v = num_key(k->arrival);
		break;
	case SORTKEY_DATE:
		v = num_key(k->date);
		break;
	case SORTKEY_SIZE:
		v = k->size;
		break;
	case SORTKEY_CC:
		str = k->cc;
		break;
	case SORTKEY_FROM:
		str = k->from;
		break;
	case SORTKEY_SUBJECT:
		str = k->subject;
		break;
	case SORTKEY_TO:
		str = k->to;
		break;
	case SORTKEY_DISPLAYFROM:
		str = k->dfrom;
		break;
	case SORTKEY_DISPLAYTO:
		str = k->dto;
		break;
	}
	if (str != NULL) {
		v = str_prefix(str);
		k->second = str_prefix_at(str, 8);
	}
	k->first = v;
}

int
sortkey_cmp(const struct sortkey *a, const struct sortkey *b,
    const struct sortkey_criterion *c, size_t n)
{
	/* different first keys decide; equal ones say nothing */
	if (n > 0 && a->first != b->first)
		return (a->first < b->first) != c[0].reverse ? -1 : 1;
	if (n > 0 && a->second != b->second)
		return (a->second < b->second) != c[0].reverse ? -1 : 1;
	for (size_t i = 0; i < n; i++) {
		int r = cmp_field(a, b, c[i].field);

		if (r != 0)
			return c[i].reverse ? (r < 0 ? 1 : -1) : r;
	}
	/* RFC 5256 §3: ties in the order of the mailbox */
	return (a->msn > b->msn) - (a->msn < b->msn);
}
