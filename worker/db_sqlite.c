/*
 * db_sqlite.c: the SQLite driver of the worker's database layer; the
 * worker's only user of sqlite3.h (the supervisor's store is another
 * process and module).
 *
 * Runs in nomaflow-worker.  open (in a step's prepare, before the
 * sandbox) opens the pool's database and touches it once so that the
 * file, its WAL/shm and the PRNG's /dev/urandom are open before the "sql"
 * seccomp policy; everything else runs sandboxed.
 *
 * Invariants: one statement at a time per connection (query, a read or a
 * write); statements are finalized before the call that started them
 * returns an error.  Parameters are always bound, never interpolated.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "db_driver.h"
#include "step.h"
#include "util.h"

#define SQLITE_BUSY_MS	5000

#if SQLITE_VERSION_NUMBER >= 3037000
#define lite_changes(db)	sqlite3_changes64(db)
#else
#define lite_changes(db)	((sqlite3_int64)sqlite3_changes(db))
#endif

struct lite {
	sqlite3		*db;
	sqlite3_stmt	*rd;		/* streaming read */
	sqlite3_stmt	*wr;		/* streaming write */
	const struct nf_db_col *wcols;
	int		 ncols;
	struct nf_db_cell *cells;
	struct nf_buf	*bufs;		/* per-column text of the read row */
};

static const struct {
	int		 code;
	const char	*name;
} lite_codes[] = {
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
static void
lite_code_name(int code, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < NF_NELEM(lite_codes); i++)
		if (lite_codes[i].code == code) {
			snprintf(buf, len, "%s", lite_codes[i].name);
			return;
		}
	for (i = 0; i < NF_NELEM(lite_codes); i++)
		if (lite_codes[i].code == (code & 0xff)) {
			snprintf(buf, len, "%s (extended code %d)",
			    lite_codes[i].name, code);
			return;
		}
	snprintf(buf, len, "SQLite code %d", code);
}

/* The connection's current error into err (position relative to sql). */
static int
lite_err(struct lite *l, const char *what, struct nf_db_err *err)
{
	int	code, off = -1;

	code = sqlite3_extended_errcode(l->db);
	memset(err, 0, sizeof(*err));
	lite_code_name(code, err->code, sizeof(err->code));
	snprintf(err->msg, sizeof(err->msg), "%s%s%s", what != NULL ? what :
	    "", what != NULL ? ": " : "", sqlite3_errmsg(l->db));
	snprintf(err->detail, sizeof(err->detail), "%s", sqlite3_errstr(code));
#if SQLITE_VERSION_NUMBER >= 3038000
	off = sqlite3_error_offset(l->db);
#endif
	err->pos = off >= 0 ? off + 1 : 0;
	err->canceled = (code & 0xff) == SQLITE_INTERRUPT;
	return -1;
}

static int
lite_open(struct nf_db *db, const struct nf_val *pool, struct nf_db_err *err)
{
	struct lite	*l;
	const char	*path;
	unsigned int	 seed;
	int		 rc;

	path = nf_val_get_str(pool, "path");
	if (path == NULL || *path == '\0')
		return nf_db_seterr(err, "", "pool %s has no path", db->name);
	db->where = nf_xstrdup(path);
	l = nf_xcalloc(1, sizeof(*l));
	db->h = l;
	rc = sqlite3_open_v2(path, &l->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		if (l->db == NULL)
			return nf_db_seterr(err, "", "cannot open SQLite "
			    "database %s: %s", path, sqlite3_errstr(rc));
		return lite_err(l, "cannot open the database", err);
	}
	(void)sqlite3_extended_result_codes(l->db, 1);
	(void)sqlite3_busy_timeout(l->db, SQLITE_BUSY_MS);
	/*
	 * Under the sandbox no new file should be needed: sort in memory
	 * rather than in temp files, read the schema now (this opens the WAL
	 * and shm of a WAL database) and seed SQLite's PRNG (which opens
	 * /dev/urandom) while open(2) is still allowed.
	 */
	if (sqlite3_exec(l->db, "PRAGMA temp_store = MEMORY", NULL, NULL,
	    NULL) != SQLITE_OK ||
	    sqlite3_exec(l->db, "PRAGMA schema_version", NULL, NULL,
	    NULL) != SQLITE_OK)
		return lite_err(l, "cannot read the database", err);
	sqlite3_randomness(sizeof(seed), &seed);
	return 0;
}

