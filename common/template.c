/*
 * template.c: `${...}` templates of step fields, the references they share
 * with `when` expressions, date helpers, and secret redaction.
 *
 * Runs in nomaflowd (load-time checks in jobs.c, rendering just before a
 * step attempt starts) and nfctl (validate).  Pure: it only reads the
 * values it is handed; a template can name values, never run code.
 *
 * Invariants: a reference that passed nf_tmpl_ref_check() can fail at run
 * time only for data reasons (a param not given, an output without that
 * path), and every such failure names the reference as written.  Date
 * formats are restricted to strftime date conversions, checked at load.
 */
#include "autoconf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "json.h"
#include "template.h"
#include "util.h"
#include "val.h"

#define MAX_SEGS	64
#define MAX_FMT		64

static const char *const date_names[] = {
	[NF_TD_TODAY] = "today",
	[NF_TD_YESTERDAY] = "yesterday",
	[NF_TD_MONTH_FIRST] = "month.first",
	[NF_TD_MONTH_PREVIOUS] = "month.previous",
	[NF_TD_WEEK_MONDAY] = "week.monday",
};

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

static int
name_char(char c, int in_expr)
{
	return is_alpha(c) || is_digit(c) || (!in_expr && c == '-');
}

void
nf_tmpl_ref_free(struct nf_tmpl_ref *r)
{
	size_t	i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsegs; i++)
		free(r->segs[i].key);
	free(r->segs);
	free(r->text);
	free(r->fmt);
	free(r);
}

static void
add_seg(struct nf_tmpl_ref *r, char *key, int64_t index)
{
	r->segs = nf_xreallocarray(r->segs, r->nsegs + 1, sizeof(*r->segs));
	r->segs[r->nsegs].key = key;
	r->segs[r->nsegs].index = index;
	r->nsegs++;
}

/* "[...]" at s[*i] (the '['); returns 0 or -1 with err. */
static int
parse_bracket(struct nf_tmpl_ref *r, const char *s, size_t n, size_t *i,
    char *err, size_t errlen, size_t *errpos)
{
	struct nf_buf	 b;
	size_t		 j = *i + 1;
	int64_t		 v = 0;
	int		 neg = 0, nd = 0;

	if (j < n && s[j] == '"') {
		nf_buf_init(&b);
		for (j++; j < n && s[j] != '"'; j++) {
			if (s[j] == '\\' && j + 1 < n &&
			    (s[j + 1] == '"' || s[j + 1] == '\\'))
				j++;
			nf_buf_addc(&b, s[j]);
		}
		if (j >= n || j + 1 >= n || s[j + 1] != ']') {
			nf_buf_free(&b);
			snprintf(err, errlen, "unterminated [\"key\"]: expected "
			    "'\"]'");
			*errpos = *i;
			return -1;
		}
		add_seg(r, nf_buf_steal(&b), 0);
		*i = j + 2;
		return 0;
	}
	if (j < n && s[j] == '-') {
		neg = 1;
		j++;
	}
	for (; j < n && is_digit(s[j]); j++, nd++) {
		if (v > (INT64_C(1) << 40)) {
			snprintf(err, errlen, "array index too large");
			*errpos = *i;
			return -1;
		}
		v = v * 10 + (s[j] - '0');
	}
	if (nd == 0 || j >= n || s[j] != ']') {
		snprintf(err, errlen, "expected an array index [N] or a "
		    "quoted key [\"key\"] after '['");
		*errpos = *i;
		return -1;
	}
	add_seg(r, NULL, neg ? -v : v);
	*i = j + 1;
	return 0;
}

