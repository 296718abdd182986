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
 *
 * Latency (bench/sched.sh, 1,000 slots due in the same second): libev
 * invokes every periodic due in one loop iteration together.  Their
 * callbacks only collect the sources; one burst callback, at a lower
 * priority but in the same iteration, then writes every run row first
 * (nothing but the overlap decision and the insert per slot, so the last
 * row is not late by the other slots' logging, run setup and re-arming),
 * then creates the runs in memory, then re-arms the sources.  What a fire
 * asks is answered from memory: the runtime toggles (cached, written
 * through by nf_sched_set_enabled(), the only writer), the ledger
 * (e->done: only this process writes slots, so after a fire the newest
 * slot of the source is the one it just handled; the store is read at
 * load and on enable) and the dependents of a job (indexed at load).  The
 * kernel delays a poll timeout by 0.1% of its length (30 ms on a 30 s
 * wait) and libev rounds it up to the next millisecond: a timerfd armed at
 * the earliest armed slot (absolute, on the wall clock libev's periodics
 * follow) wakes the loop within a fraction of a millisecond, and libev
 * then fires the periodics due in that same iteration.
 */
#include "autoconf.h"

#include <sys/timerfd.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
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
	int64_t		 at;		/* its fire time, slot + jitter */
	int64_t		 done;		/* newest slot handled in memory */
	size_t		 first;		/* the job's first source in srcs */
	int		 recorded;	/* (first source) a run of the job was
					   recorded in this burst */
	ev_periodic	 w;
};

/* A slot that came, in the burst of its loop iteration. */
struct sched_due {
	struct sched_src *e;
	const struct nf_job *job;	/* NULL: gone from the config */
	int64_t		 slot;
	int64_t		 id;		/* recorded run, 0 = none */
	int64_t		 created_at;
	int		 how;
};
enum { DUE_NONE, DUE_RECORDED, DUE_DISPATCH };

/* A persisted runtime toggle (nfctl job enable/disable). */
struct sched_toggle {
	char		*job_id;
	int		 enabled;
};

/* Job `job` (an index in dep_cfg->jobs) runs after job `after`. */
struct sched_dep {
	const char	*after;
	size_t		 job;
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

static struct sched_due	*due;		/* the burst being collected */
static size_t		 ndue, due_cap;
static ev_check		 burst_w;	/* fed, never started */
static int		 wake_fd = -1;	/* timerfd: see the top of the file */
static ev_io		 wake_w;
static int64_t		 wake_at;	/* what wake_fd is armed at, 0: none */
static int		 sched_inited;

/* Sorted by job id; toggles_ok 0: unreadable, ask the store each time. */
static struct sched_toggle *toggles;
static size_t		 ntoggles, toggles_cap;
static int		 toggles_ok;

/* Sorted by after, then job: the config's `after` lists, inverted. */
static struct sched_dep	*deps;
static size_t		 ndeps;
static const struct nf_config *dep_cfg;

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

static int
toggle_cmp(const void *a, const void *b)
{
	return strcmp(((const struct sched_toggle *)a)->job_id,
	    ((const struct sched_toggle *)b)->job_id);
}

static struct sched_toggle *
toggle_find(const char *job_id)
{
	struct sched_toggle	key;

	if (ntoggles == 0)
		return NULL;
	key.job_id = (char *)job_id;
	return bsearch(&key, toggles, ntoggles, sizeof(*toggles),
	    toggle_cmp);
}

static void
toggles_clear(void)
{
	size_t	i;

	for (i = 0; i < ntoggles; i++)
		free(toggles[i].job_id);
	free(toggles);
	toggles = NULL;
	ntoggles = toggles_cap = 0;
	toggles_ok = 0;
}

/* Append a toggle (nf_store_job_toggles() callback; arg unused). */
static void
toggle_add(void *arg, const char *job_id, int enabled)
{
	if (job_id == NULL)
		return;
	if (ntoggles == toggles_cap) {
		toggles_cap = toggles_cap == 0 ? 16 : toggles_cap * 2;
		toggles = nf_xreallocarray(toggles, toggles_cap,
		    sizeof(*toggles));
	}
	toggles[ntoggles].job_id = nf_xstrdup(job_id);
	toggles[ntoggles++].enabled = enabled;
}

/* (Re)read every toggle from the store; on failure the store is asked. */
static void
toggles_load(void)
{
	toggles_clear();
	if (nf_store_job_toggles(toggle_add, NULL) == -1) {
		nf_warnx("%s; job toggles are read from the store at each "
		    "fire", nf_store_error());
		toggles_clear();
		return;
	}
	if (ntoggles > 0)
		qsort(toggles, ntoggles, sizeof(*toggles), toggle_cmp);
	toggles_ok = 1;
}

/* The store took a toggle: the cache follows. */
static void
toggle_set(const char *job_id, int enabled)
{
	struct sched_toggle	*t, tmp;
	size_t			 i;

	if (!toggles_ok)
		return;
	if ((t = toggle_find(job_id)) != NULL) {
		t->enabled = enabled;
		return;
	}
	toggle_add(NULL, job_id, enabled);
	/* Keep the order: move the new entry down to its place. */
	for (i = ntoggles - 1; i > 0 &&
	    toggle_cmp(&toggles[i - 1], &toggles[i]) > 0; i--) {
		tmp = toggles[i];
		toggles[i] = toggles[i - 1];
		toggles[i - 1] = tmp;
	}
}

int
nf_sched_job_enabled(const struct nf_job *job)
{
	const struct sched_toggle *t;
	int			 en;

	if (toggles_ok) {
		if ((t = toggle_find(job->id)) != NULL)
			return t->enabled;
		return job->enabled;
	}
	if ((en = nf_store_job_enabled_get(job->id)) >= 0)
		return en;
	return job->enabled;
}

static int
dep_cmp(const void *a, const void *b)
{
	const struct sched_dep	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->after, y->after)) != 0)
		return c;
	return x->job < y->job ? -1 : x->job > y->job;
}

