/*
 * The values of the Content-* fields: Content-Type (RFC 2045 §5),
 * Content-Disposition (RFC 2183), Content-Language (RFC 3282), and their
 * parameters with RFC 2231 continuations and charsets.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "mime-int.h"
#include "xmalloc.h"

/* Raw parameter pieces before RFC 2231 joins them. */
#define MAX_SEGMENTS (4 * MIME_MAX_PARAMS)

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* Past whatever is not a parameter, up to the next ';'. */
static void
skip_junk(struct mime_lex *lx)
{
	while (lx->p < lx->end && *lx->p != ';') {
		if (*lx->p == '"')
			mime_lex_quoted(lx, NULL);
		else if (*lx->p == '(')
			mime_lex_cfws(lx, NULL);
		else
			lx->p++;
	}
}

/* An unquoted value.  Lenient: anything up to a blank, ';', '"' or '(',
 * since senders leave "/" and "@" in file names unquoted. */
static void
lex_bare_value(struct mime_lex *lx, struct buf *out)
{
	const char *b = lx->p;

	while (lx->p < lx->end && !mime_is_space(*lx->p) && *lx->p != ';' &&
	    *lx->p != '"' && *lx->p != '(')
		lx->p++;
	mime_append_capped(out, b, (size_t)(lx->p - b), MIME_MAX_STRING);
}

char *
mime_parse_token_value(const char *p, const char *end)
{
	struct mime_lex lx = { p, end };
	const char *s;
	size_t n;

	mime_lex_cfws(&lx, NULL);
	return mime_lex_token(&lx, &s, &n) ? mime_strndup(s, n) : NULL;
}

/* --- parameters (RFC 2045 §5.1, RFC 2231) ----------------------------- */

struct segment {
	const char *name;     /* as given, suffixes included */
	size_t name_len;
	size_t base_len;      /* without "*N" and "*" */
	int section;          /* RFC 2231 §3 continuation number, -1: none */
	bool ext;             /* RFC 2231 §4: value is charset'lang'%XX */
	bool raw;             /* joining failed: sent as it was */
	bool done;
	char *value;
	size_t value_len;
};

struct segments {
	struct segment s[MAX_SEGMENTS];
	size_t n;
};

static void
segment_name(struct segment *g)
{
	size_t n = g->name_len, i;

	g->section = -1;
	g->ext = n > 1 && g->name[n - 1] == '*';
	if (g->ext)
		n--;
	for (i = n; i > 0 && g->name[i - 1] >= '0' && g->name[i - 1] <= '9'; i--)
		;
	if (i < n && n - i <= 3 && i > 1 && g->name[i - 1] == '*') {
		int v = 0;

		for (size_t j = i; j < n; j++)
			v = v * 10 + (g->name[j] - '0');
		g->section = v;
		n = i - 1;
	}
	g->base_len = n;
}

static void
segment_add(struct segments *sg, const char *name, size_t nlen,
    const char *value, size_t vlen)
{
	struct segment *g;

	if (sg->n >= MAX_SEGMENTS)
		return;
	g = &sg->s[sg->n++];
	memset(g, 0, sizeof(*g));
	g->name = name;
	g->name_len = nlen;
	g->value = mime_strndup(value != NULL ? value : "", vlen);
	g->value_len = vlen;
	segment_name(g);
}

static bool
same_base(const struct segment *a, const struct segment *b)
{
	if (a->base_len != b->base_len)
		return false;
	for (size_t i = 0; i < a->base_len; i++)
		if (lower((unsigned char)a->name[i]) !=
		    lower((unsigned char)b->name[i]))
			return false;
	return true;
}

static struct mime_param *
param_new(struct mime_param **list, size_t *n)
{
	struct mime_param *p;

	if (*n >= MIME_MAX_PARAMS)
		return NULL;
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	p = &(*list)[(*n)++];
	memset(p, 0, sizeof(*p));
	return p;
}

/* "charset'language'rest": the charset and where rest starts, if quoted. */
static const char *
split_charset(const char *v, size_t n, char *charset, size_t cs_size)
{
	const char *q1 = memchr(v, '\'', n), *q2;

	charset[0] = '\0';
	if (q1 == NULL)
		return v;
	q2 = memchr(q1 + 1, '\'', n - (size_t)(q1 + 1 - v));
	if (q2 == NULL)
		return v;
	if ((size_t)(q1 - v) < cs_size) {
		memcpy(charset, v, (size_t)(q1 - v));
		charset[q1 - v] = '\0';
	}
	return q2 + 1;
}

