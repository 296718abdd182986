/*
 * check_control.c: unit tests of the control handlers (supervisor/control.c)
 * against a real store in a fresh temporary directory and a small loaded
 * configuration.  Each test hands one end of a socketpair to the control
 * module (nf_control_adopt) and speaks the control protocol over the other
 * end with real frames, turning the libev loop by hand until the answer
 * arrives.
 *
 * The run engine, spawner, scheduler and store are linked for real; only
 * what nomaflowd's main.c owns (the daemon state, configuration references,
 * reload) is provided here.  The worker path points nowhere, so a run that
 * gets as far as spawning fails at once without starting a process.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <ev.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nf_check.h"
#include "config.h"
#include "control.h"
#include "nomaflowd.h"
#include "proto.h"
#include "retention.h"
#include "run.h"
#include "scheduler.h"
#include "spawn.h"
#include "store.h"
#include "util.h"
#include "val.h"

/* What nomaflowd's main.c provides. */
struct nf_daemon	nfd;

struct nf_cfgref *
nf_cfgref_get(void)
{
	nfd.cur->refs++;
	return nfd.cur;
}

void
nf_cfgref_put(struct nf_cfgref *ref)
{
	if (ref == NULL || --ref->refs > 0)
		return;
	nf_spawn_cache_free(ref);
	nf_config_free(ref->cfg);
	free(ref);
}

void
nf_daemon_reload(struct nf_val **errors_out)
{
	if (errors_out != NULL)
		*errors_out = nf_val_arr();
}

void
nf_daemon_maybe_exit(void)
{
}

int
nf_daemon_sandboxed(void)
{
	return 0;
}

static char			 tdir[256];
static int			 cl = -1;	/* the client's end */
static struct nf_msg_reader	 rd;
static int64_t			 next_id;

static const char jobs_toml[] =
    "[[jobs]]\n"
    "id = \"hello\"\n"
    "description = \"says hello\"\n"
    "schedule = \"0 3 * * *\"\n"
    "tags = [\"demo\"]\n"
    "params = { count = 3, mode = \"fast\" }\n"
    "[[jobs.steps]]\n"
    "name = \"greet\"\n"
    "type = \"exec\"\n"
    "argv = [\"echo\", \"hi\"]\n"
    "\n"
    "[[jobs]]\n"
    "id = \"other\"\n"
    "[[jobs.steps]]\n"
    "name = \"s\"\n"
    "type = \"exec\"\n"
    "argv = [\"true\"]\n";

static void
write_file(const char *path, const char *text)
{
	FILE	*fp;

	fp = fopen(path, "w");
	ck_assert_msg(fp != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, fp) >= 0, 1);
	ck_assert_int_eq(fclose(fp), 0);
}

