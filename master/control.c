/*
 * <run-dir>/control: the master's socket for cairnctl who, kick, reload
 * and stats (the protocol is in control-proto.h).
 *
 * Root only: the file is root's, mode 0600, and every peer's credentials
 * (SO_PEERCRED) must say uid 0 (or the master's own uid when it runs
 * unprivileged, as in development).  The master must never wait on a
 * control client: every socket is non-blocking, a request is at most
 * CONTROL_REQUEST_MAX bytes, at most CONTROL_MAX_CLIENTS are served at a
 * time, and a client that has not sent its request and read the whole
 * answer within CONTROL_TIMEOUT_MS is dropped.  The answer is built at
 * once (its size grows with the sessions listed, nothing else) and
 * written as the client reads it.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "control-proto.h"
#include "log.h"
#include "master.h"

#define CONTROL_MAX_CLIENTS 8
#define CONTROL_TIMEOUT_MS 10000
#define CONTROL_KICK_REASON "Disconnected by the administrator"

struct control_client {
	int fd;                   /* -1: slot free */
	char in[CONTROL_REQUEST_MAX];
	size_t in_len;
	struct buf out;           /* the answer, once the request came */
	size_t out_off;
	bool answering;
	int64_t deadline;         /* CLOCK_MONOTONIC ms */
};

static int listen_fd = -1;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
static ino_t sock_ino;
static struct control_client clients[CONTROL_MAX_CLIENTS];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Does a process still accept on the socket at path? */
static bool
socket_live(const struct sockaddr_un *sun)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	live = connect(fd, (const struct sockaddr *)sun, sizeof(*sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

void
control_open(const struct master *m)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		clients[i].fd = -1;
	if ((size_t)snprintf(sock_path, sizeof(sock_path), "%s/control",
	    m->cfg->run_dir) >= sizeof(sock_path))
		fatalx("%s/control: the path is too long for a socket", m->cfg->run_dir);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	/* As the LMTP socket: an earlier cairnd's socket goes, nothing else. */
	if (lstat(sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode))
			fatalx("%s exists and is not a socket: not removing it", sock_path);
		if (socket_live(&sun))
			fatalx("%s is in use: is another cairnd running?", sock_path);
		if (unlink(sock_path) != 0 && errno != ENOENT)
			fatal("cannot remove the old socket %s", sock_path);
	} else if (errno != ENOENT) {
		fatal("%s", sock_path);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0)
		fatal("socket for %s", sock_path);
	old = umask(0177);   /* 0600 from the start */
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, CONTROL_MAX_CLIENTS) != 0 ||
	    lstat(sock_path, &st) != 0)
		fatal("cannot listen on %s", sock_path);
	if (m->privsep && chown(sock_path, 0, 0) != 0)
		fatal("chown %s", sock_path);
	listen_fd = fd;
	sock_ino = st.st_ino;
	log_debug("control socket %s", sock_path);
}

static void
client_close(struct control_client *c)
{
	close(c->fd);
	c->fd = -1;
	buf_free(&c->out);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

void
control_close(void)
{
	struct stat st;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0)
			client_close(&clients[i]);
	if (listen_fd < 0)
		return;
	close(listen_fd);
	listen_fd = -1;
	/* only the file we made: another cairnd may have replaced it */
	if (lstat(sock_path, &st) == 0 && st.st_ino == sock_ino)
		(void)unlink(sock_path);
}

size_t
control_max_fds(void)
{
	return 1 + CONTROL_MAX_CLIENTS;
}

size_t
control_pollfds(struct pollfd *pfd)
{
	size_t n = 0;

	if (listen_fd < 0)
		return 0;
	pfd[n++] = (struct pollfd){ .fd = listen_fd, .events = POLLIN };
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		pfd[n++] = (struct pollfd){ .fd = clients[i].fd,
		    .events = clients[i].answering ? POLLOUT : POLLIN };
	return n;
}

int
control_timeout_ms(void)
{
	int64_t now = now_ms(), next = -1;

	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && (next < 0 || clients[i].deadline < next))
			next = clients[i].deadline;
	if (next < 0)
		return -1;
	return next <= now ? 0 : (int)(next - now);
}

/* Bytes outside printable ASCII but UTF-8's, and backslash, as \xNN:
 * the who lines are tab-separated, one per line. */
static void
append_escaped(struct buf *out, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f || *p == '\\')
			buf_printf(out, "\\x%02x", *p);
		else
			buf_append_char(out, (char)*p);
	}
}

static const char *
state_name(uint32_t state)
{
	static const char *const names[] = {
		[IPC_STATE_NOT_AUTHENTICATED] = "not authenticated",
		[IPC_STATE_AUTHENTICATED] = "authenticated",
		[IPC_STATE_SELECTED] = "selected",
		[IPC_STATE_IDLE] = "idle",
		[IPC_STATE_LOGOUT] = "logout",
	};
	return state <= IPC_STATE_LOGOUT ? names[state] : "unknown";
}

/* SESSION USER ADDR PORT SINCE STATE MAILBOX, tab-separated */
static void
answer_who(struct master *m, struct buf *out)
{
	buf_append_str(out, "OK\n");
	for (const struct child *c = m->children; c != NULL; c = c->next) {
		if (c->kind != CHILD_IMAPD || c->state != CHILD_BUSY)
			continue;
		buf_printf(out, "%016llx\t%s\t%s\t%u\t%lld\t%s\t",
		    (unsigned long long)c->session_id,
		    c->user[0] != '\0' ? c->user : "-", c->peer_addr, c->peer_port,
		    (long long)c->since, state_name(c->session_state));
		append_escaped(out, c->mailbox);
		buf_append_char(out, '\n');
	}
}