static char *
to_utf8(const char *charset, const char *s, size_t n)
{
	struct buf b = BUF_INIT;

	mime_charset_to_utf8(charset, s, n, &b);
	return buf_steal(&b, NULL);
}

/* A parameter of one piece, or one that could not be joined. */
static void
param_single(struct segment *g, struct mime_param **list, size_t *n)
{
	struct mime_param *p = param_new(list, n);
	struct buf bytes = BUF_INIT;
	char cs[64];
	const char *rest;

	g->done = true;
	if (p == NULL)
		return;
	p->wire = mime_strndup(g->value, g->value_len);
	if (g->raw || !g->ext) {
		p->name = mime_strndup(g->name, g->raw ? g->name_len : g->base_len);
		p->value = to_utf8("utf-8", g->value, g->value_len);
		return;
	}
	p->name = mime_strndup(g->name, g->base_len);
	p->extended = true;
	rest = split_charset(g->value, g->value_len, cs, sizeof(cs));
	mime_percent_decode(rest, g->value_len - (size_t)(rest - g->value), &bytes);
	p->value = to_utf8(cs[0] != '\0' ? cs : "utf-8", bytes.data, bytes.len);
	buf_free(&bytes);
}

/* Appends a piece to the wire form; '%' escaped in a plain piece, since
 * the joined value is read as extended. */
static void
wire_piece(struct buf *w, const struct segment *g, bool any_ext)
{
	if (g->ext || !any_ext) {
		buf_append(w, g->value, g->value_len);
		return;
	}
	for (size_t i = 0; i < g->value_len; i++) {
		if (g->value[i] == '%')
			buf_append(w, "%25", 3);
		else
			buf_append_char(w, g->value[i]);
	}
}

/* RFC 2231 §3: name*0, name*1, ... joined in order into one parameter. */
static void
param_joined(struct segment **grp, size_t k, struct mime_param **list,
    size_t *n)
{
	struct mime_param *p = param_new(list, n);
	struct buf wire = BUF_INIT, bytes = BUF_INIT;
	bool any_ext = false;
	char cs[64] = "utf-8";

	for (size_t i = 0; i < k; i++) {
		grp[i]->done = true;
		any_ext |= grp[i]->ext;
	}
	if (p == NULL)
		return;
	if (any_ext && !grp[0]->ext)
		buf_append(&wire, "''", 2);
	for (size_t i = 0; i < k; i++) {
		const char *v = grp[i]->value;
		size_t vl = grp[i]->value_len;

		wire_piece(&wire, grp[i], any_ext);
		if (i == 0 && grp[0]->ext) {
			const char *rest = split_charset(v, vl, cs, sizeof(cs));

			vl -= (size_t)(rest - v);
			v = rest;
		}
		if (grp[i]->ext)
			mime_percent_decode(v, vl, &bytes);
		else
			buf_append(&bytes, v, vl);
	}
	p->name = mime_strndup(grp[0]->name, grp[0]->base_len);
	p->extended = any_ext;
	p->value = to_utf8(cs[0] != '\0' ? cs : "utf-8", bytes.data, bytes.len);
	if (wire.len > MIME_MAX_STRING)
		wire.len = MIME_MAX_STRING;
	p->wire = mime_strndup(wire.data, wire.len);
	buf_free(&wire);
	buf_free(&bytes);
}

/* The continuations of g's name, by section; false (and all marked raw)
 * when sections are missing or repeated, as Dovecot then lists them as
 * they are. */
static bool
group_collect(struct segments *sg, size_t first, struct segment **grp,
    size_t *k)
{
	struct segment *g = &sg->s[first];
	size_t count = 0;

	for (size_t i = 0; i < MAX_SEGMENTS; i++)
		grp[i] = NULL;
	for (size_t j = first; j < sg->n; j++) {
		struct segment *h = &sg->s[j];

		if (h->done || h->section < 0 || !same_base(g, h))
			continue;
		count++;
		if ((size_t)h->section >= MAX_SEGMENTS || grp[h->section] != NULL)
			goto raw;
		grp[h->section] = h;
	}
	for (size_t i = 0; i < count; i++)
		if (grp[i] == NULL)
			goto raw;
	*k = count;
	return true;
raw:
	for (size_t j = first; j < sg->n; j++)
		if (!sg->s[j].done && sg->s[j].section >= 0 &&
		    same_base(g, &sg->s[j]))
			sg->s[j].raw = true;
	return false;
}

