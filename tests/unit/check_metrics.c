/*
 * check_metrics.c: the metrics registry and its text (supervisor/metrics.c)
 * and its feed from the run engine's events (metrics_feed.c, with a fake
 * daemon state): exact lines, label escaping, cumulative buckets, _sum and
 * _count, series dropped with their job, and every rendered text read by a
 * strict checker of the text exposition format 0.0.4.
 */
#include "autoconf.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "events.h"
#include "metrics.h"
#include "nf_check.h"
#include "nomaflowd.h"
#include "scheduler.h"
#include "util.h"
#include "val.h"

/* The daemon state metrics_feed.c reads. */
struct nf_daemon	nfd;
static int		disabled_b;	/* job "b" disabled */

int
nf_sched_job_enabled(const struct nf_job *j)
{
	return !(disabled_b && strcmp(j->id, "b") == 0);
}

/*
 * A strict reader of the text format: every line is a HELP, a TYPE or a
 * sample of the family the last TYPE declared; names and label names are
 * valid, label values use only the three escapes, values read as Go's
 * ParseFloat does, no duplicate family; a histogram's samples are
 * _bucket (with le), _sum and _count, its buckets per label set are
 * cumulative with le increasing and ending at +Inf, which equals _count.
 * Returns NULL or what is wrong, with the line number.
 */
static char	why[256];

static int
name_ok(const char **pp, int colon)
{
	const char	*p = *pp;

	if (!(isalpha((unsigned char)*p) || *p == '_' || (colon && *p == ':')))
		return 0;
	while (isalnum((unsigned char)*p) || *p == '_' || (colon && *p == ':'))
		p++;
	*pp = p;
	return 1;
}

static int
value_ok(const char *s, double *v)
{
	char	*end;

	if (strcmp(s, "+Inf") == 0 || strcmp(s, "-Inf") == 0 ||
	    strcmp(s, "NaN") == 0) {
		*v = strcmp(s, "NaN") == 0 ? NAN : s[0] == '-' ? -INFINITY :
		    INFINITY;
		return 1;
	}
	if (*s == '\0' || isspace((unsigned char)*s))
		return 0;
	*v = strtod(s, &end);
	/* strtod takes "inf", "nan" and hex: the format does not. */
	return *end == '\0' && strpbrk(s, "xXiInN") == NULL;
}

struct hgroup {
	char	 labels[256];	/* without le */
	double	 last_le;
	double	 last_count;
	int	 saw_inf;
	int	 nbuckets;
	double	 count;
	int	 has_count;
};

