/*
 * config.c: loads nomaflow.toml and every *.toml of its jobs directory into
 * one struct nf_config, and writes the normalised dump.
 *
 * Runs in nomaflowd (start, -n, reload on HUP) and nfctl (validate).  It
 * reads files, the environment (${VAR}), the group database (control.group)
 * and the time zone database; it never opens a pool or a socket.
 *
 * Invariants:
 * - Every problem is reported, not just the first: each check appends
 *   "file:line:col: message" to the caller's nf_errs and loading goes on
 *   with the next key, job or file.  nf_config_load() returns NULL as soon
 *   as one error was added, so a half-valid config is never handed out
 *   (reload is all-or-nothing).
 * - A returned nf_config is complete: every default is filled in, every
 *   path is absolute (relative ones are resolved against the directory of
 *   nomaflow.toml, never the daemon's working directory, which may change),
 *   every schedule is parsed, every zone loaded, every sql_query step points
 *   at its pool.  Only worker_path may be NULL: the daemon then looks for
 *   the worker beside its own executable, then in NF_PKGLIBEXECDIR.
 * - The config is immutable once loaded; reload builds a new one.
 */
#include "autoconf.h"

#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acl.h"
#include "config.h"
#include "cron.h"
#include "expr.h"
#include "log.h"
#include "policy.h"
#include "steptype.h"
#include "template.h"
#include "toml.h"
#include "util.h"
#include "val.h"

#ifndef NF_POLICYDIR
#error "NF_POLICYDIR must be defined by the build"
#endif

#define DEF_STATE_DIR		"."
#define DEF_STORE_FILE		"nomaflow.db"
#define DEF_SOCKET_FILE		"nomaflowd.sock"
#define DEF_SOCKET_MODE		0660
#define DEF_JOBS_DIR		"jobs.d"
#define DEF_PYTHON		"/usr/bin/python3"
#define DEF_PLUGINS_DIR		"plugins"
#define DEF_MAX_WORKERS		8
#define DEF_GRACE		5
#define DEF_SHUTDOWN_GRACE	30
#define DEF_LOG_CAP		(10 * 1024 * 1024)
#define DEF_OUTPUT_MAX_ROWS	100
#define DEF_RETRY_ATTEMPTS	1
#define DEF_RETRY_BASE		1.0
#define DEF_RETRY_MAX		300.0

/* Longest run or step timeout accepted: 30 days. */
#define MAX_TIMEOUT		(30 * 24 * 3600)

/*
 * Step types a later release brings.  Naming one is a clearer error than
 * "unknown step type": the operator knows the config is right and the
 * build is old.
 */
static const char *const planned_types[] = {
	"ldap_sync", NULL
};

static const char *const job_keys[] = {
	"id", "description", "schedule", "timezone", "enabled", "tags",
	"params", "retry", "timeout_seconds", "steps", "overlap", "catchup",
	"catchup_window", "jitter", "after", "after_on", "presets", "every",
	"every_anchor", "schedules", "secret_params", "on_interrupt", NULL
};

/* The state of one load: where messages go and which file is read. */
struct ld {
	struct nf_errs		*errs;
	struct nf_config	*cfg;
	const char		*file;	/* file being read, for messages */
	char			*dir;	/* real directory of nomaflow.toml */
	size_t			 nerrs0; /* errs->n when the load began */
	int			 tmpl;	/* strings of a step's spec: keep
					   run-time templates (get_str) */
};

static void
lerr(struct ld *ld, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
lerr(struct ld *ld, int line, int col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	nf_errs_vadd(ld->errs, ld->file, line, col, fmt, ap);
	va_end(ap);
}

static int
ld_failed(const struct ld *ld)
{
	return ld->errs->n > ld->nerrs0;
}

/* "a string", "an integer", ... for type errors. */
static const char *
toml_what(enum nf_toml_type t)
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

static const char *
val_what(enum nf_val_type t)
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
static void
tab_pos(const struct nf_toml_value *t, int *line, int *col)
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

/* An environment value; keep: "$" doubled (see expand()). */
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
 * keeps it literal.
 */
static char *
expand(const char *in, int keep, char *err, size_t errlen)
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
			nf_buf_adds(&b, keep ? "$$" : "$");
			p += 2;
			continue;
		}
		name = p + 2;
		if (keep && tmpl_root(name)) {
			/* Checked by config.c's check_step_refs(). */
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
				    keep && *var >= 'a' && *var <= 'z' ?
				    "; run-time templates start with params., "
				    "job., run., steps., prev., today, "
				    "yesterday, month. or week." : "");
				free(var);
				goto fail;
			}
			add_env(&b, val, keep);
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
				add_env(&b, val, keep);
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
	return expand(in, 0, err, errlen);
}

/* A string value, NUL-checked and expanded; NULL (reported) on error. */
static char *
get_str(struct ld *ld, const struct nf_toml_value *v, const char *what)
{
	char	 err[512], *s;

	if (v->type != NF_TOML_STRING) {
		lerr(ld, v->line, v->col, "%s must be a string, not %s",
		    what, toml_what(v->type));
		return NULL;
	}
	if (strlen(v->u.str.s) != v->u.str.len) {
		lerr(ld, v->line, v->col, "%s contains a NUL character", what);
		return NULL;
	}
	if ((s = expand(v->u.str.s, ld->tmpl, err, sizeof(err))) == NULL) {
		lerr(ld, v->line, v->col, "%s: %s", what, err);
		return NULL;
	}
	return s;
}

static int
get_int(struct ld *ld, const struct nf_toml_value *v, const char *what,
    int64_t min, int64_t max, int64_t *out)
{
	if (v->type != NF_TOML_INTEGER) {
		lerr(ld, v->line, v->col, "%s must be an integer, not %s",
		    what, toml_what(v->type));
		return -1;
	}
	if (v->u.i < min || v->u.i > max) {
		lerr(ld, v->line, v->col, "%s must be between %lld and %lld, "
		    "not %lld", what, (long long)min, (long long)max,
		    (long long)v->u.i);
		return -1;
	}
	*out = v->u.i;
	return 0;
}

/* An int field of the struct: same as get_int, stored into an int. */
static void
set_int(struct ld *ld, const struct nf_toml_value *v, const char *what,
    int min, int max, int *out)
{
	int64_t	i;

	if (get_int(ld, v, what, min, max, &i) == 0)
		*out = (int)i;
}

static int
get_num(struct ld *ld, const struct nf_toml_value *v, const char *what,
    double min, double max, double *out)
{
	double	d;

	if (v->type == NF_TOML_INTEGER)
		d = (double)v->u.i;
	else if (v->type == NF_TOML_FLOAT)
		d = v->u.f;
	else {
		lerr(ld, v->line, v->col, "%s must be a number, not %s",
		    what, toml_what(v->type));
		return -1;
	}
	if (!(d >= min && d <= max)) {
		lerr(ld, v->line, v->col, "%s must be between %g and %g",
		    what, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

static void
set_bool(struct ld *ld, const struct nf_toml_value *v, const char *what,
    int *out)
{
	if (v->type != NF_TOML_BOOL) {
		lerr(ld, v->line, v->col, "%s must be true or false, not %s",
		    what, toml_what(v->type));
		return;
	}
	*out = v->u.b != 0;
}

static int
is_table(struct ld *ld, const struct nf_toml_value *v, const char *what)
{
	if (v->type == NF_TOML_TABLE)
		return 1;
	lerr(ld, v->line, v->col, "%s must be a table, not %s", what,
	    toml_what(v->type));
	return 0;
}

/* Keys may hold NUL in TOML; no key of ours can. */
static int
key_ok(struct ld *ld, const struct nf_toml_kv *kv)
{
	if (strlen(kv->key) == kv->keylen)
		return 1;
	lerr(ld, kv->line, kv->col, "key contains a NUL character");
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

static char *
resolve(const char *dir, const char *p)
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
static char *
get_path(struct ld *ld, const struct nf_toml_value *v, const char *what)
{
	char	*s, *r;

	if ((s = get_str(ld, v, what)) == NULL)
		return NULL;
	if (*s == '\0') {
		lerr(ld, v->line, v->col, "%s must not be empty", what);
		free(s);
		return NULL;
	}
	r = resolve(ld->dir, s);
	free(s);
	return r;
}

static void
set_path(struct ld *ld, const struct nf_toml_value *v, const char *what,
    char **out)
{
	char	*p;

	if ((p = get_path(ld, v, what)) != NULL) {
		free(*out);
		*out = p;
	}
}

static void
unknown_key(struct ld *ld, const struct nf_toml_kv *kv, const char *where,
    const char *const *allowed)
{
	struct nf_buf	b;
	size_t		i;

	nf_buf_init(&b);
	for (i = 0; allowed != NULL && allowed[i] != NULL; i++)
		nf_buf_printf(&b, "%s%s", i ? ", " : "", allowed[i]);
	if (b.len > 0)
		lerr(ld, kv->line, kv->col, "unknown key \"%s\" in %s "
		    "(allowed: %s)", kv->key, where, b.data);
	else
		lerr(ld, kv->line, kv->col, "unknown key \"%s\" in %s",
		    kv->key, where);
	nf_buf_free(&b);
}

/* RFC 3339 text of a TOML date/time (params keep dates as strings). */
static char *
datetime_str(const struct nf_toml_value *v)
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
static struct nf_val *
to_val(struct ld *ld, const struct nf_toml_value *v, const char *what)
{
	struct nf_val	*r, *c;
	char		*s;
	size_t		 i;
	int		 bad = 0;

	switch (v->type) {
	case NF_TOML_STRING:
		if ((s = get_str(ld, v, what)) == NULL)
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
		s = datetime_str(v);
		r = nf_val_str(s);
		free(s);
		return r;
	case NF_TOML_ARRAY:
		r = nf_val_arr();
		for (i = 0; i < v->u.arr.n; i++) {
			if ((c = to_val(ld, v->u.arr.items[i], what)) == NULL)
				bad = 1;
			else
				nf_val_arr_push(r, c);
		}
		break;
	case NF_TOML_TABLE:
		r = nf_val_map();
		for (i = 0; i < v->u.tab.n; i++) {
			if (!key_ok(ld, &v->u.tab.kv[i])) {
				bad = 1;
				continue;
			}
			c = to_val(ld, v->u.tab.kv[i].val, what);
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

/* nomaflow.toml ------------------------------------------------------ */

static void
load_store(struct ld *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "path", "synchronous", NULL };
	const struct nf_toml_kv *kv;
	char		*s;
	size_t		 i;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "path") == 0)
			set_path(ld, kv->val, "store.path",
			    &ld->cfg->store_path);
		else if (strcmp(kv->key, "synchronous") == 0) {
			if ((s = get_str(ld, kv->val,
			    "store.synchronous")) == NULL)
				continue;
			if (strcmp(s, "normal") == 0)
				ld->cfg->store_sync_full = 0;
			else if (strcmp(s, "full") == 0)
				ld->cfg->store_sync_full = 1;
			else
				lerr(ld, kv->val->line, kv->val->col,
				    "store.synchronous must be \"normal\" or "
				    "\"full\", not \"%s\"", s);
			free(s);
		} else
			unknown_key(ld, kv, "[store]", keys);
	}
}

static void
load_control(struct ld *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "socket", "mode", "group", NULL };
	const struct nf_toml_kv *kv;
	char		*s, *end;
	long		 mode;
	size_t		 i, n;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "socket") == 0)
			set_path(ld, kv->val, "control.socket",
			    &ld->cfg->socket_path);
		else if (strcmp(kv->key, "mode") == 0) {
			/*
			 * A string: a TOML decimal 660 would silently be
			 * mode 01224.
			 */
			if ((s = get_str(ld, kv->val, "control.mode")) == NULL)
				continue;
			n = strlen(s);
			errno = 0;
			mode = strtol(s, &end, 8);
			if (n < 3 || n > 4 || *end != '\0' || errno != 0 ||
			    s[strspn(s, "01234567")] != '\0' || mode > 0777)
				lerr(ld, kv->val->line, kv->val->col,
				    "control.mode must be an octal permission "
				    "string such as \"0660\", not \"%s\"", s);
			else
				ld->cfg->socket_mode = (int)mode;
			free(s);
		} else if (strcmp(kv->key, "group") == 0) {
			if ((s = get_str(ld, kv->val, "control.group")) == NULL)
				continue;
			errno = 0;
			if (getgrnam(s) == NULL) {
				if (errno != 0)
					lerr(ld, kv->val->line, kv->val->col,
					    "control.group \"%s\": cannot read "
					    "the group database: %s", s,
					    strerror(errno));
				else
					lerr(ld, kv->val->line, kv->val->col,
					    "control.group: no group named "
					    "\"%s\" on this system (create it "
					    "or fix the name)", s);
				free(s);
				continue;
			}
			free(ld->cfg->socket_group);
			ld->cfg->socket_group = s;
		} else
			unknown_key(ld, kv, "[control]", keys);
	}
}

static void
load_worker(struct ld *ld, const struct nf_toml_value *t)
{
	static const char *const keys[] = { "path", "max_concurrent",
	    "grace_seconds", "allow_unsandboxed", "output_max_rows", NULL };
	const struct nf_toml_kv *kv;
	struct nf_config *cfg = ld->cfg;
	size_t		 i;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "path") == 0)
			set_path(ld, kv->val, "worker.path",
			    &cfg->worker_path);
		else if (strcmp(kv->key, "max_concurrent") == 0)
			set_int(ld, kv->val, "worker.max_concurrent", 1, 1024,
			    &cfg->max_workers);
		else if (strcmp(kv->key, "grace_seconds") == 0)
			set_int(ld, kv->val, "worker.grace_seconds", 0, 3600,
			    &cfg->grace_seconds);
		else if (strcmp(kv->key, "allow_unsandboxed") == 0)
			set_bool(ld, kv->val, "worker.allow_unsandboxed",
			    &cfg->allow_unsandboxed);
		else if (strcmp(kv->key, "output_max_rows") == 0)
			set_int(ld, kv->val, "worker.output_max_rows", 0,
			    100000, &cfg->output_max_rows);
		else
			unknown_key(ld, kv, "[worker]", keys);
	}
}

