/*
 * One logging API for every Cairn process.
 *
 * Each line carries the level, the process kind and, once a process serves a
 * session, its session id.  Two error verbs per level: log_warn() appends
 * strerror(errno), log_warnx() does not (as OpenSMTPD's log.h).  fatal()
 * and fatalx() log and exit(1).
 */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdarg.h>
#include <stdint.h>

enum log_level {
	LOG_LEVEL_ERROR = 0,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

enum log_target {
	LOG_TO_STDERR,
	LOG_TO_SYSLOG,
};

/* kind: "cairnd", "cairn-imapd", ... (must outlive the process) */
void log_init(const char *kind, enum log_target target, enum log_level level);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
enum log_target log_get_target(void);
/* 0 clears the session id. */
void log_set_session(uint64_t session_id);
/* The session's user, once logged in; NULL clears it. */
void log_set_user(const char *user);
int log_level_parse(const char *name, enum log_level *out);
const char *log_level_name(enum log_level level);

#define CAIRN_PRINTF(a, b) __attribute__((format(printf, a, b)))

void log_error(const char *fmt, ...) CAIRN_PRINTF(1, 2);  /* with errno */
void log_errorx(const char *fmt, ...) CAIRN_PRINTF(1, 2);
void log_warn(const char *fmt, ...) CAIRN_PRINTF(1, 2);   /* with errno */
void log_warnx(const char *fmt, ...) CAIRN_PRINTF(1, 2);
void log_info(const char *fmt, ...) CAIRN_PRINTF(1, 2);
void log_debug(const char *fmt, ...) CAIRN_PRINTF(1, 2);
void log_trace(const char *fmt, ...) CAIRN_PRINTF(1, 2);
_Noreturn void fatal(const char *fmt, ...) CAIRN_PRINTF(1, 2);  /* with errno */
_Noreturn void fatalx(const char *fmt, ...) CAIRN_PRINTF(1, 2);

#endif