static const char *
expo_check(const char *text)
{
	char		 fam[128] = "", type[16] = "", seen[64][128];
	char		 line[4096], name[128], lname[64], labels[256], le[32];
	char		*vp;
	const char	*p, *q, *nl, *s;
	struct hgroup	 g[64];
	size_t		 ng = 0, nseen = 0, i, len;
	double		 v, lev;
	int		 ln = 0, first, haslabels;

	if (*text != '\0' && text[strlen(text) - 1] != '\n')
		return "the text does not end with a newline";
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		len = nl - p;
		ln++;
		if (len >= sizeof(line))
			return "line too long";
		memcpy(line, p, len);
		line[len] = '\0';
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			s = line + 7;
			q = s;
			if (!name_ok(&q, 1) || *q != ' ')
				goto bad;
			snprintf(name, sizeof(name), "%.*s", (int)(q - s), s);
			if (line[2] == 'H') {
				/* HELP: escapes \\ and \n only. */
				for (q++; *q != '\0'; q++)
					if (*q == '\\' && q[1] != '\\' &&
					    q[1] != 'n')
						goto bad;
					else if (*q == '\\')
						q++;
				/* Ours: HELP before the family's TYPE. */
				if (strcmp(name, fam) == 0 && type[0] != '\0')
					goto bad;
				continue;
			}
			q++;
			if (strcmp(q, "counter") != 0 && strcmp(q, "gauge") !=
			    0 && strcmp(q, "histogram") != 0 && strcmp(q,
			    "summary") != 0 && strcmp(q, "untyped") != 0)
				goto bad;
			for (i = 0; i < nseen; i++)
				if (strcmp(seen[i], name) == 0)
					goto bad;	/* declared twice */
			if (nseen == 64)
				return "too many families for the checker";
			snprintf(seen[nseen++], sizeof(seen[0]), "%s", name);
			snprintf(fam, sizeof(fam), "%s", name);
			snprintf(type, sizeof(type), "%s", q);
			ng = 0;
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			goto bad;	/* we write no other comment or blank */
		/* A sample: name{labels} value */
		q = line;
		if (!name_ok(&q, 1))
			goto bad;
		snprintf(name, sizeof(name), "%.*s", (int)(q - line), line);
		labels[0] = le[0] = '\0';
		haslabels = *q == '{';
		if (haslabels) {
			q++;
			first = 1;
			while (*q != '}') {
				if (!first && *q++ != ',')
					goto bad;
				first = 0;
				s = q;
				if (!name_ok(&q, 0) || *q != '=' || q[1] != '"')
					goto bad;
				snprintf(lname, sizeof(lname), "%.*s",
				    (int)(q - s), s);
				q += 2;
				s = q;
				for (; *q != '"'; q++) {
					if (*q == '\0')
						goto bad;
					if (*q == '\\') {
						if (q[1] != '\\' && q[1] != '"'
						    && q[1] != 'n')
							goto bad;
						q++;
					}
				}
				if (strcmp(lname, "le") == 0)
					snprintf(le, sizeof(le), "%.*s",
					    (int)(q - s), s);
				else
					snprintf(labels + strlen(labels),
					    sizeof(labels) - strlen(labels),
					    "%s=%.*s;", lname, (int)(q - s), s);
				q++;
			}
			q++;
		}
		if (*q++ != ' ')
			goto bad;
		vp = (char *)q;
		if (!value_ok(vp, &v))
			goto bad;
		if (fam[0] == '\0')
			goto bad;	/* a sample before any TYPE */
		if (strcmp(type, "histogram") != 0) {
			if (strcmp(name, fam) != 0 || le[0] != '\0')
				goto bad;
			if (strcmp(type, "counter") == 0 && (v < 0 ||
			    isnan(v)))
				goto bad;
			continue;
		}
		len = strlen(fam);
		if (strncmp(name, fam, len) != 0)
			goto bad;
		for (i = 0; i < ng; i++)
			if (strcmp(g[i].labels, labels) == 0)
				break;
		if (i == ng) {
			if (ng == 64)
				return "too many label sets for the checker";
			memset(&g[ng], 0, sizeof(g[ng]));
			snprintf(g[ng].labels, sizeof(g[ng].labels), "%s",
			    labels);
			g[ng].last_le = -INFINITY;
			ng++;
		}
		if (strcmp(name + len, "_bucket") == 0) {
			if (le[0] == '\0' || g[i].saw_inf || g[i].has_count ||
			    !value_ok(le, &lev) || lev <= g[i].last_le ||
			    v < g[i].last_count)
				goto bad;
			g[i].last_le = lev;
			g[i].last_count = v;
			g[i].nbuckets++;
			g[i].saw_inf = isinf(lev) && lev > 0;
		} else if (strcmp(name + len, "_sum") == 0) {
			if (le[0] != '\0' || !g[i].saw_inf)
				goto bad;
		} else if (strcmp(name + len, "_count") == 0) {
			if (le[0] != '\0' || !g[i].saw_inf ||
			    v != g[i].last_count)
				goto bad;
			g[i].has_count = 1;
		} else
			goto bad;
	}
	return NULL;
bad:
	snprintf(why, sizeof(why), "line %d: %s", ln, line);
	return why;
}

/* Does text hold this exact line? */
static int
has_line(const char *text, const char *l)
{
	const char	*p = text;
	size_t		 n = strlen(l);

	while ((p = strstr(p, l)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return 1;
		p++;
	}
	return 0;
}

static char *
render(void)
{
	struct nf_buf	b;
	const char	*err;

	nf_buf_init(&b);
	nf_metrics_render(&b);
	if ((err = expo_check(b.data)) != NULL)
		ck_abort_msg("not the text format: %s\n%s", err, b.data);
	return nf_buf_steal(&b);
}

#define ck_line(t, l)	ck_assert_msg(has_line((t), (l)), \
			    "no line \"%s\" in:\n%s", (l), (t))
#define ck_no_line(t, l) ck_assert_msg(!has_line((t), (l)), \
			    "line \"%s\" in:\n%s", (l), (t))

