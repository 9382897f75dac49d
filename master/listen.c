/* The listening sockets, and accepting from them. */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "master.h"

#define LISTEN_BACKLOG 511

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
			out[n].fd = -1;
			out[n].kind = kinds[k];
			out[n].port = ports[k];
			snprintf(out[n].addr, sizeof(out[n].addr), "%s", cfg->bind_addrs[a]);
			n++;
		}
	}
	return n;
}

static int
listener_find(const struct listener *set, size_t n, const struct listener *want)
{
	for (size_t i = 0; i < n; i++)
		if (set[i].fd >= 0 && set[i].port == want->port &&
		    set[i].kind == want->kind && strcmp(set[i].addr, want->addr) == 0)
			return (int)i;
	return -1;
}

/*
 * Make *cur what cfg asks for.  A listener that stays keeps its socket (no
 * moment without it, no race with a child still holding a copy); new ones
 * are bound before any old one is closed, so on failure nothing changes.
 */
int
listeners_open(const struct cairn_config *cfg, struct listener *cur, size_t *n_cur,
    char *err, size_t errlen)
{
	struct listener want[MASTER_MAX_LISTENERS];
	bool kept[MASTER_MAX_LISTENERS] = { false };
	size_t n = listeners_wanted(cfg, want), usable = 0;

	for (size_t i = 0; i < n; i++) {
		int at = listener_find(cur, *n_cur, &want[i]);
		if (at >= 0) {
			want[i].fd = cur[at].fd;
			kept[at] = true;
			usable++;
			continue;
		}
		int rc = listener_bind(want[i].addr, want[i].port, &want[i].fd, err, errlen);
		if (rc < 0) {
			for (size_t j = 0; j < i; j++)
				if (want[j].fd >= 0 && listener_find(cur, *n_cur, &want[j]) < 0)
					close(want[j].fd);
			return -1;
		}
		if (rc > 0)
			log_warnx("%s (skipped)", err);
		else
			usable++;
	}
	if (usable == 0) {
		snprintf(err, errlen, "no listener could be opened");
		return -1;
	}
	for (size_t i = 0; i < *n_cur; i++)
		if (!kept[i] && cur[i].fd >= 0)
			close(cur[i].fd);
	*n_cur = 0;
	for (size_t i = 0; i < n; i++)
		if (want[i].fd >= 0)
			cur[(*n_cur)++] = want[i];
	return 0;
}

void
listeners_close(struct listener *l, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (l[i].fd >= 0)
			close(l[i].fd);
		l[i].fd = -1;
	}
}

/* Over max-connections: clear text gets a BYE; TLS a close (we never speak TLS). */
static void
listener_refuse(int fd, enum ipc_listener kind)
{
	static const char bye[] = "* BYE Too many connections, try again later\r\n";

	if (kind == IPC_LISTENER_PLAIN)
		(void)send(fd, bye, sizeof(bye) - 1, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
}

void
listener_accept(struct master *m, const struct listener *l)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);
	char addr[IPC_ADDR_LEN] = "unknown";
	unsigned port = 0;
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
	}
	if (m->stopping) {
		close(fd);
		return;
	}
	if (m->n_busy + m->n_pending >= m->cfg->max_connections) {
		log_warnx("max-connections (%u) reached: refusing %s port %u",
		    m->cfg->max_connections, addr, port);
		listener_refuse(fd, l->kind);
		return;
	}
	pool_dispatch(m, fd, l->kind, addr, port);
}
