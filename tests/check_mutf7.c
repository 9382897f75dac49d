/* Unit tests for imapd/mutf7.c: modified UTF-7 both ways, UTF-8 checking. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutf7.h"

/* UTF-8 and its modified UTF-7 form; each is checked both ways. */
static const struct {
	const char *utf8;
	const char *mutf7;
} pairs[] = {
	{ "", "" },
	{ "INBOX", "INBOX" },
	{ "Sent Items", "Sent Items" },
	{ " !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~", " !\"#$%'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~" },
	{ "&", "&-" },
	{ "&&", "&-&-" },
	{ "a&b", "a&-b" },
	{ "-", "-" },
	{ "Entwürfe", "Entw&APw-rfe" },
	{ "Gelöschte Elemente", "Gel&APY-schte Elemente" },
	{ "台北", "&U,BTFw-" },
	{ "~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-" },   /* RFC 3501 */
	{ "😀", "&2D3eAA-" },
	{ "😀😀", "&2D3eANg93gA-" },
	{ "äöü", "&AOQA9gD8-" },
	{ "a😀b€c&d", "a&2D3eAA-b&IKw-c&-d" },
	{ "Ü&ü", "&ANw-&-&APw-" },
	{ "Привет мир", "&BB8EQAQ4BDIENQRC- &BDwEOARA-" },
	{ "x\xf4\x8f\xbf\xbfy", "x&2,,f,w-y" },        /* U+10FFFF */
	{ "\xef\xbf\xbf", "&,,8-" },                   /* U+FFFF */
	{ "\x01", "&AAE-" },                            /* controls are shifted */
	{ "\x7f", "&AH8-" },
	{ "a\tb", "a&AAk-b" },
};

START_TEST(test_decode_pairs)
{
	struct buf b = BUF_INIT;
	const char *in = pairs[_i].mutf7;

	ck_assert_msg(mutf7_decode(in, strlen(in), &b) == 0, "'%s'", in);
	ck_assert_uint_eq(b.len, strlen(pairs[_i].utf8));
	if (b.len > 0)
		ck_assert_str_eq(b.data, pairs[_i].utf8);
	buf_free(&b);
}
END_TEST

START_TEST(test_encode_pairs)
{
	struct buf b = BUF_INIT;
	const char *in = pairs[_i].utf8;

	ck_assert_msg(utf8_valid(in, strlen(in)), "'%s'", in);
	ck_assert_msg(mutf7_encode(in, strlen(in), &b) == 0, "'%s'", in);
	ck_assert_uint_eq(b.len, strlen(pairs[_i].mutf7));
	if (b.len > 0)
		ck_assert_str_eq(b.data, pairs[_i].mutf7);
	buf_free(&b);
}
END_TEST

static const struct {
	const char *in;
	size_t len;     /* 0: strlen */
} bad_mutf7[] = {
	{ "&", 0 },                 /* unterminated */
	{ "a&", 0 },
	{ "&AOQ", 0 },              /* no closing '-' */
	{ "&AOQ-&APY", 0 },
	{ "&AGE-", 0 },             /* 'a' has a direct form */
	{ "&ACA-", 0 },             /* so has ' ' */
	{ "&AH4-", 0 },             /* and '~' */
	{ "&ACY-", 0 },             /* '&' must be "&-" */
	{ "&AAA-", 0 },             /* U+0000 */
	{ "&AOQ-&APY-", 0 },        /* adjacent shifts: must be "&AOQA9g-" */
	{ "&AAA-&AAA-", 0 },
	{ "x&AOQ-&APY-y", 0 },
	{ "&AOR-", 0 },             /* leftover bits not zero */
	{ "&AOQB-", 0 },            /* 8 bits left over */
	{ "&AOQA9g-&-&AOQA-", 0 },
	{ "&A-", 0 },               /* less than one unit */
	{ "&AO-", 0 },
	{ "&2D0-", 0 },             /* lone high surrogate */
	{ "&3gA-", 0 },             /* lone low surrogate */
	{ "&2D0A5A-", 0 },          /* high then not low */
	{ "&3gDYPQ-", 0 },          /* pair reversed */
	{ "&2D3YPd4A-", 0 },        /* high, high, low */
	{ "&AOTYPQ-", 0 },          /* ends on a high surrogate */
	{ "&2D0-&3gA-", 0 },        /* a pair split over two shifts */
	{ "&U/BTFw-", 0 },          /* '/' is not in the alphabet */
	{ "&AOQ=-", 0 },            /* no padding */
	{ "&AOQ==-", 0 },
	{ "&AO Q-", 0 },
	{ "&&-", 0 },
	{ "&-&", 0 },
	{ "Entw\xc3\xbcrfe", 0 },   /* raw 8-bit */
	{ "a\tb", 0 },              /* raw control */
	{ "a\x7f", 0 },
	{ "a\r\n", 0 },
	{ "a\0b", 3 },              /* NUL byte */
};

