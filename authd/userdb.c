/*
 * users.db, the user database, in SQLite.  This is the only file that
 * includes sqlite3.h for it.  Every statement is a constant string with
 * bound parameters.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "userdb.h"
#include "xmalloc.h"

#define USERDB_SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000

struct userdb {
	sqlite3 *db;
	bool read_only;
	char err[512];
};

static const char schema_sql[] =
    "CREATE TABLE users ("
    " name TEXT PRIMARY KEY,"
    " hash TEXT NOT NULL,"
    " disabled INTEGER NOT NULL DEFAULT 0,"
    " quota INTEGER NOT NULL DEFAULT 0,"
    " created INTEGER NOT NULL,"
    " updated INTEGER NOT NULL)";

#define USER_COLUMNS "name, hash, disabled, quota, created, updated"

static void CAIRN_PRINTF(2, 3)
set_error(struct userdb *db, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(db->err, sizeof(db->err), fmt, ap);
	va_end(ap);
}

static enum userdb_result
sqlite_error(struct userdb *db, const char *what)
{
	set_error(db, "%s: %s", what, sqlite3_errmsg(db->db));
	return USERDB_ERROR;
}

static int
prepare(struct userdb *db, const char *sql, sqlite3_stmt **stmt)
{
	if (sqlite3_prepare_v2(db->db, sql, -1, stmt, NULL) != SQLITE_OK) {
		*stmt = NULL;
		sqlite_error(db, "prepare");
		return -1;
	}
	return 0;
}

/* Run a constant statement that returns no rows worth reading. */
static int
exec_sql(struct userdb *db, const char *sql)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prepare(db, sql, &stmt) != 0)
		return -1;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE)
		sqlite_error(db, sql);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* A single integer from a constant query (a PRAGMA, a count). */
static int
query_int(struct userdb *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prepare(db, sql, &stmt) != 0)
		return -1;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(stmt, 0);
	else
		sqlite_error(db, sql);
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Create the file ourselves so that it is 0600 whatever the umask; SQLite
 * gives its journal the same mode.  An existing file keeps its mode.
 */
static int
create_file(const char *path, char *err, size_t errlen)
{
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST)
		return 0;
	if (fd < 0 || fchmod(fd, 0600) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/*
 * Make the schema in one transaction.  BEGIN IMMEDIATE takes the write lock
 * first, so two creators cannot both see version 0 and both create.
 */
static int
create_schema(struct userdb *db)
{
	int64_t version;

	if (exec_sql(db, "BEGIN IMMEDIATE") != 0)
		return -1;
	if (query_int(db, "PRAGMA user_version", &version) != 0)
		goto fail;
	if (version == 0 && (exec_sql(db, schema_sql) != 0 ||
	    exec_sql(db, "PRAGMA user_version = 1") != 0))
		goto fail;
	if (exec_sql(db, "COMMIT") != 0)
		goto fail;
	return 0;
fail:
	(void)sqlite3_exec(db->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/*
 * The first read of the file: this is where a file that is not a database
 * is found, so the message is SQLite's alone ("file is not a database").
 */
static int
read_version(struct userdb *db, int64_t *version)
{
	if (query_int(db, "PRAGMA user_version", version) != 0) {
		set_error(db, "%s", sqlite3_errmsg(db->db));
		return -1;
	}
	return 0;
}

/* Check (or, when allowed, make) the schema; 0 or -1 with db->err set. */
static int
check_schema(struct userdb *db, int64_t version, bool create)
{
	int64_t objects;

	if (version == USERDB_SCHEMA_VERSION)
		return 0;
	if (version != 0) {
		set_error(db, "unsupported users.db schema version %" PRId64, version);
		return -1;
	}
	if (query_int(db, "SELECT count(*) FROM sqlite_master", &objects) != 0)
		return -1;
	if (objects != 0) {
		set_error(db, "unsupported users.db schema version 0 "
		    "(the database has tables but no version)");
		return -1;
	}
	if (!create) {
		set_error(db, "users.db is empty: it has no schema yet");
		return -1;
	}
	if (create_schema(db) != 0 || read_version(db, &version) != 0)
		return -1;
	return check_schema(db, version, false);
}

/* Per-connection settings, for writers only. */
static int
configure_writer(struct userdb *db)
{
	/*
	 * Not WAL: authd opens the file read-only and could not create the
	 * -shm file WAL needs.  secure_delete: an old hash is overwritten, not
	 * left in a free page, when it is replaced or its user deleted.
	 */
	if (exec_sql(db, "PRAGMA journal_mode = DELETE") != 0 ||
	    exec_sql(db, "PRAGMA secure_delete = ON") != 0)
		return -1;
	return 0;
}

/*
 * On failure SQLite still returns a handle, for the message; its "unable to
 * open database file" says little, so the system's reason is added.
 */
static void
open_error(struct userdb *db, const char *path, char *err, size_t errlen)
{
	int e;

	if (db->db == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		return;
	}
	e = sqlite3_system_errno(db->db);
	if (e != 0)
		snprintf(err, errlen, "%s: %s (%s)", path, sqlite3_errmsg(db->db),
		    strerror(e));
	else
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db->db));
}

struct userdb *
userdb_open(const char *path, bool create, bool read_only, char *err,
    size_t errlen)
{
	struct userdb *db;
	int64_t version;
	int flags = SQLITE_OPEN_NOMUTEX;

	if (create && read_only) {
		snprintf(err, errlen, "%s: cannot create a database opened "
		    "read-only", path);
		return NULL;
	}
	if (create && create_file(path, err, errlen) != 0)
		return NULL;
	if (read_only)
		flags |= SQLITE_OPEN_READONLY;
	else
		flags |= SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);

	db = xcalloc(1, sizeof(*db));
	db->read_only = read_only;
	if (sqlite3_open_v2(path, &db->db, flags, NULL) != SQLITE_OK) {
		open_error(db, path, err, errlen);
		userdb_close(db);
		return NULL;
	}
	(void)sqlite3_busy_timeout(db->db, BUSY_TIMEOUT_MS);
	/* The schema first: a file that is not ours is left as it was. */
	if (read_version(db, &version) != 0 ||
	    check_schema(db, version, create) != 0 ||
	    (!read_only && configure_writer(db) != 0)) {
		snprintf(err, errlen, "%s: %s", path, db->err);
		userdb_close(db);
		return NULL;
	}
	return db;
}

