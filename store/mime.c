/*
 * The MIME parser: one forward pass over the message, line by line, that
 * builds the part tree (RFC 2045, RFC 2046 §5.1 multipart, §5.2.1
 * message/rfc822), and the lookups on the tree.
 *
 * A stack holds the boundaries of the multiparts being read; every line
 * that starts with "--" is checked against all of them, so a boundary of an
 * outer multipart ends the inner parts that are still open, whatever they
 * are (RFC 2046 §5.1.2: a missing close delimiter).  Each byte is looked at
 * a bounded number of times, hence O(n).
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

#include "mime-int.h"
#include "xmalloc.h"

struct boundary {
	const char *s;
	size_t n;
};

struct scan {
	const char *d;
	size_t len;
	size_t pos;          /* start of the current line */
	size_t lf;           /* line ends before pos */
	size_t bare;         /* of which bare LFs */
	struct boundary bnd[MIME_MAX_DEPTH];
	unsigned nbnd;
	size_t nparts;
};

/* Where a region (header, body, preamble, epilogue) ended, and why. */
struct stop {
	size_t end;
	size_t lf;           /* line ends before end */
	size_t bare;
	int bnd;             /* index of the boundary met, -1: end of data */
	bool close;          /* it was the close delimiter "--b--" */
};

/* The Content-* fields of a header, first occurrence of each. */
enum {
	HF_TYPE, HF_ENCODING, HF_ID, HF_DESCRIPTION, HF_DISPOSITION,
	HF_LANGUAGE, HF_LOCATION, HF_MD5, HF_VERSION, HF_COUNT
};

static const char *const hf_names[HF_COUNT] = {
	"content-type", "content-transfer-encoding", "content-id",
	"content-description", "content-disposition", "content-language",
	"content-location", "content-md5", "mime-version",
};

struct hdr {
	bool set[HF_COUNT];
	size_t value[HF_COUNT];
	size_t end[HF_COUNT];
};

static void parse_part(struct scan *sc, struct mime_part *part, bool digest,
    bool msg_root, struct stop *st);

/* --- lines ------------------------------------------------------------ */

static void
scan_advance(struct scan *sc)
{
	const char *nl = memchr(sc->d + sc->pos, '\n', sc->len - sc->pos);
	size_t i;

	if (nl == NULL) {
		sc->pos = sc->len;
		return;
	}
	i = (size_t)(nl - sc->d);
	sc->lf++;
	if (i == 0 || sc->d[i - 1] != '\r')
		sc->bare++;
	sc->pos = i + 1;
}

/*
 * Is the line at pos a boundary of an open multipart?  Matched as a prefix,
 * as Dovecot does (transport padding or junk may follow); when several
 * match, the longest boundary wins, then the innermost.
 */
static int
scan_boundary(const struct scan *sc, bool *close)
{
	const char *p = sc->d + sc->pos;
	size_t avail = sc->len - sc->pos, best_n = 0;
	int best = -1;

	if (avail < 2 || p[0] != '-' || p[1] != '-')
		return -1;
	for (int i = (int)sc->nbnd - 1; i >= 0; i--) {
		size_t n = sc->bnd[i].n;

		if (n + 2 <= avail && (best < 0 || n > best_n) &&
		    memcmp(p + 2, sc->bnd[i].s, n) == 0) {
			best = i;
			best_n = n;
		}
	}
	if (best >= 0)
		*close = best_n + 4 <= avail && p[best_n + 2] == '-' &&
		    p[best_n + 3] == '-';
	return best;
}

/*
 * The region that started at s ends here.  At a boundary the line end
 * before it belongs to the boundary (RFC 2046 §5.1.1), unless the region
 * is empty: then that line end was the previous boundary's.
 */
static void
stop_here(const struct scan *sc, size_t s, int bnd, bool close, struct stop *st)
{
	size_t q = sc->pos;

	st->bnd = bnd;
	st->close = close;
	st->end = q;
	st->lf = sc->lf;
	st->bare = sc->bare;
	if (bnd < 0 || q == s)
		return;
	st->lf--;
	if (q - 1 > s && sc->d[q - 2] == '\r') {
		st->end = q - 2;
	} else {
		st->end = q - 1;
		st->bare--;
	}
}

