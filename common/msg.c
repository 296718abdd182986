/*
 * msg.c: the message layer of the wire protocol (doc/PROTOCOL.md): decode a
 * frame payload into an nf_val map and check it against the message's
 * schema, encode an nf_val map as a frame, and the HELLO handshake.  The
 * only module that includes <msgpack.h>.  Runs in every process.
 *
 * Decoding is bounded, then strict, in three passes:
 *   1. our own walker checks the raw bytes: every size a str/bin/array/map
 *      header claims fits in the bytes that remain (msgpack-c allocates by
 *      claimed sizes, so 12 bytes could ask for gigabytes), nesting depth,
 *      no ext types, exactly one top-level object and it is a map;
 *   2. msgpack-c unpacks (now bounded: at most one object per payload byte)
 *      and we convert to nf_val: string keys, UTF-8 strings without NUL,
 *      integers that fit int64, no duplicate keys;
 *   3. the schema tables below: known type allowed in this direction, every
 *      required key, no unknown key, each key of its declared type.
 * Every failure names the first problem found; nothing partial escapes.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <msgpack.h>

#include "log.h"
#include "proto.h"
#include "util.h"
#include "val.h"

/* ---- message types and schemas ---------------------------------------- */

#define DIR_BIT(d)	(1u << (d))
#define DIR_ALL		(DIR_BIT(NF_DIR_TO_WORKER) | \
			 DIR_BIT(NF_DIR_FROM_WORKER) | \
			 DIR_BIT(NF_DIR_CTL_REQUEST) | \
			 DIR_BIT(NF_DIR_CTL_RESPONSE))

struct msg_field {
	const char		*key;
	enum nf_val_type	 type;
	int			 required;
	/* NULL-terminated list of accepted string values, or NULL. */
	const char *const	*oneof;
	/* Longest accepted string, 0 for no limit beyond the frame's. */
	size_t			 maxlen;
};

struct msg_schema {
	const char		*name;
	unsigned int		 dirs;
	const struct msg_field	*fields;
	size_t			 nfields;
};

static const char *const log_streams[] = { "stdout", "stderr", "worker",
	NULL };
static const char *const log_levels[] = { "error", "warn", "info", "debug",
	NULL };
static const char *const result_reasons[] = { "error", "timeout", "crash",
	"sandbox", "protocol", "canceled", NULL };
static const char *const event_kinds[] = { "log", "state", "end", NULL };

static const struct msg_field hello_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "proto",	NF_V_STR,	1, NULL, 0 },
	{ "version",	NF_V_INT,	1, NULL, 0 },
};

static const struct msg_field step_start_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "run_id",	NF_V_INT,	1, NULL, 0 },
	{ "attempt_id",	NF_V_INT,	1, NULL, 0 },
	{ "attempt",	NF_V_INT,	1, NULL, 0 },
	{ "job_id",	NF_V_STR,	1, NULL, 0 },
	{ "step",	NF_V_STR,	1, NULL, 0 },
	{ "type",	NF_V_STR,	1, NULL, 0 },
	{ "policy",	NF_V_STR,	1, NULL, 0 },
	{ "spec",	NF_V_MAP,	1, NULL, 0 },
	{ "params",	NF_V_MAP,	1, NULL, 0 },
	{ "timeout_ms",	NF_V_INT,	1, NULL, 0 },
	{ "sandbox",	NF_V_BOOL,	1, NULL, 0 },
	{ "pool",	NF_V_MAP,	0, NULL, 0 },
	{ "max_rows",	NF_V_INT,	0, NULL, 0 },
	{ "run_params",	NF_V_MAP,	0, NULL, 0 },
	{ "pools",	NF_V_MAP,	0, NULL, 0 },
	{ "outputs",	NF_V_MAP,	0, NULL, 0 },
	{ "prev",	NF_V_MAP,	0, NULL, 0 },
	{ "uid",	NF_V_INT,	0, NULL, 0 },
	{ "gid",	NF_V_INT,	0, NULL, 0 },
	{ "groups",	NF_V_ARR,	0, NULL, 0 },
	{ "isolation",	NF_V_ARR,	0, NULL, 0 },
};

static const struct msg_field step_ready_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
};

static const struct msg_field log_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "stream",	NF_V_STR,	1, log_streams, 0 },
	{ "line",	NF_V_STR,	1, NULL, NF_MAX_LOG_LINE },
	{ "level",	NF_V_STR,	0, log_levels, 0 },
};

static const struct msg_field progress_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "data",	NF_V_MAP,	1, NULL, 0 },
};

static const struct msg_field output_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "data",	NF_V_ANY,	1, NULL, 0 },
};

