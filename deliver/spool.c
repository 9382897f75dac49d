#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spool.h"

void
lda_spool_init(struct lda_spool *s)
{
	memset(s, 0, sizeof(*s));
	s->fd = -1;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * An unlinked file in $TMPDIR or /tmp, holding what was in memory.  Set
 * group ID, cairn-deliver gets no $TMPDIR (secure_getenv): its files
 * are the invoker's business, not the group's.
 */
static int
to_file(struct lda_spool *s)
{
	const char *dir = secure_getenv("TMPDIR");
	char path[4096];
	int fd, n;

	if (dir == NULL || dir[0] != '/')
		dir = "/tmp";
	n = snprintf(path, sizeof(path), "%s/cairn-deliver.XXXXXX", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(path)) < 0)
		return -1;
	if (unlink(path) != 0 || write_all(fd, s->mem, s->len) != 0) {
		int saved = errno;

		(void)unlink(path);
		close(fd);
		errno = saved;
		return -1;
	}
	free(s->mem);
	s->mem = NULL;
	s->len = s->cap = 0;
	s->fd = fd;
	return 0;
}

int
lda_spool_write(void *arg, const char *p, size_t n)
{
	struct lda_spool *s = arg;

	if (s->fd < 0 && s->len + n > LDA_SPOOL_MEM_MAX && to_file(s) != 0)
		return -1;
	if (s->fd >= 0) {
		if (write_all(s->fd, p, n) != 0)
			return -1;
	} else {
		if (s->len + n > s->cap) {
			size_t cap = s->cap ? s->cap : 16384;
			char *m;

			while (cap < s->len + n)
				cap *= 2;
			if ((m = realloc(s->mem, cap)) == NULL)
				return -1;
			s->mem = m;
			s->cap = cap;
		}
		memcpy(s->mem + s->len, p, n);
		s->len += n;
	}
	s->total += n;
	return 0;
}

int
lda_spool_each(struct lda_spool *s, int (*fn)(void *arg, const char *p, size_t n),
    void *arg)
{
	char *chunk;
	uint64_t off = 0;
	int rc = 0;

	if (s->fd < 0)
		return s->len > 0 ? fn(arg, s->mem, s->len) : 0;
	if ((chunk = malloc(LDA_SPOOL_CHUNK)) == NULL)
		return -1;
	while (rc == 0 && off < s->total) {
		ssize_t r = pread(s->fd, chunk, LDA_SPOOL_CHUNK, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO;    /* the file shrank under us */
			rc = -1;
			break;
		}
		off += (uint64_t)r;
		rc = fn(arg, chunk, (size_t)r);
	}
	free(chunk);
	return rc;
}

void
lda_spool_free(struct lda_spool *s)
{
	free(s->mem);
	if (s->fd >= 0)
		close(s->fd);
	lda_spool_init(s);
}
