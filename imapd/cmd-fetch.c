/*
 * FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9, §7.5.2; RFC 3501 for the
 * IMAP4rev1 forms; RFC 3516 BINARY; RFC 7162 MODSEQ, CHANGEDSINCE and
 * VANISHED; RFC 8474 EMAILID, THREADID; RFC 8514 SAVEDATE).
 *
 * One "* n FETCH (...)" per message, the attributes in the order asked
 * (UID first in the UID form unless the client placed it).  ENVELOPE,
 * BODY/BODYSTRUCTURE and PREVIEW come from the store's cache; body sections
 * from the
 * mapped message, written straight from the mapping in pieces, so a large
 * body passes through the connection's bounded buffer and is never copied
 * whole.  Everything a message needs is released before the next one.
 *
 * A section without PEEK sets \Seen on a read-write view (§6.4.5): for all
 * the messages at once, before the responses; a message whose flags this
 * changed gets FLAGS (and with CONDSTORE, MODSEQ) in its response.
 * Messages another session expunged are left out and the command ends
 * OK [EXPUNGEISSUED], as Dovecot answers (§7.5.1 leaves the choice).
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd.h"
#include "fetch.h"
#include "flags.h"
#include "objectid.h"
#include "select.h"
#include "seqset.h"
#include "xmalloc.h"

/* Bytes of a literal handed to the connection at a time. */
#define FETCH_CHUNK (64 * 1024)
/* Messages read under one snapshot (store_read_hold). */
#define FETCH_HOLD_BATCH 1000

enum fetch_outcome {
	FETCH_DONE,
	FETCH_SKIP,            /* not changed since CHANGEDSINCE */
	FETCH_GONE,            /* expunged by another session */
	FETCH_STORE_ERROR,
	FETCH_UNKNOWN_CTE,
	FETCH_TOO_BIG,
	FETCH_BROKEN,          /* the connection failed */
};

struct fetch_run {
	struct session *s;
	const struct fetch_request *req;
	bool needs_map;        /* a section, BINARY or BINARY.SIZE */
	bool has_flags;        /* FLAGS is asked for */
	bool has_uid;          /* UID is asked for (or the UID form) */
	struct seqset seen;    /* uids whose flags the implicit \Seen changed */
	struct buf line;       /* the response being built, not yet written */
	struct buf flags;      /* "(\Seen ...)" of the current message */
	struct buf scratch;    /* HEADER.FIELDS, decoded BINARY */
	struct buf envelope, body, bodystructure;
	struct buf preview;    /* RFC 8970 PREVIEW of the current message */
	bool preview_nil;      /* PREVIEW (LAZY) and none cached: NIL */
	char *chunk;           /* FETCH_CHUNK bytes for NUL replacement, on demand */
	size_t *sizes;         /* BINARY.SIZE of each att, found before writing */
	bool too_big;          /* a section was sent as NIL: answer NO [LIMIT] */
};

/* ---- output ------------------------------------------------------------- */

static bool
out_write(struct fetch_run *r, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len < FETCH_CHUNK ? len : FETCH_CHUNK;

		if (conn_write(&r->s->conn, data, n) != CONN_OK)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

/*
 * A literal may not hold NUL (RFC 9051 §9 CHAR8; only BINARY's literal8
 * may): a NUL in a BODY section is sent as 0x80, as Dovecot does.
 */
static bool
out_write_nonul(struct fetch_run *r, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len < FETCH_CHUNK ? len : FETCH_CHUNK;
		const char *piece = data;

		if (memchr(data, '\0', n) != NULL) {
			if (r->chunk == NULL)
				r->chunk = xmalloc(FETCH_CHUNK);
			for (size_t i = 0; i < n; i++)
				r->chunk[i] = data[i] != '\0' ? data[i] : (char)0x80;
			piece = r->chunk;
		}
		if (conn_write(&r->s->conn, piece, n) != CONN_OK)
			return false;
		data += n;
		len -= n;
	}
	return true;
}

static bool
out_line(struct fetch_run *r)
{
	bool ok = out_write(r, r->line.data != NULL ? r->line.data : "", r->line.len);

	buf_reset(&r->line);
	return ok;
}

/* "{n}\r\n" (or ~{n} for literal8) and the bytes, after the line so far. */
static bool
out_literal(struct fetch_run *r, const char *data, size_t len, bool literal8)
{
	buf_printf(&r->line, "%s{%zu}\r\n", literal8 ? "~" : "", len);
	if (!out_line(r))
		return false;
	return literal8 ? out_write(r, data, len) : out_write_nonul(r, data, len);
}