/* Invert the `after` lists of cfg (one entry per job and job it follows). */
static void
deps_load(const struct nf_config *cfg)
{
	const struct nf_job	*job;
	size_t			 i, j, k, n = 0;

	free(deps);
	deps = NULL;
	ndeps = 0;
	dep_cfg = cfg;
	for (i = 0; i < cfg->njobs; i++)
		n += cfg->jobs[i].nafter;
	if (n == 0)
		return;
	deps = nf_xcalloc(n, sizeof(*deps));
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		for (j = 0; j < job->nafter; j++) {
			/* A job named twice in one list fires once. */
			for (k = 0; k < j; k++)
				if (strcmp(job->after[k].job,
				    job->after[j].job) == 0)
					break;
			if (k < j)
				continue;
			deps[ndeps].after = job->after[j].job;
			deps[ndeps++].job = i;
		}
	}
	qsort(deps, ndeps, sizeof(*deps), dep_cmp);
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
 * just started a run, so slots caught up now queue behind it.  ledger:
 * read the newest recorded slot from the store (at load and enable);
 * after a fire the source's own e->done is that slot.
 */
static void
src_start(struct sched_src *e, int64_t now, int chain, int ledger)
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
	last = e->done;
	if (ledger && (last = nf_store_last_slot_preset(job->id,
	    e->preset)) < 0)
		last = now;	/* unreadable ledger: never fire the past */
	if (e->done > last)
		last = e->done;

	/* Nothing can be missed in the second that just fired. */
	if (last > 0 && last < now) {
		miss = nf_xcalloc(SCHED_CATCHUP_MAX, sizeof(*miss));
		n = nf_slots_catchup(view_next, &v, job->id, job->jitter,
		    last, now, job->catchup_window, (int)job->catchup, miss,
		    SCHED_CATCHUP_MAX, &elig);
		if (elig > 0)
			nf_info("job %s%s%s: %zu slot%s missed within "
			    "catchup_window (%d s); catchup = %s fires %zu",
			    job->id, e->preset != NULL ? " preset " : "",
			    e->preset != NULL ? e->preset : "", elig,
			    elig == 1 ? "" : "s", job->catchup_window,
			    pol[job->catchup], n);
		for (i = 0; i < n && !nfd.stopping; i++) {
			chain = sched_dispatch(job, e->preset, "catchup",
			    "cron", miss[i], chain);
			e->done = miss[i];
			NF_FAULT("catchup");
		}
		free(miss);
		if (nfd.stopping)
			return;
		if (e->done > last)
			last = e->done;
	}

	if ((next = nf_slots_pending(view_next, &v, job->id, job->jitter,
	    last, now)) <= 0) {
		nf_warnx("job %s%s%s: the schedule has no future fire time",
		    job->id, e->preset != NULL ? " preset " : "",
		    e->preset != NULL ? e->preset : "");
		return;
	}
	at = next + nf_slots_jitter(job->id, next, job->jitter);
	e->slot = next;
	e->at = at;
	ev_periodic_set(&e->w, (ev_tstamp)at, 0., NULL);
	ev_periodic_start(nfd.loop, &e->w);
	nf_debug("job %s%s%s: next slot %lld, fires at %lld", job->id,
	    e->preset != NULL ? " preset " : "",
	    e->preset != NULL ? e->preset : "", (long long)next,
	    (long long)at);
}

