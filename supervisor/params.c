/*
 * params.c: a run's parameters in one pass (params.h).  Owns the merge
 * order (the job's params < the preset's < the run's own), the coercion of
 * a given value to the declared type, the checks of unknown and required
 * names, the snapshot the history shows and the list of secret values the
 * run redacts.
 *
 * Runs in nomaflowd: the control socket's run command, call_job steps, the
 * scheduler (schedules, presets, dependencies, catch-up) and replays all
 * resolve through here, so a value is typed and checked the same way
 * whoever gives it.  Pure: it reads the declaration and the values it is
 * handed and touches no global state.
 *
 * Invariants: a resolved merged map holds only declared names, each of
 * the declared type; a rejected value never creates a run; a secret
 * param's value appears neither in the snapshot nor in an error message.
 *
 * Types are declared by example: a param's default (or the preset's value,
 * or a python step's kwarg) is its type.  Text given on the command line
 * becomes that type when it reads as one (42, 2.5, true); otherwise the run
 * is refused.  A string param takes a number or a boolean as its text (a
 * call_job template may render one), never a table or an array.
 */
#include "autoconf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "json.h"
#include "params.h"
#include "template.h"
#include "util.h"
#include "val.h"

/* A value shown in an error message is cut here. */
#define SHOWN_MAX	60

static const struct nf_val builtin_dry_run = {
	.type = NF_V_BOOL, .u.b = 0
};
/* The "type" of a name only required_params declares: any value. */
static const struct nf_val any_type = { .type = NF_V_ANY };

static const char *
type_what(enum nf_val_type t)
{
	switch (t) {
	case NF_V_BOOL:
		return "a boolean (true or false)";
	case NF_V_INT:
		return "an integer";
	case NF_V_FLOAT:
		return "a number";
	case NF_V_STR:
		return "a string";
	case NF_V_ARR:
		return "an array";
	case NF_V_MAP:
		return "a table";
	default:
		return "a value";
	}
}

static int
name_in(const char *name, char *const *list, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (strcmp(list[i], name) == 0)
			return 1;
	return 0;
}

/* The value that declares name's type, or NULL: the job does not take it. */
static const struct nf_val *
declared(const struct nf_params_decl *d, const char *name)
{
	const struct nf_val	*v, *kw;
	size_t			 i;

	if ((v = nf_val_get(d->defaults, name)) != NULL ||
	    (v = nf_val_get(d->preset_params, name)) != NULL)
		return v;
	for (i = 0; i < d->nsteps; i++) {
		if (strcmp(d->steps[i].type, "python") != 0)
			continue;
		kw = nf_val_get(d->steps[i].spec, "kwargs");
		if (kw != NULL && kw->type == NF_V_MAP &&
		    (v = nf_val_get(kw, name)) != NULL)
			return v;
	}
	if (strcmp(name, NF_PARAMS_BUILTIN_DRY_RUN) == 0)
		return &builtin_dry_run;
	if (name_in(name, d->required, d->nrequired))
		return &any_type;
	return NULL;
}

/* A float written as text: digits, not "inf", "nan" or hex. */
static int
parse_float(const char *s, double *out)
{
	char	*end;
	double	 d;

	if (*s == '\0' || strchr("+-.0123456789", *s) == NULL ||
	    strpbrk(s, "xX") != NULL)
		return -1;
	d = strtod(s, &end);
	if (*end != '\0' || !isfinite(d))
		return -1;
	*out = d;
	return 0;
}

/*
 * v as the type of def, or NULL: the value cannot be one.  Text reads as
 * the type (nfctl -p gives text); numbers and booleans become a string
 * param's text; an integer is a number; a whole float is an integer.
 */
static struct nf_val *
coerce(const struct nf_val *def, const struct nf_val *v)
{
	long long	ll;
	double		d;

	if (v->type == def->type)
		return nf_val_dup(v);
	switch (def->type) {
	case NF_V_STR:
		if (v->type == NF_V_INT || v->type == NF_V_FLOAT ||
		    v->type == NF_V_BOOL) {
			struct nf_val	*s;
			char		*t;

			t = nf_tmpl_text(v);
			s = nf_val_str(t);
			free(t);
			return s;
		}
		return NULL;
	case NF_V_INT:
		if (v->type == NF_V_STR && nf_parse_int(v->u.s.p, INT64_MIN,
		    INT64_MAX, &ll) == 0)
			return nf_val_int(ll);
		if (v->type == NF_V_FLOAT && isfinite(v->u.f) &&
		    v->u.f == floor(v->u.f) && v->u.f >= -9.2e18 &&
		    v->u.f <= 9.2e18)
			return nf_val_int((int64_t)v->u.f);
		return NULL;
	case NF_V_FLOAT:
		if (v->type == NF_V_INT)
			return nf_val_float((double)v->u.i);
		if (v->type == NF_V_STR && parse_float(v->u.s.p, &d) == 0)
			return nf_val_float(d);
		return NULL;
	case NF_V_BOOL:
		if (v->type == NF_V_STR && (strcmp(v->u.s.p, "true") == 0 ||
		    strcmp(v->u.s.p, "false") == 0))
			return nf_val_bool(v->u.s.p[0] == 't');
		return NULL;
	default:
		return NULL;
	}
}

