/*
 * APPEND: the message streams into tmp/ (never whole in memory); the
 * commit makes the file durable, parses its MIME structure once, links it
 * into blobs/ and adds the row, with its thread (threadid.c), in one
 * transaction.
 *
 * Crash safety, step by step: before the link only a tmp file exists (fsck
 * removes it once no APPEND holds it); between the link and the commit a
 * blob file without a row (an orphan: fsck removes it); after the commit
 * the row and its file.  Never a row without its file.  The link happens
 * with the write lock held, so fsck, which scans under the same lock,
 * never takes a blob about to be committed for an orphan.
 */
#include "autoconfig.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mime.h"
#include "store-int.h"
#include "xmalloc.h"

/* The largest zone offset INTERNALDATE can write: +9959 (RFC 9051 zone). */
#define TZ_MINUTES_MAX (99 * 60 + 59)

struct store_append {
	struct store *st;
	int fd;
	char tmpname[BLOB_TMP_NAME_MAX];
	uint64_t size;
	bool failed;          /* a write failed: the commit must not happen */
	bool has_sha256;      /* store_append_set_sha256 */
	unsigned char sha256[INDEX_SHA256_LEN];
};

enum store_result
store_append_begin(struct store *st, struct store_append **out)
{
	struct store_append *ap = xcalloc(1, sizeof(*ap));

	ap->st = st;
	if (blob_tmp_create(st, &ap->fd, ap->tmpname) != STORE_OK) {
		free(ap);
		*out = NULL;
		return STORE_ERROR;
	}
	*out = ap;
	return STORE_OK;
}

enum store_result
store_append_write(struct store_append *ap, const void *data, size_t len)
{
	const char *p = data;

	if (ap->failed)
		return STORE_ERROR;
	while (len > 0) {
		ssize_t n = write(ap->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			ap->failed = true;
			return store_fail_errno(ap->st, ap->tmpname);
		}
		p += n;
		len -= (size_t)n;
		ap->size += (uint64_t)n;
	}
	return STORE_OK;
}

void
store_append_set_sha256(struct store_append *ap,
    const unsigned char sha256[STORE_SHA256_LEN])
{
	memcpy(ap->sha256, sha256, sizeof(ap->sha256));
	ap->has_sha256 = true;
}

void
store_append_abort(struct store_append *ap)
{
	if (ap == NULL)
		return;
	blob_tmp_unlink(ap->st, ap->tmpname);
	close(ap->fd);
	free(ap);
}

/*
 * The file is durable, then parsed once through a read-only mapping for
 * both the MIME cache and the full-text document (which fts.c queues
 * after the commit).  A document that cannot be made fails nothing: the
 * message is then indexed by the next BODY or TEXT search (*doc_ok).
 */
static enum store_result
parse_tmp(struct store_append *ap, struct cache *t, struct fts_doc *doc,
    bool *doc_ok)
{
	struct mime_part *root;
	enum store_result r;
	const char *data;
	size_t len;

	*doc_ok = false;
	if (fsync(ap->fd) != 0)
		return store_fail_errno(ap->st, ap->tmpname);
	if (blob_map_fd(ap->st, ap->fd, ap->size, NULL, 0, ap->tmpname, &data,
	    &len) != STORE_OK)
		return STORE_ERROR;
	root = mime_parse(data, len);
	r = cache_render(ap->st, data, len, root, t);
	if (r == STORE_OK && fts_make(ap->st, data, len, root, doc) == STORE_OK)
		*doc_ok = true;
	else if (r == STORE_OK)
		log_warnx("%s: left for the next search to index",
		    store_error(ap->st));
	mime_free(root);
	blob_unmap(data, len);
	return r;
}

bool
append_tz_valid(int tz_minutes)
{
	return tz_minutes >= -TZ_MINUTES_MAX && tz_minutes <= TZ_MINUTES_MAX;
}

static enum store_result
find_mailbox(struct store *st, const char *name, struct store_mailbox *mb)
{
	enum store_result r = index_mailbox_get(st->ix, name, 0, mb, NULL);

	if (r == STORE_NOT_FOUND || (r == STORE_OK && mb->noselect))
		return store_fail(st, STORE_NOT_FOUND, "no such mailbox");
	if (r == STORE_OK && mb->uidnext >= UINT32_MAX)
		return store_fail(st, STORE_ERROR, "the mailbox has used up "
		    "its UIDs");
	return r;
}