/*
 * Arm the timerfd at the earliest armed fire time (0 disarms it).
 * O(sources), once per burst, load and toggle: the only callers of
 * src_start().  Without a timerfd the periodics keep libev's precision.
 */
static void
wake_update(void)
{
	struct itimerspec	its;
	int64_t			min = 0;
	size_t			i;

	if (wake_fd == -1)
		return;
	for (i = 0; i < nsrcs && !nfd.stopping; i++)
		if (srcs[i].slot > 0 && (min == 0 || srcs[i].at < min))
			min = srcs[i].at;
	if (min == wake_at)
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_sec = (time_t)min;
	if (timerfd_settime(wake_fd, TFD_TIMER_ABSTIME, &its, NULL) == -1) {
		nf_warn("scheduler: timerfd_settime; slots fire with the "
		    "event loop's precision");
		ev_io_stop(nfd.loop, &wake_w);
		(void)close(wake_fd);
		wake_fd = -1;
		return;
	}
	wake_at = min;
}

static void
wake_cb(struct ev_loop *loop, ev_io *w, int revents)
{
	uint64_t	n;

	/*
	 * Waking up was the point: libev fires the periodics due now in
	 * this iteration, and their burst (earlier in it) re-armed the
	 * timerfd, which drops the expiration: then this read finds none.
	 * Not re-armed here: a slot libev does not see due yet fires from
	 * its own timeout within a millisecond, where re-arming at a past
	 * instant would spin.
	 */
	if (read(wake_fd, &n, sizeof(n)) == sizeof(n))
		wake_at = 0;		/* expired, not re-armed since */
	else if (errno != EAGAIN && errno != EINTR)
		nf_warn("scheduler: read timerfd");
}

/*
 * The slots of one loop iteration (see the top of the file).  Pass 1
 * writes the rows of the slots whose job has no active run (nor one
 * recorded earlier in this pass); pass 2 creates those runs, then
 * dispatches the others through the overlap policy, seeing every run of
 * pass 1; pass 3 re-arms.
 */
static void
burst_cb(struct ev_loop *loop, ev_check *w, int revents)
{
	struct sched_due	*d, *list = due;
	struct sched_src	*e;
	const struct nf_job	*job;
	struct src_view		 v;
	struct nf_trigger	 t;
	char			 err[512];
	size_t			 i, n = ndue;
	int64_t			 now, at;
	int			 fired;

	due = NULL;
	ndue = due_cap = 0;
	memset(&t, 0, sizeof(t));
	t.trigger = "cron";
	t.triggered_by = "cron";

	/*
	 * Nothing in this callback reloads the config: look up jobs once.
	 * Presets' slots first: where a preset's schedule and the job's own
	 * name the same instant, the slot runs with the preset (the more
	 * specific schedule), whatever order libev invoked them in.
	 */
	for (i = 0; i < 2 * n; i++) {
		d = &list[i % n];
		e = d->e;
		if ((e->preset == NULL) != (i >= n))
			continue;
		if ((job = d->job = src_job(e, &v)) == NULL || nfd.stopping ||
		    !nf_sched_job_enabled(job))
			continue;
		if (srcs[e->first].recorded ||
		    nf_run_find_job(job->id) != NULL) {
			d->how = DUE_DISPATCH;
			continue;
		}
		t.scheduled_for = d->slot;
		t.preset = e->preset;
		d->id = nf_run_record(job, &t, &d->created_at, err,
		    sizeof(err));
		if (d->id < 0)
			nf_warnx("job %s: cron fire of a slot not started: %s",
			    job->id, err);
		else if (d->id == 0)
			nf_info("job %s: slot %lld already fired", job->id,
			    (long long)d->slot);
		else {
			d->how = DUE_RECORDED;
			srcs[e->first].recorded = 1;
			nf_metrics_lateness((d->created_at - 1000 * e->at) /
			    1e3);
		}
	}

	for (i = 0; i < n; i++) {
		d = &list[i];
		e = d->e;
		if (d->how != DUE_RECORDED)
			continue;
		srcs[e->first].recorded = 0;
		t.scheduled_for = d->slot;
		t.preset = e->preset;
		nf_run_adopt(d->job, &t, d->id, d->created_at);
	}
	for (i = 0; i < n; i++) {
		d = &list[i];
		if (d->how == DUE_DISPATCH && !nfd.stopping)
			d->how = sched_dispatch(d->job, d->e->preset, "cron",
			    "cron", d->slot, 0) ? DUE_RECORDED : DUE_NONE;
	}

	for (i = 0; i < n; i++) {
		d = &list[i];
		e = d->e;
		if ((job = d->job) == NULL)
			continue;
		fired = d->how == DUE_RECORDED;
		if (d->slot > e->done)
			e->done = d->slot;
		/* time() may read a hair below the libev instant that fired. */
		at = d->slot + nf_slots_jitter(job->id, d->slot, job->jitter);
		if ((now = time(NULL)) < at)
			now = at;
		src_start(e, now, fired, 0);
	}
	free(list);
	wake_update();
}

