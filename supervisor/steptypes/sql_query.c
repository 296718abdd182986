/*
 * sql_query.c: the sql_query step type: one statement on a pool
 * (worker/step_sql.c), under the sql policy, in nomaflow-worker-sql or,
 * when the pool is SQLite, in the SQLite-only worker.
 *
 * Runs in nomaflowd (config load, -n, reload; STEP_START) and nfctl
 * (validate).  Part of the step-type registry (steptypes.h).
 *
 * Invariant: a loaded sql_query step points at its pool (st->pool).
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "load.h"
#include "steptypes.h"
#include "toml.h"

/*
 * Exactly one of "sql" (inline text) and "query" (the name of one of the
 * pool's [pools.NAME.queries]) is required; the schema cannot say "one
 * of", so sql_query_check does, along with the pool itself.
 */
static const struct nf_steptype_field sql_query_fields[] = {
	{ "pool",	NF_V_STR, 1, NF_V_ANY },
	{ "sql",	NF_V_STR, 0, NF_V_ANY },
	{ "query",	NF_V_STR, 0, NF_V_ANY },
	{ "params",	NF_V_MAP, 0, NF_V_ANY },
	{ "max_rows",	NF_V_INT, 0, NF_V_ANY },
	{ "script",	NF_V_BOOL, 0, NF_V_ANY },
	{ "dry_run",	NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

/* One of sql and query, bindable params, max_rows, the pool and query. */
static void
sql_query_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_kv *pkv, *skv, *qkv, *mkv;
	const struct nf_toml_value *ptab, *pv;
	const char	*pool, *q;
	size_t		 i;

	/* Only scalars can be bound; the worker would fail the step later. */
	ptab = nf_toml_get(t, "params");
	for (i = 0; ptab != NULL && ptab->type == NF_TOML_TABLE &&
	    i < ptab->u.tab.n; i++) {
		pv = ptab->u.tab.kv[i].val;
		if (pv->type == NF_TOML_ARRAY || pv->type == NF_TOML_TABLE)
			nf_load_err(ld, pv->line, pv->col, "%sparams.%s is %s; "
			    "only strings, numbers, booleans and dates can be "
			    "bound", pfx, ptab->u.tab.kv[i].key,
			    nf_load_toml_what(pv->type));
	}

	pkv = nf_toml_get_kv(t, "pool");
	skv = nf_toml_get_kv(t, "sql");
	qkv = nf_toml_get_kv(t, "query");
	mkv = nf_toml_get_kv(t, "max_rows");
	if (skv != NULL && qkv != NULL)
		nf_load_err(ld, qkv->line, qkv->col, "%shas both sql and "
		    "query: give the statement inline (sql) or name one of the "
		    "pool's queries (query), not both", pfx);
	else if (skv == NULL && qkv == NULL)
		nf_load_err(ld, line, col, "%sneeds sql = \"...\" (the "
		    "statement) or query = \"NAME\" (one of the pool's "
		    "queries)", pfx);
	if (mkv != NULL && mkv->val->type == NF_TOML_INTEGER &&
	    (mkv->val->u.i < 0 || mkv->val->u.i > 100000))
		nf_load_err(ld, mkv->val->line, mkv->val->col, "%smax_rows "
		    "must be between 0 and 100000", pfx);
	if (pkv == NULL || st->spec == NULL ||
	    (pool = nf_val_get_str(st->spec, "pool")) == NULL)
		return;
	if ((st->pool = nf_config_pool(ld->cfg, pool)) == NULL) {
		nf_load_err(ld, pkv->val->line, pkv->val->col, "%sno pool "
		    "named \"%s\" (declare it as [pools.%s] in nomaflow.toml)",
		    pfx, pool, pool);
		return;
	}
	if (qkv != NULL && (q = nf_val_get_str(st->spec, "query")) != NULL &&
	    nf_val_get(st->pool->queries, q) == NULL)
		nf_load_err(ld, qkv->val->line, qkv->val->col, "%spool \"%s\" "
		    "has no query named \"%s\" (add it under "
		    "[pools.%s.queries])", pfx, pool, q, pool);
}

/* The pool's definition: the worker connects to it. */
static void
sql_query_start_fields(struct nf_val *m, const struct nf_step_start *s)
{
	if (s->step->pool != NULL)
		nf_val_map_set(m, "pool", nf_steptype_pool_map(s->step->pool));
}

/* A SQLite pool needs only the SQLite-only worker, which lacks libpq. */
static const char *
sql_query_pick_worker(const struct nf_config *cfg, const struct nf_step *st)
{
	if (st->pool != NULL && strcmp(st->pool->driver, "sqlite") == 0)
		return "sqlite";
	return "sql";
}

static void
sql_query_pools(const struct nf_config *cfg, const struct nf_step *st,
    const struct nf_pool *out[2])
{
	out[0] = st->pool;
}

const struct nf_steptype nf_steptype_sql_query = {
	.name = "sql_query",
	.policy = "sql",
	.worker = "sql",
	.uses_pool = 1,
	.fields = sql_query_fields,
	.check = sql_query_check,
	.start_fields = sql_query_start_fields,
	.pick_worker = sql_query_pick_worker,
	.pools = sql_query_pools,
};