static void
load_pool(struct ld *ld, const struct nf_toml_kv *pkv)
{
	static const char *const keys[] = { "driver", "path", "conninfo",
	    "max_concurrent", "queries", NULL };
	const struct nf_toml_value *t = pkv->val, *qt = NULL;
	const struct nf_toml_kv *kv, *qkv;
	struct nf_config *cfg = ld->cfg;
	struct nf_pool	*p;
	char		 what[256], where[256], *s;
	size_t		 i;
	int		 line, col;

	snprintf(where, sizeof(where), "[pools.%s]", pkv->key);
	if (!nf_valid_ident(pkv->key)) {
		lerr(ld, pkv->line, pkv->col, "pool name \"%s\" may only "
		    "contain letters, digits, \"_\" and \"-\"", pkv->key);
		return;
	}
	snprintf(what, sizeof(what), "pools.%s", pkv->key);
	if (!is_table(ld, t, what))
		return;
	cfg->pools = nf_xreallocarray(cfg->pools, cfg->npools + 1,
	    sizeof(*cfg->pools));
	p = &cfg->pools[cfg->npools++];
	memset(p, 0, sizeof(*p));
	p->name = nf_xstrdup(pkv->key);
	p->queries = nf_val_map();
	p->file = nf_xstrdup(ld->file);
	p->line = pkv->line;
	p->col = pkv->col;

	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		snprintf(what, sizeof(what), "pools.%s.%s", p->name, kv->key);
		if (strcmp(kv->key, "driver") == 0) {
			if ((s = get_str(ld, kv->val, what)) == NULL)
				continue;
			if (strcmp(s, "sqlite") != 0 &&
			    strcmp(s, "postgres") != 0) {
				lerr(ld, kv->val->line, kv->val->col,
				    "%s must be \"sqlite\" or \"postgres\", "
				    "not \"%s\"", what, s);
				free(s);
				continue;
			}
			free(p->driver);
			p->driver = s;
		} else if (strcmp(kv->key, "path") == 0)
			set_path(ld, kv->val, what, &p->path);
		else if (strcmp(kv->key, "conninfo") == 0) {
			if ((s = get_str(ld, kv->val, what)) != NULL) {
				free(p->conninfo);
				p->conninfo = s;
			}
		} else if (strcmp(kv->key, "max_concurrent") == 0)
			set_int(ld, kv->val, what, 0, 1024,
			    &p->max_concurrent);
		else if (strcmp(kv->key, "queries") == 0) {
			if (is_table(ld, kv->val, what))
				qt = kv->val;
		} else
			unknown_key(ld, kv, where, keys);
	}

	for (i = 0; qt != NULL && i < qt->u.tab.n; i++) {
		qkv = &qt->u.tab.kv[i];
		if (!key_ok(ld, qkv))
			continue;
		if (!nf_valid_ident(qkv->key)) {
			lerr(ld, qkv->line, qkv->col, "query name \"%s\" in "
			    "[pools.%s.queries] may only contain letters, "
			    "digits, \"_\" and \"-\"", qkv->key, p->name);
			continue;
		}
		snprintf(what, sizeof(what), "pools.%s.queries.%s", p->name,
		    qkv->key);
		if ((s = get_str(ld, qkv->val, what)) != NULL) {
			nf_val_map_set_str(p->queries, qkv->key, s);
			free(s);
		}
	}

	tab_pos(t, &line, &col);
	if (line == 0) {
		line = pkv->line;
		col = pkv->col;
	}
	if (p->driver == NULL) {
		/* A bad driver value was reported already. */
		if (nf_toml_get(t, "driver") == NULL)
			lerr(ld, line, col, "pool \"%s\" has no driver (add "
			    "driver = \"sqlite\")", p->name);
		return;
	}
	if (strcmp(p->driver, "sqlite") == 0) {
		if (nf_toml_get(t, "path") == NULL)
			lerr(ld, line, col, "sqlite pool \"%s\" needs a path "
			    "(the database file)", p->name);
		if ((kv = nf_toml_get_kv(t, "conninfo")) != NULL)
			lerr(ld, kv->line, kv->col, "conninfo is for postgres "
			    "pools; sqlite pool \"%s\" takes a path",
			    p->name);
	} else {
		if (nf_toml_get(t, "conninfo") == NULL)
			lerr(ld, line, col, "postgres pool \"%s\" needs a "
			    "conninfo (\"host=... dbname=...\")", p->name);
		if ((kv = nf_toml_get_kv(t, "path")) != NULL)
			lerr(ld, kv->line, kv->col, "path is for sqlite "
			    "pools; postgres pool \"%s\" takes a conninfo",
			    p->name);
	}
}

static void
load_daemon(struct ld *ld, const struct nf_toml_value *root)
{
	static const char *const keys[] = { "state_dir", "store", "control",
	    "worker", "policies_dir", "jobs_dir", "python", "plugins_dir",
	    "log_level", "shutdown_grace_seconds", "log_cap_bytes", "pools",
	    "role", "user", "group", NULL };
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v;
	struct nf_config *cfg = ld->cfg;
	char		*s;
	int64_t		 i64;
	size_t		 i, j;
	int		 lvl;

	/* state_dir first: the defaults of other paths live in it. */
	cfg->state_dir = resolve(ld->dir, DEF_STATE_DIR);
	if ((v = nf_toml_get(root, "state_dir")) != NULL)
		set_path(ld, v, "state_dir", &cfg->state_dir);

	cfg->store_path = nf_xprintf("%s/%s", cfg->state_dir,
	    DEF_STORE_FILE);
	cfg->socket_path = nf_xprintf("%s/%s", cfg->state_dir,
	    DEF_SOCKET_FILE);
	cfg->socket_mode = DEF_SOCKET_MODE;
	cfg->policies_dir = resolve(ld->dir, NF_POLICYDIR);
	cfg->jobs_dir = resolve(ld->dir, DEF_JOBS_DIR);
	cfg->python_path = nf_xstrdup(DEF_PYTHON);
	cfg->plugins_dir = resolve(ld->dir, DEF_PLUGINS_DIR);
	cfg->max_workers = DEF_MAX_WORKERS;
	cfg->log_level = NF_LOG_INFO;
	cfg->grace_seconds = DEF_GRACE;
	cfg->shutdown_grace_seconds = DEF_SHUTDOWN_GRACE;
	cfg->log_cap_bytes = DEF_LOG_CAP;
	cfg->output_max_rows = DEF_OUTPUT_MAX_ROWS;

	for (i = 0; i < root->u.tab.n; i++) {
		kv = &root->u.tab.kv[i];
		v = kv->val;
		if (!key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "state_dir") == 0)
			continue;
		else if (strcmp(kv->key, "store") == 0) {
			if (is_table(ld, v, "store"))
				load_store(ld, v);
		} else if (strcmp(kv->key, "control") == 0) {
			if (is_table(ld, v, "control"))
				load_control(ld, v);
		} else if (strcmp(kv->key, "worker") == 0) {
			if (is_table(ld, v, "worker"))
				load_worker(ld, v);
		} else if (strcmp(kv->key, "policies_dir") == 0)
			set_path(ld, v, "policies_dir", &cfg->policies_dir);
		else if (strcmp(kv->key, "jobs_dir") == 0)
			set_path(ld, v, "jobs_dir", &cfg->jobs_dir);
		else if (strcmp(kv->key, "python") == 0) {
			if ((s = get_str(ld, v, "python")) == NULL)
				continue;
			/*
			 * Never a PATH lookup: a shim on PATH costs ~90 ms
			 * per step and is not what the operator audited.
			 */
			if (s[0] != '/') {
				lerr(ld, v->line, v->col, "python must be an "
				    "absolute path such as \"%s\", not \"%s\"",
				    DEF_PYTHON, s);
				free(s);
				continue;
			}
			free(cfg->python_path);
			cfg->python_path = s;
		} else if (strcmp(kv->key, "plugins_dir") == 0)
			set_path(ld, v, "plugins_dir", &cfg->plugins_dir);
		else if (strcmp(kv->key, "log_level") == 0) {
			if ((s = get_str(ld, v, "log_level")) == NULL)
				continue;
			if ((lvl = nf_log_level_parse(s)) < 0)
				lerr(ld, v->line, v->col, "log_level must be "
				    "one of \"error\", \"warn\", \"info\", "
				    "\"debug\", not \"%s\"", s);
			else
				cfg->log_level = lvl;
			free(s);
		} else if (strcmp(kv->key, "shutdown_grace_seconds") == 0)
			set_int(ld, v, "shutdown_grace_seconds", 0, 86400,
			    &cfg->shutdown_grace_seconds);
		else if (strcmp(kv->key, "log_cap_bytes") == 0) {
			if (get_int(ld, v, "log_cap_bytes", 4096,
			    INT64_C(1) << 40, &i64) == 0)
				cfg->log_cap_bytes = i64;
		} else if (strcmp(kv->key, "pools") == 0) {
			if (!is_table(ld, v, "pools"))
				continue;
			for (j = 0; j < v->u.tab.n; j++)
				if (key_ok(ld, &v->u.tab.kv[j]))
					load_pool(ld, &v->u.tab.kv[j]);
		} else if (!nf_acl_is_key(kv->key))	/* acl.c reads them */
			unknown_key(ld, kv, "the top level of nomaflow.toml",
			    keys);
	}
	cfg->acl = nf_acl_load(root, ld->file, ld->errs);
}

/* The jobs directory: *.toml files of [[jobs]] ---------------------- */

static int
in_list(const char *const *list, const char *s)
{
	size_t	i;

	for (i = 0; list[i] != NULL; i++)
		if (strcmp(list[i], s) == 0)
			return 1;
	return 0;
}

/* "an array of strings", "a table of strings", "a string", ... */
static void
field_what(const struct nf_steptype_field *f, char *buf, size_t len)
{
	const char *e;

	if ((f->type == NF_V_ARR || f->type == NF_V_MAP) &&
	    f->elem != NF_V_ANY) {
		/* "a string" -> "strings" */
		e = val_what(f->elem);
		e += (e[1] == 'n' && e[2] == ' ') ? 3 : 2;
		snprintf(buf, len, "%s of %ss", val_what(f->type), e);
	} else
		snprintf(buf, len, "%s", val_what(f->type));
}

/* Does a TOML value fit an nf_val schema type?  Date/times are strings. */
static int
toml_fits(const struct nf_toml_value *v, enum nf_val_type t)
{
	switch (t) {
	case NF_V_ANY:
		return 1;
	case NF_V_STR:
		return v->type == NF_TOML_STRING ||
		    v->type == NF_TOML_DATETIME ||
		    v->type == NF_TOML_DATETIME_LOCAL ||
		    v->type == NF_TOML_DATE_LOCAL ||
		    v->type == NF_TOML_TIME_LOCAL;
	case NF_V_INT:
		return v->type == NF_TOML_INTEGER;
	case NF_V_FLOAT:
		return v->type == NF_TOML_INTEGER || v->type == NF_TOML_FLOAT;
	case NF_V_BOOL:
		return v->type == NF_TOML_BOOL;
	case NF_V_ARR:
		return v->type == NF_TOML_ARRAY;
	case NF_V_MAP:
		return v->type == NF_TOML_TABLE;
	default:
		return 0;
	}
}

/*
 * Check one type-specific value against its field; on success return it
 * converted (a FLOAT field stores an integer as a float).
 */
static struct nf_val *
step_field(struct ld *ld, const struct nf_steptype_field *f,
    const struct nf_toml_kv *kv, const char *pfx)
{
	const struct nf_toml_value *v = kv->val, *e;
	char		 what[1024], want[64];
	struct nf_val	*r;
	size_t		 i, n;

	field_what(f, want, sizeof(want));
	snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
	if (!toml_fits(v, f->type)) {
		lerr(ld, v->line, v->col, "%s must be %s, not %s", what, want,
		    toml_what(v->type));
		return NULL;
	}
	if (f->type == NF_V_ARR || f->type == NF_V_MAP) {
		n = f->type == NF_V_ARR ? v->u.arr.n : v->u.tab.n;
		for (i = 0; i < n; i++) {
			e = f->type == NF_V_ARR ? v->u.arr.items[i] :
			    v->u.tab.kv[i].val;
			if (!toml_fits(e, f->elem)) {
				lerr(ld, e->line, e->col, "%s must be %s; "
				    "this element is %s", what, want,
				    toml_what(e->type));
				return NULL;
			}
		}
	}
	if ((r = to_val(ld, v, what)) == NULL)
		return NULL;
	if (f->type == NF_V_FLOAT && r->type == NF_V_INT) {
		struct nf_val *fl = nf_val_float((double)r->u.i);

		nf_val_free(r);
		r = fl;
	}
	return r;
}

/* The checks a field schema cannot express, per type. */
static void
step_check_exec(struct ld *ld, const struct nf_toml_value *t,
    const char *pfx)
{
	const struct nf_toml_value *argv, *env;
	size_t		 i;

	argv = nf_toml_get(t, "argv");
	env = nf_toml_get(t, "env");
	for (i = 0; env != NULL && env->type == NF_TOML_TABLE &&
	    i < env->u.tab.n; i++)
		if (env->u.tab.kv[i].key[0] == '\0' ||
		    strchr(env->u.tab.kv[i].key, '=') != NULL)
			lerr(ld, env->u.tab.kv[i].line, env->u.tab.kv[i].col,
			    "%senv: \"%s\" is not a valid environment "
			    "variable name", pfx, env->u.tab.kv[i].key);
	if (argv == NULL || argv->type != NF_TOML_ARRAY)
		return;
	if (argv->u.arr.n == 0)
		lerr(ld, argv->line, argv->col, "%sargv must name a program "
		    "(it is empty)", pfx);
	else if (argv->u.arr.items[0]->type == NF_TOML_STRING &&
	    argv->u.arr.items[0]->u.str.len == 0)
		lerr(ld, argv->u.arr.items[0]->line,
		    argv->u.arr.items[0]->col, "%sargv[0] (the program) must "
		    "not be empty", pfx);
}

