/*
 * step_copy.c: the "sql_copy" step: rows from source = {pool, table |
 * query} into target = {pool, table}, between SQLite and PostgreSQL pools
 * in any direction, through the driver layer (db.h).
 *
 * Runs in nomaflow-worker.  prepare, unsandboxed, opens one connection to
 * each pool (step_start "pools" holds both definitions; two connections
 * even when both ends are the same pool); run, sandboxed under "sql",
 * copies.
 *
 * How: the source's columns are described without reading a row; the
 * selection (columns), renaming (rename) and coercions (trim_strings,
 * empty_to_null, null_to_default, decimal = "truncate") become one SELECT
 * run on the source, so rows arrive already coerced.  PostgreSQL to
 * PostgreSQL streams with COPY TO STDOUT into COPY FROM STDIN; every other
 * pair streams rows one at a time (SQLite reads a statement, PostgreSQL
 * reads COPY text, SQLite writes a prepared INSERT, PostgreSQL writes
 * COPY text), so memory stays bounded whatever the table size.
 *
 * Modes, all inside ONE transaction on the target:
 *   overwrite  CREATE TABLE <t>__nf_new (types derived from the source),
 *              fill it, DROP TABLE <t>, ALTER TABLE <t>__nf_new RENAME TO
 *              <t>, COMMIT.  Both engines have transactional DDL: readers
 *              see the old table until the commit and the new one after;
 *              a failure anywhere (error, kill, server gone) rolls back
 *              and leaves the target as it was, with no leftover table.
 *   append     insert into the existing target.
 *   upsert     insert, or update the non-key columns of the row whose key
 *              (spec.key, a unique key of the target) matches: SQLite
 *              INSERT ... ON CONFLICT DO UPDATE; PostgreSQL COPY into a
 *              temporary table, then INSERT ... SELECT ... ON CONFLICT.
 * dry_run does all of it, reports, and rolls back.
 *
 * Progress: a PROGRESS frame {rows, rate, elapsed_ms} every batch_size
 * rows (default 10000).  Output: {rows_read, rows_written, elapsed_ms,
 * mode, dry_run}.
 *
 * Invariant: the target transaction commits only after the source was
 * read to its end without error.
 */
#include "autoconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "log.h"
#include "step.h"
#include "util.h"
#include "val.h"

#define COPY_DEFAULT_BATCH	10000
#define COPY_NEW_SUFFIX		"__nf_new"

enum copy_mode { COPY_OVERWRITE = 0, COPY_APPEND, COPY_UPSERT };

struct copy_state {
	struct nf_step_ctx	*ctx;
	struct nf_db		*src, *dst;
	const char		*spool, *dpool;
	const char		*stable, *squery, *dtable;
	enum copy_mode		 mode;
	int64_t			 batch;
	int			 dry_run;
	int64_t			 t0;
	int64_t			 rows;
};

static const char *const mode_names[] = { "overwrite", "append", "upsert" };

static int
copy_fail(struct copy_state *cs, struct nf_db *db, const char *what,
    const struct nf_db_err *err)
{
	return nf_step_db_fail(cs->ctx, db, db == cs->src ? cs->spool :
	    cs->dpool, what, err, NULL, NULL);
}

static const struct nf_val *
copy_pool(struct nf_step_ctx *ctx, const char *name)
{
	const struct nf_val	*pools;

	pools = nf_val_get(ctx->msg, "pools");
	return nf_val_get(pools, name);
}

