/* Typed, checked messages over SOCK_SEQPACKET (see ipc.h). */
#include "autoconfig.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "username.h"

enum ipc_fd_rule { FD_NEVER, FD_REQUIRED };

struct ipc_type_info {
	uint32_t type;
	const char *name;
	unsigned from;           /* mask of enum ipc_role */
	unsigned to;
	size_t size;             /* exact payload size */
	enum ipc_fd_rule fd;
	const char *(*check)(const struct ipc_msg *msg); /* NULL: nothing more */
};

static int
field_terminated(const char *field, size_t size)
{
	return memchr(field, '\0', size) != NULL;
}

static const char *
check_hello(const struct ipc_msg *m)
{
	if (m->p.hello.version != IPC_VERSION)
		return "IPC version mismatch";
	if (m->p.hello.role != IPC_ROLE_IMAPD && m->p.hello.role != IPC_ROLE_AUTHD &&
	    m->p.hello.role != IPC_ROLE_LMTPD)
		return "bad role in HELLO";
	return NULL;
}

static const char *
check_session_start(const struct ipc_msg *m)
{
	const struct ipc_session_start *s = &m->p.session_start;

	if (s->listener > IPC_LISTENER_LMTP_TCP)
		return "bad listener";
	if (s->peer_port > 65535)
		return "bad port";
	if (!field_terminated(s->peer_addr, sizeof(s->peer_addr)))
		return "peer address not terminated";
	return NULL;
}

static int
mech_valid(uint32_t m)
{
	return m == IPC_MECH_LOGIN || m == IPC_MECH_PLAIN || m == IPC_MECH_SASL_LOGIN;
}

static const char *
check_auth_request(const struct ipc_msg *m)
{
	const struct ipc_auth_request *r = &m->p.auth_request;

	if (!mech_valid(r->mechanism))
		return "bad mechanism";
	if (!field_terminated(r->user, sizeof(r->user)) ||
	    !field_terminated(r->password, sizeof(r->password)))
		return "credentials not terminated";
	return NULL;
}

static const char *
check_authd_request(const struct ipc_msg *m)
{
	const struct ipc_authd_request *r = &m->p.authd_request;

	if (!mech_valid(r->mechanism))
		return "bad mechanism";
	if (!field_terminated(r->user, sizeof(r->user)) ||
	    !field_terminated(r->password, sizeof(r->password)) ||
	    !field_terminated(r->peer_addr, sizeof(r->peer_addr)))
		return "request fields not terminated";
	return NULL;
}

static const char *
check_authd_result(const struct ipc_msg *m)
{
	const struct ipc_authd_result *r = &m->p.authd_result;

	if (r->result > IPC_AUTH_RESULT_UNAVAILABLE)
		return "bad result code";
	if (!field_terminated(r->user, sizeof(r->user)) ||
	    !field_terminated(r->store_dir, sizeof(r->store_dir)))
		return "result fields not terminated";
	/* The store directory becomes a path: it must be a clean name. */
	if (r->result == IPC_AUTH_RESULT_OK &&
	    (!username_valid(r->user, strlen(r->user), NULL) ||
	    !username_valid(r->store_dir, strlen(r->store_dir), NULL)))
		return "bad user or store directory name";
	return NULL;
}

static const char *
check_auth_ok(const struct ipc_msg *m)
{
	if (!field_terminated(m->p.auth_ok.user, sizeof(m->p.auth_ok.user)))
		return "user not terminated";
	return NULL;
}

static const char *
check_auth_failed(const struct ipc_msg *m)
{
	uint32_t r = m->p.auth_failed.result;

	if (r == IPC_AUTH_RESULT_OK || r > IPC_AUTH_RESULT_LIMIT)
		return "bad result code";
	return NULL;
}

static const char *
check_lookup_request(const struct ipc_msg *m)
{
	const struct ipc_lookup_request *r = &m->p.lookup_request;

	if (!field_terminated(r->address, sizeof(r->address)))
		return "address not terminated";
	return NULL;
}

static const char *
check_authd_lookup(const struct ipc_msg *m)
{
	const struct ipc_authd_lookup *r = &m->p.authd_lookup;

	if (!field_terminated(r->address, sizeof(r->address)))
		return "address not terminated";
	return NULL;
}

