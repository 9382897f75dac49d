/* Commands valid in any state: RFC 9051 §6.1. */
#include "autoconfig.h"

#include "cmd.h"

void
cmd_capability(struct session *s, const struct imap_command *c)
{
	char caps[SESSION_CAPS_MAX];

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
	/* §6.1.2: NOOP is how a client polls for changes. */
	if (s->state == SESSION_SELECTED && !session_sync(s, true))
		return;
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

/*
 * ID (RFC 2971): NIL or a list of at most 30 field/value pairs; we log what
 * the client says about itself and say who we are.
 */
void
cmd_id(struct session *s, const struct imap_command *c)
{
	const struct imap_arg *a = c->nargs == 1 ? &c->args[0] : NULL;
	char seen[512] = "";
	size_t used = 0;

	if (a == NULL || (a->type != IMAP_ARG_NIL && a->type != IMAP_ARG_LIST) ||
	    (a->type == IMAP_ARG_LIST && (a->list_count % 2 != 0 || a->list_count > 60))) {
		session_tagged(s, c->tag, "BAD", "ID takes NIL or a list of field/value pairs");
		return;
	}
	for (size_t i = 0; a->type == IMAP_ARG_LIST && i < a->list_count; i++) {
		const struct imap_arg *f = &a->list[i];
		bool string = f->type == IMAP_ARG_QUOTED || f->type == IMAP_ARG_LITERAL;
		if (!string && !(i % 2 == 1 && f->type == IMAP_ARG_NIL)) {
			session_tagged(s, c->tag, "BAD", "ID fields are strings");
			return;
		}
		if (used < sizeof(seen) && f->type != IMAP_ARG_NIL) {
			int n = snprintf(seen + used, sizeof(seen) - used, "%s%.*s",
			    i % 2 == 0 ? (i ? ", " : "") : "=", (int)(f->len > 64 ? 64 : f->len),
			    f->str);
			if (n > 0)
				used += (size_t)n;
		}
	}
	if (seen[0] != '\0')
		log_info("client ID: %s", seen);
	session_untagged(s, "ID (\"name\" \"Cairn\" \"version\" \"%s\")", PACKAGE_VERSION);
	session_tagged(s, c->tag, "OK", "ID completed");
}
