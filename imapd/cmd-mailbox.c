/*
 * Mailboxes as a whole, in the authenticated state (RFC 9051 §6.3):
 * ENABLE, CREATE, DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, NAMESPACE and
 * STATUS; and the mailbox names on the wire, which LIST and LSUB
 * (cmd-list.c) share.
 */
#include "autoconfig.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "mutf7.h"
#include "objectid.h"
#include "select.h"

/* Longer arguments cannot name a mailbox (the store takes 1000 bytes of
 * UTF-8); a pattern may be longer, it still matches nothing. */
#define NAME_ARG_MAX (4 * STORE_MAILBOX_NAME_MAX)

/* ---- names on the wire ---------------------------------------------------- */

bool
cmd_utf8_names(const struct session *s)
{
	/* RFC 9051 §5.1 (IMAP4rev2) and RFC 6855 §3 (UTF8=ACCEPT). */
	return (s->enabled & (SESSION_ENABLED_IMAP4REV2 | SESSION_ENABLED_UTF8)) != 0;
}

/*
 * RFC 9051 §9: astring = 1*ASTRING-CHAR / string, where ASTRING-CHAR is
 * a 7-bit graphic character but ( ) { " \ % *; list-mailbox allows the
 * wildcards % and * too.  The parser's atoms are looser (a leading '\',
 * "[...]" with spaces inside), so the characters are checked here.
 */
static bool
atom_ok(const struct imap_arg *a, bool pattern)
{
	for (size_t i = 0; i < a->len; i++) {
		unsigned char c = (unsigned char)a->str[i];

		if (c <= 0x20 || c >= 0x7f || strchr("(){\"\\", c) != NULL)
			return false;
		if ((c == '%' || c == '*') && !pattern)
			return false;
	}
	return a->len > 0;
}

static bool
has_8bit(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return true;
	return false;
}

int
cmd_mailbox_decode(const struct session *s, const struct imap_arg *a, bool pattern,
    struct buf *out, const char **why)
{
	const char *str = a->str;
	size_t len = a->len;

	switch (a->type) {
	case IMAP_ARG_NIL:
		/* The atom NIL is a valid astring: the name "NIL". */
		str = "NIL";
		len = 3;
		break;
	case IMAP_ARG_ATOM:
		if (!atom_ok(a, pattern)) {
			*why = pattern ? "Invalid character in a mailbox pattern atom; "
			    "quote it" : "Invalid character in a mailbox name atom; quote it";
			return CMD_NAME_BAD;
		}
		break;
	case IMAP_ARG_QUOTED:
	case IMAP_ARG_LITERAL:
		if (a->literal8) {
			*why = "A mailbox name cannot be a literal8";
			return CMD_NAME_BAD;
		}
		if (memchr(str, '\0', len) != NULL) {
			*why = "NUL in a mailbox name";
			return CMD_NAME_BAD;
		}
		break;
	case IMAP_ARG_LIST:
	case IMAP_ARG_STREAMED:     /* only APPEND's messages are streamed */
		*why = pattern ? "Expected a mailbox pattern" : "Expected a mailbox name";
		return CMD_NAME_BAD;
	}
	if (len > NAME_ARG_MAX) {
		*why = "Mailbox name too long";
		return CMD_NAME_INVALID;
	}
	if (cmd_utf8_names(s)) {
		/* RFC 6855 §3: 8-bit that is not UTF-8 gets BAD. */
		if (!utf8_valid(str, len)) {
			*why = "Mailbox name is not valid UTF-8";
			return CMD_NAME_BAD;
		}
		return buf_append(out, str, len) == 0 ? CMD_NAME_OK : CMD_NAME_INVALID;
	}
	if (has_8bit(str, len)) {
		*why = "8-bit mailbox name: use modified UTF-7, or ENABLE UTF8=ACCEPT";
		return CMD_NAME_BAD;
	}
	if (mutf7_decode(str, len, out) != 0) {
		*why = "Mailbox name is not valid modified UTF-7 (RFC 3501 5.1.3)";
		return CMD_NAME_INVALID;
	}
	return CMD_NAME_OK;
}