static void
lite_close(struct nf_db *db)
{
	struct lite	*l = db->h;
	int		 i;

	if (l == NULL)
		return;
	(void)sqlite3_finalize(l->rd);
	(void)sqlite3_finalize(l->wr);
	if (l->db != NULL && !sqlite3_get_autocommit(l->db))
		(void)sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
	(void)sqlite3_close(l->db);
	for (i = 0; l->bufs != NULL && i < l->ncols; i++)
		nf_buf_free(&l->bufs[i]);
	free(l->bufs);
	free(l->cells);
	free(l);
}

static int
lite_exec(struct nf_db *db, const char *sql, struct nf_db_err *err)
{
	struct lite	*l = db->h;

	if (sqlite3_exec(l->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return lite_err(l, NULL, err);
	return 0;
}

static int
lite_interrupt(struct nf_db *db)
{
	struct lite	*l = db->h;

	sqlite3_interrupt(l->db);
	return 0;
}

static int
lite_bind_val(sqlite3_stmt *st, int i, const struct nf_val *v)
{
	switch (v->type) {
	case NF_V_NIL:
		return sqlite3_bind_null(st, i);
	case NF_V_BOOL:
		return sqlite3_bind_int(st, i, v->u.b ? 1 : 0);
	case NF_V_INT:
		return sqlite3_bind_int64(st, i, v->u.i);
	case NF_V_FLOAT:
		return sqlite3_bind_double(st, i, v->u.f);
	case NF_V_STR:
		return sqlite3_bind_text64(st, i, v->u.s.p, v->u.s.len,
		    SQLITE_STATIC, SQLITE_UTF8);
	case NF_V_BIN:
		return sqlite3_bind_blob64(st, i, v->u.s.p, v->u.s.len,
		    SQLITE_STATIC);
	default:
		return SQLITE_MISMATCH;
	}
}

static struct nf_val *
lite_value(sqlite3_stmt *st, int i)
{
	struct nf_buf	 b;
	struct nf_val	*v;
	const void	*p;
	int		 n;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_INTEGER:
		return nf_val_int(sqlite3_column_int64(st, i));
	case SQLITE_FLOAT:
		return nf_val_float(sqlite3_column_double(st, i));
	case SQLITE_TEXT:
		p = sqlite3_column_text(st, i);
		n = sqlite3_column_bytes(st, i);
		nf_buf_init(&b);
		nf_step_utf8_sanitize(&b, p != NULL ? p : "", (size_t)n);
		v = nf_val_strn(b.data != NULL ? b.data : "", b.len);
		nf_buf_free(&b);
		return v;
	case SQLITE_BLOB:
		p = sqlite3_column_blob(st, i);
		n = sqlite3_column_bytes(st, i);
		return nf_val_bin(p != NULL ? p : "", (size_t)n);
	default:
		return nf_val_nil();
	}
}

static int
lite_query(struct nf_db *db, const char *sql, const char **tail,
    const struct nf_db_sink *sink, int64_t *returned, int64_t *affected,
    int *empty, struct nf_db_err *err)
{
	struct lite		*l = db->h;
	sqlite3_stmt		*st = NULL;
	const struct nf_val	*v;
	const char		*name, **names;
	struct nf_val		**vals;
	int			 rc, i, n, ncol, stop = 0, readonly;

	rc = sqlite3_prepare_v2(l->db, sql, -1, &st, tail);
	if (rc != SQLITE_OK)
		return lite_err(l, NULL, err);
	if (st == NULL) {
		*empty = 1;
		return 0;
	}
	n = sqlite3_bind_parameter_count(st);
	for (i = 1; i <= n; i++) {
		name = sqlite3_bind_parameter_name(st, i);
		if (name == NULL || name[0] == '?') {
			(void)sqlite3_finalize(st);
			return nf_db_seterr(err, "", "positional parameter "
			    "?%d is not supported; name it (:name) and set it "
			    "in params", i);
		}
		v = sink->param(sink->arg, name + 1);
		if (v == NULL) {
			(void)sqlite3_finalize(st);
			nf_db_seterr(err, "", "parameter %s is not set", name);
			err->pos = -1;	/* the caller lists the params */
			return -1;
		}
		if ((rc = lite_bind_val(st, i, v)) != SQLITE_OK) {
			(void)sqlite3_finalize(st);
			if (rc == SQLITE_MISMATCH)
				return nf_db_seterr(err, "", "parameter %s is "
				    "%s; only strings, numbers, booleans and "
				    "null can be bound", name,
				    nf_val_type_name(v->type));
			return lite_err(l, "cannot bind a parameter", err);
		}
	}
	readonly = sqlite3_stmt_readonly(st);
	ncol = sqlite3_column_count(st);
	names = nf_xcalloc((size_t)ncol + 1, sizeof(*names));
	for (i = 0; i < ncol; i++) {
		names[i] = sqlite3_column_name(st, i);
		if (names[i] == NULL)
			names[i] = "?";
	}
	if (sink->columns != NULL)
		sink->columns(sink->arg, names, ncol);
	free(names);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		(*returned)++;
		if (stop) {
			if (readonly)
				break;
			continue;
		}
		vals = nf_xcalloc((size_t)ncol + 1, sizeof(*vals));
		for (i = 0; i < ncol; i++)
			vals[i] = lite_value(st, i);
		stop = sink->row(sink->arg, vals, ncol);
		free(vals);
	}
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		lite_err(l, NULL, err);
		(void)sqlite3_finalize(st);
		return -1;
	}
	(void)sqlite3_finalize(st);
	*affected = readonly ? 0 : lite_changes(l->db);
	return 0;
}

