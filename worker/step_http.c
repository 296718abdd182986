/*
 * step_http.c: the "http" step: one HTTP(S) request with libcurl, after an
 * OAuth2 client-credentials token request when the spec asks for one.
 *
 * Runs in nomaflow-worker; the worker's only module that includes
 * curl/curl.h.  JSON goes through common/json.c (jansson).
 *
 * prepare, unsandboxed: curl_global_init (OpenSSL reads its configuration),
 * jansson's hash seed, the CA bundle read into memory (handed to curl as a
 * blob, so no certificate file is opened later), the temporary file of
 * save_to created next to its target, the resolver's NSS modules loaded by
 * one lookup of "localhost".  run, under policies/http.policy: the
 * requests.  Name lookups still read /etc/hosts and /etc/resolv.conf under
 * the sandbox, from curl's resolver thread.
 *
 * Output: {status, url, headers (the ones named by output_headers), body
 * (text; absent with save_to), json (the body parsed, when it is JSON),
 * saved_to, bytes}.
 *
 * Invariants:
 *  - secrets (auth token, password, client secret, the access token the
 *    token endpoint returned, values of secret-looking headers and query
 *    parameters, the password of a URL) never leave the worker: every log
 *    line, error and output string is passed through http_redact(), and
 *    URLs are shown without userinfo and with secret query values masked;
 *  - memory is bounded: a body kept in memory stops at max_body_bytes
 *    (the transfer is aborted), a body saved to a file is streamed to it
 *    and only an excerpt is kept;
 *  - save_to is replaced atomically: the body goes to a temporary file in
 *    the same directory, renamed over save_to only after a transfer that
 *    completed with an expected status, removed otherwise.
 */
#include "autoconf.h"

#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <curl/curl.h>

#include "json.h"
#include "log.h"
#include "proto.h"
#include "step.h"
#include "steptype.h"
#include "template.h"
#include "util.h"
#include "val.h"

#define HTTP_DEFAULT_MAX_BODY	NF_STEPTYPE_HTTP_MAX_BODY
#define HTTP_DEFAULT_CONNECT_MS	10000
#define HTTP_DEFAULT_REDIRECTS	5
/* Error messages quote at most this much of a response body. */
#define HTTP_EXCERPT		256
/* Bounds on output.json, well inside one frame's decoder limits. */
#define HTTP_JSON_DEPTH		20
#define HTTP_JSON_VALUES	30000
_Static_assert(HTTP_JSON_DEPTH + 8 <= NF_MAX_DEPTH, "output.json depth");
_Static_assert(HTTP_JSON_VALUES * 2 <= NF_MAX_OBJECTS, "output.json size");
_Static_assert(NF_STEPTYPE_HTTP_MAX_BODY * 3 < NF_MAX_FROM_WORKER,
    "body and json in one frame");
/* Token responses are small; anything bigger is not one. */
#define HTTP_TOKEN_MAX		(64u << 10)
/* Secrets shorter than this are not searched for (they would match noise). */
#define HTTP_SECRET_MIN		3
#define HTTP_REDACTED		"[redacted]"

enum http_auth {
	HTTP_AUTH_NONE = 0,
	HTTP_AUTH_BEARER,
	HTTP_AUTH_BASIC,
	HTTP_AUTH_OAUTH2,
};

struct http_range {
	int	lo, hi;
};

/* One response, as the callbacks collect it. */
struct http_resp {
	long		 status;
	struct nf_buf	 body;		/* in memory, or an excerpt */
	int64_t		 bytes;		/* body bytes received */
	int64_t		 cap;		/* what body may hold */
	int		 over_cap;
	int		 fd;		/* save_to's temporary file, or -1 */
	int		 write_errno;
	struct nf_val	*headers;	/* selected: name as asked -> value */
	const struct nf_val *want;	/* output_headers (array of str) */
	char		*ctype;		/* Content-Type */
};

struct http_state {
	struct nf_step_ctx *ctx;
	CURL		*curl;
	char		 errbuf[CURL_ERROR_SIZE];

	const char	*method;
	char		*url;		/* with the query appended */
	char		*shown;		/* url without secrets */
	struct curl_slist *hdrs;
	struct nf_buf	 body;
	int		 has_body;

	enum http_auth	 auth;
	const char	*token, *username, *password;
	const char	*token_url, *client_id, *client_secret, *scope;
	int		 client_auth_body;
	char		*access_token;

	struct nf_buf	 ca;		/* CA certificates (PEM) */
	const char	*ca_name;	/* where they came from */
	int		 insecure;
	long		 connect_ms;
	int		 follow;
	long		 max_redirects;
	struct http_range *expect;
	size_t		 nexpect;
	char		*expect_text;
	int64_t		 max_body;
	const char	*save_to;
	char		*tmp_path;
	int		 save_fd;
	int64_t		 deadline;	/* nf_mono_ms(), 0: none */

	struct nf_secrets secrets;
};

/* Secrets ------------------------------------------------------------- */

static void
http_secret_add(struct http_state *st, const char *s, size_t len)
{
	nf_secrets_add(&st->secrets, s, len);
}

/*
 * Append s to out as valid UTF-8 with every secret replaced (the common
 * primitive, common/template.c).  Secrets are searched in the raw bytes
 * first, so a secret next to a bad byte is still found.
 */
static void
http_redact_into(const struct http_state *st, struct nf_buf *out,
    const char *s, size_t len)
{
	struct nf_buf	 tmp;

	nf_buf_init(&tmp);
	nf_secrets_redact_into(&st->secrets, HTTP_REDACTED, &tmp, s, len);
	nf_step_utf8_sanitize(out, tmp.data != NULL ? tmp.data : "", tmp.len);
	nf_buf_free(&tmp);
}

static struct nf_val *
http_redact_str(const struct http_state *st, const char *s, size_t len)
{
	struct nf_buf	 b;
	struct nf_val	*v;

	nf_buf_init(&b);
	http_redact_into(st, &b, s, len);
	v = nf_val_strn(b.data != NULL ? b.data : "", b.len);
	nf_buf_free(&b);
	return v;
}

