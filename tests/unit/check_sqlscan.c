/*
 * check_sqlscan.c: the SQL text scanner of the worker's driver layer
 * (worker/db_params.c): statement ends and :name -> $n rewriting, never
 * inside strings, identifiers, comments or dollar quotes.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "nf_check.h"
#include "util.h"

/* Scan sql; check the rewritten text, the names and the tail. */
static void
scan(const char *sql, const char *want, const char *wnames,
    const char *wtail, int wblank)
{
	struct nf_buf	 out, nb;
	char		**names;
	size_t		 n, i, len;
	int		 blank;

	nf_buf_init(&out);
	nf_buf_init(&nb);
	len = nf_db_scan(sql, &out, &names, &n, &blank);
	for (i = 0; i < n; i++)
		nf_buf_printf(&nb, "%s%s", i > 0 ? "," : "", names[i]);
	ck_assert_str_eq(out.data, want);
	ck_assert_str_eq(nb.data != NULL ? nb.data : "", wnames);
	ck_assert_str_eq(sql + len, wtail);
	ck_assert_int_eq(blank, wblank);
	nf_db_names_free(names, n);
	nf_buf_free(&out);
	nf_buf_free(&nb);
}

START_TEST(params)
{
	scan("SELECT :a, :b, :a", "SELECT $1, $2, $1", "a,b", "", 0);
	scan("SELECT :x::int, a::text", "SELECT $1::int, a::text", "x", "",
	    0);
	scan("SELECT ':a', \":b\", E'\\':c', 'it''s :d'",
	    "SELECT ':a', \":b\", E'\\':c', 'it''s :d'", "", "", 0);
	scan("SELECT $$ :a; $$, $t$ :b $t$, $1", "SELECT $$ :a; $$, "
	    "$t$ :b $t$, $1", "", "", 0);
	scan("SELECT 1 -- :a;\n, /* :b; /* nested */ :c */ :d",
	    "SELECT 1 -- :a;\n, /* :b; /* nested */ :c */ $1", "d", "", 0);
	scan("SELECT arr[1:2], :é1", "SELECT arr[1:2], $1", "é1", "", 0);
}
END_TEST

START_TEST(statements)
{
	scan("INSERT INTO t VALUES (:v); SELECT :w", "INSERT INTO t VALUES "
	    "($1)", "v", " SELECT :w", 0);
	scan("  -- only a comment\n", "  -- only a comment\n", "", "", 1);
	scan(" ; SELECT 1", " ", "", " SELECT 1", 1);
	scan("SELECT ';' ; x", "SELECT ';' ", "", " x", 0);
	/* Unterminated quotes run to the end; the server reports them. */
	scan("SELECT 'abc; :x", "SELECT 'abc; :x", "", "", 0);
}
END_TEST

static Suite *
sqlscan_suite(void)
{
	Suite	*s = suite_create("sqlscan");
	TCase	*tc = tcase_create("sqlscan");

	tcase_add_test(tc, params);
	tcase_add_test(tc, statements);
	suite_add_tcase(s, tc);
	return s;
}

NF_CHECK_MAIN(sqlscan_suite)
