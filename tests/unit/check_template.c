/*
 * check_template.c: `${...}` templates (common/template.c): parsing and
 * load-time checks, rendering with type keeping, paths, date helpers and
 * formats, escapes, secret redaction.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "nf_check.h"
#include "json.h"
#include "template.h"
#include "util.h"
#include "val.h"

static const char *const steps[] = { "count", "load-it", "report", "last" };

static struct nf_tmpl_scope
scope(size_t self)
{
	struct nf_tmpl_scope sc;

	memset(&sc, 0, sizeof(sc));
	sc.steps = steps;
	sc.nsteps = 4;
	sc.self = self;
	return sc;
}

static struct nf_val *params, *outputs, *rows, *prev;

static struct nf_tmpl_ctx
ctx(void)
{
	static const char	 json[] = "{\"rows\":[{\"n\":1500,"
	    "\"name\":\"a b\"},{\"n\":2}],\"odd key\":\"x\"}";
	struct nf_tmpl_ctx	 c;
	struct nf_val		*o;
	char			 err[128];

	params = nf_val_map();
	nf_val_map_set_int(params, "limit", 42);
	nf_val_map_set_str(params, "region", "eu-west");
	nf_val_map_set_bool(params, "dry_run", 0);
	outputs = nf_val_map();
	o = nf_json_read(json, strlen(json), err, sizeof(err));
	ck_assert_ptr_nonnull(o);
	nf_val_map_set(outputs, "count", o);
	rows = nf_val_map();
	nf_val_map_set_int(rows, "count", 2);
	prev = nf_val_map();
	nf_val_map_set_str(prev, "step", "count");
	nf_val_map_set_int(prev, "rows_affected", 2);
	memset(&c, 0, sizeof(c));
	c.job_id = "nightly";
	c.run_id = 17;
	c.triggered_by = "cron";
	c.base_time = 1772323200;	/* 2026-03-01T00:00:00Z, a Sunday */
	c.base_y = 2026;
	c.base_m = 3;
	c.base_d = 1;
	c.params = params;
	c.outputs = outputs;
	c.rows = rows;
	c.prev = prev;
	return c;
}

static void
ctx_free(void)
{
	nf_val_free(params);
	nf_val_free(outputs);
	nf_val_free(rows);
	nf_val_free(prev);
}

static char *
render_str(const struct nf_tmpl_ctx *c, const char *s)
{
	struct nf_val	*v;
	char		 err[256], *r;

	v = nf_tmpl_render(s, c, err, sizeof(err));
	if (v == NULL)
		return nf_xprintf("ERR: %s", err);
	r = nf_tmpl_text(v);
	nf_val_free(v);
	return r;
}

#define RENDER_EQ(c, in, want) do {					\
	char *got_ = render_str(c, in);					\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(render_basic)
{
	struct nf_tmpl_ctx c = ctx();

	RENDER_EQ(&c, "plain", "plain");
	RENDER_EQ(&c, "id=${job.id}/${run.id}", "id=nightly/17");
	RENDER_EQ(&c, "${params.region}-x", "eu-west-x");
	RENDER_EQ(&c, "${run.triggered_by}", "cron");
	RENDER_EQ(&c, "${run.scheduled_for}", "2026-03-01T00:00:00Z");
	RENDER_EQ(&c, "n=${steps.count.output.rows[0].n}", "n=1500");
	RENDER_EQ(&c, "${steps.count.output.rows[-1].n}", "2");
	RENDER_EQ(&c, "${steps.count.output[\"odd key\"]}", "x");
	RENDER_EQ(&c, "${steps.count.rows_affected}", "2");
	RENDER_EQ(&c, "${prev.rows_affected}", "2");
	RENDER_EQ(&c, "${prev.step}", "count");
	RENDER_EQ(&c, "${steps.count.output.rows[1]}", "{\"n\":2}");
	RENDER_EQ(&c, "cost $5 $$x $${params.region}", "cost $5 $x "
	    "${params.region}");
	RENDER_EQ(&c, "${params.dry_run}", "false");
	ctx_free();
}
END_TEST

