/* The session loop: read, parse, dispatch, reply; timeouts and shutdown. */
#include "autoconfig.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "flags.h"
#include "ipc.h"
#include "select.h"
#include "session.h"

bool
session_plaintext_ok(const struct session *s)
{
	return conn_is_tls(&s->conn) || s->cfg->allow_plain_text_auth;
}

/*
 * RFC 9051 §6.2 / RFC 3501 §6.2.3: without TLS (and allow-plain-text-auth
 * off) say LOGINDISABLED and offer no mechanism; STARTTLS while it can run.
 */
void
session_capabilities(const struct session *s, char *buf, size_t len)
{
	bool preauth = s->state == SESSION_NOT_AUTHENTICATED;
	bool starttls = preauth && s->tls_ctx != NULL && !conn_is_tls(&s->conn);
	char appendlimit[48];

	/* RFC 7889: after login, where APPEND is allowed */
	snprintf(appendlimit, sizeof(appendlimit), " APPENDLIMIT=%" PRIu64,
	    s->cfg->max_request_size);
	snprintf(buf, len, "IMAP4rev2 IMAP4rev1 LITERAL+ ID IDLE%s%s%s%s%s",
	    starttls ? " STARTTLS" : "",
	    preauth && session_plaintext_ok(s) ? " SASL-IR AUTH=PLAIN AUTH=LOGIN" : "",
	    preauth && !session_plaintext_ok(s) ? " LOGINDISABLED" : "",
	    /* After login: what the command files implement. */
	    preauth ? "" : " ENABLE NAMESPACE UNSELECT UIDPLUS MOVE MULTIAPPEND BINARY"
	    " ESEARCH SEARCHRES CHILDREN LIST-EXTENDED LIST-STATUS SPECIAL-USE"
	    " CREATE-SPECIAL-USE STATUS=SIZE UTF8=ACCEPT WITHIN OBJECTID"
	    " CONDSTORE QRESYNC COMPRESS=DEFLATE QUOTA QUOTA=RES-STORAGE"
	    " QUOTA=RES-MESSAGE SAVEDATE PREVIEW SORT SORT=DISPLAY ESORT"
	    " THREAD=ORDEREDSUBJECT THREAD=REFERENCES NOTIFY",
	    preauth ? "" : appendlimit);
}

void
session_untagged(struct session *s, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	conn_printf(&s->conn, "* %s\r\n", line);
}

void
session_tagged(struct session *s, const char *tag, const char *status,
    const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	conn_printf(&s->conn, "%s %s %s\r\n", tag != NULL ? tag : "*", status, line);
}

void
session_untagged_buf(struct session *s, const struct buf *text)
{
	conn_write(&s->conn, "* ", 2);
	conn_write(&s->conn, text->data != NULL ? text->data : "", text->len);
	conn_write(&s->conn, "\r\n", 2);
}

/* EXPUNGE, or VANISHED with QRESYNC (RFC 7162 §3.2.10.2). */
static void
sync_expunged(void *arg, const uint32_t *msn, const uint32_t *uid, size_t n)
{
	select_expunged(arg, msn, uid, n);
}

static void
sync_exists(void *arg, uint32_t exists)
{
	struct session *s = arg;

	session_untagged(s, "%u EXISTS", exists);
	/* RECENT is gone from IMAP4rev2 (RFC 9051 Appendix E). */
	if (!(s->enabled & SESSION_ENABLED_IMAP4REV2))
		session_untagged(s, "%u RECENT", store_view_recent(s->view));
}

void
session_send_flags(struct session *s, uint32_t msn, const struct store_message *m)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "%u FETCH (UID %u FLAGS ", msn, m->uid);
	flags_format(m, !(s->enabled & SESSION_ENABLED_IMAP4REV2), &line);
	/* RFC 7162 §3.1: once CONDSTORE is on, every untagged FETCH carries
	 * UID and MODSEQ, also for another session's change. */
	if (select_condstore(s))
		buf_printf(&line, " MODSEQ (%llu)", (unsigned long long)m->modseq);
	buf_append_char(&line, ')');
	session_untagged_buf(s, &line);
	buf_free(&line);
}

static void
sync_flags(void *arg, uint32_t msn, const struct store_message *m)
{
	session_send_flags(arg, msn, m);
}

/* Another session created a keyword: FLAGS and PERMANENTFLAGS again. */
static void
sync_keywords(void *arg)
{
	(void)select_send_flags(arg);   /* failing, it has logged */
}

bool
session_sync(struct session *s, bool allow_expunge)
{
	return session_sync_flags(s, allow_expunge, true);
}

