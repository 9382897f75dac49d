/*
 * APPEND (RFC 9051 §6.3.12) with MULTIAPPEND (RFC 3502), APPENDUID
 * (RFC 4315) and the UTF8 (...) form of RFC 6855.
 *
 *   APPEND mailbox [flag-list] [date-time] literal *(SP [flags] [date] literal)
 *
 * Each message literal streams into its own tmp/ file while the command
 * line is still being read (the literal sink below), so no message is ever
 * whole in memory.  At each message literal's '}' the sink checks what it
 * can before the data comes: the mailbox (TRYCREATE) and the quota
 * (OVERQUOTA), so a synchronizing literal the command would refuse gets
 * its NO instead of the continuation, and a non-synchronizing one (sent
 * anyway) is read and dropped, the NO coming at the end of the command.
 * Once the command is complete every argument is checked, then the
 * commits run in order, each checking the quota again under the write
 * lock (sizes change meanwhile).  When a later commit fails, the
 * messages already committed are expunged again, so a MULTIAPPEND adds all
 * of its messages or none.  A tmp/ file that is not committed is removed
 * when the parser releases it after the command (or when the session
 * ends); after a crash, store_fsck finds it.
 *
 * Bounds: each message is at most max-request-size (the parser refuses a
 * bigger literal at its '}'); one command carries at most
 * APPEND_MAX_MESSAGES messages, together at most CMD_APPEND_MAX_TOTAL
 * bytes (cmd.h; the parser's max_streamed).
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cmd.h"
#include "flags.h"
#include "search.h"
#include "xmalloc.h"

#define APPEND_MAX_MESSAGES CMD_APPEND_MAX_MESSAGES

/* One message literal on its way into tmp/: the sink's handle. */
struct append_file {
	struct session *s;
	struct store_append *ap;         /* NULL once failed or committed, and
	                                  * when refused: its bytes are dropped */
	bool failed;                     /* tmp/ refused it: logged already */
	bool refused;                    /* the command is refused (s->append) */
};

struct append_msg {
	const struct imap_arg *data;     /* the streamed literal */
	struct append_file *file;        /* its handle, the parser's */
	struct flag_list flags;
	int64_t internaldate;
	int tz_minutes;
	uint32_t uid;                    /* after the commit */
};

/*
 * Is this literal APPEND's message data?  The top-level literals after the
 * mailbox, and a literal8 first in a list after it (the UTF8 (~{n}) form).
 * A mailbox name sent as a literal, or a literal inside a flag list, stays
 * in the parser's memory (and a misplaced one gets BAD below).
 */
static bool
append_is_message(const struct imap_literal_info *li)
{
	if (strcmp(li->command, "APPEND") != 0 || li->arg_index == 0)
		return false;
	if (li->depth == 0)
		return true;
	return li->depth == 1 && li->literal8 && li->list_index == 0;
}

/*
 * The mailbox argument as the store's UTF-8 name (cmd_mailbox_decode:
 * modified UTF-7 unless IMAP4rev2 or UTF8=ACCEPT is enabled).  0; or -1
 * (answer BAD) or 1 (answer NO [CANNOT]) with *why.
 */
static int
append_mailbox_name(const struct session *s, const struct imap_arg *a, struct buf *out,
    const char **why)
{
	const char *invalid = NULL;

	switch (cmd_mailbox_decode(s, a, false, out, why)) {
	case CMD_NAME_OK:
		break;
	case CMD_NAME_BAD:
		return -1;
	default:
		return 1;
	}
	if (out->len == 0 || !store_mailbox_name_valid(out->data, &invalid)) {
		*why = "Invalid mailbox name";
		return 1;
	}
	return 0;
}

/*
 * The mailbox the first message literal of a command goes to: a name the
 * command would answer NO [CANNOT], or one that does not exist or is
 * \Noselect (RFC 9051 §6.3.12: NO [TRYCREATE]), refuses the command.  A
 * malformed argument (BAD) or a store error is left to the command.
 */
static void
append_check_mailbox(struct session *s, const struct imap_arg *arg)
{
	struct session_append *a = &s->append;
	struct buf name = BUF_INIT;
	struct store_mailbox mb;
	const char *why = NULL;
	enum store_result r;
	int rc;

	if (arg == NULL)
		return;
	if ((rc = append_mailbox_name(s, arg, &name, &why)) > 0) {
		snprintf(a->refusal, sizeof(a->refusal), "[CANNOT] %s", why);
	} else if (rc == 0) {
		r = store_mailbox_get(s->store, name.data, &mb);
		if (r == STORE_NOT_FOUND || (r == STORE_OK && mb.noselect))
			snprintf(a->refusal, sizeof(a->refusal),
			    "[TRYCREATE] No such mailbox");
	}
	buf_free(&name);
}

