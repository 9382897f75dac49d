/* Unit tests for authd/password.c: hashing, verification, hash formats. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "password.h"

/*
 * Known vectors, made once with other tools and pasted here: $6$ with
 * `openssl passwd -6 -salt saltsalt secret` and python3's crypt module
 * (rounds=1000), bcrypt with python3's crypt.mksalt(METHOD_BLOWFISH,
 * rounds=16) (the same salt under $2y$ and $2a$), yescrypt with
 * crypt_gensalt_rn("$y$") and crypt_rn().
 */
#define SHA512_SECRET "$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0" \
    "aDehy0S5knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1"
#define SHA512_R1000_SECRET "$6$rounds=1000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWU" \
    "pazfmwv2SoepNXNKJ/otop/Zok96Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/"
#define BCRYPT_SECRET "$2b$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv."
#define BCRYPT_EMPTY "$2b$04$5BXlMruDlHtKzEoj/wuEF.v/U.bkYYln8A1tZzWiTabcW3UIpY85u"
#define YESCRYPT_SECRET "$y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI0" \
    "78LZ10a8NSOUhDpWt71"
#define YESCRYPT_EMPTY "$y$j9T$lLLNLE959Uz84h7VDLYrR/$48thQP15qdQl1edqY6B1OMHL" \
    "UqqHLkeG8IPjGLXf6G0"

struct vector {
	const char *hash;
	const char *password;
	bool match;
};

