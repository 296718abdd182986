/*
 * scheduler.c: everything that fires runs without a user asking, in
 * nomaflowd: schedule timers, catch-up, jitter, overlap policies, the
 * runtime enable/disable toggle and dependencies (`after`).
 *
 * A source is a job's own schedule or a preset's schedule; each has one
 * absolute wall-clock ev_periodic armed at slot + jitter(slot).  A host
 * clock step neither loses nor repeats a slot: libev re-evaluates absolute
 * periodics when the clock jumps; a step back only delays the armed slot,
 * a step forward fires it, and the slots jumped over go through the
 * catch-up policy like slots missed while the daemon was down.
 *
 * Invariants:
 * - every scheduled fire (cron or catchup, run or skipped) writes its run
 *   row, UNIQUE(job_id, scheduled_for), before any worker starts: a slot
 *   never produces two runs, across restarts, reloads and clock jumps;
 * - the slot armed is always after the newest slot in the ledger for the
 *   source (and after the newest handled in memory, should a store write
 *   have failed), so nothing already fired is re-armed;
 * - catch-up starts from the ledger: a source with no recorded slot has
 *   missed nothing.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cron.h"
#include "fault.h"
#include "log.h"
#include "nomaflowd.h"
#include "run.h"
#include "scheduler.h"
#include "slots.h"
#include "store.h"

/* Most runs one catch-up of one source starts (catchup = "all"). */
#define SCHED_CATCHUP_MAX	1000

struct sched_src {
	char		*job_id;
	char		*preset;	/* NULL: the job's own schedule */
	int64_t		 slot;		/* armed slot, 0 = none */
	int64_t		 done;		/* newest slot handled in memory */
	ev_periodic	 w;
};

/*
 * What nf_slots_*() ask the next slot of: a preset's schedule (cron, tz),
 * or the union of the job's own schedules (job).
 */
struct src_view {
	const struct nf_job	*job;
	const struct nf_cron	*cron;
	const struct nf_tz	*tz;
};

static struct sched_src	*srcs;
static size_t		 nsrcs;

int64_t
nf_sched_next(const struct nf_job *job, int64_t after, int *flags)
{
	int64_t	 best = -1, t;
	size_t	 i;
	int	 f, bf = 0;

	/* The earliest over every schedule; one instant fires once. */
	for (i = 0; i < job->nschedules; i++) {
		f = 0;
		t = nf_cron_next(job->schedules[i].cron, job->schedules[i].tz,
		    after, &f);
		if (t > 0 && (best < 0 || t < best)) {
			best = t;
			bf = f;
		} else if (t > 0 && t == best)
			bf |= f;
	}
	if (flags != NULL)
		*flags = bf;
	return best;
}

static int64_t
view_next(void *arg, int64_t after)
{
	const struct src_view	*v = arg;

	if (v->job != NULL)
		return nf_sched_next(v->job, after, NULL);
	return nf_cron_next(v->cron, v->tz, after, NULL);
}

int
nf_sched_job_enabled(const struct nf_job *job)
{
	int	en;

	if ((en = nf_store_job_enabled_get(job->id)) >= 0)
		return en;
	return job->enabled;
}

/* The job and view of a source; NULL if it no longer exists. */
static const struct nf_job *
src_job(const struct sched_src *e, struct src_view *v)
{
	const struct nf_job	*job;
	const struct nf_preset	*p;

	if ((job = nf_config_job(nfd.cur->cfg, e->job_id)) == NULL)
		return NULL;
	if (e->preset == NULL) {
		v->job = job;
		v->cron = NULL;
		v->tz = NULL;
		return job->nschedules > 0 ? job : NULL;
	}
	if ((p = nf_config_preset(job, e->preset)) == NULL)
		return NULL;
	v->job = NULL;
	v->cron = p->cron;
	v->tz = p->tz != NULL ? p->tz : job->tz;
	return v->cron != NULL ? job : NULL;
}

/*
 * Fire one run of job the way its overlap policy says.  kind: cron,
 * catchup or dependency; slot 0 for dependency fires.  chain: a later slot
 * of one catch-up pass, held behind the earlier ones whatever the policy
 * (catchup = "all" runs the missed slots one after the other).  Returns 1
 * if a run was created (started or held).
 */
