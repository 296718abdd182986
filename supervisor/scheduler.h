/*
 * scheduler.h: cron timers.  One absolute-time (wall clock) ev_periodic per
 * scheduled job; every fire goes through the slot ledger (UNIQUE(job_id,
 * scheduled_for) in the store) so a slot fires at most once.
 */
#ifndef NF_SCHEDULER_H
#define NF_SCHEDULER_H

#include "nomaflowd.h"

/* (Re)arm timers for every job of cfg; drops timers of removed jobs. */
void	nf_sched_load(const struct nf_config *);
void	nf_sched_stop(void);
/* Next fire of a job after `after` (seconds), -1 if none. */
int64_t	nf_sched_next(const struct nf_job *, int64_t after, int *flags);

#endif
