/*
 * webui.c: the pages of the web UI.  Runs in nomaflowd, called by web.c
 * for every page request (web.c owns HTTP, sessions and the routes).
 *
 * Owns the server-side HTML of every page (login, jobs, job, schedule,
 * runs, run), built from the replies of the control commands run through
 * the request's fetch callback, so a page shows exactly what the caller may
 * see and nothing the control socket would not tell it.  Every page reads
 * without JavaScript; web/app.js enhances it (live updates, forms sent with
 * fetch).  Also hands out the embedded static files.
 *
 * Invariants: every byte of text that does not come from this file goes
 * into the page through esc() (text and attribute values alike, every
 * attribute double-quoted) or urlenc() (query strings); the pages carry no
 * inline script or style (the Content-Security-Policy forbids them); forms
 * that change something are POSTs carrying the session's csrf field.
 */
#include "autoconf.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "proto.h"
#include "util.h"
#include "val.h"
#include "webui.h"

/* Runs per page of the history. */
#define RUNS_PAGE	50
/* Fires on the schedule page, by default and at most. */
#define NEXT_DEFAULT	20
#define NEXT_MAX	200

/* Text. */

/* The one escape: text and double-quoted attribute values. */
static void
esc(struct nf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		switch (*s) {
		case '&':
			nf_buf_adds(b, "&amp;");
			break;
		case '<':
			nf_buf_adds(b, "&lt;");
			break;
		case '>':
			nf_buf_adds(b, "&gt;");
			break;
		case '"':
			nf_buf_adds(b, "&quot;");
			break;
		case '\'':
			nf_buf_adds(b, "&#39;");
			break;
		default:
			nf_buf_addc(b, *s);
		}
}

/* A query string value: only unreserved characters stay as they are. */
static void
urlenc(struct nf_buf *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		    (*s >= '0' && *s <= '9') || strchr("-_.~", *s) != NULL)
			nf_buf_addc(b, *s);
		else
			nf_buf_printf(b, "%%%02X", (unsigned char)*s);
}

/*
 * The value of key in a raw query string, decoded (%XX, '+' is a space),
 * into buf; NULL when absent or empty.
 */
static const char *
qget(const char *query, const char *key, char *buf, size_t len)
{
	const char	*p, *e, *v;
	size_t		 klen = strlen(key), n;
	int		 hi, lo;

	for (p = query; p != NULL && *p != '\0'; p = *e == '&' ? e + 1 : e) {
		e = p + strcspn(p, "&");
		if ((size_t)(e - p) <= klen || strncmp(p, key, klen) != 0 ||
		    p[klen] != '=')
			continue;
		for (n = 0, v = p + klen + 1; v < e && n + 1 < len; v++) {
			if (*v == '+')
				buf[n++] = ' ';
			else if (*v == '%' && e - v >= 3 &&
			    (hi = nf_hexval(v[1])) >= 0 &&
			    (lo = nf_hexval(v[2])) >= 0) {
				buf[n++] = (char)(hi << 4 | lo);
				v += 2;
			} else
				buf[n++] = *v;
		}
		buf[n] = '\0';
		if (strlen(buf) != n || n == 0)	/* %00, or empty */
			return NULL;
		return buf;
	}
	return NULL;
}

static const char *
vstr(const struct nf_val *m, const char *k)
{
	const char	*s;

	s = m != NULL && m->type == NF_V_MAP ? nf_val_get_str(m, k) : NULL;
	return s != NULL && *s != '\0' ? s : NULL;
}

static int
vint(const struct nf_val *m, const char *k, int64_t *out)
{
	return m != NULL && m->type == NF_V_MAP && nf_val_get_int(m, k, out);
}

static const struct nf_val *
varr(const struct nf_val *m, const char *k)
{
	const struct nf_val	*v;

	if (m == NULL || m->type != NF_V_MAP)
		return NULL;
	v = nf_val_get(m, k);
	return v != NULL && v->type == NF_V_ARR ? v : NULL;
}

/* Does the array of strings a hold s? */
static int
has_str(const struct nf_val *a, const char *s)
{
	size_t	i;

	for (i = 0; a != NULL && i < a->u.a.n; i++)
		if (a->u.a.items[i]->type == NF_V_STR &&
		    strcmp(a->u.a.items[i]->u.s.p, s) == 0)
			return 1;
	return 0;
}

/* Any value as text for a cell (caller frees). */
static char *
val_text(const struct nf_val *v)
{
	if (v == NULL)
		return nf_xstrdup("");
	switch (v->type) {
	case NF_V_NIL:
		return nf_xstrdup("");
	case NF_V_BOOL:
		return nf_xstrdup(v->u.b ? "true" : "false");
	case NF_V_INT:
		return nf_xprintf("%" PRId64, v->u.i);
	case NF_V_FLOAT:
		return nf_xprintf("%g", v->u.f);
	case NF_V_STR:
		return nf_xstrdup(v->u.s.p);
	default:
		return nf_json_text(v, -1);
	}
}

/*
 * A time in ms: <time> with the instant in UTC; app.js rewrites the text
 * into the browser's zone.  clock: only the time of day, with ms.
 */
static void
put_time(struct nf_buf *b, int64_t ms, int clock)
{
	struct tm	tm;
	time_t		t = (time_t)(ms / 1000);
	char		iso[40], txt[40];

	if (gmtime_r(&t, &tm) == NULL) {
		nf_buf_adds(b, "-");
		return;
	}
	nf_fmt_time_utc(ms, iso, sizeof(iso));
	if (clock)
		snprintf(txt, sizeof(txt), "%02d:%02d:%02d.%03d", tm.tm_hour,
		    tm.tm_min, tm.tm_sec, (int)(ms % 1000));
	else
		strftime(txt, sizeof(txt), "%Y-%m-%d %H:%M:%S UTC", &tm);
	nf_buf_printf(b, "<time datetime=\"%s\"%s>%s</time>", iso,
	    clock ? " data-clock=\"1\"" : "", txt);
}

static void
put_time_key(struct nf_buf *b, const struct nf_val *m, const char *k)
{
	int64_t	t;

	if (vint(m, k, &t))
		put_time(b, t, 0);
	else
		nf_buf_adds(b, "-");
}

/* Duration between two ms keys; a missing end means "until now". */
static void
put_span(struct nf_buf *b, const struct nf_val *m, const char *from,
    const char *to)
{
	char	buf[32];
	int64_t	a, e;

	if (!vint(m, from, &a)) {
		nf_buf_adds(b, "-");
		return;
	}
	if (!vint(m, to, &e))
		e = nf_now_ms();
	nf_fmt_duration(e - a, buf, sizeof(buf));
	nf_buf_adds(b, buf);
}

/* A run or attempt state: text, with a class for its colour. */
static void
put_state(struct nf_buf *b, const char *state)
{
	if (state == NULL)
		state = "unknown";
	nf_buf_adds(b, "<span class=\"state st-");
	esc(b, state);
	nf_buf_adds(b, "\">");
	esc(b, state);
	nf_buf_adds(b, "</span>");
}

/* Schedules in words. */

static int
all_digits(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static const char *const day_names[] = { "Sunday", "Monday", "Tuesday",
    "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" };
static const char *const month_names[] = { "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October",
    "November", "December" };

/* A day of week (0-7 or a name) as its index 0-6, or -1. */
static int
dow_index(const char *s)
{
	static const char *const abbr[] = { "sun", "mon", "tue", "wed", "thu",
	    "fri", "sat" };
	size_t	i;

	if (all_digits(s) && strlen(s) == 1 && *s <= '7')
		return (*s - '0') % 7;
	for (i = 0; i < NF_NELEM(abbr); i++)
		if (strcasecmp(s, abbr[i]) == 0)
			return (int)i;
	return -1;
}

/* "a", "a and b", "a, b and c" of the comma list s mapped by fn; -1: no. */
static int
list_words(const char *s, int (*fn)(const char *, struct nf_buf *),
    struct nf_buf *b)
{
	char	*copy, *tok, *save = NULL;
	char	*items[16];
	size_t	 n = 0, i;
	int	 rc = 0;

	copy = nf_xstrdup(s);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == NF_NELEM(items)) {
			rc = -1;
			break;
		}
		items[n++] = tok;
	}
	for (i = 0; rc == 0 && i < n; i++) {
		if (i > 0)
			nf_buf_adds(b, i + 1 == n ? " and " : ", ");
		rc = fn(items[i], b);
	}
	free(copy);
	return n == 0 ? -1 : rc;
}

static int
dow_word(const char *s, struct nf_buf *b)
{
	int	d;

	if ((d = dow_index(s)) == -1)
		return -1;
	nf_buf_adds(b, day_names[d]);
	return 0;
}

static const char *cur_minute;	/* list_words() callback context */

static int
hour_word(const char *s, struct nf_buf *b)
{
	if (!all_digits(s) || atoi(s) > 23)
		return -1;
	nf_buf_printf(b, "%02d:%02d", atoi(s), atoi(cur_minute));
	return 0;
}

/* The day part of m h DOM MON DOW with the time words t; -1: none. */
static int
day_words(const char *dom, const char *mon, const char *dow, const char *t,
    struct nf_buf *b)
{
	int	m;

