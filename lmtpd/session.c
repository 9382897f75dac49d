#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "ipc.h"
#include "log.h"
#include "session.h"
#include "spool.h"
#include "trace.h"
#include "xmalloc.h"

/* Room for the longest command line and what was pipelined after it. */
#define SESSION_IN_MAX 16384
#define SESSION_CHUNK 32768

enum io_result { IO_OK = 0, IO_EOF, IO_TIMEOUT, IO_SHUTDOWN, IO_ERROR };

struct lmtp_session {
	int fd;
	const struct session_settings *set;
	const struct session_backend *be;
	char in[SESSION_IN_MAX];
	size_t in_len;
	bool discarding;          /* inside a line too long to keep */
	struct buf out;
	char line[LMTP_RCPT_LINE_MAX + 1];
	char lhlo[LMTP_DOMAIN_MAX + 1];  /* "" before LHLO */
	bool has_mail;
	struct lmtp_mail mail;
	struct session_rcpt *rcpts;
	size_t n_rcpts, cap_rcpts;
	unsigned errors;          /* refusals in a row */
	bool done;
	enum io_result end;       /* why, when done */
	struct spool spool;
	char chunk[SESSION_CHUNK];
};

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void CAIRN_PRINTF(2, 3)
reply(struct lmtp_session *s, const char *fmt, ...)
{
	va_list ap;
	char line[LMTP_LINE_MAX];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	if (line[0] == '2' || line[0] == '3')
		s->errors = 0;
	(void)buf_append_str(&s->out, line);
	(void)buf_append_str(&s->out, "\r\n");
}

static void
stop(struct lmtp_session *s, enum io_result why)
{
	s->done = true;
	s->end = why;
}

/* A 5xx for something the client got wrong; too many in a row end it. */
static void CAIRN_PRINTF(2, 3)
refuse(struct lmtp_session *s, const char *fmt, ...)
{
	va_list ap;
	char line[LMTP_LINE_MAX];

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line) - 2, fmt, ap);
	va_end(ap);
	reply(s, "%s", line);
	if (++s->errors >= SESSION_MAX_ERRORS) {
		log_info("%u commands refused in a row: closing", s->errors);
		reply(s, "421 4.7.0 %s Too many errors, closing the connection",
		    s->set->hostname);
		stop(s, IO_ERROR);
	}
}