START_TEST(test_decode_invalid)
{
	struct buf b = BUF_INIT;
	const char *in = bad_mutf7[_i].in;
	size_t len = bad_mutf7[_i].len ? bad_mutf7[_i].len : strlen(in);

	ck_assert_int_eq(buf_append_str(&b, "keep"), 0);
	ck_assert_msg(mutf7_decode(in, len, &b) == -1, "'%s'", in);
	/* nothing appended, and it is not reported as a limit */
	ck_assert_uint_eq(b.len, 4);
	ck_assert_str_eq(b.data, "keep");
	ck_assert(!b.overflow);
	buf_free(&b);
}
END_TEST

static const struct {
	const char *in;
	size_t len;     /* 0: strlen */
	const char *what;
} bad_utf8[] = {
	{ "\x80", 0, "lone continuation byte" },
	{ "a\xbf", 0, "lone continuation byte" },
	{ "\xc0\xaf", 0, "overlong '/' in 2 bytes" },
	{ "\xc1\xbf", 0, "overlong in 2 bytes" },
	{ "\xe0\x80\xaf", 0, "overlong '/' in 3 bytes" },
	{ "\xe0\x9f\xbf", 0, "overlong U+07FF in 3 bytes" },
	{ "\xf0\x80\x80\xaf", 0, "overlong '/' in 4 bytes" },
	{ "\xf0\x8f\xbf\xbf", 0, "overlong U+FFFF in 4 bytes" },
	{ "\xc0\x80", 0, "overlong NUL" },
	{ "\xed\xa0\x80", 0, "surrogate U+D800" },
	{ "\xed\xbf\xbf", 0, "surrogate U+DFFF" },
	{ "\xed\xa0\xbd\xed\xb8\x80", 0, "CESU-8 surrogate pair" },
	{ "\xf4\x90\x80\x80", 0, "U+110000" },
	{ "\xf5\x80\x80\x80", 0, "lead byte F5" },
	{ "\xf8\x88\x80\x80\x80", 0, "5-byte form" },
	{ "\xfe", 0, "byte FE" },
	{ "\xff", 0, "byte FF" },
	{ "\xc2", 0, "truncated 2-byte" },
	{ "\xe2\x82", 0, "truncated 3-byte" },
	{ "a\xe2\x82", 0, "truncated 3-byte at end" },
	{ "\xf0\x9f\x98", 0, "truncated 4-byte" },
	{ "\xe2\x82x", 0, "3-byte cut by ASCII" },
	{ "\xc2\x41", 0, "bad continuation" },
	{ "\xf0\x9f\x98\xc0", 0, "bad last continuation" },
};

START_TEST(test_encode_invalid)
{
	struct buf b = BUF_INIT;
	const char *in = bad_utf8[_i].in;
	size_t len = bad_utf8[_i].len ? bad_utf8[_i].len : strlen(in);

	ck_assert_msg(!utf8_valid(in, len), "%s", bad_utf8[_i].what);
	ck_assert_int_eq(buf_append_str(&b, "keep&AOQ"), 0);
	ck_assert_msg(mutf7_encode(in, len, &b) == -1, "%s", bad_utf8[_i].what);
	ck_assert_uint_eq(b.len, 8);
	ck_assert_str_eq(b.data, "keep&AOQ");
	ck_assert(!b.overflow);
	buf_free(&b);
}
END_TEST

