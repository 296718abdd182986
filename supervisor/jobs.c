/*
 * jobs.c: the jobs directory: every *.toml file of [[jobs]], with their
 * schedules, params, retry and scheduling policies, presets and steps, and
 * the checks across jobs (`after` and call_job links, no cycles).  A
 * step's type-specific keys are judged by its step type (steptypes.h).
 *
 * Runs in nomaflowd (start, -n, reload on HUP) and nfctl (validate), as
 * part of nf_config_load() (config.c), once the daemon config is read:
 * steps name its pools.  It reads files and the time zone database.
 *
 * Invariants:
 * - Every problem is reported as "file:line:col: message" and loading goes
 *   on with the next key, step, job or file (see config.c).
 * - A loaded job is complete: defaults filled in, schedules parsed, zones
 *   loaded, presets derived; its steps point at their pools.
 * - Jobs and presets read their keys through one table-driven loop
 *   (load_keys), so a key shared by both is handled in one place.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "cron.h"
#include "expr.h"
#include "load.h"
#include "log.h"
#include "params.h"
#include "steptypes.h"
#include "template.h"
#include "toml.h"
#include "tz.h"
#include "util.h"
#include "val.h"

#define DEF_RETRY_ATTEMPTS	1
#define DEF_RETRY_BASE		1.0
#define DEF_RETRY_MAX		300.0
#define MAX_TIMEOUT		NF_LOAD_MAX_TIMEOUT

/*
 * Step types a later release brings.  Naming one is a clearer error than
 * "unknown step type": the operator knows the config is right and the
 * build is old.
 */
static const char *const planned_types[] = {
	"ldap_sync", NULL
};

/* The jobs directory: *.toml files of [[jobs]] ---------------------- */

/* "an array of strings", "a table of strings", "a string", ... */
static void
field_what(const struct nf_steptype_field *f, char *buf, size_t len)
{
	const char *e;

	if ((f->type == NF_V_ARR || f->type == NF_V_MAP) &&
	    f->elem != NF_V_ANY) {
		/* "a string" -> "strings" */
		e = nf_load_val_what(f->elem);
		e += (e[1] == 'n' && e[2] == ' ') ? 3 : 2;
		snprintf(buf, len, "%s of %ss", nf_load_val_what(f->type), e);
	} else
		snprintf(buf, len, "%s", nf_load_val_what(f->type));
}

/* Does a TOML value fit an nf_val schema type?  Date/times are strings. */
static int
toml_fits(const struct nf_toml_value *v, enum nf_val_type t)
{
	switch (t) {
	case NF_V_ANY:
		return 1;
	case NF_V_STR:
		return v->type == NF_TOML_STRING ||
		    v->type == NF_TOML_DATETIME ||
		    v->type == NF_TOML_DATETIME_LOCAL ||
		    v->type == NF_TOML_DATE_LOCAL ||
		    v->type == NF_TOML_TIME_LOCAL;
	case NF_V_INT:
		return v->type == NF_TOML_INTEGER;
	case NF_V_FLOAT:
		return v->type == NF_TOML_INTEGER || v->type == NF_TOML_FLOAT;
	case NF_V_BOOL:
		return v->type == NF_TOML_BOOL;
	case NF_V_ARR:
		return v->type == NF_TOML_ARRAY;
	case NF_V_MAP:
		return v->type == NF_TOML_TABLE;
	default:
		return 0;
	}
}

/*
 * Check one type-specific value against its field; on success return it
 * converted (a FLOAT field stores an integer as a float).
 */
static struct nf_val *
step_field(struct nf_load *ld, const struct nf_steptype_field *f,
    const struct nf_toml_kv *kv, const char *pfx)
{
	const struct nf_toml_value *v = kv->val, *e;
	char		 what[1024], want[64];
	struct nf_val	*r;
	size_t		 i, n;

	field_what(f, want, sizeof(want));
	snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
	if (!toml_fits(v, f->type)) {
		nf_load_err(ld, v->line, v->col, "%s must be %s, not %s", what,
		    want, nf_load_toml_what(v->type));
		return NULL;
	}
	if (f->type == NF_V_ARR || f->type == NF_V_MAP) {
		n = f->type == NF_V_ARR ? v->u.arr.n : v->u.tab.n;
		for (i = 0; i < n; i++) {
			e = f->type == NF_V_ARR ? v->u.arr.items[i] :
			    v->u.tab.kv[i].val;
			if (!toml_fits(e, f->elem)) {
				nf_load_err(ld, e->line, e->col, "%s must be "
				    "%s; this element is %s", what, want,
				    nf_load_toml_what(e->type));
				return NULL;
			}
		}
	}
	if ((r = nf_load_to_val(ld, v, what)) == NULL)
		return NULL;
	if (f->type == NF_V_FLOAT && r->type == NF_V_INT) {
		struct nf_val *fl = nf_val_float((double)r->u.i);

		nf_val_free(r);
		r = fl;
	}
	return r;
}

static void
load_step(struct nf_load *ld, struct nf_job *job, const struct nf_toml_value *t,
    const char *jobpfx)
{
	const struct nf_steptype *type = NULL;
	const struct nf_steptype_field *f;
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v;
	struct nf_step	*st;
	struct nf_val	*c;
	struct nf_buf	 allowed;
	char		 pfx[512], what[1024], *s;
	size_t		 i;
	int		 line, col;

	nf_load_tab_pos(t, &line, &col);
	job->steps = nf_xreallocarray(job->steps, job->nsteps + 1,
	    sizeof(*job->steps));
	st = &job->steps[job->nsteps++];
	memset(st, 0, sizeof(*st));
	st->enabled = 1;
	st->line = line;
	st->col = col;

	/* Name and type first: every other message names them. */
	snprintf(what, sizeof(what), "%sstep name", jobpfx);
	if ((v = nf_toml_get(t, "name")) == NULL)
		nf_load_err(ld, line, col, "%sa step has no name (add name = "
		    "\"...\")", jobpfx);
	else if ((s = nf_load_str(ld, v, what)) != NULL) {
		if (!nf_valid_ident(s))
			nf_load_err(ld, v->line, v->col, "%sstep name \"%s\" "
			    "may only contain letters, digits, \"_\" and \"-\"",
			    jobpfx, s);
		else {
			for (i = 0; i + 1 < job->nsteps; i++)
				if (job->steps[i].name != NULL &&
				    strcmp(job->steps[i].name, s) == 0)
					break;
			if (i + 1 < job->nsteps)
				nf_load_err(ld, v->line, v->col, "%sduplicate "
				    "step name \"%s\" (also at line %d)",
				    jobpfx, s, job->steps[i].line);
		}
		st->name = s;
	}
	if (st->name != NULL)
		snprintf(pfx, sizeof(pfx), "%sstep \"%s\": ", jobpfx,
		    st->name);
	else
		snprintf(pfx, sizeof(pfx), "%s", jobpfx);

	snprintf(what, sizeof(what), "%stype", pfx);
	if ((v = nf_toml_get(t, "type")) == NULL)
		nf_load_err(ld, line, col, "%sno type (add type = \"exec\" or "
		    "another step type)", pfx);
	else if ((s = nf_load_str(ld, v, what)) != NULL) {
		st->type = s;
		if ((type = nf_steptype_find(s)) == NULL) {
			if (nf_load_in_list(planned_types, s))
				nf_load_err(ld, v->line, v->col, "%sstep type "
				    "\"%s\" is not available in this build",
				    pfx, s);
			else {
				const struct nf_steptype *const *all;

				nf_buf_init(&allowed);
				for (all = nf_steptype_all(); *all; all++)
					nf_buf_printf(&allowed, "%s%s",
					    allowed.len ? ", " : "",
					    (*all)->name);
				nf_load_err(ld, v->line, v->col, "%sunknown "
				    "step type \"%s\" (known: %s)", pfx, s,
				    allowed.data);
				nf_buf_free(&allowed);
			}
		}
	}

	st->spec = nf_val_map();
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "name") == 0 ||
		    strcmp(kv->key, "type") == 0)
			continue;
		if (strcmp(kv->key, "enabled") == 0) {
			snprintf(what, sizeof(what), "%senabled", pfx);
			nf_load_set_bool(ld, kv->val, what, &st->enabled);
			continue;
		}
		if (strcmp(kv->key, "timeout_seconds") == 0) {
			snprintf(what, sizeof(what), "%stimeout_seconds", pfx);
			nf_load_set_int(ld, kv->val, what, 0, MAX_TIMEOUT,
			    &st->timeout_seconds);
			continue;
		}
		/* Checked once every step is known: check_step_refs(). */
		if (strcmp(kv->key, "when") == 0)
			continue;
		/* Unknown type: its keys cannot be judged. */
		if (type == NULL)
			continue;
		for (f = type->fields; f->key != NULL; f++)
			if (strcmp(f->key, kv->key) == 0)
				break;
		if (f->key == NULL) {
			nf_buf_init(&allowed);
			for (f = type->fields; f->key != NULL; f++)
				nf_buf_printf(&allowed, "%s, ", f->key);
			nf_buf_adds(&allowed, "name, type, enabled, "
			    "timeout_seconds, when");
			nf_load_err(ld, kv->line, kv->col, "%sunknown key "
			    "\"%s\" for a step of type %s (allowed: %s)", pfx,
			    kv->key, type->name, allowed.data);
			nf_buf_free(&allowed);
			continue;
		}
		/* Run-time templates stay in the spec's strings. */
		ld->tmpl = 1;
		if ((c = step_field(ld, f, kv, pfx)) != NULL)
			nf_val_map_set(st->spec, kv->key, c);
		ld->tmpl = 0;
	}
	if (type == NULL)
		return;
	ld->tmpl = 1;
	for (f = type->fields; f->key != NULL; f++)
		if (f->required && nf_toml_get(t, f->key) == NULL)
			nf_load_err(ld, line, col, "%smissing required key "
			    "\"%s\" for a step of type %s", pfx, f->key,
			    type->name);
	if (type->check != NULL)
		type->check(ld, st, t, pfx, line, col);
	ld->tmpl = 0;
}

