/*
 * scheduler.c: cron timers of nomaflowd.  Runs in nomaflowd.
 *
 * One ev_periodic per scheduled job, armed at the absolute wall-clock time
 * of the job's next slot (so a host clock step neither loses nor repeats a
 * slot: libev re-evaluates absolute periodics when the clock jumps).  A
 * fire goes through the slot ledger: the run row carries UNIQUE(job_id,
 * scheduled_for), written before any worker starts, so the same slot can
 * never produce two runs, across restarts and reloads included.  The next
 * slot is always computed after max(now, last recorded slot).
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "cron.h"
#include "log.h"
#include "nomaflowd.h"
#include "run.h"
#include "scheduler.h"
#include "store.h"

struct sched_entry {
	char		*job_id;
	int64_t		 slot;		/* seconds; the slot armed */
	ev_periodic	 w;
};

static struct sched_entry	*entries;
static size_t			 nentries;

int64_t
nf_sched_next(const struct nf_job *job, int64_t after, int *flags)
{
	if (flags != NULL)
		*flags = 0;
	if (job->cron == NULL)
		return -1;
	return nf_cron_next(job->cron, job->tz, after, flags);
}

static void
sched_arm(struct sched_entry *e, const struct nf_job *job, int64_t after)
{
	int64_t	next;

	if ((next = nf_sched_next(job, after, NULL)) <= 0) {
		nf_warnx("job %s: schedule \"%s\" has no future fire time",
		    job->id, job->schedule);
		e->slot = 0;
		return;
	}
	e->slot = next;
	ev_periodic_set(&e->w, (ev_tstamp)next, 0., NULL);
	ev_periodic_start(nfd.loop, &e->w);
	nf_debug("job %s: next slot %lld", job->id, (long long)next);
}

static void
sched_fire_cb(struct ev_loop *loop, ev_periodic *w, int revents)
{
	struct sched_entry	*e = w->data;
	const struct nf_job	*job;
	struct nf_run		*active;
	char			 err[512];
	int64_t			 slot = e->slot, now = time(NULL), id;
	int			 conflict;

	ev_periodic_stop(loop, w);
	if ((job = nf_config_job(nfd.cur->cfg, e->job_id)) == NULL)
		return;
	if (!nfd.stopping && job->enabled) {
		if ((active = nf_run_find_job(job->id)) != NULL)
			nf_run_skip(job, "cron", slot, active->id);
		else {
			id = nf_run_trigger(job, "cron", "cron", slot, NULL, 0,
			    &conflict, err, sizeof(err));
			if (id < 0)
				nf_warnx("job %s: slot %lld not fired: %s",
				    job->id, (long long)slot, err);
			else if (id == 0)
				nf_info("job %s: slot %lld already fired",
				    job->id, (long long)slot);
		}
	}
	if (!nfd.stopping)
		sched_arm(e, job, slot > now ? slot : now);
}

void
nf_sched_stop(void)
{
	size_t	i;

	for (i = 0; i < nentries; i++) {
		ev_periodic_stop(nfd.loop, &entries[i].w);
		free(entries[i].job_id);
	}
	free(entries);
	entries = NULL;
	nentries = 0;
}

void
nf_sched_load(const struct nf_config *cfg)
{
	const struct nf_job	*job;
	int64_t			 now = time(NULL), last;
	size_t			 i, n;

	nf_sched_stop();
	for (i = 0, n = 0; i < cfg->njobs; i++)
		if (cfg->jobs[i].cron != NULL)
			n++;
	if (n == 0)
		return;
	entries = nf_xcalloc(n, sizeof(*entries));
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		if (job->cron == NULL)
			continue;
		struct sched_entry *e = &entries[nentries++];
		e->job_id = nf_xstrdup(job->id);
		ev_init(&e->w, sched_fire_cb);
		e->w.data = e;
		last = nf_store_last_slot(job->id);
		sched_arm(e, job, last > now ? last : now);
	}
}
