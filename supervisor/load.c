/*
 * load.c: the configuration loader's conversions: TOML values into C
 * strings, numbers, paths and nf_val trees, ${VAR} expansion from the
 * environment, and the "file:line:col: message" reporting every other
 * loader file (config.c, jobs.c) uses.
 *
 * Runs in nomaflowd (start, -n, reload on HUP) and nfctl (validate).  It
 * reads the environment and nothing else.
 *
 * Invariants:
 * - A helper that fails has reported why with the value's position and
 *   returns a failure value (NULL, -1) or leaves its output untouched;
 *   callers go on with the next key so every problem is listed.
 * - Paths come out absolute and lexically clean, resolved against the
 *   directory of nomaflow.toml (never the working directory).
 */
#include "autoconf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "log.h"
#include "toml.h"
#include "util.h"
#include "val.h"

void
nf_load_err(struct nf_load *ld, int line, int col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	nf_errs_vadd(ld->errs, ld->file, line, col, fmt, ap);
	va_end(ap);
}

int
nf_load_failed(const struct nf_load *ld)
{
	return ld->errs->n > ld->nerrs0;
}

/* "a string", "an integer", ... for type errors. */
const char *
nf_load_toml_what(enum nf_toml_type t)
{
	switch (t) {
	case NF_TOML_STRING:
		return "a string";
	case NF_TOML_INTEGER:
		return "an integer";
	case NF_TOML_FLOAT:
		return "a float";
	case NF_TOML_BOOL:
		return "a boolean";
	case NF_TOML_DATETIME:
	case NF_TOML_DATETIME_LOCAL:
	case NF_TOML_DATE_LOCAL:
	case NF_TOML_TIME_LOCAL:
		return "a date/time";
	case NF_TOML_ARRAY:
		return "an array";
	case NF_TOML_TABLE:
		return "a table";
	}
	return "a value";
}

const char *
nf_load_val_what(enum nf_val_type t)
{
	switch (t) {
	case NF_V_STR:
		return "a string";
	case NF_V_INT:
		return "an integer";
	case NF_V_FLOAT:
		return "a number";
	case NF_V_BOOL:
		return "a boolean";
	case NF_V_ARR:
		return "an array";
	case NF_V_MAP:
		return "a table";
	default:
		return "a value";
	}
}

/* Where a table starts; a table created by a header may lack a position. */
void
nf_load_tab_pos(const struct nf_toml_value *t, int *line, int *col)
{
	*line = t->line;
	*col = t->col;
	if (*line == 0 && t->type == NF_TOML_TABLE && t->u.tab.n > 0) {
		*line = t->u.tab.kv[0].line;
		*col = t->u.tab.kv[0].col;
	}
}