static void
load_retry(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *t, const char *pfx)
{
	static const char *const keys[] = { "attempts", "backoff",
	    "base_seconds", "max_seconds", NULL };
	const struct nf_toml_kv *kv;
	char		 where[1024], *s;
	size_t		 i;

	snprintf(where, sizeof(where), "%sretry", pfx);
	if (!nf_load_is_table(ld, t, where))
		return;
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		snprintf(where, sizeof(where), "%sretry.%s", pfx, kv->key);
		if (strcmp(kv->key, "attempts") == 0)
			nf_load_set_int(ld, kv->val, where, 1, 100,
			    &job->retry.attempts);
		else if (strcmp(kv->key, "backoff") == 0) {
			if ((s = nf_load_str(ld, kv->val, where)) == NULL)
				continue;
			if (strcmp(s, "fixed") == 0)
				job->retry.backoff = NF_BACKOFF_FIXED;
			else if (strcmp(s, "exponential") == 0)
				job->retry.backoff = NF_BACKOFF_EXPONENTIAL;
			else
				nf_load_err(ld, kv->val->line, kv->val->col,
				    "%s must be \"fixed\" or \"exponential\", "
				    "not \"%s\"", where, s);
			free(s);
		} else if (strcmp(kv->key, "base_seconds") == 0)
			nf_load_num(ld, kv->val, where, 0, 86400,
			    &job->retry.base_seconds);
		else if (strcmp(kv->key, "max_seconds") == 0)
			nf_load_num(ld, kv->val, where, 0, 86400,
			    &job->retry.max_seconds);
		else {
			if (job->id != NULL)
				snprintf(where, sizeof(where), "the retry "
				    "table of job \"%s\"", job->id);
			else
				snprintf(where, sizeof(where), "a retry table");
			nf_load_unknown_key(ld, kv, where, keys);
		}
	}
	if (job->retry.max_seconds < job->retry.base_seconds)
		nf_load_err(ld, t->line, t->col, "%sretry.max_seconds (%g) is "
		    "below retry.base_seconds (%g)", pfx,
		    job->retry.max_seconds, job->retry.base_seconds);
}

/*
 * Schedules.  Every form appends one nf_schedule to the job; zones are
 * resolved at the end of the job (finish_schedules), as `timezone` may
 * come after them.
 */
static struct nf_schedule *
add_schedule(struct nf_job *job, char *expr, struct nf_cron *cron,
    const struct nf_toml_value *v)
{
	struct nf_schedule *sc;

	job->schedules = nf_xreallocarray(job->schedules, job->nschedules + 1,
	    sizeof(*job->schedules));
	sc = &job->schedules[job->nschedules++];
	memset(sc, 0, sizeof(*sc));
	sc->expr = expr;
	sc->cron = cron;
	sc->line = v->line;
	sc->col = v->col;
	return sc;
}

/*
 * A column in the file for errcol of string value v: the value starts with
 * its quote, so the token's column is col + errcol.  After ${VAR}
 * expansion (or in an escaped or multi-line string) the columns no longer
 * line up: then point at the value.
 */
static int
str_errcol(const struct nf_toml_value *v, const char *expanded, int ecol)
{
	if (ecol > 0 && strcmp(expanded, v->u.str.s) == 0 &&
	    strchr(v->u.str.s, '\\') == NULL && strchr(v->u.str.s, '\n') ==
	    NULL)
		return v->col + ecol;
	return v->col;
}

/* One cron expression string (also "@every 15m"). */
static struct nf_schedule *
load_cron_str(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *what)
{
	struct nf_cron	*c;
	char		 err[512], *s;
	int		 ecol = 0;

	if ((s = nf_load_str(ld, v, what)) == NULL)
		return NULL;
	if ((c = nf_cron_parse(s, err, sizeof(err), &ecol)) == NULL) {
		nf_load_err(ld, v->line, str_errcol(v, s, ecol), "%s \"%s\": "
		    "%s", what, s, err);
		free(s);
		return NULL;
	}
	return add_schedule(job, s, c, v);
}

/* every = "15m" with an optional every_anchor (an offset date-time). */
static struct nf_schedule *
load_every(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *v, const struct nf_toml_value *anchor,
    const char *what)
{
	const struct nf_toml_datetime *dt;
	struct nf_cron	*c;
	char		 err[512], *s, *a, *expr;
	int64_t		 secs, at = 0;
	int		 ecol = 0;

	if ((s = nf_load_str(ld, v, what)) == NULL)
		return NULL;
	if (nf_cron_duration(s, &secs, err, sizeof(err), &ecol) == -1) {
		nf_load_err(ld, v->line, str_errcol(v, s, ecol), "%s: %s", what,
		    err);
		free(s);
		return NULL;
	}
	if (anchor != NULL) {
		if (anchor->type != NF_TOML_DATETIME) {
			nf_load_err(ld, anchor->line, anchor->col, "%s_anchor "
			    "must be an offset date-time such as "
			    "2026-01-01T00:00:00+05:45 (unquoted, with its UTC "
			    "offset), not %s", what,
			    nf_load_toml_what(anchor->type));
			free(s);
			return NULL;
		}
		dt = &anchor->u.dt;
		at = nf_tz_days_from_civil(dt->year, dt->month, dt->day) *
		    86400 + dt->hour * 3600 + dt->minute * 60 + dt->second -
		    (int64_t)dt->offset_minutes * 60;
		a = nf_load_datetime_str(anchor);
		expr = nf_xprintf("@every %s from %s", s, a);
		free(a);
	} else
		expr = nf_xprintf("@every %s", s);
	free(s);
	c = nf_cron_every(secs, at);
	return add_schedule(job, expr, c, v);
}

/* schedule = "EXPR" or ["EXPR", ...] */
static void
load_schedule(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *pfx)
{
	char	 what[1024];
	size_t	 i;

	if (v->type != NF_TOML_ARRAY) {
		snprintf(what, sizeof(what), "%sschedule", pfx);
		load_cron_str(ld, job, v, what);
		return;
	}
	if (v->u.arr.n == 0)
		nf_load_err(ld, v->line, v->col, "%sschedule is an empty array "
		    "(remove it for a job that only runs on demand)", pfx);
	for (i = 0; i < v->u.arr.n; i++) {
		snprintf(what, sizeof(what), "%sschedule[%zu]", pfx, i);
		load_cron_str(ld, job, v->u.arr.items[i], what);
	}
}

static const char *const schedule_keys[] = {
	"cron", "every", "every_anchor", "timezone", NULL
};

