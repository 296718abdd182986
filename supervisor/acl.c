/*
 * acl.c: the access model of nomaflowd: [[role]] tables (a name and a list
 * of grants), [[user]] and [[group]] bindings of identities to roles, and
 * the check (identity, verb, job) -> allowed.
 *
 * Runs in nomaflowd, inside the configuration load (start, -n, reload)
 * and on every control request.  It touches no file, socket or system
 * database: control.c resolves a peer's name and groups (SO_PEERCRED,
 * getpwuid, getgrouplist) and hands them in, which keeps this module pure
 * for the unit tests and the fuzz target.
 *
 * Invariants:
 * - A loaded nf_acl belongs to one struct nf_config and is immutable, so a
 *   reload switches roles atomically with the rest of the configuration
 *   and a request is checked against exactly one version.
 * - Deny by default: an identity holds only what its [[user]] entry and
 *   its groups' [[group]] entries grant.  The one exception is root and
 *   the daemon's own user (builtin_admin), who are admin unless a [[user]]
 *   entry names them; that entry then replaces the default, so an
 *   operator can restrict root without editing code.
 * - Every binding refers to a role that exists (checked at load).
 */
#include "autoconf.h"

#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acl.h"
#include "toml.h"
#include "util.h"

struct acl_role {
	char			*name;
	char			*description;
	struct nf_acl_grant	*grants;
	size_t			 ngrants;
};

/* A [[user]] or [[group]]: a name and the roles it holds. */
struct acl_bind {
	char		*name;
	size_t		*roles;		/* indices into roles[] */
	size_t		 nroles;
};

struct nf_acl {
	struct acl_role	*roles;
	size_t		 nroles;
	struct acl_bind	*users;
	size_t		 nusers;
	struct acl_bind	*groups;
	size_t		 ngroups;
};

static const char *const verb_names[NF_ACL_NVERBS] = {
	[NF_ACL_VIEW] = "view",
	[NF_ACL_RUN] = "run",
	[NF_ACL_CANCEL] = "cancel",
	[NF_ACL_REPLAY] = "replay",
	[NF_ACL_ENABLE] = "enable",
	[NF_ACL_RELOAD] = "reload",
	[NF_ACL_SECRETS] = "secrets",
	[NF_ACL_AUDIT] = "audit",
	[NF_ACL_ADMIN] = "admin",
};

#define VERBS_HELP	"view, run, cancel, replay, enable on job:GLOB or " \
			"tag:GLOB; reload, secrets, audit, admin alone"

const char *
nf_acl_verb_name(enum nf_acl_verb v)
{
	return (unsigned)v < NF_ACL_NVERBS ? verb_names[v] : "?";
}

int
nf_acl_verb_parse(const char *s)
{
	int	i;

	for (i = 0; i < NF_ACL_NVERBS; i++)
		if (strcmp(verb_names[i], s) == 0)
			return i;
	return -1;
}

int
nf_acl_verb_on_job(enum nf_acl_verb v)
{
	return v <= NF_ACL_ENABLE;
}

/* Blanks between the words of a grant: spaces and tabs. */
static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * A job pattern can only ever match ids ([A-Za-z0-9_-]+): any other
 * character outside the glob syntax is a typo that would silently grant
 * nothing.
 */
static int
job_glob_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '*' ||
	    c == '?' || c == '[' || c == ']' || c == '!' || c == '^' ||
	    c == '\\';
}

