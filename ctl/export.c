/*
 * cairnctl export USER DIR [--force]: USER's mail as a Maildir++ tree that
 * Dovecot (or any Maildir reader) takes as it is, so that leaving Cairn
 * costs nothing:
 *   DIR/cur/<base>:2,<flags>     INBOX; every message in cur/ (new/ is for
 *                                mail no client has seen: \Recent)
 *   DIR/.<level>.<level>/        the other mailboxes, levels in modified
 *                                UTF-7 (Dovecot's default layout), each
 *                                with its empty maildirfolder file
 *   dovecot-uidlist              per folder: the UIDVALIDITY, UIDNEXT and
 *                                UIDs stay what IMAP clients know, so they
 *                                need not resync
 *   dovecot-keywords             per folder: keyword letters a..z (26 at
 *                                most: more are left out, with a warning)
 *   DIR/subscriptions            Dovecot's version 2 file
 * Message files hold the bytes IMAP serves (CRLF), their mtime is the
 * INTERNALDATE, and <base> is "<internaldate>.M<uid>P<pid>.cairn,S=<size>,
 * W=<size with CRLF>".  A mailbox with '.' in a level cannot be named in
 * Maildir++: it is left out, with a message (exit 1).  The directory must
 * be new or empty unless --force (then the files are added to what is
 * there; a message already exported with the same flags is overwritten).
 * Files belong to the mail user: chown them for the account that will
 * read them.
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "maildir.h"
#include "migrate.h"
#include "xmalloc.h"

void
export_usage_lines(FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] export USER DIR [--force]\n");
}

static void
export_usage(FILE *out)
{
	export_usage_lines(out);
	fprintf(out,
	    "  write USER's mailboxes as a Maildir++ tree (Dovecot's layout)\n"
	    "  into the new or empty directory DIR\n"
	    "  --force  write into a directory that is not empty\n"
	    "  exit 0: done; 1: something was left out (or an error); 2: usage\n");
}

static _Noreturn void
export_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, export_usage);
}

void
export_parse(int argc, char *argv[], struct export_request *req)
{
	bool options = true;

	memset(req, 0, sizeof(*req));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0)
			options = false;
		else if (options && strcmp(a, "--force") == 0)
			req->force = true;
		else if (options && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			export_usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (options && a[0] == '-' && a[1] != '\0')
			export_usage_error("unknown option", a);
		else if (req->name == NULL)
			req->name = a;
		else if (req->dir == NULL)
			req->dir = a;
		else
			export_usage_error("unexpected argument", a);
	}
	if (req->name == NULL)
		export_usage_error("missing user name", NULL);
	if (req->dir == NULL)
		export_usage_error("missing the directory to write", NULL);
	ctl_check_user_name(req->name);
}

struct export_ctx {
	int fd;                   /* DIR */
	struct buf subs;          /* the subscriptions file */
	char **names;             /* selectable mailboxes */
	size_t n, cap;
	uint64_t messages, bytes;
	unsigned mailboxes, failed;
};

static int
collect(const struct store_mailbox *mb, void *arg)
{
	struct export_ctx *c = arg;

	if (mb->noselect)
		return 0;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		c->names = xreallocarray(c->names, c->cap, sizeof(*c->names));
	}
	c->names[c->n++] = xstrdup(mb->name);
	return 0;
}

/* A subscription as Dovecot's version 2 line: levels separated by tabs,
 * each in modified UTF-7. */
static int
add_subscription(const char *name, void *arg)
{
	struct export_ctx *c = arg;
	struct buf dir = BUF_INIT;

	if (strcasecmp(name, "INBOX") == 0)
		buf_append_str(&c->subs, "INBOX\n");
	else if (maildir_folder_dir(name, &dir)) {
		for (size_t i = 1; i < dir.len; i++)
			buf_append_char(&c->subs, dir.data[i] == '.' ? '\t' :
			    dir.data[i]);
		buf_append_char(&c->subs, '\n');
	}
	buf_free(&dir);
	return 0;
}