	if (strcmp(mon, "*") == 0 && strcmp(dow, "*") == 0) {
		if (strcmp(dom, "*") == 0)
			nf_buf_printf(b, "every day at %s", t);
		else if (all_digits(dom) && atoi(dom) >= 1 && atoi(dom) <= 31)
			nf_buf_printf(b, "on day %d of every month at %s",
			    atoi(dom), t);
		else if (strcasecmp(dom, "L") == 0)
			nf_buf_printf(b, "on the last day of every month "
			    "at %s", t);
		else
			return -1;
		return 0;
	}
	if (strcmp(dom, "*") == 0 && strcmp(mon, "*") == 0) {
		if (strcmp(dow, "1-5") == 0 || strcasecmp(dow, "mon-fri") == 0)
			nf_buf_printf(b, "every weekday (Monday to Friday) at "
			    "%s", t);
		else if (strcmp(dow, "0,6") == 0 || strcmp(dow, "6,0") == 0 ||
		    strcasecmp(dow, "sat,sun") == 0)
			nf_buf_printf(b, "every Saturday and Sunday at %s", t);
		else {
			nf_buf_adds(b, "every ");
			if (list_words(dow, dow_word, b) == -1)
				return -1;
			nf_buf_printf(b, " at %s", t);
		}
		return 0;
	}
	if (strcmp(dow, "*") == 0 && all_digits(dom) && all_digits(mon) &&
	    (m = atoi(mon)) >= 1 && m <= 12 && atoi(dom) >= 1 &&
	    atoi(dom) <= 31) {
		nf_buf_printf(b, "every year on %d %s at %s", atoi(dom),
		    month_names[m - 1], t);
		return 0;
	}
	return -1;
}

static int
cron_words(const char *expr, struct nf_buf *b)
{
	static const struct {
		const char	*macro, *words;
	} macros[] = {
		{ "@hourly", "every hour" },
		{ "@daily", "every day at 00:00" },
		{ "@midnight", "every day at 00:00" },
		{ "@weekly", "every Sunday at 00:00" },
		{ "@monthly", "on day 1 of every month at 00:00" },
		{ "@yearly", "every year on 1 January at 00:00" },
		{ "@annually", "every year on 1 January at 00:00" },
	};
	char		*copy, *f[7], *save = NULL, *tok, t[16];
	const char	*m, *h;
	struct nf_buf	 hours;
	size_t		 n = 0, i;
	int		 rc = -1;

	for (i = 0; i < NF_NELEM(macros); i++)
		if (strcasecmp(expr, macros[i].macro) == 0) {
			nf_buf_adds(b, macros[i].words);
			return 0;
		}
	if (strncasecmp(expr, "@every ", 7) == 0) {
		nf_buf_adds(b, "every ");
		nf_buf_adds(b, expr + 7);
		return 0;
	}
	copy = nf_xstrdup(expr);
	for (tok = strtok_r(copy, " \t", &save); tok != NULL && n < 7;
	    tok = strtok_r(NULL, " \t", &save))
		f[n++] = tok;
	if (tok != NULL || (n != 5 && n != 6))
		goto out;
	if (n == 6) {			/* seconds first */
		if (strcmp(f[0], "0") != 0)
			goto out;
		for (i = 0; i < 5; i++)
			f[i] = f[i + 1];
	}
	m = f[0];
	h = f[1];
	if (strcmp(f[2], "*") == 0 && strcmp(f[3], "*") == 0 &&
	    strcmp(f[4], "*") == 0) {
		if (strcmp(m, "*") == 0 && strcmp(h, "*") == 0) {
			nf_buf_adds(b, "every minute");
			rc = 0;
		} else if (strncmp(m, "*/", 2) == 0 && all_digits(m + 2) &&
		    strcmp(h, "*") == 0) {
			nf_buf_printf(b, "every %d minutes", atoi(m + 2));
			rc = 0;
		} else if (all_digits(m) && atoi(m) < 60 &&
		    strcmp(h, "*") == 0) {
			if (atoi(m) == 0)
				nf_buf_adds(b, "every hour");
			else
				nf_buf_printf(b, "every hour at minute %d",
				    atoi(m));
			rc = 0;
		} else if (all_digits(m) && atoi(m) < 60 &&
		    strncmp(h, "*/", 2) == 0 && all_digits(h + 2)) {
			nf_buf_printf(b, "every %d hours", atoi(h + 2));
			if (atoi(m) != 0)
				nf_buf_printf(b, " at minute %d", atoi(m));
			rc = 0;
		}
		if (rc == 0)
			goto out;
	}
	if (!all_digits(m) || atoi(m) > 59)
		goto out;
	if (all_digits(h) && atoi(h) <= 23) {
		snprintf(t, sizeof(t), "%02d:%02d", atoi(h), atoi(m));
		rc = day_words(f[2], f[3], f[4], t, b);
	} else if (strchr(h, ',') != NULL) {
		nf_buf_init(&hours);
		cur_minute = m;
		if (list_words(h, hour_word, &hours) == 0)
			rc = day_words(f[2], f[3], f[4], hours.data, b);
		nf_buf_free(&hours);
	}
out:
	free(copy);
	return rc;
}

void
nf_webui_cron_words(const char *expr, char *buf, size_t len)
{
	struct nf_buf	b;

	nf_buf_init(&b);
	if (expr == NULL)
		nf_buf_adds(&b, "manual runs only");
	else if (cron_words(expr, &b) == -1) {
		nf_buf_reset(&b);
		nf_buf_adds(&b, expr);
	}
	snprintf(buf, len, "%s", b.data != NULL ? b.data : "");
	nf_buf_free(&b);
}

/* Assets. */

const unsigned char *
nf_webui_asset(const char *name, size_t *len, const char **type)
{
	const struct nf_webui_file	*f;

	for (f = nf_webui_files; name != NULL && f->name != NULL; f++)
		if (strcmp(f->name, name) == 0) {
			*len = f->len;
			*type = f->type;
			return f->data;
		}
	return NULL;
}

/* The version of the assets in their URLs: FNV-1a of their bytes. */
static uint32_t
asset_version(void)
{
	static uint32_t			 v;
	const struct nf_webui_file	*f;
	size_t				 i;

	if (v != 0)
		return v;
	v = 2166136261u;
	for (f = nf_webui_files; f->name != NULL; f++)
		for (i = 0; i < f->len; i++)
			v = (v ^ f->data[i]) * 16777619u;
	if (v == 0)
		v = 1;
	return v;
}

/* Page frame. */

struct page {
	const struct nf_webui_req *req;
	struct nf_buf		  *out;
};

static void
page_head(struct page *p, const char *title, const char *nav)
{
	struct nf_buf	*b = p->out;
	uint32_t	 v = asset_version();

	nf_buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width, "
	    "initial-scale=1\">\n<title>");
	esc(b, title);
	nf_buf_adds(b, " · Nomaflow</title>\n");
	if (p->req->csrf != NULL) {
		nf_buf_adds(b, "<meta name=\"csrf-token\" content=\"");
		esc(b, p->req->csrf);
		nf_buf_adds(b, "\">\n");
	}
	nf_buf_adds(b, "<link rel=\"icon\" href=\"data:,\">\n");
	nf_buf_printf(b, "<link rel=\"stylesheet\" href=\"/static/app.css"
	    "?v=%08x\">\n<script src=\"/static/app.js?v=%08x\" defer>"
	    "</script>\n</head>\n<body>\n", v, v);
	nf_buf_adds(b, "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
	    "<header class=\"top\">\n<a class=\"brand\" href=\"/jobs\">"
	    "Nomaflow</a>\n");
	if (p->req->user != NULL) {
		nf_buf_printf(b, "<nav aria-label=\"Main\"><ul>\n"
		    "<li><a href=\"/jobs\"%s>Jobs</a></li>\n"
		    "<li><a href=\"/runs\"%s>Runs</a></li>\n</ul></nav>\n",
		    strcmp(nav, "jobs") == 0 ? " aria-current=\"page\"" : "",
		    strcmp(nav, "runs") == 0 ? " aria-current=\"page\"" : "");
		nf_buf_adds(b, "<form class=\"logout\" method=\"post\" "
		    "action=\"/api/logout\" data-api=\"logout\">\n"
		    "<span class=\"who\">Signed in as <strong>");
		esc(b, p->req->user);
		nf_buf_adds(b, "</strong></span>\n");
		nf_buf_adds(b, "<input type=\"hidden\" name=\"csrf\" value=\"");
		esc(b, p->req->csrf);
		nf_buf_adds(b, "\">\n<input type=\"hidden\" name=\"next\" "
		    "value=\"/login\">\n<button type=\"submit\">Sign out"
		    "</button>\n</form>\n");
	}
	nf_buf_adds(b, "</header>\n<main id=\"main\">\n");
}

static void
page_foot(struct page *p)
{
	nf_buf_adds(p->out, "</main>\n</body>\n</html>\n");
}

