/*
 * expr.h: the `when` condition language of steps.  A small side-effect-free
 * expression language: literals (ints, floats, 'strings' or "strings",
 * true, false, null, [lists]), references as in templates without "${}"
 * (params.x, steps.count.output.rows[0].n, prev.rows_affected, today...),
 * comparison (== != < <= > >=), and/or/not, in / not in (list membership
 * or substring), arithmetic (+ - * / %) on numbers, parentheses.
 *
 * Parsed and type-checked once at load (jobs.c), evaluated by nomaflowd
 * just before a step starts.  Pure: no I/O, no global state.
 */
#ifndef NF_EXPR_H
#define NF_EXPR_H

#include <stddef.h>

#include "template.h"
#include "val.h"

struct nf_expr;

/*
 * Parse and type-check s (n bytes) against scope (may be NULL: references
 * are then only parsed).  NULL + err and *errpos (0-based byte offset of
 * the offending token) on error.
 */
struct nf_expr	*nf_expr_parse(const char *s, size_t n,
		    const struct nf_tmpl_scope *, char *err, size_t errlen,
		    size_t *errpos);
void		 nf_expr_free(struct nf_expr *);
/* The expression's text as written. */
const char	*nf_expr_text(const struct nf_expr *);
/* The value (caller owns it), or NULL + err. */
struct nf_val	*nf_expr_eval(const struct nf_expr *,
		    const struct nf_tmpl_ctx *, char *err, size_t errlen);
/* A condition: 1 true, 0 false, -1 + err (error, or not a boolean). */
int		 nf_expr_eval_bool(const struct nf_expr *,
		    const struct nf_tmpl_ctx *, char *err, size_t errlen);

#endif