static int
write_file(int dirfd, const char *name, const char *data, size_t len)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	ssize_t n = 0;

	if (fd < 0)
		return -1;
	while (len > 0 && (n = write(fd, data, len)) > 0) {
		data += n;
		len -= (size_t)n;
	}
	if (n < 0 || fsync(fd) != 0) {
		int err = errno;

		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

static int
make_dirs(int fd, const char *dir, bool folder)
{
	static const char *const subs[] = { "cur", "new", "tmp" };
	char path[4200];

	if (strcmp(dir, ".") != 0 && mkdirat(fd, dir, 0700) != 0 && errno != EEXIST)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, subs[i]);
		if (mkdirat(fd, path, 0700) != 0 && errno != EEXIST)
			return -1;
	}
	if (folder) {
		snprintf(path, sizeof(path), "%s/maildirfolder", dir);
		if (write_file(fd, path, "", 0) != 0)
			return -1;
	}
	return 0;
}

/* The keyword letters of this folder: names in order of first use. */
struct letters {
	char *name[MAILDIR_KEYWORDS];
	size_t n;
	bool warned;
};

static uint32_t
letter_mask(struct letters *l, const struct store_message *m,
    const char *mailbox)
{
	uint32_t mask = 0;

	for (size_t i = 0; i < m->n_keywords; i++) {
		size_t k;

		for (k = 0; k < l->n; k++)
			if (strcmp(l->name[k], m->keywords[i]) == 0)
				break;
		if (k == l->n && l->n < MAILDIR_KEYWORDS)
			l->name[l->n++] = xstrdup(m->keywords[i]);
		if (k < l->n)
			mask |= 1u << k;
		else if (!l->warned) {
			fprintf(stderr, "cairnctl: export: %s: more than %d "
			    "keywords: Maildir names %d; the others are left "
			    "out\n", mailbox, MAILDIR_KEYWORDS, MAILDIR_KEYWORDS);
			l->warned = true;
		}
	}
	return mask;
}

/* One message into dir/cur; its base name appended to the uidlist. */
static int
export_message(struct export_ctx *c, struct store_view *v, const char *dir,
    uint32_t uid, struct letters *l, struct buf *uidlist, const char *mailbox)
{
	char base[128], info[64], tmp[4400], cur[4400];
	struct store_message m;
	struct timespec times[2];
	const char *data;
	size_t len, vsize;
	enum store_result r;
	int fd, err;

	if ((r = store_message_get(v, uid, &m)) == STORE_NOT_FOUND)
		return 0;       /* expunged meanwhile */
	if (r != STORE_OK || (r = store_message_map(v, uid, &data, &len)) ==
	    STORE_ERROR)
		return ctl_fail("export: %s uid %u: cannot read it", mailbox, uid);
	if (r == STORE_NOT_FOUND)
		return 0;
	vsize = len;
	for (size_t i = 0; i < len; i++)
		if (data[i] == '\n' && (i == 0 || data[i - 1] != '\r'))
			vsize++;
	snprintf(base, sizeof(base), "%" PRId64 ".M%uP%ld.cairn,S=%zu,W=%zu",
	    m.internaldate, uid, (long)getpid(), len, vsize);
	maildir_info_string(m.flags, letter_mask(l, &m, mailbox), info,
	    sizeof(info));
	snprintf(tmp, sizeof(tmp), "%s/tmp/%s", dir, base);
	snprintf(cur, sizeof(cur), "%s/cur/%s:%s", dir, base, info);
	fd = openat(c->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd < 0)
		goto fail;
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, data + off, len - off);

		if (n <= 0)
			goto fail_fd;
		off += (size_t)n;
	}
	/* Dovecot takes a Maildir file's mtime as its INTERNALDATE */
	times[0].tv_sec = times[1].tv_sec = (time_t)m.internaldate;
	times[0].tv_nsec = times[1].tv_nsec = 0;
	if (futimens(fd, times) != 0 || fsync(fd) != 0)
		goto fail_fd;
	if (close(fd) != 0 || renameat(c->fd, tmp, c->fd, cur) != 0)
		goto fail;
	store_message_unmap(data, len);
	buf_printf(uidlist, "%u :%s\n", uid, base);
	c->messages++;
	c->bytes += len;
	return 0;
fail_fd:
	err = errno;
	close(fd);
	errno = err;
