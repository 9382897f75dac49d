/*
 * SEARCH and UID SEARCH (RFC 9051 §6.4.4, RFC 3501 §6.4.4), with the
 * ESEARCH answer (RFC 4731, RFC 9051 §7.3.4), MODSEQ (RFC 7162 §3.1.5) and
 * the SAVE result option (SEARCHRES, RFC 5182).
 *
 *   SEARCH [RETURN (MIN MAX COUNT ALL SAVE)] [CHARSET UTF-8] key...
 *
 * The keys (search.c) are matched on what the index holds first (flags,
 * size, dates, UIDs); a message is mapped and read only when that cannot
 * decide.  BODY and TEXT ask the full-text index first (store_fts_*):
 * the messages it rules out are not read, nor even looked at when the key
 * must hold for every match.  Answers: "* SEARCH n..." for IMAP4rev1,
 * "* ESEARCH ..." when RETURN was given or the client enabled IMAP4rev2.
 * No EXPUNGE may go out during SEARCH (RFC 9051 §7.5.1).
 *
 * SAVE keeps the result, as UIDs, in s->searchres for "$".  A client may
 * pipeline commands using "$" after a SEARCH SAVE, and the server must run
 * them in the order received (RFC 5182 §2.3, RFC 9051 §6.4.4.2): the
 * session runs one command at a time, in order, so that holds by design.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "search.h"

struct search_result {
	struct seqset set;       /* MSNs, or UIDs for UID SEARCH */
	struct seqset uids;      /* UIDs, filled only for RETURN (SAVE) */
	bool want_uids;
	uint64_t count;
	uint64_t highest_modseq; /* of the messages found (MODSEQ keys) */
};

int
cmd_search_return(const struct imap_arg *list, unsigned *ret, const char **why)
{
	*ret = 0;
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];

		if (a->type != IMAP_ARG_ATOM)
			goto bad;
		if (strcasecmp(a->str, "MIN") == 0)
			*ret |= CMD_RETURN_MIN;
		else if (strcasecmp(a->str, "MAX") == 0)
			*ret |= CMD_RETURN_MAX;
		else if (strcasecmp(a->str, "ALL") == 0)
			*ret |= CMD_RETURN_ALL;
		else if (strcasecmp(a->str, "COUNT") == 0)
			*ret |= CMD_RETURN_COUNT;
		else if (strcasecmp(a->str, "SAVE") == 0)
			*ret |= CMD_RETURN_SAVE;
		else
			goto bad;
	}
	if (*ret == 0)
		*ret = CMD_RETURN_ALL;
	return 0;
bad:
	*why = "Unknown RETURN option (MIN, MAX, ALL, COUNT, SAVE)";
	return -1;
}

/*
 * One message, in up to three steps, each only if the one before could
 * not decide (SEARCH_MAYBE): its row (flags, dates, sizes), the header
 * fields the store caches (when a key can use them: fields is NULL
 * otherwise; *have_fields says whether fields holds this message's), the
 * whole message file.  STORE_NOT_FOUND: it was expunged meanwhile.
 */
static enum store_result
search_one(struct store_view *v, const struct search_program *p, uint32_t msn,
    uint32_t uid, struct store_message *m, struct buf *fields,
    bool *have_fields, enum search_match *r)
{
	struct search_input in = { .msn = msn, .msg = m };
	enum store_result sr;

	*have_fields = false;
	if ((sr = store_message_get(v, uid, m)) != STORE_OK)
		return sr;
	if ((*r = search_match(p, &in)) != SEARCH_MAYBE)
		return STORE_OK;
	if (fields == NULL)
		goto message;
	buf_reset(fields);
	sr = store_message_header_fields(v, uid, fields);
	if (sr == STORE_OK) {
		*have_fields = true;
		in.fields = fields->data != NULL ? fields->data : "";
		in.fields_len = fields->len;
		if ((*r = search_match(p, &in)) != SEARCH_MAYBE)
			return STORE_OK;
		in.fields = NULL;
		in.fields_len = 0;
	} else if (sr != STORE_NOT_FOUND) {
		return sr;
	}
message:
	if ((sr = store_message_map(v, uid, &in.data, &in.len)) != STORE_OK)
		return sr;
	/* an empty message maps as NULL: it has no header or body */
	if (in.data == NULL)
		in.data = "";
	*r = search_match(p, &in);
	if (in.len > 0)
		store_message_unmap(in.data, in.len);
	return STORE_OK;
}

