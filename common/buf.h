/*
 * A growable byte buffer with an explicit length and a hard limit: the
 * one way Cairn builds strings whose size depends on data (IMAP responses,
 * ENVELOPE and BODYSTRUCTURE text, decoded header values).
 */
#ifndef CAIRN_BUF_H
#define CAIRN_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

struct buf {
	char *data;      /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;
	size_t limit;    /* 0: BUF_DEFAULT_LIMIT */
	bool overflow;   /* an append was refused: the content is truncated */
};

#define BUF_DEFAULT_LIMIT (64u * 1024 * 1024)
#define BUF_INIT { NULL, 0, 0, 0, false }

/* Each returns 0, or -1 (and sets overflow) when the limit would be passed. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_append_str(struct buf *b, const char *s);
int buf_append_char(struct buf *b, char c);
/* v in decimal: what FETCH writes for every message, without printf. */
int buf_append_uint(struct buf *b, uint64_t v);
int buf_printf(struct buf *b, const char *fmt, ...) CAIRN_PRINTF(2, 3);
/* An IMAP string: quoted when it can be, else a literal {n}\r\n...; NULL: NIL. */
int buf_append_imap_string(struct buf *b, const char *s, size_t len);
void buf_reset(struct buf *b);   /* empty, keeps the memory */
void buf_free(struct buf *b);
/* Hand the bytes over (caller frees); the buffer is left empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif
