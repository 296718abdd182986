/*
 * run.c: the run engine of nomaflowd.  Owns every active run's state
 * machine (runstate.c), step sequencing, retries with backoff (ev_timer,
 * never sleeping), run timeouts, cancel, the worker-slot queue and the
 * followers of a run's live log.
 *
 * Invariants: a run is in `runs` from trigger until its terminal state is
 * recorded; it has at most one worker; every state change is written to
 * the store in the same loop iteration (group commit in main.c).
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "control.h"
#include "log.h"
#include "nomaflowd.h"
#include "run.h"
#include "runstate.h"
#include "spawner.h"
#include "store.h"

static TAILQ_HEAD(, nf_run)	runs = TAILQ_HEAD_INITIALIZER(runs);
static TAILQ_HEAD(, nf_run)	waitq = TAILQ_HEAD_INITIALIZER(waitq);

static void	run_next_step(struct nf_run *);
static void	run_start_attempt(struct nf_run *);
static void	run_finish(struct nf_run *, enum nf_run_event, enum nf_reason,
		    const char *error);

void
nf_run_init(void)
{
	TAILQ_INIT(&runs);
	TAILQ_INIT(&waitq);
}

static void
run_transition(struct nf_run *r, enum nf_run_event ev)
{
	enum nf_run_state next;

	if (nf_runstate_next(r->state, ev, &next) == -1)
		nf_panic("run %lld: impossible event %s in state %s",
		    (long long)r->id, nf_run_event_name(ev),
		    nf_run_state_name(r->state));
	r->state = next;
}

static void
att_transition(struct nf_run *r, enum nf_att_event ev)
{
	enum nf_attempt_state next;

	if (nf_attstate_next(r->att_state, ev, &next) == -1)
		nf_panic("run %lld attempt %lld: impossible event %s in state %s",
		    (long long)r->id, (long long)r->attempt_id,
		    nf_att_event_name(ev), nf_attempt_state_name(r->att_state));
	r->att_state = next;
}

struct nf_run *
nf_run_find(int64_t id)
{
	struct nf_run	*r;

	TAILQ_FOREACH(r, &runs, entry)
		if (r->id == id)
			return r;
	return NULL;
}

struct nf_run *
nf_run_find_job(const char *job_id)
{
	struct nf_run	*r;

	TAILQ_FOREACH(r, &runs, entry)
		if (strcmp(r->job_id, job_id) == 0)
			return r;
	return NULL;
}

int
nf_run_active_count(void)
{
	return nfd.nruns;
}

/* Log lines. */

static void
run_emit(struct nf_run *r, const char *kind, struct nf_val *data)
{
	struct nf_follower	*f, *tmp;

	LIST_FOREACH_SAFE(f, &r->followers, entry, tmp) {
		if (!nf_control_client_alive(f->client, f->client_gen)) {
			LIST_REMOVE(f, entry);
			free(f);
			continue;
		}
		nf_control_event(f->client, f->client_gen, f->req_id, kind,
		    nf_val_dup(data));
	}
	nf_val_free(data);
}

void
nf_run_log(struct nf_run *r, const char *stream, const char *level,
    const char *line)
{
	struct nf_log_rec	 rec;
	struct nf_val		*ev;
	const struct nf_step	*st = NULL;
	int64_t			 seq;

	if (r->job != NULL && r->step < r->job->nsteps &&
	    strcmp(stream, "system") != 0)
		st = &r->job->steps[r->step];
	memset(&rec, 0, sizeof(rec));
	rec.run_id = r->id;
	rec.attempt_id = st != NULL ? r->attempt_id : 0;
	rec.ts = nf_now_ms();
	rec.step = st != NULL ? st->name : NULL;
	rec.attempt = st != NULL ? r->attempt : 0;
	rec.stream = stream;
	rec.level = level;
	rec.line = line;
	if ((seq = nf_store_log_append(&rec)) <= 0)
		return;		/* dropped past the cap, or store error */
	if (LIST_EMPTY(&r->followers))
		return;
	ev = nf_val_map();
	nf_val_map_set_int(ev, "seq", seq);
	nf_val_map_set_int(ev, "ts", rec.ts);
	nf_val_map_set_str(ev, "step", rec.step);
	nf_val_map_set_int(ev, "attempt", rec.attempt);
	nf_val_map_set_str(ev, "stream", stream);
	nf_val_map_set_str(ev, "level", level);
	nf_val_map_set_str(ev, "line", line);
	run_emit(r, "log", ev);
}

