/* The command table: which command runs in which state, and its handler. */
#ifndef CAIRN_CMD_H
#define CAIRN_CMD_H

#include "parser.h"
#include "session.h"

struct cmd {
	const char *name;
	unsigned states;             /* mask of enum session_state */
	void (*run)(struct session *s, const struct imap_command *c);
	bool uid_ok;                 /* may come as UID <name>: s->uid_command */
};

const struct cmd *cmd_lookup(const char *name);
/* Run one parsed command, or answer BAD when it is unknown or out of state. */
void cmd_dispatch(struct session *s, const struct imap_command *c);

/* cmd-any.c: valid in every state (RFC 9051 §6.1) */
void cmd_capability(struct session *s, const struct imap_command *c);
void cmd_noop(struct session *s, const struct imap_command *c);
void cmd_logout(struct session *s, const struct imap_command *c);
void cmd_id(struct session *s, const struct imap_command *c);
/* cmd.c: UID FETCH|STORE|COPY|MOVE|SEARCH|EXPUNGE (RFC 9051 §6.4.9) */
void cmd_uid(struct session *s, const struct imap_command *c);
/* cmd-nonauth.c: not authenticated state (RFC 9051 §6.2) */
void cmd_starttls(struct session *s, const struct imap_command *c);
/* cmd-auth.c: logging in (RFC 9051 §6.2.2, §6.2.3) */
void cmd_login(struct session *s, const struct imap_command *c);
void cmd_authenticate(struct session *s, const struct imap_command *c);

#endif
