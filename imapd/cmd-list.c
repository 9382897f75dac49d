/*
 * LIST (RFC 9051 §6.3.9) with the extensions it absorbed: LIST-EXTENDED
 * selection and return options (RFC 5258), SPECIAL-USE (RFC 6154) and
 * the STATUS return option (RFC 5819); and LSUB for IMAP4rev1 clients
 * (RFC 3501 §6.3.9).
 *
 * Every name an answer can mention goes into one sorted array: the
 * mailboxes, the subscriptions, and every ancestor of either (a name that
 * is neither is a placeholder; the store keeps parents, so placeholders
 * are mostly ancestors of subscribed names).  Sorted with '/' lowest, the
 * descendants of a name directly follow it, so one pass with a stack of
 * ancestors tells each name what lies below it.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "xmalloc.h"

#define SEL_SUBSCRIBED   (1u << 0)
#define SEL_REMOTE       (1u << 1)   /* no remote mailboxes: a no-op */
#define SEL_RECURSIVE    (1u << 2)
#define SEL_SPECIAL_USE  (1u << 3)

#define RET_SUBSCRIBED   (1u << 0)
#define RET_CHILDREN     (1u << 1)   /* children are always reported */
#define RET_SPECIAL_USE  (1u << 2)   /* special uses are always reported */
#define RET_STATUS       (1u << 3)

struct list_req {
	bool lsub;
	bool extended;           /* RFC 9051 §6.3.9: the extended syntax */
	bool nonexistent;        /* say \NonExistent (else \Noselect) */
	unsigned sel, ret, status_items;
	uint64_t appendlimit;    /* STATUS APPENDLIMIT, one for all (RFC 7889) */
	char **patterns;         /* reference + pattern, UTF-8 */
	size_t n_patterns;
};

struct list_node {
	char *name;
	bool exists, noselect, subscribed;
	unsigned special_use;
	bool matched;            /* by one of the patterns */
	bool meets;              /* the selection criteria */
	bool below_exists;       /* an existing mailbox lies below */
	bool below_meets;        /* a name below meets the criteria ... */
	bool below_unmatched;    /* ... and matches no pattern */
};

struct list_tree {
	struct list_node *v;
	size_t n, cap;
};

/* ---- names ------------------------------------------------------------------ */

static bool
in_inbox(const char *name)
{
	return strncmp(name, "INBOX", 5) == 0 && (name[5] == '\0' || name[5] == '/');
}

/* INBOX's tree first, then byte order with '/' below every character. */
static int
node_cmp(const void *pa, const void *pb)
{
	const unsigned char *a = (const unsigned char *)((const struct list_node *)pa)->name;
	const unsigned char *b = (const unsigned char *)((const struct list_node *)pb)->name;
	bool ia = in_inbox((const char *)a), ib = in_inbox((const char *)b);

	if (ia != ib)
		return ia ? -1 : 1;
	for (;; a++, b++) {
		unsigned ca = *a == '/' ? 1u : *a == '\0' ? 0u : *a + 1u;
		unsigned cb = *b == '/' ? 1u : *b == '\0' ? 0u : *b + 1u;

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca == 0)
			return 0;
	}
}

/* Is name below (a descendant of) anc? */
static bool
is_below(const char *anc, const char *name)
{
	size_t len = strlen(anc);

	return strncmp(name, anc, len) == 0 && name[len] == '/';
}

/*
 * RFC 9051 §6.3.9: '*' matches any characters, '%' any but the hierarchy
 * delimiter.  One row of matches per pattern character: no backtracking,
 * however many wildcards.
 */
