/* Commands of the not-authenticated state: RFC 9051 §6.2. */
#include "autoconfig.h"

#include "cmd.h"

/*
 * STARTTLS (§6.2.1).  The OK goes out in clear text, then the handshake.
 * Anything the client pipelined after the command was sent before TLS
 * protected it, so it is thrown away (the session loop sees discard_input).
 */
void
cmd_starttls(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 0) {
		session_tagged(s, c->tag, "BAD", "STARTTLS takes no arguments");
		return;
	}
	if (conn_is_tls(&s->conn)) {
		session_tagged(s, c->tag, "BAD", "TLS is already active");
		return;
	}
	if (s->tls_ctx == NULL) {
		session_tagged(s, c->tag, "NO", "TLS is not configured on this server");
		return;
	}
	session_tagged(s, c->tag, "OK", "Begin TLS negotiation now");
	if (conn_flush(&s->conn) != CONN_OK) {
		s->state = SESSION_LOGOUT;
		return;
	}
	s->discard_input = true;
	if (conn_start_tls(&s->conn, s->tls_ctx,
	    (int)s->cfg->timeout_unauthenticated * 1000) != CONN_OK) {
		s->state = SESSION_LOGOUT;
		return;
	}
	log_info("STARTTLS: %s", SSL_get_version(s->conn.ssl));
}