/* date-time (RFC 9051 §9): "dd-Mon-yyyy hh:mm:ss +zzzz" in the zone
 * tz_minutes east of UTC. */
static void
out_datetime(struct buf *out, int64_t when, int tz_minutes)
{
	static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	time_t t = (time_t)(when + (int64_t)tz_minutes * 60);
	int off = tz_minutes < 0 ? -tz_minutes : tz_minutes;
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 ||
	    tm.tm_year + 1900 < 1) {
		t = 0;
		off = tz_minutes = 0;
		(void)gmtime_r(&t, &tm);
	}
	buf_printf(out, "\"%02d-%s-%04d %02d:%02d:%02d %c%02d%02d\"",
	    tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
	    tm.tm_sec, tz_minutes < 0 ? '-' : '+', off / 60 % 100, off % 60);
}

/* ---- BODY / BODYSTRUCTURE ------------------------------------------------ */

/* Does cached structure text name a message/global part (any case)? */
static bool
names_message_global(const struct buf *b)
{
	static const char needle[] = "\"message\" \"global\"";
	size_t n = sizeof(needle) - 1;

	for (size_t i = 0; i + n <= b->len; i++)
		if (strncasecmp(b->data + i, needle, n) == 0)
			return true;
	return false;
}

/*
 * The cache holds the IMAP4rev1 form, which differs from IMAP4rev2's only
 * for message/global parts (mime.h): a session that enabled IMAP4rev2
 * gets those few messages parsed afresh.
 */
static enum fetch_outcome
structure(struct fetch_run *r, uint32_t uid, bool extended, struct fetch_msg *fm,
    struct buf *out)
{
	struct session *s = r->s;
	enum store_result sr;
	const char *data;
	size_t len;

	sr = store_message_bodystructure(s->view, uid, extended, out);
	if (sr != STORE_OK)
		return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
	if (!(s->enabled & SESSION_ENABLED_IMAP4REV2) || !names_message_global(out))
		return FETCH_DONE;
	if (fm->data == NULL) {
		if ((sr = store_message_map(s->view, uid, &data, &len)) != STORE_OK)
			return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
		fetch_msg_init(fm, data, len);
	}
	if (fm->root == NULL)
		fm->root = mime_parse(fm->data, fm->len);
	buf_reset(out);
	(void)mime_bodystructure_flags(fm->data, fm->len, fm->root,
	    (extended ? MIME_BS_EXTENDED : 0) | MIME_BS_REV2, out);
	return out->overflow ? FETCH_TOO_BIG : FETCH_DONE;
}

/* ---- PREVIEW ---------------------------------------------------------------- */

/*
 * RFC 8970 §3: the text of mime_preview(), cached at APPEND.  A message
 * stored before Cairn cached it has its preview made from the file now,
 * or, with LAZY, none: NIL, which tells the client to ask again without
 * LAZY when it wants to wait for it.
 */
static enum fetch_outcome
fetch_preview(struct fetch_run *r, uint32_t uid, bool lazy)
{
	enum store_result sr;
	bool available;

	buf_reset(&r->preview);
	sr = store_message_preview(r->s->view, uid, lazy, &r->preview, &available);
	if (sr != STORE_OK)
		return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
	r->preview_nil = !available;
	return FETCH_DONE;
}

/* ---- one message ---------------------------------------------------------- */

/*
 * What may fail is done before a byte of the response goes out: the
 * store's rows and cached text, the mapping, BINARY's encodings.  Past
 * that, the message is mapped (immutable, valid even once expunged) and
 * the response is written through.
 */
static enum fetch_outcome
fetch_prepare(struct fetch_run *r, uint32_t uid, struct store_message *m,
    struct fetch_msg *fm)
{
	struct session *s = r->s;
	const struct fetch_request *req = r->req;
	const char *data = NULL;
	size_t len = 0;
	enum store_result sr;
	enum fetch_outcome o;