static int
sched_dispatch(const struct nf_job *job, const char *preset,
    const char *kind, const char *by, int64_t slot, int chain)
{
	struct nf_trigger	 t;
	struct nf_run		*active, *held;
	char			 err[512], why[256], cby[128];
	int64_t			 id;
	int			 conflict;

	memset(&t, 0, sizeof(t));
	t.trigger = kind;
	t.triggered_by = by;
	t.scheduled_for = slot;
	t.preset = preset;
	if ((active = nf_run_find_job(job->id)) != NULL && chain) {
		t.hold = 1;
		t.force = 1;
	} else if (active != NULL) {
		switch (job->overlap) {
		case NF_OVERLAP_SKIP:
			snprintf(why, sizeof(why), "run %lld of the job is "
			    "still active (overlap = skip)",
			    (long long)active->id);
			nf_run_skip_ex(job, preset, kind, by, slot, why);
			return 0;
		case NF_OVERLAP_QUEUE:
			nf_run_job_active(job->id, &held);
			if (held != NULL) {
				snprintf(why, sizeof(why), "run %lld is "
				    "already queued behind the active run "
				    "(overlap = queue keeps one)",
				    (long long)held->id);
				nf_run_skip_ex(job, preset, kind, by, slot,
				    why);
				return 0;
			}
			t.hold = 1;
			break;
		case NF_OVERLAP_ALLOW:
		case NF_OVERLAP_CANCEL:
			break;
		}
		t.force = 1;
	}
	id = nf_run_trigger_ex(job, &t, &conflict, err, sizeof(err));
	if (id < 0) {
		nf_warnx("job %s: %s fire%s not started: %s", job->id, kind,
		    slot > 0 ? " of a slot" : "", err);
		return 0;
	}
	if (id == 0) {
		nf_info("job %s: slot %lld already fired", job->id,
		    (long long)slot);
		return 0;
	}
	if (active != NULL && !chain && job->overlap == NF_OVERLAP_CANCEL) {
		snprintf(cby, sizeof(cby), "overlap = cancel_previous (run "
		    "%lld)", (long long)id);
		nf_run_cancel_job(job->id, id, cby);
	}
	return 1;
}

/*
 * Catch up what the source missed up to now, then arm its next slot.
 * Called at load (start, reload), when the job is enabled, and after
 * each fire (a clock step forward may have jumped slots).  chain: the fire
 * just started a run, so slots caught up now queue behind it.
 */
static void
src_start(struct sched_src *e, int64_t now, int chain)
{
	const struct nf_job	*job;
	struct src_view		 v;
	int64_t			 last, next, at, *miss;
	size_t			 n, elig, i;
	static const char *const pol[] = { "latest", "none", "all" };

	ev_periodic_stop(nfd.loop, &e->w);
	e->slot = 0;
	if (nfd.stopping || (job = src_job(e, &v)) == NULL ||
	    !nf_sched_job_enabled(job))
		return;
	if ((last = nf_store_last_slot_preset(job->id, e->preset)) < 0)
		last = now;	/* unreadable ledger: never fire the past */
	if (e->done > last)
		last = e->done;

	miss = nf_xcalloc(SCHED_CATCHUP_MAX, sizeof(*miss));
	n = nf_slots_catchup(view_next, &v, job->id, job->jitter, last, now,
	    job->catchup_window, (int)job->catchup, miss, SCHED_CATCHUP_MAX,
	    &elig);
	if (elig > 0)
		nf_info("job %s%s%s: %zu slot%s missed within catchup_window "
		    "(%d s); catchup = %s fires %zu", job->id,
		    e->preset != NULL ? " preset " : "",
		    e->preset != NULL ? e->preset : "", elig,
		    elig == 1 ? "" : "s", job->catchup_window,
		    pol[job->catchup], n);
	for (i = 0; i < n && !nfd.stopping; i++) {
		chain = sched_dispatch(job, e->preset, "catchup", "cron",
		    miss[i], chain);
		e->done = miss[i];
		NF_FAULT("catchup");
	}
	free(miss);
	if (nfd.stopping)
		return;
	if (e->done > last)
		last = e->done;

	if ((next = nf_slots_pending(view_next, &v, job->id, job->jitter,
	    last, now)) <= 0) {
		nf_warnx("job %s%s%s: the schedule has no future fire time",
		    job->id, e->preset != NULL ? " preset " : "",
		    e->preset != NULL ? e->preset : "");
		return;
	}
	at = next + nf_slots_jitter(job->id, next, job->jitter);
	e->slot = next;
	ev_periodic_set(&e->w, (ev_tstamp)at, 0., NULL);
	ev_periodic_start(nfd.loop, &e->w);
	nf_debug("job %s%s%s: next slot %lld, fires at %lld", job->id,
	    e->preset != NULL ? " preset " : "",
	    e->preset != NULL ? e->preset : "", (long long)next,
	    (long long)at);
}

static void
sched_fire_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct sched_src	*e = w->data;
	const struct nf_job	*job;
	struct src_view		 v;
	int64_t			 slot = e->slot, now, at;
	int			 fired = 0;

	ev_periodic_stop(loop, w);
	if (slot <= 0 || (job = src_job(e, &v)) == NULL)
		return;
	if (!nfd.stopping && nf_sched_job_enabled(job))
		fired = sched_dispatch(job, e->preset, "cron", "cron", slot,
		    0);
	if (slot > e->done)
		e->done = slot;
	/* time() may read a hair below the libev instant that fired. */
	at = slot + nf_slots_jitter(job->id, slot, job->jitter);
	if ((now = time(NULL)) < at)
		now = at;
	src_start(e, now, fired);
}

