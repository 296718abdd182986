/*
 * val.c: the dynamically typed value tree (see val.h) and its JSON text
 * form.  Used by every process: frames decode into it, the store returns
 * listings in it, nfctl prints it.
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

/* Nesting limit for the JSON reader (text we wrote, but be safe). */
#define JSON_MAX_DEPTH	64

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

/* JSON output. */

static void
json_str(struct nf_buf *b, const char *s, size_t n)
{
	static const char	hex[] = "0123456789abcdef";
	size_t			i;
	unsigned char		c;

	nf_buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i];
		switch (c) {
		case '"':  nf_buf_adds(b, "\\\""); break;
		case '\\': nf_buf_adds(b, "\\\\"); break;
		case '\n': nf_buf_adds(b, "\\n"); break;
		case '\r': nf_buf_adds(b, "\\r"); break;
		case '\t': nf_buf_adds(b, "\\t"); break;
		case '\b': nf_buf_adds(b, "\\b"); break;
		case '\f': nf_buf_adds(b, "\\f"); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				nf_buf_adds(b, "\\u00");
				nf_buf_addc(b, hex[c >> 4]);
				nf_buf_addc(b, hex[c & 15]);
			} else
				nf_buf_addc(b, c);
		}
	}
	nf_buf_addc(b, '"');
}

static void
json_b64(struct nf_buf *b, const unsigned char *p, size_t n)
{
	static const char	tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t			i;
	uint32_t		v;

	nf_buf_addc(b, '"');
	for (i = 0; i + 2 < n; i += 3) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		nf_buf_addc(b, tab[v >> 18]);
		nf_buf_addc(b, tab[(v >> 12) & 63]);
		nf_buf_addc(b, tab[(v >> 6) & 63]);
		nf_buf_addc(b, tab[v & 63]);
	}
	if (n - i == 1) {
		v = (uint32_t)p[i] << 16;
		nf_buf_addc(b, tab[v >> 18]);
		nf_buf_addc(b, tab[(v >> 12) & 63]);
		nf_buf_adds(b, "==");
	} else if (n - i == 2) {
		v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;
		nf_buf_addc(b, tab[v >> 18]);
		nf_buf_addc(b, tab[(v >> 12) & 63]);
		nf_buf_addc(b, tab[(v >> 6) & 63]);
		nf_buf_addc(b, '=');
	}
	nf_buf_addc(b, '"');
}

static void
json_nl(struct nf_buf *b, int indent, int level)
{
	int	i;

	if (indent < 0)
		return;
	nf_buf_addc(b, '\n');
	for (i = 0; i < indent * level; i++)
		nf_buf_addc(b, ' ');
}

static void
json_val(const struct nf_val *v, struct nf_buf *b, int indent, int level)
{
	char	num[64];
	size_t	i;

	switch (v->type) {
	case NF_V_NIL:
		nf_buf_adds(b, "null");
		break;
	case NF_V_BOOL:
		nf_buf_adds(b, v->u.b ? "true" : "false");
		break;
	case NF_V_INT:
		nf_buf_printf(b, "%lld", (long long)v->u.i);
		break;
	case NF_V_FLOAT:
		if (!isfinite(v->u.f)) {
			nf_buf_adds(b, "null");
			break;
		}
		snprintf(num, sizeof(num), "%.17g", v->u.f);
		/* Keep it a float when read back. */
		if (strpbrk(num, ".eE") == NULL)
			memcpy(num + strlen(num), ".0", 3);
		nf_buf_adds(b, num);
		break;
	case NF_V_STR:
		json_str(b, v->u.s.p, v->u.s.len);
		break;
	case NF_V_BIN:
		json_b64(b, (const unsigned char *)v->u.s.p, v->u.s.len);
		break;
	case NF_V_ARR:
		if (v->u.a.n == 0) {
			nf_buf_adds(b, "[]");
			break;
		}
		nf_buf_addc(b, '[');
		for (i = 0; i < v->u.a.n; i++) {
			if (i > 0)
				nf_buf_addc(b, ',');
			json_nl(b, indent, level + 1);
			json_val(v->u.a.items[i], b, indent, level + 1);
		}
		json_nl(b, indent, level);
		nf_buf_addc(b, ']');
		break;
	case NF_V_MAP:
		if (v->u.m.n == 0) {
			nf_buf_adds(b, "{}");
			break;
		}
		nf_buf_addc(b, '{');
		for (i = 0; i < v->u.m.n; i++) {
			if (i > 0)
				nf_buf_addc(b, ',');
			json_nl(b, indent, level + 1);
			json_str(b, v->u.m.kv[i].key, v->u.m.kv[i].keylen);
			nf_buf_adds(b, indent >= 0 ? ": " : ":");
			json_val(v->u.m.kv[i].val, b, indent, level + 1);
		}
		json_nl(b, indent, level);
		nf_buf_addc(b, '}');
		break;
	default:
		nf_panic("json_val: bad type %d", v->type);
	}
}

