/* Unit tests for imapd/ratelimit.c: rate-limit's token bucket. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"

#include "ratelimit.h"

#define S 1000000   /* a second in microseconds */

START_TEST(test_burst_then_rate)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 5, 10);   /* 5 per 10 s: a burst of 5, then 1 per 2 s */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 100 * S), 0);
	/* the sixth waits for the first token to come back */
	ck_assert_int_eq(ratelimit_take(&rl, 100 * S), 2 * S);
	ck_assert_int_eq(ratelimit_take(&rl, 101 * S), 1 * S);
	ck_assert_int_eq(ratelimit_take(&rl, 102 * S), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 102 * S), 2 * S);
	/* a client that stays away gets its whole burst back, no more */
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 1000 * S), 0);
	ck_assert(ratelimit_take(&rl, 1000 * S) > 0);
}
END_TEST

START_TEST(test_waiting_is_not_counted)
{
	struct ratelimit rl;

	ratelimit_init(&rl, 1, 1);
	ck_assert_int_eq(ratelimit_take(&rl, 0), 0);
	/* asking again and again while over the limit costs nothing later */
	for (int i = 0; i < 1000; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 500000), 500000);
	ck_assert_int_eq(ratelimit_take(&rl, S), 0);
	ck_assert_int_eq(ratelimit_take(&rl, S), S);
}
END_TEST

START_TEST(test_sustained_rate)
{
	struct ratelimit rl;
	int64_t now = 0;
	int ran = 0;

	/* the default, 2000 per minute: over 10 minutes of a client that
	 * sends as fast as it is let, 2000 + 10 * 2000 commands run */
	ratelimit_init(&rl, 2000, 60);
	while (now <= 600 * (int64_t)S) {
		int64_t wait = ratelimit_take(&rl, now);
		if (wait == 0)
			ran++;
		now += wait;
	}
	ck_assert_int_ge(ran, 21999);
	ck_assert_int_le(ran, 22001);
}
END_TEST

START_TEST(test_extremes)
{
	struct ratelimit rl;

	/* cairn.conf(5)'s largest count in the smallest period: no limit */
	ratelimit_init(&rl, 1000000000u, 1);
	for (int i = 0; i < 100000; i++)
		ck_assert_int_eq(ratelimit_take(&rl, 0), 0);
	/* one per 7 days */
	ratelimit_init(&rl, 1, 7 * 86400);
	ck_assert_int_eq(ratelimit_take(&rl, 5), 0);
	ck_assert_int_eq(ratelimit_take(&rl, 5), (int64_t)7 * 86400 * S);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ratelimit");
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, test_burst_then_rate);
	tcase_add_test(tc, test_waiting_is_not_counted);
	tcase_add_test(tc, test_sustained_rate);
	tcase_add_test(tc, test_extremes);
	suite_add_tcase(s, tc);
	return check_run(s);
}
