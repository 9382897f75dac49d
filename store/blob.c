/*
 * The files of the store: tmp/ (APPEND in progress) and blobs/ (one
 * immutable file per message).  Every path is relative to the store's
 * directory descriptor: the process is chrooted into an empty directory,
 * so no absolute path leads here.
 *
 *   blobs/ab/<16 hex digits>   the blob's 64-bit id; ab = its first two
 *                              digits, spreading files over 256 directories
 *   tmp/<16 hex digits>        random; flock()ed while an APPEND writes it,
 *                              or a delivery holds it (a hard link of the
 *                              spooled file, or a copy: blob_tmp_import)
 *
 * A blob's file may have other links: a delivery links one spooled file
 * into the store of every recipient (deliver.c), so the same inode can be
 * a blob of several users' stores.  Nothing here writes to a blob or
 * counts its links; unlinking one store's name leaves the others.
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

void
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

/* What becomes a tmp/ file must be a regular file (not a FIFO, device or
 * directory the caller named by mistake). */
static enum store_result
tmp_open_check(struct store *st, int fd, const char *what, uint64_t *size)
{
	struct stat sb;

	if (fstat(fd, &sb) != 0)
		return store_fail_errno(st, what);
	if (!S_ISREG(sb.st_mode))
		return store_fail(st, STORE_INVALID, "%s: not a regular file", what);
	*size = (uint64_t)sb.st_size;
	return STORE_OK;
}

/*
 * The link is the spool's inode: its owner may hold a lock on it already,
 * and that keeps fsck from taking the tmp/ name for a stale one as ours
 * would (blob_tmp_scan asks the inode).
 */
static enum store_result
tmp_linked(struct store *st, const char *name, int *fd, uint64_t *size)
{
	enum store_result r;

	/* O_NONBLOCK: a FIFO would block open(); it is refused below. */
	*fd = openat(st->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK);
	if (*fd < 0)
		r = store_fail(st, errno == ELOOP ? STORE_INVALID : STORE_ERROR,
		    "%s: %s", name, strerror(errno));
	else if ((r = tmp_open_check(st, *fd, name, size)) == STORE_OK &&
	    flock(*fd, LOCK_EX | LOCK_NB) != 0 && errno != EWOULDBLOCK)
		r = store_fail_errno(st, name);
	if (r != STORE_OK) {
		if (*fd >= 0)
			close(*fd);
		*fd = -1;
		blob_tmp_unlink(st, name);
	}
	return r;
}

