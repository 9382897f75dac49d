#include "autoconfig.h"

#include <string.h>

#include "sasl.h"

static int
b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int
sasl_base64_decode(const char *in, size_t inlen, unsigned char *out, size_t outcap,
    size_t *outlen)
{
	size_t o = 0;

	if (inlen % 4 != 0)
		return -1;
	for (size_t i = 0; i < inlen; i += 4) {
		int v[4], pad = 0;
		for (int k = 0; k < 4; k++) {
			unsigned char c = (unsigned char)in[i + k];
			if (c == '=' && i + 4 == inlen && k >= 2) {
				v[k] = 0;
				pad++;
				continue;
			}
			/* data after padding, or padding in the wrong place */
			if (pad != 0 || (v[k] = b64_value(c)) < 0)
				return -1;
		}
		unsigned n = (unsigned)v[0] << 18 | (unsigned)v[1] << 12 |
		    (unsigned)v[2] << 6 | (unsigned)v[3];
		size_t bytes = 3 - (size_t)pad;
		if (o + bytes > outcap)
			return -1;
		out[o++] = (unsigned char)(n >> 16);
		if (bytes > 1)
			out[o++] = (unsigned char)(n >> 8);
		if (bytes > 2)
			out[o++] = (unsigned char)n;
	}
	*outlen = o;
	return 0;
}

static int
copy_part(const unsigned char *p, size_t len, char *out, size_t cap)
{
	if (len >= cap)
		return -1;
	memcpy(out, p, len);
	out[len] = '\0';
	return 0;
}

int
sasl_plain_split(const unsigned char *msg, size_t len, char *authzid,
    size_t authzid_cap, char *authcid, size_t authcid_cap, char *passwd,
    size_t passwd_cap)
{
	const unsigned char *nul1 = memchr(msg, '\0', len);
	const unsigned char *nul2, *end = msg + len;

	if (nul1 == NULL)
		return -1;
	nul2 = memchr(nul1 + 1, '\0', (size_t)(end - nul1 - 1));
	if (nul2 == NULL || memchr(nul2 + 1, '\0', (size_t)(end - nul2 - 1)) != NULL)
		return -1;
	if (nul2 == nul1 + 1)
		return -1;  /* empty authcid */
	if (copy_part(msg, (size_t)(nul1 - msg), authzid, authzid_cap) != 0 ||
	    copy_part(nul1 + 1, (size_t)(nul2 - nul1 - 1), authcid, authcid_cap) != 0 ||
	    copy_part(nul2 + 1, (size_t)(end - nul2 - 1), passwd, passwd_cap) != 0)
		return -1;
	return 0;
}