/* The rows, given the linked blob; in the transaction. */
static enum store_result
add_rows(struct store *st, const struct store_mailbox *mb, uint64_t keywords,
    const struct append_args *a, uint64_t blob_id)
{
	struct index_message m = {
		.uid = mb->uidnext, .modseq = mb->highestmodseq + 1,
		.flags = a->flags, .keywords = keywords,
		.internaldate = a->internaldate, .tz_minutes = a->tz_minutes,
		.size = a->size, .blob_id = blob_id, .email_id = blob_id,
		.savedate = (int64_t)time(NULL),     /* RFC 8514 §3 */
	};

	/* RFC 8474 §5.2: by its ids, across the user's mailboxes */
	if (thread_assign(st, &a->mime->refs, &m.thread_id) != STORE_OK ||
	    index_blob_add(st->ix, blob_id, a->size, a->prefix,
	    a->prefix_len) != STORE_OK ||
	    index_mime_set(st->ix, blob_id, cache_str(&a->mime->envelope),
	    cache_str(&a->mime->body), cache_str(&a->mime->bodystructure),
	    cache_str(&a->mime->preview), cache_fields(a->mime)) != STORE_OK ||
	    (a->sha256 != NULL && index_blob_set_sha256(st->ix, blob_id,
	    a->sha256) != STORE_OK) ||
	    index_message_add(st->ix, mb->id, &m) != STORE_OK ||
	    index_sortkeys_set(st->ix, blob_id, &a->mime->keys) != STORE_OK ||
	    index_mailbox_set_counters(st->ix, mb->id, mb->uidnext + 1,
	    mb->highestmodseq + 1) != STORE_OK)
		return STORE_ERROR;
	return STORE_OK;
}

/* STORE_EXISTS when a message of the mailbox has this import hash. */
static enum store_result
duplicate_check(struct store *st, int64_t mailbox_id,
    const unsigned char *sha256)
{
	bool found;

	if (index_mailbox_has_sha256(st->ix, mailbox_id, sha256, &found) !=
	    STORE_OK)
		return STORE_ERROR;
	return found ? store_fail(st, STORE_EXISTS, "already imported") :
	    STORE_OK;
}

/* Before the file is synced and parsed: a rerun of an import skips the
 * messages it has without that cost. */
static enum store_result
duplicate_precheck(struct store *st, const char *canon,
    const unsigned char *sha256)
{
	struct store_mailbox mb;
	enum store_result r;

	if (index_begin(st->ix, false) != STORE_OK)
		return STORE_ERROR;
	r = find_mailbox(st, canon, &mb);
	if (r == STORE_OK)
		r = duplicate_check(st, mb.id, sha256);
	if (r == STORE_OK || r == STORE_EXISTS)
		(void)index_commit(st->ix);
	else
		index_rollback(st->ix);
	return r;
}

static enum store_result
commit_locked(struct store *st, const char *tmpname,
    const struct append_args *a, struct store_mailbox *mb, uint64_t *blob_id)
{
	struct kwtable kw;
	uint64_t mask;
	enum store_result r;

	if ((r = find_mailbox(st, a->mailbox, mb)) != STORE_OK)
		return r;
	/* An import's message already there: checked again under the lock,
	 * so that two imports at once add it once. */
	if (a->sha256 != NULL && (r = duplicate_check(st, mb->id,
	    a->sha256)) != STORE_OK)
		return r;
	/* Under the write lock: no other session adds in between. */
	if ((r = quota_check_locked(st, a->size, 1)) != STORE_OK)
		return r;
	if (kw_load(st, mb->id, &kw) != STORE_OK)
		return STORE_ERROR;
	r = kw_mask(st, mb->id, &kw, a->keywords, a->n_keywords, true, &mask);
	kw_free(&kw);
	if (r != STORE_OK)
		return r;
	if (blob_link(st, tmpname, blob_id) != STORE_OK)
		return STORE_ERROR;
	return add_rows(st, mb, mask, a, *blob_id);
}

enum store_result
append_tmp_commit(struct store *st, const char *tmpname,
    const struct append_args *a, struct store_mailbox *mb, uint64_t *blob_id)
{
	enum store_result r;

	*blob_id = 0;
	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	r = commit_locked(st, tmpname, a, mb, blob_id);
	if (r == STORE_OK)
		r = index_commit(st->ix);
	else
		index_rollback(st->ix);
	/* The row never came: its file goes (a crash here leaves an orphan
	 * that fsck removes). */
	if (r != STORE_OK && *blob_id != 0) {
		blob_unlink(st, *blob_id);
		*blob_id = 0;
	}
	return r;
}

static enum store_result
check_args(struct store_append *ap, const struct append_args *a)
{
	if (ap->failed)
		return STORE_ERROR;
	if ((a->flags & ~STORE_FLAGS_ALL) != 0)
		return store_fail(ap->st, STORE_INVALID, "unknown flag");
	if (!append_tz_valid(a->tz_minutes))
		return store_fail(ap->st, STORE_INVALID, "invalid time zone");
	for (size_t i = 0; i < a->n_keywords; i++)
		if (!store_keyword_valid(a->keywords[i]))
			return store_fail(ap->st, STORE_INVALID, "invalid keyword");
	return STORE_OK;
}

