/* Unit tests for the formats of cairnctl import and export: Maildir++
 * names, flags and files (ctl/maildir.c), the mbox reader (ctl/mbox.c),
 * the progress line (ctl/progress.c) and the CRLF conversion (ctl/crlf.h). */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crlf.h"
#include "maildir.h"
#include "mbox.h"
#include "progress.h"
#include "store.h"

START_TEST(info_flags)
{
	unsigned flags;
	uint32_t kw;

	ck_assert(maildir_info_flags("1795474173.M136038P5921.vm,S=118,W=125:2,FSab",
	    &flags, &kw));
	ck_assert_uint_eq(flags, STORE_FLAG_FLAGGED | STORE_FLAG_SEEN);
	ck_assert_uint_eq(kw, 3);
	ck_assert(maildir_info_flags("x:2,DRTz", &flags, &kw));
	ck_assert_uint_eq(flags, STORE_FLAG_DRAFT | STORE_FLAG_ANSWERED |
	    STORE_FLAG_DELETED);
	ck_assert_uint_eq(kw, 1u << 25);
	ck_assert(maildir_info_flags("1795474173.M1P2.host", &flags, &kw));
	ck_assert_uint_eq(flags, 0);
	ck_assert(maildir_info_flags("x:2,", &flags, &kw));
	ck_assert_uint_eq(flags, 0);
	ck_assert(maildir_info_flags("x:2,P", &flags, &kw));   /* passed */
	ck_assert_uint_eq(flags, 0);
	ck_assert(!maildir_info_flags("x:1,something", &flags, &kw));
	ck_assert_uint_eq(maildir_base_len("abc:2,S"), 3);
	ck_assert_uint_eq(maildir_base_len("abc"), 3);
}
END_TEST

START_TEST(info_string)
{
	char s[64];

	maildir_info_string(STORE_FLAG_SEEN | STORE_FLAG_DRAFT |
	    STORE_FLAG_FLAGGED | STORE_FLAG_ANSWERED | STORE_FLAG_DELETED,
	    (1u << 0) | (1u << 2), s, sizeof(s));
	ck_assert_str_eq(s, "2,DFRSTac");
	maildir_info_string(0, 0, s, sizeof(s));
	ck_assert_str_eq(s, "2,");
}
END_TEST

START_TEST(keywords)
{
	struct maildir_keywords k;

	memset(&k, 0, sizeof(k));
	ck_assert(maildir_keywords_line(&k, "0 $Forwarded"));
	ck_assert(maildir_keywords_line(&k, "25 last"));
	ck_assert(!maildir_keywords_line(&k, "26 toomany"));
	ck_assert(!maildir_keywords_line(&k, "1 bad\\word"));
	ck_assert(!maildir_keywords_line(&k, "x name"));
	ck_assert(!maildir_keywords_line(&k, "2"));
	ck_assert_str_eq(k.name[0], "$Forwarded");
	ck_assert_str_eq(k.name[25], "last");
	ck_assert_ptr_null(k.name[1]);
	maildir_keywords_free(&k);
}
END_TEST

START_TEST(folder_names)
{
	struct buf b = BUF_INIT;

	ck_assert(maildir_folder_name(".Folder.Sub", &b));
	ck_assert_str_eq(b.data, "Folder/Sub");
	buf_reset(&b);
	ck_assert(maildir_folder_name(".Caf&AOk-", &b));
	ck_assert_str_eq(b.data, "Caf\xc3\xa9");
	buf_reset(&b);
	ck_assert(!maildir_folder_name(".", &b));
	ck_assert(!maildir_folder_name("..", &b));
	ck_assert(!maildir_folder_name("cur", &b));
	ck_assert(!maildir_folder_name(".a..b", &b));
	ck_assert(!maildir_folder_name(".bad&-shift&", &b));
	ck_assert(!maildir_folder_name(".a/b", &b));
	ck_assert_uint_eq(b.len, 0);
	ck_assert(maildir_folder_dir("Work/Caf\xc3\xa9", &b));
	ck_assert_str_eq(b.data, ".Work.Caf&AOk-");
	buf_reset(&b);
	ck_assert(!maildir_folder_dir("a.b/c", &b));
	ck_assert_uint_eq(b.len, 0);
	ck_assert(maildir_subscription_line("Caf&AOk-\tSub", true, &b));
	ck_assert_str_eq(b.data, "Caf\xc3\xa9/Sub");
	buf_reset(&b);
	ck_assert(maildir_subscription_line("Folder.Sub", false, &b));
	ck_assert_str_eq(b.data, "Folder/Sub");
	buf_reset(&b);
	ck_assert(!maildir_subscription_line("V\t2", true, &b));
	ck_assert(!maildir_subscription_line("", true, &b));
	buf_free(&b);
}
END_TEST

