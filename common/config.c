/* cairn.conf parsing and validation (libconfuse). */
#include "autoconfig.h"

#include <arpa/inet.h>
#include <confuse.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "xmalloc.h"

#ifndef CAIRN_DATA_DIR
#define CAIRN_DATA_DIR "/var/lib/cairn"
#endif
#ifndef CAIRN_RUN_DIR
#define CAIRN_RUN_DIR "/run/cairn"
#endif

#define KB 1024ULL
#define MB (1024ULL * KB)
#define GB (1024ULL * MB)
#define DURATION_MAX (7U * 24 * 3600)

/* Where errors go while one parse runs (libconfuse has no user pointer). */
struct parse_ctx {
	config_error_fn on_error;
	void *arg;
	const char *name;
	unsigned errors;
};
static struct parse_ctx *current_ctx;

static void
report(struct parse_ctx *ctx, int line, const char *fmt, ...)
{
	char msg[512], full[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(full, sizeof(full), "%s:%d: %s", ctx->name, line, msg);
	else
		snprintf(full, sizeof(full), "%s: %s", ctx->name, msg);
	ctx->errors++;
	if (ctx->on_error != NULL)
		ctx->on_error(ctx->arg, full);
	else
		log_errorx("%s", full);
}

static void
confuse_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (current_ctx != NULL)
		report(current_ctx, cfg != NULL ? cfg->line : 0, "%s", msg);
}

int
config_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long n, mult = 1;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0' || strcasecmp(end, "b") == 0)
		mult = 1;
	else if (strcasecmp(end, "kb") == 0 || strcasecmp(end, "k") == 0)
		mult = KB;
	else if (strcasecmp(end, "mb") == 0 || strcasecmp(end, "m") == 0)
		mult = MB;
	else if (strcasecmp(end, "gb") == 0 || strcasecmp(end, "g") == 0)
		mult = GB;
	else
		return -1;
	if (n > UINT64_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int
config_parse_duration(const char *s, unsigned *out_seconds)
{
	char *end;
	unsigned long long n, mult;

	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60;
	else if (strcmp(end, "h") == 0)
		mult = 3600;
	else if (strcmp(end, "d") == 0)
		mult = 86400;
	else
		return -1;
	if (n > UINT_MAX / mult)
		return -1;
	*out_seconds = (unsigned)(n * mult);
	return 0;
}

int
config_parse_rate(const char *s, unsigned *count, unsigned *period)
{
	const char *slash = strchr(s, '/');
	char num[16];
	char *end;
	unsigned long n;

	if (slash == NULL || slash == s || (size_t)(slash - s) >= sizeof(num))
		return -1;
	memcpy(num, s, (size_t)(slash - s));
	num[slash - s] = '\0';
	for (const char *p = num; *p != '\0'; p++)
		if (!isdigit((unsigned char)*p))
			return -1;
	errno = 0;
	n = strtoul(num, &end, 10);
	if (errno != 0 || n == 0 || n > 1000000000UL)
		return -1;
	if (config_parse_duration(slash + 1, period) != 0 || *period == 0 ||
	    *period > DURATION_MAX)
		return -1;
	*count = (unsigned)n;
	return 0;
}

/* libconfuse parse callbacks: a value with units becomes a number. */
static int
cb_size(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	uint64_t v;

	if (config_parse_size(value, &v) != 0 || v < KB || v > 4 * GB) {
		cfg_error(cfg, "option '%s': '%s' is not a size from 1kb to 4gb "
		    "(bytes, or a number with kb, mb or gb)", cfg_opt_name(opt), value);
		return -1;
	}
	*(long *)result = (long)v;
	return 0;
}

static int
cb_duration(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	unsigned v;

	if (config_parse_duration(value, &v) != 0 || v == 0 || v > DURATION_MAX) {
		cfg_error(cfg, "option '%s': '%s' is not a duration from 1s to 7d "
		    "(a number with s, m, h or d)", cfg_opt_name(opt), value);
		return -1;
	}
	*(long *)result = (long)v;
	return 0;
}

struct int_range {
	const char *name;
	long min, max;
};

static const struct int_range int_ranges[] = {
	{ "bind-port", 0, 65535 },
	{ "bind-port-tls", 0, 65535 },
	{ "worker-pool-size", 0, 1024 },
	{ "auth-max-failures", 1, 100 },
	{ "max-concurrent", 1, 10000 },
	{ "max-connections", 1, 100000 },
	{ "max-unauthenticated-per-address", 0, 100000 },
	{ "lmtp-port", 1, 65535 },
};

static int
validate_int_range(cfg_t *cfg, cfg_opt_t *opt)
{
	long v = cfg_opt_getnint(opt, 0);

	for (size_t i = 0; i < sizeof(int_ranges) / sizeof(int_ranges[0]); i++) {
		if (strcmp(int_ranges[i].name, cfg_opt_name(opt)) != 0)
			continue;
		if (v < int_ranges[i].min || v > int_ranges[i].max) {
			cfg_error(cfg, "option '%s': %ld is out of range %ld..%ld",
			    cfg_opt_name(opt), v, int_ranges[i].min, int_ranges[i].max);
			return -1;
		}
	}
	return 0;
}

static int
validate_log_level(cfg_t *cfg, cfg_opt_t *opt)
{
	enum log_level level;
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || log_level_parse(v, &level) != 0) {
		cfg_error(cfg, "option 'log-level': '%s' is not one of error, warn, "
		    "info, debug, trace", v != NULL ? v : "");
		return -1;
	}
	return 0;
}

