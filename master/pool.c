/*
 * The children: a pool of idle cairn-imapd processes kept at
 * worker-pool-size, one per live session, and one cairn-authd.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "master.h"
#include "spawn.h"
#include "xmalloc.h"

#ifndef CAIRN_LIBEXECDIR
#define CAIRN_LIBEXECDIR "/usr/local/libexec/cairn"
#endif

#define BACKOFF_MAX 60

static const char *
child_path(enum child_kind kind)
{
	/* Overrides let the test suite run the children from the build tree. */
	const char *env = getenv(kind == CHILD_IMAPD ? "CAIRN_IMAPD_PATH"
	    : "CAIRN_AUTHD_PATH");

	if (env != NULL && env[0] == '/')
		return env;
	return kind == CHILD_IMAPD ? CAIRN_LIBEXECDIR "/cairn-imapd"
	    : CAIRN_LIBEXECDIR "/cairn-authd";
}

static const char *
child_name(enum child_kind kind)
{
	return kind == CHILD_IMAPD ? "cairn-imapd" : "cairn-authd";
}

static struct child *
pool_spawn(struct master *m, enum child_kind kind)
{
	const char *path = child_path(kind);
	char *argv[] = { (char *)child_name(kind), "-M", "-c", (char *)m->config_path,
	    m->foreground ? "-F" : NULL, NULL };
	struct child *c;
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
		log_warn("socketpair for %s", child_name(kind));
		return NULL;
	}
	pid = spawn_child(path, argv, sv[1], m->config_memfd, m->foreground);
	close(sv[1]);
	if (pid < 0) {
		log_warn("fork for %s", child_name(kind));
		close(sv[0]);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->pid = pid;
	c->fd = sv[0];
	c->kind = kind;
	c->state = CHILD_STARTING;
	c->generation = m->generation;
	c->next = m->children;
	m->children = c;
	log_debug("started %s pid %ld", child_name(kind), (long)pid);
	return c;
}

static unsigned
pool_count_state(const struct master *m, enum child_kind kind, unsigned states)
{
	unsigned n = 0;

	for (const struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == kind && (states & (1u << c->state)))
			n++;
	return n;
}

unsigned
pool_count(const struct master *m)
{
	unsigned n = 0;

	for (const struct child *c = m->children; c != NULL; c = c->next)
		n++;
	return n;
}

void
pool_fill(struct master *m)
{
	unsigned want = config_worker_pool(m->cfg) + m->n_pending;
	unsigned have;

	if (m->stopping || time(NULL) < m->imapd_next_spawn)
		return;
	have = pool_count_state(m, CHILD_IMAPD,
	    (1u << CHILD_STARTING) | (1u << CHILD_IDLE));
	while (have < want) {
		if (pool_spawn(m, CHILD_IMAPD) == NULL)
			break;
		have++;
	}
}

void
pool_start_authd(struct master *m)
{
	if (m->stopping || time(NULL) < m->authd_next_spawn)
		return;
	if (pool_count_state(m, CHILD_AUTHD, ~0u) == 0)
		(void)pool_spawn(m, CHILD_AUTHD);
}

static void
pending_push(struct master *m, int fd, enum ipc_listener kind, const char *addr,
    unsigned port)
{
	struct pending_conn *p = xcalloc(1, sizeof(*p));

	p->fd = fd;
	p->kind = kind;
	p->port = port;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	if (m->pending_tail != NULL)
		m->pending_tail->next = p;
	else
		m->pending_head = p;
	m->pending_tail = p;
	m->n_pending++;
}

static struct child *
pool_idle_child(struct master *m)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_IMAPD && c->state == CHILD_IDLE &&
		    c->generation == m->generation)
			return c;
	return NULL;
}