/* A BODY or TEXT key the full-text index can narrow. */
static bool
fts_key(const struct search_key *k)
{
	return (k->type == SEARCH_KEY_BODY || k->type == SEARCH_KEY_TEXT) &&
	    store_fts_usable(k->str, k->len);
}

/*
 * Before the first BODY or TEXT search of a mailbox whose messages were
 * stored before the index existed: index them (store_fts_update, in
 * short transactions, logged).  Outside the held snapshot.  A failure
 * costs only speed: what is not indexed is read.
 */
static void
search_fts_update(struct session *s, const struct search_program *p)
{
	for (const struct search_key *k = p->keys; k != NULL; k = k->all)
		if (fts_key(k)) {
			if (store_fts_update(s->view) != STORE_OK)
				log_warnx("SEARCH: indexing for full-text "
				    "search: %s", store_error(s->store));
			return;
		}
}

/*
 * Under the held snapshot, each BODY and TEXT key gets the messages the
 * index could not rule out (search.h, maybe): the others are NO without
 * being read, under NOT and OR too.  A key the index cannot help (a
 * string of fewer than 3 characters) keeps reading every message.
 */
static void
search_fts_narrow(struct session *s, struct search_program *p)
{
	for (struct search_key *k = p->keys; k != NULL; k = k->all) {
		if (!fts_key(k))
			continue;
		if (store_fts_candidates(s->view, k->str, k->len,
		    k->type == SEARCH_KEY_BODY, &k->maybe, &k->n_maybe) != STORE_OK) {
			log_warnx("SEARCH: full-text index: %s", store_error(s->store));
			continue;
		}
		k->narrowed = true;
		log_debug("SEARCH: the full-text index leaves %zu of %u messages "
		    "for %s", k->n_maybe, store_view_exists(s->view),
		    k->type == SEARCH_KEY_BODY ? "BODY" : "TEXT");
	}
}

/*
 * A narrowed key every match must pass (k itself, or one ANDed in at the
 * top), the one with the fewest candidates: only its messages need a
 * look at all.  NULL when there is none.
 */
static const struct search_key *
search_fts_only(const struct search_key *k)
{
	const struct search_key *best = NULL, *c;

	if (k->narrowed)
		return k;
	if (k->type != SEARCH_KEY_AND)
		return NULL;
	for (const struct search_key *ch = k->child; ch != NULL; ch = ch->next)
		if ((c = search_fts_only(ch)) != NULL &&
		    (best == NULL || c->n_maybe < best->n_maybe))
			best = c;
	return best;
}

/* Is uid among only's candidates?  uids come in ascending order; *at
 * follows them. */
static bool
search_fts_has(const struct search_key *only, size_t *at, uint32_t uid)
{
	if (only == NULL)
		return true;
	while (*at < only->n_maybe && only->maybe[*at] < uid)
		(*at)++;
	return *at < only->n_maybe && only->maybe[*at] == uid;
}

bool
cmd_search_each(struct session *s, struct search_program *p,
    int (*fn)(void *arg, uint32_t msn, const struct store_message *m,
    const struct buf *fields), void *arg)
{
	struct store_view *v = s->view;
	uint32_t exists = store_view_exists(v);
	struct buf fields = BUF_INIT;
	/* BODY alone gains nothing from the cached fields: go to the file */
	struct buf *use_fields = search_uses_fields(p) ? &fields : NULL;
	const struct search_key *only;
	size_t at = 0;
	bool ok = true;

	search_resolve(p, exists, exists > 0 ? store_view_uid(v, exists) : 0,
	    &s->searchres);
	search_fts_update(s, p);
	if (store_read_hold(s->store) != STORE_OK)
		return false;
	search_fts_narrow(s, p);
	only = search_fts_only(p->root);
	for (uint32_t msn = 1; msn <= exists; msn++) {
		uint32_t uid = store_view_uid(v, msn);
		struct store_message m;
		enum search_match r;
		enum store_result sr;
		bool have_fields;

		if (uid == 0 || !search_fts_has(only, &at, uid))
			continue;
		sr = search_one(v, p, msn, uid, &m, use_fields, &have_fields, &r);
		if (sr == STORE_NOT_FOUND)
			continue;    /* expunged by another session meanwhile */
		if (sr != STORE_OK || (r == SEARCH_YES &&
		    fn(arg, msn, &m, have_fields ? &fields : NULL) != 0)) {
			ok = false;
			break;
		}
	}
	store_read_release(s->store);
	buf_free(&fields);
	return ok;
}