void
userdb_close(struct userdb *db)
{
	if (db == NULL)
		return;
	if (db->db != NULL && sqlite3_close(db->db) != SQLITE_OK)
		log_warnx("users.db: close: %s", sqlite3_errmsg(db->db));
	free(db);
}

const char *
userdb_error(const struct userdb *db)
{
	return db->err;
}

/* Copy a text column into dst (size dstlen); false if absent or too long. */
static bool
copy_text(sqlite3_stmt *stmt, int col, char *dst, size_t dstlen)
{
	const unsigned char *s = sqlite3_column_text(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);

	if (s == NULL || n < 0 || (size_t)n >= dstlen ||
	    memchr(s, '\0', (size_t)n) != NULL)
		return false;
	memcpy(dst, s, (size_t)n);
	dst[n] = '\0';
	return true;
}

/*
 * A row into out, in USER_COLUMNS order.  The file may have been edited by
 * hand, so nothing is trusted to fit.
 */
static enum userdb_result
read_row(struct userdb *db, sqlite3_stmt *stmt, struct userdb_user *out)
{
	int64_t quota;

	memset(out, 0, sizeof(*out));
	if (!copy_text(stmt, 0, out->name, sizeof(out->name))) {
		set_error(db, "users.db has a user name that is not valid text "
		    "of at most %d bytes", USERNAME_MAX);
		return USERDB_ERROR;
	}
	if (!copy_text(stmt, 1, out->hash, sizeof(out->hash))) {
		set_error(db, "users.db: user %s: the hash is not valid text of "
		    "at most %d bytes", out->name, PASSWORD_HASH_MAX - 1);
		return USERDB_ERROR;
	}
	quota = sqlite3_column_int64(stmt, 3);
	if (quota < 0) {
		set_error(db, "users.db: user %s: negative quota", out->name);
		return USERDB_ERROR;
	}
	out->disabled = sqlite3_column_int64(stmt, 2) != 0;
	out->quota = (uint64_t)quota;
	out->created = sqlite3_column_int64(stmt, 4);
	out->updated = sqlite3_column_int64(stmt, 5);
	return USERDB_OK;
}

static enum userdb_result
check_writable(struct userdb *db)
{
	if (db->read_only) {
		set_error(db, "users.db is open read-only");
		return USERDB_ERROR;
	}
	return USERDB_OK;
}

static enum userdb_result
check_hash(struct userdb *db, const char *hash)
{
	if (!password_hash_supported(hash)) {
		set_error(db, "not a supported password hash (yescrypt, "
		    "SHA-512-crypt or bcrypt)");
		return USERDB_ERROR;
	}
	return USERDB_OK;
}

enum userdb_result
userdb_get(struct userdb *db, const char *name, struct userdb_user *out)
{
	sqlite3_stmt *stmt;
	enum userdb_result res;
	int rc;

	if (name == NULL)
		return USERDB_NOT_FOUND;
	if (prepare(db, "SELECT " USER_COLUMNS " FROM users WHERE name = ?1",
	    &stmt) != 0)
		return USERDB_ERROR;
	if (sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqlite_error(db, "bind");
	}
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW)
		res = read_row(db, stmt, out);
	else if (rc == SQLITE_DONE)
		res = USERDB_NOT_FOUND;
	else
		res = sqlite_error(db, "get");
	sqlite3_finalize(stmt);
	return res;
}