static void
step_check_sql_query(struct ld *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
{
	const struct nf_toml_kv *pkv, *skv, *qkv, *mkv;
	const struct nf_toml_value *ptab, *pv;
	const char	*pool, *q;
	size_t		 i;

	/* Only scalars can be bound; the worker would fail the step later. */
	ptab = nf_toml_get(t, "params");
	for (i = 0; ptab != NULL && ptab->type == NF_TOML_TABLE &&
	    i < ptab->u.tab.n; i++) {
		pv = ptab->u.tab.kv[i].val;
		if (pv->type == NF_TOML_ARRAY || pv->type == NF_TOML_TABLE)
			lerr(ld, pv->line, pv->col, "%sparams.%s is %s; only "
			    "strings, numbers, booleans and dates can be bound",
			    pfx, ptab->u.tab.kv[i].key, toml_what(pv->type));
	}

	pkv = nf_toml_get_kv(t, "pool");
	skv = nf_toml_get_kv(t, "sql");
	qkv = nf_toml_get_kv(t, "query");
	mkv = nf_toml_get_kv(t, "max_rows");
	if (skv != NULL && qkv != NULL)
		lerr(ld, qkv->line, qkv->col, "%shas both sql and query: "
		    "give the statement inline (sql) or name one of the "
		    "pool's queries (query), not both", pfx);
	else if (skv == NULL && qkv == NULL)
		lerr(ld, line, col, "%sneeds sql = \"...\" (the statement) or "
		    "query = \"NAME\" (one of the pool's queries)", pfx);
	if (mkv != NULL && mkv->val->type == NF_TOML_INTEGER &&
	    (mkv->val->u.i < 0 || mkv->val->u.i > 100000))
		lerr(ld, mkv->val->line, mkv->val->col, "%smax_rows must be "
		    "between 0 and 100000", pfx);
	if (pkv == NULL || st->spec == NULL ||
	    (pool = nf_val_get_str(st->spec, "pool")) == NULL)
		return;
	if ((st->pool = nf_config_pool(ld->cfg, pool)) == NULL) {
		lerr(ld, pkv->val->line, pkv->val->col, "%sno pool named "
		    "\"%s\" (declare it as [pools.%s] in nomaflow.toml)", pfx,
		    pool, pool);
		return;
	}
	if (qkv != NULL && (q = nf_val_get_str(st->spec, "query")) != NULL &&
	    nf_val_get(st->pool->queries, q) == NULL)
		lerr(ld, qkv->val->line, qkv->val->col, "%spool \"%s\" has no "
		    "query named \"%s\" (add it under [pools.%s.queries])",
		    pfx, pool, q, pool);
}

/* A Python identifier as the runner accepts it: ASCII only. */
static int
py_ident(const char *s, size_t n)
{
	size_t	i;

	if (n == 0 || isdigit((unsigned char)s[0]))
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return 0;
	return 1;
}

/* "a.b.c": dotted identifiers. */
static int
py_dotted(const char *s, size_t n)
{
	const char	*dot;

	while ((dot = memchr(s, '.', n)) != NULL) {
		if (!py_ident(s, (size_t)(dot - s)))
			return 0;
		n -= (size_t)(dot - s) + 1;
		s = dot + 1;
	}
	return py_ident(s, n);
}

static void
step_check_python(struct ld *ld, const struct nf_toml_value *t,
    const char *pfx)
{
	const struct nf_toml_value *c, *pools, *p;
	const char	*s, *colon;
	size_t		 i;

	c = nf_toml_get(t, "callable");
	if (c != NULL && c->type == NF_TOML_STRING) {
		s = c->u.str.s;
		colon = strchr(s, ':');
		if (colon == NULL || !py_dotted(s, (size_t)(colon - s)) ||
		    !py_dotted(colon + 1, strlen(colon + 1)))
			lerr(ld, c->line, c->col, "%scallable \"%s\" must be "
			    "\"package.module:function\" (a module importable "
			    "from plugins_dir, a colon, a function in it)", pfx,
			    s);
	}
	pools = nf_toml_get(t, "pools");
	for (i = 0; pools != NULL && pools->type == NF_TOML_ARRAY &&
	    i < pools->u.arr.n; i++) {
		p = pools->u.arr.items[i];
		if (p->type == NF_TOML_STRING &&
		    nf_config_pool(ld->cfg, p->u.str.s) == NULL)
			lerr(ld, p->line, p->col, "%spools[%zu]: no pool named "
			    "\"%s\" (declare it as [pools.%s] in "
			    "nomaflow.toml)", pfx, i, p->u.str.s, p->u.str.s);
	}
}

/* A string that a template or the environment fills in is judged later. */
static int
http_templated(const struct nf_toml_value *v)
{
	return v->type == NF_TOML_STRING && strstr(v->u.str.s, "${") != NULL;
}

/* One element of expect_status: 404, "404", "2xx" or "200-299". */
static void
http_check_status(struct ld *ld, const struct nf_toml_value *v,
    const char *pfx)
{
	int	lo, hi;

	if (v->type == NF_TOML_INTEGER && v->u.i >= 100 && v->u.i <= 599)
		return;
	if (v->type == NF_TOML_STRING &&
	    nf_steptype_status_range(v->u.str.s, &lo, &hi) == 0)
		return;
	lerr(ld, v->line, v->col, "%sexpect_status: each entry is a status "
	    "(100-599), a class such as \"2xx\" or a range such as "
	    "\"200-299\"", pfx);
}

static void
step_check_http(struct ld *ld, const struct nf_toml_value *t,
    const char *pfx)
{
	static const char *const auth_keys[][6] = {
		{ "bearer", "token", NULL },
		{ "basic", "username", "password", NULL },
		{ "oauth2", "token_url", "client_id", "client_secret", NULL },
	};
	static const char *const auth_opt[] = { "type", "scope",
	    "client_auth", NULL };
	const struct nf_toml_value *v, *a, *ty;
	const char	*s;
	size_t		 i, k, j;

	if ((v = nf_toml_get(t, "method")) != NULL &&
	    v->type == NF_TOML_STRING && !http_templated(v)) {
		for (s = v->u.str.s; *s >= 'A' && *s <= 'Z'; s++)
			;
		if (*s != '\0' || s == v->u.str.s)
			lerr(ld, v->line, v->col, "%smethod \"%s\" must be an "
			    "HTTP method in capitals (GET, POST, PUT, PATCH, "
			    "DELETE, HEAD, ...)", pfx, v->u.str.s);
	}
	if ((v = nf_toml_get(t, "url")) != NULL && v->type ==
	    NF_TOML_STRING && !http_templated(v) &&
	    strncasecmp(v->u.str.s, "http://", 7) != 0 &&
	    strncasecmp(v->u.str.s, "https://", 8) != 0)
		lerr(ld, v->line, v->col, "%surl must start with http:// or "
		    "https://", pfx);
	if ((v = nf_toml_get(t, "body")) != NULL &&
	    v->type != NF_TOML_STRING && v->type != NF_TOML_TABLE &&
	    v->type != NF_TOML_ARRAY)
		lerr(ld, v->line, v->col, "%sbody must be a string (sent as "
		    "is) or a table or array (sent as JSON), not %s", pfx,
		    toml_what(v->type));
	if ((v = nf_toml_get(t, "query")) != NULL && v->type == NF_TOML_TABLE)
		for (i = 0; i < v->u.tab.n; i++)
			if (v->u.tab.kv[i].val->type == NF_TOML_ARRAY ||
			    v->u.tab.kv[i].val->type == NF_TOML_TABLE)
				lerr(ld, v->u.tab.kv[i].line,
				    v->u.tab.kv[i].col, "%squery.%s must be "
				    "a string, number or boolean", pfx,
				    v->u.tab.kv[i].key);
	if ((a = nf_toml_get(t, "auth")) != NULL && a->type == NF_TOML_TABLE) {
		ty = nf_toml_get(a, "type");
		for (k = 0; ty != NULL && ty->type == NF_TOML_STRING &&
		    k < NF_NELEM(auth_keys); k++)
			if (strcmp(ty->u.str.s, auth_keys[k][0]) == 0)
				break;
		if (ty == NULL || ty->type != NF_TOML_STRING ||
		    k == NF_NELEM(auth_keys)) {
			lerr(ld, ty != NULL ? ty->line : a->line, ty != NULL ?
			    ty->col : a->col, "%sauth.type must be \"bearer\" "
			    "(token), \"basic\" (username, password) or "
			    "\"oauth2\" (token_url, client_id, client_secret, "
			    "scope)", pfx);
		} else {
			for (j = 1; auth_keys[k][j] != NULL; j++)
				if (nf_toml_get(a, auth_keys[k][j]) == NULL)
					lerr(ld, a->line, a->col, "%sauth of "
					    "type %s needs %s", pfx,
					    auth_keys[k][0], auth_keys[k][j]);
			for (i = 0; i < a->u.tab.n; i++) {
				for (j = 1; auth_keys[k][j] != NULL; j++)
					if (strcmp(a->u.tab.kv[i].key,
					    auth_keys[k][j]) == 0)
						break;
				if (auth_keys[k][j] != NULL ||
				    (in_list(auth_opt, a->u.tab.kv[i].key) &&
				    (k == 2 || strcmp(a->u.tab.kv[i].key,
				    "type") == 0)))
					continue;
				lerr(ld, a->u.tab.kv[i].line,
				    a->u.tab.kv[i].col, "%sauth: unknown key "
				    "\"%s\" for type %s", pfx,
				    a->u.tab.kv[i].key, auth_keys[k][0]);
			}
			v = nf_toml_get(a, "client_auth");
			if (v != NULL && v->type == NF_TOML_STRING &&
			    strcmp(v->u.str.s, "basic") != 0 &&
			    strcmp(v->u.str.s, "body") != 0)
				lerr(ld, v->line, v->col, "%sauth.client_auth "
				    "must be \"basic\" or \"body\"", pfx);
		}
	}
	if ((v = nf_toml_get(t, "expect_status")) != NULL) {
		if (v->type == NF_TOML_ARRAY) {
			if (v->u.arr.n == 0)
				lerr(ld, v->line, v->col, "%sexpect_status "
				    "is empty: no response would do", pfx);
			for (i = 0; i < v->u.arr.n; i++)
				http_check_status(ld, v->u.arr.items[i], pfx);
		} else
			http_check_status(ld, v, pfx);
	}
	if ((v = nf_toml_get(t, "max_body_bytes")) != NULL &&
	    v->type == NF_TOML_INTEGER && (v->u.i < 1 ||
	    v->u.i > NF_STEPTYPE_HTTP_MAX_BODY))
		lerr(ld, v->line, v->col, "%smax_body_bytes must be between 1 "
		    "and %u; stream larger bodies to a file with save_to",
		    pfx, NF_STEPTYPE_HTTP_MAX_BODY);
	if ((v = nf_toml_get(t, "max_redirects")) != NULL &&
	    v->type == NF_TOML_INTEGER && (v->u.i < 0 || v->u.i > 50))
		lerr(ld, v->line, v->col, "%smax_redirects must be between 0 "
		    "and 50", pfx);
	if ((v = nf_toml_get(t, "connect_timeout_seconds")) != NULL &&
	    ((v->type == NF_TOML_INTEGER && (v->u.i < 1 || v->u.i > 3600)) ||
	    (v->type == NF_TOML_FLOAT && !(v->u.f > 0 && v->u.f <= 3600))))
		lerr(ld, v->line, v->col, "%sconnect_timeout_seconds must be "
		    "more than 0 and at most 3600", pfx);
	if ((v = nf_toml_get(t, "save_to")) != NULL &&
	    v->type == NF_TOML_STRING && !http_templated(v) &&
	    v->u.str.s[0] != '/')
		lerr(ld, v->line, v->col, "%ssave_to must be an absolute path",
		    pfx);
}

/* source or target of sql_copy: {pool, table} (source: or query). */
static void
copy_check_end(struct ld *ld, const struct nf_toml_value *t, const char *pfx,
    const char *which)
{
	static const char *const keys[] = { "pool", "table", "query", NULL };
	const struct nf_toml_value *e, *v;
	size_t		 i;

	if ((e = nf_toml_get(t, which)) == NULL || e->type != NF_TOML_TABLE)
		return;
	for (i = 0; i < e->u.tab.n; i++)
		if (!in_list(keys, e->u.tab.kv[i].key) ||
		    (strcmp(which, "target") == 0 &&
		    strcmp(e->u.tab.kv[i].key, "query") == 0))
			lerr(ld, e->u.tab.kv[i].line, e->u.tab.kv[i].col,
			    "%s%s: unknown key \"%s\" (%s)", pfx, which,
			    e->u.tab.kv[i].key, strcmp(which, "source") == 0 ?
			    "pool, and table or query" : "pool and table");
	if ((v = nf_toml_get(e, "pool")) == NULL)
		lerr(ld, e->line, e->col, "%s%s needs pool = \"NAME\"", pfx,
		    which);
	else if (v->type == NF_TOML_STRING &&
	    nf_config_pool(ld->cfg, v->u.str.s) == NULL)
		lerr(ld, v->line, v->col, "%s%s: no pool named \"%s\" (declare "
		    "it as [pools.%s] in nomaflow.toml)", pfx, which,
		    v->u.str.s, v->u.str.s);
	if (strcmp(which, "source") == 0 &&
	    (nf_toml_get(e, "table") == NULL) ==
	    (nf_toml_get(e, "query") == NULL))
		lerr(ld, e->line, e->col, "%ssource needs either table = "
		    "\"NAME\" or query = \"SELECT ...\"", pfx);
	if (strcmp(which, "target") == 0 && nf_toml_get(e, "table") == NULL)
		lerr(ld, e->line, e->col, "%starget needs table = \"NAME\"",
		    pfx);
}

static void
step_check_sql_copy(struct ld *ld, const struct nf_toml_value *t,
    const char *pfx)
{
	const struct nf_toml_value *v, *k;

	copy_check_end(ld, t, pfx, "source");
	copy_check_end(ld, t, pfx, "target");
	v = nf_toml_get(t, "mode");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "overwrite") != 0 &&
	    strcmp(v->u.str.s, "append") != 0 &&
	    strcmp(v->u.str.s, "upsert") != 0)
		lerr(ld, v->line, v->col, "%smode must be \"overwrite\", "
		    "\"append\" or \"upsert\", not \"%s\"", pfx, v->u.str.s);
	k = nf_toml_get(t, "key");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "upsert") == 0 &&
	    (k == NULL || k->type != NF_TOML_ARRAY || k->u.arr.n == 0))
		lerr(ld, v->line, v->col, "%smode \"upsert\" needs key = "
		    "[\"COLUMN\", ...] (the target's unique key)", pfx);
	if (k != NULL && (v == NULL || v->type != NF_TOML_STRING ||
	    strcmp(v->u.str.s, "upsert") != 0))
		lerr(ld, k->line, k->col, "%skey is only used by mode = "
		    "\"upsert\"", pfx);
	v = nf_toml_get(t, "decimal");
	if (v != NULL && v->type == NF_TOML_STRING &&
	    strcmp(v->u.str.s, "preserve") != 0 &&
	    strcmp(v->u.str.s, "truncate") != 0)
		lerr(ld, v->line, v->col, "%sdecimal must be \"preserve\" or "
		    "\"truncate\", not \"%s\"", pfx, v->u.str.s);
	v = nf_toml_get(t, "batch_size");
	if (v != NULL && v->type == NF_TOML_INTEGER &&
	    (v->u.i < 1 || v->u.i > 1000000))
		lerr(ld, v->line, v->col, "%sbatch_size must be between 1 and "
		    "1000000", pfx);
}

