/*
 * db.h: the worker's database driver layer, used by the sql_query step
 * (step_sql.c) and the sql_copy step (step_copy.c).
 *
 * Two drivers: worker/db_sqlite.c (the worker's only user of sqlite3.h)
 * and worker/db_pg.c (the only user of libpq-fe.h).  A step opens a
 * connection with nf_db_open() in its prepare phase (before the sandbox:
 * files, DNS, sockets, TLS set-up all happen there) and uses it in run.
 *
 * Values crossing drivers (sql_copy) travel as cells in a canonical text
 * form per class, so each driver converts only between its own native
 * representation and this one:
 *   INT        decimal digits ("-42")
 *   FLOAT      shortest text that reads back to the same double, or
 *              "NaN", "Infinity", "-Infinity"
 *   NUMERIC    exact decimal text ("12345.6700")
 *   TEXT       UTF-8
 *   BLOB       the raw bytes
 *   BOOL       "t" or "f"
 *   DATE       "YYYY-MM-DD"; TIME "HH:MM:SS[.ffffff]";
 *   TIMESTAMP  "YYYY-MM-DD HH:MM:SS[.ffffff]";
 *   TIMESTAMPTZ the same in UTC followed by "+00"
 * PostgreSQL sessions run with TimeZone UTC and ISO dates so that this is
 * what they read and write.
 *
 * Every function that can fail fills a struct nf_db_err and returns -1.
 */
#ifndef NF_DB_H
#define NF_DB_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "val.h"

struct nf_db;

enum nf_db_driver { NF_DB_SQLITE = 0, NF_DB_PG };

enum nf_db_class {
	NF_DBC_TEXT = 0,	/* also the class of anything unknown */
	NF_DBC_INT,
	NF_DBC_FLOAT,
	NF_DBC_NUMERIC,
	NF_DBC_BLOB,
	NF_DBC_BOOL,
	NF_DBC_DATE,
	NF_DBC_TIME,
	NF_DBC_TIMESTAMP,
	NF_DBC_TIMESTAMPTZ,
};

struct nf_db_err {
	char	msg[1024];	/* the server's or library's message */
	char	code[64];	/* SQLSTATE ("42P01") or SQLite code name */
	char	detail[512];	/* DETAIL/HINT, or "" */
	int	pos;		/* 1-based character in the statement, 0 */
	int	canceled;	/* stopped by nf_db_interrupt() */
};

struct nf_db_col {
	char		*name;
	enum nf_db_class cls;
	int		 bits;	/* INT: 16, 32 or 64; FLOAT: 32 or 64 */
	int		 prec;	/* NUMERIC precision, TEXT length; -1 none */
	int		 scale;	/* NUMERIC scale; -1 none */
};

struct nf_db_cell {
	int		 null;
	const char	*p;	/* canonical text, or BLOB bytes */
	size_t		 len;
};

/*
 * Callbacks of nf_db_query(): columns once (before the first row, also
 * for a statement returning none), then each row as values (the callee
 * takes ownership of vals[0..n-1]).  row returns 1 to have the rest of
 * the rows skipped (the statement still runs to completion).
 */
struct nf_db_sink {
	void	 *arg;
	void	(*columns)(void *, const char *const *names, int n);
	int	(*row)(void *, struct nf_val **vals, int n);
	/* The value bound to :name, or NULL when it is not set. */
	const struct nf_val *(*param)(void *, const char *name);
};

/* Connect: pool is step_start's pool map ({name, driver, path|conninfo}). */
struct nf_db	*nf_db_open(const struct nf_val *pool, struct nf_db_err *);
void		 nf_db_close(struct nf_db *);
enum nf_db_driver nf_db_driver(const struct nf_db *);
const char	*nf_db_name(const struct nf_db *);	/* pool name */
/* Where the pool lives, for messages: the path, or "host:port/dbname". */
const char	*nf_db_where(const struct nf_db *);

/* Run SQL without parameters or results (BEGIN, DDL, ...). */
int	nf_db_exec(struct nf_db *, const char *sql, struct nf_db_err *);

