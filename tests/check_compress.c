/*
 * Unit tests for imapd/compress.c: both streams against zlib itself, in
 * pieces down to one byte, the bytes pipelined after COMPRESS, a stream
 * that inflates a thousandfold, a corrupt one, and what zlib costs.
 */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "compress.h"

/* What a session may hold in zlib for both streams (man page: about 80 KB). */
#define MEMORY_BOUND (96 * 1024)

/* Mail-like bytes: text lines, 8-bit, some random binary; deterministic. */
static unsigned char *
sample(size_t len)
{
	static const char text[] = "abcdefgh ijklmnop \xc3\xa9rstu* 0123456789";
	unsigned char *p = malloc(len);
	uint32_t x = 12345;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245 + 12345;
		if ((i / 4096) % 3 == 2)
			p[i] = (unsigned char)(x >> 16);          /* binary */
		else if (i % 61 == 60)
			p[i] = '\n';
		else
			p[i] = (unsigned char)text[(x >> 16) % (sizeof(text) - 1)];
	}
	return p;
}

/* The client's deflate: zlib's defaults, largest window, raw. */
static unsigned char *
client_deflate(const unsigned char *data, size_t len, int flush, size_t *outlen)
{
	z_stream zs;
	size_t cap = compressBound(len) + 64;
	unsigned char *out = malloc(cap);

	ck_assert_ptr_nonnull(out);
	memset(&zs, 0, sizeof(zs));
	ck_assert_int_eq(deflateInit2(&zs, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY), Z_OK);
	zs.next_in = (unsigned char *)data;
	zs.avail_in = (uInt)len;
	zs.next_out = out;
	zs.avail_out = (uInt)cap;
	ck_assert_int_ne(deflate(&zs, flush), Z_STREAM_ERROR);
	ck_assert_uint_gt(zs.avail_out, 0);
	*outlen = cap - zs.avail_out;
	deflateEnd(&zs);
	return out;
}

/* The client's inflate of the server's bytes so far: all of it, at once. */
struct client_in {
	z_stream zs;
	unsigned char *plain;
	size_t len, cap;
};

static void
client_inflate(struct client_in *ci, const unsigned char *wire, size_t len)
{
	ci->zs.next_in = (unsigned char *)wire;
	ci->zs.avail_in = (uInt)len;
	do {
		if (ci->cap - ci->len < 4096) {
			ci->cap = ci->cap * 2 + 4096;
			ci->plain = realloc(ci->plain, ci->cap);
			ck_assert_ptr_nonnull(ci->plain);
		}
		ci->zs.next_out = ci->plain + ci->len;
		ci->zs.avail_out = (uInt)(ci->cap - ci->len);
		int rc = inflate(&ci->zs, Z_SYNC_FLUSH);
		ck_assert_msg(rc == Z_OK || rc == Z_BUF_ERROR, "inflate: %d", rc);
		ci->len = ci->cap - ci->zs.avail_out;
	} while (ci->zs.avail_in > 0 || ci->zs.avail_out == 0);
}

/* compress_out_put + compress_out_next until done, into the client. */
static size_t
server_send(struct compress *z, const unsigned char *data, size_t len, bool sync,
    struct client_in *ci)
{
	const unsigned char *out;
	size_t n, wire = 0;
	enum compress_out r;

	compress_out_put(z, data, len, sync);
	do {
		r = compress_out_next(z, &out, &n);
		ck_assert_int_ne(r, COMPRESS_OUT_ERROR);
		ck_assert_uint_le(n, COMPRESS_OUT_BUF);
		client_inflate(ci, out, n);
		wire += n;
	} while (r == COMPRESS_OUT_MORE);
	return wire;
}

/* Every sync flush lets the client read every byte so far. */
START_TEST(test_out_round_trip)
{
	size_t total = 3 * 1024 * 1024, off = 0, step = 1;
	unsigned char *data = sample(total);
	struct compress *z = compress_new(NULL, 0);
	struct client_in ci;
	bool sync = false;

	memset(&ci, 0, sizeof(ci));
	ck_assert_int_eq(inflateInit2(&ci.zs, -15), Z_OK);
	ck_assert_ptr_nonnull(z);
	while (off < total) {
		size_t n = step < total - off ? step : total - off;
		server_send(z, data + off, n, sync, &ci);
		off += n;
		if (sync) {
			ck_assert_uint_eq(ci.len, off);
			ck_assert_mem_eq(ci.plain, data, off);
		}
		step = step * 3 + 1;
		if (step > 200000)
			step = 1;
		sync = !sync;
	}
	server_send(z, NULL, 0, true, &ci);
	ck_assert_uint_eq(ci.len, total);
	ck_assert_int_eq(memcmp(ci.plain, data, total), 0);
	ck_assert_uint_le(compress_memory_peak(z), MEMORY_BOUND);
	unsigned long long ip, iw, op, ow;
	compress_totals(z, &ip, &iw, &op, &ow);
	ck_assert_uint_eq(op, total);
	ck_assert_uint_lt(ow, total);
	inflateEnd(&ci.zs);
	free(ci.plain);
	compress_free(z);
	free(data);
}
END_TEST