static int
validate_rate(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned c, p;
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || config_parse_rate(v, &c, &p) != 0) {
		cfg_error(cfg, "option 'rate-limit': '%s' is not COUNT/PERIOD "
		    "(e.g. \"2000/1m\")", v != NULL ? v : "");
		return -1;
	}
	return 0;
}

static int
validate_bind_addr(cfg_t *cfg, cfg_opt_t *opt)
{
	unsigned n = cfg_opt_size(opt);
	unsigned char buf[sizeof(struct in6_addr)];

	unsigned min = strcmp(cfg_opt_name(opt), "bind-addr") == 0;

	if (n < min || n > CONFIG_MAX_BIND_ADDRS) {
		cfg_error(cfg, "option '%s': give %u to %d addresses",
		    cfg_opt_name(opt), min, CONFIG_MAX_BIND_ADDRS);
		return -1;
	}
	for (unsigned i = 0; i < n; i++) {
		const char *a = cfg_opt_getnstr(opt, i);
		if (a == NULL || (inet_pton(AF_INET, a, buf) != 1 &&
		    inet_pton(AF_INET6, a, buf) != 1)) {
			cfg_error(cfg, "option '%s': '%s' is not an IPv4 or "
			    "IPv6 address", cfg_opt_name(opt), a != NULL ? a : "");
			return -1;
		}
	}
	return 0;
}

static int
validate_name(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || v[0] == '\0' || strlen(v) > 32 || strchr(v, ':') != NULL ||
	    strchr(v, '/') != NULL) {
		cfg_error(cfg, "option '%s': '%s' is not a valid account name",
		    cfg_opt_name(opt), v != NULL ? v : "");
		return -1;
	}
	return 0;
}

/* Postfix's recipient_delimiter: characters that may start a detail. */
static int
validate_delimiter(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || strlen(v) > 8)
		goto bad;
	for (const char *p = v; *p != '\0'; p++)
		if (!isgraph((unsigned char)*p) || *p == '@' || *p == '"' ||
		    *p == '\\' || *p == '<' || *p == '>')
			goto bad;
	return 0;
bad:
	cfg_error(cfg, "option '%s': '%s' is not up to 8 printable characters "
	    "other than @ \" \\ < >", cfg_opt_name(opt), v != NULL ? v : "");
	return -1;
}

static int
validate_abs_path(cfg_t *cfg, cfg_opt_t *opt)
{
	const char *v = cfg_opt_getnstr(opt, 0);

	if (v == NULL || v[0] != '/' || strlen(v) > 1000) {
		cfg_error(cfg, "option '%s': '%s' is not an absolute path",
		    cfg_opt_name(opt), v != NULL ? v : "");
		return -1;
	}
	return 0;
}