static bool
list_match(const char *pat, const char *name)
{
	bool rows[2][STORE_MAILBOX_NAME_MAX + 1];
	bool *row = rows[0], *next = rows[1], *tmp;
	size_t n = strlen(name), j;

	if (n > STORE_MAILBOX_NAME_MAX)
		return false;
	memset(row, 0, (n + 1) * sizeof(*row));
	row[0] = true;
	for (; *pat != '\0'; pat++) {
		bool any = false;

		if (*pat == '*') {
			for (j = 0; j <= n; j++)
				next[j] = row[j] || (j > 0 && next[j - 1]);
		} else if (*pat == '%') {
			for (j = 0; j <= n; j++)
				next[j] = row[j] || (j > 0 && next[j - 1] && name[j - 1] != '/');
		} else {
			next[0] = false;
			for (j = 1; j <= n; j++)
				next[j] = row[j - 1] && *pat == name[j - 1];
		}
		for (j = 0; j <= n; j++)
			any = any || next[j];
		if (!any)
			return false;
		tmp = row;
		row = next;
		next = tmp;
	}
	return row[n];
}

/* ---- the tree of names ------------------------------------------------------- */

static struct list_node *
tree_add(struct list_tree *t, const char *name, size_t len)
{
	struct list_node *nd;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->v = xreallocarray(t->v, t->cap, sizeof(*t->v));
	}
	nd = &t->v[t->n++];
	memset(nd, 0, sizeof(*nd));
	nd->name = xmalloc(len + 1);
	memcpy(nd->name, name, len);
	nd->name[len] = '\0';
	return nd;
}

static int
tree_mailbox(const struct store_mailbox *mb, void *arg)
{
	struct list_node *nd = tree_add(arg, mb->name, strlen(mb->name));

	nd->exists = true;
	nd->noselect = mb->noselect;
	nd->special_use = mb->special_use;
	return 0;
}

static int
tree_subscription(const char *name, void *arg)
{
	tree_add(arg, name, strlen(name))->subscribed = true;
	return 0;
}

/* Add every ancestor, sort, and merge the entries of each name into one. */
static void
tree_complete(struct list_tree *t)
{
	size_t n = t->n, i, out;

	for (i = 0; i < n; i++)
		for (const char *p = strchr(t->v[i].name, '/'); p != NULL; p = strchr(p + 1, '/'))
			tree_add(t, t->v[i].name, (size_t)(p - t->v[i].name));
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), node_cmp);
	for (i = 0, out = 0; i < t->n; i++) {
		struct list_node *prev = out > 0 ? &t->v[out - 1] : NULL;

		if (prev != NULL && strcmp(prev->name, t->v[i].name) == 0) {
			prev->exists |= t->v[i].exists;
			prev->noselect |= t->v[i].noselect;
			prev->subscribed |= t->v[i].subscribed;
			prev->special_use |= t->v[i].special_use;
			free(t->v[i].name);
			continue;
		}
		t->v[out++] = t->v[i];
	}
	t->n = out;
}

static void
tree_free(struct list_tree *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->v[i].name);
	free(t->v);
}

static void
node_fold(struct list_node *parent, const struct list_node *child)
{
	parent->below_exists |= child->exists || child->below_exists;
	parent->below_meets |= child->meets || child->below_meets;
	parent->below_unmatched |= (child->meets && !child->matched) ||
	    child->below_unmatched;
}

/* Each name's parent is in the tree and on the stack when it is popped. */
static void
tree_propagate(struct list_tree *t)
{
	size_t *stack = xcalloc(t->n + 1, sizeof(*stack)), depth = 0;

	for (size_t k = 0; k <= t->n; k++) {
		while (depth > 0 && (k == t->n ||
		    !is_below(t->v[stack[depth - 1]].name, t->v[k].name))) {
			depth--;
			if (depth > 0)
				node_fold(&t->v[stack[depth - 1]], &t->v[stack[depth]]);
		}
		if (k < t->n)
			stack[depth++] = k;
	}
	free(stack);
}

/* ---- selection ------------------------------------------------------------------ */