/* Write out every buffered reply. */
static enum io_result
session_flush(struct lmtp_session *s)
{
	long deadline = now_ms() + s->set->timeout_ms;
	size_t off = 0;

	while (off < s->out.len) {
		ssize_t n = send(s->fd, s->out.data + off, s->out.len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERROR;
		struct pollfd p = { .fd = s->fd, .events = POLLOUT };
		long left = deadline - now_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		if (poll(&p, 1, (int)left) < 0 && errno != EINTR)
			return IO_ERROR;
	}
	buf_reset(&s->out);
	return IO_OK;
}

/* The master wrote while we waited: only SHUTDOWN is expected. */
static enum io_result
session_master(struct lmtp_session *s)
{
	struct ipc_msg msg;
	const char *why = NULL;

	switch (ipc_recv(s->set->control_fd, IPC_ROLE_LMTPD, IPC_ROLE_MASTER, &msg,
	    &why)) {
	case IPC_RECV_AGAIN:
		return IO_OK;
	case IPC_RECV_OK:
		if (msg.fd >= 0)
			close(msg.fd);
		if (msg.type != IPC_SHUTDOWN)
			log_warnx("unexpected %s from the master", ipc_type_name(msg.type));
		return IO_SHUTDOWN;
	case IPC_RECV_INVALID:
		log_warnx("bad message from the master: %s", why);
		return IO_SHUTDOWN;
	default:
		return IO_SHUTDOWN;  /* the master is gone */
	}
}

/*
 * More input.  Replies waiting are sent first: the client may be waiting
 * for them before it sends more (RFC 2920 §3.2 (7)).
 */
static enum io_result
session_fill(struct lmtp_session *s)
{
	long deadline = now_ms() + s->set->timeout_ms;
	enum io_result r;

	if ((r = session_flush(s)) != IO_OK)
		return r;
	for (;;) {
		ssize_t n = recv(s->fd, s->in + s->in_len, sizeof(s->in) - s->in_len, 0);
		if (n > 0) {
			s->in_len += (size_t)n;
			return IO_OK;
		}
		if (n == 0)
			return IO_EOF;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return IO_ERROR;
		struct pollfd p[2] = {
			{ .fd = s->fd, .events = POLLIN },
			{ .fd = s->set->control_fd, .events = POLLIN },
		};
		long left = deadline - now_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		if (poll(p, s->set->control_fd >= 0 ? 2 : 1, (int)left) < 0 &&
		    errno != EINTR)
			return IO_ERROR;
		if (s->set->control_fd >= 0 && p[1].revents != 0 &&
		    (r = session_master(s)) != IO_OK)
			return r;
	}
}

static void
consume(struct lmtp_session *s, size_t n)
{
	memmove(s->in, s->in + n, s->in_len - n);
	s->in_len -= n;
}

/*
 * The next command line into s->line (without its CRLF).  A line longer
 * than any command may be is read to its end and thrown away, in bounded
 * memory, and answered 500 (RFC 5321 §4.5.3.1.9).
 */
static enum io_result
session_next_line(struct lmtp_session *s, size_t *len)
{
	enum io_result r;

	while (!s->done) {
		char *crlf = memmem(s->in, s->in_len, "\r\n", 2);
		if (crlf != NULL) {
			size_t n = (size_t)(crlf - s->in);
			if (s->discarding || n > LMTP_RCPT_LINE_MAX - 2) {
				consume(s, n + 2);
				s->discarding = false;
				refuse(s, "500 5.5.2 Line too long");
				continue;
			}
			memcpy(s->line, s->in, n);
			s->line[n] = '\0';
			consume(s, n + 2);
			*len = n;
			return IO_OK;
		}
		if (s->in_len > LMTP_RCPT_LINE_MAX) {
			/* keep a last CR: it may be the start of the CRLF */
			size_t keep = s->in[s->in_len - 1] == '\r' ? 1 : 0;
			consume(s, s->in_len - keep);
			s->discarding = true;
		}
		if ((r = session_fill(s)) != IO_OK)
			return r;
	}
	return s->end;
}

static void
transaction_reset(struct lmtp_session *s)
{
	for (size_t i = 0; i < s->n_rcpts; i++)
		if (s->rcpts[i].store_dirfd >= 0)
			close(s->rcpts[i].store_dirfd);
	s->n_rcpts = 0;
	s->has_mail = false;
	memset(&s->mail, 0, sizeof(s->mail));
}

static void
cmd_lhlo(struct lmtp_session *s, const char *args, size_t len)
{
	const char *err = lmtp_parse_lhlo(args, len, s->lhlo);

	if (err != NULL) {
		s->lhlo[0] = '\0';
		refuse(s, "%s", err);
		return;
	}
	/* LHLO is EHLO (RFC 2033 §4.1), which resets (RFC 5321 §4.1.4) */
	transaction_reset(s);
	reply(s, "250-%s", s->set->hostname);
	reply(s, "250-PIPELINING");
	reply(s, "250-ENHANCEDSTATUSCODES");
	reply(s, "250-8BITMIME");
	reply(s, "250-SIZE %llu", (unsigned long long)s->set->max_size);
	reply(s, "250 XCAIRN-MAILBOX");
}

static void
cmd_mail(struct lmtp_session *s, const char *args, size_t len)
{
	const char *err;

	if (s->lhlo[0] == '\0') {
		refuse(s, "503 5.5.1 Send LHLO first");
		return;
	}
	if (s->has_mail) {
		refuse(s, "503 5.5.1 Sender already given");
		return;
	}
	if ((err = lmtp_parse_mail(args, len, &s->mail)) != NULL) {
		refuse(s, "%s", err);
		return;
	}
	/* RFC 1870: over the fixed maximum, refused before any data */
	if (s->mail.has_size && s->mail.size > s->set->max_size) {
		refuse(s, "552 5.3.4 Message size exceeds the limit of %llu octets",
		    (unsigned long long)s->set->max_size);
		return;
	}
	s->has_mail = true;
	reply(s, "250 2.1.0 Sender <%s> OK", s->mail.from.text);
}

/* The header lines r's copy gets (trace.h); their length. */
static size_t
rcpt_prefix(struct lmtp_session *s, const struct session_rcpt *r, time_t when,
    int tz, char *out, size_t outsize)
{
	struct trace_info t = {
		.sender = s->mail.from.text,
		.recipient = r->args.to.text,
		.lhlo = s->lhlo,
		.peer = s->set->peer,
		.hostname = s->set->hostname,
		.session_id = s->set->session_id,
		.when = when,
		.tz_minutes = tz,
	};

	return trace_prefix(&t, out, outsize);
}

/* RFC 1870: with SIZE given, a recipient over quota is told now. */
static enum session_status
rcpt_quota(struct lmtp_session *s, const struct session_rcpt *r)
{
	char prefix[TRACE_PREFIX_MAX];
	time_t now = time(NULL);
	size_t n;

	if (!s->mail.has_size)
		return SESSION_OK;
	n = rcpt_prefix(s, r, now, trace_tz_minutes(now), prefix, sizeof(prefix));
	return s->be->quota(s->be->store_arg, r, s->mail.size + n);
}

static void
rcpt_refused(struct lmtp_session *s, const struct session_rcpt *r,
    enum session_status st)
{
	const char *to = r->args.to.text;

	switch (st) {
	case SESSION_NO_SUCH_USER:
		log_info("RCPT <%s>: no such user", to);
		reply(s, "550 5.1.1 <%s> User unknown", to);
		break;
	case SESSION_DISABLED:
		log_info("RCPT <%s>: account disabled", to);
		reply(s, "550 5.2.1 <%s> Mailbox disabled", to);
		break;
	case SESSION_OVERQUOTA:
		log_info("RCPT <%s>: %s is over quota", to, r->user);
		reply(s, "552 5.2.2 <%s> Mailbox full", to);
		break;
	case SESSION_UNAVAILABLE:
		reply(s, "451 4.4.3 <%s> User lookup unavailable, try again later", to);
		break;
	case SESSION_SHUTDOWN:
		stop(s, IO_SHUTDOWN);
		break;
	default:
		reply(s, "451 4.3.0 <%s> Cannot check the mailbox, try again later", to);
		break;
	}
}

static void
cmd_rcpt(struct lmtp_session *s, const char *args, size_t len)
{
	struct session_rcpt r;
	char user[LMTP_PATH_MAX];
	enum session_status st;
	const char *err;
	int n;

	if (!s->has_mail) {
		refuse(s, "503 5.5.1 Send MAIL first");
		return;
	}
	if (s->n_rcpts >= SESSION_MAX_RCPTS) {
		/* RFC 5321 §4.5.3.1.10: the client sends the rest later */
		reply(s, "452 4.5.3 Too many recipients");
		return;
	}
	memset(&r, 0, sizeof(r));
	r.store_dirfd = -1;
	if ((err = lmtp_parse_rcpt(args, len, &r.args)) != NULL) {
		refuse(s, "%s", err);
		return;
	}
	lmtp_split_detail(r.args.to.local, s->set->delimiters, user, r.detail);
	if (!s->set->detail_mailbox)
		r.detail[0] = '\0';
	if (r.args.to.domain[0] != '\0')
		n = snprintf(r.lookup, sizeof(r.lookup), "%s@%s", user, r.args.to.domain);
	else
		n = snprintf(r.lookup, sizeof(r.lookup), "%s", user);
	if (n < 0 || (size_t)n >= sizeof(r.lookup)) {
		refuse(s, "501 5.1.3 Recipient address too long");
		return;
	}
	st = s->be->lookup(s->be->lookup_arg, r.lookup, &r);
	if (st == SESSION_OK && (st = rcpt_quota(s, &r)) != SESSION_OK) {
		close(r.store_dirfd);
		r.store_dirfd = -1;
	}
	if (st != SESSION_OK) {
		rcpt_refused(s, &r, st);
		return;
	}
	if (s->n_rcpts == s->cap_rcpts) {
		s->cap_rcpts = s->cap_rcpts == 0 ? 8 : s->cap_rcpts * 2;
		s->rcpts = xreallocarray(s->rcpts, s->cap_rcpts, sizeof(*s->rcpts));
	}
	s->rcpts[s->n_rcpts++] = r;
	reply(s, "250 2.1.5 <%s> OK", r.args.to.text);
}

/* One recipient's answer after DATA (RFC 2033 §4.2). */
static void
deliver_one(struct lmtp_session *s, const struct session_rcpt *r,
    struct session_delivery *d, time_t now)
{
	char prefix[TRACE_PREFIX_MAX];
	const char *to = r->args.to.text;

	d->prefix = prefix;
	d->prefix_len = rcpt_prefix(s, r, now, d->tz_minutes, prefix, sizeof(prefix));
	switch (d->prefix_len == 0 ? SESSION_TEMPFAIL
	    : s->be->deliver(s->be->store_arg, r, d)) {
	case SESSION_OK:
		reply(s, "250 2.0.0 <%s> Delivered", to);
		break;
	case SESSION_OVERQUOTA:
		reply(s, "552 5.2.2 <%s> Mailbox full", to);
		break;
	default:
		reply(s, "451 4.3.0 <%s> Delivery failed, try again later", to);
		break;
	}
}

static void
deliver_all(struct lmtp_session *s, bool too_big, int spool_errno)
{
	time_t now = time(NULL);
	struct session_delivery d = {
		.spool_dirfd = s->set->spool_dirfd,
		.spool_name = s->spool.name,
		.size = s->spool.size,
		.internaldate = (int64_t)now,
		.tz_minutes = trace_tz_minutes(now),
	};

	for (size_t i = 0; i < s->n_rcpts && !s->done; i++) {
		const char *to = s->rcpts[i].args.to.text;
		if (too_big)
			reply(s, "552 5.3.4 <%s> Message exceeds the limit of %llu octets",
			    to, (unsigned long long)s->set->max_size);
		else if (spool_errno == ENOSPC || spool_errno == EDQUOT)
			reply(s, "452 4.3.1 <%s> Insufficient system storage", to);
		else if (spool_errno != 0)
			reply(s, "451 4.3.0 <%s> Cannot store the message, try again "
			    "later", to);
		else
			deliver_one(s, &s->rcpts[i], &d, now);
		/* each answer as soon as it is known: the client may act on it */
		if (session_flush(s) != IO_OK)
			stop(s, IO_ERROR);
	}
}

/*
 * How much of a message over the limit is read and dropped so that its
 * answer can come after it: as much again as the limit, at least 16 MB.
 * A client that sends more ignored SIZE (RFC 1870 §6: an MTA does not send
 * a message over the announced maximum); it gets its 552s and the
 * connection ends, so nobody streams gigabytes at a process for nothing.
 */
#define SESSION_DRAIN_MIN (16ULL * 1024 * 1024)

static uint64_t
drain_bound(const struct lmtp_session *s)
{
	uint64_t extra = s->set->max_size > SESSION_DRAIN_MIN ?
	    s->set->max_size : SESSION_DRAIN_MIN;
	return s->set->max_size + extra;
}

/* Read the data to its end, into the spool; false if the client left.
 * Far over the limit (drain_bound), *too_big and *cut: stop reading. */
static bool
data_receive(struct lmtp_session *s, bool *too_big, bool *cut,
    int *spool_errno)
{
	struct lmtp_data d;
	enum io_result r;
	uint64_t received = 0;

	lmtp_data_init(&d);
	while (!lmtp_data_done(&d)) {
		if (s->in_len == 0 && (r = session_fill(s)) != IO_OK) {
			stop(s, r);
			return false;
		}
		size_t out, used = lmtp_data_decode(&d, s->in, s->in_len, s->chunk,
		    sizeof(s->chunk), &out);
		consume(s, used);
		received += out;
		/* Over the limit: read on to the end (the answer must come
		 * after it), keep nothing more. */
		if (received > s->set->max_size)
			*too_big = true;
		if (received > drain_bound(s)) {
			*cut = true;
			return true;
		}
		if (!*too_big && *spool_errno == 0 &&
		    spool_write(&s->spool, s->chunk, out) != 0)
			*spool_errno = errno;
	}
	if (!*too_big && *spool_errno == 0 && spool_finish(&s->spool) != 0)
		*spool_errno = errno;
	return true;
}

static void
cmd_data(struct lmtp_session *s, size_t args_len)
{
	bool too_big = false, cut = false;
	int spool_errno = 0;

	if (args_len != 0) {
		refuse(s, "501 5.5.4 DATA takes no argument");
		return;
	}
	if (!s->has_mail) {
		refuse(s, "503 5.5.1 Send MAIL first");
		return;
	}
	if (s->n_rcpts == 0) {
		refuse(s, "503 5.5.1 No valid recipients");  /* RFC 2033 §4.2 */
		return;
	}
	if (spool_open(&s->spool) != 0) {
		log_warn("cannot create a spool file");
		reply(s, "451 4.3.0 Cannot accept the message now, try again later");
		return;
	}
	reply(s, "354 Send the message, end with <CRLF>.<CRLF>");
	if (!data_receive(s, &too_big, &cut, &spool_errno)) {
		log_info("the client left during DATA: nothing delivered");
		spool_discard(&s->spool);
		return;
	}
	if (spool_errno != 0)
		log_warnx("cannot write the spool file %s: %s", s->spool.name,
		    strerror(spool_errno));
	log_info("message from <%s>: %llu octets%s, %zu recipient(s)",
	    s->mail.from.text, (unsigned long long)s->spool.size,
	    too_big ? " and more (too big)" : "", s->n_rcpts);
	deliver_all(s, too_big, spool_errno);
	spool_discard(&s->spool);
	transaction_reset(s);
	if (cut && !s->done) {
		log_info("the message went on past %llu octets: closing",
		    (unsigned long long)drain_bound(s));
		reply(s, "421 4.3.4 %s Message far over the size limit, closing "
		    "the connection", s->set->hostname);
		stop(s, IO_ERROR);
	}
}

static bool
has_control_octet(const char *line, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)line[i] < 32 || line[i] == 127)
			return true;
	return false;
}

