/*
 * nf_check.h: the common main() of the Check unit tests.  Each test runs in
 * a forked child (a crash is a failure, not a dead suite) and results are
 * printed as TAP for automake's driver.
 */
#ifndef NF_CHECK_H
#define NF_CHECK_H

#include <check.h>
#include <stdlib.h>

#define NF_CHECK_MAIN(suite_fn)						\
int									\
main(void)								\
{									\
	SRunner	*sr;							\
	int	 failed;						\
									\
	sr = srunner_create(suite_fn());				\
	srunner_set_tap(sr, "-");					\
	srunner_run_all(sr, CK_SILENT);					\
	failed = srunner_ntests_failed(sr);				\
	srunner_free(sr);						\
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;		\
}

#endif