struct nf_tmpl_ref *
nf_tmpl_ref_parse(const char *s, size_t n, int in_expr, size_t *len,
    char *err, size_t errlen, size_t *errpos)
{
	struct nf_tmpl_ref	*r;
	size_t			 i = 0, st;
	char			*word;

	*errpos = 0;
	if (n == 0 || !is_alpha(s[0])) {
		snprintf(err, errlen, "expected a reference such as "
		    "params.NAME, steps.NAME.output or today");
		return NULL;
	}
	r = nf_xcalloc(1, sizeof(*r));
	while (i < n && name_char(s[i], in_expr))
		i++;
	word = nf_xstrndup(s, i);
	if (strcmp(word, "params") == 0)
		r->root = NF_TR_PARAMS;
	else if (strcmp(word, "job") == 0)
		r->root = NF_TR_JOB;
	else if (strcmp(word, "run") == 0)
		r->root = NF_TR_RUN;
	else if (strcmp(word, "steps") == 0)
		r->root = NF_TR_STEPS;
	else if (strcmp(word, "prev") == 0)
		r->root = NF_TR_PREV;
	else if (strcmp(word, "secret") == 0 && !in_expr)
		r->root = NF_TR_SECRET;
	else if (strcmp(word, "secret") == 0) {
		/* A condition on a secret would leak it bit by bit. */
		snprintf(err, errlen, "secret values cannot be used in "
		    "conditions (when); only in step fields");
		free(word);
		nf_tmpl_ref_free(r);
		return NULL;
	} else if (strcmp(word, "today") == 0 || strcmp(word, "yesterday") == 0 ||
	    strcmp(word, "month") == 0 || strcmp(word, "week") == 0)
		r->root = NF_TR_DATE;
	else {
		snprintf(err, errlen, "unknown reference \"%s\" (known: "
		    "params, job, run, steps, prev, %stoday, yesterday, "
		    "month.first, month.previous, week.monday)", word,
		    in_expr ? "" : "secret, ");
		free(word);
		nf_tmpl_ref_free(r);
		return NULL;
	}
	while (i < n && r->nsegs < MAX_SEGS) {
		if (s[i] == '.') {
			st = ++i;
			while (i < n && name_char(s[i], in_expr))
				i++;
			if (i == st) {
				snprintf(err, errlen, "expected a name after "
				    "'.'");
				*errpos = st;
				goto fail;
			}
			add_seg(r, nf_xstrndup(s + st, i - st), 0);
		} else if (s[i] == '[') {
			if (parse_bracket(r, s, n, &i, err, errlen,
			    errpos) == -1)
				goto fail;
		} else
			break;
	}
	if (r->nsegs >= MAX_SEGS) {
		snprintf(err, errlen, "reference too long (at most %d "
		    "parts)", MAX_SEGS);
		*errpos = i;
		goto fail;
	}
	if (r->root == NF_TR_DATE) {
		struct nf_buf	b;
		size_t		k, nkeys;
		int		d = -1;

		nf_buf_init(&b);
		nf_buf_adds(&b, word);
		for (nkeys = 0; nkeys < r->nsegs &&
		    r->segs[nkeys].key != NULL; nkeys++)
			nf_buf_printf(&b, ".%s", r->segs[nkeys].key);
		for (k = 0; k < sizeof(date_names) / sizeof(date_names[0]);
		    k++)
			if (strcmp(b.data, date_names[k]) == 0)
				d = (int)k;
		if (nkeys < r->nsegs) {
			snprintf(err, errlen, "date helper \"%s\" is a date, "
			    "not an array", b.data);
			nf_buf_free(&b);
			goto fail;
		}
		if (d == -1) {
			snprintf(err, errlen, "unknown date helper \"%s\" "
			    "(known: today, yesterday, month.first, "
			    "month.previous, week.monday)", b.data);
			nf_buf_free(&b);
			goto fail;
		}
		nf_buf_free(&b);
		r->date = (enum nf_tmpl_date)d;
		if (!in_expr && i < n && s[i] == '|') {
			st = ++i;
			i = n;
			r->fmt = nf_xstrndup(s + st, n - st);
			if (nf_tmpl_fmt_check(r->fmt, err, errlen) == -1) {
				*errpos = st;
				goto fail;
			}
		}
	}
	free(word);
	r->text = nf_xstrndup(s, i);
	*len = i;
	return r;
fail:
	free(word);
	nf_tmpl_ref_free(r);
	return NULL;
}

/* Date conversions only: the value is a calendar day. */
int
nf_tmpl_fmt_check(const char *fmt, char *err, size_t errlen)
{
	static const char ok[] = "aAbBCdeFgGhjmuUVwWyY%";
	const char	*p;

	if (*fmt == '\0') {
		snprintf(err, errlen, "empty date format after '|'");
		return -1;
	}
	if (strlen(fmt) > MAX_FMT) {
		snprintf(err, errlen, "date format longer than %d characters",
		    MAX_FMT);
		return -1;
	}
	for (p = fmt; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20) {
			snprintf(err, errlen, "control character in date "
			    "format");
			return -1;
		}
		if (*p != '%')
			continue;
		if (p[1] == '\0' || strchr(ok, p[1]) == NULL) {
			snprintf(err, errlen, "date format \"%s\": %%%c is not "
			    "allowed (allowed: %%Y %%y %%C %%m %%d %%e %%j %%a "
			    "%%A %%b %%B %%h %%u %%w %%U %%W %%V %%G %%g %%F "
			    "%%%%)", fmt, p[1] != '\0' ? p[1] : ' ');
			return -1;
		}
		p++;
	}
	return 0;
}

