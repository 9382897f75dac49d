/*
 * FETCH attributes from the command's arguments: the macros, fetch-att
 * (RFC 9051 §9, with IMAP4rev1's RFC822 forms), section and partial,
 * BINARY's section-binary (RFC 3516), the CHANGEDSINCE modifier
 * (RFC 7162), and PREVIEW with its modifiers (RFC 8970).  The parser hands "BODY.PEEK[HEADER.FIELDS (A B)]<0.100>"
 * over as one atom; this file reads the inside.  What the grammar does
 * not allow is BAD, with a text that says what was wrong: part number 0,
 * MIME without a part, an empty header list, a partial of 0 octets.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fetch.h"
#include "xmalloc.h"

struct lex {
	const char *p, *end;
};

static int
fail(char *why, size_t whylen, const char *fmt, ...) CAIRN_PRINTF(3, 4);

static int
fail(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
	return -1;
}

static bool
lex_word(struct lex *lx, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(lx->end - lx->p) < n || strncasecmp(lx->p, word, n) != 0)
		return false;
	lx->p += n;
	return true;
}

static bool
lex_char(struct lex *lx, char c)
{
	if (lx->p >= lx->end || *lx->p != c)
		return false;
	lx->p++;
	return true;
}

static struct fetch_att *
att_add(struct fetch_request *req, enum fetch_kind kind)
{
	struct fetch_att *a;

	if (req->n == req->cap) {
		req->cap = req->cap ? req->cap * 2 : 8;
		req->atts = xreallocarray(req->atts, req->cap, sizeof(*req->atts));
	}
	a = &req->atts[req->n++];
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	return a;
}

static bool
has_kind(const struct fetch_request *req, enum fetch_kind kind)
{
	for (size_t i = 0; i < req->n; i++)
		if (req->atts[i].kind == kind)
			return true;
	return false;
}

/*
 * section-part: nz-number *("." nz-number), appended to part.  Stops
 * before a "." that is not followed by a digit (a section-text follows);
 * *dot says whether one was eaten.
 */
static int
parse_part(struct lex *lx, struct buf *part, bool *dot, char *why, size_t whylen)
{
	*dot = false;
	while (lx->p < lx->end && isdigit((unsigned char)*lx->p)) {
		const char *start = lx->p;

		if (*lx->p == '0')
			return fail(why, whylen, "Section part numbers start at 1");
		while (lx->p < lx->end && isdigit((unsigned char)*lx->p))
			lx->p++;
		if (lx->p - start > 9)
			return fail(why, whylen, "Section part number too large");
		if (part->len > 0)
			buf_append_char(part, '.');
		buf_append(part, start, (size_t)(lx->p - start));
		if (!lex_char(lx, '.'))
			return 0;
		if (lx->p >= lx->end || !isdigit((unsigned char)*lx->p)) {
			*dot = true;
			return 0;
		}
	}
	return 0;
}

/* A header-fld-name character outside quotes: ASTRING-CHAR (RFC 9051 §9). */
static bool
astring_char(char c)
{
	return c > ' ' && c < 127 && strchr("(){%*\"\\", c) == NULL;
}

/*
 * header-list = "(" header-fld-name *(SP header-fld-name) ")", names as
 * atoms or quoted strings (the parser leaves literals out of sections).
 * The label gets the list back upper-cased, quoting kept, as Dovecot does.
 */
