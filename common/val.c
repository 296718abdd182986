/*
 * val.c: the dynamically typed value tree (see val.h).  Used by every
 * process: frames decode into it, the store returns listings in it, nfctl
 * prints it.  Its JSON text form is common/json.c's.
 *
 * Invariants: containers own their children; map keys are unique; strings
 * are NUL-terminated in addition to being length-counted.
 */
#include "autoconf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"
#include "val.h"

static struct nf_val *
val_new(enum nf_val_type t)
{
	struct nf_val	*v;

	v = nf_xcalloc(1, sizeof(*v));
	v->type = t;
	return v;
}

struct nf_val *
nf_val_nil(void)
{
	return val_new(NF_V_NIL);
}

struct nf_val *
nf_val_bool(int b)
{
	struct nf_val	*v = val_new(NF_V_BOOL);

	v->u.b = b != 0;
	return v;
}

struct nf_val *
nf_val_int(int64_t i)
{
	struct nf_val	*v = val_new(NF_V_INT);

	v->u.i = i;
	return v;
}

struct nf_val *
nf_val_float(double f)
{
	struct nf_val	*v = val_new(NF_V_FLOAT);

	v->u.f = f;
	return v;
}

struct nf_val *
nf_val_strn(const char *s, size_t n)
{
	struct nf_val	*v = val_new(NF_V_STR);

	v->u.s.p = nf_xstrndup(s, n);
	v->u.s.len = n;
	return v;
}

struct nf_val *
nf_val_str(const char *s)
{
	return nf_val_strn(s, strlen(s));
}

struct nf_val *
nf_val_bin(const void *p, size_t n)
{
	struct nf_val	*v = val_new(NF_V_BIN);

	v->u.s.p = nf_xmalloc(n + 1);
	if (n > 0)
		memcpy(v->u.s.p, p, n);
	v->u.s.p[n] = '\0';
	v->u.s.len = n;
	return v;
}

struct nf_val *
nf_val_arr(void)
{
	return val_new(NF_V_ARR);
}

struct nf_val *
nf_val_map(void)
{
	return val_new(NF_V_MAP);
}

void
nf_val_free(struct nf_val *v)
{
	size_t	i;

	if (v == NULL)
		return;
	switch (v->type) {
	case NF_V_STR:
	case NF_V_BIN:
		free(v->u.s.p);
		break;
	case NF_V_ARR:
		for (i = 0; i < v->u.a.n; i++)
			nf_val_free(v->u.a.items[i]);
		free(v->u.a.items);
		break;
	case NF_V_MAP:
		for (i = 0; i < v->u.m.n; i++) {
			free(v->u.m.kv[i].key);
			nf_val_free(v->u.m.kv[i].val);
		}
		free(v->u.m.kv);
		break;
	default:
		break;
	}
	free(v);
}

struct nf_val *
nf_val_dup(const struct nf_val *v)
{
	struct nf_val	*d;
	size_t		 i;

	if (v == NULL)
		return NULL;
	switch (v->type) {
	case NF_V_NIL:
		return nf_val_nil();
	case NF_V_BOOL:
		return nf_val_bool(v->u.b);
	case NF_V_INT:
		return nf_val_int(v->u.i);
	case NF_V_FLOAT:
		return nf_val_float(v->u.f);
	case NF_V_STR:
		return nf_val_strn(v->u.s.p, v->u.s.len);
	case NF_V_BIN:
		return nf_val_bin(v->u.s.p, v->u.s.len);
	case NF_V_ARR:
		d = nf_val_arr();
		for (i = 0; i < v->u.a.n; i++)
			nf_val_arr_push(d, nf_val_dup(v->u.a.items[i]));
		return d;
	case NF_V_MAP:
		d = nf_val_map();
		for (i = 0; i < v->u.m.n; i++)
			nf_val_map_set(d, v->u.m.kv[i].key,
			    nf_val_dup(v->u.m.kv[i].val));
		return d;
	default:
		nf_panic("nf_val_dup: bad type %d", v->type);
	}
}

int
nf_val_equal(const struct nf_val *a, const struct nf_val *b)
{
	const struct nf_val	*o;
	size_t			 i;

	if (a == NULL || b == NULL)
		return a == b;
	if (a->type != b->type)
		return 0;
	switch (a->type) {
	case NF_V_NIL:
		return 1;
	case NF_V_BOOL:
		return a->u.b == b->u.b;
	case NF_V_INT:
		return a->u.i == b->u.i;
	case NF_V_FLOAT:
		if (isnan(a->u.f) && isnan(b->u.f))
			return 1;
		return a->u.f == b->u.f;
	case NF_V_STR:
	case NF_V_BIN:
		return a->u.s.len == b->u.s.len &&
		    memcmp(a->u.s.p, b->u.s.p, a->u.s.len) == 0;
	case NF_V_ARR:
		if (a->u.a.n != b->u.a.n)
			return 0;
		for (i = 0; i < a->u.a.n; i++)
			if (!nf_val_equal(a->u.a.items[i], b->u.a.items[i]))
				return 0;
		return 1;
	case NF_V_MAP:
		if (a->u.m.n != b->u.m.n)
			return 0;
		for (i = 0; i < a->u.m.n; i++) {
			o = nf_val_get(b, a->u.m.kv[i].key);
			if (o == NULL || !nf_val_equal(a->u.m.kv[i].val, o))
				return 0;
		}
		return 1;
	default:
		return 0;
	}
}