static void
params_build(struct segments *sg, struct mime_param **list, size_t *n)
{
	struct segment **grp = xcalloc(MAX_SEGMENTS, sizeof(*grp));
	size_t k;

	for (size_t i = 0; i < sg->n; i++) {
		struct segment *g = &sg->s[i];

		if (g->done)
			continue;
		if (g->section < 0 || g->raw || !group_collect(sg, i, grp, &k))
			param_single(g, list, n);
		else
			param_joined(grp, k, list, n);
	}
	free(grp);
	for (size_t i = 0; i < sg->n; i++)
		free(sg->s[i].value);
}

/* ";" attribute "=" value, repeated (RFC 2045 §5.1). */
static void
parse_params(struct mime_lex *lx, struct mime_param **list, size_t *n)
{
	struct segments *sg = xmalloc(sizeof(*sg));
	struct buf v = BUF_INIT;
	const char *name;
	size_t nn;

	sg->n = 0;
	for (;;) {
		mime_lex_cfws(lx, NULL);
		if (lx->p >= lx->end)
			break;
		if (*lx->p != ';') {
			skip_junk(lx);
			continue;
		}
		lx->p++;
		mime_lex_cfws(lx, NULL);
		if (!mime_lex_token(lx, &name, &nn))
			continue;
		mime_lex_cfws(lx, NULL);
		if (lx->p >= lx->end || *lx->p != '=')
			continue;
		lx->p++;
		mime_lex_cfws(lx, NULL);
		buf_reset(&v);
		if (lx->p < lx->end && *lx->p == '"') {
			mime_lex_quoted(lx, &v);   /* "" is a value */
		} else {
			lex_bare_value(lx, &v);
			if (v.len == 0)
				continue;   /* "name=": Dovecot drops it too */
		}
		segment_add(sg, name, nn, v.data, v.len);
	}
	buf_free(&v);
	params_build(sg, list, n);
	free(sg);
}

void
mime_params_free(struct mime_param *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(params[i].name);
		free(params[i].value);
		free(params[i].wire);
	}
	free(params);
}

/* --- the Content-* fields --------------------------------------------- */

bool
mime_parse_content_type(struct mime_part *part, const char *p, const char *end)
{
	struct mime_lex lx = { p, end };
	const char *t, *s;
	size_t tn, sn;

	mime_lex_cfws(&lx, NULL);
	if (!mime_lex_token(&lx, &t, &tn))
		return false;
	mime_lex_cfws(&lx, NULL);
	if (lx.p >= lx.end || *lx.p != '/')
		return false;
	lx.p++;
	mime_lex_cfws(&lx, NULL);
	if (!mime_lex_token(&lx, &s, &sn))
		return false;
	part->type = mime_strndup(t, tn);
	part->subtype = mime_strndup(s, sn);
	parse_params(&lx, &part->params, &part->nparams);
	return true;
}

void
mime_parse_disposition(struct mime_part *part, const char *p, const char *end)
{
	struct mime_lex lx = { p, end };
	const char *t;
	size_t tn;

	mime_lex_cfws(&lx, NULL);
	if (!mime_lex_token(&lx, &t, &tn))
		return;   /* no type: the field says nothing usable */
	part->disposition = mime_strndup(t, tn);
	parse_params(&lx, &part->disp_params, &part->ndisp_params);
}

/* RFC 3282: Language-Tag *("," Language-Tag), CFWS around. */
void
mime_parse_language(struct mime_part *part, const char *p, const char *end)
{
	struct mime_lex lx = { p, end };
	const char *t;
	size_t tn;

	for (;;) {
		mime_lex_cfws(&lx, NULL);
		if (mime_lex_token(&lx, &t, &tn) &&
		    part->nlanguages < MIME_MAX_LANGUAGES) {
			part->languages = xreallocarray(part->languages,
			    part->nlanguages + 1, sizeof(char *));
			part->languages[part->nlanguages++] = mime_strndup(t, tn);
			mime_lex_cfws(&lx, NULL);
		}
		if (lx.p >= lx.end || *lx.p != ',')
			return;
		lx.p++;
	}
}