static int
parse_fields(struct lex *lx, struct fetch_att *a, struct buf *label, char *why,
    size_t whylen)
{
	struct buf name = BUF_INIT;
	int rc = -1;

	if (!lex_char(lx, ' ') || !lex_char(lx, '('))
		return fail(why, whylen, "HEADER.FIELDS needs a parenthesised list "
		    "of field names");
	buf_append_str(label, " (");
	for (;;) {
		bool quoted = lx->p < lx->end && *lx->p == '"';

		buf_reset(&name);
		if (quoted) {
			lx->p++;
			while (lx->p < lx->end && *lx->p != '"') {
				if (*lx->p == '\\' && lx->p + 1 < lx->end)
					lx->p++;
				buf_append_char(&name, *lx->p++);
			}
			if (!lex_char(lx, '"')) {
				fail(why, whylen, "Unterminated quoted field name");
				goto out;
			}
		} else {
			while (lx->p < lx->end && astring_char(*lx->p))
				buf_append_char(&name, *lx->p++);
		}
		if (name.len == 0 || memchr(name.data, '\0', name.len) != NULL) {
			fail(why, whylen, lx->p < lx->end && *lx->p == ')' &&
			    a->nfields == 0 ? "HEADER.FIELDS needs at least one field "
			    "name" : "Invalid header field name");
			goto out;
		}
		for (size_t i = 0; i < name.len; i++)
			name.data[i] = (char)toupper((unsigned char)name.data[i]);
		if (a->nfields > 0)
			buf_append_char(label, ' ');
		if (quoted)
			buf_append_char(label, '"');
		for (size_t i = 0; i < name.len; i++) {
			if (quoted && (name.data[i] == '"' || name.data[i] == '\\'))
				buf_append_char(label, '\\');
			buf_append_char(label, name.data[i]);
		}
		if (quoted)
			buf_append_char(label, '"');
		if (a->nfields == FETCH_MAX_FIELDS) {
			fail(why, whylen, "Too many header field names (at most %d)",
			    FETCH_MAX_FIELDS);
			goto out;
		}
		a->fields = xreallocarray(a->fields, a->nfields + 1, sizeof(*a->fields));
		a->fields[a->nfields++] = buf_steal(&name, NULL);
		if (lex_char(lx, ')'))
			break;
		if (!lex_char(lx, ' ')) {
			fail(why, whylen, "Invalid header field list");
			goto out;
		}
	}
	buf_append_char(label, ')');
	rc = 0;
out:
	buf_free(&name);
	return rc;
}

/* section-msgtext / "MIME" after the part number (or alone, without MIME). */
static int
parse_text(struct lex *lx, struct fetch_att *a, bool have_part, struct buf *label,
    char *why, size_t whylen)
{
	if (lex_word(lx, "HEADER.FIELDS.NOT")) {
		a->text = FETCH_TEXT_FIELDS_NOT;
		buf_append_str(label, "HEADER.FIELDS.NOT");
		return parse_fields(lx, a, label, why, whylen);
	}
	if (lex_word(lx, "HEADER.FIELDS")) {
		a->text = FETCH_TEXT_FIELDS;
		buf_append_str(label, "HEADER.FIELDS");
		return parse_fields(lx, a, label, why, whylen);
	}
	if (lex_word(lx, "HEADER")) {
		a->text = FETCH_TEXT_HEADER;
		buf_append_str(label, "HEADER");
		return 0;
	}
	if (lex_word(lx, "TEXT")) {
		a->text = FETCH_TEXT_TEXT;
		buf_append_str(label, "TEXT");
		return 0;
	}
	if (lex_word(lx, "MIME")) {
		if (!have_part)
			return fail(why, whylen, "MIME needs a part number: BODY[1.MIME]");
		a->text = FETCH_TEXT_MIME;
		buf_append_str(label, "MIME");
		return 0;
	}
	return fail(why, whylen, "Unknown section: expected a part number, HEADER, "
	    "HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT or MIME");
}

/* "<" number64 "." nz-number64 ">" */
static int
parse_partial(struct lex *lx, struct fetch_att *a, char *why, size_t whylen)
{
	const char *dot, *close;

	lx->p++;   /* '<' */
	dot = memchr(lx->p, '.', (size_t)(lx->end - lx->p));
	close = memchr(lx->p, '>', (size_t)(lx->end - lx->p));
	if (dot == NULL || close == NULL || dot > close || close + 1 != lx->end ||
	    imap_number64(lx->p, (size_t)(dot - lx->p), &a->origin) != 0 ||
	    imap_number64(dot + 1, (size_t)(close - dot - 1), &a->octets) != 0)
		return fail(why, whylen, "Invalid partial: expected <origin.octets>");
	if (a->octets == 0)
		return fail(why, whylen, "Invalid partial: the octet count must not "
		    "be 0");
	a->partial = true;
	lx->p = lx->end;
	return 0;
}