/*
 * What a message literal's '}' tells: its size.  The command's messages so
 * far and this one against the quota (RFC 9208 OVERQUOTA; RFC 3502: each
 * message of a MULTIAPPEND counts, a refusal is the whole command's).
 * The mailbox and the quota are read at the command's first literal only.
 * A size over APPENDLIMIT never gets here: the parser refuses it (NO
 * [TOOBIG], session.c).
 */
static void
append_check(struct session *s, const struct imap_literal_info *li)
{
	struct session_append *a = &s->append;

	if (a->refusal[0] != '\0')
		return;
	if (!a->looked) {
		a->looked = true;
		append_check_mailbox(s, li->first);
		if (a->refusal[0] != '\0')
			return;
		a->quota_known = store_quota_get(s->store, &a->quota) == STORE_OK;
	}
	a->octets += li->size;
	a->messages++;
	if (a->quota_known && store_quota_over(&a->quota, a->octets, a->messages))
		snprintf(a->refusal, sizeof(a->refusal), "[OVERQUOTA] %s would "
		    "pass the quota (%" PRIu64 " KiB and %" PRIu64 " messages "
		    "stored)", a->messages == 1 ? "The message" : "The messages",
		    store_quota_kib(a->quota.storage), a->quota.messages);
}

/* The literal sink (parser.h).  Not before login: there is no store, and
   APPEND is BAD there anyway. */
static void *
append_sink_open(void *arg, const struct imap_literal_info *li)
{
	struct session *s = arg;
	struct append_file *f;

	if (!append_is_message(li) || s->store == NULL ||
	    !(s->state & (SESSION_AUTHENTICATED | SESSION_SELECTED)))
		return NULL;
	f = xcalloc(1, sizeof(*f));
	f->s = s;
	append_check(s, li);
	if (s->append.refusal[0] != '\0') {
		/* no tmp/ file: a non-synchronizing literal is dropped */
		f->refused = true;
	} else if (s->append.files >= APPEND_MAX_MESSAGES) {
		/* the command gets BAD for so many; spare the descriptors */
		f->failed = true;
	} else if (store_append_begin(s->store, &f->ap) != STORE_OK) {
		log_warnx("APPEND: %s", store_error(s->store));
		f->failed = true;
	}
	s->append.files++;
	return f;
}

/* A synchronizing literal of a refused command: no continuation. */
static int
append_sink_refused(void *handle)
{
	const struct append_file *f = handle;

	return f->refused;
}

static void
append_sink_write(void *handle, const void *data, size_t len)
{
	struct append_file *f = handle;

	if (f->ap == NULL)
		return;
	if (store_append_write(f->ap, data, len) != STORE_OK) {
		log_warnx("APPEND: %s", store_error(f->s->store));
		/* the rest of the literal is dropped; free the disk now */
		store_append_abort(f->ap);
		f->ap = NULL;
		f->failed = true;
	}
}

/* After the command, an error on its line, or the session's end. */
static void
append_sink_release(void *handle)
{
	struct append_file *f = handle;

	store_append_abort(f->ap);     /* a committed one is NULL already */
	/* the command's last: what was checked was for it alone */
	if (--f->s->append.files == 0)
		memset(&f->s->append, 0, sizeof(f->s->append));
	free(f);
}

void
cmd_append_attach(struct session *s)
{
	const struct imap_literal_sink sink = {
		.open = append_sink_open, .write = append_sink_write,
		.release = append_sink_release, .arg = s,
		.refused = append_sink_refused,
	};

	imap_parser_set_sink(s->parser, &sink);
}

void
cmd_append_refused(struct session *s, const char *tag)
{
	const char *why = s->append.refusal;

	log_debug("APPEND refused before its data: %s", why);
	session_tagged(s, tag, "NO", "%s", why[0] != '\0' ? why :
	    "The message cannot be saved");
}

/*
 * The message data of one group: a literal, or UTF8 (literal8); the sink
 * took both (a literal left in memory here is out of place: BAD).
 */
static const struct imap_arg *
append_data(const struct imap_arg *args, size_t nargs, size_t *used)
{
	if (nargs >= 1 && args[0].type == IMAP_ARG_STREAMED) {
		*used = 1;
		return &args[0];
	}
	if (nargs >= 2 && args[0].type == IMAP_ARG_ATOM &&
	    strcasecmp(args[0].str, "UTF8") == 0 && args[1].type == IMAP_ARG_LIST &&
	    args[1].list_count == 1 && args[1].list[0].type == IMAP_ARG_STREAMED &&
	    args[1].list[0].literal8) {
		*used = 2;
		return &args[1].list[0];
	}
	return NULL;
}

/*
 * The groups after the mailbox name into msgs[0..cap).  Returns how many,
 * or 0 with *why for the BAD.
 */
