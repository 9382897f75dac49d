/*
 * SORT and UID SORT (RFC 5256 §3, RFC 5957 DISPLAYFROM/DISPLAYTO, ESORT
 * RFC 5267 §3), THREAD and UID THREAD (RFC 5256 §3):
 *
 *   SORT [RETURN (MIN MAX COUNT ALL SAVE)] (criteria) charset key...
 *   THREAD ORDEREDSUBJECT|REFERENCES charset key...
 *
 * The search keys are SEARCH's (search.c), matched by SEARCH's loop
 * (cmd_search_each()); for each message found the keys the command
 * compares are those the store made when the message was stored
 * (store_message_sortkeys: one short row per message, read a batch at a
 * time; made from the header for a message stored before, and kept once
 * the answer is out), held in memory for this command only: one struct
 * sortkey per message found, its strings bounded (sortkey.h).  The order
 * is made here (sortkey_cmp()) and the threads in thread.c.
 *
 * Like SEARCH they send no EXPUNGE while they run (RFC 9051 §7.5.1).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "search.h"
#include "sortkey.h"
#include "thread.h"
#include "xmalloc.h"

/* The messages found and their keys. */
struct sort_run {
	struct session *s;
	unsigned want;               /* SORTKEY_WANT bits */
	struct sortkey *keys;
	size_t n, cap;
	uint64_t highest_modseq;     /* of the messages found (MODSEQ keys) */
	size_t made;                 /* keys made now, not read: to keep */
	struct sortkey_arena arena;  /* the keys' strings */
};

static int
sort_collect(void *arg, uint32_t msn, const struct store_message *m,
    const struct buf *fields)
{
	struct sort_run *r = arg;
	struct sortkey *k;
	struct sortkeys sk;
	bool stored = true;

	(void)fields;
	if ((r->want & ~SORTKEY_WANT_ROW) != 0) {
		enum store_result sr = store_message_sortkeys(r->s->view, m->uid,
		    sortkey_store_want(r->want), &sk, &stored);

		if (sr == STORE_NOT_FOUND)
			return 0;       /* expunged by another session meanwhile */
		if (sr != STORE_OK)
			return -1;
	}
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 256;
		r->keys = xreallocarray(r->keys, r->cap, sizeof(*r->keys));
	}
	k = &r->keys[r->n++];
	memset(k, 0, sizeof(*k));
	k->msn = msn;
	k->uid = m->uid;
	k->size = m->size;
	k->arrival = m->internaldate;
	k->date = k->arrival;
	if ((r->want & ~SORTKEY_WANT_ROW) != 0)
		sortkey_set(k, r->want, &sk, &r->arena);
	if (!stored)
		r->made++;
	if (m->modseq > r->highest_modseq)
		r->highest_modseq = m->modseq;
	return 0;
}

/*
 * After the answer: keep the keys made for messages stored before the
 * store kept them (store_message_sortkeys), so that the next SORT reads
 * them.  A failure costs only that they are made again.
 */
static void
sort_keys_save(struct session *s, const struct sort_run *r, const char *what)
{
	if (r->made == 0)
		return;
	/* the client has its answer before the writes begin */
	if (conn_flush(&s->conn) != CONN_OK) {
		s->state = SESSION_LOGOUT;
		return;
	}
	if (store_sortkeys_save(s->store) != STORE_OK)
		log_warnx("%s: the sort keys of %zu messages were not kept: %s",
		    what, r->made, store_error(s->store));
	else
		log_debug("%s: kept the sort keys of %zu messages", what, r->made);
}

static void
sort_run_free(struct sort_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		sortkey_free(&r->keys[i]);
	free(r->keys);
	sortkey_arena_free(&r->arena);
}

/* The number a message goes by in the answer. */
static uint32_t
sort_num(const struct session *s, const struct sortkey *k)
{
	return s->uid_command ? k->uid : k->msn;
}

/*
 * charset, then the search keys, from args[i]: the program, or NULL after
 * answering (BAD, or NO [BADCHARSET] which with SAVE also empties "$").
 */