/* name "[" ... "]" [partial] for BODY, BODY.PEEK and the BINARY forms. */
static int
parse_section(const char *s, size_t len, size_t open, struct fetch_att *a,
    const char *prefix, char *why, size_t whylen)
{
	struct lex lx = { s + open + 1, s + len };
	struct buf label = BUF_INIT, part = BUF_INIT;
	bool dot = false, binary = a->kind != FETCH_SECTION;
	int rc = -1;

	buf_printf(&label, "%s[", prefix);
	if (parse_part(&lx, &part, &dot, why, whylen) != 0)
		goto out;
	buf_append(&label, part.data != NULL ? part.data : "", part.len);
	if (binary && (dot || (lx.p < lx.end && *lx.p != ']'))) {
		fail(why, whylen, "%s takes only a part number: %s[1.2]", prefix, prefix);
		goto out;
	}
	if (!binary && (dot || part.len == 0) && lx.p < lx.end && *lx.p != ']') {
		if (dot)
			buf_append_char(&label, '.');
		if (parse_text(&lx, a, part.len > 0, &label, why, whylen) != 0)
			goto out;
	} else if (dot) {
		fail(why, whylen, "Missing section text after the part number");
		goto out;
	}
	if (!lex_char(&lx, ']')) {
		fail(why, whylen, "Invalid section: expected ']'");
		goto out;
	}
	buf_append_char(&label, ']');
	if (lx.p < lx.end && *lx.p == '<') {
		if (a->kind == FETCH_BINARY_SIZE) {
			fail(why, whylen, "BINARY.SIZE takes no partial");
			goto out;
		}
		if (parse_partial(&lx, a, why, whylen) != 0)
			goto out;
	}
	if (lx.p != lx.end) {
		fail(why, whylen, "Unexpected text after the section");
		goto out;
	}
	a->part = buf_steal(&part, NULL);
	a->label = buf_steal(&label, NULL);
	rc = 0;
out:
	buf_free(&label);
	buf_free(&part);
	return rc;
}

static const struct {
	const char *name;
	enum fetch_kind kind;
} simple_atts[] = {
	{ "UID", FETCH_UID },
	{ "FLAGS", FETCH_FLAGS },
	{ "INTERNALDATE", FETCH_INTERNALDATE },
	{ "RFC822.SIZE", FETCH_RFC822_SIZE },
	{ "ENVELOPE", FETCH_ENVELOPE },
	{ "BODY", FETCH_BODY },
	{ "BODYSTRUCTURE", FETCH_BODYSTRUCTURE },
	{ "MODSEQ", FETCH_MODSEQ },
	{ "EMAILID", FETCH_EMAILID },
	{ "THREADID", FETCH_THREADID },
	{ "SAVEDATE", FETCH_SAVEDATE },
};

/* The IMAP4rev1 forms of sections (RFC 3501 §6.4.5). */
static const struct {
	const char *name;
	enum fetch_text text;
	bool peek;
} rfc822_atts[] = {
	{ "RFC822", FETCH_TEXT_ALL, false },
	{ "RFC822.HEADER", FETCH_TEXT_HEADER, true },
	{ "RFC822.TEXT", FETCH_TEXT_TEXT, false },
};

