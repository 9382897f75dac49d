/*
 * QUOTA (RFC 9208): GETQUOTA, GETQUOTAROOT and SETQUOTA.
 *
 * One quota root per user, named "" (the empty string, as RFC 9208's
 * examples and most servers have it; Dovecot calls its root "User
 * quota"): it governs every mailbox of the store, existing or not yet
 * created, with two resources, STORAGE (RFC822.SIZE summed, in units of
 * 1024 octets, rounded up) and MESSAGE.  store/quota.c keeps the usage and
 * the limits; cairnctl sets the limits.
 *
 * A QUOTA response lists at least one resource (RFC 9208 quota-list), and
 * a resource without a limit has nothing to report: only the resources
 * with a limit are listed, and a user without any limit has no quota root
 * at all (GETQUOTAROOT names none, GETQUOTA "" is NO).
 *
 * SETQUOTA is not for users here (limits are the administrator's), and
 * QUOTASET is not advertised: a well-formed SETQUOTA gets NO, what RFC
 * 9208 §4.1.3 answers when the server "can't set that data".
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <string.h>

#include "cmd.h"

/* "QUOTA \"\" (STORAGE used limit MESSAGE used limit)": false when no
 * resource has a limit (no quota root then). */
static bool
quota_response(const struct store_quota *q, struct buf *line)
{
	const char *sep = "";

	if (q->storage_limit == STORE_QUOTA_NONE &&
	    q->message_limit == STORE_QUOTA_NONE)
		return false;
	buf_append_str(line, "QUOTA \"\" (");
	if (q->storage_limit != STORE_QUOTA_NONE) {
		buf_printf(line, "STORAGE %" PRIu64 " %" PRIu64,
		    store_quota_kib(q->storage), q->storage_limit);
		sep = " ";
	}
	if (q->message_limit != STORE_QUOTA_NONE)
		buf_printf(line, "%sMESSAGE %" PRIu64 " %" PRIu64, sep, q->messages,
		    q->message_limit);
	buf_append_char(line, ')');
	return true;
}

static bool
get_quota(struct session *s, const char *tag, struct store_quota *q)
{
	if (store_quota_get(s->store, q) == STORE_OK)
		return true;
	log_warnx("quota: store: %s", store_error(s->store));
	session_tagged(s, tag, "NO", "[SERVERBUG] The quota cannot be read; the "
	    "administrator has the details");
	return false;
}

/* astring (RFC 9051 §9): an atom (NIL too), a quoted string or a literal. */
static bool
is_astring(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_NIL ||
	    ((a->type == IMAP_ARG_QUOTED || a->type == IMAP_ARG_LITERAL) &&
	    !a->literal8);
}

void
cmd_getquota(struct session *s, const struct imap_command *c)
{
	struct buf line = BUF_INIT;
	struct store_quota q;

	if (c->nargs != 1 || !is_astring(&c->args[0])) {
		session_tagged(s, c->tag, "BAD", "GETQUOTA takes a quota root name");
		return;
	}
	if ((c->args[0].type != IMAP_ARG_QUOTED &&
	    c->args[0].type != IMAP_ARG_LITERAL) || c->args[0].len != 0) {
		session_tagged(s, c->tag, "NO", "[NONEXISTENT] No such quota root; "
		    "the one quota root here is \"\"");
		return;
	}
	if (!get_quota(s, c->tag, &q))
		return;
	if (quota_response(&q, &line)) {
		session_untagged_buf(s, &line);
		cmd_mailbox_done(s, c->tag, "GETQUOTA");
	} else {
		session_tagged(s, c->tag, "NO", "[NONEXISTENT] No quota limits are "
		    "set for this user");
	}
	buf_free(&line);
}

void
cmd_getquotaroot(struct session *s, const struct imap_command *c)
{
	struct buf name = BUF_INIT, line = BUF_INIT, quota = BUF_INIT;
	const char *why = "Invalid mailbox name";
	struct store_quota q;
	bool any;

	if (c->nargs != 1) {
		session_tagged(s, c->tag, "BAD", "GETQUOTAROOT takes a mailbox name");
		return;
	}
	/* The mailbox need not exist: its quota root is the user's either
	 * way, also for one about to be created. */
	switch (cmd_mailbox_decode(s, &c->args[0], false, &name, &why)) {
	case CMD_NAME_OK:
		break;
	case CMD_NAME_BAD:
		session_tagged(s, c->tag, "BAD", "%s", why);
		goto out;
	default:
		session_tagged(s, c->tag, "NO", "[CANNOT] %s", why);
		goto out;
	}
	if (!get_quota(s, c->tag, &q))
		goto out;
	any = quota_response(&q, &quota);
	buf_append_str(&line, "QUOTAROOT ");
	if (cmd_mailbox_format(s, name.data != NULL ? name.data : "", &line) != 0) {
		session_tagged(s, c->tag, "NO", "[CANNOT] The mailbox name cannot "
		    "be encoded");
		goto out;
	}
	if (any)
		buf_append_str(&line, " \"\"");
	session_untagged_buf(s, &line);
	if (any)
		session_untagged_buf(s, &quota);
	cmd_mailbox_done(s, c->tag, "GETQUOTAROOT");
out:
	buf_free(&name);
	buf_free(&line);
	buf_free(&quota);
}

/*
 * setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")",
 * setquota-resource = resource-name SP resource-limit.
 */
static bool
setquota_list_ok(const struct imap_arg *list)
{
	if (list->type != IMAP_ARG_LIST || list->list_count % 2 != 0)
		return false;
	for (size_t i = 0; i < list->list_count; i += 2)
		if (list->list[i].type != IMAP_ARG_ATOM ||
		    imap_arg_number64(&list->list[i + 1], &(uint64_t){ 0 }) != 0)
			return false;
	return true;
}

void
cmd_setquota(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 2 || !is_astring(&c->args[0]) ||
	    !setquota_list_ok(&c->args[1])) {
		session_tagged(s, c->tag, "BAD", "SETQUOTA takes a quota root name "
		    "and a list of resource names and limits");
		return;
	}
	session_tagged(s, c->tag, "NO", "[NOPERM] Quota limits are set by the "
	    "administrator, not over IMAP");
}
