/*
 * check_params.c: a run's parameters in one pass (supervisor/params.c):
 * merge order, coercion to the declared type, rejection messages,
 * required and unknown names, the redacted snapshot and the secrets; and
 * the redaction primitive (common/template.c) every redaction uses.
 */
#include "autoconf.h"

#include <string.h>

#include "config.h"
#include "nf_check.h"
#include "params.h"
#include "template.h"
#include "util.h"
#include "val.h"

static struct nf_val	*defaults, *preset, *given, *kwargs;
static struct nf_step	 steps[2];
static char		*secret[] = { "token" };
static char		*required[] = { "day" };

static void
decl_init(struct nf_params_decl *d)
{
	nf_val_free(defaults);
	nf_val_free(preset);
	nf_val_free(given);
	nf_val_free(kwargs);
	defaults = nf_val_map();
	nf_val_map_set_str(defaults, "mode", "inc");
	nf_val_map_set_int(defaults, "n", 5);
	nf_val_map_set(defaults, "rate", nf_val_float(1.5));
	nf_val_map_set_bool(defaults, "full", 0);
	nf_val_map_set_str(defaults, "token", "hunter2");
	nf_val_map_set(defaults, "list", nf_val_arr());
	preset = nf_val_map();
	nf_val_map_set_str(preset, "mode", "night");
	nf_val_map_set_int(preset, "extra", 1);
	given = nf_val_map();
	kwargs = nf_val_map();
	nf_val_map_set_int(kwargs, "limit", 10);
	memset(steps, 0, sizeof(steps));
	steps[0].name = "a";
	steps[0].type = "exec";
	steps[1].name = "py";
	steps[1].type = "python";
	steps[1].spec = nf_val_map();
	nf_val_map_set(steps[1].spec, "kwargs", nf_val_dup(kwargs));
	memset(d, 0, sizeof(*d));
	d->job_id = "j";
	d->defaults = defaults;
	d->secret = secret;
	d->nsecret = 1;
	d->steps = steps;
	d->nsteps = 2;
}

static void
decl_done(void)
{
	nf_val_free(steps[1].spec);
	steps[1].spec = NULL;
	nf_val_free(defaults);
	nf_val_free(preset);
	nf_val_free(given);
	nf_val_free(kwargs);
	defaults = preset = given = kwargs = NULL;
}

/* Resolve; the merged value of name must have type t. */
static const struct nf_val *
typed(struct nf_params *p, const char *name, enum nf_val_type t)
{
	const struct nf_val	*v;

	v = nf_val_get(p->merged, name);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, t);
	return v;
}