void
nf_sched_stop(void)
{
	size_t	i;

	for (i = 0; i < nsrcs; i++) {
		ev_periodic_stop(nfd.loop, &srcs[i].w);
		free(srcs[i].job_id);
		free(srcs[i].preset);
	}
	free(srcs);
	srcs = NULL;
	nsrcs = 0;
}

static void
src_add(const char *job_id, const char *preset, int64_t done)
{
	struct sched_src	*e = &srcs[nsrcs++];

	e->job_id = nf_xstrdup(job_id);
	e->preset = preset != NULL ? nf_xstrdup(preset) : NULL;
	e->done = done;
	ev_init(&e->w, sched_fire_cb);
	e->w.data = e;
}

/*
 * What a source of the previous load had handled, or 0.  A source that
 * was armed has handled everything before its armed slot: a reload does
 * not catch up (nothing was missed while it ran), even when the schedule
 * changed.  One that was not armed (job off) catches up per its policy.
 */
static int64_t
old_done(const struct sched_src *old, size_t nold, const char *job_id,
    const char *preset)
{
	size_t	i;

	for (i = 0; i < nold; i++)
		if (strcmp(old[i].job_id, job_id) == 0 &&
		    (preset == NULL ? old[i].preset == NULL :
		    old[i].preset != NULL &&
		    strcmp(old[i].preset, preset) == 0))
			return old[i].slot - 1 > old[i].done ?
			    old[i].slot - 1 : old[i].done;
	return 0;
}

void
nf_sched_load(const struct nf_config *cfg)
{
	const struct nf_job	*job;
	struct sched_src	*old = srcs;
	size_t			 nold = nsrcs, i, j, n;
	int64_t			 now = time(NULL);

	for (i = 0; i < nold; i++)
		ev_periodic_stop(nfd.loop, &old[i].w);
	srcs = NULL;
	nsrcs = 0;
	for (i = 0, n = 0; i < cfg->njobs; i++) {
		n += cfg->jobs[i].nschedules > 0;
		for (j = 0; j < cfg->jobs[i].npresets; j++)
			n += cfg->jobs[i].presets[j].cron != NULL;
	}
	if (n > 0)
		srcs = nf_xcalloc(n, sizeof(*srcs));
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		if (job->nschedules > 0)
			src_add(job->id, NULL,
			    old_done(old, nold, job->id, NULL));
		for (j = 0; j < job->npresets; j++)
			if (job->presets[j].cron != NULL)
				src_add(job->id, job->presets[j].name,
				    old_done(old, nold, job->id,
				    job->presets[j].name));
	}
	for (i = 0; i < nold; i++) {
		free(old[i].job_id);
		free(old[i].preset);
	}
	free(old);
	for (i = 0; i < nsrcs; i++)
		src_start(&srcs[i], now, 0);
}

int
nf_sched_set_enabled(const struct nf_job *job, int enabled, char *err,
    size_t errlen)
{
	size_t	i;

	if (nf_store_job_enabled_set(job->id, enabled) == -1) {
		snprintf(err, errlen, "cannot record the toggle of job %s: %s",
		    job->id, nf_store_error());
		return -1;
	}
	nf_info("job %s %s for scheduled fires", job->id,
	    enabled ? "enabled" : "disabled");
	for (i = 0; i < nsrcs; i++)
		if (strcmp(srcs[i].job_id, job->id) == 0)
			src_start(&srcs[i], time(NULL), 0);
	return 0;
}

void
nf_sched_run_done(const char *job_id, int64_t run_id, enum nf_run_state st)
{
	const struct nf_config	*cfg;
	const struct nf_job	*job;
	struct nf_run		*held;
	char			 by[256];
	size_t			 i, j;

	if (nfd.stopping || nfd.cur == NULL)
		return;
	/* overlap = queue: the held run starts once no other is active. */
	if (nf_run_job_active(job_id, &held) == 0 && held != NULL)
		nf_run_release(held);
	if (st == NF_RUN_SKIPPED)
		return;
	cfg = nfd.cur->cfg;
	snprintf(by, sizeof(by), "job:%s@%lld", job_id, (long long)run_id);
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		for (j = 0; j < job->nafter; j++)
			if (strcmp(job->after[j].job, job_id) == 0)
				break;
		if (j == job->nafter)
			continue;
		if (st != NF_RUN_SUCCEEDED && !job->after_always) {
			nf_debug("job %s: not fired: %s run %lld %s "
			    "(after_on = success)", job->id, job_id,
			    (long long)run_id, nf_run_state_name(st));
			continue;
		}
		if (!nf_sched_job_enabled(job)) {
			nf_info("job %s: disabled; not fired after %s",
			    job->id, by);
			continue;
		}
		sched_dispatch(job, NULL, "dependency", by, 0, 0);
		if (nfd.stopping)
			return;
	}
}
