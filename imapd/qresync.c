/*
 * QRESYNC's pure parts (RFC 7162 §3.2): the SELECT/EXAMINE parameter, the
 * UIDs a resynchronisation names when it cannot be exact, and VANISHED
 * lines.  No I/O and no mailbox: the mailbox is a uid_at callback.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qresync.h"
#include "xmalloc.h"

/* ---- the parameter ------------------------------------------------------ */

/* 1*DIGIT at most max, not 0 (nz-number, and §7's mod-sequence-value is
 * 1 to 2^63 - 1 as well). */
static int
parse_number(const struct imap_arg *a, uint64_t max, uint64_t *out)
{
	uint64_t v;

	if (imap_arg_number64(a, &v) != 0 || v == 0 || v > max)
		return -1;
	*out = v;
	return 0;
}

/* A sequence-set without "*" or "$" (§7 known-uids, known-sequence-set,
 * known-uid-set), made normal. */
static int
parse_set(const struct imap_arg *a, struct seqset *out, const char **why)
{
	if (a->type != IMAP_ARG_ATOM) {
		*why = "QRESYNC: expected a set of UIDs";
		return -1;
	}
	if (seqset_parse(a->str, a->len, out, why) != 0) {
		/* 1: "$", which names no set here */
		seqset_free(out);
		*why = "QRESYNC: invalid set of UIDs or message numbers";
		return -1;
	}
	for (size_t i = 0; i < out->n; i++)
		if (out->r[i].lo == SEQ_STAR || out->r[i].hi == SEQ_STAR) {
			seqset_free(out);
			*why = "QRESYNC: * is not allowed in its sets";
			return -1;
		}
	seqset_resolve(out, 0);
	return 0;
}

/* "(" known-sequence-set SP known-uid-set ")": as many of each. */
static int
parse_match(const struct imap_arg *a, struct qresync_param *p, const char **why)
{
	if (a->type != IMAP_ARG_LIST || a->list_count != 2) {
		*why = "QRESYNC: message sequence match data is (numbers UIDs)";
		return -1;
	}
	if (parse_set(&a->list[0], &p->match_seqs, why) != 0 ||
	    parse_set(&a->list[1], &p->match_uids, why) != 0)
		return -1;
	if (seqset_count(&p->match_seqs) != seqset_count(&p->match_uids)) {
		*why = "QRESYNC: the message numbers and UIDs of the match data "
		    "differ in number";
		return -1;
	}
	return 0;
}

int
qresync_parse(const struct imap_arg *list, struct qresync_param *p,
    const char **why)
{
	uint64_t v;
	size_t i = 2;

	seqset_clear(&p->known);
	seqset_clear(&p->match_seqs);
	seqset_clear(&p->match_uids);
	if (list == NULL || list->type != IMAP_ARG_LIST || list->list_count < 2 ||
	    list->list_count > 4) {
		*why = "QRESYNC takes (uidvalidity modseq [known-uids] "
		    "[(numbers UIDs)])";
		return -1;
	}
	if (parse_number(&list->list[0], UINT32_MAX, &v) != 0) {
		*why = "QRESYNC: invalid UIDVALIDITY";
		return -1;
	}
	p->uidvalidity = (uint32_t)v;
	if (parse_number(&list->list[1], INT64_MAX, &p->modseq) != 0) {
		*why = "QRESYNC: invalid mod-sequence";
		return -1;
	}
	if (i < list->list_count && list->list[i].type != IMAP_ARG_LIST &&
	    parse_set(&list->list[i++], &p->known, why) != 0)
		return -1;
	if (i < list->list_count && parse_match(&list->list[i++], p, why) != 0)
		return -1;
	if (i != list->list_count) {
		*why = "QRESYNC: unexpected argument after the match data";
		return -1;
	}
	return 0;
}

void
qresync_param_free(struct qresync_param *p)
{
	seqset_free(&p->known);
	seqset_free(&p->match_seqs);
	seqset_free(&p->match_uids);
}

/* ---- what a resynchronisation names --------------------------------------- */