static int
copy_prepare(struct nf_step_ctx *ctx)
{
	struct copy_state	*cs;
	const struct nf_val	*s, *t, *ps, *pt;
	const char		*m;
	struct nf_db_err	 err;
	int64_t			 n;
	size_t			 i;

	cs = nf_xcalloc(1, sizeof(*cs));
	cs->ctx = ctx;
	ctx->data = cs;
	s = nf_val_get(ctx->spec, "source");
	t = nf_val_get(ctx->spec, "target");
	cs->spool = nf_val_get_str(s, "pool");
	cs->dpool = nf_val_get_str(t, "pool");
	cs->stable = nf_val_get_str(s, "table");
	cs->squery = nf_val_get_str(s, "query");
	cs->dtable = nf_val_get_str(t, "table");
	if (cs->spool == NULL || cs->dpool == NULL || cs->dtable == NULL ||
	    (cs->stable == NULL) == (cs->squery == NULL))
		return nf_step_fail(ctx, "error", "job %s step %s: sql_copy "
		    "needs source = {pool, table | query} and target = {pool, "
		    "table}", ctx->job_id, ctx->step);
	cs->mode = COPY_OVERWRITE;
	if ((m = nf_val_get_str(ctx->spec, "mode")) != NULL) {
		for (i = 0; i < NF_NELEM(mode_names); i++)
			if (strcmp(m, mode_names[i]) == 0)
				cs->mode = (enum copy_mode)i;
	}
	cs->batch = COPY_DEFAULT_BATCH;
	if (nf_val_get_int(ctx->spec, "batch_size", &n) && n > 0)
		cs->batch = n;
	cs->dry_run = nf_step_dry_run(ctx);
	if ((ps = copy_pool(ctx, cs->spool)) == NULL ||
	    (pt = copy_pool(ctx, cs->dpool)) == NULL)
		return nf_step_fail(ctx, "error", "job %s step %s: step_start "
		    "lacks the definition of pool %s (nomaflowd sends both "
		    "pools of a sql_copy step in \"pools\")", ctx->job_id,
		    ctx->step, copy_pool(ctx, cs->spool) == NULL ? cs->spool :
		    cs->dpool);
	if ((cs->src = nf_db_open(ps, &err)) == NULL)
		return nf_step_db_fail(ctx, NULL, cs->spool, "cannot open the "
		    "source pool", &err, NULL, NULL);
	if ((cs->dst = nf_db_open(pt, &err)) == NULL)
		return nf_step_db_fail(ctx, NULL, cs->dpool, "cannot open the "
		    "target pool", &err, NULL, NULL);
	return 0;
}

/* The last part of schema.table. */
static const char *
copy_base(const char *t)
{
	const char	*dot = strrchr(t, '.');

	return dot != NULL ? dot + 1 : t;
}

/* Does string array arr (a spec value) hold s? */
static int
copy_in(const struct nf_val *arr, const char *s)
{
	size_t	i;

	for (i = 0; arr != NULL && arr->type == NF_V_ARR && i < arr->u.a.n;
	    i++)
		if (arr->u.a.items[i]->type == NF_V_STR &&
		    strcmp(arr->u.a.items[i]->u.s.p, s) == 0)
			return 1;
	return 0;
}

static void
copy_names(const struct nf_db_col *cols, int n, struct nf_buf *b)
{
	int	i;

	for (i = 0; i < n; i++)
		nf_buf_printf(b, "%s%s", i > 0 ? ", " : "", cols[i].name);
}

/*
 * The SELECT run on the source and the columns it yields (target names,
 * classes after coercion).  -1 after failing the step.
 */
