/*
 * THREAD=ORDEREDSUBJECT and THREAD=REFERENCES (RFC 5256 §3).
 *
 * REFERENCES builds a tree of nodes ("containers"): one per message and
 * one "dummy" per msg-id that is referenced but names no message.  Nodes
 * live in one array and point at each other by index; a virtual root node
 * holds the top level.  Every walk over the tree is iterative, so a reply
 * chain as long as the mailbox needs no deep C stack.  Memory is one node
 * per message and per distinct referenced msg-id, and a hash table over
 * those ids.
 *
 * Sibling order is by sent date, then by mailbox order (a dummy counts by
 * its earliest child): the order is total, so the answer is the same
 * whatever qsort does with equal keys.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "basesubject.h"
#include "thread.h"
#include "xmalloc.h"

#define NONE UINT32_MAX

struct node {
	uint32_t msg;        /* index into msgs; NONE: a dummy */
	uint32_t parent, child, next;
	const char *id;      /* its msg-id in the table, or NULL */
};

struct tree {
	const struct thread_msg *msgs;
	struct node *nodes;
	uint32_t n, cap;
	uint32_t root;       /* the virtual root */
	uint32_t *slots;     /* msg-id table: node indexes, NONE when empty */
	size_t nslots;       /* a power of two */
};

/* One sibling, for sorting. */
struct skey {
	int64_t date;
	uint32_t seq;        /* mailbox order */
	uint32_t node;
};

static int
skey_cmp(const void *pa, const void *pb)
{
	const struct skey *a = pa, *b = pb;

	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

static bool
empty(const char *s)
{
	return s == NULL || *s == '\0';
}

/* ---- the tree -------------------------------------------------------------- */

static uint32_t
node_new(struct tree *t, uint32_t msg, const char *id)
{
	struct node *nd;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->nodes = xreallocarray(t->nodes, t->cap, sizeof(*t->nodes));
	}
	nd = &t->nodes[t->n];
	nd->msg = msg;
	nd->parent = nd->child = nd->next = NONE;
	nd->id = id;
	return t->n++;
}

static bool
dummy(const struct tree *t, uint32_t x)
{
	return t->nodes[x].msg == NONE;
}

/* FNV-1a */
static size_t
hash(const char *s, bool fold)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (fold && c >= 'a' && c <= 'z')
			c -= 'a' - 'A';
		h = (h ^ c) * 1099511628211ull;
	}
	return (size_t)h;
}

static size_t
table_size(size_t entries)
{
	size_t n = 16;

	while (n < entries * 2)
		n *= 2;
	return n;
}

/* The slot of id: where it is, or the empty slot where it would go. */
static size_t
id_slot(const struct tree *t, const char *id)
{
	size_t i = hash(id, false) & (t->nslots - 1);

	while (t->slots[i] != NONE && strcmp(t->nodes[t->slots[i]].id, id) != 0)
		i = (i + 1) & (t->nslots - 1);
	return i;
}

/* The node of a referenced msg-id; a dummy when no message has it yet. */
static uint32_t
id_node(struct tree *t, const char *id)
{
	size_t i = id_slot(t, id);

	if (t->slots[i] == NONE)
		t->slots[i] = node_new(t, NONE, id);
	return t->slots[i];
}

/* Would making p the parent of c close a loop: is c p itself or one of
 * p's ancestors?  A childless c has no descendants to look for. */
static bool
loops(const struct tree *t, uint32_t p, uint32_t c)
{
	if (t->nodes[c].child == NONE)
		return p == c;
	for (uint32_t x = p; x != NONE; x = t->nodes[x].parent)
		if (x == c)
			return true;
	return false;
}

static void
unlink_node(struct tree *t, uint32_t c)
{
	uint32_t p = t->nodes[c].parent, *pp = &t->nodes[p].child;

	while (*pp != c)
		pp = &t->nodes[*pp].next;
	*pp = t->nodes[c].next;
	t->nodes[c].parent = t->nodes[c].next = NONE;
}

/* c becomes the first child of p */
static void
link_first(struct tree *t, uint32_t p, uint32_t c)
{
	t->nodes[c].parent = p;
	t->nodes[c].next = t->nodes[p].child;
	t->nodes[p].child = c;
}

