/*
 * main.c: nomaflowd, the Nomaflow supervisor.  Start-up, the one libev loop,
 * signals (TERM/INT: drain and stop; HUP: reload), configuration reload
 * (all-or-nothing), group commit of the store once per loop iteration, and
 * shutdown.
 *
 * The supervisor never runs step logic: every step attempt runs in a
 * nomaflow-worker process (spawn.c).
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroup.h"
#include "config.h"
#include "control.h"
#include "fault.h"
#include "log.h"
#include "metrics.h"
#include "nomaflowd.h"
#include "notify_sd.h"
#include "params.h"
#include "retention.h"
#include "run.h"
#include "scheduler.h"
#include "spawn.h"
#include "secret.h"
#include "store.h"
#include "web.h"

struct nf_daemon nfd;

static ev_signal	sig_term, sig_int, sig_hup;
static ev_prepare	flush_watcher;
static ev_timer		shutdown_timer;
static ev_timer		store_retry_timer;	/* while the store fails */
static int		debug_flag;	/* -d overrides log_level */

static void
usage(void)
{
	fprintf(stderr,
	    "usage: nomaflowd [-dnsv] [-f config]\n"
	    "  -f config  configuration file (default %s/nomaflow.toml)\n"
	    "  -n         check the configuration, jobs, schedules and "
	    "policies, then exit\n"
	    "  -v         with -n: print the normalised configuration\n"
	    "  -d         debug logging\n"
	    "  -s         log to syslog instead of stderr\n",
	    NF_SYSCONFDIR);
	exit(NF_EXIT_USAGE);
}

int
nf_daemon_sandboxed(void)
{
#ifdef NF_SANDBOX
	return 1;
#else
	return 0;
#endif
}

struct nf_cfgref *
nf_cfgref_get(void)
{
	nfd.cur->refs++;
	return nfd.cur;
}

void
nf_cfgref_put(struct nf_cfgref *ref)
{
	if (ref == NULL)
		return;
	if (--ref->refs > 0)
		return;
	nf_spawn_cache_free(ref);
	nf_config_free(ref->cfg);
	free(ref);
}

static struct nf_cfgref *
cfgref_new(struct nf_config *cfg)
{
	struct nf_cfgref	*ref;

	ref = nf_xcalloc(1, sizeof(*ref));
	ref->cfg = cfg;
	ref->refs = 1;
	return ref;
}

static struct nf_val *
errs_to_val(const struct nf_errs *errs)
{
	struct nf_val	*a = nf_val_arr();
	size_t		 i;

	for (i = 0; i < errs->n; i++)
		nf_val_arr_push(a, nf_val_str(errs->msgs[i]));
	return a;
}

void
nf_daemon_reload(struct nf_val **errors_out)
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	const struct nf_config	*old = nfd.cur->cfg;
	size_t			 i;

	nf_info("reloading %s", nfd.config_path);
	nf_notify_reloading();
	nf_errs_init(&errs);
	cfg = nf_config_load(nfd.config_path, 1, &errs);
	nfd.reload_at = nf_now_ms();
	nf_val_free(nfd.reload_errors);
	nfd.reload_errors = errs_to_val(&errs);
	if (cfg == NULL || errs.n > 0) {
		for (i = 0; i < errs.n; i++)
			nf_warnx("%s", errs.msgs[i]);
		nf_warnx("reload rejected: %zu error%s; the previous "
		    "configuration stays in force", errs.n,
		    errs.n == 1 ? "" : "s");
		nf_config_free(cfg);
		nfd.reload_ok = 0;
		if (errors_out != NULL)
			*errors_out = errs_to_val(&errs);
		nf_errs_free(&errs);
		nf_notify_ready();
		return;
	}
	nf_errs_free(&errs);
	NF_FAULT("reload");
	if (strcmp(cfg->secret_key_file, old->secret_key_file) != 0)
		nf_warnx("reload: secrets.key_file changed to %s; the change "
		    "takes effect at the next restart", cfg->secret_key_file);
	if (strcmp(cfg->store_path, old->store_path) != 0)
		nf_warnx("reload: store.path changed to %s; the change takes "
		    "effect at the next restart", cfg->store_path);
	if (strcmp(cfg->socket_path, old->socket_path) != 0)
		nf_warnx("reload: control.socket changed to %s; the change "
		    "takes effect at the next restart", cfg->socket_path);
	nf_web_reload(old, cfg);
	nf_store_set_log_cap(cfg->log_cap_bytes);
	if (!debug_flag)
		nf_log_set_level((enum nf_log_level)cfg->log_level);
	nf_cfgref_put(nfd.cur);
	nfd.cur = cfgref_new(cfg);
	nf_sched_load(cfg);
	nfd.reload_ok = 1;
	nf_info("reloaded: %zu jobs", cfg->njobs);
	if (errors_out != NULL)
		*errors_out = nf_val_arr();
	nf_notify_ready();
	nf_run_kick();
}

