/*
 * cairnctl user ...: the administration of <data-dir>/auth/users.db.
 *
 * Started as root, cairnctl makes <data-dir> and <data-dir>/auth when they
 * are missing, then takes the effective ids of auth-user before it opens
 * the database, so every file SQLite creates belongs to the account
 * cairn-authd runs as.  Root stays the saved uid only so that
 * "del --purge" can come back to remove the user's mail, which belongs to
 * the mail user.  Started as anyone else (development, tests), it uses the
 * files as that user.
 *
 * Every error is one line on stderr, "cairnctl: ...".
 */
#include "autoconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <inttypes.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "password.h"
#include "userdb.h"
#include "username.h"

#define AUTH_DIR "auth"
#define MAIL_DIR "mail"
#define PURGE_MAX_DEPTH 128       /* a mail store is a few levels deep */
#define SHOWN_MAX 64              /* bytes of a bad argument quoted back */

/* What a subcommand accepts. */
enum {
	TAKES_NAME = 1 << 0,
	TAKES_HASH = 1 << 1,      /* --hash */
	TAKES_DEL = 1 << 2,       /* --yes, --purge */
};

/* How a subcommand opens users.db. */
enum db_mode {
	DB_READ,                  /* read-only; a missing database is empty */
	DB_WRITE,                 /* read-write; a missing database is empty */
	DB_CREATE,                /* read-write; made if missing */
};

struct user_ctx {
	const struct cairn_config *cfg;
	const struct user_request *req;
	struct userdb *db;        /* NULL: there is no database (yet) */
	bool as_root;             /* effective ids are auth-user's, saved uid 0 */
	uid_t owner_uid;          /* who must own <data-dir>/auth */
	gid_t owner_gid;
	char auth_dir[PATH_MAX];
	char db_path[PATH_MAX];
};

struct user_cmd {
	const char *name;
	const char *args;         /* after "user NAME" in the usage */
	const char *summary;
	const char *options;      /* option lines for --help, or "" */
	unsigned flags;
	enum db_mode mode;
	int (*run)(struct user_ctx *ctx);
};

/* Set by the handler while a password is read from the terminal. */
static volatile sig_atomic_t caught_signal;

static int CAIRN_PRINTF(1, 2)
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("cairnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EXIT_ERROR;
}

