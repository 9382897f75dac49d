/*
 * Changing messages of the selected mailbox: STORE and UID STORE (RFC 9051
 * §6.4.6, with RFC 7162 §3.1.3 UNCHANGEDSINCE), COPY and UID COPY (§6.4.7,
 * COPYUID of RFC 4315), MOVE and UID MOVE (RFC 6851).
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cmd.h"
#include "flags.h"
#include "select.h"
#include "seqset.h"
#include "xmalloc.h"

/* "<tag> OK <text>" for a text that may be longer than session_tagged's line. */
static void
tagged_ok_buf(struct session *s, const char *tag, const struct buf *text)
{
	conn_printf(&s->conn, "%s OK ", tag);
	conn_write(&s->conn, text->data != NULL ? text->data : "", text->len);
	conn_write(&s->conn, "\r\n", 2);
}

/* ---- STORE: the request ------------------------------------------------- */

struct store_req {
	enum store_flag_op op;
	bool silent;
	bool conditional;             /* UNCHANGEDSINCE given */
	uint64_t unchangedsince;
	struct flag_list flags;
};

/* store-att-flags' first half: ["+" / "-"] "FLAGS" [".SILENT"] */
static int
store_parse_item(const struct imap_arg *a, struct store_req *req)
{
	const char *p = a->str;

	if (a->type != IMAP_ARG_ATOM)
		return -1;
	req->op = STORE_FLAGS_REPLACE;
	if (*p == '+' || *p == '-')
		req->op = *p++ == '+' ? STORE_FLAGS_ADD : STORE_FLAGS_REMOVE;
	if (strncasecmp(p, "FLAGS", 5) != 0)
		return -1;
	p += 5;
	req->silent = strcasecmp(p, ".SILENT") == 0;
	return *p == '\0' || req->silent ? 0 : -1;
}

/* store-modifiers: "(" UNCHANGEDSINCE mod-sequence-valzer ")" (RFC 7162 §7). */
static int
store_parse_modifiers(const struct imap_arg *a, struct store_req *req,
    const char **why)
{
	if (a->list_count == 0 || a->list_count % 2 != 0) {
		*why = "STORE modifiers are name and value pairs";
		return -1;
	}
	for (size_t i = 0; i < a->list_count; i += 2) {
		const struct imap_arg *name = &a->list[i];

		if (name->type != IMAP_ARG_ATOM ||
		    strcasecmp(name->str, "UNCHANGEDSINCE") != 0) {
			*why = "Unknown STORE modifier";
			return -1;
		}
		if (req->conditional) {
			*why = "UNCHANGEDSINCE given twice";
			return -1;
		}
		if (select_parse_modseq(&a->list[i + 1], &req->unchangedsince) != 0) {
			*why = "Invalid UNCHANGEDSINCE mod-sequence";
			return -1;
		}
		req->conditional = true;
	}
	return 0;
}

/*
 * STORE set [(modifiers)] item flags, where flags is a flag list or one or
 * more flags without parentheses (RFC 9051 §9 store-att-flags).
 */
static int
store_parse(const struct imap_command *c, struct store_req *req, const char **why)
{
	size_t i = 1;

	memset(req, 0, sizeof(*req));
	*why = "STORE takes a sequence set, an optional (UNCHANGEDSINCE n), "
	    "[+|-]FLAGS[.SILENT] and flags";
	if (c->nargs > 1 && c->args[1].type == IMAP_ARG_LIST &&
	    store_parse_modifiers(&c->args[i++], req, why) != 0)
		return -1;
	if (c->nargs < i + 2 || store_parse_item(&c->args[i], req) != 0)
		return -1;
	if (c->nargs == i + 2)
		return flags_parse(&c->args[i + 1], true, &req->flags, why);
	const struct imap_arg several = { .type = IMAP_ARG_LIST,
	    .list = &c->args[i + 1], .list_count = c->nargs - i - 1 };
	return flags_parse(&several, false, &req->flags, why);
}