static cfg_opt_t *
config_options(void)
{
	static cfg_opt_t opts[] = {
		CFG_STR_LIST("bind-addr", "{\"0.0.0.0\", \"::\"}", CFGF_NONE),
		CFG_INT("bind-port", 143, CFGF_NONE),
		CFG_INT("bind-port-tls", 993, CFGF_NONE),
		CFG_STR("cert-path", NULL, CFGF_NODEFAULT),
		CFG_STR("key-path", NULL, CFGF_NODEFAULT),
		CFG_STR("log-level", "info", CFGF_NONE),
		CFG_INT_CB("max-request-size", (long)(50 * MB), CFGF_NONE, cb_size),
		CFG_INT("worker-pool-size", 0, CFGF_NONE),
		CFG_BOOL("allow-plain-text-auth", cfg_false, CFGF_NONE),
		CFG_INT("auth-max-failures", 3, CFGF_NONE),
		CFG_INT("max-concurrent", 16, CFGF_NONE),
		CFG_STR("rate-limit", "2000/1m", CFGF_NONE),
		CFG_INT_CB("timeout-unauthenticated", 60, CFGF_NONE, cb_duration),
		CFG_INT_CB("timeout-authenticated", 1800, CFGF_NONE, cb_duration),
		CFG_INT_CB("timeout-idle", 1800, CFGF_NONE, cb_duration),
		CFG_INT_CB("idle-keepalive", 120, CFGF_NONE, cb_duration),
		CFG_STR("user", "cairn", CFGF_NONE),
		CFG_STR("group", "cairn", CFGF_NONE),
		CFG_STR("auth-user", "cairn-auth", CFGF_NONE),
		CFG_STR("data-dir", CAIRN_DATA_DIR, CFGF_NONE),
		CFG_STR("run-dir", CAIRN_RUN_DIR, CFGF_NONE),
		CFG_INT("max-connections", 1000, CFGF_NONE),
		CFG_INT("max-unauthenticated-per-address", 20, CFGF_NONE),
		CFG_STR("lmtp-socket", NULL, CFGF_NODEFAULT),
		CFG_STR_LIST("lmtp-bind", "{}", CFGF_NONE),
		CFG_INT("lmtp-port", 24, CFGF_NONE),
		CFG_STR("lmtp-group", NULL, CFGF_NODEFAULT),
		CFG_INT_CB("lmtp-max-message-size", 0, CFGF_NODEFAULT, cb_size),
		CFG_BOOL("lmtp-detail-mailbox", cfg_true, CFGF_NONE),
		CFG_STR("lmtp-recipient-delimiter", "+", CFGF_NONE),
		CFG_END()
	};
	return opts;
}

enum config_kind
config_option_kind(const char *name)
{
	for (const cfg_opt_t *o = config_options(); o->name != NULL; o++) {
		if (strcmp(o->name, name) != 0)
			continue;
		if (o->type != CFGT_STR)
			return CONFIG_KIND_WORD;
		return (o->flags & CFGF_LIST) ? CONFIG_KIND_LIST : CONFIG_KIND_STRING;
	}
	return CONFIG_KIND_UNKNOWN;
}

static void
install_validators(cfg_t *cfg)
{
	for (size_t i = 0; i < sizeof(int_ranges) / sizeof(int_ranges[0]); i++)
		cfg_set_validate_func(cfg, int_ranges[i].name, validate_int_range);
	cfg_set_validate_func(cfg, "log-level", validate_log_level);
	cfg_set_validate_func(cfg, "rate-limit", validate_rate);
	cfg_set_validate_func(cfg, "bind-addr", validate_bind_addr);
	cfg_set_validate_func(cfg, "user", validate_name);
	cfg_set_validate_func(cfg, "group", validate_name);
	cfg_set_validate_func(cfg, "auth-user", validate_name);
	cfg_set_validate_func(cfg, "data-dir", validate_abs_path);
	cfg_set_validate_func(cfg, "run-dir", validate_abs_path);
	cfg_set_validate_func(cfg, "lmtp-socket", validate_abs_path);
	cfg_set_validate_func(cfg, "lmtp-bind", validate_bind_addr);
	cfg_set_validate_func(cfg, "lmtp-group", validate_name);
	cfg_set_validate_func(cfg, "lmtp-recipient-delimiter", validate_delimiter);
}

static char *
dup_opt(cfg_t *cfg, const char *name)
{
	const char *v = cfg_getstr(cfg, name);
	return v != NULL ? xstrdup(v) : NULL;
}