/* A slot came: collect it for this iteration's burst. */
static void
sched_fire_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct sched_src	*e = w->data;

	ev_periodic_stop(loop, w);
	if (e->slot <= 0)
		return;
	if (ndue == due_cap) {
		due_cap = due_cap == 0 ? 64 : due_cap * 2;
		due = nf_xreallocarray(due, due_cap, sizeof(*due));
	}
	memset(&due[ndue], 0, sizeof(due[ndue]));
	due[ndue].e = e;
	due[ndue++].slot = e->slot;
	e->slot = 0;
	if (!ev_is_pending(&burst_w))
		ev_feed_event(loop, &burst_w, EV_CUSTOM);
}

/* Sources are about to go: a burst not yet run is dropped with them. */
static void
burst_drop(void)
{
	if (ev_is_pending(&burst_w))
		ev_clear_pending(nfd.loop, &burst_w);
	free(due);
	due = NULL;
	ndue = due_cap = 0;
}

/* Once: the timerfd and its watcher, the burst watcher. */
static void
sched_init(void)
{
	ev_check_init(&burst_w, burst_cb);
	/* After the periodics, before anything else pending. */
	ev_set_priority(&burst_w, EV_MAXPRI - 1);
	if ((wake_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK |
	    TFD_CLOEXEC)) == -1) {
		nf_warn("scheduler: timerfd_create; slots fire with the event "
		    "loop's precision");
		return;
	}
	ev_io_init(&wake_w, wake_cb, wake_fd, EV_READ);
	ev_io_start(nfd.loop, &wake_w);
}

void
nf_sched_stop(void)
{
	size_t	i;

	burst_drop();
	for (i = 0; i < nsrcs; i++) {
		ev_periodic_stop(nfd.loop, &srcs[i].w);
		free(srcs[i].job_id);
		free(srcs[i].preset);
	}
	free(srcs);
	srcs = NULL;
	nsrcs = 0;
	wake_update();		/* disarms it */
	toggles_clear();
	free(deps);
	deps = NULL;
	ndeps = 0;
	dep_cfg = NULL;
}

static void
src_add(const char *job_id, const char *preset, int64_t done, size_t first)
{
	struct sched_src	*e = &srcs[nsrcs++];

	e->job_id = nf_xstrdup(job_id);
	e->preset = preset != NULL ? nf_xstrdup(preset) : NULL;
	e->done = done;
	e->first = first;
	ev_init(&e->w, sched_fire_cb);
	/* Before the burst watcher: every due slot is collected first. */
	ev_set_priority(&e->w, EV_MAXPRI);
	e->w.data = e;
}

/*
 * What a source of the previous load had handled, or 0.  A source that
 * was armed has handled everything before its armed slot: a reload does
 * not catch up (nothing was missed while it ran), even when the schedule
 * changed.  One that was not armed (job off) catches up per its policy.
 */
static int
src_cmp(const void *a, const void *b)
{
	const struct sched_src	*x = *(const struct sched_src *const *)a;
	const struct sched_src	*y = *(const struct sched_src *const *)b;
	int			 c;

	if ((c = strcmp(x->job_id, y->job_id)) != 0)
		return c;
	if (x->preset == NULL || y->preset == NULL)
		return (x->preset != NULL) - (y->preset != NULL);
	return strcmp(x->preset, y->preset);
}

/*
 * oidx: the old sources sorted by src_cmp (each (job, preset) is there at
 * most once), so that a reload of 100,000 jobs looks each one up instead
 * of walking every old source per job.
 */
static int64_t
old_done(struct sched_src *const *oidx, size_t nold, const char *job_id,
    const char *preset)
{
	struct sched_src	 key, *kp = &key, *const *found;
	const struct sched_src	*o;

	if (nold == 0)
		return 0;
	key.job_id = (char *)job_id;
	key.preset = (char *)preset;
	found = bsearch(&kp, oidx, nold, sizeof(*oidx), src_cmp);
	if (found == NULL)
		return 0;
	o = *found;
	return o->slot - 1 > o->done ? o->slot - 1 : o->done;
}

