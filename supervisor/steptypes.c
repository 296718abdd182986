/*
 * steptypes.c: the registry of step types the configuration may name: one
 * descriptor per type (steptypes.h), each defined in its own file under
 * steptypes/.  A type is listed here only once the worker can run it (or,
 * in_supervisor, the run engine), so a config can never name a step
 * nothing executes.
 *
 * Runs in nomaflowd (config validation at load, -n and reload; the policy,
 * worker binary and STEP_START fields of a step at spawn) and in nfctl
 * (validate).
 *
 * Invariant: the registry is static, read-only, and every name is unique.
 */
#include "autoconf.h"

#include <stddef.h>
#include <string.h>

#include "config.h"
#include "steptypes.h"
#include "val.h"

/* The types, one file each: steptypes/<name>.c. */
extern const struct nf_steptype nf_steptype_exec;
extern const struct nf_steptype nf_steptype_sql_query;
extern const struct nf_steptype nf_steptype_sql_copy;
extern const struct nf_steptype nf_steptype_python;
extern const struct nf_steptype nf_steptype_http;
extern const struct nf_steptype nf_steptype_call_job;

static const struct nf_steptype *const registry[] = {
	&nf_steptype_exec,
	&nf_steptype_sql_query,
	&nf_steptype_sql_copy,
	&nf_steptype_python,
	&nf_steptype_http,
	&nf_steptype_call_job,
	NULL,
};

const struct nf_steptype *
nf_steptype_find(const char *name)
{
	size_t	i;

	for (i = 0; registry[i] != NULL; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct nf_steptype *const *
nf_steptype_all(void)
{
	return registry;
}

const char *
nf_steptype_worker(const struct nf_steptype *t, const struct nf_config *cfg,
    const struct nf_step *st)
{
	if (t->pick_worker != NULL)
		return t->pick_worker(cfg, st);
	return t->worker;
}

void
nf_steptype_pools(const struct nf_steptype *t, const struct nf_config *cfg,
    const struct nf_step *st, const struct nf_pool *out[2])
{
	out[0] = out[1] = NULL;
	if (t->pools != NULL)
		t->pools(cfg, st, out);
}

struct nf_val *
nf_steptype_pool_map(const struct nf_pool *p)
{
	struct nf_val	*m;

	m = nf_val_map();
	nf_val_map_set_str(m, "name", p->name);
	nf_val_map_set_str(m, "driver", p->driver);
	if (p->path != NULL)
		nf_val_map_set_str(m, "path", p->path);
	if (p->conninfo != NULL)
		nf_val_map_set_str(m, "conninfo", p->conninfo);
	nf_val_map_set(m, "queries", p->queries != NULL ?
	    nf_val_dup(p->queries) : nf_val_map());
	return m;
}
