/* The store directory each store test starts from (store_fixture.h). */
#include "autoconfig.h"

#include <check.h>
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store_fixture.h"
/* The schema steps, to make a store of an older version (old_store). */
#include "schema-sql.h"

char dir[64];
int dfd = -1;

static uint64_t rows_stepped;

/*
 * Every sqlite3_step of the store comes here first: libstore.a is linked
 * into the test program, so its calls bind to this definition, and the
 * real one is the next in line.  The rows handed out are counted, for the
 * tests of how many rows a read of the store costs (sql_rows).
 */
int
sqlite3_step(sqlite3_stmt *s)
{
	static int (*real)(sqlite3_stmt *);
	int rc;

	if (real == NULL) {
		*(void **)&real = dlsym(RTLD_NEXT, "sqlite3_step");
		if (real == NULL)
			abort();
	}
	if ((rc = real(s)) == SQLITE_ROW)
		rows_stepped++;
	return rc;
}

uint64_t
sql_rows(void)
{
	return rows_stepped;
}

void
rm_tree(int parent, const char *name)
{
	int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
	struct dirent *e;
	DIR *d;

	if (fd < 0) {
		unlinkat(parent, name, 0);
		return;
	}
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rm_tree(dirfd(d), e->d_name);
	closedir(d);
	unlinkat(parent, name, AT_REMOVEDIR);
}

void
store_fixture_setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/check_store.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
}

void
store_fixture_teardown(void)
{
	close(dfd);
	dfd = -1;
	rm_tree(AT_FDCWD, dir);
}

struct store *
open_store(void)
{
	struct store *st = NULL;
	char err[512];
	enum store_result r = store_open(dfd, &st, err, sizeof(err));

	ck_assert_msg(r == STORE_OK, "store_open: %s", err);
	return st;
}

void
sql(const char *text)
{
	char path[128], *err = NULL;
	sqlite3 *db;
	int rc;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	rc = sqlite3_exec(db, text, NULL, NULL, &err);
	ck_assert_msg(rc == SQLITE_OK, "%s: %s", text, err != NULL ? err : "?");
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

int64_t
sql_int(const char *text)
{
	char path[128];
	sqlite3_stmt *s;
	sqlite3 *db;
	int64_t v;

	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	ck_assert_msg(sqlite3_prepare_v2(db, text, -1, &s, NULL) == SQLITE_OK,
	    "%s: %s", text, sqlite3_errmsg(db));
	ck_assert_int_eq(sqlite3_step(s), SQLITE_ROW);
	v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
	return v;
}

void
old_store(int version, const char *text)
{
	char path[128], pragma[64], *err = NULL;
	sqlite3 *db;

	ck_assert_int_ge(version, 1);
	ck_assert_int_lt(version, SCHEMA_VERSION);
	snprintf(path, sizeof(path), "%s/index.db", dir);
	ck_assert_int_eq(sqlite3_open(path, &db), SQLITE_OK);
	for (int i = 0; i < version; i++)
		ck_assert_msg(sqlite3_exec(db, schema_steps[i], NULL, NULL,
		    &err) == SQLITE_OK, "step %d: %s", i + 1, err);
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", version);
	ck_assert_int_eq(sqlite3_exec(db, pragma, NULL, NULL, NULL), SQLITE_OK);
	ck_assert_msg(sqlite3_exec(db, text, NULL, NULL, &err) == SQLITE_OK,
	    "%s: %s", text, err);
	ck_assert_int_eq(sqlite3_close(db), SQLITE_OK);
}

void
old_blob_file(uint64_t id, const char *data, size_t len)
{
	char path[160];
	int fd;

	snprintf(path, sizeof(path), "%s/blobs", dir);
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/blobs/%02x", dir, (unsigned)(id >> 56));
	ck_assert(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof(path), "%s/blobs/%02x/%016" PRIx64, dir,
	    (unsigned)(id >> 56), id);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

int
schema_newest(void)
{
	return SCHEMA_VERSION;
}