fail:
	err = errno;
	store_message_unmap(data, len);
	(void)unlinkat(c->fd, tmp, 0);
	return ctl_fail("export: %s: %s", cur, strerror(err));
}

static int
export_mailbox(struct export_ctx *c, struct store *st, const char *name)
{
	struct letters l = { { NULL }, 0, false };
	struct buf dir = BUF_INIT, uidlist = BUF_INIT, kw = BUF_INIT;
	const struct store_mailbox *mb;
	struct store_view *v;
	char path[4200];
	bool inbox = strcasecmp(name, "INBOX") == 0;
	int status = 0;

	if (inbox)
		buf_append_str(&dir, ".");
	else if (!maildir_folder_dir(name, &dir)) {
		buf_free(&dir);
		fprintf(stderr, "cairnctl: export: %s: a name Maildir++ cannot "
		    "hold (a '.' in a level): left out\n", name);
		c->failed++;
		return -1;
	}
	if (make_dirs(c->fd, dir.data, !inbox) != 0) {
		status = ctl_fail("export: %s: %s", dir.data, strerror(errno));
		goto out;
	}
	if (store_view_open(st, name, true, &v) != STORE_OK) {
		status = ctl_fail("export: %s: %s", name, store_error(st));
		goto out;
	}
	mb = store_view_mailbox(v);
	buf_printf(&uidlist, "3 V%u N%u\n", mb->uidvalidity, mb->uidnext);
	store_read_hold(st);
	for (uint32_t msn = 1; msn <= store_view_exists(v) && status == 0; msn++)
		status = export_message(c, v, dir.data, store_view_uid(v, msn), &l,
		    &uidlist, name);
	store_read_release(st);
	store_view_close(v);
	for (size_t i = 0; i < l.n; i++)
		buf_printf(&kw, "%zu %s\n", i, l.name[i]);
	snprintf(path, sizeof(path), "%s/dovecot-uidlist", dir.data);
	if (status == 0 && write_file(c->fd, path, uidlist.data, uidlist.len) != 0)
		status = ctl_fail("export: %s: %s", path, strerror(errno));
	snprintf(path, sizeof(path), "%s/dovecot-keywords", dir.data);
	if (status == 0 && l.n > 0 && write_file(c->fd, path, kw.data,
	    kw.len) != 0)
		status = ctl_fail("export: %s: %s", path, strerror(errno));
	if (status == 0)
		c->mailboxes++;
	else
		c->failed++;
out:
	for (size_t i = 0; i < l.n; i++)
		free(l.name[i]);
	buf_free(&dir);
	buf_free(&uidlist);
	buf_free(&kw);
	return status;
}

static int
export_store(struct store *st, const char *name, void *arg)
{
	struct export_ctx *c = arg;

	if (store_mailbox_list(st, collect, c) != STORE_OK)
		return ctl_fail("export: %s", store_error(st));
	for (size_t i = 0; i < c->n; i++)
		(void)export_mailbox(c, st, c->names[i]);
	buf_append_str(&c->subs, "V\t2\n\n");
	if (store_subscriptions(st, add_subscription, c) != STORE_OK ||
	    write_file(c->fd, "subscriptions", c->subs.data, c->subs.len) != 0) {
		fprintf(stderr, "cairnctl: export: subscriptions: %s\n",
		    store_error(st));
		c->failed++;
	}
	printf("export of %s: %u mailbox%s, %llu messages, %.1f MB%s\n", name,
	    c->mailboxes, c->mailboxes == 1 ? "" : "es",
	    (unsigned long long)c->messages,
	    (double)c->bytes / (1024.0 * 1024.0),
	    c->failed > 0 ? "; some left out (see above)" : "");
	return c->failed > 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

int
export_run(const struct cairn_config *cfg, const struct export_request *req)
{
	struct export_ctx c;
	char *abs;
	int status;

	memset(&c, 0, sizeof(c));
	if ((c.fd = migrate_dest_dir(cfg, req->dir, req->force, &abs)) < 0)
		return CTL_EXIT_ERROR;
	status = ctl_store_run(cfg, req->name, export_store, &c);
	close(c.fd);
	free(abs);
	for (size_t i = 0; i < c.n; i++)
		free(c.names[i]);
	free(c.names);
	buf_free(&c.subs);
	return status;
}
