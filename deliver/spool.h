/*
 * Where cairn-deliver keeps the message between reading it and sending
 * it: its SIZE= and BODY= must be known before MAIL FROM, and a message
 * too big is refused before the server sees a byte.  The first
 * LDA_SPOOL_MEM_MAX bytes stay in memory; a bigger message moves to an
 * unlinked file in $TMPDIR (or /tmp), so memory stays small whatever
 * lmtp-max-message-size allows.
 */
#ifndef CAIRN_DELIVER_SPOOL_H
#define CAIRN_DELIVER_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define LDA_SPOOL_MEM_MAX (1024 * 1024)
/* Bytes handed to lda_spool_each's function at a time, from the file. */
#define LDA_SPOOL_CHUNK (64 * 1024)

struct lda_spool {
	char *mem;
	size_t len, cap;
	int fd;              /* -1 while the message is in memory */
	uint64_t total;
};

void lda_spool_init(struct lda_spool *s);
/* An lda_emit_fn (arg: the spool): 0, or -1 with errno set. */
int lda_spool_write(void *arg, const char *p, size_t n);
/* Every byte in order, through fn; 0, fn's non-zero value, or -1 with
 * errno set when the file cannot be read. */
int lda_spool_each(struct lda_spool *s,
    int (*fn)(void *arg, const char *p, size_t n), void *arg);
void lda_spool_free(struct lda_spool *s);

#endif
