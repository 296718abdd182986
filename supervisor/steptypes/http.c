/*
 * http.c: the http step type: one HTTP(S) request with libcurl
 * (worker/step_http.c), run in nomaflow-worker-http itself under the
 * http policy.
 *
 * Runs in nomaflowd (config load, -n, reload) and nfctl (validate).  Part
 * of the step-type registry (steptypes.h).  What the worker shares with
 * it (status ranges, secret names, the body cap) is in common/steptype.h.
 */
#include "autoconf.h"

#include <string.h>
#include <strings.h>

#include "config.h"
#include "load.h"
#include "steptype.h"
#include "steptypes.h"
#include "toml.h"
#include "util.h"

/*
 * body is a string or a table sent as JSON; auth is a table whose keys
 * depend on its type; expect_status is a status, a "2xx" class, a
 * "200-299" range or a list of them.  http_check checks what the schema
 * cannot say.
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

/* A string that a template or the environment fills in is judged later. */
static int
http_templated(const struct nf_toml_value *v)
{
	return v->type == NF_TOML_STRING && strstr(v->u.str.s, "${") != NULL;
}

/* One element of expect_status: 404, "404", "2xx" or "200-299". */
static void
http_check_status(struct nf_load *ld, const struct nf_toml_value *v,
    const char *pfx)
{
	int	lo, hi;

	if (v->type == NF_TOML_INTEGER && v->u.i >= 100 && v->u.i <= 599)
		return;
	if (v->type == NF_TOML_STRING &&
	    nf_steptype_status_range(v->u.str.s, &lo, &hi) == 0)
		return;
	nf_load_err(ld, v->line, v->col, "%sexpect_status: each entry is a "
	    "status (100-599), a class such as \"2xx\" or a range such as "
	    "\"200-299\"", pfx);
}

static void
http_check(struct nf_load *ld, struct nf_step *st,
    const struct nf_toml_value *t, const char *pfx, int line, int col)
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
			nf_load_err(ld, v->line, v->col, "%smethod \"%s\" must "
			    "be an HTTP method in capitals (GET, POST, PUT, "
			    "PATCH, DELETE, HEAD, ...)", pfx, v->u.str.s);
	}
	if ((v = nf_toml_get(t, "url")) != NULL && v->type ==
	    NF_TOML_STRING && !http_templated(v) &&
	    strncasecmp(v->u.str.s, "http://", 7) != 0 &&
	    strncasecmp(v->u.str.s, "https://", 8) != 0)
		nf_load_err(ld, v->line, v->col, "%surl must start with "
		    "http:// or https://", pfx);
	if ((v = nf_toml_get(t, "body")) != NULL &&
	    v->type != NF_TOML_STRING && v->type != NF_TOML_TABLE &&
	    v->type != NF_TOML_ARRAY)
		nf_load_err(ld, v->line, v->col, "%sbody must be a string "
		    "(sent as is) or a table or array (sent as JSON), not %s",
		    pfx, nf_load_toml_what(v->type));
	if ((v = nf_toml_get(t, "query")) != NULL && v->type == NF_TOML_TABLE)
		for (i = 0; i < v->u.tab.n; i++)
			if (v->u.tab.kv[i].val->type == NF_TOML_ARRAY ||
			    v->u.tab.kv[i].val->type == NF_TOML_TABLE)
				nf_load_err(ld, v->u.tab.kv[i].line,
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
			nf_load_err(ld, ty != NULL ? ty->line : a->line, ty !=
			    NULL ? ty->col : a->col, "%sauth.type must be "
			    "\"bearer\" (token), \"basic\" (username, "
			    "password) or \"oauth2\" (token_url, client_id, "
			    "client_secret, scope)", pfx);
		} else {
			for (j = 1; auth_keys[k][j] != NULL; j++)
				if (nf_toml_get(a, auth_keys[k][j]) == NULL)
					nf_load_err(ld, a->line, a->col,
					    "%sauth of type %s needs %s", pfx,
					    auth_keys[k][0], auth_keys[k][j]);
			for (i = 0; i < a->u.tab.n; i++) {
				for (j = 1; auth_keys[k][j] != NULL; j++)
					if (strcmp(a->u.tab.kv[i].key,
					    auth_keys[k][j]) == 0)
						break;
				if (auth_keys[k][j] != NULL ||
				    (nf_load_in_list(auth_opt,
				    a->u.tab.kv[i].key) && (k == 2 ||
				    strcmp(a->u.tab.kv[i].key, "type") == 0)))
					continue;
				nf_load_err(ld, a->u.tab.kv[i].line,
				    a->u.tab.kv[i].col, "%sauth: unknown key "
				    "\"%s\" for type %s", pfx,
				    a->u.tab.kv[i].key, auth_keys[k][0]);
			}
			v = nf_toml_get(a, "client_auth");
			if (v != NULL && v->type == NF_TOML_STRING &&
			    strcmp(v->u.str.s, "basic") != 0 &&
			    strcmp(v->u.str.s, "body") != 0)
				nf_load_err(ld, v->line, v->col,
				    "%sauth.client_auth must be \"basic\" or "
				    "\"body\"", pfx);
		}
	}
	if ((v = nf_toml_get(t, "expect_status")) != NULL) {
		if (v->type == NF_TOML_ARRAY) {
			if (v->u.arr.n == 0)
				nf_load_err(ld, v->line, v->col,
				    "%sexpect_status is empty: no response "
				    "would do", pfx);
			for (i = 0; i < v->u.arr.n; i++)
				http_check_status(ld, v->u.arr.items[i], pfx);
		} else
			http_check_status(ld, v, pfx);
	}
	if ((v = nf_toml_get(t, "max_body_bytes")) != NULL &&
	    v->type == NF_TOML_INTEGER && (v->u.i < 1 ||
	    v->u.i > NF_STEPTYPE_HTTP_MAX_BODY))
		nf_load_err(ld, v->line, v->col, "%smax_body_bytes must be "
		    "between 1 and %u; stream larger bodies to a file with "
		    "save_to", pfx, NF_STEPTYPE_HTTP_MAX_BODY);
	if ((v = nf_toml_get(t, "max_redirects")) != NULL &&
	    v->type == NF_TOML_INTEGER && (v->u.i < 0 || v->u.i > 50))
		nf_load_err(ld, v->line, v->col, "%smax_redirects must be "
		    "between 0 and 50", pfx);
	if ((v = nf_toml_get(t, "connect_timeout_seconds")) != NULL &&
	    ((v->type == NF_TOML_INTEGER && (v->u.i < 1 || v->u.i > 3600)) ||
	    (v->type == NF_TOML_FLOAT && !(v->u.f > 0 && v->u.f <= 3600))))
		nf_load_err(ld, v->line, v->col, "%sconnect_timeout_seconds "
		    "must be more than 0 and at most 3600", pfx);
	if ((v = nf_toml_get(t, "save_to")) != NULL &&
	    v->type == NF_TOML_STRING && !http_templated(v) &&
	    v->u.str.s[0] != '/')
		nf_load_err(ld, v->line, v->col, "%ssave_to must be an "
		    "absolute path", pfx);
}

const struct nf_steptype nf_steptype_http = {
	.name = "http",
	.policy = "http",
	.worker = "http",
	.fields = http_fields,
	.check = http_check,
};
