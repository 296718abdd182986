/*
 * db.c: the dispatcher of the worker's database layer: picks the driver
 * from the pool's "driver" and forwards each call to it (db_driver.h).
 * Runs in nomaflow-worker; holds no library of its own.  Also the parts
 * shared by both drivers: quoting identifiers, errors, and the mapping of
 * declared type names to classes (used by SQLite, and for the DDL types
 * either driver wrote).
 */
#include "autoconf.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db_driver.h"
#include "util.h"

int
nf_db_seterr(struct nf_db_err *e, const char *code, const char *fmt, ...)
{
	va_list	ap;

	memset(e, 0, sizeof(*e));
	snprintf(e->code, sizeof(e->code), "%s", code != NULL ? code : "");
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

struct nf_db *
nf_db_open(const struct nf_val *pool, struct nf_db_err *err)
{
	struct nf_db	*db;
	const char	*driver, *name;

	driver = nf_val_get_str(pool, "driver");
	name = nf_val_get_str(pool, "name");
	db = nf_xcalloc(1, sizeof(*db));
	db->name = nf_xstrdup(name != NULL ? name : "?");
	if (driver != NULL && strcmp(driver, "sqlite") == 0) {
		db->driver = NF_DB_SQLITE;
		db->ops = &nf_db_sqlite_ops;
	} else if (driver != NULL && strcmp(driver, "postgres") == 0) {
#ifdef NF_WORKER_NO_PG
		/* nomaflowd runs nomaflow-worker-sql for PostgreSQL pools. */
		nf_db_seterr(err, "", "pool %s: this worker (SQLite only) has "
		    "no PostgreSQL driver", db->name);
		free(db->name);
		free(db);
		return NULL;
#else
		db->driver = NF_DB_PG;
		db->ops = &nf_db_pg_ops;
#endif
	} else {
		nf_db_seterr(err, "", "pool %s: unknown driver \"%s\"",
		    db->name, driver != NULL ? driver : "");
		free(db->name);
		free(db);
		return NULL;
	}
	if (db->ops->open(db, pool, err) == -1) {
		nf_db_close(db);
		return NULL;
	}
	return db;
}

void
nf_db_close(struct nf_db *db)
{
	if (db == NULL)
		return;
	db->ops->close(db);
	free(db->name);
	free(db->where);
	free(db);
}

enum nf_db_driver
nf_db_driver(const struct nf_db *db)
{
	return db->driver;
}

const char *
nf_db_name(const struct nf_db *db)
{
	return db->name;
}

const char *
nf_db_where(const struct nf_db *db)
{
	return db->where != NULL ? db->where : "?";
}

int
nf_db_exec(struct nf_db *db, const char *sql, struct nf_db_err *err)
{
	return db->ops->exec(db, sql, err);
}

int
nf_db_query(struct nf_db *db, const char *sql, const char **tail,
    const struct nf_db_sink *sink, int64_t *returned, int64_t *affected,
    int *empty, struct nf_db_err *err)
{
	*returned = *affected = 0;
	*empty = 0;
	return db->ops->query(db, sql, tail, sink, returned, affected, empty,
	    err);
}

int
nf_db_interrupt(struct nf_db *db)
{
	return db->ops->interrupt(db);
}

int
nf_db_describe(struct nf_db *db, const char *select, struct nf_db_col **cols,
    int *ncols, struct nf_db_err *err)
{
	*cols = NULL;
	*ncols = 0;
	return db->ops->describe(db, select, cols, ncols, err);
}

int
nf_db_table_columns(struct nf_db *db, const char *table,
    struct nf_db_col **cols, int *ncols, struct nf_db_err *err)
{
	*cols = NULL;
	*ncols = 0;
	return db->ops->table_columns(db, table, cols, ncols, err);
}

void
nf_db_cols_free(struct nf_db_col *cols, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		free(cols[i].name);
	free(cols);
}

void
nf_db_type_ddl(const struct nf_db *db, const struct nf_db_col *c,
    struct nf_buf *b)
{
	db->ops->type_ddl(c, b);
}

void
nf_db_expr_trunc(const struct nf_db *db, const char *e, struct nf_buf *b)
{
	db->ops->expr_trunc(e, b);
}

void
nf_db_ident(struct nf_buf *b, const char *name)
{
	nf_buf_addc(b, '"');
	for (; *name != '\0'; name++) {
		if (*name == '"')
			nf_buf_addc(b, '"');
		nf_buf_addc(b, *name);
	}
	nf_buf_addc(b, '"');
}

int
nf_db_read_begin(struct nf_db *db, const char *select,
    const struct nf_db_col *cols, int ncols, struct nf_db_err *err)
{
	return db->ops->read_begin(db, select, cols, ncols, err);
}

int
nf_db_read_row(struct nf_db *db, const struct nf_db_cell **cells,
    struct nf_db_err *err)
{
	return db->ops->read_row(db, cells, err);
}

void
nf_db_read_end(struct nf_db *db)
{
	db->ops->read_end(db);
}

int
nf_db_write_begin(struct nf_db *db, const char *table,
    const struct nf_db_col *cols, int ncols, const char *insert_sql,
    struct nf_db_err *err)
{
	return db->ops->write_begin(db, table, cols, ncols, insert_sql, err);
}

int
nf_db_write_row(struct nf_db *db, const struct nf_db_cell *cells,
    struct nf_db_err *err)
{
	return db->ops->write_row(db, cells, err);
}

int
nf_db_write_end(struct nf_db *db, struct nf_db_err *err)
{
	return db->ops->write_end(db, err);
}

/* Does upper-cased s contain w? */
static int
decl_has(const char *s, const char *w)
{
	return strstr(s, w) != NULL;
}

/* "(p)" or "(p,s)" after the type name. */
static void
decl_args(const char *s, int *a, int *b)
{
	const char	*p;

	*a = *b = -1;
	if ((p = strchr(s, '(')) == NULL)
		return;
	*a = atoi(p + 1);
	if ((p = strchr(p, ',')) != NULL)
		*b = atoi(p + 1);
}

void
nf_db_decl_class(const char *decl, struct nf_db_col *c)
{
	char	u[128];
	size_t	i;

	for (i = 0; decl != NULL && decl[i] != '\0' && i + 1 < sizeof(u);
	    i++)
		u[i] = (char)toupper((unsigned char)decl[i]);
	u[i] = '\0';
	c->bits = 64;
	c->prec = c->scale = -1;
	if (u[0] == '\0' || decl_has(u, "BLOB") || decl_has(u, "BYTEA"))
		c->cls = NF_DBC_BLOB;
	else if (decl_has(u, "BOOL"))
		c->cls = NF_DBC_BOOL;
	else if (decl_has(u, "TIMESTAMPTZ") ||
	    decl_has(u, "WITH TIME ZONE"))
		c->cls = NF_DBC_TIMESTAMPTZ;
	else if (decl_has(u, "TIMESTAMP") || decl_has(u, "DATETIME"))
		c->cls = NF_DBC_TIMESTAMP;
	else if (decl_has(u, "DATE"))
		c->cls = NF_DBC_DATE;
	else if (decl_has(u, "TIME"))
		c->cls = NF_DBC_TIME;
	else if (decl_has(u, "DECIMAL") || decl_has(u, "NUMERIC")) {
		c->cls = NF_DBC_NUMERIC;
		decl_args(u, &c->prec, &c->scale);
	} else if (decl_has(u, "INT")) {
		c->cls = NF_DBC_INT;
		if (decl_has(u, "SMALLINT") || decl_has(u, "INT2"))
			c->bits = 16;
		else if (decl_has(u, "INT4"))
			c->bits = 32;
	} else if (decl_has(u, "REAL") || decl_has(u, "FLOA") ||
	    decl_has(u, "DOUB")) {
		c->cls = NF_DBC_FLOAT;
		if (decl_has(u, "FLOAT4"))
			c->bits = 32;
	} else {
		c->cls = NF_DBC_TEXT;
		if (decl_has(u, "VARCHAR"))
			decl_args(u, &c->prec, &c->scale);
	}
}

void
nf_db_qname(struct nf_buf *b, const char *name)
{
	const char	*dot;
	char		*part;

	while ((dot = strchr(name, '.')) != NULL) {
		part = nf_xstrndup(name, (size_t)(dot - name));
		nf_db_ident(b, part);
		free(part);
		nf_buf_addc(b, '.');
		name = dot + 1;
	}
	nf_db_ident(b, name);
}