START_TEST(render_keeps_type)
{
	struct nf_tmpl_ctx c = ctx();
	struct nf_val	*v;
	char		 err[256];

	v = nf_tmpl_render("${params.limit}", &c, err, sizeof(err));
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(v->type, NF_V_INT);
	ck_assert_int_eq(v->u.i, 42);
	nf_val_free(v);
	v = nf_tmpl_render(" ${params.limit}", &c, err, sizeof(err));
	ck_assert_int_eq(v->type, NF_V_STR);
	ck_assert_str_eq(v->u.s.p, " 42");
	nf_val_free(v);
	v = nf_tmpl_render("${steps.count.output.rows}", &c, err,
	    sizeof(err));
	ck_assert_int_eq(v->type, NF_V_ARR);
	nf_val_free(v);
	ctx_free();
}
END_TEST

START_TEST(render_errors)
{
	struct nf_tmpl_ctx c = ctx();

	RENDER_EQ(&c, "${params.nope}", "ERR: reference params.nope: no "
	    "parameter \"nope\" (give it in the job's params or with nfctl "
	    "run -p nope=VALUE)");
	RENDER_EQ(&c, "${steps.count.output.rows[7].n}", "ERR: reference "
	    "steps.count.output.rows[7].n: index [7] out of range (the array "
	    "has 2 elements)");
	RENDER_EQ(&c, "${steps.count.output.rows[0].x}", "ERR: reference "
	    "steps.count.output.rows[0].x: no key \"x\"");
	RENDER_EQ(&c, "${steps.load-it.output}", "ERR: reference "
	    "steps.load-it.output: step \"load-it\" has no output in this run "
	    "(it was skipped or disabled, or its type produces none)");
	RENDER_EQ(&c, "${params.region.x}", "ERR: reference params.region.x: "
	    "\"x\" is looked up in str, not a map");
	ctx_free();
}
END_TEST

START_TEST(dates)
{
	struct nf_tmpl_ctx c = ctx();

	RENDER_EQ(&c, "${today}", "2026-03-01");
	RENDER_EQ(&c, "${yesterday}", "2026-02-28");
	RENDER_EQ(&c, "${yesterday|%Y%m%d}", "20260228");
	RENDER_EQ(&c, "${month.first}", "2026-03-01");
	RENDER_EQ(&c, "${month.previous}", "2026-02-01");
	RENDER_EQ(&c, "${month.previous|%Y-%m}", "2026-02");
	RENDER_EQ(&c, "${week.monday}", "2026-02-23");
	c.base_y = 2024;
	c.base_m = 1;
	c.base_d = 1;	/* a Monday */
	RENDER_EQ(&c, "${yesterday}", "2023-12-31");
	RENDER_EQ(&c, "${month.previous}", "2023-12-01");
	RENDER_EQ(&c, "${week.monday}", "2024-01-01");
	RENDER_EQ(&c, "${today|%d/%m/%y %a}", "01/01/24 Mon");
	c.base_m = 3;	/* leap year */
	RENDER_EQ(&c, "${yesterday|%F}", "2024-02-29");
	ctx_free();
}
END_TEST

static const char *
check_err(const char *s, size_t self, size_t *pos)
{
	static char		 err[512];
	struct nf_tmpl_scope	 sc = scope(self);

	if (nf_tmpl_check(s, &sc, err, sizeof(err), pos) >= 0)
		return "OK";
	return err;
}

