/*
 * retention.c: prunes the history by [retention] and each job's retention
 * table, in nomaflowd, off the hot path.  It decides what goes (the policy
 * of each job, its own keys over the [retention] ones); store.c selects
 * and deletes.
 *
 * A pass visits every job that has runs in the store (a job no longer in
 * the configuration gets the [retention] policy) and prunes it one batch
 * at a time: each batch is a transaction of its own of at most
 * RETENTION_BATCH_ROWS deleted rows (runs, attempts and log lines), run
 * from a zero-delay timer at the lowest priority, so the loop serves
 * everything else (cron fires, worker frames, clients) between two
 * batches and the scheduler never waits behind a big prune.  A pass runs
 * RETENTION_FIRST seconds after start (it finishes what a crash cut
 * short), then every RETENTION_EVERY seconds, and on nfctl prune.
 *
 * Invariants:
 * - queued and running runs, the newest run of each job and the call_job
 *   children of an active run are never pruned (store.c's selection);
 * - a batch commits whole or not at all: a crash mid-pass loses nothing
 *   that is kept, and the next pass takes up what is left;
 * - the audit trail is not history: it is never pruned here;
 * - one pass at a time; nfctl prune joins the pass under way.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "nomaflowd.h"
#include "retention.h"
#include "util.h"

#define RETENTION_FIRST		10.	/* seconds after start */
#define RETENTION_EVERY		3600.	/* seconds between passes */
#define RETENTION_BATCH_ROWS	500	/* rows deleted per transaction */
#define RETENTION_BATCH_JOBS	64	/* jobs looked at per callback */
#define DAY_MS			INT64_C(86400000)
#define MARK_SET(m)		((m)->created_at != 0 || (m)->id != 0)

struct waiter {
	nf_retention_done	*done;
	void			*arg;
	struct waiter		*next;
};

static struct {
	ev_timer		 period;	/* next pass */
	ev_timer		 batch;		/* next batch of the pass */
	int			 inited;	/* watchers initialised */
	int			 started;
	int			 active;	/* a pass is under way */
	int64_t			 now;		/* the pass's clock (ms) */
	int64_t			 t0;		/* monotonic ms at its start */
	char			**jobs;		/* jobs with runs, at start */
	size_t			 njobs, i;
	int			 marked;	/* marks of jobs[i] computed */
	int64_t			 jt0;		/* monotonic ms: job start */
	int			 nbatch;	/* batches of this job */
	struct nf_store_mark	 rb, lb;
	struct nf_prune_count	 jc, total;	/* this job, this pass */
	struct nf_val		*report;	/* per job, for waiters */
	struct waiter		*waiters;
} R;

struct nf_retention
nf_retention_of(const struct nf_config *cfg, const struct nf_job *job)
{
	struct nf_retention	 r = cfg->retention;

	if (job == NULL)
		return r;
	if (job->retention.runs >= 0)
		r.runs = job->retention.runs;
	if (job->retention.days >= 0)
		r.days = job->retention.days;
	if (job->retention.log_days >= 0)
		r.log_days = job->retention.log_days;
	return r;
}

void
nf_retention_policy(const struct nf_retention *r, int64_t now,
    struct nf_prune_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->keep_runs = r->runs;
	if (r->days > 0)
		p->runs_before = now - r->days * DAY_MS;
	if (r->log_days > 0)
		p->logs_before = now - r->log_days * DAY_MS;
}

/* The policy of job_id now; 0 if it keeps everything. */
static int
job_policy(const char *job_id, int64_t now, struct nf_prune_policy *p)
{
	const struct nf_config	*cfg = nfd.cur->cfg;
	struct nf_retention	 r;

	r = nf_retention_of(cfg, nf_config_job(cfg, job_id));
	nf_retention_policy(&r, now, p);
	return p->keep_runs > 0 || p->runs_before > 0 || p->logs_before > 0;
}

/* Does any policy limit anything?  If not, a pass has nothing to do. */
static int
any_policy(void)
{
	const struct nf_config	*cfg = nfd.cur->cfg;
	struct nf_retention	 r;
	size_t			 i;

	r = cfg->retention;
	if (r.runs > 0 || r.days > 0 || r.log_days > 0)
		return 1;
	for (i = 0; i < cfg->njobs; i++) {
		r = nf_retention_of(cfg, &cfg->jobs[i]);
		if (r.runs > 0 || r.days > 0 || r.log_days > 0)
			return 1;
	}
	return 0;
}