/* ---- STORE: running it -------------------------------------------------- */

enum store_mark { MARK_NONE, MARK_CHANGED, MARK_FAILED };

struct store_run {
	struct session *s;
	const struct store_req *req;
	const uint32_t *uids;
	size_t n;
	unsigned char *mark;          /* enum store_mark per uid */
	struct seqset failed;         /* MSNs, or UIDs for UID STORE */
	bool announce;                /* a new keyword: FLAGS before any FETCH */
};

struct keyword_check {
	const struct flag_list *want;
	bool known[STORE_KEYWORDS_MAX];
};

static int
keyword_known(const char *keyword, void *arg)
{
	struct keyword_check *k = arg;

	for (size_t i = 0; i < k->want->n_keywords; i++)
		if (strcasecmp(keyword, k->want->keywords[i]) == 0)
			k->known[i] = true;
	return 0;
}

/* Will this STORE add a keyword the mailbox does not have yet? */
static bool
store_adds_keyword(struct session *s, const struct store_req *req)
{
	struct keyword_check k = { .want = &req->flags };

	if (req->op == STORE_FLAGS_REMOVE || req->flags.n_keywords == 0)
		return false;
	if (store_view_keywords(s->view, keyword_known, &k) != STORE_OK)
		return true;
	for (size_t i = 0; i < req->flags.n_keywords; i++)
		if (!k.known[i])
			return true;
	return false;
}

static void
store_announce(struct store_run *run)
{
	if (!run->announce)
		return;
	run->announce = false;
	(void)select_send_flags(run->s);   /* failing, it has logged */
}