static const struct msg_field result_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "ok",		NF_V_BOOL,	1, NULL, 0 },
	{ "reason",	NF_V_STR,	0, result_reasons, 0 },
	{ "error",	NF_V_STR,	0, NULL, 0 },
	{ "exit_code",	NF_V_INT,	0, NULL, 0 },
	{ "signal",	NF_V_INT,	0, NULL, 0 },
	{ "rows_affected", NF_V_INT,	0, NULL, 0 },
	{ "syscall",	NF_V_INT,	0, NULL, 0 },
	{ "syscall_args", NF_V_ARR,	0, NULL, 0 },
};

static const struct msg_field req_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "id",		NF_V_INT,	1, NULL, 0 },
	{ "cmd",	NF_V_STR,	1, NULL, 0 },
	{ "args",	NF_V_MAP,	0, NULL, 0 },
};

static const struct msg_field resp_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "id",		NF_V_INT,	1, NULL, 0 },
	{ "ok",		NF_V_BOOL,	1, NULL, 0 },
	{ "code",	NF_V_INT,	0, NULL, 0 },
	{ "error",	NF_V_STR,	0, NULL, 0 },
	{ "data",	NF_V_ANY,	0, NULL, 0 },
};

static const struct msg_field event_fields[] = {
	{ "t",		NF_V_STR,	1, NULL, 0 },
	{ "id",		NF_V_INT,	1, NULL, 0 },
	{ "kind",	NF_V_STR,	1, event_kinds, 0 },
	{ "data",	NF_V_ANY,	1, NULL, 0 },
};

#define SCHEMA(n, d, f)	{ (n), (d), (f), NF_NELEM(f) }

/* Indexed by enum nf_msg_type. */
static const struct msg_schema schemas[NF_MSG_MAX] = {
	[NF_MSG_NONE] = { "none", 0, NULL, 0 },
	[NF_MSG_HELLO] = SCHEMA("hello", DIR_ALL, hello_fields),
	[NF_MSG_STEP_START] = SCHEMA("step_start", DIR_BIT(NF_DIR_TO_WORKER),
	    step_start_fields),
	[NF_MSG_STEP_READY] = SCHEMA("step_ready",
	    DIR_BIT(NF_DIR_FROM_WORKER), step_ready_fields),
	[NF_MSG_STEP_LOG] = SCHEMA("log", DIR_BIT(NF_DIR_FROM_WORKER),
	    log_fields),
	[NF_MSG_STEP_PROGRESS] = SCHEMA("progress",
	    DIR_BIT(NF_DIR_FROM_WORKER), progress_fields),
	[NF_MSG_STEP_OUTPUT] = SCHEMA("output", DIR_BIT(NF_DIR_FROM_WORKER),
	    output_fields),
	[NF_MSG_STEP_RESULT] = SCHEMA("result", DIR_BIT(NF_DIR_FROM_WORKER),
	    result_fields),
	[NF_MSG_CTL_REQ] = SCHEMA("req", DIR_BIT(NF_DIR_CTL_REQUEST),
	    req_fields),
	[NF_MSG_CTL_RESP] = SCHEMA("resp", DIR_BIT(NF_DIR_CTL_RESPONSE),
	    resp_fields),
	[NF_MSG_CTL_EVENT] = SCHEMA("event", DIR_BIT(NF_DIR_CTL_RESPONSE),
	    event_fields),
};

/*
 * Peer-supplied text quoted in an error (a key, a type name, a value): at
 * most QUOTE_MAX bytes cut on a character boundary, control characters
 * shown as '?', so that the message stays one valid UTF-8 line in logs and
 * in the error a client gets back.  s is valid UTF-8 (checked earlier).
 */
#define QUOTE_MAX	64
#define QUOTE_BUF	(QUOTE_MAX + 4)