uint32_t
qresync_match_floor(const struct qresync_param *p, qresync_uid_at_fn *uid_at,
    void *ctx)
{
	struct seqset_iter is, iu;
	uint32_t msn, uid, floor = 0;
	bool ok;

	/* Ends at the first message number the mailbox does not have (uid_at
	 * says 0), so the walk is no longer than the mailbox. */
	for (ok = seqset_first(&p->match_seqs, &is, &msn) &&
	    seqset_first(&p->match_uids, &iu, &uid); ok;
	    ok = seqset_next(&p->match_seqs, &is, &msn) &&
	    seqset_next(&p->match_uids, &iu, &uid)) {
		if (uid_at(ctx, msn) != uid)
			break;
		floor = uid;
	}
	return floor;
}

uint32_t
qresync_msn_from_uid(qresync_uid_at_fn *uid_at, void *ctx, uint32_t exists,
    uint32_t uid)
{
	return uidsearch_lower(uid_at, ctx, 1, exists + 1, uid);
}

void
qresync_missing(const struct seqset *known, uint32_t floor, uint32_t uidnext,
    qresync_uid_at_fn *uid_at, void *ctx, uint32_t exists, struct seqset *out)
{
	if (uidnext <= 1 || floor >= uidnext - 1)
		return;
	for (size_t i = 0; i < known->n; i++) {
		uint32_t lo = known->r[i].lo, hi = known->r[i].hi, msn, u;

		if (lo <= floor)
			lo = floor + 1;
		if (hi > uidnext - 1)
			hi = uidnext - 1;
		if (lo > hi)
			continue;
		/* The gaps between the messages held inside [lo, hi]. */
		msn = qresync_msn_from_uid(uid_at, ctx, exists, lo);
		for (; msn <= exists && (u = uid_at(ctx, msn)) <= hi; msn++) {
			if (u > lo)
				seqset_add_range(out, lo, u - 1);
			if (u == hi)
				break;      /* lo would pass hi, maybe UINT32_MAX */
			lo = u + 1;
		}
		if (msn > exists || uid_at(ctx, msn) > hi)
			seqset_add_range(out, lo, hi);
	}
}

static int
uid_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
qresync_set_from_uids(const uint32_t *uids, size_t n, struct seqset *out)
{
	uint32_t *sorted;
	size_t i;

	if (n == 0)
		return;
	/* The store reports expunges in descending order (store.h): walked
	 * backwards they are ascending, and seqset_add_range is O(1) each. */
	for (i = 1; i < n && uids[i] < uids[i - 1]; i++)
		;
	if (i == n) {
		while (i-- > 0)
			if (uids[i] != 0)
				seqset_add_range(out, uids[i], uids[i]);
		return;
	}
	sorted = xreallocarray(NULL, n, sizeof(*sorted));
	memcpy(sorted, uids, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), uid_cmp);
	for (i = 0; i < n; i++)
		if (sorted[i] != 0)
			seqset_add_range(out, sorted[i], sorted[i]);
	free(sorted);
}

/* ---- VANISHED ----------------------------------------------------------- */

void
qresync_vanished_lines(const struct seqset *set, bool earlier, size_t max,
    void (*emit)(void *arg, const struct buf *line), void *arg)
{
	const char *head = earlier ? "VANISHED (EARLIER) " : "VANISHED ";
	struct buf line = BUF_INIT;
	char range[32];
	size_t empty = strlen(head);

	if (max < QRESYNC_LINE_MIN)
		max = QRESYNC_LINE_MIN;
	buf_append_str(&line, head);
	for (size_t i = 0; i < set->n; i++) {
		const struct seq_range *r = &set->r[i];
		int len = r->lo == r->hi ?
		    snprintf(range, sizeof(range), "%lu", (unsigned long)r->lo) :
		    snprintf(range, sizeof(range), "%lu:%lu", (unsigned long)r->lo,
		    (unsigned long)r->hi);

		if (len <= 0 || (size_t)len >= sizeof(range))
			continue;   /* cannot be: two 10-digit numbers */
		if (line.len > empty && line.len + 1 + (size_t)len > max) {
			emit(arg, &line);
			buf_reset(&line);
			buf_append_str(&line, head);
		}
		if (line.len > empty)
			buf_append_char(&line, ',');
		buf_append(&line, range, (size_t)len);
	}
	if (line.len > empty)
		emit(arg, &line);
	buf_free(&line);
}