/* The decoded name ("" when nothing was appended). */
static const char *
name_str(const struct buf *b)
{
	return b->data != NULL ? b->data : "";
}

/* A mailbox name argument, or false after BAD or NO [CANNOT]. */
static bool
mailbox_arg(struct session *s, const char *tag, const struct imap_arg *a,
    struct buf *name)
{
	const char *why = "Invalid mailbox name";

	switch (cmd_mailbox_decode(s, a, false, name, &why)) {
	case CMD_NAME_OK:
		return true;
	case CMD_NAME_BAD:
		session_tagged(s, tag, "BAD", "%s", why);
		return false;
	default:
		session_tagged(s, tag, "NO", "[CANNOT] %s", why);
		return false;
	}
}

/* Names hold no controls (the store refuses them): quoted is enough. */
static int
append_quoted(struct buf *out, const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return buf_append_imap_string(out, p, len);
	if (buf_append_char(out, '"') != 0)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if ((p[i] == '"' || p[i] == '\\') && buf_append_char(out, '\\') != 0)
			return -1;
		if (buf_append_char(out, p[i]) != 0)
			return -1;
	}
	return buf_append_char(out, '"');
}

int
cmd_mailbox_format(const struct session *s, const char *name, struct buf *out)
{
	struct buf enc = BUF_INIT;
	int rc;

	if (cmd_utf8_names(s))
		return append_quoted(out, name, strlen(name));
	if (mutf7_encode(name, strlen(name), &enc) != 0) {
		buf_free(&enc);
		return -1;
	}
	rc = append_quoted(out, enc.data != NULL ? enc.data : "", enc.len);
	buf_free(&enc);
	return rc;
}

/* The tagged OK, with a response code ("" or "[CODE ...] ") before the text. */
static void
mailbox_done(struct session *s, const char *tag, const char *code,
    const char *what)
{
	/* Other sessions' changes to the selected mailbox come first (§7). */
	if (s->state == SESSION_SELECTED && !session_sync(s, true))
		return;
	session_tagged(s, tag, "OK", "%s%s completed", code, what);
}

void
cmd_mailbox_done(struct session *s, const char *tag, const char *what)
{
	mailbox_done(s, tag, "", what);
}

/* A store refusal as the response codes of RFC 9051 §7.1 / RFC 5530. */
static void
mailbox_fail(struct session *s, const char *tag, const char *what,
    enum store_result r)
{
	char why[200];
	const char *code;