struct search_found {
	struct session *s;
	struct search_result *res;
};

static int
search_found(void *arg, uint32_t msn, const struct store_message *m,
    const struct buf *fields)
{
	struct search_found *f = arg;
	struct search_result *res = f->res;
	uint32_t n = f->s->uid_command ? m->uid : msn;

	(void)fields;
	seqset_add_range(&res->set, n, n);
	if (res->want_uids)
		seqset_add_range(&res->uids, m->uid, m->uid);
	res->count++;
	if (m->modseq > res->highest_modseq)
		res->highest_modseq = m->modseq;
	return 0;
}

/* "* SEARCH 1 2 3" (IMAP4rev1), with " (MODSEQ n)" after a MODSEQ key. */
static void
search_reply_rev1(struct session *s, const struct search_program *p,
    const struct search_result *res)
{
	struct buf line = BUF_INIT;
	struct seqset_iter it;
	uint32_t n;

	buf_append_str(&line, "SEARCH");
	for (bool ok = seqset_first(&res->set, &it, &n); ok;
	    ok = seqset_next(&res->set, &it, &n))
		buf_printf(&line, " %u", n);
	if (p->uses_modseq && res->count > 0)
		buf_printf(&line, " (MODSEQ %llu)", (unsigned long long)res->highest_modseq);
	session_untagged_buf(s, &line);
	buf_free(&line);
}

void
cmd_esearch_start(const struct session *s, const char *tag, struct buf *line)
{
	buf_append_str(line, "ESEARCH (TAG ");
	buf_append_imap_string(line, tag, strlen(tag));
	buf_append_char(line, ')');
	if (s->uid_command)
		buf_append_str(line, " UID");
}

/* "* ESEARCH (TAG "t") [UID] [MIN n] [MAX n] [COUNT n] [ALL set] [MODSEQ n]" */
static void
search_reply_esearch(struct session *s, const char *tag, unsigned ret,
    const struct search_program *p, const struct search_result *res)
{
	struct buf line = BUF_INIT;

	cmd_esearch_start(s, tag, &line);
	if ((ret & CMD_RETURN_MIN) && res->count > 0)
		buf_printf(&line, " MIN %u", seqset_min(&res->set));
	if ((ret & CMD_RETURN_MAX) && res->count > 0)
		buf_printf(&line, " MAX %u", seqset_max(&res->set));
	if (ret & CMD_RETURN_COUNT)
		buf_printf(&line, " COUNT %llu", (unsigned long long)res->count);
	if ((ret & CMD_RETURN_ALL) && res->count > 0) {
		buf_append_str(&line, " ALL ");
		seqset_format(&res->set, &line);
	}
	if (p->uses_modseq && res->count > 0)
		buf_printf(&line, " MODSEQ %llu", (unsigned long long)res->highest_modseq);
	session_untagged_buf(s, &line);
	buf_free(&line);
}

/*
 * RETURN (SAVE): the result replaces "$", as UIDs (RFC 5182 §2.1, RFC 9051
 * §6.4.4.1).  With MIN and/or MAX but neither ALL nor COUNT, only the one
 * or two messages those return are saved (min_uid, max_uid; 0: none);
 * otherwise every message found, uids, which is taken over.
 */
void
cmd_search_save(struct session *s, unsigned ret, struct seqset *uids,
    uint32_t min_uid, uint32_t max_uid)
{
	seqset_free(&s->searchres);
	if ((ret & (CMD_RETURN_ALL | CMD_RETURN_COUNT)) == 0 &&
	    (ret & (CMD_RETURN_MIN | CMD_RETURN_MAX)) != 0) {
		/* an empty result has no UID 0 to add */
		if ((ret & CMD_RETURN_MIN) && min_uid != 0)
			seqset_add_range(&s->searchres, min_uid, min_uid);
		if ((ret & CMD_RETURN_MAX) && max_uid != 0)
			seqset_add_range(&s->searchres, max_uid, max_uid);
		return;
	}
	s->searchres = *uids;
	*uids = (struct seqset)SEQSET_INIT;
}