int
nf_acl_grant_parse(const char *s, struct nf_acl_grant *g, char *err,
    size_t errlen, size_t *errpos)
{
	const char	*p, *w, *t, *end;
	char		 verb[16];
	size_t		 n;
	int		 v;

	memset(g, 0, sizeof(*g));
	*errpos = 0;
	for (p = s; blank(*p); p++)
		;
	end = s + strlen(s);
	while (end > p && blank(end[-1]))
		end--;
	if (p == end) {
		snprintf(err, errlen, "empty grant (write \"VERB\" or \"VERB "
		    "TARGET\": %s)", VERBS_HELP);
		return -1;
	}
	for (w = p; w < end && !blank(*w); w++)
		;
	n = (size_t)(w - p);
	v = -1;
	if (n < sizeof(verb)) {
		memcpy(verb, p, n);
		verb[n] = '\0';
		v = nf_acl_verb_parse(verb);
	}
	if (v == -1) {
		*errpos = (size_t)(p - s);
		snprintf(err, errlen, "unknown verb \"%.*s\" in grant \"%s\" "
		    "(verbs: %s)", (int)(n > 64 ? 64 : n), p, s, VERBS_HELP);
		return -1;
	}
	for (t = w; t < end && blank(*t); t++)
		;
	if (!nf_acl_verb_on_job(v)) {
		if (t < end) {
			*errpos = (size_t)(t - s);
			snprintf(err, errlen, "grant \"%s\": %s applies to the "
			    "whole daemon and takes no target (write \"%s\")",
			    s, verb, verb);
			return -1;
		}
		g->verb = v;
		g->kind = NF_ACL_DAEMON;
		return 0;
	}
	if (t == end) {
		*errpos = (size_t)(w - s);
		snprintf(err, errlen, "grant \"%s\": %s needs a target: "
		    "job:NAME, job:GLOB or tag:TAG (every job: \"%s job:*\")",
		    s, verb, verb);
		return -1;
	}
	if (strncmp(t, "job:", 4) == 0)
		g->kind = NF_ACL_JOB;
	else if (strncmp(t, "tag:", 4) == 0)
		g->kind = NF_ACL_TAG;
	else {
		*errpos = (size_t)(t - s);
		snprintf(err, errlen, "grant \"%s\": unknown target \"%.*s\" "
		    "(job:GLOB or tag:GLOB)", s, (int)(end - t > 64 ? 64 :
		    end - t), t);
		return -1;
	}
	t += 4;
	if (t == end) {
		*errpos = (size_t)(t - s);
		snprintf(err, errlen, "grant \"%s\": empty pattern after "
		    "\"%s:\" (a name, or a glob such as \"nightly-*\")", s,
		    g->kind == NF_ACL_JOB ? "job" : "tag");
		return -1;
	}
	for (p = t; p < end; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*errpos = (size_t)(p - s);
			snprintf(err, errlen, "grant \"%s\": control character "
			    "in the pattern", s);
			return -1;
		}
		if (g->kind == NF_ACL_JOB && !job_glob_char(*p)) {
			*errpos = (size_t)(p - s);
			snprintf(err, errlen, "grant \"%s\": '%c' can never "
			    "match a job id (ids are letters, digits, _ and -; "
			    "globs add * ? [...])", s, *p);
			return -1;
		}
	}
	g->verb = v;
	g->pattern = nf_xstrndup(t, (size_t)(end - t));
	return 0;
}

void
nf_acl_grant_free(struct nf_acl_grant *g)
{
	free(g->pattern);
	g->pattern = NULL;
}

int
nf_acl_is_key(const char *key)
{
	return strcmp(key, "role") == 0 || strcmp(key, "user") == 0 ||
	    strcmp(key, "group") == 0;
}

/* Loading ----------------------------------------------------------- */

