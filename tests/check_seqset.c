/* Unit tests for imapd/seqset.c: parsing, resolving "*", merging, output. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdlib.h>
#include <string.h>

#include "seqset.h"

/* Parses s, resolves with star and formats: "" when the parse fails. */
static char *
roundtrip(const char *s, uint32_t star, int *rc)
{
	struct seqset set = SEQSET_INIT;
	struct buf b = BUF_INIT;

	*rc = seqset_parse(s, strlen(s), &set, NULL);
	if (*rc == 0) {
		seqset_resolve(&set, star);
		ck_assert_int_eq(seqset_format(&set, &b), 0);
	}
	seqset_free(&set);
	return buf_steal(&b, NULL);
}

static const struct {
	const char *in;
	const char *raw;        /* formatted before resolve */
	const char *star10;     /* formatted after resolve(10) */
} valid_cases[] = {
	{ "1", "1", "1" },
	{ "1:*", "1:*", "1:10" },
	{ "*", "*", "10" },
	{ "*:4", "*:4", "4:10" },
	{ "4:2", "4:2", "2:4" },
	{ "2:2", "2", "2" },
	{ "1,3,5:7", "1,3,5:7", "1,3,5:7" },
	{ "4294967295", "4294967295", "4294967295" },
	{ "1:4294967295", "1:4294967295", "1:4294967295" },
	{ "4294967295:*", "4294967295:*", "10:4294967295" },
	{ "1:3,2:5,7,6", "1:3,2:5,7,6", "1:7" },
	{ "9,8,7", "9,8,7", "7:9" },
	{ "20:15,*", "20:15,*", "10,15:20" },
	{ "*,*:*", "*,*", "10" },
	{ "5,1:4", "5,1:4", "1:5" },
	{ "1,3", "1,3", "1,3" },
	{ "100,99:98,1", "100,99:98,1", "1,98:100" },
};

START_TEST(test_valid)
{
	struct seqset set = SEQSET_INIT;
	struct buf b = BUF_INIT;
	const char *why = "unset";
	const char *in = valid_cases[_i].in;

	ck_assert_msg(seqset_parse(in, strlen(in), &set, &why) == 0, "'%s'", in);
	ck_assert_str_eq(why, "unset");
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, valid_cases[_i].raw);
	buf_reset(&b);
	seqset_resolve(&set, 10);
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, valid_cases[_i].star10);
	/* resolving again changes nothing */
	buf_reset(&b);
	seqset_resolve(&set, 3);
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, valid_cases[_i].star10);
	buf_free(&b);
	seqset_free(&set);
}
END_TEST

static const struct {
	const char *in;
	const char *why;
} invalid_cases[] = {
	{ "", "Empty sequence set" },
	{ "0", "Invalid sequence number 0" },
	{ "1:0", "Invalid sequence number 0" },
	{ "0:*", "Invalid sequence number 0" },
	{ "01", "Leading zero in sequence number" },
	{ "1:007", "Leading zero in sequence number" },
	{ "1,,2", "Empty element in sequence set" },
	{ ",1", "Empty element in sequence set" },
	{ "1,", "Empty element in sequence set" },
	{ ",", "Empty element in sequence set" },
	{ "1:2:3", "Invalid range in sequence set" },
	{ "1::2", "Missing number after ':' in sequence set" },
	{ "1:", "Missing number after ':' in sequence set" },
	{ ":1", "Empty element in sequence set" },
	{ "a", "Invalid character in sequence set" },
	{ "1 2", "Invalid character in sequence set" },
	{ " 1", "Invalid character in sequence set" },
	{ "1 ", "Invalid character in sequence set" },
	{ "-1", "Invalid character in sequence set" },
	{ "+1", "Invalid character in sequence set" },
	{ "1-3", "Invalid character in sequence set" },
	{ "1;2", "Invalid character in sequence set" },
	{ "**", "Invalid character in sequence set" },
	{ "*5", "Invalid character in sequence set" },
	{ "1(", "Invalid character in sequence set" },
	{ "4294967296", "Sequence number too large" },
	{ "99999999999999999999999", "Sequence number too large" },
	{ "1:4294967296", "Sequence number too large" },
	{ "$,1", "$ must be the whole sequence set" },
	{ "1,$", "$ must be the whole sequence set" },
	{ "1:$", "$ must be the whole sequence set" },
	{ "$$", "$ must be the whole sequence set" },
	{ "$:5", "$ must be the whole sequence set" },
	{ "$1", "$ must be the whole sequence set" },
	{ "*:$", "$ must be the whole sequence set" },
};

