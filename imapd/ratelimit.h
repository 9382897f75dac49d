/*
 * rate-limit (cairn.conf(5)): count commands per period, as a token
 * bucket (the generic cell rate algorithm): a burst of up to count
 * commands, then one every period/count.  A command over the limit is
 * not refused but delayed until it fits, so a real client that trips the
 * limit only slows down, and an abusive one is held to the rate.  No I/O
 * and no clock of its own: the caller passes the time, so the unit test
 * can drive it.
 *
 * Per connection, not per user: the bucket lives in the session's own
 * process and costs a few arithmetic operations per command, no IPC to
 * the master; a user's connections are themselves bounded by
 * max-concurrent, so one user gets at most max-concurrent times the rate.
 */
#ifndef CAIRN_RATELIMIT_H
#define CAIRN_RATELIMIT_H

#include <stdint.h>

struct ratelimit {
	int64_t interval_us;     /* period / count; 0: no limit at all */
	int64_t burst_us;        /* period - interval: how far tat may run ahead */
	int64_t tat_us;          /* theoretical arrival time of the next command */
};

void ratelimit_init(struct ratelimit *rl, uint64_t count, uint64_t period_seconds);
/*
 * One command at now_us: 0 when it may run now (it is counted), else the
 * microseconds to wait before asking again (it is not counted).
 */
int64_t ratelimit_take(struct ratelimit *rl, int64_t now_us);

#endif