struct ld {
	struct nf_errs	*errs;
	const char	*file;
	struct nf_acl	*acl;
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

static const char *
what(enum nf_toml_type t)
{
	switch (t) {
	case NF_TOML_STRING:
		return "a string";
	case NF_TOML_ARRAY:
		return "an array";
	case NF_TOML_TABLE:
		return "a table";
	case NF_TOML_INTEGER:
		return "an integer";
	case NF_TOML_FLOAT:
		return "a float";
	case NF_TOML_BOOL:
		return "a boolean";
	default:
		return "a date or time";
	}
}

/* Where a table starts: a [[header]] table may carry no position. */
static void
tab_pos(const struct nf_toml_value *t, int *line, int *col)
{
	*line = t->line;
	*col = t->col;
	if (*line == 0 && t->u.tab.n > 0) {
		*line = t->u.tab.kv[0].line;
		*col = t->u.tab.kv[0].col;
	}
}

/* A string without NUL; NULL (reported) otherwise. */
static const char *
str_of(struct ld *ld, const struct nf_toml_value *v, const char *name)
{
	if (v->type != NF_TOML_STRING) {
		lerr(ld, v->line, v->col, "%s must be a string, not %s", name,
		    what(v->type));
		return NULL;
	}
	if (strlen(v->u.str.s) != v->u.str.len) {
		lerr(ld, v->line, v->col, "%s contains a NUL character", name);
		return NULL;
	}
	return v->u.str.s;
}

/* The tables of a [[key]] array; NULL (reported) if it is not one. */
static const struct nf_toml_value *
tables_of(struct ld *ld, const struct nf_toml_kv *kv)
{
	const struct nf_toml_value	*v = kv->val;
	size_t				 i;

	if (v->type != NF_TOML_ARRAY) {
		lerr(ld, v->line ? v->line : kv->line, v->line ? v->col :
		    kv->col, "%s must be an array of tables (write [[%s]] "
		    "headers), not %s", kv->key, kv->key, what(v->type));
		return NULL;
	}
	for (i = 0; i < v->u.arr.n; i++)
		if (v->u.arr.items[i]->type != NF_TOML_TABLE) {
			lerr(ld, v->u.arr.items[i]->line,
			    v->u.arr.items[i]->col, "%s must be an array of "
			    "tables (write [[%s]] headers); this element is "
			    "%s", kv->key, kv->key,
			    what(v->u.arr.items[i]->type));
			return NULL;
		}
	return v;
}

static void
unknown_key(struct ld *ld, const struct nf_toml_kv *kv, const char *where,
    const char *allowed)
{
	lerr(ld, kv->line, kv->col, "unknown key \"%.*s\" in [[%s]] (allowed: "
	    "%s)", (int)strnlen(kv->key, 64), kv->key, where, allowed);
}

/*
 * A string that reads the same in the file as parsed (printable ASCII, no
 * quote or backslash), so an offset in it is a column after the opening
 * quote; otherwise errors point at the string itself.
 */
static int
plain(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '"' || *s == '\\')
			return 0;
	return 1;
}

static void
load_role(struct ld *ld, const struct nf_toml_value *t)
{
	struct nf_acl		*acl = ld->acl;
	struct acl_role		 r;
	const struct nf_toml_kv	*kv, *name_kv = NULL;
	const struct nf_toml_value *gv = NULL, *it;
	struct nf_acl_grant	 g;
	const char		*s;
	char			 err[512];
	size_t			 i, pos;
	int			 line, col;

	memset(&r, 0, sizeof(r));
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (strcmp(kv->key, "name") == 0)
			name_kv = kv;
		else if (strcmp(kv->key, "grants") == 0)
			gv = kv->val;
		else if (strcmp(kv->key, "description") == 0) {
			if ((s = str_of(ld, kv->val, "role description")) !=
			    NULL)
				r.description = nf_xstrdup(s);
		} else
			unknown_key(ld, kv, "role", "name, description, "
			    "grants");
	}
	tab_pos(t, &line, &col);
	if (name_kv == NULL) {
		lerr(ld, line, col, "[[role]] without a name (add name = "
		    "\"ops\")");
	} else if ((s = str_of(ld, name_kv->val, "role name")) == NULL)
		;	/* reported */
	else if (!nf_valid_ident(s)) {
		lerr(ld, name_kv->val->line, name_kv->val->col, "role name "
		    "\"%s\" must be letters, digits, _ and -", s);
	} else {
		for (i = 0; i < acl->nroles; i++)
			if (strcmp(acl->roles[i].name, s) == 0)
				break;
		if (i < acl->nroles) {
			lerr(ld, name_kv->val->line, name_kv->val->col,
			    "duplicate role \"%s\" (each [[role]] needs its "
			    "own name)", s);
		} else
			r.name = nf_xstrdup(s);
	}
	if (gv == NULL) {
		lerr(ld, line, col, "[[role]] %s without grants (add grants = "
		    "[\"view job:*\"], or [] for a role that grants nothing)",
		    r.name != NULL ? r.name : "");
	} else if (gv->type != NF_TOML_ARRAY) {
		lerr(ld, gv->line, gv->col, "grants must be an array of "
		    "strings, not %s", what(gv->type));
	} else
		for (i = 0; i < gv->u.arr.n; i++) {
			it = gv->u.arr.items[i];
			if ((s = str_of(ld, it, "a grant")) == NULL)
				continue;
			if (nf_acl_grant_parse(s, &g, err, sizeof(err),
			    &pos) == -1) {
				lerr(ld, it->line, it->col + (plain(s) ?
				    1 + (int)pos : 0), "%s", err);
				continue;
			}
			r.grants = nf_xreallocarray(r.grants, r.ngrants + 1,
			    sizeof(*r.grants));
			r.grants[r.ngrants++] = g;
		}
	/*
	 * A named role is kept even when a grant was wrong (the load fails
	 * anyway): bindings naming it then report only their own mistakes.
	 */
	if (r.name == NULL) {
		for (i = 0; i < r.ngrants; i++)
			nf_acl_grant_free(&r.grants[i]);
		free(r.grants);
		free(r.name);
		free(r.description);
		return;
	}
	acl->roles = nf_xreallocarray(acl->roles, acl->nroles + 1,
	    sizeof(*acl->roles));
	acl->roles[acl->nroles++] = r;
}

