/*
 * User names: what cairnctl accepts, what authd answers with, and what the
 * master turns into a directory name under <data-dir>/mail/.  One rule, so
 * no name can ever escape the spool.
 */
#ifndef CAIRN_USERNAME_H
#define CAIRN_USERNAME_H

#include <stdbool.h>
#include <stddef.h>

#define USERNAME_MAX 128   /* bytes, excluding the NUL */

/*
 * Valid: 1..USERNAME_MAX bytes of [a-z0-9._+-], optionally one '@' followed
 * by a domain of [a-z0-9.-] (non-empty, not starting with '.' or '-'); ASCII
 * lower case only; does not start with '.', '-' or '@'; no "..", no '/', no
 * NUL (len counts the bytes given, so an embedded NUL is caught), not "." or
 * "..".  why (may be NULL) says what is wrong in a few words.
 */
bool username_valid(const char *name, size_t len, const char **why);

/* Lower-case name into out (size outlen); false if the result is invalid. */
bool username_canonical(const char *name, size_t len, char *out, size_t outlen);

#endif
