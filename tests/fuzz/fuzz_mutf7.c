/*
 * libFuzzer harness: mailbox name encodings (imapd/mutf7.c).
 *
 * Both directions, with the round trips the strictness promises (mutf7.h:
 * every mailbox has exactly one modified UTF-7 spelling):
 *  - the input as modified UTF-7: if it decodes, the UTF-8 is valid and
 *    encodes back to exactly the input;
 *  - the input as UTF-8: if it is valid and holds no NUL, it encodes, and
 *    the result decodes back to exactly the input.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mutf7.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf a = BUF_INIT, b = BUF_INIT;

	if (mutf7_decode(in, size, &a) == 0) {
		if (!utf8_valid(a.data != NULL ? a.data : "", a.len))
			abort();
		if (mutf7_encode(a.data != NULL ? a.data : "", a.len, &b) != 0 ||
		    b.len != size || (size > 0 && memcmp(b.data, in, size) != 0))
			abort();
	}
	buf_free(&a);
	buf_free(&b);

	if (utf8_valid(in, size) && memchr(in, '\0', size) == NULL) {
		if (mutf7_encode(in, size, &a) != 0)
			abort();
		if (mutf7_decode(a.data != NULL ? a.data : "", a.len, &b) != 0 ||
		    b.len != size || (size > 0 && memcmp(b.data, in, size) != 0))
			abort();
	}
	buf_free(&a);
	buf_free(&b);
	return 0;
}
