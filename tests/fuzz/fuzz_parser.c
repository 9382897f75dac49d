/*
 * libFuzzer harness: the IMAP command tokenizer (imapd/parser.c).
 *
 * The input is a client's byte stream.  It is parsed twice, once fed whole
 * and once in pieces of 1..16 bytes (the size from the first byte), the
 * way the session does it: reset after each command or error, line mode
 * for the line after an AUTHENTICATE (as session_read_line), and a literal
 * sink that takes APPEND's top-level literals after the mailbox and
 * refuses some of them.  parser.h promises the same results however the
 * bytes are split, so the two transcripts must be equal; every returned
 * tree is walked, and every sink handle must be released exactly once
 * (ASan and LeakSanitizer see a double or a missing release).
 * Small limits, so that each bound is reached often.
 */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"

/* A sink handle: counts and checksums what the parser streams into it. */
struct fuzz_literal {
	size_t announced, got;
	uint32_t sum;
	int nonsync;
};

/* The transcript of one pass: a running hash and a count of events. */
struct fuzz_transcript {
	uint64_t hash;
	size_t events;
	size_t open_handles;
};

static struct fuzz_transcript *fuzz_current;

static void
fuzz_mix(struct fuzz_transcript *t, const void *data, size_t len)
{
	const unsigned char *p = data;

	/* FNV-1a */
	if (t->hash == 0)
		t->hash = UINT64_C(14695981039346656037);
	for (size_t i = 0; i < len; i++) {
		t->hash ^= p[i];
		t->hash *= UINT64_C(1099511628211);
	}
}

static void
fuzz_mix_u64(struct fuzz_transcript *t, uint64_t v)
{
	fuzz_mix(t, &v, sizeof(v));
}

static void *
fuzz_sink_open(void *arg, const struct imap_literal_info *info)
{
	struct fuzz_literal *l;

	(void)arg;
	/* APPEND's message data: a top-level literal after the mailbox */
	if (strcmp(info->command, "APPEND") != 0 || info->depth != 0 ||
	    info->arg_index == 0)
		return NULL;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		abort();
	l->announced = info->size;
	l->nonsync = info->nonsync;
	fuzz_current->open_handles++;
	fuzz_mix_u64(fuzz_current, 0x5100 + info->arg_index);
	fuzz_mix_u64(fuzz_current, info->size);
	if (info->first != NULL && info->first->str != NULL)
		fuzz_mix(fuzz_current, info->first->str, info->first->len);
	return l;
}

static void
fuzz_sink_write(void *handle, const void *data, size_t len)
{
	struct fuzz_literal *l = handle;
	const unsigned char *p = data;

	if (len > l->announced - l->got)
		abort();      /* more bytes than the literal announced */
	for (size_t i = 0; i < len; i++)
		l->sum = l->sum * 31 + p[i];
	l->got += len;
}

static void
fuzz_sink_release(void *handle)
{
	struct fuzz_literal *l = handle;

	fuzz_mix_u64(fuzz_current, 0x5200 + l->got);
	fuzz_mix_u64(fuzz_current, l->sum);
	fuzz_current->open_handles--;
	free(l);
}

/* Refuse literals of some sizes, as APPEND does for a missing mailbox. */
static int
fuzz_sink_refused(void *handle)
{
	const struct fuzz_literal *l = handle;

	return l->announced % 7 == 3;
}

static const struct imap_literal_sink fuzz_sink = {
	fuzz_sink_open, fuzz_sink_write, fuzz_sink_release, NULL, fuzz_sink_refused,
};

