/*
 * exec.c: the exec step type: run a program directly (no shell unless
 * argv names one) under the exec policy; the worker relays its output
 * under relay (worker/step_exec.c).
 *
 * Runs in nomaflowd (config load, -n, reload) and nfctl (validate).  Part
 * of the step-type registry (steptypes.h): the descriptor is all the
 * supervisor knows of the type.
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "load.h"
#include "steptypes.h"
#include "toml.h"

/* argv must be a non-empty array of strings; exec_check says non-empty. */
static const struct nf_steptype_field exec_fields[] = {
	{ "argv",	 NF_V_ARR,  1, NF_V_STR },
	{ "env",	 NF_V_MAP,  0, NF_V_STR },
	{ "cwd",	 NF_V_STR,  0, NF_V_ANY },
	{ "inherit_env", NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,		 NF_V_ANY,  0, NF_V_ANY },
};

/* What the schema cannot say: argv[0] and env names. */
static void
exec_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_value *argv, *env;
	size_t		 i;

	argv = nf_toml_get(t, "argv");
	env = nf_toml_get(t, "env");
	for (i = 0; env != NULL && env->type == NF_TOML_TABLE &&
	    i < env->u.tab.n; i++)
		if (env->u.tab.kv[i].key[0] == '\0' ||
		    strchr(env->u.tab.kv[i].key, '=') != NULL)
			nf_load_err(ld, env->u.tab.kv[i].line,
			    env->u.tab.kv[i].col, "%senv: \"%s\" is not a "
			    "valid environment variable name", pfx,
			    env->u.tab.kv[i].key);
	if (argv == NULL || argv->type != NF_TOML_ARRAY)
		return;
	if (argv->u.arr.n == 0)
		nf_load_err(ld, argv->line, argv->col, "%sargv must name a "
		    "program (it is empty)", pfx);
	else if (argv->u.arr.items[0]->type == NF_TOML_STRING &&
	    argv->u.arr.items[0]->u.str.len == 0)
		nf_load_err(ld, argv->u.arr.items[0]->line,
		    argv->u.arr.items[0]->col, "%sargv[0] (the program) must "
		    "not be empty", pfx);
}

const struct nf_steptype nf_steptype_exec = {
	.name = "exec",
	.policy = "exec",
	.worker_policy = "relay",
	.fields = exec_fields,
	.check = exec_check,
};