/* A sync flush with nothing new writes nothing; one after NO_FLUSH does. */
START_TEST(test_out_flush_only_when_needed)
{
	struct compress *z = compress_new(NULL, 0);
	struct client_in ci;

	memset(&ci, 0, sizeof(ci));
	ck_assert_int_eq(inflateInit2(&ci.zs, -15), Z_OK);
	ck_assert_uint_eq(server_send(z, NULL, 0, true, &ci), 0);
	ck_assert_uint_gt(server_send(z, (const unsigned char *)"a OK\r\n", 6, true, &ci), 0);
	ck_assert_uint_eq(server_send(z, NULL, 0, true, &ci), 0);
	server_send(z, (const unsigned char *)"* 1 EXISTS\r\n", 12, false, &ci);
	ck_assert_uint_gt(server_send(z, NULL, 0, true, &ci), 0);
	ck_assert_uint_eq(ci.len, 18);
	ck_assert_mem_eq(ci.plain, "a OK\r\n* 1 EXISTS\r\n", 18);
	inflateEnd(&ci.zs);
	free(ci.plain);
	compress_free(z);
}
END_TEST

/*
 * The client's stream, the first `first` bytes handed over with
 * compress_new() (pipelined after COMPRESS), the rest read `feed` bytes at
 * a time into `take`-byte buffers; the plain bytes come back exactly.
 */
static void
in_round_trip(size_t total, size_t first, size_t feed, size_t take)
{
	unsigned char *data = sample(total), *buf = malloc(take);
	size_t wlen, woff, got = 0;
	unsigned char *wire = client_deflate(data, total, Z_SYNC_FLUSH, &wlen);
	struct compress *z;

	ck_assert_ptr_nonnull(buf);
	if (first > wlen)
		first = wlen;
	z = compress_new(wire, first);
	ck_assert_ptr_nonnull(z);
	woff = first;
	while (got < total) {
		ssize_t n = compress_in_take(z, buf, take);
		if (n > 0) {
			ck_assert_uint_le((size_t)n, take);
			ck_assert_uint_le(got + (size_t)n, total);
			ck_assert_mem_eq(buf, data + got, (size_t)n);
			got += (size_t)n;
			continue;
		}
		ck_assert_int_eq(n, COMPRESS_NEED_INPUT);
		ck_assert(!compress_in_pending(z));
		ck_assert_uint_lt(woff, wlen);
		size_t room, m;
		unsigned char *p = compress_in_space(z, &room);
		ck_assert_uint_gt(room, 0);
		m = feed < room ? feed : room;
		if (m > wlen - woff)
			m = wlen - woff;
		memcpy(p, wire + woff, m);
		compress_in_added(z, m);
		woff += m;
	}
	/* the rest (the flush's empty block) gives no more bytes */
	while (woff < wlen) {
		size_t room, m;
		unsigned char *p = compress_in_space(z, &room);
		m = room < wlen - woff ? room : wlen - woff;
		memcpy(p, wire + woff, m);
		compress_in_added(z, m);
		woff += m;
		ck_assert_int_eq(compress_in_take(z, buf, take), COMPRESS_NEED_INPUT);
	}
	ck_assert_uint_le(compress_memory_peak(z), MEMORY_BOUND);
	compress_free(z);
	free(wire);
	free(buf);
	free(data);
}

START_TEST(test_in_tiny_pieces)
{
	in_round_trip(200 * 1000, 0, 1, 1);
	in_round_trip(200 * 1000, 0, 1, 7);
	in_round_trip(200 * 1000, 0, 3, 16384);
}
END_TEST

START_TEST(test_in_big)
{
	in_round_trip(3 * 1024 * 1024, 0, COMPRESS_IN_BUF, 16384);
	in_round_trip(3 * 1024 * 1024, 0, 100000, 16384);
}
END_TEST

/* Pipelined after COMPRESS: less than, and more than, one wire buffer. */
START_TEST(test_in_first_bytes)
{
	in_round_trip(100 * 1000, 100, 50, 100);
	in_round_trip(100 * 1000, 16000, COMPRESS_IN_BUF, 16384);
}
END_TEST