/* One message of a commit: checked, durable and parsed, before the lock. */
struct prepared {
	char canon[STORE_MAILBOX_NAME_MAX + 1];
	struct append_args a;
	struct cache t;
	struct fts_doc doc;
	bool doc_ok;
	uint64_t blob_id;
};

static enum store_result
prepare(struct store_append *ap, struct prepared *p)
{
	enum store_result r;

	p->t = (struct cache)CACHE_INIT;
	if (ap->has_sha256)
		p->a.sha256 = ap->sha256;
	if ((r = check_args(ap, &p->a)) != STORE_OK ||
	    (r = store_name_canon(ap->st, p->a.mailbox, p->canon)) != STORE_OK ||
	    (p->a.sha256 != NULL && (r = duplicate_precheck(ap->st, p->canon,
	    p->a.sha256)) != STORE_OK) ||
	    (r = parse_tmp(ap, &p->t, &p->doc, &p->doc_ok)) != STORE_OK)
		return r;
	p->a.mailbox = p->canon;
	p->a.mime = &p->t;
	p->a.size = ap->size;
	return STORE_OK;
}

/*
 * Every message in one transaction (RFC 3502 §6.3.11: a MULTIAPPEND adds
 * all of its messages or none, also when the process dies half way).  On
 * failure the blobs linked so far go; a crash leaves them as orphans.
 */
static enum store_result
commit_all(struct store *st, struct store_append *const *aps,
    struct prepared *p, size_t n, uint32_t *uidvalidity, uint32_t *uids)
{
	struct store_mailbox mb;
	enum store_result r;
	size_t i;

	if (index_begin(st->ix, true) != STORE_OK)
		return STORE_ERROR;
	for (i = 0, r = STORE_OK; i < n && r == STORE_OK; i++) {
		r = commit_locked(st, aps[i]->tmpname, &p[i].a, &mb, &p[i].blob_id);
		if (r == STORE_OK) {
			*uidvalidity = mb.uidvalidity;
			uids[i] = mb.uidnext;
		}
	}
	if (r == STORE_OK)
		r = index_commit(st->ix);
	else
		index_rollback(st->ix);
	for (i = 0; i < n && r != STORE_OK; i++)
		if (p[i].blob_id != 0)
			blob_unlink(st, p[i].blob_id);
	return r;
}

enum store_result
store_append_commit_many(struct store_append *const *aps,
    const struct store_append_msg *msgs, size_t n, uint32_t *uidvalidity,
    uint32_t *uids)
{
	struct prepared *p = xcalloc(n ? n : 1, sizeof(*p));
	struct store *st = n ? aps[0]->st : NULL;
	enum store_result r = STORE_OK;
	size_t ready;

	for (ready = 0; ready < n && r == STORE_OK; ready++) {
		p[ready].a = (struct append_args){
			.mailbox = msgs[ready].mailbox, .flags = msgs[ready].flags,
			.keywords = msgs[ready].keywords,
			.n_keywords = msgs[ready].n_keywords,
			.internaldate = msgs[ready].internaldate,
			.tz_minutes = msgs[ready].tz_minutes,
		};
		r = prepare(aps[ready], &p[ready]);
		if (r != STORE_OK)
			cache_free(&p[ready].t);
	}
	if (r != STORE_OK)
		ready--;      /* the one that failed has nothing to free */
	else if (n > 0)
		r = commit_all(st, aps, p, n, uidvalidity, uids);
	for (size_t i = 0; i < ready; i++) {
		cache_free(&p[i].t);
		/* added to the full-text index with the next few, after */
		if (r == STORE_OK && p[i].doc_ok)
			fts_enqueue(st, p[i].blob_id, &p[i].doc);
		else if (p[i].doc_ok)
			fts_doc_free(&p[i].doc);
	}
	free(p);
	/* The blobs (if any) hold the inodes now; the tmp names go. */
	for (size_t i = 0; i < n; i++)
		store_append_abort(aps[i]);
	return r;
}

enum store_result
store_append_commit(struct store_append *ap, const char *mailbox,
    unsigned flags, const char *const *keywords, size_t n_keywords,
    int64_t internaldate, int tz_minutes, uint32_t *uidvalidity, uint32_t *uid)
{
	struct store_append_msg m = {
		.mailbox = mailbox, .flags = flags, .keywords = keywords,
		.n_keywords = n_keywords, .internaldate = internaldate,
		.tz_minutes = tz_minutes,
	};

	return store_append_commit_many(&ap, &m, 1, uidvalidity, uid);
}
