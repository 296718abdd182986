/*
 * expr.c: the `when` condition language: lexer, recursive-descent parser
 * with a static type check, and the evaluator.
 *
 * Runs in nomaflowd (parse at load, evaluation before a step starts) and
 * nfctl (validate).  Pure: evaluation reads the run's values through
 * template.c's references and has no side effect.
 *
 * Invariants: parsing is bounded (MAX_LEN bytes, MAX_DEPTH nesting, so no
 * input can exhaust the stack); a node's static type is the type every
 * evaluation yields, or NF_V_ANY when it depends on run data (a
 * reference), and operators whose operands' static types can never work
 * are rejected at load, with the position of the operand.  Integer
 * arithmetic is checked for overflow; division by zero is an error.
 *
 * Grammar, loosest first:
 *   or   := and ("or" and)*
 *   and  := not ("and" not)*
 *   not  := "not" not | cmp
 *   cmp  := sum [("=="|"!="|"<"|"<="|">"|">="|"in"|"not" "in") sum]
 *   sum  := prod (("+"|"-") prod)*
 *   prod := neg (("*"|"/"|"%") neg)*
 *   neg  := "-" neg | atom
 *   atom := INT | FLOAT | STRING | true | false | null | REF
 *         | "(" or ")" | "[" [or ("," or)*] "]"
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "expr.h"
#include "log.h"
#include "template.h"
#include "util.h"
#include "val.h"

#define MAX_LEN		4096
#define MAX_DEPTH	64

enum node_kind {
	N_LIT = 0,
	N_REF,
	N_LIST,
	N_NOT,
	N_NEG,
	N_AND,
	N_OR,
	N_EQ, N_NE, N_LT, N_LE, N_GT, N_GE, N_IN, N_NOTIN,
	N_ADD, N_SUB, N_MUL, N_DIV, N_MOD,
};

static const char *const op_text[] = {
	[N_NOT] = "not", [N_NEG] = "-", [N_AND] = "and", [N_OR] = "or",
	[N_EQ] = "==", [N_NE] = "!=", [N_LT] = "<", [N_LE] = "<=",
	[N_GT] = ">", [N_GE] = ">=", [N_IN] = "in", [N_NOTIN] = "not in",
	[N_ADD] = "+", [N_SUB] = "-", [N_MUL] = "*", [N_DIV] = "/",
	[N_MOD] = "%",
};

struct node {
	enum node_kind	 kind;
	enum nf_val_type type;		/* static type, NF_V_ANY if unknown */
	size_t		 pos;		/* offset in the text */
	struct nf_val	*lit;		/* N_LIT */
	struct nf_tmpl_ref *ref;	/* N_REF */
	struct node	**kids;
	size_t		 nkids;
};

struct nf_expr {
	char		*text;
	struct node	*root;
};

enum tok_kind {
	T_EOF = 0, T_LIT, T_REF, T_KW, T_OP,
};

struct parser {
	const char	*s;
	size_t		 n, i;
	const struct nf_tmpl_scope *scope;
	char		*err;
	size_t		 errlen, errpos;
	int		 failed, depth;
	/* current token */
	enum tok_kind	 tk;
	size_t		 tpos, tlen;
	char		 op[4];		/* T_OP / T_KW text */
	struct nf_val	*tval;		/* T_LIT */
	struct nf_tmpl_ref *tref;	/* T_REF */
};

static void	node_free(struct node *);

