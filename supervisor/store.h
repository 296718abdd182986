/*
 * store.h: the durable history behind a narrow interface.  store.c is the
 * only supervisor module that includes sqlite3.h; a PostgreSQL backend for
 * multi-replica installs can implement the same functions later.
 *
 * Times are milliseconds since the epoch (UTC).  Slots (scheduled_for) are
 * seconds since the epoch; manual runs have no slot (0 here, NULL in SQL).
 *
 * Group commit: writes start a transaction lazily; nf_store_flush() (called
 * once per loop iteration, from an ev_prepare watcher) commits it.  A
 * transaction is never held across a loop wake-up.
 *
 * Errors: functions return -1 and log with nf_warnx(); nf_store_error()
 * returns the last message.  A failed write never aborts the daemon.
 */
#ifndef NF_STORE_H
#define NF_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "val.h"

enum nf_run_state {
	NF_RUN_QUEUED = 0,
	NF_RUN_RUNNING,
	NF_RUN_SUCCEEDED,
	NF_RUN_FAILED,
	NF_RUN_CANCELED,
	NF_RUN_SKIPPED,
};

enum nf_attempt_state {
	NF_ATT_PENDING = 0,
	NF_ATT_RUNNING,
	NF_ATT_SUCCEEDED,
	NF_ATT_FAILED,
	NF_ATT_CANCELED,
	NF_ATT_SKIPPED,
};

/* Reason class of a failed (or canceled) attempt or run. */
enum nf_reason {
	NF_REASON_NONE = 0,
	NF_REASON_ERROR,
	NF_REASON_TIMEOUT,
	NF_REASON_CRASH,
	NF_REASON_SANDBOX,
	NF_REASON_PROTOCOL,
	NF_REASON_INTERRUPTED,
	NF_REASON_CANCELED,
	NF_REASON_OVERLAP,	/* skipped run: previous run still running */
};

const char	*nf_run_state_name(enum nf_run_state);
int		 nf_run_state_parse(const char *);	/* -1 if unknown */
const char	*nf_attempt_state_name(enum nf_attempt_state);
const char	*nf_reason_name(enum nf_reason);
int		 nf_reason_parse(const char *);		/* -1 if unknown */

struct nf_run_rec {
	int64_t		 id;
	const char	*job_id;
	enum nf_run_state state;
	const char	*trigger;	/* cron manual api dependency call_job replay catchup */
	const char	*triggered_by;	/* "cron", "user:alice", "job:x@17" */
	int64_t		 scheduled_for;	/* seconds; 0 = none */
	const struct nf_val *params;	/* snapshot of merged params (map) */
	int64_t		 created_at;
	const char	*preset;	/* NULL: none */
};

struct nf_attempt_rec {
	int64_t		 id;
	int64_t		 run_id;
	int		 step_idx;
	const char	*step_name;
	const char	*step_type;
	int		 attempt;	/* 1-based */
};

struct nf_attempt_end {
	enum nf_attempt_state state;
	enum nf_reason	 reason;
	const char	*error;		/* NULL if none */
	int		 exit_code;	/* -1 if n/a */
	int		 signal;	/* 0 if none */
	int64_t		 rows_affected;	/* -1 if n/a */
	const struct nf_val *output;	/* NULL if none; stored as JSON text */
	int64_t		 finished_at;
};

struct nf_log_rec {
	int64_t		 run_id;
	int64_t		 attempt_id;	/* 0: run-level line (supervisor) */
	int64_t		 ts;
	const char	*step;		/* NULL for run-level lines */
	int		 attempt;
	const char	*stream;	/* stdout stderr worker system */
	const char	*level;		/* error warn info debug */
	const char	*line;
};

struct nf_audit_rec {
	int64_t		 ts;
	const char	*user;		/* "user:alice" */
	int64_t		 uid;
	const char	*action;	/* "run", "cancel", "reload", ... */
	const char	*target;	/* job or run id, may be NULL */
	const char	*result;	/* "ok" or an error message */
	const struct nf_val *detail;	/* NULL or a map, stored as JSON */
};

/* Open (creating and migrating as needed).  sync_full: synchronous=FULL. */
int	 nf_store_open(const char *path, int sync_full);
void	 nf_store_close(void);
const char *nf_store_error(void);
/* Commit the pending transaction, if any.  -1 if the commit failed. */
int	 nf_store_flush(void);
/*
 * 0 after a transaction was rolled back (full disk, lock, I/O error) until
 * one carrying every write kept since then commits.
 */
int	 nf_store_healthy(void);
/* Replay the kept writes in a transaction of their own and commit: -1 if
 * the store still cannot write. */
