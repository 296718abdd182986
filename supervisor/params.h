/*
 * params.h: a run's parameters in one pass.  Every way a run starts
 * (nfctl run, call_job, a schedule or a preset's, a dependency, a replay)
 * goes through nf_params_resolve(): layers merged, values given to the run
 * coerced to the types the job declares (the type of a param's default) or
 * rejected with a message for the caller, required and unknown names
 * checked, and the redacted snapshot and the secret values built once.
 */
#ifndef NF_PARAMS_H
#define NF_PARAMS_H

#include <stddef.h>

#include "template.h"
#include "val.h"

struct nf_job;
struct nf_step;

/* What a job declares about its params (all borrowed). */
struct nf_params_decl {
	const char		*job_id;
	const char		*preset;	/* its name, NULL: none */
	const struct nf_val	*defaults;	/* the job's params (map) */
	const struct nf_val	*preset_params;	/* the preset's own, or NULL */
	char *const		*secret;	/* names shown as "***" */
	size_t			 nsecret;
	char *const		*required;	/* names a run must be given */
	size_t			 nrequired;
	/*
	 * The job's steps: a python step's kwargs name params too (run
	 * params override them), each typed by its value there.
	 */
	const struct nf_step	*steps;
	size_t			 nsteps;
};

/* A resolved parameter set: owned, freed with nf_params_clear(). */
struct nf_params {
	struct nf_val		*merged;	/* defaults < preset < given */
	struct nf_val		*given;		/* the run's own, coerced */
	struct nf_val		*snapshot;	/* merged, secrets "***" */
	/*
	 * Values no log line, error, output or history row may show.  The
	 * values of secret params are added by nf_params_resolve(); other
	 * sources of secrets (${secret.NAME} values) add theirs with
	 * nf_params_add_secret() before the run starts.
	 */
	struct nf_secrets	 secrets;
};

/*
 * Params every run may be given without the job declaring them, with the
 * value that types them: dry_run (boolean), read by sql_query and sql_copy.
 */
#define NF_PARAMS_BUILTIN_DRY_RUN	"dry_run"

/*
 * Resolve given (a map of the run's own values, or NULL) against decl.
 * Returns 0 and fills *out, or -1 with a message naming the job, the
 * param, what it expects and what it got, written for the operator who
 * gave it (*out is left empty).
 */
int		 nf_params_resolve(const struct nf_params_decl *,
		    const struct nf_val *given, struct nf_params *out,
		    char *err, size_t errlen);
/* The declaration of a job as a run sees it (a preset's derived job). */
void		 nf_params_decl_job(const struct nf_job *,
		    struct nf_params_decl *);
/* nf_params_resolve() for a job as a run sees it. */
int		 nf_params_resolve_job(const struct nf_job *,
		    const struct nf_val *given, struct nf_params *out,
		    char *err, size_t errlen);
void		 nf_params_add_secret(struct nf_params *, const char *);
/* Move everything out of src into dst (dst was empty); src is left empty. */
void		 nf_params_move(struct nf_params *dst, struct nf_params *src);
void		 nf_params_clear(struct nf_params *);
/*
 * The params a replay gives: a run's stored snapshot without the secret
 * params it shows as "***" (their values were never stored: the job's
 * defaults apply again).
 */
struct nf_val	*nf_params_replay(const struct nf_job *,
		    const struct nf_val *snapshot);
/*
 * Load check of a job's declaration: a required param has no default, and
 * every fire the daemon makes by itself (the job's schedules, `after`, a
 * preset's schedule) gives it a value.  -1 with the message (without the
 * job's name: the caller prefixes where).
 */
int		 nf_params_check_job(const struct nf_job *, char *err,
		    size_t errlen);
/*
 * A copy of a params map with the values of decl's secret params as
 * "***" (the history, the audit trail); NULL for NULL.
 */
struct nf_val	*nf_params_shown(const struct nf_params_decl *,
		    const struct nf_val *);

#endif