/* ---- step 1: links from the references --------------------------------------- */

/* The node of message i: the one its Message-ID names, unless an earlier
 * message took that id (or it has none): then one of its own. */
static uint32_t
message_node(struct tree *t, uint32_t i)
{
	const char *id = t->msgs[i].msgid;
	size_t s;

	if (empty(id))
		return node_new(t, i, NULL);
	s = id_slot(t, id);
	if (t->slots[s] == NONE) {
		t->slots[s] = node_new(t, i, id);
		return t->slots[s];
	}
	if (dummy(t, t->slots[s])) {
		t->nodes[t->slots[s]].msg = i;
		return t->slots[s];
	}
	return node_new(t, i, NULL);     /* a duplicate Message-ID */
}

static void
link_references(struct tree *t, uint32_t i)
{
	const struct thread_msg *m = &t->msgs[i];
	uint32_t self = message_node(t, i), prev = NONE, parent = NONE;

	/* (A) each reference the parent of the next, unless the next has a
	 * parent already (References may have been cut short) or it loops */
	for (size_t r = 0; r < m->n_refs; r++) {
		uint32_t cur;

		if (empty(m->refs[r]))
			continue;
		cur = id_node(t, m->refs[r]);
		if (prev != NONE && t->nodes[cur].parent == NONE && !loops(t, prev, cur))
			link_first(t, prev, cur);
		prev = cur;
	}
	/* (B) the last reference is the parent: that replaces any parent
	 * (A) gave the message, and no reference leaves it none */
	parent = prev;
	if (t->nodes[self].parent == parent)
		return;
	if (t->nodes[self].parent != NONE)
		unlink_node(t, self);
	if (parent != NONE && !loops(t, parent, self))
		link_first(t, parent, self);
}

/* ---- step 3: pruning dummies ------------------------------------------------- */

/*
 * The children of p, checked one by one: a childless dummy goes; a dummy
 * with children gives way to them (they are checked in turn), unless that
 * would put more than one at the top level.
 */
static void
prune_children(struct tree *t, uint32_t p)
{
	uint32_t *pp = &t->nodes[p].child;

	while (*pp != NONE) {
		uint32_t c = *pp, first = t->nodes[c].child, last;

		if (!dummy(t, c) || (p == t->root && first != NONE &&
		    t->nodes[first].next != NONE)) {
			pp = &t->nodes[c].next;
			continue;
		}
		if (first == NONE) {
			*pp = t->nodes[c].next;
			continue;
		}
		for (last = first;; last = t->nodes[last].next) {
			t->nodes[last].parent = p;
			if (t->nodes[last].next == NONE)
				break;
		}
		t->nodes[last].next = t->nodes[c].next;
		*pp = first;
		t->nodes[c].child = t->nodes[c].next = NONE;
	}
}

/*
 * Children before their parents, so that a dummy whose children were all
 * childless dummies goes too, and one left with a single child gives way
 * to it, which checking parents first would miss (RFC 5256 §3 step 3).
 * The order is taken before anything changes: a node only ever moves up
 * into the list of a parent not handled yet.
 */
static void
prune(struct tree *t)
{
	uint32_t *order = xreallocarray(NULL, t->n, sizeof(*order));
	uint32_t *stack = xreallocarray(NULL, t->n, sizeof(*stack));
	size_t n = 0, sp = 0;

	stack[sp++] = t->root;
	while (sp > 0) {
		uint32_t p = stack[--sp];

		order[n++] = p;
		for (uint32_t c = t->nodes[p].child; c != NONE; c = t->nodes[c].next)
			if (t->nodes[c].child != NONE)
				stack[sp++] = c;
	}
	while (n-- > 0)
		prune_children(t, order[n]);
	free(stack);
	free(order);
}

/* ---- sorting siblings -------------------------------------------------------- */