/* Run one command; false when its reply may wait for the next ones. */
static bool
session_dispatch(struct lmtp_session *s, enum lmtp_verb v, const char *args,
    size_t args_len)
{
	bool flush = true;  /* RFC 2920 §3.2 (5), (6): these are never held */

	switch (v) {
	case LMTP_LHLO: cmd_lhlo(s, args, args_len); break;
	case LMTP_HELO:
	case LMTP_EHLO:
		/* RFC 2033 §4.1: a client that thinks it speaks SMTP must learn */
		refuse(s, "500 5.5.1 This is LMTP: say LHLO");
		break;
	case LMTP_MAIL: cmd_mail(s, args, args_len); flush = false; break;
	case LMTP_RCPT: cmd_rcpt(s, args, args_len); flush = false; break;
	case LMTP_DATA: cmd_data(s, args_len); break;
	case LMTP_RSET:
		transaction_reset(s);
		reply(s, "250 2.0.0 OK");
		flush = false;
		break;
	case LMTP_NOOP: reply(s, "250 2.0.0 OK"); break;
	case LMTP_QUIT:
		reply(s, "221 2.0.0 %s Bye", s->set->hostname);
		stop(s, IO_OK);
		break;
	case LMTP_VRFY:
	case LMTP_EXPN:
		refuse(s, "502 5.5.1 VRFY and EXPN are not offered");
		break;
	case LMTP_BDAT:
		refuse(s, "502 5.5.1 BDAT is not offered (no CHUNKING)");
		break;
	case LMTP_HELP:
		reply(s, "214 2.0.0 Commands: LHLO MAIL RCPT DATA RSET NOOP QUIT");
		break;
	case LMTP_UNKNOWN:
		refuse(s, "500 5.5.1 Command not recognized");
		break;
	}
	return flush;
}