static struct search_program *
sort_search_keys(struct session *s, const struct imap_command *c, size_t i,
    unsigned ret)
{
	const struct imap_arg *cs = i < c->nargs ? &c->args[i] : NULL;
	struct search_program *p;
	const char *why = NULL;

	if (cs == NULL || (cs->type != IMAP_ARG_ATOM && cs->type != IMAP_ARG_QUOTED &&
	    cs->type != IMAP_ARG_LITERAL)) {
		session_tagged(s, c->tag, "BAD", "%s needs a charset and search keys",
		    c->name);
		return NULL;
	}
	if (strlen(cs->str) != cs->len || !cmd_search_charset_ok(cs->str)) {
		cmd_search_no(s, c->tag, ret, "[BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
		return NULL;
	}
	if (i + 1 >= c->nargs) {
		session_tagged(s, c->tag, "BAD", "%s needs search keys", c->name);
		return NULL;
	}
	if ((p = search_parse(c->args + i + 1, c->nargs - i - 1, &why)) == NULL) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return NULL;
	}
	/* RFC 7162 §3.1: a MODSEQ search key enables CONDSTORE */
	if (p->uses_modseq)
		s->enabled |= SESSION_ENABLED_CONDSTORE;
	return p;
}

/* Find the messages and their keys; false when the session ends or
 * after answering NO. */
static bool
sort_find(struct session *s, const struct imap_command *c,
    struct search_program *p, unsigned ret, struct sort_run *r)
{
	/* New messages first (EXISTS), so the search sees them; expunges wait. */
	if (!session_sync(s, false))
		return false;
	if (!cmd_search_each(s, p, sort_collect, r)) {
		log_warnx("%s: %s", c->name, store_error(s->store));
		cmd_search_no(s, c->tag, ret, "[SERVERBUG] Search failed; the "
		    "administrator has the details");
		return false;
	}
	return true;
}

/* ---- SORT ------------------------------------------------------------------- */

static const struct {
	const char *name;
	enum sortkey_field field;
} sort_names[] = {
	{ "ARRIVAL", SORTKEY_ARRIVAL }, { "CC", SORTKEY_CC }, { "DATE", SORTKEY_DATE },
	{ "FROM", SORTKEY_FROM }, { "SIZE", SORTKEY_SIZE },
	{ "SUBJECT", SORTKEY_SUBJECT }, { "TO", SORTKEY_TO },
	{ "DISPLAYFROM", SORTKEY_DISPLAYFROM }, { "DISPLAYTO", SORTKEY_DISPLAYTO },
};

/* sort-criteria = "(" sort-criterion *(SP sort-criterion) ")",
 * sort-criterion = ["REVERSE" SP] sort-key.  0, or -1 with *why. */
static int
sort_criteria(const struct imap_arg *list, struct sortkey_criterion *crit,
    size_t *n, const char **why)
{
	bool reverse = false;

	*n = 0;
	if (list->type != IMAP_ARG_LIST || list->list_count == 0) {
		*why = "SORT needs a list of sort criteria";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		size_t k;

		if (a->type == IMAP_ARG_ATOM && strcasecmp(a->str, "REVERSE") == 0 &&
		    !reverse) {
			reverse = true;
			continue;
		}
		for (k = 0; k < sizeof(sort_names) / sizeof(sort_names[0]); k++)
			if (a->type == IMAP_ARG_ATOM &&
			    strcasecmp(a->str, sort_names[k].name) == 0)
				break;
		if (k == sizeof(sort_names) / sizeof(sort_names[0])) {
			*why = "Unknown sort criterion (ARRIVAL, CC, DATE, FROM, SIZE, "
			    "SUBJECT, TO, DISPLAYFROM, DISPLAYTO, each may follow REVERSE)";
			return -1;
		}
		if (*n == SORTKEY_CRITERIA_MAX) {
			*why = "Too many sort criteria";
			return -1;
		}
		crit[*n].field = sort_names[k].field;
		crit[(*n)++].reverse = reverse;
		reverse = false;
	}
	if (reverse) {
		*why = "REVERSE needs a sort criterion after it";
		return -1;
	}
	return 0;
}

/* qsort() has no argument for the criteria; one command runs at a time. */
static const struct sortkey_criterion *sort_by;
static size_t sort_by_n;