int	 nf_store_retry(void);
/*
 * Cap the database file size (0: no cap).  Writes past it fail like a
 * full disk (rolled back, -1) instead of filling a shared filesystem.
 */
int	 nf_store_set_max_size(int64_t bytes);

/*
 * Runs left queued/running by a dead supervisor: their running attempts
 * become failed/interrupted, the runs become failed with reason
 * interrupted.  Returns the number of runs resolved, or -1.
 */
int	 nf_store_recover(int64_t now);

/*
 * Insert a run.  Returns the new id (>0); 0 if (job_id, scheduled_for)
 * already exists (the slot already fired); -1 on error.
 */
int64_t	 nf_store_run_insert(const struct nf_run_rec *);
int	 nf_store_run_start(int64_t run_id, int64_t started_at);
/* Terminal state; reason may be NONE; error may be NULL. */
int	 nf_store_run_finish(int64_t run_id, enum nf_run_state,
	    enum nf_reason, const char *error, int64_t rows_affected,
	    int64_t finished_at);

int64_t	 nf_store_attempt_insert(const struct nf_attempt_rec *,
	    int64_t started_at);
int	 nf_store_attempt_finish(int64_t attempt_id,
	    const struct nf_attempt_end *);

/*
 * Append a log line.  The per-run cap (bytes) is enforced here: past it,
 * one truncation marker line is stored and further lines are dropped.
 * Returns the line's sequence number (>0), 0 if dropped, -1 on error.
 */
void	 nf_store_set_log_cap(int64_t bytes);
int64_t	 nf_store_log_append(const struct nf_log_rec *);

int	 nf_store_audit(const struct nf_audit_rec *);
/* Audit entries, newest first: {id, ts, user, uid, action, target,
 * result, detail}. */
struct nf_audit_filter {
	int64_t		 since;		/* ts >= since (ms); 0: any */
	const char	*user;		/* "alice" or "user:alice"; NULL: any */
	const char	*job;		/* target or detail.job; NULL: any */
	int		 limit;		/* 0: default 50 */
};
struct nf_val	*nf_store_audit_list(const struct nf_audit_filter *);

/* Latest scheduled_for (seconds) of any run of job, 0 if none. */
int64_t	 nf_store_last_slot(const char *job_id);
/* The same over runs of one preset (NULL: runs without a preset). */
int64_t	 nf_store_last_slot_preset(const char *job_id, const char *preset);
/* Persisted runtime job toggles (nfctl job enable/disable): -1 = none. */
int	 nf_store_job_enabled_get(const char *job_id);
int	 nf_store_job_enabled_set(const char *job_id, int enabled);
/* Call fn for every persisted toggle (the scheduler's cache); -1 on error. */
int	 nf_store_job_toggles(void (*fn)(void *arg, const char *job_id,
	    int enabled), void *arg);

/*
 * Read side: results as nf_val trees ready to send to clients.
 * Run maps: {id, job_id, state, reason, trigger, triggered_by,
 * scheduled_for, created_at, started_at, finished_at, error, rows_affected,
 * preset}
 * (absent values are nil).
 */
struct nf_store_filter {
	const char	*job_id;	/* NULL: any */
	int		 state;		/* -1: any */
	int64_t		 since;		/* created_at >= since (ms); 0: any */
	int		 limit;		/* 0: default 50 */
	/*
	 * The web API's filters and keyset paging: any of them set, runs
	 * come newest id first.  before: id < before (the smallest id of
	 * the previous page), so a page is an index range scan however deep.
	 */
	const char	*trigger;	/* NULL: any */
	int64_t		 until;		/* created_at < until (ms); 0: any */
	int64_t		 before;	/* id < before; 0: any */
	/* NULL, or only runs of jobs for which it returns non-zero. */
	int		(*visible)(void *arg, const char *job_id);
	void		*visible_arg;
};
struct nf_val	*nf_store_runs_list(const struct nf_store_filter *);
/* Run map plus "params" and "attempts": [{id, step, step_idx, type,
 * attempt, state, reason, error, exit_code, signal, rows_affected,
 * started_at, finished_at, output}].  NULL if no such run. */
struct nf_val	*nf_store_run_get(int64_t run_id);
/*
 * Runs left queued/running (run maps with params; call before
 * nf_store_recover() to learn which runs it resolves), or NULL.
 */
struct nf_val	*nf_store_active_runs(void);
/* Last run of a job (run map) or NULL. */
struct nf_val	*nf_store_job_last_run(const char *job_id);
/*
 * Log lines with seq > after_seq, at most limit (0 = all): array of
 * {seq, ts, step, attempt, stream, level, line}.
 */
