/*
 * check_engine.c: the run engine (supervisor/run.c) linked on its own,
 * with a real store in a temporary directory, a real configuration, a
 * libev loop and an events subscriber; the spawner, the scheduler and the
 * daemon's main are stubs (no worker, no control socket).  Checks params
 * (typed, refused, redacted), templates rendered into what a worker gets,
 * retries, and the events a subscriber sees.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "events.h"
#include "nf_check.h"
#include "nomaflowd.h"
#include "params.h"
#include "run.h"
#include "scheduler.h"
#include "spawn.h"
#include "store.h"
#include "util.h"
#include "val.h"

/* Stubs of the daemon around the run engine. */

struct nf_daemon	 nfd;
static struct nf_cfgref	 cref;

struct nf_cfgref *
nf_cfgref_get(void)
{
	cref.refs++;
	return &cref;
}

void
nf_cfgref_put(struct nf_cfgref *c)
{
	c->refs--;
}

void
nf_daemon_maybe_exit(void)
{
}

void
nf_sched_run_done(const char *job_id, int64_t run_id, enum nf_run_state st)
{
}

/* The spawner: remembers what the "worker" was started with. */
static struct nf_run	*spawned;
static struct nf_val	*spawned_spec;
static int		 nspawned;

int
nf_spawn_step(struct nf_run *r, const struct nf_step *st, char *err,
    size_t errlen)
{
	spawned = r;
	nf_val_free(spawned_spec);
	spawned_spec = nf_val_dup(r->spec);
	nspawned++;
	return 0;
}

void
nf_spawn_stop(struct nf_worker *w, enum nf_reason why)
{
}

void
nf_spawn_kill(struct nf_worker *w, enum nf_reason why)
{
}

/* A subscriber that keeps every event. */
struct seen {
	enum nf_event_kind	 kind;
	int64_t			 run_id;
	struct nf_val		*data;
};
static struct seen	 seen[256];
static size_t		 nseen;

static void
on_event(const struct nf_event *ev, void *arg)
{
	ck_assert_uint_lt(nseen, 256);
	seen[nseen].kind = ev->kind;
	seen[nseen].run_id = ev->run_id;
	seen[nseen].data = nf_val_dup(ev->data);
	nseen++;
}

static int
want_all(int64_t run_id, void *arg)
{
	return 1;
}

static int
want_none(int64_t run_id, void *arg)
{
	return 0;
}

static char	 tdir[256];

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	ck_assert_ptr_nonnull(fp = fopen(path, "w"));
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
}

static const char jobs_toml[] =
    "[[jobs]]\n"
    "id = \"p\"\n"
    "params = { n = 5, who = \"x\", token = \"dflt\" }\n"
    "secret_params = [\"token\"]\n"
    "retry = { attempts = 2, backoff = \"fixed\", base_seconds = 0 }\n"
    "[[jobs.steps]]\n"
    "name = \"s\"\n"
    "type = \"exec\"\n"
    "argv = [\"/bin/echo\", \"${params.who}-${params.n}\", \"${params.n}\","
    " \"${params.token}\"]\n";

