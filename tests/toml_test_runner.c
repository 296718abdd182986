/*
 * toml_test_runner.c: runs the vendored official TOML test suite
 * (tests/toml-test) against supervisor/toml.c and prints TAP.
 *
 * Usage: toml_test_runner DIR
 *
 * DIR/files-toml-1.0.0 lists every case.  A valid/ case must parse, and
 * its tree must equal the tagged JSON beside it (tables are objects,
 * arrays are arrays, scalars are {"type": ..., "value": "..."}); values are
 * compared by meaning, not by spelling (1e2 == 100.0, "07:32:00.000" ==
 * "07:32:00", "T" == "t" == " ").  An invalid/ case must be rejected.
 *
 * The expected JSON is read by a small reader of our own: the suite has
 * object keys containing U+0000, which nf_val (NUL-terminated keys)
 * rightly refuses.  It knows only objects, arrays and strings, the only
 * things tagged JSON holds.
 *
 * Exit status is always 0: the TAP lines carry the result.
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "util.h"

#define JSON_MAX_DEPTH	256

enum jtype {
	J_STR,
	J_ARR,
	J_OBJ,
};

struct jval {
	enum jtype	  type;
	char		 *s;	/* J_STR */
	size_t		  len;
	struct jval	**items;	/* J_ARR and J_OBJ */
	char		**keys;	/* J_OBJ */
	size_t		 *keylens;
	size_t		  n, cap;
};

struct jreader {
	const char	*p, *end;
	const char	*err;
};

static void
jfree(struct jval *v)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < v->n; i++) {
		jfree(v->items[i]);
		if (v->keys != NULL)
			free(v->keys[i]);
	}
	free(v->items);
	free(v->keys);
	free(v->keylens);
	free(v->s);
	free(v);
}

