#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "log.h"
#include "spool.h"

void
spool_init(struct spool *sp, int dirfd)
{
	sp->dirfd = dirfd;
	sp->fd = -1;
	sp->name[0] = '\0';
	sp->size = 0;
	sp->buffered = 0;
}

bool
spool_is_open(const struct spool *sp)
{
	return sp->fd >= 0;
}

int
spool_open(struct spool *sp)
{
	uint64_t r;

	if (getrandom(&r, sizeof(r), 0) != sizeof(r))
		return -1;
	snprintf(sp->name, sizeof(sp->name), "%ld.%016llx", (long)getpid(),
	    (unsigned long long)r);
	/* 0600: the store links this very inode among its blobs */
	sp->fd = openat(sp->dirfd, sp->name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		sp->name[0] = '\0';
		return -1;
	}
	sp->size = 0;
	sp->buffered = 0;
	return 0;
}

static int
spool_flush(struct spool *sp)
{
	size_t off = 0;

	while (off < sp->buffered) {
		ssize_t n = write(sp->fd, sp->buf + off, sp->buffered - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = EIO;
			return -1;
		}
		off += (size_t)n;
	}
	sp->buffered = 0;
	return 0;
}

int
spool_write(struct spool *sp, const void *data, size_t len)
{
	const unsigned char *p = data;

	while (len > 0) {
		size_t n = sizeof(sp->buf) - sp->buffered;
		if (n > len)
			n = len;
		memcpy(sp->buf + sp->buffered, p, n);
		sp->buffered += n;
		sp->size += n;
		p += n;
		len -= n;
		if (sp->buffered == sizeof(sp->buf) && spool_flush(sp) != 0)
			return -1;
	}
	return 0;
}

int
spool_finish(struct spool *sp)
{
	if (spool_flush(sp) != 0 || fsync(sp->fd) != 0)
		return -1;
	return 0;
}

void
spool_discard(struct spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	sp->fd = -1;
	if (sp->name[0] != '\0' && unlinkat(sp->dirfd, sp->name, 0) != 0 &&
	    errno != ENOENT)
		log_warn("cannot remove the spool file %s", sp->name);
	sp->name[0] = '\0';
	sp->buffered = 0;
	sp->size = 0;
}