void
cmd_search_no(struct session *s, const char *tag, unsigned ret, const char *text)
{
	if (ret & CMD_RETURN_SAVE)
		seqset_free(&s->searchres);
	session_tagged(s, tag, "NO", "%s", text);
}

bool
cmd_search_charset_ok(const char *name)
{
	return strcasecmp(name, "UTF-8") == 0 || strcasecmp(name, "US-ASCII") == 0;
}

/*
 * [RETURN (...)] [CHARSET name] before the keys; *i is left on the first
 * key.  0; -1 with *why for a BAD; 1 for an unknown charset (a NO).
 */
static int
search_options(const struct imap_command *c, size_t *i, unsigned *ret,
    bool *esearch, const char **why)
{
	const struct imap_arg *args = c->args;
	size_t n = c->nargs;

	*ret = 0;
	*esearch = false;
	if (*i + 1 < n && args[*i].type == IMAP_ARG_ATOM &&
	    strcasecmp(args[*i].str, "RETURN") == 0 &&
	    args[*i + 1].type == IMAP_ARG_LIST) {
		if (cmd_search_return(&args[*i + 1], ret, why) != 0)
			return -1;
		*esearch = true;
		*i += 2;
	}
	if (*i < n && args[*i].type == IMAP_ARG_ATOM &&
	    strcasecmp(args[*i].str, "CHARSET") == 0) {
		const struct imap_arg *cs = *i + 1 < n ? &args[*i + 1] : NULL;

		if (cs == NULL || cs->type == IMAP_ARG_LIST || cs->type == IMAP_ARG_NIL) {
			*why = "CHARSET needs a charset name";
			return -1;
		}
		if (!cmd_search_charset_ok(cs->str))
			return 1;
		*i += 2;
	}
	return 0;
}

void
cmd_search(struct session *s, const struct imap_command *c)
{
	struct search_result res = { SEQSET_INIT, SEQSET_INIT, false, 0, 0 };
	struct search_found found;
	struct search_program *p;
	const char *why = NULL;
	unsigned ret = 0;
	bool esearch = false;
	size_t i = 0;
	int rc;

	if ((rc = search_options(c, &i, &ret, &esearch, &why)) < 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if (rc > 0) {
		cmd_search_no(s, c->tag, ret, "[BADCHARSET (UTF-8 US-ASCII)] "
		    "Unsupported charset");
		return;
	}
	/* "t SEARCH" alone has no args array (NULL): NULL + 0 is undefined
	 * behaviour (found by tests/fuzz/fuzz_session) */
	if ((p = search_parse(c->nargs > i ? c->args + i : NULL, c->nargs - i,
	    &why)) == NULL) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	/* RFC 9051 §6.4.4: an IMAP4rev2 client gets ESEARCH, ALL by default */
	if (!esearch && (s->enabled & SESSION_ENABLED_IMAP4REV2)) {
		esearch = true;
		ret = CMD_RETURN_ALL;
	}
	/* RFC 7162 §3.1: a MODSEQ search key enables CONDSTORE */
	if (p->uses_modseq)
		s->enabled |= SESSION_ENABLED_CONDSTORE;
	/* New messages first (EXISTS), so the search sees them; expunges wait. */
	if (!session_sync(s, false))
		goto out;
	res.want_uids = (ret & CMD_RETURN_SAVE) != 0;
	found.s = s;
	found.res = &res;
	if (!cmd_search_each(s, p, search_found, &found)) {
		log_warnx("SEARCH: %s", store_error(s->store));
		cmd_search_no(s, c->tag, ret, "[SERVERBUG] Search failed; the "
		    "administrator has the details");
		goto out;
	}
	/* MSNs and UIDs ascend together: the smallest UID is MIN's message */
	if (ret & CMD_RETURN_SAVE)
		cmd_search_save(s, ret, &res.uids, seqset_min(&res.uids),
		    seqset_max(&res.uids));
	/* RFC 5182 §1, RFC 9051 §6.4.4: SAVE alone suppresses the response */
	if (ret != CMD_RETURN_SAVE) {
		if (esearch)
			search_reply_esearch(s, c->tag, ret, p, &res);
		else
			search_reply_rev1(s, p, &res);
	}
	session_tagged(s, c->tag, "OK", "%sSEARCH completed%s", s->uid_command ?
	    "UID " : "", (ret & CMD_RETURN_SAVE) ? ", result saved" : "");
out:
	seqset_free(&res.set);
	seqset_free(&res.uids);
	search_free(p);
}