void
nf_run_logf(struct nf_run *r, const char *level, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[2048];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	nf_run_log(r, "system", level, buf);
}

void
nf_run_progress(struct nf_run *r, const struct nf_val *data)
{
	struct nf_val	*ev;

	if (LIST_EMPTY(&r->followers))
		return;
	ev = nf_val_map();
	nf_val_map_set_int(ev, "run_id", r->id);
	nf_val_map_set_str(ev, "state", nf_run_state_name(r->state));
	if (r->job != NULL && r->step < r->job->nsteps)
		nf_val_map_set_str(ev, "step", r->job->steps[r->step].name);
	nf_val_map_set(ev, "progress", nf_val_dup(data));
	run_emit(r, "state", ev);
}

void
nf_run_output(struct nf_run *r, struct nf_val *out)
{
	nf_val_free(r->last_output);
	r->last_output = out;
}

static void
run_emit_state(struct nf_run *r)
{
	struct nf_val	*ev;

	if (LIST_EMPTY(&r->followers))
		return;
	ev = nf_val_map();
	nf_val_map_set_int(ev, "run_id", r->id);
	nf_val_map_set_str(ev, "state", nf_run_state_name(r->state));
	if (r->job != NULL && r->step < r->job->nsteps) {
		nf_val_map_set_str(ev, "step", r->job->steps[r->step].name);
		nf_val_map_set_int(ev, "attempt", r->attempt);
	}
	run_emit(r, "state", ev);
}

void
nf_run_follow(struct nf_run *r, struct nf_client *c, uint64_t gen,
    int64_t req_id)
{
	struct nf_follower	*f;

	f = nf_xcalloc(1, sizeof(*f));
	f->client = c;
	f->req_id = req_id;
	f->client_gen = gen;
	LIST_INSERT_HEAD(&r->followers, f, entry);
}

void
nf_run_unfollow_client(struct nf_client *c)
{
	struct nf_run		*r;
	struct nf_follower	*f, *tmp;

	TAILQ_FOREACH(r, &runs, entry)
		LIST_FOREACH_SAFE(f, &r->followers, entry, tmp)
			if (f->client == c) {
				LIST_REMOVE(f, entry);
				free(f);
			}
}

/* Life cycle. */

static void
run_free(struct nf_run *r)
{
	struct nf_follower	*f;

	while ((f = LIST_FIRST(&r->followers)) != NULL) {
		LIST_REMOVE(f, entry);
		free(f);
	}
	ev_timer_stop(nfd.loop, &r->retry_timer);
	ev_timer_stop(nfd.loop, &r->run_timer);
	nf_cfgref_put(r->cfgref);
	nf_val_free(r->params);
	nf_val_free(r->last_output);
	free(r->job_id);
	free(r->trigger);
	free(r->triggered_by);
	free(r);
}

static void
run_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nf_run	*r = w->data;

	r->timed_out = 1;
	nf_run_logf(r, "error", "run timed out after %d s; stopping",
	    r->job->timeout_seconds);
	if (r->worker != NULL)
		nf_spawn_stop(r->worker, NF_REASON_TIMEOUT);
	else {
		/* Waiting for a retry or a slot. */
		if (r->waiting) {
			TAILQ_REMOVE(&waitq, r, qentry);
			r->waiting = 0;
			nfd.nqueued--;
		}
		ev_timer_stop(loop, &r->retry_timer);
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_TIMEOUT,
		    "run timed out");
	}
}

