/*
 * The children: a pool of idle cairn-imapd processes kept at
 * worker-pool-size, one per live session; a smaller pool of cairn-lmtpd
 * processes (LMTPD_IDLE idle, LMTPD_MAX in all), one per LMTP connection;
 * and one cairn-authd.  Each kind is a row of child_types[]; what differs
 * between the two session kinds is how many to keep.
 */
#include "autoconfig.h"

#include <errno.h>
#include <poll.h>
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

static const struct child_type {
	const char *name;         /* argv[0], and in the log */
	const char *path;
	const char *env;          /* lets the test suite run the build tree's */
	enum ipc_role role;
} child_types[CHILD_KINDS] = {
	[CHILD_IMAPD] = { "cairn-imapd", CAIRN_LIBEXECDIR "/cairn-imapd",
	    "CAIRN_IMAPD_PATH", IPC_ROLE_IMAPD },
	[CHILD_AUTHD] = { "cairn-authd", CAIRN_LIBEXECDIR "/cairn-authd",
	    "CAIRN_AUTHD_PATH", IPC_ROLE_AUTHD },
	[CHILD_LMTPD] = { "cairn-lmtpd", CAIRN_LIBEXECDIR "/cairn-lmtpd",
	    "CAIRN_LMTPD_PATH", IPC_ROLE_LMTPD },
};

static const char *
child_path(enum child_kind kind)
{
	const char *env = getenv(child_types[kind].env);

	if (env != NULL && env[0] == '/')
		return env;
	return child_types[kind].path;
}

static const char *
child_name(enum child_kind kind)
{
	return child_types[kind].name;
}

/* Which children serve a kind of connection. */
static enum child_kind
service_child(enum service sv)
{
	return sv == SERVICE_LMTP ? CHILD_LMTPD : CHILD_IMAPD;
}

static unsigned *
service_busy(struct master *m, enum service sv)
{
	return sv == SERVICE_LMTP ? &m->n_lmtp_busy : &m->n_busy;
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

/* Spawn until want are starting or idle, with at most max alive in all. */
static void
pool_fill_kind(struct master *m, enum child_kind kind, unsigned want, unsigned max)
{
	const unsigned ready = (1u << CHILD_STARTING) | (1u << CHILD_IDLE);
	unsigned have, all;

	if (m->stopping || time(NULL) < m->backoff[kind].next_spawn)
		return;
	have = pool_count_state(m, kind, ready);
	all = pool_count_state(m, kind, ~0u);
	while (have < want && all < max) {
		if (pool_spawn(m, kind) == NULL)
			break;
		have++;
		all++;
	}
}

void
pool_fill(struct master *m)
{
	pool_fill_kind(m, CHILD_IMAPD, config_worker_pool(m->cfg) +
	    m->pending[SERVICE_IMAP].n, ~0u);
	pool_fill_kind(m, CHILD_LMTPD, LMTPD_IDLE + m->pending[SERVICE_LMTP].n,
	    LMTPD_MAX);
}

void
pool_start_authd(struct master *m)
{
	if (m->stopping || time(NULL) < m->backoff[CHILD_AUTHD].next_spawn)
		return;
	if (pool_count_state(m, CHILD_AUTHD, ~0u) == 0)
		(void)pool_spawn(m, CHILD_AUTHD);
}

static void
pending_push(struct master *m, int fd, enum ipc_listener kind, const char *addr,
    unsigned port)
{
	struct pending_queue *q = &m->pending[listener_service(kind)];
	struct pending_conn *p = xcalloc(1, sizeof(*p));

	p->fd = fd;
	p->kind = kind;
	p->port = port;
	snprintf(p->addr, sizeof(p->addr), "%s", addr);
	if (q->tail != NULL)
		q->tail->next = p;
	else
		q->head = p;
	q->tail = p;
	q->n++;
}

static struct pending_conn *
pending_pop(struct pending_queue *q)
{
	struct pending_conn *p = q->head;

	if (p == NULL)
		return NULL;
	q->head = p->next;
	if (q->head == NULL)
		q->tail = NULL;
	q->n--;
	return p;
}

static struct child *
pool_idle_child(struct master *m, enum child_kind kind)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == kind && c->state == CHILD_IDLE &&
		    c->generation == m->generation)
			return c;
	return NULL;
}