START_TEST(merge_order)
{
	struct nf_params_decl	 d;
	struct nf_params	 p;
	char			 err[512];

	decl_init(&d);
	d.preset = "nightly";
	d.preset_params = preset;
	nf_val_map_set_str(given, "n", "7");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	/* defaults < preset < given */
	ck_assert_str_eq(nf_val_get_str(p.merged, "mode"), "night");
	ck_assert_int_eq(typed(&p, "n", NF_V_INT)->u.i, 7);
	ck_assert_int_eq(typed(&p, "extra", NF_V_INT)->u.i, 1);
	ck_assert_int_eq(typed(&p, "full", NF_V_BOOL)->u.b, 0);
	/* given holds only the run's own values, coerced */
	ck_assert_int_eq(p.given->u.m.n, 1);
	ck_assert_int_eq(nf_val_get(p.given, "n")->type, NF_V_INT);
	nf_params_clear(&p);

	/* No given params: the defaults and the preset. */
	ck_assert_int_eq(nf_params_resolve(&d, NULL, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(nf_val_get_str(p.merged, "mode"), "night");
	ck_assert_int_eq(p.given->u.m.n, 0);
	nf_params_clear(&p);

	/* A given value wins over the preset's. */
	nf_val_map_set_str(given, "mode", "full");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	ck_assert_str_eq(nf_val_get_str(p.merged, "mode"), "full");
	nf_params_clear(&p);
	decl_done();
}
END_TEST

START_TEST(coercion)
{
	static const struct {
		const char	*name;
		const char	*text;
		enum nf_val_type t;
	} ok[] = {
		{ "n", "42", NF_V_INT },
		{ "n", "-3", NF_V_INT },
		{ "rate", "2.5", NF_V_FLOAT },
		{ "rate", "3", NF_V_FLOAT },
		{ "rate", "-1e3", NF_V_FLOAT },
		{ "full", "true", NF_V_BOOL },
		{ "full", "false", NF_V_BOOL },
		{ "mode", "42", NF_V_STR },
		{ "limit", "12", NF_V_INT },	/* a python step's kwarg */
		{ "dry_run", "true", NF_V_BOOL },	/* built in */
	};
	struct nf_params_decl	 d;
	struct nf_params	 p;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		decl_init(&d);
		nf_val_map_set_str(given, ok[i].name, ok[i].text);
		ck_assert_msg(nf_params_resolve(&d, given, &p, err,
		    sizeof(err)) == 0, "%s=%s: %s", ok[i].name, ok[i].text,
		    err);
		typed(&p, ok[i].name, ok[i].t);
		nf_params_clear(&p);
		decl_done();
	}

	/* Values that already have a type (call_job, the JSON API). */
	decl_init(&d);
	nf_val_map_set_int(given, "rate", 2);
	nf_val_map_set(given, "n", nf_val_float(8.0));
	nf_val_map_set_int(given, "mode", 9);
	nf_val_map_set_bool(given, "full", 1);
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	ck_assert(typed(&p, "rate", NF_V_FLOAT)->u.f == 2.0);
	ck_assert_int_eq(typed(&p, "n", NF_V_INT)->u.i, 8);
	ck_assert_str_eq(typed(&p, "mode", NF_V_STR)->u.s.p, "9");
	ck_assert_int_eq(typed(&p, "full", NF_V_BOOL)->u.b, 1);
	nf_params_clear(&p);
	decl_done();
}
END_TEST

START_TEST(rejection)
{
	static const struct {
		const char	*name;
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "n", "abc", "job j: parameter \"n\" must be an integer, "
		    "like its default 5; got \"abc\"" },
		{ "n", "4.5", "must be an integer" },
		{ "n", "", "must be an integer" },
		{ "n", "99999999999999999999", "must be an integer" },
		{ "rate", "fast", "parameter \"rate\" must be a number, like "
		    "its default 1.5; got \"fast\"" },
		{ "rate", "inf", "must be a number" },
		{ "rate", "0x10", "must be a number" },
		{ "full", "yes", "parameter \"full\" must be a boolean (true "
		    "or false), like its default false; got \"yes\"" },
		{ "list", "a,b", "must be an array" },
		{ "dry_run", "1", "must be a boolean" },
	};
	struct nf_params_decl	 d;
	struct nf_params	 p;
	char			 err[512];
	size_t			 i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		decl_init(&d);
		nf_val_map_set_str(given, bad[i].name, bad[i].text);
		ck_assert_int_eq(nf_params_resolve(&d, given, &p, err,
		    sizeof(err)), -1);
		ck_assert_msg(strstr(err, bad[i].msg) != NULL,
		    "%s=%s: \"%s\" lacks \"%s\"", bad[i].name, bad[i].text,
		    err, bad[i].msg);
		ck_assert_ptr_null(p.merged);
		decl_done();
	}

	/* A table for a string, a null; every problem is listed. */
	decl_init(&d);
	nf_val_map_set(given, "mode", nf_val_map());
	nf_val_map_set(given, "n", nf_val_nil());
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "\"mode\" must be a string"));
	ck_assert_ptr_nonnull(strstr(err, "; parameter \"n\" must be an "
	    "integer"));
	decl_done();

	/* A secret param's bad value is never echoed. */
	decl_init(&d);
	nf_val_map_set(given, "token", nf_val_arr());
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    -1);
	ck_assert_ptr_null(strstr(err, "hunter2"));
	ck_assert_ptr_nonnull(strstr(err, "hidden"));
	decl_done();

	/* The preset is named. */
	decl_init(&d);
	d.preset = "nightly";
	d.preset_params = preset;
	nf_val_map_set_str(given, "extra", "x");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "job j preset nightly: parameter "
	    "\"extra\" must be an integer"));
	decl_done();
}
END_TEST

