/*
 * Logins, as the master sees them: an imapd child asks, the master stamps
 * the request with that child's own session id and address and passes it
 * to cairn-authd; the verdict comes back by session id.  On success the
 * master enforces max-concurrent, opens the user's store directory as root
 * (creating it for the mail user on first login) and hands the child the
 * descriptor.  Passwords pass through here and are wiped at once.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "privdrop.h"
#include "username.h"

void
auth_reply_failed(struct child *c, enum ipc_auth_result result)
{
	struct ipc_auth_failed f = { result };

	stats_login(result);
	c->auth_pending = false;
	if (c->fd >= 0 && ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_IMAPD,
	    IPC_AUTH_FAILED, &f, sizeof(f), -1) != 0)
		log_warn("session=%016llx: cannot answer the login",
		    (unsigned long long)c->session_id);
}

void
auth_relay_request(struct master *m, struct child *c, struct ipc_msg *msg)
{
	struct ipc_auth_request *r = &msg->p.auth_request;
	struct ipc_authd_request out;
	struct child *authd;

	if (c->state != CHILD_BUSY || c->auth_pending || c->user[0] != '\0') {
		explicit_bzero(r, sizeof(*r));
		pool_kill_child(c, "login request out of sequence");
		return;
	}
	if ((authd = pool_authd(m)) == NULL) {
		explicit_bzero(r, sizeof(*r));
		log_warnx("session=%016llx: cairn-authd is not available",
		    (unsigned long long)c->session_id);
		auth_reply_failed(c, IPC_AUTH_RESULT_UNAVAILABLE);
		return;
	}
	memset(&out, 0, sizeof(out));
	out.session_id = c->session_id;
	out.mechanism = r->mechanism;
	memcpy(out.user, r->user, sizeof(out.user));
	memcpy(out.password, r->password, sizeof(out.password));
	memcpy(out.peer_addr, c->peer_addr, sizeof(out.peer_addr));
	explicit_bzero(r, sizeof(*r));
	int rc = ipc_send(authd->fd, IPC_ROLE_MASTER, IPC_ROLE_AUTHD,
	    IPC_AUTHD_REQUEST, &out, sizeof(out), -1);
	explicit_bzero(&out, sizeof(out));
	if (rc != 0) {
		log_warn("cannot reach cairn-authd");
		auth_reply_failed(c, IPC_AUTH_RESULT_UNAVAILABLE);
		return;
	}
	c->auth_pending = true;
	c->auth_authd = authd->pid;
}

static unsigned
auth_count_sessions(const struct master *m, const char *user)
{
	unsigned n = 0;

	for (const struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_IMAPD && c->state == CHILD_BUSY &&
		    strcmp(c->user, user) == 0)
			n++;
	return n;
}

/*
 * <data-dir>/mail/<store_dir>, created on first use for the mail user.
 * <data-dir>/mail is root's and mode 0700, so nobody else can plant a
 * link there; O_NOFOLLOW and the owner check make sure of it anyway.  A
 * delivery's recipient gets its store the same way (lookup.c).
 */
int
auth_open_store(const struct master *m, const char *store_dir)
{
	char spool[1100];
	struct stat st;
	uid_t uid = getuid();
	gid_t gid = getgid();
	int spoolfd, fd;

	if (m->privsep && privdrop_lookup(m->cfg->user, m->cfg->group, &uid, &gid) != 0) {
		log_warnx("user %s:%s has disappeared", m->cfg->user, m->cfg->group);
		return -1;
	}
	snprintf(spool, sizeof(spool), "%s/mail", m->cfg->data_dir);
	if ((spoolfd = open(spool, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		log_warn("open %s", spool);
		return -1;
	}
	if (mkdirat(spoolfd, store_dir, 0700) == 0) {
		if (m->privsep && fchownat(spoolfd, store_dir, uid, gid,
		    AT_SYMLINK_NOFOLLOW) != 0)
			log_warn("chown %s/%s", spool, store_dir);
		else
			log_info("created the store directory %s/%s", spool, store_dir);
	} else if (errno != EEXIST) {
		log_warn("mkdir %s/%s", spool, store_dir);
	}
	fd = openat(spoolfd, store_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(spoolfd);
	if (fd < 0) {
		log_warn("open %s/%s", spool, store_dir);
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_uid != uid) {
		log_warnx("%s/%s is not owned by %s: refusing it", spool, store_dir,
		    m->cfg->user);
		close(fd);
		return -1;
	}
	return fd;
}

static void
auth_grant(struct master *m, struct child *c, const struct ipc_authd_result *r)
{
	struct ipc_auth_ok ok;
	int fd;

	if (auth_count_sessions(m, r->user) >= m->cfg->max_concurrent) {
		log_info("session=%016llx: %s has %u sessions (max-concurrent): refused",
		    (unsigned long long)c->session_id, r->user, m->cfg->max_concurrent);
		auth_reply_failed(c, IPC_AUTH_RESULT_LIMIT);
		return;
	}
	if ((fd = auth_open_store(m, r->store_dir)) < 0) {
		auth_reply_failed(c, IPC_AUTH_RESULT_UNAVAILABLE);
		return;
	}
	memset(&ok, 0, sizeof(ok));
	ok.quota = r->quota;
	memcpy(ok.user, r->user, sizeof(ok.user));
	c->auth_pending = false;
	if (ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_AUTH_OK, &ok,
	    sizeof(ok), fd) != 0) {
		log_warn("session=%016llx: cannot hand over the store",
		    (unsigned long long)c->session_id);
		close(fd);
		return;
	}
	close(fd);
	snprintf(c->user, sizeof(c->user), "%s", r->user);
	stats_login(IPC_AUTH_RESULT_OK);
}

void
auth_handle_result(struct master *m, struct ipc_msg *msg)
{
	const struct ipc_authd_result *r = &msg->p.authd_result;
	struct child *c = pool_find_session(m, CHILD_IMAPD, r->session_id);

	if (c == NULL || !c->auth_pending)
		return;  /* the client left while authd thought */
	if (r->result == IPC_AUTH_RESULT_OK)
		auth_grant(m, c, r);
	else
		auth_reply_failed(c, (enum ipc_auth_result)r->result);
}

void
auth_fail_pending(struct master *m, pid_t authd_pid)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_IMAPD && c->auth_pending && c->auth_authd == authd_pid)
			auth_reply_failed(c, IPC_AUTH_RESULT_UNAVAILABLE);
}
