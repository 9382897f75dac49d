/* SASL pieces that need no I/O: base64 (RFC 4648) and PLAIN (RFC 4616). */
#ifndef CAIRN_SASL_H
#define CAIRN_SASL_H

#include <stddef.h>

/*
 * Strict base64: the standard alphabet, '=' padding only at the end, no
 * white space.  Returns 0 and *outlen, or -1 for bad input or when the
 * result would not fit in outcap bytes.
 */
int sasl_base64_decode(const char *in, size_t inlen, unsigned char *out,
    size_t outcap, size_t *outlen);

/*
 * [authzid] NUL authcid NUL passwd: split into NUL-terminated buffers.
 * -1 when malformed (wrong number of NULs, empty authcid, a part too long).
 */
int sasl_plain_split(const unsigned char *msg, size_t len, char *authzid,
    size_t authzid_cap, char *authcid, size_t authcid_cap, char *passwd,
    size_t passwd_cap);

#endif
