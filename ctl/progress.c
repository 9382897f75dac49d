/*
 * Progress lines for cairnctl import (progress.h).  The ETA comes from the
 * rate so far: by bytes when the total bytes are known (messages differ
 * in size far more than the time per message does for large ones), else
 * by messages.
 */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "progress.h"

#define MB (1024.0 * 1024.0)

double
progress_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
progress_duration(char *buf, size_t len, double seconds)
{
	unsigned long s, h;

	if (!(seconds >= 0) || seconds > 1e8) {
		snprintf(buf, len, "?");
		return;
	}
	s = (unsigned long)(seconds + 0.5);
	h = s / 3600;
	if (h > 0)
		snprintf(buf, len, "%lu:%02lu:%02lu", h, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%lu:%02lu", s / 60, s % 60);
}

/* What part is done, 0..1; -1 when not known. */
static double
fraction(uint64_t msgs, uint64_t total_msgs, uint64_t bytes,
    uint64_t total_bytes)
{
	double f;

	if (total_bytes > 0)
		f = (double)bytes / (double)total_bytes;
	else if (total_msgs > 0)
		f = (double)msgs / (double)total_msgs;
	else
		return -1;
	return f > 1 ? 1 : f;
}

void
progress_format(char *buf, size_t len, bool bar, uint64_t msgs,
    uint64_t total_msgs, uint64_t bytes, uint64_t total_bytes, double elapsed)
{
	char eta[32], count[64], size[64], rate[32], bars[PROGRESS_BAR_WIDTH + 3];
	double f = fraction(msgs, total_msgs, bytes, total_bytes);
	double per_s = elapsed > 0 ? (double)msgs / elapsed : 0;

	if (total_msgs > 0)
		snprintf(count, sizeof(count), "%llu/%llu messages",
		    (unsigned long long)msgs, (unsigned long long)total_msgs);
	else
		snprintf(count, sizeof(count), "%llu messages",
		    (unsigned long long)msgs);
	if (total_bytes > 0)
		snprintf(size, sizeof(size), "%.1f/%.1f MB", (double)bytes / MB,
		    (double)total_bytes / MB);
	else
		snprintf(size, sizeof(size), "%.1f MB", (double)bytes / MB);
	snprintf(rate, sizeof(rate), "%.0f msg/s", per_s);
	if (f > 0 && elapsed > 0)
		progress_duration(eta, sizeof(eta), elapsed / f - elapsed);
	else
		snprintf(eta, sizeof(eta), "?");
	bars[0] = '\0';
	if (bar && f >= 0) {
		size_t full = (size_t)(f * PROGRESS_BAR_WIDTH);

		bars[0] = '[';
		for (size_t i = 0; i < PROGRESS_BAR_WIDTH; i++)
			bars[1 + i] = i < full ? '#' : '.';
		bars[PROGRESS_BAR_WIDTH + 1] = ']';
		bars[PROGRESS_BAR_WIDTH + 2] = '\0';
	}
	snprintf(buf, len, "%s%s%s, %s, %s, ETA %s", bars, bars[0] ? " " : "",
	    count, size, rate, eta);
}

void
progress_start(struct progress *p, FILE *out, bool tty, const char *what,
    uint64_t total_msgs, uint64_t total_bytes)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->tty = tty;
	p->what = what;
	p->total_msgs = total_msgs;
	p->total_bytes = total_bytes;
	p->start = p->last = progress_now();
}

static void
print(struct progress *p, double now)
{
	char line[256];

	progress_format(line, sizeof(line), p->tty, p->msgs, p->total_msgs,
	    p->bytes, p->total_bytes, now - p->start);
	if (p->tty) {
		/* \r and erase to the end: the line may have got shorter */
		fprintf(p->out, "\r%s: %s\033[K", p->what, line);
		p->drawn = true;
	} else {
		fprintf(p->out, "%s: %s\n", p->what, line);
	}
	fflush(p->out);
	p->last = now;
	p->last_msgs = p->msgs;
}

void
progress_step(struct progress *p, uint64_t bytes)
{
	double now;

	p->msgs++;
	p->bytes += bytes;
	now = progress_now();
	if (p->tty ? now - p->last >= 1.0 / PROGRESS_TTY_HZ :
	    now - p->last >= PROGRESS_PLAIN_SECONDS ||
	    p->msgs - p->last_msgs >= PROGRESS_PLAIN_MESSAGES)
		print(p, now);
}

void
progress_clear(struct progress *p)
{
	if (p->tty && p->drawn) {
		fprintf(p->out, "\r\033[K");
		fflush(p->out);
		p->drawn = false;
		p->last = 0;     /* redraw at the next step */
	}
}

void
progress_end(struct progress *p)
{
	if (p->msgs > 0 || p->tty)
		print(p, progress_now());
	if (p->tty && p->drawn) {
		fputc('\n', p->out);
		fflush(p->out);
	}
	p->drawn = false;
}
