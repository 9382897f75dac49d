/*
 * Unit tests for imapd/notify.c: the arguments of NOTIFY (RFC 5465 §3.1,
 * §5, §6, §8: every filter and event, BADEVENT, the rules on events that
 * go together, malformed groups), which groups watch a name, and what
 * two looks at the mailboxes differ by (§5.1-§5.5) as STATUS and LIST
 * responses.  Arguments come from the real command parser.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "notify.h"
#include "parser.h"

/* ---- parsing ---------------------------------------------------------------- */

/* Names as sent (UTF-8); NIL and lists are malformed; "~..." names no
 * mailbox a store can hold (ignored). */
static int
test_name(void *arg, const struct imap_arg *a, struct buf *out, const char **why)
{
	(void)arg;
	if (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED &&
	    a->type != IMAP_ARG_LITERAL) {
		*why = "Expected a mailbox name";
		return -1;
	}
	if (a->str[0] == '~')
		return 1;
	return buf_append(out, a->str, a->len) == 0 ? 0 : -1;
}

/* "a NOTIFY <args>" through the parser, then notify_parse. */
static enum notify_parse_result
parse(const char *args, struct notify_spec *sp, char *why, size_t whylen)
{
	static char line[65536];
	const struct imap_command *c;
	struct imap_parser *p = imap_parser_new(NULL);
	size_t used = 0;
	int n = snprintf(line, sizeof(line), "a NOTIFY%s%s\r\n",
	    args[0] != '\0' ? " " : "", args);
	enum notify_parse_result r;

	ck_assert(n > 0 && (size_t)n < sizeof(line));
	ck_assert_ptr_nonnull(p);
	ck_assert_int_eq(imap_parser_feed(p, line, (size_t)n, &used),
	    IMAP_PARSE_COMMAND);
	c = imap_parser_command(p);
	why[0] = '\0';
	r = notify_parse(c->args, c->nargs, test_name, NULL, sp, why, whylen);
	imap_parser_free(p);
	return r;
}