/* ASCII, whatever the locale: names are [A-Za-z_][A-Za-z0-9_]*. */
static int
var_start(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int
var_char(char c)
{
	return var_start(c) || (c >= '0' && c <= '9');
}

/* An environment value; keep: "$" doubled (see nf_load_expand()). */
static void
add_env(struct nf_buf *b, const char *val, int keep)
{
	if (!keep) {
		nf_buf_adds(b, val);
		return;
	}
	for (; *val != '\0'; val++) {
		if (*val == '$')
			nf_buf_addc(b, '$');
		nf_buf_addc(b, *val);
	}
}

/*
 * The first words of run-time template references (common/template.c).
 * In a step's fields, "${" followed by one of them is left for the
 * renderer; everywhere else they name environment variables like any
 * other word.
 */
static const char *const tmpl_roots[] = {
	"params", "job", "run", "steps", "prev", "today", "yesterday",
	"month", "week", NULL
};

static int
tmpl_root(const char *name)
{
	size_t	i, n;

	for (n = 0; var_char(name[n]) || name[n] == '-'; n++)
		;
	/* A path or a format is never an environment variable. */
	if (n > 0 && (name[n] == '.' || name[n] == '[' || name[n] == '|'))
		return 1;
	for (i = 0; tmpl_roots[i] != NULL; i++)
		if (strlen(tmpl_roots[i]) == n &&
		    strncmp(tmpl_roots[i], name, n) == 0)
			return 1;
	return 0;
}

/*
 * Expansion.  Only "${" starts a reference, so shell text such as
 * "echo $i" in an argv passes through untouched; "$$" is a literal "$".
 * keep (a step's fields): template references and "$$" are left as they
 * are for the run-time renderer, which turns "$$" into "$" itself, and a
 * "$" inside an inserted environment value is doubled so the renderer
 * keeps it literal.  keep == 2 (a pool's conninfo): only "${secret.NAME}"
 * is left for spawn.c to fill in; everything else expands as usual.
 */
char *
nf_load_expand(const char *in, int keep, char *err, size_t errlen)
{
	struct nf_buf	 b;
	const char	*p, *q, *name, *def, *end, *val;
	char		*var;

	nf_buf_init(&b);
	for (p = in; *p != '\0'; ) {
		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			nf_buf_addc(&b, *p++);
			continue;
		}
		if (p[1] == '$') {
			nf_buf_adds(&b, keep == 1 ? "$$" : "$");
			p += 2;
			continue;
		}
		name = p + 2;
		if ((keep == 1 && tmpl_root(name)) ||
		    (keep == 2 && strncmp(name, "secret.", 7) == 0)) {
			/* Checked by jobs.c's check_step_refs(). */
			if ((end = strchr(name, '}')) == NULL)
				end = name + strlen(name) - 1;
			nf_buf_add(&b, p, end + 1 - p);
			p = end + 1;
			continue;
		}
		if (!var_start(*name)) {
			snprintf(err, errlen, "malformed reference \"%.*s\": "
			    "a variable name starts with a letter or \"_\" "
			    "(write \"$$\" for a literal \"$\")",
			    (int)strcspn(p, "}") + (strchr(p, '}') ? 1 : 0), p);
			goto fail;
		}
		for (q = name; var_char(*q); q++)
			;
		var = nf_xstrndup(name, q - name);
		val = getenv(var);
		if (*q == '}') {
			if (val == NULL) {
				snprintf(err, errlen, "environment variable "
				    "\"%s\" is not set (set it, or write "
				    "\"${%s:-default}\")%s", var, var,
				    keep == 1 && *var >= 'a' && *var <= 'z' ?
				    "; run-time templates start with params., "
				    "job., run., steps., prev., secret., today, "
				    "yesterday, month. or week." : "");
				free(var);
				goto fail;
			}
			add_env(&b, val, keep == 1);
			p = q + 1;
		} else if (q[0] == ':' && q[1] == '-') {
			def = q + 2;
			if ((end = strchr(def, '}')) == NULL) {
				snprintf(err, errlen, "unterminated reference "
				    "\"${%s:-\": missing \"}\"", var);
				free(var);
				goto fail;
			}
			/* Shell semantics: an empty value takes the default. */
			if (val != NULL && *val != '\0')
				add_env(&b, val, keep == 1);
			else
				nf_buf_add(&b, def, end - def);
			p = end + 1;
		} else {
			snprintf(err, errlen, "malformed reference \"${%s\": "
			    "expected \"}\" or \":-default}\" after the "
			    "variable name", var);
			free(var);
			goto fail;
		}
		free(var);
	}
	return nf_buf_steal(&b);
fail:
	nf_buf_free(&b);
	return NULL;
}

char *
nf_config_expand(const char *in, char *err, size_t errlen)
{
	return nf_load_expand(in, 0, err, errlen);
}

/* A string value, NUL-checked and expanded; NULL (reported) on error. */
char *
nf_load_str(struct nf_load *ld, const struct nf_toml_value *v, const char *what)
{
	char	 err[512], *s;

	if (v->type != NF_TOML_STRING) {
		nf_load_err(ld, v->line, v->col, "%s must be a string, not %s",
		    what, nf_load_toml_what(v->type));
		return NULL;
	}
	if (strlen(v->u.str.s) != v->u.str.len) {
		nf_load_err(ld, v->line, v->col, "%s contains a NUL character",
		    what);
		return NULL;
	}
	if ((s = nf_load_expand(v->u.str.s, ld->tmpl, err, sizeof(err))) ==
	    NULL) {
		nf_load_err(ld, v->line, v->col, "%s: %s", what, err);
		return NULL;
	}
	return s;
}

int
nf_load_int(struct nf_load *ld, const struct nf_toml_value *v, const char *what,
    int64_t min, int64_t max, int64_t *out)
{
	if (v->type != NF_TOML_INTEGER) {
		nf_load_err(ld, v->line, v->col, "%s must be an integer, not "
		    "%s", what, nf_load_toml_what(v->type));
		return -1;
	}
	if (v->u.i < min || v->u.i > max) {
		nf_load_err(ld, v->line, v->col, "%s must be between %lld and "
		    "%lld, not %lld", what, (long long)min, (long long)max,
		    (long long)v->u.i);
		return -1;
	}
	*out = v->u.i;
	return 0;
}