const char *
nf_val_type_name(enum nf_val_type t)
{
	static const char *const names[] = {
		"nil", "bool", "int", "float", "str", "bin", "array", "map",
		"any"
	};

	if ((unsigned)t >= NF_NELEM(names))
		return "?";
	return names[t];
}

void
nf_val_arr_push(struct nf_val *arr, struct nf_val *v)
{
	if (arr->type != NF_V_ARR)
		nf_panic("nf_val_arr_push on %s", nf_val_type_name(arr->type));
	if (arr->u.a.n == arr->u.a.cap) {
		arr->u.a.cap = arr->u.a.cap ? arr->u.a.cap * 2 : 4;
		arr->u.a.items = nf_xreallocarray(arr->u.a.items,
		    arr->u.a.cap, sizeof(*arr->u.a.items));
	}
	arr->u.a.items[arr->u.a.n++] = v;
}

static ssize_t
map_find(const struct nf_val *map, const char *key)
{
	size_t	i;

	for (i = 0; i < map->u.m.n; i++)
		if (strcmp(map->u.m.kv[i].key, key) == 0)
			return (ssize_t)i;
	return -1;
}

void
nf_val_map_set(struct nf_val *map, const char *key, struct nf_val *v)
{
	ssize_t	i;

	if (map->type != NF_V_MAP)
		nf_panic("nf_val_map_set on %s", nf_val_type_name(map->type));
	if ((i = map_find(map, key)) >= 0) {
		nf_val_free(map->u.m.kv[i].val);
		map->u.m.kv[i].val = v;
		return;
	}
	if (map->u.m.n == map->u.m.cap) {
		map->u.m.cap = map->u.m.cap ? map->u.m.cap * 2 : 4;
		map->u.m.kv = nf_xreallocarray(map->u.m.kv, map->u.m.cap,
		    sizeof(*map->u.m.kv));
	}
	map->u.m.kv[map->u.m.n].key = nf_xstrdup(key);
	map->u.m.kv[map->u.m.n].keylen = strlen(key);
	map->u.m.kv[map->u.m.n].val = v;
	map->u.m.n++;
}

void
nf_val_map_set_str(struct nf_val *m, const char *k, const char *s)
{
	nf_val_map_set(m, k, s == NULL ? nf_val_nil() : nf_val_str(s));
}

void
nf_val_map_set_int(struct nf_val *m, const char *k, int64_t i)
{
	nf_val_map_set(m, k, nf_val_int(i));
}

void
nf_val_map_set_bool(struct nf_val *m, const char *k, int b)
{
	nf_val_map_set(m, k, nf_val_bool(b));
}

const struct nf_val *
nf_val_get(const struct nf_val *map, const char *key)
{
	ssize_t	i;

	if (map == NULL || map->type != NF_V_MAP)
		return NULL;
	if ((i = map_find(map, key)) < 0)
		return NULL;
	return map->u.m.kv[i].val;
}

const char *
nf_val_get_str(const struct nf_val *map, const char *key)
{
	const struct nf_val	*v = nf_val_get(map, key);

	return v != NULL && v->type == NF_V_STR ? v->u.s.p : NULL;
}

int
nf_val_get_int(const struct nf_val *map, const char *key, int64_t *out)
{
	const struct nf_val	*v = nf_val_get(map, key);

	if (v == NULL || v->type != NF_V_INT)
		return 0;
	*out = v->u.i;
	return 1;
}

int
nf_val_get_bool(const struct nf_val *map, const char *key, int *out)
{
	const struct nf_val	*v = nf_val_get(map, key);

	if (v == NULL || v->type != NF_V_BOOL)
		return 0;
	*out = v->u.b;
	return 1;
}

struct nf_val *
nf_val_map_take(struct nf_val *map, const char *key)
{
	struct nf_val	*v;
	ssize_t		 i;

	if (map == NULL || map->type != NF_V_MAP ||
	    (i = map_find(map, key)) < 0)
		return NULL;
	v = map->u.m.kv[i].val;
	free(map->u.m.kv[i].key);
	memmove(&map->u.m.kv[i], &map->u.m.kv[i + 1],
	    (map->u.m.n - (size_t)i - 1) * sizeof(*map->u.m.kv));
	map->u.m.n--;
	return v;
}
