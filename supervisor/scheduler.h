/*
 * scheduler.h: what fires runs on its own: schedules (the job's and its
 * presets'), catch-up of missed slots, jitter, overlap policies, the
 * runtime enable/disable toggle and dependencies (`after`).  Every slot
 * goes through the slot ledger (UNIQUE(job_id, scheduled_for) in the
 * store) before a worker starts, so a slot fires at most once.
 */
#ifndef NF_SCHEDULER_H
#define NF_SCHEDULER_H

#include "nomaflowd.h"

/* (Re)arm timers for every job of cfg, with catch-up; drops the others. */
void	nf_sched_load(const struct nf_config *);
void	nf_sched_stop(void);
/* Next fire of a job's own schedule after `after` (seconds), -1 if none. */
int64_t	nf_sched_next(const struct nf_job *, int64_t after, int *flags);
/* Enabled for scheduled fires: the runtime toggle if set, else config. */
int	nf_sched_job_enabled(const struct nf_job *);
/*
 * Persist the runtime toggle and re-arm the job (enabling catches up the
 * slots missed while it was off, per its catchup policy).  -1 with err if
 * the store refused.
 */
int	nf_sched_set_enabled(const struct nf_job *, int enabled, char *err,
	    size_t errlen);
/* A run ended (run.c): start a queued run, fire dependent jobs. */
void	nf_sched_run_done(const char *job_id, int64_t run_id,
	    enum nf_run_state);

#endif
