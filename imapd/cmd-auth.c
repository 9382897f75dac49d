/*
 * Logging in: LOGIN (RFC 9051 §6.2.3) and AUTHENTICATE PLAIN / LOGIN
 * (§6.2.2, RFC 4616, SASL-IR RFC 4959).  The credentials go to the master,
 * which asks cairn-authd; this process never sees a password hash.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd.h"
#include "landlock.h"
#include "sasl.h"

#define TAG_MAX 80

static bool
arg_is_string(const struct imap_arg *a)
{
	return a->type == IMAP_ARG_ATOM || a->type == IMAP_ARG_QUOTED ||
	    a->type == IMAP_ARG_LITERAL;
}

static void
auth_failure(struct session *s, const char *tag, const char *code, const char *text)
{
	session_tagged(s, tag, "NO", "[%s] %s", code, text);
	if (++s->auth_failures >= s->cfg->auth_max_failures) {
		log_info("%u failed logins: closing the connection", s->auth_failures);
		session_bye(s, "Too many authentication failures");
	}
}

/* A login refused here, before authd: logged like authd logs its own. */
static void
auth_refuse(struct session *s, const char *tag, const char *code, const char *text,
    const char *why)
{
	log_info("login refused from %s: %s", s->peer, why);
	auth_failure(s, tag, code, text);
}

/* Ask the master; answer the client; on success enter the authenticated state. */
static void
session_login(struct session *s, const char *tag, enum ipc_auth_mech mech,
    const char *user, const char *password)
{
	struct ipc_auth_request req;
	struct ipc_msg reply;
	char caps[SESSION_CAPS_MAX];

	if (strlen(user) >= sizeof(req.user) || strlen(password) >= sizeof(req.password) ||
	    user[0] == '\0') {
		auth_refuse(s, tag, "AUTHENTICATIONFAILED", "Authentication failed",
		    "empty or over-long user name or password");
		return;
	}
	memset(&req, 0, sizeof(req));
	req.mechanism = mech;
	memcpy(req.user, user, strlen(user) + 1);
	memcpy(req.password, password, strlen(password) + 1);
	int rc = ipc_send(s->control_fd, IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    IPC_AUTH_REQUEST, &req, sizeof(req), -1);
	explicit_bzero(&req, sizeof(req));
	if (rc != 0) {
		session_tagged(s, tag, "NO", "[UNAVAILABLE] Authentication service "
		    "unavailable");
		return;
	}
	if (!session_wait_master(s, &reply))
		return;
	if (reply.type == IPC_AUTH_OK) {
		s->store_dirfd = reply.fd;
		/* For good: this process reaches its user's store and nothing
		 * else, not even another store through ".." (doc/security.md). */
		if (landlock_confine(&s->store_dirfd, 1, false) < 0) {
			session_bye(s, "Internal error");
			return;
		}
		snprintf(s->user, sizeof(s->user), "%s", reply.p.auth_ok.user);
		log_set_user(s->user);
		if (!session_open_store(s)) {
			close(s->store_dirfd);
			s->store_dirfd = -1;
			log_set_user(NULL);
			session_store_failed(s, tag, store_error_cause(), "Your "
			    "mail store cannot be opened; the administrator has the "
			    "details");
			return;
		}
		s->state = SESSION_AUTHENTICATED;
		log_info("logged in");
		session_capabilities(s, caps, sizeof(caps));
		session_tagged(s, tag, "OK", "[CAPABILITY %s] Logged in", caps);
		return;
	}
	if (reply.type != IPC_AUTH_FAILED) {
		if (reply.fd >= 0)
			close(reply.fd);
		session_bye(s, "Internal error");
		return;
	}
	switch (reply.p.auth_failed.result) {
	case IPC_AUTH_RESULT_UNAVAILABLE:
		session_tagged(s, tag, "NO", "[UNAVAILABLE] Authentication service "
		    "temporarily unavailable");
		break;
	case IPC_AUTH_RESULT_LIMIT:
		session_tagged(s, tag, "NO", "[LIMIT] Too many sessions for this user");
		break;
	case IPC_AUTH_RESULT_DISABLED:
		auth_failure(s, tag, "CONTACTADMIN", "Account disabled");
		break;
	default:
		auth_failure(s, tag, "AUTHENTICATIONFAILED", "Authentication failed");
		break;
	}
}

/* Both commands carry secrets: refuse them in clear text (RFC 9051 §6.2). */
static bool
auth_allowed(struct session *s, const char *tag)
{
	if (s->control_fd < 0) {
		session_tagged(s, tag, "NO", "Logins are not possible in this mode");
		return false;
	}
	if (!session_plaintext_ok(s)) {
		session_tagged(s, tag, "NO", "[PRIVACYREQUIRED] Use STARTTLS first");
		return false;
	}
	return true;
}

void
cmd_login(struct session *s, const struct imap_command *c)
{
	if (c->nargs != 2 || !arg_is_string(&c->args[0]) || !arg_is_string(&c->args[1])) {
		session_tagged(s, c->tag, "BAD", "LOGIN takes a user name and a password");
		return;
	}
	if (!auth_allowed(s, c->tag))
		return;
	if (memchr(c->args[0].str, '\0', c->args[0].len) != NULL ||
	    memchr(c->args[1].str, '\0', c->args[1].len) != NULL) {
		session_tagged(s, c->tag, "BAD", "NUL in LOGIN arguments");
		return;
	}
	session_login(s, c->tag, IPC_MECH_LOGIN, c->args[0].str, c->args[1].str);
}