	snprintf(why, sizeof(why), "%s", store_error(s->store));
	for (char *p = why; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	why[0] = (char)toupper((unsigned char)why[0]);
	switch (r) {
	case STORE_NOT_FOUND:
		code = "NONEXISTENT";
		break;
	case STORE_EXISTS:
		code = "ALREADYEXISTS";
		break;
	case STORE_INVALID:
		code = "CANNOT";
		break;
	case STORE_HAS_CHILDREN:
		code = "HASCHILDREN";
		break;
	default:
		log_warnx("%s: store: %s", what, store_error(s->store));
		snprintf(why, sizeof(why), "%s failed: internal error in the mail "
		    "store", what);
		session_store_failed(s, tag, store_error_cause(), why);
		return;
	}
	session_tagged(s, tag, "NO", "[%s] %s", code, why);
}

/* ---- ENABLE (RFC 5161, RFC 9051 §6.3.1) -------------------------------------- */

static const struct {
	const char *name;
	unsigned bit;        /* what makes it "already enabled" */
	unsigned implies;    /* set with it */
} enable_names[] = {
	{ "CONDSTORE", SESSION_ENABLED_CONDSTORE, 0 },
	{ "IMAP4rev2", SESSION_ENABLED_IMAP4REV2, 0 },
	/* RFC 7162 §3.2.3: QRESYNC implies CONDSTORE. */
	{ "QRESYNC", SESSION_ENABLED_QRESYNC, SESSION_ENABLED_CONDSTORE },
	{ "UTF8=ACCEPT", SESSION_ENABLED_UTF8, 0 },
};

void
cmd_enable(struct session *s, const struct imap_command *c)
{
	struct buf line = BUF_INIT;
	size_t i, k;

	if (c->nargs == 0) {
		session_tagged(s, c->tag, "BAD", "ENABLE takes one or more capability names");
		return;
	}
	for (i = 0; i < c->nargs; i++)
		if (c->args[i].type != IMAP_ARG_ATOM) {
			session_tagged(s, c->tag, "BAD", "ENABLE takes capability names (atoms)");
			return;
		}
	buf_append_str(&line, "ENABLED");
	for (i = 0; i < c->nargs; i++) {
		/* Unknown names are ignored; only what is newly on is listed. */
		for (k = 0; k < sizeof(enable_names) / sizeof(enable_names[0]); k++)
			if (strcasecmp(c->args[i].str, enable_names[k].name) == 0)
				break;
		if (k == sizeof(enable_names) / sizeof(enable_names[0]) ||
		    (s->enabled & enable_names[k].bit))
			continue;
		s->enabled |= enable_names[k].bit | enable_names[k].implies;
		buf_printf(&line, " %s", enable_names[k].name);
	}
	session_untagged_buf(s, &line);
	buf_free(&line);
	/* RFC 9051 Appendix E: no \Recent in IMAP4rev2, so claim none. */
	if ((s->enabled & SESSION_ENABLED_IMAP4REV2) && s->store != NULL)
		store_claim_recent(s->store, false);
	session_tagged(s, c->tag, "OK", "ENABLE completed");
}

/* ---- CREATE, DELETE, RENAME (RFC 9051 §6.3.4-6.3.6) ------------------------ */

static const struct {
	const char *attr;
	unsigned use;        /* 0: a special use we do not offer */
} use_attrs[] = {
	{ "\\All", 0 },
	{ "\\Archive", STORE_USE_ARCHIVE },
	{ "\\Drafts", STORE_USE_DRAFTS },
	{ "\\Flagged", 0 },
	{ "\\Junk", STORE_USE_JUNK },
	{ "\\Sent", STORE_USE_SENT },
	{ "\\Trash", STORE_USE_TRASH },
};

/*
 * RFC 6154 §3: USE (\Sent ...).  -1 with *why for BAD, else how many
 * attributes are use-attr-ext or uses we do not offer (NO [USEATTR]).
 */
static int
create_use(const struct imap_arg *list, unsigned *use, const char **why)
{
	int unsupported = 0;

	if (list == NULL || list->type != IMAP_ARG_LIST) {
		*why = "USE takes a list of special-use attributes";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		size_t k;

		if (a->type != IMAP_ARG_ATOM || a->str[0] != '\\' || a->len < 2) {
			*why = "USE takes special-use attributes such as \\Sent";
			return -1;
		}
		for (k = 0; k < sizeof(use_attrs) / sizeof(use_attrs[0]); k++)
			if (strcasecmp(a->str, use_attrs[k].attr) == 0)
				break;
		if (k == sizeof(use_attrs) / sizeof(use_attrs[0]) || use_attrs[k].use == 0)
			unsupported++;
		else
			*use |= use_attrs[k].use;
	}
	return unsupported;
}

/* RFC 4466 §2.2 create-params: "(" create-param *(SP create-param) ")".
 * As create_use(). */
static int
create_params(const struct imap_arg *params, unsigned *use, const char **why)
{
	int unsupported = 0;

	if (params->type != IMAP_ARG_LIST || params->list_count == 0) {
		*why = "CREATE parameters are a non-empty parenthesized list";
		return -1;
	}
	for (size_t i = 0; i < params->list_count; i++) {
		const struct imap_arg *p = &params->list[i];
		int rc;

		if (p->type != IMAP_ARG_ATOM || strcasecmp(p->str, "USE") != 0) {
			*why = "Unknown CREATE parameter";
			return -1;
		}
		i++;
		rc = create_use(i < params->list_count ? &params->list[i] : NULL, use, why);
		if (rc < 0)
			return -1;
		unsupported += rc;
	}
	return unsupported;
}

/* RFC 8474 §4.1: the new mailbox's MAILBOXID in the tagged OK. */
static void
create_done(struct session *s, const char *tag, const char *name)
{
	struct store_mailbox mb;
	char id[OBJECTID_BUF], code[OBJECTID_BUF + 16] = "";

	if (store_mailbox_get(s->store, name, &mb) == STORE_OK) {
		objectid_mailbox(mb.uidvalidity, id);
		snprintf(code, sizeof(code), "[MAILBOXID (%s)] ", id);
	}
	mailbox_done(s, tag, code, "CREATE");
}

void
cmd_create(struct session *s, const struct imap_command *c)
{
	struct buf name = BUF_INIT;
	const char *why = NULL;
	unsigned use = 0;
	enum store_result r;
	int rc = 0;

	if (c->nargs != 1 && c->nargs != 2) {
		session_tagged(s, c->tag, "BAD", "CREATE takes a mailbox name and optional "
		    "parameters");
		return;
	}
	/* Syntax first: BAD before any NO. */
	if (c->nargs == 2 && (rc = create_params(&c->args[1], &use, &why)) < 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if (!mailbox_arg(s, c->tag, &c->args[0], &name))
		goto out;
	if (rc > 0) {
		/* RFC 6154 §3: nothing is created. */
		session_tagged(s, c->tag, "NO", "[USEATTR] Special use not supported; "
		    "these are: \\Archive \\Drafts \\Junk \\Sent \\Trash");
		goto out;
	}
	/* §6.3.4: a trailing separator only declares intent to add children. */
	if (name.len > 0 && name.data[name.len - 1] == '/')
		name.data[--name.len] = '\0';
	r = store_mailbox_create(s->store, name_str(&name), use);
	if (r != STORE_OK) {
		mailbox_fail(s, c->tag, "CREATE", r);
	} else {
		cmd_notify_own(s, name_str(&name));
		create_done(s, c->tag, name_str(&name));
	}
out:
	buf_free(&name);
}

void
cmd_delete(struct session *s, const struct imap_command *c)
{
	struct buf name = BUF_INIT;
	enum store_result r;

	if (c->nargs != 1) {
		session_tagged(s, c->tag, "BAD", "DELETE takes a mailbox name");
		return;
	}
	if (mailbox_arg(s, c->tag, &c->args[0], &name)) {
		/*
		 * §6.3.5: with children it becomes \Noselect; INBOX and a
		 * \Noselect name with children are refused.  Deleting the
		 * selected mailbox ends the session at the sync below (BYE).
		 */
		r = store_mailbox_delete(s->store, name_str(&name));
		if (r != STORE_OK) {
			mailbox_fail(s, c->tag, "DELETE", r);
		} else {
			cmd_notify_own(s, name_str(&name));
			cmd_mailbox_done(s, c->tag, "DELETE");
		}
	}
	buf_free(&name);
}

void
cmd_rename(struct session *s, const struct imap_command *c)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	enum store_result r;

	if (c->nargs != 2) {
		session_tagged(s, c->tag, "BAD", "RENAME takes the existing and the new "
		    "mailbox name");
		return;
	}
	if (mailbox_arg(s, c->tag, &c->args[0], &from) &&
	    mailbox_arg(s, c->tag, &c->args[1], &to)) {
		/* §6.3.6: children move too; INBOX moves its messages only. */
		r = store_mailbox_rename(s->store, name_str(&from), name_str(&to));
		if (r != STORE_OK) {
			mailbox_fail(s, c->tag, "RENAME", r);
		} else {
			cmd_notify_own(s, name_str(&from));
			cmd_notify_own(s, name_str(&to));
			cmd_mailbox_done(s, c->tag, "RENAME");
		}
	}
	buf_free(&from);
	buf_free(&to);
}

/* ---- SUBSCRIBE, UNSUBSCRIBE (§6.3.7, §6.3.8), NAMESPACE (§6.3.10) ---------- */

static void
subscribe(struct session *s, const struct imap_command *c, bool on)
{
	const char *what = on ? "SUBSCRIBE" : "UNSUBSCRIBE";
	struct buf name = BUF_INIT;
	enum store_result r;

	if (c->nargs != 1) {
		session_tagged(s, c->tag, "BAD", "%s takes a mailbox name", what);
		return;
	}
	if (mailbox_arg(s, c->tag, &c->args[0], &name)) {
		/* Names that do not exist may be subscribed (§6.3.7); not being
		 * subscribed is no reason for UNSUBSCRIBE to fail (§6.3.8). */
		r = store_subscribe(s->store, name_str(&name), on);
		if (r == STORE_NOT_FOUND && !on)
			r = STORE_OK;
		if (r != STORE_OK) {
			mailbox_fail(s, c->tag, what, r);
		} else {
			cmd_notify_own(s, name_str(&name));
			cmd_mailbox_done(s, c->tag, what);
		}
	}
	buf_free(&name);
}

void
cmd_subscribe(struct session *s, const struct imap_command *c)
{
	subscribe(s, c, true);
}

void
cmd_unsubscribe(struct session *s, const struct imap_command *c)
{
	subscribe(s, c, false);
}

void
cmd_namespace(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "NAMESPACE takes no arguments");
		return;
	}
	/* RFC 2342: one personal namespace, no prefix; no others, no shared. */
	session_untagged(s, "NAMESPACE ((\"\" \"/\")) NIL NIL");
	cmd_mailbox_done(s, c->tag, "NAMESPACE");
}

