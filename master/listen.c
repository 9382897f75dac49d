/*
 * The listening sockets, and accepting from them: IMAP on bind-port and
 * bind-port-tls of each bind-addr, LMTP on lmtp-port of each lmtp-bind,
 * and LMTP on the Unix socket lmtp-socket.
 */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define LISTEN_BACKLOG 511

enum service
listener_service(enum ipc_listener kind)
{
	return kind == IPC_LISTENER_LMTP || kind == IPC_LISTENER_LMTP_TCP ?
	    SERVICE_LMTP : SERVICE_IMAP;
}

static int
listener_bind(const char *addr, unsigned port, int *fd_out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		sslen = sizeof(*sin);
	} else if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		sslen = sizeof(*sin6);
	} else {
		snprintf(err, errlen, "%s is not an IP address", addr);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket for %s: %s", addr, strerror(errno));
		return errno == EAFNOSUPPORT ? 1 : -1;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* "::" and "0.0.0.0" on one port are two sockets, not one dual stack. */
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sslen) != 0 || listen(fd, LISTEN_BACKLOG) != 0) {
		int saved = errno;
		snprintf(err, errlen, "cannot listen on %s%s%s port %u: %s",
		    ss.ss_family == AF_INET6 ? "[" : "", addr,
		    ss.ss_family == AF_INET6 ? "]" : "", port, strerror(saved));
		close(fd);
		/* A host without IPv6 still serves IPv4. */
		return (saved == EADDRNOTAVAIL && ss.ss_family == AF_INET6) ? 1 : -1;
	}
	*fd_out = fd;
	return 0;
}

static void
unix_address(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path) + 1);  /* fits: checked */
}

/* Does a process still accept on the socket at path? */
static bool
unix_socket_live(const char *path)
{
	struct sockaddr_un sun;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	unix_address(&sun, path);
	live = connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0 ||
	    errno == EAGAIN || errno == EINPROGRESS;
	close(fd);
	return live;
}