	if ((sr = store_message_get(s->view, uid, m)) != STORE_OK)
		return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
	if (req->changedsince_set && m->modseq <= req->changedsince)
		return FETCH_SKIP;
	/* keywords live until the next call on the view: format them now */
	buf_reset(&r->flags);
	flags_format(m, !(s->enabled & SESSION_ENABLED_IMAP4REV2), &r->flags);
	if (r->needs_map) {
		if ((sr = store_message_map(s->view, uid, &data, &len)) != STORE_OK)
			return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
		fetch_msg_init(fm, data, len);
	}
	for (size_t i = 0; i < req->n; i++) {
		const struct fetch_att *a = &req->atts[i];
		struct buf *out = a->kind == FETCH_BODY ? &r->body : &r->bodystructure;

		if (!fetch_body_cte_known(fm, a))
			return FETCH_UNKNOWN_CTE;
		if (a->kind == FETCH_BINARY_SIZE) {
			const char *body;

			if (fetch_body(fm, a, &r->scratch, &body, &r->sizes[i]) !=
			    FETCH_BODY_OK)
				return FETCH_TOO_BIG;
		}
		if (a->kind == FETCH_PREVIEW && (o = fetch_preview(r, uid,
		    a->lazy)) != FETCH_DONE)
			return o;
		if (a->kind == FETCH_ENVELOPE && r->envelope.len == 0) {
			sr = store_message_envelope(s->view, uid, &r->envelope);
			if (sr != STORE_OK)
				return sr == STORE_NOT_FOUND ? FETCH_GONE : FETCH_STORE_ERROR;
		}
		if ((a->kind == FETCH_BODY || a->kind == FETCH_BODYSTRUCTURE) &&
		    out->len == 0 && (o = structure(r, uid,
		    a->kind == FETCH_BODYSTRUCTURE, fm, out)) != FETCH_DONE)
			return o;
	}
	return FETCH_DONE;
}

static enum fetch_outcome
fetch_section(struct fetch_run *r, const struct fetch_att *a, size_t i,
    struct fetch_msg *fm)
{
	const char *data;
	size_t len;

	if (a->kind == FETCH_BINARY_SIZE) {
		buf_printf(&r->line, "%s %zu", a->label, r->sizes[i]);
		return FETCH_DONE;
	}
	if (fetch_body(fm, a, &r->scratch, &data, &len) != FETCH_BODY_OK) {
		/* Only a decoded part or a field list past the scratch limit
		 * gets here (fetch_prepare() saw to the encodings), perhaps
		 * after a literal went out: end the response properly. */
		buf_printf(&r->line, "%s NIL", a->label);
		r->too_big = true;
		return FETCH_DONE;
	}
	buf_append_str(&r->line, a->label);
	if (a->partial) {
		uint64_t from = a->origin < len ? a->origin : len;
		uint64_t n = a->octets < len - from ? a->octets : len - from;

		buf_printf(&r->line, "<%" PRIu64 ">", a->origin);
		data += from;
		len = (size_t)n;
	}
	buf_append_char(&r->line, ' ');
	/* RFC 3516 §4.2: binary content with NUL goes as literal8. */
	if (!out_literal(r, data, len, a->kind == FETCH_BINARY &&
	    memchr(data, '\0', len) != NULL))
		return FETCH_BROKEN;
	return FETCH_DONE;
}

static enum fetch_outcome
fetch_att(struct fetch_run *r, size_t i, const struct store_message *m,
    struct fetch_msg *fm)
{
	const struct fetch_att *a = &r->req->atts[i];

