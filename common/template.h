/*
 * template.h: `${...}` templates in step fields and the references they
 * share with `when` expressions (supervisor/expr.c).
 *
 * A reference names a value of the running run: params.NAME..., job.id,
 * run.id, run.scheduled_for, run.triggered_by, steps.NAME.output...,
 * steps.NAME.rows_affected, prev.step, prev.rows_affected, prev.output...,
 * and the date helpers today, yesterday, month.first, month.previous,
 * week.monday (optionally "|FORMAT", strftime date conversions only), and
 * secret.NAME (a value of the secret store, resolved by a callback of the
 * context; never in `when` conditions).
 * A path goes on with ".key", "[index]" or "[\"key\"]".
 *
 * Pure: no I/O, no global state.  Checked at load against a scope (which
 * steps exist and which run earlier), resolved at run time against a
 * context (what the run knows).
 */
#ifndef NF_TEMPLATE_H
#define NF_TEMPLATE_H

#include <stddef.h>
#include <stdint.h>

#include "val.h"

enum nf_tmpl_root {
	NF_TR_PARAMS = 0,
	NF_TR_JOB,
	NF_TR_RUN,
	NF_TR_STEPS,
	NF_TR_PREV,
	NF_TR_DATE,
	NF_TR_SECRET,
};

enum nf_tmpl_date {
	NF_TD_TODAY = 0,
	NF_TD_YESTERDAY,
	NF_TD_MONTH_FIRST,
	NF_TD_MONTH_PREVIOUS,
	NF_TD_WEEK_MONDAY,
};

struct nf_tmpl_seg {
	char		*key;		/* NULL: an array index */
	int64_t		 index;
};

struct nf_tmpl_ref {
	enum nf_tmpl_root root;
	enum nf_tmpl_date date;		/* root NF_TR_DATE */
	char		*text;		/* as written, for messages */
	struct nf_tmpl_seg *segs;	/* after the root word */
	size_t		 nsegs;
	char		*fmt;		/* date format, or NULL (%Y-%m-%d) */
};

/* What the load-time check knows: the job's steps in order. */
struct nf_tmpl_scope {
	const char *const *steps;	/* every step name (entries may be NULL) */
	size_t		 nsteps;
	size_t		 self;		/* index of the step being checked */
	/* secret.NAME: 1 if it exists, 0 not, -1 unknown; NULL: unchecked. */
	int		(*secret_known)(const char *name);
};

/* What the run-time resolution knows. */
struct nf_tmpl_ctx {
	const char	*job_id;
	int64_t		 run_id;
	const char	*triggered_by;
	int64_t		 base_time;	/* seconds: slot, or trigger time */
	int		 base_y, base_m, base_d; /* base_time's date, job zone */
	const struct nf_val *params;	/* map */
	const struct nf_val *outputs;	/* map: step name -> output */
	const struct nf_val *rows;	/* map: step name -> rows_affected */
	const struct nf_val *prev;	/* {step, rows_affected, output}/NULL */
	/*
	 * secret.NAME: its value (caller frees) or NULL + err.  NULL: no
	 * secrets here.  The caller learns every value it hands out, so it
	 * can redact them.
	 */
	struct nf_val	*(*secret)(void *arg, const char *name, char *err,
			    size_t errlen);
	void		*secret_arg;
};

/*
 * Parse one reference ("steps.a.output.rows[0].n", "yesterday|%Y%m%d").
 * *len: characters consumed (the parser stops before the first character
 * that cannot continue the reference).  in_expr: "|format" is not part of
 * the grammar and names stop at '-'.  NULL + err (and *errpos, 0-based) on
 * error.
 */
struct nf_tmpl_ref *nf_tmpl_ref_parse(const char *s, size_t n, int in_expr,
		    size_t *len, char *err, size_t errlen, size_t *errpos);