/*
 * Run the first statement of sql (up to a ';' outside quotes and
 * comments); *tail is set to the text after it.  Named parameters :name
 * are bound through sink->param by the driver.  *returned is the number of
 * rows the statement returned, *affected the rows it changed (0 for a
 * query).  *empty is set when sql held only blanks and comments.
 */
int	nf_db_query(struct nf_db *, const char *sql, const char **tail,
	    const struct nf_db_sink *, int64_t *returned, int64_t *affected,
	    int *empty, struct nf_db_err *);

/*
 * Stop the statement in progress on this connection: PostgreSQL gets a
 * cancel request, SQLite is interrupted.  Safe to call from a signal
 * handler.  Returns 0 when the request was sent.
 */
int	nf_db_interrupt(struct nf_db *);

/* Column names and classes a SELECT would return, without running it. */
int	nf_db_describe(struct nf_db *, const char *select, struct nf_db_col **,
	    int *ncols, struct nf_db_err *);
/* The columns of a table; *ncols = 0 when it does not exist. */
int	nf_db_table_columns(struct nf_db *, const char *table,
	    struct nf_db_col **, int *ncols, struct nf_db_err *);
void	nf_db_cols_free(struct nf_db_col *, int ncols);
/* The column type this driver creates for a column of class c. */
void	nf_db_type_ddl(const struct nf_db *, const struct nf_db_col *c,
	    struct nf_buf *);
/* An expression truncating the numeric expression e to an integer. */
void	nf_db_expr_trunc(const struct nf_db *, const char *e,
	    struct nf_buf *);
/* Append "name" as a quoted identifier. */
void	nf_db_ident(struct nf_buf *, const char *name);
/* Append schema.table as "schema"."table" (each dot separates a part). */
void	nf_db_qname(struct nf_buf *, const char *name);

/*
 * Streaming reads: rows of select, as cells in canonical form, valid
 * until the next call.  read_row returns 1 (a row), 0 (end) or -1.
 */
int	nf_db_read_begin(struct nf_db *, const char *select,
	    const struct nf_db_col *cols, int ncols, struct nf_db_err *);
int	nf_db_read_row(struct nf_db *, const struct nf_db_cell **,
	    struct nf_db_err *);
void	nf_db_read_end(struct nf_db *);

/*
 * Streaming writes of rows into table(cols...).  For SQLite, insert_sql is
 * the INSERT (or upsert) statement with one ? per column; PostgreSQL
 * ignores it and streams with COPY FROM STDIN into table.
 */
int	nf_db_write_begin(struct nf_db *, const char *table,
	    const struct nf_db_col *cols, int ncols, const char *insert_sql,
	    struct nf_db_err *);
int	nf_db_write_row(struct nf_db *, const struct nf_db_cell *,
	    struct nf_db_err *);
int	nf_db_write_end(struct nf_db *, struct nf_db_err *);

/*
 * PostgreSQL to PostgreSQL: COPY (select) TO STDOUT on src straight into
 * COPY table (collist) FROM STDIN on dst, in chunks; every ~progress_rows
 * rows progress(arg, rows) is called.  *rows is the number of rows copied.
 */
int	nf_db_pg_copy(struct nf_db *src, const char *select, struct nf_db *dst,
	    const char *table, const char *collist, int64_t progress_rows,
	    void (*progress)(void *, int64_t), void *arg, int64_t *rows,
	    struct nf_db_err *);

/* db_params.c: the SQL text scanner (pure). */
/*
 * Rewrite the first statement of sql for PostgreSQL: every :name outside
 * quotes, comments and dollar quotes becomes $n (the same name the same
 * n); names gets the distinct names in order (free with nf_db_names_free).
 * Returns the length of the statement including its ';' (so sql + ret is
 * the tail), and sets *blank when the statement has only blanks and
 * comments.
 */
size_t	nf_db_scan(const char *sql, struct nf_buf *out, char ***names,
	    size_t *nnames, int *blank);
void	nf_db_names_free(char **names, size_t n);

#endif
