/* Commands valid in any state: RFC 9051 §6.1. */
#include "autoconfig.h"

#include "cmd.h"

void
cmd_capability(struct session *s, const struct imap_command *c)
{
	char caps[512];

	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "CAPABILITY takes no arguments");
		return;
	}
	session_capabilities(s, caps, sizeof(caps));
	session_untagged(s, "CAPABILITY %s", caps);
	session_tagged(s, c->tag, "OK", "CAPABILITY completed");
}

void
cmd_noop(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "NOOP takes no arguments");
		return;
	}
	session_tagged(s, c->tag, "OK", "NOOP completed");
}

void
cmd_logout(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "LOGOUT takes no arguments");
		return;
	}
	/* §6.1.3: the untagged BYE comes before the tagged OK. */
	session_untagged(s, "BYE Logging out");
	session_tagged(s, c->tag, "OK", "LOGOUT completed");
	s->state = SESSION_LOGOUT;
}
