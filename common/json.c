/*
 * json.c: JSON text <-> nf_val; the only module that includes jansson.h.
 *
 * Runs in every process that reads or writes JSON: nomaflowd (stored
 * outputs and params), nfctl (--json), nomaflow-worker (templates, the
 * python runner's channel) and nomaflow-worker-http (bodies).  It is its
 * own object in libnfcore.a, so a statically linked worker carries jansson
 * only when it calls one of these functions.  In a worker, parse and
 * encode run under the step's sandbox (they only allocate); nf_json_init
 * runs before it (jansson reads /dev/urandom once to seed its hash
 * function).
 *
 * Invariants: a parsed tree never exceeds the caller's depth and value
 * limits (the OUTPUT frame it lands in is decoded under NF_MAX_DEPTH and
 * NF_MAX_OBJECTS); strings keep their exact bytes, NULs included; object
 * members keep the document's order; an allocation failure is fatal, as
 * for every nf_x* allocation.
 */
#include "autoconf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "json.h"
#include "log.h"
#include "util.h"
#include "val.h"

void
nf_json_init(void)
{
	/* 0: seed from /dev/urandom (or the time and pid without it). */
	json_object_seed(0);
}

/* jansson returns NULL when malloc fails: fatal, as nf_xmalloc is. */
static json_t *
jcheck(json_t *j)
{
	if (j == NULL)
		nf_fatal("jansson: out of memory");
	return j;
}

/* Reading. */

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

static struct nf_val *
json_load(const char *text, size_t len, size_t flags, int max_depth,
    size_t max_values, char *err, size_t errlen)
{
	struct json_limits	 l;
	struct nf_val		*v;
	json_error_t		 je;
	json_t			*j;
	char			 dummy[8];

	if (err == NULL) {
		err = dummy;
		errlen = sizeof(dummy);
	}
	/* NUL in strings is kept (\u0000); jansson refuses it in keys. */
	j = json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL | flags,
	    &je);
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

struct nf_val *
nf_json_parse(const char *text, size_t len, int max_depth, size_t max_values,
    char *err, size_t errlen)
{
	return json_load(text, len, 0, max_depth, max_values, err, errlen);
}

struct nf_val *
nf_json_read(const char *text, size_t len, char *err, size_t errlen)
{
	return json_load(text, len, JSON_REJECT_DUPLICATES, NF_JSON_MAX_DEPTH,
	    SIZE_MAX, err, errlen);
}

/* Strict encoding: path grows as the encoder descends, for the message. */
static json_t *
val_to_json(const struct nf_val *v, struct nf_buf *path, char *err,
    size_t errlen)
{
	json_t	*j, *c;
	size_t	 i, mark;

	switch (v->type) {
	case NF_V_NIL:
		return jcheck(json_null());
	case NF_V_BOOL:
		return jcheck(json_boolean(v->u.b));
	case NF_V_INT:
		return jcheck(json_integer((json_int_t)v->u.i));
	case NF_V_FLOAT:
		if (!isfinite(v->u.f)) {
			snprintf(err, errlen, "%s is not a finite number",
			    path->data);
			return NULL;
		}
		return jcheck(json_real(v->u.f));
	case NF_V_STR:
		if (!nf_utf8_valid(v->u.s.p, v->u.s.len)) {
			snprintf(err, errlen, "%s is not valid UTF-8",
			    path->data);
			return NULL;
		}
		return jcheck(json_stringn_nocheck(v->u.s.p, v->u.s.len));
	case NF_V_ARR:
		j = jcheck(json_array());
		for (i = 0; i < v->u.a.n; i++) {
			mark = path->len;
			nf_buf_printf(path, "[%zu]", i);
			c = val_to_json(v->u.a.items[i], path, err, errlen);
			path->len = mark;
			path->data[mark] = '\0';
			if (c == NULL) {
				json_decref(j);
				return NULL;
			}
			if (json_array_append_new(j, c) == -1)
				nf_fatal("jansson: out of memory");
		}
		return j;
	case NF_V_MAP:
		j = jcheck(json_object());
		for (i = 0; i < v->u.m.n; i++) {
			if (!nf_utf8_valid(v->u.m.kv[i].key,
			    v->u.m.kv[i].keylen)) {
				snprintf(err, errlen, "%s: a key is not valid "
				    "UTF-8", path->data);
				json_decref(j);
				return NULL;
			}
			mark = path->len;
			nf_buf_printf(path, ".%s", v->u.m.kv[i].key);
			c = val_to_json(v->u.m.kv[i].val, path, err, errlen);
			path->len = mark;
			path->data[mark] = '\0';
			if (c == NULL) {
				json_decref(j);
				return NULL;
			}
			if (json_object_set_new_nocheck(j, v->u.m.kv[i].key,
			    c) == -1)
				nf_fatal("jansson: out of memory");
		}
		return j;
	default:
		snprintf(err, errlen, "%s is %s, which JSON cannot carry",
		    path->data, nf_val_type_name(v->type));
		return NULL;
	}
}

