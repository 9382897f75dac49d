/* Unit tests for imapd/sasl.c: strict base64 and the PLAIN message. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <string.h>

#include "sasl.h"

static const struct {
	const char *in;
	int ok;
	const char *out;
	size_t outlen;
} b64_cases[] = {
	{ "", 1, "", 0 },
	{ "Zg==", 1, "f", 1 },
	{ "Zm8=", 1, "fo", 2 },
	{ "Zm9v", 1, "foo", 3 },
	{ "Zm9vYg==", 1, "foob", 4 },
	{ "Zm9vYmE=", 1, "fooba", 5 },
	{ "Zm9vYmFy", 1, "foobar", 6 },
	{ "AGFsaWNlAHNlY3JldA==", 1, "\0alice\0secret", 13 },
	{ "+/+/", 1, "\xfb\xff\xbf", 3 },
	{ "Zg=", 0, NULL, 0 },        /* not a multiple of 4 */
	{ "Zg", 0, NULL, 0 },
	{ "Z===", 0, NULL, 0 },       /* padding too early */
	{ "Zg==Zg==", 0, NULL, 0 },   /* data after padding */
	{ "Zm 9", 0, NULL, 0 },       /* white space */
	{ "Zm9v\r\n", 0, NULL, 0 },
	{ "Zm-_", 0, NULL, 0 },       /* URL alphabet is not ours */
	{ "=Zm9", 0, NULL, 0 },
};

START_TEST(test_base64)
{
	unsigned char out[64];
	size_t len = 99;
	int rc = sasl_base64_decode(b64_cases[_i].in, strlen(b64_cases[_i].in), out,
	    sizeof(out), &len);

	ck_assert_msg((rc == 0) == b64_cases[_i].ok, "'%s'", b64_cases[_i].in);
	if (b64_cases[_i].ok) {
		ck_assert_uint_eq(len, b64_cases[_i].outlen);
		ck_assert_mem_eq(out, b64_cases[_i].out, len);
	}
}
END_TEST

START_TEST(test_base64_output_bound)
{
	unsigned char out[5];
	size_t len;

	ck_assert_int_eq(sasl_base64_decode("Zm9vYmE=", 8, out, 5, &len), 0);
	ck_assert_int_eq(sasl_base64_decode("Zm9vYmFy", 8, out, 5, &len), -1);
	ck_assert_int_eq(sasl_base64_decode("Zm9v", 4, out, 2, &len), -1);
}
END_TEST

static const struct {
	const char *msg;
	size_t len;
	int ok;
	const char *authzid, *authcid, *passwd;
} plain_cases[] = {
	{ "\0alice\0secret", 13, 1, "", "alice", "secret" },
	{ "alice\0alice\0pw", 14, 1, "alice", "alice", "pw" },
	{ "\0alice\0", 7, 1, "", "alice", "" },
	{ "\0\0secret", 8, 0, NULL, NULL, NULL },        /* empty authcid */
	{ "alice\0secret", 12, 0, NULL, NULL, NULL },    /* one NUL */
	{ "\0a\0b\0c", 6, 0, NULL, NULL, NULL },         /* three NULs */
	{ "", 0, 0, NULL, NULL, NULL },
	{ "\0aaaaaaaaaaaaaaaaaaaa\0x", 23, 0, NULL, NULL, NULL }, /* authcid too long */
};

START_TEST(test_plain)
{
	char z[16], c[16], p[16];
	int rc = sasl_plain_split((const unsigned char *)plain_cases[_i].msg,
	    plain_cases[_i].len, z, sizeof(z), c, sizeof(c), p, sizeof(p));

	ck_assert_int_eq(rc == 0, plain_cases[_i].ok);
	if (plain_cases[_i].ok) {
		ck_assert_str_eq(z, plain_cases[_i].authzid);
		ck_assert_str_eq(c, plain_cases[_i].authcid);
		ck_assert_str_eq(p, plain_cases[_i].passwd);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("sasl");
	TCase *tc = tcase_create("sasl");

	tcase_add_loop_test(tc, test_base64, 0, sizeof(b64_cases) / sizeof(b64_cases[0]));
	tcase_add_test(tc, test_base64_output_bound);
	tcase_add_loop_test(tc, test_plain, 0, sizeof(plain_cases) / sizeof(plain_cases[0]));
	suite_add_tcase(s, tc);
	return check_run(s);
}
