/*
 * steptype.c: the registry of step types the configuration may name.
 *
 * Runs in nomaflowd (config validation at load, -n and reload; the policy
 * name of a step at spawn) and in nfctl (validate).  For each type it says
 * which seccomp policy the worker installs, whether the step draws on a
 * pool, and the schema of its type-specific keys; config.c checks every
 * step against it.  The implementations live in the worker (worker/step.h):
 * a type is listed here only once the worker can run it, so a config can
 * never name a step no worker executes.
 *
 * Invariant: the table is static, read-only, and every name is unique.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "steptype.h"
#include "util.h"

/*
 * exec: run a program directly (no shell unless argv names one).
 * argv must be a non-empty array of strings; config.c checks non-empty.
 */
static const struct nf_steptype_field exec_fields[] = {
	{ "argv",	 NF_V_ARR,  1, NF_V_STR },
	{ "env",	 NF_V_MAP,  0, NF_V_STR },
	{ "cwd",	 NF_V_STR,  0, NF_V_ANY },
	{ "inherit_env", NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,		 NF_V_ANY,  0, NF_V_ANY },
};

static const struct nf_steptype exec_type = {
	"exec", "exec", 0, exec_fields, "relay", 0, NULL
};

/*
 * sql_query: one statement on a pool.  Exactly one of "sql" (inline text)
 * and "query" (the name of one of the pool's [pools.NAME.queries]) is
 * required; the schema cannot say "one of", so config.c checks it along
 * with the pool itself.
 */
