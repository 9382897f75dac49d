/*
 * cairnctl user ...: what the administrator types.  A new password comes
 * from the terminal with echo off (typed twice), or is one line of
 * standard input when that is not a terminal; "del" reads its yes/no
 * answer with the same line reader.
 */
#include "autoconfig.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "password.h"
#include "user-internal.h"
#include "username.h"

enum {
	LINE_ERROR = -1,          /* errno set */
	LINE_TOO_LONG = -2,
	LINE_EOF = -3,            /* input ended before any byte */
};

/* Set by the handler while a password is read from the terminal. */
static volatile sig_atomic_t caught_signal;

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
		return ctl_fail("cannot read the password from %s: %s", source,
		    strerror(errno));
	case LINE_TOO_LONG:
		return ctl_fail("the password is longer than %d bytes",
		    PASSWORD_MAX);
	case LINE_EOF:
		return ctl_fail("no password on %s", source);
	case 0:
		return ctl_fail("empty passwords are refused");
	default:
		break;
	}
	/* crypt(3) would stop at the NUL: a different, shorter password. */
	if (memchr(buf, '\0', (size_t)n) != NULL)
		return ctl_fail("the password contains a NUL byte");
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
		status = ctl_fail("the passwords do not match");
	explicit_bzero(again, sizeof(again));
	return status;
}

/* See user-internal.h. */
int
secret_new_hash(const char *name, char *hash, size_t hashlen)
{
	char pw[PASSWORD_MAX + 1];
	int status;

	status = read_new_password(name, pw, sizeof(pw));
	if (status == 0 && password_hash(pw, hash, hashlen) != 0)
		status = ctl_fail("cannot hash the password: %s", strerror(errno));
	explicit_bzero(pw, sizeof(pw));
	return status;
}

/* See user-internal.h. */
bool
secret_read_yes(void)
{
	char answer[16];
	ssize_t n;

	n = read_line(STDIN_FILENO, answer, sizeof(answer));
	if (n > 0 && (strcasecmp(answer, "y") == 0 ||
	    strcasecmp(answer, "yes") == 0))
		return true;
	/* Input ended on the prompt's line: the next message starts afresh. */
	if (n == LINE_EOF)
		fputc('\n', stderr);
	return false;
}
