#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "log.h"
#include "message.h"
#include "proto.h"

/* The longest command: RCPT TO:<user> with a mailbox name of 1000 bytes,
 * each byte xtext-encoded as three. */
#define COMMAND_MAX 4096
#define MAILBOX_XTEXT_MAX (3 * 1000 + 1)
/* Seconds to wait for QUIT's reply after a delivery. */
#define QUIT_TIMEOUT 5

struct conn {
	int fd;
	const struct lda_delivery *d;
	unsigned timeout;            /* seconds, for each wait */
	char in[LDA_LINE_MAX + 2];
	size_t in_len;
	char *why;
	size_t why_len;
};

static int
fail(struct conn *c, int status, const char *fmt, ...) CAIRN_PRINTF(3, 4);

/* Say what went wrong (the first reason is kept); status is returned. */
static int
fail(struct conn *c, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->why, c->why_len, fmt, ap);
	va_end(ap);
	return status;
}

int
lda_connect(const char *path)
{
	struct sockaddr_un sun;
	int fd, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	/* a Unix socket connects at once or not at all: blocking is fine */
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on the socket until deadline: > 0 ready, 0 timed out, -1. */
static int
wait_for(struct conn *c, short events, int64_t deadline)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };

	for (;;) {
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)
			return n;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

/* 0, or -1 after fail() (what names the step, for the message). */
static int
send_all(struct conn *c, const char *p, size_t n, const char *what)
{
	int64_t wait_ms = (int64_t)c->timeout * 1000;

	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w >= 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK) {
			fail(c, EX_TEMPFAIL, "lost the connection to %s during %s: %s",
			    c->d->socket_path, what, strerror(errno));
			return -1;
		}
		/* the server must take some bytes within the timeout */
		int r = wait_for(c, POLLOUT, now_ms() + wait_ms);

		if (r <= 0) {
			fail(c, EX_TEMPFAIL, "%s: the server took no data for %u s "
			    "during %s", c->d->socket_path, c->timeout, what);
			return -1;
		}
	}
	return 0;
}

static int
send_data_chunk(void *arg, const char *p, size_t n)
{
	return send_all(arg, p, n, "DATA");
}

/*
 * One line into line (without CRLF; a bare LF ends one too), by the
 * deadline.  Its length, or -1 after fail().
 */
static ssize_t
read_line(struct conn *c, const char *after, int64_t deadline, char *line)
{
	for (;;) {
		char *lf = memchr(c->in, '\n', c->in_len);

		if (lf != NULL) {
			size_t len = (size_t)(lf - c->in), used = len + 1;

			if (len > 0 && c->in[len - 1] == '\r')
				len--;
			memcpy(line, c->in, len);
			line[len] = '\0';
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
			return (ssize_t)len;
		}
		if (c->in_len == sizeof(c->in)) {
			fail(c, EX_TEMPFAIL, "%s: a reply line longer than %d bytes "
			    "after %s", c->d->socket_path, LDA_LINE_MAX, after);
			return -1;
		}
		int r = wait_for(c, POLLIN, deadline);

		if (r == 0) {
			fail(c, EX_TEMPFAIL, "%s: no reply within %u s after %s",
			    c->d->socket_path, c->timeout, after);
			return -1;
		}
		ssize_t n = r < 0 ? -1 :
		    read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			fail(c, EX_TEMPFAIL, "lost the connection to %s after %s%s%s",
			    c->d->socket_path, after, n < 0 ? ": " : "",
			    n < 0 ? strerror(errno) : "");
			return -1;
		}
		c->in_len += (size_t)n;
	}
}

/*
 * The whole reply to what was sent at stage; LHLO's keywords into caps.
 * The exit status it means, after fail() when that is not EX_OK.
 */
static int
read_reply(struct conn *c, enum lda_stage stage, const char *sent,
    struct lda_caps *caps)
{
	char line[LDA_LINE_MAX + 2];
	struct lda_reply r;
	int64_t deadline = now_ms() + (int64_t)c->timeout * 1000;
	enum lda_reply_status st;
	int status;

	lda_reply_init(&r);
	do {
		ssize_t len = read_line(c, sent, deadline, line);

		if (len < 0)
			return EX_TEMPFAIL;
		st = lda_reply_line(&r, line, (size_t)len);
		if (st == LDA_REPLY_BAD) {
			/* the line as it came, cleaned for one line of stderr */
			for (ssize_t i = 0; i < len; i++)
				if ((unsigned char)line[i] < 0x20 ||
				    (unsigned char)line[i] >= 0x7f)
					line[i] = '?';
			return fail(c, EX_TEMPFAIL, "%s: not an LMTP reply after %s: "
			    "\"%.200s\"", c->d->socket_path, sent, line);
		}
		/* the first line of LHLO's reply is the server's name */
		if (caps != NULL && r.n_lines > 1 && len > 4)
			lda_caps_line(caps, line + 4, (size_t)len - 4);
	} while (st != LDA_REPLY_DONE);
	if ((status = lda_exit_for(stage, &r)) != EX_OK)
		return fail(c, status, "%s refused by %s: %s", sent,
		    c->d->socket_path, r.text);
	return EX_OK;
}

static int
command(struct conn *c, enum lda_stage stage, const char *line, size_t len,
    const char *what)
{
	if (send_all(c, line, len, what) != 0)
		return EX_TEMPFAIL;
	return read_reply(c, stage, what, NULL);
}

