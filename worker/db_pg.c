/*
 * db_pg.c: the PostgreSQL driver of the worker's database layer; the
 * worker's only user of libpq-fe.h.
 *
 * Runs in nomaflow-worker.  open (in a step's prepare, before the
 * sandbox) connects with the pool's conninfo (DNS, files, TLS happen
 * there), fixes the session's formats (UTC, ISO dates, shortest exact
 * floats, UTF-8) and prepares the cancel handle; under the sandbox the
 * driver only reads and writes that socket, and a cancel request opens
 * one more connection (sql.policy allows socket and connect for it).
 *
 * Every path streams: query results arrive in single-row mode, copies use
 * the COPY protocol in text format, so memory stays bounded whatever the
 * size of a table.  Parameters travel separately from the SQL text
 * ($1..$n, db_params.c rewrites :name), never interpolated.
 *
 * Invariant: when a call returns an error, the connection is idle again
 * (results drained, COPY ended) unless the connection itself is lost.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db_driver.h"
#include "step.h"
#include "util.h"

/* Type OIDs of the built-in types (pg_type.h is server-side). */
#define OID_BOOL	16
#define OID_BYTEA	17
#define OID_NAME	19
#define OID_INT8	20
#define OID_INT2	21
#define OID_INT4	23
#define OID_TEXT	25
#define OID_OID		26
#define OID_FLOAT4	700
#define OID_FLOAT8	701
#define OID_BPCHAR	1042
#define OID_VARCHAR	1043
#define OID_DATE	1082
#define OID_TIME	1083
#define OID_TIMESTAMP	1114
#define OID_TIMESTAMPTZ	1184
#define OID_NUMERIC	1700

/* COPY data is sent in chunks of about this size. */
#define PG_CHUNK	(256u << 10)

struct pg {
	PGconn		*conn;
	PGcancel	*cancel;
	/* streaming read (COPY TO STDOUT) */
	int		 reading;
	const struct nf_db_col *rcols;
	int		 nrcols;
	struct nf_db_cell *cells;
	struct nf_buf	*bufs;
	/* streaming write (COPY FROM STDIN) */
	int		 writing;
	const struct nf_db_col *wcols;
	int		 nwcols;
	struct nf_buf	 out;
};

static int
pg_conn_err(struct pg *p, const char *what, struct nf_db_err *err)
{
	char	*m, *nl;

	m = nf_xstrdup(PQerrorMessage(p->conn));
	/* libpq ends its messages with a newline. */
	while ((nl = strrchr(m, '\n')) != NULL && nl[1] == '\0')
		*nl = '\0';
	for (nl = m; *nl != '\0'; nl++)
		if (*nl == '\n')
			*nl = ' ';
	nf_db_seterr(err, "", "%s: %s", what, m);
	free(m);
	return -1;
}

/* The error of a failed result into err; clears res. */
static int
pg_res_err(struct pg *p, PGresult *res, const char *what,
    struct nf_db_err *err)
{
	const char	*f;

	if (res == NULL)
		return pg_conn_err(p, what, err);
	memset(err, 0, sizeof(*err));
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	snprintf(err->msg, sizeof(err->msg), "%s%s%s", what != NULL ? what :
	    "", what != NULL ? ": " : "", f != NULL ? f :
	    PQresultErrorMessage(res));
	f = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	snprintf(err->code, sizeof(err->code), "%s", f != NULL ? f : "");
	err->canceled = f != NULL && strcmp(f, "57014") == 0;
	f = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
	err->pos = f != NULL ? atoi(f) : 0;
	f = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (f == NULL)
		f = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	snprintf(err->detail, sizeof(err->detail), "%s", f != NULL ? f : "");
	PQclear(res);
	return -1;
}

/* Drain the results of the current command; 0 if none failed. */
static void
pg_drain(struct pg *p)
{
	PGresult	*res;

	while ((res = PQgetResult(p->conn)) != NULL)
		PQclear(res);
}