START_TEST(checker_rejects)
{
	static const char *const bad[] = {
		"x 1\n",				/* no TYPE */
		"# TYPE x gauge\nx 1",			/* no newline */
		"# TYPE x gauge\nx{a=\"\\t\"} 1\n",	/* bad escape */
		"# TYPE x gauge\nx{a=\"b} 1\n",		/* unterminated */
		"# TYPE x gauge\nx{1a=\"b\"} 1\n",	/* label name */
		"# TYPE x gauge\nx 0x10\n",		/* hex */
		"# TYPE x gauge\nx inf\n",		/* Go spells +Inf */
		"# TYPE x gauge\ny 1\n",		/* other family */
		"# TYPE x gauge\n\nx 1\n",		/* blank line */
		"# TYPE x counter\nx -1\n",
		"# TYPE x wibble\nx 1\n",
		"# TYPE x gauge\nx 1\n# TYPE x gauge\nx 2\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 2\n"
		    "h_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"2\"} 1\n"
		    "h_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\n"
		    "h_sum 1\nh_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\n"
		    "h_count 1\n",
		"# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\n"
		    "h_count 1\n",			/* no +Inf */
		"# TYPE h histogram\nh_bucket 1\n",	/* no le */
	};
	size_t	i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(expo_check(bad[i]) != NULL, "accepted: %s",
		    bad[i]);
	ck_assert_ptr_null(expo_check("# HELP x a \\\\ b\\n\n# TYPE x gauge\n"
	    "x{a=\"\\\"\\\\\\n\",b=\"\"} -1.5e-3\n"));
}
END_TEST

START_TEST(empty_registry)
{
	char	*t;

	nf_metrics_reset();
	t = render();
	ck_line(t, "# HELP nomaflow_build_info Always 1; the version of "
	    "nomaflowd in its label.");
	ck_line(t, "# TYPE nomaflow_build_info gauge");
	ck_line(t, "nomaflow_build_info{version=\"" PACKAGE_VERSION "\"} 1");
	ck_line(t, "# TYPE process_start_time_seconds gauge");
	ck_line(t, "process_start_time_seconds 0");
	ck_line(t, "nomaflow_jobs{enabled=\"true\"} 0");
	ck_line(t, "nomaflow_jobs{enabled=\"false\"} 0");
	ck_line(t, "nomaflow_queue_depth 0");
	ck_line(t, "nomaflow_workers_active 0");
	ck_line(t, "nomaflow_ui_clients 0");
	ck_line(t, "# TYPE nomaflow_runs_total counter");
	ck_line(t, "# TYPE nomaflow_run_duration_seconds histogram");
	ck_line(t, "# TYPE nomaflow_step_attempts_total counter");
	ck_line(t, "nomaflow_scheduler_lateness_seconds_bucket{le=\"+Inf\"} 0");
	ck_line(t, "nomaflow_scheduler_lateness_seconds_sum 0");
	ck_line(t, "nomaflow_scheduler_lateness_seconds_count 0");
	ck_line(t, "nomaflow_store_commit_seconds_count 0");
	ck_assert_ptr_null(strstr(t, "nomaflow_runs_total{"));
	free(t);
}
END_TEST

START_TEST(histogram_cumulative)
{
	static const char *const want =
	    "# HELP nomaflow_scheduler_lateness_seconds Time from a scheduled "
	    "slot (plus its jitter) to its run row.\n"
	    "# TYPE nomaflow_scheduler_lateness_seconds histogram\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.001\"} 2\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.005\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.01\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.025\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.05\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.1\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.25\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"0.5\"} 4\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"1\"} 5\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"5\"} 5\n"
	    "nomaflow_scheduler_lateness_seconds_bucket{le=\"+Inf\"} 6\n"
	    "nomaflow_scheduler_lateness_seconds_sum 8.5\n"
	    "nomaflow_scheduler_lateness_seconds_count 6\n"
	    "# HELP nomaflow_store_commit_seconds ";
	char	*t;

	nf_metrics_reset();
	/* Binary fractions: the sum is exact. */
	nf_metrics_lateness(0.0009765625);
	nf_metrics_lateness(-0.25);	/* a clock step back: counted as 0 */
	nf_metrics_lateness(0.00390625);
	nf_metrics_lateness(0.00390625);
	nf_metrics_lateness(1);		/* le is inclusive */
	nf_metrics_lateness(7.4912109375);
	nf_metrics_lateness(NAN);	/* not a sample */
	nf_metrics_store_commit(0.00048828125);
	nf_metrics_store_commit(2);
	t = render();
	ck_assert_msg(strstr(t, want) != NULL, "no block:\n%s\nin:\n%s", want,
	    t);
	ck_line(t, "nomaflow_store_commit_seconds_bucket{le=\"0.0001\"} 0");
	ck_line(t, "nomaflow_store_commit_seconds_bucket{le=\"0.0005\"} 1");
	ck_line(t, "nomaflow_store_commit_seconds_bucket{le=\"1\"} 1");
	ck_line(t, "nomaflow_store_commit_seconds_bucket{le=\"+Inf\"} 2");
	ck_line(t, "nomaflow_store_commit_seconds_sum 2.00048828125");
	ck_line(t, "nomaflow_store_commit_seconds_count 2");
	free(t);
}
END_TEST

