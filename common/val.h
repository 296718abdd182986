/*
 * val.h: a small dynamically typed value tree (nil, bool, int, float,
 * string, binary, array, map).  It is what frames decode into and encode
 * from (common/msg.c turns msgpack into nf_val and back, so no other module
 * includes msgpack.h), what step specs, params and outputs are, and what the
 * store hands back for listings.  Its JSON text form is in json.h.
 *
 * Ownership: a container owns its children.  Strings are length-counted and
 * also NUL-terminated.  Map keys are unique (nf_val_map_set replaces).
 */
#ifndef NF_VAL_H
#define NF_VAL_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum nf_val_type {
	NF_V_NIL = 0,
	NF_V_BOOL,
	NF_V_INT,
	NF_V_FLOAT,
	NF_V_STR,
	NF_V_BIN,
	NF_V_ARR,
	NF_V_MAP,
	NF_V_ANY,	/* only in schemas: any type accepted */
};

struct nf_val;

struct nf_val_kv {
	char		*key;
	size_t		 keylen;
	struct nf_val	*val;
};

struct nf_val {
	enum nf_val_type type;
	union {
		int		 b;
		int64_t		 i;
		double		 f;
		struct {
			char	*p;	/* NUL-terminated too */
			size_t	 len;
		} s;			/* NF_V_STR and NF_V_BIN */
		struct {
			struct nf_val	**items;
			size_t		  n, cap;
		} a;
		struct {
			struct nf_val_kv *kv;
			size_t		  n, cap;
		} m;
	} u;
};

struct nf_val	*nf_val_nil(void);
struct nf_val	*nf_val_bool(int);
struct nf_val	*nf_val_int(int64_t);
struct nf_val	*nf_val_float(double);
struct nf_val	*nf_val_str(const char *);
struct nf_val	*nf_val_strn(const char *, size_t);
struct nf_val	*nf_val_bin(const void *, size_t);
struct nf_val	*nf_val_arr(void);
struct nf_val	*nf_val_map(void);
void		 nf_val_free(struct nf_val *);
struct nf_val	*nf_val_dup(const struct nf_val *);
int		 nf_val_equal(const struct nf_val *, const struct nf_val *);
const char	*nf_val_type_name(enum nf_val_type);

/* Array: takes ownership of v. */
void		 nf_val_arr_push(struct nf_val *arr, struct nf_val *v);
/* Map: takes ownership of v; replaces an existing key. */
void		 nf_val_map_set(struct nf_val *map, const char *key,
		    struct nf_val *v);
/* Convenience setters. */
void		 nf_val_map_set_str(struct nf_val *, const char *, const char *);
void		 nf_val_map_set_int(struct nf_val *, const char *, int64_t);
void		 nf_val_map_set_bool(struct nf_val *, const char *, int);
/* Lookups return NULL when absent or (typed forms) of another type. */
const struct nf_val *nf_val_get(const struct nf_val *map, const char *key);
const char	*nf_val_get_str(const struct nf_val *map, const char *key);
/* Returns 1 and sets *out if key holds an int, else 0. */
int		 nf_val_get_int(const struct nf_val *map, const char *key,
		    int64_t *out);
int		 nf_val_get_bool(const struct nf_val *map, const char *key,
		    int *out);
/* Detach and return the value of key (caller owns it), or NULL. */
struct nf_val	*nf_val_map_take(struct nf_val *map, const char *key);

#endif
