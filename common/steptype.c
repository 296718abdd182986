/*
 * steptype.c: the registry of step types the configuration may name.
 *
 * Runs in nomaflowd (config validation at load, -n and reload; the policy
 * name of a step at spawn) and in nfctl (validate).  For each type it says
 * which seccomp policy the worker installs, whether the step draws on a
 * pool, and the schema of its type-specific keys; config.c checks every
 * step against it.  The implementations live in the worker (worker/step.h):
 * a type is listed here only once the worker can run it, so a config can
 * never name a step no worker executes.
 *
 * Invariant: the table is static, read-only, and every name is unique.
 */
#include <stddef.h>
#include <string.h>

#include "steptype.h"

/*
 * exec: run a program directly (no shell unless argv names one).
 * argv must be a non-empty array of strings; config.c checks non-empty.
 */
static const struct nf_steptype_field exec_fields[] = {
	{ "argv",	 NF_V_ARR,  1, NF_V_STR },
	{ "env",	 NF_V_MAP,  0, NF_V_STR },
	{ "cwd",	 NF_V_STR,  0, NF_V_ANY },
	{ "inherit_env", NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,		 NF_V_ANY,  0, NF_V_ANY },
};

static const struct nf_steptype exec_type = {
	"exec", "exec", 0, exec_fields, "relay"
};

/*
 * sql_query: one statement on a pool.  Exactly one of "sql" (inline text)
 * and "query" (the name of one of the pool's [pools.NAME.queries]) is
 * required; the schema cannot say "one of", so config.c checks it along
 * with the pool itself.
 */
static const struct nf_steptype_field sql_query_fields[] = {
	{ "pool",	NF_V_STR, 1, NF_V_ANY },
	{ "sql",	NF_V_STR, 0, NF_V_ANY },
	{ "query",	NF_V_STR, 0, NF_V_ANY },
	{ "params",	NF_V_MAP, 0, NF_V_ANY },
	{ "max_rows",	NF_V_INT, 0, NF_V_ANY },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

static const struct nf_steptype sql_query_type = {
	"sql_query", "sql", 1, sql_query_fields, NULL
};

static const struct nf_steptype *const registry[] = {
	&exec_type,
	&sql_query_type,
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