START_TEST(runs_and_attempts)
{
	char	*t;

	nf_metrics_reset();
	nf_metrics_run_end("b", "succeeded", 0.5);
	nf_metrics_run_end("a", "failed", 20);
	nf_metrics_run_end("a", "failed", 0.0625);
	nf_metrics_run_end("a", "skipped", -1);	/* no duration */
	nf_metrics_run_end("a", "running", 1);	/* not final: ignored */
	nf_metrics_attempt("sql_query", "none");
	nf_metrics_attempt("exec", "timeout");
	nf_metrics_attempt("exec", "none");
	nf_metrics_attempt("exec", "timeout");
	nf_metrics_ui_clients(3);
	nf_metrics_ui_clients(-1);
	t = render();
	/* Sorted by job, every final state once a job has a series. */
	ck_assert_msg(strstr(t,
	    "nomaflow_runs_total{job=\"a\",state=\"succeeded\"} 0\n"
	    "nomaflow_runs_total{job=\"a\",state=\"failed\"} 2\n"
	    "nomaflow_runs_total{job=\"a\",state=\"canceled\"} 0\n"
	    "nomaflow_runs_total{job=\"a\",state=\"skipped\"} 1\n"
	    "nomaflow_runs_total{job=\"b\",state=\"succeeded\"} 1\n") != NULL,
	    "runs_total:\n%s", t);
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"a\",le=\"0.1\"} 1");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"a\",le=\"15\"} 1");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"a\",le=\"60\"} 2");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"a\",le=\"+Inf\"} 2");
	ck_line(t, "nomaflow_run_duration_seconds_sum{job=\"a\"} 20.0625");
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"a\"} 2");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"b\",le=\"0.1\"} 0");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"b\",le=\"0.5\"} 1");
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"b\"} 1");
	ck_assert_msg(strstr(t,
	    "nomaflow_step_attempts_total{type=\"exec\",reason=\"none\"} 1\n"
	    "nomaflow_step_attempts_total{type=\"exec\",reason=\"timeout\"} 2\n"
	    "nomaflow_step_attempts_total{type=\"sql_query\",reason=\"none\"} 1\n")
	    != NULL, "attempts:\n%s", t);
	ck_line(t, "nomaflow_ui_clients 2");
	free(t);
}
END_TEST

START_TEST(label_escaping)
{
	char	*t;

	nf_metrics_reset();
	nf_metrics_run_end("q\"b\\s\nn", "canceled", 1);
	nf_metrics_attempt("t\"", "r\\");
	t = render();
	ck_line(t, "nomaflow_runs_total{job=\"q\\\"b\\\\s\\nn\","
	    "state=\"canceled\"} 1");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"q\\\"b\\\\s"
	    "\\nn\",le=\"1\"} 1");
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"q\\\"b\\\\s"
	    "\\nn\"} 1");
	ck_line(t, "nomaflow_step_attempts_total{type=\"t\\\"\","
	    "reason=\"r\\\\\"} 1");
	free(t);
}
END_TEST

/* A small catalogue: jobs a and b; the feed's collector reads nfd. */
static struct nf_config		cfg;
static struct nf_job		jobs[2];
static struct nf_cfgref		cref;

static void
fake_daemon(void)
{
	memset(&nfd, 0, sizeof(nfd));
	memset(&cfg, 0, sizeof(cfg));
	memset(jobs, 0, sizeof(jobs));
	jobs[0].id = "a";
	jobs[1].id = "b";
	cfg.jobs = jobs;
	cfg.njobs = 2;
	cref.cfg = &cfg;
	nfd.cur = &cref;
	nfd.started_at = 1764820800123LL;
	nfd.nqueued = 4;
	nfd.nworkers = 7;
	disabled_b = 0;
}

