/*
 * Delivery (cairn-lmtpd): a message the caller spooled once becomes a
 * message of this store, with the lines this recipient's copy starts with.
 *
 * The file: hard-linked into tmp/ (blob_tmp_import; a copy when it cannot
 * be linked), then into blobs/ by the same commit as APPEND's
 * (append_tmp_commit), so the stores of N recipients on the spool's
 * filesystem share one inode.  The file is never written: every store
 * reads the same bytes.
 *
 * The prefix (Return-Path, Delivered-To, Received: RFC 5321 §4.4 has the
 * final delivery add Return-Path at the start of the message) differs per
 * recipient and so cannot be in the shared file: it is kept in the blob's
 * row (schema.sql, version 7), and blob_map puts it in front of the file
 * for every reader.  The MIME cache is made from the two together here,
 * so RFC822.SIZE, BODYSTRUCTURE, the cached header fields, PREVIEW and
 * THREADID all see the one message.
 *
 * Crash safety, as APPEND: before the commit only a tmp/ name (the stale
 * tmp sweep of fsck removes it; for a link that is one name of the spool's
 * inode, and the spool keeps its own) or an orphan blobs/ name (the
 * same); after it the row and its file.  A failure removes this store's
 * names and leaves the source as it was.
 *
 * Not here: the full-text index.  Each delivery commits one message, in a
 * store cairn-lmtpd keeps open only while a connection brings that user's
 * mail, and a document added per message costs a segment per message
 * (2.6 times the bytes APPEND wrote when it did that, fts.c).  A delivered message has no document until the first BODY or
 * TEXT search of its mailbox indexes it with the others (store_fts_update);
 * meanwhile it is a candidate for every string, so SEARCH reads it.
 */
#include "autoconfig.h"

#include <string.h>
#include <unistd.h>

#include "store-int.h"

/* RFC 5322 §3.6.8: ftext, printable US-ASCII but ':'. */
static bool
is_ftext(unsigned char c)
{
	return c >= 33 && c <= 126 && c != ':';
}

/* One line of the prefix, without its CRLF: a field (a name, then ':'), or
 * the folded continuation of the one before (§2.2.3), not blank. */
static bool
prefix_line_valid(const char *line, size_t len, bool first)
{
	size_t i = 0;

	if (len == 0 || memchr(line, '\r', len) != NULL ||
	    memchr(line, '\0', len) != NULL)
		return false;
	if (line[0] == ' ' || line[0] == '\t')
		return !first && strspn(line, " \t") < len;
	while (i < len && is_ftext((unsigned char)line[i]))
		i++;
	return i > 0 && i < len && line[i] == ':';
}

/*
 * Header lines, each ending in CRLF (RFC 5322 §2.2), and no empty line:
 * one would end the message's header before the message's own fields.
 */
static bool
prefix_valid(const char *p, size_t len)
{
	const char *lf;
	size_t i = 0;

	while (i < len) {
		if ((lf = memchr(p + i, '\n', len - i)) == NULL ||
		    lf == p + i || lf[-1] != '\r' ||
		    !prefix_line_valid(p + i, (size_t)(lf - 1 - (p + i)), i == 0))
			return false;
		i = (size_t)(lf - p) + 1;
	}
	return true;
}

static enum store_result
check_args(struct store *st, const char *prefix, size_t prefix_len,
    int tz_minutes)
{
	if (prefix_len > STORE_DELIVER_PREFIX_MAX)
		return store_fail(st, STORE_INVALID, "the lines before the "
		    "message are longer than %d bytes", STORE_DELIVER_PREFIX_MAX);
	if (prefix_len > 0 && (prefix == NULL || !prefix_valid(prefix,
	    prefix_len)))
		return store_fail(st, STORE_INVALID, "the lines before the "
		    "message are not header fields ending in CRLF");
	if (!append_tz_valid(tz_minutes))
		return store_fail(st, STORE_INVALID, "invalid time zone");
	return STORE_OK;
}

/* The MIME cache of prefix and file, as one message. */
static enum store_result
parse(struct store *st, int fd, const char *tmpname, const struct append_args *a,
    struct cache *c)
{
	enum store_result r;
	const char *data;
	size_t len;

	if (blob_map_fd(st, fd, a->size - a->prefix_len, a->prefix,
	    a->prefix_len, tmpname, &data, &len) != STORE_OK)
		return STORE_ERROR;
	r = cache_make(st, data, len, c);
	blob_unmap(data, len);
	return r;
}

enum store_result
store_deliver(struct store *st, int src_dirfd, const char *src_name,
    const char *prefix, size_t prefix_len, const char *mailbox,
    int64_t internaldate, int tz_minutes, uint32_t *uidvalidity, uint32_t *uid)
{
	char canon[STORE_MAILBOX_NAME_MAX + 1], tmpname[BLOB_TMP_NAME_MAX];
	struct append_args a = {
		.mailbox = canon, .internaldate = internaldate,
		.tz_minutes = tz_minutes, .prefix = prefix,
		.prefix_len = prefix_len,
	};
	struct cache c = CACHE_INIT;
	struct store_mailbox mb;
	enum store_result r;
	uint64_t fsize, blob_id;
	bool linked;
	int fd;

	*uidvalidity = 0;
	*uid = 0;
	if ((r = check_args(st, prefix, prefix_len, tz_minutes)) != STORE_OK ||
	    (r = store_name_canon(st, mailbox, canon)) != STORE_OK)
		return r;
	if ((r = blob_tmp_import(st, src_dirfd, src_name, &fd, tmpname, &fsize,
	    &linked)) != STORE_OK)
		return r;
	if (fsize > UINT64_MAX - prefix_len) {
		r = store_fail(st, STORE_INVALID, "%s: too large", src_name);
		goto out;
	}
	a.size = prefix_len + fsize;
	a.mime = &c;
	if ((r = parse(st, fd, tmpname, &a, &c)) != STORE_OK)
		goto out;
	if ((r = append_tmp_commit(st, tmpname, &a, &mb, &blob_id)) == STORE_OK) {
		*uidvalidity = mb.uidvalidity;
		*uid = mb.uidnext;
		log_debug("store: delivered to %s, uid %u (%s, %zu bytes before "
		    "it)", canon, mb.uidnext, linked ? "linked" : "copied",
		    prefix_len);
	}
	cache_free(&c);
out:
	/* The blob (if any) names the inode now; the tmp/ name goes. */
	blob_tmp_unlink(st, tmpname);
	close(fd);
	return r;
}