/* Reads lines up to a boundary or the end of the data. */
static void
scan_region(struct scan *sc, size_t s, struct stop *st)
{
	bool close = false;
	int b;

	while (sc->pos < sc->len) {
		if ((b = scan_boundary(sc, &close)) >= 0) {
			stop_here(sc, s, b, close, st);
			return;
		}
		scan_advance(sc);
	}
	stop_here(sc, s, -1, false, st);
}

/* --- the header ------------------------------------------------------- */

/* Is the line at p one of the fields we keep?  Only the start of the line
 * is read, so an endless line costs nothing here. */
static int
field_index(const char *d, size_t p, size_t len)
{
	char c = d[p];

	if (c != 'c' && c != 'C' && c != 'm' && c != 'M')
		return -1;
	for (int i = 0; i < HF_COUNT; i++) {
		size_t n = strlen(hf_names[i]), j = p + n;

		if (j > len || !mime_eqn(d + p, n, hf_names[i]))
			continue;
		while (j < len && (d[j] == ' ' || d[j] == '\t'))
			j++;
		if (j < len && d[j] == ':')
			return i;
	}
	return -1;
}

static size_t
colon_after(const char *d, size_t p)
{
	while (d[p] != ':')
		p++;
	return p + 1;
}

/*
 * Reads the header of the part starting at pos: true at the blank line
 * (pos is then the body), false when a boundary or the end of the data cut
 * it (st says where).  Lines without a colon are skipped, as Dovecot does.
 */
static bool
scan_header(struct scan *sc, struct hdr *h, struct stop *st)
{
	size_t s = sc->pos;
	int cur = -1, b = -1;
	bool close = false;

	for (;;) {
		const char *d = sc->d;
		size_t p = sc->pos;

		if (p >= sc->len || (b = scan_boundary(sc, &close)) >= 0) {
			stop_here(sc, s, p >= sc->len ? -1 : b, close, st);
			if (cur >= 0)
				h->end[cur] = st->end;
			return false;
		}
		if (d[p] != ' ' && d[p] != '\t') {
			if (cur >= 0)
				h->end[cur] = p;
			cur = -1;
			if (d[p] == '\n' || (d[p] == '\r' && p + 1 < sc->len &&
			    d[p + 1] == '\n')) {
				scan_advance(sc);
				return true;
			}
			cur = field_index(d, p, sc->len);
			if (cur >= 0 && h->set[cur])
				cur = -1;
			if (cur >= 0) {
				h->set[cur] = true;
				h->value[cur] = colon_after(d, p);
			}
		}
		scan_advance(sc);
	}
}

/* --- the fields into the part ----------------------------------------- */

static char *
raw_value(const char *d, const struct hdr *h, int i)
{
	return h->set[i] ? mime_unfold_dup(d + h->value[i], d + h->end[i]) : NULL;
}

static void
default_type(struct mime_part *part, bool digest)
{
	mime_params_free(part->params, part->nparams);
	part->params = NULL;
	part->nparams = 0;
	free(part->type);
	free(part->subtype);
	/* RFC 2045 §5.2, RFC 2046 §5.1.5: the default in a digest. */
	part->type = xstrdup(digest ? "message" : "text");
	part->subtype = xstrdup(digest ? "rfc822" : "plain");
	part->default_type = true;
}

/* The boundary as written: decoding a plain value could change its bytes. */
static const char *
boundary_of(const struct mime_part *part)
{
	for (size_t i = 0; i < part->nparams; i++) {
		const struct mime_param *p = &part->params[i];

		if (mime_eq(p->name, "boundary"))
			return p->extended ? p->value : p->wire;
	}
	return NULL;
}

static bool
boundary_ok(const char *b)
{
	size_t n = b != NULL ? strlen(b) : 0;

	return n > 0 && n <= MIME_MAX_BOUNDARY && strpbrk(b, "\r\n") == NULL;
}

/* Multipart and message parts are read as such while the bounds allow a
 * child; past them they stay one opaque leaf. */
