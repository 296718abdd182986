/*
 * python.c: the python step type: call "package.module:function" from
 * the plugins directory with kwargs (any TOML values) under the
 * configured python3 and the shipped runner (python/nomaflow_runner.py).
 * Like exec, the interpreter runs under exec and the worker relays under
 * relay.
 *
 * Runs in nomaflowd (config load, -n, reload; STEP_START) and nfctl
 * (validate).  Part of the step-type registry (steptypes.h).
 */
#include "autoconf.h"

#include <ctype.h>
#include <string.h>

#include "config.h"
#include "load.h"
#include "steptypes.h"
#include "toml.h"

/*
 * pools names the pool definitions the function may read from ctx.pools;
 * python_check checks the callable's form and that every pool exists.
 */
static const struct nf_steptype_field python_fields[] = {
	{ "callable",	NF_V_STR, 1, NF_V_ANY },
	{ "kwargs",	NF_V_MAP, 0, NF_V_ANY },
	{ "pools",	NF_V_ARR, 0, NF_V_STR },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

/* A Python identifier as the runner accepts it: ASCII only. */
static int
py_ident(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* "a.b.c": dotted identifiers. */
static int
py_dotted(const char *s, size_t n)
{
	const char	*dot;

	while ((dot = memchr(s, '.', n)) != NULL) {
		if (!py_ident(s, (size_t)(dot - s)))
			return 0;
		n -= (size_t)(dot - s) + 1;
		s = dot + 1;
	}
	return py_ident(s, n);
}

static void
python_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_value *c, *pools, *p;
	const char	*s, *colon;
	size_t		 i;

	c = nf_toml_get(t, "callable");
	if (c != NULL && c->type == NF_TOML_STRING) {
		s = c->u.str.s;
		colon = strchr(s, ':');
		if (colon == NULL || !py_dotted(s, (size_t)(colon - s)) ||
		    !py_dotted(colon + 1, strlen(colon + 1)))
			nf_load_err(ld, c->line, c->col, "%scallable \"%s\" "
			    "must be \"package.module:function\" (a module "
			    "importable from plugins_dir, a colon, a function "
			    "in it)", pfx, s);
	}
	pools = nf_toml_get(t, "pools");
	for (i = 0; pools != NULL && pools->type == NF_TOML_ARRAY &&
	    i < pools->u.arr.n; i++) {
		p = pools->u.arr.items[i];
		if (p->type == NF_TOML_STRING &&
		    nf_config_pool(ld->cfg, p->u.str.s) == NULL)
			nf_load_err(ld, p->line, p->col, "%spools[%zu]: no "
			    "pool named \"%s\" (declare it as [pools.%s] in "
			    "nomaflow.toml)", pfx, i, p->u.str.s, p->u.str.s);
	}
}

/*
 * The parameters as the trigger gave them (kwargs rank between job
 * params and run params) and the definitions of the pools named in
 * spec.pools (python_check made sure they exist).
 */
static void
python_start_fields(struct nf_val *m, const struct nf_step_start *s)
{
	const struct nf_val	*names, *v;
	const struct nf_pool	*p;
	struct nf_val		*pools;
	size_t			 i;

	nf_val_map_set(m, "run_params", nf_val_dup(s->run_params));
	names = s->step->spec != NULL ? nf_val_get(s->step->spec, "pools") :
	    NULL;
	if (names == NULL || names->type != NF_V_ARR)
		return;
	pools = nf_val_map();
	for (i = 0; i < names->u.a.n; i++) {
		v = names->u.a.items[i];
		if (v->type == NF_V_STR && (p = nf_config_pool(s->cfg,
		    v->u.s.p)) != NULL)
			nf_val_map_set(pools, p->name, nf_steptype_pool_map(p));
	}
	nf_val_map_set(m, "pools", pools);
}

const struct nf_steptype nf_steptype_python = {
	.name = "python",
	.policy = "exec",
	.worker_policy = "relay",
	.reads_outputs = 1,
	.fields = python_fields,
	.check = python_check,
	.start_fields = python_start_fields,
};
