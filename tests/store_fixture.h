/*
 * What the store's Check suites (check_store, check_fts, check_threadid,
 * check_deliver_store) share: a fresh store directory for each test,
 * removed after it; SQL behind the store's back; the rows the store
 * reads, counted; stores as older versions of Cairn left them, to test
 * upgrades.
 */
#ifndef CAIRN_TESTS_STORE_FIXTURE_H
#define CAIRN_TESTS_STORE_FIXTURE_H

#include <stdint.h>

#include "store.h"

extern char dir[64];     /* the test's store directory */
extern int dfd;          /* open on it */

/* tcase_add_checked_fixture(tc, store_fixture_setup, store_fixture_teardown) */
void store_fixture_setup(void);
void store_fixture_teardown(void);
/* store_open on dfd; the test fails if it cannot. */
struct store *open_store(void);
/* Run SQL on index.db behind the store's back (another connection). */
void sql(const char *text);
/* One number from index.db, the same way. */
int64_t sql_int(const char *text);
/* Rows SQLite has handed out in this process so far (sqlite3_step is
 * wrapped in store_fixture.c): what a store call reads is the
 * difference. */
uint64_t sql_rows(void);
/* Remove name under parent, and all below it. */
void rm_tree(int parent, const char *name);
/*
 * A store as an older Cairn left it, to test upgrades: index.db made by
 * the first `version` steps of schema.sql, at that version, then text
 * (SQL: its mailboxes and messages) run on it.  Not opened.
 */
void old_store(int version, const char *text);
/* The file of blob id, as a store writes it (blobs/ab/<id>). */
void old_blob_file(uint64_t id, const char *data, size_t len);
/* The schema version an upgraded store is at (the last step's). */
int schema_newest(void);

#endif