/* The HTTP status of a control reply's code. */
static int
http_status(int code)
{
	switch (code) {
	case NF_EXIT_USAGE:
		return 400;
	case NF_EXIT_NOTFOUND:
		return 404;
	case NF_EXIT_PERM:
		return 403;
	case NF_EXIT_CONFLICT:
		return 409;
	default:
		return 500;
	}
}

/* A whole error page; returns status. */
static int
error_page(struct page *p, int status, const char *msg)
{
	const char	*title;

	switch (status) {
	case 400:
		title = "Bad request";
		break;
	case 401:
		title = "Sign in first";
		break;
	case 403:
		title = "Not allowed";
		break;
	case 404:
		title = "Not found";
		break;
	case 409:
		title = "Conflict";
		break;
	default:
		title = "Error";
	}
	nf_buf_reset(p->out);
	page_head(p, title, "");
	nf_buf_adds(p->out, "<h1>");
	esc(p->out, title);
	nf_buf_adds(p->out, "</h1>\n<p class=\"error\">");
	esc(p->out, msg);
	nf_buf_adds(p->out, "</p>\n<p><a href=\"/jobs\">Back to the jobs</a>"
	    "</p>\n");
	page_foot(p);
	return status;
}

/* Run a command; on error *status is the HTTP status, err the message. */
static struct nf_val *
call(struct page *p, const char *cmd, struct nf_val *args, int *status,
    char *err, size_t errlen)
{
	struct nf_val	*r;
	int		 code = NF_EXIT_FAILED;

	err[0] = '\0';
	r = p->req->fetch(p->req->arg, cmd, args, &code, err, errlen);
	nf_val_free(args);
	if (r == NULL) {
		*status = http_status(code);
		if (err[0] == '\0')
			snprintf(err, errlen, "%s failed", cmd);
	}
	return r;
}

/* The hidden csrf field of a POST form. */
static void
csrf_field(struct page *p)
{
	nf_buf_adds(p->out, "<input type=\"hidden\" name=\"csrf\" value=\"");
	esc(p->out, p->req->csrf);
	nf_buf_adds(p->out, "\">\n");
}

/*
 * Where web.c sends a browser without JavaScript after its form post (a
 * 303 to this local path); app.js sends the forms itself and goes on from
 * the reply.
 */
static void
next_field(struct page *p, const char *next)
{
	nf_buf_adds(p->out, "<input type=\"hidden\" name=\"next\" value=\"");
	esc(p->out, next);
	nf_buf_adds(p->out, "\">\n");
}

/*
 * A one-button POST form to an API route; app.js sends it with fetch
 * (data-api names the action), a browser without JavaScript posts it and
 * comes back to next.  what (or NULL) completes the label for a screen
 * reader, where the row around the button is not seen ("Disable" what).
 */
static void
button_form(struct page *p, const char *action, const char *api,
    const char *label, const char *cls, const char *next, const char *what)
{
	nf_buf_adds(p->out, "<form class=\"inline\" method=\"post\" "
	    "action=\"");
	esc(p->out, action);
	nf_buf_adds(p->out, "\" data-api=\"");
	esc(p->out, api);
	nf_buf_adds(p->out, "\">\n");
	csrf_field(p);
	next_field(p, next);
	nf_buf_printf(p->out, "<button type=\"submit\" class=\"%s\">", cls);
	esc(p->out, label);
	if (what != NULL) {
		nf_buf_adds(p->out, "<span class=\"sr\"> ");
		esc(p->out, what);
		nf_buf_adds(p->out, "</span>");
	}
	nf_buf_adds(p->out, "</button>\n<span class=\"form-error\" "
	    "role=\"alert\"></span>\n</form>\n");
}

/* Login. */

static int
page_login(struct page *p)
{
	struct nf_buf	*b = p->out;
	char		 buf[64], nbuf[512];
	const char	*v, *next;

	page_head(p, "Sign in", "");
	nf_buf_adds(b, "<h1>Sign in</h1>\n");
	/* web.c's answers to a form login: ?error=bad|missing|rate&retry=N */
	if ((v = qget(p->req->query, "error", buf, sizeof(buf))) != NULL) {
		nf_buf_adds(b, "<p class=\"error\" role=\"alert\">");
		if (strcmp(v, "rate") == 0) {
			v = qget(p->req->query, "retry", buf, sizeof(buf));
			nf_buf_printf(b, "Too many attempts: try again in %s "
			    "seconds.", v != NULL && all_digits(v) ? v :
			    "a few");
		} else if (strcmp(v, "missing") == 0)
			nf_buf_adds(b, "Give a user name and a password.");
		else
			nf_buf_adds(b, "Wrong user name or password.");
		nf_buf_adds(b, "</p>\n");
	}
	if (p->req->user != NULL) {
		nf_buf_adds(b, "<p>You are signed in as <strong>");
		esc(b, p->req->user);
		nf_buf_adds(b, "</strong>. <a href=\"/jobs\">Go to the jobs"
		    "</a></p>\n");
	}
	/* Back where the sign-in was asked for: a path of ours only. */
	next = qget(p->req->query, "next", nbuf, sizeof(nbuf));
	if (next == NULL || next[0] != '/' || next[1] == '/' ||
	    next[1] == '\\')
		next = "/jobs";
	nf_buf_adds(b, "<form class=\"login\" method=\"post\" "
	    "action=\"/api/login\" data-api=\"login\">\n");
	next_field(p, next);
	nf_buf_adds(b, "<p><label for=\"login-user\">User name</label>\n"
	    "<input id=\"login-user\" name=\"user\" autocomplete=\"username\" "
	    "required autofocus></p>\n"
	    "<p><label for=\"login-password\">Password</label>\n"
	    "<input id=\"login-password\" name=\"password\" type=\"password\" "
	    "autocomplete=\"current-password\" required></p>\n"
	    "<p class=\"form-error\" role=\"alert\"></p>\n"
	    "<p><button type=\"submit\">Sign in</button></p>\n</form>\n");
	page_foot(p);
	return 0;
}

/* Jobs. */

static void
put_tags(struct page *p, const struct nf_val *tags)
{
	size_t	i;

	if (tags == NULL || tags->u.a.n == 0)
		return;
	nf_buf_adds(p->out, "<ul class=\"tags\" aria-label=\"Tags\">");
	for (i = 0; i < tags->u.a.n; i++) {
		if (tags->u.a.items[i]->type != NF_V_STR)
			continue;
		nf_buf_adds(p->out, "<li><a href=\"/jobs?tag=");
		urlenc(p->out, tags->u.a.items[i]->u.s.p);
		nf_buf_adds(p->out, "\">");
		esc(p->out, tags->u.a.items[i]->u.s.p);
		nf_buf_adds(p->out, "</a></li>");
	}
	nf_buf_adds(p->out, "</ul>");
}

static void
put_schedule(struct page *p, const char *expr)
{
	char	words[256];

	nf_webui_cron_words(expr, words, sizeof(words));
	esc(p->out, words);
	if (expr != NULL && strcmp(words, expr) != 0) {
		nf_buf_adds(p->out, " <code class=\"expr\">");
		esc(p->out, expr);
		nf_buf_adds(p->out, "</code>");
	}
}

/* The last run cell: its state linked to the run, or "never". */
static void
put_last_run(struct page *p, const struct nf_val *job)
{
	const struct nf_val	*lr = nf_val_get(job, "last_run");
	int64_t			 id;

	if (lr == NULL || !vint(lr, "id", &id)) {
		nf_buf_adds(p->out, "never");
		return;
	}
	nf_buf_printf(p->out, "<a href=\"/runs/%" PRId64 "\">", id);
	put_state(p->out, vstr(lr, "state"));
	nf_buf_printf(p->out, " <span class=\"runid\">#%" PRId64 "</span></a>",
	    id);
}

static void
enable_form(struct page *p, const char *id, int enabled, const char *next)
{
	struct nf_buf	a;

	nf_buf_init(&a);
	nf_buf_adds(&a, "/api/jobs/");
	urlenc(&a, id);
	nf_buf_adds(&a, enabled ? "/disable" : "/enable");
	button_form(p, a.data, enabled ? "disable" : "enable",
	    enabled ? "Disable" : "Enable", "secondary", next, id);
	nf_buf_free(&a);
}