void
nf_daemon_maybe_exit(void)
{
	if (nfd.stopping && nf_run_active_count() == 0 && nfd.nworkers == 0)
		ev_break(nfd.loop, EVBREAK_ALL);
}

static void
sig_stop_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	int	grace = nfd.cur->cfg->shutdown_grace_seconds;

	if (nfd.stopping) {
		nf_info("second %s: killing running steps now",
		    w->signum == SIGINT ? "SIGINT" : "SIGTERM");
		nf_run_shutdown(1);
		return;
	}
	nfd.stopping = 1;
	nf_notify_stopping();
	nf_info("%s: no new runs; waiting up to %d s for %d running "
	    "step%s", w->signum == SIGINT ? "SIGINT" : "SIGTERM", grace,
	    nfd.nworkers, nfd.nworkers == 1 ? "" : "s");
	nf_sched_stop();
	nf_run_shutdown(0);
	ev_timer_set(&shutdown_timer, grace, 0.);
	ev_timer_start(loop, &shutdown_timer);
	nf_daemon_maybe_exit();
}

static void
shutdown_timer_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	nf_warnx("shutdown grace expired: killing %d worker%s",
	    nfd.nworkers, nfd.nworkers == 1 ? "" : "s");
	nf_run_shutdown(1);
}

static void
sig_hup_cb(struct ev_loop *loop, ev_signal *w, int revents)
{
	if (nfd.stopping)
		return;
	nf_daemon_reload(NULL);
}

/*
 * Follow the store's health.  While it cannot write, a timer retries once
 * a second (the store replays what it kept since its last commit), so the
 * daemon recovers by itself even when nothing else writes.
 */
static void
store_health(struct ev_loop *loop)
{
	if (!nf_store_healthy()) {
		if (nfd.store_ok)
			nf_warnx("store: cannot commit: %s; new runs are "
			    "refused until it recovers", nf_store_error());
		nfd.store_ok = 0;
		free(nfd.store_err);
		nfd.store_err = nf_xstrdup(nf_store_error());
		if (!ev_is_active(&store_retry_timer))
			ev_timer_again(loop, &store_retry_timer);
	} else if (!nfd.store_ok) {
		nf_info("store: writable again; the writes kept since the "
		    "failure are committed");
		nfd.store_ok = 1;
		free(nfd.store_err);
		nfd.store_err = NULL;
		ev_timer_stop(loop, &store_retry_timer);
	}
}

/* Group commit: everything one loop iteration wrote, in one transaction. */
static void
flush_cb(struct ev_loop *loop, ev_prepare *w, int revents)
{
	NF_FAULT("before_commit");
	if (nf_store_flush() == 0)
		NF_FAULT("after_commit");
	store_health(loop);
}

static void
store_retry_cb(struct ev_loop *loop, ev_timer *w, int revents)
{
	(void)nf_store_retry();
	store_health(loop);
}

/*
 * on_interrupt = "retry": each run the previous nomaflowd left active
 * (now recorded failed/interrupted) starts again from its first step as a
 * new run with trigger "replay", triggered_by "run:ID", the preset and the
 * params it had (but secret ones: their values were never stored).  A
 * replay that is itself interrupted is not replayed again, so a job that
 * kills the daemon cannot loop it.
 */
/* Loads (reload, nfctl validate) reject a ${secret.NAME} that is not set. */
static int
secret_known(const char *name)
{
	return nf_secret_exists(name);
}