/* An int field of the struct: same as get_int, stored into an int. */
void
nf_load_set_int(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what, int min, int max, int *out)
{
	int64_t	i;

	if (nf_load_int(ld, v, what, min, max, &i) == 0)
		*out = (int)i;
}

int
nf_load_num(struct nf_load *ld, const struct nf_toml_value *v, const char *what,
    double min, double max, double *out)
{
	double	d;

	if (v->type == NF_TOML_INTEGER)
		d = (double)v->u.i;
	else if (v->type == NF_TOML_FLOAT)
		d = v->u.f;
	else {
		nf_load_err(ld, v->line, v->col, "%s must be a number, not %s",
		    what, nf_load_toml_what(v->type));
		return -1;
	}
	if (!(d >= min && d <= max)) {
		nf_load_err(ld, v->line, v->col, "%s must be between %g and %g",
		    what, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

void
nf_load_set_bool(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what, int *out)
{
	if (v->type != NF_TOML_BOOL) {
		nf_load_err(ld, v->line, v->col, "%s must be true or false, "
		    "not %s", what, nf_load_toml_what(v->type));
		return;
	}
	*out = v->u.b != 0;
}

int
nf_load_is_table(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what)
{
	if (v->type == NF_TOML_TABLE)
		return 1;
	nf_load_err(ld, v->line, v->col, "%s must be a table, not %s", what,
	    nf_load_toml_what(v->type));
	return 0;
}

/* Keys may hold NUL in TOML; no key of ours can. */
int
nf_load_key_ok(struct nf_load *ld, const struct nf_toml_kv *kv)
{
	if (strlen(kv->key) == kv->keylen)
		return 1;
	nf_load_err(ld, kv->line, kv->col, "key contains a NUL character");
	return 0;
}

/*
 * Lexically clean an absolute path: drop empty and "." components and let
 * ".." remove the previous one.  The base directory is already free of
 * symbolic links (config_dir() uses realpath), so only a link named inside
 * a relative value could make this differ from the kernel's view; the
 * manual page says paths are cleaned this way.
 */
static char *
clean_path(const char *p)
{
	struct nf_buf	 b;
	const char	*s, *e;
	char		*slash;

	nf_buf_init(&b);
	for (s = p; *s != '\0'; s = e) {
		while (*s == '/')
			s++;
		if (*s == '\0')
			break;
		e = s + strcspn(s, "/");
		if (e - s == 1 && s[0] == '.')
			continue;
		if (e - s == 2 && s[0] == '.' && s[1] == '.') {
			if (b.len > 0 && (slash = strrchr(b.data, '/')) !=
			    NULL) {
				b.len = slash - b.data;
				b.data[b.len] = '\0';
			}
			continue;
		}
		nf_buf_addc(&b, '/');
		nf_buf_add(&b, s, e - s);
	}
	if (b.len == 0)
		nf_buf_addc(&b, '/');
	return nf_buf_steal(&b);
}

char *
nf_load_resolve(const char *dir, const char *p)
{
	char	*joined, *r;

	if (p[0] == '/')
		return clean_path(p);
	joined = nf_xprintf("%s/%s", dir, p);
	r = clean_path(joined);
	free(joined);
	return r;
}

/* A path value: expanded, non-empty, resolved against the config's dir. */
char *
nf_load_path(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what)
{
	char	*s, *r;

	if ((s = nf_load_str(ld, v, what)) == NULL)
		return NULL;
	if (*s == '\0') {
		nf_load_err(ld, v->line, v->col, "%s must not be empty", what);
		free(s);
		return NULL;
	}
	r = nf_load_resolve(ld->dir, s);
	free(s);
	return r;
}

void
nf_load_set_path(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what, char **out)
{
	char	*p;

	if ((p = nf_load_path(ld, v, what)) != NULL) {
		free(*out);
		*out = p;
	}
}

void
nf_load_unknown_key(struct nf_load *ld, const struct nf_toml_kv *kv,
    const char *where, const char *const *allowed)
{
	struct nf_buf	b;
	size_t		i;

	nf_buf_init(&b);
	for (i = 0; allowed != NULL && allowed[i] != NULL; i++)
		nf_buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
	if (b.len > 0)
		nf_load_err(ld, kv->line, kv->col, "unknown key \"%s\" in %s "
		    "(allowed: %s)", kv->key, where, b.data);
	else
		nf_load_err(ld, kv->line, kv->col, "unknown key \"%s\" in %s",
		    kv->key, where);
	nf_buf_free(&b);
}

/* RFC 3339 text of a TOML date/time (params keep dates as strings). */
char *
nf_load_datetime_str(const struct nf_toml_value *v)
{
	const struct nf_toml_datetime *dt = &v->u.dt;
	struct nf_buf	b;
	char		frac[16];
	int		n, off;

	frac[0] = '\0';
	if (dt->nanosecond > 0) {
		snprintf(frac, sizeof(frac), ".%09d", dt->nanosecond);
		for (n = (int)strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	nf_buf_init(&b);
	if (v->type != NF_TOML_TIME_LOCAL)
		nf_buf_printf(&b, "%04d-%02d-%02d", dt->year, dt->month,
		    dt->day);
	if (v->type == NF_TOML_DATE_LOCAL)
		return nf_buf_steal(&b);
	if (v->type != NF_TOML_TIME_LOCAL)
		nf_buf_addc(&b, 'T');
	nf_buf_printf(&b, "%02d:%02d:%02d%s", dt->hour, dt->minute,
	    dt->second, frac);
	if (v->type == NF_TOML_DATETIME) {
		off = dt->offset_minutes;
		if (off == 0 && dt->offset_z)
			nf_buf_addc(&b, 'Z');
		else
			nf_buf_printf(&b, "%c%02d:%02d", off < 0 ? '-' : '+',
			    abs(off) / 60, abs(off) % 60);
	}
	return nf_buf_steal(&b);
}

/*
 * TOML value -> nf_val, expanding every string.  Returns NULL (reported)
 * on error; every element is still visited so all errors show.
 */
struct nf_val *
nf_load_to_val(struct nf_load *ld, const struct nf_toml_value *v,
    const char *what)
{
	struct nf_val	*r, *c;
	char		*s;
	size_t		 i;
	int		 bad = 0;

	switch (v->type) {
	case NF_TOML_STRING:
		if ((s = nf_load_str(ld, v, what)) == NULL)
			return NULL;
		r = nf_val_str(s);
		free(s);
		return r;
	case NF_TOML_INTEGER:
		return nf_val_int(v->u.i);
	case NF_TOML_FLOAT:
		return nf_val_float(v->u.f);
	case NF_TOML_BOOL:
		return nf_val_bool(v->u.b);
	case NF_TOML_DATETIME:
	case NF_TOML_DATETIME_LOCAL:
	case NF_TOML_DATE_LOCAL:
	case NF_TOML_TIME_LOCAL:
		s = nf_load_datetime_str(v);
		r = nf_val_str(s);
		free(s);
		return r;
	case NF_TOML_ARRAY:
		r = nf_val_arr();
		for (i = 0; i < v->u.arr.n; i++) {
			if ((c = nf_load_to_val(ld, v->u.arr.items[i], what)) ==
			    NULL)
				bad = 1;
			else
				nf_val_arr_push(r, c);
		}
		break;
	case NF_TOML_TABLE:
		r = nf_val_map();
		for (i = 0; i < v->u.tab.n; i++) {
			if (!nf_load_key_ok(ld, &v->u.tab.kv[i])) {
				bad = 1;
				continue;
			}
			c = nf_load_to_val(ld, v->u.tab.kv[i].val, what);
			if (c == NULL)
				bad = 1;
			else
				nf_val_map_set(r, v->u.tab.kv[i].key, c);
		}
		break;
	default:
		nf_panic("config: TOML value of unknown type %d", v->type);
	}
	if (bad) {
		nf_val_free(r);
		return NULL;
	}
	return r;
}

int
nf_load_in_list(const char *const *list, const char *s)
{
	size_t	i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}


/*
 * ${secret.NAME}: does the secret exist?  Set by nomaflowd once its secret
 * store is open; until then (the first load at start, nomaflowd -n) names
 * are only checked for syntax, and a run naming a missing secret fails
 * with that reason.
 */
int	(*nf_load_secret_known)(const char *name);

void
nf_config_set_secret_check(int (*fn)(const char *name))
{
	nf_load_secret_known = fn;
}