static void
job_row(struct page *p, const struct nf_val *j)
{
	struct nf_buf		*b = p->out;
	const char		*id = vstr(j, "id");
	const struct nf_val	*may = varr(j, "may");
	int64_t			 t;
	int			 en = 0;

	if (id == NULL)
		return;
	nf_val_get_bool(j, "enabled", &en);
	nf_buf_adds(b, "<tr data-job=\"");
	esc(b, id);
	nf_buf_adds(b, "\">\n<th scope=\"row\"><a href=\"/jobs/");
	urlenc(b, id);
	nf_buf_adds(b, "\">");
	esc(b, id);
	nf_buf_adds(b, "</a>");
	if (vstr(j, "description") != NULL) {
		nf_buf_adds(b, "<div class=\"desc\">");
		esc(b, vstr(j, "description"));
		nf_buf_adds(b, "</div>");
	}
	nf_buf_adds(b, "</th>\n<td>");
	put_tags(p, varr(j, "tags"));
	nf_buf_adds(b, "</td>\n<td>");
	put_schedule(p, vstr(j, "schedule"));
	nf_buf_adds(b, "</td>\n<td>");
	if (vint(j, "next_fire", &t))
		put_time(b, t, 0);
	else
		nf_buf_adds(b, "-");
	nf_buf_adds(b, "</td>\n<td class=\"last\">");
	put_last_run(p, j);
	nf_buf_printf(b, "</td>\n<td>%s", en ? "enabled" :
	    "<strong>disabled</strong>");
	if (has_str(may, "enable"))
		enable_form(p, id, en, "/jobs");
	nf_buf_adds(b, "</td>\n<td>");
	if (has_str(may, "run")) {
		nf_buf_adds(b, "<a class=\"button run\" href=\"/jobs/");
		urlenc(b, id);
		nf_buf_adds(b, "#run\">▶ Run now<span class=\"sr\"> ");
		esc(b, id);
		nf_buf_adds(b, "</span></a>");
	}
	nf_buf_adds(b, "</td>\n</tr>\n");
}

static int
page_jobs(struct page *p)
{
	struct nf_buf		*b = p->out;
	struct nf_val		*jobs, *all = NULL, *args;
	const struct nf_val	*tags;
	char			 err[512], sbuf[256], tbuf[256];
	const char		*search, *tag;
	int			 status;
	size_t			 i, k, n;
	char			**seen = NULL;
	size_t			 nseen = 0;

	search = qget(p->req->query, "search", sbuf, sizeof(sbuf));
	tag = qget(p->req->query, "tag", tbuf, sizeof(tbuf));
	args = nf_val_map();
	if (search != NULL)
		nf_val_map_set_str(args, "search", search);
	if (tag != NULL)
		nf_val_map_set_str(args, "tag", tag);
	if ((jobs = call(p, "jobs", args, &status, err, sizeof(err))) ==
	    NULL)
		return error_page(p, status, err);
	/* The tag choices come from every job, not only the matching ones. */
	if (search != NULL || tag != NULL)
		all = call(p, "jobs", NULL, &status, err, sizeof(err));
	page_head(p, "Jobs", "jobs");
	nf_buf_adds(b, "<h1>Jobs</h1>\n<form class=\"filters\" method=\"get\" "
	    "action=\"/jobs\" role=\"search\">\n<p><label for=\"f-search\">"
	    "Search</label>\n<input id=\"f-search\" name=\"search\" "
	    "type=\"search\" value=\"");
	esc(b, search);
	nf_buf_adds(b, "\"></p>\n<p><label for=\"f-tag\">Tag</label>\n"
	    "<select id=\"f-tag\" name=\"tag\">\n<option value=\"\">"
	    "any</option>\n");
	for (i = 0; all != NULL ? i < all->u.a.n : jobs->type == NF_V_ARR &&
	    i < jobs->u.a.n; i++) {
		tags = varr((all != NULL ? all : jobs)->u.a.items[i], "tags");
		for (k = 0; tags != NULL && k < tags->u.a.n; k++) {
			if (tags->u.a.items[k]->type != NF_V_STR)
				continue;
			for (n = 0; n < nseen; n++)
				if (strcmp(seen[n], tags->u.a.items[k]->u.s.p)
				    == 0)
					break;
			if (n < nseen)
				continue;
			seen = nf_xreallocarray(seen, nseen + 1,
			    sizeof(*seen));
			seen[nseen++] = tags->u.a.items[k]->u.s.p;
			nf_buf_adds(b, "<option");
			if (tag != NULL && strcmp(tag, seen[n]) == 0)
				nf_buf_adds(b, " selected");
			nf_buf_adds(b, ">");
			esc(b, seen[n]);
			nf_buf_adds(b, "</option>\n");
		}
	}
	free(seen);
	nf_buf_adds(b, "</select></p>\n<p><button type=\"submit\">Filter"
	    "</button></p>\n</form>\n");
	if (jobs->type != NF_V_ARR || jobs->u.a.n == 0)
		nf_buf_adds(b, "<p>No job matches.</p>\n");
	else {
		nf_buf_adds(b, "<table class=\"jobs\" data-live=\"jobs\">\n"
		    "<caption>Jobs you may view</caption>\n<thead><tr>"
		    "<th scope=\"col\">Job</th><th scope=\"col\">Tags</th>"
		    "<th scope=\"col\">Schedule</th>"
		    "<th scope=\"col\">Next fire</th>"
		    "<th scope=\"col\">Last run</th>"
		    "<th scope=\"col\">Enabled</th>"
		    "<th scope=\"col\"><span class=\"sr\">Actions</span></th>"
		    "</tr></thead>\n<tbody>\n");
		for (i = 0; i < jobs->u.a.n; i++)
			job_row(p, jobs->u.a.items[i]);
		nf_buf_adds(b, "</tbody>\n</table>\n");
	}
	page_foot(p);
	nf_val_free(jobs);
	nf_val_free(all);
	return 0;
}

/* One job. */

/* The input of one param of the Run-now form. */
static void
param_input(struct page *p, const char *name, const struct nf_val *def,
    int required, int secret)
{
	struct nf_buf	*b = p->out;
	const char	*type = "text", *what = "text";
	char		*dtext;

	if (def != NULL)
		switch (def->type) {
		case NF_V_BOOL:
			what = "true or false";
			break;
		case NF_V_INT:
			type = "number";
			what = "integer";
			break;
		case NF_V_FLOAT:
			type = "number";
			what = "number";
			break;
		case NF_V_ARR:
		case NF_V_MAP:
			what = "JSON";
			break;
		default:
			break;
		}
	if (secret)
		type = "password";
	nf_buf_adds(b, "<p class=\"field\"><label for=\"p-");
	esc(b, name);
	nf_buf_adds(b, "\">");
	esc(b, name);
	nf_buf_printf(b, " <span class=\"hint\">(%s%s%s)</span></label>\n",
	    what, required ? ", required" : "", secret ? ", secret" : "");
	dtext = def != NULL && !secret ? val_text(def) : NULL;
	if (def != NULL && def->type == NF_V_BOOL) {
		nf_buf_adds(b, "<select id=\"p-");
		esc(b, name);
		nf_buf_adds(b, "\" name=\"p.");
		esc(b, name);
		nf_buf_adds(b, "\">\n<option value=\"\">default (");
		esc(b, dtext);
		nf_buf_adds(b, ")</option>\n<option>true</option>\n"
		    "<option>false</option>\n</select></p>\n");
		free(dtext);
		return;
	}
	/*
	 * Empty fields are not sent: the default (or the preset's value)
	 * applies, so the default is a placeholder, not a value.
	 */
	nf_buf_printf(b, "<input id=\"p-");
	esc(b, name);
	nf_buf_printf(b, "\" name=\"p.");
	esc(b, name);
	nf_buf_printf(b, "\" type=\"%s\"", type);
	if (def != NULL && def->type == NF_V_INT)
		nf_buf_adds(b, " step=\"1\"");
	else if (def != NULL && def->type == NF_V_FLOAT)
		nf_buf_adds(b, " step=\"any\"");
	if (secret)
		nf_buf_adds(b, " autocomplete=\"off\"");
	if (required)
		nf_buf_adds(b, " required");
	if (dtext != NULL && *dtext != '\0') {
		nf_buf_adds(b, " placeholder=\"");
		esc(b, dtext);
		nf_buf_adds(b, "\"");
	}
	nf_buf_adds(b, "></p>\n");
	free(dtext);
}

static void
run_form(struct page *p, const struct nf_val *j, const char *id)
{
	struct nf_buf		*b = p->out;
	const struct nf_val	*params = nf_val_get(j, "params");
	const struct nf_val	*req = varr(j, "required_params");
	const struct nf_val	*sec = varr(j, "secret_params");
	const struct nf_val	*presets = varr(j, "presets");
	const char		*name;
	size_t			 i;

	nf_buf_adds(b, "<section id=\"run\" aria-labelledby=\"run-h\">\n"
	    "<h2 id=\"run-h\">Run now</h2>\n<form class=\"run-form\" "
	    "method=\"post\" action=\"/api/jobs/");
	urlenc(b, id);
	nf_buf_adds(b, "/run\" data-api=\"run\">\n");
	csrf_field(p);
	/* Without JavaScript: the job's runs, the new one first. */
	nf_buf_adds(b, "<input type=\"hidden\" name=\"next\" "
	    "value=\"/runs?job=");
	urlenc(b, id);
	nf_buf_adds(b, "\">\n");
	if (params != NULL && params->type == NF_V_MAP)
		for (i = 0; i < params->u.m.n; i++)
			param_input(p, params->u.m.kv[i].key,
			    params->u.m.kv[i].val, 0,
			    has_str(sec, params->u.m.kv[i].key));
	for (i = 0; req != NULL && i < req->u.a.n; i++) {
		if (req->u.a.items[i]->type != NF_V_STR)
			continue;
		name = req->u.a.items[i]->u.s.p;
		if (params == NULL || nf_val_get(params, name) == NULL)
			param_input(p, name, NULL, 1, has_str(sec, name));
	}
	if (presets != NULL && presets->u.a.n > 0) {
		nf_buf_adds(b, "<p class=\"field\"><label for=\"run-preset\">"
		    "Preset</label>\n<select id=\"run-preset\" "
		    "name=\"preset\">\n<option value=\"\">none</option>\n");
		for (i = 0; i < presets->u.a.n; i++) {
			if ((name = vstr(presets->u.a.items[i], "name")) ==
			    NULL)
				continue;
			nf_buf_adds(b, "<option>");
			esc(b, name);
			nf_buf_adds(b, "</option>\n");
		}
		nf_buf_adds(b, "</select></p>\n");
	}
	nf_buf_adds(b, "<p class=\"field check\"><input id=\"run-force\" "
	    "name=\"force\" type=\"checkbox\" value=\"true\">\n<label "
	    "for=\"run-force\">Run even if a run of this job is active"
	    "</label></p>\n<p class=\"form-error\" role=\"alert\"></p>\n"
	    "<p><button type=\"submit\" class=\"run\">▶ Run now</button>"
	    "</p>\n"
	    "</form>\n</section>\n");
}