bool
session_sync_flags(struct session *s, bool allow_expunge, bool flags)
{
	static const struct store_changes cb = { sync_expunged, sync_exists,
	    sync_flags, sync_keywords };
	static const struct store_changes cb_noflags = { sync_expunged,
	    sync_exists, NULL, sync_keywords };
	enum store_result r;
	uint32_t last;

	if (s->view == NULL)
		return true;
	/* the newest message the client knew of, for NOTIFY's FETCH of the
	 * new ones (RFC 5465 §5.2), whichever sync finds them */
	last = store_view_uid(s->view, store_view_exists(s->view));
	r = store_view_sync(s->view, allow_expunge, flags ? &cb : &cb_noflags, s);
	if (r == STORE_OK)
		return cmd_notify_new_messages(s, last);
	if (r == STORE_NOT_FOUND)
		session_bye(s, "The selected mailbox was deleted by another session");
	else {
		log_warnx("store: %s", store_error(s->store));
		session_bye(s, "Internal error in the mail store");
	}
	return false;
}

void
session_bye(struct session *s, const char *why)
{
	session_untagged(s, "BYE %s", why);
	(void)conn_flush(&s->conn);
	s->state = SESSION_LOGOUT;
}

static void
session_greet(struct session *s)
{
	char caps[SESSION_CAPS_MAX];

	session_capabilities(s, caps, sizeof(caps));
	if (s->state == SESSION_AUTHENTICATED)
		session_untagged(s, "PREAUTH [CAPABILITY %s] Cairn ready, "
		    "pre-authenticated as %s", caps, s->user);
	else
		session_untagged(s, "OK [CAPABILITY %s] Cairn ready", caps);
}

/* A parse error: BAD, and for an unskippable literal, the end. */
static void
session_parse_error(struct session *s)
{
	const char *tag = imap_parser_error_tag(s->parser);
	const char *why = imap_parser_error(s->parser);
	const char *cmd = imap_parser_error_command(s->parser);

	/* APPEND's sink refused the literal: it says why (cmd-append.c) */
	if (imap_parser_error_kind(s->parser) == IMAP_ERR_REFUSED) {
		cmd_append_refused(s, tag);
		return;
	}
	log_debug("bad command: %s", why);
	/* RFC 7889 §4, RFC 7888 §4: a message over APPENDLIMIT in a
	 * synchronising literal is refused before the client sends it. */
	if (cmd != NULL && strcmp(cmd, "APPEND") == 0 && !imap_parser_fatal(s->parser))
		session_tagged(s, tag, "NO", "[TOOBIG] The message is larger than "
		    "APPENDLIMIT=%" PRIu64, s->cfg->max_request_size);
	else
		session_tagged(s, tag, "BAD", "%s", why);
	if (imap_parser_fatal(s->parser))
		session_bye(s, "Request too large, closing the connection");
}

static void session_handle_control(struct session *s);

/*
 * rate-limit: wait until this command fits (ratelimit.h).  The replies so
 * far go out first; meanwhile nothing more is read from the client (its
 * bytes wait in the socket), and only the master is listened to, for a
 * shutdown.  LOGOUT never waits: a client may always leave.  A malformed
 * command counts as well.  false: the session ended while waiting.
 */
static bool
session_rate_wait(struct session *s, const char *name)
{
	int64_t wait;

	if (name != NULL && strcmp(name, "LOGOUT") == 0)
		return true;
	while ((wait = ratelimit_take(&s->rate, session_now_ms() * 1000)) > 0) {
		struct pollfd p = { .fd = s->control_fd, .events = POLLIN };
		/* a wait is at most the period, 7 days: it fits an int */
		int ms = (int)(wait / 1000) + 1, n;

		if (s->rate_delayed++ == 0)
			log_info("rate-limit (%u commands per %u s) reached: "
			    "commands are delayed", s->cfg->rate_limit_count,
			    s->cfg->rate_limit_period);
		if (conn_flush(&s->conn) != CONN_OK) {
			s->state = SESSION_LOGOUT;
			return false;
		}
		n = poll(&p, 1, ms);
		if (n < 0 && errno != EINTR)
			fatal("poll");
		if (n > 0) {
			session_handle_control(s);
			if (s->state == SESSION_LOGOUT)
				return false;
		}
	}
	return true;
}