static struct nf_val *
count_val(const char *job, const struct nf_prune_count *c, int lines)
{
	struct nf_val	*v = nf_val_map();

	if (job != NULL)
		nf_val_map_set_str(v, "job", job);
	nf_val_map_set_int(v, "runs", c->runs);
	nf_val_map_set_int(v, "logs", c->logs);
	if (lines)
		nf_val_map_set_int(v, "lines", c->lines);
	return v;
}

/* Hand the report (or the error) to everyone waiting for the pass. */
static void
waiters_done(struct nf_val *report, const char *error)
{
	struct waiter	*w, *next;

	for (w = R.waiters; w != NULL; w = next) {
		next = w->next;
		w->done(w->arg, report != NULL ? nf_val_dup(report) : NULL,
		    error);
		free(w);
	}
	R.waiters = NULL;
}

static void
pass_free(void)
{
	size_t	 i;

	for (i = 0; i < R.njobs; i++)
		free(R.jobs[i]);
	free(R.jobs);
	R.jobs = NULL;
	R.njobs = R.i = 0;
	nf_val_free(R.report);
	R.report = NULL;
	R.active = 0;
}

static void
pass_end(const char *error)
{
	struct nf_val	*rep = NULL;

	ev_timer_stop(nfd.loop, &R.batch);
	if (error == NULL) {
		rep = count_val(NULL, &R.total, 1);
		nf_val_map_set_bool(rep, "dry_run", 0);
		nf_val_map_set(rep, "jobs", R.report);
		R.report = NULL;
		nf_debug("retention: pass done in %lld ms: %lld runs, the log "
		    "lines of %lld more, %lld log lines",
		    (long long)(nf_mono_ms() - R.t0), (long long)R.total.runs,
		    (long long)R.total.logs, (long long)R.total.lines);
	}
	waiters_done(rep, error);
	nf_val_free(rep);
	pass_free();
}

/* The summary of one job's pass: one line, not one per batch. */
static void
job_done(const char *job)
{
	const struct nf_prune_count *c = &R.jc;
	char	 how[64];

	snprintf(how, sizeof(how), "%d batch%s in %lld ms", R.nbatch,
	    R.nbatch == 1 ? "" : "es", (long long)(nf_mono_ms() - R.jt0));
	if (c->runs > 0 && c->logs > 0)
		nf_info("retention: pruned %lld run%s and the log lines of "
		    "%lld more (%lld log lines) of job %s (%s)",
		    (long long)c->runs, c->runs == 1 ? "" : "s",
		    (long long)c->logs, (long long)c->lines, job, how);
	else if (c->runs > 0)
		nf_info("retention: pruned %lld run%s (%lld log lines) of job "
		    "%s (%s)", (long long)c->runs, c->runs == 1 ? "" : "s",
		    (long long)c->lines, job, how);
	else if (c->logs > 0)
		nf_info("retention: pruned the log lines of %lld run%s (%lld "
		    "log lines) of job %s (%s)", (long long)c->logs,
		    c->logs == 1 ? "" : "s", (long long)c->lines, job, how);
	if (c->runs > 0 || c->logs > 0)
		nf_val_arr_push(R.report, count_val(job, c, 1));
	R.total.runs += c->runs;
	R.total.logs += c->logs;
	R.total.lines += c->lines;
	memset(&R.jc, 0, sizeof(R.jc));
	R.marked = 0;
	R.i++;
}

/* One batch of the pass, then back to the loop. */
static void
batch_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nf_prune_policy	 p;
	const char		*job;
	char			 err[1200];
	int			 rc, looked = 0;

	while (R.i < R.njobs) {
		job = R.jobs[R.i];
		if (R.marked)
			break;
		/* Many jobs with nothing to prune: yield now and then too. */
		if (looked++ == RETENTION_BATCH_JOBS) {
			ev_timer_set(w, 0., 0.);
			ev_timer_start(loop, w);
			return;
		}
		if (!job_policy(job, R.now, &p)) {
			R.i++;
			continue;
		}
		if (nf_store_prune_marks(job, &p, &R.rb, &R.lb) == -1)
			goto fail;
		R.marked = 1;
		R.nbatch = 0;
		R.jt0 = nf_mono_ms();
		/* Nothing below either mark: no transaction for it. */
		if (!MARK_SET(&R.rb) && !MARK_SET(&R.lb))
			job_done(job);
	}
	if (R.i == R.njobs) {
		pass_end(NULL);
		return;
	}
	job = R.jobs[R.i];
	R.nbatch++;
	if ((rc = nf_store_prune(job, &R.rb, &R.lb, RETENTION_BATCH_ROWS,
	    R.now, &R.jc)) == -1)
		goto fail;
	if (rc == 0)
		job_done(job);
	ev_timer_set(w, 0., 0.);
	ev_timer_start(loop, w);
	return;