/* v as the error message shows it: JSON text, cut, never a secret. */
static void
add_shown(struct nf_buf *b, const struct nf_params_decl *d, const char *name,
    const struct nf_val *v)
{
	char	*t;

	if (name_in(name, d->secret, d->nsecret)) {
		nf_buf_adds(b, "the value given (hidden: a secret param)");
		return;
	}
	t = nf_json_text(v, -1);
	if (strlen(t) > SHOWN_MAX)
		nf_buf_printf(b, "%.*s...", SHOWN_MAX, t);
	else
		nf_buf_adds(b, t);
	free(t);
}

/* "a, b, c" (the names a job takes), or "none". */
static void
add_names(struct nf_buf *b, const struct nf_params_decl *d)
{
	const struct nf_val	*m[2] = { d->defaults, d->preset_params };
	size_t			 i, k, n = 0;

	for (k = 0; k < 2; k++)
		for (i = 0; m[k] != NULL && m[k]->type == NF_V_MAP &&
		    i < m[k]->u.m.n; i++) {
			if (k == 1 && nf_val_get(d->defaults,
			    m[k]->u.m.kv[i].key) != NULL)
				continue;
			nf_buf_printf(b, "%s%s", n++ > 0 ? ", " : "",
			    m[k]->u.m.kv[i].key);
		}
	for (i = 0; i < d->nrequired; i++)
		if (nf_val_get(d->defaults, d->required[i]) == NULL &&
		    nf_val_get(d->preset_params, d->required[i]) == NULL)
			nf_buf_printf(b, "%s%s", n++ > 0 ? ", " : "",
			    d->required[i]);
	if (n == 0)
		nf_buf_adds(b, "none");
}

static void
problem(struct nf_buf *b, const struct nf_params_decl *d)
{
	if (b->len == 0)
		nf_buf_printf(b, "job %s%s%s: ", d->job_id,
		    d->preset != NULL ? " preset " : "",
		    d->preset != NULL ? d->preset : "");
	else
		nf_buf_adds(b, "; ");
}

struct nf_val *
nf_params_shown(const struct nf_params_decl *d, const struct nf_val *m)
{
	struct nf_val	*c;
	size_t		 i;

	if (m == NULL)
		return NULL;
	c = nf_val_dup(m);
	for (i = 0; c->type == NF_V_MAP && i < d->nsecret; i++)
		if (nf_val_get(c, d->secret[i]) != NULL)
			nf_val_map_set_str(c, d->secret[i], NF_SECRET_MASK);
	return c;
}

int
nf_params_resolve(const struct nf_params_decl *d, const struct nf_val *given,
    struct nf_params *out, char *err, size_t errlen)
{
	const struct nf_val	*def, *gv, *m;
	struct nf_val		*merged, *coerced, *cv;
	struct nf_buf		 e;
	const char		*name;
	char			*t;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	nf_buf_init(&e);
	merged = d->defaults != NULL && d->defaults->type == NF_V_MAP ?
	    nf_val_dup(d->defaults) : nf_val_map();
	for (i = 0; d->preset_params != NULL &&
	    d->preset_params->type == NF_V_MAP &&
	    i < d->preset_params->u.m.n; i++)
		nf_val_map_set(merged, d->preset_params->u.m.kv[i].key,
		    nf_val_dup(d->preset_params->u.m.kv[i].val));
	coerced = nf_val_map();
	for (i = 0; given != NULL && given->type == NF_V_MAP &&
	    i < given->u.m.n; i++) {
		name = given->u.m.kv[i].key;
		gv = given->u.m.kv[i].val;
		if ((def = declared(d, name)) == NULL) {
			problem(&e, d);
			nf_buf_printf(&e, "no parameter \"%s\" (the job takes: ",
			    name);
			add_names(&e, d);
			nf_buf_printf(&e, "; a run may also set %s; nfctl job "
			    "show %s lists them)", NF_PARAMS_BUILTIN_DRY_RUN,
			    d->job_id);
			continue;
		}
		if ((cv = def->type == NF_V_ANY ? nf_val_dup(gv) :
		    coerce(def, gv)) == NULL) {
			problem(&e, d);
			nf_buf_printf(&e, "parameter \"%s\" must be %s, like "
			    "its default ", name, type_what(def->type));
			if (name_in(name, d->secret, d->nsecret))
				nf_buf_adds(&e, "(hidden)");
			else {
				t = nf_json_text(def, -1);
				nf_buf_printf(&e, "%.*s%s", SHOWN_MAX, t,
				    strlen(t) > SHOWN_MAX ? "..." : "");
				free(t);
			}
			nf_buf_adds(&e, "; got ");
			add_shown(&e, d, name, gv);
			continue;
		}
		nf_val_map_set(merged, name, nf_val_dup(cv));
		nf_val_map_set(coerced, name, cv);
	}
	for (i = 0; i < d->nrequired; i++)
		if (nf_val_get(merged, d->required[i]) == NULL) {
			problem(&e, d);
			nf_buf_printf(&e, "parameter \"%s\" is required and was "
			    "not given (nfctl run %s -p %s=VALUE)",
			    d->required[i], d->job_id, d->required[i]);
		}
	if (e.len > 0) {
		snprintf(err, errlen, "%s", e.data);
		nf_buf_free(&e);
		nf_val_free(merged);
		nf_val_free(coerced);
		return -1;
	}
	nf_buf_free(&e);
	out->merged = merged;
	out->given = coerced;
	out->snapshot = nf_params_shown(d, merged);
	nf_secrets_init(&out->secrets, 1);
	for (i = 0; i < d->nsecret; i++) {
		if ((m = nf_val_get(merged, d->secret[i])) == NULL)
			continue;
		t = nf_tmpl_text(m);
		nf_secrets_add(&out->secrets, t, strlen(t));
		free(t);
	}
	return 0;
}

