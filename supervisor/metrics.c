/*
 * metrics.c: the registry of the daemon's metrics and their text (the
 * Prometheus text exposition format 0.0.4, metrics.h).  nomaflowd(8) lists
 * every metric and its labels.
 *
 * Runs in nomaflowd, on the loop's thread; linked into libnfsup because the
 * modules that feed it (store.c, scheduler.c, run.c) are linked by unit
 * tests without the loop: it reads no daemon state itself, the gauges come
 * from the collector (metrics_feed.c) when the text is rendered.
 *
 * Invariants:
 * - an observation costs no allocation once its series exists: a job's
 *   series is allocated at its first ended run, an attempt series at the
 *   first attempt of that (type, reason); nothing is allocated per run;
 * - the per-job series are bounded by the catalogue: a series of a job the
 *   collector no longer knows (removed by a reload) is dropped at the next
 *   render, so memory holds at most the jobs that existed since then;
 * - buckets are kept per bucket and made cumulative when rendered, so
 *   every _bucket line is >= the one before it and le="+Inf" == _count.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "metrics.h"
#include "util.h"

#define HIST_MAX	16

/* Upper bounds as written in le="..." (the text is the label). */
struct hist_def {
	const char	*name;
	const char	*help;
	size_t		 n;		/* finite bounds; +Inf follows */
	double		 le[HIST_MAX];
	const char	*text[HIST_MAX];
};

struct hist {
	uint64_t	 bucket[HIST_MAX + 1];	/* per bucket, not cumulative */
	uint64_t	 count;
	double		 sum;
};

static const struct hist_def run_duration = {
	"nomaflow_run_duration_seconds",
	"Time from a run's start (its first worker) to its end, by job.",
	9, { .1, .5, 1, 5, 15, 60, 300, 900, 3600 },
	{ "0.1", "0.5", "1", "5", "15", "60", "300", "900", "3600" },
};
static const struct hist_def lateness = {
	"nomaflow_scheduler_lateness_seconds",
	"Time from a scheduled slot (plus its jitter) to its run row.",
	10, { .001, .005, .01, .025, .05, .1, .25, .5, 1, 5 },
	{ "0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
	  "1", "5" },
};
static const struct hist_def store_commit = {
	"nomaflow_store_commit_seconds",
	"Time of one store commit (one per loop iteration with writes).",
	10, { .0001, .0005, .001, .0025, .005, .01, .025, .05, .1, 1 },
	{ "0.0001", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
	  "0.05", "0.1", "1" },
};

/* Final run states, the values of label state. */
static const char *const run_states[] = {
	"succeeded", "failed", "canceled", "skipped",
};
#define NSTATES	(sizeof(run_states) / sizeof(run_states[0]))

struct jobm {
	char		*id;
	uint64_t	 runs[NSTATES];
	struct hist	 dur;
	struct jobm	*next;		/* hash chain */
};

struct attm {
	char		*type;
	char		*reason;
	uint64_t	 n;
};

static struct {
	struct jobm	**tab;
	size_t		 cap;		/* power of two, or 0 */
	size_t		 n;
	struct attm	*att;
	size_t		 natt;
	struct hist	 late;
	struct hist	 commit;
	int64_t		 ui_clients;
	struct nf_metrics_collector coll;
	int		 has_coll;
} M;