/* Hand a client socket to child c; the master keeps no copy. */
static void
pool_hand_over(struct master *m, struct child *c, int fd, enum ipc_listener kind,
    const char *addr, unsigned port)
{
	struct ipc_session_start s;

	memset(&s, 0, sizeof(s));
	s.session_id = m->next_session_id++;
	s.listener = kind;
	s.peer_port = port;
	(void)ipc_strlcpy(s.peer_addr, addr, sizeof(s.peer_addr));
	if (ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_SESSION_START,
	    &s, sizeof(s), fd) != 0) {
		log_warn("handing %s port %u to pid %ld", addr, port, (long)c->pid);
		close(fd);
		kill(c->pid, SIGKILL);
		c->state = CHILD_STOPPING;
		return;
	}
	close(fd);
	c->state = CHILD_BUSY;
	c->session_id = s.session_id;
	snprintf(c->peer_addr, sizeof(c->peer_addr), "%s", addr);
	m->n_busy++;
	log_info("session=%016llx: connection from %s port %u on the %s listener, "
	    "pid %ld", (unsigned long long)s.session_id, addr, port,
	    kind == IPC_LISTENER_TLS ? "TLS" : "clear-text", (long)c->pid);
}

void
pool_dispatch(struct master *m, int fd, enum ipc_listener kind, const char *addr,
    unsigned port)
{
	struct child *c = pool_idle_child(m);

	if (c != NULL)
		pool_hand_over(m, c, fd, kind, addr, port);
	else
		pending_push(m, fd, kind, addr, port);
	pool_fill(m);
}

static void
pool_drain_pending(struct master *m)
{
	struct child *c;

	while (m->pending_head != NULL && (c = pool_idle_child(m)) != NULL) {
		struct pending_conn *p = m->pending_head;
		m->pending_head = p->next;
		if (m->pending_head == NULL)
			m->pending_tail = NULL;
		m->n_pending--;
		pool_hand_over(m, c, p->fd, p->kind, p->addr, p->port);
		free(p);
	}
}

struct child *
pool_authd(struct master *m)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_AUTHD && c->state == CHILD_IDLE && c->fd >= 0 &&
		    c->generation == m->generation)
			return c;
	return NULL;
}

struct child *
pool_find_session(struct master *m, uint64_t session_id)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_IMAPD && c->state == CHILD_BUSY &&
		    c->session_id == session_id)
			return c;
	return NULL;
}

/* A child that breaks the protocol is not argued with. */
void
pool_kill_child(struct child *c, const char *why)
{
	log_warnx("%s pid %ld sent a bad message (%s): killing it",
	    child_name(c->kind), (long)c->pid, why);
	kill(c->pid, SIGKILL);
	c->state = CHILD_STOPPING;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

void
pool_handle_message(struct master *m, struct child *c)
{
	enum ipc_role role = c->kind == CHILD_IMAPD ? IPC_ROLE_IMAPD : IPC_ROLE_AUTHD;
	struct ipc_msg msg;
	const char *why = NULL;

	switch (ipc_recv(c->fd, IPC_ROLE_MASTER, role, &msg, &why)) {
	case IPC_RECV_AGAIN:
		return;
	case IPC_RECV_EOF:
	case IPC_RECV_ERROR:
		/* The child is exiting; SIGCHLD does the rest. */
		close(c->fd);
		c->fd = -1;
		return;
	case IPC_RECV_INVALID:
		pool_kill_child(c, why);
		return;
	case IPC_RECV_OK:
		break;
	}
	if (msg.type == IPC_AUTH_REQUEST && c->kind == CHILD_IMAPD) {
		auth_relay_request(m, c, &msg);
		return;
	}
	if (msg.type == IPC_AUTHD_RESULT && c->kind == CHILD_AUTHD) {
		auth_handle_result(m, &msg);
		return;
	}
	/* Retired before it was ready: it will read its SHUTDOWN next. */
	if (msg.type == IPC_HELLO && c->state == CHILD_STOPPING)
		return;
	if (msg.type != IPC_HELLO || c->state != CHILD_STARTING ||
	    msg.p.hello.role != (uint32_t)role) {
		pool_kill_child(c, "message out of sequence");
		return;
	}
	c->state = CHILD_IDLE;
	if (c->kind == CHILD_IMAPD) {
		m->imapd_failures = 0;
		pool_drain_pending(m);
	} else {
		m->authd_failures = 0;
		log_info("cairn-authd pid %ld ready", (long)c->pid);
	}
}

static time_t
backoff_next(unsigned *failures)
{
	unsigned delay = 1;

	for (unsigned i = 1; i < *failures && delay < BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	(*failures)++;
	return time(NULL) + delay;
}

static void
pool_child_exited(struct master *m, struct child *c, int status)
{
	bool abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;

	if (WIFSIGNALED(status) && c->state != CHILD_STOPPING)
		log_warnx("%s pid %ld killed by signal %d", child_name(c->kind),
		    (long)c->pid, WTERMSIG(status));
	else if (abnormal && c->state != CHILD_STOPPING)
		log_warnx("%s pid %ld exited with status %d", child_name(c->kind),
		    (long)c->pid, WEXITSTATUS(status));
	else
		log_debug("%s pid %ld exited", child_name(c->kind), (long)c->pid);

	if (c->state == CHILD_BUSY)
		m->n_busy--;
	if (c->kind == CHILD_IMAPD && c->state == CHILD_STARTING && !m->stopping)
		m->imapd_next_spawn = backoff_next(&m->imapd_failures);
	if (c->kind == CHILD_AUTHD && !m->stopping && c->generation == m->generation) {
		if (c->state == CHILD_STARTING || abnormal)
			m->authd_next_spawn = backoff_next(&m->authd_failures);
		log_warnx("cairn-authd is gone; restarting it%s",
		    m->authd_next_spawn > time(NULL) ? " after a back-off" : "");
	}
}

void
pool_reap(struct master *m)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child **pp = &m->children;
		while (*pp != NULL && (*pp)->pid != pid)
			pp = &(*pp)->next;
		if (*pp == NULL)
			continue;
		struct child *c = *pp;
		*pp = c->next;
		pool_child_exited(m, c, status);
		if (c->fd >= 0)
			close(c->fd);
		bool was_authd = c->kind == CHILD_AUTHD;
		free(c);
		/* Logins in flight with a dead authd fail now, never hang. */
		if (was_authd)
			auth_fail_pending(m, pid);
	}
	pool_fill(m);
	pool_start_authd(m);
}

