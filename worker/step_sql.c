/*
 * step_sql.c: the "sql_query" step, on SQLite and PostgreSQL pools alike,
 * through the driver layer (db.h).
 *
 * Runs in nomaflow-worker.  prepare, unsandboxed, connects to the pool
 * (step_start "pool": {name, driver, path|conninfo, queries}); run,
 * sandboxed under the "sql" policy, executes the SQL in one transaction.
 *
 * The SQL comes from spec.sql, or from spec.query naming one of the pool's
 * queries.  One statement, or with spec.script = true every statement of
 * the text, in order, in that one transaction.  Parameters :name (SQLite
 * also @name and $name) are bound by the driver from spec.params first,
 * then from the run's params (nomaflowd merged job params under run
 * params): never interpolated into the text.
 *
 * spec.dry_run = true, or the run param dry_run = true, executes
 * everything inside the transaction, reports what would change and rolls
 * back: a real dry run.
 *
 * SIGTERM (step timeout, nfctl cancel) interrupts the statement on the
 * server (PostgreSQL: a cancel request; SQLite: sqlite3_interrupt) and
 * the step logs that it did; if the statement does not stop within the
 * grace period nomaflowd kills the worker, and the server rolls back.
 *
 * Output: {columns, rows:[{column:value}], row_count (rows returned, of
 * the last statement that returned rows), rows_affected (all statements),
 * statements, truncated, dry_run}.  At most max_rows rows (spec.max_rows,
 * capped by step_start's max_rows; 100 by default) and at most what fits
 * in one OUTPUT frame.
 *
 * Invariants: the transaction commits only after every statement ran to
 * completion; OUTPUT and RESULT are sent after the commit (or the dry
 * run's rollback), so they describe what happened; on any failure the
 * transaction is rolled back.
 */
#include "autoconf.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "proto.h"
#include "step.h"
#include "util.h"
#include "val.h"

#define SQL_DEFAULT_MAX_ROWS	100
/* Rows stop before the OUTPUT frame could reach the channel's limit. */
#define SQL_OUTPUT_BUDGET	(NF_MAX_FROM_WORKER - (256u << 10))

struct sql_state {
	struct nf_step_ctx	*ctx;
	struct nf_db		*db;
	const char		*pool;	/* pool name */
	const char		*sql;
	char			*origin; /* "spec.sql" or "query NAME ..." */
	int64_t			 max_rows;
	int			 script;
	int			 dry_run;
	/* the statement being collected */
	struct nf_val		*cols;
	struct nf_val		*rows;
	size_t			 size;
	int			 truncated;
	int			 warned;
};

/* Set by the SIGTERM handler; the connection it interrupts. */
static volatile sig_atomic_t	 sql_term;
static struct nf_db		*sql_term_db, *sql_term_db2;

static void
sql_on_term(int sig)
{
	(void)sig;
	sql_term = 1;
	if (sql_term_db != NULL)
		(void)nf_db_interrupt(sql_term_db);
	if (sql_term_db2 != NULL)
		(void)nf_db_interrupt(sql_term_db2);
}

int
nf_step_sql_catch_term(struct nf_db *db, struct nf_db *db2)
{
	struct sigaction	sa;

	sql_term_db = db;
	sql_term_db2 = db2;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sql_on_term;
	sigemptyset(&sa.sa_mask);
	return sigaction(SIGTERM, &sa, NULL);
}

int
nf_step_sql_termed(void)
{
	return sql_term != 0;
}

/* 1-based line and column of byte offset off in s. */
static void
sql_linecol(const char *s, size_t off, int *line, int *col)
{
	size_t	i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && s[i] != '\0'; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)s[i] & 0xc0) != 0x80)
			(*col)++;
	}
}

/* Byte offset of the pos-th (1-based) character of s. */
static size_t
sql_char_off(const char *s, int pos)
{
	size_t	i;
	int	n = 0;

	for (i = 0; s[i] != '\0'; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && ++n == pos)
			return i;
	}
	return i;
}

int
nf_step_db_fail(struct nf_step_ctx *ctx, struct nf_db *db,
    const char *pool, const char *what, const struct nf_db_err *err,
    const char *text, const char *origin)
{
	char	where[256];
	int	line, col;

	where[0] = '\0';
	if (err->pos > 0 && text != NULL) {
		sql_linecol(text, sql_char_off(text, err->pos), &line, &col);
		snprintf(where, sizeof(where), " at line %d, col %d of %s",
		    line, col, origin);
	} else if (origin != NULL)
		snprintf(where, sizeof(where), " in %s", origin);
	if (err->canceled && sql_term)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step %s: "
		    "SIGTERM (timeout or cancel): the statement was stopped on "
		    "the server by a cancel request and rolled back",
		    ctx->job_id, ctx->step);
	return nf_step_fail(ctx, err->canceled && sql_term ? "canceled" :
	    "error", "job %s step %s: pool %s (%s): %s: %s%s%s%s%s%s%s",
	    ctx->job_id, ctx->step, pool, db != NULL ? nf_db_where(db) : "?",
	    what, err->msg, err->code[0] != '\0' ? " [" : "", err->code,
	    err->code[0] != '\0' ? "]" : "", where,
	    err->detail[0] != '\0' ? ": " : "", err->detail);
}

