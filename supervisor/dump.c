/*
 * dump.c: the normalised configuration as TOML-like text (nomaflowd -n -v
 * and the golden tests): every default filled in, every path absolute,
 * keys in a fixed order, so two configs that load the same dump the same.
 *
 * Runs in nomaflowd (-n -v) and the tests; it only reads a loaded
 * nf_config and writes to the stream it is given.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "config.h"
#include "cron.h"
#include "expr.h"
#include "load.h"
#include "log.h"
#include "util.h"
#include "val.h"

/* Dump ---------------------------------------------------------------- */

static void
dump_str(FILE *fp, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	fputc('"', fp);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\u%04x", c);
			else
				fputc(c, fp);
		}
	}
	fputc('"', fp);
}

static void
dump_cstr(FILE *fp, const char *s)
{
	dump_str(fp, s, strlen(s));
}

static void
dump_key(FILE *fp, const char *k)
{
	if (nf_valid_ident(k))
		fputs(k, fp);
	else
		dump_cstr(fp, k);
}

/* Shortest text that reads back as the same double. */
static void
dump_float(FILE *fp, double d)
{
	char	buf[64];
	int	prec;

	if (isnan(d)) {
		fputs("nan", fp);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-inf" : "inf", fp);
		return;
	}
	/* Whole numbers read best as "30.0", not "3e+01". */
	if (fabs(d) < 1e15 && d == trunc(d)) {
		fprintf(fp, "%.1f", d);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	fputs(buf, fp);
	if (strpbrk(buf, ".e") == NULL)
		fputs(".0", fp);
}

static void
dump_val(FILE *fp, const struct nf_val *v)
{
	size_t	i;

	switch (v->type) {
	case NF_V_NIL:
		fputs("\"\"", fp);
		break;
	case NF_V_BOOL:
		fputs(v->u.b ? "true" : "false", fp);
		break;
	case NF_V_INT:
		fprintf(fp, "%lld", (long long)v->u.i);
		break;
	case NF_V_FLOAT:
		dump_float(fp, v->u.f);
		break;
	case NF_V_STR:
	case NF_V_BIN:
		dump_str(fp, v->u.s.p, v->u.s.len);
		break;
	case NF_V_ARR:
		fputc('[', fp);
		for (i = 0; i < v->u.a.n; i++) {
			if (i > 0)
				fputs(", ", fp);
			dump_val(fp, v->u.a.items[i]);
		}
		fputc(']', fp);
		break;
	case NF_V_MAP:
		if (v->u.m.n == 0) {
			fputs("{}", fp);
			break;
		}
		fputs("{ ", fp);
		for (i = 0; i < v->u.m.n; i++) {
			if (i > 0)
				fputs(", ", fp);
			dump_key(fp, v->u.m.kv[i].key);
			fputs(" = ", fp);
			dump_val(fp, v->u.m.kv[i].val);
		}
		fputs(" }", fp);
		break;
	default:
		nf_panic("config dump: value of type %d", v->type);
	}
}

static void
dump_kv_str(FILE *fp, const char *k, const char *s)
{
	fprintf(fp, "%s = ", k);
	dump_cstr(fp, s);
	fputc('\n', fp);
}

static void
dump_map_lines(FILE *fp, const struct nf_val *m)
{
	size_t	i;

	for (i = 0; i < m->u.m.n; i++) {
		dump_key(fp, m->u.m.kv[i].key);
		fputs(" = ", fp);
		dump_val(fp, m->u.m.kv[i].val);
		fputc('\n', fp);
	}
}

/*
 * One schedule as a [[jobs.schedules]] table, inline: an interval with
 * an anchor ("@every 2s from 2026-01-01T00:00:00Z", as loaded) is written
 * back as every and every_anchor.
 */
static void
dump_schedule(FILE *fp, const struct nf_schedule *sc)
{
	const char	*from;

	if (strncmp(sc->expr, "@every ", 7) == 0 &&
	    (from = strstr(sc->expr, " from ")) != NULL) {
		fputs("{ every = ", fp);
		dump_str(fp, sc->expr + 7, (size_t)(from - sc->expr - 7));
		fprintf(fp, ", every_anchor = %s", from + 6);
	} else {
		fputs("{ cron = ", fp);
		dump_cstr(fp, sc->expr);
	}
	if (sc->timezone != NULL) {
		fputs(", timezone = ", fp);
		dump_cstr(fp, sc->timezone);
	}
	fputs(" }", fp);
}

/* The scheduling policies of a job (scheduler.c), every default given. */
static void
dump_job_policy(FILE *fp, const struct nf_job *job)
{
	size_t	i;

	dump_kv_str(fp, "overlap", nf_jobs_overlap_names[job->overlap]);
	dump_kv_str(fp, "catchup", nf_jobs_catchup_names[job->catchup]);
	fprintf(fp, "catchup_window = %d\n", job->catchup_window);
	fprintf(fp, "jitter = %d\n", job->jitter);
	fputs("after = [", fp);
	for (i = 0; i < job->nafter; i++) {
		if (i > 0)
			fputs(", ", fp);
		dump_cstr(fp, job->after[i].job);
	}
	fputs("]\n", fp);
	dump_kv_str(fp, "after_on", nf_jobs_after_on_names[job->after_always]);
	dump_kv_str(fp, "on_interrupt",
	    nf_jobs_on_interrupt_names[job->on_interrupt_retry]);
}

/*
 * A job's own retention, with the [retention] values it inherits filled
 * in: what the pruner applies (retention.c).  Nothing if it sets none.
 */
static void
dump_job_retention(FILE *fp, const struct nf_config *cfg,
    const struct nf_job *job)
{
	const struct nf_retention *r = &job->retention;

	if (r->runs < 0 && r->days < 0 && r->log_days < 0)
		return;
	fprintf(fp, "retention = { runs = %d, days = %d, log_days = %d }\n",
	    r->runs >= 0 ? r->runs : cfg->retention.runs,
	    r->days >= 0 ? r->days : cfg->retention.days,
	    r->log_days >= 0 ? r->log_days : cfg->retention.log_days);
}

static void
dump_preset(FILE *fp, const struct nf_preset *p)
{
	fputs("\n[[jobs.presets]]\n", fp);
	dump_kv_str(fp, "name", p->name);
	if (p->description != NULL)
		dump_kv_str(fp, "description", p->description);
	if (p->schedule != NULL)
		dump_kv_str(fp, "schedule", p->schedule);
	else
		fputs("# schedule: none (nfctl run --preset only)\n", fp);
	if (p->timezone != NULL)
		dump_kv_str(fp, "timezone", p->timezone);
	fputs("params = ", fp);
	dump_val(fp, p->params);
	fputc('\n', fp);
	if (p->steps != NULL && p->steps->u.m.n > 0) {
		fputs("steps = ", fp);
		dump_val(fp, p->steps);
		fputc('\n', fp);
	}
}

void
nf_config_dump(const struct nf_config *cfg, FILE *fp)
{
	const struct nf_pool *p;
	const struct nf_job *job;
	const struct nf_step *st;
	size_t		 i, j;
	int		 k;

	fputs("# nomaflow configuration, defaults filled in\n", fp);
	dump_kv_str(fp, "state_dir", cfg->state_dir);
	dump_kv_str(fp, "policies_dir", cfg->policies_dir);
	dump_kv_str(fp, "jobs_dir", cfg->jobs_dir);
	dump_kv_str(fp, "python", cfg->python_path);
	dump_kv_str(fp, "plugins_dir", cfg->plugins_dir);
	dump_kv_str(fp, "log_level", nf_log_level_name(cfg->log_level));
	fprintf(fp, "shutdown_grace_seconds = %d\n",
	    cfg->shutdown_grace_seconds);
	fprintf(fp, "log_cap_bytes = %lld\n", (long long)cfg->log_cap_bytes);

	fputs("\n[store]\n", fp);
	dump_kv_str(fp, "path", cfg->store_path);
	dump_kv_str(fp, "synchronous", cfg->store_sync_full ? "full" :
	    "normal");

	fputs("\n[secrets]\n", fp);
	dump_kv_str(fp, "key_file", cfg->secret_key_file);

	fputs("\n[control]\n", fp);
	dump_kv_str(fp, "socket", cfg->socket_path);
	fprintf(fp, "mode = \"%04o\"\n", (unsigned)cfg->socket_mode);
	if (cfg->socket_group != NULL)
		dump_kv_str(fp, "group", cfg->socket_group);
	else
		fputs("# group: unset (the daemon's own group)\n", fp);
	nf_acl_dump(cfg->acl, fp);	/* [[role]], [[user]], [[group]] */

	if (cfg->web.listen != NULL) {
		fputs("\n[web]\n", fp);
		dump_kv_str(fp, "listen", cfg->web.listen);
		if (cfg->web.tls_cert != NULL) {
			dump_kv_str(fp, "tls_cert", cfg->web.tls_cert);
			dump_kv_str(fp, "tls_key", cfg->web.tls_key);
		}
		fprintf(fp, "session_ttl = %d\n", cfg->web.session_ttl);
		fputs("trusted_proxies = [", fp);
		for (i = 0; i < cfg->web.ntrusted_proxies; i++) {
			fputs(i > 0 ? ", " : "", fp);
			dump_cstr(fp, cfg->web.trusted_proxies[i]);
		}
		fputs("]\n", fp);
		dump_kv_str(fp, "user_header", cfg->web.user_header);
	}

	fputs("\n[worker]\n", fp);
	if (cfg->worker_path != NULL)
		dump_kv_str(fp, "path", cfg->worker_path);
	else
		fprintf(fp, "# path: unset (nomaflow-worker beside nomaflowd, "
		    "else %s/nomaflow-worker)\n", NF_PKGLIBEXECDIR);
	fprintf(fp, "max_concurrent = %d\n", cfg->max_workers);
	fprintf(fp, "grace_seconds = %d\n", cfg->grace_seconds);
	fprintf(fp, "allow_unsandboxed = %s\n", cfg->allow_unsandboxed ?
	    "true" : "false");
	fprintf(fp, "output_max_rows = %d\n", cfg->output_max_rows);
	if (cfg->run_as.set && !cfg->run_as.implicit)
		dump_kv_str(fp, "run_as", cfg->run_as.name);

	fputs("\n[retention]\n", fp);
	fprintf(fp, "runs = %d\ndays = %d\nlog_days = %d\n",
	    cfg->retention.runs, cfg->retention.days,
	    cfg->retention.log_days);

	for (i = 0; i < cfg->npools; i++) {
		p = &cfg->pools[i];
		fputs("\n[pools.", fp);
		dump_key(fp, p->name);
		fputs("]\n", fp);
		dump_kv_str(fp, "driver", p->driver);
		if (p->path != NULL)
			dump_kv_str(fp, "path", p->path);
		if (p->conninfo != NULL)
			dump_kv_str(fp, "conninfo", p->conninfo);
		fprintf(fp, "max_concurrent = %d\n", p->max_concurrent);
		if (p->queries->u.m.n > 0) {
			fputs("\n[pools.", fp);
			dump_key(fp, p->name);
			fputs(".queries]\n", fp);
			dump_map_lines(fp, p->queries);
		}
	}

	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		fputs("\n[[jobs]]\n", fp);
		dump_kv_str(fp, "id", job->id);
		dump_kv_str(fp, "description", job->description);
		if (job->nschedules == 0)
			fputs("# schedule: none (manual runs only)\n", fp);
		else if (job->nschedules == 1 &&
		    job->schedules[0].timezone == NULL &&
		    strstr(job->schedules[0].expr, " from ") == NULL)
			dump_kv_str(fp, "schedule", job->schedule);
		else {
			fputs("schedules = [", fp);
			for (j = 0; j < job->nschedules; j++) {
				fputs(j > 0 ? ",\n    " : "\n    ", fp);
				dump_schedule(fp, &job->schedules[j]);
			}
			fputs("\n]\n", fp);
		}
		dump_kv_str(fp, "timezone", job->timezone != NULL ?
		    job->timezone : "UTC");
		fprintf(fp, "enabled = %s\n", job->enabled ? "true" : "false");
		fputs("tags = [", fp);
		for (j = 0; j < job->ntags; j++) {
			if (j > 0)
				fputs(", ", fp);
			dump_cstr(fp, job->tags[j]);
		}
		fputs("]\n", fp);
		fprintf(fp, "timeout_seconds = %d\n", job->timeout_seconds);
		if (job->run_as.set)
			dump_kv_str(fp, "run_as", job->run_as.name);
		if (job->isolation != 0) {
			fputs("isolation = [", fp);
			for (j = 0, k = 0; nf_isolation_names[j] != NULL; j++)
				if (job->isolation & (1 << j))
					fprintf(fp, "%s\"%s\"", k++ > 0 ? ", " :
					    "", nf_isolation_names[j]);
			fputs("]\n", fp);
		}
		fputs("params = ", fp);
		dump_val(fp, job->params);
		fputc('\n', fp);
		if (job->nsecret_params > 0) {
			fputs("secret_params = [", fp);
			for (j = 0; j < job->nsecret_params; j++) {
				if (j > 0)
					fputs(", ", fp);
				dump_cstr(fp, job->secret_params[j]);
			}
			fputs("]\n", fp);
		}
		if (job->nrequired_params > 0) {
			fputs("required_params = [", fp);
			for (j = 0; j < job->nrequired_params; j++) {
				if (j > 0)
					fputs(", ", fp);
				dump_cstr(fp, job->required_params[j]);
			}
			fputs("]\n", fp);
		}
		fprintf(fp, "retry = { attempts = %d, backoff = \"%s\", "
		    "base_seconds = ", job->retry.attempts,
		    job->retry.backoff == NF_BACKOFF_FIXED ? "fixed" :
		    "exponential");
		dump_float(fp, job->retry.base_seconds);
		fputs(", max_seconds = ", fp);
		dump_float(fp, job->retry.max_seconds);
		fputs(" }\n", fp);
		dump_job_policy(fp, job);
		dump_job_retention(fp, cfg, job);
		for (j = 0; j < job->nsteps; j++) {
			st = &job->steps[j];
			fputs("\n[[jobs.steps]]\n", fp);
			dump_kv_str(fp, "name", st->name);
			dump_kv_str(fp, "type", st->type);
			fprintf(fp, "enabled = %s\n", st->enabled ? "true" :
			    "false");
			fprintf(fp, "timeout_seconds = %d\n",
			    st->timeout_seconds);
			if (st->when != NULL)
				dump_kv_str(fp, "when", nf_expr_text(st->when));
			dump_map_lines(fp, st->spec);
		}
		for (j = 0; j < job->npresets; j++)
			dump_preset(fp, &job->presets[j]);
	}
}