START_TEST(load_checks)
{
	size_t	pos;

	ck_assert_str_eq(check_err("${steps.count.output.x} ${params.a}", 1,
	    &pos), "OK");
	ck_assert_int_eq(nf_tmpl_check("a ${today} ${prev.output.x} $${x}",
	    &(struct nf_tmpl_scope){ steps, 4, 2, NULL }, (char[64]){0}, 64, &pos),
	    2);
	ck_assert_str_eq(check_err("x ${steps.nope.output}", 2, &pos),
	    "steps.nope.output: this job has no step \"nope\" (earlier steps: "
	    "count, load-it)");
	ck_assert_uint_eq(pos, 4);
	ck_assert_str_eq(check_err("${steps.report.output}", 1, &pos),
	    "steps.report.output: step \"report\" runs after this one; only "
	    "outputs of earlier steps can be used");
	ck_assert_str_eq(check_err("${steps.count.output}", 0, &pos),
	    "steps.count.output: a step cannot use its own output");
	ck_assert_str_eq(check_err("${steps.count}", 1, &pos),
	    "steps.count: write steps.count.output[.PATH] or "
	    "steps.count.rows_affected");
	ck_assert_str_eq(check_err("${prev.rows_affected}", 0, &pos),
	    "prev.rows_affected: the first step has no previous step");
	ck_assert_str_eq(check_err("${tomorrow}", 1, &pos),
	    "unknown reference \"tomorrow\" (known: params, job, run, steps, "
	    "prev, secret, today, yesterday, month.first, month.previous, "
	    "week.monday)");
	ck_assert_uint_eq(pos, 2);
	ck_assert_str_eq(check_err("${month.last}", 1, &pos),
	    "unknown date helper \"month.last\" (known: today, yesterday, "
	    "month.first, month.previous, week.monday)");
	ck_assert_str_eq(check_err("${today|%H:%M}", 1, &pos),
	    "date format \"%H:%M\": %H is not allowed (allowed: %Y %y %C %m "
	    "%d %e %j %a %A %b %B %h %u %w %U %W %V %G %g %F %%)");
	ck_assert_uint_eq(pos, 8);
	ck_assert_str_eq(check_err("${job.name}", 1, &pos),
	    "job.name: the job has only job.id");
	ck_assert_str_eq(check_err("${run.id", 1, &pos),
	    "unterminated \"${\": missing \"}\" (write \"$${\" for a literal "
	    "\"${\")");
	ck_assert_str_eq(check_err("${params.a|%Y}", 1, &pos),
	    "unexpected \"|\" in reference \"${params.a|%Y}\"");
	ck_assert_str_eq(check_err("${params.x[abc]}", 1, &pos),
	    "expected an array index [N] or a quoted key [\"key\"] after '['");
	ck_assert_str_eq(check_err("${}", 1, &pos), "expected a reference "
	    "such as params.NAME, steps.NAME.output or today");
	ck_assert_str_eq(check_err("${today[0]}", 1, &pos), "date helper "
	    "\"today\" is a date, not an array");
	ck_assert_str_eq(check_err("${steps[\"load-it\"].output.x}", 2,
	    &pos), "OK");
}
END_TEST

START_TEST(redaction)
{
	char	*secrets[] = { "s3cr3t", "tok", "" };
	char	*r;
	struct nf_val *v;

	r = nf_tmpl_redact("Bearer s3cr3t and tok and s3cr3ts3cr3t",
	    secrets, 3);
	ck_assert_str_eq(r, "Bearer *** and *** and ******");
	free(r);
	ck_assert_ptr_null(nf_tmpl_redact("nothing here", secrets, 3));
	ck_assert_ptr_null(nf_tmpl_redact("s3cr3t", secrets, 0));
	v = nf_val_map();
	nf_val_map_set_str(v, "a", "x-s3cr3t-y");
	nf_val_map_set(v, "b", nf_val_arr());
	nf_val_arr_push((struct nf_val *)nf_val_get(v, "b"),
	    nf_val_str("tok"));
	nf_tmpl_redact_val(v, secrets, 3);
	ck_assert_str_eq(nf_val_get_str(v, "a"), "x-***-y");
	ck_assert_str_eq(nf_val_get(v, "b")->u.a.items[0]->u.s.p, "***");
	nf_val_free(v);
}
END_TEST

START_TEST(render_val_tree)
{
	struct nf_tmpl_ctx c = ctx();
	struct nf_val	*spec, *out;
	char		 err[256];

	spec = nf_val_map();
	nf_val_map_set_str(spec, "sql", "select ${params.limit}");
	nf_val_map_set(spec, "params", nf_val_map());
	nf_val_map_set_str((struct nf_val *)nf_val_get(spec, "params"), "n",
	    "${params.limit}");
	nf_val_map_set_int(spec, "max_rows", 5);
	out = nf_tmpl_render_val(spec, &c, err, sizeof(err));
	ck_assert_ptr_nonnull(out);
	ck_assert_str_eq(nf_val_get_str(out, "sql"), "select 42");
	ck_assert_int_eq(nf_val_get(nf_val_get(out, "params"), "n")->type,
	    NF_V_INT);
	nf_val_free(out);
	nf_val_map_set_str(spec, "sql", "${params.missing}");
	ck_assert_ptr_null(nf_tmpl_render_val(spec, &c, err, sizeof(err)));
	nf_val_free(spec);
	ctx_free();
}
END_TEST