static void
perr(struct parser *p, size_t pos, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
perr(struct parser *p, size_t pos, const char *fmt, ...)
{
	va_list	ap;

	if (p->failed)
		return;
	p->failed = 1;
	p->errpos = pos;
	va_start(ap, fmt);
	vsnprintf(p->err, p->errlen, fmt, ap);
	va_end(ap);
}

static const char *
type_what(enum nf_val_type t)
{
	switch (t) {
	case NF_V_NIL:
		return "null";
	case NF_V_BOOL:
		return "a boolean";
	case NF_V_INT:
		return "an integer";
	case NF_V_FLOAT:
		return "a float";
	case NF_V_STR:
		return "a string";
	case NF_V_BIN:
		return "binary data";
	case NF_V_ARR:
		return "a list";
	case NF_V_MAP:
		return "a map";
	default:
		return "a value";
	}
}

static int
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
tok_clear(struct parser *p)
{
	nf_val_free(p->tval);
	p->tval = NULL;
	nf_tmpl_ref_free(p->tref);
	p->tref = NULL;
}

static void
lex_number(struct parser *p)
{
	const char	*s = p->s;
	size_t		 i = p->i, st = p->i;
	int		 isf = 0;
	char		 buf[64];
	long long	 ll;
	double		 d;

	while (i < p->n && is_digit(s[i]))
		i++;
	if (i + 1 < p->n && s[i] == '.' && is_digit(s[i + 1])) {
		isf = 1;
		for (i++; i < p->n && is_digit(s[i]); i++)
			;
	}
	if (i < p->n && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;

		if (j < p->n && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->n && is_digit(s[j])) {
			isf = 1;
			for (i = j; i < p->n && is_digit(s[i]); i++)
				;
		}
	}
	if (i < p->n && (is_alpha(s[i]) || s[i] == '.')) {
		perr(p, i, "unexpected \"%c\" after a number", s[i]);
		return;
	}
	if (i - st >= sizeof(buf)) {
		perr(p, st, "number too long");
		return;
	}
	memcpy(buf, s + st, i - st);
	buf[i - st] = '\0';
	errno = 0;
	if (isf) {
		d = strtod(buf, NULL);
		if (errno == ERANGE || !isfinite(d)) {
			perr(p, st, "number %s out of range", buf);
			return;
		}
		p->tk = T_LIT;
		p->tval = nf_val_float(d);
	} else {
		ll = strtoll(buf, NULL, 10);
		if (errno == ERANGE) {
			perr(p, st, "integer %s out of range", buf);
			return;
		}
		p->tk = T_LIT;
		p->tval = nf_val_int(ll);
	}
	p->tlen = i - st;
}

static void
lex_string(struct parser *p)
{
	struct nf_buf	 b;
	const char	*s = p->s;
	char		 q = s[p->i];
	size_t		 i;

	nf_buf_init(&b);
	for (i = p->i + 1; i < p->n && s[i] != q; i++) {
		if (s[i] == '\\') {
			if (i + 1 >= p->n)
				break;
			i++;
			switch (s[i]) {
			case 'n':
				nf_buf_addc(&b, '\n');
				break;
			case 't':
				nf_buf_addc(&b, '\t');
				break;
			case '\\':
			case '\'':
			case '"':
				nf_buf_addc(&b, s[i]);
				break;
			default:
				nf_buf_free(&b);
				perr(p, i - 1, "unknown escape \"\\%c\" (known: "
				    "\\\\ \\' \\\" \\n \\t)", s[i]);
				return;
			}
		} else if (s[i] == '\0') {
			nf_buf_free(&b);
			perr(p, i, "NUL character in a string");
			return;
		} else
			nf_buf_addc(&b, s[i]);
	}
	if (i >= p->n) {
		nf_buf_free(&b);
		perr(p, p->i, "unterminated string: missing closing %c", q);
		return;
	}
	p->tk = T_LIT;
	p->tval = nf_val_strn(b.data != NULL ? b.data : "", b.len);
	nf_buf_free(&b);
	p->tlen = i + 1 - p->i;
}

/* Advance to the next token. */
static void
next(struct parser *p)
{
	static const char *const ops2[] = { "==", "!=", "<=", ">=", NULL };
	static const char *const kws[] = { "and", "or", "not", "in", "true",
	    "false", "null", NULL };
	const char	*s = p->s;
	size_t		 i, len, epos;
	int		 k;

	tok_clear(p);
	p->i += p->tlen;
	p->tlen = 0;
	while (p->i < p->n && (s[p->i] == ' ' || s[p->i] == '\t' ||
	    s[p->i] == '\n' || s[p->i] == '\r'))
		p->i++;
	p->tpos = p->i;
	if (p->failed || p->i >= p->n) {
		p->tk = T_EOF;
		return;
	}
	if (is_digit(s[p->i])) {
		lex_number(p);
		return;
	}
	if (s[p->i] == '\'' || s[p->i] == '"') {
		lex_string(p);
		return;
	}
	if (is_alpha(s[p->i])) {
		for (i = p->i; i < p->n && (is_alpha(s[i]) ||
		    is_digit(s[i])); i++)
			;
		for (k = 0; kws[k] != NULL; k++)
			if (strlen(kws[k]) == i - p->i &&
			    memcmp(kws[k], s + p->i, i - p->i) == 0)
				break;
		if (kws[k] != NULL) {
			p->tk = T_KW;
			snprintf(p->op, sizeof(p->op), "%.3s", kws[k]);
			/* true, false and null are literal values. */
			if (strcmp(kws[k], "true") == 0 ||
			    strcmp(kws[k], "false") == 0) {
				p->tk = T_LIT;
				p->tval = nf_val_bool(kws[k][0] == 't');
			} else if (strcmp(kws[k], "null") == 0) {
				p->tk = T_LIT;
				p->tval = nf_val_nil();
			}
			p->tlen = i - p->i;
			return;
		}
		p->tref = nf_tmpl_ref_parse(s + p->i, p->n - p->i, 1, &len,
		    p->err, p->errlen, &epos);
		if (p->tref == NULL) {
			p->failed = 1;
			p->errpos = p->i + epos;
			p->tk = T_EOF;
			return;
		}
		p->tk = T_REF;
		p->tlen = len;
		return;
	}
	for (k = 0; ops2[k] != NULL; k++)
		if (p->i + 1 < p->n && memcmp(ops2[k], s + p->i, 2) == 0) {
			p->tk = T_OP;
			snprintf(p->op, sizeof(p->op), "%s", ops2[k]);
			p->tlen = 2;
			return;
		}
	if (strchr("<>+-*/%()[],", s[p->i]) != NULL) {
		p->tk = T_OP;
		p->op[0] = s[p->i];
		p->op[1] = '\0';
		p->tlen = 1;
		return;
	}
	if (s[p->i] == '=')
		perr(p, p->i, "unexpected \"=\" (compare with \"==\")");
	else if (s[p->i] == '&' || s[p->i] == '|' || s[p->i] == '!')
		perr(p, p->i, "unexpected \"%c\" (write and, or, not)",
		    s[p->i]);
	else if ((unsigned char)s[p->i] < 0x20 ||
	    (unsigned char)s[p->i] >= 0x7f)
		perr(p, p->i, "unexpected character 0x%02x",
		    (unsigned char)s[p->i]);
	else
		perr(p, p->i, "unexpected \"%c\"", s[p->i]);
	p->tk = T_EOF;
}

static int
is_op(struct parser *p, const char *op)
{
	return p->tk == T_OP && strcmp(p->op, op) == 0;
}

static int
is_kw(struct parser *p, const char *kw)
{
	return p->tk == T_KW && strcmp(p->op, kw) == 0;
}

static struct node *
node_new(enum node_kind k, size_t pos)
{
	struct node	*n;

	n = nf_xcalloc(1, sizeof(*n));
	n->kind = k;
	n->pos = pos;
	n->type = NF_V_ANY;
	return n;
}

static void
node_add(struct node *n, struct node *kid)
{
	n->kids = nf_xreallocarray(n->kids, n->nkids + 1, sizeof(*n->kids));
	n->kids[n->nkids++] = kid;
}

static void
node_free(struct node *n)
{
	size_t	i;

	if (n == NULL)
		return;
	for (i = 0; i < n->nkids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	nf_val_free(n->lit);
	nf_tmpl_ref_free(n->ref);
	free(n);
}

static int
numeric(enum nf_val_type t)
{
	return t == NF_V_INT || t == NF_V_FLOAT || t == NF_V_ANY;
}

/* Type-check a freshly built operator node; NULL (freed) on error. */
static struct node *
typecheck(struct parser *p, struct node *n)
{
	struct node	*a = n->kids[0], *b = n->nkids > 1 ? n->kids[1] : NULL;
	enum nf_val_type ta = a->type, tb = b != NULL ? b->type : NF_V_ANY;

	switch (n->kind) {
	case N_NOT:
	case N_AND:
	case N_OR:
		if (ta != NF_V_BOOL && ta != NF_V_ANY) {
			perr(p, a->pos, "\"%s\" needs true or false; this is "
			    "%s", op_text[n->kind], type_what(ta));
			break;
		}
		if (b != NULL && tb != NF_V_BOOL && tb != NF_V_ANY) {
			perr(p, b->pos, "\"%s\" needs true or false; this is "
			    "%s", op_text[n->kind], type_what(tb));
			break;
		}
		n->type = NF_V_BOOL;
		return n;
	case N_NEG:
	case N_ADD:
	case N_SUB:
	case N_MUL:
	case N_DIV:
	case N_MOD:
		if (!numeric(ta)) {
			perr(p, a->pos, "\"%s\" works on numbers; this is %s",
			    op_text[n->kind], type_what(ta));
			break;
		}
		if (b != NULL && !numeric(tb)) {
			perr(p, b->pos, "\"%s\" works on numbers; this is %s",
			    op_text[n->kind], type_what(tb));
			break;
		}
		if (n->kind == N_DIV)
			n->type = NF_V_FLOAT;
		else if (ta == NF_V_ANY || (b != NULL && tb == NF_V_ANY))
			n->type = NF_V_ANY;
		else if (ta == NF_V_FLOAT || tb == NF_V_FLOAT)
			n->type = NF_V_FLOAT;
		else
			n->type = NF_V_INT;
		return n;
	case N_EQ:
	case N_NE:
		n->type = NF_V_BOOL;
		return n;
	case N_LT:
	case N_LE:
	case N_GT:
	case N_GE:
		if (ta != NF_V_ANY && tb != NF_V_ANY &&
		    !((ta == NF_V_INT || ta == NF_V_FLOAT) &&
		    (tb == NF_V_INT || tb == NF_V_FLOAT)) &&
		    !(ta == NF_V_STR && tb == NF_V_STR)) {
			perr(p, b->pos, "\"%s\" compares two numbers or two "
			    "strings, not %s and %s", op_text[n->kind],
			    type_what(ta), type_what(tb));
			break;
		}
		if ((ta != NF_V_ANY && !numeric(ta) && ta != NF_V_STR)) {
			perr(p, a->pos, "\"%s\" compares numbers or strings; "
			    "this is %s", op_text[n->kind], type_what(ta));
			break;
		}
		if ((tb != NF_V_ANY && !numeric(tb) && tb != NF_V_STR)) {
			perr(p, b->pos, "\"%s\" compares numbers or strings; "
			    "this is %s", op_text[n->kind], type_what(tb));
			break;
		}
		n->type = NF_V_BOOL;
		return n;
	case N_IN:
	case N_NOTIN:
		if (tb != NF_V_ARR && tb != NF_V_STR && tb != NF_V_ANY) {
			perr(p, b->pos, "\"%s\" needs a list or a string on its "
			    "right; this is %s", op_text[n->kind],
			    type_what(tb));
			break;
		}
		if (tb == NF_V_STR && ta != NF_V_STR && ta != NF_V_ANY) {
			perr(p, a->pos, "\"%s\" a string looks for a string; "
			    "this is %s", op_text[n->kind], type_what(ta));
			break;
		}
		n->type = NF_V_BOOL;
		return n;
	default:
		nf_panic("expr: typecheck of node kind %d", n->kind);
	}
	node_free(n);
	return NULL;
}

static struct node *parse_or(struct parser *);

static struct node *
parse_atom(struct parser *p)
{
	struct node	*n, *e;
	enum nf_val_type t;
	size_t		 pos = p->tpos;
	char		 err[512];

	if (p->failed)
		return NULL;
	switch (p->tk) {
	case T_LIT:
		n = node_new(N_LIT, pos);
		n->lit = p->tval;
		n->type = p->tval->type;
		p->tval = NULL;
		next(p);
		return n;
	case T_REF:
		if (p->scope != NULL && nf_tmpl_ref_check(p->tref, p->scope,
		    &t, err, sizeof(err)) == -1) {
			perr(p, pos, "%s", err);
			return NULL;
		}
		n = node_new(N_REF, pos);
		n->ref = p->tref;
		p->tref = NULL;
		if (p->scope != NULL)
			n->type = t;
		next(p);
		return n;
	case T_OP:
		if (is_op(p, "(")) {
			next(p);
			if ((n = parse_or(p)) == NULL)
				return NULL;
			if (!is_op(p, ")")) {
				node_free(n);
				perr(p, p->tpos, "expected \")\" to close the "
				    "\"(\" at offset %zu", pos + 1);
				return NULL;
			}
			n->pos = pos;
			next(p);
			return n;
		}
		if (is_op(p, "[")) {
			n = node_new(N_LIST, pos);
			n->type = NF_V_ARR;
			next(p);
			if (is_op(p, "]")) {
				next(p);
				return n;
			}
			for (;;) {
				if ((e = parse_or(p)) == NULL) {
					node_free(n);
					return NULL;
				}
				node_add(n, e);
				if (is_op(p, ",")) {
					next(p);
					continue;
				}
				if (is_op(p, "]")) {
					next(p);
					return n;
				}
				node_free(n);
				perr(p, p->tpos, "expected \",\" or \"]\" in a "
				    "list");
				return NULL;
			}
		}
		break;
	default:
		break;
	}
	if (p->tk == T_EOF)
		perr(p, pos, "expression ends where a value was expected");
	else
		perr(p, pos, "expected a value (a number, a 'string', true, "
		    "false, null, a reference or \"(\"), not \"%.*s\"",
		    (int)(p->tlen ? p->tlen : 1), p->s + pos);
	return NULL;
}

/* A prefix operator (the current token) of kind k: its operand by sub. */
static struct node *
unary(struct parser *p, enum node_kind k, struct node *(*sub)(struct parser *))
{
	struct node	*n, *a;
	size_t		 pos = p->tpos;

	if (++p->depth > MAX_DEPTH) {
		perr(p, pos, "expression nested too deeply (more than %d "
		    "levels)", MAX_DEPTH);
		return NULL;
	}
	next(p);
	if ((a = sub(p)) == NULL)
		return NULL;
	p->depth--;
	n = node_new(k, pos);
	node_add(n, a);
	return typecheck(p, n);
}

static struct node *
parse_neg(struct parser *p)
{
	if (is_op(p, "-"))
		return unary(p, N_NEG, parse_neg);
	return parse_atom(p);
}

static struct node *
binary(struct parser *p, enum node_kind k, struct node *a, struct node *b,
    size_t pos)
{
	struct node	*n;

	n = node_new(k, pos);
	node_add(n, a);
	node_add(n, b);
	n->pos = a->pos;
	return typecheck(p, n);
}

/*
 * One left-associative level: operands by sub, joined by the operators op
 * recognises (it returns the node kind of the current token, or N_LIT when
 * the token is not one of this level's).
 */
static struct node *
left_assoc(struct parser *p, struct node *(*sub)(struct parser *),
    enum node_kind (*op)(struct parser *))
{
	struct node	*a, *b;
	enum node_kind	 k;
	size_t		 pos;

	if ((a = sub(p)) == NULL)
		return NULL;
	while ((k = op(p)) != N_LIT) {
		pos = p->tpos;
		next(p);
		if ((b = sub(p)) == NULL) {
			node_free(a);
			return NULL;
		}
		if ((a = binary(p, k, a, b, pos)) == NULL)
			return NULL;
	}
	return a;
}

static enum node_kind
op_prod(struct parser *p)
{
	return is_op(p, "*") ? N_MUL : is_op(p, "/") ? N_DIV :
	    is_op(p, "%") ? N_MOD : N_LIT;
}

static enum node_kind
op_sum(struct parser *p)
{
	return is_op(p, "+") ? N_ADD : is_op(p, "-") ? N_SUB : N_LIT;
}

static enum node_kind
op_and(struct parser *p)
{
	return is_kw(p, "and") ? N_AND : N_LIT;
}

static enum node_kind
op_or(struct parser *p)
{
	return is_kw(p, "or") ? N_OR : N_LIT;
}

static struct node *
parse_prod(struct parser *p)
{
	return left_assoc(p, parse_neg, op_prod);
}

static struct node *
parse_sum(struct parser *p)
{
	return left_assoc(p, parse_prod, op_sum);
}

static struct node *
parse_cmp(struct parser *p)
{
	struct node	*a, *b;
	enum node_kind	 k;
	size_t		 pos;

	if ((a = parse_sum(p)) == NULL)
		return NULL;
	pos = p->tpos;
	if (is_op(p, "=="))
		k = N_EQ;
	else if (is_op(p, "!="))
		k = N_NE;
	else if (is_op(p, "<"))
		k = N_LT;
	else if (is_op(p, "<="))
		k = N_LE;
	else if (is_op(p, ">"))
		k = N_GT;
	else if (is_op(p, ">="))
		k = N_GE;
	else if (is_kw(p, "in"))
		k = N_IN;
	else if (is_kw(p, "not")) {
		next(p);
		if (!is_kw(p, "in")) {
			node_free(a);
			perr(p, p->tpos, "expected \"in\" after \"not\" here "
			    "(\"x not in [...]\")");
			return NULL;
		}
		k = N_NOTIN;
	} else
		return a;
	next(p);
	if ((b = parse_sum(p)) == NULL) {
		node_free(a);
		return NULL;
	}
	if ((a = binary(p, k, a, b, pos)) == NULL)
		return NULL;
	if (p->tk == T_OP && (strchr("<>", p->op[0]) != NULL ||
	    is_op(p, "==") || is_op(p, "!=")))
		perr(p, p->tpos, "comparisons do not chain: use \"a < b and "
		    "b < c\"");
	return p->failed ? (node_free(a), NULL) : a;
}

static struct node *
parse_not(struct parser *p)
{
	if (is_kw(p, "not"))
		return unary(p, N_NOT, parse_not);
	return parse_cmp(p);
}

static struct node *
parse_and(struct parser *p)
{
	return left_assoc(p, parse_not, op_and);
}

static struct node *
parse_or(struct parser *p)
{
	struct node	*a;
	size_t		 pos = p->tpos;

	if (++p->depth > MAX_DEPTH) {
		perr(p, pos, "expression nested too deeply (more than %d "
		    "levels)", MAX_DEPTH);
		return NULL;
	}
	if ((a = left_assoc(p, parse_and, op_or)) == NULL)
		return NULL;
	p->depth--;
	return a;
}

struct nf_expr *
nf_expr_parse(const char *s, size_t n, const struct nf_tmpl_scope *sc,
    char *err, size_t errlen, size_t *errpos)
{
	struct parser	 p;
	struct nf_expr	*e;
	struct node	*root;

	*errpos = 0;
	if (n > MAX_LEN) {
		snprintf(err, errlen, "condition longer than %d bytes",
		    MAX_LEN);
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.s = s;
	p.n = n;
	p.scope = sc;
	p.err = err;
	p.errlen = errlen;
	next(&p);
	root = parse_or(&p);
	if (root != NULL && !p.failed && p.tk != T_EOF)
		perr(&p, p.tpos, "unexpected \"%.*s\" after a complete "
		    "expression", (int)(p.tlen ? p.tlen : 1), s + p.tpos);
	if (root != NULL && !p.failed && root->type != NF_V_BOOL &&
	    root->type != NF_V_ANY)
		perr(&p, root->pos, "a condition must be true or false; this "
		    "expression is %s", type_what(root->type));
	tok_clear(&p);
	if (p.failed || root == NULL) {
		if (!p.failed)
			snprintf(err, errlen, "invalid expression");
		node_free(root);
		*errpos = p.errpos;
		return NULL;
	}
	e = nf_xcalloc(1, sizeof(*e));
	e->text = nf_xstrndup(s, n);
	e->root = root;
	return e;
}

void
nf_expr_free(struct nf_expr *e)
{
	if (e == NULL)
		return;
	node_free(e->root);
	free(e->text);
	free(e);
}

const char *
nf_expr_text(const struct nf_expr *e)
{
	return e->text;
}

/* Evaluation. */

static struct nf_val *eval(const struct node *, const struct nf_tmpl_ctx *,
		    char *, size_t);

static int
num(const struct nf_val *v)
{
	return v->type == NF_V_INT || v->type == NF_V_FLOAT;
}

static double
fnum(const struct nf_val *v)
{
	return v->type == NF_V_INT ? (double)v->u.i : v->u.f;
}

/* Value equality: numbers by value, everything else structurally. */
static int
val_eq(const struct nf_val *a, const struct nf_val *b)
{
	if (num(a) && num(b)) {
		if (a->type == NF_V_INT && b->type == NF_V_INT)
			return a->u.i == b->u.i;
		return fnum(a) == fnum(b);
	}
	return nf_val_equal(a, b);
}

static struct nf_val *
eval_arith(const struct node *n, const struct nf_val *a,
    const struct nf_val *b, char *err, size_t errlen)
{
	int64_t	r;
	double	x, y;

	if (!num(a) || (b != NULL && !num(b))) {
		snprintf(err, errlen, "\"%s\" works on numbers, got %s",
		    op_text[n->kind], type_what(!num(a) ? a->type : b->type));
		return NULL;
	}
	if (n->kind == N_NEG) {
		if (a->type == NF_V_FLOAT)
			return nf_val_float(-a->u.f);
		if (a->u.i == INT64_MIN)
			goto overflow;
		return nf_val_int(-a->u.i);
	}
	if (n->kind == N_DIV) {
		if (fnum(b) == 0) {
			snprintf(err, errlen, "division by zero");
			return NULL;
		}
		return nf_val_float(fnum(a) / fnum(b));
	}
	if (a->type == NF_V_INT && b->type == NF_V_INT) {
		switch (n->kind) {
		case N_ADD:
			if (__builtin_add_overflow(a->u.i, b->u.i, &r))
				goto overflow;
			return nf_val_int(r);
		case N_SUB:
			if (__builtin_sub_overflow(a->u.i, b->u.i, &r))
				goto overflow;
			return nf_val_int(r);
		case N_MUL:
			if (__builtin_mul_overflow(a->u.i, b->u.i, &r))
				goto overflow;
			return nf_val_int(r);
		default:	/* N_MOD */
			if (b->u.i == 0) {
				snprintf(err, errlen, "modulo by zero");
				return NULL;
			}
			if (b->u.i == -1)
				return nf_val_int(0);
			return nf_val_int(a->u.i % b->u.i);
		}
	}
	x = fnum(a);
	y = fnum(b);
	switch (n->kind) {
	case N_ADD:
		return nf_val_float(x + y);
	case N_SUB:
		return nf_val_float(x - y);
	case N_MUL:
		return nf_val_float(x * y);
	default:
		if (y == 0) {
			snprintf(err, errlen, "modulo by zero");
			return NULL;
		}
		return nf_val_float(fmod(x, y));
	}
overflow:
	snprintf(err, errlen, "integer overflow in \"%s\"", op_text[n->kind]);
	return NULL;
}

static struct nf_val *
eval_cmp(const struct node *n, const struct nf_val *a, const struct nf_val *b,
    char *err, size_t errlen)
{
	int	c;
	size_t	i;

	switch (n->kind) {
	case N_EQ:
		return nf_val_bool(val_eq(a, b));
	case N_NE:
		return nf_val_bool(!val_eq(a, b));
	case N_IN:
	case N_NOTIN:
		if (b->type == NF_V_ARR) {
			for (i = 0; i < b->u.a.n; i++)
				if (val_eq(a, b->u.a.items[i]))
					break;
			c = i < b->u.a.n;
		} else if (b->type == NF_V_STR) {
			if (a->type != NF_V_STR) {
				snprintf(err, errlen, "\"%s\" a string looks "
				    "for a string, got %s", op_text[n->kind],
				    type_what(a->type));
				return NULL;
			}
			c = memmem(b->u.s.p, b->u.s.len, a->u.s.p,
			    a->u.s.len) != NULL;
		} else {
			snprintf(err, errlen, "\"%s\" needs a list or a string "
			    "on its right, got %s", op_text[n->kind],
			    type_what(b->type));
			return NULL;
		}
		return nf_val_bool(n->kind == N_IN ? c : !c);
	default:
		break;
	}
	if (num(a) && num(b)) {
		if (a->type == NF_V_INT && b->type == NF_V_INT)
			c = a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
		else
			c = fnum(a) < fnum(b) ? -1 : fnum(a) > fnum(b);
	} else if (a->type == NF_V_STR && b->type == NF_V_STR) {
		c = strcmp(a->u.s.p, b->u.s.p);
		c = c < 0 ? -1 : c > 0;
	} else {
		snprintf(err, errlen, "\"%s\" compares two numbers or two "
		    "strings, got %s and %s", op_text[n->kind],
		    type_what(a->type), type_what(b->type));
		return NULL;
	}
	switch (n->kind) {
	case N_LT:
		return nf_val_bool(c < 0);
	case N_LE:
		return nf_val_bool(c <= 0);
	case N_GT:
		return nf_val_bool(c > 0);
	default:
		return nf_val_bool(c >= 0);
	}
}

static struct nf_val *
eval(const struct node *n, const struct nf_tmpl_ctx *c, char *err,
    size_t errlen)
{
	struct nf_val	*a, *b, *r;
	size_t		 i;

	switch (n->kind) {
	case N_LIT:
		return nf_val_dup(n->lit);
	case N_REF:
		return nf_tmpl_ref_resolve(n->ref, c, err, errlen);
	case N_LIST:
		r = nf_val_arr();
		for (i = 0; i < n->nkids; i++) {
			if ((a = eval(n->kids[i], c, err, errlen)) == NULL) {
				nf_val_free(r);
				return NULL;
			}
			nf_val_arr_push(r, a);
		}
		return r;
	case N_NOT:
	case N_AND:
	case N_OR:
		/* Short-circuit: the right side is evaluated only if needed. */
		if ((a = eval(n->kids[0], c, err, errlen)) == NULL)
			return NULL;
		if (a->type != NF_V_BOOL) {
			snprintf(err, errlen, "\"%s\" needs true or false, got "
			    "%s", op_text[n->kind], type_what(a->type));
			nf_val_free(a);
			return NULL;
		}
		if (n->kind == N_NOT) {
			a->u.b = !a->u.b;
			return a;
		}
		if ((n->kind == N_AND && !a->u.b) ||
		    (n->kind == N_OR && a->u.b))
			return a;
		nf_val_free(a);
		if ((b = eval(n->kids[1], c, err, errlen)) == NULL)
			return NULL;
		if (b->type != NF_V_BOOL) {
			snprintf(err, errlen, "\"%s\" needs true or false, got "
			    "%s", op_text[n->kind], type_what(b->type));
			nf_val_free(b);
			return NULL;
		}
		return b;
	default:
		break;
	}
	if ((a = eval(n->kids[0], c, err, errlen)) == NULL)
		return NULL;
	b = NULL;
	if (n->nkids > 1 && (b = eval(n->kids[1], c, err, errlen)) == NULL) {
		nf_val_free(a);
		return NULL;
	}
	if (n->kind == N_NEG || (n->kind >= N_ADD && n->kind <= N_MOD))
		r = eval_arith(n, a, b, err, errlen);
	else
		r = eval_cmp(n, a, b, err, errlen);
	nf_val_free(a);
	nf_val_free(b);
	return r;
}

struct nf_val *
nf_expr_eval(const struct nf_expr *e, const struct nf_tmpl_ctx *c, char *err,
    size_t errlen)
{
	return eval(e->root, c, err, errlen);
}

int
nf_expr_eval_bool(const struct nf_expr *e, const struct nf_tmpl_ctx *c,
    char *err, size_t errlen)
{
	struct nf_val	*v;
	int		 b;

	if ((v = eval(e->root, c, err, errlen)) == NULL)
		return -1;
	if (v->type != NF_V_BOOL) {
		snprintf(err, errlen, "the condition gave %s, not true or "
		    "false", type_what(v->type));
		nf_val_free(v);
		return -1;
	}
	b = v->u.b;
	nf_val_free(v);
	return b;
}