struct nf_val	*nf_store_logs_get(int64_t run_id, int64_t after_seq,
	    int limit);

/*
 * Retention (retention.c decides what goes, the store deletes it).  A mark
 * is a position in a job's runs ordered oldest to newest by (created_at,
 * id), the order "newest" means everywhere; a prune takes what is strictly
 * below it.  {0, 0}: nothing.
 */
struct nf_store_mark {
	int64_t		 created_at;	/* ms */
	int64_t		 id;
};
struct nf_prune_count {
	int64_t		 runs;		/* runs deleted (with everything) */
	int64_t		 logs;		/* runs whose log lines alone went */
	int64_t		 lines;		/* log lines deleted (both kinds) */
};
/* What one job keeps. */
struct nf_prune_policy {
	int64_t		 keep_runs;	/* the newest N runs; 0: no limit */
	int64_t		 runs_before;	/* runs created before (ms); 0: none */
	int64_t		 logs_before;	/* log lines of those (ms); 0: none */
};
/*
 * The marks of a job's prune from its policy: runs older than the
 * keep_runs-th newest go, and so do those created before runs_before,
 * except the newest run of the job (its last state survives any age).
 * Log lines go from runs created before logs_before, the newest run's
 * again excepted.  A mark {0, 0}: nothing goes.  0 or -1.
 */
int	 nf_store_prune_marks(const char *job_id,
	    const struct nf_prune_policy *p, struct nf_store_mark *runs_below,
	    struct nf_store_mark *logs_below);
/*
 * One batch in a transaction of its own, once the loop iteration's writes
 * are committed: the runs of job_id below runs_below go, oldest first,
 * each with its attempts and log lines; then the log lines of runs below
 * logs_below go and those runs are marked log-pruned at now.  About max
 * rows at most (a run is never split).  Queued and running runs, and the
 * call_job children of a queued or running run, are kept.  Adds what it
 * did to *c.  1: more is left; 0: nothing left; -1 (nothing was done).
 */
int	 nf_store_prune(const char *job_id,
	    const struct nf_store_mark *runs_below,
	    const struct nf_store_mark *logs_below, int max, int64_t now,
	    struct nf_prune_count *c);
/* What nf_store_prune() would take, counted into *c (lines are not). */
int	 nf_store_prune_count(const char *job_id,
	    const struct nf_store_mark *runs_below,
	    const struct nf_store_mark *logs_below, struct nf_prune_count *c);
/* When retention deleted the log lines of a run (ms), 0: never; -1. */
int64_t	 nf_store_log_pruned_at(int64_t run_id);
/* The job ids that have runs, NULL-terminated (caller frees each and the
 * array); NULL on error. */
char	**nf_store_job_ids(size_t *n);

/*
 * Secrets, as secret.c seals them: the store only ever sees ciphertext.
 * Every change is committed before the call returns (its own
 * transaction, after the loop iteration's writes), or not made at all.
 */
struct nf_secret_row {
	char		*name;
	unsigned char	*nonce;
	size_t		 nonce_len;
	unsigned char	*ct;		/* ciphertext with its tag */
	size_t		 ct_len;
	char		*key_id;	/* which key sealed it */
	int64_t		 created_at;	/* ms */
	int64_t		 updated_at;
};
void	 nf_store_secret_row_free(struct nf_secret_row *);
/* Insert or replace (created_at kept; updated_at from the row). */
int	 nf_store_secret_put(const struct nf_secret_row *);
/* 1 and *out filled (caller frees), 0 if no such secret, -1. */
int	 nf_store_secret_get(const char *name, struct nf_secret_row *out);
/* 1 removed, 0 no such secret, -1. */
int	 nf_store_secret_del(const char *name);
/* Every row by name (caller frees each and the array); 0 or -1. */
int	 nf_store_secret_all(struct nf_secret_row **rows, size_t *n);
/* New nonce, ciphertext and key id for every row given: all or none. */
int	 nf_store_secret_rewrite(const struct nf_secret_row *rows, size_t n);

/*
 * UI accounts (webauth.c): name and crypto_pwhash string.  Writes are
 * committed before the call returns, like secrets.  now: ms.
 */
int	 nf_store_account_put(const char *name, const char *hash,
	    int64_t now);
/* 1 and *hash (caller frees), 0 if no such account, -1. */
int	 nf_store_account_get(const char *name, char **hash);
/* 1 removed, 0 no such account, -1. */
int	 nf_store_account_del(const char *name);
/* [{name, created_at, updated_at}] by name, or NULL. */
struct nf_val	*nf_store_account_list(void);

#endif
