/* Unit tests for common/uidsearch.h: the lower bound of a UID. */
#include "autoconfig.h"

#include <check.h>
#include "check_run.h"
#include <stdint.h>

#include "uidsearch.h"

/* UIDs, ascending, and how often they were looked at. */
struct uids {
	const uint32_t *uid;
	unsigned looks;
};

static uint32_t
uids_at(void *ctx, uint32_t i)
{
	struct uids *u = ctx;

	u->looks++;
	return u->uid[i];
}

/* ceil(log2(n + 1)) */
static unsigned
looks_max(uint32_t n)
{
	unsigned k = 0;

	while (n > 0) {
		k++;
		n >>= 1;
	}
	return k;
}

static const uint32_t some[] = { 2, 3, 7, 10, 11, 12, 20, 4294967294u,
	4294967295u };
#define N_SOME (uint32_t)(sizeof(some) / sizeof(some[0]))

/* Every window [lo, hi) of some, every UID around them: the first
 * position at or above, as a walk finds it, in few looks. */
START_TEST(test_windows)
{
	static const uint32_t probe[] = { 0, 1, 2, 3, 4, 7, 8, 12, 13, 20, 21,
		4294967293u, 4294967294u, 4294967295u };
	struct uids u = { some, 0 };

	for (uint32_t lo = 0; lo <= N_SOME; lo++)
		for (uint32_t hi = lo; hi <= N_SOME; hi++)
			for (size_t p = 0; p < sizeof(probe) / sizeof(probe[0]); p++) {
				uint32_t want = lo, got;

				while (want < hi && some[want] < probe[p])
					want++;
				u.looks = 0;
				got = uidsearch_lower(uids_at, &u, lo, hi, probe[p]);
				ck_assert_msg(got == want, "[%u, %u) uid %u: %u, "
				    "want %u", lo, hi, probe[p], got, want);
				ck_assert_uint_le(u.looks, looks_max(hi - lo));
			}
}
END_TEST

/* An empty range: hi, without a look; positions counted from 1 (message
 * numbers, as qresync_msn_from_uid asks) work the same. */
START_TEST(test_empty_and_offset)
{
	static const uint32_t msn_uid[] = { 0, 5, 9 };  /* position 0 unused */
	struct uids u = { some, 0 };

	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 4, 4, 1), 4);
	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 0, 0, 0), 0);
	ck_assert_uint_eq(u.looks, 0);
	u.uid = msn_uid;
	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 1, 3, 1), 1);
	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 1, 3, 6), 2);
	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 1, 3, 9), 2);
	ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 1, 3, 10), 3);
}
END_TEST

/* A large mailbox: every UID found where it is, in at most 17 looks. */
START_TEST(test_large)
{
	static uint32_t big[100000];
	struct uids u = { big, 0 };

	for (uint32_t i = 0; i < 100000; i++)
		big[i] = 3 * i + 1;
	for (uint32_t i = 0; i < 100000; i += 7) {
		u.looks = 0;
		ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 0, 100000, big[i]), i);
		ck_assert_uint_eq(uidsearch_lower(uids_at, &u, 0, 100000,
		    big[i] + 1), i + 1);
		ck_assert_uint_le(u.looks, 2 * 17);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("uidsearch");
	TCase *tc = tcase_create("uidsearch");

	tcase_add_test(tc, test_windows);
	tcase_add_test(tc, test_empty_and_offset);
	tcase_add_test(tc, test_large);
	suite_add_tcase(s, tc);
	return check_run(s);
}