/* Hash an argument tree (recursion bounded by the parser's max_depth). */
static void
fuzz_mix_args(struct fuzz_transcript *t, const struct imap_arg *args, size_t n,
    unsigned depth)
{
	if (depth > 64)
		abort();      /* deeper than max_depth allows */
	for (size_t i = 0; i < n; i++) {
		const struct imap_arg *a = &args[i];
		uint64_t num;

		fuzz_mix_u64(t, a->type);
		fuzz_mix_u64(t, a->literal8);
		switch (a->type) {
		case IMAP_ARG_ATOM:
		case IMAP_ARG_QUOTED:
		case IMAP_ARG_LITERAL:
			if (a->str == NULL || a->str[a->len] != '\0')
				abort();
			fuzz_mix(t, a->str, a->len);
			if (imap_arg_number64(a, &num) == 0)
				fuzz_mix_u64(t, num);
			break;
		case IMAP_ARG_LIST:
			if ((a->list == NULL) != (a->list_count == 0))
				abort();
			fuzz_mix_u64(t, a->list_count);
			fuzz_mix_args(t, a->list, a->list_count, depth + 1);
			break;
		case IMAP_ARG_STREAMED:
			if (a->stream == NULL)
				abort();
			fuzz_mix_u64(t, a->len);
			break;
		case IMAP_ARG_NIL:
			break;
		}
	}
}

static void
fuzz_pass(const uint8_t *data, size_t size, size_t piece, struct fuzz_transcript *t)
{
	static const struct imap_parser_limits limits = {
		.max_line = 512, .max_literal = 2048, .max_args = 64,
		.max_depth = 6, .max_streamed = 8192,
	};
	struct imap_parser *p = imap_parser_new(&limits);
	size_t off = 0, end = 0;
	int line_mode = 0;

	if (p == NULL)
		abort();
	fuzz_current = t;
	imap_parser_set_sink(p, &fuzz_sink);
	while (off < size) {
		size_t used = 0;
		enum imap_parse_result r;

		if (end <= off)
			end = off + piece < size ? off + piece : size;
		r = line_mode ? imap_parser_feed_line(p, data + off, end - off, &used)
		    : imap_parser_feed(p, data + off, end - off, &used);
		if (used > end - off)
			abort();
		off += used;
		if (r == IMAP_PARSE_NEED_MORE) {
			if (off != end)
				abort();      /* NEED_MORE consumes everything */
			continue;
		}
		fuzz_mix_u64(t, 0x1000 + r);
		t->events++;
		if (r == IMAP_PARSE_CONTINUE)
			continue;
		if (r == IMAP_PARSE_COMMAND && line_mode) {
			size_t len = 0;
			const char *line = imap_parser_line(p, &len);
			if (line == NULL || line[len] != '\0')
				abort();
			fuzz_mix(t, line, len);
			line_mode = 0;
		} else if (r == IMAP_PARSE_COMMAND) {
			const struct imap_command *c = imap_parser_command(p);
			if (c == NULL || c->tag == NULL || c->name == NULL)
				abort();
			fuzz_mix(t, c->tag, strlen(c->tag) + 1);
			fuzz_mix(t, c->name, strlen(c->name) + 1);
			fuzz_mix_args(t, c->args, c->nargs, 0);
			line_mode = strcmp(c->name, "AUTHENTICATE") == 0;
		} else {
			const char *why = imap_parser_error(p);
			const char *tag = imap_parser_error_tag(p);
			const char *cmd = imap_parser_error_command(p);
			if (why == NULL)
				abort();
			fuzz_mix(t, why, strlen(why) + 1);
			if (tag != NULL)
				fuzz_mix(t, tag, strlen(tag) + 1);
			if (cmd != NULL)
				fuzz_mix(t, cmd, strlen(cmd) + 1);
			fuzz_mix_u64(t, imap_parser_error_kind(p));
			fuzz_mix_u64(t, imap_parser_fatal(p));
			line_mode = 0;
		}
		imap_parser_reset(p);
		fuzz_mix_u64(t, imap_parser_at_start(p));
	}
	imap_parser_free(p);
	if (t->open_handles != 0)
		abort();      /* a sink handle was never released */
	fuzz_current = NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_transcript whole = { 0, 0, 0 }, pieces = { 0, 0, 0 };
	size_t piece = size > 0 ? (size_t)(data[0] % 16) + 1 : 1;

	fuzz_pass(data, size, size, &whole);
	fuzz_pass(data, size, piece, &pieces);
	if (whole.hash != pieces.hash || whole.events != pieces.events) {
		fprintf(stderr, "fuzz_parser: fed whole and in %zu-byte pieces, "
		    "the results differ\n", piece);
		abort();
	}
	return 0;
}