	switch (a->kind) {
	case FETCH_UID:
		buf_append_str(&r->line, "UID ");
		buf_append_uint(&r->line, m->uid);
		break;
	case FETCH_FLAGS:
		buf_append_str(&r->line, "FLAGS ");
		buf_append(&r->line, r->flags.data, r->flags.len);
		break;
	case FETCH_INTERNALDATE:
		buf_append_str(&r->line, "INTERNALDATE ");
		out_datetime(&r->line, m->internaldate, m->tz_minutes);
		break;
	case FETCH_SAVEDATE:
		/* RFC 8514 §4.2: NIL where it is not known (stored before
		 * Cairn kept it); shown in UTC, the zone SEARCH's SAVED* keys
		 * count days in */
		buf_append_str(&r->line, "SAVEDATE ");
		if (m->savedate == 0)
			buf_append_str(&r->line, "NIL");
		else
			out_datetime(&r->line, m->savedate, 0);
		break;
	case FETCH_RFC822_SIZE:
		buf_append_str(&r->line, "RFC822.SIZE ");
		buf_append_uint(&r->line, m->size);
		break;
	case FETCH_ENVELOPE:
		buf_append_str(&r->line, "ENVELOPE ");
		buf_append(&r->line, r->envelope.data, r->envelope.len);
		break;
	case FETCH_BODY:
		buf_append_str(&r->line, "BODY ");
		buf_append(&r->line, r->body.data, r->body.len);
		break;
	case FETCH_BODYSTRUCTURE:
		buf_append_str(&r->line, "BODYSTRUCTURE ");
		buf_append(&r->line, r->bodystructure.data, r->bodystructure.len);
		break;
	case FETCH_MODSEQ:
		buf_printf(&r->line, "MODSEQ (%" PRIu64 ")", m->modseq);
		break;
	case FETCH_EMAILID: {
		char id[OBJECTID_BUF];

		objectid_email(m->email_id, id);
		buf_printf(&r->line, "EMAILID (%s)", id);
		break;
	}
	case FETCH_THREADID: {
		char id[OBJECTID_BUF];

		/* RFC 8474 §5.2: NIL where the message has no thread */
		if (m->thread_id == 0) {
			buf_append_str(&r->line, "THREADID NIL");
			break;
		}
		objectid_thread(m->thread_id, id);
		buf_printf(&r->line, "THREADID (%s)", id);
		break;
	}
	case FETCH_PREVIEW:
		/* UTF-8 without CR, LF or NUL: quoted when ASCII, else a
		 * literal, which IMAP4rev1 needs for 8-bit text */
		buf_append_str(&r->line, "PREVIEW ");
		buf_append_imap_string(&r->line, r->preview_nil ? NULL :
		    r->preview.data != NULL ? r->preview.data : "", r->preview.len);
		break;
	case FETCH_SECTION:
	case FETCH_BINARY:
	case FETCH_BINARY_SIZE:
		return fetch_section(r, a, i, fm);
	}
	return FETCH_DONE;
}

static enum fetch_outcome
fetch_write(struct fetch_run *r, const struct store_message *m, struct fetch_msg *fm)
{
	const struct fetch_request *req = r->req;
	bool changed = seqset_contains(&r->seen, m->uid);
	/* §6.4.5: flags the fetch changed come with it; first, after a
	 * leading UID, as Dovecot places them. */
	size_t implicit_at = req->n > 0 && req->atts[0].kind == FETCH_UID ? 1 : 0;
	const char *sep = "";
	enum fetch_outcome o;

	buf_reset(&r->line);
	buf_append_str(&r->line, "* ");
	buf_append_uint(&r->line, store_view_msn(r->s->view, m->uid));
	buf_append_str(&r->line, " FETCH (");
	/* RFC 7162 §3.2.4: with QRESYNC, an implicit \Seen comes with the
	 * UID as well as the MODSEQ. */
	if (changed && !r->has_uid && (r->s->enabled & SESSION_ENABLED_QRESYNC)) {
		buf_printf(&r->line, "UID %u", m->uid);
		sep = " ";
	}
	for (size_t i = 0; i <= req->n; i++) {
		if (i == implicit_at && changed && !r->has_flags) {
			buf_printf(&r->line, "%sFLAGS %s", sep, r->flags.data);
			sep = " ";
		}
		if (i == req->n)
			break;
		buf_append_str(&r->line, sep);
		if ((o = fetch_att(r, i, m, fm)) != FETCH_DONE)
			return o;
		sep = " ";
	}
	/* RFC 7162 §3.2: with CONDSTORE, a flag change carries its MODSEQ. */
	if (changed && !req->modseq && select_condstore(r->s))
		buf_printf(&r->line, " MODSEQ (%" PRIu64 ")", m->modseq);
	buf_append_str(&r->line, ")\r\n");
	return out_line(r) ? FETCH_DONE : FETCH_BROKEN;
}

static void
trim(struct buf *b)
{
	if (b->cap > FETCH_CHUNK)
		buf_free(b);
}

static enum fetch_outcome
fetch_one(struct fetch_run *r, uint32_t uid)
{
	struct store_message m;
	struct fetch_msg fm;
	enum fetch_outcome o;

	fetch_msg_init(&fm, NULL, 0);
	buf_reset(&r->envelope);
	buf_reset(&r->body);
	buf_reset(&r->bodystructure);
	if ((o = fetch_prepare(r, uid, &m, &fm)) == FETCH_DONE)
		o = fetch_write(r, &m, &fm);
	fetch_msg_done(&fm);
	store_message_unmap(fm.data, fm.len);
	/* a large decoded part or structure is not kept for the next one */
	trim(&r->scratch);
	trim(&r->line);
	trim(&r->envelope);
	trim(&r->body);
	trim(&r->bodystructure);
	return o;
}