static const struct {
	const char *name;
	enum fetch_kind kind;
	bool peek;
	const char *label;
} section_atts[] = {
	{ "BODY", FETCH_SECTION, false, "BODY" },
	{ "BODY.PEEK", FETCH_SECTION, true, "BODY" },
	{ "BINARY", FETCH_BINARY, false, "BINARY" },
	{ "BINARY.PEEK", FETCH_BINARY, true, "BINARY" },
	{ "BINARY.SIZE", FETCH_BINARY_SIZE, true, "BINARY.SIZE" },
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static bool
name_is(const char *s, size_t len, const char *name)
{
	return strlen(name) == len && strncasecmp(s, name, len) == 0;
}

/*
 * RFC 8970 §3.1: "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"],
 * preview-mod = "LAZY".  mods may be NULL.  Asked twice, the form without
 * LAZY wins: it answers what the lazy one would.
 */
static int
parse_preview(const struct imap_arg *mods, struct fetch_request *req, char *why,
    size_t whylen)
{
	struct fetch_att *a = NULL;
	bool lazy = false;

	if (mods != NULL && mods->list_count == 0)
		return fail(why, whylen, "PREVIEW modifiers are a non-empty list");
	for (size_t i = 0; mods != NULL && i < mods->list_count; i++) {
		const struct imap_arg *m = &mods->list[i];

		if (m->type != IMAP_ARG_ATOM || !name_is(m->str, m->len, "LAZY"))
			return fail(why, whylen, "Unknown PREVIEW modifier: only "
			    "LAZY is");
		lazy = true;
	}
	for (size_t i = 0; i < req->n; i++)
		if (req->atts[i].kind == FETCH_PREVIEW)
			a = &req->atts[i];
	if (a != NULL) {
		a->lazy &= lazy;
		return 0;
	}
	a = att_add(req, FETCH_PREVIEW);
	a->lazy = lazy;
	return 0;
}

/* Is a the list of PREVIEW's modifiers ("(LAZY)"), not FETCH's? */
static bool
preview_mods(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_LIST && a->list_count > 0 &&
	    a->list[0].type == IMAP_ARG_ATOM &&
	    name_is(a->list[0].str, a->list[0].len, "LAZY");
}

static int
parse_att(const struct imap_arg *arg, struct fetch_request *req, char *why,
    size_t whylen)
{
	const char *s = arg->str, *open;
	size_t len = arg->len, nlen;
	struct fetch_att *a;

	if (arg->type != IMAP_ARG_ATOM || len == 0)
		return fail(why, whylen, "FETCH attributes are atoms");
	open = memchr(s, '[', len);
	nlen = open != NULL ? (size_t)(open - s) : len;
	if (open == NULL && name_is(s, len, "PREVIEW"))
		return parse_preview(NULL, req, why, whylen);
	if (open == NULL) {
		for (size_t i = 0; i < NELEM(simple_atts); i++) {
			if (!name_is(s, len, simple_atts[i].name))
				continue;
			if (!has_kind(req, simple_atts[i].kind))
				(void)att_add(req, simple_atts[i].kind);
			return 0;
		}
		for (size_t i = 0; i < NELEM(rfc822_atts); i++) {
			if (!name_is(s, len, rfc822_atts[i].name))
				continue;
			a = att_add(req, FETCH_SECTION);
			a->text = rfc822_atts[i].text;
			a->peek = rfc822_atts[i].peek;
			a->part = xstrdup("");
			a->label = xstrdup(rfc822_atts[i].name);
			return 0;
		}
	}
	for (size_t i = 0; i < NELEM(section_atts); i++) {
		if (!name_is(s, nlen, section_atts[i].name))
			continue;
		if (open == NULL)
			return fail(why, whylen, "%s needs a section: %s[]",
			    section_atts[i].name, section_atts[i].name);
		a = att_add(req, section_atts[i].kind);
		a->peek = section_atts[i].peek;
		return parse_section(s, len, nlen, a, section_atts[i].label, why,
		    whylen);
	}
	for (size_t i = 0; open != NULL && i < NELEM(simple_atts); i++)
		if (name_is(s, nlen, simple_atts[i].name))
			return fail(why, whylen, "%s takes no section",
			    simple_atts[i].name);
	if (name_is(s, len, "ALL") || name_is(s, len, "FAST") || name_is(s, len, "FULL"))
		return fail(why, whylen, "%.*s is a macro: not allowed in a list",
		    (int)len, s);
	return fail(why, whylen, "Unknown FETCH attribute %.*s",
	    (int)(nlen > 40 ? 40 : nlen), s);
}

/* ALL, FAST, FULL (RFC 9051 §6.4.5): only alone, not in a list. */
static bool
parse_macro(const struct imap_arg *arg, struct fetch_request *req)
{
	static const enum fetch_kind fast[] = {
		FETCH_FLAGS, FETCH_INTERNALDATE, FETCH_RFC822_SIZE,
	};
	size_t extra;

	if (arg->type != IMAP_ARG_ATOM)
		return false;
	if (name_is(arg->str, arg->len, "FAST"))
		extra = 0;
	else if (name_is(arg->str, arg->len, "ALL"))
		extra = 1;
	else if (name_is(arg->str, arg->len, "FULL"))
		extra = 2;
	else
		return false;
	for (size_t i = 0; i < NELEM(fast); i++)
		(void)att_add(req, fast[i]);
	if (extra >= 1)
		(void)att_add(req, FETCH_ENVELOPE);
	if (extra >= 2)
		(void)att_add(req, FETCH_BODY);
	return true;
}

/* fetch-modifier list: (CHANGEDSINCE n) (RFC 7162 §3.1.4.1) and
 * VANISHED (§3.2.6). */
static int
parse_modifiers(const struct imap_arg *mods, struct fetch_request *req, char *why,
    size_t whylen)
{
	if (mods->type != IMAP_ARG_LIST || mods->list_count == 0)
		return fail(why, whylen, "FETCH modifiers are a parenthesised list");
	for (size_t i = 0; i < mods->list_count; i++) {
		const struct imap_arg *m = &mods->list[i];

		if (m->type == IMAP_ARG_ATOM && name_is(m->str, m->len, "CHANGEDSINCE")) {
			const struct imap_arg *v = i + 1 < mods->list_count ?
			    &mods->list[++i] : NULL;

			if (req->changedsince_set)
				return fail(why, whylen, "CHANGEDSINCE given twice");
			if (v == NULL || v->type != IMAP_ARG_ATOM ||
			    imap_number64(v->str, v->len, &req->changedsince) != 0)
				return fail(why, whylen, "CHANGEDSINCE needs a "
				    "mod-sequence value");
			req->changedsince_set = true;
		} else if (m->type == IMAP_ARG_ATOM &&
		    name_is(m->str, m->len, "VANISHED")) {
			if (req->vanished)
				return fail(why, whylen, "VANISHED given twice");
			req->vanished = true;
		} else {
			return fail(why, whylen, "Unknown FETCH modifier");
		}
	}
	return 0;
}

/* A list of fetch-atts; PREVIEW may be followed by its modifier list. */
static int
parse_list(const struct imap_arg *items, struct fetch_request *req, char *why,
    size_t whylen)
{
	const struct imap_arg *a = items->list;
	size_t n = items->list_count;

	if (n == 0)
		return fail(why, whylen, "Empty FETCH attribute list");
	for (size_t i = 0; i < n; i++) {
		if (a[i].type == IMAP_ARG_ATOM && name_is(a[i].str, a[i].len,
		    "PREVIEW") && i + 1 < n && a[i + 1].type == IMAP_ARG_LIST) {
			if (parse_preview(&a[++i], req, why, whylen) != 0)
				return -1;
		} else if (parse_att(&a[i], req, why, whylen) != 0) {
			return -1;
		}
	}
	return 0;
}

int
fetch_parse(const struct imap_arg *args, size_t n, bool uid,
    struct fetch_request *req, char *why, size_t whylen)
{
	const struct imap_arg *items = &args[0], *modifiers = NULL;
	size_t used = 1;

	memset(req, 0, sizeof(*req));
	if (n == 0)
		return fail(why, whylen, "FETCH needs attributes");
	if (items->type == IMAP_ARG_LIST) {
		if (parse_list(items, req, why, whylen) != 0)
			return -1;
	} else if (items->type == IMAP_ARG_ATOM && name_is(items->str,
	    items->len, "PREVIEW") && n > 1 && preview_mods(&args[1])) {
		/* "FETCH 1 PREVIEW (LAZY)": the list is PREVIEW's, as its
		 * LAZY tells; "FETCH 1 PREVIEW (CHANGEDSINCE 5)" is FETCH's */
		if (parse_preview(&args[1], req, why, whylen) != 0)
			return -1;
		used = 2;
	} else if (!parse_macro(items, req) && parse_att(items, req, why, whylen) != 0) {
		return -1;
	}
	if (n > used + 1)
		return fail(why, whylen, "FETCH takes a sequence set, attributes "
		    "and optional modifiers");
	if (n == used + 1)
		modifiers = &args[used];
	if (modifiers != NULL && parse_modifiers(modifiers, req, why, whylen) != 0)
		return -1;
	/* RFC 7162 §3.2.6: both are BAD. */
	if (req->vanished && !uid)
		return fail(why, whylen, "VANISHED is for UID FETCH only");
	if (req->vanished && !req->changedsince_set)
		return fail(why, whylen, "VANISHED needs CHANGEDSINCE");
	if (uid && !has_kind(req, FETCH_UID)) {
		(void)att_add(req, FETCH_UID);
		memmove(req->atts + 1, req->atts, (req->n - 1) * sizeof(*req->atts));
		memset(&req->atts[0], 0, sizeof(req->atts[0]));
		req->atts[0].kind = FETCH_UID;
	}
	if (req->changedsince_set && !has_kind(req, FETCH_MODSEQ))
		(void)att_add(req, FETCH_MODSEQ);
	req->modseq = has_kind(req, FETCH_MODSEQ);
	for (size_t i = 0; i < req->n; i++)
		if ((req->atts[i].kind == FETCH_SECTION ||
		    req->atts[i].kind == FETCH_BINARY) && !req->atts[i].peek)
			req->set_seen = true;
	return 0;
}

void
fetch_request_free(struct fetch_request *req)
{
	for (size_t i = 0; i < req->n; i++) {
		struct fetch_att *a = &req->atts[i];

		free(a->label);
		free(a->part);
		for (size_t j = 0; j < a->nfields; j++)
			free(a->fields[j]);
		free(a->fields);
	}
	free(req->atts);
	memset(req, 0, sizeof(*req));
}