static int
copy_plan(struct copy_state *cs, struct nf_buf *sel, struct nf_db_col **out,
    int *nout)
{
	struct nf_step_ctx	*ctx = cs->ctx;
	const struct nf_val	*want, *ren;
	struct nf_db_col	*cols, *oc;
	struct nf_db_err	 err;
	struct nf_buf		 base, e, tmp;
	const char		*to;
	size_t			 i, len;
	int			 n, j, trim = 0, e2n = 0, n2d = 0, trunc = 0, b;

	nf_buf_init(&base);
	if (cs->stable != NULL) {
		nf_buf_adds(&base, "SELECT * FROM ");
		nf_db_qname(&base, cs->stable);
	} else {
		/* A trailing ';' would end the outer statement. */
		len = strlen(cs->squery);
		while (len > 0 && (cs->squery[len - 1] == ';' ||
		    cs->squery[len - 1] == ' ' || cs->squery[len - 1] == '\n' ||
		    cs->squery[len - 1] == '\t' || cs->squery[len - 1] == '\r'))
			len--;
		nf_buf_add(&base, cs->squery, len);
	}
	if (nf_db_describe(cs->src, base.data, &cols, &n, &err) == -1) {
		nf_buf_free(&base);
		return copy_fail(cs, cs->src, cs->stable != NULL ?
		    "cannot read the source table" : "bad source query", &err);
	}
	if (n == 0) {
		nf_buf_free(&base);
		nf_db_cols_free(cols, n);
		return nf_step_fail(ctx, "error", "job %s step %s: the source "
		    "(%s) has no columns", ctx->job_id, ctx->step,
		    cs->stable != NULL ? cs->stable : "query");
	}
	want = nf_val_get(ctx->spec, "columns");
	ren = nf_val_get(ctx->spec, "rename");
	for (i = 0; want != NULL && i < want->u.a.n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(cols[j].name, want->u.a.items[i]->u.s.p) ==
			    0)
				break;
		if (j == n) {
			nf_buf_init(&tmp);
			copy_names(cols, n, &tmp);
			nf_step_fail(ctx, "error", "job %s step %s: columns: "
			    "the source has no column \"%s\" (its columns: "
			    "%s)", ctx->job_id, ctx->step,
			    want->u.a.items[i]->u.s.p, tmp.data);
			nf_buf_free(&tmp);
			nf_buf_free(&base);
			nf_db_cols_free(cols, n);
			return -1;
		}
	}
	if (nf_val_get_bool(ctx->spec, "trim_strings", &b))
		trim = b;
	if (nf_val_get_bool(ctx->spec, "empty_to_null", &b))
		e2n = b;
	if (nf_val_get_bool(ctx->spec, "null_to_default", &b))
		n2d = b;
	to = nf_val_get_str(ctx->spec, "decimal");
	trunc = to != NULL && strcmp(to, "truncate") == 0;

	*out = nf_xcalloc((size_t)n + 1, sizeof(**out));
	*nout = 0;
	nf_buf_adds(sel, "SELECT ");
	for (j = 0; j < n; j++) {
		if (want != NULL && !copy_in(want, cols[j].name))
			continue;
		oc = &(*out)[(*nout)++];
		*oc = cols[j];
		to = nf_val_get_str(ren, cols[j].name);
		oc->name = nf_xstrdup(to != NULL ? to : cols[j].name);
		nf_buf_init(&e);
		nf_db_ident(&e, cols[j].name);
		if (oc->cls == NF_DBC_TEXT && trim) {
			nf_buf_init(&tmp);
			nf_buf_printf(&tmp, "trim(%s)", e.data);
			nf_buf_free(&e);
			e = tmp;
		}
		if (oc->cls == NF_DBC_TEXT && e2n) {
			nf_buf_init(&tmp);
			nf_buf_printf(&tmp, "NULLIF(%s, '')", e.data);
			nf_buf_free(&e);
			e = tmp;
		}
		if (oc->cls == NF_DBC_NUMERIC && trunc) {
			nf_buf_init(&tmp);
			nf_db_expr_trunc(cs->src, e.data, &tmp);
			nf_buf_free(&e);
			e = tmp;
			oc->cls = NF_DBC_INT;
			oc->bits = 64;
			oc->prec = oc->scale = -1;
		}
		if (n2d && (oc->cls == NF_DBC_TEXT || oc->cls == NF_DBC_INT ||
		    oc->cls == NF_DBC_FLOAT || oc->cls == NF_DBC_NUMERIC ||
		    oc->cls == NF_DBC_BOOL)) {
			nf_buf_init(&tmp);
			nf_buf_printf(&tmp, "COALESCE(%s, %s)", e.data,
			    oc->cls == NF_DBC_TEXT ? "''" :
			    oc->cls != NF_DBC_BOOL ? "0" :
			    nf_db_driver(cs->src) == NF_DB_PG ? "false" : "0");
			nf_buf_free(&e);
			e = tmp;
		}
		nf_buf_printf(sel, "%s%s AS ", *nout > 1 ? ", " : "", e.data);
		nf_db_ident(sel, oc->name);
		nf_buf_free(&e);
	}
	nf_buf_printf(sel, " FROM (%s) AS nf_src", base.data);
	nf_buf_free(&base);
	/* The names moved to out, except the renamed ones' originals. */
	for (j = 0; j < n; j++)
		free(cols[j].name);
	free(cols);
	return 0;
}

static void
copy_progress(void *arg, int64_t rows)
{
	struct copy_state	*cs = arg;
	struct nf_val		*m;
	int64_t			 ms;

	ms = nf_mono_ms() - cs->t0;
	m = nf_val_map();
	nf_val_map_set_int(m, "rows", rows);
	nf_val_map_set_int(m, "elapsed_ms", ms);
	nf_val_map_set_int(m, "rate", ms > 0 ? rows * 1000 / ms : rows);
	nf_step_progress(cs->ctx, m);
}

/* Column list "a", "b" of cols. */
static void
copy_collist(const struct nf_db_col *cols, int n, struct nf_buf *b)
{
	int	i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			nf_buf_adds(b, ", ");
		nf_db_ident(b, cols[i].name);
	}
}