static int
find_step(const struct nf_tmpl_scope *sc, const char *name)
{
	size_t	i;

	for (i = 0; i < sc->nsteps; i++)
		if (sc->steps[i] != NULL && strcmp(sc->steps[i], name) == 0)
			return (int)i;
	return -1;
}

int
nf_tmpl_ref_check(const struct nf_tmpl_ref *r, const struct nf_tmpl_scope *sc,
    enum nf_val_type *type, char *err, size_t errlen)
{
	const struct nf_tmpl_seg *g = r->segs;
	enum nf_val_type t = NF_V_ANY;
	struct nf_buf	 b;
	size_t		 i;
	int		 idx;

	switch (r->root) {
	case NF_TR_PARAMS:
		if (r->nsegs == 0 || g[0].key == NULL) {
			snprintf(err, errlen, "%s: name a parameter "
			    "(params.NAME)", r->text);
			return -1;
		}
		break;
	case NF_TR_JOB:
		if (r->nsegs != 1 || g[0].key == NULL ||
		    strcmp(g[0].key, "id") != 0) {
			snprintf(err, errlen, "%s: the job has only job.id",
			    r->text);
			return -1;
		}
		t = NF_V_STR;
		break;
	case NF_TR_RUN:
		if (r->nsegs != 1 || g[0].key == NULL ||
		    (strcmp(g[0].key, "id") != 0 &&
		    strcmp(g[0].key, "scheduled_for") != 0 &&
		    strcmp(g[0].key, "triggered_by") != 0)) {
			snprintf(err, errlen, "%s: a run has run.id, "
			    "run.scheduled_for and run.triggered_by", r->text);
			return -1;
		}
		t = strcmp(g[0].key, "id") == 0 ? NF_V_INT : NF_V_STR;
		break;
	case NF_TR_STEPS:
		if (r->nsegs == 0 || g[0].key == NULL) {
			snprintf(err, errlen, "%s: name a step "
			    "(steps.NAME.output)", r->text);
			return -1;
		}
		if ((idx = find_step(sc, g[0].key)) == -1) {
			nf_buf_init(&b);
			for (i = 0; i < sc->nsteps && i < sc->self; i++)
				if (sc->steps[i] != NULL)
					nf_buf_printf(&b, "%s%s",
					    b.len ? ", " : "", sc->steps[i]);
			snprintf(err, errlen, "%s: this job has no step \"%s\" "
			    "(earlier steps: %s)", r->text, g[0].key,
			    b.len > 0 ? b.data : "none");
			nf_buf_free(&b);
			return -1;
		}
		if ((size_t)idx == sc->self) {
			snprintf(err, errlen, "%s: a step cannot use its own "
			    "output", r->text);
			return -1;
		}
		if ((size_t)idx > sc->self) {
			snprintf(err, errlen, "%s: step \"%s\" runs after this "
			    "one; only outputs of earlier steps can be used",
			    r->text, g[0].key);
			return -1;
		}
		if (r->nsegs < 2 || g[1].key == NULL ||
		    (strcmp(g[1].key, "output") != 0 &&
		    strcmp(g[1].key, "rows_affected") != 0) ||
		    (strcmp(g[1].key, "rows_affected") == 0 && r->nsegs > 2)) {
			snprintf(err, errlen, "%s: write steps.%s.output[.PATH] "
			    "or steps.%s.rows_affected", r->text, g[0].key,
			    g[0].key);
			return -1;
		}
		if (strcmp(g[1].key, "rows_affected") == 0)
			t = NF_V_INT;
		break;
	case NF_TR_PREV:
		if (sc->self == 0) {
			snprintf(err, errlen, "%s: the first step has no "
			    "previous step", r->text);
			return -1;
		}
		if (r->nsegs == 0 || g[0].key == NULL ||
		    (strcmp(g[0].key, "output") != 0 &&
		    ((strcmp(g[0].key, "rows_affected") != 0 &&
		    strcmp(g[0].key, "step") != 0) || r->nsegs > 1))) {
			snprintf(err, errlen, "%s: write prev.rows_affected, "
			    "prev.step or prev.output[.PATH]", r->text);
			return -1;
		}
		if (strcmp(g[0].key, "rows_affected") == 0)
			t = NF_V_INT;
		else if (strcmp(g[0].key, "step") == 0)
			t = NF_V_STR;
		break;
	case NF_TR_DATE:
		t = NF_V_STR;
		break;
	case NF_TR_SECRET:
		if (r->nsegs != 1 || g[0].key == NULL || g[0].key[0] == '\0') {
			snprintf(err, errlen, "%s: name a secret "
			    "(secret.NAME)", r->text);
			return -1;
		}
		if (sc != NULL && sc->secret_known != NULL &&
		    sc->secret_known(g[0].key) == 0) {
			snprintf(err, errlen, "%s: no secret \"%s\" (set it "
			    "with nfctl secret set %s; nfctl secret list "
			    "shows them)", r->text, g[0].key, g[0].key);
			return -1;
		}
		t = NF_V_STR;
		break;
	}
	if (type != NULL)
		*type = t;
	return 0;
}

