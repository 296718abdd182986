/*
 * run.c: the run engine of nomaflowd.  Owns every active run's state
 * machine (runstate.c), step sequencing, retries with backoff (ev_timer,
 * never sleeping), run timeouts, cancel and the worker-slot queue.  A
 * run's parameters come from params.c; what happens to a run (state,
 * steps, progress, log lines) is published through events.h to whoever
 * subscribed (control.c's followers), never sent to a client from here.
 * Before each attempt it evaluates the step's `when` (supervisor/expr.c)
 * and renders its templates (common/template.c) from the outputs it keeps
 * per step; it runs call_job steps itself as child runs.
 *
 * Invariants: a run is in `runs` from trigger until its terminal state is
 * recorded; it has at most one worker or one child run; every state
 * change is written to the store in the same loop iteration (group commit
 * in main.c); no value of a secret param or of a ${secret.NAME} the run
 * used reaches a log line or the store (each value joins r->secrets, the
 * redaction list, the moment it is opened).
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cron.h"
#include "events.h"
#include "expr.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "nomaflowd.h"
#include "params.h"
#include "run.h"
#include "runstate.h"
#include "scheduler.h"
#include "secret.h"
#include "spawn.h"
#include "steptypes.h"
#include "store.h"
#include "template.h"

static TAILQ_HEAD(, nf_run)	runs = TAILQ_HEAD_INITIALIZER(runs);
static TAILQ_HEAD(, nf_run)	waitq = TAILQ_HEAD_INITIALIZER(waitq);

static void	run_next_step(struct nf_run *);
static void	run_start_attempt(struct nf_run *);
static void	run_finish(struct nf_run *, enum nf_run_event, enum nf_reason,
		    const char *error);
static void	run_call_done(struct nf_run *);
static void	run_secret_add(struct nf_run *, const char *);

/*
 * The run a call_job step is starting: nf_run_trigger_ex() links the new
 * run to it (set only around that call).
 */
static struct nf_run	*call_parent;

/*
 * Runs of a slot (scheduled_for > 0) start their first step from a
 * zero-delay timer, in the next loop iteration: libev invokes every
 * periodic due in an iteration together, so each due slot records its run
 * before any worker is spawned, and with 1,000 jobs due in the same second
 * no slot waits for other jobs' spawns.  (Not an ev_check: one started
 * from a callback is queued only after the next poll, which may block for
 * as long as nothing else happens; not an ev_prepare: the store's group
 * commit runs there and writes must not outlive an iteration.)  Kept by
 * id: a run canceled or finished (shutdown) meanwhile is no longer found
 * and is skipped.
 */
static int64_t		*startq;
static size_t		 nstartq, startq_cap;
static ev_timer		 startq_w;

static void
startq_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nf_run	*r;
	int64_t		*ids = startq;
	size_t		 i, n = nstartq;

	ev_timer_stop(loop, w);
	startq = NULL;
	nstartq = startq_cap = 0;
	for (i = 0; i < n; i++) {
		r = nf_run_find(ids[i]);
		if (r == NULL || r->state != NF_RUN_QUEUED || r->worker !=
		    NULL || r->waiting || r->cancel_requested)
			continue;
		run_next_step(r);
	}
	free(ids);
}

static void
startq_push(int64_t id)
{
	if (nstartq == startq_cap) {
		startq_cap = startq_cap ? startq_cap * 2 : 64;
		startq = nf_xreallocarray(startq, startq_cap,
		    sizeof(*startq));
	}
	startq[nstartq++] = id;
	if (!ev_is_active(&startq_w)) {
		ev_timer_init(&startq_w, startq_cb, 0., 0.);
		ev_timer_start(nfd.loop, &startq_w);
	}
}

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

/*
 * Active runs per hash bucket of job id: a job whose bucket counts none
 * has no active run, so the scheduler's question "is this job running?"
 * costs O(1) instead of a walk over every active run (1,000 slots due in
 * one second against as many queued runs).  A collision only means a
 * walk.
 */
#define JOBF_SIZE	16384
static unsigned		 runs_by_job[JOBF_SIZE];

static size_t
jobf_slot(const char *job_id)
{
	uint32_t	h = 2166136261u;	/* FNV-1a 32 */

	for (; *job_id != '\0'; job_id++)
		h = (h ^ (unsigned char)*job_id) * 16777619u;
	return h % JOBF_SIZE;
}