void
nf_sched_load(const struct nf_config *cfg)
{
	const struct nf_job	*job;
	struct sched_src	*old = srcs, **oidx = NULL;
	size_t			 nold = nsrcs, i, j, n, first;
	int64_t			 now = time(NULL);

	if (!sched_inited) {
		sched_init();
		sched_inited = 1;
	}
	burst_drop();
	for (i = 0; i < nold; i++)
		ev_periodic_stop(nfd.loop, &old[i].w);
	if (nold > 0) {
		oidx = nf_xcalloc(nold, sizeof(*oidx));
		for (i = 0; i < nold; i++)
			oidx[i] = &old[i];
		qsort(oidx, nold, sizeof(*oidx), src_cmp);
	}
	srcs = NULL;
	nsrcs = 0;
	toggles_load();
	deps_load(cfg);
	for (i = 0, n = 0; i < cfg->njobs; i++) {
		n += cfg->jobs[i].nschedules > 0;
		for (j = 0; j < cfg->jobs[i].npresets; j++)
			n += cfg->jobs[i].presets[j].cron != NULL;
	}
	if (n > 0)
		srcs = nf_xcalloc(n, sizeof(*srcs));
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		first = nsrcs;
		if (job->nschedules > 0)
			src_add(job->id, NULL,
			    old_done(oidx, nold, job->id, NULL), first);
		for (j = 0; j < job->npresets; j++)
			if (job->presets[j].cron != NULL)
				src_add(job->id, job->presets[j].name,
				    old_done(oidx, nold, job->id,
				    job->presets[j].name), first);
	}
	for (i = 0; i < nold; i++) {
		free(old[i].job_id);
		free(old[i].preset);
	}
	free(oidx);
	free(old);
	/* Presets first, so a slot they share with the job runs with them. */
	for (i = 0; i < 2 * nsrcs; i++)
		if ((srcs[i % nsrcs].preset == NULL) == (i >= nsrcs))
			src_start(&srcs[i % nsrcs], now, 0, 1);
	wake_update();
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
	toggle_set(job->id, enabled);
	nf_info("job %s %s for scheduled fires", job->id,
	    enabled ? "enabled" : "disabled");
	for (i = 0; i < nsrcs; i++)
		if (strcmp(srcs[i].job_id, job->id) == 0)
			src_start(&srcs[i], time(NULL), 0, 1);
	wake_update();
	return 0;
}

/* Fire job after the run run_id of job_id ended (by: who fired it). */
static void
dep_fire(const struct nf_job *job, const char *job_id, int64_t run_id,
    enum nf_run_state st, const char *by)
{
	if (st != NF_RUN_SUCCEEDED && !job->after_always) {
		nf_debug("job %s: not fired: %s run %lld %s (after_on = "
		    "success)", job->id, job_id, (long long)run_id,
		    nf_run_state_name(st));
		return;
	}
	if (!nf_sched_job_enabled(job)) {
		nf_info("job %s: disabled; not fired after %s", job->id, by);
		return;
	}
	sched_dispatch(job, NULL, "dependency", by, 0, 0);
}

void
nf_sched_run_done(const char *job_id, int64_t run_id, enum nf_run_state st)
{
	const struct nf_config	*cfg;
	struct nf_run		*held;
	struct sched_dep	 key, *d;
	char			 by[256];
	size_t			 lo, hi, mid, i;

	if (nfd.stopping || nfd.cur == NULL)
		return;
	/* overlap = queue: the held run starts once no other is active. */
	if (nf_run_job_active(job_id, &held) == 0 && held != NULL)
		nf_run_release(held);
	if (st == NF_RUN_SKIPPED)
		return;
	if ((cfg = nfd.cur->cfg) != dep_cfg)
		deps_load(cfg);		/* not loaded through nf_sched_load() */
	/* The first entry for job_id, then every one after it. */
	key.after = job_id;
	key.job = 0;
	for (lo = 0, hi = ndeps; lo < hi; ) {
		mid = lo + (hi - lo) / 2;
		if (dep_cmp(&deps[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == ndeps || strcmp(deps[lo].after, job_id) != 0)
		return;
	snprintf(by, sizeof(by), "job:%s@%lld", job_id, (long long)run_id);
	for (i = lo; i < ndeps && strcmp(deps[i].after, job_id) == 0; i++) {
		d = &deps[i];
		dep_fire(&cfg->jobs[d->job], job_id, run_id, st, by);
		/* A fire may end runs and reload nothing, but may stop us. */
		if (nfd.stopping || dep_cfg != cfg)
			return;
	}
}