/* Walk path segments from seg `from` on. */
static const struct nf_val *
walk(const struct nf_tmpl_ref *r, size_t from, const struct nf_val *v,
    char *err, size_t errlen)
{
	const struct nf_tmpl_seg *g;
	int64_t		 ix;
	size_t		 i;

	for (i = from; i < r->nsegs; i++) {
		g = &r->segs[i];
		if (g->key != NULL) {
			if (v->type != NF_V_MAP) {
				snprintf(err, errlen, "reference %s: \"%s\" "
				    "is looked up in %s, not a map", r->text,
				    g->key, nf_val_type_name(v->type));
				return NULL;
			}
			if ((v = nf_val_get(v, g->key)) == NULL) {
				snprintf(err, errlen, "reference %s: no key "
				    "\"%s\"", r->text, g->key);
				return NULL;
			}
		} else {
			if (v->type != NF_V_ARR) {
				snprintf(err, errlen, "reference %s: index "
				    "[%lld] applied to %s, not an array",
				    r->text, (long long)g->index,
				    nf_val_type_name(v->type));
				return NULL;
			}
			ix = g->index < 0 ? (int64_t)v->u.a.n + g->index :
			    g->index;
			if (ix < 0 || (uint64_t)ix >= v->u.a.n) {
				snprintf(err, errlen, "reference %s: index "
				    "[%lld] out of range (the array has %zu "
				    "element%s)", r->text,
				    (long long)g->index, v->u.a.n,
				    v->u.a.n == 1 ? "" : "s");
				return NULL;
			}
			v = v->u.a.items[ix];
		}
	}
	return v;
}

