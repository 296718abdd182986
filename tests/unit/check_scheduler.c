/*
 * check_scheduler.c: supervisor/scheduler.c driven by a real libev loop,
 * the real slot arithmetic (slots.c) and a real store (store.c, SQLite in
 * a temporary directory), with the run engine (run.c) replaced by a fake
 * that records what the scheduler asked of it and writes the slot ledger
 * as run.c does (nf_store_run_insert, UNIQUE(job_id, scheduled_for)).
 *
 * Covered: cron fires (recorded, then adopted, one run per slot, in slot
 * order), no slot twice across a reload, catch-up policies from the
 * ledger, the runtime toggle (persisted, stops and resumes fires), the
 * overlap policies skip and queue, and dependencies (`after`, `after_on`).
 * Not covered here: spawning and the run state machine (check_run.c and
 * the integration tests), clock jumps (tests/integration/schedule.sh).
 *
 * Each test runs in its own process (Check forks), so the scheduler's
 * static state starts empty every time.  Timing: every-second schedules
 * and loops of a few seconds; assertions hold for any phase of the clock.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "nf_check.h"
#include "nomaflowd.h"
#include "run.h"
#include "scheduler.h"
#include "store.h"
#include "util.h"

struct nf_daemon	 nfd;
static struct nf_cfgref	 ref;
static char		 tmpdir[64];

/* What the scheduler asked of the run engine. */
struct fire {
	char	 job[32];
	char	 what;		/* r: recorded, a: adopted, t: triggered,
				   s: skipped, d: slot already recorded */
	char	 kind[16];	/* cron, catchup, dependency */
	char	 by[64];
	int64_t	 slot;
	int	 hold;
	double	 at;		/* wall clock when asked (ev_time) */
};
static struct fire	 fires[4096];
static size_t		 nfires;

/*
 * The fake run engine's state: one job may have an active run; with
 * trigger_starts a triggered run stays active (else runs end at once).
 */
static const char	*active_job;
static int		 trigger_starts;
static struct nf_run	 active_run, held_run;
static int		 have_held;

static void
fire_add(const char *job, char what, const char *kind, const char *by,
    int64_t slot, int hold)
{
	struct fire	*f;

	ck_assert_uint_lt(nfires, NF_NELEM(fires));
	f = &fires[nfires++];
	snprintf(f->job, sizeof(f->job), "%s", job);
	f->what = what;
	snprintf(f->kind, sizeof(f->kind), "%s", kind != NULL ? kind : "");
	snprintf(f->by, sizeof(f->by), "%s", by != NULL ? by : "");
	f->slot = slot;
	f->hold = hold;
	f->at = ev_time();
}

/* The ledger row, as run.c writes it: 0 if the slot already fired. */
static int64_t
ledger(const struct nf_job *job, const char *kind, const char *by,
    int64_t slot, const char *preset, enum nf_run_state st)
{
	struct nf_run_rec	r;

	memset(&r, 0, sizeof(r));
	r.job_id = job->id;
	r.state = st;
	r.trigger = kind;
	r.triggered_by = by;
	r.scheduled_for = slot;
	r.created_at = nf_now_ms();
	r.preset = preset;
	return nf_store_run_insert(&r);
}

int64_t
nf_run_record(const struct nf_job *job, const struct nf_trigger *t,
    int64_t *created_at, char *err, size_t errlen)
{
	int64_t	id;

	id = ledger(job, t->trigger, t->triggered_by, t->scheduled_for,
	    t->preset, NF_RUN_QUEUED);
	fire_add(job->id, id > 0 ? 'r' : 'd', t->trigger, t->triggered_by,
	    t->scheduled_for, 0);
	*created_at = nf_now_ms();
	if (id < 0)
		snprintf(err, errlen, "%s", nf_store_error());
	return id;
}

void
nf_run_adopt(const struct nf_job *job, const struct nf_trigger *t,
    int64_t id, int64_t created_at)
{
	fire_add(job->id, 'a', t->trigger, t->triggered_by, t->scheduled_for,
	    0);
}

int64_t
nf_run_trigger_ex(const struct nf_job *job, const struct nf_trigger *t,
    int *conflict, char *err, size_t errlen)
{
	int64_t	id;

	id = t->scheduled_for > 0 ? ledger(job, t->trigger, t->triggered_by,
	    t->scheduled_for, t->preset, NF_RUN_QUEUED) : 1000 + (int64_t)nfires;
	fire_add(job->id, id > 0 ? 't' : 'd', t->trigger, t->triggered_by,
	    t->scheduled_for, t->hold);
	if (id > 0 && t->hold)
		have_held = 1;
	else if (id > 0 && trigger_starts)
		active_job = job->id;
	if (id < 0)
		snprintf(err, errlen, "%s", nf_store_error());
	return id;
}