START_TEST(uidlist_and_times)
{
	const char *base;
	uint32_t uid;
	int64_t secs;
	long usecs;

	ck_assert(maildir_uidlist_line("1 :1795474173.M136038P5921.vm,S=118,W=125",
	    &uid, &base));
	ck_assert_uint_eq(uid, 1);
	ck_assert_str_eq(base, "1795474173.M136038P5921.vm,S=118,W=125");
	ck_assert(maildir_uidlist_line("42 W1234 G00ab :name", &uid, &base));
	ck_assert_uint_eq(uid, 42);
	ck_assert_str_eq(base, "name");
	ck_assert(!maildir_uidlist_line("3 V1795474173 N1 Gacf9", &uid, &base));
	ck_assert(!maildir_uidlist_line("0 :x", &uid, &base));
	ck_assert(!maildir_uidlist_line("99999999999 :x", &uid, &base));
	ck_assert(!maildir_uidlist_line("7 :", &uid, &base));
	ck_assert(maildir_name_time("1795474173.M136038P5921.vm,S=1:2,S", &secs,
	    &usecs));
	ck_assert_int_eq(secs, 1795474173);
	ck_assert_int_eq(usecs, 136038);
	ck_assert(maildir_name_time("1000.123_4.host", &secs, &usecs));
	ck_assert_int_eq(secs, 1000);
	ck_assert_int_eq(usecs, 0);
	ck_assert(!maildir_name_time("host.1000", &secs, &usecs));
}
END_TEST

/* The messages of an mbox text: their bytes joined by "|", flags. */
static void
split(const char *text, size_t len, char *out, size_t outlen, unsigned *flags,
    size_t *n)
{
	struct mbox_reader *r = malloc(sizeof(*r));
	FILE *f = fmemopen((void *)text, len, "r");
	int64_t t;
	int tz;
	size_t o = 0;

	*n = 0;
	ck_assert_ptr_nonnull(r);
	ck_assert_ptr_nonnull(f);
	ck_assert(mbox_open(r, f));
	while (mbox_next(r, &t, &tz)) {
		const char *const *kw;
		const char *data;
		size_t got, nk;

		if (*n > 0 && o + 1 < outlen)
			out[o++] = '|';
		while ((got = mbox_read(r, &data)) > 0) {
			ck_assert(o + got < outlen);
			memcpy(out + o, data, got);
			o += got;
		}
		mbox_state(r, &flags[*n], &kw, &nk);
		(*n)++;
	}
	out[o] = '\0';
	ck_assert(!r->error);
	fclose(f);
	free(r);
}