static struct nf_val *
date_value(const struct nf_tmpl_ref *r, const struct nf_tmpl_ctx *c,
    char *err, size_t errlen)
{
	struct tm	 tm;
	time_t		 t;
	size_t		 n;
	char		 buf[256];

	memset(&tm, 0, sizeof(tm));
	tm.tm_year = c->base_y - 1900;
	tm.tm_mon = c->base_m - 1;
	tm.tm_mday = c->base_d;
	tm.tm_hour = 12;
	switch (r->date) {
	case NF_TD_TODAY:
		break;
	case NF_TD_YESTERDAY:
		tm.tm_mday--;
		break;
	case NF_TD_MONTH_FIRST:
		tm.tm_mday = 1;
		break;
	case NF_TD_MONTH_PREVIOUS:
		tm.tm_mday = 1;
		tm.tm_mon--;
		break;
	case NF_TD_WEEK_MONDAY:
		/* Normalise first to learn the weekday. */
		t = timegm(&tm);
		gmtime_r(&t, &tm);
		tm.tm_mday -= (tm.tm_wday + 6) % 7;
		break;
	}
	t = timegm(&tm);
	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(err, errlen, "reference %s: date out of range",
		    r->text);
		return NULL;
	}
	/* The format was restricted to date conversions at load. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
	n = strftime(buf, sizeof(buf), r->fmt != NULL ? r->fmt : "%Y-%m-%d",
	    &tm);
#pragma GCC diagnostic pop
	if (n == 0 && r->fmt != NULL && r->fmt[0] != '\0') {
		snprintf(err, errlen, "reference %s: formatted date too long",
		    r->text);
		return NULL;
	}
	return nf_val_str(buf);
}

struct nf_val *
nf_tmpl_ref_resolve(const struct nf_tmpl_ref *r, const struct nf_tmpl_ctx *c,
    char *err, size_t errlen)
{
	const struct nf_tmpl_seg *g = r->segs;
	const struct nf_val *v;
	struct tm	 tm;
	time_t		 t;
	char		 buf[64];

	switch (r->root) {
	case NF_TR_PARAMS:
		if (r->nsegs == 0 || g[0].key == NULL)
			break;
		if (c->params == NULL ||
		    (v = nf_val_get(c->params, g[0].key)) == NULL) {
			snprintf(err, errlen, "reference %s: no parameter "
			    "\"%s\" (give it in the job's params or with "
			    "nfctl run -p %s=VALUE)", r->text, g[0].key,
			    g[0].key);
			return NULL;
		}
		if ((v = walk(r, 1, v, err, errlen)) == NULL)
			return NULL;
		return nf_val_dup(v);
	case NF_TR_JOB:
		return nf_val_str(c->job_id != NULL ? c->job_id : "");
	case NF_TR_RUN:
		if (r->nsegs != 1 || g[0].key == NULL)
			break;
		if (strcmp(g[0].key, "id") == 0)
			return nf_val_int(c->run_id);
		if (strcmp(g[0].key, "triggered_by") == 0)
			return nf_val_str(c->triggered_by != NULL ?
			    c->triggered_by : "");
		t = (time_t)c->base_time;
		gmtime_r(&t, &tm);
		strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
		return nf_val_str(buf);
	case NF_TR_STEPS:
		if (r->nsegs < 2 || g[0].key == NULL || g[1].key == NULL)
			break;
		if (strcmp(g[1].key, "rows_affected") == 0) {
			if (c->rows == NULL ||
			    (v = nf_val_get(c->rows, g[0].key)) == NULL) {
				snprintf(err, errlen, "reference %s: step "
				    "\"%s\" has not run in this run (skipped "
				    "or disabled)", r->text, g[0].key);
				return NULL;
			}
			return nf_val_dup(v);
		}
		if (c->outputs == NULL ||
		    (v = nf_val_get(c->outputs, g[0].key)) == NULL) {
			snprintf(err, errlen, "reference %s: step \"%s\" has "
			    "no output in this run (it was skipped or "
			    "disabled, or its type produces none)", r->text,
			    g[0].key);
			return NULL;
		}
		if ((v = walk(r, 2, v, err, errlen)) == NULL)
			return NULL;
		return nf_val_dup(v);
	case NF_TR_PREV:
		if (c->prev == NULL) {
			snprintf(err, errlen, "reference %s: no earlier step "
			    "has run in this run", r->text);
			return NULL;
		}
		if (r->nsegs == 0 || g[0].key == NULL)
			break;
		if ((v = nf_val_get(c->prev, g[0].key)) == NULL) {
			snprintf(err, errlen, "reference %s: the previous "
			    "step (%s) has no %s", r->text,
			    nf_val_get_str(c->prev, "step") != NULL ?
			    nf_val_get_str(c->prev, "step") : "?", g[0].key);
			return NULL;
		}
		if ((v = walk(r, 1, v, err, errlen)) == NULL)
			return NULL;
		return nf_val_dup(v);
	case NF_TR_DATE:
		return date_value(r, c, err, errlen);
	case NF_TR_SECRET:
		if (r->nsegs != 1 || g[0].key == NULL)
			break;
		if (c->secret == NULL) {
			snprintf(err, errlen, "reference %s: secrets cannot be "
			    "used here", r->text);
			return NULL;
		}
		return c->secret(c->secret_arg, g[0].key, err, errlen);
	}
	snprintf(err, errlen, "reference %s cannot be resolved", r->text);
	return NULL;
}

char *
nf_tmpl_text(const struct nf_val *v)
{
	char	buf[64];

	switch (v->type) {
	case NF_V_NIL:
		return nf_xstrdup("");
	case NF_V_BOOL:
		return nf_xstrdup(v->u.b ? "true" : "false");
	case NF_V_INT:
		return nf_xprintf("%lld", (long long)v->u.i);
	case NF_V_FLOAT:
		snprintf(buf, sizeof(buf), "%.15g", v->u.f);
		if (strtod(buf, NULL) != v->u.f)
			snprintf(buf, sizeof(buf), "%.17g", v->u.f);
		return nf_xstrdup(buf);
	case NF_V_STR:
		return nf_xstrndup(v->u.s.p, v->u.s.len);
	default:
		return nf_json_text(v, -1);
	}
}

/*
 * The end of the reference that starts at s[i] ("${"): index of its '}',
 * skipping quoted keys; 0 if unterminated.
 */