int64_t
nf_run_skip_ex(const struct nf_job *job, const char *preset,
    const char *trigger, const char *triggered_by, int64_t scheduled_for,
    const char *why)
{
	int64_t	id;

	id = scheduled_for > 0 ? ledger(job, trigger, triggered_by,
	    scheduled_for, preset, NF_RUN_SKIPPED) : 1;
	fire_add(job->id, id > 0 ? 's' : 'd', trigger, why, scheduled_for, 0);
	return id;
}

struct nf_run *
nf_run_find_job(const char *job_id)
{
	return active_job != NULL && strcmp(job_id, active_job) == 0 ?
	    &active_run : NULL;
}

int
nf_run_job_active(const char *job_id, struct nf_run **held)
{
	int	active = nf_run_find_job(job_id) != NULL;

	if (held != NULL)
		*held = active && have_held ? &held_run : NULL;
	return active;
}

int
nf_run_cancel_job(const char *job_id, int64_t except, const char *by)
{
	return 0;
}

void
nf_run_release(struct nf_run *r)
{
	have_held = 0;
}

/* Fixture: a temporary directory with a store; the loop. */

static void
setup(void)
{
	char	*db;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/nf-check-scheduler.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	db = nf_xprintf("%s/store.db", tmpdir);
	ck_assert_msg(nf_store_open(db, 0) == 0, "%s", nf_store_error());
	free(db);
	memset(&nfd, 0, sizeof(nfd));
	nfd.loop = ev_default_loop(0);
	active_run.id = 99;
	held_run.id = 100;
}

