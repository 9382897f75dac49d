/*
 * cairn.conf(5): the only file that knows libconfuse is config.c.
 *
 * The master reads the file into memory once (config_read_text), validates
 * it (config_parse), and hands the very same text to every child through a
 * memfd, so a child always runs the settings the master accepted.
 */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "log.h"

#define CONFIG_MAX_FILE_SIZE (1024 * 1024)
#define CONFIG_MAX_BIND_ADDRS 32

struct cairn_config {
	char *bind_addrs[CONFIG_MAX_BIND_ADDRS];
	size_t n_bind_addrs;
	unsigned bind_port;          /* 0: clear-text listener off */
	unsigned bind_port_tls;      /* 0: TLS listener off */
	char *cert_path;             /* NULL: no TLS at all */
	char *key_path;
	enum log_level log_level;
	uint64_t max_request_size;   /* bytes */
	unsigned worker_pool_size;   /* as configured; 0 = number of CPUs */
	bool allow_plain_text_auth;
	unsigned auth_max_failures;
	unsigned max_concurrent;
	unsigned rate_limit_count;   /* rate-limit = "COUNT/PERIOD" */
	unsigned rate_limit_period;  /* seconds */
	unsigned timeout_unauthenticated; /* seconds */
	unsigned timeout_authenticated;
	unsigned timeout_idle;
	unsigned idle_keepalive;     /* seconds between IDLE's "* OK Still here" */
	char *user;
	char *group;
	char *auth_user;
	char *data_dir;
	char *run_dir;
	unsigned max_connections;
	unsigned max_unauth_per_address; /* 0: no per-address limit */

	/* Delivery (cairn-lmtpd, cairn-deliver).  lmtp_socket and
	 * lmtp_group are always set (their defaults resolved from run-dir
	 * and group); no lmtp-bind address: no TCP listener. */
	char *lmtp_socket;
	char *lmtp_bind_addrs[CONFIG_MAX_BIND_ADDRS];
	size_t n_lmtp_bind_addrs;
	unsigned lmtp_port;
	char *lmtp_group;
	uint64_t lmtp_max_message_size;  /* bytes; default max-request-size */
	bool lmtp_detail_mailbox;        /* user+detail -> mailbox "detail" */
	char *lmtp_recipient_delimiter;  /* "" when none */
};

/* Called once per error, with "FILE:LINE: message" already formatted. */
typedef void (*config_error_fn)(void *arg, const char *message);

/*
 * Read a config file whole (at most CONFIG_MAX_FILE_SIZE bytes).  Returns a
 * NUL-terminated buffer the caller frees, or NULL with errno set.
 */
char *config_read_text(const char *path, size_t *len);
/* Read everything from a descriptor (a child's config memfd). */
char *config_read_fd(int fd, size_t *len);

/*
 * Parse and validate config text.  name is the file name used in messages.
 * Returns NULL after reporting every error through on_error (NULL: log_errorx).
 * check_files: also check that cert-path and key-path are readable files.
 */
struct cairn_config *config_parse(const char *text, const char *name,
    bool check_files, config_error_fn on_error, void *arg);
/* config_read_text + config_parse; an unreadable file is reported too. */
struct cairn_config *config_load(const char *path, bool check_files,
    config_error_fn on_error, void *arg);
/*
 * A child's configuration: the text the master validated, read from fd
 * (its config memfd), which is then closed.  Any failure is fatal.
 */
struct cairn_config *config_load_child(int fd, const char *name);
void config_free(struct cairn_config *cfg);

/* Every effective setting, in config syntax (cairnd -n). */
void config_print(const struct cairn_config *cfg, FILE *out);
/* worker-pool-size with 0 resolved to the number of online CPUs. */
unsigned config_worker_pool(const struct cairn_config *cfg);
bool config_tls_enabled(const struct cairn_config *cfg);

/* What an option's value looks like in the file (cairnctl config set). */
enum config_kind {
	CONFIG_KIND_UNKNOWN,     /* no such option */
	CONFIG_KIND_STRING,      /* "quoted" */
	CONFIG_KIND_LIST,        /* {"a", "b"} */
	CONFIG_KIND_WORD,        /* a bare number, size, duration or boolean */
};
enum config_kind config_option_kind(const char *name);

/* Value syntax shared with the tests: 0 on success, -1 on bad syntax/range. */
int config_parse_size(const char *s, uint64_t *out);
int config_parse_duration(const char *s, unsigned *out_seconds);
int config_parse_rate(const char *s, unsigned *count, unsigned *period);

#endif
