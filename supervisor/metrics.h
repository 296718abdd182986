/*
 * metrics.h: the daemon's counters, gauges and histograms, and their
 * rendering in the Prometheus text exposition format 0.0.4 (GET /metrics,
 * nfctl metrics).  nomaflowd(8) lists every metric.
 *
 * metrics.c is the registry and the renderer; it knows no daemon state, so
 * the modules that feed it (store.c, scheduler.c, run.c) and their unit
 * tests link it without the loop.  metrics_feed.c connects it to the
 * daemon: the events subscriber (runs ended, run durations) and the
 * collector that samples gauges when the text is rendered.
 */
#ifndef NF_METRICS_H
#define NF_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* Prometheus text exposition format 0.0.4 of everything below. */
void	nf_metrics_render(struct nf_buf *out);
/* The web server's open UI connections (SSE clients): web.c. */
void	nf_metrics_ui_clients(int delta);

/*
 * A run ended in state (succeeded, failed, canceled, skipped) after
 * seconds of running (< 0: it never ran, no duration observed).
 */
void	nf_metrics_run_end(const char *job, const char *state,
	    double seconds);
/* A step attempt ended: reason "none" for a success (run.c). */
void	nf_metrics_attempt(const char *type, const char *reason);
/* A scheduled slot got its run row this late (scheduler.c). */
void	nf_metrics_lateness(double seconds);
/* One store commit took this long (store.c). */
void	nf_metrics_store_commit(double seconds);
/* Monotonic seconds, for the hooks' timings. */
double	nf_metrics_clock(void);

/* What the daemon knows when the text is rendered (metrics_feed.c). */
struct nf_metrics_gauges {
	int64_t		 queue_depth;		/* runs waiting for a worker */
	int64_t		 workers_active;	/* live worker processes */
	int64_t		 jobs_enabled;
	int64_t		 jobs_disabled;
	double		 start_time;		/* s since the epoch */
};
struct nf_metrics_collector {
	void	(*gauges)(struct nf_metrics_gauges *, void *arg);
	/* Is job in the catalogue?  Series of a job that is not are dropped. */
	int	(*job_known)(const char *job, void *arg);
	void	*arg;
};
/* NULL: no collector (gauges 0, per-job series never dropped). */
void	nf_metrics_set_collector(const struct nf_metrics_collector *);
/* Forget every value (tests). */
void	nf_metrics_reset(void);

/* metrics_feed.c (nomaflowd only): subscribe and register the collector. */
void	nf_metrics_feed_start(void);
void	nf_metrics_feed_stop(void);

#endif
