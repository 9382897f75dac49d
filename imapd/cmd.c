#include "autoconfig.h"

#include <ctype.h>
#include <string.h>

#include "cmd.h"
#include "report.h"

#define ANY (SESSION_NOT_AUTHENTICATED | SESSION_AUTHENTICATED | SESSION_SELECTED)
#define AUTH (SESSION_AUTHENTICATED | SESSION_SELECTED)
#define SELECTED SESSION_SELECTED

static const struct cmd cmd_table[] = {
	{ "APPEND", AUTH, cmd_append, false },
	{ "AUTHENTICATE", SESSION_NOT_AUTHENTICATED, cmd_authenticate, false },
	{ "CAPABILITY", ANY, cmd_capability, false },
	{ "CHECK", SELECTED, cmd_check, false },
	{ "CLOSE", SELECTED, cmd_close, false },
	{ "COMPRESS", AUTH, cmd_compress, false },
	{ "COPY", SELECTED, cmd_copy, true },
	{ "CREATE", AUTH, cmd_create, false },
	{ "DELETE", AUTH, cmd_delete, false },
	{ "ENABLE", SESSION_AUTHENTICATED, cmd_enable, false },
	{ "EXAMINE", AUTH, cmd_examine, false },
	{ "EXPUNGE", SELECTED, cmd_expunge, true },
	{ "FETCH", SELECTED, cmd_fetch, true },
	{ "GETQUOTA", AUTH, cmd_getquota, false },
	{ "GETQUOTAROOT", AUTH, cmd_getquotaroot, false },
	{ "ID", ANY, cmd_id, false },
	{ "IDLE", AUTH, cmd_idle, false },
	{ "LIST", AUTH, cmd_list, false },
	{ "LOGIN", SESSION_NOT_AUTHENTICATED, cmd_login, false },
	{ "LOGOUT", ANY, cmd_logout, false },
	{ "LSUB", AUTH, cmd_lsub, false },
	{ "MOVE", SELECTED, cmd_move, true },
	{ "NAMESPACE", AUTH, cmd_namespace, false },
	{ "NOOP", ANY, cmd_noop, false },
	{ "NOTIFY", AUTH, cmd_notify, false },
	{ "RENAME", AUTH, cmd_rename, false },
	{ "SEARCH", SELECTED, cmd_search, true },
	{ "SELECT", AUTH, cmd_select, false },
	{ "SETQUOTA", AUTH, cmd_setquota, false },
	{ "SORT", SELECTED, cmd_sort, true },
	{ "STARTTLS", SESSION_NOT_AUTHENTICATED, cmd_starttls, false },
	{ "STATUS", AUTH, cmd_status, false },
	{ "STORE", SELECTED, cmd_store, true },
	{ "SUBSCRIBE", AUTH, cmd_subscribe, false },
	{ "THREAD", SELECTED, cmd_thread, true },
	{ "UID", SELECTED, cmd_uid, false },
	{ "UNSELECT", SELECTED, cmd_unselect, false },
	{ "UNSUBSCRIBE", AUTH, cmd_unsubscribe, false },
};

const struct cmd *
cmd_lookup(const char *name)
{
	for (size_t i = 0; i < sizeof(cmd_table) / sizeof(cmd_table[0]); i++)
		if (strcmp(cmd_table[i].name, name) == 0)
			return &cmd_table[i];
	return NULL;
}

void
cmd_uid(struct session *s, const struct imap_command *c)
{
	char name[16];
	const struct cmd *cmd;

	if (c->nargs < 1 || c->args[0].type != IMAP_ARG_ATOM ||
	    c->args[0].len >= sizeof(name)) {
		session_tagged(s, c->tag, "BAD", "UID needs a command");
		return;
	}
	for (size_t i = 0; i <= c->args[0].len; i++)
		name[i] = (char)toupper((unsigned char)c->args[0].str[i]);
	if ((cmd = cmd_lookup(name)) == NULL || !cmd->uid_ok) {
		session_tagged(s, c->tag, "BAD", "UID %s is not a command", name);
		return;
	}
	const struct imap_command sub = { c->tag, cmd->name, c->args + 1, c->nargs - 1 };
	s->uid_command = true;
	cmd->run(s, &sub);
	s->uid_command = false;
}

void
cmd_dispatch(struct session *s, const struct imap_command *c)
{
	const struct cmd *cmd = cmd_lookup(c->name);

	report_command(cmd != NULL ? cmd->name : "");
	if (cmd == NULL) {
		session_tagged(s, c->tag, "BAD", "Unknown command");
		return;
	}
	if (!(cmd->states & s->state)) {
		session_tagged(s, c->tag, "BAD", "%s is not valid in this state",
		    cmd->name);
		return;
	}
	log_trace("command %s", cmd->name);
	cmd->run(s, c);
	cmd_notify_after(s);
	report_state(s, false);
}