/* Redact (and make UTF-8) every string of v, in place. */
static void
http_redact_val(const struct http_state *st, struct nf_val *v)
{
	struct nf_val	*n;
	size_t		 i;

	switch (v->type) {
	case NF_V_STR:
		n = http_redact_str(st, v->u.s.p, v->u.s.len);
		free(v->u.s.p);
		v->u.s = n->u.s;
		n->type = NF_V_NIL;
		nf_val_free(n);
		break;
	case NF_V_ARR:
		for (i = 0; i < v->u.a.n; i++)
			http_redact_val(st, v->u.a.items[i]);
		break;
	case NF_V_MAP:
		for (i = 0; i < v->u.m.n; i++)
			http_redact_val(st, v->u.m.kv[i].val);
		break;
	default:
		break;
	}
}

/* Standard base64 of s (the form "user:password" takes in Basic auth). */
static char *
http_base64(const char *s)
{
	static const char	 tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char	*p = (const unsigned char *)s;
	struct nf_buf		 b;
	size_t			 len = strlen(s), i;
	uint32_t		 w;

	nf_buf_init(&b);
	for (i = 0; i + 2 < len; i += 3) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		nf_buf_addc(&b, tab[w >> 18 & 63]);
		nf_buf_addc(&b, tab[w >> 12 & 63]);
		nf_buf_addc(&b, tab[w >> 6 & 63]);
		nf_buf_addc(&b, tab[w & 63]);
	}
	if (len - i == 1) {
		w = (uint32_t)p[i] << 16;
		nf_buf_addc(&b, tab[w >> 18 & 63]);
		nf_buf_addc(&b, tab[w >> 12 & 63]);
		nf_buf_adds(&b, "==");
	} else if (len - i == 2) {
		w = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		nf_buf_addc(&b, tab[w >> 18 & 63]);
		nf_buf_addc(&b, tab[w >> 12 & 63]);
		nf_buf_addc(&b, tab[w >> 6 & 63]);
		nf_buf_addc(&b, '=');
	}
	if (b.data == NULL)
		nf_buf_adds(&b, "");
	return nf_buf_steal(&b);
}

static void http_log(struct http_state *, int, const char *, ...)
    __attribute__((format(printf, 3, 4)));
static int http_fail(struct http_state *, const char *, const char *, ...)
    __attribute__((format(printf, 3, 4)));

static void
http_log(struct http_state *st, int level, const char *fmt, ...)
{
	struct nf_buf	b, r;
	va_list		ap;

	nf_buf_init(&b);
	va_start(ap, fmt);
	nf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	nf_buf_init(&r);
	http_redact_into(st, &r, b.data != NULL ? b.data : "", b.len);
	nf_step_log_line(st->ctx, "worker", level, r.data != NULL ? r.data :
	    "", r.len);
	nf_buf_free(&r);
	nf_buf_free(&b);
}

/* Fail the step: "job J step S: " + the redacted message. */
static int
http_fail(struct http_state *st, const char *reason, const char *fmt, ...)
{
	struct nf_buf	b, r;
	va_list		ap;

	nf_buf_init(&b);
	nf_buf_printf(&b, "job %s step %s: ", st->ctx->job_id, st->ctx->step);
	va_start(ap, fmt);
	nf_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	nf_buf_init(&r);
	http_redact_into(st, &r, b.data, b.len);
	nf_step_fail(st->ctx, reason, "%s", r.data != NULL ? r.data : "");
	nf_buf_free(&r);
	nf_buf_free(&b);
	return -1;
}

/* Secrets a URL carries: its password and secret query values, raw and
 * as written (percent-encoded). */
static void
http_url_secrets(struct http_state *st, const char *url)
{
	const char	*auth, *end, *at, *colon, *q, *p, *amp, *eq;
	char		*dec;
	int		 n;

	auth = strstr(url, "://");
	auth = auth != NULL && auth < url + strcspn(url, "/?#") ? auth + 3 :
	    url;
	end = auth + strcspn(auth, "/?#");
	at = memrchr(auth, '@', (size_t)(end - auth));
	if (at != NULL && (colon = memchr(auth, ':', (size_t)(at - auth))) !=
	    NULL) {
		http_secret_add(st, colon + 1, (size_t)(at - colon - 1));
		dec = curl_easy_unescape(st->curl, colon + 1,
		    (int)(at - colon - 1), &n);
		if (dec != NULL)
			http_secret_add(st, dec, (size_t)n);
		curl_free(dec);
	}
	if ((q = strchr(end, '?')) == NULL)
		return;
	for (p = q + 1; *p != '\0' && *p != '#'; p = *amp == '&' ? amp + 1 :
	    amp) {
		amp = p + strcspn(p, "&#");
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq == NULL || !nf_steptype_secret_name(p, (size_t)(eq - p)))
			continue;
		http_secret_add(st, eq + 1, (size_t)(amp - eq - 1));
		dec = curl_easy_unescape(st->curl, eq + 1,
		    (int)(amp - eq - 1), &n);
		if (dec != NULL)
			http_secret_add(st, dec, (size_t)n);
		curl_free(dec);
	}
}

/* Spec ---------------------------------------------------------------- */

static int
http_expect_add(struct http_state *st, const struct nf_val *v)
{
	int	lo, hi;

	if (v->type == NF_V_INT) {
		if (v->u.i < 100 || v->u.i > 599)
			return -1;
		lo = hi = (int)v->u.i;
	} else if (v->type != NF_V_STR ||
	    nf_steptype_status_range(v->u.s.p, &lo, &hi) == -1)
		return -1;
	st->expect = nf_xreallocarray(st->expect, st->nexpect + 1,
	    sizeof(*st->expect));
	st->expect[st->nexpect].lo = lo;
	st->expect[st->nexpect++].hi = hi;
	return 0;
}

