/*
 * BODY and BODYSTRUCTURE, RFC 9051 §7.5.2 and the body grammar of §9:
 *
 *   body-type-1part = (body-type-basic / body-type-msg / body-type-text)
 *                     [SP body-ext-1part]
 *   body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
 *
 * Extension data is always sent in full (md5, disposition, language,
 * location), NIL where absent, as Dovecot does.
 */
#include "autoconfig.h"

#include <string.h>

#include "mime-int.h"

static void put_body(const char *data, size_t len, const struct mime_part *p,
    unsigned flags, struct buf *out);

static void
put_nstring(struct buf *out, const char *s)
{
	buf_append_imap_string(out, s, s != NULL ? strlen(s) : 0);
}

static void
put_param_name(struct buf *out, const struct mime_param *p)
{
	struct buf name = BUF_INIT;

	if (!p->extended) {
		put_nstring(out, p->name);
		return;
	}
	buf_append_str(&name, p->name);
	buf_append_char(&name, '*');   /* RFC 2231 form, value still encoded */
	buf_append_imap_string(out, name.data, name.len);
	buf_free(&name);
}

/* body-fld-param.  A text part without a charset gets "us-ascii", the
 * RFC 2046 §4.1.2 default, spelled out as Dovecot does. */
static void
put_params(struct buf *out, const struct mime_param *params, size_t n,
    bool add_charset)
{
	for (size_t i = 0; i < n && add_charset; i++)
		if (mime_eq(params[i].name, "charset"))
			add_charset = false;
	if (n == 0 && !add_charset) {
		buf_append_str(out, "NIL");
		return;
	}
	buf_append_char(out, '(');
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			buf_append_char(out, ' ');
		put_param_name(out, &params[i]);
		buf_append_char(out, ' ');
		put_nstring(out, params[i].wire);
	}
	if (add_charset)
		buf_append_str(out, n > 0 ? " \"charset\" \"us-ascii\"" :
		    "\"charset\" \"us-ascii\"");
	buf_append_char(out, ')');
}

/* body-fld-dsp SP body-fld-lang SP body-fld-loc */
static void
put_ext_common(const struct mime_part *p, struct buf *out)
{
	buf_append_char(out, ' ');
	if (p->disposition == NULL) {
		buf_append_str(out, "NIL");
	} else {
		buf_append_char(out, '(');
		put_nstring(out, p->disposition);
		buf_append_char(out, ' ');
		put_params(out, p->disp_params, p->ndisp_params, false);
		buf_append_char(out, ')');
	}
	buf_append_char(out, ' ');
	if (p->nlanguages == 0) {
		buf_append_str(out, "NIL");
	} else {
		buf_append_char(out, '(');
		for (size_t i = 0; i < p->nlanguages; i++) {
			if (i > 0)
				buf_append_char(out, ' ');
			put_nstring(out, p->languages[i]);
		}
		buf_append_char(out, ')');
	}
	buf_append_char(out, ' ');
	put_nstring(out, p->location);
}

static void
put_multipart(const char *data, size_t len, const struct mime_part *p,
    unsigned flags, struct buf *out)
{
	for (const struct mime_part *c = p->children; c != NULL; c = c->next)
		put_body(data, len, c, flags, out);
	buf_append_char(out, ' ');
	put_nstring(out, p->subtype);
	if (flags & MIME_BS_EXTENDED) {
		buf_append_char(out, ' ');
		put_params(out, p->params, p->nparams, false);
		put_ext_common(p, out);
	}
}

/* message/global is a message for IMAP4rev2 only (see mime.h). */
static bool
encapsulates(const struct mime_part *p, unsigned flags)
{
	return p->kind == MIME_KIND_MESSAGE &&
	    ((flags & MIME_BS_REV2) || mime_eq(p->subtype, "rfc822"));
}

static void
put_single(const char *data, size_t len, const struct mime_part *p,
    unsigned flags, struct buf *out)
{
	bool text = !p->opaque && mime_eq(p->type, "text");
	bool msg = encapsulates(p, flags);

	if (p->opaque) {
		buf_append_str(out, "\"application\" \"octet-stream\" ");
	} else if (msg) {
		/* media-message is spelled out in the grammar: lower case, as
		 * Dovecot sends it. */
		buf_append_str(out, mime_eq(p->subtype, "rfc822") ?
		    "\"message\" \"rfc822\" " : "\"message\" \"global\" ");
	} else {
		put_nstring(out, p->type);
		buf_append_char(out, ' ');
		put_nstring(out, p->subtype);
		buf_append_char(out, ' ');
	}
	/* body-fields */
	put_params(out, p->params, p->nparams, text);
	buf_append_char(out, ' ');
	put_nstring(out, p->id);
	buf_append_char(out, ' ');
	put_nstring(out, p->description);
	buf_append_char(out, ' ');
	put_nstring(out, p->encoding != NULL ? p->encoding : "7bit");
	buf_printf(out, " %zu", p->body_vsize);
	if (msg) {
		buf_append_char(out, ' ');
		mime_envelope(data, len, p->children, out);
		buf_append_char(out, ' ');
		put_body(data, len, p->children, flags, out);
		buf_printf(out, " %zu", p->body_lines);
	} else if (text) {
		buf_printf(out, " %zu", p->body_lines);
	}
	if (flags & MIME_BS_EXTENDED) {
		buf_append_char(out, ' ');
		put_nstring(out, p->md5);
		put_ext_common(p, out);
	}
}

/* Recursion is bounded by MIME_MAX_DEPTH. */
static void
put_body(const char *data, size_t len, const struct mime_part *p,
    unsigned flags, struct buf *out)
{
	buf_append_char(out, '(');
	if (p->kind == MIME_KIND_MULTIPART)
		put_multipart(data, len, p, flags, out);
	else
		put_single(data, len, p, flags, out);
	buf_append_char(out, ')');
}

int
mime_bodystructure_flags(const char *data, size_t len,
    const struct mime_part *root, unsigned flags, struct buf *out)
{
	put_body(data, len, root, flags, out);
	return out->overflow ? -1 : 0;
}

int
mime_bodystructure(const char *data, size_t len, const struct mime_part *root,
    bool extended, struct buf *out)
{
	return mime_bodystructure_flags(data, len, root,
	    extended ? MIME_BS_EXTENDED : 0, out);
}
