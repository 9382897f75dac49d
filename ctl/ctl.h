/*
 * cairnctl: what main.c (options, configuration, dispatch) and user.c
 * (cairnctl user ...) share, and the messages every file of it writes.
 * user-internal.h has what user.c shares with the files doing its work.
 */
#ifndef CAIRN_CTL_H
#define CAIRN_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "config.h"
#include "store.h"

/* Exit statuses, documented in cairnctl(8). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_ERROR 1
#define CTL_EXIT_USAGE 2
#define CTL_EXIT_NOT_RUNNING 3

struct user_cmd;

/* One parsed "user ..." command line. */
struct user_request {
	const struct user_cmd *cmd;
	const char *name;          /* NULL for list */
	const char *hash;          /* add --hash */
	bool yes;                  /* del --yes */
	bool purge;                /* del --purge */
};

/*
 * Parse argv = {"user", SUBCOMMAND, ...} before the configuration is read,
 * so --help and usage errors need no configuration.  --help prints to
 * stdout and exits 0; a usage error prints one line and the usage to
 * stderr and exits CTL_EXIT_USAGE; an invalid user name exits
 * CTL_EXIT_ERROR.
 */
void user_parse(int argc, char *argv[], struct user_request *req);

/* Run a parsed request; returns the exit status. */
int user_run(const struct cairn_config *cfg, const struct user_request *req);

/*
 * Every error is one line on stderr: "cairnctl: " and the message.
 * Returns CTL_EXIT_ERROR.
 */
int ctl_fail(const char *fmt, ...) CAIRN_PRINTF(1, 2);

/*
 * s made printable for a one-line message: bytes outside printable ASCII
 * and backslash become \xNN; at most max bytes of s are shown, then "...".
 * buf must hold 4 * max + 4 bytes.
 */
const char *ctl_escape(const char *s, size_t max, char *buf, size_t buflen);

/*
 * Refuse a bad user name before any file is touched, never fixing it up:
 * one line on stderr (suggesting the lower-case form when that is all that
 * is wrong) and exit CTL_EXIT_ERROR.  Returns only for a valid name.
 */
void ctl_check_user_name(const char *name);

/*
 * A usage error: "cairnctl: what 'arg'" (arg escaped, may be NULL), then
 * print_usage(stderr); exits CTL_EXIT_USAGE.
 */
#define CTL_SHOWN_MAX 64
_Noreturn void ctl_usage_error(const char *what, const char *arg,
    void (*print_usage)(FILE *out));

/* "usage: ..." lines for every user subcommand (the top-level usage). */
void user_usage_lines(FILE *out);

/* One parsed "fsck USER [--repair]" command line (fsck.c). */
struct fsck_request {
	const char *name;
	bool repair;
};

/*
 * Parse argv = {"fsck", ...} before the configuration is read: --help
 * prints to stdout and exits 0; a usage error exits CTL_EXIT_USAGE; an
 * invalid user name exits CTL_EXIT_ERROR.
 */
void fsck_parse(int argc, char *argv[], struct fsck_request *req);

/* store_fsck() on <data-dir>/mail/NAME: 0 clean, CTL_EXIT_ERROR when
 * problems were found (repaired or not) or on an error. */
int fsck_run(const struct cairn_config *cfg, const struct fsck_request *req);

/* The "usage: ..." line of fsck. */
void fsck_usage_lines(FILE *out);

/*
 * Open <data-dir>/mail/NAME as the mail user (storedir.c) and return
 * fn(store, name, arg): an exit status.  A missing, linked or foreign
 * store directory is refused with a message (CTL_EXIT_ERROR).
 */
int ctl_store_run(const struct cairn_config *cfg, const char *name,
    int (*fn)(struct store *st, const char *name, void *arg), void *arg);

/* One parsed "quota get|set USER ..." command line (quota.c). */
struct quota_request {
	const char *name;
	bool set;
	bool set_storage, set_messages;     /* what set changes */
	uint64_t storage, messages;         /* STORE_QUOTA_NONE: no limit */
};

/* As fsck_parse, for argv = {"quota", ...}. */
void quota_parse(int argc, char *argv[], struct quota_request *req);
/* Show (after set: change, then show) the limits and usage; exit status. */
int quota_run(const struct cairn_config *cfg, const struct quota_request *req);
/* The "usage: ..." lines of quota. */
void quota_usage_lines(FILE *out);

/* cairnctl who|kick|reload|stats (control.c): the master's control socket */
struct control_cmd {
	const char *verb;          /* the request's first word */
	const char *user;          /* kick */
	bool json;                 /* who --json */
	bool prometheus;           /* stats --prometheus */
};
/* false when argv[0] is none of them; usage errors exit. */
bool control_parse(int argc, char *argv[], struct control_cmd *req);
int control_run(const struct cairn_config *cfg, const struct control_cmd *req);
void control_usage(FILE *out);
/*
 * One request (a line without LF) to <run-dir>/control: CTL_EXIT_OK with
 * *ok (OK or ERR) and *body (free it); CTL_EXIT_NOT_RUNNING when nothing
 * listens there (said on stderr); CTL_EXIT_ERROR (said).
 */
int control_request(const struct cairn_config *cfg, const char *request,
    bool *ok, char **body);

/* cairnctl config get [NAME] | set NAME=VALUE (config-cmd.c) */
struct config_cmd {
	bool set;
	const char *name;          /* NULL: get prints every setting */
	const char *value;
};
/* Usage errors exit CTL_EXIT_USAGE, an unknown option name CTL_EXIT_ERROR. */
void config_cmd_parse(int argc, char *argv[], struct config_cmd *req);
int config_cmd_run(const struct cairn_config *cfg, const char *config_path,
    const struct config_cmd *req);
void config_cmd_usage(FILE *out);

#endif
