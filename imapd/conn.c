#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>

#include "conn.h"
#include "tls.h"
#include "xmalloc.h"

#define CONN_OUT_FLUSH_AT (64 * 1024)

void
conn_init(struct conn *c, int rfd, int wfd)
{
	memset(c, 0, sizeof(*c));
	c->rfd = rfd;
	c->wfd = wfd;
	c->write_timeout_ms = 60 * 1000;
	/* Sockets go non-blocking; a pipe in -S mode is left as it is. */
	int type;
	socklen_t len = sizeof(type);
	if (getsockopt(rfd, SOL_SOCKET, SO_TYPE, &type, &len) == 0) {
		int fl = fcntl(rfd, F_GETFL), one = 1;
		if (fl >= 0)
			(void)fcntl(rfd, F_SETFL, fl | O_NONBLOCK);
		/* Replies leave whole from our buffer; Nagle would only hold a
		 * second small write (TLS tickets, then the greeting) until the
		 * client's delayed ACK, 40 ms later (measured: bench/README.md). */
		(void)setsockopt(rfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
}

static long
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; CONN_OK when ready. */
static int
conn_wait(int fd, short events, long deadline)
{
	for (;;) {
		long left = deadline - now_ms();
		struct pollfd p = { .fd = fd, .events = events };
		if (left <= 0)
			return CONN_TIMEOUT;
		int n = poll(&p, 1, (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CONN_ERROR;
		if (n > 0)
			return (p.revents & (POLLERR | POLLNVAL)) ? CONN_ERROR : CONN_OK;
	}
}

ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	if (c->ssl != NULL) {
		size_t got = 0;
		c->want_write = false;
		ERR_clear_error();
		if (SSL_read_ex(c->ssl, buf, len, &got) == 1)
			return (ssize_t)got;
		switch (SSL_get_error(c->ssl, 0)) {
		case SSL_ERROR_WANT_READ:
			return CONN_AGAIN;
		case SSL_ERROR_WANT_WRITE:
			c->want_write = true;
			return CONN_AGAIN;
		case SSL_ERROR_ZERO_RETURN:
			return CONN_EOF;
		default:
			log_debug("TLS read: %s", tls_error_string());
			return CONN_ERROR;
		}
	}
	ssize_t n = read(c->rfd, buf, len);
	if (n > 0)
		return n;
	if (n == 0)
		return CONN_EOF;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_AGAIN;
	if (errno != ECONNRESET)
		log_debug("read: %s", strerror(errno));
	return CONN_ERROR;
}

bool
conn_has_buffered_input(const struct conn *c)
{
	return c->ssl != NULL && SSL_pending(c->ssl) > 0;
}

short
conn_read_events(const struct conn *c)
{
	return c->want_write ? POLLOUT : POLLIN;
}

int
conn_write(struct conn *c, const void *data, size_t len)
{
	if (c->out_len + len > c->out_cap) {
		size_t cap = c->out_cap ? c->out_cap : 4096;
		while (cap < c->out_len + len)
			cap *= 2;
		c->out = xreallocarray(c->out, cap, 1);
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, data, len);
	c->out_len += len;
	if (c->out_len >= CONN_OUT_FLUSH_AT)
		return conn_flush(c);
	return CONN_OK;
}

int
conn_printf(struct conn *c, const char *fmt, ...)
{
	char buf[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return CONN_ERROR;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;  /* only server-made text goes here */
	return conn_write(c, buf, (size_t)n);
}

/* One write attempt: bytes written, or a negative enum conn_result. */
static ssize_t
conn_write_some(struct conn *c, const unsigned char *p, size_t len, short *wait_for)
{
	*wait_for = POLLOUT;
	if (c->ssl != NULL) {
		size_t done = 0;
		ERR_clear_error();
		if (SSL_write_ex(c->ssl, p, len, &done) == 1)
			return (ssize_t)done;
		switch (SSL_get_error(c->ssl, 0)) {
		case SSL_ERROR_WANT_READ:
			*wait_for = POLLIN;
			return CONN_AGAIN;
		case SSL_ERROR_WANT_WRITE:
			return CONN_AGAIN;
		default:
			log_debug("TLS write: %s", tls_error_string());
			return CONN_ERROR;
		}
	}
	ssize_t n = write(c->wfd, p, len);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return CONN_AGAIN;
	return CONN_ERROR;
}

int
conn_flush(struct conn *c)
{
	long deadline = now_ms() + c->write_timeout_ms;
	size_t off = 0;

	while (off < c->out_len) {
		short wait_for;
		ssize_t n = conn_write_some(c, c->out + off, c->out_len - off, &wait_for);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n != CONN_AGAIN) {
			c->out_len = 0;
			return CONN_ERROR;
		}
		int w = conn_wait(wait_for == POLLIN ? c->rfd : c->wfd, wait_for, deadline);
		if (w != CONN_OK) {
			c->out_len = 0;
			return w;
		}
	}
	c->out_len = 0;
	return CONN_OK;
}

int
conn_start_tls(struct conn *c, SSL_CTX *ctx, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	if ((c->ssl = SSL_new(ctx)) == NULL || SSL_set_fd(c->ssl, c->rfd) != 1) {
		log_warnx("TLS: %s", tls_error_string());
		return CONN_ERROR;
	}
	for (;;) {
		ERR_clear_error();
		int rc = SSL_accept(c->ssl);
		if (rc == 1)
			break;
		int err = SSL_get_error(c->ssl, rc);
		short ev;
		if (err == SSL_ERROR_WANT_READ)
			ev = POLLIN;
		else if (err == SSL_ERROR_WANT_WRITE)
			ev = POLLOUT;
		else {
			log_info("TLS handshake failed: %s", err == SSL_ERROR_SYSCALL ||
			    err == SSL_ERROR_ZERO_RETURN ? "connection closed by the client"
			    : tls_error_string());
			return CONN_ERROR;
		}
		int w = conn_wait(c->rfd, ev, deadline);
		if (w != CONN_OK) {
			log_info("TLS handshake %s", w == CONN_TIMEOUT ? "timed out" : "failed");
			return w;
		}
	}
	log_debug("TLS established: %s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	return CONN_OK;
}

bool
conn_is_tls(const struct conn *c)
{
	return c->ssl != NULL;
}

void
conn_close(struct conn *c)
{
	if (c->ssl != NULL) {
		(void)SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0 && c->wfd != c->rfd)
		close(c->wfd);
	c->rfd = c->wfd = -1;
	free(c->out);
	c->out = NULL;
	c->out_len = c->out_cap = 0;
}