/*
 * The first load happens before the store and the key are open: it only
 * collects the ${secret.NAME} names it meets.  Once the secret store is
 * open, secrets_verify() checks them; if one is missing, the configuration
 * is loaded again with the real check, which names each reference with its
 * file:line:col.  At start these are warnings, not a refusal: the daemon
 * must be up for "nfctl secret set" to store the missing value, and until
 * then a run that needs it fails with that reason.  A reload with a
 * missing secret is refused as before.  A configuration without secrets
 * is loaded once.
 */
static char	**deferred_secrets;
static size_t	  ndeferred_secrets;

static int
secret_defer(const char *name)
{
	size_t	 i;

	for (i = 0; i < ndeferred_secrets; i++)
		if (strcmp(deferred_secrets[i], name) == 0)
			return 1;
	deferred_secrets = nf_xreallocarray(deferred_secrets,
	    ndeferred_secrets + 1, sizeof(*deferred_secrets));
	deferred_secrets[ndeferred_secrets++] = nf_xstrdup(name);
	return 1;
}

static void
secrets_forget(void)
{
	size_t	 i;

	for (i = 0; i < ndeferred_secrets; i++)
		free(deferred_secrets[i]);
	free(deferred_secrets);
	deferred_secrets = NULL;
	ndeferred_secrets = 0;
}

/* Warns about each ${secret.NAME} the first load met that is not set. */
static void
secrets_verify(void)
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	size_t			 i;

	for (i = 0; i < ndeferred_secrets; i++)
		if (!nf_secret_exists(deferred_secrets[i]))
			break;
	if (i < ndeferred_secrets) {
		nf_errs_init(&errs);
		cfg = nf_config_load(nfd.config_path, 0, &errs);
		for (i = 0; i < errs.n; i++)
			nf_warnx("%s", errs.msgs[i]);
		if (errs.n > 0)
			nf_warnx("%zu reference%s to a secret that is not set: "
			    "runs that need %s fail until \"nfctl secret set\" "
			    "stores %s", errs.n, errs.n == 1 ? "" : "s",
			    errs.n == 1 ? "it" : "them",
			    errs.n == 1 ? "it" : "them");
		nf_errs_free(&errs);
		nf_config_free(cfg);
	}
	secrets_forget();
}

static void
replay_interrupted(const struct nf_config *cfg, struct nf_val *runs)
{
	const struct nf_val	*r;
	const struct nf_job	*job;
	struct nf_trigger	 t;
	struct nf_val		*params;
	const char		*job_id, *trigger;
	char			 by[48], err[512];
	int64_t			 id, nid;
	size_t			 i;
	int			 conflict;

	for (i = 0; runs != NULL && i < runs->u.a.n; i++) {
		r = runs->u.a.items[i];
		job_id = nf_val_get_str(r, "job_id");
		trigger = nf_val_get_str(r, "trigger");
		if (job_id == NULL || !nf_val_get_int(r, "id", &id) ||
		    (job = nf_config_job(cfg, job_id)) == NULL ||
		    !job->on_interrupt_retry)
			continue;
		if (trigger != NULL && strcmp(trigger, "replay") == 0) {
			nf_warnx("run %lld of job %s was itself a replay of an "
			    "interrupted run: not replayed again", (long long)id,
			    job_id);
			continue;
		}
		snprintf(by, sizeof(by), "run:%lld", (long long)id);
		/* With its preset, if it still has it; params resolved again. */
		memset(&t, 0, sizeof(t));
		t.trigger = "replay";
		t.triggered_by = by;
		t.preset = nf_val_get_str(r, "preset");
		if (t.preset != NULL && nf_config_preset(job, t.preset) == NULL)
			t.preset = NULL;
		params = nf_params_replay(t.preset != NULL ?
		    nf_config_preset(job, t.preset)->job : job,
		    nf_val_get(r, "params"));
		t.params = params;
		t.force = 1;
		nid = nf_run_trigger_ex(job, &t, &conflict, err, sizeof(err));
		nf_val_free(params);
		if (nid > 0)
			nf_info("run %lld of job %s was interrupted; "
			    "on_interrupt = retry: replayed as run %lld",
			    (long long)id, job_id, (long long)nid);
		else
			nf_warnx("run %lld of job %s was interrupted; "
			    "on_interrupt = retry, but the replay failed: %s",
			    (long long)id, job_id, err);
	}
}