static bool
node_meets(const struct list_req *rq, const struct list_node *nd)
{
	if (rq->lsub)
		return nd->subscribed;
	if ((rq->sel & SEL_SPECIAL_USE) && (!nd->exists || nd->special_use == 0))
		return false;
	if (rq->sel & SEL_SUBSCRIBED)
		return nd->subscribed;
	return nd->exists;
}

static void
tree_select(struct list_tree *t, const struct list_req *rq)
{
	for (size_t i = 0; i < t->n; i++) {
		struct list_node *nd = &t->v[i];

		for (size_t k = 0; k < rq->n_patterns && !nd->matched; k++)
			nd->matched = list_match(rq->patterns[k], nd->name);
		nd->meets = node_meets(rq, nd);
	}
	tree_propagate(t);
}

/*
 * RFC 9051 §6.3.9.3: a matching name is listed when it meets the
 * criteria, or when a name below it does and matches no pattern -- with
 * RECURSIVEMATCH (CHILDINFO), in LSUB (\Noselect, RFC 3501 §6.3.9), and
 * in a plain LIST for a level that is not a mailbox (\NonExistent
 * \HasChildren, RFC 5258 §3.5).
 */
static bool
node_listed(const struct list_req *rq, const struct list_node *nd)
{
	bool below = rq->lsub || (rq->sel & SEL_RECURSIVE) ||
	    !(rq->sel & (SEL_SUBSCRIBED | SEL_SPECIAL_USE));

	return nd->matched && (nd->meets || (below && nd->below_unmatched));
}

/* ---- responses ------------------------------------------------------------------ */

static void
attr(struct buf *b, const char *name)
{
	if (b->len > 0 && b->data[b->len - 1] != '(')
		buf_append_char(b, ' ');
	buf_append_str(b, name);
}

void
cmd_list_send(struct session *s, const struct cmd_list_line *l)
{
	static const struct { unsigned bit; const char *attr; } attrs[] = {
		{ CMD_LIST_NONEXISTENT, "\\NonExistent" },
		{ CMD_LIST_NOSELECT, "\\Noselect" },
		{ CMD_LIST_HASCHILDREN, "\\HasChildren" },
		{ CMD_LIST_HASNOCHILDREN, "\\HasNoChildren" },
		{ CMD_LIST_SUBSCRIBED, "\\Subscribed" },
	}, uses[] = {
		{ STORE_USE_ARCHIVE, "\\Archive" }, { STORE_USE_DRAFTS, "\\Drafts" },
		{ STORE_USE_JUNK, "\\Junk" }, { STORE_USE_SENT, "\\Sent" },
		{ STORE_USE_TRASH, "\\Trash" },
	};
	struct buf line = BUF_INIT;
	size_t i;

	buf_append_str(&line, l->lsub ? "LSUB (" : "LIST (");
	for (i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++)
		if (l->attrs & attrs[i].bit)
			attr(&line, attrs[i].attr);
	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++)
		if (l->special_use & uses[i].bit)
			attr(&line, uses[i].attr);
	buf_append_str(&line, ") \"/\" ");
	if (cmd_mailbox_format(s, l->name, &line) != 0 || (l->oldname != NULL &&
	    (buf_append_str(&line, " (\"OLDNAME\" (") != 0 ||
	    cmd_mailbox_format(s, l->oldname, &line) != 0 ||
	    buf_append_str(&line, "))") != 0))) {
		log_warnx("LIST: cannot encode a mailbox name");
		buf_free(&line);
		return;
	}
	/* RFC 5258 §3.5; CHILDINFO names base selection options only. */
	if (l->childinfo)
		buf_append_str(&line, " (\"CHILDINFO\" (\"SUBSCRIBED\"))");
	session_untagged_buf(s, &line);
	buf_free(&line);
}

