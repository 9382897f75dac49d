/*
 * store_fsck: make index.db and the files agree again.
 *
 *   orphan blob file (no row)   a crash between link and commit, or after
 *                               an expunge's commit: removed
 *   stale tmp/ file             an APPEND that died: removed once no
 *                               process holds its lock
 *   row whose file is missing   damage: reported; repair removes the row
 *                               and its messages (with tombstones)
 *   refcount that disagrees     repaired to the number of message rows
 *   file of the wrong size      damage (its size and the prefix's are not
 *                               the message's): reported only
 *   SQLite quick_check          reported only
 *   dead full-text documents    with --repair, purged (not a problem:
 *                               they wait for later writes normally)
 *
 * The scan runs in one write transaction: APPEND links its blob under the
 * same lock, so a file without a row seen here is really an orphan.
 *
 * A blob file with several links is no finding: a delivery links one
 * spooled file into each recipient's store (deliver.c), and a tmp/ name
 * removed here is one of those links, never the others.
 */
#include "autoconfig.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-int.h"
#include "xmalloc.h"

struct fsck {
	struct store *st;
	bool repair;
	void (*report)(void *arg, const char *line);
	void *arg;
	unsigned problems;
	struct idlist unlink_blobs;    /* after the commit */
	char **unlink_tmp;
	size_t n_tmp, cap_tmp;
	bool failed;
};

static void CAIRN_PRINTF(2, 3)
found(struct fsck *f, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	f->problems++;
	if (f->report != NULL)
		f->report(f->arg, line);
}

static const char *
fixed(const struct fsck *f, const char *what)
{
	return f->repair ? what : "";
}

/* The blob's file is gone: its messages cannot be read; remove them. */
static enum store_result
drop_blob_rows(struct fsck *f, uint64_t id)
{
	struct index *ix = f->st->ix;
	struct index_blob_user *u;
	struct store_mailbox mb;
	enum store_result r = STORE_OK;
	size_t n;

	if (index_blob_users(ix, id, &u, &n) != STORE_OK)
		return STORE_ERROR;
	for (size_t i = 0; i < n && r == STORE_OK; i++) {
		r = index_mailbox_get(ix, NULL, u[i].mailbox_id, &mb, NULL);
		if (r == STORE_OK)
			r = index_message_remove(ix, mb.id, u[i].uid,
			    mb.highestmodseq + 1);
		if (r == STORE_OK)
			r = index_mailbox_set_counters(ix, mb.id, mb.uidnext,
			    mb.highestmodseq + 1);
	}
	free(u);
	if (r == STORE_OK)
		r = index_blob_remove(ix, id);
	return r;
}

static enum store_result
check_blob(struct fsck *f, const struct index_blob *b)
{
	uint64_t fsize;
	bool exists;

	if (blob_exists(f->st, b->id, &exists, &fsize) != STORE_OK)
		return STORE_ERROR;
	if (!exists) {
		found(f, "blob %016" PRIx64 ": file missing, %" PRId64
		    " message(s)%s", b->id, b->uses,
		    fixed(f, " (messages removed)"));
		return f->repair ? drop_blob_rows(f, b->id) : STORE_OK;
	}
	/* The message is the prefix, then the file (schema step 7).  A file
	 * of the wrong size is damage FETCH refuses to serve; nothing here
	 * knows which bytes are right. */
	if (b->size != b->prefix_len + (int64_t)fsize)
		found(f, "blob %016" PRIx64 ": file of %" PRIu64 " bytes, %"
		    PRId64 " expected%s", b->id, fsize, b->size - b->prefix_len,
		    f->repair ? " (not repaired)" : "");
	if (b->refcount == b->uses)
		return STORE_OK;
	found(f, "blob %016" PRIx64 ": refcount %" PRId64 " but %" PRId64
	    " message(s)%s", b->id, b->refcount, b->uses, fixed(f, " (repaired)"));
	if (!f->repair)
		return STORE_OK;
	if (b->uses > 0)
		return index_blob_set_refcount(f->st->ix, b->id, b->uses);
	idlist_add(&f->unlink_blobs, b->id);
	return index_blob_remove(f->st->ix, b->id);
}

