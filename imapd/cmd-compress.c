/* COMPRESS (RFC 4978): the connection deflated both ways, after login. */
#include "autoconfig.h"

#include <strings.h>

#include "cmd.h"

/*
 * §3: the tagged OK goes out uncompressed, and both directions are
 * compressed from the byte after it.  A client should wait for the OK
 * before it compresses; whatever it sent after the command anyway is in
 * the input buffer already, read as it came: it is the start of the
 * compressed stream, so it goes to the inflater rather than the parser.
 *
 * A second COMPRESS is answered NO [COMPRESSIONACTIVE], as Dovecot does:
 * §3 lists BAD for it, but says NO [COMPRESSIONACTIVE] for "the same
 * mechanism is active already", which it is; a client turns nothing on
 * after either.
 */
void
cmd_compress(struct session *s, const struct imap_command *c)
{
	const struct imap_arg *a = c->nargs == 1 ? &c->args[0] : NULL;

	if (a == NULL || a->type != IMAP_ARG_ATOM) {
		session_tagged(s, c->tag, "BAD", "COMPRESS takes one mechanism: DEFLATE");
		return;
	}
	/* §5: algorithm = "DEFLATE", an ABNF string: any letter case */
	if (strcasecmp(a->str, "DEFLATE") != 0) {
		session_tagged(s, c->tag, "BAD", "Unknown compression mechanism, "
		    "only DEFLATE is known");
		return;
	}
	if (conn_is_compressed(&s->conn)) {
		session_tagged(s, c->tag, "NO", "[COMPRESSIONACTIVE] DEFLATE is "
		    "already active");
		return;
	}
	session_tagged(s, c->tag, "OK", "DEFLATE active");
	if (conn_start_compress(&s->conn, s->inbuf + s->in_off,
	    s->in_len - s->in_off) != CONN_OK) {
		s->state = SESSION_LOGOUT;
		return;
	}
	s->in_off = s->in_len;
	log_info("COMPRESS=DEFLATE active");
}