static void
load_step(struct ld *ld, struct nf_job *job, const struct nf_toml_value *t,
    const char *jobpfx)
{
	const struct nf_steptype *type = NULL;
	const struct nf_steptype_field *f;
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v;
	struct nf_step	*st;
	struct nf_val	*c;
	struct nf_buf	 allowed;
	char		 pfx[512], what[1024], *s;
	size_t		 i;
	int		 line, col;

	tab_pos(t, &line, &col);
	job->steps = nf_xreallocarray(job->steps, job->nsteps + 1,
	    sizeof(*job->steps));
	st = &job->steps[job->nsteps++];
	memset(st, 0, sizeof(*st));
	st->enabled = 1;
	st->line = line;
	st->col = col;

	/* Name and type first: every other message names them. */
	snprintf(what, sizeof(what), "%sstep name", jobpfx);
	if ((v = nf_toml_get(t, "name")) == NULL)
		lerr(ld, line, col, "%sa step has no name (add name = "
		    "\"...\")", jobpfx);
	else if ((s = get_str(ld, v, what)) != NULL) {
		if (!nf_valid_ident(s))
			lerr(ld, v->line, v->col, "%sstep name \"%s\" may only "
			    "contain letters, digits, \"_\" and \"-\"", jobpfx,
			    s);
		else {
			for (i = 0; i + 1 < job->nsteps; i++)
				if (job->steps[i].name != NULL &&
				    strcmp(job->steps[i].name, s) == 0)
					break;
			if (i + 1 < job->nsteps)
				lerr(ld, v->line, v->col, "%sduplicate step "
				    "name \"%s\" (also at line %d)", jobpfx,
				    s, job->steps[i].line);
		}
		st->name = s;
	}
	if (st->name != NULL)
		snprintf(pfx, sizeof(pfx), "%sstep \"%s\": ", jobpfx,
		    st->name);
	else
		snprintf(pfx, sizeof(pfx), "%s", jobpfx);

	snprintf(what, sizeof(what), "%stype", pfx);
	if ((v = nf_toml_get(t, "type")) == NULL)
		lerr(ld, line, col, "%sno type (add type = \"exec\" or "
		    "another step type)", pfx);
	else if ((s = get_str(ld, v, what)) != NULL) {
		st->type = s;
		if ((type = nf_steptype_find(s)) == NULL) {
			if (in_list(planned_types, s))
				lerr(ld, v->line, v->col, "%sstep type \"%s\" "
				    "is not available in this build", pfx, s);
			else {
				const struct nf_steptype *const *all;

				nf_buf_init(&allowed);
				for (all = nf_steptype_all(); *all; all++)
					nf_buf_printf(&allowed, "%s%s",
					    allowed.len ? ", " : "",
					    (*all)->name);
				lerr(ld, v->line, v->col, "%sunknown step type "
				    "\"%s\" (known: %s)", pfx, s,
				    allowed.data);
				nf_buf_free(&allowed);
			}
		}
	}

	st->spec = nf_val_map();
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		if (strcmp(kv->key, "name") == 0 ||
		    strcmp(kv->key, "type") == 0)
			continue;
		if (strcmp(kv->key, "enabled") == 0) {
			snprintf(what, sizeof(what), "%senabled", pfx);
			set_bool(ld, kv->val, what, &st->enabled);
			continue;
		}
		if (strcmp(kv->key, "timeout_seconds") == 0) {
			snprintf(what, sizeof(what), "%stimeout_seconds", pfx);
			set_int(ld, kv->val, what, 0, MAX_TIMEOUT,
			    &st->timeout_seconds);
			continue;
		}
		/* Checked once every step is known: check_step_refs(). */
		if (strcmp(kv->key, "when") == 0)
			continue;
		/* Unknown type: its keys cannot be judged. */
		if (type == NULL)
			continue;
		for (f = type->fields; f->key != NULL; f++)
			if (strcmp(f->key, kv->key) == 0)
				break;
		if (f->key == NULL) {
			nf_buf_init(&allowed);
			for (f = type->fields; f->key != NULL; f++)
				nf_buf_printf(&allowed, "%s, ", f->key);
			nf_buf_adds(&allowed, "name, type, enabled, "
			    "timeout_seconds, when");
			lerr(ld, kv->line, kv->col, "%sunknown key \"%s\" for "
			    "a step of type %s (allowed: %s)", pfx, kv->key,
			    type->name, allowed.data);
			nf_buf_free(&allowed);
			continue;
		}
		/* Run-time templates stay in the spec's strings. */
		ld->tmpl = 1;
		if ((c = step_field(ld, f, kv, pfx)) != NULL)
			nf_val_map_set(st->spec, kv->key, c);
		ld->tmpl = 0;
	}
	if (type == NULL)
		return;
	ld->tmpl = 1;
	for (f = type->fields; f->key != NULL; f++)
		if (f->required && nf_toml_get(t, f->key) == NULL)
			lerr(ld, line, col, "%smissing required key \"%s\" for "
			    "a step of type %s", pfx, f->key, type->name);
	if (strcmp(type->name, "exec") == 0)
		step_check_exec(ld, t, pfx);
	else if (strcmp(type->name, "sql_query") == 0)
		step_check_sql_query(ld, st, t, pfx, line, col);
	else if (strcmp(type->name, "sql_copy") == 0)
		step_check_sql_copy(ld, t, pfx);
	else if (strcmp(type->name, "python") == 0)
		step_check_python(ld, t, pfx);
	else if (strcmp(type->name, "http") == 0)
		step_check_http(ld, t, pfx);
	else if (type->in_supervisor && nf_toml_get(t,
	    "timeout_seconds") != NULL) {
		v = nf_toml_get(t, "timeout_seconds");
		lerr(ld, v->line, v->col, "%sa %s step has no timeout_seconds "
		    "of its own: set timeout_seconds on the called job", pfx,
		    type->name);
	}
	ld->tmpl = 0;
}

static void
load_retry(struct ld *ld, struct nf_job *job, const struct nf_toml_value *t,
    const char *pfx)
{
	static const char *const keys[] = { "attempts", "backoff",
	    "base_seconds", "max_seconds", NULL };
	const struct nf_toml_kv *kv;
	char		 where[1024], *s;
	size_t		 i;

	snprintf(where, sizeof(where), "%sretry", pfx);
	if (!is_table(ld, t, where))
		return;
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (!key_ok(ld, kv))
			continue;
		snprintf(where, sizeof(where), "%sretry.%s", pfx, kv->key);
		if (strcmp(kv->key, "attempts") == 0)
			set_int(ld, kv->val, where, 1, 100,
			    &job->retry.attempts);
		else if (strcmp(kv->key, "backoff") == 0) {
			if ((s = get_str(ld, kv->val, where)) == NULL)
				continue;
			if (strcmp(s, "fixed") == 0)
				job->retry.backoff = NF_BACKOFF_FIXED;
			else if (strcmp(s, "exponential") == 0)
				job->retry.backoff = NF_BACKOFF_EXPONENTIAL;
			else
				lerr(ld, kv->val->line, kv->val->col, "%s must "
				    "be \"fixed\" or \"exponential\", not "
				    "\"%s\"", where, s);
			free(s);
		} else if (strcmp(kv->key, "base_seconds") == 0)
			get_num(ld, kv->val, where, 0, 86400,
			    &job->retry.base_seconds);
		else if (strcmp(kv->key, "max_seconds") == 0)
			get_num(ld, kv->val, where, 0, 86400,
			    &job->retry.max_seconds);
		else {
			if (job->id != NULL)
				snprintf(where, sizeof(where), "the retry "
				    "table of job \"%s\"", job->id);
			else
				snprintf(where, sizeof(where), "a retry table");
			unknown_key(ld, kv, where, keys);
		}
	}
	if (job->retry.max_seconds < job->retry.base_seconds)
		lerr(ld, t->line, t->col, "%sretry.max_seconds (%g) is below "
		    "retry.base_seconds (%g)", pfx, job->retry.max_seconds,
		    job->retry.base_seconds);
}

/*
 * Schedules.  Every form appends one nf_schedule to the job; zones are
 * resolved at the end of the job (finish_schedules), as `timezone` may
 * come after them.
 */
static struct nf_schedule *
add_schedule(struct nf_job *job, char *expr, struct nf_cron *cron,
    const struct nf_toml_value *v)
{
	struct nf_schedule *sc;

	job->schedules = nf_xreallocarray(job->schedules, job->nschedules + 1,
	    sizeof(*job->schedules));
	sc = &job->schedules[job->nschedules++];
	memset(sc, 0, sizeof(*sc));
	sc->expr = expr;
	sc->cron = cron;
	sc->line = v->line;
	sc->col = v->col;
	return sc;
}

/*
 * A column in the file for errcol of string value v: the value starts with
 * its quote, so the token's column is col + errcol.  After ${VAR}
 * expansion (or in an escaped or multi-line string) the columns no longer
 * line up: then point at the value.
 */
static int
str_errcol(const struct nf_toml_value *v, const char *expanded, int ecol)
{
	if (ecol > 0 && strcmp(expanded, v->u.str.s) == 0 &&
	    strchr(v->u.str.s, '\\') == NULL && strchr(v->u.str.s, '\n') ==
	    NULL)
		return v->col + ecol;
	return v->col;
}

/* One cron expression string (also "@every 15m"). */
static struct nf_schedule *
load_cron_str(struct ld *ld, struct nf_job *job, const struct nf_toml_value *v,
    const char *what)
{
	struct nf_cron	*c;
	char		 err[512], *s;
	int		 ecol = 0;

	if ((s = get_str(ld, v, what)) == NULL)
		return NULL;
	if ((c = nf_cron_parse(s, err, sizeof(err), &ecol)) == NULL) {
		lerr(ld, v->line, str_errcol(v, s, ecol), "%s \"%s\": %s",
		    what, s, err);
		free(s);
		return NULL;
	}
	return add_schedule(job, s, c, v);
}

/* every = "15m" with an optional every_anchor (an offset date-time). */
static struct nf_schedule *
load_every(struct ld *ld, struct nf_job *job, const struct nf_toml_value *v,
    const struct nf_toml_value *anchor, const char *what)
{
	const struct nf_toml_datetime *dt;
	struct nf_cron	*c;
	char		 err[512], *s, *a, *expr;
	int64_t		 secs, at = 0;
	int		 ecol = 0;

	if ((s = get_str(ld, v, what)) == NULL)
		return NULL;
	if (nf_cron_duration(s, &secs, err, sizeof(err), &ecol) == -1) {
		lerr(ld, v->line, str_errcol(v, s, ecol), "%s: %s", what, err);
		free(s);
		return NULL;
	}
	if (anchor != NULL) {
		if (anchor->type != NF_TOML_DATETIME) {
			lerr(ld, anchor->line, anchor->col, "%s_anchor must "
			    "be an offset date-time such as "
			    "2026-01-01T00:00:00+05:45 (unquoted, with its "
			    "UTC offset), not %s", what,
			    toml_what(anchor->type));
			free(s);
			return NULL;
		}
		dt = &anchor->u.dt;
		at = nf_tz_days_from_civil(dt->year, dt->month, dt->day) *
		    86400 + dt->hour * 3600 + dt->minute * 60 + dt->second -
		    (int64_t)dt->offset_minutes * 60;
		a = datetime_str(anchor);
		expr = nf_xprintf("@every %s from %s", s, a);
		free(a);
	} else
		expr = nf_xprintf("@every %s", s);
	free(s);
	c = nf_cron_every(secs, at);
	return add_schedule(job, expr, c, v);
}

/* schedule = "EXPR" or ["EXPR", ...] */
static void
load_schedule(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *pfx)
{
	char	 what[1024];
	size_t	 i;

	if (v->type != NF_TOML_ARRAY) {
		snprintf(what, sizeof(what), "%sschedule", pfx);
		load_cron_str(ld, job, v, what);
		return;
	}
	if (v->u.arr.n == 0)
		lerr(ld, v->line, v->col, "%sschedule is an empty array "
		    "(remove it for a job that only runs on demand)", pfx);
	for (i = 0; i < v->u.arr.n; i++) {
		snprintf(what, sizeof(what), "%sschedule[%zu]", pfx, i);
		load_cron_str(ld, job, v->u.arr.items[i], what);
	}
}

static const char *const schedule_keys[] = {
	"cron", "every", "every_anchor", "timezone", NULL
};