static void
setup(void)
{
	struct nf_errs	 errs;
	const char	*t = getenv("TMPDIR");
	char		*p, *text;

	snprintf(tdir, sizeof(tdir), "%s/nf-engine-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	p = nf_xprintf("%s/jobs.d", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	free(p);
	p = nf_xprintf("%s/jobs.d/a.toml", tdir);
	write_file(p, jobs_toml);
	free(p);
	p = nf_xprintf("%s/nomaflow.toml", tdir);
	text = nf_xprintf("state_dir = \"%s\"\n", tdir);
	write_file(p, text);
	free(text);
	nf_errs_init(&errs);
	cref.cfg = nf_config_load(p, 0, &errs);
	free(p);
	ck_assert_msg(cref.cfg != NULL, "config: %s",
	    errs.n > 0 ? errs.msgs[0] : "?");
	nf_errs_free(&errs);
	memset(&nfd, 0, sizeof(nfd));
	nfd.loop = ev_default_loop(0);
	nfd.cur = &cref;
	nfd.store_ok = 1;
	p = nf_xprintf("%s/store.db", tdir);
	ck_assert_int_eq(nf_store_open(p, 0), 0);
	free(p);
	nf_run_init();
	nseen = 0;
	nspawned = 0;
	spawned = NULL;
}

static void
teardown(void)
{
	char	*cmd;

	nf_store_close();
	cmd = nf_xprintf("rm -rf '%s'", tdir);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

/* The last event of a kind, or NULL. */
static const struct nf_val *
last_event(enum nf_event_kind kind)
{
	size_t	i;

	for (i = nseen; i-- > 0; )
		if (seen[i].kind == kind)
			return seen[i].data;
	return NULL;
}

static int
has_log_line(const char *needle)
{
	const char	*l;
	size_t		 i;

	for (i = 0; i < nseen; i++)
		if (seen[i].kind == NF_EVENT_LOG &&
		    (l = nf_val_get_str(seen[i].data, "line")) != NULL &&
		    strstr(l, needle) != NULL)
			return 1;
	return 0;
}

static void
finish_attempt(enum nf_attempt_state state, const char *error)
{
	struct nf_step_outcome	o;

	memset(&o, 0, sizeof(o));
	o.state = state;
	o.reason = state == NF_ATT_FAILED ? NF_REASON_ERROR : NF_REASON_NONE;
	o.error = error != NULL ? nf_xstrdup(error) : NULL;
	o.exit_code = state == NF_ATT_SUCCEEDED ? 0 : 1;
	o.rows_affected = -1;
	nf_run_worker_done(spawned, &o);	/* takes error */
}

static const struct nf_job *
job_p(void)
{
	const struct nf_job	*j;

	ck_assert_ptr_nonnull(j = nf_config_job(cref.cfg, "p"));
	return j;
}

/* Typed params reach the rendered spec; history and events hide the secret. */
START_TEST(params_templates_events)
{
	struct nf_val		*given, *row;
	const struct nf_val	*argv, *end;
	char			 err[512];
	int64_t			 id;
	int			 conflict, sub;

	sub = nf_events_subscribe(NF_EVENT_ALL, on_event, want_all, NULL);
	given = nf_val_map();
	nf_val_map_set_str(given, "n", "7");
	nf_val_map_set_str(given, "who", "bob");
	nf_val_map_set_str(given, "token", "T0KEN-given");
	id = nf_run_trigger(job_p(), "manual", "user:test", 0, given, 0,
	    &conflict, err, sizeof(err));
	nf_val_free(given);
	ck_assert_msg(id > 0, "%s", err);
	ck_assert_int_eq(nspawned, 1);
	/* Templates: text with the typed value; a whole reference keeps it. */
	argv = nf_val_get(spawned_spec, "argv");
	ck_assert_ptr_nonnull(argv);
	ck_assert_str_eq(argv->u.a.items[1]->u.s.p, "bob-7");
	ck_assert_int_eq(argv->u.a.items[2]->type, NF_V_INT);
	ck_assert_int_eq(argv->u.a.items[2]->u.i, 7);
	/* The worker gets the real secret... */
	ck_assert_str_eq(argv->u.a.items[3]->u.s.p, "T0KEN-given");
	ck_assert_int_eq(nf_val_get(spawned->run_params, "n")->type,
	    NF_V_INT);
	/* ...the history and every log line do not. */
	nf_run_log(spawned, "stdout", "info", "echo T0KEN-given done");
	ck_assert(has_log_line("echo *** done"));
	ck_assert(!has_log_line("T0KEN"));
	finish_attempt(NF_ATT_SUCCEEDED, NULL);
	ck_assert_ptr_nonnull(end = last_event(NF_EVENT_END));
	ck_assert_str_eq(nf_val_get_str(end, "state"), "succeeded");
	ck_assert_ptr_nonnull(last_event(NF_EVENT_STATE));
	ck_assert_ptr_nonnull(last_event(NF_EVENT_STEP));
	ck_assert_ptr_null(nf_run_find(id));
	row = nf_store_run_get(id);
	ck_assert_ptr_nonnull(row);
	ck_assert_str_eq(nf_val_get_str(nf_val_get(row, "params"), "token"),
	    "***");
	ck_assert_int_eq(nf_val_get(nf_val_get(row, "params"), "n")->type,
	    NF_V_INT);
	nf_val_free(row);
	nf_events_unsubscribe(sub);
}
END_TEST

/* A bad value is refused before anything is recorded. */
START_TEST(bad_param_no_run)
{
	struct nf_store_filter	 f;
	struct nf_val		*given, *runs;
	char			 err[512];
	int			 conflict;

	given = nf_val_map();
	nf_val_map_set_str(given, "n", "abc");
	ck_assert_int_eq(nf_run_trigger(job_p(), "call_job", "job:x@1", 0,
	    given, 1, &conflict, err, sizeof(err)), -1);
	nf_val_free(given);
	ck_assert_int_eq(conflict, 0);
	ck_assert_str_eq(err, "job p: parameter \"n\" must be an integer, "
	    "like its default 5; got \"abc\"");
	ck_assert_int_eq(nspawned, 0);
	memset(&f, 0, sizeof(f));
	f.state = -1;
	runs = nf_store_runs_list(&f);
	ck_assert_ptr_nonnull(runs);
	ck_assert_uint_eq(runs->u.a.n, 0);
	nf_val_free(runs);
}
END_TEST

/* A failed attempt is retried (the timer), the error redacted. */
START_TEST(retry_then_succeed)
{
	struct nf_val		*given, *row;
	const struct nf_val	*atts;
	char			 err[512];
	int64_t			 id;
	int			 conflict, sub, i;

	sub = nf_events_subscribe(NF_EVENT_END | NF_EVENT_STEP, on_event,
	    NULL, NULL);
	given = nf_val_map();
	nf_val_map_set_str(given, "token", "T0KEN-given");
	id = nf_run_trigger(job_p(), "manual", "user:test", 0, given, 0,
	    &conflict, err, sizeof(err));
	nf_val_free(given);
	ck_assert_msg(id > 0, "%s", err);
	ck_assert_int_eq(nspawned, 1);
	finish_attempt(NF_ATT_FAILED, "bad T0KEN-given");
	for (i = 0; i < 100 && nspawned < 2; i++)
		ev_run(nfd.loop, EVRUN_ONCE);
	ck_assert_int_eq(nspawned, 2);
	finish_attempt(NF_ATT_SUCCEEDED, NULL);
	ck_assert_str_eq(nf_val_get_str(last_event(NF_EVENT_END), "state"),
	    "succeeded");
	/* Only the kinds asked for. */
	ck_assert_ptr_null(last_event(NF_EVENT_LOG));
	ck_assert_ptr_nonnull(last_event(NF_EVENT_STEP));
	row = nf_store_run_get(id);
	atts = nf_val_get(row, "attempts");
	ck_assert_uint_eq(atts->u.a.n, 2);
	ck_assert_str_eq(nf_val_get_str(atts->u.a.items[0], "state"),
	    "failed");
	ck_assert_str_eq(nf_val_get_str(atts->u.a.items[0], "error"),
	    "bad ***");
	ck_assert_str_eq(nf_val_get_str(atts->u.a.items[1], "state"),
	    "succeeded");
	nf_val_free(row);
	nf_events_unsubscribe(sub);
}
END_TEST

/* Nobody wants the run: no payload is built, no callback runs. */
START_TEST(unwatched_run)
{
	char	err[512];
	int64_t	id;
	int	conflict, sub;

	sub = nf_events_subscribe(NF_EVENT_ALL, on_event, want_none, NULL);
	id = nf_run_trigger(job_p(), "manual", "user:test", 0, NULL, 0,
	    &conflict, err, sizeof(err));
	ck_assert_msg(id > 0, "%s", err);
	finish_attempt(NF_ATT_SUCCEEDED, NULL);
	ck_assert_uint_eq(nseen, 0);
	nf_events_unsubscribe(sub);
	/* Unsubscribed: nobody wants anything. */
	ck_assert(!nf_events_wanted(NF_EVENT_LOG, id));
}
END_TEST

/* Several subscribers: order, kinds, (un)subscribing from a callback. */
static char	order[16];
static size_t	norder;
static int	sub_b, sub_late;

static void
on_late(const struct nf_event *ev, void *arg)
{
	order[norder++] = 'L';
}

static void
on_a(const struct nf_event *ev, void *arg)
{
	order[norder++] = 'a';
	/* A subscriber added now sees the next event, not this one. */
	if (sub_late == 0)
		sub_late = nf_events_subscribe(NF_EVENT_ALL, on_late, NULL,
		    NULL);
}

static void
on_b(const struct nf_event *ev, void *arg)
{
	order[norder++] = 'b';
	/* Unsubscribing itself: no further call. */
	nf_events_unsubscribe(sub_b);
}

START_TEST(subscribers)
{
	struct nf_event	ev;
	int		sub_a, sub_log;

	memset(&ev, 0, sizeof(ev));
	ev.kind = NF_EVENT_STATE;
	ev.run_id = 1;
	norder = 0;
	sub_late = 0;
	sub_a = nf_events_subscribe(NF_EVENT_STATE, on_a, NULL, NULL);
	sub_b = nf_events_subscribe(NF_EVENT_ALL, on_b, NULL, NULL);
	sub_log = nf_events_subscribe(NF_EVENT_LOG, on_late, NULL, NULL);
	ck_assert(nf_events_wanted(NF_EVENT_STATE, 1));
	ck_assert(nf_events_wanted(NF_EVENT_LOG, 1));
	ck_assert(nf_events_wanted(NF_EVENT_END, 1));
	nf_events_publish(&ev);
	ck_assert_uint_eq(norder, 2);
	ck_assert_int_eq(memcmp(order, "ab", 2), 0);
	nf_events_publish(&ev);
	ck_assert_uint_eq(norder, 4);
	ck_assert_int_eq(memcmp(order + 2, "aL", 2), 0);
	nf_events_unsubscribe(sub_a);
	nf_events_unsubscribe(sub_late);
	nf_events_unsubscribe(sub_log);
	ck_assert(!nf_events_wanted(NF_EVENT_ALL, 1));
	ck_assert_str_eq(nf_event_name(NF_EVENT_LOG), "log");
	ck_assert_str_eq(nf_event_name(NF_EVENT_STEP), "state");
	ck_assert_str_eq(nf_event_name(NF_EVENT_PROGRESS), "state");
	ck_assert_str_eq(nf_event_name(NF_EVENT_END), "end");
}
END_TEST

static Suite *
engine_suite(void)
{
	Suite	*s = suite_create("engine");
	TCase	*tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, params_templates_events);
	tcase_add_test(tc, bad_param_no_run);
	tcase_add_test(tc, retry_then_succeed);
	tcase_add_test(tc, unwatched_run);
	tcase_add_test(tc, subscribers);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(engine_suite)