/* Run every complete command in inbuf[in_off..in_len). */
static void
session_process_input(struct session *s)
{
	while (s->in_off < s->in_len && s->state != SESSION_LOGOUT) {
		size_t used = 0;

		/* a client that stopped reading gets no more commands run */
		if (conn_broken(&s->conn)) {
			s->state = SESSION_LOGOUT;
			break;
		}
		enum imap_parse_result r = imap_parser_feed(s->parser,
		    s->inbuf + s->in_off, s->in_len - s->in_off, &used);
		s->in_off += used;
		switch (r) {
		case IMAP_PARSE_NEED_MORE:
			break;
		case IMAP_PARSE_CONTINUE:
			conn_printf(&s->conn, "+ Ready for literal data\r\n");
			if (conn_flush(&s->conn) != CONN_OK)
				s->state = SESSION_LOGOUT;
			continue;
		case IMAP_PARSE_COMMAND: {
			const struct imap_command *c = imap_parser_command(s->parser);
			if (session_rate_wait(s, c->name))
				cmd_dispatch(s, c);
			imap_parser_reset(s->parser);
			break;
		}
		case IMAP_PARSE_ERROR:
			if (!session_rate_wait(s, NULL))
				break;
			session_parse_error(s);
			imap_parser_reset(s->parser);
			break;
		}
		if (s->discard_input) {
			/* RFC 9051 §6.2.1: nothing sent before TLS may count after. */
			s->discard_input = false;
			s->in_off = s->in_len;
		}
	}
}

static int
session_timeout_ms(const struct session *s)
{
	unsigned secs = s->state == SESSION_NOT_AUTHENTICATED
	    ? s->cfg->timeout_unauthenticated : s->cfg->timeout_authenticated;
	return (int)secs * 1000;
}

/* A message from the master outside a login: SHUTDOWN, or it went away. */
static void
session_handle_control(struct session *s)
{
	struct ipc_msg msg;
	const char *why = NULL;

	switch (ipc_recv(s->control_fd, IPC_ROLE_IMAPD, IPC_ROLE_MASTER, &msg, &why)) {
	case IPC_RECV_AGAIN:
		return;
	case IPC_RECV_OK:
		if (msg.fd >= 0)
			close(msg.fd);
		if (msg.type == IPC_KICK) {
			/* cairnctl kick: the reason is printable ASCII (ipc.c) */
			log_info("ended by the administrator: %s", msg.p.kick.reason);
			session_bye(s, msg.p.kick.reason);
			return;
		}
		if (msg.type != IPC_SHUTDOWN)
			log_warnx("unexpected %s from the master", ipc_type_name(msg.type));
		break;
	case IPC_RECV_INVALID:
		log_warnx("bad message from the master: %s", why);
		break;
	case IPC_RECV_EOF:
	case IPC_RECV_ERROR:
		break;
	}
	session_bye(s, "Server shutting down");
}

int64_t
session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* How long poll() may sleep: until the inactivity deadline, or the
 * waiter's own, whichever comes first. */
static int
session_poll_ms(struct session *s, const struct session_waiter *w,
    int64_t idle_end)
{
	int64_t left = idle_end - session_now_ms();
	int ms = left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
	int wms;

	if (w == NULL)
		return ms;
	wms = w->timeout_ms(s, w->arg);
	return w->own_timeout || wms < ms ? wms : ms;
}

/*
 * Flush, then wait for client bytes and read them into the (consumed)
 * input buffer.  false: the session is over (closed, timed out, shut down).
 */
static bool
session_wait_input(struct session *s)
{
	int64_t idle_end = session_now_ms() + session_timeout_ms(s);

	while (s->state != SESSION_LOGOUT) {
		if (conn_flush(&s->conn) != CONN_OK)
			return false;
		if (!conn_has_buffered_input(&s->conn)) {
			struct session_waiter *w = s->waiter;
			/* poll() skips entries whose fd is negative */
			struct pollfd p[3] = {
				{ .fd = s->conn.rfd, .events = conn_read_events(&s->conn) },
				{ .fd = s->control_fd, .events = POLLIN },
				{ .fd = w != NULL ? w->fd : -1, .events = POLLIN },
			};
			int n = poll(p, 3, session_poll_ms(s, w, idle_end));
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				fatal("poll");
			if (n == 0 && w != NULL && (w->own_timeout ||
			    session_now_ms() < idle_end)) {
				w->wake(s, false, w->arg);
				continue;
			}
			if (n == 0) {
				log_info("closing an idle connection");
				session_bye(s, "Autologout; idle for too long");
				return false;
			}
			if (p[1].revents != 0) {
				session_handle_control(s);
				continue;
			}
			if (p[2].revents != 0) {
				w->wake(s, true, w->arg);
				continue;
			}
			if (p[0].revents == 0)
				continue;
		}
		ssize_t got = conn_read(&s->conn, s->inbuf, sizeof(s->inbuf));
		if (got == CONN_AGAIN)
			continue;
		if (got == CONN_BAD_DATA) {
			/* our own stream is still sound: say why we stop */
			session_bye(s, "Invalid compressed data");
			return false;
		}
		if (got <= 0) {
			log_info("connection closed by the client%s",
			    got == CONN_ERROR ? " (error)" : "");
			s->state = SESSION_LOGOUT;
			return false;
		}
		s->in_off = 0;
		s->in_len = (size_t)got;
		return true;
	}
	return false;
}