static size_t
store_index(const struct store_run *run, uint32_t uid)
{
	size_t lo = 0, hi = run->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (run->uids[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* "* n FETCH (UID u FLAGS (...) MODSEQ (m))": UID in the UID form and
 * with CONDSTORE (RFC 7162 §3.1), MODSEQ with CONDSTORE. */
static void
store_fetch_line(struct session *s, const struct store_message *m, bool flags)
{
	bool condstore = select_condstore(s);
	struct buf line = BUF_INIT;
	const char *sep = "";

	buf_printf(&line, "%u FETCH (", store_view_msn(s->view, m->uid));
	if (s->uid_command || condstore) {
		buf_printf(&line, "UID %u", m->uid);
		sep = " ";
	}
	if (flags) {
		buf_printf(&line, "%sFLAGS ", sep);
		flags_format(m, !(s->enabled & SESSION_ENABLED_IMAP4REV2), &line);
		sep = " ";
	}
	if (condstore)
		buf_printf(&line, "%sMODSEQ (%" PRIu64 ")", sep, m->modseq);
	buf_append_char(&line, ')');
	session_untagged_buf(s, &line);
	buf_free(&line);
}

static void
store_changed(void *arg, const struct store_message *m)
{
	struct store_run *run = arg;

	store_announce(run);
	run->mark[store_index(run, m->uid)] = MARK_CHANGED;
	/* RFC 7162 §3.1.3: a conditional STORE reports the new MODSEQ even
	 * when .SILENT. */
	if (!run->req->silent)
		store_fetch_line(run->s, m, true);
	else if (run->req->conditional)
		store_fetch_line(run->s, m, false);
}

static void
store_failed(void *arg, uint32_t uid)
{
	struct store_run *run = arg;
	uint32_t id = run->s->uid_command ? uid : store_view_msn(run->s->view, uid);

	run->mark[store_index(run, uid)] = MARK_FAILED;
	seqset_add_range(&run->failed, id, id);
}

/*
 * §6.4.6: the new flags are returned "as if a FETCH of those flags was
 * done", also for messages the STORE left as they were.  A message
 * another session expunged is skipped (§7.5.1).
 */
static void
store_report_unchanged(struct store_run *run)
{
	struct store_message m;

	for (size_t i = 0; i < run->n && !run->req->silent; i++)
		if (run->mark[i] == MARK_NONE &&
		    store_message_get(run->s->view, run->uids[i], &m) == STORE_OK)
			store_fetch_line(run->s, &m, true);
}

/* RFC 7162 §3.1.3: UNCHANGEDSINCE 0 fails for every message; no store call. */
static void
store_fail_all(struct store_run *run)
{
	for (size_t i = 0; i < run->n; i++)
		store_failed(run, run->uids[i]);
}

static enum store_result
store_apply(struct store_run *run)
{
	const struct store_req *req = run->req;

	if (req->conditional && req->unchangedsince == 0) {
		store_fail_all(run);
		return STORE_CONFLICT;
	}
	if (run->n == 0)
		return STORE_OK;
	run->announce = store_adds_keyword(run->s, req);
	return store_set_flags(run->s->view, run->uids, run->n, req->op,
	    req->flags.flags, req->flags.keywords, req->flags.n_keywords,
	    req->conditional ? req->unchangedsince : 0, store_changed,
	    store_failed, run);
}

static void
store_finish(struct store_run *run, const char *tag)
{
	struct buf text = BUF_INIT;

	store_announce(run);
	store_report_unchanged(run);
	/* §7.5.1: no EXPUNGE during STORE. */
	if (!session_sync(run->s, false))
		return;
	if (run->failed.n == 0) {
		session_tagged(run->s, tag, "OK", "STORE completed");
		return;
	}
	buf_append_str(&text, "[MODIFIED ");
	seqset_format(&run->failed, &text);
	buf_append_str(&text, "] Conditional STORE failed");
	tagged_ok_buf(run->s, tag, &text);
	buf_free(&text);
}

void
cmd_store(struct session *s, const struct imap_command *c)
{
	struct store_req req;
	struct store_run run = { .s = s, .req = &req, .failed = SEQSET_INIT };
	uint32_t *uids = NULL;
	const char *why = NULL;
	enum store_result r;

	if (store_parse(c, &req, &why) != 0 ||
	    select_uids(s, &c->args[0], s->uid_command, &uids, &run.n, &why) != 0) {
		session_tagged(s, c->tag, "BAD", "%s", why);
		return;
	}
	if (s->view_readonly) {
		free(uids);
		session_tagged(s, c->tag, "NO", "The mailbox is read-only");
		return;
	}
	if (req.conditional)
		select_enable_condstore(s);
	run.uids = uids;
	run.mark = xcalloc(run.n ? run.n : 1, 1);
	r = store_apply(&run);
	if (r == STORE_OK || r == STORE_CONFLICT)
		store_finish(&run, c->tag);
	else if (r == STORE_INVALID)
		session_tagged(s, c->tag, "NO", "[LIMIT] Too many keywords in this mailbox");
	else if (r == STORE_NOT_FOUND) {
		/* The mailbox went: the sync says BYE. */
		if (session_sync(s, false))
			session_tagged(s, c->tag, "NO", "[NONEXISTENT] Mailbox deleted");
	} else
		select_store_failed(s, c->tag);
	seqset_free(&run.failed);
	free(run.mark);
	free(uids);
}

/* ---- COPY, MOVE --------------------------------------------------------- */

/*
 * "[COPYUID uidvalidity src dst] " (RFC 4315 §3) for the messages that
 * were copied (a dest_uid of 0: expunged meanwhile).  Both sets ascend
 * together, so their compact forms still pair up.  false: none copied.
 */
static bool
copyuid_code(uint32_t uidvalidity, const uint32_t *uids, const uint32_t *dest_uids,
    size_t n, struct buf *out)
{
	struct seqset src = SEQSET_INIT, dst = SEQSET_INIT;
	bool any;

	for (size_t i = 0; i < n; i++) {
		if (dest_uids[i] == 0)
			continue;
		seqset_add_range(&src, uids[i], uids[i]);
		seqset_add_range(&dst, dest_uids[i], dest_uids[i]);
	}
	if ((any = src.n > 0)) {
		buf_printf(out, "[COPYUID %u ", uidvalidity);
		seqset_format(&src, out);
		buf_append_char(out, ' ');
		seqset_format(&dst, out);
		buf_append_str(out, "] ");
	}
	seqset_free(&src);
	seqset_free(&dst);
	return any;
}

/* COPY: the COPYUID goes in the tagged OK.  MOVE (RFC 6851 §3.3): in an
 * untagged OK, then the EXPUNGEs, which the sync reports. */
static void
copy_done(struct session *s, const char *tag, bool move, const uint32_t *uids,
    const uint32_t *dest_uids, size_t n, uint32_t uidvalidity)
{
	struct buf text = BUF_INIT;
	bool any;

	if (move)
		buf_append_str(&text, "OK ");
	any = copyuid_code(uidvalidity, uids, dest_uids, n, &text);
	if (move) {
		if (any) {
			buf_append_str(&text, "Moved");
			session_untagged_buf(s, &text);
		}
		buf_reset(&text);
	}
	if (session_sync(s, true)) {
		buf_append_str(&text, move ? "MOVE completed" : "COPY completed");
		tagged_ok_buf(s, tag, &text);
	}
	buf_free(&text);
}

static void
copy_run(struct session *s, const char *tag, bool move, const uint32_t *uids,
    size_t n, const char *dest)
{
	uint32_t *dest_uids = xreallocarray(NULL, n ? n : 1, sizeof(*dest_uids));
	uint32_t uidvalidity = 0;

	/* Called with no uids too: a missing destination still gets TRYCREATE. */
	switch (store_copy(s->view, uids, n, dest, move, &uidvalidity, dest_uids)) {
	case STORE_OK:
		cmd_notify_own_new(s, dest, uidvalidity, dest_uids, n);
		copy_done(s, tag, move, uids, dest_uids, n, uidvalidity);
		break;
	case STORE_NOT_FOUND:
		session_tagged(s, tag, "NO", "[TRYCREATE] No such mailbox");
		break;
	case STORE_INVALID:
		session_tagged(s, tag, "NO", "[CANNOT] Invalid mailbox name");
		break;
	case STORE_READONLY:
		session_tagged(s, tag, "NO", "The mailbox is read-only");
		break;
	case STORE_OVERQUOTA:
		/* RFC 9208 §4.3.1: nothing was copied */
		session_tagged(s, tag, "NO", "[OVERQUOTA] %s", store_error(s->store));
		break;
	default:
		select_store_failed(s, tag);
		break;
	}
	free(dest_uids);
}

static void
copy_or_move(struct session *s, const struct imap_command *c, bool move)
{
	struct buf dest = BUF_INIT;
	uint32_t *uids = NULL;
	size_t n = 0;
	const char *why = NULL;
	int rc = 0;

	if (c->nargs != 2) {
		session_tagged(s, c->tag, "BAD", "%s takes a sequence set and a mailbox",
		    move ? "MOVE" : "COPY");
		return;
	}
	if (select_uids(s, &c->args[0], s->uid_command, &uids, &n, &why) != 0 ||
	    (rc = select_mailbox_name(s, &c->args[1], &dest, &why)) < 0)
		session_tagged(s, c->tag, "BAD", "%s", why);
	else if (rc == 1)
		session_tagged(s, c->tag, "NO", "[CANNOT] %s", why);
	else if (move && s->view_readonly)
		session_tagged(s, c->tag, "NO", "The mailbox is read-only");
	else
		copy_run(s, c->tag, move, uids, n, dest.data != NULL ? dest.data : "");
	buf_free(&dest);
	free(uids);
}

void
cmd_copy(struct session *s, const struct imap_command *c)
{
	copy_or_move(s, c, false);
}

void
cmd_move(struct session *s, const struct imap_command *c)
{
	copy_or_move(s, c, true);
}