static enum store_result
check_rows(struct fsck *f)
{
	struct index_blob *b;
	enum store_result r = STORE_OK;
	size_t n;

	if (index_blob_all(f->st->ix, &b, &n) != STORE_OK)
		return STORE_ERROR;
	for (size_t i = 0; i < n && r == STORE_OK; i++)
		r = check_blob(f, &b[i]);
	free(b);
	return r;
}

static int
check_file(void *arg, uint64_t id, const char *path)
{
	struct fsck *f = arg;
	bool known;

	if (id == 0) {
		found(f, "%s: not a blob name (left alone)", path);
		return 0;
	}
	if (index_blob_known(f->st->ix, id, &known) != STORE_OK) {
		f->failed = true;
		return 1;
	}
	if (!known) {
		found(f, "%s: orphan blob file%s", path, fixed(f, " (removed)"));
		if (f->repair)
			idlist_add(&f->unlink_blobs, id);
	}
	return 0;
}

static int
check_tmp(void *arg, const char *path, bool busy)
{
	struct fsck *f = arg;

	if (busy)
		return 0;
	found(f, "%s: stale temporary file%s", path, fixed(f, " (removed)"));
	if (f->repair) {
		if (f->n_tmp == f->cap_tmp) {
			f->cap_tmp = f->cap_tmp ? f->cap_tmp * 2 : 16;
			f->unlink_tmp = xreallocarray(f->unlink_tmp, f->cap_tmp,
			    sizeof(*f->unlink_tmp));
		}
		f->unlink_tmp[f->n_tmp++] = xstrdup(path);
	}
	return 0;
}

static enum store_result
check_sqlite(struct fsck *f)
{
	struct buf out = BUF_INIT;
	char *line, *save = NULL;

	if (index_quick_check(f->st->ix, &out) != STORE_OK) {
		buf_free(&out);
		return STORE_ERROR;
	}
	if (out.data != NULL && strcmp(out.data, "ok") != 0)
		for (line = strtok_r(out.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			found(f, "index.db: %s", line);
	buf_free(&out);
	return STORE_OK;
}

/* After check_rows (which may remove rows): the triggers' bookkeeping. */
static enum store_result
check_counters(struct fsck *f)
{
	struct buf names = BUF_INIT;
	char *line, *save = NULL;
	enum store_result r;

	if ((r = index_counters_check(f->st->ix, &names)) == STORE_OK &&
	    names.len > 0) {
		buf_append_char(&names, '\0');
		for (line = strtok_r(names.data, "\n", &save); line != NULL;
		    line = strtok_r(NULL, "\n", &save))
			found(f, "mailbox %s: message counts or UID map differ from "
			    "its messages%s", line, fixed(f, " (counted again)"));
		if (f->repair)
			r = index_counters_rebuild(f->st->ix);
	}
	buf_free(&names);
	return r;
}

static enum store_result
scan(struct fsck *f)
{
	if (check_rows(f) != STORE_OK || check_counters(f) != STORE_OK)
		return STORE_ERROR;
	if (blob_scan(f->st, check_file, f) != STORE_OK || f->failed)
		return STORE_ERROR;
	return blob_tmp_scan(f->st, check_tmp, f);
}

static void
cleanup(struct fsck *f, bool do_unlink)
{
	for (size_t i = 0; i < f->n_tmp; i++) {
		if (do_unlink)
			blob_tmp_unlink(f->st, f->unlink_tmp[i]);
		free(f->unlink_tmp[i]);
	}
	free(f->unlink_tmp);
	if (do_unlink)
		store_unlink_freed(f->st, &f->unlink_blobs);
	free(f->unlink_blobs.id);
}

enum store_result
store_fsck(struct store *st, bool repair,
    void (*report)(void *arg, const char *line), void *arg, unsigned *problems)
{
	struct fsck f = { .st = st, .repair = repair, .report = report,
	    .arg = arg };
	enum store_result r;

	if (problems != NULL)
		*problems = 0;
	if (check_sqlite(&f) != STORE_OK)
		return STORE_ERROR;
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	r = scan(&f);
	/* and every dead full-text document leaves the index (fts.c) */
	if (r == STORE_OK && repair)
		r = fts_purge(st, SIZE_MAX);
	if (r == STORE_OK && repair)
		r = index_commit(st->ix);
	else
		index_rollback(st->ix);
	/* Files go only once the rows that could name them are committed. */
	cleanup(&f, r == STORE_OK && repair);
	if (problems != NULL)
		*problems = f.problems;
	return r;
}