/* [[jobs.schedules]]: cron or every, every_anchor, timezone. */
static void
load_schedule_tables(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *pfx)
{
	const struct nf_toml_value *t, *cron, *every, *anchor, *tzv;
	struct nf_schedule *sc;
	char		 what[1100], where[1024], err[512], *s;
	size_t		 i, k;
	int		 line, col;

	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%sschedules must be an array "
		    "of tables ([[jobs.schedules]]), not %s", pfx,
		    nf_load_toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		t = v->u.arr.items[i];
		if (!nf_load_is_table(ld, t, "[[jobs.schedules]]"))
			continue;
		nf_load_tab_pos(t, &line, &col);
		snprintf(where, sizeof(where), "%sschedules[%zu]", pfx, i);
		for (k = 0; k < t->u.tab.n; k++) {
			if (!nf_load_key_ok(ld, &t->u.tab.kv[k]) ||
			    nf_load_in_list(schedule_keys, t->u.tab.kv[k].key))
				continue;
			snprintf(what, sizeof(what), "schedules[%zu] of job "
			    "\"%s\"", i, job->id != NULL ? job->id : "?");
			nf_load_unknown_key(ld, &t->u.tab.kv[k], what,
			    schedule_keys);
		}
		cron = nf_toml_get(t, "cron");
		every = nf_toml_get(t, "every");
		anchor = nf_toml_get(t, "every_anchor");
		tzv = nf_toml_get(t, "timezone");
		if ((cron == NULL) == (every == NULL)) {
			nf_load_err(ld, line, col, "%s: give exactly one of "
			    "cron = \"...\" or every = \"...\"", where);
			continue;
		}
		if (anchor != NULL && every == NULL) {
			nf_load_err(ld, anchor->line, anchor->col, "%s: "
			    "every_anchor without every (it anchors an "
			    "interval)", where);
			continue;
		}
		if (cron != NULL) {
			snprintf(what, sizeof(what), "%s.cron", where);
			sc = load_cron_str(ld, job, cron, what);
		} else {
			snprintf(what, sizeof(what), "%s.every", where);
			sc = load_every(ld, job, every, anchor, what);
		}
		if (sc == NULL || tzv == NULL)
			continue;
		snprintf(what, sizeof(what), "%s.timezone", where);
		if ((s = nf_load_str(ld, tzv, what)) == NULL)
			continue;
		sc->timezone = s;
		if ((sc->own_tz = nf_tz_load(s, err, sizeof(err))) == NULL)
			nf_load_err(ld, tzv->line, tzv->col, "%s: %s", what,
			    err);
	}
}

/* After the job's keys: zones, and the first schedule as job->schedule. */
static void
finish_schedules(struct nf_job *job)
{
	struct nf_schedule *sc;
	size_t		 i;

	for (i = 0; i < job->nschedules; i++) {
		sc = &job->schedules[i];
		sc->tz = sc->own_tz != NULL ? sc->own_tz : job->tz;
	}
	if (job->nschedules > 0) {
		job->schedule = job->schedules[0].expr;
		job->cron = job->schedules[0].cron;
	}
}

/*
 * Scheduling policies of a job: overlap, catchup, catchup_window, jitter,
 * after, after_on and presets.  Cross-job checks (after names a job, no
 * cycle) run once every job file is read: check_after(),
 * from nf_jobs_check_links().
 */

#define DEF_CATCHUP_WINDOW	3600
#define MAX_CATCHUP_WINDOW	(31 * 24 * 3600)
#define MAX_JITTER		(24 * 3600)

/* Index order is the enum order (config.h); dump.c prints them too. */
const char *const nf_jobs_overlap_names[] = {
	"skip", "queue", "allow", "cancel_previous", NULL
};
const char *const nf_jobs_catchup_names[] = {
	"latest", "none", "all", NULL
};
const char *const nf_jobs_after_on_names[] = { "success", "always", NULL };
const char *const nf_jobs_on_interrupt_names[] = { "fail", "retry", NULL };

/* "90s", "15m", "6h", "1h30m", "2d"; a bare number is seconds.  -1: bad. */
static int64_t
parse_duration(const char *s)
{
	int64_t	 total = 0, n, mul;
	int	 parts = 0;

	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			if ((n = n * 10 + (*s - '0')) > INT32_MAX)
				return -1;
		switch (*s) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case '\0':
			if (parts > 0)
				return -1;	/* "1h30": unit missing */
			return n;
		default:
			return -1;
		}
		s++;
		if ((total += n * mul) > INT32_MAX)
			return -1;
		parts++;
	}
	return parts > 0 ? total : -1;
}

static void
set_duration(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what, int max, int *out)
{
	int64_t	 d;
	char	*s;

	if (v->type == NF_TOML_INTEGER) {
		nf_load_set_int(ld, v, what, 0, max, out);
		return;
	}
	if ((s = nf_load_str(ld, v, what)) == NULL)
		return;
	if ((d = parse_duration(s)) < 0)
		nf_load_err(ld, v->line, v->col, "%s \"%s\" is not a duration "
		    "(write e.g. \"30s\", \"15m\", \"1h30m\" or \"2d\")", what,
		    s);
	else if (d > max)
		nf_load_err(ld, v->line, v->col, "%s \"%s\" is too long (at "
		    "most %d seconds)", what, s, max);
	else
		*out = (int)d;
	free(s);
}

static void
set_enum(struct nf_load *ld, const struct nf_toml_value *v, const char *what,
    const char *const *names, int *out)
{
	struct nf_buf	 b;
	char		*s;
	size_t		 i;

	if ((s = nf_load_str(ld, v, what)) == NULL)
		return;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			free(s);
			return;
		}
	nf_buf_init(&b);
	for (i = 0; names[i] != NULL; i++)
		nf_buf_printf(&b, "%s\"%s\"", i ? ", " : "", names[i]);
	nf_load_err(ld, v->line, v->col, "%s must be one of %s, not \"%s\"",
	    what, b.data, s);
	nf_buf_free(&b);
	free(s);
}

static void
load_after(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *what)
{
	const struct nf_toml_value *e;
	char	*s;
	size_t	 i, j;

	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%s must be an array of job "
		    "ids, not %s", what, nf_load_toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if ((s = nf_load_str(ld, e, what)) == NULL)
			continue;
		if (!nf_valid_ident(s)) {
			nf_load_err(ld, e->line, e->col, "%s: \"%s\" is not a "
			    "job id", what, s);
			free(s);
			continue;
		}
		for (j = 0; j < job->nafter; j++)
			if (strcmp(job->after[j].job, s) == 0)
				break;
		if (j < job->nafter) {
			nf_load_err(ld, e->line, e->col, "%s names job \"%s\" "
			    "twice", what, s);
			free(s);
			continue;
		}
		job->after = nf_xreallocarray(job->after, job->nafter + 1,
		    sizeof(*job->after));
		job->after[job->nafter].job = s;
		job->after[job->nafter].line = e->line;
		job->after[job->nafter].col = e->col;
		job->nafter++;
	}
}

/* steps = { NAME = { enabled = false, FIELD = ... }, ... } of a preset. */
static void
load_preset_steps(struct nf_load *ld, struct nf_job *job, struct nf_preset *p,
    const struct nf_toml_value *v, const char *pfx)
{
	const struct nf_steptype *type;
	const struct nf_steptype_field *f;
	const struct nf_toml_kv *skv, *kv;
	const struct nf_step *st;
	struct nf_val	*ov, *c;
	char		 what[1024], spfx[1024];
	size_t		 i, j;
	int		 b;

	snprintf(what, sizeof(what), "%ssteps", pfx);
	if (!nf_load_is_table(ld, v, what))
		return;
	for (i = 0; i < v->u.tab.n; i++) {
		skv = &v->u.tab.kv[i];
		if (!nf_load_key_ok(ld, skv))
			continue;
		for (st = NULL, j = 0; j < job->nsteps; j++)
			if (job->steps[j].name != NULL &&
			    strcmp(job->steps[j].name, skv->key) == 0)
				st = &job->steps[j];
		if (st == NULL) {
			nf_load_err(ld, skv->line, skv->col, "%ssteps: the job "
			    "has no step named \"%s\"", pfx, skv->key);
			continue;
		}
		snprintf(spfx, sizeof(spfx), "%sstep \"%s\": ", pfx, st->name);
		snprintf(what, sizeof(what), "%ssteps.%s", pfx, st->name);
		if (!nf_load_is_table(ld, skv->val, what))
			continue;
		type = st->type != NULL ? nf_steptype_find(st->type) : NULL;
		ov = nf_val_map();
		for (j = 0; j < skv->val->u.tab.n; j++) {
			kv = &skv->val->u.tab.kv[j];
			if (!nf_load_key_ok(ld, kv))
				continue;
			snprintf(what, sizeof(what), "%s%s", spfx, kv->key);
			if (strcmp(kv->key, "enabled") == 0) {
				b = -1;
				nf_load_set_bool(ld, kv->val, what, &b);
				if (b != -1)
					nf_val_map_set_bool(ov, "enabled", b);
				continue;
			}
			if (strcmp(kv->key, "timeout_seconds") == 0) {
				b = -1;
				nf_load_set_int(ld, kv->val, what, 0,
				    MAX_TIMEOUT, &b);
				if (b != -1)
					nf_val_map_set_int(ov,
					    "timeout_seconds", b);
				continue;
			}
			if (strcmp(kv->key, "name") == 0 ||
			    strcmp(kv->key, "type") == 0) {
				nf_load_err(ld, kv->line, kv->col, "%sa preset "
				    "cannot change a step's %s", spfx, kv->key);
				continue;
			}
			if (type == NULL)
				continue;
			for (f = type->fields; f->key != NULL; f++)
				if (strcmp(f->key, kv->key) == 0)
					break;
			if (f->key == NULL) {
				nf_load_err(ld, kv->line, kv->col, "%sunknown "
				    "key \"%s\" for a step of type %s", spfx,
				    kv->key, type->name);
				continue;
			}
			/* Run-time templates stay (see load_step()). */
			ld->tmpl = 1;
			if ((c = step_field(ld, f, kv, spfx)) != NULL)
				nf_val_map_set(ov, kv->key, c);
			ld->tmpl = 0;
		}
		nf_val_map_set(p->steps, st->name, ov);
	}
}

