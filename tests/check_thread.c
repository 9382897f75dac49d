/*
 * Unit tests for imapd/thread.c: THREAD=ORDEREDSUBJECT and
 * THREAD=REFERENCES (RFC 5256 §3) fed with messages made up in memory,
 * the tricky cases of REFERENCES among them: missing parents, loops, a
 * message that references itself, duplicate and missing Message-IDs,
 * links of a cut-short References replaced, pruning of dummies, grouping
 * by subject and the order of siblings.  Each expected answer is derived
 * by hand from the RFC's steps in the comment above it.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "thread.h"
#include "xmalloc.h"

/* One message: its number is its place (1, 2...); refs end at NULL. */
struct spec {
	int64_t date;
	const char *subject;
	bool reply;
	const char *id;
	const char *refs[5];
};

static char answer[4096];

static const char *
run(const struct spec *sp, size_t n, bool references)
{
	struct thread_msg *m = xcalloc(n > 0 ? n : 1, sizeof(*m));
	struct buf out = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		m[i].num = (uint32_t)i + 1;
		m[i].date = sp[i].date;
		m[i].subject = sp[i].subject;
		m[i].reply = sp[i].reply;
		m[i].msgid = sp[i].id;
		m[i].refs = sp[i].refs;
		while (m[i].n_refs < 5 && sp[i].refs[m[i].n_refs] != NULL)
			m[i].n_refs++;
	}
	ck_assert_int_eq(references ? thread_references(m, n, &out) :
	    thread_orderedsubject(m, n, &out), 0);
	snprintf(answer, sizeof(answer), "%s", out.data != NULL ? out.data : "");
	buf_free(&out);
	free(m);
	return answer;
}

#define REFS(sp) run(sp, sizeof(sp) / sizeof(sp[0]), true)
#define ORDERED(sp) run(sp, sizeof(sp) / sizeof(sp[0]), false)

START_TEST(test_empty)
{
	ck_assert_str_eq(run(NULL, 0, true), "");
	ck_assert_str_eq(run(NULL, 0, false), "");
}
END_TEST

