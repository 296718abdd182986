/*
 * check_schedule.c: the schedules of a job as supervisor/jobs.c loads them
 * (schedule as a string or an array, every + every_anchor, [[jobs.schedules]]
 * tables with their own zones), and the error messages with their file
 * positions.  Each case writes a nomaflow.toml and one job file into a
 * fresh temporary directory.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "nf_check.h"
#include "util.h"

static char	 tmpdir[64];

/* Write the job file and load; returns the config or NULL with errs. */
static struct nf_config *
load(const char *jobtoml, struct nf_errs *errs)
{
	FILE	*fp;
	char	*p;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nf-check-sched.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	ck_assert_int_eq(chdir(tmpdir), 0);
	ck_assert_int_eq(mkdir("jobs.d", 0755), 0);
	fp = fopen("nomaflow.toml", "w");
	ck_assert_ptr_nonnull(fp);
	fputs("state_dir = \"state\"\njobs_dir = \"jobs.d\"\n", fp);
	ck_assert_int_eq(fclose(fp), 0);
	fp = fopen("jobs.d/j.toml", "w");
	ck_assert_ptr_nonnull(fp);
	fputs(jobtoml, fp);
	ck_assert_int_eq(fclose(fp), 0);
	nf_errs_init(errs);
	p = nf_xprintf("%s/nomaflow.toml", tmpdir);
	struct nf_config *cfg = nf_config_load(p, 0, errs);
	free(p);
	return cfg;
}

static void
cleanup(void)
{
	unlink("jobs.d/j.toml");
	rmdir("jobs.d");
	unlink("nomaflow.toml");
	ck_assert_int_eq(chdir("/"), 0);
	rmdir(tmpdir);
}

#define STEP	"[[jobs.steps]]\nname = \"s\"\ntype = \"exec\"\n" \
		"argv = [\"/bin/true\"]\n"

static int64_t
iso(const char *s)
{
	int	y, mo, d, h = 0, mi = 0, se = 0;

	ck_assert_int_ge(sscanf(s, "%d-%d-%dT%d:%d:%d", &y, &mo, &d, &h, &mi,
	    &se), 3);
	return nf_tz_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
	    se;
}

/* The earliest next fire over a job's schedules (as the scheduler). */
static int64_t
job_next(const struct nf_job *j, int64_t after, size_t *which)
{
	int64_t	best = -1, t;
	size_t	i;

	for (i = 0; i < j->nschedules; i++) {
		t = nf_cron_next(j->schedules[i].cron, j->schedules[i].tz,
		    after, NULL);
		if (t > 0 && (best < 0 || t < best)) {
			best = t;
			*which = i;
		}
	}
	return best;
}

