/*
 * sql_copy.c: the sql_copy step type: stream rows from source = {pool,
 * table | query} into target = {pool, table} (worker/step_copy.c), under
 * the sql policy, in nomaflow-worker-sql or, when both pools are SQLite,
 * in the SQLite-only worker.
 *
 * Runs in nomaflowd (config load, -n, reload; STEP_START) and nfctl
 * (validate).  Part of the step-type registry (steptypes.h).
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "load.h"
#include "steptypes.h"
#include "toml.h"
#include "util.h"

/*
 * The pools are named inside source and target, so uses_pool is 0 and
 * sql_copy_check checks both, the mode and its key, and the coercion
 * options.
 */
static const struct nf_steptype_field sql_copy_fields[] = {
	{ "source",		NF_V_MAP,  1, NF_V_STR },
	{ "target",		NF_V_MAP,  1, NF_V_STR },
	{ "mode",		NF_V_STR,  0, NF_V_ANY },
	{ "key",		NF_V_ARR,  0, NF_V_STR },
	{ "batch_size",		NF_V_INT,  0, NF_V_ANY },
	{ "columns",		NF_V_ARR,  0, NF_V_STR },
	{ "rename",		NF_V_MAP,  0, NF_V_STR },
	{ "trim_strings",	NF_V_BOOL, 0, NF_V_ANY },
	{ "empty_to_null",	NF_V_BOOL, 0, NF_V_ANY },
	{ "null_to_default",	NF_V_BOOL, 0, NF_V_ANY },
	{ "decimal",		NF_V_STR,  0, NF_V_ANY },
	{ "dry_run",		NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,			NF_V_ANY,  0, NF_V_ANY },
};

/* source or target of sql_copy: {pool, table} (source: or query). */
static void
copy_check_end(struct nf_load *ld, const struct nf_toml_value *t,
    const char *pfx, const char *which)
{
	static const char *const keys[] = { "pool", "table", "query", NULL };
	const struct nf_toml_value *e, *v;
	size_t		 i;

	if ((e = nf_toml_get(t, which)) == NULL || e->type != NF_TOML_TABLE)
		return;
	for (i = 0; i < e->u.tab.n; i++)
		if (!nf_load_in_list(keys, e->u.tab.kv[i].key) ||
		    (strcmp(which, "target") == 0 &&
		    strcmp(e->u.tab.kv[i].key, "query") == 0))
			nf_load_err(ld, e->u.tab.kv[i].line, e->u.tab.kv[i].col,
			    "%s%s: unknown key \"%s\" (%s)", pfx, which,
			    e->u.tab.kv[i].key, strcmp(which, "source") == 0 ?
			    "pool, and table or query" : "pool and table");
	if ((v = nf_toml_get(e, "pool")) == NULL)
		nf_load_err(ld, e->line, e->col, "%s%s needs pool = \"NAME\"",
		    pfx, which);
	else if (v->type == NF_TOML_STRING &&
	    nf_config_pool(ld->cfg, v->u.str.s) == NULL)
		nf_load_err(ld, v->line, v->col, "%s%s: no pool named \"%s\" "
		    "(declare it as [pools.%s] in nomaflow.toml)", pfx, which,
		    v->u.str.s, v->u.str.s);
	if (strcmp(which, "source") == 0 &&
	    (nf_toml_get(e, "table") == NULL) ==
	    (nf_toml_get(e, "query") == NULL))
		nf_load_err(ld, e->line, e->col, "%ssource needs either table "
		    "= \"NAME\" or query = \"SELECT ...\"", pfx);
	if (strcmp(which, "target") == 0 && nf_toml_get(e, "table") == NULL)
		nf_load_err(ld, e->line, e->col, "%starget needs table = "
		    "\"NAME\"", pfx);
}