static int
sort_cmp(const void *a, const void *b)
{
	return sortkey_cmp(a, b, sort_by, sort_by_n);
}

/* "SORT 3 1 2", with " (MODSEQ n)" after a MODSEQ key (RFC 7162 §3.1.5). */
static void
sort_reply(const struct session *s, const struct search_program *p,
    const struct sort_run *r, struct buf *line)
{
	buf_append_str(line, "SORT");
	for (size_t i = 0; i < r->n; i++) {
		buf_append_char(line, ' ');
		buf_append_uint(line, sort_num(s, &r->keys[i]));
	}
	if (p->uses_modseq && r->n > 0)
		buf_printf(line, " (MODSEQ %llu)", (unsigned long long)r->highest_modseq);
}

/*
 * ALL of ESORT: the numbers in sort order (RFC 5267 §3); a run of
 * consecutive ascending numbers is written as a range, which reads the
 * same as a set or in order.
 */
static void
esort_all(const struct session *s, const struct sort_run *r, struct buf *line)
{
	for (size_t i = 0; i < r->n;) {
		uint32_t lo = sort_num(s, &r->keys[i]), hi = lo;

		if (i > 0)
			buf_append_char(line, ',');
		for (i++; i < r->n && hi != UINT32_MAX &&
		    sort_num(s, &r->keys[i]) == hi + 1; i++)
			hi++;
		buf_append_uint(line, lo);
		if (hi != lo) {
			buf_append_char(line, ':');
			buf_append_uint(line, hi);
		}
	}
}

/* "ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]":
 * MIN and MAX are the first and the last message in sort order. */
static void
esort_reply(const struct session *s, const char *tag, unsigned ret,
    const struct search_program *p, const struct sort_run *r, struct buf *line)
{
	cmd_esearch_start(s, tag, line);
	if ((ret & CMD_RETURN_MIN) && r->n > 0)
		buf_printf(line, " MIN %u", sort_num(s, &r->keys[0]));
	if ((ret & CMD_RETURN_MAX) && r->n > 0)
		buf_printf(line, " MAX %u", sort_num(s, &r->keys[r->n - 1]));
	if (ret & CMD_RETURN_COUNT)
		buf_printf(line, " COUNT %zu", r->n);
	if ((ret & CMD_RETURN_ALL) && r->n > 0) {
		buf_append_str(line, " ALL ");
		esort_all(s, r, line);
	}
	if (p->uses_modseq && r->n > 0)
		buf_printf(line, " MODSEQ %llu", (unsigned long long)r->highest_modseq);
}

/* The untagged answer in line (none if empty), then the tagged OK; or NO
 * when the answer outgrew its buffer's limit. */
static void
sort_send(struct session *s, const char *tag, const struct buf *line,
    const char *done, bool saved)
{
	if (line->overflow) {
		log_warnx("%s: the answer is too large", done);
		session_tagged(s, tag, "NO", "[LIMIT] The answer is too large");
		return;
	}
	if (line->len > 0)
		session_untagged_buf(s, line);
	session_tagged(s, tag, "OK", "%s%s completed%s", s->uid_command ? "UID " :
	    "", done, saved ? ", result saved" : "");
}

/* RETURN (SAVE) of a SORT: "$" is a set, so the order goes; MIN and MAX
 * alone save the first and the last message in sort order. */
static void
esort_save(struct session *s, unsigned ret, const struct sort_run *r)
{
	struct seqset uids = SEQSET_INIT;

	for (size_t i = 0; i < r->n; i++)
		seqset_add_range(&uids, r->keys[i].uid, r->keys[i].uid);
	cmd_search_save(s, ret, &uids, r->n > 0 ? r->keys[0].uid : 0,
	    r->n > 0 ? r->keys[r->n - 1].uid : 0);
	seqset_free(&uids);
}

