/*
 * steptypes.h: the step-type registry of nomaflowd.  One descriptor per
 * type says everything the supervisor knows about it: the keys a step of
 * the type may have, the checks those keys need beyond their types, the
 * seccomp policy and worker binary it runs under, and the fields it adds
 * to STEP_START.  Each type is one file under supervisor/steptypes/; the
 * registry (steptypes.c) lists them.  Adding a type is one file and one
 * registry line; config loading (jobs.c) and spawning (spawn.c) only ever
 * go through the descriptor.
 *
 * Supervisor only: the worker has its own registry of implementations
 * (worker/step.h), and the helpers both processes need (HTTP status
 * ranges, which names are secrets, URLs fit for logs) are in
 * common/steptype.h.
 */
#ifndef NF_STEPTYPES_H
#define NF_STEPTYPES_H

#include "val.h"

struct nf_config;
struct nf_load;
struct nf_pool;
struct nf_step;
struct nf_toml_value;

/* One type-specific key of a step: its value's type, required or not. */
struct nf_steptype_field {
	const char	*key;
	enum nf_val_type type;	/* NF_V_ANY for anything */
	int		 required;
	enum nf_val_type elem;	/* for arrays/maps: element type, or NF_V_ANY */
};

/* What the STEP_START fields of a step attempt are built from. */
struct nf_step_start {
	const struct nf_config	*cfg;
	const struct nf_step	*step;
	const struct nf_val	*run_params;	/* as the trigger gave */
};

struct nf_steptype {
	const char	*name;		/* "exec" */
	const char	*policy;	/* "exec" -> policies/exec.policy */
	/*
	 * The policy the worker process itself runs under once the step has
	 * started, when it differs from `policy` (exec: the program runs
	 * under exec, the worker relays its output under relay).  NULL: the
	 * same as `policy`.  A worker killed by SIGSYS is reported with this
	 * name.
	 */
	const char	*worker_policy;
	/*
	 * Which worker binary runs the type: NULL for nomaflow-worker
	 * (exec, python: no database or network library), "sql" for
	 * nomaflow-worker-sql (SQLite, libpq), "http" for
	 * nomaflow-worker-http (libcurl, jansson).  Each binary links only
	 * the libraries of its types, so an exec step does not pay for
	 * loading libpq and libcurl at every spawn.  pick_worker, if set,
	 * may choose another one for a given step (nf_steptype_worker()).
	 */
	const char	*worker;
	/*
	 * Run by nomaflowd itself, no worker process, no policy (call_job):
	 * the run engine handles the step and never spawns for it.
	 */
	int		 in_supervisor;
	int		 uses_pool;	/* spec has "pool" naming a pool */
	/*
	 * STEP_START carries the outputs of earlier steps (outputs, prev):
	 * the type reads them at run time (python's ctx).  The others get
	 * them rendered into their spec; leaving them out keeps big outputs
	 * from pushing STEP_START past its frame cap.
	 */
	int		 reads_outputs;
	const struct nf_steptype_field *fields;	/* terminated by key NULL */
	/*
	 * The checks the field schema cannot express, once every key of step
	 * table t passed it (st->spec holds them): report each problem with
	 * nf_load_err() and its position; pfx starts every message ("job
	 * \"x\": step \"y\": "), line and col are the step table's.  May
	 * resolve references (st->pool).  NULL: nothing more to check.
	 */
	void		(*check)(struct nf_load *, struct nf_step *st,
			    const struct nf_toml_value *t, const char *pfx,
			    int line, int col);
	/* Adds the type's own fields to STEP_START map m; NULL: none. */
	void		(*start_fields)(struct nf_val *m,
			    const struct nf_step_start *);
	/* The worker binary for this step; NULL: always `worker`. */
	const char	*(*pick_worker)(const struct nf_config *,
			    const struct nf_step *);
	/* The job a step of the type calls, if literal; NULL: none. */
	const char	*(*callee)(const struct nf_step *);
	/*
	 * The pools a step's worker connects to (their max_concurrent
	 * applies), each once, in out[0] then out[1]; NULL: none.
	 */
	void		(*pools)(const struct nf_config *,
			    const struct nf_step *,
			    const struct nf_pool *out[2]);
};

const struct nf_steptype *nf_steptype_find(const char *name);
/* NULL-terminated list of every registered type (for docs and -n). */
const struct nf_steptype *const *nf_steptype_all(void);
/* The worker binary for step st of type t (cfg may be NULL for a probe). */
const char	*nf_steptype_worker(const struct nf_steptype *t,
		    const struct nf_config *cfg, const struct nf_step *st);
/* The pools step st of type t connects to (see pools above). */
void		 nf_steptype_pools(const struct nf_steptype *t,
		    const struct nf_config *cfg, const struct nf_step *st,
		    const struct nf_pool *out[2]);
/* A pool as STEP_START carries it: name, driver, path/conninfo, queries. */
struct nf_val	*nf_steptype_pool_map(const struct nf_pool *);

#endif
