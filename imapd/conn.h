/*
 * The client connection: bytes in and out, in clear text or TLS, with
 * buffered output, and once the client asks, compressed inside TLS
 * (COMPRESS, compress.h).  Socket descriptors are non-blocking and every
 * wait goes through poll() with a deadline, so a silent or stalled peer
 * can never hang the process.
 */
#ifndef CAIRN_CONN_H
#define CAIRN_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "log.h"

enum conn_result {
	CONN_OK = 0,
	CONN_AGAIN = -1,     /* nothing to read now */
	CONN_EOF = -2,       /* peer closed */
	CONN_ERROR = -3,     /* I/O or TLS failure: the connection is unusable */
	CONN_TIMEOUT = -4,
	CONN_BAD_DATA = -5,  /* the client's compressed stream is invalid */
};

struct compress;

/*
 * The output buffer's bound: a write that would pass it sends what is
 * buffered first, blocking (up to write_timeout_ms) while the client does
 * not read.  So a response of any size, and a client that sends commands
 * and never reads, cost at most this much memory.
 */
#define CONN_OUT_MAX (64 * 1024)

struct conn {
	int rfd, wfd;        /* one socket, or stdin/stdout in -S mode */
	SSL *ssl;
	bool want_write;     /* TLS read needs the socket writable */
	unsigned char *out;  /* at most CONN_OUT_MAX bytes, however much is written */
	size_t out_len, out_cap;
	int write_timeout_ms;
	int broken;          /* 0, or the enum conn_result that ended writing */
	struct compress *z;  /* COMPRESS=DEFLATE; NULL until the client asks */
	/* IMAP bytes, before COMPRESS and TLS (cairnctl stats) */
	uint64_t bytes_in, bytes_out;
};

void conn_init(struct conn *c, int rfd, int wfd);
/* >0: bytes read; else an enum conn_result. */
ssize_t conn_read(struct conn *c, void *buf, size_t len);
/* Bytes TLS has decrypted but not handed out yet. */
bool conn_has_buffered_input(const struct conn *c);
/* poll() events to wait for before the next conn_read(). */
short conn_read_events(const struct conn *c);
/*
 * Buffer len bytes, sending as the buffer fills.  Once a send failed or
 * timed out the connection is broken: every later write and flush returns
 * that error at once (a reply with a hole in it must not go on).
 */
int conn_write(struct conn *c, const void *data, size_t len);
int conn_printf(struct conn *c, const char *fmt, ...) CAIRN_PRINTF(2, 3);
int conn_flush(struct conn *c);
/* Did a send fail or time out (the client stopped reading)? */
bool conn_broken(const struct conn *c);
/* Server side TLS handshake, waiting at most timeout_ms. */
int conn_start_tls(struct conn *c, SSL_CTX *ctx, int timeout_ms);
bool conn_is_tls(const struct conn *c);
/*
 * COMPRESS=DEFLATE (RFC 4978): flush what is buffered as it is, then
 * deflate everything written and inflate everything read.  pending, len:
 * bytes already read that came after the command, compressed already.
 */
int conn_start_compress(struct conn *c, const void *pending, size_t len);
bool conn_is_compressed(const struct conn *c);
void conn_close(struct conn *c);

#endif