/* A socket file left by an earlier cairnd goes; anything else stays. */
static int
unix_remove_stale(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "lmtp-socket %s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "lmtp-socket %s exists and is not a socket: "
		    "not removing it", path);
		return -1;
	}
	if (unix_socket_live(path)) {
		snprintf(err, errlen, "lmtp-socket %s is in use by another process",
		    path);
		return -1;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		snprintf(err, errlen, "cannot remove the old socket %s: %s", path,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Owner root (when we are root), group lmtp-group, mode 0660: the MTA
 * (Postfix: lmtp-group = "postfix") may connect, nobody else.
 */
static int
unix_set_owner(const struct listener *l, gid_t gid, bool privsep, char *err,
    size_t errlen)
{
	if (chown(l->path, privsep ? 0 : (uid_t)-1, gid) != 0) {
		if (privsep) {
			snprintf(err, errlen, "chown %s: %s", l->path, strerror(errno));
			return -1;
		}
		log_warnx("lmtp-socket %s: cannot give it to group %lu (%s): "
		    "leaving it as it is", l->path, (unsigned long)gid,
		    strerror(errno));
	}
	if (chmod(l->path, 0660) != 0) {
		snprintf(err, errlen, "chmod %s: %s", l->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
unix_bind(struct listener *l, gid_t gid, bool privsep, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (unix_remove_stale(l->path, err, errlen) != 0)
		return -1;
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		snprintf(err, errlen, "socket for %s: %s", l->path, strerror(errno));
		return -1;
	}
	unix_address(&sun, l->path);
	/* made 0600 and then opened up: never wider than it ends up */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(fd, LISTEN_BACKLOG) != 0 || lstat(l->path, &st) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", l->path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	l->fd = fd;
	l->ino = st.st_ino;
	if (unix_set_owner(l, gid, privsep, err, errlen) != 0) {
		listeners_close(l, 1);
		return -1;
	}
	return 0;
}

/* lmtp-group's id; a missing group is an error the admin must fix. */
static int
lmtp_gid(const struct cairn_config *cfg, bool privsep, gid_t *gid, char *err,
    size_t errlen)
{
	struct group *gr;

	errno = 0;
	if ((gr = getgrnam(cfg->lmtp_group)) != NULL) {
		*gid = gr->gr_gid;
		return 0;
	}
	if (!privsep) {
		*gid = getgid();
		return 0;
	}
	snprintf(err, errlen, "lmtp-group '%s' does not exist: create it, or set "
	    "lmtp-group to the group of the mail transfer agent", cfg->lmtp_group);
	return -1;
}

static size_t
listener_add(struct listener *out, size_t n, enum ipc_listener kind,
    const char *addr, unsigned port)
{
	memset(&out[n], 0, sizeof(out[n]));
	out[n].fd = -1;
	out[n].kind = kind;
	out[n].port = port;
	snprintf(out[n].addr, sizeof(out[n].addr), "%s", addr);
	return n + 1;
}

/* The listeners a configuration asks for, fds not yet opened. */
static size_t
listeners_wanted(const struct cairn_config *cfg, struct listener *out)
{
	const unsigned ports[2] = { cfg->bind_port, cfg->bind_port_tls };
	const enum ipc_listener kinds[2] = { IPC_LISTENER_PLAIN, IPC_LISTENER_TLS };
	size_t n = 0;

	for (size_t a = 0; a < cfg->n_bind_addrs; a++) {
		for (int k = 0; k < 2; k++) {
			if (ports[k] == 0)
				continue;
			if (kinds[k] == IPC_LISTENER_TLS && !config_tls_enabled(cfg))
				continue;
			n = listener_add(out, n, kinds[k], cfg->bind_addrs[a], ports[k]);
		}
	}
	for (size_t a = 0; a < cfg->n_lmtp_bind_addrs; a++)
		n = listener_add(out, n, IPC_LISTENER_LMTP_TCP, cfg->lmtp_bind_addrs[a],
		    cfg->lmtp_port);
	n = listener_add(out, n, IPC_LISTENER_LMTP, "local", 0);
	snprintf(out[n - 1].path, sizeof(out[n - 1].path), "%s", cfg->lmtp_socket);
	return n;
}

static int
listener_find(const struct listener *set, size_t n, const struct listener *want)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].fd >= 0 && set[i].port == want->port &&
		    set[i].kind == want->kind && strcmp(set[i].addr, want->addr) == 0 &&
		    strcmp(set[i].path, want->path) == 0)
			return (int)i;
	return -1;
}

/* Bind one wanted listener: 0, 1 (skipped: no IPv6 here), -1. */
static int
listener_open_one(struct listener *l, gid_t gid, bool privsep, char *err,
    size_t errlen)
{
	if (l->kind != IPC_LISTENER_LMTP)
		return listener_bind(l->addr, l->port, &l->fd, err, errlen);
	return unix_bind(l, gid, privsep, err, errlen);
}

/*
 * Make *cur what cfg asks for.  A listener that stays keeps its socket (no
 * moment without it, no race with a child still holding a copy); new ones
 * are bound before any old one is closed, so on failure nothing changes.
 * The LMTP socket that stays gets lmtp-group again (it may have changed).
 */
int
listeners_open(const struct cairn_config *cfg, bool privsep, struct listener *cur,
    size_t *n_cur, char *err, size_t errlen)
{
	struct listener want[MASTER_MAX_LISTENERS];
	bool kept[MASTER_MAX_LISTENERS] = { false };
	size_t n, usable = 0;
	gid_t gid;

	if (strlen(cfg->lmtp_socket) >= LISTENER_PATH_MAX) {
		snprintf(err, errlen, "lmtp-socket %s: longer than the %zu bytes a "
		    "socket's path may have", cfg->lmtp_socket, LISTENER_PATH_MAX - 1);
		return -1;
	}
	if (lmtp_gid(cfg, privsep, &gid, err, errlen) != 0)
		return -1;
	n = listeners_wanted(cfg, want);
	for (size_t i = 0; i < n; i++) {
		int at = listener_find(cur, *n_cur, &want[i]), rc;
		if (at >= 0) {
			want[i] = cur[at];
			kept[at] = true;
			usable++;
			if (want[i].kind == IPC_LISTENER_LMTP &&
			    unix_set_owner(&want[i], gid, privsep, err, errlen) != 0)
				rc = -1;
			else
				continue;
		} else {
			rc = listener_open_one(&want[i], gid, privsep, err, errlen);
		}
		if (rc < 0) {
			for (size_t j = 0; j < i; j++)
				if (want[j].fd >= 0 && listener_find(cur, *n_cur, &want[j]) < 0)
					listeners_close(&want[j], 1);
			return -1;
		}
		if (rc > 0)
			log_warnx("%s (skipped)", err);
		else
			usable++;
	}
	for (size_t i = 0; i < *n_cur; i++)
		if (!kept[i] && cur[i].fd >= 0)
			listeners_close(&cur[i], 1);
	*n_cur = 0;
	for (size_t i = 0; i < n; i++)
		if (want[i].fd >= 0)
			cur[(*n_cur)++] = want[i];
	return 0;
}

void
listeners_close(struct listener *l, size_t n)
{
	struct stat st;

	for (size_t i = 0; i < n; i++) {
		if (l[i].fd >= 0)
			close(l[i].fd);
		l[i].fd = -1;
		/* the socket file too, if it is still the one we made */
		if (l[i].kind == IPC_LISTENER_LMTP && l[i].path[0] != '\0' &&
		    lstat(l[i].path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    st.st_ino == l[i].ino)
			(void)unlink(l[i].path);
	}
}

/*
 * Over a limit: clear-text IMAP gets a BYE, LMTP a 421 (the MTA tries
 * again later), TLS a close (we never speak TLS).
 */
static void
listener_refuse(int fd, enum ipc_listener kind, const char *why)
{
	char bye[128];
	static const char lmtp[] = "421 4.3.2 Too many connections, try again later\r\n";
	int n;

	if (kind == IPC_LISTENER_PLAIN) {
		n = snprintf(bye, sizeof(bye), "* BYE %s, try again later\r\n", why);
		if (n > 0 && (size_t)n < sizeof(bye))
			(void)send(fd, bye, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	} else if (listener_service(kind) == SERVICE_LMTP)
		(void)send(fd, lmtp, sizeof(lmtp) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

/*
 * IMAP connections from addr that have not logged in: sessions whose
 * child holds no user yet, and connections still waiting for a child.
 * A walk over the children: at max-connections (100000 at most) this is
 * cheap next to the fork and exec each connection costs.
 */
static unsigned
listener_unauthenticated_from(const struct master *m, const char *addr)
{
	unsigned n = 0;

	for (const struct child *c = m->children; c != NULL; c = c->next)
		if (c->kind == CHILD_IMAPD && c->state == CHILD_BUSY &&
		    c->user[0] == '\0' && strcmp(c->peer_addr, addr) == 0)
			n++;
	for (const struct pending_conn *p = m->pending[SERVICE_IMAP].head; p != NULL;
	    p = p->next)
		if (strcmp(p->addr, addr) == 0)
			n++;
	return n;
}

/* Is there room for one more connection of this kind?  NULL, or why not. */
static const char *
listener_room(const struct master *m, enum ipc_listener kind, const char *addr,
    unsigned port)
{
	unsigned limit = m->cfg->max_unauth_per_address;

	if (listener_service(kind) == SERVICE_LMTP) {
		if (m->n_lmtp_busy + m->pending[SERVICE_LMTP].n <
		    LMTPD_MAX + LMTP_QUEUE_MAX)
			return NULL;
		log_warnx("%u LMTP connections: refusing %s", LMTPD_MAX +
		    LMTP_QUEUE_MAX, addr);
		return "Too many connections";
	}
	if (m->n_busy + m->pending[SERVICE_IMAP].n >= m->cfg->max_connections) {
		log_warnx("max-connections (%u) reached: refusing %s port %u",
		    m->cfg->max_connections, addr, port);
		return "Too many connections";
	}
	/* one address must not hold every connection before logging in */
	if (limit != 0 && listener_unauthenticated_from(m, addr) >= limit) {
		log_warnx("max-unauthenticated-per-address (%u) reached for %s: "
		    "refusing port %u", limit, addr, port);
		return "Too many connections from your address that have not "
		    "logged in";
	}
	return NULL;
}

void
listener_accept(struct master *m, const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char addr[IPC_ADDR_LEN] = "unknown";
	unsigned port = 0;
	const char *why;
	int fd;

	fd = accept4(l->fd, (struct sockaddr *)&ss, &sslen, SOCK_CLOEXEC);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			log_warn("accept on %s port %u", l->addr, l->port);
		return;
	}
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
		inet_ntop(AF_INET, &sin->sin_addr, addr, sizeof(addr));
		port = ntohs(sin->sin_port);
	} else if (ss.ss_family == AF_INET6) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, addr, sizeof(addr));
		port = ntohs(sin6->sin6_port);
	} else if (ss.ss_family == AF_UNIX) {
		snprintf(addr, sizeof(addr), "local");
	}
	if (m->stopping) {
		close(fd);
		return;
	}
	if ((why = listener_room(m, l->kind, addr, port)) != NULL) {
		listener_refuse(fd, l->kind, why);
		return;
	}
	pool_dispatch(m, fd, l->kind, addr, port);
}