fail:
	snprintf(err, sizeof(err), "retention: job %s: %s; the pass stopped "
	    "(what it committed stays pruned) and the next one takes up the "
	    "rest", R.i < R.njobs ? R.jobs[R.i] : "?", nf_store_error());
	nf_warnx("%s", err);
	if (R.jc.runs > 0 || R.jc.logs > 0)
		job_done(R.jobs[R.i]);
	pass_end(err);
}

/* Start a pass unless one is under way; -1 (error set) if it cannot. */
static int
pass_start(char *err, size_t errlen)
{
	if (R.active)
		return 0;
	memset(&R.jc, 0, sizeof(R.jc));
	memset(&R.total, 0, sizeof(R.total));
	R.marked = 0;
	R.i = 0;
	R.now = nf_now_ms();
	R.t0 = nf_mono_ms();
	if ((R.jobs = nf_store_job_ids(&R.njobs)) == NULL) {
		snprintf(err, errlen, "retention: cannot list the jobs with "
		    "runs: %s", nf_store_error());
		R.njobs = 0;
		return -1;
	}
	R.report = nf_val_arr();
	R.active = 1;
	ev_timer_set(&R.batch, 0., 0.);
	ev_timer_start(nfd.loop, &R.batch);
	return 0;
}

static void
period_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	char	 err[1024];

	if (R.active || !any_policy())
		return;
	if (pass_start(err, sizeof(err)) == -1)
		nf_warnx("%s; the next pass tries again", err);
}

static void
watchers_init(void)
{
	if (R.inited)
		return;
	ev_timer_init(&R.period, period_cb, RETENTION_FIRST, RETENTION_EVERY);
	ev_timer_init(&R.batch, batch_cb, 0., 0.);
	/* After whatever else is due in the same loop iteration. */
	ev_set_priority(&R.batch, EV_MINPRI);
	R.inited = 1;
}

void
nf_retention_start(void)
{
	watchers_init();
	ev_timer_start(nfd.loop, &R.period);
	R.started = 1;
}

void
nf_retention_stop(void)
{
	if (!R.inited)
		return;
	ev_timer_stop(nfd.loop, &R.period);
	ev_timer_stop(nfd.loop, &R.batch);
	waiters_done(NULL, "the daemon is stopping; what was committed stays "
	    "pruned");
	pass_free();
	R.started = 0;
}

/* nfctl prune --dry-run: the counts, job by job, now. */
static void
dry_run(nf_retention_done *done, void *arg)
{
	struct nf_prune_policy	 p;
	struct nf_prune_count	 c, total;
	struct nf_store_mark	 rb, lb;
	struct nf_val		*jobs, *rep;
	char			**ids, err[1200];
	int64_t			 now = nf_now_ms();
	size_t			 n, i;

	if ((ids = nf_store_job_ids(&n)) == NULL) {
		snprintf(err, sizeof(err), "retention: cannot list the jobs "
		    "with runs: %s", nf_store_error());
		done(arg, NULL, err);
		return;
	}
	memset(&total, 0, sizeof(total));
	jobs = nf_val_arr();
	for (i = 0; i < n; i++) {
		memset(&c, 0, sizeof(c));
		if (job_policy(ids[i], now, &p) &&
		    (nf_store_prune_marks(ids[i], &p, &rb, &lb) == -1 ||
		    nf_store_prune_count(ids[i], &rb, &lb, &c) == -1)) {
			snprintf(err, sizeof(err), "retention: job %s: %s",
			    ids[i], nf_store_error());
			nf_val_free(jobs);
			jobs = NULL;
			break;
		}
		if (c.runs > 0 || c.logs > 0)
			nf_val_arr_push(jobs, count_val(ids[i], &c, 0));
		total.runs += c.runs;
		total.logs += c.logs;
	}
	for (i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	if (jobs == NULL) {
		done(arg, NULL, err);
		return;
	}
	rep = count_val(NULL, &total, 0);
	nf_val_map_set_bool(rep, "dry_run", 1);
	nf_val_map_set(rep, "jobs", jobs);
	done(arg, rep, NULL);
}

void
nf_retention_prune(int dry, nf_retention_done *done, void *arg)
{
	struct waiter	*w, **wp;
	char		 err[1024];

	if (dry) {
		dry_run(done, arg);
		return;
	}
	watchers_init();	/* a pass without the periodic one (tests) */
	if (pass_start(err, sizeof(err)) == -1) {
		done(arg, NULL, err);
		return;
	}
	w = nf_xcalloc(1, sizeof(*w));
	w->done = done;
	w->arg = arg;
	for (wp = &R.waiters; *wp != NULL; wp = &(*wp)->next)
		;
	*wp = w;
}
