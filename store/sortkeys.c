/*
 * The sort and thread keys of one message (sortkeys.h).
 *
 * FROM, TO and CC compare the addr-mailbox of the first address (RFC 5256
 * §3); DISPLAYFROM and DISPLAYTO its display value (RFC 5957 §3): the
 * addr-name with RFC 2047 undone when there is one and it is not empty,
 * else addr-mailbox "@" addr-host, else addr-mailbox, else "".  The first
 * address is the first of ENVELOPE's address structures, so for a group
 * it is the group's start marker, whose addr-mailbox is the group name.
 * A missing field is the empty string, which sorts first.
 */
#include "autoconfig.h"

#include <string.h>
#include <strings.h>

#include "basesubject.h"
#include "mime.h"
#include "sentdate.h"
#include "sortkeys.h"

enum { F_SUBJECT, F_FROM, F_TO, F_CC, F_DATE, F_MESSAGE_ID, F_IN_REPLY_TO,
	F_REFERENCES, F_COUNT };

static const char *const field_names[F_COUNT] = {
	"Subject", "From", "To", "Cc", "Date", "Message-ID", "In-Reply-To",
	"References",
};

struct raw_field {
	const char *v;
	size_t len;
	bool found;
};

/* The first value of every field of field_names. */
static int
field_fn(const char *name, size_t nlen, const char *value, size_t vlen, void *arg)
{
	struct raw_field *f = arg;

	for (int i = 0; i < F_COUNT; i++) {
		if (f[i].found || strlen(field_names[i]) != nlen ||
		    strncasecmp(name, field_names[i], nlen) != 0)
			continue;
		f[i].v = value;
		f[i].len = vlen;
		f[i].found = true;
	}
	return 0;
}

/*
 * s[0..len) into text as a key: at most SORTKEYS_STR_MAX bytes cut on a
 * UTF-8 character boundary, up to a NUL, folded to ASCII upper case
 * (i;ascii-casemap), NUL-terminated.  Its offset in text.
 */
static size_t
put_key(struct buf *text, const char *s, size_t len)
{
	size_t off = text->len;
	const char *nul = len > 0 ? memchr(s, '\0', len) : NULL;

	if (nul != NULL)
		len = (size_t)(nul - s);
	if (len > SORTKEYS_STR_MAX) {
		len = SORTKEYS_STR_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		buf_append_char(text, c >= 'a' && c <= 'z' ? (char)(c - ('a' - 'A')) : c);
	}
	buf_append_char(text, '\0');
	return off;
}

static size_t
put_buf_key(struct buf *text, const struct buf *b)
{
	return put_key(text, b->data != NULL ? b->data : "", b->len);
}

/* The RFC 5957 display value of an address. */
static size_t
put_display(struct buf *text, const struct mime_address *a)
{
	struct buf b = BUF_INIT;
	size_t off;

	if (a->name.len > 0)
		mime_header_decode(a->name.data, a->name.len, &b);
	if (b.len == 0 && a->mailbox.len > 0) {
		buf_append(&b, a->mailbox.data, a->mailbox.len);
		if (a->host.len > 0) {
			buf_append_char(&b, '@');
			buf_append(&b, a->host.data, a->host.len);
		}
	}
	off = put_buf_key(text, &b);
	buf_free(&b);
	return off;
}

/* addr-mailbox and display value of the first address. */
static void
put_address(struct buf *text, const struct raw_field *f, size_t *mailbox,
    size_t *display)
{
	struct mime_address a = MIME_ADDRESS_INIT;

	if (f->found && mime_address_first(f->v, f->len, &a) == 0) {
		*mailbox = put_buf_key(text, &a.mailbox);
		*display = put_display(text, &a);
	}
	mime_address_free(&a);
}


/*
 * RFC 5256 §3 REFERENCES: the msg-ids of References (the last
 * SORTKEYS_REFS_MAX: the nearest ancestors); without a valid one, the
 * first valid msg-id of In-Reply-To.  Into refs, each NUL-terminated.
 */