START_TEST(test_forms)
{
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	const struct nf_job	*j;
	size_t			 w;
	int64_t			 t;

	cfg = load("[[jobs]]\nid = \"multi\"\n"
	    "schedule = [\"0 3 * * *\", \"30 0 9 * * MON\"]\n"
	    "timezone = \"Europe/Paris\"\n"
	    "every = \"6h\"\n"
	    "every_anchor = 2026-01-01T00:00:00+05:45\n"
	    "[[jobs.schedules]]\ncron = \"0 12 * * *\"\n"
	    "timezone = \"Asia/Kolkata\"\n"
	    "[[jobs.schedules]]\nevery = \"90s\"\n"
	    STEP
	    "[[jobs]]\nid = \"one\"\nschedule = \"@every 15m\"\n" STEP
	    "[[jobs]]\nid = \"manual\"\n" STEP, &errs);
	ck_assert_msg(cfg != NULL, "%s", errs.n ? errs.msgs[0] : "?");
	j = nf_config_job(cfg, "multi");
	ck_assert_uint_eq(j->nschedules, 5);
	ck_assert_str_eq(j->schedules[0].expr, "0 3 * * *");
	ck_assert_str_eq(j->schedules[1].expr, "30 0 9 * * MON");
	ck_assert_str_eq(j->schedules[2].expr,
	    "@every 6h from 2026-01-01T00:00:00+05:45");
	ck_assert_str_eq(j->schedules[3].expr, "0 12 * * *");
	ck_assert_str_eq(j->schedules[4].expr, "@every 90s");
	/* The first is also the job's schedule (display, "is scheduled"). */
	ck_assert_ptr_eq(j->schedule, j->schedules[0].expr);
	ck_assert_ptr_eq(j->cron, j->schedules[0].cron);
	/* Zones: the job's unless the table names its own. */
	ck_assert_ptr_eq(j->schedules[0].tz, j->tz);
	ck_assert_str_eq(nf_tz_name(j->schedules[0].tz), "Europe/Paris");
	ck_assert_str_eq(nf_tz_name(j->schedules[3].tz), "Asia/Kolkata");
	ck_assert_str_eq(j->schedules[3].timezone, "Asia/Kolkata");
	ck_assert_ptr_null(j->schedules[4].timezone);
	/* 6h anchored at 00:00 +05:45: 18:15, 00:15, 06:15, 12:15 UTC. */
	ck_assert_int_eq(nf_cron_interval(j->schedules[2].cron), 6 * 3600);
	t = nf_cron_next(j->schedules[2].cron, NULL,
	    iso("2026-06-01T00:00:00"), NULL);
	ck_assert_int_eq(t, iso("2026-06-01T00:15:00"));
	/* 90 s, epoch-aligned. */
	t = nf_cron_next(j->schedules[4].cron, NULL,
	    iso("2026-06-01T00:00:00"), NULL);
	ck_assert_int_eq(t, iso("2026-06-01T00:01:30"));
	/* Kolkata noon is 06:30 UTC; Paris 03:00 CEST is 01:00 UTC. */
	ck_assert_int_eq(nf_cron_next(j->schedules[3].cron,
	    j->schedules[3].tz, iso("2026-06-01T00:00:00"), NULL),
	    iso("2026-06-01T06:30:00"));
	ck_assert_int_eq(nf_cron_next(j->schedules[0].cron,
	    j->schedules[0].tz, iso("2026-06-01T00:00:00"), NULL),
	    iso("2026-06-01T01:00:00"));
	/* The earliest over all: the 90 s interval, then Paris 03:00. */
	t = job_next(j, iso("2026-06-01T00:59:59"), &w);
	ck_assert_int_eq(t, iso("2026-06-01T01:00:00"));
	/* Monday 2026-06-01 09:00:30 Paris = 07:00:30 UTC, seconds kept. */
	ck_assert_int_eq(nf_cron_next(j->schedules[1].cron,
	    j->schedules[1].tz, iso("2026-06-01T00:00:00"), NULL),
	    iso("2026-06-01T07:00:30"));

	j = nf_config_job(cfg, "one");
	ck_assert_uint_eq(j->nschedules, 1);
	ck_assert_str_eq(j->schedule, "@every 15m");
	ck_assert_ptr_null(j->schedules[0].tz);
	j = nf_config_job(cfg, "manual");
	ck_assert_uint_eq(j->nschedules, 0);
	ck_assert_ptr_null(j->schedule);
	ck_assert_ptr_null(j->cron);
	nf_config_free(cfg);
	nf_errs_free(&errs);
	cleanup();
}
END_TEST

