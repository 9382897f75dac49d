/*
 * libFuzzer harness: the SEARCH key parser and matcher (imapd/search.c).
 *
 * The input is "KEYS\0MESSAGE": the keys as they follow "t SEARCH " on a
 * command line (through the real command parser, as cmd-search.c gets
 * them), and optionally, after a NUL, a message to match them against
 * (else a fixed multipart one).  A program that parses is resolved ("*",
 * "$") and matched against the message with flags, keywords and dates, in
 * the three ways the server matches: with the message's data, without it,
 * and with the cached header fields alone.  search.h promises that the
 * two partial passes never give a definite answer that differs from the
 * full one; the harness aborts if they do.  The date parsers get the keys
 * text too.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "parser.h"
#include "search.h"

static const char fuzz_search_default_message[] =
    "From: =?UTF-8?B?QWxpY2U=?= <alice@example.org>\r\n"
    "To: bob@example.com, \"Carol\" <carol@example.net>\r\n"
    "Subject: =?iso-8859-1?q?caf=E9?= report\r\n"
    "Date: Mon, 1 Jan 2024 10:00:00 +0100\r\n"
    "Message-ID: <1@example.org>\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "Hello =C3=A9t=C3=A9 world\r\n"
    "--b\r\n"
    "Content-Type: text/html\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "PGI+Ym9sZDwvYj4=\r\n"
    "--b--\r\n";

/*
 * What the store caches for SEARCH (store/cache.c, cache_render): the
 * header fields it names (store_header_field_cached), as
 * mime_header_fields() copies them; none when over 32 KiB or holding a
 * NUL (kept as a C string, they would end there).  -1: nothing cached.
 * Keep in step with cache_render().
 */
static const char *const fuzz_search_cached[] = {
	"Subject", "From", "To", "Cc", "Bcc", "Date", "Sender", "Reply-To",
	"Message-ID", "In-Reply-To", "References",
};

static int
fuzz_search_fields(const char *msg, size_t len, struct buf *out)
{
	struct mime_part *root = mime_parse(msg, len);
	int rc;

	for (size_t i = 0; i < sizeof(fuzz_search_cached) / sizeof(fuzz_search_cached[0]); i++)
		if (!store_header_field_cached(fuzz_search_cached[i]))
			abort();      /* the list above is out of date */
	buf_reset(out);
	rc = root != NULL ? mime_header_fields(msg, len, root, fuzz_search_cached,
	    sizeof(fuzz_search_cached) / sizeof(fuzz_search_cached[0]), false, out) : -1;
	mime_free(root);
	if (rc != 0 || out->len > 32 * 1024 ||
	    (out->len > 0 && memchr(out->data, '\0', out->len) != NULL))
		return -1;
	if (out->data == NULL && buf_append(out, "", 0) != 0)
		abort();
	return 0;
}

static void
fuzz_search_match(const struct search_program *p, const char *msg, size_t len)
{
	static const char *const kw[] = { "$Junk", "work" };
	struct buf fields = BUF_INIT;
	int have_fields = fuzz_search_fields(msg, len, &fields) == 0;
	struct store_message m[2] = {
		{ .uid = 10, .modseq = 5, .flags = STORE_FLAG_SEEN, .keywords = kw,
		  .n_keywords = 2, .internaldate = 1704099600, .tz_minutes = 60,
		  .size = len, .email_id = 7, .thread_id = 9, .savedate = 1704186000 },
		{ .uid = 30, .modseq = 12, .flags = STORE_FLAG_DELETED | STORE_FLAG_DRAFT,
		  .keywords = kw + 1, .n_keywords = 1, .internaldate = 0,
		  .tz_minutes = -300, .size = 50000, .recent = true },
	};

	for (uint32_t i = 0; i < 2; i++) {
		struct search_input in = { i + 1, &m[i], msg, len, NULL, 0 };
		enum search_match full = search_match(p, &in);
		if (full == SEARCH_MAYBE)
			abort();      /* with the data there is an answer */
		in.data = NULL;
		in.len = 0;
		enum search_match first = search_match(p, &in);
		enum search_match cached = SEARCH_MAYBE;
		if (have_fields) {
			in.fields = fields.data;
			in.fields_len = fields.len;
			cached = search_match(p, &in);
		}
		if ((first != SEARCH_MAYBE && first != full) ||
		    (cached != SEARCH_MAYBE && cached != full)) {
			fprintf(stderr, "fuzz_search: message %u: full %d, without "
			    "data %d, with cached fields %d\n", i + 1, full, first, cached);
			abort();
		}
	}
	buf_free(&fields);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct imap_parser_limits limits = {
		.max_line = 65536, .max_literal = 65536, .max_args = 4096, .max_depth = 64,
	};
	const char *in = (const char *)data;
	const char *nul = memchr(in, '\0', size);
	size_t keys_len = nul != NULL ? (size_t)(nul - in) : size;
	const char *msg = fuzz_search_default_message;
	size_t msg_len = sizeof(fuzz_search_default_message) - 1;
	struct imap_parser *ip;
	struct buf line = BUF_INIT;
	int64_t day, t;
	int tz;

	if (nul != NULL) {
		msg = nul + 1;
		msg_len = size - keys_len - 1;
	}
	(void)search_parse_date(in, keys_len, &day);
	(void)search_parse_datetime(in, keys_len, &t, &tz);

	if ((ip = imap_parser_new(&limits)) == NULL)
		abort();
	if (buf_append_str(&line, "t SEARCH ") != 0 ||
	    buf_append(&line, in, keys_len) != 0 || buf_append_str(&line, "\r\n") != 0)
		abort();
	size_t off = 0;
	enum imap_parse_result r = IMAP_PARSE_NEED_MORE;
	while (off < line.len) {
		size_t used = 0;
		r = imap_parser_feed(ip, line.data + off, line.len - off, &used);
		off += used;
		if (r != IMAP_PARSE_NEED_MORE && r != IMAP_PARSE_CONTINUE)
			break;
	}
	if (r == IMAP_PARSE_COMMAND) {
		const struct imap_command *c = imap_parser_command(ip);
		const char *why = NULL;
		struct search_program *p = search_parse(c->args, c->nargs, &why);
		static struct seq_range saved_ranges[] = { { 10, 10 }, { 12, 20 } };
		static const struct seqset saved = { saved_ranges, 2, 2 };

		if (p == NULL && why == NULL)
			abort();      /* a refusal says why */
		if (p != NULL) {
			search_resolve(p, 2, 30, &saved);
			(void)search_uses_fields(p);
			fuzz_search_match(p, msg, msg_len);
			search_free(p);
		}
	}
	imap_parser_free(ip);
	buf_free(&line);
	return 0;
}
