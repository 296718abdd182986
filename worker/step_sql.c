/*
 * step_sql.c: the "sql_query" step on SQLite pools: one statement, in one
 * transaction, with named parameters bound (never interpolated).
 *
 * Runs in nomaflow-worker; the worker's only user of sqlite3.h (the
 * supervisor's store is another process and another module).  prepare,
 * unsandboxed, opens the pool's database and touches it once so that the
 * file, its WAL/shm and the PRNG's /dev/urandom are open before the "sql"
 * seccomp policy; run, sandboxed, executes the statement.
 *
 * The SQL comes from spec.sql, or from spec.query naming one of the pool's
 * queries (step_start "pool" carries {name, driver, path, queries}).
 * Parameters :name, @name and $name are bound from spec.params first, then,
 * for names spec.params lacks, from the run's params (step_start "params",
 * where nomaflowd already merged job params under run params).
 *
 * Output: {columns, rows:[{column:value}], row_count (rows returned),
 * rows_affected, truncated}.  At most max_rows rows (spec.max_rows,
 * capped by step_start's max_rows; 100 by default) and at most what fits
 * in one OUTPUT frame.
 *
 * Invariants: the transaction commits only after the statement ran to
 * completion; OUTPUT and RESULT are sent after the commit, so they describe
 * committed work; on any failure the transaction is rolled back.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "log.h"
#include "proto.h"
#include "step.h"
#include "util.h"
#include "val.h"

#define SQL_DEFAULT_MAX_ROWS	100
#define SQL_BUSY_TIMEOUT_MS	5000
/* Rows stop before the OUTPUT frame could reach the channel's limit. */
#define SQL_OUTPUT_BUDGET	(NF_MAX_FROM_WORKER - (256u << 10))

/*
 * Rows the statement itself changed (not triggers' or foreign-key
 * actions').  sqlite3_changes64 appeared in 3.37; configure accepts 3.35.
 */
#if SQLITE_VERSION_NUMBER >= 3037000
#define sql_changes(db)	sqlite3_changes64(db)
#else
#define sql_changes(db)	((sqlite3_int64)sqlite3_changes(db))
#endif

struct sql_state {
	sqlite3		*db;
	const char	*pool;		/* pool name */
	const char	*path;
	const char	*sql;
	char		*origin;	/* "spec.sql" or "query NAME" */
	int64_t		 max_rows;
};