static void
retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nf_run	*r = w->data;

	run_start_attempt(r);
}

static struct nf_val *
merge_params(const struct nf_val *job, const struct nf_val *run)
{
	struct nf_val	*m;
	size_t		 i;

	m = job != NULL ? nf_val_dup(job) : nf_val_map();
	if (run != NULL && run->type == NF_V_MAP)
		for (i = 0; i < run->u.m.n; i++)
			nf_val_map_set(m, run->u.m.kv[i].key,
			    nf_val_dup(run->u.m.kv[i].val));
	return m;
}

int64_t
nf_run_skip(const struct nf_job *job, const char *trigger,
    int64_t scheduled_for, int64_t active_run)
{
	struct nf_run_rec	 rec;
	int64_t			 id;
	char			 err[128];

	memset(&rec, 0, sizeof(rec));
	rec.job_id = job->id;
	rec.state = NF_RUN_SKIPPED;
	rec.trigger = trigger;
	rec.triggered_by = "cron";
	rec.scheduled_for = scheduled_for;
	rec.params = job->params;
	rec.created_at = nf_now_ms();
	if ((id = nf_store_run_insert(&rec)) <= 0)
		return id;
	snprintf(err, sizeof(err), "previous run %lld still running",
	    (long long)active_run);
	nf_store_run_finish(id, NF_RUN_SKIPPED, NF_REASON_OVERLAP, err, -1,
	    rec.created_at);
	nf_info("job %s: slot skipped (run %lld): %s", job->id,
	    (long long)id, err);
	return id;
}

int64_t
nf_run_trigger(const struct nf_job *job, const char *trigger,
    const char *triggered_by, int64_t scheduled_for,
    const struct nf_val *run_params, int force, int *conflict, char *err,
    size_t errlen)
{
	struct nf_run_rec	 rec;
	struct nf_run		*r, *active;
	int64_t			 id;

	*conflict = 0;
	if (nfd.stopping) {
		snprintf(err, errlen, "nomaflowd is shutting down; "
		    "no new runs are started");
		return -1;
	}
	if (!nfd.store_ok) {
		snprintf(err, errlen, "the run history cannot be written (%s); "
		    "new runs are refused until the store recovers",
		    nfd.store_err != NULL ? nfd.store_err : "store error");
		return -1;
	}
	if ((active = nf_run_find_job(job->id)) != NULL && !force) {
		*conflict = 1;
		snprintf(err, errlen, "job %s is already running (run %lld, "
		    "%s); use --force to start another run", job->id,
		    (long long)active->id, nf_run_state_name(active->state));
		return -1;
	}

	r = nf_xcalloc(1, sizeof(*r));
	r->job_id = nf_xstrdup(job->id);
	r->cfgref = nf_cfgref_get();
	r->job = nf_config_job(r->cfgref->cfg, job->id);
	if (r->job == NULL)
		nf_panic("job %s vanished from the current config", job->id);
	r->state = NF_RUN_QUEUED;
	r->trigger = nf_xstrdup(trigger);
	r->triggered_by = nf_xstrdup(triggered_by);
	r->scheduled_for = scheduled_for;
	r->params = merge_params(r->job->params, run_params);
	r->rows_affected = -1;
	LIST_INIT(&r->followers);
	ev_timer_init(&r->retry_timer, retry_cb, 0., 0.);
	r->retry_timer.data = r;
	ev_timer_init(&r->run_timer, run_timeout_cb, 0., 0.);
	r->run_timer.data = r;

	memset(&rec, 0, sizeof(rec));
	rec.job_id = r->job_id;
	rec.state = NF_RUN_QUEUED;
	rec.trigger = trigger;
	rec.triggered_by = triggered_by;
	rec.scheduled_for = scheduled_for;
	rec.params = r->params;
	rec.created_at = nf_now_ms();
	if ((id = nf_store_run_insert(&rec)) <= 0) {
		if (id == 0)
			snprintf(err, errlen, "slot %lld of job %s already "
			    "fired", (long long)scheduled_for, job->id);
		else
			snprintf(err, errlen, "cannot record the run: %s",
			    nf_store_error());
		r->job = NULL;
		run_free(r);
		return id;
	}
	r->id = id;
	TAILQ_INSERT_TAIL(&runs, r, entry);
	nfd.nruns++;
	nf_info("run %lld of job %s triggered by %s (%s)", (long long)id,
	    job->id, triggered_by, trigger);
	nf_run_logf(r, "info", "run %lld of job %s triggered by %s (%s)",
	    (long long)id, job->id, triggered_by, trigger);

	/* The run stays queued until its first step gets a worker slot. */
	if (r->job->timeout_seconds > 0) {
		ev_timer_set(&r->run_timer, r->job->timeout_seconds, 0.);
		ev_timer_start(nfd.loop, &r->run_timer);
	}
	r->step = 0;
	run_next_step(r);
	return id;
}