/* The attributes of a listed name (CMD_LIST_*). */
static unsigned
node_attrs(const struct list_req *rq, const struct list_node *nd, bool noselect)
{
	unsigned a = 0;

	if (rq->lsub)
		/* RFC 3501: \Noselect here says "not subscribed, but below is". */
		return nd->meets ? 0 : CMD_LIST_NOSELECT;
	if (!nd->exists)
		a |= rq->nonexistent ? CMD_LIST_NONEXISTENT : CMD_LIST_NOSELECT;
	else if (nd->noselect || noselect)
		a |= CMD_LIST_NOSELECT;
	if (nd->below_exists)
		a |= CMD_LIST_HASCHILDREN;
	else if (nd->exists)
		a |= CMD_LIST_HASNOCHILDREN;
	if ((rq->ret & RET_SUBSCRIBED) && nd->subscribed)
		a |= CMD_LIST_SUBSCRIBED;
	return a;
}

/* RFC 5819: the status of a listed, selectable name that meets the
 * criteria; 1 when there is one, 0 when none is due, -1 when it became
 * \Noselect meanwhile (the LIST line must say so). */
static int
node_status(struct session *s, const struct list_req *rq, const struct list_node *nd,
    struct store_status *st)
{
	enum store_result r;

	if (!(rq->ret & RET_STATUS) || !nd->meets || !nd->exists || nd->noselect)
		return 0;
	r = store_mailbox_status(s->store, nd->name, st);
	if (r == STORE_OK)
		return 1;
	if (r == STORE_NOT_FOUND)
		return -1;
	/* §6.3.9.2: on unexpected problems the STATUS may be dropped. */
	log_warnx("LIST: STATUS of a mailbox: %s", store_error(s->store));
	return 0;
}

static void
node_send(struct session *s, const struct list_req *rq, const struct list_node *nd)
{
	struct store_status st;
	int status = node_status(s, rq, nd, &st);
	const struct cmd_list_line l = {
		.name = nd->name,
		.lsub = rq->lsub,
		.attrs = node_attrs(rq, nd, status < 0),
		/* RFC 6154 §2: special uses may always be returned; we do */
		.special_use = !rq->lsub && nd->exists ? nd->special_use : 0,
		.childinfo = (rq->sel & SEL_RECURSIVE) && nd->below_meets,
	};

	cmd_list_send(s, &l);
	if (status > 0)
		cmd_status_send(s, nd->name, rq->status_items, &st, rq->appendlimit);
}

/* false on a store error (logged). */
static bool
list_run(struct session *s, struct list_req *rq)
{
	struct list_tree t = { NULL, 0, 0 };
	bool ok = store_mailbox_list(s->store, tree_mailbox, &t) == STORE_OK &&
	    store_subscriptions(s->store, tree_subscription, &t) == STORE_OK;

	if (ok) {
		/* the quota's room is every mailbox's: read it once */
		if ((rq->ret & RET_STATUS) && (rq->status_items & CMD_STATUS_APPENDLIMIT))
			rq->appendlimit = cmd_status_appendlimit(s);
		tree_complete(&t);
		tree_select(&t, rq);
		for (size_t i = 0; i < t.n; i++)
			if (node_listed(rq, &t.v[i]))
				node_send(s, rq, &t.v[i]);
	} else {
		log_warnx("%s: store: %s", rq->lsub ? "LSUB" : "LIST", store_error(s->store));
	}
	tree_free(&t);
	return ok;
}

/* ---- arguments ------------------------------------------------------------------ */

static int
parse_select(const struct imap_arg *opts, struct list_req *rq, const char **why)
{
	for (size_t i = 0; i < opts->list_count; i++) {
		const struct imap_arg *o = &opts->list[i];

		if (o->type != IMAP_ARG_ATOM) {
			*why = "LIST selection options are atoms";
			return -1;
		}
		if (strcasecmp(o->str, "SUBSCRIBED") == 0)
			rq->sel |= SEL_SUBSCRIBED;
		else if (strcasecmp(o->str, "REMOTE") == 0)
			rq->sel |= SEL_REMOTE;
		else if (strcasecmp(o->str, "RECURSIVEMATCH") == 0)
			rq->sel |= SEL_RECURSIVE;
		else if (strcasecmp(o->str, "SPECIAL-USE") == 0)
			rq->sel |= SEL_SPECIAL_USE;
		else {
			/* RFC 5258 §3: unknown options get BAD. */
			*why = "Unknown LIST selection option";
			return -1;
		}
	}
	if ((rq->sel & SEL_RECURSIVE) && !(rq->sel & SEL_SUBSCRIBED)) {
		*why = "RECURSIVEMATCH needs another selection option such as SUBSCRIBED";
		return -1;
	}
	return 0;
}