static int
json_dump_buf(const char *s, size_t n, void *arg)
{
	nf_buf_add(arg, s, n);
	return 0;
}

int
nf_json_encode(const struct nf_val *v, const char *name, struct nf_buf *b,
    char *err, size_t errlen)
{
	struct nf_buf	 path;
	json_t		*j;
	int		 rc;

	nf_buf_init(&path);
	nf_buf_adds(&path, name);
	j = val_to_json(v, &path, err, errlen);
	nf_buf_free(&path);
	if (j == NULL)
		return -1;
	rc = json_dump_callback(j, json_dump_buf, b,
	    JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(j);
	if (rc == -1) {
		snprintf(err, errlen, "cannot encode %s as JSON", name);
		return -1;
	}
	return 0;
}

/* Lenient encoding: every value has a JSON form. */

/* s as a JSON string, each byte that is not UTF-8 replaced by U+FFFD. */
static json_t *
json_text(const char *s, size_t n)
{
	struct nf_buf	 b;
	json_t		*j;
	size_t		 i, len;

	if (nf_utf8_valid(s, n))
		return jcheck(json_stringn_nocheck(s, n));
	nf_buf_init(&b);
	for (i = 0; i < n; i += len) {
		if ((len = nf_utf8_decode(s + i, n - i, NULL)) > 0)
			nf_buf_add(&b, s + i, len);
		else {
			nf_buf_add_utf8(&b, 0xfffd);
			len = 1;
		}
	}
	j = jcheck(json_stringn_nocheck(b.data != NULL ? b.data : "", b.len));
	nf_buf_free(&b);
	return j;
}

static json_t *
json_base64(const unsigned char *p, size_t n)
{
	static const char	tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	struct nf_buf		b;
	json_t			*j;
	size_t			i;
	uint32_t		v;

	nf_buf_init(&b);
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		nf_buf_addc(&b, tab[v >> 18]);
		nf_buf_addc(&b, tab[(v >> 12) & 63]);
		nf_buf_addc(&b, tab[(v >> 6) & 63]);
		nf_buf_addc(&b, tab[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		nf_buf_addc(&b, tab[v >> 18]);
		nf_buf_addc(&b, tab[(v >> 12) & 63]);
		nf_buf_adds(&b, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		nf_buf_addc(&b, tab[v >> 18]);
		nf_buf_addc(&b, tab[(v >> 12) & 63]);
		nf_buf_addc(&b, tab[(v >> 6) & 63]);
		nf_buf_addc(&b, '=');
	}
	j = jcheck(json_stringn_nocheck(b.data != NULL ? b.data : "", b.len));
	nf_buf_free(&b);
	return j;
}

static json_t *
val_to_json_any(const struct nf_val *v)
{
	json_t	*j, *k;
	size_t	 i;

	switch (v->type) {
	case NF_V_NIL:
		return jcheck(json_null());
	case NF_V_BOOL:
		return jcheck(json_boolean(v->u.b));
	case NF_V_INT:
		return jcheck(json_integer((json_int_t)v->u.i));
	case NF_V_FLOAT:
		if (!isfinite(v->u.f))
			return jcheck(json_null());
		return jcheck(json_real(v->u.f));
	case NF_V_STR:
		return json_text(v->u.s.p, v->u.s.len);
	case NF_V_BIN:
		return json_base64((const unsigned char *)v->u.s.p,
		    v->u.s.len);
	case NF_V_ARR:
		j = jcheck(json_array());
		for (i = 0; i < v->u.a.n; i++)
			if (json_array_append_new(j,
			    val_to_json_any(v->u.a.items[i])) == -1)
				nf_fatal("jansson: out of memory");
		return j;
	case NF_V_MAP:
		j = jcheck(json_object());
		for (i = 0; i < v->u.m.n; i++) {
			k = json_text(v->u.m.kv[i].key, v->u.m.kv[i].keylen);
			if (json_object_set_new_nocheck(j, json_string_value(k),
			    val_to_json_any(v->u.m.kv[i].val)) == -1)
				nf_fatal("jansson: out of memory");
			json_decref(k);
		}
		return j;
	default:
		nf_panic("nf_json_write: bad type %d", v->type);
	}
}

void
nf_json_write(const struct nf_val *v, struct nf_buf *b, int indent)
{
	json_t	*j;
	size_t	 flags = JSON_ENCODE_ANY;

	if (indent < 0)
		flags |= JSON_COMPACT;
	else
		flags |= JSON_INDENT(indent > 31 ? 31 : indent);
	j = val_to_json_any(v);
	/* Every string is valid UTF-8 by now: only allocation can fail. */
	if (json_dump_callback(j, json_dump_buf, b, flags) == -1)
		nf_fatal("jansson: cannot write JSON");
	json_decref(j);
}

char *
nf_json_text(const struct nf_val *v, int indent)
{
	struct nf_buf	b;

	nf_buf_init(&b);
	nf_json_write(v, &b, indent);
	return nf_buf_steal(&b);
}