static void
rm_tree(const char *dir)
{
	DIR		*d;
	struct dirent	*de;
	struct stat	 sb;
	char		 p[1024];

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
		if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
			rm_tree(p);
		else
			unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* Send one frame on the client's end. */
static void
client_send_msg(struct nf_val *m)
{
	ck_assert_int_eq(nf_msg_send_fd(cl, m), 0);
	nf_val_free(m);
}

/*
 * Turn the loop until the client's end has a message (returned, caller
 * frees) or EOF (NULL).  Fails the test after 5 seconds.
 */
static struct nf_val *
client_wait(enum nf_msg_type *type)
{
	struct nf_val	*m = NULL;
	enum nf_msg_type t;
	char		 err[256];
	int64_t		 deadline = nf_mono_ms() + 5000;
	enum nf_rd	 rc;

	for (;;) {
		ev_run(nfd.loop, EVRUN_NOWAIT);
		rc = nf_msg_read(&rd, NF_RD_NOWAIT, &t, &m, err, sizeof(err));
		if (rc == NF_RD_MSG) {
			if (type != NULL)
				*type = t;
			return m;
		}
		if (rc == NF_RD_EOF)
			return NULL;
		ck_assert_msg(rc == NF_RD_AGAIN, "client read: %s", err);
		ck_assert_msg(nf_mono_ms() < deadline, "no answer in 5 s");
		usleep(1000);
	}
}

/* Send a request; return its response (args owned; NULL for none). */
static struct nf_val *
call(const char *cmd, struct nf_val *args)
{
	struct nf_val		*req, *resp;
	enum nf_msg_type	 t;
	int64_t			 id = ++next_id, rid;

	req = nf_msg_new(NF_MSG_CTL_REQ);
	nf_val_map_set_int(req, "id", id);
	nf_val_map_set_str(req, "cmd", cmd);
	if (args != NULL)
		nf_val_map_set(req, "args", args);
	client_send_msg(req);
	resp = client_wait(&t);
	ck_assert_msg(resp != NULL, "%s: connection closed", cmd);
	ck_assert_int_eq(t, NF_MSG_CTL_RESP);
	ck_assert(nf_val_get_int(resp, "id", &rid));
	ck_assert_int_eq(rid, id);
	return resp;
}

static int
resp_ok(const struct nf_val *resp)
{
	int	ok = -1;

	ck_assert(nf_val_get_bool(resp, "ok", &ok));
	return ok;
}

/* A failed response with this code whose error contains frag. */
static void
ck_resp_err(const struct nf_val *resp, int code, const char *frag)
{
	const char	*e = nf_val_get_str(resp, "error");
	int64_t		 c = -1;

	ck_assert_int_eq(resp_ok(resp), 0);
	ck_assert(nf_val_get_int(resp, "code", &c));
	ck_assert_int_eq(c, code);
	ck_assert_msg(e != NULL && strstr(e, frag) != NULL,
	    "error \"%s\" lacks \"%s\"", e != NULL ? e : "(none)", frag);
}

static const struct nf_val *
resp_data(const struct nf_val *resp)
{
	const struct nf_val	*d;

	ck_assert_msg(resp_ok(resp), "failed: %s",
	    nf_val_get_str(resp, "error"));
	d = nf_val_get(resp, "data");
	ck_assert_ptr_nonnull(d);
	return d;
}

static struct nf_val *
args1_str(const char *k, const char *v)
{
	struct nf_val	*a = nf_val_map();

	nf_val_map_set_str(a, k, v);
	return a;
}

static struct nf_val *
args1_int(const char *k, int64_t v)
{
	struct nf_val	*a = nf_val_map();

	nf_val_map_set_int(a, k, v);
	return a;
}

/* Connect a fresh client; with hello, exchange HELLO first. */
static void
client_connect(int hello)
{
	struct nf_val		*m;
	enum nf_msg_type	 t;
	char			 err[256];
	int			 sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
	    sv), 0);
	ck_assert_int_eq(nf_set_nonblock(sv[0]), 0);
	ck_assert_int_eq(nf_set_nonblock(sv[1]), 0);
	ck_assert_int_eq(nf_control_adopt(sv[0]), 0);
	cl = sv[1];
	nf_msg_reader_init(&rd, cl, NF_DIR_CTL_RESPONSE);
	if (!hello)
		return;
	client_send_msg(nf_msg_hello(NF_PROTO_CONTROL));
	m = client_wait(&t);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(t, NF_MSG_HELLO);
	ck_assert_int_eq(nf_msg_hello_check(m, NF_PROTO_CONTROL, err,
	    sizeof(err)), 0);
	nf_val_free(m);
}

static void
client_disconnect(void)
{
	if (cl != -1)
		close(cl);
	cl = -1;
	nf_msg_reader_free(&rd);
}