/* MAIL FROM with SIZE= and BODY= as the server takes them. */
static int
mail_from(struct conn *c, const struct lda_caps *caps)
{
	const struct lda_delivery *d = c->d;
	char line[COMMAND_MAX], size[32] = "";
	int n;

	if (caps->size)
		snprintf(size, sizeof(size), " SIZE=%" PRIu64, d->size);
	n = snprintf(line, sizeof(line), "MAIL FROM:<%s>%s%s\r\n", d->sender, size,
	    d->eightbit && caps->eightbitmime ? " BODY=8BITMIME" : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return fail(c, EX_USAGE, "the sender is too long");
	return command(c, LDA_STAGE_MAIL, line, (size_t)n, "MAIL FROM");
}

static int
rcpt_to(struct conn *c)
{
	const struct lda_delivery *d = c->d;
	char line[COMMAND_MAX], what[LDA_ADDR_MAX + 16];
	char mailbox[MAILBOX_XTEXT_MAX + sizeof(" XCAIRN-MAILBOX=")] = "";
	int n;

	if (d->mailbox != NULL) {
		memcpy(mailbox, " XCAIRN-MAILBOX=", sizeof(" XCAIRN-MAILBOX="));
		if (lda_xtext(d->mailbox, mailbox + strlen(mailbox),
		    MAILBOX_XTEXT_MAX) != 0)
			return fail(c, EX_USAGE, "the mailbox name is too long");
	}
	n = snprintf(line, sizeof(line), "RCPT TO:<%s>%s\r\n", d->rcpt, mailbox);
	if (n < 0 || (size_t)n >= sizeof(line))
		return fail(c, EX_USAGE, "the recipient is too long");
	snprintf(what, sizeof(what), "RCPT TO:<%s>", d->rcpt);
	return command(c, LDA_STAGE_RCPT, line, (size_t)n, what);
}

/* DATA, the message, the final dot, and the recipient's reply. */
static int
data(struct conn *c)
{
	int status;

	if ((status = command(c, LDA_STAGE_DATA, "DATA\r\n", 6, "DATA")) != EX_OK)
		return status;
	if (lda_spool_each(c->d->spool, send_data_chunk, c) != 0) {
		/* send_all said why; else it was the spool file */
		if (c->why[0] == '\0')
			fail(c, EX_TEMPFAIL, "cannot read the message back: %s",
			    strerror(errno));
		return EX_TEMPFAIL;
	}
	if (send_all(c, ".\r\n", 3, "DATA") != 0)
		return EX_TEMPFAIL;
	return read_reply(c, LDA_STAGE_DATA_END, "the end of the message", NULL);
}

/*
 * In lock-step, not pipelined: one message for one recipient gains two
 * round trips on a local socket from PIPELINING, and each reply stays the
 * answer to a known command.
 */
static int
converse(struct conn *c)
{
	const struct lda_delivery *d = c->d;
	struct lda_caps caps;
	char line[COMMAND_MAX];
	int status, n;

	memset(&caps, 0, sizeof(caps));
	if ((status = read_reply(c, LDA_STAGE_GREETING, "connecting", NULL)) != EX_OK)
		return status;
	n = snprintf(line, sizeof(line), "LHLO %s\r\n", d->helo);
	if (n < 0 || (size_t)n >= sizeof(line))
		return fail(c, EX_SOFTWARE, "the host name is too long");
	if (send_all(c, line, (size_t)n, "LHLO") != 0)
		return EX_TEMPFAIL;
	if ((status = read_reply(c, LDA_STAGE_LHLO, "LHLO", &caps)) != EX_OK)
		return status;
	/* RFC 1870 §6.1: the client does not send what the server cannot take */
	if (caps.size && caps.size_max > 0 && d->size > caps.size_max)
		return fail(c, EX_DATAERR, "the message (%" PRIu64 " bytes) is larger "
		    "than %s takes (SIZE %" PRIu64 ")", d->size, d->socket_path,
		    caps.size_max);
	if (d->mailbox != NULL && !caps.xcairn_mailbox)
		return fail(c, EX_TEMPFAIL, "%s does not offer XCAIRN-MAILBOX, "
		    "which -m needs", d->socket_path);
	if ((status = mail_from(c, &caps)) != EX_OK ||
	    (status = rcpt_to(c)) != EX_OK)
		return status;
	return data(c);
}

int
lda_deliver(int fd, const struct lda_delivery *d, char *why, size_t why_len)
{
	struct conn c = { .fd = fd, .d = d, .timeout = d->timeout, .why = why,
	    .why_len = why_len };
	char quit_why[256];
	int status;

	why[0] = '\0';
	status = converse(&c);
	/*
	 * The message is the server's now, or refused: QUIT's reply changes
	 * nothing.  After a delivery it is waited for, so that the server
	 * sees the session end as it should; its failure is not ours.
	 */
	c.why = quit_why;
	c.why_len = sizeof(quit_why);
	if (c.timeout > QUIT_TIMEOUT)
		c.timeout = QUIT_TIMEOUT;
	if (status == EX_OK)
		(void)command(&c, LDA_STAGE_QUIT, "QUIT\r\n", 6, "QUIT");
	else
		(void)send(fd, "QUIT\r\n", 6, MSG_NOSIGNAL);
	close(fd);
	return status;
}