static size_t
collect_refs(const struct raw_field *f, struct buf *refs)
{
	size_t n = 0, start[SORTKEYS_REFS_MAX] = { 0 }, first = 0;
	struct buf id = BUF_INIT;
	const char *p, *end;

	if (f[F_REFERENCES].found) {
		p = f[F_REFERENCES].v;
		end = p + f[F_REFERENCES].len;
		while (mime_msgid_next_kept(&p, end, &id, SORTKEYS_ID_MAX)) {
			/* a ring of the last SORTKEYS_REFS_MAX starts */
			start[n % SORTKEYS_REFS_MAX] = refs->len;
			buf_append(refs, id.data, id.len);
			buf_append_char(refs, '\0');
			n++;
		}
	}
	if (n > SORTKEYS_REFS_MAX) {
		first = start[n % SORTKEYS_REFS_MAX];
		memmove(refs->data, refs->data + first, refs->len - first);
		refs->len -= first;
		n = SORTKEYS_REFS_MAX;
	}
	if (n == 0 && f[F_IN_REPLY_TO].found) {
		p = f[F_IN_REPLY_TO].v;
		end = p + f[F_IN_REPLY_TO].len;
		if (mime_msgid_next_kept(&p, end, &id, SORTKEYS_ID_MAX)) {
			buf_append(refs, id.data, id.len);
			buf_append_char(refs, '\0');
			n = 1;
		}
	}
	buf_free(&id);
	return n;
}

void
sortkeys_make(const char *header, size_t len, unsigned want, struct buf *text,
    struct sortkeys *k)
{
	struct raw_field f[F_COUNT];
	size_t off[SORTKEYS_NSTR], refs_off;
	struct buf b = BUF_INIT;
	struct sentdate d;

	memset(f, 0, sizeof(f));
	memset(k, 0, sizeof(*k));
	buf_reset(text);
	buf_append_char(text, '\0');        /* offset 0: "" */
	for (int i = 0; i < SORTKEYS_NSTR; i++)
		off[i] = 0;
	if (header != NULL)
		mime_header_walk(header, len, field_fn, f);
	if ((want & SORTKEYS_WANT_STR(SORTKEYS_SUBJECT)) && f[F_SUBJECT].found &&
	    basesubject_raw(f[F_SUBJECT].v, f[F_SUBJECT].len, &b, &k->reply) == 0)
		off[SORTKEYS_SUBJECT] = put_buf_key(text, &b);
	buf_free(&b);
	if (want & (SORTKEYS_WANT_STR(SORTKEYS_FROM) |
	    SORTKEYS_WANT_STR(SORTKEYS_DFROM)))
		put_address(text, &f[F_FROM], &off[SORTKEYS_FROM],
		    &off[SORTKEYS_DFROM]);
	if (want & (SORTKEYS_WANT_STR(SORTKEYS_TO) |
	    SORTKEYS_WANT_STR(SORTKEYS_DTO)))
		put_address(text, &f[F_TO], &off[SORTKEYS_TO], &off[SORTKEYS_DTO]);
	if (want & SORTKEYS_WANT_STR(SORTKEYS_CC)) {
		size_t unused = 0;

		put_address(text, &f[F_CC], &off[SORTKEYS_CC], &unused);
	}
	/* RFC 5256 §2.2: a Date that does not parse is none */
	if ((want & SORTKEYS_WANT_DATE) && f[F_DATE].found &&
	    sentdate_parse(f[F_DATE].v, f[F_DATE].len, &d) == 0) {
		k->has_date = true;
		k->date = sentdate_utc(&d);
	}
	if ((want & SORTKEYS_WANT_STR(SORTKEYS_MSGID)) && f[F_MESSAGE_ID].found) {
		const char *p = f[F_MESSAGE_ID].v, *end = p + f[F_MESSAGE_ID].len;
		struct buf id = BUF_INIT;

		if (mime_msgid_next_kept(&p, end, &id, SORTKEYS_ID_MAX)) {
			off[SORTKEYS_MSGID] = text->len;
			buf_append(text, id.data, id.len);
			buf_append_char(text, '\0');
		}
		buf_free(&id);
	}
	{
		struct buf refs = BUF_INIT;

		if (want & SORTKEYS_WANT_REFS)
			k->n_refs = collect_refs(f, &refs);
		refs_off = text->len;
		k->refs_len = refs.len;
		if (refs.len > 0)
			buf_append(text, refs.data, refs.len);
		buf_free(&refs);
	}
	/* text is complete: its pointers hold from here */
	for (int i = 0; i < SORTKEYS_NSTR; i++)
		k->str[i] = text->data + off[i];
	k->refs = k->refs_len > 0 ? text->data + refs_off : NULL;
}

const char *
sortkeys_ref_next(const struct sortkeys *k, const char **p)
{
	const char *r;

	if (k->refs == NULL)
		return NULL;
	if (*p == NULL)
		*p = k->refs;
	if (*p >= k->refs + k->refs_len)
		return NULL;
	r = *p;
	*p += strlen(r) + 1;
	return r;
}