static void
pool_tell_shutdown(struct child *c)
{
	if (c->fd >= 0 && ipc_send(c->fd, IPC_ROLE_MASTER,
	    c->kind == CHILD_IMAPD ? IPC_ROLE_IMAPD : IPC_ROLE_AUTHD,
	    IPC_SHUTDOWN, NULL, 0, -1) != 0)
		kill(c->pid, SIGTERM);
	if (c->state == CHILD_BUSY)
		return;  /* stays counted as busy until it exits */
	c->state = CHILD_STOPPING;
}

/* After a reload: idle children and authd of older configs make way. */
void
pool_retire_generation(struct master *m, unsigned generation)
{
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->generation > generation)
			continue;
		if (c->state == CHILD_IDLE || c->state == CHILD_STARTING ||
		    c->kind == CHILD_AUTHD)
			pool_tell_shutdown(c);
	}
}

void
pool_shutdown_all(struct master *m)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		pool_tell_shutdown(c);
	while (m->pending_head != NULL) {
		struct pending_conn *p = m->pending_head;
		static const char bye[] = "* BYE Server shutting down\r\n";
		if (p->kind == IPC_LISTENER_PLAIN)
			(void)send(p->fd, bye, sizeof(bye) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(p->fd);
		m->pending_head = p->next;
		free(p);
	}
	m->pending_tail = NULL;
	m->n_pending = 0;
}

void
pool_kill_all(struct master *m)
{
	for (struct child *c = m->children; c != NULL; c = c->next) {
		log_warnx("%s pid %ld did not stop in time: killing it",
		    child_name(c->kind), (long)c->pid);
		kill(c->pid, SIGKILL);
	}
}

/* How long poll may sleep before a back-off expires. */
int
pool_next_timeout_ms(const struct master *m)
{
	time_t now = time(NULL), next = 0;

	if (m->imapd_next_spawn > now)
		next = m->imapd_next_spawn;
	if (m->authd_next_spawn > now && (next == 0 || m->authd_next_spawn < next))
		next = m->authd_next_spawn;
	return next == 0 ? -1 : (int)(next - now) * 1000;
}