static void
set_kind(struct scan *sc, struct mime_part *part)
{
	bool multi = mime_eq(part->type, "multipart");
	bool msg = mime_eq(part->type, "message") &&
	    (mime_eq(part->subtype, "rfc822") || mime_eq(part->subtype, "global"));

	part->kind = MIME_KIND_LEAF;
	if (!multi && !msg)
		return;
	if (part->depth >= MIME_MAX_DEPTH || sc->nparts >= MIME_MAX_PARTS) {
		part->opaque = true;
		return;
	}
	part->kind = multi ? MIME_KIND_MULTIPART : MIME_KIND_MESSAGE;
}

static void
apply_header(struct scan *sc, struct mime_part *part, const struct hdr *h,
    bool digest, bool msg_root)
{
	const char *d = sc->d;

	if (!h->set[HF_TYPE] || !mime_parse_content_type(part,
	    d + h->value[HF_TYPE], d + h->end[HF_TYPE]))
		default_type(part, digest);   /* §5.2: invalid is as absent */
	set_kind(sc, part);
	/* A message without MIME-Version and Content-Type is not MIME: its
	 * other Content-* fields are ignored, as Dovecot does (§4). */
	if (msg_root && !h->set[HF_TYPE] && !h->set[HF_VERSION])
		return;
	if (h->set[HF_ENCODING])
		part->encoding = mime_parse_token_value(d + h->value[HF_ENCODING],
		    d + h->end[HF_ENCODING]);
	part->id = raw_value(d, h, HF_ID);
	part->description = raw_value(d, h, HF_DESCRIPTION);
	part->location = raw_value(d, h, HF_LOCATION);
	part->md5 = raw_value(d, h, HF_MD5);
	if (h->set[HF_DISPOSITION])
		mime_parse_disposition(part, d + h->value[HF_DISPOSITION],
		    d + h->end[HF_DISPOSITION]);
	if (h->set[HF_LANGUAGE])
		mime_parse_language(part, d + h->value[HF_LANGUAGE],
		    d + h->end[HF_LANGUAGE]);
}

/* --- the tree --------------------------------------------------------- */

static struct mime_part *
part_new(struct scan *sc, struct mime_part *parent, struct mime_part **tail)
{
	struct mime_part *p = xcalloc(1, sizeof(*p));

	sc->nparts++;
	p->parent = parent;
	if (parent != NULL) {
		p->depth = parent->depth + 1;
		if (*tail == NULL)
			parent->children = p;
		else
			(*tail)->next = p;
		*tail = p;
		parent->nchildren++;
	}
	return p;
}

/* A multipart needs a part and a message needs a message (RFC 9051 body
 * grammar): when the data had none, an empty text/plain stands in, as
 * Dovecot does. */
static void
add_empty_child(struct scan *sc, struct mime_part *part)
{
	struct mime_part *tail = NULL, *c = part_new(sc, part, &tail);

	c->header_start = c->body_start = c->body_end = part->body_end;
	default_type(c, false);
}

static void
parse_message(struct scan *sc, struct mime_part *part, struct stop *st)
{
	struct mime_part *tail = NULL;

	parse_part(sc, part_new(sc, part, &tail), false, true, st);
}

static void
parse_multipart(struct scan *sc, struct mime_part *part, struct stop *st)
{
	const char *b = boundary_of(part);
	bool digest = mime_eq(part->subtype, "digest");
	struct mime_part *tail = NULL;
	unsigned k = sc->nbnd;

	if (!boundary_ok(b)) {
		scan_region(sc, part->body_start, st);
		return;
	}
	sc->bnd[k].s = b;
	sc->bnd[k].n = strlen(b);
	sc->nbnd++;
	scan_region(sc, part->body_start, st);   /* the preamble */
	while (st->bnd == (int)k) {
		scan_advance(sc);   /* past the boundary line */
		if (st->close || sc->nparts >= MIME_MAX_PARTS) {
			/* The epilogue, where our boundary means nothing. */
			sc->nbnd = k;
			scan_region(sc, sc->pos, st);
			return;
		}
		parse_part(sc, part_new(sc, part, &tail), digest, false, st);
	}
	sc->nbnd = k;
}

