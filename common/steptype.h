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
};

const struct nf_steptype *nf_steptype_find(const char *name);
/* NULL-terminated list of every registered type (for docs and -n). */
const struct nf_steptype *const *nf_steptype_all(void);

#endif