/* The job as preset p runs it (see struct nf_preset). */
static void
derive_preset(struct nf_job *job, struct nf_preset *p)
{
	const struct nf_val	*ov, *e;
	struct nf_job		*d;
	struct nf_step		*st;
	size_t			 i, j;

	d = nf_xcalloc(1, sizeof(*d));
	*d = *job;
	d->presets = NULL;
	d->npresets = 0;
	d->after = NULL;
	d->nafter = 0;
	d->preset = p;
	d->params = nf_val_dup(job->params);
	for (i = 0; i < p->params->u.m.n; i++)
		nf_val_map_set(d->params, p->params->u.m.kv[i].key,
		    nf_val_dup(p->params->u.m.kv[i].val));
	d->steps = nf_xcalloc(job->nsteps > 0 ? job->nsteps : 1,
	    sizeof(*d->steps));
	for (i = 0; i < job->nsteps; i++) {
		st = &d->steps[i];
		*st = job->steps[i];
		st->spec = st->spec != NULL ? nf_val_dup(st->spec) :
		    nf_val_map();
		if (st->name == NULL ||
		    (ov = nf_val_get(p->steps, st->name)) == NULL)
			continue;
		for (j = 0; j < ov->u.m.n; j++) {
			e = ov->u.m.kv[j].val;
			if (strcmp(ov->u.m.kv[j].key, "enabled") == 0)
				st->enabled = e->u.b;
			else if (strcmp(ov->u.m.kv[j].key,
			    "timeout_seconds") == 0)
				st->timeout_seconds = (int)e->u.i;
			else
				nf_val_map_set(st->spec, ov->u.m.kv[j].key,
				    nf_val_dup(e));
		}
	}
	p->job = d;
}

/*
 * The two job graphs that must be acyclic: `after` dependencies and
 * call_job steps.  edge(job, j, &to) says whether the j-th link of a job
 * (its j-th `after` entry, its j-th step) leads to another job, and which;
 * report() prints a cycle found through that link.
 */
struct job_graph {
	size_t	(*nlinks)(const struct nf_job *);
	int	(*edge)(const struct nf_config *, const struct nf_job *,
		    size_t j, size_t *to);
	void	(*report)(struct nf_load *, const struct nf_job *, size_t j,
		    const char *cycle);
};

/* Depth-first search from job i; mark 1 = on the path, 2 = done. */
static void
graph_dfs(struct nf_load *ld, const struct job_graph *g, size_t i,
    unsigned char *mark, size_t *path, size_t depth)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job = &cfg->jobs[i];
	struct nf_buf		 b;
	size_t			 j, k, to, n = g->nlinks(job);

	mark[i] = 1;
	path[depth] = i;
	for (j = 0; j < n; j++) {
		if (!g->edge(cfg, job, j, &to))
			continue;
		if (mark[to] == 0)
			graph_dfs(ld, g, to, mark, path, depth + 1);
		else if (mark[to] == 1) {
			/* The path from `to` down to job, then `to` again. */
			for (k = 0; path[k] != to; k++)
				;
			nf_buf_init(&b);
			for (; k <= depth; k++)
				nf_buf_printf(&b, "%s -> ",
				    cfg->jobs[path[k]].id);
			nf_buf_adds(&b, cfg->jobs[to].id);
			ld->file = job->file;
			g->report(ld, job, j, b.data);
			nf_buf_free(&b);
		}
	}
	mark[i] = 2;
}

static void
graph_check(struct nf_load *ld, const struct job_graph *g)
{
	unsigned char	*mark;
	size_t		*path, i;

	mark = nf_xcalloc(ld->cfg->njobs + 1, 1);
	path = nf_xcalloc(ld->cfg->njobs + 1, sizeof(*path));
	for (i = 0; i < ld->cfg->njobs; i++)
		if (mark[i] == 0)
			graph_dfs(ld, g, i, mark, path, 0);
	free(mark);
	free(path);
}

static size_t
after_nlinks(const struct nf_job *job)
{
	return job->nafter;
}

static int
after_edge(const struct nf_config *cfg, const struct nf_job *job, size_t j,
    size_t *to)
{
	const struct nf_job	*dep;

	if ((dep = nf_config_job(cfg, job->after[j].job)) == NULL)
		return 0;
	*to = (size_t)(dep - cfg->jobs);
	return 1;
}

static void
after_report(struct nf_load *ld, const struct nf_job *job, size_t j,
    const char *cycle)
{
	nf_load_err(ld, job->after[j].line, job->after[j].col, "job \"%s\": "
	    "after: dependency cycle %s (each job runs after the next one; "
	    "remove one link)", job->id, cycle);
}

static const struct job_graph after_graph = {
	after_nlinks, after_edge, after_report
};

/* The job a step calls (call_job), if it is literal. */
static const char *
call_target(const struct nf_step *st)
{
	const struct nf_steptype *type;

	if (st->type == NULL || (type = nf_steptype_find(st->type)) == NULL ||
	    type->callee == NULL)
		return NULL;
	return type->callee(st);
}

static size_t
calls_nlinks(const struct nf_job *job)
{
	return job->nsteps;
}

static int
calls_edge(const struct nf_config *cfg, const struct nf_job *job, size_t j,
    size_t *to)
{
	const struct nf_job	*callee;
	const char		*target;

	if ((target = call_target(&job->steps[j])) == NULL ||
	    (callee = nf_config_job(cfg, target)) == NULL)
		return 0;
	*to = (size_t)(callee - cfg->jobs);
	return 1;
}

static void
calls_report(struct nf_load *ld, const struct nf_job *job, size_t j,
    const char *cycle)
{
	const struct nf_step	*st = &job->steps[j];

	nf_load_err(ld, st->line, st->col, "job \"%s\": step \"%s\": call_job "
	    "cycle: %s (a job cannot call itself, directly or through the jobs "
	    "it calls)", job->id, st->name, cycle);
}

static const struct job_graph calls_graph = {
	calls_nlinks, calls_edge, calls_report
};

/* call_job steps: the job exists, and calls form no cycle. */
static void
check_calls(struct nf_load *ld)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job;
	const struct nf_step	*st;
	const char		*target;
	size_t			 i, j;

	if (nf_load_failed(ld))
		return;
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		for (j = 0; j < job->nsteps; j++) {
			st = &job->steps[j];
			if ((target = call_target(st)) == NULL ||
			    nf_config_job(cfg, target) != NULL)
				continue;
			ld->file = job->file;
			nf_load_err(ld, st->line, st->col, "job \"%s\": step "
			    "\"%s\": call_job: no job \"%s\" (job names a job "
			    "id of any job file)", job->id, st->name, target);
		}
	}
	if (!nf_load_failed(ld))
		graph_check(ld, &calls_graph);
}

static void
check_after(struct nf_load *ld)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job;
	size_t			 i, j;

	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		if (job->id == NULL)
			return;		/* already reported */
		for (j = 0; j < job->nafter; j++) {
			ld->file = job->file;
			if (strcmp(job->after[j].job, job->id) == 0)
				nf_load_err(ld, job->after[j].line,
				    job->after[j].col, "job \"%s\": after: a "
				    "job cannot run after itself", job->id);
			else if (nf_config_job(cfg, job->after[j].job) == NULL)
				nf_load_err(ld, job->after[j].line,
				    job->after[j].col, "job \"%s\": after: no "
				    "job \"%s\" (after lists job ids of any "
				    "job file)", job->id, job->after[j].job);
		}
	}
	if (!nf_load_failed(ld))
		graph_check(ld, &after_graph);
}