void
nf_val_to_json(const struct nf_val *v, struct nf_buf *b, int indent)
{
	json_val(v, b, indent, 0);
}

char *
nf_val_to_json_str(const struct nf_val *v, int indent)
{
	struct nf_buf	b;

	nf_buf_init(&b);
	json_val(v, &b, indent, 0);
	return nf_buf_steal(&b);
}

/* JSON input: strict RFC 8259, UTF-8. */

struct jp {
	const char	*p, *end, *start;
	char		*err;
	size_t		 errlen;
	int		 failed;
};

static void
jp_fail(struct jp *j, const char *msg)
{
	if (!j->failed)
		snprintf(j->err, j->errlen, "JSON offset %zu: %s",
		    (size_t)(j->p - j->start), msg);
	j->failed = 1;
}

static void
jp_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' ||
	    *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
jp_hex4(struct jp *j, uint32_t *out)
{
	uint32_t	v = 0;
	int		i, c;

	if (j->end - j->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		c = (unsigned char)*j->p++;
		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return -1;
	}
	*out = v;
	return 0;
}

static int
jp_string(struct jp *j, struct nf_buf *b)
{
	const char	*s;
	uint32_t	 cp, lo;

	j->p++;		/* opening quote */
	for (;;) {
		if (j->p >= j->end) {
			jp_fail(j, "unterminated string");
			return -1;
		}
		if (*j->p == '"') {
			j->p++;
			break;
		}
		if ((unsigned char)*j->p < 0x20) {
			jp_fail(j, "control character in string");
			return -1;
		}
		if (*j->p != '\\') {
			s = j->p;
			while (j->p < j->end && *j->p != '"' && *j->p != '\\' &&
			    (unsigned char)*j->p >= 0x20)
				j->p++;
			nf_buf_add(b, s, (size_t)(j->p - s));
			continue;
		}
		if (++j->p >= j->end) {
			jp_fail(j, "unterminated escape");
			return -1;
		}
		switch (*j->p++) {
		case '"': nf_buf_addc(b, '"'); break;
		case '\\': nf_buf_addc(b, '\\'); break;
		case '/': nf_buf_addc(b, '/'); break;
		case 'b': nf_buf_addc(b, '\b'); break;
		case 'f': nf_buf_addc(b, '\f'); break;
		case 'n': nf_buf_addc(b, '\n'); break;
		case 'r': nf_buf_addc(b, '\r'); break;
		case 't': nf_buf_addc(b, '\t'); break;
		case 'u':
			if (jp_hex4(j, &cp) == -1) {
				jp_fail(j, "bad \\u escape");
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (j->end - j->p < 6 || j->p[0] != '\\' ||
				    j->p[1] != 'u') {
					jp_fail(j, "unpaired surrogate");
					return -1;
				}
				j->p += 2;
				if (jp_hex4(j, &lo) == -1 || lo < 0xdc00 ||
				    lo > 0xdfff) {
					jp_fail(j, "bad surrogate pair");
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) +
				    (lo - 0xdc00);
			} else if (cp >= 0xdc00 && cp <= 0xdfff) {
				jp_fail(j, "unpaired surrogate");
				return -1;
			}
			nf_buf_add_utf8(b, cp);
			break;
		default:
			jp_fail(j, "bad escape");
			return -1;
		}
	}
	if (!nf_utf8_valid(b->data != NULL ? b->data : "", b->len)) {
		jp_fail(j, "invalid UTF-8 in string");
		return -1;
	}
	return 0;
}

static struct nf_val *jp_value(struct jp *, int);