static const char *
check_authd_lookup_result(const struct ipc_msg *m)
{
	const struct ipc_authd_lookup_result *r = &m->p.authd_lookup_result;

	if (r->result > IPC_LOOKUP_RESULT_UNAVAILABLE)
		return "bad result code";
	if (!field_terminated(r->user, sizeof(r->user)) ||
	    !field_terminated(r->store_dir, sizeof(r->store_dir)))
		return "result fields not terminated";
	/* As for a login: the store directory becomes a path. */
	if (r->result == IPC_LOOKUP_RESULT_OK &&
	    (!username_valid(r->user, strlen(r->user), NULL) ||
	    !username_valid(r->store_dir, strlen(r->store_dir), NULL)))
		return "bad user or store directory name";
	return NULL;
}

static const char *
check_lookup_ok(const struct ipc_msg *m)
{
	const struct ipc_lookup_ok *r = &m->p.lookup_ok;

	if (!field_terminated(r->user, sizeof(r->user)))
		return "user not terminated";
	if (!username_valid(r->user, strlen(r->user), NULL))
		return "bad user name";
	return NULL;
}

static const char *
check_lookup_failed(const struct ipc_msg *m)
{
	uint32_t r = m->p.lookup_failed.result;

	if (r == IPC_LOOKUP_RESULT_OK || r > IPC_LOOKUP_RESULT_UNAVAILABLE)
		return "bad result code";
	return NULL;
}

/* Printable ASCII only: it goes to the client verbatim in a BYE. */
static const char *
check_kick(const struct ipc_msg *m)
{
	const char *r = m->p.kick.reason;

	if (!field_terminated(r, sizeof(m->p.kick.reason)))
		return "reason not terminated";
	for (; *r != '\0'; r++)
		if (*r < 0x20 || *r > 0x7e)
			return "reason not printable ASCII";
	return NULL;
}

/* The name goes to cairnctl's output: no control characters (the master
 * escapes the rest); UTF-8 is not checked here. */
static const char *
check_session_state(const struct ipc_msg *m)
{
	const struct ipc_session_state *s = &m->p.session_state;

	if (s->state > IPC_STATE_LOGOUT)
		return "bad session state";
	if (!field_terminated(s->mailbox, sizeof(s->mailbox)))
		return "mailbox not terminated";
	return NULL;
}

static const char *
check_delivery_report(const struct ipc_msg *m)
{
	if (m->p.delivery_report.result > IPC_DELIVERY_FAILED)
		return "bad delivery result";
	return NULL;
}

#define CHILDREN (IPC_ROLE_IMAPD | IPC_ROLE_AUTHD | IPC_ROLE_LMTPD)
#define SESSIONS (IPC_ROLE_IMAPD | IPC_ROLE_LMTPD)