/* Finish the run: record, notify followers, free. */
static void
run_finish(struct nf_run *r, enum nf_run_event ev, enum nf_reason reason,
    const char *error)
{
	struct nf_val	*end;
	int64_t		 now = nf_now_ms();

	run_transition(r, ev);
	nf_store_run_finish(r->id, r->state, reason, error, r->rows_affected,
	    now);
	nf_info("run %lld of job %s %s%s%s", (long long)r->id, r->job_id,
	    nf_run_state_name(r->state), error != NULL ? ": " : "",
	    error != NULL ? error : "");
	nf_run_logf(r, r->state == NF_RUN_SUCCEEDED ? "info" : "error",
	    "run %lld %s%s%s", (long long)r->id, nf_run_state_name(r->state),
	    error != NULL ? ": " : "", error != NULL ? error : "");
	end = nf_val_map();
	nf_val_map_set_int(end, "run_id", r->id);
	nf_val_map_set_str(end, "state", nf_run_state_name(r->state));
	if (reason != NF_REASON_NONE)
		nf_val_map_set_str(end, "reason", nf_reason_name(reason));
	if (error != NULL)
		nf_val_map_set_str(end, "error", error);
	run_emit(r, "end", end);
	TAILQ_REMOVE(&runs, r, entry);
	nfd.nruns--;
	run_free(r);
	nf_daemon_maybe_exit();
}

/* queued -> running, the first time the run gets a worker slot. */
static void
run_mark_running(struct nf_run *r)
{
	if (r->state != NF_RUN_QUEUED)
		return;
	run_transition(r, NF_RUN_EV_START);
	nf_store_run_start(r->id, nf_now_ms());
	run_emit_state(r);
}

/* Advance to the next enabled step, or finish. */
static void
run_next_step(struct nf_run *r)
{
	const struct nf_step	*st;
	struct nf_attempt_rec	 arec;
	struct nf_attempt_end	 aend;

	while (r->step < r->job->nsteps && !r->job->steps[r->step].enabled) {
		st = &r->job->steps[r->step];
		memset(&arec, 0, sizeof(arec));
		arec.run_id = r->id;
		arec.step_idx = (int)r->step;
		arec.step_name = st->name;
		arec.step_type = st->type;
		arec.attempt = 1;
		r->attempt = 1;
		r->att_state = NF_ATT_PENDING;
		r->attempt_id = nf_store_attempt_insert(&arec, nf_now_ms());
		att_transition(r, NF_ATT_EV_SKIP);
		memset(&aend, 0, sizeof(aend));
		aend.state = NF_ATT_SKIPPED;
		aend.error = "step disabled";
		aend.exit_code = -1;
		aend.rows_affected = -1;
		aend.finished_at = nf_now_ms();
		if (r->attempt_id > 0)
			nf_store_attempt_finish(r->attempt_id, &aend);
		nf_run_logf(r, "info", "step %s skipped: disabled", st->name);
		r->step++;
	}
	if (r->step >= r->job->nsteps) {
		run_mark_running(r);	/* every step was disabled */
		run_finish(r, NF_RUN_EV_SUCCEED, NF_REASON_NONE, NULL);
		return;
	}
	r->attempt = 1;
	run_start_attempt(r);
}