START_TEST(test_encode_after_shift_rollback)
{
	struct buf b = BUF_INIT;

	/* fails half way through a shift: the partial output goes too */
	ck_assert_int_eq(mutf7_encode("\xc3\xa4\xc3\xb6\xff", 5, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_int_eq(mutf7_decode("&AOQA9g-&2D0-", 13, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_nul)
{
	struct buf b = BUF_INIT;

	/* valid UTF-8, but no mailbox name can hold it */
	ck_assert(utf8_valid("a\0b", 3));
	ck_assert_int_eq(mutf7_encode("a\0b", 3, &b), -1);
	ck_assert_uint_eq(b.len, 0);
	buf_free(&b);
}
END_TEST

static const char *good_utf8[] = {
	"\xc2\x80", "\xdf\xbf", "\xe0\xa0\x80", "\xed\x9f\xbf", "\xee\x80\x80",
	"\xef\xbf\xbd", "\xef\xbf\xbf", "\xf0\x90\x80\x80", "\xf4\x8f\xbf\xbf",
	"plain ascii", "\x7f",
};

START_TEST(test_utf8_valid)
{
	ck_assert(utf8_valid("", 0));
	ck_assert(utf8_valid(NULL, 0));
	for (size_t i = 0; i < sizeof(good_utf8) / sizeof(good_utf8[0]); i++)
		ck_assert_msg(utf8_valid(good_utf8[i], strlen(good_utf8[i])), "%zu", i);
	/* len is honoured: a cut sequence is invalid, the rest unseen */
	ck_assert(!utf8_valid("\xe2\x82\xac", 2));
	ck_assert(utf8_valid("ab\xff", 2));
}
END_TEST

static size_t
put_utf8(char *s, uint32_t cp)
{
	if (cp < 0x80) {
		s[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	s[0] = (char)(0xf0 | cp >> 18);
	s[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	s[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	s[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * Every scalar value, in runs of varying length mixed with ASCII so shifts
 * end at every bit offset: encode, decode, compare.
 */
START_TEST(test_roundtrip_all)
{
	struct buf enc = BUF_INIT, dec = BUF_INIT;
	char text[4 * 64 + 8];
	uint32_t cp = 1;
	unsigned run = 1;

	while (cp <= 0x10ffff) {
		size_t n = 0;

		for (unsigned k = 0; k < run && cp <= 0x10ffff; cp++) {
			if (cp >= 0xd800 && cp <= 0xdfff)
				continue;
			n += put_utf8(text + n, cp);
			k++;
		}
		text[n++] = 'x';
		run = run % 61 + 1;
		ck_assert(utf8_valid(text, n));
		buf_reset(&enc);
		buf_reset(&dec);
		ck_assert_msg(mutf7_encode(text, n, &enc) == 0, "U+%04X", (unsigned)cp);
		ck_assert_msg(mutf7_decode(enc.data, enc.len, &dec) == 0, "U+%04X '%s'",
		    (unsigned)cp, enc.data);
		ck_assert_uint_eq(dec.len, n);
		ck_assert(memcmp(dec.data, text, n) == 0);
	}
	buf_free(&enc);
	buf_free(&dec);
}
END_TEST

/*
 * Strictness means one spelling per name: whatever random text decodes
 * must encode back to exactly itself.
 */
START_TEST(test_decode_canonical)
{
	static const char alphabet[] = "&-AOQP9gD8YZ2d3e,+ab";
	struct buf dec = BUF_INIT, enc = BUF_INIT;
	char in[16];
	unsigned hits = 0;

	srand(4242);
	for (int round = 0; round < 100000; round++) {
		size_t len = 1 + (size_t)(rand() % (int)sizeof(in));

		for (size_t i = 0; i < len; i++)
			in[i] = alphabet[rand() % (int)(sizeof(alphabet) - 1)];
		buf_reset(&dec);
		buf_reset(&enc);
		if (mutf7_decode(in, len, &dec) != 0) {
			ck_assert_uint_eq(dec.len, 0);
			continue;
		}
		if (memchr(in, '&', len) != NULL)
			hits++;
		ck_assert(utf8_valid(dec.data, dec.len));
		ck_assert_int_eq(mutf7_encode(dec.data, dec.len, &enc), 0);
		ck_assert_uint_eq(enc.len, len);
		ck_assert(memcmp(enc.data, in, len) == 0);
	}
	ck_assert_uint_gt(hits, 100);
	buf_free(&dec);
	buf_free(&enc);
}
END_TEST

START_TEST(test_limit)
{
	struct buf b = BUF_INIT;

	b.limit = 10;
	ck_assert_int_eq(buf_append_str(&b, "ab"), 0);
	ck_assert_int_eq(mutf7_encode("Entwürfe", strlen("Entwürfe"), &b), -1);
	ck_assert(b.overflow);
	ck_assert_uint_eq(b.len, 2);
	ck_assert_str_eq(b.data, "ab");
	buf_free(&b);

	b.limit = 8;
	ck_assert_int_eq(mutf7_decode("&U,BTFw-", 8, &b), 0);   /* 6 bytes */
	ck_assert_int_eq(mutf7_decode("&U,BTFw-", 8, &b), -1);
	ck_assert(b.overflow);
	ck_assert_uint_eq(b.len, 6);
	ck_assert_str_eq(b.data, "台北");
	buf_free(&b);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mutf7");
	TCase *tc = tcase_create("mutf7");
	size_t npairs = sizeof(pairs) / sizeof(pairs[0]);

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test_decode_pairs, 0, npairs);
	tcase_add_loop_test(tc, test_encode_pairs, 0, npairs);
	tcase_add_loop_test(tc, test_decode_invalid, 0,
	    sizeof(bad_mutf7) / sizeof(bad_mutf7[0]));
	tcase_add_loop_test(tc, test_encode_invalid, 0,
	    sizeof(bad_utf8) / sizeof(bad_utf8[0]));
	tcase_add_test(tc, test_encode_after_shift_rollback);
	tcase_add_test(tc, test_nul);
	tcase_add_test(tc, test_utf8_valid);
	tcase_add_test(tc, test_roundtrip_all);
	tcase_add_test(tc, test_decode_canonical);
	tcase_add_test(tc, test_limit);
	suite_add_tcase(s, tc);
	return check_run(s);
}
