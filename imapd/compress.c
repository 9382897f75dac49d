/* COMPRESS=DEFLATE (RFC 4978): the deflate layer of a connection, no I/O. */
#include "autoconfig.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ZLIB_CONST
#include <zlib.h>

#include "compress.h"
#include "log.h"
#include "xmalloc.h"

/*
 * What the server sends is compressed with a 4 KiB window and memLevel 5:
 * about 39 KB of zlib state instead of the 262 KB of zlib's defaults.
 * IMAP responses repeat within a few lines and compress as well with it,
 * long message text somewhat less (measured: FETCH responses to 5.2% of
 * their size either way; a corpus of licence texts to 36% instead of 23%).
 * What the client sends is inflated with the largest window (32 KiB, 40 KB
 * in all): raw deflate does not say which window the sender used, and the
 * RFC leaves the client free to use any (RFC 4978 §4).
 */
#define COMPRESS_LEVEL       Z_DEFAULT_COMPRESSION
#define COMPRESS_OUT_WBITS   12
#define COMPRESS_OUT_MEMLEVEL 5
#define COMPRESS_IN_WBITS    15

struct compress {
	z_stream in, out;
	bool in_init, out_init;
	bool in_full;                /* the last inflate filled the caller's buffer */
	bool in_ended;               /* the client's stream came to its end */
	bool in_failed, out_failed;  /* a stream is broken: error says why */
	unsigned char *in_buf;       /* wire bytes, the unused ones in [in_off, in_len) */
	size_t in_off, in_len, in_cap;
	const unsigned char *out_next;  /* plain bytes not deflated yet */
	size_t out_left;
	int out_flush;               /* Z_SYNC_FLUSH or Z_NO_FLUSH, for the last of them */
	bool out_busy;               /* compress_out_next() has more to do */
	bool out_dirty;              /* deflated since the last sync flush */
	size_t mem, mem_peak;
	char error[128];
	unsigned char out_buf[COMPRESS_OUT_BUF];
};

/* zlib's allocations, counted: what compression costs a session. */
union compress_chunk {
	size_t size;
	max_align_t align;
};

static voidpf
compress_zalloc(voidpf opaque, uInt items, uInt size)
{
	struct compress *z = opaque;
	union compress_chunk *c;
	size_t n;

	if (size != 0 && items > (SIZE_MAX - sizeof(*c)) / size)
		return Z_NULL;
	n = (size_t)items * size;
	if ((c = malloc(sizeof(*c) + n)) == NULL)
		return Z_NULL;
	c->size = n;
	z->mem += n;
	if (z->mem > z->mem_peak)
		z->mem_peak = z->mem;
	return c + 1;
}

static void
compress_zfree(voidpf opaque, voidpf p)
{
	struct compress *z = opaque;
	union compress_chunk *c = (union compress_chunk *)p - 1;

	if (p == Z_NULL)
		return;
	z->mem -= c->size;
	free(c);
}

static void
compress_fail(struct compress *z, const char *what, const z_stream *zs, int rc)
{
	snprintf(z->error, sizeof(z->error), "%s: %s", what,
	    zs->msg != NULL ? zs->msg : zError(rc));
}

struct compress *
compress_new(const void *first, size_t first_len)
{
	struct compress *z = xcalloc(1, sizeof(*z));
	int rc;

	z->in_cap = first_len > COMPRESS_IN_BUF ? first_len : COMPRESS_IN_BUF;
	z->in_buf = xmalloc(z->in_cap);
	if (first_len > 0)
		memcpy(z->in_buf, first, first_len);
	z->in_len = first_len;
	z->in.zalloc = z->out.zalloc = compress_zalloc;
	z->in.zfree = z->out.zfree = compress_zfree;
	z->in.opaque = z->out.opaque = z;
	/* negative window bits: raw deflate, no zlib header (RFC 4978 §3) */
	if ((rc = inflateInit2(&z->in, -COMPRESS_IN_WBITS)) != Z_OK) {
		log_warnx("COMPRESS: inflateInit2: %s", zError(rc));
		compress_free(z);
		return NULL;
	}
	z->in_init = true;
	if ((rc = deflateInit2(&z->out, COMPRESS_LEVEL, Z_DEFLATED, -COMPRESS_OUT_WBITS,
	    COMPRESS_OUT_MEMLEVEL, Z_DEFAULT_STRATEGY)) != Z_OK) {
		log_warnx("COMPRESS: deflateInit2: %s", zError(rc));
		compress_free(z);
		return NULL;
	}
	z->out_init = true;
	return z;
}

void
compress_free(struct compress *z)
{
	if (z == NULL)
		return;
	if (z->in_init)
		(void)inflateEnd(&z->in);
	if (z->out_init)
		(void)deflateEnd(&z->out);
	free(z->in_buf);
	free(z);
}

unsigned char *
compress_in_space(struct compress *z, size_t *room)
{
	if (z->in_off > 0) {
		memmove(z->in_buf, z->in_buf + z->in_off, z->in_len - z->in_off);
		z->in_len -= z->in_off;
		z->in_off = 0;
	}
	*room = z->in_cap - z->in_len;
	return z->in_buf + z->in_len;
}