/* A message by its date and place; a dummy by its earliest child. */
static struct skey
node_key(const struct tree *t, uint32_t x)
{
	struct skey k = { INT64_MAX, NONE, x }, ck;

	if (!dummy(t, x)) {
		k.date = t->msgs[t->nodes[x].msg].date;
		k.seq = t->nodes[x].msg;
		return k;
	}
	for (uint32_t c = t->nodes[x].child; c != NONE; c = t->nodes[c].next) {
		ck = node_key(t, c);    /* dummies nest at most at the top */
		if (skey_cmp(&ck, &k) < 0) {
			k.date = ck.date;
			k.seq = ck.seq;
		}
	}
	return k;
}

/* The children of p in date order; keys is scratch space. */
static void
sort_children(struct tree *t, uint32_t p, struct skey **keys, size_t *cap)
{
	size_t n = 0;

	for (uint32_t c = t->nodes[p].child; c != NONE; c = t->nodes[c].next) {
		if (n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*keys = xreallocarray(*keys, *cap, sizeof(**keys));
		}
		(*keys)[n++] = node_key(t, c);
	}
	if (n < 2)
		return;
	qsort(*keys, n, sizeof(**keys), skey_cmp);
	t->nodes[p].child = (*keys)[0].node;
	for (size_t i = 0; i < n; i++)
		t->nodes[(*keys)[i].node].next = i + 1 < n ? (*keys)[i + 1].node : NONE;
}

/* ---- step 5: threads of one subject -------------------------------------------- */

/* The thread subject: a message's, or a dummy's first child's. */
static const char *
thread_subject(const struct tree *t, uint32_t x)
{
	while (x != NONE && dummy(t, x))
		x = t->nodes[x].child;
	return x != NONE ? t->msgs[t->nodes[x].msg].subject : NULL;
}

static bool
reply(const struct tree *t, uint32_t x)
{
	return !dummy(t, x) && t->msgs[t->nodes[x].msg].reply;
}

struct subjects {
	uint32_t *slots;     /* positions in the top-level array, NONE empty */
	size_t n;
};

/* The slot of subject s (i;ascii-casemap equality) among top[]. */
static size_t
subject_slot(const struct tree *t, const struct subjects *st,
    const uint32_t *top, const char *s)
{
	size_t i = hash(s, true) & (st->n - 1);

	for (;;) {
		const char *ts;

		if (st->slots[i] == NONE)
			return i;
		ts = thread_subject(t, top[st->slots[i]]);
		if (basesubject_cmp(ts != NULL ? ts : "", s) == 0)
			return i;
		i = (i + 1) & (st->n - 1);
	}
}

/* (B): per subject, the thread the others join: a dummy if there is one,
 * else one that is no reply if there is one, else the first. */
static void
subjects_fill(const struct tree *t, struct subjects *st, const uint32_t *top,
    size_t ntop)
{
	for (size_t i = 0; i < ntop; i++) {
		const char *s = thread_subject(t, top[i]);
		size_t slot;
		uint32_t cur;

		if (empty(s))
			continue;
		slot = subject_slot(t, st, top, s);
		if ((cur = st->slots[slot]) == NONE) {
			st->slots[slot] = (uint32_t)i;
			continue;
		}
		if (!dummy(t, top[cur]) && (dummy(t, top[i]) ||
		    (reply(t, top[cur]) && !reply(t, top[i]))))
			st->slots[slot] = (uint32_t)i;
	}
}

/*
 * (C): merge top[i] into top[*at], the thread of its subject.  Children
 * are put first, in O(1) however many threads share a subject (step 6
 * sorts them): a dummy's thread subject, that of its first child, stays
 * the same, as what comes first has that subject too.
 */
static void
merge(struct tree *t, uint32_t *top, size_t i, uint32_t *at)
{
	uint32_t c = top[i], m = top[*at], d, last;

	if (dummy(t, m) && dummy(t, c)) {
		/* c's children, in their order, before m's */
		if ((last = t->nodes[c].child) == NONE) {
			top[i] = NONE;
			return;
		}
		for (;; last = t->nodes[last].next) {
			t->nodes[last].parent = m;
			if (t->nodes[last].next == NONE)
				break;
		}
		t->nodes[last].next = t->nodes[m].child;
		t->nodes[m].child = t->nodes[c].child;
		t->nodes[c].child = NONE;
	} else if (dummy(t, m) || (reply(t, c) && !reply(t, m))) {
		link_first(t, m, c);
	} else {
		d = node_new(t, NONE, NULL);
		link_first(t, d, c);
		link_first(t, d, m);
		top[*at] = d;
	}
	top[i] = NONE;
}