static void
load_bind(struct ld *ld, const struct nf_toml_value *t, const char *kind,
    struct acl_bind **arr, size_t *n)
{
	const struct nf_toml_kv	*kv, *name_kv = NULL;
	const struct nf_toml_value *rv = NULL, *it;
	struct acl_bind		 b;
	const char		*s;
	size_t			 i, k;
	int			 line, col;

	memset(&b, 0, sizeof(b));
	for (i = 0; i < t->u.tab.n; i++) {
		kv = &t->u.tab.kv[i];
		if (strcmp(kv->key, "name") == 0)
			name_kv = kv;
		else if (strcmp(kv->key, "roles") == 0)
			rv = kv->val;
		else
			unknown_key(ld, kv, kind, "name, roles");
	}
	tab_pos(t, &line, &col);
	if (name_kv == NULL) {
		lerr(ld, line, col, "[[%s]] without a name (add name = "
		    "\"%s\")", kind, strcmp(kind, "user") == 0 ? "alice" :
		    "nomaflow");
	} else if ((s = str_of(ld, name_kv->val, "name")) == NULL)
		;	/* reported */
	else if (*s == '\0') {
		lerr(ld, name_kv->val->line, name_kv->val->col, "[[%s]] name "
		    "must not be empty", kind);
	} else {
		for (i = 0; i < *n; i++)
			if (strcmp((*arr)[i].name, s) == 0)
				break;
		if (i < *n) {
			lerr(ld, name_kv->val->line, name_kv->val->col,
			    "duplicate [[%s]] \"%s\" (list all its roles in "
			    "one entry)", kind, s);
		} else
			b.name = nf_xstrdup(s);
	}
	if (rv == NULL) {
		lerr(ld, line, col, "[[%s]] %s without roles (add roles = "
		    "[\"ROLE\"])", kind, b.name != NULL ? b.name : "");
	} else if (rv->type != NF_TOML_ARRAY) {
		lerr(ld, rv->line, rv->col, "roles must be an array of role "
		    "names, not %s", what(rv->type));
	} else
		for (i = 0; i < rv->u.arr.n; i++) {
			it = rv->u.arr.items[i];
			if ((s = str_of(ld, it, "a role name")) == NULL)
				continue;
			for (k = 0; k < ld->acl->nroles; k++)
				if (strcmp(ld->acl->roles[k].name, s) == 0)
					break;
			if (k == ld->acl->nroles) {
				lerr(ld, it->line, it->col, "unknown role "
				    "\"%s\" (define it with a [[role]] table)",
				    s);
				continue;
			}
			b.roles = nf_xreallocarray(b.roles, b.nroles + 1,
			    sizeof(*b.roles));
			b.roles[b.nroles++] = k;
		}
	/* Kept even when a role was wrong, for the duplicate check. */
	if (b.name == NULL) {
		free(b.name);
		free(b.roles);
		return;
	}
	*arr = nf_xreallocarray(*arr, *n + 1, sizeof(**arr));
	(*arr)[(*n)++] = b;
}