void		 nf_tmpl_ref_free(struct nf_tmpl_ref *);
/*
 * Load-time check against scope; -1 + err if the reference can never
 * resolve.  *type (may be NULL) gets the value type when it is known
 * (NF_V_STR, NF_V_INT) or NF_V_ANY.
 */
int		 nf_tmpl_ref_check(const struct nf_tmpl_ref *,
		    const struct nf_tmpl_scope *, enum nf_val_type *type,
		    char *err, size_t errlen);
/* Run-time value (caller owns it), or NULL + err naming the reference. */
struct nf_val	*nf_tmpl_ref_resolve(const struct nf_tmpl_ref *,
		    const struct nf_tmpl_ctx *, char *err, size_t errlen);

/*
 * Check a whole template string at load: every reference parses and passes
 * nf_tmpl_ref_check.  Returns the number of references, or -1 + err and
 * *errpos (0-based offset into s).
 */
int		 nf_tmpl_check(const char *s, const struct nf_tmpl_scope *,
		    char *err, size_t errlen, size_t *errpos);
/*
 * Render a template string: "$$" is a literal "$", every "${REF}" is
 * replaced by its value as text (strings as they are, numbers in decimal,
 * booleans true/false, null as empty, arrays and maps as JSON).  When s is
 * exactly one reference, the value keeps its type.  NULL + err on error.
 */
struct nf_val	*nf_tmpl_render(const char *s, const struct nf_tmpl_ctx *,
		    char *err, size_t errlen);
/* Render every string of a value tree (map keys are left as they are). */
struct nf_val	*nf_tmpl_render_val(const struct nf_val *,
		    const struct nf_tmpl_ctx *, char *err, size_t errlen);
/*
 * A string that is not a template but may hold "${secret.NAME}" (a pool's
 * conninfo): every such reference replaced by its value through
 * c->secret, everything else kept as it is.  NULL + err on error.
 */
char		*nf_tmpl_render_secrets(const char *s,
		    const struct nf_tmpl_ctx *c, char *err, size_t errlen);
/* Does s hold a "${" reference (not "$${")? */
int		 nf_tmpl_has_ref(const char *s);

/* A date helper's value: format checked at load with nf_tmpl_fmt_check. */
int		 nf_tmpl_fmt_check(const char *fmt, char *err, size_t errlen);
/* A value as template text (the rule nf_tmpl_render uses); caller frees. */
char		*nf_tmpl_text(const struct nf_val *);

/*
 * Secrets: values hidden wherever text is recorded.  One primitive for the
 * supervisor (logs, history, audit: the values of secret params, later
 * `${secret.NAME}` values) and the http worker (credentials only it sees).
 * Values shorter than min_len are not kept (they would match noise); the
 * same value is kept once.
 */
#define NF_SECRET_MASK	"***"
struct nf_secrets {
	char	**v;
	size_t	 *len;
	size_t	  n;
	size_t	  min_len;
};
struct nf_buf;
void		 nf_secrets_init(struct nf_secrets *, size_t min_len);
void		 nf_secrets_add(struct nf_secrets *, const char *, size_t);
void		 nf_secrets_free(struct nf_secrets *);
/*
 * Append in[0..len) to out with every occurrence of a secret replaced by
 * mask: the earliest match first, the longest of those starting at the
 * same byte.  Returns how many were replaced.
 */
size_t		 nf_secrets_redact_into(const struct nf_secrets *,
		    const char *mask, struct nf_buf *out, const char *in,
		    size_t len);
/* A copy of s with each secret as "***"; NULL when s has none. */
char		*nf_secrets_redact(const struct nf_secrets *, const char *s);
/* The same over every string of a value tree, in place. */
void		 nf_secrets_redact_val(const struct nf_secrets *,
		    struct nf_val *);

/* The same for a plain array of secrets (NULL and "" entries ignored). */
char		*nf_tmpl_redact(const char *s, char *const *secrets,
		    size_t nsecrets);
void		 nf_tmpl_redact_val(struct nf_val *, char *const *secrets,
		    size_t nsecrets);

#endif
