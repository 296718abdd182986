/*
 * metrics_feed.c: what connects the metrics registry (metrics.c) to the
 * daemon.  An events subscriber counts the runs that end and times them
 * (state "running" to "end"); a collector samples the gauges (queue,
 * workers, jobs, start time) and tells which jobs the catalogue still has,
 * when the text is rendered.
 *
 * Runs in nomaflowd, on the loop's thread.  Invariants: the table of start
 * times holds only runs that are running (an entry goes at its run's end),
 * so it is bounded by the active runs; it grows, never shrinks, and costs
 * no allocation per run once grown.  The subscriber asks for state and end
 * events only: log, step and progress events stay unbuilt for runs nobody
 * follows.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "events.h"
#include "log.h"
#include "metrics.h"
#include "nomaflowd.h"
#include "scheduler.h"
#include "util.h"

/* Open addressing, linear probing, backward-shift deletion; key 0 free. */
struct start {
	int64_t	 run_id;
	double	 at;		/* nf_metrics_clock() */
};

static struct start	*starts;
static size_t		 starts_cap, starts_n;
static int		 feed_sub;

static size_t
start_slot(int64_t id, size_t cap)
{
	uint64_t	h = (uint64_t)id * 0x9e3779b97f4a7c15ull;

	return (size_t)(h >> 32) & (cap - 1);
}

static void
start_put(int64_t id, double at)
{
	struct start	*old = starts;
	size_t		 i, ocap = starts_cap;

	if (2 * (starts_n + 1) > starts_cap) {
		starts_cap = starts_cap == 0 ? 256 : starts_cap * 2;
		starts = nf_xcalloc(starts_cap, sizeof(*starts));
		starts_n = 0;
		for (i = 0; i < ocap; i++)
			if (old[i].run_id != 0)
				start_put(old[i].run_id, old[i].at);
		free(old);
	}
	for (i = start_slot(id, starts_cap); starts[i].run_id != 0 &&
	    starts[i].run_id != id; i = (i + 1) & (starts_cap - 1))
		;
	if (starts[i].run_id == 0)
		starts_n++;
	starts[i].run_id = id;
	starts[i].at = at;
}

/* The start time of run id, removed; < 0 if it has none. */
static double
start_take(int64_t id)
{
	size_t	i, j, k, mask = starts_cap - 1;
	double	at;

	if (starts_cap == 0)
		return -1;
	for (i = start_slot(id, starts_cap); starts[i].run_id != id;
	    i = (i + 1) & mask)
		if (starts[i].run_id == 0)
			return -1;
	at = starts[i].at;
	/* Shift back the entries of the run that followed i. */
	for (j = (i + 1) & mask; starts[j].run_id != 0; j = (j + 1) & mask) {
		k = start_slot(starts[j].run_id, starts_cap);
		/* Move it unless its home is cyclically in (i, j]. */
		if ((j > i && (k <= i || k > j)) ||
		    (j < i && k <= i && k > j)) {
			starts[i] = starts[j];
			i = j;
		}
	}
	starts[i].run_id = 0;
	starts_n--;
	return at;
}

static void
feed_event(const struct nf_event *ev, void *arg)
{
	const char	*state;
	double		 at, now;

	(void)arg;
	if ((state = nf_val_get_str(ev->data, "state")) == NULL)
		return;
	now = nf_metrics_clock();
	if (ev->kind == NF_EVENT_STATE) {
		if (strcmp(state, "running") == 0)
			start_put(ev->run_id, now);
		return;
	}
	at = start_take(ev->run_id);
	nf_metrics_run_end(ev->job_id, state, at >= 0 ? now - at : -1);
}

static void
feed_gauges(struct nf_metrics_gauges *g, void *arg)
{
	const struct nf_config	*cfg = nfd.cur->cfg;
	size_t			 i;

	(void)arg;
	g->queue_depth = nfd.nqueued;
	g->workers_active = nfd.nworkers;
	for (i = 0; i < cfg->njobs; i++)
		if (nf_sched_job_enabled(&cfg->jobs[i]))
			g->jobs_enabled++;
		else
			g->jobs_disabled++;
	g->start_time = nfd.started_at / 1e3;
}

static int
feed_job_known(const char *job, void *arg)
{
	(void)arg;
	return nf_config_job(nfd.cur->cfg, job) != NULL;
}

void
nf_metrics_feed_start(void)
{
	static const struct nf_metrics_collector coll = {
		feed_gauges, feed_job_known, NULL
	};

	nf_metrics_set_collector(&coll);
	feed_sub = nf_events_subscribe(NF_EVENT_STATE | NF_EVENT_END,
	    feed_event, NULL, NULL);
}

void
nf_metrics_feed_stop(void)
{
	if (feed_sub != 0)
		nf_events_unsubscribe(feed_sub);
	feed_sub = 0;
	nf_metrics_set_collector(NULL);
	free(starts);
	starts = NULL;
	starts_cap = starts_n = 0;
}