static void
free_job_policy(struct nf_job *job)
{
	struct nf_preset	*p;
	size_t			 i, j;

	for (i = 0; i < job->nafter; i++)
		free(job->after[i].job);
	free(job->after);
	for (i = 0; i < job->npresets; i++) {
		p = &job->presets[i];
		free(p->name);
		free(p->description);
		free(p->schedule);
		if (p->cron != NULL)
			nf_cron_free(p->cron);
		free(p->timezone);
		if (p->tz != NULL)
			nf_tz_free(p->tz);
		nf_val_free(p->params);
		nf_val_free(p->steps);
		if (p->job != NULL) {
			for (j = 0; j < p->job->nsteps; j++)
				nf_val_free(p->job->steps[j].spec);
			free(p->job->steps);
			nf_val_free(p->job->params);
			free(p->job);
		}
	}
	free(job->presets);
}

/*
 * secret_params = ["token", ...]: names of params, redacted in history;
 * required_params: names a run must be given (params.c).
 */
static void
load_param_names(struct nf_load *ld, char ***names, size_t *n,
    const struct nf_toml_value *v, const char *what)
{
	const struct nf_toml_value *e;
	char	*s;
	size_t	 i;

	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%s must be an array of "
		    "parameter names, not %s", what,
		    nf_load_toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if ((s = nf_load_str(ld, e, what)) == NULL)
			continue;
		if (!nf_valid_ident(s)) {
			nf_load_err(ld, e->line, e->col, "%s: \"%s\" is not a "
			    "parameter name (letters, digits, \"_\", \"-\")",
			    what, s);
			free(s);
			continue;
		}
		*names = nf_xreallocarray(*names, *n + 1, sizeof(**names));
		(*names)[(*n)++] = s;
	}
}

/*
 * Column of byte pos of a string value's text: exact when the value reads
 * as it is written (a one-line basic or literal string), else the value's.
 */
static int
str_col(const struct nf_toml_value *v, const char *text, size_t pos)
{
	if (strcmp(text, v->u.str.s) == 0 && strchr(text, '\\') == NULL &&
	    strchr(text, '\n') == NULL && strchr(text, '"') == NULL)
		return v->col + 1 + (int)pos;
	return v->col;
}

/* Every string under v: its templates must resolve at run time. */
static void
check_tmpl_val(struct nf_load *ld, const struct nf_toml_value *v,
    const struct nf_tmpl_scope *sc, const char *what)
{
	char	 err[512], *s;
	size_t	 i, pos;

	switch (v->type) {
	case NF_TOML_STRING:
		if ((s = nf_load_expand(v->u.str.s, 1, err, sizeof(err))) ==
		    NULL)
			return;		/* reported by load_step() */
		if (nf_tmpl_check(s, sc, err, sizeof(err), &pos) == -1)
			nf_load_err(ld, v->line, str_col(v, s, pos), "%s: %s",
			    what, err);
		free(s);
		break;
	case NF_TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			check_tmpl_val(ld, v->u.arr.items[i], sc, what);
		break;
	case NF_TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++)
			check_tmpl_val(ld, v->u.tab.kv[i].val, sc, what);
		break;
	default:
		break;
	}
}

/*
 * Once a job's steps are all known: the templates of every step and its
 * `when` condition may only name earlier steps, known roots and helpers.
 */
static void
check_step_refs(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *steps, const char *jobpfx)
{
	const struct nf_toml_value *t, *v;
	const struct nf_toml_kv *kv;
	struct nf_tmpl_scope sc;
	struct nf_step	*st;
	const char	**names;
	char		 pfx[512], what[1024], err[512];
	size_t		 i, j, k, pos;

	if (steps == NULL || job->nsteps == 0)
		return;
	names = nf_xcalloc(job->nsteps, sizeof(*names));
	for (i = 0; i < job->nsteps; i++)
		names[i] = job->steps[i].name;
	memset(&sc, 0, sizeof(sc));
	sc.steps = names;
	sc.nsteps = job->nsteps;
	sc.secret_known = nf_load_secret_known;
	for (i = 0, j = 0; i < steps->u.arr.n && j < job->nsteps; i++) {
		t = steps->u.arr.items[i];
		if (t->type != NF_TOML_TABLE)
			continue;
		st = &job->steps[j];
		sc.self = j++;
		snprintf(pfx, sizeof(pfx), "%sstep \"%s\": ", jobpfx,
		    st->name != NULL ? st->name : "?");
		for (k = 0; k < t->u.tab.n; k++) {
			kv = &t->u.tab.kv[k];
			if (strcmp(kv->key, "name") == 0 ||
			    strcmp(kv->key, "type") == 0 ||
			    strcmp(kv->key, "when") == 0)
				continue;
			snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
			check_tmpl_val(ld, kv->val, &sc, what);
		}
		if ((v = nf_toml_get(t, "when")) == NULL)
			continue;
		if (v->type != NF_TOML_STRING) {
			nf_load_err(ld, v->line, v->col, "%swhen must be a "
			    "string holding a condition, e.g. when = "
			    "\"params.full and prev.rows_affected > 0\"; not "
			    "%s", pfx, nf_load_toml_what(v->type));
			continue;
		}
		st->when = nf_expr_parse(v->u.str.s, v->u.str.len, &sc, err,
		    sizeof(err), &pos);
		if (st->when == NULL)
			nf_load_err(ld, v->line, str_col(v, v->u.str.s, pos),
			    "%swhen \"%s\": %s", pfx, v->u.str.s, err);
	}
	free(names);
}

/*
 * The keys of a job and of a preset.  Both tables are read by one loop,
 * load_keys(): a key they share (description, timezone, params) is one
 * kind of entry, handled once.  A table lists its keys in the order the
 * "allowed: ..." of an unknown-key error names them.
 */
enum key_kind {
	K_SKIP,		/* read before the loop (id, name) or after it */
	K_STR,		/* char * at off, expanded */
	K_BOOL,		/* int at off */
	K_INT,		/* int at off, 0 to max */
	K_DURATION,	/* int seconds at off: 90, "15m", "1h30m", <= max */
	K_ENUM,		/* int at off: the index of the value in names */
	K_ZONE,		/* char * zone at off, struct nf_tz * at off2 */
	K_PARAMS,	/* struct nf_val * map at off (params) */
	K_FN,		/* fn does it all */
};

/*
 * A key handler: obj is the job or preset being read, t its table, what
 * "PREFIX KEY" for messages and pfx the prefix alone.
 */
typedef void	key_fn(struct nf_load *, void *obj,
		    const struct nf_toml_value *t, const struct nf_toml_kv *kv,
		    const char *what, const char *pfx);

struct key {
	const char		*name;
	enum key_kind		 kind;
	size_t			 off, off2;
	int			 max;		/* K_INT, K_DURATION */
	const char *const	*names;		/* K_ENUM */
	key_fn			*fn;		/* K_FN */
};

#define KEY_MAX	32	/* keys in one table, for the allowed list */

static void
load_key(struct nf_load *ld, const struct key *k, void *obj,
    const struct nf_toml_value *t, const struct nf_toml_kv *kv,
    const char *what, const char *pfx)
{
	const struct nf_toml_value *v = kv->val;
	char		 err[512], *s, **sp;
	struct nf_val	*pv, **vp;
	int		*ip;

	sp = (char **)((char *)obj + k->off);
	ip = (int *)((char *)obj + k->off);
	vp = (struct nf_val **)((char *)obj + k->off);
	switch (k->kind) {
	case K_SKIP:
		break;
	case K_STR:
		if ((s = nf_load_str(ld, v, what)) != NULL) {
			free(*sp);
			*sp = s;
		}
		break;
	case K_BOOL:
		nf_load_set_bool(ld, v, what, ip);
		break;
	case K_INT:
		nf_load_set_int(ld, v, what, 0, k->max, ip);
		break;
	case K_DURATION:
		set_duration(ld, v, what, k->max, ip);
		break;
	case K_ENUM:
		set_enum(ld, v, what, k->names, ip);
		break;
	case K_ZONE:
		if ((s = nf_load_str(ld, v, what)) == NULL)
			break;
		free(*sp);
		*sp = s;
		if ((*(struct nf_tz **)((char *)obj + k->off2) = nf_tz_load(s,
		    err, sizeof(err))) == NULL)
			nf_load_err(ld, v->line, v->col, "%s: %s", what, err);
		break;
	case K_PARAMS:
		if (!nf_load_is_table(ld, v, what))
			break;
		if ((pv = nf_load_to_val(ld, v, what)) != NULL) {
			nf_val_free(*vp);
			*vp = pv;
		}
		break;
	case K_FN:
		k->fn(ld, obj, t, kv, what, pfx);
		break;
	}
}