/* "label: value" of a detail list, value escaped. */
static void
dl_item(struct nf_buf *b, const char *label, const char *value)
{
	nf_buf_adds(b, "<dt>");
	esc(b, label);
	nf_buf_adds(b, "</dt><dd>");
	esc(b, value != NULL ? value : "-");
	nf_buf_adds(b, "</dd>\n");
}

static int
page_job(struct page *p, const char *id)
{
	struct nf_buf		*b = p->out, next;
	struct nf_val		*j, *args;
	const struct nf_val	*steps, *presets, *nexts, *s, *rt;
	char			 err[512], *txt;
	int64_t			 t;
	int			 status, en = 0;
	size_t			 i;

	args = nf_val_map();
	nf_val_map_set_str(args, "id", id);
	if ((j = call(p, "job.show", args, &status, err, sizeof(err))) ==
	    NULL)
		return error_page(p, status, err);
	nf_val_get_bool(j, "enabled", &en);
	page_head(p, id, "jobs");
	nf_buf_adds(b, "<h1>Job <span class=\"name\">");
	esc(b, id);
	nf_buf_adds(b, "</span></h1>\n");
	if (vstr(j, "description") != NULL) {
		nf_buf_adds(b, "<p class=\"desc\">");
		esc(b, vstr(j, "description"));
		nf_buf_adds(b, "</p>\n");
	}
	nf_buf_adds(b, "<dl class=\"facts\" data-job=\"");
	esc(b, id);
	nf_buf_adds(b, "\">\n<dt>Schedule</dt><dd>");
	put_schedule(p, vstr(j, "schedule"));
	if (vstr(j, "schedule") != NULL) {
		nf_buf_adds(b, " (");
		esc(b, vstr(j, "timezone"));
		nf_buf_adds(b, ") <a href=\"/jobs/");
		urlenc(b, id);
		nf_buf_adds(b, "/schedule\">next fires</a>");
	}
	nf_buf_printf(b, "</dd>\n<dt>Enabled</dt><dd>%s", en ? "yes" : "no");
	if (has_str(varr(j, "may"), "enable")) {
		nf_buf_init(&next);
		nf_buf_adds(&next, "/jobs/");
		urlenc(&next, id);
		enable_form(p, id, en, next.data);
		nf_buf_free(&next);
	}
	nf_buf_adds(b, "</dd>\n<dt>Next fire</dt><dd>");
	if (vint(j, "next_fire", &t))
		put_time(b, t, 0);
	else
		nf_buf_adds(b, "-");
	nf_buf_adds(b, "</dd>\n<dt>Last run</dt><dd class=\"last\">");
	put_last_run(p, j);
	nf_buf_adds(b, "</dd>\n<dt>Tags</dt><dd>");
	put_tags(p, varr(j, "tags"));
	nf_buf_adds(b, "</dd>\n");
	if (vint(j, "timeout_seconds", &t) && t > 0) {
		txt = nf_xprintf("%" PRId64 " s", t);
		dl_item(b, "Timeout", txt);
		free(txt);
	}
	if ((rt = nf_val_get(j, "retry")) != NULL && vint(rt, "attempts", &t)) {
		txt = nf_xprintf("%" PRId64 " attempt%s, %s backoff", t,
		    t == 1 ? "" : "s", vstr(rt, "backoff") != NULL ?
		    vstr(rt, "backoff") : "fixed");
		dl_item(b, "Retry", txt);
		free(txt);
	}
	dl_item(b, "Overlap", vstr(j, "overlap"));
	dl_item(b, "Catch-up", vstr(j, "catchup"));
	dl_item(b, "Defined in", vstr(j, "file"));
	nf_buf_adds(b, "</dl>\n<p><a href=\"/runs?job=");
	urlenc(b, id);
	nf_buf_adds(b, "\">Runs of this job</a></p>\n");

	if (has_str(varr(j, "may"), "run"))
		run_form(p, j, id);

	steps = varr(j, "steps");
	nf_buf_adds(b, "<section aria-labelledby=\"steps-h\">\n<h2 "
	    "id=\"steps-h\">Steps</h2>\n");
	if (steps == NULL || steps->u.a.n == 0)
		nf_buf_adds(b, "<p>No steps.</p>\n");
	else {
		nf_buf_adds(b, "<table>\n<thead><tr><th scope=\"col\">#</th>"
		    "<th scope=\"col\">Step</th><th scope=\"col\">Type</th>"
		    "<th scope=\"col\">Enabled</th>"
		    "<th scope=\"col\">Timeout</th>"
		    "<th scope=\"col\">When</th></tr></thead>\n<tbody>\n");
		for (i = 0; i < steps->u.a.n; i++) {
			s = steps->u.a.items[i];
			en = 1;
			nf_val_get_bool(s, "enabled", &en);
			nf_buf_printf(b, "<tr><td>%zu</td><th scope=\"row\">",
			    i + 1);
			esc(b, vstr(s, "name"));
			nf_buf_adds(b, "</th><td>");
			esc(b, vstr(s, "type"));
			nf_buf_printf(b, "</td><td>%s</td><td>", en ? "yes" :
			    "no");
			if (vint(s, "timeout_seconds", &t) && t > 0)
				nf_buf_printf(b, "%" PRId64 " s", t);
			else
				nf_buf_adds(b, "-");
			nf_buf_adds(b, "</td><td>");
			if (vstr(s, "when") != NULL) {
				nf_buf_adds(b, "<code>");
				esc(b, vstr(s, "when"));
				nf_buf_adds(b, "</code>");
			}
			nf_buf_adds(b, "</td></tr>\n");
		}
		nf_buf_adds(b, "</tbody>\n</table>\n");
	}
	nf_buf_adds(b, "</section>\n");

	presets = varr(j, "presets");
	if (presets != NULL && presets->u.a.n > 0) {
		nf_buf_adds(b, "<section aria-labelledby=\"presets-h\">\n<h2 "
		    "id=\"presets-h\">Presets</h2>\n<table>\n<thead><tr>"
		    "<th scope=\"col\">Preset</th>"
		    "<th scope=\"col\">Description</th>"
		    "<th scope=\"col\">Schedule</th>"
		    "<th scope=\"col\">Params</th></tr></thead>\n<tbody>\n");
		for (i = 0; i < presets->u.a.n; i++) {
			s = presets->u.a.items[i];
			nf_buf_adds(b, "<tr><th scope=\"row\">");
			esc(b, vstr(s, "name"));
			nf_buf_adds(b, "</th><td>");
			esc(b, vstr(s, "description"));
			nf_buf_adds(b, "</td><td>");
			if (vstr(s, "schedule") != NULL)
				put_schedule(p, vstr(s, "schedule"));
			else
				nf_buf_adds(b, "manual");
			nf_buf_adds(b, "</td><td><code>");
			txt = val_text(nf_val_get(s, "params"));
			esc(b, txt);
			free(txt);
			nf_buf_adds(b, "</code></td></tr>\n");
		}
		nf_buf_adds(b, "</tbody>\n</table>\n</section>\n");
	}
	nexts = varr(j, "next_fires");
	if (nexts != NULL && nexts->u.a.n > 0) {
		nf_buf_adds(b, "<section aria-labelledby=\"next-h\">\n<h2 "
		    "id=\"next-h\">Next fires</h2>\n<ol>\n");
		for (i = 0; i < nexts->u.a.n; i++)
			if (nexts->u.a.items[i]->type == NF_V_INT) {
				nf_buf_adds(b, "<li>");
				put_time(b, nexts->u.a.items[i]->u.i, 0);
				nf_buf_adds(b, "</li>\n");
			}
		nf_buf_adds(b, "</ol>\n<p><a href=\"/jobs/");
		urlenc(b, id);
		nf_buf_adds(b, "/schedule\">More, with time zones and DST"
		    "</a></p>\n</section>\n");
	}
	page_foot(p);
	nf_val_free(j);
	return 0;
}