static int
http_expect_parse(struct http_state *st)
{
	const struct nf_val	*v;
	struct nf_buf		 b;
	size_t			 i;
	int			 bad = 0;

	v = nf_val_get(st->ctx->spec, "expect_status");
	if (v == NULL) {
		st->expect = nf_xcalloc(1, sizeof(*st->expect));
		st->expect[0].lo = 200;
		st->expect[0].hi = 299;
		st->nexpect = 1;
	} else if (v->type == NF_V_ARR) {
		for (i = 0; i < v->u.a.n && !bad; i++)
			bad = http_expect_add(st, v->u.a.items[i]) == -1;
	} else
		bad = http_expect_add(st, v) == -1;
	if (bad || st->nexpect == 0)
		return http_fail(st, "error", "spec.expect_status must be a "
		    "status (404), a class (\"2xx\"), a range (\"200-299\") "
		    "or a list of them");
	nf_buf_init(&b);
	for (i = 0; i < st->nexpect; i++) {
		if (i > 0)
			nf_buf_adds(&b, ", ");
		if (st->expect[i].lo == st->expect[i].hi)
			nf_buf_printf(&b, "%d", st->expect[i].lo);
		else if (st->expect[i].lo % 100 == 0 &&
		    st->expect[i].hi == st->expect[i].lo + 99)
			nf_buf_printf(&b, "%dxx", st->expect[i].lo / 100);
		else
			nf_buf_printf(&b, "%d-%d", st->expect[i].lo,
			    st->expect[i].hi);
	}
	st->expect_text = nf_buf_steal(&b);
	return 0;
}

static int
http_expected(const struct http_state *st, long status)
{
	size_t	i;

	for (i = 0; i < st->nexpect; i++)
		if (status >= st->expect[i].lo && status <= st->expect[i].hi)
			return 1;
	return 0;
}

/* "%XX"-encode s and append it to b. */
static void
http_escape(struct http_state *st, struct nf_buf *b, const char *s,
    size_t len)
{
	char	*e;

	e = curl_easy_escape(st->curl, s, (int)len);
	if (e == NULL)
		nf_fatalx("curl_easy_escape: out of memory");
	nf_buf_adds(b, e);
	curl_free(e);
}

/* A scalar query value as text. */
static int
http_scalar(const struct nf_val *v, struct nf_buf *b)
{
	switch (v->type) {
	case NF_V_STR:
		nf_buf_add(b, v->u.s.p, v->u.s.len);
		return 0;
	case NF_V_INT:
		nf_buf_printf(b, "%lld", (long long)v->u.i);
		return 0;
	case NF_V_FLOAT:
		nf_buf_printf(b, "%.17g", v->u.f);
		return 0;
	case NF_V_BOOL:
		nf_buf_adds(b, v->u.b ? "true" : "false");
		return 0;
	default:
		return -1;
	}
}

static int
http_build_url(struct http_state *st)
{
	const struct nf_val	*url, *query;
	struct nf_buf		 b, val;
	const char		*frag;
	size_t			 i, base;

	url = nf_val_get(st->ctx->spec, "url");
	if (url == NULL || url->type != NF_V_STR || url->u.s.len == 0 ||
	    memchr(url->u.s.p, '\0', url->u.s.len) != NULL)
		return http_fail(st, "error", "spec.url must be a non-empty "
		    "string (is it a template that gave %s?)", url == NULL ?
		    "nothing" : nf_val_type_name(url->type));
	http_url_secrets(st, url->u.s.p);
	if (strncasecmp(url->u.s.p, "http://", 7) != 0 &&
	    strncasecmp(url->u.s.p, "https://", 8) != 0) {
		st->shown = nf_steptype_url_shown(url->u.s.p);
		return http_fail(st, "error", "spec.url %s: only http:// and "
		    "https:// URLs are supported", st->shown);
	}
	nf_buf_init(&b);
	frag = strchr(url->u.s.p, '#');
	base = frag != NULL ? (size_t)(frag - url->u.s.p) : url->u.s.len;
	nf_buf_add(&b, url->u.s.p, base);
	query = nf_val_get(st->ctx->spec, "query");
	for (i = 0; query != NULL && query->type == NF_V_MAP &&
	    i < query->u.m.n; i++) {
		nf_buf_addc(&b, i == 0 && memchr(b.data, '?', b.len) == NULL ?
		    '?' : '&');
		http_escape(st, &b, query->u.m.kv[i].key,
		    strlen(query->u.m.kv[i].key));
		nf_buf_addc(&b, '=');
		nf_buf_init(&val);
		if (http_scalar(query->u.m.kv[i].val, &val) == -1) {
			nf_buf_free(&val);
			nf_buf_free(&b);
			return http_fail(st, "error", "spec.query.%s must be "
			    "a string, number or boolean",
			    query->u.m.kv[i].key);
		}
		if (nf_steptype_secret_name(query->u.m.kv[i].key,
		    strlen(query->u.m.kv[i].key)))
			http_secret_add(st, val.data, val.len);
		http_escape(st, &b, val.data != NULL ? val.data : "", val.len);
		nf_buf_free(&val);
	}
	st->url = nf_buf_steal(&b);
	/* Percent-encoded forms of the secrets are secrets too. */
	http_url_secrets(st, st->url);
	st->shown = nf_steptype_url_shown(st->url);
	return 0;
}

static int
http_build_headers(struct http_state *st)
{
	const struct nf_val	*h, *v;
	struct curl_slist	*n;
	struct nf_buf		 val;
	const char		*sp;
	char			*line, err[512];
	size_t			 i;
	int			 has_ctype = 0;

	h = nf_val_get(st->ctx->spec, "headers");
	for (i = 0; h != NULL && h->type == NF_V_MAP && i < h->u.m.n; i++) {
		/* A template may have made a value a number. */
		nf_buf_init(&val);
		if (http_scalar(h->u.m.kv[i].val, &val) == -1 ||
		    memchr(val.data != NULL ? val.data : "", '\0', val.len) !=
		    NULL || strpbrk(val.data != NULL ? val.data : "",
		    "\r\n") != NULL ||
		    strpbrk(h->u.m.kv[i].key, ":\r\n ") != NULL ||
		    h->u.m.kv[i].key[0] == '\0') {
			nf_buf_free(&val);
			return http_fail(st, "error", "spec.headers.%s: a "
			    "header is a name without \":\", spaces or line "
			    "breaks and a one-line value", h->u.m.kv[i].key);
		}
		if (strcasecmp(h->u.m.kv[i].key, "content-type") == 0)
			has_ctype = 1;
		if (nf_steptype_secret_name(h->u.m.kv[i].key,
		    strlen(h->u.m.kv[i].key))) {
			http_secret_add(st, val.data, val.len);
			/* "Bearer xyz": the credential alone too. */
			if ((sp = strrchr(val.data, ' ')) != NULL)
				http_secret_add(st, sp + 1, strlen(sp + 1));
		}
		/* "Name;" sends a header with an empty value. */
		if (val.len == 0)
			line = nf_xprintf("%s;", h->u.m.kv[i].key);
		else
			line = nf_xprintf("%s: %s", h->u.m.kv[i].key,
			    val.data);
		nf_buf_free(&val);
		n = curl_slist_append(st->hdrs, line);
		free(line);
		if (n == NULL)
			nf_fatalx("curl_slist_append: out of memory");
		st->hdrs = n;
	}
	v = nf_val_get(st->ctx->spec, "body");
	if (v != NULL) {
		st->has_body = 1;
		if (v->type == NF_V_STR)
			nf_buf_add(&st->body, v->u.s.p, v->u.s.len);
		else if (v->type == NF_V_MAP || v->type == NF_V_ARR) {
			if (nf_json_encode(v, "spec.body", &st->body, err,
			    sizeof(err)) == -1)
				return http_fail(st, "error", "cannot send the "
				    "body as JSON: %s", err);
			if (!has_ctype && (n = curl_slist_append(st->hdrs,
			    "Content-Type: application/json")) != NULL)
				st->hdrs = n;
		} else
			return http_fail(st, "error", "spec.body must be a "
			    "string or a table (sent as JSON)");
	}
	/* No "Expect: 100-continue" round trip before a body. */
	if ((n = curl_slist_append(st->hdrs, "Expect:")) == NULL)
		nf_fatalx("curl_slist_append: out of memory");
	st->hdrs = n;
	return 0;
}