/* [[jobs.schedules]]: cron or every, every_anchor, timezone. */
static void
load_schedule_tables(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *pfx)
{
	const struct nf_toml_value *t, *cron, *every, *anchor, *tzv;
	struct nf_schedule *sc;
	char		 what[1100], where[1024], err[512], *s;
	size_t		 i, k;
	int		 line, col;

	if (v->type != NF_TOML_ARRAY) {
		lerr(ld, v->line, v->col, "%sschedules must be an array of "
		    "tables ([[jobs.schedules]]), not %s", pfx,
		    toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		t = v->u.arr.items[i];
		if (!is_table(ld, t, "[[jobs.schedules]]"))
			continue;
		tab_pos(t, &line, &col);
		snprintf(where, sizeof(where), "%sschedules[%zu]", pfx, i);
		for (k = 0; k < t->u.tab.n; k++) {
			if (!key_ok(ld, &t->u.tab.kv[k]) ||
			    in_list(schedule_keys, t->u.tab.kv[k].key))
				continue;
			snprintf(what, sizeof(what), "schedules[%zu] of job "
			    "\"%s\"", i, job->id != NULL ? job->id : "?");
			unknown_key(ld, &t->u.tab.kv[k], what, schedule_keys);
		}
		cron = nf_toml_get(t, "cron");
		every = nf_toml_get(t, "every");
		anchor = nf_toml_get(t, "every_anchor");
		tzv = nf_toml_get(t, "timezone");
		if ((cron == NULL) == (every == NULL)) {
			lerr(ld, line, col, "%s: give exactly one of cron = "
			    "\"...\" or every = \"...\"", where);
			continue;
		}
		if (anchor != NULL && every == NULL) {
			lerr(ld, anchor->line, anchor->col, "%s: every_anchor "
			    "without every (it anchors an interval)", where);
			continue;
		}
		if (cron != NULL) {
			snprintf(what, sizeof(what), "%s.cron", where);
			sc = load_cron_str(ld, job, cron, what);
		} else {
			snprintf(what, sizeof(what), "%s.every", where);
			sc = load_every(ld, job, every, anchor, what);
		}
		if (sc == NULL || tzv == NULL)
			continue;
		snprintf(what, sizeof(what), "%s.timezone", where);
		if ((s = get_str(ld, tzv, what)) == NULL)
			continue;
		sc->timezone = s;
		if ((sc->own_tz = nf_tz_load(s, err, sizeof(err))) == NULL)
			lerr(ld, tzv->line, tzv->col, "%s: %s", what, err);
	}
}

/* After the job's keys: zones, and the first schedule as job->schedule. */
static void
finish_schedules(struct nf_job *job)
{
	struct nf_schedule *sc;
	size_t		 i;

	for (i = 0; i < job->nschedules; i++) {
		sc = &job->schedules[i];
		sc->tz = sc->own_tz != NULL ? sc->own_tz : job->tz;
	}
	if (job->nschedules > 0) {
		job->schedule = job->schedules[0].expr;
		job->cron = job->schedules[0].cron;
	}
}

/*
 * Scheduling policies of a job: overlap, catchup, catchup_window, jitter,
 * after, after_on and presets.  Cross-job checks (after names a job, no
 * cycle) run once every job file is read: check_after().
 */

#define DEF_CATCHUP_WINDOW	3600
#define MAX_CATCHUP_WINDOW	(31 * 24 * 3600)
#define MAX_JITTER		(24 * 3600)

/* Index order is the enum order (config.h). */
static const char *const overlap_names[] = {
	"skip", "queue", "allow", "cancel_previous", NULL
};
static const char *const catchup_names[] = {
	"latest", "none", "all", NULL
};
static const char *const after_on_names[] = { "success", "always", NULL };
static const char *const on_interrupt_names[] = { "fail", "retry", NULL };

static const char *const preset_keys[] = {
	"name", "description", "schedule", "timezone", "params", "steps", NULL
};

/* "90s", "15m", "6h", "1h30m", "2d"; a bare number is seconds.  -1: bad. */
static int64_t
parse_duration(const char *s)
{
	int64_t	 total = 0, n, mul;
	int	 parts = 0;

	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (n = 0; *s >= '0' && *s <= '9'; s++)
			if ((n = n * 10 + (*s - '0')) > INT32_MAX)
				return -1;
		switch (*s) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case '\0':
			if (parts > 0)
				return -1;	/* "1h30": unit missing */
			return n;
		default:
			return -1;
		}
		s++;
		if ((total += n * mul) > INT32_MAX)
			return -1;
		parts++;
	}
	return parts > 0 ? total : -1;
}

static void
set_duration(struct ld *ld, const struct nf_toml_value *v, const char *what,
    int max, int *out)
{
	int64_t	 d;
	char	*s;

	if (v->type == NF_TOML_INTEGER) {
		set_int(ld, v, what, 0, max, out);
		return;
	}
	if ((s = get_str(ld, v, what)) == NULL)
		return;
	if ((d = parse_duration(s)) < 0)
		lerr(ld, v->line, v->col, "%s \"%s\" is not a duration (write "
		    "e.g. \"30s\", \"15m\", \"1h30m\" or \"2d\")", what, s);
	else if (d > max)
		lerr(ld, v->line, v->col, "%s \"%s\" is too long (at most %d "
		    "seconds)", what, s, max);
	else
		*out = (int)d;
	free(s);
}

static void
set_enum(struct ld *ld, const struct nf_toml_value *v, const char *what,
    const char *const *names, int *out)
{
	struct nf_buf	 b;
	char		*s;
	size_t		 i;

	if ((s = get_str(ld, v, what)) == NULL)
		return;
	for (i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], s) == 0) {
			*out = (int)i;
			free(s);
			return;
		}
	nf_buf_init(&b);
	for (i = 0; names[i] != NULL; i++)
		nf_buf_printf(&b, "%s\"%s\"", i ? ", " : "", names[i]);
	lerr(ld, v->line, v->col, "%s must be one of %s, not \"%s\"", what,
	    b.data, s);
	nf_buf_free(&b);
	free(s);
}

static void
load_after(struct ld *ld, struct nf_job *job, const struct nf_toml_value *v,
    const char *what)
{
	const struct nf_toml_value *e;
	char	*s;
	size_t	 i, j;

	if (v->type != NF_TOML_ARRAY) {
		lerr(ld, v->line, v->col, "%s must be an array of job ids, not "
		    "%s", what, toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if ((s = get_str(ld, e, what)) == NULL)
			continue;
		if (!nf_valid_ident(s)) {
			lerr(ld, e->line, e->col, "%s: \"%s\" is not a job id",
			    what, s);
			free(s);
			continue;
		}
		for (j = 0; j < job->nafter; j++)
			if (strcmp(job->after[j].job, s) == 0)
				break;
		if (j < job->nafter) {
			lerr(ld, e->line, e->col, "%s names job \"%s\" twice",
			    what, s);
			free(s);
			continue;
		}
		job->after = nf_xreallocarray(job->after, job->nafter + 1,
		    sizeof(*job->after));
		job->after[job->nafter].job = s;
		job->after[job->nafter].line = e->line;
		job->after[job->nafter].col = e->col;
		job->nafter++;
	}
}

/* steps = { NAME = { enabled = false, FIELD = ... }, ... } of a preset. */
static void
load_preset_steps(struct ld *ld, struct nf_job *job, struct nf_preset *p,
    const struct nf_toml_value *v, const char *pfx)
{
	const struct nf_steptype *type;
	const struct nf_steptype_field *f;
	const struct nf_toml_kv *skv, *kv;
	const struct nf_step *st;
	struct nf_val	*ov, *c;
	char		 what[1024], spfx[1024];
	size_t		 i, j;
	int		 b;

	snprintf(what, sizeof(what), "%ssteps", pfx);
	if (!is_table(ld, v, what))
		return;
	for (i = 0; i < v->u.tab.n; i++) {
		skv = &v->u.tab.kv[i];
		if (!key_ok(ld, skv))
			continue;
		for (st = NULL, j = 0; j < job->nsteps; j++)
			if (job->steps[j].name != NULL &&
			    strcmp(job->steps[j].name, skv->key) == 0)
				st = &job->steps[j];
		if (st == NULL) {
			lerr(ld, skv->line, skv->col, "%ssteps: the job has no "
			    "step named \"%s\"", pfx, skv->key);
			continue;
		}
		snprintf(spfx, sizeof(spfx), "%sstep \"%s\": ", pfx, st->name);
		snprintf(what, sizeof(what), "%ssteps.%s", pfx, st->name);
		if (!is_table(ld, skv->val, what))
			continue;
		type = st->type != NULL ? nf_steptype_find(st->type) : NULL;
		ov = nf_val_map();
		for (j = 0; j < skv->val->u.tab.n; j++) {
			kv = &skv->val->u.tab.kv[j];
			if (!key_ok(ld, kv))
				continue;
			snprintf(what, sizeof(what), "%s%s", spfx, kv->key);
			if (strcmp(kv->key, "enabled") == 0) {
				b = -1;
				set_bool(ld, kv->val, what, &b);
				if (b != -1)
					nf_val_map_set_bool(ov, "enabled", b);
				continue;
			}
			if (strcmp(kv->key, "timeout_seconds") == 0) {
				b = -1;
				set_int(ld, kv->val, what, 0, MAX_TIMEOUT, &b);
				if (b != -1)
					nf_val_map_set_int(ov,
					    "timeout_seconds", b);
				continue;
			}
			if (strcmp(kv->key, "name") == 0 ||
			    strcmp(kv->key, "type") == 0) {
				lerr(ld, kv->line, kv->col, "%sa preset cannot "
				    "change a step's %s", spfx, kv->key);
				continue;
			}
			if (type == NULL)
				continue;
			for (f = type->fields; f->key != NULL; f++)
				if (strcmp(f->key, kv->key) == 0)
					break;
			if (f->key == NULL) {
				lerr(ld, kv->line, kv->col, "%sunknown key "
				    "\"%s\" for a step of type %s", spfx,
				    kv->key, type->name);
				continue;
			}
			/* Run-time templates stay (see load_step()). */
			ld->tmpl = 1;
			if ((c = step_field(ld, f, kv, spfx)) != NULL)
				nf_val_map_set(ov, kv->key, c);
			ld->tmpl = 0;
		}
		nf_val_map_set(p->steps, st->name, ov);
	}
}

/* The job as preset p runs it (see struct nf_preset). */
static void
derive_preset(struct nf_job *job, struct nf_preset *p)
{
	const struct nf_val	*ov, *e;
	struct nf_job		*d;
	struct nf_step		*st;
	size_t			 i, j;

	d = nf_xcalloc(1, sizeof(*d));
	*d = *job;
	d->presets = NULL;
	d->npresets = 0;
	d->after = NULL;
	d->nafter = 0;
	d->preset = p;
	d->params = nf_val_dup(job->params);
	for (i = 0; i < p->params->u.m.n; i++)
		nf_val_map_set(d->params, p->params->u.m.kv[i].key,
		    nf_val_dup(p->params->u.m.kv[i].val));
	d->steps = nf_xcalloc(job->nsteps > 0 ? job->nsteps : 1,
	    sizeof(*d->steps));
	for (i = 0; i < job->nsteps; i++) {
		st = &d->steps[i];
		*st = job->steps[i];
		st->spec = st->spec != NULL ? nf_val_dup(st->spec) :
		    nf_val_map();
		if (st->name == NULL ||
		    (ov = nf_val_get(p->steps, st->name)) == NULL)
			continue;
		for (j = 0; j < ov->u.m.n; j++) {
			e = ov->u.m.kv[j].val;
			if (strcmp(ov->u.m.kv[j].key, "enabled") == 0)
				st->enabled = e->u.b;
			else if (strcmp(ov->u.m.kv[j].key,
			    "timeout_seconds") == 0)
				st->timeout_seconds = (int)e->u.i;
			else
				nf_val_map_set(st->spec, ov->u.m.kv[j].key,
				    nf_val_dup(e));
		}
	}
	p->job = d;
}

static void
load_preset(struct ld *ld, struct nf_job *job, const struct nf_toml_value *t,
    const char *jobpfx)
{
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v, *tzv = NULL;
	struct nf_preset *p;
	struct nf_val	*pv;
	char		 pfx[512], what[1024], err[512], *s;
	size_t		 i;
	int		 line, col, ecol;

	tab_pos(t, &line, &col);
	job->presets = nf_xreallocarray(job->presets, job->npresets + 1,
	    sizeof(*job->presets));
	p = &job->presets[job->npresets++];
	memset(p, 0, sizeof(*p));
	p->params = nf_val_map();
	p->steps = nf_val_map();
	p->line = line;
	p->col = col;
	snprintf(what, sizeof(what), "%spreset name", jobpfx);
	if ((v = nf_toml_get(t, "name")) == NULL)
		lerr(ld, line, col, "%sa preset has no name (add name = "
		    "\"...\")", jobpfx);
	else if ((s = get_str(ld, v, what)) != NULL) {
		p->name = s;
		if (!nf_valid_ident(s))
			lerr(ld, v->line, v->col, "%spreset name \"%s\" may "
			    "only contain letters, digits, \"_\" and \"-\"",
			    jobpfx, s);
		for (i = 0; i + 1 < job->npresets; i++)
			if (job->presets[i].name != NULL &&
			    strcmp(job->presets[i].name, s) == 0)
				lerr(ld, v->line, v->col, "%sduplicate preset "
				    "\"%s\" (also at line %d)", jobpfx, s,
				    job->presets[i].line);
	}
	snprintf(pfx, sizeof(pfx), "%spreset \"%s\": ", jobpfx,
	    p->name != NULL ? p->name : "?");
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		v = kv->val;
		if (!key_ok(ld, kv))
			continue;
		snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
		if (strcmp(kv->key, "name") == 0)
			continue;
		else if (strcmp(kv->key, "description") == 0) {
			if ((s = get_str(ld, v, what)) != NULL) {
				free(p->description);
				p->description = s;
			}
		} else if (strcmp(kv->key, "schedule") == 0) {
			if ((p->schedule = get_str(ld, v, what)) == NULL)
				continue;
			ecol = 0;
			if ((p->cron = nf_cron_parse(p->schedule, err,
			    sizeof(err), &ecol)) == NULL)
				lerr(ld, v->line, v->col + (ecol > 0 &&
				    strcmp(p->schedule, v->u.str.s) == 0 ?
				    ecol : 0), "%s \"%s\": %s", what,
				    p->schedule, err);
		} else if (strcmp(kv->key, "timezone") == 0) {
			if ((s = get_str(ld, v, what)) == NULL)
				continue;
			p->timezone = s;
			tzv = v;
			if ((p->tz = nf_tz_load(s, err, sizeof(err))) == NULL)
				lerr(ld, v->line, v->col, "%s: %s", what, err);
		} else if (strcmp(kv->key, "params") == 0) {
			if (!is_table(ld, v, what))
				continue;
			if ((pv = to_val(ld, v, what)) != NULL) {
				nf_val_free(p->params);
				p->params = pv;
			}
		} else if (strcmp(kv->key, "steps") == 0)
			load_preset_steps(ld, job, p, v, pfx);
		else {
			snprintf(what, sizeof(what), "preset \"%s\" of job "
			    "\"%s\"", p->name != NULL ? p->name : "?",
			    job->id != NULL ? job->id : "?");
			unknown_key(ld, kv, what, preset_keys);
		}
	}
	if (tzv != NULL && p->schedule == NULL)
		lerr(ld, tzv->line, tzv->col, "%stimezone without a schedule "
		    "(a preset's timezone applies to its own schedule)", pfx);
	if (p->description == NULL)
		p->description = nf_xstrdup("");
}