static void
setup(void)
{
	const char		*t = getenv("TMPDIR");
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	char			 p[600], *conf;

	snprintf(tdir, sizeof(tdir), "%s/nf-control-XXXXXX",
	    t != NULL && *t != '\0' ? t : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(tdir));
	snprintf(p, sizeof(p), "%s/jobs.d", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/state", tdir);
	ck_assert_int_eq(mkdir(p, 0700), 0);
	snprintf(p, sizeof(p), "%s/jobs.d/jobs.toml", tdir);
	write_file(p, jobs_toml);
	conf = nf_xprintf("state_dir = \"state\"\n"
	    "policies_dir = \"%s/policies\"\n"
	    "jobs_dir = \"jobs.d\"\n"
	    "[worker]\n"
	    "allow_unsandboxed = true\n"
	    "[[role]]\n"
	    "name = \"viewer\"\n"
	    "grants = [\"view job:*\", \"run job:other\"]\n"
	    "[[user]]\n"
	    "name = \"nf-web-alice\"\n"
	    "roles = [\"viewer\"]\n", NF_TOP_SRCDIR);
	snprintf(p, sizeof(p), "%s/nomaflow.toml", tdir);
	write_file(p, conf);
	free(conf);

	nf_errs_init(&errs);
	cfg = nf_config_load(p, 1, &errs);
	ck_assert_msg(cfg != NULL && errs.n == 0, "config: %s",
	    errs.n > 0 ? errs.msgs[0] : "not loaded");
	nf_errs_free(&errs);

	memset(&nfd, 0, sizeof(nfd));
	nfd.loop = ev_default_loop(0);
	ck_assert_ptr_nonnull(nfd.loop);
	nfd.config_path = nf_xstrdup(p);
	nfd.cur = nf_xcalloc(1, sizeof(*nfd.cur));
	nfd.cur->cfg = cfg;
	nfd.cur->refs = 1;
	nfd.worker_path = nf_xprintf("%s/no-such-worker", tdir);
	nfd.started_at = nf_now_ms();
	nfd.reload_ok = 1;
	nfd.store_ok = 1;
	nf_run_init();
	ck_assert_msg(nf_store_open(cfg->store_path, 0) == 0, "store: %s",
	    nf_store_error());
	nf_sched_load(cfg);
	next_id = 0;
}

static void
teardown(void)
{
	client_disconnect();
	nf_control_close();
	nf_sched_stop();
	nf_store_flush();
	nf_store_close();
	nf_cfgref_put(nfd.cur);
	free(nfd.worker_path);
	free(nfd.config_path);
	rm_tree(tdir);
}

START_TEST(test_status)
{
	struct nf_val		*r;
	const struct nf_val	*d, *st;
	int64_t			 n;
	int			 b;

	client_connect(1);
	r = call("status", NULL);
	d = resp_data(r);
	ck_assert(nf_val_get_int(d, "jobs", &n));
	ck_assert_int_eq(n, 2);
	ck_assert(nf_val_get_int(d, "pid", &n));
	ck_assert_int_eq(n, getpid());
	st = nf_val_get(d, "store");
	ck_assert(nf_val_get_bool(st, "ok", &b) && b);
	ck_assert_ptr_nonnull(strstr(nf_val_get_str(st, "path"), tdir));
	nf_val_free(r);
}
END_TEST

START_TEST(test_jobs)
{
	struct nf_val		*r;
	const struct nf_val	*d, *j;
	int			 b;

	client_connect(1);
	r = call("jobs", NULL);
	d = resp_data(r);
	ck_assert_int_eq(d->type, NF_V_ARR);
	ck_assert_uint_eq(d->u.a.n, 2);
	j = d->u.a.items[0];
	ck_assert_str_eq(nf_val_get_str(j, "id"), "hello");
	ck_assert_str_eq(nf_val_get_str(j, "description"), "says hello");
	ck_assert(nf_val_get_bool(j, "enabled", &b) && b);
	ck_assert_ptr_nonnull(nf_val_get(j, "next_fire"));
	ck_assert_int_eq(nf_val_get(j, "next_fire")->type, NF_V_INT);
	ck_assert_str_eq(nf_val_get_str(d->u.a.items[1], "id"), "other");
	nf_val_free(r);

	/* filtered by tag and by text */
	r = call("jobs", args1_str("tag", "demo"));
	d = resp_data(r);
	ck_assert_uint_eq(d->u.a.n, 1);
	ck_assert_str_eq(nf_val_get_str(d->u.a.items[0], "id"), "hello");
	nf_val_free(r);
	r = call("jobs", args1_str("search", "OTH"));
	d = resp_data(r);
	ck_assert_uint_eq(d->u.a.n, 1);
	ck_assert_str_eq(nf_val_get_str(d->u.a.items[0], "id"), "other");
	nf_val_free(r);
}
END_TEST

START_TEST(test_job_show)
{
	struct nf_val		*r;
	const struct nf_val	*d, *steps, *nexts;
	int64_t			 n;

	client_connect(1);
	r = call("job.show", args1_str("id", "hello"));
	d = resp_data(r);
	ck_assert_str_eq(nf_val_get_str(d, "id"), "hello");
	ck_assert(nf_val_get_int(nf_val_get(d, "params"), "count", &n));
	ck_assert_int_eq(n, 3);
	steps = nf_val_get(d, "steps");
	ck_assert_ptr_nonnull(steps);
	ck_assert_uint_eq(steps->u.a.n, 1);
	ck_assert_str_eq(nf_val_get_str(steps->u.a.items[0], "name"),
	    "greet");
	ck_assert_str_eq(nf_val_get_str(steps->u.a.items[0], "type"),
	    "exec");
	nexts = nf_val_get(d, "next_fires");
	ck_assert_ptr_nonnull(nexts);
	ck_assert_uint_eq(nexts->u.a.n, 5);
	nf_val_free(r);

	r = call("job.show", args1_str("id", "nope"));
	ck_resp_err(r, NF_EXIT_NOTFOUND, "no job \"nope\"");
	nf_val_free(r);
}
END_TEST

START_TEST(test_run_and_runs)
{
	struct nf_val		*r, *a, *p;
	const struct nf_val	*d, *run;
	int64_t			 run_id, n, rid;
	const char		*by;
	struct passwd		*pw;
	size_t			 i;

	client_connect(1);
	a = nf_val_map();
	nf_val_map_set_str(a, "job", "hello");
	p = nf_val_map();
	nf_val_map_set_str(p, "count", "7");
	nf_val_map_set(a, "params", p);
	r = call("run", a);
	d = resp_data(r);
	ck_assert(nf_val_get_int(d, "run_id", &run_id));
	ck_assert_int_gt(run_id, 0);
	nf_val_free(r);

	/* The run is in the history, triggered by us, with its params. */
	r = call("run.show", args1_int("run_id", run_id));
	d = resp_data(r);
	run = nf_val_get(d, "run");
	if (run == NULL)
		run = d;
	ck_assert(nf_val_get_int(run, "id", &rid));
	ck_assert_int_eq(rid, run_id);
	ck_assert_str_eq(nf_val_get_str(run, "job_id"), "hello");
	ck_assert_str_eq(nf_val_get_str(run, "trigger"), "manual");
	by = nf_val_get_str(run, "triggered_by");
	ck_assert_ptr_nonnull(by);
	pw = getpwuid(getuid());
	if (pw != NULL)
		ck_assert_str_eq(by + strlen("user:"), pw->pw_name);
	ck_assert(nf_val_get_int(nf_val_get(run, "params"), "count", &n));
	ck_assert_int_eq(n, 7);
	nf_val_free(r);

	/* runs lists it, filtered by job; the other job has none. */
	r = call("runs", args1_str("job", "hello"));
	d = resp_data(r);
	ck_assert_int_eq(d->type, NF_V_ARR);
	ck_assert_uint_ge(d->u.a.n, 1);
	for (i = 0; i < d->u.a.n; i++)
		if (nf_val_get_int(d->u.a.items[i], "id", &rid) &&
		    rid == run_id)
			break;
	ck_assert_msg(i < d->u.a.n, "run %lld not listed",
	    (long long)run_id);
	nf_val_free(r);
	r = call("runs", args1_str("job", "other"));
	d = resp_data(r);
	ck_assert_uint_eq(d->u.a.n, 0);
	nf_val_free(r);

	/* An unknown job and an unknown preset are refused. */
	r = call("run", args1_str("job", "nope"));
	ck_resp_err(r, NF_EXIT_NOTFOUND, "no job \"nope\"");
	nf_val_free(r);
	a = args1_str("job", "hello");
	nf_val_map_set_str(a, "preset", "nightly");
	r = call("run", a);
	ck_resp_err(r, NF_EXIT_NOTFOUND, "no preset \"nightly\"");
	nf_val_free(r);
}
END_TEST

/*
 * A web request runs the same handlers as "web:<account>": the roles of
 * [[user]] name = "<account>", the same denial and the same audit.
 */
START_TEST(test_exec_as_web_account)
{
	struct nf_val		*d, *a;
	const struct nf_val	*e;
	struct nf_audit_filter	 f;
	char			 err[512];
	int64_t			 run_id;
	int			 code = 0;
	size_t			 i;

	d = nf_control_exec("nf-web-alice", "jobs", NULL, &code, err,
	    sizeof(err));
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_int_eq(d->type, NF_V_ARR);
	ck_assert_uint_eq(d->u.a.n, 2);
	nf_val_free(d);

	/* Allowed: a run triggered by web:alice. */
	d = nf_control_exec("nf-web-alice", "run", (a = args1_str("job",
	    "other")), &code, err, sizeof(err));
	nf_val_free(a);
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert(nf_val_get_int(d, "run_id", &run_id));
	nf_val_free(d);
	d = nf_control_exec("nf-web-alice", "run.show", (a = args1_int(
	    "run_id", run_id)), &code, err, sizeof(err));
	nf_val_free(a);
	ck_assert_msg(d != NULL, "%s", err);
	ck_assert_str_eq(nf_val_get_str(d, "triggered_by"),
	    "web:nf-web-alice");
	nf_val_free(d);

	/* Denied: no run on hello; audited as web:alice. */
	d = nf_control_exec("nf-web-alice", "run", (a = args1_str("job",
	    "hello")), &code, err, sizeof(err));
	nf_val_free(a);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(code, NF_EXIT_PERM);
	ck_assert_msg(strstr(err, "permission denied") != NULL, "%s", err);
	/* An account nobody bound sees nothing and may do nothing. */
	d = nf_control_exec("nobody-nf", "jobs", NULL, &code, err,
	    sizeof(err));
	ck_assert_ptr_nonnull(d);
	ck_assert_uint_eq(d->u.a.n, 0);
	nf_val_free(d);
	ck_assert(nf_control_may("nf-web-alice", NF_ACL_RUN, "other"));
	ck_assert(!nf_control_may("nf-web-alice", NF_ACL_RUN, "hello"));
	ck_assert(!nf_control_may("nobody-nf", NF_ACL_VIEW, "hello"));

	nf_store_flush();
	memset(&f, 0, sizeof(f));
	f.user = "web:nf-web-alice";
	d = nf_store_audit_list(&f);
	ck_assert_ptr_nonnull(d);
	for (i = 0; i < d->u.a.n; i++) {
		e = d->u.a.items[i];
		if (strcmp(nf_val_get_str(e, "result"), "denied") == 0 &&
		    strcmp(nf_val_get_str(e, "target"), "hello") == 0)
			break;
	}
	ck_assert_msg(i < d->u.a.n, "denial not audited");
	nf_val_free(d);
}
END_TEST

START_TEST(test_cancel_unknown_run)
{
	struct nf_val	*r;

	client_connect(1);
	r = call("cancel", args1_int("run_id", 4242));
	ck_resp_err(r, NF_EXIT_NOTFOUND, "no run 4242");
	nf_val_free(r);
}
END_TEST

START_TEST(test_unknown_command_and_bad_args)
{
	struct nf_val	*r, *a;

	client_connect(1);
	r = call("bogus", NULL);
	ck_resp_err(r, NF_EXIT_USAGE, "unknown command \"bogus\"");
	nf_val_free(r);
	/* the client stays connected after a refused request */
	r = call("job.show", NULL);
	ck_resp_err(r, NF_EXIT_USAGE, "job.show: missing argument \"id\"");
	nf_val_free(r);
	r = call("job.show", args1_int("id", 5));
	ck_resp_err(r, NF_EXIT_USAGE, "argument \"id\" must be");
	nf_val_free(r);
	r = call("jobs", args1_str("colour", "blue"));
	ck_resp_err(r, NF_EXIT_USAGE, "jobs: unknown argument \"colour\"");
	nf_val_free(r);
	a = args1_str("job", "hello");
	nf_val_map_set_int(a, "params", 1);
	r = call("run", a);
	ck_resp_err(r, NF_EXIT_USAGE, "argument \"params\" must be");
	nf_val_free(r);
	r = call("status", NULL);
	ck_assert_int_eq(resp_ok(r), 1);
	nf_val_free(r);
}
END_TEST

/* prune: a dry run counts, a prune answers once its pass has run. */
START_TEST(test_prune)
{
	struct nf_run_rec	 rec;
	struct nf_val		*r, *a;
	const struct nf_val	*d, *jobs;
	int64_t			 n = -1;
	int			 i, dry = -1;

	memset(&rec, 0, sizeof(rec));
	rec.job_id = "hello";
	rec.state = NF_RUN_SUCCEEDED;
	rec.trigger = "manual";
	rec.triggered_by = "user:test";
	for (i = 0; i < 12; i++) {
		rec.created_at = 1000 + i;
		ck_assert_int_gt(nf_store_run_insert(&rec), 0);
	}
	ck_assert_int_eq(nf_store_flush(), 0);
	nfd.cur->cfg->retention.runs = 5;
	client_connect(1);

	r = call("prune", args1_str("dry_run", "yes"));
	ck_resp_err(r, NF_EXIT_USAGE, "argument \"dry_run\" must be");
	nf_val_free(r);
	a = nf_val_map();
	nf_val_map_set_bool(a, "dry_run", 1);
	r = call("prune", a);
	d = resp_data(r);
	ck_assert(nf_val_get_bool(d, "dry_run", &dry));
	ck_assert_int_eq(dry, 1);
	ck_assert(nf_val_get_int(d, "runs", &n));
	ck_assert_int_eq(n, 7);
	nf_val_free(r);

	r = call("prune", NULL);
	d = resp_data(r);
	ck_assert(nf_val_get_int(d, "runs", &n));
	ck_assert_int_eq(n, 7);
	jobs = nf_val_get(d, "jobs");
	ck_assert_ptr_nonnull(jobs);
	ck_assert_uint_eq(jobs->u.a.n, 1);
	ck_assert_str_eq(nf_val_get_str(jobs->u.a.items[0], "job"), "hello");
	nf_val_free(r);

	r = call("runs", args1_str("job", "hello"));
	ck_assert_uint_eq(resp_data(r)->u.a.n, 5);
	nf_val_free(r);
	nf_retention_stop();
}
END_TEST

START_TEST(test_hello_first_and_bad_frames)
{
	struct nf_val		*r, *req;
	enum nf_msg_type	 t;
	static const uint8_t	 huge[] = { 0xff, 0xff, 0xff, 0xff, 0x80 };

	/* A request before HELLO: one error, then the client is dropped. */
	client_connect(0);
	req = nf_msg_new(NF_MSG_CTL_REQ);
	nf_val_map_set_int(req, "id", 1);
	nf_val_map_set_str(req, "cmd", "status");
	client_send_msg(req);
	r = client_wait(&t);
	ck_assert_ptr_nonnull(r);
	ck_resp_err(r, NF_EXIT_USAGE, "expected hello first");
	nf_val_free(r);
	ck_assert_ptr_null(client_wait(&t));
	client_disconnect();

	/* A frame over the request limit: "bad frame", then dropped. */
	client_connect(1);
	ck_assert_int_eq(write(cl, huge, sizeof(huge)), sizeof(huge));
	r = client_wait(&t);
	ck_assert_ptr_nonnull(r);
	ck_resp_err(r, NF_EXIT_USAGE, "bad frame: ");
	ck_assert_ptr_nonnull(strstr(nf_val_get_str(r, "error"),
	    "4294967295"));
	nf_val_free(r);
	ck_assert_ptr_null(client_wait(&t));
	client_disconnect();

	/* A response-only message sent as a request: same. */
	client_connect(1);
	req = nf_msg_new(NF_MSG_CTL_RESP);
	nf_val_map_set_int(req, "id", 1);
	nf_val_map_set_bool(req, "ok", 1);
	client_send_msg(req);
	r = client_wait(&t);
	ck_assert_ptr_nonnull(r);
	ck_resp_err(r, NF_EXIT_USAGE, "bad frame: ");
	nf_val_free(r);
	ck_assert_ptr_null(client_wait(&t));
}
END_TEST

static Suite *
control_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("control");
	tc = tcase_create("control");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_status);
	tcase_add_test(tc, test_jobs);
	tcase_add_test(tc, test_job_show);
	tcase_add_test(tc, test_run_and_runs);
	tcase_add_test(tc, test_cancel_unknown_run);
	tcase_add_test(tc, test_exec_as_web_account);
	tcase_add_test(tc, test_unknown_command_and_bad_args);
	tcase_add_test(tc, test_hello_first_and_bad_frames);
	tcase_add_test(tc, test_prune);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(control_suite)
