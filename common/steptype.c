/*
 * steptype.c: what the supervisor and the workers both need to know about
 * step specs: HTTP status ranges, which header and parameter names carry
 * credentials, URLs fit for logs, and a spec fit for display.
 *
 * Runs in nomaflowd (config checks, nfctl job show) and in
 * nomaflow-worker-http (the request, its log lines).  Pure functions, no
 * state.  The registry of step types (which keys, which policy, which
 * worker) is the supervisor's alone: supervisor/steptypes.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "steptype.h"
#include "util.h"

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