struct nf_run *
nf_run_find_job(const char *job_id)
{
	struct nf_run	*r;

	if (runs_by_job[jobf_slot(job_id)] == 0)
		return NULL;
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

/* Publish an event of r (data is consumed). */
static void
run_emit(struct nf_run *r, enum nf_event_kind kind, struct nf_val *data)
{
	struct nf_event	ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.run_id = r->id;
	ev.job_id = r->job_id;
	ev.data = data;
	nf_events_publish(&ev);
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
	char			*red;

	/* Values of secret params never reach the log or a follower. */
	red = line != NULL ? nf_secrets_redact(&r->secrets, line) : NULL;
	if (red != NULL)
		line = red;
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
	if ((seq = nf_store_log_append(&rec)) <= 0 ||
	    !nf_events_wanted(NF_EVENT_LOG, r->id)) {
		/* dropped past the cap, store error, or nobody follows */
		free(red);
		return;
	}
	ev = nf_val_map();
	nf_val_map_set_int(ev, "seq", seq);
	nf_val_map_set_int(ev, "ts", rec.ts);
	nf_val_map_set_str(ev, "step", rec.step);
	/* As the store returns it: run-level lines have no attempt. */
	nf_val_map_set(ev, "attempt", st != NULL ? nf_val_int(rec.attempt) :
	    nf_val_nil());
	nf_val_map_set_str(ev, "stream", stream);
	nf_val_map_set_str(ev, "level", level);
	nf_val_map_set_str(ev, "line", line);
	run_emit(r, NF_EVENT_LOG, ev);
	free(red);
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

	/* Kept for run.show while the run is active; shown, so redacted. */
	nf_val_free(r->last_progress);
	r->last_progress = nf_val_dup(data);
	nf_secrets_redact_val(&r->secrets, r->last_progress);
	data = r->last_progress;
	if (!nf_events_wanted(NF_EVENT_PROGRESS, r->id))
		return;
	ev = nf_val_map();
	nf_val_map_set_int(ev, "run_id", r->id);
	nf_val_map_set_str(ev, "state", nf_run_state_name(r->state));
	if (r->job != NULL && r->step < r->job->nsteps)
		nf_val_map_set_str(ev, "step", r->job->steps[r->step].name);
	nf_val_map_set(ev, "progress", nf_val_dup(data));
	run_emit(r, NF_EVENT_PROGRESS, ev);
}

void
nf_run_output(struct nf_run *r, struct nf_val *out)
{
	nf_val_free(r->last_output);
	r->last_output = out;
}

/* The run's state: kind STATE (queued -> running) or STEP (an attempt). */
static void
run_emit_state(struct nf_run *r, enum nf_event_kind kind)
{
	struct nf_val	*ev;

	if (!nf_events_wanted(kind, r->id))
		return;
	ev = nf_val_map();
	nf_val_map_set_int(ev, "run_id", r->id);
	nf_val_map_set_str(ev, "state", nf_run_state_name(r->state));
	if (r->job != NULL && r->step < r->job->nsteps) {
		nf_val_map_set_str(ev, "step", r->job->steps[r->step].name);
		nf_val_map_set_int(ev, "attempt", r->attempt);
	}
	run_emit(r, kind, ev);
}

/* Life cycle. */

static void
run_free(struct nf_run *r)
{
	ev_timer_stop(nfd.loop, &r->retry_timer);
	ev_timer_stop(nfd.loop, &r->run_timer);
	nf_cfgref_put(r->cfgref);
	nf_val_free(r->params);
	nf_val_free(r->run_params);
	nf_val_free(r->last_output);
	nf_val_free(r->last_progress);
	nf_val_free(r->outputs);
	nf_val_free(r->step_rows);
	nf_val_free(r->prev);
	nf_val_free(r->spec);
	nf_val_free(r->child_result);
	nf_secrets_free(&r->secrets);
	free(r->job_id);
	free(r->trigger);
	free(r->triggered_by);
	free(r->preset);
	free(r);
}

static void
run_timeout_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	struct nf_run	*r = w->data, *child;
	char		*msg;

	r->timed_out = 1;
	nf_run_logf(r, "error", "run timed out after %d s; stopping",
	    r->job->timeout_seconds);
	if (r->worker != NULL)
		nf_spawn_stop(r->worker, NF_REASON_TIMEOUT);
	else if (r->child_result != NULL)
		;	/* the called run ended: run_call_done() sees timed_out */
	else if (r->child_id > 0 && (child = nf_run_find(r->child_id)) !=
	    NULL) {
		msg = nf_xprintf("run %lld of job %s (timed out)",
		    (long long)r->id, r->job_id);
		nf_run_cancel(child, msg);
		free(msg);
	} else {
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

	if (r->child_result != NULL) {
		run_call_done(r);	/* the called run ended */
		return;
	}
	run_start_attempt(r);
}

/* Templates: what a new run starts with (trigger). */
static void
run_tmpl_init(struct nf_run *r)
{
	r->outputs = nf_val_map();
	r->step_rows = nf_val_map();
}

/* A value this run must never show: into the redaction list, once. */
static void
run_secret_add(struct nf_run *r, const char *v)
{
	nf_secrets_add(&r->secrets, v, strlen(v));
}

/*
 * ${secret.NAME}: opened from the secret store for this attempt only (the
 * rendered spec lives until the next attempt), redacted from then on.
 */
static struct nf_val *
run_secret_cb(void *arg, const char *name, char *err, size_t errlen)
{
	struct nf_run	*r = arg;
	struct nf_val	*v;
	char		*value;
	int		 rc;

	if ((rc = nf_secret_get(name, &value, err, errlen)) == -1)
		return NULL;
	if (rc == 0) {
		snprintf(err, errlen, "no secret \"%s\" (set it with nfctl "
		    "secret set %s)", name, name);
		return NULL;
	}
	run_secret_add(r, value);
	v = nf_val_str(value);
	nf_secret_wipe(value);
	return v;
}

char *
nf_run_render_secrets(struct nf_run *r, const char *s, char *err,
    size_t errlen)
{
	struct nf_tmpl_ctx	c;

	memset(&c, 0, sizeof(c));
	c.secret = run_secret_cb;
	c.secret_arg = r;
	return nf_tmpl_render_secrets(s, &c, err, errlen);
}

/* What templates and conditions of this run can see now. */
static void
run_tmpl_ctx(const struct nf_run *r, struct nf_tmpl_ctx *c)
{
	struct tm	 tm;
	time_t		 t;

	memset(c, 0, sizeof(*c));
	c->job_id = r->job_id;
	c->run_id = r->id;
	c->triggered_by = r->triggered_by;
	c->base_time = r->base_time;
	/* Date helpers count days in the job's zone. */
	if (r->job->tz != NULL)
		nf_tz_localtime(r->job->tz, r->base_time, &tm);
	else {
		t = (time_t)r->base_time;
		gmtime_r(&t, &tm);
	}
	c->base_y = tm.tm_year + 1900;
	c->base_m = tm.tm_mon + 1;
	c->base_d = tm.tm_mday;
	c->params = r->params;
	c->outputs = r->outputs;
	c->rows = r->step_rows;
	c->prev = r->prev;
	c->secret = run_secret_cb;
	c->secret_arg = (void *)(uintptr_t)r;
}

/* A copy of s with secrets redacted (always a new string, or NULL). */
static char *
run_redact(const struct nf_run *r, const char *s)
{
	char	*red;

	if (s == NULL)
		return NULL;
	red = nf_secrets_redact(&r->secrets, s);
	return red != NULL ? red : nf_xstrdup(s);
}

/*
 * call_job: start the child run for the current step.  The child is linked
 * to this run (parent_id/child_id) and reports back through
 * run_child_ended().  Returns 0, or -1 + err (cycle, unknown job, refused).
 */
static int
run_call_job(struct nf_run *r, char *err, size_t errlen)
{
	const struct nf_job	*job;
	const struct nf_val	*params;
	struct nf_trigger	 t;
	struct nf_run		*p, **chain = NULL;
	struct nf_buf		 b;
	const char		*target;
	char			*by;
	size_t			 n = 0, i;
	int64_t			 id;
	int			 conflict;

	if ((target = nf_val_get_str(r->spec, "job")) == NULL) {
		snprintf(err, errlen, "call_job: job must be a string");
		return -1;
	}
	/* The running chain: this run and every run that called it. */
	for (p = r; p != NULL; p = p->parent_id > 0 ?
	    nf_run_find(p->parent_id) : NULL) {
		chain = nf_xreallocarray(chain, n + 1, sizeof(*chain));
		chain[n++] = p;
		if (strcmp(p->job_id, target) == 0)
			break;
	}
	if (p != NULL) {
		nf_buf_init(&b);
		for (i = n; i-- > 0; )
			nf_buf_printf(&b, "%s (run %lld) -> ", chain[i]->job_id,
			    (long long)chain[i]->id);
		nf_buf_adds(&b, target);
		snprintf(err, errlen, "call_job cycle: %s; a job cannot call "
		    "itself, directly or through the jobs that called it",
		    b.data);
		nf_buf_free(&b);
		free(chain);
		return -1;
	}
	free(chain);
	if ((job = nf_config_job(nfd.cur->cfg, target)) == NULL) {
		snprintf(err, errlen, "call_job: no job \"%s\" in the current "
		    "configuration", target);
		return -1;
	}
	params = nf_val_get(r->spec, "params");
	by = nf_xprintf("job:%s@%lld", r->job_id, (long long)r->id);
	memset(&t, 0, sizeof(t));
	t.trigger = "call_job";
	t.triggered_by = by;
	t.params = params != NULL && params->type == NF_V_MAP ? params : NULL;
	t.force = 1;
	r->child_id = 0;
	call_parent = r;
	id = nf_run_trigger_ex(job, &t, &conflict, err, errlen);
	call_parent = NULL;
	free(by);
	if (id <= 0) {
		if (id == 0)
			snprintf(err, errlen, "call_job: the run of job %s "
			    "could not be recorded", target);
		return -1;
	}
	nf_run_logf(r, "info", "step %s: started run %lld of job %s; "
	    "waiting for it", r->job->steps[r->step].name, (long long)id,
	    target);
	return 0;
}

/*
 * A called run ended: hand its result to the parent on the next loop
 * iteration (the retry timer, idle while the step waits), so that the
 * child is gone before the parent moves on.
 */
static void
run_child_ended(int64_t parent_id, int64_t child_id, enum nf_run_state state,
    const char *error, int64_t rows, const struct nf_val *output)
{
	struct nf_run	*p;
	struct nf_val	*res;

	if ((p = nf_run_find(parent_id)) == NULL || p->child_id != child_id)
		return;
	res = nf_val_map();
	nf_val_map_set_int(res, "run_id", child_id);
	nf_val_map_set_str(res, "state", nf_run_state_name(state));
	if (error != NULL)
		nf_val_map_set_str(res, "error", error);
	nf_val_map_set_int(res, "rows_affected", rows);
	nf_val_map_set(res, "output", output != NULL ? nf_val_dup(output) :
	    nf_val_nil());
	nf_val_free(p->child_result);
	p->child_result = res;
	ev_timer_stop(nfd.loop, &p->retry_timer);
	ev_timer_set(&p->retry_timer, 0., 0.);
	ev_timer_start(nfd.loop, &p->retry_timer);
}

/* The call_job step's outcome from its child's result. */
static void
run_call_done(struct nf_run *r)
{
	struct nf_step_outcome	 o;
	struct nf_val		*res = r->child_result;
	const char		*state, *error;
	int64_t			 rows = -1, cid = r->child_id;

	r->child_result = NULL;
	r->child_id = 0;
	state = nf_val_get_str(res, "state");
	error = nf_val_get_str(res, "error");
	nf_val_get_int(res, "rows_affected", &rows);
	memset(&o, 0, sizeof(o));
	o.exit_code = -1;
	o.rows_affected = -1;
	if (strcmp(state, "succeeded") == 0 && !r->timed_out &&
	    !r->cancel_requested) {
		o.state = NF_ATT_SUCCEEDED;
		o.rows_affected = rows;
		o.output = res;
		res = NULL;
	} else if (r->timed_out) {
		o.state = NF_ATT_FAILED;
		o.reason = NF_REASON_TIMEOUT;
		o.error = nf_xprintf("run timed out; called run %lld %s",
		    (long long)cid, state);
	} else if (r->cancel_requested || strcmp(state, "canceled") == 0) {
		o.state = NF_ATT_CANCELED;
		o.reason = NF_REASON_CANCELED;
		o.error = nf_xprintf("called run %lld canceled%s%s",
		    (long long)cid, error != NULL ? ": " : "",
		    error != NULL ? error : "");
	} else {
		o.state = NF_ATT_FAILED;
		o.reason = nfd.stopping ? NF_REASON_INTERRUPTED :
		    NF_REASON_ERROR;
		o.error = nf_xprintf("called run %lld %s%s%s",
		    (long long)cid, state, error != NULL ? ": " : "",
		    error != NULL ? error : "");
	}
	nf_val_free(res);
	nf_run_worker_done(r, &o);
}

int64_t
nf_run_skip_ex(const struct nf_job *job, const char *preset,
    const char *trigger, const char *triggered_by, int64_t scheduled_for,
    const char *why)
{
	struct nf_run_rec	 rec;
	struct nf_params_decl	 d;
	struct nf_val		*shown;
	int64_t			 id;

	memset(&rec, 0, sizeof(rec));
	rec.job_id = job->id;
	rec.state = NF_RUN_SKIPPED;
	rec.trigger = trigger;
	rec.triggered_by = triggered_by;
	rec.scheduled_for = scheduled_for;
	/* The job's own params, secrets shown as "***" as for any run. */
	nf_params_decl_job(job, &d);
	shown = nf_params_shown(&d, job->params);
	rec.params = shown;
	rec.created_at = nf_now_ms();
	rec.preset = preset;
	id = nf_store_run_insert(&rec);
	nf_val_free(shown);
	if (id <= 0)
		return id;
	nf_store_run_finish(id, NF_RUN_SKIPPED, NF_REASON_OVERLAP, why, -1,
	    rec.created_at);
	nf_metrics_run_end(job->id, "skipped", -1);
	nf_info("job %s: %s fire skipped (run %lld): %s", job->id, trigger,
	    (long long)id, why);
	return id;
}

int64_t
nf_run_skip(const struct nf_job *job, const char *trigger,
    int64_t scheduled_for, int64_t active_run)
{
	char	why[128];

	snprintf(why, sizeof(why), "previous run %lld still running",
	    (long long)active_run);
	return nf_run_skip_ex(job, NULL, trigger, "cron", scheduled_for, why);
}

int
nf_run_job_active(const char *job_id, struct nf_run **held)
{
	struct nf_run	*r;
	int		 n = 0;

	if (held != NULL)
		*held = NULL;
	if (runs_by_job[jobf_slot(job_id)] == 0)
		return 0;
	TAILQ_FOREACH(r, &runs, entry) {
		if (strcmp(r->job_id, job_id) != 0)
			continue;
		if (!r->held)
			n++;
		else if (held != NULL && *held == NULL)
			*held = r;
	}
	return n;
}

int
nf_run_cancel_job(const char *job_id, int64_t except, const char *by)
{
	struct nf_run	*r;
	int64_t		*ids;
	size_t		 n = 0, i;

	/* Ids first: a cancel may end runs and start others. */
	ids = nf_xcalloc((size_t)nfd.nruns + 1, sizeof(*ids));
	TAILQ_FOREACH(r, &runs, entry)
		if (strcmp(r->job_id, job_id) == 0 && r->id != except &&
		    !r->cancel_requested && n < (size_t)nfd.nruns)
			ids[n++] = r->id;
	for (i = 0; i < n; i++)
		if ((r = nf_run_find(ids[i])) != NULL)
			nf_run_cancel(r, by);
	free(ids);
	return (int)n;
}

void
nf_run_release(struct nf_run *r)
{
	if (!r->held)
		return;
	r->held = 0;
	nf_run_logf(r, "info", "the job's previous run ended; starting");
	if (r->job->timeout_seconds > 0) {
		ev_timer_set(&r->run_timer, r->job->timeout_seconds, 0.);
		ev_timer_start(nfd.loop, &r->run_timer);
	}
	r->step = 0;
	run_next_step(r);
}

int64_t
nf_run_trigger(const struct nf_job *job, const char *trigger,
    const char *triggered_by, int64_t scheduled_for,
    const struct nf_val *run_params, int force, int *conflict, char *err,
    size_t errlen)
{
	struct nf_trigger	t;

	memset(&t, 0, sizeof(t));
	t.trigger = trigger;
	t.triggered_by = triggered_by;
	t.scheduled_for = scheduled_for;
	t.params = run_params;
	t.force = force;
	return nf_run_trigger_ex(job, &t, conflict, err, errlen);
}

/*
 * The checks every new run passes; the job's preset (NULL if none asked)
 * in *preset.  -1 with err set if the run cannot be created.
 */
static int
run_trigger_check(const struct nf_job *job, const struct nf_trigger *t,
    const struct nf_preset **preset, char *err, size_t errlen)
{
	*preset = NULL;
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
	if (t->preset != NULL &&
	    (*preset = nf_config_preset(job, t->preset)) == NULL) {
		snprintf(err, errlen, "job %s has no preset \"%s\" (nfctl job "
		    "show %s lists its presets)", job->id, t->preset, job->id);
		return -1;
	}
	return 0;
}

/*
 * Write the row of a new run: the slot ledger for a scheduled one.
 * snapshot is the resolved params as the history shows them (secrets
 * "***").  created_at is read from the clock right before the insert.
 * Returns the id, 0 if the slot already fired, -1 on error with err set.
 */
static int64_t
run_insert_row(const char *job_id, const struct nf_trigger *t,
    const struct nf_val *snapshot, const char *preset, int64_t *created_at,
    char *err, size_t errlen)
{
	struct nf_run_rec	 rec;
	int64_t			 id;

	memset(&rec, 0, sizeof(rec));
	rec.job_id = job_id;
	rec.state = NF_RUN_QUEUED;
	rec.trigger = t->trigger;
	rec.triggered_by = t->triggered_by;
	rec.scheduled_for = t->scheduled_for;
	rec.params = snapshot;
	rec.preset = preset;
	rec.created_at = nf_now_ms();
	id = nf_store_run_insert(&rec);
	*created_at = rec.created_at;
	if (id == 0)
		snprintf(err, errlen, "slot %lld of job %s already fired",
		    (long long)t->scheduled_for, job_id);
	else if (id < 0)
		snprintf(err, errlen, "cannot record the run: %s",
		    nf_store_error());
	return id;
}

/*
 * The run's params: resolved by the caller (t->resolved, moved out) or
 * here.  pj is the job as the run sees it (a preset's).
 */
static int
run_params(const struct nf_job *pj, const struct nf_trigger *t,
    struct nf_params *p, char *err, size_t errlen)
{
	size_t	i;

	if (t->resolved != NULL)
		nf_params_move(p, t->resolved);
	else if (nf_params_resolve_job(pj, t->params, p, err, errlen) == -1)
		return -1;
	/*
	 * A call_job child may have been handed its parent's secrets (a
	 * ${secret.NAME} or secret param as one of its params): they stay
	 * hidden in its history and logs too.
	 */
	for (i = 0; call_parent != NULL && i < call_parent->secrets.n; i++)
		nf_secrets_add(&p->secrets, call_parent->secrets.v[i],
		    call_parent->secrets.len[i]);
	if (call_parent != NULL && p->snapshot != NULL)
		nf_secrets_redact_val(&call_parent->secrets, p->snapshot);
	return 0;
}

/*
 * A new run in memory, not yet recorded nor listed; it takes the resolved
 * params (p is left empty).
 */
static struct nf_run *
run_new(const struct nf_job *job, const struct nf_trigger *t,
    struct nf_params *p)
{
	const struct nf_preset	*preset;
	struct nf_run		*r;

	r = nf_xcalloc(1, sizeof(*r));
	r->job_id = nf_xstrdup(job->id);
	r->cfgref = nf_cfgref_get();
	r->job = nf_config_job(r->cfgref->cfg, job->id);
	if (r->job == NULL)
		nf_panic("job %s vanished from the current config", job->id);
	if (t->preset != NULL) {
		if ((preset = nf_config_preset(r->job, t->preset)) == NULL)
			nf_panic("preset %s of job %s vanished from the "
			    "current config", t->preset, job->id);
		r->job = preset->job;
		r->preset = nf_xstrdup(preset->name);
	}
	r->state = NF_RUN_QUEUED;
	r->trigger = nf_xstrdup(t->trigger);
	r->triggered_by = nf_xstrdup(t->triggered_by);
	r->scheduled_for = t->scheduled_for;
	/* The merged and given maps and the secrets move into the run. */
	r->params = p->merged;
	r->run_params = p->given;
	r->secrets = p->secrets;
	p->merged = p->given = NULL;
	memset(&p->secrets, 0, sizeof(p->secrets));
	nf_params_clear(p);
	r->rows_affected = -1;
	run_tmpl_init(r);
	ev_timer_init(&r->retry_timer, retry_cb, 0., 0.);
	r->retry_timer.data = r;
	ev_timer_init(&r->run_timer, run_timeout_cb, 0., 0.);
	r->run_timer.data = r;
	return r;
}

/*
 * A recorded run joins the active runs: logged, then held behind the
 * job's active run (active, hold), queued to start in the next loop
 * iteration (a slot) or started.
 */
static void
run_publish(struct nf_run *r, int64_t id, int64_t created_at,
    const struct nf_trigger *t, struct nf_run *active)
{
	r->id = id;
	r->base_time = r->scheduled_for > 0 ? r->scheduled_for :
	    created_at / 1000;
	if (call_parent != NULL) {
		r->parent_id = call_parent->id;
		call_parent->child_id = id;
	}
	TAILQ_INSERT_TAIL(&runs, r, entry);
	runs_by_job[jobf_slot(r->job_id)]++;
	nfd.nruns++;
	NF_FAULT("after_run_insert");
	nf_info("run %lld of job %s triggered by %s (%s)", (long long)id,
	    r->job_id, r->triggered_by, r->trigger);
	nf_run_logf(r, "info", "run %lld of job %s triggered by %s (%s)%s%s",
	    (long long)id, r->job_id, r->triggered_by, r->trigger,
	    r->preset != NULL ? ", preset " : "",
	    r->preset != NULL ? r->preset : "");
	if (t->hold && active != NULL) {
		r->held = 1;
		nf_run_logf(r, "info", "queued behind run %lld (overlap = "
		    "queue)", (long long)active->id);
		return;
	}

	/* The run stays queued until its first step gets a worker slot. */
	if (r->job->timeout_seconds > 0) {
		ev_timer_set(&r->run_timer, r->job->timeout_seconds, 0.);
		ev_timer_start(nfd.loop, &r->run_timer);
	}
	r->step = 0;
	if (r->scheduled_for > 0) {
		startq_push(r->id);
		return;
	}
	run_next_step(r);
}

int64_t
nf_run_trigger_ex(const struct nf_job *job, const struct nf_trigger *t,
    int *conflict, char *err, size_t errlen)
{
	const struct nf_preset	*preset;
	struct nf_run		*active;
	struct nf_params	 p;
	int64_t			 id, created_at;

	*conflict = 0;
	if (run_trigger_check(job, t, &preset, err, errlen) == -1)
		return -1;
	if ((active = nf_run_find_job(job->id)) != NULL && !t->force) {
		*conflict = 1;
		snprintf(err, errlen, "job %s is already running (run %lld, "
		    "%s); use --force to start another run", job->id,
		    (long long)active->id, nf_run_state_name(active->state));
		return -1;
	}
	if (run_params(preset != NULL ? preset->job : job, t, &p, err,
	    errlen) == -1)
		return -1;
	id = run_insert_row(job->id, t, p.snapshot, preset != NULL ?
	    preset->name : NULL, &created_at, err, errlen);
	if (id <= 0) {
		nf_params_clear(&p);
		return id;
	}
	run_publish(run_new(job, t, &p), id, created_at, t, active);
	return id;
}

int64_t
nf_run_record(const struct nf_job *job, const struct nf_trigger *t,
    int64_t *created_at, char *err, size_t errlen)
{
	const struct nf_preset	*preset;
	struct nf_params	 p;
	int64_t			 id;

	*created_at = 0;
	if (run_trigger_check(job, t, &preset, err, errlen) == -1 ||
	    run_params(preset != NULL ? preset->job : job, t, &p, err,
	    errlen) == -1)
		return -1;
	id = run_insert_row(job->id, t, p.snapshot, preset != NULL ?
	    preset->name : NULL, created_at, err, errlen);
	nf_params_clear(&p);
	return id;
}

void
nf_run_adopt(const struct nf_job *job, const struct nf_trigger *t,
    int64_t id, int64_t created_at)
{
	const struct nf_preset	*preset = NULL;
	struct nf_params	 p;
	char			 err[512];

	/* nf_run_record() resolved the same params in this iteration. */
	if (t->preset != NULL)
		preset = nf_config_preset(job, t->preset);
	if (nf_params_resolve_job(preset != NULL ? preset->job : job,
	    t->params, &p, err, sizeof(err)) == -1)
		nf_panic("run %lld of job %s: params resolved at record, not "
		    "at adopt: %s", (long long)id, job->id, err);
	run_publish(run_new(job, t, &p), id, created_at, t, NULL);
}

/* Finish the run: record, tell the subscribers, free. */
static void
run_finish(struct nf_run *r, enum nf_run_event ev, enum nf_reason reason,
    const char *error)
{
	struct nf_val		*end, *out;
	enum nf_run_state	 state;
	char			*job_id, *red;
	int64_t			 now = nf_now_ms(), id, parent, rows;

	red = run_redact(r, error);
	error = red;
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
	run_emit(r, NF_EVENT_END, end);
	TAILQ_REMOVE(&runs, r, entry);
	runs_by_job[jobf_slot(r->job_id)]--;
	nfd.nruns--;
	job_id = nf_xstrdup(r->job_id);
	id = r->id;
	state = r->state;
	parent = r->parent_id;
	rows = r->rows_affected;
	out = r->prev != NULL ? nf_val_map_take(r->prev, "output") : NULL;
	run_free(r);
	if (parent > 0)
		run_child_ended(parent, id, state, error, rows, out);
	nf_val_free(out);
	free(red);
	/* Queued runs of the job and jobs that run after it. */
	nf_sched_run_done(job_id, id, state);
	free(job_id);
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
	run_emit_state(r, NF_EVENT_STATE);
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

/*
 * Pool max_concurrent: how many workers use each pool now.  A step waits
 * in the slot queue while any pool it uses is at its limit.
 */
static struct pool_use {
	char	*name;
	int	 n;
} *pool_uses;
static size_t	npool_uses;

static struct pool_use *
pool_use(const char *name)
{
	size_t	i;

	for (i = 0; i < npool_uses; i++)
		if (strcmp(pool_uses[i].name, name) == 0)
			return &pool_uses[i];
	pool_uses = nf_xreallocarray(pool_uses, npool_uses + 1,
	    sizeof(*pool_uses));
	pool_uses[npool_uses].name = nf_xstrdup(name);
	pool_uses[npool_uses].n = 0;
	return &pool_uses[npool_uses++];
}

/* The pools a step's worker connects to (its type says: steptypes.h). */
static void
step_pools(const struct nf_run *r, const struct nf_step *st,
    const struct nf_pool *out[2])
{
	const struct nf_steptype *type;

	out[0] = out[1] = NULL;
	if ((type = nf_steptype_find(st->type)) != NULL)
		nf_steptype_pools(type, r->cfgref->cfg, st, out);
}

/* The first pool of st at its max_concurrent, or NULL. */
static const struct nf_pool *
pool_full(const struct nf_run *r, const struct nf_step *st)
{
	const struct nf_pool	*p[2];
	int			 i;

	step_pools(r, st, p);
	for (i = 0; i < 2; i++)
		if (p[i] != NULL && p[i]->max_concurrent > 0 &&
		    pool_use(p[i]->name)->n >= p[i]->max_concurrent)
			return p[i];
	return NULL;
}

static void
pool_take(struct nf_run *r, const struct nf_step *st)
{
	const struct nf_pool	*p[2];
	int			 i;

	step_pools(r, st, p);
	for (i = 0; i < 2; i++)
		if (p[i] != NULL) {
			pool_use(p[i]->name)->n++;
			r->pools_held[i] = nf_xstrdup(p[i]->name);
		}
}

static void
pool_release(struct nf_run *r)
{
	int	i;

	for (i = 0; i < 2; i++)
		if (r->pools_held[i] != NULL) {
			pool_use(r->pools_held[i])->n--;
			free(r->pools_held[i]);
			r->pools_held[i] = NULL;
		}
}

static void
run_start_attempt(struct nf_run *r)
{
	const struct nf_step	*st = &r->job->steps[r->step];
	const struct nf_steptype *type = nf_steptype_find(st->type);
	struct nf_attempt_rec	 arec;
	struct nf_attempt_end	 aend;
	struct nf_step_outcome	 o;
	struct nf_tmpl_ctx	 c;
	char			 err[512], cerr[512];
	int			 insup = type != NULL && type->in_supervisor;
	int			 cond = 1, rc;
	const struct nf_pool	*pfull = NULL;

	if (nfd.stopping) {
		run_finish(r, NF_RUN_EV_FAIL, NF_REASON_INTERRUPTED,
		    "interrupted: nomaflowd stopped before the step started");
		return;
	}
	/* The condition, on every attempt: it needs no worker slot. */
	if (st->when != NULL) {
		run_tmpl_ctx(r, &c);
		cond = nf_expr_eval_bool(st->when, &c, cerr, sizeof(cerr));
	}
	if (cond == 1 && !insup && (pfull = pool_full(r, st)) != NULL &&
	    !r->waiting)
		nf_run_logf(r, "info", "step %s queued: pool %s is at "
		    "max_concurrent = %d", st->name, pfull->name,
		    pfull->max_concurrent);
	if (cond == 1 && !insup &&
	    (nfd.nworkers >= r->cfgref->cfg->max_workers ||
	    nfd.nworkers >= nfd.cur->cfg->max_workers || pfull != NULL)) {
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
	if (cond == 0) {
		att_transition(r, NF_ATT_EV_SKIP);
		memset(&aend, 0, sizeof(aend));
		aend.state = NF_ATT_SKIPPED;
		aend.error = "condition false";
		aend.exit_code = -1;
		aend.rows_affected = -1;
		aend.finished_at = nf_now_ms();
		nf_store_attempt_finish(r->attempt_id, &aend);
		nf_run_logf(r, "info", "step %s skipped: condition false "
		    "(when %s)", st->name, nf_expr_text(st->when));
		r->step++;
		run_next_step(r);
		return;
	}
	memset(&o, 0, sizeof(o));
	o.state = NF_ATT_FAILED;
	o.reason = NF_REASON_ERROR;
	o.exit_code = -1;
	o.rows_affected = -1;
	if (cond == -1) {
		o.error = nf_xprintf("condition when \"%s\" could not be "
		    "evaluated: %s", nf_expr_text(st->when), cerr);
		nf_run_worker_done(r, &o);
		return;
	}
	/* Templates: the worker gets the rendered spec (spawn.c). */
	nf_val_free(r->spec);
	run_tmpl_ctx(r, &c);
	if (st->spec == NULL)
		r->spec = nf_val_map();
	else if ((r->spec = nf_tmpl_render_val(st->spec, &c, err,
	    sizeof(err))) == NULL) {
		o.error = nf_xprintf("template: %s", err);
		nf_run_worker_done(r, &o);
		return;
	}
	if (r->job->retry.attempts > 1)
		nf_run_logf(r, "info", "step %s (%s) attempt %d of %d",
		    st->name, st->type, r->attempt, r->job->retry.attempts);
	else
		nf_run_logf(r, "info", "step %s (%s) started", st->name,
		    st->type);
	if (insup) {
		/* The attempt runs while the child does. */
		att_transition(r, NF_ATT_EV_SPAWN);
		run_emit_state(r, NF_EVENT_STEP);
		if ((rc = run_call_job(r, err, sizeof(err))) == -1) {
			o.error = nf_xstrdup(err);
			nf_run_worker_done(r, &o);
		}
		return;
	}
	if (nf_spawn_step(r, st, err, sizeof(err)) == -1) {
		o.error = nf_xstrdup(err);
		nf_run_worker_done(r, &o);
		return;
	}
	pool_take(r, st);
	att_transition(r, NF_ATT_EV_SPAWN);
	run_emit_state(r, NF_EVENT_STEP);
}

void
nf_run_kick(void)
{
	struct nf_run	*r;
	int		 n;

	/* Each waiting run once: one blocked on a full pool goes back. */
	n = nfd.nqueued;
	while (n-- > 0 && (r = TAILQ_FIRST(&waitq)) != NULL &&
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
	struct nf_val		*stored;
	enum nf_att_event	 ev;
	int64_t			 delay;
	char			*msg;

	r->worker = NULL;
	pool_release(r);
	nf_val_free(r->last_progress);
	r->last_progress = NULL;
	NF_FAULT("after_result");
	/* History and logs never show a secret param's value. */
	if (o->error != NULL && r->secrets.n > 0) {
		msg = run_redact(r, o->error);
		free(o->error);
		o->error = msg;
	}
	stored = NULL;
	if (o->output != NULL && r->secrets.n > 0) {
		stored = nf_val_dup(o->output);
		nf_secrets_redact_val(&r->secrets, stored);
	}
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
	aend.output = stored != NULL ? stored : o->output;
	aend.finished_at = nf_now_ms();
	nf_store_attempt_finish(r->attempt_id, &aend);
	nf_metrics_attempt(st->type, nf_reason_name(o->state ==
	    NF_ATT_SUCCEEDED ? NF_REASON_NONE : o->reason));
	nf_val_free(stored);

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
		/* Later steps' templates and conditions see this outcome. */
		nf_val_map_set_int(r->step_rows, st->name, o->rows_affected);
		nf_val_free(r->prev);
		r->prev = nf_val_map();
		nf_val_map_set_str(r->prev, "step", st->name);
		nf_val_map_set_int(r->prev, "rows_affected", o->rows_affected);
		if (o->output != NULL) {
			nf_val_map_set(r->prev, "output",
			    nf_val_dup(o->output));
			nf_val_map_set(r->outputs, st->name, o->output);
		}
		free(o->error);
		r->step++;
		NF_FAULT("between_steps");
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
	struct nf_run	*child;
	char		*msg;

	if (r->cancel_requested)
		return 0;
	r->cancel_requested = 1;
	nf_run_logf(r, "warn", "cancel requested by %s", by);
	if (r->worker != NULL) {
		nf_spawn_stop(r->worker, NF_REASON_CANCELED);
		return 0;
	}
	/* A call_job step: cancel the called run; it reports back. */
	if (r->child_result != NULL)
		return 0;	/* its result is on the way */
	if (r->child_id > 0 && (child = nf_run_find(r->child_id)) != NULL) {
		msg = nf_xprintf("run %lld of job %s (canceled by %s)",
		    (long long)r->id, r->job_id, by);
		nf_run_cancel(child, msg);
		free(msg);
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
		/* Waiting for a called run: ends when that run does. */
		if (r->child_id > 0 || r->child_result != NULL)
			continue;
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