static void
run_start_attempt(struct nf_run *r)
{
	const struct nf_step	*st = &r->job->steps[r->step];
	struct nf_attempt_rec	 arec;
	struct nf_step_outcome	 o;
	char			 err[512];

	if (nfd.stopping) {
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_INTERRUPTED,
		    "interrupted: nomaflowd stopped before the step started");
		return;
	}
	if (nfd.nworkers >= r->cfgref->cfg->max_workers ||
	    nfd.nworkers >= nfd.cur->cfg->max_workers) {
		if (!r->waiting) {
			r->waiting = 1;
			nfd.nqueued++;
			TAILQ_INSERT_TAIL(&waitq, r, qentry);
		}
		return;
	}
	run_mark_running(r);
	memset(&arec, 0, sizeof(arec));
	arec.run_id = r->id;
	arec.step_idx = (int)r->step;
	arec.step_name = st->name;
	arec.step_type = st->type;
	arec.attempt = r->attempt;
	r->att_state = NF_ATT_PENDING;
	if ((r->attempt_id = nf_store_attempt_insert(&arec,
	    nf_now_ms())) <= 0) {
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_ERROR,
		    "cannot record the step attempt in the store");
		return;
	}
	if (r->job->retry.attempts > 1)
		nf_run_logf(r, "info", "step %s (%s) attempt %d of %d",
		    st->name, st->type, r->attempt, r->job->retry.attempts);
	else
		nf_run_logf(r, "info", "step %s (%s) started", st->name,
		    st->type);
	if (nf_spawn_step(r, st, err, sizeof(err)) == -1) {
		memset(&o, 0, sizeof(o));
		o.state = NF_ATT_FAILED;
		o.reason = NF_REASON_ERROR;
		o.error = nf_xstrdup(err);
		o.exit_code = -1;
		o.rows_affected = -1;
		nf_run_worker_done(r, &o);
		return;
	}
	att_transition(r, NF_ATT_EV_SPAWN);
	run_emit_state(r);
}

void
nf_run_kick(void)
{
	struct nf_run	*r;

	while ((r = TAILQ_FIRST(&waitq)) != NULL &&
	    nfd.nworkers < nfd.cur->cfg->max_workers) {
		TAILQ_REMOVE(&waitq, r, qentry);
		r->waiting = 0;
		nfd.nqueued--;
		run_start_attempt(r);
	}
}