START_TEST(test_parse_none)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	ck_assert_int_eq(parse("NONE", &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(sp.none);
	ck_assert_uint_eq(sp.n_groups, 0);
	ck_assert(!sp.selected);
	notify_spec_free(&sp);
	ck_assert_int_eq(parse("none", &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(sp.none);
	notify_spec_free(&sp);
}
END_TEST

START_TEST(test_parse_every_filter)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	ck_assert_int_eq(parse("SET STATUS (SELECTED (MessageNew (UID FLAGS "
	    "BODY.PEEK[HEADER.FIELDS (FROM SUBJECT)]) MessageExpunge FlagChange)) "
	    "(PERSONAL (MailboxName SubscriptionChange)) "
	    "(INBOXES (MessageNew MessageExpunge)) "
	    "(SUBSCRIBED (SubscriptionChange)) "
	    "(SUBTREE Lists (MessageNew MessageExpunge FlagChange)) "
	    "(MAILBOXES (INBOX \"a b\" {3+}\r\nc/d) (MessageNew MessageExpunge)) "
	    "(PERSONAL NONE)", &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(!sp.none);
	ck_assert(sp.status);
	ck_assert(sp.selected);
	ck_assert(!sp.delayed);
	ck_assert_uint_eq(sp.selected_events, NOTIFY_MESSAGE_NEW |
	    NOTIFY_MESSAGE_EXPUNGE | NOTIFY_FLAG_CHANGE);
	ck_assert(sp.fetch_set);
	/* UID, FLAGS and the section, UID first */
	ck_assert_uint_eq(sp.fetch.n, 3);
	ck_assert_int_eq(sp.fetch.atts[0].kind, FETCH_UID);
	ck_assert_int_eq(sp.fetch.atts[1].kind, FETCH_FLAGS);
	ck_assert_int_eq(sp.fetch.atts[2].kind, FETCH_SECTION);
	ck_assert(sp.fetch.atts[2].peek);
	ck_assert_uint_eq(sp.n_groups, 6);
	ck_assert_int_eq(sp.groups[0].filter, NOTIFY_PERSONAL);
	ck_assert_uint_eq(sp.groups[0].events, NOTIFY_MAILBOX_NAME |
	    NOTIFY_SUBSCRIPTION_CHANGE);
	ck_assert_int_eq(sp.groups[1].filter, NOTIFY_INBOXES);
	ck_assert_uint_eq(sp.groups[1].events, NOTIFY_MESSAGE_NEW |
	    NOTIFY_MESSAGE_EXPUNGE);
	ck_assert_int_eq(sp.groups[2].filter, NOTIFY_SUBSCRIBED);
	ck_assert_uint_eq(sp.groups[2].events, NOTIFY_SUBSCRIPTION_CHANGE);
	ck_assert_int_eq(sp.groups[3].filter, NOTIFY_SUBTREE);
	ck_assert_uint_eq(sp.groups[3].n_names, 1);
	ck_assert_str_eq(sp.groups[3].names[0], "Lists");
	ck_assert_uint_eq(sp.groups[3].events, NOTIFY_MESSAGE_EVENTS);
	ck_assert_int_eq(sp.groups[4].filter, NOTIFY_MAILBOXES);
	ck_assert_uint_eq(sp.groups[4].n_names, 3);
	ck_assert_str_eq(sp.groups[4].names[0], "INBOX");
	ck_assert_str_eq(sp.groups[4].names[1], "a b");
	ck_assert_str_eq(sp.groups[4].names[2], "c/d");
	ck_assert_int_eq(sp.groups[5].filter, NOTIFY_PERSONAL);
	ck_assert_uint_eq(sp.groups[5].events, 0);
	ck_assert(notify_watches_others(&sp));
	notify_spec_free(&sp);
}
END_TEST

START_TEST(test_parse_selected_forms)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	/* any case (§8); SELECTED-DELAYED; no fetch attributes */
	ck_assert_int_eq(parse("set (selected-delayed (messagenew MESSAGEEXPUNGE))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(sp.selected);
	ck_assert(sp.delayed);
	ck_assert(!sp.status);
	ck_assert(!sp.fetch_set);
	ck_assert_uint_eq(sp.selected_events, NOTIFY_MESSAGE_NEW |
	    NOTIFY_MESSAGE_EXPUNGE);
	ck_assert_uint_eq(sp.n_groups, 0);
	ck_assert(!notify_watches_others(&sp));
	notify_spec_free(&sp);
	/* SELECTED NONE: nothing of the selected mailbox */
	ck_assert_int_eq(parse("SET (SELECTED NONE) (SUBTREE (a b) (MailboxName))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(sp.selected);
	ck_assert_uint_eq(sp.selected_events, 0);
	ck_assert_uint_eq(sp.groups[0].n_names, 2);
	notify_spec_free(&sp);
	/* INBOX in any case, also as a first level; an impossible name is
	 * ignored (§3.1) */
	ck_assert_int_eq(parse("SET (MAILBOXES (inbox/Sub ~x Inbox) (MailboxName))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert_uint_eq(sp.groups[0].n_names, 2);
	ck_assert_str_eq(sp.groups[0].names[0], "INBOX/Sub");
	ck_assert_str_eq(sp.groups[0].names[1], "INBOX");
	notify_spec_free(&sp);
	/* MessageNew's list is the fetch-att list, not another event */
	ck_assert_int_eq(parse("SET (SELECTED (MessageExpunge MessageNew (UID)))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert(sp.fetch_set);
	ck_assert_uint_eq(sp.fetch.n, 1);
	notify_spec_free(&sp);
}
END_TEST

/* Events this server does not offer: NO [BADEVENT], after every BAD. */
static const char *const badevents[] = {
	"SET (SELECTED (MessageNew MessageExpunge AnnotationChange))",
	"SET (PERSONAL (MailboxMetadataChange))",
	"SET (PERSONAL (ServerMetadataChange))",
	"SET (PERSONAL (MailboxName SomeFutureEvent))",
	"SET (SELECTED (MessageNew MessageExpunge SomeFutureEvent))",
	"SET (SELECTED (MessageNew MessageExpunge)) (INBOXES (MessageNew "
	    "MessageExpunge FlagChange AnnotationChange))",
};

START_TEST(test_parse_badevent)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	ck_assert_msg(parse(badevents[_i], &sp, why, sizeof(why)) ==
	    NOTIFY_PARSE_BADEVENT, "%s: %s", badevents[_i], why);
	ck_assert_msg(strstr(why, "not supported") != NULL, "%s", why);
	notify_spec_free(&sp);
}
END_TEST

/* Malformed, or against §5 / §6.1: BAD. */
static const char *const bads[] = {
	"",
	"SET",
	"SET STATUS",
	"FOO (PERSONAL (MailboxName))",
	"NONE (PERSONAL (MailboxName))",
	"SET PERSONAL (MailboxName)",
	"SET (PERSONAL)",
	"SET (PERSONAL ())",
	"SET (PERSONAL MailboxName)",
	"SET (PERSONAL (\"MailboxName\"))",
	"SET (PERSONAL ((MailboxName)))",
	"SET (EVERYTHING (MailboxName))",
	"SET (\"PERSONAL\" (MailboxName))",
	"SET (PERSONAL x (MailboxName))",
	"SET (SUBTREE (MailboxName))",
	"SET (SUBTREE () (MailboxName))",
	"SET (MAILBOXES NIL (MailboxName))",
	"SET (MAILBOXES (a (b)) (MailboxName))",
	"SET (SELECTED INBOX (MessageNew MessageExpunge))",
	"SET (SELECTED (MessageNew MessageExpunge)) (SELECTED-DELAYED "
	    "(MessageNew MessageExpunge))",
	"SET (SELECTED (MessageNew MessageExpunge)) (SELECTED NONE)",
	/* §5: MessageNew and MessageExpunge together; FlagChange (and
	 * AnnotationChange) only with both */
	"SET (SELECTED (MessageNew))",
	"SET (SELECTED (MessageExpunge))",
	"SET (PERSONAL (MessageNew MailboxName))",
	"SET (PERSONAL (FlagChange))",
	"SET (PERSONAL (FlagChange MessageNew))",
	"SET (SELECTED (AnnotationChange))",
	/* §6.1: SELECTED takes message events only */
	"SET (SELECTED (MailboxName))",
	"SET (SELECTED-DELAYED (MessageNew MessageExpunge SubscriptionChange))",
	"SET (SELECTED (MessageNew MessageExpunge MailboxMetadataChange))",
	/* fetch attributes: SELECTED only, valid ones, once */
	"SET (PERSONAL (MessageNew (UID) MessageExpunge))",
	"SET (SELECTED (MessageNew (NOSUCHATT) MessageExpunge))",
	"SET (SELECTED (MessageNew () MessageExpunge))",
	"SET (SELECTED (MessageNew (ALL) MessageExpunge))",
	"SET (SELECTED (MessageNew (UID) MessageExpunge MessageNew (FLAGS)))",
	"SET (SELECTED (MessageExpunge (UID) MessageNew))",
};

START_TEST(test_parse_bad)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	ck_assert_msg(parse(bads[_i], &sp, why, sizeof(why)) == NOTIFY_PARSE_BAD,
	    "%s: not BAD", bads[_i]);
	ck_assert_msg(why[0] != '\0', "%s: no reason", bads[_i]);
	notify_spec_free(&sp);
}
END_TEST

START_TEST(test_parse_name_bound)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];
	struct buf b = BUF_INIT;

	buf_append_str(&b, "SET (MAILBOXES (");
	for (int i = 0; i <= NOTIFY_MAX_NAMES; i++)
		buf_printf(&b, "%sm%d", i ? " " : "", i);
	buf_append_str(&b, ") (MailboxName))");
	ck_assert_int_eq(parse(b.data, &sp, why, sizeof(why)), NOTIFY_PARSE_BAD);
	ck_assert_ptr_nonnull(strstr(why, "mailbox names"));
	notify_spec_free(&sp);
	buf_free(&b);
}
END_TEST

START_TEST(test_events_filters)
{
	struct notify_spec sp;
	char why[NOTIFY_WHY_MAX];

	ck_assert_int_eq(parse("SET (SUBTREE Lists (MessageNew MessageExpunge)) "
	    "(MAILBOXES (INBOX x*) (MailboxName)) (SUBSCRIBED (SubscriptionChange))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	ck_assert_uint_eq(notify_events(&sp, "Lists", false),
	    NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	ck_assert_uint_eq(notify_events(&sp, "Lists/a/b", false),
	    NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	ck_assert_uint_eq(notify_events(&sp, "Listsx", false), 0);
	ck_assert_uint_eq(notify_events(&sp, "List", false), 0);
	ck_assert_uint_eq(notify_events(&sp, "INBOX", false), NOTIFY_MAILBOX_NAME);
	/* §6.6: no wildcards, and no subtree */
	ck_assert_uint_eq(notify_events(&sp, "x*", false), NOTIFY_MAILBOX_NAME);
	ck_assert_uint_eq(notify_events(&sp, "xy", false), 0);
	ck_assert_uint_eq(notify_events(&sp, "INBOX/a", false), 0);
	/* SUBSCRIBED: whatever is subscribed, the union of the groups */
	ck_assert_uint_eq(notify_events(&sp, "other", true),
	    NOTIFY_SUBSCRIPTION_CHANGE);
	ck_assert_uint_eq(notify_events(&sp, "Lists/a", true),
	    NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE | NOTIFY_SUBSCRIPTION_CHANGE);
	notify_spec_free(&sp);
	ck_assert_int_eq(parse("SET (PERSONAL (MailboxName)) (INBOXES (MessageNew "
	    "MessageExpunge))", &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	/* INBOXES is PERSONAL here (§6.3) */
	ck_assert_uint_eq(notify_events(&sp, "any/thing", false),
	    NOTIFY_MAILBOX_NAME | NOTIFY_MESSAGE_NEW | NOTIFY_MESSAGE_EXPUNGE);
	notify_spec_free(&sp);
}
END_TEST

/* ---- looks and what they differ by --------------------------------------------- */

struct mb_row {
	int64_t id;
	const char *name;
	uint32_t uidvalidity, uidnext;
	uint64_t modseq;
	uint32_t messages, unseen;
	bool noselect;
	unsigned use;
};

/* A look: rows, then subscriptions (NULL-terminated), counted as the
 * spec's message events want. */
static void
look(struct notify_snap *sn, const struct notify_spec *sp, const struct mb_row *rows,
    size_t n, const char *const *subs)
{
	memset(sn, 0, sizeof(*sn));
	for (size_t i = 0; i < n; i++) {
		struct store_mailbox mb;

		memset(&mb, 0, sizeof(mb));
		mb.id = rows[i].id;
		snprintf(mb.name, sizeof(mb.name), "%s", rows[i].name);
		mb.uidvalidity = rows[i].uidvalidity;
		mb.uidnext = rows[i].uidnext;
		mb.highestmodseq = rows[i].modseq;
		mb.noselect = rows[i].noselect;
		mb.special_use = rows[i].use;
		notify_snap_add(sn, &mb);
	}
	for (size_t i = 0; subs != NULL && subs[i] != NULL; i++)
		notify_snap_add_sub(sn, subs[i]);
	notify_snap_finish(sn);
	for (size_t i = 0; i < sn->n; i++) {
		struct notify_mbox *m = &sn->mb[i];

		if (!notify_wants_counts(sp, m))
			continue;
		for (size_t k = 0; k < n; k++)
			if (rows[k].id == m->id) {
				m->st.messages = rows[k].messages;
				m->st.unseen = rows[k].unseen;
			}
		m->counted = true;
	}
}

/* The notes as text: "LIST (attrs) name [old]" or "STATUS name (items)",
 * joined by '|'. */
static char *
notes_text(const struct notify_notes *out)
{
	static const char *const attrs[] = { "\\NonExistent", "\\Noselect",
	    "\\HasChildren", "\\HasNoChildren", "\\Subscribed" };
	static const char *const items[] = { "MESSAGES", "UIDNEXT", "UIDVALIDITY",
	    "UNSEEN", "HIGHESTMODSEQ" };
	struct buf b = BUF_INIT;

	buf_append_str(&b, "");
	for (size_t i = 0; i < out->n; i++) {
		const struct notify_note *nt = &out->v[i];
		const char *sep = "";

		if (i > 0)
			buf_append_char(&b, '|');
		if (nt->list) {
			buf_append_str(&b, "LIST (");
			for (size_t k = 0; k < 5; k++)
				if (nt->attrs & (1u << k)) {
					buf_printf(&b, "%s%s", sep, attrs[k]);
					sep = " ";
				}
			if (nt->special_use & STORE_USE_SENT)
				buf_printf(&b, "%s\\Sent", sep);
			buf_printf(&b, ") %s", nt->name);
			if (nt->oldname != NULL)
				buf_printf(&b, " OLDNAME %s", nt->oldname);
			continue;
		}
		buf_printf(&b, "STATUS %s (", nt->name);
		for (size_t k = 0; k < 5; k++)
			if (nt->items & (1u << k)) {
				uint64_t v = k == 0 ? nt->st->messages : k == 1 ?
				    nt->st->uidnext : k == 2 ? nt->st->uidvalidity :
				    k == 3 ? nt->st->unseen : nt->st->highestmodseq;

				buf_printf(&b, "%s%s %llu", sep, items[k],
				    (unsigned long long)v);
				sep = " ";
			}
		buf_append_char(&b, ')');
	}
	return buf_steal(&b, NULL);
}

/* Diff two looks of rows under the spec args, own (may be NULL) this
 * session's; compare with want. */
static void
ck_diff_own(const char *args, const struct mb_row *a, size_t na,
    const char *const *subs_a, const struct mb_row *b, size_t nb,
    const char *const *subs_b, int64_t selected, bool condstore,
    const struct notify_own *own, const char *want)
{
	struct notify_spec sp;
	struct notify_snap old, cur;
	struct notify_notes out = { NULL, 0, 0 };
	char why[NOTIFY_WHY_MAX], *got;

	ck_assert_int_eq(parse(args, &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	look(&old, &sp, a, na, subs_a);
	look(&cur, &sp, b, nb, subs_b);
	notify_diff(&old, &cur, &sp, selected, condstore, own, &out);
	got = notes_text(&out);
	ck_assert_msg(strcmp(got, want) == 0, "%s:\n got '%s'\nwant '%s'", args,
	    got, want);
	free(got);
	notify_notes_free(&out);
	notify_snap_free(&old);
	notify_snap_free(&cur);
	notify_spec_free(&sp);
}

static void
ck_diff(const char *args, const struct mb_row *a, size_t na,
    const char *const *subs_a, const struct mb_row *b, size_t nb,
    const char *const *subs_b, int64_t selected, bool condstore, const char *want)
{
	ck_diff_own(args, a, na, subs_a, b, nb, subs_b, selected, condstore, NULL,
	    want);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MSG_EVENTS "(MessageNew MessageExpunge)"
#define ALL_MSG "(MessageNew MessageExpunge FlagChange)"

static const struct mb_row base[] = {
	{ 1, "INBOX", 100, 10, 50, 5, 2, false, 0 },
	{ 2, "Lists", 200, 3, 7, 2, 0, false, 0 },
	{ 3, "Lists/a", 300, 1, 1, 0, 0, false, 0 },
	{ 4, "Sent", 400, 8, 20, 7, 0, false, STORE_USE_SENT },
};

START_TEST(test_diff_nothing)
{
	ck_diff("SET (PERSONAL (MessageNew MessageExpunge FlagChange MailboxName "
	    "SubscriptionChange))", base, N(base), NULL, base, N(base), NULL, 0,
	    true, "");
}
END_TEST

START_TEST(test_diff_message_new)
{
	struct mb_row b[N(base)];

	memcpy(b, base, sizeof(b));
	b[3].uidnext = 9;             /* a message came to Sent */
	b[3].messages = 8;
	b[3].modseq = 21;
	b[3].unseen = 1;
	ck_diff("SET (PERSONAL " MSG_EVENTS ")", base, N(base), NULL, b, N(b), NULL,
	    0, false, "STATUS Sent (MESSAGES 8 UIDNEXT 9 UIDVALIDITY 400 UNSEEN 1)");
	/* §5.2: with CONDSTORE, HIGHESTMODSEQ too */
	ck_diff("SET (PERSONAL " MSG_EVENTS ")", base, N(base), NULL, b, N(b), NULL,
	    0, true, "STATUS Sent (MESSAGES 8 UIDNEXT 9 UIDVALIDITY 400 UNSEEN 1 "
	    "HIGHESTMODSEQ 21)");
	/* the selected mailbox is SELECTED's (§3.1): no STATUS */
	ck_diff("SET (PERSONAL " MSG_EVENTS ")", base, N(base), NULL, b, N(b), NULL,
	    4, true, "");
	/* not watched */
	ck_diff("SET (MAILBOXES INBOX " MSG_EVENTS ") (PERSONAL (MailboxName))",
	    base, N(base), NULL, b, N(b), NULL, 0, true, "");
	ck_diff("SET (SUBTREE Lists " MSG_EVENTS ")", base, N(base), NULL, b, N(b),
	    NULL, 0, true, "");
	/* watched because subscribed */
	ck_diff("SET (SUBSCRIBED " MSG_EVENTS ")", base, N(base),
	    (const char *const[]){ "Sent", NULL }, b, N(b),
	    (const char *const[]){ "Sent", NULL }, 0, false,
	    "STATUS Sent (MESSAGES 8 UIDNEXT 9 UIDVALIDITY 400 UNSEEN 1)");
}
END_TEST

START_TEST(test_diff_expunge)
{
	struct mb_row b[N(base)];

	memcpy(b, base, sizeof(b));
	b[1].messages = 1;            /* one of Lists' messages went */
	b[1].modseq = 8;
	ck_diff("SET (SUBTREE Lists " MSG_EVENTS ")", base, N(base), NULL, b, N(b),
	    NULL, 0, false, "STATUS Lists (MESSAGES 1 UIDNEXT 3 UIDVALIDITY 200)");
	/* one came and one went: MESSAGES alone would not tell */
	b[1].messages = 2;
	b[1].uidnext = 4;
	ck_diff("SET (SUBTREE Lists " MSG_EVENTS ")", base, N(base), NULL, b, N(b),
	    NULL, 0, true, "STATUS Lists (MESSAGES 2 UIDNEXT 4 UIDVALIDITY 200 "
	    "HIGHESTMODSEQ 8)");
}
END_TEST

START_TEST(test_diff_flag_change)
{
	struct mb_row b[N(base)];

	memcpy(b, base, sizeof(b));
	b[0].modseq = 51;             /* INBOX: a flag, \Seen unchanged */
	/* §5.1: without CONDSTORE and without a new UNSEEN, nothing */
	ck_diff("SET (PERSONAL " ALL_MSG ")", base, N(base), NULL, b, N(b), NULL, 0,
	    false, "");
	ck_diff("SET (PERSONAL " ALL_MSG ")", base, N(base), NULL, b, N(b), NULL, 0,
	    true, "STATUS INBOX (UIDVALIDITY 100 HIGHESTMODSEQ 51)");
	/* without FlagChange, nothing either way */
	ck_diff("SET (PERSONAL " MSG_EVENTS ")", base, N(base), NULL, b, N(b), NULL,
	    0, true, "");
	b[0].unseen = 1;              /* one was read */
	ck_diff("SET (PERSONAL " ALL_MSG ")", base, N(base), NULL, b, N(b), NULL, 0,
	    false, "STATUS INBOX (UIDVALIDITY 100 UNSEEN 1)");
	ck_diff("SET (PERSONAL " ALL_MSG ")", base, N(base), NULL, b, N(b), NULL, 0,
	    true, "STATUS INBOX (UIDVALIDITY 100 UNSEEN 1 HIGHESTMODSEQ 51)");
}
END_TEST

START_TEST(test_diff_uidvalidity)
{
	struct mb_row b[N(base)];

	memcpy(b, base, sizeof(b));
	b[2].uidvalidity = 301;       /* Lists/a deleted and created again */
	b[2].uidnext = 1;
	ck_diff("SET (SUBTREE Lists " MSG_EVENTS ")", base, N(base), NULL, b, N(b),
	    NULL, 0, false, "STATUS Lists/a (MESSAGES 0 UIDNEXT 1 UIDVALIDITY 301 "
	    "UNSEEN 0)");
}
END_TEST

START_TEST(test_diff_create_delete)
{
	const struct mb_row more[] = {
		base[0], base[1], base[2],
		{ 5, "Lists/b", 500, 1, 1, 0, 0, false, 0 },
		{ 6, "New", 600, 1, 1, 0, 0, false, 0 },
		base[3],
	};
	const struct mb_row fewer[] = { base[0], base[1], base[3] };

	/* §5.4: the mailbox and its direct parent */
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, more, N(more),
	    NULL, 0, false, "LIST (\\HasChildren) Lists|LIST (\\HasNoChildren) "
	    "Lists/b|LIST (\\HasNoChildren) New");
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, fewer,
	    N(fewer), NULL, 0, false, "LIST (\\HasNoChildren) Lists|"
	    "LIST (\\NonExistent) Lists/a");
	/* a new mailbox that already has messages is worth a STATUS */
	{
		struct mb_row m[N(more)];

		memcpy(m, more, sizeof(m));
		m[4].uidnext = 2;
		m[4].messages = 1;
		m[4].unseen = 1;
		ck_diff("SET (PERSONAL (MessageNew MessageExpunge MailboxName))", base,
		    N(base), NULL, m, N(m), NULL, 0, false, "LIST (\\HasChildren) Lists|"
		    "LIST (\\HasNoChildren) Lists/b|LIST (\\HasNoChildren) New|"
		    "STATUS New (MESSAGES 1 UIDNEXT 2 UIDVALIDITY 600 UNSEEN 1)");
	}
	/* only the watched names */
	ck_diff("SET (MAILBOXES New (MailboxName))", base, N(base), NULL, more,
	    N(more), NULL, 0, false, "LIST (\\HasNoChildren) New");
	/* no MailboxName: no LIST */
	ck_diff("SET (PERSONAL (SubscriptionChange))", base, N(base), NULL, more,
	    N(more), NULL, 0, false, "");
}
END_TEST

START_TEST(test_diff_noselect)
{
	struct mb_row b[N(base)];

	memcpy(b, base, sizeof(b));
	b[1].noselect = true;         /* Lists deleted, but it has a child */
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, b, N(b), NULL,
	    0, false, "LIST (\\Noselect \\HasChildren) Lists");
	/* and created again */
	ck_diff("SET (PERSONAL (MailboxName))", b, N(b), NULL, base, N(base), NULL,
	    0, false, "LIST (\\HasChildren) Lists");
}
END_TEST

START_TEST(test_diff_rename)
{
	const struct mb_row renamed[] = {
		base[0],
		{ 2, "Work", 200, 3, 7, 2, 0, false, 0 },
		{ 3, "Work/a", 300, 1, 1, 0, 0, false, 0 },
		base[3],
	};
	const struct mb_row child[] = {
		base[0], base[1],
		{ 3, "Lists/z", 300, 1, 1, 0, 0, false, 0 },
		base[3],
	};

	/* §5.4: OLDNAME, and nothing for the children that moved with it */
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, renamed,
	    N(renamed), NULL, 0, false, "LIST (\\HasChildren) Work OLDNAME Lists");
	/* a watched old name is enough */
	ck_diff("SET (SUBTREE Lists (MailboxName))", base, N(base), NULL, renamed,
	    N(renamed), NULL, 0, false, "LIST (\\HasChildren) Work OLDNAME Lists");
	/* a child renamed alone */
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, child,
	    N(child), NULL, 0, false, "LIST (\\HasNoChildren) Lists/z OLDNAME Lists/a");
	/* counts follow the id: a renamed mailbox with no new message gets
	 * no STATUS */
	ck_diff("SET (PERSONAL " MSG_EVENTS ")", base, N(base), NULL, renamed,
	    N(renamed), NULL, 0, false, "");
}
END_TEST

/* RENAME INBOX: a new mailbox takes the messages, INBOX stays, empty
 * (RFC 9051 §6.3.6); told as a rename, with OLDNAME (§5.4). */
START_TEST(test_diff_rename_inbox)
{
	const struct mb_row after[] = {
		{ 1, "INBOX", 100, 10, 51, 0, 0, false, 0 },
		base[1], base[2],
		{ 7, "Old", 700, 10, 51, 5, 2, false, 0 },
		base[3],
	};
	struct mb_row m[N(after)];

	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, after,
	    N(after), NULL, 0, false, "LIST (\\HasNoChildren) Old OLDNAME INBOX");
	/* watching INBOX's name is enough; the counts go with the messages */
	ck_diff("SET (MAILBOXES INBOX (MailboxName MessageNew MessageExpunge))",
	    base, N(base), NULL, after, N(after), NULL, 0, false,
	    "LIST (\\HasNoChildren) Old OLDNAME INBOX|"
	    "STATUS INBOX (MESSAGES 0 UIDNEXT 10 UIDVALIDITY 100 UNSEEN 0)");
	/* INBOX got a message after the rename: known by the old INBOX */
	memcpy(m, after, sizeof(m));
	m[0].uidnext = 11;
	m[0].modseq = 52;
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, m, N(m), NULL,
	    0, false, "LIST (\\HasNoChildren) Old OLDNAME INBOX");
	/* ... or before it: known by INBOX as it is */
	m[3].uidnext = 11;
	m[3].modseq = 52;
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, m, N(m), NULL,
	    0, false, "LIST (\\HasNoChildren) Old OLDNAME INBOX");
	/* a CREATE beside an INBOX that changed is no rename */
	memcpy(m, after, sizeof(m));
	m[3].uidnext = 1;
	m[3].modseq = 1;
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, m, N(m), NULL,
	    0, false, "LIST (\\HasNoChildren) Old");
	/* nor one whose numbers match while INBOX did not move */
	memcpy(m, after, sizeof(m));
	m[0].modseq = 50;
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, m, N(m), NULL,
	    0, false, "LIST (\\HasNoChildren) Old");
	/* nor when INBOX has a new UIDVALIDITY */
	memcpy(m, after, sizeof(m));
	m[0].uidvalidity = 101;
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), NULL, m, N(m), NULL,
	    0, false, "LIST (\\HasNoChildren) Old");
}
END_TEST

START_TEST(test_diff_subscriptions)
{
	const char *const before[] = { "INBOX", "Gone", NULL };
	const char *const after[] = { "INBOX", "Lists", "Sent", NULL };

	/* §5.5: \Subscribed if and only if subscribed now; names without a
	 * mailbox are \NonExistent */
	ck_diff("SET (PERSONAL (SubscriptionChange))", base, N(base), before, base,
	    N(base), after, 0, false, "LIST (\\NonExistent) Gone|"
	    "LIST (\\HasChildren \\Subscribed) Lists|"
	    "LIST (\\HasNoChildren \\Subscribed \\Sent) Sent");
	/* SUBSCRIBED sees names leave and come */
	ck_diff("SET (SUBSCRIBED (SubscriptionChange))", base, N(base), before, base,
	    N(base), after, 0, false, "LIST (\\NonExistent) Gone|"
	    "LIST (\\HasChildren \\Subscribed) Lists|"
	    "LIST (\\HasNoChildren \\Subscribed \\Sent) Sent");
	ck_diff("SET (MAILBOXES Sent (SubscriptionChange))", base, N(base), before,
	    base, N(base), after, 0, false,
	    "LIST (\\HasNoChildren \\Subscribed \\Sent) Sent");
	ck_diff("SET (PERSONAL (MailboxName))", base, N(base), before, base,
	    N(base), after, 0, false, "");
}
END_TEST

START_TEST(test_diff_one_list_per_name)
{
	const struct mb_row b[] = {
		base[0], base[1], base[2],
		{ 5, "Lists/b", 500, 1, 1, 0, 0, false, 0 },
		{ 6, "Lists/c", 600, 1, 1, 0, 0, false, 0 },
		base[3],
	};
	const char *const subs[] = { "Lists/b", NULL };

	/* Lists is the parent of two new ones; Lists/b is new and subscribed */
	ck_diff("SET (PERSONAL (MailboxName SubscriptionChange))", base, N(base),
	    NULL, b, N(b), subs, 0, false, "LIST (\\HasChildren) Lists|"
	    "LIST (\\HasNoChildren \\Subscribed) Lists/b|LIST (\\HasNoChildren) Lists/c");
}
END_TEST

/* §5: what this session's own commands changed is not told; what others
 * changed beside it is. */
START_TEST(test_diff_own)
{
	const char *const spec = "SET (PERSONAL (MessageNew MessageExpunge "
	    "MailboxName SubscriptionChange))";
	const struct mb_row more[] = {
		base[0], base[1], base[2],
		{ 5, "Lists/b", 500, 1, 1, 0, 0, false, 0 },
		{ 6, "New", 600, 1, 1, 0, 0, false, 0 },
		base[3],
	};
	const struct mb_row renamed[] = {
		base[0],
		{ 2, "Work", 200, 3, 7, 2, 0, false, 0 },
		{ 3, "Work/a", 300, 1, 1, 0, 0, false, 0 },
		base[3],
	};
	const struct mb_row fewer[] = { base[0], base[1], base[3] };
	const char *const subs[] = { "Sent", NULL };
	struct mb_row sent[N(base)];
	struct notify_own own = { { NULL }, 0 };

	/* CREATE Lists/b: neither it nor its parent; New (another's) is told */
	notify_own_add(&own, "Lists/b");
	ck_diff_own(spec, base, N(base), NULL, more, N(more), NULL, 0, false, &own,
	    "LIST (\\HasNoChildren) New");
	/* both ours (inbox in any case is INBOX; a name twice is one) */
	notify_own_add(&own, "New");
	notify_own_add(&own, "New");
	ck_assert_uint_eq(own.n, 2);
	ck_diff_own(spec, base, N(base), NULL, more, N(more), NULL, 0, false, &own, "");
	notify_own_clear(&own);
	ck_assert_uint_eq(own.n, 0);
	/* DELETE Lists/a */
	notify_own_add(&own, "Lists/a");
	ck_diff_own(spec, base, N(base), NULL, fewer, N(fewer), NULL, 0, false, &own, "");
	notify_own_clear(&own);
	/* RENAME Lists Work: the new name is ours; not the other way round */
	notify_own_add(&own, "Lists");
	notify_own_add(&own, "Work");
	ck_diff_own(spec, base, N(base), NULL, renamed, N(renamed), NULL, 0, false,
	    &own, "");
	notify_own_clear(&own);
	notify_own_add(&own, "Lists/a/x");   /* a child of the old name only */
	ck_diff_own(spec, base, N(base), NULL, renamed, N(renamed), NULL, 0, false,
	    &own, "LIST (\\HasChildren) Work OLDNAME Lists");
	notify_own_clear(&own);
	/* SUBSCRIBE Sent */
	notify_own_add(&own, "Sent");
	ck_diff_own(spec, base, N(base), NULL, base, N(base), subs, 0, false, &own, "");
	/* APPEND to Sent; inbox's new message is another session's */
	memcpy(sent, base, sizeof(sent));
	sent[3].uidnext = 9;
	sent[3].messages = 8;
	sent[0].uidnext = 11;
	sent[0].messages = 6;
	ck_diff_own(spec, base, N(base), NULL, sent, N(sent), NULL, 0, false, &own,
	    "STATUS INBOX (MESSAGES 6 UIDNEXT 11 UIDVALIDITY 100)");
	notify_own_add(&own, "inbox");
	ck_assert_str_eq(own.names[1], "INBOX");
	ck_diff_own(spec, base, N(base), NULL, sent, N(sent), NULL, 0, false, &own, "");
	notify_own_clear(&own);
	/* bounded: past NOTIFY_OWN_MAX names, the rest is told */
	for (int i = 0; i < NOTIFY_OWN_MAX + 3; i++) {
		char name[16];

		snprintf(name, sizeof(name), "x%d", i);
		notify_own_add(&own, name);
	}
	ck_assert_uint_eq(own.n, NOTIFY_OWN_MAX);
	ck_diff_own(spec, base, N(base), NULL, more, N(more), NULL, 0, false, &own,
	    "LIST (\\HasChildren) Lists|LIST (\\HasNoChildren) Lists/b|"
	    "LIST (\\HasNoChildren) New");
	notify_own_clear(&own);
}
END_TEST

START_TEST(test_initial_items)
{
	struct notify_spec sp;
	struct notify_snap sn;
	char why[NOTIFY_WHY_MAX];
	const struct notify_mbox *m;

	ck_assert_int_eq(parse("SET STATUS (MAILBOXES INBOX " ALL_MSG ") "
	    "(SUBTREE Lists " MSG_EVENTS ") (MAILBOXES Sent (MailboxName))",
	    &sp, why, sizeof(why)), NOTIFY_PARSE_OK);
	look(&sn, &sp, base, N(base), NULL);
	/* §3.1: MessageNew: MESSAGES UIDNEXT UIDVALIDITY; FlagChange:
	 * UIDVALIDITY HIGHESTMODSEQ */
	ck_assert_ptr_nonnull(m = notify_snap_get(&sn, "INBOX"));
	ck_assert(m->counted);
	ck_assert_uint_eq(notify_initial_items(&sp, m), NOTIFY_ITEM_MESSAGES |
	    NOTIFY_ITEM_UIDNEXT | NOTIFY_ITEM_UIDVALIDITY | NOTIFY_ITEM_HIGHESTMODSEQ);
	ck_assert_ptr_nonnull(m = notify_snap_get(&sn, "Lists/a"));
	ck_assert_uint_eq(notify_initial_items(&sp, m), NOTIFY_ITEM_MESSAGES |
	    NOTIFY_ITEM_UIDNEXT | NOTIFY_ITEM_UIDVALIDITY);
	/* no message event: no STATUS, no counts */
	ck_assert_ptr_nonnull(m = notify_snap_get(&sn, "Sent"));
	ck_assert(!m->counted);
	ck_assert_uint_eq(notify_initial_items(&sp, m), 0);
	ck_assert_ptr_null(notify_snap_get(&sn, "Nothing"));
	ck_assert_uint_eq(notify_snap_size(&sn), 4);
	notify_snap_free(&sn);
	notify_spec_free(&sp);
}
END_TEST

START_TEST(test_same_counts)
{
	struct notify_mbox a, b;

	memset(&a, 0, sizeof(a));
	a.id = 7;
	a.counted = true;
	a.st.uidvalidity = 1;
	a.st.uidnext = 5;
	a.st.highestmodseq = 9;
	b = a;
	b.counted = false;
	ck_assert(notify_same_counts(&a, &b));
	b.st.highestmodseq = 10;
	ck_assert(!notify_same_counts(&a, &b));
	b = a;
	b.id = 8;
	ck_assert(!notify_same_counts(&a, &b));
	b = a;
	a.counted = false;
	ck_assert(!notify_same_counts(&a, &b));
}
END_TEST

static Suite *
notify_suite(void)
{
	Suite *s = suite_create("notify");
	TCase *tc = tcase_create("notify");

	tcase_add_test(tc, test_parse_none);
	tcase_add_test(tc, test_parse_every_filter);
	tcase_add_test(tc, test_parse_selected_forms);
	tcase_add_loop_test(tc, test_parse_badevent, 0, N(badevents));
	tcase_add_loop_test(tc, test_parse_bad, 0, N(bads));
	tcase_add_test(tc, test_parse_name_bound);
	tcase_add_test(tc, test_events_filters);
	tcase_add_test(tc, test_diff_nothing);
	tcase_add_test(tc, test_diff_message_new);
	tcase_add_test(tc, test_diff_expunge);
	tcase_add_test(tc, test_diff_flag_change);
	tcase_add_test(tc, test_diff_uidvalidity);
	tcase_add_test(tc, test_diff_create_delete);
	tcase_add_test(tc, test_diff_noselect);
	tcase_add_test(tc, test_diff_rename);
	tcase_add_test(tc, test_diff_rename_inbox);
	tcase_add_test(tc, test_diff_subscriptions);
	tcase_add_test(tc, test_diff_one_list_per_name);
	tcase_add_test(tc, test_diff_own);
	tcase_add_test(tc, test_initial_items);
	tcase_add_test(tc, test_same_counts);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(notify_suite());
}