/* Between commands, NOTIFY (RFC 5465) waits for the store's changes too. */
static bool
session_fill(struct session *s)
{
	bool ok;

	if (s->waiter != NULL || (s->waiter = cmd_notify_waiter(s)) == NULL)
		return session_wait_input(s);
	ok = session_wait_input(s);
	s->waiter = NULL;
	return ok;
}

int
session_read_line(struct session *s, const char **line, size_t *len)
{
	/* The previous line (if any) has been used: the parser may reuse it. */
	imap_parser_reset(s->parser);
	for (;;) {
		if (s->in_off < s->in_len) {
			size_t used = 0;
			enum imap_parse_result r = imap_parser_feed_line(s->parser,
			    s->inbuf + s->in_off, s->in_len - s->in_off, &used);
			s->in_off += used;
			if (r == IMAP_PARSE_COMMAND) {
				*line = imap_parser_line(s->parser, len);
				return 0;
			}
			if (r == IMAP_PARSE_ERROR)
				return -1;
			continue;
		}
		if (!session_fill(s))
			return -2;
	}
}

bool
session_wait_master(struct session *s, struct ipc_msg *msg)
{
	const char *why = NULL;

	for (;;) {
		struct pollfd p = { .fd = s->control_fd, .events = POLLIN };
		/* authd delays failures by at most 15 s; a minute means trouble */
		int n = poll(&p, 1, 60 * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx("no answer from the master");
			session_bye(s, "Internal error, please try again later");
			return false;
		}
		switch (ipc_recv(s->control_fd, IPC_ROLE_IMAPD, IPC_ROLE_MASTER, msg, &why)) {
		case IPC_RECV_AGAIN:
			continue;
		case IPC_RECV_OK:
			if (msg->type != IPC_SHUTDOWN)
				return true;
			break;
		case IPC_RECV_INVALID:
			log_warnx("bad message from the master: %s", why);
			break;
		case IPC_RECV_EOF:
		case IPC_RECV_ERROR:
			break;
		}
		session_bye(s, "Server shutting down");
		return false;
	}
}

bool
session_open_store(struct session *s)
{
	char err[256];

	if (store_open(s->store_dirfd, &s->store, err, sizeof(err)) != STORE_OK) {
		log_errorx("cannot open the mail store: %s", err);
		s->store = NULL;
		return false;
	}
	return true;
}

void
session_close_store(struct session *s)
{
	cmd_notify_free(s);
	if (s->view != NULL)
		store_view_close(s->view);
	s->view = NULL;
	seqset_free(&s->searchres);
	if (s->store != NULL)
		store_close(s->store);
	s->store = NULL;
}

int
session_run(struct session *s)
{
	const struct imap_parser_limits limits = {
		/* a command line, too, is a request: max-request-size bounds it
		 * when that is the smaller */
		.max_line = s->cfg->max_request_size < SESSION_MAX_LINE ?
		    (size_t)s->cfg->max_request_size : SESSION_MAX_LINE,
		.max_literal = s->cfg->max_request_size,
		.max_args = SESSION_MAX_ARGS,
		.max_depth = SESSION_MAX_DEPTH,
		.max_streamed = CMD_APPEND_MAX_TOTAL(s->cfg->max_request_size),
	};

	if ((s->parser = imap_parser_new(&limits)) == NULL)
		fatalx("out of memory");
	ratelimit_init(&s->rate, s->cfg->rate_limit_count, s->cfg->rate_limit_period);
	cmd_append_attach(s);
	s->conn.write_timeout_ms = session_timeout_ms(s);
	if (s->listener == IPC_LISTENER_TLS && conn_start_tls(&s->conn, s->tls_ctx,
	    session_timeout_ms(s)) != CONN_OK) {
		imap_parser_free(s->parser);
		return -1;
	}
	session_greet(s);
	while (s->state != SESSION_LOGOUT) {
		if (s->in_off == s->in_len && !session_fill(s))
			break;
		session_process_input(s);
	}
	(void)conn_flush(&s->conn);
	if (s->rate_delayed > 0)
		log_info("rate-limit delayed commands %llu times in this session",
		    (unsigned long long)s->rate_delayed);
	/* first: freeing the parser aborts an APPEND cut short, in the store */
	imap_parser_free(s->parser);
	s->parser = NULL;
	session_close_store(s);
	return 0;
}
