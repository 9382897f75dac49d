#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include "ipc.h"
#include "log.h"
#include "lookup.h"

/* The master's answer; false when there is none to be had. */
static bool
lookup_wait(int control_fd, struct ipc_msg *msg)
{
	const char *why = NULL;

	for (;;) {
		struct pollfd p = { .fd = control_fd, .events = POLLIN };
		int n = poll(&p, 1, LOOKUP_TIMEOUT_SECONDS * 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_warnx("no answer from the master to a recipient lookup");
			return false;
		}
		switch (ipc_recv(control_fd, IPC_ROLE_LMTPD, IPC_ROLE_MASTER, msg, &why)) {
		case IPC_RECV_AGAIN:
			continue;
		case IPC_RECV_OK:
			return true;
		case IPC_RECV_INVALID:
			log_warnx("bad message from the master: %s", why);
			return false;
		case IPC_RECV_EOF:
		case IPC_RECV_ERROR:
			return false;
		}
	}
}

enum session_status
lookup_recipient(void *arg, const char *address, struct session_rcpt *r)
{
	int control_fd = *(const int *)arg;
	struct ipc_lookup_request req;
	struct ipc_msg msg;

	memset(&req, 0, sizeof(req));
	if (ipc_strlcpy(req.address, address, sizeof(req.address)) != 0)
		return SESSION_NO_SUCH_USER;  /* longer than any user name */
	if (ipc_send(control_fd, IPC_ROLE_LMTPD, IPC_ROLE_MASTER, IPC_LOOKUP_REQUEST,
	    &req, sizeof(req), -1) != 0) {
		log_warn("cannot reach the master");
		return SESSION_SHUTDOWN;
	}
	/* No answer, or a SHUTDOWN in its place: the session must end, as
	 * a late answer would be taken for the next question's. */
	if (!lookup_wait(control_fd, &msg))
		return SESSION_SHUTDOWN;
	switch (msg.type) {
	case IPC_LOOKUP_OK:
		memcpy(r->user, msg.p.lookup_ok.user, sizeof(r->user));
		r->store_dirfd = msg.fd;
		return SESSION_OK;
	case IPC_LOOKUP_FAILED:
		switch (msg.p.lookup_failed.result) {
		case IPC_LOOKUP_RESULT_NO_SUCH_USER:
			return SESSION_NO_SUCH_USER;
		case IPC_LOOKUP_RESULT_DISABLED:
			return SESSION_DISABLED;
		default:
			return SESSION_UNAVAILABLE;
		}
	case IPC_SHUTDOWN:
		return SESSION_SHUTDOWN;
	default:
		if (msg.fd >= 0)
			close(msg.fd);
		log_warnx("unexpected %s from the master", ipc_type_name(msg.type));
		return SESSION_SHUTDOWN;
	}
}
