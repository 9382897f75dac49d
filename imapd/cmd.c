#include "autoconfig.h"

#include <string.h>

#include "cmd.h"

#define ANY (SESSION_NOT_AUTHENTICATED | SESSION_AUTHENTICATED | SESSION_SELECTED)

static const struct cmd cmd_table[] = {
	{ "AUTHENTICATE", SESSION_NOT_AUTHENTICATED, cmd_authenticate },
	{ "CAPABILITY", ANY, cmd_capability },
	{ "ID", ANY, cmd_id },
	{ "LOGIN", SESSION_NOT_AUTHENTICATED, cmd_login },
	{ "LOGOUT", ANY, cmd_logout },
	{ "NOOP", ANY, cmd_noop },
	{ "STARTTLS", SESSION_NOT_AUTHENTICATED, cmd_starttls },
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
cmd_dispatch(struct session *s, const struct imap_command *c)
{
	const struct cmd *cmd = cmd_lookup(c->name);

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
}