/* Each bad job: the one message, with "j.toml:line:col: " in front. */
static const struct bad {
	const char	*toml;
	const char	*msg;
} bads[] = {
	{ "schedule = \"0 0 * * MON#6\"",
	    "3:25: job \"x\": schedule \"0 0 * * MON#6\": day-of-week: "
	    "occurrence \"6\" in \"MON#6\" must be 1-5 (\"5#3\" is the third "
	    "Friday)" },
	{ "schedule = [\"0 3 * * *\", \"0 0 31 2 * * *\"]",
	    "3:40: job \"x\": schedule[1] \"0 0 31 2 * * *\": expected 5 "
	    "fields (minute hour day-of-month month day-of-week) or 6 (second "
	    "first), got 7" },
	{ "schedule = [\"61 * * * * *\"]",
	    "3:14: job \"x\": schedule[0] \"61 * * * * *\": second: \"61\" is "
	    "out of range 0-59" },
	{ "schedule = []",
	    "3:12: job \"x\": schedule is an empty array (remove it for a job "
	    "that only runs on demand)" },
	{ "schedule = [5]",
	    "3:13: job \"x\": schedule[0] must be a string, not an integer" },
	{ "every = \"15\"",
	    "3:10: job \"x\": every: interval \"15\": \"15\" has no unit (add "
	    "s, m, h or d: \"15s\" is seconds)" },
	{ "every = \"1h30x\"",
	    "3:14: job \"x\": every: interval \"1h30x\": unknown unit \"x\" "
	    "(use s, m, h or d)" },
	{ "every = \"5m\"\nevery_anchor = \"2026-01-01\"",
	    "4:16: job \"x\": every_anchor must be an offset date-time such as "
	    "2026-01-01T00:00:00+05:45 (unquoted, with its UTC offset), not a "
	    "string" },
	{ "every = \"5m\"\nevery_anchor = 2026-01-01T00:00:00",
	    "4:16: job \"x\": every_anchor must be an offset date-time such as "
	    "2026-01-01T00:00:00+05:45 (unquoted, with its UTC offset), not a "
	    "date/time" },
	{ "every_anchor = 2026-01-01T00:00:00Z",
	    "3:16: job \"x\": every_anchor without every (it anchors an "
	    "interval)" },
	{ "[[jobs.schedules]]\ncron = \"0 0 * * *\"\nevery = \"1h\"",
	    "3:1: job \"x\": schedules[0]: give exactly one of cron = "
	    "\"...\" or every = \"...\"" },
	{ "[[jobs.schedules]]\ntimezone = \"UTC\"",
	    "3:1: job \"x\": schedules[0]: give exactly one of cron = "
	    "\"...\" or every = \"...\"" },
	{ "[[jobs.schedules]]\ncron = \"0 0 * * *\"\n"
	    "[[jobs.schedules]]\ncron = \"0 0 L W *\"",
	    "6:15: job \"x\": schedules[1].cron \"0 0 L W *\": month: \"W\" "
	    "is not a month name or number (expected 1-12 or JAN-DEC)" },
	{ "[[jobs.schedules]]\ncron = \"0 0 * * *\"\ntimezone = \"Mars/Base\"",
	    "5:12: job \"x\": schedules[0].timezone: *" },
	{ "[[jobs.schedules]]\ncron = \"0 0 * * *\"\ncolour = 1",
	    "5:1: unknown key \"colour\" in schedules[0] of job \"x\" "
	    "(allowed: cron, every, every_anchor, timezone)" },
	{ "[[jobs.schedules]]\ncron = \"0 0 * * *\"\nevery_anchor = "
	    "2026-01-01T00:00:00Z",
	    "5:16: job \"x\": schedules[0]: every_anchor without every (it "
	    "anchors an interval)" },
	{ "schedules = \"0 0 * * *\"",
	    "3:13: job \"x\": schedules must be an array of tables "
	    "([[jobs.schedules]]), not a string" },
	{ "schedule = \"@every 400d\"",
	    "3:20: job \"x\": schedule \"@every 400d\": interval \"400d\" is "
	    "longer than 366 days (use a cron expression such as \"@yearly\")" },
};

START_TEST(test_errors)
{
	const struct bad	*b = &bads[_i];
	struct nf_errs		 errs;
	struct nf_config	*cfg;
	char			*toml, *want, *got;
	size_t			 n;

	toml = nf_xprintf("[[jobs]]\nid = \"x\"\n%s\n" STEP, b->toml);
	cfg = load(toml, &errs);
	ck_assert_ptr_null(cfg);
	ck_assert_msg(errs.n == 1, "%zu errors, first: %s", errs.n,
	    errs.n ? errs.msgs[0] : "-");
	want = nf_xprintf("%s/jobs.d/j.toml:%s", tmpdir, b->msg);
	got = errs.msgs[0];
	n = strlen(want);
	if (n > 0 && want[n - 1] == '*')
		ck_assert_msg(strncmp(got, want, n - 1) == 0, "got  %s\nwant "
		    "%s", got, want);
	else
		ck_assert_msg(strcmp(got, want) == 0, "got  %s\nwant %s", got,
		    want);
	free(want);
	free(toml);
	nf_errs_free(&errs);
	cleanup();
}
END_TEST

static Suite *
schedule_suite(void)
{
	Suite	*s = suite_create("schedule");
	TCase	*tc;

	tc = tcase_create("config");
	tcase_add_test(tc, test_forms);
	tcase_add_loop_test(tc, test_errors, 0, NF_NELEM(bads));
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(schedule_suite)