static int
lite_describe(struct nf_db *db, const char *select, struct nf_db_col **cols,
    int *ncols, struct nf_db_err *err)
{
	struct lite	*l = db->h;
	sqlite3_stmt	*st = NULL;
	const char	*name;
	int		 i, n;

	if (sqlite3_prepare_v2(l->db, select, -1, &st, NULL) != SQLITE_OK)
		return lite_err(l, "cannot prepare the source query", err);
	if (st == NULL)
		return nf_db_seterr(err, "", "the source query is empty");
	n = sqlite3_column_count(st);
	*cols = nf_xcalloc((size_t)n + 1, sizeof(**cols));
	for (i = 0; i < n; i++) {
		name = sqlite3_column_name(st, i);
		(*cols)[i].name = nf_xstrdup(name != NULL ? name : "?");
		nf_db_decl_class(sqlite3_column_decltype(st, i), &(*cols)[i]);
		/* An expression has no declared type: say text. */
		if (sqlite3_column_decltype(st, i) == NULL)
			(*cols)[i].cls = NF_DBC_TEXT;
	}
	*ncols = n;
	(void)sqlite3_finalize(st);
	return 0;
}

static int
lite_table_columns(struct nf_db *db, const char *table,
    struct nf_db_col **cols, int *ncols, struct nf_db_err *err)
{
	struct lite	*l = db->h;
	sqlite3_stmt	*st = NULL;
	int		 n = 0, rc;

	if (sqlite3_prepare_v2(l->db, "SELECT name, type FROM "
	    "pragma_table_info(?1)", -1, &st, NULL) != SQLITE_OK)
		return lite_err(l, "cannot read the table's columns", err);
	(void)sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*cols = nf_xreallocarray(*cols, (size_t)n + 1,
		    sizeof(**cols));
		memset(&(*cols)[n], 0, sizeof(**cols));
		(*cols)[n].name = nf_xstrdup((const char *)
		    sqlite3_column_text(st, 0));
		nf_db_decl_class((const char *)sqlite3_column_text(st, 1),
		    &(*cols)[n]);
		n++;
	}
	*ncols = n;
	if (rc != SQLITE_DONE) {
		lite_err(l, "cannot read the table's columns", err);
		(void)sqlite3_finalize(st);
		return -1;
	}
	(void)sqlite3_finalize(st);
	return 0;
}