START_TEST(test_invalid)
{
	struct seqset set = SEQSET_INIT;
	const char *why = NULL;
	const char *in = invalid_cases[_i].in;

	ck_assert_msg(seqset_parse(in, strlen(in), &set, &why) == -1, "'%s'", in);
	ck_assert_ptr_nonnull(why);
	ck_assert_str_eq(why, invalid_cases[_i].why);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_ptr_null(set.r);
	/* why may be NULL */
	ck_assert_int_eq(seqset_parse(in, strlen(in), &set, NULL), -1);
}
END_TEST

START_TEST(test_embedded_nul)
{
	struct seqset set = SEQSET_INIT;
	const char *why;

	ck_assert_int_eq(seqset_parse("1\0002", 3, &set, &why), -1);
	ck_assert_str_eq(why, "Invalid character in sequence set");
	/* len is honoured: the rest of the string is not looked at */
	ck_assert_int_eq(seqset_parse("12,junk", 2, &set, &why), 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_uint_eq(set.r[0].lo, 12);
	seqset_free(&set);
}
END_TEST

START_TEST(test_searchres)
{
	struct seqset set = SEQSET_INIT;
	const char *why = "unset";

	ck_assert_int_eq(seqset_parse("1:5", 3, &set, &why), 0);
	/* a reused set is emptied by "$" */
	ck_assert_int_eq(seqset_parse("$", 1, &set, &why), 1);
	ck_assert_uint_eq(set.n, 0);
	ck_assert_str_eq(why, "unset");
	seqset_free(&set);
}
END_TEST

START_TEST(test_reuse)
{
	struct seqset set = SEQSET_INIT;

	ck_assert_int_eq(seqset_parse("1:5,9", 5, &set, NULL), 0);
	ck_assert_uint_eq(set.n, 2);
	ck_assert_int_eq(seqset_parse("7", 1, &set, NULL), 0);
	ck_assert_uint_eq(set.n, 1);
	ck_assert_uint_eq(set.r[0].lo, 7);
	ck_assert_int_eq(seqset_parse("x", 1, &set, NULL), -1);
	ck_assert_uint_eq(set.n, 0);
	seqset_free(&set);
	seqset_free(&set);
}
END_TEST

START_TEST(test_limits)
{
	struct seqset set = SEQSET_INIT;
	struct buf b = BUF_INIT;
	const char *why;
	char *s;
	size_t i;

	/* exactly the element limit parses */
	for (i = 0; i < SEQSET_MAX_ELEMENTS; i++)
		ck_assert_int_eq(buf_printf(&b, i ? ",%zu" : "%zu", i * 2 + 1), 0);
	ck_assert_int_eq(seqset_parse(b.data, b.len, &set, &why), 0);
	ck_assert_uint_eq(set.n, SEQSET_MAX_ELEMENTS);
	seqset_resolve(&set, 1);
	ck_assert_uint_eq(set.n, SEQSET_MAX_ELEMENTS);
	ck_assert_uint_eq(seqset_count(&set), SEQSET_MAX_ELEMENTS);
	ck_assert(seqset_contains(&set, 2 * SEQSET_MAX_ELEMENTS - 1));
	ck_assert(!seqset_contains(&set, 2 * SEQSET_MAX_ELEMENTS - 2));
	/* one more does not */
	ck_assert_int_eq(buf_append_str(&b, ",1"), 0);
	ck_assert_int_eq(seqset_parse(b.data, b.len, &set, &why), -1);
	ck_assert_str_eq(why, "Too many elements in sequence set");
	buf_free(&b);

	/* a very long string is refused before it is scanned */
	s = malloc(SEQSET_MAX_LEN + 2);
	ck_assert_ptr_nonnull(s);
	memset(s, '1', SEQSET_MAX_LEN + 1);
	s[SEQSET_MAX_LEN + 1] = '\0';
	ck_assert_int_eq(seqset_parse(s, SEQSET_MAX_LEN + 1, &set, &why), -1);
	ck_assert_str_eq(why, "Sequence set too long");
	/* a long run of digits stops at the overflow */
	ck_assert_int_eq(seqset_parse(s, 4096, &set, &why), -1);
	ck_assert_str_eq(why, "Sequence number too large");
	free(s);
	seqset_free(&set);
}
END_TEST

START_TEST(test_resolve_star)
{
	char *out;
	int rc;

	/* empty mailbox: elements naming "*" match nothing, others stay */
	out = roundtrip("1:*", 0, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(out, "");
	free(out);
	out = roundtrip("*", 0, &rc);
	ck_assert_str_eq(out, "");
	free(out);
	out = roundtrip("3,*:7,1", 0, &rc);
	ck_assert_str_eq(out, "1,3");
	free(out);

	out = roundtrip("1:*", 1, &rc);
	ck_assert_str_eq(out, "1");
	free(out);
	out = roundtrip("*:5", 1, &rc);
	ck_assert_str_eq(out, "1:5");
	free(out);
	out = roundtrip("5:*", 10, &rc);
	ck_assert_str_eq(out, "5:10");
	free(out);
	/* RFC 9051 §6.4.9: 559:* includes the last UID even when it is lower */
	out = roundtrip("559:*", 10, &rc);
	ck_assert_str_eq(out, "10:559");
	free(out);
}
END_TEST

START_TEST(test_resolve_empty_mailbox_contains)
{
	struct seqset set = SEQSET_INIT;

	ck_assert_int_eq(seqset_parse("1:*", 3, &set, NULL), 0);
	seqset_resolve(&set, 0);
	ck_assert_uint_eq(set.n, 0);
	ck_assert(!seqset_contains(&set, 0));
	ck_assert(!seqset_contains(&set, 1));
	ck_assert_uint_eq(seqset_count(&set), 0);
	ck_assert_uint_eq(seqset_min(&set), 0);
	ck_assert_uint_eq(seqset_max(&set), 0);
	seqset_free(&set);
}
END_TEST

START_TEST(test_contains_count)
{
	struct seqset set = SEQSET_INIT;
	static const uint32_t in[] = { 1, 2, 3, 5, 7, 8, 9, 100, 4294967295u };
	static const uint32_t out[] = { 0, 4, 6, 10, 99, 101, 4294967294u };

	ck_assert_int_eq(seqset_parse("9:7,5,1:3,100,4294967295", 24, &set, NULL), 0);
	seqset_resolve(&set, 50);
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_msg(seqset_contains(&set, in[i]), "%u", in[i]);
	for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		ck_assert_msg(!seqset_contains(&set, out[i]), "%u", out[i]);
	ck_assert_uint_eq(seqset_count(&set), 9);
	ck_assert_uint_eq(seqset_min(&set), 1);
	ck_assert_uint_eq(seqset_max(&set), 4294967295u);

	ck_assert_int_eq(seqset_parse("1:4294967295", 12, &set, NULL), 0);
	seqset_resolve(&set, 1);
	ck_assert_uint_eq(seqset_count(&set), 4294967295ull);
	ck_assert(seqset_contains(&set, 4294967295u));
	seqset_free(&set);
}
END_TEST

START_TEST(test_merge_at_top)
{
	char *out;
	int rc;

	/* adjacency test must not wrap at UINT32_MAX */
	out = roundtrip("4294967295,1,4294967294", 1, &rc);
	ck_assert_str_eq(out, "1,4294967294:4294967295");
	free(out);
	out = roundtrip("1:4294967295,5", 1, &rc);
	ck_assert_str_eq(out, "1:4294967295");
	free(out);
}
END_TEST

START_TEST(test_iterate)
{
	struct seqset set = SEQSET_INIT;
	struct seqset_iter it;
	uint32_t n, got[16];
	size_t k = 0;
	bool ok;

	ck_assert_int_eq(seqset_parse("7,1:3,9:*", 9, &set, NULL), 0);
	seqset_resolve(&set, 10);
	for (ok = seqset_first(&set, &it, &n); ok; ok = seqset_next(&set, &it, &n)) {
		ck_assert_uint_lt(k, 16);
		got[k++] = n;
	}
	ck_assert_uint_eq(k, 6);
	ck_assert_uint_eq(got[0], 1);
	ck_assert_uint_eq(got[2], 3);
	ck_assert_uint_eq(got[3], 7);
	ck_assert_uint_eq(got[4], 9);
	ck_assert_uint_eq(got[5], 10);
	/* stays at the end */
	ck_assert(!seqset_next(&set, &it, &n));

	/* a range ending at UINT32_MAX ends the loop */
	ck_assert_int_eq(seqset_parse("4294967294:4294967295", 21, &set, NULL), 0);
	seqset_resolve(&set, 1);
	k = 0;
	for (ok = seqset_first(&set, &it, &n); ok; ok = seqset_next(&set, &it, &n))
		k++;
	ck_assert_uint_eq(k, 2);

	seqset_clear(&set);
	ck_assert(!seqset_first(&set, &it, &n));
	ck_assert(!seqset_next(&set, &it, &n));
	seqset_free(&set);
}
END_TEST

START_TEST(test_add_range)
{
	struct seqset set = SEQSET_INIT;
	struct buf b = BUF_INIT;

	seqset_add_range(&set, 5, 5);
	seqset_add_range(&set, 6, 8);      /* adjacent: merged */
	seqset_add_range(&set, 10, 10);
	seqset_add_range(&set, 12, 11);    /* either order */
	seqset_add_range(&set, 20, 20);
	seqset_add_range(&set, 1, 2);      /* before everything */
	seqset_add_range(&set, 15, 16);    /* in a gap */
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, "1:2,5:8,10:12,15:16,20");
	buf_reset(&b);
	seqset_add_range(&set, 3, 4);      /* bridges 1:2 and 5:8 */
	seqset_add_range(&set, 9, 19);     /* swallows three ranges */
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, "1:20");
	buf_reset(&b);
	seqset_add_range(&set, 0, 0);      /* ignored */
	seqset_add_range(&set, 4294967295u, 0);
	ck_assert_int_eq(seqset_format(&set, &b), 0);
	ck_assert_str_eq(b.data, "1:4294967295");
	ck_assert_uint_eq(seqset_count(&set), 4294967295ull);
	buf_free(&b);
	seqset_free(&set);
}
END_TEST