void
nf_params_decl_job(const struct nf_job *job, struct nf_params_decl *d)
{
	memset(d, 0, sizeof(*d));
	d->job_id = job->id;
	/* A preset's derived job carries the merged params already. */
	d->defaults = job->params;
	if (job->preset != NULL) {
		d->preset = job->preset->name;
		d->preset_params = job->preset->params;
	}
	d->secret = job->secret_params;
	d->nsecret = job->nsecret_params;
	d->required = job->required_params;
	d->nrequired = job->nrequired_params;
	d->steps = job->steps;
	d->nsteps = job->nsteps;
}

int
nf_params_resolve_job(const struct nf_job *job, const struct nf_val *given,
    struct nf_params *out, char *err, size_t errlen)
{
	struct nf_params_decl	d;

	nf_params_decl_job(job, &d);
	return nf_params_resolve(&d, given, out, err, errlen);
}

struct nf_val *
nf_params_replay(const struct nf_job *job, const struct nf_val *snapshot)
{
	struct nf_val	*m, *v;
	const char	*t;
	size_t		 i;

	if (snapshot == NULL || snapshot->type != NF_V_MAP)
		return NULL;
	m = nf_val_dup(snapshot);
	for (i = 0; i < job->nsecret_params; i++) {
		t = nf_val_get_str(m, job->secret_params[i]);
		if (t != NULL && strcmp(t, NF_SECRET_MASK) == 0 &&
		    (v = nf_val_map_take(m, job->secret_params[i])) != NULL)
			nf_val_free(v);
	}
	return m;
}

int
nf_params_check_job(const struct nf_job *job, char *err, size_t errlen)
{
	const struct nf_preset	*p;
	struct nf_buf		 e;
	const char		*name;
	size_t			 i, k;

	nf_buf_init(&e);
	for (i = 0; i < job->nrequired_params; i++) {
		name = job->required_params[i];
		if (nf_val_get(job->params, name) != NULL) {
			nf_buf_printf(&e, "%sparameter \"%s\" is in both "
			    "params (with a default) and required_params "
			    "(without one); keep one", e.len > 0 ? "; " : "",
			    name);
			continue;
		}
		if (job->nschedules > 0 || job->nafter > 0)
			nf_buf_printf(&e, "%srequired parameter \"%s\" has no "
			    "value when the %s fires it; give it a default in "
			    "params or leave the firing to presets that set "
			    "it", e.len > 0 ? "; " : "", name,
			    job->nschedules > 0 ? "schedule" : "`after` "
			    "dependency");
		for (k = 0; k < job->npresets; k++) {
			p = &job->presets[k];
			if (p->cron != NULL &&
			    nf_val_get(p->params, name) == NULL)
				nf_buf_printf(&e, "%srequired parameter \"%s\" "
				    "has no value when preset %s's schedule "
				    "fires; set it in the preset's params",
				    e.len > 0 ? "; " : "", name, p->name);
		}
	}
	if (e.len == 0) {
		nf_buf_free(&e);
		return 0;
	}
	snprintf(err, errlen, "%s", e.data);
	nf_buf_free(&e);
	return -1;
}

void
nf_params_add_secret(struct nf_params *p, const char *v)
{
	if (v != NULL)
		nf_secrets_add(&p->secrets, v, strlen(v));
}

void
nf_params_move(struct nf_params *dst, struct nf_params *src)
{
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

void
nf_params_clear(struct nf_params *p)
{
	nf_val_free(p->merged);
	nf_val_free(p->given);
	nf_val_free(p->snapshot);
	nf_secrets_free(&p->secrets);
	memset(p, 0, sizeof(*p));
}