static void
publish(enum nf_event_kind kind, int64_t run, const char *job,
    const char *state)
{
	struct nf_event	 ev;
	struct nf_val	*d = nf_val_map();

	nf_val_map_set_int(d, "run_id", run);
	nf_val_map_set_str(d, "state", state);
	memset(&ev, 0, sizeof(ev));
	ev.kind = kind;
	ev.run_id = run;
	ev.job_id = job;
	ev.data = d;
	nf_events_publish(&ev);
	nf_val_free(d);
}

START_TEST(feed_events_and_gauges)
{
	char	*t;
	int	 i;

	nf_metrics_reset();
	fake_daemon();
	nf_metrics_feed_start();
	/* 600 runs at once: the start table grows past its first size. */
	for (i = 1; i <= 600; i++)
		publish(NF_EVENT_STATE, i, i % 2 ? "a" : "b", "running");
	for (i = 1; i <= 600; i++)
		publish(NF_EVENT_END, i, i % 2 ? "a" : "b", i % 3 ?
		    "succeeded" : "failed");
	/* Ended while queued: counted, no duration. */
	publish(NF_EVENT_END, 1000, "a", "canceled");
	/* Kinds the feed did not ask for are not delivered to it. */
	ck_assert_int_eq(nf_events_wanted(NF_EVENT_LOG, 1), 0);
	ck_assert_int_eq(nf_events_wanted(NF_EVENT_STEP, 1), 0);
	ck_assert_int_eq(nf_events_wanted(NF_EVENT_END, 1), 1);
	t = render();
	ck_line(t, "nomaflow_runs_total{job=\"a\",state=\"succeeded\"} 200");
	ck_line(t, "nomaflow_runs_total{job=\"a\",state=\"failed\"} 100");
	ck_line(t, "nomaflow_runs_total{job=\"a\",state=\"canceled\"} 1");
	ck_line(t, "nomaflow_runs_total{job=\"b\",state=\"succeeded\"} 200");
	ck_line(t, "nomaflow_runs_total{job=\"b\",state=\"failed\"} 100");
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"a\"} 300");
	ck_line(t, "nomaflow_run_duration_seconds_bucket{job=\"a\",le=\"0.1\"} 300");
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"b\"} 300");
	ck_line(t, "nomaflow_queue_depth 4");
	ck_line(t, "nomaflow_workers_active 7");
	ck_line(t, "nomaflow_jobs{enabled=\"true\"} 2");
	ck_line(t, "nomaflow_jobs{enabled=\"false\"} 0");
	ck_line(t, "process_start_time_seconds 1764820800.123");
	free(t);

	/* A second end of a run has no start left: no duration twice. */
	publish(NF_EVENT_END, 2, "b", "succeeded");
	disabled_b = 1;
	t = render();
	ck_line(t, "nomaflow_run_duration_seconds_count{job=\"b\"} 300");
	ck_line(t, "nomaflow_jobs{enabled=\"true\"} 1");
	ck_line(t, "nomaflow_jobs{enabled=\"false\"} 1");
	free(t);

	/* A reload removed b: its series go, a's stay. */
	cfg.njobs = 1;
	t = render();
	ck_assert_ptr_null(strstr(t, "job=\"b\""));
	ck_line(t, "nomaflow_runs_total{job=\"a\",state=\"succeeded\"} 200");
	ck_line(t, "nomaflow_jobs{enabled=\"true\"} 1");
	free(t);
	/* An old run of b ending after the reload comes back, then goes. */
	publish(NF_EVENT_END, 2000, "b", "failed");
	t = render();
	ck_assert_ptr_null(strstr(t, "job=\"b\""));
	free(t);

	nf_metrics_feed_stop();
	publish(NF_EVENT_END, 3000, "a", "failed");
	t = render();
	ck_line(t, "nomaflow_runs_total{job=\"a\",state=\"failed\"} 100");
	ck_line(t, "nomaflow_queue_depth 0");
	free(t);
}
END_TEST

static Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("core");

	tcase_add_test(tc, checker_rejects);
	tcase_add_test(tc, empty_registry);
	tcase_add_test(tc, histogram_cumulative);
	tcase_add_test(tc, runs_and_attempts);
	tcase_add_test(tc, label_escaping);
	tcase_add_test(tc, feed_events_and_gauges);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(metrics_suite)