START_TEST(mbox_split)
{
	static const char text[] =
	    "From a@b Tue Nov 24 10:00:00 2026\n"
	    "Subject: one\nStatus: RO\nX-Status: AF\n X-folded: status\n"
	    "X-UID: 7\n\n"
	    "body\n>From escaped\n>>From twice\n>Fromage\nFrom no date\n\n"
	    "From b@c Wed Nov 25 11:30:15 2026\n"
	    "Subject: two\n\n\n\nend\n\n"
	    "From c@d Thu Nov 26 12:00:00 2026\n"
	    "Subject: three\n\nno newline";
	char out[1024];
	unsigned flags[8];
	size_t n;

	split(text, sizeof(text) - 1, out, sizeof(out), flags, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(out,
	    "Subject: one\n\nbody\nFrom escaped\n>From twice\n>Fromage\n"
	    "From no date\n"
	    "|Subject: two\n\n\n\nend\n"
	    "|Subject: three\n\nno newline");
	ck_assert_uint_eq(flags[0], STORE_FLAG_SEEN | STORE_FLAG_ANSWERED |
	    STORE_FLAG_FLAGGED);
	ck_assert_uint_eq(flags[1], 0);
	ck_assert_uint_eq(flags[2], 0);
}
END_TEST

START_TEST(mbox_crlf_and_long_lines)
{
	/* CRLF files, and a line longer than a piece (not a separator) */
	size_t big = MBOX_PIECE_MAX * 2 + 17, len;
	char *text = malloc(big + 200), *out = malloc(big + 200);
	unsigned flags[4];
	size_t n;

	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(out);
	len = (size_t)sprintf(text, "From x Mon Nov 23 01:02:03 2026\r\n"
	    "Subject: s\r\n\r\n");
	memset(text + len, 'a', big);
	len += big;
	memcpy(text + len, "\r\n\r\nFrom y Mon Nov 23 01:02:03 2026\r\nX\r\n",
	    40);
	len += 40;
	split(text, len, out, big + 200, flags, &n);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(strlen(out), strlen("Subject: s\r\n\r\n") + big + 2 +
	    strlen("|X\r\n"));
	free(text);
	free(out);
}
END_TEST

START_TEST(mbox_from_lines)
{
	int64_t t;
	int tz;
	struct mbox_reader *r = malloc(sizeof(*r));
	FILE *f;

	ck_assert(mbox_from_time("From a Tue Nov 24 10:00:00 2026\n", 32, &t, &tz));
	ck_assert_int_eq(t, 1795514400);
	ck_assert_int_eq(tz, 0);
	ck_assert(mbox_from_time("From a Tue Nov  4 10:00 2026 +0130", 34, &t, &tz));
	ck_assert_int_eq(tz, 90);
	ck_assert(mbox_from_time("From MAILER-DAEMON Thu Jan  1 00:00:00 1970", 43,
	    &t, &tz));
	ck_assert_int_eq(t, 0);
	ck_assert(mbox_from_time("From  Tue Nov 24 10:00:00 2026", 30, &t, &tz));
	ck_assert_int_eq(t, 1795514400);
	ck_assert(!mbox_from_time("From here on, text", 18, &t, &tz));
	ck_assert(!mbox_from_time("From a Tue Nov 24 25:00:00 2026", 31, &t, &tz));
	ck_assert(!mbox_from_time("Subject: x", 10, &t, &tz));
	ck_assert_uint_eq(mbox_unescape(">From x", 7), 1);
	ck_assert_uint_eq(mbox_unescape(">>>From x", 9), 1);
	ck_assert_uint_eq(mbox_unescape(">Fromage", 8), 0);
	ck_assert_uint_eq(mbox_unescape("From x", 6), 0);
	/* not an mbox */
	f = fmemopen((void *)"Subject: x\n\nhi\n", 15, "r");
	ck_assert(!mbox_open(r, f));
	fclose(f);
	free(r);
}
END_TEST

START_TEST(progress_lines)
{
	char s[256];

	progress_duration(s, sizeof(s), 0);
	ck_assert_str_eq(s, "0:00");
	progress_duration(s, sizeof(s), 3723);
	ck_assert_str_eq(s, "1:02:03");
	progress_duration(s, sizeof(s), -1);
	ck_assert_str_eq(s, "?");
	progress_format(s, sizeof(s), false, 50, 100, 5 * 1048576,
	    10 * 1048576, 10);
	ck_assert_str_eq(s, "50/100 messages, 5.0/10.0 MB, 5 msg/s, ETA 0:10");
	progress_format(s, sizeof(s), true, 25, 100, 0, 0, 5);
	ck_assert_str_eq(s, "[######..................] 25/100 messages, "
	    "0.0 MB, 5 msg/s, ETA 0:15");
	progress_format(s, sizeof(s), true, 7, 0, 0, 0, 0);
	ck_assert_str_eq(s, "7 messages, 0.0 MB, 0 msg/s, ETA ?");
	progress_format(s, 10, true, 7, 0, 0, 0, 0);      /* truncated */
	ck_assert_uint_eq(strlen(s), 9);
}
END_TEST

START_TEST(crlf)
{
	struct crlf c = { false };
	char out[64];
	size_t n;

	n = crlf_convert(&c, "a\nb\r\nc\r", 7, out);
	ck_assert_uint_eq(n, 8);
	ck_assert(memcmp(out, "a\r\nb\r\nc\r", 8) == 0);
	/* the CR of a CRLF at the end of the last chunk */
	n = crlf_convert(&c, "\nd", 2, out);
	ck_assert_uint_eq(n, 2);
	ck_assert(memcmp(out, "\nd", 2) == 0);
}
END_TEST

static Suite *
migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("formats");

	tcase_add_test(tc, info_flags);
	tcase_add_test(tc, info_string);
	tcase_add_test(tc, keywords);
	tcase_add_test(tc, folder_names);
	tcase_add_test(tc, uidlist_and_times);
	tcase_add_test(tc, mbox_split);
	tcase_add_test(tc, mbox_crlf_and_long_lines);
	tcase_add_test(tc, mbox_from_lines);
	tcase_add_test(tc, progress_lines);
	tcase_add_test(tc, crlf);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	return check_run(migrate_suite());
}
