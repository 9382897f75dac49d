/*
 * Password hashes, through crypt(3) (libxcrypt).  New hashes are yescrypt
 * ($y$); SHA-512-crypt ($6$) and bcrypt ($2b$, $2y$, $2a$) imported from
 * other systems verify too.  Nothing here keeps a password after returning.
 */
#ifndef CAIRN_PASSWORD_H
#define CAIRN_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

/* bytes; longer is refused, never truncated (libxcrypt takes at most 511) */
#define PASSWORD_MAX 511
#define PASSWORD_HASH_MAX 512   /* a crypt(3) string, NUL included */

/* Hash a new password with yescrypt and a fresh salt; 0, or -1 (errno). */
int password_hash(const char *password, char *out, size_t outlen);

/*
 * Does password match hash?  Compares the whole crypt output in constant
 * time.  A hash of an unsupported scheme, or "*"/"!" locks, never match.
 */
bool password_verify(const char *password, const char *hash);

/* Is this a hash we can verify ($y$, $6$, $2b$/$2y$/$2a$) and well formed? */
bool password_hash_supported(const char *hash);

/*
 * A fixed yescrypt hash of a random password, made once per process, to
 * verify against when the user does not exist: an unknown user costs the
 * same time as a wrong password.
 */
const char *password_dummy_hash(void);

/* Constant-time equality of two byte strings of the same length. */
bool password_equal(const void *a, const void *b, size_t len);

#endif
