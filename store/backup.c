/*
 * cairnctl backup: a consistent copy of a store that sessions go on using.
 *
 * index.db comes from SQLite's online backup, taken inside one read
 * transaction together with the list of the blobs it names (index.c,
 * index_backup), so the copy is one committed state of the store (with
 * whatever the WAL held).  Then the blob files that state names: blobs
 * are immutable and only ever added or removed, so a hard link (or,
 * across file systems, a copy) of one is the file as the snapshot knew
 * it.  What can go wrong is a removal: a session that expunged a
 * message after the snapshot unlinks its file after its commit, maybe
 * before the link here.  Then that snapshot cannot be completed, and a
 * newer one is taken: the files already in the backup stay (a link of
 * an existing name is skipped), so each attempt costs only the blobs
 * added since, and the files of blobs the final snapshot does not name
 * are removed from the backup at the end.  Appends never get in the
 * way: a blob's file is linked before the row naming it commits.
 *
 * Nothing here takes the store's write lock: sessions and deliveries do
 * not wait for a backup.
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-int.h"

#define BACKUP_INDEX "index.db"
#define COPY_BUF 65536

static enum store_result
make_dir(struct store *st, int dirfd, const char *path)
{
	if (mkdirat(dirfd, path, 0700) != 0 && errno != EEXIST)
		return store_fail(st, STORE_ERROR, "backup: mkdir %s: %s", path,
		    strerror(errno));
	return STORE_OK;
}

/* The file src (relative to the store) as dst in dest_dirfd, copied. */
static enum store_result
copy_file(struct store *st, const char *path, int dest_dirfd)
{
	char buf[COPY_BUF];
	ssize_t n;
	int in, out, err;

	if ((in = openat(st->dirfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return errno == ENOENT ? STORE_NOT_FOUND :
		    store_fail(st, STORE_ERROR, "backup: %s: %s", path,
		    strerror(errno));
	out = openat(dest_dirfd, path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (out < 0) {
		err = errno;
		close(in);
		return err == EEXIST ? STORE_OK : store_fail(st, STORE_ERROR,
		    "backup: create %s: %s", path, strerror(err));
	}
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || write(out, buf, (size_t)n) != n)
			goto fail;
	}
	if (fsync(out) != 0)
		goto fail;
	close(in);
	if (close(out) != 0) {
		err = errno;
		(void)unlinkat(dest_dirfd, path, 0);
		return store_fail(st, STORE_ERROR, "backup: %s: %s", path,
		    strerror(err));
	}
	return STORE_OK;
fail:
	err = errno;
	close(in);
	close(out);
	(void)unlinkat(dest_dirfd, path, 0);
	return store_fail(st, STORE_ERROR, "backup: copy %s: %s", path,
	    strerror(err));
}

/*
 * One blob into the backup: STORE_OK (there now, or already),
 * STORE_NOT_FOUND (its file is gone: expunged since the snapshot).
 */
static enum store_result
take_blob(struct store *st, int dest_dirfd, const struct index_blob_file *b,
    struct store_backup_stats *stats)
{
	char path[BLOB_PATH_MAX], dir[BLOB_PATH_MAX];
	enum store_result r;

	blob_path(b->id, path, dir);
	if (make_dir(st, dest_dirfd, dir) != STORE_OK)
		return STORE_ERROR;
	if (linkat(st->dirfd, path, dest_dirfd, path, 0) == 0) {
		stats->linked++;
		return STORE_OK;
	}
	if (errno == EEXIST)
		return STORE_OK;
	if (errno == ENOENT)
		return STORE_NOT_FOUND;
	if (errno != EXDEV && errno != EMLINK && errno != EPERM)
		return store_fail(st, STORE_ERROR, "backup: link %s: %s", path,
		    strerror(errno));
	if ((r = copy_file(st, path, dest_dirfd)) == STORE_OK)
		stats->copied++;
	return r;
}

static int
cmp_blob(const void *a, const void *b)
{
	uint64_t x = ((const struct index_blob_file *)a)->id;
	uint64_t y = ((const struct index_blob_file *)b)->id;

	return x < y ? -1 : x > y;
}

/* A file of the backup's blobs/ that the snapshot does not name: left by
 * an earlier attempt; removed. */
static void
prune(int dest_dirfd, const struct index_blob_file *blobs, size_t n)
{
	char sub[BLOB_PATH_MAX + 300];
	struct index_blob_file key;
	struct dirent *e, *f;
	DIR *top, *d;
	int fd, sfd;

	if ((fd = openat(dest_dirfd, "blobs", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 || (top = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((e = readdir(top)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "blobs/%s", e->d_name);
		if ((sfd = openat(dest_dirfd, sub, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC | O_NOFOLLOW)) < 0)
			continue;
		if ((d = fdopendir(sfd)) == NULL) {
			close(sfd);
			continue;
		}
		while ((f = readdir(d)) != NULL) {
			char *end;

			if (f->d_name[0] == '.')
				continue;
			key.id = strtoull(f->d_name, &end, 16);
			if (*end == '\0' && n > 0 && bsearch(&key, blobs, n,
			    sizeof(*blobs), cmp_blob) != NULL)
				continue;
			(void)unlinkat(dirfd(d), f->d_name, 0);
		}
		closedir(d);
	}
	closedir(top);
}

/* The backup's index.db and what SQLite may have left beside it. */
static void
remove_index(int dest_dirfd)
{
	static const char *const names[] = {
		BACKUP_INDEX, BACKUP_INDEX "-wal", BACKUP_INDEX "-shm",
		BACKUP_INDEX "-journal",
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		(void)unlinkat(dest_dirfd, names[i], 0);
}

static enum store_result
one_attempt(struct store *st, int dest_dirfd, const char *index_path,
    struct store_backup_stats *stats, bool *complete)
{
	struct index_blob_file *blobs;
	enum store_result r = STORE_OK;
	size_t n;

	*complete = false;
	remove_index(dest_dirfd);
	if (index_backup(st->ix, index_path, &blobs, &n) != STORE_OK)
		return STORE_ERROR;
	stats->blobs = n;
	stats->bytes = 0;
	*complete = true;
	for (size_t i = 0; i < n && r == STORE_OK; i++) {
		r = take_blob(st, dest_dirfd, &blobs[i], stats);
		if (r == STORE_NOT_FOUND) {
			log_info("backup: blob %016" PRIx64 " went after the "
			    "snapshot: a newer one follows", blobs[i].id);
			*complete = false;
			r = STORE_OK;
			break;
		}
		stats->bytes += blobs[i].size;
	}
	if (r == STORE_OK && *complete) {
		/* SQLite sorted the ids as signed */
		if (n > 0)
			qsort(blobs, n, sizeof(*blobs), cmp_blob);
		prune(dest_dirfd, blobs, n);
	}
	free(blobs);
	return r;
}

enum store_result
store_backup(struct store *st, int dest_dirfd, const char *dest_path,
    struct store_backup_stats *stats)
{
	char index_path[4200];
	bool complete = false;

	memset(stats, 0, sizeof(*stats));
	if ((size_t)snprintf(index_path, sizeof(index_path), "%s/%s", dest_path,
	    BACKUP_INDEX) >= sizeof(index_path))
		return store_fail(st, STORE_INVALID, "backup: path too long");
	if (make_dir(st, dest_dirfd, "blobs") != STORE_OK ||
	    make_dir(st, dest_dirfd, "tmp") != STORE_OK)
		return STORE_ERROR;
	while (!complete && stats->attempts < STORE_BACKUP_ATTEMPTS) {
		stats->attempts++;
		if (one_attempt(st, dest_dirfd, index_path, stats, &complete) !=
		    STORE_OK)
			return STORE_ERROR;
	}
	if (!complete)
		return store_fail(st, STORE_ERROR, "backup: messages were "
		    "expunged faster than %d snapshots could be completed; try "
		    "again", STORE_BACKUP_ATTEMPTS);
	if (fsync(dest_dirfd) != 0)
		return store_fail_errno(st, "backup: fsync");
	return STORE_OK;
}