enum userdb_result
userdb_add(struct userdb *db, const char *name, const char *hash)
{
	sqlite3_stmt *stmt;
	const char *why = "missing";
	enum userdb_result res;
	int rc;

	if (check_writable(db) != USERDB_OK)
		return USERDB_ERROR;
	if (name == NULL || !username_valid(name, strlen(name), &why)) {
		set_error(db, "invalid user name: %s", why);
		return USERDB_ERROR;
	}
	if (check_hash(db, hash) != USERDB_OK)
		return USERDB_ERROR;
	if (prepare(db, "INSERT INTO users (" USER_COLUMNS ") "
	    "VALUES (?1, ?2, 0, 0, ?3, ?3)", &stmt) != 0)
		return USERDB_ERROR;
	if (sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL)) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqlite_error(db, "bind");
	}
	rc = sqlite3_step(stmt);
	/* The primary key is the only constraint an insert here can break. */
	if (rc == SQLITE_DONE)
		res = USERDB_OK;
	else if ((rc & 0xff) == SQLITE_CONSTRAINT)
		res = USERDB_EXISTS;
	else
		res = sqlite_error(db, "add");
	sqlite3_finalize(stmt);
	return res;
}

/* UPDATE or DELETE of one user by name (?1); extra binds by the caller. */
static enum userdb_result
change_user(struct userdb *db, sqlite3_stmt *stmt, const char *name)
{
	enum userdb_result res;
	int rc;

	if (sqlite3_bind_text(stmt, 1, name, -1, SQLITE_STATIC) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqlite_error(db, "bind");
	}
	rc = sqlite3_step(stmt);
	if (rc != SQLITE_DONE)
		res = sqlite_error(db, "change");
	else
		res = sqlite3_changes(db->db) == 0 ? USERDB_NOT_FOUND : USERDB_OK;
	sqlite3_finalize(stmt);
	return res;
}

enum userdb_result
userdb_set_hash(struct userdb *db, const char *name, const char *hash)
{
	sqlite3_stmt *stmt;

	if (check_writable(db) != USERDB_OK || check_hash(db, hash) != USERDB_OK)
		return USERDB_ERROR;
	if (name == NULL)
		return USERDB_NOT_FOUND;
	if (prepare(db, "UPDATE users SET hash = ?2, updated = ?3 "
	    "WHERE name = ?1", &stmt) != 0)
		return USERDB_ERROR;
	if (sqlite3_bind_text(stmt, 2, hash, -1, SQLITE_STATIC) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL)) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqlite_error(db, "bind");
	}
	return change_user(db, stmt, name);
}

enum userdb_result
userdb_set_disabled(struct userdb *db, const char *name, bool disabled)
{
	sqlite3_stmt *stmt;

	if (check_writable(db) != USERDB_OK)
		return USERDB_ERROR;
	if (name == NULL)
		return USERDB_NOT_FOUND;
	if (prepare(db, "UPDATE users SET disabled = ?2, updated = ?3 "
	    "WHERE name = ?1", &stmt) != 0)
		return USERDB_ERROR;
	if (sqlite3_bind_int(stmt, 2, disabled ? 1 : 0) != SQLITE_OK ||
	    sqlite3_bind_int64(stmt, 3, (sqlite3_int64)time(NULL)) != SQLITE_OK) {
		sqlite3_finalize(stmt);
		return sqlite_error(db, "bind");
	}
	return change_user(db, stmt, name);
}

enum userdb_result
userdb_delete(struct userdb *db, const char *name)
{
	sqlite3_stmt *stmt;

	if (check_writable(db) != USERDB_OK)
		return USERDB_ERROR;
	if (name == NULL)
		return USERDB_NOT_FOUND;
	if (prepare(db, "DELETE FROM users WHERE name = ?1", &stmt) != 0)
		return USERDB_ERROR;
	return change_user(db, stmt, name);
}

enum userdb_result
userdb_list(struct userdb *db, int (*fn)(const struct userdb_user *u, void *arg),
    void *arg)
{
	sqlite3_stmt *stmt;
	struct userdb_user u;
	enum userdb_result res = USERDB_OK;
	int rc;

	if (prepare(db, "SELECT " USER_COLUMNS " FROM users ORDER BY name",
	    &stmt) != 0)
		return USERDB_ERROR;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if ((res = read_row(db, stmt, &u)) != USERDB_OK)
			break;
		if (fn(&u, arg) != 0)
			break;
	}
	if (res == USERDB_OK && rc != SQLITE_ROW && rc != SQLITE_DONE)
		res = sqlite_error(db, "list");
	sqlite3_finalize(stmt);
	explicit_bzero(&u, sizeof(u));
	return res;
}