static const char *
msg_quote(char *buf, const char *s, size_t n)
{
	size_t	cut, i;

	cut = n;
	if (cut > QUOTE_MAX) {
		cut = QUOTE_MAX;
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	for (i = 0; i < cut; i++)
		buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' :
		    s[i];
	if (cut < n) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}

/*
 * snprintf() may have cut the error inside a multi-byte character; drop
 * the partial character so the text stays valid UTF-8.
 */
static void
msg_err_tidy(char *err, size_t errlen)
{
	size_t	n, k;

	if (errlen == 0)
		return;
	n = strnlen(err, errlen);
	for (k = 0; k < 4 && n > 0 && !nf_utf8_valid(err, n); k++)
		err[--n] = '\0';
}

const char *
nf_msg_type_name(enum nf_msg_type t)
{
	if ((unsigned int)t >= NF_MSG_MAX)
		return "unknown";
	return schemas[t].name;
}

enum nf_msg_type
nf_msg_type_parse(const char *s)
{
	unsigned int	i;

	if (s == NULL)
		return NF_MSG_NONE;
	for (i = NF_MSG_NONE + 1; i < NF_MSG_MAX; i++)
		if (strcmp(s, schemas[i].name) == 0)
			return (enum nf_msg_type)i;
	return NF_MSG_NONE;
}

/* ---- pass 1: bounds walker over the raw bytes ------------------------- */

struct walk {
	const uint8_t	*p;
	size_t		 len;
	size_t		 off;
	size_t		 nobj;	/* objects seen so far */
	char		*err;
	size_t		 errlen;
};

static uint64_t
walk_be(const uint8_t *p, size_t n)
{
	uint64_t	v = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		v = (v << 8) | p[i];
	return v;
}

/*
 * Read an n-byte big-endian size or scalar body following the type byte at
 * w->off - 1; fails if the payload ends first.
 */
static int
walk_take(struct walk *w, size_t n, const char *what, uint64_t *out)
{
	if (w->len - w->off < n) {
		snprintf(w->err, w->errlen, "truncated %s at offset %zu: "
		    "needs %zu bytes, %zu remain", what, w->off - 1, n,
		    w->len - w->off);
		return -1;
	}
	if (out != NULL)
		*out = walk_be(w->p + w->off, n);
	w->off += n;
	return 0;
}

/* Check that a str/bin body of claimed length n fits, then skip it. */
static int
walk_body(struct walk *w, const char *what, uint64_t n)
{
	size_t	rem = w->len - w->off;

	if (n > rem) {
		snprintf(w->err, w->errlen, "claimed %s length %" PRIu64
		    " exceeds %zu remaining bytes", what, n, rem);
		return -1;
	}
	w->off += (size_t)n;
	return 0;
}

static int	walk_obj(struct walk *, int depth);

/*
 * A container of n objects: each needs at least one byte, so n objects need
 * n bytes; checked before any element is looked at, which is what keeps
 * msgpack-c's allocation proportional to the payload.
 */
/* depth: this container's level (the top-level map is 1). */
static int
walk_container(struct walk *w, int is_map, uint64_t n, int depth)
{
	size_t		rem = w->len - w->off;
	uint64_t	objs = is_map ? n * 2 : n;	/* n < 2^32 */
	uint64_t	i;

	if (depth > NF_MAX_DEPTH) {
		snprintf(w->err, w->errlen, "nesting deeper than %d levels "
		    "at offset %zu", NF_MAX_DEPTH, w->off - 1);
		return -1;
	}
	if (objs > rem) {
		if (is_map)
			snprintf(w->err, w->errlen, "claimed map length %"
			    PRIu64 " (%" PRIu64 " objects) exceeds %zu "
			    "remaining bytes", n, objs, rem);
		else
			snprintf(w->err, w->errlen, "claimed array length %"
			    PRIu64 " exceeds %zu remaining bytes", n, rem);
		return -1;
	}
	for (i = 0; i < objs; i++)
		if (walk_obj(w, depth) == -1)
			return -1;
	return 0;
}

/*
 * depth: how many containers enclose this object (0 for the top-level
 * object); a container found here sits at level depth + 1.
 */
static int
walk_obj(struct walk *w, int depth)
{
	uint8_t		c;
	uint64_t	n;
	size_t		at;

	if (w->off >= w->len) {
		snprintf(w->err, w->errlen, "truncated message: an object "
		    "is missing at offset %zu", w->off);
		return -1;
	}
	/*
	 * Bounding the byte size is not enough: a 4 MiB frame of one-byte
	 * nils is four million objects, seconds of unpacking and hundreds
	 * of megabytes of nf_val.  Cap the count too.
	 */
	if (++w->nobj > NF_MAX_OBJECTS) {
		snprintf(w->err, w->errlen, "message has more than %u "
		    "objects", (unsigned)NF_MAX_OBJECTS);
		return -1;
	}
	at = w->off;
	c = w->p[w->off++];
	if (c <= 0x7f || c >= 0xe0 || c == 0xc0 || c == 0xc2 || c == 0xc3)
		return 0;	/* fixint, nil, bool */
	if (c >= 0x80 && c <= 0x8f)
		return walk_container(w, 1, c & 0x0f, depth + 1);
	if (c >= 0x90 && c <= 0x9f)
		return walk_container(w, 0, c & 0x0f, depth + 1);
	if (c >= 0xa0 && c <= 0xbf)
		return walk_body(w, "str", c & 0x1f);
	switch (c) {
	case 0xc4: case 0xc5: case 0xc6:
		if (walk_take(w, (size_t)1 << (c - 0xc4), "bin header",
		    &n) == -1)
			return -1;
		return walk_body(w, "bin", n);
	case 0xd9: case 0xda: case 0xdb:
		if (walk_take(w, (size_t)1 << (c - 0xd9), "str header",
		    &n) == -1)
			return -1;
		return walk_body(w, "str", n);
	case 0xdc: case 0xdd:
		if (walk_take(w, c == 0xdc ? 2 : 4, "array header",
		    &n) == -1)
			return -1;
		return walk_container(w, 0, n, depth + 1);
	case 0xde: case 0xdf:
		if (walk_take(w, c == 0xde ? 2 : 4, "map header", &n) == -1)
			return -1;
		return walk_container(w, 1, n, depth + 1);
	case 0xca:
		return walk_take(w, 4, "float32", NULL);
	case 0xcb:
		return walk_take(w, 8, "float64", NULL);
	case 0xcc: case 0xcd: case 0xce: case 0xcf:
		return walk_take(w, (size_t)1 << (c - 0xcc), "uint", NULL);
	case 0xd0: case 0xd1: case 0xd2: case 0xd3:
		return walk_take(w, (size_t)1 << (c - 0xd0), "int", NULL);
	case 0xc7: case 0xc8: case 0xc9:
	case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
		snprintf(w->err, w->errlen, "msgpack ext type 0x%02x at "
		    "offset %zu is not accepted", c, at);
		return -1;
	default:	/* 0xc1: never used */
		snprintf(w->err, w->errlen, "invalid msgpack byte 0x%02x at "
		    "offset %zu", c, at);
		return -1;
	}
}

static const char *
walk_kind(uint8_t c)
{
	if (c <= 0x7f || c >= 0xe0 || (c >= 0xcc && c <= 0xd3))
		return "int";
	if ((c >= 0x80 && c <= 0x8f) || c == 0xde || c == 0xdf)
		return "map";
	if ((c >= 0x90 && c <= 0x9f) || c == 0xdc || c == 0xdd)
		return "array";
	if ((c >= 0xa0 && c <= 0xbf) || (c >= 0xd9 && c <= 0xdb))
		return "str";
	if (c >= 0xc4 && c <= 0xc6)
		return "bin";
	if (c == 0xca || c == 0xcb)
		return "float";
	if (c == 0xc2 || c == 0xc3)
		return "bool";
	if (c == 0xc0)
		return "nil";
	return "ext";
}

static int
msg_prevalidate(const uint8_t *p, size_t len, char *err, size_t errlen)
{
	struct walk	w;

	if (len == 0) {
		snprintf(err, errlen, "empty frame: a message must be a "
		    "msgpack map");
		return -1;
	}
	w.p = p;
	w.len = len;
	w.off = 0;
	w.nobj = 0;
	w.err = err;
	w.errlen = errlen;
	if (walk_obj(&w, 0) == -1)
		return -1;
	if (w.off != len) {
		snprintf(err, errlen, "trailing %zu bytes after message",
		    len - w.off);
		return -1;
	}
	if (!((p[0] >= 0x80 && p[0] <= 0x8f) || p[0] == 0xde ||
	    p[0] == 0xdf)) {
		snprintf(err, errlen, "message is a msgpack %s, not a map",
		    walk_kind(p[0]));
		return -1;
	}
	return 0;
}

/* ---- pass 2: msgpack objects to nf_val ---------------------------------- */

/* Where in the message a value sits, for error text ("spec.query[3]"). */
struct conv {
	char	 path[256];
	size_t	 plen;
	char	*err;
	size_t	 errlen;
};

/* Append ".key" (or "key" at the top) to the path; *saved restores it. */
static void
conv_push_key(struct conv *c, const char *key, size_t n, size_t *saved)
{
	char	q[QUOTE_BUF];
	size_t	room;
	int	w;

	*saved = c->plen;
	msg_quote(q, key, n);
	room = sizeof(c->path) - c->plen;
	/* A path too long to show whole ends in "..." rather than mid-key. */
	if (strlen(q) + 1 + 4 > room) {
		if (c->plen < 3 || strcmp(c->path + c->plen - 3, "...") != 0)
			if (room > 3) {
				memcpy(c->path + c->plen, "...", 4);
				c->plen += 3;
			}
		return;
	}
	w = snprintf(c->path + c->plen, room, "%s%s", c->plen ? "." : "", q);
	if (w > 0 && (size_t)w < room)
		c->plen += (size_t)w;
}

/* Append "[i]" to the path. */
static void
conv_push_index(struct conv *c, uint32_t i, size_t *saved)
{
	size_t	room;
	int	w;

	*saved = c->plen;
	room = sizeof(c->path) - c->plen;
	if (room < 16) {
		if (c->plen < 3 || strcmp(c->path + c->plen - 3, "...") != 0)
			if (room > 3) {
				memcpy(c->path + c->plen, "...", 4);
				c->plen += 3;
			}
		return;
	}
	w = snprintf(c->path + c->plen, room, "[%u]", i);
	if (w > 0 && (size_t)w < room)
		c->plen += (size_t)w;
}

static void
conv_pop(struct conv *c, size_t saved)
{
	c->plen = saved;
	c->path[saved] = '\0';
}

static const char *
conv_where(const struct conv *c)
{
	return c->plen ? c->path : "the top-level map";
}

/*
 * msgpack-c leaves ptr NULL for an empty str/bin; memcpy/memchr from NULL
 * is undefined even for 0 bytes, so empty bodies point at "".
 */
static const char *
conv_body(const char *p)
{
	return p != NULL ? p : "";
}

static int
conv_text(struct conv *c, const char *what, const char *p, size_t n)
{
	if (n == 0)
		return 0;
	if (memchr(p, '\0', n) != NULL) {
		snprintf(c->err, c->errlen, "%s at %s contains a NUL byte",
		    what, conv_where(c));
		return -1;
	}
	if (!nf_utf8_valid(p, n)) {
		snprintf(c->err, c->errlen, "%s at %s is not valid UTF-8",
		    what, conv_where(c));
		return -1;
	}
	return 0;
}

static int
conv_keycmp(const void *a, const void *b)
{
	const msgpack_object_kv	*x = *(msgpack_object_kv *const *)a;
	const msgpack_object_kv	*y = *(msgpack_object_kv *const *)b;
	uint32_t		 lx = x->key.via.str.size;
	uint32_t		 ly = y->key.via.str.size;
	int			 r;

	r = memcmp(conv_body(x->key.via.str.ptr), conv_body(y->key.via.str.ptr),
	    lx < ly ? lx : ly);
	if (r != 0)
		return r;
	return lx < ly ? -1 : lx > ly;
}

static struct nf_val	*conv_obj(struct conv *, const msgpack_object *);

/*
 * Maps: keys are checked (strings, UTF-8, no NUL) and then sorted once to
 * find duplicates in O(n log n); a linear lookup per key would let a 4 MiB
 * frame of distinct keys cost the supervisor minutes.  Since keys are known
 * unique, the nf_val map is filled directly.
 */
static struct nf_val *
conv_map(struct conv *c, const msgpack_object_map *m)
{
	struct nf_val		 *map;
	const msgpack_object_kv	**sorted;
	const msgpack_object_kv	 *kv;
	struct nf_val		 *v;
	char			  q[QUOTE_BUF];
	size_t			  saved;
	uint32_t		  i;

	for (i = 0; i < m->size; i++) {
		kv = &m->ptr[i];
		if (kv->key.type != MSGPACK_OBJECT_STR) {
			snprintf(c->err, c->errlen, "map key #%u at %s is "
			    "not a string", i + 1, conv_where(c));
			return NULL;
		}
		if (conv_text(c, "map key", kv->key.via.str.ptr,
		    kv->key.via.str.size) == -1)
			return NULL;
	}
	if (m->size > 1) {
		sorted = nf_xreallocarray(NULL, m->size, sizeof(*sorted));
		for (i = 0; i < m->size; i++)
			sorted[i] = &m->ptr[i];
		qsort(sorted, m->size, sizeof(*sorted), conv_keycmp);
		for (i = 1; i < m->size; i++) {
			if (conv_keycmp(&sorted[i - 1], &sorted[i]) == 0) {
				snprintf(c->err, c->errlen, "duplicate key "
				    "\"%s\" in map at %s", msg_quote(q,
				    conv_body(sorted[i]->key.via.str.ptr),
				    sorted[i]->key.via.str.size),
				    conv_where(c));
				free(sorted);
				return NULL;
			}
		}
		free(sorted);
	}

	map = nf_val_map();
	if (m->size > 0) {
		map->u.m.kv = nf_xcalloc(m->size, sizeof(*map->u.m.kv));
		map->u.m.cap = m->size;
	}
	for (i = 0; i < m->size; i++) {
		kv = &m->ptr[i];
		conv_push_key(c, conv_body(kv->key.via.str.ptr),
		    kv->key.via.str.size, &saved);
		v = conv_obj(c, &kv->val);
		conv_pop(c, saved);
		if (v == NULL) {
			nf_val_free(map);
			return NULL;
		}
		map->u.m.kv[i].key = nf_xstrndup(conv_body(kv->key.via.str.ptr),
		    kv->key.via.str.size);
		map->u.m.kv[i].keylen = kv->key.via.str.size;
		map->u.m.kv[i].val = v;
		map->u.m.n = i + 1;
	}
	return map;
}

static struct nf_val *
conv_obj(struct conv *c, const msgpack_object *o)
{
	struct nf_val	*arr, *v;
	size_t		 saved;
	uint32_t	 i;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return nf_val_nil();
	case MSGPACK_OBJECT_BOOLEAN:
		return nf_val_bool(o->via.boolean ? 1 : 0);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		if (o->via.u64 > (uint64_t)INT64_MAX) {
			snprintf(c->err, c->errlen, "integer %" PRIu64
			    " at %s is out of range (largest accepted %"
			    PRId64 ")", o->via.u64, conv_where(c),
			    INT64_MAX);
			return NULL;
		}
		return nf_val_int((int64_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return nf_val_int(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return nf_val_float(o->via.f64);
	case MSGPACK_OBJECT_STR:
		if (conv_text(c, "string", o->via.str.ptr,
		    o->via.str.size) == -1)
			return NULL;
		return nf_val_strn(conv_body(o->via.str.ptr), o->via.str.size);
	case MSGPACK_OBJECT_BIN:
		return nf_val_bin(conv_body(o->via.bin.ptr), o->via.bin.size);
	case MSGPACK_OBJECT_ARRAY:
		arr = nf_val_arr();
		for (i = 0; i < o->via.array.size; i++) {
			conv_push_index(c, i, &saved);
			v = conv_obj(c, &o->via.array.ptr[i]);
			conv_pop(c, saved);
			if (v == NULL) {
				nf_val_free(arr);
				return NULL;
			}
			nf_val_arr_push(arr, v);
		}
		return arr;
	case MSGPACK_OBJECT_MAP:
		return conv_map(c, &o->via.map);
	default:
		/* The walker rejected ext; anything else is a new type. */
		snprintf(c->err, c->errlen, "unsupported msgpack object "
		    "(type %d) at %s", (int)o->type, conv_where(c));
		return NULL;
	}
}

/* ---- pass 3: schema ----------------------------------------------------- */

static const char *
msg_dir_name(enum nf_dir dir)
{
	switch (dir) {
	case NF_DIR_TO_WORKER:
		return "supervisor -> worker";
	case NF_DIR_FROM_WORKER:
		return "worker -> supervisor";
	case NF_DIR_CTL_REQUEST:
		return "client -> supervisor";
	case NF_DIR_CTL_RESPONSE:
		return "supervisor -> client";
	}
	return "unknown direction";
}

static const struct msg_field *
msg_field_find(const struct msg_schema *s, const char *key)
{
	size_t	i;

	for (i = 0; i < s->nfields; i++)
		if (strcmp(s->fields[i].key, key) == 0)
			return &s->fields[i];
	return NULL;
}

static int
msg_field_check(const struct msg_schema *s, const struct msg_field *f,
    const struct nf_val *v, char *err, size_t errlen)
{
	char	q[QUOTE_BUF];
	size_t	i;

	if (f->type != NF_V_ANY && v->type != f->type) {
		snprintf(err, errlen, "key \"%s\" of \"%s\" must be %s, "
		    "got %s", f->key, s->name, nf_val_type_name(f->type),
		    nf_val_type_name(v->type));
		return -1;
	}
	if (f->maxlen != 0 && v->type == NF_V_STR && v->u.s.len > f->maxlen) {
		snprintf(err, errlen, "key \"%s\" of \"%s\" is %zu bytes long, "
		    "the limit is %zu", f->key, s->name, v->u.s.len,
		    f->maxlen);
		return -1;
	}
	if (f->oneof != NULL && v->type == NF_V_STR) {
		for (i = 0; f->oneof[i] != NULL; i++)
			if (strcmp(f->oneof[i], v->u.s.p) == 0)
				return 0;
		snprintf(err, errlen, "key \"%s\" of \"%s\" has unknown value "
		    "\"%s\"", f->key, s->name, msg_quote(q, v->u.s.p,
		    v->u.s.len));
		return -1;
	}
	return 0;
}

static int
msg_check(enum nf_dir dir, const struct nf_val *msg,
    enum nf_msg_type *type, char *err, size_t errlen)
{
	const struct msg_schema	*s;
	const struct msg_field	*f;
	const struct nf_val	*t;
	enum nf_msg_type	 mt;
	char			 q[QUOTE_BUF];
	size_t			 i;

	if (msg == NULL || msg->type != NF_V_MAP) {
		snprintf(err, errlen, "message is not a map");
		return -1;
	}
	if ((t = nf_val_get(msg, "t")) == NULL) {
		snprintf(err, errlen, "message has no \"t\" (type) key");
		return -1;
	}
	if (t->type != NF_V_STR) {
		snprintf(err, errlen, "key \"t\" must be str, got %s",
		    nf_val_type_name(t->type));
		return -1;
	}
	if ((mt = nf_msg_type_parse(t->u.s.p)) == NF_MSG_NONE) {
		snprintf(err, errlen, "unknown message type \"%s\"",
		    msg_quote(q, t->u.s.p, t->u.s.len));
		return -1;
	}
	s = &schemas[mt];
	if ((s->dirs & DIR_BIT(dir)) == 0) {
		snprintf(err, errlen, "message type \"%s\" not allowed on this "
		    "channel (%s)", s->name, msg_dir_name(dir));
		return -1;
	}
	for (i = 0; i < msg->u.m.n; i++) {
		f = msg_field_find(s, msg->u.m.kv[i].key);
		if (f == NULL) {
			snprintf(err, errlen, "unknown key \"%s\" in "
			    "\"%s\"", msg_quote(q, msg->u.m.kv[i].key,
			    msg->u.m.kv[i].keylen), s->name);
			return -1;
		}
		if (msg_field_check(s, f, msg->u.m.kv[i].val, err,
		    errlen) == -1)
			return -1;
	}
	for (i = 0; i < s->nfields; i++) {
		f = &s->fields[i];
		if (f->required && nf_val_get(msg, f->key) == NULL) {
			snprintf(err, errlen, "missing required key \"%s\" in "
			    "\"%s\"", f->key, s->name);
			return -1;
		}
	}
	if (type != NULL)
		*type = mt;
	return 0;
}

int
nf_msg_check(enum nf_dir dir, const struct nf_val *msg,
    enum nf_msg_type *type, char *err, size_t errlen)
{
	if (msg_check(dir, msg, type, err, errlen) == -1) {
		msg_err_tidy(err, errlen);
		return -1;
	}
	return 0;
}

/* ---- decode / encode ---------------------------------------------------- */

static int
msg_decode(enum nf_dir dir, const uint8_t *payload, size_t len,
    enum nf_msg_type *type, struct nf_val **msg, char *err, size_t errlen)
{
	msgpack_zone		 zone;
	msgpack_object		 obj;
	msgpack_unpack_return	 rc;
	struct conv		 c;
	struct nf_val		*v;
	size_t			 off = 0;

	*msg = NULL;
	if (msg_prevalidate(payload, len, err, errlen) == -1)
		return -1;

	if (!msgpack_zone_init(&zone, MSGPACK_ZONE_CHUNK_SIZE))
		nf_fatalx("msgpack: out of memory");
	rc = msgpack_unpack((const char *)payload, len, &off, &zone, &obj);
	if (rc == MSGPACK_UNPACK_NOMEM_ERROR)
		nf_fatalx("msgpack: out of memory unpacking %zu bytes", len);
	if (rc != MSGPACK_UNPACK_SUCCESS || off != len) {
		/* The walker accepted it: msgpack-c disagreeing is ours. */
		msgpack_zone_destroy(&zone);
		snprintf(err, errlen, "msgpack could not unpack the message "
		    "(code %d at offset %zu)", (int)rc, off);
		return -1;
	}
	memset(&c, 0, sizeof(c));
	c.err = err;
	c.errlen = errlen;
	v = conv_obj(&c, &obj);
	msgpack_zone_destroy(&zone);
	if (v == NULL)
		return -1;
	if (msg_check(dir, v, type, err, errlen) == -1) {
		nf_val_free(v);
		return -1;
	}
	*msg = v;
	return 0;
}

int
nf_msg_decode(enum nf_dir dir, const uint8_t *payload, size_t len,
    enum nf_msg_type *type, struct nf_val **msg, char *err, size_t errlen)
{
	if (errlen > 0)
		err[0] = '\0';
	if (msg_decode(dir, payload, len, type, msg, err, errlen) == -1) {
		msg_err_tidy(err, errlen);
		return -1;
	}
	return 0;
}

/* msgpack-c write callback: append straight into the frame buffer. */
static int
msg_write_cb(void *data, const char *buf, size_t len)
{
	nf_buf_add(data, buf, len);
	return 0;
}

static void
msg_pack(msgpack_packer *pk, const struct nf_val *v)
{
	size_t	i;

	switch (v->type) {
	case NF_V_NIL:
		msgpack_pack_nil(pk);
		break;
	case NF_V_BOOL:
		if (v->u.b)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case NF_V_INT:
		msgpack_pack_int64(pk, v->u.i);
		break;
	case NF_V_FLOAT:
		msgpack_pack_double(pk, v->u.f);
		break;
	case NF_V_STR:
		msgpack_pack_str(pk, v->u.s.len);
		msgpack_pack_str_body(pk, v->u.s.p, v->u.s.len);
		break;
	case NF_V_BIN:
		msgpack_pack_bin(pk, v->u.s.len);
		msgpack_pack_bin_body(pk, v->u.s.p, v->u.s.len);
		break;
	case NF_V_ARR:
		msgpack_pack_array(pk, v->u.a.n);
		for (i = 0; i < v->u.a.n; i++)
			msg_pack(pk, v->u.a.items[i]);
		break;
	case NF_V_MAP:
		msgpack_pack_map(pk, v->u.m.n);
		for (i = 0; i < v->u.m.n; i++) {
			msgpack_pack_str(pk, v->u.m.kv[i].keylen);
			msgpack_pack_str_body(pk, v->u.m.kv[i].key,
			    v->u.m.kv[i].keylen);
			msg_pack(pk, v->u.m.kv[i].val);
		}
		break;
	default:
		nf_panic("msg_pack: value of type %d cannot be sent",
		    (int)v->type);
	}
}

void
nf_msg_encode(const struct nf_val *msg, struct nf_buf *out)
{
	msgpack_packer	pk;
	size_t		start, plen;
	uint8_t		*h;

	if (msg == NULL || msg->type != NF_V_MAP ||
	    nf_val_get_str(msg, "t") == NULL)
		nf_panic("nf_msg_encode: message is not a map with \"t\"");
	start = out->len;
	/* Length placeholder, patched once the payload size is known. */
	nf_buf_add(out, "\0\0\0\0", 4);
	msgpack_packer_init(&pk, out, msg_write_cb);
	msg_pack(&pk, msg);
	plen = out->len - start - 4;
	if (plen > UINT32_MAX)
		nf_panic("nf_msg_encode: payload of %zu bytes", plen);
	h = (uint8_t *)out->data + start;
	h[0] = (uint8_t)(plen >> 24);
	h[1] = (uint8_t)(plen >> 16);
	h[2] = (uint8_t)(plen >> 8);
	h[3] = (uint8_t)plen;
}

/* ---- builders and HELLO ------------------------------------------------- */

struct nf_val *
nf_msg_new(enum nf_msg_type t)
{
	struct nf_val	*m;

	if (t <= NF_MSG_NONE || t >= NF_MSG_MAX)
		nf_panic("nf_msg_new: bad message type %d", (int)t);
	m = nf_val_map();
	nf_val_map_set_str(m, "t", schemas[t].name);
	return m;
}

struct nf_val *
nf_msg_hello(const char *proto)
{
	struct nf_val	*m;

	m = nf_msg_new(NF_MSG_HELLO);
	nf_val_map_set_str(m, "proto", proto);
	nf_val_map_set_int(m, "version", NF_PROTO_VERSION);
	return m;
}

int
nf_msg_hello_check(const struct nf_val *msg, const char *proto, char *err,
    size_t errlen)
{
	const struct nf_val	*t, *peer;
	char			 q[QUOTE_BUF];
	int64_t			 version;

	t = nf_val_get(msg, "t");
	if (t == NULL || t->type != NF_V_STR ||
	    strcmp(t->u.s.p, "hello") != 0) {
		snprintf(err, errlen, "expected \"hello\" as the first message "
		    "(%s version %d), got \"%s\"", proto, NF_PROTO_VERSION,
		    t != NULL && t->type == NF_V_STR ? msg_quote(q, t->u.s.p,
		    t->u.s.len) : "(no type)");
		msg_err_tidy(err, errlen);
		return -1;
	}
	peer = nf_val_get(msg, "proto");
	if (peer == NULL || peer->type != NF_V_STR ||
	    !nf_val_get_int(msg, "version", &version)) {
		snprintf(err, errlen, "malformed hello: needs proto (str) "
		    "and version (int)");
		return -1;
	}
	if (strcmp(peer->u.s.p, proto) != 0) {
		snprintf(err, errlen, "protocol mismatch: peer speaks "
		    "\"%s\" version %" PRId64 ", this side expects \"%s\" "
		    "version %d (wrong socket?)", msg_quote(q, peer->u.s.p,
		    peer->u.s.len), version, proto, NF_PROTO_VERSION);
		msg_err_tidy(err, errlen);
		return -1;
	}
	if (version != NF_PROTO_VERSION) {
		snprintf(err, errlen, "protocol version mismatch on \"%s\": "
		    "peer speaks version %" PRId64 ", this side speaks "
		    "version %d; install matching nomaflow binaries", proto,
		    version, NF_PROTO_VERSION);
		return -1;
	}
	return 0;
}