static void
answer_kick(struct master *m, const char *user, struct buf *out)
{
	struct ipc_kick k;
	unsigned n = 0;

	memset(&k, 0, sizeof(k));
	(void)ipc_strlcpy(k.reason, CONTROL_KICK_REASON, sizeof(k.reason));
	for (struct child *c = m->children; c != NULL; c = c->next) {
		if (c->kind != CHILD_IMAPD || c->state != CHILD_BUSY ||
		    c->fd < 0 || strcmp(c->user, user) != 0 ||
		    c->session_state == IPC_STATE_LOGOUT)
			continue;
		if (ipc_send(c->fd, IPC_ROLE_MASTER, IPC_ROLE_IMAPD, IPC_KICK, &k,
		    sizeof(k), -1) != 0) {
			log_warn("session=%016llx: cannot tell it to end",
			    (unsigned long long)c->session_id);
			continue;
		}
		c->session_state = IPC_STATE_LOGOUT;
		log_info("session=%016llx: %s kicked by cairnctl",
		    (unsigned long long)c->session_id, user);
		n++;
	}
	buf_printf(out, "OK\n%u\n", n);
}

static void
answer_reload(struct master *m, struct buf *out)
{
	char err[2048];

	if (m->stopping) {
		buf_append_str(out, "ERR\ncairnd is shutting down\n");
		return;
	}
	if (master_reload(m, err, sizeof(err)) != 0) {
		buf_printf(out, "ERR\n%s\n", err);
		return;
	}
	buf_printf(out, "OK\nreloaded %s (generation %u)\n", m->config_path,
	    m->generation);
}

static void
client_request(struct master *m, struct control_client *c, size_t len)
{
	struct control_request req;
	const char *why;

	c->answering = true;
	if (control_parse_request(c->in, len, &req, &why) != 0) {
		log_warnx("control socket: bad request: %s", why);
		buf_printf(&c->out, "ERR\n%s\n", why);
		return;
	}
	switch (req.verb) {
	case CONTROL_WHO:
		answer_who(m, &c->out);
		break;
	case CONTROL_KICK:
		answer_kick(m, req.user, &c->out);
		break;
	case CONTROL_RELOAD:
		log_info("cairnctl reload");
		answer_reload(m, &c->out);
		break;
	case CONTROL_STATS:
		buf_append_str(&c->out, "OK\n");
		stats_format(m, &c->out);
		break;
	}
}

static void
client_read(struct master *m, struct control_client *c)
{
	ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len,
	    MSG_DONTWAIT);
	char *lf;

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		client_close(c);
		return;
	}
	c->in_len += (size_t)n;
	if ((lf = memchr(c->in, '\n', c->in_len)) != NULL) {
		client_request(m, c, (size_t)(lf - c->in));
		return;
	}
	if (c->in_len == sizeof(c->in)) {
		c->answering = true;
		buf_append_str(&c->out, "ERR\nrequest too long\n");
	}
}

static void
client_write(struct control_client *c)
{
	ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
	    MSG_DONTWAIT | MSG_NOSIGNAL);

	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off == c->out.len)
		client_close(c);
}

/* Root, or ourselves when privilege separation is off. */
static bool
peer_allowed(int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warn("control socket: SO_PEERCRED");
		return false;
	}
	if (cred.uid == 0 || cred.uid == geteuid())
		return true;
	log_warnx("control socket: refused uid %lu (pid %ld): root only",
	    (unsigned long)cred.uid, (long)cred.pid);
	return false;
}

static void
control_accept(void)
{
	static const char denied[] = "ERR\npermission denied: the control socket "
	    "is root's\n";
	static const char busy[] = "ERR\ntoo many control connections\n";
	struct control_client *slot = NULL;
	int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s", sock_path);
		return;
	}
	if (!peer_allowed(fd)) {
		(void)send(fd, denied, sizeof(denied) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS && slot == NULL; i++)
		if (clients[i].fd < 0)
			slot = &clients[i];
	if (slot == NULL) {
		(void)send(fd, busy, sizeof(busy) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
		close(fd);
		return;
	}
	memset(slot, 0, sizeof(*slot));
	slot->fd = fd;
	slot->deadline = now_ms() + CONTROL_TIMEOUT_MS;
}

void
control_handle(struct master *m, const struct pollfd *pfd, size_t n)
{
	int64_t now = now_ms();

	if (n == 0)
		return;
	for (size_t i = 0; i + 1 < n && i < CONTROL_MAX_CLIENTS; i++) {
		struct control_client *c = &clients[i];
		if (c->fd < 0 || pfd[i + 1].fd != c->fd)
			continue;
		if (pfd[i + 1].revents & (POLLERR | POLLNVAL)) {
			client_close(c);
			continue;
		}
		if (!c->answering && (pfd[i + 1].revents & (POLLIN | POLLHUP)))
			client_read(m, c);
		if (c->fd >= 0 && c->answering && (pfd[i + 1].revents &
		    (POLLOUT | POLLHUP)))
			client_write(c);
	}
	for (size_t i = 0; i < CONTROL_MAX_CLIENTS; i++)
		if (clients[i].fd >= 0 && now >= clients[i].deadline) {
			log_warnx("control socket: a client took too long: dropped");
			client_close(&clients[i]);
		}
	if (pfd[0].revents & POLLIN)
		control_accept();
}
