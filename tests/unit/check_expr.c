/*
 * check_expr.c: the `when` condition language (supervisor/expr.c): precedence,
 * operators, short-circuit, static type errors with positions, run-time
 * errors, limits.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "json.h"
#include "nf_check.h"
#include "template.h"
#include "util.h"
#include "val.h"

static const char *const steps[] = { "count", "check", "clean" };
static struct nf_val *params, *outputs, *rows, *prev;

static struct nf_tmpl_ctx
ctx(void)
{
	static const char	 json[] = "{\"rows\":[{\"n\":1500}],"
	    "\"tags\":[\"a\",\"b\"],\"name\":\"nightly load\"}";
	struct nf_tmpl_ctx	 c;
	char			 err[128];

	params = nf_val_map();
	nf_val_map_set_bool(params, "dry_run", 0);
	nf_val_map_set_int(params, "limit", 1000);
	nf_val_map_set_str(params, "env", "prod");
	outputs = nf_val_map();
	nf_val_map_set(outputs, "count", nf_json_read(json, strlen(json),
	    err, sizeof(err)));
	rows = nf_val_map();
	nf_val_map_set_int(rows, "count", 1);
	prev = nf_val_map();
	nf_val_map_set_str(prev, "step", "count");
	nf_val_map_set_int(prev, "rows_affected", 1);
	memset(&c, 0, sizeof(c));
	c.job_id = "j";
	c.run_id = 5;
	c.base_y = 2026;
	c.base_m = 11;
	c.base_d = 29;
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

/* "true", "false", "ERR: ..." or "PARSE@pos: ..." */
static char *
run(const char *s)
{
	struct nf_tmpl_scope	 sc = { steps, 3, 1, NULL };
	struct nf_tmpl_ctx	 c = ctx();
	struct nf_expr		*e;
	char			 err[512], *r;
	size_t			 pos;
	int			 b;

	if ((e = nf_expr_parse(s, strlen(s), &sc, err, sizeof(err),
	    &pos)) == NULL) {
		ctx_free();
		return nf_xprintf("PARSE@%zu: %s", pos, err);
	}
	ck_assert_str_eq(nf_expr_text(e), s);
	b = nf_expr_eval_bool(e, &c, err, sizeof(err));
	r = b == -1 ? nf_xprintf("ERR: %s", err) : nf_xstrdup(b ? "true" :
	    "false");
	nf_expr_free(e);
	ctx_free();
	return r;
}

#define EXPR_EQ(in, want) do {						\
	char *got_ = run(in);						\
	ck_assert_str_eq(got_, want);					\
	free(got_);							\
} while (0)

START_TEST(basics)
{
	EXPR_EQ("true", "true");
	EXPR_EQ("not true", "false");
	EXPR_EQ("steps.count.output.rows[0].n > 1000 and not params.dry_run",
	    "true");
	EXPR_EQ("steps.count.output.rows[0].n > params.limit * 2", "false");
	EXPR_EQ("1 + 2 * 3 == 7", "true");
	EXPR_EQ("(1 + 2) * 3 == 9", "true");
	EXPR_EQ("7 % 3 == 1 and 7 / 2 == 3.5 and -2 - -3 == 1", "true");
	EXPR_EQ("1 == 1.0", "true");
	EXPR_EQ("'a' < 'b' and \"b\" >= 'b'", "true");
	EXPR_EQ("params.env in ['prod', 'staging']", "true");
	EXPR_EQ("params.env not in ['prod']", "false");
	EXPR_EQ("'load' in steps.count.output.name", "true");
	EXPR_EQ("'b' in steps.count.output.tags", "true");
	EXPR_EQ("null == null and params.env != null", "true");
	EXPR_EQ("false or 2 > 1 and 1 > 2", "false");
	EXPR_EQ("not not true", "true");
	EXPR_EQ("prev.rows_affected == 1 and prev.step == 'count'", "true");
	EXPR_EQ("steps.count.rows_affected >= 1", "true");
	EXPR_EQ("today == '2026-11-29' and yesterday < today", "true");
	EXPR_EQ("run.id == 5 and job.id == 'j'", "true");
	EXPR_EQ("1.5e3 == 1500", "true");
	EXPR_EQ("'it\\'s' == \"it's\"", "true");
	EXPR_EQ("steps.count.output[\"rows\"][0].n == 1500", "true");
}
END_TEST

START_TEST(short_circuit)
{
	/* The right side would fail: it is never evaluated. */
	EXPR_EQ("false and params.missing", "false");
	EXPR_EQ("true or params.missing", "true");
	EXPR_EQ("true and params.missing", "ERR: reference params.missing: "
	    "no parameter \"missing\" (give it in the job's params or with "
	    "nfctl run -p missing=VALUE)");
}
END_TEST