/* See ctl.h; shared with main.c. */
const char *
ctl_escape(const char *s, size_t max, char *buf, size_t buflen)
{
	size_t i, o = 0;

	for (i = 0; i < max && s[i] != '\0' && o + 5 < buflen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f || c == '\\')
			o += (size_t)snprintf(buf + o, buflen - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	if (s[i] != '\0' && o + 4 <= buflen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

/* ---- usage ----------------------------------------------------------- */

static void
cmd_usage(const struct user_cmd *cmd, FILE *out)
{
	fprintf(out, "usage: cairnctl [-c FILE] user %s%s%s\n", cmd->name,
	    cmd->args[0] != '\0' ? " " : "", cmd->args);
}

static void
cmd_help(const struct user_cmd *cmd, FILE *out)
{
	cmd_usage(cmd, out);
	fprintf(out, "  %s\n%s", cmd->summary, cmd->options);
}

static _Noreturn void CAIRN_PRINTF(2, 3)
usage_error(const struct user_cmd *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("cairnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (cmd != NULL)
		cmd_usage(cmd, stderr);
	else
		user_usage_lines(stderr);
	exit(CTL_EXIT_USAGE);
}

/* ---- terminal and standard input --------------------------------------- */

enum {
	LINE_ERROR = -1,          /* errno set */
	LINE_TOO_LONG = -2,
	LINE_EOF = -3,            /* input ended before any byte */
};

/*
 * One line from fd into buf (size bytes, NUL included), without its '\n'.
 * A byte at a time: nothing after the line is consumed, and no stdio
 * buffer keeps a copy of a password.  Returns the length or a LINE_ code.
 */
static ssize_t
read_line(int fd, char *buf, size_t size)
{
	size_t n = 0;
	char c;
	ssize_t r;

	for (;;) {
		if (caught_signal != 0) {
			errno = EINTR;
			return LINE_ERROR;
		}
		r = read(fd, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return LINE_ERROR;
		if (r == 0) {
			if (n == 0)
				return LINE_EOF;
			break;
		}
		if (c == '\n')
			break;
		if (n + 1 >= size) {
			explicit_bzero(&c, sizeof(c));
			return LINE_TOO_LONG;
		}
		buf[n++] = c;
	}
	explicit_bzero(&c, sizeof(c));
	buf[n] = '\0';
	return (ssize_t)n;
}

static void
on_signal(int sig)
{
	caught_signal = sig;
}

/* Signals that end the process: caught, so echo comes back first. */
static const int fatal_signals[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_FATAL_SIGNALS (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

/*
 * Read a line from the terminal with echo off.  The echo comes back on
 * every path: a signal that would end us (Ctrl-C, kill) is caught without
 * SA_RESTART, so read() returns, the terminal is restored, and the signal
 * is raised again under its old disposition; the job-control signals
 * (Ctrl-Z, and SIGTTOU/SIGTTIN in the background) are held until the echo
 * is back on.
 */
static ssize_t
tty_read_secret(const char *prompt, char *buf, size_t size)
{
	struct termios saved, quiet;
	struct sigaction sa, old[N_FATAL_SIGNALS];
	sigset_t hold, oldmask;
	ssize_t n = LINE_ERROR;
	int sig, err;

	if (tcgetattr(STDIN_FILENO, &saved) != 0)
		return LINE_ERROR;
	sigemptyset(&hold);
	sigaddset(&hold, SIGTSTP);
	sigaddset(&hold, SIGTTIN);
	sigaddset(&hold, SIGTTOU);
	sigprocmask(SIG_BLOCK, &hold, &oldmask);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	caught_signal = 0;
	for (size_t i = 0; i < N_FATAL_SIGNALS; i++)
		sigaction(fatal_signals[i], &sa, &old[i]);

	quiet = saved;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	if (tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0) {
		fputs(prompt, stderr);
		n = read_line(STDIN_FILENO, buf, size);
		err = errno;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
		fputc('\n', stderr);    /* the user's Enter was not echoed */
		errno = err;
	}

	err = errno;
	for (size_t i = 0; i < N_FATAL_SIGNALS; i++)
		sigaction(fatal_signals[i], &old[i], NULL);
	if ((sig = caught_signal) != 0) {
		caught_signal = 0;
		raise(sig);             /* ends us, unless it was ignored */
	}
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	errno = err;
	return n;
}

/* A read_line() result as a password: 0, or an error message. */
static int
check_password(ssize_t n, const char *buf, const char *source)
{
	switch (n) {
	case LINE_ERROR:
		return fail("cannot read the password from %s: %s", source,
		    strerror(errno));
	case LINE_TOO_LONG:
		return fail("the password is longer than %d bytes", PASSWORD_MAX);
	case LINE_EOF:
		return fail("no password on %s", source);
	case 0:
		return fail("empty passwords are refused");
	default:
		break;
	}
	/* crypt(3) would stop at the NUL: a different, shorter password. */
	if (memchr(buf, '\0', (size_t)n) != NULL)
		return fail("the password contains a NUL byte");
	return 0;
}

/*
 * A new password into pw (size PASSWORD_MAX + 1): typed twice on a
 * terminal, or one line of standard input when that is not a terminal
 * (scripts: printf '%s\n' "$pw" | cairnctl user add NAME).
 */
static int
read_new_password(const char *name, char *pw, size_t size)
{
	char again[PASSWORD_MAX + 1], prompt[USERNAME_MAX + 64];
	int status;

	if (!isatty(STDIN_FILENO))
		return check_password(read_line(STDIN_FILENO, pw, size), pw,
		    "standard input");
	snprintf(prompt, sizeof(prompt), "New password for %s: ", name);
	status = check_password(tty_read_secret(prompt, pw, size), pw,
	    "the terminal");
	if (status == 0)
		status = check_password(tty_read_secret("Retype the password: ",
		    again, sizeof(again)), again, "the terminal");
	if (status == 0 && strcmp(pw, again) != 0)
		status = fail("the passwords do not match");
	explicit_bzero(again, sizeof(again));
	return status;
}

/* Ask for a password and hash it (yescrypt) into hash. */
static int
new_hash(const char *name, char *hash, size_t hashlen)
{
	char pw[PASSWORD_MAX + 1];
	int status;

	status = read_new_password(name, pw, sizeof(pw));
	if (status == 0 && password_hash(pw, hash, hashlen) != 0)
		status = fail("cannot hash the password: %s", strerror(errno));
	explicit_bzero(pw, sizeof(pw));
	return status;
}

/* "Delete user NAME? [y/N]" on the terminal; 0 when the answer is yes. */
static int
confirm_delete(const struct user_ctx *ctx)
{
	char answer[16];
	ssize_t n;

	if (!isatty(STDIN_FILENO))
		return fail("user del: standard input is not a terminal; "
		    "confirm with --yes");
	if (ctx->req->purge)
		fprintf(stderr, "Delete user %s and its mail in %s/%s/%s? [y/N] ",
		    ctx->req->name, ctx->cfg->data_dir, MAIL_DIR, ctx->req->name);
	else
		fprintf(stderr, "Delete user %s? [y/N] ", ctx->req->name);
	n = read_line(STDIN_FILENO, answer, sizeof(answer));
	if (n > 0 && (strcasecmp(answer, "y") == 0 ||
	    strcasecmp(answer, "yes") == 0))
		return 0;
	if (n == LINE_EOF)
		fputc('\n', stderr);
	return fail("user %s not deleted", ctx->req->name);
}

/* ---- directories and identities ----------------------------------------- */

/*
 * Open the directory name under dirfd, making it first with mode (and, as
 * root, owner uid:gid) when create is set and it is missing.  What is made
 * gets exactly mode, whatever the umask.  -1 with errno on failure.
 */
static int
open_dir(int dirfd, const char *name, bool create, mode_t mode, uid_t uid,
    gid_t gid, int nofollow)
{
	bool made = false;
	int fd, err;

	if (create) {
		if (mkdirat(dirfd, name, mode) == 0)
			made = true;
		else if (errno != EEXIST)
			return -1;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nofollow);
	if (fd < 0 || !made)
		return fd;
	if ((geteuid() == 0 && fchown(fd, uid, gid) != 0) ||
	    fchmod(fd, mode) != 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return fd;
}

/* Only its owner may enter <data-dir>/auth: it holds the password hashes. */
static int
check_auth_dir(const struct user_ctx *ctx, int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return fail("%s: %s", ctx->auth_dir, strerror(errno));
	if (st.st_uid != ctx->owner_uid || (st.st_mode & 077) != 0)
		return fail("%s is owned by uid %lu with mode %04o; it must be "
		    "owned by %s with mode 0700", ctx->auth_dir,
		    (unsigned long)st.st_uid, (unsigned)(st.st_mode & 07777),
		    ctx->as_root ? ctx->cfg->auth_user : "the user running cairnctl");
	return 0;
}

/*
 * <data-dir> (0755, root's when root) and <data-dir>/auth (0700, the
 * owner's), made when create is set.  *missing: they do not exist and were
 * not to be made.
 */
static int
prepare_dirs(struct user_ctx *ctx, bool create, bool *missing)
{
	const char *data = ctx->cfg->data_dir;
	int dfd, afd, status;

	*missing = false;
	dfd = open_dir(AT_FDCWD, data, create, 0755, 0, 0, 0);
	if (dfd < 0) {
		if (errno == ENOENT && !create)
			return *missing = true, 0;
		return fail("cannot %s %s: %s", create ? "create" : "open", data,
		    strerror(errno));
	}
	/* No symbolic link: auth-user must not be able to point it elsewhere. */
	afd = open_dir(dfd, AUTH_DIR, create, 0700, ctx->owner_uid,
	    ctx->owner_gid, O_NOFOLLOW);
	close(dfd);
	if (afd < 0) {
		if (errno == ENOENT && !create)
			return *missing = true, 0;
		return fail("cannot %s %s: %s", create ? "create" : "open",
		    ctx->auth_dir, strerror(errno));
	}
	status = check_auth_dir(ctx, afd);
	close(afd);
	return status;
}

/* As root: who auth-user is; the hint is the one cairnd gives. */
static int
lookup_auth_user(struct user_ctx *ctx)
{
	const char *name = ctx->cfg->auth_user;
	struct passwd *pw;

	errno = 0;
	if ((pw = getpwnam(name)) == NULL)
		return fail("auth-user '%s' does not exist; create it with: "
		    "useradd --system --user-group --home-dir /nonexistent "
		    "--shell /usr/sbin/nologin %s", name, name);
	if (pw->pw_uid == 0)
		return fail("auth-user '%s' is root: choose an unprivileged account",
		    name);
	ctx->owner_uid = pw->pw_uid;
	ctx->owner_gid = pw->pw_gid;
	return 0;
}

/*
 * Effective ids of auth-user with its group only: what SQLite creates is
 * auth-user's, and root's groups grant nothing meanwhile.  The real and
 * saved uid stay 0, so become_root() can come back.  The kernel makes the
 * process non-dumpable on this change, so auth-user cannot ptrace a
 * process that can still become root.
 */
static int
become_auth_user(const struct user_ctx *ctx)
{
	if (setgroups(1, &ctx->owner_gid) != 0 || setegid(ctx->owner_gid) != 0 ||
	    seteuid(ctx->owner_uid) != 0)
		return fail("cannot switch to auth-user '%s': %s",
		    ctx->cfg->auth_user, strerror(errno));
	return 0;
}

static int
become_root(void)
{
	if (seteuid(0) != 0 || setegid(0) != 0)
		return fail("cannot switch back to root: %s", strerror(errno));
	return 0;
}

/* Directories, identity, then the database itself (ctx->db). */
static int
open_database(struct user_ctx *ctx)
{
	enum db_mode mode = ctx->req->cmd->mode;
	const char *data = ctx->cfg->data_dir;
	char err[PATH_MAX + 512];
	struct stat st;
	bool missing;
	int status;

	if ((size_t)snprintf(ctx->auth_dir, sizeof(ctx->auth_dir), "%s/%s", data,
	    AUTH_DIR) >= sizeof(ctx->auth_dir) ||
	    (size_t)snprintf(ctx->db_path, sizeof(ctx->db_path), "%s/%s",
	    ctx->auth_dir, USERDB_FILE) >= sizeof(ctx->db_path))
		return fail("data-dir is too long: %s", data);
	ctx->as_root = geteuid() == 0;
	ctx->owner_uid = geteuid();
	ctx->owner_gid = getegid();
	if (ctx->as_root && (status = lookup_auth_user(ctx)) != 0)
		return status;
	if ((status = prepare_dirs(ctx, mode == DB_CREATE, &missing)) != 0)
		return status;
	if (ctx->as_root && (status = become_auth_user(ctx)) != 0)
		return status;
	if (missing)
		return 0;
	/* Say so plainly if auth-user cannot even reach its directory. */
	if (ctx->as_root &&
	    faccessat(AT_FDCWD, ctx->auth_dir, X_OK, AT_EACCESS) != 0)
		return fail("auth-user '%s' cannot reach %s: %s (every parent "
		    "directory must be searchable by it)", ctx->cfg->auth_user,
		    ctx->auth_dir, strerror(errno));
	/* Only add creates the database; for the others none means no users. */
	if (mode != DB_CREATE && lstat(ctx->db_path, &st) != 0 && errno == ENOENT)
		return 0;
	ctx->db = userdb_open(ctx->db_path, mode == DB_CREATE, mode == DB_READ,
	    err, sizeof(err));
	if (ctx->db == NULL)
		return fail("%s", err);
	return 0;
}

/* ---- results ------------------------------------------------------------ */

static int
no_such_user(const struct user_ctx *ctx)
{
	return fail("no such user '%s'", ctx->req->name);
}

static int
db_status(const struct user_ctx *ctx, enum userdb_result r)
{
	switch (r) {
	case USERDB_OK:
		return 0;
	case USERDB_NOT_FOUND:
		return no_such_user(ctx);
	case USERDB_EXISTS:
		return fail("user '%s' already exists", ctx->req->name);
	case USERDB_ERROR:
		break;
	}
	return fail("%s: %s", ctx->db_path, userdb_error(ctx->db));
}

/* The user NAME into u, or an error message. */
static int
get_user(const struct user_ctx *ctx, struct userdb_user *u)
{
	if (ctx->db == NULL)
		return no_such_user(ctx);
	return db_status(ctx, userdb_get(ctx->db, ctx->req->name, u));
}

static const char *
hash_scheme(const char *hash)
{
	if (strncmp(hash, "$y$", 3) == 0)
		return "yescrypt";
	if (strncmp(hash, "$6$", 3) == 0)
		return "sha512-crypt";
	if (strncmp(hash, "$2b$", 4) == 0 || strncmp(hash, "$2y$", 4) == 0 ||
	    strncmp(hash, "$2a$", 4) == 0)
		return "bcrypt";
	return "unsupported";
}

static const char *
iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL ||
	    strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
	return buf;
}

/* ---- mail directory removal ---------------------------------------------- */

/* Where a removal is, relative to <data-dir>/mail, for the error message. */
struct purge {
	char where[PATH_MAX];
	size_t len;
	bool too_deep;
};

static int remove_entry(struct purge *p, int parent, const char *name, int depth);

/* Remove everything in the directory name under parent. */
static int
empty_dir(struct purge *p, int parent, const char *name, int depth)
{
	struct dirent *de;
	DIR *dir;
	int fd, rc = 0, err;

	/* O_NOFOLLOW: if name became a link since it was checked, stop. */
	fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	while (rc == 0) {
		errno = 0;
		if ((de = readdir(dir)) == NULL) {
			rc = errno != 0 ? -1 : 0;
			break;
		}
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		rc = remove_entry(p, dirfd(dir), de->d_name, depth + 1);
	}
	err = errno;
	closedir(dir);
	errno = err;
	return rc;
}

/*
 * Remove name under parent: a directory with everything in it, anything
 * else (a symbolic link included: the link goes, its target stays) with
 * unlinkat().  Every level is opened relative to its parent, never by a
 * path, so no link is ever followed.
 */
static int
remove_entry(struct purge *p, int parent, const char *name, int depth)
{
	size_t len = p->len;
	struct stat st;
	int n;

	n = snprintf(p->where + len, sizeof(p->where) - len, "/%s", name);
	if (n < 0 || (size_t)n >= sizeof(p->where) - len) {
		errno = ENAMETOOLONG;
		return -1;
	}
	p->len += (size_t)n;
	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		if (errno != ENOENT)
			return -1;      /* ENOENT: already gone, nothing to do */
	} else if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(parent, name, 0) != 0)
			return -1;
	} else if (depth >= PURGE_MAX_DEPTH) {
		p->too_deep = true;
		return -1;
	} else if (empty_dir(p, parent, name, depth) != 0 ||
	    unlinkat(parent, name, AT_REMOVEDIR) != 0) {
		return -1;
	}
	p->len = len;
	p->where[len] = '\0';
	return 0;
}

/* rm -r <data-dir>/mail/NAME, as root when we are (it is the mail user's). */
static int
purge_mail(const struct user_ctx *ctx)
{
	const char *data = ctx->cfg->data_dir, *name = ctx->req->name;
	struct purge p = { .len = 0 };
	int dfd, mfd = -1, rc, err;

	if (ctx->as_root && become_root() != 0)
		return CTL_EXIT_ERROR;
	if ((dfd = open(data, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		mfd = openat(dfd, MAIL_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		close(dfd);
	}
	/* No mail directory at all (nobody has logged in) is not an error. */
	if (mfd < 0 && errno == ENOENT)
		return 0;
	if (mfd < 0) {
		err = errno;
		return fail("user %s deleted, but cannot open %s/%s: %s%s", name,
		    data, MAIL_DIR, strerror(err), err == ENOTDIR || err == ELOOP ?
		    " (a symbolic link is not followed)" : "");
	}
	rc = remove_entry(&p, mfd, name, 0);
	if (rc != 0)
		rc = fail("user %s deleted, but cannot remove %s/%s%s: %s", name,
		    data, MAIL_DIR, p.where, p.too_deep ?
		    "directories nested too deep" : strerror(errno));
	close(mfd);
	return rc;
}

/* ---- the subcommands ------------------------------------------------------ */

static int
user_add(struct user_ctx *ctx)
{
	const struct user_request *req = ctx->req;
	char hash[PASSWORD_HASH_MAX];
	struct userdb_user u;
	enum userdb_result r;
	int status;

	/* Before asking for a password, not only at the insert. */
	r = userdb_get(ctx->db, req->name, &u);
	explicit_bzero(&u, sizeof(u));
	if (r != USERDB_NOT_FOUND)
		return db_status(ctx, r == USERDB_OK ? USERDB_EXISTS : r);
	if (req->hash != NULL)
		snprintf(hash, sizeof(hash), "%s", req->hash);
	else if ((status = new_hash(req->name, hash, sizeof(hash))) != 0)
		return status;
	status = db_status(ctx, userdb_add(ctx->db, req->name, hash));
	explicit_bzero(hash, sizeof(hash));
	return status;
}

static int
user_passwd(struct user_ctx *ctx)
{
	char hash[PASSWORD_HASH_MAX];
	struct userdb_user u;
	int status;

	status = get_user(ctx, &u);
	explicit_bzero(&u, sizeof(u));
	if (status != 0)
		return status;
	if ((status = new_hash(ctx->req->name, hash, sizeof(hash))) != 0)
		return status;
	status = db_status(ctx, userdb_set_hash(ctx->db, ctx->req->name, hash));
	explicit_bzero(hash, sizeof(hash));
	return status;
}

static int
user_del(struct user_ctx *ctx)
{
	struct userdb_user u;
	int status;

	status = get_user(ctx, &u);
	explicit_bzero(&u, sizeof(u));
	if (status != 0)
		return status;
	if (!ctx->req->yes && (status = confirm_delete(ctx)) != 0)
		return status;
	/* The user goes first: no new login can start while the mail goes. */
	status = db_status(ctx, userdb_delete(ctx->db, ctx->req->name));
	if (status != 0)
		return status;
	return ctx->req->purge ? purge_mail(ctx) : 0;
}

static int
print_user(const struct userdb_user *u, void *arg)
{
	char buf[4 * USERNAME_MAX + 8];

	(void)arg;
	/* Names were checked on the way in; the file may have been edited. */
	printf("%s%s\n", ctl_escape(u->name, USERNAME_MAX, buf, sizeof(buf)),
	    u->disabled ? " (disabled)" : "");
	return 0;
}

static int
user_list(struct user_ctx *ctx)
{
	if (ctx->db == NULL)
		return 0;
	return db_status(ctx, userdb_list(ctx->db, print_user, NULL));
}

/* Everything but the hash itself. */
static int
user_show(struct user_ctx *ctx)
{
	struct userdb_user u;
	char t[64];
	int status;

	if ((status = get_user(ctx, &u)) == 0) {
		printf("name:     %s\n", u.name);
		printf("scheme:   %s\n", hash_scheme(u.hash));
		printf("disabled: %s\n", u.disabled ? "yes" : "no");
		printf("created:  %s\n", iso_time(u.created, t, sizeof(t)));
		printf("updated:  %s\n", iso_time(u.updated, t, sizeof(t)));
	}
	explicit_bzero(&u, sizeof(u));
	return status;
}

static int
set_disabled(struct user_ctx *ctx, bool disabled)
{
	if (ctx->db == NULL)
		return no_such_user(ctx);
	return db_status(ctx, userdb_set_disabled(ctx->db, ctx->req->name,
	    disabled));
}

static int
user_disable(struct user_ctx *ctx)
{
	return set_disabled(ctx, true);
}

static int
user_enable(struct user_ctx *ctx)
{
	return set_disabled(ctx, false);
}

static const struct user_cmd user_cmds[] = {
	{ "add", "NAME [--hash HASH]",
	    "create a user; the password is typed twice on the terminal, or is "
	    "one line of standard input",
	    "  --hash HASH  import an existing crypt(3) hash (yescrypt $y$, "
	    "SHA-512-crypt $6$,\n"
	    "               bcrypt $2b$/$2y$/$2a$) instead of asking for a "
	    "password\n",
	    TAKES_NAME | TAKES_HASH, DB_CREATE, user_add },
	{ "passwd", "NAME", "set a user's password, read as for add", "",
	    TAKES_NAME, DB_WRITE, user_passwd },
	{ "del", "NAME [--yes] [--purge]",
	    "delete a user, after asking on the terminal",
	    "  -y, --yes    do not ask\n"
	    "  --purge      also remove the user's mail, <data-dir>/mail/NAME\n",
	    TAKES_NAME | TAKES_DEL, DB_WRITE, user_del },
	{ "list", "", "list the users, one a line, \"(disabled)\" after "
	    "disabled ones", "", 0, DB_READ, user_list },
	{ "show", "NAME", "show a user: hash scheme, disabled, created, "
	    "updated (never the hash)", "", TAKES_NAME, DB_READ, user_show },
	{ "disable", "NAME", "refuse the user's logins (the password is kept)",
	    "", TAKES_NAME, DB_WRITE, user_disable },
	{ "enable", "NAME", "allow the user's logins again", "",
	    TAKES_NAME, DB_WRITE, user_enable },
};
#define N_USER_CMDS (sizeof(user_cmds) / sizeof(user_cmds[0]))

/* ---- command line -------------------------------------------------------- */

void
user_usage_lines(FILE *out)
{
	for (size_t i = 0; i < N_USER_CMDS; i++)
		cmd_usage(&user_cmds[i], out);
}

static void
user_help(FILE *out)
{
	fputs("usage: cairnctl [-c FILE] user COMMAND [ARGUMENTS]\n", out);
	for (size_t i = 0; i < N_USER_CMDS; i++)
		fprintf(out, "  %-8s %s\n", user_cmds[i].name, user_cmds[i].summary);
	fputs("'cairnctl user COMMAND --help' describes each command.\n", out);
}

static const struct user_cmd *
find_cmd(const char *name)
{
	for (size_t i = 0; i < N_USER_CMDS; i++)
		if (strcmp(user_cmds[i].name, name) == 0)
			return &user_cmds[i];
	return NULL;
}

/* Refuse a bad name here, before any file is touched; never fix it up. */
static void
check_name(const char *name)
{
	char canon[USERNAME_MAX + 1], shown[4 * SHOWN_MAX + 4];
	const char *why = "invalid";
	size_t len = strlen(name);

	if (username_valid(name, len, &why))
		return;
	ctl_escape(name, SHOWN_MAX, shown, sizeof(shown));
	if (username_canonical(name, len, canon, sizeof(canon)))
		fail("invalid user name '%s': user names are lower case; "
		    "did you mean '%s'?", shown, canon);
	else
		fail("invalid user name '%s': %s", shown, why);
	exit(CTL_EXIT_ERROR);
}

/* The option getopt_long() refused, or that this command does not take. */
static const char *
option_name(int ch, char *argv[], char *buf, size_t len)
{
	int c = ch == ':' ? optopt : ch;

	if (c == 'H')
		return "--hash";
	if (c == 'y')
		return "--yes";
	if (c == 'P')
		return "--purge";
	if (optopt != 0) {              /* an unknown short option */
		snprintf(buf, len, "-%c", optopt);
		return buf;
	}
	return ctl_escape(argv[optind - 1], SHOWN_MAX, buf, len);
}

void
user_parse(int argc, char *argv[], struct user_request *req)
{
	static const struct option longopts[] = {
		{ "hash", required_argument, NULL, 'H' },
		{ "yes", no_argument, NULL, 'y' },
		{ "purge", no_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const struct user_cmd *cmd;
	char buf[4 * SHOWN_MAX + 4];
	int ch, nargs, want;

	memset(req, 0, sizeof(*req));
	if (argc < 2)
		usage_error(NULL, "user: missing command");
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		user_help(stdout);
		exit(CTL_EXIT_OK);
	}
	if ((cmd = find_cmd(argv[1])) == NULL)
		usage_error(NULL, "user: unknown command '%s'",
		    ctl_escape(argv[1], SHOWN_MAX, buf, sizeof(buf)));
	req->cmd = cmd;
	/* From the subcommand on; optind 0 makes glibc start afresh. */
	argc--;
	argv++;
	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":hy", longopts, NULL)) != -1) {
		if (ch == 'h') {
			cmd_help(cmd, stdout);
			exit(CTL_EXIT_OK);
		} else if (ch == 'H' && (cmd->flags & TAKES_HASH))
			req->hash = optarg;
		else if (ch == 'y' && (cmd->flags & TAKES_DEL))
			req->yes = true;
		else if (ch == 'P' && (cmd->flags & TAKES_DEL))
			req->purge = true;
		else if (ch == ':')
			usage_error(cmd, "user %s: option '%s' needs an argument",
			    cmd->name, option_name(ch, argv, buf, sizeof(buf)));
		else
			usage_error(cmd, "user %s: unknown option '%s'", cmd->name,
			    option_name(ch, argv, buf, sizeof(buf)));
	}
	nargs = argc - optind;
	want = (cmd->flags & TAKES_NAME) ? 1 : 0;
	if (nargs < want)
		usage_error(cmd, "user %s: missing NAME", cmd->name);
	if (nargs > want)
		usage_error(cmd, "user %s: unexpected argument '%s'", cmd->name,
		    ctl_escape(argv[optind + want], SHOWN_MAX, buf, sizeof(buf)));
	if (want) {
		req->name = argv[optind];
		check_name(req->name);
	}
	if (req->hash != NULL && !password_hash_supported(req->hash)) {
		fail("--hash: not a supported crypt(3) hash (yescrypt $y$, "
		    "SHA-512-crypt $6$, bcrypt $2b$/$2y$/$2a$) or malformed");
		exit(CTL_EXIT_ERROR);
	}
}

int
user_run(const struct cairn_config *cfg, const struct user_request *req)
{
	struct user_ctx ctx;
	int status;

	memset(&ctx, 0, sizeof(ctx));
	ctx.cfg = cfg;
	ctx.req = req;
	umask(077);     /* what we create is private, unless chmod'ed */
	if ((status = open_database(&ctx)) == 0)
		status = req->cmd->run(&ctx);
	userdb_close(ctx.db);
	/*
	 * Back to root for the exit: LeakSanitizer (sanitizer builds) must
	 * ptrace this process, which half-root ids forbid.
	 */
	if (ctx.as_root && geteuid() != 0 && become_root() != 0)
		status = CTL_EXIT_ERROR;
	if (fflush(stdout) != 0 || ferror(stdout))
		status = fail("cannot write to standard output: %s",
		    strerror(errno));
	return status;
}