static struct nf_val *
jp_number(struct jp *j)
{
	const char	*s = j->p;
	char		 tmp[128], *ep;
	int		 isfloat = 0;
	long long	 ll;
	double		 d;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
		jp_fail(j, "bad number");
		return NULL;
	}
	if (*j->p == '0')
		j->p++;
	else
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	if (j->p < j->end && *j->p == '.') {
		isfloat = 1;
		j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
			jp_fail(j, "bad number");
			return NULL;
		}
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		isfloat = 1;
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		if (j->p >= j->end || *j->p < '0' || *j->p > '9') {
			jp_fail(j, "bad number");
			return NULL;
		}
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	}
	if ((size_t)(j->p - s) >= sizeof(tmp)) {
		jp_fail(j, "number too long");
		return NULL;
	}
	memcpy(tmp, s, (size_t)(j->p - s));
	tmp[j->p - s] = '\0';
	errno = 0;
	if (!isfloat) {
		ll = strtoll(tmp, &ep, 10);
		if (errno == 0)
			return nf_val_int(ll);
	}
	d = strtod(tmp, &ep);
	return nf_val_float(d);
}

static int
jp_lit(struct jp *j, const char *lit)
{
	size_t	n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return 0;
	j->p += n;
	return 1;
}

static struct nf_val *
jp_value(struct jp *j, int depth)
{
	struct nf_val	*v, *item;
	struct nf_buf	 key;

	if (depth > JSON_MAX_DEPTH) {
		jp_fail(j, "nesting too deep");
		return NULL;
	}
	jp_ws(j);
	if (j->p >= j->end) {
		jp_fail(j, "unexpected end of input");
		return NULL;
	}
	switch (*j->p) {
	case '{':
		j->p++;
		v = nf_val_map();
		jp_ws(j);
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return v;
		}
		for (;;) {
			jp_ws(j);
			if (j->p >= j->end || *j->p != '"') {
				jp_fail(j, "expected object key");
				goto fail;
			}
			nf_buf_init(&key);
			if (jp_string(j, &key) == -1) {
				nf_buf_free(&key);
				goto fail;
			}
			if (memchr(key.data ? key.data : "", '\0', key.len)) {
				nf_buf_free(&key);
				jp_fail(j, "NUL in object key");
				goto fail;
			}
			jp_ws(j);
			if (j->p >= j->end || *j->p != ':') {
				nf_buf_free(&key);
				jp_fail(j, "expected ':'");
				goto fail;
			}
			j->p++;
			if ((item = jp_value(j, depth + 1)) == NULL) {
				nf_buf_free(&key);
				goto fail;
			}
			if (nf_val_get(v, key.data ? key.data : "") != NULL) {
				nf_buf_free(&key);
				nf_val_free(item);
				jp_fail(j, "duplicate object key");
				goto fail;
			}
			nf_val_map_set(v, key.data ? key.data : "", item);
			nf_buf_free(&key);
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == '}') {
				j->p++;
				return v;
			}
			jp_fail(j, "expected ',' or '}'");
			goto fail;
		}
	case '[':
		j->p++;
		v = nf_val_arr();
		jp_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return v;
		}
		for (;;) {
			if ((item = jp_value(j, depth + 1)) == NULL)
				goto fail;
			nf_val_arr_push(v, item);
			jp_ws(j);
			if (j->p < j->end && *j->p == ',') {
				j->p++;
				continue;
			}
			if (j->p < j->end && *j->p == ']') {
				j->p++;
				return v;
			}
			jp_fail(j, "expected ',' or ']'");
			goto fail;
		}
	case '"':
		nf_buf_init(&key);
		if (jp_string(j, &key) == -1) {
			nf_buf_free(&key);
			return NULL;
		}
		v = nf_val_strn(key.data ? key.data : "", key.len);
		nf_buf_free(&key);
		return v;
	case 't':
		if (jp_lit(j, "true"))
			return nf_val_bool(1);
		break;
	case 'f':
		if (jp_lit(j, "false"))
			return nf_val_bool(0);
		break;
	case 'n':
		if (jp_lit(j, "null"))
			return nf_val_nil();
		break;
	default:
		return jp_number(j);
	}
	jp_fail(j, "unexpected character");
	return NULL;
fail:
	nf_val_free(v);
	return NULL;
}

struct nf_val *
nf_val_from_json(const char *s, size_t n, char *err, size_t errlen)
{
	struct jp	 j;
	struct nf_val	*v;
	char		 dummy[8];

	j.p = j.start = s;
	j.end = s + n;
	j.err = err != NULL ? err : dummy;
	j.errlen = err != NULL ? errlen : sizeof(dummy);
	j.failed = 0;
	if ((v = jp_value(&j, 0)) == NULL)
		return NULL;
	jp_ws(&j);
	if (j.p != j.end) {
		jp_fail(&j, "trailing characters");
		nf_val_free(v);
		return NULL;
	}
	return v;
}
