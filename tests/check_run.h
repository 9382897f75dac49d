/* The one way every Check test program runs its suite and exits. */
#ifndef CAIRN_CHECK_RUN_H
#define CAIRN_CHECK_RUN_H

#include <check.h>

/* Runs s (CK_NORMAL prints the summary line CI looks for); exit status. */
static inline int
check_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

#endif