/* The policy keys of a job; 1 if kv was one. */
static int
load_job_policy(struct ld *ld, struct nf_job *job, const struct nf_toml_kv *kv,
    const char *what)
{
	int	e;

	if (strcmp(kv->key, "overlap") == 0) {
		e = (int)job->overlap;
		set_enum(ld, kv->val, what, overlap_names, &e);
		job->overlap = (enum nf_overlap)e;
	} else if (strcmp(kv->key, "catchup") == 0) {
		e = (int)job->catchup;
		set_enum(ld, kv->val, what, catchup_names, &e);
		job->catchup = (enum nf_catchup)e;
	} else if (strcmp(kv->key, "catchup_window") == 0)
		set_duration(ld, kv->val, what, MAX_CATCHUP_WINDOW,
		    &job->catchup_window);
	else if (strcmp(kv->key, "jitter") == 0)
		set_duration(ld, kv->val, what, MAX_JITTER, &job->jitter);
	else if (strcmp(kv->key, "after") == 0)
		load_after(ld, job, kv->val, what);
	else if (strcmp(kv->key, "after_on") == 0)
		set_enum(ld, kv->val, what, after_on_names, &job->after_always);
	else if (strcmp(kv->key, "on_interrupt") == 0)
		set_enum(ld, kv->val, what, on_interrupt_names,
		    &job->on_interrupt_retry);
	else if (strcmp(kv->key, "presets") == 0)
		;	/* after the steps: load_job_presets() */
	else
		return 0;
	return 1;
}

static void
load_job_presets(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *t, const char *pfx)
{
	const struct nf_toml_value *v, *e;
	size_t	 i;

	if ((v = nf_toml_get(t, "presets")) == NULL)
		return;
	if (v->type != NF_TOML_ARRAY) {
		lerr(ld, v->line, v->col, "%spresets must be an array of "
		    "tables ([[jobs.presets]]), not %s", pfx,
		    toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if (e->type != NF_TOML_TABLE) {
			lerr(ld, e->line, e->col, "%seach preset must be a "
			    "table ([[jobs.presets]]), not %s", pfx,
			    toml_what(e->type));
			continue;
		}
		load_preset(ld, job, e, pfx);
	}
	/* Once the array no longer moves: derived jobs point at presets. */
	for (i = 0; i < job->npresets; i++)
		derive_preset(job, &job->presets[i]);
}

/*
 * The two job graphs that must be acyclic: `after` dependencies and
 * call_job steps.  edge(job, j, &to) says whether the j-th link of a job
 * (its j-th `after` entry, its j-th step) leads to another job, and which;
 * report() prints a cycle found through that link.
 */
struct job_graph {
	size_t	(*nlinks)(const struct nf_job *);
	int	(*edge)(const struct nf_config *, const struct nf_job *,
		    size_t j, size_t *to);
	void	(*report)(struct ld *, const struct nf_job *, size_t j,
		    const char *cycle);
};

/* Depth-first search from job i; mark 1 = on the path, 2 = done. */
static void
graph_dfs(struct ld *ld, const struct job_graph *g, size_t i,
    unsigned char *mark, size_t *path, size_t depth)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job = &cfg->jobs[i];
	struct nf_buf		 b;
	size_t			 j, k, to, n = g->nlinks(job);

	mark[i] = 1;
	path[depth] = i;
	for (j = 0; j < n; j++) {
		if (!g->edge(cfg, job, j, &to))
			continue;
		if (mark[to] == 0)
			graph_dfs(ld, g, to, mark, path, depth + 1);
		else if (mark[to] == 1) {
			/* The path from `to` down to job, then `to` again. */
			for (k = 0; path[k] != to; k++)
				;
			nf_buf_init(&b);
			for (; k <= depth; k++)
				nf_buf_printf(&b, "%s -> ",
				    cfg->jobs[path[k]].id);
			nf_buf_adds(&b, cfg->jobs[to].id);
			ld->file = job->file;
			g->report(ld, job, j, b.data);
			nf_buf_free(&b);
		}
	}
	mark[i] = 2;
}

static void
graph_check(struct ld *ld, const struct job_graph *g)
{
	unsigned char	*mark;
	size_t		*path, i;

	mark = nf_xcalloc(ld->cfg->njobs + 1, 1);
	path = nf_xcalloc(ld->cfg->njobs + 1, sizeof(*path));
	for (i = 0; i < ld->cfg->njobs; i++)
		if (mark[i] == 0)
			graph_dfs(ld, g, i, mark, path, 0);
	free(mark);
	free(path);
}

static size_t
after_nlinks(const struct nf_job *job)
{
	return job->nafter;
}

static int
after_edge(const struct nf_config *cfg, const struct nf_job *job, size_t j,
    size_t *to)
{
	const struct nf_job	*dep;

	if ((dep = nf_config_job(cfg, job->after[j].job)) == NULL)
		return 0;
	*to = (size_t)(dep - cfg->jobs);
	return 1;
}

static void
after_report(struct ld *ld, const struct nf_job *job, size_t j,
    const char *cycle)
{
	lerr(ld, job->after[j].line, job->after[j].col, "job \"%s\": after: "
	    "dependency cycle %s (each job runs after the next one; remove "
	    "one link)", job->id, cycle);
}

static const struct job_graph after_graph = {
	after_nlinks, after_edge, after_report
};

/* The job a call_job step names, if it is literal (no template). */
static const char *
call_target(const struct nf_step *st)
{
	const struct nf_steptype *type;
	const char	*j;

	if (st->type == NULL || (type = nf_steptype_find(st->type)) == NULL ||
	    !type->in_supervisor || st->spec == NULL ||
	    (j = nf_val_get_str(st->spec, "job")) == NULL ||
	    nf_tmpl_has_ref(j) || strstr(j, "$$") != NULL)
		return NULL;
	return j;
}

static size_t
calls_nlinks(const struct nf_job *job)
{
	return job->nsteps;
}

static int
calls_edge(const struct nf_config *cfg, const struct nf_job *job, size_t j,
    size_t *to)
{
	const struct nf_job	*callee;
	const char		*target;

	if ((target = call_target(&job->steps[j])) == NULL ||
	    (callee = nf_config_job(cfg, target)) == NULL)
		return 0;
	*to = (size_t)(callee - cfg->jobs);
	return 1;
}

static void
calls_report(struct ld *ld, const struct nf_job *job, size_t j,
    const char *cycle)
{
	const struct nf_step	*st = &job->steps[j];

	lerr(ld, st->line, st->col, "job \"%s\": step \"%s\": call_job cycle: "
	    "%s (a job cannot call itself, directly or through the jobs it "
	    "calls)", job->id, st->name, cycle);
}

static const struct job_graph calls_graph = {
	calls_nlinks, calls_edge, calls_report
};

/* call_job steps: the job exists, and calls form no cycle. */
static void
check_calls(struct ld *ld)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job;
	const struct nf_step	*st;
	const char		*target;
	size_t			 i, j;

	if (ld_failed(ld))
		return;
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		for (j = 0; j < job->nsteps; j++) {
			st = &job->steps[j];
			if ((target = call_target(st)) == NULL ||
			    nf_config_job(cfg, target) != NULL)
				continue;
			ld->file = job->file;
			lerr(ld, st->line, st->col, "job \"%s\": step \"%s\": "
			    "call_job: no job \"%s\" (job names a job id of "
			    "any job file)", job->id, st->name, target);
		}
	}
	if (!ld_failed(ld))
		graph_check(ld, &calls_graph);
}

static void
check_after(struct ld *ld)
{
	const struct nf_config	*cfg = ld->cfg;
	const struct nf_job	*job;
	size_t			 i, j;

	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		if (job->id == NULL)
			return;		/* already reported */
		for (j = 0; j < job->nafter; j++) {
			ld->file = job->file;
			if (strcmp(job->after[j].job, job->id) == 0)
				lerr(ld, job->after[j].line, job->after[j].col,
				    "job \"%s\": after: a job cannot run after "
				    "itself", job->id);
			else if (nf_config_job(cfg, job->after[j].job) == NULL)
				lerr(ld, job->after[j].line, job->after[j].col,
				    "job \"%s\": after: no job \"%s\" (after "
				    "lists job ids of any job file)", job->id,
				    job->after[j].job);
		}
	}
	if (!ld_failed(ld))
		graph_check(ld, &after_graph);
}

static void
free_job_policy(struct nf_job *job)
{
	struct nf_preset	*p;
	size_t			 i, j;

	for (i = 0; i < job->nafter; i++)
		free(job->after[i].job);
	free(job->after);
	for (i = 0; i < job->npresets; i++) {
		p = &job->presets[i];
		free(p->name);
		free(p->description);
		free(p->schedule);
		if (p->cron != NULL)
			nf_cron_free(p->cron);
		free(p->timezone);
		if (p->tz != NULL)
			nf_tz_free(p->tz);
		nf_val_free(p->params);
		nf_val_free(p->steps);
		if (p->job != NULL) {
			for (j = 0; j < p->job->nsteps; j++)
				nf_val_free(p->job->steps[j].spec);
			free(p->job->steps);
			nf_val_free(p->job->params);
			free(p->job);
		}
	}
	free(job->presets);
}

/* secret_params = ["token", ...]: names of params, redacted in history. */
static void
load_secret_params(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *what)
{
	const struct nf_toml_value *e;
	char	*s;
	size_t	 i;

	if (v->type != NF_TOML_ARRAY) {
		lerr(ld, v->line, v->col, "%s must be an array of parameter "
		    "names, not %s", what, toml_what(v->type));
		return;
	}
	for (i = 0; i < v->u.arr.n; i++) {
		e = v->u.arr.items[i];
		if ((s = get_str(ld, e, what)) == NULL)
			continue;
		if (!nf_valid_ident(s)) {
			lerr(ld, e->line, e->col, "%s: \"%s\" is not a "
			    "parameter name (letters, digits, \"_\", \"-\")",
			    what, s);
			free(s);
			continue;
		}
		job->secret_params = nf_xreallocarray(job->secret_params,
		    job->nsecret_params + 1, sizeof(*job->secret_params));
		job->secret_params[job->nsecret_params++] = s;
	}
}

/*
 * Column of byte pos of a string value's text: exact when the value reads
 * as it is written (a one-line basic or literal string), else the value's.
 */
static int
str_col(const struct nf_toml_value *v, const char *text, size_t pos)
{
	if (strcmp(text, v->u.str.s) == 0 && strchr(text, '\\') == NULL &&
	    strchr(text, '\n') == NULL && strchr(text, '"') == NULL)
		return v->col + 1 + (int)pos;
	return v->col;
}

/* Every string under v: its templates must resolve at run time. */
static void
check_tmpl_val(struct ld *ld, const struct nf_toml_value *v,
    const struct nf_tmpl_scope *sc, const char *what)
{
	char	 err[512], *s;
	size_t	 i, pos;

	switch (v->type) {
	case NF_TOML_STRING:
		if ((s = expand(v->u.str.s, 1, err, sizeof(err))) == NULL)
			return;		/* reported by load_step() */
		if (nf_tmpl_check(s, sc, err, sizeof(err), &pos) == -1)
			lerr(ld, v->line, str_col(v, s, pos), "%s: %s", what,
			    err);
		free(s);
		break;
	case NF_TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			check_tmpl_val(ld, v->u.arr.items[i], sc, what);
		break;
	case NF_TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++)
			check_tmpl_val(ld, v->u.tab.kv[i].val, sc, what);
		break;
	default:
		break;
	}
}

/*
 * Once a job's steps are all known: the templates of every step and its
 * `when` condition may only name earlier steps, known roots and helpers.
 */
static void
check_step_refs(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *steps, const char *jobpfx)
{
	const struct nf_toml_value *t, *v;
	const struct nf_toml_kv *kv;
	struct nf_tmpl_scope sc;
	struct nf_step	*st;
	const char	**names;
	char		 pfx[512], what[1024], err[512];
	size_t		 i, j, k, pos;

	if (steps == NULL || job->nsteps == 0)
		return;
	names = nf_xcalloc(job->nsteps, sizeof(*names));
	for (i = 0; i < job->nsteps; i++)
		names[i] = job->steps[i].name;
	sc.steps = names;
	sc.nsteps = job->nsteps;
	for (i = 0, j = 0; i < steps->u.arr.n && j < job->nsteps; i++) {
		t = steps->u.arr.items[i];
		if (t->type != NF_TOML_TABLE)
			continue;
		st = &job->steps[j];
		sc.self = j++;
		snprintf(pfx, sizeof(pfx), "%sstep \"%s\": ", jobpfx,
		    st->name != NULL ? st->name : "?");
		for (k = 0; k < t->u.tab.n; k++) {
			kv = &t->u.tab.kv[k];
			if (strcmp(kv->key, "name") == 0 ||
			    strcmp(kv->key, "type") == 0 ||
			    strcmp(kv->key, "when") == 0)
				continue;
			snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
			check_tmpl_val(ld, kv->val, &sc, what);
		}
		if ((v = nf_toml_get(t, "when")) == NULL)
			continue;
		if (v->type != NF_TOML_STRING) {
			lerr(ld, v->line, v->col, "%swhen must be a string "
			    "holding a condition, e.g. when = \"params.full "
			    "and prev.rows_affected > 0\"; not %s", pfx,
			    toml_what(v->type));
			continue;
		}
		st->when = nf_expr_parse(v->u.str.s, v->u.str.len, &sc, err,
		    sizeof(err), &pos);
		if (st->when == NULL)
			lerr(ld, v->line, str_col(v, v->u.str.s, pos),
			    "%swhen \"%s\": %s", pfx, v->u.str.s, err);
	}
	free(names);
}

