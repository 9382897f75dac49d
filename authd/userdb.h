/*
 * <data-dir>/auth/users.db: the user database (SQLite).  Only cairn-authd
 * (reading) and cairnctl (writing, as auth-user) open it.
 *
 *   users(name TEXT PRIMARY KEY, hash TEXT NOT NULL,
 *         disabled INTEGER NOT NULL DEFAULT 0, quota INTEGER NOT NULL DEFAULT 0,
 *         created INTEGER NOT NULL, updated INTEGER NOT NULL)
 *   PRAGMA user_version = 1
 */
#ifndef CAIRN_USERDB_H
#define CAIRN_USERDB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "password.h"
#include "username.h"

#define USERDB_FILE "users.db"

enum userdb_result {
	USERDB_OK = 0,
	USERDB_NOT_FOUND,
	USERDB_EXISTS,
	USERDB_ERROR,             /* SQLite failed; userdb_error() says why */
};

struct userdb_user {
	char name[USERNAME_MAX + 1];
	char hash[PASSWORD_HASH_MAX];
	bool disabled;
	uint64_t quota;           /* bytes; 0 = none */
	int64_t created;          /* unix time */
	int64_t updated;
};

struct userdb;

/*
 * Open path; create: make the file and schema if missing (mode 0600).
 * read_only: open for reading only (cairn-authd).  NULL with err filled.
 */
struct userdb *userdb_open(const char *path, bool create, bool read_only,
    char *err, size_t errlen);
void userdb_close(struct userdb *db);
const char *userdb_error(const struct userdb *db);

enum userdb_result userdb_get(struct userdb *db, const char *name,
    struct userdb_user *out);
enum userdb_result userdb_add(struct userdb *db, const char *name, const char *hash);
enum userdb_result userdb_set_hash(struct userdb *db, const char *name,
    const char *hash);
enum userdb_result userdb_set_disabled(struct userdb *db, const char *name,
    bool disabled);
enum userdb_result userdb_delete(struct userdb *db, const char *name);
/* Calls fn for every user in name order; stops early if fn returns non-zero. */
enum userdb_result userdb_list(struct userdb *db,
    int (*fn)(const struct userdb_user *u, void *arg), void *arg);

#endif
