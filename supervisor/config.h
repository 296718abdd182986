/*
 * config.h: nomaflow.toml (daemon) and the jobs directory (*.toml with
 * [[jobs]]), loaded into one immutable struct nf_config.  Reload builds a
 * whole new nf_config and swaps it in only if it loaded without error.
 *
 * ${VAR} and ${VAR:-default} in string values are expanded from the
 * environment at load.  Unknown keys are errors.  Every error is reported
 * (nf_errs) as "file:line:col: message".
 */
#ifndef NF_CONFIG_H
#define NF_CONFIG_H

#include <sys/types.h>

#include <stdint.h>
#include <stdio.h>

#include "util.h"
#include "val.h"

struct nf_acl;
struct nf_cron;
struct nf_expr;
struct nf_tz;

struct nf_pool {
	char		*name;
	char		*driver;	/* "sqlite" (this issue), "postgres" later */
	char		*path;		/* sqlite: database file */
	char		*conninfo;	/* postgres */
	int		 max_concurrent; /* 0 = unlimited */
	struct nf_val	*queries;	/* map name -> sql text (may be empty) */
	char		*file;
	int		 line, col;
};

enum nf_backoff { NF_BACKOFF_FIXED = 0, NF_BACKOFF_EXPONENTIAL };

struct nf_retry {
	int		 attempts;	/* total attempts per step, >= 1 */
	enum nf_backoff	 backoff;
	double		 base_seconds;
	double		 max_seconds;
};

struct nf_step {
	char		*name;
	char		*type;		/* "exec", "sql_query", ... */
	int		 enabled;
	int		 timeout_seconds;	/* 0 = none */
	/* Type-specific fields (everything but the common ones), as a map
	 * validated against the type's schema (supervisor/steptypes/). */
	struct nf_val	*spec;
	const struct nf_pool *pool;	/* the pool the step uses, or NULL */
	struct nf_expr	*when;		/* condition (supervisor/expr.c), or NULL */
	int		 line, col;
};

/* What a scheduled or dependency fire does while the job has a run. */
enum nf_overlap {
	NF_OVERLAP_SKIP = 0,	/* record a skipped run */
	NF_OVERLAP_QUEUE,	/* hold one run until the active one ends */
	NF_OVERLAP_ALLOW,	/* start another run at once */
	NF_OVERLAP_CANCEL,	/* cancel the active run, start the new one */
};

/* Which slots missed while the daemon was down (or the job off) fire. */
enum nf_catchup {
	NF_CATCHUP_LATEST = 0,	/* the newest missed slot within the window */
	NF_CATCHUP_NONE,
	NF_CATCHUP_ALL,		/* every missed slot within the window */
};

/* One entry of `after`: fire when that job's run ends. */
struct nf_dep {
	char		*job;
	int		 line, col;
};

struct nf_job;

/*
 * History retention (retention.c): keep the newest `runs` runs and/or the
 * runs younger than `days` days; log lines go after `log_days` days while
 * their run stays.  0: no limit.  In a job, -1: the [retention] value.
 */
struct nf_retention {
	int		 runs;
	int		 days;
	int		 log_days;
};

/*
 * A preset: a named parameter set with per-step overrides and toggles, and
 * optionally its own schedule.  `job` is the job as the preset runs it
 * (params merged, step specs overridden, toggles applied); it shares the
 * strings of the base job and owns only its params, steps array and
 * step specs.
 */
struct nf_preset {
	char		*name;
	char		*description;
	char		*schedule;	/* NULL: manual (nfctl run --preset) */
	struct nf_cron	*cron;
	char		*timezone;	/* NULL: the job's */
	struct nf_tz	*tz;		/* NULL: the job's */
	struct nf_val	*params;	/* the preset's own (map) */
	struct nf_val	*steps;		/* map step -> map of overrides */
	struct nf_job	*job;		/* derived job, see above */
	int		 line, col;
};

/*
 * One schedule of a job: a cron expression or an interval, with its zone.
 * A job has any number (schedule = "..." or [...], every, and
 * [[jobs.schedules]] tables); it fires at the earliest next time over all
 * of them, an instant matched by several once.
 */
struct nf_schedule {
	char		*expr;		/* as written: "0 3 * * *", "@every 15m" */
	struct nf_cron	*cron;		/* compiled, intervals too */
	char		*timezone;	/* own zone name, NULL: the job's */
	struct nf_tz	*own_tz;	/* loaded own zone, or NULL */
	const struct nf_tz *tz;		/* own_tz or the job's; NULL: UTC */
	int		 line, col;
};

/*
 * The user a step's program runs as (run_as), resolved at load: a name
 * unknown to the system is a load error, and spawning never looks a user
 * up.  Fixed size so a preset's job can copy its job's by value.
 */
#define NF_RUNAS_GROUPS	64

/* isolation = [...]: namespaces of a step's program (worker/child.c). */
#define NF_ISOLATE_NET		0x1	/* its own network: lo only */
#define NF_ISOLATE_MOUNT	0x2	/* its own mounts: a private /tmp */
#define NF_ISOLATE_PID		0x4	/* its own pids: it is pid 1 */
extern const char *const nf_isolation_names[];	/* by bit, NULL-ended */
struct nf_runas {
	int		 set;		/* 0: the worker's own user */
	int		 implicit;	/* "nomaflow", not configured */
	char		 name[64];
	uid_t		 uid;
	gid_t		 gid;
	int		 ngroups;	/* supplementary, gid first */
	gid_t		 groups[NF_RUNAS_GROUPS];
};

