/* NF_FUZZ_SOURCES: supervisor/toml.c supervisor/tz.c common/util.c common/log.c */
/*
 * fuzz_toml.c: libFuzzer target for the TOML parser (supervisor/toml.c), which
 * reads operator-written files in nomaflowd.  Any input must either parse
 * into a well-formed tree or be rejected with a "file:line:col: message"
 * error; crashes, leaks, undefined behaviour and unbounded recursion are
 * bugs.  The tree walk checks what callers rely on: positions are set,
 * strings and keys are NUL-terminated, lookups find every key, nesting is
 * bounded.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"

/* The parser promises at most 128 levels of tables and arrays. */
#define FUZZ_MAX_DEPTH	130

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
walk(const struct nf_toml_value *v, int depth)
{
	const struct nf_toml_kv	*kv;
	size_t			 i;

	if (depth > FUZZ_MAX_DEPTH || v->line < 1 || v->col < 1)
		abort();
	switch (v->type) {
	case NF_TOML_STRING:
		if (v->u.str.s[v->u.str.len] != '\0')
			abort();
		break;
	case NF_TOML_ARRAY:
		for (i = 0; i < v->u.arr.n; i++)
			walk(v->u.arr.items[i], depth + 1);
		break;
	case NF_TOML_TABLE:
		for (i = 0; i < v->u.tab.n; i++) {
			kv = &v->u.tab.kv[i];
			if (kv->key[kv->keylen] != '\0' || kv->line < 1 ||
			    kv->col < 1)
				abort();
			/* A C-string lookup finds keys without a NUL. */
			if (strlen(kv->key) == kv->keylen &&
			    nf_toml_get_kv(v, kv->key) != kv)
				abort();
			walk(kv->val, depth + 1);
		}
		break;
	default:
		break;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nf_toml_value	*root;
	char			 err[512];

	root = nf_toml_parse((const char *)data, size, "fuzz.toml", err,
	    sizeof(err));
	if (root == NULL) {
		/* Every rejection must say where. */
		if (strncmp(err, "fuzz.toml:", 10) != 0)
			abort();
		return 0;
	}
	if (root->type != NF_TOML_TABLE)
		abort();
	walk(root, 0);
	nf_toml_free(root);
	return 0;
}