/* 3 refs 1 and 2, 2 refs 1: one chain, written without inner lists. */
START_TEST(test_chain)
{
	const struct spec sp[] = {
		{ 1, "a", false, "a@x", { NULL } },
		{ 2, "b", true, "b@x", { "a@x", NULL } },
		{ 3, "c", true, "c@x", { "a@x", "b@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(1 2 3)");
}
END_TEST

/*
 * Siblings by date at every level: 1 and 2 have no parent (the top level
 * is 2 then 1: 2 is older); 3 and 4 are 1's children, 4 the older.
 */
START_TEST(test_siblings)
{
	const struct spec sp[] = {
		{ 30, "s1", false, "a@x", { NULL } },
		{ 10, "s2", false, "b@x", { NULL } },
		{ 50, "s3", false, "c@x", { "a@x", NULL } },
		{ 40, "s4", false, "d@x", { "a@x", NULL } },
		{ 60, "s5", false, "e@x", { "a@x", "c@x", NULL } },
	};

	/* 3 has one child (5): "3 5" in its own list */
	ck_assert_str_eq(REFS(sp), "(2)(1 (4)(3 5))");
}
END_TEST

/* Equal dates: mailbox order. */
START_TEST(test_equal_dates)
{
	const struct spec sp[] = {
		{ 5, "x", false, "a@x", { NULL } },
		{ 5, "y", false, "b@x", { "a@x", NULL } },
		{ 5, "z", false, "c@x", { "a@x", NULL } },
		{ 5, "w", false, "d@x", { NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(1 (2)(3))(4)");
}
END_TEST

/*
 * Missing parents: 1 and 2 reference a@x, which no message has: a dummy
 * with two children stays at the top level, written without a number;
 * 3 is the one child of the missing b@x: the dummy gives way to it.
 */
START_TEST(test_missing_parent)
{
	const struct spec sp[] = {
		{ 1, "p", false, "c@x", { "a@x", NULL } },
		{ 2, "q", false, "d@x", { "a@x", NULL } },
		{ 3, "r", false, "e@x", { "b@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "((1)(2))(3)");
}
END_TEST

/*
 * A dummy below the top level always gives way: 1 refs [m1, gone]: m1
 * (a message, 2) -> gone (dummy) -> 1; pruning makes 1 a child of 2.
 * A chain of dummies: 3 refs [d1, d2]: d1 -> d2 -> 3; d1 has one child,
 * d2, which takes its place, and then 3 takes d2's.
 */
START_TEST(test_prune_nested)
{
	const struct spec sp[] = {
		{ 2, "s", false, "c@x", { "m1@x", "gone@x", NULL } },
		{ 1, "t", false, "m1@x", { NULL } },
		{ 3, "u", false, "e@x", { "d1@x", "d2@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2 1)(3)");
}
END_TEST

/*
 * A dummy whose children all go: 1 refs [d, x1, m] and 2 refs [d, x2, n]
 * make d -> x1 -> m -> 1 and d -> x2 -> n -> 2; 3 is m and 4 is n, both
 * without references, so their links to x1 and x2 break.  d has two
 * children, but both are childless dummies: they go, and d with them.
 * Add 5, a child of d: d is left with one child, which takes its place.
 */
START_TEST(test_prune_emptied)
{
	const struct spec sp[] = {
		{ 1, "s", false, "p1@x", { "d@x", "x1@x", "m@x", NULL } },
		{ 2, "t", false, "p2@x", { "d@x", "x2@x", "n@x", NULL } },
		{ 3, "u", false, "m@x", { NULL } },
		{ 4, "v", false, "n@x", { NULL } },
		{ 5, "w", false, "q@x", { "d@x", NULL } },
	};

	ck_assert_str_eq(run(sp, 4, true), "(3 1)(4 2)");
	ck_assert_str_eq(run(sp, 5, true), "(3 1)(4 2)(5)");
}
END_TEST

/*
 * 1A keeps a link: 1 refs [a, b] links a -> b -> 1.  2 refs [x, b]: b has
 * a parent already, so x -> b is not made; b -> 2.  Dummy a has one child
 * (dummy b): b moves up, and with two children stays: "((1)(2))".  x is
 * a childless dummy: gone.
 */
START_TEST(test_existing_link_kept)
{
	const struct spec sp[] = {
		{ 1, "s", false, "c@x", { "a@x", "b@x", NULL } },
		{ 2, "t", false, "d@x", { "x@x", "b@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "((1)(2))");
}
END_TEST

/*
 * 1B replaces a link 1A made from a cut-short References: 1 refs [p,
 * m2]: p -> m2 (a dummy then) -> 1.  2 is m2 and refs [q]: its parent
 * becomes q, the link from p is broken.  p goes (childless), q gives way
 * to its one child: 2 at the top, 1 below it.
 */
START_TEST(test_link_replaced)
{
	const struct spec sp[] = {
		{ 2, "s", false, "m1@x", { "p@x", "m2@x", NULL } },
		{ 1, "t", false, "m2@x", { "q@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2 1)");
}
END_TEST

/*
 * No references at all leaves a message without a parent, even if 1A of
 * an earlier message gave it one: 1 refs [b, a]: b -> a (dummy) -> 1.  2
 * is a@x without references: its link to b is broken, b (childless)
 * goes, and 2 is at the top with 1, still a's child, below it.
 */
START_TEST(test_no_refs_unlinks)
{
	const struct spec sp[] = {
		{ 1, "s", false, "c@x", { "b@x", "a@x", NULL } },
		{ 2, "t", false, "a@x", { NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2 1)");
}
END_TEST

/*
 * A loop: 1 (A) refs B, 2 (B) refs A.  1: B (a dummy) -> A.  2 fills B;
 * making A the parent of B would close the loop (B is A's parent): not
 * made.  So B (2) is the top, A (1) below it.
 */
START_TEST(test_loop)
{
	const struct spec sp[] = {
		{ 1, "one", false, "A@x", { "B@x", NULL } },
		{ 2, "two", false, "B@x", { "A@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2 1)");
}
END_TEST

/* A longer loop in one References: a -> b -> c, then c -> a is refused. */
START_TEST(test_loop_in_references)
{
	const struct spec sp[] = {
		{ 1, "s", false, "a@x", { NULL } },
		{ 2, "t", false, "b@x", { "a@x", NULL } },
		{ 3, "u", false, "c@x", { "b@x", NULL } },
		{ 4, "v", false, "d@x", { "c@x", "a@x", "b@x", NULL } },
	};

	/* 4's 1A: c -> a refused (a is c's ancestor); a -> b: b has a
	 * parent.  1B: b -> 4. */
	ck_assert_str_eq(REFS(sp), "(1 2 (3)(4))");
}
END_TEST

/*
 * A message that references itself: its own id as the last reference
 * would make it its own parent: refused.  In the middle (refs [X, A] of
 * A): 1A makes X -> A, 1B breaks it (the parent must be A itself, which
 * is refused): A alone, X a childless dummy, gone.
 */
START_TEST(test_self_reference)
{
	const struct spec sp[] = {
		{ 1, "s", false, "A@x", { "A@x", NULL } },
		{ 2, "t", false, "B@x", { "X@x", "B@x", NULL } },
		{ 3, "u", false, "C@x", { "A@x", "C@x", "A@x", NULL } },
	};

	/* 3: 1A: A -> C, C -> A refused (loop); 1B: parent A: already */
	ck_assert_str_eq(REFS(sp), "(1 3)(2)");
}
END_TEST

/*
 * Duplicate Message-IDs: the first message keeps the id, the second gets
 * one of its own; 3 refs the id: it is the first message's child.
 */
START_TEST(test_duplicate_ids)
{
	const struct spec sp[] = {
		{ 1, "s", false, "A@x", { NULL } },
		{ 2, "t", false, "A@x", { NULL } },
		{ 3, "u", false, "C@x", { "A@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(1 3)(2)");
}
END_TEST

/*
 * A dummy created for a reference is filled by the message with that id
 * later, even when an earlier message had the same id as a reference
 * only.  And messages without Message-ID each stand alone.
 */
START_TEST(test_no_ids)
{
	const struct spec sp[] = {
		{ 1, "s", false, NULL, { "A@x", NULL } },
		{ 2, "t", false, NULL, { NULL } },
		{ 3, "u", false, "A@x", { NULL } },
		{ 4, "v", false, "", { NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2)(3 1)(4)");
}
END_TEST

/*
 * Step 5, subjects.  Two threads on "hello": 1 (no reply) first, 2 a
 * reply: 2 becomes 1's child.  Two on "x", neither a reply: a new dummy
 * holds both.  Empty subjects are never grouped.
 */
START_TEST(test_subjects)
{
	const struct spec sp[] = {
		{ 1, "hello", false, "a@x", { NULL } },
		{ 2, "HELLO", true, "b@x", { NULL } },
		{ 3, "x", false, "c@x", { NULL } },
		{ 4, "x", false, "d@x", { NULL } },
		{ 5, "", false, "e@x", { NULL } },
		{ 6, NULL, false, "f@x", { NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(1 2)((3)(4))(5)(6)");
}
END_TEST

/*
 * The subject table prefers a thread that is no reply: 1 is "Re: x"
 * (reply), 2 is "x": 2 takes the table, and 1 (a reply, 2 not) becomes
 * its child.  The top level is then sorted: 2's thread by 2's date.
 */
START_TEST(test_subject_reply_first)
{
	const struct spec sp[] = {
		{ 1, "x", true, "a@x", { NULL } },
		{ 2, "x", false, "b@x", { NULL } },
	};

	ck_assert_str_eq(REFS(sp), "(2 1)");
}
END_TEST

/*
 * A dummy takes the subject table: 1 and 2 are children of the missing
 * a@x (subject "topic" from the first child); 3, "Re: topic" without
 * references, joins the dummy as a third child.  4, a reply on the same
 * subject with its own child 5, joins too, with 5 below it.
 */
START_TEST(test_subject_dummy)
{
	const struct spec sp[] = {
		{ 1, "topic", false, "b@x", { "a@x", NULL } },
		{ 2, "topic", true, "c@x", { "a@x", NULL } },
		{ 3, "topic", true, "d@x", { NULL } },
		{ 4, "topic", true, "e@x", { NULL } },
		{ 5, "other", true, "f@x", { "e@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "((1)(2)(3)(4 5))");
}
END_TEST

/* Two dummies with one subject: their children become siblings. */
START_TEST(test_subject_two_dummies)
{
	const struct spec sp[] = {
		{ 1, "topic", false, "b@x", { "a@x", NULL } },
		{ 3, "topic", false, "c@x", { "a@x", NULL } },
		{ 2, "topic", false, "e@x", { "d@x", NULL } },
		{ 4, "topic", false, "f@x", { "d@x", NULL } },
	};

	/* siblings by date: 1 (1), 3 (2), 2 (3), 4 (4) */
	ck_assert_str_eq(REFS(sp), "((1)(3)(2)(4))");
}
END_TEST

/*
 * The top level sorts a dummy by its first child once its children are
 * sorted: the dummy's children are dated 50 and 20, the message 30.
 */
START_TEST(test_dummy_order)
{
	const struct spec sp[] = {
		{ 50, "s", false, "b@x", { "a@x", NULL } },
		{ 30, "t", false, "c@x", { NULL } },
		{ 20, "u", false, "d@x", { "a@x", NULL } },
	};

	ck_assert_str_eq(REFS(sp), "((3)(1))(2)");
}
END_TEST

/* A reply chain as long as a big mailbox needs no deep stack and no
 * quadratic loop check. */
START_TEST(test_long_chain)
{
	enum { N = 100000 };
	struct thread_msg *m = xcalloc(N, sizeof(*m));
	char (*ids)[16] = xcalloc(N, sizeof(*ids));
	const char **refs = xcalloc(N, sizeof(*refs));
	struct buf out = BUF_INIT, want = BUF_INIT;

	for (int i = 0; i < N; i++) {
		snprintf(ids[i], sizeof(ids[i]), "%d@x", i);
		refs[i] = ids[i];
		m[i].num = (uint32_t)i + 1;
		m[i].date = i;
		m[i].subject = "s";
		m[i].msgid = ids[i];
		if (i > 0) {
			m[i].refs = &refs[i - 1];
			m[i].n_refs = 1;
		}
		buf_printf(&want, "%s%d", i ? " " : "(", i + 1);
	}
	buf_append_char(&want, ')');
	ck_assert_int_eq(thread_references(m, N, &out), 0);
	ck_assert_str_eq(out.data, want.data);
	/* and as deep with a branch at every level: message 2k + 1 is a
	 * leaf below 2k, and 2k + 2 goes on below it */
	for (int i = 1; i < N; i++)
		m[i].refs = &refs[i % 2 == 1 ? i - 1 : i - 2];
	buf_reset(&out);
	ck_assert_int_eq(thread_references(m, N, &out), 0);
	ck_assert(strncmp(out.data, "(1 (2)(3 (4)(5 (6)(7 ", 21) == 0);
	ck_assert_ptr_nonnull(strstr(out.data, " (99998)(99999 100000))"));
	size_t open = 0, close = 0;
	for (size_t i = 0; i < out.len; i++) {
		open += out.data[i] == '(';
		close += out.data[i] == ')';
	}
	ck_assert_uint_eq(open, close);
	/* the top list, and two for each message with two children */
	ck_assert_uint_eq(open, 1 + 2 * (N / 2 - 1));
	buf_free(&out);
	buf_free(&want);
	free(refs);
	free(ids);
	free(m);
}
END_TEST

/* Many threads of one subject (a daily report): one dummy gathers them,
 * in linear time. */
START_TEST(test_many_same_subject)
{
	enum { N = 100000 };
	struct thread_msg *m = xcalloc(N, sizeof(*m));
	struct buf out = BUF_INIT, want = BUF_INIT;

	buf_append_char(&want, '(');
	for (int i = 0; i < N; i++) {
		m[i].num = (uint32_t)i + 1;
		m[i].date = N - i;        /* newest first: the answer reverses */
		m[i].subject = i % 2 ? "Daily report" : "daily REPORT";
		buf_printf(&want, "(%d)", N - i);
	}
	buf_append_char(&want, ')');
	ck_assert_int_eq(thread_references(m, N, &out), 0);
	ck_assert_str_eq(out.data, want.data);
	buf_reset(&out);
	/* half of them replies: they join the first that is none, 100000 */
	for (int i = 0; i < N - 1; i++)
		m[i].reply = true;
	ck_assert_int_eq(thread_references(m, N, &out), 0);
	ck_assert(strncmp(out.data, "(100000 (99999)(99998)(", 23) == 0);
	buf_free(&out);
	buf_free(&want);
	free(m);
}
END_TEST

/*
 * ORDEREDSUBJECT: sorted by base subject, then date; a thread per
 * subject, its first message at the top, the second its child and the
 * rest the second's siblings; the threads by their first message's date.
 * "a": 3 (2), 2 (3), 5 (4); "b": 4 (0), 1 (1).  Threads: b (0), a (2).
 */
START_TEST(test_orderedsubject)
{
	const struct spec sp[] = {
		{ 1, "b", false, NULL, { NULL } },
		{ 3, "a", false, NULL, { NULL } },
		{ 2, "A", true, NULL, { NULL } },
		{ 0, "b", false, NULL, { NULL } },
		{ 4, "a", false, NULL, { NULL } },
		{ 9, "c", false, "z@x", { "y@x", NULL } },
	};

	ck_assert_str_eq(ORDERED(sp), "(4 1)(3 (2)(5))(6)");
}
END_TEST

/* Equal dates keep mailbox order; empty subjects are one thread. */
START_TEST(test_orderedsubject_ties)
{
	const struct spec sp[] = {
		{ 7, NULL, false, NULL, { NULL } },
		{ 7, "x", false, NULL, { NULL } },
		{ 7, "", false, NULL, { NULL } },
		{ 7, "x", false, NULL, { NULL } },
	};

	ck_assert_str_eq(ORDERED(sp), "(1 3)(2 4)");
}
END_TEST

static Suite *
thread_suite(void)
{
	Suite *s = suite_create("thread");
	TCase *tc = tcase_create("references");

	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_chain);
	tcase_add_test(tc, test_siblings);
	tcase_add_test(tc, test_equal_dates);
	tcase_add_test(tc, test_missing_parent);
	tcase_add_test(tc, test_prune_nested);
	tcase_add_test(tc, test_prune_emptied);
	tcase_add_test(tc, test_existing_link_kept);
	tcase_add_test(tc, test_link_replaced);
	tcase_add_test(tc, test_no_refs_unlinks);
	tcase_add_test(tc, test_loop);
	tcase_add_test(tc, test_loop_in_references);
	tcase_add_test(tc, test_self_reference);
	tcase_add_test(tc, test_duplicate_ids);
	tcase_add_test(tc, test_no_ids);
	tcase_add_test(tc, test_subjects);
	tcase_add_test(tc, test_subject_reply_first);
	tcase_add_test(tc, test_subject_dummy);
	tcase_add_test(tc, test_subject_two_dummies);
	tcase_add_test(tc, test_dummy_order);
	tcase_add_test(tc, test_long_chain);
	tcase_add_test(tc, test_many_same_subject);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
	tc = tcase_create("orderedsubject");
	tcase_add_test(tc, test_orderedsubject);
	tcase_add_test(tc, test_orderedsubject_ties);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(thread_suite());
}