/* Stream the rows of sel into table; cs->rows counts them. */
static int
copy_stream(struct copy_state *cs, const char *sel, const char *table,
    const struct nf_db_col *cols, int n, const char *insert_sql)
{
	const struct nf_db_cell	*cells;
	struct nf_db_err	 err;
#ifndef NF_WORKER_NO_PG
	struct nf_buf		 cl;
#endif
	int64_t			 next = cs->batch;
	int			 rc;

#ifndef NF_WORKER_NO_PG
	if (nf_db_driver(cs->src) == NF_DB_PG &&
	    nf_db_driver(cs->dst) == NF_DB_PG) {
		nf_buf_init(&cl);
		copy_collist(cols, n, &cl);
		rc = nf_db_pg_copy(cs->src, sel, cs->dst, table, cl.data,
		    cs->batch, copy_progress, cs, &cs->rows, &err);
		nf_buf_free(&cl);
		if (rc == -1)
			return copy_fail(cs, err.code[0] != '\0' &&
			    strstr(err.msg, "source") != NULL ? cs->src :
			    cs->dst, "copy failed", &err);
		return 0;
	}
#endif
	if (nf_db_read_begin(cs->src, sel, cols, n, &err) == -1)
		return copy_fail(cs, cs->src, "cannot read the source", &err);
	if (nf_db_write_begin(cs->dst, table, cols, n, insert_sql, &err) ==
	    -1) {
		nf_db_read_end(cs->src);
		return copy_fail(cs, cs->dst, "cannot write the target", &err);
	}
	while ((rc = nf_db_read_row(cs->src, &cells, &err)) == 1) {
		if (nf_db_write_row(cs->dst, cells, &err) == -1) {
			nf_db_read_end(cs->src);
			return copy_fail(cs, cs->dst, "writing the target failed",
			    &err);
		}
		if (++cs->rows >= next) {
			copy_progress(cs, cs->rows);
			next += cs->batch;
		}
	}
	if (rc == -1) {
		nf_db_read_end(cs->src);
		return copy_fail(cs, cs->src, "reading the source failed",
		    &err);
	}
	nf_db_read_end(cs->src);
	if (nf_db_write_end(cs->dst, &err) == -1)
		return copy_fail(cs, cs->dst, "writing the target failed", &err);
	return 0;
}

/* "INSERT INTO t (cols) VALUES (?, ...)" plus the upsert clause. */
static void
copy_insert_sql(struct copy_state *cs, const char *table,
    const struct nf_db_col *cols, int n, const char *from,
    struct nf_buf *b)
{
	const struct nf_val	*key = nf_val_get(cs->ctx->spec, "key");
	size_t			 i;
	int			 j, first = 1;

	nf_buf_adds(b, "INSERT INTO ");
	nf_db_qname(b, table);
	nf_buf_adds(b, " (");
	copy_collist(cols, n, b);
	if (from != NULL) {
		nf_buf_adds(b, ") SELECT ");
		copy_collist(cols, n, b);
		nf_buf_printf(b, " FROM %s", from);
		/* SQLite needs a WHERE before ON CONFLICT after a SELECT. */
		nf_buf_adds(b, " WHERE true");
	} else {
		nf_buf_adds(b, ") VALUES (");
		for (j = 0; j < n; j++)
			nf_buf_adds(b, j > 0 ? ", ?" : "?");
		nf_buf_adds(b, ")");
	}
	if (cs->mode != COPY_UPSERT)
		return;
	nf_buf_adds(b, " ON CONFLICT (");
	for (i = 0; i < key->u.a.n; i++) {
		if (i > 0)
			nf_buf_adds(b, ", ");
		nf_db_ident(b, key->u.a.items[i]->u.s.p);
	}
	nf_buf_adds(b, ") DO UPDATE SET ");
	for (j = 0; j < n; j++) {
		if (copy_in(key, cols[j].name))
			continue;
		if (!first)
			nf_buf_adds(b, ", ");
		first = 0;
		nf_db_ident(b, cols[j].name);
		nf_buf_adds(b, " = excluded.");
		nf_db_ident(b, cols[j].name);
	}
	if (first) {
		/* Every column is a key column: nothing to update. */
		b->len -= strlen(" DO UPDATE SET ");
		b->data[b->len] = '\0';
		nf_buf_adds(b, " DO NOTHING");
	}
}