static const struct nf_steptype_field sql_query_fields[] = {
	{ "pool",	NF_V_STR, 1, NF_V_ANY },
	{ "sql",	NF_V_STR, 0, NF_V_ANY },
	{ "query",	NF_V_STR, 0, NF_V_ANY },
	{ "params",	NF_V_MAP, 0, NF_V_ANY },
	{ "max_rows",	NF_V_INT, 0, NF_V_ANY },
	{ "script",	NF_V_BOOL, 0, NF_V_ANY },
	{ "dry_run",	NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

static const struct nf_steptype sql_query_type = {
	"sql_query", "sql", 1, sql_query_fields, NULL, 0, "sql"
};

/*
 * python: call "package.module:function" from the plugins directory with
 * kwargs (any TOML values) under /usr/bin/python3 and the shipped runner
 * (python/nomaflow_runner.py).  Like exec, the interpreter runs under exec
 * and the worker relays under relay.  pools names the pool definitions the
 * function may read from ctx.pools; config.c checks the callable's form
 * and that every pool exists.
 */
static const struct nf_steptype_field python_fields[] = {
	{ "callable",	NF_V_STR, 1, NF_V_ANY },
	{ "kwargs",	NF_V_MAP, 0, NF_V_ANY },
	{ "pools",	NF_V_ARR, 0, NF_V_STR },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

static const struct nf_steptype python_type = {
	"python", "exec", 0, python_fields, "relay", 0, NULL
};

/*
 * http: one HTTP(S) request with libcurl (worker/step_http.c).  body is a
 * string or a table sent as JSON; auth is a table whose keys depend on its
 * type; expect_status is a status, a "2xx" class, a "200-299" range or a
 * list of them.  config.c checks what the schema cannot say.  Requests
 * run in the worker itself, under the http policy.
 */
static const struct nf_steptype_field http_fields[] = {
	{ "method",			NF_V_STR,   0, NF_V_ANY },
	{ "url",			NF_V_STR,   1, NF_V_ANY },
	{ "query",			NF_V_MAP,   0, NF_V_ANY },
	{ "headers",			NF_V_MAP,   0, NF_V_STR },
	{ "body",			NF_V_ANY,   0, NF_V_ANY },
	{ "auth",			NF_V_MAP,   0, NF_V_STR },
	{ "ca_file",			NF_V_STR,   0, NF_V_ANY },
	{ "insecure",			NF_V_BOOL,  0, NF_V_ANY },
	{ "connect_timeout_seconds",	NF_V_FLOAT, 0, NF_V_ANY },
	{ "follow_redirects",		NF_V_BOOL,  0, NF_V_ANY },
	{ "max_redirects",		NF_V_INT,   0, NF_V_ANY },
	{ "expect_status",		NF_V_ANY,   0, NF_V_ANY },
	{ "max_body_bytes",		NF_V_INT,   0, NF_V_ANY },
	{ "save_to",			NF_V_STR,   0, NF_V_ANY },
	{ "output_headers",		NF_V_ARR,   0, NF_V_STR },
	{ NULL,				NF_V_ANY,   0, NF_V_ANY },
};

static const struct nf_steptype http_type = {
	"http", "http", 0, http_fields, NULL, 0, "http"
};

/*
 * sql_copy: stream rows from source = {pool, table | query} into target =
 * {pool, table} (worker/step_copy.c).  The pools are named inside source
 * and target, so uses_pool is 0 and config.c checks both, the mode and
 * its key, and the coercion options.
 */
static const struct nf_steptype_field sql_copy_fields[] = {
	{ "source",		NF_V_MAP,  1, NF_V_STR },
	{ "target",		NF_V_MAP,  1, NF_V_STR },
	{ "mode",		NF_V_STR,  0, NF_V_ANY },
	{ "key",		NF_V_ARR,  0, NF_V_STR },
	{ "batch_size",		NF_V_INT,  0, NF_V_ANY },
	{ "columns",		NF_V_ARR,  0, NF_V_STR },
	{ "rename",		NF_V_MAP,  0, NF_V_STR },
	{ "trim_strings",	NF_V_BOOL, 0, NF_V_ANY },
	{ "empty_to_null",	NF_V_BOOL, 0, NF_V_ANY },
	{ "null_to_default",	NF_V_BOOL, 0, NF_V_ANY },
	{ "decimal",		NF_V_STR,  0, NF_V_ANY },
	{ "dry_run",		NF_V_BOOL, 0, NF_V_ANY },
	{ NULL,			NF_V_ANY,  0, NF_V_ANY },
};

static const struct nf_steptype sql_copy_type = {
	"sql_copy", "sql", 0, sql_copy_fields, NULL, 0, "sql"
};

/*
 * call_job: start a run of another job and wait for it (run.c).  Handled
 * by nomaflowd itself: no worker, no policy.  config.c checks that the job
 * exists and that calls form no cycle.
 */
static const struct nf_steptype_field call_job_fields[] = {
	{ "job",	NF_V_STR, 1, NF_V_ANY },
	{ "params",	NF_V_MAP, 0, NF_V_ANY },
	{ NULL,		NF_V_ANY, 0, NF_V_ANY },
};

static const struct nf_steptype call_job_type = {
	"call_job", NULL, 0, call_job_fields, NULL, 1, NULL
};

static const struct nf_steptype *const registry[] = {
	&exec_type,
	&sql_query_type,
	&sql_copy_type,
	&python_type,
	&http_type,
	&call_job_type,
	NULL,
};

const struct nf_steptype *
nf_steptype_find(const char *name)
{
	size_t	i;

	for (i = 0; registry[i] != NULL; i++)
		if (strcmp(registry[i]->name, name) == 0)
			return registry[i];
	return NULL;
}

const struct nf_steptype *const *
nf_steptype_all(void)
{
	return registry;
}

int
nf_steptype_status_range(const char *s, int *lo, int *hi)
{
	long long	a, b;
	const char	*dash;
	char		 buf[8];

	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' &&
	    (s[1] == 'x' || s[1] == 'X') && (s[2] == 'x' || s[2] == 'X')) {
		*lo = (s[0] - '0') * 100;
		*hi = *lo + 99;
		return 0;
	}
	if ((dash = strchr(s, '-')) == NULL) {
		if (nf_parse_int(s, 100, 599, &a) == -1)
			return -1;
		*lo = *hi = (int)a;
		return 0;
	}
	if ((size_t)(dash - s) >= sizeof(buf))
		return -1;
	memcpy(buf, s, (size_t)(dash - s));
	buf[dash - s] = '\0';
	if (nf_parse_int(buf, 100, 599, &a) == -1 ||
	    nf_parse_int(dash + 1, 100, 599, &b) == -1 || b < a)
		return -1;
	*lo = (int)a;
	*hi = (int)b;
	return 0;
}

/*
 * A name is a credential's when one of its words (split at anything but
 * letters and digits) is one of these, or when it ends in one of the
 * suffixes ("accessToken", "X-ApiKey").
 */
static const char *const secret_words[] = {
	"authorization", "auth", "cookie", "token", "secret", "password",
	"passwd", "pwd", "key", "apikey", "sig", "signature", "session",
	"sessionid", "credential", "credentials", NULL
};
static const char *const secret_suffixes[] = {
	"token", "secret", "password", "apikey", NULL
};

int
nf_steptype_secret_name(const char *name, size_t len)
{
	char	 lower[128], *w, *end;
	size_t	 i, n;
	int	 c;

	if (len >= sizeof(lower))
		len = sizeof(lower) - 1;
	for (i = 0; i < len; i++) {
		c = (unsigned char)name[i];
		lower[i] = (char)(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
	}
	lower[len] = '\0';
	for (i = 0; secret_suffixes[i] != NULL; i++) {
		n = strlen(secret_suffixes[i]);
		if (len >= n && strcmp(lower + len - n, secret_suffixes[i]) == 0)
			return 1;
	}
	for (w = lower; *w != '\0'; w = end) {
		while (*w != '\0' && !((*w >= 'a' && *w <= 'z') ||
		    (*w >= '0' && *w <= '9')))
			w++;
		for (end = w; (*end >= 'a' && *end <= 'z') ||
		    (*end >= '0' && *end <= '9'); end++)
			;
		if (end == w)
			break;
		for (i = 0; secret_words[i] != NULL; i++)
			if (strlen(secret_words[i]) == (size_t)(end - w) &&
			    memcmp(secret_words[i], w, (size_t)(end - w)) == 0)
				return 1;
	}
	return 0;
}

char *
nf_steptype_url_shown(const char *url)
{
	struct nf_buf	 b;
	const char	*p, *auth, *end, *at, *q, *amp, *eq;

	nf_buf_init(&b);
	/* "scheme://" only counts before the path, query or fragment. */
	p = strstr(url, "://");
	auth = p != NULL && p < url + strcspn(url, "/?#") ? p + 3 : url;
	nf_buf_add(&b, url, (size_t)(auth - url));
	end = auth + strcspn(auth, "/?#");
	for (at = NULL, p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		auth = at + 1;
	nf_buf_add(&b, auth, (size_t)(end - auth));
	p = end;
	q = p + strcspn(p, "?#");
	nf_buf_add(&b, p, (size_t)(q - p));
	if (*q == '?') {
		nf_buf_addc(&b, '?');
		for (p = q + 1; *p != '\0' && *p != '#';
		    p = *amp == '&' ? amp + 1 : amp) {
			amp = p + strcspn(p, "&#");
			eq = memchr(p, '=', (size_t)(amp - p));
			if (p != q + 1)
				nf_buf_addc(&b, '&');
			if (eq != NULL && nf_steptype_secret_name(p,
			    (size_t)(eq - p))) {
				nf_buf_add(&b, p, (size_t)(eq - p) + 1);
				nf_buf_adds(&b, "***");
			} else
				nf_buf_add(&b, p, (size_t)(amp - p));
		}
	}
	if (b.data == NULL)
		nf_buf_adds(&b, "");
	return nf_buf_steal(&b);
}

/* Replace the value of every secret-named key of map m. */
static void
redact_named(struct nf_val *m)
{
	size_t	i;

	for (i = 0; m != NULL && m->type == NF_V_MAP && i < m->u.m.n; i++)
		if (nf_steptype_secret_name(m->u.m.kv[i].key,
		    strlen(m->u.m.kv[i].key)))
			nf_val_map_set(m, m->u.m.kv[i].key,
			    nf_val_str("[redacted]"));
}

struct nf_val *
nf_steptype_spec_public(const char *type, const struct nf_val *spec)
{
	static const char *const auth_secrets[] = { "token", "password",
	    "client_secret", NULL };
	struct nf_val	*v, *a;
	const char	*url;
	char		*shown;
	size_t		 i;

	if (spec == NULL)
		return nf_val_map();
	v = nf_val_dup(spec);
	if (type == NULL || strcmp(type, "http") != 0)
		return v;
	if ((url = nf_val_get_str(v, "url")) != NULL) {
		shown = nf_steptype_url_shown(url);
		nf_val_map_set_str(v, "url", shown);
		free(shown);
	}
	redact_named((struct nf_val *)nf_val_get(v, "headers"));
	redact_named((struct nf_val *)nf_val_get(v, "query"));
	a = (struct nf_val *)nf_val_get(v, "auth");
	for (i = 0; a != NULL && a->type == NF_V_MAP &&
	    auth_secrets[i] != NULL; i++)
		if (nf_val_get(a, auth_secrets[i]) != NULL)
			nf_val_map_set_str(a, auth_secrets[i], "[redacted]");
	if (a != NULL && a->type == NF_V_MAP &&
	    (url = nf_val_get_str(a, "token_url")) != NULL) {
		shown = nf_steptype_url_shown(url);
		nf_val_map_set_str(a, "token_url", shown);
		free(shown);
	}
	return v;
}