void
cmd_sort(struct session *s, const struct imap_command *c)
{
	struct sortkey_criterion crit[SORTKEY_CRITERIA_MAX];
	struct sort_run r = { .s = s, .arena = SORTKEY_ARENA_INIT };
	struct buf line = BUF_INIT;
	struct search_program *p;
	const char *why = NULL;
	unsigned ret = 0;
	bool esort = false;
	size_t i = 0, ncrit;

	if (c->nargs > 0 && c->args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(c->args[0].str, "RETURN") == 0) {
		if (c->nargs < 2 || c->args[1].type != IMAP_ARG_LIST) {
			session_tagged(s, c->tag, "BAD", "RETURN needs a list of options");
			return;
		}
		if (cmd_search_return(&c->args[1], &ret, &why) != 0) {
			session_tagged(s, c->tag, "BAD", "%s", why);
			return;
		}
		esort = true;
		i = 2;
	}
	if (i >= c->nargs) {
		session_tagged(s, c->tag, "BAD", "SORT needs sort criteria, a charset "
		    "and search keys");
		return;
	}
	if (sort_criteria(&c->args[i], crit, &ncrit, &why) != 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if ((p = sort_search_keys(s, c, i + 1, ret)) == NULL)
		return;
	r.want = sortkey_want(crit, ncrit);
	if (!sort_find(s, c, p, ret, &r))
		goto out;
	sort_by = crit;
	sort_by_n = ncrit;
	for (size_t k = 0; k < r.n; k++)
		sortkey_prepare(&r.keys[k], crit, ncrit);
	if (r.n > 1)
		qsort(r.keys, r.n, sizeof(*r.keys), sort_cmp);
	if (ret & CMD_RETURN_SAVE)
		esort_save(s, ret, &r);
	/* RFC 5182 §1: SAVE alone suppresses the response */
	if (!esort)
		sort_reply(s, p, &r, &line);
	else if (ret != CMD_RETURN_SAVE)
		esort_reply(s, c->tag, ret, p, &r, &line);
	sort_send(s, c->tag, &line, "SORT", (ret & CMD_RETURN_SAVE) != 0);
	sort_keys_save(s, &r, "SORT");
out:
	buf_free(&line);
	sort_run_free(&r);
	search_free(p);
}

/* ---- THREAD ------------------------------------------------------------------- */

void
cmd_thread(struct session *s, const struct imap_command *c)
{
	struct sort_run r = { .s = s, .arena = SORTKEY_ARENA_INIT };
	struct buf line = BUF_INIT;
	struct thread_msg *msgs;
	struct search_program *p;
	bool references;

	if (c->nargs < 1 || c->args[0].type != IMAP_ARG_ATOM) {
		session_tagged(s, c->tag, "BAD", "THREAD needs an algorithm, a "
		    "charset and search keys");
		return;
	}
	if (strcasecmp(c->args[0].str, "REFERENCES") == 0)
		references = true;
	else if (strcasecmp(c->args[0].str, "ORDEREDSUBJECT") == 0)
		references = false;
	else {
		session_tagged(s, c->tag, "BAD", "Unknown threading algorithm "
		    "(ORDEREDSUBJECT, REFERENCES)");
		return;
	}
	if ((p = sort_search_keys(s, c, 1, 0)) == NULL)
		return;
	r.want = SORTKEY_WANT(SORTKEY_SUBJECT) | SORTKEY_WANT(SORTKEY_DATE) |
	    (references ? SORTKEY_WANT_IDS : 0);
	if (!sort_find(s, c, p, 0, &r))
		goto out;
	msgs = xreallocarray(NULL, r.n > 0 ? r.n : 1, sizeof(*msgs));
	for (size_t i = 0; i < r.n; i++) {
		const struct sortkey *k = &r.keys[i];

		msgs[i].num = sort_num(s, k);
		msgs[i].date = k->date;
		msgs[i].subject = k->subject;
		msgs[i].reply = k->reply;
		msgs[i].msgid = k->msgid;
		msgs[i].refs = (const char *const *)k->refs;
		msgs[i].n_refs = k->n_refs;
	}
	/* thread-data = "THREAD" [SP 1*thread-list] */
	buf_append_str(&line, r.n > 0 ? "THREAD " : "THREAD");
	if (references)
		thread_references(msgs, r.n, &line);
	else
		thread_orderedsubject(msgs, r.n, &line);
	free(msgs);
	sort_send(s, c->tag, &line, "THREAD", false);
	sort_keys_save(s, &r, "THREAD");
out:
	buf_free(&line);
	sort_run_free(&r);
	search_free(p);
}