static void
group_subjects(struct tree *t, uint32_t *top, size_t ntop)
{
	struct subjects st;

	st.n = table_size(ntop);
	st.slots = xreallocarray(NULL, st.n, sizeof(*st.slots));
	memset(st.slots, 0xff, st.n * sizeof(*st.slots));
	subjects_fill(t, &st, top, ntop);
	for (size_t i = 0; i < ntop; i++) {
		const char *s;
		size_t slot;

		if (top[i] == NONE || empty(s = thread_subject(t, top[i])))
			continue;
		slot = subject_slot(t, &st, top, s);
		if (st.slots[slot] == i || st.slots[slot] == NONE)
			continue;     /* (NONE: cannot be, (B) put every subject) */
		merge(t, top, i, &st.slots[slot]);
	}
	free(st.slots);
}

/* ---- the answer -------------------------------------------------------------- */

static void
put_num(const struct tree *t, uint32_t x, struct buf *out)
{
	buf_append_uint(out, t->msgs[t->nodes[x].msg].num);
}

/*
 * One thread-list (RFC 5256 §4): a message, the line of only children
 * below it as "a b c", and where a node has several children, each as a
 * thread-list of its own: "(a b (c)(d))"; a dummy has no number:
 * "((c)(d))".  stack holds, per open list, the sibling that follows it.
 */
static void
put_thread(const struct tree *t, uint32_t x, uint32_t *stack, struct buf *out)
{
	size_t sp = 0;

	buf_append_char(out, '(');
	for (;;) {
		uint32_t branch = NONE;

		if (dummy(t, x) && t->nodes[x].child != NONE &&
		    t->nodes[t->nodes[x].child].next == NONE) {
			x = t->nodes[x].child;     /* a dummy with one child */
			continue;
		}
		if (dummy(t, x)) {
			branch = t->nodes[x].child;
		} else {
			put_num(t, x, out);
			while (t->nodes[x].child != NONE &&
			    t->nodes[t->nodes[x].child].next == NONE &&
			    !dummy(t, t->nodes[x].child)) {
				x = t->nodes[x].child;
				buf_append_char(out, ' ');
				put_num(t, x, out);
			}
			if ((branch = t->nodes[x].child) != NONE)
				buf_append_char(out, ' ');
		}
		if (branch != NONE) {
			buf_append_char(out, '(');
			stack[sp++] = t->nodes[branch].next;
			x = branch;
			continue;
		}
		/* a leaf: close its list, and each enclosing one that has no
		 * sibling left to open */
		buf_append_char(out, ')');
		for (;;) {
			if (sp == 0)
				return;
			if ((x = stack[--sp]) != NONE)
				break;
			buf_append_char(out, ')');
		}
		buf_append_char(out, '(');
		stack[sp++] = t->nodes[x].next;
	}
}

