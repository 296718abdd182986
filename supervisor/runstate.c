/*
 * runstate.c: the run and attempt state machines (see runstate.h) and the
 * retry arithmetic.  Pure: no I/O, no globals; unit-tested in check_run.
 */
#include "autoconf.h"

#include <math.h>
#include <stdint.h>

#include "runstate.h"

int
nf_runstate_next(enum nf_run_state s, enum nf_run_event ev,
    enum nf_run_state *next)
{
	switch (ev) {
	case NF_RUN_EV_START:
		if (s != NF_RUN_QUEUED)
			return -1;
		*next = NF_RUN_RUNNING;
		return 0;
	case NF_RUN_EV_SUCCEED:
		if (s != NF_RUN_RUNNING)
			return -1;
		*next = NF_RUN_SUCCEEDED;
		return 0;
	case NF_RUN_EV_FAIL:
		if (s != NF_RUN_QUEUED && s != NF_RUN_RUNNING)
			return -1;
		*next = NF_RUN_FAILED;
		return 0;
	case NF_RUN_EV_CANCEL:
		if (s != NF_RUN_QUEUED && s != NF_RUN_RUNNING)
			return -1;
		*next = NF_RUN_CANCELED;
		return 0;
	}
	return -1;
}

int
nf_attstate_next(enum nf_attempt_state s, enum nf_att_event ev,
    enum nf_attempt_state *next)
{
	switch (ev) {
	case NF_ATT_EV_SPAWN:
		if (s != NF_ATT_PENDING)
			return -1;
		*next = NF_ATT_RUNNING;
		return 0;
	case NF_ATT_EV_SUCCEED:
		if (s != NF_ATT_RUNNING)
			return -1;
		*next = NF_ATT_SUCCEEDED;
		return 0;
	case NF_ATT_EV_FAIL:
		if (s != NF_ATT_PENDING && s != NF_ATT_RUNNING)
			return -1;
		*next = NF_ATT_FAILED;
		return 0;
	case NF_ATT_EV_CANCEL:
		if (s != NF_ATT_PENDING && s != NF_ATT_RUNNING)
			return -1;
		*next = NF_ATT_CANCELED;
		return 0;
	case NF_ATT_EV_SKIP:
		if (s != NF_ATT_PENDING)
			return -1;
		*next = NF_ATT_SKIPPED;
		return 0;
	}
	return -1;
}

int
nf_run_state_terminal(enum nf_run_state s)
{
	return s == NF_RUN_SUCCEEDED || s == NF_RUN_FAILED ||
	    s == NF_RUN_CANCELED || s == NF_RUN_SKIPPED;
}

const char *
nf_run_event_name(enum nf_run_event ev)
{
	static const char *const n[] = { "start", "succeed", "fail", "cancel" };

	return (unsigned)ev < sizeof(n) / sizeof(n[0]) ? n[ev] : "?";
}

const char *
nf_att_event_name(enum nf_att_event ev)
{
	static const char *const n[] = {
		"spawn", "succeed", "fail", "cancel", "skip"
	};

	return (unsigned)ev < sizeof(n) / sizeof(n[0]) ? n[ev] : "?";
}

int
nf_retry_retryable(enum nf_reason r)
{
	/*
	 * A blocked syscall is a property of the step and the policy, not a
	 * passing fault: retrying it only repeats the violation.  Canceled
	 * and interrupted attempts were stopped on purpose.
	 */
	switch (r) {
	case NF_REASON_ERROR:
	case NF_REASON_TIMEOUT:
	case NF_REASON_CRASH:
	case NF_REASON_PROTOCOL:
		return 1;
	default:
		return 0;
	}
}

int64_t
nf_retry_delay_ms(int exponential, double base_s, double max_s,
    int next_attempt)
{
	double	d;
	int	n = next_attempt - 2;	/* retries already made */

	if (n < 0)
		n = 0;
	if (exponential)
		d = base_s * pow(2.0, n > 60 ? 60 : n);
	else
		d = base_s;
	if (max_s > 0 && d > max_s)
		d = max_s;
	if (d < 0)
		d = 0;
	return (int64_t)llround(d * 1000.0);
}