static void
pg_notice(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

static int
pg_open(struct nf_db *db, const struct nf_val *pool, struct nf_db_err *err)
{
	struct pg	*p;
	const char	*ci;
	PGresult	*res;

	ci = nf_val_get_str(pool, "conninfo");
	if (ci == NULL)
		return nf_db_seterr(err, "", "pool %s has no conninfo",
		    db->name);
	p = nf_xcalloc(1, sizeof(*p));
	nf_buf_init(&p->out);
	db->h = p;
	p->conn = PQconnectdb(ci);
	if (p->conn == NULL)
		return nf_db_seterr(err, "", "cannot allocate a connection");
	if (PQstatus(p->conn) != CONNECTION_OK)
		return pg_conn_err(p, "cannot connect", err);
	db->where = nf_xprintf("%s:%s/%s", PQhost(p->conn), PQport(p->conn),
	    PQdb(p->conn));
	/* Server notices ("table does not exist, skipping") are noise. */
	(void)PQsetNoticeProcessor(p->conn, pg_notice, NULL);
	if (PQsetClientEncoding(p->conn, "UTF8") != 0)
		return pg_conn_err(p, "cannot set client_encoding", err);
	res = PQexec(p->conn, "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, "
	    "YMD'; SET extra_float_digits = 1; SET bytea_output = 'hex'");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_res_err(p, res, "cannot set the session up", err);
	PQclear(res);
	if ((p->cancel = PQgetCancel(p->conn)) == NULL)
		return pg_conn_err(p, "cannot prepare a cancel handle", err);
	return 0;
}

static void
pg_close(struct nf_db *db)
{
	struct pg	*p = db->h;
	int		 i;

	if (p == NULL)
		return;
	if (p->cancel != NULL)
		PQfreeCancel(p->cancel);
	if (p->conn != NULL)
		PQfinish(p->conn);
	for (i = 0; p->bufs != NULL && i < p->nrcols; i++)
		nf_buf_free(&p->bufs[i]);
	free(p->bufs);
	free(p->cells);
	nf_buf_free(&p->out);
	free(p);
}

static int
pg_exec(struct nf_db *db, const char *sql, struct nf_db_err *err)
{
	struct pg	*p = db->h;
	PGresult	*res;

	res = PQexec(p->conn, sql);
	if (PQresultStatus(res) != PGRES_COMMAND_OK &&
	    PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_res_err(p, res, "statement failed", err);
	PQclear(res);
	return 0;
}

static int
pg_interrupt(struct nf_db *db)
{
	struct pg	*p = db->h;
	char		 buf[256];

	if (p == NULL || p->cancel == NULL)
		return -1;
	return PQcancel(p->cancel, buf, sizeof(buf)) ? 0 : -1;
}

static struct nf_val *
pg_value(PGresult *res, int row, int col)
{
	struct nf_buf	 b;
	struct nf_val	*v;
	unsigned char	*bin;
	const char	*s;
	size_t		 n;

	if (PQgetisnull(res, row, col))
		return nf_val_nil();
	s = PQgetvalue(res, row, col);
	switch (PQftype(res, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		return nf_val_int(strtoll(s, NULL, 10));
	case OID_FLOAT4:
	case OID_FLOAT8:
		return nf_val_float(strtod(s, NULL));
	case OID_BOOL:
		return nf_val_bool(s[0] == 't');
	case OID_BYTEA:
		bin = PQunescapeBytea((const unsigned char *)s, &n);
		v = nf_val_bin(bin != NULL ? (const char *)bin : "",
		    bin != NULL ? n : 0);
		PQfreemem(bin);
		return v;
	default:
		nf_buf_init(&b);
		nf_step_utf8_sanitize(&b, s, (size_t)PQgetlength(res, row,
		    col));
		v = nf_val_strn(b.data != NULL ? b.data : "", b.len);
		nf_buf_free(&b);
		return v;
	}
}

static int
pg_query(struct nf_db *db, const char *sql, const char **tail,
    const struct nf_db_sink *sink, int64_t *returned, int64_t *affected,
    int *empty, struct nf_db_err *err)
{
	struct pg		*p = db->h;
	struct nf_buf		 text, *pbufs;
	char			**names, **vals;
	const char		**cnames;
	int			*lens, *fmts;
	const struct nf_val	*v;
	struct nf_val		**row;
	PGresult		*res, *bad = NULL;
	size_t			 nnames, len, i;
	int			 blank, ncol, j, cols_sent = 0, stop = 0;
	int			 rc = 0;

	nf_buf_init(&text);
	len = nf_db_scan(sql, &text, &names, &nnames, &blank);
	*tail = sql + len;
	if (blank) {
		*empty = 1;
		nf_db_names_free(names, nnames);
		nf_buf_free(&text);
		return 0;
	}
	vals = nf_xcalloc(nnames + 1, sizeof(*vals));
	lens = nf_xcalloc(nnames + 1, sizeof(*lens));
	fmts = nf_xcalloc(nnames + 1, sizeof(*fmts));
	pbufs = nf_xcalloc(nnames + 1, sizeof(*pbufs));
	for (i = 0; i < nnames; i++) {
		nf_buf_init(&pbufs[i]);
		v = sink->param(sink->arg, names[i]);
		if (v == NULL) {
			nf_db_seterr(err, "", "parameter :%s is not set",
			    names[i]);
			err->pos = -1;
			rc = -1;
			goto out;
		}
		switch (v->type) {
		case NF_V_NIL:
			continue;
		case NF_V_BOOL:
			nf_buf_adds(&pbufs[i], v->u.b ? "true" : "false");
			break;
		case NF_V_INT:
			nf_buf_printf(&pbufs[i], "%lld", (long long)v->u.i);
			break;
		case NF_V_FLOAT:
			nf_buf_printf(&pbufs[i], "%.17g", v->u.f);
			break;
		case NF_V_STR:
			nf_buf_add(&pbufs[i], v->u.s.p, v->u.s.len);
			break;
		case NF_V_BIN:
			nf_buf_add(&pbufs[i], v->u.s.p, v->u.s.len);
			fmts[i] = 1;
			break;
		default:
			nf_db_seterr(err, "", "parameter :%s is %s; only "
			    "strings, numbers, booleans and null can be bound",
			    names[i], nf_val_type_name(v->type));
			rc = -1;
			goto out;
		}
		vals[i] = pbufs[i].data;
		lens[i] = (int)pbufs[i].len;
	}
	if (!PQsendQueryParams(p->conn, text.data, (int)nnames, NULL,
	    (const char *const *)vals, lens, fmts, 0)) {
		rc = pg_conn_err(p, "cannot send the statement", err);
		goto out;
	}
	(void)PQsetSingleRowMode(p->conn);
	while ((res = PQgetResult(p->conn)) != NULL) {
		switch (PQresultStatus(res)) {
		case PGRES_SINGLE_TUPLE:
		case PGRES_TUPLES_OK:
		case PGRES_COMMAND_OK:
			ncol = PQnfields(res);
			if (!cols_sent && sink->columns != NULL) {
				cnames = nf_xcalloc((size_t)ncol + 1,
				    sizeof(*cnames));
				for (j = 0; j < ncol; j++)
					cnames[j] = PQfname(res, j);
				sink->columns(sink->arg, cnames, ncol);
				free(cnames);
			}
			cols_sent = 1;
			if (PQresultStatus(res) == PGRES_SINGLE_TUPLE) {
				(*returned)++;
				if (!stop) {
					row = nf_xcalloc((size_t)ncol + 1,
					    sizeof(*row));
					for (j = 0; j < ncol; j++)
						row[j] = pg_value(res, 0, j);
					stop = sink->row(sink->arg, row, ncol);
					free(row);
				}
			} else if (strncmp(PQcmdStatus(res), "SELECT", 6) != 0)
				*affected = strtoll(PQcmdTuples(res), NULL, 10);
			PQclear(res);
			break;
		default:
			if (bad == NULL)
				bad = res;
			else
				PQclear(res);
			break;
		}
	}
	if (bad != NULL)
		rc = pg_res_err(p, bad, NULL, err);
	else if (PQstatus(p->conn) != CONNECTION_OK)
		rc = pg_conn_err(p, "the connection was lost", err);
out:
	for (i = 0; i < nnames; i++)
		nf_buf_free(&pbufs[i]);
	free(pbufs);
	free(vals);
	free(lens);
	free(fmts);
	nf_db_names_free(names, nnames);
	nf_buf_free(&text);
	return rc;
}

/* A column of a result description as class and modifiers. */
static void
pg_col_class(unsigned int oid, int mod, struct nf_db_col *c)
{
	c->bits = 64;
	c->prec = c->scale = -1;
	switch (oid) {
	case OID_INT2:
		c->cls = NF_DBC_INT;
		c->bits = 16;
		break;
	case OID_INT4:
		c->cls = NF_DBC_INT;
		c->bits = 32;
		break;
	case OID_INT8:
		c->cls = NF_DBC_INT;
		break;
	case OID_FLOAT4:
		c->cls = NF_DBC_FLOAT;
		c->bits = 32;
		break;
	case OID_FLOAT8:
		c->cls = NF_DBC_FLOAT;
		break;
	case OID_NUMERIC:
		c->cls = NF_DBC_NUMERIC;
		if (mod >= 4) {
			c->prec = ((mod - 4) >> 16) & 0xffff;
			c->scale = (mod - 4) & 0xffff;
		}
		break;
	case OID_BYTEA:
		c->cls = NF_DBC_BLOB;
		break;
	case OID_BOOL:
		c->cls = NF_DBC_BOOL;
		break;
	case OID_DATE:
		c->cls = NF_DBC_DATE;
		break;
	case OID_TIME:
		c->cls = NF_DBC_TIME;
		break;
	case OID_TIMESTAMP:
		c->cls = NF_DBC_TIMESTAMP;
		break;
	case OID_TIMESTAMPTZ:
		c->cls = NF_DBC_TIMESTAMPTZ;
		break;
	case OID_VARCHAR:
		c->cls = NF_DBC_TEXT;
		if (mod >= 4)
			c->prec = mod - 4;
		break;
	default:
		c->cls = NF_DBC_TEXT;
		break;
	}
}

static int
pg_describe(struct nf_db *db, const char *select, struct nf_db_col **cols,
    int *ncols, struct nf_db_err *err)
{
	struct pg	*p = db->h;
	PGresult	*res;
	int		 i, n;

	res = PQprepare(p->conn, "", select, 0, NULL);
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_res_err(p, res, "cannot prepare the source query",
		    err);
	PQclear(res);
	res = PQdescribePrepared(p->conn, "");
	if (PQresultStatus(res) != PGRES_COMMAND_OK)
		return pg_res_err(p, res, "cannot describe the source query",
		    err);
	n = PQnfields(res);
	*cols = nf_xcalloc((size_t)n + 1, sizeof(**cols));
	for (i = 0; i < n; i++) {
		(*cols)[i].name = nf_xstrdup(PQfname(res, i));
		pg_col_class(PQftype(res, i), PQfmod(res, i), &(*cols)[i]);
	}
	*ncols = n;
	PQclear(res);
	return 0;
}

static int
pg_table_columns(struct nf_db *db, const char *table,
    struct nf_db_col **cols, int *ncols, struct nf_db_err *err)
{
	struct pg	*p = db->h;
	struct nf_buf	 q;
	PGresult	*res;
	const char	*v[1];
	int		 i, n;

	nf_buf_init(&q);
	nf_db_qname(&q, table);
	v[0] = q.data;
	res = PQexecParams(p->conn, "SELECT attname, atttypid, atttypmod "
	    "FROM pg_attribute WHERE attrelid = to_regclass($1) AND "
	    "attnum > 0 AND NOT attisdropped ORDER BY attnum", 1, NULL, v,
	    NULL, NULL, 0);
	nf_buf_free(&q);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		return pg_res_err(p, res, "cannot read the table's columns",
		    err);
	n = PQntuples(res);
	*cols = nf_xcalloc((size_t)n + 1, sizeof(**cols));
	for (i = 0; i < n; i++) {
		(*cols)[i].name = nf_xstrdup(PQgetvalue(res, i, 0));
		pg_col_class((unsigned int)strtoul(PQgetvalue(res, i, 1),
		    NULL, 10), atoi(PQgetvalue(res, i, 2)), &(*cols)[i]);
	}
	*ncols = n;
	PQclear(res);
	return 0;
}

static void
pg_type_ddl(const struct nf_db_col *c, struct nf_buf *b)
{
	switch (c->cls) {
	case NF_DBC_INT:
		nf_buf_adds(b, c->bits == 16 ? "smallint" : c->bits == 32 ?
		    "integer" : "bigint");
		break;
	case NF_DBC_FLOAT:
		nf_buf_adds(b, c->bits == 32 ? "real" : "double precision");
		break;
	case NF_DBC_NUMERIC:
		if (c->prec > 0 && c->scale >= 0)
			nf_buf_printf(b, "numeric(%d,%d)", c->prec, c->scale);
		else
			nf_buf_adds(b, "numeric");
		break;
	case NF_DBC_BLOB:
		nf_buf_adds(b, "bytea");
		break;
	case NF_DBC_BOOL:
		nf_buf_adds(b, "boolean");
		break;
	case NF_DBC_DATE:
		nf_buf_adds(b, "date");
		break;
	case NF_DBC_TIME:
		nf_buf_adds(b, "time");
		break;
	case NF_DBC_TIMESTAMP:
		nf_buf_adds(b, "timestamp");
		break;
	case NF_DBC_TIMESTAMPTZ:
		nf_buf_adds(b, "timestamptz");
		break;
	default:
		if (c->prec > 0)
			nf_buf_printf(b, "varchar(%d)", c->prec);
		else
			nf_buf_adds(b, "text");
		break;
	}
}

static void
pg_expr_trunc(const char *e, struct nf_buf *b)
{
	nf_buf_printf(b, "trunc(%s)::bigint", e);
}

/* COPY text format: decode one field's escapes into b. */
static void
pg_copy_unescape(const char *s, size_t n, struct nf_buf *b)
{
	size_t	i, v, k;
	char	c;

	for (i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 >= n) {
			nf_buf_addc(b, s[i]);
			continue;
		}
		c = s[++i];
		switch (c) {
		case 'b': nf_buf_addc(b, '\b'); break;
		case 'f': nf_buf_addc(b, '\f'); break;
		case 'n': nf_buf_addc(b, '\n'); break;
		case 'r': nf_buf_addc(b, '\r'); break;
		case 't': nf_buf_addc(b, '\t'); break;
		case 'v': nf_buf_addc(b, '\v'); break;
		default:
			if (c >= '0' && c <= '7') {
				v = 0;
				for (k = 0; k < 3 && i < n && s[i] >= '0' &&
				    s[i] <= '7'; k++, i++)
					v = v * 8 + (size_t)(s[i] - '0');
				i--;
				nf_buf_addc(b, (int)v);
			} else
				nf_buf_addc(b, c);
			break;
		}
	}
}

static int
pg_read_begin(struct nf_db *db, const char *select,
    const struct nf_db_col *cols, int ncols, struct nf_db_err *err)
{
	struct pg	*p = db->h;
	struct nf_buf	 q;
	PGresult	*res;
	int		 i;

	nf_buf_init(&q);
	nf_buf_printf(&q, "COPY (%s) TO STDOUT", select);
	res = PQexec(p->conn, q.data);
	nf_buf_free(&q);
	if (PQresultStatus(res) != PGRES_COPY_OUT)
		return pg_res_err(p, res, "cannot read the source", err);
	PQclear(res);
	p->reading = 1;
	p->rcols = cols;
	p->nrcols = ncols;
	p->cells = nf_xcalloc((size_t)ncols + 1, sizeof(*p->cells));
	p->bufs = nf_xcalloc((size_t)ncols + 1, sizeof(*p->bufs));
	for (i = 0; i < ncols; i++)
		nf_buf_init(&p->bufs[i]);
	return 0;
}

static int
pg_read_row(struct nf_db *db, const struct nf_db_cell **cells,
    struct nf_db_err *err)
{
	struct pg	*p = db->h;
	struct nf_buf	*b;
	PGresult	*res;
	char		*line, *s, *e, *end;
	size_t		 k, w;
	int		 n, i, hi, lo;

	n = PQgetCopyData(p->conn, &line, 0);
	if (n == -1) {
		p->reading = 0;
		res = PQgetResult(p->conn);
		if (PQresultStatus(res) != PGRES_COMMAND_OK) {
			pg_drain(p);
			return pg_res_err(p, res, "reading the source failed",
			    err);
		}
		PQclear(res);
		pg_drain(p);
		return 0;
	}
	if (n < 0) {
		p->reading = 0;
		return pg_conn_err(p, "reading the source failed", err);
	}
	end = line + n;
	if (n > 0 && end[-1] == '\n')
		end--;
	s = line;
	for (i = 0; i < p->nrcols; i++) {
		for (e = s; e < end && *e != '\t'; e++)
			;
		b = &p->bufs[i];
		nf_buf_reset(b);
		p->cells[i].null = e - s == 2 && s[0] == '\\' && s[1] == 'N';
		if (!p->cells[i].null) {
			pg_copy_unescape(s, (size_t)(e - s), b);
			if (p->rcols[i].cls == NF_DBC_BLOB && b->len >= 2 &&
			    b->data[0] == '\\' && b->data[1] == 'x') {
				/* "\x0a1b": decode in place. */
				for (k = 2, w = 0; k + 1 < b->len; k += 2) {
					hi = nf_hexval(b->data[k]);
					lo = nf_hexval(b->data[k + 1]);
					b->data[w++] = (char)(hi << 4 | lo);
				}
				b->len = w;
			}
		}
		p->cells[i].p = b->data != NULL ? b->data : "";
		p->cells[i].len = b->len;
		s = e < end ? e + 1 : e;
	}
	PQfreemem(line);
	*cells = p->cells;
	return 1;
}

static void
pg_read_end(struct nf_db *db)
{
	struct pg	*p = db->h;
	char		*line;
	int		 n;

	/* Leave the connection idle: cancel and discard the rest. */
	if (p->reading) {
		pg_interrupt(db);
		while ((n = PQgetCopyData(p->conn, &line, 0)) >= 0)
			PQfreemem(line);
		pg_drain(p);
		p->reading = 0;
	}
}

static int
pg_write_begin(struct nf_db *db, const char *table,
    const struct nf_db_col *cols, int ncols, const char *insert_sql,
    struct nf_db_err *err)
{
	struct pg	*p = db->h;
	struct nf_buf	 q;
	PGresult	*res;
	int		 i;

	(void)insert_sql;
	nf_buf_init(&q);
	nf_buf_adds(&q, "COPY ");
	nf_db_qname(&q, table);
	nf_buf_adds(&q, " (");
	for (i = 0; i < ncols; i++) {
		if (i > 0)
			nf_buf_adds(&q, ", ");
		nf_db_ident(&q, cols[i].name);
	}
	nf_buf_adds(&q, ") FROM STDIN");
	res = PQexec(p->conn, q.data);
	nf_buf_free(&q);
	if (PQresultStatus(res) != PGRES_COPY_IN)
		return pg_res_err(p, res, "cannot write to the target", err);
	PQclear(res);
	p->writing = 1;
	p->wcols = cols;
	p->nwcols = ncols;
	nf_buf_reset(&p->out);
	return 0;
}

static int
pg_flush(struct pg *p, struct nf_db_err *err)
{
	if (p->out.len == 0)
		return 0;
	if (PQputCopyData(p->conn, p->out.data, (int)p->out.len) != 1)
		return pg_conn_err(p, "writing to the target failed", err);
	nf_buf_reset(&p->out);
	return 0;
}

static int
pg_write_row(struct nf_db *db, const struct nf_db_cell *cells,
    struct nf_db_err *err)
{
	static const char hex[] = "0123456789abcdef";
	struct pg	*p = db->h;
	const unsigned char *s;
	size_t		 k;
	int		 i;

	for (i = 0; i < p->nwcols; i++) {
		if (i > 0)
			nf_buf_addc(&p->out, '\t');
		if (cells[i].null) {
			nf_buf_add(&p->out, "\\N", 2);
			continue;
		}
		s = (const unsigned char *)cells[i].p;
		if (p->wcols[i].cls == NF_DBC_BLOB) {
			/* bytea input "\x..", its backslash escaped. */
			nf_buf_add(&p->out, "\\\\x", 3);
			for (k = 0; k < cells[i].len; k++) {
				nf_buf_addc(&p->out, hex[s[k] >> 4]);
				nf_buf_addc(&p->out, hex[s[k] & 15]);
			}
			continue;
		}
		for (k = 0; k < cells[i].len; k++) {
			switch (s[k]) {
			case '\\': nf_buf_add(&p->out, "\\\\", 2); break;
			case '\n': nf_buf_add(&p->out, "\\n", 2); break;
			case '\r': nf_buf_add(&p->out, "\\r", 2); break;
			case '\t': nf_buf_add(&p->out, "\\t", 2); break;
			default: nf_buf_addc(&p->out, s[k]); break;
			}
		}
	}
	nf_buf_addc(&p->out, '\n');
	if (p->out.len >= PG_CHUNK)
		return pg_flush(p, err);
	return 0;
}

static int
pg_write_end(struct nf_db *db, struct nf_db_err *err)
{
	struct pg	*p = db->h;
	PGresult	*res;

	if (!p->writing)
		return 0;
	p->writing = 0;
	if (pg_flush(p, err) == -1)
		return -1;
	if (PQputCopyEnd(p->conn, NULL) != 1)
		return pg_conn_err(p, "ending the copy failed", err);
	res = PQgetResult(p->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_drain(p);
		return pg_res_err(p, res, "writing to the target failed", err);
	}
	PQclear(res);
	pg_drain(p);
	return 0;
}

int
nf_db_pg_copy(struct nf_db *src, const char *select, struct nf_db *dst,
    const char *table, const char *collist, int64_t progress_rows,
    void (*progress)(void *, int64_t), void *arg, int64_t *rows,
    struct nf_db_err *err)
{
	struct pg	*s = src->h, *d = dst->h;
	struct nf_buf	 q;
	PGresult	*res;
	char		*line;
	int64_t		 next = progress_rows;
	int		 n, rc;

	*rows = 0;
	if (src->driver != NF_DB_PG || dst->driver != NF_DB_PG)
		return nf_db_seterr(err, "", "COPY streaming needs two "
		    "PostgreSQL pools");
	nf_buf_init(&q);
	nf_buf_adds(&q, "COPY ");
	nf_db_qname(&q, table);
	nf_buf_printf(&q, " (%s) FROM STDIN", collist);
	res = PQexec(d->conn, q.data);
	if (PQresultStatus(res) != PGRES_COPY_IN) {
		nf_buf_free(&q);
		return pg_res_err(d, res, "cannot write to the target", err);
	}
	PQclear(res);
	nf_buf_reset(&q);
	nf_buf_printf(&q, "COPY (%s) TO STDOUT", select);
	res = PQexec(s->conn, q.data);
	nf_buf_free(&q);
	if (PQresultStatus(res) != PGRES_COPY_OUT) {
		(void)PQputCopyEnd(d->conn, "the source failed");
		pg_drain(d);
		return pg_res_err(s, res, "cannot read the source", err);
	}
	PQclear(res);
	nf_buf_reset(&d->out);
	while ((n = PQgetCopyData(s->conn, &line, 0)) > 0) {
		nf_buf_add(&d->out, line, (size_t)n);
		PQfreemem(line);
		(*rows)++;
		if (d->out.len >= PG_CHUNK && pg_flush(d, err) == -1)
			goto fail_both;
		if (progress != NULL && *rows >= next) {
			progress(arg, *rows);
			next += progress_rows;
		}
	}
	if (n == -2) {
		pg_conn_err(s, "reading the source failed", err);
		goto fail_dst;
	}
	res = PQgetResult(s->conn);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		pg_drain(s);
		pg_res_err(s, res, "reading the source failed", err);
		goto fail_dst;
	}
	PQclear(res);
	pg_drain(s);
	if (pg_flush(d, err) == -1)
		return -1;
	if (PQputCopyEnd(d->conn, NULL) != 1)
		return pg_conn_err(d, "ending the copy failed", err);
	res = PQgetResult(d->conn);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
	if (rc == -1) {
		pg_drain(d);
		return pg_res_err(d, res, "writing to the target failed", err);
	}
	PQclear(res);
	pg_drain(d);
	return 0;

fail_both:
	/* The target failed: stop reading the source too. */
	(void)PQcancel(s->cancel, (char[256]){ 0 }, 256);
	while (PQgetCopyData(s->conn, &line, 0) > 0)
		PQfreemem(line);
	pg_drain(s);
	return -1;
fail_dst:
	(void)PQputCopyEnd(d->conn, "the source failed");
	pg_drain(d);
	return -1;
}

const struct nf_db_ops nf_db_pg_ops = {
	pg_open, pg_close, pg_exec, pg_query, pg_interrupt, pg_describe,
	pg_table_columns, pg_type_ddl, pg_expr_trunc, pg_read_begin,
	pg_read_row, pg_read_end, pg_write_begin, pg_write_row, pg_write_end
};
