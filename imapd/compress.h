/*
 * COMPRESS=DEFLATE (RFC 4978): the two raw deflate streams of one
 * connection, client to server (inflate) and server to client (deflate),
 * as a layer that does no I/O.  conn.c reads wire bytes into it and takes
 * the client's plain bytes out, and hands it the server's plain bytes and
 * writes what comes out.  Memory is bounded on both sides: the wire bytes
 * wait in a fixed buffer, and inflation stops when the caller's buffer is
 * full, however much the input would expand.
 */
#ifndef CAIRN_COMPRESS_H
#define CAIRN_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Compressed bytes taken from the wire at a time (the buffer starts larger
 * when more came pipelined after COMPRESS: see compress_new()). */
#define COMPRESS_IN_BUF  4096
/* Compressed bytes handed out at a time: one whole TLS record. */
#define COMPRESS_OUT_BUF 16384

/* compress_in_take() */
#define COMPRESS_NEED_INPUT 0      /* every wire byte is used: read more */
#define COMPRESS_END        (-1)   /* the client ended its deflate stream */
#define COMPRESS_CORRUPT    (-2)   /* not a valid deflate stream */

/* compress_out_next() */
enum compress_out { COMPRESS_OUT_ERROR = -1, COMPRESS_OUT_DONE = 0, COMPRESS_OUT_MORE = 1 };

struct compress;

/*
 * Both streams, and a wire buffer that holds at least first_len bytes:
 * first, first_len are wire bytes that arrived with the COMPRESS command
 * (may be NULL, 0).  NULL when zlib cannot be set up (logged).
 */
struct compress *compress_new(const void *first, size_t first_len);
void compress_free(struct compress *z);

/* Client to server.  Where wire bytes may be read to: *room bytes at the
 * pointer (0 while bytes already there are not used up). */
unsigned char *compress_in_space(struct compress *z, size_t *room);
/* n bytes were read to compress_in_space(). */
void compress_in_added(struct compress *z, size_t n);
/* Inflate into buf: > 0 bytes, or COMPRESS_NEED_INPUT, COMPRESS_END, COMPRESS_CORRUPT. */
ssize_t compress_in_take(struct compress *z, void *buf, size_t len);
/* Can compress_in_take() give bytes without reading the wire? */
bool compress_in_pending(const struct compress *z);

/*
 * Server to client.  compress_out_put() hands over data (which must stay
 * as it is until compress_out_next() says DONE); then call
 * compress_out_next() until DONE, writing each *len bytes at *out (*len
 * may be 0).  sync: end with a sync flush (RFC 4978 §4), so the client can
 * read everything so far; else deflate may keep some back, to compress
 * better with what follows.
 */
void compress_out_put(struct compress *z, const void *data, size_t len, bool sync);
enum compress_out compress_out_next(struct compress *z, const unsigned char **out, size_t *len);

/* The reason of the last CORRUPT or ERROR. */
const char *compress_error(const struct compress *z);
/* Bytes zlib holds now, and at most, for both streams. */
size_t compress_memory(const struct compress *z);
size_t compress_memory_peak(const struct compress *z);
/* Plain and wire bytes so far: in (from the client), out (to it). */
void compress_totals(const struct compress *z, unsigned long long *in_plain,
    unsigned long long *in_wire, unsigned long long *out_plain,
    unsigned long long *out_wire);

#endif