/* ---- STATUS (§6.3.11, RFC 8438 SIZE, RFC 7162 HIGHESTMODSEQ, RFC 7889,
 * RFC 9208 DELETED-STORAGE) ---- */

static const struct {
	const char *name;
	unsigned item;
} status_names[] = {
	{ "MESSAGES", CMD_STATUS_MESSAGES },
	{ "UIDNEXT", CMD_STATUS_UIDNEXT },
	{ "UIDVALIDITY", CMD_STATUS_UIDVALIDITY },
	{ "UNSEEN", CMD_STATUS_UNSEEN },
	{ "DELETED", CMD_STATUS_DELETED },
	{ "SIZE", CMD_STATUS_SIZE },
	{ "RECENT", CMD_STATUS_RECENT },         /* IMAP4rev1 */
	{ "HIGHESTMODSEQ", CMD_STATUS_HIGHESTMODSEQ },
	{ "APPENDLIMIT", CMD_STATUS_APPENDLIMIT },
	{ "MAILBOXID", CMD_STATUS_MAILBOXID },
	{ "DELETED-STORAGE", CMD_STATUS_DELETED_STORAGE },
};

int
cmd_status_items(const struct imap_arg *list, unsigned *items, const char **why)
{
	*items = 0;
	if (list->type != IMAP_ARG_LIST || list->list_count == 0) {
		*why = "Expected a parenthesized list of status items";
		return -1;
	}
	for (size_t i = 0; i < list->list_count; i++) {
		const struct imap_arg *a = &list->list[i];
		size_t k;

		if (a->type != IMAP_ARG_ATOM) {
			*why = "Status items are atoms";
			return -1;
		}
		for (k = 0; k < sizeof(status_names) / sizeof(status_names[0]); k++)
			if (strcasecmp(a->str, status_names[k].name) == 0)
				break;
		if (k == sizeof(status_names) / sizeof(status_names[0])) {
			*why = "Unknown status item";
			return -1;
		}
		*items |= status_names[k].item;
	}
	return 0;
}