static size_t
ref_end(const char *s, size_t i)
{
	int	q = 0;

	for (i += 2; s[i] != '\0'; i++) {
		if (q) {
			if (s[i] == '\\' && s[i + 1] != '\0')
				i++;
			else if (s[i] == '"')
				q = 0;
		} else if (s[i] == '"')
			q = 1;
		else if (s[i] == '}')
			return i;
	}
	return 0;
}

char *
nf_tmpl_render_secrets(const char *s, const struct nf_tmpl_ctx *c, char *err,
    size_t errlen)
{
	struct nf_tmpl_ref	*r;
	struct nf_val		*v;
	struct nf_buf		 b;
	const char		*p, *e;
	size_t			 len, pos;
	char			*t;

	nf_buf_init(&b);
	for (p = s; (e = strstr(p, "${secret.")) != NULL; ) {
		nf_buf_add(&b, p, e - p);
		if (strchr(e, '}') == NULL) {
			snprintf(err, errlen, "unterminated \"${secret.\": "
			    "missing \"}\"");
			goto fail;
		}
		r = nf_tmpl_ref_parse(e + 2, strchr(e, '}') - e - 2, 0, &len,
		    err, errlen, &pos);
		if (r == NULL)
			goto fail;
		if (e[2 + len] != '}') {
			snprintf(err, errlen, "unexpected \"%c\" in \"%.*s\"",
			    e[2 + len], (int)(strchr(e, '}') - e + 1), e);
			nf_tmpl_ref_free(r);
			goto fail;
		}
		if (nf_tmpl_ref_check(r, NULL, NULL, err, errlen) == -1 ||
		    (v = nf_tmpl_ref_resolve(r, c, err, errlen)) == NULL) {
			nf_tmpl_ref_free(r);
			goto fail;
		}
		nf_tmpl_ref_free(r);
		t = nf_tmpl_text(v);
		nf_buf_adds(&b, t);
		free(t);
		nf_val_free(v);
		p = e + 2 + len + 1;
	}
	nf_buf_adds(&b, p);
	return nf_buf_steal(&b);
fail:
	nf_buf_free(&b);
	return NULL;
}

int
nf_tmpl_has_ref(const char *s)
{
	size_t	i;

	for (i = 0; s[i] != '\0'; i++) {
		if (s[i] != '$')
			continue;
		if (s[i + 1] == '$')
			i++;
		else if (s[i + 1] == '{')
			return 1;
	}
	return 0;
}

/*
 * One pass over a template: for each reference, parse it and call fn.
 * Literal text goes to out (if not NULL).  Returns the number of references
 * or -1 + err/errpos.
 */
static int
tmpl_scan(const char *s, struct nf_buf *out,
    int (*fn)(void *, const struct nf_tmpl_ref *, struct nf_buf *, char *,
    size_t), void *arg, char *err, size_t errlen, size_t *errpos)
{
	struct nf_tmpl_ref	*r;
	size_t			 i, e, len, pos;
	int			 n = 0;

	for (i = 0; s[i] != '\0'; ) {
		if (s[i] != '$' || (s[i + 1] != '$' && s[i + 1] != '{')) {
			if (out != NULL)
				nf_buf_addc(out, s[i]);
			i++;
			continue;
		}
		if (s[i + 1] == '$') {
			if (out != NULL)
				nf_buf_addc(out, '$');
			i += 2;
			continue;
		}
		if ((e = ref_end(s, i)) == 0) {
			snprintf(err, errlen, "unterminated \"${\": missing "
			    "\"}\" (write \"$${\" for a literal \"${\")");
			*errpos = i;
			return -1;
		}
		r = nf_tmpl_ref_parse(s + i + 2, e - i - 2, 0, &len, err,
		    errlen, &pos);
		if (r != NULL && len != e - i - 2) {
			snprintf(err, errlen, "unexpected \"%c\" in reference "
			    "\"${%.*s}\"", s[i + 2 + len], (int)(e - i - 2),
			    s + i + 2);
			pos = len;
			nf_tmpl_ref_free(r);
			r = NULL;
		}
		if (r == NULL) {
			*errpos = i + 2 + pos;
			return -1;
		}
		if (fn(arg, r, out, err, errlen) == -1) {
			nf_tmpl_ref_free(r);
			*errpos = i + 2;
			return -1;
		}
		nf_tmpl_ref_free(r);
		n++;
		i = e + 1;
	}
	return n;
}