/* Declared types chosen so that SQLite's affinity keeps values exact. */
static void
lite_type_ddl(const struct nf_db_col *c, struct nf_buf *b)
{
	switch (c->cls) {
	case NF_DBC_INT:
		nf_buf_adds(b, c->bits == 16 ? "SMALLINT" : c->bits == 32 ?
		    "INT4" : "BIGINT");
		break;
	case NF_DBC_FLOAT:
		nf_buf_adds(b, c->bits == 32 ? "FLOAT4" : "DOUBLE PRECISION");
		break;
	case NF_DBC_NUMERIC:
		/* TEXT affinity: a REAL would lose digits. */
		if (c->prec > 0 && c->scale >= 0)
			nf_buf_printf(b, "DECIMALTEXT(%d,%d)", c->prec,
			    c->scale);
		else
			nf_buf_adds(b, "DECIMALTEXT");
		break;
	case NF_DBC_BLOB:
		nf_buf_adds(b, "BLOB");
		break;
	case NF_DBC_BOOL:
		nf_buf_adds(b, "BOOLEAN");
		break;
	case NF_DBC_DATE:
		nf_buf_adds(b, "DATE");
		break;
	case NF_DBC_TIME:
		nf_buf_adds(b, "TIME");
		break;
	case NF_DBC_TIMESTAMP:
		nf_buf_adds(b, "TIMESTAMP");
		break;
	case NF_DBC_TIMESTAMPTZ:
		nf_buf_adds(b, "TIMESTAMPTZ");
		break;
	default:
		if (c->prec > 0)
			nf_buf_printf(b, "VARCHAR(%d)", c->prec);
		else
			nf_buf_adds(b, "TEXT");
		break;
	}
}

static void
lite_expr_trunc(const char *e, struct nf_buf *b)
{
	nf_buf_printf(b, "CAST(%s AS INTEGER)", e);
}

static int
lite_read_begin(struct nf_db *db, const char *select,
    const struct nf_db_col *cols, int ncols, struct nf_db_err *err)
{
	struct lite	*l = db->h;
	int		 i;

	if (sqlite3_prepare_v2(l->db, select, -1, &l->rd, NULL) != SQLITE_OK)
		return lite_err(l, "cannot prepare the source query", err);
	l->wcols = cols;
	l->ncols = ncols;
	l->cells = nf_xcalloc((size_t)ncols + 1, sizeof(*l->cells));
	l->bufs = nf_xcalloc((size_t)ncols + 1, sizeof(*l->bufs));
	for (i = 0; i < ncols; i++)
		nf_buf_init(&l->bufs[i]);
	return 0;
}

