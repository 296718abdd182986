/*
 * steptype.h: the step-type registry shared by config validation (which
 * keys a step of this type may have, of which types, which are required)
 * and the supervisor (which seccomp policy a type runs under).  The worker
 * has its own registry of implementations (worker/step.h).
 */
#ifndef NF_STEPTYPE_H
#define NF_STEPTYPE_H

#include "val.h"

struct nf_steptype_field {
	const char	*key;
	enum nf_val_type type;	/* NF_V_ANY for anything */
	int		 required;
	enum nf_val_type elem;	/* for arrays/maps: element type, or NF_V_ANY */
};

struct nf_steptype {
	const char	*name;		/* "exec" */
	const char	*policy;	/* "exec" -> policies/exec.policy */
	int		 uses_pool;	/* spec has "pool" naming a pool */
	const struct nf_steptype_field *fields;	/* terminated by key NULL */
	/*
	 * The policy the worker process itself runs under once the step has
	 * started, when it differs from `policy` (exec: the program runs
	 * under exec, the worker relays its output under relay).  NULL: the
	 * same as `policy`.  A worker killed by SIGSYS is reported with this
	 * name.
	 */
	const char	*worker_policy;
	/*
	 * Run by nomaflowd itself, no worker process, no policy (call_job):
	 * the run engine handles the step and never spawns for it.
	 */
	int		 in_supervisor;
	/*
	 * Which worker binary runs the type: NULL for nomaflow-worker
	 * (exec, python: no database or network library), "sql" for
	 * nomaflow-worker-sql (SQLite, libpq), "http" for
	 * nomaflow-worker-http (libcurl, jansson).  Each binary links only
	 * the libraries of its types, so an exec step does not pay for
	 * loading libpq and libcurl at every spawn.
	 */
	const char	*worker;
};

const struct nf_steptype *nf_steptype_find(const char *name);
/*
 * An expected HTTP status as text: "404", "2xx" or "200-299" (100-599).
 * 0 and the inclusive range, or -1.  Shared by config.c and the worker.
 */
int		 nf_steptype_status_range(const char *s, int *lo, int *hi);
/*
 * Secrets in step specs.  nf_steptype_secret_name: does a header or query
 * parameter of this name carry a credential (Authorization, Cookie,
 * X-Api-Key, access_token, ...)?  nf_steptype_url_shown: a
 * copy of url fit for logs: no userinfo, no fragment, the values of
 * secret-named query parameters replaced by "***".
 * nf_steptype_spec_public: a copy of a step's spec for display (nfctl job
 * show), with every credential replaced by "[redacted]".
 */
int		 nf_steptype_secret_name(const char *name, size_t len);
char		*nf_steptype_url_shown(const char *url);
struct nf_val	*nf_steptype_spec_public(const char *type,
		    const struct nf_val *spec);
/* The largest max_body_bytes of an http step: the body must fit a frame. */
#define NF_STEPTYPE_HTTP_MAX_BODY	(1u << 20)
/* NULL-terminated list of every registered type (for docs and -n). */
const struct nf_steptype *const *nf_steptype_all(void);

#endif