/* The worker: configured, else beside this executable, else installed. */
static char *
resolve_worker(const struct nf_config *cfg)
{
	char	 self[PATH_MAX], *slash, *p;
	ssize_t	 n;

	if (cfg->worker_path != NULL)
		return nf_xstrdup(cfg->worker_path);
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) > 0) {
		self[n] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			*slash = '\0';
			p = nf_xprintf("%s/nomaflow-worker", self);
			if (access(p, X_OK) == 0)
				return p;
			free(p);
		}
	}
	return nf_xstrdup(NF_PKGLIBEXECDIR "/nomaflow-worker");
}

static int
mkdir_p(const char *path)
{
	char	*p, *s;

	p = nf_xstrdup(path);
	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	free(p);
	if (mkdir(path, 0750) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	struct nf_val		*interrupted;
	char			 err[512];
	int			 ch, check = 0, verbose = 0, debug = 0;
	int			 use_syslog = 0, n, rc;
	char			*p;

	while ((ch = getopt(argc, argv, "df:hnsv")) != -1) {
		switch (ch) {
		case 'd':
			debug = debug_flag = 1;
			break;
		case 'f':
			nfd.config_path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 's':
			use_syslog = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (nfd.config_path == NULL)
		nfd.config_path = NF_SYSCONFDIR "/nomaflow.toml";
	nfd.config_path = nf_xstrdup(nfd.config_path);
	nf_log_init("nomaflowd", use_syslog);
	if (debug)
		nf_log_set_level(NF_LOG_DEBUG);

	nf_errs_init(&errs);
	nf_config_set_secret_check(secret_defer);
	cfg = nf_config_load(nfd.config_path, 1, &errs);
	if (cfg == NULL || errs.n > 0) {
		nf_errs_print(&errs, stderr);
		fprintf(stderr, "nomaflowd: %s: %zu error%s\n",
		    nfd.config_path, errs.n, errs.n == 1 ? "" : "s");
		nf_errs_free(&errs);
		nf_config_free(cfg);
		free(nfd.config_path);
		return 1;
	}
	nf_errs_free(&errs);
	if (check) {
		if (verbose)
			nf_config_dump(cfg, stdout);
		fprintf(stderr, "nomaflowd: %s: configuration OK (%zu job%s)\n",
		    nfd.config_path, cfg->njobs, cfg->njobs == 1 ? "" : "s");
		if (ndeferred_secrets > 0)
			fprintf(stderr, "nomaflowd: %zu secret%s referenced "
			    "(%s%s): not checked by -n, which opens no store; "
			    "nomaflowd checks them at start and nfctl validate "
			    "against the running daemon\n", ndeferred_secrets,
			    ndeferred_secrets == 1 ? "" : "s", deferred_secrets[0],
			    ndeferred_secrets > 1 ? ", ..." : "");
		secrets_forget();
		nf_config_free(cfg);
		return 0;
	}
	if (!debug)
		nf_log_set_level(cfg->log_level);
	if (cfg->steps_as_root)
		nf_warnx("%s: nomaflowd runs as root and no run_as is set: "
		    "steps run as root (without capabilities); create the "
		    "user nomaflow or set [worker] run_as", nfd.config_path);
	if (!nf_daemon_sandboxed() && !cfg->allow_unsandboxed)
		nf_fatalx("this nomaflowd was built with --disable-sandbox and "
		    "would run steps without seccomp; refusing to start. Set "
		    "worker.allow_unsandboxed = true in %s only for valgrind "
		    "or sanitizer runs", nfd.config_path);
	if (!nf_daemon_sandboxed())
		nf_warnx("running UNSANDBOXED (built with --disable-sandbox "
		    "and worker.allow_unsandboxed = true)");

	nfd.worker_path = resolve_worker(cfg);
	if (access(nfd.worker_path, X_OK) == -1)
		nf_fatal("worker %s (set worker.path)", nfd.worker_path);
	if (mkdir_p(cfg->state_dir) == -1)
		nf_fatal("state directory %s", cfg->state_dir);
	/* The socket's directory (systemd's RuntimeDirectory= makes it). */
	if ((p = strrchr(cfg->socket_path, '/')) != NULL &&
	    p != cfg->socket_path) {
		*p = '\0';
		rc = mkdir_p(cfg->socket_path);
		*p = '/';
		if (rc == -1)
			nf_fatal("directory of control socket %s",
			    cfg->socket_path);
	}

	signal(SIGPIPE, SIG_IGN);
	nfd.loop = ev_default_loop(EVFLAG_AUTO);
	if (nfd.loop == NULL)
		nf_fatalx("cannot initialise the event loop");
	nfd.started_at = nf_now_ms();
	nfd.cur = cfgref_new(cfg);
	nfd.reload_ok = 1;
	nf_run_init();
	nf_metrics_feed_start();

	if (nf_store_open(cfg->store_path, cfg->store_sync_full) == -1)
		nf_fatalx("store %s: %s", cfg->store_path, nf_store_error());
	nf_store_set_log_cap(cfg->log_cap_bytes);
	interrupted = nf_store_active_runs();
	if ((n = nf_store_recover(nf_now_ms())) > 0)
		nf_warnx("%d run%s left running by a previous nomaflowd "
		    "recorded as failed (interrupted)", n, n == 1 ? "" : "s");
	else if (n == -1)
		nf_fatalx("store %s: recovery failed: %s", cfg->store_path,
		    nf_store_error());
	if (nf_store_flush() == -1)
		nf_fatalx("store %s: %s", cfg->store_path, nf_store_error());
	nfd.store_ok = 1;
	/* After the store: the key must open what the store holds. */
	if (nf_secret_open(cfg->secret_key_file, err, sizeof(err)) == -1)
		nf_fatalx("%s", err);
	nf_config_set_secret_check(secret_known);
	secrets_verify();

	if (nf_control_open(cfg, err, sizeof(err)) == -1)
		nf_fatalx("%s", err);
	if (nf_web_open(cfg, err, sizeof(err)) == -1)
		nf_fatalx("%s", err);

	ev_signal_init(&sig_term, sig_stop_cb, SIGTERM);
	ev_signal_start(nfd.loop, &sig_term);
	ev_signal_init(&sig_int, sig_stop_cb, SIGINT);
	ev_signal_start(nfd.loop, &sig_int);
	ev_signal_init(&sig_hup, sig_hup_cb, SIGHUP);
	ev_signal_start(nfd.loop, &sig_hup);
	ev_prepare_init(&flush_watcher, flush_cb);
	ev_prepare_start(nfd.loop, &flush_watcher);
	ev_timer_init(&shutdown_timer, shutdown_timer_cb, 0., 0.);
	ev_timer_init(&store_retry_timer, store_retry_cb, 0., 1.);

	/*
	 * Past every fatal check of the start (a daemon refusing to start
	 * leaves no cgroup behind), before any spawn: catch-up and the
	 * interrupted runs replayed below.
	 */
	if ((p = realpath(cfg->state_dir, NULL)) != NULL) {
		nf_cgroup_init(nfd.loop, p);
		free(p);
	} else
		nf_cgroup_init(nfd.loop, cfg->state_dir);
	nf_sched_load(cfg);
	nf_retention_start();
	replay_interrupted(cfg, interrupted);
	nf_val_free(interrupted);
	nf_info("started: %zu job%s, store %s, control %s, worker %s%s",
	    cfg->njobs, cfg->njobs == 1 ? "" : "s", cfg->store_path,
	    cfg->socket_path, nfd.worker_path,
	    nf_daemon_sandboxed() ? "" : " (unsandboxed)");
	/* Config, store (recovery) and schedules (catch-up) are done. */
	nf_notify_init(nfd.loop);
	nf_notify_ready();

	ev_run(nfd.loop, 0);

	nf_store_flush();
	nf_cgroup_shutdown();
	nf_web_close();
	nf_metrics_feed_stop();
	nf_retention_stop();
	nf_control_close();
	nf_sched_stop();
	nf_secret_close();
	nf_store_close();
	nf_info("stopped");
	nf_cfgref_put(nfd.cur);
	free(nfd.worker_path);
	free(nfd.config_path);
	nf_val_free(nfd.reload_errors);
	free(nfd.store_err);
	return 0;
}
