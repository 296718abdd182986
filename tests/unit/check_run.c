/*
 * check_run.c: the run and attempt state machines and retry arithmetic
 * (supervisor/runstate.c).
 */
#include "autoconf.h"

#include "nf_check.h"
#include "runstate.h"

/* Every (state, event) pair of the run machine against the table. */
START_TEST(run_table)
{
	static const struct {
		enum nf_run_state	s;
		enum nf_run_event	ev;
		int			ok;
		enum nf_run_state	next;
	} t[] = {
		{ NF_RUN_QUEUED, NF_RUN_EV_START, 1, NF_RUN_RUNNING },
		{ NF_RUN_QUEUED, NF_RUN_EV_SUCCEED, 0, 0 },
		{ NF_RUN_QUEUED, NF_RUN_EV_FAIL, 1, NF_RUN_FAILED },
		{ NF_RUN_QUEUED, NF_RUN_EV_CANCEL, 1, NF_RUN_CANCELED },
		{ NF_RUN_RUNNING, NF_RUN_EV_START, 0, 0 },
		{ NF_RUN_RUNNING, NF_RUN_EV_SUCCEED, 1, NF_RUN_SUCCEEDED },
		{ NF_RUN_RUNNING, NF_RUN_EV_FAIL, 1, NF_RUN_FAILED },
		{ NF_RUN_RUNNING, NF_RUN_EV_CANCEL, 1, NF_RUN_CANCELED },
	};
	enum nf_run_state	 terminal[] = { NF_RUN_SUCCEEDED, NF_RUN_FAILED,
	    NF_RUN_CANCELED, NF_RUN_SKIPPED };
	enum nf_run_state	 next;
	size_t			 i;
	int			 ev;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		next = (enum nf_run_state)-1;
		ck_assert_int_eq(nf_runstate_next(t[i].s, t[i].ev, &next),
		    t[i].ok ? 0 : -1);
		if (t[i].ok)
			ck_assert_int_eq(next, t[i].next);
	}
	/* Nothing leaves a terminal state. */
	for (i = 0; i < 4; i++) {
		ck_assert(nf_run_state_terminal(terminal[i]));
		for (ev = NF_RUN_EV_START; ev <= NF_RUN_EV_CANCEL; ev++)
			ck_assert_int_eq(nf_runstate_next(terminal[i],
			    (enum nf_run_event)ev, &next), -1);
	}
	ck_assert(!nf_run_state_terminal(NF_RUN_QUEUED));
	ck_assert(!nf_run_state_terminal(NF_RUN_RUNNING));
}
END_TEST

START_TEST(attempt_table)
{
	enum nf_attempt_state	next;
	int			ev;

	ck_assert_int_eq(nf_attstate_next(NF_ATT_PENDING, NF_ATT_EV_SPAWN,
	    &next), 0);
	ck_assert_int_eq(next, NF_ATT_RUNNING);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_RUNNING, NF_ATT_EV_SUCCEED,
	    &next), 0);
	ck_assert_int_eq(next, NF_ATT_SUCCEEDED);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_RUNNING, NF_ATT_EV_FAIL,
	    &next), 0);
	ck_assert_int_eq(next, NF_ATT_FAILED);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_PENDING, NF_ATT_EV_FAIL,
	    &next), 0);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_RUNNING, NF_ATT_EV_CANCEL,
	    &next), 0);
	ck_assert_int_eq(next, NF_ATT_CANCELED);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_PENDING, NF_ATT_EV_SKIP,
	    &next), 0);
	ck_assert_int_eq(next, NF_ATT_SKIPPED);
	/* Impossible pairs. */
	ck_assert_int_eq(nf_attstate_next(NF_ATT_PENDING, NF_ATT_EV_SUCCEED,
	    &next), -1);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_RUNNING, NF_ATT_EV_SPAWN,
	    &next), -1);
	ck_assert_int_eq(nf_attstate_next(NF_ATT_RUNNING, NF_ATT_EV_SKIP,
	    &next), -1);
	for (ev = NF_ATT_EV_SPAWN; ev <= NF_ATT_EV_SKIP; ev++) {
		ck_assert_int_eq(nf_attstate_next(NF_ATT_SUCCEEDED,
		    (enum nf_att_event)ev, &next), -1);
		ck_assert_int_eq(nf_attstate_next(NF_ATT_FAILED,
		    (enum nf_att_event)ev, &next), -1);
		ck_assert_int_eq(nf_attstate_next(NF_ATT_CANCELED,
		    (enum nf_att_event)ev, &next), -1);
		ck_assert_int_eq(nf_attstate_next(NF_ATT_SKIPPED,
		    (enum nf_att_event)ev, &next), -1);
	}
}
END_TEST

START_TEST(retry_delays)
{
	/* exponential: base * 2^(n-2), capped */
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 300.0, 2), 1000);
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 300.0, 3), 2000);
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 300.0, 4), 4000);
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 300.0, 10), 256000);
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 300.0, 11), 300000);
	ck_assert_int_eq(nf_retry_delay_ms(1, 0.25, 0.5, 5), 500);
	/* huge attempt numbers do not overflow */
	ck_assert_int_eq(nf_retry_delay_ms(1, 1.0, 60.0, 1000), 60000);
	/* fixed */
	ck_assert_int_eq(nf_retry_delay_ms(0, 2.5, 300.0, 2), 2500);
	ck_assert_int_eq(nf_retry_delay_ms(0, 2.5, 300.0, 9), 2500);
	ck_assert_int_eq(nf_retry_delay_ms(0, 2.5, 1.0, 9), 1000);
}
END_TEST

START_TEST(retryable_reasons)
{
	ck_assert(nf_retry_retryable(NF_REASON_ERROR));
	ck_assert(nf_retry_retryable(NF_REASON_TIMEOUT));
	ck_assert(nf_retry_retryable(NF_REASON_CRASH));
	ck_assert(nf_retry_retryable(NF_REASON_PROTOCOL));
	ck_assert(!nf_retry_retryable(NF_REASON_SANDBOX));
	ck_assert(!nf_retry_retryable(NF_REASON_CANCELED));
	ck_assert(!nf_retry_retryable(NF_REASON_INTERRUPTED));
}
END_TEST

static Suite *
run_suite(void)
{
	Suite	*s = suite_create("run");
	TCase	*tc = tcase_create("statemachines");

	tcase_add_test(tc, run_table);
	tcase_add_test(tc, attempt_table);
	tcase_add_test(tc, retry_delays);
	tcase_add_test(tc, retryable_reasons);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(run_suite)