static void
jws(struct jreader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
	    *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int
jhex4(struct jreader *r, uint32_t *out)
{
	int	i, c;

	*out = 0;
	for (i = 0; i < 4; i++) {
		if (r->p >= r->end)
			return -1;
		c = (unsigned char)*r->p++;
		if (c >= '0' && c <= '9')
			c -= '0';
		else if (c >= 'a' && c <= 'f')
			c -= 'a' - 10;
		else if (c >= 'A' && c <= 'F')
			c -= 'A' - 10;
		else
			return -1;
		*out = *out * 16 + (uint32_t)c;
	}
	return 0;
}

/* At '"': decode a JSON string into b. */
static int
jstring(struct jreader *r, struct nf_buf *b)
{
	uint32_t	cp, lo;
	char		c;

	r->p++;
	for (;;) {
		if (r->p >= r->end) {
			r->err = "unterminated string";
			return -1;
		}
		c = *r->p++;
		if (c == '"')
			return 0;
		if (c != '\\') {
			nf_buf_addc(b, c);
			continue;
		}
		if (r->p >= r->end) {
			r->err = "unterminated escape";
			return -1;
		}
		c = *r->p++;
		switch (c) {
		case '"':
		case '\\':
		case '/':
			nf_buf_addc(b, c);
			break;
		case 'b':
			nf_buf_addc(b, '\b');
			break;
		case 'f':
			nf_buf_addc(b, '\f');
			break;
		case 'n':
			nf_buf_addc(b, '\n');
			break;
		case 'r':
			nf_buf_addc(b, '\r');
			break;
		case 't':
			nf_buf_addc(b, '\t');
			break;
		case 'u':
			if (jhex4(r, &cp) == -1) {
				r->err = "bad \\u escape";
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (r->end - r->p < 6 || r->p[0] != '\\' ||
				    r->p[1] != 'u') {
					r->err = "lone surrogate";
					return -1;
				}
				r->p += 2;
				if (jhex4(r, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					r->err = "bad surrogate pair";
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			}
			nf_buf_add_utf8(b, cp);
			break;
		default:
			r->err = "bad escape";
			return -1;
		}
	}
}

static struct jval *
jvalue(struct jreader *r, int depth)
{
	struct jval	*v, *item;
	struct nf_buf	 b;

	jws(r);
	if (depth > JSON_MAX_DEPTH || r->p >= r->end) {
		r->err = depth > JSON_MAX_DEPTH ? "too deep" : "unexpected end";
		return NULL;
	}
	v = nf_xcalloc(1, sizeof(*v));
	if (*r->p == '"') {
		v->type = J_STR;
		nf_buf_init(&b);
		if (jstring(r, &b) == -1) {
			nf_buf_free(&b);
			free(v);
			return NULL;
		}
		v->len = b.len;
		v->s = nf_buf_steal(&b);
		return v;
	}
	if (*r->p != '[' && *r->p != '{') {
		r->err = "tagged JSON holds only objects, arrays and strings";
		free(v);
		return NULL;
	}
	v->type = *r->p == '[' ? J_ARR : J_OBJ;
	r->p++;
	jws(r);
	if (r->p < r->end && *r->p == (v->type == J_ARR ? ']' : '}')) {
		r->p++;
		return v;
	}
	for (;;) {
		if (v->n == v->cap) {
			v->cap = v->cap == 0 ? 8 : v->cap * 2;
			v->items = nf_xreallocarray(v->items, v->cap,
			    sizeof(*v->items));
			if (v->type == J_OBJ) {
				v->keys = nf_xreallocarray(v->keys, v->cap,
				    sizeof(*v->keys));
				v->keylens = nf_xreallocarray(v->keylens,
				    v->cap, sizeof(*v->keylens));
			}
		}
		if (v->type == J_OBJ) {
			jws(r);
			if (r->p >= r->end || *r->p != '"') {
				r->err = "expected object key";
				goto fail;
			}
			nf_buf_init(&b);
			if (jstring(r, &b) == -1) {
				nf_buf_free(&b);
				goto fail;
			}
			jws(r);
			if (r->p >= r->end || *r->p != ':') {
				nf_buf_free(&b);
				r->err = "expected ':'";
				goto fail;
			}
			r->p++;
			if ((item = jvalue(r, depth + 1)) == NULL) {
				nf_buf_free(&b);
				goto fail;
			}
			v->keylens[v->n] = b.len;
			v->keys[v->n] = nf_buf_steal(&b);
		} else if ((item = jvalue(r, depth + 1)) == NULL)
			goto fail;
		v->items[v->n++] = item;
		jws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == (v->type == J_ARR ? ']' : '}')) {
			r->p++;
			return v;
		}
		r->err = "expected ',' or a closing bracket";
		goto fail;
	}
fail:
	jfree(v);
	return NULL;
}

static const struct jval *
jget(const struct jval *obj, const char *key, size_t len)
{
	size_t	i;

	for (i = 0; i < obj->n; i++)
		if (obj->keylens[i] == len && memcmp(obj->keys[i], key,
		    len) == 0)
			return obj->items[i];
	return NULL;
}

/* {"type": "...", "value": "..."}: a scalar. */
static int
jleaf(const struct jval *v, const char **type, const struct jval **value)
{
	const struct jval	*t, *val;

	if (v->type != J_OBJ || v->n != 2 ||
	    (t = jget(v, "type", 4)) == NULL || t->type != J_STR ||
	    (val = jget(v, "value", 5)) == NULL || val->type != J_STR)
		return 0;
	*type = t->s;
	*value = val;
	return 1;
}

static char *
read_file(const char *path, size_t *lenp)
{
	FILE		*f;
	struct nf_buf	 b;
	char		 chunk[8192];
	size_t		 n;

	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	nf_buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		nf_buf_add(&b, chunk, n);
	if (ferror(f)) {
		fclose(f);
		nf_buf_free(&b);
		return NULL;
	}
	fclose(f);
	*lenp = b.len;
	return nf_buf_steal(&b);
}

/* Comparison: on mismatch, describe it in why and return -1. */

static const char *
tagged_type(enum nf_toml_type t)
{
	switch (t) {
	case NF_TOML_STRING:
		return "string";
	case NF_TOML_INTEGER:
		return "integer";
	case NF_TOML_FLOAT:
		return "float";
	case NF_TOML_BOOL:
		return "bool";
	case NF_TOML_DATETIME:
		return "datetime";
	case NF_TOML_DATETIME_LOCAL:
		return "datetime-local";
	case NF_TOML_DATE_LOCAL:
		return "date-local";
	case NF_TOML_TIME_LOCAL:
		return "time-local";
	case NF_TOML_ARRAY:
		return "array";
	case NF_TOML_TABLE:
		return "table";
	}
	return "?";
}

/*
 * The expected date/time text is read by the parser under test itself
 * ("v = <text>"): the suite's spellings are all valid TOML, and comparing
 * the decoded fields makes "T"/" "/"t" and fractional seconds written in
 * any width compare equal.
 */
static int
parse_expected_dt(const char *text, struct nf_toml_datetime *dt,
    enum nf_toml_type *type)
{
	struct nf_toml_value		*root;
	const struct nf_toml_value	*v;
	char				*doc, err[256];
	int				 rc = -1;

	doc = nf_xprintf("v = %s\n", text);
	root = nf_toml_parse(doc, strlen(doc), "expected", err, sizeof(err));
	free(doc);
	if (root == NULL)
		return -1;
	if ((v = nf_toml_get(root, "v")) != NULL &&
	    v->type >= NF_TOML_DATETIME && v->type <= NF_TOML_TIME_LOCAL) {
		*dt = v->u.dt;
		*type = v->type;
		rc = 0;
	}
	nf_toml_free(root);
	return rc;
}

static int
parse_expected_float(const char *s, double *out)
{
	const char	*r = s;
	char		*end;
	int		 neg = 0;

	if (*r == '+' || *r == '-') {
		neg = *r == '-';
		r++;
	}
	if (strcmp(r, "inf") == 0 || strcmp(r, "Inf") == 0) {
		*out = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (strcmp(r, "nan") == 0 || strcmp(r, "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return -1;
	return 0;
}

static int
cmp_leaf(const struct nf_toml_value *v, const char *etype,
    const struct jval *ev, struct nf_buf *why)
{
	struct nf_toml_datetime	 dt;
	enum nf_toml_type	 dtype;
	long long		 ll;
	double			 f;
	char			*end;

	if (strcmp(etype, tagged_type(v->type)) != 0) {
		nf_buf_printf(why, "type %s, expected %s", tagged_type(v->type),
		    etype);
		return -1;
	}
	switch (v->type) {
	case NF_TOML_STRING:
		if (v->u.str.len != ev->len ||
		    memcmp(v->u.str.s, ev->s, ev->len) != 0) {
			nf_buf_printf(why, "string \"%s\", expected \"%s\"",
			    v->u.str.s, ev->s);
			return -1;
		}
		return 0;
	case NF_TOML_INTEGER:
		errno = 0;
		ll = strtoll(ev->s, &end, 10);
		if (errno != 0 || *end != '\0' || end == ev->s) {
			nf_buf_printf(why, "bad expected integer %s", ev->s);
			return -1;
		}
		if ((int64_t)ll != v->u.i) {
			nf_buf_printf(why, "integer %lld, expected %s",
			    (long long)v->u.i, ev->s);
			return -1;
		}
		return 0;
	case NF_TOML_FLOAT:
		if (parse_expected_float(ev->s, &f) == -1) {
			nf_buf_printf(why, "bad expected float %s", ev->s);
			return -1;
		}
		if (isnan(f) && isnan(v->u.f))
			return 0;
		if (f != v->u.f || signbit(f) != signbit(v->u.f)) {
			nf_buf_printf(why, "float %.17g, expected %s", v->u.f,
			    ev->s);
			return -1;
		}
		return 0;
	case NF_TOML_BOOL:
		if (strcmp(ev->s, v->u.b ? "true" : "false") != 0) {
			nf_buf_printf(why, "bool %d, expected %s", v->u.b,
			    ev->s);
			return -1;
		}
		return 0;
	default:
		if (parse_expected_dt(ev->s, &dt, &dtype) == -1 ||
		    dtype != v->type) {
			nf_buf_printf(why, "bad expected date/time %s", ev->s);
			return -1;
		}
		if (dt.year != v->u.dt.year || dt.month != v->u.dt.month ||
		    dt.day != v->u.dt.day || dt.hour != v->u.dt.hour ||
		    dt.minute != v->u.dt.minute ||
		    dt.second != v->u.dt.second ||
		    dt.nanosecond != v->u.dt.nanosecond ||
		    dt.has_offset != v->u.dt.has_offset ||
		    dt.offset_minutes != v->u.dt.offset_minutes) {
			nf_buf_printf(why, "date/time %04d-%02d-%02dT%02d:%02d:"
			    "%02d.%09d%+d, expected %s", v->u.dt.year,
			    v->u.dt.month, v->u.dt.day, v->u.dt.hour,
			    v->u.dt.minute, v->u.dt.second,
			    v->u.dt.nanosecond, v->u.dt.offset_minutes,
			    ev->s);
			return -1;
		}
		return 0;
	}
}

static int
cmp_tree(const struct nf_toml_value *v, const struct jval *e,
    struct nf_buf *path, struct nf_buf *why)
{
	const struct jval	*ev, *child;
	const char		*etype;
	size_t			 i, plen = path->len;
	int			 rc = 0;

	if (jleaf(e, &etype, &ev)) {
		if (v->type == NF_TOML_TABLE || v->type == NF_TOML_ARRAY) {
			nf_buf_printf(why, "%s: got %s, expected %s",
			    path->data ? path->data : "", tagged_type(v->type),
			    etype);
			return -1;
		}
		if (cmp_leaf(v, etype, ev, why) == -1) {
			nf_buf_printf(why, " at %s",
			    path->data ? path->data : "");
			return -1;
		}
		return 0;
	}
	if (e->type == J_ARR) {
		if (v->type != NF_TOML_ARRAY || v->u.arr.n != e->n) {
			nf_buf_printf(why, "%s: got %s (%zu items), expected "
			    "an array of %zu", path->data ? path->data : "",
			    tagged_type(v->type), v->type == NF_TOML_ARRAY ?
			    v->u.arr.n : 0, e->n);
			return -1;
		}
		for (i = 0; i < e->n && rc == 0; i++) {
			nf_buf_printf(path, "[%zu]", i);
			rc = cmp_tree(v->u.arr.items[i], e->items[i], path,
			    why);
			path->len = plen;
			path->data[plen] = '\0';
		}
		return rc;
	}
	if (e->type != J_OBJ || v->type != NF_TOML_TABLE ||
	    v->u.tab.n != e->n) {
		nf_buf_printf(why, "%s: got %s (%zu keys), expected %s of %zu",
		    path->data ? path->data : "", tagged_type(v->type),
		    v->type == NF_TOML_TABLE ? v->u.tab.n : 0,
		    e->type == J_OBJ ? "a table" : "a string", e->n);
		return -1;
	}
	for (i = 0; i < v->u.tab.n && rc == 0; i++) {
		nf_buf_printf(path, ".%s", v->u.tab.kv[i].key);
		child = jget(e, v->u.tab.kv[i].key, v->u.tab.kv[i].keylen);
		if (child == NULL) {
			nf_buf_printf(why, "%s: unexpected key", path->data);
			rc = -1;
		} else
			rc = cmp_tree(v->u.tab.kv[i].val, child, path, why);
		path->len = plen;
		path->data[plen] = '\0';
	}
	return rc;
}

/* Run one case; returns 1 if it passed. */
static int
run_case(const char *dir, const char *rel, int valid, struct nf_buf *why)
{
	struct nf_toml_value	*root;
	struct jreader		 r;
	struct jval		*expect;
	struct nf_buf		 path;
	char			*tpath, *jpath, *text, *json, err[512];
	size_t			 tlen, jlen;
	int			 ok = 0;

	tpath = nf_xprintf("%s/%s", dir, rel);
	if ((text = read_file(tpath, &tlen)) == NULL) {
		nf_buf_printf(why, "cannot read %s: %s", tpath,
		    strerror(errno));
		free(tpath);
		return 0;
	}
	root = nf_toml_parse(text, tlen, rel, err, sizeof(err));
	free(text);
	if (!valid) {
		if (root != NULL)
			nf_buf_printf(why, "invalid input was accepted");
		else {
			nf_buf_printf(why, "%s", err);
			ok = 1;
		}
		nf_toml_free(root);
		free(tpath);
		return ok;
	}
	if (root == NULL) {
		nf_buf_printf(why, "%s", err);
		free(tpath);
		return 0;
	}
	jpath = nf_xprintf("%.*s.json", (int)(strlen(tpath) - 5), tpath);
	free(tpath);
	if ((json = read_file(jpath, &jlen)) == NULL) {
		nf_buf_printf(why, "cannot read %s: %s", jpath,
		    strerror(errno));
		goto out;
	}
	r.p = json;
	r.end = json + jlen;
	r.err = NULL;
	expect = jvalue(&r, 0);
	if (expect != NULL) {
		jws(&r);
		if (r.p != r.end) {
			r.err = "trailing characters";
			jfree(expect);
			expect = NULL;
		}
	}
	if (expect == NULL)
		nf_buf_printf(why, "bad JSON in %s: %s", jpath, r.err);
	else {
		nf_buf_init(&path);
		nf_buf_adds(&path, "");
		ok = cmp_tree(root, expect, &path, why) == 0;
		nf_buf_free(&path);
		jfree(expect);
	}
	free(json);
out:
	free(jpath);
	nf_toml_free(root);
	return ok;
}

int
main(int argc, char *argv[])
{
	struct nf_buf	 why;
	char		*list, *listpath, *line, *next, **cases = NULL;
	size_t		 len, n = 0, cap = 0, i, l;
	int		 verbose = 0, valid, ok;
	int		 nvalid = 0, nvalid_ok = 0;
	int		 ninvalid = 0, ninvalid_ok = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: toml_test_runner [-v] DIR\n");
		printf("1..0 # SKIP no toml-test directory given\n");
		return 0;
	}
	listpath = nf_xprintf("%s/files-toml-1.0.0", argv[1]);
	if ((list = read_file(listpath, &len)) == NULL) {
		printf("1..1\nnot ok 1 - cannot read %s: %s\n", listpath,
		    strerror(errno));
		free(listpath);
		return 0;
	}
	free(listpath);
	for (line = list; line < list + len; line = next) {
		if ((next = memchr(line, '\n', (size_t)(list + len - line))) ==
		    NULL)
			next = list + len;
		*next++ = '\0';
		l = strlen(line);
		if (l > 0 && line[l - 1] == '\r')
			line[--l] = '\0';
		if (l < 5 || strcmp(line + l - 5, ".toml") != 0)
			continue;
		if (strncmp(line, "valid/", 6) != 0 &&
		    strncmp(line, "invalid/", 8) != 0)
			continue;
		if (n == cap) {
			cap = cap == 0 ? 1024 : cap * 2;
			cases = nf_xreallocarray(cases, cap, sizeof(*cases));
		}
		cases[n++] = line;
	}
	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		valid = cases[i][0] == 'v';
		nf_buf_init(&why);
		ok = run_case(argv[1], cases[i], valid, &why);
		if (valid) {
			nvalid++;
			nvalid_ok += ok;
		} else {
			ninvalid++;
			ninvalid_ok += ok;
		}
		printf("%sok %zu - %s\n", ok ? "" : "not ", i + 1, cases[i]);
		if (!ok || verbose) {
			/* One diagnostic line, whatever the values hold. */
			for (l = 0; l < why.len; l++)
				if (why.data[l] == '\n' || why.data[l] == '\r')
					why.data[l] = ' ';
			printf("# %s\n", why.data != NULL ? why.data : "");
		}
		nf_buf_free(&why);
	}
	printf("# toml-test 1.0: %d/%d valid decoded, %d/%d invalid "
	    "rejected\n", nvalid_ok, nvalid, ninvalid_ok, ninvalid);
	free(cases);
	free(list);
	return 0;
}
