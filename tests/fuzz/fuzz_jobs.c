/* NF_FUZZ_SOURCES: supervisor/config.c supervisor/acl.c supervisor/params.c supervisor/load.c supervisor/jobs.c supervisor/dump.c supervisor/toml.c common/steptype.c supervisor/steptypes.c supervisor/steptypes/exec.c supervisor/steptypes/sql_query.c supervisor/steptypes/sql_copy.c supervisor/steptypes/python.c supervisor/steptypes/http.c supervisor/steptypes/call_job.c common/policy.c common/template.c supervisor/expr.c common/json.c common/val.c common/util.c common/log.c supervisor/cron.c supervisor/tz.c */
/* NF_FUZZ_CFLAGS: -DNF_POLICYDIR="/nonexistent" -DNF_PKGLIBEXECDIR="/nonexistent" */
/*
 * fuzz_jobs.c: libFuzzer target for the jobs-file loader (supervisor/jobs.c):
 * every job key, schedules, the scheduling policies (overlap, catchup,
 * durations, jitter), presets with their step overrides, and the `after`
 * checks (unknown ids, cycles).  The input is written as the only file of
 * a jobs directory and loaded with a fixed nomaflow.toml.  Any input must
 * load or be rejected with "file:line:col: message" errors; crashes,
 * leaks and undefined behaviour are bugs.  A loaded configuration is
 * checked for what the scheduler relies on: presets have their derived
 * job, `after` names loaded jobs.
 */
#include <sys/stat.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "util.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static char	dir[64], conf[128], jobfile[128];

static void
setup(void)
{
	FILE	*fp;
	char	 path[128];

	snprintf(dir, sizeof(dir), "/tmp/nf-fuzz-jobs.XXXXXX");
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/jobs.d", dir);
	if (mkdir(path, 0700) == -1)
		abort();
	snprintf(conf, sizeof(conf), "%s/nomaflow.toml", dir);
	snprintf(jobfile, sizeof(jobfile), "%s/jobs.d/fuzz.toml", dir);
	if ((fp = fopen(conf, "w")) == NULL)
		abort();
	fputs("state_dir = \"state\"\njobs_dir = \"jobs.d\"\n"
	    "[pools.db]\ndriver = \"sqlite\"\npath = \"db.sqlite\"\n", fp);
	fclose(fp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct nf_config	*cfg;
	struct nf_errs		 errs;
	const struct nf_job	*j;
	FILE			*fp;
	size_t			 i, k;

	if (dir[0] == '\0') {
		setup();
		nf_log_set_level(NF_LOG_ERROR);
	}
	if ((fp = fopen(jobfile, "w")) == NULL)
		abort();
	if (len > 0 && fwrite(data, 1, len, fp) != len)
		abort();
	fclose(fp);
	nf_errs_init(&errs);
	cfg = nf_config_load(conf, 0, &errs);
	if (cfg == NULL && errs.n == 0)
		abort();		/* rejected without a message */
	for (i = 0; cfg != NULL && i < cfg->njobs; i++) {
		j = &cfg->jobs[i];
		for (k = 0; k < j->npresets; k++)
			if (j->presets[k].job == NULL ||
			    j->presets[k].job->preset != &j->presets[k] ||
			    j->presets[k].job->nsteps != j->nsteps)
				abort();
		for (k = 0; k < j->nafter; k++)
			if (nf_config_job(cfg, j->after[k].job) == NULL)
				abort();
	}
	nf_config_free(cfg);
	nf_errs_free(&errs);
	return 0;
}
