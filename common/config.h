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

#include <stdint.h>
#include <stdio.h>

#include "util.h"
#include "val.h"

struct nf_cron;
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
	 * validated against the type's schema (common/steptype.c). */
	struct nf_val	*spec;
	const struct nf_pool *pool;	/* the pool the step uses, or NULL */
	int		 line, col;
};

struct nf_job {
	char		*id;
	char		*description;
	char		*schedule;	/* NULL: manual only */
	struct nf_cron	*cron;		/* parsed schedule, or NULL */
	char		*timezone;	/* NULL: UTC */
	struct nf_tz	*tz;		/* loaded zone, or NULL (UTC) */
	int		 enabled;
	char		**tags;
	size_t		 ntags;
	struct nf_val	*params;	/* map, never NULL */
	struct nf_retry	 retry;
	int		 timeout_seconds;	/* whole run; 0 = none */
	struct nf_step	*steps;
	size_t		 nsteps;
	char		*file;
	int		 line, col;
};

struct nf_config {
	char		*path;		/* the nomaflow.toml that was loaded */
	char		*state_dir;
	char		*store_path;
	int		 store_sync_full;	/* store.synchronous = "full" */
	char		*socket_path;
	int		 socket_mode;	/* e.g. 0660 */
	char		*socket_group;	/* NULL: daemon's group */
	char		*worker_path;
	char		*policies_dir;
	char		*jobs_dir;
	char		*python_path;
	int		 max_workers;
	int		 log_level;	/* enum nf_log_level */
	int		 grace_seconds;	/* TERM/timeout: SIGTERM -> SIGKILL */
	int		 shutdown_grace_seconds; /* daemon TERM: wait for steps */
	int64_t		 log_cap_bytes;	/* per run */
	int		 output_max_rows;
	int		 allow_unsandboxed;
	struct nf_pool	*pools;
	size_t		 npools;
	struct nf_job	*jobs;
	size_t		 njobs;
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
const struct nf_pool	*nf_config_pool(const struct nf_config *,
			    const char *name);
/* Expand ${VAR} / ${VAR:-default}; NULL + err on an unset var without default
 * or a malformed reference. */
char			*nf_config_expand(const char *in, char *err,
			    size_t errlen);

#endif