int
thread_references(const struct thread_msg *msgs, size_t n, struct buf *out)
{
	struct tree t = { msgs, NULL, 0, 0, NONE, NULL, 0 };
	struct skey *keys = NULL;
	uint32_t *top, *stack;
	size_t ids = n, cap = 0, ntop = 0, sorted = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		ids += msgs[i].n_refs;
	t.nslots = table_size(ids);
	t.slots = xreallocarray(NULL, t.nslots, sizeof(*t.slots));
	memset(t.slots, 0xff, t.nslots * sizeof(*t.slots));
	/* (1) */
	for (uint32_t i = 0; i < n; i++)
		link_references(&t, i);
	/* (2) the nodes without a parent go under the root */
	t.root = node_new(&t, NONE, NULL);
	for (uint32_t x = t.root; x-- > 0;)
		if (t.nodes[x].parent == NONE)
			link_first(&t, t.root, x);
	/* (3) */
	prune(&t);
	/* (4) the top level by date, a dummy by its first child once its
	 * children are in date order; then out of the tree, as an array */
	for (uint32_t c = t.nodes[t.root].child; c != NONE; c = t.nodes[c].next)
		if (dummy(&t, c))
			sort_children(&t, c, &keys, &cap);
	sort_children(&t, t.root, &keys, &cap);
	top = xreallocarray(NULL, t.n, sizeof(*top));
	for (uint32_t c = t.nodes[t.root].child, nx; c != NONE; c = nx) {
		nx = t.nodes[c].next;
		t.nodes[c].parent = t.nodes[c].next = NONE;
		top[ntop++] = c;
	}
	t.nodes[t.root].child = NONE;
	/* (5) */
	group_subjects(&t, top, ntop);
	/* (6) every set of siblings by date, the top level last */
	for (size_t i = 0; i < ntop; i++)
		if (top[i] != NONE)
			top[sorted++] = top[i];
	for (uint32_t x = 0; x < t.n; x++)
		if (x != t.root && t.nodes[x].child != NONE)
			sort_children(&t, x, &keys, &cap);
	for (size_t i = sorted; i-- > 0;)
		link_first(&t, t.root, top[i]);
	sort_children(&t, t.root, &keys, &cap);
	stack = xreallocarray(NULL, t.n, sizeof(*stack));
	for (uint32_t c = t.nodes[t.root].child; c != NONE; c = t.nodes[c].next)
		put_thread(&t, c, stack, out);
	free(stack);
	free(top);
	free(keys);
	free(t.slots);
	free(t.nodes);
	return out->overflow ? -1 : 0;
}

/* ---- ORDEREDSUBJECT ------------------------------------------------------------ */

struct osubj {
	const char *subject;
	int64_t date;
	uint32_t seq;
};

static int
osubj_cmp(const void *pa, const void *pb)
{
	const struct osubj *a = pa, *b = pb;
	int r = basesubject_cmp(a->subject, b->subject);

	if (r != 0)
		return r;
	if (a->date != b->date)
		return a->date < b->date ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/*
 * Sorted by base subject, then sent date; each run of one subject is a
 * thread: the first message, the second its child and the others the
 * second's siblings.  The threads in the order of their first messages'
 * sent dates.
 */
int
thread_orderedsubject(const struct thread_msg *msgs, size_t n, struct buf *out)
{
	struct osubj *m;
	struct skey *threads;
	size_t *len, nt = 0;

	if (n == 0)
		return 0;
	m = xreallocarray(NULL, n, sizeof(*m));
	for (size_t i = 0; i < n; i++) {
		m[i].subject = msgs[i].subject != NULL ? msgs[i].subject : "";
		m[i].date = msgs[i].date;
		m[i].seq = (uint32_t)i;
	}
	qsort(m, n, sizeof(*m), osubj_cmp);
	threads = xreallocarray(NULL, n, sizeof(*threads));
	len = xreallocarray(NULL, n, sizeof(*len));
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && basesubject_cmp(m[i].subject, m[i - 1].subject) == 0) {
			len[threads[nt - 1].node]++;
			continue;
		}
		threads[nt].date = m[i].date;
		threads[nt].seq = m[i].seq;
		threads[nt].node = (uint32_t)i;     /* where it starts in m */
		len[i] = 1;
		nt++;
	}
	qsort(threads, nt, sizeof(*threads), skey_cmp);
	for (size_t i = 0; i < nt; i++) {
		size_t at = threads[i].node, k = len[at];

		buf_append_char(out, '(');
		buf_append_uint(out, msgs[m[at].seq].num);
		if (k == 2) {
			buf_append_char(out, ' ');
			buf_append_uint(out, msgs[m[at + 1].seq].num);
		} else if (k > 2) {
			buf_append_char(out, ' ');
			for (size_t j = 1; j < k; j++) {
				buf_append_char(out, '(');
				buf_append_uint(out, msgs[m[at + j].seq].num);
				buf_append_char(out, ')');
			}
		}
		buf_append_char(out, ')');
	}
	free(len);
	free(threads);
	free(m);
	return out->overflow ? -1 : 0;
}