static int
http_build_auth(struct http_state *st)
{
	const struct nf_val	*a;
	const char		*type, *ca;
	char			*up, *b64;

	a = nf_val_get(st->ctx->spec, "auth");
	if (a == NULL)
		return 0;
	type = nf_val_get_str(a, "type");
	if (type == NULL)
		return http_fail(st, "error", "spec.auth needs a type");
	if (strcmp(type, "bearer") == 0) {
		st->auth = HTTP_AUTH_BEARER;
		st->token = nf_val_get_str(a, "token");
		if (st->token == NULL)
			return http_fail(st, "error", "spec.auth: type "
			    "\"bearer\" needs token");
		http_secret_add(st, st->token, strlen(st->token));
	} else if (strcmp(type, "basic") == 0) {
		st->auth = HTTP_AUTH_BASIC;
		st->username = nf_val_get_str(a, "username");
		st->password = nf_val_get_str(a, "password");
		if (st->username == NULL || st->password == NULL)
			return http_fail(st, "error", "spec.auth: type "
			    "\"basic\" needs username and password");
		http_secret_add(st, st->password, strlen(st->password));
		up = nf_xprintf("%s:%s", st->username, st->password);
		b64 = http_base64(up);
		http_secret_add(st, b64, strlen(b64));
		free(b64);
		free(up);
	} else if (strcmp(type, "oauth2") == 0) {
		st->auth = HTTP_AUTH_OAUTH2;
		st->token_url = nf_val_get_str(a, "token_url");
		st->client_id = nf_val_get_str(a, "client_id");
		st->client_secret = nf_val_get_str(a, "client_secret");
		st->scope = nf_val_get_str(a, "scope");
		ca = nf_val_get_str(a, "client_auth");
		st->client_auth_body = ca != NULL && strcmp(ca, "body") == 0;
		if (st->token_url == NULL || st->client_id == NULL ||
		    st->client_secret == NULL)
			return http_fail(st, "error", "spec.auth: type "
			    "\"oauth2\" needs token_url, client_id and "
			    "client_secret");
		http_secret_add(st, st->client_secret,
		    strlen(st->client_secret));
		up = nf_xprintf("%s:%s", st->client_id, st->client_secret);
		b64 = http_base64(up);
		http_secret_add(st, b64, strlen(b64));
		free(b64);
		free(up);
		http_url_secrets(st, st->token_url);
	} else
		return http_fail(st, "error", "spec.auth.type \"%s\" is not "
		    "one of bearer, basic, oauth2", type);
	return 0;
}