struct nf_acl *
nf_acl_load(const struct nf_toml_value *root, const char *file,
    struct nf_errs *errs)
{
	struct ld			 ld;
	const struct nf_toml_kv		*kv;
	const struct nf_toml_value	*a;
	size_t				 i;

	ld.errs = errs;
	ld.file = file;
	ld.acl = nf_xcalloc(1, sizeof(*ld.acl));
	/* Roles first: bindings may come before them in the file. */
	if ((kv = nf_toml_get_kv(root, "role")) != NULL &&
	    (a = tables_of(&ld, kv)) != NULL)
		for (i = 0; i < a->u.arr.n; i++)
			load_role(&ld, a->u.arr.items[i]);
	if ((kv = nf_toml_get_kv(root, "user")) != NULL &&
	    (a = tables_of(&ld, kv)) != NULL)
		for (i = 0; i < a->u.arr.n; i++)
			load_bind(&ld, a->u.arr.items[i], "user",
			    &ld.acl->users, &ld.acl->nusers);
	if ((kv = nf_toml_get_kv(root, "group")) != NULL &&
	    (a = tables_of(&ld, kv)) != NULL)
		for (i = 0; i < a->u.arr.n; i++)
			load_bind(&ld, a->u.arr.items[i], "group",
			    &ld.acl->groups, &ld.acl->ngroups);
	return ld.acl;
}

static void
free_binds(struct acl_bind *b, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		free(b[i].name);
		free(b[i].roles);
	}
	free(b);
}

void
nf_acl_free(struct nf_acl *acl)
{
	size_t	i, j;

	if (acl == NULL)
		return;
	for (i = 0; i < acl->nroles; i++) {
		for (j = 0; j < acl->roles[i].ngrants; j++)
			nf_acl_grant_free(&acl->roles[i].grants[j]);
		free(acl->roles[i].grants);
		free(acl->roles[i].name);
		free(acl->roles[i].description);
	}
	free(acl->roles);
	free_binds(acl->users, acl->nusers);
	free_binds(acl->groups, acl->ngroups);
	free(acl);
}

/* A TOML basic string. */
static void
dump_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			fprintf(f, "\\u%04x", (unsigned char)*s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

static void
dump_binds(const struct nf_acl *acl, FILE *f, const char *kind,
    const struct acl_bind *b, size_t n)
{
	size_t	i, j;

	for (i = 0; i < n; i++) {
		fprintf(f, "\n[[%s]]\nname = ", kind);
		dump_str(f, b[i].name);
		fputs("\nroles = [", f);
		for (j = 0; j < b[i].nroles; j++) {
			fputs(j ? ", " : "", f);
			dump_str(f, acl->roles[b[i].roles[j]].name);
		}
		fputs("]\n", f);
	}
}

void
nf_acl_dump(const struct nf_acl *acl, FILE *f)
{
	const struct acl_role	*r;
	const struct nf_acl_grant *g;
	char			*s;
	size_t			 i, j;

	if (acl == NULL)
		return;
	for (i = 0; i < acl->nroles; i++) {
		r = &acl->roles[i];
		fputs("\n[[role]]\nname = ", f);
		dump_str(f, r->name);
		if (r->description != NULL) {
			fputs("\ndescription = ", f);
			dump_str(f, r->description);
		}
		fputs("\ngrants = [", f);
		for (j = 0; j < r->ngrants; j++) {
			g = &r->grants[j];
			s = g->kind == NF_ACL_DAEMON ?
			    nf_xstrdup(nf_acl_verb_name(g->verb)) :
			    nf_xprintf("%s %s:%s", nf_acl_verb_name(g->verb),
			    g->kind == NF_ACL_JOB ? "job" : "tag", g->pattern);
			fputs(j ? ", " : "", f);
			dump_str(f, s);
			free(s);
		}
		fputs("]\n", f);
	}
	dump_binds(acl, f, "user", acl->users, acl->nusers);
	dump_binds(acl, f, "group", acl->groups, acl->ngroups);
}

/* Checking ---------------------------------------------------------- */

static const struct acl_bind *
find_bind(const struct acl_bind *b, size_t n, const char *name)
{
	size_t	i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strcmp(b[i].name, name) == 0)
			return &b[i];
	return NULL;
}