static enum store_result
copy_fd(struct store *st, int in, int out, const char *what, uint64_t *size)
{
	char buf[32 * 1024];
	ssize_t n, w;

	*size = 0;
	for (;;) {
		if ((n = read(in, buf, sizeof(buf))) < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return store_fail_errno(st, what);
		if (n == 0)
			return STORE_OK;
		for (ssize_t off = 0; off < n; off += w) {
			w = write(out, buf + off, (size_t)(n - off));
			if (w < 0 && errno == EINTR)
				w = 0;
			else if (w <= 0)
				return store_fail_errno(st, what);
		}
		*size += (uint64_t)n;
	}
}

/* The spool's file cannot be linked here: copied into a tmp/ file of our
 * own, made as APPEND makes one, and fsynced. */
static enum store_result
tmp_copied(struct store *st, int src_dirfd, const char *src_name, int why,
    int *fd, char name[BLOB_TMP_NAME_MAX], uint64_t *size)
{
	static bool told;
	enum store_result r;
	uint64_t want;
	int in;

	in = openat(src_dirfd, src_name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
	    O_NONBLOCK);
	if (in < 0)
		return store_fail(st, errno == ELOOP ? STORE_INVALID : STORE_ERROR,
		    "%s: %s", src_name, strerror(errno));
	if ((r = tmp_open_check(st, in, src_name, &want)) != STORE_OK ||
	    (r = blob_tmp_create(st, fd, name)) != STORE_OK) {
		close(in);
		return r;
	}
	/* a setup that costs a copy per recipient: said once */
	if (!told)
		log_info("store: the spooled message cannot be linked into the "
		    "store (%s): copied, once per recipient", strerror(why));
	told = true;
	r = copy_fd(st, in, *fd, name, size);
	close(in);
	if (r == STORE_OK && *size != want)
		r = store_fail(st, STORE_ERROR, "%s: changed while copied",
		    src_name);
	if (r == STORE_OK && fsync(*fd) != 0)
		r = store_fail_errno(st, name);
	if (r != STORE_OK) {
		blob_tmp_unlink(st, name);
		close(*fd);
		*fd = -1;
	}
	return r;
}

/*
 * A hard link when it can be: every recipient's store then names the one
 * inode the spool wrote and fsynced, and N recipients cost one file.  A
 * copy when the spool is on another filesystem (EXDEV), the file has as
 * many links as it may have (EMLINK), or the filesystem makes none
 * (EPERM; Linux also says so for a directory, which the copy refuses).
 */
enum store_result
blob_tmp_import(struct store *st, int src_dirfd, const char *src_name,
    int *fd, char name[BLOB_TMP_NAME_MAX], uint64_t *size, bool *linked)
{
	*fd = -1;
	*linked = false;
	for (int i = 0; i < LINK_TRIES; i++) {
		snprintf(name, BLOB_TMP_NAME_MAX, "tmp/%016" PRIx64, blob_random());
		if (linkat(src_dirfd, src_name, st->dirfd, name, 0) == 0) {
			*linked = true;
			return tmp_linked(st, name, fd, size);
		}
		if (errno == EEXIST)
			continue;
		if (errno != EXDEV && errno != EMLINK && errno != EPERM)
			return store_fail(st, STORE_ERROR, "%s: link into the "
			    "store: %s", src_name, strerror(errno));
		return tmp_copied(st, src_dirfd, src_name, errno, fd, name,
		    size);
	}
	return store_fail(st, STORE_ERROR, "tmp/: no free name");
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
blob_exists(struct store *st, uint64_t id, bool *exists, uint64_t *size)
{
	char path[BLOB_PATH_MAX];
	struct stat sb;

	blob_path(id, path, NULL);
	*exists = fstatat(st->dirfd, path, &sb, AT_SYMLINK_NOFOLLOW) == 0;
	if (!*exists && errno != ENOENT)
		return store_fail_errno(st, path);
	*size = *exists ? (uint64_t)sb.st_size : 0;
	return STORE_OK;
}

static size_t
page_size(void)
{
	static size_t page;
	long n;

	if (page == 0) {
		n = sysconf(_SC_PAGESIZE);
		page = n > 0 ? (size_t)n : 4096;
	}
	return page;
}

static size_t
page_round(size_t n, size_t page)
{
	return (n + page - 1) & ~(page - 1);
}

/*
 * A message is the blob's prefix (what a delivery put in front of it,
 * kept in index.db: schema.sql, version 7) and then its file, and every
 * reader (FETCH, SEARCH, the MIME parser) wants it as one buffer.  The
 * file is not copied to get there: that would cost what mapping it
 * saves, for every large message.  Instead an anonymous region is
 * reserved, the prefix's pages (rounded up) followed by the file's; the
 * file is mapped over the second part (MAP_FIXED replaces the
 * reservation in one step, so nothing else can land there in between);
 * the prefix is written at the very end of the first part, so that it
 * runs straight into the file's first byte; and that part is made
 * read-only like the rest.  The data starts in the region's first page
 * and ends in its last, so blob_unmap finds the region again from the
 * pointer and the length alone.  Without a prefix this is the plain
 * mapping of the file, page-aligned, which blob_unmap undoes the same
 * way.  Mapped private and read-only: the file may be unlinked meanwhile
 * (another session expunged it) and the mapping still reads it.
 */
enum store_result
blob_map_fd(struct store *st, int fd, uint64_t fsize, const char *prefix,
    size_t plen, const char *what, const char **data, size_t *len)
{
	size_t page = page_size(), head, body;
	char *region;
	void *p;

	*data = NULL;
	*len = 0;
	if (fsize > SIZE_MAX / 4 || plen > SIZE_MAX / 4)
		return store_fail(st, STORE_ERROR, "%s: too large to map", what);
	if (plen == 0 && fsize == 0) {
		*data = "";
		return STORE_OK;
	}
	if (plen == 0) {
		p = mmap(NULL, (size_t)fsize, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED)
			return store_fail_errno(st, what);
		*data = p;
		*len = (size_t)fsize;
		return STORE_OK;
	}
	head = page_round(plen, page);
	body = page_round((size_t)fsize, page);
	region = mmap(NULL, head + body, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return store_fail_errno(st, what);
	if (fsize > 0 && mmap(region + head, (size_t)fsize, PROT_READ,
	    MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED) {
		store_fail_errno(st, what);
		munmap(region, head + body);
		return STORE_ERROR;
	}
	memcpy(region + head - plen, prefix, plen);
	if (mprotect(region, head, PROT_READ) != 0) {
		store_fail_errno(st, what);
		munmap(region, head + body);
		return STORE_ERROR;
	}
	*data = region + head - plen;
	*len = plen + (size_t)fsize;
	return STORE_OK;
}

/* The region blob_map_fd made: from the page of the first byte to the
 * end of the page of the last. */
void
blob_unmap(const char *data, size_t len)
{
	uintptr_t page = page_size(), start, end;

	if (data == NULL || len == 0)
		return;
	start = (uintptr_t)data & ~(page - 1);
	end = ((uintptr_t)data + len + page - 1) & ~(page - 1);
	if (munmap((void *)start, end - start) != 0)
		log_warn("store: munmap");
}

/*
 * Only a delivered message has a prefix, and then its file is smaller
 * than the message: one whose file is as large as the message its row
 * names (the caller's size) needs no look at its blob row.
 */
enum store_result
blob_map(struct store *st, uint64_t id, uint64_t size, const char **data,
    size_t *len)
{
	char path[BLOB_PATH_MAX], prefix[STORE_DELIVER_PREFIX_MAX];
	enum store_result r = STORE_OK;
	struct stat sb;
	size_t plen = 0;
	int fd;

	*data = NULL;
	*len = 0;
	blob_path(id, path, NULL);
	/* Missing: expunged by another session since our snapshot of the
	 * index (store_read_hold), or damage that store_fsck reports. */
	if ((fd = openat(st->dirfd, path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0)
		return store_fail(st, errno == ENOENT ? STORE_NOT_FOUND :
		    STORE_ERROR, "%s: %s (store_fsck reports messages whose "
		    "file is missing)", path, strerror(errno));
	if (fstat(fd, &sb) != 0)
		r = store_fail_errno(st, path);
	else if ((uint64_t)sb.st_size != size)
		r = index_blob_prefix(st->ix, id, prefix, sizeof(prefix), &plen);
	/* No row: expunged by another session since the caller read the
	 * message's (outside a store_read_hold). */
	if (r == STORE_NOT_FOUND)
		store_fail(st, r, "%s: expunged meanwhile", path);
	if (r == STORE_OK)
		r = blob_map_fd(st, fd, (uint64_t)sb.st_size, prefix, plen, path,
		    data, len);
	close(fd);
	return r;
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