START_TEST(unknown_and_required)
{
	struct nf_params_decl	 d;
	struct nf_params	 p;
	char			 err[512];

	decl_init(&d);
	nf_val_map_set_str(given, "dryrun", "true");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "job j: no parameter \"dryrun\" (the job takes: "
	    "mode, n, rate, full, token, list; a run may also set dry_run; "
	    "nfctl job show j lists them)");
	decl_done();

	/* A job without params says so. */
	decl_init(&d);
	d.defaults = NULL;
	d.nsteps = 0;
	nf_val_map_set_str(given, "day", "monday");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    -1);
	ck_assert_ptr_nonnull(strstr(err, "(the job takes: none;"));
	/* Required names are known names of any type... */
	d.required = required;
	d.nrequired = 1;
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	ck_assert_str_eq(nf_val_get_str(p.merged, "day"), "monday");
	nf_params_clear(&p);
	/* ...that a run must be given. */
	ck_assert_int_eq(nf_params_resolve(&d, NULL, &p, err, sizeof(err)),
	    -1);
	ck_assert_str_eq(err, "job j: parameter \"day\" is required and was "
	    "not given (nfctl run j -p day=VALUE)");
	decl_done();

	/* A preset may give a required param. */
	decl_init(&d);
	d.required = required;
	d.nrequired = 1;
	nf_val_map_set_str(preset, "day", "sunday");
	d.preset_params = preset;
	ck_assert_int_eq(nf_params_resolve(&d, NULL, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(nf_val_get_str(p.merged, "day"), "sunday");
	nf_params_clear(&p);
	decl_done();
}
END_TEST

START_TEST(snapshot_and_secrets)
{
	struct nf_params_decl	 d;
	struct nf_params	 p;
	struct nf_val		*shown;
	char			 err[512], *r;

	decl_init(&d);
	nf_val_map_set_str(given, "token", "run-T0KEN");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	/* The step gets the real value; the history "***". */
	ck_assert_str_eq(nf_val_get_str(p.merged, "token"), "run-T0KEN");
	ck_assert_str_eq(nf_val_get_str(p.snapshot, "token"), "***");
	ck_assert_str_eq(nf_val_get_str(p.snapshot, "mode"), "inc");
	ck_assert_int_eq(p.secrets.n, 1);
	r = nf_secrets_redact(&p.secrets, "auth=run-T0KEN ok");
	ck_assert_str_eq(r, "auth=*** ok");
	free(r);
	/* The default is no longer a secret of this run: it is not used. */
	ck_assert_ptr_null(nf_secrets_redact(&p.secrets, "hunter2"));
	/* Other sources of secrets extend the list. */
	nf_params_add_secret(&p, "s3cr3t");
	nf_params_add_secret(&p, "s3cr3t");
	ck_assert_int_eq(p.secrets.n, 2);
	r = nf_secrets_redact(&p.secrets, "s3cr3t run-T0KEN");
	ck_assert_str_eq(r, "*** ***");
	free(r);
	nf_params_clear(&p);

	/* The audit's view of what was given. */
	shown = nf_params_shown(&d, given);
	ck_assert_str_eq(nf_val_get_str(shown, "token"), "***");
	nf_val_free(shown);
	ck_assert_ptr_null(nf_params_shown(&d, NULL));

	/* An empty secret is not a secret (it would match everywhere). */
	nf_val_map_set_str(given, "token", "");
	ck_assert_int_eq(nf_params_resolve(&d, given, &p, err, sizeof(err)),
	    0);
	ck_assert_int_eq(p.secrets.n, 0);
	nf_params_clear(&p);
	decl_done();
}
END_TEST

/* A replay gives the stored snapshot back, but not "***" for a secret. */
START_TEST(replay_params)
{
	struct nf_job	 job;
	struct nf_val	*snap, *m;

	memset(&job, 0, sizeof(job));
	job.id = "j";
	job.secret_params = secret;
	job.nsecret_params = 1;
	snap = nf_val_map();
	nf_val_map_set_str(snap, "token", "***");
	nf_val_map_set_int(snap, "n", 7);
	m = nf_params_replay(&job, snap);
	ck_assert_ptr_null(nf_val_get(m, "token"));
	ck_assert_int_eq(nf_val_get(m, "n")->u.i, 7);
	nf_val_free(m);
	/* A value that is not the mask was not a secret when stored. */
	nf_val_map_set_str(snap, "token", "plain");
	m = nf_params_replay(&job, snap);
	ck_assert_str_eq(nf_val_get_str(m, "token"), "plain");
	nf_val_free(m);
	nf_val_free(snap);
	ck_assert_ptr_null(nf_params_replay(&job, NULL));
}
END_TEST

/* The one redaction primitive: the supervisor's and the http worker's. */
START_TEST(redact_primitive)
{
	struct nf_secrets	 s;
	struct nf_buf		 b;
	char			 bin[] = { 'a', '\0', 'k', 'e', 'y', 'z' };

	nf_secrets_init(&s, 3);
	nf_secrets_add(&s, "ab", 2);		/* too short: noise */
	nf_secrets_add(&s, "abc", 3);
	nf_secrets_add(&s, "abcdef", 6);
	nf_secrets_add(&s, "key", 3);
	ck_assert_int_eq(s.n, 3);
	nf_buf_init(&b);
	/* Earliest first, then the longest at the same byte. */
	ck_assert_int_eq(nf_secrets_redact_into(&s, "[redacted]", &b,
	    "xabcdefy abc ab", 15), 2);
	ck_assert_str_eq(b.data, "x[redacted]y [redacted] ab");
	nf_buf_reset(&b);
	/* Bytes, not C strings: a NUL does not hide what follows. */
	ck_assert_int_eq(nf_secrets_redact_into(&s, "*", &b, bin,
	    sizeof(bin)), 1);
	ck_assert_int_eq(b.len, 4);
	ck_assert_int_eq(memcmp(b.data, "a\0*z", 4), 0);
	nf_buf_reset(&b);
	ck_assert_int_eq(nf_secrets_redact_into(&s, "*", &b, "none", 4), 0);
	ck_assert_str_eq(b.data, "none");
	nf_buf_free(&b);
	nf_secrets_free(&s);
	ck_assert_int_eq(s.n, 0);
	/* An empty set copies. */
	nf_buf_init(&b);
	ck_assert_int_eq(nf_secrets_redact_into(&s, "*", &b, "abc", 3), 0);
	ck_assert_str_eq(b.data, "abc");
	nf_buf_free(&b);
}
END_TEST

static Suite *
params_suite(void)
{
	Suite	*s = suite_create("params");
	TCase	*tc = tcase_create("params");

	tcase_add_test(tc, merge_order);
	tcase_add_test(tc, coercion);
	tcase_add_test(tc, rejection);
	tcase_add_test(tc, unknown_and_required);
	tcase_add_test(tc, snapshot_and_secrets);
	tcase_add_test(tc, replay_params);
	tcase_add_test(tc, redact_primitive);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(params_suite)