static int
grant_covers(const struct nf_acl_grant *g, enum nf_acl_verb verb,
    const char *job, char *const *tags, size_t ntags)
{
	size_t	i;

	if (g->verb == NF_ACL_ADMIN)
		return 1;
	if (!nf_acl_verb_on_job(verb))
		return g->verb == verb;
	/* Every job verb implies view of the same jobs. */
	if (g->verb != verb && !(verb == NF_ACL_VIEW &&
	    nf_acl_verb_on_job(g->verb)))
		return 0;
	if (job == NULL)
		return 0;
	if (g->kind == NF_ACL_JOB)
		return fnmatch(g->pattern, job, 0) == 0;
	if (g->kind == NF_ACL_TAG)
		for (i = 0; i < ntags; i++)
			if (fnmatch(g->pattern, tags[i], 0) == 0)
				return 1;
	return 0;
}

static int
bind_covers(const struct nf_acl *acl, const struct acl_bind *b,
    enum nf_acl_verb verb, const char *job, char *const *tags, size_t ntags)
{
	const struct acl_role	*r;
	size_t			 i, j;

	for (i = 0; i < b->nroles; i++) {
		r = &acl->roles[b->roles[i]];
		for (j = 0; j < r->ngrants; j++)
			if (grant_covers(&r->grants[j], verb, job, tags,
			    ntags))
				return 1;
	}
	return 0;
}

int
nf_acl_allowed(const struct nf_acl *acl, const struct nf_acl_ident *who,
    enum nf_acl_verb verb, const char *job, char *const *tags, size_t ntags)
{
	const struct acl_bind	*b;
	size_t			 i;

	if (acl == NULL)
		return who->builtin_admin;
	b = find_bind(acl->users, acl->nusers, who->user);
	if (who->builtin_admin && b == NULL)
		return 1;
	if (b != NULL && bind_covers(acl, b, verb, job, tags, ntags))
		return 1;
	for (i = 0; i < who->ngroups; i++)
		if ((b = find_bind(acl->groups, acl->ngroups,
		    who->groups[i])) != NULL &&
		    bind_covers(acl, b, verb, job, tags, ntags))
			return 1;
	return 0;
}

int
nf_acl_bound(const struct nf_acl *acl, const struct nf_acl_ident *who)
{
	size_t	i;

	if (acl == NULL)
		return 0;
	if (find_bind(acl->users, acl->nusers, who->user) != NULL)
		return 1;
	for (i = 0; i < who->ngroups; i++)
		if (find_bind(acl->groups, acl->ngroups, who->groups[i]) !=
		    NULL)
			return 1;
	return 0;
}

static void
add_roles(const struct nf_acl *acl, const struct acl_bind *b,
    struct nf_buf *out)
{
	size_t	i;

	for (i = 0; b != NULL && i < b->nroles; i++)
		nf_buf_printf(out, "%s%s", out->len > 0 ? ", " : "",
		    acl->roles[b->roles[i]].name);
}

void
nf_acl_roles(const struct nf_acl *acl, const struct nf_acl_ident *who,
    struct nf_buf *out)
{
	const struct acl_bind	*b;
	size_t			 i;

	b = acl != NULL ? find_bind(acl->users, acl->nusers, who->user) :
	    NULL;
	if (who->builtin_admin && b == NULL)
		nf_buf_adds(out, "admin (built in)");
	if (acl == NULL)
		return;
	add_roles(acl, b, out);
	for (i = 0; i < who->ngroups; i++)
		add_roles(acl, find_bind(acl->groups, acl->ngroups,
		    who->groups[i]), out);
}

void
nf_acl_ident_text(const struct nf_acl_ident *who, char *buf, size_t len)
{
	if (who->uid < 0)
		snprintf(buf, len, "account %s", who->user != NULL ?
		    who->user : "?");
	else if (who->user != NULL)
		snprintf(buf, len, "user %s (uid %lld)", who->user, who->uid);
	else
		snprintf(buf, len, "uid %lld", who->uid);
}
