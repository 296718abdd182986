/*
 * json.c: JSON text <-> nf_val in nomaflow-worker; the worker's only module
 * that includes jansson.h.
 *
 * Runs in the worker, under the step's sandbox for parse and encode (both
 * only allocate) and before it for nf_json_init (jansson reads /dev/urandom
 * once to seed its hash function; a sandboxed worker cannot open it).
 *
 * Invariants: a parsed tree never exceeds the caller's depth and value
 * limits (the OUTPUT frame it lands in is decoded under NF_MAX_DEPTH and
 * NF_MAX_OBJECTS); strings keep their exact bytes, NULs included; object
 * members keep the document's order.
 */
#include "autoconf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "util.h"
#include "val.h"

void
nf_json_init(void)
{
	/* 0: seed from /dev/urandom (or the time and pid without it). */
	json_object_seed(0);
}

struct json_limits {
	int	 max_depth;
	size_t	 max_values;
	size_t	 values;
	char	*err;
	size_t	 errlen;
};

static struct nf_val *
json_to_val(json_t *j, int depth, struct json_limits *l)
{
	struct nf_val	*v, *c;
	const char	*key;
	json_t		*item;
	size_t		 i;

	if (++l->values > l->max_values) {
		snprintf(l->err, l->errlen, "more than %zu values",
		    l->max_values);
		return NULL;
	}
	switch (json_typeof(j)) {
	case JSON_NULL:
		return nf_val_nil();
	case JSON_TRUE:
		return nf_val_bool(1);
	case JSON_FALSE:
		return nf_val_bool(0);
	case JSON_INTEGER:
		return nf_val_int((int64_t)json_integer_value(j));
	case JSON_REAL:
		return nf_val_float(json_real_value(j));
	case JSON_STRING:
		return nf_val_strn(json_string_value(j), json_string_length(j));
	case JSON_ARRAY:
	case JSON_OBJECT:
		break;
	}
	if (depth >= l->max_depth) {
		snprintf(l->err, l->errlen, "nested deeper than %d levels",
		    l->max_depth);
		return NULL;
	}
	if (json_is_array(j)) {
		v = nf_val_arr();
		json_array_foreach(j, i, item) {
			if ((c = json_to_val(item, depth + 1, l)) == NULL) {
				nf_val_free(v);
				return NULL;
			}
			nf_val_arr_push(v, c);
		}
		return v;
	}
	/* Keys are objects of the frame too. */
	l->values += json_object_size(j);
	if (l->values > l->max_values) {
		snprintf(l->err, l->errlen, "more than %zu values",
		    l->max_values);
		return NULL;
	}
	v = nf_val_map();
	json_object_foreach(j, key, item) {
		if ((c = json_to_val(item, depth + 1, l)) == NULL) {
			nf_val_free(v);
			return NULL;
		}
		nf_val_map_set(v, key, c);
	}
	return v;
}

struct nf_val *
nf_json_parse(const char *text, size_t len, int max_depth, size_t max_values,
    char *err, size_t errlen)
{
	struct json_limits	 l;
	struct nf_val		*v;
	json_error_t		 je;
	json_t			*j;

	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
	if (j == NULL) {
		snprintf(err, errlen, "line %d column %d: %s", je.line,
		    je.column, je.text);
		return NULL;
	}
	l.max_depth = max_depth;
	l.max_values = max_values;
	l.values = 0;
	l.err = err;
	l.errlen = errlen;
	v = json_to_val(j, 0, &l);
	json_decref(j);
	return v;
}

/* path grows as the encoder descends, for the error message. */
static json_t *
val_to_json(const struct nf_val *v, struct nf_buf *path, char *err,
    size_t errlen)
{
	json_t	*j, *c;
	size_t	 i, mark;

	switch (v->type) {
	case NF_V_NIL:
		return json_null();
	case NF_V_BOOL:
		return json_boolean(v->u.b);
	case NF_V_INT:
		return json_integer((json_int_t)v->u.i);
	case NF_V_FLOAT:
		if (!isfinite(v->u.f)) {
			snprintf(err, errlen, "%s is not a finite number",
			    path->data);
			return NULL;
		}
		return json_real(v->u.f);
	case NF_V_STR:
		if ((j = json_stringn(v->u.s.p, v->u.s.len)) == NULL)
			snprintf(err, errlen, "%s is not valid UTF-8",
			    path->data);
		return j;
	case NF_V_ARR:
		j = json_array();
		for (i = 0; i < v->u.a.n; i++) {
			mark = path->len;
			nf_buf_printf(path, "[%zu]", i);
			c = val_to_json(v->u.a.items[i], path, err, errlen);
			path->len = mark;
			path->data[mark] = '\0';
			if (c == NULL || json_array_append_new(j, c) == -1) {
				json_decref(j);
				return NULL;
			}
		}
		return j;
	case NF_V_MAP:
		j = json_object();
		for (i = 0; i < v->u.m.n; i++) {
			mark = path->len;
			nf_buf_printf(path, ".%s", v->u.m.kv[i].key);
			c = val_to_json(v->u.m.kv[i].val, path, err, errlen);
			path->len = mark;
			path->data[mark] = '\0';
			if (c == NULL) {
				json_decref(j);
				return NULL;
			}
			if (json_object_set_new(j, v->u.m.kv[i].key, c) ==
			    -1) {
				snprintf(err, errlen, "%s: key \"%s\" is not "
				    "valid UTF-8", path->data,
				    v->u.m.kv[i].key);
				json_decref(j);
				return NULL;
			}
		}
		return j;
	default:
		snprintf(err, errlen, "%s is %s, which JSON cannot carry",
		    path->data, nf_val_type_name(v->type));
		return NULL;
	}
}

int
nf_json_encode(const struct nf_val *v, const char *name, struct nf_buf *b,
    char *err, size_t errlen)
{
	struct nf_buf	 path;
	json_t		*j;
	char		*s;

	nf_buf_init(&path);
	nf_buf_adds(&path, name);
	j = val_to_json(v, &path, err, errlen);
	nf_buf_free(&path);
	if (j == NULL)
		return -1;
	s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (s == NULL) {
		snprintf(err, errlen, "cannot encode the body as JSON");
		return -1;
	}
	nf_buf_adds(b, s);
	free(s);
	return 0;
}