START_TEST(runtime_errors)
{
	EXPR_EQ("params.env > 3", "ERR: \">\" compares two numbers or two "
	    "strings, got a string and an integer");
	EXPR_EQ("params.limit / 0 > 1", "ERR: division by zero");
	EXPR_EQ("params.limit % 0 > 1", "ERR: modulo by zero");
	EXPR_EQ("params.env", "ERR: the condition gave a string, not true or "
	    "false");
	EXPR_EQ("not params.env", "ERR: \"not\" needs true or false, got a "
	    "string");
	EXPR_EQ("9223372036854775807 + params.limit > 0", "ERR: integer "
	    "overflow in \"+\"");
	EXPR_EQ("steps.count.output.rows[3].n > 0", "ERR: reference "
	    "steps.count.output.rows[3].n: index [3] out of range (the array "
	    "has 1 element)");
	EXPR_EQ("1 in params.env", "ERR: \"in\" a string looks for a string, "
	    "got an integer");
}
END_TEST

START_TEST(parse_errors)
{
	EXPR_EQ("1 + 'a' > 0", "PARSE@4: \"+\" works on numbers; this is a "
	    "string");
	EXPR_EQ("true and 3", "PARSE@9: \"and\" needs true or false; this is "
	    "an integer");
	EXPR_EQ("1 + 2", "PARSE@0: a condition must be true or false; this "
	    "expression is an integer");
	EXPR_EQ("steps.clean.output.x > 1", "PARSE@0: steps.clean.output.x: "
	    "step \"clean\" runs after this one; only outputs of earlier steps "
	    "can be used");
	EXPR_EQ("steps.nope.output > 1", "PARSE@0: steps.nope.output: this "
	    "job has no step \"nope\" (earlier steps: count)");
	EXPR_EQ("params.x = 1", "PARSE@9: unexpected \"=\" (compare with "
	    "\"==\")");
	EXPR_EQ("params.x && true", "PARSE@9: unexpected \"&\" (write and, "
	    "or, not)");
	EXPR_EQ("(1 > 2", "PARSE@6: expected \")\" to close the \"(\" at "
	    "offset 1");
	EXPR_EQ("1 < 2 < 3", "PARSE@6: comparisons do not chain: use \"a < b "
	    "and b < c\"");
	EXPR_EQ("'abc", "PARSE@0: unterminated string: missing closing '");
	EXPR_EQ("1 in 2", "PARSE@5: \"in\" needs a list or a string on its "
	    "right; this is an integer");
	EXPR_EQ("", "PARSE@0: expression ends where a value was expected");
	EXPR_EQ("true true", "PARSE@5: unexpected \"true\" after a complete "
	    "expression");
	EXPR_EQ("foo > 1", "PARSE@0: unknown reference \"foo\" (known: "
	    "params, job, run, steps, prev, today, yesterday, month.first, "
	    "month.previous, week.monday)");
	EXPR_EQ("'a' < 1", "PARSE@6: \"<\" compares two numbers or two "
	    "strings, not a string and an integer");
	EXPR_EQ("99999999999999999999 > 1", "PARSE@0: integer "
	    "99999999999999999999 out of range");
	EXPR_EQ("x not 1", "PARSE@0: unknown reference \"x\" (known: params, "
	    "job, run, steps, prev, today, yesterday, month.first, "
	    "month.previous, week.monday)");
	EXPR_EQ("params.a not 1", "PARSE@13: expected \"in\" after \"not\" "
	    "here (\"x not in [...]\")");
}
END_TEST

START_TEST(limits)
{
	struct nf_buf	 b;
	struct nf_expr	*e;
	char		 err[256];
	size_t		 pos;
	int		 i;

	nf_buf_init(&b);
	for (i = 0; i < 200; i++)
		nf_buf_adds(&b, "(");
	nf_buf_adds(&b, "true");
	for (i = 0; i < 200; i++)
		nf_buf_adds(&b, ")");
	e = nf_expr_parse(b.data, b.len, NULL, err, sizeof(err), &pos);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(err, "expression nested too deeply (more than 64 "
	    "levels)");
	nf_buf_reset(&b);
	for (i = 0; i < 200; i++)
		nf_buf_adds(&b, "not ");
	nf_buf_adds(&b, "true");
	ck_assert_ptr_null(nf_expr_parse(b.data, b.len, NULL, err,
	    sizeof(err), &pos));
	nf_buf_reset(&b);
	for (i = 0; i < 1000; i++)
		nf_buf_adds(&b, "1+");
	nf_buf_adds(&b, "1>0");
	e = nf_expr_parse(b.data, b.len, NULL, err, sizeof(err), &pos);
	ck_assert_ptr_nonnull(e);
	nf_expr_free(e);
	nf_buf_free(&b);
}
END_TEST

static Suite *
expr_suite(void)
{
	Suite	*s = suite_create("expr");
	TCase	*tc = tcase_create("expr");

	tcase_add_test(tc, basics);
	tcase_add_test(tc, short_circuit);
	tcase_add_test(tc, runtime_errors);
	tcase_add_test(tc, parse_errors);
	tcase_add_test(tc, limits);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(expr_suite)