/* The schedule of a job: its next fires, DST gaps and folds flagged. */
static int
page_schedule(struct page *p, const char *id)
{
	struct nf_buf		*b = p->out;
	struct nf_val		*fires, *args;
	const struct nf_val	*f, *fl;
	char			 err[512], nbuf[16], *title;
	const char		*v;
	long long		 n = NEXT_DEFAULT;
	int			 status, several = 0;
	size_t			 i;

	if ((v = qget(p->req->query, "n", nbuf, sizeof(nbuf))) != NULL &&
	    nf_parse_int(v, 1, NEXT_MAX, &n) == -1)
		return error_page(p, 400, "n must be a number of fires from "
		    "1 to 200");
	args = nf_val_map();
	nf_val_map_set_str(args, "id", id);
	nf_val_map_set_int(args, "n", n);
	fires = call(p, "next", args, &status, err, sizeof(err));
	if (fires == NULL && status != 500)
		return error_page(p, status, err);
	title = nf_xprintf("Schedule of %s", id);
	page_head(p, title, "jobs");
	free(title);
	nf_buf_adds(b, "<h1>Schedule of <a href=\"/jobs/");
	urlenc(b, id);
	nf_buf_adds(b, "\">");
	esc(b, id);
	nf_buf_adds(b, "</a></h1>\n");
	if (fires == NULL) {
		/* "job x has no schedule (manual runs only)" */
		nf_buf_adds(b, "<p>");
		esc(b, err);
		nf_buf_adds(b, "</p>\n");
		page_foot(p);
		return 0;
	}
	for (i = 0; fires->type == NF_V_ARR && i < fires->u.a.n; i++)
		if (vstr(fires->u.a.items[i], "schedule") != NULL)
			several = 1;
	nf_buf_printf(b, "<table class=\"fires\">\n<caption>The next %zu "
	    "fires</caption>\n<thead><tr><th scope=\"col\">#</th>"
	    "<th scope=\"col\">Local time</th><th scope=\"col\">Offset</th>"
	    "<th scope=\"col\">Time zone</th><th scope=\"col\">UTC</th>%s"
	    "<th scope=\"col\">Note</th></tr></thead>\n<tbody>\n",
	    fires->type == NF_V_ARR ? fires->u.a.n : 0,
	    several ? "<th scope=\"col\">Schedule</th>" : "");
	for (i = 0; fires->type == NF_V_ARR && i < fires->u.a.n; i++) {
		f = fires->u.a.items[i];
		fl = varr(f, "flags");
		nf_buf_printf(b, "<tr%s><td>%zu</td><th scope=\"row\">",
		    fl != NULL && fl->u.a.n > 0 ? " class=\"dst\"" : "", i + 1);
		esc(b, vstr(f, "local"));
		nf_buf_adds(b, "</th><td>");
		esc(b, vstr(f, "offset"));
		nf_buf_adds(b, " ");
		esc(b, vstr(f, "zone"));
		nf_buf_adds(b, "</td><td>");
		esc(b, vstr(f, "timezone"));
		nf_buf_adds(b, "</td><td>");
		esc(b, vstr(f, "utc"));
		nf_buf_adds(b, "</td>");
		if (several) {
			nf_buf_adds(b, "<td><code>");
			esc(b, vstr(f, "schedule"));
			nf_buf_adds(b, "</code></td>");
		}
		nf_buf_adds(b, "<td>");
		if (has_str(fl, "dst-gap"))
			nf_buf_adds(b, "<strong>DST gap:</strong> the slot's "
			    "local time does not exist that day (clocks go "
			    "forward); it fires at the first moment after. ");
		if (has_str(fl, "dst-repeat"))
			nf_buf_adds(b, "<strong>DST fold:</strong> this local "
			    "hour happens twice that day (clocks go back). ");
		nf_buf_adds(b, "</td></tr>\n");
	}
	nf_buf_adds(b, "</tbody>\n</table>\n<form class=\"filters\" "
	    "method=\"get\" action=\"\">\n<p><label for=\"f-n\">Fires to "
	    "show</label>\n");
	nf_buf_printf(b, "<input id=\"f-n\" name=\"n\" type=\"number\" "
	    "min=\"1\" max=\"%d\" value=\"%lld\"></p>\n<p><button "
	    "type=\"submit\">Show</button></p>\n</form>\n", NEXT_MAX, n);
	page_foot(p);
	nf_val_free(fires);
	return 0;
}

/* Runs. */

static const char *const run_states[] = { "queued", "running", "succeeded",
    "failed", "canceled", "skipped" };
static const char *const triggers[] = { "cron", "manual", "api",
    "dependency", "call_job", "replay", "catchup" };

static void
select_list(struct nf_buf *b, const char *id, const char *label,
    const char *const *opts, size_t n, const char *cur)
{
	size_t	i;

	nf_buf_printf(b, "<p><label for=\"f-%s\">%s</label>\n<select "
	    "id=\"f-%s\" name=\"%s\">\n<option value=\"\">any</option>\n",
	    id, label, id, id);
	for (i = 0; i < n; i++) {
		nf_buf_adds(b, "<option");
		if (cur != NULL && strcmp(cur, opts[i]) == 0)
			nf_buf_adds(b, " selected");
		nf_buf_adds(b, ">");
		esc(b, opts[i]);
		nf_buf_adds(b, "</option>\n");
	}
	nf_buf_adds(b, "</select></p>\n");
}

/* One row of the history (also the shape app.js builds for new runs). */
static void
run_row(struct nf_buf *b, const struct nf_val *r)
{
	int64_t	id;

	if (!vint(r, "id", &id))
		return;
	nf_buf_printf(b, "<tr data-run=\"%" PRId64 "\" data-job=\"", id);
	esc(b, vstr(r, "job_id"));
	nf_buf_printf(b, "\">\n<th scope=\"row\"><a href=\"/runs/%" PRId64
	    "\">#%" PRId64 "</a></th>\n<td><a href=\"/jobs/", id, id);
	urlenc(b, vstr(r, "job_id"));
	nf_buf_adds(b, "\">");
	esc(b, vstr(r, "job_id"));
	nf_buf_adds(b, "</a></td>\n<td class=\"state-cell\">");
	put_state(b, vstr(r, "state"));
	if (vstr(r, "reason") != NULL) {
		nf_buf_adds(b, " <span class=\"reason\">(");
		esc(b, vstr(r, "reason"));
		nf_buf_adds(b, ")</span>");
	}
	nf_buf_adds(b, "</td>\n<td>");
	esc(b, vstr(r, "trigger"));
	nf_buf_adds(b, "</td>\n<td>");
	esc(b, vstr(r, "triggered_by"));
	nf_buf_adds(b, "</td>\n<td>");
	put_time_key(b, r, "created_at");
	nf_buf_adds(b, "</td>\n<td>");
	put_span(b, r, "started_at", "finished_at");
	nf_buf_adds(b, "</td>\n<td class=\"err\">");
	esc(b, vstr(r, "error"));
	nf_buf_adds(b, "</td>\n</tr>\n");
}

/* The current filters as a query string for the paging links. */
static void
runs_query(struct nf_buf *b, const char *const keys[],
    const char *const vals[], size_t n)
{
	size_t	i;
	int	any = 0;

	for (i = 0; i < n; i++)
		if (vals[i] != NULL) {
			if (any++)
				nf_buf_adds(b, "&amp;");
			nf_buf_adds(b, keys[i]);
			nf_buf_addc(b, '=');
			urlenc(b, vals[i]);
		}
	if (any)
		nf_buf_adds(b, "&amp;");
}