/*
 * Every key of table t through keys; where names the table in an unknown
 * key's message ("job \"x\"").
 */
static void
load_keys(struct nf_load *ld, const struct key *keys, void *obj,
    const struct nf_toml_value *t, const char *pfx, const char *where)
{
	const struct nf_toml_kv *kv;
	const struct key *k;
	const char	*allowed[KEY_MAX + 1];
	char		 what[1024];
	size_t		 i, n;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!nf_load_key_ok(ld, kv))
			continue;
		snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
		for (k = keys; k->name != NULL; k++)
			if (strcmp(k->name, kv->key) == 0)
				break;
		if (k->name != NULL) {
			load_key(ld, k, obj, t, kv, what, pfx);
			continue;
		}
		for (n = 0; keys[n].name != NULL && n < KEY_MAX; n++)
			allowed[n] = keys[n].name;
		allowed[n] = NULL;
		nf_load_unknown_key(ld, kv, where, allowed);
	}
}

/* Job keys that need more than a field. */

static void
job_schedule(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_schedule(ld, obj, kv->val, pfx);
}

static void
job_every(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_every(ld, obj, kv->val, nf_toml_get(t, "every_anchor"), what);
}

static void
job_every_anchor(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	if (nf_toml_get(t, "every") == NULL)
		nf_load_err(ld, kv->val->line, kv->val->col, "%s without "
		    "every (it anchors an interval)", what);
}

static void
job_schedules(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_schedule_tables(ld, obj, kv->val, pfx);
}

static void
job_tags(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	const struct nf_toml_value *v = kv->val, *e;
	struct nf_job	*job = obj;
	char		*s;
	size_t		 j;

	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%s must be an array of "
		    "strings, not %s", what, nf_load_toml_what(v->type));
		return;
	}
	for (j = 0; j < v->u.arr.n; j++) {
		e = v->u.arr.items[j];
		if (e->type != NF_TOML_STRING) {
			nf_load_err(ld, e->line, e->col, "%s must be an array "
			    "of strings; this element is %s", what,
			    nf_load_toml_what(e->type));
			continue;
		}
		if ((s = nf_load_str(ld, e, what)) == NULL)
			continue;
		job->tags = nf_xreallocarray(job->tags, job->ntags + 1,
		    sizeof(*job->tags));
		job->tags[job->ntags++] = s;
	}
}

static void
job_retry(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_retry(ld, obj, kv->val, pfx);
}

/* The array itself is read after the other keys (load_job). */
static void
job_steps(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	if (kv->val->type != NF_TOML_ARRAY)
		nf_load_err(ld, kv->val->line, kv->val->col, "%s must be an "
		    "array of tables ([[jobs.steps]]), not %s", what,
		    nf_load_toml_what(kv->val->type));
}

static void
job_secret_params(struct nf_load *ld, void *obj,
    const struct nf_toml_value *t, const struct nf_toml_kv *kv,
    const char *what, const char *pfx)
{
	struct nf_job	*job = obj;

	load_param_names(ld, &job->secret_params, &job->nsecret_params,
	    kv->val, what);
}

static void
job_required_params(struct nf_load *ld, void *obj,
    const struct nf_toml_value *t, const struct nf_toml_kv *kv,
    const char *what, const char *pfx)
{
	struct nf_job	*job = obj;

	load_param_names(ld, &job->required_params, &job->nrequired_params,
	    kv->val, what);
}

static void
job_overlap(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	struct nf_job	*job = obj;
	int		 e = (int)job->overlap;

	set_enum(ld, kv->val, what, nf_jobs_overlap_names, &e);
	job->overlap = (enum nf_overlap)e;
}

static void
job_catchup(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	struct nf_job	*job = obj;
	int		 e = (int)job->catchup;

	set_enum(ld, kv->val, what, nf_jobs_catchup_names, &e);
	job->catchup = (enum nf_catchup)e;
}

const char *const nf_isolation_names[] = { "net", "mount", "pid", NULL };

static void
job_isolation(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	const struct nf_toml_value *v = kv->val, *e;
	struct nf_job	*job = obj;
	char		*s;
	size_t		 j;
	int		 k;

	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%s must be an array of "
		    "strings (\"net\", \"mount\", \"pid\"), not %s", what,
		    nf_load_toml_what(v->type));
		return;
	}
	for (j = 0; j < v->u.arr.n; j++) {
		e = v->u.arr.items[j];
		if (e->type != NF_TOML_STRING) {
			nf_load_err(ld, e->line, e->col, "%s must be an array "
			    "of strings; this element is %s", what,
			    nf_load_toml_what(e->type));
			continue;
		}
		if ((s = nf_load_str(ld, e, what)) == NULL)
			continue;
		for (k = 0; nf_isolation_names[k] != NULL; k++)
			if (strcmp(s, nf_isolation_names[k]) == 0)
				break;
		if (nf_isolation_names[k] == NULL)
			nf_load_err(ld, e->line, e->col, "%s: unknown "
			    "namespace \"%s\"; choose among \"net\", "
			    "\"mount\" and \"pid\"", what, s);
		else if (job->isolation & (1 << k))
			nf_load_err(ld, e->line, e->col, "%s: \"%s\" is "
			    "listed twice", what, s);
		else
			job->isolation |= 1 << k;
		free(s);
	}
}

static void
job_run_as(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	struct nf_job	*job = obj;

	(void)nf_load_runas(ld, kv->val, what, &job->run_as);
}

static void
job_after(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_after(ld, obj, kv->val, what);
}

static void
job_retention(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	struct nf_job	*job = obj;
	char		 where[512];

	snprintf(where, sizeof(where), "the retention table of job \"%s\"",
	    job->id != NULL ? job->id : "?");
	nf_load_retention(ld, kv->val, what, where, &job->retention);
}

#define JOB(f)	offsetof(struct nf_job, f)

static const struct key job_keys[] = {
	{ .name = "id", .kind = K_SKIP },
	{ .name = "description", .kind = K_STR, .off = JOB(description) },
	{ .name = "schedule", .kind = K_FN, .fn = job_schedule },
	{ .name = "timezone", .kind = K_ZONE, .off = JOB(timezone),
	    .off2 = JOB(tz) },
	{ .name = "enabled", .kind = K_BOOL, .off = JOB(enabled) },
	{ .name = "tags", .kind = K_FN, .fn = job_tags },
	{ .name = "params", .kind = K_PARAMS, .off = JOB(params) },
	{ .name = "retry", .kind = K_FN, .fn = job_retry },
	{ .name = "timeout_seconds", .kind = K_INT,
	    .off = JOB(timeout_seconds), .max = MAX_TIMEOUT },
	{ .name = "run_as", .kind = K_FN, .fn = job_run_as },
	{ .name = "isolation", .kind = K_FN, .fn = job_isolation },
	{ .name = "steps", .kind = K_FN, .fn = job_steps },
	{ .name = "overlap", .kind = K_FN, .fn = job_overlap },
	{ .name = "catchup", .kind = K_FN, .fn = job_catchup },
	{ .name = "catchup_window", .kind = K_DURATION,
	    .off = JOB(catchup_window), .max = MAX_CATCHUP_WINDOW },
	{ .name = "jitter", .kind = K_DURATION, .off = JOB(jitter),
	    .max = MAX_JITTER },
	{ .name = "after", .kind = K_FN, .fn = job_after },
	{ .name = "after_on", .kind = K_ENUM, .off = JOB(after_always),
	    .names = nf_jobs_after_on_names },
	/* Read after the steps: load_job_presets(). */
	{ .name = "presets", .kind = K_SKIP },
	{ .name = "every", .kind = K_FN, .fn = job_every },
	{ .name = "every_anchor", .kind = K_FN, .fn = job_every_anchor },
	{ .name = "schedules", .kind = K_FN, .fn = job_schedules },
	{ .name = "secret_params", .kind = K_FN, .fn = job_secret_params },
	{ .name = "required_params", .kind = K_FN,
	    .fn = job_required_params },
	{ .name = "on_interrupt", .kind = K_ENUM,
	    .off = JOB(on_interrupt_retry),
	    .names = nf_jobs_on_interrupt_names },
	{ .name = "retention", .kind = K_FN, .fn = job_retention },
	{ .name = NULL }
};

/* Preset keys that need more than a field; ld->job is the preset's job. */

