/*
 * db_driver.h: what a driver of the worker's database layer provides
 * (worker/db_sqlite.c, worker/db_pg.c) to the dispatcher worker/db.c.
 * Private to those three files; steps use db.h.
 */
#ifndef NF_DB_DRIVER_H
#define NF_DB_DRIVER_H

#include "db.h"

struct nf_db_ops {
	int	(*open)(struct nf_db *, const struct nf_val *pool,
		    struct nf_db_err *);
	void	(*close)(struct nf_db *);
	int	(*exec)(struct nf_db *, const char *, struct nf_db_err *);
	int	(*query)(struct nf_db *, const char *, const char **,
		    const struct nf_db_sink *, int64_t *, int64_t *, int *,
		    struct nf_db_err *);
	int	(*interrupt)(struct nf_db *);
	int	(*describe)(struct nf_db *, const char *, struct nf_db_col **,
		    int *, struct nf_db_err *);
	int	(*table_columns)(struct nf_db *, const char *,
		    struct nf_db_col **, int *, struct nf_db_err *);
	void	(*type_ddl)(const struct nf_db_col *, struct nf_buf *);
	void	(*expr_trunc)(const char *, struct nf_buf *);
	int	(*read_begin)(struct nf_db *, const char *,
		    const struct nf_db_col *, int, struct nf_db_err *);
	int	(*read_row)(struct nf_db *, const struct nf_db_cell **,
		    struct nf_db_err *);
	void	(*read_end)(struct nf_db *);
	int	(*write_begin)(struct nf_db *, const char *,
		    const struct nf_db_col *, int, const char *,
		    struct nf_db_err *);
	int	(*write_row)(struct nf_db *, const struct nf_db_cell *,
		    struct nf_db_err *);
	int	(*write_end)(struct nf_db *, struct nf_db_err *);
};

struct nf_db {
	const struct nf_db_ops	*ops;
	enum nf_db_driver	 driver;
	char			*name;	/* pool name */
	char			*where;	/* path or host:port/db */
	void			*h;	/* the driver's state */
};

extern const struct nf_db_ops nf_db_sqlite_ops;
extern const struct nf_db_ops nf_db_pg_ops;

/* Fill err; returns -1. */
int	nf_db_seterr(struct nf_db_err *, const char *code, const char *fmt,
	    ...) __attribute__((format(printf, 3, 4)));
/* Class of a declared SQLite type name ("VARCHAR(20)", "DECIMALTEXT(12,2)"). */
void	nf_db_decl_class(const char *decl, struct nf_db_col *);

#endif
