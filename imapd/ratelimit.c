/* rate-limit: a token bucket kept as one theoretical arrival time (GCRA). */
#include "autoconfig.h"

#include "ratelimit.h"

void
ratelimit_init(struct ratelimit *rl, uint64_t count, uint64_t period_seconds)
{
	int64_t period_us = (int64_t)period_seconds * 1000000;

	/* count >= 1 and period <= 7d (config.c): no overflow here; more
	 * than one command per microsecond is no limit */
	rl->interval_us = count > 0 ? period_us / (int64_t)count : 0;
	rl->burst_us = period_us - rl->interval_us;
	rl->tat_us = INT64_MIN;
}

int64_t
ratelimit_take(struct ratelimit *rl, int64_t now_us)
{
	int64_t tat;

	if (rl->interval_us == 0)
		return 0;
	tat = rl->tat_us > now_us ? rl->tat_us : now_us;
	if (tat - now_us > rl->burst_us)
		return tat - now_us - rl->burst_us;
	rl->tat_us = tat + rl->interval_us;
	return 0;
}