/* ${secret.NAME}: the context's callback opens it; counted per call. */
static int	secret_calls;

static struct nf_val *
secret_cb(void *arg, const char *name, char *err, size_t errlen)
{
	secret_calls++;
	if (strcmp(name, "db-pw") == 0)
		return nf_val_str("hunter2");
	snprintf(err, errlen, "no secret \"%s\" (%s)", name, (char *)arg);
	return NULL;
}

static int
known(const char *name)
{
	return strcmp(name, "db-pw") == 0;
}

START_TEST(secrets)
{
	struct nf_tmpl_ctx	 c = ctx();
	struct nf_tmpl_scope	 sc = scope(1);
	struct nf_tmpl_ref	*r;
	char			 err[256], *t;
	size_t			 pos, len;

	/* Load: syntax always, existence when the scope can tell. */
	ck_assert_int_eq(nf_tmpl_check("pw=${secret.db-pw}", &sc, err,
	    sizeof(err), &pos), 1);
	ck_assert_int_eq(nf_tmpl_check("${secret.nope}", &sc, err,
	    sizeof(err), &pos), 1);
	sc.secret_known = known;
	ck_assert_int_eq(nf_tmpl_check("${secret.nope}", &sc, err,
	    sizeof(err), &pos), -1);
	ck_assert_str_eq(err, "secret.nope: no secret \"nope\" (set it with "
	    "nfctl secret set nope; nfctl secret list shows them)");
	ck_assert_uint_eq(pos, 2);
	ck_assert_int_eq(nf_tmpl_check("${secret}", &sc, err, sizeof(err),
	    &pos), -1);
	ck_assert_str_eq(err, "secret: name a secret (secret.NAME)");
	ck_assert_int_eq(nf_tmpl_check("${secret.a.b}", &sc, err,
	    sizeof(err), &pos), -1);
	/* Never in a condition. */
	r = nf_tmpl_ref_parse("secret.db", 9, 1, &len, err, sizeof(err),
	    &pos);
	ck_assert_ptr_null(r);
	ck_assert_str_eq(err, "secret values cannot be used in conditions "
	    "(when); only in step fields");
	/* Run time: no callback, no secret. */
	RENDER_EQ(&c, "${secret.db-pw}", "ERR: reference secret.db-pw: "
	    "secrets cannot be used here");
	c.secret = secret_cb;
	c.secret_arg = "ctx";
	RENDER_EQ(&c, "user=x password=${secret.db-pw}",
	    "user=x password=hunter2");
	RENDER_EQ(&c, "${secret.gone}", "ERR: no secret \"gone\" (ctx)");
	/* Only secret references in a conninfo; "$" and "${" stay. */
	secret_calls = 0;
	t = nf_tmpl_render_secrets("host=h password=${secret.db-pw} x=$y",
	    &c, err, sizeof(err));
	ck_assert_str_eq(t, "host=h password=hunter2 x=$y");
	free(t);
	ck_assert_int_eq(secret_calls, 1);
	t = nf_tmpl_render_secrets("p=${secret.gone}", &c, err, sizeof(err));
	ck_assert_ptr_null(t);
	ck_assert_str_eq(err, "no secret \"gone\" (ctx)");
	t = nf_tmpl_render_secrets("p=${secret.db-pw", &c, err, sizeof(err));
	ck_assert_ptr_null(t);
	ctx_free();
}
END_TEST

static Suite *
template_suite(void)
{
	Suite	*s = suite_create("template");
	TCase	*tc = tcase_create("template");

	tcase_add_test(tc, render_basic);
	tcase_add_test(tc, render_keeps_type);
	tcase_add_test(tc, render_errors);
	tcase_add_test(tc, dates);
	tcase_add_test(tc, load_checks);
	tcase_add_test(tc, redaction);
	tcase_add_test(tc, render_val_tree);
	tcase_add_test(tc, secrets);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(template_suite)