/* Hand a client socket to child c; the master keeps no copy. */
static void
pool_hand_over(struct master *m, struct child *c, int fd, enum ipc_listener kind,
    const char *addr, unsigned port)
{
	static const char *const kinds[] = {
		[IPC_LISTENER_PLAIN] = "clear-text", [IPC_LISTENER_TLS] = "TLS",
		[IPC_LISTENER_LMTP_TCP] = "LMTP",
	};
	struct ipc_session_start s;

	memset(&s, 0, sizeof(s));
	s.session_id = m->next_session_id++;
	s.listener = kind;
	s.peer_port = port;
	(void)ipc_strlcpy(s.peer_addr, addr, sizeof(s.peer_addr));
	if (ipc_send(c->fd, IPC_ROLE_MASTER, child_types[c->kind].role,
	    IPC_SESSION_START, &s, sizeof(s), fd) != 0) {
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
	c->peer_port = port;
	c->since = time(NULL);
	c->session_state = IPC_STATE_NOT_AUTHENTICATED;
	stats_connection(listener_service(kind));
	(*service_busy(m, listener_service(kind)))++;
	if (kind == IPC_LISTENER_LMTP)
		log_info("session=%016llx: connection on the LMTP socket, pid %ld",
		    (unsigned long long)s.session_id, (long)c->pid);
	else
		log_info("session=%016llx: connection from %s port %u on the %s "
		    "listener, pid %ld", (unsigned long long)s.session_id, addr, port,
		    kinds[kind], (long)c->pid);
}

void
pool_dispatch(struct master *m, int fd, enum ipc_listener kind, const char *addr,
    unsigned port)
{
	struct child *c = pool_idle_child(m, service_child(listener_service(kind)));

	if (c != NULL)
		pool_hand_over(m, c, fd, kind, addr, port);
	else
		pending_push(m, fd, kind, addr, port);
	pool_fill(m);
}

static void
pool_drain_pending(struct master *m, enum service sv)
{
	struct child *c;

	while (m->pending[sv].head != NULL &&
	    (c = pool_idle_child(m, service_child(sv))) != NULL) {
		struct pending_conn *p = pending_pop(&m->pending[sv]);
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
pool_find_session(struct master *m, enum child_kind kind, uint64_t session_id)
{
	for (struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == kind && c->state == CHILD_BUSY &&
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
	if (!c->reaped)
		kill(c->pid, SIGKILL);
	c->state = CHILD_STOPPING;
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
}

/*
 * A session's state for cairnctl who.  Only a logged-in session can be
 * past "not authenticated" (the master granted the login, so it knows);
 * a kicked one stays "logout" whatever it says before it exits.
 */
static bool
pool_session_state(struct child *c, const struct ipc_session_state *st)
{
	if (c->kind != CHILD_IMAPD || c->state != CHILD_BUSY)
		return false;
	if (st->state != IPC_STATE_NOT_AUTHENTICATED &&
	    st->state != IPC_STATE_LOGOUT && c->user[0] == '\0')
		return false;
	if (c->session_state == IPC_STATE_LOGOUT)
		return true;
	c->session_state = st->state;
	memcpy(c->mailbox, st->mailbox, sizeof(c->mailbox));
	return true;
}

/* A request or an answer; each kind may send only its own (ipc.c). */
static bool
pool_route(struct master *m, struct child *c, struct ipc_msg *msg)
{
	switch (msg->type) {
	case IPC_AUTH_REQUEST:
		if (c->kind != CHILD_IMAPD)
			return false;
		auth_relay_request(m, c, msg);
		return true;
	case IPC_LOOKUP_REQUEST:
		if (c->kind != CHILD_LMTPD)
			return false;
		lookup_relay_request(m, c, msg);
		return true;
	case IPC_AUTHD_RESULT:
		if (c->kind != CHILD_AUTHD)
			return false;
		auth_handle_result(m, msg);
		return true;
	case IPC_AUTHD_LOOKUP_RESULT:
		if (c->kind != CHILD_AUTHD)
			return false;
		lookup_handle_result(m, msg);
		return true;
	case IPC_SESSION_STATE:
		return pool_session_state(c, &msg->p.session_state);
	case IPC_SESSION_STATS:
		if (c->kind != CHILD_IMAPD || c->state != CHILD_BUSY)
			return false;
		stats_session(&msg->p.session_stats);
		return true;
	case IPC_DELIVERY_REPORT:
		if (c->kind != CHILD_LMTPD || c->state != CHILD_BUSY)
			return false;
		stats_delivery(&msg->p.delivery_report);
		return true;
	default:
		return false;
	}
}

void
pool_handle_message(struct master *m, struct child *c)
{
	enum ipc_role role = child_types[c->kind].role;
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
	if (msg.type != IPC_HELLO) {
		if (!pool_route(m, c, &msg))
			pool_kill_child(c, "message out of place");
		return;
	}
	/* Retired before it was ready: it will read its SHUTDOWN next. */
	if (c->state == CHILD_STOPPING)
		return;
	if (c->state != CHILD_STARTING || msg.p.hello.role != (uint32_t)role) {
		pool_kill_child(c, "message out of sequence");
		return;
	}
	c->state = CHILD_IDLE;
	m->backoff[c->kind].failures = 0;
	if (c->kind == CHILD_AUTHD) {
		log_info("cairn-authd pid %ld ready", (long)c->pid);
		/* listeners bound, children started, logins answered: systemd
		 * may start what is ordered after us */
		if (!m->ready_told) {
			notify_systemd("READY=1");
			m->ready_told = true;
		}
	} else
		pool_drain_pending(m, c->kind == CHILD_LMTPD ? SERVICE_LMTP
		    : SERVICE_IMAP);
}

static time_t
backoff_next(struct backoff *b)
{
	unsigned delay = 1;

	for (unsigned i = 1; i < b->failures && delay < BACKOFF_MAX; i++)
		delay *= 2;
	if (delay > BACKOFF_MAX)
		delay = BACKOFF_MAX;
	b->failures++;
	return time(NULL) + delay;
}

static void
pool_child_exited(struct master *m, struct child *c, int status)
{
	bool abnormal = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	struct backoff *b = &m->backoff[c->kind];

	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS)
		/* common/sandbox.c: the child's filter trapped a call; under
		 * -F the child's own line before this gives its number. */
		log_errorx("%s pid %ld killed by seccomp: forbidden system call "
		    "(SIGSYS)", child_name(c->kind), (long)c->pid);
	else if (WIFSIGNALED(status) && c->state != CHILD_STOPPING)
		log_warnx("%s pid %ld killed by signal %d", child_name(c->kind),
		    (long)c->pid, WTERMSIG(status));
	else if (abnormal && c->state != CHILD_STOPPING)
		log_warnx("%s pid %ld exited with status %d", child_name(c->kind),
		    (long)c->pid, WEXITSTATUS(status));
	else
		log_debug("%s pid %ld exited", child_name(c->kind), (long)c->pid);

	if (c->state == CHILD_BUSY)
		(*service_busy(m, c->kind == CHILD_LMTPD ? SERVICE_LMTP
		    : SERVICE_IMAP))--;
	if (c->kind == CHILD_LMTPD)
		spool_clean_pid(m, c->pid);
	if (c->kind != CHILD_AUTHD && c->state == CHILD_STARTING && !m->stopping)
		b->next_spawn = backoff_next(b);
	if (c->kind == CHILD_AUTHD && !m->stopping && c->generation == m->generation) {
		if (c->state == CHILD_STARTING || abnormal)
			b->next_spawn = backoff_next(b);
		log_warnx("cairn-authd is gone; restarting it%s",
		    b->next_spawn > time(NULL) ? " after a back-off" : "");
	}
}

/* Read what a child that has exited left on its socket; bounded, and
 * never waits (the socket is at EOF once the queue is empty). */
static void
pool_drain_child(struct master *m, struct child *c)
{
	for (int i = 0; i < 256 && c->fd >= 0; i++) {
		struct pollfd p = { .fd = c->fd, .events = POLLIN };

		if (poll(&p, 1, 0) <= 0 || (p.revents & (POLLIN | POLLHUP)) == 0)
			return;
		pool_handle_message(m, c);
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
		c->reaped = true;
		/* what it sent just before exiting (a session's last counters,
		 * a delivery report) is still queued on its socket */
		pool_drain_child(m, c);
		*pp = c->next;
		pool_child_exited(m, c, status);
		if (c->fd >= 0)
			close(c->fd);
		bool was_authd = c->kind == CHILD_AUTHD;
		free(c);
		/* Logins and lookups in flight with a dead authd fail now. */
		if (was_authd) {
			auth_fail_pending(m, pid);
			lookup_fail_pending(m, pid);
		}
	}
	pool_fill(m);
	pool_start_authd(m);
}

static void
pool_tell_shutdown(struct child *c)
{
	if (c->fd >= 0 && ipc_send(c->fd, IPC_ROLE_MASTER, child_types[c->kind].role,
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

/* What a connection that waited hears when the server stops. */
static void
pending_refuse(struct pending_conn *p)
{
	static const char bye[] = "* BYE Server shutting down\r\n";
	static const char lmtp[] = "421 4.3.2 Server shutting down\r\n";

	if (p->kind == IPC_LISTENER_PLAIN)
		(void)send(p->fd, bye, sizeof(bye) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	else if (p->kind != IPC_LISTENER_TLS)
		(void)send(p->fd, lmtp, sizeof(lmtp) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(p->fd);
}

void
pool_shutdown_all(struct master *m)
{
	struct pending_conn *p;

	for (struct child *c = m->children; c != NULL; c = c->next)
		pool_tell_shutdown(c);
	for (int sv = 0; sv < SERVICES; sv++) {
		while ((p = pending_pop(&m->pending[sv])) != NULL) {
			pending_refuse(p);
			free(p);
		}
	}
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

	for (int k = 0; k < CHILD_KINDS; k++) {
		time_t t = m->backoff[k].next_spawn;
		if (t > now && (next == 0 || t < next))
			next = t;
	}
	return next == 0 ? -1 : (int)(next - now) * 1000;
}