static int
page_runs(struct page *p)
{
	static const char *const keys[] = { "job", "state", "trigger",
	    "since", "until" };
	struct nf_buf		*b = p->out;
	struct nf_val		*runs, *jobs, *args;
	const struct nf_val	*r;
	const char		*vals[NF_NELEM(keys)], *before, *id;
	char			 bufs[NF_NELEM(keys)][256], bbuf[32];
	char			 err[512];
	long long		 bid = 0;
	int64_t			 ms, rid, min = 0;
	int			 status;
	size_t			 i;

	for (i = 0; i < NF_NELEM(keys); i++)
		vals[i] = qget(p->req->query, keys[i], bufs[i],
		    sizeof(bufs[i]));
	before = qget(p->req->query, "before", bbuf, sizeof(bbuf));
	if (before != NULL && nf_parse_int(before, 1, INT64_MAX, &bid) == -1)
		return error_page(p, 400, "before must be a run number");
	args = nf_val_map();
	if (vals[0] != NULL)
		nf_val_map_set_str(args, "job", vals[0]);
	if (vals[1] != NULL)
		nf_val_map_set_str(args, "state", vals[1]);
	if (vals[2] != NULL)
		nf_val_map_set_str(args, "trigger", vals[2]);
	for (i = 3; i < 5; i++) {
		if (vals[i] == NULL)
			continue;
		if (nf_parse_time(vals[i], &ms) == -1) {
			nf_val_free(args);
			snprintf(err, sizeof(err), "%s \"%s\" is not a time "
			    "(write 2026-11-29, 2026-11-29 04:19, -2h, -30m or "
			    "-7d)", keys[i], vals[i]);
			return error_page(p, 400, err);
		}
		nf_val_map_set_int(args, keys[i], ms);
	}
	if (before != NULL)
		nf_val_map_set_int(args, "before", bid);
	nf_val_map_set_int(args, "limit", RUNS_PAGE);
	if ((runs = call(p, "runs", args, &status, err, sizeof(err))) ==
	    NULL)
		return error_page(p, status, err);
	jobs = call(p, "jobs", NULL, &status, err, sizeof(err));

	page_head(p, "Runs", "runs");
	nf_buf_adds(b, "<h1>Runs</h1>\n<form class=\"filters\" method=\"get\" "
	    "action=\"/runs\">\n<p><label for=\"f-job\">Job</label>\n<select "
	    "id=\"f-job\" name=\"job\">\n<option value=\"\">any</option>\n");
	for (i = 0; jobs != NULL && jobs->type == NF_V_ARR &&
	    i < jobs->u.a.n; i++) {
		if ((id = vstr(jobs->u.a.items[i], "id")) == NULL)
			continue;
		nf_buf_adds(b, "<option");
		if (vals[0] != NULL && strcmp(vals[0], id) == 0)
			nf_buf_adds(b, " selected");
		nf_buf_adds(b, ">");
		esc(b, id);
		nf_buf_adds(b, "</option>\n");
	}
	nf_buf_adds(b, "</select></p>\n");
	select_list(b, "state", "State", run_states, NF_NELEM(run_states),
	    vals[1]);
	select_list(b, "trigger", "Trigger", triggers, NF_NELEM(triggers),
	    vals[2]);
	for (i = 3; i < 5; i++) {
		nf_buf_printf(b, "<p><label for=\"f-%s\">%s</label>\n<input "
		    "id=\"f-%s\" name=\"%s\" placeholder=\"2026-11-29 or -2h\" "
		    "value=\"", keys[i], i == 3 ? "Since" : "Until", keys[i],
		    keys[i]);
		esc(b, vals[i]);
		nf_buf_adds(b, "\"></p>\n");
	}
	nf_buf_adds(b, "<p><button type=\"submit\">Filter</button></p>\n"
	    "</form>\n");
	if (runs->type != NF_V_ARR || runs->u.a.n == 0)
		nf_buf_adds(b, "<p>No runs.</p>\n");
	else {
		/* Only the newest page grows with live runs. */
		nf_buf_adds(b, "<table class=\"runs\"");
		if (before == NULL)
			nf_buf_adds(b, " data-live=\"runs\"");
		for (i = 0; i < 3; i++)
			if (vals[i] != NULL) {
				nf_buf_printf(b, " data-f-%s=\"", keys[i]);
				esc(b, vals[i]);
				nf_buf_adds(b, "\"");
			}
		nf_buf_adds(b, ">\n<caption>Runs, newest first</caption>\n"
		    "<thead><tr><th scope=\"col\">Run</th>"
		    "<th scope=\"col\">Job</th><th scope=\"col\">State</th>"
		    "<th scope=\"col\">Trigger</th>"
		    "<th scope=\"col\">By</th><th scope=\"col\">Created</th>"
		    "<th scope=\"col\">Duration</th>"
		    "<th scope=\"col\">Error</th></tr></thead>\n<tbody>\n");
		for (i = 0; i < runs->u.a.n; i++) {
			r = runs->u.a.items[i];
			run_row(b, r);
			if (vint(r, "id", &rid) && (min == 0 || rid < min))
				min = rid;
		}
		nf_buf_adds(b, "</tbody>\n</table>\n");
	}
	nf_buf_adds(b, "<nav class=\"paging\" aria-label=\"Pages\">\n");
	if (before != NULL) {
		nf_buf_adds(b, "<a href=\"/runs?");
		runs_query(b, keys, vals, NF_NELEM(keys));
		nf_buf_adds(b, "\">← Newest</a>\n");
	}
	/* Keyset paging: the next page is the runs before the smallest id. */
	if (runs->type == NF_V_ARR && runs->u.a.n >= RUNS_PAGE && min > 1) {
		nf_buf_adds(b, "<a rel=\"next\" href=\"/runs?");
		runs_query(b, keys, vals, NF_NELEM(keys));
		nf_buf_printf(b, "before=%" PRId64 "\">Older →</a>\n", min);
	}
	nf_buf_adds(b, "</nav>\n");
	page_foot(p);
	nf_val_free(runs);
	nf_val_free(jobs);
	return 0;
}

/* One run. */

static void
log_line(struct nf_buf *b, const struct nf_val *l)
{
	const char	*stream = vstr(l, "stream");
	const char	*level = vstr(l, "level");
	int64_t		 seq = 0, ts, att;
	int		 err;

	vint(l, "seq", &seq);
	err = (stream != NULL && strcmp(stream, "stderr") == 0) ||
	    (level != NULL && strcmp(level, "error") == 0);
	nf_buf_printf(b, "<div class=\"ll%s\" data-seq=\"%" PRId64 "\">",
	    err ? " ll-err" : "", seq);
	if (vint(l, "ts", &ts))
		put_time(b, ts, 1);
	nf_buf_adds(b, " <span class=\"src\">");
	if (vstr(l, "step") != NULL) {
		esc(b, vstr(l, "step"));
		if (vint(l, "attempt", &att))
			nf_buf_printf(b, "[%" PRId64 "]", att);
		nf_buf_addc(b, ' ');
	}
	/* stderr and errors in capitals: visible without the colour. */
	if (err) {
		nf_buf_adds(b, "<strong>");
		esc(b, stream != NULL && strcmp(stream, "stderr") == 0 ?
		    "STDERR" : stream);
		nf_buf_adds(b, ":</strong>");
	} else {
		esc(b, stream != NULL ? stream : "-");
		nf_buf_addc(b, ':');
	}
	nf_buf_adds(b, "</span> ");
	if (level != NULL && strcmp(level, "info") != 0) {
		esc(b, level);
		nf_buf_adds(b, ": ");
	}
	nf_buf_adds(b, "<span class=\"text\">");
	esc(b, vstr(l, "line"));
	nf_buf_adds(b, "</span></div>\n");
}

static void
attempts_table(struct nf_buf *b, const struct nf_val *atts)
{
	const struct nf_val	*a;
	int64_t			 v;
	size_t			 i;

	nf_buf_adds(b, "<table class=\"attempts\">\n<caption>Steps and "
	    "attempts</caption>\n<thead><tr><th scope=\"col\">Step</th>"
	    "<th scope=\"col\">Attempt</th><th scope=\"col\">Type</th>"
	    "<th scope=\"col\">State</th><th scope=\"col\">Reason</th>"
	    "<th scope=\"col\">Duration</th><th scope=\"col\">Exit</th>"
	    "<th scope=\"col\">Rows</th><th scope=\"col\">Error</th>"
	    "</tr></thead>\n<tbody>\n");
	for (i = 0; i < atts->u.a.n; i++) {
		a = atts->u.a.items[i];
		nf_buf_adds(b, "<tr data-step=\"");
		esc(b, vstr(a, "step"));
		nf_buf_adds(b, "\"");
		if (vint(a, "attempt", &v))
			nf_buf_printf(b, " data-attempt=\"%" PRId64 "\"", v);
		nf_buf_adds(b, "><th scope=\"row\">");
		esc(b, vstr(a, "step"));
		nf_buf_adds(b, "</th><td>");
		if (vint(a, "attempt", &v))
			nf_buf_printf(b, "%" PRId64, v);
		nf_buf_adds(b, "</td><td>");
		esc(b, vstr(a, "type"));
		nf_buf_adds(b, "</td><td class=\"state-cell\">");
		put_state(b, vstr(a, "state"));
		nf_buf_adds(b, "</td><td>");
		esc(b, vstr(a, "reason"));
		nf_buf_adds(b, "</td><td>");
		put_span(b, a, "started_at", "finished_at");
		nf_buf_adds(b, "</td><td>");
		if (vint(a, "exit_code", &v))
			nf_buf_printf(b, "%" PRId64, v);
		if (vint(a, "signal", &v))
			nf_buf_printf(b, " signal %" PRId64, v);
		nf_buf_adds(b, "</td><td>");
		if (vint(a, "rows_affected", &v))
			nf_buf_printf(b, "%" PRId64, v);
		nf_buf_adds(b, "</td><td class=\"err\">");
		esc(b, vstr(a, "error"));
		nf_buf_adds(b, "</td></tr>\n");
	}
	nf_buf_adds(b, "</tbody>\n</table>\n");
}