/* ---- implicit \Seen ----------------------------------------------------- */

static void
seen_changed(void *arg, const struct store_message *m)
{
	struct fetch_run *r = arg;

	seqset_add_range(&r->seen, m->uid, m->uid);
}

/*
 * Set \Seen where a section without PEEK is fetched (§6.4.5), in one
 * store call.  With CHANGEDSINCE only the messages that will be returned.
 */
static enum store_result
fetch_set_seen(struct fetch_run *r, const uint32_t *uids, size_t n)
{
	struct session *s = r->s;
	uint32_t *todo = NULL;
	size_t ntodo = 0;
	enum store_result sr;

	if (!r->req->set_seen || s->view_readonly || n == 0)
		return STORE_OK;
	if (r->req->changedsince_set) {
		struct store_message m;

		todo = xreallocarray(NULL, n, sizeof(*todo));
		for (size_t i = 0; i < n; i++) {
			sr = store_message_get(s->view, uids[i], &m);
			if (sr == STORE_OK && m.modseq > r->req->changedsince)
				todo[ntodo++] = uids[i];
			else if (sr != STORE_OK && sr != STORE_NOT_FOUND) {
				free(todo);
				return sr;
			}
		}
		uids = todo;
		n = ntodo;
	}
	sr = n == 0 ? STORE_OK : store_set_flags(s->view, uids, n, STORE_FLAGS_ADD,
	    STORE_FLAG_SEEN, NULL, 0, 0, seen_changed, NULL, r);
	free(todo);
	return sr;
}

/* ---- VANISHED ------------------------------------------------------------ */

/*
 * RFC 7162 §3.2.6: the UIDs of the set expunged since CHANGEDSINCE.  The
 * set as the client sent it (select_uids() has checked it): the expunged
 * UIDs are no longer in the view, so the list of UIDs to fetch lacks them.
 * "*" is the last UID the mailbox handed out, UIDNEXT - 1: the highest one
 * left may be below an expunged one.  "$" is the saved result as saved.
 */
static int
fetch_vanished(struct session *s, const struct imap_arg *arg, uint64_t since)
{
	struct seqset set = SEQSET_INIT;
	uint32_t uidnext = store_view_mailbox(s->view)->uidnext;
	const char *why = NULL;
	int rc;

	if ((rc = seqset_parse(arg->str, arg->len, &set, &why)) < 0)
		return 0;
	if (rc == 1) {
		rc = select_vanished_earlier(s, &s->searchres, since, 0);
	} else {
		seqset_resolve(&set, uidnext > 0 ? uidnext - 1 : 0);
		rc = select_vanished_earlier(s, &set, since, 0);
	}
	seqset_free(&set);
	return rc;
}

/* ---- the command ---------------------------------------------------------- */

static void
fetch_run_free(struct fetch_run *r)
{
	seqset_free(&r->seen);
	buf_free(&r->line);
	buf_free(&r->flags);
	buf_free(&r->scratch);
	buf_free(&r->envelope);
	buf_free(&r->body);
	buf_free(&r->bodystructure);
	buf_free(&r->preview);
	free(r->chunk);
	free(r->sizes);
}

static void
fetch_run_init(struct fetch_run *r, struct session *s, const struct fetch_request *req)
{
	memset(r, 0, sizeof(*r));
	r->s = s;
	r->req = req;
	r->sizes = xcalloc(req->n, sizeof(*r->sizes));
	for (size_t i = 0; i < req->n; i++) {
		enum fetch_kind k = req->atts[i].kind;

		r->needs_map |= k == FETCH_SECTION || k == FETCH_BINARY ||
		    k == FETCH_BINARY_SIZE;
		r->has_flags |= k == FETCH_FLAGS;
		r->has_uid |= k == FETCH_UID;
	}
}

/* The responses for uids; *gone when some were expunged meanwhile. */
static enum fetch_outcome
fetch_uids(struct fetch_run *r, const uint32_t *uids, size_t n, bool *gone)
{
	struct session *s = r->s;
	enum fetch_outcome o = FETCH_DONE;
	bool held = false;

	for (size_t i = 0; i < n && o == FETCH_DONE; i++) {
		/* One read snapshot per FETCH_HOLD_BATCH messages: a
		 * transaction per message would cost more than the message. */
		if (i % FETCH_HOLD_BATCH == 0) {
			if (held)
				store_read_release(s->store);
			if (!(held = store_read_hold(s->store) == STORE_OK)) {
				o = FETCH_STORE_ERROR;
				break;
			}
		}
		o = fetch_one(r, uids[i]);
		*gone |= o == FETCH_GONE;
		r->too_big |= o == FETCH_TOO_BIG;
		if (o == FETCH_GONE || o == FETCH_SKIP || o == FETCH_TOO_BIG)
			o = FETCH_DONE;
	}
	if (held)
		store_read_release(s->store);
	if (o == FETCH_DONE && r->too_big)
		o = FETCH_TOO_BIG;
	return o;
}

