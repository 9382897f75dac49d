/*
 * The spool: <data-dir>/spool, where DATA is written once, whatever the
 * number of recipients, and from where the store links it into each
 * recipient's store (store_deliver).  A file is named "<pid>.<random>",
 * so that cairnd can remove what a process that died left behind; it is
 * fsynced before any recipient is answered and unlinked once every
 * recipient is done, or at once when the transaction fails.
 */
#ifndef CAIRN_SPOOL_H
#define CAIRN_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPOOL_NAME_MAX 48
#define SPOOL_BUFFER 65536

struct spool {
	int dirfd;               /* the spool directory (not owned) */
	int fd;                  /* -1: no file */
	char name[SPOOL_NAME_MAX];
	uint64_t size;           /* octets written so far */
	unsigned char buf[SPOOL_BUFFER];
	size_t buffered;
};

void spool_init(struct spool *sp, int dirfd);
/* A new, empty file; -1 with errno on failure. */
int spool_open(struct spool *sp);
/* Append; -1 with errno (the file stays, for spool_discard). */
int spool_write(struct spool *sp, const void *data, size_t len);
/* Everything written and fsynced; -1 with errno. */
int spool_finish(struct spool *sp);
/* Close and unlink whatever there is; harmless when there is nothing. */
void spool_discard(struct spool *sp);
bool spool_is_open(const struct spool *sp);

#endif
