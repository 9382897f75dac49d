/*
 * libFuzzer harness: the MIME parser and what FETCH and SEARCH build on it
 * (store/mime*.c).
 *
 * The input is a message as APPEND or LMTP would store it.  It is parsed
 * (mime_parse), and then every reader the server runs on a stored message
 * runs on it: BODY and BODYSTRUCTURE (both forms), ENVELOPE of the root
 * and of each encapsulated message, the header readers, HEADER.FIELDS
 * (and .NOT), the decoded body of each part, RFC 2047 words, PREVIEW, the
 * text SEARCH reads, the section numbers FETCH resolves, the first
 * address and the msg-ids SORT and THREAD read.  Outputs are bounded, as
 * the callers bound them.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"

#define FUZZ_MIME_OUT_LIMIT (1024 * 1024)
/* Parts looked at one by one (the parser allows MIME_MAX_PARTS). */
#define FUZZ_MIME_MAX_VISIT 200

static void
fuzz_mime_buf(struct buf *b)
{
	buf_reset(b);
	b->overflow = false;
	b->limit = FUZZ_MIME_OUT_LIMIT;
}

static void
fuzz_mime_part(const char *data, size_t len, const struct mime_part *part,
    struct buf *out)
{
	static const char *const names[] = { "From", "Subject", "Content-Type", "X-Nope" };
	const char *value;
	size_t vlen;

	if (part->header_start > part->body_start || part->body_start > part->body_end ||
	    part->body_end > len)
		abort();
	fuzz_mime_buf(out);
	(void)mime_body_decode(data, len, part, out);
	fuzz_mime_buf(out);
	(void)mime_header_raw(data, len, part, "subject", out);
	if (mime_header_span(data, len, part, "References", &value, &vlen) == 0) {
		const char *p = value;
		struct buf id = BUF_INIT;
		for (unsigned i = 0; i < 100 && mime_msgid_next(&p, value + vlen, &id); i++)
			buf_reset(&id);
		buf_free(&id);
	}
	fuzz_mime_buf(out);
	(void)mime_header_fields(data, len, part, names, 4, false, out);
	fuzz_mime_buf(out);
	(void)mime_header_fields(data, len, part, names, 2, true, out);
	(void)mime_param(part, "charset");
	(void)mime_charset(part);
	if (part->kind == MIME_KIND_MESSAGE && part->children != NULL) {
		fuzz_mime_buf(out);
		(void)mime_envelope(data, len, part->children, out);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *msg = (const char *)data;
	struct mime_part *root = mime_parse(msg, size);
	struct buf out = BUF_INIT;
	struct mime_address addr = MIME_ADDRESS_INIT;
	const struct mime_part *part, *stack[MIME_MAX_DEPTH + 2];
	unsigned visited = 0;

	if (root == NULL)
		return 0;
	for (unsigned flags = 0; flags < 4; flags++) {
		fuzz_mime_buf(&out);
		(void)mime_bodystructure_flags(msg, size, root, flags, &out);
	}
	fuzz_mime_buf(&out);
	(void)mime_envelope(msg, size, root, &out);
	fuzz_mime_buf(&out);
	(void)mime_preview(msg, size, root, &out);
	fuzz_mime_buf(&out);
	(void)mime_search_header(msg, size, &out);
	fuzz_mime_buf(&out);
	(void)mime_search_body(msg, size, root, &out);

	/* Every part, depth first, without recursion. */
	size_t depth = 0;
	stack[depth++] = root;
	while (depth > 0 && visited < FUZZ_MIME_MAX_VISIT) {
		part = stack[--depth];
		visited++;
		fuzz_mime_part(msg, size, part, &out);
		for (const struct mime_part *c = part->children; c != NULL; c = c->next) {
			if (c->parent != part || c->depth != part->depth + 1)
				abort();
			if (depth < sizeof(stack) / sizeof(stack[0]))
				stack[depth++] = c;
		}
	}

	/* Section numbers: the input's first line as one, and a few fixed. */
	const char *nl = memchr(msg, '\n', size < 64 ? size : 64);
	(void)mime_section(root, msg, nl != NULL ? (size_t)(nl - msg) : (size < 64 ? size : 64));
	(void)mime_section(root, "1.2.1", 5);
	(void)mime_section(root, "", 0);

	/* The header values alone, as SORT and SEARCH read them. */
	size_t hlen = mime_header_end(msg, size);
	if (hlen > size)
		abort();
	fuzz_mime_buf(&out);
	(void)mime_header_decode(msg, hlen, &out);
	(void)mime_address_first(msg, hlen, &addr);
	mime_address_free(&addr);
	fuzz_mime_buf(&out);
	(void)mime_charset_to_utf8("iso-2022-jp", msg, size, &out);
	fuzz_mime_buf(&out);
	(void)mime_fold(msg, size, &out);

	buf_free(&out);
	mime_free(root);
	return 0;
}