/*
 * RFC 7889 §3.1: the largest message an APPEND to this mailbox can store
 * now: the largest literal (max-request-size, the APPENDLIMIT= of
 * CAPABILITY), or less when the user's quota has less room.  The room is
 * the same for every mailbox (one quota root), so CAPABILITY's global
 * value stays true of every mailbox as an upload limit; STATUS says what
 * the quota leaves of it at this moment.
 */
uint64_t
cmd_status_appendlimit(struct session *s)
{
	uint64_t limit = s->cfg->max_request_size, room;
	struct store_quota q;

	if (store_quota_get(s->store, &q) != STORE_OK) {
		log_warnx("STATUS: quota: %s", store_error(s->store));
		return limit;
	}
	room = store_quota_room(&q);
	return room < limit ? room : limit;
}

static uint64_t
status_value(unsigned item, const struct store_status *st, uint64_t appendlimit)
{
	switch (item) {
	case CMD_STATUS_APPENDLIMIT:   return appendlimit;
	/* RFC 9208: in the STORAGE resource's unit, 1024 octets, rounded up,
	 * as its example reads (4 deleted messages, DELETED-STORAGE 8). */
	case CMD_STATUS_DELETED_STORAGE: return store_quota_kib(st->deleted_size);
	case CMD_STATUS_MESSAGES:      return st->messages;
	case CMD_STATUS_UIDNEXT:       return st->uidnext;
	case CMD_STATUS_UIDVALIDITY:   return st->uidvalidity;
	case CMD_STATUS_UNSEEN:        return st->unseen;
	case CMD_STATUS_DELETED:       return st->deleted;
	case CMD_STATUS_SIZE:          return st->size;
	case CMD_STATUS_RECENT:        return st->recent;
	default:                       return st->highestmodseq;
	}
}