/* Resolve the SQL text and the options from step_start. */
static int
sql_resolve(struct nf_step_ctx *ctx, struct sql_state *st)
{
	const struct nf_val	*queries, *q;
	const char		*name;
	struct nf_buf		 b;
	int64_t			 n;
	size_t			 i;
	int			 bv;

	if (ctx->pool == NULL)
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "step_start carries no pool definition (nomaflowd must "
		    "send the pool named by spec.pool)", ctx->job_id,
		    ctx->step);
	st->pool = nf_val_get_str(ctx->pool, "name");
	if (st->pool == NULL)
		st->pool = nf_val_get_str(ctx->spec, "pool");
	if (st->pool == NULL)
		st->pool = "?";

	st->sql = nf_val_get_str(ctx->spec, "sql");
	name = nf_val_get_str(ctx->spec, "query");
	if (st->sql != NULL && name != NULL)
		return nf_step_fail(ctx, "error", "job %s step %s: set "
		    "either spec.sql or spec.query, not both", ctx->job_id,
		    ctx->step);
	if (st->sql != NULL)
		st->origin = nf_xstrdup("spec.sql");
	else if (name != NULL) {
		queries = nf_val_get(ctx->pool, "queries");
		q = queries != NULL && queries->type == NF_V_MAP ?
		    nf_val_get(queries, name) : NULL;
		if (q == NULL || q->type != NF_V_STR) {
			nf_buf_init(&b);
			for (i = 0; queries != NULL && queries->type ==
			    NF_V_MAP && i < queries->u.m.n; i++)
				nf_buf_printf(&b, "%s%s", i > 0 ? ", " : "",
				    queries->u.m.kv[i].key);
			nf_step_fail(ctx, "error", "job %s step %s: pool %s "
			    "has no query \"%s\" (its queries: %s)",
			    ctx->job_id, ctx->step, st->pool, name,
			    b.len > 0 ? b.data : "none");
			nf_buf_free(&b);
			return -1;
		}
		st->sql = q->u.s.p;
		st->origin = nf_xprintf("query %s of pool %s", name,
		    st->pool);
	} else
		return nf_step_fail(ctx, "error", "job %s step %s: "
		    "sql_query needs spec.sql or spec.query", ctx->job_id,
		    ctx->step);

	st->max_rows = SQL_DEFAULT_MAX_ROWS;
	if (nf_val_get_int(ctx->spec, "max_rows", &n)) {
		if (n < 0)
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "spec.max_rows must be >= 0, not %lld",
			    ctx->job_id, ctx->step, (long long)n);
		st->max_rows = n;
	}
	if (ctx->max_rows >= 0 && ctx->max_rows < st->max_rows)
		st->max_rows = ctx->max_rows;
	if (nf_val_get_bool(ctx->spec, "script", &bv))
		st->script = bv;
	st->dry_run = nf_step_dry_run(ctx);
	return 0;
}

int
nf_step_dry_run(struct nf_step_ctx *ctx)
{
	const struct nf_val	*v;
	int			 b;

	if (nf_val_get_bool(ctx->spec, "dry_run", &b) && b)
		return 1;
	v = nf_val_get(ctx->params, "dry_run");
	if (v == NULL)
		return 0;
	if (v->type == NF_V_BOOL)
		return v->u.b;
	if (v->type == NF_V_INT)
		return v->u.i != 0;
	if (v->type == NF_V_STR)
		return strcmp(v->u.s.p, "true") == 0 ||
		    strcmp(v->u.s.p, "1") == 0 || strcmp(v->u.s.p, "yes") == 0;
	return 0;
}

static int
sql_prepare(struct nf_step_ctx *ctx)
{
	struct sql_state	*st;
	struct nf_db_err	 err;

	st = nf_xcalloc(1, sizeof(*st));
	st->ctx = ctx;
	ctx->data = st;
	if (sql_resolve(ctx, st) == -1)
		return -1;
	if ((st->db = nf_db_open(ctx->pool, &err)) == NULL)
		return nf_step_db_fail(ctx, NULL, st->pool, "cannot open the "
		    "pool", &err, NULL, NULL);
	return 0;
}