static void
session_command(struct lmtp_session *s, size_t len)
{
	const char *args;
	size_t args_len;
	enum lmtp_verb v = lmtp_verb(s->line, len, &args, &args_len);
	bool flush = true;  /* RFC 2920 §3.2 (5), (6): these are never held */

	if (has_control_octet(s->line, len))
		refuse(s, "500 5.5.2 Control character in the command");
	else if (v != LMTP_RCPT && len + 2 > LMTP_LINE_MAX)
		refuse(s, "500 5.5.2 Line too long");
	else
		flush = session_dispatch(s, v, args, args_len);
	if (flush && session_flush(s) != IO_OK)
		stop(s, IO_ERROR);
}

static void
session_end(struct lmtp_session *s, enum io_result why)
{
	const char *host = s->set->hostname;

	switch (why) {
	case IO_TIMEOUT:
		log_info("no command for %d s: closing", s->set->timeout_ms / 1000);
		reply(s, "421 4.4.2 %s Timeout, closing the connection", host);
		break;
	case IO_SHUTDOWN:
		reply(s, "421 4.3.2 %s Server shutting down", host);
		break;
	case IO_EOF:
		log_debug("the client closed the connection");
		break;
	default:
		break;
	}
	if (why != IO_EOF)
		(void)session_flush(s);
}

void
session_run(int fd, const struct session_settings *set,
    const struct session_backend *be)
{
	struct lmtp_session *s = xcalloc(1, sizeof(*s));
	int fl = fcntl(fd, F_GETFL);
	size_t len = 0;

	if (fl >= 0)
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	s->fd = fd;
	s->set = set;
	s->be = be;
	s->out.limit = 64 * 1024;
	spool_init(&s->spool, set->spool_dirfd);
	reply(s, "220 %s Cairn LMTP ready", set->hostname);
	while (!s->done) {
		enum io_result r = session_next_line(s, &len);
		if (r != IO_OK) {
			stop(s, r);
			break;
		}
		session_command(s, len);
	}
	session_end(s, s->end);
	transaction_reset(s);
	spool_discard(&s->spool);
	buf_free(&s->out);
	free(s->rcpts);
	free(s);
}
