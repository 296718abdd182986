/*
 * load.h: internal to the configuration loader (config.c, jobs.c, the step
 * types under steptypes/).  Not for the rest of nomaflowd: what a load
 * produces is struct nf_config (config.h).
 *
 * struct nf_load is the state of one load: where messages go, which file
 * is being read, the nf_config being filled.  The nf_load_* helpers turn
 * TOML values into C values and report every problem as
 * "file:line:col: message" (nf_load_err) instead of stopping.
 */
#ifndef NF_LOAD_H
#define NF_LOAD_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "toml.h"
#include "util.h"
#include "val.h"

/* Longest run or step timeout accepted: 30 days. */
#define NF_LOAD_MAX_TIMEOUT	(30 * 24 * 3600)

/* The state of one load: where messages go and which file is read. */
struct nf_load {
	struct nf_errs	*errs;
	struct nf_config *cfg;
	const char	*file;		/* file being read, for messages */
	char		*dir;		/* real directory of nomaflow.toml */
	size_t		 nerrs0;	/* errs->n when the load began */
	/* Strings of a step's spec: keep run-time templates (nf_load_str). */
	int		 tmpl;
	struct nf_job	*job;		/* the job whose presets are read */
};

/* load.c: reporting and conversions. */
void		 nf_load_err(struct nf_load *, int line, int col,
		    const char *fmt, ...)
		    __attribute__((format(printf, 4, 5)));
/* Has anything been reported since the load began? */
int		 nf_load_failed(const struct nf_load *);
/* "a string", "an integer", ... for type errors. */
const char	*nf_load_toml_what(enum nf_toml_type);
const char	*nf_load_val_what(enum nf_val_type);
/* Where a table starts; a table created by a header may lack a position. */
void		 nf_load_tab_pos(const struct nf_toml_value *, int *line,
		    int *col);
/*
 * ${VAR} expansion; keep: leave run-time template references and "$$" to
 * the renderer (a step's fields).  NULL + err on a bad reference.
 */
char		*nf_load_expand(const char *in, int keep, char *err,
		    size_t errlen);
/* A string value, NUL-checked and expanded; NULL (reported) on error. */
char		*nf_load_str(struct nf_load *, const struct nf_toml_value *,
		    const char *what);
int		 nf_load_int(struct nf_load *, const struct nf_toml_value *,
		    const char *what, int64_t min, int64_t max, int64_t *out);
void		 nf_load_set_int(struct nf_load *,
		    const struct nf_toml_value *, const char *what, int min,
		    int max, int *out);
int		 nf_load_num(struct nf_load *, const struct nf_toml_value *,
		    const char *what, double min, double max, double *out);
void		 nf_load_set_bool(struct nf_load *,
		    const struct nf_toml_value *, const char *what, int *out);
int		 nf_load_is_table(struct nf_load *,
		    const struct nf_toml_value *, const char *what);
/* Keys may hold NUL in TOML; no key of ours can. */
int		 nf_load_key_ok(struct nf_load *, const struct nf_toml_kv *);
/* p made absolute against dir and lexically cleaned. */
char		*nf_load_resolve(const char *dir, const char *p);
/* A path value: expanded, non-empty, resolved against the config's dir. */
char		*nf_load_path(struct nf_load *,
		    const struct nf_toml_value *, const char *what);
void		 nf_load_set_path(struct nf_load *,
		    const struct nf_toml_value *, const char *what, char **out);
/*
 * A run_as value: a user name known to the system, resolved with its
 * groups into out.  0, or -1 after reporting at the value.
 */
struct nf_runas;
int		 nf_load_runas(struct nf_load *,
		    const struct nf_toml_value *, const char *what,
		    struct nf_runas *out);
void		 nf_load_unknown_key(struct nf_load *,
		    const struct nf_toml_kv *, const char *where,
		    const char *const *allowed);
/* RFC 3339 text of a TOML date/time (params keep dates as strings). */
char		*nf_load_datetime_str(const struct nf_toml_value *);
/* TOML value -> nf_val, strings expanded; NULL (reported) on error. */
struct nf_val	*nf_load_to_val(struct nf_load *,
		    const struct nf_toml_value *, const char *what);
int		 nf_load_in_list(const char *const *list, const char *s);

/*
 * config.c: a retention table ([retention] or a job's retention = {...})
 * into r, key by key.  what prefixes its keys in messages ("retention",
 * "job \"x\": retention"), where names the table ("[retention]").
 */
void		 nf_load_retention(struct nf_load *,
		    const struct nf_toml_value *, const char *what,
		    const char *where, struct nf_retention *r);

/* jobs.c: the jobs directory, once the daemon config is loaded. */
/* Every *.toml of cfg->jobs_dir; line, col: where jobs_dir was set. */
void		 nf_jobs_load(struct nf_load *, int line, int col);
/* Cross-job checks once every file is read: after and call_job links. */
void		 nf_jobs_check_links(struct nf_load *);
/* Lookups by id, once the load succeeded. */
void		 nf_jobs_index(struct nf_config *);
void		 nf_jobs_free(struct nf_config *);
/* Value names of the job enums and flags, in enum order (dump.c too). */
extern const char *const nf_jobs_overlap_names[];
extern const char *const nf_jobs_catchup_names[];
extern const char *const nf_jobs_after_on_names[];
extern const char *const nf_jobs_on_interrupt_names[];

/* How ${secret.NAME} is checked (nf_config_set_secret_check); NULL: not. */
extern int	(*nf_load_secret_known)(const char *name);

#endif