static const struct vector vectors[] = {
	{ SHA512_SECRET, "secret", true },
	{ SHA512_SECRET, "Secret", false },
	{ SHA512_SECRET, "secret ", false },
	{ SHA512_SECRET, "", false },
	{ SHA512_R1000_SECRET, "secret", true },
	{ SHA512_R1000_SECRET, "secreT", false },
	{ BCRYPT_SECRET, "secret", true },
	{ BCRYPT_SECRET, "secre", false },
	{ "$2y$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	    "secret", true },
	{ "$2a$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	    "secret", true },
	{ "$2a$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	    "other", false },
	{ BCRYPT_EMPTY, "", true },
	{ BCRYPT_EMPTY, "secret", false },
	{ YESCRYPT_SECRET, "secret", true },
	{ YESCRYPT_SECRET, "", false },
	{ YESCRYPT_SECRET, "secret\n", false },
	{ YESCRYPT_EMPTY, "", true },
	{ YESCRYPT_EMPTY, "secret", false },
	/* Well formed but the last hash character is altered. */
	{ "$y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt70",
	    "secret", false },
	/* A salt libxcrypt cannot decode: crypt fails, which never matches. */
	{ "$y$j9T$a$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71", "secret", false },
};

#define N_VECTORS (sizeof(vectors) / sizeof(vectors[0]))

START_TEST(test_vectors)
{
	const struct vector *v = &vectors[_i];

	ck_assert_msg(password_hash_supported(v->hash), "vector %d unsupported", _i);
	ck_assert_msg(password_verify(v->password, v->hash) == v->match,
	    "vector %d: %s against \"%s\"", _i, v->hash, v->password);
}
END_TEST

/* Refused by password_hash_supported() and never verified. */
static const char *const unsupported[] = {
	"$1$saltsalt$9xy1btjgzLYfb7hivXtC//",       /* md5crypt: crypt knows it */
	"plain",
	"secret",
	"*",
	"!",
	"!!",
	"",
	"*0",
	"!" SHA512_SECRET,                            /* a locked account */
	"*" BCRYPT_SECRET,
	"$6$",
	"$6$saltsalt",
	"$6$saltsalt$",
	"$6$saltsalt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQ"
	    "SpT0Y77vwPZN.Pq.H91p5hVO",                /* 85 characters */
	SHA512_SECRET "1",                            /* 87 */
	SHA512_SECRET "\n",
	SHA512_SECRET "$",
	" " SHA512_SECRET,
	"$6$$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQSpT0Y77vw"
	    "PZN.Pq.H91p5hVO1",                       /* empty salt */
	"$6$saltsaltsaltsalt1$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5"
	    "knV8wiOQSpT0Y77vwPZN.Pq.H91p5hVO1",      /* 17-character salt */
	"$6$salt:alt$TVLlQcbpFVof5W3Yz4DTP6gRstiNuHwwTt6GLc1E5n0U0aDehy0S5knV8wiOQS"
	    "pT0Y77vwPZN.Pq.H91p5hVO1",
	"$6$rounds=999$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zok9"
	    "6Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/",
	"$6$rounds=01000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zo"
	    "k96Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/",
	"$6$rounds=1000000000$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/ot"
	    "op/Zok96Hr8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/",
	"$6$rounds=$saltsalt$LAV5VE5Y7w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zok96Hr"
	    "8Q13LEv0DRY/x8v0/crpIjl8NJSAqXV/",
	"$2b$04$short",
	"$2b$",
	"$2b$04$",
	"$2b$03$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	"$2b$32$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	"$2b$4$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	"$2x$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	"$2$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv.",
	BCRYPT_SECRET "x",
	"$2b$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv",
	"$2b$04$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qy-.",
	"$y$",
	"$y$j9T$lLLNLE959Uz84h7VDLYrR/$",
	"$y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt7",
	YESCRYPT_SECRET "1",
	"$y$$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71",
	"$y$j9T$$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71",
	"$y$j9T$lLLNLE959Uz84h7VDLYrR/nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71",
	"$y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt7\xc3",
	"$Y$j9T$lLLNLE959Uz84h7VDLYrR/$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71",
	"$7$CU..../....2KnnfBMg9cqUGvBtobbrTD3RRMXfqQ62gFiw1iXd7g2$Sd2ixXWFKpE1fEkb",
	"$5$saltsalt$3Bh7Hb2U8RH0hRrD9gLRKLHaqC8YX5aS0S2czLvbFOA",
	"_J9..CCCCXBrJUJV154M",
	"saltsaltsaltsalt",
};

#define N_UNSUPPORTED (sizeof(unsupported) / sizeof(unsupported[0]))

START_TEST(test_unsupported)
{
	const char *h = unsupported[_i];

	ck_assert_msg(!password_hash_supported(h), "case %d \"%s\" accepted", _i, h);
	ck_assert(!password_verify("secret", h));
	ck_assert(!password_verify("", h));
}
END_TEST

START_TEST(test_supported_edges)
{
	char h[PASSWORD_HASH_MAX + 8];
	size_t len;

	ck_assert(!password_hash_supported(NULL));
	ck_assert(!password_verify("secret", NULL));
	ck_assert(!password_verify(NULL, SHA512_SECRET));
	/* Cost 31 is still bcrypt's (but not verified here: far too slow). */
	ck_assert(password_hash_supported(
	    "$2b$31$5BXlMruDlHtKzEoj/wuEF.km79AMSn./qFhtHNZvO/mVCKKU3qyv."));
	ck_assert(password_hash_supported("$6$rounds=999999999$saltsalt$LAV5VE5Y7"
	    "w1d73x1mFNspYWUpazfmwv2SoepNXNKJ/otop/Zok96Hr8Q13LEv0DRY/x8v0/crpIjl8"
	    "NJSAqXV/"));
	/* A long yescrypt salt: accepted up to PASSWORD_HASH_MAX - 1 in all. */
	strcpy(h, "$y$j9T$");
	len = strlen(h);
	memset(h + len, 'a', PASSWORD_HASH_MAX - 1 - len - 44);
	len = PASSWORD_HASH_MAX - 1 - 44;
	h[len] = '\0';
	strcat(h, "$nGBd6FkNBZ1fHj3imMMw9GI078LZ10a8NSOUhDpWt71");
	ck_assert_uint_eq(strlen(h), PASSWORD_HASH_MAX - 1);
	ck_assert(password_hash_supported(h));
	ck_assert(!password_verify("secret", h));   /* crypt refuses it */
	memmove(h + 8, h + 7, strlen(h + 7) + 1);
	h[7] = 'a';
	ck_assert_uint_eq(strlen(h), PASSWORD_HASH_MAX);
	ck_assert(!password_hash_supported(h));
}
END_TEST

START_TEST(test_hash_and_verify)
{
	char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];

	ck_assert_int_eq(password_hash("correct horse", h1, sizeof(h1)), 0);
	ck_assert_msg(strncmp(h1, "$y$", 3) == 0, "not yescrypt: %s", h1);
	ck_assert(password_hash_supported(h1));
	ck_assert(password_verify("correct horse", h1));
	ck_assert(!password_verify("correct horse ", h1));
	ck_assert(!password_verify("Correct horse", h1));
	ck_assert(!password_verify("", h1));
	/* A fresh salt every time. */
	ck_assert_int_eq(password_hash("correct horse", h2, sizeof(h2)), 0);
	ck_assert_str_ne(h1, h2);
	ck_assert(password_verify("correct horse", h2));
}
END_TEST

START_TEST(test_empty_password)
{
	char h[PASSWORD_HASH_MAX];

	ck_assert_int_eq(password_hash("", h, sizeof(h)), 0);
	ck_assert(password_verify("", h));
	ck_assert(!password_verify(" ", h));
	ck_assert(!password_verify("a", h));
	ck_assert(!password_verify("", YESCRYPT_SECRET));
}
END_TEST

START_TEST(test_long_password)
{
	char *pw = malloc(PASSWORD_MAX + 2);
	char h[PASSWORD_HASH_MAX];

	ck_assert_ptr_nonnull(pw);
	memset(pw, 'p', PASSWORD_MAX + 1);
	pw[PASSWORD_MAX + 1] = '\0';
	errno = 0;
	ck_assert_int_eq(password_hash(pw, h, sizeof(h)), -1);
	ck_assert_int_eq(errno, EINVAL);
	ck_assert_str_eq(h, "");
	/* Exactly PASSWORD_MAX is fine, and one more never verifies. */
	pw[PASSWORD_MAX] = '\0';
	ck_assert_int_eq(password_hash(pw, h, sizeof(h)), 0);
	ck_assert(password_verify(pw, h));
	pw[PASSWORD_MAX] = 'p';
	ck_assert(!password_verify(pw, h));
	free(pw);
}
END_TEST

START_TEST(test_small_output)
{
	char h[16];

	errno = 0;
	ck_assert_int_eq(password_hash("secret", h, sizeof(h)), -1);
	ck_assert_int_eq(errno, ERANGE);
	ck_assert_int_eq(password_hash("secret", h, 0), -1);
	ck_assert_int_eq(password_hash(NULL, h, sizeof(h)), -1);
	ck_assert_int_eq(password_hash("secret", NULL, 64), -1);
}
END_TEST

static void *
dummy_thread(void *arg)
{
	(void)arg;
	return (void *)password_dummy_hash();
}

START_TEST(test_dummy_hash)
{
	pthread_t t[4];
	void *res[4];
	const char *d;
	char copy[PASSWORD_HASH_MAX];

	/* First use from several threads at once: one hash for all. */
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, dummy_thread, NULL), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], &res[i]), 0);
	d = password_dummy_hash();
	for (int i = 0; i < 4; i++)
		ck_assert_ptr_eq(res[i], d);
	ck_assert(strncmp(d, "$y$", 3) == 0);
	ck_assert(password_hash_supported(d));
	snprintf(copy, sizeof(copy), "%s", d);
	ck_assert_str_eq(password_dummy_hash(), copy);
	ck_assert(!password_verify("secret", d));
	ck_assert(!password_verify("", d));
	ck_assert_str_eq(password_dummy_hash(), copy);
}
END_TEST

START_TEST(test_equal)
{
	ck_assert(password_equal("abc", "abc", 3));
	ck_assert(!password_equal("abc", "abd", 3));
	ck_assert(!password_equal("xbc", "abc", 3));
	ck_assert(!password_equal("a\0c", "a\0d", 3));
	ck_assert(password_equal("a\0c", "a\0c", 3));
	ck_assert(password_equal("abc", "abd", 2));
	ck_assert(password_equal("x", "y", 0));
	ck_assert(!password_equal("\x80", "\x00", 1));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("password");
	TCase *tc = tcase_create("password");

	/* yescrypt under the sanitizers, and the PASSWORD_MAX hash, take time. */
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, test_vectors, 0, (int)N_VECTORS);
	tcase_add_loop_test(tc, test_unsupported, 0, (int)N_UNSUPPORTED);
	tcase_add_test(tc, test_supported_edges);
	tcase_add_test(tc, test_hash_and_verify);
	tcase_add_test(tc, test_empty_password);
	tcase_add_test(tc, test_long_password);
	tcase_add_test(tc, test_small_output);
	tcase_add_test(tc, test_dummy_hash);
	tcase_add_test(tc, test_equal);
	suite_add_tcase(s, tc);
	return check_run(s);
}