static size_t
append_parse_groups(const struct imap_arg *args, size_t nargs, struct append_msg *msgs,
    size_t cap, const char **why)
{
	size_t i = 0, n = 0, used;
	time_t now = time(NULL);
	struct tm tm;
	int local_tz = 0;

	if (localtime_r(&now, &tm) != NULL)
		local_tz = (int)(tm.tm_gmtoff / 60);
	while (i < nargs) {
		struct append_msg *m = &msgs[n];

		if (n == cap) {
			*why = "Too many messages in one APPEND";
			return 0;
		}
		memset(m, 0, sizeof(*m));
		m->internaldate = (int64_t)now;
		m->tz_minutes = local_tz;
		if (args[i].type == IMAP_ARG_LIST) {
			if (flags_parse(&args[i], false, &m->flags, why) != 0)
				return 0;
			i++;
		}
		if (i < nargs && args[i].type == IMAP_ARG_QUOTED) {
			if (search_parse_datetime(args[i].str, args[i].len,
			    &m->internaldate, &m->tz_minutes) != 0) {
				*why = "Invalid date-time (expected \"dd-Mon-yyyy "
				    "hh:mm:ss +zzzz\")";
				return 0;
			}
			i++;
		}
		if ((m->data = append_data(args + i, nargs - i, &used)) == NULL) {
			*why = "APPEND takes a mailbox, optional flags and date-time, "
			    "and a literal";
			return 0;
		}
		m->file = m->data->stream;
		i += used;
		n++;
	}
	if (n == 0)
		*why = "APPEND takes a mailbox, optional flags and date-time, and a literal";
	return n;
}

/* Take back the first n committed messages of a MULTIAPPEND that failed. */
static void
append_undo(struct session *s, const char *mailbox, const struct append_msg *msgs,
    size_t n)
{
	struct store_view *v = NULL;
	uint32_t uids[APPEND_MAX_MESSAGES];

	if (n == 0)
		return;
	for (size_t i = 0; i < n; i++)
		uids[i] = msgs[i].uid;
	if (store_view_open(s->store, mailbox, false, &v) != STORE_OK ||
	    store_set_flags(v, uids, n, STORE_FLAGS_ADD, STORE_FLAG_DELETED, NULL, 0, 0,
	    NULL, NULL, NULL) != STORE_OK ||
	    store_expunge(v, uids, n, NULL, NULL) != STORE_OK)
		log_warnx("APPEND: cannot take back %zu messages of a failed "
		    "MULTIAPPEND: %s", n, store_error(s->store));
	store_view_close(v);
}

static void
append_store_failed(struct session *s, const char *tag, enum store_result r)
{
	switch (r) {
	case STORE_NOT_FOUND:
		session_tagged(s, tag, "NO", "[TRYCREATE] No such mailbox");
		break;
	case STORE_INVALID:
		session_tagged(s, tag, "NO", "[LIMIT] %s", store_error(s->store));
		break;
	case STORE_OVERQUOTA:
		session_tagged(s, tag, "NO", "[OVERQUOTA] %s", store_error(s->store));
		break;
	default:
		log_warnx("APPEND: %s", store_error(s->store));
		session_tagged(s, tag, "NO", "[SERVERBUG] The message could not be "
		    "saved; the administrator has the details");
		break;
	}
}

/*
 * RFC 9208: the messages together past a quota limit are refused before
 * the first commit, which would take a UID that the undo of a failed
 * MULTIAPPEND could not give back.  Only a first look: each commit checks
 * again under the write lock, which is what holds against other sessions.
 */