void
compress_in_added(struct compress *z, size_t n)
{
	if (n > z->in_cap - z->in_len)
		fatalx("compress_in_added: %zu bytes in a room of %zu", n,
		    z->in_cap - z->in_len);
	z->in_len += n;
}

/* One inflate call into buf; in_failed when the stream is broken. */
static void
compress_inflate(struct compress *z, void *buf, size_t len, size_t *used, size_t *made)
{
	size_t avail = z->in_len - z->in_off;
	int rc;

	z->in.next_in = z->in_buf + z->in_off;
	z->in.avail_in = (uInt)avail;       /* in_cap: a few KiB */
	z->in.next_out = buf;
	z->in.avail_out = (uInt)len;
	rc = inflate(&z->in, Z_SYNC_FLUSH);
	*used = avail - z->in.avail_in;
	*made = len - z->in.avail_out;
	z->in_off += *used;
	if (z->in_off == z->in_len)
		z->in_off = z->in_len = 0;
	/* a full buffer: inflate may hold more for the next call */
	z->in_full = z->in.avail_out == 0;
	switch (rc) {
	case Z_OK:
	case Z_BUF_ERROR:     /* no progress possible: needs input */
		break;
	case Z_STREAM_END:
		z->in_ended = true;
		z->in_full = false;
		break;
	default:              /* Z_DATA_ERROR, Z_NEED_DICT, Z_MEM_ERROR */
		compress_fail(z, "inflate", &z->in, rc);
		z->in_failed = true;
		z->in_full = false;
		break;
	}
}

ssize_t
compress_in_take(struct compress *z, void *buf, size_t len)
{
	size_t used, made;

	if (len > UINT_MAX)
		len = UINT_MAX;
	if (len > SSIZE_MAX)
		len = SSIZE_MAX;
	for (;;) {
		if (z->in_failed)
			return COMPRESS_CORRUPT;
		if (z->in_ended)
			return COMPRESS_END;
		if (len == 0)
			return COMPRESS_NEED_INPUT;
		compress_inflate(z, buf, len, &used, &made);
		/* what came before a bad byte is the client's: the error is next */
		if (made > 0)
			return (ssize_t)made;
		if (z->in_len == 0 && !z->in_ended && !z->in_failed)
			return COMPRESS_NEED_INPUT;
		/* input left, room in buf, nothing made: zlib never does that */
		if (used == 0 && !z->in_ended && !z->in_failed) {
			snprintf(z->error, sizeof(z->error), "inflate made no progress");
			z->in_failed = true;
		}
	}
}

bool
compress_in_pending(const struct compress *z)
{
	return z->in_full || z->in_len > z->in_off || z->in_ended || z->in_failed;
}

void
compress_out_put(struct compress *z, const void *data, size_t len, bool sync)
{
	z->out_next = data;
	z->out_left = len;
	z->out_flush = sync ? Z_SYNC_FLUSH : Z_NO_FLUSH;
	if (len > 0)
		z->out_dirty = true;
	/* a sync flush with nothing new since the last one has nothing to say */
	z->out_busy = len > 0 || (sync && z->out_dirty);
}

enum compress_out
compress_out_next(struct compress *z, const unsigned char **out, size_t *len)
{
	uInt chunk = z->out_left > UINT_MAX ? UINT_MAX : (uInt)z->out_left;
	bool last = chunk == z->out_left;
	int rc;

	*out = z->out_buf;
	*len = 0;
	if (z->out_failed)
		return COMPRESS_OUT_ERROR;
	if (!z->out_busy)
		return COMPRESS_OUT_DONE;
	z->out.next_in = z->out_next;
	z->out.avail_in = chunk;
	z->out.next_out = z->out_buf;
	z->out.avail_out = sizeof(z->out_buf);
	rc = deflate(&z->out, last ? z->out_flush : Z_NO_FLUSH);
	z->out_next += chunk - z->out.avail_in;
	z->out_left -= chunk - z->out.avail_in;
	*len = sizeof(z->out_buf) - z->out.avail_out;
	if (rc != Z_OK && rc != Z_BUF_ERROR) {
		compress_fail(z, "deflate", &z->out, rc);
		z->out_failed = true;
		return COMPRESS_OUT_ERROR;
	}
	/* all taken, and room left over: the flush (if any) is complete */
	if (z->out_left == 0 && z->out.avail_out > 0) {
		z->out_busy = false;
		if (z->out_flush == Z_SYNC_FLUSH)
			z->out_dirty = false;
		return COMPRESS_OUT_DONE;
	}
	return COMPRESS_OUT_MORE;
}

const char *
compress_error(const struct compress *z)
{
	return z->in_failed || z->out_failed ? z->error : "no error";
}

size_t
compress_memory(const struct compress *z)
{
	return z->mem;
}

size_t
compress_memory_peak(const struct compress *z)
{
	return z->mem_peak;
}

void
compress_totals(const struct compress *z, unsigned long long *in_plain,
    unsigned long long *in_wire, unsigned long long *out_plain,
    unsigned long long *out_wire)
{
	*in_plain = z->in.total_out;
	*in_wire = z->in.total_in;
	*out_plain = z->out.total_in;
	*out_wire = z->out.total_out;
}