/*
 * One SASL response: the initial one from the command line (SASL-IR), or a
 * line read after a "+ " challenge.  "*" cancels (§6.2.2).  Returns 0 with
 * the decoded bytes, 1 when cancelled (BAD sent), -1 on error (answered).
 */
static int
sasl_response(struct session *s, const char *tag, const char *initial,
    const char *challenge, unsigned char *out, size_t cap, size_t *outlen)
{
	const char *line = initial;
	size_t len = initial != NULL ? strlen(initial) : 0;

	if (initial == NULL) {
		conn_printf(&s->conn, "+ %s\r\n", challenge);
		int rc = session_read_line(s, &line, &len);
		if (rc == -2)
			return -1;
		if (rc == -1) {
			session_tagged(s, tag, "BAD", "Response too long");
			return -1;
		}
	}
	if (len == 1 && line[0] == '*') {
		session_tagged(s, tag, "BAD", "Authentication cancelled");
		return 1;
	}
	if (len == 1 && line[0] == '=' && initial != NULL) {
		*outlen = 0;  /* RFC 4959: "=" is an empty initial response */
		return 0;
	}
	if (sasl_base64_decode(line, len, out, cap, outlen) != 0) {
		session_tagged(s, tag, "BAD", "Invalid base64 in the response");
		return -1;
	}
	return 0;
}

static void
authenticate_plain(struct session *s, const char *tag, const char *initial)
{
	unsigned char buf[IPC_LOGIN_LEN * 2 + IPC_PASSWORD_LEN + 8];
	char authzid[IPC_LOGIN_LEN], authcid[IPC_LOGIN_LEN], passwd[IPC_PASSWORD_LEN];
	size_t len = 0;

	if (sasl_response(s, tag, initial, "", buf, sizeof(buf), &len) != 0)
		return;
	if (len == 0 && initial != NULL) {
		/* empty initial response: ask for the real one */
		if (sasl_response(s, tag, NULL, "", buf, sizeof(buf), &len) != 0)
			return;
	}
	if (sasl_plain_split(buf, len, authzid, sizeof(authzid), authcid,
	    sizeof(authcid), passwd, sizeof(passwd)) != 0) {
		explicit_bzero(buf, sizeof(buf));
		auth_refuse(s, tag, "AUTHENTICATIONFAILED", "Malformed PLAIN response",
		    "malformed PLAIN response");
		return;
	}
	explicit_bzero(buf, sizeof(buf));
	/* No proxy logins: an authzid, if given, must be the user itself. */
	if (authzid[0] != '\0' && strcmp(authzid, authcid) != 0)
		auth_refuse(s, tag, "AUTHORIZATIONFAILED", "Authorization failed",
		    "PLAIN authorization identity differs from the user");
	else
		session_login(s, tag, IPC_MECH_PLAIN, authcid, passwd);
	explicit_bzero(passwd, sizeof(passwd));
}

static void
authenticate_login(struct session *s, const char *tag, const char *initial)
{
	unsigned char user[IPC_LOGIN_LEN], passwd[IPC_PASSWORD_LEN];
	size_t ulen = 0, plen = 0;

	/* "Username:" and "Password:", base64 */
	if (sasl_response(s, tag, initial, "VXNlcm5hbWU6", user, sizeof(user) - 1,
	    &ulen) != 0)
		return;
	if (sasl_response(s, tag, NULL, "UGFzc3dvcmQ6", passwd, sizeof(passwd) - 1,
	    &plen) != 0)
		return;
	user[ulen] = '\0';
	passwd[plen] = '\0';
	if (memchr(user, '\0', ulen) != NULL || memchr(passwd, '\0', plen) != NULL)
		auth_refuse(s, tag, "AUTHENTICATIONFAILED", "Authentication failed",
		    "NUL in a LOGIN response");
	else
		session_login(s, tag, IPC_MECH_SASL_LOGIN, (char *)user, (char *)passwd);
	explicit_bzero(passwd, sizeof(passwd));
}

void
cmd_authenticate(struct session *s, const struct imap_command *c)
{
	char tag[TAG_MAX], mech[32], initial[4096];
	bool has_initial = c->nargs == 2;

	if (c->nargs < 1 || c->nargs > 2 || c->args[0].type != IMAP_ARG_ATOM ||
	    (has_initial && c->args[1].type != IMAP_ARG_ATOM)) {
		session_tagged(s, c->tag, "BAD", "AUTHENTICATE takes a mechanism and an "
		    "optional initial response");
		return;
	}
	if (!auth_allowed(s, c->tag))
		return;
	if (strlen(c->tag) >= sizeof(tag) || c->args[0].len >= sizeof(mech) ||
	    (has_initial && c->args[1].len >= sizeof(initial))) {
		session_tagged(s, c->tag, "BAD", "Argument too long");
		return;
	}
	/* The parser is about to read raw lines: keep what we need of c. */
	snprintf(tag, sizeof(tag), "%s", c->tag);
	snprintf(mech, sizeof(mech), "%s", c->args[0].str);
	if (has_initial)
		snprintf(initial, sizeof(initial), "%s", c->args[1].str);

	if (strcasecmp(mech, "PLAIN") == 0)
		authenticate_plain(s, tag, has_initial ? initial : NULL);
	else if (strcasecmp(mech, "LOGIN") == 0)
		authenticate_login(s, tag, has_initial ? initial : NULL);
	else
		session_tagged(s, tag, "NO", "Unsupported authentication mechanism");
	explicit_bzero(initial, sizeof(initial));
}