static bool
append_quota_ok(struct session *s, const char *tag, const struct append_msg *msgs,
    size_t n)
{
	struct store_quota q;
	uint64_t octets = 0;

	if (store_quota_get(s->store, &q) != STORE_OK) {
		append_store_failed(s, tag, STORE_ERROR);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		octets += msgs[i].data->len;
	if (!store_quota_over(&q, octets, n))
		return true;
	session_tagged(s, tag, "NO", "[OVERQUOTA] %s would pass the quota "
	    "(%" PRIu64 " KiB and %" PRIu64 " messages stored)",
	    n == 1 ? "The message" : "The messages", store_quota_kib(q.storage),
	    q.messages);
	return false;
}

/*
 * What can be refused before a commit: empty or failed files, a missing
 * mailbox, the quota.  false when answered.
 */
static bool
append_ready(struct session *s, const char *tag, const char *mailbox,
    const struct append_msg *msgs, size_t n)
{
	struct store_mailbox mb;
	enum store_result r;

	for (size_t i = 0; i < n; i++) {
		if (msgs[i].data->len == 0) {
			session_tagged(s, tag, "NO", "Empty messages cannot be saved");
			return false;
		}
		/* the parser refuses such literals already; in case it changes */
		if (msgs[i].data->len > s->cfg->max_request_size) {
			session_tagged(s, tag, "NO", "[TOOBIG] Message too large");
			return false;
		}
	}
	r = store_mailbox_get(s->store, mailbox, &mb);
	if (r == STORE_OK && mb.noselect)
		r = STORE_NOT_FOUND;
	if (r != STORE_OK) {
		append_store_failed(s, tag, r);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		if (msgs[i].file->failed) {
			/* the cause was logged when it happened */
			session_tagged(s, tag, "NO", "[SERVERBUG] The message could "
			    "not be saved; the administrator has the details");
			return false;
		}
	return append_quota_ok(s, tag, msgs, n);
}

/* Commit every message in order; any failure takes the earlier ones back. */
static bool
append_commit_all(struct session *s, const char *tag, const char *mailbox,
    struct append_msg *msgs, size_t n, uint32_t *uidvalidity)
{
	enum store_result r = STORE_OK;
	size_t committed = 0;

	while (committed < n && r == STORE_OK) {
		struct append_msg *m = &msgs[committed];

		r = store_append_commit(m->file->ap, mailbox, m->flags.flags,
		    m->flags.keywords, m->flags.n_keywords, m->internaldate,
		    m->tz_minutes, uidvalidity, &m->uid);
		m->file->ap = NULL;     /* freed by the commit either way */
		if (r == STORE_OK)
			committed++;
	}
	if (r == STORE_OK)
		return true;
	/* answered first: the undo would overwrite store_error() */
	append_store_failed(s, tag, r);
	append_undo(s, mailbox, msgs, committed);
	/* the files not committed go when the parser releases them */
	return false;
}

/* NOTIFY: the client knows of these (RFC 5465 §5, §5.2). */
static void
append_notify_own(struct session *s, const char *mailbox, uint32_t uidvalidity,
    const struct append_msg *msgs, size_t n)
{
	uint32_t uids[APPEND_MAX_MESSAGES];

	for (size_t i = 0; i < n; i++)
		uids[i] = msgs[i].uid;
	cmd_notify_own_new(s, mailbox, uidvalidity, uids, n);
}

static void
append_run(struct session *s, const char *tag, const char *mailbox,
    struct append_msg *msgs, size_t n)
{
	struct seqset uids = SEQSET_INIT;
	struct buf line = BUF_INIT;
	uint32_t uidvalidity = 0;

	if (!append_ready(s, tag, mailbox, msgs, n) ||
	    !append_commit_all(s, tag, mailbox, msgs, n, &uidvalidity))
		return;
	log_debug("appended %zu message%s to %s", n, n == 1 ? "" : "s", mailbox);
	append_notify_own(s, mailbox, uidvalidity, msgs, n);
	/* The selected mailbox reports its EXISTS now (another one: harmless). */
	if (s->view != NULL && !session_sync(s, true))
		return;
	for (size_t i = 0; i < n; i++)
		seqset_add_range(&uids, msgs[i].uid, msgs[i].uid);
	buf_printf(&line, "%s OK [APPENDUID %u ", tag, uidvalidity);
	seqset_format(&uids, &line);
	buf_append_str(&line, "] APPEND completed\r\n");
	conn_write(&s->conn, line.data, line.len);
	seqset_free(&uids);
	buf_free(&line);
}

void
cmd_append(struct session *s, const struct imap_command *c)
{
	struct append_msg *msgs;
	struct buf name = BUF_INIT;
	const char *why = "Invalid mailbox name";
	size_t n, cap;
	int rc;

	/* refused at a literal's '}': the data that came anyway is dropped */
	if (s->append.refusal[0] != '\0') {
		cmd_append_refused(s, c->tag);
		return;
	}
	if (c->nargs < 2) {
		session_tagged(s, c->tag, "BAD", "APPEND takes a mailbox, optional flags "
		    "and date-time, and a literal");
		return;
	}
	/* each group takes at least one argument */
	cap = c->nargs - 1 < APPEND_MAX_MESSAGES ? c->nargs - 1 : APPEND_MAX_MESSAGES;
	msgs = xcalloc(cap, sizeof(*msgs));
	if ((n = append_parse_groups(c->args + 1, c->nargs - 1, msgs, cap, &why)) == 0)
		session_tagged(s, c->tag, "BAD", "%s", why);
	else if ((rc = append_mailbox_name(s, &c->args[0], &name, &why)) != 0)
		session_tagged(s, c->tag, rc < 0 ? "BAD" : "NO", "%s%s",
		    rc < 0 ? "" : "[CANNOT] ", why);
	else
		append_run(s, c->tag, name.data, msgs, n);
	buf_free(&name);
	free(msgs);
}
