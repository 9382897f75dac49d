/*
 * cairnctl import USER PATH [--mailbox NAME] [--dry-run]
 *
 * PATH is a Maildir++ root (it has cur/), an mbox file (its first line is
 * a "From " separator), or a directory of mbox files (each becomes the
 * mailbox of its file name).  Each message is streamed into the store
 * as APPEND would add it (store_append_*: the full-text index and the
 * MIME cache as for any APPEND), with its flags, keywords and internal
 * date, LF line ends made CRLF (crlf.h), in one transaction of its own:
 * sessions of the user (IDLE too) see the messages come in.
 *
 * Idempotent: the SHA-256 of the bytes stored goes with the message
 * (store_append_set_sha256, schema.sql version 8), and a message whose
 * hash its mailbox has already is skipped, so a rerun, after a complete
 * or an interrupted run, adds each message once.
 *
 * The store is opened as the mail user (storedir.c), and made if the user
 * never logged in yet.  The source may belong to anyone (a Dovecot
 * Maildir is its mail account's): migrate_read_anything (readcap.c).
 */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "crlf.h"
#include "ctl.h"
#include "maildir.h"
#include "mbox.h"
#include "migrate.h"
#include "privdrop.h"
#include "progress.h"
#include "xmalloc.h"

#define READ_CHUNK 65536
#define MAIL_DIR "mail"

void
import_usage_lines(FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] import USER PATH [--mailbox NAME] "
	    "[--dry-run]\n");
}

static void
import_usage(FILE *out)
{
	import_usage_lines(out);
	fprintf(out,
	    "  import a Maildir++ tree (Dovecot, Courier), an mbox file or a\n"
	    "  directory of mbox files into USER's mail store; a rerun adds\n"
	    "  nothing twice\n"
	    "  --mailbox NAME  import into NAME (and its children) instead of\n"
	    "                  INBOX and the folders as they are named\n"
	    "  --dry-run       read the source and say what would be imported\n"
	    "  exit 0: done; 1: some messages failed (or an error); 2: usage\n");
}

static _Noreturn void
import_usage_error(const char *what, const char *arg)
{
	ctl_usage_error(what, arg, import_usage);
}

void
import_parse(int argc, char *argv[], struct import_request *req)
{
	bool options = true;

	memset(req, 0, sizeof(*req));
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (options && strcmp(a, "--") == 0) {
			options = false;
		} else if (options && strcmp(a, "--dry-run") == 0) {
			req->dry_run = true;
		} else if (options && strcmp(a, "--mailbox") == 0) {
			if (i + 1 >= argc)
				import_usage_error("--mailbox needs a name", NULL);
			req->mailbox = argv[++i];
		} else if (options && (strcmp(a, "--help") == 0 ||
		    strcmp(a, "-h") == 0)) {
			import_usage(stdout);
			exit(CTL_EXIT_OK);
		} else if (options && a[0] == '-' && a[1] != '\0') {
			import_usage_error("unknown option", a);
		} else if (req->name == NULL) {
			req->name = a;
		} else if (req->path == NULL) {
			req->path = a;
		} else {
			import_usage_error("unexpected argument", a);
		}
	}
	if (req->name == NULL)
		import_usage_error("missing user name", NULL);
	if (req->path == NULL)
		import_usage_error("missing the path to import", NULL);
	if (req->mailbox != NULL && !store_mailbox_name_valid(req->mailbox, NULL))
		import_usage_error("invalid mailbox name", req->mailbox);
	ctl_check_user_name(req->name);
}

/* ---- the plan: what is to be imported ---- */

enum source_kind { SOURCE_MAILDIR, SOURCE_MBOX };

struct folder {
	char *mailbox;                  /* Cairn name */
	char *dir;                      /* Maildir: relative to the root;
	                                 * mbox: the file, relative to it */
	bool follow;                    /* the one file PATH names: a link
	                                 * the administrator gave is followed */
	struct maildir_msg *msgs;       /* Maildir */
	size_t n;
	uint64_t bytes;
};

struct plan {
	enum source_kind kind;
	int rootfd;                     /* PATH (a directory), or its parent
	                                 * for one mbox file */
	struct folder *f;
	size_t n, cap;
	uint64_t msgs, bytes;           /* mbox: msgs 0 (not known) */
	char **subs;                    /* Maildir subscriptions */
	size_t n_subs, cap_subs;
};

struct totals {
	uint64_t imported, skipped, failed, bytes;
	unsigned mailboxes_created;
};