static void
load_job(struct ld *ld, const struct nf_toml_value *t, const char *jobfile)
{
	struct nf_config *cfg = ld->cfg;
	const struct nf_toml_kv *kv;
	const struct nf_toml_value *v, *steps;
	struct nf_job	*job;
	char		 pfx[256], what[1024], err[512], *s;
	size_t		 i;
	int		 line, col, steps_bad = 0;

	tab_pos(t, &line, &col);
	cfg->jobs = nf_xreallocarray(cfg->jobs, cfg->njobs + 1,
	    sizeof(*cfg->jobs));
	job = &cfg->jobs[cfg->njobs++];
	memset(job, 0, sizeof(*job));
	job->enabled = 1;
	job->params = nf_val_map();
	job->retry.attempts = DEF_RETRY_ATTEMPTS;
	job->retry.backoff = NF_BACKOFF_EXPONENTIAL;
	job->retry.base_seconds = DEF_RETRY_BASE;
	job->retry.max_seconds = DEF_RETRY_MAX;
	job->catchup_window = DEF_CATCHUP_WINDOW;
	job->file = nf_xstrdup(jobfile);
	job->line = line;
	job->col = col;

	if ((v = nf_toml_get(t, "id")) == NULL)
		lerr(ld, line, col, "job has no id (add id = \"...\", made of "
		    "letters, digits, \"_\" and \"-\")");
	else if ((s = get_str(ld, v, "job id")) != NULL) {
		job->id = s;
		if (!nf_valid_ident(s))
			lerr(ld, v->line, v->col, "job id \"%s\" may only "
			    "contain letters, digits, \"_\" and \"-\"", s);
		else {
			for (i = 0; i + 1 < cfg->njobs; i++)
				if (cfg->jobs[i].id != NULL &&
				    strcmp(cfg->jobs[i].id, s) == 0)
					break;
			if (i + 1 < cfg->njobs)
				lerr(ld, v->line, v->col, "duplicate job id "
				    "\"%s\": already defined at %s:%d:%d "
				    "(job ids must be unique across all job "
				    "files)", s, cfg->jobs[i].file,
				    cfg->jobs[i].line, cfg->jobs[i].col);
		}
	}
	if (job->id != NULL)
		snprintf(pfx, sizeof(pfx), "job \"%s\": ", job->id);
	else
		snprintf(pfx, sizeof(pfx), "job: ");

	steps = NULL;
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		v = kv->val;
		if (!key_ok(ld, kv))
			continue;
		snprintf(what, sizeof(what), "%s%s", pfx, kv->key);
		if (strcmp(kv->key, "id") == 0)
			continue;
		else if (strcmp(kv->key, "description") == 0) {
			if ((s = get_str(ld, v, what)) != NULL) {
				free(job->description);
				job->description = s;
			}
		} else if (strcmp(kv->key, "schedule") == 0)
			load_schedule(ld, job, v, pfx);
		else if (strcmp(kv->key, "every") == 0)
			load_every(ld, job, v, nf_toml_get(t, "every_anchor"),
			    what);
		else if (strcmp(kv->key, "every_anchor") == 0) {
			if (nf_toml_get(t, "every") == NULL)
				lerr(ld, v->line, v->col, "%s without every (it "
				    "anchors an interval)", what);
		} else if (strcmp(kv->key, "schedules") == 0)
			load_schedule_tables(ld, job, v, pfx);
		else if (strcmp(kv->key, "timezone") == 0) {
			if ((s = get_str(ld, v, what)) == NULL)
				continue;
			job->timezone = s;
			if ((job->tz = nf_tz_load(s, err, sizeof(err))) ==
			    NULL)
				lerr(ld, v->line, v->col, "%stimezone: %s",
				    pfx, err);
		} else if (strcmp(kv->key, "enabled") == 0)
			set_bool(ld, v, what, &job->enabled);
		else if (strcmp(kv->key, "tags") == 0) {
			size_t	j;

			if (v->type != NF_TOML_ARRAY) {
				lerr(ld, v->line, v->col, "%s must be an array "
				    "of strings, not %s", what,
				    toml_what(v->type));
				continue;
			}
			for (j = 0; j < v->u.arr.n; j++) {
				if (v->u.arr.items[j]->type !=
				    NF_TOML_STRING) {
					lerr(ld, v->u.arr.items[j]->line,
					    v->u.arr.items[j]->col, "%s must "
					    "be an array of strings; this "
					    "element is %s", what, toml_what(
					    v->u.arr.items[j]->type));
					continue;
				}
				s = get_str(ld, v->u.arr.items[j], what);
				if (s == NULL)
					continue;
				job->tags = nf_xreallocarray(job->tags,
				    job->ntags + 1, sizeof(*job->tags));
				job->tags[job->ntags++] = s;
			}
		} else if (strcmp(kv->key, "params") == 0) {
			struct nf_val *p;

			if (!is_table(ld, v, what))
				continue;
			if ((p = to_val(ld, v, what)) != NULL) {
				nf_val_free(job->params);
				job->params = p;
			}
		} else if (strcmp(kv->key, "retry") == 0)
			load_retry(ld, job, v, pfx);
		else if (strcmp(kv->key, "timeout_seconds") == 0)
			set_int(ld, v, what, 0, MAX_TIMEOUT,
			    &job->timeout_seconds);
		else if (strcmp(kv->key, "steps") == 0) {
			if (v->type != NF_TOML_ARRAY) {
				lerr(ld, v->line, v->col, "%s must be an array "
				    "of tables ([[jobs.steps]]), not %s", what,
				    toml_what(v->type));
				steps_bad = 1;
				continue;
			}
			steps = v;
		} else if (strcmp(kv->key, "secret_params") == 0)
			load_secret_params(ld, job, v, what);
		else if (load_job_policy(ld, job, kv, what))
			continue;
		else {
			if (job->id != NULL)
				snprintf(what, sizeof(what), "job \"%s\"",
				    job->id);
			else
				snprintf(what, sizeof(what), "a job");
			unknown_key(ld, kv, what, job_keys);
		}
	}
	if (job->description == NULL)
		job->description = nf_xstrdup("");
	finish_schedules(job);

	for (i = 0; steps != NULL && i < steps->u.arr.n; i++) {
		v = steps->u.arr.items[i];
		if (v->type != NF_TOML_TABLE) {
			lerr(ld, v->line, v->col, "%seach step must be a table "
			    "([[jobs.steps]]), not %s", pfx,
			    toml_what(v->type));
			continue;
		}
		load_step(ld, job, v, pfx);
	}
	if (job->nsteps == 0 && !steps_bad &&
	    (steps == NULL || steps->u.arr.n == 0))
		lerr(ld, line, col, "%shas no steps (add at least one "
		    "[[jobs.steps]])", pfx);
	check_step_refs(ld, job, steps, pfx);
	load_job_presets(ld, job, t, pfx);
}

static void
load_jobfile(struct ld *ld, const char *path)
{
	struct nf_toml_value	*root;
	const struct nf_toml_kv	*kv;
	const struct nf_toml_value *jobs;
	char			 err[1024];
	size_t			 i;

	if ((root = nf_toml_parse_file(path, err, sizeof(err))) == NULL) {
		nf_errs_add(ld->errs, NULL, 0, 0, "%s", err);
		return;
	}
	ld->file = path;
	jobs = NULL;
	for (i = 0; i < root->u.tab.n; i++) {
		kv = &root->u.tab.kv[i];
		if (strcmp(kv->key, "jobs") == 0 && kv->keylen == 4) {
			if (kv->val->type == NF_TOML_TABLE)
				lerr(ld, kv->line, kv->col, "jobs must be an "
				    "array of tables: write [[jobs]], not "
				    "[jobs]");
			else if (kv->val->type != NF_TOML_ARRAY)
				lerr(ld, kv->line, kv->col, "jobs must be an "
				    "array of tables ([[jobs]]), not %s",
				    toml_what(kv->val->type));
			else
				jobs = kv->val;
		} else
			lerr(ld, kv->line, kv->col, "unknown key \"%s\" at the "
			    "top level of a jobs file (only [[jobs]] "
			    "entries are allowed)", kv->key);
	}
	for (i = 0; jobs != NULL && i < jobs->u.arr.n; i++) {
		if (jobs->u.arr.items[i]->type != NF_TOML_TABLE) {
			lerr(ld, jobs->u.arr.items[i]->line,
			    jobs->u.arr.items[i]->col, "each job must be a "
			    "table ([[jobs]]), not %s",
			    toml_what(jobs->u.arr.items[i]->type));
			continue;
		}
		load_job(ld, jobs->u.arr.items[i], path);
	}
	nf_toml_free(root);
}

static int
namecmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
load_jobs_dir(struct ld *ld, int line, int col)
{
	DIR		*d;
	struct dirent	*de;
	char		**names = NULL, *path;
	size_t		 n = 0, i, len;

	if ((d = opendir(ld->cfg->jobs_dir)) == NULL) {
		lerr(ld, line, col, "jobs_dir %s: %s (create it, even empty, "
		    "or set jobs_dir)", ld->cfg->jobs_dir, strerror(errno));
		return;
	}
	for (;;) {
		errno = 0;
		if ((de = readdir(d)) == NULL)
			break;
		len = strlen(de->d_name);
		/*
		 * Editors leave ".x.toml.swp" and "x.toml~": only *.toml,
		 * never hidden files.
		 */
		if (de->d_name[0] == '.' || len <= 5 ||
		    strcmp(de->d_name + len - 5, ".toml") != 0)
			continue;
		names = nf_xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = nf_xstrdup(de->d_name);
	}
	if (errno != 0)
		lerr(ld, line, col, "jobs_dir %s: cannot read: %s",
		    ld->cfg->jobs_dir, strerror(errno));
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), namecmp);
	for (i = 0; i < n; i++) {
		path = nf_xprintf("%s/%s", ld->cfg->jobs_dir, names[i]);
		load_jobfile(ld, path);
		free(path);
		free(names[i]);
	}
	free(names);
}

static void
check_policies(struct ld *ld)
{
	const char	**names;
	const char	*p;
	size_t		 n = 0, i, j, k, cap;
	const struct nf_steptype *type;
	struct nf_policy *pol;

	cap = 2;
	for (i = 0; i < ld->cfg->njobs; i++)
		cap += ld->cfg->jobs[i].nsteps;
	names = nf_xcalloc(cap, sizeof(*names));
	/*
	 * base is what the step policies include and relay is the worker's
	 * own filter while it relays an exec'd child: both are compiled even
	 * if no step names them, so a broken one shows before a job needs
	 * it.
	 */
	names[n++] = "base";
	names[n++] = "relay";
	for (i = 0; i < ld->cfg->njobs; i++) {
		for (j = 0; j < ld->cfg->jobs[i].nsteps; j++) {
			if (ld->cfg->jobs[i].steps[j].type == NULL ||
			    (type = nf_steptype_find(
			    ld->cfg->jobs[i].steps[j].type)) == NULL)
				continue;
			if ((p = type->policy) == NULL)
				continue;	/* in_supervisor: no worker */
			for (k = 0; k < n; k++)
				if (strcmp(names[k], p) == 0)
					break;
			if (k == n)
				names[n++] = p;
		}
	}
	for (i = 0; i < n; i++)
		if ((pol = nf_policy_load(ld->cfg->policies_dir, names[i],
		    ld->errs)) != NULL)
			nf_policy_free(pol);
	free(names);
}

/*
 * The absolute, symlink-free directory of the config file: relative paths
 * in it must not depend on the daemon's working directory, which may
 * change.
 */
static char *
config_dir(const char *path)
{
	char	*dir, *slash, *real;

	dir = nf_xstrdup(path);
	if ((slash = strrchr(dir, '/')) == NULL) {
		free(dir);
		dir = nf_xstrdup(".");
	} else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	/* NULL only if the directory went away since the file was read. */
	real = realpath(dir, NULL);
	free(dir);
	return real;
}

static int
job_id_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct nf_job *const *)a)->id,
	    (*(const struct nf_job *const *)b)->id);
}

/*
 * nf_config_job() is on the path of every scheduled fire and control
 * request: with 10,000 jobs a linear search compares thousands of ids per
 * fire.  Ids are unique and set once the load succeeded.
 */
static void
index_jobs(struct nf_config *cfg)
{
	size_t	i;

	if (cfg->njobs == 0)
		return;
	cfg->jobs_by_id = nf_xcalloc(cfg->njobs, sizeof(*cfg->jobs_by_id));
	for (i = 0; i < cfg->njobs; i++)
		cfg->jobs_by_id[i] = &cfg->jobs[i];
	qsort(cfg->jobs_by_id, cfg->njobs, sizeof(*cfg->jobs_by_id),
	    job_id_cmp);
}

struct nf_config *
nf_config_load(const char *path, int with_policies, struct nf_errs *errs)
{
	struct ld		 ld;
	struct nf_toml_value	*root;
	const struct nf_toml_kv	*jkv;
	char			 err[1024];

	memset(&ld, 0, sizeof(ld));
	ld.errs = errs;
	ld.nerrs0 = errs->n;
	ld.file = path;
	if ((root = nf_toml_parse_file(path, err, sizeof(err))) == NULL) {
		nf_errs_add(errs, NULL, 0, 0, "%s", err);
		return NULL;
	}
	if ((ld.dir = config_dir(path)) == NULL) {
		nf_errs_add(errs, path, 0, 0, "cannot resolve the directory of "
		    "the configuration: %s", strerror(errno));
		nf_toml_free(root);
		return NULL;
	}
	ld.cfg = nf_xcalloc(1, sizeof(*ld.cfg));
	ld.cfg->path = nf_xstrdup(path);

	load_daemon(&ld, root);
	/*
	 * Jobs are checked even when nomaflow.toml had errors, so one
	 * nomaflowd -n lists everything.
	 */
	jkv = nf_toml_get_kv(root, "jobs_dir");
	load_jobs_dir(&ld, jkv ? jkv->val->line : 0, jkv ? jkv->val->col : 0);
	check_after(&ld);
	check_calls(&ld);
	ld.file = path;
	if (with_policies)
		check_policies(&ld);

	nf_toml_free(root);
	free(ld.dir);
	if (ld_failed(&ld)) {
		nf_config_free(ld.cfg);
		return NULL;
	}
	index_jobs(ld.cfg);
	return ld.cfg;
}