static const struct {
	int		 code;
	const char	*name;
} sql_codes[] = {
	{ SQLITE_ERROR, "SQLITE_ERROR" },
	{ SQLITE_INTERNAL, "SQLITE_INTERNAL" },
	{ SQLITE_PERM, "SQLITE_PERM" },
	{ SQLITE_ABORT, "SQLITE_ABORT" },
	{ SQLITE_BUSY, "SQLITE_BUSY" },
	{ SQLITE_BUSY_SNAPSHOT, "SQLITE_BUSY_SNAPSHOT" },
	{ SQLITE_LOCKED, "SQLITE_LOCKED" },
	{ SQLITE_NOMEM, "SQLITE_NOMEM" },
	{ SQLITE_READONLY, "SQLITE_READONLY" },
	{ SQLITE_READONLY_DBMOVED, "SQLITE_READONLY_DBMOVED" },
	{ SQLITE_INTERRUPT, "SQLITE_INTERRUPT" },
	{ SQLITE_IOERR, "SQLITE_IOERR" },
	{ SQLITE_IOERR_READ, "SQLITE_IOERR_READ" },
	{ SQLITE_IOERR_WRITE, "SQLITE_IOERR_WRITE" },
	{ SQLITE_IOERR_FSYNC, "SQLITE_IOERR_FSYNC" },
	{ SQLITE_IOERR_LOCK, "SQLITE_IOERR_LOCK" },
	{ SQLITE_IOERR_DELETE, "SQLITE_IOERR_DELETE" },
	{ SQLITE_IOERR_ACCESS, "SQLITE_IOERR_ACCESS" },
	{ SQLITE_IOERR_SHMOPEN, "SQLITE_IOERR_SHMOPEN" },
	{ SQLITE_IOERR_SHMMAP, "SQLITE_IOERR_SHMMAP" },
	{ SQLITE_CORRUPT, "SQLITE_CORRUPT" },
	{ SQLITE_NOTFOUND, "SQLITE_NOTFOUND" },
	{ SQLITE_FULL, "SQLITE_FULL" },
	{ SQLITE_CANTOPEN, "SQLITE_CANTOPEN" },
	{ SQLITE_CANTOPEN_ISDIR, "SQLITE_CANTOPEN_ISDIR" },
	{ SQLITE_PROTOCOL, "SQLITE_PROTOCOL" },
	{ SQLITE_SCHEMA, "SQLITE_SCHEMA" },
	{ SQLITE_TOOBIG, "SQLITE_TOOBIG" },
	{ SQLITE_CONSTRAINT, "SQLITE_CONSTRAINT" },
	{ SQLITE_CONSTRAINT_CHECK, "SQLITE_CONSTRAINT_CHECK" },
	{ SQLITE_CONSTRAINT_FOREIGNKEY, "SQLITE_CONSTRAINT_FOREIGNKEY" },
	{ SQLITE_CONSTRAINT_NOTNULL, "SQLITE_CONSTRAINT_NOTNULL" },
	{ SQLITE_CONSTRAINT_PRIMARYKEY, "SQLITE_CONSTRAINT_PRIMARYKEY" },
	{ SQLITE_CONSTRAINT_TRIGGER, "SQLITE_CONSTRAINT_TRIGGER" },
	{ SQLITE_CONSTRAINT_UNIQUE, "SQLITE_CONSTRAINT_UNIQUE" },
	{ SQLITE_CONSTRAINT_DATATYPE, "SQLITE_CONSTRAINT_DATATYPE" },
	{ SQLITE_MISMATCH, "SQLITE_MISMATCH" },
	{ SQLITE_MISUSE, "SQLITE_MISUSE" },
	{ SQLITE_NOLFS, "SQLITE_NOLFS" },
	{ SQLITE_AUTH, "SQLITE_AUTH" },
	{ SQLITE_RANGE, "SQLITE_RANGE" },
	{ SQLITE_NOTADB, "SQLITE_NOTADB" },
};

/* "SQLITE_CONSTRAINT_UNIQUE", or the primary name and the number. */
static const char *
sql_code_name(int code, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(sql_codes); i++)
		if (sql_codes[i].code == code)
			return sql_codes[i].name;
	for (i = 0; i < NF_NELEM(sql_codes); i++)
		if (sql_codes[i].code == (code & 0xff)) {
			snprintf(buf, len, "%s (extended code %d)",
			    sql_codes[i].name, code);
			return buf;
		}
	snprintf(buf, len, "SQLite code %d", code);
	return buf;
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
		} else
			(*col)++;
	}
}