/* 64 MB of one byte from 64 KB: never more out than asked for, no growth. */
START_TEST(test_in_bomb_bounded)
{
	size_t total = 64 * 1024 * 1024, wlen, woff = 0, got = 0, takes = 0;
	unsigned char *data = calloc(1, total), buf[16384];
	unsigned char *wire = client_deflate(data, total, Z_SYNC_FLUSH, &wlen);
	struct compress *z = compress_new(NULL, 0);

	ck_assert_uint_lt(wlen, total / 500);
	while (got < total) {
		ssize_t n = compress_in_take(z, buf, sizeof(buf));
		if (n > 0) {
			got += (size_t)n;
			takes++;
			continue;
		}
		ck_assert_int_eq(n, COMPRESS_NEED_INPUT);
		size_t room;
		unsigned char *p = compress_in_space(z, &room);
		ck_assert_uint_le(room, COMPRESS_IN_BUF);
		if (room > wlen - woff)
			room = wlen - woff;
		ck_assert_uint_gt(room, 0);
		memcpy(p, wire + woff, room);
		compress_in_added(z, room);
		woff += room;
	}
	ck_assert_uint_eq(got, total);
	ck_assert_uint_ge(takes, total / sizeof(buf));
	ck_assert_uint_le(compress_memory_peak(z), MEMORY_BOUND);
	compress_free(z);
	free(wire);
	free(data);
}
END_TEST

/* A full buffer says more may come; a take that needs input says not. */
START_TEST(test_in_pending)
{
	const char *msg = "a NOOP\r\nb NOOP\r\n";
	size_t wlen;
	unsigned char *wire = client_deflate((const unsigned char *)msg, 16, Z_SYNC_FLUSH, &wlen);
	struct compress *z = compress_new(wire, wlen);
	char buf[8];

	ck_assert(compress_in_pending(z));
	ck_assert_int_eq(compress_in_take(z, buf, 8), 8);
	ck_assert_mem_eq(buf, "a NOOP\r\n", 8);
	ck_assert(compress_in_pending(z));
	ck_assert_int_eq(compress_in_take(z, buf, 8), 8);
	ck_assert_mem_eq(buf, "b NOOP\r\n", 8);
	ck_assert_int_eq(compress_in_take(z, buf, 8), COMPRESS_NEED_INPUT);
	ck_assert(!compress_in_pending(z));
	compress_free(z);
	free(wire);
}
END_TEST

/* Garbage is CORRUPT, and stays so; the end of the stream is END. */
START_TEST(test_in_corrupt_and_end)
{
	/* block type 3 is reserved (RFC 1951 §3.2.3) */
	static const unsigned char bad[] = { 0xff, 0xff, 0xff, 0xff, 0x00, 0x12 };
	struct compress *z = compress_new(bad, sizeof(bad));
	char buf[64];
	size_t wlen;
	unsigned char *wire;

	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), COMPRESS_CORRUPT);
	ck_assert_str_ne(compress_error(z), "no error");
	ck_assert(compress_in_pending(z));
	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), COMPRESS_CORRUPT);
	compress_free(z);

	/* a command, then garbage: the command first; the server's stream
	 * still works (it says BYE) */
	wire = client_deflate((const unsigned char *)"g1 NOOP\r\n", 9, Z_SYNC_FLUSH, &wlen);
	wire = realloc(wire, wlen + sizeof(bad));
	memcpy(wire + wlen, bad, sizeof(bad));
	z = compress_new(wire, wlen + sizeof(bad));
	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), 9);
	ck_assert_mem_eq(buf, "g1 NOOP\r\n", 9);
	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), COMPRESS_CORRUPT);
	struct client_in ci;
	memset(&ci, 0, sizeof(ci));
	ck_assert_int_eq(inflateInit2(&ci.zs, -15), Z_OK);
	server_send(z, (const unsigned char *)"* BYE\r\n", 7, true, &ci);
	ck_assert_uint_eq(ci.len, 7);
	ck_assert_mem_eq(ci.plain, "* BYE\r\n", 7);
	inflateEnd(&ci.zs);
	free(ci.plain);
	compress_free(z);
	free(wire);

	wire = client_deflate((const unsigned char *)"z LOGOUT\r\n", 10, Z_FINISH, &wlen);
	z = compress_new(wire, wlen);
	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), 10);
	ck_assert_mem_eq(buf, "z LOGOUT\r\n", 10);
	ck_assert_int_eq(compress_in_take(z, buf, sizeof(buf)), COMPRESS_END);
	compress_free(z);
	free(wire);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("compress");
	TCase *tc = tcase_create("compress");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_out_round_trip);
	tcase_add_test(tc, test_out_flush_only_when_needed);
	tcase_add_test(tc, test_in_tiny_pieces);
	tcase_add_test(tc, test_in_big);
	tcase_add_test(tc, test_in_first_bytes);
	tcase_add_test(tc, test_in_bomb_bounded);
	tcase_add_test(tc, test_in_pending);
	tcase_add_test(tc, test_in_corrupt_and_end);
	suite_add_tcase(s, tc);
	return check_run(s);
}