/* add_range and resolve against a bitmap, on a small universe */
START_TEST(test_random_against_bitmap)
{
	enum { U = 200 };
	struct seqset added = SEQSET_INIT, parsed = SEQSET_INIT;
	struct buf text = BUF_INIT, b = BUF_INIT;
	bool bits[U + 2];

	srand(12345 + (unsigned)_i);
	memset(bits, 0, sizeof(bits));
	for (int k = 0; k < 30; k++) {
		uint32_t lo = 1 + (uint32_t)(rand() % U);
		uint32_t hi = rand() % 4 ? lo + (uint32_t)(rand() % 8) : 1 + (uint32_t)(rand() % U);
		if (hi > U)
			hi = U;
		for (uint32_t v = lo < hi ? lo : hi; v <= (lo < hi ? hi : lo); v++)
			bits[v] = true;
		seqset_add_range(&added, lo, hi);
		ck_assert_int_eq(buf_printf(&text, k ? ",%u:%u" : "%u:%u",
		    (unsigned)lo, (unsigned)hi), 0);
	}
	ck_assert_int_eq(seqset_parse(text.data, text.len, &parsed, NULL), 0);
	seqset_resolve(&parsed, U);
	uint64_t count = 0;
	for (uint32_t v = 0; v <= U + 1; v++) {
		ck_assert_int_eq(seqset_contains(&added, v), bits[v]);
		ck_assert_int_eq(seqset_contains(&parsed, v), bits[v]);
		count += bits[v];
	}
	ck_assert_uint_eq(seqset_count(&added), count);
	/* both are normal, so they format identically, and reparse identically */
	ck_assert_int_eq(seqset_format(&added, &b), 0);
	buf_reset(&text);
	ck_assert_int_eq(seqset_format(&parsed, &text), 0);
	ck_assert_str_eq(b.data, text.data);
	ck_assert_int_eq(seqset_parse(b.data, b.len, &parsed, NULL), 0);
	seqset_resolve(&parsed, 1);
	buf_reset(&text);
	ck_assert_int_eq(seqset_format(&parsed, &text), 0);
	ck_assert_str_eq(b.data, text.data);
	for (size_t i = 1; i < added.n; i++)
		ck_assert_uint_gt(added.r[i].lo, (uint64_t)added.r[i - 1].hi + 1);
	buf_free(&text);
	buf_free(&b);
	seqset_free(&added);
	seqset_free(&parsed);
}
END_TEST

START_TEST(test_format_limit)
{
	struct seqset set = SEQSET_INIT;
	struct buf b = BUF_INIT;

	b.limit = 8;
	ck_assert_int_eq(seqset_parse("1:3,5,7:9", 9, &set, NULL), 0);
	ck_assert_int_eq(seqset_format(&set, &b), -1);
	ck_assert(b.overflow);
	buf_free(&b);
	seqset_free(&set);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("seqset");
	TCase *tc = tcase_create("seqset");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_valid, 0, sizeof(valid_cases) / sizeof(valid_cases[0]));
	tcase_add_loop_test(tc, test_invalid, 0,
	    sizeof(invalid_cases) / sizeof(invalid_cases[0]));
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_searchres);
	tcase_add_test(tc, test_reuse);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_resolve_star);
	tcase_add_test(tc, test_resolve_empty_mailbox_contains);
	tcase_add_test(tc, test_contains_count);
	tcase_add_test(tc, test_merge_at_top);
	tcase_add_test(tc, test_iterate);
	tcase_add_test(tc, test_add_range);
	tcase_add_loop_test(tc, test_random_against_bitmap, 0, 50);
	tcase_add_test(tc, test_format_limit);
	suite_add_tcase(s, tc);
	return check_run(s);
}