static int
copy_run(struct nf_step_ctx *ctx)
{
	struct copy_state	*cs = ctx->data;
	struct nf_db_col	*cols = NULL, *tcols = NULL;
	struct nf_db_err	 err;
	struct nf_buf		 sel, q, newt, tmp;
	struct nf_val		*out, *res;
	const struct nf_val	*key;
	int64_t			 written, ms, ret, aff;
	size_t			 i;
	int			 n = 0, tn = 0, j, k, rc = -1, empty;

	cs->t0 = nf_mono_ms();
	if (nf_step_sql_catch_term(cs->src, cs->dst) == -1)
		nf_step_log(ctx, "worker", NF_LOG_WARN, "cannot catch SIGTERM: "
		    "%s", strerror(errno));
	/* The same table of the same database, under any pool names. */
	if (cs->stable != NULL &&
	    nf_db_driver(cs->src) == nf_db_driver(cs->dst) &&
	    strcmp(nf_db_where(cs->src), nf_db_where(cs->dst)) == 0 &&
	    strcmp(cs->stable, cs->dtable) == 0)
		return nf_step_fail(ctx, "error", "job %s step %s: sql_copy "
		    "refused: source (pool %s) and target (pool %s) are the "
		    "same table %s of %s", ctx->job_id, ctx->step, cs->spool,
		    cs->dpool, cs->dtable, nf_db_where(cs->dst));

	nf_buf_init(&sel);
	nf_buf_init(&q);
	nf_buf_init(&newt);
	if (copy_plan(cs, &sel, &cols, &n) == -1)
		goto out;
	if (nf_db_table_columns(cs->dst, cs->dtable, &tcols, &tn, &err) ==
	    -1) {
		copy_fail(cs, cs->dst, "cannot read the target table", &err);
		goto out;
	}
	if (cs->mode != COPY_OVERWRITE) {
		if (tn == 0) {
			nf_step_fail(ctx, "error", "job %s step %s: mode %s: "
			    "target table %s does not exist in pool %s (%s); "
			    "create it, or use mode = \"overwrite\"",
			    ctx->job_id, ctx->step, mode_names[cs->mode],
			    cs->dtable, cs->dpool, nf_db_where(cs->dst));
			goto out;
		}
		for (j = 0; j < n; j++) {
			for (k = 0; k < tn; k++)
				if (strcmp(cols[j].name, tcols[k].name) == 0)
					break;
			if (k == tn) {
				nf_buf_init(&tmp);
				copy_names(tcols, tn, &tmp);
				nf_step_fail(ctx, "error", "job %s step %s: "
				    "target table %s has no column \"%s\" "
				    "(its columns: %s); select or rename "
				    "source columns with columns/rename",
				    ctx->job_id, ctx->step, cs->dtable,
				    cols[j].name, tmp.data);
				nf_buf_free(&tmp);
				goto out;
			}
		}
	}
	key = nf_val_get(ctx->spec, "key");
	for (i = 0; cs->mode == COPY_UPSERT && i < key->u.a.n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(cols[j].name, key->u.a.items[i]->u.s.p) == 0)
				break;
		if (j == n) {
			nf_step_fail(ctx, "error", "job %s step %s: key column "
			    "\"%s\" is not among the copied columns",
			    ctx->job_id, ctx->step, key->u.a.items[i]->u.s.p);
			goto out;
		}
	}

	if (nf_db_exec(cs->dst, nf_db_driver(cs->dst) == NF_DB_SQLITE ?
	    "BEGIN IMMEDIATE" : "BEGIN", &err) == -1) {
		copy_fail(cs, cs->dst, "cannot begin a transaction", &err);
		goto out;
	}
	written = 0;
	if (cs->mode == COPY_OVERWRITE) {
		nf_buf_printf(&newt, "%.*s%s%s", (int)(copy_base(cs->dtable) -
		    cs->dtable), cs->dtable, copy_base(cs->dtable),
		    COPY_NEW_SUFFIX);
		nf_buf_adds(&q, "DROP TABLE IF EXISTS ");
		nf_db_qname(&q, newt.data);
		if (nf_db_exec(cs->dst, q.data, &err) == -1)
			goto dst_failed;
		nf_buf_reset(&q);
		nf_buf_adds(&q, "CREATE TABLE ");
		nf_db_qname(&q, newt.data);
		nf_buf_adds(&q, " (");
		for (j = 0; j < n; j++) {
			if (j > 0)
				nf_buf_adds(&q, ", ");
			nf_db_ident(&q, cols[j].name);
			nf_buf_addc(&q, ' ');
			nf_db_type_ddl(cs->dst, &cols[j], &q);
		}
		nf_buf_adds(&q, ")");
		if (nf_db_exec(cs->dst, q.data, &err) == -1)
			goto dst_failed;
		nf_buf_reset(&q);
		copy_insert_sql(cs, newt.data, cols, n, NULL, &q);
		if (copy_stream(cs, sel.data, newt.data, cols, n, q.data) == -1)
			goto rollback;
		written = cs->rows;
		nf_buf_reset(&q);
		nf_buf_adds(&q, "DROP TABLE IF EXISTS ");
		nf_db_qname(&q, cs->dtable);
		if (nf_db_exec(cs->dst, q.data, &err) == -1)
			goto dst_failed;
		nf_buf_reset(&q);
		nf_buf_adds(&q, "ALTER TABLE ");
		nf_db_qname(&q, newt.data);
		nf_buf_adds(&q, " RENAME TO ");
		nf_db_ident(&q, copy_base(cs->dtable));
		if (nf_db_exec(cs->dst, q.data, &err) == -1)
			goto dst_failed;
	} else if (cs->mode == COPY_APPEND ||
	    nf_db_driver(cs->dst) == NF_DB_SQLITE) {
		copy_insert_sql(cs, cs->dtable, cols, n, NULL, &q);
		if (copy_stream(cs, sel.data, cs->dtable, cols, n, q.data) ==
		    -1)
			goto rollback;
		written = cs->rows;
	} else {
		/* PostgreSQL upsert: COPY into a stage, then merge. */
		nf_buf_adds(&q, "CREATE TEMPORARY TABLE nf_copy_stage (LIKE ");
		nf_db_qname(&q, cs->dtable);
		nf_buf_adds(&q, ") ON COMMIT DROP");
		if (nf_db_exec(cs->dst, q.data, &err) == -1)
			goto dst_failed;
		if (copy_stream(cs, sel.data, "nf_copy_stage", cols, n,
		    NULL) == -1)
			goto rollback;
		nf_buf_reset(&q);
		copy_insert_sql(cs, cs->dtable, cols, n, "nf_copy_stage", &q);
		if (nf_db_query(cs->dst, q.data, &(const char *){ NULL },
		    &(struct nf_db_sink){ 0 }, &ret, &aff, &empty, &err) == -1)
			goto dst_failed;
		written = aff;
	}
	if (cs->dry_run) {
		if (nf_db_exec(cs->dst, "ROLLBACK", &err) == -1)
			goto dst_failed;
		nf_step_log(ctx, "worker", NF_LOG_INFO, "dry run: %lld rows "
		    "would be written to %s (mode %s); rolled back, nothing "
		    "was changed", (long long)written, cs->dtable,
		    mode_names[cs->mode]);
	} else if (nf_db_exec(cs->dst, "COMMIT", &err) == -1)
		goto dst_failed;

	ms = nf_mono_ms() - cs->t0;
	copy_progress(cs, cs->rows);
	out = nf_val_map();
	nf_val_map_set_int(out, "rows_read", cs->rows);
	nf_val_map_set_int(out, "rows_written", written);
	nf_val_map_set_int(out, "elapsed_ms", ms);
	nf_val_map_set_str(out, "mode", mode_names[cs->mode]);
	nf_val_map_set_bool(out, "dry_run", cs->dry_run);
	nf_step_output(ctx, out);
	nf_step_log(ctx, "worker", NF_LOG_INFO, "sql_copy %s: %lld rows read, "
	    "%lld written to %s in %lld ms", mode_names[cs->mode],
	    (long long)cs->rows, (long long)written, cs->dtable,
	    (long long)ms);
	res = nf_step_result_new(1, NULL, NULL);
	nf_val_map_set_int(res, "rows_affected", cs->dry_run ? 0 : written);
	nf_step_result(ctx, res);
	rc = 0;
	goto out;

dst_failed:
	copy_fail(cs, cs->dst, "the target failed", &err);
rollback:
	(void)nf_db_exec(cs->dst, "ROLLBACK", &err);
out:
	nf_buf_free(&sel);
	nf_buf_free(&q);
	nf_buf_free(&newt);
	nf_db_cols_free(cols, n);
	nf_db_cols_free(tcols, tn);
	return rc;
}

const struct nf_step_impl nf_step_sql_copy = {
	"sql_copy", NULL, copy_prepare, copy_run
};