static const struct ipc_type_info ipc_types[] = {
	{ IPC_HELLO, "HELLO", CHILDREN, IPC_ROLE_MASTER,
	    sizeof(struct ipc_hello), FD_NEVER, check_hello },
	{ IPC_SHUTDOWN, "SHUTDOWN", IPC_ROLE_MASTER, CHILDREN,
	    0, FD_NEVER, NULL },
	{ IPC_SESSION_START, "SESSION_START", IPC_ROLE_MASTER, SESSIONS,
	    sizeof(struct ipc_session_start), FD_REQUIRED, check_session_start },
	{ IPC_AUTH_REQUEST, "AUTH_REQUEST", IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_auth_request), FD_NEVER, check_auth_request },
	{ IPC_AUTHD_REQUEST, "AUTHD_REQUEST", IPC_ROLE_MASTER, IPC_ROLE_AUTHD,
	    sizeof(struct ipc_authd_request), FD_NEVER, check_authd_request },
	{ IPC_AUTHD_RESULT, "AUTHD_RESULT", IPC_ROLE_AUTHD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_authd_result), FD_NEVER, check_authd_result },
	{ IPC_AUTH_OK, "AUTH_OK", IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    sizeof(struct ipc_auth_ok), FD_REQUIRED, check_auth_ok },
	{ IPC_AUTH_FAILED, "AUTH_FAILED", IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    sizeof(struct ipc_auth_failed), FD_NEVER, check_auth_failed },
	{ IPC_LOOKUP_REQUEST, "LOOKUP_REQUEST", IPC_ROLE_LMTPD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_lookup_request), FD_NEVER, check_lookup_request },
	{ IPC_AUTHD_LOOKUP, "AUTHD_LOOKUP", IPC_ROLE_MASTER, IPC_ROLE_AUTHD,
	    sizeof(struct ipc_authd_lookup), FD_NEVER, check_authd_lookup },
	{ IPC_AUTHD_LOOKUP_RESULT, "AUTHD_LOOKUP_RESULT", IPC_ROLE_AUTHD,
	    IPC_ROLE_MASTER, sizeof(struct ipc_authd_lookup_result), FD_NEVER,
	    check_authd_lookup_result },
	{ IPC_LOOKUP_OK, "LOOKUP_OK", IPC_ROLE_MASTER, IPC_ROLE_LMTPD,
	    sizeof(struct ipc_lookup_ok), FD_REQUIRED, check_lookup_ok },
	{ IPC_LOOKUP_FAILED, "LOOKUP_FAILED", IPC_ROLE_MASTER, IPC_ROLE_LMTPD,
	    sizeof(struct ipc_lookup_failed), FD_NEVER, check_lookup_failed },
	{ IPC_SESSION_STATE, "SESSION_STATE", IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_session_state), FD_NEVER, check_session_state },
	{ IPC_SESSION_STATS, "SESSION_STATS", IPC_ROLE_IMAPD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_session_stats), FD_NEVER, NULL },
	{ IPC_DELIVERY_REPORT, "DELIVERY_REPORT", IPC_ROLE_LMTPD, IPC_ROLE_MASTER,
	    sizeof(struct ipc_delivery_report), FD_NEVER, check_delivery_report },
	{ IPC_KICK, "KICK", IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    sizeof(struct ipc_kick), FD_NEVER, check_kick },
};

/* imapd/cmd.c's table, and one for the rest; in the order stats print. */
const char *const ipc_command_names[IPC_CMD_COUNT] = {
	"APPEND", "AUTHENTICATE", "CAPABILITY", "CHECK", "CLOSE", "COMPRESS",
	"COPY", "CREATE", "DELETE", "ENABLE", "EXAMINE", "EXPUNGE", "FETCH",
	"GETQUOTA", "GETQUOTAROOT", "ID", "IDLE", "LIST", "LOGIN", "LOGOUT",
	"LSUB", "MOVE", "NAMESPACE", "NOOP", "NOTIFY", "RENAME", "SEARCH",
	"SELECT", "SETQUOTA", "SORT", "STARTTLS", "STATUS", "STORE", "SUBSCRIBE",
	"THREAD", "UID", "UNSELECT", "UNSUBSCRIBE",
	[IPC_CMD_OTHER] = "OTHER",
};

unsigned
ipc_command_index(const char *name)
{
	for (unsigned i = 0; i < IPC_CMD_OTHER; i++)
		if (strcmp(ipc_command_names[i], name) == 0)
			return i;
	return IPC_CMD_OTHER;
}

static const struct ipc_type_info *
ipc_type_lookup(uint32_t type)
{
	for (size_t i = 0; i < sizeof(ipc_types) / sizeof(ipc_types[0]); i++)
		if (ipc_types[i].type == type)
			return &ipc_types[i];
	return NULL;
}

const char *
ipc_type_name(uint32_t type)
{
	const struct ipc_type_info *t = ipc_type_lookup(type);
	return t != NULL ? t->name : "UNKNOWN";
}

int
ipc_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);

	if (n >= size)
		return -1;
	memcpy(dst, src, n + 1);
	return 0;
}