static void
sql_rollback(struct sql_state *st)
{
	if (st->db != NULL && !sqlite3_get_autocommit(st->db))
		(void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

/*
 * Fail the step with the database's current error: what we were doing,
 * SQLite's message and code name, and where in the SQL when SQLite knows.
 */
static int
sql_fail(struct nf_step_ctx *ctx, struct sql_state *st, const char *what)
{
	char	 buf[64], where[128];
	char	*msg;
	int	 code, off = -1, line, col;

	code = sqlite3_extended_errcode(st->db);
	msg = nf_xstrdup(sqlite3_errmsg(st->db));
#if SQLITE_VERSION_NUMBER >= 3038000
	off = sqlite3_error_offset(st->db);
#endif
	where[0] = '\0';
	if (off >= 0 && st->sql != NULL) {
		sql_linecol(st->sql, (size_t)off, &line, &col);
		snprintf(where, sizeof(where), " at offset %d (line %d, "
		    "col %d) of %s", off, line, col, st->origin);
	}
	sql_rollback(st);
	nf_step_fail(ctx, "error", "job %s step %s: pool %s (%s): %s: %s "
	    "[%s: %s]%s", ctx->job_id, ctx->step, st->pool, st->path, what,
	    msg, sql_code_name(code, buf, sizeof(buf)), sqlite3_errstr(code),
	    where);
	free(msg);
	return -1;
}

/* Resolve the SQL text, the pool and the row cap from step_start. */
static int
sql_resolve(struct nf_step_ctx *ctx, struct sql_state *st)
{
	const struct nf_val	*queries, *q;
	const char		*driver, *name;
	struct nf_buf		 b;
	int64_t			 n;
	size_t			 i;

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
	driver = nf_val_get_str(ctx->pool, "driver");
	if (driver == NULL || strcmp(driver, "sqlite") != 0)
		return nf_step_fail(ctx, "error", "job %s step %s: pool %s: "
		    "driver \"%s\" is not supported by sql_query (only "
		    "\"sqlite\")", ctx->job_id, ctx->step, st->pool,
		    driver != NULL ? driver : "");
	st->path = nf_val_get_str(ctx->pool, "path");
	if (st->path == NULL || *st->path == '\0')
		return nf_step_fail(ctx, "error", "job %s step %s: pool %s "
		    "has no path", ctx->job_id, ctx->step, st->pool);

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
	return 0;
}

static int
sql_prepare(struct nf_step_ctx *ctx)
{
	struct sql_state	*st;
	unsigned int		 seed;
	int			 rc;

	st = nf_xcalloc(1, sizeof(*st));
	ctx->data = st;
	if (sql_resolve(ctx, st) == -1)
		return -1;
	rc = sqlite3_open_v2(st->path, &st->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (st->db == NULL)
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "pool %s: cannot open SQLite database %s: %s",
			    ctx->job_id, ctx->step, st->pool, st->path,
			    sqlite3_errstr(rc));
		return sql_fail(ctx, st, "cannot open the database");
	}
	(void)sqlite3_extended_result_codes(st->db, 1);
	(void)sqlite3_busy_timeout(st->db, SQL_BUSY_TIMEOUT_MS);
	/*
	 * Under the sandbox no new file should be needed: sort in memory
	 * rather than in temp files, read the schema now (this opens the WAL
	 * and shm of a WAL database) and seed SQLite's PRNG (which opens
	 * /dev/urandom) while open(2) is still allowed.
	 */
	if (sqlite3_exec(st->db, "PRAGMA temp_store = MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(st->db, "PRAGMA schema_version", NULL, NULL,
	    NULL) != SQLITE_OK)
		return sql_fail(ctx, st, "cannot read the database");
	sqlite3_randomness(sizeof(seed), &seed);
	return 0;
}

/* The value of parameter key, from spec.params then the run's params. */
static const struct nf_val *
sql_param(struct nf_step_ctx *ctx, const char *key)
{
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

static int
sql_bind(struct nf_step_ctx *ctx, struct sql_state *st, sqlite3_stmt *stmt)
{
	const struct nf_val	*v;
	const char		*name;
	struct nf_buf		 b;
	int			 i, n, rc;

	n = sqlite3_bind_parameter_count(stmt);
	for (i = 1; i <= n; i++) {
		name = sqlite3_bind_parameter_name(stmt, i);
		if (name == NULL || name[0] == '?')
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "%s: positional parameter ?%d is not supported; "
			    "name it (:name) and set it in params",
			    ctx->job_id, ctx->step, st->origin, i);
		v = sql_param(ctx, name + 1);
		if (v == NULL) {
			nf_buf_init(&b);
			sql_param_names(ctx, &b);
			nf_step_fail(ctx, "error", "job %s step %s: %s: "
			    "parameter %s is not set (params: %s)",
			    ctx->job_id, ctx->step, st->origin, name,
			    b.len > 0 ? b.data : "none");
			nf_buf_free(&b);
			return -1;
		}
		switch (v->type) {
		case NF_V_NIL:
			rc = sqlite3_bind_null(stmt, i);
			break;
		case NF_V_BOOL:
			rc = sqlite3_bind_int(stmt, i, v->u.b ? 1 : 0);
			break;
		case NF_V_INT:
			rc = sqlite3_bind_int64(stmt, i, v->u.i);
			break;
		case NF_V_FLOAT:
			rc = sqlite3_bind_double(stmt, i, v->u.f);
			break;
		case NF_V_STR:
			rc = sqlite3_bind_text64(stmt, i, v->u.s.p, v->u.s.len,
			    SQLITE_STATIC, SQLITE_UTF8);
			break;
		case NF_V_BIN:
			rc = sqlite3_bind_blob64(stmt, i, v->u.s.p, v->u.s.len,
			    SQLITE_STATIC);
			break;
		default:
			return nf_step_fail(ctx, "error", "job %s step %s: "
			    "%s: parameter %s is %s; only strings, numbers, "
			    "booleans and null can be bound", ctx->job_id,
			    ctx->step, st->origin, name,
			    nf_val_type_name(v->type));
		}
		if (rc != SQLITE_OK)
			return sql_fail(ctx, st, "cannot bind a parameter");
	}
	return 0;
}

/* Column names, made unique so that each can key a row map. */
static struct nf_val *
sql_columns(sqlite3_stmt *stmt, int ncol)
{
	struct nf_val	*cols, *item;
	const char	*name;
	char		*alt;
	struct nf_buf	 b;
	size_t		 j;
	int		 i, k, dup;

	cols = nf_val_arr();
	for (i = 0; i < ncol; i++) {
		name = sqlite3_column_name(stmt, i);
		nf_buf_init(&b);
		nf_step_utf8_sanitize(&b, name != NULL ? name : "?",
		    name != NULL ? strlen(name) : 1);
		alt = nf_buf_steal(&b);
		for (k = 2; ; k++) {
			dup = 0;
			for (j = 0; j < cols->u.a.n; j++)
				if (strcmp(cols->u.a.items[j]->u.s.p,
				    alt) == 0)
					dup = 1;
			if (!dup)
				break;
			free(alt);
			nf_buf_init(&b);
			nf_step_utf8_sanitize(&b, name != NULL ? name : "?",
			    name != NULL ? strlen(name) : 1);
			nf_buf_printf(&b, ":%d", k);
			alt = nf_buf_steal(&b);
		}
		item = nf_val_str(alt);
		free(alt);
		nf_val_arr_push(cols, item);
	}
	return cols;
}

/* One column of the current row as a value; *size grows by its weight. */
static struct nf_val *
sql_value(sqlite3_stmt *stmt, int i, size_t *size)
{
	struct nf_buf	 b;
	struct nf_val	*v;
	const void	*p;
	int		 n;

	switch (sqlite3_column_type(stmt, i)) {
	case SQLITE_INTEGER:
		*size += 9;
		return nf_val_int(sqlite3_column_int64(stmt, i));
	case SQLITE_FLOAT:
		*size += 9;
		return nf_val_float(sqlite3_column_double(stmt, i));
	case SQLITE_TEXT:
		p = sqlite3_column_text(stmt, i);
		n = sqlite3_column_bytes(stmt, i);
		nf_buf_init(&b);
		nf_step_utf8_sanitize(&b, p != NULL ? p : "", (size_t)n);
		v = nf_val_strn(b.data != NULL ? b.data : "", b.len);
		*size += b.len + 5;
		nf_buf_free(&b);
		return v;
	case SQLITE_BLOB:
		p = sqlite3_column_blob(stmt, i);
		n = sqlite3_column_bytes(stmt, i);
		*size += (size_t)n + 5;
		return nf_val_bin(p != NULL ? p : "", (size_t)n);
	default:
		*size += 1;
		return nf_val_nil();
	}
}

/* Check that nothing but blanks and comments follows the statement. */
static int
sql_one_statement(struct nf_step_ctx *ctx, struct sql_state *st,
    const char *tail)
{
	sqlite3_stmt	*next = NULL;
	const char	*rest;
	size_t		 off;
	int		 rc, line, col;

	if (tail == NULL || *tail == '\0')
		return 0;
	rc = sqlite3_prepare_v2(st->db, tail, -1, &next, &rest);
	if (rc == SQLITE_OK && next == NULL)
		return 0;	/* only whitespace and comments */
	(void)sqlite3_finalize(next);
	while (*tail == ' ' || *tail == '\t' || *tail == '\n' ||
	    *tail == '\r' || *tail == '\f' || *tail == '\v')
		tail++;
	off = (size_t)(tail - st->sql);
	sql_linecol(st->sql, off, &line, &col);
	sql_rollback(st);
	return nf_step_fail(ctx, "error", "job %s step %s: %s: sql_query "
	    "runs one statement; found more text at offset %zu (line %d, "
	    "col %d)", ctx->job_id, ctx->step, st->origin, off, line, col);
}

static int
sql_run(struct nf_step_ctx *ctx)
{
	struct sql_state	*st = ctx->data;
	struct nf_val		*cols = NULL, *rows, *row, *out, *res;
	sqlite3_stmt		*stmt = NULL;
	const char		*tail = NULL;
	sqlite3_int64		 affected;
	size_t			 size = 0, rowsize;
	int64_t			 nrows = 0;
	int			 rc, i, ncol, readonly, truncated = 0;
	int			 too_big = 0;

	if (sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) !=
	    SQLITE_OK)
		return sql_fail(ctx, st, "cannot begin a transaction");
	rc = sqlite3_prepare_v2(st->db, st->sql, -1, &stmt, &tail);
	if (rc != SQLITE_OK)
		return sql_fail(ctx, st, "cannot prepare the statement");
	if (stmt == NULL) {
		sql_rollback(st);
		return nf_step_fail(ctx, "error", "job %s step %s: %s is "
		    "empty (only blanks or comments)", ctx->job_id,
		    ctx->step, st->origin);
	}
	if (sql_one_statement(ctx, st, tail) == -1 ||
	    sql_bind(ctx, st, stmt) == -1) {
		(void)sqlite3_finalize(stmt);
		sql_rollback(st);
		return -1;
	}

	readonly = sqlite3_stmt_readonly(stmt);
	ncol = sqlite3_column_count(stmt);
	rows = nf_val_arr();
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		if (cols == NULL)
			cols = sql_columns(stmt, ncol);
		if (nrows >= st->max_rows || too_big) {
			truncated = 1;
			/* A read-only statement need not run further. */
			if (readonly)
				break;
			continue;
		}
		row = nf_val_map();
		rowsize = 0;
		for (i = 0; i < ncol; i++) {
			rowsize += cols->u.a.items[i]->u.s.len + 2;
			nf_val_map_set(row, cols->u.a.items[i]->u.s.p,
			    sql_value(stmt, i, &rowsize));
		}
		if (size + rowsize > SQL_OUTPUT_BUDGET) {
			nf_val_free(row);
			too_big = truncated = 1;
			nf_step_log(ctx, "worker", NF_LOG_WARN, "job %s step "
			    "%s: output stops after %lld rows: row %lld "
			    "would exceed the %u-byte output limit",
			    ctx->job_id, ctx->step, (long long)nrows,
			    (long long)nrows + 1, SQL_OUTPUT_BUDGET);
			if (readonly)
				break;
			continue;
		}
		size += rowsize;
		nf_val_arr_push(rows, row);
		nrows++;
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		nf_val_free(rows);
		nf_val_free(cols);
		rc = sql_fail(ctx, st, "the statement failed");
		(void)sqlite3_finalize(stmt);
		return rc;
	}
	if (cols == NULL)
		cols = sql_columns(stmt, ncol);
	(void)sqlite3_finalize(stmt);
	/* A fresh connection: no earlier DML to mistake for this one's. */
	affected = readonly ? 0 : sql_changes(st->db);

	out = nf_val_map();
	nf_val_map_set(out, "columns", cols);
	nf_val_map_set(out, "rows", rows);
	nf_val_map_set_int(out, "row_count", nrows);
	nf_val_map_set_int(out, "rows_affected", affected);
	nf_val_map_set_bool(out, "truncated", truncated);
	if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		nf_val_free(out);
		return sql_fail(ctx, st, "cannot commit");
	}
	/* The output describes committed work only. */
	nf_step_output(ctx, out);
	res = nf_step_result_new(1, NULL, NULL);
	nf_val_map_set_int(res, "rows_affected", affected);
	nf_step_result(ctx, res);
	return 0;
}

const struct nf_step_impl nf_step_sql_query = {
	"sql_query", NULL, sql_prepare, sql_run
};
