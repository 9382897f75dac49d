/*
 * Recipient lookups, as the master sees them: a cairn-lmtpd child asks
 * who an address is, the master stamps the question with that child's
 * session id and passes it to cairn-authd; the answer comes back by
 * session id.  For a user, the master opens (creating on first use) the
 * store directory exactly as for a login and hands the child the
 * descriptor.  A lookup is never a login: it comes only from lmtpd
 * children (ipc.c allows no other sender), carries no password, counts
 * toward no max-concurrent, and its answer never makes a session
 * logged-in.
 */
#include "autoconfig.h"

#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

static void
lookup_reply_failed(struct child *c, enum ipc_lookup_result result)
{
	struct ipc_lookup_failed f = { result };

	c->lookup_pending = false;
	if (c->fd >= 0 && ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_LMTPD,
	    IPC_LOOKUP_FAILED, &f, sizeof(f), -1) != 0)
		log_warn("session=%016llx: cannot answer the recipient lookup",
		    (unsigned long long)c->session_id);
}

void
lookup_relay_request(struct master *m, struct child *c, struct ipc_msg *msg)
{
	struct ipc_authd_lookup out;
	struct child *authd;

	/* one question at a time, from a child serving a connection */
	if (c->kind != CHILD_LMTPD || c->state != CHILD_BUSY || c->lookup_pending) {
		pool_kill_child(c, "recipient lookup out of sequence");
		return;
	}
	if ((authd = pool_authd(m)) == NULL) {
		log_warnx("session=%016llx: cairn-authd is not available",
		    (unsigned long long)c->session_id);
		lookup_reply_failed(c, IPC_LOOKUP_RESULT_UNAVAILABLE);
		return;
	}
	memset(&out, 0, sizeof(out));
	out.session_id = c->session_id;
	memcpy(out.address, msg->p.lookup_request.address, sizeof(out.address));
	if (ipc_send(authd->fd, IPC_ROLE_MASTER, IPC_ROLE_AUTHD, IPC_AUTHD_LOOKUP,
	    &out, sizeof(out), -1) != 0) {
		log_warn("cannot reach cairn-authd");
		lookup_reply_failed(c, IPC_LOOKUP_RESULT_UNAVAILABLE);
		return;
	}
	c->lookup_pending = true;
	c->auth_authd = authd->pid;
}

void
lookup_handle_result(struct master *m, struct ipc_msg *msg)
{
	const struct ipc_authd_lookup_result *r = &msg->p.authd_lookup_result;
	struct child *c = pool_find_session(m, CHILD_LMTPD, r->session_id);
	struct ipc_lookup_ok ok;
	int fd;

	if (c == NULL || !c->lookup_pending)
		return;  /* the client left meanwhile */
	if (r->result != IPC_LOOKUP_RESULT_OK) {
		lookup_reply_failed(c, (enum ipc_lookup_result)r->result);
		return;
	}
	if ((fd = auth_open_store(m, r->store_dir)) < 0) {
		lookup_reply_failed(c, IPC_LOOKUP_RESULT_UNAVAILABLE);
		return;
	}
	memset(&ok, 0, sizeof(ok));
	ok.quota = r->quota;
	memcpy(ok.user, r->user, sizeof(ok.user));
	c->lookup_pending = false;
	if (ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_LMTPD, IPC_LOOKUP_OK, &ok,
	    sizeof(ok), fd) != 0)
		log_warn("session=%016llx: cannot hand over the store",
		    (unsigned long long)c->session_id);
	close(fd);
}

void
lookup_fail_pending(struct master *m, pid_t authd_pid)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_LMTPD && c->lookup_pending &&
		    c->auth_authd == authd_pid)
			lookup_reply_failed(c, IPC_LOOKUP_RESULT_UNAVAILABLE);
}