static void
parse_part(struct scan *sc, struct mime_part *part, bool digest,
    bool msg_root, struct stop *st)
{
	struct hdr h;
	size_t lf, bare = sc->bare;
	bool has_body;

	memset(&h, 0, sizeof(h));
	part->header_start = sc->pos;
	has_body = scan_header(sc, &h, st);
	part->body_start = has_body ? sc->pos : st->end;
	lf = has_body ? sc->lf : st->lf;
	part->header_vsize = part->body_start - part->header_start +
	    (has_body ? sc->bare : st->bare) - bare;
	bare = has_body ? sc->bare : st->bare;
	apply_header(sc, part, &h, digest, msg_root);

	if (has_body && part->kind == MIME_KIND_MULTIPART)
		parse_multipart(sc, part, st);
	else if (has_body && part->kind == MIME_KIND_MESSAGE)
		parse_message(sc, part, st);
	else if (has_body)
		scan_region(sc, part->body_start, st);
	part->body_end = st->end;
	part->body_lines = st->lf - lf;
	part->body_vsize = part->body_end - part->body_start + st->bare - bare;
	if (part->kind != MIME_KIND_LEAF && part->children == NULL)
		add_empty_child(sc, part);
}

struct mime_part *
mime_parse(const char *data, size_t len)
{
	struct scan *sc = xcalloc(1, sizeof(*sc));
	struct mime_part *root;
	struct stop st;

	sc->d = data != NULL ? data : "";
	sc->len = data != NULL ? len : 0;
	root = part_new(sc, NULL, NULL);
	parse_part(sc, root, false, true, &st);
	free(sc);
	return root;
}

static void
part_free(struct mime_part *p)
{
	free(p->type);
	free(p->subtype);
	mime_params_free(p->params, p->nparams);
	free(p->id);
	free(p->description);
	free(p->location);
	free(p->md5);
	free(p->encoding);
	free(p->disposition);
	mime_params_free(p->disp_params, p->ndisp_params);
	for (size_t i = 0; i < p->nlanguages; i++)
		free(p->languages[i]);
	free(p->languages);
	free(p);
}

void
mime_free(struct mime_part *root)
{
	struct mime_part *c, *next;

	if (root == NULL)
		return;
	for (c = root->children; c != NULL; c = next) {
		next = c->next;
		mime_free(c);   /* depth is bounded by MIME_MAX_DEPTH */
	}
	part_free(root);
}

/* --- lookups ---------------------------------------------------------- */

const char *
mime_param(const struct mime_part *part, const char *name)
{
	for (size_t i = 0; i < part->nparams; i++)
		if (mime_eq(part->params[i].name, name))
			return part->params[i].value;
	return NULL;
}

const char *
mime_charset(const struct mime_part *part)
{
	const char *cs = mime_param(part, "charset");

	return cs != NULL && cs[0] != '\0' ? cs : "us-ascii";
}

/* The numbered parts of a message: its body parts if it is multipart,
 * else its body alone, which is part 1. */
static const struct mime_part *
message_parts(const struct mime_part *msg)
{
	return msg->kind == MIME_KIND_MULTIPART ? msg->children : msg;
}

/* The numbered sub-parts of a part. */
static const struct mime_part *
sub_parts(const struct mime_part *p)
{
	if (p->kind == MIME_KIND_MULTIPART)
		return p->children;
	if (p->kind == MIME_KIND_MESSAGE)
		return message_parts(p->children);
	return NULL;
}

const struct mime_part *
mime_section(const struct mime_part *root, const char *spec, size_t len)
{
	const struct mime_part *list = message_parts(root), *p = root;
	size_t i = 0;

	while (i < len) {
		size_t n = 0;

		if (spec[i] < '1' || spec[i] > '9')
			return NULL;   /* no empty number, no leading zero */
		while (i < len && spec[i] >= '0' && spec[i] <= '9') {
			if (n > MIME_MAX_PARTS)
				return NULL;
			n = n * 10 + (size_t)(spec[i++] - '0');
		}
		if (i < len && (spec[i] != '.' || i + 1 == len))
			return NULL;
		i++;
		for (p = list; p != NULL && n > 1; n--)
			p = p->next;
		if (p == NULL)
			return NULL;
		list = sub_parts(p);
	}
	return p;
}