void
nf_run_worker_done(struct nf_run *r, struct nf_step_outcome *o)
{
	const struct nf_step	*st = &r->job->steps[r->step];
	const struct nf_retry	*rp = &r->job->retry;
	struct nf_attempt_end	 aend;
	enum nf_att_event	 ev;
	int64_t			 delay;
	char			*msg;

	r->worker = NULL;
	ev = o->state == NF_ATT_SUCCEEDED ? NF_ATT_EV_SUCCEED :
	    o->state == NF_ATT_CANCELED ? NF_ATT_EV_CANCEL : NF_ATT_EV_FAIL;
	att_transition(r, ev);
	memset(&aend, 0, sizeof(aend));
	aend.state = r->att_state;
	aend.reason = o->reason;
	aend.error = o->error;
	aend.exit_code = o->exit_code;
	aend.signal = o->signal;
	aend.rows_affected = o->rows_affected;
	aend.output = o->output;
	aend.finished_at = nf_now_ms();
	nf_store_attempt_finish(r->attempt_id, &aend);

	if (o->state == NF_ATT_SUCCEEDED) {
		if (o->rows_affected >= 0)
			nf_run_logf(r, "info", "step %s succeeded (%lld rows "
			    "affected)", st->name,
			    (long long)o->rows_affected);
		else
			nf_run_logf(r, "info", "step %s succeeded", st->name);
		if (o->rows_affected >= 0)
			r->rows_affected = (r->rows_affected < 0 ? 0 :
			    r->rows_affected) + o->rows_affected;
		nf_val_free(o->output);
		free(o->error);
		r->step++;
		run_next_step(r);
		nf_run_kick();
		return;
	}

	nf_run_logf(r, "error", "step %s attempt %d %s (%s): %s", st->name,
	    r->attempt, nf_attempt_state_name(r->att_state),
	    nf_reason_name(o->reason), o->error != NULL ? o->error : "");
	if (o->state == NF_ATT_CANCELED || r->cancel_requested) {
		msg = nf_xprintf("canceled during step %s", st->name);
		run_finish(r, NF_RUN_EV_CANCEL, NF_REASON_CANCELED, msg);
	} else if (r->timed_out) {
		msg = nf_xprintf("run timed out after %d s during step %s",
		    r->job->timeout_seconds, st->name);
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_TIMEOUT, msg);
	} else if (nfd.stopping || o->reason == NF_REASON_INTERRUPTED) {
		msg = nf_xprintf("interrupted: nomaflowd stopped during step "
		    "%s", st->name);
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_INTERRUPTED, msg);
	} else if (r->attempt < rp->attempts &&
	    nf_retry_retryable(o->reason)) {
		delay = nf_retry_delay_ms(rp->backoff == NF_BACKOFF_EXPONENTIAL,
		    rp->base_seconds, rp->max_seconds, r->attempt + 1);
		r->attempt++;
		nf_run_logf(r, "warn", "retrying step %s in %.1f s (attempt "
		    "%d of %d)", st->name, (double)delay / 1000.0, r->attempt,
		    rp->attempts);
		ev_timer_set(&r->retry_timer, (double)delay / 1000.0, 0.);
		ev_timer_start(nfd.loop, &r->retry_timer);
		msg = NULL;
	} else {
		msg = nf_xprintf("step %s failed (%s): %s", st->name,
		    nf_reason_name(o->reason),
		    o->error != NULL ? o->error : "no detail");
		run_finish(r, NF_RUN_EV_FAIL, o->reason, msg);
	}
	free(msg);
	nf_val_free(o->output);
	free(o->error);
	nf_run_kick();
}

int
nf_run_cancel(struct nf_run *r, const char *by)
{
	char	*msg;

	if (r->cancel_requested)
		return 0;
	r->cancel_requested = 1;
	nf_run_logf(r, "warn", "cancel requested by %s", by);
	if (r->worker != NULL) {
		nf_spawn_stop(r->worker, NF_REASON_CANCELED);
		return 0;
	}
	/* Not running a step: waiting for a slot or a retry. */
	if (r->waiting) {
		TAILQ_REMOVE(&waitq, r, qentry);
		r->waiting = 0;
		nfd.nqueued--;
	}
	ev_timer_stop(nfd.loop, &r->retry_timer);
	msg = nf_xprintf("canceled by %s", by);
	run_finish(r, NF_RUN_EV_CANCEL, NF_REASON_CANCELED, msg);
	free(msg);
	return 0;
}

void
nf_run_shutdown(int force)
{
	struct nf_run	*r, *tmp;

	TAILQ_FOREACH_SAFE(r, &runs, entry, tmp) {
		if (r->worker != NULL) {
			if (force) {
				nf_run_logf(r, "error", "shutdown grace "
				    "expired; killing the worker");
				nf_spawn_kill(r->worker,
				    NF_REASON_INTERRUPTED);
			}
			continue;
		}
		if (r->waiting) {
			TAILQ_REMOVE(&waitq, r, qentry);
			r->waiting = 0;
			nfd.nqueued--;
		}
		ev_timer_stop(nfd.loop, &r->retry_timer);
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_INTERRUPTED,
		    "interrupted: nomaflowd stopped before the next step");
	}
}