static char *
mailbox_name(const char *prefix, const char *name)
{
	struct buf b = BUF_INIT;

	if (prefix == NULL) {
		buf_append_str(&b, name);
	} else if (strcasecmp(name, "INBOX") == 0) {
		buf_append_str(&b, prefix);
	} else {
		buf_printf(&b, "%s/%s", prefix, name);
	}
	return buf_steal(&b, NULL);
}

static struct folder *
add_folder(struct plan *p, const char *prefix, const char *name,
    const char *dir)
{
	struct folder *f;

	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 16;
		p->f = xreallocarray(p->f, p->cap, sizeof(*p->f));
	}
	f = &p->f[p->n++];
	memset(f, 0, sizeof(*f));
	f->mailbox = mailbox_name(prefix, name);
	f->dir = xstrdup(dir);
	return f;
}

static void
plan_free(struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->f[i].mailbox);
		free(p->f[i].dir);
		maildir_list_free(p->f[i].msgs, p->f[i].n);
	}
	free(p->f);
	for (size_t i = 0; i < p->n_subs; i++)
		free(p->subs[i]);
	free(p->subs);
	if (p->rootfd >= 0)
		close(p->rootfd);
}

static int
list_folder(struct plan *p, struct folder *f)
{
	int fd;

	if ((fd = openat(p->rootfd, f->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0 || maildir_list(fd, &f->msgs, &f->n) != 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		return ctl_fail("import: %s: %s", f->dir, strerror(err));
	}
	close(fd);
	for (size_t i = 0; i < f->n; i++)
		f->bytes += f->msgs[i].size;
	p->msgs += f->n;
	p->bytes += f->bytes;
	return 0;
}

static int
cmp_folder(const void *a, const void *b)
{
	return strcmp(((const struct folder *)a)->mailbox,
	    ((const struct folder *)b)->mailbox);
}

struct sub_ctx {
	struct plan *p;
	const char *prefix;
	bool v2, first;
};

static void
subscription_line(void *arg, const char *line)
{
	struct sub_ctx *s = arg;
	struct buf b = BUF_INIT;

	if (s->first) {
		s->first = false;
		if (strcmp(line, "V\t2") == 0) {
			s->v2 = true;
			return;
		}
	}
	if (!maildir_subscription_line(line, s->v2, &b)) {
		buf_free(&b);
		return;
	}
	if (s->p->n_subs == s->p->cap_subs) {
		s->p->cap_subs = s->p->cap_subs ? s->p->cap_subs * 2 : 16;
		s->p->subs = xreallocarray(s->p->subs, s->p->cap_subs,
		    sizeof(*s->p->subs));
	}
	s->p->subs[s->p->n_subs++] = mailbox_name(s->prefix, b.data);
	buf_free(&b);
}

static int
plan_maildir(struct plan *p, const char *prefix)
{
	struct sub_ctx sc = { p, prefix, false, true };
	struct dirent *e;
	DIR *d;
	int fd;

	p->kind = SOURCE_MAILDIR;
	if (list_folder(p, add_folder(p, prefix, "INBOX", ".")) != 0)
		return -1;
	if ((fd = dup(p->rootfd)) < 0 || (d = fdopendir(fd)) == NULL)
		return ctl_fail("import: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		struct buf name = BUF_INIT;
		struct stat sb;
		char cur[NAME_MAX + 8];

		if (!maildir_folder_name(e->d_name, &name)) {
			if (e->d_name[0] == '.' && strcmp(e->d_name, ".") != 0 &&
			    strcmp(e->d_name, "..") != 0 && fstatat(p->rootfd,
			    e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISDIR(sb.st_mode))
				fprintf(stderr, "cairnctl: import: %s: not a "
				    "folder name this can decode; skipped\n",
				    e->d_name);
			buf_free(&name);
			continue;
		}
		snprintf(cur, sizeof(cur), "%s/cur", e->d_name);
		/* no link is followed: the source may be its user's to shape,
		 * and it is read with CAP_DAC_READ_SEARCH (readcap.c) */
		if (fstatat(p->rootfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISDIR(sb.st_mode) || fstatat(p->rootfd, cur, &sb,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(sb.st_mode)) {
			buf_free(&name);
			continue;
		}
		if (list_folder(p, add_folder(p, prefix, name.data,
		    e->d_name)) != 0) {
			buf_free(&name);
			closedir(d);
			return -1;
		}
		buf_free(&name);
	}
	closedir(d);
	/* parents before children, and INBOX where its name sorts */
	if (p->n > 0)
		qsort(p->f, p->n, sizeof(*p->f), cmp_folder);
	if ((fd = openat(p->rootfd, "subscriptions", O_RDONLY | O_CLOEXEC)) >= 0) {
		close(fd);
		if (maildir_each_line(p->rootfd, "subscriptions",
		    subscription_line, &sc) != 0)
			fprintf(stderr, "cairnctl: import: subscriptions: %s\n",
			    strerror(errno));
	}
	return 0;
}

/* An mbox file: does it start with a separator? */
static bool
is_mbox(int dirfd, const char *name)
{
	struct mbox_reader *r;
	FILE *f;
	bool yes;
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	if ((f = fdopen(fd, "r")) == NULL) {
		close(fd);
		return false;
	}
	r = xmalloc(sizeof(*r));
	yes = mbox_open(r, f);
	free(r);
	fclose(f);
	return yes;
}

static void
add_mbox(struct plan *p, const char *prefix, const char *mailbox,
    const char *file, uint64_t size)
{
	struct folder *f = add_folder(p, prefix, mailbox, file);

	f->bytes = size;
	p->bytes += size;
}

static int
plan_mbox_dir(struct plan *p, const char *prefix)
{
	struct dirent *e;
	DIR *d;
	int fd;

	p->kind = SOURCE_MBOX;
	if ((fd = dup(p->rootfd)) < 0 || (d = fdopendir(fd)) == NULL)
		return ctl_fail("import: %s", strerror(errno));
	while ((e = readdir(d)) != NULL) {
		struct stat sb;

		if (e->d_name[0] == '.' || fstatat(p->rootfd, e->d_name, &sb,
		    AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(sb.st_mode))
			continue;
		if (!store_mailbox_name_valid(e->d_name, NULL) ||
		    !is_mbox(p->rootfd, e->d_name)) {
			fprintf(stderr, "cairnctl: import: %s: not an mbox file "
			    "(or not a mailbox name); skipped\n", e->d_name);
			continue;
		}
		add_mbox(p, prefix, e->d_name, e->d_name, (uint64_t)sb.st_size);
	}
	closedir(d);
	if (p->n > 0)
		qsort(p->f, p->n, sizeof(*p->f), cmp_folder);
	return 0;
}

/* What PATH holds, as root (before the store is opened). */
static int
make_plan(const struct import_request *req, struct plan *p)
{
	struct stat sb;
	char *copy, *slash;
	int fd;

	memset(p, 0, sizeof(*p));
	p->rootfd = -1;
	if (stat(req->path, &sb) != 0)
		return ctl_fail("import: %s: %s", req->path, strerror(errno));
	if (S_ISDIR(sb.st_mode)) {
		if ((p->rootfd = open(req->path, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) < 0)
			return ctl_fail("import: %s: %s", req->path,
			    strerror(errno));
		if (fstatat(p->rootfd, "cur", &sb, 0) == 0 && S_ISDIR(sb.st_mode))
			return plan_maildir(p, req->mailbox);
		return plan_mbox_dir(p, req->mailbox);
	}
	if (!S_ISREG(sb.st_mode))
		return ctl_fail("import: %s: neither a Maildir nor an mbox file",
		    req->path);
	copy = xstrdup(req->path);
	slash = strrchr(copy, '/');
	if (slash == copy)
		fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (slash != NULL) {
		*slash = '\0';
		fd = open(copy, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	} else {
		fd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	p->rootfd = fd;
	if (fd < 0 || !is_mbox(fd, slash != NULL ? slash + 1 : copy)) {
		free(copy);
		return ctl_fail("import: %s: not an mbox file (the first line "
		    "is not \"From <sender> <date>\") nor a Maildir", req->path);
	}
	p->kind = SOURCE_MBOX;
	add_mbox(p, NULL, req->mailbox != NULL ? req->mailbox : "INBOX",
	    slash != NULL ? slash + 1 : copy, (uint64_t)sb.st_size);
	p->f[0].follow = true;
	free(copy);
	return 0;
}

/* ---- the store: made if missing, and read access as the mail user ---- */

/* <data-dir>/mail/NAME, as cairnd makes it at the first login. */
static int
make_store_dir(const struct cairn_config *cfg, const char *name)
{
	char path[4200];
	uid_t uid;
	gid_t gid;
	int fd;

	if (geteuid() != 0)
		return 0;
	if (privdrop_lookup(cfg->user, cfg->group, &uid, &gid) != 0)
		return ctl_fail("the mail user %s does not exist", cfg->user);
	snprintf(path, sizeof(path), "%s/%s", cfg->data_dir, MAIL_DIR);
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
		return ctl_fail("cannot open %s: %s (has cairnd been started "
		    "once?)", path, strerror(errno));
	if (mkdirat(fd, name, 0700) == 0) {
		if (fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW) != 0) {
			close(fd);
			return ctl_fail("chown %s/%s: %s", path, name,
			    strerror(errno));
		}
		printf("created the mail store %s/%s\n", path, name);
	} else if (errno != EEXIST) {
		close(fd);
		return ctl_fail("mkdir %s/%s: %s", path, name, strerror(errno));
	}
	close(fd);
	return 0;
}

/* ---- importing ---- */

struct import_ctx {
	const struct import_request *req;
	struct plan *plan;
	struct progress pg;
	struct totals t;
	EVP_MD_CTX *md;
	char in[READ_CHUNK], out[2 * READ_CHUNK];
};

/* One message being added: the append, the hash, the line ends. */
struct one {
	struct store_append *ap;
	struct crlf crlf;
	uint64_t bytes;
	bool failed;
};

static enum store_result
one_begin(struct import_ctx *c, struct store *st, struct one *o)
{
	memset(o, 0, sizeof(*o));
	if (EVP_DigestInit_ex(c->md, EVP_sha256(), NULL) != 1)
		return STORE_ERROR;
	return store_append_begin(st, &o->ap);
}

static enum store_result
one_write(struct import_ctx *c, struct one *o, const char *data, size_t len)
{
	while (len > 0) {
		size_t n = len < READ_CHUNK ? len : READ_CHUNK;
		size_t m = crlf_convert(&o->crlf, data, n, c->out);

		if (EVP_DigestUpdate(c->md, c->out, m) != 1 ||
		    store_append_write(o->ap, c->out, m) != STORE_OK)
			return STORE_ERROR;
		o->bytes += m;
		data += n;
		len -= n;
	}
	return STORE_OK;
}

static void
report_failure(struct import_ctx *c, const char *mailbox, const char *what,
    const char *why)
{
	progress_clear(&c->pg);
	fprintf(stderr, "cairnctl: import: %s: %s: %s\n", mailbox, what, why);
	c->t.failed++;
}

/* Commit (or count as already there); the rest is the caller's. */
static void
one_commit(struct import_ctx *c, struct store *st, struct one *o,
    const char *mailbox, const char *what, unsigned flags,
    const char *const *kw, size_t n_kw, int64_t date, int tz)
{
	unsigned char hash[EVP_MAX_MD_SIZE];
	unsigned hlen = 0;
	uint32_t uidv, uid;
	enum store_result r;

	if (EVP_DigestFinal_ex(c->md, hash, &hlen) != 1 ||
	    hlen != STORE_SHA256_LEN) {
		store_append_abort(o->ap);
		report_failure(c, mailbox, what, "SHA-256 failed");
		return;
	}
	store_append_set_sha256(o->ap, hash);
	r = store_append_commit(o->ap, mailbox, flags, kw, n_kw, date, tz,
	    &uidv, &uid);
	if (r == STORE_OK) {
		c->t.imported++;
		c->t.bytes += o->bytes;
	} else if (r == STORE_EXISTS) {
		c->t.skipped++;
	} else {
		report_failure(c, mailbox, what, store_error(st));
	}
}

/* The zone offset of local time at t, for INTERNALDATE. */
static int
local_tz(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return (int)(tm.tm_gmtoff / 60);
}

static void
import_maildir_msg(struct import_ctx *c, struct store *st,
    const struct folder *f, int dirfd, const struct maildir_keywords *kw,
    const struct maildir_msg *m)
{
	const char *names[MAILDIR_KEYWORDS];
	const char *file = strchr(m->path, '/') + 1;
	size_t n_kw = 0;
	unsigned flags;
	uint32_t mask;
	struct stat sb;
	struct one o;
	ssize_t n;
	int fd;

	if (!maildir_info_flags(file, &flags, &mask)) {
		flags = 0;
		mask = 0;
	}
	/* new/: delivered, never seen by a client (info, if any, ignored) */
	if (strncmp(m->path, "new/", 4) == 0)
		flags &= ~STORE_FLAG_SEEN;
	for (unsigned i = 0; i < MAILDIR_KEYWORDS; i++)
		if ((mask & (1u << i)) && kw->name[i] != NULL)
			names[n_kw++] = kw->name[i];
	if ((fd = openat(dirfd, m->path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0 ||
	    fstat(fd, &sb) != 0) {
		/* moved between new/ and cur/ by a live Dovecot: reported */
		report_failure(c, f->mailbox, m->path, strerror(errno));
		if (fd >= 0)
			close(fd);
		progress_step(&c->pg, m->size);
		return;
	}
	if (one_begin(c, st, &o) != STORE_OK) {
		report_failure(c, f->mailbox, m->path, store_error(st));
		close(fd);
		progress_step(&c->pg, m->size);
		return;
	}
	while ((n = read(fd, c->in, sizeof(c->in))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			report_failure(c, f->mailbox, m->path, strerror(errno));
			o.failed = true;
			break;
		}
		if (one_write(c, &o, c->in, (size_t)n) != STORE_OK) {
			report_failure(c, f->mailbox, m->path, store_error(st));
			o.failed = true;
			break;
		}
	}
	close(fd);
	if (o.failed)
		store_append_abort(o.ap);
	else
		one_commit(c, st, &o, f->mailbox, m->path, flags, names, n_kw,
		    (int64_t)sb.st_mtime, local_tz((int64_t)sb.st_mtime));
	progress_step(&c->pg, m->size);
}

static int
ensure_mailbox(struct import_ctx *c, struct store *st, const char *name)
{
	enum store_result r = store_mailbox_create(st, name, 0);

	if (r == STORE_OK)
		c->t.mailboxes_created++;
	else if (r != STORE_EXISTS) {
		progress_clear(&c->pg);
		fprintf(stderr, "cairnctl: import: cannot create mailbox %s: "
		    "%s\n", name, store_error(st));
		return -1;
	}
	return 0;
}

static void
import_maildir_folder(struct import_ctx *c, struct store *st,
    const struct folder *f)
{
	struct maildir_keywords kw;
	int fd;

	if (ensure_mailbox(c, st, f->mailbox) != 0) {
		c->t.failed += f->n;
		for (size_t i = 0; i < f->n; i++)
			progress_step(&c->pg, f->msgs[i].size);
		return;
	}
	if ((fd = openat(c->plan->rootfd, f->dir, O_RDONLY | O_DIRECTORY |
	    O_NOFOLLOW | O_CLOEXEC)) < 0) {
		report_failure(c, f->mailbox, f->dir, strerror(errno));
		c->t.failed += f->n - 1;
		return;
	}
	if (maildir_keywords_load(fd, &kw) != 0) {
		progress_clear(&c->pg);
		fprintf(stderr, "cairnctl: import: %s/dovecot-keywords: %s: "
		    "keywords left out\n", f->dir, strerror(errno));
	}
	for (size_t i = 0; i < f->n; i++)
		import_maildir_msg(c, st, f, fd, &kw, &f->msgs[i]);
	maildir_keywords_free(&kw);
	close(fd);
}

static void
import_mbox_file(struct import_ctx *c, struct store *st, const struct folder *f)
{
	struct mbox_reader *r;
	uint64_t before = 0;
	unsigned long nth = 0;
	int64_t date;
	FILE *in;
	int fd, tz;

	if (ensure_mailbox(c, st, f->mailbox) != 0) {
		c->t.failed++;
		return;
	}
	if ((fd = openat(c->plan->rootfd, f->dir, O_RDONLY | O_CLOEXEC |
	    (f->follow ? 0 : O_NOFOLLOW))) < 0 ||
	    (in = fdopen(fd, "r")) == NULL) {
		report_failure(c, f->mailbox, f->dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	r = xmalloc(sizeof(*r));
	if (!mbox_open(r, in)) {
		report_failure(c, f->mailbox, f->dir, "not an mbox file");
		goto out;
	}
	while (mbox_next(r, &date, &tz)) {
		const char *const *kw;
		const char *data;
		char what[64];
		unsigned flags;
		size_t len, n_kw;
		struct one o;

		snprintf(what, sizeof(what), "message %lu", ++nth);
		if (one_begin(c, st, &o) != STORE_OK) {
			report_failure(c, f->mailbox, what, store_error(st));
			break;
		}
		while ((len = mbox_read(r, &data)) > 0)
			if (!o.failed && one_write(c, &o, data, len) != STORE_OK) {
				report_failure(c, f->mailbox, what,
				    store_error(st));
				o.failed = true;
			}
		mbox_state(r, &flags, &kw, &n_kw);
		if (r->error && !o.failed) {
			report_failure(c, f->mailbox, what, "read error");
			o.failed = true;
		}
		if (o.failed)
			store_append_abort(o.ap);
		else
			one_commit(c, st, &o, f->mailbox, what, flags, kw, n_kw,
			    date, tz);
		progress_step(&c->pg, r->offset - before);
		before = r->offset;
	}
	if (r->error)
		report_failure(c, f->mailbox, f->dir, "read error");
out:
	free(r);
	fclose(in);
}

static void
subscribe_all(struct import_ctx *c, struct store *st)
{
	for (size_t i = 0; i < c->plan->n_subs; i++) {
		enum store_result r = store_subscribe(st, c->plan->subs[i], true);

		if (r != STORE_OK && r != STORE_EXISTS)
			fprintf(stderr, "cairnctl: import: subscribe %s: %s\n",
			    c->plan->subs[i], store_error(st));
	}
}

static void
print_summary(const struct import_ctx *c, double seconds)
{
	const struct totals *t = &c->t;

	printf("import of %s into %s: %llu imported, %llu skipped (already "
	    "there), %llu failed; %u mailbox%s created; %.1f MB in %.1f s\n",
	    c->req->path, c->req->name, (unsigned long long)t->imported,
	    (unsigned long long)t->skipped, (unsigned long long)t->failed,
	    t->mailboxes_created, t->mailboxes_created == 1 ? "" : "es",
	    (double)t->bytes / (1024.0 * 1024.0), seconds);
}

static int
import_store(struct store *st, const char *name, void *arg)
{
	struct import_ctx *c = arg;
	struct plan *p = c->plan;

	(void)name;
	if (migrate_read_anything() != 0)
		return CTL_EXIT_ERROR;
	if ((c->md = EVP_MD_CTX_new()) == NULL)
		return ctl_fail("import: out of memory");
	progress_start(&c->pg, stderr, isatty(STDERR_FILENO), "import",
	    p->kind == SOURCE_MAILDIR ? p->msgs : 0, p->bytes);
	for (size_t i = 0; i < p->n; i++) {
		if (p->kind == SOURCE_MAILDIR)
			import_maildir_folder(c, st, &p->f[i]);
		else
			import_mbox_file(c, st, &p->f[i]);
	}
	progress_end(&c->pg);
	subscribe_all(c, st);
	migrate_read_anything_end();
	EVP_MD_CTX_free(c->md);
	print_summary(c, progress_now() - c->pg.start);
	return c->t.failed > 0 ? CTL_EXIT_ERROR : CTL_EXIT_OK;
}

static int
dry_run(const struct import_request *req, const struct plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		if (p->kind == SOURCE_MAILDIR)
			printf("%s -> %s: %zu messages, %.1f MB\n", p->f[i].dir,
			    p->f[i].mailbox, p->f[i].n,
			    (double)p->f[i].bytes / (1024.0 * 1024.0));
		else
			printf("%s -> %s: mbox, %.1f MB\n", p->f[i].dir,
			    p->f[i].mailbox,
			    (double)p->f[i].bytes / (1024.0 * 1024.0));
	}
	for (size_t i = 0; i < p->n_subs; i++)
		printf("subscribe %s\n", p->subs[i]);
	printf("dry run: %s would be imported into %s (%zu mailboxes, %.1f MB); "
	    "nothing was written\n", req->path, req->name, p->n,
	    (double)p->bytes / (1024.0 * 1024.0));
	return CTL_EXIT_OK;
}

int
import_run(const struct cairn_config *cfg, const struct import_request *req)
{
	struct import_ctx *c;
	struct plan p;
	int status;

	if (make_plan(req, &p) != 0) {
		plan_free(&p);
		return CTL_EXIT_ERROR;
	}
	if (req->dry_run) {
		status = dry_run(req, &p);
		plan_free(&p);
		return status;
	}
	if (make_store_dir(cfg, req->name) != 0) {
		plan_free(&p);
		return CTL_EXIT_ERROR;
	}
	c = xcalloc(1, sizeof(*c));
	c->req = req;
	c->plan = &p;
	status = ctl_store_run(cfg, req->name, import_store, c);
	free(c);
	plan_free(&p);
	return status;
}