void
nf_config_free(struct nf_config *cfg)
{
	struct nf_job	*job;
	struct nf_pool	*p;
	size_t		 i, j;

	if (cfg == NULL)
		return;
	free(cfg->jobs_by_id);
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		free(job->id);
		free(job->description);
		for (j = 0; j < job->nschedules; j++) {
			free(job->schedules[j].expr);
			if (job->schedules[j].cron != NULL)
				nf_cron_free(job->schedules[j].cron);
			free(job->schedules[j].timezone);
			if (job->schedules[j].own_tz != NULL)
				nf_tz_free(job->schedules[j].own_tz);
		}
		free(job->schedules);
		free(job->timezone);
		if (job->tz != NULL)
			nf_tz_free(job->tz);
		for (j = 0; j < job->ntags; j++)
			free(job->tags[j]);
		free(job->tags);
		nf_val_free(job->params);
		for (j = 0; j < job->nsecret_params; j++)
			free(job->secret_params[j]);
		free(job->secret_params);
		for (j = 0; j < job->nsteps; j++) {
			free(job->steps[j].name);
			free(job->steps[j].type);
			nf_val_free(job->steps[j].spec);
			nf_expr_free(job->steps[j].when);
		}
		free(job->steps);
		free_job_policy(job);
		free(job->file);
	}
	free(cfg->jobs);
	nf_acl_free(cfg->acl);
	for (i = 0; i < cfg->npools; i++) {
		p = &cfg->pools[i];
		free(p->name);
		free(p->driver);
		free(p->path);
		free(p->conninfo);
		nf_val_free(p->queries);
		free(p->file);
	}
	free(cfg->pools);
	free(cfg->path);
	free(cfg->state_dir);
	free(cfg->store_path);
	free(cfg->socket_path);
	free(cfg->socket_group);
	free(cfg->worker_path);
	free(cfg->policies_dir);
	free(cfg->jobs_dir);
	free(cfg->python_path);
	free(cfg->plugins_dir);
	free(cfg);
}

const struct nf_job *
nf_config_job(const struct nf_config *cfg, const char *id)
{
	struct nf_job		 key;
	const struct nf_job	*kp = &key, **found;
	size_t			 i;

	if (cfg->jobs_by_id != NULL) {
		key.id = (char *)id;
		found = bsearch(&kp, cfg->jobs_by_id, cfg->njobs,
		    sizeof(*cfg->jobs_by_id), job_id_cmp);
		return found != NULL ? *found : NULL;
	}
	for (i = 0; i < cfg->njobs; i++)
		if (cfg->jobs[i].id != NULL && strcmp(cfg->jobs[i].id, id) == 0)
			return &cfg->jobs[i];
	return NULL;
}

const struct nf_preset *
nf_config_preset(const struct nf_job *job, const char *name)
{
	size_t	i;

	for (i = 0; i < job->npresets; i++)
		if (job->presets[i].name != NULL &&
		    strcmp(job->presets[i].name, name) == 0)
			return &job->presets[i];
	return NULL;
}

const struct nf_pool *
nf_config_pool(const struct nf_config *cfg, const char *name)
{
	size_t	i;

	for (i = 0; i < cfg->npools; i++)
		if (strcmp(cfg->pools[i].name, name) == 0)
			return &cfg->pools[i];
	return NULL;
}

/* Dump ---------------------------------------------------------------- */

static void
dump_str(FILE *fp, const char *s, size_t len)
{
	size_t		i;
	unsigned char	c;

	fputc('"', fp);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':
			fputs("\\\"", fp);
			break;
		case '\\':
			fputs("\\\\", fp);
			break;
		case '\n':
			fputs("\\n", fp);
			break;
		case '\t':
			fputs("\\t", fp);
			break;
		case '\r':
			fputs("\\r", fp);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(fp, "\\u%04x", c);
			else
				fputc(c, fp);
		}
	}
	fputc('"', fp);
}

static void
dump_cstr(FILE *fp, const char *s)
{
	dump_str(fp, s, strlen(s));
}

static void
dump_key(FILE *fp, const char *k)
{
	if (nf_valid_ident(k))
		fputs(k, fp);
	else
		dump_cstr(fp, k);
}

/* Shortest text that reads back as the same double. */
static void
dump_float(FILE *fp, double d)
{
	char	buf[64];
	int	prec;

	if (isnan(d)) {
		fputs("nan", fp);
		return;
	}
	if (isinf(d)) {
		fputs(d < 0 ? "-inf" : "inf", fp);
		return;
	}
	/* Whole numbers read best as "30.0", not "3e+01". */
	if (fabs(d) < 1e15 && d == trunc(d)) {
		fprintf(fp, "%.1f", d);
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof(buf), "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	fputs(buf, fp);
	if (strpbrk(buf, ".e") == NULL)
		fputs(".0", fp);
}

static void
dump_val(FILE *fp, const struct nf_val *v)
{
	size_t	i;

	switch (v->type) {
	case NF_V_NIL:
		fputs("\"\"", fp);
		break;
	case NF_V_BOOL:
		fputs(v->u.b ? "true" : "false", fp);
		break;
	case NF_V_INT:
		fprintf(fp, "%lld", (long long)v->u.i);
		break;
	case NF_V_FLOAT:
		dump_float(fp, v->u.f);
		break;
	case NF_V_STR:
	case NF_V_BIN:
		dump_str(fp, v->u.s.p, v->u.s.len);
		break;
	case NF_V_ARR:
		fputc('[', fp);
		for (i = 0; i < v->u.a.n; i++) {
			if (i > 0)
				fputs(", ", fp);
			dump_val(fp, v->u.a.items[i]);
		}
		fputc(']', fp);
		break;
	case NF_V_MAP:
		if (v->u.m.n == 0) {
			fputs("{}", fp);
			break;
		}
		fputs("{ ", fp);
		for (i = 0; i < v->u.m.n; i++) {
			if (i > 0)
				fputs(", ", fp);
			dump_key(fp, v->u.m.kv[i].key);
			fputs(" = ", fp);
			dump_val(fp, v->u.m.kv[i].val);
		}
		fputs(" }", fp);
		break;
	default:
		nf_panic("config dump: value of type %d", v->type);
	}
}

static void
dump_kv_str(FILE *fp, const char *k, const char *s)
{
	fprintf(fp, "%s = ", k);
	dump_cstr(fp, s);
	fputc('\n', fp);
}

static void
dump_map_lines(FILE *fp, const struct nf_val *m)
{
	size_t	i;

	for (i = 0; i < m->u.m.n; i++) {
		dump_key(fp, m->u.m.kv[i].key);
		fputs(" = ", fp);
		dump_val(fp, m->u.m.kv[i].val);
		fputc('\n', fp);
	}
}

/*
 * One schedule as a [[jobs.schedules]] table, inline: an interval with
 * an anchor ("@every 2s from 2026-01-01T00:00:00Z", as loaded) is written
 * back as every and every_anchor.
 */
static void
dump_schedule(FILE *fp, const struct nf_schedule *sc)
{
	const char	*from;

	if (strncmp(sc->expr, "@every ", 7) == 0 &&
	    (from = strstr(sc->expr, " from ")) != NULL) {
		fputs("{ every = ", fp);
		dump_str(fp, sc->expr + 7, (size_t)(from - sc->expr - 7));
		fprintf(fp, ", every_anchor = %s", from + 6);
	} else {
		fputs("{ cron = ", fp);
		dump_cstr(fp, sc->expr);
	}
	if (sc->timezone != NULL) {
		fputs(", timezone = ", fp);
		dump_cstr(fp, sc->timezone);
	}
	fputs(" }", fp);
}

/* The scheduling policies of a job (scheduler.c), every default given. */
static void
dump_job_policy(FILE *fp, const struct nf_job *job)
{
	size_t	i;

	dump_kv_str(fp, "overlap", overlap_names[job->overlap]);
	dump_kv_str(fp, "catchup", catchup_names[job->catchup]);
	fprintf(fp, "catchup_window = %d\n", job->catchup_window);
	fprintf(fp, "jitter = %d\n", job->jitter);
	fputs("after = [", fp);
	for (i = 0; i < job->nafter; i++) {
		if (i > 0)
			fputs(", ", fp);
		dump_cstr(fp, job->after[i].job);
	}
	fputs("]\n", fp);
	dump_kv_str(fp, "after_on", after_on_names[job->after_always]);
	dump_kv_str(fp, "on_interrupt",
	    on_interrupt_names[job->on_interrupt_retry]);
}

static void
dump_preset(FILE *fp, const struct nf_preset *p)
{
	fputs("\n[[jobs.presets]]\n", fp);
	dump_kv_str(fp, "name", p->name);
	if (p->description != NULL)
		dump_kv_str(fp, "description", p->description);
	if (p->schedule != NULL)
		dump_kv_str(fp, "schedule", p->schedule);
	else
		fputs("# schedule: none (nfctl run --preset only)\n", fp);
	if (p->timezone != NULL)
		dump_kv_str(fp, "timezone", p->timezone);
	fputs("params = ", fp);
	dump_val(fp, p->params);
	fputc('\n', fp);
	if (p->steps != NULL && p->steps->u.m.n > 0) {
		fputs("steps = ", fp);
		dump_val(fp, p->steps);
		fputc('\n', fp);
	}
}

void
nf_config_dump(const struct nf_config *cfg, FILE *fp)
{
	const struct nf_pool *p;
	const struct nf_job *job;
	const struct nf_step *st;
	size_t		 i, j;

	fputs("# nomaflow configuration, defaults filled in\n", fp);
	dump_kv_str(fp, "state_dir", cfg->state_dir);
	dump_kv_str(fp, "policies_dir", cfg->policies_dir);
	dump_kv_str(fp, "jobs_dir", cfg->jobs_dir);
	dump_kv_str(fp, "python", cfg->python_path);
	dump_kv_str(fp, "plugins_dir", cfg->plugins_dir);
	dump_kv_str(fp, "log_level", nf_log_level_name(cfg->log_level));
	fprintf(fp, "shutdown_grace_seconds = %d\n",
	    cfg->shutdown_grace_seconds);
	fprintf(fp, "log_cap_bytes = %lld\n", (long long)cfg->log_cap_bytes);

	fputs("\n[store]\n", fp);
	dump_kv_str(fp, "path", cfg->store_path);
	dump_kv_str(fp, "synchronous", cfg->store_sync_full ? "full" :
	    "normal");

	fputs("\n[control]\n", fp);
	dump_kv_str(fp, "socket", cfg->socket_path);
	fprintf(fp, "mode = \"%04o\"\n", (unsigned)cfg->socket_mode);
	if (cfg->socket_group != NULL)
		dump_kv_str(fp, "group", cfg->socket_group);
	else
		fputs("# group: unset (the daemon's own group)\n", fp);
	nf_acl_dump(cfg->acl, fp);	/* [[role]], [[user]], [[group]] */

	fputs("\n[worker]\n", fp);
	if (cfg->worker_path != NULL)
		dump_kv_str(fp, "path", cfg->worker_path);
	else
		fprintf(fp, "# path: unset (nomaflow-worker beside nomaflowd, "
		    "else %s/nomaflow-worker)\n", NF_PKGLIBEXECDIR);
	fprintf(fp, "max_concurrent = %d\n", cfg->max_workers);
	fprintf(fp, "grace_seconds = %d\n", cfg->grace_seconds);
	fprintf(fp, "allow_unsandboxed = %s\n", cfg->allow_unsandboxed ?
	    "true" : "false");
	fprintf(fp, "output_max_rows = %d\n", cfg->output_max_rows);

	for (i = 0; i < cfg->npools; i++) {
		p = &cfg->pools[i];
		fputs("\n[pools.", fp);
		dump_key(fp, p->name);
		fputs("]\n", fp);
		dump_kv_str(fp, "driver", p->driver);
		if (p->path != NULL)
			dump_kv_str(fp, "path", p->path);
		if (p->conninfo != NULL)
			dump_kv_str(fp, "conninfo", p->conninfo);
		fprintf(fp, "max_concurrent = %d\n", p->max_concurrent);
		if (p->queries->u.m.n > 0) {
			fputs("\n[pools.", fp);
			dump_key(fp, p->name);
			fputs(".queries]\n", fp);
			dump_map_lines(fp, p->queries);
		}
	}

	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		fputs("\n[[jobs]]\n", fp);
		dump_kv_str(fp, "id", job->id);
		dump_kv_str(fp, "description", job->description);
		if (job->nschedules == 0)
			fputs("# schedule: none (manual runs only)\n", fp);
		else if (job->nschedules == 1 &&
		    job->schedules[0].timezone == NULL &&
		    strstr(job->schedules[0].expr, " from ") == NULL)
			dump_kv_str(fp, "schedule", job->schedule);
		else {
			fputs("schedules = [", fp);
			for (j = 0; j < job->nschedules; j++) {
				fputs(j > 0 ? ",\n    " : "\n    ", fp);
				dump_schedule(fp, &job->schedules[j]);
			}
			fputs("\n]\n", fp);
		}
		dump_kv_str(fp, "timezone", job->timezone != NULL ?
		    job->timezone : "UTC");
		fprintf(fp, "enabled = %s\n", job->enabled ? "true" : "false");
		fputs("tags = [", fp);
		for (j = 0; j < job->ntags; j++) {
			if (j > 0)
				fputs(", ", fp);
			dump_cstr(fp, job->tags[j]);
		}
		fputs("]\n", fp);
		fprintf(fp, "timeout_seconds = %d\n", job->timeout_seconds);
		fputs("params = ", fp);
		dump_val(fp, job->params);
		fputc('\n', fp);
		if (job->nsecret_params > 0) {
			fputs("secret_params = [", fp);
			for (j = 0; j < job->nsecret_params; j++) {
				if (j > 0)
					fputs(", ", fp);
				dump_cstr(fp, job->secret_params[j]);
			}
			fputs("]\n", fp);
		}
		fprintf(fp, "retry = { attempts = %d, backoff = \"%s\", "
		    "base_seconds = ", job->retry.attempts,
		    job->retry.backoff == NF_BACKOFF_FIXED ? "fixed" :
		    "exponential");
		dump_float(fp, job->retry.base_seconds);
		fputs(", max_seconds = ", fp);
		dump_float(fp, job->retry.max_seconds);
		fputs(" }\n", fp);
		dump_job_policy(fp, job);
		for (j = 0; j < job->nsteps; j++) {
			st = &job->steps[j];
			fputs("\n[[jobs.steps]]\n", fp);
			dump_kv_str(fp, "name", st->name);
			dump_kv_str(fp, "type", st->type);
			fprintf(fp, "enabled = %s\n", st->enabled ? "true" :
			    "false");
			fprintf(fp, "timeout_seconds = %d\n",
			    st->timeout_seconds);
			if (st->when != NULL)
				dump_kv_str(fp, "when", nf_expr_text(st->when));
			dump_map_lines(fp, st->spec);
		}
		for (j = 0; j < job->npresets; j++)
			dump_preset(fp, &job->presets[j]);
	}
}
