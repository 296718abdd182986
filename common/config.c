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

#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "cron.h"
#include "log.h"
#include "policy.h"
#include "steptype.h"
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
	"sql_copy", "python", "http", "ldap_sync", "call_job", NULL
};

static const char *const job_keys[] = {
	"id", "description", "schedule", "timezone", "enabled", "tags",
	"params", "retry", "timeout_seconds", "steps", NULL
};

/* The state of one load: where messages go and which file is read. */
struct ld {
	struct nf_errs		*errs;
	struct nf_config	*cfg;
	const char		*file;	/* file being read, for messages */
	char			*dir;	/* real directory of nomaflow.toml */
	size_t			 nerrs0; /* errs->n when the load began */
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

/*
 * Expansion.  Only "${" starts a reference, so shell text such as
 * "echo $i" in an argv passes through untouched; "$$" is a literal "$".
 */
char *
nf_config_expand(const char *in, char *err, size_t errlen)
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
			nf_buf_addc(&b, '$');
			p += 2;
			continue;
		}
		name = p + 2;
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
				    "\"${%s:-default}\")", var, var);
				free(var);
				goto fail;
			}
			nf_buf_adds(&b, val);
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
				nf_buf_adds(&b, val);
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
	if ((s = nf_config_expand(v->u.str.s, err, sizeof(err))) == NULL) {
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
	    "worker", "policies_dir", "jobs_dir", "python", "log_level",
	    "shutdown_grace_seconds", "log_cap_bytes", "pools", NULL };
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
		} else if (strcmp(kv->key, "log_level") == 0) {
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
		} else
			unknown_key(ld, kv, "the top level of nomaflow.toml",
			    keys);
	}
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
	if (st->pool->driver != NULL &&
	    strcmp(st->pool->driver, "sqlite") != 0) {
		lerr(ld, pkv->val->line, pkv->val->col, "%spool \"%s\" is a "
		    "%s pool; sql_query steps on %s pools arrive in a later "
		    "release (this one runs them on sqlite pools)", pfx, pool,
		    st->pool->driver, st->pool->driver);
		st->pool = NULL;
		return;
	}
	if (qkv != NULL && (q = nf_val_get_str(st->spec, "query")) != NULL &&
	    nf_val_get(st->pool->queries, q) == NULL)
		lerr(ld, qkv->val->line, qkv->val->col, "%spool \"%s\" has no "
		    "query named \"%s\" (add it under [pools.%s.queries])",
		    pfx, pool, q, pool);
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
			    "timeout_seconds");
			lerr(ld, kv->line, kv->col, "%sunknown key \"%s\" for "
			    "a step of type %s (allowed: %s)", pfx, kv->key,
			    type->name, allowed.data);
			nf_buf_free(&allowed);
			continue;
		}
		if ((c = step_field(ld, f, kv, pfx)) != NULL)
			nf_val_map_set(st->spec, kv->key, c);
	}
	if (type == NULL)
		return;
	for (f = type->fields; f->key != NULL; f++)
		if (f->required && nf_toml_get(t, f->key) == NULL)
			lerr(ld, line, col, "%smissing required key \"%s\" for "
			    "a step of type %s", pfx, f->key, type->name);
	if (strcmp(type->name, "exec") == 0)
		step_check_exec(ld, t, pfx);
	else if (strcmp(type->name, "sql_query") == 0)
		step_check_sql_query(ld, st, t, pfx, line, col);
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

static void
load_schedule(struct ld *ld, struct nf_job *job,
    const struct nf_toml_value *v, const char *pfx)
{
	char	 err[512], what[1024];
	int	 ecol = 0, col;

	snprintf(what, sizeof(what), "%sschedule", pfx);
	if ((job->schedule = get_str(ld, v, what)) == NULL)
		return;
	if ((job->cron = nf_cron_parse(job->schedule, err, sizeof(err),
	    &ecol)) != NULL)
		return;
	/*
	 * Point at the bad token: the value starts with its quote, so the
	 * token's column in the file is col + errcol.  After ${VAR}
	 * expansion (or in an escaped or multi-line string) the columns no
	 * longer line up: then point at the value.
	 */
	col = v->col;
	if (ecol > 0 && strcmp(job->schedule, v->u.str.s) == 0 &&
	    strchr(v->u.str.s, '\\') == NULL)
		col += ecol;
	lerr(ld, v->line, col, "%sschedule \"%s\": %s", pfx, job->schedule,
	    err);
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
		} else {
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
			p = type->policy;
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
	ld.file = path;
	if (with_policies)
		check_policies(&ld);

	nf_toml_free(root);
	free(ld.dir);
	if (ld_failed(&ld)) {
		nf_config_free(ld.cfg);
		return NULL;
	}
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
	for (i = 0; i < cfg->njobs; i++) {
		job = &cfg->jobs[i];
		free(job->id);
		free(job->description);
		free(job->schedule);
		if (job->cron != NULL)
			nf_cron_free(job->cron);
		free(job->timezone);
		if (job->tz != NULL)
			nf_tz_free(job->tz);
		for (j = 0; j < job->ntags; j++)
			free(job->tags[j]);
		free(job->tags);
		nf_val_free(job->params);
		for (j = 0; j < job->nsteps; j++) {
			free(job->steps[j].name);
			free(job->steps[j].type);
			nf_val_free(job->steps[j].spec);
		}
		free(job->steps);
		free(job->file);
	}
	free(cfg->jobs);
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
	free(cfg);
}

const struct nf_job *
nf_config_job(const struct nf_config *cfg, const char *id)
{
	size_t	i;

	for (i = 0; i < cfg->njobs; i++)
		if (cfg->jobs[i].id != NULL && strcmp(cfg->jobs[i].id, id) == 0)
			return &cfg->jobs[i];
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
		if (job->schedule != NULL)
			dump_kv_str(fp, "schedule", job->schedule);
		else
			fputs("# schedule: none (manual runs only)\n", fp);
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
		fprintf(fp, "retry = { attempts = %d, backoff = \"%s\", "
		    "base_seconds = ", job->retry.attempts,
		    job->retry.backoff == NF_BACKOFF_FIXED ? "fixed" :
		    "exponential");
		dump_float(fp, job->retry.base_seconds);
		fputs(", max_seconds = ", fp);
		dump_float(fp, job->retry.max_seconds);
		fputs(" }\n", fp);
		for (j = 0; j < job->nsteps; j++) {
			st = &job->steps[j];
			fputs("\n[[jobs.steps]]\n", fp);
			dump_kv_str(fp, "name", st->name);
			dump_kv_str(fp, "type", st->type);
			fprintf(fp, "enabled = %s\n", st->enabled ? "true" :
			    "false");
			fprintf(fp, "timeout_seconds = %d\n",
			    st->timeout_seconds);
			dump_map_lines(fp, st->spec);
		}
	}
}