int
ipc_send(int sock, enum ipc_role from, enum ipc_role to, uint32_t type,
    const void *payload, size_t len, int fd)
{
	const struct ipc_type_info *t = ipc_type_lookup(type);
	struct ipc_header h = { type, (uint32_t)len };
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ (void *)(uintptr_t)payload, len },
	};
	union {
		struct cmsghdr hdr;
		unsigned char buf[CMSG_SPACE(sizeof(int))];
	} cmsg;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len > 0 ? 2 : 1 };
	ssize_t n;

	if (t == NULL || !(t->from & from) || !(t->to & to) || len != t->size ||
	    (t->fd == FD_REQUIRED) != (fd >= 0)) {
		errno = EINVAL;
		return -1;
	}
	if (fd >= 0) {
		memset(&cmsg, 0, sizeof(cmsg));
		mh.msg_control = cmsg.buf;
		mh.msg_controllen = sizeof(cmsg.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	do
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	if ((size_t)n != sizeof(h) + len) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Take every descriptor out of the control data; keep the first. */
static int
ipc_take_fds(struct msghdr *mh, int *extra)
{
	int first = -1;

	*extra = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL; c = CMSG_NXTHDR(mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (first < 0)
				first = fd;
			else {
				close(fd);
				(*extra)++;
			}
		}
	}
	return first;
}

static enum ipc_recv_result
ipc_invalid(struct ipc_msg *msg, const char **why, const char *reason)
{
	if (msg->fd >= 0) {
		close(msg->fd);
		msg->fd = -1;
	}
	if (why != NULL)
		*why = reason;
	return IPC_RECV_INVALID;
}

enum ipc_recv_result
ipc_recv(int sock, enum ipc_role self, enum ipc_role from, struct ipc_msg *msg,
    const char **why)
{
	struct ipc_header h;
	union {
		struct cmsghdr hdr;
		unsigned char buf[CMSG_SPACE(sizeof(int) * 4)];
	} cmsg;
	struct iovec iov[2] = {
		{ &h, sizeof(h) },
		{ msg->p.raw, sizeof(msg->p.raw) },
	};
	struct msghdr mh = {
		.msg_iov = iov, .msg_iovlen = 2,
		.msg_control = cmsg.buf, .msg_controllen = sizeof(cmsg.buf),
	};
	const struct ipc_type_info *t;
	ssize_t n;
	int extra;

	msg->fd = -1;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return (errno == EAGAIN || errno == EWOULDBLOCK) ? IPC_RECV_AGAIN
		    : IPC_RECV_ERROR;
	if (n == 0 && mh.msg_controllen == 0)
		return IPC_RECV_EOF;
	msg->fd = ipc_take_fds(&mh, &extra);
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return ipc_invalid(msg, why, "message truncated");
	if (extra != 0)
		return ipc_invalid(msg, why, "more than one descriptor");
	if ((size_t)n < sizeof(h))
		return ipc_invalid(msg, why, "short header");
	if (h.len != (size_t)n - sizeof(h))
		return ipc_invalid(msg, why, "length field does not match the datagram");
	msg->type = h.type;
	msg->len = h.len;
	if ((t = ipc_type_lookup(h.type)) == NULL)
		return ipc_invalid(msg, why, "unknown message type");
	if (!(t->from & from) || !(t->to & self))
		return ipc_invalid(msg, why, "message type not allowed on this channel");
	if (h.len != t->size)
		return ipc_invalid(msg, why, "wrong payload size for its type");
	if (t->fd == FD_REQUIRED && msg->fd < 0)
		return ipc_invalid(msg, why, "descriptor missing");
	if (t->fd == FD_NEVER && msg->fd >= 0)
		return ipc_invalid(msg, why, "unexpected descriptor");
	if (t->check != NULL) {
		const char *bad = t->check(msg);
		if (bad != NULL)
			return ipc_invalid(msg, why, bad);
	}
	return IPC_RECV_OK;
}

int
ipc_wait_session(enum ipc_role self, struct ipc_session_start *start)
{
	struct ipc_msg msg;
	const char *why = NULL;

	for (;;) {
		switch (ipc_recv(IPC_FD_CONTROL, self, IPC_ROLE_MASTER, &msg, &why)) {
		case IPC_RECV_OK:
			if (msg.type == IPC_SESSION_START) {
				*start = msg.p.session_start;
				return msg.fd;
			}
			if (msg.type == IPC_SHUTDOWN)
				return -1;
			if (msg.fd >= 0)
				close(msg.fd);
			fatalx("unexpected %s from the master", ipc_type_name(msg.type));
		case IPC_RECV_AGAIN:
			continue;
		case IPC_RECV_INVALID:
			fatalx("bad message from the master: %s", why);
		case IPC_RECV_EOF:
			return -1;
		case IPC_RECV_ERROR:
			fatal("reading from the master");
		}
	}
}