bool
cmd_fetch_send(struct session *s, const struct fetch_request *req,
    const uint32_t *uids, size_t n)
{
	struct fetch_run r;
	enum fetch_outcome o;
	bool gone = false;

	/* No implicit \Seen (RFC 5465 §5.2 asks clients not to want one):
	 * nothing was asked by a command of the client's. */
	fetch_run_init(&r, s, req);
	o = fetch_uids(&r, uids, n, &gone);
	fetch_run_free(&r);
	if (o == FETCH_BROKEN) {
		log_info("connection lost while telling of new messages");
		s->state = SESSION_LOGOUT;
		return false;
	}
	if (o == FETCH_STORE_ERROR) {
		log_warnx("NOTIFY: FETCH of new messages: store: %s",
		    store_error(s->store));
		return false;
	}
	return true;
}

static void
fetch_finish(struct session *s, const char *tag, enum fetch_outcome o, bool gone)
{
	switch (o) {
	case FETCH_BROKEN:
		log_info("connection lost during FETCH");
		s->state = SESSION_LOGOUT;
		return;
	case FETCH_STORE_ERROR:
		select_store_failed(s, tag);
		return;
	default:
		break;
	}
	if (!session_sync(s, false))
		return;
	if (o == FETCH_UNKNOWN_CTE)
		session_tagged(s, tag, "NO", "[UNKNOWN-CTE] A requested part has a "
		    "Content-Transfer-Encoding this server cannot decode");
	else if (o == FETCH_TOO_BIG)
		session_tagged(s, tag, "NO", "[LIMIT] A requested part is too large "
		    "to decode");
	else if (gone)
		session_tagged(s, tag, "OK", "[EXPUNGEISSUED] Some messages were "
		    "already expunged");
	else
		session_tagged(s, tag, "OK", "%sFETCH completed",
		    s->uid_command ? "UID " : "");
}

void
cmd_fetch(struct session *s, const struct imap_command *c)
{
	struct fetch_request req;
	struct fetch_run r;
	char why[FETCH_WHY_MAX];
	const char *swhy = NULL;
	uint32_t *uids = NULL;
	size_t n = 0;
	enum fetch_outcome o = FETCH_DONE;
	bool gone = false;

	if (c->nargs < 2) {
		session_tagged(s, c->tag, "BAD", "FETCH takes a sequence set, "
		    "attributes and optional modifiers");
		return;
	}
	if (fetch_parse(&c->args[1], c->nargs - 1, s->uid_command, &req, why,
	    sizeof(why)) != 0) {
		fetch_request_free(&req);
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	/* RFC 7162 §3.2.3 */
	if (req.vanished && !(s->enabled & SESSION_ENABLED_QRESYNC)) {
		fetch_request_free(&req);
		session_tagged(s, c->tag, "BAD", "VANISHED needs ENABLE QRESYNC first");
		return;
	}
	if (select_uids(s, &c->args[0], s->uid_command, &uids, &n, &swhy) != 0) {
		fetch_request_free(&req);
		session_tagged(s, c->tag, "BAD", "%s", swhy);
		return;
	}
	fetch_run_init(&r, s, &req);
	/* RFC 7162 §3.1: MODSEQ and CHANGEDSINCE turn CONDSTORE on. */
	if (req.modseq)
		select_enable_condstore(s);
	/* §3.2.6: VANISHED (EARLIER) before any FETCH response. */
	if (req.vanished && fetch_vanished(s, &c->args[0], req.changedsince) != 0)
		o = FETCH_STORE_ERROR;
	else if (fetch_set_seen(&r, uids, n) != STORE_OK)
		o = FETCH_STORE_ERROR;
	else
		o = fetch_uids(&r, uids, n, &gone);
	free(uids);
	fetch_run_free(&r);
	fetch_request_free(&req);
	fetch_finish(s, c->tag, o, gone);
}
