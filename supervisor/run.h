/*
 * run.h: the run engine.  One struct nf_run per active (queued or running)
 * run; finished runs live only in the store.
 */
#ifndef NF_RUN_H
#define NF_RUN_H

#include "nomaflowd.h"
#include "template.h"

struct nf_params;

struct nf_run {
	int64_t			 id;
	char			*job_id;
	struct nf_cfgref	*cfgref;	/* config the run started with */
	const struct nf_job	*job;		/* inside cfgref->cfg */
	enum nf_run_state	 state;
	char			*trigger;
	char			*triggered_by;
	int64_t			 scheduled_for;
	struct nf_val		*params;	/* merged, params.c */
	/* As given by the trigger, coerced: python kwargs sit between. */
	struct nf_val		*run_params;
	size_t			 step;		/* index of the current step */
	int			 attempt;	/* 1-based, of the current step */
	int64_t			 attempt_id;
	enum nf_attempt_state	 att_state;
	struct nf_worker	*worker;	/* current worker, if any */
	ev_timer		 retry_timer;	/* waiting to retry a step */
	ev_timer		 run_timer;	/* whole-run timeout */
	int			 waiting;	/* queued for a worker slot */
	char			*pools_held[2];	/* pools its worker counts on */
	int			 held;		/* overlap = queue: waits for the
						   job's active run to end */
	char			*preset;	/* NULL: none */
	int			 cancel_requested;
	int			 timed_out;	/* run timeout fired */
	int64_t			 rows_affected;
	struct nf_val		*last_output;
	struct nf_val		*last_progress;	/* the step's last PROGRESS */
	/* Templates and conditions (common/template.c, expr.c). */
	struct nf_val		*outputs;	/* step name -> its output */
	struct nf_val		*step_rows;	/* step name -> rows_affected */
	struct nf_val		*prev;		/* {step, rows_affected, output} */
	struct nf_val		*spec;		/* current attempt, rendered */
	int64_t			 base_time;	/* s: slot, or trigger time */
	struct nf_secrets	 secrets;	/* params.c: never shown */
	/* call_job: the child run this run's step waits for, and back. */
	int64_t			 child_id;
	int64_t			 parent_id;
	struct nf_val		*child_result;	/* the child ended: its state */
	TAILQ_ENTRY(nf_run)	 entry;		/* all active runs */
	TAILQ_ENTRY(nf_run)	 qentry;	/* waiting for a slot */
};

/* What a finished worker reports to its run (filled by spawn.c). */
struct nf_step_outcome {
	enum nf_attempt_state	 state;	/* succeeded, failed or canceled */
	enum nf_reason		 reason;
	char			*error;	/* owned by the outcome */
	int			 exit_code;
	int			 signal;
	int64_t			 rows_affected;
	struct nf_val		*output;	/* owned */
};

void	nf_run_init(void);
/*
 * s with every ${secret.NAME} opened (a pool's conninfo for this run's
 * worker); the values join the run's redaction list.  NULL + err.
 */
char	*nf_run_render_secrets(struct nf_run *, const char *s, char *err,
	    size_t errlen);
/*
 * Create and start a run.  Returns the run id (>0), 0 if a scheduled slot
 * already fired, -1 on error with *err set (static text or allocated into
 * errbuf).  force: start even if the job already has an active run.
 */
int64_t	nf_run_trigger(const struct nf_job *, const char *trigger,
	    const char *triggered_by, int64_t scheduled_for,
	    const struct nf_val *run_params, int force, int *conflict,
	    char *err, size_t errlen);
/* Everything a trigger may say; nf_run_trigger() is the short form. */
struct nf_trigger {
	const char		*trigger;	/* cron catchup manual ... */
	const char		*triggered_by;
	int64_t			 scheduled_for;	/* slot, 0 = none */
	const struct nf_val	*params;	/* run params or NULL */
	/*
	 * Params the caller resolved already (nf_params_resolve_job() of the
	 * job as the run sees it), or NULL: resolved from params.  Moved
	 * into the run (left empty) when it is created.
	 */
	struct nf_params	*resolved;
	const char		*preset;	/* NULL: none */
	int			 force;		/* even if the job has a run */
	int			 hold;		/* record now, start when the
						   job's active run ends */
};
int64_t	nf_run_trigger_ex(const struct nf_job *, const struct nf_trigger *,
	    int *conflict, char *err, size_t errlen);
/*
 * nf_run_trigger_ex() in two halves, for a burst of slots due together
 * (scheduler.c): nf_run_record() only writes the run's row (the slot
 * ledger; returns as nf_run_trigger_ex() does, *created_at its time);
 * nf_run_adopt(), later in the same loop iteration, creates the recorded
 * run in memory, logs it and queues its start.  For a job with no active
 * run (force and hold do not apply).
 */
int64_t	nf_run_record(const struct nf_job *, const struct nf_trigger *,
	    int64_t *created_at, char *err, size_t errlen);
void	nf_run_adopt(const struct nf_job *, const struct nf_trigger *,
	    int64_t id, int64_t created_at);
/* Start a held run (overlap = queue). */
void	nf_run_release(struct nf_run *);
/*
 * Active runs of a job that are not held; *held (may be NULL) gets its
 * held run, if any.
 */
int	nf_run_job_active(const char *job_id, struct nf_run **held);
/* Cancel every active run of a job but `except`; returns how many. */
int	nf_run_cancel_job(const char *job_id, int64_t except, const char *by);
/*
 * Record a fire that does not run (overlap): a skipped run with reason
 * overlap and the why in its error.  Returns the run id, 0 if the slot
 * already fired, -1 on error.
 */
int64_t	nf_run_skip_ex(const struct nf_job *, const char *preset,
	    const char *trigger, const char *triggered_by,
	    int64_t scheduled_for, const char *why);
/* Record a skipped fire (overlap).  Returns the run id or -1/0. */
int64_t	nf_run_skip(const struct nf_job *, const char *trigger,
	    int64_t scheduled_for, int64_t active_run);
struct nf_run *nf_run_find(int64_t id);
/* Active run of a job, if any (the oldest one). */
struct nf_run *nf_run_find_job(const char *job_id);
int	nf_run_cancel(struct nf_run *, const char *by);
/* Called by spawn.c when a worker is done (reaped and drained). */
void	nf_run_worker_done(struct nf_run *, struct nf_step_outcome *);
/* A log line from a worker (or the supervisor itself for this run). */
void	nf_run_log(struct nf_run *, const char *stream, const char *level,
	    const char *line);
void	nf_run_logf(struct nf_run *, const char *level, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
void	nf_run_progress(struct nf_run *, const struct nf_val *);
void	nf_run_output(struct nf_run *, struct nf_val *);
/* A worker slot became free: start waiting runs. */
void	nf_run_kick(void);
/* Shutdown: interrupt queued runs, and (force) kill running workers. */
void	nf_run_shutdown(int force);
int	nf_run_active_count(void);

#endif
