/*
 * call_job.c: the call_job step type: start a run of another job and wait
 * for it (run.c).  Handled by nomaflowd itself: no worker, no policy.
 * jobs.c checks that the called job exists and that calls form no cycle,
 * through call_job_callee.
 *
 * Runs in nomaflowd (config load, -n, reload) and nfctl (validate).  Part
 * of the step-type registry (steptypes.h).
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "load.h"
#include "steptypes.h"
#include "template.h"
#include "toml.h"

static const struct nf_steptype_field call_job_fields[] = {
	{ "job",	NF_V_STR, 1, NF_V_ANY },
	{ "params",	NF_V_MAP, 0, NF_V_ANY },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

/* The called job's timeout bounds the call: the step has none. */
static void
call_job_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_value *v;

	if ((v = nf_toml_get(t, "timeout_seconds")) != NULL)
		nf_load_err(ld, v->line, v->col, "%sa %s step has no "
		    "timeout_seconds of its own: set timeout_seconds on the "
		    "called job", pfx, st->type);
}

/* The job the step names, if it is literal (no template). */
static const char *
call_job_callee(const struct nf_step *st)
{
	const char	*j;

	if (st->spec == NULL || (j = nf_val_get_str(st->spec, "job")) ==
	    NULL || nf_tmpl_has_ref(j) || strstr(j, "$$") != NULL)
		return NULL;
	return j;
}

const struct nf_steptype nf_steptype_call_job = {
	.name = "call_job",
	.in_supervisor = 1,
	.fields = call_job_fields,
	.check = call_job_check,
	.callee = call_job_callee,
};