static void
teardown(void)
{
	char	*cmd;

	nf_sched_stop();
	nf_store_close();
	cmd = nf_xprintf("rm -rf %s", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* Load jobs (TOML text) as the current configuration. */
static struct nf_config *
load(const char *jobs)
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	FILE			*fp;
	char			*p;

	p = nf_xprintf("%s/jobs.d", tmpdir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = nf_xprintf("%s/nomaflow.toml", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fprintf(fp, "state_dir = \"%s\"\njobs_dir = \"%s/jobs.d\"\n", tmpdir,
	    tmpdir);
	ck_assert_int_eq(fclose(fp), 0);
	free(p);
	p = nf_xprintf("%s/jobs.d/j.toml", tmpdir);
	ck_assert_ptr_nonnull(fp = fopen(p, "w"));
	fputs(jobs, fp);
	ck_assert_int_eq(fclose(fp), 0);
	free(p);
	nf_errs_init(&errs);
	p = nf_xprintf("%s/nomaflow.toml", tmpdir);
	cfg = nf_config_load(p, 0, &errs);
	free(p);
	if (cfg == NULL) {
		nf_errs_print(&errs, stderr);
		ck_abort_msg("config does not load: %s", errs.n > 0 ?
		    errs.msgs[0] : "?");
	}
	nf_errs_free(&errs);
	ref.cfg = cfg;
	ref.refs = 1;
	nfd.cur = &ref;
	return cfg;
}

static void
stop_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	ev_break(loop, EVBREAK_ALL);
}

static void
run_for(double secs)
{
	ev_timer	t;

	ev_now_update(nfd.loop);
	ev_timer_init(&t, stop_cb, secs, 0.);
	ev_timer_start(nfd.loop, &t);
	ev_run(nfd.loop, 0);
	ev_timer_stop(nfd.loop, &t);
}

static size_t
count(const char *job, char what, const char *kind)
{
	size_t	i, n = 0;

	for (i = 0; i < nfires; i++)
		if (strcmp(fires[i].job, job) == 0 && fires[i].what == what &&
		    (kind == NULL || strcmp(fires[i].kind, kind) == 0))
			n++;
	return n;
}

#define STEP	"[[jobs.steps]]\nname = \"s\"\ntype = \"exec\"\n" \
		"argv = [\"/bin/true\"]\n"
#define TICK(extra)							\
	"[[jobs]]\nid = \"tick\"\nschedule = \"* * * * * *\"\n" extra STEP

/* Every second: each slot recorded, then adopted, in order, once. */
START_TEST(test_cron_fires)
{
	const struct nf_job	*job;
	int64_t			 prev = 0, before = time(NULL);
	size_t			 i, n = 0;

	load(TICK(""));
	nf_sched_load(nfd.cur->cfg);
	run_for(3.2);
	for (i = 0; i < nfires; i++) {
		if (fires[i].what == 'r') {
			ck_assert_str_eq(fires[i].kind, "cron");
			ck_assert_str_eq(fires[i].by, "cron");
			/*
			 * One second after the other, never early (libev's
			 * clock) and not late by a second even on a busy
			 * machine (the timerfd makes it milliseconds).
			 */
			ck_assert(prev == 0 || fires[i].slot == prev + 1);
			ck_assert(fires[i].slot > before);
			ck_assert_msg(fires[i].at >= (double)fires[i].slot -
			    0.01 && fires[i].at < (double)fires[i].slot + 1.0,
			    "slot %lld asked at %.3f", (long long)fires[i].slot,
			    fires[i].at);
			/* Adopted right after its row is written. */
			ck_assert_uint_lt(i + 1, nfires);
			ck_assert_int_eq(fires[i + 1].what, 'a');
			ck_assert(fires[i + 1].slot == fires[i].slot);
			prev = fires[i].slot;
			n++;
		} else
			ck_assert_msg(fires[i].what == 'a', "unexpected %c",
			    fires[i].what);
	}
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_le(n, 4);
	ck_assert(nf_store_last_slot("tick") == prev);
	job = nf_config_job(nfd.cur->cfg, "tick");
	ck_assert_int_eq(nf_sched_job_enabled(job), 1);
	/* The next fire of the job's schedule is the next second. */
	ck_assert(nf_sched_next(job, prev, NULL) == prev + 1);
}
END_TEST

/* A reload re-arms without firing a slot again. */
START_TEST(test_reload_no_refire)
{
	size_t	i, j;

	load(TICK(""));
	nf_sched_load(nfd.cur->cfg);
	run_for(1.6);
	nf_sched_load(nfd.cur->cfg);
	run_for(0.7);
	nf_sched_load(nfd.cur->cfg);
	run_for(1.6);
	ck_assert_uint_ge(count("tick", 'r', "cron"), 2);
	ck_assert_uint_eq(count("tick", 'd', NULL), 0);
	ck_assert_uint_eq(count("tick", 't', NULL), 0);	/* no catch-up */
	for (i = 0; i < nfires; i++)
		for (j = i + 1; j < nfires; j++)
			ck_assert(fires[i].what != 'r' || fires[j].what !=
			    'r' || fires[i].slot != fires[j].slot);
}
END_TEST

/* Catch-up from the ledger: none, latest, all. */
START_TEST(test_catchup)
{
	static const char *const pol[] = { "none", "latest", "all" };
	const struct nf_job	*job;
	struct nf_config	*cfg;
	char			 text[512];
	int64_t			 now, last;
	size_t			 i, n;

	snprintf(text, sizeof(text), "[[jobs]]\nid = \"m\"\n"
	    "schedule = \"* * * * *\"\ncatchup = \"%s\"\n"
	    "catchup_window = \"1h\"\n" STEP, pol[_i]);
	cfg = load(text);
	job = nf_config_job(cfg, "m");
	trigger_starts = 1;
	now = time(NULL);
	/* The ledger says the job last fired ten minutes ago. */
	last = now / 60 * 60 - 600;
	ck_assert(ledger(job, "cron", "cron", last, NULL,
	    NF_RUN_SUCCEEDED) > 0);
	nf_sched_load(cfg);
	n = count("m", 't', "catchup");
	switch (_i) {
	case 0:
		ck_assert_uint_eq(n, 0);
		break;
	case 1:
		ck_assert_uint_eq(n, 1);
		ck_assert(fires[0].slot > now - 120 && fires[0].slot <= now);
		ck_assert(fires[0].slot % 60 == 0);
		break;
	case 2:
		/* Every minute since, oldest first, each behind the last. */
		ck_assert_uint_ge(n, 9);
		ck_assert_uint_le(n, 10);
		for (i = 0; i < n; i++) {
			ck_assert(fires[i].slot == last + 60 * (int64_t)(i +
			    1));
			ck_assert_int_eq(fires[i].hold, i > 0);
		}
		break;
	}
	ck_assert_uint_eq(count("m", 'd', NULL), 0);
	ck_assert(nf_store_last_slot("m") >= last);
}
END_TEST

/* The runtime toggle: persisted, stops fires, and resumes them. */
START_TEST(test_toggle)
{
	const struct nf_job	*job;
	char			 err[256];
	size_t			 n;

	load(TICK("catchup = \"none\"\n"));
	job = nf_config_job(nfd.cur->cfg, "tick");
	nf_sched_load(nfd.cur->cfg);
	ck_assert_int_eq(nf_sched_set_enabled(job, 0, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_sched_job_enabled(job), 0);
	ck_assert_int_eq(nf_store_job_enabled_get("tick"), 0);
	run_for(2.2);
	ck_assert_uint_eq(nfires, 0);
	ck_assert_int_eq(nf_sched_set_enabled(job, 1, err, sizeof(err)), 0);
	ck_assert_int_eq(nf_sched_job_enabled(job), 1);
	ck_assert_int_eq(nf_store_job_enabled_get("tick"), 1);
	run_for(2.2);
	n = count("tick", 'r', "cron");
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_eq(count("tick", 't', "catchup"), 0);
}
END_TEST

/* Overlap while the job has an active run: skip, then queue (one held). */
START_TEST(test_overlap)
{
	load(TICK(""));
	active_job = "tick";
	nf_sched_load(nfd.cur->cfg);
	run_for(2.2);
	ck_assert_uint_ge(count("tick", 's', "cron"), 1);
	ck_assert_uint_eq(count("tick", 'r', NULL), 0);
	ck_assert_uint_eq(count("tick", 't', NULL), 0);
	ck_assert_ptr_nonnull(strstr(fires[0].by, "run 99 of the job is "
	    "still active (overlap = skip)"));
}
END_TEST

START_TEST(test_overlap_queue)
{
	size_t	i, held = 0, skipped = 0;

	load(TICK("overlap = \"queue\"\n"));
	active_job = "tick";
	nf_sched_load(nfd.cur->cfg);
	run_for(3.2);
	for (i = 0; i < nfires; i++) {
		if (fires[i].what == 't') {
			ck_assert_int_eq(fires[i].hold, 1);
			held++;
		} else if (fires[i].what == 's') {
			ck_assert_ptr_nonnull(strstr(fires[i].by, "run 100 is "
			    "already queued"));
			skipped++;
		}
	}
	ck_assert_uint_eq(held, 1);
	ck_assert_uint_ge(skipped, 1);
}
END_TEST

/* after / after_on: fired on the end of a run of the listed job. */
START_TEST(test_dependencies)
{
	load("[[jobs]]\nid = \"a\"\n" STEP
	    "[[jobs]]\nid = \"b\"\nafter = [\"a\"]\n" STEP
	    "[[jobs]]\nid = \"c\"\nafter = [\"a\"]\nafter_on = \"always\"\n"
	    STEP
	    "[[jobs]]\nid = \"d\"\nafter = [\"b\"]\n" STEP);
	nf_sched_load(nfd.cur->cfg);
	nf_sched_run_done("a", 7, NF_RUN_SUCCEEDED);
	ck_assert_uint_eq(nfires, 2);
	ck_assert_uint_eq(count("b", 't', "dependency"), 1);
	ck_assert_uint_eq(count("c", 't', "dependency"), 1);
	ck_assert_str_eq(fires[0].by, "job:a@7");
	ck_assert(fires[0].slot == 0);
	nf_sched_run_done("a", 8, NF_RUN_FAILED);
	ck_assert_uint_eq(nfires, 3);
	ck_assert_uint_eq(count("c", 't', "dependency"), 2);
	ck_assert_str_eq(fires[2].by, "job:a@8");
	/* Skipped runs fire nothing; unknown jobs nothing either. */
	nf_sched_run_done("a", 9, NF_RUN_SKIPPED);
	nf_sched_run_done("zz", 10, NF_RUN_SUCCEEDED);
	ck_assert_uint_eq(nfires, 3);
	/* A dependent job that has a run goes through its overlap policy. */
	active_job = "d";
	nf_sched_run_done("b", 11, NF_RUN_SUCCEEDED);
	ck_assert_uint_eq(count("d", 's', "dependency"), 1);
}
END_TEST

static Suite *
scheduler_suite(void)
{
	Suite	*s = suite_create("scheduler");
	TCase	*tc;

	tc = tcase_create("loop");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_cron_fires);
	tcase_add_test(tc, test_reload_no_refire);
	tcase_add_loop_test(tc, test_catchup, 0, 3);
	tcase_add_test(tc, test_toggle);
	tcase_add_test(tc, test_overlap);
	tcase_add_test(tc, test_overlap_queue);
	tcase_add_test(tc, test_dependencies);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(scheduler_suite)
