/* Logging to stderr (foreground) or syslog (facility mail). */
#include "autoconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_kind = "cairn";
static enum log_target log_target = LOG_TO_STDERR;
static enum log_level log_level = LOG_LEVEL_INFO;
static uint64_t log_session;
static char log_user[136];

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR] = "error",
	[LOG_LEVEL_WARN] = "warn",
	[LOG_LEVEL_INFO] = "info",
	[LOG_LEVEL_DEBUG] = "debug",
	[LOG_LEVEL_TRACE] = "trace",
};

static const int level_priority[] = {
	[LOG_LEVEL_ERROR] = LOG_ERR,
	[LOG_LEVEL_WARN] = LOG_WARNING,
	[LOG_LEVEL_INFO] = LOG_INFO,
	[LOG_LEVEL_DEBUG] = LOG_DEBUG,
	[LOG_LEVEL_TRACE] = LOG_DEBUG,
};

void
log_init(const char *kind, enum log_target target, enum log_level level)
{
	log_kind = kind;
	log_target = target;
	log_level = level;
	if (target == LOG_TO_SYSLOG)
		/* LOG_NDELAY: connect now, before a chroot hides /dev/log. */
		openlog(kind, LOG_PID | LOG_NDELAY, LOG_MAIL);
}

void log_set_level(enum log_level level) { log_level = level; }
enum log_level log_get_level(void) { return log_level; }
enum log_target log_get_target(void) { return log_target; }
void log_set_session(uint64_t session_id) { log_session = session_id; }

void
log_set_user(const char *user)
{
	snprintf(log_user, sizeof(log_user), "%s", user != NULL ? user : "");
}

int
log_level_parse(const char *name, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
		return "unknown";
	return level_names[level];
}

static void
log_vemit(enum log_level level, int errnum, const char *fmt, va_list ap)
{
	char msg[1024], sess[200] = "";
	int n;

	if (level > log_level)
		return;
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (errnum != 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
	/* Client data may end up in messages: never let it forge lines. */
	for (char *p = msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (log_session != 0)
		snprintf(sess, sizeof(sess), "session=%016llx: %s%s%s",
		    (unsigned long long)log_session, log_user[0] ? "user=" : "",
		    log_user, log_user[0] ? ": " : "");

	if (log_target == LOG_TO_SYSLOG) {
		syslog(level_priority[level], "%s: %s%s", level_names[level], sess, msg);
		return;
	}
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ %s[%ld]: %s: %s%s\n", stamp, ts.tv_nsec / 1000000L,
	    log_kind, (long)getpid(), level_names[level], sess, msg);
}

#define LOG_FN(name, level, with_errno)                         \
	void name(const char *fmt, ...)                         \
	{                                                       \
		int saved = errno;                              \
		va_list ap;                                     \
		va_start(ap, fmt);                              \
		log_vemit(level, with_errno ? saved : 0, fmt, ap); \
		va_end(ap);                                     \
		errno = saved;                                  \
	}

LOG_FN(log_error, LOG_LEVEL_ERROR, 1)
LOG_FN(log_errorx, LOG_LEVEL_ERROR, 0)
LOG_FN(log_warn, LOG_LEVEL_WARN, 1)
LOG_FN(log_warnx, LOG_LEVEL_WARN, 0)
LOG_FN(log_info, LOG_LEVEL_INFO, 0)
LOG_FN(log_debug, LOG_LEVEL_DEBUG, 0)
LOG_FN(log_trace, LOG_LEVEL_TRACE, 0)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, saved, fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_vemit(LOG_LEVEL_ERROR, 0, fmt, ap);
	va_end(ap);
	exit(1);
}