void
cmd_status_send(struct session *s, const char *name, unsigned items,
    const struct store_status *st, uint64_t appendlimit)
{
	struct buf line = BUF_INIT;
	const char *sep = "";

	buf_append_str(&line, "STATUS ");
	if (cmd_mailbox_format(s, name, &line) != 0) {
		log_warnx("STATUS: cannot encode the mailbox name");
		buf_free(&line);
		return;
	}
	buf_append_str(&line, " (");
	for (size_t k = 0; k < sizeof(status_names) / sizeof(status_names[0]); k++) {
		if (!(items & status_names[k].item))
			continue;
		if (status_names[k].item == CMD_STATUS_MAILBOXID) {
			char id[OBJECTID_BUF];

			objectid_mailbox(st->uidvalidity, id);
			buf_printf(&line, "%sMAILBOXID (%s)", sep, id);
		} else {
			buf_printf(&line, "%s%s %" PRIu64, sep, status_names[k].name,
			    status_value(status_names[k].item, st, appendlimit));
		}
		sep = " ";
	}
	buf_append_char(&line, ')');
	session_untagged_buf(s, &line);
	buf_free(&line);
}

void
cmd_status(struct session *s, const struct imap_command *c)
{
	struct buf name = BUF_INIT;
	struct store_status st;
	const char *why = NULL;
	enum store_result r;
	unsigned items;

	if (c->nargs != 2) {
		session_tagged(s, c->tag, "BAD", "STATUS takes a mailbox name and a list "
		    "of status items");
		return;
	}
	if (cmd_status_items(&c->args[1], &items, &why) != 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if (!mailbox_arg(s, c->tag, &c->args[0], &name))
		goto out;
	/* The selected mailbox too (§6.3.11); its changes are reported first. */
	if (s->state == SESSION_SELECTED && !session_sync(s, true))
		goto out;
	r = store_mailbox_status(s->store, name_str(&name), &st);
	if (r != STORE_OK) {
		mailbox_fail(s, c->tag, "STATUS", r);
		goto out;
	}
	/* RFC 7162 §3.1: STATUS (HIGHESTMODSEQ) is CONDSTORE enabling. */
	if (items & CMD_STATUS_HIGHESTMODSEQ)
		select_enable_condstore(s);
	cmd_status_send(s, name_str(&name), items, &st,
	    (items & CMD_STATUS_APPENDLIMIT) ? cmd_status_appendlimit(s) : 0);
	session_tagged(s, c->tag, "OK", "STATUS completed");
out:
	buf_free(&name);
}