/* Read a whole (small) file: the CA bundle. */
static int
http_read_file(const char *path, struct nf_buf *b, char *err, size_t errlen)
{
	char	chunk[16384];
	ssize_t	n;
	int	fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "cannot open %s: %s", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		nf_buf_add(b, chunk, (size_t)n);
		if (b->len > (16u << 20)) {
			n = -1;
			errno = EFBIG;
			break;
		}
	}
	if (n == -1) {
		snprintf(err, errlen, "cannot read %s: %s", path,
		    strerror(errno));
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

static int
http_is_https(const char *url)
{
	return url != NULL && strncasecmp(url, "https://", 8) == 0;
}

/*
 * The CA certificates, read now so that TLS verification opens no file
 * under the sandbox.  Without ca_file, curl's compiled-in bundle; a
 * missing bundle only matters to an https URL.
 */
static int
http_load_ca(struct http_state *st)
{
	const curl_version_info_data	*vi;
	const char			*path;
	char				 err[512];
	int				 need;

	if (st->insecure)
		return 0;
	need = http_is_https(st->url) || http_is_https(st->token_url);
	path = nf_val_get_str(st->ctx->spec, "ca_file");
	if (path == NULL) {
		vi = curl_version_info(CURLVERSION_NOW);
		path = vi->cainfo;
		if (path == NULL) {
			if (!need)
				return 0;
			return http_fail(st, "error", "libcurl has no default "
			    "CA bundle: set ca_file to a PEM file of trusted "
			    "certificates");
		}
		if (http_read_file(path, &st->ca, err, sizeof(err)) == -1) {
			nf_buf_reset(&st->ca);
			if (!need)
				return 0;
			return http_fail(st, "error", "the default CA bundle: "
			    "%s (install ca-certificates, or set ca_file)",
			    err);
		}
	} else if (http_read_file(path, &st->ca, err, sizeof(err)) == -1)
		return http_fail(st, "error", "spec.ca_file: %s", err);
	st->ca_name = path;
	return 0;
}

/*
 * The temporary file of save_to, for the SIGTERM handler: a step stopped
 * by a timeout or a cancel removes it before it dies of the signal.
 */
static char	*http_term_unlink;

static void
http_on_term(int sig)
{
	int	saved = errno;

	if (http_term_unlink != NULL)
		(void)unlink(http_term_unlink);
	/* SA_RESETHAND restored the default action: die of the signal. */
	(void)raise(sig);
	errno = saved;
}

/* The temporary file save_to is written to, next to it. */
static int
http_open_save(struct http_state *st)
{
	struct sigaction	sa;
	mode_t			mask;

	st->save_fd = -1;
	st->save_to = nf_val_get_str(st->ctx->spec, "save_to");
	if (st->save_to == NULL)
		return 0;
	if (st->save_to[0] != '/')
		return http_fail(st, "error", "spec.save_to must be an absolute "
		    "path, not \"%s\"", st->save_to);
	st->tmp_path = nf_xprintf("%s.nf-XXXXXX", st->save_to);
	if ((st->save_fd = mkostemp(st->tmp_path, O_CLOEXEC)) == -1) {
		free(st->tmp_path);
		st->tmp_path = NULL;
		return http_fail(st, "error", "save_to %s: cannot create a "
		    "temporary file next to it: %s", st->save_to,
		    strerror(errno));
	}
	/* mkostemp makes 0600; give the file the usual mode. */
	mask = umask(022);
	(void)umask(mask);
	(void)fchmod(st->save_fd, 0666 & ~mask);
	http_term_unlink = st->tmp_path;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = http_on_term;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	if (sigaction(SIGTERM, &sa, NULL) == -1)
		return http_fail(st, "error", "sigaction SIGTERM: %s",
		    strerror(errno));
	return 0;
}

static void
http_drop_save(struct http_state *st)
{
	if (st->save_fd != -1) {
		close(st->save_fd);
		st->save_fd = -1;
	}
	if (st->tmp_path != NULL) {
		http_term_unlink = NULL;
		(void)unlink(st->tmp_path);
		free(st->tmp_path);
		st->tmp_path = NULL;
	}
}

static int
http_prepare(struct nf_step_ctx *ctx)
{
	struct http_state	*st;
	const struct nf_val	*v;
	struct addrinfo		 hints, *res = NULL;
	const char		*m;
	CURLcode		 rc;
	int64_t			 n, margin;
	int			 b;

	st = nf_xcalloc(1, sizeof(*st));
	nf_secrets_init(&st->secrets, HTTP_SECRET_MIN);
	ctx->data = st;
	st->ctx = ctx;
	st->save_fd = -1;
	/*
	 * curl's own deadline comes before the supervisor's timer (which
	 * started at spawn, a little earlier), so that the step reports
	 * which request timed out rather than being killed.
	 */
	if (ctx->timeout_ms > 0) {
		margin = ctx->timeout_ms / 4 < 1000 ? ctx->timeout_ms / 4 :
		    1000;
		st->deadline = nf_mono_ms() + ctx->timeout_ms - margin;
	}
	nf_buf_init(&st->body);
	nf_buf_init(&st->ca);

	/* OpenSSL reads its configuration here, while open(2) is allowed. */
	if ((rc = curl_global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		return http_fail(st, "error", "cannot initialise libcurl: %s",
		    curl_easy_strerror(rc));
	nf_json_init();
	if ((st->curl = curl_easy_init()) == NULL)
		return http_fail(st, "error", "cannot initialise libcurl");

	st->method = nf_val_get_str(ctx->spec, "method");
	if (st->method == NULL)
		st->method = "GET";
	for (m = st->method; *m >= 'A' && *m <= 'Z'; m++)
		;
	if (*m != '\0' || m == st->method)
		return http_fail(st, "error", "spec.method \"%s\" is not an "
		    "HTTP method in capitals (GET, POST, PUT, ...)",
		    st->method);
	if (http_build_auth(st) == -1 || http_build_url(st) == -1 ||
	    http_build_headers(st) == -1 || http_expect_parse(st) == -1)
		return -1;

	st->insecure = nf_val_get_bool(ctx->spec, "insecure", &b) && b;
	st->follow = !nf_val_get_bool(ctx->spec, "follow_redirects", &b) || b;
	st->max_redirects = HTTP_DEFAULT_REDIRECTS;
	if (nf_val_get_int(ctx->spec, "max_redirects", &n))
		st->max_redirects = (long)n;
	st->max_body = HTTP_DEFAULT_MAX_BODY;
	if (nf_val_get_int(ctx->spec, "max_body_bytes", &n) && n > 0 &&
	    n <= NF_STEPTYPE_HTTP_MAX_BODY)
		st->max_body = n;
	st->connect_ms = HTTP_DEFAULT_CONNECT_MS;
	v = nf_val_get(ctx->spec, "connect_timeout_seconds");
	if (v != NULL && v->type == NF_V_FLOAT && v->u.f > 0)
		st->connect_ms = (long)(v->u.f * 1000 + 0.5);
	else if (v != NULL && v->type == NF_V_INT && v->u.i > 0)
		st->connect_ms = (long)v->u.i * 1000;
	if (st->connect_ms < 1)
		st->connect_ms = 1;

	if (http_load_ca(st) == -1 || http_open_save(st) == -1)
		return -1;

	/*
	 * One lookup now loads the NSS modules nsswitch.conf names, which
	 * would otherwise be mapped in under the sandbox.
	 */
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo("localhost", "80", &hints, &res) == 0)
		freeaddrinfo(res);
	return 0;
}

/* Response callbacks ---------------------------------------------------- */

static size_t
http_on_body(char *p, size_t size, size_t nmemb, void *arg)
{
	struct http_resp	*r = arg;
	size_t			 n = size * nmemb, keep;

	r->bytes += (int64_t)n;
	if (r->fd != -1) {
		if (nf_write_all(r->fd, p, n) == -1) {
			r->write_errno = errno;
			return 0;
		}
		if (r->body.len < HTTP_EXCERPT) {
			keep = HTTP_EXCERPT - r->body.len;
			nf_buf_add(&r->body, p, n < keep ? n : keep);
		}
		return n;
	}
	if ((int64_t)(r->body.len + n) > r->cap) {
		r->over_cap = 1;
		return 0;	/* aborts the transfer: CURLE_WRITE_ERROR */
	}
	nf_buf_add(&r->body, p, n);
	return n;
}

static size_t
http_on_header(char *p, size_t size, size_t nitems, void *arg)
{
	struct http_resp	*r = arg;
	const struct nf_val	*want;
	const struct nf_val	*old;
	struct nf_val		*nv;
	size_t			 n = size * nitems, nlen, vlen, i;
	const char		*colon, *val;
	char			*joined;

	/* A status line starts a new response (a redirect, a 100). */
	if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		nf_val_free(r->headers);
		r->headers = nf_val_map();
		free(r->ctype);
		r->ctype = NULL;
		return n;
	}
	if ((colon = memchr(p, ':', n)) == NULL)
		return n;
	nlen = (size_t)(colon - p);
	val = colon + 1;
	vlen = n - nlen - 1;
	while (vlen > 0 && (*val == ' ' || *val == '\t')) {
		val++;
		vlen--;
	}
	while (vlen > 0 && (val[vlen - 1] == '\r' || val[vlen - 1] == '\n' ||
	    val[vlen - 1] == ' ' || val[vlen - 1] == '\t'))
		vlen--;
	if (nlen == 12 && strncasecmp(p, "content-type", 12) == 0) {
		free(r->ctype);
		r->ctype = nf_xstrndup(val, vlen);
	}
	want = r->want;
	for (i = 0; want != NULL && want->type == NF_V_ARR &&
	    i < want->u.a.n; i++) {
		if (want->u.a.items[i]->type != NF_V_STR ||
		    want->u.a.items[i]->u.s.len != nlen ||
		    strncasecmp(want->u.a.items[i]->u.s.p, p, nlen) != 0)
			continue;
		old = nf_val_get(r->headers, want->u.a.items[i]->u.s.p);
		if (old != NULL && old->type == NF_V_STR) {
			joined = nf_xprintf("%s, %.*s", old->u.s.p, (int)vlen,
			    val);
			nv = nf_val_str(joined);
			free(joined);
		} else
			nv = nf_val_strn(val, vlen);
		nf_val_map_set(r->headers, want->u.a.items[i]->u.s.p, nv);
	}
	return n;
}

static void
http_resp_init(struct http_resp *r, int64_t cap, int fd,
    const struct nf_val *want)
{
	memset(r, 0, sizeof(*r));
	nf_buf_init(&r->body);
	r->cap = cap;
	r->fd = fd;
	r->headers = nf_val_map();
	r->want = want;
}

static void
http_resp_free(struct http_resp *r)
{
	nf_buf_free(&r->body);
	nf_val_free(r->headers);
	free(r->ctype);
}

/* Requests ------------------------------------------------------------ */

struct http_req {
	const char		*what;		/* "token request" or NULL */
	const char		*method;
	const char		*url;
	const char		*shown;
	const struct curl_slist	*hdrs;
	const char		*body;
	size_t			 bodylen;
	int			 has_body;
	enum http_auth		 auth;
	const char		*user, *secret;	/* basic */
	const char		*bearer;
};

#define SETOPT(o, v) do {						\
	if ((rc = curl_easy_setopt(st->curl, (o), (v))) != CURLE_OK)	\
		goto setopt_failed;					\
} while (0)