static void
sql_copy_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_value *v, *k;

	copy_check_end(ld, t, pfx, "source");
	copy_check_end(ld, t, pfx, "target");
	v = nf_toml_get(t, "mode");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "overwrite") != 0 &&
	    strcmp(v->u.str.s, "append") != 0 &&
	    strcmp(v->u.str.s, "upsert") != 0)
		nf_load_err(ld, v->line, v->col, "%smode must be "
		    "\"overwrite\", \"append\" or \"upsert\", not \"%s\"", pfx,
		    v->u.str.s);
	k = nf_toml_get(t, "key");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "upsert") == 0 &&
	    (k == NULL || k->type != NF_TOML_ARRAY || k->u.arr.n == 0))
		nf_load_err(ld, v->line, v->col, "%smode \"upsert\" needs key "
		    "= [\"COLUMN\", ...] (the target's unique key)", pfx);
	if (k != NULL && (v == NULL || v->type != NF_TOML_STRING ||
	    strcmp(v->u.str.s, "upsert") != 0))
		nf_load_err(ld, k->line, k->col, "%skey is only used by mode = "
		    "\"upsert\"", pfx);
	v = nf_toml_get(t, "decimal");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "preserve") != 0 &&
	    strcmp(v->u.str.s, "truncate") != 0)
		nf_load_err(ld, v->line, v->col, "%sdecimal must be "
		    "\"preserve\" or \"truncate\", not \"%s\"", pfx,
		    v->u.str.s);
	v = nf_toml_get(t, "batch_size");
	if (v != NULL && v->type == NF_TOML_INTEGER &&
	    (v->u.i < 1 || v->u.i > 1000000))
		nf_load_err(ld, v->line, v->col, "%sbatch_size must be between "
		    "1 and 1000000", pfx);
}

static const char *const copy_ends[] = { "source", "target" };

/* The pool of source or target, by name; NULL if the spec has none. */
static const char *
copy_pool(const struct nf_step *st, size_t end)
{
	return st->spec != NULL ? nf_val_get_str(nf_val_get(st->spec,
	    copy_ends[end]), "pool") : NULL;
}

/* The definitions of the source and target pools. */
static void
sql_copy_start_fields(struct nf_val *m, const struct nf_step_start *s)
{
	const struct nf_pool	*p;
	const char		*name;
	struct nf_val		*pools;
	size_t			 i;

	pools = nf_val_map();
	for (i = 0; i < NF_NELEM(copy_ends); i++) {
		name = copy_pool(s->step, i);
		if (name != NULL && (p = nf_config_pool(s->cfg, name)) !=
		    NULL && nf_val_get(pools, name) == NULL)
			nf_val_map_set(pools, p->name, nf_steptype_pool_map(p));
	}
	nf_val_map_set(m, "pools", pools);
}

/* Both pools SQLite: the SQLite-only worker, which lacks libpq, will do. */
static const char *
sql_copy_pick_worker(const struct nf_config *cfg, const struct nf_step *st)
{
	const struct nf_pool	*p;
	const char		*name;
	size_t			 i;
	int			 n = 0;

	for (i = 0; i < NF_NELEM(copy_ends); i++) {
		if ((name = copy_pool(st, i)) == NULL)
			continue;
		if (cfg == NULL || (p = nf_config_pool(cfg, name)) == NULL ||
		    strcmp(p->driver, "sqlite") != 0)
			return "sql";
		n++;
	}
	return n > 0 ? "sqlite" : "sql";
}

/* Source and target; one pool if both name the same. */
static void
sql_copy_pools(const struct nf_config *cfg, const struct nf_step *st,
    const struct nf_pool *out[2])
{
	const char	*s, *t;

	s = copy_pool(st, 0);
	t = copy_pool(st, 1);
	out[0] = s != NULL ? nf_config_pool(cfg, s) : NULL;
	out[1] = t != NULL && (s == NULL || strcmp(s, t) != 0) ?
	    nf_config_pool(cfg, t) : NULL;
}

const struct nf_steptype nf_steptype_sql_copy = {
	.name = "sql_copy",
	.policy = "sql",
	.worker = "sql",
	.fields = sql_copy_fields,
	.check = sql_copy_check,
	.start_fields = sql_copy_start_fields,
	.pick_worker = sql_copy_pick_worker,
	.pools = sql_copy_pools,
};