struct nf_job {
	char		*id;
	char		*description;
	/* The first of schedules[] (borrowed), NULL: manual only. */
	char		*schedule;
	struct nf_cron	*cron;
	char		*timezone;	/* NULL: UTC */
	struct nf_tz	*tz;		/* loaded zone, or NULL (UTC) */
	struct nf_schedule *schedules;
	size_t		 nschedules;
	int		 enabled;
	char		**tags;
	size_t		 ntags;
	struct nf_val	*params;	/* map, never NULL */
	/* Params whose values are redacted ("***") in logs and history. */
	char		**secret_params;
	size_t		 nsecret_params;
	/* Params without default that every run must be given (params.c). */
	char		**required_params;
	size_t		 nrequired_params;
	struct nf_retry	 retry;
	int		 timeout_seconds;	/* whole run; 0 = none */
	struct nf_runas	 run_as;	/* set: overrides the global */
	int		 isolation;	/* NF_ISOLATE_* of exec/python */
	struct nf_step	*steps;
	size_t		 nsteps;
	/* Scheduling policies (scheduler.c). */
	enum nf_overlap	 overlap;
	enum nf_catchup	 catchup;
	int		 catchup_window;	/* seconds */
	int		 jitter;		/* seconds, 0 = none */
	struct nf_dep	*after;
	size_t		 nafter;
	int		 after_always;	/* after_on = "always" */
	int		 on_interrupt_retry;	/* on_interrupt = "retry" */
	struct nf_preset *presets;
	size_t		 npresets;
	const struct nf_preset *preset;	/* set in a preset's derived job */
	struct nf_retention retention;	/* -1 per key: the global one */
	char		*file;
	int		 line, col;
};

/*
 * [web]: the HTTP server in nomaflowd (web.c).  Off while listen is NULL.
 * The listen address is checked here (numeric host, port), the TLS files
 * are readable; web.c binds at start.
 */
#define NF_WEB_DEF_SESSION_TTL	(8 * 3600)
#define NF_WEB_DEF_USER_HEADER	"X-Remote-User"
struct nf_web_cfg {
	char		*listen;	/* "127.0.0.1:8080", "[::1]:8080" */
	char		*host;		/* numeric address, no brackets */
	int		 port;
	char		*tls_cert;	/* both or neither */
	char		*tls_key;
	int		 session_ttl;	/* seconds */
	char		**trusted_proxies;	/* numeric addresses */
	size_t		 ntrusted_proxies;
	char		*user_header;	/* trusted only from those */
};

struct nf_config {
	char		*path;		/* the nomaflow.toml that was loaded */
	char		*state_dir;
	char		*store_path;
	int		 store_sync_full;	/* store.synchronous = "full" */
	char		*secret_key_file;	/* [secrets] key_file */
	char		*socket_path;
	int		 socket_mode;	/* e.g. 0660 */
	char		*socket_group;	/* NULL: daemon's group */
	char		*worker_path;
	char		*policies_dir;
	char		*jobs_dir;
	char		*python_path;
	char		*plugins_dir;	/* python steps import from here */
	int		 max_workers;
	int		 log_level;	/* enum nf_log_level */
	int		 grace_seconds;	/* TERM/timeout: SIGTERM -> SIGKILL */
	int		 shutdown_grace_seconds; /* daemon TERM: wait for steps */
	int64_t		 log_cap_bytes;	/* per run */
	int		 output_max_rows;
	int		 allow_unsandboxed;
	struct nf_retention retention;	/* [retention]; 0: no limit */
	/*
	 * [worker] run_as; when nomaflowd runs as root and it is not set,
	 * the "nomaflow" user if there is one (implicit).
	 */
	struct nf_runas	 run_as;
	int		 steps_as_root;	/* root; no run_as, no nomaflow */
	struct nf_pool	*pools;
	size_t		 npools;
	struct nf_job	*jobs;
	size_t		 njobs;
	const struct nf_job **jobs_by_id;	/* sorted by id, for lookups */
	struct nf_acl	*acl;		/* roles and bindings (acl.c) */
	struct nf_web_cfg web;		/* [web] (web.c) */
};

/*
 * Load path (nomaflow.toml) and its jobs directory.  Relative paths inside
 * are resolved against the directory of path.  Returns NULL if errs got any
 * entry.  When check_policies is set, every policy a step type needs is
 * compiled too (nomaflowd -n, start, reload).
 */
struct nf_config	*nf_config_load(const char *path, int check_policies,
			    struct nf_errs *errs);
void			 nf_config_free(struct nf_config *);
/* Normalised config as TOML-like text (nomaflowd -n -v, golden tests). */
void			 nf_config_dump(const struct nf_config *, FILE *);
const struct nf_job	*nf_config_job(const struct nf_config *, const char *id);
/* A preset of a job, or NULL. */
const struct nf_preset	*nf_config_preset(const struct nf_job *,
			    const char *name);
const struct nf_pool	*nf_config_pool(const struct nf_config *,
			    const char *name);
/*
 * How loads check that ${secret.NAME} exists (1 yes, 0 no, -1 cannot
 * tell); NULL (the default): not checked.  nomaflowd sets it once its
 * secret store is open, so reloads reject an unknown secret.
 */
void			 nf_config_set_secret_check(int (*)(const char *name));
/* Expand ${VAR} / ${VAR:-default}; NULL + err on an unset var without default
 * or a malformed reference. */
char			*nf_config_expand(const char *in, char *err,
			    size_t errlen);

#endif