static int
check_cb(void *arg, const struct nf_tmpl_ref *r, struct nf_buf *out,
    char *err, size_t errlen)
{
	return nf_tmpl_ref_check(r, arg, NULL, err, errlen);
}

int
nf_tmpl_check(const char *s, const struct nf_tmpl_scope *sc, char *err,
    size_t errlen, size_t *errpos)
{
	return tmpl_scan(s, NULL, check_cb, (void *)sc, err, errlen, errpos);
}

struct render_arg {
	const struct nf_tmpl_ctx *ctx;
	struct nf_val		*last;	/* value of the last reference */
};

static int
render_cb(void *arg, const struct nf_tmpl_ref *r, struct nf_buf *out,
    char *err, size_t errlen)
{
	struct render_arg	*ra = arg;
	struct nf_val		*v;
	char			*t;

	if ((v = nf_tmpl_ref_resolve(r, ra->ctx, err, errlen)) == NULL)
		return -1;
	t = nf_tmpl_text(v);
	nf_buf_adds(out, t);
	free(t);
	nf_val_free(ra->last);
	ra->last = v;
	return 0;
}

struct nf_val *
nf_tmpl_render(const char *s, const struct nf_tmpl_ctx *c, char *err,
    size_t errlen)
{
	struct render_arg	 ra;
	struct nf_buf		 b;
	struct nf_val		*v;
	size_t			 pos, e;
	int			 n;

	if (!nf_tmpl_has_ref(s) && strchr(s, '$') == NULL)
		return nf_val_str(s);
	ra.ctx = c;
	ra.last = NULL;
	nf_buf_init(&b);
	if ((n = tmpl_scan(s, &b, render_cb, &ra, err, errlen, &pos)) == -1) {
		nf_buf_free(&b);
		nf_val_free(ra.last);
		return NULL;
	}
	/* Exactly one reference and nothing else: keep the value's type. */
	if (n == 1 && s[0] == '$' && s[1] == '{' && (e = ref_end(s, 0)) != 0 &&
	    s[e + 1] == '\0') {
		nf_buf_free(&b);
		return ra.last;
	}
	nf_val_free(ra.last);
	v = nf_val_strn(b.data != NULL ? b.data : "", b.len);
	nf_buf_free(&b);
	return v;
}

struct nf_val *
nf_tmpl_render_val(const struct nf_val *in, const struct nf_tmpl_ctx *c,
    char *err, size_t errlen)
{
	struct nf_val	*r, *e;
	size_t		 i;

	switch (in->type) {
	case NF_V_STR:
		return nf_tmpl_render(in->u.s.p, c, err, errlen);
	case NF_V_ARR:
		r = nf_val_arr();
		for (i = 0; i < in->u.a.n; i++) {
			if ((e = nf_tmpl_render_val(in->u.a.items[i], c, err,
			    errlen)) == NULL) {
				nf_val_free(r);
				return NULL;
			}
			nf_val_arr_push(r, e);
		}
		return r;
	case NF_V_MAP:
		r = nf_val_map();
		for (i = 0; i < in->u.m.n; i++) {
			if ((e = nf_tmpl_render_val(in->u.m.kv[i].val, c, err,
			    errlen)) == NULL) {
				nf_val_free(r);
				return NULL;
			}
			nf_val_map_set(r, in->u.m.kv[i].key, e);
		}
		return r;
	default:
		return nf_val_dup(in);
	}
}

/*
 * Secrets.  One primitive for every place a secret may be recorded: the
 * supervisor's logs, history and audit (mask "***", the values of secret
 * params) and the http worker's lines and outputs (mask "[redacted]", the
 * credentials only the worker sees).  Matching is on bytes, so a value
 * inside binary or broken UTF-8 is found too; where several secrets start
 * at the same byte the longest wins, so "abc" never leaves the tail of
 * "abcdef" in the clear.
 */
void
nf_secrets_init(struct nf_secrets *s, size_t min_len)
{
	memset(s, 0, sizeof(*s));
	s->min_len = min_len > 0 ? min_len : 1;
}