static void
check_readable_file(struct parse_ctx *ctx, const char *option, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		report(ctx, 0, "option '%s': %s: %s", option, path, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		report(ctx, 0, "option '%s': %s is not a regular file", option, path);
	else if (access(path, R_OK) != 0)
		report(ctx, 0, "option '%s': %s: %s", option, path, strerror(errno));
}

/* Checks that involve more than one option, or the file system. */
static void
config_cross_check(struct parse_ctx *ctx, const struct cairn_config *c,
    bool check_files)
{
	if (c->n_bind_addrs == 0)
		report(ctx, 0, "option 'bind-addr' is empty: give at least one address");
	if ((c->cert_path == NULL) != (c->key_path == NULL))
		report(ctx, 0, "options 'cert-path' and 'key-path' go together: "
		    "set both or neither");
	if (c->bind_port == 0 && c->bind_port_tls == 0)
		report(ctx, 0, "options 'bind-port' and 'bind-port-tls' are both 0: "
		    "no listener");
	if (c->bind_port != 0 && c->bind_port == c->bind_port_tls)
		report(ctx, 0, "options 'bind-port' and 'bind-port-tls' are the same port");
	if (check_files && c->cert_path != NULL)
		check_readable_file(ctx, "cert-path", c->cert_path);
	if (check_files && c->key_path != NULL)
		check_readable_file(ctx, "key-path", c->key_path);
}

/* The delivery options, their defaults resolved from the others. */
static void
config_lmtp_from_cfg(cfg_t *cfg, struct cairn_config *c)
{
	size_t len;

	if (cfg_size(cfg, "lmtp-socket") > 0)
		c->lmtp_socket = dup_opt(cfg, "lmtp-socket");
	else {
		len = strlen(c->run_dir) + sizeof("/lmtp");
		c->lmtp_socket = xmalloc(len);
		snprintf(c->lmtp_socket, len, "%s/lmtp", c->run_dir);
	}
	c->n_lmtp_bind_addrs = cfg_size(cfg, "lmtp-bind");
	for (size_t i = 0; i < c->n_lmtp_bind_addrs; i++)
		c->lmtp_bind_addrs[i] = xstrdup(cfg_getnstr(cfg, "lmtp-bind",
		    (unsigned)i));
	c->lmtp_port = (unsigned)cfg_getint(cfg, "lmtp-port");
	c->lmtp_group = xstrdup(cfg_size(cfg, "lmtp-group") > 0 ?
	    cfg_getstr(cfg, "lmtp-group") : c->group);
	c->lmtp_max_message_size = cfg_size(cfg, "lmtp-max-message-size") > 0 ?
	    (uint64_t)cfg_getint(cfg, "lmtp-max-message-size") :
	    c->max_request_size;
	c->lmtp_detail_mailbox = cfg_getbool(cfg, "lmtp-detail-mailbox");
	c->lmtp_recipient_delimiter = dup_opt(cfg, "lmtp-recipient-delimiter");
}

static struct cairn_config *
config_from_cfg(cfg_t *cfg)
{
	struct cairn_config *c = xcalloc(1, sizeof(*c));

	c->n_bind_addrs = cfg_size(cfg, "bind-addr");
	for (size_t i = 0; i < c->n_bind_addrs; i++)
		c->bind_addrs[i] = xstrdup(cfg_getnstr(cfg, "bind-addr", (unsigned)i));
	c->bind_port = (unsigned)cfg_getint(cfg, "bind-port");
	c->bind_port_tls = (unsigned)cfg_getint(cfg, "bind-port-tls");
	c->cert_path = dup_opt(cfg, "cert-path");
	c->key_path = dup_opt(cfg, "key-path");
	(void)log_level_parse(cfg_getstr(cfg, "log-level"), &c->log_level);
	c->max_request_size = (uint64_t)cfg_getint(cfg, "max-request-size");
	c->worker_pool_size = (unsigned)cfg_getint(cfg, "worker-pool-size");
	c->allow_plain_text_auth = cfg_getbool(cfg, "allow-plain-text-auth");
	c->auth_max_failures = (unsigned)cfg_getint(cfg, "auth-max-failures");
	c->max_concurrent = (unsigned)cfg_getint(cfg, "max-concurrent");
	(void)config_parse_rate(cfg_getstr(cfg, "rate-limit"), &c->rate_limit_count,
	    &c->rate_limit_period);
	c->timeout_unauthenticated = (unsigned)cfg_getint(cfg, "timeout-unauthenticated");
	c->timeout_authenticated = (unsigned)cfg_getint(cfg, "timeout-authenticated");
	c->timeout_idle = (unsigned)cfg_getint(cfg, "timeout-idle");
	c->idle_keepalive = (unsigned)cfg_getint(cfg, "idle-keepalive");
	c->user = dup_opt(cfg, "user");
	c->group = dup_opt(cfg, "group");
	c->auth_user = dup_opt(cfg, "auth-user");
	c->data_dir = dup_opt(cfg, "data-dir");
	c->run_dir = dup_opt(cfg, "run-dir");
	c->max_connections = (unsigned)cfg_getint(cfg, "max-connections");
	c->max_unauth_per_address = (unsigned)cfg_getint(cfg,
	    "max-unauthenticated-per-address");
	config_lmtp_from_cfg(cfg, c);
	return c;
}

struct cairn_config *
config_parse(const char *text, const char *name, bool check_files,
    config_error_fn on_error, void *arg)
{
	struct parse_ctx ctx = { on_error, arg, name, 0 };
	struct cairn_config *c = NULL;
	cfg_t *cfg;
	int rc;

	/* The default value strings of the static option table must parse. */
	cfg = cfg_init(config_options(), CFGF_NONE);
	if (cfg == NULL) {
		report(&ctx, 0, "cannot initialise the configuration parser");
		return NULL;
	}
	cfg_set_error_function(cfg, confuse_error);
	install_validators(cfg);
	current_ctx = &ctx;
	/* cfg_parse_buf knows no file name; ours goes in the messages. */
	rc = cfg_parse_buf(cfg, text);
	current_ctx = NULL;
	if (rc == CFG_SUCCESS && ctx.errors == 0) {
		c = config_from_cfg(cfg);
		config_cross_check(&ctx, c, check_files);
		if (ctx.errors != 0) {
			config_free(c);
			c = NULL;
		}
	} else if (ctx.errors == 0) {
		report(&ctx, 0, "cannot parse the configuration");
	}
	cfg_free(cfg);
	return c;
}

char *
config_read_fd(int fd, size_t *len)
{
	size_t cap = 4096, used = 0;
	char *buf = xmalloc(cap);

	for (;;) {
		if (used + 1 >= cap) {
			if (cap >= CONFIG_MAX_FILE_SIZE) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			buf = xreallocarray(buf, cap, 1);
		}
		/* pread: every child shares the memfd's file offset. */
		ssize_t n = pread(fd, buf + used, cap - used - 1, (off_t)used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int saved = errno;
			free(buf);
			errno = saved;
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (memchr(buf, '\0', used) != NULL) {
		free(buf);
		errno = EINVAL;
		return NULL;
	}
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	return buf;
}

char *
config_read_text(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *text;
	int saved;

	if (fd < 0)
		return NULL;
	text = config_read_fd(fd, len);
	saved = errno;
	close(fd);
	errno = saved;
	return text;
}

struct cairn_config *
config_load(const char *path, bool check_files, config_error_fn on_error, void *arg)
{
	struct cairn_config *c;
	char *text = config_read_text(path, NULL);

	if (text == NULL) {
		struct parse_ctx ctx = { on_error, arg, path, 0 };
		report(&ctx, 0, "cannot read the configuration: %s",
		    errno == EINVAL ? "it contains a NUL byte" : strerror(errno));
		return NULL;
	}
	c = config_parse(text, path, check_files, on_error, arg);
	free(text);
	return c;
}

struct cairn_config *
config_load_child(int fd, const char *name)
{
	struct cairn_config *cfg;
	char *text = config_read_fd(fd, NULL);

	if (text == NULL)
		fatal("cannot read the configuration from the master");
	close(fd);
	/* Already validated; the files are checked by whoever loads them. */
	cfg = config_parse(text, name, false, NULL, NULL);
	free(text);
	if (cfg == NULL)
		fatalx("the configuration from the master does not parse");
	return cfg;
}

void
config_free(struct cairn_config *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->n_bind_addrs; i++)
		free(c->bind_addrs[i]);
	free(c->cert_path);
	free(c->key_path);
	free(c->user);
	free(c->group);
	free(c->auth_user);
	free(c->data_dir);
	free(c->run_dir);
	free(c->lmtp_socket);
	for (size_t i = 0; i < c->n_lmtp_bind_addrs; i++)
		free(c->lmtp_bind_addrs[i]);
	free(c->lmtp_group);
	free(c->lmtp_recipient_delimiter);
	free(c);
}

static void
print_size(FILE *out, const char *name, uint64_t v)
{
	if (v % GB == 0)
		fprintf(out, "%s = %" PRIu64 "gb\n", name, (uint64_t)(v / GB));
	else if (v % MB == 0)
		fprintf(out, "%s = %" PRIu64 "mb\n", name, (uint64_t)(v / MB));
	else if (v % KB == 0)
		fprintf(out, "%s = %" PRIu64 "kb\n", name, (uint64_t)(v / KB));
	else
		fprintf(out, "%s = %" PRIu64 "\n", name, v);
}

static void
duration_text(unsigned v, char *buf, size_t len)
{
	if (v % 86400 == 0)
		snprintf(buf, len, "%ud", v / 86400);
	else if (v % 3600 == 0)
		snprintf(buf, len, "%uh", v / 3600);
	else if (v % 60 == 0)
		snprintf(buf, len, "%um", v / 60);
	else
		snprintf(buf, len, "%us", v);
}

static void
print_duration(FILE *out, const char *name, unsigned v)
{
	char buf[32];
	duration_text(v, buf, sizeof(buf));
	fprintf(out, "%s = %s\n", name, buf);
}

static void
print_str(FILE *out, const char *name, const char *v)
{
	if (v == NULL)
		fprintf(out, "# %s is not set\n", name);
	else
		fprintf(out, "%s = \"%s\"\n", name, v);
}

void
config_print(const struct cairn_config *c, FILE *out)
{
	char period[32];

	fprintf(out, "bind-addr = {");
	for (size_t i = 0; i < c->n_bind_addrs; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", c->bind_addrs[i]);
	fprintf(out, "}\n");
	fprintf(out, "bind-port = %u\n", c->bind_port);
	fprintf(out, "bind-port-tls = %u\n", c->bind_port_tls);
	print_str(out, "cert-path", c->cert_path);
	print_str(out, "key-path", c->key_path);
	fprintf(out, "log-level = %s\n", log_level_name(c->log_level));
	print_size(out, "max-request-size", c->max_request_size);
	fprintf(out, "worker-pool-size = %u\n", c->worker_pool_size);
	fprintf(out, "allow-plain-text-auth = %s\n",
	    c->allow_plain_text_auth ? "true" : "false");
	fprintf(out, "auth-max-failures = %u\n", c->auth_max_failures);
	fprintf(out, "max-concurrent = %u\n", c->max_concurrent);
	duration_text(c->rate_limit_period, period, sizeof(period));
	fprintf(out, "rate-limit = \"%u/%s\"\n", c->rate_limit_count, period);
	print_duration(out, "timeout-unauthenticated", c->timeout_unauthenticated);
	print_duration(out, "timeout-authenticated", c->timeout_authenticated);
	print_duration(out, "timeout-idle", c->timeout_idle);
	print_duration(out, "idle-keepalive", c->idle_keepalive);
	print_str(out, "user", c->user);
	print_str(out, "group", c->group);
	print_str(out, "auth-user", c->auth_user);
	print_str(out, "data-dir", c->data_dir);
	print_str(out, "run-dir", c->run_dir);
	fprintf(out, "max-connections = %u\n", c->max_connections);
	fprintf(out, "max-unauthenticated-per-address = %u\n",
	    c->max_unauth_per_address);
	print_str(out, "lmtp-socket", c->lmtp_socket);
	fprintf(out, "lmtp-bind = {");
	for (size_t i = 0; i < c->n_lmtp_bind_addrs; i++)
		fprintf(out, "%s\"%s\"", i ? ", " : "", c->lmtp_bind_addrs[i]);
	fprintf(out, "}\n");
	fprintf(out, "lmtp-port = %u\n", c->lmtp_port);
	print_str(out, "lmtp-group", c->lmtp_group);
	print_size(out, "lmtp-max-message-size", c->lmtp_max_message_size);
	fprintf(out, "lmtp-detail-mailbox = %s\n",
	    c->lmtp_detail_mailbox ? "true" : "false");
	print_str(out, "lmtp-recipient-delimiter", c->lmtp_recipient_delimiter);
}

unsigned
config_worker_pool(const struct cairn_config *c)
{
	long n;

	if (c->worker_pool_size != 0)
		return c->worker_pool_size;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

bool
config_tls_enabled(const struct cairn_config *c)
{
	return c->cert_path != NULL && c->key_path != NULL;
}
