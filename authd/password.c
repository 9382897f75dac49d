/*
 * Password hashing and verification through crypt(3) from libxcrypt.
 *
 * crypt_rn() is given a heap-allocated struct crypt_data (about 32 KiB: too
 * big for a worker thread's stack) that is wiped before it is freed, since
 * hashing leaves intermediate state derived from the password in it.
 */
#include "autoconfig.h"

#include <crypt.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "log.h"
#include "password.h"
#include "xmalloc.h"

#define YESCRYPT_HASH_LEN 43    /* 256 bits in crypt base-64 */
#define SHA512_HASH_LEN 86      /* 512 bits in crypt base-64 */
#define SHA512_SALT_MAX 16
#define SHA512_ROUNDS_MIN 1000  /* libxcrypt refuses fewer */
#define SHA512_ROUNDS_MAX 999999999UL
#define BCRYPT_BODY_LEN 53      /* 22 of salt, 31 of hash */

_Static_assert(PASSWORD_MAX < CRYPT_MAX_PASSPHRASE_SIZE,
    "crypt(3) must take every password we accept");

static char dummy_hash[PASSWORD_HASH_MAX];
static pthread_once_t dummy_once = PTHREAD_ONCE_INIT;

/* The crypt(3) base-64 alphabet: ./0-9A-Za-z. */
static bool
is_b64(char c)
{
	return c == '.' || c == '/' || (c >= '0' && c <= '9') ||
	    (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* Length of the run of alphabet characters at the start of s. */
static size_t
b64_span(const char *s)
{
	size_t n = 0;

	while (is_b64(s[n]))
		n++;
	return n;
}

/* $y$<params>$<salt>$<hash> */
static bool
yescrypt_valid(const char *s)
{
	size_t n;

	n = b64_span(s);
	if (n == 0 || s[n] != '$')
		return false;
	s += n + 1;
	n = b64_span(s);
	if (n == 0 || s[n] != '$')
		return false;
	s += n + 1;
	return b64_span(s) == YESCRYPT_HASH_LEN && s[YESCRYPT_HASH_LEN] == '\0';
}

/* Optional "rounds=N$", N without leading zeros in libxcrypt's range. */
static bool
sha512_rounds(const char **sp)
{
	const char *s = *sp;
	unsigned long n = 0;
	size_t digits = 0;

	if (strncmp(s, "rounds=", 7) != 0)
		return true;
	s += 7;
	if (*s < '1' || *s > '9')
		return false;
	while (*s >= '0' && *s <= '9') {
		if (++digits > 9)
			return false;
		n = n * 10 + (unsigned long)(*s - '0');
		s++;
	}
	if (*s != '$' || n < SHA512_ROUNDS_MIN || n > SHA512_ROUNDS_MAX)
		return false;
	*sp = s + 1;
	return true;
}

/* $6$[rounds=N$]<salt>$<hash> */
static bool
sha512_valid(const char *s)
{
	size_t n;

	if (!sha512_rounds(&s))
		return false;
	n = b64_span(s);
	if (n == 0 || n > SHA512_SALT_MAX || s[n] != '$')
		return false;
	s += n + 1;
	return b64_span(s) == SHA512_HASH_LEN && s[SHA512_HASH_LEN] == '\0';
}

/* $2b$NN$<53 characters>, cost NN from 04 to 31. */
static bool
bcrypt_valid(const char *s)
{
	int cost;

	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' || s[2] != '$')
		return false;
	cost = (s[0] - '0') * 10 + (s[1] - '0');
	if (cost < 4 || cost > 31)
		return false;
	s += 3;
	return b64_span(s) == BCRYPT_BODY_LEN && s[BCRYPT_BODY_LEN] == '\0';
}

bool
password_hash_supported(const char *hash)
{
	if (hash == NULL || strnlen(hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
		return false;
	if (strncmp(hash, "$y$", 3) == 0)
		return yescrypt_valid(hash + 3);
	if (strncmp(hash, "$6$", 3) == 0)
		return sha512_valid(hash + 3);
	if (strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0 ||
	    strncmp(hash, "$2a$", 4) == 0)
		return bcrypt_valid(hash + 4);
	return false;
}

bool
password_equal(const void *a, const void *b, size_t len)
{
	const volatile unsigned char *pa = a, *pb = b;
	volatile unsigned char acc = 0;

	for (size_t i = 0; i < len; i++)
		acc |= pa[i] ^ pb[i];
	return acc == 0;
}

/*
 * crypt_rn() into a fresh heap buffer; the caller must wipe and free it.
 * NULL result (with errno) on failure: crypt_rn() never returns the "*0"
 * failure token, but a '*' result is treated as failure all the same.
 */
static const char *
run_crypt(const char *password, const char *setting, struct crypt_data **datap)
{
	struct crypt_data *data = xcalloc(1, sizeof(*data));
	const char *r;

	*datap = data;
	errno = 0;
	r = crypt_rn(password, setting, data, (int)sizeof(*data));
	if (r == NULL || r[0] == '*') {
		if (errno == 0)
			errno = EINVAL;
		return NULL;
	}
	return r;
}

static void
free_crypt(struct crypt_data *data)
{
	if (data == NULL)
		return;
	explicit_bzero(data, sizeof(*data));
	free(data);
}

int
password_hash(const char *password, char *out, size_t outlen)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *data;
	const char *r;
	size_t len;
	int saved;

	if (password == NULL || out == NULL || outlen == 0) {
		errno = EINVAL;
		return -1;
	}
	out[0] = '\0';
	/* Refused, never truncated: a truncated password is a different one. */
	if (strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX) {
		errno = EINVAL;
		return -1;
	}
	/* NULL random bytes: libxcrypt reads the salt from the OS itself. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, setting, sizeof(setting)) == NULL)
		return -1;
	r = run_crypt(password, setting, &data);
	if (r == NULL) {
		saved = errno;
		free_crypt(data);
		errno = saved;
		return -1;
	}
	len = strlen(r);
	/* Our own output must pass our own check, or nothing could verify it. */
	if (len >= outlen || !password_hash_supported(r)) {
		free_crypt(data);
		errno = len >= outlen ? ERANGE : EINVAL;
		return -1;
	}
	memcpy(out, r, len + 1);
	free_crypt(data);
	return 0;
}

bool
password_verify(const char *password, const char *hash)
{
	struct crypt_data *data;
	const char *r;
	bool ok = false;

	if (password == NULL || !password_hash_supported(hash))
		return false;
	if (strnlen(password, PASSWORD_MAX + 1) > PASSWORD_MAX)
		return false;
	r = run_crypt(password, hash, &data);
	/*
	 * The lengths are not secret (the scheme fixes them); the content is
	 * compared in full, whatever the first difference.
	 */
	if (r != NULL && strlen(r) == strlen(hash))
		ok = password_equal(r, hash, strlen(hash));
	free_crypt(data);
	return ok;
}

static void
dummy_init(void)
{
	unsigned char rnd[32];
	char password[2 * sizeof(rnd) + 1];
	static const char hex[] = "0123456789abcdef";
	size_t got = 0;
	ssize_t n;

	while (got < sizeof(rnd)) {
		n = getrandom(rnd + got, sizeof(rnd) - got, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fatal("getrandom");
		got += (size_t)n;
	}
	/* Hex, so the password has no NUL and the same length every time. */
	for (size_t i = 0; i < sizeof(rnd); i++) {
		password[2 * i] = hex[rnd[i] >> 4];
		password[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	password[2 * sizeof(rnd)] = '\0';
	/* Without it unknown users could be told from known ones by timing. */
	if (password_hash(password, dummy_hash, sizeof(dummy_hash)) != 0)
		fatal("cannot make the dummy password hash");
	explicit_bzero(rnd, sizeof(rnd));
	explicit_bzero(password, sizeof(password));
}

const char *
password_dummy_hash(void)
{
	if (pthread_once(&dummy_once, dummy_init) != 0)
		fatalx("pthread_once failed for the dummy password hash");
	return dummy_hash;
}