void
nf_secrets_add(struct nf_secrets *s, const char *v, size_t len)
{
	size_t	i;

	if (v == NULL || len == 0 || len < s->min_len)
		return;
	for (i = 0; i < s->n; i++)
		if (s->len[i] == len && memcmp(s->v[i], v, len) == 0)
			return;
	s->v = nf_xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	s->len = nf_xreallocarray(s->len, s->n + 1, sizeof(*s->len));
	s->v[s->n] = nf_xstrndup(v, len);
	s->len[s->n++] = len;
}

void
nf_secrets_free(struct nf_secrets *s)
{
	size_t	i;

	for (i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	free(s->len);
	s->v = NULL;
	s->len = NULL;
	s->n = 0;
}

size_t
nf_secrets_redact_into(const struct nf_secrets *s, const char *mask,
    struct nf_buf *out, const char *in, size_t len)
{
	const char	 *p, *best, *end = in + len, **next;
	size_t		  i, blen = 0, hits = 0;

	if (s == NULL || s->n == 0) {
		nf_buf_add(out, in, len);
		return 0;
	}
	/* next[i]: where secret i occurs next at or after p (NULL: never). */
	next = nf_xcalloc(s->n, sizeof(*next));
	for (i = 0; i < s->n; i++)
		next[i] = memmem(in, len, s->v[i], s->len[i]);
	for (p = in; p < end; ) {
		best = NULL;
		for (i = 0; i < s->n; i++) {
			if (next[i] != NULL && next[i] < p)
				next[i] = memmem(p, (size_t)(end - p),
				    s->v[i], s->len[i]);
			if (next[i] != NULL && (best == NULL ||
			    next[i] < best || (next[i] == best &&
			    s->len[i] > blen))) {
				best = next[i];
				blen = s->len[i];
			}
		}
		if (best == NULL)
			break;
		nf_buf_add(out, p, (size_t)(best - p));
		nf_buf_adds(out, mask);
		p = best + blen;
		hits++;
	}
	if (p < end)
		nf_buf_add(out, p, (size_t)(end - p));
	free(next);
	return hits;
}

char *
nf_secrets_redact(const struct nf_secrets *s, const char *in)
{
	struct nf_buf	b;

	if (in == NULL || s == NULL || s->n == 0)
		return NULL;
	nf_buf_init(&b);
	if (nf_secrets_redact_into(s, NF_SECRET_MASK, &b, in,
	    strlen(in)) == 0) {
		nf_buf_free(&b);
		return NULL;
	}
	return nf_buf_steal(&b);
}

void
nf_secrets_redact_val(const struct nf_secrets *s, struct nf_val *v)
{
	char	*r;
	size_t	 i;

	if (v == NULL || s == NULL || s->n == 0)
		return;
	switch (v->type) {
	case NF_V_STR:
		if ((r = nf_secrets_redact(s, v->u.s.p)) != NULL) {
			free(v->u.s.p);
			v->u.s.p = r;
			v->u.s.len = strlen(r);
		}
		break;
	case NF_V_ARR:
		for (i = 0; i < v->u.a.n; i++)
			nf_secrets_redact_val(s, v->u.a.items[i]);
		break;
	case NF_V_MAP:
		for (i = 0; i < v->u.m.n; i++)
			nf_secrets_redact_val(s, v->u.m.kv[i].val);
		break;
	default:
		break;
	}
}

/* The array forms: a borrowed view of the same primitive. */
static void
secrets_view(struct nf_secrets *s, char *const *secrets, size_t nsecrets)
{
	size_t	i;

	nf_secrets_init(s, 1);
	for (i = 0; i < nsecrets; i++)
		if (secrets[i] != NULL)
			nf_secrets_add(s, secrets[i], strlen(secrets[i]));
}

char *
nf_tmpl_redact(const char *s, char *const *secrets, size_t nsecrets)
{
	struct nf_secrets	 view;
	char			*r;

	if (s == NULL || nsecrets == 0)
		return NULL;
	secrets_view(&view, secrets, nsecrets);
	r = nf_secrets_redact(&view, s);
	nf_secrets_free(&view);
	return r;
}

void
nf_tmpl_redact_val(struct nf_val *v, char *const *secrets, size_t nsecrets)
{
	struct nf_secrets	 view;

	if (v == NULL || nsecrets == 0)
		return;
	secrets_view(&view, secrets, nsecrets);
	nf_secrets_redact_val(&view, v);
	nf_secrets_free(&view);
}
