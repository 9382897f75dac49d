/*
 * cairnctl user ...: the administration of <data-dir>/auth/users.db.  This
 * file parses the command line and runs the subcommands; secret.c reads
 * passwords and answers, userdir.c opens users.db (directories, effective
 * ids) and purge.c removes a deleted user's mail.
 *
 * Every error is one line on stderr, "cairnctl: ...".
 */
#include "autoconfig.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "password.h"
#include "user-internal.h"
#include "userdb.h"
#include "username.h"

#define SHOWN_MAX CTL_SHOWN_MAX   /* bytes of a bad argument quoted back */

/* What a subcommand accepts. */
enum {
	TAKES_NAME = 1 << 0,
	TAKES_HASH = 1 << 1,      /* --hash */
	TAKES_DEL = 1 << 2,       /* --yes, --purge */
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

/* See ctl.h. */
int
ctl_fail(const char *fmt, ...)
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

/* ---- results ------------------------------------------------------------ */

static int
no_such_user(const struct user_ctx *ctx)
{
	return ctl_fail("no such user '%s'", ctx->req->name);
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
		return ctl_fail("user '%s' already exists", ctx->req->name);
	case USERDB_ERROR:
		break;
	}
	return ctl_fail("%s: %s", ctx->db_path, userdb_error(ctx->db));
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
	else if ((status = secret_new_hash(req->name, hash, sizeof(hash))) != 0)
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
	if ((status = secret_new_hash(ctx->req->name, hash, sizeof(hash))) != 0)
		return status;
	status = db_status(ctx, userdb_set_hash(ctx->db, ctx->req->name, hash));
	explicit_bzero(hash, sizeof(hash));
	return status;
}

/* "Delete user NAME? [y/N]" on the terminal; 0 when the answer is yes. */
static int
confirm_delete(const struct user_ctx *ctx)
{
	if (!isatty(STDIN_FILENO))
		return ctl_fail("user del: standard input is not a terminal; "
		    "confirm with --yes");
	if (ctx->req->purge)
		fprintf(stderr, "Delete user %s and its mail in %s/%s/%s? [y/N] ",
		    ctx->req->name, ctx->cfg->data_dir, MAIL_DIR, ctx->req->name);
	else
		fprintf(stderr, "Delete user %s? [y/N] ", ctx->req->name);
	if (secret_read_yes())
		return 0;
	return ctl_fail("user %s not deleted", ctx->req->name);
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

void
ctl_check_user_name(const char *name)
{
	char canon[USERNAME_MAX + 1], shown[4 * SHOWN_MAX + 4];
	const char *why = "invalid";
	size_t len = strlen(name);

	if (username_valid(name, len, &why))
		return;
	ctl_escape(name, SHOWN_MAX, shown, sizeof(shown));
	if (username_canonical(name, len, canon, sizeof(canon)))
		ctl_fail("invalid user name '%s': user names are lower case; "
		    "did you mean '%s'?", shown, canon);
	else
		ctl_fail("invalid user name '%s': %s", shown, why);
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
		ctl_check_user_name(req->name);
	}
	if (req->hash != NULL && !password_hash_supported(req->hash)) {
		ctl_fail("--hash: not a supported crypt(3) hash (yescrypt $y$, "
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
	if ((status = userdir_open_db(&ctx, req->cmd->mode)) == 0)
		status = req->cmd->run(&ctx);
	userdb_close(ctx.db);
	/*
	 * Back to root for the exit: LeakSanitizer (sanitizer builds) must
	 * ptrace this process, which half-root ids forbid.
	 */
	if (ctx.as_root && geteuid() != 0 && userdir_become_root() != 0)
		status = CTL_EXIT_ERROR;
	if (fflush(stdout) != 0 || ferror(stdout))
		status = ctl_fail("cannot write to standard output: %s",
		    strerror(errno));
	return status;
}