/* One cron expression of its own (no intervals, no list). */
static void
preset_schedule(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	const struct nf_toml_value *v = kv->val;
	struct nf_preset *p = obj;
	char		 err[512];
	int		 ecol = 0;

	if ((p->schedule = nf_load_str(ld, v, what)) == NULL)
		return;
	if ((p->cron = nf_cron_parse(p->schedule, err, sizeof(err),
	    &ecol)) == NULL)
		nf_load_err(ld, v->line, v->col + (ecol > 0 &&
		    strcmp(p->schedule, v->u.str.s) == 0 ? ecol : 0),
		    "%s \"%s\": %s", what, p->schedule, err);
}

static void
preset_steps(struct nf_load *ld, void *obj, const struct nf_toml_value *t,
    const struct nf_toml_kv *kv, const char *what, const char *pfx)
{
	load_preset_steps(ld, ld->job, obj, kv->val, pfx);
}

#define PRESET(f)	offsetof(struct nf_preset, f)

static const struct key preset_keys[] = {
	{ .name = "name", .kind = K_SKIP },
	{ .name = "description", .kind = K_STR, .off = PRESET(description) },
	{ .name = "schedule", .kind = K_FN, .fn = preset_schedule },
	{ .name = "timezone", .kind = K_ZONE, .off = PRESET(timezone),
	    .off2 = PRESET(tz) },
	{ .name = "params", .kind = K_PARAMS, .off = PRESET(params) },
	{ .name = "steps", .kind = K_FN, .fn = preset_steps },
	{ .name = NULL }
};

static void
load_preset(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *t, const char *jobpfx)
{
	const struct nf_toml_value *v;
	struct nf_preset *p;
	char		 pfx[512], what[1024], *s;
	size_t		 i;
	int		 line, col;

	nf_load_tab_pos(t, &line, &col);
	job->presets = nf_xreallocarray(job->presets, job->npresets + 1,
	    sizeof(*job->presets));
	p = &job->presets[job->npresets++];
	memset(p, 0, sizeof(*p));
	p->params = nf_val_map();
	p->steps = nf_val_map();
	p->line = line;
	p->col = col;
	snprintf(what, sizeof(what), "%spreset name", jobpfx);
	if ((v = nf_toml_get(t, "name")) == NULL)
		nf_load_err(ld, line, col, "%sa preset has no name (add name = "
		    "\"...\")", jobpfx);
	else if ((s = nf_load_str(ld, v, what)) != NULL) {
		p->name = s;
		if (!nf_valid_ident(s))
			nf_load_err(ld, v->line, v->col, "%spreset name \"%s\" "
			    "may only contain letters, digits, \"_\" and \"-\"",
			    jobpfx, s);
		for (i = 0; i + 1 < job->npresets; i++)
			if (job->presets[i].name != NULL &&
			    strcmp(job->presets[i].name, s) == 0)
				nf_load_err(ld, v->line, v->col, "%sduplicate "
				    "preset \"%s\" (also at line %d)", jobpfx,
				    s, job->presets[i].line);
	}
	snprintf(pfx, sizeof(pfx), "%spreset \"%s\": ", jobpfx,
	    p->name != NULL ? p->name : "?");
	snprintf(what, sizeof(what), "preset \"%s\" of job \"%s\"",
	    p->name != NULL ? p->name : "?", job->id != NULL ? job->id : "?");
	ld->job = job;
	load_keys(ld, preset_keys, p, t, pfx, what);
	ld->job = NULL;
	if (p->timezone != NULL && p->schedule == NULL) {
		v = nf_toml_get(t, "timezone");
		nf_load_err(ld, v->line, v->col, "%stimezone without a "
		    "schedule (a preset's timezone applies to its own "
		    "schedule)", pfx);
	}
	if (p->description == NULL)
		p->description = nf_xstrdup("");
}

