/*
 * runstate.h: the run and attempt state machines as pure transition
 * functions.  run.c drives them; an impossible (state, event) pair is a bug
 * in the supervisor and run.c panics on it.
 *
 *   run:      queued -start-> running -succeed-> succeeded
 *             queued|running -fail-> failed
 *             queued|running -cancel-> canceled
 *             (skipped is only ever inserted, never entered)
 *   attempt:  pending -spawn-> running -succeed-> succeeded
 *             pending|running -fail-> failed
 *             pending|running -cancel-> canceled
 *             pending -skip-> skipped
 */
#ifndef NF_RUNSTATE_H
#define NF_RUNSTATE_H

#include "store.h"

enum nf_run_event {
	NF_RUN_EV_START = 0,
	NF_RUN_EV_SUCCEED,
	NF_RUN_EV_FAIL,
	NF_RUN_EV_CANCEL,
};

enum nf_att_event {
	NF_ATT_EV_SPAWN = 0,
	NF_ATT_EV_SUCCEED,
	NF_ATT_EV_FAIL,
	NF_ATT_EV_CANCEL,
	NF_ATT_EV_SKIP,
};

/* 0 and *next on a legal transition, -1 on an impossible one. */
int	nf_runstate_next(enum nf_run_state, enum nf_run_event,
	    enum nf_run_state *next);
int	nf_attstate_next(enum nf_attempt_state, enum nf_att_event,
	    enum nf_attempt_state *next);
int	nf_run_state_terminal(enum nf_run_state);
const char *nf_run_event_name(enum nf_run_event);
const char *nf_att_event_name(enum nf_att_event);

/*
 * Retry policy: is a failed attempt with this reason retried at all, and
 * the delay in milliseconds before attempt number `next_attempt` (2, 3...)
 * given backoff, base and max seconds.
 */
int	nf_retry_retryable(enum nf_reason);
int64_t	nf_retry_delay_ms(int exponential, double base_s, double max_s,
	    int next_attempt);

#endif
