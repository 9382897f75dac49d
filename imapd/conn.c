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

#include "compress.h"
#include "conn.h"
#include "tls.h"
#include "xmalloc.h"

static int conn_drain(struct conn *c, bool sync);

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

/* Bytes off the wire (TLS decrypted): >0, or an enum conn_result. */
static ssize_t
conn_read_raw(struct conn *c, void *buf, size_t len)
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

/*
 * Inflate into buf, reading the wire only when every byte read so far is
 * used up.  At most len bytes come out of one call however much the input
 * expands: a small stream that inflates to gigabytes costs no memory.
 */
static ssize_t
conn_read_inflate(struct conn *c, void *buf, size_t len)
{
	for (;;) {
		ssize_t n = compress_in_take(c->z, buf, len);
		if (n > 0)
			return n;
		if (n == COMPRESS_END)
			return CONN_EOF;
		if (n == COMPRESS_CORRUPT) {
			log_info("COMPRESS: bad data from the client: %s",
			    compress_error(c->z));
			return CONN_BAD_DATA;
		}
		size_t room;
		unsigned char *p = compress_in_space(c->z, &room);
		if ((n = conn_read_raw(c, p, room)) <= 0)
			return n;
		compress_in_added(c->z, (size_t)n);
	}
}

ssize_t
conn_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n = c->z != NULL ? conn_read_inflate(c, buf, len)
	    : conn_read_raw(c, buf, len);

	if (n > 0)
		c->bytes_in += (uint64_t)n;
	return n;
}

bool
conn_has_buffered_input(const struct conn *c)
{
	return (c->ssl != NULL && SSL_pending(c->ssl) > 0) ||
	    (c->z != NULL && compress_in_pending(c->z));
}

short
conn_read_events(const struct conn *c)
{
	return c->want_write ? POLLOUT : POLLIN;
}

int
conn_write(struct conn *c, const void *data, size_t len)
{
	const unsigned char *p = data;

	if (c->broken)
		return c->broken;
	if (c->out == NULL) {
		c->out = xmalloc(CONN_OUT_MAX);
		c->out_cap = CONN_OUT_MAX;
	}
	while (len > 0) {
		size_t n = c->out_cap - c->out_len;

		if (n > len)
			n = len;
		memcpy(c->out + c->out_len, p, n);
		c->out_len += n;
		c->bytes_out += n;
		p += n;
		len -= n;
		if (c->out_len == c->out_cap) {
			int rc = conn_drain(c, false);
			if (rc != CONN_OK)
				return rc;
		}
	}
	return CONN_OK;
}

bool
conn_broken(const struct conn *c)
{
	return c->broken != 0;
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

/* Write all of p[0..len) by the deadline. */
static int
conn_send(struct conn *c, const unsigned char *p, size_t len, long deadline)
{
	size_t off = 0;

	while (off < len) {
		short wait_for;
		ssize_t n = conn_write_some(c, p + off, len - off, &wait_for);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n != CONN_AGAIN)
			return CONN_ERROR;
		int w = conn_wait(wait_for == POLLIN ? c->rfd : c->wfd, wait_for, deadline);
		if (w != CONN_OK)
			return w;
	}
	return CONN_OK;
}

/* Deflate the output buffer and send what comes out. */
static int
conn_send_deflated(struct conn *c, bool sync, long deadline)
{
	enum compress_out r;

	compress_out_put(c->z, c->out, c->out_len, sync);
	do {
		const unsigned char *p;
		size_t n;
		int w;

		if ((r = compress_out_next(c->z, &p, &n)) == COMPRESS_OUT_ERROR) {
			log_warnx("COMPRESS: %s", compress_error(c->z));
			return CONN_ERROR;
		}
		if (n > 0 && (w = conn_send(c, p, n, deadline)) != CONN_OK)
			return w;
	} while (r == COMPRESS_OUT_MORE);
	return CONN_OK;
}

/*
 * Send the output buffer.  sync: the client must be able to read all of
 * it now (a flush); else deflate may keep back the end of a response that
 * is still being written, which compresses better.
 */
static int
conn_drain(struct conn *c, bool sync)
{
	long deadline = now_ms() + c->write_timeout_ms;
	int rc;

	if (c->broken)
		return c->broken;
	if (c->z != NULL)
		rc = conn_send_deflated(c, sync, deadline);
	else
		rc = conn_send(c, c->out, c->out_len, deadline);
	c->out_len = 0;
	if (rc != CONN_OK) {
		/* what was not sent is gone: nothing more may follow it */
		c->broken = rc;
		log_info("%s", rc == CONN_TIMEOUT ? "the client reads nothing: "
		    "writing timed out, closing" : "writing to the client failed");
	}
	return rc;
}

/* RFC 4978 §4: a sync flush at each flush, so the client gets each reply. */
int
conn_flush(struct conn *c)
{
	return conn_drain(c, true);
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

int
conn_start_compress(struct conn *c, const void *pending, size_t len)
{
	int rc;

	/* RFC 4978 §3: the tagged OK goes out as it is, the next byte compressed */
	if ((rc = conn_flush(c)) != CONN_OK)
		return rc;
	if ((c->z = compress_new(pending, len)) == NULL)
		return CONN_ERROR;
	return CONN_OK;
}

bool
conn_is_compressed(const struct conn *c)
{
	return c->z != NULL;
}

/* What compression did, for the admin deciding whether it is worth it. */
static void
conn_log_compress(const struct conn *c)
{
	unsigned long long in_plain, in_wire, out_plain, out_wire;

	compress_totals(c->z, &in_plain, &in_wire, &out_plain, &out_wire);
	log_debug("COMPRESS: %llu bytes in from %llu on the wire, %llu out as %llu; "
	    "zlib held at most %zu bytes", in_plain, in_wire, out_plain, out_wire,
	    compress_memory_peak(c->z));
}

void
conn_close(struct conn *c)
{
	if (c->z != NULL) {
		conn_log_compress(c);
		compress_free(c->z);
		c->z = NULL;
	}
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