/* A double as the shortest text that reads back the same. */
static void
lite_fmt_double(double d, struct nf_buf *b)
{
	char	tmp[64];
	int	prec;

	if (isnan(d)) {
		nf_buf_adds(b, "NaN");
		return;
	}
	if (isinf(d)) {
		nf_buf_adds(b, d > 0 ? "Infinity" : "-Infinity");
		return;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	nf_buf_adds(b, tmp);
}

static int
lite_read_row(struct nf_db *db, const struct nf_db_cell **cells,
    struct nf_db_err *err)
{
	struct lite		*l = db->h;
	struct nf_db_cell	*c;
	struct nf_buf		*b;
	int			 rc, i, t;
	sqlite3_int64		 iv;

	rc = sqlite3_step(l->rd);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return lite_err(l, "reading the source failed", err);
	for (i = 0; i < l->ncols; i++) {
		c = &l->cells[i];
		b = &l->bufs[i];
		nf_buf_reset(b);
		c->null = 0;
		t = sqlite3_column_type(l->rd, i);
		switch (t) {
		case SQLITE_NULL:
			c->null = 1;
			break;
		case SQLITE_INTEGER:
			iv = sqlite3_column_int64(l->rd, i);
			if (l->wcols[i].cls == NF_DBC_BOOL)
				nf_buf_adds(b, iv != 0 ? "t" : "f");
			else
				nf_buf_printf(b, "%lld", (long long)iv);
			break;
		case SQLITE_FLOAT:
			lite_fmt_double(sqlite3_column_double(l->rd, i), b);
			break;
		default:
			nf_buf_add(b, t == SQLITE_BLOB ?
			    sqlite3_column_blob(l->rd, i) :
			    (const void *)sqlite3_column_text(l->rd, i),
			    (size_t)sqlite3_column_bytes(l->rd, i));
			break;
		}
		c->p = b->data != NULL ? b->data : "";
		c->len = b->len;
	}
	*cells = l->cells;
	return 1;
}

static void
lite_read_end(struct nf_db *db)
{
	struct lite	*l = db->h;

	(void)sqlite3_finalize(l->rd);
	l->rd = NULL;
}

static int
lite_write_begin(struct nf_db *db, const char *table,
    const struct nf_db_col *cols, int ncols, const char *insert_sql,
    struct nf_db_err *err)
{
	struct lite	*l = db->h;

	(void)table;
	if (sqlite3_prepare_v2(l->db, insert_sql, -1, &l->wr, NULL) !=
	    SQLITE_OK)
		return lite_err(l, "cannot prepare the insert", err);
	l->wcols = cols;
	l->ncols = ncols;
	return 0;
}

static int
lite_write_row(struct nf_db *db, const struct nf_db_cell *cells,
    struct nf_db_err *err)
{
	struct lite	*l = db->h;
	const struct nf_db_cell *c;
	char		 tmp[64], *end;
	long long	 iv;
	double		 dv;
	int		 i, rc;

	for (i = 0; i < l->ncols; i++) {
		c = &cells[i];
		if (c->null) {
			rc = sqlite3_bind_null(l->wr, i + 1);
			goto bound;
		}
		switch (l->wcols[i].cls) {
		case NF_DBC_INT:
		case NF_DBC_FLOAT:
		case NF_DBC_BOOL:
			if (c->len >= sizeof(tmp))
				goto text;
			memcpy(tmp, c->p, c->len);
			tmp[c->len] = '\0';
			if (l->wcols[i].cls == NF_DBC_BOOL) {
				rc = sqlite3_bind_int(l->wr, i + 1,
				    tmp[0] == 't' || tmp[0] == '1');
				break;
			}
			if (l->wcols[i].cls == NF_DBC_INT) {
				iv = strtoll(tmp, &end, 10);
				if (*end != '\0' || end == tmp)
					goto text;
				rc = sqlite3_bind_int64(l->wr, i + 1, iv);
				break;
			}
			dv = strtod(tmp, &end);
			/* SQLite stores a NaN REAL as NULL: keep "NaN". */
			if (*end != '\0' || end == tmp || isnan(dv))
				goto text;
			rc = sqlite3_bind_double(l->wr, i + 1, dv);
			break;
		case NF_DBC_BLOB:
			rc = sqlite3_bind_blob64(l->wr, i + 1, c->p, c->len,
			    SQLITE_STATIC);
			break;
		default:
text:
			rc = sqlite3_bind_text64(l->wr, i + 1, c->p, c->len,
			    SQLITE_STATIC, SQLITE_UTF8);
			break;
		}
bound:
		if (rc != SQLITE_OK)
			return lite_err(l, "cannot bind a value", err);
	}
	rc = sqlite3_step(l->wr);
	(void)sqlite3_reset(l->wr);
	if (rc != SQLITE_DONE)
		return lite_err(l, "writing a row failed", err);
	return 0;
}

static int
lite_write_end(struct nf_db *db, struct nf_db_err *err)
{
	struct lite	*l = db->h;

	(void)err;
	(void)sqlite3_finalize(l->wr);
	l->wr = NULL;
	return 0;
}

const struct nf_db_ops nf_db_sqlite_ops = {
	lite_open, lite_close, lite_exec, lite_query, lite_interrupt,
	lite_describe, lite_table_columns, lite_type_ddl, lite_expr_trunc,
	lite_read_begin, lite_read_row, lite_read_end, lite_write_begin,
	lite_write_row, lite_write_end
};
