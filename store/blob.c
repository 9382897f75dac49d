/*
 * The files of the store: tmp/ (APPEND in progress) and blobs/ (one
 * immutable file per message).  Every path is relative to the store's
 * directory descriptor: the process is chrooted into an empty directory,
 * so no absolute path leads here.
 *
 *   blobs/ab/<16 hex digits>   the blob's 64-bit id; ab = its first two
 *                              digits, spreading files over 256 directories
 *   tmp/<16 hex digits>        random; flock()ed while an APPEND writes it
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#if defined(__linux__)
#include <sys/random.h>
#endif

#include "store-int.h"

#define BLOB_PATH_MAX 48
#define LINK_TRIES 16
/* A tmp file nobody holds is stale only once it is this old: it has no
 * lock for the instant between its creation and flock(). */
#define TMP_GRACE_SECONDS 60

/*
 * Random bits without /dev/urandom, which the chroot does not have:
 * getrandom(2) on Linux, arc4random_buf(3) on the BSDs and macOS.
 */
uint64_t
blob_random(void)
{
	uint64_t v;
#if defined(__linux__)
	size_t got = 0;

	while (got < sizeof(v)) {
		ssize_t n = getrandom((char *)&v + got, sizeof(v) - got, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fatal("getrandom");
		got += (size_t)n;
	}
#else
	arc4random_buf(&v, sizeof(v));
#endif
	return v;
}

static void
blob_path(uint64_t id, char path[BLOB_PATH_MAX], char dir[BLOB_PATH_MAX])
{
	snprintf(path, BLOB_PATH_MAX, "blobs/%02x/%016" PRIx64,
	    (unsigned)(id >> 56), id);
	if (dir != NULL)
		snprintf(dir, BLOB_PATH_MAX, "blobs/%02x", (unsigned)(id >> 56));
}

static enum store_result
make_dir(struct store *st, const char *path, bool *created)
{
	struct stat sb;

	if (created != NULL)
		*created = false;
	if (mkdirat(st->dirfd, path, 0700) == 0) {
		if (created != NULL)
			*created = true;
		return STORE_OK;
	}
	if (errno != EEXIST)
		return store_fail_errno(st, path);
	if (fstatat(st->dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) != 0)
		return store_fail_errno(st, path);
	if (!S_ISDIR(sb.st_mode))
		return store_fail(st, STORE_ERROR, "%s: not a directory", path);
	return STORE_OK;
}

enum store_result
blob_dirs_init(struct store *st)
{
	if (make_dir(st, "blobs", NULL) != STORE_OK ||
	    make_dir(st, "tmp", NULL) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

static int
blob_fsync_dir(struct store *st, const char *path)
{
	int fd = openat(st->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc;

	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

enum store_result
blob_tmp_create(struct store *st, int *fd, char name[BLOB_TMP_NAME_MAX])
{
	for (int i = 0; i < LINK_TRIES; i++) {
		snprintf(name, BLOB_TMP_NAME_MAX, "tmp/%016" PRIx64, blob_random());
		*fd = openat(st->dirfd, name, O_RDWR | O_CREAT | O_EXCL |
		    O_CLOEXEC | O_NOFOLLOW, 0600);
		if (*fd < 0 && errno == EEXIST)
			continue;
		if (*fd < 0)
			return store_fail_errno(st, name);
		if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
			store_fail_errno(st, name);
			unlinkat(st->dirfd, name, 0);
			close(*fd);
			*fd = -1;
			return STORE_ERROR;
		}
		return STORE_OK;
	}
	return store_fail(st, STORE_ERROR, "tmp/: no free name");
}

void
blob_tmp_unlink(struct store *st, const char *tmpname)
{
	if (unlinkat(st->dirfd, tmpname, 0) != 0 && errno != ENOENT)
		log_warn("store: unlink %s", tmpname);
}

/*
 * linkat(), not rename: it never replaces an existing file, so two ids
 * that collide cannot destroy a message.  The directory entries are made
 * durable before the caller commits the row that names the file.
 */
enum store_result
blob_link(struct store *st, const char *tmpname, uint64_t *id)
{
	char path[BLOB_PATH_MAX], dir[BLOB_PATH_MAX];
	bool created = false, made;

	for (int i = 0; i < LINK_TRIES; i++) {
		*id = blob_random();
		if (*id == 0)
			continue;
		blob_path(*id, path, dir);
		if (make_dir(st, dir, &made) != STORE_OK)
			return STORE_ERROR;
		created = made;
		if (linkat(st->dirfd, tmpname, st->dirfd, path, 0) == 0)
			break;
		if (errno != EEXIST)
			return store_fail_errno(st, path);
		*id = 0;
	}
	if (*id == 0)
		return store_fail(st, STORE_ERROR, "blobs/: no free id");
	if (blob_fsync_dir(st, dir) != 0 ||
	    (created && blob_fsync_dir(st, "blobs") != 0)) {
		store_fail_errno(st, "fsync blobs/");
		blob_unlink(st, *id);
		return STORE_ERROR;
	}
	return STORE_OK;
}

void
blob_unlink(struct store *st, uint64_t id)
{
	char path[BLOB_PATH_MAX];

	blob_path(id, path, NULL);
	if (unlinkat(st->dirfd, path, 0) != 0 && errno != ENOENT)
		log_warn("store: unlink %s", path);
}

enum store_result
blob_exists(struct store *st, uint64_t id, bool *exists)
{
	char path[BLOB_PATH_MAX];
	struct stat sb;

	blob_path(id, path, NULL);
	*exists = fstatat(st->dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*exists && errno != ENOENT)
		return store_fail_errno(st, path);
	return STORE_OK;
}

enum store_result
blob_map(struct store *st, uint64_t id, const char **data, size_t *len)
{
	char path[BLOB_PATH_MAX];
	struct stat sb;
	void *p;
	int fd;

	blob_path(id, path, NULL);
	/* Missing: expunged by another session since our snapshot of the
	 * index (store_read_hold), or damage that store_fsck reports. */
	if ((fd = openat(st->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return store_fail(st, errno == ENOENT ? STORE_NOT_FOUND :
		    STORE_ERROR, "%s: %s (store_fsck reports messages whose "
		    "file is missing)", path, strerror(errno));
	if (fstat(fd, &sb) != 0) {
		close(fd);
		return store_fail_errno(st, path);
	}
	if (sb.st_size == 0) {
		close(fd);
		*data = "";
		*len = 0;
		return STORE_OK;
	}
	p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return store_fail_errno(st, path);
	*data = p;
	*len = (size_t)sb.st_size;
	return STORE_OK;
}

/* 16 lower-case hex digits whose first two are the directory's name. */
static uint64_t
parse_blob_name(const char *dir, const char *name)
{
	uint64_t id = 0;

	if (strlen(name) != 16 || strncmp(name, dir, 2) != 0)
		return 0;
	for (size_t i = 0; i < 16; i++) {
		char c = name[i];

		if (c >= '0' && c <= '9')
			id = id << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			id = id << 4 | (uint64_t)(c - 'a' + 10);
		else
			return 0;
	}
	return id;
}

static DIR *
open_dir(struct store *st, const char *path)
{
	int fd = openat(st->dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
	    O_NOFOLLOW);
	DIR *d;

	if (fd < 0)
		return NULL;
	if ((d = fdopendir(fd)) == NULL)
		close(fd);
	return d;
}

static bool
is_hex2(const char *s)
{
	return strlen(s) == 2 && strspn(s, "0123456789abcdef") == 2;
}

/* The files of one blobs/ab directory. */
static int
scan_subdir(struct store *st, const char *sub,
    int (*fn)(void *arg, uint64_t id, const char *path), void *arg)
{
	char dir[BLOB_PATH_MAX], path[BLOB_PATH_MAX + 256];
	struct dirent *e;
	DIR *d;
	int stop = 0;

	snprintf(dir, sizeof(dir), "blobs/%.2s", sub);
	if ((d = open_dir(st, dir)) == NULL) {
		store_fail_errno(st, dir);
		return -1;
	}
	while (stop == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		stop = fn(arg, parse_blob_name(sub, e->d_name), path);
	}
	closedir(d);
	return stop;
}

enum store_result
blob_scan(struct store *st, int (*fn)(void *arg, uint64_t id, const char *path),
    void *arg)
{
	char path[BLOB_PATH_MAX + 256];
	struct dirent *e;
	DIR *d;
	int stop = 0;

	if ((d = open_dir(st, "blobs")) == NULL)
		return store_fail_errno(st, "blobs");
	while (stop == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (is_hex2(e->d_name)) {
			stop = scan_subdir(st, e->d_name, fn, arg);
			continue;
		}
		snprintf(path, sizeof(path), "blobs/%s", e->d_name);
		stop = fn(arg, 0, path);
	}
	closedir(d);
	return stop < 0 ? STORE_ERROR : STORE_OK;
}

/* In use: some APPEND holds its lock, or it is too fresh to tell. */
static bool
tmp_busy(struct store *st, const char *path)
{
	struct stat sb;
	int fd = openat(st->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK);
	bool busy;

	if (fd < 0)
		return true;
	busy = flock(fd, LOCK_EX | LOCK_NB) != 0 || fstat(fd, &sb) != 0 ||
	    sb.st_mtime > time(NULL) - TMP_GRACE_SECONDS;
	close(fd);
	return busy;
}

enum store_result
blob_tmp_scan(struct store *st, int (*fn)(void *arg, const char *path, bool busy),
    void *arg)
{
	char path[BLOB_PATH_MAX + 256];
	struct dirent *e;
	DIR *d;
	int stop = 0;

	if ((d = open_dir(st, "tmp")) == NULL)
		return store_fail_errno(st, "tmp");
	while (stop == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "tmp/%s", e->d_name);
		stop = fn(arg, path, tmp_busy(st, path));
	}
	closedir(d);
	return STORE_OK;
}