static int
parse_return(const struct imap_arg *opts, struct list_req *rq, const char **why)
{
	for (size_t i = 0; i < opts->list_count; i++) {
		const struct imap_arg *o = &opts->list[i];

		if (o->type != IMAP_ARG_ATOM) {
			*why = "LIST return options are atoms";
			return -1;
		}
		if (strcasecmp(o->str, "SUBSCRIBED") == 0)
			rq->ret |= RET_SUBSCRIBED;
		else if (strcasecmp(o->str, "CHILDREN") == 0)
			rq->ret |= RET_CHILDREN;
		else if (strcasecmp(o->str, "SPECIAL-USE") == 0)
			rq->ret |= RET_SPECIAL_USE;
		else if (strcasecmp(o->str, "STATUS") == 0) {
			if (i + 1 == opts->list_count) {
				*why = "The STATUS return option takes a list of status items";
				return -1;
			}
			if (cmd_status_items(&opts->list[++i], &rq->status_items, why) != 0)
				return -1;
			rq->ret |= RET_STATUS;
		} else {
			*why = "Unknown LIST return option";
			return -1;
		}
	}
	return 0;
}

/*
 * reference + pattern (§6.3.9: no break-out characters, so the canonical
 * pattern is the concatenation).  A name or pattern the store could never
 * hold is not an error: it matches nothing.  0, or -1 with *why for BAD.
 */
static int
add_pattern(const struct session *s, struct list_req *rq, const struct buf *ref,
    const struct imap_arg *a, const char **why)
{
	struct buf pat = BUF_INIT;
	int rc;

	buf_append(&pat, ref->data != NULL ? ref->data : "", ref->len);
	rc = cmd_mailbox_decode(s, a, true, &pat, why);
	/* In the extended syntax, empty patterns are ignored (§6.3.9). */
	if (rc == CMD_NAME_OK && (a->type == IMAP_ARG_NIL || a->len > 0)) {
		/* INBOX is case-insensitive (§5.1), as the store has it. */
		if (strncasecmp(pat.data, "INBOX", 5) == 0 &&
		    (pat.data[5] == '\0' || pat.data[5] == '/'))
			memcpy(pat.data, "INBOX", 5);
		rq->patterns = xreallocarray(rq->patterns, rq->n_patterns + 1,
		    sizeof(*rq->patterns));
		rq->patterns[rq->n_patterns++] = buf_steal(&pat, NULL);
	}
	buf_free(&pat);
	return rc == CMD_NAME_BAD ? -1 : 0;
}

static int
parse_patterns(const struct session *s, const struct imap_arg *ref_arg,
    const struct imap_arg *pats, struct list_req *rq, const char **why)
{
	struct buf ref = BUF_INIT;
	int rc = cmd_mailbox_decode(s, ref_arg, false, &ref, why);

	if (rc == CMD_NAME_BAD) {
		buf_free(&ref);
		return -1;
	}
	if (pats->type == IMAP_ARG_LIST && pats->list_count == 0) {
		*why = "Expected one or more mailbox patterns";
		rc = CMD_NAME_BAD;
	}
	for (size_t i = 0; rc == CMD_NAME_OK && pats->type == IMAP_ARG_LIST &&
	    i < pats->list_count; i++)
		if (add_pattern(s, rq, &ref, &pats->list[i], why) != 0)
			rc = CMD_NAME_BAD;
	if (rc == CMD_NAME_OK && pats->type != IMAP_ARG_LIST &&
	    add_pattern(s, rq, &ref, pats, why) != 0)
		rc = CMD_NAME_BAD;
	buf_free(&ref);
	return rc == CMD_NAME_BAD ? -1 : 0;
}