/* The value of parameter key, from spec.params then the run's params. */
static const struct nf_val *
sql_param(void *arg, const char *key)
{
	struct nf_step_ctx	*ctx = ((struct sql_state *)arg)->ctx;
	const struct nf_val	*p, *v;

	p = nf_val_get(ctx->spec, "params");
	if (p != NULL && p->type == NF_V_MAP &&
	    (v = nf_val_get(p, key)) != NULL)
		return v;
	return nf_val_get(ctx->params, key);
}

/* "a, b, c": every name a parameter could be bound from. */
static void
sql_param_names(struct nf_step_ctx *ctx, struct nf_buf *b)
{
	const struct nf_val	*p;
	size_t			 i;

	p = nf_val_get(ctx->spec, "params");
	if (p != NULL && p->type == NF_V_MAP)
		for (i = 0; i < p->u.m.n; i++)
			nf_buf_printf(b, "%s%s", b->len > 0 ? ", " : "",
			    p->u.m.kv[i].key);
	for (i = 0; i < ctx->params->u.m.n; i++) {
		if (p != NULL && p->type == NF_V_MAP &&
		    nf_val_get(p, ctx->params->u.m.kv[i].key) != NULL)
			continue;
		nf_buf_printf(b, "%s%s", b->len > 0 ? ", " : "",
		    ctx->params->u.m.kv[i].key);
	}
}

/* Column names, made unique so that each can key a row map. */
static void
sql_columns(void *arg, const char *const *names, int ncol)
{
	struct sql_state	*st = arg;
	struct nf_val		*cols;
	char			*alt;
	struct nf_buf		 b;
	size_t			 j;
	int			 i, k, dup;

	nf_val_free(st->cols);
	nf_val_free(st->rows);
	st->rows = NULL;
	st->size = 0;
	st->truncated = 0;
	cols = nf_val_arr();
	for (i = 0; i < ncol; i++) {
		for (k = 1; ; k++) {
			nf_buf_init(&b);
			nf_step_utf8_sanitize(&b, names[i], strlen(names[i]));
			if (k > 1)
				nf_buf_printf(&b, ":%d", k);
			alt = nf_buf_steal(&b);
			dup = 0;
			for (j = 0; j < cols->u.a.n; j++)
				if (strcmp(cols->u.a.items[j]->u.s.p,
				    alt) == 0)
					dup = 1;
			if (!dup)
				break;
			free(alt);
		}
		nf_val_arr_push(cols, nf_val_str(alt));
		free(alt);
	}
	st->cols = cols;
	st->rows = nf_val_arr();
}

static size_t
sql_weight(const struct nf_val *v)
{
	switch (v->type) {
	case NF_V_STR:
	case NF_V_BIN:
		return v->u.s.len + 5;
	case NF_V_NIL:
	case NF_V_BOOL:
		return 1;
	default:
		return 9;
	}
}

static int
sql_row(void *arg, struct nf_val **vals, int n)
{
	struct sql_state	*st = arg;
	struct nf_val		*row;
	size_t			 rowsize = 0;
	int			 i;

	if ((int64_t)st->rows->u.a.n >= st->max_rows) {
		for (i = 0; i < n; i++)
			nf_val_free(vals[i]);
		st->truncated = 1;
		return 1;
	}
	row = nf_val_map();
	for (i = 0; i < n; i++) {
		rowsize += st->cols->u.a.items[i]->u.s.len + 2 +
		    sql_weight(vals[i]);
		nf_val_map_set(row, st->cols->u.a.items[i]->u.s.p, vals[i]);
	}
	if (st->size + rowsize > SQL_OUTPUT_BUDGET) {
		nf_val_free(row);
		st->truncated = 1;
		if (!st->warned)
			nf_step_log(st->ctx, "worker", NF_LOG_WARN, "job %s "
			    "step %s: output stops after %zu rows: the next "
			    "row would exceed the %u-byte output limit",
			    st->ctx->job_id, st->ctx->step, st->rows->u.a.n,
			    SQL_OUTPUT_BUDGET);
		st->warned = 1;
		return 1;
	}
	st->size += rowsize;
	nf_val_arr_push(st->rows, row);
	return 0;
}