double
nf_metrics_clock(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
hist_observe(const struct hist_def *d, struct hist *h, double v)
{
	size_t	i;

	if (isnan(v))
		return;
	if (v < 0)
		v = 0;		/* a clock step; never a negative sample */
	for (i = 0; i < d->n && v > d->le[i]; i++)
		;
	h->bucket[i]++;
	h->count++;
	h->sum += v;
}

/* FNV-1a: job ids are short. */
static size_t
job_hash(const char *s)
{
	uint32_t	h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static struct jobm *
job_get(const char *id)
{
	struct jobm	*j, **ntab;
	size_t		 i, ncap, b;

	if (M.cap > 0)
		for (j = M.tab[job_hash(id) & (M.cap - 1)]; j != NULL;
		    j = j->next)
			if (strcmp(j->id, id) == 0)
				return j;
	if (M.n >= M.cap) {
		ncap = M.cap == 0 ? 64 : M.cap * 2;
		ntab = nf_xcalloc(ncap, sizeof(*ntab));
		for (i = 0; i < M.cap; i++)
			while ((j = M.tab[i]) != NULL) {
				M.tab[i] = j->next;
				b = job_hash(j->id) & (ncap - 1);
				j->next = ntab[b];
				ntab[b] = j;
			}
		free(M.tab);
		M.tab = ntab;
		M.cap = ncap;
	}
	j = nf_xcalloc(1, sizeof(*j));
	j->id = nf_xstrdup(id);
	b = job_hash(id) & (M.cap - 1);
	j->next = M.tab[b];
	M.tab[b] = j;
	M.n++;
	return j;
}

void
nf_metrics_run_end(const char *job, const char *state, double seconds)
{
	struct jobm	*j;
	size_t		 i;

	for (i = 0; i < NSTATES; i++)
		if (strcmp(state, run_states[i]) == 0)
			break;
	if (i == NSTATES || job == NULL)
		return;		/* not a final state: nothing to count */
	j = job_get(job);
	j->runs[i]++;
	if (seconds >= 0)
		hist_observe(&run_duration, &j->dur, seconds);
}

void
nf_metrics_attempt(const char *type, const char *reason)
{
	size_t	i;

	/* Bounded by step types x reasons: a few dozen at most. */
	for (i = 0; i < M.natt; i++)
		if (strcmp(M.att[i].type, type) == 0 &&
		    strcmp(M.att[i].reason, reason) == 0) {
			M.att[i].n++;
			return;
		}
	M.att = nf_xreallocarray(M.att, M.natt + 1, sizeof(*M.att));
	M.att[M.natt].type = nf_xstrdup(type);
	M.att[M.natt].reason = nf_xstrdup(reason);
	M.att[M.natt++].n = 1;
}

void
nf_metrics_lateness(double seconds)
{
	hist_observe(&lateness, &M.late, seconds);
}

void
nf_metrics_store_commit(double seconds)
{
	hist_observe(&store_commit, &M.commit, seconds);
}

void
nf_metrics_ui_clients(int delta)
{
	M.ui_clients += delta;
	if (M.ui_clients < 0)
		nf_panic("nf_metrics_ui_clients: %lld clients",
		    (long long)M.ui_clients);
}

void
nf_metrics_set_collector(const struct nf_metrics_collector *c)
{
	if ((M.has_coll = c != NULL))
		M.coll = *c;
	else
		memset(&M.coll, 0, sizeof(M.coll));
}

static void
job_free(struct jobm *j)
{
	free(j->id);
	free(j);
}

void
nf_metrics_reset(void)
{
	struct jobm	*j;
	size_t		 i;

	for (i = 0; i < M.cap; i++)
		while ((j = M.tab[i]) != NULL) {
			M.tab[i] = j->next;
			job_free(j);
		}
	free(M.tab);
	for (i = 0; i < M.natt; i++) {
		free(M.att[i].type);
		free(M.att[i].reason);
	}
	free(M.att);
	memset(&M, 0, sizeof(M));
}

/* Text. */

/* A label value: backslash, double quote and newline escaped. */
static void
put_label(struct nf_buf *b, const char *name, const char *v, int first)
{
	if (!first)
		nf_buf_addc(b, ',');
	nf_buf_adds(b, name);
	nf_buf_adds(b, "=\"");
	for (; *v != '\0'; v++)
		switch (*v) {
		case '\\':
			nf_buf_adds(b, "\\\\");
			break;
		case '"':
			nf_buf_adds(b, "\\\"");
			break;
		case '\n':
			nf_buf_adds(b, "\\n");
			break;
		default:
			nf_buf_addc(b, *v);
		}
	nf_buf_addc(b, '"');
}

/* The shortest text that reads back as v (Go's and Python's floats). */
static void
put_float(struct nf_buf *b, double v)
{
	char	s[40];

	if (isinf(v)) {
		nf_buf_adds(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (isnan(v)) {
		nf_buf_adds(b, "NaN");
		return;
	}
	snprintf(s, sizeof(s), "%.15g", v);
	if (strtod(s, NULL) != v)
		snprintf(s, sizeof(s), "%.17g", v);
	nf_buf_adds(b, s);
}

static void
put_head(struct nf_buf *b, const char *name, const char *type,
    const char *help)
{
	/* HELP texts are ours: no backslash or newline to escape. */
	nf_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
put_gauge(struct nf_buf *b, const char *name, const char *help, double v)
{
	put_head(b, name, "gauge", help);
	nf_buf_printf(b, "%s ", name);
	put_float(b, v);
	nf_buf_addc(b, '\n');
}

/*
 * The lines of one histogram; label is "" or one `name="value"` pair
 * (escaped), put before le.
 */
static void
put_hist(struct nf_buf *b, const struct hist_def *d, const struct hist *h,
    const char *label)
{
	uint64_t	cum = 0;
	size_t		i;

	for (i = 0; i <= d->n; i++) {
		cum += h->bucket[i];
		nf_buf_printf(b, "%s_bucket{%s%sle=\"%s\"} %llu\n", d->name,
		    label, *label != '\0' ? "," : "",
		    i < d->n ? d->text[i] : "+Inf", (unsigned long long)cum);
	}
	nf_buf_printf(b, "%s_sum%s%s%s ", d->name, *label != '\0' ? "{" : "",
	    label, *label != '\0' ? "}" : "");
	put_float(b, h->sum);
	nf_buf_printf(b, "\n%s_count%s%s%s %llu\n", d->name,
	    *label != '\0' ? "{" : "", label, *label != '\0' ? "}" : "",
	    (unsigned long long)h->count);
}

static int
job_cmp(const void *a, const void *b)
{
	return strcmp((*(struct jobm *const *)a)->id,
	    (*(struct jobm *const *)b)->id);
}

static int
att_cmp(const void *a, const void *b)
{
	const struct attm	*x = a, *y = b;
	int			 c;

	if ((c = strcmp(x->type, y->type)) != 0)
		return c;
	return strcmp(x->reason, y->reason);
}

/* Drop the series of jobs no longer in the catalogue. */
static void
jobs_prune(void)
{
	struct jobm	*j, **pp;
	size_t		 i;

	if (!M.has_coll || M.coll.job_known == NULL)
		return;
	for (i = 0; i < M.cap; i++)
		for (pp = &M.tab[i]; (j = *pp) != NULL;) {
			if (M.coll.job_known(j->id, M.coll.arg)) {
				pp = &j->next;
				continue;
			}
			*pp = j->next;
			job_free(j);
			M.n--;
		}
}

void
nf_metrics_render(struct nf_buf *b)
{
	struct nf_metrics_gauges	 g;
	struct jobm			*j, **jobs;
	struct nf_buf			 lab;
	size_t				 i, k, n;

	memset(&g, 0, sizeof(g));
	if (M.has_coll && M.coll.gauges != NULL)
		M.coll.gauges(&g, M.coll.arg);
	jobs_prune();

	put_head(b, "nomaflow_build_info", "gauge",
	    "Always 1; the version of nomaflowd in its label.");
	nf_buf_adds(b, "nomaflow_build_info{");
	put_label(b, "version", PACKAGE_VERSION, 1);
	nf_buf_adds(b, "} 1\n");
	put_gauge(b, "process_start_time_seconds", "Start time of the "
	    "process since unix epoch in seconds.", g.start_time);
	put_head(b, "nomaflow_jobs", "gauge", "Jobs in the catalogue, by "
	    "whether their schedules may fire (job enable/disable).");
	nf_buf_printf(b, "nomaflow_jobs{enabled=\"true\"} %lld\n"
	    "nomaflow_jobs{enabled=\"false\"} %lld\n",
	    (long long)g.jobs_enabled, (long long)g.jobs_disabled);
	put_gauge(b, "nomaflow_queue_depth", "Runs waiting for a worker "
	    "slot (worker.max_concurrent or a pool's max_concurrent).",
	    (double)g.queue_depth);
	put_gauge(b, "nomaflow_workers_active", "Live worker processes.",
	    (double)g.workers_active);
	put_gauge(b, "nomaflow_ui_clients", "Open web UI connections "
	    "following events or logs.", (double)M.ui_clients);

	/* Per job, sorted: the same catalogue renders the same text. */
	jobs = nf_xreallocarray(NULL, M.n > 0 ? M.n : 1, sizeof(*jobs));
	for (i = n = 0; i < M.cap; i++)
		for (j = M.tab[i]; j != NULL; j = j->next)
			jobs[n++] = j;
	qsort(jobs, n, sizeof(*jobs), job_cmp);
	nf_buf_init(&lab);
	put_head(b, "nomaflow_runs_total", "counter", "Runs ended, by job "
	    "and final state.");
	for (i = 0; i < n; i++)
		for (k = 0; k < NSTATES; k++) {
			nf_buf_adds(b, "nomaflow_runs_total{");
			put_label(b, "job", jobs[i]->id, 1);
			put_label(b, "state", run_states[k], 0);
			nf_buf_printf(b, "} %llu\n",
			    (unsigned long long)jobs[i]->runs[k]);
		}
	put_head(b, run_duration.name, "histogram", run_duration.help);
	for (i = 0; i < n; i++) {
		nf_buf_reset(&lab);
		put_label(&lab, "job", jobs[i]->id, 1);
		put_hist(b, &run_duration, &jobs[i]->dur, lab.data);
	}
	nf_buf_free(&lab);
	free(jobs);

	put_head(b, "nomaflow_step_attempts_total", "counter", "Step "
	    "attempts ended, by step type and reason (none: succeeded).");
	if (M.natt > 1)
		qsort(M.att, M.natt, sizeof(*M.att), att_cmp);
	for (i = 0; i < M.natt; i++) {
		nf_buf_adds(b, "nomaflow_step_attempts_total{");
		put_label(b, "type", M.att[i].type, 1);
		put_label(b, "reason", M.att[i].reason, 0);
		nf_buf_printf(b, "} %llu\n", (unsigned long long)M.att[i].n);
	}
	put_head(b, lateness.name, "histogram", lateness.help);
	put_hist(b, &lateness, &M.late, "");
	put_head(b, store_commit.name, "histogram", store_commit.help);
	put_hist(b, &store_commit, &M.commit, "");
}