static void
outputs(struct nf_buf *b, const struct nf_val *atts)
{
	const struct nf_val	*a, *o;
	char			*txt;
	int64_t			 v;
	size_t			 i;
	int			 any = 0;

	for (i = 0; i < atts->u.a.n; i++) {
		a = atts->u.a.items[i];
		o = nf_val_get(a, "output");
		if (o == NULL || o->type == NF_V_NIL)
			continue;
		if (!any)
			nf_buf_adds(b, "<section aria-labelledby=\"out-h\">\n"
			    "<h2 id=\"out-h\">Outputs</h2>\n");
		any = 1;
		nf_buf_adds(b, "<details>\n<summary>");
		esc(b, vstr(a, "step"));
		if (vint(a, "attempt", &v))
			nf_buf_printf(b, ", attempt %" PRId64, v);
		nf_buf_adds(b, "</summary>\n<pre class=\"output\">");
		txt = o->type == NF_V_STR ? nf_xstrdup(o->u.s.p) :
		    nf_json_text(o, 2);
		esc(b, txt);
		free(txt);
		nf_buf_adds(b, "</pre>\n</details>\n");
	}
	if (any)
		nf_buf_adds(b, "</section>\n");
}

static int
page_run(struct page *p, int64_t run_id)
{
	struct nf_buf		*b = p->out, next;
	struct nf_val		*r, *logs, *args;
	const struct nf_val	*atts, *lines, *may, *pr;
	const char		*state, *job;
	char			 err[512], *txt, action[64], here[48];
	int64_t			 v, last = 0;
	int			 status, active;
	size_t			 i;

	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	if ((r = call(p, "run.show", args, &status, err, sizeof(err))) ==
	    NULL)
		return error_page(p, status, err);
	args = nf_val_map();
	nf_val_map_set_int(args, "run_id", run_id);
	logs = call(p, "logs", args, &status, err, sizeof(err));
	state = vstr(r, "state");
	job = vstr(r, "job_id");
	may = varr(r, "may");
	active = state != NULL && (strcmp(state, "queued") == 0 ||
	    strcmp(state, "running") == 0);

	txt = nf_xprintf("Run #%" PRId64, run_id);
	page_head(p, txt, "runs");
	free(txt);
	nf_buf_printf(b, "<h1>Run #%" PRId64 " of <a href=\"/jobs/", run_id);
	urlenc(b, job);
	nf_buf_adds(b, "\">");
	esc(b, job);
	nf_buf_printf(b, "</a></h1>\n<div class=\"run\" data-run=\"%" PRId64
	    "\" data-job=\"", run_id);
	esc(b, job);
	nf_buf_adds(b, "\">\n<dl class=\"facts\">\n<dt>State</dt><dd "
	    "class=\"state-cell\" aria-live=\"polite\">");
	put_state(b, state);
	nf_buf_adds(b, "</dd>\n");
	if (vstr(r, "reason") != NULL)
		dl_item(b, "Reason", vstr(r, "reason"));
	dl_item(b, "Trigger", vstr(r, "trigger"));
	dl_item(b, "Triggered by", vstr(r, "triggered_by"));
	if (vstr(r, "preset") != NULL)
		dl_item(b, "Preset", vstr(r, "preset"));
	if (vint(r, "scheduled_for", &v)) {
		nf_buf_adds(b, "<dt>Scheduled for</dt><dd>");
		/* Slots are seconds in the store, times are ms. */
		put_time(b, v < 100000000000LL ? v * 1000 : v, 0);
		nf_buf_adds(b, "</dd>\n");
	}
	nf_buf_adds(b, "<dt>Created</dt><dd>");
	put_time_key(b, r, "created_at");
	nf_buf_adds(b, "</dd>\n<dt>Started</dt><dd>");
	put_time_key(b, r, "started_at");
	nf_buf_adds(b, "</dd>\n<dt>Finished</dt><dd class=\"finished\">");
	put_time_key(b, r, "finished_at");
	nf_buf_adds(b, "</dd>\n<dt>Duration</dt><dd>");
	put_span(b, r, "started_at", "finished_at");
	nf_buf_adds(b, "</dd>\n");
	if (vint(r, "rows_affected", &v)) {
		txt = nf_xprintf("%" PRId64, v);
		dl_item(b, "Rows affected", txt);
		free(txt);
	}
	if ((pr = nf_val_get(r, "progress")) != NULL &&
	    vint(pr, "rows", &v)) {
		txt = nf_xprintf("%" PRId64 " rows", v);
		dl_item(b, "Progress", txt);
		free(txt);
	}
	nf_buf_adds(b, "<dt>Error</dt><dd class=\"err\">");
	esc(b, vstr(r, "error"));
	nf_buf_adds(b, "</dd>\n");
	if ((pr = nf_val_get(r, "params")) != NULL && pr->type == NF_V_MAP &&
	    pr->u.m.n > 0) {
		nf_buf_adds(b, "<dt>Params</dt><dd><code>");
		txt = nf_json_text(pr, -1);
		esc(b, txt);
		free(txt);
		nf_buf_adds(b, "</code></dd>\n");
	}
	nf_buf_adds(b, "</dl>\n<div class=\"actions\">\n");
	snprintf(here, sizeof(here), "/runs/%" PRId64, run_id);
	if (active && has_str(may, "cancel")) {
		snprintf(action, sizeof(action), "/api/runs/%" PRId64
		    "/cancel", run_id);
		button_form(p, action, "cancel", "Cancel run", "danger", here,
		    NULL);
	}
	if (!active && has_str(may, "replay")) {
		/* Without JavaScript: the job's runs, the replay first. */
		nf_buf_init(&next);
		nf_buf_adds(&next, "/runs?job=");
		urlenc(&next, job);
		snprintf(action, sizeof(action), "/api/runs/%" PRId64
		    "/replay", run_id);
		button_form(p, action, "replay", "Replay", "secondary",
		    next.data, NULL);
		nf_buf_free(&next);
	}
	nf_buf_adds(b, "</div>\n");

	atts = varr(r, "attempts");
	nf_buf_adds(b, "<section aria-labelledby=\"steps-h\">\n<h2 "
	    "id=\"steps-h\">Steps</h2>\n");
	if (atts == NULL || atts->u.a.n == 0)
		nf_buf_adds(b, "<p class=\"none\">No step has started.</p>\n");
	else
		attempts_table(b, atts);
	nf_buf_adds(b, "</section>\n");
	if (atts != NULL)
		outputs(b, atts);

	lines = logs != NULL ? varr(logs, "lines") : NULL;
	for (i = 0; lines != NULL && i < lines->u.a.n; i++)
		if (vint(lines->u.a.items[i], "seq", &v) && v > last)
			last = v;
	nf_buf_printf(b, "<section aria-labelledby=\"log-h\">\n<h2 "
	    "id=\"log-h\">Log</h2>\n<div class=\"log\" id=\"log\" role=\"log\" "
	    "tabindex=\"0\" data-after=\"%" PRId64 "\"%s>\n", last,
	    active ? " data-follow=\"1\"" : "");
	if (logs == NULL) {
		nf_buf_adds(b, "<p class=\"error\">");
		esc(b, err);
		nf_buf_adds(b, "</p>\n");
	} else if (vint(logs, "log_pruned_at", &v)) {
		/* Retention deleted the lines and kept the run. */
		nf_buf_adds(b, "<p class=\"none\">The log was deleted by the "
		    "retention policy on ");
		put_time(b, v, 0);
		nf_buf_adds(b, ".</p>\n");
	} else if (lines == NULL || lines->u.a.n == 0)
		nf_buf_adds(b, "<p class=\"none\">No log lines yet.</p>\n");
	for (i = 0; lines != NULL && i < lines->u.a.n; i++)
		log_line(b, lines->u.a.items[i]);
	nf_buf_adds(b, "</div>\n</section>\n</div>\n");
	page_foot(p);
	nf_val_free(r);
	nf_val_free(logs);
	return 0;
}

/* Routing. */

/* A job id in a path: [A-Za-z0-9_-]+ up to the next '/' or the end. */
static int
path_job(const char *s, char *id, size_t len, const char **rest)
{
	size_t	n = strcspn(s, "/");

	if (n == 0 || n >= len)
		return -1;
	memcpy(id, s, n);
	id[n] = '\0';
	if (!nf_valid_ident(id))
		return -1;
	*rest = s + n;
	return 0;
}

int
nf_webui_page(const struct nf_webui_req *req, struct nf_buf *out)
{
	struct page	 p;
	const char	*path = req->path, *rest;
	char		 id[256];
	long long	 n;

	p.req = req;
	p.out = out;
	if (path == NULL)
		path = "/";
	if (strcmp(path, "/login") == 0)
		return page_login(&p);
	if (req->user == NULL || req->fetch == NULL)
		return error_page(&p, 401, "Sign in to see this page.");
	if (strcmp(path, "/") == 0 || strcmp(path, "/jobs") == 0 ||
	    strcmp(path, "/jobs/") == 0)
		return page_jobs(&p);
	if (strcmp(path, "/runs") == 0 || strcmp(path, "/runs/") == 0)
		return page_runs(&p);
	if (strncmp(path, "/runs/", 6) == 0 &&
	    nf_parse_int(path + 6, 1, INT64_MAX, &n) == 0)
		return page_run(&p, n);
	if (strncmp(path, "/jobs/", 6) == 0 &&
	    path_job(path + 6, id, sizeof(id), &rest) == 0) {
		if (*rest == '\0')
			return page_job(&p, id);
		if (strcmp(rest, "/schedule") == 0)
			return page_schedule(&p, id);
	}
	error_page(&p, 404, "There is no such page.");
	return 404;
}