static int
sql_run(struct nf_step_ctx *ctx)
{
	struct sql_state	*st = ctx->data;
	struct nf_db_sink	 sink;
	struct nf_db_err	 err;
	struct nf_val		*out, *res, *lastcols = NULL, *lastrows = NULL;
	struct nf_buf		 b;
	const char		*p, *tail;
	int64_t			 returned, affected, total = 0, lastn = 0;
	int64_t			 nstmt = 0;
	int			 empty, lasttrunc = 0;

	if (nf_step_sql_catch_term(st->db, NULL) == -1)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "cannot catch SIGTERM: "
		    "%s; a timeout will kill the worker without a cancel "
		    "request", strerror(errno));
	memset(&sink, 0, sizeof(sink));
	sink.arg = st;
	sink.columns = sql_columns;
	sink.row = sql_row;
	sink.param = sql_param;

	if (nf_db_exec(st->db, nf_db_driver(st->db) == NF_DB_SQLITE ?
	    "BEGIN IMMEDIATE" : "BEGIN", &err) == -1)
		return nf_step_db_fail(ctx, st->db, st->pool, "cannot begin a "
		    "transaction", &err, NULL, NULL);
	for (p = st->sql; *p != '\0'; p = tail) {
		if (nstmt > 0 && !st->script) {
			(void)nf_db_exec(st->db, "ROLLBACK", &err);
			return nf_step_fail(ctx, "error", "job %s step %s: %s: "
			    "sql_query runs one statement; found a second one "
			    "at offset %zu (set script = true to run several "
			    "in one transaction)", ctx->job_id, ctx->step,
			    st->origin, (size_t)(p - st->sql));
		}
		if (nf_db_query(st->db, p, &tail, &sink, &returned,
		    &affected, &empty, &err) == -1) {
			if (err.pos == -1) {
				(void)nf_db_exec(st->db, "ROLLBACK", &(struct
				    nf_db_err){ 0 });
				nf_buf_init(&b);
				sql_param_names(ctx, &b);
				nf_step_fail(ctx, "error", "job %s step %s: %s: "
				    "%s (params: %s)", ctx->job_id, ctx->step,
				    st->origin, err.msg, b.len > 0 ? b.data :
				    "none");
				nf_buf_free(&b);
				return -1;
			}
			(void)nf_db_exec(st->db, "ROLLBACK", &(struct
			    nf_db_err){ 0 });
			return nf_step_db_fail(ctx, st->db, st->pool,
			    nstmt > 0 ? "a statement of the script failed" :
			    "the statement failed", &err, p, st->origin);
		}
		if (tail == p)
			break;
		if (empty)
			continue;
		nstmt++;
		total += affected;
		if (st->cols != NULL && st->cols->u.a.n > 0) {
			nf_val_free(lastcols);
			nf_val_free(lastrows);
			lastcols = st->cols;
			lastrows = st->rows;
			lastn = returned;
			lasttrunc = st->truncated;
		} else {
			nf_val_free(st->cols);
			nf_val_free(st->rows);
		}
		st->cols = st->rows = NULL;
	}
	if (nstmt == 0) {
		(void)nf_db_exec(st->db, "ROLLBACK", &err);
		return nf_step_fail(ctx, "error", "job %s step %s: %s is "
		    "empty (only blanks or comments)", ctx->job_id,
		    ctx->step, st->origin);
	}

	out = nf_val_map();
	nf_val_map_set(out, "columns", lastcols != NULL ? lastcols :
	    nf_val_arr());
	nf_val_map_set(out, "rows", lastrows != NULL ? lastrows :
	    nf_val_arr());
	nf_val_map_set_int(out, "row_count", lastn);
	nf_val_map_set_int(out, "rows_affected", total);
	nf_val_map_set_int(out, "statements", nstmt);
	nf_val_map_set_bool(out, "truncated", lasttrunc);
	nf_val_map_set_bool(out, "dry_run", st->dry_run);
	if (st->dry_run) {
		if (nf_db_exec(st->db, "ROLLBACK", &err) == -1) {
			nf_val_free(out);
			return nf_step_db_fail(ctx, st->db, st->pool, "cannot "
			    "roll the dry run back", &err, NULL, NULL);
		}
		nf_step_log(ctx, "worker", NF_LOG_INFO, "dry run: %lld "
		    "statement(s) would change %lld row(s); rolled back, "
		    "nothing was changed", (long long)nstmt,
		    (long long)total);
	} else if (nf_db_exec(st->db, "COMMIT", &err) == -1) {
		nf_val_free(out);
		return nf_step_db_fail(ctx, st->db, st->pool, "cannot commit",
		    &err, NULL, NULL);
	}
	nf_step_output(ctx, out);
	res = nf_step_result_new(1, NULL, NULL);
	nf_val_map_set_int(res, "rows_affected", st->dry_run ? 0 : total);
	nf_step_result(ctx, res);
	return 0;
}

const struct nf_step_impl nf_step_sql_query = {
	"sql_query", NULL, sql_prepare, sql_run
};
