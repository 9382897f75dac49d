/*
 * The sort keys of one message (sortkey.h).
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

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basesubject.h"
#include "mime.h"
#include "search.h"
#include "sentdate.h"
#include "sortkey.h"
#include "xmalloc.h"

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

/* A copy of s[0..len), at most SORTKEY_STR_MAX bytes cut on a UTF-8
 * character boundary; NULL for an empty string. */
static char *
key_dup(const char *s, size_t len)
{
	char *p;

	if (len > SORTKEY_STR_MAX) {
		len = SORTKEY_STR_MAX;
		while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
			len--;
	}
	if (len == 0)
		return NULL;
	p = xmalloc(len + 1);
	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

static char *
buf_key(const struct buf *b)
{
	return b->len > 0 ? key_dup(b->data, b->len) : NULL;
}

static void
fill_subject(struct sortkey *k, const struct raw_field *f)
{
	struct buf b = BUF_INIT;

	if (f->found && basesubject_raw(f->v, f->len, &b, &k->reply) == 0)
		k->subject = buf_key(&b);
	buf_free(&b);
}

/* The RFC 5957 display value of an address. */
static char *
display_value(const struct mime_address *a)
{
	struct buf b = BUF_INIT;
	char *r;

	if (a->name.len > 0)
		mime_header_decode(a->name.data, a->name.len, &b);
	if (b.len == 0 && a->mailbox.len > 0) {
		buf_append(&b, a->mailbox.data, a->mailbox.len);
		if (a->host.len > 0) {
			buf_append_char(&b, '@');
			buf_append(&b, a->host.data, a->host.len);
		}
	}
	r = buf_key(&b);
	buf_free(&b);
	return r;
}

/* addr-mailbox and, when display is not NULL, the display value. */
static void
fill_address(const struct raw_field *f, char **mailbox, char **display)
{
	struct mime_address a = MIME_ADDRESS_INIT;

	if (f->found && mime_address_first(f->v, f->len, &a) == 0) {
		if (mailbox != NULL)
			*mailbox = buf_key(&a.mailbox);
		if (display != NULL)
			*display = display_value(&a);
	}
	mime_address_free(&a);
}

static void
fill_date(struct sortkey *k, const struct raw_field *f)
{
	struct sentdate d;

	/* RFC 5256 §2.2: without a Date: that parses, the internal date */
	if (f->found && sentdate_parse(f->v, f->len, &d) == 0)
		k->date = sentdate_utc(&d);
	else
		k->date = k->arrival;
}

/* The next msg-id of [*p, end) short enough to keep, into id. */
static bool
next_id(const char **p, const char *end, struct buf *id)
{
	for (;;) {
		buf_reset(id);
		if (!mime_msgid_next(p, end, id))
			return false;
		if (id->len <= SORTKEY_ID_MAX && memchr(id->data, '\0', id->len) == NULL)
			return true;
	}
}

static void
add_ref(struct sortkey *k, const char *id)
{
	/* keep the last SORTKEY_REFS_MAX: the nearest ancestors */
	if (k->n_refs == SORTKEY_REFS_MAX) {
		free(k->refs[0]);
		memmove(k->refs, k->refs + 1, (k->n_refs - 1) * sizeof(*k->refs));
		k->n_refs--;
	}
	k->refs = xreallocarray(k->refs, k->n_refs + 1, sizeof(*k->refs));
	k->refs[k->n_refs++] = xstrdup(id);
}

/*
 * RFC 5256 §3 REFERENCES: the msg-ids of References; without a valid
 * one, the first valid msg-id of In-Reply-To.  And the Message-ID.
 */
static void
fill_ids(struct sortkey *k, const struct raw_field *f)
{
	struct buf id = BUF_INIT;
	const char *p, *end;

	if (f[F_MESSAGE_ID].found) {
		p = f[F_MESSAGE_ID].v;
		end = p + f[F_MESSAGE_ID].len;
		if (next_id(&p, end, &id))
			k->msgid = xstrdup(id.data);
	}
	if (f[F_REFERENCES].found) {
		p = f[F_REFERENCES].v;
		end = p + f[F_REFERENCES].len;
		while (next_id(&p, end, &id))
			add_ref(k, id.data);
	}
	if (k->n_refs == 0 && f[F_IN_REPLY_TO].found) {
		p = f[F_IN_REPLY_TO].v;
		end = p + f[F_IN_REPLY_TO].len;
		if (next_id(&p, end, &id))
			add_ref(k, id.data);
	}
	buf_free(&id);
}

void
sortkey_fill(struct sortkey *k, unsigned want, const char *header, size_t len)
{
	struct raw_field f[F_COUNT];

	memset(f, 0, sizeof(f));
	k->date = k->arrival;
	if ((want & ~SORTKEY_WANT_ROW) == 0)
		return;
	if (header != NULL)
		search_header_walk(header, len, field_fn, f);
	if (want & (SORTKEY_WANT(SORTKEY_SUBJECT) | SORTKEY_WANT_IDS))
		fill_subject(k, &f[F_SUBJECT]);
	if (want & (SORTKEY_WANT(SORTKEY_FROM) | SORTKEY_WANT(SORTKEY_DISPLAYFROM)))
		fill_address(&f[F_FROM], (want & SORTKEY_WANT(SORTKEY_FROM)) ?
		    &k->from : NULL, (want & SORTKEY_WANT(SORTKEY_DISPLAYFROM)) ?
		    &k->dfrom : NULL);
	if (want & (SORTKEY_WANT(SORTKEY_TO) | SORTKEY_WANT(SORTKEY_DISPLAYTO)))
		fill_address(&f[F_TO], (want & SORTKEY_WANT(SORTKEY_TO)) ?
		    &k->to : NULL, (want & SORTKEY_WANT(SORTKEY_DISPLAYTO)) ?
		    &k->dto : NULL);
	if (want & SORTKEY_WANT(SORTKEY_CC))
		fill_address(&f[F_CC], &k->cc, NULL);
	if (want & (SORTKEY_WANT(SORTKEY_DATE) | SORTKEY_WANT_IDS))
		fill_date(k, &f[F_DATE]);
	if (want & SORTKEY_WANT_IDS)
		fill_ids(k, f);
}

void
sortkey_free(struct sortkey *k)
{
	free(k->subject);
	free(k->from);
	free(k->to);
	free(k->cc);
	free(k->dfrom);
	free(k->dto);
	free(k->msgid);
	for (size_t i = 0; i < k->n_refs; i++)
		free(k->refs[i]);
	free(k->refs);
	k->subject = k->from = k->to = k->cc = k->dfrom = k->dto = k->msgid = NULL;
	k->refs = NULL;
	k->n_refs = 0;
}

unsigned
sortkey_want(const struct sortkey_criterion *c, size_t n)
{
	unsigned want = 0;

	for (size_t i = 0; i < n; i++)
		want |= SORTKEY_WANT(c[i].field);
	return want;
}

static int
cmp_num(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static int
cmp_str(const char *a, const char *b)
{
	return basesubject_cmp(a != NULL ? a : "", b != NULL ? b : "");
}

static int
cmp_field(const struct sortkey *a, const struct sortkey *b, enum sortkey_field f)
{
	switch (f) {
	case SORTKEY_ARRIVAL:
		return cmp_num(a->arrival, b->arrival);
	case SORTKEY_CC:
		return cmp_str(a->cc, b->cc);
	case SORTKEY_DATE:
		return cmp_num(a->date, b->date);
	case SORTKEY_FROM:
		return cmp_str(a->from, b->from);
	case SORTKEY_SIZE:
		return (a->size > b->size) - (a->size < b->size);
	case SORTKEY_SUBJECT:
		return cmp_str(a->subject, b->subject);
	case SORTKEY_TO:
		return cmp_str(a->to, b->to);
	case SORTKEY_DISPLAYFROM:
		return cmp_str(a->dfrom, b->dfrom);
	case SORTKEY_DISPLAYTO:
		return cmp_str(a->dto, b->dto);
	}
	return 0;
}

int
sortkey_cmp(const struct sortkey *a, const struct sortkey *b,
    const struct sortkey_criterion *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int r = cmp_field(a, b, c[i].field);

		if (r != 0)
			return c[i].reverse ? (r < 0 ? 1 : -1) : r;
	}
	/* RFC 5256 §3: ties in the order of the mailbox */
	return (a->msn > b->msn) - (a->msn < b->msn);
}