static void
load_job_presets(struct nf_load *ld, struct nf_job *job,
    const struct nf_toml_value *t, const char *pfx)
{
	const struct nf_toml_value *v, *e;
	size_t	 i;

	if ((v = nf_toml_get(t, "presets")) == NULL)
		return;
	if (v->type != NF_TOML_ARRAY) {
		nf_load_err(ld, v->line, v->col, "%spresets must be an array "
		    "of tables ([[jobs.presets]]), not %s", pfx,
		    nf_load_toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if (e->type != NF_TOML_TABLE) {
			nf_load_err(ld, e->line, e->col, "%seach preset must "
			    "be a table ([[jobs.presets]]), not %s", pfx,
			    nf_load_toml_what(e->type));
			continue;
		}
		load_preset(ld, job, e, pfx);
	}
	/* Once the array no longer moves: derived jobs point at presets. */
	for (i = 0; i < job->npresets; i++)
		derive_preset(job, &job->presets[i]);
}

/*
 * The ids loaded so far, for the duplicate check: an open-addressing
 * table of indexes into cfg->jobs (which moves as it grows), so that
 * 100,000 jobs cost 100,000 lookups, not 5 billion comparisons.  Lives
 * for one nf_jobs_load().
 */
static struct {
	size_t	*slot;		/* index + 1; 0: empty */
	size_t	 cap, n;	/* cap: a power of two */
} seen;

static size_t
id_hash(const char *s)
{
	size_t	h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

/* The index of the job already named id, or (size_t)-1 after adding idx. */
static size_t
seen_add(const struct nf_config *cfg, const char *id, size_t idx)
{
	size_t	*old, ocap, i, h;

	if (2 * (seen.n + 1) > seen.cap) {
		old = seen.slot;
		ocap = seen.cap;
		seen.cap = ocap == 0 ? 1024 : 2 * ocap;
		seen.slot = nf_xcalloc(seen.cap, sizeof(*seen.slot));
		for (i = 0; i < ocap; i++) {
			if (old[i] == 0)
				continue;
			h = id_hash(cfg->jobs[old[i] - 1].id);
			while (seen.slot[h & (seen.cap - 1)] != 0)
				h++;
			seen.slot[h & (seen.cap - 1)] = old[i];
		}
		free(old);
	}
	for (h = id_hash(id); seen.slot[h & (seen.cap - 1)] != 0; h++)
		if (strcmp(cfg->jobs[seen.slot[h & (seen.cap - 1)] - 1].id,
		    id) == 0)
			return seen.slot[h & (seen.cap - 1)] - 1;
	seen.slot[h & (seen.cap - 1)] = idx + 1;
	seen.n++;
	return (size_t)-1;
}

static void
load_job(struct nf_load *ld, const struct nf_toml_value *t, const char *jobfile)
{
	struct nf_config *cfg = ld->cfg;
	const struct nf_toml_value *v, *steps;
	struct nf_job	*job;
	char		 pfx[256], what[1024], err[512], *s;
	size_t		 i;
	int		 line, col, steps_bad = 0;

	nf_load_tab_pos(t, &line, &col);
	/*
	 * Doubling at each power of two (only this function appends): one
	 * more element per job copied the whole array each time once the
	 * heap around it was taken, quadratic at 100,000 jobs.
	 */
	if (cfg->njobs == 0 || (cfg->njobs & (cfg->njobs - 1)) == 0)
		cfg->jobs = nf_xreallocarray(cfg->jobs,
		    cfg->njobs == 0 ? 1 : 2 * cfg->njobs, sizeof(*cfg->jobs));
	job = &cfg->jobs[cfg->njobs++];
	memset(job, 0, sizeof(*job));
	job->enabled = 1;
	job->params = nf_val_map();
	job->retry.attempts = DEF_RETRY_ATTEMPTS;
	job->retry.backoff = NF_BACKOFF_EXPONENTIAL;
	job->retry.base_seconds = DEF_RETRY_BASE;
	job->retry.max_seconds = DEF_RETRY_MAX;
	job->catchup_window = DEF_CATCHUP_WINDOW;
	job->retention.runs = job->retention.days = -1;
	job->retention.log_days = -1;
	job->file = nf_xstrdup(jobfile);
	job->line = line;
	job->col = col;

	if ((v = nf_toml_get(t, "id")) == NULL)
		nf_load_err(ld, line, col, "job has no id (add id = \"...\", "
		    "made of letters, digits, \"_\" and \"-\")");
	else if ((s = nf_load_str(ld, v, "job id")) != NULL) {
		job->id = s;
		if (!nf_valid_ident(s))
			nf_load_err(ld, v->line, v->col, "job id \"%s\" may "
			    "only contain letters, digits, \"_\" and \"-\"", s);
		else if ((i = seen_add(cfg, s, cfg->njobs - 1)) !=
		    (size_t)-1)
			nf_load_err(ld, v->line, v->col, "duplicate job id "
			    "\"%s\": already defined at %s:%d:%d (job ids "
			    "must be unique across all job files)", s,
			    cfg->jobs[i].file, cfg->jobs[i].line,
			    cfg->jobs[i].col);
	}
	if (job->id != NULL)
		snprintf(pfx, sizeof(pfx), "job \"%s\": ", job->id);
	else
		snprintf(pfx, sizeof(pfx), "job: ");

	if (job->id != NULL)
		snprintf(what, sizeof(what), "job \"%s\"", job->id);
	else
		snprintf(what, sizeof(what), "a job");
	load_keys(ld, job_keys, job, t, pfx, what);
	if ((steps = nf_toml_get(t, "steps")) != NULL &&
	    steps->type != NF_TOML_ARRAY) {
		steps = NULL;
		steps_bad = 1;
	}
	if (job->description == NULL)
		job->description = nf_xstrdup("");
	finish_schedules(job);

	for (i = 0; steps != NULL && i < steps->u.arr.n; i++) {
		v = steps->u.arr.items[i];
		if (v->type != NF_TOML_TABLE) {
			nf_load_err(ld, v->line, v->col, "%seach step must be "
			    "a table ([[jobs.steps]]), not %s", pfx,
			    nf_load_toml_what(v->type));
			continue;
		}
		load_step(ld, job, v, pfx);
	}
	if (job->nsteps == 0 && !steps_bad &&
	    (steps == NULL || steps->u.arr.n == 0))
		nf_load_err(ld, line, col, "%shas no steps (add at least one "
		    "[[jobs.steps]])", pfx);
	check_step_refs(ld, job, steps, pfx);
	load_job_presets(ld, job, t, pfx);
	if (nf_params_check_job(job, err, sizeof(err)) == -1)
		nf_load_err(ld, line, col, "%s%s", pfx, err);
}

static void
load_jobfile(struct nf_load *ld, const char *path)
{
	struct nf_toml_value	*root;
	const struct nf_toml_kv	*kv;
	const struct nf_toml_value *jobs;
	char			 err[1024];
	size_t			 i;

	if ((root = nf_toml_parse_file(path, err, sizeof(err))) == NULL) {
		nf_errs_add(ld->errs, NULL, 0, 0, "%s", err);
		return;
	}
	ld->file = path;
	jobs = NULL;
	for (i = 0; i < root->u.tab.n; i++) {
		kv = &root->u.tab.kv[i];
		if (strcmp(kv->key, "jobs") == 0 && kv->keylen == 4) {
			if (kv->val->type == NF_TOML_TABLE)
				nf_load_err(ld, kv->line, kv->col, "jobs must "
				    "be an array of tables: write [[jobs]], "
				    "not [jobs]");
			else if (kv->val->type != NF_TOML_ARRAY)
				nf_load_err(ld, kv->line, kv->col, "jobs must "
				    "be an array of tables ([[jobs]]), not %s",
				    nf_load_toml_what(kv->val->type));
			else
				jobs = kv->val;
		} else
			nf_load_err(ld, kv->line, kv->col, "unknown key \"%s\" "
			    "at the top level of a jobs file (only [[jobs]] "
			    "entries are allowed)", kv->key);
	}
	for (i = 0; jobs != NULL && i < jobs->u.arr.n; i++) {
		if (jobs->u.arr.items[i]->type != NF_TOML_TABLE) {
			nf_load_err(ld, jobs->u.arr.items[i]->line,
			    jobs->u.arr.items[i]->col, "each job must be a "
			    "table ([[jobs]]), not %s",
			    nf_load_toml_what(jobs->u.arr.items[i]->type));
			continue;
		}
		load_job(ld, jobs->u.arr.items[i], path);
	}
	nf_toml_free(root);
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
nf_jobs_load(struct nf_load *ld, int line, int col)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *path;
	size_t		 n = 0, i, len;

	if ((d = opendir(ld->cfg->jobs_dir)) == NULL) {
		nf_load_err(ld, line, col, "jobs_dir %s: %s (create it, even "
		    "empty, or set jobs_dir)", ld->cfg->jobs_dir,
		    strerror(errno));
		return;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		len = strlen(de->d_name);
		/*
		 * Editors leave ".x.toml.swp" and "x.toml~": only *.toml,
		 * never hidden files.
		 */
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".toml") != 0)
			continue;
		names = nf_xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = nf_xstrdup(de->d_name);
	}
	if (errno != 0)
		nf_load_err(ld, line, col, "jobs_dir %s: cannot read: %s",
		    ld->cfg->jobs_dir, strerror(errno));
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), namecmp);
	memset(&seen, 0, sizeof(seen));
	for (i = 0; i < n; i++) {
		path = nf_xprintf("%s/%s", ld->cfg->jobs_dir, names[i]);
		load_jobfile(ld, path);
		free(path);
		free(names[i]);
	}
	free(names);
	free(seen.slot);
	memset(&seen, 0, sizeof(seen));
	/* The doubling's spare end (nothing points into the array yet). */
	if (ld->cfg->njobs > 0)
		ld->cfg->jobs = nf_xreallocarray(ld->cfg->jobs,
		    ld->cfg->njobs, sizeof(*ld->cfg->jobs));
}

static int
job_id_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct nf_job *const *)a)->id,
	    (*(const struct nf_job *const *)b)->id);
}

/*
 * nf_config_job() is on the path of every scheduled fire and control
 * request: with 10,000 jobs a linear search compares thousands of ids per
 * fire.  Ids are unique and set once the load succeeded.
 */
void
nf_jobs_index(struct nf_config *cfg)
{
	size_t	i;

	if (cfg->njobs == 0)
		return;
	cfg->jobs_by_id = nf_xcalloc(cfg->njobs, sizeof(*cfg->jobs_by_id));
	for (i = 0; i < cfg->njobs; i++)
		cfg->jobs_by_id[i] = &cfg->jobs[i];
	qsort(cfg->jobs_by_id, cfg->njobs, sizeof(*cfg->jobs_by_id),
	    job_id_cmp);
}

const struct nf_job *
nf_config_job(const struct nf_config *cfg, const char *id)
{
	struct nf_job		 key;
	const struct nf_job	*kp = &key, **found;
	size_t			 i;

	if (cfg->jobs_by_id != NULL) {
		key.id = (char *)id;
		found = bsearch(&kp, cfg->jobs_by_id, cfg->njobs,
		    sizeof(*cfg->jobs_by_id), job_id_cmp);
		return found != NULL ? *found : NULL;
	}
	for (i = 0; i < cfg->njobs; i++)
		if (cfg->jobs[i].id != NULL && strcmp(cfg->jobs[i].id, id) == 0)
			return &cfg->jobs[i];
	return NULL;
}

const struct nf_preset *
nf_config_preset(const struct nf_job *job, const char *name)
{
	size_t	i;

	for (i = 0; i < job->npresets; i++)
		if (job->presets[i].name != NULL &&
		    strcmp(job->presets[i].name, name) == 0)
			return &job->presets[i];
	return NULL;
}


void
nf_jobs_check_links(struct nf_load *ld)
{
	check_after(ld);
	check_calls(ld);
}

void
nf_jobs_free(struct nf_config *cfg)
{
	struct nf_job	*job;
	size_t		 i, j;

	free(cfg->jobs_by_id);
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		free(job->id);
		free(job->description);
		for (j = 0; j < job->nschedules; j++) {
			free(job->schedules[j].expr);
			if (job->schedules[j].cron != NULL)
				nf_cron_free(job->schedules[j].cron);
			free(job->schedules[j].timezone);
			if (job->schedules[j].own_tz != NULL)
				nf_tz_free(job->schedules[j].own_tz);
		}
		free(job->schedules);
		free(job->timezone);
		if (job->tz != NULL)
			nf_tz_free(job->tz);
		for (j = 0; j < job->ntags; j++)
			free(job->tags[j]);
		free(job->tags);
		nf_val_free(job->params);
		for (j = 0; j < job->nsecret_params; j++)
			free(job->secret_params[j]);
		free(job->secret_params);
		for (j = 0; j < job->nrequired_params; j++)
			free(job->required_params[j]);
		free(job->required_params);
		for (j = 0; j < job->nsteps; j++) {
			free(job->steps[j].name);
			free(job->steps[j].type);
			nf_val_free(job->steps[j].spec);
			nf_expr_free(job->steps[j].when);
		}
		free(job->steps);
		free_job_policy(job);
		free(job->file);
	}
	free(cfg->jobs);
}