/*
 * One transfer into r.  0 when it completed (any status); otherwise the
 * step has failed (-1), with reason "timeout" when curl's timer ran out.
 */
static int
http_perform(struct http_state *st, const struct http_req *q,
    struct http_resp *r)
{
	struct curl_blob	 blob;
	CURLcode		 rc;
	int64_t			 left = 0, t0;
	const char		*what = q->what != NULL ? q->what : "";
	const char		*sep = q->what != NULL ? ": " : "";
	char			*eff = NULL;

	curl_easy_reset(st->curl);
	st->errbuf[0] = '\0';
	if (st->deadline != 0) {
		left = st->deadline - nf_mono_ms();
		if (left <= 0)
			return http_fail(st, "timeout", "%s%s%s %s: no time "
			    "left before the step's timeout_seconds", what,
			    sep, q->method, q->shown);
	}
	SETOPT(CURLOPT_URL, q->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, st->errbuf);
	SETOPT(CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	SETOPT(CURLOPT_ACCEPT_ENCODING, "");
	SETOPT(CURLOPT_CONNECTTIMEOUT_MS, st->connect_ms);
	if (left > 0)
		SETOPT(CURLOPT_TIMEOUT_MS, (long)left);
	SETOPT(CURLOPT_FOLLOWLOCATION, st->follow ? 1L : 0L);
	SETOPT(CURLOPT_MAXREDIRS, st->max_redirects);
	if (st->insecure) {
		SETOPT(CURLOPT_SSL_VERIFYPEER, 0L);
		SETOPT(CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		/* Only the certificates read in prepare: no file access. */
		SETOPT(CURLOPT_CAINFO, NULL);
		SETOPT(CURLOPT_CAPATH, NULL);
		if (st->ca.len > 0) {
			blob.data = st->ca.data;
			blob.len = st->ca.len;
			blob.flags = CURL_BLOB_NOCOPY;
			SETOPT(CURLOPT_CAINFO_BLOB, &blob);
		}
	}
	SETOPT(CURLOPT_HTTPHEADER, q->hdrs);
	SETOPT(CURLOPT_WRITEFUNCTION, http_on_body);
	SETOPT(CURLOPT_WRITEDATA, r);
	SETOPT(CURLOPT_HEADERFUNCTION, http_on_header);
	SETOPT(CURLOPT_HEADERDATA, r);
	if (strcmp(q->method, "HEAD") == 0)
		SETOPT(CURLOPT_NOBODY, 1L);
	else if (strcmp(q->method, "GET") == 0 && !q->has_body)
		SETOPT(CURLOPT_HTTPGET, 1L);
	else {
		if (strcmp(q->method, "POST") != 0)
			SETOPT(CURLOPT_CUSTOMREQUEST, q->method);
		if (q->has_body || strcmp(q->method, "POST") == 0) {
			SETOPT(CURLOPT_POSTFIELDSIZE_LARGE,
			    (curl_off_t)q->bodylen);
			SETOPT(CURLOPT_POSTFIELDS, q->body != NULL ? q->body :
			    "");
		}
	}
	switch (q->auth) {
	case HTTP_AUTH_BEARER:
	case HTTP_AUTH_OAUTH2:
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		SETOPT(CURLOPT_XOAUTH2_BEARER, q->bearer);
		break;
	case HTTP_AUTH_BASIC:
		SETOPT(CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		SETOPT(CURLOPT_USERNAME, q->user);
		SETOPT(CURLOPT_PASSWORD, q->secret);
		break;
	default:
		break;
	}

	t0 = nf_mono_ms();
	rc = curl_easy_perform(st->curl);
	(void)curl_easy_getinfo(st->curl, CURLINFO_RESPONSE_CODE, &r->status);
	if (rc == CURLE_OK) {
		(void)curl_easy_getinfo(st->curl, CURLINFO_EFFECTIVE_URL,
		    &eff);
		http_log(st, NF_LOG_INFO, "%s%s%s %s: status %ld, %lld bytes "
		    "in %lld ms", what, sep, q->method, q->shown, r->status,
		    (long long)r->bytes, (long long)(nf_mono_ms() - t0));
		return 0;
	}
	if (rc == CURLE_WRITE_ERROR && r->over_cap)
		return http_fail(st, "error", "%s%s%s %s: the response body is "
		    "larger than %lld bytes (status %ld); raise max_body_bytes "
		    "(at most %u) or stream it to a file with save_to", what,
		    sep, q->method, q->shown, (long long)r->cap, r->status,
		    NF_STEPTYPE_HTTP_MAX_BODY);
	if (rc == CURLE_WRITE_ERROR && r->write_errno != 0)
		return http_fail(st, "error", "%s%s%s %s: cannot write the body "
		    "to %s: %s", what, sep, q->method, q->shown, st->tmp_path,
		    strerror(r->write_errno));
	if (rc == CURLE_OPERATION_TIMEDOUT)
		return http_fail(st, "timeout", "%s%s%s %s: timed out after "
		    "%lld ms (%s; the limits are the step's timeout_seconds "
		    "and connect_timeout_seconds)", what, sep, q->method,
		    q->shown, (long long)(nf_mono_ms() - t0),
		    st->errbuf[0] != '\0' ? st->errbuf :
		    curl_easy_strerror(rc));
	if (rc == CURLE_PEER_FAILED_VERIFICATION)
		return http_fail(st, "error", "%s%s%s %s: the server's "
		    "certificate is not trusted: %s (trusted certificates: %s; "
		    "set ca_file to the server's CA, or insecure = true for "
		    "tests only)", what, sep, q->method, q->shown,
		    st->errbuf[0] != '\0' ? st->errbuf : curl_easy_strerror(rc),
		    st->ca_name != NULL ? st->ca_name : "none");
	return http_fail(st, "error", "%s%s%s %s: %s%s%s", what, sep,
	    q->method, q->shown, curl_easy_strerror(rc),
	    st->errbuf[0] != '\0' ? ": " : "", st->errbuf);

setopt_failed:
	return http_fail(st, "error", "%s%s%s %s: libcurl refused an option: "
	    "%s", what, sep, q->method, q->shown, curl_easy_strerror(rc));
}

/* Up to HTTP_EXCERPT bytes of a body for an error message. */
static void
http_excerpt(const struct nf_buf *b, struct nf_buf *out)
{
	size_t	n = b->len < HTTP_EXCERPT ? b->len : HTTP_EXCERPT, i;

	if (n == 0) {
		nf_buf_adds(out, "(empty)");
		return;
	}
	nf_buf_addc(out, '"');
	for (i = 0; i < n; i++)
		nf_buf_addc(out, b->data[i] == '\n' || b->data[i] == '\r' ?
		    ' ' : b->data[i]);
	if (b->len > n)
		nf_buf_adds(out, "...");
	nf_buf_addc(out, '"');
}

/* OAuth2 client credentials (RFC 6749 section 4.4): the access token. */
static int
http_fetch_token(struct http_state *st)
{
	struct http_req		 q;
	struct http_resp	 r;
	struct curl_slist	*h = NULL, *n;
	struct nf_buf		 body, ex;
	struct nf_val		*v;
	const char		*tok, *type, *e, *ed;
	char			*shown, err[256];
	int64_t			 exp;
	int			 rv = -1;

	nf_buf_init(&body);
	nf_buf_adds(&body, "grant_type=client_credentials");
	if (st->scope != NULL) {
		nf_buf_adds(&body, "&scope=");
		http_escape(st, &body, st->scope, strlen(st->scope));
	}
	if (st->client_auth_body) {
		nf_buf_adds(&body, "&client_id=");
		http_escape(st, &body, st->client_id, strlen(st->client_id));
		nf_buf_adds(&body, "&client_secret=");
		nf_buf_init(&ex);
		http_escape(st, &ex, st->client_secret,
		    strlen(st->client_secret));
		http_secret_add(st, ex.data, ex.len);
		nf_buf_add(&body, ex.data, ex.len);
		nf_buf_free(&ex);
	}
	if ((n = curl_slist_append(h, "Content-Type: "
	    "application/x-www-form-urlencoded")) == NULL ||
	    (h = n, n = curl_slist_append(h, "Accept: application/json")) ==
	    NULL || (h = n, n = curl_slist_append(h, "Expect:")) == NULL)
		nf_fatalx("curl_slist_append: out of memory");
	h = n;
	shown = nf_steptype_url_shown(st->token_url);

	memset(&q, 0, sizeof(q));
	q.what = "OAuth2 token request";
	q.method = "POST";
	q.url = st->token_url;
	q.shown = shown;
	q.hdrs = h;
	q.body = body.data;
	q.bodylen = body.len;
	q.has_body = 1;
	if (!st->client_auth_body) {
		q.auth = HTTP_AUTH_BASIC;
		q.user = st->client_id;
		q.secret = st->client_secret;
	}
	http_resp_init(&r, HTTP_TOKEN_MAX, -1, NULL);
	if (http_perform(st, &q, &r) == -1)
		goto out;
	v = nf_json_parse(r.body.data != NULL ? r.body.data : "", r.body.len,
	    4, 1000, err, sizeof(err));
	if (r.status < 200 || r.status > 299) {
		e = v != NULL ? nf_val_get_str(v, "error") : NULL;
		ed = v != NULL ? nf_val_get_str(v, "error_description") : NULL;
		nf_buf_init(&ex);
		http_excerpt(&r.body, &ex);
		if (e != NULL)
			http_fail(st, "error", "OAuth2 token request: POST %s "
			    "returned status %ld: %s%s%s", shown, r.status, e,
			    ed != NULL ? ": " : "", ed != NULL ? ed : "");
		else
			http_fail(st, "error", "OAuth2 token request: POST %s "
			    "returned status %ld; body: %s", shown, r.status,
			    ex.data);
		nf_buf_free(&ex);
		nf_val_free(v);
		goto out;
	}
	if (v == NULL || (tok = nf_val_get_str(v, "access_token")) == NULL ||
	    *tok == '\0') {
		http_fail(st, "error", "OAuth2 token request: POST %s: the "
		    "response has no access_token (%s)", shown, v == NULL ?
		    err : "a JSON object with a non-empty access_token string "
		    "was expected");
		nf_val_free(v);
		goto out;
	}
	type = nf_val_get_str(v, "token_type");
	if (type != NULL && strcasecmp(type, "bearer") != 0) {
		http_fail(st, "error", "OAuth2 token request: POST %s: "
		    "token_type is \"%s\"; only bearer tokens are supported",
		    shown, type);
		nf_val_free(v);
		goto out;
	}
	st->access_token = nf_xstrdup(tok);
	http_secret_add(st, tok, strlen(tok));
	if (nf_val_get_int(v, "expires_in", &exp))
		http_log(st, NF_LOG_INFO, "OAuth2 token obtained for client %s "
		    "(expires in %lld s)", st->client_id, (long long)exp);
	else
		http_log(st, NF_LOG_INFO, "OAuth2 token obtained for client "
		    "%s", st->client_id);
	nf_val_free(v);
	rv = 0;
out:
	http_resp_free(&r);
	curl_slist_free_all(h);
	nf_buf_free(&body);
	free(shown);
	return rv;
}

/* Is this Content-Type JSON ("application/json", "...+json")? */
static int
http_ctype_json(const char *ct)
{
	size_t	n;

	if (ct == NULL)
		return 0;
	n = strcspn(ct, "; \t");
	if (n == 16 && strncasecmp(ct, "application/json", 16) == 0)
		return 1;
	return n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0;
}

static int
http_run(struct nf_step_ctx *ctx)
{
	struct http_state	*st = ctx->data;
	struct http_req		 q;
	struct http_resp	 r;
	struct nf_val		*out, *json = NULL;
	struct nf_buf		 ex;
	const char		*p;
	char			*eff = NULL, *effshown, err[256];
	int			 looks;

	if (st->insecure)
		http_log(st, NF_LOG_WARN, "TLS verification is disabled "
		    "(insecure = true): the server's certificate and name are "
		    "not checked");
	if (st->auth == HTTP_AUTH_OAUTH2 && http_fetch_token(st) == -1) {
		http_drop_save(st);
		return -1;
	}

	memset(&q, 0, sizeof(q));
	q.method = st->method;
	q.url = st->url;
	q.shown = st->shown;
	q.hdrs = st->hdrs;
	q.body = st->body.data;
	q.bodylen = st->body.len;
	q.has_body = st->has_body;
	q.auth = st->auth;
	q.bearer = st->auth == HTTP_AUTH_OAUTH2 ? st->access_token :
	    st->token;
	q.user = st->username;
	q.secret = st->password;
	http_resp_init(&r, st->max_body, st->save_fd,
	    nf_val_get(ctx->spec, "output_headers"));
	if (http_perform(st, &q, &r) == -1) {
		http_resp_free(&r);
		http_drop_save(st);
		return -1;
	}
	if (!http_expected(st, r.status)) {
		nf_buf_init(&ex);
		http_excerpt(&r.body, &ex);
		http_fail(st, "error", "%s %s returned status %ld, expected "
		    "%s; body: %s", st->method, st->shown, r.status,
		    st->expect_text, ex.data);
		nf_buf_free(&ex);
		http_resp_free(&r);
		http_drop_save(st);
		return -1;
	}
	if (st->save_fd != -1) {
		if (fsync(st->save_fd) == -1 || close(st->save_fd) == -1) {
			st->save_fd = -1;
			http_fail(st, "error", "save_to %s: cannot write %s: %s",
			    st->save_to, st->tmp_path, strerror(errno));
			http_resp_free(&r);
			http_drop_save(st);
			return -1;
		}
		st->save_fd = -1;
		if (rename(st->tmp_path, st->save_to) == -1) {
			http_fail(st, "error", "save_to %s: cannot rename %s "
			    "to it: %s", st->save_to, st->tmp_path,
			    strerror(errno));
			http_resp_free(&r);
			http_drop_save(st);
			return -1;
		}
		http_term_unlink = NULL;
		free(st->tmp_path);
		st->tmp_path = NULL;
	}

	out = nf_val_map();
	nf_val_map_set_int(out, "status", r.status);
	(void)curl_easy_getinfo(st->curl, CURLINFO_EFFECTIVE_URL, &eff);
	effshown = nf_steptype_url_shown(eff != NULL ? eff : st->url);
	nf_val_map_set(out, "url", http_redact_str(st, effshown,
	    strlen(effshown)));
	free(effshown);
	http_redact_val(st, r.headers);
	nf_val_map_set(out, "headers", r.headers);
	r.headers = NULL;
	if (st->save_to != NULL)
		nf_val_map_set_str(out, "saved_to", st->save_to);
	else {
		for (p = r.body.data; p != NULL && p < r.body.data +
		    r.body.len && strchr(" \t\r\n", *p) != NULL; p++)
			;
		looks = p != NULL && p < r.body.data + r.body.len &&
		    (*p == '{' || *p == '[');
		if (r.body.len > 0 && (looks || http_ctype_json(r.ctype))) {
			json = nf_json_parse(r.body.data, r.body.len,
			    HTTP_JSON_DEPTH, HTTP_JSON_VALUES, err,
			    sizeof(err));
			if (json == NULL && http_ctype_json(r.ctype))
				http_log(st, NF_LOG_WARN, "%s %s: the body is "
				    "labelled %s but is not JSON the step can "
				    "use (%s); output.json is not set",
				    st->method, st->shown, r.ctype, err);
		}
		nf_val_map_set(out, "body", http_redact_str(st,
		    r.body.data != NULL ? r.body.data : "", r.body.len));
		if (json != NULL) {
			http_redact_val(st, json);
			nf_val_map_set(out, "json", json);
		}
	}
	nf_val_map_set_int(out, "bytes", r.bytes);
	http_resp_free(&r);
	nf_step_output(ctx, out);
	nf_step_result(ctx, nf_step_result_new(1, NULL, NULL));
	return 0;
}

const struct nf_step_impl nf_step_http = {
	"http", NULL, http_prepare, http_run
};
