/*
 * The progress of a long cairnctl command (import): on a terminal one line
 * redrawn at most PROGRESS_TTY_HZ times a second (a bar, messages, MB,
 * rate, ETA); elsewhere (a log, a pipe) a plain line every
 * PROGRESS_PLAIN_SECONDS or PROGRESS_PLAIN_MESSAGES messages.
 */
#ifndef CAIRN_CTL_PROGRESS_H
#define CAIRN_CTL_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROGRESS_TTY_HZ 10
#define PROGRESS_PLAIN_SECONDS 5
#define PROGRESS_PLAIN_MESSAGES 1000
#define PROGRESS_BAR_WIDTH 24

struct progress {
	FILE *out;
	bool tty;
	const char *what;           /* "import" */
	uint64_t total_msgs;        /* 0: not known (an mbox) */
	uint64_t total_bytes;       /* 0: not known */
	uint64_t msgs, bytes;       /* done so far */
	double start, last;         /* monotonic seconds */
	uint64_t last_msgs;         /* at the last plain line */
	bool drawn;                 /* a tty line waits for its newline */
};

/* A monotonic clock, in seconds. */
double progress_now(void);

void progress_start(struct progress *p, FILE *out, bool tty, const char *what,
    uint64_t total_msgs, uint64_t total_bytes);
/* One more message of bytes done (or skipped); prints when due. */
void progress_step(struct progress *p, uint64_t bytes);
/* Ends the tty line, so that what follows starts on its own. */
void progress_end(struct progress *p);
/* Before another line goes to the same terminal (an error). */
void progress_clear(struct progress *p);

/*
 * The text of one progress line into buf (always terminated):
 * with a bar when bar is set.  elapsed in seconds.  Pure, for the tests.
 */
void progress_format(char *buf, size_t len, bool bar, uint64_t msgs,
    uint64_t total_msgs, uint64_t bytes, uint64_t total_bytes, double elapsed);
/* "1:02:03" or "2:03"; "?" for a negative or absurd time. */
void progress_duration(char *buf, size_t len, double seconds);

#endif