/* LIST [select-opts] reference mbox-or-pat [RETURN (return-opts)] */
static int
parse_list(const struct session *s, const struct imap_command *c,
    struct list_req *rq, const char **why)
{
	size_t i = 0;

	*why = "LIST takes [selection options] a reference, mailbox patterns "
	    "and [RETURN (options)]";
	if (c->nargs > 0 && c->args[0].type == IMAP_ARG_LIST) {
		if (parse_select(&c->args[0], rq, why) != 0)
			return -1;
		i = 1;
		rq->extended = true;
	}
	if (c->nargs != i + 2 && c->nargs != i + 4)
		return -1;
	if (c->nargs == i + 4) {
		const struct imap_arg *ret = &c->args[i + 2];

		if (ret->type != IMAP_ARG_ATOM || strcasecmp(ret->str, "RETURN") != 0 ||
		    c->args[i + 3].type != IMAP_ARG_LIST)
			return -1;
		if (parse_return(&c->args[i + 3], rq, why) != 0)
			return -1;
		rq->extended = true;
	}
	if (c->args[i + 1].type == IMAP_ARG_LIST)
		rq->extended = true;
	/* The selection options imply their return options (RFC 5258, 6154). */
	if (rq->sel & SEL_SUBSCRIBED)
		rq->ret |= RET_SUBSCRIBED;
	if (rq->sel & SEL_SPECIAL_USE)
		rq->ret |= RET_SPECIAL_USE;
	return parse_patterns(s, &c->args[i], &c->args[i + 1], rq, why);
}

/* In the basic syntax, an empty pattern asks for the delimiter (§6.3.9). */
static bool
delimiter_request(const struct imap_command *c, const struct list_req *rq)
{
	const struct imap_arg *pat = &c->args[c->nargs - 1];

	return !rq->extended && pat->type != IMAP_ARG_LIST && pat->type != IMAP_ARG_NIL &&
	    pat->len == 0;
}

static void
list_free(struct list_req *rq)
{
	for (size_t i = 0; i < rq->n_patterns; i++)
		free(rq->patterns[i]);
	free(rq->patterns);
}

static void
list_command(struct session *s, const struct imap_command *c, bool lsub)
{
	struct list_req rq;
	const char *what = lsub ? "LSUB" : "LIST", *why = NULL;

	memset(&rq, 0, sizeof(rq));
	rq.lsub = lsub;
	if (lsub && (c->nargs != 2 || c->args[1].type == IMAP_ARG_LIST)) {
		session_tagged(s, c->tag, "BAD", "LSUB takes a reference and a mailbox "
		    "pattern");
		return;
	}
	if ((lsub ? parse_patterns(s, &c->args[0], &c->args[1], &rq, &why) :
	    parse_list(s, c, &rq, &why)) != 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		list_free(&rq);
		return;
	}
	rq.nonexistent = rq.extended || (s->enabled & SESSION_ENABLED_IMAP4REV2);
	if (delimiter_request(c, &rq))
		session_untagged(s, "%s (\\Noselect) \"/\" \"\"", what);
	else if (!list_run(s, &rq)) {
		session_tagged(s, c->tag, "NO", "[SERVERBUG] %s failed: internal error in "
		    "the mail store", what);
		list_free(&rq);
		return;
	}
	list_free(&rq);
	cmd_mailbox_done(s, c->tag, what);
}

void
cmd_list(struct session *s, const struct imap_command *c)
{
	list_command(s, c, false);
}

void
cmd_lsub(struct session *s, const struct imap_command *c)
{
	list_command(s, c, true);
}
